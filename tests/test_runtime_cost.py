"""Measurement cost known before paying: grouping, shot budgets, run estimates and the pre-flight check.

References: Hartree-Fock energies from PySCF (``Molecule.hf_energy``), expectation values from
PennyLane's default.qubit, sampled energies from ``qiskit.primitives.BackendEstimatorV2`` on an
ideal ``AerSimulator`` (the estimator local testing mode uses), seeded.
"""

import math

import numpy as np
import pennylane as qp
import pytest
import torch

import qml
from qml.errors import ConfigurationError, CostLimitError, DataError
from qml.runtime.measurement import hamiltonian_op, measurement_plan

qiskit_primitives = pytest.importorskip("qiskit.primitives")


@pytest.fixture(scope="module")
def h2():
    mol = qml.chem.Molecule.from_name("H2", 0.74)
    return mol, mol.hamiltonian()


def pennylane_state(mol, theta):
    ansatz = qml.chem.make_ansatz(mol, "uccsd")

    @qp.qnode(qp.device("default.qubit", wires=mol.n_qubits))
    def state():
        ansatz(np.asarray(theta))
        return qp.state()

    return np.asarray(state())


def to_qiskit_order(psi, n):
    return psi.reshape((2,) * n).transpose(tuple(reversed(range(n)))).reshape(-1)


# -- grouping and wire order ------------------------------------------------------------------
def test_wire_order_hf_energy_matches_pyscf(h2):
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Statevector

    mol, H = h2
    op = hamiltonian_op(H, mol.n_qubits)
    qc = QuantumCircuit(mol.n_qubits)
    for wire, occ in enumerate(mol.hf_state()):
        if occ:
            qc.x(wire)  # qml convention: PennyLane wire i is Qiskit qubit i
    assert mol.hf_state().tolist() == [1, 1, 0, 0]
    assert Statevector(qc).expectation_value(op).real == pytest.approx(mol.hf_energy(), abs=1e-10)


def test_groups_reproduce_energy_and_counts(h2):
    mol, H = h2
    plan = measurement_plan(H, mol.n_qubits)
    op = hamiltonian_op(H, mol.n_qubits)
    assert plan.n_terms == len(op) - 1 == 14  # 15 Jordan-Wigner terms of H2/STO-3G, one is the identity
    assert plan.n_groups == 5 == len(plan.groups)
    for g in plan.groups:  # every group is qubit-wise commuting: one basis per qubit
        for q in range(4):
            letters = {label[q] for label in g.paulis.to_labels()} - {"I"}
            assert len(letters) <= 1
    theta = [0.11, -0.05, 0.02]
    psi = pennylane_state(mol, theta)
    from qiskit.quantum_info import Statevector

    sv = Statevector(to_qiskit_order(psi, 4))
    energy = plan.constant + sum(sv.expectation_value(g).real for g in plan.groups)
    dev = qp.device("default.qubit", wires=4)
    ansatz = qml.chem.make_ansatz(mol, "uccsd")

    @qp.qnode(dev)
    def expval():
        ansatz(np.asarray(theta))
        return qp.expval(H)

    assert energy == pytest.approx(float(expval()), abs=1e-10)
    assert plan.stderr_bound(100) == pytest.approx(math.sqrt(np.sum(plan.group_norms**2) / 100))
    assert plan.shots_for(plan.stderr_bound(100)) == 100
    assert plan.total_shots_optimal(0.01) <= plan.n_groups * plan.shots_for(0.01)
    with pytest.raises(ConfigurationError, match="precision must be a positive number"):
        plan.shots_for(0)
    with pytest.raises(ConfigurationError, match="shots must be a positive integer"):
        plan.stderr_bound(0)
    with pytest.raises(DataError, match="expected 2\\*\\*4 = 16"):
        plan.group_variances(np.ones(8))


def test_sampled_energies_scatter_as_predicted(h2):
    """40 independent 1000-shot estimates of one state: their std is the exact per-state value
    sqrt(sum_g Var(A_g) / S) within 35% (the std of a 40-sample std is ~11%), and below the bound."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter
    from qiskit_aer import AerSimulator

    mol, H = h2
    plan = measurement_plan(H, mol.n_qubits)
    psi = pennylane_state(mol, [0.3, -0.2, 0.1])
    qc = QuantumCircuit(4)
    qc.initialize(to_qiskit_order(psi, 4))
    qc.rz(Parameter("a"), 0)  # identity at a=0: one row per independent estimate
    shots, repeats = 1000, 40
    est = qiskit_primitives.BackendEstimatorV2(backend=AerSimulator(), options={"seed_simulator": 1234})
    op = hamiltonian_op(H, 4)
    res = est.run([(qc, op, np.zeros((repeats, 1)))], precision=1 / math.sqrt(shots)).result()[0]
    evs = np.asarray(res.data.evs)
    assert evs.shape == (repeats,)
    predicted = plan.stderr_at(psi, shots)
    assert np.std(evs, ddof=1) == pytest.approx(predicted, rel=0.35)
    assert np.std(evs, ddof=1) <= plan.stderr_bound(shots)
    exact = float(np.real(np.vdot(psi, qml.chem.Molecule.from_name("H2", 0.74).sparse_hamiltonian() @ psi)))
    assert abs(evs.mean() - exact) < 4 * predicted / math.sqrt(repeats)
    assert plan.shots_for(predicted, state=psi) == pytest.approx(shots, abs=1)


# -- run estimates: PESModel, vqe, scan ---------------------------------------------------------
def test_estimate_pes_vqe_scan_counts():
    from qml.runtime import estimate

    # DoubleExcitation decomposes into 8 RY(theta/8) and each SingleExcitation into 2 RY(theta/2):
    # H2 uccsd (1 double, 2 singles) has K = 8 + 2 * 2 = 12 differentiated angles -> 1 + 2K = 25 rows.
    pes = qml.PESModel("H2", ansatz_options={"reps": 1})  # the counts below are for one uccsd layer
    r = [0.5, 0.7, 0.9, 1.2, 1.6, 2.0]
    est = estimate(pes, geometries=r, epochs=10, shots=4000)
    assert (est.kind, est.n_grad_angles, est.circuits_per_step) == ("pes", 12, 6 * 25)
    assert (est.jobs, est.pubs, est.circuits, est.shots) == (10, 10, 10 * 6 * 25, 10 * 6 * 25 * 4000)
    assert est.settings == 5 and est.executed_shots == 5 * est.shots
    assert est.qpu_seconds == pytest.approx(10 * 2.0 + est.executed_shots * 250e-6)
    two_steps = estimate(pes, geometries=r, epochs=1, batch_size=4, shots=4000)  # batches of 4 and 2
    assert two_steps.jobs == 2
    mol = qml.chem.Molecule.from_name("H2", 0.74)
    vqe = estimate(mol, steps=50, precision=0.01)
    assert (vqe.kind, vqe.jobs, vqe.circuits, vqe.shots) == ("vqe", 50, 50 * 25, 50 * 25 * 10000)
    scan = estimate(
        [qml.chem.Molecule.from_name("H2", d) for d in (0.6, 0.9, 1.2)], steps=20, shots=100, eval_batches=1
    )
    assert (scan.kind, scan.jobs, scan.circuits) == ("scan", 3 * 21, 3 * 20 * 25 + 3)
    with pytest.raises(CostLimitError, match=r"needs 10 jobs, over max_jobs=5; plan: 10 jobs"):
        estimate(pes, geometries=r, epochs=10, shots=4000, max_jobs=5)
    with pytest.raises(ConfigurationError, match="epochs= needs geometries="):
        estimate(pes, epochs=3)


# -- pre-flight in qml.fit -----------------------------------------------------------------------
def hybrid_on_fake(**options):
    return qml.HybridModel(
        2,
        1,
        n_qubits=2,
        layers=1,
        hidden=0,
        ansatz="hardware_efficient",
        backend="ibm:FakeManilaV2",
        shots=64,
        seed=0,
        backend_options={"estimator": qiskit_primitives.StatevectorEstimator(), **options},
    )


def data(n=8):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 2, generator=g, dtype=torch.float64), torch.rand(n, 1, generator=g, dtype=torch.float64)


def test_fit_refuses_a_run_over_max_jobs_before_the_first_job():
    from qml.runtime import JobStore

    model = hybrid_on_fake(max_jobs=3)
    with pytest.raises(CostLimitError, match=r"this run needs 4 jobs, over max_jobs=3; plan: 4 jobs, 4 PUBs"):
        qml.fit(model, data(), epochs=2, batch_size=4, progress=False)
    layer = model.quantum
    assert layer.backend.usage == {"jobs": 0, "shots": 0}
    assert layer._executor is None or layer._executor.stats["jobs"] == 0
    assert JobStore().count() == 0


def test_fit_refuses_over_max_shots_and_plan_matches_what_runs():
    from qml.runtime import JobStore

    model = hybrid_on_fake(max_jobs=4)
    history = qml.fit(model, data(), val=data(4), epochs=1, batch_size=4, progress=False)
    ex = model.quantum.executor()
    rec = history.records[0]
    assert rec["jobs"] == 2 and JobStore().count() == 3  # 2 training steps + 1 validation batch
    (plan,) = history.config["cost_plan"]
    assert plan.startswith("3 jobs, 3 PUBs")
    assert f"{ex.stats['circuits']} circuits" in plan and f"{ex.stats['shots']:,} shots" in plan
    limit = ex.stats["shots"] - 1
    with pytest.raises(CostLimitError, match=f"max_shots={limit}"):
        qml.fit(hybrid_on_fake(max_shots=limit), data(), val=data(4), epochs=1, batch_size=4, progress=False)
    assert JobStore().count() == 3
