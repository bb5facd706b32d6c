"""Molecular energy data sets shipped with qml, as validated torch Datasets.

``qml.list_datasets()`` names them; ``qml.load_dataset(name, split=...)`` loads one;
``qml.data.build(name)`` regenerates one with PySCF and ``qml.data.verify(name, rows=...)``
recomputes rows and compares them with the shipped file.

Public names load on first use (as in :mod:`qml.runtime`), so ``qml datasets --help`` does not
import torch.
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "build": ".builder:build",
    "verify": ".builder:verify",
    "MolecularDataset": ".dataset:MolecularDataset",
    "list_datasets": ".dataset:list_datasets",
    "load_dataset": ".dataset:load_dataset",
    "names": ".registry:names",
}


__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
