"""The identity of a training run and how ``fit`` opens, continues or restarts one in ``checkpoint_dir``.

A run is its settings, the values of its data and its model's shapes and samplers (:func:`run_config`);
``resume=True`` continues a run only with the same identity (:func:`check_same_config`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from ..errors import CheckpointError, ConfigurationError
from .checkpoint import (
    BACKUP,
    CHECKPOINT,
    RUN_FILE,
    has_checkpoint,
    load_checkpoint,
    prepare_dir,
    read_run_file,
    seeded_backends,
    set_rng_state,
    set_sampler_states,
)
from .history import History


def open_checkpoint_dir(checkpoint_dir) -> Path | None:
    """The one place where ``fit`` opens ``checkpoint_dir``: created and checked writable before any
    data preparation or training (``fit`` then holds its lease, :func:`qml.train.lease.hold_run`).
    ``None``: no checkpoints.

    Raises:
        ConfigurationError: the folder cannot be created or written.
    """
    return prepare_dir(checkpoint_dir) if checkpoint_dir is not None else None


def run_config(settings: dict, model, train_set, val_set) -> dict:
    """The settings that identify a run: ``settings`` plus fingerprints of the data and the model."""
    return {
        **settings,
        "train_data": _data_fingerprint(train_set),
        "val_data": _data_fingerprint(val_set) if val_set is not None else None,
        "model": _model_fingerprint(model),
    }


def restore(run, *, resume: bool, overwrite: bool) -> None:
    """Continue, restart or refuse the run already in ``run.ckpt_dir`` (if any).

    Sets ``run.start`` (first epoch to train), ``run.history`` and ``run.run_id``, and loads the
    model, optimizer, scheduler, RNG and sampler states of a resumed run.

    Raises:
        ConfigurationError: the folder holds a run and neither ``resume`` nor ``overwrite`` is set.
        CheckpointError: the saved run has other settings, data or model, or more epochs.
    """
    ckpt_dir = run.ckpt_dir
    if ckpt_dir is None or not has_checkpoint(ckpt_dir):
        return
    if not resume and not overwrite:
        raise ConfigurationError(
            f"{ckpt_dir} already holds a run ({CHECKPOINT} or {RUN_FILE}); pass resume=True to continue "
            "that run, overwrite=True to start afresh, or another checkpoint_dir"
        )
    if not resume:
        for name in (CHECKPOINT, BACKUP, RUN_FILE):
            (ckpt_dir / name).unlink(missing_ok=True)
        return
    info = read_run_file(ckpt_dir) or {}
    if (ckpt_dir / CHECKPOINT).exists() or (ckpt_dir / BACKUP).exists():
        _load(run, load_checkpoint(ckpt_dir))
    elif info:
        # killed before the first epoch ended: same settings, same run id, so jobs
        # that already ran are taken from the job store instead of being paid again
        check_same_config(info.get("config", {}), run.config, ckpt_dir / RUN_FILE, done=0)
        run.run_id = run.run_id or info.get("run_id")


def _load(run, state: dict) -> None:
    """Load a checkpoint's states into ``run`` after checking it belongs to the same run."""
    check_same_config(state["config"], run.config, state["path"], done=state["epoch"])
    run.model.load_state_dict(state["model_state"])
    run.opt.load_state_dict(state["optimizer_state"])
    if run.sched is not None:
        run.sched.load_state_dict(state["extra"]["scheduler"])
    run.history = History.from_dict(state["history"])
    set_rng_state(state["rng"])
    set_sampler_states(run.model, state["samplers"], state["path"])
    run.run_id = run.run_id or state["extra"].get("run_id")
    run.start = state["epoch"] + 1
    saved = state["config"]
    if run.history.stopped_early and (saved.get("early_stopping"), saved.get("min_delta")) == (
        run.early_stopping,
        run.min_delta,
    ):
        run.start = run.epochs + 1  # an uninterrupted run stopped here too: nothing more to train


#: settings that must match to continue a run, with what to do when one differs
#: (early_stopping and min_delta may change: a run that stopped early can be continued with more patience)
_SAME = ("lr", "batch_size", "seed", "optimizer", "loss", "n_train", "schedule", "train_data", "val_data", "model")


def check_same_config(saved: dict, now: dict, where, *, done: int) -> None:
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


def setting_name(obj) -> str:
    """A name for a setting that is stable across processes (a function's repr holds its address)."""
    if isinstance(obj, str):
        return obj
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


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
