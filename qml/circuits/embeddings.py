"""Data embeddings: functions that encode a feature batch into gates.

Each embedding is ``f(inputs, wires)`` where ``inputs`` has shape ``(F,)`` or
``(B, F)`` (PennyLane broadcasts over the leading batch dimension).
``n_features(n_qubits)`` gives how many features the embedding takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pennylane as qp


def angle(inputs, wires):
    """One RY rotation per feature: feature ``i`` sets the angle on wire ``i``."""
    qp.AngleEmbedding(inputs, wires=wires, rotation="Y")


def amplitude(inputs, wires):
    """Features (padded with zeros to ``2**n``) become the normalised amplitudes of the state."""
    qp.AmplitudeEmbedding(inputs, wires=wires, normalize=True, pad_with=0.0)


def iqp(inputs, wires):
    """Instantaneous-quantum-polynomial embedding (Havlicek et al. 2019): H, RZ(x_i), ZZ(x_i x_j)."""
    qp.IQPEmbedding(inputs, wires=wires)


def reupload(inputs, wires):
    """RX-RY encoding of every feature; re-applied before each ansatz layer by the circuit builder."""
    qp.AngleEmbedding(inputs, wires=wires, rotation="X")
    qp.AngleEmbedding(inputs, wires=wires, rotation="Y")


@dataclass(frozen=True)
class Embedding:
    name: str
    apply: Callable
    n_features: Callable[[int], int]
    exact_features: bool  # True: needs exactly n_features, False: at most
    reuploads: bool = False
    doc: str = ""


EMBEDDINGS: dict[str, Embedding] = {
    "angle": Embedding("angle", angle, lambda n: n, False, doc=angle.__doc__),
    "amplitude": Embedding("amplitude", amplitude, lambda n: 2**n, False, doc=amplitude.__doc__),
    "iqp": Embedding("iqp", iqp, lambda n: n, True, doc=iqp.__doc__),
    "reupload": Embedding("reupload", reupload, lambda n: n, False, reuploads=True, doc=reupload.__doc__),
}
