"""The circuit catalog: names, shapes, validation."""

import pennylane as qp
import pytest
import torch

from qml.circuits import ANSATZES, EMBEDDINGS, make_spec
from qml.errors import ConfigurationError


@pytest.mark.parametrize(
    "ansatz,shape",
    [
        ("hardware_efficient", (3, 4)),
        ("strongly_entangling", (3, 4, 3)),
        ("basic_entangler", (3, 4)),
        ("compact", (3, 4)),
    ],
)
def test_weight_shapes(ansatz, shape):
    assert make_spec(n_qubits=4, layers=3, ansatz=ansatz).weight_shape == shape


@pytest.mark.parametrize("embedding,n_inputs", [("angle", 3), ("amplitude", 16), ("iqp", 3), ("reupload", 3)])
def test_default_inputs(embedding, n_inputs):
    n_qubits = 4 if embedding == "amplitude" else 3
    assert make_spec(n_qubits=n_qubits, embedding=embedding).n_inputs == n_inputs


def test_unknown_names_list_valid_choices():
    with pytest.raises(ConfigurationError, match="valid choices are: 'amplitude', 'angle', 'iqp', 'reupload'"):
        make_spec(n_qubits=2, embedding="angel")
    with pytest.raises(
        ConfigurationError, match="'basic_entangler', 'compact', 'hardware_efficient', 'strongly_entangling'"
    ):
        make_spec(n_qubits=2, ansatz="nope")
    assert set(EMBEDDINGS) == {"angle", "amplitude", "iqp", "reupload"}
    assert set(ANSATZES) == {"hardware_efficient", "strongly_entangling", "basic_entangler", "compact"}


def test_too_many_features_and_bad_sizes():
    with pytest.raises(ConfigurationError, match="at most 2 features"):
        make_spec(n_qubits=2, n_inputs=3)
    with pytest.raises(ConfigurationError, match="exactly 3 features"):
        make_spec(n_qubits=3, embedding="iqp", n_inputs=2)
    with pytest.raises(ConfigurationError, match="n_qubits must be >= 1"):
        make_spec(n_qubits=0)
    with pytest.raises(TypeError, match="n_qubits must be a positive integer"):
        make_spec(n_qubits=2.5)
    with pytest.raises(ConfigurationError, match="layers must be >= 1"):
        make_spec(n_qubits=2, layers=0)


def test_hardware_efficient_is_ry_and_cz_ladder():
    spec = make_spec(n_qubits=3, layers=2, ansatz="hardware_efficient")
    tape = spec.tape(torch.zeros(3), torch.zeros(2, 3))
    names = [op.name for op in tape.operations[1:]]
    assert names == ["RY"] * 3 + ["CZ"] * 2 + ["RY"] * 3 + ["CZ"] * 2
    assert [tuple(op.wires) for op in tape.operations if op.name == "CZ"][:2] == [(0, 1), (1, 2)]


def test_reupload_repeats_the_embedding_per_layer():
    spec = make_spec(n_qubits=2, layers=3, embedding="reupload", ansatz="basic_entangler")
    tape = spec.tape()
    assert sum(op.name == "AngleEmbedding" for op in tape.operations) == 2 * 3


def test_observables_validation():
    spec = make_spec(n_qubits=2, observables=[qp.PauliZ(0) @ qp.PauliZ(1)])
    assert spec.n_outputs == 1
    with pytest.raises(ConfigurationError, match="outside 0..1"):
        make_spec(n_qubits=2, observables=[qp.PauliX(5)])
    with pytest.raises(ConfigurationError, match="not a PennyLane operator"):
        make_spec(n_qubits=2, observables=["Z0"])


def _my_circuit(inputs, weights):
    qp.RX(inputs[..., 0], wires=0)
    qp.RY(weights[0], wires=0)
    qp.CNOT(wires=[0, 1])
    qp.RY(weights[1], wires=1)
    return [qp.expval(qp.PauliZ(1))]


def test_custom_circuit_needs_weight_shape():
    spec = make_spec(n_qubits=2, n_inputs=1, circuit=_my_circuit, weight_shape=(2,))
    assert spec.n_outputs == 1 and spec.weight_shape == (2,)
    with pytest.raises(ConfigurationError, match="needs weight_shape"):
        make_spec(n_qubits=2, n_inputs=1, circuit=_my_circuit)
    with pytest.raises(ConfigurationError, match="failed when traced"):
        make_spec(n_qubits=2, n_inputs=1, circuit=_my_circuit, weight_shape=(1,))
