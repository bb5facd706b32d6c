"""Geometries in and out (qml.chem.io), circuits and operators out (qml.export), tables (qml.tables)."""

import numpy as np
import pytest
import torch

import qml
from qml.chem import Molecule
from qml.errors import ConfigurationError, DataError, MissingDependencyError

WATER = """3
water, Angstrom
O  0.000000  0.000000  0.117300
H  0.000000  0.757200 -0.469200
H  0.000000 -0.757200 -0.469200
"""


# ---------------------------------------------------------------------- XYZ / PySCF / ASE
def test_from_xyz_string_and_file_round_trip(tmp_path):
    mol = Molecule.from_xyz(WATER, active_electrons=4, active_orbitals=4)
    assert mol.symbols == ("O", "H", "H")
    np.testing.assert_allclose(mol.coordinates[1], [0.0, 0.7572, -0.4692])
    assert (mol.active_electrons, mol.n_qubits) == (4, 8)
    path = tmp_path / "w.xyz"
    text = mol.to_xyz(path)
    assert path.read_text() == text and text.splitlines()[0] == "3"
    back = Molecule.from_xyz(path)
    assert back.name == "w" and back.symbols == mol.symbols
    np.testing.assert_allclose(back.coordinates, mol.coordinates, atol=1e-10)
    # units, lower-case symbols, atomic numbers; charge and multiplicity are passed through
    bohr = Molecule.from_xyz("2\n\nh 0 0 0\n1 0 0 1.4\n", units="bohr", charge=1, multiplicity=2)
    assert bohr.symbols == ("H", "H") and (bohr.charge, bohr.multiplicity) == (1, 2)
    assert bohr.coordinates[1, 2] == pytest.approx(1.4 * 0.52917721092)


@pytest.mark.parametrize(
    "text, match",
    [
        ("3\nc\nH 0 0 0\nH 0 0 0.74\n", "line 1: the file says 3 atoms but has 2"),
        ("2\nc\nH 0 0 0\nH 0 0 0.74\nH 0 0 2\n", "line 5: the file says 2 atoms but has more"),
        ("2\nc\nH 0 0 0\nXx 0 0 0.74\n", "line 4: unknown element 'Xx'"),
        ("2\nc\nH 0 0 0\nH 0 0 abc\n", "line 4: coordinates must be numbers"),
        ("2\nc\nH 0 0 0\nH 0 0\n", "line 4: expected 'element x y z'"),
        ("two\nc\nH 0 0 0\nH 0 0 0.74\n", "line 1: expected the number of atoms"),
        ("2\nc\nH 0 0 0\nH 0 0 nan\n", "line 4: coordinates must be finite"),
        ("2\nc\nH 0 0 0\nH 0 0 74\n", "units='pm'"),
        ("2\nc\nH 0 0 0\nH 0 0 0.01\n", "lines 3 and 4: atoms 0.01 Angstrom apart"),
    ],
)
def test_from_xyz_bad_files_name_the_line(text, match):
    with pytest.raises(DataError, match=match):
        Molecule.from_xyz(text)


def test_from_xyz_bad_arguments():
    with pytest.raises(FileNotFoundError, match="no XYZ file 'missing.xyz'"):
        Molecule.from_xyz("missing.xyz")
    with pytest.raises(ConfigurationError, match="units must be one of"):
        Molecule.from_xyz(WATER, units="inch")
    with pytest.raises(TypeError, match="source must be a path or an XYZ string"):
        Molecule.from_xyz(3)
    with pytest.raises(ConfigurationError, match="cannot have multiplicity 2"):
        Molecule.from_xyz(WATER, multiplicity=2)
    mol = Molecule.from_xyz(WATER)
    with pytest.raises(ConfigurationError, match="comment must be a single line"):
        mol.to_xyz(comment="two\nlines")
    with pytest.raises(TypeError, match="path must be a file path"):
        mol.to_xyz(3)


def test_from_pyscf_matches_to_pyscf():
    from pyscf import gto

    mole = gto.M(atom="Li 0 0 0; H 0 0 1.6", basis="sto-3g", unit="Angstrom", verbose=0)
    mol = Molecule.from_pyscf(mole, active_electrons=2, active_orbitals=3)
    assert mol.symbols == ("Li", "H") and mol.basis == "sto-3g" and mol.n_qubits == 6
    np.testing.assert_allclose(mol.coordinates, [[0, 0, 0], [0, 0, 1.6]], atol=1e-12)
    # an independent computation: the same RHF energy as PySCF on the Mole we started from
    from pyscf import scf

    assert mol.reference("hf") == pytest.approx(scf.RHF(mole).run(verbose=0).e_tot, abs=1e-8)
    with pytest.raises(TypeError, match="mole must be a pyscf.gto.Mole"):
        Molecule.from_pyscf("LiH")


def test_ase_both_ways():
    ase = pytest.importorskip("ase")
    mol = Molecule.from_xyz(WATER)
    atoms = mol.to_ase()
    assert isinstance(atoms, ase.Atoms) and atoms.get_chemical_symbols() == ["O", "H", "H"]
    np.testing.assert_allclose(atoms.get_positions(), mol.coordinates)
    back = Molecule.from_ase(atoms)
    assert back == mol
    ion = ase.Atoms("H2", positions=[[0, 0, 0], [0, 0, 1.0]], info={"charge": 1, "multiplicity": 2})
    assert (Molecule.from_ase(ion).charge, Molecule.from_ase(ion).multiplicity) == (1, 2)
    with pytest.raises(TypeError, match="atoms must be an ase.Atoms"):
        Molecule.from_ase([("H", 0, 0, 0)])


def test_missing_extra_names_the_pip_command(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_ase(name, *args, **kwargs):
        if name == "ase" or name.startswith("ase."):
            raise ImportError("No module named 'ase'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ase)
    monkeypatch.delitem(__import__("sys").modules, "ase", raising=False)
    with pytest.raises(MissingDependencyError, match=r'pip install "qml-hybrid\[interop\]"'):
        Molecule.from_xyz(WATER).to_ase()


def test_molecule_html():
    html = Molecule.from_xyz(WATER)._repr_html_()
    assert html.count("<tr>") == 4 and "0.757200" in html


# ---------------------------------------------------------------------- circuits and operators out
def _estimate(circuit, operator) -> float:
    from qiskit.primitives import StatevectorEstimator

    return float(StatevectorEstimator().run([(circuit, operator)]).result()[0].data.evs)


@pytest.fixture(scope="module")
def lih_vqe():
    mol = Molecule.from_name("LiH", 1.6)
    return qml.chem.vqe(mol, backend="fast", steps=3, progress=False)


def test_vqe_result_round_trips_through_qiskit_qasm_and_pennylane(lih_vqe):
    import pennylane as qp
    from qiskit import qasm3

    res = lih_vqe
    assert abs(res.energy - res.hf_energy) > 1e-4  # optimised away from HF: the angles matter
    qc, op = res.to_qiskit()
    assert qc.num_parameters == 0 and qc.num_qubits == op.num_qubits == 10
    assert _estimate(qc, op) == pytest.approx(res.energy, abs=1e-10)
    text = res.to_qasm3()
    assert text.startswith("OPENQASM 3.0;")
    assert _estimate(qasm3.loads(text), op) == pytest.approx(res.energy, abs=1e-10)
    tape, h = res.to_pennylane()
    (value,) = qp.execute([tape], qp.device("default.qubit"))
    assert float(value) == pytest.approx(res.energy, abs=1e-10)
    assert h.pauli_rep is not None and len(h.wires) == 10


def test_pes_model_export_logical_and_isa():
    pes = qml.PESModel("H2", backend="fast")
    with torch.no_grad():
        pes.encoder[-1].bias.add_(0.05)  # not the HF state
    for x in (0.6, 1.1):
        qc, op = pes.to_qiskit(x)
        assert _estimate(qc, op) == pytest.approx(pes.energy(x), abs=1e-10)
    isa, isa_op = pes.to_qiskit(0.6, device="FakeManilaV2")
    assert isa.num_qubits == 5 and isa_op.num_qubits == 5
    assert set(isa.count_ops()) <= {"rz", "sx", "x", "cx", "ecr", "measure", "barrier"}
    assert _estimate(isa, isa_op) == pytest.approx(pes.energy(0.6), abs=1e-10)
    tape, _ = pes.to_pennylane(0.6)
    assert tape.measurements[0].obs is not None
    assert "OPENQASM 3.0" in pes.to_qasm3(0.6)
    with pytest.raises(ConfigurationError, match="one geometry at a time"):
        pes.to_qiskit([0.6, 0.7])
    with pytest.raises(qml.errors.BackendError, match="not a fake IBM device name"):
        pes.to_qiskit(0.6, device="ibm_nowhere")
    with pytest.raises(TypeError, match="device must be None"):
        pes.to_qiskit(0.6, device=3)
    with pytest.raises(ConfigurationError, match="optimization_level must be"):
        pes.to_qiskit(0.6, optimization_level=7)
    with pytest.raises(ConfigurationError, match="outside the physical range"):
        pes.to_qasm3(9.0)  # outside the surface's range: refused before any circuit is built


def test_vqe_result_without_its_molecule_refuses(lih_vqe):
    import dataclasses

    copy = dataclasses.replace(lih_vqe)
    with pytest.raises(ConfigurationError, match="does not carry its molecule"):
        copy.to_qiskit()


# ---------------------------------------------------------------------- tables
def test_tables_of_history_vqe_scan_and_predictions(tmp_path, lih_vqe):
    import csv

    pes = qml.PESModel("H2", backend="fast")
    history = qml.fit(pes, [0.6, 0.9], epochs=2, progress=False)
    t = qml.tables.history(history)
    assert t["epoch"] == [1, 2] and t["train_loss"] == history.train_loss
    rows = list(csv.DictReader(history.to_csv(tmp_path / "h.csv").open()))
    assert [float(r["train_loss"]) for r in rows] == history.train_loss  # repr round-trips floats
    assert rows[0]["val_loss"] == ""

    v = qml.tables.vqe(lih_vqe)
    assert v["energy"] == [lih_vqe.energy] and v["backend"] == ["fast"]
    steps = qml.tables.vqe(lih_vqe, steps=True)
    assert steps["energy"] == list(lih_vqe.history)
    assert "<table>" in lih_vqe._repr_html_()

    p = qml.tables.predictions(pes, [0.6, 0.9], exact=True)
    np.testing.assert_allclose(p["energy"], pes.energy([0.6, 0.9]))
    np.testing.assert_allclose(p["exact"], pes.exact_energy([0.6, 0.9]))
    assert p["r"] == [0.6, 0.9] and p["stderr"] == [0.0, 0.0]
    with pytest.raises(TypeError, match="expected a qml.History"):
        qml.tables.history([1, 2])
    with pytest.raises(TypeError, match="path must be a file path"):
        history.to_csv(3)
    with pytest.raises(ConfigurationError, match="does not exist"):
        history.to_csv(tmp_path / "no" / "h.csv")


def test_tables_pandas_scan_jobs_decision(tmp_path):
    pd = pytest.importorskip("pandas")
    from qml.runtime.store import JobStore

    scan = qml.chem.scan("H2", [0.6, 0.9], backend="fast", progress=False)
    df = scan.to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df["r"]) == [0.6, 0.9]
    np.testing.assert_allclose(df["vqe"], scan.column("vqe"))
    assert scan._repr_html_().count("<tr>") == 3

    store = JobStore(tmp_path / "jobs.sqlite")
    store.add(
        job_id="job-1",
        backend="aer:FakeManilaV2",
        run_id="r",
        epoch=1,
        step=0,
        fingerprint="f",
        pub_shapes=[[2]],
        options={},
    )
    jobs = store.to_pandas()
    assert list(jobs["job_id"]) == ["job-1"] and list(jobs["epoch"]) == [1]
    assert "job-1" in store.list()[0]._repr_html_()

    auto = qml.PESModel("H2")  # auto decides on the first batch
    auto.energy(0.7)
    decision = auto.backend.decision
    d = qml.tables.decision(decision)
    assert d["chosen"].count(True) == 1 and d["backend"][d["chosen"].index(True)] == decision.chosen
    assert "auto chose" in decision._repr_html_()
