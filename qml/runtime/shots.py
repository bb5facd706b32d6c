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
    from .cost import JOB_OVERHEAD_S, SHOT_TIME_S

    return float(shots) * SHOT_TIME_S + int(jobs) * JOB_OVERHEAD_S


def preflight(hamiltonian, precision: float, *, mitigation=None, readout_error: float = 0.0, evaluations: int = 1):
    """Shots and rough device seconds per energy and per run, before anything is submitted.

    Uses the state-independent bound ``sigma_g <= L_g * a**w_g`` per measurement group (``L_g`` the sum of
    the group's ``|c_i|``, ``a = 1 / (1 - 2 readout_error)`` the readout inversion's amplification,
    ``w_g`` the group's largest Pauli weight) and the optimal allocation of :func:`allocate`; the
    measured allocation of a run (a pilot first) is usually several times smaller.

    Args:
        hamiltonian: a PennyLane operator, ``SparsePauliOp`` or Hamiltonian-bank entry.
        precision: target standard error of each energy (mHa).
        mitigation: a :class:`~qml.runtime.mitigation.Mitigation`, a preset name or ``None``.
        readout_error: typical readout error rate of the device's qubits (e.g. 0.02).
        evaluations: energy evaluations of the run (e.g. optimizer steps x (1 + 2 x parameters)).

    Returns:
        dict with ``shots_per_energy``, ``device_seconds_per_energy``, ``shots_per_run``,
        ``device_seconds_per_run``, ``settings`` (measurement groups), ``factors`` (ZNE noise factors).

    Raises:
        ConfigurationError: a bad precision, readout error, evaluation count or mitigation.
    """
    from .extrapolation import weights
    from .measurement import measurement_plan
    from .mitigation import resolve_mitigation

    precision = check_precision(precision)
    if not (isinstance(readout_error, (int, float)) and 0 <= readout_error < 0.5):
        raise ConfigurationError(f"readout_error must be a probability in [0, 0.5), got {readout_error!r}")
    if isinstance(evaluations, bool) or not isinstance(evaluations, int) or evaluations < 1:
        raise ConfigurationError(f"evaluations must be a positive integer, got {evaluations!r}")
    mit = resolve_mitigation(mitigation) if not hasattr(mitigation, "readout") else mitigation
    plan = measurement_plan(hamiltonian)
    amp = 1.0 / (1.0 - 2.0 * readout_error) if (mit is not None and mit.readout) else 1.0
    sig = []
    for group in plan.groups:
        w = int(max(np.sum(group.paulis.x | group.paulis.z, axis=1)))
        sig.append(float(np.sum(np.abs(group.coeffs))) * amp**w)
    factors = tuple(mit.zne) if (mit is not None and mit.zne) else (1,)
    zw = weights(factors, mit.extrapolator) if len(factors) > 1 else None
    per_energy = int(allocate(np.array(sig), precision * 1e-3, zw).sum()) if sig else 0
    return {
        "shots_per_energy": per_energy,
        "device_seconds_per_energy": device_seconds(per_energy, jobs=0),
        "shots_per_run": per_energy * evaluations,
        "device_seconds_per_run": device_seconds(per_energy * evaluations, jobs=evaluations),
        "settings": plan.n_groups,
        "factors": factors,
    }
