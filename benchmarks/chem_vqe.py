"""UCCSD VQE potential-energy scans of the catalog molecules, plus two timed comparisons (issue 3).

Run:  python benchmarks/chem_vqe.py [--points 6] [--molecules H2 LiH BeH2 H2O H4] [--timing-reps 3] [--uccsd-reps 1 2]

1. For every molecule (default active spaces of ``qml.chem.catalog``): ``qml.chem.scan`` over
   ``--points`` values of its suggested scan range, UCCSD (Givens singles + doubles, repeated
   ``reps`` times for each value of ``--uccsd-reps``), L-BFGS, ``backend="lightning.qubit"``,
   warm starts. Reports wall time per scan, per-point mean, evaluations and the max
   |VQE - exact| (mHa).
2. One LiH (2e, 5o; 10 qubits) energy + gradient evaluation of the UCCSD circuit at random
   parameters: lightning.qubit adjoint vs default.qubit backprop vs qml.sim ``fast`` backprop; and on lightning
   with PennyLane's Trotterised ``qp.UCCSD`` template instead of the Givens rotations.
   Median of ``--timing-reps`` timed runs after one warm-up, interleaved.

Writes ``benchmarks/results/chem_vqe.json`` and ``benchmarks/results/chem_vqe.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pennylane as qp
import torch

import qml
from qml.chem import Molecule
from qml.chem.ansatz import make_ansatz
from qml.chem.vqe import energy_function

RESULTS = Path(__file__).parent / "results"


@contextlib.contextmanager
def _float64():
    """torch's default dtype float64: a plain torch QNode on lightning.qubit returns the default dtype."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def lih_step_timings(reps: int) -> dict[str, float]:
    """Median seconds of one energy + gradient evaluation for LiH at 1.6 A, per peer."""
    mol = Molecule.from_name("LiH", 1.6)
    ans = make_ansatz(mol, "uccsd")
    x = torch.tensor(np.random.default_rng(0).normal(0, 0.1, ans.weight_shape))
    H = mol.hamiltonian()
    singles, doubles = qp.qchem.excitations(mol.n_electrons, mol.n_qubits)
    s_wires, d_wires = qp.qchem.excitations_to_wires(singles, doubles)

    def template(params):
        qp.UCCSD(params, wires=range(mol.n_qubits), s_wires=s_wires, d_wires=d_wires, init_state=mol.hf_state())
        return qp.expval(H)

    peers = {
        "lightning.qubit adjoint (Givens UCCSD)": energy_function(mol, ans, "lightning.qubit")[0],
        "default.qubit backprop (Givens UCCSD)": energy_function(mol, ans, "default.qubit")[0],
        "fast (qml.sim) backprop (Givens UCCSD)": energy_function(mol, ans, "fast")[0],
        "lightning.qubit adjoint (qp.UCCSD template)": qp.QNode(
            template, qp.device("lightning.qubit", wires=mol.n_qubits), interface="torch", diff_method="adjoint"
        ),
    }
    times: dict[str, list[float]] = {k: [] for k in peers}
    values = {}
    for rnd in range(reps + 1):
        for name, qnode in peers.items():
            p = x.clone().requires_grad_(True)
            t0 = time.perf_counter()
            with _float64():  # the template QNode on lightning.qubit needs it; harmless for the others
                e = qnode(p)
                e.backward()
            dt = time.perf_counter() - t0
            if rnd:
                times[name].append(dt)
            values[name] = float(e)
    return {k: statistics.median(v) for k, v in times.items()}, values


def run_scans(molecules, points: int, reps: int = 1) -> list[dict]:
    rows = []
    for name in molecules:
        entry = qml.chem.CATALOG[name]
        r = entry.scan_values(points)
        t0 = time.perf_counter()
        s = qml.chem.scan(
            name, r, ansatz="uccsd", backend="lightning.qubit", optimizer="lbfgs", progress=False, reps=reps
        )
        wall = time.perf_counter() - t0
        mol = Molecule.from_name(name, entry.r_eq)
        row = {
            "molecule": name,
            "reps": reps,
            "qubits": mol.n_qubits,
            "active": [mol.n_electrons, mol.n_orbitals],
            "params": make_ansatz(mol, "uccsd", reps=reps).n_params,
            "points": len(s),
            "r": [float(v) for v in r],
            "wall_s": wall,
            "mean_point_s": wall / len(s),
            "evaluations": int(s.column("n_evaluations").sum()),
            "max_error_mha": s.max_error_mha,
            "all_chemically_accurate": bool(all(s.column("chemical_accuracy"))),
            "scan": s.to_dict(),
        }
        rows.append(row)
        print(repr(s), flush=True)
    return rows


def write(rows, step, values, args):
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "command": getattr(args, "scan_command", None) or "python benchmarks/chem_vqe.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, torch threads {torch.get_num_threads()}",
        "versions": {"pennylane": qp.__version__, "torch": torch.__version__},
    }
    (RESULTS / "chem_vqe.json").write_text(
        json.dumps({"meta": meta, "scans": rows, "lih_step_s": step, "lih_step_energy": values}, indent=1)
    )
    lines = [
        "# UCCSD VQE scans (qml.chem)",
        "",
        "UCCSD = HF state + Givens Double/SingleExcitation gates, L-BFGS (strong Wolfe), lightning.qubit "
        "adjoint, warm starts from the neighbouring geometry, default catalog active spaces. Error = "
        "VQE - exact diagonalisation in the same active space and (N, Sz) sector.",
        "",
        f"Command: `{meta['command']}`  ",
        f"Machine: {meta['machine']}; pennylane {qp.__version__}, "
        f"torch {torch.__version__}. Shared 2-core machine: wall times include contention.",
        "",
        "| molecule | uccsd reps | active (e, o) | qubits | params | points | r range (A) | scan wall s | s / point "
        "| evaluations | max error mHa | all < 1.6 mHa |",
        "|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for w in rows:
        lines.append(
            f"| {w['molecule']} | {w['reps']} | ({w['active'][0]}, {w['active'][1]}) | {w['qubits']} | {w['params']} | {w['points']} "
            f"| {w['r'][0]:.2f}-{w['r'][-1]:.2f} | {w['wall_s']:.1f} | {w['mean_point_s']:.1f} | {w['evaluations']} "
            f"| {w['max_error_mha']:.4f} | {'yes' if w['all_chemically_accurate'] else 'no'} |"
        )
    if step:
        base = step["lightning.qubit adjoint (Givens UCCSD)"]
        lines += [
            "",
            "## One LiH energy + gradient (10 qubits, 24 parameters)",
            "",
            f"Median of {args.timing_reps} runs after a warm-up, interleaved.",
            "",
            "| peer | seconds | relative to lightning adjoint |",
            "|---|---:|---:|",
        ]
        for k, v in step.items():
            lines.append(f"| {k} | {v:.4f} | {v / base:.1f}x |")
    (RESULTS / "chem_vqe.md").write_text("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=6)
    parser.add_argument("--molecules", nargs="+", default=["H2", "LiH", "BeH2", "H2O", "H4"])
    parser.add_argument("--timing-reps", type=int, default=3)
    parser.add_argument("--uccsd-reps", type=int, nargs="+", default=[1])
    parser.add_argument("--skip-step", action="store_true", help="skip the LiH step comparison")
    parser.add_argument(
        "--step-only",
        action="store_true",
        help="only redo the LiH step comparison; keep the scans of the existing results",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    step, values = ({}, {}) if args.skip_step else lih_step_timings(args.timing_reps)
    for k, v in step.items():
        print(f"LiH step  {k:45s} {v:.4f} s", flush=True)
    if args.step_only:
        old = json.loads((RESULTS / "chem_vqe.json").read_text())
        rows = old["scans"]
        args.scan_command = old["meta"]["command"] + "` (scans); step: `" + " ".join(["python", *sys.argv])
        write(rows, step, values, args)
        return
    write([], step, values, args)  # partial results early
    rows = []
    for reps in args.uccsd_reps:
        for name in args.molecules:
            rows += run_scans([name], args.points, reps)
            write(rows, step, values, args)


if __name__ == "__main__":
    main()
