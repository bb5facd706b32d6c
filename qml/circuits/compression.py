"""Leave identity rotations out of a circuit: the quantum half of :func:`qml.compress`."""

from __future__ import annotations

import math

import pennylane as qp

#: Gates equal to the identity (up to a global phase) when all their angles are 0 mod 2 pi.
ROTATIONS = frozenset(
    {
        "RX",
        "RY",
        "RZ",
        "Rot",
        "PhaseShift",
        "CRX",
        "CRY",
        "CRZ",
        "CRot",
        "MultiRZ",
        "IsingXX",
        "IsingYY",
        "IsingZZ",
        "U1",
        "U2",
        "U3",
    }
)
#: Gates kept as they are (not expanded further).
BASIC = ROTATIONS | {
    "CNOT",
    "CZ",
    "SWAP",
    "Hadamard",
    "PauliX",
    "PauliY",
    "PauliZ",
    "S",
    "T",
    "SX",
    "BasisState",
    "StatePrep",
    "SingleExcitation",
    "DoubleExcitation",
}


def is_identity(op, tol: float) -> bool:
    """True if ``op`` is a rotation whose every angle (every batch entry) is within ``tol`` of 0 mod 2 pi."""
    if op.name not in ROTATIONS or not op.data:
        return False
    if op.name == "U2":
        return False  # U2 is never the identity
    for angle in op.data:
        a = qp.math.abs(((angle + math.pi) % (2 * math.pi)) - math.pi)  # distance to 0 mod 2 pi
        if not bool(qp.math.all(a <= tol)):
            return False
    return True


def expand(op) -> list:
    """Decompose templates down to :data:`BASIC` gates."""
    if op.name in BASIC or not op.has_decomposition:
        return [op]
    out = []
    with qp.QueuingManager.stop_recording():  # decomposition() would otherwise queue its gates
        subs = op.decomposition()
    for sub in subs:
        out.extend(expand(sub))
    return out


def replay_without_identities(build, inputs, weights, tol: float):
    """Record ``build(inputs, weights)``, then queue its gates minus identity rotations.

    Returns the recorded measurements, so this works as a QNode's quantum function.
    """
    tape = qp.tape.make_qscript(build)(inputs, weights)
    for op in tape.operations:
        for gate in expand(op):
            if not is_identity(gate, tol):
                qp.apply(gate)
    return [qp.apply(m) for m in tape.measurements]
