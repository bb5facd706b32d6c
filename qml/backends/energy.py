"""Energies from states: ``<psi_b|H_b|psi_b>`` for a batch, one Hamiltonian per sample.

Shared by every backend that has the state (``fast``, ``default.qubit``, ``sector``): the
Hamiltonian's representation is built once per Hamiltonian entry and kept in ``entry.cache``.
"""

from __future__ import annotations

import numpy as np
import torch

from .base import EnergyEvaluator


def torch_sparse(entry):
    """``(A, B)``: real and imaginary parts of the entry's Hamiltonian as torch sparse COO float64
    matrices (``B`` is ``None`` when the Hamiltonian is real, as molecular ones are), cached."""
    key = "torch_sparse"
    if key not in entry.cache:
        h = entry.sparse()
        a = _csr(h.real)
        b = _csr(h.imag) if h.imag.count_nonzero() and abs(h.imag).max() > 1e-14 else None
        entry.cache[key] = (a, b)
    return entry.cache[key]


def _csr(m):
    m = m.tocoo()
    return torch.sparse_coo_tensor(np.vstack([m.row, m.col]), m.data, m.shape, dtype=torch.float64,
                                   check_invariants=True).coalesce()


def state_energies(states: torch.Tensor, entries) -> torch.Tensor:
    """``Re <psi_b|H_b|psi_b>`` for complex ``states`` of shape ``(B, 2**n)``: real tensor ``(B,)``.

    With ``psi = x + i y`` and ``H = A + i B`` (``A`` symmetric, ``B`` antisymmetric):
    ``x.A x + y.A y + 2 y.B x``. Entries that are the same object share one product.
    """
    x, y = states.real.to(torch.float64), states.imag.to(torch.float64)
    out = []
    for b, entry in enumerate(entries):
        a, im = torch_sparse(entry)
        xy = torch.stack([x[b], y[b]], dim=1)  # (2**n, 2)
        hxy = torch.sparse.mm(a, xy)
        e = (xy * hxy).sum()
        if im is not None:
            e = e + 2 * (y[b] * torch.sparse.mm(im, x[b][:, None])[:, 0]).sum()
        out.append(e)
    return torch.stack(out)


def sector_energies(amplitudes: torch.Tensor, entries, indices: np.ndarray) -> torch.Tensor:
    """``psi_b . H_b^sector . psi_b`` for real sector amplitudes ``(B, d)``: tensor ``(B,)``."""
    key = ("sector_block", indices.tobytes())
    blocks = []
    for entry in entries:
        if key not in entry.cache:
            entry.cache[key] = torch.as_tensor(np.real(entry.sector_block(indices)), dtype=torch.float64)
        blocks.append(entry.cache[key])
    blocks = torch.stack(blocks)
    return torch.einsum("bi,bij,bj->b", amplitudes, blocks, amplitudes)


class StateEnergy(EnergyEvaluator):
    """Energies of a backend that has the state: one batched state preparation, then
    :func:`state_energies` (exact; ``last_stderr`` stays ``None``)."""

    def __init__(self, backend, ansatz, n_qubits: int):
        super().__init__(backend, ansatz, n_qubits)
        self.state = backend.state_fn(ansatz, n_qubits)

    def evaluate(self, params, hamiltonians):
        self.last_stderr = None
        return state_energies(self.state(params), hamiltonians)
