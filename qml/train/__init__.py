"""Training: ``fit`` with progress, history, atomic checkpoints, resume and a NaN guard.

Public names load on first use, so ``qml train --help`` does not import torch.
"""

from __future__ import annotations

import importlib
import sys
import types

_LAZY = {
    "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
    "evaluate": "fit",
    "fit": "fit",
    "History": "history",
}


def __getattr__(name: str):
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'qml.train' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = sorted(_LAZY)


def __dir__():
    return __all__


class _Package(types.ModuleType):
    """``qml.train.fit`` is the function, also after the submodule ``qml.train.fit`` was imported
    (the import system sets a package attribute of the submodule's name)."""

    def __setattr__(self, name, value):
        if name == "fit" and isinstance(value, types.ModuleType):
            value = value.fit
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
