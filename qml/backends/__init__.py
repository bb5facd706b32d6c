"""Backend strings -> executors.  The one place that knows device names.

``resolve(name, n_qubits=..., shots=..., seed=...)`` returns a backend object with

* ``name`` (str), ``exact`` (bool: no sampling noise), ``shots``, ``seed``
* ``make_executor(spec)`` -> ``run(inputs, weights)``: ``inputs`` of shape ``(B, F)``,
  ``weights`` of ``spec.weight_shape``; returns a torch tensor of shape ``(B, spec.n_outputs)``
  in the dtype of ``inputs``, differentiable with respect to both.

Valid names: see :data:`BACKENDS`; ``aer:<FakeDevice>`` takes any fake device of
``qiskit_ibm_runtime.fake_provider``; ``ibm:<device>`` is served by :mod:`qml.runtime`.
"""

from __future__ import annotations

from ..errors import BackendError, check_int
from .pennylane import AER_BASIS, PennyLaneBackend, fake_device, fake_device_names

BACKENDS = {
    "auto": "measures the exact simulators on the first batch and keeps the fastest",
    "fast": "qml's batched torch statevector simulator (qml.sim), backprop, one broadcast execution per batch",
    "default.qubit": "PennyLane's reference simulator, torch backprop, one broadcast execution per batch",
    "lightning.qubit": "PennyLane Lightning C++ simulator, adjoint differentiation",
    "aer": "Qiskit Aer; exact statevector when shots=None, sampled otherwise (parameter-shift gradients)",
    "aer:<FakeDevice>": "Qiskit Aer with the noise model and coupling map of an IBM fake device, e.g. aer:FakeManilaV2",
    "ibm:<device>": "IBM Quantum hardware through Qiskit Runtime (see qml.runtime)",
}


def resolve(backend="auto", *, n_qubits: int, shots=None, seed=None, **options):
    """Return the backend object for a backend string.

    Args:
        backend: one of :data:`BACKENDS` (``"aer:FakeManilaV2"`` style names included), or a
            backend object already returned by this function.
        n_qubits: width of the circuit, checked against the backend's limit.
        shots: ``None`` for exact expectation values, or a positive number of shots.
        seed: seed of the shot sampler (ignored when exact).
        **options: backend-specific options (``ibm:`` backends only); unknown keys raise.

    Raises:
        BackendError: unknown name, bad shots, a circuit wider than the device, or options
            given to a backend that takes none.
    """
    if not isinstance(backend, str):
        if hasattr(backend, "make_executor"):
            return backend
        raise TypeError(f"backend must be a string such as 'auto' or 'lightning.qubit', got {type(backend).__name__}")
    shots = check_shots(shots)
    if seed is not None:
        seed = check_int("seed", seed, 0)
    if backend.startswith("ibm:"):
        from ..runtime import ibm_backend  # lazy: qiskit-ibm-runtime is heavy

        return ibm_backend(backend[4:], n_qubits=n_qubits, shots=shots, seed=seed, **options)
    if options:
        raise BackendError(
            f"backend {backend!r} takes no options, got {sorted(options)}; options such as resilience "
            "levels belong to 'ibm:<device>' backends"
        )
    if backend == "auto":
        from .auto import AutoBackend

        return AutoBackend(n_qubits=n_qubits, shots=shots, seed=seed)
    return PennyLaneBackend(backend, n_qubits=n_qubits, shots=shots, seed=seed)


def check_shots(shots):
    """Return ``shots`` as ``None`` or a positive int; raise BackendError otherwise."""
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, int):
        raise BackendError(f"shots must be None (exact) or a positive integer, got {shots!r}")
    if shots < 1:
        raise BackendError(f"shots must be None (exact) or a positive integer, got {shots}")
    return shots


__all__ = ["BACKENDS", "resolve", "check_shots", "fake_device", "fake_device_names", "AER_BASIS"]
