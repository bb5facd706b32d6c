"""fit over several processes (qml.train.distributed): the same result as one process, to round-off."""

import copy

import numpy as np
import pytest
import torch

import qml
from qml.errors import ConfigurationError
from qml.train import distributed
from qml.train.callbacks import EarlyStopping
from qml.train.distributed import _shard


def test_shards_cover_the_batch_once():
    for n in (1, 2, 5, 64):
        for world in (1, 2, 3):
            rows = [r for k in range(world) for r in range(*_shard(n, k, world))]
            assert rows == list(range(n))


def test_bad_arguments_raise_before_any_process_starts():
    model = qml.PESModel("H2", backend="fast")
    with pytest.raises(ConfigurationError, match="workers must be >= 1"):
        distributed.fit(model, [0.7], workers=0)
    with pytest.raises(TypeError, match="workers must be"):
        qml.fit(model, [0.7], workers=1.5)
    with pytest.raises(ConfigurationError, match="lr must be"):
        qml.fit(model, [0.7], workers=2, lr=-1.0)  # fit's own checks run before any process starts
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        distributed.fit("H2", [0.7], workers=2)
    with pytest.raises(ConfigurationError, match="resume=True is not supported"):
        distributed.fit(model, [0.7], workers=2, resume=True, checkpoint_dir="x")
    with pytest.raises(ConfigurationError, match="outside the physical range"):
        qml.fit(model, [0.7, 9.0], workers=2)  # the data is checked here, before any process starts
    hybrid = qml.HybridModel(in_features=2, out_features=1, n_qubits=2, layers=1, backend="fast")
    with pytest.raises(qml.errors.DataError, match="targets have 2 column"):
        qml.fit(hybrid, (torch.zeros(4, 2), torch.zeros(4, 2)), workers=2)
    shots = qml.PESModel("H2", backend="default.qubit", shots=100, seed=1)
    with pytest.raises(ConfigurationError, match="needs exact backends"):
        distributed.fit(shots, [0.7], workers=2)


@pytest.mark.slow
def test_two_processes_equal_one_pes_model():
    torch.manual_seed(0)
    model = qml.PESModel("H2", backend="fast")
    one, two = copy.deepcopy(model), copy.deepcopy(model)
    geometries = list(np.linspace(0.5, 1.5, 5))  # 3 + 2 rows: unequal shares
    # Adam: the recipe's L-BFGS line search turns the gradients' round-off (summation order) into different steps
    kwargs = dict(epochs=3, optimizer="adam", lr=0.02, progress=False)
    h1 = qml.fit(one, geometries, **kwargs)
    h2 = qml.fit(two, geometries, workers=2, **kwargs)
    np.testing.assert_allclose(h2.train_loss, h1.train_loss, rtol=0, atol=1e-12)
    for a, b in zip(one.state_dict().values(), two.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.slow
def test_two_processes_equal_one_hybrid_model_with_minibatches():
    torch.manual_seed(0)
    model = qml.HybridModel(in_features=3, out_features=1, n_qubits=3, layers=1, backend="fast")
    x = torch.randn(11, 3, dtype=torch.float64)
    y = x.sum(1, keepdim=True)
    one, two = copy.deepcopy(model), copy.deepcopy(model)
    # batches of 4, 4, 3 rows; SGD (Adam would amplify round-off in its first steps); the early stopping
    # of process 0's callback stops both processes after epoch 2 (nothing counts as an improvement)
    kwargs = dict(epochs=5, batch_size=4, optimizer="sgd", lr=0.05, progress=False)
    h1 = qml.fit(one, (x, y), callbacks=[EarlyStopping(patience=1, min_delta=1e9)], **kwargs)
    h2 = qml.fit(two, (x, y), workers=2, callbacks=[EarlyStopping(patience=1, min_delta=1e9)], **kwargs)
    assert len(h1) == len(h2) == 2 and h2.stopped_early
    np.testing.assert_allclose(h2.train_loss, h1.train_loss, rtol=0, atol=1e-12)
    for a, b in zip(one.state_dict().values(), two.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_auto_backend_of_a_hybrid_model_is_refused():
    model = qml.HybridModel(in_features=2, out_features=1, n_qubits=2, layers=1)  # backend="auto"
    with pytest.raises(ConfigurationError, match="has not decided yet"):
        distributed.fit(model, (torch.zeros(4, 2), torch.zeros(4, 1)), workers=2)
