"""The tutorial notebooks are committed clean: no outputs, one QML_FAST switch, no secrets.

The notebooks themselves are executed by nbmake (``--nbmake`` in pyproject's addopts, with
``notebooks/`` in testpaths and ``notebooks/conftest.py`` setting ``QML_FAST=1``).
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = [
    "01_quickstart.ipynb",
    "02_vqe_and_pes_scans.ipynb",
    "03_learning_a_whole_pes.ipynb",
    "04_noise_shots_and_aer.ipynb",
    "05_running_on_ibm_quantum.ipynb",
    "06_performance_and_compression.ipynb",
    "07_cooptimising_on_ibm_quantum.ipynb",
    "08_noisy_chemistry.ipynb",
    "09_from_xyz_to_properties.ipynb",
]
SWITCH = 'FAST = os.environ.get("QML_FAST") == "1"'

# Token-like strings: long runs of hex or base64/url-safe characters, and any QISKIT_IBM_TOKEN
# assignment with a literal value (placeholders such as `...` or `<your API key>` are fine).
LONG_HEX = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,}(?![0-9A-Fa-f])")
LONG_B64 = re.compile(r"[A-Za-z0-9+/_\-]{40,}={0,2}")
TOKEN_ASSIGNMENT = re.compile(
    r"""QISKIT_IBM_TOKEN=(?!\.\.\.|<|\$)\S{6,}"""  # shell: export QISKIT_IBM_TOKEN=value
    r"""|QISKIT_IBM_TOKEN["']\s*\]?\s*[=:,]\s*["'](?!\.\.\.|<)[^"']{6,}["']"""  # python: environ[...] = "value"
)
SAVE_ACCOUNT = re.compile(r"""token\s*=\s*["'](?!<)[^"']{6,}["']""")


def _load(name):
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def test_the_six_tutorials_exist():
    present = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    missing = [n for n in EXPECTED if n not in present]
    assert not missing, f"missing tutorials: {missing}"
    assert present == EXPECTED, f"unexpected notebooks besides the tutorials: {sorted(set(present) - set(EXPECTED))}"


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_without_outputs(name):
    nb = _load(name)
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert dirty == [], f"{name}: cells {dirty} have outputs or execution counts; strip them before committing"


@pytest.mark.parametrize("name", EXPECTED)
def test_first_code_cell_is_the_fast_switch(name):
    nb = _load(name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{name} has no code cells"
    first = _source(code[0])
    assert SWITCH in first, f"{name}: the first code cell must read QML_FAST ({SWITCH})"
    # The switch is read once, in that cell only: no other cell consults QML_FAST.
    others = [i for i, c in enumerate(code[1:], start=2) if "QML_FAST" in _source(c)]
    assert others == [], f"{name}: code cells {others} read QML_FAST; set every hyperparameter in the first cell"
    assert nb["cells"][0]["cell_type"] == "markdown" and _source(nb["cells"][0]).startswith("# "), (
        f"{name}: starts with a markdown title"
    )


@pytest.mark.parametrize("name", EXPECTED)
def test_no_token_like_strings(name):
    raw = (NOTEBOOKS / name).read_text(encoding="utf-8")
    sources = "\n".join(_source(c) for c in _load(name)["cells"])
    text = raw + "\n" + sources
    for pattern in (LONG_HEX, LONG_B64, TOKEN_ASSIGNMENT, SAVE_ACCOUNT):
        hits = pattern.findall(text)
        assert not hits, f"{name}: token-like string(s) {[h[:8] + '...' for h in hits]} (pattern {pattern.pattern})"


def test_token_patterns_catch_what_they_should():
    assert LONG_HEX.search("a" * 20 + "0123456789abcdef" * 3)
    assert LONG_B64.search("x" * 44)
    assert TOKEN_ASSIGNMENT.search('os.environ["QISKIT_IBM_TOKEN"] = "abcdef123456"')
    assert TOKEN_ASSIGNMENT.search("export QISKIT_IBM_TOKEN=abcdef123456")
    assert not TOKEN_ASSIGNMENT.search("export QISKIT_IBM_TOKEN=...")
    assert not TOKEN_ASSIGNMENT.search("export QISKIT_IBM_TOKEN=<your API key>")
    assert TOKEN_ASSIGNMENT.search("os.environ.setdefault('QISKIT_IBM_TOKEN', 'abcdef123456')")
    assert not TOKEN_ASSIGNMENT.search('os.environ["QISKIT_IBM_TOKEN"] = hidden_token')
    assert SAVE_ACCOUNT.search("save_account(token='abcdef123456')")
    assert not SAVE_ACCOUNT.search("save_account(token='<your API key>')")
    assert not LONG_HEX.search("job f50bec9d-a13c-491b-8ca2-dbeb609e8eae")


@pytest.mark.parametrize("name", EXPECTED)
def test_markdown_between_code_cells(name):
    nb = _load(name)
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds.count("markdown") >= 4, (
        f"{name}: a tutorial tells a story; only {kinds.count('markdown')} markdown cells"
    )
    assert kinds[-1] == "markdown", f"{name}: ends with a markdown summary"


@pytest.mark.parametrize("name", EXPECTED)
def test_first_code_cell_prints_the_versions(name):
    first = _source([c for c in _load(name)["cells"] if c["cell_type"] == "code"][0])
    for package in ("torch", "pennylane", "qiskit"):
        assert f"version('{package}')" in first, f"{name}: the first code cell prints the {package} version"
    assert "qml.__version__" in first, f"{name}: the first code cell prints qml's version"
