"""Local simulators behind PennyLane devices: ``fast`` (qml.sim), ``default.qubit``, ``lightning.qubit``.

=================  ======================  ==========================  ============================
backend            expval (QuantumLayer)   energy (vqe, PESModel)      state
=================  ======================  ==========================  ============================
fast               backprop, broadcast     from the state              backprop, broadcast
default.qubit      backprop, broadcast     from the state; sampled     backprop, broadcast (exact)
                   (parameter-shift with   with shots (per Pauli term)
                   shots)
lightning.qubit    adjoint, per sample     adjoint, per sample         --
=================  ======================  ==========================  ============================
"""

from __future__ import annotations

import contextlib

import numpy as np
import pennylane as qp
import torch

from .base import Backend, EnergyEvaluator
from .energy import StateEnergy


class PennyLaneBackend(Backend):
    """A PennyLane device and its differentiation method (subclasses fix which device)."""

    #: name passed to ``qp.device``.
    device_name: str = ""

    @property
    def diff_method(self) -> str:
        return "parameter-shift" if self.shots is not None else self.exact_diff_method

    exact_diff_method = "backprop"

    @property
    def broadcasts(self) -> bool:
        """True when a batch runs as ONE broadcast execution (not one circuit per sample)."""
        return self.diff_method == "backprop"

    #: one circuit through PennyLane's execution pipeline costs at least this (measured: 2-5 ms per
    #: row for a 4-qubit lightning.qubit circuit with its adjoint gradient; 20 us is a safe floor).
    PER_CIRCUIT_FLOOR_S = 2e-5

    @property
    def min_seconds_per_row(self) -> float:
        return 0.0 if self.broadcasts else self.PER_CIRCUIT_FLOOR_S

    def device(self, n_qubits: int):
        return qp.device(self.device_name, wires=n_qubits, seed=self.rng)

    @property
    def rng(self) -> np.random.Generator:
        """The shot sampler's seed stream, shared by every device this backend makes; checkpointed
        through :meth:`seed_state`/:meth:`set_seed_state` so a resumed run draws the same shots."""
        if getattr(self, "_rng", None) is None:
            self._rng = np.random.default_rng(self.seed)
        return self._rng

    def seed_state(self) -> dict:
        """The sampler's seed stream as plain values (checkpoint hook, see qml.train.checkpoint)."""
        return {"numpy": self.rng.bit_generator.state}

    def set_seed_state(self, state: dict) -> None:
        """Continue the seed stream from :meth:`seed_state` (devices already made follow it too)."""
        self.rng.bit_generator.state = state["numpy"]

    def reset_seed_state(self) -> None:
        """Rewind the seed stream to its start (``seed``)."""
        self.rng.bit_generator.state = np.random.default_rng(self.seed).bit_generator.state

    def _qnode(self, fn, n_qubits: int, diff_method: str | None = None):
        qnode = qp.QNode(fn, self.device(n_qubits), interface="torch", diff_method=diff_method or self.diff_method)
        if self.shots is not None:
            qnode = qp.set_shots(qnode, shots=self.shots)
        return qnode

    # -- expval ---------------------------------------------------------------------------
    def make_executor(self, spec):
        """Return ``run(inputs (B, F), weights) -> (B, n_outputs)`` for ``spec`` on this backend."""
        qnode = self._qnode(spec.qfunc, spec.n_qubits)
        if not self.broadcasts:
            # parameter-shift and adjoint cannot differentiate broadcast tapes: one circuit per sample.
            qnode = qp.transforms.broadcast_expand(qnode)
        return _Executor(qnode, float64_scope=self.float64_scope)

    #: run forward and backward under torch's float64 default dtype (see :class:`_Float64`).
    float64_scope = False

    # -- state ------------------------------------------------------------------------------
    def state_fn(self, ansatz, n_qubits: int):
        self.require("state")
        shape = tuple(ansatz.weight_shape)

        def circuit(p):
            ansatz(p.reshape(p.shape[:-1] + shape) if len(shape) > 1 else p)
            return qp.state()

        qnode = self._qnode(circuit, n_qubits, "backprop")

        def states(params: torch.Tensor) -> torch.Tensor:
            out = qnode(params)
            return out.reshape(params.shape[0], 2**n_qubits)

        return states

    # -- energy -----------------------------------------------------------------------------
    def energy_evaluator(self, ansatz, n_qubits: int):
        self.require("energy")
        if self.shots is None and "state" in self.capabilities:
            return StateEnergy(self, ansatz, n_qubits)
        return ExpvalEnergy(self, ansatz, n_qubits)

    def __repr__(self):
        shots = "exact" if self.shots is None else f"shots={self.shots}"
        return f"{type(self).__name__}({self.name!r}, {shots}, diff_method={self.diff_method!r})"


class FastBackend(PennyLaneBackend):
    """``fast``: :class:`qml.sim.FastDevice`, batched torch state vector, exact only."""

    capabilities = frozenset({"expval", "state", "energy"})
    max_qubits = 24
    description = "qml's batched torch state-vector simulator (qml.sim), backprop, one broadcast execution per batch"
    auto_rank = 1

    def device(self, n_qubits: int):
        from ..sim import FastDevice

        return FastDevice(wires=n_qubits)


class DefaultQubitBackend(PennyLaneBackend):
    """``default.qubit``: PennyLane's reference simulator; samples with ``shots``."""

    capabilities = frozenset({"expval", "state", "energy"})
    max_qubits = 24
    samples = True
    device_name = "default.qubit"
    description = "PennyLane's reference simulator, torch backprop, one broadcast execution per batch"
    auto_rank = 3

    def state_fn(self, ansatz, n_qubits: int):
        if self.shots is not None:
            from ..errors import BackendError

            raise BackendError("default.qubit with shots samples measurements; it returns no state. Use shots=None.")
        return super().state_fn(ansatz, n_qubits)


class LightningBackend(PennyLaneBackend):
    """``lightning.qubit``: PennyLane Lightning (C++), adjoint differentiation, one circuit per sample."""

    capabilities = frozenset({"expval", "energy"})
    max_qubits = 28
    samples = True
    device_name = "lightning.qubit"
    exact_diff_method = "adjoint"
    float64_scope = True
    description = "PennyLane Lightning C++ simulator, adjoint differentiation"
    auto_rank = 2


class ExpvalEnergy(EnergyEvaluator):
    """Energies as ``qp.expval(H_b)``, one circuit per sample (adjoint or parameter-shift).

    With shots, each Pauli term is measured (PennyLane groups commuting terms) and
    ``last_stderr`` is ``sqrt(sum_k c_k^2 (1 - <P_k>^2) / shots)`` per sample, treating the
    term estimates as independent.
    """

    def __init__(self, backend: PennyLaneBackend, ansatz, n_qubits: int):
        super().__init__(backend, ansatz, n_qubits)
        shape = tuple(ansatz.weight_shape)

        def energy(p, H):
            ansatz(p.reshape(shape))
            return qp.expval(H)

        def terms(p, observables):
            ansatz(p.reshape(shape))
            return [qp.expval(o) for o in observables]

        self._qnode = backend._qnode(terms if backend.shots is not None else energy, n_qubits)

    def evaluate(self, params, hamiltonians):
        be = self.backend
        if be.shots is None:

            def run(p):
                return torch.stack([torch.as_tensor(self._qnode(p[b], h.operator)) for b, h in enumerate(hamiltonians)])

            self.last_stderr = None
            return _Float64.apply(run, params) if be.float64_scope else run(params)
        energies, stderr = [], []
        for b, entry in enumerate(hamiltonians):
            const, coeffs, observables = pauli_terms(entry)
            values = torch.stack([torch.as_tensor(v) for v in self._qnode(params[b], observables)]).to(torch.float64)
            energies.append(const + (torch.as_tensor(coeffs) * values).sum())
            v = values.detach().numpy()
            stderr.append(float(np.sqrt(np.sum(coeffs**2 * np.clip(1 - v**2, 0, None)) / be.shots)))
        self.last_stderr = np.array(stderr)
        self.stats = {
            "circuits": self.stats.get("circuits", 0) + len(hamiltonians),
            "shots": self.stats.get("shots", 0) + len(hamiltonians) * be.shots,
        }
        return torch.stack(energies)


def pauli_terms(entry):
    """``(constant, coeffs (K,), observables)`` of an entry's Hamiltonian, identity folded into the
    constant; cached in ``entry.cache``."""
    if "pauli_terms" not in entry.cache:
        const, coeffs, obs = 0.0, [], []
        for word, c in entry.operator.pauli_rep.items():
            if len(word) == 0:
                const += float(np.real(c))
            else:
                coeffs.append(float(np.real(c)))
                obs.append(word.operation(wire_order=range(entry.n_qubits)))
        entry.cache["pauli_terms"] = (const, np.array(coeffs), obs)
    return entry.cache["pauli_terms"]


class _Executor:
    def __init__(self, qnode, float64_scope: bool = False):
        self.qnode = qnode
        self.float64_scope = float64_scope

    def _run(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out = self.qnode(inputs, weights.to(inputs.dtype))
        out = torch.stack([torch.as_tensor(o) for o in out], dim=-1) if isinstance(out, (list, tuple)) else out
        if out.ndim == 1:  # a single sample or a single output
            out = out.reshape(inputs.shape[0], -1)
        return out.to(inputs.dtype)

    def __call__(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if not self.float64_scope:
            return self._run(inputs, weights)
        return _Float64.apply(self._run, inputs.double(), weights.double()).to(inputs.dtype)


@contextlib.contextmanager
def _default_dtype(dtype):
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


class _Float64(torch.autograd.Function):
    """Run ``fn(*tensors)`` forward and backward under torch's float64 default dtype.

    PennyLane 0.45's torch interface turns the Python floats that lightning.qubit returns into
    tensors of torch's *default* dtype (float32), losing 9 digits of an exact simulator in the
    outputs and in the vector-Jacobian products. Scoping the default dtype around both passes
    keeps them float64.
    """

    @staticmethod
    def forward(ctx, fn, *tensors):
        with torch.enable_grad(), _default_dtype(torch.float64):
            leaves = [t.detach().requires_grad_(t.requires_grad) for t in tensors]
            out = fn(*leaves)
        ctx.graph = (leaves, out)
        return out.detach()

    @staticmethod
    def backward(ctx, grad):
        leaves, out = ctx.graph
        wanted = [t for t in leaves if t.requires_grad]
        with _default_dtype(torch.float64):
            grads = iter(torch.autograd.grad(out, wanted, grad, allow_unused=True)) if wanted else iter(())
        return (None, *(next(grads) if t.requires_grad else None for t in leaves))
