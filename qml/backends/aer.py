"""``aer`` and ``aer:<FakeDevice>``: Qiskit Aer through Qiskit's EstimatorV2 primitives, one call per batch.

* ``aer`` with ``shots=None``: exact expectation values (Aer's ``EstimatorV2``, statevector, precision 0).
* ``aer`` with ``shots=N``: measured with N shots per circuit evaluation (Qiskit's ``BackendEstimatorV2``
  on an ``AerSimulator``: commuting Pauli terms grouped, one measured circuit per group), with standard
  errors from the samples.
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
from .estimator import GRADIENTS, EstimatorPath, compile_for, result_arrays

#: Widest circuit the ideal Aer simulator takes here (a statevector of 2**n amplitudes per binding).
MAX_QUBITS = 28
#: Shots of a fake device when none are given (a noisy device samples).
DEFAULT_DEVICE_SHOTS = 1024
OPTIONS = ("optimization_level", "gradient", "spsa_epsilon")


@functools.lru_cache(maxsize=1)
def fake_device_names() -> tuple[str, ...]:
    """Names of the fake IBM devices (``FakeManilaV2``, ...) usable as ``aer:<name>`` and ``ibm:<name>``."""
    from qiskit_ibm_runtime import fake_provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    return tuple(sorted(
        n for n in dir(fake_provider)
        if n.startswith("Fake") and isinstance(getattr(fake_provider, n), type)
        and issubclass(getattr(fake_provider, n), FakeBackendV2)
    ))


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


class AerBackend(EstimatorPath):
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

    Attributes:
        name, shots, seed, exact, capabilities, device (the fake device or ``None``), estimator (the
        primitive every call goes through; replace it to wrap or count calls), calls (primitive calls).

    Raises:
        BackendError: not an ``aer`` name, an unknown fake device, a circuit wider than the simulator or
            device, or bad shots.
        ConfigurationError: an unknown or invalid option.
    """

    capabilities = frozenset({"expval", "energy"})

    def __init__(self, name: str = "aer", *, n_qubits: int, shots: int | None = None, seed: int | None = None,
                 **options):
        family, _, device_name = name.partition(":")
        if family != "aer":
            raise BackendError(f"AerBackend serves 'aer' and 'aer:<FakeDevice>', got {name!r}")
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(f"unknown aer backend option(s) {unknown}; valid options are: {', '.join(OPTIONS)}")
        if shots is not None and (isinstance(shots, bool) or not isinstance(shots, (int, np.integer)) or shots < 1):
            raise BackendError(f"shots must be None (exact) or a positive integer, got {shots!r}")
        if isinstance(n_qubits, bool) or not isinstance(n_qubits, (int, np.integer)) or n_qubits < 1:
            raise BackendError(f"n_qubits must be a positive integer, got {n_qubits!r}")
        self.optimization_level = options.get("optimization_level", 1)
        if isinstance(self.optimization_level, bool) or self.optimization_level not in (0, 1, 2, 3):
            raise ConfigurationError(f"optimization_level must be an integer from 0 to 3, got {self.optimization_level!r}")
        self.gradient = options.get("gradient", "parameter-shift")
        if self.gradient not in GRADIENTS:
            raise one_of("gradient method", self.gradient, GRADIENTS)
        self.spsa_epsilon = options.get("spsa_epsilon", 0.1)
        if isinstance(self.spsa_epsilon, bool) or not isinstance(self.spsa_epsilon, (int, float)) \
                or not self.spsa_epsilon > 0:
            raise ConfigurationError(f"spsa_epsilon must be a positive number of radians, got {self.spsa_epsilon!r}")
        self.name = name
        self.n_qubits = int(n_qubits)
        self.seed = seed
        self.device = fake_device(device_name) if device_name else None
        limit = self.device.num_qubits if self.device is not None else MAX_QUBITS
        if n_qubits > limit:
            where = f"the fake device {device_name} has" if self.device is not None else "aer simulates at most"
            raise BackendError(f"the circuit needs {n_qubits} qubits but {where} {limit}; use fewer qubits "
                               "(a smaller active space) or a larger device")
        self.shots = None if shots is None and self.device is None else int(shots or DEFAULT_DEVICE_SHOTS)
        self.exact = self.shots is None
        self.calls = 0
        self._estimator = None

    # -- the primitive -----------------------------------------------------------------------
    @property
    def estimator(self):
        """The EstimatorV2 primitive (built on first use)."""
        if self._estimator is None:
            from qiskit_aer import AerSimulator

            if self.exact:
                from qiskit_aer.primitives import EstimatorV2

                self._estimator = EstimatorV2(options={"default_precision": 0.0,
                                                       "backend_options": {"method": "statevector"}})
            else:
                from qiskit.primitives import BackendEstimatorV2

                sim = AerSimulator.from_backend(self.device) if self.device is not None else AerSimulator()
                self._estimator = BackendEstimatorV2(backend=sim, options={
                    "default_precision": precision_for(self.shots), "seed_simulator": self.seed})
        return self._estimator

    @estimator.setter
    def estimator(self, value):
        self._estimator = value

    def compile(self, traced):
        return compile_for(self, traced, self.device)

    def fingerprint_parts(self) -> tuple:
        return super().fingerprint_parts() + (self.optimization_level, self.calls)

    def run_pub(self, pub, *, key: str, shape: tuple, n_evals: int, owner):
        est = self.estimator
        options = getattr(est, "options", None)
        if self.seed is not None and hasattr(options, "seed_simulator"):
            options.seed_simulator = int(self.seed) + self.calls  # fresh, reproducible noise every call
        self.calls += 1
        result = est.run([pub]).result()
        evs, stds = result_arrays(result, tuple(shape))
        for name, value in (("jobs", 1), ("pubs", 1), ("circuits", n_evals), ("shots", (self.shots or 0) * n_evals)):
            owner._count(name, value)
        if not np.all(np.isfinite(evs)):
            raise BackendError(f"{self.name} returned non-finite expectation values; check the circuit's parameters")
        return evs, (None if self.exact else stds)

    def __repr__(self):
        shots = "exact" if self.shots is None else f"shots={self.shots}"
        return f"AerBackend({self.name!r}, {shots}, gradient={self.gradient!r})"
