"""Few-CX circuits for tapered Hamiltonians: the ``compact`` ansatz and Pauli rotations in native gates.

``compact`` is a real-amplitude hardware-efficient form: an RY on every wire, then ``layers - 1``
times a CZ chain (0-1, 1-2, ...) followed by another RY on every wire; ``(layers - 1) (n - 1)`` CZ
(one CX each) and no CZ after the last rotations (the final entangler of
:func:`qml.circuits.hardware_efficient` only multiplies amplitudes by signs that later rotations
would have to undo). Molecular Hamiltonians are real, so real amplitudes suffice; on one qubit
(tapered H2) it is a single RY and no two-qubit gate. From a basis state with zero angles it is
that basis state, and after tapering single-qubit flips of the Hartree-Fock state are symmetry-
allowed excitations, so the gradient there is not zero.

:func:`pauli_rotation` applies ``exp(-i angle/2 P)`` for a Pauli word ``P`` with Hadamard/RX basis
changes, a CNOT ladder and one RZ (``2 (w - 1)`` CNOT for a word of weight ``w``; a weight-one
word is one RX/RY/RZ), gates every backend runs; the tapered UCCSD of :mod:`qml.chem.ansatz` is built
from it.
"""

from __future__ import annotations

import math

import pennylane as qp


def compact(weights, wires):
    """RY on every wire, then (CZ chain, RY on every wire) per further layer. Weights ``(layers, n)``."""
    wires = list(wires)
    for layer in range(weights.shape[0]):
        if layer:
            for a, b in zip(wires[:-1], wires[1:]):
                qp.CZ(wires=[a, b])
        for i, w in enumerate(wires):
            qp.RY(weights[layer, i], wires=w)


def compact_cx(layers: int, n_qubits: int) -> int:
    """Two-qubit gates of :func:`compact` with ``layers`` layers on ``n_qubits`` wires (before transpilation)."""
    return max(layers - 1, 0) * max(n_qubits - 1, 0)


def pauli_rotation(angle, word: dict) -> None:
    """``exp(-i angle / 2 P)`` (PennyLane's ``PauliRot``) for ``P = word``, a ``{wire: "X" | "Y" | "Z"}`` dict.

    Emits RX/RY/RZ, Hadamard and CNOT only; ``2 (len(word) - 1)`` CNOT.
    """
    items = [(w, p) for w, p in word.items() if p != "I"]
    if not items:
        return  # the identity: a global phase
    if len(items) == 1:
        w, p = items[0]
        {"X": qp.RX, "Y": qp.RY, "Z": qp.RZ}[p](angle, wires=w)
        return
    for w, p in items:
        if p == "X":
            qp.Hadamard(wires=w)
        elif p == "Y":
            qp.RX(math.pi / 2, wires=w)
    ws = [w for w, _ in items]
    for a, b in zip(ws[:-1], ws[1:]):
        qp.CNOT(wires=[a, b])
    qp.RZ(angle, wires=ws[-1])
    for a, b in reversed(list(zip(ws[:-1], ws[1:]))):
        qp.CNOT(wires=[a, b])
    for w, p in items:
        if p == "X":
            qp.Hadamard(wires=w)
        elif p == "Y":
            qp.RX(-math.pi / 2, wires=w)


def pauli_rotation_cx(word: dict) -> int:
    """CNOTs :func:`pauli_rotation` uses for ``word``."""
    return 2 * max(sum(p != "I" for p in word.values()) - 1, 0)
