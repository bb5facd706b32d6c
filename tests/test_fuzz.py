"""Property test (hypothesis) of the public constructors and ``fit``: every rejected argument raises a
ValueError or TypeError (qml's own errors derive from them) whose message names that argument, and
never another exception type. One argument at a time is replaced by an odd value; examples are
derandomized (the same every run) and few, so the file takes seconds."""

import math
import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qml

ODD = [
    None,
    -1,
    0,
    1,
    2,
    1.5,
    -0.5,
    math.nan,
    math.inf,
    "x",
    "",
    True,
    False,
    [],
    [1, 2],
    {},
    (0,),
    object(),
    torch.float16,
    torch.zeros(2),
]
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _call(fn, argument, value):
    """Run ``fn``; on failure it must be ValueError/TypeError naming ``argument``."""
    try:
        return fn()
    except (ValueError, TypeError) as exc:
        names = {argument, argument.replace("_", " ")}
        assert any(re.search(rf"\b{re.escape(n)}\b", str(exc)) for n in names), (
            f"{argument}={value!r}: {type(exc).__name__} does not name the argument: {exc}"
        )
    except Exception as exc:  # noqa: BLE001 - the property under test
        pytest.fail(f"{argument}={value!r} raised {type(exc).__name__}: {exc}")
    return None


HYBRID = dict(
    in_features=3,
    out_features=1,
    n_qubits=2,
    layers=1,
    embedding="angle",
    ansatz="strongly_entangling",
    hidden=4,
    backend="default.qubit",
    shots=None,
    seed=None,
    dtype=torch.float64,
    init_scale=0.1,
)


@FUZZ
@given(argument=st.sampled_from(sorted(HYBRID)), value=st.sampled_from(ODD))
def test_hybrid_model_rejects_odd_arguments_by_name(argument, value):
    _call(lambda: qml.HybridModel(**{**HYBRID, argument: value}), argument, value)


LAYER = dict(
    n_qubits=2,
    n_inputs=None,
    embedding="angle",
    ansatz="hardware_efficient",
    layers=1,
    observables=None,
    weight_shape=None,
    backend="default.qubit",
    shots=None,
    seed=None,
    init_scale=0.1,
    backend_options=None,
)


@FUZZ
@given(argument=st.sampled_from(sorted(LAYER)), value=st.sampled_from(ODD))
def test_quantum_layer_rejects_odd_arguments_by_name(argument, value):
    kwargs = {**LAYER, argument: value}
    n_qubits = kwargs.pop("n_qubits")
    _call(lambda: qml.QuantumLayer(n_qubits, **kwargs), argument, value)


MOLECULE = dict(
    symbols=["H", "H"],
    coordinates=[[0, 0, 0], [0, 0, 0.74]],
    charge=0,
    multiplicity=1,
    basis="sto-3g",
    active_electrons=None,
    active_orbitals=None,
    max_qubits=20,
)


@FUZZ
@given(argument=st.sampled_from(sorted(MOLECULE)), value=st.sampled_from(ODD))
def test_molecule_rejects_odd_arguments_by_name(argument, value):
    kwargs = {**MOLECULE, argument: value}
    args = kwargs.pop("symbols"), kwargs.pop("coordinates")
    _call(lambda: qml.chem.Molecule(*args, **kwargs), argument, value)


PES = dict(molecule="H2", ansatz="uccsd", encoder=(4,), backend="auto")


@settings(FUZZ, max_examples=15)
@given(argument=st.sampled_from(sorted(PES)), value=st.sampled_from(ODD))
def test_pes_model_rejects_odd_arguments_by_name(argument, value):
    kwargs = {**PES, argument: value}
    molecule = kwargs.pop("molecule")
    _call(lambda: qml.PESModel(molecule, **kwargs), argument, value)


FIT = dict(
    epochs=1,
    lr=0.05,
    batch_size=4,
    loss="mse",
    optimizer="adam",
    schedule=None,
    seed=0,
    early_stopping=None,
    min_delta=0.0,
    progress=False,
    run_id=None,
    resume=False,
    overwrite=False,
)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model = qml.HybridModel(2, 1, n_qubits=2, layers=1, hidden=0, backend="default.qubit")
    x = torch.linspace(-1, 1, 8, dtype=torch.float64).reshape(4, 2)
    return model, (x, x.sum(1, keepdim=True))


@settings(FUZZ, max_examples=25)
@given(argument=st.sampled_from(sorted(FIT)), value=st.sampled_from(ODD))
def test_fit_rejects_odd_arguments_by_name(tiny, argument, value):
    model, data = tiny
    kwargs = {**FIT, argument: value}
    if argument == "epochs" and isinstance(value, int) and value > 1:
        kwargs["epochs"] = 1  # keep the property test fast: larger valid values teach nothing here
    _call(lambda: qml.fit(model, data, **kwargs), argument, value)
