"""Givens-rotation circuits simulated inside one particle-number/Sz sector.

``SingleExcitation`` and ``DoubleExcitation`` from a basis state never leave the sector of that
state, and each is a rotation between pairs of sector basis states
(``|..0..1..> <-> |..1..0..>`` on its wires, all other bits equal). Simulating in the sector
keeps ``d`` amplitudes instead of ``2**n`` (LiH (2e, 5o): 25 instead of 1024; BeH2 (4e, 6o):
225 instead of 4096) with the exact same numbers. The circuit is read from the PennyLane
ansatz itself (traced once), so the gates, their order and their parameters are the ansatz's.

This module simulates; the ``"sector"`` backend on top of it is :mod:`qml.backends.sector` (the
simulators know nothing of backends).
"""

from __future__ import annotations

import numpy as np
import pennylane as qp
import torch

SECTOR_GATES = ("SingleExcitation", "DoubleExcitation")


class NotASectorCircuit(ValueError):
    """The circuit uses a gate that can leave the sector (the caller falls back to a state-vector device)."""


class SectorCircuit:
    """Broadcast simulation of ``BasisState`` + Givens rotations in a sector.

    Args:
        ansatz: callable ``ansatz(params)`` emitting PennyLane ops (e.g. a ``qml.chem`` uccsd ansatz).
        n_params: length of its parameter vector.
        n_qubits: circuit width.
        sector: sorted basis-state indices of the sector, shape ``(d,)``.

    Raises:
        NotASectorCircuit: the ansatz uses other gates, or parameters that are not single columns.
    """

    def __init__(self, ansatz, n_params: int, n_qubits: int, sector: np.ndarray):
        self.n_qubits, self.sector = n_qubits, np.asarray(sector)
        position = {int(k): i for i, k in enumerate(self.sector)}
        # parameter i has the value i (in the ansatz's own weight shape)
        marker = torch.arange(n_params, dtype=torch.float64).reshape(getattr(ansatz, "weight_shape", (n_params,)))
        tape = qp.tape.make_qscript(ansatz)(marker)
        ops = list(tape.operations)
        if not ops or ops[0].name != "BasisState":
            raise NotASectorCircuit("the circuit does not start from a basis state")
        start = int("".join(str(int(b)) for b in np.asarray(ops[0].parameters[0])), 2)
        if start not in position:
            raise NotASectorCircuit("the initial basis state is outside the sector")
        self.start = position[start]
        self.columns, self.pairs = [], []
        bit = lambda k, w: (k >> (n_qubits - 1 - w)) & 1  # noqa: E731
        for op in ops[1:]:
            if op.name not in SECTOR_GATES:
                raise NotASectorCircuit(f"{op.name} can leave the particle-number sector")
            value = float(op.parameters[0])
            if value != round(value):
                raise NotASectorCircuit("gate angles must be single parameters")
            wires = list(op.wires)
            half = len(wires) // 2
            low = [0] * half + [1] * half  # |0..01..1> on the gate's wires; the partner is |1..10..0>
            a_idx, b_idx = [], []
            for k in self.sector:
                k = int(k)
                if all(bit(k, w) == v for w, v in zip(wires, low)):
                    partner = k
                    for w in wires:
                        partner ^= 1 << (n_qubits - 1 - w)
                    if partner not in position:
                        raise NotASectorCircuit(f"{op.name} on {wires} leaves the sector")
                    a_idx.append(position[k])
                    b_idx.append(position[partner])
            self.columns.append(int(value))
            self.pairs.append((torch.as_tensor(a_idx, dtype=torch.long), torch.as_tensor(b_idx, dtype=torch.long)))

    @property
    def dim(self) -> int:
        return len(self.sector)

    def __call__(self, params: torch.Tensor) -> torch.Tensor:
        """Sector amplitudes for parameters of shape ``(B, n_params)``: real tensor ``(B, d)``."""
        batch = params.shape[0]
        psi = torch.zeros(batch, self.dim, dtype=params.dtype, device=params.device)
        psi[:, self.start] = 1.0
        half = params / 2
        cos, sin = torch.cos(half), torch.sin(half)
        for col, (a, b) in zip(self.columns, self.pairs):
            if len(a) == 0:
                continue
            c, s = cos[:, col : col + 1], sin[:, col : col + 1]
            if a.device != psi.device:
                a, b = a.to(psi.device), b.to(psi.device)
            pa, pb = psi[:, a], psi[:, b]
            # PennyLane's Givens rotation on (|0..1..>, |1..0..>): [[c, -s], [s, c]].
            psi = psi.index_copy(1, a, c * pa - s * pb).index_copy(1, b, s * pa + c * pb)
        return psi

    def full_state(self, psi: torch.Tensor) -> torch.Tensor:
        """Embed sector amplitudes ``(B, d)`` into the full space: complex ``(B, 2**n_qubits)``."""
        out = torch.zeros(psi.shape[0], 2**self.n_qubits, dtype=torch.complex128, device=psi.device)
        out[:, torch.as_tensor(self.sector, dtype=torch.long, device=psi.device)] = psi.to(torch.complex128)
        return out


def hf_sector(hf_state) -> tuple[int, int, int]:
    """``(n_qubits, n_electrons, two_sz)`` of an occupation vector (even wires alpha, odd beta)."""
    occ = np.asarray(hf_state, dtype=int)
    return len(occ), int(occ.sum()), int(occ[0::2].sum() - occ[1::2].sum())
