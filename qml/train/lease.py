"""One owner per run: a lease file that a second process cannot take while the first is alive.

A lease is a small JSON file (``checkpoint_dir/.lease``, or ``$QML_HOME/leases/run-<hash>.lease``
for a run id in the job store) naming its holder: host, pid, a random token, when it was taken and
its last heartbeat. It is created with ``O_CREAT | O_EXCL`` (atomic on local disks and NFSv3+), and
a daemon thread rewrites the heartbeat every ``heartbeat`` seconds while the holder runs.

A lease is **stale**, and taken over with a warning naming the old holder, when

* its holder ran on this host and that pid is no longer alive (at once), or
* its heartbeat is older than ``stale_after`` seconds (:data:`STALE_AFTER`, 60 s by default; on a
  shared file system this assumes the hosts' clocks agree to well within that).

Otherwise :meth:`Lease.acquire` raises :class:`~qml.errors.LeaseHeldError` naming the holder, or,
with ``wait=True``, polls until the lease is released or goes stale. A holder checks
:meth:`Lease.check` before paying for work (each optimizer step): if another process took the lease
over (the holder stalled past ``stale_after``), it stops with ``LeaseHeldError`` instead of
submitting a step twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time
import uuid
import warnings
from pathlib import Path

from ..errors import ConfigurationError, LeaseHeldError

#: Seconds without a heartbeat after which a lease is taken over (``$QML_LEASE_STALE`` overrides).
STALE_AFTER = 60.0
#: Name of the lease file in a checkpoint folder.
LEASE_FILE = ".lease"


def default_stale_after() -> float:
    """:data:`STALE_AFTER`, or ``$QML_LEASE_STALE`` seconds when set.

    Raises:
        ConfigurationError: the variable is not a positive number.
    """
    text = os.environ.get("QML_LEASE_STALE")
    if text is None:
        return STALE_AFTER
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise ConfigurationError(f"QML_LEASE_STALE must be a positive number of seconds, got {text!r}")
    return value


def _pid_alive(pid: int) -> bool:
    from ..runtime.store import pid_alive

    return pid_alive(pid)


class Lease:
    """An exclusive, heartbeated lease on ``path``.

    Args:
        path: the lease file.
        what: how errors name the leased thing (``"checkpoint_dir 'runs/x'"``).
        stale_after: seconds without a heartbeat before the lease may be taken over (default
            :func:`default_stale_after`).
        heartbeat: seconds between heartbeats (default ``stale_after / 6``).

    Use as ``with Lease(p).acquire(): ...`` or call :meth:`acquire` / :meth:`release`.
    """

    def __init__(self, path, what: str | None = None, *, stale_after: float | None = None, heartbeat=None):
        self.path = Path(path)
        self.what = what or f"lease {str(self.path)!r}"
        self.stale_after = float(stale_after) if stale_after is not None else default_stale_after()
        self.heartbeat = float(heartbeat) if heartbeat is not None else self.stale_after / 6
        self.token: str | None = None
        self.lost: dict | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- the file ----------------------------------------------------------------------
    def _record(self) -> dict:
        now = time.time()
        return {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "token": self.token,
            "started": self._started,
            "heartbeat": now,
            "what": self.what,
        }

    def read(self) -> dict | None:
        """The holder's record, ``None`` if there is no lease, ``{}`` if the file is unreadable."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            return {}
        try:
            info = json.loads(data.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError included
            return {}
        return info if isinstance(info, dict) else {}

    def _create(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as fh:
            json.dump(self._record(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        return True

    def _rewrite(self) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self._record(), fh)
        os.replace(tmp, self.path)

    def why_stale(self, info: dict | None) -> str | None:
        """Why the lease described by ``info`` may be taken over, or None while its holder is alive."""
        if info is None:
            return "no lease"
        if not info or not isinstance(info.get("heartbeat"), (int, float)):
            # unreadable: a holder being created right now, or damage; wait for a full period
            try:
                age = time.time() - self.path.stat().st_mtime
            except OSError:
                return "no lease"
            return f"unreadable lease file untouched for {age:.0f} s" if age > self.stale_after else None
        age = time.time() - info["heartbeat"]
        if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int):
            if not _pid_alive(info["pid"]):
                return f"its holder, pid {info['pid']} on this host, is no longer running"
        if age > self.stale_after:
            return f"no heartbeat for {age:.0f} s (more than {self.stale_after:g} s)"
        return None

    def describe(self, info: dict | None) -> str:
        if not info:
            return "an unknown process (lease file being written or unreadable)"
        age = time.time() - info.get("heartbeat", 0)
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("started", 0)))
        return f"pid {info.get('pid')} on host {info.get('host')!r} (since {started}, last heartbeat {age:.0f} s ago)"

    # -- acquire / release ------------------------------------------------------------
    def acquire(self, wait: bool = False, timeout: float | None = None, poll: float = 0.5) -> Lease:
        """Take the lease (a held but stale one is taken over with a warning).

        Args:
            wait: if another live process holds it, wait for it instead of raising.
            timeout: with ``wait``, give up after this many seconds (None: no limit).
            poll: seconds between attempts while waiting.

        Returns:
            self, holding the lease (a heartbeat thread runs until :meth:`release`).

        Raises:
            LeaseHeldError: held by a live process (``wait=False``, or ``timeout`` passed), naming it.
        """
        if self.token is not None:
            return self
        deadline = None if timeout is None else time.monotonic() + timeout
        self._started = time.time()
        self.token = uuid.uuid4().hex
        said = False
        try:
            while True:
                if self._create():
                    break
                info = self.read()
                why = self.why_stale(info)
                if why is not None and self._take_over(info, why):
                    break
                if why is None and wait and not said:
                    said = True
                    warnings.warn(
                        f"{self.what} is in use by {self.describe(info)}; waiting for it to finish (wait=True)",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                if why is None and (not wait or (deadline is not None and time.monotonic() > deadline)):
                    waited = "" if not wait else f" after waiting {timeout:g} s"
                    raise LeaseHeldError(
                        f"{self.what} is in use by {self.describe(info)}{waited}: two processes on one run would "
                        "pay for every step twice. Wait for it to finish (pass wait=True to wait here), or, if "
                        f"that process is gone, its lease is taken over {self.stale_after:g} s after its last "
                        f"heartbeat (at once on its own host); the lease file is {self.path}"
                    )
                time.sleep(poll)
        except BaseException:
            self.token = None
            raise
        self.lost = None
        self._sweep_temp_files()
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name=f"qml-lease-{self.path.name}", daemon=True)
        self._thread.start()
        return self

    def _take_over(self, info: dict | None, why: str) -> bool:
        """Replace a stale lease; one process wins (a ``.takeover`` file created with O_EXCL)."""
        guard = self.path.with_name(self.path.name + ".takeover")
        try:
            fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            with contextlib.suppress(OSError):  # a taker that died in the window: its guard goes stale
                if time.time() - guard.stat().st_mtime > self.stale_after:
                    guard.unlink()
            return False
        os.close(fd)
        try:
            now = self.read()
            if now is not None and now != info:  # changed under us: its holder is alive after all
                return False
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            if not self._create():
                return False
        finally:
            with contextlib.suppress(FileNotFoundError):
                guard.unlink()
        if info is not None:
            warnings.warn(
                f"took over the lease on {self.what} from {self.describe(info)}: {why}", RuntimeWarning, stacklevel=4
            )
        return True

    def _sweep_temp_files(self) -> None:
        """Remove heartbeat temp files (``.lease.<pid>.<rand>.tmp``) left by processes no longer running."""
        for tmp in self.path.parent.glob(f"{self.path.name}.*.tmp"):
            pid = tmp.name[len(self.path.name) + 1 :].split(".")[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                with contextlib.suppress(OSError):
                    tmp.unlink()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            with self._lock:
                if self.token is None:
                    return
                info = self.read()
                if not info or info.get("token") != self.token:
                    self.lost = info or {}
                    return
                with contextlib.suppress(OSError):
                    self._rewrite()

    def check(self) -> None:
        """Raise if this process no longer holds the lease (another took it over).

        Raises:
            LeaseHeldError: the lease file names another holder (or is gone).
        """
        if self.token is None:
            return
        info = self.lost if self.lost is not None else self.read()
        if not info or info.get("token") != self.token:
            self.lost = info or {}
            raise LeaseHeldError(
                f"{self.what} was taken over by {self.describe(info)} while this process ran (it stalled for "
                f"more than {self.stale_after:g} s without a heartbeat); stopping before paying for a step twice"
            )

    def release(self) -> None:
        """Give the lease back (removes the file if it is still ours); safe to call twice."""
        if self.token is None:
            return
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            info = self.read()
            if info and info.get("token") == self.token:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
            self.token = None

    @property
    def held(self) -> bool:
        return self.token is not None

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"Lease({str(self.path)!r}, {'held' if self.held else 'not held'})"


def dir_lease(directory, **kwargs) -> Lease:
    """The lease on a checkpoint folder (``directory/.lease``)."""
    return Lease(Path(directory) / LEASE_FILE, f"checkpoint_dir {str(directory)!r}", **kwargs)


def run_lease(run_id: str, **kwargs) -> Lease:
    """The lease on a run id in the job store (``$QML_HOME/leases/run-<sha256[:16]>.lease``)."""
    from ..runtime.store import qml_home

    digest = hashlib.sha256(str(run_id).encode()).hexdigest()[:16]
    return Lease(qml_home() / "leases" / f"run-{digest}.lease", f"run id {run_id!r} in the job store", **kwargs)


class RunLeases:
    """The leases one ``qml.fit`` holds: its ``checkpoint_dir`` and its run id (see :func:`hold_run`)."""

    def __init__(self, wait: bool = False, timeout: float | None = None):
        self.wait, self.timeout = bool(wait), timeout
        self.leases: list[Lease] = []

    def take(self, lease: Lease) -> None:
        self.leases.append(lease.acquire(wait=self.wait, timeout=self.timeout))

    def take_run(self, run_id) -> None:
        """Also hold ``run_id`` in the job store (no-op for None)."""
        if run_id is not None:
            self.take(run_lease(run_id))

    def check(self) -> None:
        """Before paying for a step: raise :class:`LeaseHeldError` if another process took a lease over."""
        for lease in self.leases:
            lease.check()

    def release(self) -> None:
        for lease in reversed(self.leases):
            lease.release()
        self.leases.clear()


@contextlib.contextmanager
def hold_run(checkpoint_dir=None, *, wait: bool = False, timeout: float | None = None):
    """Hold ``checkpoint_dir`` (when given) for the body; ``.take_run(run_id)`` adds the run id.

    Args:
        checkpoint_dir: the run's folder, or None.
        wait: wait for a live holder instead of raising.
        timeout: with ``wait``, seconds before giving up (None: no limit).

    Yields:
        :class:`RunLeases`; every lease is released when the body ends, by an error too.

    Raises:
        LeaseHeldError: a live process holds the folder or the run id (``wait=False``).
    """
    if not isinstance(wait, bool):
        raise TypeError(f"wait must be True or False, got {wait!r}")
    held = RunLeases(wait, timeout)
    try:
        if checkpoint_dir is not None:
            held.take(dir_lease(checkpoint_dir))
        yield held
    finally:
        held.release()
