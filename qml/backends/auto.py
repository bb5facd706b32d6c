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
