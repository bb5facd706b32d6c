"""Trainable models: HybridModel (classical -> quantum -> classical) and PESModel."""

from .baseline import MLPRegressor as MLPRegressor
from .baseline import matching_hidden as matching_hidden
from .hybrid import HybridModel as HybridModel


def __getattr__(name):
    if name == "PESModel":
        from .pes import PESModel

        return PESModel
    raise AttributeError(f"module 'qml.models' has no attribute {name!r}")
