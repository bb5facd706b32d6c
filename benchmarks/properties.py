"""Spectroscopic constants from a trained PESModel vs the same analysis on the exact curve (issue 23).

For H2 and LiH and each seed: train one PESModel (uccsd, default active space, ``backend="fast"``)
with full-batch L-BFGS on 9 geometries around equilibrium, then run ``qml.chem.properties`` on the
model and on the exact active-space energies of the same Hamiltonians (``PESModel.exact_energy``),
over the same grid. Writes benchmarks/results/properties.{json,md}.

    python benchmarks/properties.py                  # H2 and LiH, seeds 0 and 1
    python benchmarks/properties.py LiH --seeds 0
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

import qml

OUT = Path(__file__).parent / "results"
#: analysed range (Angstrom) per molecule: the low vibrational levels live inside it
BOUNDS = {"H2": (0.45, 1.25), "LiH": (1.15, 2.45)}


def run(name: str, seed: int, epochs: int, n_points: int) -> dict:
    torch.manual_seed(seed)
    lo, hi = BOUNDS[name]
    model = qml.PESModel(name, backend="fast")
    r_train = np.linspace(lo, hi, 9)
    t0 = time.perf_counter()
    qml.fit(model, r_train, epochs=epochs, seed=seed, progress=False)  # the recipe's L-BFGS; epochs named in the row
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    p = qml.chem.properties(model, bounds=(lo, hi), n_points=n_points)
    t_props = time.perf_counter() - t0
    x = qml.chem.properties(
        lambda r: model.exact_energy(r[:, None]), bounds=(lo, hi), n_points=n_points, reduced_mass=p.reduced_mass
    )
    return {
        "molecule": name,
        "seed": seed,
        "n_qubits": model.n_qubits,
        "epochs": epochs,
        "bounds": [lo, hi],
        "n_points": n_points,
        "model": {
            "r_e": p.r_e,
            "e_min": p.e_min,
            "omega_e": p.omega_e,
            "omega_e_x_e": p.omega_e_x_e,
            "transitions_cm": p.transitions.tolist(),
        },
        "exact": {
            "r_e": x.r_e,
            "e_min": x.e_min,
            "omega_e": x.omega_e,
            "omega_e_x_e": x.omega_e_x_e,
            "transitions_cm": x.transitions.tolist(),
        },
        "d_r_e_A": p.r_e - x.r_e,
        "d_omega_e_cm": p.omega_e - x.omega_e,
        "d_omega_e_x_e_cm": None if p.omega_e_x_e is None or x.omega_e_x_e is None else p.omega_e_x_e - x.omega_e_x_e,
        "d_e_min_mha": (p.e_min - x.e_min) * 1e3,
        "fit_s": t_fit,
        "properties_s": t_props,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("molecules", nargs="*", default=list(BOUNDS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--n-points", type=int, default=21)
    args = ap.parse_args()
    torch.set_num_threads(1)
    load0 = os.getloadavg()[0]
    rows = [run(m, s, args.epochs, args.n_points) for m in args.molecules for s in args.seeds]
    load1 = os.getloadavg()[0]
    meta = {
        "date": str(date.today()),
        "machine": platform.machine(),
        "threads": 1,
        "load_start": load0,
        "load_end": load1,
        "command": "python benchmarks/properties.py "
        + " ".join(
            [
                *args.molecules,
                "--seeds",
                *map(str, args.seeds),
                "--epochs",
                str(args.epochs),
                "--n-points",
                str(args.n_points),
            ]
        ),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "properties.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [
        f"Properties of a trained PESModel vs the exact curve ({meta['date']}, {meta['machine']}, 1 thread, load "
        f"average {load0:.1f} at start, {load1:.1f} at end: a shared machine). `{meta['command']}`",
        "",
        "| molecule | seed | qubits | r_e model [A] | r_e exact [A] | d r_e [mA] | omega_e model [cm^-1] | "
        "omega_e exact [cm^-1] | d omega_e [cm^-1] | d omega_e x_e [cm^-1] | d e_min [mHa] | fit [s] |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        dx = "-" if r["d_omega_e_x_e_cm"] is None else f"{r['d_omega_e_x_e_cm']:+.2f}"
        lines.append(
            f"| {r['molecule']} | {r['seed']} | {r['n_qubits']} | {r['model']['r_e']:.5f} | {r['exact']['r_e']:.5f} | "
            f"{r['d_r_e_A'] * 1e3:+.3f} | {r['model']['omega_e']:.1f} | {r['exact']['omega_e']:.1f} | "
            f"{r['d_omega_e_cm']:+.2f} | {dx} | {r['d_e_min_mha']:+.4f} | {r['fit_s']:.0f} |"
        )
    worst_r = max(abs(r["d_r_e_A"]) for r in rows)
    worst_w = max(abs(r["d_omega_e_cm"]) for r in rows)
    lines += [
        "",
        f"Every run: |d r_e| <= {worst_r * 1e3:.3f} mA, |d omega_e| <= {worst_w:.2f} cm^-1 (targets 1 mA and 5 cm^-1).",
    ]
    (OUT / "properties.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
