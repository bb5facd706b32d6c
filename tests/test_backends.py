"""qml.backends: registry, capabilities, energy evaluators against independent computations, one ``auto``."""

from __future__ import annotations

import time

import numpy as np
import pennylane as qp
import pytest
import torch

import qml
from qml import backends
from qml.backends import auto as _auto
from qml.backends.base import Backend
from qml.chem import Molecule, make_ansatz
from qml.chem.bank import HamiltonianBank, HamiltonianEntry
from qml.chem.surface import surface
from qml.errors import BackendError, ConfigurationError, DataError

LOCAL = ("fast", "default.qubit", "lightning.qubit", "sector")


@pytest.fixture(scope="module")
def h2_batch():
    """Three H2 geometries (three Hamiltonians) and uccsd parameters away from HF."""
    bank = HamiltonianBank(surface("H2"))
    entries = [bank[r] for r in (0.6, 0.74, 1.3)]
    ansatz = make_ansatz(entries[0].molecule, "uccsd")
    params = torch.tensor([[0.1, -0.05, 0.2], [0.3, 0.02, -0.1], [-0.2, 0.1, 0.05]], dtype=torch.float64)
    return ansatz, entries, params


@pytest.fixture
def registry():
    """Restore the registry after a test that registers toy backends."""
    saved = dict(backends.REGISTRY)
    yield backends
    for name in set(backends.REGISTRY) - set(saved):
        backends.REGISTRY.pop(name)
        backends._CLASSES.pop(name, None)
    _auto.clear_cache()


def _reference_energies(ansatz, entries, params) -> np.ndarray:
    """Independent of qml.backends: default.qubit's state (a plain QNode) and scipy's sparse matrix."""
    dev = qp.device("default.qubit", wires=ansatz.n_qubits)

    @qp.qnode(dev)
    def state(p):
        ansatz(p)
        return qp.state()

    out = []
    for p, entry in zip(params.detach().numpy(), entries):
        psi = np.asarray(state(p))
        out.append(float(np.real(np.conj(psi) @ (entry.sparse() @ psi))))
    return np.array(out)


# ------------------------------------------------------------------ registry and capabilities
def test_registry_lists_capabilities():
    table = backends.describe()
    assert {"auto", "fast", "default.qubit", "lightning.qubit", "sector"} <= set(table)
    assert table["fast"]["capabilities"] == ["energy", "expval", "state"]
    assert table["lightning.qubit"]["capabilities"] == ["energy", "expval"]
    assert table["sector"]["capabilities"] == ["energy", "state"]
    assert set(backends.with_capability("energy")) >= {"auto", *LOCAL}
    assert "sector" not in backends.with_capability("expval")
    assert backends.family("aer:FakeManilaV2") == "aer" and backends.family("default.qubit") == "default.qubit"


def test_missing_capability_names_the_backends_that_have_it(h2_batch):
    ansatz, _, _ = h2_batch
    be = backends.resolve("lightning.qubit", n_qubits=4)
    with pytest.raises(
        BackendError, match=r"cannot compute the state vector itself; backends that can: 'auto', 'fast'"
    ):
        be.state_fn(ansatz, 4)
    with pytest.raises(BackendError, match=r"'sector' cannot compute expectation values.*can: 'auto', 'fast'"):
        backends.resolve("sector", n_qubits=4).make_executor(None)
    with pytest.raises(BackendError, match="unknown backend 'nope'; valid backends are: auto, fast"):
        backends.resolve("nope", n_qubits=2)
    with pytest.raises(TypeError, match="backend must be a string"):
        backends.resolve(3.5, n_qubits=2)
    with pytest.raises(BackendError, match="takes no option"):
        backends.resolve("fast", n_qubits=2, resilience_level=1)


def test_sector_refuses_ansatzes_that_leave_the_sector(h2_batch):
    _, entries, _ = h2_batch
    hea = make_ansatz(entries[0].molecule, "hardware_efficient")
    with pytest.raises(BackendError, match="particle-conserving ansatzes only.*'hardware_efficient'.*RY"):
        backends.resolve("sector", n_qubits=4).energy_evaluator(hea, 4)


class ExpvalOnly(Backend):
    """A toy backend in a few lines: expectation values through a plain default.qubit QNode."""

    capabilities = frozenset({"expval"})
    calls = 0

    def make_executor(self, spec):
        qnode = qp.QNode(spec.qfunc, qp.device("default.qubit", wires=spec.n_qubits), interface="torch")

        def run(inputs, weights):
            type(self).calls += 1
            return torch.stack(qnode(inputs, weights), dim=-1)

        return run


def test_a_new_backend_is_one_class_and_one_registry_line(registry, rng):
    registry.register("toy", ExpvalOnly)
    model = qml.HybridModel(2, 1, n_qubits=2, layers=1, backend="toy")
    ref = qml.HybridModel(2, 1, n_qubits=2, layers=1, backend="fast")
    ref.load_state_dict(model.state_dict())
    x = torch.rand(5, 2, generator=rng, dtype=torch.float64)
    assert torch.allclose(model(x), ref(x), atol=1e-12)
    assert ExpvalOnly.calls == 1  # one executor call per batch
    assert "toy" in registry.with_capability("expval") and "toy" not in registry.with_capability("energy")
    with pytest.raises(BackendError, match="'toy' cannot compute energies.*backends that can: 'auto', 'fast'"):
        qml.PESModel("H2", backend="toy")
    with pytest.raises(TypeError, match="must subclass"):
        registry.register("bad", int)


# ------------------------------------------------------------------ energies
@pytest.mark.parametrize("name", LOCAL)
def test_energies_equal_an_independent_computation(name, h2_batch):
    ansatz, entries, params = h2_batch
    ev = backends.resolve(name, n_qubits=4).energy_evaluator(ansatz, 4)
    e = ev(params, entries)
    assert e.shape == (3,) and e.dtype == torch.float64 and ev.last_stderr is None
    assert np.allclose(e.detach().numpy(), _reference_energies(ansatz, entries, params), atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", LOCAL)
def test_energy_gradients_match_finite_differences(name, h2_batch):
    ansatz, entries, params = h2_batch
    ev = backends.resolve(name, n_qubits=4).energy_evaluator(ansatz, 4)
    p = params.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda q: ev(q, entries), (p,), eps=1e-6, atol=1e-7)


def test_energy_evaluator_validates_the_batch(h2_batch):
    ansatz, entries, params = h2_batch
    ev = backends.resolve("fast", n_qubits=4).energy_evaluator(ansatz, 4)
    with pytest.raises(DataError, match=r"params must have shape \(batch, 3\)"):
        ev(params[:, :2], entries)
    with pytest.raises(DataError, match="3 parameter vectors but 2 Hamiltonians"):
        ev(params, entries[:2])


def test_sampled_energies_are_within_five_standard_errors(h2_batch):
    ansatz, entries, params = h2_batch
    ev = backends.resolve("default.qubit", n_qubits=4, shots=20000, seed=3).energy_evaluator(ansatz, 4)
    e = ev(params, entries).detach().numpy()
    err = ev.last_stderr
    assert err.shape == (3,) and np.all(err > 1e-4) and np.all(err < 0.05)
    assert np.all(np.abs(e - _reference_energies(ansatz, entries, params)) < 5 * err)


def test_hamiltonian_bank_caches_one_entry_per_geometry():
    bank = HamiltonianBank(surface("H2"))
    a, b = bank[0.74], bank[(0.74 + 1e-13,)]
    assert a is b and len(bank) == 1
    mol = Molecule.from_name("H2", 0.74)
    assert np.allclose(a.sparse().toarray(), mol.sparse_hamiltonian().toarray())
    block = a.sector_block(np.array([3, 6, 9, 12]))
    assert block.shape == (4, 4) and np.allclose(block, block.T)
    assert np.linalg.eigvalsh(block).min() == pytest.approx(mol.exact_energy(), abs=1e-10)
    bank.prepare([0.5, 0.9, 0.74])
    assert len(bank) == 3 and 0.9 in bank
    with pytest.raises(TypeError, match="needs a qml.chem.Molecule"):
        HamiltonianEntry("H2")


# ------------------------------------------------------------------ auto
class _Sleepy(Backend):
    """Toy expval backends with a known cost model; they return zeros of the right shape."""

    capabilities = frozenset({"expval"})
    per_row = 0.0
    fixed = 0.0
    rows_seen: tuple = ()  # each subclass has its own list

    def make_executor(self, spec):
        def run(inputs, weights):
            type(self).rows_seen.append(int(inputs.shape[0]))
            time.sleep(self.fixed + self.per_row * inputs.shape[0])
            return weights.sum() * 0 + torch.zeros(inputs.shape[0], spec.n_outputs, dtype=inputs.dtype)

        return run


class PerRow(_Sleepy):
    per_row, rows_seen = 0.002, []
    min_seconds_per_row = 1e-6  # runs one circuit per row: its time scales with the rows


class Fixed(_Sleepy):
    fixed, rows_seen = 0.05, []


def test_auto_times_a_capped_sub_batch_and_scales_per_row_backends(registry):
    registry.register("per_row", PerRow)
    registry.register("fixed", Fixed)
    layer = qml.QuantumLayer(2, layers=1, backend=backends.resolve("auto", n_qubits=2, candidates=("per_row", "fixed")))
    x = torch.zeros(1000, 2, dtype=torch.float64)
    layer(x)
    d = layer.backend.decision
    # at 8 rows per_row is faster (16 ms vs 50 ms), at 1000 rows it would take 2 s: auto keeps "fixed"
    assert d.timings["per_row"] < d.timings["fixed"] and d.chosen == "fixed"
    assert d.predicted["per_row"] > 1.0 and d.predicted["fixed"] < 0.2 and d.sub_batch == 8 and d.batch == 1000
    assert max(PerRow.rows_seen) <= 8 and Fixed.rows_seen[-1] == 1000 and max(Fixed.rows_seen[:-1]) <= 8
    assert "auto chose 'fixed'" in repr(layer)
    # the same workload shape again: the cached decision, no timing
    again = qml.QuantumLayer(2, layers=1, backend=backends.resolve("auto", n_qubits=2, candidates=("per_row", "fixed")))
    n_seen = len(PerRow.rows_seen)
    again(torch.zeros(900, 2, dtype=torch.float64))
    assert again.backend.decision.cached and again.backend.decision.decide_seconds == 0.0
    assert len(PerRow.rows_seen) == n_seen


class PerRowWithFloor(_Sleepy):
    per_row, rows_seen = 0.002, []
    min_seconds_per_row = 0.001  # what a one-circuit-per-row backend declares


def test_auto_skips_a_per_row_backend_whose_floor_already_loses(registry):
    registry.register("fixed", Fixed)
    registry.register("floored", PerRowWithFloor)
    be = backends.resolve("auto", n_qubits=2, candidates=("fixed", "floored"))
    layer = qml.QuantumLayer(2, layers=1, backend=be)
    layer(torch.zeros(1000, 2, dtype=torch.float64))
    assert be.chosen == "fixed" and PerRowWithFloor.rows_seen == []  # never run: 1000 rows cost >= 1 s
    assert "skipped: runs one circuit per row, at least 1 s for 1000 rows" in be.decision.notes["floored"]
    small = backends.resolve("auto", n_qubits=2, candidates=("fixed", "floored"))
    qml.QuantumLayer(2, layers=1, backend=small)(torch.zeros(4, 2, dtype=torch.float64))
    assert small.chosen == "floored" and max(PerRowWithFloor.rows_seen) == 4  # 4 rows: 8 ms < 50 ms


def test_auto_cache_is_bounded():
    _auto.clear_cache()
    for i in range(_auto.MAX_DECISIONS + 10):
        _auto.decide("expval", ("fast",), None, 1, key=("k", i))
    assert len(_auto._DECISIONS) == _auto.MAX_DECISIONS
    assert ("k", 0) not in _auto._DECISIONS and ("k", _auto.MAX_DECISIONS + 9) in _auto._DECISIONS
    _auto.clear_cache()
    assert len(_auto._DECISIONS) == 0


def test_auto_reports_its_decision_in_the_fit_history(rng):
    _auto.clear_cache()
    model = qml.HybridModel(2, 1, n_qubits=2, layers=1, backend="auto")
    x = torch.rand(6, 2, generator=rng, dtype=torch.float64)
    history = qml.fit(model, (x, x[:, :1]), epochs=2, batch_size=6, progress=False)
    first, second = history.records
    assert first["backend"] == model.quantum.backend.chosen in ("fast", "lightning.qubit", "default.qubit")
    assert first["auto_decide_s"] > 0 and set(first["auto_timings_s"]) == {"fast", "lightning.qubit", "default.qubit"}
    assert "backend" not in second  # decided once, on the first batch


def test_auto_with_shots_only_considers_sampling_backends():
    be = backends.resolve("auto", n_qubits=2, shots=100)
    assert be.eligible("expval") == ("lightning.qubit", "default.qubit")
    with pytest.raises(BackendError, match="no local simulator takes a 30-qubit circuit"):
        backends.resolve("auto", n_qubits=30)


# ------------------------------------------------------------------ vqe and PESModel through the layer
def test_vqe_ansatz_options_and_backend_choice():
    h2 = Molecule.from_name("H2", 0.74)
    res = qml.chem.vqe(h2, ansatz_options={"reps": 2}, backend="sector", progress=False)
    assert res.n_params == 6 and res.backend.chosen == "sector" and res.timings == {}
    assert res.energy == pytest.approx(h2.exact_energy(), abs=1e-8)
    with pytest.raises(ConfigurationError, match="given twice"):
        qml.chem.vqe(h2, ansatz_options={"reps": 2}, reps=2, progress=False)
    with pytest.raises(BackendError, match="'toy_missing'"):
        qml.chem.vqe(h2, backend="toy_missing", progress=False)


@pytest.mark.parametrize("shots", [None, 4000])
def test_aer_matches_fast(shots):
    pytest.importorskip("qml.backends.aer")
    h2 = Molecule.from_name("H2", 0.74)
    ansatz = make_ansatz(h2, "uccsd")
    entries = [HamiltonianEntry(h2), HamiltonianEntry(Molecule.from_name("H2", 1.2))]
    params = torch.tensor([[0.1, -0.05, 0.2], [0.3, 0.0, -0.1]], dtype=torch.float64, requires_grad=True)
    fast = backends.resolve("fast", n_qubits=4).energy_evaluator(ansatz, 4)
    aer = backends.resolve("aer", n_qubits=4, shots=shots, seed=5).energy_evaluator(ansatz, 4)
    e_fast, e_aer = fast(params, entries), aer(params, entries)
    if shots is None:
        assert torch.allclose(e_aer, e_fast, atol=1e-8, rtol=0)
        g_fast = torch.autograd.grad(e_fast.sum(), params)[0]
        g_aer = torch.autograd.grad(e_aer.sum(), params)[0]
        assert torch.allclose(g_aer, g_fast, atol=1e-8, rtol=0)
        assert qml.PESModel("H2", backend="aer").energy(0.74) == pytest.approx(h2.hf_energy(), abs=1e-8)
    else:
        assert np.all(np.abs((e_aer - e_fast).detach().numpy()) < 5 * aer.last_stderr)


def test_vqe_on_a_fake_device_runs_or_raises_a_qml_error():
    """Issue 10's bar: ``vqe(H2, backend="aer:FakeManilaV2")`` runs; unknown or too small devices raise
    a qml BackendError naming the fix (never a Qiskit trace)."""
    pytest.importorskip("qml.backends.aer")
    h2 = Molecule.from_name("H2", 0.74)
    res = qml.chem.vqe(h2, backend="aer:FakeManilaV2", optimizer="sgd", steps=1, progress=False)
    assert res.backend.chosen == "aer:FakeManilaV2" and res.n_evaluations == 1
    assert res.n_qubits == 1 and res.params.shape == (1,)  # taper="auto" tapers on a noisy device: H2 -> 1 qubit
    assert res.energy_stderr > 0  # a noisy device samples (1024 shots by default)
    # HF start on a noisy device: above the exact energy (up to sampling), within 0.6 Ha of HF.
    assert res.exact_energy - 5 * res.energy_stderr < res.energy < h2.hf_energy() + 0.6
    with pytest.raises(BackendError, match="unknown fake device 'FakeNope'.*fake_device_names"):
        qml.chem.vqe(h2, backend="aer:FakeNope", progress=False)
    with pytest.raises(BackendError, match="needs 10 qubits but the fake device FakeManilaV2 has 5"):
        qml.chem.vqe(Molecule.from_name("LiH", 1.6), backend="aer:FakeManilaV2", progress=False)


# ------------------------------------------------------------------ one path: only the execution layer knows devices
_EXECUTION_LAYER = ("backends", "runtime", "sim")
#: option names that are also ordinary words of the public API (not device knowledge by themselves)
_GENERIC_OPTIONS = {
    "mode",
    "store",
    "local",
    "timeout",
    "precision",
    "gradient",
    "instance",
    "candidates",
    "mitigation",
}


def _device_option_names() -> set[str]:
    import dataclasses

    from qml.runtime.options import RuntimeOptions

    names = {f.name for f in dataclasses.fields(RuntimeOptions)}
    for fam in backends.REGISTRY:
        try:
            names |= set(backends.backend_class(fam).accepts)
        except ImportError:
            continue
    return names - _GENERIC_OPTIONS


def _knows_a_device(node, families: set[str], options: set[str]) -> str | None:
    """Why ``node`` compares a backend to a name or reaches for a device option, else ``None``."""
    import ast

    def is_name(c) -> bool:
        return isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value.split(":")[0] in families

    def strings(n) -> list:
        items = n.elts if isinstance(n, (ast.Tuple, ast.List, ast.Set)) else [n]
        return [c for c in items if isinstance(c, ast.Constant) and isinstance(c.value, str)]

    if isinstance(node, ast.Compare):
        sides = [node.left, *node.comparators]
        text = ast.unparse(node)
        if any(is_name(c) for s in sides for c in strings(s)) and (
            "backend" in text or "be_" in text or " be " in text
        ):
            return "compares a backend to a backend name"
        if any(c.value in options for s in sides for c in strings(s)):
            return "compares with a device option key"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "startswith":
        if any(
            is_name(c) or (isinstance(c, ast.Constant) and str(c.value).rstrip(":") in families)
            for a in node.args
            for c in strings(a)
        ):
            return "tests a backend name's prefix"
    if isinstance(node, ast.Subscript) and any(c.value in options for c in strings(node.slice)):
        return "indexes a device option key"
    if isinstance(node, ast.Dict) and any(k is not None and k in strings(k) and k.value in options for k in node.keys):
        return "builds a dict with a device option key"
    return None


def test_no_module_outside_the_execution_layer_knows_a_backend_name_or_device_option():
    """Resolve once, at the door: only qml.backends, qml.runtime and qml.sim compare a backend to a
    name or know a device's option keys; everyone else asks the resolved object."""
    import ast
    from pathlib import Path

    root = Path(qml.__file__).parent
    families = {*backends.REGISTRY, "aer", "ibm"}
    options = _device_option_names()
    assert {"estimator", "service", "resilience_level"} <= options  # the grep looks for real keys
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in _EXECUTION_LAYER:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            why = _knows_a_device(node, families, options)
            if why:
                found.append(f"qml/{rel}:{node.lineno}: {why}: {ast.unparse(node)[:80]}")
    assert found == []


def test_the_device_grep_finds_what_it_forbids():
    """The check above fails on the code this issue removed (it is not a test that cannot fail)."""
    import ast

    families, options = {*backends.REGISTRY, "aer", "ibm"}, _device_option_names()
    bad = [
        'if self.backend_name == "auto": pass',
        "if be_name != 'sector': pass",
        'backend.startswith("ibm:")',
        'x = {k: v for k, v in o.items() if k not in ("estimator", "service")}',
        'opts["resilience_level"]',
    ]
    for src in bad:
        assert any(_knows_a_device(n, families, options) for n in ast.walk(ast.parse(src))), src
    fine = ['if optimizer == "auto": pass', 'if schedule == "auto": pass', 'def f(backend="auto"): pass']
    for src in fine:
        assert not any(_knows_a_device(n, families, options) for n in ast.walk(ast.parse(src))), src


class Toy(Backend):
    """A toy backend that only declares itself: everything users see about it comes from these lines."""

    capabilities = frozenset({"expval"})
    description = "a toy backend registered by tests/test_backends.py"
    auto_rank = 99


def test_a_registered_class_shows_up_everywhere_backends_are_listed(registry, capsys):
    """Registry, BACKENDS, auto's candidates, the CLI's list and the docs' table are read from the classes."""
    from qml.cli import main

    assert "toy" not in backends.BACKENDS and "toy" not in _auto.CANDIDATES
    registry.register("toy", Toy)
    assert registry.REGISTRY["toy"].endswith(":Toy") and registry.backend_class("toy") is Toy
    assert backends.BACKENDS["toy"] == Toy.description
    assert _auto.CANDIDATES[-1] == "toy" and _auto.CANDIDATES[:4] == (
        "sector",
        "fast",
        "lightning.qubit",
        "default.qubit",
    )
    assert backends.resolve("auto", n_qubits=2).eligible("expval")[-1] == "toy"
    assert backends.describe()["toy"]["description"] == Toy.description
    assert main(["backends"]) == 0
    listed = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert Toy.description in listed["toy"] and listed["toy"].split()[1] == "expval"
    row = [r for r in backends.table().splitlines() if r.startswith("| `toy` |")]
    assert row == [f"| `toy` | {Toy.description} | expval | no | - | 5. |"]


def test_the_docs_table_of_backends_is_the_registry_s():
    """docs/guides/backends.md carries the output of `qml backends --table` (regenerate it after adding a backend)."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "guides" / "backends.md").read_text(encoding="utf-8")
    assert backends.table() in page


# ------------------------------------------------------------------ a backend travels as its recipe
def test_a_pickled_auto_keeps_its_choice_and_a_fresh_copy_its_samplers_restart(rng):
    import pickle

    layer = qml.QuantumLayer(2, layers=1, backend="auto")
    x = torch.rand(3, 2, generator=rng, dtype=torch.float64)
    y = layer(x)
    chosen = layer.backend.chosen
    copy = pickle.loads(pickle.dumps(layer))
    assert copy.backend is not layer.backend and copy.backend.chosen == chosen and copy.backend.decision is None
    assert torch.allclose(copy(x), y, atol=1e-12, rtol=0)
    d = copy.backend.decision  # taken over, not timed again
    assert d.chosen == chosen and d.timings == {} and "kept from the copy" in d.summary()
    assert f"'auto' -> auto chose {chosen!r}" in repr(copy)
    fresh = layer.backend.fresh()
    assert type(fresh) is type(layer.backend) and fresh.chosen == chosen and fresh.recipe() == layer.backend.recipe()


def test_an_ibm_backend_pickles_without_its_injected_estimator():
    import pickle

    from qiskit.primitives import StatevectorEstimator

    est = StatevectorEstimator()
    be = backends.resolve("ibm:FakeManilaV2", n_qubits=2, shots=100, seed=1, estimator=est, store=False)
    again = pickle.loads(pickle.dumps(be))
    assert type(again) is type(be) and again.name == "ibm:FakeManilaV2" and (again.shots, again.seed) == (100, 1)
    assert again.options.estimator is None and again.options.store is False  # the live object stays behind
    assert be.fresh().options.estimator is est  # an in-process copy keeps it
