"""The energies of a :class:`qml.chem.Molecule`: its qubit Hamiltonian (cached), the Hartree-Fock state
and energy, the exact energy in its particle-number/Sz sector and the independent PySCF references.
"""

from __future__ import annotations

import numpy as np

from . import hamiltonian as _ham


class Energies:
    """Hamiltonian, exact and reference energies of a molecule (a part of :class:`Molecule`), cached in ``_cache``."""

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
