"""One owner per run (issue 24): the lease on a checkpoint folder or a run id, with real processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qml.errors import ConfigurationError, LeaseHeldError
from qml.train.lease import LEASE_FILE, Lease, default_stale_after, dir_lease, run_lease

ROOT = Path(__file__).resolve().parents[1]

# A process that takes a lease, says so, holds it for argv[2] seconds, then releases it.
HOLDER = r"""
import sys, time
from qml.train.lease import Lease
lease = Lease(sys.argv[1], "the test run").acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
lease.release()
"""


def _holder(path, seconds):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def _record(path, **fields):
    info = {"host": socket.gethostname(), "pid": os.getpid(), "token": "x", "started": time.time()}
    info["heartbeat"] = time.time()
    info.update(fields)
    Path(path).write_text(json.dumps(info))


def test_a_second_process_gets_a_clear_error_naming_the_holder(tmp_path):
    path = tmp_path / "run" / LEASE_FILE
    proc = _holder(path, 30)
    try:
        with pytest.raises(LeaseHeldError) as err:
            Lease(path, "checkpoint_dir 'run'").acquire()
        msg = str(err.value)
        assert f"checkpoint_dir 'run' is in use by pid {proc.pid} on host {socket.gethostname()!r}" in msg
        assert "pass wait=True to wait here" in msg and "taken over 60 s after its last heartbeat" in msg
        assert json.loads(path.read_text())["pid"] == proc.pid  # the holder's lease untouched
    finally:
        proc.kill()
        proc.wait()
    # the holder is gone (SIGKILL, no release): its lease is taken over at once, with a warning
    with pytest.warns(RuntimeWarning, match=rf"took over the lease .* from pid {proc.pid} .* no longer running"):
        lease = Lease(path).acquire()
    assert json.loads(path.read_text())["pid"] == os.getpid()
    lease.release()
    assert not path.exists()


def test_wait_true_waits_for_the_holder_and_a_timeout_names_it(tmp_path):
    path = tmp_path / LEASE_FILE
    proc = _holder(path, 1.5)
    try:
        with pytest.raises(LeaseHeldError, match=rf"in use by pid {proc.pid} .* after waiting 0.2 s"):
            Lease(path).acquire(wait=True, timeout=0.2, poll=0.05)
        lease = Lease(path).acquire(wait=True, timeout=60, poll=0.05)
        assert proc.wait(timeout=30) == 0  # it finished and released; then we got the lease
        assert json.loads(path.read_text())["pid"] == os.getpid() and lease.held
        lease.release()
    finally:
        proc.kill()
        proc.wait()


def test_stale_leases_of_other_hosts_are_taken_over_only_after_stale_after(tmp_path):
    path = tmp_path / LEASE_FILE
    _record(path, host="node-17", pid=1, heartbeat=time.time() - 5)
    with pytest.raises(LeaseHeldError, match="in use by pid 1 on host 'node-17'"):
        Lease(path, stale_after=60).acquire()
    _record(path, host="node-17", pid=1, heartbeat=time.time() - 61)
    with pytest.warns(RuntimeWarning, match=r"from pid 1 on host 'node-17' .*no heartbeat for 61 s \(more than 60 s\)"):
        lease = Lease(path, stale_after=60).acquire()
    lease.release()
    # an unreadable lease file (a writer killed mid-create) is taken over once it is older than stale_after
    path.write_text("{")
    with pytest.raises(LeaseHeldError, match="an unknown process"):
        Lease(path, stale_after=60).acquire()
    os.utime(path, (time.time() - 120, time.time() - 120))
    with pytest.warns(RuntimeWarning, match="unreadable lease file untouched"):
        Lease(path, stale_after=60).acquire().release()


def test_heartbeat_advances_and_a_taken_over_holder_stops(tmp_path):
    path = tmp_path / LEASE_FILE
    lease = Lease(path, stale_after=0.6, heartbeat=0.05).acquire()
    first = json.loads(path.read_text())["heartbeat"]
    time.sleep(0.3)
    assert json.loads(path.read_text())["heartbeat"] > first
    lease.check()  # still ours: no error
    # another process took it over (as after a stall longer than stale_after)
    _record(path, host="node-2", pid=4242, token="theirs")
    with pytest.raises(LeaseHeldError, match=r"was taken over by pid 4242 on host 'node-2'.*before paying for a step"):
        lease.check()
    lease.release()
    assert json.loads(path.read_text())["token"] == "theirs"  # theirs is not removed by our release


def test_run_lease_lives_in_qml_home_and_settings_are_validated(tmp_path, monkeypatch):
    lease = run_lease("run-abc")
    assert lease.path.parent == Path(os.environ["QML_HOME"]) / "leases"
    with lease:
        with pytest.raises(LeaseHeldError, match="run id 'run-abc' in the job store is in use by pid"):
            run_lease("run-abc").acquire()
        run_lease("run-other").acquire().release()  # other runs are free
    assert not lease.path.exists()
    with dir_lease(tmp_path / "ck") as held:
        assert held.path == tmp_path / "ck" / LEASE_FILE and (held.path.stat().st_mode & 0o777) == 0o600
    monkeypatch.setenv("QML_LEASE_STALE", "10")
    assert default_stale_after() == 10.0 and Lease(tmp_path / "x").heartbeat == pytest.approx(10 / 6)
    monkeypatch.setenv("QML_LEASE_STALE", "-1")
    with pytest.raises(ConfigurationError, match="QML_LEASE_STALE must be a positive number of seconds, got '-1'"):
        Lease(tmp_path / "x")
