"""``qml.runtime.extrapolation`` is :mod:`qml.backends.extrapolation` (the same module object).

The code lives in ``qml/backends`` because the ``aer:`` backend uses it and ``qml.runtime`` builds on
``qml.backends`` (imports go one way); this name stays for users and the README.
"""

import sys

from ..backends import extrapolation as _module

sys.modules[__name__] = _module
