"""Cost guard: how many jobs, PUBs, circuits and shots a hardware run will use, before it runs.

The counts follow exactly what :class:`~qml.runtime.backend.RuntimeExecutor`
sends: one job with one PUB per optimizer step, ``B * (1 + 2K)`` circuit
evaluations for parameter-shift (``K`` = rotation angles that need a derivative)
or ``3B`` for SPSA, ``B`` per forward-only evaluation batch.  QPU time is a rough
model (``JOB_OVERHEAD_S`` per job plus ``SHOT_TIME_S`` per shot), good for the
order of magnitude only: IBM bills the measured usage.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from ..backends.qiskit_circuits import trace
from ..errors import ConfigurationError, CostLimitError
from .options import DEFAULT_SHOTS

#: Seconds of fixed QPU time per job (loading, compilation on the device side); rough.
JOB_OVERHEAD_S = 2.0
#: Seconds per shot (repetition delay + readout); rough, typical of Eagle/Heron devices.
SHOT_TIME_S = 250e-6


@dataclass(frozen=True)
class CostEstimate:
    """What a run will send. All counts are totals over the run.

    Attributes:
        jobs, pubs, circuits, shots: totals; ``circuits`` counts parameter bindings.
        circuits_per_step: circuit evaluations per optimizer step.
        n_angles, n_grad_angles: rotation angles of the circuit, and those differentiated.
        qpu_seconds: rough QPU time.
    """

    jobs: int
    pubs: int
    circuits: int
    shots: int
    circuits_per_step: int
    n_angles: int
    n_grad_angles: int
    qpu_seconds: float

    def check(self, *, max_jobs: int | None = None, max_shots: int | None = None) -> "CostEstimate":
        """Raise :class:`CostLimitError` when the run exceeds ``max_jobs`` or ``max_shots``; else return self."""
        if max_jobs is not None and self.jobs > max_jobs:
            raise CostLimitError(
                f"this run needs {self.jobs} jobs, over max_jobs={max_jobs}; train for fewer steps or raise max_jobs")
        if max_shots is not None and self.shots > max_shots:
            raise CostLimitError(
                f"this run needs {self.shots} shots ({self.circuits_per_step} circuits per step), over "
                f"max_shots={max_shots}; use fewer shots or steps, a smaller batch, gradient='spsa', "
                "or raise max_shots")
        return self

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self):
        return (f"{self.jobs} jobs, {self.pubs} PUBs, {self.circuits} circuits ({self.circuits_per_step} per step), "
                f"{self.shots:,} shots, ~{self.qpu_seconds / 60:.1f} QPU minutes (rough)")


def find_spec(model_or_spec):
    """The :class:`~qml.circuits.CircuitSpec` of a spec, a layer or a model holding one layer."""
    from ..circuits.spec import CircuitSpec

    if isinstance(model_or_spec, CircuitSpec):
        return model_or_spec
    spec = getattr(model_or_spec, "spec", None)
    if isinstance(spec, CircuitSpec):
        return spec
    if isinstance(model_or_spec, torch.nn.Module):
        for module in model_or_spec.modules():
            if isinstance(getattr(module, "spec", None), CircuitSpec):
                return module.spec
    raise ConfigurationError(
        f"cannot find a quantum circuit in {type(model_or_spec).__name__}; pass a CircuitSpec "
        "(qml.circuits.make_spec(...)), a QuantumLayer or a model containing one")


def estimate(model_or_spec, backend=None, batch_size: int | None = None, steps: int | None = None, *,
             eval_batches: int = 0,
             shots: int | None = None, precision: float | None = None, gradient: str | None = None,
             input_gradients: bool = True, max_jobs: int | None = None, max_shots: int | None = None
             ) -> CostEstimate:
    """Count what training ``model_or_spec`` on an ``ibm:`` backend will send.

    Args:
        model_or_spec: a CircuitSpec, QuantumLayer, or model holding one quantum layer.
        backend: an :class:`~qml.runtime.IBMBackend` (its shots, precision, gradient and cost limits
            are used; a QuantumLayer's is ``layer.backend``) or ``None``/a backend string (then pass
            ``shots``/``precision``; default 1024 shots). Building no backend needs no credentials.
        batch_size: samples per optimizer step, B.
        steps: optimizer steps in the run (epochs x batches per epoch).
        eval_batches: forward-only batches (validation) over the run, ``batch_size`` each.
        shots, precision, gradient: override the backend's.
        input_gradients: whether inputs need derivatives (a trainable pre-network feeds the circuit).
        max_jobs, max_shots: limits to check (default: the backend's ``max_jobs``/``max_shots``).

    Returns:
        The :class:`CostEstimate`.

    Raises:
        CostLimitError: the run exceeds ``max_jobs`` or ``max_shots``.
        ConfigurationError: bad sizes or no circuit found.
    """
    for name, value in (("batch_size", batch_size), ("steps", steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(eval_batches, bool) or not isinstance(eval_batches, int) or eval_batches < 0:
        raise ConfigurationError(f"eval_batches must be an integer >= 0, got {eval_batches!r}")
    spec = find_spec(model_or_spec)
    if backend is None or isinstance(backend, str):
        backend = _runtime_backend_of(model_or_spec)
    opts = getattr(backend, "options", None)
    if opts is not None:
        gradient = gradient or opts.gradient
        precision = precision if precision is not None else opts.precision
        shots = shots if shots is not None else backend.shots
        max_jobs = max_jobs if max_jobs is not None else opts.max_jobs
        max_shots = max_shots if max_shots is not None else opts.max_shots
    gradient = gradient or "parameter-shift"
    if gradient not in ("parameter-shift", "spsa"):
        raise ConfigurationError(f"gradient must be 'parameter-shift' or 'spsa', got {gradient!r}")
    per_circuit = math.ceil(1 / precision**2) if precision is not None else (shots or DEFAULT_SHOTS)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, spec.n_inputs, generator=gen, dtype=torch.float64).requires_grad_(input_gradients)
    w = torch.rand(spec.weight_shape, generator=gen, dtype=torch.float64).requires_grad_(True)
    traced = trace(spec, x, w)
    n_grad = len(traced.grad_cols)
    per_step = batch_size * ((1 + 2 * n_grad) if gradient == "parameter-shift" else 3)
    jobs = steps + eval_batches
    circuits = steps * per_step + eval_batches * batch_size
    total_shots = circuits * per_circuit
    est = CostEstimate(jobs, jobs, circuits, total_shots, per_step, traced.angles.shape[1], n_grad,
                       jobs * JOB_OVERHEAD_S + total_shots * SHOT_TIME_S)
    return est.check(max_jobs=max_jobs, max_shots=max_shots)


def _runtime_backend_of(model):
    """The ``ibm:`` backend of a layer or of the first layer in a model that has one, else ``None``."""
    from .options import RuntimeOptions

    modules = model.modules() if isinstance(model, torch.nn.Module) else [model]
    for module in modules:
        backend = getattr(module, "backend", None)
        if isinstance(getattr(backend, "options", None), RuntimeOptions):
            return backend
    return None
