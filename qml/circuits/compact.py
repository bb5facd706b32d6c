"""Few-CX circuits: products of Pauli-word rotations in native gates.

:func:`pauli_rotation` applies ``exp(-i angle/2 P)`` for a Pauli word ``P`` with Hadamard/RX basis
changes, a CNOT ladder and one RZ: ``2 (w - 1)`` CNOT for a word of weight ``w``, and a weight-one
word is a single RX/RY/RZ. These are gates every backend runs (the ``fast`` simulator, PennyLane
devices, the Qiskit gate set).

:func:`pauli_rotations` is the circuit of the ``compact`` chemistry ansatz (:mod:`qml.chem.ansatz`):
one rotation ``exp(i theta_k c_k P_k)`` per parameter, in the style of the qubit coupled-cluster
ansatz (Ryabinkin et al., J. Chem. Theory Comput. 14, 6317 (2018)), where ``P_k`` is the
cheapest (fewest CNOT) Pauli word of the ``k``-th symmetry-allowed excitation's tapered generator.
On tapered H2 it is a single RY on one qubit (0 CNOT); measured CX counts and errors for every
catalog molecule are in ``benchmarks/results/taper.md``.
"""

from __future__ import annotations

import math

import pennylane as qp


def pauli_rotation(angle, word: dict) -> None:
    """``exp(-i angle / 2 P)`` (PennyLane's ``PauliRot``) for ``P = word``, a ``{wire: "X" | "Y" | "Z"}`` dict.

    ``angle`` may carry leading batch dimensions (broadcast). Emits RX/RY/RZ, Hadamard and CNOT
    only; :func:`rotation_cx` CNOT.
    """
    items = [(w, p) for w, p in word.items() if p != "I"]
    if not items:
        return  # the identity: a global phase
    if len(items) == 1:
        w, p = items[0]
        {"X": qp.RX, "Y": qp.RY, "Z": qp.RZ}[p](angle, wires=w)
        return
    _z_basis(items, +1)
    ws = [w for w, _ in items]
    for a, b in zip(ws[:-1], ws[1:]):
        qp.CNOT(wires=[a, b])
    qp.RZ(angle, wires=ws[-1])
    for a, b in reversed(list(zip(ws[:-1], ws[1:]))):
        qp.CNOT(wires=[a, b])
    _z_basis(items, -1)


def _z_basis(items, sign: int) -> None:
    """Rotate each ``(wire, "X"|"Y"|"Z")`` of a Pauli word into Z (``sign=+1``) or back (``sign=-1``)."""
    for w, p in items:
        if p == "X":
            qp.Hadamard(wires=w)
        elif p == "Y":
            qp.RX(sign * math.pi / 2, wires=w)


def rotation_cx(word: dict) -> int:
    """CNOTs :func:`pauli_rotation` uses for ``word``: ``2 (weight - 1)``, 0 for weight 0 or 1."""
    return 2 * max(sum(p != "I" for p in word.values()) - 1, 0)


def pauli_rotations(params, rotations, reps: int = 1) -> None:
    """``prod_k prod_j exp(i params[k] c_kj P_kj)`` for ``rotations[k] = ((word items, c_kj), ...)``.

    Args:
        params: shape ``(..., reps * len(rotations))`` (leading batch dimensions broadcast).
        rotations: per parameter, the Pauli terms of its generator: ``((((wire, "X"), ...), c), ...)``.
        reps: the product is repeated ``reps`` times with fresh parameters.
    """
    n = len(rotations)
    for rep in range(reps):
        for k, terms in enumerate(rotations):
            for word, coeff in terms:  # exp(i theta c P) = PauliRot(-2 c theta, P)
                pauli_rotation(-2.0 * coeff * params[..., rep * n + k], dict(word))


def circuit_cx(rotations, reps: int = 1) -> int:
    """CNOTs of :func:`pauli_rotations` (the logical circuit, before transpilation)."""
    return reps * sum(rotation_cx(dict(word)) for terms in rotations for word, _ in terms)
