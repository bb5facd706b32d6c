"""PESModel on Qiskit backends, trained with qml.fit: one job per step, standard errors, pre-flight, resume.

References: the same model (same encoder weights) on the exact ``sector`` backend; the job store
(``$QML_HOME/jobs.sqlite``, one per test); Qiskit's StatevectorEstimator as an exact Estimator.
"""

import numpy as np
import pytest
import torch

import qml
from qml.errors import CostLimitError, JobFailedError
from qml.runtime import FakeRuntimeService, JobStore
from qml.runtime import credentials as creds

qiskit_primitives = pytest.importorskip("qiskit.primitives")
R_TRAIN = [0.5, 0.7, 0.9, 1.2, 1.6, 2.0]
FAST = {"backoff": 0.001, "poll_interval": 0.001, "max_retries": 3}


def off_hf(model, seed=0):
    """Move the untrained model away from the HF state (small random last-layer bias and weights)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        last = model.encoder[-1]
        last.bias.copy_(0.2 * torch.randn(last.bias.shape, generator=g, dtype=torch.float64))
        last.weight.copy_(0.05 * torch.randn(last.weight.shape, generator=g, dtype=torch.float64))
    return model


def test_fake_device_training_one_job_per_step_with_standard_errors():
    m = qml.PESModel(
        "H2", backend="ibm:FakeManilaV2", shots=500, seed=1, taper=False, ansatz_options={"reps": 1}
    )  # 4 qubits, 25 rows (uccsd with one layer: 12 angles)
    history = qml.fit(m, R_TRAIN, epochs=2, lr=0.05, batch_size=3, progress=False)
    records = JobStore().list()
    assert len(records) == 4  # 2 epochs x 2 steps, one job each
    assert sorted((r.epoch, r.step) for r in records) == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert all(r.pub_shapes == [[25, 3]] and r.backend == "ibm:FakeManilaV2" for r in records)
    assert [rec["jobs"] for rec in history.records] == [2, 2]
    # 3 geometries x 25 parameter rows x 500 shots per step; the plan said so before the first job
    assert [rec["shots"] for rec in history.records] == [2 * 75 * 500] * 2
    assert history.config["cost_plan"][0].startswith(
        "4 jobs, 4 PUBs, 300 circuits (75 per step), 150,000 shots (5 measurement settings each: 750,000 executed)"
    )
    for rec in history.records:  # stderr of a mean of 3 energies at ~5-15 mHa each (500 shots)
        assert 1e-3 < rec["loss_stderr"] < 2e-2
    e, s = m.energy(1.05, return_std=True)
    last = JobStore().list(limit=1)[0]
    stored = JobStore().get(last.job_id).result["stds"]
    assert s == pytest.approx(float(np.ravel(stored)[0]), rel=1e-12) and 1e-3 < s < 5e-2
    assert isinstance(e, float) and isinstance(m.energy(1.05), float)
    es, ss = m.energy([0.8, 1.4], return_std=True)
    assert es.shape == ss.shape == (2,) and np.all(ss > 0)


def test_exact_estimator_energies_and_encoder_gradients_equal_sector():
    ibm = off_hf(
        qml.PESModel(
            "H2",
            backend="ibm:FakeManilaV2",
            backend_options={"estimator": qiskit_primitives.StatevectorEstimator(), "store": False},
            taper=False,  # the same 4-qubit circuit as the sector reference
        )
    )
    ref = qml.PESModel("H2", backend="sector")
    ref.load_state_dict(ibm.state_dict())
    r = [0.6, 1.1, 1.9]
    losses = []
    for model in (ibm, ref):
        model.zero_grad()
        loss = model.variational_loss(torch.tensor(r, dtype=torch.float64).reshape(-1, 1))
        loss.backward()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(losses[1], abs=1e-8)
    for p, q in zip(ibm.parameters(), ref.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-8)
    e, s = ibm.energy(r, return_std=True)
    np.testing.assert_allclose(e, ref.energy(r), atol=1e-8)
    assert np.all(s == 0)  # the exact estimator reports zero standard errors


def test_sampled_aer_energies_within_five_standard_errors():
    aer = off_hf(qml.PESModel("H2", backend="aer", shots=4000, seed=3, taper=False), seed=2)
    ref = qml.PESModel("H2", backend="sector")
    ref.load_state_dict(aer.state_dict())
    r = [0.6, 0.9, 1.4, 2.2]
    e, s = aer.energy(r, return_std=True)
    exact = ref.energy(r)
    assert np.all(s > 1e-4) and np.all(s < 2e-2)
    assert np.all(np.abs(e - exact) < 5 * s), (e - exact) / s
    e0, s0 = ref.energy(r, return_std=True)
    assert np.all(s0 == 0) and np.array_equal(e0, exact)
    # error bars on the training / held-out points for the shot-based model only
    for model, has_bars in ((aer, True), (ref, False)):
        fig = qml.plot.pes_model(model, [0.7, 1.5], r_grid=np.linspace(0.5, 2.0, 4), r_test=[1.1])
        bars = [c for c in fig.axes[0].containers if type(c).__name__ == "ErrorbarContainer"]
        assert len(bars) == (2 if has_bars else 0) and all(c.has_yerr for c in bars)


def test_preflight_refuses_a_pes_run_over_max_jobs_before_any_job():
    m = qml.PESModel(
        "H2", backend="ibm:FakeManilaV2", shots=4000, seed=1, backend_options={"max_jobs": 3}, taper=False,
        ansatz_options={"reps": 1},
    )  # fmt: skip
    with pytest.raises(
        CostLimitError,
        match=r"this run needs 4 jobs, over max_jobs=3; plan: 4 jobs, 4 PUBs, "
        r"300 circuits \(75 per step\), 1,200,000 shots \(5 measurement settings each: "
        r"6,000,000 executed\)",
    ):
        qml.fit(m, R_TRAIN, epochs=2, batch_size=3, progress=False)
    assert JobStore().count() == 0 and m.backend.usage == {"jobs": 0, "shots": 0}
    small = qml.PESModel(
        "H2", backend="ibm:FakeManilaV2", shots=4000, backend_options={"max_shots": 10**6}, taper=False,
        ansatz_options={"reps": 1},
    )  # fmt: skip
    with pytest.raises(CostLimitError, match=r"needs 1,?200,000 shots|needs 1200000 shots"):
        qml.fit(small, R_TRAIN, epochs=2, batch_size=3, progress=False)
    assert JobStore().count() == 0


def test_killed_pes_run_resumes_without_resubmitting_finished_jobs(monkeypatch, tmp_path):
    """Epoch 2's first job times out (as if the process were killed while waiting); fit(resume=True)
    reuses it from the job store, and the encoder ends equal to an uninterrupted run's (the fake
    service's results are exact, hence deterministic)."""
    monkeypatch.setenv("QISKIT_IBM_TOKEN", "token-for-test")

    def train(service, ckpt, resume=False):
        monkeypatch.setattr(creds, "connect", lambda c: service)
        torch.manual_seed(0)
        model = off_hf(
            qml.PESModel("H2", backend="ibm:ibm_brisbane", shots=100, seed=0, backend_options=dict(FAST, timeout=0.05))
        )
        history = qml.fit(
            model, R_TRAIN, epochs=2, batch_size=3, lr=0.05, progress=False, checkpoint_dir=ckpt, resume=resume, seed=3
        )
        return model, history

    reference, _ = train(FakeRuntimeService(), tmp_path / "ref")
    first = FakeRuntimeService(failures=[None, None, "timeout"])
    with pytest.raises(JobFailedError, match="still RUNNING"):
        train(first, tmp_path / "run")
    assert len(first.submitted) == 3
    stuck = first.submitted[2]
    stuck.kind = None  # it finished on the service after we stopped waiting
    second = FakeRuntimeService()
    second.jobs[stuck.job_id()] = stuck
    model, history = train(second, tmp_path / "run", resume=True)
    assert second.submit_attempts == 1  # only epoch 2, step 1 was sent
    assert history.records[-1]["jobs_reused"] == 1 and history.records[-1]["jobs"] == 1
    for p, q in zip(model.parameters(), reference.parameters()):
        assert torch.allclose(p, q, atol=1e-12)


def test_cli_train_pes_on_a_fake_device_with_shots(tmp_path, capsys):
    import json

    import qml.cli

    out = tmp_path / "run"
    argv = [
        "train",
        "pes",
        "--molecule",
        "H2",
        "--train-r",
        "0.6,1.2",
        "--test-r",
        "0.9",
        "--epochs",
        "2",
        "--backend",
        "ibm:FakeManilaV2",
        "--shots",
        "200",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert qml.cli.main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["backend"], metrics["shots"], metrics["jobs"]) == ("ibm:FakeManilaV2", 200, 2)
    assert 1e-3 < metrics["test_max_stderr_mha"] < 100  # 200 shots: tens of mHa
    history = json.loads((out / "history.json").read_text())
    assert [r["jobs"] for r in history["records"]] == [1, 1] and all(r["loss_stderr"] > 0 for r in history["records"])
    training_jobs = [r for r in JobStore().list() if r.run_id is not None]
    # taper="auto" on a fake device: H2 on 1 qubit; uccsd's default 2 layers (the recipe): 2 angles -> 1 + 2 x 2
    # parameter-shift rows
    assert len(training_jobs) == 2 and all(r.pub_shapes == [[5, 2]] for r in training_jobs)


def test_mitigation_runs_offline_and_reduces_the_noise_bias():
    """H2 at its exact VQE optimum (r = 0.74 A) on FakeManilaV2 noise, 4000 shots, fixed seed: Qiskit
    Runtime's client-side Estimator applies TREX and ZNE in local testing mode. TREX removes part of the
    readout bias (by more than 3 combined standard errors); TREX + ZNE leaves less than a third of the
    raw error (measured: ~380 mHa raw, ~320 TREX, ~40 TREX + ZNE; benchmarks/results/mitigation.md)."""
    from qml.backends import resolve

    mol = qml.chem.Molecule.from_name("H2", 0.74)
    res = qml.chem.vqe(mol, backend="sector", progress=False)
    assert abs(res.error_mha) < 1e-6
    ansatz = qml.chem.make_ansatz(mol, "uccsd")
    params = torch.as_tensor(res.params, dtype=torch.float64).reshape(1, -1)
    errors = {}
    for name, options in {
        "raw": {},
        "trex": {"measure_mitigation": True},
        "trex+zne": {"measure_mitigation": True, "zne": True},
    }.items():
        backend = resolve(
            "ibm:FakeManilaV2", n_qubits=4, shots=4000, seed=3, store=False, resilience_level=0, **options
        )
        ev = backend.energy_evaluator(ansatz, 4)
        with torch.no_grad():
            e = float(ev(params, [mol.hamiltonian()])[0])
        errors[name] = (e - res.exact_energy, float(ev.last_stderr[0]))
    (raw, s_raw), (trex, s_trex), (both, _) = errors["raw"], errors["trex"], errors["trex+zne"]
    assert raw > 0.2  # the noise bias this test is about: hundreds of mHa
    assert raw - trex > 3 * np.hypot(s_raw, s_trex)
    assert abs(both) < raw / 3
