"""Callbacks on the fit protocol: called directly with a FitState-like object (the dispatch is fit's)."""

import csv
from types import SimpleNamespace

import pytest
import torch

import qml
from qml.errors import ConfigurationError
from qml.train.callbacks import CSVLogger, EarlyStopping, LivePlot, TensorBoardLogger
from qml.train.history import History

LOSSES = [(1.0, 1.2), (0.5, 0.7), (0.4, 0.75), (0.41, 0.72), (0.39, 0.8)]


def _run(callbacks, losses=LOSSES, val=True):
    """Drive the hooks as fit does: steps, then the epoch's record, on_epoch_end, stop after the epoch."""
    history = History()
    state = SimpleNamespace(
        model=None,
        optimizer=None,
        epoch=0,
        step=0,
        loss=None,
        val_loss=None,
        history=history,
        checkpoint_path=None,
        stop=False,
    )
    for epoch, (train, v) in enumerate(losses, start=1):
        for _ in range(2):
            state.step += 1
            state.loss = train + 0.01
            for cb in callbacks:
                getattr(cb, "on_step_end", lambda s: None)(state)
        history.append({"epoch": epoch, "train_loss": train, "val_loss": v if val else None, "lr": 0.01, "time": 0.1})
        state.epoch, state.loss, state.val_loss = epoch, train, v if val else None
        for cb in callbacks:
            getattr(cb, "on_epoch_end", lambda s: None)(state)
        if state.stop:
            break
    for cb in callbacks:
        getattr(cb, "on_fit_end", lambda s: None)(state)
    return state


def test_csv_logger_writes_every_epoch(tmp_path):
    path = tmp_path / "log.csv"
    _run([CSVLogger(path)])
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5]
    assert [float(r["val_loss"]) for r in rows] == [v for _, v in LOSSES]
    with pytest.raises(ConfigurationError, match="does not exist"):
        CSVLogger(tmp_path / "missing" / "log.csv")
    with pytest.raises(TypeError, match="path must be a file path"):
        CSVLogger(None)


def test_early_stopping_on_val_and_train_loss():
    es = EarlyStopping(patience=2)
    state = _run([es])
    # val: 1.2, 0.7 (best, epoch 2), 0.75, 0.72 -> two epochs without improvement: stop after epoch 4
    assert (state.stop, state.epoch, es.best_epoch, es.stopped_epoch, es.best) == (True, 4, 2, 4, 0.7)
    es = EarlyStopping(patience=2, monitor="train_loss", min_delta=0.05)
    state = _run([es])
    # train: 1.0, 0.5, 0.4 (improves by 0.1), 0.41, 0.39 (not by more than 0.05) -> stop after epoch 5
    assert (state.stop, es.best_epoch, es.stopped_epoch) == (True, 3, 5)
    assert _run([EarlyStopping(patience=10)]).stop is False
    with pytest.raises(ConfigurationError, match="needs validation data"):
        _run([EarlyStopping(monitor="val_loss")], val=False)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: EarlyStopping(patience=0), ConfigurationError, "patience must be >= 1"),
        (lambda: EarlyStopping(patience=1.5), TypeError, "patience must be a positive integer"),
        (lambda: EarlyStopping(min_delta=-1), ConfigurationError, "min_delta must be"),
        (lambda: EarlyStopping(monitor="loss"), ConfigurationError, "monitor must be"),
        (lambda: LivePlot(every=0), ConfigurationError, "every must be >= 1"),
        (lambda: LivePlot(logy="yes"), TypeError, "logy must be True or False"),
    ],
)
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_tensorboard_logger_writes_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _run([TensorBoardLogger(tmp_path / "tb")])
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert {"loss/step", "loss/train", "loss/val", "lr", "time"} <= set(events.Tags()["scalars"])
    assert [e.value for e in events.Scalars("loss/train")] == pytest.approx([t for t, _ in LOSSES])
    assert [e.step for e in events.Scalars("loss/step")] == list(range(1, 11))


class _Handle:
    def __init__(self):
        self.updates = 0

    def update(self, fig):
        self.updates += 1
        self.fig = fig


def test_live_plot_updates_one_figure_in_place():
    plot = LivePlot(every=2)
    plot._handle = _Handle()  # as if displayed once in a notebook (IPython's display_id handle)
    _run([plot])
    # epochs 2 and 4 (every=2) and once at the end
    assert plot._handle.updates == 3 and plot._handle.fig is plot.figure
    train, val = plot.figure.axes[0].get_lines()
    assert list(train.get_ydata()) == [t for t, _ in LOSSES]
    assert list(val.get_ydata()) == [v for _, v in LOSSES]


def test_live_plot_outside_ipython_draws_nothing_visible():
    plot = LivePlot()
    _run([plot], losses=LOSSES[:2])
    assert plot._handle is None and plot.figure is not None  # no kernel: nothing displayed, figure kept


# ---------------------------------------------------------------------- end to end through qml.fit
def _data(n=48):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)


def _model():
    torch.manual_seed(0)
    return torch.nn.Linear(3, 1).double()


def test_fit_with_csv_logger_and_early_stopping(tmp_path):
    x, y = _data()
    es = EarlyStopping(patience=2, min_delta=1e9)  # nothing counts as an improvement after epoch 1
    log = tmp_path / "log.csv"
    history = qml.fit(_model(), (x, y), val=(x[:8], y[:8]), epochs=20, optimizer="adam", batch_size=16,
                      callbacks=[CSVLogger(log), es], progress=False)  # fmt: skip
    assert len(history) == 3 and history.stopped_early and es.stopped_epoch == 3
    rows = list(csv.DictReader(log.open()))
    assert [float(r["train_loss"]) for r in rows] == history.train_loss
    assert [float(r["val_loss"]) for r in rows] == history.val_loss


def test_fit_with_tensorboard_and_live_plot(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    x, y = _data()
    plot = LivePlot()
    history = qml.fit(_model(), (x, y), epochs=3, optimizer="adam", batch_size=16, progress=False,
                      callbacks=[TensorBoardLogger(tmp_path / "tb"), plot])  # fmt: skip
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert [e.value for e in events.Scalars("loss/train")] == pytest.approx(history.train_loss)
    assert len(events.Scalars("loss/step")) == 9  # 3 epochs of 3 steps
    assert list(plot.figure.axes[0].get_lines()[0].get_ydata()) == history.train_loss
