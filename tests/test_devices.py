"""``device=`` of HybridModel, PESModel and vqe, checked without a GPU.

torch's ``meta`` device stands in for ``cuda``: its tensors have shapes, dtypes and a device but
no values, so a forward pass on it proves that every parameter, buffer, input, Hamiltonian block
and simulator state follows the model's device (a tensor left on the CPU raises). Values are
checked with ``device="cpu"`` given explicitly, against the default and an independent number.
"""

from __future__ import annotations

import pytest
import torch

import qml
from qml.chem import Molecule, make_ansatz
from qml.chem.vqe import energy_function
from qml.errors import ConfigurationError
from qml.inputs import check_device


@pytest.mark.parametrize("backend", ["fast", "sector"])
def test_pes_model_on_meta_keeps_everything_on_the_device(backend):
    model = qml.PESModel("H2", backend=backend, encoder=(4,), device="meta")
    assert {p.device.type for p in model.parameters()} | {b.device.type for b in model.buffers()} == {"meta"}
    e = model(torch.tensor([0.7, 0.9, 1.1]))
    assert (e.shape, e.dtype, e.device.type) == ((3,), torch.float64, "meta")
    assert model.params([0.7]).shape == (1, model.ansatz.n_params)


@pytest.mark.parametrize("backend", ["fast", "sector"])
def test_pes_model_on_cpu_given_explicitly_equals_the_default(backend):
    torch.manual_seed(3)
    a = qml.PESModel("H2", backend=backend, encoder=(4,))
    torch.manual_seed(3)
    b = qml.PESModel("H2", backend=backend, encoder=(4,), device="cpu")
    x = [0.6, 0.74, 1.3]
    assert (a.energy(x) == b.energy(x)).all()
    assert b.energy(0.74) == pytest.approx(b.hf_energy(0.74), abs=1e-12)  # untrained uccsd: the HF state


def test_hybrid_model_on_meta_and_on_cpu():
    meta = qml.HybridModel(2, 1, n_qubits=2, layers=1, hidden=4, backend="fast", device="meta")
    assert {p.device.type for p in meta.parameters()} == {"meta"} and meta.x_mean.device.type == "meta"
    y = meta(torch.zeros(5, 2))  # a CPU batch is moved to the model's device; no value checks on meta
    assert (y.shape, y.dtype, y.device.type) == ((5, 1), torch.float64, "meta")
    torch.manual_seed(0)
    a = qml.HybridModel(2, 1, n_qubits=2, layers=1, hidden=4, backend="fast")
    torch.manual_seed(0)
    b = qml.HybridModel(2, 1, n_qubits=2, layers=1, hidden=4, backend="fast", device="cpu")
    x = torch.rand(4, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert torch.equal(a(x), b(x))
    with pytest.raises(qml.errors.DataError, match="NaN or inf"):
        b(torch.tensor([[float("nan"), 0.0]]))  # value checks stay on for real tensors


@pytest.mark.parametrize("backend", ["fast", "sector"])
def test_vqe_energy_on_meta_and_vqe_on_cpu(backend):
    mol = Molecule.from_name("H2", 0.74)
    ansatz = make_ansatz(mol, "uccsd")
    f, _ = energy_function(mol, ansatz, backend, device="meta")
    e = f(torch.zeros(ansatz.n_params))
    assert (e.shape, e.dtype, e.device.type) == ((), torch.float64, "meta")
    res = qml.chem.vqe(mol, backend=backend, device="cpu", progress=False)
    assert res.params.shape == ansatz.weight_shape
    assert res.energy == pytest.approx(mol.exact_energy(), abs=1e-6)  # H2/STO-3G: uccsd is exact
    with pytest.raises(ConfigurationError, match="'meta' device hold no values"):
        qml.chem.vqe(mol, backend=backend, device="meta", progress=False)


def test_device_arguments_are_validated_before_any_work():
    assert check_device(None) == torch.device("cpu") and check_device("meta").type == "meta"
    with pytest.raises(TypeError, match="device must be a string such as 'cpu' or 'cuda'"):
        qml.HybridModel(2, device=3)
    with pytest.raises(ConfigurationError, match="unknown torch device 'gpu'"):
        qml.PESModel("H2", backend="fast", device="gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigurationError, match="torch sees no GPU"):
            qml.chem.vqe(Molecule.from_name("H2", 0.74), backend="fast", device="cuda", progress=False)
