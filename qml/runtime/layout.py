"""What the pre-flight estimate reports about a circuit after transpilation for a device.

The error-aware layout itself lives in :mod:`qml.backends.layout` (the compiler calls it); its names
are re-exported here.
"""

from __future__ import annotations

from ..backends.layout import CANDIDATES as CANDIDATES
from ..backends.layout import TWO_QUBIT as TWO_QUBIT
from ..backends.layout import active_qubits as active_qubits
from ..backends.layout import best_isa as best_isa
from ..backends.layout import circuit_error as circuit_error
from ..backends.layout import reports_errors as reports_errors
from ..backends.layout import two_qubit_count as two_qubit_count


def isa_summary(backend, circuit) -> dict | None:
    """Two-qubit gates, depth and estimated error of ``circuit`` transpiled as ``backend`` runs it.

    Args:
        backend: a resolved backend with a Qiskit ``device`` (``ibm:``, ``aer:<FakeDevice>``); others
            give ``None``.
        circuit: a chemistry ansatz (``qml.chem.ChemAnsatz``) or a :class:`~qml.circuits.CircuitSpec`.

    Returns:
        ``{"device", "two_qubit_gates", "depth", "estimated_error"}`` of the ISA circuit the backend's
        compiler produces (cached there, so the run reuses it), or ``None`` without a device.
    """
    import torch

    from ..backends import qiskit_circuits as qc

    try:
        device = getattr(backend, "device", None)
    except Exception:  # noqa: BLE001 - a device that cannot be fetched now: no ISA numbers, not an error
        device = None
    if device is None or not hasattr(device, "target"):
        return None
    if hasattr(circuit, "hf_state"):
        traced = qc.trace_ansatz(circuit, torch.zeros(1, circuit.n_params, dtype=torch.float64), circuit.n_qubits)
    else:
        x = torch.zeros(1, circuit.n_inputs, dtype=torch.float64)
        traced = qc.trace(circuit, x, torch.zeros(circuit.weight_shape, dtype=torch.float64))
    compiled = qc.compile_circuit(
        traced,
        device,
        optimization_level=getattr(backend, "optimization_level", 1),
        seed=getattr(backend, "seed", None),
        shift_rule=False,
    )
    return {
        "device": getattr(device, "name", type(device).__name__),
        "two_qubit_gates": int(compiled.n_two_qubit),
        "depth": int(compiled.depth),
        "estimated_error": circuit_error(compiled.isa, device.target),
    }
