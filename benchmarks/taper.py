"""Qubit tapering and the compact ansatz on every catalog molecule (issue 20, items 1-2).

Run:  nice -n 5 python benchmarks/taper.py [--molecules H2 HeH+ LiH ...] [--device FakeFez] [--no-uccsd-above 8]

Per catalog molecule at its equilibrium ``r`` (default active space):

1. Tapering: qubits before/after, generators, the HF sector; seconds of ``qml.chem.tapering``
   (generators + tapered operator) against PennyLane's ``qp.taper`` (same operator, tested in
   tests/test_tapering.py); |lowest tapered eigenvalue - exact sector energy|.
2. Ansatzes, each run by ``qml.chem.vqe`` on the exact ``fast`` simulator (L-BFGS, its defaults,
   seed 0, deterministic start: zero angles): ``compact`` tapered (reps 1 and 2), ``uccsd``
   tapered (Pauli rotations) and untapered ``uccsd`` (Givens, on ``sector``). Columns: qubits,
   parameters, two-qubit gates of the logical circuit (decomposed to the Qiskit gate set of
   ``qml.backends.qiskit_circuits``), two-qubit gates after transpilation for ``--device``
   (preset pass manager, optimization level 1, seed 0: what ``aer:``/``ibm:`` backends run),
   VQE error against the untapered exact energy (mHa), evaluations, seconds.

Writes ``benchmarks/results/taper.json`` and ``benchmarks/results/taper.md``; records ``uptime``'s
load average before and after (the machine is shared: seconds are indicative, CX counts and
errors are not affected by load).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import pennylane as qp
import torch

import qml
from qml.backends import qiskit_circuits as qc
from qml.chem import Molecule, catalog, make_ansatz
from qml.chem import tapering as T

RESULTS = Path(__file__).parent / "results"
TWO_QUBIT = ("CNOT", "CZ", "SWAP")


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def two_qubit_gates(ansatz, device=None) -> tuple:
    """(logical two-qubit gates, then after transpilation for ``device``: two-qubit gates, depth, estimated
    error from the device's reported error rates, and the same three for the plain level-1 pass manager with
    seed 0; None without a device)."""
    from qiskit.transpiler import generate_preset_pass_manager

    from qml.runtime.layout import circuit_error, two_qubit_count

    params = torch.zeros(1, ansatz.n_params, dtype=torch.float64)
    traced = qc.trace_ansatz(ansatz, params, ansatz.n_qubits)
    logical = sum(name in TWO_QUBIT for name, _ in traced.ops)
    if device is None:
        return logical, None, None, None, None
    compiled = qc.compile_circuit(traced, device, optimization_level=1, seed=0, shift_rule=False)
    plain = generate_preset_pass_manager(optimization_level=1, backend=device, seed_transpiler=0).run(
        qc.to_qiskit(traced)
    )
    return (
        logical,
        int(compiled.n_two_qubit),
        int(compiled.depth),
        circuit_error(compiled.isa, device.target),
        (two_qubit_count(plain), plain.depth(), circuit_error(plain, device.target)),
    )


def tapering_row(name: str) -> tuple[Molecule, T.Tapering, dict]:
    mol = Molecule.from_name(name, catalog.get(name).r_eq)
    H = mol.hamiltonian()
    t0 = time.perf_counter()
    tap = T.for_molecule(mol)
    entry = T.TaperedEntry(mol, tap)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    gens = qp.symmetry_generators(H)
    qp.taper(H, gens, qp.paulix_ops(gens, mol.n_qubits), list(tap.sector))
    theirs = time.perf_counter() - t0
    row = {
        "molecule": name,
        "r": mol.r,
        "qubits": mol.n_qubits,
        "tapered_qubits": tap.n_tapered,
        "generators": [" ".join(f"Z{w}" for w in g) for g in tap.generators],
        "sector": list(tap.sector),
        "seconds_qml": ours,
        "seconds_qp_taper": theirs,
        "exact": mol.exact_energy(),
        "tapered_exact_minus_exact_ha": entry.tapered_exact_energy() - mol.exact_energy(),
    }
    return mol, tap, row


def vqe_row(mol, tap, label: str, ansatz: str, device, **options) -> dict:
    ans = make_ansatz(mol, ansatz, taper=tap, **options)
    logical, transpiled, depth, error, plain = two_qubit_gates(ans, device)
    t0 = time.perf_counter()
    backend = "fast" if tap is not None else "sector"
    res = qml.chem.vqe(mol, ansatz=ans, taper=tap if tap is not None else False, backend=backend, progress=False)
    return {
        "molecule": mol.name,
        "ansatz": label,
        "qubits": res.n_qubits,
        "params": ans.n_params,
        "cx_logical": logical,
        "cx_transpiled": transpiled,
        "depth_transpiled": depth,
        "estimated_error_transpiled": error,
        "plain_level1_seed0": plain,
        "error_mha": res.error_mha,
        "evaluations": res.n_evaluations,
        "converged": res.converged,
        "seconds": time.perf_counter() - t0,
        "backend": qml.backends.ran(res.backend),
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--molecules", nargs="+", default=catalog.names())
    p.add_argument("--device", default="FakeFez", help="qiskit_ibm_runtime fake device for transpiled CX ('' = none)")
    p.add_argument(
        "--no-uccsd-above", type=int, default=8, help="skip tapered uccsd VQE above this many tapered qubits"
    )
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    device = None
    if args.device:
        from qiskit_ibm_runtime import fake_provider

        device = getattr(fake_provider, args.device)()
    out = {
        "command": "python benchmarks/taper.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "load_before": load(),
        "python": platform.python_version(),
        "pennylane": qp.__version__,
        "device": args.device,
        "tapering": [],
        "vqe": [],
    }
    print("load before", out["load_before"], flush=True)
    for name in args.molecules:
        mol, tap, row = tapering_row(name)
        out["tapering"].append(row)
        print(row, flush=True)
        configs = [("compact (tapered)", "compact", tap, {}), ("compact reps=2 (tapered)", "compact", tap, {"reps": 2})]
        if tap.n_tapered <= args.no_uccsd_above:
            configs.append(("uccsd (tapered)", "uccsd", tap, {}))
        configs.append(("uccsd (untapered)", "uccsd", None, {}))
        for label, ansatz, t, options in configs:
            r = vqe_row(mol, t, label, ansatz, device, **options)
            out["vqe"].append(r)
            print(r, flush=True)
    out["load_after"] = load()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "taper.json").write_text(json.dumps(out, indent=1))
    (RESULTS / "taper.md").write_text(markdown(out))
    print(markdown(out))


def _f(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def _plain(p) -> str:
    return "-" if p is None else f"{p[0]}, {p[1]}, {p[2]:.3f}"


def markdown(out: dict) -> str:
    lines = [
        "# Qubit tapering and the compact ansatz (benchmarks/taper.py)",
        "",
        f"`{out['command']}`; load average before {out['load_before']}, after {out['load_after']} "
        f"(shared 2-core machine: seconds are indicative only); PennyLane {out['pennylane']}.",
        "Every molecule at its catalog equilibrium `r`, default active space. VQE: `qml.chem.vqe` on the exact "
        "`fast` simulator (untapered uccsd on `sector`), L-BFGS defaults, seed 0, one run each (deterministic start).",
        f"CX: two-qubit gates of the logical circuit (Qiskit gate set) and after transpilation for {out['device']} "
        "as the `aer:`/`ibm:` backends compile (`qml.backends.qiskit_circuits.compile_circuit`, optimization level 1: "
        "the best of transpiler seeds 0-3 by the error estimated from the device's reported error rates, "
        "`qml.runtime.layout.best_isa`); beside it the plain preset pass manager with seed 0. "
        "Est. error: `1 - prod(1 - e)` over the ISA gates and the readout of the active qubits.",
        "",
        "## Tapering",
        "",
        "| molecule | r (A) | qubits | tapered | sector | tapered - exact (Ha) | qml s | qp.taper s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in out["tapering"]:
        lines.append(
            f"| {r['molecule']} | {r['r']} | {r['qubits']} | {r['tapered_qubits']} | {r['sector']} | "
            f"{r['tapered_exact_minus_exact_ha']:.1e} | {r['seconds_qml']:.3f} | {r['seconds_qp_taper']:.3f} |"
        )
    lines += [
        "",
        "## Ansatzes (VQE error against the untapered exact energy)",
        "",
        f"| molecule | ansatz | qubits | params | CX logical | CX {out['device']} | depth {out['device']} "
        "| est. device error | plain level 1: CX, depth, est. error | VQE error (mHa) | evals | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in out["vqe"]:
        lines.append(
            f"| {r['molecule']} | {r['ansatz']} | {r['qubits']} | {r['params']} | {r['cx_logical']} | "
            f"{r['cx_transpiled']} | {r['depth_transpiled']} | {_f(r['estimated_error_transpiled'])} | "
            f"{_plain(r['plain_level1_seed0'])} | {r['error_mha']:.2e} | {r['evaluations']} | {r['seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
