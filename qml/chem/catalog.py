"""The molecule catalog: named geometries ``geometry(r)`` with default active spaces.

Every entry is a one-parameter family of geometries (``r`` in Angstrom) with a
default active space that keeps the Jordan-Wigner Hamiltonian at 12 qubits or
fewer (2 qubits per active spatial orbital), a physical range of ``r``
(outside it :meth:`qml.chem.Molecule.from_name` raises), a suggested scan range
and an equilibrium ``r``.

Active spaces (minimal basis STO-3G; orbital energies from PySCF RHF; the
"error" is CASCI minus full FCI, both computed with PySCF):

========  =====================  ==========  =========================================================
name      geometry               (e, o)      why
========  =====================  ==========  =========================================================
H2        H-H = r                (2, 2) 4q   full space.
HeH+      He-H = r, charge +1    (2, 2) 4q   full space.
LiH       Li-H = r               (2, 5) 10q  Li 1s frozen (orbital energy -2.35 Ha, 2 Ha below the
                                             sigma HOMO); all 5 valence orbitals kept, so the
                                             degenerate 2p-pi pair is never split. Error 0.2 mHa at
                                             1.6 A, 0.3 mHa at 3.0 A.  (2, 3) would be 19 mHa off
                                             at 1.6 A, so smaller is not physical.
BeH2      H-Be-H linear,         (4, 6) 12q  Be 1s frozen (-4.5 Ha), all valence orbitals kept. The
          Be-H = r                           degenerate pi_u pair is the LUMO at 1.33 A, but a sigma*
                                             orbital drops below it when stretched (3.0 A), so (4, 4)
                                             would hold the (useless) pi pair near equilibrium and split
                                             it when stretched; it is 29 mHa (1.33 A) to 83 mHa (3.0 A)
                                             off. (4, 6) error: 0.3 mHa.
H2O       O-H = r (both),        (8, 6) 12q  O 1s frozen (-20.2 Ha), full valence space. (4, 4) misses
          H-O-H = 104.5 deg                  the 1b2 bonding/2b2 antibonding pair and is 42 mHa off at
                                             0.96 A; (8, 6) is 0.08 mHa off.
H4        linear chain,          (4, 4) 8q   full space.
          spacing r
H4-rect   rectangle, sides       (4, 4) 8q   full space; the meta-VQE benchmark (Cervera-Lierta et al.,
          1.23 A x r                         PRX Quantum 2, 020329 (2021)). At r = 1.23 (the square)
                                             the RHF occupied space jumps (HOMO/LUMO cross); the
                                             tracked orbitals follow one RHF solution through it.
========  =====================  ==========  =========================================================

Surfaces of several coordinates (:data:`SURFACES`): ``"H2O-2D"``, water as a function of the O-H
bond length ``r`` (0.8-1.5 A) and the H-O-H angle (85-125 deg), (8e, 6o), built by :func:`water`.

All coordinates are returned in Angstrom, shape ``(n_atoms, 3)``; molecules lie
along ``z`` (H2O in the ``xz`` plane, oxygen at the origin).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigurationError, check_number, one_of

#: H-O-H angle used for the symmetric water stretch (degrees).
H2O_ANGLE_DEG = 104.5


def _diatomic(r: float) -> np.ndarray:
    return np.array([[0.0, 0.0, 0.0], [0.0, 0.0, r]])


def _linear_symmetric(r: float) -> np.ndarray:
    return np.array([[0.0, 0.0, 0.0], [0.0, 0.0, r], [0.0, 0.0, -r]])


def _water(r: float) -> np.ndarray:
    half = np.deg2rad(H2O_ANGLE_DEG) / 2
    s, c = r * np.sin(half), r * np.cos(half)
    return np.array([[0.0, 0.0, 0.0], [s, 0.0, c], [-s, 0.0, c]])


def _chain4(r: float) -> np.ndarray:
    return np.array([[0.0, 0.0, i * r] for i in range(4)])


#: Fixed side (Angstrom) of the rectangular H4 of the meta-VQE benchmark.
H4_RECT_SIDE = 1.23


def _rectangle4(r: float) -> np.ndarray:
    return np.array([[0.0, 0.0, 0.0], [0.0, 0.0, H4_RECT_SIDE], [r, 0.0, 0.0], [r, 0.0, H4_RECT_SIDE]])


@dataclass(frozen=True)
class CatalogEntry:
    """One named molecule family.

    Attributes:
        name: catalog name, e.g. ``"LiH"``.
        symbols: atomic symbols, in the order of the geometry rows.
        geometry: ``geometry(r) -> ndarray (n_atoms, 3)`` in Angstrom.
        charge: net charge.
        multiplicity: spin multiplicity ``2S + 1``.
        active_electrons, active_orbitals: default active space (``None``: all electrons/orbitals).
        r_range: ``(r_min, r_max)`` physical range of ``r`` in Angstrom (inclusive).
        scan_range: suggested ``(r_start, r_stop)`` for potential-energy scans.
        r_eq: equilibrium ``r`` (Angstrom): experimental for H2, HeH+, LiH, BeH2 and H2O; for the
            H4 chain (no experimental structure) 0.9, the FCI/STO-3G minimum (0.888 A) rounded; the
            shipped datasets' sidecars record 0.9.
        description: what ``r`` means.
        follow: how ``Molecule.from_name(..., orbitals="tracked")`` continues the reference
            determinant along ``r``: ``"continuous"`` (through HOMO/LUMO crossings) or
            ``"aufbau"`` (PySCF's lowest RHF at every ``r``; see :mod:`qml.chem.orbitals`).
    """

    name: str
    symbols: tuple[str, ...]
    geometry: Callable[[float], np.ndarray]
    charge: int
    multiplicity: int
    active_electrons: int | None
    active_orbitals: int | None
    r_range: tuple[float, float]
    scan_range: tuple[float, float]
    r_eq: float
    description: str
    follow: str = "continuous"

    def scan_values(self, n: int = 12) -> np.ndarray:
        """``n`` equally spaced values of ``r`` over :attr:`scan_range`, shape ``(n,)``."""
        return np.linspace(self.scan_range[0], self.scan_range[1], n)

    def check_r(self, r) -> float:
        """Return ``r`` as a float inside :attr:`r_range`.

        Raises:
            TypeError: ``r`` is not a real number.
            ConfigurationError: ``r`` is outside the physical range.
        """
        r = check_number("r", r, minimum=None, kind="a number (Angstrom)")
        lo, hi = self.r_range
        if not (lo <= r <= hi):
            raise ConfigurationError(
                f"r = {r} Angstrom is outside the physical range of {self.name} ({self.description}): "
                f"use {lo} <= r <= {hi} (equilibrium {self.r_eq})"
            )
        return r


CATALOG: dict[str, CatalogEntry] = {
    e.name: e
    for e in (
        CatalogEntry("H2", ("H", "H"), _diatomic, 0, 1, None, None, (0.2, 5.0), (0.3, 2.5), 0.741, "H-H distance"),
        CatalogEntry("HeH+", ("He", "H"), _diatomic, 1, 1, None, None, (0.3, 5.0), (0.5, 3.0), 0.772, "He-H distance"),
        CatalogEntry("LiH", ("Li", "H"), _diatomic, 0, 1, 2, 5, (0.6, 5.0), (0.8, 3.5), 1.595, "Li-H distance"),
        CatalogEntry(
            "BeH2",
            ("Be", "H", "H"),
            _linear_symmetric,
            0,
            1,
            4,
            6,
            (0.6, 5.0),
            (0.9, 3.0),
            1.326,
            "Be-H distance, linear symmetric stretch",
        ),
        CatalogEntry(
            "H2O",
            ("O", "H", "H"),
            _water,
            0,
            1,
            8,
            6,
            (0.5, 3.0),
            (0.7, 2.0),
            0.958,
            "O-H distance, symmetric stretch at 104.5 deg",
        ),
        CatalogEntry(
            "H4",
            ("H", "H", "H", "H"),
            _chain4,
            0,
            1,
            None,
            None,
            (0.4, 3.0),
            (0.5, 2.0),
            0.9,
            "H-H spacing of a linear equally spaced chain",
        ),
        CatalogEntry(
            "H4-rect",
            ("H", "H", "H", "H"),
            _rectangle4,
            0,
            1,
            None,
            None,
            (0.2, 3.5),
            (0.5, 2.5),
            0.75,
            "side R of the rectangle H(0,0,0) H(0,0,1.23) H(R,0,0) H(R,0,1.23) (meta-VQE benchmark)",
        ),
    )
}


# ---------------------------------------------------------------------------- surfaces of several coordinates
def water(r: float, angle: float, *, basis: str = "sto-3g", **kwargs):
    """Water with both O-H bonds ``r`` (Angstrom) and H-O-H angle ``angle`` (degrees), (8e, 6o) = 12 qubits.

    Oxygen at the origin, hydrogens in the ``xz`` plane symmetric about ``z`` (as the ``"H2O"``
    entry, whose geometry is ``water(r, 104.5)``).

    Raises:
        ConfigurationError: ``r`` outside 0.5-3.0 Angstrom or ``angle`` outside 60-180 degrees.
    """
    from .molecule import Molecule

    for what, value, (lo, hi) in (("r", r, WATER_2D["bounds"][0]), ("angle", angle, WATER_2D["bounds"][1])):
        if not lo <= check_number(what, value, minimum=None, kind="a number") <= hi:
            raise ConfigurationError(f"water: {what} = {value} is outside {lo} <= {what} <= {hi}")
    half = np.deg2rad(float(angle)) / 2
    s, c = r * np.sin(half), r * np.cos(half)
    return Molecule(
        ("O", "H", "H"),
        [[0.0, 0.0, 0.0], [s, 0.0, c], [-s, 0.0, c]],
        basis=basis,
        active_electrons=8,
        active_orbitals=6,
        name="H2O-2D",
        **kwargs,
    )


#: The 2-D water surface: symmetric O-H stretch ``r`` (Angstrom) x H-O-H angle (degrees).
WATER_2D = {
    "builder": water,
    "ranges": [(0.8, 1.5), (85.0, 125.0)],
    "reference": (0.958, 104.5),
    "coordinate_names": ("r", "angle"),
    "bounds": [(0.5, 3.0), (60.0, 180.0)],
}

#: Named surfaces of several coordinates, for ``qml.chem.surface.surface(name)`` and ``PESModel(name)``.
SURFACES = {"H2O-2D": WATER_2D}


def names() -> list[str]:
    """Names of the catalog molecules, in catalog order."""
    return list(CATALOG)


def get(name: str) -> CatalogEntry:
    """Return the catalog entry ``name``.

    Raises:
        ConfigurationError: unknown name; the message lists the valid names.
    """
    if not isinstance(name, str) or name not in CATALOG:
        lowered = {k.lower(): k for k in CATALOG}
        if isinstance(name, str) and name.lower() in lowered:
            raise ConfigurationError(
                f"unknown molecule {name!r}; names are case-sensitive, did you mean {lowered[name.lower()]!r}?"
            )
        raise one_of("molecule", name, CATALOG)
    return CATALOG[name]


def scan_values(name: str, n: int = 12) -> np.ndarray:
    """Suggested scan grid of ``r`` for catalog molecule ``name``, shape ``(n,)`` in Angstrom."""
    return get(name).scan_values(n)
