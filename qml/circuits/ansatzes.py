"""Trainable ansatzes: ``f(weights, wires)`` with weights of shape ``weight_shape(layers, n_qubits)``.

Every catalog ansatz has a leading ``layers`` dimension, so one layer can be
applied at a time (used by data re-uploading).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pennylane as qp

from .compact import compact


def hardware_efficient(weights, wires):
    """Per layer: RY on every wire, then a CZ ladder (0-1, 1-2, ...). Weights ``(layers, n)``."""
    wires = list(wires)
    for layer in range(weights.shape[0]):
        for i, w in enumerate(wires):
            qp.RY(weights[layer, i], wires=w)
        for a, b in zip(wires[:-1], wires[1:]):
            qp.CZ(wires=[a, b])


def strongly_entangling(weights, wires):
    """PennyLane's StronglyEntanglingLayers (Schuld et al. 2020). Weights ``(layers, n, 3)``."""
    qp.StronglyEntanglingLayers(weights, wires=wires)


def basic_entangler(weights, wires):
    """PennyLane's BasicEntanglerLayers: RX on every wire, then a CNOT ring. Weights ``(layers, n)``."""
    qp.BasicEntanglerLayers(weights, wires=wires, rotation=qp.RX)


@dataclass(frozen=True)
class Ansatz:
    name: str
    apply: Callable
    weight_shape: Callable[[int, int], tuple]
    doc: str = ""


ANSATZES: dict[str, Ansatz] = {
    "hardware_efficient": Ansatz(
        "hardware_efficient", hardware_efficient, lambda L, n: (L, n), hardware_efficient.__doc__
    ),
    "strongly_entangling": Ansatz(
        "strongly_entangling", strongly_entangling, lambda L, n: (L, n, 3), strongly_entangling.__doc__
    ),
    "basic_entangler": Ansatz("basic_entangler", basic_entangler, lambda L, n: (L, n), basic_entangler.__doc__),
    "compact": Ansatz("compact", compact, lambda L, n: (L, n), compact.__doc__),
}
