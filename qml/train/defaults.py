"""The defaults of ``qml.fit``: which optimizer, learning rate, batch size and schedule when none is given.

One rule, in one place:

* ``optimizer="auto"`` picks full-batch L-BFGS (``"lbfgs"``) for small supervised problems on
  exact backends, where it converges in tens of epochs to errors first-order methods reach only
  slowly, and Adam otherwise (more than :data:`FULL_BATCH_MAX` samples, a mini-batch size asked for,
  sampled expectation values whose noise breaks L-BFGS's line search, or a variational model).
* ``lr=None`` is 1 for L-BFGS (its line search scales the step) and 1e-2 for the others.
* ``batch_size=None`` is the whole training set for L-BFGS and 32 for the others.
* ``schedule="auto"`` is a constant learning rate: a cosine decay (``schedule="cosine"``) fixes the
  length of a run, and a run resumed with more ``epochs`` must stay possible by default.
"""

from __future__ import annotations

from torch import nn

FULL_BATCH_MAX = 1024
DEFAULT_LR = {"lbfgs": 1.0}
FIRST_ORDER_LR = 1e-2
MINI_BATCH = 32


def is_exact(model: nn.Module) -> bool:
    """``False`` when any backend inside ``model`` samples (shots, hardware); ``True`` otherwise."""
    from ..backends import in_model

    return all(getattr(backend, "exact", True) is not False for _, backend in in_model(model).values())


def resolve(model: nn.Module, n_train: int, *, variational: bool, optimizer, lr, batch_size, schedule):
    """Fill in ``"auto"``/``None`` hyperparameters of ``fit``.

    Args:
        model: the model being trained.
        n_train: training samples.
        variational: whether the model defines its own loss (``PESModel``).
        optimizer, lr, batch_size, schedule: as passed to ``fit``.

    Returns:
        ``(optimizer, lr, batch_size, schedule)`` with every default resolved.
    """
    if optimizer == "auto":
        small = n_train <= FULL_BATCH_MAX and (batch_size is None or batch_size >= n_train)
        optimizer = "lbfgs" if small and not variational and is_exact(model) else "adam"
    lbfgs = optimizer == "lbfgs"
    if lr is None:
        lr = DEFAULT_LR.get(optimizer, FIRST_ORDER_LR) if isinstance(optimizer, str) else FIRST_ORDER_LR
    if batch_size is None:
        batch_size = max(n_train, 1) if lbfgs else MINI_BATCH
    if schedule == "auto":
        schedule = None
    return optimizer, lr, batch_size, schedule
