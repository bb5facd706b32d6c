"""The defaults of ``qml.fit``: the recipe used when no hyperparameter is given.

One rule, in one place (:func:`resolve`); ``qml.fit(model, train)`` with nothing else is the
package's recipe, and each value given by hand replaces only itself.

On exact backends (state vector, no shots):

* **Variational models** (``PESModel``: the loss is the mean energy over geometries): full-batch
  L-BFGS (``"lbfgs"``, 20 iterations and a strong-Wolfe line search per epoch), ``lr=1``,
  :data:`VARIATIONAL_EPOCHS` epochs. First-order methods stall milli-Hartree above the
  variational minimum on these landscapes: with Adam (lr 1e-2, 50 epochs) the meta-VQE H4
  rectangle had 0/55 geometries within 1.6 mHa, with L-BFGS the same model reached them.
* **Supervised models, at most** :data:`FULL_BATCH_MAX` **samples**: full-batch L-BFGS, ``lr=1``,
  :data:`SMALL_EPOCHS` epochs.
* **Supervised models, more samples**: Adam, ``lr=`` :data:`ADAM_LR`,
  batches of :data:`MINI_BATCH`, a cosine decay to 0, and epochs scaled to the data: enough
  epochs for :data:`TARGET_STEPS` optimizer steps, between :data:`MIN_EPOCHS` and
  :data:`MAX_EPOCHS` (60 epochs for 1600 samples).

On sampled backends (shots, hardware), or with a mini-batch asked for on small data, it is Adam,
``lr=1e-2``, batches of 32, 50 epochs, constant rate (L-BFGS's line search breaks on shot noise;
the recipe for sampled backends belongs to the noisy-device work).

``schedule="auto"`` is the cosine decay only when the recipe chose both Adam and the number of
epochs; when you set ``epochs`` yourself it is constant, so a run can be resumed with more epochs
(a cosine decay fixes the length of a run).
"""

from __future__ import annotations

import math

from torch import nn

FULL_BATCH_MAX = 1024
DEFAULT_LR = {"lbfgs": 1.0}
FIRST_ORDER_LR = 1e-2
MINI_BATCH = 32
#: epochs of the recipe (L-BFGS epochs are 20 iterations each)
VARIATIONAL_EPOCHS = 60
SMALL_EPOCHS = 50
SAMPLED_EPOCHS = 50
#: Adam recipe for larger supervised data sets
ADAM_LR = 0.02
TARGET_STEPS = 3000
MIN_EPOCHS = 20
MAX_EPOCHS = 200


def is_exact(model: nn.Module) -> bool:
    """``False`` when any backend inside ``model`` samples (shots, hardware); ``True`` otherwise."""
    from ..backends import in_model

    return all(getattr(backend, "exact", True) is not False for _, backend in in_model(model).values())


def resolve(model: nn.Module, n_train: int, *, variational: bool, optimizer, lr, batch_size, schedule, epochs=None):
    """Fill in ``"auto"``/``None`` hyperparameters of ``fit`` (the recipe of this module's docstring).

    Args:
        model: the model being trained.
        n_train: training samples (geometries for a variational model).
        variational: whether the model defines its own loss (``PESModel``).
        optimizer, lr, batch_size, schedule, epochs: as passed to ``fit`` (``epochs=None``: the recipe's).

    Returns:
        ``(optimizer, lr, batch_size, schedule, epochs)`` with every default resolved.
    """
    exact = is_exact(model)
    auto = optimizer == "auto"
    if auto:
        small = n_train <= FULL_BATCH_MAX and (batch_size is None or batch_size >= n_train)
        optimizer = "lbfgs" if small and exact else "adam"
    lbfgs = optimizer == "lbfgs"
    # the Adam recipe for larger supervised data sets (fit chose Adam itself because of the size)
    recipe_adam = auto and optimizer == "adam" and exact and not variational and n_train > FULL_BATCH_MAX
    if lr is None:
        if recipe_adam:
            lr = ADAM_LR
        else:
            lr = DEFAULT_LR.get(optimizer, FIRST_ORDER_LR) if isinstance(optimizer, str) else FIRST_ORDER_LR
    if batch_size is None:
        batch_size = max(n_train, 1) if lbfgs else MINI_BATCH
    chose_epochs = epochs is None
    if chose_epochs:
        if lbfgs:
            epochs = VARIATIONAL_EPOCHS if variational else SMALL_EPOCHS
        elif recipe_adam:
            steps = max(1, math.ceil(n_train / batch_size))
            epochs = min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(TARGET_STEPS / steps)))
        else:  # sampled backends, or an optimizer named by hand
            epochs = SAMPLED_EPOCHS
    if schedule == "auto":
        schedule = "cosine" if (recipe_adam and chose_epochs) else None
    return optimizer, lr, batch_size, schedule, epochs
