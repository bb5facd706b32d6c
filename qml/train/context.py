"""Moved to :mod:`qml.backends.context` (executors read it; ``fit`` writes it)."""

from ..backends.context import StepContext, current, note, record, step  # noqa: F401
