"""Properties from a potential energy surface: the numbers chemists use a surface for.

``qml.chem.properties(curve)`` takes a trained :class:`qml.PESModel`, a :class:`qml.chem.ScanResult`
or any callable ``E(r)`` (Hartree, ``r`` in Angstrom) and returns :class:`Properties`:

* ``r_e`` (Angstrom) and ``e_min`` (Hartree): the minimum of a quintic spline through the
  energies sampled on a uniform grid (``n_points`` geometries over ``bounds``; a scan's own points);
* ``d_e`` (Hartree): ``e_inf - e_min``, with ``e_inf`` the energy at the grid's far end unless given
  (a lower bound of the dissociation energy when the curve has not reached its asymptote there);
* ``omega_e`` (cm^-1): the harmonic frequency ``sqrt(k / mu)`` from the spline's curvature
  ``k = E''(r_e)`` and the reduced mass ``mu`` (main isotopes);
* ``levels`` (Hartree) of the 1-D nuclear Schroedinger equation on the spline, solved by the
  Colbert-Miller sinc DVR (D. T. Colbert, W. H. Miller, J. Chem. Phys. 96, 1982 (1992));
  ``omega_e_x_e`` (cm^-1) from the first two vibrational intervals,
  ``(Delta G_{1/2} - Delta G_{3/2}) / 2``, which is exact for a Morse oscillator;
* for 2-D surfaces (``"H2O-2D"``: bond, angle) the equilibrium point ``x_e`` and ``e_min`` only.

Where the model reports a standard error per energy (shot-based backends) the analysis is
repeated on ``n_draws`` energy curves drawn from those errors and the spread is reported in
``stderr``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigurationError

#: 1 Hartree in cm^-1 (CODATA 2018).
HARTREE_TO_CM = 219474.6313632
#: 1 atomic mass unit in electron masses (CODATA 2018).
AMU_TO_ME = 1822.888486209
#: 1 Angstrom in Bohr.
ANGSTROM_TO_BOHR = 1.0 / 0.52917721092


@dataclass
class Properties:
    """What :func:`properties` found. Energies in Hartree, frequencies in cm^-1, lengths in Angstrom.

    Attributes:
        r_e: equilibrium coordinate (1-D curves), Angstrom.
        e_min: energy at the minimum.
        d_e: ``e_inf - e_min`` (see the module docstring), ``None`` for 2-D surfaces.
        omega_e: harmonic frequency (``None`` without a reduced mass).
        omega_e_x_e: anharmonicity from the first two vibrational intervals (``None`` with fewer than
            three bound levels).
        levels: vibrational levels (absolute energies), shape ``(n,)``; ``transitions``: ``levels - levels[0]``
            in cm^-1.
        x_e: equilibrium point, one value per coordinate (``coordinate_names``), for every surface.
        reduced_mass: amu (``None`` when not a diatomic and not given).
        stderr: standard errors of the numbers above from the energies' standard errors (empty when exact).
        source: what was analysed; n_evaluations: energies computed.
    """

    e_min: float
    x_e: tuple
    coordinate_names: tuple
    r_e: float | None = None
    d_e: float | None = None
    omega_e: float | None = None
    omega_e_x_e: float | None = None
    levels: np.ndarray = field(default_factory=lambda: np.zeros(0))
    reduced_mass: float | None = None
    stderr: dict = field(default_factory=dict)
    source: str = ""
    n_evaluations: int = 0

    @property
    def transitions(self) -> np.ndarray:
        """``levels - levels[0]`` in cm^-1, shape ``(n,)``."""
        return (np.asarray(self.levels) - (self.levels[0] if len(self.levels) else 0.0)) * HARTREE_TO_CM

    @property
    def zero_point_energy(self) -> float | None:
        """``levels[0] - e_min`` in cm^-1 (``None`` without levels)."""
        return float((self.levels[0] - self.e_min) * HARTREE_TO_CM) if len(self.levels) else None

    def table(self) -> dict:
        """``{"property": [...], "value": [...], "stderr": [...], "unit": [...]}`` (a :mod:`qml.tables` table)."""
        rows = [
            (f"{n}_e", v, self.stderr.get(f"x_e[{i}]"), _UNIT.get(n, ""))
            for i, (n, v) in enumerate(zip(self.coordinate_names, self.x_e))
        ]
        rows.append(("e_min", self.e_min, self.stderr.get("e_min"), "Ha"))
        for name, unit in (("d_e", "Ha"), ("omega_e", "cm^-1"), ("omega_e_x_e", "cm^-1")):
            if getattr(self, name) is not None:
                rows.append((name, getattr(self, name), self.stderr.get(name), unit))
        if self.zero_point_energy is not None:
            rows.append(("zero_point_energy", self.zero_point_energy, None, "cm^-1"))
        for v, t in enumerate(self.transitions[1:], start=1):
            rows.append((f"level {v} - level 0", float(t), None, "cm^-1"))
        return {
            "property": [r[0] for r in rows],
            "value": [float(r[1]) for r in rows],
            "stderr": [None if r[2] is None else float(r[2]) for r in rows],
            "unit": [r[3] for r in rows],
        }

    def to_pandas(self):
        """:meth:`table` as a ``pandas.DataFrame`` (optional extra ``pandas``)."""
        from ..tables import to_pandas

        return to_pandas(self.table())

    def to_csv(self, path):
        """Write :meth:`table` to a CSV file; returns the path."""
        from ..tables import write_csv

        return write_csv(self.table(), path)

    def _repr_html_(self) -> str:
        from ..tables import html

        return html(self.table(), f"properties of {self.source}")

    def __repr__(self) -> str:
        parts = [f"{n}_e={v:.5f}" for n, v in zip(self.coordinate_names, self.x_e)] + [f"e_min={self.e_min:.8f}"]
        if self.omega_e is not None:
            parts.append(f"omega_e={self.omega_e:.1f} cm^-1")
        if self.omega_e_x_e is not None:
            parts.append(f"omega_e_x_e={self.omega_e_x_e:.2f} cm^-1")
        if self.d_e is not None:
            parts.append(f"d_e={self.d_e:.6f}")
        return f"Properties({self.source}: {', '.join(parts)}, {len(self.levels)} levels)"


_UNIT = {"r": "Angstrom", "angle": "degree"}


def reduced_mass(symbols) -> float:
    """Reduced mass (amu) of a diatomic from its two element symbols (main isotopes, e.g. 1H, 7Li)."""
    from pyscf.data.elements import COMMON_ISOTOPE_MASSES, charge

    if len(symbols) != 2:
        raise ConfigurationError(
            f"a reduced mass needs a diatomic, got {len(symbols)} atoms {tuple(symbols)}; pass reduced_mass= "
            "(amu) for the effective mass of another 1-D coordinate"
        )
    m1, m2 = (COMMON_ISOTOPE_MASSES[charge(s)] for s in symbols)
    return m1 * m2 / (m1 + m2)


def vibrational_levels(potential, bounds, reduced_mass: float, *, n_grid: int = 301, n_levels: int = 6):
    """Lowest levels (Hartree) of ``-1/(2 mu) d^2/dr^2 + V(r)`` by the sinc DVR on a uniform grid.

    Args:
        potential: ``V(r)`` (Hartree) for an array of ``r`` (Angstrom).
        bounds: ``(lo, hi)`` in Angstrom; the wavefunctions vanish outside.
        reduced_mass: amu.
        n_grid: DVR grid points (the error falls exponentially with the density).
        n_levels: how many of the lowest levels to return.

    Returns:
        ndarray of shape ``(n_levels,)``, ascending.
    """
    from scipy.linalg import eigh

    lo, hi = _bounds(bounds)
    mu = _positive("reduced_mass", reduced_mass) * AMU_TO_ME
    r = np.linspace(lo, hi, int(n_grid))
    dx = (r[1] - r[0]) * ANGSTROM_TO_BOHR
    i = np.arange(len(r))
    d = i[:, None] - i[None, :]
    with np.errstate(divide="ignore"):
        t = np.where(d == 0, np.pi**2 / 3.0, 2.0 * (-1.0) ** d / np.where(d == 0, 1, d) ** 2)
    h = t / (2.0 * mu * dx**2) + np.diag(np.asarray(potential(r), dtype=float))
    return eigh(h, eigvals_only=True, subset_by_index=(0, min(n_levels, len(r)) - 1))


def _positive(name, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not v > 0:
        raise ConfigurationError(f"{name} must be a positive number, got {v!r}")
    return float(v)


def _bounds(bounds) -> tuple[float, float]:
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ConfigurationError(f"bounds must be a pair (lo, hi) of numbers in Angstrom, got {bounds!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise ConfigurationError(f"bounds must satisfy 0 < lo < hi (Angstrom), got {bounds!r}")
    return lo, hi


# ---------------------------------------------------------------------- the analysis of one sampled curve
def _analyse_1d(r, e, mu, e_inf, n_levels, n_grid):
    from scipy.interpolate import make_interp_spline
    from scipy.optimize import minimize_scalar

    spline = make_interp_spline(r, e, k=5 if len(r) >= 6 else 3)
    i = int(np.argmin(e))
    if i == 0 or i == len(r) - 1:
        raise ConfigurationError(
            f"the lowest sampled energy is at the edge of the range (r = {r[i]:.4g} A): the minimum is not "
            "inside the sampled range; widen bounds"
        )
    res = minimize_scalar(
        lambda x: float(spline(x)), bounds=(r[i - 1], r[i + 1]), method="bounded", options={"xatol": 1e-10}
    )
    r_e, e_min = float(res.x), float(res.fun)
    out = {"r_e": r_e, "e_min": e_min, "d_e": (e[-1] if e_inf is None else e_inf) - e_min}
    if mu is None:
        return out
    k = float(spline.derivative(2)(r_e)) / ANGSTROM_TO_BOHR**2  # Ha / bohr^2
    if not k > 0:
        raise ConfigurationError(f"the curve's curvature at its minimum is {k:.3g} Ha/bohr^2, not positive")
    out["omega_e"] = math.sqrt(k / (mu * AMU_TO_ME)) * HARTREE_TO_CM
    levels = vibrational_levels(lambda x: spline(x), (r[0], r[-1]), mu, n_grid=n_grid, n_levels=n_levels)
    ceiling = min(e[0], e[-1])  # levels above the lower wall of the box are not bound by the curve
    levels = levels[levels < ceiling]
    out["levels"] = levels
    if len(levels) >= 3:
        g1, g2 = levels[1] - levels[0], levels[2] - levels[1]
        out["omega_e_x_e"] = (g1 - g2) / 2 * HARTREE_TO_CM
    return out


def properties(
    curve,
    *,
    bounds=None,
    n_points: int = 41,
    reduced_mass: float | None = None,
    e_inf: float | None = None,
    n_levels: int = 6,
    n_grid: int = 301,
    column: str = "vqe",
    n_draws: int = 64,
    seed: int = 0,
) -> Properties:
    """Equilibrium, minimum, dissociation energy, harmonic frequency, anharmonicity and vibrational levels.

    Args:
        curve: a trained :class:`qml.PESModel` (1-D catalog molecule or a 2-D surface such as
            ``"H2O-2D"``), a :class:`qml.chem.ScanResult`, or a callable ``E(r)`` (Hartree) taking an
            array of ``r`` (Angstrom) and returning an array (then ``bounds`` is required).
        bounds: ``(lo, hi)`` sampled range in Angstrom (2-D models: one pair per coordinate);
            default: the model's ``ranges``; ignored for a scan (its points are used).
        n_points: geometries sampled per coordinate (uniform grid; >= 7).
        reduced_mass: amu; default: from the two atoms of a diatomic (main isotopes). Without one,
            no ``omega_e`` nor levels.
        e_inf: energy of the separated fragments (Hartree) for ``d_e``; default: the last sampled energy.
        n_levels: vibrational levels to compute (>= 1); n_grid: DVR grid points.
        column: which energies of a scan (``"vqe"``, ``"exact"`` or ``"hf"``).
        n_draws, seed: draws of the energies from their standard errors (models with shots).

    Returns:
        :class:`Properties`.

    Raises:
        TypeError: ``curve`` is none of the above.
        ConfigurationError: bad ``bounds``/``n_points``/``reduced_mass``/``column``, a minimum at the
            edge of the sampled range, or a scan with fewer than 6 points; all before any energy is computed.
    """
    from ..errors import check_int
    from .scan import ScanResult

    n_points = check_int("n_points", n_points, 7)
    n_levels = check_int("n_levels", n_levels, 1)
    n_grid = check_int("n_grid", n_grid, 20)
    n_draws = check_int("n_draws", n_draws, 2)
    if reduced_mass is not None:
        reduced_mass = _positive("reduced_mass", reduced_mass)
    if e_inf is not None and not (isinstance(e_inf, (int, float)) and math.isfinite(e_inf)):
        raise ConfigurationError(f"e_inf must be a finite energy in Hartree, got {e_inf!r}")
    std = None
    if isinstance(curve, ScanResult):
        if column not in ("vqe", "exact", "hf"):
            raise ConfigurationError(f"column must be 'vqe', 'exact' or 'hf', got {column!r}")
        if len(curve) < 6:
            raise ConfigurationError(f"a scan of {len(curve)} points is too coarse; scan at least 6 points")
        from . import catalog

        r, e = curve.column("r"), curve.column(column).astype(float)
        mu = reduced_mass or _diatomic_mass(catalog.get(curve.name).symbols)
        source, names = f"scan {curve.name} ({column})", ("r",)
    elif hasattr(curve, "surface") and hasattr(curve, "energy"):
        surf = curve.surface
        if surf.dim == 2:
            return _analyse_2d(curve, bounds, n_points, n_draws, seed)
        if surf.dim != 1:
            raise ConfigurationError(f"properties handles 1-D and 2-D surfaces, this one has {surf.dim} coordinates")
        lo, hi = _bounds(surf.ranges[0] if bounds is None else bounds)
        r = np.linspace(lo, hi, n_points)
        mu = reduced_mass or _diatomic_mass(curve.bank[surf.reference].molecule.symbols)
        e, s = curve.energy(r[:, None], return_std=True)
        e = np.asarray(e, dtype=float)
        std = np.asarray(s, dtype=float) if np.any(s) else None
        source, names = f"PESModel {curve.molecule_name}", ("r",)
    elif callable(curve):
        if bounds is None:
            raise ConfigurationError("a callable curve needs bounds=(lo, hi) in Angstrom")
        lo, hi = _bounds(bounds)
        r = np.linspace(lo, hi, n_points)
        e = np.asarray(curve(r), dtype=float).reshape(-1)
        if e.shape != r.shape or not np.all(np.isfinite(e)):
            raise ConfigurationError(
                f"the curve must return {len(r)} finite energies for an array of {len(r)} r values, got shape {e.shape}"
            )
        mu, source, names = reduced_mass, getattr(curve, "__name__", "curve"), ("r",)
    else:
        raise TypeError(
            f"curve must be a qml.PESModel, a qml.chem.ScanResult or a callable E(r); got {type(curve).__name__}"
        )
    out = _analyse_1d(r, e, mu, e_inf, n_levels, n_grid)
    stderr = {}
    if std is not None:
        rng = np.random.default_rng(seed)
        draws = []
        for _ in range(n_draws):
            try:  # a draw whose minimum falls on the grid's edge says nothing about the spread: skip it
                draws.append(_analyse_1d(r, e + std * rng.standard_normal(len(e)), mu, e_inf, n_levels, n_grid))
            except ConfigurationError:
                continue
        for key in ("r_e", "e_min", "d_e", "omega_e", "omega_e_x_e"):
            vals = [d[key] for d in draws if key in d]
            if key in out and len(vals) > 1:
                stderr["x_e[0]" if key == "r_e" else key] = float(np.std(vals, ddof=1))
    return Properties(
        e_min=out["e_min"],
        x_e=(out["r_e"],),
        coordinate_names=names,
        r_e=out["r_e"],
        d_e=out["d_e"],
        omega_e=out.get("omega_e"),
        omega_e_x_e=out.get("omega_e_x_e"),
        levels=np.asarray(out.get("levels", np.zeros(0))),
        reduced_mass=mu,
        stderr=stderr,
        source=source,
        n_evaluations=len(r) if not isinstance(curve, ScanResult) else 0,
    )


def _diatomic_mass(symbols):
    return reduced_mass(symbols) if len(symbols) == 2 else None


def _analyse_2d(model, bounds, n_points, n_draws, seed) -> Properties:
    """Equilibrium of a 2-D surface: a bicubic spline over an ``n_points x n_points`` grid, minimised."""
    from scipy.interpolate import RectBivariateSpline
    from scipy.optimize import minimize

    surf = model.surface
    ranges = surf.ranges if bounds is None else bounds
    try:
        (a0, a1), (b0, b1) = ((float(lo), float(hi)) for lo, hi in ranges)
    except (TypeError, ValueError):
        raise ConfigurationError(f"bounds of a 2-D surface must be two (lo, hi) pairs, got {bounds!r}") from None
    xs, ys = np.linspace(a0, a1, n_points), np.linspace(b0, b1, n_points)
    grid = np.array([(x, y) for x in xs for y in ys])
    e, s = model.energy(surf.check(grid), return_std=True)
    e = np.asarray(e, dtype=float).reshape(n_points, n_points)

    def solve(values):
        spline = RectBivariateSpline(xs, ys, values)
        i, j = np.unravel_index(np.argmin(values), values.shape)
        if i in (0, n_points - 1) or j in (0, n_points - 1):
            raise ConfigurationError(
                f"the lowest sampled energy is at the edge of the grid ({xs[i]:.4g}, {ys[j]:.4g}); widen bounds"
            )
        res = minimize(
            lambda p: float(spline(p[0], p[1])[0, 0]),
            x0=[xs[i], ys[j]],
            bounds=[(xs[i - 1], xs[i + 1]), (ys[j - 1], ys[j + 1])],
            method="L-BFGS-B",
            options={"ftol": 1e-15, "gtol": 1e-12},
        )
        return float(res.x[0]), float(res.x[1]), float(res.fun)

    x0, y0, e_min = solve(e)
    stderr = {}
    std = np.asarray(s, dtype=float).reshape(n_points, n_points)
    if np.any(std):
        rng = np.random.default_rng(seed)
        draws = []
        for _ in range(n_draws):
            try:  # a draw whose minimum falls on the grid's edge is skipped (as in 1-D)
                draws.append(solve(e + std * rng.standard_normal(e.shape)))
            except ConfigurationError:
                continue
        draws = np.array(draws).reshape(-1, 3)
        if len(draws) > 1:
            stderr = {
                "x_e[0]": float(draws[:, 0].std(ddof=1)),
                "x_e[1]": float(draws[:, 1].std(ddof=1)),
                "e_min": float(draws[:, 2].std(ddof=1)),
            }
    names = tuple(surf.coordinate_names)
    return Properties(
        e_min=e_min,
        x_e=(x0, y0),
        coordinate_names=names,
        stderr=stderr,
        source=f"PESModel {model.molecule_name}",
        n_evaluations=n_points * n_points,
    )
