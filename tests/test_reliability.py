"""Nothing lost, nothing run twice (issue 13): exact resume with shots, jobs never paid twice, PENDING
rows reconciled, settings and data never mixed on resume, bad input caught by the call that got it."""

import math
import os
import sqlite3
import stat

import numpy as np
import pytest
import torch

import qml
from qml.errors import BackendError, CheckpointError, ConfigurationError, DataError, JobStoreError
from qml.runtime import FakeRuntimeService, JobStore
from qml.runtime import cli as jobs_cli
from qml.runtime import credentials as creds
from qml.runtime.fake import FakeEstimator
from qml.runtime.store import DONE, FAILED, PENDING
from qml.train import checkpoint as ck

FAST = dict(backoff=0.001, poll_interval=0.001, max_retries=2)


def _data(n=8, seed=0, width=3):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, width, generator=g, dtype=torch.float64) * 2 - 1
    return x, torch.sin(x.sum(1, keepdim=True))


def _hybrid(init=0, **kw):
    torch.manual_seed(init)
    return qml.HybridModel(3, 1, n_qubits=2, layers=1, hidden=4, **kw)


def _same(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


# -- exact resume with shot noise ----------------------------------------------------------------
@pytest.mark.parametrize("backend", ["default.qubit", "lightning.qubit", "auto", "aer", "aer:FakeManilaV2"])
def test_resume_with_shots_equals_an_uninterrupted_run(tmp_path, backend):
    """Issue: default.qubit shots=200 seed=1, stop at 2 + resume to 4 differed by 0.0999."""
    kw = dict(lr=0.05, batch_size=4, seed=3, progress=False)
    full = _hybrid(backend=backend, shots=200, seed=1)
    qml.fit(full, _data(), epochs=4, **kw)
    again = _hybrid(backend=backend, shots=200, seed=1)
    qml.fit(again, _data(), epochs=4, **kw)
    assert _same(full, again)  # the sampler is seeded: two uninterrupted runs agree
    qml.fit(_hybrid(backend=backend, shots=200, seed=1), _data(), epochs=2, checkpoint_dir=tmp_path, **kw)
    resumed = _hybrid(backend=backend, shots=200, seed=1)  # a fresh process: a fresh sampler stream
    qml.fit(resumed, _data(), epochs=4, checkpoint_dir=tmp_path, resume=True, **kw)
    diff = max((a - b).abs().max().item() for a, b in zip(full.state_dict().values(), resumed.state_dict().values()))
    assert diff == 0.0


def test_ibm_fake_device_resume_uses_the_uninterrupted_run_s_simulator_seeds(tmp_path):
    """Issue: on ibm:FakeManilaV2 the resumed process reused seeds 4-7 where the run used 8-11."""
    x, y = _data(4, width=2)

    def layer():
        torch.manual_seed(0)
        return qml.QuantumLayer(
            2, embedding="angle", ansatz="hardware_efficient", layers=1, backend="ibm:FakeManilaV2", shots=64, seed=5
        )

    kw = dict(lr=0.1, batch_size=2, seed=3, progress=False)
    full = layer()
    qml.fit(full, (x, y.expand(-1, 2)), epochs=3, checkpoint_dir=tmp_path / "full", **kw)
    assert full.backend.seeds_used == 6  # 2 steps x 3 epochs, one job each
    qml.fit(layer(), (x, y.expand(-1, 2)), epochs=2, checkpoint_dir=tmp_path / "cut", **kw)
    resumed = layer()
    qml.fit(resumed, (x, y.expand(-1, 2)), epochs=3, checkpoint_dir=tmp_path / "cut", resume=True, **kw)
    assert resumed.backend.seeds_used == 6
    assert torch.equal(full.weights, resumed.weights)


# -- jobs never paid twice ---------------------------------------------------------------------------
def _remote_layer(monkeypatch, service):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", "token-for-test")
    monkeypatch.setattr(creds, "connect", lambda c: service)
    torch.manual_seed(0)
    return qml.QuantumLayer(
        2,
        embedding="angle",
        ansatz="hardware_efficient",
        layers=1,
        backend="ibm:ibm_brisbane",
        shots=100,
        seed=0,
        backend_options=FAST,
    )


def _kill_at_submission(monkeypatch, n):
    """Raise KeyboardInterrupt when the n-th job (1-based) is about to be submitted."""
    real = FakeEstimator.run
    count = [0]

    def run(self, pubs, precision=None):
        count[0] += 1
        if count[0] == n:
            raise KeyboardInterrupt("killed")
        return real(self, pubs, precision)

    monkeypatch.setattr(FakeEstimator, "run", run)
    return lambda: monkeypatch.setattr(FakeEstimator, "run", real)


def test_kill_before_the_first_checkpoint_resubmits_no_finished_job(monkeypatch, tmp_path):
    """Issue: a kill in epoch 1 lost the run id (saved only at the end of epoch 1): jobs ran again."""
    x, y = _data(6, width=2)
    data = (x, y.expand(-1, 2))
    kw = dict(lr=0.1, batch_size=2, seed=3, progress=False, epochs=2)
    reference = _remote_layer(monkeypatch, FakeRuntimeService())
    qml.fit(reference, data, checkpoint_dir=tmp_path / "ref", **kw)

    service = FakeRuntimeService()
    restore = _kill_at_submission(monkeypatch, 3)  # epoch 1 has 3 steps: killed before its last job
    with pytest.raises(KeyboardInterrupt):
        qml.fit(_remote_layer(monkeypatch, service), data, checkpoint_dir=tmp_path / "run", **kw)
    restore()
    assert not (tmp_path / "run" / ck.CHECKPOINT).exists() and (tmp_path / "run" / ck.RUN_FILE).exists()
    finished = [j.job_id() for j in service.submitted]
    assert len(finished) == 2
    layer = _remote_layer(monkeypatch, service)
    history = qml.fit(layer, data, checkpoint_dir=tmp_path / "run", resume=True, **kw)
    resubmitted = [j for j in service.submitted[2:] if j.job_id() in finished]
    assert resubmitted == [] and len(service.submitted) == 2 + 4  # 6 steps, 2 reused
    assert history.records[0]["jobs_reused"] == 2 and history.records[0]["jobs"] == 1
    assert torch.equal(layer.weights, reference.weights)
    assert JobStore().list(status=PENDING) == []


def test_kill_while_waiting_on_a_job_reuses_it_and_leaves_no_pending_row(monkeypatch, tmp_path):
    """Killed after submission, before the result was stored: the row is PENDING; resume collects it."""
    from qml.runtime import backend as rb

    x, y = _data(4, width=2)
    data = (x, y.expand(-1, 2))
    kw = dict(lr=0.1, batch_size=2, seed=3, progress=False, epochs=2)
    service = FakeRuntimeService()
    real = rb.wait_for
    calls = [0]

    def dying_wait(job, **k):
        calls[0] += 1
        if calls[0] == 2:
            raise KeyboardInterrupt("killed while waiting")
        return real(job, **k)

    monkeypatch.setattr(rb, "wait_for", dying_wait)
    with pytest.raises(KeyboardInterrupt):
        qml.fit(_remote_layer(monkeypatch, service), data, checkpoint_dir=tmp_path, **kw)
    monkeypatch.setattr(rb, "wait_for", real)
    assert [r.status for r in JobStore().list()] == [PENDING, DONE]
    qml.fit(_remote_layer(monkeypatch, service), data, checkpoint_dir=tmp_path, resume=True, **kw)
    assert len(service.submitted) == 4  # 2 epochs x 2 steps, none twice
    assert len({j.job_id() for j in service.submitted}) == 4
    assert JobStore().list(status=PENDING) == []


def test_local_job_lost_with_its_process_is_marked_on_resume(tmp_path, monkeypatch):
    from qml.runtime import backend as rb

    x, y = _data(4, width=2)
    data = (x, y.expand(-1, 2))

    def layer():
        torch.manual_seed(0)
        return qml.QuantumLayer(
            2, embedding="angle", ansatz="hardware_efficient", layers=1, backend="ibm:FakeManilaV2", shots=32, seed=1
        )

    real = rb.IBMBackend._collect

    def dying(self, *args, **kwargs):
        raise KeyboardInterrupt("killed while the local simulator ran")

    monkeypatch.setattr(rb.IBMBackend, "_collect", dying)
    kw = dict(lr=0.1, batch_size=4, seed=3, progress=False, epochs=1, checkpoint_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        qml.fit(layer(), data, **kw)
    monkeypatch.setattr(rb.IBMBackend, "_collect", real)
    (lost,) = JobStore().list(status=PENDING)
    qml.fit(layer(), data, resume=True, **kw)
    assert JobStore().list(status=PENDING) == []
    rec = JobStore().get(lost.job_id)
    assert rec.status == FAILED and "lost" in rec.error


# -- the job store ---------------------------------------------------------------------------------
def _cli(*argv):
    import argparse

    parser = argparse.ArgumentParser()
    jobs_cli.add_subparser(parser.add_subparsers(dest="command"))
    return jobs_cli.run(parser.parse_args(["jobs", *argv]))


def test_jobs_list_creates_no_file(tmp_path, capsys):
    home = tmp_path / "qml_home"
    assert _cli("list") == 0
    assert "no job store there yet" in capsys.readouterr().out
    assert _cli("show", "abc") == 1
    assert not home.exists() or list(home.iterdir()) == []


def test_jobs_list_reconciles_pending_rows(monkeypatch, capsys):
    store = JobStore()
    common = dict(backend="ibm:ibm_brisbane", fingerprint="f", pub_shapes=[[2, 3]], options={})
    service = FakeRuntimeService()
    done = service.estimator(backend=None, mode="job", options={}).run([_pub()])
    failed = FakeRuntimeService(failures=["fail"])
    bad = failed.estimator(backend=None, mode="job", options={}).run([_pub()])
    service.jobs[bad.job_id()] = bad
    store.add(job_id=done.job_id(), **common)
    store.add(job_id=bad.job_id(), **common)
    store.add(job_id="gone-1", **common)
    store.add(job_id="local-1", **{**common, "backend": "ibm:FakeManilaV2"}, local=True)
    with sqlite3.connect(store.path) as con:  # as if written by a process that has ended
        con.execute("UPDATE jobs SET pid=999999999 WHERE job_id='local-1'")
    monkeypatch.setattr(jobs_cli, "_service", lambda: None)
    assert _cli("list") == 0
    out = capsys.readouterr().out
    assert "not checked (no IBM Quantum connection)" in out and "lost with its process" in out
    assert store.get("local-1").status == FAILED
    assert store.get(done.job_id()).status == PENDING  # unknown without a service: kept, and said so
    monkeypatch.setattr(jobs_cli, "_service", lambda: service)
    assert _cli("list") == 0
    out = capsys.readouterr().out
    assert "result stored (DONE)" in out and "marked FAILED" in out
    assert store.get(done.job_id()).status == DONE and store.get(done.job_id()).result["evs"].shape == (2, 3)
    assert store.get(bad.job_id()).status == FAILED and "maintenance" in store.get(bad.job_id()).error
    assert store.get("gone-1").status == FAILED
    assert store.list(status=PENDING) == []


def _pub():
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

    qc = QuantumCircuit(1)
    qc.h(0)
    return (qc, [[SparsePauliOp("Z")], [SparsePauliOp("X")]], np.zeros((3, 0)))


def test_job_store_is_private_and_a_damaged_one_says_so(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JobStoreError, match="is damaged") as err:
        JobStore(bad)
    assert str(bad) in str(err.value) and "mv " in str(err.value)
    assert "QML_HOME to a writable" not in str(err.value)


# -- settings and data never mixed on resume ------------------------------------------------------
def test_resume_refuses_other_settings_and_data(tmp_path):
    x, y = _data()
    kw = dict(lr=0.05, batch_size=4, seed=3, progress=False, checkpoint_dir=tmp_path)
    qml.fit(_hybrid(backend="default.qubit"), (x, y), epochs=4, schedule="cosine", **kw)
    with pytest.raises(CheckpointError, match=r"epochs.*cosine schedule decays the learning rate"):
        qml.fit(_hybrid(backend="default.qubit"), (x, y), epochs=8, schedule="cosine", resume=True, **kw)
    y2 = y.clone()
    y2[3] += 0.01  # same length, one value changed
    with pytest.raises(CheckpointError, match="training data values changed"):
        qml.fit(_hybrid(backend="default.qubit"), (x, y2), epochs=4, schedule="cosine", resume=True, **kw)
    with pytest.raises(CheckpointError, match="model"):
        qml.fit(
            _hybrid(backend="default.qubit", shots=10, seed=1), (x, y), epochs=4, schedule="cosine", resume=True, **kw
        )
    # without a schedule, more epochs simply continue the run
    folder = tmp_path / "const"
    qml.fit(_hybrid(backend="default.qubit"), (x, y), epochs=2, **{**kw, "checkpoint_dir": folder})
    history = qml.fit(
        _hybrid(backend="default.qubit"), (x, y), epochs=3, resume=True, **{**kw, "checkpoint_dir": folder}
    )
    assert history.epochs == [1, 2, 3]
    with pytest.raises(CheckpointError, match="already trained 3 epochs, more than epochs=2"):
        qml.fit(_hybrid(backend="default.qubit"), (x, y), epochs=2, resume=True, **{**kw, "checkpoint_dir": folder})


def test_resume_with_a_custom_loss_function(tmp_path):
    def loss(a, b):
        return ((a - b) ** 2).mean()

    kw = dict(lr=0.05, batch_size=4, progress=False, checkpoint_dir=tmp_path, loss=loss)
    qml.fit(_hybrid(backend="default.qubit"), _data(), epochs=1, **kw)
    assert qml.fit(_hybrid(backend="default.qubit"), _data(), epochs=2, resume=True, **kw).epochs == [1, 2]


# -- bad input: a clear qml error from the call that received it, before training ----------------
@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(seed="abc"), TypeError, "seed must be a non-negative integer"),
        (dict(seed=1.5), TypeError, "seed must be a non-negative integer"),
        (dict(min_delta="x"), TypeError, "min_delta must be a finite number >= 0"),
        (dict(min_delta=-1), ConfigurationError, "min_delta must be a finite number >= 0"),
        (dict(min_delta=math.nan), ConfigurationError, "min_delta must be a finite number >= 0"),
        (dict(lr=True), TypeError, "lr must be a positive number"),
        (dict(resume="yes"), TypeError, "resume must be True or False"),
    ],
)
def test_bad_fit_arguments_fail_before_training(kwargs, error, message):
    calls = []
    model = _hybrid(backend="default.qubit")
    model.register_forward_hook(lambda *a: calls.append(1))
    with pytest.raises(error, match=message):
        qml.fit(model, _data(), epochs=1, progress=False, **kwargs)
    assert calls == []


def test_targets_of_the_wrong_width_are_a_data_error():
    x, y = _data()
    with pytest.raises(DataError, match=r"targets have 2 column\(s\) but the model has out_features=1"):
        qml.fit(_hybrid(backend="default.qubit"), (x, torch.cat([y, y], 1)), epochs=1, progress=False)


@pytest.mark.parametrize("scale, error", [(math.nan, ConfigurationError), (-1, ConfigurationError), ("x", TypeError)])
def test_init_scale_is_validated(scale, error):
    with pytest.raises(error, match="init_scale must be"):
        qml.HybridModel(3, 1, n_qubits=2, backend="default.qubit", init_scale=scale)


def test_set_normalization_rejects_nan_and_changes_nothing():
    model = _hybrid(backend="default.qubit")
    x, y = _data()
    y[2] = math.nan
    with pytest.raises(DataError, match=r"set_normalization: y contains NaN or inf \(first at row 2\)"):
        model.set_normalization(x, y)
    assert torch.equal(model.y_mean, torch.zeros(1)) and torch.equal(model.x_std, torch.ones(3))


def test_unknown_basis_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="unknown basis 'nope'"):
        qml.chem.Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]], basis="nope")


@pytest.mark.parametrize(
    "name, message",
    [
        ("NoSuchFake", "unknown IBM device 'NoSuchFake'"),
        ("fakemanilav2", r"did you mean 'ibm:FakeManilaV2' \(names are case-sensitive\)"),
    ],
)
def test_unknown_ibm_device_is_named_before_credentials_are_sought(monkeypatch, name, message):
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    monkeypatch.setattr(creds, "_saved_accounts", lambda: {})
    with pytest.raises(BackendError, match=message):
        qml.HybridModel(3, 1, n_qubits=2, backend=f"ibm:{name}")


def test_repr_of_a_half_built_model_does_not_raise():
    model = qml.HybridModel.__new__(qml.HybridModel)
    torch.nn.Module.__init__(model)
    assert repr(model) == "HybridModel(not fully built)"


def test_run_file_written_before_the_first_step(tmp_path):
    seen = []

    class Spy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(3, 1, dtype=torch.float64))

        def forward(self, x):
            seen.append((tmp_path / ck.RUN_FILE).exists())
            return x @ self.w

    qml.fit(Spy(), _data(), epochs=1, batch_size=8, progress=False, checkpoint_dir=tmp_path, run_id="r-1")
    assert seen[0] is True
    assert ck.read_run_file(tmp_path)["run_id"] == "r-1"
    assert os.path.exists(tmp_path / ck.CHECKPOINT)


# -- issue 24: the smaller defects, and a full disk --------------------------------------------------
def test_aer_without_a_device_is_refused_like_ibm():
    with pytest.raises(BackendError, match=r"give a fake device after 'aer:', e.g. 'aer:FakeManilaV2'.*or pass 'aer'"):
        qml.QuantumLayer(2, backend="aer:")
    with pytest.raises(BackendError, match="give a device after 'ibm:'"):
        qml.QuantumLayer(2, backend="ibm:")


def test_builder_whose_arguments_do_not_match_ranges_names_both():
    from qml.chem.surface import surface

    def stretched(r):
        return qml.chem.Molecule(["H", "H"], [[0, 0, 0], [0, 0, r]])

    with pytest.raises(ConfigurationError, match=r"builder stretched\(r\) cannot take 2 coordinate\(s\), but ranges="):
        surface(stretched, ranges=[(0.5, 2.0), (0.5, 2.0)])
    with pytest.raises(ConfigurationError, match=r"builder <lambda>\(r, a\) cannot take 1 coordinate"):
        surface(lambda r, a: stretched(r), ranges=[(0.5, 2.0)])
    assert surface(lambda *q: stretched(q[0]), ranges=[(0.5, 2.0), (0, 1)]).dim == 2  # *args takes any number


def test_set_normalization_leaves_a_constant_column_unscaled_and_says_so():
    model = qml.HybridModel(2, 1, n_qubits=2, layers=1, hidden=0, backend="default.qubit")
    x = torch.tensor([[1.0, 2.0], [1.0, 3.0], [1.0, 4.0]], dtype=torch.float64)
    with pytest.warns(RuntimeWarning, match=r"x feature column\(s\) \[0\] are constant .* left unscaled \(scale 1\)"):
        model.set_normalization(x, x[:, 1:])
    assert model.x_std.tolist() == [1.0, 1.0] and model.x_mean.tolist() == [1.0, 3.0]
    off = torch.tensor([[1.001, 3.0]], dtype=torch.float64)
    assert ((off - model.x_mean) / model.x_std).abs().max().item() == pytest.approx(1e-3)  # not 1e9
    with pytest.warns(RuntimeWarning, match=r"y target column\(s\) \[0\] are constant"):
        model.set_normalization(x[:, 1:].repeat(1, 2), x[:, :1])
    assert model.y_std.tolist() == [1.0]


def test_repr_of_a_layer_whose_construction_failed_part_way():
    class Layer(qml.QuantumLayer):
        def __init__(self):
            try:
                super().__init__(2, ansatz="no_such_ansatz")
            except ConfigurationError:
                pass

    assert repr(Layer()) == "Layer(not fully built)"


def test_disk_full_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    import errno

    from qml.errors import StorageError

    x, y = _data()
    qml.fit(_hybrid(), (x, y), epochs=1, batch_size=4, progress=False, checkpoint_dir=tmp_path)
    before = (tmp_path / ck.CHECKPOINT).read_bytes()
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fdopen(fd, mode="r", *args, **kwargs):
        fh = real_fdopen(fd, mode, *args, **kwargs)
        return Full(fh) if ".checkpoint.pt." in os.readlink(f"/proc/self/fd/{fd}") else fh

    monkeypatch.setattr(ck.os, "fdopen", fdopen)
    with pytest.raises(StorageError, match=r"cannot write .*checkpoint.pt \(No space left on device\); the previous"):
        qml.fit(_hybrid(), (x, y), epochs=2, batch_size=4, progress=False, checkpoint_dir=tmp_path, resume=True)
    monkeypatch.undo()
    assert (tmp_path / ck.CHECKPOINT).read_bytes() == before
    assert ck.load_checkpoint(tmp_path)["epoch"] == 1
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_crafted_history_lease_and_job_store_results_never_run_code(tmp_path):
    import io
    import pickle

    from qml.errors import DataError
    from qml.train.history import History
    from qml.train.lease import Lease

    marker = tmp_path / "PWNED"

    class Marker:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    blob = pickle.dumps(Marker())
    (tmp_path / "history.json").write_bytes(blob)
    with pytest.raises(DataError, match=r"history.json is not a training history written by qml .*nothing was loaded"):
        History.load(tmp_path / "history.json")
    (tmp_path / "lease").write_bytes(blob)
    assert Lease(tmp_path / "lease").read() == {}  # unreadable: treated as held until stale, never run
    store = JobStore(tmp_path / "jobs.sqlite")
    store.add(job_id="j", backend="ibm:FakeManilaV2", fingerprint="f", pub_shapes=[], options={}, run_id="r")
    buf = io.BytesIO()
    np.savez(buf, evs=np.array([Marker()], dtype=object))
    store.set_result("j", evs=np.zeros(2))
    con = sqlite3.connect(store.path)
    con.execute("UPDATE jobs SET result=? WHERE job_id='j'", (buf.getvalue(),))
    con.commit()
    con.close()
    with pytest.raises(JobStoreError, match="holds data other than plain arrays .*nothing in it ran"):
        store.get("j")
    assert not marker.exists()


def test_saved_history_is_verified_on_load(tmp_path):
    import json

    from qml.errors import DataError
    from qml.train.history import History

    x, y = _data()
    history = qml.fit(_hybrid(), (x, y), epochs=2, batch_size=4, progress=False)
    history.save(tmp_path / "h.json")
    assert History.load(tmp_path / "h.json").train_loss == history.train_loss
    doc = json.loads((tmp_path / "h.json").read_text())
    doc["records"][0]["train_loss"] *= 0.5  # an edited value
    (tmp_path / "h.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match="h.json is not a training history written by qml .*does not match its sha256"):
        History.load(tmp_path / "h.json")
    del doc["sha256"]  # a history without a hash (older versions, hand-written) loads as it is
    (tmp_path / "h.json").write_text(json.dumps(doc))
    assert History.load(tmp_path / "h.json").train_loss[0] == history.train_loss[0] * 0.5
