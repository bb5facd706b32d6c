"""IBM Quantum hardware through Qiskit Runtime: ``backend="ibm:<device>"``.

One EstimatorV2 job per optimizer step carries the whole mini-batch forward pass
and every parameter-shift (or SPSA) evaluation of the gradient; circuits are
transpiled once per structure to the device ISA; jobs are recorded in a SQLite
job store before we wait on them and reused when a killed run resumes.  Fake
devices (``ibm:FakeManilaV2``, or ``local=True``) run the same code path offline
through Qiskit Runtime's local testing mode.

Public names (loaded on first use, so ``qml jobs`` starts fast): :func:`ibm_backend`,
:class:`IBMBackend`, :class:`RuntimeOptions`, :func:`estimate`, :class:`CostEstimate`,
:class:`JobStore`, :func:`fake_backend_names`, :class:`FakeRuntimeService`,
:func:`measurement_plan` (measurement settings and shot budgets of a Hamiltonian).
"""

from __future__ import annotations

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "IBMBackend": ".backend:IBMBackend",
        "RuntimeExecutor": ".backend:RuntimeExecutor",
        "fake_backend_names": ".backend:fake_backend_names",
        "CostEstimate": ".cost:CostEstimate",
        "estimate": ".cost:estimate",
        "FakeRuntimeService": ".fake:FakeRuntimeService",
        "fake_device": ".fake:fake_device",
        "fake_device_names": ".fake:fake_device_names",
        "RuntimeOptions": ".options:RuntimeOptions",
        "MeasurementPlan": ".measurement:MeasurementPlan",
        "measurement_plan": ".measurement:measurement_plan",
        "JobStore": ".store:JobStore",
        "JobRecord": ".store:JobRecord",
    },
    eager=("ibm_backend",),
)


def ibm_backend(device_name: str, *, n_qubits: int, shots=None, seed=None, **options):
    """The backend for ``"ibm:<device_name>"`` (called by ``qml.backends.resolve``).

    Args:
        device_name: ``"ibm_brisbane"``, ``"least_busy"``, or a fake device such as ``"FakeManilaV2"``.
        n_qubits: circuit width, checked against the device.
        shots: shots per circuit evaluation (default 1024; exclusive with ``precision``).
        seed: seed of the simulator (local mode), the estimator and the transpiler.
        **options: :class:`RuntimeOptions` fields (``mode``, ``precision``, ``resilience_level``,
            ``dynamical_decoupling``, ``twirling``, ``zne``, ``gradient``, ``max_jobs``, ...).

    Returns:
        An :class:`IBMBackend`; ``backend.make_executor(spec)`` gives the packed executor and
        ``backend.energy_evaluator(ansatz, n_qubits)`` the packed energy evaluator.

    Raises:
        ConfigurationError: an unknown or invalid option.
        CredentialsError: a real device and no IBM Quantum token (checked before any network call).
        BackendError: an unknown fake device or a circuit wider than the device.
    """
    from .backend import IBMBackend

    return IBMBackend(f"ibm:{device_name}", n_qubits=n_qubits, shots=shots, seed=seed, **options)
