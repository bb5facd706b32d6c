"""``ibm:<device>``: the backend object and the packed executor behind it.

One executor call (one optimizer step's forward pass) sends ONE EstimatorV2 job
with ONE PUB: the ISA circuit, the observables broadcast as shape
``(n_outputs, 1)``, and parameter values of shape ``(n_evals, P)`` holding the
unshifted angles of every sample and all shifted angles the gradient needs
(see :mod:`qml.runtime.packing`).  Jobs are recorded in the job store before we
wait on them, reused on resume, counted per step, and checked against the cost
guard before they are sent.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import torch

from ..errors import BackendError, ConfigurationError, CostLimitError, JobFailedError
from ..train import context
from . import credentials as creds
from .circuits import compile_circuit, trace
from .failures import is_not_found, wait_for, with_retries
from .options import DEFAULT_SHOTS, RuntimeOptions
from .packing import PackedEstimate, plan
from .store import DONE, FAILED, JobStore, fingerprint

log = logging.getLogger("qml.runtime")
COUNTERS = ("jobs", "pubs", "circuits", "shots", "jobs_reused")
LOCAL_NO_EFFECT = ("resilience_level", "dynamical_decoupling", "twirling", "zne", "measure_mitigation")


def fake_backend_names() -> tuple[str, ...]:
    """Every fake device of ``qiskit_ibm_runtime.fake_provider`` usable as ``ibm:<name>``."""
    from qiskit_ibm_runtime import fake_provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    return tuple(sorted(n for n in dir(fake_provider) if n.startswith("Fake")
                        and isinstance(getattr(fake_provider, n), type)
                        and issubclass(getattr(fake_provider, n), FakeBackendV2)))


def local_device(name: str, n_qubits: int):
    """The fake device for ``name``: ``FakeManilaV2`` as is, ``ibm_brisbane`` -> ``FakeBrisbane``,
    ``least_busy`` -> the smallest fake device with enough qubits among a few common ones.

    Raises:
        BackendError: no fake device matches; the message lists some.
    """
    from qiskit_ibm_runtime import fake_provider

    names = fake_backend_names()
    if name == "least_busy":
        candidates = [n for n in ("FakeManilaV2", "FakeNairobiV2", "FakeGuadalupeV2", "FakeBrisbane") if n in names]
    elif name.startswith("ibm_"):
        base = "Fake" + name[4:].capitalize()
        candidates = [n for n in (base, base + "V2") if n in names]
    else:
        candidates = [name] if name in names else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for cand in candidates:
            device = getattr(fake_provider, cand)()
            if device.num_qubits >= n_qubits or name != "least_busy":
                return device
    raise BackendError(
        f"no fake device for {name!r}; use a qiskit_ibm_runtime.fake_provider device such as "
        f"{', '.join(names[:6])} ... ({len(names)} in all; see qml.runtime.fake_backend_names())"
    )


class IBMBackend:
    """An IBM Quantum device (or its fake twin in local testing mode) as a qml backend.

    Build it with ``qml.backends.resolve("ibm:<device>", ...)`` or :func:`ibm_backend`.
    Credentials are checked here (no network); the service is contacted on first use.

    Attributes:
        name: ``"ibm:<device>"``; exact: always ``False``; shots: shots per circuit (``None``
        when ``precision`` is set); seed; options: the validated :class:`RuntimeOptions`;
        local: ``True`` for fake devices (Qiskit Runtime local testing mode).
    """

    exact = False

    def __init__(self, device_name: str, *, n_qubits: int, shots=None, seed=None, options: RuntimeOptions):
        if not device_name:
            raise BackendError("give a device after 'ibm:', e.g. 'ibm:ibm_brisbane', 'ibm:least_busy' "
                               "or a fake device such as 'ibm:FakeManilaV2'")
        if shots is not None and options.precision is not None:
            raise ConfigurationError("give either shots or precision to an ibm backend, not both")
        creds.check_device_name(device_name, fake_backend_names())  # before credentials are sought
        self.name = f"ibm:{device_name}"
        self.device_name = device_name
        self.n_qubits = n_qubits
        self.shots = None if options.precision is not None else (shots or DEFAULT_SHOTS)
        self.seed = seed
        self.options = options
        self.local = options.local or device_name.startswith("Fake")
        self.credentials = None
        #: jobs and shots sent by every executor of this backend (what max_jobs/max_shots limit)
        self.usage = {"jobs": 0, "shots": 0}
        #: seeds drawn so far: job k of the run gets seed + k (saved in checkpoints, see seed_state)
        self.seeds_used = 0
        self._device = None
        self._service = options.service
        if self.local:
            self._device = local_device(device_name, n_qubits)
            self._check_width()
            ignored = [k for k, v in options.public_dict().items()
                       if k in LOCAL_NO_EFFECT and v not in (None, False)]
            if ignored:
                log.info("options %s have no effect in local testing mode (they apply on IBM hardware)", ignored)
        elif self._service is None:
            self.credentials = creds.resolve_credentials(options.instance)  # raises before any network call
        self._store = None

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
            fetch = ((lambda: svc.least_busy(min_num_qubits=self.n_qubits, operational=True, simulator=False))
                     if self.device_name == "least_busy" else (lambda: svc.backend(self.device_name)))
            try:
                self._device = with_retries(fetch, what=f"looking up device {self.device_name}",
                                            retries=opts.max_retries, backoff=opts.backoff)
            except JobFailedError:
                raise
            except Exception as exc:  # noqa: BLE001 - an unknown device name, typically
                raise BackendError(f"IBM Quantum has no device {self.device_name!r} for this account: "
                                   f"{creds.redact(str(exc))}; try 'ibm:least_busy'") from None
            self._check_width()
        return self._device

    def _check_width(self):
        if self.n_qubits > self._device.num_qubits:
            raise BackendError(f"the circuit needs {self.n_qubits} qubits but {self._device.name} has "
                               f"{self._device.num_qubits}; use fewer qubits or a larger device")

    @property
    def store(self) -> JobStore | None:
        if self._store is None and self.options.store is not False:
            path = None if self.options.store is True else self.options.store
            self._store = JobStore(path)
        return self._store

    def seed_state(self) -> dict:
        """Checkpoint hook: how far the job seed stream has advanced (qml.train.checkpoint saves it)."""
        return {"seeds_used": self.seeds_used}

    def set_seed_state(self, state: dict) -> None:
        self.seeds_used = int(state["seeds_used"])

    def make_executor(self, spec) -> "RuntimeExecutor":
        """Return the packed executor ``run(inputs (B, F), weights) -> (B, n_outputs)`` for ``spec``."""
        if spec.n_qubits > self.n_qubits:
            raise BackendError(f"the spec has {spec.n_qubits} qubits but the backend was built for {self.n_qubits}")
        return RuntimeExecutor(self, spec)

    def __repr__(self):
        cost = f"precision={self.options.precision}" if self.shots is None else f"shots={self.shots}"
        where = "local" if self.local else (repr(self.credentials) if self.credentials else "service")
        return f"IBMBackend({self.name!r}, {cost}, mode={self.options.mode!r}, {where})"


class RuntimeExecutor:
    """Runs a spec on an :class:`IBMBackend`, one packed job per call.

    Attributes:
        stats: totals over the executor's life: ``jobs``, ``pubs``, ``circuits``, ``shots``,
            ``jobs_reused`` (taken from the job store instead of submitted).
        last: the same counts for the latest call; ``job_ids``: every job id sent, in order.
    """

    def __init__(self, backend: IBMBackend, spec):
        self.backend = backend
        self.spec = spec
        self.stats = dict.fromkeys(COUNTERS, 0)
        self.last = dict.fromkeys(COUNTERS, 0)
        self.job_ids: list[str] = []
        self._mode = None

    def __call__(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if inputs.ndim == 1:
            inputs = inputs.reshape(1, -1)
        self._check_differentiable(inputs)
        traced = trace(self.spec, inputs, weights)
        grad_cols = traced.grad_cols if torch.is_grad_enabled() else []
        self.last = dict.fromkeys(COUNTERS, 0)

        def evaluate(angles: np.ndarray, cols):
            opts = self.backend.options
            compiled = compile_circuit(traced, self.backend.device, optimization_level=opts.optimization_level,
                                       seed=self.backend.seed)
            fp = fingerprint(traced.key, self.backend.name, angles, list(cols), opts.gradient, opts.spsa_epsilon,
                             self.backend.shots_per_circuit, opts.optimization_level, self.backend.seed)
            rng = np.random.default_rng([int(fp[:15], 16), self.backend.seed or 0])
            p = plan(angles, cols, method=opts.gradient, epsilon=opts.spsa_epsilon, rng=rng)
            evs = self._run(compiled, p.values[:, compiled.columns], fp)
            return p.split(evs)

        out = PackedEstimate.apply(traced.angles, evaluate, grad_cols)
        return out.to(inputs.dtype)

    def _check_differentiable(self, inputs: torch.Tensor) -> None:
        spec = self.spec
        if (spec.embedding == "amplitude" and spec.n_inputs < 2**spec.n_qubits and inputs.requires_grad
                and torch.is_grad_enabled()):
            raise ConfigurationError(
                f"the amplitude embedding pads {spec.n_inputs} features with zeros to {2**spec.n_qubits} "
                "amplitudes, and its gate decomposition (Mottonen state preparation) has no input derivative "
                "at zero amplitudes, so ibm: backends cannot differentiate it with respect to the inputs. "
                f"Use n_inputs={2**spec.n_qubits}, another embedding, or inputs that do not require grad.")

    # -- one job -------------------------------------------------------------------------
    def _run(self, compiled, values: np.ndarray, fp: str) -> np.ndarray:
        backend, opts = self.backend, self.backend.options
        n_evals = values.shape[0]
        n_out = len(compiled.observables)
        step = context.current()
        store = backend.store
        if store is not None and step is not None and step.run_id is not None:
            evs = self._resume(store, step, fp, n_out, n_evals)
            if evs is not None:
                return evs
        shots = (backend.shots_per_circuit or 0) * n_evals
        self._guard(shots)
        pub = (compiled.isa, [[o] for o in compiled.observables], values)
        estimator = self._estimator()
        job = with_retries(lambda: estimator.run([pub]), what=f"submitting to {backend.name}",
                           retries=opts.max_retries, backoff=opts.backoff)
        job_id = str(job.job_id())
        backend.seeds_used += 1
        self.job_ids.append(job_id)
        for name, value in (("jobs", 1), ("pubs", 1), ("circuits", n_evals), ("shots", shots)):
            self._count(name, value)
        backend.usage["jobs"] += 1
        backend.usage["shots"] += shots
        log.info("submitted job %s to %s: 1 PUB, %d circuits, %d shots", job_id, backend.name, n_evals, shots)
        if store is not None:
            store.add(job_id=job_id, backend=backend.name, fingerprint=fp, pub_shapes=[[n_out, n_evals]],
                      options=dict(opts.public_dict(), shots=backend.shots, seed=backend.seed),
                      run_id=getattr(step, "run_id", None), epoch=getattr(step, "epoch", None),
                      step=getattr(step, "step", None), local=backend.local)
        return self._collect(job, store, n_out, n_evals)

    def _collect(self, job, store, n_out: int, n_evals: int) -> np.ndarray:
        opts = self.backend.options
        job_id = str(job.job_id())
        try:
            in_process = self.backend.local or opts.estimator is not None
            result = wait_for(job, timeout=opts.timeout, poll_interval=opts.poll_interval,
                              retries=opts.max_retries, backoff=opts.backoff, blocking=in_process)
            data = result[0].data
            evs = np.broadcast_to(np.asarray(data.evs, dtype=np.float64).reshape(n_out, -1), (n_out, n_evals))
            stds = np.broadcast_to(np.asarray(data.stds, dtype=np.float64).reshape(n_out, -1), (n_out, n_evals))
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
        return np.array(evs)

    def _resume(self, store, step, fp: str, n_out: int, n_evals: int):
        rec = store.find(step.run_id, step.epoch, step.step, fp)
        if rec is None:
            return None
        if rec.status == DONE and rec.result is not None:
            log.info("reusing finished job %s for run %s step %s", rec.job_id, step.run_id, step.step)
            self._count("jobs_reused", 1)
            self.backend.seeds_used += 1  # the reused job drew this seed when it ran
            return rec.result["evs"]
        if rec.local:  # a local job died with its process: mark it, submit again (same seed)
            store.set_status(rec.job_id, FAILED, "lost: its process ended before it finished (local testing mode, "
                             "nothing was charged); resubmitted on resume")
            return None
        opts = self.backend.options
        try:
            job = with_retries(lambda: self.backend.service.job(rec.job_id), what=f"retrieving job {rec.job_id}",
                               retries=opts.max_retries, backoff=opts.backoff)
        except Exception as exc:  # noqa: BLE001
            if is_not_found(exc):
                store.set_status(rec.job_id, FAILED, "not found by the service on resume")
                return None
            raise
        log.info("resuming pending job %s for run %s step %s", rec.job_id, step.run_id, step.step)
        self._count("jobs_reused", 1)
        self.backend.seeds_used += 1
        return self._collect(job, store, n_out, n_evals)

    def _guard(self, shots: int) -> None:
        opts, used = self.backend.options, self.backend.usage
        if opts.max_jobs is not None and used["jobs"] + 1 > opts.max_jobs:
            raise CostLimitError(
                f"sending another job would exceed max_jobs={opts.max_jobs} ({used['jobs']} sent so far "
                f"on {self.backend.name}). Raise max_jobs, train for fewer steps, or check the plan with "
                "qml.runtime.estimate(...) first.")
        if opts.max_shots is not None and used["shots"] + shots > opts.max_shots:
            raise CostLimitError(
                f"the next job needs {shots} shots and would bring the total to {used['shots'] + shots}, "
                f"over max_shots={opts.max_shots}. Raise max_shots, lower shots/precision, use a smaller batch "
                "or gradient='spsa', or check the plan with qml.runtime.estimate(...) first.")

    def _count(self, name: str, value) -> None:
        self.stats[name] += value
        self.last[name] += value
        context.record(name, value)

    def _estimator(self):
        backend, opts = self.backend, self.backend.options
        if opts.estimator is not None:
            return opts.estimator
        seed = None if backend.seed is None else backend.seed + backend.seeds_used
        est_opts = opts.estimator_options(shots=backend.shots, seed=seed, local=backend.local)
        device = backend.device
        service = backend.service
        if service is not None and callable(getattr(service, "estimator", None)):
            return service.estimator(backend=device, mode=opts.mode, options=est_opts)
        from qiskit_ibm_runtime import Batch, EstimatorV2, Session

        if opts.mode == "job":
            mode = device
        else:
            if self._mode is None:
                self._mode = (Batch if opts.mode == "batch" else Session)(backend=device)
            mode = self._mode
        return EstimatorV2(mode=mode, options=est_opts)

    def close(self) -> None:
        """Close the Batch/Session this executor opened (no-op in job mode)."""
        if self._mode is not None:
            try:
                self._mode.close()
            finally:
                self._mode = None

    def __repr__(self):
        return f"RuntimeExecutor({self.backend!r}, stats={self.stats})"
