"""What ``fit`` tells its callbacks: :class:`FitState` and the dispatch of the four hooks.

A callback is any object with any of the methods ``on_step_end(state)``, ``on_epoch_end(state)``,
``on_checkpoint(state)`` and ``on_fit_end(state)`` (loggers, early stopping, live plots in
:mod:`qml.train.callbacks`). ``fit`` calls them in the order given; an error raised by a callback
propagates (``fit`` swallows nothing). Setting ``state.stop = True`` ends training after the
current epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from .history import History

#: The hooks, in the order they can fire within an epoch (``on_fit_end`` once, at the end).
HOOKS = ("on_step_end", "on_epoch_end", "on_checkpoint", "on_fit_end")


@dataclass
class FitState:
    """The state of a running ``fit``, handed to every callback hook.

    Attributes:
        model: the model being trained (in place).
        optimizer: the torch optimizer.
        epoch: epochs completed so far (0 during the first epoch; ``on_epoch_end`` of the first
            epoch sees 1). A resumed run starts from the epochs already done.
        step: optimizer steps taken so far, over the whole run (a resumed run counts the earlier ones).
        loss: the last step's loss in ``on_step_end``; the epoch's mean training loss afterwards.
        val_loss: the last validation loss, ``None`` without validation data (or before the first epoch ends).
        history: the run's :class:`~qml.train.History` (the current epoch is in it from ``on_epoch_end`` on).
        checkpoint_path: the file just written, in ``on_checkpoint`` only; ``None`` otherwise.
        checkpoint_dir: the run's folder, ``None`` without ``checkpoint_dir``.
        run_id: the run's identifier (tags hardware jobs; stored in the checkpoint).
        record: the last complete epoch record (``train_loss``, ``val_loss``, ``lr``, ``time``, counters).
        stop: set it to ``True`` to end training after the current epoch.
    """

    model: nn.Module
    optimizer: object
    history: History
    epoch: int = 0
    step: int = 0
    loss: float | None = None
    val_loss: float | None = None
    checkpoint_path: Path | None = None
    checkpoint_dir: Path | None = None
    run_id: str | None = None
    record: dict | None = None
    stop: bool = False


class Callbacks:
    """The callbacks of one ``fit`` call, validated once; :meth:`fire` calls a hook on each.

    Raises:
        TypeError: ``callbacks`` is not a list/tuple of objects, or an object has none of the hooks.
    """

    def __init__(self, callbacks=None):
        if callbacks is None:
            callbacks = ()
        if not isinstance(callbacks, (list, tuple)):
            raise TypeError(
                f"callbacks must be a list of objects with on_step_end/on_epoch_end/on_checkpoint/on_fit_end "
                f"methods, got {type(callbacks).__name__}; wrap a single callback in a list: callbacks=[cb]"
            )
        for cb in callbacks:
            if isinstance(cb, (str, bytes, type)) or not any(callable(getattr(cb, h, None)) for h in HOOKS):
                raise TypeError(
                    f"callback {cb!r} has none of the methods {', '.join(HOOKS)}; pass an instance of a class that "
                    "defines at least one of them"
                )
        self.callbacks = tuple(callbacks)

    def fire(self, hook: str, state: FitState) -> None:
        """Call ``hook(state)`` on every callback that defines it, in order."""
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:
                method(state)

    def __bool__(self) -> bool:
        return bool(self.callbacks)
