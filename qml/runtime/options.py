"""Validated options of ``ibm:<device>`` backends, and their translation to Qiskit Runtime options.

:class:`RuntimeOptions` is a keyword-only dataclass: every value is checked at
construction and an unknown key or a bad value raises
:class:`~qml.errors.ConfigurationError` naming the valid choices (nothing is
silently ignored).  It never holds credentials, so it can be written to the job
store and to checkpoints as it is.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError, one_of

MODES = ("job", "batch", "session")
GRADIENTS = ("parameter-shift", "spsa")
DD_SEQUENCES = ("XX", "XpXm", "XY4")
ZNE_EXTRAPOLATORS = (
    "linear",
    "exponential",
    "double_exponential",
    "polynomial_degree_1",
    "polynomial_degree_2",
    "polynomial_degree_3",
    "polynomial_degree_4",
    "polynomial_degree_5",
    "polynomial_degree_6",
    "polynomial_degree_7",
    "fallback",
)
DEFAULT_SHOTS = 1024


@dataclass(frozen=True, kw_only=True)
class RuntimeOptions:
    """Options of an ``ibm:<device>`` backend (all keyword-only, validated on construction).

    Attributes:
        mode: ``"job"`` (one Estimator per job), ``"batch"`` or ``"session"`` (jobs of a run
            share a Qiskit Runtime Batch / Session, closed by ``executor.close()``).
        precision: target standard error of each expectation value; exclusive with ``shots``.
        optimization_level: preset pass-manager level 0-3 used to transpile to the device ISA.
        resilience_level: Estimator resilience level 0-2 (``None``: the client-side Estimator's default,
            1 = TREX + measurement twirling, on hardware; 0 in local testing mode unless a mitigation
            option is on, since every twirling randomization is simulated there: measured 118 s instead
            of 9 s for one H2 energy step on FakeManilaV2).
        dynamical_decoupling: ``False``/``None`` (off), ``True`` (``"XX"``) or a sequence name
            among ``"XX"``, ``"XpXm"``, ``"XY4"``.
        twirling: enable gate and measurement Pauli twirling.
        zne: enable zero-noise extrapolation; ``zne_noise_factors`` (each >= 1) and
            ``zne_extrapolator`` refine it.
        measure_mitigation: enable TREX readout mitigation.
        gradient: ``"parameter-shift"`` (exact up to shot noise, 2 evaluations per gate angle
            per sample) or ``"spsa"`` (2 evaluations per sample whatever the circuit size).
        spsa_epsilon: SPSA perturbation size in radians.
        max_jobs, max_shots: cost guard; a submission that would exceed either raises
            :class:`~qml.errors.CostLimitError` before it is sent.
        timeout: seconds to wait for one job before giving up (the job keeps running and
            stays in the job store; fetch it later with ``qml jobs fetch ID``).
        max_retries, backoff: retries of network errors on submit/poll, with exponential
            backoff starting at ``backoff`` seconds.
        poll_interval: first interval between status polls (grows to 10 s).
        store: record jobs in ``$QML_HOME/jobs.sqlite`` (``True``), a path, or ``False``.
        local: run on the fake device matching the name (``ibm_brisbane`` -> ``FakeBrisbane``)
            in Qiskit Runtime local testing mode; no credentials needed.
        instance: IBM Cloud instance (CRN) overriding ``QISKIT_IBM_INSTANCE``.
        estimator: an Estimator V2 object to use instead of Qiskit Runtime's (tests, exact
            references such as ``qiskit.primitives.StatevectorEstimator``).
        service: a service object to use instead of connecting (tests, a service you built).
    """

    mode: str = "job"
    precision: float | None = None
    optimization_level: int = 1
    resilience_level: int | None = None
    dynamical_decoupling: bool | str | None = None
    twirling: bool | None = None
    zne: bool | None = None
    zne_noise_factors: tuple | None = None
    zne_extrapolator: str | None = None
    measure_mitigation: bool | None = None
    gradient: str = "parameter-shift"
    spsa_epsilon: float = 0.1
    max_jobs: int | None = None
    max_shots: int | None = None
    timeout: float = 3600.0
    max_retries: int = 3
    backoff: float = 1.0
    poll_interval: float = 0.5
    store: Any = True
    local: bool = False
    instance: str | None = None
    estimator: Any = field(default=None, repr=False, compare=False)
    service: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.mode not in MODES:
            raise one_of("execution mode", self.mode, MODES)
        if self.gradient not in GRADIENTS:
            raise one_of("gradient method", self.gradient, GRADIENTS)
        if self.precision is not None and not _positive_number(self.precision):
            raise ConfigurationError(f"precision must be a positive number such as 0.01, got {self.precision!r}")
        _int_in("optimization_level", self.optimization_level, 0, 3)
        if self.resilience_level is not None:
            _int_in("resilience_level", self.resilience_level, 0, 2)
        dd = self.dynamical_decoupling
        if not (dd is None or isinstance(dd, bool) or dd in DD_SEQUENCES):
            raise ConfigurationError(
                f"dynamical_decoupling must be True, False or one of {', '.join(DD_SEQUENCES)}; got {dd!r}"
            )
        for name in ("twirling", "zne", "measure_mitigation", "local"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise ConfigurationError(f"{name} must be True or False, got {value!r}")
        if self.zne_noise_factors is not None:
            factors = self.zne_noise_factors
            if isinstance(factors, (str, bytes)) or not hasattr(factors, "__iter__"):
                raise ConfigurationError(f"zne_noise_factors must be a sequence such as (1, 3, 5), got {factors!r}")
            factors = tuple(factors)
            if len(factors) < 2 or not all(_positive_number(f) and f >= 1 for f in factors):
                raise ConfigurationError(
                    f"zne_noise_factors needs at least two numbers >= 1, such as (1, 3, 5); got {factors!r}"
                )
            object.__setattr__(self, "zne_noise_factors", tuple(float(f) for f in factors))
        if self.zne_extrapolator is not None and self.zne_extrapolator not in ZNE_EXTRAPOLATORS:
            raise one_of("zne_extrapolator", self.zne_extrapolator, ZNE_EXTRAPOLATORS)
        if (self.zne_noise_factors or self.zne_extrapolator) and not self.zne:
            raise ConfigurationError("zne_noise_factors / zne_extrapolator need zne=True")
        if not _positive_number(self.spsa_epsilon):
            raise ConfigurationError(f"spsa_epsilon must be a positive number of radians, got {self.spsa_epsilon!r}")
        for name in ("max_jobs", "max_shots"):
            value = getattr(self, name)
            if value is not None:
                _int_in(name, value, 1, None)
        for name in ("timeout", "backoff", "poll_interval"):
            if not _positive_number(getattr(self, name)):
                raise ConfigurationError(f"{name} must be a positive number of seconds, got {getattr(self, name)!r}")
        _int_in("max_retries", self.max_retries, 0, 20)
        if self.estimator is not None and not callable(getattr(self.estimator, "run", None)):
            raise ConfigurationError(
                "estimator must be an Estimator V2 object with a run(pubs) method, such as "
                "qiskit.primitives.StatevectorEstimator()"
            )
        if not (isinstance(self.store, bool) or isinstance(self.store, str) or hasattr(self.store, "__fspath__")):
            raise ConfigurationError(f"store must be True, False or a path to a .sqlite file, got {self.store!r}")

    @classmethod
    def from_kwargs(cls, **kwargs) -> "RuntimeOptions":
        """Build options from keyword arguments, rejecting unknown names with the valid list.

        Raises:
            ConfigurationError: an unknown option name or an invalid value.
        """
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - valid)
        if unknown:
            raise ConfigurationError(
                f"unknown ibm backend option(s) {unknown}; valid options are: {', '.join(sorted(valid))}"
            )
        return cls(**kwargs)

    def public_dict(self) -> dict:
        """The options as JSON-able data for the job store (no injected objects, no credentials)."""
        out = {}
        for f in dataclasses.fields(self):
            if f.name in ("estimator", "service"):
                continue
            value = getattr(self, f.name)
            out[f.name] = str(value) if hasattr(value, "__fspath__") else value
        return out

    def estimator_options(self, *, shots: int | None, seed: int | None, local: bool) -> dict:
        """Options for Qiskit Runtime's client-side ``executor_estimator.Estimator(options=...)``
        (``qiskit_ibm_runtime.options_models.EstimatorOptions``).

        The client-side Estimator of qiskit-ibm-runtime 0.50+ runs twirling, TREX, ZNE and dynamical
        decoupling on this machine, so they take effect in local testing mode too (slowly: every
        twirling randomization is simulated). Its default resilience level is 1 (TREX + measurement
        twirling); in local mode we ask for level 0 unless ``resilience_level`` or a mitigation option
        is given, so a fake device reports its raw noise and runs at simulator speed.
        """
        opts: dict[str, Any] = {}
        if self.precision is not None:
            opts["default_precision"] = float(self.precision)
        elif shots is not None:
            opts["default_shots"] = int(shots)
        if local:
            # qiskit-ibm-runtime's local service drops seed_simulator=0 in some paths (it tests the
            # seed's truthiness): shift every seed by one. angle_decimals: the local simulator rounds
            # gate angles to multiples of pi/2 at this many decimals (default 5, ~1.6e-5 rad).
            sim: dict[str, Any] = {"angle_decimals": 12}
            if seed is not None:
                sim["seed_simulator"] = int(seed) + 1
            opts["simulator"] = sim
        if self.resilience_level is not None:
            opts["resilience_level"] = self.resilience_level
        elif local and not self.mitigation_requested:
            opts["resilience_level"] = 0
        if self.dynamical_decoupling:
            seq = "XX" if self.dynamical_decoupling is True else self.dynamical_decoupling
            opts["dynamical_decoupling"] = {"enable": True, "sequence_type": seq}
        elif self.dynamical_decoupling is False:
            opts["dynamical_decoupling"] = {"enable": False}
        if self.twirling is not None:
            opts["twirling"] = {"enable_gates": self.twirling, "enable_measure": self.twirling}
        resilience: dict[str, Any] = {}
        if self.measure_mitigation is not None:
            resilience["measure_mitigation"] = self.measure_mitigation
        if self.zne is not None:
            resilience["zne_mitigation"] = self.zne
            zne = {}
            if self.zne_noise_factors:
                zne["noise_factors"] = list(self.zne_noise_factors)
            if self.zne_extrapolator:
                zne["extrapolator"] = self.zne_extrapolator
            if zne:
                resilience["zne"] = zne
        if resilience:
            opts["resilience"] = resilience
        return opts

    @property
    def mitigation_requested(self) -> bool:
        """Whether any error-mitigation option (TREX, ZNE, twirling, dynamical decoupling) is switched on."""
        return bool(self.measure_mitigation or self.zne or self.twirling or self.dynamical_decoupling)

    def shots_per_circuit(self, shots: int | None) -> int | None:
        """Shots each circuit evaluation costs: ``ceil(1/precision**2)`` or ``shots``."""
        if self.precision is not None:
            return math.ceil(1.0 / self.precision**2)
        return shots


def _positive_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _int_in(name: str, value, lo: int, hi: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        rng = f"an integer from {lo} to {hi}" if hi is not None else f"an integer >= {lo}"
        raise ConfigurationError(f"{name} must be {rng}, got {value!r}")
