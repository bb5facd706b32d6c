"""qml.backends.aer: ``aer`` / ``aer:<FakeDevice>`` through Qiskit's EstimatorV2 primitives, offline.

Independent references: energies are ``<psi|H|psi>`` with ``psi`` from PennyLane's default.qubit
(``qp.state()``) and ``H`` the sparse matrix of ``Molecule.sparse_hamiltonian()`` (scipy); their
gradients are central finite differences of that (step 1e-5: truncation ~1e-11, rounding ~1e-11).
Expectation values are compared with default.qubit backprop on the same CircuitSpec.
"""

import numpy as np
import pennylane as qp
import pytest
import torch

from qml.backends.aer import AerBackend, fake_device_names, precision_for
from qml.chem import Molecule, make_ansatz
from qml.circuits import make_spec
from qml.errors import BackendError, ConfigurationError, DataError

TOL = 1e-8


class Entry:
    """The part of ``HamiltonianEntry`` the evaluators use (``qml.chem.bank`` builds the real ones)."""

    def __init__(self, operator, n_qubits):
        self.operator, self.n_qubits, self.cache = operator, n_qubits, {}


class CountingEstimator:
    """Wraps an EstimatorV2 and counts ``run`` calls and the PUBs they carry."""

    def __init__(self, inner):
        self.inner, self.calls, self.pubs = inner, 0, 0

    def run(self, pubs, **kwargs):
        pubs = list(pubs)
        self.calls += 1
        self.pubs += len(pubs)
        return self.inner.run(pubs, **kwargs)

    @property
    def options(self):
        return self.inner.options


@pytest.fixture(scope="module")
def h2():
    mol = Molecule.from_name("H2", 0.74)
    return mol, mol.hamiltonian(), mol.sparse_hamiltonian()


def exact_energy(ansatz, n_qubits, sparse_h, params: np.ndarray) -> float:
    """<psi|H|psi> with psi from default.qubit (no Qiskit involved)."""
    qnode = qp.QNode(lambda p: (ansatz(p), qp.state())[1], qp.device("default.qubit", wires=n_qubits))
    psi = np.asarray(qnode(np.asarray(params, dtype=float).reshape(ansatz.weight_shape)))
    return float(np.real(np.vdot(psi, sparse_h @ psi)))


def exact_grad(ansatz, n_qubits, sparse_h, params: np.ndarray, h: float = 1e-5) -> np.ndarray:
    out = np.zeros(params.size)
    for j in range(params.size):
        e = np.zeros(params.size)
        e[j] = h
        out[j] = (
            exact_energy(ansatz, n_qubits, sparse_h, params + e) - exact_energy(ansatz, n_qubits, sparse_h, params - e)
        ) / (2 * h)
    return out


def energies_and_grads(evaluator, params: torch.Tensor, hamiltonians):
    p = params.detach().clone().requires_grad_(True)
    energies = evaluator(p, hamiltonians)
    energies.sum().backward()
    return energies.detach().numpy(), p.grad.numpy()


# -- energies -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, options", [("uccsd", {}), ("k_upccgsd", {"k": 1}), ("hardware_efficient", {"layers": 2})]
)
def test_exact_energies_and_gradients_h2(h2, name, options):
    """Every ansatz of qml.chem (Givens rotations, k-UpCCGSD, RY+CZ) decomposes to RX/RY/RZ columns
    whose two-term shift rule, chained by torch, gives the exact gradient."""
    mol, ham, sparse_h = h2
    ansatz = make_ansatz(mol, name, **options)
    rng = np.random.default_rng(1)
    params = torch.as_tensor(rng.uniform(-0.6, 0.6, (2, ansatz.n_params)))
    backend = AerBackend("aer", n_qubits=4)
    ev = backend.energy_evaluator(ansatz, 4)
    energies, grads = energies_and_grads(ev, params, [Entry(ham, 4), Entry(ham, 4)])
    assert energies.shape == (2,) and grads.shape == (2, ansatz.n_params)
    for b in range(2):
        p = params[b].numpy()
        assert abs(energies[b] - exact_energy(ansatz, 4, sparse_h, p)) < TOL
        np.testing.assert_allclose(grads[b], exact_grad(ansatz, 4, sparse_h, p), atol=TOL)
    assert ev.last_stderr is None and ev.stats["jobs"] == 1 and ev.stats["pubs"] == 1


def test_exact_energies_and_gradients_lih_two_geometries():
    """LiH (2e, 5o: 10 qubits, 24 uccsd angles) at two geometries in one PUB: each sample is paired
    with its own Hamiltonian."""
    mols = [Molecule.from_name("LiH", r) for r in (1.5, 2.2)]
    ansatz = make_ansatz(mols[0], "uccsd")
    n = mols[0].n_qubits
    rng = np.random.default_rng(2)
    params = torch.as_tensor(rng.normal(0, 0.1, (2, ansatz.n_params)))
    ev = AerBackend("aer", n_qubits=n).energy_evaluator(ansatz, n)
    energies, grads = energies_and_grads(ev, params, [Entry(m.hamiltonian(), n) for m in mols])
    for b, mol in enumerate(mols):
        sparse_h = mol.sparse_hamiltonian()
        p = params[b].numpy()
        assert abs(energies[b] - exact_energy(ansatz, n, sparse_h, p)) < TOL
        np.testing.assert_allclose(grads[b], exact_grad(ansatz, n, sparse_h, p), atol=TOL)
    assert abs(energies[0] - energies[1]) > 1e-2  # different Hamiltonians really were used


def test_sampled_energies_and_gradients_within_five_standard_errors(h2):
    """aer with shots: qml's MitigatedEstimator on AerSimulator measures every qubit-wise commuting group.
    The gradient of angle column k is (E+ - E-)/2 and torch chains it with d(angle_k)/d(theta_j), so
    sigma_j = s * sqrt(sum_k J_kj**2 / 2) with s the (conservative) standard error of one energy."""
    mol, ham, sparse_h = h2
    ansatz = make_ansatz(mol, "uccsd")
    params = torch.tensor([[0.2, -0.1, 0.15], [-0.05, 0.3, 0.1]], dtype=torch.float64)
    backend = AerBackend("aer", n_qubits=4, shots=4000, seed=5)
    ev = backend.energy_evaluator(ansatz, 4)
    energies, grads = energies_and_grads(ev, params, [ham, ham])
    stderr = ev.last_stderr
    assert stderr.shape == (2,) and np.all((stderr > 0) & (stderr < 0.05))
    from qml.backends.qiskit_circuits import trace_ansatz

    for b in range(2):
        p = params[b].numpy()
        assert abs(energies[b] - exact_energy(ansatz, 4, sparse_h, p)) < 5 * stderr[b]
        x = params[b : b + 1].clone().requires_grad_(True)
        angles = trace_ansatz(ansatz, x, 4).angles[0]
        jac = torch.stack([torch.autograd.grad(a, x, retain_graph=True)[0][0] for a in angles]).numpy()
        # the shifted states' variances differ from the unshifted one's (the measured stderr): use the
        # state-independent bound of one energy's standard error for the gradient's
        from qml.runtime.measurement import measurement_plan

        bound = measurement_plan(ham, 4).stderr_bound(4000)
        sigma = bound * np.sqrt((jac**2).sum(axis=0) / 2)
        err = np.abs(grads[b] - exact_grad(ansatz, 4, sparse_h, p))
        assert np.all(err < 5 * sigma), (err, sigma)
    assert ev.stats["shots"] == 4000 * ev.stats["circuits"]


def test_one_estimator_call_per_batch_and_forward_only_without_grad(h2):
    mol, ham, sparse_h = h2
    ansatz = make_ansatz(mol, "uccsd")
    backend = AerBackend("aer", n_qubits=4)
    backend.estimator = counting = CountingEstimator(backend.estimator)
    ev = backend.energy_evaluator(ansatz, 4)
    params = torch.zeros(5, ansatz.n_params, dtype=torch.float64, requires_grad=True)
    ev(params, [ham] * 5).sum().backward()
    assert (counting.calls, counting.pubs) == (1, 1)
    # 12 RY columns after decomposition (2 singles x 2 + 1 double x 8): 5 samples x (1 + 2 x 12) bindings
    assert ev.last["circuits"] == 5 * 25
    with torch.no_grad():
        energies = ev(params, [ham] * 5)
    assert counting.calls == 2 and ev.last["circuits"] == 5
    hf = exact_energy(ansatz, 4, sparse_h, np.zeros(3))
    np.testing.assert_allclose(energies.numpy(), np.full(5, hf), atol=TOL)


def test_wire_order_with_a_hamiltonian_not_symmetric_under_qubit_reversal():
    """PennyLane wire i is Qiskit qubit i (little-endian labels): an asymmetric state and Hamiltonian
    give default.qubit's value, and the reversed Hamiltonian a different one."""
    ham = qp.PauliZ(0) + 0.5 * qp.PauliX(1) @ qp.PauliZ(2) - 0.3 * qp.PauliY(0) @ qp.PauliX(2) + 0.7 * qp.PauliZ(2)
    reversed_ham = qp.map_wires(ham, {0: 2, 1: 1, 2: 0})

    class ThreeQubits:  # an RY/CZ circuit on 3 wires with unequal angles
        name, n_params, weight_shape = "rycz", 6, (2, 3)

        def __call__(self, params):
            from qml.circuits import hardware_efficient

            qp.PauliX(0)
            hardware_efficient(params, range(3))

    circuit = ThreeQubits()
    params = torch.tensor([[0.3, 1.1, -0.7, 0.4, -1.3, 0.9]], dtype=torch.float64)
    ev = AerBackend("aer", n_qubits=3).energy_evaluator(circuit, 3)

    @qp.qnode(qp.device("default.qubit", wires=3))
    def reference(p, h):
        circuit(p)
        return qp.expval(h)

    for h in (ham, reversed_ham):
        got = ev(params, [h]).item()
        assert abs(got - float(reference(params[0].reshape(2, 3).numpy(), h))) < TOL
    assert abs(ev(params, [ham]).item() - ev(params, [reversed_ham]).item()) > 0.1


def test_hamiltonian_entry_caches_its_sparse_pauli_op(h2):
    from qml.backends.qiskit_circuits import hamiltonian_op

    _, ham, _ = h2
    entry = Entry(ham, 4)
    op = hamiltonian_op(entry, 4)
    assert entry.cache["qiskit"] is op and hamiltonian_op(entry, 4) is op
    assert op.num_qubits == 4 and len(op) == len(ham.pauli_rep)


# -- expectation values (QuantumLayer) ------------------------------------------------------------
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
]


@pytest.mark.parametrize("kw", SPECS, ids=lambda kw: kw["embedding"])
def test_expval_equals_default_qubit(kw):
    spec = make_spec(**kw)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(3, spec.n_inputs, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    w = (torch.rand(spec.weight_shape, generator=g, dtype=torch.float64) * 2 * np.pi).requires_grad_(True)
    backend = AerBackend("aer", n_qubits=spec.n_qubits)
    backend.estimator = counting = CountingEstimator(backend.estimator)
    ex = backend.make_executor(spec)
    out = ex(x, w)
    out.sum().backward()
    x2, w2 = x.detach().clone().requires_grad_(True), w.detach().clone().requires_grad_(True)
    qnode = qp.QNode(
        spec.qfunc, qp.device("default.qubit", wires=spec.n_qubits), interface="torch", diff_method="backprop"
    )
    ref = torch.stack(list(qnode(x2, w2)), dim=-1).reshape(3, -1)
    ref.sum().backward()
    assert out.shape == (3, spec.n_outputs)
    np.testing.assert_allclose(out.detach(), ref.detach(), atol=TOL)
    np.testing.assert_allclose(x.grad, x2.grad, atol=TOL)
    np.testing.assert_allclose(w.grad, w2.grad, atol=TOL)
    assert counting.calls == 1


# -- fake devices and errors ----------------------------------------------------------------------
def test_fake_device_runs_h2_energy_with_noise(h2):
    mol, ham, _ = h2
    ansatz = make_ansatz(mol, "uccsd")
    backend = AerBackend("aer:FakeManilaV2", n_qubits=4, shots=2000, seed=3)
    assert backend.shots == 2000 and not backend.exact
    ev = backend.energy_evaluator(ansatz, 4)
    params = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    energies = ev(params, [ham, ham])
    energies.sum().backward()
    # The HF state of H2 on a noisy 5-qubit device: above the exact HF energy (noise mixes in
    # higher states), within 0.6 Ha of it, and finite gradients of the right shape.
    hf = mol.hf_energy()
    assert energies.shape == (2,) and torch.all(energies > hf - 0.05) and torch.all(energies < hf + 0.6)
    assert params.grad.shape == (2, 3) and torch.isfinite(params.grad).all()
    assert ev.last_stderr.shape == (2,) and ev.stats["jobs"] == 1
    # no shots given: mitigation "auto" and shots allocated for the default precision (qml.runtime.mitigation)
    auto = AerBackend("aer:FakeManilaV2", n_qubits=4)
    assert auto.shots is None and auto.precision == 0.5 and auto.mitigation is not None and not auto.exact
    assert AerBackend("aer:FakeManilaV2", n_qubits=4, mitigation=None).shots == 1024


def test_errors_are_clear(h2):
    with pytest.raises(BackendError, match="needs 10 qubits but the fake device FakeManilaV2 has 5"):
        AerBackend("aer:FakeManilaV2", n_qubits=10)
    with pytest.raises(BackendError, match="unknown fake device 'FakeNope'"):
        AerBackend("aer:FakeNope", n_qubits=2)
    with pytest.raises(BackendError, match=r"takes no option\(s\) \['resilience_level'\]; its options are"):
        AerBackend("aer", n_qubits=2, resilience_level=1)
    with pytest.raises(BackendError, match="shots must be None"):
        AerBackend("aer", n_qubits=2, shots=0)
    with pytest.raises(ConfigurationError, match="gradient method 'adjoint'"):
        AerBackend("aer", n_qubits=2, gradient="adjoint")
    mol, ham, _ = h2
    ev = AerBackend("aer", n_qubits=4).energy_evaluator(make_ansatz(mol, "uccsd"), 4)
    with pytest.raises(DataError, match="2 parameter vectors but 1 Hamiltonians"):
        ev(torch.zeros(2, 3, dtype=torch.float64), [ham])
    with pytest.raises(DataError, match=r"params must have shape \(batch, 3\)"):
        ev(torch.zeros(2, 4, dtype=torch.float64), [ham, ham])
    with pytest.raises(TypeError, match="HamiltonianEntry or a PennyLane operator"):
        ev(torch.zeros(1, 3, dtype=torch.float64), ["H2"])
    assert "FakeManilaV2" in fake_device_names()


def test_precision_gives_exact_shot_count():
    import math

    for shots in (7, 1000, 4000, 123457):
        assert math.ceil(1 / precision_for(shots) ** 2) == shots


def test_spsa_energy_gradient_on_one_angle_is_exact_up_to_epsilon_squared():
    """With one angle column, SPSA's direction is +-1 and its estimate is the central difference:
    E = cos(theta) for RY(theta)|0> and H = Z, so dE/dtheta = -sin(theta) up to eps**2 / 6."""

    class OneAngle:
        name, n_params, weight_shape = "ry", 1, (1,)

        def __call__(self, params):
            qp.RY(params[0], wires=0)

    eps = 1e-3
    backend = AerBackend("aer", n_qubits=1, gradient="spsa", spsa_epsilon=eps)
    ev = backend.energy_evaluator(OneAngle(), 1)
    theta = torch.tensor([[0.4], [1.3], [-2.0]], dtype=torch.float64, requires_grad=True)
    energies = ev(theta, [qp.PauliZ(0)] * 3)
    energies.sum().backward()
    np.testing.assert_allclose(energies.detach().numpy(), np.cos(theta.detach().numpy()[:, 0]), atol=TOL)
    np.testing.assert_allclose(theta.grad.numpy()[:, 0], -np.sin(theta.detach().numpy()[:, 0]), atol=1e-6)
    assert ev.last["circuits"] == 3 * 3  # unshifted, +eps*delta, -eps*delta for each of 3 samples


def test_transpiled_angles_must_keep_the_shift_rule():
    """The parameter-shift rows are exact only if every angle enters an RX/RY/RZ-like gate with
    coefficient +-1; a transpiler output that breaks this is refused with what to do."""
    from qiskit.circuit import Parameter, QuantumCircuit

    from qml.backends.qiskit_circuits import check_shift_rule

    a, b = Parameter("a"), Parameter("b")
    merged = QuantumCircuit(1)
    merged.rz(a + b + 1.0, 0)
    merged.rz(-a, 0)
    merged.u(b, a, 0.3, 0)
    check_shift_rule(merged, "dev")  # merged rotations and U angles: fine
    for bad in (2 * a, a * b):
        qc = QuantumCircuit(1)
        qc.rz(bad, 0)
        with pytest.raises(BackendError, match=r"rz\(.*\), where the parameter-shift rule does not hold.*spsa"):
            check_shift_rule(qc, "dev")
