"""Fast batched state-vector simulation in torch: :class:`FastDevice` (backend ``"fast"``)."""

from .device import FastDevice as FastDevice

__all__ = ["FastDevice"]
