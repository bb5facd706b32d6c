"""Progress that fits where it runs (qml.train.progress) and the defaults of qml.fit (qml.train.defaults)."""

import io

import pytest
import torch

import qml
from qml.backends import context
from qml.errors import ConfigurationError
from qml.train.defaults import FULL_BATCH_MAX, resolve
from qml.train.progress import EpochProgress, choose_mode


class _TTY(io.StringIO):
    def isatty(self):
        return True


def _data(n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, generator=g, dtype=torch.float64) * 2 - 1
    return x, torch.sin(x.sum(1, keepdim=True)) * 0.01 - 1.1  # energies in Hartree


def test_mode_follows_the_stream_and_the_environment(monkeypatch):
    monkeypatch.delenv("QML_PROGRESS", raising=False)
    assert choose_mode(True, io.StringIO()) == "log"
    assert choose_mode(True, _TTY()) == "bar"
    assert choose_mode(False, _TTY()) == "off"
    monkeypatch.setenv("QML_PROGRESS", "off")
    assert choose_mode(True, _TTY()) == "off"
    monkeypatch.setenv("QML_PROGRESS", "fancy")
    with pytest.raises(ConfigurationError, match="QML_PROGRESS"):
        choose_mode(True, io.StringIO())


def test_log_mode_writes_first_last_and_interval_lines_only():
    out = io.StringIO()
    bar = EpochProgress(300, stream=out, mode="log", interval=3600)
    for epoch in range(1, 301):
        bar.start_epoch(epoch)
        bar.step_done(0)
        bar.epoch_done({"epoch": epoch, "train_loss": 1.0 / epoch, "val_loss": 2.0 / epoch})
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines  # 300 epochs, an hour between lines: the first and the last
    assert lines[0].startswith("fit: epoch 1/300, loss 1, val 2")
    assert lines[1].startswith("fit: epoch 300/300, loss 0.00333, val 0.00667")
    every = io.StringIO()
    bar = EpochProgress(5, stream=every, mode="log", interval=0)
    for epoch in range(1, 6):
        bar.start_epoch(epoch)
        bar.epoch_done({"epoch": epoch, "train_loss": 1.0, "val_loss": None})
    bar.close()
    assert [line.split(",")[0] for line in every.getvalue().splitlines()] == [f"fit: epoch {e}/5" for e in range(1, 6)]


def test_early_stop_gets_its_last_line():
    out = io.StringIO()
    bar = EpochProgress(100, stream=out, mode="log", interval=3600)
    for epoch in (1, 2, 3):
        bar.start_epoch(epoch)
        bar.epoch_done({"epoch": epoch, "train_loss": 0.5, "val_loss": None})
    bar.close()
    assert out.getvalue().splitlines()[-1].startswith("fit: epoch 3/100, loss 0.5")


def test_step_lines_report_jobs_sent_and_received():
    out = io.StringIO()
    bar = EpochProgress(2, steps=3, stream=out, mode="log", interval=0)
    bar.start_epoch(1)
    for step in range(3):
        with context.step("run", 1, step):
            context.record("jobs", 1)  # as a hardware executor does when it submits
        bar.step_done(step)
    bar.epoch_done({"epoch": 1, "train_loss": 0.1, "val_loss": None, "jobs": 3})
    bar.close()
    lines = out.getvalue().splitlines()
    assert "fit: epoch 1/2 step 0/3, jobs 1 sent, 0 back, waiting" in lines[0]  # job out, step running
    assert any("epoch 1/2 step 3/3, jobs 3 sent, 3 back (" in line for line in lines)
    assert lines[-1].startswith("fit: epoch 1/2, loss 0.1, jobs 3 (")
    assert bar._listener is None  # the listener is removed on close


def test_bar_mode_draws_a_bar_and_a_step_bar_for_jobs():
    out = _TTY()
    bar = EpochProgress(2, steps=2, stream=out, mode="bar")
    bar.start_epoch(1)
    with context.step("run", 1, 0):
        context.record("jobs", 1)
    assert bar._step_bar is not None and "jobs 1 sent, 0 back, waiting" in str(bar._step_bar)
    bar.step_done(0)
    bar.epoch_done({"epoch": 1, "train_loss": 0.25, "val_loss": None, "jobs": 1})
    assert bar._step_bar is None and bar._bar.n == 1
    bar.close()
    assert "loss=0.25" in out.getvalue()


def test_fit_in_a_log_writes_a_handful_of_lines(monkeypatch, capsys):
    monkeypatch.setenv("QML_PROGRESS", "log")
    x, y = _data()
    torch.manual_seed(0)
    model = qml.HybridModel(3, 1, n_qubits=2, layers=1, hidden=4, backend="default.qubit")
    qml.fit(model, (x, y), epochs=40, lr=0.01, batch_size=8)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("fit: epoch 1/40") and err[-1].startswith("fit: epoch 40/40")


def test_auto_defaults():
    """The recipe of qml.train.defaults: (optimizer, lr, batch_size, schedule, epochs)."""
    model = torch.nn.Linear(3, 1)
    kw = dict(optimizer="auto", lr=None, batch_size=None, schedule="auto")
    # small supervised data: full-batch L-BFGS, 50 epochs
    assert resolve(model, 40, variational=False, **kw) == ("lbfgs", 1.0, 40, None, 50)
    # larger data: the Adam recipe, lr 0.02, cosine, epochs for ~3000 steps (1600 samples: 50 steps x 60)
    assert resolve(model, 1600, variational=False, **kw) == ("adam", 0.02, 32, "cosine", 60)
    assert resolve(model, FULL_BATCH_MAX + 1, variational=False, **kw) == ("adam", 0.02, 32, "cosine", 91)
    assert resolve(model, 10**6, variational=False, **kw)[4] == 20  # at least MIN_EPOCHS
    # epochs set by hand: a constant rate, so that the run can be resumed with more epochs
    assert resolve(model, 1600, variational=False, epochs=10, **kw) == ("adam", 0.02, 32, None, 10)
    # a mini-batch asked for on small data: plain Adam; explicit values are kept
    assert resolve(model, 40, variational=False, optimizer="auto", lr=0.03, batch_size=8, schedule="auto") == (
        "adam",
        0.03,
        8,
        None,
        50,
    )
    # a variational model (PESModel) on an exact backend: full-batch L-BFGS, 60 epochs (issue 21)
    assert resolve(model, 6, variational=True, **kw) == ("lbfgs", 1.0, 6, None, 60)
    # an optimizer named by hand keeps the plain defaults
    assert resolve(model, 40, variational=False, optimizer="sgd", lr=None, batch_size=None, schedule=None) == (
        "sgd",
        1e-2,
        32,
        None,
        50,
    )
    assert resolve(model, 1600, variational=False, optimizer="adam", lr=None, batch_size=None, schedule="auto") == (
        "adam",
        1e-2,
        32,
        None,
        50,
    )


def test_auto_avoids_lbfgs_with_shots():
    sampled = qml.HybridModel(1, 1, n_qubits=2, layers=1, hidden=0, backend="default.qubit", shots=100, seed=1)
    exact = qml.HybridModel(1, 1, n_qubits=2, layers=1, hidden=0, backend="default.qubit")
    kw = dict(variational=False, optimizer="auto", lr=None, batch_size=None, schedule="auto")
    assert resolve(sampled, 40, **kw) == ("adam", 1e-2, 32, None, 50)  # sampled backends: unchanged
    assert resolve(exact, 40, **kw)[0] == "lbfgs"
    # a variational model with shots: Adam as before (the noisy-device recipe), not L-BFGS
    assert resolve(sampled, 6, **dict(kw, variational=True)) == ("adam", 1e-2, 32, None, 50)


def test_fit_defaults_reach_a_small_loss_and_normalise_by_themselves():
    x, y = _data(32)
    torch.manual_seed(0)
    model = qml.HybridModel(3, 1, n_qubits=2, layers=1, hidden=4, backend="default.qubit")
    assert not bool(model.normalization_set)
    history = qml.fit(model, (x, y), epochs=8, progress=False)
    assert history.config["optimizer"] == "lbfgs" and history.config["batch_size"] == 32
    # The buffers hold the training data's statistics, as set_normalization would.
    assert bool(model.normalization_set)
    torch.testing.assert_close(model.y_mean, y.mean(0))
    torch.testing.assert_close(model.x_std, x.std(0))
    assert history.train_loss[-1] < 0.05 * history.train_loss[0]  # standardised loss, converging
    with torch.no_grad():
        mae = (model(x) - y).abs().mean().item()
    assert mae < 0.1 * y.std().item()  # predictions in Hartree, close to the targets


def test_user_normalisation_is_kept_and_can_be_switched_off():
    x, y = _data()
    model = qml.HybridModel(3, 1, n_qubits=2, layers=1, hidden=4, backend="default.qubit")
    model.set_normalization(x * 2, y * 3)
    before = model.y_mean.clone()
    qml.fit(model, (x, y), epochs=1, progress=False)
    torch.testing.assert_close(model.y_mean, before)
    off = qml.HybridModel(3, 1, n_qubits=2, layers=1, hidden=4, backend="default.qubit", normalize=False)
    qml.fit(off, (x, y), epochs=1, progress=False)
    assert not bool(off.normalization_set) and torch.equal(off.y_mean, torch.zeros(1))


def test_state_dicts_without_the_flag_still_load():
    x, y = _data()
    trained = qml.HybridModel(3, 1, n_qubits=2, layers=1, hidden=4, backend="default.qubit").set_normalization(x, y)
    old = {k: v for k, v in trained.state_dict().items() if k != "normalization_set"}  # written by qml 0.1.0
    fresh = qml.HybridModel(3, 1, n_qubits=2, layers=1, hidden=4, backend="default.qubit")
    fresh.load_state_dict(old)
    assert bool(fresh.normalization_set)
    untouched = qml.HybridModel(3, 1, n_qubits=2, layers=1, hidden=4, backend="default.qubit")
    blank = {k: v for k, v in untouched.state_dict().items() if k != "normalization_set"}
    untouched.load_state_dict(blank)
    assert not bool(untouched.normalization_set)
    with pytest.raises(qml.errors.DataError, match=r"features of shape \(N, 3\)"):
        fresh.set_normalization(x[:, :2], y)


# --------------------------------------------------------------------------- qml.progress: the one mechanism
def test_progress_bar_in_a_log_writes_first_last_and_sparse_lines():
    from qml.progress import progress_bar

    out = io.StringIO()
    items = list(progress_bar(range(50), desc="rows", unit="row", stream=out, mode="log"))
    lines = out.getvalue().splitlines()
    assert items == list(range(50))
    assert len(lines) == 2  # the first and the last item; the 30 s interval is not reached in between
    assert lines[0].startswith("rows: 1/50 row (") and lines[-1].startswith("rows: 50/50 row (")
    off = io.StringIO()
    with progress_bar(total=3, stream=off, enabled=False) as bar:
        bar.update(3)
    assert off.getvalue() == "" and bar.mode == "off"


def test_progress_bar_postfix_and_total_as_first_argument(monkeypatch):
    from qml.progress import progress_bar

    monkeypatch.setenv("QML_PROGRESS_INTERVAL", "0")  # every update writes a line
    out = io.StringIO()
    with progress_bar(3, desc="VQE H2", unit="step", stream=out, mode="log") as bar:
        for _ in range(3):
            bar.update(1)
            bar.set_postfix(E="-1.137")
    lines = out.getvalue().splitlines()
    assert bar.total == 3 and len(lines) == 3
    assert lines[1].startswith("VQE H2: 2/3 step, E=-1.137 (")


def test_map_tasks_progress_goes_through_the_one_mechanism(monkeypatch, capsys):
    from qml import parallel

    monkeypatch.setenv("QML_PROGRESS", "log")
    assert parallel.map_tasks(abs, [-1, -2, -3], progress=True, desc="tasks") == [1, 2, 3]
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in err] == ["tasks: 1/3 task", "tasks: 3/3 task"]
