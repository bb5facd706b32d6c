"""``qml.sweep``: :func:`qml.fit` over a grid of settings and seeds, one run folder per run.

Every run is an independent task of :func:`qml.parallel.map_tasks` (serial by default, a local
pool with ``workers=N``, or any executor / Dask client), trained in its own folder
``run_dir/<name>/`` with ``checkpoint.pt``, ``history.json``, ``run.json`` (its settings) and,
once finished, ``result.json``. Calling ``sweep`` again with the same arguments skips finished
runs (their ``result.json`` is read back) and continues interrupted ones from their checkpoint,
so a killed sweep resumes without repeating work. Each run seeds torch with its seed before
``make_model`` and runs with one thread, so its result does not depend on where it ran.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigurationError, check_int

#: ``qml.fit`` arguments a grid or ``**fit_options`` may set; everything else in the grid goes to ``make_model``.
FIT_KEYS = ("epochs", "lr", "batch_size", "loss", "optimizer", "schedule", "early_stopping", "min_delta")

#: ``qml.fit`` arguments the sweep sets itself.
OWNED_KEYS = ("seed", "checkpoint_dir", "resume", "overwrite", "progress", "run_id")

RESULT = "result.json"
SETTINGS = "run.json"


@dataclass
class SweepResult:
    """The table of a sweep: one row (a dict) per run, in grid order then seed order.

    Each row holds the run's grid settings, ``seed``, ``name``, ``folder``, ``epochs`` (done),
    ``train_loss`` and ``val_loss`` (last epoch; ``val_loss`` None without ``val``),
    ``best_epoch``, ``best_loss`` (lowest validation loss, training loss without ``val``),
    ``stopped_early`` and ``seconds`` (training time; the only column that depends on the machine).
    """

    rows: list[dict]
    run_dir: Path
    settings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i) -> dict:
        return self.rows[i]

    def __iter__(self):
        return iter(self.rows)

    @property
    def columns(self) -> list[str]:
        return list(self.rows[0]) if self.rows else []

    def column(self, key: str) -> list:
        """One column as a list, e.g. ``result.column("best_loss")``.

        Raises:
            ConfigurationError: unknown column (the message lists the columns).
        """
        if key not in self.columns:
            raise ConfigurationError(f"unknown column {key!r}; columns are: {', '.join(self.columns)}")
        return [r[key] for r in self.rows]

    def best(self, key: str = "best_loss") -> dict:
        """The row with the smallest ``key``."""
        values = self.column(key)
        return self.rows[min(range(len(values)), key=values.__getitem__)]

    def __repr__(self) -> str:
        shown = [*self.settings, "seed", "epochs", "train_loss", "val_loss", "best_loss", "seconds"]

        def fmt(v):
            return f"{v:.4g}" if isinstance(v, float) else str(v)

        table = [shown] + [[fmt(r.get(k)) for k in shown] for r in self.rows]
        widths = [max(len(row[j]) for row in table) for j in range(len(shown))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in table]
        return f"SweepResult({len(self.rows)} runs in {self.run_dir})\n" + "\n".join(lines)


def grid_points(grid) -> list[dict]:
    """Every combination of ``grid`` (``{name: [values]}``), the last key varying fastest.

    Raises:
        TypeError: ``grid`` not a dict of lists/tuples with string keys.
        ConfigurationError: an empty value list, or a value repeated in a list.
    """
    if grid is None:
        return [{}]
    if not isinstance(grid, dict):
        raise TypeError(f"grid must be a dict {{name: [values]}}, got {type(grid).__name__}")
    for k, values in grid.items():
        if not isinstance(k, str):
            raise TypeError(f"grid keys must be strings (setting names), got {k!r}")
        if not isinstance(values, (list, tuple)):
            raise TypeError(
                f"grid[{k!r}] must be a list of values, got {type(values).__name__}; "
                f"write grid={{{k!r}: [{values!r}]}} for one value"
            )
        if not values:
            raise ConfigurationError(f"grid[{k!r}] is empty; give at least one value")
        if len({json.dumps(v, sort_keys=True, default=repr) for v in values}) != len(values):
            raise ConfigurationError(f"grid[{k!r}] = {list(values)} repeats a value")
    return [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]


def run_name(settings: dict, seed: int) -> str:
    """Folder name of one run: readable settings plus a short hash of them (unique per run)."""
    text = "_".join(f"{k}={v}" for k, v in [*settings.items(), ("seed", seed)])
    readable = re.sub(r"[^A-Za-z0-9.=_+-]", "-", text)[:80]
    digest = hashlib.sha256(json.dumps([settings, seed], sort_keys=True, default=repr).encode()).hexdigest()[:8]
    return f"{readable}-{digest}"


def _run(job) -> dict:
    """One training run (a worker task): seed, build the model, fit with resume, write result.json."""
    import torch

    from .._sealed import seal
    from .checkpoint import atomic_write_bytes
    from .fit import fit

    folder = Path(job["folder"])
    row = read_result(folder / RESULT)
    if row is not None:
        return row
    torch.manual_seed(job["seed"])
    model = job["make_model"](**job["model_kw"])
    t0 = time.perf_counter()
    history = fit(
        model,
        job["train"],
        job["val"],
        seed=job["seed"],
        checkpoint_dir=folder,
        resume=True,
        progress=False,
        **job["fit_kw"],
    )
    last = history.records[-1]
    best = history.best_so_far()
    row = {
        **job["settings"],
        "seed": job["seed"],
        "name": folder.name,
        "folder": str(folder),
        "epochs": len(history),
        "train_loss": last["train_loss"],
        "val_loss": last.get("val_loss"),
        "best_epoch": best.epoch,
        "best_loss": best.best if best.epoch else None,
        "stopped_early": bool(history.stopped_early),
        "seconds": time.perf_counter() - t0,
    }
    atomic_write_bytes(folder / RESULT, json.dumps(seal(row), indent=1).encode())
    return row


def read_result(path: Path) -> dict | None:
    """A finished run's ``result.json``, verified (its sha256); None if missing or not usable.

    A damaged or unsealed file is not used: a ``RuntimeWarning`` names it and the run is resumed
    from its checkpoint (a finished run returns at once) to write it again.
    """
    import warnings

    from .._sealed import unseal

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return unseal(json.loads(data.decode("utf-8")))
    except ValueError as exc:
        warnings.warn(f"{path} is not usable ({exc}); that run is resumed to write it again", RuntimeWarning, 2)
        return None


def sweep(
    make_model,
    train,
    val=None,
    *,
    grid=None,
    seeds=(0,),
    run_dir,
    executor=None,
    workers: int | None = None,
    progress: bool = True,
    **fit_options,
) -> SweepResult:
    """Train one model per (grid setting, seed), each in its own run folder; resumable.

    Example::

        def make_model(layers, n_qubits=4):
            return qml.HybridModel(3, 1, n_qubits=n_qubits, layers=layers)

        table = qml.sweep(make_model, train, val, grid={"layers": [1, 2], "lr": [1e-2, 3e-3]},
                          seeds=[0, 1], run_dir="runs/sweep", epochs=20, workers=2)
        table.best()   # the row with the lowest validation loss

    Args:
        make_model: ``make_model(**model_settings) -> nn.Module``; called after
            ``torch.manual_seed(seed)``. For ``workers=`` it must be a module-level function (a
            Dask client also ships lambdas).
        train, val: training (and optional validation) data, as for :func:`qml.fit`; sent to
            every run.
        grid: ``{name: [values]}``; names in :data:`FIT_KEYS` (``lr``, ``epochs``, ...) go to
            ``qml.fit``, all others to ``make_model``. Default: one setting, no grid.
        seeds: one run per seed per setting (seeds torch before ``make_model`` and ``fit``).
        run_dir: the sweep's folder; run ``name`` lives in ``run_dir/name``.
        executor, workers: where runs go (see :mod:`qml.parallel`); default serial here.
        progress: a progress bar over runs.
        **fit_options: fixed :func:`qml.fit` arguments for every run (``epochs=20``, ...).

    Returns:
        SweepResult: one row per run (grid order, then seeds); see :class:`SweepResult`.

    Raises:
        TypeError: ``make_model`` not callable, bad ``grid``/``seeds`` types, or ``make_model``
            not picklable for ``workers=``.
        ConfigurationError: empty grid values or seeds, repeated seeds, a ``fit_options`` key
            that the sweep sets itself or that ``fit`` does not take, a key in both ``grid`` and
            ``fit_options``, or bad ``executor``/``workers``.
    """
    from .. import parallel

    if not callable(make_model):
        raise TypeError(f"make_model must be a function returning a model, got {type(make_model).__name__}")
    points = grid_points(grid)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = [seeds]
    if not isinstance(seeds, (list, tuple, range)) or not seeds:
        raise ConfigurationError(f"seeds must be a non-empty list of integers, got {seeds!r}")
    seeds = [check_int("seed", s, 0) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise ConfigurationError(f"seeds {seeds} repeat a seed")
    for k in fit_options:
        if k in OWNED_KEYS:
            raise ConfigurationError(f"sweep sets {k!r} itself (one folder, seed and resume per run); remove it")
        if k not in FIT_KEYS:
            raise ConfigurationError(f"unknown fit option {k!r}; sweep passes these to qml.fit: {', '.join(FIT_KEYS)}")
        if grid and k in grid:
            raise ConfigurationError(f"{k!r} is both in grid and a fixed option; keep one")
    params = inspect.signature(make_model).parameters.values()
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params)
    names = {p.name for p in params}
    for k in points[0]:
        if k not in FIT_KEYS and not takes_any and k not in names:
            raise ConfigurationError(
                f"grid setting {k!r} is neither a qml.fit argument ({', '.join(FIT_KEYS)}) "
                f"nor a parameter of make_model {sorted(names)}"
            )
    if workers is not None and executor is None:
        parallel._check_picklable(make_model, "make_model")
    parallel.check(executor, workers)
    root = Path(run_dir)
    jobs, rows, todo = [], [], []
    for settings in points:
        for seed in seeds:
            folder = root / run_name(settings, seed)
            job = {
                "make_model": make_model,
                "train": train,
                "val": val,
                "seed": seed,
                "folder": str(folder),
                "settings": settings,
                "model_kw": {k: v for k, v in settings.items() if k not in FIT_KEYS},
                "fit_kw": {**fit_options, **{k: v for k, v in settings.items() if k in FIT_KEYS}},
            }
            _claim(folder, settings, seed, fit_options)
            rows.append(read_result(folder / RESULT))
            if rows[-1] is None:
                todo.append(len(jobs))
            jobs.append(job)
    results = parallel.map_tasks(
        _run, [jobs[i] for i in todo], executor=executor, workers=workers, progress=progress, desc="sweep"
    )
    for i, row in zip(todo, results):
        rows[i] = row
    return SweepResult(rows=rows, run_dir=root, settings=list(points[0]))


def _claim(folder: Path, settings: dict, seed: int, fit_options: dict) -> None:
    """Write ``run.json`` of a new run, or check that an existing folder was made with these settings."""
    from .checkpoint import atomic_write_bytes

    record = json.loads(json.dumps({"settings": settings, "seed": seed, "fit_options": fit_options}, default=repr))
    path = folder / SETTINGS
    if path.exists():
        saved = json.loads(path.read_text())
        if saved != record:
            raise ConfigurationError(
                f"{folder} holds a run with other settings ({saved}, now {record}); use another run_dir, "
                "or delete that folder to train it afresh"
            )
        return
    atomic_write_bytes(path, json.dumps(record, indent=1).encode())
