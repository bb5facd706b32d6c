"""Packing a whole optimizer step into one Estimator PUB, and the autograd Function around it.

Torch runs ``forward`` before ``backward``, so ``forward`` evaluates, in one job, the
circuit at the unshifted angles AND at every shifted angle the gradient needs; the
Jacobian is saved on the autograd context and ``backward`` only contracts it with
the incoming gradient.  No second job is ever sent for the backward pass.

Rows of the parameter-value array (shape ``(n_evals, P)``):

* parameter-shift: ``B`` unshifted rows, then ``B*K`` rows ``θ + π/2 e_k`` and ``B*K`` rows
  ``θ - π/2 e_k`` for the ``K`` angle columns that need a gradient;
* SPSA: ``B`` unshifted rows, then ``B`` rows ``θ + εΔ`` and ``B`` rows ``θ - εΔ`` with one
  random ``Δ ∈ {±1}^K`` per step.

Energies (one Hamiltonian per sample) use :func:`plan_broadcast` instead: parameter values of
shape ``(R, B, P)`` broadcast against an observables array of shape ``(B,)``, with ``R = 1 + 2K``
(row 0 unshifted, rows ``1..K`` shifted by ``+π/2`` in column ``k``, rows ``K+1..2K`` by ``-π/2``)
or ``R = 3`` for SPSA.

The two-term rule ``dE/da = (E(a + π/2) - E(a - π/2)) / 2`` is exact for every column: each column
is the angle of one ``RX``/``RY``/``RZ`` gate (``exp(-i a P / 2)``, ``P`` a Pauli) of the decomposed
circuit, and torch's chain rule carries ``dE/da`` to whatever the angle was computed from (the
``θ/2`` of a Givens rotation's decomposition, an embedding's nonlinear feature map).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SHIFT = np.pi / 2


def _steps(P: int, grad_cols: np.ndarray, method: str, epsilon: float, rng) -> tuple[np.ndarray, np.ndarray | None]:
    """The shift vectors ``(S, P)`` of one step: ``S = K`` rows ``π/2 e_k`` (parameter-shift) or one
    row ``εΔ`` (SPSA), and the SPSA direction ``Δ`` (``None`` for parameter-shift)."""
    K = len(grad_cols)
    if method == "spsa":
        rng = rng or np.random.default_rng()
        delta = rng.choice([-1.0, 1.0], size=K)
        step = np.zeros((1, P))
        step[0, grad_cols] = epsilon * delta
        return step, delta
    shifts = np.zeros((K, P))
    shifts[np.arange(K), grad_cols] = SHIFT
    return shifts, None


def _derivatives(half_diff: np.ndarray, method: str, epsilon: float, delta) -> np.ndarray:
    """``(E(+) - E(-)) / 2`` per shift, shape ``(..., S)`` -> derivatives per gradient column ``(..., K)``."""
    if method == "parameter-shift":
        return half_diff
    return (half_diff / epsilon) * delta  # SPSA: S = 1, broadcast along the direction Δ


@dataclass
class EvalPlan:
    """Which parameter values one job evaluates and how to turn its results into (values, Jacobian).

    Attributes:
        values: float64 array ``(n_evals, P)`` of angle values, the PUB's parameter values.
        batch: number of samples ``B``.
        grad_cols: indices of the angle columns that get a derivative.
        method: ``"parameter-shift"``, ``"spsa"`` or ``"none"`` (forward only).
        delta: the SPSA direction ``(K,)`` (``None`` otherwise).
        epsilon: the SPSA step.
    """

    values: np.ndarray
    batch: int
    grad_cols: np.ndarray
    method: str
    delta: np.ndarray | None = None
    epsilon: float = 0.0

    @property
    def n_evals(self) -> int:
        return self.values.shape[0]

    def split(self, evs: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Turn estimator results ``(n_outputs, n_evals)`` into values ``(B, n_outputs)`` and the
        Jacobian ``(B, n_outputs, P)`` with respect to every angle column (``None`` when forward only)."""
        evs = np.asarray(evs, dtype=np.float64)
        B, P = self.batch, self.values.shape[1]
        values = evs[:, :B].T
        if self.method == "none":
            return values, None
        n_out = evs.shape[0]
        S = (self.n_evals - B) // (2 * B)
        plus = evs[:, B : B + B * S].reshape(n_out, B, S)
        minus = evs[:, B + B * S : B + 2 * B * S].reshape(n_out, B, S)
        jac = np.zeros((B, n_out, P))
        jac[:, :, self.grad_cols] = _derivatives((plus - minus) / 2.0, self.method, self.epsilon, self.delta).transpose(
            1, 0, 2
        )
        return values, jac


def plan(
    angles: np.ndarray,
    grad_cols,
    *,
    method: str = "parameter-shift",
    epsilon: float = 0.1,
    rng: np.random.Generator | None = None,
) -> EvalPlan:
    """Build the evaluation rows for one step (``B`` unshifted, then ``B*S`` plus and ``B*S`` minus rows).

    Args:
        angles: ``(B, P)`` unshifted angles.
        grad_cols: angle columns that need a derivative (empty: forward only).
        method: ``"parameter-shift"`` or ``"spsa"``.
        epsilon: SPSA step in radians.
        rng: random generator for the SPSA direction.

    Returns:
        The :class:`EvalPlan`.
    """
    angles, grad_cols, steps, delta = _shifts(angles, grad_cols, method, epsilon, rng)
    B, P = angles.shape
    if steps is None:
        return EvalPlan(angles.copy(), B, grad_cols, "none")
    plus = (angles[:, None, :] + steps[None]).reshape(-1, P)
    minus = (angles[:, None, :] - steps[None]).reshape(-1, P)
    return EvalPlan(np.concatenate([angles, plus, minus]), B, grad_cols, method, delta, epsilon)


def _shifts(angles, grad_cols, method: str, epsilon: float, rng):
    """What both plans start from: float64 ``angles (B, P)``, ``grad_cols`` as an int array, and the
    shift ``steps`` with SPSA's ``delta`` (``None, None`` forward only)."""
    angles = np.asarray(angles, dtype=np.float64)
    grad_cols = np.asarray(grad_cols, dtype=int).reshape(-1)
    if len(grad_cols) == 0:
        return angles, grad_cols, None, None
    steps, delta = _steps(angles.shape[1], grad_cols, method, epsilon, rng)
    return angles, grad_cols, steps, delta


@dataclass
class BroadcastPlan:
    """Evaluation rows of one energy step, shaped to broadcast against ``B`` observables.

    Attributes:
        values: float64 array ``(R, B, P)``: ``R = 1`` (forward only), ``1 + 2K`` (parameter-shift)
            or ``3`` (SPSA).
        grad_cols, method, delta, epsilon: as in :class:`EvalPlan`.
    """

    values: np.ndarray
    grad_cols: np.ndarray
    method: str
    delta: np.ndarray | None = None
    epsilon: float = 0.0

    @property
    def n_evals(self) -> int:
        """Circuit evaluations (parameter bindings x samples) in the PUB."""
        return self.values.shape[0] * self.values.shape[1]

    def split(self, evs: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Turn estimator results ``(R, B)`` into values ``(B, 1)`` and the Jacobian ``(B, 1, P)``
        (``None`` when forward only), the shapes :class:`PackedEstimate` expects."""
        evs = np.asarray(evs, dtype=np.float64)
        R, B, P = self.values.shape
        values = evs[0][:, None]
        if self.method == "none":
            return values, None
        S = (R - 1) // 2
        jac = np.zeros((B, 1, P))
        jac[:, 0, self.grad_cols] = _derivatives(
            ((evs[1 : 1 + S] - evs[1 + S :]) / 2.0).T, self.method, self.epsilon, self.delta
        )
        return values, jac


def plan_broadcast(
    angles: np.ndarray,
    grad_cols,
    *,
    method: str = "parameter-shift",
    epsilon: float = 0.1,
    rng: np.random.Generator | None = None,
) -> BroadcastPlan:
    """Build the ``(R, B, P)`` evaluation rows of one energy step (see the module docstring); the
    arguments are :func:`plan`'s."""
    angles, grad_cols, steps, delta = _shifts(angles, grad_cols, method, epsilon, rng)
    if steps is None:
        return BroadcastPlan(angles[None].copy(), grad_cols, "none")
    rows = np.concatenate([angles[None], angles[None] + steps[:, None, :], angles[None] - steps[:, None, :]])
    return BroadcastPlan(rows, grad_cols, method, delta, epsilon)


class PackedEstimate(torch.autograd.Function):
    """``angles (B, P) -> expectation values (B, n_outputs)`` through one packed job.

    ``evaluate(angles_np, grad_cols) -> (values, jacobian or None)`` submits the job; the
    Jacobian is saved for backward, which never submits anything.
    """

    @staticmethod
    def forward(ctx, angles, evaluate, grad_cols):
        values, jac = evaluate(angles.detach().cpu().numpy(), grad_cols)
        ctx.save_for_backward(torch.as_tensor(jac if jac is not None else np.zeros(0), dtype=angles.dtype))
        ctx.has_jac = jac is not None
        return torch.as_tensor(values, dtype=angles.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (jac,) = ctx.saved_tensors
        if not ctx.has_jac:
            return None, None, None
        return torch.einsum("bo,bop->bp", grad_out, jac), None, None
