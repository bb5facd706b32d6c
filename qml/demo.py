"""``qml demo``: a small HybridModel learns the H2 potential energy curve on the local simulator."""

from __future__ import annotations

import time
from pathlib import Path

import torch

HARTREE_TO_MHA = 1000.0


def run_demo(*, epochs: int = 200, backend: str = "auto", out_dir="qml-demo", seed: int = 0, progress: bool = True) -> dict:
    """Train ``HybridModel(1 -> 1, 3 qubits)`` on the shipped H2 PES (r -> exact energy).

    Writes ``prediction.png`` (prediction vs reference) and ``history.png`` into ``out_dir``.

    Returns:
        dict with ``train_mae_mha``, ``test_mae_mha``, ``seconds``, ``backend`` and ``plot``.
    """
    import qml

    t0 = time.perf_counter()
    train = qml.load_dataset("h2_pes", split="train")
    test = qml.load_dataset("h2_pes", split="test")
    torch.manual_seed(seed)
    model = qml.HybridModel(1, 1, n_qubits=3, layers=2, hidden=16, backend=backend)
    model.set_normalization(train.features, train.targets)
    history = qml.fit(model, train, val=test, epochs=epochs, lr=0.02, batch_size=4, schedule="cosine", seed=seed,
                      progress=progress)
    model.eval()
    with torch.no_grad():
        mae = {
            name: (model(ds.features) - ds.targets).abs().mean().item() * HARTREE_TO_MHA
            for name, ds in (("train", train), ("test", test))
        }
        full = qml.load_dataset("h2_pes", split="all")
        pred = model(full.features)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = qml.plot.predictions(full.targets, pred, x=full.features[:, 0], title="H2, HybridModel")
    ax = fig.axes[0]
    ax.plot(train.features[:, 0], train.targets[:, 0], "x", color="k", ms=5, label="training points")
    ax.legend()
    fig.savefig(out / "prediction.png", dpi=120, bbox_inches="tight")
    qml.plot.history(history).savefig(out / "history.png", dpi=120, bbox_inches="tight")
    backend_name = getattr(model.quantum.backend, "chosen", None) or model.quantum.backend.name
    return {
        "train_mae_mha": mae["train"],
        "test_mae_mha": mae["test"],
        "seconds": time.perf_counter() - t0,
        "backend": backend_name,
        "plot": str(out / "prediction.png"),
    }
