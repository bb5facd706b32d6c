"""Bounded caches of :mod:`qml.sim`: index tables and constant tensors, limited in bytes.

A state of ``n`` wires has ``2**n`` rows, so every cached table grows with it; these caches
forget everything once they hold more than their budget, instead of counting entries.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from .._cache import register

#: Bytes each cache may hold before it is cleared.
BUDGET = 128 * 2**20


def nbytes(value) -> int:
    """Bytes held by numpy arrays / torch tensors in ``value`` (nested tuples and lists)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, torch.Tensor):
        return value.element_size() * value.numel()
    if isinstance(value, (tuple, list)):
        return sum(nbytes(v) for v in value)
    return getattr(value, "nbytes", 64)


class Cache:
    """A dict that clears itself when its values pass ``budget`` bytes."""

    def __init__(self, budget: int = BUDGET, *, name: str | None = None):
        self.budget = budget
        if name is not None:  # emptied by qml.clear_caches()
            register(name, self)
        self.data: dict = {}
        self.bytes = 0

    def get(self, key):
        return self.data.get(key)

    def put(self, key, value, size: int | None = None):
        size = nbytes(value) if size is None else size
        if self.bytes + size > self.budget:
            self.data.clear()
            self.bytes = 0
        self.data[key] = value
        self.bytes += size
        return value

    def clear(self):
        self.data.clear()
        self.bytes = 0


def memoize(fn):
    """Like ``functools.lru_cache`` for hashable arguments, bounded in bytes by a :class:`Cache`."""
    cache = Cache(name=f"{fn.__module__}.{fn.__qualname__}")

    @functools.wraps(fn)
    def wrapper(*args):
        hit = cache.get(args)
        if hit is None:
            hit = cache.put(args, fn(*args))
        return hit

    wrapper.cache = cache
    return wrapper
