"""qml.parallel and its users (data build/verify, scan, sweep) on real executors.

A real ``dask.distributed.LocalCluster`` (2 worker processes, one thread each) is started once for
the module and closed at its end. Every parallel result is compared with the serial one for exact
equality (``==`` on floats, ``cmp`` on files): the claim is bit-identity, not closeness.
"""

from __future__ import annotations

import concurrent.futures as cf
import errno
import json
import math
import multiprocessing
import os
import pickle
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from parallel_tasks import die_once, logged_die_once, make_mlp, slow_square, square_logged, stretched_h2

import qml
from qml import parallel
from qml.errors import ConfigurationError, ExecutorLostError, MissingDependencyError, StorageError

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0")
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


# --------------------------------------------------------------------------- helpers
def _sweep_data(n):
    x = torch.rand(n, 2, generator=torch.Generator().manual_seed(n), dtype=torch.float64)
    return x, torch.sin(3 * x[:, :1] * x[:, 1:])


def _strip(row, keys=("seconds", "folder")):
    return {k: v for k, v in row.items() if k not in keys}


def _scan_rows(result):
    return [
        (p.r, p.hf, p.vqe, p.exact, p.n_evaluations, p.warm_start, p.start_energy, p.params.tolist()) for p in result
    ]


# --------------------------------------------------------------------------- map_tasks
def test_map_tasks_keeps_input_order_and_runs_each_task_with_one_thread(client):
    xs = [5, 1, 4, 2, 3, 0]
    expected = [math.sin(x) + 1.0 for x in xs]
    jobs = [(x, "/nonexistent/flag") for x in xs if x != 3]
    want = [e for x, e in zip(xs, expected) if x != 3]
    assert parallel.map_tasks(die_once, jobs) == want
    assert parallel.map_tasks(die_once, jobs, executor=client) == want
    before = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    parallel.map_tasks(die_once, jobs[:1])
    assert (torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")) == before  # restored after the task


def test_dask_worker_killed_mid_run_is_retried_with_the_same_result(client, tmp_path):
    flag = tmp_path / "killed"
    jobs = [(x, str(flag)) for x in range(6)]
    serial = [math.sin(x) + 1.0 for x in range(6)]
    assert parallel.map_tasks(die_once, jobs, executor=client) == serial
    assert flag.exists()  # a worker really died on task 3, and the task ran again elsewhere
    client.wait_for_workers(2, timeout=60)


def test_local_pool_rebuilt_after_a_killed_worker(tmp_path):
    flag = tmp_path / "killed"
    jobs = [(x, str(flag)) for x in range(5)]
    assert parallel.map_tasks(die_once, jobs, workers=2) == [math.sin(x) + 1.0 for x in range(5)]
    assert flag.exists()


def test_cache_resumes_without_recomputing_finished_tasks(tmp_path):
    log = tmp_path / "log"
    log.mkdir()
    cache = parallel.TaskCache(tmp_path / "cache")
    with pytest.raises(ValueError, match="negative input -1"):  # a build that dies at its 4th task
        parallel.map_tasks(
            square_logged, [(x, str(log)) for x in (1, 2, 3, -1, 5)], cache=cache, key=lambda job: job[0]
        )
    assert len(cache) == 3 and len(os.listdir(log)) == 4
    out = parallel.map_tasks(
        square_logged, [(x, str(log)) for x in (1, 2, 3, 4, 5)], cache=cache, key=lambda job: job[0]
    )
    assert out == [1, 4, 9, 16, 25]
    assert len(os.listdir(log)) == 6  # only 4 and 5 were computed again
    assert (cache.hits, len(cache)) == (3, 5)
    cache.clear()
    assert len(cache) == 0 and not cache.path.exists()


def test_task_keys_are_exact_and_name_what_they_cannot_hash():
    assert parallel.task_key({"r": 0.1 + 0.2}) != parallel.task_key({"r": 0.3})
    assert parallel.task_key({"a": 1, "b": [1.5, "x"]}) == parallel.task_key({"b": [1.5, "x"], "a": 1})
    assert parallel.task_key(np.arange(3.0)) != parallel.task_key(np.arange(3))
    with pytest.raises(TypeError, match="cannot build a cache key from a object; pass key=fn"):
        parallel.task_key(object())


def test_bad_executor_arguments_are_refused_before_any_work(monkeypatch):
    with pytest.raises(ConfigurationError, match="workers must be >= 1, got 0"):
        parallel.map_tasks(abs, [1], workers=0)
    with pytest.raises(TypeError, match="workers must be a positive integer, got 2.0"):
        qml.data.build("h2_pes", rows=2, workers=2.0)
    with pytest.raises(
        TypeError, match=r"executor must be None \(serial, here\), 'dask'.*concurrent.futures.Executor.*got int"
    ):
        qml.chem.scan("H2", [0.7], executor=4)
    with cf.ThreadPoolExecutor(1) as ex, pytest.raises(ConfigurationError, match="either executor= or workers="):
        parallel.map_tasks(abs, [1], executor=ex, workers=2)
    with pytest.raises(TypeError, match="fn cannot be sent to worker processes.*module level"):
        parallel.map_tasks(lambda x: x, [1], workers=1)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask were not installed
    with pytest.raises(MissingDependencyError, match=r'pip install "qml-hybrid\[distributed\]"'):
        qml.data.build("h2_pes", rows=2, executor="tcp://127.0.0.1:1")
    assert issubclass(MissingDependencyError, ImportError)


# --------------------------------------------------------------------------- the cache: inert and verified
class _Marker:
    """A pickle that would create ``path`` if it were ever unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_cache_entries_round_trip_exactly_as_plain_data(tmp_path):
    cache = parallel.TaskCache(tmp_path / "c")
    value = {
        "e": [0.1 + 0.2, -0.0, float("nan"), float("inf")],
        "t": (1, True, None, "x"),
        "c": 1 - 2j,
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "n": np.int64(7),
        3: [],
    }
    cache.put("k", value)
    hit, back = cache.get("k")
    assert hit and list(back) == list(value)
    assert back["e"][0] == 0.1 + 0.2 and math.copysign(1, back["e"][1]) == -1.0
    assert math.isnan(back["e"][2]) and back["e"][3] == math.inf
    assert back["t"] == (1, True, None, "x") and type(back["t"]) is tuple and back["c"] == 1 - 2j
    assert back["a"].dtype == np.float32 and back["a"].shape == (2, 3) and (back["a"] == value["a"]).all()
    assert back["n"] == 7 and back["n"].dtype == np.int64 and back[3] == []
    assert json.loads((tmp_path / "c" / "k.json").read_text())["format"] == parallel.CACHE_FORMAT
    with pytest.raises(TypeError, match="a task result of type object cannot be stored in a cache"):
        cache.put("o", object())
    with pytest.raises(TypeError, match="dtype object cannot be cached"):
        cache.put("o", np.array([object()]))


def test_crafted_or_damaged_cache_files_never_run_code_and_are_recomputed(tmp_path):
    folder = tmp_path / "tc"
    assert parallel.map_tasks(math.sqrt, [4.0], cache=folder) == [2.0]
    (entry,) = folder.glob("*.json")
    marker = tmp_path / "PWNED"
    # an old-style pickle cache (what qml < 0.9 wrote): ignored with a warning, never unpickled
    (folder / (entry.stem + ".pkl")).write_bytes(pickle.dumps(_Marker(marker)))
    entry.write_text(json.dumps({**json.loads(entry.read_text()), "value": {"float": (9.0).hex()}}))  # edited
    cache = parallel.TaskCache(folder)
    with pytest.warns(RuntimeWarning) as record:
        assert parallel.map_tasks(math.sqrt, [4.0], cache=cache) == [2.0]
    text = " | ".join(str(w.message) for w in record)
    assert "1 pickle file(s) from an older qml" in text and "never loaded" in text
    assert f"task cache entry {entry} is not usable (content does not match its SHA-256); recomputing it" in text
    assert not marker.exists() and (cache.hits, cache.misses, cache.damaged) == (0, 1, 1)
    (folder / (entry.stem + ".pkl")).unlink()
    # the recomputed value was written back, verified on the next read
    again = parallel.TaskCache(folder)
    assert again.get(entry.stem) == (True, 2.0)
    # a single flipped bit anywhere: a warning and the right value, never a changed one
    good = entry.read_bytes()
    for pos in range(0, len(good), 7):
        bad = bytearray(good)
        bad[pos] ^= 1 << (pos % 8)
        entry.write_bytes(bytes(bad))
        with pytest.warns(RuntimeWarning, match="not usable"):
            assert parallel.map_tasks(math.sqrt, [4.0], cache=folder) == [2.0]
    # an entry copied under another key is not used either
    other = folder / ("0" * 64 + ".json")
    other.write_bytes(good)
    with pytest.warns(RuntimeWarning, match="stored under another key"):
        assert parallel.TaskCache(folder).get("0" * 64) == (False, None)
    parallel.TaskCache(folder).clear()
    assert not folder.exists()


def test_cache_that_is_a_file_and_a_full_disk_are_clear_errors(tmp_path, monkeypatch):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ConfigurationError, match=r"cache='.*file' is a file, not a folder"):
        parallel.map_tasks(abs, [1], cache=f)
    cache = parallel.TaskCache(tmp_path / "c")
    cache.put("k", [1.5])
    before = (tmp_path / "c" / "k.json").read_bytes()
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(parallel.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    with pytest.raises(StorageError, match="cannot write to the task cache .*No space left on device.*intact"):
        cache.put("k", [2.5])
    assert (tmp_path / "c" / "k.json").read_bytes() == before  # the previous entry, intact
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["k.json"]  # no temp file left
    assert issubclass(StorageError, OSError)


@pytest.mark.parametrize(
    "bad", ["processes", "thread", "threads", "localhost:8786", "tcp://head", "http://head:8786", "tcp://h:99999"]
)
def test_executor_strings_other_than_dask_or_an_address_are_refused_before_work(bad, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    with pytest.raises(ConfigurationError, match=rf"executor='{re.escape(bad)}' is not an executor qml knows"):
        parallel.map_tasks(square_logged, [(1, str(calls))], executor=bad)
    assert os.listdir(calls) == []
    with pytest.raises(ConfigurationError, match="is not an executor qml knows; pass None"):
        qml.chem.scan("H2", [0.7, 0.9], executor=bad, progress=False)
    with pytest.raises(ConfigurationError, match="is not an executor qml knows"):
        qml.sweep(make_mlp, _sweep_data(4), grid={"hidden": [2]}, run_dir=tmp_path / "sweep", executor=bad)
    assert not (tmp_path / "sweep").exists()  # nothing started


def test_unreachable_scheduler_fails_within_the_stated_timeout(monkeypatch):
    import socket

    from qml.chem.bank import HamiltonianBank
    from qml.chem.surface import surface

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    monkeypatch.setenv("QML_CONNECT_TIMEOUT", "0.5")
    assert parallel.connect_timeout() == 0.5
    msg = rf"cannot reach the Dask scheduler at 'tcp://127.0.0.1:{port}' within 0.5 s .*QML_CONNECT_TIMEOUT"
    for call in (
        lambda: parallel.map_tasks(abs, [1], executor=f"tcp://127.0.0.1:{port}"),
        lambda: qml.data.build("h2_pes", rows=2, out_dir="unused", executor=f"tcp://127.0.0.1:{port}"),
        lambda: HamiltonianBank(surface("H2")).prepare([0.7], executor=f"tcp://127.0.0.1:{port}"),
    ):
        with pytest.raises(ConfigurationError, match=msg):
            call()
    monkeypatch.setenv("QML_CONNECT_TIMEOUT", "soon")
    with pytest.raises(
        ConfigurationError, match="QML_CONNECT_TIMEOUT must be a positive number of seconds, got 'soon'"
    ):
        parallel.check("tcp://127.0.0.1:1")


def test_killed_worker_costs_only_its_task_and_a_rerun_only_cache_hits(client, tmp_path):
    log, flag = tmp_path / "log", tmp_path / "killed"
    log.mkdir()
    jobs = [(x, str(log), str(flag)) for x in range(8)]
    cache = parallel.TaskCache(tmp_path / "cache")
    out = parallel.map_tasks(logged_die_once, jobs, executor=client, cache=cache, key=lambda j: j[0])
    assert out == [x * x + 0.5 for x in range(8)] and flag.exists()
    runs = sorted((int(c), int(x), pid) for x, pid, c in (n.split(".") for n in os.listdir(log)))  # in order
    killed = next(pid for _, x, pid in runs if x == 3)  # task 3 killed the process that first ran it
    count = {x: sum(1 for _, y, _ in runs if y == x) for x in range(8)}
    first = {x: next(pid for _, y, pid in runs if y == x) for x in range(8)}
    assert count[3] == 2 and min(count.values()) == 1 and max(count.values()) == 2
    # what ran again is only what the killed worker ran (its task, results it held not yet gathered)
    assert all(first[x] == killed for x in range(8) if count[x] == 2)
    again = parallel.TaskCache(cache.path)
    assert parallel.map_tasks(logged_die_once, jobs, executor=client, cache=again, key=lambda j: j[0]) == out
    assert (again.hits, again.misses, len(os.listdir(log))) == (8, 0, len(runs))
    client.wait_for_workers(2, timeout=60)


def test_lost_scheduler_is_a_clear_error_and_a_rerun_recomputes_nothing_cached(tmp_path):
    import socket
    import subprocess
    import threading

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent))
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port)]
        + ["--dashboard-address", ":0", "--no-show"],
        **quiet,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-nanny"], **quiet
    )
    cache = parallel.TaskCache(tmp_path / "cache")
    try:
        c = distributed.Client(address, timeout=30)
        c.wait_for_workers(1, timeout=60)
        parallel.map_tasks(slow_square, [0], executor=c)  # the worker has imported the task module
        done = []
        real_put = cache.put

        def put(key, value):  # the scheduler dies once two results are in
            real_put(key, value)
            done.append(key)
            if len(done) == 2:
                threading.Thread(target=scheduler.kill).start()

        cache.put = put
        with pytest.raises(ExecutorLostError, match=r"lost the Dask scheduler after \d+ of 12 tasks.*run again"):
            parallel.map_tasks(slow_square, range(12), executor=c, cache=cache)
        c.close(timeout=5)
    finally:
        scheduler.kill()
        worker.kill()
        scheduler.wait()
        worker.wait()
    stored = len(cache)
    assert stored >= 2
    again = parallel.TaskCache(cache.path)
    assert parallel.map_tasks(slow_square, range(12), cache=again) == [float(x * x) for x in range(12)]
    assert (again.hits, again.misses) == (stored, 12 - stored)


# --------------------------------------------------------------------------- data sets
def test_build_on_dask_equals_the_serial_build_bit_for_bit(client, tmp_path):
    serial = qml.data.build("lih_pes", rows=3, out_dir=tmp_path / "serial", progress=False)
    on_dask = qml.data.build("lih_pes", rows=3, out_dir=tmp_path / "dask", progress=False, executor=client)
    assert serial.read_bytes() == on_dask.read_bytes()  # LiH FCI moves by 4e-15 Ha with 2 BLAS threads
    assert not (tmp_path / "dask" / ".lih_pes.cache").exists()  # the resume cache is removed once written


def test_build_cli_with_a_scheduler_address_and_a_resumed_cache(client, tmp_path, capsys):
    from qml.data.cli import main

    out = tmp_path / "cli"
    assert (
        main(
            [
                "build",
                "h2_pes",
                "--rows",
                "3",
                "--out",
                str(out),
                "--scheduler",
                client.scheduler.address,
                "--no-progress",
            ]
        )
        == 0
    )
    assert f"wrote {out / 'h2_pes.csv'}" in capsys.readouterr().out
    cache = parallel.TaskCache(tmp_path / "rows")
    again = qml.data.build("h2_pes", rows=3, out_dir=tmp_path / "again", progress=False, cache=cache)
    assert (cache.misses, len(cache)) == (3, 3)
    cache2 = parallel.TaskCache(cache.path)
    resumed = qml.data.build("h2_pes", rows=3, out_dir=tmp_path / "resumed", progress=False, cache=cache2)
    assert (cache2.hits, cache2.misses) == (3, 0)  # nothing recomputed
    assert (out / "h2_pes.csv").read_bytes() == again.read_bytes() == resumed.read_bytes()
    assert main(["build", "h2_pes", "--rows", "2", "--out", str(out), "--workers", "0"]) == 2
    assert "workers must be >= 1, got 0" in capsys.readouterr().err


def test_verify_on_dask_matches_serial_verify(client):
    a = qml.data.verify("h2_pes", rows="0:50:10", progress=False)
    b = qml.data.verify("h2_pes", rows="0:50:10", progress=False, executor=client)
    assert a.ok and b.ok
    assert a.max_abs_dev == b.max_abs_dev and a.worst == b.worst


# --------------------------------------------------------------------------- scan
@pytest.mark.parametrize("warm_start", [True, False])
def test_scan_on_dask_equals_the_serial_scan(client, warm_start):
    rs = [0.55, 0.7, 0.9, 1.2]
    serial = qml.chem.scan("H2", rs, backend="fast", warm_start=warm_start, progress=False)
    on_dask = qml.chem.scan("H2", rs, backend="fast", warm_start=warm_start, progress=False, executor=client)
    assert _scan_rows(on_dask) == _scan_rows(serial)
    assert [p.warm_start for p in serial] == ([True, False, True, True] if warm_start else [False] * 4)


def test_scan_chains():
    from qml.chem.scan import chains, sweep_order

    order = sweep_order(np.array([0.5, 0.6, 0.7, 0.8, 0.9]), 0.62)
    assert chains(order, True) == [[(2, 1), (3, 2), (4, 3)], [(0, 1)]]
    assert chains(order, False) == [[(2, 1)], [(3, 2)], [(4, 3)], [(0, 1)]]


# --------------------------------------------------------------------------- Hamiltonian bank
def _same_entries(a, b, points):
    # Tracked orbitals come from chains whose cached intermediate frames depend (in the last bits) on the
    # order geometries were first asked for in each process, so a bank built in worker processes agrees
    # with the serial one to round-off, not bit for bit (measured: <= 2e-14 Ha per matrix element).
    for p in points:
        x, y = a[p].sparse(), b[p].sparse()
        assert x.shape == y.shape
        assert (
            abs(x - y).max() < 1e-9
        )  # terms near the 1e-10 Jordan-Wigner cut may be kept in one, dropped in the other
        assert a[p].exact_energy() == pytest.approx(b[p].exact_energy(), abs=1e-11)


def test_bank_prepare_on_two_workers_equals_serial_to_round_off():
    points = [1.2, 1.6, 1.6, 2.4]
    torch.manual_seed(0)
    serial = qml.PESModel("LiH", backend="fast")
    torch.manual_seed(0)
    pooled = qml.PESModel("LiH", backend="fast")
    serial.prepare(points)
    pooled.prepare(points, workers=2)
    assert len(serial.bank) == len(pooled.bank) == 3  # the repeated point is built once
    _same_entries(serial.bank, pooled.bank, points)
    np.testing.assert_allclose(pooled.energy(points), serial.energy(points), rtol=0, atol=1e-11)
    assert pooled.energy(points)[1] == pytest.approx(
        serial.bank[1.6].hf_energy(), abs=1e-11
    )  # untrained uccsd: the HF state


def test_bank_prepare_sends_builders_by_pickle_or_by_dask(client):
    from qml.chem.bank import HamiltonianBank, catalog_spec
    from qml.chem.surface import surface

    with pytest.raises(TypeError, match="builder of surface '<lambda>' cannot be sent to worker processes.*Dask"):
        HamiltonianBank(surface(lambda r: stretched_h2(r), ranges=[(0.5, 2.0)])).prepare([0.7], workers=2)
    with pytest.raises(ConfigurationError, match="workers must be >= 1"):
        HamiltonianBank(surface("H2")).prepare([0.7], workers=0)
    assert catalog_spec(surface("LiH", basis="sto-3g")) == ("LiH", {"basis": "sto-3g"})
    assert catalog_spec(surface(stretched_h2, ranges=[(0.5, 2.0)])) is None

    def stretched(r):  # a closure: Dask sends it with cloudpickle
        return stretched_h2(r)

    points = [0.6, 0.74, 1.5]
    serial, on_dask = (HamiltonianBank(surface(stretched, ranges=[(0.5, 2.0)])) for _ in range(2))
    serial.prepare(points)
    on_dask.prepare(points, executor=client)
    _same_entries(serial, on_dask, points)
    assert serial[0.74].molecule == stretched_h2(0.74)
    assert serial[0.74].exact_energy() == pytest.approx(-1.137, abs=1e-3)  # H2/STO-3G FCI at 0.74 A


# --------------------------------------------------------------------------- sweep
def test_sweep_on_dask_equals_serial_and_resumes(client, tmp_path):
    train, val = _sweep_data(48), _sweep_data(16)
    kw = {
        "grid": {"hidden": [3, 6], "lr": [0.01, 0.05]},
        "seeds": [0, 1],
        "epochs": 3,
        "batch_size": 16,
        "progress": False,
    }
    serial = qml.sweep(make_mlp, train, val, run_dir=tmp_path / "serial", **kw)
    on_dask = qml.sweep(make_mlp, train, val, run_dir=tmp_path / "dask", executor=client, **kw)
    assert len(serial) == 8 and serial.settings == ["hidden", "lr"]
    assert [_strip(r) for r in on_dask] == [_strip(r) for r in serial]
    assert [(r["hidden"], r["lr"], r["seed"]) for r in serial][:3] == [(3, 0.01, 0), (3, 0.01, 1), (3, 0.05, 0)]
    # independent check of one row: the same run by hand
    torch.manual_seed(1)
    model = make_mlp(6)
    history = qml.fit(model, train, val, epochs=3, batch_size=16, lr=0.05, seed=1, progress=False)
    assert serial.rows[-1]["val_loss"] == history.val_loss[-1]
    # resume: finished runs are read back, not re-run
    stamps = {r["name"]: Path(r["folder"], "result.json").stat().st_mtime_ns for r in serial}
    again = qml.sweep(make_mlp, train, val, run_dir=tmp_path / "serial", **kw)
    assert list(again) == list(serial)
    assert {r["name"]: Path(r["folder"], "result.json").stat().st_mtime_ns for r in again} == stamps
    # a run interrupted after its checkpoint: continued from it, same result as uninterrupted
    Path(serial.rows[0]["folder"], "result.json").unlink()
    resumed = qml.sweep(make_mlp, train, val, run_dir=tmp_path / "serial", **kw)
    assert _strip(resumed.rows[0]) == _strip(serial.rows[0])
    assert resumed.best()["best_loss"] == min(serial.column("best_loss"))


def test_damaged_sweep_result_is_not_used_and_the_run_is_resumed(tmp_path):
    train = _sweep_data(16)
    kw = {"grid": {"hidden": [2]}, "seeds": [0], "epochs": 2, "batch_size": 8, "progress": False}
    first = qml.sweep(make_mlp, train, run_dir=tmp_path, **kw)
    path = Path(first.rows[0]["folder"], "result.json")
    doc = json.loads(path.read_text())
    doc["train_loss"] = 0.0  # a changed value: its sha256 no longer matches
    path.write_text(json.dumps(doc))
    with pytest.warns(RuntimeWarning, match=r"result.json is not usable \(its content does not match its sha256\)"):
        again = qml.sweep(make_mlp, train, run_dir=tmp_path, **kw)
    assert _strip(again.rows[0]) == _strip(first.rows[0])  # resumed from its finished checkpoint
    assert "sha256" not in again.rows[0] and json.loads(path.read_text())["train_loss"] == first.rows[0]["train_loss"]


def test_sweep_on_a_process_pool_executor_equals_serial(tmp_path):
    train = _sweep_data(32)
    kw = {"grid": {"hidden": [2, 5]}, "seeds": [3], "epochs": 2, "batch_size": 8, "progress": False}
    serial = qml.sweep(make_mlp, train, run_dir=tmp_path / "serial", **kw)
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        on_pool = qml.sweep(make_mlp, train, run_dir=tmp_path / "pool", executor=pool, **kw)
    assert [_strip(r) for r in on_pool] == [_strip(r) for r in serial]
    assert serial.column("val_loss") == [None, None] and serial.column("epochs") == [2, 2]


def test_sweep_refuses_bad_settings(tmp_path):
    data = _sweep_data(8)
    with pytest.raises(ConfigurationError, match="unknown fit option 'epoch'"):
        qml.sweep(make_mlp, data, grid={"hidden": [2]}, run_dir=tmp_path, epoch=2)
    with pytest.raises(ConfigurationError, match="sweep sets 'checkpoint_dir' itself"):
        qml.sweep(make_mlp, data, grid={"hidden": [2]}, run_dir=tmp_path, checkpoint_dir="x")
    with pytest.raises(ConfigurationError, match="grid setting 'width' is neither a qml.fit argument"):
        qml.sweep(make_mlp, data, grid={"width": [2]}, run_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="seeds \\[0, 0\\] repeat a seed"):
        qml.sweep(make_mlp, data, grid={"hidden": [2]}, seeds=[0, 0], run_dir=tmp_path)
    with pytest.raises(TypeError, match="grid\\['hidden'\\] must be a list of values"):
        qml.sweep(make_mlp, data, grid={"hidden": 2}, run_dir=tmp_path)
    with pytest.raises(TypeError, match="make_model cannot be sent to worker processes"):
        qml.sweep(lambda hidden: make_mlp(hidden), data, grid={"hidden": [2]}, run_dir=tmp_path, workers=2)
    qml.sweep(make_mlp, data, grid={"hidden": [2]}, run_dir=tmp_path, epochs=1, progress=False)
    with pytest.raises(ConfigurationError, match="holds a run with other settings"):
        qml.sweep(make_mlp, data, grid={"hidden": [2]}, run_dir=tmp_path, epochs=2, progress=False)
