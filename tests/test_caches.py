"""One cache registry: every in-memory cache is registered, and qml.clear_caches() empties them all."""

from __future__ import annotations

import pytest
import torch

import qml
from qml import _cache


def test_clear_caches_empties_every_registered_cache_and_results_stay_the_same():
    from qml.backends import auto  # noqa: F401 - registers its cache
    from qml.chem.molecule import catalog_tracker
    from qml.runtime import cost  # noqa: F401 - registers its cache

    torch.manual_seed(0)
    model = qml.HybridModel(2, 1, n_qubits=2, layers=1, backend="fast")
    x = torch.rand(4, 2, dtype=torch.float64)
    before = model(x).detach()
    catalog_tracker("H2", {})
    sizes = _cache.cache_sizes()
    expected = {
        "qml.chem.orbitals.trackers",
        "qml.runtime.cost.angles",
        "qml.backends.qiskit_circuits.compiled",
        "qml.backends.auto.decisions",
        "qml.sim.engine.plans",
        "qml.sim.engine.diagonals",
        "qml.sim.kernels.constants",
        "qml.sim.kernels.inverses",
        "qml.sim.kernels.kron_index",
        "qml.sim.measure.paulis",
        "qml.sim.measure.stacks",
        "qml.sim.gates.templates",
    }
    assert expected <= set(sizes)
    filled = {name for name, n in sizes.items() if n}
    assert len(filled) >= 6 and "qml.chem.orbitals.trackers" in filled and "qml.sim.engine.plans" in filled
    qml.clear_caches()
    assert all(n == 0 for n in _cache.cache_sizes().values()), _cache.cache_sizes()
    torch.testing.assert_close(model(x).detach(), before, rtol=0, atol=0)  # rebuilt, same values


def test_register_refuses_what_cannot_be_cleared():
    with pytest.raises(TypeError, match="cache 'x' has neither clear"):
        _cache.register("x", 3)
    assert "x" not in _cache.cache_sizes()
