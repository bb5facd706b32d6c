"""Measurements: which expectation values a circuit returns."""

from __future__ import annotations

from typing import Sequence

import pennylane as qp

from ..errors import ConfigurationError


def pauli_z(n_qubits: int) -> list:
    """Pauli-Z on each wire, in wire order."""
    return [qp.PauliZ(i) for i in range(n_qubits)]


def resolve_observables(observables, n_qubits: int) -> tuple:
    """Return the observables to measure as a tuple of PennyLane operators.

    Args:
        observables: ``None`` or ``"z"`` (Pauli-Z on each wire), or a sequence of
            PennyLane operators acting on wires ``0..n_qubits-1``.
        n_qubits: number of wires of the circuit.

    Raises:
        ConfigurationError: on an empty sequence, a non-operator, or a wire out of range.
    """
    if observables is None or (isinstance(observables, str) and observables.lower() == "z"):
        return tuple(pauli_z(n_qubits))
    if isinstance(observables, str):
        raise ConfigurationError(
            f"unknown measurement {observables!r}; pass 'z' (Pauli-Z on each wire) "
            "or a list of PennyLane observables such as [qp.PauliZ(0) @ qp.PauliZ(1)]"
        )
    if isinstance(observables, qp.operation.Operator):
        observables = [observables]
    if not isinstance(observables, Sequence) or len(observables) == 0:
        raise ConfigurationError("observables must be a non-empty list of PennyLane operators")
    out = []
    for obs in observables:
        if not isinstance(obs, qp.operation.Operator):
            raise ConfigurationError(f"observable {obs!r} is not a PennyLane operator; use e.g. qp.PauliZ(0)")
        bad = [w for w in obs.wires if not (isinstance(w, int) and 0 <= w < n_qubits)]
        if bad:
            raise ConfigurationError(f"observable {obs} acts on wires {bad}, outside 0..{n_qubits - 1}")
        out.append(obs)
    return tuple(out)
