"""Jobs per optimizer step: qml's packed ``ibm:`` executor vs PennyLane's ``qiskit.remote`` device
vs Qiskit Machine Learning's TorchConnector, on the same model, batch and fake device; and the jobs of
one molecular-energy step (a batch of geometries, each with its own Hamiltonian).

Every peer runs through Qiskit Runtime's local testing mode on ``FakeManilaV2``, where every
primitive job goes through ``QiskitRuntimeLocalService._run`` (legacy server-side primitives) or
``QiskitRuntimeLocalService._run_executor`` (the client-side Estimator of qiskit-ibm-runtime 0.50+,
which qml uses); we count those calls (jobs), the PUBs they carry, and the parameter bindings
(measurement groups are the peers' business: we count bindings) for ONE optimizer step
(forward + backward + ``opt.step()``) on a batch of B samples.

Model: 2 qubits, RY angle embedding of 2 features, one hardware-efficient layer (RY per qubit, CZ),
<Z0>, <Z1>; gradients w.r.t. weights and inputs (as when a classical pre-network feeds the circuit).

The PennyLane peer needs the ``pennylane-qiskit`` plugin, which qml no longer depends on: it is counted
only when importable, and the table says so otherwise. Qiskit Machine Learning likewise.

Run:  python benchmarks/bench_jobs.py [--batch 4] [--shots 128]   (writes benchmarks/results/jobs.md)
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch

warnings.filterwarnings("ignore")

RESULTS = Path(__file__).parent / "results" / "jobs.md"


@contextlib.contextmanager
def count_runtime_jobs():
    """Count primitive jobs submitted through Qiskit Runtime's local testing mode (both paths)."""
    from qiskit.primitives.containers.estimator_pub import EstimatorPub
    from qiskit_ibm_runtime.executor_estimator import Estimator as ClientEstimator
    from qiskit_ibm_runtime.fake_provider.local_service import QiskitRuntimeLocalService

    counts = {"jobs": 0, "pubs": 0, "bindings": 0}

    def count_pubs(pubs):
        for pub in pubs:
            counts["pubs"] += 1
            try:
                counts["bindings"] += int(np.prod(EstimatorPub.coerce(pub).parameter_values.shape))
            except Exception:  # a Sampler PUB
                counts["bindings"] += 1

    real_run, real_executor, real_client = (
        QiskitRuntimeLocalService._run,
        QiskitRuntimeLocalService._run_executor,
        ClientEstimator.run,
    )

    def counting_run(self, program_id, inputs, options, calibration_id=None, dry_run=False):
        counts["jobs"] += 1
        count_pubs(inputs["pubs"])
        return real_run(self, program_id, inputs, options, calibration_id)

    def counting_executor(self, backend, options, inputs, dry_run=False):
        counts["jobs"] += 1
        return real_executor(self, backend, options, inputs, dry_run)

    def counting_client(self, pubs, **kwargs):
        pubs = list(pubs)
        count_pubs(pubs)
        return real_client(self, pubs, **kwargs)

    QiskitRuntimeLocalService._run = counting_run
    QiskitRuntimeLocalService._run_executor = counting_executor
    ClientEstimator.run = counting_client
    try:
        yield counts
    finally:
        QiskitRuntimeLocalService._run, QiskitRuntimeLocalService._run_executor = real_run, real_executor
        ClientEstimator.run = real_client


def data(batch: int):
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(batch, 2, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    y = torch.rand(batch, 2, generator=g, dtype=torch.float64)
    w = (torch.rand(1, 2, generator=g, dtype=torch.float64)).requires_grad_(True)
    return x, y, w


def one_step(forward, params, x, y):
    opt = torch.optim.SGD(params, lr=0.1)
    opt.zero_grad()
    loss = ((forward(x) - y) ** 2).mean()
    loss.backward()
    opt.step()


def bench_qml(batch, shots):
    from qml.circuits import make_spec
    from qml.runtime import ibm_backend

    spec = make_spec(n_qubits=2, embedding="angle", ansatz="hardware_efficient", layers=1)
    ex = ibm_backend("FakeManilaV2", n_qubits=2, shots=shots, seed=0, store=False).make_executor(spec)
    x, y, w = data(batch)
    with count_runtime_jobs() as counts:
        t0 = time.perf_counter()
        one_step(lambda inp: ex(inp, w), [w], x, y)
    return dict(counts, seconds=time.perf_counter() - t0, note="1 job, 1 PUB (n_evals, P) with observables broadcast")


def bench_pennylane_remote(batch, shots):
    try:
        import pennylane_qiskit  # noqa: F401 - the plugin behind qp.device("qiskit.remote")
    except ImportError:
        return None
    import pennylane as qp
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    dev = qp.device("qiskit.remote", wires=2, backend=FakeManilaV2())

    @qp.transforms.broadcast_expand  # parameter-shift cannot differentiate broadcast tapes
    @qp.set_shots(shots=shots)
    @qp.qnode(dev, interface="torch", diff_method="parameter-shift")
    def circuit(inputs, weights):
        qp.AngleEmbedding(inputs, wires=[0, 1], rotation="Y")
        for i in range(2):
            qp.RY(weights[0, i], wires=i)
        qp.CZ(wires=[0, 1])
        return [qp.expval(qp.PauliZ(0)), qp.expval(qp.PauliZ(1))]

    x, y, w = data(batch)
    with count_runtime_jobs() as counts:
        t0 = time.perf_counter()
        one_step(lambda inp: torch.stack(list(circuit(inp, w)), -1), [w], x, y)
    return dict(
        counts,
        seconds=time.perf_counter() - t0,
        note="qp.device('qiskit.remote', backend=FakeManilaV2()), diff_method='parameter-shift', broadcast_expand",
    )


def bench_qiskit_ml(batch, shots):
    try:
        from qiskit_machine_learning.connectors import TorchConnector
        from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient
        from qiskit_machine_learning.neural_networks import EstimatorQNN
    except ImportError:
        return None
    from qiskit.circuit import ParameterVector, QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import EstimatorV2
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    device = FakeManilaV2()
    xs, ws = ParameterVector("x", 2), ParameterVector("w", 2)
    qc = QuantumCircuit(2)
    for i in range(2):
        qc.ry(xs[i], i)
    for i in range(2):
        qc.ry(ws[i], i)
    qc.cz(0, 1)
    pm = generate_preset_pass_manager(optimization_level=1, backend=device)
    estimator = EstimatorV2(mode=device, options={"default_shots": shots})
    isa = pm.run(qc)  # ISA circuit + observables on its layout, as the runtime Estimator requires
    observables = [SparsePauliOp(label).apply_layout(isa.layout) for label in ("IZ", "ZI")]
    qnn = EstimatorQNN(
        circuit=isa,
        estimator=estimator,
        observables=observables,
        input_params=list(xs),
        weight_params=list(ws),
        input_gradients=True,
        gradient=ParamShiftEstimatorGradient(estimator),
    )
    x, y, _ = data(batch)
    model = TorchConnector(qnn, initial_weights=np.array([0.3, 0.4]))
    with count_runtime_jobs() as counts:
        t0 = time.perf_counter()
        one_step(lambda inp: model(inp).to(torch.float64), list(model.parameters()), x.float(), y)
    return dict(
        counts,
        seconds=time.perf_counter() - t0,
        note="EstimatorQNN(input_gradients=True) + ParamShiftEstimatorGradient, TorchConnector",
    )


def bench_energy(name, radii, shots, backend):
    """One energy step (forward + backward + SGD step) for len(radii) geometries of ``name``, uccsd."""
    from qml.backends.aer import AerBackend
    from qml.chem import Molecule, make_ansatz
    from qml.runtime import ibm_backend

    mols = [Molecule.from_name(name, r) for r in radii]
    hams = [m.hamiltonian() for m in mols]
    ansatz = make_ansatz(mols[0], "uccsd")
    n = mols[0].n_qubits
    if backend.startswith("ibm:"):
        be = ibm_backend(backend[4:], n_qubits=n, shots=shots, seed=0, store=False)
    else:
        be = AerBackend(backend, n_qubits=n, seed=0)
    ev = be.energy_evaluator(ansatz, n)
    params = torch.full((len(radii), ansatz.n_params), 0.05, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([params], lr=0.1)
    with count_runtime_jobs() as counts:
        t0 = time.perf_counter()
        opt.zero_grad()
        ev(params, hams).sum().backward()
        opt.step()
    seconds = time.perf_counter() - t0
    if not backend.startswith("ibm:"):  # Aer: primitive calls, counted by the evaluator
        counts = {"jobs": ev.stats["jobs"], "pubs": ev.stats["pubs"], "bindings": ev.stats["circuits"]}
    return dict(
        counts,
        seconds=seconds,
        note=f"{name} uccsd, {len(radii)} geometries, {ansatz.n_params} parameters, "
        f"{backend}{'' if backend == 'aer' else f', {shots} shots'}; 1 PUB: observables ({len(radii)},), "
        "parameter values (1 + 2K, B, P)",
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--shots", type=int, default=128)
    args = parser.parse_args(argv)
    rows = [
        ("qml `ibm:FakeManilaV2` (packed executor)", bench_qml(args.batch, args.shots)),
        ("PennyLane `qiskit.remote`", bench_pennylane_remote(args.batch, args.shots)),
    ]
    qml_ml = bench_qiskit_ml(args.batch, args.shots)
    rows.append(("Qiskit ML TorchConnector", qml_ml))
    radii = (0.6, 0.74, 0.9, 1.2, 1.6, 2.0, 2.5, 3.0)[: args.batch]
    energy_rows = [
        ("qml energy, `ibm:FakeManilaV2`", bench_energy("H2", radii, args.shots, "ibm:FakeManilaV2")),
        (
            "qml energy, `aer` (exact)",
            bench_energy("LiH", tuple(1.0 + 0.4 * i for i in range(args.batch)), None, "aer"),
        ),
    ]
    import os

    import pennylane
    import qiskit
    import qiskit_aer
    import qiskit_ibm_runtime

    versions = (
        f"pennylane {pennylane.__version__}, qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, "
        f"qiskit-ibm-runtime {qiskit_ibm_runtime.__version__}"
    )
    load = "load average %.2f %.2f %.2f" % os.getloadavg()
    try:
        import qiskit_machine_learning

        versions += f", qiskit-machine-learning {qiskit_machine_learning.__version__}"
    except ImportError:
        pass
    lines = [
        "# Jobs per optimizer step",
        "",
        f"One optimizer step (forward + backward + SGD step) on a batch of B={args.batch} samples, "
        f"{args.shots} shots, 2 qubits (RY embedding of 2 features, one RY+CZ layer, <Z0>, <Z1>), gradients "
        "w.r.t. weights and inputs, all on `FakeManilaV2` through Qiskit Runtime local testing mode. "
        "Jobs = primitive jobs submitted (counted at `QiskitRuntimeLocalService._run` and `._run_executor`); bindings = parameter "
        "value sets sent in those PUBs (qml and PennyLane measure both observables on each binding; Qiskit ML "
        "pairs each observable with its own bindings, so its count is per observable). Wall time includes "
        "transpilation and the local noisy simulation.",
        "",
        f"Command: `python benchmarks/bench_jobs.py --batch {args.batch} --shots {args.shots}`  ",
        f"Machine: {platform.machine()}, {platform.python_version()}, {os.cpu_count()} cores, {load} "
        "(shared machine: wall times are indicative only); " + versions,
        "",
        "| executor | jobs / step | PUBs / step | bindings / step | wall s | how |",
        "|---|---:|---:|---:|---:|---|",
    ]
    missing = {
        "PennyLane `qiskit.remote`": "pennylane-qiskit not installed (qml does not depend on it): not counted",
        "Qiskit ML TorchConnector": "qiskit-machine-learning not installed: not counted",
    }
    for name, r in rows:
        if r is None:
            lines.append(f"| {name} | - | - | - | - | {missing[name]} |")
            continue
        lines.append(f"| {name} | {r['jobs']} | {r['pubs']} | {r['bindings']} | {r['seconds']:.1f} | {r['note']} |")
    if any(r is None for _, r in rows):
        lines += [
            "",
            "Peers not installed here were counted in an earlier run with them installed: "
            "`results/jobs_2026-12-01_with_peers.md`.",
        ]
    lines += [
        "",
        f"## One molecular-energy step (B={args.batch} geometries, energies + gradients)",
        "",
        "Jobs = Qiskit Runtime jobs (`ibm:`) or Estimator primitive calls (`aer`); bindings = parameter "
        "value sets x geometries in the PUB.",
        "",
        "| executor | jobs / step | PUBs / step | bindings / step | wall s | what |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, r in energy_rows:
        lines.append(f"| {name} | {r['jobs']} | {r['pubs']} | {r['bindings']} | {r['seconds']:.1f} | {r['note']} |")
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
