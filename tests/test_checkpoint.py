"""Checkpoint files: code-free loading, integrity (SHA-256 header), one backup generation, leftovers,
permissions, kills inside a write (issue 13, items 1, 2 and 7)."""

import io
import os
import stat

import pytest
import torch

import qml
from qml.errors import CheckpointError, ConfigurationError
from qml.train import checkpoint as ck
from qml.train import load_checkpoint


def _data(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, generator=g, dtype=torch.float64) * 2 - 1
    return x, torch.sin(x.sum(1, keepdim=True))


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    kw.setdefault("backend", "default.qubit")
    return qml.HybridModel(3, 1, n_qubits=2, layers=1, hidden=4, **kw)


def _fit(model, folder, epochs, **kw):
    return qml.fit(
        model, _data(), epochs=epochs, lr=0.05, batch_size=8, seed=3, checkpoint_dir=folder, progress=False, **kw
    )


class _Marker:
    """Unpickling this calls open(path, "w"): the file appears if the pickle is executed."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _with_header(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    body = buf.getvalue()
    import hashlib

    return ck.MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def test_crafted_checkpoint_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    folder = tmp_path / "run"
    folder.mkdir()
    # a valid header and checksum (anyone can compute them) around a malicious pickle
    (folder / ck.CHECKPOINT).write_bytes(_with_header({"format": 2, "epoch": 1, "x": _Marker(marker)}))
    with pytest.raises(CheckpointError, match=r"refused without running them \(weights_only=True\)") as err:
        load_checkpoint(folder)
    assert str(folder / ck.CHECKPOINT) in str(err.value)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="refused"):
        _fit(_model(), folder, 2, resume=True)
    assert not marker.exists()
    # a bare torch file (no header) is refused before torch reads it
    buf = io.BytesIO()
    torch.save({"x": _Marker(marker)}, buf)
    (folder / ck.CHECKPOINT).write_bytes(buf.getvalue())
    with pytest.raises(CheckpointError, match="is not a qml checkpoint"):
        load_checkpoint(folder / ck.CHECKPOINT)
    assert not marker.exists()


def test_sixty_single_byte_flips_are_all_rejected(tmp_path):
    _fit(_model(), tmp_path, 1)
    path = tmp_path / ck.CHECKPOINT
    good = path.read_bytes()
    assert load_checkpoint(path)["epoch"] == 1
    g = torch.Generator().manual_seed(7)
    positions = torch.randint(0, len(good), (60,), generator=g).tolist()
    accepted = []
    for pos in positions:
        bad = bytearray(good)
        bad[pos] ^= 1 << int(torch.randint(0, 8, (1,), generator=g))
        path.write_bytes(bytes(bad))
        try:
            ck.read_checkpoint_file(path)
            accepted.append(pos)
        except CheckpointError as exc:
            assert str(path) in str(exc)
    assert accepted == []


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b"", r"is empty \(0 bytes\)"),
        (lambda b: b[: len(b) // 2], "checksum does not match"),
        (lambda b: b[:20], "not a qml checkpoint"),
    ],
)
def test_truncated_and_empty_files_name_the_file_and_what_to_do(tmp_path, damage, message):
    _fit(_model(), tmp_path, 1)
    path = tmp_path / ck.CHECKPOINT
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError, match=message) as err:
        load_checkpoint(tmp_path)
    assert str(path) in str(err.value) and "overwrite=True" in str(err.value)


def test_damaged_latest_falls_back_to_the_backup_and_resume_stays_exact(tmp_path):
    x, y = _data()
    full = _model()
    qml.fit(full, (x, y), epochs=3, lr=0.05, batch_size=8, seed=3, progress=False)
    _fit(_model(), tmp_path, 2)
    assert load_checkpoint(tmp_path / ck.BACKUP)["epoch"] == 1
    latest = tmp_path / ck.CHECKPOINT
    blob = bytearray(latest.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    latest.write_bytes(bytes(blob))
    with pytest.warns(RuntimeWarning, match="resuming from the previous checkpoint") as rec:
        assert load_checkpoint(tmp_path)["epoch"] == 1
    text = str(rec[0].message)
    assert str(latest) in text and str(tmp_path / ck.BACKUP) in text
    resumed = _model(seed=99)
    with pytest.warns(RuntimeWarning, match="previous checkpoint"):
        history = _fit(resumed, tmp_path, 3, resume=True)
    assert history.epochs == [1, 2, 3]
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    # both damaged: one error that names both files
    for name in (ck.CHECKPOINT, ck.BACKUP):
        (tmp_path / name).write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="both checkpoints") as err:
        load_checkpoint(tmp_path)
    assert ck.CHECKPOINT in str(err.value) and ck.BACKUP in str(err.value)


def test_kill_between_the_two_renames_resumes_from_the_backup(tmp_path, monkeypatch):
    full = _model()
    qml.fit(full, _data(), epochs=2, lr=0.05, batch_size=8, seed=3, progress=False)
    _fit(_model(), tmp_path, 1)
    real = os.replace
    calls = []

    def dying(src, dst):
        calls.append(dst)
        if str(dst).endswith(ck.CHECKPOINT) and len(calls) > 1:
            raise KeyboardInterrupt  # after latest -> backup, before temp -> latest
        return real(src, dst)

    monkeypatch.setattr(ck.os, "replace", dying)
    with pytest.raises(KeyboardInterrupt):
        _fit(_model(), tmp_path, 2, resume=True)
    monkeypatch.setattr(ck.os, "replace", real)
    assert not (tmp_path / ck.CHECKPOINT).exists() and (tmp_path / ck.BACKUP).exists()
    assert not list(tmp_path.glob(".*.tmp"))  # the writer removed its temp file
    resumed = _model(seed=5)
    with pytest.warns(RuntimeWarning, match="is missing; resuming from the previous checkpoint"):
        history = _fit(resumed, tmp_path, 2, resume=True)
    assert history.epochs == [1, 2]
    assert all(torch.equal(a, b) for a, b in zip(full.state_dict().values(), resumed.state_dict().values()))


def test_leftover_temp_files_are_removed_on_the_next_start(tmp_path):
    dead = tmp_path / ".checkpoint.pt.999999999.abc123.tmp"  # pid that cannot be running
    old_style = tmp_path / ".history.json.k2j3h4.tmp"
    foreign = tmp_path / ".notes.tmp"
    for f in (dead, old_style, foreign):
        f.write_bytes(b"partial")
    _fit(_model(), tmp_path, 1)
    assert not dead.exists() and not old_style.exists()
    assert foreign.exists()  # not ours: left alone


def test_checkpoint_files_are_private(tmp_path):
    _fit(_model(), tmp_path, 2)
    for name in (ck.CHECKPOINT, ck.BACKUP, ck.RUN_FILE):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_checkpoint_dir_is_checked_before_training(tmp_path):
    calls = []
    model = _model()
    model.register_forward_hook(lambda *a: calls.append(1))
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ConfigurationError, match="is a file, not a folder"):
        _fit(model, a_file, 1)
    with pytest.raises(ConfigurationError, match="is not writable"):
        _fit(model, a_file / "sub", 1)
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(ConfigurationError, match="is not writable"):
            _fit(model, ro, 1)
    with pytest.raises(ConfigurationError, match="resume=True needs checkpoint_dir"):
        qml.fit(model, _data(), epochs=1, resume=True, progress=False)
    assert calls == []


def test_checkpoint_holds_only_plain_values(tmp_path):
    _fit(_model(shots=50, seed=1), tmp_path, 1)
    state = load_checkpoint(tmp_path)
    assert state["format"] == 2 and state["epoch"] == 1
    assert set(state["samplers"]) == {"quantum.backend"}
    assert isinstance(state["rng"]["numpy"]["keys"], torch.Tensor)
    # the body loads with torch's own weights_only loader, without qml
    body = (tmp_path / ck.CHECKPOINT).read_bytes()[ck._HEADER :]
    assert torch.load(io.BytesIO(body), weights_only=True)["epoch"] == 1
