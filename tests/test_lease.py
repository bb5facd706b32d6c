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
        with (
            pytest.raises(LeaseHeldError, match=rf"in use by pid {proc.pid} .* after waiting 0.2 s"),
            pytest.warns(RuntimeWarning, match=rf"in use by pid {proc.pid} .*waiting for it to finish"),
        ):
            Lease(path).acquire(wait=True, timeout=0.2, poll=0.05)
        with pytest.warns(RuntimeWarning, match="waiting for it to finish"):
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


# -- the hook in qml.fit -----------------------------------------------------------------------------
# A training process whose every optimizer step is logged as "pid step" (what a hardware run pays for).
TRAINER = r"""
import os, sys, time
import torch, qml
from qml.errors import LeaseHeldError
folder, log, wait = sys.argv[1], sys.argv[2], sys.argv[3] == "1"

class Slow(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(2, 1, dtype=torch.float64))

    def forward(self, x):
        time.sleep(0.05)
        return x @ self.w

class Log:
    def on_step_end(self, state):
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {state.step}\n")
        t0 = time.monotonic()
        while state.step == 1 and not os.path.exists(log + ".go") and time.monotonic() - t0 < 120:
            time.sleep(0.02)  # the first owner pauses after its first step until the test says go

x = torch.linspace(-1, 1, 16, dtype=torch.float64).reshape(8, 2)
try:
    qml.fit(Slow(), (x, x[:, :1]), epochs=6, batch_size=2, optimizer="adam", progress=False,
            checkpoint_dir=folder, resume=True, callbacks=[Log()], wait=wait)
except LeaseHeldError as exc:
    print(exc, flush=True)
    sys.exit(3)
"""


def _trainer(folder, log, wait):
    return subprocess.Popen(
        [sys.executable, "-c", TRAINER, str(folder), str(log), "1" if wait else "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        text=True,
    )


@pytest.mark.parametrize("wait", [False, True])
def test_two_processes_on_one_checkpoint_dir_never_pay_for_a_step_twice(tmp_path, wait):
    folder, log = tmp_path / "run", tmp_path / "steps.log"
    first = _trainer(folder, log, False)
    deadline = time.monotonic() + 120
    while not log.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the first one is training
    second = _trainer(folder, log, wait)
    said = []
    for line in second.stdout:  # until it refused (and exited), or said it waits
        said.append(line)
        if "waiting for it to finish (wait=True)" in line:
            break
    Path(f"{log}.go").touch()
    out2 = "".join(said) + second.communicate(timeout=300)[0]
    out1, _ = first.communicate(timeout=300)
    assert first.returncode == 0, out1
    steps = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
    assert sorted(s for _, s in steps) == list(range(1, 25))  # 6 epochs x 4 steps, each paid once
    assert {pid for pid, _ in steps} == {first.pid}
    if wait:
        assert second.returncode == 0, out2  # waited, then found the run finished: nothing to do
        assert f"is in use by pid {first.pid} on host" in out2
    else:
        assert second.returncode == 3
        assert f"checkpoint_dir {str(folder)!r} is in use by pid {first.pid} on host" in out2
    assert not (folder / LEASE_FILE).exists()  # released when fit returned


def test_fit_holds_its_run_id_and_stops_when_its_lease_is_taken_over(tmp_path):
    import torch

    import qml

    x = torch.linspace(-1, 1, 8, dtype=torch.float64).reshape(4, 2)
    model = torch.nn.Linear(2, 1).double()
    with run_lease("shared-run"), pytest.raises(LeaseHeldError, match="run id 'shared-run' in the job store"):
        qml.fit(model, (x, x[:, :1]), epochs=1, progress=False, run_id="shared-run", checkpoint_dir=tmp_path / "a")
    assert not (tmp_path / "a" / LEASE_FILE).exists()  # the folder's lease was given back

    class Thief:  # another host takes the folder over after the first step (as after a long stall)
        def on_step_end(self, state):
            if state.step == 1:
                _record(tmp_path / "ck" / LEASE_FILE, host="node-9", pid=77, token="theirs")

    with pytest.raises(LeaseHeldError, match="was taken over by pid 77 on host 'node-9'"):
        qml.fit(model, (x, x[:, :1]), epochs=2, batch_size=2, optimizer="adam", progress=False,
                checkpoint_dir=tmp_path / "ck", callbacks=[Thief()])  # fmt: skip
    assert json.loads((tmp_path / "ck" / LEASE_FILE).read_text())["token"] == "theirs"  # theirs stays
    with pytest.raises(TypeError, match="wait must be"):
        qml.fit(model, (x, x[:, :1]), epochs=1, progress=False, wait="yes")
