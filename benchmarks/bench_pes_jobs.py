"""PESModel on Qiskit Estimators: jobs per optimizer step against peers, accuracy with shots, noise.

1. ``jobs``: ONE optimizer step (forward + backward + Adam step) of a PESModel on a batch of 4
   geometries of H2 (4 qubits) and LiH (10 qubits), counted at the Estimator's ``run`` (a wrapper
   counts jobs, PUBs and parameter bindings x observables broadcast; the inner Estimator is Aer's
   exact one, so the counts do not depend on noise). Peers on the same model: Qiskit Machine
   Learning's ``EstimatorQNN`` + ``TorchConnector`` (an EstimatorQNN has fixed observables, so a
   PES needs one QNN per geometry's Hamiltonian; inputs = the ansatz angles from the same encoder;
   gradients by ``ParamShiftEstimatorGradient``). PennyLane's ``qiskit.remote`` device
   (pennylane-qiskit) cannot be installed with this stack: pennylane-qiskit 0.45 pins
   ``qiskit<=2.3.0``, ``qiskit-aer~=0.17.2`` and ``qiskit-ibm-runtime~=0.45.0``.
2. ``accuracy``: H2 PESModel pre-trained on the exact ``sector`` backend, then trained further on a
   noise-free shot-based estimator (``aer`` with shots); energies at 11 held-out geometries with
   their standard errors, against exact; shots per setting chosen with
   ``qml.runtime.measurement`` for a reported standard error <= 1.5 mHa.
3. ``noise``: the same trained model at the same 11 geometries on ``ibm:FakeManilaV2`` noise,
   raw and mitigated (TREX + ZNE through Qiskit Runtime's client-side Estimator).

Run:  python benchmarks/bench_pes_jobs.py [--part all|jobs|accuracy|noise] [--quick]
Qiskit ML is not a qml dependency; to count it, install it beside (e.g.
``pip install --target /tmp/peers --no-deps qiskit-machine-learning scikit-learn joblib threadpoolctl``
and ``PYTHONPATH=.:/tmp/peers``). Writes benchmarks/results/pes_jobs.md and .json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch

warnings.filterwarnings("ignore")
RESULTS = Path(__file__).parent / "results"
BATCHES = {"H2": [0.6, 0.9, 1.2, 1.6], "LiH": [1.2, 1.6, 2.0, 2.4]}
R_TRAIN = [0.5, 0.7, 0.9, 1.2, 1.6, 2.0]
R_TEST = [float(v) for v in np.round(np.linspace(0.55, 1.95, 11), 3)]


def _estimator_base():
    from qiskit.primitives.base import BaseEstimatorV2

    return BaseEstimatorV2


class Counting(_estimator_base()):
    """An Estimator V2 that counts what passes through ``run`` and delegates to ``inner``."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.jobs = self.pubs = self.bindings = 0

    def run(self, pubs, precision=None):
        from qiskit.primitives.containers.estimator_pub import EstimatorPub

        pubs = list(pubs)
        self.jobs += 1
        for pub in pubs:
            self.pubs += 1
            self.bindings += int(np.prod(EstimatorPub.coerce(pub).shape or (1,)))
        return self.inner.run(pubs) if precision is None else self.inner.run(pubs, precision=precision)

    def counts(self):
        return {"jobs": self.jobs, "pubs": self.pubs, "bindings": self.bindings}


def step(model_forward, params, batch):
    opt = torch.optim.Adam(params, lr=1e-3)
    opt.zero_grad()
    model_forward(batch).mean().backward()
    opt.step()


def jobs_qml(molecule):
    import qml

    m = qml.PESModel(molecule, backend="aer", seed=0)
    counter = Counting(m.backend.estimator)
    m.backend.estimator = counter
    x = torch.tensor(BATCHES[molecule], dtype=torch.float64).reshape(-1, 1)
    m.prepare(x)
    t0 = time.perf_counter()
    step(m.energies, list(m.parameters()), x)
    return dict(
        counter.counts(),
        seconds=time.perf_counter() - t0,
        note="qml.PESModel(backend='aer'): 1 PUB, (1 + 2K) x B parameter rows, B Hamiltonians broadcast",
    )


def qiskit_circuit_of(ansatz, n_qubits):
    """The ansatz as a Qiskit circuit with one Parameter per ansatz angle (Givens rotations decomposed
    as qml traces them; each rotation angle is a fixed multiple of one ansatz angle)."""
    from qiskit.circuit import ParameterVector

    from qml.backends.qiskit_circuits import to_qiskit, trace_ansatz

    P = ansatz.n_params
    eye = torch.eye(P, dtype=torch.float64)
    traced = trace_ansatz(ansatz, eye, n_qubits)
    zero = trace_ansatz(ansatz, torch.zeros(1, P, dtype=torch.float64), n_qubits).angles[0]
    coeff = (traced.angles - zero).detach().numpy()  # (P, n_angles): angle k = sum_j coeff[j, k] p_j + zero_k
    qc = to_qiskit(traced)
    p = ParameterVector("p", P)
    theta = sorted(qc.parameters, key=lambda t: t.index)
    binding = {}
    for k, t in enumerate(theta):
        expr = float(zero[k])
        for j in np.nonzero(np.abs(coeff[:, k]) > 1e-14)[0]:
            expr = expr + float(coeff[j, k]) * p[j]
        binding[t] = expr
    return qc.assign_parameters(binding), list(p)


def jobs_qiskit_ml(molecule):
    try:
        from qiskit_machine_learning.connectors import TorchConnector
        from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient
        from qiskit_machine_learning.neural_networks import EstimatorQNN
    except ImportError:
        return None
    import qml
    from qml.backends.qiskit_circuits import hamiltonian_op

    m = qml.PESModel(molecule, backend="aer", seed=0)  # the same encoder and Hamiltonians
    x = torch.tensor(BATCHES[molecule], dtype=torch.float64).reshape(-1, 1)
    entries = m.bank.entries(x.numpy())
    qc, inputs = qiskit_circuit_of(m.ansatz, m.n_qubits)
    counter = Counting(m.backend.estimator)
    qnns = [
        TorchConnector(
            EstimatorQNN(
                circuit=qc,
                estimator=counter,
                observables=[hamiltonian_op(e, m.n_qubits)],
                input_params=inputs,
                weight_params=[],
                input_gradients=True,
                gradient=ParamShiftEstimatorGradient(counter),
            )
        )
        for e in entries
    ]

    def forward(batch):
        angles = m.params(batch.numpy())
        return torch.cat([qnn(angles[b : b + 1].float()).to(torch.float64).reshape(1) for b, qnn in enumerate(qnns)])

    t0 = time.perf_counter()
    step(forward, list(m.encoder.parameters()), x)
    return dict(
        counter.counts(),
        seconds=time.perf_counter() - t0,
        note="one EstimatorQNN per geometry (fixed observables), input_gradients=True, "
        "ParamShiftEstimatorGradient, TorchConnector",
    )


def part_jobs(quick):
    rows = []
    for molecule in ("H2",) if quick else ("H2", "LiH"):
        rows.append((molecule, "qml PESModel", jobs_qml(molecule)))
        rows.append((molecule, "Qiskit ML EstimatorQNN + TorchConnector", jobs_qiskit_ml(molecule)))
        rows.append((molecule, "PennyLane qiskit.remote", None))
        for _, name, r in rows[-3:]:
            print(molecule, name, r, flush=True)
    return rows


def trained_h2(quick):
    """H2 PESModel trained on the exact sector backend (L-BFGS), the starting point of parts 2 and 3."""
    import qml

    torch.manual_seed(0)
    m = qml.PESModel("H2", backend="sector")
    qml.fit(m, R_TRAIN, epochs=10 if quick else 40, optimizer="lbfgs", lr=1.0, batch_size=len(R_TRAIN), progress=False)
    print("pre-trained exactly: max held-out error", float(np.abs(m.errors_mha(R_TEST)).max()), "mHa", flush=True)
    return m


def shots_for_reported_stderr(target, geometries, model):
    """Shots per setting so that BackendEstimatorV2's reported standard error, sum_i |c_i| sqrt(Var P_i)
    / sqrt(N) over the Pauli terms, is <= target at the model's (exact) states."""
    from qiskit.quantum_info import Statevector

    from qml.runtime.measurement import hamiltonian_op

    worst = 0.0
    states = model.state(np.asarray(geometries).reshape(-1, 1)).numpy()
    for r, psi in zip(geometries, states):
        op = hamiltonian_op(model.bank[(r,)], model.n_qubits)
        n = model.n_qubits
        sv = Statevector(psi.reshape((2,) * n).transpose(tuple(reversed(range(n)))).reshape(-1))
        total = 0.0
        for label, c in zip(op.paulis, op.coeffs):
            if not (label.x.any() or label.z.any()):
                continue
            mean = float(np.real(sv.expectation_value(label)))
            total += abs(c) * math.sqrt(max(1 - mean**2, 0.0))
        worst = max(worst, total)
    return math.ceil((worst / target) ** 2)


def part_accuracy(model, quick):
    import qml

    shots = shots_for_reported_stderr(1.5e-3, R_TEST + R_TRAIN, model)
    print("shots per setting:", shots, flush=True)
    m = qml.PESModel("H2", backend="aer", shots=shots, seed=5)
    m.load_state_dict(model.state_dict())
    steps = 1 if quick else 3
    qml.fit(m, R_TRAIN, epochs=steps, lr=2e-4, batch_size=len(R_TRAIN), progress=False)
    stats = dict(m.evaluator().stats)  # counted by the evaluator: jobs, circuits, shots
    train_shots = stats["shots"]
    print("trained on shots:", stats, flush=True)
    e, s = m.energy(R_TEST, return_std=True)
    exact = m.exact_energy(R_TEST)
    z = (e - exact) / s
    out = {
        "shots_per_setting": shots,
        "steps": steps,
        "shots_per_step": train_shots // steps,
        "training_jobs": stats["jobs"],
        "training_shots": train_shots,
        "evaluation_shots": shots * len(R_TEST),
        "errors_mha": ((e - exact) * 1000).tolist(),
        "stderr_mha": (s * 1000).tolist(),
        "z": z.tolist(),
        "max_abs_z": float(np.abs(z).max()),
        "max_stderr_mha": float(s.max() * 1000),
        "exact_model_errors_mha": model.errors_mha(R_TEST).tolist(),
    }
    print("accuracy", {k: v for k, v in out.items() if not isinstance(v, list)}, flush=True)
    return out


def part_noise(model, shots, quick):
    import qml

    out = {}
    configs = {"raw": {"resilience_level": 0}, "TREX + ZNE": {"measure_mitigation": True, "zne": True}}
    exact = model.exact_energy(R_TEST)
    for name, opts in configs.items():
        m = qml.PESModel(
            "H2", backend="ibm:FakeManilaV2", shots=shots, seed=7, backend_options={**opts, "store": False}
        )
        m.load_state_dict(model.state_dict())
        t0 = time.perf_counter()
        e, s = m.energy(R_TEST, return_std=True)
        err = (e - exact) * 1000
        out[name] = {
            "mean_abs_error_mha": float(np.abs(err).mean()),
            "errors_mha": err.tolist(),
            "mean_stderr_mha": float(s.mean() * 1000),
            "seconds": time.perf_counter() - t0,
            "jobs": m.evaluator().stats["jobs"],
        }
        print("noise", name, out[name]["mean_abs_error_mha"], flush=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part",
        default="all",
        choices=("all", "jobs", "accuracy", "noise", "accuracy+noise"),
        help="parts to run; results of other parts already in the .json are kept",
    )
    parser.add_argument("--noise-shots", type=int, default=4000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    load = [os.getloadavg()[0]]
    result = {"jobs": None, "accuracy": None, "noise": None}
    if args.part in ("all", "jobs"):
        result["jobs"] = [(m, n, r) for m, n, r in part_jobs(args.quick)]
    if args.part in ("all", "accuracy", "noise", "accuracy+noise"):
        model = trained_h2(args.quick)
        if args.part in ("all", "accuracy", "accuracy+noise"):
            result["accuracy"] = part_accuracy(model, args.quick)
        if args.part in ("all", "noise", "accuracy+noise"):
            result["noise"] = part_noise(model, args.noise_shots, args.quick)
    load.append(os.getloadavg()[0])
    write(result, args, load)
    return 0


def write(result, args, load):
    import qiskit
    import qiskit_aer
    import qiskit_ibm_runtime

    versions = (
        f"qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, "
        f"qiskit-ibm-runtime {qiskit_ibm_runtime.__version__}, torch {torch.__version__}"
    )
    try:
        import qiskit_machine_learning

        versions += (
            f", qiskit-machine-learning {qiskit_machine_learning.__version__} (installed beside, not a dependency)"
        )
    except ImportError:
        versions += ", qiskit-machine-learning not installed"
    suffix = "_quick" if args.quick else ""
    saved = RESULTS / f"pes_jobs{suffix}.json"
    if saved.exists():  # keep the parts measured by an earlier run
        previous = json.loads(saved.read_text())
        for key, value in previous.get("parts", {}).items():
            if result.get(key) is None:
                result[key] = value
    commands = dict(json.loads(saved.read_text()).get("commands", {})) if saved.exists() else {}
    cmd = f"python benchmarks/bench_pes_jobs.py --part {args.part}" + (" --quick" if args.quick else "")
    loadavg = f"load average {load[0]:.1f} at start, {load[-1]:.1f} at end"
    for key in ("jobs", "accuracy", "noise"):
        if args.part in ("all", key) or (args.part == "accuracy+noise" and key != "jobs"):
            commands[key] = f"`{cmd}` ({loadavg})"
    lines = [
        "# PESModel on Qiskit Estimators: jobs per step, accuracy with shots, noise",
        "",
        "Commands: " + "; ".join(f"{k}: {v}" for k, v in commands.items()) + "  ",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; {versions}. 2 cores shared by "
        "several engineers: loaded, so wall times are indicative only",
        "",
    ]
    if result["jobs"]:
        lines += [
            "## Jobs per optimizer step (batch of 4 geometries)",
            "",
            "Counted at the Estimator's `run`: jobs = calls, PUBs, bindings = PUB elements (parameter sets x "
            "observables broadcast). One step = forward + backward + Adam step of the whole model.",
            "",
            "| molecule | executor | jobs / step | PUBs / step | bindings / step | wall s | how |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for molecule, name, r in result["jobs"]:
            if r is None:
                why = (
                    "pennylane-qiskit 0.45 pins qiskit<=2.3.0, qiskit-aer~=0.17.2, qiskit-ibm-runtime~=0.45.0: "
                    "not installable with this stack"
                    if "PennyLane" in name
                    else "not installed"
                )
                lines.append(f"| {molecule} | {name} | - | - | - | - | {why} |")
            else:
                lines.append(
                    f"| {molecule} | {name} | {r['jobs']} | {r['pubs']} | {r['bindings']} | "
                    f"{r['seconds']:.1f} | {r['note']} |"
                )
        lines.append("")
    acc = result["accuracy"]
    if acc:
        lines += [
            "## H2 on a noise-free shot-based estimator (`aer`, shots)",
            "",
            f"Pre-trained on the exact `sector` backend, then {acc['steps']} Adam step(s) on `aer` with "
            f"{acc['shots_per_setting']} shots per measurement setting ({acc['shots_per_step']:,} shots per step, "
            f"{acc['training_shots']:,} in training; the evaluation of the 11 geometries, one job, asked for "
            f"{acc['evaluation_shots']:,} shots, run in each of the 5 settings). Held-out r = {R_TEST}. "
            "The last column is the exactly pre-trained model's error without shots.",
            "",
            f"- max |E - E_exact| / stderr = **{acc['max_abs_z']:.2f}** (criterion: <= 3)",
            f"- max stderr = **{acc['max_stderr_mha']:.2f} mHa** (criterion: <= 1.6 mHa; the estimator's "
            "reported stderr, an upper bound: sum_i |c_i| sigma_i / sqrt(N))",
            "",
            "| r (A) | error (mHa) | stderr (mHa) | z | exact-model error (mHa) |",
            "|---:|---:|---:|---:|---:|",
        ]
        for r, err, s, z, ex in zip(
            R_TEST, acc["errors_mha"], acc["stderr_mha"], acc["z"], acc["exact_model_errors_mha"]
        ):
            lines.append(f"| {r} | {err:.2f} | {s:.2f} | {z:.2f} | {ex:.3f} |")
        lines.append("")
    noise = result["noise"]
    if noise:
        lines += [
            "## H2 with `ibm:FakeManilaV2` noise, same 11 geometries",
            "",
            f"The same trained model, {args.noise_shots} shots per setting, one job per configuration "
            "(Qiskit Runtime client-side Estimator, local testing mode).",
            "",
            "| configuration | mean abs error (mHa) | mean stderr (mHa) | jobs | wall s |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, r in noise.items():
            lines.append(
                f"| {name} | {r['mean_abs_error_mha']:.1f} | {r['mean_stderr_mha']:.1f} | {r['jobs']} | "
                f"{r['seconds']:.0f} |"
            )
        lines.append("")
    text = "\n".join(lines)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"pes_jobs{suffix}.md").write_text(text)
    saved.write_text(json.dumps({"parts": result, "commands": commands}, indent=1, default=str))
    print(text)


if __name__ == "__main__":
    raise SystemExit(main())
