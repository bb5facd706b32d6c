"""``backend="auto"``: measure the candidates on the real workload and keep the fastest.

The decision is made once per circuit structure and batch size (and cached for
the process), on the first batch the layer sees: each candidate runs a forward
and backward pass once to warm up and then ``repeats`` times timed; a candidate
that fails (for example an adjoint method that cannot differentiate an
amplitude embedding with respect to its inputs) is skipped.
"""

from __future__ import annotations

import time
from typing import Callable

import torch

from ..errors import BackendError

#: Exact simulators that ``auto`` may choose, in order of preference on ties.
EXACT_CANDIDATES = ("default.qubit", "lightning.qubit")

_DECISIONS: dict[tuple, str] = {}


def fastest(candidates, trial: Callable[[str], None], *, repeats: int = 2) -> tuple[str, dict[str, float]]:
    """Time ``trial(name)`` for every candidate and return ``(best_name, {name: seconds})``.

    ``seconds`` is the best of ``repeats`` timed runs after one warm-up run; failing candidates
    get ``float('inf')``.

    Raises:
        BackendError: every candidate failed (the last error is chained).
    """
    timings: dict[str, float] = {}
    last_error = None
    for name in candidates:
        try:
            trial(name)  # warm-up: compilation, caches
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                trial(name)
                best = min(best, time.perf_counter() - t0)
            timings[name] = best
        except Exception as exc:  # noqa: BLE001 - a failing candidate is simply not chosen
            timings[name] = float("inf")
            last_error = exc
    best_name = min(timings, key=timings.get)
    if timings[best_name] == float("inf"):
        raise BackendError(f"no backend among {list(candidates)} could run this circuit") from last_error
    return best_name, timings


def cached_decision(key: tuple) -> str | None:
    return _DECISIONS.get(key)


def remember(key: tuple, name: str) -> None:
    _DECISIONS[key] = name


class AutoBackend:
    """Backend ``"auto"``: on the first batch, time the exact simulators and keep the fastest.

    With ``shots`` set, ``auto`` means ``default.qubit`` with sampling (no timing needed).
    ``chosen`` holds the name picked and ``timings`` the seconds measured per candidate.
    """

    name = "auto"

    def __init__(self, *, n_qubits: int, shots=None, seed=None, candidates=None):
        from .pennylane import MAX_QUBITS

        self.n_qubits, self.shots, self.seed = n_qubits, shots, seed
        self.exact = shots is None
        self.candidates = tuple(candidates or available_candidates())
        limit = max(MAX_QUBITS.get(c, 24) for c in self.candidates)
        if n_qubits > limit:
            raise BackendError(f"the circuit needs {n_qubits} qubits; the local simulators take at most {limit}")
        self.chosen: str | None = "default.qubit" if shots is not None else None
        self.timings: dict[str, float] = {}

    def make_executor(self, spec):
        return _AutoExecutor(self, spec)

    def __repr__(self):
        return f"AutoBackend(chosen={self.chosen!r}, timings={ {k: round(v, 5) for k, v in self.timings.items()} })"


def available_candidates() -> tuple[str, ...]:
    """The exact simulators ``auto`` measures; the fast torch simulator joins when present."""
    try:
        from ..sim import FastDevice  # noqa: F401

        return ("fast",) + EXACT_CANDIDATES
    except ImportError:
        return EXACT_CANDIDATES


class _AutoExecutor:
    def __init__(self, auto: AutoBackend, spec):
        self.auto, self.spec = auto, spec
        self._run = None

    def _executor_for(self, name):
        from . import resolve

        return resolve(name, n_qubits=self.spec.n_qubits, shots=self.auto.shots, seed=self.auto.seed).make_executor(self.spec)

    def _decide(self, inputs, weights):
        # Time what the caller is doing: forward + backward when gradients are on, forward only
        # under torch.no_grad() (inference).
        training = torch.is_grad_enabled()
        key = (self.spec, int(inputs.shape[0]), inputs.dtype, inputs.requires_grad, training)
        name = self.auto.chosen or cached_decision(key)
        if name is None:
            executors = {}

            def trial(candidate):
                if candidate not in executors:
                    executors[candidate] = self._executor_for(candidate)
                x = inputs.detach().clone().requires_grad_(inputs.requires_grad and training)
                w = weights.detach().clone().requires_grad_(training)
                out = executors[candidate](x, w)
                if training:
                    out.sum().backward()

            name, timings = fastest(self.auto.candidates, trial, repeats=2)
            self.auto.timings = timings
            remember(key, name)
        self.auto.chosen = name
        self._run = self._executor_for(name)

    def __call__(self, inputs, weights):
        if self._run is None:
            self._decide(inputs, weights)
        return self._run(inputs, weights)
