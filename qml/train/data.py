"""Turn what users pass to ``fit`` into indexable (x, y) tensors, with clear errors."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import DataError


class TensorPairs:
    """Features ``(N, F)`` and targets ``(N, T)`` held as tensors, batched by index."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, name: str):
        if x.ndim == 1:
            x = x[:, None]
        if y.ndim == 1:
            y = y[:, None]
        if len(x) != len(y):
            raise DataError(f"{name}: features and targets have different lengths ({len(x)} and {len(y)})")
        if len(x) == 0:
            raise DataError(f"{name} is empty; pass at least one sample")
        for label, t in (("features", x), ("targets", y)):
            if not torch.isfinite(t).all():
                row = int((~torch.isfinite(t)).any(dim=-1).nonzero()[0])
                raise DataError(f"{name}: {label} contain NaN or inf (first at row {row}); clean the data first")
        self.x, self.y, self.name = x, y, name

    def __len__(self) -> int:
        return len(self.x)

    def batch(self, idx: torch.Tensor):
        return self.x[idx], self.y[idx]


def as_pairs(data, name: str, dtype=None) -> TensorPairs:
    """Accept ``(X, Y)`` arrays/tensors, a Dataset with ``.features``/``.targets``, or any
    ``Dataset`` whose items are ``(x, y)``.

    Raises:
        TypeError: an unsupported container.
        DataError: mismatched lengths, empty data, NaN/inf.
    """
    if isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data[0], (int, float)):
        x, y = (_tensor(d, f"{name}[{i}]") for i, d in enumerate(data))
    elif hasattr(data, "features") and hasattr(data, "targets"):
        x, y = _tensor(data.features, name), _tensor(data.targets, name)
    elif isinstance(data, torch.utils.data.TensorDataset) and len(data.tensors) == 2:
        x, y = data.tensors
    elif isinstance(data, Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
        if len(data) == 0:
            raise DataError(f"{name} is empty; pass at least one sample")
        items = [data[i] for i in range(len(data))]
        if not all(isinstance(it, (tuple, list)) and len(it) == 2 for it in items):
            raise TypeError(f"{name}: dataset items must be (x, y) pairs")
        x = torch.stack([_tensor(it[0], name) for it in items])
        y = torch.stack([_tensor(it[1], name) for it in items])
    else:
        raise TypeError(
            f"{name} must be a (features, targets) pair of arrays/tensors or a torch Dataset of (x, y), "
            f"got {type(data).__name__}"
        )
    if dtype is not None:
        x, y = x.to(dtype), y.to(dtype)
    return TensorPairs(x, y, name)


def _tensor(a, name: str) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a if a.is_floating_point() else a.to(torch.float64)
    try:
        return torch.as_tensor(np.asarray(a, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: could not convert to a float tensor ({exc})") from None
