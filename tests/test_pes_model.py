"""PESModel: held-out chemical accuracy on H2, variational bound, batch = per-sample, save/load, bad input."""

import io

import numpy as np
import pytest
import torch

import qml
from qml.errors import BackendError, ConfigurationError, DataError

TRAIN = [0.5, 0.7, 0.9, 1.2, 1.5, 1.9, 2.3]
TEST = [0.6, 0.8, 1.05, 1.35, 1.7, 2.1]  # inside the training range, never trained on


@pytest.fixture(scope="module")
def trained_h2():
    torch.manual_seed(0)
    model = qml.PESModel("H2")  # auto: uccsd is simulated inside its particle-number/Sz sector
    history = qml.fit(model, TRAIN, progress=False)  # the default recipe: full-batch L-BFGS
    assert (history.config["optimizer"], history.config["epochs"]) == ("lbfgs", 60)
    return model, history


def test_h2_held_out_geometries_within_chemical_accuracy(trained_h2):
    model, history = trained_h2
    assert history.train_loss[-1] < history.train_loss[0]  # the mean energy went down
    errors = model.errors_mha(TEST)
    assert errors.shape == (len(TEST),)
    assert np.all(np.abs(errors) < 1.6), errors
    # Compare to an independent reference: PySCF FCI (H2 has no active space).
    from qml.chem import Molecule

    fci = np.array([Molecule.from_name("H2", r).reference("fci") for r in TEST])
    assert np.all(np.abs(model.energy(TEST) - fci) * 1000 < 1.6)


def test_variational_bound(trained_h2):
    model, _ = trained_h2
    r = np.linspace(0.45, 2.4, 9)
    assert np.all(model.energy(r) >= model.exact_energy(r) - 1e-9)
    # An untrained model is Hartree-Fock at every geometry (encoder output starts at zero).
    fresh = qml.PESModel("H2")
    assert np.allclose(fresh.energy(r), fresh.hf_energy(r), atol=1e-10)


def test_batch_equals_per_sample(trained_h2):
    model, _ = trained_h2
    r = [0.55, 0.95, 1.45, 2.05]
    batch = model.energy(r)
    single = np.array([model.energy(v) for v in r])
    assert np.allclose(batch, single, atol=1e-10, rtol=0)
    states = model.state(r)
    assert states.shape == (4, 2**model.n_qubits)
    assert torch.allclose(states.abs().pow(2).sum(1), torch.ones(4, dtype=torch.float64), atol=1e-12)
    assert model.params(r).shape == (4, model.ansatz.n_params)


@pytest.mark.parametrize("backend", ["fast", "default.qubit", "lightning.qubit"])
def test_sector_simulation_agrees_with_state_vector_devices(trained_h2, backend):
    model, _ = trained_h2
    assert model.chosen_backend == "sector" and "auto chose 'sector'" in repr(model)
    other = qml.PESModel("H2", backend=backend)
    other.load_state_dict(model.state_dict())
    r = [0.6, 1.3]
    assert np.allclose(other.energy(r), model.energy(r), atol=1e-10, rtol=0)
    # gradients of the mean energy with respect to the encoder agree too
    g_model = torch.autograd.grad(model.variational_loss(r), list(model.encoder.parameters()))
    g_other = torch.autograd.grad(other.variational_loss(r), list(other.encoder.parameters()))
    for a, b in zip(g_model, g_other):
        assert torch.allclose(a, b, atol=1e-10, rtol=0)
    if "state" in other.backend.capabilities:
        assert torch.allclose(other.state(r), model.state(r), atol=1e-10)


def test_sector_circuit_equals_pennylane_state_for_lih():
    # LiH (2e, 5o): 10 qubits, 25 sector amplitudes; random angles, against default.qubit's full state.
    import pennylane as qp

    from qml.chem import Molecule, make_ansatz
    from qml.chem.hamiltonian import sector_indices
    from qml.sim.sector import SectorCircuit

    mol = Molecule.from_name("LiH", 1.6)
    ansatz = make_ansatz(mol, "uccsd", reps=2)
    circuit = SectorCircuit(
        ansatz, ansatz.n_params, mol.n_qubits, sector_indices(mol.n_qubits, mol.n_electrons, mol.two_sz)
    )
    params = 0.4 * torch.randn(3, ansatz.n_params, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    @qp.qnode(qp.device("default.qubit", wires=mol.n_qubits), interface="torch")
    def state(p):
        ansatz(p)
        return qp.state()

    assert circuit.dim == 25
    assert torch.allclose(circuit.full_state(circuit(params)), state(params), atol=1e-12)


def test_save_and_load_reproduce_energies(trained_h2):
    model, _ = trained_h2
    r = [0.65, 1.25, 1.95]
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    assert np.array_equal(loaded.energy(r), model.energy(r))
    fresh = qml.PESModel("H2")
    fresh.load_state_dict(model.state_dict())
    assert np.array_equal(fresh.energy(r), model.energy(r))


def test_bad_input():
    with pytest.raises(ConfigurationError, match="valid"):
        qml.PESModel("XeF6")
    model = qml.PESModel("H2", backend="fast")
    with pytest.raises(ConfigurationError, match="outside the physical range"):
        model.energy(0.05)
    with pytest.raises(DataError, match="has one coordinate"):
        model.energy([[0.7, 0.8], [0.9, 1.0]])
    with pytest.raises(DataError, match="no geometries"):
        qml.fit(model, [], epochs=1, progress=False)
    with pytest.raises(DataError, match="NaN"):
        model.energy([0.7, float("nan")])
    with pytest.raises(BackendError, match="computes exact expectation values only"):
        qml.PESModel("H2", backend="fast", shots=100)
    with pytest.raises(BackendError, match="particle-conserving"):  # at construction, not at the first batch
        qml.PESModel("H2", ansatz="hardware_efficient", backend="sector")
    with pytest.raises(
        BackendError, match="cannot compute the state vector itself; backends that can: 'auto', 'fast', 'default.qubit'"
    ):
        qml.PESModel("H2", backend="lightning.qubit").state(0.7)
    with pytest.raises(ConfigurationError, match="builder needs ranges"):
        qml.PESModel(_h2_shifted)


def _h2_shifted(r, shift):
    """H2 along z with bond length r, translated by shift (the energy does not depend on it)."""
    from qml.chem import Molecule

    return Molecule(["H", "H"], [[0.0, 0.0, shift], [0.0, 0.0, shift + r]])


def test_builder_surface_with_two_coordinates():
    model = qml.PESModel(_h2_shifted, ranges=[(0.5, 1.5), (-0.5, 0.5)], backend="sector")
    assert model.encoder[0].in_features == 2 and model.surface.dim == 2
    x = [(0.74, -0.3), (0.74, 0.4), (1.1, 0.0)]
    exact = model.exact_energy(x)
    assert exact.shape == (3,) and exact[0] == pytest.approx(exact[1], abs=1e-9)  # translation invariance
    from qml.chem import Molecule

    assert exact[2] == pytest.approx(Molecule.from_name("H2", 1.1).exact_energy(), abs=1e-9)
    assert np.allclose(model.energy(x), model.hf_energy(x), atol=1e-10)  # untrained: HF everywhere
    assert model.params(x).shape == (3, model.ansatz.n_params) and model.energies(x).shape == (3,)
    with pytest.raises(DataError, match="has 2 coordinates"):
        model.energy([0.7, 0.8, 0.9])


# ------------------------------------------------------------------ one answer per geometry
ORDER_TRAIN = [0.55, 0.9, 1.4, 2.1]
ORDER_TEST = [2.4, 0.62, 1.17, 1.83, 0.48]  # unsorted on purpose; 0.48 and 2.4 lie outside the training points


def _h2_bond(r):
    from qml.chem import Molecule

    return Molecule(["H", "H"], [[0.0, 0.0, 0.0], [0.0, 0.0, r]])


def _order_model(kind):
    # an explicit backend: `auto` picks the fastest simulator by timing, and two exact simulators
    # agree only to round-off, which L-BFGS would carry into the weights
    if kind == "catalog":
        return qml.PESModel("H2", backend="sector")
    return qml.PESModel(_h2_bond, ranges=[(0.4, 2.6)], backend="sector")


def _trained_energies(kind, prepare_first=None):
    """Train a fresh model (fresh orbital chains); energies of ORDER_TEST one at a time, in ORDER_TEST order."""
    from qml.chem import orbitals

    orbitals.clear_cache()
    torch.manual_seed(0)
    model = _order_model(kind)
    if prepare_first is not None:
        model.prepare(prepare_first)
    qml.fit(model, ORDER_TRAIN, epochs=4, progress=False)
    return model, np.array([model.energy(r) for r in ORDER_TEST])


@pytest.mark.parametrize("kind", ["catalog", "builder"])
def test_energies_do_not_depend_on_preparation_or_query_order(kind):
    model, after = _trained_energies(kind)  # test points prepared after training, queried one at a time
    _, before = _trained_energies(kind, prepare_first=ORDER_TEST[::-1])  # prepared before training, reversed
    assert np.abs(after - before).max() < 1e-10
    batch = model.energy(ORDER_TEST)  # one batch
    reverse = model.energy(ORDER_TEST[::-1])[::-1]
    assert np.abs(batch - after).max() < 1e-10 and np.abs(reverse - after).max() < 1e-10
    assert np.all(np.abs(model.errors_mha(ORDER_TEST[1:4])) < 1.6)  # trained (4 L-BFGS epochs): not just HF


def test_energies_equal_in_a_fresh_process_from_a_checkpoint(tmp_path):
    import json
    import subprocess
    import sys

    from qml.chem import orbitals

    orbitals.clear_cache()
    torch.manual_seed(0)
    model = qml.PESModel(_h2_bond, ranges=[(0.4, 2.6)], backend="sector")
    qml.fit(model, ORDER_TRAIN, epochs=4, progress=False, checkpoint_dir=tmp_path / "run")
    here = model.energy(ORDER_TEST)
    code = f"""
import json, qml
from qml.chem import Molecule
def bond(r):
    return Molecule(["H", "H"], [[0.0, 0.0, 0.0], [0.0, 0.0, r]])
model = qml.PESModel(bond, ranges=[(0.4, 2.6)], backend="sector")
model.load_state_dict(qml.train.load_checkpoint({str(tmp_path / "run")!r})["model_state"])
print(json.dumps(model.energy({ORDER_TEST!r}).tolist()))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    there = np.array(json.loads(out.stdout.strip().splitlines()[-1]))
    assert there.shape == here.shape and np.abs(there - here).max() < 1e-10


def test_tracked_orbitals_do_not_depend_on_the_order_of_requests():
    from qml.chem.surface import Surface

    def lih(r):
        from qml.chem import Molecule

        return Molecule(["Li", "H"], [[0.0, 0.0, 0.0], [0.0, 0.0, r]])  # all 6 orbitals (a pi pair among them)

    points = [2.45, 1.1, 1.9, 1.35]  # 1.9 lies on the chain's grid (reference 1.8, step 1/30): reached both ways
    forward = Surface(lih, [(1.0, 2.6)])
    a = [forward.tracker.orbitals((p,)) for p in points]
    backward = Surface(lih, [(1.0, 2.6)])
    b = [backward.tracker.orbitals((p,)) for p in points[::-1]][::-1]
    for ca, cb in zip(a, b):
        assert ca.shape == (6, 6) and np.array_equal(ca, cb)  # bit for bit (the grid is canonical)
