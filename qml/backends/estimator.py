"""The Estimator path shared by every Qiskit backend (``aer``, ``aer:<FakeDevice>``, ``ibm:<device>``).

trace (PennyLane -> gate sequence + torch angles) -> compile (once per structure) -> ONE PUB per
call -> a ``torch.autograd.Function`` that passes the parameter-shift (or SPSA) Jacobian back.

* expectation values (``"expval"``, what ``QuantumLayer`` needs): the circuit, observables of shape
  ``(n_outputs, 1)``, parameter values ``(n_evals, P)`` (see :func:`qml.backends.packing.plan`);
* energies (``"energy"``, what ``vqe``/``scan``/``PESModel`` need): the ansatz circuit, an
  observables array of the ``B`` Hamiltonians, shape ``(B,)``, and parameter values
  ``(R, B, P)`` that broadcast against it (see :func:`qml.backends.packing.plan_broadcast`).

A backend plugs in by subclassing :class:`EstimatorPath` and implementing :meth:`EstimatorPath.run_pub`
(how one PUB is sent and its ``(evs, stds)`` collected: an Aer primitive call, a Qiskit Runtime
job with a job store and a cost guard) and :meth:`EstimatorPath.compile`.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from ..errors import BackendError, ConfigurationError, DataError
from .base import EnergyEvaluator
from .packing import PackedEstimate, plan, plan_broadcast
from .qiskit_circuits import compile_circuit, hamiltonian_op, trace, trace_ansatz

COUNTERS = ("jobs", "pubs", "circuits", "shots", "jobs_reused")
GRADIENTS = ("parameter-shift", "spsa")


def fingerprint(*parts) -> str:
    """SHA-256 of circuit structure, options and parameter values (numpy arrays hashed by bytes)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.shape).encode())
            h.update(np.ascontiguousarray(part, dtype=np.float64).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()[:32]


class EstimatorPath:
    """Mixin of the Qiskit Estimator backends (with :class:`~qml.backends.base.Backend`):
    ``make_executor`` and ``energy_evaluator`` on one PUB per call.

    A subclass sets ``name``, ``shots``, ``seed``, ``gradient`` (``"parameter-shift"``/``"spsa"``),
    ``spsa_epsilon``, and implements :meth:`compile` and :meth:`run_pub`.
    """

    capabilities = frozenset({"expval", "energy"})

    gradient = "parameter-shift"
    spsa_epsilon = 0.1

    @property
    def shots_per_circuit(self) -> int | None:
        """Shots one circuit evaluation costs (``None`` when exact)."""
        return self.shots

    def compile(self, traced):  # pragma: no cover - abstract
        """Return the :class:`~qml.backends.qiskit_circuits.CompiledCircuit` of ``traced``."""
        raise NotImplementedError

    def run_pub(self, pub, *, key: str, shape: tuple, n_evals: int, owner: "PackedRun"):  # pragma: no cover
        """Send one PUB; return ``(evs, stds)`` arrays of ``shape`` (``stds`` ``None`` when exact)."""
        raise NotImplementedError

    def fingerprint_parts(self) -> tuple:
        """What identifies this backend's results besides circuit and values (for keys and seeds)."""
        return (self.name, self.gradient, self.spsa_epsilon, self.shots_per_circuit, self.seed)

    def make_executor(self, spec) -> "ExpvalExecutor":
        """``run(inputs (B, F), weights) -> Tensor (B, n_outputs)``, one PUB per call.

        Raises:
            BackendError: the spec is wider than the backend was built for.
        """
        if spec.n_qubits > self.n_qubits:
            raise BackendError(f"the spec has {spec.n_qubits} qubits but the backend was built for {self.n_qubits}")
        return ExpvalExecutor(self, spec)

    def energy_evaluator(self, ansatz, n_qubits: int) -> "PackedEnergyEvaluator":
        """``ev(params (B, P), hamiltonians: B entries) -> Tensor (B,)``, one PUB per call.

        Raises:
            BackendError: ``n_qubits`` exceeds what the backend was built for.
        """
        if n_qubits > self.n_qubits:
            raise BackendError(f"the ansatz needs {n_qubits} qubits but the backend was built for {self.n_qubits}")
        return PackedEnergyEvaluator(self, ansatz, n_qubits)


class PackedRun:
    """Counters shared by the executor and the energy evaluator of an :class:`EstimatorPath` backend.

    Attributes:
        stats: totals over the object's life: ``jobs``, ``pubs``, ``circuits``, ``shots``,
            ``jobs_reused``. ``last``: the same counts for the latest call.
        job_ids: every job id sent, in order (hardware backends).
    """

    def __init__(self, backend):
        self.backend = backend
        self.stats = dict.fromkeys(COUNTERS, 0)
        self.last = dict.fromkeys(COUNTERS, 0)
        self.job_ids: list[str] = []
        self.calls = 0
        self._mode = None

    def _new_call(self, traced) -> list:
        """Start counting a call; the angle columns it differentiates (none without autograd)."""
        self.last = dict.fromkeys(COUNTERS, 0)
        self.calls += 1
        return traced.grad_cols if torch.is_grad_enabled() else []

    def _count(self, name: str, value) -> None:
        self.stats[name] += value
        self.last[name] += value
        recorder = getattr(self.backend, "record", None)
        if recorder is not None:
            recorder(name, value)

    def _rng(self, key: str) -> np.random.Generator:
        return np.random.default_rng([int(key[:15], 16), self.backend.seed or 0])

    def close(self) -> None:
        """Close the Batch/Session this object opened (no-op otherwise)."""
        if self._mode is not None:
            try:
                self._mode.close()
            finally:
                self._mode = None


class ExpvalExecutor(PackedRun):
    """``run(inputs (B, F), weights) -> (B, n_outputs)`` for one CircuitSpec: one PUB per call."""

    def __init__(self, backend, spec):
        super().__init__(backend)
        self.spec = spec

    def __call__(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if inputs.ndim == 1:
            inputs = inputs.reshape(1, -1)
        self._check_differentiable(inputs)
        traced = trace(self.spec, inputs, weights)
        grad_cols = self._new_call(traced)
        backend = self.backend

        def evaluate(angles: np.ndarray, cols):
            compiled = backend.compile(traced)
            key = fingerprint(traced.key, *backend.fingerprint_parts(), angles, list(cols))
            p = plan(angles, cols, method=backend.gradient, epsilon=backend.spsa_epsilon, rng=self._rng(key))
            n_out = len(compiled.observables)
            pub = (compiled.isa, [[o] for o in compiled.observables], p.values[:, compiled.columns])
            evs, _ = backend.run_pub(pub, key=key, shape=(n_out, p.n_evals), n_evals=p.n_evals, owner=self)
            return p.split(evs)

        out = PackedEstimate.apply(traced.angles, evaluate, grad_cols)
        return out.to(inputs.dtype)

    def _check_differentiable(self, inputs: torch.Tensor) -> None:
        spec = self.spec
        if (
            spec.embedding == "amplitude"
            and spec.n_inputs < 2**spec.n_qubits
            and inputs.requires_grad
            and torch.is_grad_enabled()
        ):
            raise ConfigurationError(
                f"the amplitude embedding pads {spec.n_inputs} features with zeros to {2**spec.n_qubits} "
                "amplitudes, and its gate decomposition (Mottonen state preparation) has no input derivative "
                f"at zero amplitudes, so {self.backend.name} cannot differentiate it with respect to the inputs. "
                f"Use n_inputs={2**spec.n_qubits}, another embedding, or inputs that do not require grad."
            )

    def __repr__(self):
        return f"{type(self).__name__}({self.backend!r}, stats={self.stats})"


class PackedEnergyEvaluator(PackedRun, EnergyEvaluator):
    """``ev(params (B, P), hamiltonians) -> energies (B,)``, differentiable in ``params``, one PUB per call.

    The ansatz is traced once per call (every rotation of its decomposition gets its own Qiskit
    parameter; the angles stay torch functions of ``params``) and compiled once per structure; the
    ``B`` Hamiltonians travel as one observables array and the unshifted and shifted angles as one
    parameter array of shape ``(R, B, P)``.

    Attributes:
        last_stderr: ndarray ``(B,)`` of the standard errors of the latest energies (``None`` when exact).
        stats: ``jobs``, ``pubs``, ``circuits`` (parameter bindings x samples), ``shots``, ``jobs_reused``.
    """

    def __init__(self, backend, ansatz, n_qubits: int):
        EnergyEvaluator.__init__(self, backend, ansatz, int(n_qubits))
        PackedRun.__init__(self, backend)
        self.n_params = int(getattr(ansatz, "n_params", 0)) or None

    def __call__(self, params: torch.Tensor, hamiltonians) -> torch.Tensor:
        # what a hardware batch needs besides the shared check: a tensor, finite, a vector taken as one row
        return EnergyEvaluator.__call__(self, self._check_params(params), hamiltonians)

    def evaluate(self, params: torch.Tensor, hamiltonians) -> torch.Tensor:
        """Energies ``(B,)`` of a validated batch (see the class docstring)."""
        ops = [hamiltonian_op(h, self.n_qubits) for h in hamiltonians]
        traced = trace_ansatz(self.ansatz, params, self.n_qubits)
        grad_cols = self._new_call(traced)
        backend = self.backend
        stderr = {}

        def evaluate(angles: np.ndarray, cols):
            compiled = backend.compile(traced)
            isa_ops = [compiled.map(op) for op in ops]
            key = fingerprint(
                "energy",
                traced.key,
                *backend.fingerprint_parts(),
                angles,
                list(cols),
                [(tuple(o.paulis.to_labels()), o.coeffs.real.round(14).tolist()) for o in ops],
            )
            p = plan_broadcast(angles, cols, method=backend.gradient, epsilon=backend.spsa_epsilon, rng=self._rng(key))
            values = p.values[..., compiled.columns]
            pub = (compiled.isa, isa_ops, values)
            evs, stds = backend.run_pub(pub, key=key, shape=values.shape[:2], n_evals=p.n_evals, owner=self)
            stderr["value"] = None if stds is None else np.array(stds[0], dtype=np.float64)
            return p.split(evs)

        out = PackedEstimate.apply(traced.angles, evaluate, grad_cols)
        self.last_stderr = stderr.get("value")
        return out[:, 0].to(params.dtype)

    def _check_params(self, params) -> torch.Tensor:
        if not isinstance(params, torch.Tensor):
            raise TypeError(f"params must be a torch tensor of shape (batch, n_params), got {type(params).__name__}")
        if params.ndim == 1:
            params = params.reshape(1, -1)
        if params.ndim != 2 or params.shape[0] == 0 or (self.n_params and params.shape[1] != self.n_params):
            want = self.n_params if self.n_params else "n_params"
            raise DataError(f"params must have shape (batch, {want}), got {tuple(params.shape)}")
        if not torch.isfinite(params).all():
            raise DataError("params contain NaN or inf; check the encoder's outputs or the learning rate")
        return params

    def __repr__(self):
        return f"PackedEnergyEvaluator({self.backend!r}, {self.ansatz!r}, stats={self.stats})"


def result_arrays(result, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """``(evs, stds)`` of the first PUB of a primitive result, as float64 arrays of ``shape``."""
    data = result[0].data
    evs = np.asarray(data.evs, dtype=np.float64).reshape(shape)
    stds = np.asarray(getattr(data, "stds", np.zeros(shape)), dtype=np.float64).reshape(shape)
    return evs.copy(), stds.copy()


def compile_for(backend, traced, device):
    """Compile ``traced`` for ``device`` (``None``: ideal simulator) with the backend's level and seed."""
    return compile_circuit(
        traced,
        device,
        optimization_level=getattr(backend, "optimization_level", 1),
        seed=backend.seed,
        shift_rule=backend.gradient == "parameter-shift",
    )
