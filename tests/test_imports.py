"""Imports run one way, device names stay in the execution layer, and ``import qml`` is light.

The layer rules are read from the source with ``ast`` (no import needed), so a violation is
reported with its file and line even when the module would not import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "qml"

#: module prefix -> import prefixes it must not use (anywhere in the module, functions included).
FORBIDDEN = {
    # chemistry is pure data: it runs no circuit and knows no backend, model or training loop ...
    "qml.chem": ("qml.backends", "qml.models", "qml.train", "qml.layers", "qml.runtime", "qml.sim", "qml.plot"),
    # ... except vqe and scan, which ask qml.backends for energies and nothing else
    "qml.chem.vqe": ("qml.models", "qml.train", "qml.layers", "qml.runtime", "qml.sim", "qml.plot"),
    "qml.chem.scan": ("qml.models", "qml.train", "qml.layers", "qml.runtime", "qml.sim", "qml.plot"),
    "qml.circuits": ("torch.nn", "qml.layers", "qml.models", "qml.train", "qml.backends", "qml.runtime", "qml.sim"),
    "qml.data": ("qml.models", "qml.train", "qml.layers", "qml.backends", "qml.runtime", "qml.sim"),
    "qml.layers": ("qml.models", "qml.train", "qml.runtime", "qml.sim", "qiskit", "qiskit_aer", "qiskit_ibm_runtime"),
    "qml.models": ("qml.runtime", "qml.train", "qml.sim", "qiskit", "qiskit_aer", "qiskit_ibm_runtime"),
    "qml.backends": ("qml.models", "qml.train", "qml.layers", "qml.plot"),
    "qml.sim": ("qml.models", "qml.train", "qml.layers", "qml.runtime"),
    "qml.runtime": ("qml.train", "qml.models", "qml.layers"),
    "qml.compression": ("qml.runtime", "qml.sim"),
    "qml.inputs": ("qml.circuits", "qml.layers", "pennylane"),
    "qml.errors": ("qml.", "torch", "pennylane"),
}

#: module -> packages it must not import at module level (a lazy import inside a function is fine):
#: the registry names backend modules as strings, so the interface stays light and backends and
#: runtime never form an import cycle.
_LIGHT = ("qml.runtime", "qml.sim", "pennylane", "qiskit", "qiskit_aer", "qiskit_ibm_runtime", "torch")
NO_TOP_LEVEL = {
    "qml.backends": _LIGHT,
    "qml.backends.base": _LIGHT,
    "qml.backends.context": _LIGHT,
    "qml.models.pes": ("pennylane", "qml.backends.pennylane", "qml.sim"),
}

#: only these may import the top-level package ``qml`` (everything else imports what it uses).
TOP_LEVEL_IMPORTERS = ("qml.demo", "qml.cli")

DEVICE_NAMES = ("default.qubit", "lightning.qubit", "qiskit.aer", "aer:", "ibm:")
DEVICE_HOMES = ("qml.backends", "qml.runtime", "qml.sim")
#: (module, the string literal that may contain a device name): help texts that show an example.
DEVICE_NAME_ALLOWLIST = {
    ("qml.cli.train", "any backend string, e.g. aer:FakeManilaV2 or ibm:<device>"),
}

#: QNode/device construction: the modules that run circuits are the backends (and sim, runtime).
CIRCUIT_RUNNERS = ("QNode", "qnode", "device", "set_shots", "execute")
NO_CIRCUITS = ("qml.chem", "qml.models", "qml.circuits", "qml.data", "qml.train")


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        yield ".".join(parts), is_pkg, path, ast.parse(path.read_text(), filename=str(path))


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix if prefix.endswith(".") else prefix + ".")


def _imports(module: str, is_pkg: bool, tree):
    """Yield ``(line, imported module, top_level)`` with relative imports resolved."""
    package = module if is_pkg else module.rpartition(".")[0]
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, id(node) in top
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            # "from .. import backends" imports qml.backends: count the names as (possible) submodules
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}", id(node) in top
            if node.module is not None:
                yield node.lineno, target, id(node) in top


def _rules(module: str, table: dict) -> tuple:
    best = max((p for p in table if _matches(module, p)), key=len, default=None)
    return table.get(best, ())


def test_imports_follow_the_layer_order():
    bad = []
    for module, is_pkg, path, tree in _modules():
        forbidden, no_top = _rules(module, FORBIDDEN), NO_TOP_LEVEL.get(module, ())
        for line, name, top_level in _imports(module, is_pkg, tree):
            where = f"{path.relative_to(ROOT)}:{line}"
            if any(_matches(name, f) for f in forbidden):
                bad.append(f"{where}: {module} imports {name}")
            elif top_level and any(_matches(name, f) for f in no_top):
                bad.append(f"{where}: {module} imports {name} at module level (import it where it is used)")
            if name == "qml" and module != "qml" and not any(_matches(module, m) for m in TOP_LEVEL_IMPORTERS):
                bad.append(f"{where}: {module} imports the top-level package qml; import the module it needs")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def _docstrings(tree) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def test_device_names_appear_only_in_the_execution_layer():
    bad = []
    for module, _, path, tree in _modules():
        if any(_matches(module, home) for home in DEVICE_HOMES):
            continue
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and any(d in node.value for d in DEVICE_NAMES)
                and (module, node.value) not in DEVICE_NAME_ALLOWLIST
            ):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not bad, "device names outside qml.backends / qml.runtime / qml.sim:\n" + "\n".join(bad)


def test_chemistry_and_models_build_no_circuit_executions():
    bad = []
    for module, _, path, tree in _modules():
        if not any(_matches(module, p) for p in NO_CIRCUITS):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in CIRCUIT_RUNNERS
                and isinstance(node.value, ast.Name)
                and node.value.id in ("qp", "pennylane")
            ):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: qp.{node.attr}")
    assert not bad, "circuits executed outside the execution layer (ask qml.backends):\n" + "\n".join(bad)


def test_the_checker_sees_a_violation(tmp_path):
    """The rules above can fail: a relative import from chem into backends is found and resolved."""
    tree = ast.parse(
        "from ..backends import resolve\nfrom .. import models\nimport qml\n"
        "def f():\n    from .bank import HamiltonianEntry\n"
    )
    found = [(name, top) for _, name, top in _imports("qml.chem.molecule", False, tree)]
    assert ("qml.backends", True) in found and ("qml.models", True) in found and ("qml", True) in found
    assert ("qml.chem.bank", False) in found and ("qml.chem", True) not in found
    assert any(_matches(n, f) for n, _ in found for f in _rules("qml.chem.molecule", FORBIDDEN))
    assert _rules("qml.chem.vqe", FORBIDDEN) == FORBIDDEN["qml.chem.vqe"]  # the longest prefix wins


@pytest.mark.parametrize("heavy", [("torch", "pennylane", "qiskit", "qiskit_aer", "qiskit_ibm_runtime", "pyscf")])
def test_import_qml_loads_no_heavy_library(heavy):
    code = (
        "import sys, time; t = time.perf_counter(); import qml; dt = time.perf_counter() - t; "
        f"print([m for m in {heavy!r} if m in sys.modules]); print(dt)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded, _seconds = out.stdout.split("\n")[:2]
    assert loaded == "[]", f"import qml loaded {loaded}"


def test_lazy_names_resolve_to_their_modules():
    import qml

    assert qml.sim.FastDevice.__name__ == "FastDevice"
    assert qml.PESModel is qml.models.pes.PESModel
    assert "sim" in dir(qml) and "backends" in qml.__all__
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        qml.nope  # noqa: B018
