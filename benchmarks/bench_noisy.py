"""Chemistry on noisy device models: tapering + qml's mitigation + measured error bars, side by side.

Every row measures energies on Aer with a fake IBM device's noise model (gate errors, thermal
relaxation, readout errors) at the exact-simulator optimum of the ansatz ("pre-trained exactly,
measured on the device"), and compares with the exact active-space energy:

1. ``H2 surface``: the 11 held-out geometries 0.55-1.95 A of ``pes_jobs.md``, H2 tapered by its Z2
   symmetries (PennyLane's ``qp.symmetry_generators``/``paulix_ops``/``optimal_sector``/``taper``)
   to ONE qubit, ansatz ``RY(theta)`` (no two-qubit gate), all 11 geometries in ONE PUB through
   :class:`qml.runtime.mitigated.MitigatedEstimator` with ``precision=`` (target stderr per energy)
   and each mitigation preset, on ``FakeManilaV2`` (Falcon) and ``FakeFez`` (Heron r2);
2. ``H2 untapered``: the 4-qubit uccsd circuit (qml's evaluator, ``aer:<device>``) at 3 geometries:
   why tapering matters (CX after transpilation);
3. ``LiH tapered``: the catalog active space tapered, its exact ground state prepared by Qiskit's
   ``StatePreparation`` and transpiled to the Heron device (two-qubit gate count reported);
4. ``Runtime Estimator`` (Qiskit Runtime's client-side Estimator, local mode, ``resilience_level`` 1
   and 2) on the same tapered H2 circuits and observables, and the Qiskit Machine Learning peer
   (``EstimatorQNN`` + ``TorchConnector``, one QNN per geometry, ``resilience_level=2``) when
   ``qiskit_machine_learning`` imports (not a qml dependency: install it beside, see below);
5. ``vqe`` of H2 with no option but the backend.

Columns: qubits, two-qubit gates after transpilation (CX/CZ/ECR), shots per energy (executed,
calibration excluded), estimated device seconds per energy (qml.runtime.shots.device_seconds),
mean/max |error| (mHa), max |z| = |error| / reported stderr, wall seconds.

Run:  nice -n 5 python benchmarks/bench_noisy.py [--quick] [--precision 0.4]
Peer: ``pip install --target /tmp/peers --no-deps qiskit-machine-learning==0.9.1`` and ``PYTHONPATH=/tmp/peers``.
Writes benchmarks/results/noisy.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
RESULTS = Path(__file__).parent / "results"
R_TEST = [float(v) for v in np.round(np.linspace(0.55, 1.95, 11), 3)]
DEVICES = {"FakeManilaV2": "Falcon r5.11L (CX)", "FakeFez": "Heron r2 (CZ)"}
PRESETS = ("none", "readout", "readout+zne", "readout+zne-exp")
TWO_Q = ("cx", "cz", "ecr")
PEER_R = [0.55, 1.25, 1.95]  # the Qiskit ML peer runs one job per geometry (~50 s each at resilience_level=2 here)


def tapered(name: str, r: float):
    """``(SparsePauliOp, n_qubits, exact ground energy, ground state (qiskit order))`` of the tapered Hamiltonian."""
    import pennylane as qp
    from pennylane import qchem
    from qiskit.quantum_info import SparsePauliOp

    import qml

    mol = qml.chem.Molecule.from_name(name, r)
    h = mol.hamiltonian()
    gens = qp.symmetry_generators(h)
    paulix = qp.paulix_ops(gens, mol.n_qubits)
    sector = qchem.optimal_sector(h, gens, mol.n_electrons)
    ht = qp.taper(h, gens, paulix, sector)
    wires = sorted(ht.wires)
    wmap = {w: i for i, w in enumerate(wires)}
    n = len(wires)
    terms: dict = {}
    coeffs, ops = ht.terms()
    for c, o in zip(coeffs, ops):
        word = qp.pauli.pauli_word_to_string(o, wire_map=wmap)  # PennyLane order: wire 0 first
        label = word[::-1]  # qiskit order: qubit 0 last
        terms[label] = terms.get(label, 0.0) + float(np.real(c))
    op = SparsePauliOp.from_list([(k, v) for k, v in terms.items() if abs(v) > 1e-12]).simplify()
    mat = op.to_matrix()
    w, v = np.linalg.eigh(mat)
    exact = float(w[0])
    if abs(exact - mol.exact_energy()) > 1e-8:
        raise RuntimeError(f"tapered {name} at {r}: {exact} != untapered exact {mol.exact_energy()}")
    return op, n, exact, v[:, 0]


def two_qubit_gates(isa) -> int:
    ops = isa.count_ops()
    return int(sum(ops.get(g, 0) for g in TWO_Q))


def h2_surface(device_name: str, preset: str, precision_mha: float, seed: int):
    from qiskit import QuantumCircuit, transpile
    from qiskit.circuit import Parameter

    from qml.backends.aer import fake_device
    from qml.runtime.mitigated import MitigatedEstimator
    from qml.runtime.mitigation import resolve_mitigation
    from qml.runtime.shots import device_seconds

    dev = fake_device(device_name)
    ops, exact, theta = [], [], []
    for r in R_TEST:
        op, n, e, _ = tapered("H2", r)
        a = dict(zip(op.paulis.to_labels(), op.coeffs.real))
        ops.append(op)
        exact.append(e)
        theta.append(np.arctan2(-a.get("X", 0.0), -a.get("Z", 0.0)))  # <Z> = cos t, <X> = sin t
    t = Parameter("theta")
    qc = QuantumCircuit(1)
    qc.ry(t, 0)
    isa = transpile(qc, dev, optimization_level=1, seed_transpiler=seed)
    est = MitigatedEstimator(dev, mitigation=resolve_mitigation(preset, dev), precision=precision_mha * 1e-3, seed=seed)
    t0 = time.perf_counter()
    res = est.run([(isa, [o.apply_layout(isa.layout) for o in ops], np.array(theta).reshape(-1, 1))]).result()[0]
    wall = time.perf_counter() - t0
    err = (np.asarray(res.data.evs) - np.array(exact)) * 1e3
    std = np.asarray(res.data.stds) * 1e3
    per_e = est.last["shots_per_energy"]
    return {
        "section": "H2 surface (tapered)",
        "device": device_name,
        "mitigation": preset,
        "seed": seed,
        "precision_mha": precision_mha,
        "qubits": 1,
        "two_qubit_gates": two_qubit_gates(isa),
        "shots_per_energy": per_e,
        "device_s_per_energy": device_seconds(per_e, jobs=0),
        "errors_mha": err.round(4).tolist(),
        "stderr_mha": std.round(4).tolist(),
        "mean_abs_mha": float(np.mean(np.abs(err))),
        "max_abs_mha": float(np.max(np.abs(err))),
        "max_z": float(np.max(np.abs(err / std))),
        "wall_s": wall,
        "calibration": {str(k): [round(x, 5) for x in v] for k, v in est.calibration.items()},
    }


def h2_untapered(device_name: str, precision_mha: float, seed: int, geometries=(0.55, 0.74, 1.95)):
    import torch

    import qml
    from qml.backends import resolve
    from qml.chem.bank import HamiltonianEntry
    from qml.runtime.shots import device_seconds

    errs, stds, per_e, cx = [], [], [], 0
    t0 = time.perf_counter()
    be = resolve(f"aer:{device_name}", n_qubits=4, seed=seed, precision=precision_mha)
    for r in geometries:
        mol = qml.chem.Molecule.from_name("H2", r)
        res = qml.chem.vqe(mol, ansatz="uccsd", backend="sector", progress=False)
        ans = qml.chem.make_ansatz(mol, "uccsd")
        ev = be.energy_evaluator(ans, 4)
        with torch.no_grad():
            e = ev(torch.tensor(res.params, dtype=torch.float64).reshape(1, -1), [HamiltonianEntry(mol)])
        errs.append((float(e[0]) - res.exact_energy) * 1e3)
        stds.append(float(ev.last_stderr[0]) * 1e3)
        per_e.append(be.estimator.last["shots_per_energy"])
        if not cx:
            from qml.backends.qiskit_circuits import trace_ansatz

            compiled = be.compile(trace_ansatz(ans, torch.tensor(res.params).reshape(1, -1), 4))
            cx = two_qubit_gates(compiled.isa)
    err, std = np.array(errs), np.array(stds)
    return {
        "section": "H2 untapered (uccsd, 4 qubits)",
        "device": device_name,
        "mitigation": f"auto ({be.mitigation.name})",
        "precision_mha": precision_mha,
        "qubits": 4,
        "two_qubit_gates": cx,
        "geometries": list(geometries),
        "shots_per_energy": int(np.mean(per_e)),
        "device_s_per_energy": device_seconds(int(np.mean(per_e)), jobs=0),
        "errors_mha": err.round(3).tolist(),
        "stderr_mha": std.round(3).tolist(),
        "mean_abs_mha": float(np.mean(np.abs(err))),
        "max_abs_mha": float(np.max(np.abs(err))),
        "max_z": float(np.max(np.abs(err / std))),
        "wall_s": time.perf_counter() - t0,
    }


def lih_tapered(device_name: str, preset: str, precision_mha: float, seed: int, geometries=(1.595,)):
    from qiskit import QuantumCircuit, transpile
    from qiskit.circuit.library import StatePreparation

    from qml.backends.aer import fake_device
    from qml.runtime.mitigated import MitigatedEstimator
    from qml.runtime.mitigation import resolve_mitigation
    from qml.runtime.shots import device_seconds

    dev = fake_device(device_name)
    est = MitigatedEstimator(dev, mitigation=resolve_mitigation(preset, dev), precision=precision_mha * 1e-3, seed=seed)
    errs, stds, per_e, cx, n = [], [], [], [], 0
    t0 = time.perf_counter()
    for r in geometries:
        op, n, exact, psi = tapered("LiH", r)
        psi = np.real(psi) / np.linalg.norm(np.real(psi))
        qc = QuantumCircuit(n)
        qc.append(StatePreparation(psi), range(n))
        isa = transpile(qc, dev, optimization_level=3, seed_transpiler=seed)
        cx.append(two_qubit_gates(isa))
        res = est.run([(isa, op.apply_layout(isa.layout))]).result()[0]
        errs.append((float(res.data.evs) - exact) * 1e3)
        stds.append(float(res.data.stds) * 1e3)
        per_e.append(est.last["shots_per_energy"])
    err, std = np.array(errs), np.array(stds)
    return {
        "section": "LiH tapered (exact ground state, StatePreparation)",
        "device": device_name,
        "mitigation": preset,
        "precision_mha": precision_mha,
        "qubits": n,
        "two_qubit_gates": int(max(cx)),
        "geometries": list(geometries),
        "shots_per_energy": int(np.mean(per_e)),
        "device_s_per_energy": device_seconds(int(np.mean(per_e)), jobs=0),
        "errors_mha": err.round(3).tolist(),
        "stderr_mha": std.round(3).tolist(),
        "mean_abs_mha": float(np.mean(np.abs(err))),
        "max_abs_mha": float(np.max(np.abs(err))),
        "max_z": float(np.max(np.abs(err / std))),
        "wall_s": time.perf_counter() - t0,
    }


def _surface_inputs(device_name: str, seed: int):
    from qiskit import QuantumCircuit, transpile
    from qiskit.circuit import Parameter

    from qml.backends.aer import fake_device

    dev = fake_device(device_name)
    ops, exact, theta = [], [], []
    for r in R_TEST:
        op, _, e, _ = tapered("H2", r)
        a = dict(zip(op.paulis.to_labels(), op.coeffs.real))
        ops.append(op)
        exact.append(e)
        theta.append(np.arctan2(-a.get("X", 0.0), -a.get("Z", 0.0)))
    t = Parameter("theta")
    qc = QuantumCircuit(1)
    qc.ry(t, 0)
    isa = transpile(qc, dev, optimization_level=1, seed_transpiler=seed)
    return dev, isa, ops, np.array(exact), np.array(theta)


def runtime_estimator(device_name: str, level: int, shots: int, seed: int):
    """Qiskit Runtime's client-side Estimator in local mode, all 11 geometries in one PUB."""
    from qiskit_ibm_runtime.executor_estimator import Estimator

    from qml.runtime.shots import device_seconds

    dev, isa, ops, exact, theta = _surface_inputs(device_name, seed)
    opts = {"default_shots": shots, "resilience_level": level, "simulator": {"seed_simulator": seed + 1}}
    t0 = time.perf_counter()
    res = Estimator(mode=dev, options=opts).run(
        [(isa, [o.apply_layout(isa.layout) for o in ops], theta.reshape(-1, 1))]
    )
    res = res.result()[0]
    err = (np.asarray(res.data.evs) - exact) * 1e3
    std = np.asarray(res.data.stds) * 1e3
    return {
        "section": "H2 surface (tapered): Qiskit Runtime Estimator, local mode",
        "device": device_name,
        "mitigation": f"resilience_level={level}",
        "qubits": 1,
        "two_qubit_gates": two_qubit_gates(isa),
        "shots_per_energy": 2 * shots,
        "device_s_per_energy": device_seconds(2 * shots, jobs=0),
        "errors_mha": err.round(4).tolist(),
        "stderr_mha": std.round(4).tolist(),
        "mean_abs_mha": float(np.mean(np.abs(err))),
        "max_abs_mha": float(np.max(np.abs(err))),
        "max_z": float(np.max(np.abs(err / std))),
        "wall_s": time.perf_counter() - t0,
        "note": "default_shots per setting (2 settings); TREX/ZNE run extra circuits on top",
    }


def qiskit_ml_peer(device_name: str, shots: int, seed: int):
    """EstimatorQNN + TorchConnector (one QNN per geometry: fixed observables), resilience_level=2."""
    import torch
    from qiskit_ibm_runtime.executor_estimator import Estimator
    from qiskit_machine_learning.connectors import TorchConnector
    from qiskit_machine_learning.neural_networks import EstimatorQNN

    from qml.runtime.shots import device_seconds

    dev, isa, ops, exact, theta = _surface_inputs(device_name, seed)
    est = Estimator(
        mode=dev, options={"default_shots": shots, "resilience_level": 2, "simulator": {"seed_simulator": seed + 1}}
    )
    errs, stds = [], []
    t0 = time.perf_counter()
    pick = [R_TEST.index(r) for r in PEER_R]
    for op, e, th in zip([ops[i] for i in pick], exact[pick], theta[pick]):
        qnn = EstimatorQNN(
            circuit=isa,
            estimator=est,
            observables=op.apply_layout(isa.layout),
            input_params=[],
            weight_params=list(isa.parameters),
        )
        model = TorchConnector(qnn, initial_weights=np.array([th]))
        with torch.no_grad():
            val = float(model(torch.zeros(1, 0)).reshape(-1)[0])
        errs.append((val - e) * 1e3)
        stds.append(float("nan"))
    err = np.array(errs)
    return {
        "section": f"H2 (tapered) at r = {PEER_R}: Qiskit ML EstimatorQNN + TorchConnector",
        "device": device_name,
        "mitigation": "resilience_level=2",
        "qubits": 1,
        "two_qubit_gates": two_qubit_gates(isa),
        "shots_per_energy": 2 * shots,
        "device_s_per_energy": device_seconds(2 * shots, jobs=0),
        "errors_mha": err.round(4).tolist(),
        "stderr_mha": None,
        "mean_abs_mha": float(np.mean(np.abs(err))),
        "max_abs_mha": float(np.max(np.abs(err))),
        "max_z": None,
        "wall_s": time.perf_counter() - t0,
        "note": "TorchConnector returns no standard error",
    }


class _Timeout(Exception):
    pass


R_TRAIN = [0.5, 0.7, 0.9, 1.2, 1.6, 2.0]
R_HELD = [0.55, 1.25, 1.95]


def _pes_errors(model):
    import torch

    with torch.no_grad():
        e, s = model.energy(R_HELD, return_std=True)
    exact = np.array([float(model.exact_energy(r)) for r in R_HELD])
    return (np.asarray(e, dtype=float).ravel() - exact) * 1e3, np.asarray(s, dtype=float).ravel() * 1e3


def pes_fit(device_name: str, seed: int, limit_s: int):
    """H2 PESModel: (a) qml.fit on the exact simulator (taper=True), evaluated on the device; (b) the same
    weights fine-tuned by qml.fit on the device for 3 epochs; (c) qml.fit from scratch on the device
    (no option but the backend), stopped after ``limit_s`` seconds. Errors at 3 held-out geometries."""
    import torch

    import qml

    out = []
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    exact = qml.PESModel("H2", backend="fast", taper=True)
    qml.fit(exact, R_TRAIN, epochs=100, seed=seed, progress=False)
    t_exact = time.perf_counter() - t0
    device = qml.PESModel("H2", backend=f"aer:{device_name}", seed=seed)
    device.load_state_dict(exact.state_dict())
    t0 = time.perf_counter()
    err, std = _pes_errors(device)
    out.append(
        (
            "pre-trained exactly (fast, 100 epochs), evaluated on the device",
            err,
            std,
            t_exact + time.perf_counter() - t0,
        )
    )
    t0 = time.perf_counter()
    qml.fit(device, R_TRAIN, epochs=3, seed=seed, progress=False)
    err, std = _pes_errors(device)
    out.append(("+ 3 epochs of qml.fit on the device", err, std, time.perf_counter() - t0))

    def stop(*_):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(limit_s)
    t0 = time.perf_counter()
    try:
        torch.manual_seed(seed)
        scratch = qml.PESModel("H2", backend=f"aer:{device_name}", seed=seed)
        qml.fit(scratch, R_TRAIN, epochs=60, seed=seed, progress=False)
        signal.alarm(0)
        err, std = _pes_errors(scratch)
        out.append(
            (
                "qml.fit from scratch on the device (60 epochs, no option but the backend)",
                err,
                std,
                time.perf_counter() - t0,
            )
        )
    except _Timeout:
        out.append(
            (
                f"qml.fit from scratch on the device: not finished within {limit_s} s",
                None,
                None,
                time.perf_counter() - t0,
            )
        )
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return [
        {
            "device": device_name,
            "how": how,
            "errors_mha": None if e is None else e.round(3).tolist(),
            "stderr_mha": None if s is None else s.round(3).tolist(),
            "wall_s": w,
        }
        for how, e, s, w in out
    ]


def vqe_default(device_name: str, limit_s: int):
    """``qml.chem.vqe(Molecule.from_name("H2", 0.74), backend="aer:<device>")``, nothing else."""
    import qml

    def stop(*_):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(limit_s)
    t0 = time.perf_counter()
    try:
        res = qml.chem.vqe(qml.chem.Molecule.from_name("H2", 0.74), backend=f"aer:{device_name}", progress=False)
        out = {
            "error_mha": res.error_mha,
            "stderr_mha": None if res.energy_stderr is None else res.energy_stderr * 1e3,
            "wall_s": time.perf_counter() - t0,
            "evaluations": res.n_evaluations,
            "backend": repr(res.backend),
        }
    except _Timeout:
        out = {"error_mha": None, "wall_s": time.perf_counter() - t0, "note": f"no answer within {limit_s} s"}
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return {"section": "vqe, no option but the backend", "device": device_name, **out}


def _row(r) -> str:
    z = "-" if r.get("max_z") is None else f"{r['max_z']:.2f}"
    seed = "" if r.get("seed") is None else f" (seed {r['seed']})"
    return (
        f"| {r['section']} | {r['device']} | {r['mitigation']}{seed} | {r['qubits']} | {r['two_qubit_gates']} | "
        f"{r['shots_per_energy']:,} | {r['device_s_per_energy']:.0f} | {r['mean_abs_mha']:.2f} | "
        f"{r['max_abs_mha']:.2f} | {z} | {r['wall_s']:.1f} |"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--precision", type=float, default=0.4, help="target stderr per energy, mHa (H2 surface)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--seeds", type=lambda t: [int(v) for v in t.split(",")], default=[7, 8, 9])
    ap.add_argument("--vqe-limit", type=int, default=90)
    ap.add_argument("--fit-limit", type=int, default=180)
    args = ap.parse_args()
    load = [os.getloadavg()]
    t_start = time.perf_counter()
    rows, vqe_rows = [], []
    presets = ("none", "readout", "readout+zne") if args.quick else PRESETS
    for dev in DEVICES:
        for preset in presets:
            # the default preset is run with several seeds (every run reported), the others with one
            for seed in args.seeds if preset == "readout+zne" else [args.seed]:
                rows.append(h2_surface(dev, preset, args.precision, seed))
                print(_row(rows[-1]), flush=True)
    partial = lambda: write(args, rows, vqe_rows, [], [load[0], os.getloadavg()], time.perf_counter() - t_start)  # noqa: E731
    partial()
    if not args.quick:
        for dev in DEVICES:
            rows.append(h2_untapered(dev, 2.0, args.seed))
            print(_row(rows[-1]), flush=True)
        rows.append(lih_tapered("FakeFez", "readout+zne", 2.0, args.seed))
        print(_row(rows[-1]), flush=True)
        partial()
        shots = 100_000
        for level in (1, 2):
            rows.append(runtime_estimator("FakeManilaV2", level, shots, args.seed))
            print(_row(rows[-1]), flush=True)
        try:
            import qiskit_machine_learning  # noqa: F401

            rows.append(qiskit_ml_peer("FakeManilaV2", shots, args.seed))
            print(_row(rows[-1]), flush=True)
        except ImportError as exc:
            rows.append({"section": "Qiskit ML peer", "skipped": f"qiskit_machine_learning not importable: {exc}"})
        partial()
        for dev in DEVICES:
            vqe_rows.append(vqe_default(dev, args.vqe_limit))
            print(vqe_rows[-1], flush=True)
        partial()
        pes_rows = pes_fit("FakeManilaV2", args.seed, args.fit_limit)
        print(pes_rows, flush=True)
    else:
        pes_rows = []
    load.append(os.getloadavg())
    write(args, rows, vqe_rows, pes_rows, load, time.perf_counter() - t_start)


def write(args, rows, vqe_rows, pes_rows, load, total_s):
    import qiskit
    import qiskit_aer
    import qiskit_ibm_runtime

    RESULTS.mkdir(exist_ok=True)
    versions = f"qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, qiskit-ibm-runtime {qiskit_ibm_runtime.__version__}"
    try:
        import qiskit_machine_learning

        versions += (
            f", qiskit-machine-learning {qiskit_machine_learning.__version__} (installed beside, not a dependency)"
        )
    except ImportError:
        pass
    cmd = (
        "nice -n 5 python benchmarks/bench_noisy.py"
        + (" --quick" if args.quick else "")
        + (f" --precision {args.precision}" if args.precision != 0.4 else "")
    )
    la = "load average %.2f %.2f %.2f at start, %.2f %.2f %.2f at end" % (*load[0], *load[-1])
    lines = [
        "# Chemistry on noisy device models: tapering, qml's mitigation, measured error bars",
        "",
        f"Command: `{cmd}` ({total_s:.0f} s in all)  ",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; {versions}; {la} "
        "(2 cores shared by 8 engineers: wall times are indicative only)",
        "",
        "Energies are measured on Aer with the fake device's noise model at the exact-simulator optimum of the ansatz "
        f"(H2 tapered to 1 qubit, `RY(theta)`), held-out r = {R_TEST} A, against the exact active-space energy. "
        f"Target stderr per energy (`precision=`): {args.precision} mHa for the H2 surface. `max |z|` = max |error| / "
        "reported stderr (measured variances, readout inversion, calibration and extrapolation included). "
        "Device seconds per energy: shots x 250 us (qml.runtime.cost's rough per-shot time).",
        "",
        "| configuration | device | mitigation | qubits | 2q gates (ISA) | shots / energy | est. device s / energy "
        "| mean abs error (mHa) | max abs error (mHa) | max abs z | wall s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "skipped" in r:
            continue
        lines.append(_row(r))
    for r in rows:
        if "skipped" in r:
            lines.append(f"\n{r['section']}: skipped ({r['skipped']})")
    if vqe_rows:
        lines += [
            "",
            "## vqe with no option but the backend",
            "",
            "| device | error (mHa) | stderr (mHa) | wall s | note |",
            "|---|---:|---:|---:|---|",
        ]
        for v in vqe_rows:
            e = "-" if v.get("error_mha") is None else f"{v['error_mha']:.2f}"
            s = "-" if v.get("stderr_mha") is None else f"{v['stderr_mha']:.2f}"
            lines.append(f"| {v['device']} | {e} | {s} | {v['wall_s']:.1f} | {v.get('note', v.get('backend', ''))} |")
    if pes_rows:
        lines += [
            "",
            f"## H2 PESModel and qml.fit on the device (errors / stderr in mHa at r = {R_HELD} A)",
            "",
            "| device | how | errors / stderr (mHa) | wall s |",
            "|---|---|---|---:|",
        ]
        for p in pes_rows:
            pairs = (
                "-"
                if p["errors_mha"] is None
                else ", ".join(f"{e:+.2f}/{s:.2f}" for e, s in zip(p["errors_mha"], p["stderr_mha"]))
            )
            lines.append(f"| {p['device']} | {p['how']} | {pairs} | {p['wall_s']:.0f} |")
    lines += ["", "## Per geometry (H2 surface, errors / stderr in mHa)", ""]
    for r in rows:
        if r.get("section") == "H2 surface (tapered)":
            pairs = ", ".join(f"{e:+.2f}/{s:.2f}" for e, s in zip(r["errors_mha"], r["stderr_mha"]))
            lines.append(f"- {r['device']}, {r['mitigation']} (seed {r['seed']}): {pairs}")
    (RESULTS / "noisy.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "noisy.json").write_text(
        json.dumps(
            {"rows": rows, "vqe": vqe_rows, "pes": pes_rows, "load": load, "total_s": total_s, "versions": versions},
            indent=1,
        )
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
