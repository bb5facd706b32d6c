"""``qml.fit``: one training loop for every qml model (and any ``nn.Module`` regressor).

We wrote the loop ourselves rather than adopt PyTorch Lightning: our models are
small, the loop is ~150 lines, and exact resume parity (same weights as an
uninterrupted run) needs control of shuffling and RNG state per epoch that
Lightning's mid-run resume does not promise; it would also add a heavy
dependency to every install.
"""

from __future__ import annotations

import copy
import math
import time
import uuid
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ..backends import context
from ..errors import ConfigurationError, NonFiniteLossError, check_int, one_of
from . import defaults
from .checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint, set_rng_state
from .data import as_pairs
from .history import History
from .progress import EpochProgress

LOSSES: dict[str, Callable] = {
    "mse": nn.functional.mse_loss,
    "mae": nn.functional.l1_loss,
    "huber": nn.functional.huber_loss,
}
OPTIMIZERS = {"auto": None, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
              "lbfgs": None}


class _NonFinite(Exception):
    def __init__(self, value: float):
        self.value = value


def fit(
    model: nn.Module,
    train,
    val=None,
    *,
    epochs: int = 50,
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
        epochs: total number of epochs (with ``resume=True``, including those already done).
        lr: learning rate (default: 1 for L-BFGS, 1e-2 otherwise).
        batch_size: samples per optimizer step (default: the whole training set for L-BFGS, 32
            otherwise).
        loss: ``"mse"``, ``"mae"``, ``"huber"`` or a function ``loss(pred, target)``.
        optimizer: ``"auto"`` (default: full-batch L-BFGS for supervised data sets of at most 1024
            samples on exact backends when no smaller ``batch_size`` is asked for, Adam otherwise;
            see :mod:`qml.train.defaults`), ``"adam"``, ``"adamw"``, ``"sgd"``, ``"lbfgs"``
            (full-batch quasi-Newton with a line search, 20 iterations per step: use it with
            ``batch_size`` >= the data and ``lr=1``; it suits variational models such as
            ``PESModel``) or a function ``params -> Optimizer``.
        schedule: ``"auto"`` (default: cosine for first-order optimizers on supervised data,
            constant for L-BFGS and variational models), ``None`` (constant ``lr``) or ``"cosine"``
            (cosine decay from ``lr`` to 0 over ``epochs``, stepped once per epoch).
        seed: seeds the shuffling of every epoch (``seed + epoch``) and torch's RNG.
        checkpoint_dir: folder for ``checkpoint.pt`` and ``history.json``, rewritten atomically
            after every epoch.
        resume: continue from the checkpoint in ``checkpoint_dir`` (same weights at the end as an
            uninterrupted run); starts afresh when there is none.
        overwrite: allow starting afresh over an existing checkpoint.
        early_stopping: stop after this many epochs without improvement of the validation loss
            (training loss without ``val``).
        min_delta: smallest decrease of that loss that counts as an improvement.
        progress: show progress: a bar in terminals and notebooks, a line every 30 s in logs
            (see :mod:`qml.train.progress`; ``QML_PROGRESS`` overrides the form).
        run_id: identifier passed to hardware executors to tag jobs (default: stored in the
            checkpoint, or a new random id).

    Returns:
        History with one record per epoch.

    Raises:
        ConfigurationError: bad hyperparameters, an existing checkpoint without ``resume`` or
            ``overwrite``, or a checkpoint written with other settings.
        DataError / TypeError: malformed data.
        NonFiniteLossError: the loss became NaN or inf; the model is restored to the start of that
            epoch and the last good checkpoint is left intact.
    """
    epochs = check_int("epochs", epochs, 1)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1)
    if early_stopping is not None:
        early_stopping = check_int("early_stopping", early_stopping, 1)
    if lr is not None and not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ConfigurationError(f"lr must be a positive number, got {lr!r}")
    if schedule not in (None, "auto", "cosine"):
        raise one_of("schedule", schedule, ["auto", "cosine", None])
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise one_of("optimizer", optimizer, OPTIMIZERS)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (e.g. qml.HybridModel), got {type(model).__name__}")
    loss_fn = _loss(loss)
    variational = hasattr(model, "variational_loss")
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float64)
    prep = (lambda d, n: model.variational_data(d, n, progress=progress)) if variational else (lambda d, n: as_pairs(d, n, dtype))
    train_set = prep(train, "train")
    val_set = prep(val, "val") if val is not None else None
    optimizer, lr, batch_size, schedule = defaults.resolve(model, len(train_set), variational=variational,
                                                           optimizer=optimizer, lr=lr, batch_size=batch_size,
                                                           schedule=schedule)
    if not variational and hasattr(model, "normalize_from"):
        model.normalize_from(train_set.x, train_set.y)  # unless set already (HybridModel.set_normalization)
    opt = _optimizer(optimizer, model.parameters(), lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if schedule == "cosine" else None

    config = {"lr": lr, "batch_size": batch_size, "seed": seed, "optimizer": str(optimizer), "loss": str(loss),
              "n_train": len(train_set), "schedule": schedule}
    history = History(config=config)
    start = 1
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if ckpt_dir is not None and (ckpt_dir / CHECKPOINT).exists():
        if resume:
            state = load_checkpoint(ckpt_dir)
            _check_same_config(state["config"], config, ckpt_dir)
            model.load_state_dict(state["model_state"])
            opt.load_state_dict(state["optimizer_state"])
            if sched is not None:
                sched.load_state_dict(state["extra"]["scheduler"])
            history = History.from_dict(state["history"])
            set_rng_state(state["rng"])
            run_id = run_id or state["extra"].get("run_id")
            start = state["epoch"] + 1
        elif not overwrite:
            raise ConfigurationError(
                f"{ckpt_dir / CHECKPOINT} already exists; pass resume=True to continue that run, "
                "overwrite=True to start afresh, or another checkpoint_dir"
            )
    if start == 1:
        torch.manual_seed(seed)
    run_id = run_id or uuid.uuid4().hex[:12]

    best, since_best = _best_so_far(history, min_delta)
    n_steps = math.ceil(len(train_set) / batch_size)
    bar = EpochProgress(epochs, initial=start - 1, steps=n_steps, enabled=progress)
    for epoch in range(start, epochs + 1):
        bar.start_epoch(epoch)
        t0 = time.perf_counter()
        good_state = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
        model.train()
        g = torch.Generator().manual_seed(seed * 100003 + epoch)
        order = torch.randperm(len(train_set), generator=g)
        total, counters, notes = 0.0, {}, {}
        for step, idx in enumerate(order.split(batch_size)):
            with context.step(run_id, epoch, step) as ctx:

                def closure():
                    opt.zero_grad()
                    loss_value = _batch_loss(model, train_set, idx, loss_fn, variational)
                    if not torch.isfinite(loss_value):
                        raise _NonFinite(loss_value.item())
                    loss_value.backward()
                    return loss_value

                try:
                    if isinstance(opt, torch.optim.LBFGS):
                        value = opt.step(closure)  # several evaluations, one line search
                    else:
                        value = closure()
                        opt.step()
                except _NonFinite as bad:
                    bar.close()
                    model.load_state_dict(good_state[0])
                    opt.load_state_dict(good_state[1])
                    where = f"the last good checkpoint in {ckpt_dir} is intact" if ckpt_dir else "no checkpoint was written"
                    raise NonFiniteLossError(
                        f"loss became {bad.value} at epoch {epoch}, step {step}; the model was restored to "
                        f"the start of epoch {epoch} and {where}. Lower lr (now {lr}), check the data for "
                        "outliers, or normalise targets (HybridModel.set_normalization)."
                    ) from None
            total += value.item() * len(idx)
            for k, v in ctx.counters.items():
                counters[k] = counters.get(k, 0) + v
            notes.update(ctx.notes)  # e.g. what backend="auto" chose on this epoch's first batch
            bar.step_done(step)
        record = {"epoch": epoch, "train_loss": total / len(train_set), "val_loss": None,
                  "lr": opt.param_groups[0]["lr"], **counters, **notes}
        if val_set is not None:
            record["val_loss"] = evaluate(model, val_set, loss_fn, batch_size=max(batch_size, 256), variational=variational)
        if sched is not None:
            sched.step()
        record["time"] = time.perf_counter() - t0
        history.append(record)
        score = record["val_loss"] if record["val_loss"] is not None else record["train_loss"]
        if score < best - min_delta:
            best, since_best = score, 0
        else:
            since_best += 1
        stop = early_stopping is not None and since_best >= early_stopping
        history.stopped_early = stop
        if ckpt_dir is not None:
            save_checkpoint(ckpt_dir, model=model, optimizer=opt, epoch=epoch, history=history, config=config,
                            extra={"run_id": run_id, "scheduler": sched.state_dict() if sched else None})
        bar.epoch_done(record)
        if stop:
            break
    bar.close()
    model.eval()
    return history


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
        pred = pred.reshape(y.shape)
    return loss_fn(pred, y)


def _loss(loss):
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise one_of("loss", loss, LOSSES)
    return LOSSES[loss]


def _optimizer(optimizer, params, lr):
    if callable(optimizer) and not isinstance(optimizer, str):
        if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
            return optimizer(params, lr=lr)
        return optimizer(params)
    if optimizer not in OPTIMIZERS:
        raise one_of("optimizer", optimizer, OPTIMIZERS)
    if optimizer == "lbfgs":
        # Full-batch quasi-Newton: up to 20 iterations per optimizer step with a strong-Wolfe line
        # search (max_eval set explicitly: torch's default leaves the line search no evaluations
        # when max_iter is small).
        return torch.optim.LBFGS(params, lr=lr, max_iter=20, max_eval=40, history_size=50,
                                 tolerance_grad=1e-10, tolerance_change=1e-14, line_search_fn="strong_wolfe")
    return OPTIMIZERS[optimizer](params, lr=lr)


def _check_same_config(saved: dict, now: dict, where) -> None:
    diff = {k: (saved.get(k), now[k]) for k in ("lr", "batch_size", "seed", "optimizer", "loss", "n_train", "schedule")
            if saved.get(k) != now[k]}
    if diff:
        detail = ", ".join(f"{k}: checkpoint {a!r} vs now {b!r}" for k, (a, b) in diff.items())
        raise ConfigurationError(
            f"cannot resume from {where}: it was written with other settings ({detail}); "
            "pass the same settings, or overwrite=True to start afresh"
        )


def _best_so_far(history: History, min_delta: float):
    best, since = float("inf"), 0
    for r in history.records:
        score = r["val_loss"] if r.get("val_loss") is not None else r["train_loss"]
        if score < best - min_delta:
            best, since = score, 0
        else:
            since += 1
    return best, since

