"""Gate tables for :mod:`qml.sim`: batched torch matrices and cached index tables.

Conventions: the state is a tensor of shape ``(2**n, B)`` (batch last) whose row index
``i`` has wire at position ``k`` as bit ``n - 1 - k`` (wire 0 most significant), as in
PennyLane.  Parametric single-qubit gates are built for a whole group at once from a
parameter tensor of shape ``(..., G)`` (``(..., G, 3)`` for ``Rot``) and return complex
matrices of shape ``(..., G, 2, 2)``.
"""

from __future__ import annotations

import functools

import numpy as np
import pennylane as qp
import torch

from .._cache import register
from .cache import memoize

#: Single-qubit parametric gates built natively (name -> number of parameters).
PARAM_1Q = {"RX": 1, "RY": 1, "RZ": 1, "PhaseShift": 1, "Rot": 3}

_S2 = 1 / np.sqrt(2)
#: Constant single-qubit gates (fused with their neighbours like the parametric ones).
CONST_1Q = {
    "Hadamard": np.array([[_S2, _S2], [_S2, -_S2]], dtype=complex),
    "PauliX": np.array([[0, 1], [1, 0]], dtype=complex),
    "PauliY": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "PauliZ": np.array([[1, 0], [0, -1]], dtype=complex),
    "S": np.array([[1, 0], [0, 1j]], dtype=complex),
    "T": np.array([[1, 0], [0, np.exp(1j * np.pi / 4)]], dtype=complex),
    "SX": 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]], dtype=complex),
    "Identity": np.eye(2, dtype=complex),
}

#: Parameter-free multi-qubit gates that map basis states to basis states (times a phase).
PERM_GATES = frozenset({"CNOT", "CZ", "SWAP", "Toffoli", "CCZ", "CSWAP", "CY"})

#: Parametric multi-qubit diagonal gates ``exp(i theta f(i))``.
DIAG_GATES = frozenset({"MultiRZ", "IsingZZ", "CRZ", "ControlledPhaseShift"})

#: Givens rotations of quantum chemistry: (pattern0, pattern1) on the gate's wires.
GIVENS = {"SingleExcitation": (0b01, 0b10), "DoubleExcitation": (0b0011, 0b1100)}

#: Templates expanded natively (their decompositions only index their parameter tensor).
TEMPLATES = frozenset({"AngleEmbedding", "StronglyEntanglingLayers", "BasicEntanglerLayers"})


def _cplx(re_parts, im_parts):
    """Stack real/imag parts (lists of 4 tensors or 0) into matrices ``(..., 2, 2)``."""
    ref = next(p for p in re_parts + im_parts if isinstance(p, torch.Tensor))
    zero = torch.zeros((), dtype=ref.dtype, device=ref.device).expand(ref.shape)
    re = torch.stack([zero if isinstance(p, int) else p for p in re_parts], -1)
    im = torch.stack([zero if isinstance(p, int) else p for p in im_parts], -1)
    return torch.complex(re, im).unflatten(-1, (2, 2))


def matrices_1q(name: str, p: torch.Tensor) -> torch.Tensor:
    """Matrices of the parametric gate ``name`` for parameters ``p`` (real, see module doc)."""
    if name == "Rot":
        phi, theta, omega = p.unbind(-1)
        c, s = torch.cos(theta / 2), torch.sin(theta / 2)
        a, d = (phi + omega) / 2, (phi - omega) / 2
        ca, sa, cd, sd = torch.cos(a), torch.sin(a), torch.cos(d), torch.sin(d)
        return _cplx([c * ca, -s * cd, s * cd, c * ca], [-c * sa, -s * sd, -s * sd, c * sa])
    if name == "RY":
        c, s = torch.cos(p / 2), torch.sin(p / 2)
        return _cplx([c, -s, s, c], [0, 0, 0, 0])
    if name == "RX":
        c, s = torch.cos(p / 2), torch.sin(p / 2)
        return _cplx([c, 0, 0, c], [0, -s, -s, 0])
    if name == "RZ":
        c, s = torch.cos(p / 2), torch.sin(p / 2)
        return _cplx([c, 0, 0, c], [-s, 0, 0, s])
    if name == "PhaseShift":
        one = torch.ones_like(p)
        return _cplx([one, 0, 0, torch.cos(p)], [0, 0, 0, torch.sin(p)])
    raise KeyError(name)


def _bits(n: int, pos) -> np.ndarray:
    idx = np.arange(2**n)
    return (idx >> (n - 1 - pos)) & 1


@memoize
def perm_table(n: int, gates: tuple) -> tuple[np.ndarray, np.ndarray | None]:
    """Signed permutation ``psi'[i] = s[i] psi[p[i]]`` of a run of :data:`PERM_GATES`.

    Args:
        n: number of wires.
        gates: tuple of ``(name, positions)`` in circuit order.

    Returns:
        ``(p, s)``: int32 indices of shape ``(2**n,)`` and complex phases (``None`` if all 1).
    """
    N = 2**n
    idx = np.arange(N)
    P = idx.copy()
    S = None  # all ones until a gate brings a sign (no 2**n complex temporaries for CNOT/SWAP runs)
    for name, pos in gates:
        b = [_bits(n, q) for q in pos]
        m = [1 << (n - 1 - q) for q in pos]
        s = None
        if name == "CNOT":
            p = idx ^ (b[0] * m[1])
        elif name == "Toffoli":
            p = idx ^ (b[0] * b[1] * m[2])
        elif name == "CY":
            p = idx ^ (b[0] * m[1])
            # CY|1,t> = |1> Y|t>: psi'[1,t] = (Y psi)[t], Y = [[0,-i],[i,0]]
            s = np.where(b[0] == 1, np.where(b[1] == 0, -1j, 1j), 1)
        elif name == "CZ":
            p, s = idx, np.where(b[0] * b[1] == 1, -1, 1).astype(complex)
        elif name == "CCZ":
            p, s = idx, np.where(b[0] * b[1] * b[2] == 1, -1, 1).astype(complex)
        elif name == "SWAP":
            p = idx ^ ((b[0] ^ b[1]) * (m[0] | m[1]))
        elif name == "CSWAP":
            p = idx ^ (b[0] * (b[1] ^ b[2]) * (m[1] | m[2]))
        else:  # pragma: no cover - guarded by PERM_GATES
            raise KeyError(name)
        del b
        # apply (P, S) then (p, s): psi2[i] = s[i] S[p[i]] psi[P[p[i]]]
        if S is not None:
            S = S[p] if s is None else s * S[p]
        elif s is not None:
            S = s.astype(complex)
        P = P[p]
    P = P.astype(np.int32) if N <= 2**31 else P  # half the bytes of an int64 table (index_select takes both)
    if S is None:
        return P, None
    return P, (None if np.all(S == 1) else S)


@memoize
def diag_vector(n: int, name: str, pos: tuple) -> np.ndarray:
    """Real ``f`` with ``gate(theta) = diag(exp(i theta f))`` for :data:`DIAG_GATES`."""
    b = [_bits(n, q) for q in pos]
    if name in ("MultiRZ", "IsingZZ"):
        z = np.ones(2**n)
        for bq in b:
            z = z * (1 - 2 * bq)
        return -z / 2
    if name == "CRZ":
        return b[0] * -(1 - 2 * b[1]) / 2.0
    if name == "ControlledPhaseShift":
        return (b[0] * b[1]).astype(float)
    raise KeyError(name)


@memoize
def givens_table(n: int, name: str, pos: tuple):
    """Rows ``rows``, partner rows ``partner`` and signs ``sign`` of a Givens rotation.

    ``rows`` lists the basis states whose bits on ``pos`` read pattern0, then pattern1;
    ``partner[k]`` is ``rows[k]`` with those bits flipped to the other pattern, and ``sign`` is
    -1 / +1 for the two halves, so that on these rows
    ``psi'[rows] = c psi[rows] + s sign psi[partner]`` with ``c, s = cos, sin(theta/2)``
    (every other amplitude is unchanged).  Tables are ``2 * 2**(n - len(pos))`` long.
    """
    p0, p1 = GIVENS[name]
    k = len(pos)
    sub = np.zeros(2**n, dtype=np.int64)
    for j, q in enumerate(pos):
        sub |= _bits(n, q) << (k - 1 - j)
    flip = 0
    for q in pos:
        flip |= 1 << (n - 1 - q)
    i0 = np.nonzero(sub == p0)[0]
    i1 = np.nonzero(sub == p1)[0]
    rows = np.concatenate([i0, i1])
    sign = np.concatenate([-np.ones(len(i0)), np.ones(len(i1))])
    return rows, rows ^ flip, sign


@register("qml.sim.gates.templates")
@functools.lru_cache(maxsize=128)
def _template_gates(cls, shape: tuple, wires: tuple, hyper: tuple):
    placeholder = np.arange(int(np.prod(shape)), dtype=float).reshape(shape)
    try:
        ops = cls.compute_decomposition(placeholder, wires=qp.wires.Wires(wires), **dict(hyper))
    except Exception:  # noqa: BLE001 - not expandable this way: let PennyLane decompose it
        return None
    out = []
    for op in ops:
        name = op.name
        if name in PARAM_1Q:
            vals = [float(v) for v in op.parameters]
            if any(v != int(v) for v in vals):
                return None
            out.append((name, tuple(op.wires), tuple(int(v) for v in vals)))
        elif name in PERM_GATES or name in CONST_1Q:
            out.append((name, tuple(op.wires), ()))
        else:
            return None
    return tuple(out)


def template_gates(op):
    """Gate list ``((name, wires, flat_param_indices), ...)`` of a native template, or ``None``.

    Computed once per template class, unbatched parameter shape, wires and hyperparameters by
    decomposing the template with a placeholder tensor whose entries are their own flat indices.
    """
    if op.name not in TEMPLATES:
        return None
    shape = tuple(qp.math.shape(op.data[0]))
    if op.batch_size is not None:
        shape = shape[1:]
    hyper = tuple(sorted((k, v if not isinstance(v, list) else tuple(v)) for k, v in op.hyperparameters.items()))
    try:
        return _template_gates(type(op), shape, tuple(op.wires), hyper)
    except TypeError:  # unhashable hyperparameters
        return None
