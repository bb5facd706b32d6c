"""qml.parallel and its users (data build/verify, scan, sweep) on real executors.

A real ``dask.distributed.LocalCluster`` (2 worker processes, one thread each) is started once for
the module and closed at its end. Every parallel result is compared with the serial one for exact
equality (``==`` on floats, ``cmp`` on files): the claim is bit-identity, not closeness.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from parallel_tasks import die_once, make_mlp, square_logged, stretched_h2

import qml
from qml import parallel
from qml.errors import ConfigurationError, MissingDependencyError

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
    with pytest.raises(TypeError, match="executor must be None, a concurrent.futures.Executor.*got int"):
        qml.chem.scan("H2", [0.7], executor=4)
    with cf.ThreadPoolExecutor(1) as ex, pytest.raises(ConfigurationError, match="either executor= or workers="):
        parallel.map_tasks(abs, [1], executor=ex, workers=2)
    with pytest.raises(TypeError, match="fn cannot be sent to worker processes.*module level"):
        parallel.map_tasks(lambda x: x, [1], workers=1)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask were not installed
    with pytest.raises(MissingDependencyError, match=r'pip install "qml-hybrid\[distributed\]"'):
        qml.data.build("h2_pes", rows=2, executor="tcp://127.0.0.1:1")
    assert issubclass(MissingDependencyError, ImportError)


# --------------------------------------------------------------------------- data sets
def test_build_on_dask_equals_the_serial_build_bit_for_bit(client, tmp_path):
    serial = qml.data.build("lih_pes", rows=3, out_dir=tmp_path / "serial", progress=False)
    on_dask = qml.data.build("lih_pes", rows=3, out_dir=tmp_path / "dask", progress=False, executor=client)
    assert serial.read_bytes() == on_dask.read_bytes()  # LiH FCI moves by 4e-15 Ha with 2 BLAS threads
    assert not (tmp_path / "dask" / ".lih_pes.cache").exists()  # the resume cache is removed once written


def test_build_cli_with_a_scheduler_address_and_a_resumed_cache(client, tmp_path, capsys):
    from qml.cli.datasets import main

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
