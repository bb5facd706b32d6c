"""Validation of feature batches, shared by every model (torch only: no circuit imports)."""

from __future__ import annotations

import torch

from .errors import DataError


def check_inputs(inputs, n_features: int, *, where: str) -> torch.Tensor:
    """Validate a feature batch: a float tensor of shape ``(B, n_features)`` or ``(n_features,)``.

    Raises:
        TypeError: not a tensor/array of floats.
        DataError: wrong feature count, empty batch, or NaN/inf values.
    """
    if not isinstance(inputs, torch.Tensor):
        try:
            inputs = torch.as_tensor(inputs, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"{where} expects a torch tensor of shape (batch, {n_features}), got {type(inputs).__name__}") from None
    if not inputs.is_floating_point():
        inputs = inputs.to(torch.float64)
    if inputs.ndim not in (1, 2) or inputs.shape[-1] != n_features:
        raise DataError(
            f"{where} expects inputs of shape (batch, {n_features}) or ({n_features},), got {tuple(inputs.shape)}"
        )
    if inputs.ndim == 2 and inputs.shape[0] == 0:
        raise DataError(f"{where} got an empty batch of shape {tuple(inputs.shape)}")
    if not torch.isfinite(inputs).all():
        bad = (~torch.isfinite(inputs)).nonzero()[0].tolist()
        raise DataError(f"{where} got NaN or inf in its inputs (first at index {bad}); clean or impute the data first")
    return inputs
