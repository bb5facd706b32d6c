"""Torch kernels of :mod:`qml.sim` on a state of shape ``(2**n, B')`` (batch last).

Row ``i`` of the state has the wire at position ``k`` as bit ``n - 1 - k`` (wire 0 most
significant).  Every kernel is differentiable by torch autograd.
"""

from __future__ import annotations

import functools
import string

import numpy as np
import torch

from .._cache import register
from .cache import Cache, nbytes

_CONST_CACHE = Cache(name="qml.sim.kernels.constants")
_INV_CACHE = Cache(name="qml.sim.kernels.inverses")


def const(arr: np.ndarray, dtype, device) -> torch.Tensor:
    """``arr`` as a torch tensor of ``dtype`` on ``device``, cached by identity of ``arr``."""
    key = (id(arr), dtype, device)
    hit = _CONST_CACHE.get(key)
    if hit is not None and hit[0] is arr:
        return hit[1]
    t = torch.as_tensor(arr, dtype=dtype, device=device)
    _CONST_CACHE.put(key, (arr, t), nbytes(t))
    return t


def op_matrix(op, dtype, device) -> torch.Tensor:
    """``qp.matrix(op)`` as a torch tensor of ``dtype`` on ``device`` (a torch matrix, e.g. one
    built from CUDA parameters, is never copied through the CPU)."""
    import pennylane as qp  # local: kernels stay importable without PennyLane

    mat = qp.matrix(op)
    if not isinstance(mat, torch.Tensor):
        mat = torch.as_tensor(np.asarray(mat))
    return mat.to(device=device, dtype=dtype)


def inverse_permutation(p: np.ndarray) -> np.ndarray:
    """Inverse of the permutation ``p`` (cached by identity of ``p``)."""
    hit = _INV_CACHE.get(id(p))
    if hit is not None and hit[0] is p:
        return hit[1]
    inv = np.empty_like(p)
    inv[p] = np.arange(p.shape[0])
    _INV_CACHE.put(id(p), (p, inv), inv.nbytes)
    return inv


class _PermuteRows(torch.autograd.Function):
    """``x[p]`` along dim 0 for a permutation ``p``; backward is a gather with ``p``'s inverse."""

    @staticmethod
    def forward(ctx, x, p, inv):
        ctx.save_for_backward(p, inv)
        return take_rows(x, p)

    @staticmethod
    def backward(ctx, g):
        p, inv = ctx.saved_tensors
        return permute_rows(g, inv, p), None, None


def permute_rows(x: torch.Tensor, p: torch.Tensor, inv: torch.Tensor | None) -> torch.Tensor:
    """Rows of ``x`` permuted by ``p`` (a permutation); differentiable when ``inv`` is given."""
    if inv is None or not (torch.is_grad_enabled() and x.requires_grad):
        return take_rows(x, p)
    return _PermuteRows.apply(x, p, inv)


def take_rows(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``x.index_select(0, idx)``; complex tensors go through their real view (several times
    faster on CPU: index_select has no vectorized complex128 kernel)."""
    if x.is_complex():
        return torch.view_as_complex(torch.view_as_real(x).index_select(0, idx))
    return x.index_select(0, idx)


@register("qml.sim.kernels.kron_index")
@functools.lru_cache(maxsize=16)
def _kron_index(m: int) -> np.ndarray:
    """``idx[k, I*D + J]`` = position ``2 i_k + j_k`` of factor ``k``'s entry in ``kron`` entry (I, J)."""
    D = 2**m
    I, J = np.divmod(np.arange(D * D), D)
    return np.stack([((I >> (m - 1 - k)) & 1) * 2 + ((J >> (m - 1 - k)) & 1) for k in range(m)])


def _prod(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Product over ``dim`` as a chain of multiplications (torch.prod's complex backward is slow)."""
    parts = x.unbind(dim)
    out = parts[0]
    for p in parts[1:]:
        out = out * p
    return out


def kron_runs(mats, r: int, m: int):
    """Kronecker products of ``r`` runs of ``m`` single-qubit matrices each (flat list ``mats``).

    One stack, one gather and one product for all runs: entry ``(I, J)`` of a run's product is
    ``prod_k mats_k[i_k, j_k]``.  Returns ``r`` matrices ``(D, D)`` or ``(B, D, D)``, ``D = 2**m``.
    """
    batch = max((x.shape[0] for x in mats if x.ndim == 3), default=None)
    if batch is not None:
        mats = [x if x.ndim == 3 else x.expand(batch, 2, 2) for x in mats]
    st = torch.stack(mats, -3)  # (..., r*m, 2, 2)
    st = st.reshape(*st.shape[:-3], r, m, 4)
    idx = const(_kron_index(m), torch.long, st.device)
    g = torch.gather(st, -1, idx.expand(*st.shape[:-1], idx.shape[-1]))  # (..., r, m, D*D)
    D = 2**m
    out = _prod(g, -2).reshape(*st.shape[:-3], r, D, D)
    return out.unbind(-3)


def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` for matrices ``(2, 2)`` or ``(B, 2, 2)`` with few autograd nodes (mm/bmm)."""
    if a.ndim == 2 and b.ndim == 2:
        return torch.mm(a, b)
    if a.ndim == 2:
        a = a.expand(b.shape[0], *a.shape)
    elif b.ndim == 2:
        b = b.expand(a.shape[0], *b.shape)
    return torch.bmm(a, b)


def apply_block(psi: torch.Tensor, u: torch.Tensor, start: int, m: int, n: int) -> torch.Tensor:
    """Apply ``u`` (``(D, D)`` or ``(B, D, D)``, ``D = 2**m``) on wires ``start..start+m-1``."""
    N, Bp = psi.shape
    L, D, R = 2**start, 2**m, 2 ** (n - start - m)
    if u.ndim == 2:
        # explicit mm/bmm: torch.matmul's broadcasting path is several times slower under autograd
        if L == 1:
            return torch.mm(u, psi.reshape(D, R * Bp)).reshape(N, Bp)
        return torch.bmm(u.expand(L, D, D), psi.reshape(L, D, R * Bp)).reshape(N, Bp)
    B = u.shape[0]
    if Bp != B:
        psi = psi.expand(N, B)
    out = torch.einsum("bij,ljrb->lirb", u, psi.reshape(L, D, R, B))
    return out.reshape(N, B)


def apply_matrix(psi: torch.Tensor, mat: torch.Tensor, qs, n: int) -> torch.Tensor:
    """Apply a ``(D, D)`` or ``(B, D, D)`` matrix on wire positions ``qs`` (any order) by einsum."""
    k = len(qs)
    N, Bp = psi.shape
    letters = string.ascii_letters
    st = list(letters[:n])
    outl = list(letters[n : n + k])
    batched = mat.ndim == 3
    if batched and Bp != mat.shape[0]:
        psi = psi.expand(N, mat.shape[0])
        Bp = mat.shape[0]
    mat = mat.reshape(*mat.shape[:-2], *([2] * (2 * k)))
    ins = [st[q] for q in qs]
    res = list(st)
    for j, q in enumerate(qs):
        res[q] = outl[j]
    z = "Z"
    msub = (z if batched else "") + "".join(outl) + "".join(ins)
    expr = f"{msub},{''.join(st)}{z}->{''.join(res)}{z}"
    out = torch.einsum(expr, mat, psi.reshape(*([2] * n), Bp))
    return out.reshape(N, Bp)
