"""Which training step is running, for code far below ``fit`` (hardware executors, job stores).

``fit`` enters :func:`step` around every optimizer step; an executor reads
:func:`current` to tag the jobs it submits (run id, epoch, step) and calls
:func:`record` to count things (jobs, circuits, shots) that ``fit`` adds to the
epoch's entry in the history; :func:`note` attaches a value (such as what ``backend="auto"``
chose and what deciding cost) that ``fit`` copies into that entry as is. Listeners
(:func:`add_listener`; the progress display of ``fit`` is one) see every recorded count as it
happens, so a long step can show the jobs it sent while it waits for them.

It lives in :mod:`qml.backends` because the executors below ``fit`` read it and ``fit`` imports
from the backends, never the other way round.
"""

from __future__ import annotations

import contextlib
import contextvars
import weakref
from dataclasses import dataclass, field


@dataclass
class StepContext:
    run_id: str | None
    epoch: int
    step: int
    counters: dict[str, float] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)


_CURRENT: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar("qml_step", default=None)
_LISTENERS: list = []


def current() -> StepContext | None:
    """The step now running under ``fit``, or ``None`` outside training."""
    return _CURRENT.get()


@contextlib.contextmanager
def step(run_id: str | None, epoch: int, step_index: int):
    """Mark the body as optimizer step ``step_index`` of ``epoch`` in run ``run_id``."""
    ctx = StepContext(run_id, epoch, step_index)
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)


def record(name: str, value: float = 1) -> None:
    """Add ``value`` to counter ``name`` of the running step (no-op outside training)."""
    ctx = _CURRENT.get()
    if ctx is not None:
        ctx.counters[name] = ctx.counters.get(name, 0) + value
        for ref in list(_LISTENERS):
            listener = ref()
            if listener is None:  # its owner is gone (e.g. a fit that raised): forget it
                _LISTENERS.remove(ref)
            else:
                listener(name, value)


def note(name: str, value) -> None:
    """Attach ``value`` to the running step under ``name`` (no-op outside training)."""
    ctx = _CURRENT.get()
    if ctx is not None:
        ctx.notes[name] = value


def add_listener(fn):
    """Call ``fn(name, value)`` on every :func:`record` inside a training step; returns ``fn``.

    Bound methods are held weakly: the listener goes away with its object.
    """
    _LISTENERS.append(weakref.WeakMethod(fn) if hasattr(fn, "__self__") else (lambda: fn))
    return fn


def remove_listener(fn) -> None:
    """Stop calling ``fn`` (no error when it is not registered)."""
    _LISTENERS[:] = [ref for ref in _LISTENERS if ref() is not None and ref() != fn]
