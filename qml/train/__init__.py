"""Training: ``fit`` with progress, history, atomic checkpoints, resume and a NaN guard."""

from .checkpoint import load_checkpoint as load_checkpoint
from .checkpoint import save_checkpoint as save_checkpoint
from .fit import evaluate as evaluate
from .fit import fit as fit
from .history import History as History
