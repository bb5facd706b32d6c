"""Scaling of qml.parallel on this machine: 1 and 2 workers, Dask against a plain process pool.

Three workloads, each measured serially in this process and on 1 and 2 workers of a
``concurrent.futures.ProcessPoolExecutor`` (spawned, one thread per worker) and of a
``dask.distributed.LocalCluster`` (processes, one thread per worker), in one run:

* data-set build: rows/s of ``qml.data.build`` (PySCF RHF + CCSD + FCI + CASCI per row);
* Hamiltonian bank: geometries/s of building qubit Hamiltonians (JW operator + sparse matrix)
  of a catalog molecule with ``HamiltonianBank.prepare(points, executor=...)``, one task per geometry;
* sweep: wall time of ``qml.sweep`` over 8 small ``HybridModel`` fits.

Executors are started and warmed (every worker imports the libraries and runs one task) before
the clock starts; their start-up time is reported separately. Every parallel result is checked
to equal the serial one exactly. The 1-minute load average is recorded before and after each
measurement: on a shared machine the 2-worker speed-up is depressed by other users' work.

    python benchmarks/bench_parallel.py                 # writes benchmarks/results/parallel.{json,md}
    python benchmarks/bench_parallel.py --quick         # fewer rows/geometries/epochs
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from qml import parallel

OUT = Path(__file__).parent / "results"


# --------------------------------------------------------------------------- workloads (module level: picklable)
def make_hybrid(layers):
    import qml

    return qml.HybridModel(1, 1, n_qubits=2, layers=layers, hidden=8, backend="fast")


def _same_sparse(a, b) -> bool:
    return (a != b).nnz == 0


# --------------------------------------------------------------------------- executors
def _executors(kinds, counts):
    """Yield ``(label, workers, make)`` where ``make()`` returns ``(executor, close)``."""
    for n in counts:
        if "pool" in kinds:

            def make_pool(n=n):
                pool = cf.ProcessPoolExecutor(
                    n, mp_context=multiprocessing.get_context("spawn"), initializer=parallel._init_worker
                )
                return pool, lambda: pool.shutdown(wait=True)

            yield "process pool", n, make_pool
        if "dask" in kinds:

            def make_dask(n=n):
                import distributed

                cluster = distributed.LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
                )
                client = distributed.Client(cluster)

                def close():
                    client.close()
                    cluster.close()

                return client, close

            yield "dask", n, make_dask


def _timed(fn):
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, (load0, os.getloadavg()[0])


def measure(workload, units, warm, run, same, kinds, counts) -> list[dict]:
    """Serial then every executor: ``run(executor) -> result``, ``units`` items per run."""
    rows = []
    run(None, warm)  # imports and first-use caches of this process
    serial, t, load = _timed(lambda: run(None, None))
    rows.append(
        {
            "workload": workload,
            "executor": "serial (in-process)",
            "workers": 1,
            "seconds": t,
            "per_s": units / t,
            "speedup": 1.0,
            "startup_s": 0.0,
            "load": load,
            "identical": True,
        }
    )
    base = t
    for label, n, make in _executors(kinds, counts):
        t0 = time.perf_counter()
        ex, close = make()
        try:
            run(ex, warm * n)  # warm every worker
            startup = time.perf_counter() - t0
            out, t, load = _timed(lambda ex=ex: run(ex, None))
        finally:
            close()
        rows.append(
            {
                "workload": workload,
                "executor": label,
                "workers": n,
                "seconds": t,
                "per_s": units / t,
                "speedup": base / t,
                "startup_s": startup,
                "load": load,
                "identical": same(out, serial),
            }
        )
        print(
            f"  {workload}: {label} x{n}: {t:.1f} s, speed-up {base / t:.2f}, load {load[0]:.1f}->{load[1]:.1f}",
            flush=True,
        )
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    p.add_argument("--dataset", default="lih_pes")
    p.add_argument("--rows", type=int, default=None, help="rows of the build (default 24, quick 6)")
    p.add_argument("--molecule", default="LiH")
    p.add_argument("--geometries", type=int, default=None, help="Hamiltonians (default 24, quick 6)")
    p.add_argument("--epochs", type=int, default=None, help="epochs per sweep run (default 30, quick 3)")
    p.add_argument("--executors", nargs="+", default=["pool", "dask"], choices=["pool", "dask"])
    p.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    p.add_argument("--out", default=str(OUT))
    p.add_argument("--from-json", default=None, metavar="FILE", help="only rewrite the Markdown table of FILE")
    args = p.parse_args(argv)
    if args.from_json:
        print(regenerate(args.from_json))
        return 0
    rows_n = args.rows or (6 if args.quick else 24)
    geoms = args.geometries or (6 if args.quick else 24)
    epochs = args.epochs or (3 if args.quick else 30)
    kinds, counts = args.executors, args.workers
    import qml
    from qml.chem import catalog
    from qml.chem.bank import HamiltonianBank
    from qml.chem.surface import surface
    from qml.data import builder, registry

    results, tmp = [], Path(tempfile.mkdtemp(prefix="bench_parallel_"))
    spec = registry.get(args.dataset)
    meta = builder.sidecar(spec, rows_n)
    inputs = spec.make_inputs(rows_n)

    def build(ex, warm):
        x = inputs[:1].repeat(warm, 0) if warm else inputs
        return builder._rows(spec, x, meta, executor=ex, workers=None, cache=None, progress=False, desc="")

    print(f"build {args.dataset}: {rows_n} rows", flush=True)
    results += measure("data-set build", rows_n, 1, build, lambda a, b: a == b, kinds, counts)

    lo, hi = catalog.get(args.molecule).scan_range
    rs = [float(r) for r in np.linspace(lo, hi, geoms)]

    def bank(ex, warm):  # a fresh bank each call: HamiltonianBank.prepare, one task per geometry
        points = [rs[0] + 1e-3 * i for i in range(1, warm + 1)] if warm else rs
        hb = HamiltonianBank(surface(args.molecule))
        hb.prepare(points, executor=ex)
        return [hb[r].sparse() for r in points]

    print(f"Hamiltonian bank {args.molecule}: {geoms} geometries", flush=True)
    results += measure(
        "Hamiltonian bank", geoms, 1, bank, lambda a, b: all(_same_sparse(x, y) for x, y in zip(a, b)), kinds, counts
    )

    train = qml.load_dataset("h2_pes", split="train")
    val = qml.load_dataset("h2_pes", split="val")
    calls = iter(range(10**6))

    def sweep(ex, warm):
        folder = tmp / f"sweep{next(calls)}"
        grid = {"layers": [1, 2], "lr": [0.01, 0.03]}
        if warm:
            return qml.sweep(
                make_hybrid,
                train,
                val,
                grid={"layers": [1], "lr": [0.01] * 1},
                seeds=list(range(warm)),
                run_dir=folder,
                epochs=1,
                batch_size=8,
                executor=ex,
                progress=False,
            )
        return qml.sweep(
            make_hybrid,
            train,
            val,
            grid=grid,
            seeds=[0, 1],
            run_dir=folder,
            epochs=epochs,
            batch_size=8,
            executor=ex,
            progress=False,
        )

    def same_sweep(a, b):
        strip = [{k: v for k, v in r.items() if k not in ("seconds", "folder")} for r in a]
        return strip == [{k: v for k, v in r.items() if k not in ("seconds", "folder")} for r in b]

    print(f"sweep: 8 HybridModel fits of {epochs} epochs", flush=True)
    results += measure("sweep (8 fits)", 8, 1, sweep, same_sweep, kinds, counts)

    info = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": parallel.versions(),
        "args": vars(args),
        "command": " ".join(argv or sys.argv[1:]),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "parallel.json").write_text(json.dumps({"info": info, "results": results}, indent=1) + "\n")
    (out / "parallel.md").write_text(markdown(info, results, rows_n, geoms, epochs, args))
    print((out / "parallel.md").read_text())
    return 0


def _load_note(results, cpus) -> list[str]:
    worst = max(max(r["load"]) for r in results)
    if worst <= cpus:
        return []
    return [
        (
            f"**Caution: the load average reached {worst:.1f} on {cpus} CPUs** (other users' work). With "
            "the machine oversubscribed, each process gets a time slice of a shared core, so these "
            "speed-ups measure the scheduler's share more than the scaling of qml.parallel (a second worker "
            "can even earn more than twice the CPU share); re-run on an idle machine for real numbers."
        ),
        "",
    ]


def regenerate(path) -> str:
    """Rewrite ``parallel.md`` from ``parallel.json`` (``--from-json``)."""
    data = json.loads(Path(path).read_text())
    info, a = data["info"], data["info"]["args"]
    ns = argparse.Namespace(**a)
    md = markdown(info, data["results"], a["rows"] or 24, a["geometries"] or 24, a["epochs"] or 30, ns)
    Path(path).with_suffix(".md").write_text(md)
    return md


def markdown(info, results, rows_n, geoms, epochs, args) -> str:
    lines = [
        "# qml.parallel scaling (benchmarks/bench_parallel.py)",
        "",
        (
            f"{info['date']}, {info['cpus']} CPUs, Python {info['python']}. Command: "
            f"`python benchmarks/bench_parallel.py {info['command']}`. Versions: "
            + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
            + "."
        ),
        "",
        (
            f"Workloads: build of `{args.dataset}` ({rows_n} rows), Hamiltonians of {args.molecule} "
            f"({geoms} geometries, operator + sparse matrix), `qml.sweep` of 8 `HybridModel` fits "
            f"(2 qubits, {epochs} epochs on h2_pes). Executors are started and warmed before timing "
            "(start-up column). Speed-up = serial in-process time / time. `identical`: the result equals "
            "the serial one exactly. Load = 1-minute load average before -> after the timed run; this "
            "machine is shared, and a load above the CPU count depresses every parallel speed-up."
        ),
        "",
        *_load_note(results, info["cpus"]),
        "| workload | executor | workers | seconds | per second | speed-up | start-up s | load | identical |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['workload']} | {r['executor']} | {r['workers']} | {r['seconds']:.2f} | {r['per_s']:.3g} | "
            f"{r['speedup']:.2f} | {r['startup_s']:.1f} | {r['load'][0]:.1f} -> {r['load'][1]:.1f} | "
            f"{'yes' if r['identical'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
