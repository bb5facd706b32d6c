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
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigurationError, JobStoreError

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
#: columns added after the first release (added to older stores when they are opened for writing)
MIGRATIONS = {"pid": "ALTER TABLE jobs ADD COLUMN pid INTEGER"}


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
    """The arrays of a stored result (``allow_pickle=False``: an object array is refused, never unpickled).

    Raises:
        JobStoreError: the blob is damaged or holds something other than plain arrays.
    """
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise JobStoreError(
            f"a job result in the job store is damaged or holds data other than plain arrays ({exc}); it was not "
            "loaded (nothing in it ran); `qml jobs list` shows the store's rows"
        ) from None


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
    pid: int | None = None
    result: dict | None = None

    def summary(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.created))
        where = f"run={self.run_id} epoch={self.epoch} step={self.step}" if self.run_id else "outside fit"
        return f"{self.job_id}  {self.status:<8} {self.backend:<18} {when}  {where}  pubs={self.pub_shapes}"

    def _repr_html_(self) -> str:
        from ..tables import html, jobs

        return html(jobs([self]), f"job {self.job_id}")


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
            if not self.path.exists():
                # created 0600 before SQLite opens it: it holds job ids and options (its -wal and
                # -shm files take the same mode)
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            with self._connect() as con:
                con.executescript(SCHEMA)
                have = {row[1] for row in con.execute("PRAGMA table_info(jobs)")}
                for column, sql in MIGRATIONS.items():
                    if column not in have:
                        con.execute(sql)
        except JobStoreError:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(
                f"cannot open the job store {self.path}: {exc}; set QML_HOME to a writable folder "
                "or pass store=False to the backend"
            ) from exc

    @classmethod
    def existing(cls, path: str | os.PathLike | None = None, **kwargs) -> "JobStore | None":
        """The store at ``path`` if the file exists, else ``None`` (creates nothing: for read-only commands)."""
        path = Path(path) if path is not None else default_path()
        return cls(path, **kwargs) if path.exists() else None

    def _connect(self) -> "_Closing":
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            _raise_if_damaged(self.path, exc)
            raise
        return _Closing(con, self.path)

    def add(
        self,
        *,
        job_id: str,
        backend: str,
        fingerprint: str,
        pub_shapes,
        options: dict,
        run_id=None,
        epoch=None,
        step=None,
        local: bool = False,
    ) -> None:
        """Record a submitted job as PENDING (call before waiting on it)."""
        now = time.time()
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO jobs (job_id, backend, run_id, epoch, step, fingerprint, pub_shapes,"
                " options, local, status, error, created, updated, result, pid)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, ?)",
                (
                    job_id,
                    backend,
                    run_id,
                    epoch,
                    step,
                    fingerprint,
                    json.dumps(pub_shapes),
                    json.dumps(options, default=str, sort_keys=True),
                    int(local),
                    PENDING,
                    now,
                    now,
                    os.getpid(),
                ),
            )

    def set_result(self, job_id: str, **arrays) -> None:
        """Store the result arrays and mark the job DONE."""
        with self._connect() as con:
            con.execute(
                "UPDATE jobs SET status=?, result=?, updated=? WHERE job_id=?",
                (DONE, pack_arrays(**arrays), time.time(), job_id),
            )

    def set_status(self, job_id: str, status: str, error: str | None = None) -> None:
        with self._connect() as con:
            con.execute(
                "UPDATE jobs SET status=?, error=?, updated=? WHERE job_id=?", (status, error, time.time(), job_id)
            )

    def get(self, job_id: str) -> JobRecord | None:
        """The job ``job_id`` with its result arrays, or ``None``."""
        with self._connect() as con:
            row = con.execute(f"SELECT {_COLUMNS}, result FROM jobs WHERE job_id=?", (job_id,)).fetchone()
        return _record(row) if row else None

    def find(self, run_id, epoch, step, fingerprint: str) -> JobRecord | None:
        """The newest DONE or PENDING job of this step and fingerprint (DONE preferred), or ``None``."""
        with self._connect() as con:
            row = con.execute(
                f"SELECT {_COLUMNS}, result FROM jobs WHERE run_id IS ? AND epoch IS ? AND step IS ? AND fingerprint=?"
                " AND status IN (?, ?) ORDER BY status = ? DESC, created DESC LIMIT 1",
                (run_id, epoch, step, fingerprint, DONE, PENDING, DONE),
            ).fetchone()
        return _record(row) if row else None

    def list(self, *, run_id: str | None = None, limit: int = 50, status: str | None = None) -> list[JobRecord]:
        """Newest jobs first (without result arrays), optionally of one run and/or one status."""
        query = f"SELECT {_COLUMNS}, NULL FROM jobs"
        where, args = [], ()
        if run_id is not None:
            where.append("run_id = ?")
            args += (run_id,)
        if status is not None:
            where.append("status = ?")
            args += (status,)
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY created DESC LIMIT ?"
        with self._connect() as con:
            rows = con.execute(query, args + (int(limit),)).fetchall()
        return [_record(r) for r in rows]

    def reconcile(self, *, service=None, run_id: str | None = None) -> dict[str, str]:
        """Settle the PENDING rows a killed run left behind; returns ``{job_id: what was found}``.

        A local-testing-mode job whose process has ended is marked FAILED ("lost", nothing was
        charged). A job on IBM Quantum is looked up with ``service`` when one is given: its result is
        stored (DONE), or it is marked FAILED (error, cancelled, unknown to the service), or it stays
        PENDING because it is still queued or running. Without a service it stays PENDING, and the
        note says it was not checked.
        """
        from .credentials import redact
        from .failures import is_not_found

        notes = {}
        for rec in self.list(run_id=run_id, status=PENDING, limit=1_000_000):
            jid = rec.job_id
            if rec.local:
                if rec.pid is not None and rec.pid != os.getpid() and pid_alive(rec.pid):
                    notes[jid] = f"running now in process {rec.pid} (local testing mode)"
                    continue
                self.set_status(
                    jid,
                    FAILED,
                    "lost: the process that ran it (local testing mode) ended before it finished; nothing was charged",
                )
                notes[jid] = "lost with its process (local testing mode): marked FAILED"
                continue
            if service is None:
                notes[jid] = f"not checked (no IBM Quantum connection); `qml jobs fetch {jid}` gets its result"
                continue
            try:
                job = service.job(jid)
                status = job.status()
                status = str(getattr(status, "name", status)).upper()
                if status == "DONE":
                    data = job.result()[0].data
                    n_out, n_evals = rec.pub_shapes[0]
                    arrays = {
                        k: np.broadcast_to(
                            np.asarray(getattr(data, k), dtype=np.float64).reshape(n_out, -1), (n_out, n_evals)
                        )
                        for k in ("evs", "stds")
                    }
                    self.set_result(jid, **arrays)
                    notes[jid] = "finished on IBM Quantum: result stored (DONE)"
                elif status in ("ERROR", "CANCELLED", "FAILED"):
                    message = getattr(job, "error_message", lambda: "")() or status.lower()
                    self.set_status(jid, FAILED, redact(str(message)))
                    notes[jid] = f"{status.lower()} on IBM Quantum: marked FAILED"
                else:
                    notes[jid] = f"{status.lower()} on IBM Quantum (checked just now)"
            except Exception as exc:  # noqa: BLE001 - one unreachable job must not stop the others
                if is_not_found(exc):
                    self.set_status(jid, FAILED, "not found by IBM Quantum for this account")
                    notes[jid] = "unknown to IBM Quantum: marked FAILED"
                else:
                    notes[jid] = f"not checked ({type(exc).__name__}: {redact(str(exc))})"
        return notes

    def to_pandas(self, **filters):
        """The records of :meth:`list` (same filters) as a ``pandas.DataFrame`` (optional extra ``pandas``)."""
        from ..tables import jobs, to_pandas

        return to_pandas(jobs(self.list(**filters)))

    def to_csv(self, path, **filters):
        """Write the records of :meth:`list` (same filters) to a CSV file; returns the path."""
        from ..tables import jobs, write_csv

        return write_csv(jobs(self.list(**filters)), path)

    def count(self) -> int:
        with self._connect() as con:
            return con.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]

    def __repr__(self):
        return f"JobStore({str(self.path)!r})"


class _Closing:
    """``with`` on a sqlite3 connection commits but does not close; this one closes too, and turns
    SQLite's "not a database" / "malformed" errors into a :class:`JobStoreError` naming the file."""

    def __init__(self, con: sqlite3.Connection, path: Path):
        self.con, self.path = con, path

    def __enter__(self) -> sqlite3.Connection:
        return self.con

    def __exit__(self, exc_type, exc, tb) -> None:
        self.con.close()
        if exc is not None and isinstance(exc, sqlite3.DatabaseError):
            _raise_if_damaged(self.path, exc)

    def execute(self, *args):
        return self.con.execute(*args)


_COLUMNS = (
    "job_id, backend, run_id, epoch, step, fingerprint, pub_shapes, options, local, status, error, "
    "created, updated, pid"
)


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` runs on this machine (also used by the checkpoint writer's cleanup)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _raise_if_damaged(path: Path, exc: sqlite3.DatabaseError) -> None:
    """Raise JobStoreError for a damaged file (not for locks or permissions: those are OperationalError)."""
    if isinstance(exc, sqlite3.OperationalError):
        return
    raise JobStoreError(
        f"the job store {path} is damaged ({exc}). Move it aside (e.g. `mv {path} {path}.damaged`): the next "
        "run starts a new one. Jobs it recorded are still listed on IBM Quantum's dashboard, and "
        "`qml jobs fetch ID` can fetch one by id"
    ) from exc


def _record(row) -> JobRecord:
    (job_id, backend, run_id, epoch, step, fp, shapes, options, local, status, error, created, updated, pid, result) = (
        row
    )
    return JobRecord(
        job_id,
        backend,
        run_id,
        epoch,
        step,
        fp,
        json.loads(shapes),
        json.loads(options),
        bool(local),
        status,
        error,
        created,
        updated,
        pid,
        unpack_arrays(result) if result is not None else None,
    )
