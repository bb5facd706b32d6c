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

import numpy as np

from ..errors import ConfigurationError, check_number
from .entries import CATALOG as CATALOG
from .entries import H2O_ANGLE_DEG as H2O_ANGLE_DEG
from .entries import CatalogEntry as CatalogEntry
from .entries import get as get
from .entries import names as names
from .entries import scan_values as scan_values
from .molecule import Molecule


# ---------------------------------------------------------------------------- surfaces of several coordinates
def water(r: float, angle: float, *, basis: str = "sto-3g", **kwargs):
    """Water with both O-H bonds ``r`` (Angstrom) and H-O-H angle ``angle`` (degrees), (8e, 6o) = 12 qubits.

    Oxygen at the origin, hydrogens in the ``xz`` plane symmetric about ``z`` (as the ``"H2O"``
    entry, whose geometry is ``water(r, 104.5)``).

    Raises:
        ConfigurationError: ``r`` outside 0.5-3.0 Angstrom or ``angle`` outside 60-180 degrees.
    """
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
