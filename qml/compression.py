"""``qml.compress``: smaller hybrid models for hardware.

Two independent steps, each reported before/after:

* classical: global unstructured L1 magnitude pruning of every ``nn.Linear`` weight outside the
  quantum layer (``torch.nn.utils.prune``), made permanent;
* quantum: rotations whose trained angles are within ``angle_tol`` of 0 (mod 2 pi) are left out
  of the circuit (exactly the identity up to a global phase at ``angle_tol=0``), which shortens the
  circuit before transpilation for hardware. Weights within ``angle_tol`` are snapped to 0 so the
  circuit and the weights agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .errors import check_number


@dataclass
class CompressionReport:
    """What :func:`compress` changed. ``*_before`` / ``*_after`` pairs; loss is ``None`` without data."""

    classical_params_before: int
    classical_params_after: int
    quantum_params_before: int
    quantum_params_after: int
    gates_before: int
    gates_after: int
    depth_before: int
    depth_after: int
    two_qubit_gates_before: int
    two_qubit_gates_after: int
    loss_before: float | None = None
    loss_after: float | None = None

    def __str__(self) -> str:
        rows = [
            ("classical parameters (non-zero)", self.classical_params_before, self.classical_params_after),
            ("quantum rotation angles (non-zero)", self.quantum_params_before, self.quantum_params_after),
            ("gates", self.gates_before, self.gates_after),
            ("circuit depth", self.depth_before, self.depth_after),
            ("two-qubit gates", self.two_qubit_gates_before, self.two_qubit_gates_after),
        ]
        if self.loss_before is not None:
            rows.append(("test loss", f"{self.loss_before:.4g}", f"{self.loss_after:.4g}"))
        width = max(len(r[0]) for r in rows)
        return "\n".join(f"{name:<{width}}  {before!s:>10} -> {after!s:<10}" for name, before, after in rows)


def compress(model, *, prune: float = 0.0, angle_tol: float = 0.0, data=None, loss="mse") -> CompressionReport:
    """Prune the classical layers and drop near-identity rotations of ``model`` in place.

    Args:
        model: a :class:`qml.HybridModel` (or a :class:`qml.QuantumLayer`, quantum step only).
        prune: fraction (0 <= prune < 1) of classical weights to zero, smallest magnitude first,
            over all classical ``nn.Linear`` layers together.
        angle_tol: rotations with all angles within this distance of 0 mod 2 pi are removed.
        data: optional ``(features, targets)`` or Dataset to report the loss before and after.
        loss: loss for that report (``"mse"``, ``"mae"``, ``"huber"`` or a function).

    Returns:
        CompressionReport.

    Raises:
        ConfigurationError: ``prune`` outside ``[0, 1)`` or negative ``angle_tol``.
        TypeError: ``model`` has no quantum layer.
    """
    from .layers import QuantumLayer, circuit_resources
    from .train.fit import evaluate

    check_number("prune", prune, below=1, kind="a fraction in [0, 1)")
    check_number("angle_tol", angle_tol, below=math.pi, kind="in [0, pi)")
    layer = model if isinstance(model, QuantumLayer) else getattr(model, "quantum", None)
    if not isinstance(layer, QuantumLayer):
        raise TypeError(f"compress expects a qml.HybridModel or qml.QuantumLayer, got {type(model).__name__}")
    linears = [m for name, m in model.named_modules() if isinstance(m, nn.Linear) and not name.startswith("quantum")]

    loss_before = evaluate(model, data, loss) if data is not None else None
    res_before = circuit_resources(layer.spec, layer.weights.detach())
    c_before = sum(int(torch.count_nonzero(m.weight)) + int(torch.count_nonzero(m.bias)) for m in linears)
    q_before = int(torch.count_nonzero(layer.weights))

    if prune > 0 and linears:
        from torch.nn.utils import prune as torch_prune

        params = [(m, "weight") for m in linears]
        torch_prune.global_unstructured(params, pruning_method=torch_prune.L1Unstructured, amount=float(prune))
        for m, name in params:
            torch_prune.remove(m, name)
    with torch.no_grad():
        w = layer.weights
        near_zero = ((w + math.pi) % (2 * math.pi) - math.pi).abs() <= angle_tol
        w[near_zero] = 0.0
    layer.replace_spec(drop_tol=float(angle_tol) if angle_tol > 0 else 1e-12)

    res_after = circuit_resources(layer.spec, layer.weights.detach())
    return CompressionReport(
        classical_params_before=c_before,
        classical_params_after=sum(
            int(torch.count_nonzero(m.weight)) + int(torch.count_nonzero(m.bias)) for m in linears
        ),
        quantum_params_before=q_before,
        quantum_params_after=int(torch.count_nonzero(layer.weights)),
        gates_before=res_before["gates"],
        gates_after=res_after["gates"],
        depth_before=res_before["depth"],
        depth_after=res_after["depth"],
        two_qubit_gates_before=res_before["two_qubit_gates"],
        two_qubit_gates_after=res_after["two_qubit_gates"],
        loss_before=loss_before,
        loss_after=evaluate(model, data, loss) if data is not None else None,
    )
