"""``qml train pes|regress``: a training run written to a run folder.

A run folder holds ``config.json`` (the command's settings), ``checkpoint.pt`` and
``history.json`` (rewritten atomically every epoch, so ``--resume`` continues a killed run),
``metrics.json`` and PNG plots.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

HARTREE_TO_MHA = 1000.0


def add_subparser(sub) -> None:
    train = sub.add_parser("train", help="train a model and write a run folder (config, history, checkpoints, plots)")
    kinds = train.add_subparsers(dest="kind", metavar="KIND", required=True)

    pes = kinds.add_parser("pes", help="one PESModel for a whole potential energy curve (variational)")
    pes.add_argument("--molecule", required=True, help="catalog name: H2, HeH+, LiH, BeH2, H2O, H4")
    pes.add_argument(
        "--train-r",
        default=None,
        help="training geometries: comma list '1.0,1.4,1.8' or range 'start:stop:count' "
        "(None: 8 points over the catalog scan range)",
    )
    pes.add_argument(
        "--test-r", default=None, help="held-out geometries, same format (None: midpoints of the training geometries)"
    )
    pes.add_argument("--ansatz", default="uccsd", help="ansatz of the energy model")
    pes.add_argument(
        "--backend", default="auto", help="a backend with the energy capability (see qml.backends.BACKENDS)"
    )
    pes.add_argument("--shots", type=int, default=None, help="shots per measurement setting (None: exact)")
    pes.add_argument(
        "--epochs", type=int, default=None, help="training epochs (None: qml.fit's recipe, 60 L-BFGS epochs when exact)"
    )
    pes.add_argument("--lr", type=float, default=None, help="learning rate (None: qml.fit's default for the optimizer)")
    _common(pes)
    pes.set_defaults(func=run_pes)

    reg = kinds.add_parser("regress", help="a HybridModel regressor on a shipped data set (supervised)")
    reg.add_argument("--dataset", required=True, help="name from `qml datasets list`")
    reg.add_argument("--n-qubits", type=int, default=4, help="qubits of the quantum layer")
    reg.add_argument("--layers", type=int, default=2, help="ansatz layers")
    reg.add_argument("--hidden", type=int, default=16, help="width of the classical pre- and post-networks")
    reg.add_argument("--embedding", default="angle", help="angle, amplitude, iqp or reupload")
    reg.add_argument(
        "--ansatz", default="strongly_entangling", help="strongly_entangling, hardware_efficient or basic_entangler"
    )
    reg.add_argument("--backend", default="auto", help="any backend string, e.g. aer:FakeManilaV2 or ibm:<device>")
    reg.add_argument("--shots", type=int, default=None, help="shots per circuit (None: exact)")
    reg.add_argument("--epochs", type=int, default=None, help="training epochs (None: qml.fit's recipe for the data)")
    reg.add_argument("--lr", type=float, default=None, help="learning rate (None: qml.fit's default for the optimizer)")
    reg.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="samples per step (None: qml.fit's default: the whole set for L-BFGS, else 32)",
    )
    _common(reg)
    reg.set_defaults(func=run_regress)


def _common(p) -> None:
    p.add_argument("--out", default=None, help="run folder (None: runs/<kind>-<name>)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights and shuffling")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--overwrite", action="store_true", help="start afresh over an existing run folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines")


def parse_r(text: str | None, default):
    """``'1.0,1.4'`` -> [1.0, 1.4]; ``'1.0:3.0:6'`` -> 6 points from 1.0 to 3.0; ``None`` -> default."""
    import numpy as np

    if text is None:
        return [float(v) for v in default]
    try:
        if ":" in text:
            start, stop, count = text.split(":")
            return [float(v) for v in np.linspace(float(start), float(stop), int(count))]
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"could not read geometries {text!r}: use '1.0,1.4,1.8' or 'start:stop:count'") from None


def _write_json(path: Path, obj) -> None:
    from ..train.checkpoint import atomic_write_bytes

    atomic_write_bytes(path, json.dumps(obj, indent=1).encode())


def _fit_options(args, out) -> dict:
    """The ``qml.fit`` arguments both training commands take from the command line."""
    return dict(
        epochs=args.epochs,
        lr=args.lr,
        seed=args.seed,
        checkpoint_dir=out,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )


def run_pes(args) -> int:
    import numpy as np
    import torch

    from .. import plot
    from ..models.pes import PESModel
    from ..train.fit import fit

    out = Path(args.out or f"runs/pes-{args.molecule}")
    model = PESModel(args.molecule, ansatz=args.ansatz, backend=args.backend, shots=args.shots, seed=args.seed)
    lo, hi = model.entry.scan_range
    r_train = parse_r(args.train_r, np.linspace(lo, hi, 8))
    mids = (np.array(r_train[:-1]) + np.array(r_train[1:])) / 2
    r_test = parse_r(args.test_r, mids)
    _write_json(out / "config.json", {**vars(args), "func": None, "train_r": r_train, "test_r": r_test})
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    history = fit(model, r_train, batch_size=len(r_train), **_fit_options(args, out))
    err_train, err_test = model.errors_mha(r_train), model.errors_mha(r_test)
    stderr_test = model.last_stderr(len(r_test)) * 1000.0
    metrics = {
        "molecule": args.molecule,
        "n_qubits": model.n_qubits,
        "n_params": model.ansatz.n_params,
        "train_max_error_mha": float(np.abs(err_train).max()),
        "test_max_error_mha": float(np.abs(err_test).max()),
        "test_mean_error_mha": float(np.abs(err_test).mean()),
        "test_within_chemical_accuracy": int((np.abs(err_test) < 1.6).sum()),
        "n_test": len(r_test),
        "seconds": time.perf_counter() - t0,
        "backend": model.backend.chosen,
        "shots": args.shots,
        "test_max_stderr_mha": float(stderr_test.max()),
        "jobs": int(sum(r.get("jobs", 0) for r in history.records)),
    }
    _write_json(out / "metrics.json", metrics)
    plot.pes_model(model, r_train, r_test=r_test).savefig(out / "pes.png", dpi=120)
    plot.history(history, log=False).savefig(out / "history.png", dpi=120)
    print(
        f"{args.molecule}: held-out max error {metrics['test_max_error_mha']:.3f} mHa, mean "
        f"{metrics['test_mean_error_mha']:.3f} mHa ({metrics['test_within_chemical_accuracy']}/{len(r_test)} "
        f"within 1.6 mHa); run folder {out}"
    )
    return 0


def run_regress(args) -> int:
    import torch

    from .. import plot
    from ..data import load_dataset
    from ..models.hybrid import HybridModel
    from ..train.fit import fit

    out = Path(args.out or f"runs/regress-{args.dataset}")
    train, val, test = (load_dataset(args.dataset, split=s) for s in ("train", "val", "test"))
    torch.manual_seed(args.seed)
    model = HybridModel(
        train.features.shape[1],
        1,
        n_qubits=args.n_qubits,
        layers=args.layers,
        hidden=args.hidden,
        embedding=args.embedding,
        ansatz=args.ansatz,
        backend=args.backend,
        shots=args.shots,
        seed=args.seed,
    )
    model.set_normalization(train.features, train.targets)
    _write_json(out / "config.json", {**vars(args), "func": None})
    t0 = time.perf_counter()
    history = fit(model, train, val=val, batch_size=args.batch_size, **_fit_options(args, out))
    with torch.no_grad():
        pred = model(test.features)
    mae = float((pred - test.targets).abs().mean()) * HARTREE_TO_MHA
    metrics = {
        "dataset": args.dataset,
        "test_mae_mha": mae,
        "parameters": model.parameter_counts(),
        "seconds": time.perf_counter() - t0,
    }
    _write_json(out / "metrics.json", metrics)
    plot.predictions(test.targets, pred, title=args.dataset).savefig(out / "predictions.png", dpi=120)
    plot.history(history).savefig(out / "history.png", dpi=120)
    print(f"{args.dataset}: test MAE {mae:.2f} mHa; run folder {out}")
    return 0
