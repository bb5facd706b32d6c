"""Input/target standardisation stored as buffers, so models take and return physical units.

A model that mixes in :class:`Normalized` holds ``x_mean``, ``x_std``, ``y_mean`` and ``y_std``
buffers and a flag ``normalization_set``. ``set_normalization(x, y)`` fills them from training
data; when nobody did, ``qml.fit`` calls :meth:`Normalized.normalize_from` with the training data
before the first step, so raw Hartree targets never reach the optimizer.
"""

from __future__ import annotations

import torch

from ..errors import DataError


class Normalized:
    """Mixin for regressors: ``x_mean``, ``x_std``, ``y_mean``, ``y_std`` buffers (saved in ``state_dict``).

    The buffer ``normalization_set`` (a 0-d tensor, 1.0 once set, also saved) records whether the buffers were
    filled, by :meth:`set_normalization` or by ``qml.fit``; a model loaded from a trained state dict
    keeps its normalisation.
    """

    def _init_normalization(self, in_features: int, out_features: int, *, auto: bool = True) -> None:
        self.register_buffer("x_mean", torch.zeros(in_features))
        self.register_buffer("x_std", torch.ones(in_features))
        self.register_buffer("y_mean", torch.zeros(out_features))
        self.register_buffer("y_std", torch.ones(out_features))
        self.register_buffer("normalization_set", torch.tensor(0.0))  # 1.0 once set (a float: state dicts stay numeric)
        self.auto_normalize = bool(auto)

    def set_normalization(self, x, y):
        """Standardise inputs and targets with the mean and std of training data ``x``, ``y``.

        Afterwards ``model(x)`` takes raw features and returns predictions in the units of ``y``.
        ``qml.fit`` does this by itself with its training data when it was not done before.

        Args:
            x: features, shape ``(N, in_features)``.
            y: targets, shape ``(N, out_features)``.

        Returns:
            The model itself.

        Raises:
            DataError: ``x`` or ``y`` of the wrong width, different lengths, fewer than 2 samples, or NaN/inf
                values.

        A column that is constant in ``x`` or ``y`` (spread below 1e-12 of its size) is centred and
        left unscaled (scale 1, with a ``RuntimeWarning`` naming it): an input off that constant
        reaches the circuit as its raw difference, not blown up by 1/1e-12.
        """
        x = self._as_columns(x, self.x_mean, "x", "features")
        y = self._as_columns(y, self.y_mean, "y", "targets")
        if len(x) != len(y):
            raise DataError(f"x and y have different lengths: {len(x)} and {len(y)}")
        if len(x) < 2:
            raise DataError("set_normalization needs at least 2 samples to estimate a spread")
        for name, t in (("x", x), ("y", y)):
            if not torch.isfinite(t).all():
                row = int((~torch.isfinite(t)).any(dim=-1).nonzero()[0])
                raise DataError(
                    f"set_normalization: {name} contains NaN or inf (first at row {row}); "
                    "clean the data first (nothing was changed)"
                )
        self.x_mean.copy_(x.mean(0))
        self.x_std.copy_(_scale(x, "x", "feature"))
        self.y_mean.copy_(y.mean(0))
        self.y_std.copy_(_scale(y, "y", "target"))
        self.normalization_set.fill_(1.0)
        return self

    def normalize_from(self, x, y) -> bool:
        """Called by ``qml.fit`` with the training data: set the normalisation unless it is set already.

        Does nothing when :meth:`set_normalization` was called (or a trained state dict loaded), when
        the model was built with ``normalize=False``, when there are fewer than 2 samples, or when the
        data has the wrong width (the forward pass then raises its own error).

        Returns:
            ``True`` when the buffers were filled now.
        """
        if not self.auto_normalize or bool(self.normalization_set) or len(x) < 2:
            return False
        widths = [t.shape[-1] if t.ndim == 2 else 1 for t in (torch.as_tensor(x), torch.as_tensor(y))]
        if widths != [self.x_mean.numel(), self.y_mean.numel()]:
            return False
        self.set_normalization(x, y)
        return True

    @staticmethod
    def _as_columns(values, buffer: torch.Tensor, name: str, what: str) -> torch.Tensor:
        t = torch.as_tensor(values, dtype=buffer.dtype)
        width = buffer.numel()
        if t.ndim == 1 and width == 1:
            t = t[:, None]
        if t.ndim != 2 or t.shape[1] != width:
            raise DataError(f"{name} must hold {what} of shape (N, {width}), got shape {tuple(t.shape)}")
        return t

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # State dicts written before the flag existed: the buffers were set when they differ from
        # the identity transform.
        key = prefix + "normalization_set"
        if key not in state_dict and prefix + "x_mean" in state_dict:
            identity = all(
                torch.equal(state_dict[prefix + name], torch.full_like(state_dict[prefix + name], fill))
                for name, fill in (("x_mean", 0.0), ("x_std", 1.0), ("y_mean", 0.0), ("y_std", 1.0))
                if prefix + name in state_dict
            )
            state_dict[key] = torch.tensor(0.0 if identity else 1.0)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def _scale(t, name: str, kind: str):
    """Per-column std of ``t`` (shape ``(N, k)``); constant columns get scale 1 with a warning."""
    import warnings

    std = t.std(0)
    flat = std <= 1e-12 * t.abs().amax(0).clamp_min(1.0)
    if bool(flat.any()):
        cols = flat.nonzero().flatten().tolist()
        warnings.warn(
            f"set_normalization: {name} {kind} column(s) {cols} are constant in the training data; they are "
            "centred and left unscaled (scale 1) rather than divided by a zero spread",
            RuntimeWarning,
            stacklevel=3,
        )
    return torch.where(flat, torch.ones_like(std), std)
