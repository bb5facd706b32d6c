"""Molecular energy data sets shipped with qml, as validated torch Datasets.

``qml.list_datasets()`` names them; ``qml.load_dataset(name, split=...)`` loads one;
``qml.data.build(name)`` regenerates one with PySCF and ``qml.data.verify(name, rows=...)``
recomputes rows and compares them with the shipped file.

Public names load on first use (as in :mod:`qml.runtime`), so ``qml datasets --help`` does not
import torch.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "build": "builder",
    "verify": "builder",
    "MolecularDataset": "dataset",
    "list_datasets": "dataset",
    "load_dataset": "dataset",
    "names": "registry",
}


def __getattr__(name: str):
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'qml.data' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = sorted(_LAZY)


def __dir__():
    return __all__
