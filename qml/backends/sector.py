"""Backend ``"sector"``: particle-conserving chemistry ansatzes simulated inside their sector.

The simulation is :class:`qml.sim.sector.SectorCircuit`; this module makes it a backend (the
``"energy"`` and ``"state"`` capabilities).
"""

from __future__ import annotations

import torch

from ..errors import BackendError
from ..sim.sector import NotASectorCircuit, SectorCircuit, hf_sector
from .base import Backend, EnergyEvaluator
from .energy import sector_energies


class SectorBackend(Backend):
    """Backend ``"sector"``: particle-conserving chemistry ansatzes simulated in their sector.

    Raises (from :meth:`energy_evaluator` / :meth:`state_fn`):
        BackendError: the ansatz uses a gate that can leave the sector (e.g. ``hardware_efficient``).
    """

    capabilities = frozenset({"energy", "state"})
    max_qubits = 24  # sector_indices enumerates the 2**n basis states once
    description = "particle-number/Sz sector simulation of particle-conserving chemistry ansatzes (qml.sim)"
    auto_rank = 0

    def circuit(self, ansatz, n_qubits: int) -> SectorCircuit:
        from ..chem.hamiltonian import sector_indices

        n, ne, two_sz = hf_sector(ansatz.hf_state)
        try:
            return SectorCircuit(ansatz, ansatz.n_params, n_qubits, sector_indices(n, ne, two_sz))
        except NotASectorCircuit as exc:
            raise BackendError(
                f"backend 'sector' simulates particle-conserving ansatzes only (Givens rotations from a basis "
                f"state, such as 'uccsd'); {ansatz.name!r} cannot run there: {exc}. Use backend='auto', 'fast' "
                "or 'default.qubit'"
            ) from None

    def energy_evaluator(self, ansatz, n_qubits: int):
        return SectorEnergy(self, ansatz, n_qubits)

    def state_fn(self, ansatz, n_qubits: int):
        circuit = self.circuit(ansatz, n_qubits)
        return lambda params: circuit.full_state(circuit(params))


class SectorEnergy(EnergyEvaluator):
    """Exact energies ``psi_s^T H_s psi_s`` in the sector (``last_stderr`` is ``None``)."""

    def __init__(self, backend: SectorBackend, ansatz, n_qubits: int):
        super().__init__(backend, ansatz, n_qubits)
        self.circuit = backend.circuit(ansatz, n_qubits)

    def evaluate(self, params, hamiltonians):
        return sector_energies(self.circuit(params.to(torch.float64)), hamiltonians, self.circuit.sector)
