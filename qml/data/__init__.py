"""Molecular energy data sets shipped with qml, as validated torch Datasets.

``qml.list_datasets()`` names them; ``qml.load_dataset(name, split=...)`` loads one;
``qml.data.build(name)`` regenerates one with PySCF and ``qml.data.verify(name, rows=...)``
recomputes rows and compares them with the shipped file.
"""

from .builder import build as build
from .builder import verify as verify
from .dataset import MolecularDataset as MolecularDataset
from .dataset import list_datasets as list_datasets
from .dataset import load_dataset as load_dataset
from .registry import names as names
