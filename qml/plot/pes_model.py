"""Plot a trained PESModel against the exact curve (one coordinate) or surface (two), with its errors."""

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

    lo, hi = _ranges(model)[0]
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
        _points(
            top, r_test, e_test, s_test if stderr else None, "s", mfc="none", color="C2", label="held-out geometries"
        )
    top.set_ylabel("energy [Ha]")
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    top.set_title(title or f"{_name(model)}: one model for the whole curve")

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


def _ranges(model):
    surf = getattr(model, "surface", None)
    if surf is not None and hasattr(surf, "ranges"):
        return surf.ranges
    return [model.entry.scan_range]


def _name(model) -> str:
    surf = getattr(model, "surface", None)
    return getattr(surf, "name", None) or getattr(model, "molecule_name", "PESModel")


def pes_model_surface(model, grid=None, *, train=None, test=None, n: int = 15, title: str | None = None):
    """Exact energy and model error over a surface of two coordinates: two contour panels.

    Args:
        model: a trained :class:`qml.PESModel` on a surface of two coordinates (``model.surface``).
        grid: ``(values_0, values_1)``, the coordinates to evaluate on (default: ``n`` values over
            each of the surface's ranges); the model is evaluated at every pair, ``len(values_0) *
            len(values_1)`` geometries (each needs its Hamiltonian).
        train: training points, shape ``(B, 2)``, marked as dots.
        test: held-out points, shape ``(B, 2)``, marked as squares.
        n: grid size per coordinate when ``grid`` is None.
        title: figure title (default: the surface's name).

    Returns:
        matplotlib Figure with two axes: the exact energy (Hartree, filled contours) and
        ``|model - exact|`` in mHa (log colour scale, the 1.6 mHa contour drawn).

    Raises:
        ConfigurationError: the model's surface does not have two coordinates.
    """
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    from ..errors import ConfigurationError

    ranges = _ranges(model)
    if len(ranges) != 2:
        raise ConfigurationError(
            f"pes_model_surface draws surfaces of two coordinates; this model has {len(ranges)} "
            "(use qml.plot.pes_model for one)"
        )
    if grid is None:
        grid = [np.linspace(lo, hi, n) for lo, hi in ranges]
    g0, g1 = (np.asarray(g, dtype=float) for g in grid)
    mesh0, mesh1 = np.meshgrid(g0, g1, indexing="ij")
    points = np.column_stack([mesh0.ravel(), mesh1.ravel()])
    exact = np.asarray(model.exact_energy(points)).reshape(mesh0.shape)
    err = np.abs(np.asarray(model.energy(points)).reshape(mesh0.shape) - exact) * 1000.0
    names = getattr(getattr(model, "surface", None), "coordinate_names", ("q0", "q1"))

    fig = Figure(figsize=(11, 4.5))
    left, right = fig.subplots(1, 2)
    c = left.contourf(mesh0, mesh1, exact, levels=20, cmap="viridis")
    fig.colorbar(c, ax=left, label="exact energy [Ha]")
    left.set_title("exact (active space)")
    floor = max(float(err[err > 0].min()) if np.any(err > 0) else 1e-4, 1e-4)
    top = err.max() if err.max() > 1.01 * floor else 10 * floor
    levels = np.logspace(np.log10(floor), np.log10(top), 15)
    e = right.contourf(mesh0, mesh1, np.maximum(err, floor), levels=levels, norm=LogNorm(), cmap="magma_r")
    fig.colorbar(e, ax=right, label="|PESModel - exact| [mHa]")
    if err.max() > CHEMICAL_ACCURACY_MHA > err.min():
        right.contour(mesh0, mesh1, err, levels=[CHEMICAL_ACCURACY_MHA], colors="g", linewidths=1.5)
    right.set_title(f"error (green: {CHEMICAL_ACCURACY_MHA} mHa)")
    for ax in (left, right):
        if train is not None:
            t = np.asarray(train, dtype=float)
            ax.plot(t[:, 0], t[:, 1], "o", color="w", mec="k", ms=5, label="training")
        if test is not None:
            t = np.asarray(test, dtype=float)
            ax.plot(t[:, 0], t[:, 1], "s", mfc="none", mec="C1", ms=5, label="held out")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    if train is not None or test is not None:
        right.legend(fontsize=8, loc="upper right")
    fig.suptitle(title or f"{_name(model)}: one model for the whole surface")
    fig.tight_layout()
    return fig
