"""``Surface``: a family of geometries, coordinates -> :class:`~qml.chem.Molecule`.

A potential energy surface is a map from ``d`` coordinates (a bond length; a bond length and an
angle; ...) to a molecule. ``PESModel``, ``scan`` and the Hamiltonian bank ask a ``Surface`` for
three things only:

* :meth:`Surface.check` turns user input into a float64 array of shape ``(B, d)`` (or raises);
* :meth:`Surface.molecule` builds the molecule at one point (a tuple of ``d`` floats);
* :attr:`Surface.ranges` gives one ``(lo, hi)`` per coordinate, used to scale inputs.

``surface("LiH")`` wraps a catalog entry (one coordinate, its physical range enforced);
``surface("H2O-2D")`` a named surface of several coordinates (:data:`qml.chem.catalog.SURFACES`);
``surface(builder, ranges=[(lo, hi), ...])`` wraps any ``builder(*coords) -> Molecule``.

Orbitals are continuous along a surface: :meth:`Surface.molecule` gives molecules whose orbitals
are tracked along the straight line from :attr:`Surface.reference` (:mod:`qml.chem.orbitals`), so
that each qubit keeps its meaning from one geometry to the next.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from ..errors import ConfigurationError, DataError, check_bool


class Surface:
    """Coordinates -> molecule, with validation.

    Args:
        builder: ``builder(*coords) -> Molecule``.
        ranges: one ``(lo, hi)`` per coordinate (Angstrom, degrees, ... as the builder reads them),
            ``hi > lo``; used to scale coordinates for encoders and as the default training domain.
        name: label used in messages, reprs and plots.
        reference: the point the surface is anchored at (equilibrium), a tuple of ``d`` floats;
            default: the centre of ``ranges``.
        bounds: optional ``(lo, hi)`` per coordinate outside which :meth:`check` raises.
        coordinate_names: one label per coordinate (default ``"r"`` for one, ``"q0", "q1", ...``).
        check_point: optional ``check_point(*coords)`` that raises on a bad point.
        track: follow the orbitals from ``reference`` (default); a builder that sets its own
            orbitals (``Molecule(..., orbitals=C)``, or catalog molecules, already tracked) is
            left alone.
        track_steps: chain steps per coordinate for tracking (default: ``(hi - lo) / 48`` of each range).

    Raises:
        TypeError: ``builder`` is not callable.
        ConfigurationError: malformed ``ranges``/``reference``/``bounds``.
    """

    def __init__(
        self,
        builder: Callable,
        ranges,
        *,
        name: str | None = None,
        reference=None,
        bounds=None,
        coordinate_names=None,
        check_point: Callable | None = None,
        track: bool = True,
        track_steps=None,
    ):
        if not callable(builder):
            raise TypeError(
                f"builder must be a function builder(*coords) -> qml.chem.Molecule, got {type(builder).__name__}"
            )
        self.builder = builder
        self.ranges = _pairs("ranges", ranges)
        self.dim = len(self.ranges)
        _check_arity(builder, self.ranges)
        self.bounds = None if bounds is None else _pairs("bounds", bounds, dim=self.dim)
        self.name = name or getattr(builder, "__name__", "surface")
        if reference is None:
            reference = tuple((lo + hi) / 2 for lo, hi in self.ranges)
        self.reference = self._point("reference", reference)
        if coordinate_names is None:
            coordinate_names = ("r",) if self.dim == 1 else tuple(f"q{i}" for i in range(self.dim))
        if len(coordinate_names) != self.dim:
            raise ConfigurationError(f"coordinate_names needs {self.dim} names, got {list(coordinate_names)}")
        self.coordinate_names = tuple(coordinate_names)
        self._check_point = check_point
        check_bool("track", track)
        if track_steps is None:
            track_steps = tuple((hi - lo) / 48 for lo, hi in self.ranges)
        steps = np.atleast_1d(np.asarray(track_steps, dtype=float))
        if steps.shape != (self.dim,) or not np.all(np.isfinite(steps) & (steps > 0)):
            raise ConfigurationError(f"track_steps must be {self.dim} positive number(s), got {track_steps!r}")
        self.tracker = None
        if track:
            from .orbitals import OrbitalTracker

            self.tracker = OrbitalTracker(self._build, self.reference, steps, name=self.name)

    # ------------------------------------------------------------------ validation
    def _point(self, what: str, value) -> tuple:
        arr = np.atleast_1d(np.asarray(value, dtype=float))
        if arr.shape != (self.dim,) or not np.all(np.isfinite(arr)):
            raise ConfigurationError(f"{what} must be {self.dim} finite number(s), got {value!r}")
        return tuple(float(v) for v in arr)

    def check(self, coords) -> np.ndarray:
        """Return ``coords`` as float64 of shape ``(B, d)``.

        Accepts a number (``d == 1``), a tuple of ``d`` numbers, a list of either, or an array of
        shape ``(B,)`` (``d == 1``) or ``(B, d)``.

        Raises:
            TypeError: not numbers.
            DataError: empty, non-finite, or the wrong number of coordinates.
            ConfigurationError: a point outside :attr:`bounds` (or the catalog's physical range).
        """
        if isinstance(coords, (str, bool)):
            raise TypeError(f"coordinates of {self.name} must be numbers, got {coords!r}")
        try:
            arr = np.asarray(coords.detach().cpu().numpy() if hasattr(coords, "detach") else coords, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"coordinates of {self.name} must be numbers or lists of numbers, got {coords!r}") from None
        if self.dim == 1:
            if arr.ndim == 2 and arr.shape[1] == 1:
                arr = arr[:, 0]
            if arr.ndim > 1:
                raise DataError(
                    f"{self.name} has one coordinate ({self.coordinate_names[0]}); pass a number or a 1-D list, "
                    f"got shape {arr.shape}"
                )
            arr = arr.reshape(-1, 1)
        else:
            if arr.ndim == 1 and arr.shape[0] == self.dim:
                arr = arr[None]
            if arr.ndim != 2 or arr.shape[1] != self.dim:
                raise DataError(
                    f"{self.name} has {self.dim} coordinates {self.coordinate_names}; pass a tuple of {self.dim} "
                    f"numbers or an array of shape (B, {self.dim}), got shape {arr.shape}"
                )
        if arr.shape[0] == 0:
            raise DataError(f"no geometries given for {self.name}; pass at least one point")
        if not np.all(np.isfinite(arr)):
            raise DataError(f"coordinates of {self.name} contain NaN or inf: {arr.tolist()}")
        for row in arr:
            if self._check_point is not None:
                self._check_point(*row)
            if self.bounds is not None:
                for name, v, (lo, hi) in zip(self.coordinate_names, row, self.bounds):
                    if not lo <= v <= hi:
                        raise ConfigurationError(
                            f"{name} = {v} is outside the range of {self.name}: use {lo} <= {name} <= {hi}"
                        )
        return arr

    @staticmethod
    def key(point) -> tuple:
        """Cache key of a point: its coordinates rounded to 1e-10."""
        return tuple(round(float(v), 10) for v in np.atleast_1d(point))

    # ------------------------------------------------------------------ molecules
    def molecule(self, point):
        """The molecule at ``point`` (a number or a tuple of ``d`` numbers).

        Its orbitals are tracked from :attr:`reference` along the straight line (unless the builder
        chose them, or ``track=False``).

        Raises:
            TypeError: the builder did not return a ``qml.chem.Molecule``.
            ConfigurationError: ``point`` is not ``d`` finite numbers.
        """
        point = self._point("point", point)
        mol = self._build(point)
        if self.tracker is not None and mol.orbital_source == "canonical":
            mol.track(self.tracker, point)
        return mol

    def _build(self, point):
        from .molecule import Molecule

        mol = self.builder(*point)
        if not isinstance(mol, Molecule):
            raise TypeError(f"the builder of {self.name} must return a qml.chem.Molecule, got {type(mol).__name__}")
        return mol

    def scaled(self, coords: np.ndarray) -> np.ndarray:
        """``coords`` (B, d) mapped so that each range becomes [-1, 1]."""
        lo = np.array([r[0] for r in self.ranges])
        hi = np.array([r[1] for r in self.ranges])
        return (np.asarray(coords, dtype=float) - (lo + hi) / 2) / ((hi - lo) / 2)

    def __repr__(self) -> str:
        ranges = ", ".join(f"{n} in [{lo}, {hi}]" for n, (lo, hi) in zip(self.coordinate_names, self.ranges))
        return f"Surface({self.name!r}, {ranges})"


def _check_arity(builder, ranges) -> None:
    """A builder must take one positional argument per ``(lo, hi)`` pair of ``ranges``."""
    import inspect

    try:
        sig = inspect.signature(builder)
    except (TypeError, ValueError):  # a builtin without a signature: nothing to check
        return
    try:
        sig.bind(*[0.0] * len(ranges))
    except TypeError:
        name = getattr(builder, "__name__", type(builder).__name__)
        raise ConfigurationError(
            f"builder {name}{sig} cannot take {len(ranges)} coordinate(s), but ranges={list(ranges)} gives "
            f"{len(ranges)}; pass one (lo, hi) pair per argument of the builder"
        ) from None


def surface(molecule, ranges=None, **molecule_options) -> Surface:
    """Return the :class:`Surface` of a catalog name or of a builder.

    Args:
        molecule: a catalog name (``"LiH"``, ...), a named surface (``"H2O-2D"``) or a function
            ``builder(*coords) -> Molecule``.
        ranges: ``[(lo, hi), ...]`` one per coordinate. For a catalog name the default is its scan
            range, for a named surface its ranges; for a builder it is required.
        **molecule_options: for catalog names, passed to ``Molecule.from_name`` (``basis``,
            ``active_electrons``, ``active_orbitals``); a builder takes none.

    Raises:
        ConfigurationError: unknown catalog name, missing/malformed ranges, options given with a builder.
    """
    if isinstance(molecule, Surface):
        if ranges is not None or molecule_options:
            raise ConfigurationError("a Surface already carries its ranges and options; pass it alone")
        return molecule
    if isinstance(molecule, str) and molecule in _named_surfaces():
        spec = _named_surfaces()[molecule]
        builder = functools.partial(spec["builder"], **molecule_options)
        return Surface(
            builder,
            spec["ranges"] if ranges is None else ranges,
            name=molecule,
            reference=spec["reference"],
            bounds=spec["bounds"],
            coordinate_names=spec["coordinate_names"],
        )
    if isinstance(molecule, str):
        from . import catalog
        from .molecule import Molecule

        entry = catalog.get(molecule)
        build = functools.partial(Molecule.from_name, entry.name, **molecule_options)
        return Surface(
            build,
            [entry.scan_range] if ranges is None else ranges,
            name=entry.name,
            reference=(entry.r_eq,),
            coordinate_names=("r",),
            check_point=entry.check_r,
            track=False,
        )  # Molecule.from_name tracks (one shared chain per molecule)
    if callable(molecule):
        if molecule_options:
            raise ConfigurationError(
                f"options {sorted(molecule_options)} apply to catalog names only; set them inside your builder"
            )
        if ranges is None:
            raise ConfigurationError(
                "a builder needs ranges=[(lo, hi), ...], one pair per argument of builder(*coords)"
            )
        return Surface(molecule, ranges)
    raise TypeError(
        f"molecule must be a catalog name such as 'LiH' or a function builder(*coords) -> qml.chem.Molecule, "
        f"got {type(molecule).__name__}"
    )


def _named_surfaces() -> dict:
    from .catalog import SURFACES

    return SURFACES


def _pairs(what: str, value, dim: int | None = None) -> tuple:
    try:
        pairs = tuple((float(lo), float(hi)) for lo, hi in value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"{what} must be a list of (lo, hi) pairs, one per coordinate, got {value!r}"
        ) from None
    if not pairs or (dim is not None and len(pairs) != dim):
        raise ConfigurationError(f"{what} needs {dim or 'at least one'} (lo, hi) pair(s), got {value!r}")
    for lo, hi in pairs:
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            raise ConfigurationError(f"each pair of {what} must be finite with hi > lo, got {value!r}")
    return pairs


__all__ = ["Surface", "surface"]
