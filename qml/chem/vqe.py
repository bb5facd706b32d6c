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
from .tapering import TaperedEntry, Tapering, check_taper, for_molecule, wants_taper

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
        backend: the backend that ran the energies (what ``auto`` chose, for ``backend="auto"``).
        converged: the energy change fell below ``tol`` before ``steps`` ran out.
        timings: ``auto``'s measurement, seconds per energy + gradient per candidate (empty otherwise).
        decide_seconds: seconds ``auto`` spent deciding (0 for a named backend or a cached decision).
        energy_stderr: standard error of ``energy`` with shots (``None`` when exact).
        n_qubits: qubits the circuit ran on (after tapering, when tapered).
        tapering: the :class:`qml.chem.tapering.Tapering` used (``None``: untapered).
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
    backend: str = ""
    converged: bool = False
    timings: dict = field(default_factory=dict)
    decide_seconds: float = 0.0
    energy_stderr: float | None = None
    n_qubits: int = 0
    tapering: object = None

    def summary(self) -> str:
        """A few human-readable lines: energies, error, whether chemical accuracy was reached."""
        verdict = "reached chemical accuracy" if self.chemical_accuracy else "did NOT reach chemical accuracy"
        return (
            f"VQE {self.molecule} | {self.ansatz} ({self.n_params} params) | {self.optimizer} on {self.backend}\n"
            f"  E_vqe   = {self.energy:.8f} Ha\n"
            f"  E_exact = {self.exact_energy:.8f} Ha   (E_HF = {self.hf_energy:.8f} Ha)\n"
            f"  error   = {self.error_mha:.4f} mHa: {verdict} (< {CHEMICAL_ACCURACY_MHA} mHa)\n"
            f"  {len(self.history) - 1} steps, {self.n_evaluations} evaluations, {self.wall_time:.2f} s"
            + ("" if self.converged else " (stopped at the step limit)")
            + (
                f"\n  auto chose {self.backend} in {self.decide_seconds:.2f} s: "
                + ", ".join(f"{k} {v:.4g} s" for k, v in self.timings.items())
                if self.timings
                else ""
            )
        )

    def __repr__(self) -> str:
        ok = "chemical accuracy" if self.chemical_accuracy else "NOT chemically accurate"
        return (
            f"VQEResult(energy={self.energy:.8f}, exact_energy={self.exact_energy:.8f}, "
            f"error_mha={self.error_mha:.4f} [{ok}], steps={len(self.history) - 1}, "
            f"n_evaluations={self.n_evaluations}, wall_time={self.wall_time:.2f}s, backend={self.backend!r})"
        )


def energy_function(
    molecule: Molecule,
    ansatz,
    backend="auto",
    *,
    shots=None,
    seed=None,
    backend_options=None,
    device=None,
    taper=None,
):
    """``f(params) -> <H>``: the energy of ``ansatz`` on ``molecule``, from ``backend``'s evaluator.

    Args:
        molecule: a :class:`Molecule`.
        ansatz: a :class:`ChemAnsatz` (see :func:`make_ansatz`).
        backend: a backend string with the ``"energy"`` capability, or a resolved backend.
        shots, seed, backend_options: passed to :func:`qml.backends.resolve`.
        device: torch device ``f``'s parameters are moved to (default: left where they are).
        taper: ``None`` or the :class:`qml.chem.tapering.Tapering` ``ansatz`` was built for: the
            energy is then that of the tapered Hamiltonian.

    Returns:
        ``(f, evaluator)``: ``f(params)`` takes a tensor of the ansatz's weight shape and returns a
        scalar float64 tensor, differentiable in ``params``; ``evaluator`` is the backend's energy
        evaluator (``evaluator.name``, ``last_stderr``, ``stats``).

    Raises:
        BackendError: unknown backend, or one without energies (the message names those that have them).
    """
    device = None if device is None else check_device(device)
    entry = HamiltonianEntry(molecule) if taper is None else TaperedEntry(molecule, taper)
    be = _backends.resolve(backend, n_qubits=entry.n_qubits, shots=shots, seed=seed, **dict(backend_options or {}))
    _backends.require(be, "energy")
    evaluator = be.energy_evaluator(ansatz, entry.n_qubits)

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
    taper="auto",
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
        taper: qubit tapering by the Hamiltonian's Z2 symmetries (:mod:`qml.chem.tapering`):
            ``"auto"`` (default: on where the backend samples or is noisy, off on exact simulators),
            ``True`` or ``False`` (or a ``Tapering``, e.g. fixed at a scan's reference geometry).
            Tapered, the ansatz runs on fewer qubits from the tapered HF state and
            ``result.exact_energy`` is still the untapered exact energy.

    Returns:
        VQEResult: energies, error, parameters, history, timing and ``chemical_accuracy``.

    Note:
        ``backend="auto"`` times each candidate once the first time an ansatz size is seen in the
        process (cached afterwards); ``result.decide_seconds`` says what it cost.

    Raises:
        TypeError: ``molecule`` is not a Molecule.
        ConfigurationError: unknown optimizer/ansatz, non-positive steps/tol/lr, ``init`` of the wrong
            shape, a device torch cannot use (``"cuda"`` without a GPU), a ``taper`` other than
            ``"auto"``/``True``/``False``; :class:`~qml.chem.tapering.TaperingError` when the ground
            state is not in the tapered sector.
        BackendError: unknown backend, or one without the ``"energy"`` capability.
    """
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
    d_steps, d_lr, patience = OPTIMIZERS[optimizer]
    steps = d_steps if steps is None else steps
    lr = d_lr if lr is None else lr
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ConfigurationError(f"steps must be a positive integer, got {steps!r}")
    for nm, v in (("tol", tol), ("lr", lr)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise ConfigurationError(f"{nm} must be a positive number, got {v!r}")
    both = set(ansatz_options or {}) & set(more_ansatz_options)
    if both:
        raise ConfigurationError(f"ansatz option(s) {sorted(both)} given twice (in ansatz_options and as keywords)")
    taper = check_taper(taper)
    tap = None
    if taper is not False:
        be = _backends.resolve(
            backend, n_qubits=molecule.n_qubits, shots=shots, seed=seed, **dict(backend_options or {})
        )
        if wants_taper(taper, be):
            tap = taper if isinstance(taper, Tapering) else for_molecule(molecule)
        backend = be  # resolved once
    ans = make_ansatz(molecule, ansatz, taper=tap, **{**dict(ansatz_options or {}), **more_ansatz_options})
    start = ans.init_params(seed) if init is None else np.asarray(init, dtype=float)
    if start.shape != ans.weight_shape:
        raise ConfigurationError(
            f"init has shape {start.shape} but the {ans.name} ansatz of {molecule!r} needs {ans.weight_shape}; "
            "warm starts need the same molecule, active space and ansatz"
        )
    energy_fn, evaluator = energy_function(
        molecule, ans, backend, shots=shots, seed=seed, backend_options=backend_options, device=device, taper=tap
    )
    exact = molecule.exact_energy()
    if tap is not None:
        TaperedEntry(molecule, tap).check_sector(exact)  # raises if the ground state left the sector

    params = torch.tensor(start, dtype=torch.float64, device=device, requires_grad=True)
    if optimizer == "lbfgs":
        # One L-BFGS iteration per step. max_eval must be set explicitly: torch derives it from
        # max_iter (int(1.25 * 1) = 1) and gives the line search max_eval - 1 = 0 evaluations, which
        # silently turns strong Wolfe into "take the full step or stay put".
        opt = torch.optim.LBFGS(
            [params],
            lr=lr,
            max_iter=1,
            max_eval=LBFGS_MAX_LS + 1,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-10,
            tolerance_change=1e-12,
            history_size=50,
        )
    elif optimizer == "adam":
        opt = torch.optim.Adam([params], lr=lr)
    else:
        opt = torch.optim.SGD([params], lr=lr)
    n_eval = 0
    seen: list[float] = []
    grads: list[float] = []
    restarts = 0

    def closure():
        nonlocal n_eval
        opt.zero_grad()
        e = energy_fn(params)
        e.backward()
        n_eval += 1
        seen.append(float(e.detach()))
        grads.append(float(params.grad.abs().max()))
        return e

    from tqdm.auto import tqdm

    label = molecule.name or "".join(molecule.symbols)
    history: list[float] = []
    small, converged = 0, False
    t0 = time.perf_counter()
    with tqdm(total=steps, desc=f"VQE {label}", disable=not progress, leave=False) as bar:
        for _ in range(steps):
            n_before = len(seen)
            opt.step(closure)
            history.append(seen[n_before])  # energy at the parameters this step started from
            gmax = grads[n_before]
            if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
                if optimizer == "lbfgs" and gmax > LBFGS_GTOL and restarts < LBFGS_RESTARTS:
                    # L-BFGS stalls (no descent direction from its curvature memory) with a gradient
                    # still large: forget the memory and restart from steepest descent.
                    opt.state.clear()
                    restarts += 1
                    small = 0
                    bar.update(1)
                    continue
                small += 1
                if small >= patience:
                    converged = True
                    break
            else:
                small = 0
            bar.update(1)
            bar.set_postfix(E=f"{history[-1]:.6f}", err_mHa=f"{(history[-1] - exact) * 1e3:.3f}")
        with torch.no_grad():
            energy = float(energy_fn(params))
    stderr = evaluator.last_stderr
    history.append(energy)
    wall = time.perf_counter() - t0
    err = (energy - exact) * 1e3
    decision = getattr(evaluator.backend, "decision", None)
    return VQEResult(
        energy=energy,
        exact_energy=exact,
        error_mha=err,
        params=params.detach().cpu().numpy().copy(),
        history=history,
        n_evaluations=n_eval,
        wall_time=wall,
        chemical_accuracy=bool(abs(err) < CHEMICAL_ACCURACY_MHA),
        hf_energy=molecule.hf_energy(),
        molecule=repr(molecule),
        ansatz=ans.name,
        n_params=ans.n_params,
        optimizer=optimizer,
        backend=evaluator.name,
        converged=converged,
        timings=dict(decision.timings) if decision else {},
        decide_seconds=decision.decide_seconds if decision else 0.0,
        energy_stderr=None if stderr is None else float(np.asarray(stderr)[0]),
        n_qubits=ans.n_qubits,
        tapering=tap,
    )
