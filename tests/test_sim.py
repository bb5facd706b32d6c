"""qml.sim.FastDevice: values and gradients equal PennyLane's default.qubit (the reference).

Every comparison is against default.qubit with diff_method="backprop" in complex128, to 1e-10,
unless stated otherwise; reference Hamiltonians come from qp.qchem.molecular_hamiltonian.
"""

from __future__ import annotations

import numpy as np
import pennylane as qp
import pytest
import torch

from qml.circuits import make_spec
from qml.sim import FastDevice

ATOL = 1e-10


def _pair(fn, n, **kw):
    """The same circuit as a QNode on default.qubit and on FastDevice (torch, backprop)."""
    ref = qp.QNode(fn, qp.device("default.qubit", wires=n), interface="torch", diff_method="backprop")
    fast = qp.QNode(fn, FastDevice(wires=n, **kw), interface="torch", diff_method="backprop")
    return ref, fast


def _as_tensor(out):
    if isinstance(out, (list, tuple)):
        return torch.stack([torch.as_tensor(o) for o in out], -1)
    return out


def _value_and_grads(qnode, *args):
    args = [a.detach().clone().requires_grad_(a.is_floating_point()) for a in args]
    out = _as_tensor(qnode(*args))
    # a fixed random projection of the outputs so every output element enters the gradient
    proj = torch.linspace(-1.0, 1.3, out.numel(), dtype=out.dtype).reshape(out.shape)
    grads = torch.autograd.grad((out * proj).sum(), [a for a in args if a.requires_grad])
    return out.detach(), grads


def _assert_same(ref, fast, *args, atol=ATOL):
    v_ref, g_ref = _value_and_grads(ref, *args)
    v_fast, g_fast = _value_and_grads(fast, *args)
    assert v_fast.shape == v_ref.shape
    torch.testing.assert_close(v_fast, v_ref, atol=atol, rtol=0)
    for a, b in zip(g_fast, g_ref):
        torch.testing.assert_close(a, b, atol=atol, rtol=0)


@pytest.mark.parametrize("embedding", ["angle", "amplitude", "iqp"])
@pytest.mark.parametrize("ansatz", ["hardware_efficient", "strongly_entangling", "basic_entangler"])
@pytest.mark.parametrize("batch", [None, 5])
def test_catalog_circuits_match_default_qubit(embedding, ansatz, batch, rng):
    spec = make_spec(n_qubits=4, embedding=embedding, ansatz=ansatz, layers=2)
    shape = (spec.n_inputs,) if batch is None else (batch, spec.n_inputs)
    x = torch.rand(shape, generator=rng, dtype=torch.float64) + 0.1
    w = torch.randn(spec.weight_shape, generator=rng, dtype=torch.float64)
    ref, fast = _pair(spec.qfunc, 4)
    _assert_same(ref, fast, x, w)


def test_reupload_and_observables(rng):
    obs = [
        qp.PauliZ(0) @ qp.PauliZ(1),
        qp.PauliX(2),
        0.5 * qp.PauliY(1) @ qp.PauliX(3) - 0.2 * qp.PauliZ(2),
        qp.Hermitian(np.array([[1.0, 0.3 - 0.2j], [0.3 + 0.2j, -0.5]]), wires=1),
    ]
    spec = make_spec(n_qubits=4, embedding="reupload", ansatz="strongly_entangling", layers=2, observables=obs)
    x = torch.randn(6, 4, generator=rng, dtype=torch.float64)
    w = torch.randn(spec.weight_shape, generator=rng, dtype=torch.float64)
    ref, fast = _pair(spec.qfunc, 4)
    _assert_same(ref, fast, x, w)


def _all_gates(x, w):
    qp.Hadamard(0)
    qp.RX(x[..., 0], wires=1)
    qp.RY(x[..., 1], wires=2)
    qp.RZ(w[0], wires=0)
    qp.Rot(w[1], x[..., 2], w[2], wires=3)
    qp.PhaseShift(w[3], wires=1)
    for gate in (qp.PauliX, qp.PauliY, qp.PauliZ, qp.S, qp.T, qp.SX):
        gate(wires=2)
    qp.CNOT([0, 1])
    qp.CZ([1, 2])
    qp.SWAP([2, 3])
    qp.CY([3, 0])
    qp.Toffoli([0, 2, 3])
    qp.CSWAP([1, 0, 3])
    qp.CCZ([3, 1, 2])
    qp.CRX(w[4], wires=[0, 3])
    qp.CRY(x[..., 0], wires=[2, 1])
    qp.CRZ(w[5], wires=[3, 1])
    qp.MultiRZ(x[..., 1] * w[0], wires=[0, 1, 3])
    qp.IsingZZ(w[1], wires=[2, 0])
    qp.ControlledPhaseShift(w[2], wires=[1, 3])
    qp.IsingXY(w[3], wires=[0, 2])  # generic matrix fallback
    qp.U3(w[4], x[..., 2], w[5], wires=1)  # generic matrix fallback, batched
    qp.SingleExcitation(x[..., 0], wires=[1, 2])
    qp.DoubleExcitation(w[0], wires=[0, 1, 2, 3])
    qp.GlobalPhase(w[1])
    return [qp.expval(qp.PauliZ(i)) for i in range(4)] + [
        qp.expval(qp.PauliX(0) @ qp.PauliY(3)),
        qp.var(qp.PauliX(1) + 0.5 * qp.PauliZ(2)),
        qp.var(qp.Hermitian(np.diag([1.0, -2.0, 0.5, 3.0]), wires=[2, 0])),
    ]


@pytest.mark.parametrize("batch", [None, 3])
def test_every_native_and_fallback_gate(batch, rng):
    x = torch.randn((3,) if batch is None else (batch, 3), generator=rng, dtype=torch.float64)
    w = torch.randn(6, generator=rng, dtype=torch.float64)
    ref, fast = _pair(_all_gates, 4)
    _assert_same(ref, fast, x, w)


def test_state_probs_and_wire_labels(rng):
    wires = ["a", "b", "c"]

    def circuit(x):
        qp.StatePrep(x / torch.linalg.norm(x, dim=-1, keepdim=True), wires=wires)
        qp.CNOT(["c", "a"])
        qp.RY(0.3, wires="b")
        qp.GlobalPhase(0.4)  # visible in the state
        return qp.state(), qp.probs(wires=["c", "a"]), qp.probs()

    x = torch.randn(2, 8, generator=rng, dtype=torch.float64).to(torch.complex128)
    x = x + 1j * torch.randn(2, 8, generator=rng, dtype=torch.float64)
    ref = qp.QNode(circuit, qp.device("default.qubit", wires=wires), interface="torch")
    fast = qp.QNode(circuit, FastDevice(wires=wires), interface="torch")
    for a, b in zip(fast(x), ref(x)):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, atol=ATOL, rtol=0)
    assert fast(x)[0].shape == (2, 8)


def test_basis_state_single_output_shapes():
    def circuit(w):
        qp.BasisState(np.array([1, 0, 1]), wires=[0, 1, 2])
        qp.RY(w, wires=1)
        return qp.expval(qp.PauliZ(1)), qp.probs(wires=[0])

    ref, fast = _pair(circuit, 3)
    w = torch.tensor(0.4, dtype=torch.float64)
    (e_ref, p_ref), (e_fast, p_fast) = ref(w), fast(w)
    assert e_fast.shape == () and p_fast.shape == (2,)
    torch.testing.assert_close(e_fast, e_ref, atol=ATOL, rtol=0)
    torch.testing.assert_close(p_fast, torch.tensor([0.0, 1.0], dtype=torch.float64), atol=ATOL, rtol=0)
    torch.testing.assert_close(p_fast, p_ref.to(p_fast.dtype), atol=ATOL, rtol=0)


@pytest.fixture(scope="module")
def h2():
    """H2 at 0.74 A in STO-3G (4 qubits), from qp.qchem.molecular_hamiltonian."""
    coords = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.74])
    H, n = qp.qchem.molecular_hamiltonian(["H", "H"], coords, unit="angstrom")
    singles, doubles = qp.qchem.excitations(2, n)
    return H, n, qp.qchem.hf_state(2, n), singles, doubles


@pytest.mark.parametrize("batch", [None, 4])
def test_chemistry_circuit_energy_and_gradient(h2, batch, rng):
    H, n, hf, singles, doubles = h2

    def circuit(theta):
        qp.BasisState(hf, wires=range(n))
        for i, d in enumerate(doubles):
            qp.DoubleExcitation(theta[..., i], wires=d)
        for j, s in enumerate(singles):
            qp.SingleExcitation(theta[..., len(doubles) + j], wires=s)
        return qp.expval(H)

    shape = (len(singles) + len(doubles),) if batch is None else (batch, len(singles) + len(doubles))
    theta = 0.3 * torch.randn(shape, generator=rng, dtype=torch.float64)
    ref, fast = _pair(circuit, n)
    _assert_same(ref, fast, theta)
    # the HF energy of H2/STO-3G at 0.74 A is -1.1167 Ha (PySCF RHF, the value qp.qchem reproduces)
    e_hf = fast(torch.zeros(shape[-1], dtype=torch.float64))
    assert abs(e_hf.item() - (-1.1167)) < 1e-3


def test_gradcheck_float64(rng):
    def circuit(x, w):
        qp.AngleEmbedding(x, wires=range(3), rotation="X")
        qp.StronglyEntanglingLayers(w, wires=range(3))
        qp.IsingZZ(x[..., 0] * w[0, 0, 0], wires=[0, 2])
        qp.SingleExcitation(w[0, 1, 1], wires=[1, 2])
        return qp.expval(qp.PauliZ(0) @ qp.PauliX(1) + 0.7 * qp.PauliY(2)), qp.expval(qp.PauliZ(1))

    fast = qp.QNode(circuit, FastDevice(wires=3), interface="torch", diff_method="backprop")
    x = torch.randn(2, 3, generator=rng, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, 3, 3, generator=rng, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: _as_tensor(fast(a, b)), (x, w), eps=1e-6, atol=1e-8)


def test_complex64_agrees_with_complex128(rng):
    spec = make_spec(n_qubits=5, embedding="angle", ansatz="strongly_entangling", layers=3)
    x = torch.randn(8, 5, generator=rng, dtype=torch.float64)
    w = torch.randn(spec.weight_shape, generator=rng, dtype=torch.float64)
    f = qp.QNode(spec.qfunc, FastDevice(wires=5), interface="torch", diff_method="backprop")
    out64 = _as_tensor(f(x, w))
    out32 = _as_tensor(f(x.float(), w.float()))
    assert out32.dtype == torch.float32 and out64.dtype == torch.float64
    torch.testing.assert_close(out32.double(), out64, atol=1e-5, rtol=0)
    # c_dtype=complex64 also runs float64 parameters in single precision
    f32 = qp.QNode(spec.qfunc, FastDevice(wires=5, c_dtype=torch.complex64), interface="torch")
    torch.testing.assert_close(_as_tensor(f32(x, w)).double(), out64, atol=1e-5, rtol=0)


def test_numpy_parameters_give_numpy_results():
    def circuit(a):
        qp.RX(a, wires=0)
        return qp.expval(qp.PauliZ(0))

    out = qp.QNode(circuit, FastDevice(wires=1))(np.array(0.5))
    assert isinstance(out, np.ndarray) and abs(float(out) - np.cos(0.5)) < ATOL
    # the torch interface gets torch tensors even without torch parameters, as from default.qubit
    out = qp.QNode(circuit, FastDevice(wires=1), interface="torch")(0.5)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64


def test_best_resolves_to_backprop():
    dev = FastDevice(wires=2)
    config = dev.setup_execution_config(qp.devices.ExecutionConfig(gradient_method="best"))
    assert config.gradient_method == "backprop" and config.convert_to_numpy is False
    assert dev.supports_derivatives(config)


def test_shots_raise_a_clear_error():
    def circuit(a):
        qp.RX(a, wires=0)
        return qp.expval(qp.PauliZ(0))

    qnode = qp.set_shots(qp.QNode(circuit, FastDevice(wires=1), interface="torch"), shots=100)
    with pytest.raises(qp.exceptions.DeviceError, match="does not sample; got shots=100"):
        qnode(torch.tensor(0.1))


def test_constructor_validation():
    with pytest.raises(ValueError, match="needs wires"):
        FastDevice()
    with pytest.raises(ValueError, match="c_dtype"):
        FastDevice(wires=2, c_dtype=torch.float64)
    with pytest.raises(ValueError, match="at most 24"):
        FastDevice(wires=25)
    with pytest.raises(ValueError, match="does not sample"):
        FastDevice(wires=2, shots=1000)


def test_unknown_wire_raises_wire_error():
    def circuit():
        qp.RX(0.1, wires=5)
        return qp.expval(qp.PauliZ(5))

    with pytest.raises(qp.exceptions.WireError, match=r"uses wires \[5\]"):
        qp.QNode(circuit, FastDevice(wires=3))()


def test_parameter_shift_gradients_match_backprop(rng):
    def circuit(x, w):
        qp.AngleEmbedding(x, wires=range(3))
        qp.BasicEntanglerLayers(w, wires=range(3))
        return qp.expval(qp.PauliZ(0) @ qp.PauliZ(2))

    x = torch.randn(3, generator=rng, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 3, generator=rng, dtype=torch.float64, requires_grad=True)
    grads = []
    for method in ("backprop", "parameter-shift"):
        qnode = qp.QNode(circuit, FastDevice(wires=3), interface="torch", diff_method=method)
        grads.append(torch.autograd.grad(qnode(x, w), (x, w)))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=ATOL, rtol=0)


def test_large_hamiltonian_path_builds_coefficients_on_the_fly(monkeypatch, rng):
    """Hamiltonians over the memory budget recompute their coefficient vectors chunk by chunk."""
    import qml.sim.measure as measure

    monkeypatch.setattr(measure, "COEF_BUDGET", 4)
    monkeypatch.setattr(measure, "_PAULI_CACHE", measure.Cache())
    H = qp.Hamiltonian(
        [0.3, -0.2, 0.5, 0.1, 0.7],
        [
            qp.PauliX(0) @ qp.PauliY(2),
            qp.PauliY(1),
            qp.PauliZ(0) @ qp.PauliX(1),
            qp.PauliY(0) @ qp.PauliY(2),
            qp.PauliZ(1),
        ],
    )

    def circuit(w):
        qp.StronglyEntanglingLayers(w, wires=range(3))
        return qp.expval(H)

    w = torch.randn(2, 3, 3, generator=rng, dtype=torch.float64)
    ref, fast = _pair(circuit, 3)
    _assert_same(ref, fast, w)
    assert measure.pauli_tables(H, {0: 0, 1: 1, 2: 2}, 3).coef is None


def test_every_tensor_follows_the_parameters_device():
    """Constants (tables, gate matrices, Hamiltonian coefficients) are created on the device of
    the parameters.  Checked with torch's data-less 'meta' device, which fails on any tensor
    that is copied through the CPU or left there: a stand-in for CUDA on CPU-only machines."""
    n, meta = 4, torch.device("meta")
    x = torch.empty(3, n, dtype=torch.float64, device=meta)
    w = torch.empty(2, n, 3, dtype=torch.float64, device=meta)
    ops = [
        qp.AngleEmbedding(x, wires=range(n)),
        qp.StronglyEntanglingLayers(w, wires=range(n)),
        qp.IsingZZ(x[:, 0], wires=[0, 2]),
        qp.SingleExcitation(w[0, 0, 0], wires=[1, 2]),
        qp.DoubleExcitation(w[0, 0, 1], wires=[0, 1, 2, 3]),
        qp.CRX(w[0, 1, 1], wires=[3, 0]),
        qp.Toffoli([0, 1, 2]),
        qp.RY(0.3, wires=1),
    ]
    H = qp.Hamiltonian([0.3, 0.5], [qp.PauliX(0) @ qp.PauliY(2), qp.PauliZ(1)])
    mps = [
        qp.expval(H),
        qp.expval(qp.PauliZ(0)),
        qp.probs(wires=[1, 0]),
        qp.state(),
        qp.expval(qp.Hermitian(np.eye(2), wires=0)),
        qp.var(qp.PauliX(1)),
    ]
    res = FastDevice(wires=n).execute(qp.tape.QuantumScript(ops, mps))
    assert [(r.device.type, tuple(r.shape)) for r in res] == [
        ("meta", (3,)),
        ("meta", (3,)),
        ("meta", (3, 4)),
        ("meta", (3, 16)),
        ("meta", (3,)),
        ("meta", (3,)),
    ]


# ---- gradient modes (qml.sim.adjoint) -------------------------------------------------------
@pytest.mark.parametrize("batch", [None, 3])
def test_adjoint_gradients_equal_backprop_on_every_gate(batch, rng):
    """The adjoint method (uncompute the circuit backwards) gives backprop's gradients for every
    native kernel (blocks, permutations, phases, Givens rotations, matrix fallback, global phase)."""
    x = torch.randn((3,) if batch is None else (batch, 3), generator=rng, dtype=torch.float64)
    w = torch.randn(6, generator=rng, dtype=torch.float64)
    devs = {m: FastDevice(wires=4, gradient=m) for m in ("backprop", "adjoint")}
    out = {m: _value_and_grads(qp.QNode(_all_gates, d, interface="torch"), x, w) for m, d in devs.items()}
    assert devs["adjoint"].last_gradient == "adjoint" and devs["backprop"].last_gradient == "backprop"
    torch.testing.assert_close(out["adjoint"][0], out["backprop"][0], atol=1e-12, rtol=0)
    for a, b in zip(out["adjoint"][1], out["backprop"][1]):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_adjoint_gradcheck_float64(rng):
    """Adjoint gradients against finite differences (torch.autograd.gradcheck, float64), with a
    state preparation as the first operation and a Hamiltonian measurement."""

    def circuit(v, x, w):
        qp.StatePrep(v / torch.linalg.norm(v, dim=-1, keepdim=True), wires=range(4))
        qp.AngleEmbedding(x, wires=range(3), rotation="X")
        qp.StronglyEntanglingLayers(w, wires=range(3))
        qp.IsingZZ(x[..., 0] * w[0, 0, 0], wires=[0, 2])
        qp.DoubleExcitation(w[0, 2, 2], wires=[0, 1, 2, 3])
        return qp.expval(qp.PauliZ(0) @ qp.PauliX(1) + 0.7 * qp.PauliY(3)), qp.expval(qp.PauliZ(1))

    dev = FastDevice(wires=4, gradient="adjoint")
    fast = qp.QNode(circuit, dev, interface="torch")
    v = torch.randn(2, 16, generator=rng, dtype=torch.float64).requires_grad_()
    x = torch.randn(2, 3, generator=rng, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, 3, 3, generator=rng, dtype=torch.float64, requires_grad=True)

    assert torch.autograd.gradcheck(lambda a, b, c: _as_tensor(fast(a, b, c)), (v, x, w), eps=1e-6, atol=1e-8)
    assert dev.last_gradient == "adjoint"


def test_gradient_mode_follows_the_memory_budget(rng):
    """gradient="auto" differentiates by backprop unless its memory estimate exceeds the budget."""
    from qml.sim import adjoint

    spec = make_spec(n_qubits=6, embedding="angle", ansatz="strongly_entangling", layers=2)
    x = torch.randn(4, 6, generator=rng, dtype=torch.float64)
    w = torch.randn(spec.weight_shape, generator=rng, dtype=torch.float64)
    state = adjoint.state_bytes(6, 4)
    assert state == 64 * 4 * 16
    results = {}
    for budget in (10**9, 2 * state):
        dev = FastDevice(wires=6, memory_budget=budget)
        results[budget] = (_value_and_grads(qp.QNode(spec.qfunc, dev, interface="torch"), x, w), dev.last_gradient)
    assert results[10**9][1] == "backprop" and results[2 * state][1] == "adjoint"
    (v1, g1), (v2, g2) = results[10**9][0], results[2 * state][0]
    torch.testing.assert_close(v1, v2, atol=1e-12, rtol=0)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
    # without a gradient nothing is differentiated
    dev = FastDevice(wires=6, memory_budget=2 * state)
    with torch.no_grad():
        qp.QNode(spec.qfunc, dev, interface="torch")(x, w)
    assert dev.last_gradient is None


def test_gradient_options_are_validated():
    with pytest.raises(ValueError, match=r"gradient must be one of \['auto', 'backprop', 'adjoint'\]"):
        FastDevice(wires=2, gradient="adjiont")
    with pytest.raises(ValueError, match="memory_budget must be a positive number of bytes"):
        FastDevice(wires=2, memory_budget=0)


@pytest.mark.parametrize("gradient", ["adjoint", "backprop"])
def test_both_gradient_modes_keep_every_tensor_on_the_parameters_device(gradient):
    """Forward and backward in either mode on torch's data-less 'meta' device (the CUDA stand-in)."""
    n, meta = 4, torch.device("meta")
    x = torch.empty(3, n, dtype=torch.float64, device=meta, requires_grad=True)
    w = torch.empty(2, n, 3, dtype=torch.float64, device=meta, requires_grad=True)
    ops = [
        qp.AngleEmbedding(x, wires=range(n)),
        qp.StronglyEntanglingLayers(w, wires=range(n)),
        qp.IsingZZ(x[:, 0], wires=[0, 2]),
        qp.SingleExcitation(w[0, 0, 0], wires=[1, 2]),
        qp.CRX(w[0, 1, 1], wires=[3, 0]),
        qp.Toffoli([0, 1, 2]),
    ]
    dev = FastDevice(wires=n, gradient=gradient)
    res = dev.execute(qp.tape.QuantumScript(ops, [qp.expval(qp.PauliZ(0)), qp.expval(qp.PauliX(1))]))
    gx, gw = torch.autograd.grad(sum(r.sum() for r in res), (x, w))
    assert dev.last_gradient == gradient
    assert (gx.device.type, tuple(gx.shape), gw.device.type, tuple(gw.shape)) == ("meta", (3, 4), "meta", (2, 4, 3))


def test_z_expectations_by_halving_equal_the_sign_tables(monkeypatch, rng):
    """Wide states measure <Z_q> by halving |psi|^2 (no cached 2**n sign vectors): same values and
    gradients as default.qubit (forced here on a small state)."""
    import qml.sim.measure as measure

    monkeypatch.setattr(measure, "HALVING_MIN", 2)
    spec = make_spec(n_qubits=5, embedding="angle", ansatz="strongly_entangling", layers=2)
    x = torch.randn(3, 5, generator=rng, dtype=torch.float64)
    w = torch.randn(spec.weight_shape, generator=rng, dtype=torch.float64)
    ref, fast = _pair(spec.qfunc, 5)
    _assert_same(ref, fast, x, w)


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_fused_blocks_equal_unfused_gates(monkeypatch, chunk, rng):
    """Pending single-qubit gates of neighbouring wires are applied as one Kronecker block of up to
    CHUNK wires: the state equals the one of smaller blocks (CHUNK=1: one 2x2 gate per wire) to 1e-12."""
    import qml.sim.engine as engine

    def circuit(x, w):
        qp.AngleEmbedding(x, wires=range(6), rotation="Y")
        qp.StronglyEntanglingLayers(w, wires=range(6))
        qp.RX(w[0, 0, 0], wires=2)
        qp.Hadamard(wires=3)
        return qp.state()

    x = torch.randn(2, 6, generator=rng, dtype=torch.float64)
    w = torch.randn(3, 6, 3, generator=rng, dtype=torch.float64)
    fused = qp.QNode(circuit, FastDevice(wires=6), interface="torch")(x, w)
    monkeypatch.setattr(engine, "CHUNK", chunk)
    unfused = qp.QNode(circuit, FastDevice(wires=6), interface="torch")(x, w)
    assert fused.shape == (2, 64)
    torch.testing.assert_close(unfused, fused, atol=1e-12, rtol=0)


def test_sector_adjoint_gradients_against_finite_differences_and_backprop(rng):
    """The particle-number-sector simulator's adjoint mode (Givens rotations uncomputed backwards):
    float64 gradcheck, and the same gradients as its backprop mode (LiH (2e, 5o) uccsd, 24 rotations)."""
    import qml
    from qml import backends

    mol = qml.chem.Molecule.from_name("LiH", 1.6)
    ans = qml.chem.make_ansatz(mol, "uccsd")
    circuits = {
        m: backends.resolve("sector", n_qubits=mol.n_qubits, gradient=m).circuit(ans, mol.n_qubits)
        for m in ("adjoint", "backprop")
    }
    params = (0.3 * torch.randn(2, ans.n_params, generator=rng, dtype=torch.float64)).requires_grad_()
    proj = torch.randn(2, circuits["adjoint"].dim, generator=rng, dtype=torch.float64)
    grads = {}
    for m, circ in circuits.items():
        psi = circ(params)
        assert circ.last_gradient == m
        grads[m] = (psi.detach(), torch.autograd.grad((psi * proj).sum(), params)[0])
    torch.testing.assert_close(grads["adjoint"][0], grads["backprop"][0], atol=1e-12, rtol=0)
    torch.testing.assert_close(grads["adjoint"][1], grads["backprop"][1], atol=1e-10, rtol=0)
    small = params[:1, :].detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda p: circuits["adjoint"](p), (small,), eps=1e-6, atol=1e-8)
