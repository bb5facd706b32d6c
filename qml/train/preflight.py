"""Pre-flight of a training run: every backend of the model prices the whole run before it starts.

The protocol (no device names here): a module's ``backend`` may define
``cost_plan(module, calls) -> estimate | None``, where ``calls`` lists
``(batch_size, with_gradient, how_many)`` triples, one executor call each; it raises
(``qml.errors.CostLimitError`` for hardware limits) when the run must not start.
Backends without the method (simulators) cost nothing and are skipped.
"""

from __future__ import annotations

import math


def train_calls(
    n_train: int, batch_size: int, epochs: int, *, evals_per_step: int = 1, n_val: int = 0, val_batch_size: int = 256
) -> list[tuple[int, bool, int]]:
    """The executor calls of ``epochs`` epochs of ``qml.fit``: full and last partial batches with
    gradients (``evals_per_step`` each: the closures an optimizer step may evaluate, 1 for Adam,
    up to ``max_eval`` for L-BFGS), then the validation batches without."""
    full, last = divmod(n_train, batch_size)
    calls = [(batch_size, True, full * epochs * evals_per_step)]
    if last:
        calls.append((last, True, epochs * evals_per_step))
    if n_val:
        vfull, vlast = divmod(n_val, val_batch_size)
        calls.append((val_batch_size, False, vfull * epochs))
        if vlast:
            calls.append((vlast, False, epochs))
    return [c for c in calls if c[2] > 0]


def preflight(model, calls) -> list:
    """Ask every distinct backend in ``model`` for the cost of ``calls``; return their estimates.

    Raises:
        CostLimitError: a backend's plan exceeds its limits (raised by the backend, before any job).
    """
    from ..backends import in_model

    plans = []
    for module, backend in in_model(model).values():
        planner = getattr(backend, "cost_plan", None)
        plan = planner(module, calls) if callable(planner) else None
        if plan is not None:
            plans.append(plan)
    return plans


def evals_per_step(optimizer) -> int:
    """Loss evaluations one optimizer step may make (``max_eval`` for L-BFGS, else 1)."""
    defaults = getattr(optimizer, "defaults", {})
    if type(optimizer).__name__ == "LBFGS":
        return int(defaults.get("max_eval") or math.ceil(defaults.get("max_iter", 20) * 1.25))
    return 1
