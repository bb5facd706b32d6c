"""QuantumLayer: a parameterized circuit as a ``torch.nn.Module``."""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from . import backends as _backends
from .circuits import make_spec
from .circuits.spec import CircuitSpec
from .errors import ConfigurationError
from .inputs import check_inputs as check_inputs


class QuantumLayer(nn.Module):
    """Run ``embedding(inputs) -> ansatz(weights) -> measurements`` as a torch layer.

    The layer asks its backend for the ``"expval"`` capability (:mod:`qml.backends`); a batch of
    shape ``(B, F)`` runs as one broadcast execution where the backend supports it, one circuit
    per sample otherwise.

    Args:
        n_qubits: number of wires.
        n_inputs: features per sample ``F`` (default: what the embedding takes on ``n_qubits``).
        embedding: ``"angle"``, ``"amplitude"``, ``"iqp"`` or ``"reupload"``.
        ansatz: ``"hardware_efficient"``, ``"strongly_entangling"`` or ``"basic_entangler"``.
        layers: number of ansatz layers.
        observables: ``None`` (Pauli-Z on each wire) or a list of PennyLane observables.
        circuit: instead of catalog names, a top-level function ``circuit(inputs, weights)``
            that applies gates and returns a list of ``qp.expval(...)``; needs ``weight_shape``
            and ``n_inputs``.
        weight_shape: shape of the weights of a custom ``circuit``.
        backend: a backend string (see ``qml.backends.BACKENDS``), default ``"auto"``, or a backend
            object from ``qml.backends.resolve``; resolved here, held as :attr:`backend`.
        shots: ``None`` (exact) or a positive number of shots.
        seed: seed of the shot sampler.
        init_scale: weights start uniform in ``[-init_scale * pi, init_scale * pi]``.
        backend_options: options of the backend (``ibm:``: resilience level, mode, ...).

    Shapes:
        input ``(B, F)`` or ``(F,)``; output ``(B, n_outputs)`` or ``(n_outputs,)``.

    Raises:
        ConfigurationError: unknown embedding/ansatz/backend, bad sizes or shots (at construction).
        DataError: inputs of the wrong feature count or with NaN/inf (at call time).
    """

    def __init__(
        self,
        n_qubits: int,
        *,
        n_inputs: int | None = None,
        embedding: str = "angle",
        ansatz: str = "strongly_entangling",
        layers: int = 2,
        observables=None,
        circuit: Callable | None = None,
        weight_shape=None,
        backend="auto",
        shots: int | None = None,
        seed: int | None = None,
        init_scale: float = 0.1,
        backend_options: dict | None = None,
    ):
        super().__init__()
        self.spec: CircuitSpec = make_spec(
            n_qubits=n_qubits,
            n_inputs=n_inputs,
            embedding=embedding,
            ansatz=ansatz,
            layers=layers,
            observables=observables,
            circuit=circuit,
            weight_shape=weight_shape,
        )
        if isinstance(init_scale, bool) or not isinstance(init_scale, (int, float)):
            raise TypeError(f"init_scale must be a number (e.g. 0.1), got {init_scale!r}")
        if not (math.isfinite(init_scale) and init_scale >= 0):
            raise ConfigurationError(f"init_scale must be a finite number >= 0 (e.g. 0.1), got {init_scale!r}")
        # Resolved here, once (unknown names, width, shots, capability raise now, not at the first batch).
        self._backend = _backends.at_door(
            backend, "expval", n_qubits=self.spec.n_qubits, shots=shots, seed=seed, options=backend_options
        )
        self._executor = None
        self.weights = nn.Parameter(torch.empty(self.spec.weight_shape, dtype=torch.float64))
        self.init_scale = float(init_scale)
        self.reset_parameters()

    # -- construction -----------------------------------------------------------------
    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.weights.uniform_(-math.pi * self.init_scale, math.pi * self.init_scale)

    @property
    def n_inputs(self) -> int:
        return self.spec.n_inputs

    @property
    def n_outputs(self) -> int:
        return self.spec.n_outputs

    @property
    def backend(self):
        """The resolved backend (``layer.backend.chosen`` names what runs; ``auto``'s decision is
        ``layer.backend.decision``)."""
        return self._backend

    def executor(self):
        """``run(inputs (B, F), weights) -> (B, n_outputs)`` from the backend, built once."""
        if self._executor is None:
            self._executor = self._backend.make_executor(self.spec)
        return self._executor

    def replace_spec(self, **changes) -> None:
        """Change fields of the circuit spec (e.g. ``drop_tol``); the executor is rebuilt on the next call."""
        import dataclasses

        self.spec = dataclasses.replace(self.spec, **changes)
        self._executor = None

    # -- forward ----------------------------------------------------------------------
    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        inputs = check_inputs(inputs, self.spec.n_inputs, where="QuantumLayer")
        single = inputs.ndim == 1
        x = inputs.unsqueeze(0) if single else inputs
        out = self.executor()(x, self.weights)
        return out[0] if single else out

    # -- pickling: executors hold devices and QNodes, rebuilt on demand; the backend pickles as its recipe --
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_executor"] = None
        return state

    # -- inspection -------------------------------------------------------------------
    def specs(self) -> dict:
        """Gate count, depth and two-qubit gate count of the circuit (after template decomposition)."""
        return circuit_resources(self.spec, self.weights.detach())

    def draw(self, style: str = "text", inputs=None):
        """Draw the circuit, templates expanded to gates: a string (``style="text"``) or a matplotlib
        Figure (``style="mpl"``). Without ``inputs`` the data angles are placeholders (0.3 ... 0.7)."""
        return draw_spec(self.spec, self.weights.detach(), style=style, inputs=inputs)

    def extra_repr(self) -> str:
        if "spec" not in self.__dict__ or "_backend" not in self.__dict__:  # __init__ raised part-way
            return "not fully built"
        s = self.spec
        name = "custom circuit" if s.circuit is not None else f"{s.embedding} -> {s.ansatz} x{s.layers}"
        backend = _backends.summary(self._backend)
        return (
            f"{name}, n_qubits={s.n_qubits}, n_inputs={s.n_inputs}, n_outputs={self.n_outputs}, "
            f"weights={tuple(s.weight_shape)}, backend={backend}"
        )


def circuit_resources(spec: CircuitSpec, weights) -> dict:
    """Count gates, two-qubit gates and depth of the circuit, templates expanded one level."""
    import pennylane as qp

    # Generic non-zero inputs: data-dependent rotations count even where a zero input would drop them.
    x = torch.linspace(0.3, 0.7, spec.n_inputs, dtype=torch.float64)
    tape = qp.tape.make_qscript(spec.qfunc)(x, weights)
    [tape], _ = qp.transforms.decompose(
        tape, stopping_condition=lambda op: len(op.wires) <= 2 or not op.has_decomposition
    )
    ops = tape.operations
    return {
        "gates": len(ops),
        "two_qubit_gates": sum(1 for op in ops if len(op.wires) == 2),
        "depth": tape.graph.get_depth(),
        "parameters": int(weights.numel()),
    }


def draw_spec(spec: CircuitSpec, weights, *, style: str = "text", inputs=None):
    import pennylane as qp

    if style not in ("text", "mpl"):
        raise ValueError(f"style must be 'text' or 'mpl', got {style!r}")
    # Placeholder inputs when none are given: non-zero, so an amplitude embedding can normalise them.
    x = torch.linspace(0.3, 0.7, spec.n_inputs, dtype=torch.float64) if inputs is None else torch.as_tensor(inputs)
    qnode = qp.QNode(spec.qfunc, _backends.drawing_device(spec.n_qubits))
    if style == "text":
        return qp.draw(qnode, decimals=2, level="device")(x, weights)
    fig, _ = qp.draw_mpl(qnode, decimals=2, level="device")(x, weights)
    return fig
