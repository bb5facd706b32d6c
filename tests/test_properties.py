"""qml.chem.properties: checked against analytic oscillators and the exact (FCI) curve."""

from types import SimpleNamespace

import numpy as np
import pytest

import qml
from qml.chem.properties import AMU_TO_ME, ANGSTROM_TO_BOHR, HARTREE_TO_CM, properties, reduced_mass, vibrational_levels
from qml.errors import ConfigurationError

MU_H2 = reduced_mass(("H", "H"))


def test_reduced_mass_of_main_isotopes():
    # 1H: 1.00782503 amu, 7Li: 7.01600344 amu (NIST); mu = m1 m2 / (m1 + m2)
    assert MU_H2 == pytest.approx(1.00782503 / 2, rel=1e-6)
    assert reduced_mass(("Li", "H")) == pytest.approx(7.01600344 * 1.00782503 / 8.02382847, rel=1e-6)
    with pytest.raises(ConfigurationError, match="needs a diatomic"):
        reduced_mass(("O", "H", "H"))


def test_dvr_levels_of_the_harmonic_oscillator():
    omega = 3000.0 / HARTREE_TO_CM  # Hartree
    k = omega**2 * 1.0 * AMU_TO_ME  # mu = 1 amu

    def v(r):
        return 0.5 * k * ((r - 1.0) * ANGSTROM_TO_BOHR) ** 2

    levels = vibrational_levels(v, (0.2, 1.8), 1.0, n_levels=5)
    np.testing.assert_allclose(levels * HARTREE_TO_CM, 3000.0 * (np.arange(5) + 0.5), atol=1e-3)
    p = properties(v, bounds=(0.2, 1.8), reduced_mass=1.0, n_points=41)
    assert p.r_e == pytest.approx(1.0, abs=1e-8)
    assert p.omega_e == pytest.approx(3000.0, abs=1e-3)
    assert p.omega_e_x_e == pytest.approx(0.0, abs=1e-3)


def test_levels_and_constants_of_a_morse_oscillator():
    d_e, a, r_e = 0.17, 1.9, 0.74  # Hartree, 1/Angstrom, Angstrom: an H2-like Morse curve

    def morse(r):
        return d_e * (1 - np.exp(-a * (r - r_e))) ** 2 - 1.17

    # analytic: omega = a sqrt(2 D / mu), omega x = omega^2 / (4 D), E_v = omega (v + 1/2) - omega x (v + 1/2)^2
    omega = a / ANGSTROM_TO_BOHR * np.sqrt(2 * d_e / (MU_H2 * AMU_TO_ME)) * HARTREE_TO_CM
    omega_x = omega**2 / (4 * d_e * HARTREE_TO_CM)
    v = np.arange(4) + 0.5
    exact = (omega * v - omega_x * v**2) / HARTREE_TO_CM - 1.17
    p = properties(morse, bounds=(0.3, 4.0), reduced_mass=MU_H2, n_points=161, n_grid=401, e_inf=-1.0)
    assert p.r_e == pytest.approx(r_e, abs=1e-6)
    assert p.e_min == pytest.approx(-1.17, abs=1e-9)
    assert p.d_e == pytest.approx(d_e, abs=1e-12)
    assert p.omega_e == pytest.approx(omega, abs=0.01)
    assert p.omega_e_x_e == pytest.approx(omega_x, abs=0.01)
    np.testing.assert_allclose(p.levels[:4] * HARTREE_TO_CM, exact * HARTREE_TO_CM, atol=0.05)
    assert p.zero_point_energy == pytest.approx((exact[0] + 1.17) * HARTREE_TO_CM, abs=0.01)
    table = p.table()
    assert table["property"][:2] == ["r_e", "e_min"] and table["value"][0] == p.r_e


@pytest.mark.slow
def test_h2_model_matches_the_exact_curve():
    """A trained PESModel's r_e and omega_e against the same analysis of the exact (FCI) curve."""
    pes = qml.PESModel("H2", backend="fast")
    qml.fit(pes, np.linspace(0.45, 1.3, 7), epochs=150, progress=False)
    bounds = (0.45, 1.25)
    model = properties(pes, bounds=bounds, n_points=13)
    exact = properties(lambda r: pes.exact_energy(r[:, None]), bounds=bounds, n_points=13, reduced_mass=MU_H2)
    assert model.reduced_mass == pytest.approx(MU_H2)
    assert abs(model.r_e - exact.r_e) < 0.001
    assert abs(model.omega_e - exact.omega_e) < 5.0
    # FCI/STO-3G H2: r_e 0.7349 A (PySCF scan), and a harmonic frequency of about 5000 cm^-1
    assert exact.r_e == pytest.approx(0.7349, abs=5e-4)
    assert 4900 < exact.omega_e < 5100
    assert model.stderr == {}  # exact backend: no uncertainties


def test_scan_result_and_stderr_by_resampling():
    # a scan built by hand on an analytic curve (no VQE): the properties of its points
    from qml.chem.scan import ScanPoint, ScanResult

    r = np.linspace(0.5, 1.4, 10)
    e = 0.2 * (1 - np.exp(-1.9 * (r - 0.74))) ** 2 - 1.1
    pts = [ScanPoint(float(x), 0.0, float(y), float(y), 0.0, 0.0, 1, True, False) for x, y in zip(r, e)]
    scan = ScanResult("H2", "uccsd", "lbfgs", "fast", pts)
    p = properties(scan)
    assert p.r_e == pytest.approx(0.74, abs=2e-3) and p.reduced_mass == pytest.approx(MU_H2)
    assert p.source == "scan H2 (vqe)"
    with pytest.raises(ConfigurationError, match="at least 6 points"):
        properties(ScanResult("H2", "uccsd", "lbfgs", "fast", pts[:4]))
    with pytest.raises(ConfigurationError, match="column must be"):
        properties(scan, column="energy")


class _Noisy:
    """A PESModel-like curve whose energies carry a standard error (as with shots)."""

    def __init__(self, sigma):
        from qml.chem.surface import surface

        self.surface = surface("H2")
        self.bank = {self.surface.reference: SimpleNamespace(molecule=SimpleNamespace(symbols=("H", "H")))}
        self.molecule_name = "H2"
        self.sigma = sigma

    def energy(self, x, return_std=False):
        r = np.asarray(x, dtype=float).reshape(-1)
        e = 0.2 * (1 - np.exp(-1.9 * (r - 0.74))) ** 2 - 1.1
        return (e, np.full_like(e, self.sigma)) if return_std else e


def test_uncertainties_from_the_model_stderr():
    quiet = properties(_Noisy(0.0), bounds=(0.45, 1.3), n_points=15)
    noisy = properties(_Noisy(1e-4), bounds=(0.45, 1.3), n_points=15, n_draws=32)
    assert quiet.stderr == {} and quiet.r_e == pytest.approx(0.74, abs=1e-4)
    assert 0 < noisy.stderr["x_e[0]"] < 0.01 and 0 < noisy.stderr["omega_e"] < 200
    assert noisy.to_pandas is not None and noisy.table()["stderr"][0] == noisy.stderr["x_e[0]"]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(curve=lambda r: r, bounds=None), ConfigurationError, "needs bounds"),
        (dict(curve=lambda r: r, bounds=(2.0, 1.0)), ConfigurationError, "0 < lo < hi"),
        (dict(curve=lambda r: r, bounds=(1.0, 2.0), n_points=3), ConfigurationError, "n_points must be >= 7"),
        (dict(curve=lambda r: r, bounds=(1.0, 2.0), reduced_mass=-1), ConfigurationError, "reduced_mass must be"),
        (dict(curve=lambda r: r[:2], bounds=(1.0, 2.0)), ConfigurationError, "must return 41 finite energies"),
        (dict(curve=lambda r: r, bounds=(1.0, 2.0)), ConfigurationError, "edge of the range"),
        (dict(curve="H2"), TypeError, "curve must be a qml.PESModel"),
    ],
)
def test_bad_inputs(kwargs, error, match):
    curve = kwargs.pop("curve")
    with pytest.raises(error, match=match):
        properties(curve, **kwargs)


class _Water2D:
    """A PESModel-like 2-D surface (bond r, angle) with its minimum at (0.99 A, 100.0 deg)."""

    def __init__(self, sigma=0.0):
        from qml.chem.surface import surface

        self.surface = surface("H2O-2D")
        self.molecule_name = "H2O-2D"
        self.sigma = sigma

    def energy(self, x, return_std=False):
        x = np.asarray(x, dtype=float)
        e = 0.3 * (x[:, 0] - 0.99) ** 2 + 2e-5 * (x[:, 1] - 100.0) ** 2 + 1e-6 * (x[:, 1] - 100.0) ** 3 - 75.0
        return (e, np.full_like(e, self.sigma)) if return_std else e


def test_water_2d_equilibrium_bond_and_angle():
    p = properties(_Water2D(), n_points=9)
    assert p.coordinate_names == ("r", "angle")
    assert p.x_e[0] == pytest.approx(0.99, abs=1e-4) and p.x_e[1] == pytest.approx(100.0, abs=0.05)
    assert p.e_min == pytest.approx(-75.0, abs=1e-7)
    assert p.omega_e is None and p.table()["property"][:3] == ["r_e", "angle_e", "e_min"]
    noisy = properties(_Water2D(sigma=1e-5), n_points=9, n_draws=16)
    assert 0 < noisy.stderr["x_e[0]"] < 0.01 and 0 < noisy.stderr["x_e[1]"] < 5
