"""Running a recorded circuit: backprop (autograd stores every state) or adjoint (recompute).

The engine (:mod:`qml.sim.engine`) turns a tape into a list of :class:`Step` s, each a state
kernel ``fn(psi, *params) -> psi'`` together with its inverse ``inv(psi', *params) -> psi``
(every kernel is unitary; a source step, the first, has ``inv=None`` and ignores ``psi``).

* **backprop**: ``psi = fn(psi, *params)`` step by step under autograd; torch keeps (about) one
  state per step for the backward pass: fastest, memory grows with the circuit's depth.
* **adjoint**: the forward pass runs without a graph; the backward pass walks the steps in
  reverse, *uncomputing* ``psi_{k-1} = inv(psi_k)`` and carrying ``lam_{k-1} = inv(lam_k)``
  (the vector-Jacobian product of a unitary kernel), and differentiates each step's small
  parameters (gate matrices, angles) by a local autograd call on that one step. Memory stays at
  a few states whatever the depth; gradients are exact (round-off of the uncomputation aside,
  ~1e-15 per step in complex128).

:func:`choose` picks the mode: ``"auto"`` takes adjoint when the backprop estimate
(:func:`backprop_bytes`) exceeds the memory budget (:func:`default_budget`: a fraction of the
memory available on the state's device).
"""

from __future__ import annotations

import os
from typing import Callable, NamedTuple

import torch

#: Gradient modes of the simulators.
GRADIENT_MODES = ("auto", "backprop", "adjoint")
#: Fraction of the available memory the backprop estimate may take before ``"auto"`` goes adjoint.
BUDGET_FRACTION = 0.5


class Step(NamedTuple):
    """One state kernel: ``fn(psi, *params)``, its inverse (``None`` for a source step), its params,
    and optionally ``vjp(psi, lam, *params) -> grads`` (one per param) that computes the parameter
    gradients without the local autograd call (which costs a forward recomputation and its copies)."""

    fn: Callable
    inv: Callable | None
    params: tuple
    vjp: Callable | None = None


def check_gradient(gradient) -> str:
    """Validate a ``gradient=`` option."""
    if gradient not in GRADIENT_MODES:
        raise ValueError(f"gradient must be one of {list(GRADIENT_MODES)}, got {gradient!r}")
    return gradient


def check_budget(memory_budget):
    """Validate a ``memory_budget=`` option (bytes, or ``None`` for the default)."""
    if memory_budget is None:
        return None
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, float)) or memory_budget <= 0:
        raise ValueError(
            f"memory_budget must be a positive number of bytes (or None for {BUDGET_FRACTION:g} of the "
            f"available memory), got {memory_budget!r}"
        )
    return int(memory_budget)


def available_memory(device=None) -> int:
    """Bytes available for new tensors on ``device`` (CUDA: free device memory; CPU: MemAvailable)."""
    device = torch.device(device or "cpu")
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def default_budget(device=None) -> int:
    """The default memory budget: :data:`BUDGET_FRACTION` of :func:`available_memory`."""
    return int(BUDGET_FRACTION * available_memory(device))


def state_bytes(n_qubits: int, batch: int, cdtype=torch.complex128) -> int:
    """Bytes of a batch of state vectors ``(2**n, batch)``."""
    itemsize = torch.empty((), dtype=cdtype).element_size()
    return (2**n_qubits) * max(1, batch) * itemsize


def backprop_bytes(n_steps: int, nbytes: int) -> int:
    """Peak memory estimate of a backprop pass over ``n_steps`` kernels on states of ``nbytes``:
    autograd keeps about one state per kernel, plus the final state, the measurement's and the
    backward pass's working copies."""
    return (n_steps + 3) * nbytes


def adjoint_bytes(nbytes: int) -> int:
    """Peak memory estimate of an adjoint pass on states of ``nbytes`` (state, adjoint state, one
    working copy, the measurement's gradient)."""
    return 4 * nbytes


def choose(gradient: str, needs_grad: bool, n_steps: int, nbytes: int, device, budget):
    """``"backprop"`` or ``"adjoint"`` for one execution of ``n_steps`` kernels on states of ``nbytes``
    (``None`` when nothing needs a gradient)."""
    if not needs_grad:
        return None
    if gradient != "auto":
        return gradient
    budget = default_budget(device) if budget is None else budget
    return "adjoint" if backprop_bytes(n_steps, nbytes) > budget else "backprop"


def run(steps, mode) -> torch.Tensor:
    """The final state of ``steps``; differentiable by autograd (``"backprop"``/``None``) or by the
    adjoint method (``"adjoint"``)."""
    if mode == "adjoint":
        leaves, plan = [], []
        seen: dict[int, int] = {}
        for step in steps:
            ids = []
            for p in step.params:
                if isinstance(p, torch.Tensor) and p.requires_grad:
                    if id(p) not in seen:
                        seen[id(p)] = len(leaves)
                        leaves.append(p)
                    ids.append(seen[id(p)])
                else:
                    ids.append(-1)
            plan.append(tuple(ids))
        if leaves:
            return _Adjoint.apply(steps, plan, *leaves)
    psi = None
    for step in steps:
        psi = step.fn(psi, *step.params)
    return psi


def _detach(params):
    return tuple(p.detach() if isinstance(p, torch.Tensor) else p for p in params)


class _Adjoint(torch.autograd.Function):
    """Forward without a graph; backward by uncomputation (see the module docstring)."""

    @staticmethod
    def forward(ctx, steps, plan, *leaves):
        psi = None
        for step in steps:
            psi = step.fn(psi, *_detach(step.params))
        ctx.steps, ctx.plan, ctx.n_leaves = steps, plan, len(leaves)
        # not save_for_backward: the backward pass must drop the final state as it uncomputes it (a
        # saved tensor lives until the backward pass ends); a detached alias makes no reference cycle
        ctx.final = [psi.detach()]
        return psi

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, lam):
        if ctx.final:
            psi = ctx.final.pop()
        else:  # a second backward pass through the same graph (retain_graph=True): recompute the state
            psi = None
            for step in ctx.steps:
                psi = step.fn(psi, *_detach(step.params))
        steps, plan = ctx.steps, ctx.plan
        grads: list = [None] * ctx.n_leaves
        lam = lam.contiguous()
        for k in range(len(steps) - 1, -1, -1):
            step, ids = steps[k], plan[k]
            params = _detach(step.params)
            psi = None if step.inv is None else step.inv(psi, *params)  # the state before step k
            if any(i >= 0 for i in ids) and step.vjp is not None:
                marked = [
                    p.requires_grad_(True) if i >= 0 else p for p, i in zip(params, ids)
                ]  # no graph: grad mode is off
                gs = [g for g, i in zip(step.vjp(psi, lam, *marked), ids) if i >= 0]
            elif any(i >= 0 for i in ids):
                with torch.enable_grad():
                    local = [p.requires_grad_(True) if i >= 0 else p for p, i in zip(params, ids)]
                    out = step.fn(psi, *local)
                    if out.shape != lam.shape:
                        out = out.expand(lam.shape)
                    wanted = [p for p, i in zip(local, ids) if i >= 0]
                    gs = torch.autograd.grad(out, wanted, lam)
                    del out
            if any(i >= 0 for i in ids):
                for g, i in zip(gs, (i for i in ids if i >= 0)):
                    grads[i] = g if grads[i] is None else grads[i] + g
            if step.inv is None:
                break
            lam = step.inv(lam, *params)  # vjp of a unitary kernel: its inverse
        return (None, None, *grads)
