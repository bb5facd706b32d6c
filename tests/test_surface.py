"""Tests of qml.chem.surface: coordinates -> molecules, validation, and orbitals tracked along a surface."""

from __future__ import annotations

import numpy as np
import pytest

from qml.chem import Molecule
from qml.chem.catalog import water
from qml.chem.surface import Surface, surface
from qml.errors import ConfigurationError, DataError

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _h2(r):
    return Molecule(["H", "H"], [[0, 0, 0], [0, 0, r]])


def _x(mol):
    s = mol.to_pyscf().intor_symmetric("int1e_ovlp")
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(w)) @ v.T @ mol.orbitals


def test_catalog_surface():
    s = surface("LiH")
    assert (s.dim, s.ranges, s.reference, s.name, s.coordinate_names) == (1, ((0.8, 3.5),), (1.595,), "LiH", ("r",))
    assert s.check(1.2).shape == (1, 1) and s.check([1.0, 2.0]).tolist() == [[1.0], [2.0]]
    assert s.scaled(np.array([[0.8], [3.5], [2.15]])).ravel().tolist() == pytest.approx([-1, 1, 0])
    mol = s.molecule(1.6)
    assert mol.r == 1.6 and mol.orbital_source == "tracked"
    assert surface("LiH", ranges=[(1.0, 2.0)]).ranges == ((1.0, 2.0),)
    assert Surface.key((1.23456789012345,)) == (1.2345678901,)


def test_water_2d_surface():
    s = surface("H2O-2D")
    assert (s.dim, s.coordinate_names, s.reference) == (2, ("r", "angle"), (0.958, 104.5))
    assert s.ranges == ((0.8, 1.5), (85.0, 125.0))
    pts = s.check([[1.0, 100.0], [1.2, 110.0]])
    assert pts.shape == (2, 2)
    mol = s.molecule((1.2, 110.0))
    a, b = mol.coordinates[1] - mol.coordinates[0], mol.coordinates[2] - mol.coordinates[0]
    assert np.linalg.norm(a) == pytest.approx(1.2) and np.linalg.norm(b) == pytest.approx(1.2)
    assert np.degrees(np.arccos(a @ b / 1.44)) == pytest.approx(110.0)
    assert (mol.n_electrons, mol.n_qubits, mol.orbital_source) == (8, 12, "tracked")
    assert np.allclose(water(0.958, 104.5).coordinates, Molecule.from_name("H2O", 0.958).coordinates)


def test_builder_surface_tracks_orbitals_in_two_dimensions():
    """Two nearby points of the 2-D water surface: tracked active orbitals overlap ~1 one by one, and the
    CASCI energy (PySCF) in tracked orbitals equals the canonical one."""
    from pyscf import mcscf

    from qml.chem.reference import _scf

    s = surface("H2O-2D")
    a, b = s.molecule((1.36, 100.0)), s.molecule((1.38, 101.0))  # across the 3a1/1b1 swap near 1.365 A
    diag = np.diag(_x(a)[:, 1:].T @ _x(b)[:, 1:])
    assert diag.min() > 0.99
    canon = water(1.38, 101.0)
    mf = _scf(canon)
    e = [mcscf.CASCI(mf, 6, 8).kernel(mo_coeff=np.array(m.orbitals))[0] for m in (b, canon)]
    assert e[0] == pytest.approx(e[1], abs=1e-9)
    assert s.tracker.frame((1.38, 101.0)).stable is True


def test_a_builder_that_sets_its_orbitals_is_left_alone():
    c = _h2(0.8).orbitals * np.array([1.0, -1.0])

    def build(r):
        return _h2(r).with_orbitals(c) if r == 0.8 else _h2(r)

    s = surface(build, ranges=[(0.5, 1.5)])
    assert np.array_equal(s.molecule(0.8).orbitals, c) and s.molecule(0.8).orbital_source == "given"
    assert s.molecule(0.9).orbital_source == "tracked"
    assert Surface(build, [(0.5, 1.5)], track=False).molecule(0.9).orbital_source == "canonical"


@pytest.mark.parametrize(
    "call,exc,msg",
    [
        (lambda: surface(_h2), ConfigurationError, "a builder needs ranges=[(lo, hi), ...]"),
        (lambda: surface(_h2, ranges=[(1.0, 0.5)]), ConfigurationError, "finite with hi > lo"),
        (lambda: surface(_h2, ranges=[1.0]), ConfigurationError, "list of (lo, hi) pairs"),
        (lambda: surface(_h2, ranges=[(0.5, 1.5)], basis="6-31g"), ConfigurationError, "apply to catalog names only"),
        (lambda: surface(3.0), TypeError, "catalog name such as 'LiH' or a function"),
        (lambda: surface("LIH"), ConfigurationError, "did you mean 'LiH'"),
        (lambda: surface(surface("H2"), ranges=[(0.5, 1.0)]), ConfigurationError, "pass it alone"),
        (lambda: Surface("H2", [(0.5, 1.0)]), TypeError, "builder must be a function"),
        (lambda: Surface(_h2, [(0.5, 1.0)], reference=(0.7, 1.0)), ConfigurationError, "reference must be 1 finite"),
        (lambda: Surface(_h2, [(0.5, 1.0)], track_steps=(0.0,)), ConfigurationError, "track_steps must be 1 positive"),
        (lambda: Surface(_h2, [(0.5, 1.0)], track="yes"), TypeError, "track must be True or False"),
        (lambda: Surface(_h2, [(0.5, 1.0)], coordinate_names=("a", "b")), ConfigurationError, "needs 1 names"),
    ],
)
def test_bad_surfaces(call, exc, msg):
    with pytest.raises(exc) as info:
        call()
    assert msg in str(info.value)


@pytest.mark.parametrize(
    "coords,exc,msg",
    [
        ("1.0", TypeError, "must be numbers"),
        ([[1.0, 100.0, 3.0]], DataError, "pass a tuple of 2 numbers or an array of shape (B, 2)"),
        ([], DataError, "pass a tuple of 2 numbers"),
        ([[1.0, np.nan]], DataError, "contain NaN or inf"),
        (
            [[1.0, 200.0]],
            ConfigurationError,
            "angle = 200.0 is outside the range of H2O-2D: use 60.0 <= angle <= 180.0",
        ),
        ([[0.4, 100.0]], ConfigurationError, "r = 0.4 is outside the range of H2O-2D"),
    ],
)
def test_bad_points_on_the_2d_surface(coords, exc, msg):
    with pytest.raises(exc) as info:
        surface("H2O-2D").check(coords)
    assert msg in str(info.value)


def test_bad_points_and_builders():
    s1 = surface("H2")
    with pytest.raises(DataError, match="has one coordinate"):
        s1.check([[0.7, 0.8]])
    with pytest.raises(DataError, match="no geometries given"):
        s1.check([])
    with pytest.raises(ConfigurationError, match=r"0.2 <= r <= 5.0"):
        s1.check([0.1])
    with pytest.raises(TypeError, match="must return a qml.chem.Molecule, got float"):
        surface(lambda r: r, ranges=[(0.5, 1.0)]).molecule(0.7)
    with pytest.raises(ConfigurationError, match="point must be 1 finite number"):
        s1.molecule((0.7, 0.8))
    with pytest.raises(ConfigurationError, match="water: angle = 20 is outside 60.0 <= angle <= 180.0"):
        water(1.0, 20)
    with pytest.raises(TypeError, match="r must be a number"):
        water("1.0", 100.0)


class _StubModel:
    """A model on the 2-D water surface whose energy is the exact one plus a known error (no circuit)."""

    surface = surface("H2O-2D")

    @staticmethod
    def exact_energy(points):
        p = np.asarray(points)
        return -75.0 + (p[:, 0] - 1.0) ** 2 + 1e-4 * (p[:, 1] - 104.5) ** 2

    def energy(self, points):
        p = np.asarray(points)
        return self.exact_energy(p) + 1e-3 * np.abs(p[:, 0] - 1.0)  # error 1 mHa per Angstrom from r = 1


def test_surface_plot_draws_energy_and_error_contours():
    import qml

    model = _StubModel()
    fig = qml.plot.pes_model_surface(
        model, grid=(np.linspace(0.8, 1.5, 6), np.linspace(85, 125, 5)), train=[[1.0, 100.0]], test=[[1.2, 110.0]]
    )
    left, right = fig.axes[:2]
    assert (left.get_xlabel(), left.get_ylabel()) == ("r", "angle")
    labels = [ax.get_ylabel() for ax in fig.axes[2:]]
    assert labels == ["exact energy [Ha]", "|PESModel - exact| [mHa]"]
    (levels,) = [c.levels for c in right.get_children() if hasattr(c, "levels")]
    assert levels.max() == pytest.approx(0.5)  # largest error: 1 mHa/A * |1.5 - 1.0| A
    assert levels.min() == pytest.approx(0.06)  # smallest non-zero: at r = 0.94
    assert [tuple(ln.get_xydata()[0]) for ln in right.get_lines()] == [(1.0, 100.0), (1.2, 110.0)]
    with pytest.raises(ConfigurationError, match="draws surfaces of two coordinates; this model has 1"):
        qml.plot.pes_model_surface(type("M", (), {"surface": surface("H2")})())


def test_surfaces_pickle_with_their_tracked_orbitals():
    import pickle

    s = surface("H2O-2D")
    c = s.molecule((1.0, 100.0)).orbitals
    again = pickle.loads(pickle.dumps(s))
    assert again.ranges == s.ranges and np.array_equal(again.tracker.orbitals((1.0, 100.0)), c)
    lih = pickle.loads(pickle.dumps(surface("LiH", basis="sto-3g")))
    assert lih.molecule(1.6).n_qubits == 10
