"""Trainable models: HybridModel (classical -> quantum -> classical), PESModel, the MLP baseline."""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "HybridModel": ".hybrid:HybridModel",
        "MLPRegressor": ".baseline:MLPRegressor",
        "matching_hidden": ".baseline:matching_hidden",
        "PESModel": ".pes:PESModel",
    },
)
