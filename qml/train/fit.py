"""``qml.fit``: one training loop for every qml model (and any ``nn.Module`` regressor).

We wrote the loop ourselves rather than adopt PyTorch Lightning: our models are
small, the loop is ~150 lines, and exact resume parity (same weights as an
uninterrupted run) needs control of shuffling and RNG state per epoch that
Lightning's mid-run resume does not promise; it would also add a heavy
dependency to every install.
"""

from __future__ import annotations

import copy
import hashlib
import math
import numbers
import time
import uuid
from typing import Callable

import torch
from torch import nn

from ..backends import context
from ..errors import CheckpointError, ConfigurationError, DataError, NonFiniteLossError, check_int, one_of
from . import defaults
from .checkpoint import (
    BACKUP,
    CHECKPOINT,
    RUN_FILE,
    has_checkpoint,
    load_checkpoint,
    prepare_dir,
    read_run_file,
    save_checkpoint,
    seeded_backends,
    set_rng_state,
    set_sampler_states,
    write_run_file,
)
from .data import as_pairs
from .history import History
from .preflight import evals_per_step, preflight, train_calls
from .progress import EpochProgress

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

    Returns:
        History with one record per epoch.

    Raises:
        ConfigurationError: bad hyperparameters, an unusable ``checkpoint_dir``, ``resume`` without
            ``checkpoint_dir``, or an existing run without ``resume`` or ``overwrite``.
        CheckpointError: (a ConfigurationError) the checkpoint and its backup are damaged or unsafe,
            or were written with other settings, data or model.
        DataError / TypeError: malformed data, or targets whose width is not the model's output.
        NonFiniteLossError: the loss became NaN or inf; the model is restored to the start of that
            epoch and the last good checkpoint is left intact.
    """
    if epochs is not None:
        epochs = check_int("epochs", epochs, 1)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1)
    seed = check_int("seed", seed, 0)
    if early_stopping is not None:
        early_stopping = check_int("early_stopping", early_stopping, 1)
    if lr is not None:
        lr = _check_number("lr", lr, positive=True)
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise one_of("optimizer", optimizer, OPTIMIZERS)
    min_delta = _check_number("min_delta", min_delta)
    for flag, value in (("resume", resume), ("overwrite", overwrite), ("progress", progress)):
        if not isinstance(value, bool):
            raise TypeError(f"{flag} must be True or False, got {value!r}")
    if run_id is not None and not (isinstance(run_id, str) and run_id):
        raise TypeError(f"run_id must be a non-empty string or None, got {run_id!r}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (e.g. qml.HybridModel), got {type(model).__name__}")
    if resume and checkpoint_dir is None:
        raise ConfigurationError("resume=True needs checkpoint_dir (the folder of the run to continue)")
    if schedule not in (None, "auto", "cosine"):
        raise one_of("schedule", schedule, ["auto", "cosine", "None"])
    loss_fn = _loss(loss)
    # before any data preparation or training: the folder must be usable
    ckpt_dir = prepare_dir(checkpoint_dir) if checkpoint_dir is not None else None
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
        lr=lr,
        batch_size=batch_size,
        schedule=schedule,
        epochs=epochs,
    )
    if not variational and hasattr(model, "normalize_from"):
        model.normalize_from(train_set.x, train_set.y)  # unless set already (HybridModel.set_normalization)
    opt = _optimizer(optimizer, model.parameters(), lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if schedule == "cosine" else None

    config = {
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "optimizer": _name(optimizer),
        "loss": _name(loss),
        "n_train": len(train_set),
        "schedule": schedule,
        "epochs": epochs,
        "early_stopping": early_stopping,
        "min_delta": min_delta,
        "train_data": _data_fingerprint(train_set),
        "val_data": _data_fingerprint(val_set) if val_set is not None else None,
        "model": _model_fingerprint(model),
    }
    history = History(config=config)
    start = 1
    if ckpt_dir is not None and has_checkpoint(ckpt_dir):
        if resume:
            info = read_run_file(ckpt_dir) or {}
            if (ckpt_dir / CHECKPOINT).exists() or (ckpt_dir / BACKUP).exists():
                state = load_checkpoint(ckpt_dir)
                _check_same_config(state["config"], config, state["path"], done=state["epoch"])
                model.load_state_dict(state["model_state"])
                opt.load_state_dict(state["optimizer_state"])
                if sched is not None:
                    sched.load_state_dict(state["extra"]["scheduler"])
                history = History.from_dict(state["history"])
                set_rng_state(state["rng"])
                set_sampler_states(model, state["samplers"], state["path"])
                run_id = run_id or state["extra"].get("run_id")
                start = state["epoch"] + 1
                saved = state["config"]
                if history.stopped_early and (saved.get("early_stopping"), saved.get("min_delta")) == (
                    early_stopping,
                    min_delta,
                ):
                    start = epochs + 1  # an uninterrupted run stopped here too: nothing more to train
            elif info:
                # killed before the first epoch ended: same settings, same run id, so jobs
                # that already ran are taken from the job store instead of being paid again
                _check_same_config(info.get("config", {}), config, ckpt_dir / RUN_FILE, done=0)
                run_id = run_id or info.get("run_id")
        elif not overwrite:
            raise ConfigurationError(
                f"{ckpt_dir} already holds a run ({CHECKPOINT} or {RUN_FILE}); pass resume=True to continue "
                "that run, overwrite=True to start afresh, or another checkpoint_dir"
            )
        else:
            for name in (CHECKPOINT, BACKUP, RUN_FILE):
                (ckpt_dir / name).unlink(missing_ok=True)
    if start == 1:
        torch.manual_seed(seed)
    run_id = run_id or uuid.uuid4().hex[:12]
    calls = train_calls(
        len(train_set),
        batch_size,
        epochs - start + 1,
        evals_per_step=evals_per_step(opt),
        n_val=len(val_set) if val_set is not None else 0,
        val_batch_size=max(batch_size, 256),
    )
    plans = preflight(model, calls)  # hardware backends price the run; CostLimitError before any job
    if plans:
        history.config["cost_plan"] = [str(p) for p in plans]
    if ckpt_dir is not None and start == 1:
        write_run_file(ckpt_dir, {"run_id": run_id, "config": config})  # before the first job is sent

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
                    where = (
                        f"the last good checkpoint in {ckpt_dir} is intact" if ckpt_dir else "no checkpoint was written"
                    )
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
        record = {
            "epoch": epoch,
            "train_loss": total / len(train_set),
            "val_loss": None,
            "lr": opt.param_groups[0]["lr"],
            **counters,
            **notes,
        }
        if val_set is not None:
            record["val_loss"] = evaluate(
                model, val_set, loss_fn, batch_size=max(batch_size, 256), variational=variational
            )
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
            save_checkpoint(
                ckpt_dir,
                model=model,
                optimizer=opt,
                epoch=epoch,
                history=history,
                config=config,
                extra={"run_id": run_id, "scheduler": sched.state_dict() if sched else None},
            )
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


#: settings that must match to continue a run, with what to do when one differs
#: (early_stopping and min_delta may change: a run that stopped early can be continued with more patience)
_SAME = ("lr", "batch_size", "seed", "optimizer", "loss", "n_train", "schedule", "train_data", "val_data", "model")


def _check_same_config(saved: dict, now: dict, where, *, done: int) -> None:
    """Raise CheckpointError when a resume would mix settings or data with the saved run's."""
    what = {
        "train_data": "training data values",
        "val_data": "validation data values",
        "model": "model (parameter shapes, backend, shots or seed)",
    }
    diff = [k for k in _SAME if saved.get(k) != now[k]]
    if saved.get("schedule") == "cosine" and now["schedule"] == "cosine" and saved.get("epochs") != now["epochs"]:
        diff.append("epochs")
    if diff:
        detail = "; ".join(
            f"{what[k]} changed" if k in what else f"{k}: checkpoint {saved.get(k)!r} vs now {now[k]!r}" for k in diff
        )
        hint = (
            " (the cosine schedule decays the learning rate to 0 over `epochs`, so its length cannot change mid-run)"
            if "epochs" in diff
            else ""
        )
        raise CheckpointError(
            f"cannot resume from {where}: it was written with other settings or data ({detail}){hint}. Pass the "
            "same settings and data to continue it, or overwrite=True (or another checkpoint_dir) to start afresh"
        )
    if done > now["epochs"]:
        raise CheckpointError(
            f"cannot resume from {where}: it has already trained {done} epochs, more than epochs={now['epochs']}. "
            f"Pass epochs >= {done} to continue it, load its weights with qml.train.load_checkpoint, or "
            "overwrite=True to start afresh"
        )


def _name(obj) -> str:
    """A name for a setting that is stable across processes (a function's repr holds its address)."""
    if isinstance(obj, str):
        return obj
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _check_number(name: str, value, *, positive: bool = False) -> float:
    """A finite real number (> 0 when ``positive``, else >= 0).

    Raises:
        TypeError: not a real number. ConfigurationError: NaN, inf or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {'a positive number' if positive else 'a finite number >= 0'}, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "a positive number" if positive else "a finite number >= 0"
        raise ConfigurationError(f"{name} must be {kind}, got {value!r}")
    return value


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


def _data_fingerprint(data) -> str:
    """SHA-256 (16 hex) of every value ``fit`` trains on: a changed value is a different run."""
    h = hashlib.sha256()
    _hash_into(h, data.batch(torch.arange(len(data))))
    return h.hexdigest()[:16]


def _hash_into(h, obj) -> None:
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.numpy().tobytes())
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            _hash_into(h, item)
    else:
        h.update(repr(obj).encode())


def _model_fingerprint(model) -> str:
    shapes = [(n, tuple(p.shape)) for n, p in model.named_parameters()]
    # with shots, which sampler and seed is part of the run; exact backends compute the same values
    samplers = [
        (label, getattr(b, "name", None), b.shots, getattr(b, "seed", None))
        for label, b in seeded_backends(model).items()
        if getattr(b, "shots", None) is not None
    ]
    return hashlib.sha256(repr((type(model).__name__, shapes, samplers)).encode()).hexdigest()[:16]


def _best_so_far(history: History, min_delta: float):
    best, since = float("inf"), 0
    for r in history.records:
        score = r["val_loss"] if r.get("val_loss") is not None else r["train_loss"]
        if score < best - min_delta:
            best, since = score, 0
        else:
            since += 1
    return best, since
