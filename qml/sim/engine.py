"""The state-vector engine of :mod:`qml.sim`: one tape -> final state, with gate fusion.

The state is a complex tensor of shape ``(2**n, B')`` (batch last), where ``B'`` is 1 until a
batched parameter reaches it.  While it runs, the engine

* keeps the state as a product of single-qubit vectors until the first entangling gate
  (an embedding followed by a rotation layer costs a few small outer products),
* multiplies consecutive single-qubit gates on a wire into one pending ``2x2`` matrix and
  applies pending matrices of neighbouring wires as one Kronecker block (up to
  :data:`CHUNK` wires, one matmul),
* applies runs of CNOT/CZ/SWAP/... as one cached signed permutation (one gather), runs of
  MultiRZ/IsingZZ/CRZ/ControlledPhaseShift as one phase vector, and Single/DoubleExcitation
  as a Givens rotation on cached index tables,
* falls back to ``qp.matrix(op)`` (one einsum) for any other gate on at most 3 wires.

The engine does not touch a state itself: it records the kernels as a list of
:class:`~qml.sim.adjoint.Step` s (a kernel, its inverse, its parameters), which
:func:`qml.sim.adjoint.run` executes by backprop (autograd) or by the adjoint method; the number
of steps is known before anything runs, so the memory cost of backprop is too.
"""

from __future__ import annotations

import numpy as np
import pennylane as qp
import torch

from .._cache import register
from . import gates as G
from .adjoint import Step
from .cache import Cache
from .kernels import (
    apply_block,
    apply_matrix,
    block_vjp,
    const,
    inverse_permutation,
    kron_runs,
    matmul,
    op_matrix,
    permute_rows,
    product_state_vjp,
    take_rows,
)

_SELF_INVERSE = object()  # marker: the inverse is the kernel with negated angles

#: Largest run of neighbouring wires whose pending 1-qubit gates are applied as one matrix.
CHUNK = 4


class Engine:
    """Evolve ``|0...0>`` (or an initial state-prep) through a list of operations.

    Args:
        n: number of wires; ``pos`` maps a wire label to its position ``0..n-1``.
        batch: broadcast size ``B`` of the tape (1 when not broadcast).
        rdtype, cdtype, device: real and complex dtypes and the torch device.
    """

    def __init__(self, n, pos, batch, rdtype, cdtype, device):
        self.n, self.pos, self.B = n, pos, batch
        self.rdtype, self.cdtype, self.device = rdtype, cdtype, device
        self.steps: list[Step] = []
        self.unitary_checks: list = []  # matrices of fallback gates (adjoint needs them unitary)
        self.dense = False  # False: product state of ``bits`` with ``pending`` matrices applied
        self.bits = [0] * n
        self.pending: dict[int, torch.Tensor] = {}  # position -> (2, 2) or (B, 2, 2) matrix
        self.block_kind = None  # "perm" | "diag" | None
        self.block: list = []
        self.block_wires: set = set()
        self.phase = None  # global phase factor (GlobalPhase gates)

    # ---- helpers -------------------------------------------------------------------
    def real(self, x) -> torch.Tensor:
        if isinstance(x, torch.Tensor):
            return x.to(device=self.device, dtype=self.rdtype)
        return torch.as_tensor(np.asarray(x, dtype=float), dtype=self.rdtype, device=self.device)

    def c(self, arr):
        return const(arr, self.cdtype, self.device)

    def r(self, arr):
        return const(arr, self.rdtype, self.device)

    def idx(self, arr):
        return const(arr, torch.long, self.device)

    def idx32(self, arr):
        """Row indices for gathers (index_select takes int32: half the memory of a 2**n table)."""
        return const(arr, torch.int32, self.device)

    # ---- operations ----------------------------------------------------------------
    def apply_op(self, op, first: bool):
        name = op.name
        if name in G.PARAM_1Q:
            if name == "Rot":
                p = torch.stack(torch.broadcast_tensors(*[self.real(d) for d in op.data]), -1).unsqueeze(-2)
            else:
                p = self.real(op.data[0]).unsqueeze(-1)
            self.single(self.pos[op.wires[0]], G.matrices_1q(name, p)[..., 0, :, :])
        elif name in G.CONST_1Q:
            if name != "Identity":
                self.single(self.pos[op.wires[0]], self.c(G.CONST_1Q[name]))
        elif name in G.TEMPLATES and (gl := G.template_gates(op)) is not None:
            self.template(op, gl)
        elif name in G.PERM_GATES:
            self.perm(name, tuple(self.pos[w] for w in op.wires))
        elif name in G.DIAG_GATES:
            self.diag(name, tuple(self.pos[w] for w in op.wires), self.real(op.data[0]))
        elif name in G.GIVENS:
            self.givens(name, tuple(self.pos[w] for w in op.wires), self.real(op.data[0]))
        elif name == "GlobalPhase":
            ph = torch.exp(-1j * self.real(op.data[0]).to(self.cdtype))
            self.phase = ph if self.phase is None else self.phase * ph
        elif name == "Barrier":
            pass
        elif isinstance(op, qp.operation.StatePrepBase):
            if not first:
                raise qp.exceptions.DeviceError(f"{name} is only supported as the first operation")
            self.state_prep(op)
        else:
            self.matrix(op)

    def template(self, op, gl):
        """A native template: all its rotation matrices are built in one go per gate kind."""
        data = self.real(op.data[0])
        flat = data.reshape(data.shape[0], -1) if op.batch_size is not None else data.reshape(-1)
        mats = {}
        for kind, ind, how in _template_plan(gl, flat.shape[-1]):
            if how == "flat":
                p = flat
            elif how == "unflatten":
                p = flat.unflatten(-1, ind.shape)
            else:
                p = flat[..., self.idx(ind)]
            mats[kind] = iter(G.matrices_1q(kind, p).unbind(-3))
        for name, wires, _ in gl:
            q = tuple(self.pos[w] for w in wires)
            if name in mats:
                self.single(q[0], next(mats[name]))
            elif name in G.CONST_1Q:
                self.single(q[0], self.c(G.CONST_1Q[name]))
            else:
                self.perm(name, q)

    def single(self, q: int, m: torch.Tensor):
        if self.block_kind is not None and q in self.block_wires:
            self.close_block()
        old = self.pending.get(q)
        self.pending[q] = m if old is None else matmul(m, old)

    def perm(self, name, q):
        if self.block_kind == "diag":
            self.close_block()
        self.flush()
        self.block_kind = "perm"
        self.block.append((name, q))
        self.block_wires.update(q)

    def diag(self, name, q, theta):
        if self.block_kind == "perm":
            self.close_block()
        self.flush()
        self.block_kind = "diag"
        self.block.append((name, q, theta))
        self.block_wires.update(q)

    def givens(self, name, q, theta):
        self.flush()
        self.close_block()
        rows, partner, sign = G.givens_table(self.n, name, q)
        self.add(_givens_kernel(self.idx(rows), self.idx(partner), self.r(sign)[:, None]), theta)

    def matrix(self, op):
        """Any other gate: its matrix (one einsum on the wires it acts on)."""
        if len(op.wires) > 3:
            raise qp.exceptions.DeviceError(f"FastDevice cannot apply {op.name} on {len(op.wires)} wires")
        mat = op_matrix(op, self.cdtype, self.device)
        self.flush()
        self.close_block()
        qs, n = [self.pos[w] for w in op.wires], self.n

        def fn(psi, m):
            return apply_matrix(psi, m, qs, n)

        def inv(psi, m):
            return apply_matrix(psi, _dagger(m), qs, n)

        self.add(fn, mat, inv=inv, unitary_check=mat)

    def state_prep(self, op):
        if op.name == "BasisState":
            vals = op.data[0]
            vals = vals.detach().cpu().numpy() if isinstance(vals, torch.Tensor) else np.asarray(vals)
            if vals.ndim != 1:
                raise qp.exceptions.DeviceError("FastDevice does not broadcast BasisState; use StatePrep")
            for w, b in zip(op.wires, vals):
                self.bits[self.pos[w]] = int(b)
            return
        vec = op.state_vector(wire_order=qp.wires.Wires(list(self.pos)))
        vec = torch.as_tensor(vec, device=self.device).to(self.cdtype)
        vec = vec.reshape(-1, 2**self.n) if op.batch_size is not None else vec.reshape(1, -1)
        self.dense = True
        self.add(_transpose, vec, inv=None)

    # ---- recording -----------------------------------------------------------------
    def add(self, fn, *params, inv=_SELF_INVERSE, unitary_check=None, vjp=None):
        """Record the state kernel ``psi <- fn(psi, *params)`` (``inv``: its inverse, ``None`` for a
        source; the default ``fn(psi, *(-p))`` suits rotations by angles ``p``)."""
        if inv is _SELF_INVERSE:
            inv = _negated(fn)
        self.steps.append(Step(fn, inv, params, vjp))
        if unitary_check is not None:
            self.unitary_checks.append(unitary_check)

    # ---- lazy application ----------------------------------------------------------
    def flush(self):
        """Apply all pending single-qubit matrices (grouped by neighbouring wires)."""
        if not self.dense:
            self.materialize()
            return
        if not self.pending:
            return
        qs = sorted(self.pending)
        runs, cur = [], [qs[0]]
        for q in qs[1:]:
            if q == cur[-1] + 1 and len(cur) < CHUNK:
                cur.append(q)
            else:
                runs.append(cur)
                cur = [q]
        runs.append(cur)
        by_len: dict[int, list] = {}
        for run in runs:
            by_len.setdefault(len(run), []).append(run)
        for m, rs in by_len.items():
            mats = [self.pending.pop(q) for run in rs for q in run]
            blocks = kron_runs(mats, len(rs), m) if m > 1 else mats
            for run, u in zip(rs, blocks):
                start, n = run[0], self.n
                self.add(
                    _block_kernel(start, m, n),
                    u,
                    inv=_block_kernel(start, m, n, True),
                    vjp=lambda x, lam, u, start=start, m=m, n=n: (block_vjp(x, lam, u, start, m, n),),
                )

    def materialize(self):
        """Turn the product state (bits + pending single-qubit gates) into a dense state."""
        vecs = []
        for q in range(self.n):
            b = self.bits[q]
            m = self.pending.pop(q, None)
            vecs.append(self.c(_BASIS[b]) if m is None else m[..., :, b])
        self.dense = True
        self.add(_product_state, *vecs, inv=None, vjp=_product_vjp)

    def close_block(self):
        kind, block = self.block_kind, self.block
        if kind is None:
            return
        self.block_kind, self.block, self.block_wires = None, [], set()
        if kind == "perm":
            p, s = G.perm_table(self.n, tuple(block))
            pt, it = self.idx32(p), self.idx32(inverse_permutation(p))
            st = None if s is None else self.c(s)[:, None]
            self.add(_perm_kernel(pt, it, st), inv=_perm_inverse(pt, it, st))
        else:
            f = np.stack([G.diag_vector(self.n, name, q) for name, q, _ in block], 1)  # (N, g)
            thetas = [t.reshape(-1) for _, _, t in block]
            width = max(t.shape[0] for t in thetas)
            theta = torch.stack([t.expand(width) for t in thetas])  # (g, B')
            key = (self.n, *((name, q) for name, q, _ in block))  # n too: the same gates on a wider state differ
            self.add(_diag_kernel(_cached_diag(key, f, self.rdtype, self.device)), theta)

    def finish(self) -> list:
        """Record everything still pending; return the steps (run them with :func:`qml.sim.adjoint.run`)."""
        self.flush()
        self.close_block()
        if self.phase is not None:
            self.add(_phase_kernel, self.phase, inv=_phase_inverse)
        return self.steps


# ---- kernels as steps (module level: no closure over the engine) ----------------------------


def _negated(fn):
    def inv(psi, *params):
        return fn(psi, *(-p for p in params))

    return inv


def _transpose(_psi, vec):
    return vec.T


def _product_state(_psi, *vecs):
    psi = None
    for v in vecs:
        v = v.T if v.ndim == 2 else v[:, None]
        if psi is None:
            psi = v
            continue
        a, b = psi.shape, v.shape
        psi = (psi.reshape(a[0], 1, a[1]) * v.reshape(1, b[0], b[1])).reshape(-1, max(a[1], b[1]))
    return psi


def _product_vjp(_psi, lam, *vecs):
    return product_state_vjp(lam, vecs)


def _dagger(u: torch.Tensor) -> torch.Tensor:
    """Conjugate transpose as a plain tensor: a lazy conjugate that a kernel later expands over the
    state's rows (bmm) would be resolved at the expanded size."""
    return u.conj().transpose(-1, -2).resolve_conj()


def _block_kernel(start, m, n, inverse=False):
    if inverse:
        return lambda psi, u: apply_block(psi, _dagger(u), start, m, n)
    return lambda psi, u: apply_block(psi, u, start, m, n)


def _perm_kernel(p, inv, s):
    def fn(psi):
        psi = permute_rows(psi, p, inv)
        return psi if s is None else psi * s

    return fn


def _perm_inverse(p, inv, s):
    def fn(psi):
        if s is not None:
            psi = psi * s.conj()
        return take_rows(psi, inv)

    return fn


def _diag_kernel(fmat):
    def fn(psi, theta):
        angle = fmat @ theta
        return psi * torch.polar(torch.ones_like(angle), angle)

    return fn


def _givens_kernel(rows, partner, sign):
    def fn(psi, theta):
        th = theta.reshape(1, -1)
        c, s = torch.cos(th / 2), torch.sin(th / 2)
        if psi.shape[1] < th.shape[1]:
            psi = psi.expand(psi.shape[0], th.shape[1])
        new = take_rows(psi, rows) * c + take_rows(psi, partner) * (s * sign)
        return psi.index_copy(0, rows, new.to(psi.dtype))

    return fn


def _phase_kernel(psi, ph):
    return psi * ph.reshape(1, -1)


def _phase_inverse(psi, ph):
    return psi * ph.conj().reshape(1, -1)


_PLAN_CACHE: dict = register("qml.sim.engine.plans", {})


def _template_plan(gl, size):
    """For each rotation kind of a template gate list: ``(kind, indices, how to gather)``."""
    hit = _PLAN_CACHE.get((id(gl), size))
    if hit is not None and hit[0] is gl:
        return hit[1]
    plan = []
    for kind in sorted({g[0] for g in gl if g[0] in G.PARAM_1Q}):
        ind = np.array([g[2] for g in gl if g[0] == kind])  # (Gk, nparams)
        if kind != "Rot":
            ind = ind[:, 0]
        if ind.ndim == 1 and np.array_equal(ind, np.arange(size)):
            how = "flat"
        elif ind.ndim == 2 and np.array_equal(ind.ravel(), np.arange(size)):
            how = "unflatten"
        else:
            how = "index"
        plan.append((kind, ind, how))
    if len(_PLAN_CACHE) > 256:
        _PLAN_CACHE.clear()
    _PLAN_CACHE[(id(gl), size)] = (gl, plan)
    return plan


_BASIS = (np.array([1, 0], dtype=complex), np.array([0, 1], dtype=complex))
_DIAG_CACHE = Cache(name="qml.sim.engine.diagonals")


def _cached_diag(key, f, dtype, device):
    k = (key, dtype, device)
    t = _DIAG_CACHE.get(k)
    if t is None:
        t = _DIAG_CACHE.put(k, torch.as_tensor(f, dtype=dtype, device=device))
    return t
