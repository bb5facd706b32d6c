"""The on-disk format of a data set: a CSV file and its JSON sidecar, written and validated.

A data set ``NAME`` is two files in one directory:

* ``NAME.csv``: a header line of column names, then one line per row; every value is a float
  written with Python's ``repr`` (the shortest string that reads back to the identical float,
  at most 17 significant digits); ``\\n`` line endings; no index column, no blank lines.
* ``NAME.json``: the sidecar: description, units, methods, columns, generating command,
  package versions, ``n_rows``, the ``sha256`` of ``NAME.csv``, default features/target and
  the split definition.

:func:`read` checks everything before returning (sidecar keys, header, every value parses and is
finite, the row count, the hash) and raises :class:`~qml.errors.DataError` naming the file, row
and column of the first problem. Nothing is ever dropped or repaired silently.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
from pathlib import Path

import numpy as np

from ..errors import DataError

#: Keys every sidecar must have.
REQUIRED_KEYS = (
    "name",
    "description",
    "file",
    "sha256",
    "n_rows",
    "columns",
    "units",
    "default_features",
    "default_target",
    "splits",
    "command",
)


def fix_hint(name: str, root: Path | None = None) -> str:
    """How to regenerate data set ``name`` (shown in every DataError)."""
    if root is not None and _same(root, installed_dir()) and not _same(root, source_dir()):
        return (
            f"reinstall the package (`pip install --force-reinstall --no-deps qml-hybrid`), or build "
            f"a copy with `qml datasets build {name} --out DIR` and load it with root=DIR"
        )
    out = "" if root is None or _same(root, source_dir()) else f" --out {root}"
    return (
        f"regenerate it with `qml datasets build {name}{out}` "
        f"(or `python -m qml.data build {name}{out}`), or restore the shipped file"
    )


def _same(a, b) -> bool:
    try:
        return a is not None and b is not None and Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


# --------------------------------------------------------------------------- locations
def source_dir() -> Path | None:
    """The ``datasets/`` directory of a source checkout (next to the ``qml`` package), or None."""
    path = Path(__file__).resolve().parents[2] / "datasets"
    return path if path.is_dir() else None


def installed_dir() -> Path | None:
    """The data directory shipped inside an installed wheel (package ``qml._datasets``), or None."""
    try:
        spec = importlib.util.find_spec("qml._datasets")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0])
    return path if path.is_dir() else None


def data_dir(root=None) -> Path:
    """Where data sets are read from: ``root`` if given, else the installed or source-checkout copy.

    Raises:
        DataError: ``root`` is not a directory, or no data directory is installed.
    """
    if root is not None:
        path = Path(root)
        if not path.is_dir():
            raise DataError(f"data directory {str(path)!r} does not exist or is not a directory")
        return path
    for path in (installed_dir(), source_dir()):
        if path is not None:
            return path
    raise DataError(
        "the qml data files are not installed: neither the package qml._datasets nor a source "
        "checkout's datasets/ directory was found; reinstall qml-hybrid or pass root=<directory>"
    )


def paths(name: str, root) -> tuple[Path, Path]:
    """``(csv_path, sidecar_path)`` of data set ``name`` in directory ``root``."""
    root = Path(root)
    return root / f"{name}.csv", root / f"{name}.json"


# --------------------------------------------------------------------------- writing
def format_value(x) -> str:
    """A float as its shortest round-trip string (``repr``), e.g. ``-1.1372838344885012``."""
    x = float(x)
    if not math.isfinite(x):
        raise DataError(f"refusing to write the non-finite value {x!r}")
    return repr(x)


def encode(columns, rows) -> bytes:
    """The CSV bytes of ``rows`` (a sequence of equal-length float sequences)."""
    lines = [",".join(columns)]
    for i, row in enumerate(rows):
        if len(row) != len(columns):
            raise DataError(f"row {i} has {len(row)} values for {len(columns)} columns {list(columns)}")
        lines.append(",".join(format_value(v) for v in row))
    return ("\n".join(lines) + "\n").encode("ascii")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(name: str, columns, rows, meta: dict, out_dir) -> Path:
    """Write ``NAME.csv`` and its sidecar ``NAME.json`` into ``out_dir``; return the CSV path.

    ``meta`` is completed with ``name``, ``file``, ``columns``, ``n_rows`` and ``sha256``.
    Both files are written to temporary names first and renamed, so a crash never leaves
    a half-written data set.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = encode(columns, rows)
    csv_path, meta_path = paths(name, out_dir)
    meta = dict(meta, name=name, file=csv_path.name, columns=list(columns), n_rows=len(rows), sha256=sha256(data))
    text = json.dumps(meta, indent=2, sort_keys=False) + "\n"
    for path, payload in ((csv_path, data), (meta_path, text.encode("utf-8"))):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    return csv_path


# --------------------------------------------------------------------------- reading
def read_meta(name: str, root) -> dict:
    """Read and check the sidecar of ``name`` in ``root``.

    Raises:
        DataError: missing or unreadable sidecar, or a required key missing.
    """
    csv_path, meta_path = paths(name, root)
    if not meta_path.is_file():
        raise DataError(f"metadata sidecar {meta_path} of data set {name!r} is missing; {fix_hint(name, root)}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"metadata sidecar {meta_path} is not valid JSON ({exc}); {fix_hint(name, root)}") from None
    if not isinstance(meta, dict):
        raise DataError(f"metadata sidecar {meta_path} must hold a JSON object; {fix_hint(name, root)}")
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise DataError(f"metadata sidecar {meta_path} lacks the key(s) {missing}; {fix_hint(name, root)}")
    if meta["name"] != name or meta["file"] != csv_path.name:
        raise DataError(
            f"metadata sidecar {meta_path} describes {meta['name']!r} ({meta['file']!r}), not {name!r}; "
            f"{fix_hint(name, root)}"
        )
    return meta


def read(name: str, root) -> tuple[dict, list[str], np.ndarray]:
    """Read and validate data set ``name`` from directory ``root``.

    Returns:
        ``(meta, columns, values)``: the sidecar dict, the column names and a float64 array of
        shape ``(n_rows, n_columns)``.

    Raises:
        DataError: a missing file or sidecar; a header that differs from the sidecar's columns
            (missing, extra or reordered column); a row with the wrong number of values; a value
            that does not parse as a float or is NaN/infinite; a row count that differs from the
            sidecar's ``n_rows``; a content hash that differs from the sidecar's ``sha256``.
            The message names the file, the row (0-based data row and file line) and the column.
    """
    meta = read_meta(name, root)
    csv_path, meta_path = paths(name, root)
    hint = fix_hint(name, root)
    if not csv_path.is_file():
        raise DataError(f"data file {csv_path} of data set {name!r} is missing; {hint}")
    data = csv_path.read_bytes()
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise DataError(f"{csv_path} contains a non-ASCII byte at offset {exc.start}; {hint}") from None
    if "\r" in text:
        raise DataError(
            f"{csv_path} has Windows (\\r\\n) line endings, which change its hash; "
            f"convert it to \\n line endings (git: `*.csv -text`) or {hint}"
        )
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise DataError(f"{csv_path} is empty; {hint}")
    columns = lines[0].split(",")
    expected = list(meta["columns"])
    if columns != expected:
        missing = [c for c in expected if c not in columns]
        extra = [c for c in columns if c not in expected]
        detail = (
            f"missing column(s) {missing}"
            if missing
            else f"unexpected column(s) {extra}"
            if extra
            else "columns in a different order"
        )
        raise DataError(
            f"{csv_path}: header {columns} does not match the sidecar's columns {expected} ({detail}); {hint}"
        )
    values = np.empty((len(lines) - 1, len(columns)), dtype=np.float64)
    for i, line in enumerate(lines[1:]):
        where = f"{csv_path}, data row {i} (line {i + 2})"
        fields = line.split(",")
        if len(fields) != len(columns):
            raise DataError(
                f"{where} has {len(fields)} values but the header has {len(columns)} columns {columns}; {hint}"
            )
        for j, field in enumerate(fields):
            try:
                x = float(field)
            except ValueError:
                raise DataError(f"{where}, column {columns[j]!r}: cannot parse {field!r} as a number; {hint}") from None
            if not math.isfinite(x):
                raise DataError(f"{where}, column {columns[j]!r}: value {field!r} is not finite; {hint}")
            values[i, j] = x
    if len(values) != meta["n_rows"]:
        raise DataError(
            f"{csv_path} has {len(values)} data rows but its sidecar {meta_path.name} says "
            f"n_rows = {meta['n_rows']}: rows were added or removed; {hint}"
        )
    digest = sha256(data)
    if digest != meta["sha256"]:
        raise DataError(
            f"{csv_path} has sha256 {digest} but its sidecar {meta_path.name} records "
            f"{meta['sha256']}: the file was edited or corrupted; {hint}"
        )
    return meta, columns, values
