"""qml.fit's callback dispatch: hooks, their order, FitState's values, state.stop, errors and bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import qml
from qml.train import FitState


def _data(n=12):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 2, generator=g, dtype=torch.float64)
    return x, x.sum(1, keepdim=True)


def _model():
    torch.manual_seed(0)
    return nn.Linear(2, 1).double()


class Recorder:
    def __init__(self):
        self.calls = []

    def _take(self, hook, s: FitState):
        self.calls.append((hook, s.epoch, s.step, s.loss, s.val_loss, s.checkpoint_path))

    def on_step_end(self, s):
        self._take("step", s)

    def on_epoch_end(self, s):
        self._take("epoch", s)

    def on_checkpoint(self, s):
        assert s.checkpoint_path.exists()
        self._take("checkpoint", s)

    def on_fit_end(self, s):
        self._take("end", s)


def test_callbacks_see_every_hook_in_order_with_the_state_of_the_run(tmp_path):
    rec = Recorder()
    x, y = _data()
    kw = dict(epochs=2, lr=0.1, batch_size=4, optimizer="adam", progress=False)
    history = qml.fit(_model(), (x, y), val=(x[:4], y[:4]), checkpoint_dir=tmp_path, callbacks=[rec], **kw)
    hooks = [c[0] for c in rec.calls]
    assert hooks == ["step"] * 3 + ["epoch", "checkpoint"] + ["step"] * 3 + ["epoch", "checkpoint", "end"]
    steps = [c for c in rec.calls if c[0] == "step"]
    assert [c[2] for c in steps] == [1, 2, 3, 4, 5, 6]  # global optimizer steps
    assert [c[1] for c in steps] == [0, 0, 0, 1, 1, 1]  # epochs completed so far
    epochs = [c for c in rec.calls if c[0] == "epoch"]
    assert [c[1] for c in epochs] == [1, 2]
    assert [c[3] for c in epochs] == history.train_loss and [c[4] for c in epochs] == history.val_loss
    assert all(c[5] is None for c in rec.calls if c[0] != "checkpoint")
    assert {c[5] for c in rec.calls if c[0] == "checkpoint"} == {tmp_path / "checkpoint.pt"}
    # the same run without callbacks trains to the same loss: the dispatch changes nothing
    again = qml.fit(_model(), (x, y), val=(x[:4], y[:4]), **kw)
    assert again.train_loss == history.train_loss


def test_state_stop_ends_training_after_the_current_epoch():
    class StopAfterTwo:
        def on_epoch_end(self, s):
            s.stop = s.epoch >= 2

    history = qml.fit(_model(), _data(), epochs=10, lr=0.1, batch_size=4, progress=False, callbacks=[StopAfterTwo()])
    assert history.epochs == [1, 2] and history.stopped_early


def test_an_error_in_a_callback_propagates():
    class Boom:
        def on_step_end(self, s):
            if s.step == 2:
                raise RuntimeError("callback failed at step 2")

    with pytest.raises(RuntimeError, match="callback failed at step 2"):
        qml.fit(_model(), _data(), epochs=3, batch_size=4, progress=False, callbacks=[Boom()])


def test_bad_callbacks_are_a_type_error_before_training():
    with pytest.raises(TypeError, match=r"callbacks must be a list .* got Recorder; wrap a single callback"):
        qml.fit(_model(), _data(), epochs=1, progress=False, callbacks=Recorder())
    with pytest.raises(TypeError, match="has none of the methods on_step_end, on_epoch_end"):
        qml.fit(_model(), _data(), epochs=1, progress=False, callbacks=[object()])
    with pytest.raises(TypeError, match="has none of the methods"):
        qml.fit(_model(), _data(), epochs=1, progress=False, callbacks=[Recorder])  # the class, not an instance
