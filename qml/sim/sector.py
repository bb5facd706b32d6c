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

from . import adjoint

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

        gradient: ``"auto"`` (default: adjoint when backprop's memory estimate exceeds
            ``memory_budget``), ``"backprop"`` or ``"adjoint"`` (see :mod:`qml.sim.adjoint`).
        memory_budget: bytes backprop may take under ``"auto"`` (``None``: half the available memory).

    Attributes:
        last_gradient: how the latest call is differentiated (``None``: no gradient needed).

    Raises:
        NotASectorCircuit: the ansatz uses other gates, or parameters that are not single columns.
        ValueError: an unknown ``gradient`` or a non-positive ``memory_budget``.
    """

    def __init__(
        self, ansatz, n_params: int, n_qubits: int, sector: np.ndarray, *, gradient="auto", memory_budget=None
    ):
        self.gradient = adjoint.check_gradient(gradient)
        self.memory_budget = adjoint.check_budget(memory_budget)
        self.last_gradient = None
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
        needs_grad = torch.is_grad_enabled() and params.requires_grad
        nbytes = batch * self.dim * params.element_size()
        mode = adjoint.choose(self.gradient, needs_grad, len(self.columns), nbytes, params.device, self.memory_budget)
        self.last_gradient = mode
        if mode == "adjoint":
            return adjoint.run(self._steps(params), mode)
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

    def _steps(self, params: torch.Tensor) -> list:
        """The circuit as :class:`~qml.sim.adjoint.Step` s (the adjoint method's input)."""
        batch, dim, start = params.shape[0], self.dim, self.start

        def source(_psi):
            psi = torch.zeros(batch, dim, dtype=params.dtype, device=params.device)
            psi[:, start] = 1.0
            return psi

        steps = [adjoint.Step(source, None, ())]
        for col, (a, b) in zip(self.columns, self.pairs):
            if len(a) == 0:
                continue
            a, b = a.to(params.device), b.to(params.device)
            steps.append(adjoint.Step(*_givens_step(col, a, b), (params,), _givens_vjp(col, a, b)))
        return steps

    def full_state(self, psi: torch.Tensor) -> torch.Tensor:
        """Embed sector amplitudes ``(B, d)`` into the full space: complex ``(B, 2**n_qubits)``."""
        out = torch.zeros(psi.shape[0], 2**self.n_qubits, dtype=torch.complex128, device=psi.device)
        out[:, torch.as_tensor(self.sector, dtype=torch.long, device=psi.device)] = psi.to(torch.complex128)
        return out


def _rotate(psi, a, b, theta):
    c, s = torch.cos(theta / 2)[:, None], torch.sin(theta / 2)[:, None]
    pa, pb = psi[:, a], psi[:, b]
    return psi.index_copy(1, a, c * pa - s * pb).index_copy(1, b, s * pa + c * pb)


def _givens_step(col, a, b):
    """Kernel and inverse of one Givens rotation by parameter column ``col`` on sector rows ``a, b``."""
    return (lambda psi, p: _rotate(psi, a, b, p[:, col])), (lambda psi, p: _rotate(psi, a, b, -p[:, col]))


def _givens_vjp(col, a, b):
    """``d loss / d params``: only column ``col``; with ``out = R(theta) psi`` on rows ``(a, b)``,
    ``d out_a / d theta = -out_b / 2`` and ``d out_b / d theta = out_a / 2``."""

    def vjp(psi, lam, p):
        th = p[:, col]
        c, s = torch.cos(th / 2)[:, None], torch.sin(th / 2)[:, None]
        pa, pb = psi[:, a], psi[:, b]
        out_a, out_b = c * pa - s * pb, s * pa + c * pb
        g = torch.zeros_like(p)
        g[:, col] = 0.5 * ((lam[:, b] * out_a).sum(1) - (lam[:, a] * out_b).sum(1))
        return (g,)

    return vjp


def hf_sector(hf_state) -> tuple[int, int, int]:
    """``(n_qubits, n_electrons, two_sz)`` of an occupation vector (even wires alpha, odd beta)."""
    occ = np.asarray(hf_state, dtype=int)
    return len(occ), int(occ.sum()), int(occ[0::2].sum() - occ[1::2].sum())
