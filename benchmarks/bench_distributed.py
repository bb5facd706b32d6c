"""fit over 2 processes vs 1 on the W1 shape at 12 qubits (issue 23, item 6).

W1: HybridModel(in_features=16, out_features=1, n_qubits=12, layers=4, embedding="angle",
ansatz="strongly_entangling", backend="fast"), 256 random samples, batches of 64 (4 steps per epoch),
Adam (fit's default for mini-batches). Each round trains a fresh copy of the same model for
``--epochs`` epochs with ``qml.fit`` (one process) and with ``qml.train.distributed.fit(workers=2)``;
reported: the median epoch time (from the History, training only) and the total wall time (the
2-process run includes starting the processes and importing torch/PennyLane in them). Every round
is reported. Writes benchmarks/results/distributed.{json,md}.

    nice -n 5 python benchmarks/bench_distributed.py --rounds 2 --epochs 3
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import time
from datetime import date
from pathlib import Path

import torch

import qml
from qml.train import distributed

OUT = Path(__file__).parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--qubits", type=int, default=12)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = qml.HybridModel(
        in_features=16,
        out_features=1,
        n_qubits=args.qubits,
        layers=4,
        embedding="angle",
        ansatz="strongly_entangling",
        backend="fast",
    )
    x = torch.randn(256, 16, dtype=torch.float64)
    y = torch.sin(x[:, :4].sum(1, keepdim=True))
    kwargs = dict(epochs=args.epochs, batch_size=64, progress=False)
    rows = []
    load0 = os.getloadavg()
    for rnd in range(args.rounds):
        for workers in (1, 2):
            m = copy.deepcopy(model)
            t0 = time.perf_counter()
            h = qml.fit(m, (x, y), **kwargs) if workers == 1 else distributed.fit(m, (x, y), workers=2, **kwargs)
            wall = time.perf_counter() - t0
            rows.append(
                {
                    "round": rnd,
                    "workers": workers,
                    "wall_s": wall,
                    "epoch_s": h.time,
                    "median_epoch_s": statistics.median(h.time),
                    "final_loss": h.train_loss[-1],
                    "load": os.getloadavg()[0],
                }
            )
            print(rows[-1], flush=True)
    load1 = os.getloadavg()
    OUT.mkdir(exist_ok=True)
    meta = {
        "date": str(date.today()),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_start": load0,
        "load_end": load1,
        "command": "nice -n 5 python benchmarks/bench_distributed.py "
        f"--rounds {args.rounds} --epochs {args.epochs} --qubits {args.qubits}",
    }
    (OUT / "distributed.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [
        f"fit(workers=2) vs one process, W1 at {args.qubits} qubits ({meta['date']}, {meta['cpus']} CPUs, 1 torch "
        f"thread per process; load average {load0[0]:.1f} at start, {load1[0]:.1f} at end: a shared, "
        f"loaded machine). `{meta['command']}`",
        "",
        "| round | processes | median epoch [s] | total wall [s] | final loss | load during |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['round']} | {r['workers']} | {r['median_epoch_s']:.2f} | {r['wall_s']:.1f} | "
            f"{r['final_loss']:.10f} | {r['load']:.1f} |"
        )
    for rnd in range(args.rounds):
        one, two = (next(r for r in rows if r["round"] == rnd and r["workers"] == w) for w in (1, 2))
        lines.append("")
        lines.append(
            f"Round {rnd}: speed-up per epoch {one['median_epoch_s'] / two['median_epoch_s']:.2f}x, "
            f"end to end {one['wall_s'] / two['wall_s']:.2f}x; final losses differ by "
            f"{abs(one['final_loss'] - two['final_loss']):.1e}."
        )
    (OUT / "distributed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
