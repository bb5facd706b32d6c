"""History, prediction-vs-reference and circuit plots."""

from __future__ import annotations

import numpy as np

HARTREE_TO_MHA = 1000.0
CHEMICAL_ACCURACY_MHA = 1.6


def _figure(ax=None, **kwargs):
    import matplotlib

    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    del matplotlib
    fig = Figure(**kwargs)
    return fig, fig.add_subplot(1, 1, 1)


def history(history, ax=None, *, log: bool = True):
    """Training and validation loss per epoch.

    Args:
        history: a :class:`qml.History` (or its ``to_dict()``).
        ax: optional matplotlib Axes to draw into.
        log: logarithmic loss axis.

    Returns:
        matplotlib Figure.
    """
    from ..train.history import History

    if isinstance(history, dict):
        history = History.from_dict(history)
    if not isinstance(history, History) or len(history) == 0:
        raise ValueError("history must be a non-empty qml.History, as returned by qml.fit")
    fig, ax = _figure(ax, figsize=(6, 4))
    ax.plot(history.epochs, history.train_loss, "o-", ms=3, label="train")
    if any(v is not None for v in history.val_loss):
        pts = [(e, v) for e, v in zip(history.epochs, history.val_loss) if v is not None]
        ax.plot(*zip(*pts), "s-", ms=3, label="validation")
    if log and all(v > 0 for v in history.train_loss):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    last = history.records[-1]
    final = f"train {last['train_loss']:.3g}"
    if last.get("val_loss") is not None:
        final += f", validation {last['val_loss']:.3g}"
    ax.set_title(f"training history: final loss {final}")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def format_mha(value: float) -> str:
    """An error in mHa as printed by ``qml demo`` and written in plot titles (3 significant digits)."""
    return f"{value:.3g} mHa"


def predictions(
    reference,
    predicted,
    *,
    x=None,
    unit: str = "Ha",
    ax=None,
    title: str | None = None,
    test=None,
    residuals: bool = False,
):
    """Prediction against reference: a parity plot, or curves over ``x`` when given.

    With energies in Hartree (``unit="Ha"``) errors are reported in mHa and a band marks chemical
    accuracy (1.6 mHa). The title states the mean absolute error of the points it is computed on:
    with ``test`` those held-out points (``test MAE ... (n points)``), without it all points.

    Args:
        reference: reference values, shape ``(N,)`` or ``(N, 1)``.
        predicted: predictions, same number of values.
        x: optional coordinate per point, shape ``(N,)``: draws curves over ``x``.
        unit: unit of the values; ``"Ha"`` reports errors in mHa.
        ax: optional Axes to draw into (no residual panel then).
        title: text before the error in the title.
        test: which points are held-out test points: a boolean mask ``(N,)`` or integer indices.
            They are marked, and the title's error is theirs.
        residuals: add a panel below with ``predicted - reference`` (in mHa for ``unit="Ha"``) and
            the chemical-accuracy band.

    Returns:
        matplotlib Figure.

    Raises:
        ValueError: lengths differ, or ``test`` selects no point or an index out of range.
    """
    ref = np.asarray(reference, dtype=float).ravel()
    pred = np.asarray(predicted, dtype=float).ravel()
    if ref.shape != pred.shape:
        raise ValueError(f"reference and predicted differ in length: {ref.size} and {pred.size}")
    mask = _test_mask(test, ref.size)
    hartree = unit == "Ha"
    scale = HARTREE_TO_MHA if hartree else 1.0
    res_unit = "mHa" if hartree else unit
    fig, ax, rax = _prediction_axes(ax, residuals)
    rest = ~mask if mask is not None else np.ones(ref.size, dtype=bool)
    if x is None:
        xs, xlabel = _parity(ax, ref, pred, rest, mask, unit, hartree)
    else:
        xs, xlabel = _curves(ax, x, ref, pred, rest, mask, unit)
    if mask is not None:
        ax.plot(xs[mask], pred[mask], "s", ms=7, mfc="none", mew=1.8, color="C3", label="predicted (test)")
    errors = np.abs(pred - ref) * scale
    if mask is not None:
        err = f"test MAE {_format(errors[mask].mean(), res_unit)} ({int(mask.sum())} points)"
    else:
        err = f"MAE {_format(errors.mean(), res_unit)} ({ref.size} points)"
    ax.set_title(f"{title + ': ' if title else ''}{err}")
    ax.grid(alpha=0.3)
    ax.legend()
    if rax is None:
        ax.set_xlabel(xlabel)
    else:
        _residual_panel(rax, xs, (pred - ref) * scale, rest, mask, res_unit, hartree, xlabel)
    return fig


def _prediction_axes(ax, residuals: bool):
    """``(figure, main axes, residual axes or None)``."""
    if ax is not None or not residuals:
        fig, ax = _figure(ax, figsize=(6, 4.5))
        return fig, ax, None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 6))
    ax, rax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1], "hspace": 0.08})
    return fig, ax, rax


def _parity(ax, ref, pred, rest, mask, unit: str, hartree: bool):
    """Predicted against reference with the ideal line (and the chemical-accuracy band in Hartree)."""
    lo, hi = min(ref.min(), pred.min()), max(ref.max(), pred.max())
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="ideal")
    if hartree:
        band = CHEMICAL_ACCURACY_MHA / HARTREE_TO_MHA
        ax.fill_between(
            [lo, hi],
            [lo - band, hi - band],
            [lo + band, hi + band],
            color="g",
            alpha=0.2,
            label="chemical accuracy",
        )
    ax.plot(ref[rest], pred[rest], "o", ms=3, label="samples" if mask is None else "train / validation")
    ax.set_ylabel(f"predicted [{unit}]")
    return ref, f"reference [{unit}]"


def _curves(ax, x, ref, pred, rest, mask, unit: str):
    """Reference curve and predicted points over the coordinate ``x``."""
    xs = np.asarray(x, dtype=float).ravel()
    if xs.shape != ref.shape:
        raise ValueError(f"x has {xs.size} values for {ref.size} points")
    order = np.argsort(xs)
    ax.plot(xs[order], ref[order], "k-", label="reference")
    ax.plot(xs[rest], pred[rest], "o", ms=4, label="predicted" if mask is None else "predicted (train / val)")
    ax.set_ylabel(f"energy [{unit}]")
    return xs, "r [Angstrom]"


def _residual_panel(rax, xs, resid, rest, mask, res_unit: str, hartree: bool, xlabel: str) -> None:
    """``predicted - reference`` below the main panel, with the chemical-accuracy band in Hartree."""
    if hartree:
        rax.axhspan(
            -CHEMICAL_ACCURACY_MHA,
            CHEMICAL_ACCURACY_MHA,
            color="g",
            alpha=0.2,
            label=f"chemical accuracy (±{CHEMICAL_ACCURACY_MHA} mHa)",
        )
    rax.axhline(0.0, color="k", lw=1)
    rax.plot(xs[rest], resid[rest], "o", ms=3, color="C1")
    if mask is not None:
        rax.plot(xs[mask], resid[mask], "s", ms=7, mfc="none", mew=1.8, color="C3")
    rax.set_ylabel(f"residual [{res_unit}]")
    rax.set_xlabel(xlabel)
    rax.grid(alpha=0.3)
    if hartree:
        rax.legend(loc="best", fontsize="small")


def _format(value: float, unit: str) -> str:
    return format_mha(value) if unit == "mHa" else f"{value:.3g} {unit}"


def _test_mask(test, n: int):
    if test is None:
        return None
    arr = np.asarray(test)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"test mask has shape {arr.shape}; expected ({n},), one flag per point")
        mask = arr.copy()
    else:
        idx = arr.astype(int).ravel()
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise ValueError(f"test indices must lie in [0, {n}), got {idx.min()}..{idx.max()}")
        mask = np.zeros(n, dtype=bool)
        mask[idx] = True
    if not mask.any():
        raise ValueError("test selects no point; pass a boolean mask or the indices of the test points")
    return mask


def circuit(model):
    """The circuit of a QuantumLayer or HybridModel as a matplotlib Figure."""
    if not hasattr(model, "draw"):
        raise TypeError(f"expected a qml.QuantumLayer or qml.HybridModel, got {type(model).__name__}")
    return model.draw(style="mpl")
