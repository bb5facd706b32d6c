"""``python -m qml.data list | build NAME | verify NAME`` (same as ``qml datasets ...``)."""

import sys

from ..cli.datasets import main

sys.exit(main())
