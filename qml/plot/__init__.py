"""Plots people would rather look at than read: training history, predictions, circuits, PES curves.

Every function returns a matplotlib ``Figure`` (and draws into ``ax`` when given); none calls
``plt.show()``, so they work in notebooks, scripts and headless CI alike.
"""

from __future__ import annotations

from .basic import circuit as circuit
from .basic import history as history
from .basic import predictions as predictions
from .pes_model import pes_model as pes_model


def __getattr__(name):
    # Chemistry plots live beside the chemistry they draw; import them on first use.
    if name in ("pes", "pes_errors"):
        from . import pes as _pes

        return getattr(_pes, name)
    raise AttributeError(f"module 'qml.plot' has no attribute {name!r}")
