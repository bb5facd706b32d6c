"""qml: hybrid quantum-classical machine learning for molecular energies.

The public face is short; heavy modules (chemistry, IBM Runtime, plotting) load on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    # name: (module, attribute or None for the module itself)
    "QuantumLayer": ("qml.layers", "QuantumLayer"),
    "HybridModel": ("qml.models.hybrid", "HybridModel"),
    "PESModel": ("qml.models.pes", "PESModel"),
    "fit": ("qml.train.fit", "fit"),
    "sweep": ("qml.train.sweep", "sweep"),
    "History": ("qml.train.history", "History"),
    "load_dataset": ("qml.data", "load_dataset"),
    "list_datasets": ("qml.data", "list_datasets"),
    "backends": ("qml.backends", None),
    "chem": ("qml.chem", None),
    "circuits": ("qml.circuits", None),
    "data": ("qml.data", None),
    "errors": ("qml.errors", None),
    "layers": ("qml.layers", None),
    "models": ("qml.models", None),
    "plot": ("qml.plot", None),
    "runtime": ("qml.runtime", None),
    "train": ("qml.train", None),
    "compress": ("qml.compression", "compress"),
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'qml' has no attribute {name!r}") from None
    mod = importlib.import_module(module)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__():
    return __all__
