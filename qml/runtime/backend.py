"""``ibm:<device>``: the backend object; its executors are the shared Estimator path.

Every call of an executor (expectation values, one optimizer step's forward pass) or of an energy
evaluator (energies of B geometries with B Hamiltonians) sends ONE Estimator job with ONE PUB
holding the unshifted angles of every sample and all shifted angles the gradient needs (see
:mod:`qml.backends.estimator` and :mod:`qml.backends.packing`).  What is IBM-specific lives here:
the service and credentials, Qiskit Runtime's client-side Estimator (``executor_estimator``, the
implementation qiskit-ibm-runtime 0.50+ recommends; local testing mode on fake devices), the job
store (jobs recorded before we wait on them, reused on resume), counters per step and the cost guard
(checked before a job is sent).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from ..backends import context
from ..backends.aer import fake_device, fake_device_names
from ..backends.base import Backend
from ..backends.estimator import EstimatorPath, ExpvalExecutor, compile_for, result_arrays
from ..errors import BackendError, ConfigurationError, CostLimitError, JobFailedError
from . import credentials as creds
from .failures import is_not_found, wait_for, with_retries
from .options import DEFAULT_SHOTS, RuntimeOptions
from .store import DONE, FAILED, JobStore

log = logging.getLogger("qml.runtime")

#: ``RuntimeExecutor`` is the shared expectation-value executor (kept as a name for users and tests).
RuntimeExecutor = ExpvalExecutor


def fake_backend_names() -> tuple[str, ...]:
    """Every fake device of ``qiskit_ibm_runtime.fake_provider`` usable as ``ibm:<name>``."""
    return fake_device_names()


def local_device(name: str, n_qubits: int):
    """The fake device for ``name``: ``FakeManilaV2`` as is, ``ibm_brisbane`` -> ``FakeBrisbane``,
    ``least_busy`` -> the smallest fake device with enough qubits among a few common ones.

    Raises:
        BackendError: no fake device matches; the message lists some.
    """
    names = fake_device_names()
    if name == "least_busy":
        candidates = [n for n in ("FakeManilaV2", "FakeNairobiV2", "FakeGuadalupeV2", "FakeBrisbane") if n in names]
    elif name.startswith("ibm_"):
        base = "Fake" + name[4:].capitalize()
        candidates = [n for n in (base, base + "V2") if n in names]
    else:
        candidates = [name] if name in names else []
    for cand in candidates:
        device = fake_device(cand)
        if device.num_qubits >= n_qubits or name != "least_busy":
            return device
    raise BackendError(
        f"no fake device for {name!r}; use a qiskit_ibm_runtime.fake_provider device such as "
        f"{', '.join(names[:6])} ... ({len(names)} in all; see qml.runtime.fake_backend_names())"
    )


class IBMBackend(EstimatorPath, Backend):
    """An IBM Quantum device (or its fake twin in local testing mode) as a qml backend.

    (About 300 lines on purpose: the job life cycle, submit, record, wait, resume and guard, reads
    as one story here, and tests patch this module's ``wait_for`` around it.)

    Build it with ``qml.backends.resolve("ibm:<device>", ...)``, ``IBMBackend("ibm:<device>", n_qubits=...,
    shots=..., seed=..., **options)`` or :func:`~qml.runtime.ibm_backend`.  Credentials are checked here
    (no network); the service is contacted on first use.

    Capabilities: ``expval`` (``make_executor(spec)``) and ``energy`` (``energy_evaluator(ansatz, n_qubits)``),
    one job per call, both recorded in the job store and counted against ``max_jobs``/``max_shots``.

    Attributes:
        name: ``"ibm:<device>"``; exact: always ``False``; shots: shots per circuit (``None``
        when ``precision`` is set); seed; options: the validated :class:`RuntimeOptions`;
        local: ``True`` for fake devices (Qiskit Runtime local testing mode); usage: jobs and shots
        sent by every executor and evaluator of this backend (what ``max_jobs``/``max_shots`` limit).

    Raises:
        ConfigurationError: an unknown or invalid option.
        CredentialsError: a real device and no IBM Quantum token.
        BackendError: an unknown fake device or a circuit wider than the device.
    """

    exact = False
    samples = True
    description = "IBM Quantum hardware through Qiskit Runtime's client-side Estimator (fake devices: local mode)"
    spellings = {"ibm:<device>": "IBM Quantum hardware through Qiskit Runtime (see qml.runtime)"}

    def __init__(
        self, name: str, *, n_qubits: int, shots=None, seed=None, options: RuntimeOptions | None = None, **kwargs
    ):
        if options is None:
            options = RuntimeOptions.from_kwargs(**kwargs)
        elif kwargs:
            raise ConfigurationError(
                f"give ibm backend options either as options= or as keywords, not both "
                f"(got options= and {sorted(kwargs)})"
            )
        device_name = name[4:] if name.startswith("ibm:") else name
        if not device_name:
            raise BackendError(
                "give a device after 'ibm:', e.g. 'ibm:ibm_brisbane', 'ibm:least_busy' "
                "or a fake device such as 'ibm:FakeManilaV2'"
            )
        if shots is not None and options.precision is not None:
            raise ConfigurationError("give either shots or precision to an ibm backend, not both")
        creds.check_device_name(device_name, fake_device_names())  # before credentials are sought
        Backend.__init__(self, f"ibm:{device_name}", n_qubits=n_qubits, shots=shots, seed=seed)
        self.device_name = device_name
        self.shots = None if options.precision is not None else (self.shots or DEFAULT_SHOTS)
        self.options = options
        self.local = options.local or device_name.startswith("Fake")
        self.gradient = options.gradient
        self.spsa_epsilon = options.spsa_epsilon
        self.optimization_level = options.optimization_level
        self.credentials = None
        #: jobs and shots sent by every executor and evaluator of this backend (what max_jobs/max_shots limit)
        self.usage = {"jobs": 0, "shots": 0}
        #: seeds drawn so far: job k of a run gets seed + k (checkpointed through seed_state)
        self.seeds_used = 0
        self._device = None
        self._service = options.service
        if self.local:
            self._device = local_device(device_name, n_qubits)
            self._check_width()
        elif self._service is None:
            self.credentials = creds.resolve_credentials(options.instance)  # raises before any network call
        self._store = None

    def recipe(self, *, portable: bool = False) -> dict:
        """Keyword arguments that build an equivalent backend (``portable``: without an injected
        estimator or service, which a pickled copy never carries)."""
        options = dataclasses.replace(self.options, estimator=None, service=None) if portable else self.options
        return dict(n_qubits=self.n_qubits, shots=self.shots, seed=self.seed, options=options)

    def seed_state(self) -> dict:
        """Checkpoint hook: how far the job seed stream has advanced (qml.train.checkpoint saves it)."""
        return {"seeds_used": self.seeds_used}

    def set_seed_state(self, state: dict) -> None:
        self.seeds_used = int(state["seeds_used"])

    @property
    def shots_per_circuit(self) -> int | None:
        return self.options.shots_per_circuit(self.shots)

    @property
    def service(self):
        if self._service is None and not self.local:
            if self.credentials._token is None and self.credentials.saved_name is None:
                # copied or unpickled: the token was dropped on purpose, read it again
                self.credentials = creds.resolve_credentials(self.options.instance)
            self._service = creds.connect(self.credentials)
        return self._service

    @property
    def device(self):
        """The Qiskit ``BackendV2`` (fetched from the service on first use)."""
        if self._device is None:
            opts = self.options
            svc = self.service
            fetch = (
                (lambda: svc.least_busy(min_num_qubits=self.n_qubits, operational=True, simulator=False))
                if self.device_name == "least_busy"
                else (lambda: svc.backend(self.device_name))
            )
            try:
                self._device = with_retries(
                    fetch, what=f"looking up device {self.device_name}", retries=opts.max_retries, backoff=opts.backoff
                )
            except JobFailedError:
                raise
            except Exception as exc:  # noqa: BLE001 - an unknown device name, typically
                raise BackendError(
                    f"IBM Quantum has no device {self.device_name!r} for this account: "
                    f"{creds.redact(str(exc))}; try 'ibm:least_busy'"
                ) from None
            self._check_width()
        return self._device

    def _check_width(self):
        if self.n_qubits > self._device.num_qubits:
            raise BackendError(
                f"the circuit needs {self.n_qubits} qubits but {self._device.name} has "
                f"{self._device.num_qubits}; use fewer qubits or a larger device"
            )

    @property
    def store(self) -> JobStore | None:
        if self._store is None and self.options.store is not False:
            path = None if self.options.store is True else self.options.store
            self._store = JobStore(path)
        return self._store

    # -- the shared Estimator path -----------------------------------------------------------
    def compile(self, traced):
        return compile_for(self, traced, self.device)

    def fingerprint_parts(self) -> tuple:
        return super().fingerprint_parts() + (self.optimization_level,)

    def cost_plan(self, module, calls):
        """Pre-flight protocol of ``qml.fit``: the :class:`~qml.runtime.CostEstimate` of ``calls``
        (``(batch_size, with_gradient, how_many)`` triples) made by ``module``.

        Raises:
            CostLimitError: the plan exceeds ``max_jobs``/``max_shots`` (nothing is sent).
        """
        from .cost import plan_calls

        return plan_calls(self, module, calls)

    @staticmethod
    def record(name: str, value) -> None:
        """Add to the running training step's counters (``fit`` puts them in the history)."""
        context.record(name, value)

    def run_pub(self, pub, *, key: str, shape: tuple, n_evals: int, owner):
        """One job: resume it from the job store, or check the cost guard, submit, record, wait.

        Returns:
            ``(evs, stds)`` arrays of ``shape``.

        Raises:
            CostLimitError: the job would exceed ``max_jobs``/``max_shots`` (nothing is sent).
            JobFailedError: the job failed, was cancelled, timed out or was lost.
        """
        opts = self.options
        step = context.current()
        store = self.store
        if store is not None and step is not None and step.run_id is not None:
            found = self._resume(store, step, key, shape, owner)
            if found is not None:
                return found
        shots = (self.shots_per_circuit or 0) * n_evals
        self._guard(shots)
        estimator = self._estimator(owner)
        job = with_retries(
            lambda: estimator.run([pub]),
            what=f"submitting to {self.name}",
            retries=opts.max_retries,
            backoff=opts.backoff,
        )
        job_id = str(job.job_id())
        self.seeds_used += 1
        owner.job_ids.append(job_id)
        for name, value in (("jobs", 1), ("pubs", 1), ("circuits", n_evals), ("shots", shots)):
            owner._count(name, value)
        self.usage["jobs"] += 1
        self.usage["shots"] += shots
        log.info(
            "submitted job %s to %s: 1 PUB of shape %s, %d circuits, %d shots",
            job_id,
            self.name,
            list(shape),
            n_evals,
            shots,
        )
        if store is not None:
            store.add(
                job_id=job_id,
                backend=self.name,
                fingerprint=key,
                pub_shapes=[list(shape)],
                options=dict(opts.public_dict(), shots=self.shots, seed=self.seed),
                run_id=getattr(step, "run_id", None),
                epoch=getattr(step, "epoch", None),
                step=getattr(step, "step", None),
                local=self.local,
            )
        return self._collect(job, store, shape)

    def _collect(self, job, store, shape: tuple):
        opts = self.options
        job_id = str(job.job_id())
        try:
            in_process = self.local or opts.estimator is not None
            result = wait_for(
                job,
                timeout=opts.timeout,
                poll_interval=opts.poll_interval,
                retries=opts.max_retries,
                backoff=opts.backoff,
                blocking=in_process,
            )
            evs, stds = result_arrays(result, tuple(shape))
        except JobFailedError as exc:
            if store is not None and not getattr(exc, "pending", False):  # timed out: stays PENDING
                store.set_status(job_id, FAILED, str(exc))
            raise
        if not np.all(np.isfinite(evs)):
            if store is not None:
                store.set_status(job_id, FAILED, "non-finite expectation values")
            raise JobFailedError(f"job {job_id} returned non-finite expectation values; run the step again", job_id)
        if store is not None:
            store.set_result(job_id, evs=evs, stds=stds)
        return evs, stds

    def _resume(self, store, step, key: str, shape: tuple, owner):
        rec = store.find(step.run_id, step.epoch, step.step, key)
        if rec is None:
            return None
        if rec.status == DONE and rec.result is not None:
            log.info("reusing finished job %s for run %s step %s", rec.job_id, step.run_id, step.step)
            owner._count("jobs_reused", 1)
            self.seeds_used += 1  # the reused job drew this seed when it ran
            evs = np.asarray(rec.result["evs"], dtype=np.float64).reshape(shape)
            stds = rec.result.get("stds")
            return evs, (np.zeros(shape) if stds is None else np.asarray(stds, dtype=np.float64).reshape(shape))
        if rec.local:  # a local job died with its process: mark it, submit again (same seed)
            store.set_status(
                rec.job_id,
                FAILED,
                "lost: its process ended before it finished (local testing mode, "
                "nothing was charged); resubmitted on resume",
            )
            return None
        opts = self.options
        try:
            job = with_retries(
                lambda: self.service.job(rec.job_id),
                what=f"retrieving job {rec.job_id}",
                retries=opts.max_retries,
                backoff=opts.backoff,
            )
        except Exception as exc:  # noqa: BLE001
            if is_not_found(exc):
                store.set_status(rec.job_id, FAILED, "not found by the service on resume")
                return None
            raise
        log.info("resuming pending job %s for run %s step %s", rec.job_id, step.run_id, step.step)
        owner._count("jobs_reused", 1)
        self.seeds_used += 1
        return self._collect(job, store, shape)

    def _guard(self, shots: int) -> None:
        opts, used = self.options, self.usage
        if opts.max_jobs is not None and used["jobs"] + 1 > opts.max_jobs:
            raise CostLimitError(
                f"sending another job would exceed max_jobs={opts.max_jobs} ({used['jobs']} sent so far "
                f"on {self.name}). Raise max_jobs, train for fewer steps, or check the plan with "
                "qml.runtime.estimate(...) first."
            )
        if opts.max_shots is not None and used["shots"] + shots > opts.max_shots:
            raise CostLimitError(
                f"the next job needs {shots} shots and would bring the total to {used['shots'] + shots}, "
                f"over max_shots={opts.max_shots}. Raise max_shots, lower shots/precision, use a smaller batch "
                "or gradient='spsa', or check the plan with qml.runtime.estimate(...) first."
            )

    def _estimator(self, owner):
        """The Estimator for the next job: an injected one, the fake service's, or Qiskit Runtime's
        client-side ``executor_estimator.Estimator`` (job mode, or the owner's Batch/Session)."""
        opts = self.options
        if opts.estimator is not None:
            return opts.estimator
        seed = None if self.seed is None else self.seed + self.seeds_used
        est_opts = opts.estimator_options(shots=self.shots, seed=seed, local=self.local)
        device = self.device
        service = self.service
        if service is not None and callable(getattr(service, "estimator", None)):
            return service.estimator(backend=device, mode=opts.mode, options=est_opts)
        from qiskit_ibm_runtime import Batch, Session
        from qiskit_ibm_runtime.executor_estimator import Estimator

        if opts.mode == "job":
            mode = device
        else:
            if owner._mode is None:
                owner._mode = (Batch if opts.mode == "batch" else Session)(backend=device)
            mode = owner._mode
        return Estimator(mode=mode, options=est_opts)

    def __repr__(self):
        cost = f"precision={self.options.precision}" if self.shots is None else f"shots={self.shots}"
        where = "local" if self.local else (repr(self.credentials) if self.credentials else "service")
        return f"IBMBackend({self.name!r}, {cost}, mode={self.options.mode!r}, {where})"
