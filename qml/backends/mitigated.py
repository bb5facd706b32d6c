"""``MitigatedEstimator``: an EstimatorV2 on a noisy Aer simulator that measures, mitigates and error-bars itself.

What :class:`MitigatedEstimator.run` does with each PUB (ISA circuit, observables, parameter values):

1. groups every Pauli term of every observable into qubit-wise commuting measurement settings;
2. allocates shots: ``shots`` per setting and noise factor, or, with ``precision`` (Hartree), a pilot of
   :data:`PILOT_SHOTS` per setting measures every element's single-shot variances, then each parameter
   binding gets the variance-optimal allocation of :func:`qml.runtime.shots.allocate` for that standard
   error of its energy (the calibration's share :data:`CALIBRATION_SHARE` of the variance set aside);
3. for each setting and ZNE noise factor, runs ONE simulator call with all parameter bindings
   (noisy gates folded for the factor; basis rotations and measurements appended; the noise model
   restricted to the circuit's qubits; up to :data:`EXACT_DISTRIBUTION_QUBITS` qubits the exact noisy
   outcome distribution is sampled in one seeded multinomial draw);
4. estimates every Pauli term shot by shot through the readout inversion (see
   :mod:`qml.runtime.mitigation`), so the energy's standard error is the *sample* standard deviation
   of the mitigated single-shot estimator over the square root of the shots, per setting, summed in
   quadrature; adds the readout calibration's own uncertainty (delta method);
5. extrapolates to zero noise with the chosen extrapolator, propagating the variance.

The returned ``stds`` are these measured standard errors (not the Estimator's upper bound);
:attr:`MitigatedEstimator.last` reports the shots, circuits and estimated device seconds of the call.
"""

from __future__ import annotations

import numpy as np

from .extrapolation import extrapolate, weights
from .mitigation import Mitigation
from .shots import allocate, device_seconds

#: Shots per setting and noise factor of the pilot that measures variances before allocating for a precision.
PILOT_SHOTS = 2000
#: Largest share of the target variance the readout calibration's own uncertainty may take before it is re-measured
#: (one calibration serves every energy of a run, so its error is common to all of them: keep it small; measured
#: with 0.25, one unlucky calibration draw moved all 11 energies of a surface together, max |z| 3.4).
CALIBRATION_SHARE = 0.1
#: Most shots one re-calibration adds per preparation.
MAX_CALIBRATION_SHOTS = 20_000_000
#: Widest circuit (active qubits) whose outcome distribution is computed exactly and sampled in one draw.
EXACT_DISTRIBUTION_QUBITS = 10
TWO_QUBIT = ("cx", "cz", "ecr", "swap", "iswap", "rzz")


class _Options:
    """The attribute the Aer backend sets before each call (``seed_simulator``)."""

    def __init__(self, seed):
        self.seed_simulator = seed


class MitigatedEstimator:
    """An EstimatorV2 (``run(pubs) -> job``; ``job.result()[i].data.evs / .stds``) with qml's mitigation.

    Args:
        device: a Qiskit ``BackendV2`` with a noise model (a fake device), or an ``AerSimulator``.
        mitigation: a :class:`~qml.runtime.mitigation.Mitigation` or ``None`` (measure only).
        shots: shots per measurement setting and noise factor (exclusive with ``precision``).
        precision: target standard error of each energy in Hartree (exclusive with ``shots``).
        seed: seed of the simulator (each internal simulator call derives its own).

    Attributes:
        last: report of the latest call: ``shots`` (executed, calibration included), ``circuits``
            (simulator circuit executions), ``settings``, ``factors``, ``shots_per_energy``,
            ``device_seconds`` (rough, :func:`qml.runtime.shots.device_seconds`), ``zne_applied``.
        calibration: physical qubit -> ``(e0, e1)`` readout error rates measured so far.

    Why this long: one estimator call is one story (pilot, allocation, calibration, folded circuits,
    readout inversion, extrapolation, propagated variance) over shared per-call state; its pieces are
    methods of one object so that a resumed run reproduces the seeds of an uninterrupted one. Splitting
    it into modules is left to a later turn (issue 20's closing note).
    """

    def __init__(self, device, *, mitigation: Mitigation | None = None, shots=None, precision=None, seed=None):
        from qiskit_aer import AerSimulator

        self.device = device
        self._fixed = device if isinstance(device, AerSimulator) else None
        self._simulators: dict = {}
        self.mitigation = mitigation
        self.shots = shots
        self.precision = precision
        self.options = _Options(seed)
        self.calibration: dict[int, tuple[float, float]] = {}
        self._cal_shots: dict[int, int] = {}
        self._cal_wrong: dict[int, np.ndarray] = {}
        self._cal_var: dict[int, tuple[float, float]] = {}
        self._templates: dict = {}
        self._distributions: dict = {}
        self._n_runs = 0  # simulator draws in the current call (seeds: seed_simulator of the call + this)
        self._n_cal = 0  # calibration draws so far (seeds: the constructor's seed + this)
        self._calibrating = False
        self._cal_seed = seed
        self.last: dict = {}

    # -- EstimatorV2 interface -------------------------------------------------------------------
    def run(self, pubs, *, precision: float | None = None):
        from qiskit.primitives.containers.estimator_pub import EstimatorPub
        from qiskit.primitives.primitive_job import PrimitiveJob

        coerced = [EstimatorPub.coerce(pub) for pub in pubs]
        job = PrimitiveJob(self._run, coerced, precision)
        job._submit()
        return job

    def _run(self, pubs, precision):
        from qiskit.primitives.containers import DataBin, PrimitiveResult, PubResult

        self.last = {"shots": 0, "circuits": 0, "settings": 0, "factors": 1, "zne_applied": False}
        self._n_runs = 0
        results = []
        for pub in pubs:
            evs, stds, meta = self._pub(pub, precision if precision is not None else self.precision)
            results.append(PubResult(DataBin(evs=evs, stds=stds, shape=evs.shape), metadata=meta))
        self.last["device_seconds"] = device_seconds(self.last["shots"], jobs=1)
        return PrimitiveResult(results, metadata={"version": 2, "qml_mitigation": dict(self.last)})

    # -- one PUB ---------------------------------------------------------------------------------
    def _pub(self, pub, precision):
        """Energies and standard errors of one PUB.

        Why this long: the pilot, the allocation and the measured pass share the closures ``measure`` and
        ``energies``; splitting them apart is left to a later turn.
        """
        from qiskit.quantum_info import SparsePauliOp

        circuit = pub.circuit
        n = circuit.num_qubits
        values = pub.parameter_values
        if circuit.num_parameters:
            flat = values.as_array(circuit.parameters).reshape(-1, circuit.num_parameters)
        else:
            flat = np.zeros((max(int(np.prod(values.shape)), 1), 0))
        n_binds = max(flat.shape[0], 1)
        shape = np.broadcast_shapes(values.shape, pub.observables.shape)
        param_of = np.broadcast_to(np.arange(n_binds).reshape(values.shape), shape).ravel()
        obs_of = np.broadcast_to(np.arange(pub.observables.size).reshape(pub.observables.shape), shape).ravel()
        observables = [dict(o) for o in pub.observables.ravel()]

        identity = "I" * n
        constants = np.array([float(np.real(o.get(identity, 0.0))) for o in observables])
        labels = sorted({lab for o in observables for lab in o if lab != identity})
        if not labels:  # constant observables
            evs = constants[obs_of].reshape(shape)
            return evs, np.zeros(shape), {"shots": 0}
        groups = [tuple(g.paulis.to_labels()) for g in SparsePauliOp(labels).group_commuting(qubit_wise=True)]
        mit = self.mitigation
        noisy = any(inst.operation.name in TWO_QUBIT + ("x", "sx") for inst in circuit.data)
        factors = tuple(mit.zne) if (mit is not None and mit.zne is not None and noisy) else (1,)
        method = mit.extrapolator if len(factors) > 1 else "linear"
        zw = weights(factors, method) if len(factors) > 1 else np.ones(1)
        readout = mit is not None and mit.readout
        self.last["settings"] += len(groups)
        self.last["factors"] = len(factors)
        self.last["zne_applied"] = self.last["zne_applied"] or len(factors) > 1

        # coefficient matrix per group: (n_obs, n_terms)
        coeffs = [np.array([[float(np.real(o.get(lab, 0.0))) for lab in g] for o in observables]) for g in groups]
        measured = [sorted({n - 1 - i for lab in g for i, ch in enumerate(lab) if ch != "I"}) for g in groups]
        if readout:
            self._calibrate(sorted({q for m in measured for q in m}), n)

        counts: dict = {}  # (g, k) -> list over bindings of (bits (n_out, m), weights (n_out,))

        def measure(gi: int, ki: int, shots: int):
            new = self._execute(circuit, groups[gi], measured[gi], factors[ki], flat, shots)
            old = counts.get((gi, ki))
            counts[(gi, ki)] = new if old is None else [_merge(a, b) for a, b in zip(old, new)]

        if precision is None:
            shots = int(self.shots or 1024)
            for gi in range(len(groups)):
                for ki in range(len(factors)):
                    measure(gi, ki, shots)
        else:  # a pilot measures every element's single-shot sigmas; then each binding gets what it needs
            for gi in range(len(groups)):
                for ki in range(len(factors)):
                    measure(gi, ki, PILOT_SHOTS)
            sig = np.zeros((len(groups), len(factors), obs_of.size))
            for gi, g in enumerate(groups):
                for ki in range(len(factors)):
                    _, var1 = self._group_stats(counts[(gi, ki)], coeffs[gi], g, measured[gi], readout)
                    sig[gi, ki] = np.sqrt(var1[obs_of, param_of])
            plan = np.zeros((len(groups), len(factors), n_binds))
            for e in range(obs_of.size):
                # shot noise gets the target variance less the calibration's share (CALIBRATION_SHARE)
                target = float(precision) * np.sqrt(1.0 - (CALIBRATION_SHARE if readout else 0.0))
                alloc = allocate(sig[:, :, e], target, zw if len(factors) > 1 else None)
                plan[:, :, param_of[e]] = np.maximum(plan[:, :, param_of[e]], alloc)
            for gi in range(len(groups)):
                for ki in range(len(factors)):
                    need = np.maximum(plan[gi, ki] - _shots_per_binding(counts[(gi, ki)]), 0).astype(np.int64)
                    if need.max() > 0:
                        measure(gi, ki, need)

        def energies(cal):
            evs = np.zeros((len(factors), len(observables), n_binds))
            var = np.zeros_like(evs)
            for gi, g in enumerate(groups):
                for ki in range(len(factors)):
                    mean, var1 = self._group_stats(counts[(gi, ki)], coeffs[gi], g, measured[gi], readout, cal)
                    n_shots = _shots_per_binding(counts[(gi, ki)])
                    evs[ki] += mean
                    var[ki] += var1 / n_shots[None, :]
            evs += constants[None, :, None]
            return evs[:, obs_of, param_of], var[:, obs_of, param_of]  # (K, elements of the broadcast)

        evs_k, var_k = energies(self.calibration)
        e0, v0 = self._extrapolate(factors, method, evs_k, var_k)
        if readout:
            v_cal = self._calibration_variance(energies, factors, method, e0, measured)
            if precision is not None and float(np.max(v_cal)) > CALIBRATION_SHARE * float(precision) ** 2:
                # the calibration is shared by every later energy: measure it once more, to its share
                grow = float(np.max(v_cal)) / (CALIBRATION_SHARE * float(precision) ** 2)
                qubits = sorted({q for m in measured for q in m})
                self._calibrate(qubits, n, extra=int(np.ceil((grow - 1) * max(self._cal_shots[q] for q in qubits))))
                evs_k, var_k = energies(self.calibration)
                e0, v0 = self._extrapolate(factors, method, evs_k, var_k)
                v_cal = self._calibration_variance(energies, factors, method, e0, measured)
            v0 = v0 + v_cal
        evs = e0.reshape(shape)
        stds = np.sqrt(np.maximum(v0, 0.0)).reshape(shape)
        per_energy = float(np.mean(sum(_shots_per_binding(c) for c in counts.values())))
        self.last["shots_per_energy"] = int(per_energy)
        return evs, stds, {"shots_per_energy": int(per_energy), "factors": list(factors)}

    @staticmethod
    def _extrapolate(factors, method, evs_k, var_k):
        if len(factors) == 1:
            return evs_k[0], var_k[0]
        if method in ("linear", "richardson"):
            w = weights(factors, method)
            return np.tensordot(w, evs_k, axes=1), np.tensordot(w**2, var_k, axes=1)
        e0 = np.zeros(evs_k.shape[1:])
        v0 = np.zeros_like(e0)
        for idx in np.ndindex(e0.shape):
            e0[idx], v0[idx] = extrapolate(factors, evs_k[(slice(None), *idx)], var_k[(slice(None), *idx)], method)
        return e0, v0

    def _calibration_variance(self, energies, factors, method, e0, measured) -> np.ndarray:
        """Delta-method variance of the energies from the binomial error of each qubit's e0, e1."""
        qubits = sorted({q for m in measured for q in m})
        total = np.zeros_like(e0)
        for q in qubits:
            e = self.calibration[q]
            for s in range(2):
                p = e[s]
                var_p = self._cal_var[q][s]
                h = max(np.sqrt(var_p), 1e-6)
                cal = dict(self.calibration)
                bumped = list(e)
                bumped[s] = p + h
                cal[q] = tuple(bumped)
                up, _ = self._extrapolate(factors, method, *energies(cal))
                total += ((up - e0) / h) ** 2 * var_p
        return total

    # -- measurement -----------------------------------------------------------------------------
    def _seed(self) -> int | None:
        """Seed of the next simulator draw: a call's draws derive from the call's ``seed_simulator``
        (which the backend sets to ``seed + call index``, checkpointed), calibration draws from the
        constructor's seed alone, so a resumed run reproduces the uninterrupted one."""
        if self._calibrating:
            self._n_cal += 1
            base, k = self._cal_seed, self._n_cal
        else:
            self._n_runs += 1
            base, k = self.options.seed_simulator, self._n_runs
        if base is None:
            return None
        return int(np.random.SeedSequence([int(base), k, int(self._calibrating)]).generate_state(1)[0])

    def _calibrate(self, qubits, width: int, extra: int = 0) -> None:
        """Two-point readout calibration of the qubits not calibrated yet (``extra``: more shots for all)."""

        todo = [q for q in qubits if q not in self.calibration] if not extra else list(qubits)
        if not todo:
            return
        self._calibrating = True
        try:
            self._measure_calibration(todo, width, extra)
        finally:
            self._calibrating = False

    def _measure_calibration(self, todo, width: int, extra: int) -> None:
        from qiskit import QuantumCircuit

        shots = min(int(extra), MAX_CALIBRATION_SHOTS) if extra else self.mitigation.calibration_shots
        rates = []
        active = tuple(todo)
        # on a reduced simulator the qubits are renumbered 0..k-1; a given simulator keeps the indices
        wires = list(todo) if self._fixed is not None else list(range(len(todo)))
        # prepared 0; prepared 1 with one x; prepared 1 with x x x (the x gate's own error, folded,
        # is extrapolated away from e1: e1 = 1.5 e1(x) - 0.5 e1(xxx))
        for prep, n_x in ((0, 0), (1, 1), (1, 3)):
            qc = QuantumCircuit(width if self._fixed is not None else len(todo), len(todo))
            for _ in range(n_x):
                for w in wires:
                    qc.x(w)
            for j, w in enumerate(wires):
                qc.measure(w, j)
            sim = self._simulator(active)
            bits, counts = self._sample(sim, qc, None, np.array([shots]), 1)[0]
            rates.append(((bits != prep).astype(np.float64) * counts[:, None]).sum(axis=0))
            self.last["shots"] = self.last.get("shots", 0) + shots
            self.last["circuits"] = self.last.get("circuits", 0) + 1
        for j, q in enumerate(todo):
            wrong = np.array([r[j] for r in rates])
            total = shots
            if extra and q in self._cal_wrong:
                wrong = wrong + self._cal_wrong[q]
                total = self._cal_shots[q] + shots
            self._cal_wrong[q] = wrong
            self._cal_shots[q] = total
            e0, e1a, e1b = wrong / total
            e1 = min(max(1.5 * e1a - 0.5 * e1b, 0.0), 0.5)
            self.calibration[q] = (float(e0), float(e1))
            floor = 1.0 / total
            self._cal_var[q] = (
                max(e0 * (1 - e0), floor) / total,
                (2.25 * max(e1a * (1 - e1a), floor) + 0.25 * max(e1b * (1 - e1b), floor)) / total,
            )

    def _simulator(self, active: tuple):
        """A simulator for a circuit on the physical qubits ``active`` renumbered 0..k-1 (the device's
        noise restricted to them: a 156-qubit noise model costs seconds per call, a 2-qubit one nothing)."""
        if self._fixed is not None:
            return self._fixed
        sim = self._simulators.get(active)
        if sim is None:
            from qiskit_aer import AerSimulator

            sim = self._simulators[active] = AerSimulator(noise_model=reduced_noise_model(self.device, active))
        return sim

    def _template(self, circuit, group, qubits, factor: int):
        """``(circuit on the active qubits renumbered, active physical qubits)`` with folding and measurements."""
        key = (id(circuit), group, factor)
        hit = self._templates.get(key)
        if hit is not None and hit[0] is circuit:
            return hit[1]
        from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

        n = circuit.num_qubits
        used = {
            circuit.find_bit(q).index
            for inst in circuit.data
            if inst.operation.name not in ("barrier", "delay")
            for q in inst.qubits
        }
        active = tuple(sorted(used | set(qubits))) if self._fixed is None else tuple(range(n))
        where = {q: i for i, q in enumerate(active)}
        qreg = QuantumRegister(len(active), "q")
        out = QuantumCircuit(qreg, name=circuit.name)
        for inst in circuit.data:
            if inst.operation.name in ("measure", "barrier", "delay"):
                continue
            qargs = [qreg[where[circuit.find_bit(q).index]] for q in inst.qubits]
            out.append(inst.operation, qargs)
            name = inst.operation.name
            if factor > 1 and (name in TWO_QUBIT or name in ("x", "sx")):
                for _ in range((factor - 1) // 2):  # G (G^dagger G)^k with G^dagger of the same noisy gates
                    if name == "sx":  # sx^dagger = rz(pi) sx rz(-pi)
                        out.rz(-np.pi, qargs[0])
                        out.sx(qargs[0])
                        out.rz(np.pi, qargs[0])
                    else:  # cx, cz, ecr, x are their own inverses; others invert as given
                        out.append(inst.operation.inverse(), qargs)
                    out.append(inst.operation, qargs)
        creg = ClassicalRegister(len(qubits), "meas")
        out.add_register(creg)
        basis = {}
        for lab in group:
            for i, ch in enumerate(lab):
                if ch != "I":
                    basis[n - 1 - i] = ch
        for j, q in enumerate(qubits):
            w = qreg[where[q]]
            if basis[q] == "X":  # H = rz(pi/2) sx rz(pi/2); the last rz before a Z measurement is dropped
                out.rz(np.pi / 2, w)
                out.sx(w)
            elif basis[q] == "Y":  # Rx(pi/2) maps Y to Z
                out.sx(w)
            out.measure(w, creg[j])
        self._templates[key] = (circuit, (out, active))
        return out, active

    def _execute(self, circuit, group, qubits, factor: int, flat: np.ndarray, shots: int):
        """Counts of every binding: a list of ``(bits (n_out, m) uint8, counts (n_out,))``."""
        qc, active = self._template(circuit, group, qubits, factor)
        sim = self._simulator(active)
        n_b = flat.shape[0] if circuit.num_parameters else 1
        shots = np.broadcast_to(np.asarray(shots, dtype=np.int64), (n_b,))
        out = self._sample(sim, qc, flat if circuit.num_parameters else None, shots, n_b)
        self.last["shots"] += int(shots.sum())
        self.last["circuits"] += n_b
        return out

    def _sample(self, sim, qc, flat, shots, n_b: int):
        """Counts of ``qc`` (measurements at the end) for every binding.

        Up to :data:`EXACT_DISTRIBUTION_QUBITS` qubits, the outcome distribution is computed exactly
        (Aer's density-matrix method with the noise model, then each qubit's readout confusion matrix)
        and the counts are ONE seeded multinomial draw from it: statistically the same as Aer's
        shot-by-shot sampling, at a cost independent of the number of shots. Wider circuits are sampled.
        """
        readout = _readout_matrices(sim, qc.num_qubits)
        binds = None if flat is None else [{p: flat[:, i].tolist() for i, p in enumerate(qc.parameters)}]
        m = qc.num_clbits
        if qc.num_qubits <= EXACT_DISTRIBUTION_QUBITS and readout is not None:
            order = [None] * m  # measured qubit of each clbit
            for inst in qc.data:
                if inst.operation.name == "measure":
                    order[qc.find_bit(inst.clbits[0]).index] = qc.find_bit(inst.qubits[0]).index
            key = (id(qc), None if flat is None else flat.tobytes())
            cached = self._distributions.get(key)
            if cached is None or cached[0] is not qc:  # the exact distribution does not change: top-ups reuse it
                body = qc.remove_final_measurements(inplace=False)
                body.save_probabilities(order)
                kwargs = {"shots": 1, "method": "density_matrix"}
                result = (sim.run(body, parameter_binds=binds, **kwargs) if binds else sim.run(body, **kwargs)).result()
                dists = [np.asarray(result.data(b)["probabilities"], dtype=np.float64) for b in range(n_b)]
                if len(self._distributions) >= 256:
                    self._distributions.pop(next(iter(self._distributions)))
                self._distributions[key] = (qc, dists)
            else:
                dists = cached[1]
            rng = np.random.default_rng(self._seed())
            idx = np.arange(2**m)
            bits = ((idx[:, None] >> np.arange(m)[None, :]) & 1).astype(np.uint8)
            out = []
            for b in range(n_b):
                tensor = dists[b].reshape((2,) * m)  # axis m-1-j is clbit j
                for j, q in enumerate(order):
                    tensor = np.moveaxis(np.tensordot(readout[q], tensor, axes=([0], [m - 1 - j])), 0, m - 1 - j)
                p = np.clip(tensor.reshape(-1), 0.0, None)
                counts = rng.multinomial(int(shots[b]), p / p.sum()).astype(np.float64)
                keep = counts > 0
                out.append((bits[keep], counts[keep]))
            return out
        kwargs = {"shots": int(np.max(shots)), "seed_simulator": self._seed()}
        result = (sim.run(qc, parameter_binds=binds, **kwargs) if binds else sim.run(qc, **kwargs)).result()
        out = []
        for b in range(n_b):
            raw = result.get_counts(b) if binds else result.get_counts()
            keys = list(raw)
            bits = np.array([[int(k.replace(" ", "")[m - 1 - j]) for j in range(m)] for k in keys], dtype=np.uint8)
            out.append((bits.reshape(-1, m), np.array([raw[k] for k in keys], dtype=np.float64)))
        return out

    def _group_stats(self, binding_counts, coeffs, group, qubits, readout: bool, cal=None):
        """Mean and single-shot variance of the group's part of every observable, shapes ``(n_obs, n_binds)``."""
        cal = self.calibration if cal is None else cal
        n = len(group[0])
        m = len(qubits)
        pos = {q: j for j, q in enumerate(qubits)}
        masks = np.zeros((len(group), m), dtype=bool)
        for t, lab in enumerate(group):
            for i, ch in enumerate(lab):
                if ch != "I":
                    masks[t, pos[n - 1 - i]] = True
        table = np.empty((m, 2))
        for j, q in enumerate(qubits):
            if readout:
                e0, e1 = cal[q]
                det = 1.0 - e0 - e1
                table[j] = ((1.0 + e0 - e1) / det, -(1.0 - e0 + e1) / det)
            else:
                table[j] = (1.0, -1.0)
        means = np.zeros((coeffs.shape[0], len(binding_counts)))
        var1 = np.zeros_like(means)
        for b, (bits, w) in enumerate(binding_counts):
            z = table[np.arange(m)[None, :], bits]  # (n_out, m)
            vals = np.stack([np.prod(np.where(mask[None, :], z, 1.0), axis=1) for mask in masks], axis=1)
            x = vals @ coeffs.T  # (n_out, n_obs)
            total = w.sum()
            mu = (w @ x) / total
            means[:, b] = mu
            var1[:, b] = (w @ (x - mu[None, :]) ** 2) / max(total - 1, 1)
        return means, var1


_NOISE_MODELS: dict = {}


def _readout_matrices(sim, width: int):
    """``{qubit: 2x2 P(measured | prepared) rows=prepared}`` of a simulator's noise model, or ``None`` when
    its readout errors are correlated across qubits (then shots are sampled one by one)."""
    nm = getattr(sim.options, "noise_model", None)
    ident = np.eye(2)
    out = dict.fromkeys(range(width), ident)
    if nm is None:
        return out
    if nm._default_readout_error is not None:
        if nm._default_readout_error.number_of_qubits != 1:
            return None
        out = dict.fromkeys(range(width), np.asarray(nm._default_readout_error.probabilities))
    for qubits, error in nm._local_readout_errors.items():
        if len(qubits) != 1:
            return None
        if qubits[0] < width:
            out[qubits[0]] = np.asarray(error.probabilities)
    return out


def full_noise_model(device):
    """Aer's noise model of ``device`` (built once per device name in a process: seconds for 156 qubits)."""
    from qiskit_aer.noise import NoiseModel

    key = str(getattr(device, "name", id(device)))
    if key not in _NOISE_MODELS:
        if len(_NOISE_MODELS) >= 4:
            _NOISE_MODELS.pop(next(iter(_NOISE_MODELS)))
        _NOISE_MODELS[key] = NoiseModel.from_backend(device)
    return _NOISE_MODELS[key]


def reduced_noise_model(device, active: tuple):
    """The device's noise model restricted to the physical qubits ``active``, renumbered ``0..k-1``.

    Gate errors (local and all-qubit) and readout errors of those qubits are kept as they are; the
    relaxation of ``delay`` instructions (only in scheduled circuits, which qml does not send) is not.
    """
    from qiskit_aer.noise import NoiseModel

    full = full_noise_model(device)
    where = {q: i for i, q in enumerate(active)}
    out = NoiseModel(basis_gates=full.basis_gates)
    for gate, error in full._default_quantum_errors.items():
        out.add_all_qubit_quantum_error(error, gate, warnings=False)
    for gate, table in full._local_quantum_errors.items():
        for qubits, error in table.items():
            if all(q in where for q in qubits):
                out.add_quantum_error(error, gate, [where[q] for q in qubits], warnings=False)
    if full._default_readout_error is not None:
        out.add_all_qubit_readout_error(full._default_readout_error, warnings=False)
    for qubits, error in full._local_readout_errors.items():
        if all(q in where for q in qubits):
            out.add_readout_error(error, [where[q] for q in qubits], warnings=False)
    return out


def _merge(a, b):
    bits = np.concatenate([a[0], b[0]])
    w = np.concatenate([a[1], b[1]])
    uniq, inv = np.unique(bits, axis=0, return_inverse=True)
    return uniq, np.bincount(inv.ravel(), weights=w, minlength=len(uniq))


def _shots_per_binding(binding_counts) -> np.ndarray:
    return np.array([w.sum() for _, w in binding_counts])
