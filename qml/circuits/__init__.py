"""The circuit catalog: embeddings, ansatzes and measurements as plain PennyLane functions.

``qml.circuits`` knows nothing of torch models or devices; layers and backends build on it.
"""

from .ansatzes import ANSATZES as ANSATZES
from .ansatzes import basic_entangler as basic_entangler
from .ansatzes import compact as compact
from .ansatzes import hardware_efficient as hardware_efficient
from .ansatzes import strongly_entangling as strongly_entangling
from .embeddings import EMBEDDINGS as EMBEDDINGS
from .embeddings import amplitude as amplitude
from .embeddings import angle as angle
from .embeddings import iqp as iqp
from .embeddings import reupload as reupload
from .measurements import pauli_z as pauli_z
from .measurements import resolve_observables as resolve_observables
from .spec import CircuitSpec as CircuitSpec
from .spec import make_spec as make_spec
