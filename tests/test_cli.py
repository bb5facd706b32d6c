"""The `qml` command: demo, train pes/regress and the sub-commands of other modules, end to end (small)."""

import json
import re
import subprocess
import sys

import qml.cli


def test_demo_writes_plots_and_reports_errors(tmp_path, capsys):
    assert qml.cli.main(["demo", "--epochs", "3", "--out", str(tmp_path), "--no-progress", "--backend", "fast"]) == 0
    out = capsys.readouterr().out
    test_mae = float(re.search(r"test MAE:\s+([0-9.]+) mHa", out).group(1))
    assert 0 < test_mae < 500  # 3 epochs: a rough fit, but a number in mHa
    assert (tmp_path / "prediction.png").stat().st_size > 10_000
    assert (tmp_path / "history.png").exists()


def test_train_pes_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "pes", "--molecule", "H2", "--train-r", "0.5,0.9,1.5", "--test-r", "0.7", "--epochs", "5",
            "--out", str(out), "--no-progress", "--backend", "fast"]
    assert qml.cli.main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_test"] == 1 and metrics["test_max_error_mha"] >= 0
    assert {p.name for p in out.iterdir()} >= {"config.json", "history.json", "checkpoint.pt", "metrics.json",
                                               "pes.png", "history.png"}
    # A second run into the same folder must not silently overwrite it.
    assert qml.cli.main(argv) == 1
    assert "resume=True" in capsys.readouterr().err
    assert qml.cli.main(argv[:-3] + ["--epochs", "6", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert len(json.loads((out / "history.json").read_text())["records"]) == 6


def test_train_regress_run_folder(tmp_path):
    out = tmp_path / "reg"
    argv = ["train", "regress", "--dataset", "h2_pes", "--n-qubits", "2", "--layers", "1", "--epochs", "2",
            "--batch-size", "16", "--out", str(out), "--no-progress", "--backend", "default.qubit"]
    assert qml.cli.main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_mae_mha"] > 0 and metrics["parameters"]["quantum"] == 2 * 3


def test_python_dash_m_and_unknown_choice():
    proc = subprocess.run([sys.executable, "-m", "qml", "--help"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0
    for command in ("demo", "datasets", "jobs", "train"):
        assert command in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "qml", "train", "pes", "--molecule", "Xe2", "--epochs", "1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "valid" in proc.stderr
