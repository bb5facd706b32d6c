"""``qml demo``: a small HybridModel learns the H2 potential energy curve on the local simulator."""

from __future__ import annotations

import time
from pathlib import Path

HARTREE_TO_MHA = 1000.0
CHEMICAL_ACCURACY_MHA = 1.6
# L-BFGS reaches ~0.13 mHa test MAE by epoch 15 and 0.12 by 40 (measured; more epochs change little).
DEMO_EPOCHS = 40


def run_demo(
    *, epochs: int = DEMO_EPOCHS, backend: str = "auto", out_dir="qml-demo", seed: int = 0, progress: bool = True
) -> dict:
    """Train ``HybridModel(1 -> 1, 3 qubits, 2 layers)`` on the shipped H2 PES (r -> exact energy).

    ``qml.fit``'s defaults train it: full-batch L-BFGS on the 40 training geometries, with features
    and targets standardised from the training data. The 5 validation geometries are evaluated
    after every epoch; the 5 test geometries are never seen in training. Writes ``prediction.png``
    (prediction vs reference over the whole curve, the test points marked, and the residuals in mHa
    with the chemical-accuracy band) and ``history.png`` into ``out_dir``.

    Args:
        epochs: L-BFGS steps (each up to 20 iterations).
        backend: backend string of the quantum layer.
        out_dir: folder for the plots (created).
        seed: initial weights.
        progress: show training progress.

    Returns:
        dict with ``train_mae_mha``, ``val_mae_mha``, ``test_mae_mha``, ``test_max_mha``, ``n_train``,
        ``n_val``, ``n_test``, ``seconds``, ``backend``, ``optimizer`` and ``plot``.

    Raises:
        ConfigurationError: bad ``epochs`` or ``backend``.
    """
    import torch

    import qml

    t0 = time.perf_counter()
    threads = torch.get_num_threads()
    # One thread: a 3-qubit model on 40 samples gains nothing from intra-op threads, and on shared
    # cores their spinning cost ten times the CPU time (measured); restored below.
    torch.set_num_threads(1)
    try:
        return _train_and_plot(qml, torch, epochs, backend, out_dir, seed, progress, t0)
    finally:
        torch.set_num_threads(threads)


def _train_and_plot(qml, torch, epochs, backend, out_dir, seed, progress, t0) -> dict:
    splits = {name: qml.load_dataset("h2_pes", split=name) for name in ("train", "val", "test")}
    torch.manual_seed(seed)
    model = qml.HybridModel(1, 1, n_qubits=3, layers=2, hidden=16, backend=backend)
    history = qml.fit(model, splits["train"], val=splits["val"], epochs=epochs, seed=seed, progress=progress)
    model.eval()
    with torch.no_grad():
        err = {name: (model(ds.features) - ds.targets).abs()[:, 0] * HARTREE_TO_MHA for name, ds in splits.items()}
        full = qml.load_dataset("h2_pes", split="all")
        pred = model(full.features)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    test = splits["test"]
    is_test = torch.isin(full.indices, test.indices).numpy()
    fig = qml.plot.predictions(
        full.targets, pred, x=full.features[:, 0], title="H2, HybridModel", test=is_test, residuals=True
    )
    fig.savefig(out / "prediction.png", dpi=120, bbox_inches="tight")
    qml.plot.history(history).savefig(out / "history.png", dpi=120, bbox_inches="tight")
    backend_name = getattr(model.quantum.backend, "chosen", None) or model.quantum.backend.name
    return {
        "train_mae_mha": err["train"].mean().item(),
        "val_mae_mha": err["val"].mean().item(),
        "test_mae_mha": err["test"].mean().item(),
        "test_max_mha": err["test"].max().item(),
        "n_train": len(splits["train"]),
        "n_val": len(splits["val"]),
        "n_test": len(test),
        "seconds": time.perf_counter() - t0,
        "backend": backend_name,
        "optimizer": history.config.get("optimizer"),
        "plot": str(out / "prediction.png"),
    }
