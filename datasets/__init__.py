"""Data files shipped with qml: ``NAME.csv`` + ``NAME.json`` sidecar per data set.

In a source checkout this is the top-level ``datasets/`` directory; in an installed wheel it is
the package ``qml._datasets``. Read them with ``qml.load_dataset``; regenerate them with
``qml datasets build NAME`` and check them with ``qml datasets verify NAME``.
"""
