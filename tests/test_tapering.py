"""Qubit tapering (qml.chem.tapering): energies, qubit counts, sectors, surfaces, bad inputs, the compact ansatz.

Reference values: exact diagonalisation of the untapered Hamiltonian in its particle-number/Sz
sector (``Molecule.exact_energy``), and PennyLane's own ``qp.taper`` / ``qp.qchem.optimal_sector`` /
``qp.qchem.taper_hf`` as the independent tapering.
"""

from __future__ import annotations

import functools
import pickle
import warnings

import numpy as np
import pennylane as qp
import pytest

import qml
from qml.chem import Molecule, catalog
from qml.chem import tapering as T
from qml.chem.bank import HamiltonianBank
from qml.chem.surface import Surface, surface
from qml.errors import ConfigurationError

#: Qubits after tapering at the catalog's equilibrium (measured; H2 -> 1 as PennyLane's docs).
TAPERED_QUBITS = {"H2": 1, "HeH+": 2, "LiH": 6, "BeH2": 7, "H2O": 8, "H4": 5, "H4-rect": 4}


@functools.cache
def _equilibrium(name: str) -> Molecule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Molecule.from_name(name, catalog.get(name).r_eq)


@pytest.mark.parametrize("name", catalog.names())
def test_tapered_ground_energy_equals_exact_on_every_catalog_molecule(name):
    mol = _equilibrium(name)
    tap = T.for_molecule(mol)
    entry = T.TaperedEntry(mol, tap)
    assert set(TAPERED_QUBITS) == set(catalog.names())
    assert entry.n_qubits == tap.n_tapered == TAPERED_QUBITS[name]
    assert entry.sparse().shape == (2 ** TAPERED_QUBITS[name],) * 2
    assert abs(entry.tapered_exact_energy() - mol.exact_energy()) < 1e-10
    assert abs(entry.tapered_hf_energy() - mol.hf_energy()) < 1e-10  # the tapered HF state is HF
    assert entry.exact_energy() == mol.exact_energy()  # the untapered target, checked against the sector


def test_h2_generators_sector_and_hf_state_match_pennylane():
    mol = _equilibrium("H2")
    tap = T.for_molecule(mol)
    assert tap.generators == ((0, 1), (0, 2), (0, 3))
    assert tap.paulix_wires == (1, 2, 3) and tap.kept == (0,)
    assert tap.sector == (1, -1, -1)
    H = mol.hamiltonian()
    gens = qp.symmetry_generators(H)
    assert list(qp.qchem.optimal_sector(H, gens, mol.n_electrons)) == list(tap.sector)
    paulix = qp.paulix_ops(gens, mol.n_qubits)
    hf = qp.qchem.taper_hf(gens, paulix, list(tap.sector), mol.n_electrons, mol.n_qubits)
    assert list(hf) == list(tap.hf_state(mol.hf_state())) == [1]


@pytest.mark.parametrize("name", ["H2", "LiH"])
def test_tapered_operator_equals_pennylane_taper(name):
    mol = _equilibrium(name)
    tap = T.for_molecule(mol)
    H = mol.hamiltonian()
    gens = qp.symmetry_generators(H)
    theirs = qp.taper(H, gens, qp.paulix_ops(gens, mol.n_qubits), list(tap.sector))
    theirs = theirs.map_wires({q: j for j, q in enumerate(tap.kept)})
    ours = tap.hamiltonian(H)
    k = tap.n_tapered
    np.testing.assert_allclose(qp.matrix(ours, wire_order=range(k)), qp.matrix(theirs, wire_order=range(k)), atol=1e-10)


def test_sectors_are_those_of_the_reference_and_other_sectors_are_higher():
    mol = _equilibrium("H2")
    tap = T.for_molecule(mol)
    sectors = tap.sectors(mol.n_electrons, 0)
    # 4 determinants: 1100 and 0011 in the HF sector, 1001 and 0110 in the other one
    assert sectors == [(1, -1, -1), (-1, -1, 1)]
    for s in sectors:
        other = T.TaperedEntry(mol, tap.with_sector(s, mol.n_electrons, 0))
        assert other.tapered_exact_energy() >= mol.exact_energy() - 1e-10
    other = tap.with_sector(next(s for s in sectors if s != tap.sector), mol.n_electrons, 0)
    with pytest.raises(T.TaperingError, match="not in the tapered sector"):
        other.hf_state(mol.hf_state())


@pytest.mark.parametrize(
    "sector, match",
    [
        ([1, 1, 1], r"sector \[1, 1, 1\] holds no state with 2 electrons"),
        ([1, -1], "sector must be 3 values of \\+1 or -1"),
        ([1, 0, -1], "sector must be 3 values of \\+1 or -1"),
        ([1, -1, -0.5], "sector must be 3 values"),
        ("ab", "sector must be"),
    ],
)
def test_a_sector_that_does_not_exist_is_a_value_error_naming_sector(sector, match):
    with pytest.raises(ValueError, match=match):
        T.for_molecule(_equilibrium("H2"), sector=sector)


@pytest.mark.parametrize(
    "call",
    [
        lambda: qml.chem.vqe(_equilibrium("H2"), taper="maybe", progress=False),
        lambda: qml.chem.scan("H2", [0.7], taper="maybe", progress=False),
        lambda: qml.PESModel("H2", taper="maybe"),
        lambda: HamiltonianBank(surface("H2"), taper="maybe"),
        lambda: HamiltonianBank(surface("H2"), taper="auto"),
    ],
)
def test_bad_taper_is_a_value_error_naming_taper(call):
    with pytest.raises(ConfigurationError, match="taper must be"):
        call()


def test_surface_uses_the_reference_tapering_at_every_geometry():
    for name, points in (("H2", [0.5, 0.741, 1.6]), ("LiH", [1.4, 1.595, 2.0])):
        bank = HamiltonianBank(surface(name), taper=True)
        assert bank.tapering.reference == f"{name} r = {catalog.get(name).r_eq:g}"
        entries = bank.entries(np.array(points)[:, None])
        for entry in entries:
            assert entry.tapering is bank.tapering and entry.n_qubits == TAPERED_QUBITS[name]
            assert entry.hf_state() == entries[0].hf_state()
            assert bank.tapering.broken_by(entry.molecule.hamiltonian()) == []
            assert abs(entry.tapered_exact_energy() - entry.molecule.exact_energy()) < 1e-10


def _h3_plus(x):
    """Linear H3+: H-H 0.9 A, then the third H at x from the middle one (symmetric at x = 0.9)."""
    return Molecule(["H", "H", "H"], [[0, 0, -0.9], [0, 0, 0], [0, 0, x]], charge=1)


def test_a_symmetry_that_breaks_along_a_surface_names_the_geometry():
    surf = Surface(_h3_plus, [(0.8, 1.4)], name="H3+", reference=(0.9,))
    bank = HamiltonianBank(surf, taper=True)
    assert bank.tapering.reference == "H3+ r = 0.9"
    assert bank[0.9].n_qubits == bank.tapering.n_tapered
    with pytest.raises(T.TaperingError, match=r"found at H3\+ r = 0.9 does not hold at H3\+ r = 1.3"):
        bank[1.3]


def test_wants_taper_auto_is_off_on_exact_and_on_on_sampling_backends():
    exact = qml.backends.resolve("fast", n_qubits=4)
    sampled = qml.backends.resolve("default.qubit", n_qubits=4, shots=100)
    assert T.wants_taper("auto", exact) is False
    assert T.wants_taper("auto", sampled) is True
    assert T.wants_taper(True, exact) is True and T.wants_taper(False, sampled) is False


def test_vqe_default_on_an_exact_backend_is_untapered():
    res = qml.chem.vqe(_equilibrium("H2"), progress=False)
    assert res.tapering is None and res.n_qubits == 4


def test_vqe_compact_tapered_h2_is_one_qubit_without_cnot_and_exact():
    mol = _equilibrium("H2")
    res = qml.chem.vqe(mol, ansatz="compact", taper=True, progress=False)
    assert res.n_qubits == 1 and res.n_params == 1
    assert res.exact_energy == mol.exact_energy()  # compared with the untapered exact energy
    assert abs(res.error_mha) < 1e-6
    ans = qml.chem.make_ansatz(mol, "compact", taper=res.tapering)
    tape = qp.tape.make_qscript(ans)(np.array([0.1]))
    assert [op.name for op in tape.operations] == ["BasisState", "RY"]


def test_tapered_uccsd_gives_the_untapered_uccsd_energy():
    mol = _equilibrium("HeH+")
    tapered = qml.chem.vqe(mol, ansatz="uccsd", taper=True, progress=False, backend="fast")
    plain = qml.chem.vqe(mol, ansatz="uccsd", taper=False, progress=False, backend="fast")
    assert tapered.n_qubits == 2 and plain.n_qubits == 4
    assert abs(tapered.energy - plain.energy) < 1e-9
    assert abs(tapered.error_mha) < 1e-6


def test_compact_lih_reaches_chemical_accuracy_on_six_qubits():
    mol = _equilibrium("LiH")
    res = qml.chem.vqe(mol, ansatz="compact", taper=True, progress=False, backend="fast")
    assert res.n_qubits == 6 and res.n_params == 10
    assert 0 <= res.error_mha < 1.6  # measured 0.33 mHa (benchmarks/results/taper.md)


@pytest.mark.parametrize("word", [{0: "Y"}, {0: "X", 2: "Y"}, {1: "Z", 0: "X", 2: "Y"}, {0: "Y", 1: "Y", 2: "X"}])
def test_pauli_rotation_equals_pennylane_pauli_rot(word):
    from qml.circuits import pauli_rotation
    from qml.circuits.compact import rotation_cx

    wires = list(word)
    tape = qp.tape.make_qscript(pauli_rotation)(0.37, word)
    ours = qp.matrix(tape, wire_order=range(3))
    theirs = qp.matrix(qp.PauliRot(0.37, "".join(word.values()), wires=wires), wire_order=range(3))
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert sum(op.name == "CNOT" for op in tape.operations) == rotation_cx(word) == 2 * (len(word) - 1)


def test_pes_model_tapered_starts_at_hf_and_pickles():
    pes = qml.PESModel("H2", taper=True)
    assert pes.n_qubits == 1 and pes.tapering.sector == (1, -1, -1)
    x = [0.6, 1.2]
    np.testing.assert_allclose(pes.energy(x), pes.hf_energy(x), atol=1e-10)  # zero last layer: HF
    copy = pickle.loads(pickle.dumps(pes))
    assert copy.bank.tapering == pes.tapering and copy.n_qubits == 1
    np.testing.assert_allclose(copy.energy(x), pes.energy(x), atol=1e-12)
    assert qml.PESModel("H2").n_qubits == 4  # auto on the default exact backend: untapered


def test_scan_tapered_keeps_one_tapering_and_matches_exact():
    res = qml.chem.scan("H2", [0.6, 0.741, 1.0], ansatz="compact", taper=True, progress=False, backend="fast")
    assert [p.params.shape for p in res] == [(1,)] * 3
    assert res.max_error_mha < 1e-6


# -- circuits sized for the device: ISA numbers in the pre-flight estimate, error-aware layout ----------------
def test_preflight_estimate_reports_tapered_width_and_isa_two_qubit_gates():
    from qml.runtime import estimate

    backend = qml.backends.resolve("ibm:FakeManilaV2", n_qubits=4)
    mol = _equilibrium("H2")
    tapered = estimate(mol, backend, steps=2, ansatz="compact")  # taper="auto": the backend samples
    assert tapered.n_qubits == 1 and tapered.isa["two_qubit_gates"] == 0 and tapered.isa["depth"] >= 1
    plain = estimate(mol, backend, steps=2, ansatz="uccsd", taper=False)
    assert plain.n_qubits == 4 and plain.isa["two_qubit_gates"] >= 18  # 18 CNOT before routing
    assert "two-qubit gates, depth" in str(plain) and 0 < plain.isa["estimated_error"] < 1


def test_circuit_error_is_the_product_of_reported_errors_and_best_isa_takes_the_lowest():
    from qiskit import QuantumCircuit
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    from qml.runtime import layout

    device = FakeManilaV2()
    target = device.target
    isa = QuantumCircuit(device.num_qubits)
    isa.x(0)
    isa.cx(0, 1)
    expected = 1 - (
        (1 - target["x"][(0,)].error)
        * (1 - target["cx"][(0, 1)].error)
        * (1 - target["measure"][(0,)].error)
        * (1 - target["measure"][(1,)].error)
    )
    assert layout.circuit_error(isa, target) == pytest.approx(expected, rel=1e-12)
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(0, 2)
    qc.cx(1, 2)
    best, info = layout.best_isa(qc, device, seed=0)
    assert len(info["candidates"]) == layout.CANDIDATES
    assert info["estimated_error"] == min(c[1] for c in info["candidates"])
    assert info["estimated_error"] == pytest.approx(layout.circuit_error(best, target))


def test_a_tapered_result_exports_the_tapered_operator():
    res = qml.chem.vqe(_equilibrium("H2"), ansatz="compact", taper=True, progress=False, backend="fast")
    circuit, op = res.to_qiskit()
    assert circuit.num_qubits == op.num_qubits == 1
    from qiskit.quantum_info import Statevector

    assert Statevector(circuit).expectation_value(op).real == pytest.approx(res.energy, abs=1e-9)
