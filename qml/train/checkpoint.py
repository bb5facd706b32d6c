"""Atomic checkpoints: a crash or Ctrl-C mid-write never leaves a half-written file."""

from __future__ import annotations

import io
import os
import random
import tempfile
from pathlib import Path

import numpy as np
import torch

CHECKPOINT = "checkpoint.pt"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def rng_state() -> dict:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def save_checkpoint(directory, *, model, optimizer, epoch: int, history, config: dict, extra=None) -> Path:
    """Atomically write model, optimizer, epoch, history, config and RNG states to ``directory``.

    Returns:
        The path of the checkpoint file (``directory/checkpoint.pt``).
    """
    payload = {
        "format": 1,
        "epoch": epoch,
        "model_state": model.state_dict(),
        "optimizer_state": optimizer.state_dict() if optimizer is not None else None,
        "history": history.to_dict(),
        "config": config,
        "rng": rng_state(),
        "extra": extra or {},
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    path = Path(directory) / CHECKPOINT
    atomic_write_bytes(path, buf.getvalue())
    history.save(Path(directory) / "history.json")
    return path


def load_checkpoint(directory_or_file) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (a folder or the file itself)."""
    path = Path(directory_or_file)
    if path.is_dir():
        path = path / CHECKPOINT
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    # weights_only=False: RNG states hold numpy arrays and tuples; these are our own files.
    return torch.load(path, map_location="cpu", weights_only=False)
