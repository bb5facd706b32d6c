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


# --------------------------------------------------------------------------- the package graph: one way, no cycles
#: The layer order of ARCHITECTURE.md's data flow, lowest first. A unit (the longest prefix listed here)
#: may import units of lower layers, and units of its own layer (the execution layer's three packages
#: call each other); an arrow to a higher layer fails, and so does any cycle. ``circuits`` (plain
#: functions that emit ops) sits below ``chem``, whose chemistry ansatzes build on it; ``vqe``/``scan``
#: run on the execution layer and sit above ``models``; ``__main__`` modules belong to the CLI. A package's
#: ``__init__`` re-exporting its own modules (``qml.chem`` exports ``vqe``) is its public face and is not
#: counted as an arrow.
LAYERS = (
    ("qml", "qml._lazy", "qml._cache", "qml._sealed", "qml.errors", "qml.inputs", "qml.progress", "qml.parallel"),
    ("qml.circuits",),
    ("qml.chem",),
    ("qml.data",),
    ("qml.backends", "qml.sim", "qml.runtime"),
    ("qml.layers",),
    ("qml.models",),
    ("qml.chem.vqe", "qml.chem.scan", "qml.chem.properties"),
    ("qml.train",),
    ("qml.compression", "qml.plot", "qml.export", "qml.tables"),
    ("qml.demo", "qml.cli"),
)

#: Homes of "thin methods" (``VQEResult.to_pandas``, ``Molecule.to_xyz``, ...): a result's method may
#: delegate to these with a lazy import, which is not an arrow (they present results; they are not
#: dependencies of the code that makes them). A module-level import of them still counts.
THIN_METHOD_HOMES = ("qml.tables", "qml.export", "qml.chem.io")

#: Cycles known and owned, each with who removes it; the test fails on any other cycle.
KNOWN_CYCLES = {
    frozenset({"qml.train.fit", "qml.train.distributed"}): "fit(workers=) <-> the distributed runner (interop)",
}


def _unit(module: str, layers=LAYERS) -> str | None:
    if module.endswith(".__main__"):
        return "qml.cli"
    units = [u for layer in layers for u in layer if _matches(module, u)]
    return max(units, key=len) if units else None


def _layer(unit: str, layers=LAYERS) -> int:
    return next(i for i, layer in enumerate(layers) if unit in layer)


def module_graph(modules, root=ROOT) -> dict:
    """``{module: {(imported module, "file:line"), ...}}`` over qml's modules (lazy imports included)."""
    names = {m for m, *_ in modules}
    graph = {}
    for module, is_pkg, path, tree in modules:
        for line, name, top_level in _imports(module, is_pkg, tree):
            parts = name.split(".")
            while parts and ".".join(parts) not in names:
                parts.pop()  # "from qml.chem import catalog" -> qml.chem.catalog; names of objects -> their module
            target = ".".join(parts)
            if is_pkg and _matches(target, module):
                continue  # a package's __init__ re-exporting its own modules is its public face, not a dependency
            if not top_level and any(_matches(target, h) for h in THIN_METHOD_HOMES):
                continue  # a thin method delegating to its presentation module
            if target and target != module:
                graph.setdefault(module, set()).add((target, f"{path.relative_to(root)}:{line}"))
    return graph


def cycles(graph: dict) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w, _ in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while not comp or comp[-1] != v:
                comp.append(stack.pop())
                on.discard(comp[-1])
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def unit_graph(graph: dict, layers=LAYERS) -> dict:
    out = {}
    for module, targets in graph.items():
        for target, where in targets:
            a, b = _unit(module, layers), _unit(target, layers)
            if a and b and a != b:
                out.setdefault(a, set()).add((b, where))
    return out


def graph_problems(modules, layers=LAYERS, known=KNOWN_CYCLES, root=ROOT) -> list[str]:
    """Every cycle (between modules and between units) and every arrow against ``layers``."""
    graph = module_graph(modules, root)
    units = unit_graph(graph, layers)
    bad = [f"module cycle: {' <-> '.join(c)}" for c in cycles(graph) if frozenset(c) not in known]
    bad += [f"package cycle: {' <-> '.join(c)}" for c in cycles(units) if frozenset(c) not in known]
    for a, targets in sorted(units.items()):
        for b, where in sorted(targets):
            if _layer(b, layers) > _layer(a, layers) and frozenset({a, b}) not in known:
                bad.append(f"{where}: {a} imports {b}, a higher layer")
    return bad


def test_packages_form_no_cycle_and_import_only_downwards():
    modules = list(_modules())
    unplaced = sorted({m for m, *_ in modules if _unit(m) is None})
    assert not unplaced, f"modules outside LAYERS (add them to a layer): {unplaced}"
    problems = graph_problems(modules)
    assert not problems, "imports against the layer order or in a cycle:\n" + "\n".join(problems)


def test_nothing_imports_the_cli():
    bad = [
        f"{where}: {m} imports {t}"
        for m, targets in module_graph(list(_modules())).items()
        for t, where in targets
        if _matches(t, "qml.cli") and not (_matches(m, "qml.cli") or m.endswith("__main__"))
    ]
    assert not bad, "the CLI is the top: nothing but entry points imports it:\n" + "\n".join(bad)


def _tmp_package(root, files: dict):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    out = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out.append((".".join(parts[:-1] if is_pkg else parts), is_pkg, path, ast.parse(path.read_text())))
    return out


def test_the_graph_check_fails_on_a_cycle_and_on_an_upward_arrow(tmp_path):
    layers = (("qml", "qml.errors"), ("qml.chem",), ("qml.train",))
    clean = {
        "qml/__init__.py": "",
        "qml/errors.py": "",
        "qml/chem/__init__.py": "from . import a\n",
        "qml/chem/a.py": "from ..errors import X\n",
        "qml/chem/b.py": "from . import a\n",
        "qml/train/__init__.py": "def f():\n    from ..chem import b\n",
    }

    def problems(name, files):
        return graph_problems(_tmp_package(tmp_path / name, files), layers, {}, root=tmp_path / name)

    assert problems("ok", clean) == []
    cyclic = {**clean, "qml/chem/a.py": "def g():\n    from .b import h\n"}  # a -> b -> a, a lazy import
    assert problems("cycle", cyclic) == ["module cycle: qml.chem.a <-> qml.chem.b"]
    upward = {**clean, "qml/chem/a.py": "from ..train import f\n"}  # chem -> train: a cycle and an upward arrow
    found = problems("up", upward)
    assert "package cycle: qml.chem <-> qml.train" in found
    assert "qml/chem/a.py:1: qml.chem imports qml.train, a higher layer" in found


# --------------------------------------------------------------------------- functions and classes of one idea
MAX_FUNCTION_LINES = 80
MAX_CLASS_LINES = 300
#: A long function or class says why at its top: its docstring holds this phrase.
REASON = "Why this long:"
#: Known long ones, with who shortens them (the test fails on any other).
KNOWN_LONG = {
    "qml/chem/properties.py::properties": "interop (issue 23)",
}


def _length(node) -> int:
    """Lines of a def or class without its docstring (documentation is not an idea of its own)."""
    n = node.end_lineno - node.lineno + 1
    doc = node.body[0] if node.body else None
    if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str):
        n -= doc.end_lineno - doc.lineno + 1
    return n


def longest(root=PKG, n: int = 15) -> list[tuple[int, str, str]]:
    """``(lines, "function"|"class", "file::qualified name", node)`` of the longest defs and classes under
    ``root`` (lines without the docstring; ``node.end_lineno - node.lineno + 1`` counts it too)."""
    out = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())

        def walk(node, prefix=""):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    kind = "class" if isinstance(child, ast.ClassDef) else "function"
                    name = f"{prefix}{child.name}"
                    out.append((_length(child), kind, f"{path.relative_to(ROOT)}::{name}", child))
                    walk(child, name + ".")

        walk(tree)
    out.sort(key=lambda row: -row[0])
    return out if n is None else out[:n]


def test_functions_and_classes_are_short_or_say_why():
    bad = []
    for lines, kind, where, node in longest(n=None):
        limit = MAX_CLASS_LINES if kind == "class" else MAX_FUNCTION_LINES
        if lines > limit and where not in KNOWN_LONG and REASON not in (ast.get_docstring(node) or ""):
            bad.append(f"{where}: {kind} of {lines} lines (> {limit}); split it by idea or say why ({REASON!r})")
    assert not bad, "\n".join(bad)


if __name__ == "__main__":  # python tests/test_imports.py: the longest functions and classes of qml/
    for lines, kind, where, node in longest(n=int(sys.argv[1]) if len(sys.argv) > 1 else 15):
        print(f"{lines:5d} ({node.end_lineno - node.lineno + 1:4d} with docstring)  {kind:8s}  {where}")
