"""qml.runtime: the ibm:<device> backend, offline (fake devices in local mode, injected estimators).

Reference values come from PennyLane's default.qubit with torch backprop (exact), computed
in each test from the same CircuitSpec.
"""

import numpy as np
import pennylane as qp
import pytest
import torch

from qml.backends import context, resolve
from qml.circuits import make_spec
from qml.errors import ConfigurationError, CostLimitError, CredentialsError
from qml.runtime import FakeRuntimeService, RuntimeOptions, estimate, ibm_backend
from qml.runtime import credentials as creds

qiskit_primitives = pytest.importorskip("qiskit.primitives")


def exact(spec, x, w):
    """Values and gradients (of the sum of outputs) from default.qubit backprop."""
    x = x.detach().clone().requires_grad_(True)
    w = w.detach().clone().requires_grad_(True)
    qnode = qp.QNode(
        spec.qfunc, qp.device("default.qubit", wires=spec.n_qubits), interface="torch", diff_method="backprop"
    )
    out = torch.stack(list(qnode(x, w)), dim=-1).reshape(x.shape[0], -1)
    out.sum().backward()
    return out.detach(), x.grad, w.grad


def run_executor(executor, x, w):
    x = x.detach().clone().requires_grad_(True)
    w = w.detach().clone().requires_grad_(True)
    out = executor(x, w)
    out.sum().backward()
    return out.detach(), x.grad, w.grad


def batch(spec, B, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(B, spec.n_inputs, generator=g, dtype=torch.float64) * 2 - 1
    w = torch.rand(spec.weight_shape, generator=g, dtype=torch.float64) * 2 * np.pi
    return x, w


# -- options and credentials --------------------------------------------------------------
def test_unknown_option_raises_with_valid_names():
    with pytest.raises(ConfigurationError, match="resilence_level.*valid options are.*resilience_level"):
        ibm_backend("FakeManilaV2", n_qubits=2, resilence_level=1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"mode": "sessions"}, "execution mode 'sessions'"),
        ({"resilience_level": 5}, "resilience_level must be an integer from 0 to 2"),
        ({"dynamical_decoupling": "YY"}, "dynamical_decoupling"),
        ({"zne": True, "zne_noise_factors": (0.5, 1)}, "zne_noise_factors"),
        ({"zne_extrapolator": "linear"}, "need zne=True"),
        ({"precision": -0.1}, "precision must be a positive number"),
        ({"gradient": "finite-diff"}, "gradient method"),
        ({"twirling": "yes"}, "twirling must be True or False"),
        ({"optimization_level": 4}, "optimization_level"),
        ({"max_shots": 0}, "max_shots must be an integer >= 1"),
    ],
)
def test_invalid_option_values_raise(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        ibm_backend("FakeManilaV2", n_qubits=2, **kwargs)


def test_shots_and_precision_are_exclusive():
    with pytest.raises(ConfigurationError, match="either shots or precision"):
        ibm_backend("FakeManilaV2", n_qubits=2, shots=100, precision=0.01)


def test_mitigation_options_translate_to_valid_runtime_options():
    """Options go to qiskit-ibm-runtime's client-side Estimator (0.50+), validated by its own model."""
    from qiskit_ibm_runtime.options_models import EstimatorOptions

    opts = RuntimeOptions(
        resilience_level=2,
        dynamical_decoupling="XY4",
        twirling=True,
        zne=True,
        zne_noise_factors=(1, 3, 5),
        zne_extrapolator="exponential",
        measure_mitigation=True,
    )
    est = EstimatorOptions(**opts.estimator_options(shots=500, seed=3, local=False))
    assert est.default_shots == 500 and est.resilience_level == 2
    assert est.dynamical_decoupling.enable and est.dynamical_decoupling.sequence_type == "XY4"
    assert est.twirling.enable_gates and est.twirling.enable_measure
    assert est.resilience.zne_mitigation and list(est.resilience.zne.noise_factors) == [1.0, 3.0, 5.0]
    assert est.resilience.zne.extrapolator == "exponential" and est.resilience.measure_mitigation
    # local testing mode: the mitigation options apply there too (client-side); without any, level 0
    # (raw device noise at simulator speed). Seeds shifted by one: the local service drops seed 0.
    local = opts.estimator_options(shots=None, seed=3, local=True)
    assert local["simulator"] == {"angle_decimals": 12, "seed_simulator": 4} and local["resilience_level"] == 2
    assert EstimatorOptions(**local).resilience.zne_mitigation
    assert RuntimeOptions().estimator_options(shots=100, seed=0, local=True) == {
        "default_shots": 100,
        "simulator": {"angle_decimals": 12, "seed_simulator": 1},
        "resilience_level": 0,
    }
    assert "resilience_level" not in RuntimeOptions().estimator_options(shots=100, seed=0, local=False)


def test_missing_token_raises_before_any_network_call(monkeypatch):
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    monkeypatch.setattr(creds, "_saved_accounts", lambda: {})

    def no_network(*a, **k):
        raise AssertionError("connect() was called without credentials")

    monkeypatch.setattr(creds, "connect", no_network)
    with pytest.raises(CredentialsError, match="QISKIT_IBM_TOKEN") as info:
        resolve("ibm:ibm_brisbane", n_qubits=2)
    assert "save_account" in str(info.value) and "ibm:FakeManilaV2" in str(info.value)


def test_fake_device_names_and_width_checked():
    from qml.errors import BackendError

    with pytest.raises(BackendError, match="no fake device for 'FakeNope'"):
        ibm_backend("FakeNope", n_qubits=2)
    with pytest.raises(BackendError, match="needs 9 qubits but fake_manila has 5"):
        ibm_backend("FakeManilaV2", n_qubits=9)
    b = ibm_backend("ibm_brisbane", n_qubits=2, local=True)
    assert b.local and b.device.name == "fake_brisbane" and b.name == "ibm:ibm_brisbane"


# -- gradients -----------------------------------------------------------------------------
SPECS = [
    dict(n_qubits=2, embedding="angle", ansatz="strongly_entangling", layers=2),
    dict(
        n_qubits=3,
        embedding="iqp",
        ansatz="hardware_efficient",
        layers=2,
        observables=[qp.PauliZ(0) @ qp.PauliZ(1), qp.PauliX(2), 0.5 * qp.PauliY(0) - qp.PauliZ(2)],
    ),
    dict(n_qubits=2, embedding="reupload", ansatz="basic_entangler", layers=2),
    dict(n_qubits=2, n_inputs=4, embedding="amplitude", ansatz="strongly_entangling", layers=1),
]


@pytest.mark.parametrize("level", [1, 3])
@pytest.mark.parametrize("kw", SPECS, ids=lambda kw: kw["embedding"])
def test_packed_parameter_shift_matches_backprop_exactly(kw, level):
    """ISA circuit on FakeManilaV2's layout + exact StatevectorEstimator: agreement to 1e-8."""
    spec = make_spec(**kw)
    x, w = batch(spec, 3)
    backend = ibm_backend(
        "FakeManilaV2",
        n_qubits=spec.n_qubits,
        seed=7,
        optimization_level=level,
        estimator=qiskit_primitives.StatevectorEstimator(),
        store=False,
    )
    ex = backend.make_executor(spec)
    out, gx, gw = run_executor(ex, x, w)
    ref, rgx, rgw = exact(spec, x, w)
    assert out.shape == (3, spec.n_outputs)
    np.testing.assert_allclose(out, ref, atol=1e-8)
    np.testing.assert_allclose(gw, rgw, atol=1e-8)
    np.testing.assert_allclose(gx, rgx, atol=1e-8)
    assert ex.stats["jobs"] == 1 and ex.stats["pubs"] == 1


def test_shot_noise_gradients_within_bound():
    """Noise-free sampling (Aer EstimatorV2, 4000 shots): every gradient entry within 5 sigma.

    Each entry of d(sum of outputs)/dw is a sum over B samples, 2 outputs and the angle columns fed
    by that weight of (E+ - E-)/2, each E with variance <= 1/shots, so
    sigma <= sqrt(B * n_outputs * cols / (2 * shots)).
    """
    from qiskit_aer.primitives import EstimatorV2 as AerEstimator

    spec = make_spec(n_qubits=2, embedding="angle", ansatz="hardware_efficient", layers=2)
    x, w = batch(spec, 2, seed=3)
    shots = 4000
    est = AerEstimator(options={"default_precision": 1 / np.sqrt(shots), "run_options": {"seed": 11}})
    ex = ibm_backend("FakeManilaV2", n_qubits=2, seed=1, estimator=est, store=False).make_executor(spec)
    out, gx, gw = run_executor(ex, x, w)
    ref, rgx, rgw = exact(spec, x, w)
    sigma = np.sqrt(2 * 2 * 1 / (2 * shots))
    assert (gw - rgw).abs().max().item() < 5 * sigma
    assert (gx - rgx).abs().max().item() < 5 * sigma
    assert (out - ref).abs().max().item() < 5 / np.sqrt(shots)


def test_fake_device_gradients_close_to_exact():
    """Local testing mode on FakeManilaV2 (its noise model + 2000 shots): the packed gradient keeps
    the direction of the exact one and each entry is within 5 shot-noise sigma plus a 20 % device-noise
    allowance (depolarizing and readout errors shrink expectation values)."""
    spec = make_spec(n_qubits=2, embedding="angle", ansatz="hardware_efficient", layers=1)
    x, w = batch(spec, 2, seed=5)
    shots = 2000
    ex = ibm_backend("FakeManilaV2", n_qubits=2, shots=shots, seed=3, store=False).make_executor(spec)
    _, gx, gw = run_executor(ex, x, w)
    _, rgx, rgw = exact(spec, x, w)
    g, r = torch.cat([gx.flatten(), gw.flatten()]), torch.cat([rgx.flatten(), rgw.flatten()])
    sigma = np.sqrt(2 * 2 * 1 / (2 * shots))
    assert torch.all((g - r).abs() <= 5 * sigma + 0.2 * r.abs())
    assert torch.nn.functional.cosine_similarity(g, r, dim=0) > 0.95


def test_spsa_uses_two_extra_evaluations_per_sample():
    spec = make_spec(n_qubits=2, embedding="angle", ansatz="hardware_efficient", layers=2)
    x, w = batch(spec, 3)
    eps = 1e-3
    ex = ibm_backend(
        "FakeManilaV2",
        n_qubits=2,
        gradient="spsa",
        spsa_epsilon=eps,
        store=False,
        estimator=qiskit_primitives.StatevectorEstimator(),
    ).make_executor(spec)
    w1 = w.clone().requires_grad_(True)
    out = ex(x, w1)  # inputs without grad: only the weight angles are perturbed
    out.sum().backward()
    assert ex.last["circuits"] == 3 * 3
    # SPSA with direction D in {-1,+1}^K: grad = (D . g_true) D (+ O(eps^2)); weights feed angles 1:1.
    _, _, rgw = exact(spec, x, w)
    delta = torch.sign(w1.grad)
    assert torch.all(w1.grad.abs() - w1.grad.abs().flatten()[0] < 1e-12)
    np.testing.assert_allclose(w1.grad.abs().flatten()[0], abs((delta * rgw).sum()), rtol=1e-4)


# -- counting, training, cost guard ---------------------------------------------------------
def test_one_job_per_step_and_counters_in_context():
    spec = make_spec(n_qubits=2, embedding="angle", ansatz="strongly_entangling", layers=1)
    x, w = batch(spec, 4)
    ex = ibm_backend(
        "FakeManilaV2", n_qubits=2, shots=100, store=False, estimator=qiskit_primitives.StatevectorEstimator()
    ).make_executor(spec)
    with context.step("run-a", 0, 0) as ctx:
        run_executor(ex, x, w)
    # 2 input angles + 6 weight angles (Rot = RZ RY RZ per qubit); B * (1 + 2K) evaluations
    assert ctx.counters == {"jobs": 1, "pubs": 1, "circuits": 4 * (1 + 2 * 8), "shots": 4 * 17 * 100}
    with torch.no_grad():
        ex(x, w)
    assert ex.last["circuits"] == 4 and ex.stats["jobs"] == 2


def test_training_steps_on_fake_device_local_mode():
    """A few Adam steps through the packed executor on FakeManilaV2 (local testing mode, noisy)."""
    spec = make_spec(n_qubits=2, embedding="angle", ansatz="hardware_efficient", layers=1)
    x, _ = batch(spec, 4, seed=1)
    target = torch.tensor([[0.8, -0.8]], dtype=torch.float64).expand(4, 2)
    w = torch.zeros(spec.weight_shape, dtype=torch.float64, requires_grad=True)
    ex = ibm_backend("FakeManilaV2", n_qubits=2, shots=512, seed=2).make_executor(spec)
    opt = torch.optim.Adam([w], lr=0.3)

    def exact_loss():
        return ((exact(spec, x, w)[0] - target) ** 2).mean().item()

    start = exact_loss()
    for step in range(4):
        with context.step("train-run", 0, step) as ctx:
            opt.zero_grad()
            loss = ((ex(x, w) - target) ** 2).mean()
            loss.backward()
            opt.step()
        assert ctx.counters["jobs"] == 1
    assert ex.stats["jobs"] == 4 and len(set(ex.job_ids)) == 4
    assert exact_loss() < start - 0.05


def test_fit_history_counts_jobs_through_quantum_layer(tmp_path):
    import qml

    layer = qml.QuantumLayer(
        2,
        embedding="angle",
        ansatz="hardware_efficient",
        layers=1,
        backend="ibm:FakeManilaV2",
        shots=64,
        seed=0,
        backend_options={"estimator": qiskit_primitives.StatevectorEstimator()},
    )
    x = torch.rand(6, 2, dtype=torch.float64)
    y = torch.rand(6, 2, dtype=torch.float64)
    history = qml.fit(layer, (x, y), epochs=1, batch_size=3, progress=False)
    record = history.records[0]
    assert record["jobs"] == 2 and record["pubs"] == 2  # 6 samples / batch 3 = 2 steps, one job each


def test_cost_estimate_matches_executor_and_guards(tmp_path):
    spec = make_spec(n_qubits=2, embedding="angle", ansatz="strongly_entangling", layers=1)
    x, w = batch(spec, 4)
    backend = ibm_backend(
        "FakeManilaV2",
        n_qubits=2,
        shots=100,
        max_jobs=2,
        store=False,
        estimator=qiskit_primitives.StatevectorEstimator(),
    )
    est = estimate(spec, backend, batch_size=4, steps=2)
    ex = backend.make_executor(spec)
    for _ in range(2):
        run_executor(ex, x, w)
    assert (est.jobs, est.pubs, est.circuits, est.shots) == (
        ex.stats["jobs"],
        ex.stats["pubs"],
        ex.stats["circuits"],
        ex.stats["shots"],
    )
    assert est.qpu_seconds > 0 and "QPU minutes" in str(est)
    with pytest.raises(CostLimitError, match="max_jobs=2"):
        run_executor(ex, x, w)
    assert ex.stats["jobs"] == 2  # nothing was sent
    with pytest.raises(CostLimitError, match="needs 30 jobs, over max_jobs=2"):
        estimate(spec, backend, batch_size=4, steps=30)
    with pytest.raises(CostLimitError, match="max_shots=1000"):
        estimate(spec, None, batch_size=4, steps=1, shots=100, max_shots=1000)
    small = ibm_backend(
        "FakeManilaV2",
        n_qubits=2,
        shots=100,
        max_shots=1000,
        store=False,
        estimator=qiskit_primitives.StatevectorEstimator(),
    ).make_executor(spec)
    with pytest.raises(CostLimitError, match="6800 shots.*max_shots=1000"):
        run_executor(small, x, w)
    assert estimate(spec, None, batch_size=4, steps=1, gradient="spsa").circuits_per_step == 12


@pytest.mark.parametrize("mode", ["batch", "session"])
def test_batch_and_session_modes_local(mode):
    spec = make_spec(n_qubits=2, embedding="angle", ansatz="hardware_efficient", layers=1)
    x, w = batch(spec, 2)
    ex = ibm_backend("FakeManilaV2", n_qubits=2, shots=64, seed=1, mode=mode, store=False).make_executor(spec)
    out, gx, gw = run_executor(ex, x, w)
    assert out.shape == (2, 2) and gw.shape == w.shape and ex.stats["jobs"] == 1
    assert type(ex._mode).__name__ == mode.capitalize()
    ex.close()
    assert ex._mode is None


def test_real_device_path_with_fake_service_passes_options(monkeypatch):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", "token-for-test")
    service = FakeRuntimeService()
    monkeypatch.setattr(creds, "connect", lambda c: service)
    spec = make_spec(n_qubits=2, embedding="angle", ansatz="strongly_entangling", layers=1)
    x, w = batch(spec, 2)
    backend = resolve(
        "ibm:ibm_brisbane",
        n_qubits=2,
        shots=300,
        seed=4,
        resilience_level=1,
        dynamical_decoupling=True,
        twirling=True,
        zne=True,
        mode="batch",
    )
    assert not backend.local
    out, gx, gw = run_executor(backend.make_executor(spec), x, w)
    ref, rgx, rgw = exact(spec, x, w)
    np.testing.assert_allclose(gw, rgw, atol=1e-8)
    assert service.modes_seen == ["batch"]
    opts = service.options_seen[0]
    assert opts["resilience_level"] == 1 and opts["dynamical_decoupling"]["enable"]
    assert opts["resilience"]["zne_mitigation"] and opts["default_shots"] == 300
    assert len(service.submitted) == 1 and len(service.submitted[0].pubs) == 1


def test_estimate_reads_backend_of_a_layer_and_float32_inputs_keep_dtype():
    import qml

    layer = qml.QuantumLayer(
        2,
        embedding="angle",
        ansatz="hardware_efficient",
        layers=1,
        backend="ibm:FakeManilaV2",
        shots=50,
        backend_options={"estimator": qiskit_primitives.StatevectorEstimator(), "store": False},
    )
    est = estimate(layer, batch_size=2, steps=3)
    # 2 input angles + 2 weight angles differentiated: 2 * (1 + 2 * 4) circuits per step
    assert (est.jobs, est.circuits_per_step, est.shots) == (3, 18, 3 * 18 * 50)
    x = torch.rand(2, 2, dtype=torch.float32, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == torch.float32 and x.grad.dtype == torch.float32 and layer.weights.grad is not None
    ref, rgx, _ = exact(layer.spec, x.double(), layer.weights)
    np.testing.assert_allclose(out.detach().double(), ref, atol=1e-6)
    np.testing.assert_allclose(x.grad.double(), rgx, atol=1e-6)


def test_least_busy_and_saved_account(monkeypatch):
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    monkeypatch.setattr(
        creds,
        "_saved_accounts",
        lambda: {"default-ibm-quantum-platform": {"channel": "ibm_quantum_platform", "token": "saved-secret-tok"}},
    )
    found = creds.resolve_credentials()
    assert found.saved_name == "default-ibm-quantum-platform" and "saved-secret-tok" not in repr(found)
    calls = []
    service = FakeRuntimeService()
    real_least_busy = service.least_busy
    monkeypatch.setattr(service, "least_busy", lambda **kw: calls.append(kw) or real_least_busy(**kw))
    monkeypatch.setattr(creds, "connect", lambda c: service)
    backend = ibm_backend("least_busy", n_qubits=2, shots=10, **{"poll_interval": 0.001})
    assert backend.device.name == "fake_manila" and calls[0]["min_num_qubits"] == 2
    assert "saved account" in repr(backend) and "saved-secret-tok" not in repr(backend)


def test_max_jobs_is_shared_by_executors_of_one_backend():
    spec = make_spec(n_qubits=2, embedding="angle", ansatz="hardware_efficient", layers=1)
    x, w = batch(spec, 2)
    backend = ibm_backend(
        "FakeManilaV2",
        n_qubits=2,
        shots=10,
        max_jobs=1,
        store=False,
        estimator=qiskit_primitives.StatevectorEstimator(),
    )
    run_executor(backend.make_executor(spec), x, w)
    with pytest.raises(CostLimitError, match="max_jobs=1 \\(1 sent so far"):
        run_executor(backend.make_executor(spec), x, w)


def test_padded_amplitude_embedding_input_gradients_refused_clearly():
    spec = make_spec(n_qubits=2, n_inputs=3, embedding="amplitude", ansatz="strongly_entangling", layers=1)
    x, w = batch(spec, 2)
    ex = ibm_backend(
        "FakeManilaV2", n_qubits=2, store=False, estimator=qiskit_primitives.StatevectorEstimator()
    ).make_executor(spec)
    with pytest.raises(ConfigurationError, match="pads 3 features with zeros to 4"):
        ex(x.requires_grad_(True), w)
    w1 = w.clone().requires_grad_(True)
    out = ex(x.detach(), w1)  # weight gradients only: fine
    out.sum().backward()
    ref, _, rgw = exact(spec, x, w)
    np.testing.assert_allclose(out.detach(), ref, atol=1e-8)
    np.testing.assert_allclose(w1.grad, rgw, atol=1e-8)


def test_fake_device_runs_are_reproducible_with_seed_zero():
    import qml

    x = torch.tensor([[0.1, 0.2], [0.5, 0.7]], dtype=torch.float64)
    outs = []
    for _ in range(2):
        layer = qml.QuantumLayer(2, layers=1, backend="ibm:FakeManilaV2", shots=256, seed=0)
        with torch.no_grad():
            layer.weights.fill_(0.3)
        outs.append(layer(x).detach())
    assert torch.equal(outs[0], outs[1])


# -- energies (vqe / scan / PESModel) on ibm: --------------------------------------------------------
def _h2_energy_setup():
    from qml.chem import Molecule, make_ansatz

    mols = [Molecule.from_name("H2", r) for r in (0.6, 0.74, 1.0)]
    return mols, make_ansatz(mols[0], "uccsd")


def _exact_h2(ansatz, mol, params):
    """Energy and gradient from default.qubit backprop on the PennyLane Hamiltonian (no Qiskit)."""
    qnode = qp.QNode(
        lambda p: (ansatz(p), qp.expval(mol.hamiltonian()))[1],
        qp.device("default.qubit", wires=4),
        interface="torch",
        diff_method="backprop",
    )
    p = params.detach().clone().requires_grad_(True)
    e = qnode(p)
    e.backward()
    return e.item(), p.grad.numpy()


@pytest.mark.parametrize("level", [1, 3])
def test_ibm_energy_on_isa_layout_matches_exact(level):
    """H2 uccsd transpiled to FakeManilaV2 (layout, routing), Hamiltonians mapped with apply_layout,
    exact StatevectorEstimator: energies and gradients of 3 geometries equal default.qubit to 1e-8."""
    mols, ansatz = _h2_energy_setup()
    backend = ibm_backend(
        "FakeManilaV2",
        n_qubits=4,
        seed=3,
        optimization_level=level,
        store=False,
        estimator=qiskit_primitives.StatevectorEstimator(),
    )
    assert backend.capabilities >= {"expval", "energy"}
    ev = backend.energy_evaluator(ansatz, 4)
    params = torch.tensor(
        [[0.1, -0.2, 0.3], [0.05, 0.2, -0.1], [0.0, 0.0, 0.25]], dtype=torch.float64, requires_grad=True
    )
    energies = ev(params, [m.hamiltonian() for m in mols])
    energies.sum().backward()
    for b, mol in enumerate(mols):
        e, g = _exact_h2(ansatz, mol, params[b])
        assert abs(energies[b].item() - e) < 1e-8
        np.testing.assert_allclose(params.grad[b].numpy(), g, atol=1e-8)
    assert (ev.stats["jobs"], ev.stats["pubs"], ev.stats["circuits"]) == (1, 1, 3 * 25)


def test_ibm_energy_local_mode_one_job_with_standard_errors():
    """ibm:FakeManilaV2 in local testing mode (client-side Estimator, device noise, 2000 shots):
    one job per call in the job store, standard errors per energy, energies near the exact ones
    (noise raises them)."""
    from qml.runtime import JobStore

    mols, ansatz = _h2_energy_setup()
    backend = ibm_backend("FakeManilaV2", n_qubits=4, shots=2000, seed=1)
    ev = backend.energy_evaluator(ansatz, 4)
    params = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    with context.step("run-e", 0, 0) as ctx:
        energies = ev(params, [mols[0].hamiltonian(), mols[2].hamiltonian()])
        energies.sum().backward()
    assert ctx.counters == {"jobs": 1, "pubs": 1, "circuits": 2 * 25, "shots": 2 * 25 * 2000}
    (record,) = JobStore().list(run_id="run-e")
    assert record.backend == "ibm:FakeManilaV2" and record.local and record.pub_shapes == [[25, 2]]
    assert record.status == "DONE" and record.step == 0 and len(ev.job_ids) == 1
    assert ev.last_stderr.shape == (2,) and np.all((ev.last_stderr > 0) & (ev.last_stderr < 0.05))
    for b, mol in enumerate((mols[0], mols[2])):
        e, _ = _exact_h2(ansatz, mol, params[b])
        assert e - 0.05 < energies[b].item() < e + 0.6
    assert params.grad.shape == (2, 3) and torch.isfinite(params.grad).all()
