"""qml.runtime failures, retries, the job store (resume, concurrency), ``qml jobs``, and token hygiene.

Failures are injected with qml.runtime.FakeRuntimeService, whose successful jobs compute exact
expectation values (StatevectorEstimator); references come from default.qubit backprop.
"""

import multiprocessing as mp
import pickle
import sqlite3

import numpy as np
import pennylane as qp
import pytest
import torch

from qml.backends import context
from qml.circuits import make_spec
from qml.errors import CostLimitError, CredentialsError, JobFailedError
from qml.runtime import FakeRuntimeService, JobStore, ibm_backend
from qml.runtime import cli as jobs_cli
from qml.runtime import credentials as creds
from qml.runtime.store import DONE, FAILED, PENDING

SPEC = dict(n_qubits=2, embedding="angle", ansatz="hardware_efficient", layers=1)
FAST = dict(backoff=0.001, poll_interval=0.001, max_retries=3)


def setup(monkeypatch, failures=(), token="token-for-test", **options):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", token)
    service = FakeRuntimeService(failures=failures)
    monkeypatch.setattr(creds, "connect", lambda c: service)
    spec = make_spec(**SPEC)
    backend = ibm_backend("ibm_brisbane", n_qubits=2, shots=100, seed=1, **{**FAST, **options})
    return service, spec, backend.make_executor(spec)


def data(seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.rand(3, 2, generator=g, dtype=torch.float64),
        torch.rand(1, 2, generator=g, dtype=torch.float64).requires_grad_(True),
    )


def reference(spec, x, w):
    qnode = qp.QNode(spec.qfunc, qp.device("default.qubit", wires=2), interface="torch")
    return torch.stack(list(qnode(x, w.detach())), -1)


def test_network_errors_on_submit_are_retried(monkeypatch):
    service, spec, ex = setup(monkeypatch, ["network_submit:2"])
    x, w = data()
    out = ex(x, w)
    assert service.submit_attempts == 3 and ex.stats["jobs"] == 1
    np.testing.assert_allclose(out.detach(), reference(spec, x, w), atol=1e-10)


def test_network_errors_beyond_the_retry_budget_fail(monkeypatch):
    service, spec, ex = setup(monkeypatch, ["network_submit:9"], max_retries=2)
    x, w = data()
    with pytest.raises(JobFailedError, match="failed after 3 attempts with a network error"):
        ex(x, w)
    assert service.submit_attempts == 3 and ex.stats["jobs"] == 0


def test_network_errors_while_polling_are_retried(monkeypatch):
    service, spec, ex = setup(monkeypatch, ["network_poll:2"])
    x, w = data()
    ex(x, w)
    assert service.submitted[0].polls == 3


@pytest.mark.parametrize(
    "kind, match",
    [
        ("fail", r"job fake-\d+ failed on the service: simulated failure.*qml jobs show"),
        ("cancel", r"job fake-\d+ was cancelled\. Run the step again"),
        ("timeout", r"job fake-\d+ was still RUNNING after .*qml jobs fetch fake-"),
        ("not_found", r"job fake-\d+ was not found by the service"),
    ],
)
def test_failed_jobs_raise_and_no_optimizer_step(monkeypatch, kind, match):
    service, spec, ex = setup(monkeypatch, [kind], timeout=0.05)
    x, w = data()
    before = w.detach().clone()
    opt = torch.optim.SGD([w], lr=0.5)
    with context.step("run-f", 0, 0):
        with pytest.raises(JobFailedError, match=match) as info:
            opt.zero_grad()
            ex(x, w).sum().backward()
            opt.step()
    assert info.value.job_id == service.submitted[0].job_id()
    assert torch.equal(w.detach(), before)  # the failed evaluation never reached the optimizer
    rec = JobStore().get(info.value.job_id)
    assert rec.status == (PENDING if kind == "timeout" else FAILED)
    assert (rec.run_id, rec.epoch, rec.step) == ("run-f", 0, 0)


def test_resume_reuses_finished_job_from_store(monkeypatch):
    service, spec, ex = setup(monkeypatch)
    x, w = data()
    with context.step("run-r", 2, 5):
        first = ex(x, w)
        first.sum().backward()
    grad_first = w.grad.clone()
    # a new process: new service, new backend, same run/step, same parameter values
    service2, _, ex2 = setup(monkeypatch)
    w2 = w.detach().clone().requires_grad_(True)
    with context.step("run-r", 2, 5) as ctx:
        again = ex2(x, w2)
        again.sum().backward()
    assert service2.submit_attempts == 0 and ctx.counters == {"jobs_reused": 1}
    assert torch.equal(first.detach(), again.detach()) and torch.equal(grad_first, w2.grad)
    # other parameter values: a new job
    with context.step("run-r", 2, 5):
        ex2(x, (w2 + 0.1).detach().requires_grad_(True))
    assert service2.submit_attempts == 1


def test_resume_picks_up_pending_job_instead_of_resubmitting(monkeypatch):
    service, spec, ex = setup(monkeypatch, ["timeout"], timeout=0.05)
    x, w = data()
    with context.step("run-p", 0, 3):
        with pytest.raises(JobFailedError, match="still RUNNING"):
            ex(x, w)
    job_id = service.submitted[0].job_id()
    assert JobStore().get(job_id).status == PENDING
    service2, _, ex2 = setup(monkeypatch)
    service2.jobs[job_id] = service.submitted[0]
    service.submitted[0].kind = None  # the job finished while we were away
    with context.step("run-p", 0, 3) as ctx:
        out = ex2(x, w)
    assert service2.submit_attempts == 0 and ctx.counters == {"jobs_reused": 1}
    np.testing.assert_allclose(out.detach(), reference(spec, x, w), atol=1e-10)
    assert JobStore().get(job_id).status == DONE


def test_resume_resubmits_when_pending_job_is_lost(monkeypatch):
    service, spec, ex = setup(monkeypatch, ["timeout"], timeout=0.05)
    x, w = data()
    with context.step("run-l", 0, 0), pytest.raises(JobFailedError):
        ex(x, w)
    lost = service.submitted[0].job_id()
    service2, _, ex2 = setup(monkeypatch)  # does not know the job
    with context.step("run-l", 0, 0) as ctx:
        ex2(x, w)
    assert ctx.counters["jobs"] == 1 and JobStore().get(lost).status == FAILED


def _writer(path, tag, n):
    store = JobStore(path)
    for i in range(n):
        store.add(
            job_id=f"{tag}-{i}",
            backend="ibm:test",
            fingerprint=f"fp{i}",
            pub_shapes=[[2, 5]],
            options={"shots": 10},
            run_id=tag,
            epoch=0,
            step=i,
        )
        store.set_result(f"{tag}-{i}", evs=np.full((2, 5), i, dtype=float))


def test_store_survives_concurrent_writer_processes(tmp_path):
    path = tmp_path / "jobs.sqlite"
    JobStore(path)
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, f"p{k}", 40)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    store = JobStore(path)
    assert store.count() == 120
    assert store.get("p2-39").status == DONE and np.all(store.get("p1-7").result["evs"] == 7)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_jobs_cli_list_show_fetch(monkeypatch, capsys, tmp_path):
    service, spec, ex = setup(monkeypatch, ["timeout"], timeout=0.05)
    x, w = data()
    with context.step("run-cli", 1, 2), pytest.raises(JobFailedError):
        ex(x, w)
    job_id = service.submitted[0].job_id()
    service.submitted[0].kind = None
    parser = __import__("argparse").ArgumentParser()
    jobs_cli.add_subparser(parser.add_subparsers(dest="command"))
    assert jobs_cli.run(parser.parse_args(["jobs", "list", "--no-check"])) == 0  # PENDING kept, marked unchecked
    assert f"[not checked (no IBM Quantum connection); `qml jobs fetch {job_id}`" in capsys.readouterr().out
    assert jobs_cli.run(parser.parse_args(["jobs", "show", job_id])) == 0
    shown = capsys.readouterr().out
    assert "status:      PENDING" in shown and "run:         run-cli  epoch 1  step 2" in shown
    out_file = tmp_path / "r.npz"
    assert jobs_cli.run(parser.parse_args(["jobs", "fetch", job_id, "--out", str(out_file)])) == 0
    assert "evs shape (2, 15)" in capsys.readouterr().out  # 3 samples x (1 + 2 x 2 angles)
    assert JobStore().get(job_id).status == DONE and np.load(out_file)["evs"].shape == (2, 15)
    assert jobs_cli.run(parser.parse_args(["jobs", "show", "nope"])) == 1
    assert "no job 'nope'" in capsys.readouterr().err
    assert jobs_cli.run(parser.parse_args(["jobs", "fetch", "nope"])) == 1
    assert "no job 'nope'" in capsys.readouterr().err


def test_fetch_without_credentials_says_how_to_set_them(monkeypatch, capsys):
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    monkeypatch.setattr(creds, "_saved_accounts", lambda: {})
    parser = __import__("argparse").ArgumentParser()
    jobs_cli.add_subparser(parser.add_subparsers(dest="command"))
    assert jobs_cli.run(parser.parse_args(["jobs", "fetch", "abc"])) == 1
    assert "QISKIT_IBM_TOKEN" in capsys.readouterr().err


def test_token_never_written_logged_or_shown(monkeypatch, tmp_path, capsys, caplog):
    """A fake token must not appear in any output, repr, exception, log, store or checkpoint."""
    import logging

    import qml

    token = "SECRET-token-4f1c9a7e"
    real_connect = creds.connect
    caplog.set_level(logging.DEBUG)
    service, spec, ex = setup(monkeypatch, [None, "fail", "network_submit:1"], token=token, resilience_level=1)
    texts = [repr(ex), repr(ex.backend), str(ex.backend.credentials), repr(ex.backend.options)]
    x, w = data()
    with context.step("run-t", 0, 0):
        ex(x, w).sum().backward()
    with context.step("run-t", 0, 1), pytest.raises(JobFailedError) as info:
        ex(x, w + 0.1)
    texts.append(str(info.value))
    with context.step("run-t", 0, 2):
        ex(x, w + 0.2)
    assert token not in pickle.dumps(ex.backend.credentials).decode("latin-1")
    from qiskit_ibm_runtime import QiskitRuntimeService

    def rejecting(self, **kwargs):
        raise RuntimeError(f"401 Unauthorized for token {kwargs.get('token')}")

    monkeypatch.setattr(QiskitRuntimeService, "__init__", rejecting)
    with pytest.raises(CredentialsError, match="could not connect") as bad:
        real_connect(creds.resolve_credentials())
    texts.append(str(bad.value))
    layer = qml.QuantumLayer(
        2, embedding="angle", ansatz="hardware_efficient", layers=1, backend="ibm:FakeManilaV2", shots=32, seed=0
    )
    qml.fit(
        layer,
        (torch.rand(4, 2, dtype=torch.float64), torch.rand(4, 2, dtype=torch.float64)),
        epochs=1,
        batch_size=4,
        progress=False,
        checkpoint_dir=tmp_path / "ckpt",
    )
    parser = __import__("argparse").ArgumentParser()
    jobs_cli.add_subparser(parser.add_subparsers(dest="command"))
    for job_id in [j.job_id() for j in service.submitted]:
        jobs_cli.run(parser.parse_args(["jobs", "show", job_id]))
    jobs_cli.run(parser.parse_args(["jobs", "list"]))
    captured = capsys.readouterr()
    texts += [captured.out, captured.err, caplog.text]
    assert JobStore().count() >= 4
    for text in texts:
        assert token not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "jobs.sqlite" for p in files) and any("ckpt" in str(p) for p in files)
    for path in files:
        assert token.encode() not in path.read_bytes(), path


def test_fit_resumed_after_a_lost_step_reuses_its_job_and_matches_uninterrupted_run(monkeypatch, tmp_path):
    """Epoch 2's first job times out (as if the process were killed while waiting); fit(resume=True)
    picks the job up from the store instead of resubmitting, and ends with the same weights as a run
    that was never interrupted (the fake service's results are exact, hence deterministic)."""
    import qml

    monkeypatch.setenv("QISKIT_IBM_TOKEN", "token-for-test")
    x = torch.rand(4, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = torch.rand(4, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def train(service, ckpt, resume=False):
        monkeypatch.setattr(creds, "connect", lambda c: service)
        torch.manual_seed(0)
        layer = qml.QuantumLayer(
            2,
            embedding="angle",
            ansatz="hardware_efficient",
            layers=1,
            backend="ibm:ibm_brisbane",
            shots=100,
            seed=0,
            backend_options=dict(FAST, timeout=0.05),
        )
        history = qml.fit(
            layer, (x, y), epochs=2, batch_size=2, progress=False, checkpoint_dir=ckpt, resume=resume, seed=3
        )
        return layer, history

    reference_layer, _ = train(FakeRuntimeService(), tmp_path / "ref")
    first = FakeRuntimeService(failures=[None, None, "timeout"])
    with pytest.raises(JobFailedError, match="still RUNNING"):
        train(first, tmp_path / "run")
    stuck = first.submitted[2]
    stuck.kind = None  # it finished on the service after we stopped waiting
    second = FakeRuntimeService()
    second.jobs[stuck.job_id()] = stuck
    layer, history = train(second, tmp_path / "run", resume=True)
    assert second.submit_attempts == 1  # only epoch 2, step 1 was sent again
    assert history.records[-1]["jobs_reused"] == 1 and history.records[-1]["jobs"] == 1
    assert torch.allclose(layer.weights, reference_layer.weights, atol=1e-12)


def test_only_transient_service_errors_are_retried():
    from qiskit_ibm_runtime.api.exceptions import RequestsApiError

    from qml.runtime.failures import with_retries

    calls = []

    def flaky(code):
        def fn():
            calls.append(code)
            if len(calls) == 1:
                raise RequestsApiError("HTTP error", status_code=code)
            return "ok"

        return fn

    assert with_retries(flaky(503), what="submit", retries=2, backoff=0.001) == "ok" and len(calls) == 2
    calls.clear()
    with pytest.raises(RequestsApiError):  # 401: retrying cannot help
        with_retries(flaky(401), what="submit", retries=2, backoff=0.001)
    assert len(calls) == 1


def test_qml_jobs_estimate_through_main_cli(capsys):
    from qml.cli import main

    assert (
        main(
            [
                "jobs",
                "estimate",
                "--qubits",
                "2",
                "--layers",
                "1",
                "--ansatz",
                "hardware_efficient",
                "--batch-size",
                "4",
                "--steps",
                "10",
                "--shots",
                "100",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("10 jobs, 10 PUBs, 360 circuits (36 per step), 36,000 shots")
    assert main(["jobs", "list"]) == 0 and "no jobs in" in capsys.readouterr().out


# -- energies: one job per optimizer step, in the store, resumable, guarded --------------------------
def energy_setup(monkeypatch, failures=(), **options):
    from qml.chem import Molecule, make_ansatz

    monkeypatch.setenv("QISKIT_IBM_TOKEN", "token-for-test")
    service = FakeRuntimeService(failures=failures)
    monkeypatch.setattr(creds, "connect", lambda c: service)
    mols = [Molecule.from_name("H2", r) for r in (0.6, 0.9)]
    ansatz = make_ansatz(mols[0], "uccsd")
    backend = ibm_backend("ibm_brisbane", n_qubits=4, shots=100, seed=1, **{**FAST, **options})
    return service, [m.hamiltonian() for m in mols], backend.energy_evaluator(ansatz, 4)


def test_energy_steps_are_one_job_each_in_the_store(monkeypatch):
    service, hams, ev = energy_setup(monkeypatch)
    params = torch.tensor([[0.1, -0.2, 0.3], [0.0, 0.1, 0.2]], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([params], lr=0.1)
    for step in range(3):
        with context.step("run-energy", 0, step) as ctx:
            opt.zero_grad()
            ev(params, hams).sum().backward()
            opt.step()
        assert ctx.counters["jobs"] == 1
    assert len(service.submitted) == 3 and all(len(job.pubs) == 1 for job in service.submitted)
    records = JobStore().list(run_id="run-energy")
    assert sorted(r.step for r in records) == [0, 1, 2] and {r.status for r in records} == {DONE}
    # one PUB: (1 + 2 x 12 angle columns) rows x 2 geometries
    assert all(r.pub_shapes == [[25, 2]] and r.backend == "ibm:ibm_brisbane" for r in records)
    assert len({r.fingerprint for r in records}) == 3


def test_energy_resume_reuses_the_finished_job_and_other_hamiltonians_do_not(monkeypatch):
    service, hams, ev = energy_setup(monkeypatch)
    params = torch.tensor([[0.1, -0.2, 0.3], [0.0, 0.1, 0.2]], dtype=torch.float64)
    p1 = params.clone().requires_grad_(True)
    with context.step("run-er", 1, 4):
        first = ev(p1, hams)
        first.sum().backward()
    service2, _, ev2 = energy_setup(monkeypatch)  # a new process after a kill
    p2 = params.clone().requires_grad_(True)
    with context.step("run-er", 1, 4) as ctx:
        again = ev2(p2, hams)
        again.sum().backward()
    assert service2.submit_attempts == 0 and ctx.counters == {"jobs_reused": 1}
    assert torch.equal(first.detach(), again.detach()) and torch.equal(p1.grad, p2.grad)
    with context.step("run-er", 1, 4):
        ev2(params.clone().requires_grad_(True), hams[::-1])  # same step, other Hamiltonians: a new job
    assert service2.submit_attempts == 1


def test_energy_cost_guard_refuses_before_submitting(monkeypatch):
    service, hams, ev = energy_setup(monkeypatch, max_shots=5000)
    params = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        ev(params, hams)  # forward only: 2 circuits x 100 shots = 200
    with pytest.raises(CostLimitError, match="next job needs 5000 shots .* total to 5200, over max_shots=5000"):
        ev(params, hams)  # with gradients: 50 circuits x 100 shots
    assert service.submit_attempts == 1


def test_energy_job_failure_raises_and_leaves_params_untouched(monkeypatch):
    service, hams, ev = energy_setup(monkeypatch, ["fail"])
    params = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    with context.step("run-ef", 0, 0), pytest.raises(JobFailedError, match="failed on the service"):
        ev(params, hams).sum().backward()
    assert params.grad is None and JobStore().list(run_id="run-ef")[0].status == FAILED
