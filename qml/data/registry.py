"""The shipped data sets: what each one holds and how one row of it is computed.

Two kinds:

* ``<molecule>_pes``: one per :mod:`qml.chem.catalog` molecule, a potential-energy curve over the
  catalog's scan range: ``r`` (Angstrom), ``e_hf``, ``e_ccsd``, ``e_fci`` (full space) and ``e_cas``
  (exact energy in the molecule's default active space), all in Hartree.
* ``h2o_distortions``: water geometries sampled uniformly (seeded) in two O-H bond lengths and the
  H-O-H angle around equilibrium, with ``e_hf``, ``e_ccsd``, ``e_fci``: a 3-D regression task.

A spec computes rows one at a time from their input coordinates, so any subset of rows can be
regenerated and compared with the shipped file (:func:`qml.data.verify`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import one_of

#: Default split: fractions and seed of the deterministic row assignment (see :mod:`qml.data.dataset`).
DEFAULT_SPLITS = {
    "method": "sha256-rank",
    "seed": 0,
    "fractions": {"train": 0.8, "val": 0.1, "test": 0.1},
    "doc": "rows sorted by sha256(f'{name}:{seed}:{row}'); the first 80% are train, the next 10% val, the rest test",
}

UNITS = {
    "r": "angstrom",
    "r1": "angstrom",
    "r2": "angstrom",
    "angle": "degree",
    "e_hf": "hartree",
    "e_ccsd": "hartree",
    "e_fci": "hartree",
    "e_cas": "hartree",
}

#: Water distortion sampling: uniform box around equilibrium (STO-3G minimum near 0.99 A, 100 deg;
#: experiment 0.958 A, 104.5 deg).
H2O_SAMPLING = {
    "seed": 20261126,
    "distribution": "uniform, independent: numpy.random.default_rng(seed).uniform(low, high, size=(n_rows, 3))",
    "r1": [0.8, 1.3],
    "r2": [0.8, 1.3],
    "angle": [85.0, 125.0],
    "geometry": "O at the origin, both H in the xz plane at angle/2 either side of +z "
    "(the convention of qml.chem.catalog); r1 = O-H1, r2 = O-H2",
}


@dataclass(frozen=True)
class DatasetSpec:
    """A shipped data set.

    Attributes:
        name: file stem, e.g. ``"lih_pes"``.
        description: one line (the sidecar's description adds the catalog's scan range and
            active space; see :func:`qml.data.builder.describe`).
        inputs: column names of the geometry parameters (the default features).
        energies: column names of the energies (Hartree).
        n_rows: number of rows shipped (and built by default).
        make_inputs: ``make_inputs(n) -> ndarray (n, len(inputs))``, the first ``n`` input rows.
        energy_row: ``energy_row(x) -> dict`` energies of one input row ``x``.
        default_target: target column by default.
        extra: more sidecar fields (molecule, scan, sampling, ...).
    """

    name: str
    description: str
    inputs: tuple[str, ...]
    energies: tuple[str, ...]
    n_rows: int
    make_inputs: Callable[[int], np.ndarray]
    energy_row: Callable[[np.ndarray], dict]
    default_target: str = "e_fci"
    extra: dict = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.inputs + self.energies

    def row(self, x) -> list[float]:
        """The full row (inputs then energies) at input coordinates ``x``."""
        energies = self.energy_row(np.asarray(x, dtype=float))
        return [float(v) for v in x] + [energies[c] for c in self.energies]


# --------------------------------------------------------------------------- PES curves
#: Points per potential-energy curve.
PES_POINTS = 50

#: Data-set name of each catalog molecule.
PES_MOLECULES = {
    "h2_pes": "H2",
    "heh+_pes": "HeH+",
    "lih_pes": "LiH",
    "beh2_pes": "BeH2",
    "h2o_pes": "H2O",
    "h4_pes": "H4",
    "h4-rect_pes": "H4-rect",
}


def _pes_spec(name: str, molecule: str) -> DatasetSpec:
    def make_inputs(n):
        from ..chem import catalog

        return catalog.get(molecule).scan_values(n).reshape(-1, 1)

    def energy_row(x):
        from ..chem import Molecule
        from .energies import reference_energies

        return reference_energies(Molecule.from_name(molecule, float(x[0])))

    return DatasetSpec(
        name=name,
        description=f"{molecule} potential-energy curve over the catalog scan range: HF, CCSD, FCI, "
        "exact active-space energies",
        inputs=("r",),
        energies=("e_hf", "e_ccsd", "e_fci", "e_cas"),
        n_rows=PES_POINTS,
        make_inputs=make_inputs,
        energy_row=energy_row,
        extra={"molecule": molecule},
    )


# --------------------------------------------------------------------------- water distortions
def water_coordinates(r1: float, r2: float, angle_deg: float) -> np.ndarray:
    """Cartesian coordinates (Angstrom, shape ``(3, 3)``: O, H1, H2) of a bent water molecule."""
    half = np.deg2rad(angle_deg) / 2
    return np.array(
        [[0.0, 0.0, 0.0], [r1 * np.sin(half), 0.0, r1 * np.cos(half)], [-r2 * np.sin(half), 0.0, r2 * np.cos(half)]]
    )


def _h2o_inputs(n: int) -> np.ndarray:
    s = H2O_SAMPLING
    low = np.array([s["r1"][0], s["r2"][0], s["angle"][0]])
    high = np.array([s["r1"][1], s["r2"][1], s["angle"][1]])
    return np.random.default_rng(s["seed"]).uniform(low, high, size=(n, 3))


def _h2o_energies(x) -> dict:
    from ..chem import Molecule
    from .energies import reference_energies

    mol = Molecule(("O", "H", "H"), water_coordinates(*x), name="H2O")
    return reference_energies(mol, cas=False)


# --------------------------------------------------------------------------- the registry
SPECS: dict[str, DatasetSpec] = {
    **{name: _pes_spec(name, mol) for name, mol in PES_MOLECULES.items()},
    "h2o_distortions": DatasetSpec(
        name="h2o_distortions",
        description="H2O at 2000 random distortions (r1, r2, angle) around equilibrium: HF, CCSD, FCI energies",
        inputs=("r1", "r2", "angle"),
        energies=("e_hf", "e_ccsd", "e_fci"),
        n_rows=2000,
        make_inputs=_h2o_inputs,
        energy_row=_h2o_energies,
        extra={"molecule": "H2O", "sampling": H2O_SAMPLING},
    ),
}

#: Accepted alternative spellings.
ALIASES = {"heh_pes": "heh+_pes"}


def names() -> list[str]:
    """Names of the shipped data sets."""
    return list(SPECS)


def get(name: str) -> DatasetSpec:
    """The spec of data set ``name`` (case-insensitive; ``heh_pes`` is accepted for ``heh+_pes``).

    Raises:
        ConfigurationError: unknown name; the message lists the valid names.
    """
    if not isinstance(name, str):
        raise one_of("dataset", name, SPECS)
    key = ALIASES.get(name.lower(), name.lower())
    if key not in SPECS:
        raise one_of("dataset", name, SPECS)
    return SPECS[key]
