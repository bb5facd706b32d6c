"""Callbacks for ``qml.fit(..., callbacks=[...])``: loggers, early stopping, a live loss curve.

The protocol (the Keras/Lightning convention): a callback is any object with any of the methods

* ``on_step_end(state)``: after every optimizer step,
* ``on_epoch_end(state)``: after every epoch (its history record written, validation done),
* ``on_checkpoint(state)``: after a checkpoint was written (``state.checkpoint_path``),
* ``on_fit_end(state)``: once, when training ends (normally or by ``state.stop``).

``state`` is a ``qml.train.FitState`` with ``model, optimizer, epoch`` (completed epochs so far),
``step`` (global optimizer step), ``loss`` (last step / epoch mean), ``val_loss`` (``None`` without
validation data), ``history`` (the :class:`~qml.History`), ``checkpoint_path`` and a writable
``stop``: setting ``state.stop = True`` ends training after the current epoch. A callback that
raises stops ``fit`` with its error.

Here: :class:`CSVLogger`, :class:`TensorBoardLogger` (optional extra ``tensorboard``),
:class:`EarlyStopping` and :class:`LivePlot` (a loss curve that updates in place in Jupyter).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from ..errors import ConfigurationError, check_int


class Callback:
    """Optional base class: every hook does nothing. Any object with some of the hooks works too."""

    def on_step_end(self, state) -> None:
        pass

    def on_epoch_end(self, state) -> None:
        pass

    def on_checkpoint(self, state) -> None:
        pass

    def on_fit_end(self, state) -> None:
        pass


def _path(name: str, path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path, got {type(path).__name__}")
    return Path(path)


class CSVLogger(Callback):
    """Write the history, one row per epoch, to a CSV file after every epoch.

    The file is rewritten whole (atomically) each epoch, so a resumed run's file holds every
    epoch and columns that appear later (counters of hardware jobs) get their own header.

    Args:
        path: the ``.csv`` file; its folder must exist.

    Raises:
        TypeError: ``path`` is not a path. ConfigurationError: its folder does not exist.
    """

    def __init__(self, path):
        self.path = _path("path", path)
        if not self.path.parent.is_dir():
            raise ConfigurationError(f"cannot log to {self.path}: the folder {self.path.parent} does not exist")

    def on_epoch_end(self, state) -> None:
        from ..tables import history, write_csv

        tmp = self.path.with_name(self.path.name + ".tmp")
        write_csv(history(state.history), tmp)
        os.replace(tmp, self.path)


class TensorBoardLogger(Callback):
    """Scalars for TensorBoard (``torch.utils.tensorboard``; optional extra ``tensorboard``).

    Logs ``loss/step`` after every step and ``loss/train``, ``loss/val``, ``lr`` and numeric
    counters of the epoch's history record after every epoch; closes the writer at the end.

    Args:
        log_dir: the run's folder (``tensorboard --logdir`` its parent).

    Raises:
        TypeError: ``log_dir`` is not a path. MissingDependencyError: tensorboard is not installed.
    """

    def __init__(self, log_dir):
        self.log_dir = _path("log_dir", log_dir)
        from ..chem.io import require

        require("tensorboard")
        self._writer = None

    @property
    def writer(self):
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.log_dir))
        return self._writer

    def on_step_end(self, state) -> None:
        if state.loss is not None:
            self.writer.add_scalar("loss/step", float(state.loss), int(state.step))

    def on_epoch_end(self, state) -> None:
        record = state.history.records[-1] if state.history.records else {}
        epoch = int(record.get("epoch", state.epoch))
        names = {"train_loss": "loss/train", "val_loss": "loss/val"}
        for key, value in record.items():
            if key == "epoch" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                self.writer.add_scalar(names.get(key, key), float(value), epoch)
        self.writer.flush()

    def on_fit_end(self, state) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved by ``min_delta`` for ``patience`` epochs.

    Args:
        patience: epochs without improvement before stopping (>= 1).
        min_delta: smallest decrease that counts as an improvement (>= 0).
        monitor: ``"auto"`` (validation loss when there is one, else training loss), ``"val_loss"``
            or ``"train_loss"``.

    Attributes:
        best, best_epoch: the best score and its epoch; stopped_epoch: when it stopped (or ``None``).

    Raises:
        TypeError / ConfigurationError: bad ``patience``, ``min_delta`` or ``monitor``; with
            ``monitor="val_loss"``, an epoch without validation loss.
    """

    def __init__(self, patience: int = 10, *, min_delta: float = 0.0, monitor: str = "auto"):
        self.patience = check_int("patience", patience, 1)
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) or not min_delta >= 0:
            raise ConfigurationError(f"min_delta must be a number >= 0, got {min_delta!r}")
        if monitor not in ("auto", "val_loss", "train_loss"):
            raise ConfigurationError(f"monitor must be 'auto', 'val_loss' or 'train_loss', got {monitor!r}")
        self.min_delta, self.monitor = float(min_delta), monitor
        self.best, self.best_epoch, self.stopped_epoch, self._since = math.inf, None, None, 0

    def on_epoch_end(self, state) -> None:
        if self.monitor == "val_loss" and state.val_loss is None:
            raise ConfigurationError("EarlyStopping(monitor='val_loss') needs validation data: pass val= to fit")
        use_val = self.monitor == "val_loss" or (self.monitor == "auto" and state.val_loss is not None)
        score = float(state.val_loss if use_val else state.loss)
        if score < self.best - self.min_delta:
            self.best, self.best_epoch, self._since = score, state.epoch, 0
        else:
            self._since += 1
        if self._since >= self.patience:
            self.stopped_epoch = state.epoch
            state.stop = True


class LivePlot(Callback):
    """A loss curve that redraws in place in a Jupyter notebook (train, and val when given).

    Outside IPython it draws nothing (``fit``'s progress bar still runs). The figure stays
    available as ``.figure`` after training.

    Args:
        every: redraw every this many epochs (>= 1); the last epoch is always drawn.
        logy: logarithmic loss axis (losses must be positive; falls back to linear otherwise).
    """

    def __init__(self, every: int = 1, *, logy: bool = False):
        self.every = check_int("every", every, 1)
        if not isinstance(logy, bool):
            raise TypeError(f"logy must be True or False, got {logy!r}")
        self.logy = logy
        self.figure = None
        self._handle = None

    def _display(self, fig):
        """Show ``fig`` the first time, then update the same output (IPython's display_id)."""
        if self._handle is None:
            try:
                from IPython import get_ipython
                from IPython.display import display
            except ImportError:
                return
            if get_ipython() is None:
                return
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)

    def draw(self, history):
        """Draw ``history`` (a :class:`~qml.History`) into :attr:`figure` and return it."""
        if self.figure is None:
            from matplotlib.figure import Figure

            self.figure = Figure(figsize=(5, 3.2))
            self.figure.add_subplot(111)
        ax = self.figure.axes[0]
        ax.clear()
        epochs = history.epochs
        ax.plot(epochs, history.train_loss, "o-", ms=3, label="train")
        val = history.val_loss
        if any(v is not None for v in val):
            ax.plot(
                [e for e, v in zip(epochs, val) if v is not None],
                [v for v in val if v is not None],
                "s-",
                ms=3,
                label="val",
            )
        losses = [v for v in history.train_loss + val if v is not None]
        if self.logy and losses and min(losses) > 0:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend()
        ax.grid(alpha=0.3)
        return self.figure

    def on_epoch_end(self, state) -> None:
        if state.epoch % self.every == 0 or state.stop:
            self._display(self.draw(state.history))

    def on_fit_end(self, state) -> None:
        if state.history.records:
            self._display(self.draw(state.history))
