"""Shots that suffice: :mod:`qml.backends.shots` (allocation, stderr, device seconds) and the pre-flight.

The allocation lives in ``qml.backends`` (the ``aer:`` backend uses it); :func:`preflight` lives here because it
needs the runtime's measurement plan. Every name of ``qml.backends.shots`` is available here too.
"""

from __future__ import annotations

import numpy as np

from ..backends.shots import JOB_OVERHEAD_S as JOB_OVERHEAD_S
from ..backends.shots import MIN_SHOTS as MIN_SHOTS
from ..backends.shots import SHOT_TIME_S as SHOT_TIME_S
from ..backends.shots import allocate as allocate
from ..backends.shots import check_precision as check_precision
from ..backends.shots import check_shots_or_precision as check_shots_or_precision
from ..backends.shots import device_seconds as device_seconds
from ..backends.shots import predicted_stderr as predicted_stderr
from ..errors import ConfigurationError


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
    from ..backends.extrapolation import weights
    from ..backends.mitigation import resolve_mitigation
    from .measurement import measurement_plan

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
