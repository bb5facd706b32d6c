"""Zero-noise extrapolation: fit energies measured at amplified noise and read the fit at zero noise.

Every extrapolator returns the zero-noise value *and its variance*, propagated from the variances of
the measured points (the extrapolation amplifies shot noise: Richardson through 1, 3, 5 multiplies
the standard error of a single point by about 3.6).

* ``"linear"``: least-squares line through all points, read at 0 (ordinary least squares);
* ``"richardson"``: the polynomial of degree ``n - 1`` through the ``n`` points (Lagrange weights at 0);
* ``"exponential"``: ``E(lam) = a + b * exp(-c * lam)`` through (at least) three points, read at 0;
  falls back to ``"linear"`` when no exponential with ``c >= MIN_RATE`` fits.

Linear and Richardson estimates are weighted sums ``E_0 = sum_k w_k E(lam_k)``, so
``Var(E_0) = sum_k w_k**2 Var(E(lam_k))`` exactly, and :func:`weights` gives the ``w_k`` (the shot
allocation of :mod:`qml.runtime.shots` spends shots on noise factor ``k`` in proportion to ``|w_k|``).
The exponential estimate is non-linear; its variance is propagated with the numerical gradient.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigurationError, one_of

EXTRAPOLATORS = ("linear", "richardson", "exponential")
#: Smallest decay rate ``c`` the exponential extrapolator accepts; below it the data are nearly linear, ``a + b``
#: is ill-determined (measured: 100 mHa excursions on H2), and the linear fit is used instead.
MIN_RATE = 0.05


def check_factors(factors) -> tuple[float, ...]:
    """Noise factors as a sorted tuple of distinct numbers >= 1 (at least two).

    Raises:
        ConfigurationError: fewer than two factors, a factor below 1, or repeated factors.
    """
    if isinstance(factors, (str, bytes)) or not hasattr(factors, "__iter__"):
        raise ConfigurationError(f"zne noise factors must be a sequence such as (1, 3, 5), got {factors!r}")
    out = tuple(float(f) for f in factors)
    if len(out) < 2 or len(set(out)) != len(out) or min(out) < 1:
        raise ConfigurationError(
            f"zne noise factors need at least two distinct numbers >= 1, e.g. (1, 3); got {factors!r}"
        )
    return tuple(sorted(out))


def weights(factors, method: str) -> np.ndarray:
    """The ``w_k`` of a linear extrapolator: ``E_0 = sum_k w_k E(factors[k])``.

    Args:
        factors: noise factors, shape ``(n,)``.
        method: ``"linear"`` or ``"richardson"`` (``"exponential"`` is not linear: its weights are the
            linear fit's, used only to allocate shots).

    Returns:
        ndarray ``(n,)`` summing to 1.
    """
    lam = np.asarray(factors, dtype=np.float64)
    if method == "richardson":
        w = np.array([np.prod([lj / (lj - lk) for j, lj in enumerate(lam) if j != k]) for k, lk in enumerate(lam)])
    elif method in ("linear", "exponential"):
        design = np.stack([np.ones_like(lam), lam], axis=1)
        w = np.linalg.pinv(design)[0]  # intercept row of the least-squares solution
    else:
        raise one_of("zne extrapolator", method, EXTRAPOLATORS)
    return w


def extrapolate(factors, values, variances, method: str = "linear") -> tuple[float, float]:
    """Zero-noise value and its variance.

    Args:
        factors: noise factors, shape ``(n,)``.
        values: energies measured at each factor, shape ``(n,)``.
        variances: their variances (squared standard errors), shape ``(n,)``.
        method: one of :data:`EXTRAPOLATORS`.

    Returns:
        ``(value, variance)`` at zero noise.

    Raises:
        ConfigurationError: an unknown method, mismatched lengths, or ``"exponential"`` with fewer than
            three points.
    """
    if method not in EXTRAPOLATORS:
        raise one_of("zne extrapolator", method, EXTRAPOLATORS)
    lam = np.asarray(factors, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    var = np.asarray(variances, dtype=np.float64)
    if not (lam.shape == y.shape == var.shape) or lam.ndim != 1 or lam.size < 2:
        raise ConfigurationError(
            f"zne needs matching 1-d factors, values and variances of length >= 2; got shapes "
            f"{lam.shape}, {y.shape}, {var.shape}"
        )
    if method == "exponential":
        if lam.size < 3:
            raise ConfigurationError("the exponential extrapolator needs at least three noise factors, e.g. (1, 3, 5)")
        value = _exponential(lam, y)
        if value is None:
            return extrapolate(lam, y, var, "linear")
        grad = np.zeros_like(y)
        for k in range(y.size):
            h = max(1e-7, 1e-3 * float(np.sqrt(var[k])) if var[k] > 0 else 1e-7)
            up, down = y.copy(), y.copy()
            up[k] += h
            down[k] -= h
            vu, vd = _exponential(lam, up), _exponential(lam, down)
            if vu is None or vd is None:
                return extrapolate(lam, y, var, "linear")
            grad[k] = (vu - vd) / (2 * h)
        return float(value), float(np.sum(grad**2 * var))
    w = weights(lam, method)
    return float(w @ y), float(np.sum(w**2 * var))


def _exponential(lam: np.ndarray, y: np.ndarray) -> float | None:
    """``a + b`` of the least-squares fit ``y = a + b exp(-c lam)`` with ``c > 0``; ``None`` if none fits."""
    from scipy.optimize import least_squares

    span = float(y[-1] - y[0])
    if span == 0.0:
        return float(y[0])
    # start from the exact fit through the first, middle and last points when equally spaced
    c0 = 0.3
    if lam.size >= 3:
        d1, d2 = y[lam.size // 2] - y[0], y[-1] - y[lam.size // 2]
        if d1 != 0 and 0 < d2 / d1 < 1:
            step = lam[lam.size // 2] - lam[0]
            c0 = -np.log(d2 / d1) / step

    def resid(p):
        a, b, c = p
        return a + b * np.exp(-c * lam) - y

    e0 = np.exp(-c0 * lam)
    b0 = (y[0] - y[-1]) / (e0[0] - e0[-1]) if e0[0] != e0[-1] else span
    a0 = y[-1] - b0 * e0[-1]
    try:
        fit = least_squares(resid, [a0, b0, c0], bounds=([-np.inf, -np.inf, 1e-6], [np.inf, np.inf, 5.0]))
    except ValueError:
        return None
    a, b, c = fit.x
    if not fit.success or not np.all(np.isfinite(fit.x)) or c >= 5.0 - 1e-9 or c < MIN_RATE:
        return None  # no decay (or a near-linear one whose a + b is ill-determined): the caller falls back
    return float(a + b)
