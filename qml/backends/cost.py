"""The cost model ``auto`` consults before it times anything: seconds and peak bytes of one call.

Each local simulator answers :meth:`qml.backends.Backend.cost` ``(capability, workload, rows,
training)`` with a :class:`Cost` from the functions below (``None``: no model, the candidate is
timed as before). The constants are rough fits to the suite's measurements (single thread,
complex128, float64 parameters); ``auto`` uses them for orders of magnitude only:

* a candidate whose predicted peak memory at the real batch exceeds the memory budget (by default
  :data:`qml.sim.adjoint.BUDGET_FRACTION` of the available memory) is not considered;
* a candidate whose predicted time is :data:`qml.backends.auto.SLOW_FACTOR` times the best
  prediction is not timed; nor is one whose timing (warm-up and repeats on the sub-batch) would not
  fit in what is left of the deciding budget;
* when no candidate can be timed within the budget (wide circuits), the smallest prediction wins
  without running anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Seconds per amplitude and fused kernel of the "fast" simulator (forward + backward), in cache;
#: states beyond :data:`CACHE_BYTES` cost up to :data:`MEMORY_FACTOR` times more (memory bound).
FAST_S_PER_AMP = 5e-9
CACHE_BYTES = 32 * 2**20
MEMORY_FACTOR = 4.0
#: default.qubit (torch backprop) against "fast": measured 9-12x at 8-12 qubits.
DEFAULT_QUBIT_FACTOR = 10.0
#: lightning.qubit adjoint: a fixed cost per circuit (PennyLane's pipeline) plus amplitude-gate work
#: per observable.
LIGHTNING_S_PER_CIRCUIT = 5e-3
LIGHTNING_S_PER_AMP_GATE = 2e-9
#: Fixed cost of one call through a simulator (tape, transforms, kernels of a tiny state).
OVERHEAD_S = 3e-4
COMPLEX128 = 16


@dataclass(frozen=True)
class Cost:
    """Predicted cost of one call of a capability on ``rows`` rows.

    Attributes:
        seconds: wall time of the call (forward, plus backward when training).
        nbytes: peak memory of the call above the resting process.
        note: how it was estimated (for the decision's notes).
    """

    seconds: float
    nbytes: int
    note: str = ""


def circuit_size(capability: str, workload) -> tuple[int, int, int]:
    """``(n_qubits, gates, observables)`` of a workload: a ``CircuitSpec`` ("expval") or an
    ``(ansatz, n_qubits)`` pair ("energy", "state")."""
    if capability == "expval":
        n = int(workload.n_qubits)
        weights = math.prod(workload.weight_shape) if workload.weight_shape else 0
        gates = weights + int(workload.n_inputs) + n * int(workload.layers or 1)
        return n, max(1, gates), max(1, len(workload.observables) or n)
    ansatz, n = workload
    return int(n), max(1, int(ansatz.n_params)), 1


def fast_kernels(capability: str, workload) -> int:
    """State kernels the "fast" engine runs (:mod:`qml.sim.engine`): per layer of a layered circuit,
    one block per :data:`qml.sim.engine.CHUNK` wires of fused single-qubit gates and one permutation
    or phase vector for the entanglers, plus the product state and the embedding; per gate for
    Givens-rotation (chemistry) circuits."""
    from ..sim.engine import CHUNK

    n, gates, _ = circuit_size(capability, workload)
    if capability == "expval":
        return int(workload.layers or 1) * (math.ceil(n / CHUNK) + 1) + 2
    return gates + 1


def _scale(nbytes: int) -> float:
    return 1.0 + (MEMORY_FACTOR - 1.0) * min(1.0, nbytes / (8 * CACHE_BYTES)) if nbytes > CACHE_BYTES else 1.0


def fast_cost(capability: str, workload, rows: int, training: bool, budget: int | None = None) -> Cost:
    """``fast``: kernels of four fused wires; memory from :mod:`qml.sim.adjoint` (backprop keeps about
    one state per kernel; adjoint, which ``fast`` switches to beyond the budget, four states)."""
    from ..sim import adjoint

    n, gates, _ = circuit_size(capability, workload)
    state = adjoint.state_bytes(n, rows)
    kernels = fast_kernels(capability, workload)
    passes = 3 if training else 1
    seconds = OVERHEAD_S + FAST_S_PER_AMP * _scale(state) * (2**n) * rows * kernels * passes
    if not training:
        return Cost(seconds, 2 * state, "fast, no gradient: two states")
    backprop = adjoint.backprop_bytes(kernels, state)
    if budget is not None and backprop > budget:
        return Cost(1.5 * seconds, adjoint.adjoint_bytes(state), "fast, adjoint gradient (backprop over budget)")
    return Cost(seconds, backprop, "fast, backprop gradient")


def default_qubit_cost(capability: str, workload, rows: int, training: bool, budget: int | None = None) -> Cost:
    """``default.qubit`` (torch backprop): one state per gate kept for the backward pass."""
    from ..sim import adjoint

    n, gates, _ = circuit_size(capability, workload)
    state = adjoint.state_bytes(n, rows)
    fast = fast_cost(capability, workload, rows, training)
    nbytes = (gates + 3) * state if training else 3 * state
    return Cost(OVERHEAD_S + DEFAULT_QUBIT_FACTOR * (fast.seconds - OVERHEAD_S), nbytes, "default.qubit backprop")


def lightning_cost(capability: str, workload, rows: int, training: bool, budget: int | None = None) -> Cost:
    """``lightning.qubit`` adjoint: one circuit per row, a state per observable in the backward pass."""
    n, gates, n_obs = circuit_size(capability, workload)
    work = (2 + n_obs) if training else 1
    per_row = LIGHTNING_S_PER_CIRCUIT + LIGHTNING_S_PER_AMP_GATE * (2**n) * gates * work
    return Cost(rows * per_row, (2 + n_obs) * (2**n) * COMPLEX128, "lightning.qubit adjoint, one circuit per row")


def sector_cost(capability: str, workload, rows: int, training: bool, budget: int | None = None) -> Cost:
    """``sector``: ``d`` real amplitudes per row (``d`` the particle-number/Sz sector's size)."""
    from ..sim.sector import hf_sector

    ansatz, n = workload
    n, ne, two_sz = hf_sector(ansatz.hf_state)
    n_alpha, n_beta = (ne + two_sz) // 2, (ne - two_sz) // 2
    d = math.comb(n // 2, n_alpha) * math.comb(n // 2, n_beta)
    gates = max(1, int(ansatz.n_params))
    state = 8 * d * rows
    seconds = OVERHEAD_S + 2e-5 * gates + 2e-9 * d * rows * gates * (3 if training else 1)
    if not training:
        return Cost(seconds, 2 * state, f"sector of {d} amplitudes, no gradient")
    from ..sim import adjoint

    backprop = adjoint.backprop_bytes(gates, state)
    if budget is not None and backprop > budget:
        return Cost(1.5 * seconds, adjoint.adjoint_bytes(state), f"sector of {d} amplitudes, adjoint gradient")
    return Cost(seconds, backprop, f"sector of {d} amplitudes, backprop gradient")
