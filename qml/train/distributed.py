"""Training over several local processes: ``qml.train.distributed.fit(..., workers=N)``.

Each of ``N`` processes (``torch.multiprocessing``, spawned) holds a copy of the model and runs the
ordinary ``qml.fit`` loop on the same shuffled batches; only the rows of each batch differ: process
``k`` evaluates the model (the expensive part: the circuits) on its share of the batch, and

* the predictions (energies, for a ``PESModel``) are gathered, so every process computes the same
  loss from the whole batch (:class:`_Gather`: only a process's own rows carry its gradient);
* at the end of the backward pass the parameter gradients are summed over processes in one
  all-reduce (``torch.distributed`` with the ``gloo`` backend on CPU),

so every process takes the same optimizer step as a single process would, up to the summation order
of the gradients (round-off). Process 0 writes the checkpoints, shows progress and runs the callbacks;
its weights and history come back to the caller's model.

Limits: exact backends only (samplers would draw the same shots in every process); ``backend="auto"``
is decided here, before the processes start, so all of them use the same simulator.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import torch
from torch import nn

from ..errors import ConfigurationError, check_int


def _shard(n: int, rank: int, world: int) -> tuple[int, int]:
    """Rows ``[start, stop)`` of a batch of ``n`` rows for process ``rank`` of ``world`` (contiguous blocks)."""
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


class _Gather(torch.autograd.Function):
    """All rows of a batch from every process's share; the gradient flows back to the local rows only.

    Its backward also queues, for the end of the backward pass, one all-reduce of every parameter
    gradient of the model (flattened into one buffer: one collective per backward pass).
    """

    @staticmethod
    def forward(ctx, local: torch.Tensor, n_total: int, world: int, start: int, stop: int, params: tuple):
        import torch.distributed as dist

        sizes = [_shard(n_total, r, world) for r in range(world)]
        width = max(b - a for a, b in sizes)
        padded = local.new_zeros((width, *local.shape[1:]))
        padded[: stop - start] = local
        parts = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(parts, padded.contiguous())
        ctx.rows, ctx.params = (start, stop), params
        return torch.cat([p[: b - a] for p, (a, b) in zip(parts, sizes)])

    @staticmethod
    def backward(ctx, grad):
        params = ctx.params
        torch.autograd.Variable._execution_engine.queue_callback(lambda: _reduce_grads(params))
        start, stop = ctx.rows
        return grad[start:stop], None, None, None, None, None


def _reduce_grads(params) -> None:
    """Sum the gradients of ``params`` over the processes, in place (a missing gradient counts as zero)."""
    import torch.distributed as dist

    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    k = 0
    for p, g in zip(params, grads):
        n = g.numel()
        p.grad = flat[k : k + n].view_as(p).clone()
        k += n


class _Sharded(nn.Module):
    """The model as ``qml.fit`` sees it in one process: forward / energies on this process's rows, gathered."""

    def __init__(self, model: nn.Module, rank: int, world: int):
        super().__init__()
        self.module = model
        self.rank, self.world = rank, world
        for name in ("out_features", "normalize_from"):
            if hasattr(model, name):
                setattr(self, name, getattr(model, name))
        if hasattr(model, "variational_loss"):
            self.variational_data = model.variational_data
            self.variational_loss = self._variational_loss

    def _rows(self, fn, x):
        n = len(x)
        start, stop = _shard(n, self.rank, self.world)
        if stop > start:
            local = fn(x[start:stop])
        else:  # fewer rows than processes: compute one row and keep none, so the graph is the same everywhere
            local = fn(x[:1])[:0]
        params = tuple(p for p in self.module.parameters() if p.requires_grad)
        return _Gather.apply(local, n, self.world, start, stop, params)

    def forward(self, x):
        return self._rows(self.module, x)

    def _variational_loss(self, batch):
        return self._rows(self.module.energies, batch).mean()


def _decide_auto(model: nn.Module) -> None:
    """Every process must run the same simulator: an undecided ``auto`` decides here, once, or is refused.

    A decided ``auto`` pickles with its choice, so the processes use it as it is.

    Raises:
        ConfigurationError: an undecided ``auto`` backend inside a model other than a ``PESModel``.
    """
    from ..backends.auto import AutoBackend

    autos = [
        obj
        for module in model.modules()
        for obj in (getattr(module, "backend", None), module.__dict__.get("_backend"))
        if isinstance(obj, AutoBackend) and obj.chosen is None
    ]
    if not autos:
        return
    if hasattr(model, "surface") and hasattr(model, "energy"):  # PESModel: decide on one geometry
        model.energy(model.surface.reference[0] if model.surface.dim == 1 else [model.surface.reference])
        return
    raise ConfigurationError(
        "workers > 1 with backend='auto' that has not decided yet: every process would time the simulators "
        "and might choose differently. Run the model once on a batch first (e.g. model(x[:32])) or pass a "
        "named backend such as backend='fast'"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _SyncStop:
    """Last callback on every process: ``state.stop`` set by a callback of process 0 stops all of them."""

    def on_epoch_end(self, state) -> None:
        import torch.distributed as dist

        flag = torch.tensor([1 if state.stop else 0])
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        state.stop = bool(flag.item())


def _worker(rank: int, world: int, port: int, payload: bytes, kwargs: dict, out: str) -> None:
    import json
    import pickle

    import torch.distributed as dist

    from .fit import fit as _fit

    torch.set_num_threads(1)
    # plain pickle bytes made by our own parent process: each worker gets private copies of the
    # tensors (torch.multiprocessing would share their storage, and every process would step it)
    model, train, val = pickle.loads(payload)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        wrapped = _Sharded(model, rank, world)
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if rank != 0:  # one writer, one progress bar, one set of callbacks
            kwargs = {**kwargs, "checkpoint_dir": None, "progress": False}
            callbacks = []
        history = _fit(wrapped, train, val, callbacks=[*callbacks, _SyncStop()], **kwargs)
        if rank == 0:
            torch.save(model.state_dict(), Path(out) / "model.pt")
            (Path(out) / "history.json").write_text(json.dumps(history.to_dict(), default=str))
    except Exception as exc:
        info = {"module": type(exc).__module__, "type": type(exc).__name__, "message": str(exc)}
        (Path(out) / f"error{rank}.json").write_text(json.dumps(info))
        raise
    finally:
        dist.destroy_process_group()


def _reraise(out: Path, exc: Exception):
    """Raise the first worker error as its own type (qml's errors and built-ins), else the spawn error."""
    import builtins
    import json

    from .. import errors

    for f in sorted(out.glob("error*.json")):
        info = json.loads(f.read_text())
        cls = getattr(errors if info["module"].startswith("qml") else builtins, info["type"], None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                err = cls(info["message"])
            except TypeError:
                continue
            raise err from None
    raise exc


def fit(model: nn.Module, train, val=None, *, workers: int = 2, **fit_kwargs):
    """``qml.fit`` over ``workers`` local processes; the trained weights land in ``model``.

    Args:
        model: a ``qml.PESModel`` or ``qml.HybridModel`` (any picklable ``nn.Module`` regressor) on an
            exact backend.
        train, val: as in ``qml.fit``.
        workers: number of processes (>= 1; 1 runs ``qml.fit`` here).
        **fit_kwargs: the other arguments of ``qml.fit``.

    Returns:
        The :class:`~qml.History` of process 0 (the same losses as every process's).

    Raises:
        TypeError / ConfigurationError: bad ``workers``; a model on a shot-based backend; ``resume``
            (not supported across processes yet); all before any process starts.
    """
    from .fit import fit as _fit
    from .history import History

    workers = check_int("workers", workers, 1)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (e.g. qml.HybridModel), got {type(model).__name__}")
    if workers == 1:
        return _fit(model, train, val, **fit_kwargs)
    if fit_kwargs.get("resume"):
        raise ConfigurationError("resume=True is not supported with workers > 1 yet; resume with workers=1")
    from .checkpoint import seeded_backends

    sampled = [label for label, b in seeded_backends(model).items() if getattr(b, "shots", None) is not None]
    if sampled:
        raise ConfigurationError(
            f"workers={workers} needs exact backends (every process would draw the same shots); {sampled} sample "
            "with shots. Use workers=1, or an exact backend"
        )
    _decide_auto(model)
    import pickle

    import torch.multiprocessing as mp

    payload = pickle.dumps((model, train, val))
    with tempfile.TemporaryDirectory(prefix="qml-workers-") as out:
        try:
            mp.spawn(
                _worker,
                args=(workers, _free_port(), payload, dict(fit_kwargs), out),
                nprocs=workers,
                join=True,
            )
        except Exception as exc:  # noqa: BLE001 - re-raised as the worker's own error
            _reraise(Path(out), exc)
        state = torch.load(Path(out) / "model.pt", weights_only=True)
        import json

        history = History.from_dict(json.loads((Path(out) / "history.json").read_text()))
    model.load_state_dict(state)
    model.eval()
    return history
