"""qml.compress: pruning fraction, exact removal of identity rotations, honest before/after report."""

import math

import pytest
import torch

import qml
from qml.errors import ConfigurationError


def _model():
    torch.manual_seed(0)
    return qml.HybridModel(3, 1, n_qubits=3, layers=2, ansatz="hardware_efficient", hidden=8, backend="default.qubit")


def test_identity_rotations_removed_without_changing_outputs():
    model = _model()
    x = torch.rand(6, 3, dtype=torch.float64)
    with torch.no_grad():
        model.quantum.weights[0, 0] = 0.0
        model.quantum.weights[1, 2] = 2 * math.pi  # RY(2 pi) = -I: a global phase
    before = model(x)
    report = qml.compress(model, angle_tol=1e-9)
    assert torch.allclose(model(x), before, atol=1e-12)
    assert report.gates_before - report.gates_after == 2
    assert report.quantum_params_after == report.quantum_params_before - 1  # 2 pi snapped to 0
    assert report.two_qubit_gates_after == report.two_qubit_gates_before


def test_tolerance_trades_accuracy_for_size():
    model = _model()
    x = torch.rand(8, 3, dtype=torch.float64)
    with torch.no_grad():
        model.quantum.weights[:, 1] = 1e-3
    y = model(x).detach()
    report = qml.compress(model, angle_tol=1e-2, data=(x, y))
    assert report.gates_after == report.gates_before - 2
    assert report.loss_before == 0 and report.loss_after > 0
    assert report.loss_after < 1e-4  # dropping 1e-3 rad rotations changes outputs by ~1e-6 squared


def test_global_pruning_fraction():
    model = _model()
    linear = [m for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    n_weights = sum(m.weight.numel() for m in linear)
    report = qml.compress(model, prune=0.5)
    zeros = sum(int((m.weight == 0).sum()) for m in linear)
    assert zeros == round(0.5 * n_weights)
    assert report.classical_params_before - report.classical_params_after == zeros
    assert "classical parameters" in str(report)


def test_bad_arguments():
    with pytest.raises(ConfigurationError, match="prune must be a fraction"):
        qml.compress(_model(), prune=1.5)
    with pytest.raises(ConfigurationError, match="angle_tol"):
        qml.compress(_model(), angle_tol=-1)
    with pytest.raises(TypeError, match="expects a qml.HybridModel"):
        qml.compress(torch.nn.Linear(2, 2))
