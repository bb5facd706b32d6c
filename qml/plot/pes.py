"""Potential-energy-surface plots of ``qml.chem.scan`` results: HF / VQE / exact curves with a
chemical-accuracy band, and the VQE error in mHa.

Every function returns the matplotlib ``Figure``; none calls ``plt.show()``. matplotlib is imported
inside the functions, so importing this module is cheap. (Trained ``PESModel`` curves:
``qml.plot.pes_model``.)
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigurationError

#: 1 kcal/mol in milli-Hartree (kept here so plotting does not import the chemistry stack).
CHEMICAL_ACCURACY_MHA = 1.6


def _figure(ax, nrows=1, height_ratios=None, figsize=(6.4, 4.8)):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    if nrows == 1:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    fig, axes = plt.subplots(nrows, 1, sharex=True, figsize=figsize, gridspec_kw={"height_ratios": height_ratios})
    return fig, axes


def _columns(scan):
    if hasattr(scan, "columns"):
        cols = scan.columns
        return {k: np.asarray(v, dtype=float) for k, v in cols.items() if k in ("r", "hf", "vqe", "exact", "error_mha")}
    if isinstance(scan, dict) and "points" in scan:
        pts = scan["points"]
        return {k: np.array([p[k] for p in pts], dtype=float) for k in ("r", "hf", "vqe", "exact", "error_mha")}
    raise ConfigurationError(f"pes() takes the result of qml.chem.scan (or its .to_dict()), got {type(scan).__name__}")


def pes(scan, ax=None, *, title: str | None = None, yerr=None):
    """Draw HF, VQE and exact energies against ``r`` with the chemical-accuracy band, plus an error panel.

    Args:
        scan: a :class:`qml.chem.ScanResult` (or its ``to_dict()``).
        ax: optional matplotlib Axes for the energy curves only (then no error panel is drawn);
            by default a new Figure with two panels: energies (Ha) and ``|VQE - exact|`` (mHa, log scale,
            dashed line at 1.6 mHa).
        title: figure title (default: the molecule name and ansatz).
        yerr: standard errors (Ha) of the VQE energies, shape ``(n_points,)``, drawn as error bars
            (shot-based backends); default: the scan's ``stderr`` column when it has one.

    Returns:
        matplotlib.figure.Figure

    Raises:
        ConfigurationError: ``scan`` is not a scan result.
    """
    c = _columns(scan)
    if ax is None:
        fig, (ax_e, ax_err) = _figure(None, 2, [3, 2], figsize=(6.4, 6.4))
    else:
        fig, ax_e, ax_err = ax.figure, ax, None
    r = c["r"]
    band = CHEMICAL_ACCURACY_MHA / 1000.0
    ax_e.fill_between(
        r,
        c["exact"] - band,
        c["exact"] + band,
        color="tab:green",
        alpha=0.25,
        label=f"exact ± {CHEMICAL_ACCURACY_MHA} mHa",
    )
    ax_e.plot(r, c["hf"], "--", color="tab:gray", label="Hartree-Fock")
    ax_e.plot(r, c["exact"], "-", color="k", lw=1.2, label="exact (active space)")
    if yerr is None and hasattr(scan, "columns") and "stderr" in scan.columns:
        yerr = scan.columns["stderr"]
    yerr = None if yerr is None or not np.any(yerr) else np.asarray(yerr, dtype=float)
    if yerr is None:
        ax_e.plot(r, c["vqe"], "o", color="tab:blue", ms=5, label="VQE")
    else:
        ax_e.errorbar(r, c["vqe"], yerr=yerr, fmt="o", color="tab:blue", ms=5, capsize=3, label="VQE")
    ax_e.set_ylabel("energy (Ha)")
    ax_e.legend(loc="best", fontsize="small")
    name = getattr(scan, "name", None) or (scan.get("name") if isinstance(scan, dict) else None)
    ansatz = getattr(scan, "ansatz", None) or (scan.get("ansatz") if isinstance(scan, dict) else None)
    ax_e.set_title(title if title is not None else " / ".join(str(x) for x in (name, ansatz) if x))
    if ax_err is None:
        ax_e.set_xlabel("r (Å)")
        return fig
    _error_panel(ax_err, r, c["error_mha"])
    fig.tight_layout()
    return fig


def pes_errors(scan, ax=None):
    """Only the error panel of :func:`pes`: ``|VQE - exact|`` in mHa (log scale) with the 1.6 mHa line.

    Returns:
        matplotlib.figure.Figure
    """
    c = _columns(scan)
    fig, ax = _figure(ax, figsize=(6.4, 3.2))
    _error_panel(ax, c["r"], c["error_mha"])
    return fig


def _error_panel(ax, r, err_mha):
    err = np.maximum(np.abs(err_mha), 1e-6)  # log scale: show exact hits at the floor
    ax.semilogy(r, err, "o-", color="tab:blue", ms=4, label="|VQE − exact|")
    ax.axhline(CHEMICAL_ACCURACY_MHA, color="tab:red", ls="--", lw=1, label="chemical accuracy (1.6 mHa)")
    ax.set_ylabel("error (mHa)")
    ax.set_xlabel("r (Å)")
    ax.legend(loc="best", fontsize="small")
