"""Tests of qml.chem.orbitals: orbitals that keep their meaning along a surface.

Independent checks: orbital overlaps are computed here from PySCF's AO overlap (``S^1/2 C``), and
energies in tracked orbitals are compared with PySCF CASCI / SCF energies in canonical orbitals
(PySCF's own CI solver, not the qubit Hamiltonian), and with the qubit Hamiltonian's exact energy.
The events (sign flips, swaps) are the ones measured with canonical orbitals in issue 12.
"""

from __future__ import annotations

import itertools
import pickle
import warnings

import numpy as np
import pytest

import qml
from qml.chem import Molecule
from qml.chem import orbitals as orb
from qml.errors import ConfigurationError

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

#: Neighbouring geometries 0.005 A apart where canonical orbitals flip sign or swap (issue 12).
EVENTS = [
    ("BeH2", 1.110),
    ("BeH2", 1.990),
    ("H2O", 1.330),
    ("H2O", 1.365),
    ("H2O", 1.520),
    ("H2O", 1.935),
    ("H4", 0.615),
]


def _x(mol) -> np.ndarray:
    """Orbitals in the orthonormalised AO basis, computed here from PySCF's overlap."""
    s = mol.to_pyscf().intor_symmetric("int1e_ovlp")
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(w)) @ v.T @ mol.orbitals


def _active_diag(a, b) -> np.ndarray:
    n_core = (a.total_electrons - a.n_electrons) // 2
    act = slice(n_core, n_core + a.n_orbitals)
    return np.diag(_x(a)[:, act].T @ _x(b)[:, act])


@pytest.mark.parametrize("name,r", EVENTS)
def test_no_sign_flip_or_swap_at_the_known_events(name, r):
    tracked = _active_diag(Molecule.from_name(name, r), Molecule.from_name(name, r + 0.005))
    canonical = _active_diag(
        Molecule.from_name(name, r, orbitals="canonical"), Molecule.from_name(name, r + 0.005, orbitals="canonical")
    )
    assert tracked.min() > 0.99, tracked
    assert canonical.min() < 0.1, canonical  # the event is real: canonical orbitals flip or swap here


@pytest.mark.parametrize("name", ["H2", "HeH+", "LiH", "BeH2", "H2O", "H4", "H4-rect"])
def test_orbitals_are_continuous_along_each_scan(name):
    """Neighbours 0.1 A apart over the whole scan range: every active orbital overlaps its successor > 0.9."""
    lo, hi = qml.chem.CATALOG[name].scan_range
    mols = [Molecule.from_name(name, r) for r in np.arange(lo, hi + 1e-9, 0.1)]
    diag = np.array([_active_diag(a, b) for a, b in itertools.pairwise(mols)])
    assert diag.min() > 0.9, (name, diag.min(axis=1))


@pytest.mark.parametrize("name,r", [("LiH", 3.0), ("BeH2", 2.0), ("H2O", 1.6), ("HeH+", 2.5)])
def test_tracked_orbitals_leave_energies_unchanged(name, r):
    """CASCI (PySCF) and the HF determinant energy in tracked orbitals equal those in canonical ones."""
    from pyscf import mcscf

    from qml.chem.reference import _scf

    tracked = Molecule.from_name(name, r)
    canonical = Molecule.from_name(name, r, orbitals="canonical")
    assert not np.allclose(tracked.orbitals, canonical.orbitals, atol=1e-3)  # they do differ
    mf = _scf(canonical)
    cas = [
        mcscf.CASCI(mf, m.n_orbitals, m.n_electrons).kernel(mo_coeff=np.array(m.orbitals))[0]
        for m in (tracked, canonical)
    ]
    assert cas[0] == pytest.approx(cas[1], abs=1e-9)
    occ = mf.mo_occ
    hf = [mf.energy_tot(dm=mf.make_rdm1(np.array(m.orbitals), occ)) for m in (tracked, canonical)]
    assert hf[0] == pytest.approx(hf[1], abs=1e-9) and hf[1] == pytest.approx(mf.e_tot, abs=1e-9)


def test_qubit_hamiltonian_energies_unchanged_h4():
    """At the H4 sign-flip event, exact and HF energies of the qubit Hamiltonian equal the canonical ones."""
    tracked, canonical = Molecule.from_name("H4", 0.617), Molecule.from_name("H4", 0.617, orbitals="canonical")
    assert tracked.orbital_source == "tracked" and canonical.orbital_source == "canonical"
    assert tracked.exact_energy() == pytest.approx(canonical.exact_energy(), abs=1e-9)
    assert tracked.hf_energy() == pytest.approx(canonical.hf_energy(), abs=1e-9)
    assert tracked.exact_energy() == pytest.approx(tracked.reference("fci"), abs=1e-8)


def test_path_is_a_grid_anchored_at_the_reference():
    tr = orb.OrbitalTracker(lambda p: None, (1.0,), (0.1,))
    assert np.allclose([p[0] for p in tr.path((1.35,))], [1.1, 1.2, 1.3, 1.35])
    assert np.allclose([p[0] for p in tr.path((0.8,))], [0.9, 0.8])
    assert tr.path((1.0,)) == []
    tr2 = orb.OrbitalTracker(lambda p: None, (1.0, 100.0), (0.1, 2.0))
    path = np.array(tr2.path((1.3, 90.0)))  # 0.3 / 0.1 = 3 steps, 10 / 2 = 5 steps: 5 on the line
    assert path.shape == (5, 2)
    assert np.allclose(path[:, 0], [1.06, 1.12, 1.18, 1.24, 1.3])
    assert np.allclose(path[:, 1], [98, 96, 94, 92, 90])


def test_align_undoes_signs_and_rotations_inside_blocks_and_reports_jumps():
    rng = np.random.default_rng(0)
    x_prev = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    blocks = {"occ": np.array([0, 1]), "vir": np.array([2, 3])}
    t = 0.7
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    c = x_prev.copy()
    c[:, :2] = c[:, :2] @ rot
    c[:, 3] *= -1
    aligned, overlaps = orb.align(x_prev, c, np.eye(4), blocks)
    assert np.allclose(aligned, x_prev, atol=1e-12)
    assert overlaps == pytest.approx({"occ": 1.0, "vir": 1.0})
    swapped = x_prev[:, [0, 2, 1, 3]]  # an occupied and a virtual orbital exchanged: the occupied space jumps
    _, overlaps = orb.align(x_prev, swapped, np.eye(4), blocks)
    assert overlaps["occ"] == pytest.approx(0.0, abs=1e-12)


def test_the_h4_rectangle_keeps_its_reference_through_the_square():
    """At R = 1.23 A (the square) the HOMO and LUMO cross. The tracked determinant stays continuous, so beyond
    the square it is an excited RHF solution (higher than PySCF's aufbau RHF); the exact energy is unchanged."""
    before = Molecule.from_name("H4-rect", 1.228)
    after, after_canonical = (
        Molecule.from_name("H4-rect", 1.3),
        Molecule.from_name("H4-rect", 1.3, orbitals="canonical"),
    )
    x_before, x_after = _x(before), _x(after)
    occ_overlap = np.linalg.svd(x_before[:, :2].T @ x_after[:, :2], compute_uv=False)
    assert occ_overlap.min() > 0.95
    x_c = _x(Molecule.from_name("H4-rect", 1.228, orbitals="canonical")), _x(after_canonical)
    assert np.linalg.svd(x_c[0][:, :2].T @ x_c[1][:, :2], compute_uv=False).min() < 0.05  # aufbau RHF jumps
    assert after.hf_energy() - after_canonical.hf_energy() > 0.05  # 88 mHa measured
    assert after.exact_energy() == pytest.approx(after_canonical.exact_energy(), abs=1e-9)


def _rect(p):
    return Molecule.from_name("H4-rect", p[0], orbitals="canonical")


def test_aufbau_following_jumps_at_the_square_and_warns():
    tracker = orb.OrbitalTracker(_rect, (1.1,), (0.02,), name="rect", follow="aufbau", check_stability=False)
    with pytest.warns(
        orb.OrbitalWarning,
        match=r"rect: the active_(docc|virtual) orbitals jump between 1.22 and 1.24 "
        r"\(smallest overlap singular value 0.000\)",
    ):
        tracker.frame((1.3,))
    jumps = [f.point[0] for f in tracker.frames() if f.min_overlap < orb.MIN_OVERLAP]
    assert jumps == pytest.approx([1.24])
    with pytest.raises(ConfigurationError, match="unknown orbital following 'lowest'"):
        orb.OrbitalTracker(_rect, (1.1,), (0.02,), follow="lowest")


def test_an_unstable_followed_reference_is_warned():
    """Beyond the square the followed H4 rectangle determinant becomes an unstable RHF solution: warned once.
    (Further out, near R = 2 A, it ceases to exist: the chain then jumps, see the aufbau test's warning.)"""
    ok = orb.OrbitalTracker(_rect, (1.9,), (0.02,), name="rect").frame((1.9,))
    assert ok.stable is True and ok.lower_by == 0.0
    tracker = orb.OrbitalTracker(_rect, (1.0,), (0.02,), name="rect")
    with pytest.warns(
        orb.OrbitalWarning,
        match=r"rect: no continuous single reference beyond 1.22: between 1.22 and 1.24 the RHF determinant "
        r"followed continuously from 1 stops being the lowest RHF solution \(at 1.6 another lies \d+ mHa lower\)",
    ):
        frame = tracker.frame((1.6,))
    assert frame.stable is False and frame.lower_by > 0.1
    # the square (R = 1.23 A) is where the occupied space of the lowest RHF solution changes: the
    # boundary is a function of the geometry alone (bisected on the chain's grid)
    a, b = tracker.boundary((1.6,))
    assert a == pytest.approx((1.22,)) and b == pytest.approx((1.24,))
    assert min(f.min_overlap for f in tracker.frames()) > 0.9  # continuous all the way
    with warnings.catch_warnings():
        warnings.simplefilter("error", orb.OrbitalWarning)
        tracker.frame((1.64,))  # once per tracker


def test_given_orbitals_are_used_and_validated():
    h2 = Molecule.from_name("H2", 0.9)
    flipped = np.array(h2.orbitals) * np.array([1.0, -1.0])
    other = h2.with_orbitals(flipped)
    assert other.orbital_source == "given" and np.allclose(other.orbitals, flipped)
    assert other.exact_energy() == pytest.approx(h2.exact_energy(), abs=1e-12)
    assert other == h2  # the same molecule; the orbital basis is a representation
    with pytest.raises(ConfigurationError, match=r"orbitals must have shape \(2, 2\)"):
        h2.with_orbitals(np.eye(3))
    with pytest.raises(ConfigurationError, match="not orthonormal under the AO overlap"):
        h2.with_orbitals(np.eye(2))
    with pytest.raises(TypeError, match="orbitals must be a 2-D array"):
        h2.with_orbitals({"a": 1})
    with pytest.raises(
        ConfigurationError, match="orbitals must be 'tracked', 'continuous', 'aufbau' or 'canonical', got 'fixed'"
    ):
        Molecule.from_name("H2", 0.9, orbitals="fixed")


def test_tracked_molecules_pickle_and_round_trip_with_their_orbitals():
    lih = Molecule.from_name("LiH", 2.2)
    again = pickle.loads(pickle.dumps(lih))
    assert np.array_equal(again.orbitals, lih.orbitals) and again.orbital_source == "tracked"
    d = lih.to_dict()
    rebuilt = Molecule(**d)
    assert np.allclose(rebuilt.orbitals, lih.orbitals, atol=1e-12) and rebuilt == lih
