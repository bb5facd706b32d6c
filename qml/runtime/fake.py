"""A fake Qiskit Runtime service, for testing every failure path offline.

:class:`FakeRuntimeService` behaves like ``QiskitRuntimeService`` as far as
``qml.runtime`` uses it (``backend``, ``least_busy``, ``job``) and hands out
:class:`FakeEstimator` objects whose jobs compute exact expectation values with
``qiskit.primitives.StatevectorEstimator``, unless told to fail.  Failures are
queued per submission::

    service = FakeRuntimeService(failures=["network_submit:2", "fail", "cancel", "timeout",
                                           "network_poll:1", "not_found"])

Each submitted job takes the next entry (``None`` means succeed).
"""

from __future__ import annotations

import itertools
from collections import deque

from ..backends.aer import fake_device, fake_device_names  # noqa: F401 (re-exported)

FAILURES = ("fail", "cancel", "timeout", "not_found", "network_submit", "network_poll")
_IDS = itertools.count(1)


class FakeRuntimeService:
    """Stands in for ``QiskitRuntimeService``.

    Args:
        device: name of the ``qiskit_ibm_runtime.fake_provider`` device served for every name.
        failures: failure kinds consumed one per submission (see module docstring).
    """

    def __init__(self, device: str = "FakeManilaV2", failures=()):
        self.device = fake_device(device)
        self.failures = deque(failures)
        self.jobs: dict[str, FakeJob] = {}
        self.submitted: list[FakeJob] = []
        self.submit_attempts = 0
        self.options_seen: list[dict] = []
        self.modes_seen: list[str] = []

    def backend(self, name: str | None = None, instance: str | None = None):
        return self.device

    def least_busy(self, min_num_qubits: int | None = None, **filters):
        return self.device

    def job(self, job_id: str):
        job = self.jobs.get(job_id)
        if job is None or job.kind == "not_found":
            from qiskit_ibm_runtime.exceptions import RuntimeJobNotFound

            raise RuntimeJobNotFound(f"Job not found: {job_id}")
        return job

    def estimator(self, *, backend, mode: str, options: dict):
        """An Estimator for ``mode``; ``options`` are validated by the model of qiskit-ibm-runtime's
        client-side Estimator (``options_models.EstimatorOptions``), as the real one does."""
        from qiskit_ibm_runtime.options_models import EstimatorOptions

        EstimatorOptions(**options)  # raises on a name or value the real service would reject
        self.options_seen.append(options)
        self.modes_seen.append(mode)
        return FakeEstimator(self)


class FakeEstimator:
    """``run(pubs)`` returns a :class:`FakeJob`, failing as the service's queue says."""

    def __init__(self, service: FakeRuntimeService):
        self.service = service

    def run(self, pubs, precision=None):
        service = self.service
        service.submit_attempts += 1
        kind = service.failures[0] if service.failures else None
        if kind and kind.startswith("network_submit"):
            left = int(kind.split(":")[1]) if ":" in kind else 1
            if left > 1:
                service.failures[0] = f"network_submit:{left - 1}"
            else:
                service.failures.popleft()
            raise ConnectionError("simulated network error while submitting")
        if service.failures:
            service.failures.popleft()
        job = FakeJob(f"fake-{next(_IDS):06d}", list(pubs), kind)
        service.jobs[job.job_id()] = job
        service.submitted.append(job)
        return job


class FakeJob:
    """A job whose ``status()``/``result()`` follow its failure ``kind``."""

    def __init__(self, job_id: str, pubs, kind: str | None):
        self._id = job_id
        self.pubs = pubs
        self.kind = kind
        self._poll_errors = int(kind.split(":")[1]) if kind and kind.startswith("network_poll") else 0
        self.polls = 0

    def job_id(self) -> str:
        return self._id

    def status(self) -> str:
        self.polls += 1
        if self._poll_errors > 0:
            self._poll_errors -= 1
            raise ConnectionError("simulated network error while polling")
        if self.kind == "not_found":
            from qiskit_ibm_runtime.exceptions import RuntimeJobNotFound

            raise RuntimeJobNotFound(f"Job not found: {self._id}")
        return {"fail": "ERROR", "cancel": "CANCELLED", "timeout": "RUNNING"}.get(self.kind, "DONE")

    def error_message(self) -> str:
        return "simulated failure: the device went into maintenance" if self.kind == "fail" else ""

    def result(self):
        if self.kind in ("fail", "cancel", "timeout", "not_found"):
            raise RuntimeError(f"job {self._id} has no result ({self.kind})")
        from qiskit.primitives import StatevectorEstimator

        return StatevectorEstimator().run(self.pubs).result()
