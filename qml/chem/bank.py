"""Hamiltonian bank: geometry -> qubit Hamiltonian, built once and cached.

``HamiltonianBank(surface)[point]`` is a :class:`HamiltonianEntry`: the molecule at that point,
its Jordan-Wigner operator and, on demand, its sparse matrix and sector blocks. Backends keep
their own representation of an entry (a torch sparse matrix, a Qiskit ``SparsePauliOp``, ...)
in ``entry.cache``, so each is built once per geometry whatever evaluates it.
"""

from __future__ import annotations

import numpy as np

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
        idx = np.asarray(indices)
        key = ("block", idx.tobytes())
        if key not in self.cache:
            self.cache[key] = self.sparse()[idx][:, idx].toarray()
        return self.cache[key]

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
    """

    def __init__(self, surface):
        self.surface = surface
        self._entries: dict[tuple, HamiltonianEntry] = {}

    def __getitem__(self, point) -> HamiltonianEntry:
        key = self.surface.key(point)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = HamiltonianEntry(self.surface.molecule(key))
        return entry

    def entries(self, coords) -> list[HamiltonianEntry]:
        """Entries for validated coordinates of shape ``(B, d)``."""
        return [self[row] for row in np.asarray(coords)]

    def prepare(self, points, progress: bool = False) -> None:
        """Build (and cache) the Hamiltonians and sparse matrices of ``points`` (anything ``surface.check`` takes)."""
        coords = self.surface.check(points)
        todo = [row for row in coords if self.surface.key(row) not in self._entries]
        if progress and len(todo) > 1:
            from tqdm.auto import tqdm

            todo = tqdm(todo, desc=f"{self.surface.name} Hamiltonians", unit="geometry", leave=False)
        for row in todo:
            self[row].sparse()

    def __contains__(self, point) -> bool:
        return self.surface.key(point) in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def __repr__(self) -> str:
        return f"HamiltonianBank({self.surface!r}, {len(self)} cached)"
