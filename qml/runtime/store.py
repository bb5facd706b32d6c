"""The job store: every hardware job in ``$QML_HOME/jobs.sqlite``, recorded before we wait on it.

SQLite in WAL mode with a busy timeout, one short transaction per write, so
several processes (two training runs, ``qml jobs`` in a terminal) can write at
once.  A row holds the job id, backend, run id, epoch, step, a fingerprint of the
circuit and parameter values, the PUB shapes, the (credential-free) options,
status, timestamps, and the result arrays as ``.npz`` bytes once they arrive.
A run resumed after a kill looks its step up by ``(run_id, epoch, step,
fingerprint)`` and reuses the job instead of paying for it twice.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigurationError

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id      TEXT PRIMARY KEY,
    backend     TEXT NOT NULL,
    run_id      TEXT,
    epoch       INTEGER,
    step        INTEGER,
    fingerprint TEXT NOT NULL,
    pub_shapes  TEXT NOT NULL,
    options     TEXT NOT NULL,
    local       INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL,
    error       TEXT,
    created     REAL NOT NULL,
    updated     REAL NOT NULL,
    result      BLOB
);
CREATE INDEX IF NOT EXISTS jobs_step ON jobs (run_id, epoch, step, fingerprint);
"""
PENDING, DONE, FAILED = "PENDING", "DONE", "FAILED"


def qml_home() -> Path:
    """``$QML_HOME`` or ``~/.qml``."""
    return Path(os.environ.get("QML_HOME") or Path.home() / ".qml")


def default_path() -> Path:
    return qml_home() / "jobs.sqlite"


def pack_arrays(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def unpack_arrays(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


@dataclass
class JobRecord:
    """One row of the job store (``result`` holds the arrays once the job is done)."""

    job_id: str
    backend: str
    run_id: str | None
    epoch: int | None
    step: int | None
    fingerprint: str
    pub_shapes: list
    options: dict
    local: bool
    status: str
    error: str | None
    created: float
    updated: float
    result: dict | None = None

    def summary(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.created))
        where = f"run={self.run_id} epoch={self.epoch} step={self.step}" if self.run_id else "outside fit"
        return f"{self.job_id}  {self.status:<8} {self.backend:<18} {when}  {where}  pubs={self.pub_shapes}"


class JobStore:
    """SQLite job store, safe under concurrent writers.

    Args:
        path: the ``.sqlite`` file (default ``$QML_HOME/jobs.sqlite``); its folder is created.
        timeout: seconds a writer waits for a lock held by another process.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, timeout: float = 30.0):
        self.path = Path(path) if path is not None else default_path()
        self.timeout = timeout
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(
                f"cannot open the job store {self.path}: {exc}; set QML_HOME to a writable folder "
                "or pass store=False to the backend"
            ) from exc

    def _connect(self) -> "_Closing":
        con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")
        return _Closing(con)

    def add(self, *, job_id: str, backend: str, fingerprint: str, pub_shapes, options: dict,
            run_id=None, epoch=None, step=None, local: bool = False) -> None:
        """Record a submitted job as PENDING (call before waiting on it)."""
        now = time.time()
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO jobs (job_id, backend, run_id, epoch, step, fingerprint, pub_shapes,"
                " options, local, status, error, created, updated, result)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL)",
                (job_id, backend, run_id, epoch, step, fingerprint, json.dumps(pub_shapes),
                 json.dumps(options, default=str, sort_keys=True), int(local), PENDING, now, now),
            )

    def set_result(self, job_id: str, **arrays) -> None:
        """Store the result arrays and mark the job DONE."""
        with self._connect() as con:
            con.execute("UPDATE jobs SET status=?, result=?, updated=? WHERE job_id=?",
                        (DONE, pack_arrays(**arrays), time.time(), job_id))

    def set_status(self, job_id: str, status: str, error: str | None = None) -> None:
        with self._connect() as con:
            con.execute("UPDATE jobs SET status=?, error=?, updated=? WHERE job_id=?",
                        (status, error, time.time(), job_id))

    def get(self, job_id: str) -> JobRecord | None:
        """The job ``job_id`` with its result arrays, or ``None``."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM jobs WHERE job_id=?", (job_id,)).fetchone()
        return _record(row) if row else None

    def find(self, run_id, epoch, step, fingerprint: str) -> JobRecord | None:
        """The newest DONE or PENDING job of this step and fingerprint (DONE preferred), or ``None``."""
        with self._connect() as con:
            row = con.execute(
                "SELECT * FROM jobs WHERE run_id IS ? AND epoch IS ? AND step IS ? AND fingerprint=?"
                " AND status IN (?, ?) ORDER BY status = ? DESC, created DESC LIMIT 1",
                (run_id, epoch, step, fingerprint, DONE, PENDING, DONE),
            ).fetchone()
        return _record(row) if row else None

    def list(self, *, run_id: str | None = None, limit: int = 50) -> list[JobRecord]:
        """Newest jobs first (without result arrays)."""
        query = ("SELECT job_id, backend, run_id, epoch, step, fingerprint, pub_shapes, options, local, status,"
                 " error, created, updated, NULL FROM jobs")
        args: tuple = ()
        if run_id is not None:
            query += " WHERE run_id = ?"
            args = (run_id,)
        query += " ORDER BY created DESC LIMIT ?"
        with self._connect() as con:
            rows = con.execute(query, args + (int(limit),)).fetchall()
        return [_record(r) for r in rows]

    def count(self) -> int:
        with self._connect() as con:
            return con.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]

    def __repr__(self):
        return f"JobStore({str(self.path)!r})"


class _Closing:
    """``with`` on a sqlite3 connection commits but does not close; this one closes too."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def __enter__(self) -> sqlite3.Connection:
        return self.con

    def __exit__(self, *exc) -> None:
        self.con.close()

    def execute(self, *args):
        return self.con.execute(*args)


def _record(row) -> JobRecord:
    (job_id, backend, run_id, epoch, step, fp, shapes, options, local, status, error, created, updated,
     result) = row
    return JobRecord(job_id, backend, run_id, epoch, step, fp, json.loads(shapes), json.loads(options),
                     bool(local), status, error, created, updated,
                     unpack_arrays(result) if result is not None else None)
