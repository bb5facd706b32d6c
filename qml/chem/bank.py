"""Hamiltonian bank: geometry -> qubit Hamiltonian, built once and cached.

``HamiltonianBank(surface)[point]`` is a :class:`HamiltonianEntry`: the molecule at that point,
its Jordan-Wigner operator and, on demand, its sparse matrix and sector blocks. Backends keep
their own representation of an entry (a torch sparse matrix, a Qiskit ``SparsePauliOp``, ...)
in ``entry.cache``, so each is built once per geometry whatever evaluates it.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools

import numpy as np

from ..errors import ConfigurationError
from .molecule import Molecule


class HamiltonianEntry:
    """One geometry's Hamiltonian.

    Attributes:
        molecule: the :class:`Molecule`.
        n_qubits: circuit width.
        cache: a dict where backends keep their own representation of this Hamiltonian.
    """

    def __init__(self, molecule: Molecule):
        if not isinstance(molecule, Molecule):
            raise TypeError(f"a Hamiltonian entry needs a qml.chem.Molecule, got {type(molecule).__name__}")
        self.molecule = molecule
        self.n_qubits = molecule.n_qubits
        self.cache: dict = {}

    @property
    def operator(self):
        """The Jordan-Wigner Hamiltonian, a PennyLane ``Sum`` on wires ``0 .. n_qubits - 1`` (Hartree)."""
        return self.molecule.hamiltonian()

    def sparse(self):
        """The Hamiltonian as a scipy CSR matrix, shape ``(2**n, 2**n)``."""
        return self.molecule.sparse_hamiltonian()

    def sector_block(self, indices) -> np.ndarray:
        """Dense block ``H[indices][:, indices]``, shape ``(d, d)``, for sorted basis indices ``(d,)``."""
        from .hamiltonian import sector_block

        return sector_block(self, indices)

    def exact_energy(self) -> float:
        return self.molecule.exact_energy()

    def hf_energy(self) -> float:
        return self.molecule.hf_energy()

    def __repr__(self) -> str:
        return f"HamiltonianEntry({self.molecule!r})"


class HamiltonianBank:
    """Cached :class:`HamiltonianEntry` per point of a :class:`~qml.chem.surface.Surface`.

    Args:
        surface: the surface whose molecules it builds.
        taper: ``False``/``None`` (default: untapered entries), ``True`` (taper every geometry by the
            Z2 symmetries and HF sector of ``surface.reference``, checked at each geometry) or a
            :class:`qml.chem.tapering.Tapering` to use (see :mod:`qml.chem.tapering`).

    Raises:
        ConfigurationError: a ``taper`` other than ``True``/``False``/``None``/a ``Tapering``.
    """

    def __init__(self, surface, taper=None):
        from .tapering import Tapering, check_taper

        self.surface = surface
        self._entries: dict[tuple, HamiltonianEntry] = {}
        if taper is not None and (check_taper(taper) == "auto" or not isinstance(taper, (bool, Tapering))):
            raise ConfigurationError(
                f"a Hamiltonian bank's taper must be True, False or a Tapering (decide 'auto' from the backend "
                f"with qml.chem.tapering.wants_taper), got {taper!r}"
            )
        #: the :class:`~qml.chem.tapering.Tapering` of every entry (``None``: untapered).
        self.tapering = None
        if taper is True:
            from .tapering import for_molecule, surface_point

            ref = surface.reference
            self.tapering = for_molecule(surface.molecule(ref), where=surface_point(surface, ref))
        elif isinstance(taper, Tapering):
            self.tapering = taper

    def _entry(self, molecule, key) -> HamiltonianEntry:
        if self.tapering is None:
            return HamiltonianEntry(molecule)
        from .tapering import TaperedEntry, surface_point

        return TaperedEntry(molecule, self.tapering, surface_point(self.surface, key))

    def __getitem__(self, point) -> HamiltonianEntry:
        key = self.surface.key(point)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = self._entry(self.surface.molecule(key), key)
        return entry

    def entries(self, coords) -> list[HamiltonianEntry]:
        """Entries for validated coordinates of shape ``(B, d)``."""
        return [self[row] for row in np.asarray(coords)]

    def prepare(self, points, progress: bool = False, *, executor=None, workers: int | None = None) -> None:
        """Build (and cache) the Hamiltonians and sparse matrices of ``points``.

        Each new geometry is one task of :func:`qml.parallel.map_tasks` (molecule, Jordan-Wigner
        operator, sparse matrix), run with one thread: the entries are bit-identical whatever
        ``executor``/``workers`` built them. A catalog surface is sent to workers as its name and
        options (the worker rebuilds it); any other surface is sent whole, which a local process
        pool can do only when its builder pickles (a ``def`` at module level; Dask also sends
        closures and lambdas).

        Args:
            points: anything ``surface.check`` takes: a number, a tuple of ``d`` numbers, a list
                of them, or an array of shape ``(B,)`` / ``(B, d)``.
            progress: show a progress bar over the geometries still to build.
            executor: None (here, the default), a ``concurrent.futures.Executor``, a
                ``dask.distributed.Client``, ``"dask"`` or a scheduler address (see :mod:`qml.parallel`).
            workers: a local pool of this many processes (one thread each) instead of ``executor``.

        Raises:
            TypeError, DataError, ConfigurationError: bad ``points`` (see ``Surface.check``) or bad
                ``executor``/``workers`` (see :func:`qml.parallel.runner`), before any work.
            TypeError: a process pool was asked for and the surface's builder cannot be pickled.
        """
        from .. import parallel

        coords = self.surface.check(points)
        parallel.check(executor, workers)
        todo = list(dict.fromkeys(k for k in map(self.surface.key, coords) if k not in self._entries))
        if not todo:
            return
        serial = executor is None and workers is None
        source = ("surface", self.surface) if serial else self._source(_pickles(executor, workers))
        molecules = parallel.map_tasks(
            _build,
            [(source, k) for k in todo],
            executor=executor,
            workers=workers,
            progress=progress and len(todo) > 1,
            desc=f"{self.surface.name} Hamiltonians",
        )
        for k, mol in zip(todo, molecules):
            self._entries[k] = self._entry(mol, k)

    def _source(self, plain_pickle: bool) -> tuple:
        """What a worker needs to rebuild the surface: ``("catalog", name, options)`` or ``("surface", surface)``."""
        spec = catalog_spec(self.surface)
        if spec is not None:
            return ("catalog", *spec)
        if plain_pickle:
            from .. import parallel

            parallel._check_picklable(self.surface, f"the builder of surface {self.surface.name!r}")
        return ("surface", self.surface)

    def __contains__(self, point) -> bool:
        return self.surface.key(point) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def __repr__(self) -> str:
        return f"HamiltonianBank({self.surface!r}, {len(self)} cached)"


def catalog_spec(surface) -> tuple[str, dict] | None:
    """``(name, molecule_options)`` when ``surface`` builds catalog molecules (``surface("LiH", ...)``), else None."""
    b = surface.builder
    if isinstance(b, functools.partial) and b.func == Molecule.from_name and len(b.args) == 1:
        return b.args[0], dict(b.keywords)
    return None


def _pickles(executor, workers) -> bool:
    """Whether tasks reach their workers through plain pickle (our local pool, a process pool)."""
    return (executor is None and workers is not None) or isinstance(executor, cf.ProcessPoolExecutor)


def _build(job) -> Molecule:
    """Task of :meth:`HamiltonianBank.prepare`: ``job = (source, key)`` -> the molecule at ``key``
    with its operator and sparse matrix built (cached inside it, sent back with it)."""
    source, key = job
    if source[0] == "catalog":
        from .surface import surface

        source = ("surface", surface(source[1], **source[2]))
    mol = source[1].molecule(key)
    mol.sparse_hamiltonian()
    return mol
