"""qml.data: the shipped data files, their loader, validation, regeneration and packaging.

Reference energies in the files were computed with PySCF (see each sidecar's ``command`` and
``versions``); the tests recompute a few rows with PySCF and compare to 1e-8 Hartree, and check
the active-space column against an independent PennyLane qubit Hamiltonian.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tomllib
import torch

import qml
from qml.data import builder, cli, files, registry
from qml.errors import ConfigurationError, DataError

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "datasets"
NAMES = registry.names()
PES = [n for n in NAMES if n.endswith("_pes")]


def _copy(name: str, tmp_path: Path) -> tuple[Path, Path]:
    """Copy a shipped data set into tmp_path; return (csv, sidecar) of the copy."""
    for path in files.paths(name, DATA):
        shutil.copy(path, tmp_path / path.name)
    return files.paths(name, tmp_path)


def _edit_line(csv: Path, line: int, fn) -> None:
    """Edit 0-based line ``line`` of the file (0 is the header, k is data row k - 1)."""
    lines = csv.read_text().split("\n")
    lines[line] = fn(lines[line])
    csv.write_text("\n".join(lines))


def _set_field(csv: Path, line: int, column: int, value: str) -> None:
    def edit(text):
        fields = text.split(",")
        fields[column] = value
        return ",".join(fields)

    _edit_line(csv, line, edit)


# --------------------------------------------------------------------------- shipped files
@pytest.mark.parametrize("name", NAMES)
def test_shipped_file_matches_hash_and_sidecar(name):
    csv, meta_path = files.paths(name, DATA)
    meta = json.loads(meta_path.read_text())
    assert hashlib.sha256(csv.read_bytes()).hexdigest() == meta["sha256"]
    meta2, columns, values = files.read(name, DATA)
    spec = registry.get(name)
    assert columns == list(spec.columns) == meta["columns"]
    assert values.shape == (meta["n_rows"], len(columns)) == (spec.n_rows, len(spec.columns))
    assert np.isfinite(values).all()
    assert meta["units"]["e_fci"] == "hartree" and meta["basis"] == "sto-3g"
    assert set(meta["versions"]) >= {"qml", "pyscf", "numpy"}
    assert meta["command"] == f"qml datasets build {name}"
    assert meta["default_target"] == "e_fci" and meta["default_features"] == list(spec.inputs)
    assert csv.stat().st_size < 1_000_000


@pytest.mark.parametrize("name", NAMES)
def test_sidecar_is_what_the_builder_writes_today(name):
    meta = files.read_meta(name, DATA)
    expected = builder.sidecar(registry.get(name), meta["n_rows"])
    for key in ("versions",):  # the only fields that depend on the machine that built the file
        meta.pop(key), expected.pop(key)
    extra = {k: meta.pop(k) for k in ("file", "columns", "n_rows", "sha256")}
    assert json.loads(json.dumps(expected)) == meta
    assert extra["columns"] == list(registry.get(name).columns)


@pytest.mark.parametrize("name", PES)
def test_pes_grid_and_active_space_come_from_catalog(name):
    meta, columns, values = files.read(name, DATA)
    entry = qml.chem.catalog.get(meta["molecule"]["name"])
    assert len(values) >= 40
    np.testing.assert_array_equal(values[:, 0], entry.scan_values(len(values)))
    assert values[0, 0] == entry.scan_range[0] and values[-1, 0] == entry.scan_range[1]
    mol = qml.chem.Molecule.from_name(entry.name, entry.r_eq)
    assert meta["active_space"]["electrons"] == mol.n_electrons
    assert meta["active_space"]["orbitals"] == mol.n_orbitals
    assert meta["units"]["r"] == "angstrom"


def test_every_catalog_molecule_has_a_pes_set():
    assert sorted(registry.PES_MOLECULES.values()) == sorted(qml.chem.names())
    assert sorted(PES + ["h2o_distortions"]) == sorted(NAMES)


def test_h2o_distortion_inputs_are_the_seeded_samples():
    meta, columns, values = files.read("h2o_distortions", DATA)
    assert values.shape == (2000, 6)
    np.testing.assert_array_equal(values[:, :3], registry.get("h2o_distortions").make_inputs(2000))
    s = meta["sampling"]
    for j, c in enumerate(("r1", "r2", "angle")):
        assert s[c][0] <= values[:, j].min() and values[:, j].max() <= s[c][1]
    assert meta["units"]["angle"] == "degree"


@pytest.mark.parametrize("name", NAMES)
def test_energies_are_ordered_as_physics_requires(name):
    meta, columns, v = files.read(name, DATA)
    e = {c: v[:, columns.index(c)] for c in columns}
    assert (e["e_fci"] <= e["e_hf"] + 1e-10).all()  # FCI is variational and contains HF
    assert (e["e_hf"] - e["e_fci"]).max() > 0.005  # ... with 5+ mHa of correlation somewhere
    assert (np.abs(e["e_ccsd"] - e["e_fci"]) < 0.02).all()  # CCSD within 20 mHa everywhere
    if "e_cas" in e:
        # CASCI is variational and contains the HF determinant: FCI <= CAS <= HF.
        assert (e["e_cas"] >= e["e_fci"] - 1e-9).all() and (e["e_cas"] <= e["e_hf"] + 1e-9).all()
        if (
            meta["active_space"]["frozen_core_orbitals"] == 0
            and meta["active_space"]["orbitals"] == meta["active_space"]["total_orbitals"]
        ):
            np.testing.assert_allclose(e["e_cas"], e["e_fci"], rtol=0, atol=1e-8)
        near_eq = e["r"] <= 1.1 * meta["molecule"]["r_eq"]
        assert near_eq.sum() >= 5
        # CCSD is above FCI near equilibrium (it may overshoot below FCI when stretched).
        assert (e["e_ccsd"][near_eq] >= e["e_fci"][near_eq] - 1e-8).all()
    else:
        assert (e["e_ccsd"] >= e["e_fci"] - 1e-8).all()
    if meta["molecule"]["name"] in ("H2", "HeH+"):  # CCSD is exact for two electrons
        np.testing.assert_allclose(e["e_ccsd"], e["e_fci"], rtol=0, atol=1e-8)


# --------------------------------------------------------------------------- regeneration
@pytest.mark.parametrize("name, rows", [("lih_pes", [0, 25, 49]), ("h4_pes", [49]), ("h2o_distortions", "0:3")])
def test_regenerated_rows_match_shipped_energies(name, rows):
    report = qml.data.verify(name, rows=rows, progress=False)
    assert report.ok, str(report)
    assert report.max_energy_dev < 1e-8
    assert report.max_input_dev == 0.0
    assert len(report.rows) == (3 if name != "h4_pes" else 1)


def test_verify_reports_a_changed_energy(tmp_path):
    csv, meta_path = _copy("h2_pes", tmp_path)
    value = float(csv.read_text().split("\n")[3].split(",")[3])
    _set_field(csv, 3, 3, repr(value + 1e-6))  # data row 2, e_fci
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = hashlib.sha256(csv.read_bytes()).hexdigest()  # a consistent but wrong file
    meta_path.write_text(json.dumps(meta))
    report = qml.data.verify("h2_pes", rows="0:4", root=tmp_path, progress=False)
    assert not report.ok
    assert report.worst == (2, "e_fci")
    assert report.max_energy_dev == pytest.approx(1e-6, rel=1e-6)
    assert "MISMATCH" in str(report)


@pytest.mark.parametrize("molecule, row", [("h2_pes", 10), ("lih_pes", 15)])
def test_active_space_energy_is_lowest_eigenvalue_of_qubit_hamiltonian(molecule, row):
    """Independent check of e_cas: PennyLane's own Hartree-Fock and Jordan-Wigner Hamiltonian."""
    import pennylane as qp

    meta, columns, values = files.read(molecule, DATA)
    mol = qml.chem.Molecule.from_name(meta["molecule"]["name"], float(values[row, 0]))
    H, n = qp.qchem.molecular_hamiltonian(
        mol.to_pennylane(), active_electrons=mol.n_electrons, active_orbitals=mol.n_orbitals
    )
    matrix = H.sparse_matrix(wire_order=range(n)).toarray()
    sector = np.array([bin(i).count("1") for i in range(2**n)]) == mol.n_electrons
    lowest = np.linalg.eigvalsh(matrix[np.ix_(sector, sector)])[0]
    assert lowest == pytest.approx(values[row, columns.index("e_cas")], abs=1e-6)


# --------------------------------------------------------------------------- loading and splits
@pytest.mark.parametrize("name", NAMES)
def test_splits_are_disjoint_cover_everything_and_reproducible(name):
    parts = {s: qml.load_dataset(name, split=s) for s in ("train", "val", "test", "all")}
    idx = {s: set(d.indices.tolist()) for s, d in parts.items()}
    n = len(parts["all"])
    assert not (idx["train"] & idx["val"] or idx["train"] & idx["test"] or idx["val"] & idx["test"])
    assert idx["train"] | idx["val"] | idx["test"] == idx["all"] == set(range(n))
    assert (len(parts["train"]), len(parts["val"])) == (round(0.8 * n), round(0.1 * n))
    again = qml.load_dataset(name, split="test")
    assert torch.equal(again.indices, parts["test"].indices)
    assert torch.equal(again.features, parts["test"].features)
    all_ = parts["all"]
    assert torch.equal(all_.features[parts["val"].indices], parts["val"].features)


def test_split_assignment_is_pinned():
    # sha256-rank splits do not depend on numpy/torch random streams; these values pin them.
    test = qml.load_dataset("h2o_distortions", split="test").indices
    assert test[:5].tolist() == [16, 17, 19, 27, 62]
    assert int(test.sum()) == 206033


def test_dataset_shapes_items_and_meta():
    ds = qml.load_dataset("h2o_distortions", split="train")
    assert isinstance(ds, torch.utils.data.Dataset)
    assert ds.features.shape == (1600, 3) and ds.targets.shape == (1600, 1)
    assert ds.features.dtype == torch.float64
    x, y = ds[7]
    assert x.shape == (3,) and y.shape == (1,)
    assert ds.columns == ("r1", "r2", "angle", "e_hf", "e_ccsd", "e_fci")
    assert ds.meta["split"] == "train" and ds.meta["split_sizes"] == {
        "train": 1600,
        "val": 200,
        "test": 200,
        "all": 2000,
    }
    assert ds.meta["target"] == "e_fci" and ds.meta["units"]["e_fci"] == "hartree"
    assert ds.meta["train_stats"]["target_mean"] == pytest.approx(ds.targets.mean().item(), abs=1e-12)
    torch.testing.assert_close(ds.column("e_fci"), ds.targets[:, 0], rtol=0, atol=0)
    loader = torch.utils.data.DataLoader(ds, batch_size=32)
    xb, yb = next(iter(loader))
    assert xb.shape == (32, 3) and yb.shape == (32, 1)


def test_features_target_and_dtype_options():
    ds = qml.load_dataset("lih_pes", split="all", features="r", target="e_cas", dtype=torch.float32)
    assert ds.features.dtype == torch.float32 and ds.features.shape == (50, 1)
    meta, columns, values = files.read("lih_pes", DATA)
    np.testing.assert_allclose(ds.targets[:, 0].numpy(), values[:, columns.index("e_cas")].astype(np.float32))
    ds2 = qml.load_dataset("h2o_distortions", split="val", features=["angle", "r1"], target="e_hf")
    assert ds2.feature_names == ("angle", "r1") and ds2.target_name == "e_hf"
    assert torch.equal(ds2.features[:, 0], ds2.column("angle"))
    assert qml.load_dataset("HEH_PES", split="test").name == "heh+_pes"  # case-insensitive alias


def test_list_datasets():
    listing = qml.list_datasets()
    assert list(listing) == NAMES
    assert all(isinstance(d, str) and "\n" not in d for d in listing.values())
    text = str(listing)
    assert all(n in text for n in NAMES) and "2000" in text
    assert repr(listing) == text


# --------------------------------------------------------------------------- errors
def test_unknown_name_split_column_and_dtype_raise_configuration_errors():
    with pytest.raises(ConfigurationError, match=r"unknown dataset 'h2o'.*'h2o_distortions'.*'lih_pes'"):
        qml.load_dataset("h2o")
    with pytest.raises(ConfigurationError, match=r"unknown split 'validation'.*'val'"):
        qml.load_dataset("h2_pes", split="validation")
    with pytest.raises(ConfigurationError, match=r"unknown feature column of 'h2_pes' 'x'.*'e_fci'.*'r'"):
        qml.load_dataset("h2_pes", features=["x"])
    with pytest.raises(ConfigurationError, match=r"unknown target column of 'h2_pes' 'e_mp2'"):
        qml.load_dataset("h2_pes", target="e_mp2")
    with pytest.raises(ConfigurationError, match="also a feature"):
        qml.load_dataset("h2_pes", features=["r", "e_hf"], target="e_hf")
    with pytest.raises(ConfigurationError, match="floating torch dtype"):
        qml.load_dataset("h2_pes", dtype=torch.int64)
    with pytest.raises(ConfigurationError, match="unknown column of h2_pes 'x'"):
        qml.load_dataset("h2_pes").column("x")
    with pytest.raises(ConfigurationError, match="positive integer"):
        qml.data.build("h2_pes", rows=0)
    with pytest.raises(ConfigurationError, match="cannot parse rows"):
        builder.parse_rows("a:b", 10)


MALFORMED = {
    # case: (edit(csv, sidecar), regex the message must match)
    "missing column": (
        lambda c, m: c.write_text("\n".join(",".join(line.split(",")[:-1]) for line in c.read_text().split("\n"))),
        r"h2_pes\.csv: header .*\(missing column\(s\) \['e_cas'\]\)",
    ),
    "nan": (
        lambda c, m: _set_field(c, 5, 3, "nan"),
        r"h2_pes\.csv, data row 4 \(line 6\), column 'e_fci': value 'nan' is not finite",
    ),
    "inf": (
        lambda c, m: _set_field(c, 2, 1, "-inf"),
        r"data row 1 \(line 3\), column 'e_hf': value '-inf' is not finite",
    ),
    "unparsable": (
        lambda c, m: _set_field(c, 11, 2, "-1.1x"),
        r"data row 10 \(line 12\), column 'e_ccsd': cannot parse '-1.1x'",
    ),
    "short row": (
        lambda c, m: _edit_line(c, 7, lambda s: s.rsplit(",", 1)[0]),
        r"data row 6 \(line 8\) has 4 values but the header has 5 columns",
    ),
    "row removed": (
        lambda c, m: _edit_line(c, 20, lambda s: "") or c.write_text(c.read_text().replace("\n\n", "\n")),
        r"h2_pes\.csv has 49 data rows but its sidecar h2_pes\.json says n_rows = 50",
    ),
    "changed digit": (
        lambda c, m: _set_field(c, 30, 4, "-1.0"),
        r"h2_pes\.csv has sha256 [0-9a-f]{64} but its sidecar h2_pes\.json records",
    ),
    "crlf": (lambda c, m: c.write_bytes(c.read_bytes().replace(b"\n", b"\r\n")), r"line endings"),
    "missing sidecar": (lambda c, m: m.unlink(), r"metadata sidecar .*h2_pes\.json of data set 'h2_pes' is missing"),
    "missing file": (lambda c, m: c.unlink(), r"data file .*h2_pes\.csv of data set 'h2_pes' is missing"),
    "bad sidecar": (lambda c, m: m.write_text("{"), r"h2_pes\.json is not valid JSON"),
    "sidecar key": (
        lambda c, m: m.write_text(json.dumps({k: v for k, v in json.loads(m.read_text()).items() if k != "sha256"})),
        r"lacks the key\(s\) \['sha256'\]",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_file_raises_data_error_naming_file_row_column_and_fix(case, tmp_path):
    edit, pattern = MALFORMED[case]
    csv, meta_path = _copy("h2_pes", tmp_path)
    edit(csv, meta_path)
    with pytest.raises(DataError, match=pattern) as info:
        qml.load_dataset("h2_pes", root=tmp_path)
    assert isinstance(info.value, ValueError)
    assert f"qml datasets build h2_pes --out {tmp_path}" in str(info.value)
    with pytest.raises(DataError):  # verify validates before regenerating
        qml.data.verify("h2_pes", rows="0:1", root=tmp_path, progress=False)


def test_build_outside_a_checkout_needs_out_dir(monkeypatch):
    monkeypatch.setattr(files, "source_dir", lambda: None)
    with pytest.raises(ConfigurationError, match="pass out_dir"):
        qml.data.build("h2_pes", rows=2, progress=False)


def test_error_in_an_installed_copy_says_reinstall(tmp_path, monkeypatch):
    csv, meta_path = _copy("h2_pes", tmp_path)
    _set_field(csv, 3, 1, "oops")
    monkeypatch.setattr(files, "installed_dir", lambda: tmp_path)
    monkeypatch.setattr(files, "source_dir", lambda: None)
    with pytest.raises(DataError, match=r"data row 2 \(line 4\), column 'e_hf'.*pip install --force-reinstall"):
        qml.load_dataset("h2_pes")


def test_missing_root_directory_raises(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        qml.load_dataset("h2_pes", root=tmp_path / "nowhere")


# --------------------------------------------------------------------------- build and CLI
def _parser():
    parser = argparse.ArgumentParser(prog="qml")
    cli.add_subparser(parser.add_subparsers(dest="command"))
    return parser


def test_cli_build_writes_a_loadable_file_that_verifies(tmp_path, capsys):
    args = _parser().parse_args(["datasets", "build", "h2_pes", "--rows", "3", "--out", str(tmp_path), "--no-progress"])
    assert args.func(args) == 0
    meta = json.loads((tmp_path / "h2_pes.json").read_text())
    assert meta["n_rows"] == 3 and meta["command"] == "qml datasets build h2_pes --rows 3"
    ds = qml.load_dataset("h2_pes", split="all", root=tmp_path)
    assert ds.features[:, 0].tolist() == qml.chem.catalog.get("H2").scan_values(3).tolist()
    shipped = qml.load_dataset("h2_pes", split="all")
    assert ds.targets[0, 0].item() == pytest.approx(shipped.targets[0, 0].item(), abs=1e-8)  # same r = 0.3
    args = _parser().parse_args(["datasets", "verify", "h2_pes", "--dir", str(tmp_path), "--no-progress"])
    assert cli.run(args) == 0
    assert "h2_pes: OK: 3 row(s) regenerated" in capsys.readouterr().out


def test_cli_list_and_usage_errors(capsys):
    assert cli.run(_parser().parse_args(["datasets", "list"])) == 0
    assert "h2o_distortions" in capsys.readouterr().out
    assert cli.run(_parser().parse_args(["datasets", "build"])) == 2
    assert "--all" in capsys.readouterr().err
    assert cli.run(_parser().parse_args(["datasets", "verify", "nope", "--no-progress"])) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parser().parse_args(["datasets"])
    assert cli.main(["verify", "h2_pes", "--rows", "0:1", "--no-progress"]) == 0


# --------------------------------------------------------------------------- packaging
def test_pyproject_lists_every_subpackage():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "qml").rglob("*.py") if "__pycache__" not in p.parts
    }
    missing = found - listed
    assert not missing, (
        f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml, or they will be missing from the wheel"
    )
    assert config["package-dir"]["qml._datasets"] == "datasets"


def test_wheel_ships_the_data_files_and_loads_them(tmp_path):
    """Builds a wheel from a copy of the checkout (setuptools.build_meta, ~2 s), then loads from it."""
    src = tmp_path / "src"
    src.mkdir()
    for item in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / item, src / item)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.tmp")
    for item in ("qml", "datasets"):
        shutil.copytree(REPO / item, src / item, ignore=ignore)
    code = f"from setuptools import build_meta; print(build_meta.build_wheel({str(tmp_path / 'dist')!r}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=src, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel = tmp_path / "dist" / out.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as zf:
        shipped = sorted(p.name for p in DATA.iterdir() if p.suffix in (".csv", ".json"))
        assert len(shipped) == 2 * len(NAMES)
        for fname in shipped:
            assert zf.read(f"qml/_datasets/{fname}") == (DATA / fname).read_bytes()
        zf.extractall(tmp_path / "site")
    probe = (
        "import qml, qml.data.files as f; d = qml.load_dataset('h2o_distortions', 'test'); "
        "print(f.data_dir(), len(d), qml.__file__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    data_dir, n, module = out.stdout.split()
    assert data_dir == str(tmp_path / "site" / "qml" / "_datasets") and n == "200"
    assert module.startswith(str(tmp_path / "site"))


def test_build_cache_flip_is_recomputed_never_written(tmp_path):
    """Issue 24: one flipped bit in a build cache once changed an FCI energy in the written CSV."""
    from qml import parallel

    clean = builder.build("h2_pes", rows=2, out_dir=tmp_path / "clean", progress=False, cache=False)
    rows = tmp_path / "rows"
    builder.build("h2_pes", rows=2, out_dir=tmp_path / "a", progress=False, cache=rows)
    entry = sorted(rows.glob("*.json"))[0]
    doc = json.loads(entry.read_text())
    fci = doc["value"]["list"][-1]["float"]  # the last energy column, as an exact hex float
    doc["value"]["list"][-1]["float"] = float.hex(float.fromhex(fci) + 3.9e-3)
    entry.write_text(json.dumps(doc))  # the value changed, the stored SHA-256 not
    with pytest.warns(RuntimeWarning, match=r"task cache entry .* not usable \(content does not match"):
        again = builder.build("h2_pes", rows=2, out_dir=tmp_path / "b", progress=False, cache=rows)
    assert again.read_bytes() == clean.read_bytes()
    assert parallel.TaskCache(rows).get(entry.stem)[0]  # rewritten with the recomputed row
