"""The README runs: its commands are the ones CI runs, and every Python block executes offline.

The Python blocks run in order in one namespace (later blocks use names of earlier ones), in a
temporary folder, with the substitutions in ``SUBSTITUTIONS``: smaller settings for the examples that
would take minutes. Each substitution must match the README exactly once, so an edited example
fails here instead of silently running unsubstituted.
"""

import contextlib
import io
import re
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TEST_COMMAND = 'pip install torch==2.13.0 -e ".[dev]" && pytest -n 2'

# (README text, what the test runs instead, why)
SUBSTITUTIONS = [
    (
        "qml.fit(pes, [1.0, 1.4, 1.8, 2.2, 2.6, 3.0])",
        "qml.fit(pes, [1.0, 1.4, 1.8, 2.2, 2.6, 3.0], epochs=1)",
        "PES training: 1 L-BFGS epoch instead of the recipe's 60",
    ),
    (
        'history = qml.fit(model, train, epochs=5, batch_size=16, checkpoint_dir="runs/hw")',
        "history = qml.fit(model, (train.features[:4], train.targets[:4]), epochs=1, batch_size=16, "
        'checkpoint_dir="runs/hw", progress=False)',
        "hardware example on the fake device: one epoch of one batch of 4, one job",
    ),
]


# Blocks that cannot run offline on one machine: (a line of the block, why). They are compiled (a syntax
# check) but not executed; each marker must match exactly one block. Blocks whose body sits under
# `if __name__ == "__main__":` (Dask examples that start worker processes) run only their top level here.
NOT_RUN = [
    ("from dask_jobqueue import SLURMCluster", "needs a SLURM cluster and dask-jobqueue"),
]


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)\n```", text, flags=re.S)


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = _readme()
    ci_cmd = [line for line in ci.splitlines() if "pytest" in line and "pip install" in line]
    assert len(ci_cmd) == 1
    assert ci_cmd[0].strip() == TEST_COMMAND
    assert TEST_COMMAND in readme


def test_readme_names_two_setup_commands():
    readme = _readme()
    setup = readme.split("## Set-up")[1].split("## ")[0]
    commands = re.findall(r"```bash\n(.*?)\n```", setup, flags=re.S)
    assert commands == ["pip install torch==2.13.0 -e . && qml demo", TEST_COMMAND]


def test_readme_states_the_measured_suite_time():
    setup = _readme().split("## Set-up")[1].split("## ")[0]
    assert re.search(r"measured \d+ min \d+ s", setup), "state the measured wall time of the test suite"


def test_no_pennylane_imported_as_qml():
    wrong = "import pennylane as " + "qml"  # spelled in two parts so this file does not match itself
    offenders = [str(p) for p in (ROOT / "qml").rglob("*.py") if wrong in p.read_text()]
    assert offenders == []


def test_substitutions_match_the_readme_once():
    text = _readme()
    counts = {old: text.count(old) for old, _, _ in SUBSTITUTIONS}
    assert all(n == 1 for n in counts.values()), f"README changed; update SUBSTITUTIONS: {counts}"
    blocks = python_blocks(text)
    matches = {marker: sum(marker in b for b in blocks) for marker, _ in NOT_RUN}
    assert all(n == 1 for n in matches.values()), f"README changed; update NOT_RUN: {matches}"


@pytest.mark.slow
def test_every_python_block_runs(tmp_path, monkeypatch):
    text = _readme()
    for old, new, _ in SUBSTITUTIONS:
        text = text.replace(old, new)
    blocks = python_blocks(text)
    assert len(blocks) >= 3, "the README has a quick start, molecular energies and hardware examples"
    monkeypatch.chdir(tmp_path)
    matplotlib.use("Agg")
    namespace: dict = {"__name__": "__readme__"}
    out = io.StringIO()
    for i, block in enumerate(blocks):
        if any(marker in block for marker, _ in NOT_RUN):
            compile(block, f"README.md python block {i + 1}", "exec")
            continue
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"README python block {i + 1} failed: {type(exc).__name__}: {exc}\n{block}") from exc
    printed = out.getvalue()
    # The quick start prints its test error, and it is within chemical accuracy.
    mae = float(re.search(r"test MAE ([0-9.eE+-]+) mHa", printed).group(1))
    assert 0 < mae < 1.6, printed
    assert namespace["mae_mha"] == pytest.approx(mae, rel=1e-2)
    assert (tmp_path / "runs" / "h2" / "checkpoint.pt").exists()
    assert (tmp_path / "history.png").stat().st_size > 5_000
