"""qml.fit: learning, history, atomic checkpoints, resume parity, NaN guard, bad data."""

import json

import pytest
import torch

import qml
from qml.errors import ConfigurationError, DataError, NonFiniteLossError
from qml.train import load_checkpoint


def _data(n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, generator=g, dtype=torch.float64) * 2 - 1
    y = torch.sin(x.sum(1, keepdim=True))
    return x, y


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    kw.setdefault("backend", "default.qubit")
    return qml.HybridModel(3, 1, n_qubits=2, layers=1, hidden=4, **kw)


def test_done_when_model_trains_with_fit():
    # The "done when": HybridModel(3, 1, n_qubits=4, layers=2) trains with qml.fit.
    x, y = _data(32)
    torch.manual_seed(0)
    model = qml.HybridModel(3, 1, n_qubits=4, layers=2)
    before = qml.train.evaluate(model, (x, y))
    history = qml.fit(model, (x, y), val=(x[:8], y[:8]), epochs=6, lr=0.05, batch_size=8, progress=False)
    assert len(history) == 6 and history.epochs == [1, 2, 3, 4, 5, 6]
    assert history.train_loss[-1] < 0.5 * before
    assert all(v is not None for v in history.val_loss)
    assert all(t > 0 for t in history.time)


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    x, y = _data()
    full = _model()
    qml.fit(full, (x, y), epochs=4, lr=0.05, batch_size=8, seed=3, schedule="cosine", progress=False)

    part = _model()
    qml.fit(
        part,
        (x, y),
        epochs=4,
        lr=0.05,
        batch_size=8,
        seed=3,
        schedule="cosine",
        checkpoint_dir=tmp_path,
        progress=False,
        early_stopping=1,
        min_delta=1e9,
    )  # "interrupted" after epoch 2
    assert load_checkpoint(tmp_path)["epoch"] == 2
    resumed = _model(seed=99)  # a fresh process would start from other weights
    history = qml.fit(
        resumed,
        (x, y),
        epochs=4,
        lr=0.05,
        batch_size=8,
        seed=3,
        schedule="cosine",
        checkpoint_dir=tmp_path,
        resume=True,
        progress=False,
    )
    assert history.epochs == [1, 2, 3, 4]
    lrs = [r["lr"] for r in history.records]
    assert lrs[0] == 0.05 and all(a > b for a, b in zip(lrs, lrs[1:]))  # cosine decay, continued on resume
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    saved = json.loads((tmp_path / "history.json").read_text())
    assert [r["epoch"] for r in saved["records"]] == [1, 2, 3, 4]


def test_existing_checkpoint_is_never_silently_overwritten(tmp_path):
    x, y = _data()
    qml.fit(_model(), (x, y), epochs=1, batch_size=8, checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ConfigurationError, match="pass resume=True"):
        qml.fit(_model(), (x, y), epochs=1, batch_size=8, checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ConfigurationError, match="batch_size: checkpoint 8 vs now 4"):
        qml.fit(_model(), (x, y), epochs=2, batch_size=4, checkpoint_dir=tmp_path, resume=True, progress=False)


def test_nan_loss_stops_with_clear_error_and_keeps_last_good_checkpoint(tmp_path):
    x, y = _data()
    calls = {"n": 0}

    def flaky_mse(pred, target):
        calls["n"] += 1
        loss = torch.nn.functional.mse_loss(pred, target)
        return loss * float("nan") if calls["n"] > 3 else loss  # 3 steps per epoch: NaN in epoch 2

    model = _model()
    with pytest.raises(NonFiniteLossError, match="loss became nan at epoch 2, step 0"):
        qml.fit(model, (x, y), epochs=3, batch_size=8, loss=flaky_mse, checkpoint_dir=tmp_path, progress=False)
    ckpt = load_checkpoint(tmp_path)
    assert ckpt["epoch"] == 1
    # The model in memory is rolled back to the start of epoch 2 = the checkpoint of epoch 1.
    for name, value in model.state_dict().items():
        assert torch.equal(value, ckpt["model_state"][name]), name


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path, monkeypatch):
    from qml.train import checkpoint

    target = tmp_path / "file.bin"
    checkpoint.atomic_write_bytes(target, b"good")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.atomic_write_bytes(target, b"bad")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_early_stopping():
    x, y = _data()
    history = qml.fit(
        _model(), (x, y), val=(x, y), epochs=30, lr=1e-9, batch_size=8, early_stopping=2, min_delta=1e-6, progress=False
    )
    assert history.stopped_early and len(history) < 30


def test_bad_data_and_settings():
    x, y = _data()
    with pytest.raises(DataError, match=r"different lengths \(24 and 23\)"):
        qml.fit(_model(), (x, y[:-1]), epochs=1, progress=False)
    y_nan = y.clone()
    y_nan[5] = float("nan")
    with pytest.raises(DataError, match="NaN or inf .*row 5"):
        qml.fit(_model(), (x, y_nan), epochs=1, progress=False)
    with pytest.raises(DataError, match="expects inputs of shape"):
        qml.fit(_model(), (x[:, :2], y), epochs=1, progress=False)
    with pytest.raises(DataError, match="empty"):
        qml.fit(_model(), (x[:0], y[:0]), epochs=1, progress=False)
    with pytest.raises(ConfigurationError, match="epochs must be >= 1"):
        qml.fit(_model(), (x, y), epochs=0)
    with pytest.raises(ConfigurationError, match="lr must be a positive number"):
        qml.fit(_model(), (x, y), lr=-1)
    with pytest.raises(ConfigurationError, match="unknown loss 'rmse'"):
        qml.fit(_model(), (x, y), loss="rmse")
    with pytest.raises(ConfigurationError, match="unknown optimizer 'adagrad'"):
        qml.fit(_model(), (x, y), optimizer="adagrad")
    with pytest.raises(TypeError, match="must be a torch.nn.Module"):
        qml.fit("model", (x, y))
    with pytest.raises(TypeError, match="pair of arrays/tensors"):
        qml.fit(_model(), 42)


def test_history_plot_and_roundtrip(tmp_path):
    x, y = _data()
    history = qml.fit(_model(), (x, y), val=(x, y), epochs=2, batch_size=8, progress=False)
    fig = qml.plot.history(history)
    assert len(fig.axes[0].lines) == 2
    history.save(tmp_path / "h.json")
    again = qml.History.load(tmp_path / "h.json")
    assert again.train_loss == history.train_loss and again.best_epoch == history.best_epoch


def test_normalization_returns_physical_units():
    x, y = _data()
    y = y * 0.01 - 1.1  # energies in Hartree
    model = _model()
    model.set_normalization(x, y)
    assert torch.allclose(model.y_mean, y.mean(0)) and torch.allclose(model.x_std, x.std(0))
    out = model(x)
    # Untrained, the output is y_mean + y_std * O(1): it lives at the scale of the data.
    assert (out - y.mean()).abs().max() < 10 * y.std()
    with pytest.raises(DataError, match="different lengths"):
        model.set_normalization(x, y[:3])


def test_lbfgs_reaches_the_least_squares_solution():
    # A linear model trained full-batch with L-BFGS must land on the closed-form least-squares fit.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 3, generator=g, dtype=torch.float64)
    y = x @ torch.tensor([[0.5], [-1.0], [2.0]], dtype=torch.float64) + 0.1 * torch.randn(
        40, 1, generator=g, dtype=torch.float64
    )
    model = torch.nn.Linear(3, 1, bias=False).double()
    qml.fit(model, (x, y), epochs=3, lr=1.0, batch_size=40, optimizer="lbfgs", progress=False)
    exact = torch.linalg.lstsq(x, y).solution.T
    assert torch.allclose(model.weight.detach(), exact, atol=1e-8)
