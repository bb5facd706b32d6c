"""MLPRegressor: the classical baseline that HybridModel results are reported next to."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigurationError
from ..inputs import check_inputs
from .normalized import Normalized


class MLPRegressor(Normalized, nn.Module):
    """A plain tanh MLP with the same normalisation buffers and call signature as ``HybridModel``.

    Args:
        in_features, out_features: sizes.
        hidden: widths of the hidden layers, e.g. ``(16, 16)``.
        dtype: parameter dtype.

    Use :func:`matching_hidden` to pick a width whose parameter count matches another model.
    """

    def __init__(self, in_features: int, out_features: int = 1, *, hidden=(16, 16), dtype=torch.float64):
        super().__init__()
        hidden = tuple(hidden)
        if not hidden or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden):
            raise ConfigurationError(f"hidden must be a non-empty tuple of positive widths, got {hidden}")
        self.in_features, self.out_features = in_features, out_features
        layers, n = [], in_features
        for h in hidden:
            layers += [nn.Linear(n, h), nn.Tanh()]
            n = h
        layers.append(nn.Linear(n, out_features))
        self.net = nn.Sequential(*layers)
        self._init_normalization(in_features, out_features)
        self.to(dtype)

    def forward(self, x):
        x = check_inputs(x, self.in_features, where="MLPRegressor")
        single = x.ndim == 1
        x = x.reshape(-1, self.in_features).to(self.x_mean.dtype)
        y = self.net((x - self.x_mean) / self.x_std) * self.y_std + self.y_mean
        return y[0] if single else y

    def parameter_counts(self) -> dict:
        n = sum(p.numel() for p in self.parameters())
        return {"classical": n, "quantum": 0, "total": n}


def matching_hidden(in_features: int, out_features: int, target_params: int, depth: int = 2) -> tuple:
    """Hidden widths (``depth`` equal layers) whose MLP has the parameter count closest to ``target_params``."""

    def count(w):
        sizes = [in_features] + [w] * depth + [out_features]
        return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))

    best = min(range(1, 513), key=lambda w: abs(count(w) - target_params))
    return (best,) * depth
