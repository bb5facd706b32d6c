"""The benchmark suite (issue 6): qml and its peers in ONE run, interleaved, gradients checked first.

    python benchmarks/suite.py                        # everything (W1 W2 W3 + scaling table; ~30-40 min)
                                                      #   -> benchmarks/results/suite.{json,md}
    python benchmarks/suite.py --quick --rounds 1     # smallest sizes (what tests/test_benchmarks.py runs)

  Parts, each in a few minutes (--keep-others keeps the other parts of the existing suite.json/md, and the
  scaling cells (size, contender) not run again):
    python benchmarks/suite.py --workloads W1 --rounds 3 --keep-others        # W1 only (~3 min)
    python benchmarks/suite.py --workloads W2 --keep-others                   # W2 only (~1 min)
    python benchmarks/suite.py --workloads SCALE --sizes 8 12 16 --keep-others  # scaling table, small sizes (~3 min)
    python benchmarks/suite.py --workloads SCALE --sizes 20 22 --rounds 2 --scale-contenders fast_backprop \
        fast_adjoint --keep-others                                            # the large qml cells (~10 min)
    python benchmarks/suite.py --workloads SCALE --keep-others                # the whole table (~20-30 min: peers
                                                                              #   at 20+ qubits hit the cell cap)
  options: --rounds N (default 5)  --workloads W1 W2 W3 SCALE  --out DIR  --threads T (default 1)
           --device cpu|cuda (torch device of the qml "fast" and default.qubit contenders; no GPU is needed
           otherwise)  --memory subprocess|inprocess|off
           scaling: --sizes N.. --scale-contenders K.. --scale-layers L (2) --scale-batch B (8)
           --cell-timeout S (300) --cell-memory-gib G (8)

SCALE  the scaling table: the W1 model with 2 layers and batch 8 at 8, 12, 16, 20, 22 qubits, each cell
      (size x contender) in a fresh process capped in time (--cell-timeout) and address space (--cell-memory-gib):
      qml "fast" with gradient="backprop", with gradient="adjoint" and with its default ("auto": adjoint when
      backprop's memory estimate exceeds half the available memory), qml backend="auto" (its first step includes
      the decision), TorchLayer default.qubit (backprop) and lightning.qubit (adjoint). Reported per cell: first (warm-up) step time and its peak memory, the median of
      the timed steps that fit in half the cap, peak / the batch's state vectors, load average. Cells that do not
      finish are marked. 24 qubits is not in the default sizes: its batch of 8 states alone is 2 GiB, adjoint needs
      ~8 GiB, more than a cell may take on a machine shared by 8 engineers (--sizes 24 --cell-memory-gib 12 runs it).

Workloads (full size; --quick in brackets)
  W1  Linear(16 -> n) -> quantum layer (RY angle embedding, 4 StronglyEntanglingLayers, <Z_i> on every
      wire) -> Linear(n -> 1); batch 64, MSE, Adam; one training step (forward + backward + update), float64,
      n = 8 and 12 [4 qubits, 2 layers, batch 8].  qml: QuantumLayer(backend="fast") and backend="auto"
      (what it picks is recorded).  Peers: PennyLane qp.qnn.TorchLayer on default.qubit (backprop) and on
      lightning.qubit (adjoint).
  W1q the same model at the reduced size Qiskit ML can run (4 qubits, 2 layers, batch 16) [2 qubits, 1 layer,
      batch 4]: Qiskit Machine Learning TorchConnector(EstimatorQNN) on the exact StatevectorEstimator
      (precision 0, parameter-shift gradients) against qml "fast" at the SAME size (and TorchLayer default.qubit).
  W2  LiH (2 electrons in 5 orbitals, 10 qubits), uccsd ansatz of qml.chem.make_ansatz, one energy + gradient
      [H2, 4 qubits].  qml: "auto" as qml.chem.vqe picks it (qml.chem.vqe.energy_function: the backend's
      energy evaluator that vqe runs, auto included), "fast".  Peers: plain PennyLane QNodes on lightning.qubit (adjoint) and
      default.qubit (backprop).
  W3  one epoch of qml.PESModel("H4") (uccsd, 8 qubits, encoder (32, 32)) over 16 geometries in batches of 4
      with Adam; Hamiltonians prepared beforehand, not timed [H2, 3 geometries, batch 3].  qml's default
      (backend "auto" = the particle-number sector simulation) against the same model on "fast" and on
      "default.qubit".

Before anything is timed every contender's gradients (W1: d loss / d inputs and every weight; W2: d E / d
params and E; W3: d loss / d encoder weights) are compared with a reference contender (PennyLane default.qubit
backprop, float64).  Tolerance: 1e-8 (max absolute difference) for float64 contenders; 1e-5 for the two that
compute in float32 precision (PennyLane's torch interface turns lightning.qubit's results into tensors of torch's
default dtype, float32, when nothing scopes it -- qml does, plain TorchLayer/QNode do not; TorchConnector
returns float32 tensors).  A contender that fails the check is reported and not timed.

Timing: one untimed warm-up round, then --rounds rounds; each round runs every contender once, in the same
process, in a fixed order; the tables give medians of wall-clock time and of process CPU time (the CPU time is
steadier on a shared machine).  Ratios are qml / peer (below 1: qml is faster).

Peak memory (--memory subprocess, the default): every contender is built in a fresh Python process (after the
imports, torch's own start-up and the problem's preparation); the process then resets its peak-RSS mark
(/proc/self/clear_refs) and runs the contender's first step (its warm-up): the table reports VmHWM - VmRSS
before the step (ru_maxrss - baseline where clear_refs is missing).  --memory inprocess does the same in the
benchmark process itself (cheaper, but the allocator may reuse memory freed by earlier contenders: a lower
bound); --quick uses it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

RESULTS = Path(__file__).resolve().parent / "results"
TOL_F64 = 1e-8
TOL_F32 = 1e-5
WORKLOADS = ("W1", "W2", "W3", "SCALE")


# ----------------------------------------------------------------------------------------- structure
@dataclass
class Contender:
    key: str
    label: str
    role: str  # "qml", "peer" or "reference" (a peer that also serves as the gradient reference)
    build: Callable  # build(problem) -> Runner
    tol: float = TOL_F64
    tol_note: str = "float64"


@dataclass
class Runner:
    step: Callable[[], None]  # the timed unit of work
    grads: Callable[[], dict]  # name -> numpy array, computed without changing the model
    info: Callable[[], dict] = field(default=lambda: {})


@dataclass
class Case:
    id: str
    workload: str
    title: str
    size: str
    prepare: Callable[[], object]
    contenders: list
    reference: str
    ratios: list  # (qml key, peer key)


# ----------------------------------------------------------------------------------------- W1
def _w1_circuit(n):
    import pennylane as qp

    def circuit(inputs, weights):
        qp.AngleEmbedding(inputs, wires=range(n), rotation="Y")  # qml's "angle" embedding is RY
        qp.StronglyEntanglingLayers(weights, wires=range(n))
        return [qp.expval(qp.PauliZ(i)) for i in range(n)]

    return circuit


def _qiskit_sel_qnn(n, layers):
    """EstimatorQNN of RY angle embedding + StronglyEntanglingLayers, gate for gate as PennyLane's template."""
    from qiskit.circuit import ParameterVector, QuantumCircuit
    from qiskit.primitives import StatevectorEstimator
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient
    from qiskit_machine_learning.neural_networks import EstimatorQNN

    xs, ws = ParameterVector("x", n), ParameterVector("w", layers * n * 3)
    qc = QuantumCircuit(n)
    for i in range(n):
        qc.ry(xs[i], i)
    for l in range(layers):
        for i in range(n):  # Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi)
            k = (l * n + i) * 3
            qc.rz(ws[k], i)
            qc.ry(ws[k + 1], i)
            qc.rz(ws[k + 2], i)
        if n > 1:
            r = (l % (n - 1)) + 1  # PennyLane's default ranges
            for i in range(n):
                qc.cx(i, (i + r) % n)
    # Qiskit labels are little-endian: Z on qubit i is the (n-1-i)-th character.
    obs = [SparsePauliOp("I" * (n - 1 - i) + "Z" + "I" * i) for i in range(n)]
    est = StatevectorEstimator(default_precision=0.0)
    return EstimatorQNN(
        circuit=qc,
        estimator=est,
        observables=obs,
        input_params=list(xs),
        weight_params=list(ws),
        input_gradients=True,
        gradient=ParamShiftEstimatorGradient(est),
        default_precision=0.0,
    )


def _w1_problem(n, layers, batch, device):
    import torch

    g = torch.Generator().manual_seed(1)
    X = torch.randn(batch, 16, generator=g, dtype=torch.float64)
    y = torch.randn(batch, 1, generator=g, dtype=torch.float64)
    w = 0.3 * torch.randn(layers, n, 3, generator=g, dtype=torch.float64)
    pre, post = torch.nn.Linear(16, n).double(), torch.nn.Linear(n, 1).double()
    with torch.no_grad():
        for p in (*pre.parameters(), *post.parameters()):
            p.copy_(0.5 * torch.randn(p.shape, generator=g, dtype=torch.float64))
    return {
        "n": n,
        "layers": layers,
        "X": X,
        "y": y,
        "w": w,
        "pre": pre.state_dict(),
        "post": post.state_dict(),
        "device": device,
    }


def _w1_runner(problem, kind):
    """kind: qml:<backend>, torchlayer:<device>, or qiskit."""
    import copy

    import torch

    n, layers = problem["n"], problem["layers"]
    on_device = kind.startswith("qml:fast") or kind in ("qml:auto", "torchlayer:default.qubit")
    dev = torch.device(problem["device"]) if on_device else torch.device("cpu")
    pre, post = torch.nn.Linear(16, n).double(), torch.nn.Linear(n, 1).double()
    pre.load_state_dict(copy.deepcopy(problem["pre"]))
    post.load_state_dict(copy.deepcopy(problem["post"]))
    w = problem["w"]
    if kind.startswith("qml:"):
        import qml

        backend = kind[4:]
        if "@" in backend:  # "fast@adjoint": a named gradient mode of the fast simulator
            name, gradient = backend.split("@")
            backend = qml.backends.resolve(name, n_qubits=n, gradient=gradient)
        q = qml.QuantumLayer(n, embedding="angle", ansatz="strongly_entangling", layers=layers, backend=backend)
        with torch.no_grad():
            q.weights.copy_(w)
        to_q, from_q = (lambda t: t), (lambda t: t)
    elif kind.startswith("torchlayer:"):
        import pennylane as qp

        name = kind.split(":", 1)[1]
        diff = "backprop" if name == "default.qubit" else "adjoint"
        qnode = qp.QNode(_w1_circuit(n), qp.device(name, wires=n), interface="torch", diff_method=diff)
        q = qp.qnn.TorchLayer(qnode, {"weights": (layers, n, 3)})
        q.weights.data = w.clone()  # TorchLayer creates float32 weights; we run it in float64
        to_q, from_q = (lambda t: t), (lambda t: t)
    else:
        from qiskit_machine_learning.connectors import TorchConnector

        q = TorchConnector(_qiskit_sel_qnn(n, layers), initial_weights=w.reshape(-1).numpy())
        to_q, from_q = (lambda t: t.float()), (lambda t: t.double())  # TorchConnector computes in float32
    model = torch.nn.ModuleDict({"pre": pre, "q": q, "post": post}).to(dev)
    X, y = problem["X"].to(dev), problem["y"].to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    def forward(x):
        return model["post"](from_q(model["q"](to_q(model["pre"](x)))))

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(forward(X), y)
        loss.backward()
        opt.step()
        sync()

    def grads():
        x = X.clone().requires_grad_(True)
        names = ["pre.weight", "pre.bias", "q.weights", "post.weight", "post.bias"]
        params = [pre.weight, pre.bias, q.weight if kind == "qiskit" else q.weights, post.weight, post.bias]
        loss = torch.nn.functional.mse_loss(forward(x), y)
        gs = torch.autograd.grad(loss, [x, *params])
        out = {"loss": loss.detach().reshape(1), "d/dX": gs[0]}
        out.update(dict(zip(names, gs[1:])))
        out["q.weights"] = out["q.weights"].reshape(layers, n, 3)
        return {k: v.detach().double().cpu().numpy() for k, v in out.items()}

    def info():
        if kind == "qml:auto":
            be = q.backend
            d = be.decision.as_dict()
            return {"auto_chose": d["chosen"], "auto_timings_s": d["timings"], "auto_decide_s": d["decide_seconds"]}
        return {"device": str(dev)}

    return Runner(step, grads, info)


def w1_cases(args) -> list:
    sizes = [(4, 2, 8)] if args.quick else [(8, 4, 64), (12, 4, 64)]
    cases = []
    for n, layers, batch in sizes:
        cs = [
            Contender("qml_fast", 'qml QuantumLayer backend="fast"', "qml", lambda p: _w1_runner(p, "qml:fast")),
            Contender("qml_auto", 'qml QuantumLayer backend="auto"', "qml", lambda p: _w1_runner(p, "qml:auto")),
            Contender(
                "tl_default",
                "PennyLane TorchLayer default.qubit (backprop)",
                "reference",
                lambda p: _w1_runner(p, "torchlayer:default.qubit"),
            ),
            Contender(
                "tl_lightning",
                "PennyLane TorchLayer lightning.qubit (adjoint)",
                "peer",
                lambda p: _w1_runner(p, "torchlayer:lightning.qubit"),
                TOL_F32,
                "tolerance 1e-5: PennyLane's torch interface may pass lightning.qubit's results through torch's "
                "default dtype (float32); the measured difference is in the gradient column",
            ),
        ]
        cases.append(
            Case(
                f"W1_n{n}",
                "W1",
                f"W1 hybrid training step, {n} qubits",
                f"{n} qubits, {layers} StronglyEntanglingLayers, batch {batch}, float64",
                (lambda n=n, layers=layers, batch=batch: _w1_problem(n, layers, batch, args.device)),
                cs,
                "tl_default",
                [(q, p) for q in ("qml_fast", "qml_auto") for p in ("tl_default", "tl_lightning")],
            )
        )
    n, layers, batch = (2, 1, 4) if args.quick else (4, 2, 16)
    cs = [
        Contender("qml_fast", 'qml QuantumLayer backend="fast"', "qml", lambda p: _w1_runner(p, "qml:fast")),
        Contender(
            "tl_default",
            "PennyLane TorchLayer default.qubit (backprop)",
            "reference",
            lambda p: _w1_runner(p, "torchlayer:default.qubit"),
        ),
        Contender(
            "qiskit_ml",
            "Qiskit ML TorchConnector(EstimatorQNN), StatevectorEstimator",
            "peer",
            lambda p: _w1_runner(p, "qiskit"),
            TOL_F32,
            "tolerance 1e-5: TorchConnector returns float32 tensors",
        ),
    ]
    cases.append(
        Case(
            f"W1q_n{n}",
            "W1",
            f"W1 at the reduced size for Qiskit ML, {n} qubits",
            f"{n} qubits, {layers} StronglyEntanglingLayers, batch {batch}, float64 except TorchConnector (float32); the "
            "size is reduced because TorchConnector did not finish one 8-qubit step in 14 minutes in an earlier trial",
            (lambda: _w1_problem(n, layers, batch, args.device)),
            cs,
            "tl_default",
            [("qml_fast", "qiskit_ml"), ("qml_fast", "tl_default")],
        )
    )
    return cases


# ----------------------------------------------------------------------------------------- W2
def _w2_problem(name, r):
    import numpy as np

    import qml

    mol = qml.chem.Molecule.from_name(name, r)
    ans = qml.chem.make_ansatz(mol, "uccsd")
    H = mol.hamiltonian()
    theta = 0.05 * np.sin(np.arange(1, ans.n_params + 1))  # a generic point (at HF the singles' gradient is 0)
    return {"mol": mol, "ansatz": ans, "H": H, "theta": theta}


def _w2_runner(problem, kind):
    import contextlib
    import importlib

    import pennylane as qp
    import torch

    _vqe = importlib.import_module("qml.chem.vqe")  # the module (qml.chem.vqe is also the function's name)

    mol, ans, H = problem["mol"], problem["ansatz"], problem["H"]
    meta = {}
    scope = contextlib.nullcontext
    if kind.startswith("qml:"):
        # what qml.chem.vqe evaluates: the backend's energy evaluator (qml.backends), auto included
        qnode, evaluator = _vqe.energy_function(mol, ans, kind[4:])

        def info():
            decision = getattr(evaluator.backend, "decision", None)
            if decision is None:
                return {}
            return {
                "auto_chose": decision.chosen,
                "auto_timings_s": decision.as_dict()["timings"],
                "auto_decide_s": round(decision.decide_seconds, 6),
            }
    else:
        name = kind.split(":", 1)[1]
        diff = "backprop" if name == "default.qubit" else "adjoint"

        def cost(params):
            ans(params)
            return qp.expval(H)

        qnode = qp.QNode(cost, qp.device(name, wires=mol.n_qubits), interface="torch", diff_method=diff)
    theta = torch.tensor(problem["theta"], dtype=torch.float64, requires_grad=True)

    def step():
        theta.grad = None
        with scope():
            e = qnode(theta)
            e.backward()

    def grads():
        theta.grad = None
        with scope():
            e = qnode(theta)
            e.backward()
        return {"energy": e.detach().double().reshape(1).numpy(), "dE/dtheta": theta.grad.detach().double().numpy()}

    return Runner(step, grads, info if kind.startswith("qml:") else (lambda: meta))


def w2_cases(args) -> list:
    name, r = ("H2", 0.74) if args.quick else ("LiH", 1.6)
    cs = [
        Contender("qml_auto", "qml auto (as qml.chem.vqe picks)", "qml", lambda p: _w2_runner(p, "qml:auto")),
        Contender(
            "qml_fast", "qml fast (FastDevice backprop state, sparse <H>)", "qml", lambda p: _w2_runner(p, "qml:fast")
        ),
        Contender(
            "pl_lightning",
            "PennyLane lightning.qubit (adjoint)",
            "peer",
            lambda p: _w2_runner(p, "pl:lightning.qubit"),
            TOL_F32,
            "tolerance 1e-5: a plain torch QNode on lightning.qubit returns float32-precision "
            "values (torch's default dtype); the measured difference is in the gradient column",
        ),
        Contender(
            "pl_default", "PennyLane default.qubit (backprop)", "reference", lambda p: _w2_runner(p, "pl:default.qubit")
        ),
    ]
    size = "H2 0.74 A, 4 qubits" if args.quick else "LiH 1.6 A, 2 electrons in 5 orbitals, 10 qubits"
    return [
        Case(
            f"W2_{name}",
            "W2",
            f"W2 VQE energy + gradient, {name} uccsd",
            size + ", uccsd (Givens singles + doubles)",
            lambda: _w2_problem(name, r),
            cs,
            "pl_default",
            [(q, p) for q in ("qml_auto", "qml_fast") for p in ("pl_lightning", "pl_default")],
        )
    ]


# ----------------------------------------------------------------------------------------- W3
def _w3_problem(name, n_geom, batch):
    import numpy as np

    import qml

    lo, hi = qml.chem.catalog.get(name).scan_range
    return {"name": name, "r": np.linspace(lo, hi, n_geom), "batch": batch}


def _w3_runner(problem, backend):
    import torch

    import qml

    torch.manual_seed(0)
    model = qml.PESModel(problem["name"], backend=backend)
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():  # a generic point: the last layer starts at zero (HF everywhere) in the library
        last = model.encoder[-1]
        last.weight.copy_(0.1 * torch.randn(last.weight.shape, generator=g, dtype=torch.float64))
        last.bias.copy_(0.1 * torch.randn(last.bias.shape, generator=g, dtype=torch.float64))
    model.prepare(problem["r"])  # Hamiltonians: not timed
    r = torch.as_tensor(problem["r"], dtype=torch.float64)
    batches = [r[i : i + problem["batch"]] for i in range(0, len(r), problem["batch"])]
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def step():  # one epoch
        for b in batches:
            opt.zero_grad()
            model.variational_loss(b).backward()
            opt.step()

    def grads():
        params = list(model.encoder.named_parameters())
        loss = model.variational_loss(r)
        gs = torch.autograd.grad(loss, [p for _, p in params])
        out = {"loss": loss.detach().reshape(1).numpy()}
        out.update({f"encoder.{k}": v.detach().numpy() for (k, _), v in zip(params, gs)})
        return out

    return Runner(step, grads, lambda: {"chosen_backend": model.chosen_backend})


def w3_cases(args) -> list:
    name, n_geom, batch = ("H2", 3, 3) if args.quick else ("H4", 16, 4)
    cs = [
        Contender("qml_pes", "qml PESModel default (auto: sector)", "qml", lambda p: _w3_runner(p, "auto")),
        Contender("pes_fast", 'PESModel backend="fast"', "peer", lambda p: _w3_runner(p, "fast")),
        Contender(
            "pes_default", 'PESModel backend="default.qubit"', "reference", lambda p: _w3_runner(p, "default.qubit")
        ),
    ]
    return [
        Case(
            f"W3_{name}",
            "W3",
            f"W3 PESModel epoch, {name}",
            f"{name} uccsd, {n_geom} geometries over the catalog scan range, batches of {batch}, Adam",
            lambda: _w3_problem(name, n_geom, batch),
            cs,
            "pes_default",
            [("qml_pes", "pes_fast"), ("qml_pes", "pes_default")],
        )
    ]


def all_cases(args) -> list:
    makers = {"W1": w1_cases, "W2": w2_cases, "W3": w3_cases}
    return [c for w in args.workloads if w in makers for c in makers[w](args)]


# ----------------------------------------------------------------------------------------- scaling
#: Contenders of the scaling table: key -> (label, _w1_runner kind).
SCALE_CONTENDERS = {
    "fast_backprop": ('qml "fast", gradient="backprop"', "qml:fast@backprop"),
    "fast_adjoint": ('qml "fast", gradient="adjoint"', "qml:fast@adjoint"),
    "fast_default": ('qml "fast" (default gradient="auto")', "qml:fast"),
    "auto": ('qml backend="auto" (first step includes its decision)', "qml:auto"),
    "tl_default": ("PennyLane TorchLayer default.qubit (backprop)", "torchlayer:default.qubit"),
    "tl_lightning": ("PennyLane TorchLayer lightning.qubit (adjoint)", "torchlayer:lightning.qubit"),
}


def scale_cells(args) -> list:
    """(n, key) cells of the scaling table, in the order they run."""
    keys = args.scale_contenders or list(SCALE_CONTENDERS)
    return [(n, k) for n in args.sizes for k in keys]


def cell_main(args) -> int:
    """Child process of one scaling cell: build, one warm-up step (peak memory), then timed steps
    until --rounds are done or half the cell's time cap is spent; prints one CELL line of JSON."""
    n, key = int(args.cell[0]), args.cell[1]
    preload()
    problem = _w1_problem(n, args.scale_layers, args.scale_batch, args.device)
    t_build = time.perf_counter()
    runner = _w1_runner(problem, SCALE_CONTENDERS[key][1])
    out = {"build_s": time.perf_counter() - t_build}
    t0 = time.perf_counter()
    mib, how = measure_peak(runner.step)
    out.update(first_step_s=time.perf_counter() - t0, peak_mib=mib, mem_how=how)
    print("CELL " + json.dumps(out), flush=True)  # the first step alone, should the rest not finish
    wall, cpu = [], []
    t_start = time.perf_counter()
    for _ in range(args.rounds):
        if time.perf_counter() - t_start + (wall[-1] if wall else out["first_step_s"]) > args.cell_timeout / 2:
            break
        w0, c0 = time.perf_counter(), time.process_time()
        runner.step()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    out.update(wall_s=wall, cpu_s=cpu)
    if wall:
        out.update(wall_median_s=statistics.median(wall), cpu_median_s=statistics.median(cpu))
    out["load_end"] = os.getloadavg()
    print("CELL " + json.dumps(out), flush=True)
    return 0


def _limit_memory(nbytes):
    def apply():  # in the child, before exec: its address space is capped (the machine is shared)
        resource.setrlimit(resource.RLIMIT_AS, (nbytes, nbytes))

    return apply


def qml_commit() -> str:
    """The commit of the code measured (``QML_COMMIT`` overrides; ``"unknown"`` outside a git checkout)."""
    if os.environ.get("QML_COMMIT"):
        return os.environ["QML_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "qml"], capture_output=True, text=True, cwd=Path(__file__).parent
        )
        return out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "") if out.returncode == 0 else "unknown"
    except OSError:
        return "unknown"


def run_scaling(args, log) -> dict:
    """The scaling table: every cell in a fresh process, capped in time and in address space."""
    import torch

    commit = qml_commit()

    log(f"\n== Scaling: W1 shape, {args.scale_layers} layers, batch {args.scale_batch}, sizes {args.sizes}")
    rows = []
    itemsize = 16  # complex128
    gave_up: dict = {}  # contender -> the size at which it did not finish (larger sizes are not run)
    for n, key in scale_cells(args):
        if key in gave_up:
            row = {"n": n, "key": key, "label": SCALE_CONTENDERS[key][0], "load_start": os.getloadavg()}
            row["status"] = f"not run: did not finish at {gave_up[key]} qubits"
            row["state_mib"] = 2**n * args.scale_batch * 16 / 2**20
            rows.append(row)
            continue
        cmd = [sys.executable, str(Path(__file__).resolve()), "--_cell", str(n), key]
        cmd += ["--rounds", str(args.rounds), "--threads", str(args.threads), "--device", args.device]
        cmd += ["--cell-timeout", str(args.cell_timeout), "--scale-layers", str(args.scale_layers)]
        cmd += ["--scale-batch", str(args.scale_batch)]
        row = {"n": n, "key": key, "label": SCALE_CONTENDERS[key][0], "load_start": os.getloadavg()}
        row["state_mib"] = 2**n * args.scale_batch * itemsize / 2**20
        row["qml_commit"] = commit
        t0 = time.perf_counter()
        try:
            res = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=args.cell_timeout,
                preexec_fn=_limit_memory(int(args.cell_memory_gib * 2**30)),
            )
            row["status"] = "ok" if res.returncode == 0 else "failed"
            if res.returncode != 0:
                err = (res.stderr.strip().splitlines() or ["?"])[-1]
                if "MemoryError" in res.stderr or "alloc" in err.lower() or res.returncode in (-9, 137):
                    row["status"] = f"out of memory (address space capped at {args.cell_memory_gib:g} GiB)"
                else:
                    row["status"] = f"failed: {err[:200]}"
            stdout = res.stdout
        except subprocess.TimeoutExpired as exc:
            row["status"] = f"did not finish in {args.cell_timeout:g} s"
            stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        for line in stdout.splitlines():
            if line.startswith("CELL "):
                row.update(json.loads(line[5:]))
        if row.get("status", "").startswith("did not") and "first_step_s" in row:
            row["status"] = (
                f"first step {row['first_step_s']:.0f} s; timed steps cut at the {args.cell_timeout:g} s cap"
            )
        row["cell_s"] = time.perf_counter() - t0
        if row.get("wall_median_s") is None:
            gave_up[key] = n
        if row.get("peak_mib") is not None:
            row["peak_over_states"] = row["peak_mib"] / row["state_mib"]
        rows.append(row)
        log(
            f"   n={n:<3d}{key:<15s} {row['status']:<12.60s} first step {row.get('first_step_s', float('nan')):8.2f} s"
            f"  median {row.get('wall_median_s', float('nan')):8.3f} s  peak {row.get('peak_mib') or float('nan'):8.0f} MiB"
        )
    return {
        "layers": args.scale_layers,
        "batch": args.scale_batch,
        "sizes": args.sizes,
        "cell_timeout_s": args.cell_timeout,
        "cell_memory_gib": args.cell_memory_gib,
        "device": args.device,
        "torch": torch.__version__,
        "rows": rows,
    }


def scaling_markdown(sc: dict) -> list:
    lines = [
        f"## Scaling: W1 shape from {min(sc['sizes'])} to {max(sc['sizes'])} qubits",
        "",
        f"Linear(16 -> n) -> RY angle embedding + {sc['layers']} StronglyEntanglingLayers, <Z_i> on every wire -> "
        f"Linear(n -> 1); batch {sc['batch']}, float64, MSE, Adam; one training step. Every cell runs in a fresh "
        f"process (time cap {sc['cell_timeout_s']:g} s, address space capped at {sc['cell_memory_gib']:g} GiB: the "
        "machine is shared); *first step* is the warm-up step, on which the peak memory is measured (peak RSS above "
        "the RSS before it, after imports and model construction); *median* is over the timed steps that fit in half "
        "the cap (count in brackets). *states* = peak / the batch's state vectors (2^n x batch x 16 bytes). Load "
        "average (1 min) when the cell started.",
        "",
        "| qubits | contender | status | first step [s] | median wall [s] (steps) | median CPU [s] | peak [MiB] "
        "| peak / states | load | qml commit |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in sc["rows"]:
        f = lambda k, fmt: "-" if r.get(k) is None else format(r[k], fmt)  # noqa: E731
        steps = len(r.get("wall_s") or [])
        lines.append(
            f"| {r['n']} | {r['label']} | {r['status']} | {f('first_step_s', '.3g')} | "
            f"{f('wall_median_s', '.3g')} ({steps}) | {f('cpu_median_s', '.3g')} | {f('peak_mib', '.0f')} | "
            f"{f('peak_over_states', '.2f')} | {r['load_start'][0]:.1f} | {r.get('qml_commit', 'unknown')} |"
        )
    lines.append("")
    return lines


# ----------------------------------------------------------------------------------------- memory
def _status_kb(field_name):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def measure_peak(fn) -> tuple[float, str]:
    """Run ``fn()``; return (peak resident memory above the starting RSS in MiB, how it was measured)."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak-RSS mark (VmHWM) to the current RSS
        base = _status_kb("VmRSS")
        fn()
        return (_status_kb("VmHWM") - base) / 1024, "VmHWM - VmRSS"
    except OSError:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        fn()
        return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024, "ru_maxrss - baseline"


def preload(qiskit: bool = False) -> None:
    """Import every module a contender may need, so the memory baseline includes the imports."""
    import importlib

    for mod in (
        "torch",
        "pennylane",
        "pennylane_lightning.lightning_qubit",
        "qml",
        "qml.layers",
        "qml.sim",
        "qml.backends",
        "qml.backends.auto",
        "qml.chem",
        "qml.chem.vqe",
        "qml.models.pes",
        "qml.sim.sector",
    ):
        importlib.import_module(mod)
    import torch

    lin = torch.nn.Linear(16, 4).double()  # torch's own lazy start-up (autograd engine, optimizer kernels)
    opt = torch.optim.Adam(lin.parameters())
    lin(torch.randn(8, 16, dtype=torch.float64)).square().mean().backward()
    opt.step()
    if qiskit:
        for mod in (
            "qiskit.primitives",
            "qiskit_machine_learning.connectors",
            "qiskit_machine_learning.gradients",
            "qiskit_machine_learning.neural_networks",
        ):
            try:
                importlib.import_module(mod)
            except ImportError:
                pass


def probe_main(args) -> int:
    """Child process of --memory subprocess: prepare, then build + one step of one contender."""
    case = next(c for c in all_cases(args) if c.id == args.probe[0])
    cont = next(c for c in case.contenders if c.key == args.probe[1])
    preload(qiskit=cont.key == "qiskit_ml")
    problem = case.prepare()
    runner = cont.build(problem)  # built (devices, models, Hamiltonian caches) before the baseline
    mib, how = measure_peak(runner.step)
    print("PROBE " + json.dumps({"peak_mib": mib, "how": how}))
    return 0


def probe_subprocess(args, case, key) -> tuple[float | None, str]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--_probe",
        case.id,
        key,
        "--threads",
        str(args.threads),
        "--device",
        args.device,
        "--workloads",
        case.workload,
    ]
    if args.quick:
        cmd.append("--quick")
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        return None, "probe timed out"
    for line in res.stdout.splitlines():
        if line.startswith("PROBE "):
            d = json.loads(line[6:])
            return d["peak_mib"], d["how"]
    return None, "probe failed: " + (res.stderr.strip().splitlines() or ["?"])[-1][:200]


# ----------------------------------------------------------------------------------------- running
def check_grads(got: dict, ref: dict, tol: float) -> dict:
    worst, where = 0.0, None
    for k, r in ref.items():
        if k not in got or got[k].shape != r.shape:
            return {"passed": False, "max_abs_err": None, "tol": tol, "note": f"{k}: missing or shape mismatch"}
        err = float(abs(got[k] - r).max()) if r.size else 0.0
        if err >= worst:
            worst, where = err, k
    return {"passed": bool(worst <= tol), "max_abs_err": worst, "tol": tol, "worst": where}


def run_case(case: Case, args, log) -> dict:
    log(f"\n== {case.title} ({case.size})")
    t0 = time.perf_counter()
    problem = case.prepare()
    log(f"   prepared in {time.perf_counter() - t0:.1f} s")
    rows, runners = {}, {}
    for c in case.contenders:
        row = {"key": c.key, "label": c.label, "role": c.role, "status": "ok", "tol_note": c.tol_note}
        try:
            t0 = time.perf_counter()
            runners[c.key] = c.build(problem)
            row["build_s"] = time.perf_counter() - t0
        except ImportError as exc:
            row["status"] = f"not installed ({(exc.name or str(exc)).split('.')[0]})"
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            row["status"] = f"error: {type(exc).__name__}: {exc}"[:300]
        rows[c.key] = row
    # gradient check against the reference
    ref_grads = runners[case.reference].grads() if case.reference in runners else None
    for c in case.contenders:
        row = rows[c.key]
        if row["status"] != "ok":
            continue
        try:
            g = ref_grads if c.key == case.reference else runners[c.key].grads()
            row["grad_check"] = (
                check_grads(g, ref_grads, c.tol)
                if ref_grads is not None
                else {"passed": False, "note": "reference unavailable"}
            )
        except Exception as exc:  # noqa: BLE001
            row["grad_check"] = {"passed": False, "note": f"{type(exc).__name__}: {exc}"[:300]}
        if not row["grad_check"]["passed"]:
            row["status"] = "gradient check failed: not timed"
            runners.pop(c.key, None)
        gc_ = row["grad_check"]
        log(
            f"   grad check {c.key:<13s} max|err| {gc_.get('max_abs_err')!s:<24} tol {c.tol:g}  "
            f"{'ok' if gc_['passed'] else 'FAILED'}"
        )
    # peak memory
    for key in runners:
        if args.memory == "off":
            break
        c = next(c for c in case.contenders if c.key == key)
        if args.memory == "subprocess":
            mib, how = probe_subprocess(args, case, key)
            how = "fresh process: " + how
        else:
            fresh = c.build(problem)
            mib, how = measure_peak(fresh.step)
            del fresh
            how = "in-process: " + how
        rows[key]["peak_mem_mib"], rows[key]["mem_how"] = mib, how
        log(f"   memory     {key:<13s} {mib if mib is None else round(mib, 1)} MiB ({how})")
    # warm-up round, then interleaved timed rounds
    for key, r in runners.items():
        t0 = time.perf_counter()
        r.step()
        rows[key]["warmup_s"] = time.perf_counter() - t0
    times = {k: ([], []) for k in runners}
    for i in range(args.rounds):
        for key, r in runners.items():
            w0, c0 = time.perf_counter(), time.process_time()
            r.step()
            times[key][0].append(time.perf_counter() - w0)
            times[key][1].append(time.process_time() - c0)
        log(f"   round {i + 1}/{args.rounds}: " + ", ".join(f"{k} {times[k][0][-1] * 1e3:.1f} ms" for k in runners))
    for key, (wall, cpu) in times.items():
        rows[key].update(
            wall_s=wall,
            cpu_s=cpu,
            wall_median_s=statistics.median(wall),
            cpu_median_s=statistics.median(cpu),
            info=runners[key].info(),
        )
    ratios = []
    for q, p in case.ratios:
        if q in times and p in times:
            rq, rp = rows[q], rows[p]
            ratios.append(
                {
                    "qml": q,
                    "peer": p,
                    "wall": rq["wall_median_s"] / rp["wall_median_s"],
                    "cpu": rq["cpu_median_s"] / rp["cpu_median_s"] if rp["cpu_median_s"] > 0 else None,
                }
            )
        else:
            ratios.append({"qml": q, "peer": p, "wall": None, "cpu": None, "note": "not timed"})
    return {
        "id": case.id,
        "workload": case.workload,
        "title": case.title,
        "size": case.size,
        "reference": case.reference,
        "contenders": list(rows.values()),
        "ratios": ratios,
    }


def machine(args) -> dict:
    import numpy
    import pennylane
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "pennylane": pennylane.__version__,
    }
    from importlib import metadata

    for dist in ("pennylane_lightning", "qiskit", "qiskit-machine-learning"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    import qml

    versions["qml"] = qml.__version__
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "device": args.device,
        "cuda_available": torch.cuda.is_available(),
        "platform": platform.platform(),
        "load_average_at_start": load,
        "versions": versions,
    }


# ----------------------------------------------------------------------------------------- report
def _ms(s):
    return "-" if s is None else (f"{s * 1e3:.1f}" if s < 10 else f"{s * 1e3:.0f}")


def _short(case: dict) -> str:
    first = case["size"].split(",")[0]
    if case["id"].startswith("W1q"):
        return f"W1 {first} (Qiskit ML size)"
    if case["id"].startswith("W1"):
        return f"W1 {first}"
    return f"{case['workload']} {case['id'].split('_', 1)[1]}"


def summary(result: dict) -> list:
    """One table for all workloads: each contender's medians, and qml's speed-up over it (CPU time)."""
    lines = [
        "## Summary",
        "",
        "CPU-time medians per step (W1), per evaluation (W2), per epoch (W3); speed-up = contender / qml "
        "(the case's first qml contender), from CPU time. Gradient check: max abs difference to the reference.",
        "",
        "| workload | contender | gradient check | wall [ms] | CPU [ms] | peak mem [MiB] | qml speed-up |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for case in result["cases"]:
        rows = {r["key"]: r for r in case["contenders"]}
        main_qml = case["ratios"][0]["qml"] if case["ratios"] else None
        base = rows.get(main_qml, {}).get("cpu_median_s")
        for r in case["contenders"]:
            g = r.get("grad_check")
            gtxt = (
                r["status"]
                if g is None
                else (
                    ("ok " if g["passed"] else "FAILED ")
                    + (f"{g['max_abs_err']:.0e}" if g.get("max_abs_err") is not None else g.get("note", ""))
                )
            )
            label = r["label"]
            info = r.get("info") or {}
            if "auto_chose" in info:
                label += f" (chose `{info['auto_chose']}`)"
            elif info.get("chosen_backend") and "auto" in label:
                label += f" (ran on `{info['chosen_backend']}`)"
            cpu = r.get("cpu_median_s")
            if r["role"] == "qml":
                sp = "(qml)" if r["key"] == main_qml else "(qml, not compared)"
            elif base and cpu:
                sp = f"{cpu / base:.1f}x"
            else:
                sp = "-"
            mem = r.get("peak_mem_mib")
            lines.append(
                f"| {_short(case)} | {label} | {gtxt} | "
                f"{_ms(r.get('wall_median_s'))} | {_ms(cpu)} | {'-' if mem is None else f'{mem:.0f}'} | {sp} |"
            )
    return lines


def markdown(result: dict) -> str:
    m, meta = result["machine"], result["meta"]
    v = m["versions"]
    lines = [
        "# Benchmark suite: qml and its peers, one run",
        "",
        f"Date {meta['date']}; command `{meta['command']}`; {meta['rounds']} timed rounds after one warm-up round, "
        "contenders interleaved in each round; medians. Ratios are qml / peer (below 1 = qml faster; "
        "the speed-up is peer / qml, from CPU time).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, torch threads {m['torch_threads']} (OMP_NUM_THREADS="
        f"{m['omp_num_threads']}), device {m['device']}, load average at start "
        f"{', '.join(f'{x:.1f}' for x in m['load_average_at_start'] or [])}; "
        + ", ".join(f"{k} {val}" for k, val in v.items())
        + ".",
        "",
        f"Gradient check before timing, against the `reference` contender: max |difference| over all gradients "
        f"(and the loss/energy) <= {TOL_F64:g} for float64 contenders, <= {TOL_F32:g} for the float32-precision ones "
        "(see notes). Peak memory: " + meta["memory_method"] + ".",
        "",
    ]
    if meta.get("kept_from_earlier_run"):
        k = meta["kept_from_earlier_run"]
        lines += [
            "Kept from earlier runs: "
            + "; ".join(
                f"{c['id']} (measured {c['measured']['date']}, `{c['measured']['command']}`)"
                for c in result["cases"]
                if c.get("measured")
            )
            + (f"; the scaling table (run of {k['date']})" if k["scaling"] else "")
            + ("; the scaling table's cells not run again (see each cell's commit)" if k.get("scaling_cells") else "")
            + ".",
            "",
        ]
    if meta.get("load_average_at_end"):
        lines += [f"Load average at the end: {', '.join(f'{x:.1f}' for x in meta['load_average_at_end'])}.", ""]
    if result["cases"]:
        lines += summary(result) + [""]
    if result.get("scaling"):
        lines += scaling_markdown(result["scaling"])
    for case in result["cases"]:
        lines += [
            f"## {case['title']}",
            "",
            f"{case['size']}. Reference for gradients: `{case['reference']}`.",
            "",
            "| contender | gradient check (max abs err / tol) | wall median [ms] | CPU median [ms] | peak memory [MiB] | notes |",
            "|---|---|---:|---:|---:|---|",
        ]
        for r in case["contenders"]:
            g = r.get("grad_check")
            gtxt = (
                "-"
                if g is None
                else (
                    ("ok " if g["passed"] else "FAILED ")
                    + (
                        f"{g['max_abs_err']:.1e} / {g['tol']:.0e}"
                        if g.get("max_abs_err") is not None
                        else g.get("note", "")
                    )
                )
            )
            notes = [] if r["status"] == "ok" else [r["status"]]
            info = r.get("info") or {}
            if "auto_chose" in info and case["workload"] == "W1":
                notes.append(
                    f"auto chose `{info['auto_chose']}` (its first call times the candidates on at most "
                    "8 rows: the peak memory includes theirs)"
                )
            elif "auto_chose" in info:
                notes.append(
                    f"auto chose `{info['auto_chose']}` (qml.backends.auto, timed on the first "
                    "evaluation: the peak memory includes its candidates)"
                )
            if info.get("chosen_backend"):
                notes.append(f"ran on `{info['chosen_backend']}`")
            if r.get("tol_note") != "float64":
                notes.append(r["tol_note"])
            mem = r.get("peak_mem_mib")
            lines.append(
                f"| `{r['key']}` {r['label']} | {gtxt} | {_ms(r.get('wall_median_s'))} | "
                f"{_ms(r.get('cpu_median_s'))} | {'-' if mem is None else f'{mem:.0f}'} | {'; '.join(notes)} |"
            )
        lines += ["", "| qml / peer | wall | CPU | speed-up (CPU) |", "|---|---:|---:|---:|"]
        for q in case["ratios"]:
            if q["wall"] is None:
                lines.append(f"| `{q['qml']}` / `{q['peer']}` | - | - | not timed |")
                continue
            sp = f"{1 / q['cpu']:.1f}x" if q["cpu"] else "-"
            cpu = "-" if q["cpu"] is None else f"{q['cpu']:.3g}"
            lines.append(f"| `{q['qml']}` / `{q['peer']}` | {q['wall']:.3g} | {cpu} | {sp} |")
        lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------- main
def parse_args(argv):
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    ap.add_argument("--quick", action="store_true", help="smallest sizes (the smoke test)")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds after the warm-up round (default 5)")
    ap.add_argument(
        "--workloads",
        nargs="+",
        choices=WORKLOADS,
        default=None,
        help="what to run (default: all; with --quick: W1 W2 W3); SCALE is the scaling table",
    )
    ap.add_argument(
        "--sizes", nargs="+", type=int, default=None, help="qubits of the scaling table (default 8 12 16 20 22)"
    )
    ap.add_argument(
        "--scale-contenders",
        nargs="+",
        choices=list(SCALE_CONTENDERS),
        default=None,
        help="contenders of the scaling table (default: all)",
    )
    ap.add_argument("--scale-layers", type=int, default=2, help="layers of the scaling table's circuit (default 2)")
    ap.add_argument("--scale-batch", type=int, default=8, help="batch of the scaling table (default 8)")
    ap.add_argument("--cell-timeout", type=float, default=300.0, help="seconds one scaling cell may take (default 300)")
    ap.add_argument(
        "--cell-memory-gib",
        type=float,
        default=8.0,
        help="address-space cap of one scaling cell's process in GiB (default 8: the machine is shared)",
    )
    ap.add_argument(
        "--keep-others",
        action="store_true",
        help="keep the cases (and scaling table) of workloads not run now from the existing suite.json in --out",
    )
    ap.add_argument("--_cell", nargs=2, metavar=("N", "KEY"), dest="cell", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(RESULTS), help="directory for suite.json and suite.md")
    ap.add_argument("--threads", type=int, default=1, help="torch (and OpenMP) threads, default 1")
    ap.add_argument("--device", default="cpu", help="torch device of the torch-native W1 contenders (cpu or cuda)")
    ap.add_argument(
        "--memory",
        choices=("subprocess", "inprocess", "off"),
        default=None,
        help="peak-memory measurement (default: subprocess; inprocess with --quick)",
    )
    ap.add_argument("--_probe", nargs=2, metavar=("CASE", "KEY"), dest="probe", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    if args.memory is None:
        args.memory = "inprocess" if args.quick else "subprocess"
    if args.workloads is None:
        args.workloads = ["W1", "W2", "W3"] if args.quick else list(WORKLOADS)
    if args.sizes is None:
        args.sizes = [4, 6] if args.quick else [8, 12, 16, 20, 22]
    return args


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    import torch

    # Called in-process (the smoke test), leave the caller's thread settings as they were.
    old_threads, old_omp = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))  # lightning's threads (read when it loads)
    torch.set_num_threads(args.threads)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _main(args, argv)
    finally:
        torch.set_num_threads(old_threads)
        if old_omp is None:
            os.environ.pop("OMP_NUM_THREADS", None)


def _main(args, argv) -> int:
    import torch

    if args.device != "cpu" and not args.probe:
        if args.device.startswith("cuda") and not torch.cuda.is_available():
            raise SystemExit("--device cuda asked for, but torch sees no CUDA device")
    if args.probe:
        return probe_main(args)
    if args.cell:
        return cell_main(args)
    log = (lambda s: None) if os.environ.get("QML_SUITE_QUIET") else (lambda s: print(s, flush=True))
    t_start = time.perf_counter()
    cmd = " ".join(["python benchmarks/suite.py", *(sys.argv[1:] if argv is None else list(argv))])
    result = {
        "meta": {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": cmd.strip(),
            "rounds": args.rounds,
            "quick": args.quick,
            "workloads": args.workloads,
            "memory_method": {
                "subprocess": "each contender is built in a fresh Python process (after the imports "
                "and the problem's preparation) and runs its first step (the warm-up); "
                "the figure is the peak RSS during that step above the RSS before it "
                "(VmHWM after resetting it through /proc/self/clear_refs)",
                "inprocess": "each contender is built again inside the benchmark process and runs its "
                "first step; peak RSS during that step above the RSS before it (VmHWM reset "
                "through /proc/self/clear_refs); a lower bound, since memory freed by "
                "earlier contenders may be reused",
                "off": "not measured",
            }[args.memory],
            "tolerances": {"float64": TOL_F64, "float32": TOL_F32},
        },
        "machine": machine(args),
        "cases": [],
    }
    for case in all_cases(args):
        result["cases"].append(run_case(case, args, log))
    if "SCALE" in args.workloads:
        result["scaling"] = run_scaling(args, log)
    result["meta"]["load_average_at_end"] = os.getloadavg()
    result["meta"]["total_s"] = time.perf_counter() - t_start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.keep_others and (out / "suite.json").exists():
        old = json.loads((out / "suite.json").read_text())
        kept = [c for c in old.get("cases", []) if c["workload"] not in args.workloads]
        for c in kept:  # where each kept case was measured (kept again and again, it stays the first run's)
            c.setdefault("measured", {"date": old["meta"].get("date"), "command": old["meta"].get("command")})
        result["cases"] = kept + result["cases"]
        if "SCALE" not in args.workloads and "scaling" in old:
            result["scaling"] = old["scaling"]
        elif "scaling" in old and "scaling" in result:  # keep the cells (size, contender) not run now
            ran = {(r["n"], r["key"]) for r in result["scaling"]["rows"]}
            kept_rows = [r for r in old["scaling"]["rows"] if (r["n"], r["key"]) not in ran]
            order = {k: i for i, k in enumerate(SCALE_CONTENDERS)}
            rows = sorted(kept_rows + result["scaling"]["rows"], key=lambda r: (r["n"], order.get(r["key"], 99)))
            result["scaling"]["rows"] = rows
            result["scaling"]["sizes"] = sorted({r["n"] for r in rows})
        result["meta"]["kept_from_earlier_run"] = {
            "date": old.get("meta", {}).get("date"),
            "command": old.get("meta", {}).get("command"),
            "cases": [c["id"] for c in kept],
            "scaling": "SCALE" not in args.workloads and "scaling" in old,
            "scaling_cells": "SCALE" in args.workloads and "scaling" in old,
        }
    (out / "suite.json").write_text(json.dumps(result, indent=1, default=str))
    text = markdown(result)
    (out / "suite.md").write_text(text + "\n")
    log("\n" + text)
    log(f"wrote {out / 'suite.json'} and {out / 'suite.md'} in {result['meta']['total_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
