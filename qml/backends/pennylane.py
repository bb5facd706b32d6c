"""PennyLane devices behind backend strings: default.qubit, lightning.qubit, aer, aer:<FakeDevice>."""

from __future__ import annotations

import contextlib
import functools
import warnings

import numpy as np
import pennylane as qp
import torch

from ..errors import BackendError

#: Largest circuit each simulator accepts (a statevector of 2**n complex128 amplitudes per sample).
MAX_QUBITS = {"fast": 24, "default.qubit": 24, "lightning.qubit": 28, "aer": 28}

#: Gates the Aer path decomposes to before routing on a fake device's coupling map.
AER_BASIS = frozenset(
    {"RX", "RY", "RZ", "CNOT", "CZ", "SWAP", "Hadamard", "PauliX", "PauliY", "PauliZ", "S", "T", "SX"}
)


@functools.lru_cache(maxsize=1)
def fake_device_names() -> tuple[str, ...]:
    """Names of the fake IBM devices (``FakeManilaV2``, ...) usable as ``aer:<name>``."""
    from qiskit_ibm_runtime import fake_provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    return tuple(sorted(
        n for n in dir(fake_provider)
        if n.startswith("Fake") and isinstance(getattr(fake_provider, n), type)
        and issubclass(getattr(fake_provider, n), FakeBackendV2)
    ))


def fake_device(name: str):
    """Instantiate the fake IBM device ``name`` from ``qiskit_ibm_runtime.fake_provider``.

    Raises:
        BackendError: ``name`` is not a fake device; the message lists some valid ones.
    """
    names = fake_device_names()
    if name not in names:
        sample = ", ".join(names[:8])
        raise BackendError(
            f"unknown fake device {name!r}; use one of qiskit_ibm_runtime.fake_provider's V2 devices, "
            f"e.g. {sample} ... ({len(names)} in all; list them with qml.backends.fake_device_names())"
        )
    from qiskit_ibm_runtime import fake_provider

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(fake_provider, name)()


class PennyLaneBackend:
    """A PennyLane device and differentiation method for one backend string.

    Args:
        name: ``"default.qubit"``, ``"lightning.qubit"``, ``"aer"`` or ``"aer:<FakeDevice>"``.
        n_qubits: circuit width.
        shots: ``None`` (exact) or a positive int.
        seed: seed for shot sampling.
    """

    def __init__(self, name: str, *, n_qubits: int, shots=None, seed=None):
        self.name = name
        self.shots = shots
        self.seed = seed
        self.n_qubits = n_qubits
        #: the shot sampler's seed stream, shared by every device this backend makes; saved in
        #: checkpoints through seed_state()/set_seed_state() so a resumed run draws the same shots
        self._rng = np.random.default_rng(seed)
        self._fake = None
        if name.startswith("aer:"):
            self._fake = fake_device(name[4:])
            limit = self._fake.num_qubits
        elif name in MAX_QUBITS:
            limit = MAX_QUBITS[name]
        else:
            from . import BACKENDS

            raise BackendError(
                f"unknown backend {name!r}; valid backends are: " + ", ".join(BACKENDS)
            )
        if n_qubits > limit:
            where = f"the fake device {name[4:]} has" if self._fake else f"{name} simulates at most"
            raise BackendError(
                f"the circuit needs {n_qubits} qubits but {where} {limit}; use fewer qubits "
                "or a larger backend (see qml.backends.BACKENDS)"
            )
        if name == "fast" and shots is not None:
            raise BackendError(
                "the 'fast' backend computes exact expectation values only; for shots use "
                "'default.qubit', 'aer' or 'aer:<FakeDevice>'"
            )
        self.exact = shots is None and self._fake is None
        if self._fake is not None and shots is None:
            # A noisy device samples: exact expectation values would hide the noise model's shot noise.
            self.shots = 1024

    @property
    def diff_method(self) -> str:
        if self.name in ("fast", "default.qubit") and self.shots is None:
            return "backprop"
        if self.name == "lightning.qubit" and self.shots is None:
            return "adjoint"
        return "parameter-shift"

    @property
    def broadcasts(self) -> bool:
        """True when a batch runs as ONE broadcast execution (not one circuit per sample)."""
        return self.diff_method == "backprop"

    def device(self, n_qubits: int):
        kwargs = {}
        if self.name == "fast":
            from ..sim import FastDevice

            return FastDevice(wires=n_qubits)
        if self.name == "default.qubit":
            return qp.device("default.qubit", wires=n_qubits, seed=self._rng)
        if self.name == "lightning.qubit":
            return qp.device("lightning.qubit", wires=n_qubits, seed=self._rng)
        from qiskit_aer import AerSimulator

        if self.seed is not None:
            kwargs["seed_simulator"] = self.seed
        if self._fake is not None:
            sim = AerSimulator.from_backend(self._fake, **kwargs)
            return qp.device("qiskit.aer", wires=n_qubits, backend=sim)
        backend = "aer_simulator_statevector" if self.shots is None else "aer_simulator"
        return qp.device("qiskit.aer", wires=n_qubits, backend=backend, **kwargs)

    def make_executor(self, spec):
        """Return ``run(inputs (B, F), weights) -> (B, n_outputs)`` for ``spec`` on this backend."""
        qnode = qp.QNode(
            spec.qfunc, self.device(spec.n_qubits), interface="torch", diff_method=self.diff_method
        )
        if self.shots is not None:
            qnode = qp.set_shots(qnode, shots=self.shots)
        if self._fake is not None:
            edges = sorted({tuple(sorted(e)) for e in self._fake.coupling_map if max(e) < spec.n_qubits})
            qnode = qp.transforms.decompose(qnode, gate_set=set(AER_BASIS), max_expansion=8)
            qnode = qp.transforms.transpile(qnode, coupling_map=edges)
        if not self.broadcasts:
            # parameter-shift and adjoint cannot differentiate broadcast tapes: one circuit per sample.
            qnode = qp.transforms.broadcast_expand(qnode)
        if self.name == "lightning.qubit":
            return _DoubleScopeExecutor(qnode)
        return _Executor(qnode)

    def seed_state(self) -> dict:
        """The sampler's seed stream as plain values (checkpoint hook, see qml.train.checkpoint)."""
        return {"numpy": self._rng.bit_generator.state}

    def set_seed_state(self, state: dict) -> None:
        """Continue the seed stream from :meth:`seed_state` (devices already made follow it too)."""
        self._rng.bit_generator.state = state["numpy"]

    def __repr__(self):
        shots = "exact" if self.shots is None else f"shots={self.shots}"
        return f"PennyLaneBackend({self.name!r}, {shots}, diff_method={self.diff_method!r})"


class _Executor:
    def __init__(self, qnode):
        self.qnode = qnode

    def __call__(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        out = self.qnode(inputs, weights.to(inputs.dtype))
        out = torch.stack([torch.as_tensor(o) for o in out], dim=-1) if isinstance(out, (list, tuple)) else out
        if out.ndim == 1:  # a single sample or a single output
            out = out.reshape(inputs.shape[0], -1)
        return out.to(inputs.dtype)


@contextlib.contextmanager
def _default_dtype(dtype):
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


class _DoubleScope(torch.autograd.Function):
    """Run forward and backward under torch's float64 default dtype.

    PennyLane 0.45's torch interface turns the Python floats that lightning.qubit returns into
    tensors of torch's *default* dtype (float32), losing 9 digits of an exact simulator in the
    outputs and in the vector-Jacobian products. Scoping the default dtype around both passes
    keeps them float64.
    """

    @staticmethod
    def forward(ctx, executor, inputs, weights):
        with torch.enable_grad(), _default_dtype(torch.float64):
            x = inputs.detach().requires_grad_(inputs.requires_grad)
            w = weights.detach().requires_grad_(weights.requires_grad)
            out = executor(x, w)
        ctx.graph = (x, w, out)
        return out.detach()

    @staticmethod
    def backward(ctx, grad):
        x, w, out = ctx.graph
        wanted = [t for t in (x, w) if t.requires_grad]
        with _default_dtype(torch.float64):
            grads = iter(torch.autograd.grad(out, wanted, grad, allow_unused=True))
        return None, next(grads) if x.requires_grad else None, next(grads) if w.requires_grad else None


class _DoubleScopeExecutor(_Executor):
    def __call__(self, inputs, weights):
        out = _DoubleScope.apply(super().__call__, inputs.double(), weights.double())
        return out.to(inputs.dtype)
