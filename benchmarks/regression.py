"""HybridModel vs MLPRegressor with the package's defaults on every shipped data set (issues 4, 21).

Written to benchmarks/results/regression.{json,md}. For each data set and seed both models are built
with their defaults (``qml.HybridModel(in_features, 1)``: 4 qubits, 2 layers, angle embedding,
strongly entangling ansatz, hidden width 16; ``MLPRegressor(in_features, 1)``: hidden (16, 16)) and
trained with ``qml.fit(model, train, val=val, seed=seed)`` and no other setting: the default
recipe of ``qml.train.defaults`` (full-batch L-BFGS, 50 epochs, for the 40-row PES sets; Adam
lr 0.02 with a cosine decay, batch 32, 60 epochs for the 1600 rows of h2o_distortions).
Reported: test MAE [mHa], the share of test geometries within 1.6 mHa, and the fit time.
No quantum advantage is claimed: the table says what was measured.

    nice -n 5 python benchmarks/regression.py                       # every data set, seeds 0-4
    nice -n 5 python benchmarks/regression.py h2o_distortions --seeds 0 --jobs 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "results"
DATASETS = ["h2o_distortions", "h2_pes", "heh+_pes", "lih_pes", "beh2_pes", "h2o_pes", "h4_pes"]


def run(job) -> dict:
    name, seed, label = job
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    import qml
    from qml.models import MLPRegressor

    train, val, test = (qml.load_dataset(name, split=s) for s in ("train", "val", "test"))
    d = train.features.shape[1]
    torch.manual_seed(seed)
    model = qml.HybridModel(d, 1) if label == "hybrid" else MLPRegressor(d, 1)
    t0 = time.perf_counter()
    history = qml.fit(model, train, val=val, seed=seed, progress=False)
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        err = ((model(test.features) - test.targets).abs() * 1000.0).numpy().ravel()
    return {
        "dataset": name,
        "seed": seed,
        "model": label,
        "target": train.target_name,
        "n_train": len(train),
        "n_test": len(test),
        "params": model.parameter_counts()["total"],
        "recipe": {k: history.config[k] for k in ("optimizer", "lr", "batch_size", "schedule", "epochs")},
        "test_mae_mha": float(err.mean()),
        "test_max_mha": float(err.max()),
        "within_1.6": float(np.mean(err < 1.6)),
        "seconds": seconds,
        "backend": getattr(getattr(model, "quantum", None), "backend_name", None),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("datasets", nargs="*", default=DATASETS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--jobs", type=int, default=2, help="parallel processes (one thread each)")
    args = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    import torch

    import qml

    meta = {
        "date": str(date.today()),
        "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "nice -n 5 python benchmarks/regression.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {args.jobs} processes of 1 thread",
        "torch": torch.__version__,
        "qml": qml.__version__,
        "load_average_1_5_15_start": os.getloadavg(),
        "hybrid": "qml.HybridModel(in_features, 1) (defaults: 4 qubits, 2 layers, angle + strongly_entangling, "
        "hidden 16, backend auto)",
        "mlp": "qml.models.MLPRegressor(in_features, 1) (defaults: hidden (16, 16))",
        "training": "qml.fit(model, train, val=val, seed=seed), nothing else",
    }
    # seed-major after the largest set: every data set gets seed 0 before any gets seed 1
    first = [n for n in args.datasets if n == "h2o_distortions"]
    rest = [n for n in args.datasets if n != "h2o_distortions"]
    jobs = [(n, s, m) for n in first for s in args.seeds for m in ("hybrid", "mlp")]
    jobs += [(n, s, m) for s in args.seeds for n in rest for m in ("hybrid", "mlp")]
    rows = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for future in as_completed([pool.submit(run, job) for job in jobs]):
            r = future.result()
            r["load_average_1_5_15_end"] = os.getloadavg()
            rows.append(r)
            print(
                f"{r['dataset']} seed {r['seed']} {r['model']}: MAE {r['test_mae_mha']:.3f} mHa, "
                f"{100 * r['within_1.6']:.1f}% within 1.6, {r['seconds']:.0f} s, load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            write(meta, rows, args)


def write(meta: dict, rows: list, args) -> None:
    """Rewrite regression.json and .md with the rows so far (a run cut short keeps what it measured)."""
    meta = dict(meta, load_average_1_5_15_now=os.getloadavg())
    (OUT / "regression.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [
        (
            f"HybridModel vs MLPRegressor, both with their defaults ({meta['started']}, {meta['machine']}; load "
            f"average {meta['load_average_1_5_15_start'][0]:.1f} at start, {meta['load_average_1_5_15_now'][0]:.1f} "
            "at the last row: a machine shared by 8 engineers, so times are inflated). hybrid = "
            "`qml.HybridModel(d, 1)`, MLP = `MLPRegressor(d, 1)`, trained with "
            "`qml.fit(model, train, val=val, seed=seed)`. Test MAE [mHa] and share of test geometries within "
            "1.6 mHa, every seed run."
        ),
        "",
        "| data set | train rows | recipe | seed | hybrid MAE | hybrid within 1.6 | hybrid fit [s] | MLP MAE | "
        "MLP within 1.6 | MLP fit [s] |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    summary = [
        "",
        "| data set | seeds | hybrid params | hybrid MAE, mean of seeds | hybrid within 1.6, worst seed | MLP params | "
        "MLP MAE, mean of seeds | MLP within 1.6, worst seed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    missing = []
    for name in args.datasets:
        done = []
        for seed in args.seeds:
            h = [r for r in rows if (r["dataset"], r["seed"], r["model"]) == (name, seed, "hybrid")]
            m = [r for r in rows if (r["dataset"], r["seed"], r["model"]) == (name, seed, "mlp")]
            if not (h and m):
                missing.append(f"{name} seed {seed}")
                continue
            h, m = h[0], m[0]
            done.append((h, m))
            rc = h["recipe"]
            recipe = f"{rc['optimizer']} lr {rc['lr']:g}, batch {rc['batch_size']}" + (
                ", cosine" if rc["schedule"] == "cosine" else ""
            )
            lines.append(
                f"| {name} | {h['n_train']} | {recipe}, {rc['epochs']} epochs | {seed} | {h['test_mae_mha']:.3f} | "
                f"{100 * h['within_1.6']:.1f}% | {h['seconds']:.0f} | {m['test_mae_mha']:.3f} | "
                f"{100 * m['within_1.6']:.1f}% | {m['seconds']:.0f} |"
            )
        if done:
            hs, ms = [d[0] for d in done], [d[1] for d in done]
            summary.append(
                f"| {name} | {', '.join(str(h['seed']) for h in hs)} | {hs[0]['params']} | "
                f"{np.mean([r['test_mae_mha'] for r in hs]):.3f} | {100 * min(r['within_1.6'] for r in hs):.1f}% | "
                f"{ms[0]['params']} | {np.mean([r['test_mae_mha'] for r in ms]):.3f} | "
                f"{100 * min(r['within_1.6'] for r in ms):.1f}% |"
            )
    tail = ["", f"Not run in the time available: {', '.join(missing)}."] if missing else []
    (OUT / "regression.md").write_text("\n".join(lines + summary + tail) + "\n")


if __name__ == "__main__":
    main()
