"""Training: ``fit`` with progress, history, atomic checkpoints, resume and a NaN guard.

Public names load on first use, so ``qml train --help`` does not import torch.
"""

from __future__ import annotations

import sys
import types

from .._lazy import attach

_LAZY = {
    "load_checkpoint": ".checkpoint:load_checkpoint",
    "save_checkpoint": ".checkpoint:save_checkpoint",
    "evaluate": ".fit:evaluate",
    "fit": ".fit:fit",
    "FitState": ".state:FitState",
    "History": ".history:History",
    "callbacks": ".callbacks",
    "CSVLogger": ".callbacks:CSVLogger",
    "TensorBoardLogger": ".callbacks:TensorBoardLogger",
    "EarlyStopping": ".callbacks:EarlyStopping",
    "LivePlot": ".callbacks:LivePlot",
}


__getattr__, __dir__, __all__ = attach(__name__, _LAZY)


class _Package(types.ModuleType):
    """``qml.train.fit`` is the function, also after the submodule ``qml.train.fit`` was imported
    (the import system sets a package attribute of the submodule's name)."""

    def __setattr__(self, name, value):
        if name == "fit" and isinstance(value, types.ModuleType):
            value = value.fit
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
