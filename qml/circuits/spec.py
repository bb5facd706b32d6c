"""CircuitSpec: everything needed to rebuild a layer's circuit on any backend.

A spec is plain data (names, sizes, observables or a user's top-level
function), so it pickles, and every backend (PennyLane devices here, Qiskit
Runtime in :mod:`qml.runtime`) builds its executable from the same spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pennylane as qp

from ..errors import ConfigurationError, check_choice, check_int
from .ansatzes import ANSATZES
from .embeddings import EMBEDDINGS
from .measurements import resolve_observables


@dataclass(frozen=True)
class CircuitSpec:
    """A parameterized circuit ``embedding(inputs) -> ansatz(weights) -> measurements``.

    Attributes:
        n_qubits: number of wires.
        n_inputs: number of input features per sample, F; inputs have shape ``(B, F)``.
        embedding, ansatz: catalog names (``None`` when ``circuit`` is given).
        layers: number of ansatz layers.
        observables: tuple of PennyLane operators measured as expectation values.
        circuit: optional user function ``circuit(inputs, weights)`` that applies gates and
            returns a list of ``qp.expval(...)``; must be a top-level function to pickle.
        weight_shape: shape of the trainable weight tensor.
        drop_tol: when set (by :func:`qml.compress`), rotations whose angles are all within
            ``drop_tol`` of 0 (mod 2 pi) are left out of the circuit.
    """

    n_qubits: int
    n_inputs: int
    embedding: str | None = "angle"
    ansatz: str | None = "strongly_entangling"
    layers: int = 2
    observables: tuple = field(default=())
    circuit: Callable | None = None
    weight_shape: tuple = ()
    drop_tol: float | None = None

    @property
    def n_outputs(self) -> int:
        if self.circuit is None:
            return len(self.observables)
        return _count_custom_outputs(self)

    @property
    def wires(self) -> list[int]:
        return list(range(self.n_qubits))

    def qfunc(self, inputs, weights):
        """Apply the circuit and return its measurements (a list of expectation values)."""
        if self.drop_tol is not None:
            from .compression import replay_without_identities

            return replay_without_identities(self._build, inputs, weights, self.drop_tol)
        return self._build(inputs, weights)

    def _build(self, inputs, weights):
        if self.circuit is not None:
            out = self.circuit(inputs, weights)
            return list(out) if isinstance(out, (list, tuple)) else [out]
        emb = EMBEDDINGS[self.embedding]
        ans = ANSATZES[self.ansatz]
        wires = self.wires
        if emb.reuploads:
            for layer in range(self.layers):
                emb.apply(inputs, wires)
                ans.apply(weights[layer : layer + 1], wires)
        else:
            emb.apply(inputs, wires)
            ans.apply(weights, wires)
        return [qp.expval(obs) for obs in self.observables]

    def tape(self, inputs=None, weights=None):
        """The circuit as a PennyLane tape (default: zero inputs and weights), for drawing and specs."""
        inputs = np.zeros(self.n_inputs) if inputs is None else inputs
        weights = np.zeros(self.weight_shape) if weights is None else weights
        return qp.tape.make_qscript(self.qfunc)(inputs, weights)


def _count_custom_outputs(spec: CircuitSpec) -> int:
    tape = spec.tape()
    return len(tape.measurements)


def make_spec(
    *,
    n_qubits: int,
    n_inputs: int | None = None,
    embedding: str | None = "angle",
    ansatz: str | None = "strongly_entangling",
    layers: int = 2,
    observables=None,
    circuit: Callable | None = None,
    weight_shape=None,
) -> CircuitSpec:
    """Validate user choices and return a :class:`CircuitSpec`.

    Raises:
        ConfigurationError: unknown embedding/ansatz, ``n_qubits < 1``, ``layers < 1``,
            too many or too few input features for the embedding, or a custom ``circuit``
            without ``weight_shape``.
        TypeError: a non-integer size or a non-callable ``circuit``.
    """
    n_qubits = check_int("n_qubits", n_qubits)
    layers = check_int("layers", layers)
    if circuit is not None:
        if not callable(circuit):
            raise TypeError(f"circuit must be a function circuit(inputs, weights), got {type(circuit).__name__}")
        if weight_shape is None:
            raise ConfigurationError(
                "a custom circuit needs weight_shape, the shape of its weights tensor, e.g. weight_shape=(2, 4, 3)"
            )
        if n_inputs is None:
            raise ConfigurationError("a custom circuit needs n_inputs, the number of features per sample")
        shape = _shape(weight_shape)
        spec = CircuitSpec(n_qubits, check_int("n_inputs", n_inputs), None, None, layers, (), circuit, shape)
        try:
            spec.tape()
        except Exception as exc:  # the user's function failed on zero inputs: say so, keep the cause
            raise ConfigurationError(
                f"custom circuit failed when traced with zero inputs of shape ({spec.n_inputs},) and "
                f"weights of shape {shape}: {exc}"
            ) from exc
        return spec

    check_choice("embedding", embedding, EMBEDDINGS)
    check_choice("ansatz", ansatz, ANSATZES)
    emb = EMBEDDINGS[embedding]
    max_f = emb.n_features(n_qubits)
    if n_inputs is None:
        n_inputs = max_f
    n_inputs = check_int("n_inputs", n_inputs)
    if emb.exact_features and n_inputs != max_f:
        raise ConfigurationError(
            f"the {embedding!r} embedding takes exactly {max_f} features on {n_qubits} qubits, got {n_inputs}"
        )
    if n_inputs > max_f:
        raise ConfigurationError(
            f"the {embedding!r} embedding takes at most {max_f} features on {n_qubits} qubits, got {n_inputs}; "
            "use more qubits, the 'amplitude' embedding, or a classical pre-network (qml.HybridModel)"
        )
    shape = ANSATZES[ansatz].weight_shape(layers, n_qubits)
    if weight_shape is not None and _shape(weight_shape) != shape:
        raise ConfigurationError(f"ansatz {ansatz!r} with {layers} layers needs weight_shape {shape}")
    obs = resolve_observables(observables, n_qubits)
    return CircuitSpec(n_qubits, n_inputs, embedding, ansatz, layers, obs, None, shape)


def _shape(weight_shape) -> tuple:
    if isinstance(weight_shape, (int, np.integer)):
        weight_shape = (weight_shape,)
    try:
        shape = tuple(int(s) for s in weight_shape)
    except TypeError:
        raise TypeError(f"weight_shape must be a tuple of positive integers, got {weight_shape!r}") from None
    if not shape or any(s < 1 for s in shape):
        raise ConfigurationError(f"weight_shape must be a tuple of positive integers, got {weight_shape!r}")
    return shape
