"""``Molecule``: a validated geometry + basis + active space, and its qubit Hamiltonian.

Coordinates are Angstrom at the API and converted to Bohr for PennyLane.
The Hamiltonian, its sparse matrix and the exact energy are computed once and cached
on the instance.
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import ConfigurationError, check_int
from . import catalog as _catalog
from . import hamiltonian as _ham

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


class Molecule:
    """A molecule for qubit-Hamiltonian chemistry.

    Args:
        symbols: atomic symbols, e.g. ``["Li", "H"]``.
        coordinates: Cartesian coordinates in Angstrom, shape ``(n_atoms, 3)`` (or flat ``(3 n_atoms,)``).
        charge: net charge (int).
        multiplicity: spin multiplicity ``2S + 1`` (int >= 1).
        basis: Gaussian basis set name understood by PennyLane and PySCF (default ``"sto-3g"``).
        active_electrons: electrons in the active space (``None``: all).
        active_orbitals: spatial orbitals in the active space (``None``: all).
        name: optional label (set by :meth:`from_name`).
        max_qubits: refuse active spaces wider than this many qubits.
        orbitals: MO coefficients to build the Hamiltonian in, shape ``(n_ao, n_mo)``, orthonormal
            under the AO overlap, occupied orbitals first (core, then active), e.g. orbitals
            tracked along a surface (:mod:`qml.chem.orbitals`). ``None`` (default): canonical
            RHF/ROHF orbitals with a fixed sign convention. Energies do not depend on rotations
            inside the core, active occupied and active virtual blocks; the qubits' meaning does.

    Attributes:
        symbols (tuple[str]), coordinates (ndarray ``(n_atoms, 3)``, Angstrom), charge, multiplicity,
        basis, active_electrons, active_orbitals, name, r (float or None: the catalog parameter),
        orbitals (ndarray ``(n_ao, n_mo)``, computed on first use), orbital_source (``"canonical"``,
        ``"given"`` or ``"tracked"``).

    Raises:
        ConfigurationError: unknown element, wrong coordinate shape, non-finite or coincident atoms,
            an electron count incompatible with the multiplicity, or an active space that is
            inconsistent or too large; ``orbitals`` of the wrong shape or not orthonormal.
        TypeError: a non-integer charge/multiplicity/active size or a non-string basis.
    """

    def __init__(
        self,
        symbols,
        coordinates,
        *,
        charge: int = 0,
        multiplicity: int = 1,
        basis: str = "sto-3g",
        active_electrons: int | None = None,
        active_orbitals: int | None = None,
        name: str | None = None,
        max_qubits: int = MAX_QUBITS,
        orbitals=None,
    ):
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
        self.symbols = symbols
        coords = coords.copy()
        coords.setflags(write=False)  # cached Hamiltonians depend on it: make a new Molecule instead
        self.coordinates = coords
        self.charge = check_int("charge", charge, None)
        self.multiplicity = check_int("multiplicity", multiplicity, None)
        if self.multiplicity < 1:
            raise ConfigurationError(f"multiplicity must be >= 1 (1 singlet, 2 doublet, ...), got {multiplicity}")
        if not isinstance(basis, str):
            raise TypeError(f"basis must be a string such as 'sto-3g', got {type(basis).__name__}")
        _check_basis(basis, symbols)
        self.basis = basis
        self.name = name
        self.r: float | None = None
        self._pyscf = None

        total = sum(ATOMIC_NUMBERS[s] for s in symbols) - self.charge
        if total < 1:
            raise ConfigurationError(f"charge {self.charge} leaves {total} electrons; a molecule needs at least one")
        if (total - (self.multiplicity - 1)) % 2 or self.multiplicity - 1 > total:
            raise ConfigurationError(
                f"{total} electrons cannot have multiplicity {self.multiplicity}: an even electron count "
                "needs an odd multiplicity (1, 3, ...) and an odd count an even one (2, 4, ...); "
                "fix charge or multiplicity"
            )
        self.total_electrons = total
        self.active_electrons = (
            None if active_electrons is None else check_int("active_electrons", active_electrons, None)
        )
        self.active_orbitals = None if active_orbitals is None else check_int("active_orbitals", active_orbitals, None)
        self._check_active_space(check_int("max_qubits", max_qubits, None))
        self._cache: dict = {}
        self._orbitals = None if orbitals is None else self._check_orbitals(orbitals)
        self._tracker = None  # (OrbitalTracker, point) when the orbitals come from a chain
        self.orbital_source = "canonical" if orbitals is None else "given"

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_name(
        cls,
        name: str,
        r: float,
        *,
        basis: str = "sto-3g",
        active_electrons="default",
        active_orbitals="default",
        orbitals: str = "tracked",
        **kwargs,
    ) -> Molecule:
        """Build a catalog molecule (see :mod:`qml.chem.catalog`) at parameter ``r`` (Angstrom).

        By default the orbitals are *tracked*: followed from the entry's equilibrium ``r_eq`` in
        0.02 A steps (:mod:`qml.chem.orbitals`; the chain is cached, so a scan computes each step
        once), so that each qubit means the same orbital at every ``r``. Energies are those of
        canonical orbitals.

        Args:
            name: catalog name: ``"H2"``, ``"HeH+"``, ``"LiH"``, ``"BeH2"``, ``"H2O"`` or ``"H4"``.
            r: bond length / spacing in Angstrom, inside the entry's physical range.
            basis: basis set name.
            active_electrons, active_orbitals: ``"default"`` keeps the catalog's active space;
                ``None`` means all electrons / orbitals.
            orbitals: ``"tracked"`` (default: tracked as the catalog entry's ``follow`` says),
                ``"continuous"`` (the determinant and orbitals followed continuously, also through
                HOMO/LUMO crossings), ``"aufbau"`` (tracked, with PySCF's lowest RHF determinant at
                every ``r``: it jumps at a HOMO/LUMO crossing, with a warning) or ``"canonical"`` (RHF orbitals of this geometry alone, sorted by energy, signs by a
                fixed convention: qubits may change meaning between neighbouring geometries).
            **kwargs: passed to :class:`Molecule` (e.g. ``max_qubits``).

        Returns:
            Molecule: with ``name`` and ``r`` set.

        Raises:
            ConfigurationError: unknown name (the message lists the valid ones), ``r`` out of range
                or an unknown ``orbitals`` choice.
        """
        entry = _catalog.get(name)
        r = entry.check_r(r)
        if orbitals not in ("tracked", "continuous", "aufbau", "canonical"):
            raise ConfigurationError(
                f"orbitals must be 'tracked', 'continuous', 'aufbau' or 'canonical', got {orbitals!r}"
            )
        ae = entry.active_electrons if active_electrons == "default" else active_electrons
        ao = entry.active_orbitals if active_orbitals == "default" else active_orbitals
        mol = cls(
            entry.symbols,
            entry.geometry(r),
            charge=entry.charge,
            multiplicity=entry.multiplicity,
            basis=basis,
            active_electrons=ae,
            active_orbitals=ao,
            name=name,
            **kwargs,
        )
        mol.r = r
        if orbitals != "canonical":
            from .orbitals import catalog_tracker

            options = dict(basis=basis, active_electrons=ae, active_orbitals=ao, **kwargs)
            follow = entry.follow if orbitals == "tracked" else orbitals
            mol.track(catalog_tracker(name, options, follow), (r,))
        return mol

    # ---------------------------------------------------------------- geometry files (qml.chem.io)
    @classmethod
    def from_xyz(cls, source, *, charge: int = 0, multiplicity: int = 1, units: str = "angstrom", **kwargs):
        """A molecule from an XYZ file path or XYZ text (see :mod:`qml.chem.io`).

        Args:
            source: a path (str or ``os.PathLike``) or the XYZ text itself (it contains newlines).
            charge, multiplicity: as in :class:`Molecule` (XYZ files do not carry them).
            units: of the coordinates: ``"angstrom"`` (default), ``"bohr"``, ``"pm"`` or ``"nm"``.
            **kwargs: passed to :class:`Molecule` (``basis``, ``active_electrons``, ``active_orbitals``, ``name``).

        Raises:
            FileNotFoundError: no such file. DataError: a malformed file; the message names the line.
            ConfigurationError: unknown units, or a molecule :class:`Molecule` refuses.
        """
        from . import io

        return io.from_xyz(cls, source, charge=charge, multiplicity=multiplicity, units=units, **kwargs)

    @classmethod
    def from_pyscf(cls, mole, **kwargs):
        """A molecule from a ``pyscf.gto.Mole`` (symbols, Angstrom coordinates, charge, spin, basis)."""
        from . import io

        return io.from_pyscf(cls, mole, **kwargs)

    @classmethod
    def from_ase(cls, atoms, *, charge=None, multiplicity=None, **kwargs):
        """A molecule from an ``ase.Atoms`` (optional extra ``ase``); charge/multiplicity default to ``atoms.info``."""
        from . import io

        return io.from_ase(cls, atoms, charge=charge, multiplicity=multiplicity, **kwargs)

    def to_xyz(self, path=None, *, comment: str | None = None) -> str:
        """The geometry as XYZ text (Angstrom); also written to ``path`` when given."""
        from . import io

        return io.to_xyz(self, path, comment=comment)

    def to_ase(self):
        """The geometry as an ``ase.Atoms`` (optional extra ``ase``), charge and multiplicity in ``info``."""
        from . import io

        return io.to_ase(self)

    def _repr_html_(self) -> str:
        from . import io

        return io.repr_html(self)

    def track(self, tracker, point) -> Molecule:
        """Take this molecule's orbitals from ``tracker`` at ``point`` (computed on first use); returns self.

        Args:
            tracker: a :class:`qml.chem.orbitals.OrbitalTracker` whose builder gives this geometry.
            point: the coordinates of this molecule on the tracker's surface (tuple).
        """
        if self._cache:
            raise ConfigurationError("track() must be called before the Hamiltonian is built; make a new Molecule")
        self._tracker = (tracker, tuple(float(v) for v in point))
        self._orbitals = None
        self.orbital_source = "tracked"
        return self

    def with_orbitals(self, orbitals) -> Molecule:
        """A copy of this molecule whose Hamiltonian is built in ``orbitals`` (shape ``(n_ao, n_mo)``)."""
        d = self.to_dict(orbitals=False)
        d["orbitals"] = orbitals
        mol = Molecule(**d)
        mol.r = self.r
        return mol

    @property
    def orbitals(self) -> np.ndarray:
        """MO coefficients the Hamiltonian is built in, shape ``(n_ao, n_mo)`` (read-only, computed once)."""
        if self._orbitals is None:
            if self._tracker is not None:
                tracker, point = self._tracker
                c = tracker.orbitals(point)
            else:
                from .orbitals import canonical

                c = canonical(self).coefficients
            c = np.array(c, dtype=float, copy=True)
            c.setflags(write=False)
            self._orbitals = c
        return self._orbitals

    def _check_orbitals(self, orbitals) -> np.ndarray:
        try:
            c = np.array(orbitals, dtype=float, copy=True)
        except (TypeError, ValueError):
            raise TypeError(f"orbitals must be a 2-D array of MO coefficients, got {type(orbitals).__name__}") from None
        n_ao = self.n_orbitals_total
        if c.shape != (n_ao, n_ao):
            raise ConfigurationError(
                f"orbitals must have shape ({n_ao}, {n_ao}) (AO x MO coefficients of the {self.basis} basis), "
                f"got {c.shape}"
            )
        s = self.to_pyscf().intor_symmetric("int1e_ovlp")
        err = np.abs(c.T @ s @ c - np.eye(n_ao)).max()
        if not err < 1e-8:
            raise ConfigurationError(
                f"orbitals are not orthonormal under the AO overlap (max |C^T S C - 1| = {err:.2g}); pass MO "
                "coefficients of this geometry, e.g. from qml.chem.orbitals"
            )
        c.setflags(write=False)
        return c

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
    def coordinates_bohr(self) -> np.ndarray:
        """Coordinates in Bohr, shape ``(n_atoms, 3)``."""
        return self.coordinates * ANGSTROM_TO_BOHR

    # ---------------------------------------------------------------- Hamiltonian and energies
    def hamiltonian(self, method: str = "pyscf"):
        """Jordan-Wigner qubit Hamiltonian of the active space (Hartree), cached per ``method``.

        Args:
            method: integral back end, ``"pyscf"`` (default, fastest) or ``"dhf"``.

        Returns:
            pennylane.ops.Sum on wires ``0 .. n_qubits - 1``, including core and nuclear energy.

        Raises:
            ConfigurationError: unknown method.
        """
        key = ("H", method)
        if key not in self._cache:
            self._cache[key] = _ham.build_hamiltonian(self, method)
        return self._cache[key]

    def sparse_hamiltonian(self):
        """The Hamiltonian as a scipy CSR matrix, shape ``(2**n_qubits, 2**n_qubits)``, cached."""
        if "sparse" not in self._cache:
            self._cache["sparse"] = _ham.sparse_matrix(self.hamiltonian(), self.n_qubits)
        return self._cache["sparse"]

    def hf_state(self) -> np.ndarray:
        """Occupation vector of the Hartree-Fock state, shape ``(n_qubits,)`` of 0/1 ints."""
        state = np.zeros(self.n_qubits, dtype=int)
        state[: self.n_electrons] = 1
        return state

    def hf_energy(self) -> float:
        """Energy (Hartree) of the Hartree-Fock basis state under :meth:`hamiltonian`."""
        i = _ham.hf_index(self.n_qubits, self.n_electrons)
        return float(self.sparse_hamiltonian()[i, i].real)

    @property
    def two_sz(self) -> int:
        """``n_alpha - n_beta`` of the reference state (``multiplicity - 1``)."""
        return self.multiplicity - 1

    def exact_energy(self) -> float:
        """Lowest eigenvalue (Hartree) of the Hamiltonian in this molecule's particle-number and Sz sector.

        The sparse Hamiltonian is restricted to basis states with ``n_electrons`` active electrons and
        ``n_alpha - n_beta = multiplicity - 1`` before diagonalising, so states of other charge or
        spin projection (which the global minimum may pick) are excluded.
        """
        if "exact" not in self._cache:
            idx = _ham.sector_indices(self.n_qubits, self.n_electrons, self.two_sz)
            self._cache["exact"] = _ham.lowest_eigenvalue(self.sparse_hamiltonian(), idx)
        return self._cache["exact"]

    def reference(self, method: str = "casci") -> float:
        """Independent PySCF energy (Hartree): ``"hf"``, ``"casci"``, ``"fci"`` or ``"ccsd"``.

        Raises:
            ConfigurationError: unknown method (the message lists the valid ones).
        """
        from .reference import reference_energy

        key = ("ref", method)
        if key not in self._cache:
            self._cache[key] = reference_energy(self, method)
        return self._cache[key]

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

    # ---------------------------------------------------------------- dunder
    def __getstate__(self):
        state = self.__dict__.copy()
        if state["_tracker"] is not None:  # a chain holds a builder (often a closure): keep its result only
            state["_orbitals"] = self.orbitals
            state["_tracker"] = None
        state["_pyscf"] = None
        return state

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
        return isinstance(other, Molecule) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def _check_basis(basis: str, symbols) -> None:
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
