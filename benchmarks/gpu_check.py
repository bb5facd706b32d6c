"""One short GPU check of qml.sim (torch only: PennyLane is stubbed where missing; the engine is driven directly).

Both gradient modes on CUDA complex128: adjoint == backprop gradients, then time and peak CUDA memory
of the W1-shaped circuit (RY product state + 2 layers of Rot + CNOT ring, <Z_i>) at 20/22/24/26 qubits, batch 8.
"""

import json
import sys
import time
import types

try:
    import pennylane  # noqa: F401
except ImportError:  # the GPU machine has torch only: stub PennyLane (qml.sim imports it; unused here)
    import importlib.abc
    import importlib.machinery

    class _Stub(types.ModuleType):
        __path__ = []

        def __getattr__(self, attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            if attr[:1].isupper():
                return type(attr, (Exception,) if attr.endswith("Error") else (), {})
            return lambda *a, **k: a[0] if len(a) == 1 and not k else None

    class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):
            if name == "pennylane" or name.startswith("pennylane."):
                return importlib.machinery.ModuleSpec(name, self, is_package=True)
            return None

        def create_module(self, spec):
            return _Stub(spec.name)

        def exec_module(self, module):
            pass

    sys.meta_path.insert(0, _Finder())
import torch

from qml.sim import adjoint as A
from qml.sim import gates as G
from qml.sim.engine import Engine
from qml.sim.measure import _ZHalving

dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
out = {
    "device": str(dev),
    "torch": torch.__version__,
    "name": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
}


def circuit(n, x, w, mode):
    eng = Engine(n, {i: i for i in range(n)}, x.shape[0], torch.float64, torch.complex128, dev)
    ry = G.matrices_1q("RY", x.T.unsqueeze(-1))[..., 0, :, :]  # (n, B, 2, 2)
    for q in range(n):
        eng.single(q, ry[q])
    rot = G.matrices_1q("Rot", w)  # (L, n, 2, 2)
    for l in range(w.shape[0]):
        for q in range(n):
            eng.single(q, rot[l, q])
        r = l % (n - 1) + 1
        for q in range(n):
            eng.perm("CNOT", (q, (q + r) % n))
    steps = eng.finish()
    psi = A.run(steps, mode)
    return _ZHalving.apply(psi, tuple(range(n)), n)  # (n, B)


g = torch.Generator(device="cpu").manual_seed(0)
n, B = 10, 4
x0 = torch.randn(B, n, generator=g, dtype=torch.float64).to(dev)
w0 = torch.randn(2, n, 3, generator=g, dtype=torch.float64).to(dev)
proj = torch.randn(n, B, generator=g, dtype=torch.float64).to(dev)
grads = {}
for mode in ("backprop", "adjoint"):
    x, w = x0.clone().requires_grad_(), w0.clone().requires_grad_()
    val = circuit(n, x, w, mode)
    grads[mode] = (val.detach(), *torch.autograd.grad((val * proj).sum(), (x, w)))
out["check_n10"] = {
    k: float(max((a - b).abs().max() for a, b in zip(grads["adjoint"], grads["backprop"])))
    for k in ["max_abs_diff_adjoint_vs_backprop"]
}
print(json.dumps(out), flush=True)
rows = []
for n in [int(a) for a in sys.argv[1:]] or [20, 22, 24, 26]:
    for mode in ("backprop", "adjoint"):
        x = torch.randn(8, n, dtype=torch.float64, device=dev, requires_grad=True)
        w = torch.randn(2, n, 3, dtype=torch.float64, device=dev, requires_grad=True)
        try:
            ts = []
            for _rep in range(3):
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                    base = torch.cuda.memory_allocated()
                t0 = time.perf_counter()
                circuit(n, x, w, mode).sum().backward()
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                ts.append(time.perf_counter() - t0)
                x.grad = w.grad = None
            peak = (torch.cuda.max_memory_allocated() - base) if dev.type == "cuda" else None
            state = 2**n * 8 * 16
            rows.append(
                {
                    "n": n,
                    "mode": mode,
                    "first_s": ts[0],
                    "median_s": sorted(ts)[1],
                    "peak_mib": None if peak is None else peak / 2**20,
                    "peak_over_states": None if peak is None else peak / state,
                }
            )
        except RuntimeError as exc:  # out of memory
            rows.append({"n": n, "mode": mode, "error": str(exc)[:160]})
            torch.cuda.empty_cache() if dev.type == "cuda" else None
        print(json.dumps(rows[-1]), flush=True)
