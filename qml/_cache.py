"""The one cache registry of qml: every in-memory cache registers here, ``qml.clear_caches()`` empties them.

A cache is registered where it is made, by name: ``_CACHE = register("qml.sim.engine.plans", {})``,
or as a decorator over a ``functools.lru_cache`` function. Anything with ``clear()`` (a dict, a
:class:`qml.sim.cache.Cache`) or ``cache_clear()`` (``functools.lru_cache``) can be registered.
Caches of modules not yet imported are empty, so clearing the registered ones clears them all.

Not in the registry: per-object caches that die with their object (``Molecule``'s Hamiltonians,
a ``HamiltonianBank``), and the on-disk :class:`qml.parallel.TaskCache` (``TaskCache.clear()``).
"""

from __future__ import annotations

_REGISTRY: dict[str, object] = {}


def register(name: str, cache=None):
    """Register ``cache`` under ``name`` and return it (without ``cache``: a decorator).

    Raises:
        TypeError: ``cache`` has neither ``clear()`` nor ``cache_clear()``.
    """
    if cache is None:
        return lambda obj: register(name, obj)
    if not callable(getattr(cache, "cache_clear", None)) and not callable(getattr(cache, "clear", None)):
        raise TypeError(f"cache {name!r} has neither clear() nor cache_clear(), got {type(cache).__name__}")
    _REGISTRY[name] = cache
    return cache


def _size(cache) -> int:
    info = getattr(cache, "cache_info", None)
    if callable(info):
        return info().currsize
    data = getattr(cache, "data", cache)  # qml.sim.cache.Cache keeps its entries in .data
    return len(data)


def cache_sizes() -> dict[str, int]:
    """``{name: entries}`` of every registered cache (of the modules imported so far)."""
    return {name: _size(c) for name, c in sorted(_REGISTRY.items())}


def clear_caches() -> None:
    """Empty every in-memory cache of qml: simulator tables, compiled circuits, orbital chains, ...

    Results stay the same afterwards; the next calls rebuild what they need (and are slower once).
    Use it to free memory in a long notebook, or between benchmark repeats.
    """
    for cache in _REGISTRY.values():
        clear = getattr(cache, "cache_clear", None)
        (clear if callable(clear) else cache.clear)()
