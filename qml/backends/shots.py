"""Shots that suffice: allocate shots over measurement groups (and ZNE noise factors) for a precision.

An energy is measured as ``E = c_0 + sum_g A_g`` over qubit-wise commuting groups ``g``; a ZNE run
measures it at noise factors ``lam_k`` and returns ``E_0 = sum_k w_k E(lam_k)``
(:func:`qml.runtime.extrapolation.weights`). With ``S_gk`` shots on group ``g`` at factor ``k`` and
single-shot standard deviations ``sigma_gk`` (readout inversion included),

    Var(E_0) = sum_{g,k} w_k**2 sigma_gk**2 / S_gk.

Minimising the total ``N = sum S_gk`` subject to ``Var(E_0) = eps**2`` (Lagrange) gives

    S_gk = |w_k| sigma_gk * (sum_{h,j} |w_j| sigma_hj) / eps**2,   N = (sum_{g,k} |w_k| sigma_gk)**2 / eps**2

(:func:`allocate`; without ZNE, ``w = (1,)``). The ``sigma_gk`` come from the previous measurement of
the same groups (a variance-aware schedule), or, before any, from the bound
``sigma_g <= sum_{i in g} |c_i| * a_i`` with ``a_i`` the readout inversion's amplification of term ``i``.

Device time (:func:`device_seconds`) uses the rough per-shot and per-job times of :mod:`qml.runtime.cost`.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigurationError

#: Fewest shots any group gets at any noise factor (variance estimates need a sample).
MIN_SHOTS = 100

#: Seconds of fixed QPU time per job (loading, compilation on the device side); rough.
JOB_OVERHEAD_S = 2.0
#: Seconds per shot (repetition delay + readout); rough, typical of Eagle/Heron devices.
SHOT_TIME_S = 250e-6


def check_precision(precision) -> float:
    """``precision`` (milli-Hartree) as a positive float.

    Raises:
        ConfigurationError: not a positive finite number.
    """
    if (
        isinstance(precision, bool)
        or not isinstance(precision, (int, float, np.floating, np.integer))
        or not math.isfinite(precision)
        or precision <= 0
    ):
        raise ConfigurationError(
            f"precision must be a positive number of milli-Hartree (the target standard error of each energy), "
            f"e.g. precision=0.5; got {precision!r}"
        )
    return float(precision)


def check_shots_or_precision(shots, precision) -> None:
    """Raise when both ``shots`` and ``precision`` are given (they are two ways to say one thing).

    Raises:
        ConfigurationError: both given.
    """
    if shots is not None and precision is not None:
        raise ConfigurationError(
            f"give either shots={shots!r} (shots per measurement setting) or precision={precision!r} "
            "(target standard error in mHa, shots then allocated to reach it), not both"
        )


def allocate(sigmas, precision_ha: float, zne_weights=None, *, min_shots: int = MIN_SHOTS) -> np.ndarray:
    """Shots per group and noise factor for a standard error ``precision_ha`` of the (extrapolated) energy.

    Args:
        sigmas: single-shot standard deviations, shape ``(G,)`` or ``(G, K)`` (Hartree).
        precision_ha: target standard error (Hartree).
        zne_weights: extrapolation weights ``w_k``, shape ``(K,)`` (default ``(1,)``: no ZNE).
        min_shots: floor of every entry.

    Returns:
        int ndarray ``(G, K)`` of shots.

    Raises:
        ConfigurationError: a non-positive precision or negative sigmas.
    """
    if not (isinstance(precision_ha, (int, float, np.floating)) and precision_ha > 0):
        raise ConfigurationError(f"precision must be positive, got {precision_ha!r}")
    w = np.abs(np.asarray([1.0] if zne_weights is None else zne_weights, dtype=np.float64))
    s = np.asarray(sigmas, dtype=np.float64)
    if s.ndim == 1:
        s = np.repeat(s[:, None], w.size, axis=1)
    if s.shape[1] != w.size or np.any(s < 0) or not np.all(np.isfinite(s)):
        raise ConfigurationError(
            f"sigmas must be finite and >= 0 with one column per noise factor; got shape {s.shape}"
        )
    ws = s * w[None, :]
    total = float(ws.sum())
    shots = np.ceil(ws * total / precision_ha**2)
    return np.maximum(shots, min_shots).astype(np.int64)


def predicted_stderr(sigmas, shots, zne_weights=None) -> float:
    """``sqrt(sum w_k**2 sigma_gk**2 / S_gk)``: the standard error an allocation gives (Hartree)."""
    w = np.asarray([1.0] if zne_weights is None else zne_weights, dtype=np.float64)
    s = np.asarray(sigmas, dtype=np.float64)
    n = np.asarray(shots, dtype=np.float64)
    if s.ndim == 1:
        s = np.repeat(s[:, None], w.size, axis=1)
    if n.ndim == 1:
        n = np.repeat(n[:, None], w.size, axis=1)
    return float(np.sqrt(np.sum(w[None, :] ** 2 * s**2 / n)))


def device_seconds(shots: int, jobs: int = 1) -> float:
    """Rough QPU seconds of ``shots`` executed shots in ``jobs`` jobs (see :mod:`qml.runtime.cost`)."""
    return float(shots) * SHOT_TIME_S + int(jobs) * JOB_OVERHEAD_S
