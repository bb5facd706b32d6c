"""The README's commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    ci_cmd = [line for line in ci.splitlines() if "pytest" in line and "pip install" in line]
    assert len(ci_cmd) == 1
    assert ci_cmd[0].strip() in readme


def test_readme_names_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up")[1].split("## ")[0]
    commands = re.findall(r"```bash\n(.*?)\n```", setup, flags=re.S)
    assert commands == ["pip install torch==2.13.0 -e . && qml demo", 'pip install torch==2.13.0 -e ".[dev]" && pytest']


def test_no_pennylane_imported_as_qml():
    wrong = "import pennylane as " + "qml"  # spelled in two parts so this file does not match itself
    offenders = [str(p) for p in (ROOT / "qml").rglob("*.py") if wrong in p.read_text()]
    assert offenders == []
