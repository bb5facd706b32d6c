"""Chemistry layer: molecules, qubit Hamiltonians, exact/PySCF references, VQE and PES scans.

``Molecule.from_name("LiH", 1.6)`` builds a catalog molecule (:mod:`qml.chem.catalog`) with
its default active space; :func:`vqe` and :func:`scan` optimise chemistry ansatzes on it::

    mol = qml.chem.Molecule.from_name("LiH", 1.6)      # Angstrom, (2e, 5o) = 10 qubits
    res = qml.chem.vqe(mol, ansatz="uccsd")            # res.energy, res.error_mha, res.chemical_accuracy
    pes = qml.chem.scan("H2", [0.5, 0.74, 1.0, 1.5])    # table: r, hf, vqe, exact, error_mha, wall_time
"""

from . import catalog as catalog
from .ansatz import CHEM_ANSATZES as CHEM_ANSATZES
from .ansatz import ChemAnsatz as ChemAnsatz
from .ansatz import make_ansatz as make_ansatz
from .catalog import CATALOG as CATALOG
from .catalog import names as names
from .molecule import Molecule as Molecule
from .properties import Properties as Properties
from .properties import properties as properties
from .reference import REFERENCES as REFERENCES
from .scan import ScanPoint as ScanPoint
from .scan import ScanResult as ScanResult
from .scan import scan as scan
from .vqe import CHEMICAL_ACCURACY_MHA as CHEMICAL_ACCURACY_MHA
from .vqe import VQEResult as VQEResult
from .vqe import vqe as vqe
