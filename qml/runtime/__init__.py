"""IBM Quantum hardware through Qiskit Runtime: ``backend="ibm:<device>"``.

One EstimatorV2 job per optimizer step carries the whole mini-batch forward pass
and every parameter-shift (or SPSA) evaluation of the gradient; circuits are
transpiled once per structure to the device ISA; jobs are recorded in a SQLite
job store before we wait on them and reused when a killed run resumes.  Fake
devices (``ibm:FakeManilaV2``, or ``local=True``) run the same code path offline
through Qiskit Runtime's local testing mode.

Public names: :func:`ibm_backend`, :class:`IBMBackend`, :class:`RuntimeOptions`,
:func:`estimate`, :class:`CostEstimate`, :class:`JobStore`, :func:`fake_backend_names`,
:class:`FakeRuntimeService` (failure injection for tests).
"""

from __future__ import annotations

from ..errors import BackendError
from .backend import IBMBackend as IBMBackend
from .backend import RuntimeExecutor as RuntimeExecutor
from .backend import fake_backend_names as fake_backend_names
from .cost import CostEstimate as CostEstimate
from .cost import estimate as estimate
from .fake import FakeRuntimeService as FakeRuntimeService
from .options import RuntimeOptions as RuntimeOptions
from .store import JobStore as JobStore


def ibm_backend(device_name: str, *, n_qubits: int, shots=None, seed=None, **options) -> IBMBackend:
    """The backend for ``"ibm:<device_name>"`` (called by ``qml.backends.resolve``).

    Args:
        device_name: ``"ibm_brisbane"``, ``"least_busy"``, or a fake device such as ``"FakeManilaV2"``.
        n_qubits: circuit width, checked against the device.
        shots: shots per circuit evaluation (default 1024; exclusive with ``precision``).
        seed: seed of the simulator (local mode), the estimator and the transpiler.
        **options: :class:`RuntimeOptions` fields (``mode``, ``precision``, ``resilience_level``,
            ``dynamical_decoupling``, ``twirling``, ``zne``, ``gradient``, ``max_jobs``, ...).

    Raises:
        ConfigurationError: an unknown or invalid option.
        CredentialsError: a real device and no IBM Quantum token (checked before any network call).
        BackendError: an unknown fake device or a circuit wider than the device.
    """
    opts = RuntimeOptions.from_kwargs(**options)
    return IBMBackend(device_name, n_qubits=n_qubits, shots=shots, seed=seed, options=opts)


__all__ = ["ibm_backend", "IBMBackend", "RuntimeExecutor", "RuntimeOptions", "estimate", "CostEstimate",
           "JobStore", "fake_backend_names", "FakeRuntimeService", "BackendError"]
