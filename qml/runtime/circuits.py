"""PennyLane circuit -> parameterized Qiskit circuit -> device ISA circuit, cached per structure.

Every rotation angle of the decomposed tape becomes its own Qiskit ``Parameter``
(``θ[k]``); the angles themselves stay torch functions of the inputs and
weights, so torch's autograd applies the chain rule from the per-gate
parameter-shift derivatives to inputs and weights (nonlinear embeddings such
as IQP or amplitude embedding included).  The transpiled circuit depends only
on the gate sequence, so it is built once per structure and device.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pennylane as qp
import torch

from ..errors import BackendError, ConfigurationError

#: Gates the tape is decomposed to; each maps to a Qiskit gate (GlobalPhase is dropped: it
#: cannot change an expectation value).
ROTATIONS = {"RX": "rx", "RY": "ry", "RZ": "rz"}
FIXED = {
    "CNOT": "cx", "CZ": "cz", "SWAP": "swap", "Hadamard": "h", "PauliX": "x", "PauliY": "y",
    "PauliZ": "z", "S": "s", "T": "t", "SX": "sx", "Adjoint(S)": "sdg", "Adjoint(T)": "tdg",
    "Adjoint(SX)": "sxdg", "Identity": None, "GlobalPhase": None,
}
GATE_SET = frozenset(ROTATIONS) | frozenset(FIXED)


@dataclass
class TracedCircuit:
    """One traced batch: the gate structure and the angle of every rotation per sample.

    Attributes:
        key: hashable gate structure (names and wires), the transpile cache key.
        angles: torch tensor of shape ``(B, P)``, one column per rotation, connected to the
            autograd graph of inputs and weights.
        observables: tuple of Qiskit ``SparsePauliOp`` on ``n_qubits`` qubits (virtual layout).
    """

    key: tuple
    ops: list
    angles: torch.Tensor
    observables: tuple
    n_qubits: int
    grad_mask: tuple = ()

    @property
    def grad_cols(self) -> list[int]:
        """Angle columns connected to an input or weight that requires a gradient."""
        return [k for k, g in enumerate(self.grad_mask) if g]


def trace(spec, inputs: torch.Tensor, weights: torch.Tensor) -> TracedCircuit:
    """Trace ``spec`` on a batch and decompose it to :data:`GATE_SET`.

    Args:
        spec: a :class:`~qml.circuits.CircuitSpec`.
        inputs: shape ``(B, F)``.
        weights: shape ``spec.weight_shape``.

    Raises:
        ConfigurationError: the circuit measures something other than expectation values of
            Pauli observables, or contains a gate that cannot be decomposed to the gate set.
    """
    batch = inputs.shape[0]
    tape = qp.tape.make_qscript(spec.qfunc)(inputs, weights)
    try:
        (tape,), _ = qp.transforms.decompose(tape, gate_set=set(GATE_SET))
    except Exception as exc:  # noqa: BLE001 - re-raised with what to do
        raise ConfigurationError(
            f"the circuit could not be decomposed to the gate set {sorted(GATE_SET)} for IBM hardware: {exc}"
        ) from exc
    wire_index = {w: i for i, w in enumerate(spec.wires)}
    for w in tape.wires:
        if w not in wire_index:
            raise ConfigurationError(f"the circuit uses wire {w!r}, outside the spec's wires {spec.wires}")
    ops, cols, key, mask = [], [], [], []
    for op in tape.operations:
        if op.name not in GATE_SET:
            raise ConfigurationError(
                f"gate {op.name} is not supported on IBM backends; use gates that decompose to {sorted(GATE_SET)}"
            )
        wires = tuple(wire_index[w] for w in op.wires)
        if FIXED.get(op.name, "") is None:
            continue
        ops.append((op.name, wires))
        key.append((op.name, wires))
        if op.name in ROTATIONS:
            angle = op.data[0]
            angle = angle if isinstance(angle, torch.Tensor) else torch.as_tensor(angle, dtype=torch.float64)
            mask.append(bool(angle.requires_grad))
            cols.append(angle.to(torch.float64).reshape(-1).expand(batch) if angle.numel() == 1
                        else angle.to(torch.float64).reshape(batch))
    angles = torch.stack(cols, dim=1) if cols else torch.zeros(batch, 0, dtype=torch.float64)
    observables = tuple(pauli_op(m, spec.n_qubits, wire_index) for m in tape.measurements)
    key.append(("obs", spec.n_qubits, tuple(_obs_key(o) for o in observables)))
    return TracedCircuit(tuple(key), ops, angles, observables, spec.n_qubits, tuple(mask))


def pauli_op(measurement, n_qubits: int, wire_index: dict):
    """A PennyLane ``expval(obs)`` as a Qiskit ``SparsePauliOp`` (qubit ``i`` = wire ``i``).

    Raises:
        ConfigurationError: not an expectation value, or an observable without a Pauli form.
    """
    from qiskit.quantum_info import SparsePauliOp

    if not isinstance(measurement, qp.measurements.ExpectationMP) or measurement.obs is None:
        raise ConfigurationError(
            f"IBM backends measure expectation values only; got {measurement}. Return qp.expval(obs) values."
        )
    obs = measurement.obs
    sentence = obs.pauli_rep
    if sentence is None:
        try:
            sentence = qp.pauli_decompose(qp.matrix(obs, wire_order=obs.wires), wire_order=obs.wires,
                                          pauli=True)
        except Exception as exc:  # noqa: BLE001
            raise ConfigurationError(f"observable {obs} has no Pauli decomposition: {exc}") from exc
    terms = []
    for word, coeff in sentence.items():
        if abs(np.imag(coeff)) > 1e-12:
            raise ConfigurationError(f"observable {obs} is not Hermitian (complex coefficient {coeff})")
        labels = "".join(word[w] for w in word)
        idx = [wire_index[w] for w in word]
        terms.append((labels, idx, float(np.real(coeff))))
    if not terms:
        terms = [("", [], 0.0)]
    return SparsePauliOp.from_sparse_list(terms, num_qubits=n_qubits).simplify()


def _obs_key(op) -> tuple:
    return tuple(zip(op.paulis.to_labels(), np.round(op.coeffs.real, 12).tolist()))


@dataclass
class CompiledCircuit:
    """A circuit transpiled to a device's ISA with its observables mapped to the physical layout.

    Attributes:
        isa: the transpiled ``QuantumCircuit`` with parameters ``θ[k]``.
        observables: ISA observables, one ``SparsePauliOp`` per output.
        columns: which angle columns feed ``isa.parameters``, in the estimator's binding order
            (a rotation the transpiler removed has no column and a zero derivative).
        n_params: number of angle columns of the traced circuit.
        depth, n_two_qubit: depth and two-qubit gate count of the ISA circuit (for estimates).
    """

    isa: object
    observables: tuple
    columns: np.ndarray
    n_params: int
    depth: int
    n_two_qubit: int


def to_qiskit(traced: TracedCircuit):
    """The traced gate sequence as a ``QuantumCircuit`` with one ``Parameter`` per rotation."""
    from qiskit.circuit import ParameterVector, QuantumCircuit

    qc = QuantumCircuit(traced.n_qubits)
    theta = ParameterVector("θ", traced.angles.shape[1])
    k = 0
    for name, wires in traced.ops:
        if name in ROTATIONS:
            getattr(qc, ROTATIONS[name])(theta[k], *wires)
            k += 1
        else:
            getattr(qc, FIXED[name])(*wires)
    return qc


_CACHE: dict[tuple, CompiledCircuit] = {}
_LOCK = threading.Lock()


def compile_circuit(traced: TracedCircuit, device, *, optimization_level: int = 1, seed: int | None = None):
    """Transpile once per (structure, device, level); later calls hit the cache.

    Args:
        traced: from :func:`trace`.
        device: a Qiskit ``BackendV2`` (real or fake) with a ``target``.
        optimization_level: preset pass-manager level 0-3.
        seed: transpiler seed (layout/routing are then reproducible).

    Raises:
        BackendError: the circuit is wider than the device.
    """
    from qiskit.transpiler import generate_preset_pass_manager

    name = getattr(device, "name", type(device).__name__)
    key = (traced.key, name, optimization_level, seed)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    if traced.n_qubits > device.num_qubits:
        raise BackendError(
            f"the circuit needs {traced.n_qubits} qubits but {name} has {device.num_qubits}; "
            "use fewer qubits or a larger device"
        )
    qc = to_qiskit(traced)
    pm = generate_preset_pass_manager(optimization_level=optimization_level, backend=device, seed_transpiler=seed)
    isa = pm.run(qc)
    obs = tuple(o.apply_layout(isa.layout) for o in traced.observables)
    columns = np.array([p.index for p in isa.parameters], dtype=int)
    ops = isa.count_ops()
    n2 = sum(n for g, n in ops.items() if g in ("cx", "cz", "ecr", "swap", "rzz"))
    compiled = CompiledCircuit(isa, obs, columns, traced.angles.shape[1], isa.depth(), n2)
    with _LOCK:
        _CACHE[key] = compiled
    return compiled


def clear_cache() -> None:
    """Forget every transpiled circuit (tests; a device whose calibration changed)."""
    with _LOCK:
        _CACHE.clear()
