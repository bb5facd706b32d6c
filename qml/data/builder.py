"""Build the data files with PySCF, and verify shipped files by regenerating rows.

``build("lih_pes")`` recomputes every row and rewrites ``datasets/lih_pes.csv`` and its sidecar;
``verify("h2o_distortions", rows="0:10")`` recomputes ten rows and compares them with the file.
Rows are independent tasks of :func:`qml.parallel.map_tasks`: ``workers=N`` or ``executor=`` (a
``concurrent.futures`` executor or a Dask client) spread them; the file is the same bit for bit.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigurationError, DataError, check_int
from . import files, registry
from .energies import CONVERGENCE, METHODS

#: Largest allowed difference between a regenerated and a shipped energy (Hartree).
VERIFY_TOL = 1e-8


def _versions() -> dict:
    import numpy
    import pyscf

    from .. import __version__

    return {
        "qml": __version__,
        "pyscf": pyscf.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def _command(spec: registry.DatasetSpec, n: int) -> str:
    rows = "" if n == spec.n_rows else f" --rows {n}"
    return f"qml datasets build {spec.name}{rows}"


def _molecule_meta(spec: registry.DatasetSpec) -> dict:
    from ..chem import Molecule, catalog

    if spec.name == "h2o_distortions":
        entry = catalog.get("H2O")
        return {
            "molecule": {
                "name": "H2O",
                "symbols": list(entry.symbols),
                "charge": entry.charge,
                "multiplicity": entry.multiplicity,
            },
            "active_space": None,
            "sampling": spec.extra["sampling"],
        }
    entry = catalog.get(spec.extra["molecule"])
    mol = Molecule.from_name(entry.name, entry.r_eq)
    n_core = (mol.total_electrons - mol.n_electrons) // 2
    return {
        "molecule": {
            "name": entry.name,
            "symbols": list(entry.symbols),
            "charge": entry.charge,
            "multiplicity": entry.multiplicity,
            "r": entry.description,
            "r_eq": entry.r_eq,
            "geometry": "qml.chem.Molecule.from_name(name, r)",
        },
        "active_space": {
            "electrons": mol.n_electrons,
            "orbitals": mol.n_orbitals,
            "frozen_core_orbitals": n_core,
            "qubits": mol.n_qubits,
            "total_electrons": mol.total_electrons,
            "total_orbitals": mol.n_orbitals_total,
        },
        "scan": {
            "start": entry.scan_range[0],
            "stop": entry.scan_range[1],
            "points": None,
            "grid": "numpy.linspace(start, stop, points) = catalog.get(name).scan_values(points)",
        },
    }


def describe(spec: registry.DatasetSpec) -> str:
    """The sidecar's one-line description: for a PES, with the catalog's scan range and active space."""
    if "sampling" in spec.extra:
        return spec.description
    from ..chem import catalog

    entry = catalog.get(spec.extra["molecule"])
    space = (
        "full space"
        if entry.active_electrons is None
        else f"({entry.active_electrons}e, {entry.active_orbitals}o) active space"
    )
    return (
        f"{entry.name} PES, r = {entry.scan_range[0]}..{entry.scan_range[1]} A ({entry.description}): "
        f"HF, CCSD, FCI, exact {space} energies"
    )


def sidecar(spec: registry.DatasetSpec, n: int) -> dict:
    """The sidecar fields of ``spec`` built with ``n`` rows (without ``n_rows``/``sha256``)."""
    meta = {
        "name": spec.name,
        "description": describe(spec),
        "basis": "sto-3g",
        **_molecule_meta(spec),
        "units": {c: registry.UNITS[c] for c in spec.columns},
        "methods": {c: METHODS[c] for c in spec.energies},
        "convergence": CONVERGENCE,
        "default_features": list(spec.inputs),
        "default_target": spec.default_target,
        "splits": registry.DEFAULT_SPLITS,
        "command": _command(spec, n),
        "versions": _versions(),
        "format": "CSV: header line, then one row per line, floats as Python repr (shortest round-trip, "
        "<= 17 significant digits), \\n line endings; sha256 is of the CSV bytes",
    }
    if "scan" in meta:
        meta["scan"] = dict(meta["scan"], points=n)
    return meta


def _row_task(job) -> list[float]:
    """One row of a data set: ``job = (name, inputs)``; runs in a worker process."""
    name, x = job
    return registry.get(name).row(x)


def _row_content(meta: dict):
    """The content key of a row: the inputs plus everything in the sidecar that determines its energies."""
    fixed = {
        k: meta.get(k) for k in ("name", "basis", "molecule", "active_space", "sampling", "methods", "convergence")
    }
    return lambda job: {"task": "qml.data row", **fixed, "inputs": list(job[1])}


def _rows(spec, inputs, meta, *, executor, workers, cache, progress, desc) -> list[list[float]]:
    from .. import parallel

    jobs = [(spec.name, tuple(float(v) for v in x)) for x in inputs]
    return parallel.map_tasks(
        _row_task,
        jobs,
        executor=executor,
        workers=workers,
        cache=cache,
        key=_row_content(meta),
        progress=progress,
        desc=desc,
    )


def _check_count(rows, default: int) -> int:
    if rows is None:
        return default
    return check_int("rows", rows, what="the number of rows to build, a positive integer")


def build(
    name: str,
    rows: int | None = None,
    out_dir=None,
    progress: bool = True,
    *,
    executor=None,
    workers: int | None = None,
    cache=True,
) -> Path:
    """Compute data set ``name`` with PySCF and write ``NAME.csv`` + ``NAME.json``.

    The file does not depend on ``executor``/``workers``: rows are computed one task each, with
    one thread each, and written in input order.

    Args:
        name: a data set name (see :func:`qml.list_datasets`).
        rows: number of rows to build (default: the shipped number). For a PES the grid is
            ``rows`` evenly spaced points over the scan range; for ``h2o_distortions`` the first
            ``rows`` seeded samples (a prefix of any larger build).
        out_dir: output directory; default: the ``datasets/`` directory of the source checkout.
        progress: show a tqdm progress bar.
        executor: where rows run: None (this process), a ``concurrent.futures.Executor``, a
            ``dask.distributed.Client``, ``"dask"`` or a scheduler address (see :mod:`qml.parallel`).
        workers: a local pool of this many processes (one thread each) instead of ``executor``.
        cache: ``True`` (default): finished rows are kept in ``OUT_DIR/.NAME.cache/`` until the
            files are written, so a killed build resumes where it stopped; a folder: keep them
            there (and leave it); ``False``: no cache. Rows are keyed by their content and the
            package versions, not by the code: after editing the energy code, build with a fresh
            cache (or ``cache=False``).

    Returns:
        Path of the written CSV file.

    Raises:
        ConfigurationError: unknown name, bad ``rows``, no ``out_dir`` outside a source checkout,
            or bad ``executor``/``workers`` (see :func:`qml.parallel.runner`).
        MissingDependencyError: a Dask executor without dask installed.
        DataError: an SCF/CCSD calculation did not converge.
    """
    from .. import parallel

    spec = registry.get(name)
    n = _check_count(rows, spec.n_rows)
    parallel.check(executor, workers)
    if out_dir is None:
        out_dir = files.source_dir()
        if out_dir is None:
            raise ConfigurationError(
                "no source checkout with a datasets/ directory was found; pass out_dir=<directory> "
                "(CLI: --out DIR) to choose where to write the data set"
            )
    meta = sidecar(spec, n)
    store = parallel.TaskCache(Path(out_dir) / f".{spec.name}.cache") if cache is True else parallel.as_cache(cache)
    table = _rows(
        spec,
        spec.make_inputs(n),
        meta,
        executor=executor,
        workers=workers,
        cache=store,
        progress=progress,
        desc=spec.name,
    )
    path = files.write(spec.name, spec.columns, table, meta, out_dir)
    if cache is True:
        store.clear()
    return path


def parse_rows(rows, n_rows: int) -> list[int]:
    """Row indices selected by ``rows``: None (all), an int, a slice, ``"a:b[:c]"`` or ``"i"``, or a list.

    Raises:
        ConfigurationError: unparsable selection, an index out of range, or an empty selection.
    """
    if rows is None:
        return list(range(n_rows))
    if isinstance(rows, str):
        text = rows.strip()
        try:
            if ":" in text:
                parts = [int(p) if p.strip() else None for p in text.split(":")]
                if len(parts) > 3:
                    raise ValueError
                rows = slice(*parts)
            else:
                rows = [int(text)]
        except ValueError:
            raise ConfigurationError(
                f"cannot parse rows {rows!r}; use START:STOP (e.g. 0:10), START:STOP:STEP or an index"
            ) from None
    if isinstance(rows, (int, np.integer)) and not isinstance(rows, bool):
        rows = [rows]
    if isinstance(rows, slice):
        out = list(range(n_rows))[rows]
    else:
        out = []
        for i in rows:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -n_rows <= i < n_rows:
                raise ConfigurationError(f"row {i!r} is out of range for a data set of {n_rows} rows")
            out.append(int(i) % n_rows)
    if not out:
        raise ConfigurationError(f"rows {rows!r} select no row of a data set of {n_rows} rows")
    return out


@dataclass
class VerifyReport:
    """What :func:`verify` found.

    Attributes:
        name: data set name.
        path: the file checked.
        rows: the row indices regenerated.
        max_abs_dev: largest ``|regenerated - shipped|`` per column (inputs and energies).
        worst: ``(row, column)`` of the largest energy deviation (None if all are exactly zero).
        tol: tolerance (Hartree for energies; inputs must match to 1e-12).
    """

    name: str
    path: Path
    rows: list[int]
    max_abs_dev: dict[str, float] = field(default_factory=dict)
    worst: tuple[int, str] | None = None
    energies: tuple[str, ...] = ()
    tol: float = VERIFY_TOL

    @property
    def max_energy_dev(self) -> float:
        return max((self.max_abs_dev[c] for c in self.energies), default=0.0)

    @property
    def max_input_dev(self) -> float:
        return max((v for c, v in self.max_abs_dev.items() if c not in self.energies), default=0.0)

    @property
    def ok(self) -> bool:
        return self.max_energy_dev <= self.tol and self.max_input_dev <= 1e-12

    def __str__(self) -> str:
        status = "OK" if self.ok else "MISMATCH"
        devs = ", ".join(f"{c} {v:.1e}" for c, v in self.max_abs_dev.items())
        where = f"; worst at row {self.worst[0]}, column {self.worst[1]!r}" if self.worst else ""
        return (
            f"{self.name}: {status}: {len(self.rows)} row(s) regenerated, max |regenerated - shipped| "
            f"{self.max_energy_dev:.2e} Ha (tolerance {self.tol:g}){where} [{devs}]"
        )


def verify(
    name: str,
    rows=None,
    root=None,
    progress: bool = True,
    tol: float = VERIFY_TOL,
    *,
    executor=None,
    workers: int | None = None,
) -> VerifyReport:
    """Regenerate rows of a data set with PySCF and compare them with the file.

    The file is first validated (hash, columns, values). Its input columns must equal the
    registry's inputs (same grid or same seeded samples) to 1e-12; the energies recomputed at
    those inputs must match to ``tol`` Hartree.

    Args:
        name: data set name.
        rows: which rows (see :func:`parse_rows`; e.g. ``"0:10"``); default all.
        root: directory holding the files (default: the shipped data).
        progress: show a tqdm progress bar.
        tol: energy tolerance in Hartree.
        executor, workers: where rows are regenerated, as in :func:`build`.

    Returns:
        VerifyReport (``.ok`` tells whether everything matched).

    Raises:
        ConfigurationError: unknown name, bad ``rows``, ``executor`` or ``workers``.
        DataError: the file is malformed (see :func:`qml.data.files.read`).
    """
    from .. import parallel

    spec = registry.get(name)
    parallel.check(executor, workers)
    root = files.data_dir(root)
    meta, columns, values = files.read(spec.name, root)
    if columns != list(spec.columns):
        raise DataError(
            f"{files.paths(spec.name, root)[0]} has columns {columns}, but {spec.name!r} is built "
            f"with {list(spec.columns)}; {files.fix_hint(spec.name, root)}"
        )
    index = parse_rows(rows, len(values))
    expected_inputs = spec.make_inputs(len(values))
    report = VerifyReport(
        spec.name, files.paths(spec.name, root)[0], index, dict.fromkeys(columns, 0.0), energies=spec.energies, tol=tol
    )
    worst = 0.0  # report.worst stays None when every row matches exactly
    regenerated = _rows(
        spec,
        [values[i][: len(spec.inputs)] for i in index],
        meta,
        executor=executor,
        workers=workers,
        cache=None,
        progress=progress,
        desc=f"verify {spec.name}",
    )
    for i, fresh in zip(index, regenerated):
        stored = values[i]
        for j, c in enumerate(columns):
            ref = expected_inputs[i, j] if j < len(spec.inputs) else fresh[j]
            dev = abs(float(ref) - float(stored[j]))
            report.max_abs_dev[c] = max(report.max_abs_dev[c], dev)
            if c in spec.energies and dev > worst:
                worst, report.worst = dev, (i, c)
    return report
