"""The `qml` command: demo, train pes/regress and the sub-commands of other modules, end to end (small)."""

import argparse
import json
import re
import subprocess
import sys

import qml.cli


def test_demo_goes_well_beyond_chemical_accuracy(tmp_path, capsys, monkeypatch):
    # The showcase with its default settings: test MAE below 0.5 mHa (chemical accuracy is 1.6 mHa),
    # and the plot's title states the number that was printed.
    titles = []
    real = qml.plot.predictions

    def spy(*args, **kwargs):
        fig = real(*args, **kwargs)
        titles.append(fig.axes[0].get_title())
        return fig

    monkeypatch.setattr(qml.plot, "predictions", spy)
    assert qml.cli.main(["demo", "--out", str(tmp_path), "--no-progress", "--backend", "fast"]) == 0
    out = capsys.readouterr().out
    printed = re.search(r"test MAE:\s+([0-9.]+ mHa)\s+\(5 held-out", out).group(1)
    assert float(printed.split()[0]) < 0.5, out
    assert "chemical accuracy 1.6 mHa: reached" in out and "optimizer: lbfgs" in out
    assert titles == [f"H2, HybridModel: test MAE {printed} (5 points)"]
    assert (tmp_path / "prediction.png").stat().st_size > 10_000
    assert (tmp_path / "history.png").exists()


def test_demo_says_when_the_bar_is_missed(tmp_path, capsys):
    assert qml.cli.main(["demo", "--epochs", "1", "--out", str(tmp_path), "--no-progress", "--backend", "fast"]) == 0
    out = capsys.readouterr().out
    mae = float(re.search(r"test MAE:\s+([0-9.]+) mHa", out).group(1))
    verdict = "reached" if mae < 1.6 else "NOT reached"
    assert f"chemical accuracy 1.6 mHa: {verdict}" in out


def _all_parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_parsers(sub)


def test_every_help_shows_defaults_and_explains_every_option():
    parser = qml.cli.build_parser()
    missing = []
    for p in _all_parsers(parser):
        text = p.format_help()
        for action in p._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            if not action.help:
                missing.append(f"{p.prog} {action.dest}: no help text")
            elif (
                not action.required
                and action.nargs != 0
                and action.default is not None
                and f"(default: {action.default})" not in " ".join(text.split())
            ):
                missing.append(f"{p.prog} {action.dest}: default {action.default!r} not shown")
    assert missing == []
    assert len(list(_all_parsers(parser))) >= 12  # qml, demo, train x2, datasets x3, jobs x4, ...


def test_help_imports_no_heavy_module():
    code = (
        "import sys, qml.cli; qml.cli.build_parser(); "
        "print(sorted(m for m in ('torch', 'pennylane', 'qiskit', 'numpy', 'matplotlib') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_read_only_commands_create_no_files(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("QML_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    assert qml.cli.main(["jobs", "list"]) == 0
    assert "no jobs in" in capsys.readouterr().out
    assert qml.cli.main(["jobs", "show", "abc"]) == 1
    assert "there is no job store at" in capsys.readouterr().err
    assert qml.cli.main(["datasets", "list"]) == 0
    assert "h2_pes" in capsys.readouterr().out
    assert qml.cli.main(["jobs", "estimate", "--qubits", "2", "--batch-size", "4", "--steps", "3"]) == 0
    assert sorted(p.name for p in tmp_path.rglob("*")) == []


def test_train_pes_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    argv = [
        "train",
        "pes",
        "--molecule",
        "H2",
        "--train-r",
        "0.5,0.9,1.5",
        "--test-r",
        "0.7",
        "--epochs",
        "5",
        "--out",
        str(out),
        "--no-progress",
        "--backend",
        "fast",
    ]
    assert qml.cli.main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_test"] == 1 and metrics["test_max_error_mha"] >= 0
    assert {p.name for p in out.iterdir()} >= {
        "config.json",
        "history.json",
        "checkpoint.pt",
        "metrics.json",
        "pes.png",
        "history.png",
    }
    # A second run into the same folder must not silently overwrite it.
    assert qml.cli.main(argv) == 1
    assert "resume=True" in capsys.readouterr().err
    assert qml.cli.main(argv[:-3] + ["--epochs", "6", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert len(json.loads((out / "history.json").read_text())["records"]) == 6


def test_train_regress_run_folder(tmp_path):
    out = tmp_path / "reg"
    argv = [
        "train",
        "regress",
        "--dataset",
        "h2_pes",
        "--n-qubits",
        "2",
        "--layers",
        "1",
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--out",
        str(out),
        "--no-progress",
        "--backend",
        "default.qubit",
    ]
    assert qml.cli.main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_mae_mha"] > 0 and metrics["parameters"]["quantum"] == 2 * 3


def test_python_dash_m_and_unknown_choice():
    proc = subprocess.run([sys.executable, "-m", "qml", "--help"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0
    for command in ("demo", "datasets", "jobs", "train"):
        assert command in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "qml", "train", "pes", "--molecule", "Xe2", "--epochs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1 and "valid" in proc.stderr
