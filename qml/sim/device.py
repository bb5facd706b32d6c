"""``FastDevice``: a PennyLane device (new device API) simulating tapes in batched torch."""

from __future__ import annotations

from dataclasses import replace

import pennylane as qp
import torch
from pennylane.devices import Device, ExecutionConfig
from pennylane.devices.modifiers import simulator_tracking, single_tape_support
from pennylane.devices.preprocess import decompose, validate_measurements
from pennylane.exceptions import DeviceError, WireError
from pennylane.measurements import ExpectationMP, ProbabilityMP, StateMP, VarianceMP
from pennylane.transforms.core import CompilePipeline, transform

from . import adjoint as A
from . import gates as G
from .engine import Engine
from .measure import Measurer

_NATIVE = set(G.PARAM_1Q) | set(G.CONST_1Q) | G.PERM_GATES | G.DIAG_GATES | set(G.GIVENS) | {"GlobalPhase", "Barrier"}

_C_DTYPES = {torch.complex64: torch.float32, torch.complex128: torch.float64}


def _supported(op) -> bool:
    """Stopping condition of the decomposition: what the engine applies without decomposing."""
    name = op.name
    if name in _NATIVE:
        return True
    if name in G.TEMPLATES:
        return G.template_gates(op) is not None
    if isinstance(op, qp.operation.StatePrepBase):
        return False  # only as first operation (kept by skip_initial_state_prep)
    return op.has_matrix and len(op.wires) <= 3


def _accepted_measurement(mp) -> bool:
    if isinstance(mp, (StateMP, ProbabilityMP)):
        return mp.obs is None
    return isinstance(mp, (ExpectationMP, VarianceMP))


@transform
def _no_shots(tape):
    """Reject finite shots with a message that says what to do."""
    if tape.shots:
        raise DeviceError(
            f"FastDevice computes exact expectation values and does not sample; got shots={tape.shots.total_shots}. "
            "Remove the shots (qp.set_shots(..., shots=None)) or use default.qubit / lightning.qubit for sampling."
        )
    return (tape,), lambda res: res[0]


@simulator_tracking
@single_tape_support
class FastDevice(Device):
    """Exact state-vector simulator in torch, built for broadcast (batched) hybrid layers.

    A broadcast tape (inputs of shape ``(B, F)``) runs as ONE execution on a state of shape
    ``(2**n, B)``; consecutive single-qubit gates are fused, gate runs become one gather or one
    phase vector (see :mod:`qml.sim.engine`).  Gradients, for inputs and weights alike, reach
    torch autograd (``diff_method="backprop"`` for PennyLane) by one of two methods
    (:mod:`qml.sim.adjoint`): backprop through every stored state (fastest), or the adjoint method
    (forward without a graph, backward by uncomputing the circuit: a few states of memory
    whatever the depth).

    Args:
        wires: number of wires or an iterable of wire labels (at most 24 wires).
        c_dtype: complex dtype of the state when parameters are float64 (``torch.complex128``
            or ``torch.complex64``).  Float32 parameters always run in ``complex64``.
        seed: accepted for interface compatibility; the device is exact and never samples.
        shots: must be ``None``; finite shots raise (here and on tapes with shots).
        gradient: ``"auto"`` (default: adjoint when the backprop estimate of an execution exceeds
            ``memory_budget``, backprop otherwise), ``"backprop"`` or ``"adjoint"``.
        memory_budget: bytes the backprop estimate may take under ``gradient="auto"``; ``None``
            (default): half the memory available on the state's device when the circuit runs.

    Attributes:
        last_gradient: the method the latest execution was differentiated with (``"backprop"``,
            ``"adjoint"``, or ``None`` when nothing needed a gradient).

    Raises:
        ValueError: ``wires`` missing or wider than 24 wires, an unknown ``c_dtype``, shots, an
            unknown ``gradient`` or a non-positive ``memory_budget``.

    Example::

        dev = FastDevice(wires=4)
        @qp.qnode(dev, interface="torch", diff_method="backprop")
        def f(x, w):
            qp.AngleEmbedding(x, wires=range(4))
            qp.StronglyEntanglingLayers(w, wires=range(4))
            return [qp.expval(qp.PauliZ(i)) for i in range(4)]
    """

    name = "qml.fast"
    MAX_WIRES = 24

    def __init__(
        self, wires=None, *, c_dtype=torch.complex128, seed=None, shots=None, gradient="auto", memory_budget=None
    ):
        if shots is not None:
            raise ValueError(
                f"FastDevice is exact and does not sample (got shots={shots!r}); drop shots, or use "
                "default.qubit / lightning.qubit for sampled results"
            )
        if wires is None:
            raise ValueError("FastDevice needs wires, e.g. FastDevice(wires=4)")
        if c_dtype not in _C_DTYPES:
            raise ValueError(f"c_dtype must be torch.complex64 or torch.complex128, got {c_dtype!r}")
        super().__init__(wires=wires, shots=None)
        if len(self.wires) > self.MAX_WIRES:
            raise ValueError(f"FastDevice simulates at most {self.MAX_WIRES} wires, got {len(self.wires)}")
        self.c_dtype = c_dtype
        self.seed = seed
        self.gradient = A.check_gradient(gradient)
        self.memory_budget = A.check_budget(memory_budget)
        self.last_gradient = None
        self._pos = {w: i for i, w in enumerate(self.wires)}

    # ---- configuration ---------------------------------------------------------------
    def supports_derivatives(self, execution_config=None, circuit=None) -> bool:
        if execution_config is None:
            return True
        if execution_config.gradient_method not in {"backprop", "best"}:
            return False
        return circuit is None or not circuit.shots

    def setup_execution_config(self, config: ExecutionConfig | None = None, circuit=None) -> ExecutionConfig:
        config = config or ExecutionConfig()
        if config.device_options:
            raise DeviceError(f"FastDevice takes no device options, got {sorted(config.device_options)}")
        updates = {}
        method = config.gradient_method
        if method == "best":
            method = updates["gradient_method"] = "backprop"
        if method == "backprop":
            updates["use_device_gradient"] = False
            updates["use_device_jacobian_product"] = False
            updates["grad_on_execution"] = False
            updates["convert_to_numpy"] = False
        else:
            for key in ("use_device_gradient", "use_device_jacobian_product", "grad_on_execution"):
                if getattr(config, key) is None:
                    updates[key] = False
        return replace(config, **updates)

    def preprocess_transforms(self, execution_config: ExecutionConfig | None = None) -> CompilePipeline:
        program = CompilePipeline()
        program.add_transform(_no_shots)
        # no validate_device_wires: computing tape.wires costs more than the simulation of a
        # small circuit; the engine raises WireError on a wire the device does not have.
        program.add_transform(decompose, stopping_condition=_supported, skip_initial_state_prep=True, name=self.name)
        program.add_transform(validate_measurements, analytic_measurements=_accepted_measurement, name=self.name)
        return program

    # ---- execution -------------------------------------------------------------------
    def execute(self, circuits, execution_config: ExecutionConfig | None = None):
        interface = getattr(getattr(execution_config, "interface", None), "value", None)
        return tuple(self.simulate(tape, torch_out=interface == "torch") for tape in circuits)

    def simulate(self, tape, torch_out: bool = False):
        """Run one tape; return its result (a tuple when it has several measurements).

        Results are torch tensors when the tape has torch parameters or ``torch_out`` is set
        (the torch interface), numpy arrays otherwise.
        """
        if tape.shots:
            _no_shots(tape)
        # parameters of the operations only: a Hamiltonian's data (hundreds of coefficients) is slow
        # to collect and does not decide the dtype
        tensors = [d for op in tape.operations for d in op.data if isinstance(d, torch.Tensor)]
        device = tensors[0].device if tensors else torch.device("cpu")
        floats = [p.dtype for p in tensors if p.is_floating_point()]
        if floats and all(d == torch.float32 for d in floats):
            cdtype = torch.complex64
        else:
            cdtype = self.c_dtype
        rdtype = _C_DTYPES[cdtype]
        batch = tape.batch_size
        n = len(self.wires)
        eng = Engine(n, self._pos, batch or 1, rdtype, cdtype, device)
        try:
            for i, op in enumerate(tape.operations):
                eng.apply_op(op, first=(i == 0))
            steps = eng.finish()
            needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)
            nbytes = A.state_bytes(n, batch or 1, cdtype)
            mode = A.choose(self.gradient, needs_grad, len(steps), nbytes, device, self.memory_budget)
            if mode == "adjoint":
                _check_unitary(eng.unitary_checks)
            self.last_gradient = mode
            psi = A.run(steps, mode)
            results = Measurer(psi, n, self._pos, rdtype, cdtype).measure(tape.measurements)
        except KeyError as exc:
            missing = [w for w in tape.wires if w not in self._pos]
            if not missing:
                raise
            raise WireError(
                f"the circuit uses wires {missing} that FastDevice(wires={list(self.wires)}) does not have; "
                "create the device with all the wires the circuit uses"
            ) from exc
        if batch is not None and psi.shape[1] != batch:  # no batched parameter reached the state
            results = [r.expand(batch, *r.shape[1:]) for r in results]
        if batch is None:
            results = [r[0] if r.ndim == 1 else r.reshape(r.shape[1:]) for r in results]
        if not tensors and not torch_out:
            results = [r.detach().cpu().numpy() for r in results]
        return tuple(results) if len(results) > 1 else results[0]


def _check_unitary(mats) -> None:
    """The adjoint method inverts every gate by its conjugate transpose: refuse non-unitary ones."""
    for m in mats:
        m = m.detach()
        if m.device.type == "meta":  # no values to check (torch's data-less device, used in tests)
            continue
        eye = torch.eye(m.shape[-1], dtype=m.dtype, device=m.device)
        if not torch.allclose(m.conj().transpose(-1, -2) @ m, eye.expand_as(m), atol=1e-6):
            raise DeviceError(
                "gradient='adjoint' needs unitary gates, and the circuit has a non-unitary matrix; "
                "use FastDevice(..., gradient='backprop')"
            )
