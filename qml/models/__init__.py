"""Trainable models: HybridModel (classical -> quantum -> classical) and PESModel."""

from .hybrid import HybridModel as HybridModel


def __getattr__(name):
    if name == "PESModel":
        from .pes import PESModel

        return PESModel
    raise AttributeError(f"module 'qml.models' has no attribute {name!r}")
