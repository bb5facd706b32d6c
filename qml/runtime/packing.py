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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SHIFT = np.pi / 2


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
        jac = np.zeros((B, n_out, P))
        if self.method == "parameter-shift":
            K = len(self.grad_cols)
            plus = evs[:, B : B + B * K].reshape(n_out, B, K)
            minus = evs[:, B + B * K : B + 2 * B * K].reshape(n_out, B, K)
            jac[:, :, self.grad_cols] = ((plus - minus) / 2.0).transpose(1, 0, 2)
        else:
            plus = evs[:, B : 2 * B].T
            minus = evs[:, 2 * B : 3 * B].T
            slope = (plus - minus) / (2.0 * self.epsilon)  # (B, n_out)
            jac[:, :, self.grad_cols] = slope[:, :, None] * self.delta[None, None, :]
        return values, jac


def plan(angles: np.ndarray, grad_cols, *, method: str = "parameter-shift", epsilon: float = 0.1,
         rng: np.random.Generator | None = None) -> EvalPlan:
    """Build the evaluation rows for one step.

    Args:
        angles: ``(B, P)`` unshifted angles.
        grad_cols: angle columns that need a derivative (empty: forward only).
        method: ``"parameter-shift"`` or ``"spsa"``.
        epsilon: SPSA step in radians.
        rng: random generator for the SPSA direction.

    Returns:
        The :class:`EvalPlan`.
    """
    angles = np.asarray(angles, dtype=np.float64)
    B, P = angles.shape
    grad_cols = np.asarray(grad_cols, dtype=int).reshape(-1)
    if len(grad_cols) == 0:
        return EvalPlan(angles.copy(), B, grad_cols, "none")
    K = len(grad_cols)
    if method == "spsa":
        rng = rng or np.random.default_rng()
        delta = rng.choice([-1.0, 1.0], size=K)
        step = np.zeros(P)
        step[grad_cols] = epsilon * delta
        rows = np.concatenate([angles, angles + step, angles - step])
        return EvalPlan(rows, B, grad_cols, "spsa", delta, epsilon)
    shifts = np.zeros((K, P))
    shifts[np.arange(K), grad_cols] = SHIFT
    plus = (angles[:, None, :] + shifts[None]).reshape(B * K, P)
    minus = (angles[:, None, :] - shifts[None]).reshape(B * K, P)
    return EvalPlan(np.concatenate([angles, plus, minus]), B, grad_cols, "parameter-shift")


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
