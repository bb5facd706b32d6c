"""Input/target standardisation stored as buffers, so models take and return physical units."""

from __future__ import annotations

import torch

from ..errors import DataError


class Normalized:
    """Mixin for regressors: ``x_mean``, ``x_std``, ``y_mean``, ``y_std`` buffers (saved in ``state_dict``)."""

    def _init_normalization(self, in_features: int, out_features: int) -> None:
        self.register_buffer("x_mean", torch.zeros(in_features))
        self.register_buffer("x_std", torch.ones(in_features))
        self.register_buffer("y_mean", torch.zeros(out_features))
        self.register_buffer("y_std", torch.ones(out_features))

    def set_normalization(self, x, y):
        """Standardise inputs and targets with the mean and std of training data ``x``, ``y``.

        Afterwards ``model(x)`` takes raw features and returns predictions in the units of ``y``.
        Returns the model itself.

        Raises:
            DataError: different lengths, fewer than 2 samples, or NaN/inf values.
        """
        x = torch.as_tensor(x, dtype=self.x_mean.dtype).reshape(-1, self.x_mean.numel())
        y = torch.as_tensor(y, dtype=self.y_mean.dtype).reshape(-1, self.y_mean.numel())
        if len(x) != len(y):
            raise DataError(f"x and y have different lengths: {len(x)} and {len(y)}")
        if len(x) < 2:
            raise DataError("set_normalization needs at least 2 samples to estimate a spread")
        for name, t in (("x", x), ("y", y)):
            if not torch.isfinite(t).all():
                row = int((~torch.isfinite(t)).any(dim=-1).nonzero()[0])
                raise DataError(f"set_normalization: {name} contains NaN or inf (first at row {row}); "
                                "clean the data first (nothing was changed)")
        self.x_mean.copy_(x.mean(0))
        self.x_std.copy_(x.std(0).clamp_min(1e-12))
        self.y_mean.copy_(y.mean(0))
        self.y_std.copy_(y.std(0).clamp_min(1e-12))
        return self
