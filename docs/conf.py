"""Sphinx configuration of the qml documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (the ``docs`` extra installs what it
needs). The tutorials are the notebooks of ``notebooks/``, copied into ``docs/tutorials/`` at the
start of every build and rendered as committed (without outputs; ``nb_execution_mode = "off"``):
the test suite executes them, the docs build does not. The guide pages include sections of
``README.md``, so README and site never disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import qml  # noqa: E402

project = "qml"
author = "qml developers"
copyright = "2026, qml developers"  # noqa: A001
release = qml.__version__
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]

# Notebooks: rendered as committed, never executed here (the tests run them with QML_FAST=1).
nb_execution_mode = "off"
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "dollarmath"]

# API reference from the docstrings (Google style).
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options: dict[str, object] = {}
autodoc_mock_imports: list[str] = []
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

html_theme = "furo"
html_title = f"qml {release}"
html_static_path: list[str] = []

suppress_warnings = [
    # Notebooks start with "# 01 · ..." and then use "##" sections; fine as they are.
    "myst.header",
]


def _copy_tutorials(app) -> None:
    """Copy notebooks/*.ipynb to docs/tutorials/ (regenerated on every build, ignored by git).

    The copies name the IPython lexer (as Jupyter does on save), so shell escapes such as
    ``!{sys.executable} -m qml jobs list`` are highlighted instead of failing as Python.
    """
    target = DOCS / "tutorials"
    target.mkdir(exist_ok=True)
    wanted = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for name in sorted(wanted):
        nb = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
        nb.setdefault("metadata", {}).setdefault("language_info", {}).setdefault("pygments_lexer", "ipython3")
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        dst = target / name
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            dst.write_text(text, encoding="utf-8")


def setup(app):
    app.connect("builder-inited", _copy_tutorials)
