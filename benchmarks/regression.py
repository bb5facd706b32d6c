"""Hybrid regression on the shipped data sets vs a classical MLP of similar size (issue 4).

Both models are trained the same way (qml.fit, Adam, cosine schedule, same epochs, batch size and
seed, normalised inputs/targets) and reported as test MAE in mHa. No quantum advantage is claimed:
the table says what was measured.

    python benchmarks/regression.py                          # every data set
    python benchmarks/regression.py h2o_distortions --epochs 30 --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

import qml
from qml.models import MLPRegressor, matching_hidden

OUT = Path(__file__).parent / "results"
DATASETS = ["h2o_distortions", "h2_pes", "heh+_pes", "lih_pes", "beh2_pes", "h2o_pes", "h4_pes"]


def test_mae(model, ds) -> float:
    with torch.no_grad():
        return float((model(ds.features) - ds.targets).abs().mean()) * 1000.0


def run(name: str, epochs: int, seed: int, n_qubits: int, layers: int) -> dict:
    train, val, test = (qml.load_dataset(name, split=s) for s in ("train", "val", "test"))
    big = len(train) > 200
    batch = 32 if big else 4
    rows = {}
    torch.manual_seed(seed)
    hybrid = qml.HybridModel(train.features.shape[1], 1, n_qubits=n_qubits, layers=layers, hidden=16, backend="fast")
    n_params = hybrid.parameter_counts()["total"]
    torch.manual_seed(seed)
    mlp = MLPRegressor(train.features.shape[1], 1, hidden=matching_hidden(train.features.shape[1], 1, n_params))
    for label, model in (("hybrid", hybrid), ("mlp", mlp)):
        model.set_normalization(train.features, train.targets)
        t0 = time.perf_counter()
        qml.fit(
            model,
            train,
            val=val,
            epochs=epochs,
            lr=0.02,
            batch_size=batch,
            schedule="cosine",
            seed=seed,
            progress=False,
        )
        rows[label] = {
            "test_mae_mha": test_mae(model, test),
            "params": model.parameter_counts(),
            "seconds": time.perf_counter() - t0,
        }
    return {
        "dataset": name,
        "seed": seed,
        "epochs": epochs,
        "n_train": len(train),
        "n_test": len(test),
        "target": train.target_name,
        **rows,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("datasets", nargs="*", default=DATASETS)
    p.add_argument("--epochs-large", type=int, default=60, help="epochs for h2o_distortions (1600 rows)")
    p.add_argument("--epochs-small", type=int, default=200, help="epochs for the 40-row PES sets")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--n-qubits", type=int, default=4)
    p.add_argument("--layers", type=int, default=2)
    args = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.datasets:
        epochs = args.epochs_large if name == "h2o_distortions" else args.epochs_small
        for seed in args.seeds:
            results.append(run(name, epochs, seed, args.n_qubits, args.layers))
            r = results[-1]
            print(
                f"{name} seed {seed}: hybrid {r['hybrid']['test_mae_mha']:.2f} mHa, "
                f"MLP {r['mlp']['test_mae_mha']:.2f} mHa",
                flush=True,
            )
    meta = {
        "date": str(date.today()),
        "machine": f"{platform.machine()}, torch threads {torch.get_num_threads()}",
        "hybrid": f"HybridModel(n_qubits={args.n_qubits}, layers={args.layers}, hidden=16, angle + "
        "strongly_entangling, backend='fast')",
        "mlp": "MLPRegressor, two tanh hidden layers sized to the hybrid's parameter count",
        "training": "qml.fit, Adam lr 0.02 cosine, batch 32 (h2o_distortions) / 4 (PES sets)",
    }
    (OUT / "regression.json").write_text(json.dumps({"meta": meta, "rows": results}, indent=1))
    lines = [
        f"Test MAE [mHa], mean over seeds {args.seeds} ({meta['date']}, {meta['machine']})",
        "",
        f"hybrid = {meta['hybrid']}; MLP = {meta['mlp']}; {meta['training']}.",
        "",
        "| data set | target | train rows | epochs | hybrid params | hybrid MAE | MLP params | MLP MAE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in args.datasets:
        rs = [r for r in results if r["dataset"] == name]
        h = np.mean([r["hybrid"]["test_mae_mha"] for r in rs])
        m = np.mean([r["mlp"]["test_mae_mha"] for r in rs])
        lines.append(
            f"| {name} | {rs[0]['target']} | {rs[0]['n_train']} | {rs[0]['epochs']} | "
            f"{rs[0]['hybrid']['params']['total']} | {h:.2f} | {rs[0]['mlp']['params']['total']} | {m:.2f} |"
        )
    (OUT / "regression.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
