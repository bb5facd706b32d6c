"""Plot a trained PESModel against the exact curve, with its errors."""

from __future__ import annotations

import numpy as np

from .basic import CHEMICAL_ACCURACY_MHA


def pes_model(model, r_train, r_grid=None, *, r_test=None, title: str | None = None, stderr: bool = True):
    """Predicted vs exact PES (top) and error in mHa with the chemical-accuracy band (bottom).

    Args:
        model: a trained :class:`qml.PESModel`.
        r_train: the training geometries (marked on both panels).
        r_grid: geometries to draw the curves at (default: 40 points over the catalog scan range).
        r_test: optional held-out geometries, marked separately.
        title: figure title (default: the molecule name).
        stderr: draw the standard errors of shot-based backends (``ibm:``, ``aer`` with shots) as
            error bars on the training and held-out points (exact backends report none).

    Returns:
        matplotlib Figure with two axes.
    """
    from matplotlib.figure import Figure

    lo, hi = model.entry.scan_range
    r_grid = np.linspace(lo, hi, 40) if r_grid is None else np.asarray(r_grid, dtype=float)
    r_train = np.asarray(r_train, dtype=float)
    pred, exact, hf = model.energy(r_grid), model.exact_energy(r_grid), model.hf_energy(r_grid)
    err = (pred - exact) * 1000.0

    fig = Figure(figsize=(6.5, 6))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    top.plot(r_grid, hf, ":", color="gray", label="Hartree-Fock")
    top.plot(r_grid, exact, "k-", lw=1.5, label="exact (active space)")
    top.plot(r_grid, pred, "--", color="C0", lw=1.5, label="PESModel")
    e_train, s_train = model.energy(r_train, return_std=True)
    _points(top, r_train, e_train, s_train if stderr else None, "o", color="C1", label="training geometries")
    if r_test is not None:
        r_test = np.asarray(r_test, dtype=float)
        e_test, s_test = model.energy(r_test, return_std=True)
        _points(top, r_test, e_test, s_test if stderr else None, "s", mfc="none", color="C2",
                label="held-out geometries")
    top.set_ylabel("energy [Ha]")
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    top.set_title(title or f"{model.molecule_name}: one model for the whole curve")

    bottom.axhspan(0, CHEMICAL_ACCURACY_MHA, color="g", alpha=0.15, label="chemical accuracy (1.6 mHa)")
    bottom.plot(r_grid, np.maximum(err, 1e-6), "-", color="C0")
    bottom.plot(r_train, np.maximum(model.errors_mha(r_train), 1e-6), "o", color="C1")
    if r_test is not None:
        bottom.plot(r_test, np.maximum(model.errors_mha(r_test), 1e-6), "s", mfc="none", color="C2")
    bottom.set_yscale("log")
    bottom.axhline(CHEMICAL_ACCURACY_MHA, color="g", lw=1)
    bottom.set_xlabel("r [Angstrom]")
    bottom.set_ylabel("error [mHa]")
    bottom.grid(alpha=0.3, which="both")
    bottom.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _points(ax, r, e, std, fmt, **kwargs):
    """Markers, with error bars when there are standard errors (shot-based backends)."""
    if std is not None and np.any(std):
        ax.errorbar(r, e, yerr=std, fmt=fmt, capsize=3, **kwargs)
    else:
        ax.plot(r, e, fmt, **kwargs)
