"""Smoke test of the benchmark suite (benchmarks/suite.py) at its smallest size (--quick, one round).

The suite itself is not part of the test run (benchmarks/ is outside ``testpaths``); this runs it once at the
smallest size and checks what it writes: every contender has a passed gradient check and positive times,
ratios are the quotients of the medians, and the Markdown table names every contender. Qiskit Machine
Learning is not a project dependency: without it the TorchConnector contender must be reported as
"not installed" rather than crash the suite.
"""

import importlib.util
import json
import statistics
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[1] / "benchmarks" / "suite.py"

EXPECTED = {
    "W1_n4": {"qml_fast", "qml_auto", "tl_default", "tl_lightning"},
    "W1q_n2": {"qml_fast", "tl_default", "qiskit_ml"},
    "W2_H2": {"qml_auto", "qml_fast", "pl_lightning", "pl_default"},
    "W3_H2": {"qml_pes", "pes_fast", "pes_default"},
}


def _load_suite():
    spec = importlib.util.spec_from_file_location("qml_benchmark_suite", SUITE)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def _has_qiskit_ml() -> bool:
    try:
        import qiskit_machine_learning  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from qml.backends import auto

    out = tmp_path_factory.mktemp("suite")
    suite = _load_suite()
    decisions = dict(auto._DECISIONS)  # the suite's "auto" contenders must not decide for later tests
    try:
        assert suite.main(["--quick", "--rounds", "1", "--out", str(out)]) == 0
    finally:
        auto._DECISIONS.clear()
        auto._DECISIONS.update(decisions)
    return json.loads((out / "suite.json").read_text()), (out / "suite.md").read_text()


def test_quick_suite_times_every_contender_after_a_passed_gradient_check(quick_run):
    result, _ = quick_run
    assert {c["id"]: {r["key"] for r in c["contenders"]} for c in result["cases"]} == EXPECTED
    for case in result["cases"]:
        for row in case["contenders"]:
            if row["key"] == "qiskit_ml" and not _has_qiskit_ml():
                assert row["status"].startswith("not installed"), row["status"]
                continue
            assert row["status"] == "ok", (case["id"], row["key"], row["status"])
            check = row["grad_check"]
            assert check["passed"] is True and check["max_abs_err"] <= check["tol"], (case["id"], row["key"], check)
            assert check["tol"] in (1e-8, 1e-5)
            assert len(row["wall_s"]) == len(row["cpu_s"]) == 1
            assert row["wall_median_s"] > 0 and row["cpu_median_s"] > 0
            assert row["peak_mem_mib"] is not None and row["peak_mem_mib"] >= 0
        # the reference's gradients are compared with themselves: exactly zero difference
        ref = next(r for r in case["contenders"] if r["key"] == case["reference"])
        assert ref["grad_check"]["max_abs_err"] == 0.0


def test_quick_suite_ratios_are_quotients_of_the_medians(quick_run):
    result, _ = quick_run
    for case in result["cases"]:
        rows = {r["key"]: r for r in case["contenders"]}
        for ratio in case["ratios"]:
            q, p = rows[ratio["qml"]], rows[ratio["peer"]]
            if "wall_s" not in p:  # an absent optional peer
                assert ratio["wall"] is None
                continue
            assert ratio["wall"] == pytest.approx(statistics.median(q["wall_s"]) / statistics.median(p["wall_s"]))
            assert ratio["cpu"] == pytest.approx(statistics.median(q["cpu_s"]) / statistics.median(p["cpu_s"]))


def test_quick_suite_records_the_machine_and_writes_the_markdown_table(quick_run):
    result, md = quick_run
    m = result["machine"]
    assert m["cores"] >= 1 and m["torch_threads"] == 1 and m["device"] == "cpu"
    assert {"torch", "pennylane", "qml"} <= set(m["versions"])
    assert result["meta"]["quick"] is True and result["meta"]["rounds"] == 1
    assert md.startswith("# Benchmark suite")
    assert "| contender | gradient check" in md and "| qml / peer | wall | CPU |" in md
    for case in result["cases"]:
        assert f"## {case['title']}" in md
        for row in case["contenders"]:
            assert f"| `{row['key']}` " in md
    assert "auto chose `fast`" in md or "auto chose `" in md


def test_suite_reports_a_missing_qiskit_machine_learning_instead_of_crashing(monkeypatch):
    suite = _load_suite()
    for name in [m for m in sys.modules if m.startswith("qiskit_machine_learning.")] + ["qiskit_machine_learning"]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it now raises ImportError
    args = suite.parse_args(["--quick", "--rounds", "1", "--memory", "off"])
    case = next(c for c in suite.w1_cases(args) if c.id.startswith("W1q"))
    from qml.backends import auto

    decisions = dict(auto._DECISIONS)
    try:
        out = suite.run_case(case, args, log=lambda s: None)
    finally:
        auto._DECISIONS.clear()
        auto._DECISIONS.update(decisions)
    rows = {r["key"]: r for r in out["contenders"]}
    assert rows["qiskit_ml"]["status"] == "not installed (qiskit_machine_learning)"
    assert "wall_s" not in rows["qiskit_ml"]
    assert rows["qml_fast"]["status"] == "ok" and rows["qml_fast"]["wall_median_s"] > 0
    assert [r for r in out["ratios"] if r["peer"] == "qiskit_ml"][0]["wall"] is None
    assert "not installed" in suite.markdown(
        {
            "meta": {"date": "d", "command": "c", "rounds": 1, "memory_method": "off"},
            "machine": {
                "cpu": "x",
                "cores": 1,
                "torch_threads": 1,
                "omp_num_threads": "1",
                "device": "cpu",
                "load_average_at_start": None,
                "versions": {},
            },
            "cases": [out],
        }
    )


def test_scaling_table_options_and_markdown():
    """The scaling table runs by default but not in --quick; its markdown lists every cell with
    its peak over the batch's states, and a cell that did not finish keeps its status."""
    suite = _load_suite()
    assert "SCALE" in suite.parse_args([]).workloads
    quick = suite.parse_args(["--quick"])
    assert "SCALE" not in quick.workloads and quick.sizes == [4, 6]
    sc = {
        "layers": 2,
        "batch": 8,
        "sizes": [20, 22],
        "cell_timeout_s": 300.0,
        "cell_memory_gib": 8.0,
        "rows": [
            {
                "n": 20,
                "key": "fast_adjoint",
                "label": "fast adjoint",
                "status": "ok",
                "first_step_s": 7.0,
                "wall_s": [6.0, 6.5],
                "wall_median_s": 6.25,
                "cpu_median_s": 6.0,
                "peak_mib": 512.0,
                "peak_over_states": 4.0,
                "load_start": [1.5, 1.0, 1.0],
            },
            {
                "n": 22,
                "key": "tl_default",
                "label": "default.qubit",
                "status": "did not finish in 300 s",
                "load_start": [2.0, 1.0, 1.0],
            },
        ],
    }
    lines = suite.scaling_markdown(sc)
    assert lines[0] == "## Scaling: W1 shape from 20 to 22 qubits"
    assert "| 20 | fast adjoint | ok | 7 | 6.25 (2) | 6 | 512 | 4.00 | 1.5 | unknown |" in lines
    assert "| 22 | default.qubit | did not finish in 300 s | - | - (0) | - | - | - | 2.0 | unknown |" in lines
