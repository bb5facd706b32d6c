"""The input validators of qml: scalar arguments (defined in :mod:`qml.errors`, re-exported here) and
feature batches / torch devices, shared by every model (torch only: no circuit imports).

One owner per rule: a public call checks an integer with :func:`check_int`, a flag with
:func:`check_bool`, a real number with :func:`check_number` and a named choice with
:func:`check_choice`; none writes its own ``isinstance(value, bool)`` test.
"""

from __future__ import annotations

import torch

from .errors import ArgumentTypeError as ArgumentTypeError
from .errors import ConfigurationError, DataError
from .errors import check_bool as check_bool
from .errors import check_choice as check_choice
from .errors import check_int as check_int
from .errors import check_number as check_number


def check_device(device) -> torch.device:
    """Validate a torch device argument: ``None`` (cpu), a string such as ``"cuda"``, or a ``torch.device``.

    ``"meta"`` is accepted: tensors without values, useful to check shapes and dtypes.

    Raises:
        TypeError: not a string or ``torch.device``.
        ConfigurationError: a string torch does not know, or ``"cuda"`` where torch sees no GPU.
    """
    if device is None:
        return torch.device("cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device must be a string such as 'cpu' or 'cuda', or a torch.device, got {type(device).__name__}"
        )
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ConfigurationError(f"unknown torch device {device!r}; use 'cpu', 'cuda' or 'cuda:<index>'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigurationError(
            f"device={device!r} but torch sees no GPU (torch.cuda.is_available() is False; this torch "
            f"build: {torch.__version__}); use device='cpu', or install a CUDA build of torch on a GPU machine"
        )
    return dev


def check_inputs(inputs, n_features: int, *, where: str) -> torch.Tensor:
    """Validate a feature batch: a float tensor of shape ``(B, n_features)`` or ``(n_features,)``.

    Raises:
        TypeError: not a tensor/array of floats.
        DataError: wrong feature count, empty batch, or NaN/inf values (not checked on the
            ``meta`` device, whose tensors hold no values).
    """
    if not isinstance(inputs, torch.Tensor):
        try:
            inputs = torch.as_tensor(inputs, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(
                f"{where} expects a torch tensor of shape (batch, {n_features}), got {type(inputs).__name__}"
            ) from None
    if not inputs.is_floating_point():
        inputs = inputs.to(torch.float64)
    if inputs.ndim not in (1, 2) or inputs.shape[-1] != n_features:
        raise DataError(
            f"{where} expects inputs of shape (batch, {n_features}) or ({n_features},), got {tuple(inputs.shape)}"
        )
    if inputs.ndim == 2 and inputs.shape[0] == 0:
        raise DataError(f"{where} got an empty batch of shape {tuple(inputs.shape)}")
    if not inputs.is_meta and not torch.isfinite(inputs).all():  # meta tensors have no values
        bad = (~torch.isfinite(inputs)).nonzero()[0].tolist()
        raise DataError(f"{where} got NaN or inf in its inputs (first at index {bad}); clean or impute the data first")
    return inputs
