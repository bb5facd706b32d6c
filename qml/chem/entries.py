"""The data of the molecule catalog: named geometry families ``geometry(r)`` with default active spaces.

Pure data and lookups (no :class:`~qml.chem.Molecule`); :mod:`qml.chem.catalog` is the public face,
with the table of active spaces and the surfaces of several coordinates.
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
