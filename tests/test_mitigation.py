"""qml's own error mitigation (qml.runtime.mitigation / mitigated / extrapolation / shots).

Independent references: the ideal expectation values of a one-qubit RY state are cos/sin of the
angle (closed form); the readout-biased value of <Z> with known error rates e0, e1 is
(1 - 2 e0) P0 - (1 - 2 e1) P1 (closed form); extrapolators are checked on data generated from the
model they fit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("qiskit_aer")

from qml.errors import ConfigurationError  # noqa: E402
from qml.runtime import extrapolation, shots  # noqa: E402
from qml.runtime.mitigation import PRESETS, Mitigation, device_family, resolve_mitigation  # noqa: E402

THETA = 0.6
H = {"Z": 0.7, "X": 0.4, "I": -0.3}  # one qubit, Hartree
EXACT = H["I"] + H["Z"] * math.cos(THETA) + H["X"] * math.sin(THETA)


def _simulator(e0=0.0, e1=0.0, p_sx=0.0):
    from qiskit_aer import AerSimulator
    from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error

    nm = NoiseModel(basis_gates=["sx", "rz", "x", "cx"])
    if e0 or e1:
        nm.add_readout_error(ReadoutError([[1 - e0, e0], [e1, 1 - e1]]), [0])
    if p_sx:
        nm.add_all_qubit_quantum_error(depolarizing_error(p_sx, 1), ["sx", "x"])
    return AerSimulator(noise_model=nm)


def _pub():
    """RY(THETA) in the sx/rz basis: RY(t) = rz(-pi/2)... written as sx rz sx form via transpile."""
    from qiskit import QuantumCircuit, transpile
    from qiskit.quantum_info import SparsePauliOp

    qc = QuantumCircuit(1)
    qc.ry(THETA, 0)
    isa = transpile(qc, basis_gates=["sx", "rz", "x", "cx"], optimization_level=0)
    return isa, SparsePauliOp.from_list(list(H.items()))


def _estimate(est):
    circuit, op = _pub()
    res = est.run([(circuit, op)]).result()[0]
    return float(res.data.evs), float(res.data.stds)


def test_readout_inversion_on_a_known_confusion_matrix():
    from qml.runtime.mitigated import MitigatedEstimator

    e0, e1 = 0.08, 0.15
    sim = _simulator(e0, e1)
    raw_e, raw_s = _estimate(MitigatedEstimator(sim, mitigation=None, shots=40_000, seed=1))
    # closed-form readout bias: <Z>_raw = (1 - 2 e0) P0 - (1 - 2 e1) P1, and likewise after the basis change
    p0z, p0x = math.cos(THETA / 2) ** 2, (1 + math.sin(THETA)) / 2
    biased = H["I"] + sum(H[k] * ((1 - 2 * e0) * p0 - (1 - 2 * e1) * (1 - p0)) for k, p0 in (("Z", p0z), ("X", p0x)))
    assert abs(raw_e - biased) < 4 * raw_s
    assert abs(raw_e - EXACT) > 20 * raw_s  # the bias is real
    est = MitigatedEstimator(sim, mitigation=Mitigation(readout=True, calibration_shots=200_000), shots=40_000, seed=2)
    e, s = _estimate(est)
    assert abs(e - EXACT) < 4 * s
    assert est.calibration[0] == pytest.approx((e0, e1), abs=0.004)
    assert s > raw_s  # the inversion amplifies the shot noise, and the reported stderr says so


def test_stderr_coverage_over_seeded_runs():
    """z-scores of (estimate - exact) / stderr over repeated seeded runs, readout inversion + ZNE."""
    from qml.runtime.mitigated import MitigatedEstimator

    sim = _simulator(0.05, 0.1, p_sx=0.002)
    mit = Mitigation(readout=True, calibration_shots=5000, zne=(1, 3), extrapolator="linear")
    z = []
    for seed in range(30):
        e, s = _estimate(MitigatedEstimator(sim, mitigation=mit, shots=3000, seed=100 + seed))
        z.append((e - EXACT) / s)
    z = np.array(z)
    assert np.mean(np.abs(z) <= 2) >= 0.8  # ~95 % expected; 30 runs
    assert 0.6 < np.std(z) < 1.4  # the stderr is the real spread, not an upper bound twice as large
    assert np.max(np.abs(z)) < 4


def test_precision_reaches_its_target():
    from qml.runtime.mitigated import MitigatedEstimator

    est = MitigatedEstimator(_simulator(0.03, 0.03), mitigation=Mitigation(readout=True), precision=0.004, seed=5)
    e, s = _estimate(est)
    assert s <= 0.004 * 1.1
    assert abs(e - EXACT) < 4 * s
    assert est.last["shots_per_energy"] > 2 * shots.MIN_SHOTS


@pytest.mark.parametrize(
    "method, factors, model",
    [
        ("linear", (1, 3, 5), lambda lam: 2.0 - 0.1 * lam),
        ("richardson", (1, 3, 5), lambda lam: 2.0 - 0.1 * lam + 0.02 * lam**2),
        ("exponential", (1, 3, 5), lambda lam: 1.0 + 0.5 * np.exp(-0.3 * lam)),
    ],
)
def test_extrapolators_recover_the_model_they_fit(method, factors, model):
    lam = np.array(factors, dtype=float)
    value, var = extrapolation.extrapolate(lam, model(lam), np.full(3, 1e-6), method)
    assert value == pytest.approx(float(model(0.0)), abs=1e-6)
    assert var > 1e-6  # extrapolation amplifies the variance of the points


def test_extrapolation_weights_and_variance():
    w = extrapolation.weights((1, 3, 5), "richardson")
    np.testing.assert_allclose(w, [15 / 8, -10 / 8, 3 / 8])
    w = extrapolation.weights((1, 3), "linear")
    np.testing.assert_allclose(w, [1.5, -0.5])
    value, var = extrapolation.extrapolate([1, 3], [1.0, 1.2], [0.04, 0.01], "linear")
    assert value == pytest.approx(0.9)
    assert var == pytest.approx(1.5**2 * 0.04 + 0.5**2 * 0.01)
    with pytest.raises(ConfigurationError, match="three noise factors"):
        extrapolation.extrapolate([1, 3], [1.0, 1.2], [0.0, 0.0], "exponential")
    with pytest.raises(ConfigurationError, match="valid choices"):
        extrapolation.extrapolate([1, 3], [1.0, 1.2], [0.0, 0.0], "cubic")


def test_precision_to_shots_allocation_formula():
    sig = np.array([0.3, 0.1])
    eps = 1e-3
    got = shots.allocate(sig, eps)
    expect = np.ceil(sig * sig.sum() / eps**2)
    np.testing.assert_array_equal(got[:, 0], expect)
    assert shots.predicted_stderr(sig, got[:, 0]) <= eps
    assert shots.predicted_stderr(sig, got[:, 0]) == pytest.approx(eps, rel=1e-3)
    # with ZNE weights w: S_gk ~ |w_k| sigma_g, total (sum |w_k| sigma_g)^2 / eps^2
    w = extrapolation.weights((1, 3), "linear")
    got = shots.allocate(sig, eps, w)
    assert got.sum() == pytest.approx((np.abs(w).sum() * sig.sum()) ** 2 / eps**2, rel=1e-3)
    assert shots.predicted_stderr(sig, got, w) == pytest.approx(eps, rel=1e-3)
    assert shots.allocate([0.0, 1e-9], eps).min() == shots.MIN_SHOTS


def test_shots_and_precision_together_raise():
    from qml.backends import resolve

    with pytest.raises(ValueError, match="not both"):
        resolve("aer:FakeManilaV2", n_qubits=1, shots=1000, precision=0.5)
    with pytest.raises(ValueError, match="milli-Hartree"):
        resolve("aer", n_qubits=1, precision=-1.0)


def test_unknown_mitigation_preset_raises():
    from qml.backends import resolve

    with pytest.raises(ValueError, match="unknown mitigation preset 'trex'.*'readout'"):
        resolve("aer:FakeManilaV2", n_qubits=1, mitigation="trex")
    with pytest.raises(ValueError, match="unknown mitigation option"):
        resolve_mitigation({"readout": True, "zne_factors": (1, 3)})
    with pytest.raises(ValueError, match="odd integers"):
        Mitigation(zne=(1, 2))


def test_auto_preset_per_device_family():
    from qml.backends import resolve
    from qml.backends.aer import fake_device
    from qml.runtime.mitigation import FAMILY_PRESET

    assert device_family(fake_device("FakeFez")) == "heron"
    assert device_family(fake_device("FakeManilaV2")) == "falcon"
    be = resolve("aer:FakeManilaV2", n_qubits=1)
    assert be.mitigation == PRESETS[FAMILY_PRESET["falcon"]]
    assert be.shots is None and be.precision > 0 and not be.exact
    assert resolve("aer:FakeManilaV2", n_qubits=1, mitigation=None).mitigation is None
    assert resolve("aer", n_qubits=1).mitigation is None  # nothing to mitigate on an ideal simulator
    assert resolve("aer", n_qubits=1).exact


def test_preflight_states_shots_and_seconds_before_running():
    from qiskit.quantum_info import SparsePauliOp

    op = SparsePauliOp.from_list([("I", -0.3), ("Z", 0.8), ("X", 0.2)])
    plain = shots.preflight(op, 1.0)
    # two settings, sigma_g <= |c_g|: N = (0.8 + 0.2)^2 / (1e-3)^2
    assert plain["settings"] == 2
    assert plain["shots_per_energy"] == pytest.approx(1.0e6, rel=1e-3)
    assert plain["device_seconds_per_energy"] == pytest.approx(1.0e6 * 250e-6, rel=1e-3)
    zne = shots.preflight(op, 1.0, mitigation="readout+zne", readout_error=0.0, evaluations=10)
    assert zne["factors"] == (1, 3)
    assert zne["shots_per_energy"] == pytest.approx(4 * plain["shots_per_energy"], rel=1e-3)  # (|1.5| + |-0.5|)^2
    assert zne["shots_per_run"] == 10 * zne["shots_per_energy"]
    with pytest.raises(ValueError, match="readout_error"):
        shots.preflight(op, 1.0, readout_error=0.7)
