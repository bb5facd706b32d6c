"""Cost guard: how many jobs, PUBs, circuits and shots a hardware run will use, before it runs.

The counts follow exactly what the ``ibm:`` executors send: one job with one PUB per
optimizer step, ``B * (1 + 2K)`` circuit evaluations for parameter-shift (``K`` =
rotation angles that need a derivative, after decomposition to the device's gate set)
or ``3B`` for SPSA, ``B`` per forward-only evaluation batch.  The same holds for the
energy capability (``PESModel``, ``vqe``, ``scan``): a batch of ``B`` geometries is one
PUB with the per-geometry Hamiltonians as an observables array and the shifted angles
as a parameter array.  ``shots`` counts what the Estimator is asked for (``shots`` per
circuit evaluation, what ``max_shots`` limits); ``executed_shots`` multiplies by the
measurement settings of the observables (:mod:`qml.runtime.measurement`), which is
what the device runs.  QPU time is a rough model (``JOB_OVERHEAD_S`` per job plus
``SHOT_TIME_S`` per executed shot), good for the order of magnitude only: IBM bills
the measured usage.

:func:`plan_calls` answers the pre-flight protocol of ``qml.fit`` (``backend.cost_plan``):
the cost of a list of calls, checked against the backend's limits before the first job.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from .._cache import register
from ..backends.qiskit_circuits import trace
from ..backends.shots import JOB_OVERHEAD_S as JOB_OVERHEAD_S
from ..backends.shots import SHOT_TIME_S as SHOT_TIME_S
from ..errors import ConfigurationError, CostLimitError
from .measurement import measurement_plan
from .options import DEFAULT_SHOTS


@dataclass(frozen=True)
class CostEstimate:
    """What a run will send. All counts are totals over the run.

    Attributes:
        jobs, pubs, circuits, shots: totals; ``circuits`` counts parameter bindings (PUB
            elements), ``shots`` the Estimator's shots per element times the elements.
        circuits_per_step: circuit evaluations per optimizer step.
        n_angles, n_grad_angles: rotation angles of the circuit, and those differentiated.
        qpu_seconds: rough QPU time (from ``executed_shots``).
        settings: measurement settings per circuit evaluation (qubit-wise commuting groups of
            the observables; the largest over Hamiltonians), ``None`` when unknown.
        executed_shots: ``shots * settings``: what the device runs.
        kind: ``"circuit"`` (a QuantumLayer), ``"pes"``, ``"vqe"`` or ``"scan"``.
        isa: after transpilation for the backend's device (``None`` without one):
            ``{"device", "two_qubit_gates", "depth", "estimated_error"}`` (:func:`qml.runtime.layout.isa_summary`).
        n_qubits: circuit width (after tapering for chemistry targets).
    """

    jobs: int
    pubs: int
    circuits: int
    shots: int
    circuits_per_step: int
    n_angles: int
    n_grad_angles: int
    qpu_seconds: float
    settings: int | None = None
    executed_shots: int | None = None
    kind: str = "circuit"
    isa: dict | None = None
    n_qubits: int | None = None

    def check(
        self, *, max_jobs: int | None = None, max_shots: int | None = None, used: dict | None = None
    ) -> CostEstimate:
        """Raise :class:`CostLimitError` when the run exceeds ``max_jobs`` or ``max_shots``; else return self.

        Args:
            max_jobs, max_shots: the limits (``None``: no limit).
            used: jobs and shots already spent on the same backend (``backend.usage``).
        """
        used = used or {}
        jobs_before, shots_before = used.get("jobs", 0), used.get("shots", 0)
        spent = f" ({jobs_before} already sent on this backend)" if jobs_before else ""
        if max_jobs is not None and jobs_before + self.jobs > max_jobs:
            raise CostLimitError(
                f"this run needs {self.jobs} jobs{spent}, over max_jobs={max_jobs}; plan: {self}. "
                "Train for fewer steps or raise max_jobs; nothing was sent"
            )
        if max_shots is not None and shots_before + self.shots > max_shots:
            raise CostLimitError(
                f"this run needs {self.shots} shots ({self.circuits_per_step} circuits per step){spent}, over "
                f"max_shots={max_shots}; plan: {self}. Use fewer shots or steps, a smaller batch, "
                "gradient='spsa', or raise max_shots; nothing was sent"
            )
        return self

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self):
        settings = (
            f" ({self.settings} measurement settings each: {self.executed_shots:,} executed)"
            if self.settings and self.settings > 1
            else ""
        )
        isa = (
            f"; {self.isa['two_qubit_gates']} two-qubit gates, depth {self.isa['depth']} on {self.isa['device']}"
            if self.isa
            else ""
        )
        return (
            f"{self.jobs} jobs, {self.pubs} PUBs, {self.circuits} circuits ({self.circuits_per_step} per step), "
            f"{self.shots:,} shots{settings}, ~{self.qpu_seconds / 60:.1f} QPU minutes (rough){isa}"
        )


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
        "(qml.circuits.make_spec(...)), a QuantumLayer, a model containing one, a PESModel, "
        "a qml.chem.Molecule (vqe) or a list of them (scan)"
    )


def estimate(
    target,
    backend=None,
    batch_size: int | None = None,
    steps: int | None = None,
    *,
    epochs: int | None = None,
    geometries=None,
    eval_batches: int = 0,
    ansatz="uccsd",
    taper="auto",
    shots: int | None = None,
    precision: float | None = None,
    gradient: str | None = None,
    input_gradients: bool = True,
    max_jobs: int | None = None,
    max_shots: int | None = None,
) -> CostEstimate:
    """Count what a run on an ``ibm:`` backend will send, before it runs.

    ``target`` selects the plan:

    * a CircuitSpec, QuantumLayer, or model holding one quantum layer (``HybridModel``): training
      steps of ``batch_size`` samples;
    * a ``PESModel`` (anything with a chemistry ``ansatz`` and ``variational_loss``): training steps
      of ``batch_size`` geometries, each step one PUB with one Hamiltonian per geometry; pass the
      training ``geometries`` and ``epochs`` (then ``steps = epochs * ceil(len(geometries) / batch_size)``
      and ``batch_size`` defaults to all geometries, as ``qml.train pes`` does);
    * a :class:`qml.chem.Molecule`: ``qml.chem.vqe`` with ``steps`` energy-and-gradient evaluations, one job
      each (one per optimizer step with ``optimizer="adam"``; L-BFGS may evaluate several times per step);
    * a list of Molecules: ``qml.chem.scan``, one VQE of ``steps`` evaluations per geometry.

    For a trained model evaluated on many geometries (a scan with a model), pass ``eval_batches``.

    Args:
        target: see above.
        backend: an :class:`~qml.runtime.IBMBackend` (its shots, precision, gradient and cost limits
            are used; a model's own backend is found) or ``None``/a backend string (then pass
            ``shots``/``precision``; default 1024 shots). Building no backend needs no credentials.
        batch_size: samples (geometries) per optimizer step, B.
        steps: optimizer steps in the run (epochs x batches per epoch; VQE iterations).
        epochs, geometries: alternative to ``steps`` for a PESModel (see above).
        eval_batches: forward-only batches (validation, evaluation) over the run, ``batch_size`` each.
        ansatz: chemistry ansatz name for a Molecule target (``vqe``/``scan``).
        taper: for a Molecule target, as ``qml.chem.vqe``'s ``taper`` (``"auto"``: tapered when
            ``backend`` samples, as on ``ibm:``; untapered without a backend; a scan uses the first
            geometry's tapering).
        shots, precision, gradient: override the backend's.
        input_gradients: whether inputs need derivatives (a trainable pre-network feeds the circuit).
        max_jobs, max_shots: limits to check (default: the backend's ``max_jobs``/``max_shots``).

    Returns:
        The :class:`CostEstimate`.

    Raises:
        CostLimitError: the run exceeds ``max_jobs`` or ``max_shots``.
        ConfigurationError: bad sizes, or nothing quantum found in ``target``.
    """
    kind = _kind(target)
    batch_size, steps = _sizes(kind, batch_size, steps, epochs, geometries, eval_batches)
    if backend is None or isinstance(backend, str):
        backend = _runtime_backend_of(target)
    gradient, per_circuit, max_jobs, max_shots = _settings(backend, gradient, precision, shots, max_jobs, max_shots)
    calls = [(batch_size, True, steps)] + ([(batch_size, False, eval_batches)] if eval_batches else [])
    shape, calls, circuit = _workload(kind, target, calls, ansatz, geometries, input_gradients, taper, backend)
    est = count(calls, gradient=gradient, shots_per_circuit=per_circuit, kind=kind, **shape)
    est = _with_isa(backend, circuit)(est)
    return est.check(max_jobs=max_jobs, max_shots=max_shots)


def _sizes(kind: str, batch_size, steps, epochs, geometries, eval_batches) -> tuple[int, int]:
    """``(batch_size, steps)`` of :func:`estimate`, validated (epochs x batches for a PESModel)."""
    if isinstance(eval_batches, bool) or not isinstance(eval_batches, int) or eval_batches < 0:
        raise ConfigurationError(f"eval_batches must be an integer >= 0, got {eval_batches!r}")
    if kind == "pes" and epochs is not None:
        if geometries is None:
            raise ConfigurationError("epochs= needs geometries= (the training geometries) to count the steps")
        n = len(geometries)
        batch_size = n if batch_size is None else batch_size
        _positive("epochs", epochs)
        _positive("batch_size", batch_size)
        steps = epochs * math.ceil(n / batch_size)
    if kind in ("vqe", "scan"):
        batch_size = 1 if batch_size is None else batch_size
    for name, value in (("batch_size", batch_size), ("steps", steps)):
        _positive(name, value)
    return batch_size, steps


def _settings(backend, gradient, precision, shots, max_jobs, max_shots) -> tuple:
    """``(gradient, shots per circuit, max_jobs, max_shots)``: the arguments, else the backend's options."""
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
    return gradient, per_circuit, max_jobs, max_shots


def _workload(
    kind: str, target, calls: list, ansatz, geometries, input_gradients: bool, taper="auto", backend=None
) -> tuple:
    """``({n_angles, n_grad, settings}, calls, circuit)``: the shape of what ``target`` runs (a circuit or a
    chemistry ansatz with its Hamiltonians' measurement settings), the calls (a scan repeats them), and
    the circuit (spec or chemistry ansatz; a Molecule target's tapered as ``vqe`` would on ``backend``)."""
    if kind == "circuit":
        spec = find_spec(target)
        n_angles, n_grad, settings = _circuit_shape(spec, input_gradients)
        return dict(n_angles=n_angles, n_grad=n_grad, settings=settings), calls, spec
    if kind in ("vqe", "scan"):
        from ..chem import make_ansatz
        from ..chem.molecule import Molecule
        from ..chem.tapering import TaperedEntry, check_taper, for_molecule, wants_taper

        molecules = [target] if isinstance(target, Molecule) else list(target)
        taper = check_taper(taper)
        tap = None
        if taper is True or (taper == "auto" and backend is not None and wants_taper(taper, backend)):
            tap = for_molecule(molecules[0])
        chem_ansatz = make_ansatz(molecules[0], ansatz, taper=tap)
        hamiltonians = [m.hamiltonian() if tap is None else TaperedEntry(m, tap).operator for m in molecules]
        if kind == "scan":
            calls = [(c[0], c[1], c[2] * len(molecules)) for c in calls]
    else:
        chem_ansatz = target.ansatz
        hamiltonians = _model_hamiltonians(target, geometries)
    n_angles, n_grad = ansatz_angles(chem_ansatz)
    settings = max((measurement_plan(h, chem_ansatz.n_qubits).n_groups for h in hamiltonians), default=None)
    return dict(n_angles=n_angles, n_grad=n_grad, settings=settings), calls, chem_ansatz


def _with_isa(backend, circuit):
    """``est -> est`` with the ISA two-qubit gates, depth and width of ``circuit`` on ``backend``'s device."""
    import dataclasses

    from .layout import isa_summary

    isa = isa_summary(backend, circuit) if backend is not None and not isinstance(backend, str) else None
    n_qubits = getattr(circuit, "n_qubits", None)
    return lambda est: dataclasses.replace(est, isa=isa, n_qubits=n_qubits)


def count(
    calls,
    *,
    n_angles: int,
    n_grad: int,
    gradient: str,
    shots_per_circuit: int,
    settings: int | None = None,
    kind: str = "circuit",
) -> CostEstimate:
    """The :class:`CostEstimate` of ``calls``: ``(batch_size, with_gradient, how_many)`` triples,
    one job (one PUB) per call, as the packed executors send them."""
    rows = (1 + 2 * n_grad) if gradient == "parameter-shift" else 3
    jobs = circuits = 0
    per_step = 0
    for batch, grad, times in calls:
        if times <= 0:
            continue
        per_call = batch * (rows if grad and n_grad else 1)
        per_step = max(per_step, per_call if grad else 0)
        jobs += times
        circuits += times * per_call
    total_shots = circuits * shots_per_circuit
    executed = total_shots * (settings or 1)
    return CostEstimate(
        jobs,
        jobs,
        circuits,
        total_shots,
        per_step,
        n_angles,
        n_grad,
        jobs * JOB_OVERHEAD_S + executed * SHOT_TIME_S,
        settings,
        executed if settings else None,
        kind,
    )


def plan_calls(backend, module, calls) -> CostEstimate | None:
    """The pre-flight answer of an ``ibm:`` backend (``IBMBackend.cost_plan``): the cost of ``calls``
    made by ``module``, checked against the backend's ``max_jobs``/``max_shots`` and what it
    already spent.

    Args:
        backend: the :class:`~qml.runtime.IBMBackend`.
        module: the module that owns the backend: a QuantumLayer (has a ``spec``) or an energy model
            (has a chemistry ``ansatz``).
        calls: ``(batch_size, with_gradient, how_many)`` triples.

    Returns:
        The estimate, or ``None`` when ``module`` is neither kind (nothing to plan).

    Raises:
        CostLimitError: the planned run exceeds a limit; its message carries the estimate.
    """
    opts = backend.options
    kind = "pes" if hasattr(getattr(module, "ansatz", None), "hf_state") else "circuit"  # an energy model or a layer
    if kind == "circuit":
        try:
            find_spec(module)
        except ConfigurationError:
            return None
    shape, calls, circuit = _workload(kind, module, calls, None, None, True)
    per_circuit = backend.shots_per_circuit or DEFAULT_SHOTS
    est = _with_isa(backend, circuit)(
        count(calls, gradient=opts.gradient, shots_per_circuit=per_circuit, kind=kind, **shape)
    )
    return est.check(max_jobs=opts.max_jobs, max_shots=opts.max_shots, used=getattr(backend, "usage", None))


_ANGLES: dict = register("qml.runtime.cost.angles", {})


def ansatz_angles(ansatz) -> tuple[int, int]:
    """``(rotation angles, angles that depend on the parameters)`` of a chemistry ansatz decomposed to
    the gate set of the Qiskit backends (each Givens rotation becomes several RY/RZ), as the energy
    evaluators trace it (:func:`qml.backends.qiskit_circuits.trace_ansatz`)."""
    from ..backends.qiskit_circuits import trace_ansatz

    key = repr(ansatz)
    if key not in _ANGLES:
        params = torch.zeros(1, ansatz.n_params, dtype=torch.float64, requires_grad=True)
        traced = trace_ansatz(ansatz, params, ansatz.n_qubits)
        _ANGLES[key] = (traced.angles.shape[1], len(traced.grad_cols))
    return _ANGLES[key]


def _circuit_shape(spec, input_gradients: bool) -> tuple[int, int, int]:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, spec.n_inputs, generator=gen, dtype=torch.float64).requires_grad_(input_gradients)
    w = torch.rand(spec.weight_shape, generator=gen, dtype=torch.float64).requires_grad_(True)
    traced = trace(spec, x, w)
    settings = len(_union(traced.observables).group_commuting(qubit_wise=True))
    return traced.angles.shape[1], len(traced.grad_cols), settings


def _union(observables):
    from qiskit.quantum_info import PauliList

    labels = sorted({p for o in observables for p in o.paulis.to_labels() if set(p) != {"I"}})
    return PauliList(labels or ["I" * observables[0].num_qubits])


def _model_hamiltonians(model, geometries) -> list:
    """Hamiltonians of an energy model: its bank entries at ``geometries`` (default: the reference geometry)."""
    bank = getattr(model, "bank", None)
    surface = getattr(model, "surface", None)
    if geometries is None:
        geometries = (
            [surface.reference] if surface is not None else [getattr(getattr(model, "entry", None), "r_eq", None)]
        )
    geometries = list(geometries)[:4]  # the Pauli structure is the same along a surface; a few suffice
    if bank is not None:
        return [bank[g] for g in geometries]
    if hasattr(model, "_hamiltonian"):  # PESModel before the Hamiltonian bank
        return [model._hamiltonian(g)[2].hamiltonian() for g in geometries if g is not None]
    return []


def _kind(target) -> str:
    from ..chem.molecule import Molecule

    if isinstance(target, Molecule):
        return "vqe"
    if isinstance(target, (list, tuple)) and target and all(isinstance(m, Molecule) for m in target):
        return "scan"
    if hasattr(target, "variational_loss") and hasattr(getattr(target, "ansatz", None), "n_params"):
        return "pes"
    return "circuit"


def _positive(name, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")


def _runtime_backend_of(model):
    """The ``ibm:`` backend of a layer or of the first module of a model that has one, else ``None``."""
    from .options import RuntimeOptions

    modules = model.modules() if isinstance(model, torch.nn.Module) else [model]
    for module in modules:
        backend = getattr(module, "backend", None)
        if isinstance(getattr(backend, "options", None), RuntimeOptions):
            return backend
    return None
