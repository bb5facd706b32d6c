"""The geometry and basis of a :class:`qml.chem.Molecule`: validated atoms, coordinates, charge, spin,
basis set and active space, the sizes that follow from them (electrons, orbitals, qubits), equality
and the conversions to PySCF and PennyLane.
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import ConfigurationError

#: 1 Angstrom in Bohr (CODATA 2018, as used by PySCF).
ANGSTROM_TO_BOHR = 1.0 / 0.52917721092

#: Nuclear charges of the elements this package is tested on (H..Ar).
ATOMIC_NUMBERS = {
    s: z
    for z, s in enumerate(
        ["H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar"], start=1
    )
}

#: Largest Hamiltonian built by default (qubits); pass ``max_qubits`` to go further.
MAX_QUBITS = 20


def check_geometry(symbols, coordinates) -> tuple[tuple, np.ndarray]:
    """Validated ``(symbols, coordinates)``: known elements, shape ``(n_atoms, 3)`` in Angstrom, finite,
    no two atoms closer than 0.1 Angstrom; the coordinates come back read-only.

    Raises:
        ConfigurationError: unknown element, wrong shape, NaN/inf, coincident atoms.
        TypeError: symbols not a list, coordinates not numbers.
    """
    if isinstance(symbols, str):
        raise ConfigurationError(
            f"symbols must be a list of element symbols such as ['H', 'H'], got the string {symbols!r}"
        )
    if not isinstance(symbols, (list, tuple)):
        raise TypeError(f"symbols must be a list of element symbols such as ['H', 'H'], got {symbols!r}")
    symbols = tuple(symbols)
    unknown = [s for s in symbols if s not in ATOMIC_NUMBERS]
    if not symbols or unknown:
        raise ConfigurationError(
            f"unknown element symbol(s) {unknown or symbols!r}; use capitalised symbols from "
            f"{', '.join(ATOMIC_NUMBERS)}"
        )
    try:
        coords = np.asarray(coordinates, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"coordinates must be numbers of shape (n_atoms, 3) in Angstrom: {exc}") from None
    if coords.ndim == 1 and coords.size == 3 * len(symbols):
        coords = coords.reshape(-1, 3)
    if coords.shape != (len(symbols), 3):
        raise ConfigurationError(
            f"coordinates must have shape ({len(symbols)}, 3) for {len(symbols)} atoms (Angstrom), "
            f"got shape {coords.shape}"
        )
    if not np.all(np.isfinite(coords)):
        raise ConfigurationError("coordinates contain NaN or infinite values")
    if len(symbols) > 1:
        d = np.linalg.norm(coords[:, None] - coords[None], axis=-1) + np.eye(len(symbols)) * 1e9
        if d.min() < 0.1:
            raise ConfigurationError(
                f"two atoms are {d.min():.3g} Angstrom apart; coordinates are in Angstrom, "
                "check the units and that no atom is duplicated"
            )
    coords = coords.copy()
    coords.setflags(write=False)  # cached Hamiltonians depend on it: make a new Molecule instead
    return symbols, coords


class GeometryBasis:
    """Geometry, basis, charge, spin and active space of a molecule (the first part of :class:`Molecule`)."""

    def _check_active_space(self, max_qubits: int) -> None:
        ae, ao = self.active_electrons, self.active_orbitals
        n_unpaired = self.multiplicity - 1
        if ae is not None:
            if not 1 <= ae <= self.total_electrons:
                raise ConfigurationError(
                    f"active_electrons must be between 1 and the {self.total_electrons} electrons of the "
                    f"molecule, got {ae}"
                )
            if (self.total_electrons - ae) % 2:
                raise ConfigurationError(
                    f"active_electrons={ae} leaves an odd number of core electrons ({self.total_electrons - ae}); "
                    "core orbitals are doubly occupied, so use an active electron count of the same parity as "
                    f"{self.total_electrons}"
                )
            if ae < n_unpaired:
                raise ConfigurationError(
                    f"multiplicity {self.multiplicity} needs at least {n_unpaired} active electrons, got {ae}"
                )
        if ao is not None and ao < 1:
            raise ConfigurationError(f"active_orbitals must be >= 1, got {ao}")
        n_elec = self.n_electrons
        n_orb = self.n_orbitals
        if ao is not None:
            n_core = (self.total_electrons - n_elec) // 2
            n_total = self.n_orbitals_total
            if n_core + ao > n_total:
                raise ConfigurationError(
                    f"the active space ({n_elec} electrons, {ao} orbitals) plus {n_core} frozen core orbitals "
                    f"needs {n_core + ao} orbitals but the {self.basis} basis has {n_total}; use active_orbitals <= "
                    f"{n_total - n_core}"
                )
        n_alpha = (n_elec + n_unpaired) // 2
        if n_alpha > n_orb:
            raise ConfigurationError(
                f"{n_elec} active electrons (multiplicity {self.multiplicity}) do not fit in {n_orb} active orbitals; "
                f"use active_orbitals >= {n_alpha}"
            )
        if 2 * n_orb > max_qubits:
            raise ConfigurationError(
                f"the active space has {n_orb} orbitals = {2 * n_orb} qubits, more than max_qubits={max_qubits}; "
                "pass a smaller active space, e.g. active_electrons=2, active_orbitals=4 "
                "(or raise max_qubits if you have the memory and time)"
            )

    # ---------------------------------------------------------------- sizes
    @property
    def n_electrons(self) -> int:
        """Number of active electrons."""
        return self.total_electrons if self.active_electrons is None else self.active_electrons

    @functools.cached_property
    def n_orbitals_total(self) -> int:
        """Number of spatial orbitals of the basis set (from PySCF)."""
        return int(self.to_pyscf().nao_nr())

    @property
    def n_orbitals(self) -> int:
        """Number of active spatial orbitals."""
        if self.active_orbitals is not None:
            return self.active_orbitals
        n_core = (self.total_electrons - self.n_electrons) // 2
        return self.n_orbitals_total - n_core

    @property
    def n_qubits(self) -> int:
        """Number of qubits of the Jordan-Wigner Hamiltonian: two per active spatial orbital."""
        return 2 * self.n_orbitals

    @property
    def two_sz(self) -> int:
        """``n_alpha - n_beta`` of the reference state (``multiplicity - 1``)."""
        return self.multiplicity - 1

    @property
    def coordinates_bohr(self) -> np.ndarray:
        """Coordinates in Bohr, shape ``(n_atoms, 3)``."""
        return self.coordinates * ANGSTROM_TO_BOHR

    # ---------------------------------------------------------------- interop
    def to_pyscf(self):
        """Return the equivalent ``pyscf.gto.Mole`` (built, quiet, Angstrom; built once, do not modify it)."""
        if self._pyscf is None:
            from pyscf import gto

            atom = [(s, tuple(c)) for s, c in zip(self.symbols, self.coordinates)]
            self._pyscf = gto.M(
                atom=atom, basis=self.basis, charge=self.charge, spin=self.multiplicity - 1, unit="Angstrom", verbose=0
            )
        return self._pyscf

    def to_pennylane(self):
        """Return the equivalent ``pennylane.qchem.Molecule`` (coordinates in Bohr)."""
        import pennylane as qp

        return qp.qchem.Molecule(
            list(self.symbols),
            self.coordinates_bohr,
            charge=self.charge,
            mult=self.multiplicity,
            basis_name=self.basis,
            unit="bohr",
        )

    def to_dict(self, orbitals: bool = True) -> dict:
        """JSON-serialisable description (Angstrom) from which ``Molecule(**d)`` rebuilds an equal molecule.

        Args:
            orbitals: include the MO coefficients (computed if needed) so that the rebuilt molecule
                has the same Hamiltonian, not only the same spectrum.
        """
        d = {
            "symbols": list(self.symbols),
            "coordinates": self.coordinates.tolist(),
            "charge": self.charge,
            "multiplicity": self.multiplicity,
            "basis": self.basis,
            "active_electrons": self.active_electrons,
            "active_orbitals": self.active_orbitals,
            "name": self.name,
        }
        if orbitals:
            d["orbitals"] = self.orbitals.tolist()
        return d

    def __repr__(self) -> str:
        if "_cache" not in self.__dict__:  # half-built (an exception in __init__): repr must not raise
            return "Molecule(not fully built)"
        label = f"{self.name!r}, r={self.r}" if self.name else f"symbols={list(self.symbols)}"
        space = (
            f"active=({self.n_electrons}e, {self.n_orbitals}o)"
            if self.active_electrons is not None or self.active_orbitals is not None
            else "full space"
        )
        extra = (
            ""
            if self.charge == 0 and self.multiplicity == 1
            else f", charge={self.charge}, multiplicity={self.multiplicity}"
        )
        return f"Molecule({label}, basis={self.basis!r}{extra}, {space}, {self.n_qubits} qubits)"

    def _key(self):  # the molecule, not its orbital basis: equal molecules have the same spectrum
        return (
            self.symbols,
            self.coordinates.round(10).tobytes(),
            self.charge,
            self.multiplicity,
            self.basis,
            self.active_electrons,
            self.active_orbitals,
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, GeometryBasis) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def check_basis(basis: str, symbols) -> None:
    """Raise ConfigurationError unless PySCF's basis loader knows ``basis`` for every element."""
    import warnings

    from pyscf.gto import basis as pyscf_basis

    for element in sorted(set(symbols)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = pyscf_basis.load(basis, element)
        except Exception:  # noqa: BLE001 - PySCF raises BasisNotFoundError, KeyError, ... by case
            found = None
        if not found:
            raise ConfigurationError(
                f"unknown basis {basis!r} for {element} (PySCF's basis loader does not have it); use a basis "
                "set name such as 'sto-3g', '6-31g' or 'cc-pvdz'"
            )
