"""pytest + nbmake: run the tutorials in their quick version.

Set at import time, before nbmake starts any kernel, so every notebook kernel inherits them:
``QML_FAST=1`` selects the small hyperparameters of each notebook's first cell, ``MPLBACKEND=Agg``
keeps matplotlib headless.
"""

import os

os.environ["QML_FAST"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
