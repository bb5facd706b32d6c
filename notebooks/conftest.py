"""pytest + nbmake: run the tutorials in their quick version.

Set at import time, before nbmake starts any kernel, so every notebook kernel inherits them:
``QML_FAST=1`` selects the small hyperparameters of each notebook's first cell, ``MPLBACKEND=Agg``
keeps matplotlib headless, ``OMP_NUM_THREADS=1`` keeps torch from oversubscribing shared cores.
"""

import os

os.environ["QML_FAST"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # tiny models; see tests/conftest.py
