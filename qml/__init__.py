"""qml: hybrid quantum-classical machine learning for molecular energies.

The public face is short; every name loads on first use (:mod:`qml._lazy`), so ``import qml``
imports neither torch nor PennyLane nor Qiskit.
"""

from __future__ import annotations

from ._lazy import attach

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "QuantumLayer": "qml.layers:QuantumLayer",
        "HybridModel": "qml.models.hybrid:HybridModel",
        "PESModel": "qml.models.pes:PESModel",
        "fit": "qml.train.fit:fit",
        "sweep": "qml.train.sweep:sweep",
        "parallel": "qml.parallel",
        "History": "qml.train.history:History",
        "load_dataset": "qml.data:load_dataset",
        "list_datasets": "qml.data:list_datasets",
        "compress": "qml.compression:compress",
        "backends": "qml.backends",
        "chem": "qml.chem",
        "circuits": "qml.circuits",
        "data": "qml.data",
        "errors": "qml.errors",
        "layers": "qml.layers",
        "models": "qml.models",
        "plot": "qml.plot",
        "runtime": "qml.runtime",
        "sim": "qml.sim",
        "tables": "qml.tables",
        "export": "qml.export",
        "train": "qml.train",
    },
    eager=("__version__",),
)
