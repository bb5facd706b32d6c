"""The one lazy-import mechanism of qml: a module ``__getattr__`` built from a table.

``qml``, ``qml.models``, ``qml.backends`` and ``qml.runtime`` keep their heavy members (torch
models, PennyLane, Qiskit) out of ``import``; a name is imported on first attribute access and then
stored in the module, so the look-up happens once (PennyLane's ``qnn/__init__.py`` pattern).
"""

from __future__ import annotations

import importlib
import sys


def attach(module_name: str, table: dict[str, str], eager: tuple = ()):
    """Return ``(__getattr__, __dir__, __all__)`` for module ``module_name``.

    Args:
        module_name: ``__name__`` of the package that uses it.
        table: public name -> ``"module"`` (the module itself) or ``"module:attribute"``; relative
            module names (``".fit"``) are resolved against ``module_name``.
        eager: names already defined in the package, listed by ``__dir__``/``__all__`` too.
    """
    names = sorted(set(table) | set(eager))

    def __getattr__(name: str):
        try:
            target = table[name]
        except KeyError:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}") from None
        mod_name, _, attr = target.partition(":")
        mod = importlib.import_module(mod_name, package=module_name)
        value = getattr(mod, attr) if attr else mod
        setattr(sys.modules[module_name], name, value)
        return value

    def __dir__():
        return names

    return __getattr__, __dir__, names
