"""``Molecule``: a validated geometry + basis + active space, and its qubit Hamiltonian.

Coordinates are Angstrom at the API and converted to Bohr for PennyLane.
The Hamiltonian, its sparse matrix and the exact energy are computed once and cached
on the instance.

The class is assembled from three parts, one idea each: :class:`~qml.chem.geometry.GeometryBasis`
(atoms, basis, charge, spin, active space, sizes, conversions), :class:`~qml.chem.orbital_basis.OrbitalBasis`
(canonical, given or tracked orbitals) and :class:`~qml.chem.energies.Energies` (Hamiltonian, exact and
reference energies). This module adds the constructor and the catalog (:meth:`Molecule.from_name`).
"""

from __future__ import annotations

from ..errors import ConfigurationError, check_int
from . import entries as _catalog
from .energies import Energies
from .geometry import ANGSTROM_TO_BOHR as ANGSTROM_TO_BOHR
from .geometry import ATOMIC_NUMBERS, MAX_QUBITS, GeometryBasis, check_basis, check_geometry
from .orbital_basis import OrbitalBasis
from .orbitals import CATALOG_STEP, OrbitalTracker, cached_tracker


class Molecule(GeometryBasis, OrbitalBasis, Energies):
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
        self.symbols, self.coordinates = check_geometry(symbols, coordinates)
        symbols = self.symbols
        self.charge = check_int("charge", charge, None)
        self.multiplicity = check_int("multiplicity", multiplicity, None)
        if self.multiplicity < 1:
            raise ConfigurationError(f"multiplicity must be >= 1 (1 singlet, 2 doublet, ...), got {multiplicity}")
        if not isinstance(basis, str):
            raise TypeError(f"basis must be a string such as 'sto-3g', got {type(basis).__name__}")
        check_basis(basis, symbols)
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


def catalog_tracker(name: str, options: dict, follow: str = "continuous") -> OrbitalTracker:
    """The shared tracker of catalog molecule ``name`` with ``Molecule.from_name`` ``options``
    (cached: :func:`qml.chem.orbitals.clear_cache` and ``qml.clear_caches()`` forget it)."""
    entry = _catalog.get(name)

    def build(point):
        return Molecule.from_name(name, point[0], orbitals="canonical", **options)

    def make():
        return OrbitalTracker(build, (entry.r_eq,), (CATALOG_STEP,), name=name, follow=follow)

    return cached_tracker((name, tuple(sorted(options.items())), follow), make)
