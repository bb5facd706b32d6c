"""``vqe``: minimise <H> of a chemistry ansatz with torch optimisers, on any backend with energies.

The energy comes from the backend's ``"energy"`` capability (:mod:`qml.backends`):
``qml.backends.resolve(backend, ...).energy_evaluator(ansatz, n_qubits)`` evaluates
``<psi(theta)|H|psi(theta)>`` and its gradient; this module names no device. ``backend="auto"``
is the one ``auto`` of :mod:`qml.backends.auto`: it times the local simulators on the first
evaluation and keeps the fastest; what it chose, its timings and the seconds it spent deciding are
in the result.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import backends as _backends
from ..errors import ConfigurationError, one_of
from ..inputs import check_device
from .ansatz import make_ansatz
from .bank import HamiltonianEntry
from .molecule import Molecule

#: Chemical accuracy, 1 kcal/mol in milli-Hartree.
CHEMICAL_ACCURACY_MHA = 1.6

#: L-BFGS restarts its memory (at most LBFGS_RESTARTS times) when it stalls with max |grad| above this.
LBFGS_GTOL = 1e-5
LBFGS_RESTARTS = 10

#: Energy evaluations the strong-Wolfe line search may spend per L-BFGS step.
LBFGS_MAX_LS = 25

#: optimizer -> (default steps, default lr, consecutive small changes needed to stop)
OPTIMIZERS = {"lbfgs": (100, 1.0, 1), "adam": (500, 0.05, 5), "sgd": (500, 0.2, 5)}


@dataclass
class VQEResult:
    """Outcome of :func:`vqe`. Energies in Hartree, errors in milli-Hartree.

    Attributes:
        energy: final variational energy.
        exact_energy: exact energy in the same active space and sector (``Molecule.exact_energy``).
        error_mha: ``(energy - exact_energy) * 1000``.
        params: final parameters, ndarray of the ansatz's weight shape.
        history: energies at the start parameters and after every step, shape ``(steps + 1,)``.
        n_evaluations: number of energy + gradient evaluations.
        wall_time: seconds spent optimising, ``auto``'s deciding included (see ``decide_seconds``).
        chemical_accuracy: ``abs(error_mha) < 1.6``.
        hf_energy: Hartree-Fock energy of the same Hamiltonian.
        backend: the resolved backend that ran the energies; ``result.backend.chosen`` names what
            ran (what ``auto`` chose, for ``backend="auto"``; its decision: ``result.backend.decision``).
        converged: the energy change fell below ``tol`` before ``steps`` ran out.
        timings: ``auto``'s measurement, seconds per energy + gradient per candidate (empty otherwise).
        decide_seconds: seconds ``auto`` spent deciding (0 for a named backend or a cached decision).
        energy_stderr: standard error of ``energy`` with shots (``None`` when exact).
    """

    energy: float
    exact_energy: float
    error_mha: float
    params: np.ndarray
    history: list
    n_evaluations: int
    wall_time: float
    chemical_accuracy: bool
    hf_energy: float = math.nan
    molecule: str = ""
    ansatz: str = ""
    n_params: int = 0
    optimizer: str = ""
    backend: object = None
    converged: bool = False
    timings: dict = field(default_factory=dict)
    decide_seconds: float = 0.0
    energy_stderr: float | None = None

    def summary(self) -> str:
        """A few human-readable lines: energies, error, whether chemical accuracy was reached."""
        verdict = "reached chemical accuracy" if self.chemical_accuracy else "did NOT reach chemical accuracy"
        ran = _backends.ran(self.backend)
        return (
            f"VQE {self.molecule} | {self.ansatz} ({self.n_params} params) | {self.optimizer} on {ran}\n"
            f"  E_vqe   = {self.energy:.8f} Ha\n"
            f"  E_exact = {self.exact_energy:.8f} Ha   (E_HF = {self.hf_energy:.8f} Ha)\n"
            f"  error   = {self.error_mha:.4f} mHa: {verdict} (< {CHEMICAL_ACCURACY_MHA} mHa)\n"
            f"  {len(self.history) - 1} steps, {self.n_evaluations} evaluations, {self.wall_time:.2f} s"
            + ("" if self.converged else " (stopped at the step limit)")
            + (
                f"\n  auto chose {ran} in {self.decide_seconds:.2f} s: "
                + ", ".join(f"{k} {v:.4g} s" for k, v in self.timings.items())
                if self.timings
                else ""
            )
        )

    def to_pandas(self, *, steps: bool = False):
        """One summary row (``steps=True``: one row per step) as a ``pandas.DataFrame`` (optional extra ``pandas``)."""
        from ..tables import to_pandas, vqe

        return to_pandas(vqe(self, steps=steps))

    def to_csv(self, path, *, steps: bool = False):
        """Write the summary row (``steps=True``: one row per step) to a CSV file; returns the path."""
        from ..tables import vqe, write_csv

        return write_csv(vqe(self, steps=steps), path)

    def _repr_html_(self) -> str:
        from ..tables import html, vqe

        return html(vqe(self), repr(self))

    def to_qiskit(self, *, device=None, optimization_level: int = 1, seed: int = 0):
        """The optimised circuit and the Hamiltonian: ``(QuantumCircuit, SparsePauliOp)`` (see :mod:`qml.export`)."""
        from ..export import result_to_qiskit

        return result_to_qiskit(self, device=device, optimization_level=optimization_level, seed=seed)

    def to_qasm3(self) -> str:
        """The optimised logical circuit as OpenQASM 3 text."""
        from ..export import result_to_qasm3

        return result_to_qasm3(self)

    def to_pennylane(self):
        """``(QuantumScript, operator)``: the optimised tape measuring ``expval(H)``, and ``H``."""
        from ..export import result_to_pennylane

        return result_to_pennylane(self)

    def __repr__(self) -> str:
        ok = "chemical accuracy" if self.chemical_accuracy else "NOT chemically accurate"
        return (
            f"VQEResult(energy={self.energy:.8f}, exact_energy={self.exact_energy:.8f}, "
            f"error_mha={self.error_mha:.4f} [{ok}], steps={len(self.history) - 1}, "
            f"n_evaluations={self.n_evaluations}, wall_time={self.wall_time:.2f}s, backend={_backends.ran(self.backend)!r})"
        )


def energy_function(
    molecule: Molecule, ansatz, backend="auto", *, shots=None, seed=None, backend_options=None, device=None
):
    """``f(params) -> <H>``: the energy of ``ansatz`` on ``molecule``, from ``backend``'s evaluator.

    Args:
        molecule: a :class:`Molecule`.
        ansatz: a :class:`ChemAnsatz` (see :func:`make_ansatz`).
        backend: a backend string with the ``"energy"`` capability, or a resolved backend.
        shots, seed, backend_options: passed to :func:`qml.backends.resolve`.
        device: torch device ``f``'s parameters are moved to (default: left where they are).

    Returns:
        ``(f, evaluator)``: ``f(params)`` takes a tensor of the ansatz's weight shape and returns a
        scalar float64 tensor, differentiable in ``params``; ``evaluator`` is the backend's energy
        evaluator (``evaluator.name``, ``last_stderr``, ``stats``).

    Raises:
        BackendError: unknown backend, or one without energies (the message names those that have them).
    """
    device = None if device is None else check_device(device)
    be = _backends.at_door(
        backend, "energy", n_qubits=molecule.n_qubits, shots=shots, seed=seed, options=backend_options
    )
    evaluator = be.energy_evaluator(ansatz, molecule.n_qubits)
    entry = HamiltonianEntry(molecule)

    def f(params: torch.Tensor) -> torch.Tensor:
        return evaluator(params.reshape(1, -1).to(device=device, dtype=torch.float64), [entry])[0]

    return f, evaluator


def vqe(
    molecule: Molecule,
    ansatz="uccsd",
    backend="auto",
    optimizer: str = "lbfgs",
    steps: int | None = None,
    tol: float = 1e-7,
    init=None,
    lr: float | None = None,
    progress: bool = True,
    seed: int = 0,
    *,
    shots: int | None = None,
    backend_options: dict | None = None,
    ansatz_options: dict | None = None,
    device=None,
    **more_ansatz_options,
) -> VQEResult:
    """Variational quantum eigensolver for ``molecule``.

    Args:
        molecule: a :class:`qml.chem.Molecule` (e.g. ``Molecule.from_name("LiH", 1.6)``).
        ansatz: ``"uccsd"``, ``"k_upccgsd"``, ``"hardware_efficient"`` or a :class:`ChemAnsatz`.
        backend: a backend with the ``"energy"`` capability (see ``qml.backends.BACKENDS``); ``"auto"``
            (default) times the local simulators on the first evaluation and keeps the fastest.
        optimizer: ``"lbfgs"`` (default: strong-Wolfe line search, usually the fastest route to
            chemical accuracy), ``"adam"`` or ``"sgd"``.
        steps: maximum optimiser steps (default 100 for lbfgs, 500 for adam/sgd).
        tol: stop when the energy changes by less than ``tol`` Ha between steps (5 steps in a row
            for adam/sgd).
        init: starting parameters of the ansatz's weight shape (e.g. a neighbouring geometry's
            ``result.params``); default: the ansatz's ``init_params(seed)`` (HF state for uccsd).
        lr: learning rate (default 1.0 lbfgs, 0.05 adam, 0.2 sgd).
        progress: show a tqdm progress bar.
        seed: seed of random initial parameters (hardware_efficient) and of the shot sampler.
        shots: ``None`` (exact energies) or shots per circuit, for backends that sample.
        backend_options: options of the backend (``ibm:`` backends).
        ansatz_options: options of the ansatz, e.g. ``{"reps": 2}`` (uccsd), ``{"k": 1}``
            (k_upccgsd), ``{"layers": 3}`` (hardware_efficient); may also be given as keywords.
        device: torch device of the parameters and the energy computation (default cpu), e.g.
            ``"cuda"``: simulators in torch (``fast``, ``sector``) run there and the Hamiltonian
            is copied there once; ``result.params`` is a numpy array either way.

    Returns:
        VQEResult: energies, error, parameters, history, timing and ``chemical_accuracy``.

    Note:
        ``backend="auto"`` times each candidate once the first time an ansatz size is seen in the
        process (cached afterwards); ``result.decide_seconds`` says what it cost.

    Raises:
        TypeError: ``molecule`` is not a Molecule.
        ConfigurationError: unknown optimizer/ansatz, non-positive steps/tol/lr, ``init`` of the wrong
            shape, a device torch cannot use (``"cuda"`` without a GPU).
        BackendError: unknown backend, or one without the ``"energy"`` capability.
    """
    device = _check_call(molecule, optimizer, device)
    steps, lr, patience = _settings(optimizer, steps, lr, tol)
    ans = _ansatz(molecule, ansatz, ansatz_options, more_ansatz_options)
    start = _start(molecule, ans, init, seed)
    energy_fn, evaluator = energy_function(
        molecule, ans, backend, shots=shots, seed=seed, backend_options=backend_options, device=device
    )
    exact = molecule.exact_energy()
    params = torch.tensor(start, dtype=torch.float64, device=device, requires_grad=True)
    run = _Run(_optimizer(optimizer, params, lr), energy_fn, params)
    t0 = time.perf_counter()
    label = molecule.name or "".join(molecule.symbols)
    run.converged = run.minimise(
        steps, tol, patience, lbfgs=optimizer == "lbfgs", exact=exact, label=label, show=progress
    )
    with torch.no_grad():
        run.history.append(float(energy_fn(params)))  # the final energy
    return _result(molecule, ans, optimizer, run, evaluator, exact=exact, wall=time.perf_counter() - t0)


def _check_call(molecule, optimizer: str, device):
    """The molecule, the optimizer name and the torch device (returned) of a :func:`vqe` call."""
    if not isinstance(molecule, Molecule):
        raise TypeError(
            f"molecule must be a qml.chem.Molecule, e.g. Molecule.from_name('H2', 0.74); got {type(molecule).__name__}"
        )
    if optimizer not in OPTIMIZERS:
        raise one_of("optimizer", optimizer, OPTIMIZERS)
    device = check_device(device)
    if device.type == "meta":
        raise ConfigurationError(
            "vqe optimises energies, and tensors on the 'meta' device hold no values; "
            "use device='cpu' or 'cuda' (energy_function(..., device='meta') checks shapes)"
        )
    return device


def _settings(optimizer: str, steps, lr, tol) -> tuple[int, float, int]:
    """``(steps, lr, patience)``: the optimizer's defaults where ``None``, validated."""
    d_steps, d_lr, patience = OPTIMIZERS[optimizer]
    steps = d_steps if steps is None else steps
    lr = d_lr if lr is None else lr
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ConfigurationError(f"steps must be a positive integer, got {steps!r}")
    for nm, v in (("tol", tol), ("lr", lr)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise ConfigurationError(f"{nm} must be a positive number, got {v!r}")
    return steps, lr, patience


def _ansatz(molecule, ansatz, ansatz_options, more_ansatz_options):
    both = set(ansatz_options or {}) & set(more_ansatz_options)
    if both:
        raise ConfigurationError(f"ansatz option(s) {sorted(both)} given twice (in ansatz_options and as keywords)")
    return make_ansatz(molecule, ansatz, **{**dict(ansatz_options or {}), **more_ansatz_options})


def _start(molecule, ans, init, seed) -> np.ndarray:
    """Starting parameters: ``init`` (a warm start) or the ansatz's own (HF for uccsd)."""
    start = ans.init_params(seed) if init is None else np.asarray(init, dtype=float)
    if start.shape != ans.weight_shape:
        raise ConfigurationError(
            f"init has shape {start.shape} but the {ans.name} ansatz of {molecule!r} needs {ans.weight_shape}; "
            "warm starts need the same molecule, active space and ansatz"
        )
    return start


def _optimizer(name: str, params: torch.Tensor, lr: float) -> torch.optim.Optimizer:
    if name == "lbfgs":
        # One L-BFGS iteration per step. max_eval must be set explicitly: torch derives it from
        # max_iter (int(1.25 * 1) = 1) and gives the line search max_eval - 1 = 0 evaluations, which
        # silently turns strong Wolfe into "take the full step or stay put".
        return torch.optim.LBFGS(
            [params],
            lr=lr,
            max_iter=1,
            max_eval=LBFGS_MAX_LS + 1,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-10,
            tolerance_change=1e-12,
            history_size=50,
        )
    if name == "adam":
        return torch.optim.Adam([params], lr=lr)
    return torch.optim.SGD([params], lr=lr)


class _Run:
    """The optimisation of :func:`vqe`: the closure, the energy at the start of every step, restarts."""

    def __init__(self, opt, energy_fn, params: torch.Tensor):
        self.opt, self.energy_fn, self.params = opt, energy_fn, params
        self.n_eval, self.restarts, self.converged = 0, 0, False
        self.seen: list[float] = []  # every evaluated energy
        self.grads: list[float] = []  # max |gradient| at each evaluation
        self.history: list[float] = []  # energy at the parameters each step started from

    def closure(self):
        self.opt.zero_grad()
        e = self.energy_fn(self.params)
        e.backward()
        self.n_eval += 1
        self.seen.append(float(e.detach()))
        self.grads.append(float(self.params.grad.abs().max()))
        return e

    def step(self) -> float:
        """One optimizer step; returns max |gradient| at its start."""
        n_before = len(self.seen)
        self.opt.step(self.closure)
        self.history.append(self.seen[n_before])
        return self.grads[n_before]

    def minimise(
        self, steps: int, tol: float, patience: int, *, lbfgs: bool, exact: float, label: str, show: bool
    ) -> bool:
        """Run up to ``steps`` steps; ``True`` when the energy changed by less than ``tol`` ``patience``
        steps in a row. Under L-BFGS a stall with a large gradient clears its memory instead."""
        from tqdm.auto import tqdm

        small = 0
        with tqdm(total=steps, desc=f"VQE {label}", disable=not show, leave=False) as bar:
            for _ in range(steps):
                gmax = self.step()
                bar.update(1)
                if len(self.history) > 1 and abs(self.history[-1] - self.history[-2]) < tol:
                    if lbfgs and gmax > LBFGS_GTOL and self.restarts < LBFGS_RESTARTS:
                        # L-BFGS stalls (no descent direction from its curvature memory) with a gradient
                        # still large: forget the memory and restart from steepest descent.
                        self.opt.state.clear()
                        self.restarts += 1
                        small = 0
                        continue
                    small += 1
                    if small >= patience:
                        return True
                else:
                    small = 0
                bar.set_postfix(E=f"{self.history[-1]:.6f}", err_mHa=f"{(self.history[-1] - exact) * 1e3:.3f}")
        return False


def _result(molecule, ans, optimizer: str, run: _Run, evaluator, *, exact: float, wall: float) -> VQEResult:
    stderr, energy = evaluator.last_stderr, run.history[-1]
    err = (energy - exact) * 1e3
    decision = getattr(evaluator.backend, "decision", None)
    result = VQEResult(
        energy=energy,
        exact_energy=exact,
        error_mha=err,
        params=run.params.detach().cpu().numpy().copy(),
        history=run.history,
        n_evaluations=run.n_eval,
        wall_time=wall,
        chemical_accuracy=bool(abs(err) < CHEMICAL_ACCURACY_MHA),
        hf_energy=molecule.hf_energy(),
        molecule=repr(molecule),
        ansatz=ans.name,
        n_params=ans.n_params,
        optimizer=optimizer,
        backend=evaluator.backend,
        converged=run.converged,
        timings=dict(decision.timings) if decision else {},
        decide_seconds=decision.decide_seconds if decision else 0.0,
        energy_stderr=None if stderr is None else float(np.asarray(stderr)[0]),
    )
    result._circuit = (molecule, ans)  # what qml.export needs for to_qiskit / to_qasm3 / to_pennylane
    return result
