"""Measurements of :mod:`qml.sim` on a state of shape ``(2**n, B')`` (batch last).

* Every observable with a Pauli representation (PauliZ, Pauli words, Sum/LinearCombination
  Hamiltonians) is compiled once into a diagonal vector plus, for each distinct X/Y flip
  pattern ``m``, a coefficient vector ``C_m`` so that
  ``<psi|H|psi> = d . |psi|^2 + Re sum_m sum_i C_m[i] conj(psi[i ^ m]) psi[i]``;
  all diagonal parts of all measurements of a tape come from ONE matmul with ``|psi|^2``.
* Other observables (Hermitian, Projector, ...) use their matrix (one einsum).
* ``probs`` sums ``|psi|^2`` over the other wires; ``state`` returns the state.
"""

from __future__ import annotations

import numpy as np
import pennylane as qp
import torch
from pennylane.measurements import ExpectationMP, ProbabilityMP, StateMP, VarianceMP

from .cache import Cache, nbytes
from .kernels import apply_matrix, const, op_matrix, take_rows

_PAULI_CACHE = Cache(name="qml.sim.measure.paulis")


#: From this many amplitudes on, ``<Z_q>`` comes from halving ``|psi|^2`` wire by wire (about two passes
#: over the probabilities, nothing cached) instead of a matmul with cached ``(m, 2**n)`` sign vectors.
HALVING_MIN = 2**14

#: Largest number of cached off-diagonal coefficients per observable (complex entries);
#: bigger Hamiltonians rebuild their coefficient vectors chunk by chunk at every evaluation.
COEF_BUDGET = 2**23


class PauliTables:
    """Compiled Pauli sentence on ``n`` wires.

    Attributes:
        diag: real vector ``(N,)``, the Z-only part.
        masks: int64 ``(K,)``, the distinct X/Y flip patterns.
        coef: complex ``(K, N)`` with ``C_m[i] = sum_w c_w phase_w(i)``, or ``None`` when it would
            exceed :data:`COEF_BUDGET` (then :meth:`coef_chunk` computes it on the fly).
    """

    def __init__(self, n, terms):
        N = 2**n
        self.n = n
        self.bits = ((np.arange(N)[None, :] >> (n - 1 - np.arange(n))[:, None]) & 1).astype(np.int8)
        self.diag = np.zeros(N)
        by_mask: dict[int, list] = {}
        for word, c in terms:
            mask = 0
            for q, p in word:
                if p in "XY":
                    mask |= 1 << (n - 1 - q)
            if mask == 0:
                self.diag += c * self._phase(word).real
            else:
                by_mask.setdefault(mask, []).append((word, c))
        self.masks = np.array(sorted(by_mask), dtype=np.int64)
        self.words = [by_mask[m] for m in self.masks]
        self.coef = None
        if len(self.masks) and len(self.masks) * N <= COEF_BUDGET:
            self.coef = self.coef_chunk(0, len(self.masks))
        self.nbytes = self.bits.nbytes + self.diag.nbytes + (0 if self.coef is None else self.coef.nbytes)

    def _phase(self, word) -> np.ndarray:
        """``phase(i)`` with ``P|i> = phase(i) |i ^ mask>`` for one Pauli word."""
        zy = [q for q, p in word if p in "YZ"]
        ny = sum(1 for _, p in word if p == "Y")
        parity = self.bits[zy].sum(0) & 1 if zy else np.zeros(self.bits.shape[1], dtype=np.int8)
        return (1j**ny) * (1 - 2 * parity.astype(float))

    def coef_chunk(self, start, stop) -> np.ndarray:
        return np.stack([sum(c * self._phase(w) for w, c in self.words[k]) for k in range(start, stop)])


def _terms(obs, pos):
    """Constant Pauli terms ``((word, coeff), ...)`` of ``obs`` in wire positions, or ``None``."""
    ps = obs.pauli_rep
    if ps is None:
        return None
    terms = []
    for word, c in ps.items():
        if isinstance(c, torch.Tensor):
            if c.requires_grad:
                return None
            c = c.detach().cpu().numpy()
        c = complex(c)
        if abs(c.imag) > 1e-12:
            return None
        terms.append((tuple(sorted((pos[w], p) for w, p in word.items() if p != "I")), c.real))
    return tuple(terms)


def pauli_tables(obs, pos, n) -> PauliTables | None:
    """Cached :class:`PauliTables` of ``obs`` (by identity of the observable, then by value)."""
    if isinstance(obs, qp.PauliZ):
        key = ("Z", pos[obs.wires[0]], n)
    else:
        hit = _PAULI_CACHE.get(("id", id(obs), n))
        if hit is not None and hit[0] is obs:
            return hit[1]
        terms = _terms(obs, pos)
        if terms is None:
            return None
        key = (terms, n)
    tab = _PAULI_CACHE.get(key)
    if tab is None:
        if key[0] == "Z":
            tab = PauliTables(n, [(((key[1], "Z"),), 1.0)])
        else:
            tab = PauliTables(n, key[0])
        _PAULI_CACHE.put(key, tab, tab.nbytes)
    if not isinstance(obs, qp.PauliZ):
        _PAULI_CACHE.put(("id", id(obs), n), (obs, tab), 0)
    return tab


class Measurer:
    """Evaluate a tape's measurements on the final state ``psi`` of shape ``(2**n, B')``."""

    def __init__(self, psi, n, pos, rdtype, cdtype):
        self.psi, self.n, self.pos = psi, n, pos
        self.rdtype, self.cdtype, self.device = rdtype, cdtype, psi.device
        self._probs = None

    @property
    def probs(self):
        if self._probs is None:
            self._probs = (self.psi.conj() * self.psi).real
        return self._probs

    def measure(self, mps) -> list:
        out = [None] * len(mps)
        diag_i, diag_v = [], []
        zs = {}
        if self.psi.shape[0] >= HALVING_MIN:
            zs = {i: self.pos[mp.obs.wires[0]] for i, mp in enumerate(mps) if _single_z(mp)}
            if zs:
                values = self._z_by_halving(set(zs.values()))
                for i, q in zs.items():
                    out[i] = values[q]
        for i, mp in enumerate(mps):
            if i in zs:
                continue
            if isinstance(mp, ExpectationMP):
                tab = pauli_tables(mp.obs, self.pos, self.n)
                if tab is None:
                    out[i] = self._matrix_expval(mp.obs)
                    continue
                diag_i.append(i)
                diag_v.append(tab.diag)
                if len(tab.masks):
                    out[i] = self._offdiag(tab)
            elif isinstance(mp, VarianceMP):
                out[i] = self._var(mp.obs)
            elif isinstance(mp, ProbabilityMP):
                out[i] = self._probs_of(mp)
            elif isinstance(mp, StateMP):
                out[i] = self.psi.T
            else:  # pragma: no cover - validate_measurements rejects the rest
                raise qp.exceptions.DeviceError(f"FastDevice does not support {type(mp).__name__}")
        if diag_i:
            dmat = _stack_const(diag_v, self.rdtype, self.device)  # (m, N)
            if self._probs is not None:
                vals = dmat @ self._probs  # (m, B')
            else:  # d . |psi|^2 without forming |psi|^2: one square of the real view, one matmul
                N, Bp = self.psi.shape
                sq = torch.view_as_real(self.psi).square().reshape(N, 2 * Bp)
                vals = (dmat @ sq).reshape(-1, Bp, 2).sum(-1)
            for j, i in enumerate(diag_i):
                out[i] = vals[j] if out[i] is None else vals[j] + out[i]
        return out

    def _z_by_halving(self, qs) -> dict:
        """``{q: <Z_q>}`` for wire positions ``qs`` (see :class:`_ZHalving`)."""
        qs = sorted(qs)
        values = _ZHalving.apply(self.psi, tuple(qs), self.n)
        return dict(zip(qs, values.unbind(0)))

    def _offdiag(self, tab):
        """``Re sum_m sum_i C_m[i] conj(psi[i ^ m]) psi[i]``, masks in chunks of bounded memory."""
        psi = self.psi
        N = psi.shape[0]
        K = len(tab.masks)
        step = max(1, min(K, 2**22 // N))
        ar = torch.arange(N, device=self.device)
        total = 0
        for start in range(0, K, step):
            stop = min(K, start + step)
            masks = const(tab.masks, torch.long, self.device)[start:stop]
            gather = torch.bitwise_xor(ar[None, :], masks[:, None]).reshape(-1)
            g = take_rows(psi, gather).reshape(stop - start, N, -1)
            if tab.coef is not None:
                coef = const(tab.coef, self.cdtype, self.device)[start:stop]
            else:
                coef = torch.as_tensor(tab.coef_chunk(start, stop), dtype=self.cdtype, device=self.device)
            total = total + (g.conj() * (coef[:, :, None] * psi[None])).real.sum((0, 1))
        return total

    def _matrix_expval(self, obs):
        mat = op_matrix(obs, self.cdtype, self.device)
        phi = apply_matrix(self.psi, mat, [self.pos[w] for w in obs.wires], self.n)
        return (self.psi.conj() * phi).real.sum(0)

    def _var(self, obs):
        ps = obs.pauli_rep
        if ps is not None:
            sq = qp.pauli.PauliSentence(ps) @ qp.pauli.PauliSentence(ps)
            sq.simplify()
            ev2 = self.measure([qp.expval(sq.operation(wire_order=obs.wires))])[0]
            ev = self.measure([qp.expval(obs)])[0]
            return ev2 - ev**2
        mat = op_matrix(obs, self.cdtype, self.device)
        qs = [self.pos[w] for w in obs.wires]
        phi = apply_matrix(self.psi, mat, qs, self.n)
        ev = (self.psi.conj() * phi).real.sum(0)
        ev2 = (phi.conj() * phi).real.sum(0)
        return ev2 - ev**2

    def _probs_of(self, mp):
        if mp.obs is not None:
            raise qp.exceptions.DeviceError("FastDevice computes probs of wires only, not of an observable")
        wires = mp.wires if len(mp.wires) else qp.wires.Wires(list(self.pos))
        qs = [self.pos[w] for w in wires]
        p = self.probs.reshape(*([2] * self.n), -1)
        others = [q for q in range(self.n) if q not in qs]
        if others:
            p = p.sum(others)
        kept = sorted(qs)
        p = p.permute(*[kept.index(q) for q in qs], len(kept))
        return p.reshape(2 ** len(qs), -1).T


_STACK_CACHE = Cache(name="qml.sim.measure.stacks")


def _probabilities(psi: torch.Tensor) -> torch.Tensor:
    """``|psi|^2`` (real), with temporaries of half a state at most."""
    x = torch.view_as_real(psi)
    p = x[..., 0].square()
    return p.addcmul_(x[..., 1], x[..., 1])


class _ZHalving(torch.autograd.Function):
    """``<Z_q>`` for several wires from one state ``(2**n, B)``: sum ``|psi|^2`` over the last wire,
    record the difference of its two halves where asked, go on with the summed (halved) vector
    (about two passes over the probabilities, no cached sign vectors).  The backward pass builds the
    probabilities' gradient in place (one half-state buffer), then ``2 g psi``: no graph of the
    halving steps, whose slices would each make a full-size zero-filled gradient."""

    @staticmethod
    def forward(ctx, psi, qs, n):
        B = psi.shape[1]
        t = _probabilities(psi)
        out = {}
        for q in range(n - 1, qs[0] - 1, -1):
            v = t.reshape(-1, 2, B)
            if q in qs:
                out[q] = (v[:, 0, :] - v[:, 1, :]).sum(0)
            if q > qs[0]:
                t = v.sum(1)
        ctx.qs, ctx.n = qs, n
        ctx.save_for_backward(psi)
        return torch.stack([out[q] for q in qs])

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g):
        (psi,) = ctx.saved_tensors
        N, B = psi.shape
        gp = torch.zeros(N, B, dtype=g.dtype, device=g.device)
        for q, gq in zip(ctx.qs, g):
            v = gp.view(2**q, 2, -1, B)
            v[:, 0] += gq
            v[:, 1] -= gq
        return psi * (2 * gp), None, None


def _single_z(mp) -> bool:
    return isinstance(mp, ExpectationMP) and isinstance(mp.obs, qp.PauliZ)


def _stack_const(vecs, dtype, device):
    key = (tuple(id(v) for v in vecs), dtype, device)
    hit = _STACK_CACHE.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], vecs)):
        return hit[1]
    t = torch.as_tensor(np.stack(vecs), dtype=dtype, device=device)
    _STACK_CACHE.put(key, (list(vecs), t), nbytes(t))
    return t
