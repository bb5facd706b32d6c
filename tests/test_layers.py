"""QuantumLayer: gradients vs finite differences, backend agreement, broadcasting, pickling, bad input."""

import io
import math

import pennylane as qp
import pytest
import torch

import qml
from qml.errors import BackendError, ConfigurationError, DataError


def _layer(backend, **kw):
    kw.setdefault("layers", 1)
    return qml.QuantumLayer(2, backend=backend, **kw)


@pytest.mark.parametrize("backend", ["default.qubit", "lightning.qubit"])
@pytest.mark.parametrize("embedding", ["angle", "reupload"])
def test_gradcheck_inputs_and_weights(backend, embedding, rng):
    layer = _layer(backend, embedding=embedding, ansatz="strongly_entangling")
    x = torch.rand(2, 2, generator=rng, dtype=torch.float64, requires_grad=True)
    w = layer.weights.detach().clone().requires_grad_(True)
    run = layer.executor()
    # Finite differences (float64) against the backend's analytic gradients.
    assert torch.autograd.gradcheck(lambda a, b: run(a, b), (x, w), eps=1e-6, atol=1e-6)


def test_gradients_flow_to_inputs_and_weights(rng):
    layer = _layer("default.qubit")
    x = torch.rand(3, 2, generator=rng, dtype=torch.float64, requires_grad=True)
    layer(x).sum().backward()
    assert x.grad.shape == (3, 2) and torch.count_nonzero(x.grad) > 0
    assert layer.weights.grad.shape == layer.weights.shape


EXACT = ["fast", "default.qubit", "lightning.qubit", "aer"]


def _available(backend: str) -> bool:
    """Aer lands with its own module (issue 10, qml.backends.aer); skip only when it is missing."""
    import importlib.util

    return backend != "aer" or importlib.util.find_spec("qml.backends.aer") is not None


@pytest.mark.parametrize(
    "embedding,ansatz",
    [
        ("angle", "strongly_entangling"),
        ("iqp", "hardware_efficient"),
        ("amplitude", "basic_entangler"),
        ("reupload", "hardware_efficient"),
    ],
)
def test_exact_backends_agree(embedding, ansatz, rng):
    n_inputs = 8 if embedding == "amplitude" else 3
    x = torch.rand(4, n_inputs, generator=rng, dtype=torch.float64)
    outs = {}
    ref = None
    for backend in filter(_available, EXACT):
        layer = qml.QuantumLayer(3, layers=2, embedding=embedding, ansatz=ansatz, backend=backend)
        if ref is None:
            ref = layer.state_dict()
        layer.load_state_dict(ref)
        outs[backend] = layer(x).detach()
    for backend, out in outs.items():
        assert out.shape == (4, 3)
        assert torch.allclose(out, outs["default.qubit"], atol=1e-6), backend


def test_auto_matches_reference_and_records_its_measurement(rng):
    from qml.backends import auto as _auto

    _auto.clear_cache()
    x = torch.rand(5, 2, generator=rng, dtype=torch.float64)
    ref = _layer("default.qubit")
    auto = _layer("auto")
    auto.load_state_dict(ref.state_dict())
    assert torch.allclose(auto(x), ref(x), atol=1e-6)
    assert auto.backend.chosen in auto.backend.candidates
    assert set(auto.backend.timings) == set(auto.backend.candidates) == {"fast", "lightning.qubit", "default.qubit"}
    assert all(t > 0 for t in auto.backend.timings.values())
    assert f"auto chose {auto.backend.chosen!r}" in repr(auto)


@pytest.mark.parametrize("backend", ["default.qubit", "aer"])
def test_shots_agree_within_statistical_bound(rng, backend):
    if not _available(backend):
        pytest.importorskip("qml.backends.aer")
    shots = 4000
    x = torch.rand(3, 2, generator=rng, dtype=torch.float64)
    exact = _layer("default.qubit")
    sampled = _layer(backend, shots=shots, seed=7)
    sampled.load_state_dict(exact.state_dict())
    e, s = exact(x).detach(), sampled(x).detach()
    # Each <Z> is a mean of `shots` +-1 samples: standard error sqrt((1 - <Z>^2) / shots).
    bound = 5 * torch.sqrt((1 - e**2).clamp_min(1e-3) / shots)
    assert torch.all((s - e).abs() <= bound), (s - e).abs() / bound
    # The seed makes sampling reproducible.
    again = _layer(backend, shots=shots, seed=7)
    again.load_state_dict(exact.state_dict())
    assert torch.equal(again(x).detach(), s)


def test_batch_is_one_broadcast_execution(rng):
    layer = _layer("default.qubit")
    x = torch.rand(8, 2, generator=rng, dtype=torch.float64)
    qnode = layer.executor().qnode
    with qp.Tracker(qnode.device) as tracker:
        out = layer(x)
    assert out.shape == (8, 2)
    # PennyLane counts 8 logical executions, simulated as ONE broadcast statevector run.
    assert tracker.totals["simulations"] == 1
    assert tracker.totals["batches"] == 1
    assert tracker.totals["executions"] == 8


def test_float32_and_float64(rng):
    layer = _layer("default.qubit")
    x64 = torch.rand(4, 2, generator=rng, dtype=torch.float64)
    y64 = layer(x64)
    y32 = layer(x64.float())
    assert y64.dtype == torch.float64 and y32.dtype == torch.float32
    assert torch.allclose(y32.double(), y64, atol=1e-5)
    y32.sum().backward()
    assert layer.weights.grad is not None and layer.weights.grad.dtype == torch.float64


def test_single_sample_shape():
    layer = _layer("default.qubit")
    assert layer(torch.zeros(2, dtype=torch.float64)).shape == (2,)


@pytest.mark.parametrize("backend", ["default.qubit", "lightning.qubit"])
def test_whole_model_pickles(backend, rng):
    model = qml.HybridModel(3, 1, n_qubits=2, layers=1, backend=backend)
    x = torch.rand(4, 3, generator=rng, dtype=torch.float64)
    before = model(x)
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    assert torch.equal(loaded(x), before)
    fresh = qml.HybridModel(3, 1, n_qubits=2, layers=1, backend=backend)
    fresh.load_state_dict(model.state_dict())
    assert torch.equal(fresh(x), before)


def _custom(inputs, weights):
    qp.RY(inputs[..., 0], wires=0)
    qp.RY(inputs[..., 1], wires=1)
    qp.CNOT(wires=[0, 1])
    qp.RX(weights[0], wires=1)
    return [qp.expval(qp.PauliZ(1)), qp.expval(qp.PauliX(0))]


def test_custom_circuit_matches_closed_form():
    layer = qml.QuantumLayer(2, circuit=_custom, weight_shape=(1,), n_inputs=2, backend="default.qubit")
    with torch.no_grad():
        layer.weights.fill_(0.3)
    x = torch.tensor([[0.4, 1.1]], dtype=torch.float64)
    out = layer(x)[0]
    # RY(a)|0> RY(b)|0>, CNOT, RX(c) on wire 1, worked out by hand:
    # <Z1> = cos(a) cos(b) cos(c) (CNOT maps Z1 to Z0 Z1); <X0> = sin(a) sin(b) (CNOT maps X0 to X0 X1).
    a, b, c = 0.4, 1.1, 0.3
    assert out[0].item() == pytest.approx(math.cos(a) * math.cos(b) * math.cos(c), abs=1e-12)
    assert out[1].item() == pytest.approx(math.sin(a) * math.sin(b), abs=1e-12)
    buf = io.BytesIO()
    torch.save(layer, buf)
    buf.seek(0)
    assert torch.equal(torch.load(buf, weights_only=False)(x), layer(x))


def test_bad_inputs_raise_clear_errors():
    layer = _layer("default.qubit")
    with pytest.raises(DataError, match=r"expects inputs of shape \(batch, 2\)"):
        layer(torch.zeros(4, 3))
    with pytest.raises(DataError, match="NaN or inf"):
        layer(torch.tensor([[0.1, float("nan")]]))
    with pytest.raises(DataError, match="empty batch"):
        layer(torch.zeros(0, 2))
    with pytest.raises(TypeError, match="expects a torch tensor"):
        layer("not data")
    with pytest.raises(ConfigurationError, match="n_qubits must be >= 1"):
        qml.QuantumLayer(0)
    with pytest.raises(BackendError, match="simulates at most 24"):
        qml.QuantumLayer(30, backend="default.qubit")
    with pytest.raises(BackendError, match="unknown backend 'lightning'.*default.qubit"):
        qml.QuantumLayer(2, backend="lightning")
    for shots in (0, -5, 2.5):
        with pytest.raises(BackendError, match="shots must be None"):
            qml.QuantumLayer(2, backend="default.qubit", shots=shots)
    with pytest.raises(BackendError, match="exact expectation values only; for shots use one of: 'default.qubit'"):
        qml.QuantumLayer(2, backend="fast", shots=100)
    with pytest.raises(BackendError, match="takes no option"):
        qml.QuantumLayer(2, backend="default.qubit", backend_options={"resilience_level": 1})
    with pytest.raises(BackendError, match="cannot compute expectation values.*backends that can: 'auto', 'fast'"):
        qml.QuantumLayer(2, backend="sector")


def test_fake_device_errors():
    pytest.importorskip("qml.backends.aer")
    with pytest.raises(BackendError, match="has 5"):
        qml.QuantumLayer(6, backend="aer:FakeManilaV2")
    with pytest.raises(BackendError, match="unknown fake device 'FakeNowhere'"):
        qml.QuantumLayer(2, backend="aer:FakeNowhere")


def test_draw_text_and_mpl():
    layer = _layer("default.qubit", ansatz="hardware_efficient")
    text = layer.draw()
    assert "RY" in text and "<Z>" in text
    fig = layer.draw(style="mpl")
    assert fig.__class__.__name__ == "Figure"
    with pytest.raises(ValueError, match="style must be"):
        layer.draw(style="svg")
