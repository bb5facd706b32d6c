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
    ax.set_title("training history")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def predictions(reference, predicted, *, x=None, unit: str = "Ha", ax=None, title: str | None = None):
    """Prediction against reference: a parity plot, or curves over ``x`` when given.

    With energies in Hartree (``unit="Ha"``), the title reports the mean absolute error in mHa and
    a band marks chemical accuracy (1.6 mHa).

    Returns:
        matplotlib Figure.
    """
    ref = np.asarray(reference, dtype=float).ravel()
    pred = np.asarray(predicted, dtype=float).ravel()
    if ref.shape != pred.shape:
        raise ValueError(f"reference and predicted differ in length: {ref.size} and {pred.size}")
    fig, ax = _figure(ax, figsize=(6, 4.5))
    mae = np.mean(np.abs(pred - ref))
    if x is None:
        lo, hi = min(ref.min(), pred.min()), max(ref.max(), pred.max())
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="ideal")
        if unit == "Ha":
            band = CHEMICAL_ACCURACY_MHA / HARTREE_TO_MHA
            ax.fill_between([lo, hi], [lo - band, hi - band], [lo + band, hi + band], color="g", alpha=0.2,
                            label="chemical accuracy")
        ax.plot(ref, pred, "o", ms=3, label="samples")
        ax.set_xlabel(f"reference [{unit}]")
        ax.set_ylabel(f"predicted [{unit}]")
    else:
        xs = np.asarray(x, dtype=float).ravel()
        order = np.argsort(xs)
        ax.plot(xs[order], ref[order], "k-", label="reference")
        ax.plot(xs[order], pred[order], "o", ms=4, label="predicted")
        ax.set_xlabel("r [Angstrom]")
        ax.set_ylabel(f"energy [{unit}]")
    err = f"MAE {mae * HARTREE_TO_MHA:.2f} mHa" if unit == "Ha" else f"MAE {mae:.3g} {unit}"
    ax.set_title(f"{title + ': ' if title else ''}{err}")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def circuit(model):
    """The circuit of a QuantumLayer or HybridModel as a matplotlib Figure."""
    if not hasattr(model, "draw"):
        raise TypeError(f"expected a qml.QuantumLayer or qml.HybridModel, got {type(model).__name__}")
    return model.draw(style="mpl")
