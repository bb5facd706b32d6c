"""``auto``'s cost model (qml.backends.cost): memory and time predicted before anything runs.

The memory figures are checked against their definition (states of 2**n x batch complex128
amplitudes, qml.sim.adjoint); the decisions against budgets chosen around those figures.
"""

from __future__ import annotations

import math

import pytest
import torch

from qml import backends
from qml.backends import auto
from qml.backends.cost import Cost
from qml.circuits import make_spec
from qml.sim import adjoint


@pytest.fixture(autouse=True)
def _fresh_decisions():
    saved = dict(auto._DECISIONS)
    auto.clear_cache()
    yield
    auto.clear_cache()
    auto._DECISIONS.update(saved)


def test_memory_costs_are_known_before_running_at_20_qubits():
    """At 20 qubits (batch 8, 2 layers) on a 1 GiB budget fast fits in 4 of the batch's states by its
    adjoint mode; default.qubit's backprop keeps one state per gate; no circuit runs to know it."""
    spec = make_spec(n_qubits=20, embedding="angle", ansatz="strongly_entangling", layers=2)
    be = backends.resolve("auto", n_qubits=20)
    state = adjoint.state_bytes(20, 8)
    assert state == 2**20 * 8 * 16
    costs = be.costs("expval", spec, ("fast", "default.qubit", "lightning.qubit"), 8, 8, True, 2**30)
    fast, dq = costs["fast"][1], costs["default.qubit"][1]
    assert fast.nbytes == 4 * state and "adjoint" in fast.note
    gates = 2 * 20 * 3 + 20 + 20 * 2  # weights + embedding + entanglers
    assert dq.nbytes == (gates + 3) * state
    # forced modes follow the backend's own option
    forced = backends.resolve("fast", n_qubits=20, gradient="backprop").cost("expval", spec, 8, True, 2 * 2**30)
    kernels = 2 * (20 // 4 + 1) + 2  # per layer 5 fused 4-wire blocks + 1 permutation; product state, embedding
    assert forced.nbytes == adjoint.backprop_bytes(kernels, state) and "backprop" in forced.note


def test_auto_drops_a_candidate_over_a_small_memory_budget(rng):
    """With a budget between fast's and default.qubit's predicted memory, default.qubit is not run."""
    spec = make_spec(n_qubits=8, embedding="angle", ansatz="strongly_entangling", layers=2)
    x = torch.rand(4, spec.n_inputs, generator=rng, dtype=torch.float64)
    w = torch.randn(spec.weight_shape, generator=rng, dtype=torch.float64)
    state = adjoint.state_bytes(8, 4)
    gates = 2 * 8 * 3 + 8 + 8 * 2
    dq_bytes, fast_bytes = (gates + 3) * state, adjoint.backprop_bytes(2 * (8 // 4 + 1) + 2, state)
    assert fast_bytes < 2 * fast_bytes < dq_bytes
    be = backends.resolve("auto", n_qubits=8, candidates=("default.qubit", "fast"), memory_budget=2 * fast_bytes)
    run = be.make_executor(spec)
    out = run(x, w.requires_grad_())
    out.sum().backward()
    d = be.decision
    assert d.chosen == "fast" and d.timings["default.qubit"] == math.inf
    assert "over the memory budget" in d.notes["default.qubit"]
    # the same values as fast itself
    ref = backends.resolve("fast", n_qubits=8).make_executor(spec)(x, w.detach())
    torch.testing.assert_close(out.detach(), ref, atol=1e-12, rtol=0)
    # with room for both, default.qubit is a candidate again (not skipped for memory)
    auto.clear_cache()
    be = backends.resolve("auto", n_qubits=8, candidates=("default.qubit", "fast"), memory_budget=4 * dq_bytes)
    be.make_executor(spec)(x, w)
    assert "memory" not in be.decision.notes.get("default.qubit", "")


def test_a_workload_too_slow_to_time_is_decided_by_the_model_without_running():
    calls = []

    def trial(name, rows):
        calls.append(name)

    costs = {
        "fast": (Cost(5.0, 10), Cost(5.0, 10, "fast")),
        "default.qubit": (Cost(50.0, 10), Cost(50.0, 10, "dq")),
        "lightning.qubit": (Cost(400.0, 10), Cost(400.0, 10, "lq")),
    }
    d = auto.decide("expval", ("fast", "default.qubit", "lightning.qubit"), trial, 8, costs=costs, memory_budget=100)
    assert calls == [] and d.chosen == "fast" and d.sub_batch == 0
    assert "chosen by the cost model without timing" in d.notes["fast"]
    assert "over 20x the best" in d.notes["lightning.qubit"]
    # a cheap workload is still timed: the measurement decides
    d = auto.decide(
        "expval",
        ("fast", "default.qubit"),
        lambda n, r: calls.append(n),
        8,
        costs={k: (Cost(1e-3, 10), Cost(1e-3, 10)) for k in ("fast", "default.qubit")},
        memory_budget=100,
    )
    assert calls.count("fast") == 1 + auto.REPEATS and calls.count("default.qubit") == 1 + auto.REPEATS


def test_memory_budget_option_is_validated():
    with pytest.raises(ValueError, match="memory_budget must be a positive number of bytes"):
        backends.resolve("auto", n_qubits=4, memory_budget=-5)
