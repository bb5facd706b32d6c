"""One way for a package to load its public names on first use (as PennyLane's ``qnn`` does).

A package lists ``name -> submodule`` and calls :func:`attach`; ``import qml.data`` then costs
nothing, and ``qml.data.load_dataset`` imports ``qml.data.dataset`` the first time it is used.
"""

from __future__ import annotations

import importlib
import sys


def attach(package: str, table: dict[str, str]):
    """Module-level ``__getattr__``, ``__dir__`` and ``__all__`` for ``package``.

    Args:
        package: the package's ``__name__``.
        table: public name -> submodule (relative to ``package``) that defines it.

    Returns:
        ``(__getattr__, __dir__, __all__)``, to assign at the package's top level.
    """
    names = sorted(table)

    def __getattr__(name: str):
        try:
            submodule = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return list(names)

    return __getattr__, __dir__, names
