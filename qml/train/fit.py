"""``qml.fit``: one training loop for every qml model (and any ``nn.Module`` regressor).

We wrote the loop ourselves rather than adopt PyTorch Lightning: our models are
small, the loop is a few short functions, and exact resume parity (same weights as an
uninterrupted run) needs control of shuffling and RNG state per epoch that
Lightning's mid-run resume does not promise; it would also add a heavy
dependency to every install.
"""

from __future__ import annotations

import copy
import math
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ..backends import context
from ..errors import (
    ConfigurationError,
    DataError,
    NonFiniteLossError,
    check_bool,
    check_choice,
    check_int,
    check_number,
    one_of,
)
from . import defaults
from .checkpoint import save_checkpoint, write_run_file
from .data import as_pairs
from .history import History, score
from .lease import hold_run
from .preflight import evals_per_step, preflight, train_calls
from .progress import EpochProgress
from .resume import open_checkpoint_dir, restore, run_config, setting_name
from .state import Callbacks, FitState

LOSSES: dict[str, Callable] = {
    "mse": nn.functional.mse_loss,
    "mae": nn.functional.l1_loss,
    "huber": nn.functional.huber_loss,
}
OPTIMIZERS = {"auto": None, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD, "lbfgs": None}


class _NonFinite(Exception):
    def __init__(self, value: float):
        self.value = value


def fit(
    model: nn.Module,
    train,
    val=None,
    *,
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    loss="mse",
    optimizer="auto",
    schedule: str | None = "auto",
    seed: int = 0,
    checkpoint_dir=None,
    resume: bool = False,
    overwrite: bool = False,
    early_stopping: int | None = None,
    min_delta: float = 0.0,
    progress: bool = True,
    run_id: str | None = None,
    callbacks=None,
    wait: bool = False,
    workers: int | None = None,
) -> History:
    """Train ``model`` and return its :class:`History`.

    Supervised models (``qml.HybridModel`` or any ``nn.Module``) take ``train``/``val`` as a
    ``(features, targets)`` pair or a Dataset of ``(x, y)`` (``qml.load_dataset`` returns one).
    Variational models (``qml.PESModel``) define ``variational_data(data, name)`` and
    ``variational_loss(batch)``; for them ``train`` is a list of geometries.

    Args:
        model: the module to train (in place).
        train: training data, see above.
        val: optional validation data of the same kind, evaluated after every epoch.
        epochs: total number of epochs (with ``resume=True``, including those already done);
            default: the recipe's (:mod:`qml.train.defaults`: 60 L-BFGS epochs for a variational
            model, 50 for small supervised data, enough Adam epochs for ~3000 steps otherwise).
        lr: learning rate (default: 1 for L-BFGS, 0.02 for the Adam recipe, 1e-2 otherwise).
        batch_size: samples per optimizer step (default: the whole training set for L-BFGS, 32
            otherwise).
        loss: ``"mse"``, ``"mae"``, ``"huber"`` or a function ``loss(pred, target)``.
        optimizer: ``"auto"`` (default: full-batch L-BFGS for variational models and supervised
            data sets of at most 1024 samples on exact backends when no smaller ``batch_size`` is
            asked for, Adam otherwise; see :mod:`qml.train.defaults`), ``"adam"``, ``"adamw"``, ``"sgd"``, ``"lbfgs"``
            (full-batch quasi-Newton with a line search, 20 iterations per step: use it with
            ``batch_size`` >= the data and ``lr=1``; it suits variational models such as
            ``PESModel``) or a function ``params -> Optimizer``.
        schedule: ``"auto"`` (default: a cosine decay for the Adam recipe when ``epochs`` is left to
            the recipe; constant otherwise, so that a run with ``epochs`` set may be resumed with more),
            ``None`` (constant ``lr``) or ``"cosine"`` (cosine decay from ``lr`` to 0 over
            ``epochs``, stepped once per epoch).
        seed: a non-negative int; seeds the shuffling of every epoch and torch's RNG.
        checkpoint_dir: folder for ``checkpoint.pt`` (the previous one kept as ``checkpoint.prev.pt``),
            ``resume.json`` (run id and settings, written before the first step) and ``history.json``;
            checked for writability before training, rewritten atomically after every epoch.
        resume: continue the run in ``checkpoint_dir``: the same weights at the end as an
            uninterrupted run, shot samplers included; a run killed before its first checkpoint
            restarts with its run id, so hardware jobs that finished are reused. Starts afresh
            when the folder holds no run. The settings, data values and model must be those of the
            saved run (``epochs`` may grow, except with ``schedule="cosine"``).
        overwrite: allow starting afresh over an existing checkpoint.
        early_stopping: stop after this many epochs without improvement of the validation loss
            (training loss without ``val``).
        min_delta: smallest decrease of that loss that counts as an improvement (finite, >= 0).
        progress: show progress: a bar in terminals and notebooks, a line every 30 s in logs
            (see :mod:`qml.train.progress`; ``QML_PROGRESS`` overrides the form).
        run_id: identifier passed to hardware executors to tag jobs (default: stored in the
            checkpoint, or a new random id).
        callbacks: a list of objects with any of ``on_step_end(state)``, ``on_epoch_end(state)``,
            ``on_checkpoint(state)``, ``on_fit_end(state)``; ``state`` is a :class:`qml.train.FitState`
            (setting ``state.stop = True`` ends training after the current epoch). Called in order;
            an error raised by a callback propagates.
        wait: when another live process holds ``checkpoint_dir`` (or its run id), wait for it to
            finish instead of raising :class:`~qml.errors.LeaseHeldError`. A run has one owner: with
            ``checkpoint_dir``, fit holds a lease on the folder and on the run id
            (:mod:`qml.train.lease`) until it returns, so two processes never pay for the same step.
        workers: split every batch over this many local processes (``torch.distributed``, gloo on
            CPU; see :mod:`qml.train.distributed`): the same result as one process to round-off,
            exact backends only. ``None``/1: this process. Callbacks then run in process 0 (a copy:
            their files are written, their attributes stay there).

    Returns:
        History with one record per epoch.

    Raises:
        ConfigurationError: bad hyperparameters, an unusable ``checkpoint_dir``, ``resume`` without
            ``checkpoint_dir``, or an existing run without ``resume`` or ``overwrite``.
        CheckpointError: (a ConfigurationError) the checkpoint and its backup are damaged or unsafe,
            or were written with other settings, data or model.
        DataError / TypeError: malformed data, or targets whose width is not the model's output.
        TypeError: ``callbacks`` is not a list of objects with at least one of the hooks.
        LeaseHeldError: another live process owns ``checkpoint_dir`` or ``run_id`` (``wait=False``);
            the message names it (pid, host, last heartbeat).
        NonFiniteLossError: the loss became NaN or inf; the model is restored to the start of that
            epoch and the last good checkpoint is left intact.
    """
    callbacks = Callbacks(callbacks)
    settings = _check_settings(
        model, epochs=epochs, lr=lr, batch_size=batch_size, optimizer=optimizer, schedule=schedule, seed=seed,
        early_stopping=early_stopping, min_delta=min_delta, run_id=run_id,
        flags={"resume": resume, "overwrite": overwrite, "progress": progress, "wait": wait},
    )  # fmt: skip
    if resume and checkpoint_dir is None:
        raise ConfigurationError("resume=True needs checkpoint_dir (the folder of the run to continue)")
    loss_fn = _loss(loss)
    if workers is not None and check_int("workers", workers, 1) > 1:  # qml.train.distributed (interop)
        from .distributed import fit as fit_distributed

        return fit_distributed(
            model, train, val, workers=workers, epochs=epochs, lr=lr, batch_size=batch_size, loss=loss,
            optimizer=optimizer, schedule=schedule, seed=seed, checkpoint_dir=checkpoint_dir, resume=resume,
            overwrite=overwrite, early_stopping=early_stopping, min_delta=min_delta, progress=progress,
            run_id=run_id, callbacks=list(callbacks.callbacks), wait=wait,
        )  # fmt: skip
    ckpt_dir = open_checkpoint_dir(checkpoint_dir)  # before any data preparation or training
    with hold_run(ckpt_dir, wait=wait) as run_lease:  # one owner per run (a second process: LeaseHeldError)
        run = _prepare(model, train, val, loss, loss_fn, optimizer, settings, ckpt_dir, progress)
        restore(run, resume=resume, overwrite=overwrite)
        _start(run)
        if ckpt_dir is not None:  # and its run id (its jobs in the job store), before the first job is sent
            run_lease.take_run(run.run_id)
        run.lease = run_lease
        return _train(run, callbacks)


@dataclass
class _Run:
    """What one ``fit`` call settles before its first step (and what the loop updates)."""

    model: nn.Module
    train_set: object
    val_set: object
    loss_fn: Callable
    variational: bool
    opt: torch.optim.Optimizer
    sched: object
    lr: float
    batch_size: int
    seed: int
    epochs: int
    early_stopping: int | None
    min_delta: float
    progress: bool
    config: dict
    history: History
    ckpt_dir: Path | None
    run_id: str | None
    start: int = 1
    lease: object = None


def _check_settings(model, *, epochs, lr, batch_size, optimizer, schedule, seed, early_stopping, min_delta, run_id,
                    flags) -> dict:  # fmt: skip
    """Validate ``fit``'s settings before any work; return them normalised."""
    out = {
        "epochs": None if epochs is None else check_int("epochs", epochs, 1),
        "batch_size": None if batch_size is None else check_int("batch_size", batch_size, 1),
        "seed": check_int("seed", seed, 0),
        "early_stopping": None if early_stopping is None else check_int("early_stopping", early_stopping, 1),
        "lr": None if lr is None else check_number("lr", lr, positive=True),
    }
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise one_of("optimizer", optimizer, OPTIMIZERS)
    out["min_delta"] = check_number("min_delta", min_delta)
    for flag, value in flags.items():
        check_bool(flag, value)
    if run_id is not None and not (isinstance(run_id, str) and run_id):
        raise TypeError(f"run_id must be a non-empty string or None, got {run_id!r}")
    out["run_id"] = run_id
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (e.g. qml.HybridModel), got {type(model).__name__}")
    if schedule not in (None, "auto", "cosine"):
        raise one_of("schedule", schedule, ["auto", "cosine", "None"])
    out["schedule"] = schedule
    return out


def _prepare(model, train, val, loss, loss_fn, optimizer, s: dict, ckpt_dir, progress: bool) -> _Run:
    """Resolve the defaults: prepared data, optimizer, learning rate, batch size, schedule, run config."""
    variational = hasattr(model, "variational_loss")
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float64)
    prep = (
        (lambda d, n: model.variational_data(d, n, progress=progress))
        if variational
        else (lambda d, n: as_pairs(d, n, dtype))
    )
    train_set = prep(train, "train")
    val_set = prep(val, "val") if val is not None else None
    if not variational:
        for data in (train_set, val_set):
            _check_targets(model, data)
    optimizer, lr, batch_size, schedule, epochs = defaults.resolve(
        model,
        len(train_set),
        variational=variational,
        optimizer=optimizer,
        lr=s["lr"],
        batch_size=s["batch_size"],
        schedule=s["schedule"],
        epochs=s["epochs"],
    )
    if not variational and hasattr(model, "normalize_from"):
        model.normalize_from(train_set.x, train_set.y)  # unless set already (HybridModel.set_normalization)
    opt = _optimizer(optimizer, model.parameters(), lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if schedule == "cosine" else None
    settings = {
        "lr": lr,
        "batch_size": batch_size,
        "seed": s["seed"],
        "optimizer": setting_name(optimizer),
        "loss": setting_name(loss),
        "n_train": len(train_set),
        "schedule": schedule,
        "epochs": epochs,
        "early_stopping": s["early_stopping"],
        "min_delta": s["min_delta"],
    }
    config = run_config(settings, model, train_set, val_set)
    return _Run(
        model, train_set, val_set, loss_fn, variational, opt, sched, lr, batch_size, s["seed"], epochs,
        s["early_stopping"], s["min_delta"], progress, config, History(config=config), ckpt_dir, s["run_id"],
    )  # fmt: skip


def _start(run: _Run) -> None:
    """Seed a fresh run, give it an id, price it on hardware backends and mark it in ``checkpoint_dir``.

    Raises:
        CostLimitError: a hardware backend prices the run above its limits (before any job is sent).
    """
    if run.start == 1:
        torch.manual_seed(run.seed)
    run.run_id = run.run_id or uuid.uuid4().hex[:12]
    calls = train_calls(
        len(run.train_set),
        run.batch_size,
        run.epochs - run.start + 1,
        evals_per_step=evals_per_step(run.opt),
        n_val=len(run.val_set) if run.val_set is not None else 0,
        val_batch_size=max(run.batch_size, 256),
    )
    plans = preflight(run.model, calls)  # hardware backends price the run; CostLimitError before any job
    if plans:
        run.history.config["cost_plan"] = [str(p) for p in plans]
    if run.ckpt_dir is not None and run.start == 1:
        write_run_file(run.ckpt_dir, {"run_id": run.run_id, "config": run.config})  # before the first job is sent


def _train(run: _Run, callbacks: Callbacks) -> History:
    """The epoch loop: steps, epoch record, early stopping, checkpoint, callbacks; returns the history."""
    n_steps = math.ceil(len(run.train_set) / run.batch_size)
    state = FitState(
        model=run.model,
        optimizer=run.opt,
        history=run.history,
        epoch=run.start - 1,
        step=(run.start - 1) * n_steps,
        checkpoint_dir=run.ckpt_dir,
        run_id=run.run_id,
    )
    best = run.history.best_so_far(run.min_delta)
    bar = EpochProgress(run.epochs, initial=run.start - 1, steps=n_steps, enabled=run.progress)
    try:
        for epoch in range(run.start, run.epochs + 1):
            bar.start_epoch(epoch)
            state.epoch = epoch - 1
            record = _run_epoch(run, epoch, bar, state, callbacks)
            stop = _end_epoch(run, record, best, state, callbacks)
            bar.epoch_done(record)
            if stop:
                break
    finally:
        bar.close()
    run.model.eval()
    callbacks.fire("on_fit_end", state)
    return run.history


def _run_epoch(run: _Run, epoch: int, bar, state: FitState, callbacks: Callbacks) -> dict:
    """One pass over the shuffled training data; returns the epoch's history record.

    Raises:
        NonFiniteLossError: a step's loss is NaN or inf (the model is restored to the epoch's start).
    """
    t0 = time.perf_counter()
    good_state = copy.deepcopy(run.model.state_dict()), copy.deepcopy(run.opt.state_dict())
    run.model.train()
    g = torch.Generator().manual_seed(run.seed * 100003 + epoch)
    order = torch.randperm(len(run.train_set), generator=g)
    total, counters, notes = 0.0, {}, {}
    for step, idx in enumerate(order.split(run.batch_size)):
        if run.lease is not None:
            run.lease.check()  # taken over after a stall: stop before paying for this step twice
        with context.step(run.run_id, epoch, step) as ctx:
            try:
                value = _step(run, idx)
            except _NonFinite as bad:
                run.model.load_state_dict(good_state[0])
                run.opt.load_state_dict(good_state[1])
                raise _non_finite_error(run, bad.value, epoch, step) from None
        total += value.item() * len(idx)
        for k, v in ctx.counters.items():
            counters[k] = counters.get(k, 0) + v
        notes.update(ctx.notes)  # e.g. what backend="auto" chose on this epoch's first batch
        bar.step_done(step)
        state.step, state.loss = state.step + 1, value.item()
        callbacks.fire("on_step_end", state)
    record = {
        "epoch": epoch,
        "train_loss": total / len(run.train_set),
        "val_loss": None,
        "lr": run.opt.param_groups[0]["lr"],
        **counters,
        **notes,
    }
    if run.val_set is not None:
        record["val_loss"] = evaluate(
            run.model, run.val_set, run.loss_fn, batch_size=max(run.batch_size, 256), variational=run.variational
        )
    if run.sched is not None:
        run.sched.step()
    record["time"] = time.perf_counter() - t0
    return record


def _step(run: _Run, idx) -> torch.Tensor:
    """One optimizer step on the samples ``idx``; returns the loss (at the step's start for L-BFGS)."""

    def closure():
        run.opt.zero_grad()
        loss_value = _batch_loss(run.model, run.train_set, idx, run.loss_fn, run.variational)
        if not torch.isfinite(loss_value):
            raise _NonFinite(loss_value.item())
        loss_value.backward()
        return loss_value

    if isinstance(run.opt, torch.optim.LBFGS):
        return run.opt.step(closure)  # several evaluations, one line search
    value = closure()
    run.opt.step()
    return value


def _non_finite_error(run: _Run, value: float, epoch: int, step: int) -> NonFiniteLossError:
    where = f"the last good checkpoint in {run.ckpt_dir} is intact" if run.ckpt_dir else "no checkpoint was written"
    return NonFiniteLossError(
        f"loss became {value} at epoch {epoch}, step {step}; the model was restored to "
        f"the start of epoch {epoch} and {where}. Lower lr (now {run.lr}), check the data for "
        "outliers, or normalise targets (HybridModel.set_normalization)."
    )


def _end_epoch(run: _Run, record: dict, best, state: FitState, callbacks: Callbacks) -> bool:
    """History, early stopping, ``on_epoch_end``, checkpoint and ``on_checkpoint``; returns whether to stop."""
    run.history.append(record)
    best.update(score(record), record["epoch"])
    state.epoch, state.loss, state.val_loss, state.record = (
        record["epoch"],
        record["train_loss"],
        record["val_loss"],
        record,
    )
    callbacks.fire("on_epoch_end", state)
    stop = (run.early_stopping is not None and best.since >= run.early_stopping) or state.stop
    run.history.stopped_early = stop
    if run.ckpt_dir is not None:
        state.checkpoint_path = save_checkpoint(
            run.ckpt_dir,
            model=run.model,
            optimizer=run.opt,
            epoch=record["epoch"],
            history=run.history,
            config=run.config,
            extra={"run_id": run.run_id, "scheduler": run.sched.state_dict() if run.sched else None},
        )
        callbacks.fire("on_checkpoint", state)
        state.checkpoint_path = None
    return stop


def evaluate(model, data, loss_fn="mse", *, batch_size: int = 256, variational: bool | None = None) -> float:
    """Mean loss of ``model`` on ``data`` (prepared pairs or raw data) without gradients."""
    if variational is None:
        variational = hasattr(model, "variational_loss")
    if not hasattr(data, "batch"):
        dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float64)
        data = model.variational_data(data, "data") if variational else as_pairs(data, "data", dtype)
    loss_fn = _loss(loss_fn) if isinstance(loss_fn, str) else loss_fn
    model.eval()
    total = 0.0
    with torch.no_grad():
        for idx in torch.arange(len(data)).split(batch_size):
            total += _batch_loss(model, data, idx, loss_fn, variational).item() * len(idx)
    return total / len(data)


def _batch_loss(model, data, idx, loss_fn, variational):
    batch = data.batch(idx)
    if variational:
        return model.variational_loss(batch)
    x, y = batch
    pred = model(x)
    if pred.shape != y.shape:
        if pred.numel() != y.numel():
            raise DataError(
                f"the model returns {tuple(pred.shape)} for a batch whose targets are "
                f"{tuple(y.shape)}; give targets one column per model output"
            )
        pred = pred.reshape(y.shape)
    return loss_fn(pred, y)


def _loss(loss):
    if callable(loss):
        return loss
    check_choice("loss", loss, LOSSES)
    return LOSSES[loss]


def _optimizer(optimizer, params, lr):
    if callable(optimizer) and not isinstance(optimizer, str):
        if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
            return optimizer(params, lr=lr)
        return optimizer(params)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    if optimizer == "lbfgs":
        # Full-batch quasi-Newton: up to 20 iterations per optimizer step with a strong-Wolfe line
        # search (max_eval set explicitly: torch's default leaves the line search no evaluations
        # when max_iter is small).
        return torch.optim.LBFGS(
            params,
            lr=lr,
            max_iter=20,
            max_eval=40,
            history_size=50,
            tolerance_grad=1e-10,
            tolerance_change=1e-14,
            line_search_fn="strong_wolfe",
        )
    return OPTIMIZERS[optimizer](params, lr=lr)


def _check_targets(model, data) -> None:
    """Targets must have one column per model output (checked when the model says how many)."""
    if data is None:
        return
    n_out = getattr(model, "out_features", None)
    if isinstance(n_out, int) and data.y.shape[-1] != n_out:
        raise DataError(
            f"{data.name}: targets have {data.y.shape[-1]} column(s) but the model has out_features={n_out}; "
            f"pass targets of shape (N, {n_out}) or build the model with out_features={data.y.shape[-1]}"
        )
