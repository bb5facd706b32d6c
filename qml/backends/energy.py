"""Energies from states: ``<psi_b|H_b|psi_b>`` for a batch, one Hamiltonian per sample.

Shared by every backend that has the state (``fast``, ``default.qubit``, ``sector``): the
Hamiltonian's representation is built once per Hamiltonian entry and kept in ``entry.cache``.
"""

from __future__ import annotations

import numpy as np
import torch

from .base import EnergyEvaluator


def torch_sparse(entry, device=None):
    """``(A, B)``: real and imaginary parts of the entry's Hamiltonian as torch sparse COO float64
    matrices on ``device`` (default cpu; ``B`` is ``None`` when the Hamiltonian is real, as
    molecular ones are), cached per device."""
    device = torch.device("cpu") if device is None else torch.device(device)
    key = ("torch_sparse", str(device))
    if key not in entry.cache:
        if device.type == "cpu":
            h = entry.sparse()
            a = _csr(h.real)
            b = _csr(h.imag) if h.imag.count_nonzero() and abs(h.imag).max() > 1e-14 else None
        else:
            a, b = (None if m is None else m.to(device) for m in torch_sparse(entry))
        entry.cache[key] = (a, b)
    return entry.cache[key]


def _csr(m):
    m = m.tocoo()
    return torch.sparse_coo_tensor(
        np.vstack([m.row, m.col]), m.data, m.shape, dtype=torch.float64, check_invariants=True
    ).coalesce()


def state_energies(states: torch.Tensor, entries) -> torch.Tensor:
    """``Re <psi_b|H_b|psi_b>`` for complex ``states`` of shape ``(B, 2**n)``: real tensor ``(B,)``.

    With ``psi = x + i y`` and ``H = A + i B`` (``A`` symmetric, ``B`` antisymmetric):
    ``x.A x + y.A y + 2 y.B x``. The product runs on the states' device (the Hamiltonian is
    copied there once per entry). On the ``meta`` device (no values, no sparse kernels) the
    result is an empty meta tensor of the right shape and dtype.
    """
    x, y = states.real.to(torch.float64), states.imag.to(torch.float64)
    if states.is_meta:
        return x.new_empty(len(entries))
    out = []
    for b, entry in enumerate(entries):
        a, im = torch_sparse(entry, x.device)
        xy = torch.stack([x[b], y[b]], dim=1)  # (2**n, 2)
        hxy = torch.sparse.mm(a, xy)
        e = (xy * hxy).sum()
        if im is not None:
            e = e + 2 * (y[b] * torch.sparse.mm(im, x[b][:, None])[:, 0]).sum()
        out.append(e)
    return torch.stack(out)


def sector_energies(amplitudes: torch.Tensor, entries, indices: np.ndarray) -> torch.Tensor:
    """``psi_b . H_b^sector . psi_b`` for real sector amplitudes ``(B, d)``: tensor ``(B,)``."""
    device = amplitudes.device
    key = ("sector_block", indices.tobytes(), str(device))
    blocks = []
    for entry in entries:
        if key not in entry.cache:
            block = np.real(entry.sector_block(indices))
            if device.type == "meta":  # shapes only: no values to copy
                entry.cache[key] = torch.empty(block.shape, dtype=torch.float64, device=device)
            else:
                entry.cache[key] = torch.as_tensor(block, dtype=torch.float64, device=device)
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
