"""``backend="auto"``: the one place that picks a simulator, for every capability and every model.

On the first call of a request (an expval executor for a circuit, an energy evaluator or a state
function for an ansatz), ``auto`` times the local simulators that can serve it on a capped
sub-batch (at most :data:`SUB_BATCH` rows), so deciding costs the same for 10 rows or 100,000:

* each candidate runs once to warm up, then :data:`REPEATS` times on the sub-batch (the best
  counts); its time on the real batch is predicted by the candidate's own cost model
  (:meth:`Backend.predicted_seconds <qml.backends.base.Backend.predicted_seconds>`; by default from
  how it runs a batch): a backend that runs
  one circuit per row (``Backend.min_seconds_per_row > 0``, e.g. lightning.qubit's adjoint
  method) scales with the rows, ``t * B / SUB_BATCH``; a broadcast simulator (one execution per
  batch) is compared at the sub-batch size, where its cost is mostly fixed overhead. So a
  per-sample simulator that wins on 8 rows is not chosen for 100,000. (A line fitted through
  two small sizes was tried and dropped: on a loaded machine timing noise made it predict a
  minute for a broadcast simulator that takes one second.)
* candidates are tried in :data:`CANDIDATES` order (the registered classes with an ``auto_rank``); one that runs a circuit per row is skipped
  without running when its lower bound (``min_seconds_per_row`` times the batch) already
  exceeds the best prediction; :data:`BUDGET_S` seconds after the first
  candidate was measured, the rest are skipped, and a candidate whose warm-up is
  :data:`SLOW_FACTOR` times slower than the best measured so far is not timed further;
* the decision is kept in a bounded LRU cache (:data:`MAX_DECISIONS` entries) keyed by the
  workload's shape (capability, circuit or ansatz, batch size rounded up to a power of two, dtype,
  gradients on or off, shots); :func:`clear_cache` empties it.

What it chose, the timings, the prediction and the seconds spent deciding are in
:attr:`AutoBackend.decision` (shown in the repr of the model that uses it, in ``VQEResult``
and, during ``qml.fit``, in the history record of the epoch that decided).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace

import torch

from ..errors import BackendError
from . import context
from .base import CAPABILITIES, Backend, check_energy_batch

#: Most rows a candidate is timed on.
SUB_BATCH = 8
#: Timed runs per size (the best counts).
REPEATS = 2
#: Seconds after the first measurement after which the remaining candidates are skipped.
BUDGET_S = 2.0
#: A candidate whose warm-up is this many times slower than the best measured so far is not timed further.
SLOW_FACTOR = 20.0
#: Decisions kept in the cache.
MAX_DECISIONS = 128


@dataclass
class Decision:
    """What ``auto`` chose for one workload, and why.

    Attributes:
        capability: ``"expval"``, ``"energy"`` or ``"state"``.
        chosen: the backend that runs the workload.
        timings: seconds per call at the sub-batch size, per candidate (``inf``: failed or skipped).
        predicted: seconds per call predicted at the real batch size, per measured candidate.
        batch: rows of the batch that triggered the decision; sub_batch: rows timed.
        decide_seconds: wall time spent deciding (0 when taken from the cache).
        cached: taken from the cache of an earlier decision.
        notes: why a candidate was skipped or failed.
    """

    capability: str
    chosen: str
    timings: dict = field(default_factory=dict)
    predicted: dict = field(default_factory=dict)
    batch: int = 0
    sub_batch: int = 0
    decide_seconds: float = 0.0
    cached: bool = False
    notes: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-friendly copy (``inf`` becomes ``None``)."""
        d = asdict(self)
        for k in ("timings", "predicted"):
            d[k] = {n: (None if not math.isfinite(v) else round(v, 6)) for n, v in d[k].items()}
        d["decide_seconds"] = round(d["decide_seconds"], 6)
        return d

    def summary(self) -> str:
        """One line: chosen backend, deciding time, per-candidate timings."""
        if not self.timings:
            why = "kept from the copy it was made from" if self.notes.get("restored") else "the only candidate"
            return f"auto chose {self.chosen!r} ({why})"
        times = ", ".join(
            f"{n} {'-' if not math.isfinite(t) else f'{t * 1e3:.3g} ms'}" for n, t in self.timings.items()
        )
        how = "cached decision" if self.cached else f"decided in {self.decide_seconds:.3g} s"
        return f"auto chose {self.chosen!r} ({how} on {self.sub_batch} of {self.batch} rows: {times})"

    def _repr_html_(self) -> str:
        from ..tables import decision, html

        return html(decision(self), self.summary())


class _LRU(OrderedDict):
    """A dict that keeps its ``maxsize`` most recently used entries."""

    def __init__(self, maxsize: int):
        super().__init__()
        self.maxsize = maxsize

    def get(self, key, default=None):
        if key in self:
            self.move_to_end(key)
            return self[key]
        return default

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.maxsize:
            self.popitem(last=False)


_DECISIONS: _LRU = _LRU(MAX_DECISIONS)


def clear_cache() -> None:
    """Forget every cached decision (the next request is timed again)."""
    _DECISIONS.clear()


def _bucket(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def decide(capability: str, candidates, trial, batch: int, key=None, models=None) -> Decision:
    """Time ``trial(name, rows)`` for each candidate and return the :class:`Decision`.

    Args:
        capability: what is asked (for the record).
        candidates: backend names in order of preference.
        trial: ``trial(name, rows)`` runs the workload of ``rows`` rows on ``name`` (builds lazily).
        batch: rows of the real batch.
        key: cache key; ``None`` disables the cache.
        models: ``{name: backend}``, the cost model of each candidate: its
            :meth:`~qml.backends.base.Backend.predicted_seconds` turns the time measured on the
            sub-batch into a prediction for ``batch`` rows, and its ``min_seconds_per_row`` lets a
            candidate be skipped without running when that bound times ``batch`` already exceeds
            the best prediction (default: the measured time, no bound).

    Raises:
        BackendError: every candidate failed (the last error is chained).
    """
    if key is not None and (hit := _DECISIONS.get(key)) is not None:
        return replace(hit, cached=True, decide_seconds=0.0, batch=batch)
    if len(candidates) == 1:
        decision = Decision(capability, candidates[0], batch=batch, sub_batch=0)
    else:
        decision = _time_candidates(capability, tuple(candidates), trial, batch, models or {})
    if key is not None:
        _DECISIONS[key] = decision
    return decision


def _skip_reason(t_first, model, batch: int, predicted: dict) -> str | None:
    """Why a candidate is not run at all: the deciding budget is spent, or its floor already loses."""
    if t_first is not None and time.perf_counter() - t_first > BUDGET_S:
        return f"skipped: deciding budget of {BUDGET_S} s spent"
    floor = getattr(model, "min_seconds_per_row", 0.0) * batch
    if predicted and floor > min(predicted.values()):
        return (
            f"skipped: runs one circuit per row, at least {floor:.3g} s for {batch} rows "
            f"against {min(predicted.values()):.3g} s predicted for the best"
        )
    return None


def _time_candidates(capability: str, candidates: tuple, trial, batch: int, models: dict) -> Decision:
    """Measure the candidates in order on ``min(batch, SUB_BATCH)`` rows and keep the best prediction."""
    t_start = time.perf_counter()
    m = min(batch, SUB_BATCH)
    timings, predicted, notes = {}, {}, {}
    last_error, t_first = None, None  # t_first: when the first candidate was measured (the budget counts from there)
    for name in candidates:
        model = models.get(name)
        if skip := _skip_reason(t_first, model, batch, predicted):
            timings[name], notes[name] = math.inf, skip
            continue
        try:
            warm = _timed(lambda name=name: trial(name, m))
            if warm > SLOW_FACTOR * min(predicted.values(), default=math.inf):
                timings[name] = warm
                notes[name] = f"not timed further: warm-up {warm:.3g} s > {SLOW_FACTOR:g}x the best"
                continue
            timings[name] = t_m = min(_timed(lambda name=name: trial(name, m)) for _ in range(REPEATS))
            predicted[name] = t_m if model is None else model.predicted_seconds(t_m, batch, m)
            t_first = t_first or time.perf_counter()
        except Exception as exc:  # noqa: BLE001 - a candidate that fails is not chosen
            timings[name], notes[name] = math.inf, f"failed: {type(exc).__name__}: {str(exc)[:200]}"
            last_error = exc
    if not predicted:
        raise BackendError(f"no backend among {list(candidates)} could run this workload: {notes}") from last_error
    chosen = min(predicted, key=lambda n: (predicted[n], candidates.index(n)))
    return Decision(capability, chosen, timings, predicted, batch, m, time.perf_counter() - t_start, notes=notes)


class AutoBackend(Backend):
    """Backend ``"auto"``: picks, per request, the fastest local simulator that can serve it.

    Attributes:
        decision: the latest :class:`Decision` (``None`` before the first call); ``decisions``
            holds the latest per capability.
        chosen: name of the backend chosen last (``None`` before the first call); ``str(auto)``
            is that name once decided.
        timings: seconds per call measured per candidate in the latest decision.
        candidates: the candidates considered in the latest decision.
    """

    capabilities = frozenset(CAPABILITIES)
    samples = True
    accepts = ("candidates",)
    description = "times the local simulators that can serve the request on a capped sub-batch and keeps the fastest"

    def __init__(self, name: str = "auto", *, n_qubits: int, shots=None, seed=None, **options):
        super().__init__(name, n_qubits=n_qubits, shots=shots, seed=seed, **options)
        self._pool = tuple(self.options.get("candidates") or candidates())
        self.decisions: dict[str, Decision] = {}
        self.decision: Decision | None = None
        #: sub-backends built so far, one per name (their shot samplers' seed streams are checkpointed)
        self._subs: dict[str, Backend] = {}
        #: choices restored from a checkpoint or kept by a copy: used instead of timing again
        self._forced: dict[str, str] = {}
        self.candidates: tuple = ()
        if not self.eligible("expval") and not self.eligible("energy"):
            raise BackendError(
                f"no local simulator takes a {n_qubits}-qubit circuit"
                + (" with shots" if shots else "")
                + f"; candidates were {list(self._pool)}"
            )

    def eligible(self, capability: str) -> tuple:
        """The candidates that have ``capability``, take this width and (with shots) sample."""
        from . import backend_class

        out = []
        for name in self._pool:
            cls = backend_class(name)
            if capability not in cls.capabilities:
                continue
            if cls.max_qubits is not None and self.n_qubits > cls.max_qubits:
                continue
            if self.shots is not None and not cls.samples:
                continue
            out.append(name)
        return tuple(out)

    def _candidates(self, capability: str) -> tuple:
        cands = self.eligible(capability)
        if not cands:
            raise BackendError(
                f"no local simulator can compute {CAPABILITIES[capability]} for a {self.n_qubits}-qubit "
                "circuit" + (" with shots" if self.shots else "") + "; name a backend explicitly"
            )
        return cands

    def backend(self, name: str) -> Backend:
        """The candidate ``name`` built for this width, shots and seed (once)."""
        from . import resolve

        if name not in self._subs:
            self._subs[name] = resolve(name, n_qubits=self.n_qubits, shots=self.shots, seed=self.seed)
        return self._subs[name]

    def decide(self, capability: str, candidates, trial, batch: int, key, models=None) -> Decision:
        """:func:`decide`, except that timing draws no shots from the seed streams (they are rewound),
        and a choice restored from a checkpoint is taken as is: a resumed run samples exactly as an
        uninterrupted one."""
        if capability in self._forced:
            notes = {"restored": "chosen before this copy or checkpoint was made"}
            return Decision(capability, self._forced[capability], batch=batch, sub_batch=0, cached=True, notes=notes)
        before = {name: _stream(sub) for name, sub in self._subs.items()}
        try:
            return decide(capability, candidates, trial, batch, key, models)
        finally:
            for name, sub in self._subs.items():
                if name in before and before[name] is not None:
                    sub.set_seed_state(before[name])
                elif name not in before and callable(getattr(sub, "reset_seed_state", None)):
                    sub.reset_seed_state()

    def seed_state(self) -> dict:
        """Checkpoint hook: the choices made so far and the seed streams of the chosen simulators."""
        return {
            "chosen": {cap: d.chosen for cap, d in self.decisions.items()},
            "streams": {name: s for name, sub in self._subs.items() if (s := _stream(sub)) is not None},
        }

    def set_seed_state(self, state: dict) -> None:
        self._forced = dict(state.get("chosen", {}))
        for name, stream in state.get("streams", {}).items():
            self.backend(name).set_seed_state(stream)

    def carried_state(self):
        """A copy (pickled model, scan point) keeps the choices made so far, not the seed streams."""
        chosen = {**self._forced, **{cap: d.chosen for cap, d in self.decisions.items()}}
        return {"chosen": chosen} if chosen else None

    def restore_carried_state(self, state) -> None:
        self._forced = dict(state["chosen"])

    def models(self, candidates) -> dict:
        """``{name: backend}`` of the candidates: each is its own cost model (objects cheap to build)."""
        return {name: self.backend(name) for name in candidates}

    def _record(self, decision: Decision, candidates) -> None:
        self.decision = self.decisions[decision.capability] = decision
        self.candidates = tuple(candidates)
        context.note("backend", decision.chosen)
        context.note("auto_decide_s", round(decision.decide_seconds, 6))
        context.note("auto_timings_s", decision.as_dict()["timings"])

    @property
    def chosen(self) -> str | None:
        if self.decision is not None:
            return self.decision.chosen
        return next(iter(self._forced.values()), None)

    @property
    def timings(self) -> dict:
        return {} if self.decision is None else dict(self.decision.timings)

    # -- capabilities: one deferred object for all three ------------------------------------
    def make_executor(self, spec):
        return Deferred(self, _EXPVAL, spec, self._candidates("expval"))

    def energy_evaluator(self, ansatz, n_qubits: int):
        return Deferred(self, _ENERGY, (ansatz, n_qubits), self._candidates("energy"))

    def state_fn(self, ansatz, n_qubits: int):
        """The state function of what ``auto`` already chose when that simulator has the state
        (a PESModel's states come from the simulator of its energies), else decided on its first call."""
        candidates = self._candidates("state")
        for name in (d.chosen for d in self.decisions.values()):
            if name in candidates:
                return self.backend(name).state_fn(ansatz, n_qubits)
        return Deferred(self, _STATE, (ansatz, n_qubits), candidates)

    def summary(self) -> str:
        if self.decision is not None:
            return f"{self.name!r} -> {self.decision.summary()}"
        if self._forced:
            return f"{self.name!r} -> {self.chosen!r} (chosen before this copy was made)"
        return f"{self.name!r} (decides on the first batch)"

    def __repr__(self) -> str:
        if self.decision is None:
            return "AutoBackend(not decided yet)"
        return f"AutoBackend({self.decision.summary()})"


def candidates() -> tuple[str, ...]:
    """Local simulators ``auto`` may choose, in the order they are tried (and preferred on ties): the
    registered classes with an ``auto_rank`` (``CANDIDATES`` is this, read when asked)."""
    from . import auto_candidates

    return auto_candidates()


def __getattr__(name: str):
    if name == "CANDIDATES":  # derived from the registered classes each time (a new backend joins it)
        return candidates()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _stream(backend):
    """A backend's seed state, or ``None`` when it has no seed stream."""
    get = getattr(backend, "seed_state", None)
    return get() if callable(get) else None


def _ansatz_key(ansatz, n_qubits: int) -> tuple:
    return (
        ansatz.name,
        n_qubits,
        tuple(ansatz.hf_state),
        tuple(ansatz.weight_shape),
        tuple(sorted(getattr(ansatz, "options", {}).items())),
    )


@dataclass(frozen=True)
class _Capability:
    """How ``auto`` serves one capability: build the candidate's object, key the workload, time one trial."""

    name: str
    build: object  # (backend, workload) -> the capability's callable
    key: object  # (workload, args, training) -> cache-key part
    trial: object  # (fn, rows, args, training) -> None: run and (training) backpropagate
    check: object = None  # (workload, args) -> args: validate the call before anything runs
    prepare: object = None  # (args) -> None: work that is no backend's cost (built before timing)


def _expval_trial(run, rows, args, training):
    inputs, weights = args
    x = inputs[:rows].detach().clone().requires_grad_(inputs.requires_grad and training)
    out = run(x, weights.detach().clone().requires_grad_(training))
    if training:
        out.sum().backward()


def _energy_trial(ev, rows, args, training):
    params, hamiltonians = args
    e = ev(params[:rows].detach().clone().to(torch.float64).requires_grad_(training), hamiltonians[:rows])
    if training:
        e.sum().backward()


def _state_trial(fn, rows, args, training):
    psi = fn(args[0][:rows].detach().clone().to(torch.float64).requires_grad_(training))
    if training:
        psi.abs().sum().backward()


def _prepare_hamiltonians(args) -> None:
    for entry in list(args[1])[:SUB_BATCH]:
        entry.operator  # noqa: B018 - build the Hamiltonians first: they are not a backend's cost


_EXPVAL = _Capability(
    "expval",
    build=lambda be, spec: be.make_executor(spec),
    key=lambda spec, args, training: (spec, args[0].dtype, args[0].requires_grad and training),
    trial=_expval_trial,
)
_ENERGY = _Capability(
    "energy",
    build=lambda be, w: be.energy_evaluator(*w),
    key=lambda w, args, training: _ansatz_key(*w),
    trial=_energy_trial,
    check=lambda w, args: (args[0], check_energy_batch(w[0], *args)),
    prepare=_prepare_hamiltonians,
)
_STATE = _Capability(
    "state", build=lambda be, w: be.state_fn(*w), key=lambda w, args, training: _ansatz_key(*w), trial=_state_trial
)


class Deferred:
    """What ``auto`` hands out for every capability (executor, energy evaluator, state function):
    decides on its first call which candidate serves it, then delegates every call to that
    candidate's own object. ``last_stderr`` and ``stats`` are the chosen evaluator's."""

    def __init__(self, auto: AutoBackend, capability: _Capability, workload, candidates):
        self.backend, self.capability, self.workload, self.candidates = auto, capability, workload, candidates
        self.inner = None

    @property
    def name(self) -> str:
        return self.backend.chosen or self.backend.name

    @property
    def last_stderr(self):
        return getattr(self.inner, "last_stderr", None)

    @property
    def stats(self) -> dict:
        return getattr(self.inner, "stats", {})

    def __call__(self, *args):
        if self.capability.check is not None:
            args = self.capability.check(self.workload, args)
        if self.inner is None:
            self.inner = self._choose(args)
        return self.inner(*args)

    def _choose(self, args):
        cap, auto = self.capability, self.backend
        training = torch.is_grad_enabled()
        batch = int(args[0].shape[0])
        key = (cap.name, cap.key(self.workload, args, training), _bucket(batch), training, auto.shots, self.candidates)
        if cap.prepare is not None:
            cap.prepare(args)
        built = {}

        def trial(name, rows):
            if name not in built:
                built[name] = cap.build(auto.backend(name), self.workload)
            cap.trial(built[name], rows, args, training)

        decision = auto.decide(cap.name, self.candidates, trial, batch, key, auto.models(self.candidates))
        auto._record(decision, self.candidates)
        return built.get(decision.chosen) or cap.build(auto.backend(decision.chosen), self.workload)

    def __repr__(self) -> str:
        return f"Deferred({self.capability.name}, {self.backend!r})"
