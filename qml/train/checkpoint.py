"""Checkpoints that are atomic, verified, code-free and kept one generation back.

* **Atomic**: written to a temp file in the same folder, fsynced, then renamed; a kill mid-write
  leaves the previous files intact (the temp file is removed on the next :func:`prepare_dir`).
* **Verified**: the file starts with a header ``QMLCKPT2 <sha256 of the payload>``; a truncated,
  zero-byte or bit-flipped file raises :class:`~qml.errors.CheckpointError` naming the file.
* **Code-free**: loaded with ``torch.load(..., weights_only=True)``: only tensors, numbers, strings,
  lists, tuples and dicts; a crafted pickle is refused, never executed.
* **One backup generation**: the previous checkpoint is kept as ``checkpoint.prev.pt``; when the
  latest file is damaged or missing, :func:`load_checkpoint` falls back to it with a warning.

Shot samplers: any backend reachable from the model (a module's ``backend`` or ``_backend``
attribute, or the module itself) that defines ``seed_state() -> dict`` and ``set_seed_state(state)`` has its seed
stream saved and restored, so a resumed run draws the same shots as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import random
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from ..errors import CheckpointError, ConfigurationError, StorageError
from ..runtime.store import pid_alive

CHECKPOINT = "checkpoint.pt"
BACKUP = "checkpoint.prev.pt"
RUN_FILE = "resume.json"
MAGIC = b"QMLCKPT2 "
FORMAT = 2
_HEADER = len(MAGIC) + 64 + 1  # magic, hex digest, newline
#: temp-file prefixes of the files fit and the CLI write into a checkpoint folder
_OURS = tuple(f".{n}." for n in (CHECKPOINT, BACKUP, RUN_FILE, "history.json", "config.json", "metrics.json"))


# -- atomic files ------------------------------------------------------------------------
def atomic_write_bytes(path: Path, data: bytes, *, backup: Path | None = None) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync, then rename.

    Raises:
        StorageError: the write failed (disk full, ...); ``path`` is left as it was.

    Args:
        path: destination; created with mode 0600.
        data: the bytes.
        backup: when given and ``path`` exists, ``path`` is first renamed to ``backup`` (one
            generation kept). A kill between the two renames leaves ``backup`` and the temp file;
            :func:`load_checkpoint` then uses ``backup``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if backup is not None and path.exists():
            os.replace(path, backup)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, StorageError):
            kept = f"the previous {path.name} is intact" if path.exists() else f"no {path.name} was written"
            raise StorageError(
                exc.errno, f"cannot write {path} ({exc.strerror or exc}); {kept}: free space and run again"
            ) from exc
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def prepare_dir(directory) -> Path:
    """Check that ``directory`` can hold checkpoints (before any training) and clean leftovers.

    Creates the folder, proves it writable with a probe file, and removes temp files that a
    killed writer left behind (``.checkpoint.pt.<pid>.*.tmp`` of processes no longer running).

    Returns:
        The folder as a Path.

    Raises:
        ConfigurationError: ``directory`` is a file, or cannot be created or written.
    """
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise ConfigurationError(f"checkpoint_dir {str(folder)!r} is a file, not a folder; pass a folder path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigurationError(
            f"checkpoint_dir {str(folder)!r} is not writable ({exc.strerror or exc}); pass a folder you can "
            "write to, or checkpoint_dir=None to train without checkpoints"
        ) from None
    for leftover in folder.glob(".*.tmp"):
        if not leftover.name.startswith(_OURS):
            continue
        parts = leftover.name.split(".")
        pid = next((int(p) for p in parts if p.isdigit()), None)
        if pid is not None and pid != os.getpid() and pid_alive(pid):
            continue  # another process is writing right now
        try:
            leftover.unlink()
        except OSError:
            pass
    return folder


# -- RNG and sampler state as plain values ---------------------------------------------------
def rng_state() -> dict:
    """torch, numpy and Python RNG states as tensors, numbers and tuples (``weights_only``-safe)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {
            "name": str(name),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": random.getstate(),
    }


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    npy = state["numpy"]
    np.random.set_state(
        (npy["name"], npy["keys"].numpy().astype(np.uint32), npy["pos"], npy["has_gauss"], npy["cached_gaussian"])
    )
    random.setstate(state["python"])


def seeded_backends(model) -> dict:
    """``{label: object}`` for every object in ``model`` with ``seed_state``/``set_seed_state``."""
    from ..backends import in_model

    def seeded(obj) -> bool:
        return callable(getattr(obj, "seed_state", None)) and callable(getattr(obj, "set_seed_state", None))

    backends = {id(module): (label, backend) for label, (module, backend) in in_model(model).items()}
    found = {}
    for name, module in model.named_modules():  # a module, then its backend: the order fingerprints use
        if seeded(module):
            found[name or "model"] = module
        label, backend = backends.get(id(module), (None, None))
        if seeded(backend):
            found[label] = backend
    return found


def sampler_states(model) -> dict:
    """The seed stream of every shot sampler in ``model`` (see module docstring)."""
    return {label: obj.seed_state() for label, obj in seeded_backends(model).items()}


def set_sampler_states(model, states: dict, where="the checkpoint") -> None:
    """Restore what :func:`sampler_states` returned.

    Raises:
        CheckpointError: the checkpoint's samplers are not the model's (another backend or model).
    """
    objs = seeded_backends(model)
    if set(objs) != set(states or {}):
        raise CheckpointError(
            f"{where} holds shot-sampler states for {sorted(states or {})} but the model has "
            f"{sorted(objs)}; resume with the same model and backend, or pass overwrite=True to start afresh"
        )
    for label, obj in objs.items():
        obj.set_seed_state(states[label])


def _plain(obj):
    """numpy arrays and scalars -> tensors and Python numbers, so ``weights_only`` loading accepts them."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_plain(v) for v in obj)
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.array(obj))
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


# -- save / load -----------------------------------------------------------------------------
def encode(payload: dict) -> bytes:
    """Header ``QMLCKPT2 <sha256>\\n`` followed by ``torch.save(payload)``."""
    buf = io.BytesIO()
    torch.save(_plain(payload), buf)
    body = buf.getvalue()
    return MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def save_checkpoint(directory, *, model, optimizer, epoch: int, history, config: dict, extra=None) -> Path:
    """Write model, optimizer, epoch, history, config, RNG and shot-sampler states to ``directory``.

    The previous ``checkpoint.pt`` becomes ``checkpoint.prev.pt``; ``history.json`` is refreshed.

    Returns:
        The path of the checkpoint file (``directory/checkpoint.pt``).
    """
    payload = {
        "format": FORMAT,
        "epoch": epoch,
        "model_state": model.state_dict(),
        "optimizer_state": optimizer.state_dict() if optimizer is not None else None,
        "history": history.to_dict(),
        "config": config,
        "rng": rng_state(),
        "samplers": sampler_states(model),
        "extra": extra or {},
    }
    directory = Path(directory)
    path = directory / CHECKPOINT
    atomic_write_bytes(path, encode(payload), backup=directory / BACKUP)
    history.save(directory / "history.json")
    return path


def read_checkpoint_file(path) -> dict:
    """Verify and load one checkpoint file (no fallback).

    Raises:
        CheckpointError: missing header, checksum mismatch (truncated, zero-byte, altered),
            or content other than tensors and plain values.
    """
    path = Path(path)
    todo = (
        f"resume from the backup {path.parent / BACKUP} if there is one (load_checkpoint does this "
        "itself), or pass overwrite=True to start afresh"
    )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    if len(data) == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes): it is damaged; {todo}")
    if not data.startswith(MAGIC) or len(data) < _HEADER or data[_HEADER - 1 : _HEADER] != b"\n":
        raise CheckpointError(
            f"{path} is not a qml checkpoint (no QMLCKPT2 header: damaged, or written by another program or an "
            f"older qml); {todo}"
        )
    digest, body = data[len(MAGIC) : _HEADER - 1].decode("ascii", "replace"), data[_HEADER:]
    if hashlib.sha256(body).hexdigest() != digest:
        raise CheckpointError(
            f"checkpoint {path} is damaged: its SHA-256 checksum does not match its content "
            f"({len(data)} bytes; truncated or altered); {todo}"
        )
    try:
        state = torch.load(io.BytesIO(body), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"checkpoint {path} holds objects other than tensors and plain values, and was refused without "
            f"running them (weights_only=True): {str(exc).splitlines()[0]}. Only load checkpoints you trust; "
            "pass overwrite=True to start afresh"
        ) from None
    except Exception as exc:  # noqa: BLE001 - torch's reader raises many types on malformed archives
        raise CheckpointError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc}); {todo}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a qml format-{FORMAT} checkpoint; {todo}")
    state["path"] = str(path)
    return state


def load_checkpoint(directory_or_file) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (a folder or the file itself).

    Given a folder, a damaged or missing ``checkpoint.pt`` falls back to ``checkpoint.prev.pt``
    with a warning naming both files. ``state["path"]`` says which file was used.

    Raises:
        FileNotFoundError: no checkpoint at all.
        CheckpointError: the file (and, for a folder, its backup) is damaged or unsafe.
    """
    path = Path(directory_or_file)
    if not path.is_dir():
        if not path.exists():
            raise FileNotFoundError(f"no checkpoint at {path}")
        return read_checkpoint_file(path)
    latest, backup = path / CHECKPOINT, path / BACKUP
    if not latest.exists() and not backup.exists():
        raise FileNotFoundError(f"no checkpoint at {latest}")
    problem = f"{latest} is missing"
    if latest.exists():
        try:
            return read_checkpoint_file(latest)
        except CheckpointError as exc:
            if not backup.exists():
                raise
            problem = str(exc)
    try:
        state = read_checkpoint_file(backup)
    except CheckpointError as exc:
        raise CheckpointError(f"both checkpoints in {path} are unusable: {problem}; and {exc}") from None
    warnings.warn(
        f"{problem}; resuming from the previous checkpoint {backup} (epoch {state['epoch']}) instead",
        RuntimeWarning,
        stacklevel=2,
    )
    return state


def has_checkpoint(directory) -> bool:
    """True when ``directory`` holds a checkpoint, its backup, or a started run (``resume.json``)."""
    d = Path(directory)
    return any((d / n).exists() for n in (CHECKPOINT, BACKUP, RUN_FILE))


def write_run_file(directory, info: dict) -> None:
    """Record the run id and settings before the first step (so a kill in epoch 1 keeps the run id)."""
    atomic_write_bytes(Path(directory) / RUN_FILE, json.dumps(info, indent=1, sort_keys=True).encode())


def read_run_file(directory) -> dict | None:
    """The ``resume.json`` of ``directory``, or ``None`` when absent.

    Raises:
        CheckpointError: the file is not valid JSON.
    """
    path = Path(directory) / RUN_FILE
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is damaged ({exc}); delete it, or pass overwrite=True to start afresh") from None
    if not isinstance(info, dict):
        raise CheckpointError(f"{path} is damaged (not a JSON object); delete it, or pass overwrite=True")
    return info
