"""Chemistry layer: molecules, qubit Hamiltonians, exact/PySCF references, VQE and PES scans.

``Molecule.from_name("LiH", 1.6)`` builds a catalog molecule (:mod:`qml.chem.catalog`) with
its default active space; ``vqe`` and ``scan`` optimise chemistry ansatzes on it.
"""

from . import catalog as catalog
from .catalog import CATALOG as CATALOG
from .catalog import names as names
from .molecule import Molecule as Molecule
