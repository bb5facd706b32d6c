"""Error mitigation offline: H2 energies on ``ibm:FakeManilaV2`` noise, raw vs mitigated, against exact.

What runs: the uccsd ansatz of H2 (STO-3G, 4 qubits) at its exact VQE optimum angles (found per
geometry on the exact ``sector`` backend), sent through qml's ``ibm:`` energy evaluator, i.e.
Qiskit Runtime's client-side Estimator (``qiskit_ibm_runtime.executor_estimator``, engine
``qiskit-mitigation``) in local testing mode with the fake device's noise model. One job per
setting carries all geometries (one PUB, a Hamiltonian per geometry). Each configuration is
repeated with several simulator seeds; we report the mean over geometries and seeds of the
absolute error against the exact active-space energy, and the estimator's own standard error.

Shots: ``--shots`` per measurement setting and parameter set (the Estimator's ``default_shots``);
TREX spreads them over its twirling randomizations and adds calibration circuits, ZNE runs each
of its noise factors (1, 3, 5 by default) with them, so a mitigated job executes more shots than
the raw one for the same ``shots`` option.

Run:  python benchmarks/bench_mitigation.py [--shots 4000] [--seeds 3] [--quick]
(writes benchmarks/results/mitigation.md and .json)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch

warnings.filterwarnings("ignore")
RESULTS = Path(__file__).parent / "results"

CONFIGS = {
    # resilience_level=0 everywhere but the last two rows: the client-side Estimator's default level is 1
    # (TREX + measurement twirling), which would otherwise switch TREX on under every other option.
    "raw": {"resilience_level": 0},
    "dynamical decoupling (XX)": {"resilience_level": 0, "dynamical_decoupling": True},
    "twirling (gates + measurement)": {"resilience_level": 0, "twirling": True},
    "TREX (readout)": {"resilience_level": 0, "measure_mitigation": True},
    "ZNE (gate folding, factors 1/3/5)": {"resilience_level": 0, "zne": True},
    "TREX + ZNE": {"resilience_level": 0, "measure_mitigation": True, "zne": True},
    "resilience_level=1 (service default)": {"resilience_level": 1},
    "resilience_level=2": {"resilience_level": 2},
}
QUICK = ("raw", "TREX (readout)", "TREX + ZNE")


def optimum(geometries):
    """Exact VQE optimum angles of uccsd per geometry (sector backend, L-BFGS) and exact energies."""
    import qml

    params, exact = [], []
    for r in geometries:
        mol = qml.chem.Molecule.from_name("H2", float(r))
        res = qml.chem.vqe(mol, ansatz="uccsd", backend="sector", progress=False)
        if abs(res.error_mha) > 1e-6:
            raise RuntimeError(f"VQE did not reach the exact energy at r={r}: {res.error_mha} mHa")
        params.append(np.asarray(res.params, dtype=np.float64).ravel())
        exact.append(res.exact_energy)
    return np.array(params), np.array(exact)


def run(config: dict, params, geometries, shots: int, seed: int):
    import qml
    from qml.backends import resolve
    from qml.chem.bank import HamiltonianBank
    from qml.chem.surface import surface

    mol = qml.chem.Molecule.from_name("H2", 0.74)
    ansatz = qml.chem.make_ansatz(mol, "uccsd")
    bank = HamiltonianBank(surface("H2"))
    entries = bank.entries(np.asarray(geometries, dtype=np.float64).reshape(-1, 1))
    backend = resolve("ibm:FakeManilaV2", n_qubits=4, shots=shots, seed=seed, store=False, **config)
    ev = backend.energy_evaluator(ansatz, 4)
    with torch.no_grad():
        t0 = time.perf_counter()
        e = ev(torch.as_tensor(params), entries).numpy()
        seconds = time.perf_counter() - t0
    assert ev.stats["jobs"] == 1  # all geometries in one job
    return e, np.asarray(ev.last_stderr), seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--geometries", default="0.5,0.74,1.2,2.0")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}, one seed")
    args = parser.parse_args(argv)
    geometries = [float(v) for v in args.geometries.split(",")]
    seeds = [11] if args.quick else [11 + 10 * k for k in range(args.seeds)]
    names = QUICK if args.quick else tuple(CONFIGS)
    load_before = os.getloadavg()
    params, exact = optimum(geometries)
    rows = []
    for name in names:
        errs, stds, secs = [], [], 0.0
        for seed in seeds:
            e, s, t = run(CONFIGS[name], params, geometries, args.shots, seed)
            errs.append((e - exact) * 1000)
            stds.append(s * 1000)
            secs += t
        errs, stds = np.array(errs), np.array(stds)
        rows.append(
            {
                "config": name,
                "options": CONFIGS[name],
                "mean_abs_error_mha": float(np.abs(errs).mean()),
                "mean_error_mha": float(errs.mean()),
                "per_geometry_mean_error_mha": errs.mean(0).tolist(),
                "mean_stderr_mha": float(stds.mean()),
                "seconds_per_job": secs / len(seeds),
            }
        )
        print(
            f"{name:32s} mean |error| {rows[-1]['mean_abs_error_mha']:8.2f} mHa  stderr {rows[-1]['mean_stderr_mha']:6.2f}"
            f"  {rows[-1]['seconds_per_job']:.1f} s/job",
            flush=True,
        )
    load_after = os.getloadavg()
    import qiskit
    import qiskit_aer
    import qiskit_ibm_runtime

    versions = (
        f"qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, "
        f"qiskit-ibm-runtime {qiskit_ibm_runtime.__version__}"
    )
    try:
        from importlib.metadata import version

        versions += f", qiskit-mitigation {version('qiskit-mitigation')}"
    except Exception:  # noqa: BLE001
        pass
    command = (
        "python benchmarks/bench_mitigation.py"
        + (" --quick" if args.quick else "")
        + f" --shots {args.shots} --seeds {len(seeds)} --geometries {args.geometries}"
    )
    lines = [
        "# Error mitigation offline: H2 on FakeManilaV2 noise",
        "",
        f"uccsd at the exact VQE optimum of each geometry r = {geometries} Angstrom (4 qubits; the ISA circuit on "
        "FakeManilaV2 has about 40 CX after routing), energies through qml's `ibm:FakeManilaV2` energy evaluator "
        "(Qiskit Runtime client-side Estimator, local testing mode, the fake device's noise model), "
        f"{args.shots} shots per measurement setting (5 settings for H2), simulator seeds {seeds}. "
        "Error = estimate - exact active-space energy, averaged over geometries and seeds.",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; {versions}; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after (2 cores shared: the machine was loaded; "
        "times are indicative only)",
        "",
        "| configuration | qml options | mean abs error (mHa) | mean signed error (mHa) | mean stderr (mHa) | s / job |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        opts = ", ".join(f"{k}={v}" for k, v in r["options"].items())
        lines.append(
            f"| {r['config']} | `{opts}` | {r['mean_abs_error_mha']:.1f} | {r['mean_error_mha']:.1f} | "
            f"{r['mean_stderr_mha']:.1f} | {r['seconds_per_job']:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "_quick" if args.quick else ""
    (RESULTS / f"mitigation{suffix}.md").write_text(text)
    (RESULTS / f"mitigation{suffix}.json").write_text(
        json.dumps(
            {
                "geometries": geometries,
                "exact": exact.tolist(),
                "shots": args.shots,
                "seeds": seeds,
                "rows": rows,
                "load_average": [load_before, load_after],
                "versions": versions,
            },
            indent=1,
        )
    )
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
