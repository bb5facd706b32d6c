"""``aer`` and ``aer:<FakeDevice>``: Qiskit Aer through Qiskit's EstimatorV2 primitives, one call per batch.

* ``aer`` with ``shots=None``: exact expectation values (:class:`AerStatevectorEstimator`: Aer's statevector
  simulator with parameter arrays, ``<psi|H|psi>`` with sparse matrices).
* ``aer`` with ``shots=N`` (or ``precision=`` in mHa): measured by qml's
  :class:`~qml.runtime.mitigated.MitigatedEstimator` on an ``AerSimulator`` (commuting Pauli terms grouped,
  one measured circuit per group, N shots each, or shots allocated for the precision), with standard
  errors measured from the samples.
* ``aer:<FakeDevice>`` (any V2 fake device of ``qiskit_ibm_runtime.fake_provider``): the device's noise
  model (gate and readout errors) and coupling map; the circuit is transpiled once per structure to the
  device's ISA with a preset pass manager and the observables are mapped with ``apply_layout``; sampled
  (1024 shots unless ``shots`` says otherwise).

Every batch is ONE primitive call with parameter arrays (see :mod:`qml.backends.estimator`); gradients
come from parameter-shift rows packed into the same call (or SPSA with ``gradient="spsa"``).
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from ..errors import BackendError, ConfigurationError, one_of
from .base import Backend
from .estimator import GRADIENTS, EstimatorPath, compile_for, result_arrays

#: Widest circuit the ideal Aer simulator takes here (a statevector of 2**n amplitudes per binding).
MAX_QUBITS = 28
#: Shots of a fake device when none are given (a noisy device samples).
DEFAULT_DEVICE_SHOTS = 1024
OPTIONS = ("optimization_level", "gradient", "spsa_epsilon", "mitigation", "precision")


@functools.lru_cache(maxsize=1)
def fake_device_names() -> tuple[str, ...]:
    """Names of the fake IBM devices (``FakeManilaV2``, ...) usable as ``aer:<name>`` and ``ibm:<name>``."""
    from qiskit_ibm_runtime import fake_provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    return tuple(
        sorted(
            n
            for n in dir(fake_provider)
            if n.startswith("Fake")
            and isinstance(getattr(fake_provider, n), type)
            and issubclass(getattr(fake_provider, n), FakeBackendV2)
        )
    )


def fake_device(name: str):
    """Instantiate the fake IBM device ``name`` from ``qiskit_ibm_runtime.fake_provider``.

    Raises:
        BackendError: ``name`` is not a fake device; the message lists some valid ones.
    """
    names = fake_device_names()
    if name not in names:
        sample = ", ".join(names[:8])
        raise BackendError(
            f"unknown fake device {name!r}; use one of qiskit_ibm_runtime.fake_provider's V2 devices, "
            f"e.g. {sample} ... ({len(names)} in all; list them with qml.backends.aer.fake_device_names())"
        )
    from qiskit_ibm_runtime import fake_provider

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(fake_provider, name)()


def precision_for(shots: int) -> float:
    """The Estimator precision whose ``ceil(1 / precision**2)`` is exactly ``shots``."""
    p = 1.0 / math.sqrt(shots)
    while math.ceil(1.0 / p**2) > shots:
        p = np.nextafter(p, np.inf)
    while math.ceil(1.0 / p**2) < shots:
        p = np.nextafter(p, 0.0)
    return float(p)


class AerStatevectorEstimator:
    """An exact EstimatorV2 on Aer's statevector simulator: ``<psi|H|psi>`` with sparse matrices.

    Aer's own ``EstimatorV2`` saves one expectation value per Pauli term per binding, which for a
    molecular Hamiltonian (276 terms for LiH) costs about 5x the simulation itself; here each binding's
    statevector is saved once (in chunks of at most 2**24 amplitudes) and every Hamiltonian becomes one
    sparse matrix (cached), so ``E = psi^dagger (H psi)``. Same PUB semantics (broadcasting of parameter
    values against observables), ``stds`` zero.
    """

    CHUNK_AMPLITUDES = 2**24
    CACHE_SIZE = 64

    def __init__(self):
        from qiskit_aer import AerSimulator

        self.simulator = AerSimulator(method="statevector")
        self._matrices: dict = {}

    def run(self, pubs, *, precision: float | None = None):
        from qiskit.primitives.containers.estimator_pub import EstimatorPub
        from qiskit.primitives.primitive_job import PrimitiveJob

        coerced = [EstimatorPub.coerce(pub, 0.0) for pub in pubs]
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs):
        from qiskit.primitives.containers import DataBin, PrimitiveResult, PubResult

        results = []
        for pub in pubs:
            evs = self._evs(pub)
            results.append(
                PubResult(
                    DataBin(evs=evs, stds=np.zeros_like(evs), shape=evs.shape), metadata={"target_precision": 0.0}
                )
            )
        return PrimitiveResult(results, metadata={"version": 2})

    def _evs(self, pub) -> np.ndarray:
        circuit = pub.circuit.copy()
        circuit.save_statevector()
        values = pub.parameter_values
        flat = values.as_array(circuit.parameters).reshape(-1, circuit.num_parameters)
        n_binds = flat.shape[0]
        chunk = max(1, self.CHUNK_AMPLITUDES // 2**circuit.num_qubits)
        shape = np.broadcast_shapes(values.shape, pub.observables.shape)
        param_of = np.broadcast_to(np.arange(max(n_binds, 1)).reshape(values.shape), shape)
        obs_of = np.broadcast_to(np.arange(pub.observables.size).reshape(pub.observables.shape), shape)
        observables = pub.observables.ravel()
        matrices = [self._matrix(observables[i], circuit.num_qubits) for i in range(observables.size)]
        evs = np.zeros(shape)
        for start in range(0, max(n_binds, 1), chunk):
            stop = min(start + chunk, max(n_binds, 1))
            if circuit.num_parameters:
                binds = {p: flat[start:stop, i] for i, p in enumerate(circuit.parameters)}
                result = self.simulator.run(circuit, parameter_binds=[binds]).result()
            else:
                result = self.simulator.run(circuit).result()
            states = [np.asarray(result.data(i)["statevector"]) for i in range(stop - start)]
            for index in np.ndindex(shape):
                k = param_of[index]
                if start <= k < stop:
                    psi = states[k - start]
                    evs[index] = np.real(np.vdot(psi, matrices[obs_of[index]] @ psi))
        return evs

    def _matrix(self, observable, n_qubits: int):
        from qiskit.quantum_info import SparsePauliOp

        items = tuple(sorted(observable.items()))
        key = (n_qubits, items)
        matrix = self._matrices.get(key)
        if matrix is None:
            if len(self._matrices) >= self.CACHE_SIZE:
                self._matrices.pop(next(iter(self._matrices)))
            op = SparsePauliOp.from_list(list(items) or [("I" * n_qubits, 0.0)], num_qubits=n_qubits)
            matrix = self._matrices[key] = op.to_matrix(sparse=True)
        return matrix


class AerBackend(EstimatorPath, Backend):
    """Qiskit Aer as a qml backend (capabilities ``expval`` and ``energy``).

    Args:
        name: ``"aer"`` or ``"aer:<FakeDevice>"``.
        n_qubits: circuit width, checked against the simulator or device.
        shots: ``None`` (exact on ``aer``; 1024 on a fake device) or a positive number of shots per
            circuit evaluation.
        seed: seed of the sampler (each call uses ``seed + call index``) and of the transpiler.
        optimization_level: preset pass-manager level 0-3 for ``aer:<FakeDevice>`` (default 1).
        gradient: ``"parameter-shift"`` (default) or ``"spsa"``.
        spsa_epsilon: SPSA step in radians (default 0.1).
        mitigation: ``"auto"`` (default: the device family's preset on ``aer:<FakeDevice>``, nothing on
            ``aer``), ``None``/``"none"``, a preset name or a dict (see :mod:`qml.runtime.mitigation`);
            qml measures, mitigates and error-bars the energies itself (:mod:`qml.runtime.mitigated`).
        precision: target standard error of each energy in mHa (shots are then allocated over the
            measurement settings to reach it; exclusive with ``shots``). Default on a fake device
            with mitigation: :data:`qml.runtime.mitigation.DEFAULT_PRECISION_MHA`.

    Attributes:
        name, shots, seed, exact, capabilities, device (the fake device or ``None``), estimator (the
        primitive every call goes through; replace it to wrap or count calls), calls (primitive calls).

    Raises:
        BackendError: not an ``aer`` name, an unknown fake device, a circuit wider than the simulator or
            device, bad shots, or an unknown option.
        ConfigurationError: an invalid option value.
    """

    samples = True
    accepts = OPTIONS
    description = "Qiskit Aer through EstimatorV2 primitives: exact, sampled, or with a fake device's noise"
    spellings = {
        "aer": "Qiskit Aer; exact when shots=None, sampled otherwise",
        "aer:<FakeDevice>": "Qiskit Aer with the noise model and coupling map of an IBM fake device, e.g. aer:FakeManilaV2",
    }

    def __init__(
        self, name: str = "aer", *, n_qubits: int, shots: int | None = None, seed: int | None = None, **options
    ):
        family, colon, device_name = name.partition(":")
        if family != "aer":
            raise BackendError(f"AerBackend serves 'aer' and 'aer:<FakeDevice>', got {name!r}")
        if colon and not device_name.strip():
            raise BackendError(
                "give a fake device after 'aer:', e.g. 'aer:FakeManilaV2' (see qml.backends.fake_device_names()), "
                "or pass 'aer' for the noiseless Aer simulator"
            )
        Backend.__init__(self, name, n_qubits=n_qubits, shots=shots, seed=seed, **options)
        self.optimization_level = options.get("optimization_level", 1)
        if isinstance(self.optimization_level, bool) or self.optimization_level not in (0, 1, 2, 3):
            raise ConfigurationError(
                f"optimization_level must be an integer from 0 to 3, got {self.optimization_level!r}"
            )
        self.gradient = options.get("gradient", "parameter-shift")
        if self.gradient not in GRADIENTS:
            raise one_of("gradient method", self.gradient, GRADIENTS)
        self.spsa_epsilon = options.get("spsa_epsilon", 0.1)
        if (
            isinstance(self.spsa_epsilon, bool)
            or not isinstance(self.spsa_epsilon, (int, float))
            or not self.spsa_epsilon > 0
        ):
            raise ConfigurationError(f"spsa_epsilon must be a positive number of radians, got {self.spsa_epsilon!r}")
        self.device = fake_device(device_name) if device_name else None
        from . import mitigation as _mit
        from .shots import check_precision, check_shots_or_precision

        precision = options.get("precision")
        check_shots_or_precision(shots, precision)
        self.precision = None if precision is None else check_precision(precision)
        self.mitigation = _mit.resolve_mitigation(options.get("mitigation", "auto"), self.device)
        if self.device is not None and self.mitigation is not None and shots is None and precision is None:
            self.precision = _mit.DEFAULT_PRECISION_MHA
        limit = self.device.num_qubits if self.device is not None else MAX_QUBITS
        if self.n_qubits > limit:
            where = f"the fake device {device_name} has" if self.device is not None else "aer simulates at most"
            raise BackendError(
                f"the circuit needs {self.n_qubits} qubits but {where} {limit}; use fewer qubits "
                "(a smaller active space) or a larger device"
            )
        if self.shots is None and self.device is not None and self.precision is None:
            self.shots = DEFAULT_DEVICE_SHOTS  # a noisy device samples
        self.calls = 0
        self._estimator = None

    @property
    def exact(self) -> bool:
        return self.shots is None and self.precision is None

    # -- the primitive -----------------------------------------------------------------------
    @property
    def estimator(self):
        """The EstimatorV2 primitive (built on first use)."""
        if self._estimator is None:
            from qiskit_aer import AerSimulator

            if not self.exact:  # sampled: qml measures, (mitigates) and reports measured standard errors
                from .mitigated import MitigatedEstimator

                self._estimator = MitigatedEstimator(
                    self.device if self.device is not None else AerSimulator(),
                    mitigation=self.mitigation,
                    shots=self.shots,
                    precision=None if self.precision is None else self.precision * 1e-3,
                    seed=self.seed,
                )
            else:
                self._estimator = AerStatevectorEstimator()
        return self._estimator

    @estimator.setter
    def estimator(self, value):
        self._estimator = value

    def compile(self, traced):
        return compile_for(self, traced, self.device)

    def fingerprint_parts(self) -> tuple:
        mit = None if self.mitigation is None else self.mitigation.name
        return super().fingerprint_parts() + (self.optimization_level, self.calls, mit, self.precision)

    def run_pub(self, pub, *, key: str, shape: tuple, n_evals: int, owner):
        est = self.estimator
        options = getattr(est, "options", None)
        if self.seed is not None and hasattr(options, "seed_simulator"):
            options.seed_simulator = int(self.seed) + self.calls  # fresh, reproducible noise every call
        self.calls += 1
        result = est.run([pub]).result()
        evs, stds = result_arrays(result, tuple(shape))
        # with shots: the Estimator convention (shots per circuit evaluation); with precision: every shot run
        done = getattr(est, "last", None) or {}
        shots = (self.shots or 0) * n_evals if self.shots else done.get("shots", 0)
        for name, value in (("jobs", 1), ("pubs", 1), ("circuits", n_evals), ("shots", shots)):
            owner._count(name, value)
        if not np.all(np.isfinite(evs)):
            raise BackendError(f"{self.name} returned non-finite expectation values; check the circuit's parameters")
        return evs, (None if self.exact else stds)

    def seed_state(self) -> dict:
        """Checkpoint hook: calls so far (call k samples with ``seed + k``)."""
        return {"calls": self.calls}

    def set_seed_state(self, state: dict) -> None:
        self.calls = int(state["calls"])

    def __repr__(self):
        shots = "exact" if self.exact else (f"shots={self.shots}" if self.shots else f"precision={self.precision} mHa")
        mit = "" if self.mitigation is None else f", mitigation={self.mitigation.name!r}"
        return f"AerBackend({self.name!r}, {shots}, gradient={self.gradient!r}{mit})"
