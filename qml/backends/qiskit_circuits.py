"""PennyLane circuit -> parameterized Qiskit circuit -> device ISA circuit, cached per structure.

Shared by every Qiskit Estimator backend (``aer``, ``aer:<FakeDevice>``, ``ibm:<device>``).

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

from .._cache import register
from ..errors import BackendError, ConfigurationError

#: Gates the tape is decomposed to; each maps to a Qiskit gate (GlobalPhase is dropped: it
#: cannot change an expectation value).
ROTATIONS = {"RX": "rx", "RY": "ry", "RZ": "rz"}
FIXED = {
    "CNOT": "cx",
    "CZ": "cz",
    "SWAP": "swap",
    "Hadamard": "h",
    "PauliX": "x",
    "PauliY": "y",
    "PauliZ": "z",
    "S": "s",
    "T": "t",
    "SX": "sx",
    "Adjoint(S)": "sdg",
    "Adjoint(T)": "tdg",
    "Adjoint(SX)": "sxdg",
    "Identity": None,
    "GlobalPhase": None,
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
    tape = qp.tape.make_qscript(spec.qfunc)(inputs, weights)
    return from_tape(tape, inputs.shape[0], spec.wires, spec.n_qubits)


#: Chemistry ansatzes whose ``ansatz(params)`` accepts a leading batch dimension.
BATCHED_ANSATZES = frozenset({"uccsd"})


def trace_ansatz(ansatz, params: torch.Tensor, n_qubits: int) -> TracedCircuit:
    """Trace a chemistry ansatz (``ansatz(params)`` applies PennyLane gates, no measurement) on a batch.

    Ansatzes that broadcast (``uccsd``) are traced once; others once per sample, and every sample
    must give the same gate sequence (it does for every ansatz of :mod:`qml.chem.ansatz`).

    Args:
        ansatz: a :class:`~qml.chem.ChemAnsatz` or any callable ``ansatz(params)`` on wires ``0..n-1``.
        params: shape ``(B, P)``; reshaped per sample to ``ansatz.weight_shape`` when it has one.
        n_qubits: circuit width.

    Returns:
        A :class:`TracedCircuit` without observables; ``angles`` ``(B, n_angles)`` stay torch functions
        of ``params``.

    Raises:
        ConfigurationError: a gate outside the gate set, or samples that decompose differently.
    """
    batch = params.shape[0]
    wires = tuple(range(n_qubits))
    shape = tuple(getattr(ansatz, "weight_shape", params.shape[1:]))
    if getattr(ansatz, "name", None) in BATCHED_ANSATZES:
        tape = qp.tape.make_qscript(ansatz)(params.reshape(batch, *shape))
        return from_tape(tape, batch, wires, n_qubits)
    parts = [
        from_tape(qp.tape.make_qscript(ansatz)(params[b].reshape(shape)), 1, wires, n_qubits) for b in range(batch)
    ]
    for part in parts[1:]:
        if part.key != parts[0].key:
            raise ConfigurationError(
                f"the ansatz {getattr(ansatz, 'name', ansatz)!r} decomposes to different gate sequences for "
                "different parameter values; the Estimator backends need one circuit for the whole batch"
            )
    first = parts[0]
    mask = tuple(any(p.grad_mask[k] for p in parts) for k in range(len(first.grad_mask)))
    return TracedCircuit(first.key, first.ops, torch.cat([p.angles for p in parts]), (), n_qubits, mask)


def from_tape(tape, batch: int, wires, n_qubits: int) -> TracedCircuit:
    """Decompose a tape to :data:`GATE_SET` and collect its structure and per-sample angles.

    Args:
        tape: a PennyLane tape, possibly broadcast over ``batch`` samples.
        batch: number of samples ``B``.
        wires: the circuit's wires; wire ``wires[i]`` becomes Qiskit qubit ``i``.
        n_qubits: circuit width.

    Raises:
        ConfigurationError: see :func:`trace`.
    """
    try:
        (tape,), _ = qp.transforms.decompose(tape, gate_set=set(GATE_SET))
    except Exception as exc:  # noqa: BLE001 - re-raised with what to do
        raise ConfigurationError(
            f"the circuit could not be decomposed to the gate set {sorted(GATE_SET)} of the Qiskit backends: {exc}"
        ) from exc
    wire_index = {w: i for i, w in enumerate(wires)}
    for w in tape.wires:
        if w not in wire_index:
            raise ConfigurationError(f"the circuit uses wire {w!r}, outside its wires {tuple(wires)}")
    ops, cols, key, mask = [], [], [], []
    for op in tape.operations:
        if op.name not in GATE_SET:
            raise ConfigurationError(
                f"gate {op.name} is not supported on Qiskit backends; use gates that decompose to {sorted(GATE_SET)}"
            )
        op_wires = tuple(wire_index[w] for w in op.wires)
        if FIXED.get(op.name, "") is None:
            continue
        ops.append((op.name, op_wires))
        key.append((op.name, op_wires))
        if op.name in ROTATIONS:
            angle = op.data[0]
            angle = angle if isinstance(angle, torch.Tensor) else torch.as_tensor(angle, dtype=torch.float64)
            mask.append(bool(angle.requires_grad))
            cols.append(
                angle.to(torch.float64).reshape(-1).expand(batch)
                if angle.numel() == 1
                else angle.to(torch.float64).reshape(batch)
            )
    angles = torch.stack(cols, dim=1) if cols else torch.zeros(batch, 0, dtype=torch.float64)
    observables = tuple(pauli_op(m, n_qubits, wire_index) for m in tape.measurements)
    key.append(("obs", n_qubits, tuple(_obs_key(o) for o in observables)))
    return TracedCircuit(tuple(key), ops, angles, observables, n_qubits, tuple(mask))


def sparse_pauli(operator, n_qubits: int):
    """A PennyLane operator (a Hamiltonian ``Sum`` on wires ``0..n-1``) as a Qiskit ``SparsePauliOp``.

    Wire ``i`` becomes qubit ``i``; Qiskit's labels are little-endian, so the PennyLane term
    ``Z(0) @ X(2)`` on 3 wires is the label ``"XIZ"``.

    Raises:
        ConfigurationError: an operator with no Pauli form, a complex coefficient, or a wire
            outside ``0..n_qubits-1``.
    """
    return pauli_op(qp.expval(operator), n_qubits, {i: i for i in range(n_qubits)})


def hamiltonian_op(entry, n_qubits: int):
    """The ``SparsePauliOp`` of a Hamiltonian, kept in ``entry.cache["qiskit"]`` when the entry has a cache.

    Args:
        entry: a ``HamiltonianEntry`` (``.operator``, ``.cache``) or a PennyLane operator.
        n_qubits: circuit width.

    Raises:
        TypeError: neither a HamiltonianEntry nor a PennyLane operator.
        ConfigurationError: see :func:`sparse_pauli`.
    """
    cache = getattr(entry, "cache", None)
    if isinstance(cache, dict) and cache.get("qiskit") is not None and cache["qiskit"].num_qubits == n_qubits:
        return cache["qiskit"]
    operator = getattr(entry, "operator", entry)
    if not isinstance(operator, qp.operation.Operator):
        raise TypeError(f"a Hamiltonian must be a HamiltonianEntry or a PennyLane operator, got {type(entry).__name__}")
    op = sparse_pauli(operator, n_qubits)
    if isinstance(cache, dict):
        cache["qiskit"] = op
    return op


def pauli_op(measurement, n_qubits: int, wire_index: dict):
    """A PennyLane ``expval(obs)`` as a Qiskit ``SparsePauliOp`` (qubit ``i`` = wire ``i``).

    Raises:
        ConfigurationError: not an expectation value, or an observable without a Pauli form.
    """
    from qiskit.quantum_info import SparsePauliOp

    if not isinstance(measurement, qp.measurements.ExpectationMP) or measurement.obs is None:
        raise ConfigurationError(
            f"Qiskit backends measure expectation values only; got {measurement}. Return qp.expval(obs) values."
        )
    obs = measurement.obs
    sentence = obs.pauli_rep
    if sentence is None:
        try:
            sentence = qp.pauli_decompose(qp.matrix(obs, wire_order=obs.wires), wire_order=obs.wires, pauli=True)
        except Exception as exc:  # noqa: BLE001
            raise ConfigurationError(f"observable {obs} has no Pauli decomposition: {exc}") from exc
    terms = []
    for word, coeff in sentence.items():
        if abs(np.imag(coeff)) > 1e-12:
            raise ConfigurationError(f"observable {obs} is not Hermitian (complex coefficient {coeff})")
        labels = "".join(word[w] for w in word)
        unknown = [w for w in word if w not in wire_index]
        if unknown:
            raise ConfigurationError(
                f"observable {obs} acts on wire(s) {unknown} outside the circuit's {n_qubits} wires {tuple(wire_index)}"
            )
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
        layout: the transpiler's layout (``None`` when the circuit was not transpiled).
    """

    isa: object
    observables: tuple
    columns: np.ndarray
    n_params: int
    depth: int
    n_two_qubit: int
    layout: object = None

    def map(self, op):
        """An observable on the circuit's virtual qubits mapped to the ISA circuit's physical qubits."""
        return op if self.layout is None else op.apply_layout(self.layout)


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


_CACHE: dict[tuple, CompiledCircuit] = register("qml.backends.qiskit_circuits.compiled", {})
_LOCK = threading.Lock()


def compile_circuit(
    traced: TracedCircuit, device, *, optimization_level: int = 1, seed: int | None = None, shift_rule: bool = True
):
    """Transpile once per (structure, device, level); later calls hit the cache.

    Args:
        traced: from :func:`trace`.
        device: a Qiskit ``BackendV2`` (real or fake) with a ``target``, or ``None`` for an ideal
            simulator that runs the gate set as it is (no transpilation, no layout).
        optimization_level: preset pass-manager level 0-3.
        seed: first transpiler seed; :data:`qml.backends.layout.CANDIDATES` seeds from it (from 0 when
            ``None``) are tried and the ISA circuit with the lowest error estimated from the device's
            reported error rates is kept (:func:`qml.backends.layout.best_isa`), so layouts are reproducible.
        shift_rule: check that every angle keeps a valid parameter-shift rule (:func:`check_shift_rule`).

    Raises:
        BackendError: the circuit is wider than the device, cannot be transpiled for it, or the
            transpiled angles break the parameter-shift rule.
    """
    name = None if device is None else getattr(device, "name", type(device).__name__)
    key = (traced.key, name, optimization_level, seed, shift_rule)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    if device is None:
        qc = to_qiskit(traced)
        ops = qc.count_ops()
        n2 = sum(n for g, n in ops.items() if g in ("cx", "cz", "swap"))
        compiled = CompiledCircuit(
            qc,
            traced.observables,
            np.array([p.index for p in qc.parameters], dtype=int),
            traced.angles.shape[1],
            qc.depth(),
            n2,
        )
        with _LOCK:
            _CACHE[key] = compiled
        return compiled
    if traced.n_qubits > device.num_qubits:
        raise BackendError(
            f"the circuit needs {traced.n_qubits} qubits but {name} has {device.num_qubits}; "
            "use fewer qubits or a larger device"
        )
    qc = to_qiskit(traced)
    from .layout import best_isa  # the layout with the lowest error from the target's reported rates

    try:
        isa, _ = best_isa(qc, device, optimization_level=optimization_level, seed=seed)
    except Exception as exc:  # noqa: BLE001 - a transpiler failure, said in our words
        raise BackendError(
            f"the circuit ({traced.n_qubits} qubits, {len(traced.ops)} gates) could not be transpiled for {name}: "
            f"{type(exc).__name__}: {str(exc)[:300]}; try another device or optimization_level"
        ) from None
    if shift_rule:
        check_shift_rule(isa, name)
    obs = tuple(o.apply_layout(isa.layout) for o in traced.observables)
    columns = np.array([p.index for p in isa.parameters], dtype=int)
    ops = isa.count_ops()
    n2 = sum(n for g, n in ops.items() if g in ("cx", "cz", "ecr", "swap", "rzz"))
    compiled = CompiledCircuit(isa, obs, columns, traced.angles.shape[1], isa.depth(), n2, isa.layout)
    with _LOCK:
        _CACHE[key] = compiled
    return compiled


#: Gates whose angle enters as exp(-i angle G) with G of two eigenvalues 1/2 apart (up to a phase):
#: the two-term shift rule (shift pi/2, factor 1/2) holds for them.
SHIFT_RULE_GATES = frozenset({"rx", "ry", "rz", "p", "u", "u1", "u2", "u3", "rzz", "rxx", "ryy", "rzx", "cp"})


def check_shift_rule(isa, device_name) -> None:
    """Check that every angle column ``θ[k]`` of a transpiled circuit enters a gate of
    :data:`SHIFT_RULE_GATES` with coefficient +-1 (merged rotations ``rz(θ[i] + θ[j] + c)`` are fine),
    so that the parameter-shift rows of :mod:`qml.backends.packing` give exact derivatives.

    Raises:
        BackendError: the transpiler produced another dependence (say so, with what to do).
    """
    for instruction in isa.data:
        for param in instruction.operation.params:
            symbols = getattr(param, "parameters", ())
            if not symbols:
                continue
            name = instruction.operation.name
            bad = name not in SHIFT_RULE_GATES
            for symbol in symbols:
                if bad:
                    break
                slope = param.gradient(symbol)
                bad = bool(getattr(slope, "parameters", ())) or abs(abs(complex(slope)) - 1.0) > 1e-12
            if bad:
                raise BackendError(
                    f"transpiling for {device_name} turned the rotation angles into {name}({param}), where the "
                    "parameter-shift rule does not hold; use optimization_level=1 or gradient='spsa'"
                )


def clear_cache() -> None:
    """Forget every transpiled circuit (tests; a device whose calibration changed)."""
    with _LOCK:
        _CACHE.clear()
