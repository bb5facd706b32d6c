"""Tables out: results as columns, for pandas, CSV files and notebooks.

A table here is a plain ``dict`` of equal-length lists, ``{column: [values]}``, built by one
function per kind of result:

* :func:`history` (``qml.fit``'s History: one row per epoch),
* :func:`scan` (``qml.chem.scan``: one row per geometry),
* :func:`vqe` (``qml.chem.vqe``: one summary row, or one row per step with ``steps=True``),
* :func:`jobs` (the job store's records),
* :func:`predictions` (a ``PESModel``'s energies over a grid of geometries),
* :func:`decision` (what ``backend="auto"`` measured and chose).

:func:`to_pandas` turns one into a ``pandas.DataFrame`` (pandas is an optional extra:
``pip install "qml-hybrid[interop]"``), :func:`write_csv` writes one without pandas, and
:func:`html` renders one for a notebook (the ``_repr_html_`` of results).
"""

from __future__ import annotations

import csv
import json
import math
import os
from html import escape
from pathlib import Path

import numpy as np

from .errors import ConfigurationError


def _scalar(v):
    """A CSV/pandas-friendly cell: numbers and strings as they are, containers as JSON, numpy as Python."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (dict, list, tuple, np.ndarray)):
        return json.dumps(np.asarray(v).tolist() if isinstance(v, np.ndarray) else v, default=str)
    return v


def _from_rows(rows: list[dict], first: tuple = ()) -> dict:
    cols = [c for c in first if any(c in r for r in rows)]
    for r in rows:
        cols += [k for k in r if k not in cols]
    return {c: [_scalar(r.get(c)) for r in rows] for c in cols}


# ---------------------------------------------------------------------- builders
def history(h) -> dict:
    """One row per epoch of a :class:`qml.History`: ``epoch, train_loss, val_loss, lr, time`` and counters."""
    from .train.history import History

    if not isinstance(h, History):
        raise TypeError(f"expected a qml.History (what qml.fit returns), got {type(h).__name__}")
    return _from_rows(h.records, ("epoch", "train_loss", "val_loss", "lr", "time"))


def scan(result) -> dict:
    """One row per geometry of a :class:`qml.chem.ScanResult` (parameters left out)."""
    from .chem.scan import ScanResult

    if not isinstance(result, ScanResult):
        raise TypeError(f"expected a qml.chem.ScanResult (what qml.chem.scan returns), got {type(result).__name__}")
    return {k: [_scalar(v) for v in col] for k, col in result.columns.items()}


_VQE_FIELDS = (
    "molecule",
    "ansatz",
    "n_params",
    "optimizer",
    "backend",
    "energy",
    "exact_energy",
    "hf_energy",
    "error_mha",
    "chemical_accuracy",
    "energy_stderr",
    "n_evaluations",
    "wall_time",
    "converged",
)


def vqe(result, *, steps: bool = False) -> dict:
    """A :class:`qml.chem.VQEResult` as one summary row, or with ``steps=True`` one row per optimiser step
    (``step, energy, error_mha``)."""
    from .chem.vqe import VQEResult

    if not isinstance(result, VQEResult):
        raise TypeError(f"expected a qml.chem.VQEResult (what qml.chem.vqe returns), got {type(result).__name__}")
    if not isinstance(steps, bool):
        raise TypeError(f"steps must be True or False, got {steps!r}")
    if steps:
        e = np.asarray(result.history, dtype=float)
        return {
            "step": list(range(len(e))),
            "energy": e.tolist(),
            "error_mha": ((e - result.exact_energy) * 1e3).tolist(),
        }
    from .backends import ran

    row = {k: [_scalar(getattr(result, k))] for k in _VQE_FIELDS}
    row["backend"] = [ran(result.backend)]  # what ran (what auto chose), as a name
    return row


def jobs(records) -> dict:
    """One row per :class:`qml.runtime.store.JobRecord` (result arrays left out)."""
    from dataclasses import asdict

    from .runtime.store import JobRecord

    records = [records] if isinstance(records, JobRecord) else list(records)
    bad = [type(r).__name__ for r in records if not isinstance(r, JobRecord)]
    if bad:
        raise TypeError(f"expected JobRecord objects (JobStore().list()), got {bad[0]}")
    rows = []
    for r in records:
        rows.append({k: v for k, v in asdict(r).items() if k != "result"})
    return _from_rows(rows, ("job_id", "status", "backend", "run_id", "epoch", "step", "created", "updated"))


def predictions(model, x, *, exact: bool = False) -> dict:
    """A ``PESModel``'s energies over geometries ``x``: one column per coordinate, ``energy``, ``stderr``
    (zeros on exact backends) and, with ``exact=True``, ``exact`` and ``error_mha`` (exact diagonalisation
    at each geometry: costly for wide active spaces).

    Raises:
        TypeError: not a model with ``energy`` and ``surface`` (a ``qml.PESModel``).
        DataError / ConfigurationError: geometries the model's surface refuses (before any energy).
    """
    if not (hasattr(model, "surface") and hasattr(model, "energy")):
        raise TypeError(f"expected a qml.PESModel, got {type(model).__name__}")
    if not isinstance(exact, bool):
        raise TypeError(f"exact must be True or False, got {exact!r}")
    coords = model.check(x)
    e, s = model.energy(coords, return_std=True)
    table = {name: coords[:, i].tolist() for i, name in enumerate(model.surface.coordinate_names)}
    table["energy"] = np.asarray(e, dtype=float).tolist()
    table["stderr"] = np.asarray(s, dtype=float).tolist()
    if exact:
        ex = np.atleast_1d(model.exact_energy(coords))
        table["exact"] = ex.tolist()
        table["error_mha"] = ((np.asarray(e) - ex) * 1e3).tolist()
    return table


def decision(d) -> dict:
    """``backend="auto"``'s decision: one row per candidate (``backend, seconds, predicted_seconds, chosen, note``)."""
    if not (hasattr(d, "chosen") and hasattr(d, "timings")):
        raise TypeError(f"expected an auto-backend Decision (backend.decision), got {type(d).__name__}")
    names = list(d.timings) or [d.chosen]
    return {
        "backend": names,
        "seconds": [_finite(d.timings.get(n)) for n in names],
        "predicted_seconds": [_finite(d.predicted.get(n)) for n in names],
        "chosen": [n == d.chosen for n in names],
        "note": [d.notes.get(n, "") for n in names],
    }


def _finite(v):
    return None if v is None or not math.isfinite(v) else float(v)


# ---------------------------------------------------------------------- outputs
def _check(table) -> dict:
    if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
        raise TypeError("a table is a dict of equal-length lists, e.g. qml.tables.history(h)")
    lengths = {len(v) for v in table.values()}
    if len(lengths) > 1:
        raise ConfigurationError(f"table columns have different lengths {sorted(lengths)}")
    return table


def to_pandas(table):
    """The table as a ``pandas.DataFrame`` (optional extra: ``pip install "qml-hybrid[interop]"``)."""
    from .chem.io import require

    _check(table)
    pd = require("pandas")
    return pd.DataFrame(table)


def write_csv(table, path) -> Path:
    """Write the table to ``path`` as CSV (header row, empty cell for ``None``); returns the path.

    Raises:
        TypeError: ``path`` is not a path. ConfigurationError: its folder does not exist.
    """
    _check(table)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path, got {type(path).__name__}")
    path = Path(path)
    if not path.parent.is_dir():
        raise ConfigurationError(f"cannot write {path}: the folder {path.parent} does not exist")
    cols = list(table)
    n = len(next(iter(table.values()), []))
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for i in range(n):
            w.writerow(["" if table[c][i] is None else table[c][i] for c in cols])
    return path


def html(table, title: str = "", *, max_rows: int = 40) -> str:
    """A small HTML table (at most ``max_rows`` rows, first and last halves) for ``_repr_html_``."""
    _check(table)
    cols = list(table)
    n = len(next(iter(table.values()), []))
    idx = list(range(n)) if n <= max_rows else [*range(max_rows // 2), None, *range(n - max_rows // 2, n)]

    def cell(v):
        if isinstance(v, float):
            return f"{v:.10g}"
        return escape("" if v is None else str(v))

    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join("<td>...</td>" for _ in cols) + "</tr>"
        if i is None
        else "<tr>" + "".join(f"<td>{cell(table[c][i])}</td>" for c in cols) + "</tr>"
        for i in idx
    )
    cap = f"<b>{escape(title)}</b>" if title else ""
    return f"<div>{cap}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
