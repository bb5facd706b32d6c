"""Quick benchmark of qml.sim.FastDevice against its peers (issue 6, item 2).

Run:  python benchmarks/bench_sim.py [--reps 7] [--threads 1] [--qubits 8 12]

W1  Linear(16 -> n) -> QNode(angle embedding, 4 strongly-entangling layers, <Z_i>) -> Linear(n -> 1),
    batch 64, MSE, one Adam step (forward + backward + update), float64 unless noted.
    Peers: default.qubit backprop (one broadcast execution), lightning.qubit adjoint (one
    circuit per sample, as qml.backends runs it), FastDevice complex128 and FastDevice
    complex64 (float32 model).
W2  LiH, 2 electrons in 5 orbitals (10 qubits), HF state + all Single/DoubleExcitations
    (UCCSD-type), one energy <H> and its gradient.  Peers: lightning.qubit adjoint,
    default.qubit backprop, FastDevice backprop.

All peers run interleaved in the same process (one round = every peer once), after one
warm-up round; the script prints medians (and min) over the rounds of wall-clock time and of
process CPU time (steadier when other jobs share the cores).  The complex64 rows
also report the max |error| against complex128.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pennylane as qp
import torch

from qml.sim import FastDevice


def _device(backend: str, n: int):
    """The device and differentiation method each peer is measured with."""
    if backend == "fast":
        return FastDevice(wires=n), "backprop"
    if backend == "default.qubit":
        return qp.device("default.qubit", wires=n), "backprop"
    return qp.device("lightning.qubit", wires=n), "adjoint"


def w1_step_fn(backend: str, n: int, dtype=torch.float64, batch: int = 64, layers: int = 4):
    """Return ``(step, forward)`` for the W1 workload on ``backend``."""
    torch.manual_seed(0)
    dev, diff = _device(backend, n)

    def circuit(x, w):
        qp.AngleEmbedding(x, wires=range(n), rotation="Y")
        qp.StronglyEntanglingLayers(w, wires=range(n))
        return [qp.expval(qp.PauliZ(i)) for i in range(n)]

    qnode = qp.QNode(circuit, dev, interface="torch", diff_method=diff)
    if diff == "adjoint":
        qnode = qp.transforms.broadcast_expand(qnode)
    pre = torch.nn.Linear(16, n).to(dtype)
    post = torch.nn.Linear(n, 1).to(dtype)
    w = torch.nn.Parameter((0.3 * torch.randn(layers, n, 3, dtype=torch.float64)).to(dtype))
    opt = torch.optim.Adam([*pre.parameters(), *post.parameters(), w], lr=1e-2)
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(batch, 16, generator=gen).to(dtype)
    y = torch.randn(batch, 1, generator=gen).to(dtype)

    def forward():
        out = qnode(pre(X), w)
        out = torch.stack(list(out), -1) if isinstance(out, (list, tuple)) else out
        return out.to(dtype)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(post(forward()), y)
        loss.backward()
        opt.step()

    return step, forward


def lih_problem():
    symbols = ["Li", "H"]
    coords = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.6])
    H, n = qp.qchem.molecular_hamiltonian(symbols, coords, unit="angstrom", active_electrons=2, active_orbitals=5)
    singles, doubles = qp.qchem.excitations(2, n)
    hf = qp.qchem.hf_state(2, n)
    return H, n, hf, singles, doubles


def w2_fn(backend: str, problem, dtype=torch.float64):
    H, n, hf, singles, doubles = problem
    dev, diff = _device(backend, n)

    def circuit(theta):
        qp.BasisState(hf, wires=range(n))
        for i, d in enumerate(doubles):
            qp.DoubleExcitation(theta[i], wires=d)
        for j, s in enumerate(singles):
            qp.SingleExcitation(theta[len(doubles) + j], wires=s)
        return qp.expval(H)

    qnode = qp.QNode(circuit, dev, interface="torch", diff_method=diff)
    theta = torch.nn.Parameter(0.05 * torch.arange(len(singles) + len(doubles), dtype=dtype))

    def step():
        theta.grad = None
        e = qnode(theta)
        e.backward()
        return e.detach(), theta.grad.detach().clone()

    return step


def interleaved(fns: dict, reps: int) -> dict:
    for f in fns.values():
        f()  # warm-up (caches, first-call costs)
    times = {k: ([], []) for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            f()
            times[k][0].append(time.perf_counter() - t0)
            times[k][1].append(time.process_time() - c0)
    return times


def report(title, times, ref):
    """Wall-clock and process CPU time (the latter is steadier on a shared machine)."""
    print(f"\n{title}")
    wall_ref, cpu_ref = (statistics.median(t) for t in times[ref])
    for k, (wall, cpu) in times.items():
        w, c = statistics.median(wall), statistics.median(cpu)
        print(
            f"  {k:<26s} wall median {w * 1e3:8.2f} ms (min {min(wall) * 1e3:8.2f})  {wall_ref / w:6.2f}x | "
            f"cpu median {c * 1e3:8.2f} ms  {cpu_ref / c:6.2f}x  vs {ref}"
        )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--qubits", type=int, nargs="+", default=[8, 12])
    ap.add_argument("--skip-w2", action="store_true")
    ap.add_argument("--no-lightning-w1", action="store_true", help="skip lightning.qubit in W1 (slow at 12 qubits)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, pennylane {qp.__version__}, threads={torch.get_num_threads()}, reps={args.reps}")

    for n in args.qubits:
        peers = {
            "default.qubit backprop": w1_step_fn("default.qubit", n)[0],
            "fast complex128": w1_step_fn("fast", n)[0],
            "fast complex64 (float32)": w1_step_fn("fast", n, dtype=torch.float32)[0],
        }
        if not args.no_lightning_w1:
            peers["lightning.qubit adjoint"] = w1_step_fn("lightning.qubit", n)[0]
        report(f"W1, {n} qubits, batch 64, one Adam step", interleaved(peers, args.reps), "default.qubit backprop")
        f64 = w1_step_fn("fast", n)[1]
        f32 = w1_step_fn("fast", n, dtype=torch.float32)[1]
        ref = w1_step_fn("default.qubit", n)[1]
        with torch.no_grad():
            o64, o32, oref = f64(), f32(), ref()
        print(
            f"  max |fast c128 - default.qubit| = {(o64 - oref).abs().max().item():.2e};"
            f" max |fast c64 - fast c128| = {(o32.double() - o64).abs().max().item():.2e}"
        )

    if not args.skip_w2:
        problem = lih_problem()
        H, n, _, singles, doubles = problem
        print(f"\nLiH: {n} qubits, {len(H.pauli_rep)} Pauli terms, {len(singles)} singles + {len(doubles)} doubles")
        peers = {
            "lightning.qubit adjoint": w2_fn("lightning.qubit", problem),
            "default.qubit backprop": w2_fn("default.qubit", problem),
            "fast complex128": w2_fn("fast", problem),
            "fast complex64": w2_fn("fast", problem, dtype=torch.float32),
        }
        results = {k: f() for k, f in peers.items()}
        report("W2, LiH UCCSD energy + gradient", interleaved(peers, args.reps), "lightning.qubit adjoint")
        (e_l, g_l), (e_f, g_f), (e_32, g_32) = (
            results["lightning.qubit adjoint"],
            results["fast complex128"],
            results["fast complex64"],
        )
        print(
            f"  |E fast - E lightning| = {abs(e_f.item() - e_l.item()):.2e}, "
            f"max |grad diff| = {(g_f - g_l.to(g_f.dtype)).abs().max().item():.2e}"
        )
        print(
            f"  complex64: |E err| = {abs(e_32.item() - e_f.item()):.2e}, "
            f"max |grad err| = {(g_32.double() - g_f).abs().max().item():.2e}"
        )


if __name__ == "__main__":
    main()
