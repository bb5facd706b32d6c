"""ISA circuits whose layout is chosen from the device's reported error rates.

Qiskit's preset pass managers pick a layout with VF2Layout (scored by the target's error rates)
only when the circuit's interaction graph fits the coupling map as it is; otherwise SabreLayout
routes it with swaps, blind to error rates, from a seed. :func:`best_isa` transpiles with
:data:`CANDIDATES` transpiler seeds and keeps the ISA circuit with the lowest *estimated error*
(:func:`circuit_error`: ``1 - prod(1 - e)`` over every gate's and every measured qubit's reported
error in ``device.target``), then fewer two-qubit gates, then lower depth; one candidate when the
target reports no error rates. The ISA circuit, its two-qubit gate count and depth are what the
pre-flight estimate reports (:func:`qml.runtime.layout.isa_summary`). ``compile_circuit`` of
:mod:`qml.backends.qiskit_circuits` calls :func:`best_isa`.
"""

from __future__ import annotations

#: Transpiler seeds tried per circuit (``seed``, ``seed + 1``, ...; ``seed`` None counts from 0).
CANDIDATES = 4

#: ISA gates counted as two-qubit gates.
TWO_QUBIT = ("cx", "cz", "ecr", "swap", "rzz")


def _error(target, name: str, qargs: tuple) -> float:
    if target is None or name not in target.operation_names:
        return 0.0
    props = target[name].get(qargs) if target[name] is not None else None
    err = getattr(props, "error", None)
    return float(err) if err is not None else 0.0


def active_qubits(isa) -> list[int]:
    """Physical qubits the circuit acts on (gates or the layout of its virtual qubits), sorted."""
    used = {isa.find_bit(q).index for inst in isa.data for q in inst.qubits if inst.operation.name != "barrier"}
    layout = getattr(isa, "layout", None)
    if layout is not None:
        used |= set(layout.final_index_layout())
    return sorted(used)


def circuit_error(isa, target) -> float:
    """Estimated probability that ``isa`` suffers at least one error: ``1 - prod(1 - e)`` over its gates
    and the readout of its active qubits, from ``target``'s reported error rates (0 where none)."""
    keep = 1.0
    for inst in isa.data:
        name = inst.operation.name
        if name in ("barrier", "delay"):
            continue
        keep *= 1.0 - _error(target, name, tuple(isa.find_bit(q).index for q in inst.qubits))
    for q in active_qubits(isa):
        keep *= 1.0 - _error(target, "measure", (q,))
    return 1.0 - keep


def reports_errors(target) -> bool:
    """Whether ``target`` reports any gate error rate."""
    if target is None:
        return False
    for name in target.operation_names:
        for props in (target[name] or {}).values():
            if getattr(props, "error", None):
                return True
    return False


def two_qubit_count(isa) -> int:
    return int(sum(n for g, n in isa.count_ops().items() if g in TWO_QUBIT))


def best_isa(qc, device, *, optimization_level: int = 1, seed: int | None = None, candidates: int = CANDIDATES):
    """The ISA circuit of ``qc`` for ``device`` with the lowest estimated error among ``candidates`` seeds.

    Args:
        qc: the logical ``QuantumCircuit``.
        device: a Qiskit ``BackendV2`` with a ``target``.
        optimization_level: preset pass-manager level 0-3.
        seed: first transpiler seed (``None``: 0, so results are reproducible).
        candidates: seeds to try (1 when the target reports no error rates).

    Returns:
        ``(isa, info)``: the chosen circuit and ``{"seed", "estimated_error", "two_qubit_gates", "depth",
        "candidates"}`` (``candidates``: ``(seed, estimated error, two-qubit gates, depth)`` per seed tried).
    """
    from qiskit.transpiler import generate_preset_pass_manager

    target = getattr(device, "target", None)
    first = 0 if seed is None else int(seed)
    n = candidates if reports_errors(target) else 1
    tried = []
    best = None
    for s in range(first, first + n):
        pm = generate_preset_pass_manager(optimization_level=optimization_level, backend=device, seed_transpiler=s)
        isa = pm.run(qc)
        score = (circuit_error(isa, target), two_qubit_count(isa), isa.depth())
        tried.append((s, *score))
        if best is None or score < best[0]:
            best = (score, s, isa)
    (err, n2, depth), s, isa = best
    return isa, {"seed": s, "estimated_error": err, "two_qubit_gates": n2, "depth": depth, "candidates": tried}
