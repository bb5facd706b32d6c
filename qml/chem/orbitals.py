"""Orbitals that keep their meaning along a potential energy surface.

A qubit of the Jordan-Wigner Hamiltonian is a spin orbital. Canonical Hartree-Fock orbitals are
defined per geometry only up to a sign, are ordered by energy (so two orbitals that cross swap
places) and, inside a degenerate pair, are oriented arbitrarily. Between two neighbouring
geometries a qubit can therefore change meaning, and whatever is learnt as a function of the
geometry (the angles of a ``PESModel``, a warm-started VQE) jumps there although the energy does
not. Measured on the catalog with canonical orbitals: sign flips (BeH2 sigma_g at 1.110-1.115 A,
H2O 3a1 at 1.330-1.335 A, H4 sigma_u* at 0.615-0.620 A) and swaps (BeH2 sigma_g* below the pi pair
at 1.990-1.995 A; H2O 3a1/1b1 at 1.365-1.370 A, 1b2/1b1 at 1.520-1.525 A, 3a1/1b2 at 1.935-1.940 A).

The remedy here: *track* the orbitals from a reference geometry (the equilibrium) to the wanted one
along a straight line in small steps. At each step

1. the SCF at the new geometry starts from the previous density and keeps the previous occupied
   orbitals occupied (maximum overlap method), so it follows the same RHF solution even where an
   occupied and a virtual orbital cross (``follow="aufbau"`` instead takes PySCF's default RHF
   solution at every step and only aligns it);
2. the orbitals are split into blocks (frozen core, active doubly occupied, active singly occupied,
   active virtual, external) and each block is rotated onto the previous geometry's orbitals of
   the same block (orthogonal Procrustes in the orthonormalised atomic-orbital basis
   ``X = S^1/2 C``).

Rotations inside a block change neither the determinant, nor the frozen core, nor the active
space, so the Hartree-Fock, CASCI and exact energies are unchanged (tested to 1e-9 Ha) wherever the
followed solution is PySCF's default one: everywhere inside the catalog scan ranges. Past an RHF
instability they can differ: water beyond 2.025 A continues onto a lower RHF branch (HF 1.4-21 mHa
lower at 2.03-2.2 A, exact energy within 1.1 microHartree), and the rectangular H4 continues its
determinant through the square (R = 1.23 A) as an excited RHF solution (88 mHa above at 1.3 A). The
singular values of each block's overlap with its predecessor measure continuity: they are near 1
for a smooth step and one of them drops to 0 when the occupied space itself jumps. Where the
followed RHF solution stops being the lowest one (RHF stability analysis), the orbitals stay
continuous but the reference is no longer the Hartree-Fock ground state; an
:class:`OrbitalWarning` says so once per surface.

``Molecule.from_name`` tracks by default (cached chain on a 0.02 A grid from the catalog's
equilibrium ``r``); :meth:`qml.chem.surface.Surface.molecule` tracks any builder along the straight
line from ``surface.reference``. :func:`clear_cache` empties the chains.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._cache import register
from ..errors import check_choice

#: Step of the chain for catalog molecules (Angstrom), anchored at the entry's ``r_eq``.
CATALOG_STEP = 0.02

#: A block singular value below this between two chain neighbours is a jump (warned).
MIN_OVERLAP = 0.5

#: How the reference determinant is continued from one step to the next (see :func:`follow`).
FOLLOW = ("continuous", "aufbau")

#: The followed determinant more than this (Hartree) above PySCF's default RHF solution is not the ground state.
ABOVE_TOL = 1e-6

#: SCF energy convergence (Hartree), as :mod:`qml.chem.reference`.
SCF_CONV_TOL = 1e-11


class OrbitalWarning(UserWarning):
    """The orbitals or the reference determinant cannot be continued smoothly (see message)."""


@dataclass
class Frame:
    """Orbitals at one geometry of a chain.

    Attributes:
        point: the geometry's coordinates (tuple of ``d`` floats).
        coefficients: MO coefficients, shape ``(n_ao, n_mo)``: occupied first, then virtual.
        occupations: shape ``(n_mo,)`` (2, 1 or 0).
        energy: total SCF energy (Hartree) of the determinant.
        overlaps: smallest singular value of each block's overlap with the previous frame
            (empty for the reference).
        stable: RHF internal stability of the followed solution (None until checked).
        lower_by: how far below (Hartree) a lower SCF solution lies when unstable (else 0).
    """

    point: tuple
    coefficients: np.ndarray
    occupations: np.ndarray
    energy: float
    overlaps: dict = field(default_factory=dict)
    stable: bool | None = None
    lower_by: float = 0.0

    @property
    def min_overlap(self) -> float:
        """Smallest block singular value against the previous frame (1.0 for the reference)."""
        return min(self.overlaps.values(), default=1.0)


# ---------------------------------------------------------------------------- building blocks
@contextlib.contextmanager
def one_thread():
    """Run PySCF single-threaded inside the block (restored after).

    The SCFs of a chain are tiny (7 basis functions for H2O/STO-3G); with OpenMP threads on a
    busy machine each took 0.7 s instead of 0.09 s, measured here.
    """
    from pyscf import lib

    before = lib.num_threads()
    lib.num_threads(1)
    try:
        yield
    finally:
        lib.num_threads(before)


def sqrt_overlap(pyscf_mol) -> np.ndarray:
    """``S^1/2`` of the atomic-orbital overlap matrix, shape ``(n_ao, n_ao)``."""
    s = pyscf_mol.intor_symmetric("int1e_ovlp")
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(w)) @ v.T


def blocks(molecule, occupations: np.ndarray) -> dict[str, np.ndarray]:
    """Column indices of each orbital block of ``molecule`` for ordered ``occupations``.

    Returns:
        dict ``{"core", "active_docc", "active_socc", "active_virtual", "external"} -> int ndarray``
        (empty blocks omitted), in column order.
    """
    n_mo = len(occupations)
    n_docc = int(np.sum(occupations > 1.5))
    n_occ = int(np.sum(occupations > 0.5))
    n_core = (molecule.total_electrons - molecule.n_electrons) // 2
    n_act_end = n_core + molecule.n_orbitals
    edges = {
        "core": (0, n_core),
        "active_docc": (n_core, n_docc),
        "active_socc": (n_docc, n_occ),
        "active_virtual": (n_occ, n_act_end),
        "external": (n_act_end, n_mo),
    }
    return {k: np.arange(a, b) for k, (a, b) in edges.items() if b > a}


def align(previous_x: np.ndarray, coefficients: np.ndarray, sqrt_s: np.ndarray, block_index: dict):
    """Rotate each block of ``coefficients`` onto the same block of the previous geometry.

    Args:
        previous_x: previous orbitals in the orthonormalised AO basis, ``S_prev^1/2 C_prev``,
            shape ``(n_ao, n_mo)``.
        coefficients: new MO coefficients, shape ``(n_ao, n_mo)``, blocks as ``block_index``.
        sqrt_s: ``S^1/2`` at the new geometry.
        block_index: from :func:`blocks`.

    Returns:
        tuple: ``(aligned coefficients (n_ao, n_mo), {block: smallest singular value})``.
    """
    c = np.array(coefficients, dtype=float, copy=True)
    x = sqrt_s @ c
    overlaps = {}
    for name, idx in block_index.items():
        m = x[:, idx].T @ previous_x[:, idx]
        w, s, vt = np.linalg.svd(m)
        c[:, idx] = c[:, idx] @ (w @ vt)
        overlaps[name] = float(s.min())
    return c, overlaps


def fix_phases(mo_coeff: np.ndarray) -> np.ndarray:
    """Return MO coefficients with a deterministic sign per orbital (the reference geometry's convention).

    Each column is flipped so that its first atomic-orbital coefficient of at least half the
    column's largest magnitude is positive.
    """
    c = np.array(mo_coeff, dtype=float, copy=True)
    mag = np.abs(c)
    first = np.argmax(mag >= 0.5 * mag.max(axis=0, keepdims=True), axis=0)
    signs = np.sign(c[first, np.arange(c.shape[1])])
    signs[signs == 0] = 1.0
    return c * signs


def _ordered(mo_coeff, mo_occ, mo_energy):
    """Columns sorted by occupation (2, 1, 0), then energy."""
    order = np.lexsort((np.asarray(mo_energy), -np.asarray(mo_occ)))
    return np.asarray(mo_coeff)[:, order], np.asarray(mo_occ, dtype=float)[order]


def _mean_field(molecule, pyscf_mol):
    from pyscf import scf

    mf = scf.RHF(pyscf_mol) if molecule.multiplicity == 1 else scf.ROHF(pyscf_mol)
    mf.conv_tol = SCF_CONV_TOL
    mf.max_cycle = 200
    mf.chkfile = None  # no HDF5 checkpoint per SCF cycle (a third of the time of a chain)
    return mf


def canonical(molecule) -> Frame:
    """Canonical (R/RO)HF orbitals of ``molecule`` from scratch, sign-fixed by :func:`fix_phases`."""
    from .reference import _scf

    with one_thread():
        mf = _scf(molecule)
    c, occ = _ordered(fix_phases(mf.mo_coeff), mf.mo_occ, mf.mo_energy)
    return Frame((), c, occ, float(mf.e_tot))


def follow(molecule, previous: Frame, previous_x: np.ndarray, reference: str = "continuous"):
    """SCF at ``molecule`` continued from ``previous``, then aligned block by block.

    Args:
        molecule: the next geometry.
        previous: the previous :class:`Frame`; ``previous_x`` its ``S^1/2 C``.
        reference: ``"continuous"``: keep the previous occupied orbitals occupied (maximum overlap
            method), so the determinant is followed through HOMO/LUMO crossings; ``"aufbau"``:
            PySCF's RHF from its default guess at every geometry (the solution the references and
            data sets use; the occupied space jumps where that solution does), only aligned.

    Returns:
        tuple: the new :class:`Frame` and its ``S^1/2 C`` (for the next step).
    """
    mol = molecule.to_pyscf()
    sqrt_s = sqrt_overlap(mol)
    mf = _mean_field(molecule, mol)
    # previous orbitals re-expressed at the new geometry (Loewdin): orthonormal there
    guess = np.linalg.solve(sqrt_s, previous_x)
    occ = previous.occupations
    if reference == "continuous":
        _keep_occupied(mf, guess, occ)
        mf.kernel(dm0=mf.make_rdm1(guess, occ))
    else:  # PySCF's own solution from its default guess, as qml.chem.reference and the data sets
        mf.kernel()
    if not mf.converged:  # pragma: no cover - MOM trouble; start from scratch instead
        mf = _mean_field(molecule, mol)
        mf.kernel(dm0=mf.make_rdm1(guess, occ))
    c, occ = _ordered(mf.mo_coeff, mf.mo_occ, mf.mo_energy)
    c, overlaps = align(previous_x, c, sqrt_s, blocks(molecule, occ))
    frame = Frame((), c, occ, float(mf.e_tot), overlaps)
    return frame, sqrt_s @ c


def _keep_occupied(mf, guess: np.ndarray, occupations: np.ndarray) -> None:
    """Maximum overlap method: occupy the orbitals that overlap most with ``guess``'s occupied ones.

    (PySCF's ``mom_occ`` treats a restricted closed-shell calculation as spin orbitals and
    occupies them with 1 electron each, so it is not used here.)
    """
    s_ao = mf.get_ovlp()
    sets = [(value, guess[:, occupations == value]) for value in (2.0, 1.0) if np.any(occupations == value)]

    def get_occ(mo_energy=None, mo_coeff=None):
        mo_coeff = mf.mo_coeff if mo_coeff is None else mo_coeff
        out = np.zeros(mo_coeff.shape[1])
        free = np.ones(mo_coeff.shape[1], dtype=bool)
        for value, old in sets:
            weight = np.einsum("ij,ij->j", *(2 * [old.T @ s_ao @ mo_coeff]))
            weight[~free] = -1.0
            pick = np.argsort(weight)[::-1][: old.shape[1]]
            out[pick], free[pick] = value, False
        return out

    mf.get_occ = get_occ


def stability(molecule, frame: Frame) -> tuple[bool, float]:
    """RHF internal stability of the determinant of ``frame`` at ``molecule``.

    Returns:
        tuple: ``(stable, lower_by)``: ``lower_by`` (Hartree, >= 0) is how far below a solution
        reached from the unstable direction lies (0 when stable).
    """
    mol = molecule.to_pyscf()
    mf = _mean_field(molecule, mol)
    occ = frame.occupations
    fock = mf.get_fock(dm=mf.make_rdm1(frame.coefficients, occ))
    c = np.array(frame.coefficients, copy=True)
    energies = np.zeros(len(occ))
    for value in np.unique(occ):  # semi-canonical within each occupation: PySCF's Hessian wants that
        idx = np.flatnonzero(occ == value)
        w, v = np.linalg.eigh(c[:, idx].T @ fock @ c[:, idx])
        c[:, idx], energies[idx] = c[:, idx] @ v, w
    mf.mo_coeff, mf.mo_occ, mf.mo_energy = c, occ, energies
    mf.e_tot, mf.converged = frame.energy, True
    mo_new, _, stable, _ = mf.stability(return_status=True)
    if stable:
        return True, 0.0
    lower = _mean_field(molecule, mol)
    lower.kernel(dm0=lower.make_rdm1(mo_new, frame.occupations))
    return False, max(0.0, frame.energy - float(lower.e_tot))


# ---------------------------------------------------------------------------- the chain
class OrbitalTracker:
    """Orbitals along straight lines from a reference point, computed once per point and cached.

    Args:
        build: ``build(point: tuple) -> Molecule`` (any orbitals; only its geometry and active
            space are used).
        reference: the anchor point (tuple of ``d`` floats), e.g. the equilibrium geometry.
        steps: largest step per coordinate (tuple of ``d`` positive floats).
        name: label for warnings.
        check_stability: run RHF stability analysis at every requested (not intermediate) point.
        follow: ``"continuous"`` (default) or ``"aufbau"``, see :func:`follow`.

    Raises:
        ConfigurationError: unknown ``follow``.
    """

    def __init__(
        self,
        build: Callable,
        reference,
        steps,
        *,
        name: str = "surface",
        check_stability: bool = True,
        follow: str = "continuous",
    ):
        check_choice("orbital following", follow, FOLLOW)
        self.follow = follow
        self.build = build
        self.reference = tuple(float(v) for v in reference)
        self.steps = np.asarray(steps, dtype=float)
        self.name = name
        self.check_stability = check_stability
        self._frames: dict[tuple, tuple[Frame, np.ndarray]] = {}
        self._warned: set = set()
        self._scratch: dict[tuple, float] = {}

    @staticmethod
    def _key(point) -> tuple:
        return tuple(round(float(v), 10) for v in point)

    def path(self, point) -> list[tuple]:
        """Points from the reference (excluded) to ``point`` (included) along the straight line.

        With ``n = max_i |point_i - ref_i| / step_i`` and the step ``u = (point - ref) / n`` (in one
        dimension ``u = +-step`` exactly; else rounded to 1e-12) the intermediate points are
        ``ref + k u`` for ``k = 1 .. ceil(n) - 1``: a grid anchored at the reference, shared
        bit for bit by every point on the same ray, whichever was asked for first. A ``point`` that
        lies on that grid (to 1e-10) is replaced by its grid coordinates, so its orbitals do not
        depend on whether it was reached as a grid point or asked for itself.
        """
        ref = np.asarray(self.reference)
        delta = np.asarray(point, dtype=float) - ref
        n = float(np.max(np.abs(delta) / self.steps))
        if n == 0.0:
            return []
        if len(ref) == 1:
            u = np.sign(delta) * self.steps
        else:
            u = np.round(delta / n, 12)
        k_max = math.ceil(n - 1e-9)
        pts = [tuple(float(v) for v in ref + k * u) for k in range(1, k_max)]
        last = tuple(float(v) for v in point)
        on_grid = tuple(float(v) for v in ref + k_max * u)
        if self._key(on_grid) == self._key(last):
            last = on_grid
        return pts + [last]

    def frame(self, point) -> Frame:
        """The :class:`Frame` at ``point`` (chain computed and cached on first use)."""
        point = tuple(float(v) for v in point)
        key = self._key(point)
        if key in self._frames:
            frame = self._frames[key][0]
        else:
            frame = self._chain(point)
        if self.check_stability and frame.stable is None:
            frame.stable, frame.lower_by = stability(self.build(point), frame)
            above = self._above(point)
            frame.lower_by = max(frame.lower_by, above)
            if not frame.stable or above > ABOVE_TOL:
                self._warn_unstable(point, frame)
        return frame

    def _above(self, point) -> float:
        """How far (Hartree) the followed determinant at ``point`` lies above PySCF's RHF solution
        from its default guess there (negative: below it; cached per point)."""
        key = self._key(point)
        if key not in self._scratch:
            scratch = canonical(self.build(point)).energy
            self._scratch[key] = self._frames[key][0].energy - scratch
        return self._scratch[key]

    def boundary(self, point) -> tuple[tuple, tuple]:
        """Where, on the chain from the reference to ``point``, the followed determinant stops being the RHF ground state.

        Bisects the chain's grid points (assuming one change between the reference and ``point``):
        a point counts as past the boundary when the followed determinant lies more than
        :data:`ABOVE_TOL` above PySCF's RHF solution from its default guess there, or, when
        ``point`` itself is not above it, when RHF stability analysis finds it unstable. A function
        of the geometry alone.

        Returns:
            ``(last point before, first point past)``: the continuous single reference ends between them.
        """
        chain = [self.reference, *self.path(point)]
        by_energy = self._above(point) > ABOVE_TOL

        def past(p) -> bool:
            if by_energy:
                return self._above(p) > ABOVE_TOL
            f = self._frames[self._key(p)][0]
            if f.stable is None:
                f.stable, f.lower_by = stability(self.build(p), f)
            return not f.stable

        lo, hi = 0, len(chain) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if past(chain[mid]) else (mid, hi)
        return chain[lo], chain[hi]

    def _warn_unstable(self, point, frame: Frame) -> None:
        a, b = self.boundary(point)
        side = tuple(np.sign(np.subtract(b, self.reference)))
        if ("unstable", side) in self._warned:
            return
        self._warned.add(("unstable", side))
        warnings.warn(
            f"{self.name}: no continuous single reference beyond {_fmt(a)}: between {_fmt(a)} and {_fmt(b)} the "
            f"RHF determinant followed continuously from {_fmt(self.reference)} stops being the lowest RHF solution "
            f"(at {_fmt(point)} another lies {frame.lower_by * 1e3:.3g} mHa lower). The orbitals and the exact "
            "energies stay continuous, but past that geometry the reference is an excited or unstable determinant: "
            "a single-reference ansatz needs large angles there, and a PESModel trained across it is less "
            "accurate near it (add training geometries on both sides).",
            OrbitalWarning,
            stacklevel=5,
        )

    def orbitals(self, point) -> np.ndarray:
        """Tracked MO coefficients at ``point``, shape ``(n_ao, n_mo)``."""
        with one_thread():
            return self.frame(point).coefficients

    def _chain(self, point) -> Frame:
        ref_key = self._key(self.reference)
        if ref_key not in self._frames:
            mol = self.build(self.reference)
            frame = canonical(mol)
            frame.point = self.reference
            self._frames[ref_key] = (frame, sqrt_overlap(mol.to_pyscf()) @ frame.coefficients)
        previous = self._frames[ref_key]
        for p in self.path(point):
            key = self._key(p)
            if key not in self._frames:
                frame, x = follow(self.build(p), *previous, reference=self.follow)
                frame.point = p
                self._frames[key] = (frame, x)
                if frame.min_overlap < MIN_OVERLAP and ("jump", key) not in self._warned:
                    self._warned.add(("jump", key))
                    worst = min(frame.overlaps, key=frame.overlaps.get)
                    warnings.warn(
                        f"{self.name}: the {worst} orbitals jump between {_fmt(previous[0].point)} and {_fmt(p)} "
                        f"(smallest overlap singular value {frame.min_overlap:.3f}); qubits change meaning there "
                        "and a model of the surface will not be smooth across it.",
                        OrbitalWarning,
                        stacklevel=5,
                    )
            previous = self._frames[key]
        return previous[0]

    def frames(self) -> list[Frame]:
        """Every cached frame, sorted by point."""
        return [f for f, _ in sorted(self._frames.values(), key=lambda fx: fx[0].point)]

    def clear(self) -> None:
        """Forget every cached frame."""
        self._frames.clear()
        self._warned.clear()
        self._scratch.clear()


def _fmt(point) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in point) + ")" if len(point) != 1 else f"{point[0]:.4g}"


_TRACKERS: dict = register("qml.chem.orbitals.trackers", {})


def cached_tracker(key, make) -> OrbitalTracker:
    """The tracker cached under ``key``, made by ``make()`` on first use (``qml.chem.Molecule.from_name``
    keeps one per catalog molecule and options); :func:`clear_cache` forgets them."""
    if key not in _TRACKERS:
        _TRACKERS[key] = make()
    return _TRACKERS[key]


def clear_cache() -> None:
    """Forget every cached orbital chain of catalog molecules (``qml.clear_caches()`` does it too)."""
    _TRACKERS.clear()


__all__ = [
    "Frame",
    "OrbitalTracker",
    "OrbitalWarning",
    "align",
    "blocks",
    "canonical",
    "clear_cache",
    "fix_phases",
    "follow",
    "sqrt_overlap",
    "stability",
]
