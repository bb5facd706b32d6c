"""Plots people would rather look at than read: training history, predictions, circuits, PES curves.

Every function returns a matplotlib ``Figure`` (and draws into ``ax`` when given); none calls
``plt.show()``, so they work in notebooks, scripts and headless CI alike.
"""

from __future__ import annotations

from .basic import circuit as circuit
from .basic import history as history
from .basic import predictions as predictions
from .pes import pes as pes
from .pes import pes_errors as pes_errors
from .pes_model import pes_model as pes_model
from .pes_model import pes_model_surface as pes_model_surface
