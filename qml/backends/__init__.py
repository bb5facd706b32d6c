"""Where circuits run: one :class:`~qml.backends.base.Backend` interface, one registry, one ``auto``.

``resolve(name, n_qubits=..., shots=..., seed=..., **options)`` returns a backend object;
models ask it for a capability (``make_executor``, ``energy_evaluator``, ``state_fn``; see
:mod:`qml.backends.base`) and never branch on its name. This package, :mod:`qml.sim` and
:mod:`qml.runtime` are the only places that know device names.

Adding a backend: write a :class:`~qml.backends.base.Backend` subclass in one module and add one
line to :data:`REGISTRY` (or call :func:`register`). ``"aer:<X>"``/``"ibm:<X>"`` select the family
before the colon; the class receives the full string.
"""

from __future__ import annotations

import importlib

from .._lazy import attach
from ..errors import BackendError, check_int
from .base import CAPABILITIES as CAPABILITIES
from .base import Backend as Backend
from .base import EnergyEvaluator as EnergyEvaluator
from .base import check_shots as check_shots

#: family name -> "module:Class", imported on first use.
REGISTRY: dict[str, str] = {
    "auto": "qml.backends.auto:AutoBackend",
    "fast": "qml.backends.pennylane:FastBackend",
    "default.qubit": "qml.backends.pennylane:DefaultQubitBackend",
    "lightning.qubit": "qml.backends.pennylane:LightningBackend",
    "sector": "qml.sim.sector:SectorBackend",
    "aer": "qml.backends.aer:AerBackend",
    "ibm": "qml.runtime.backend:IBMBackend",
}

#: Backend strings users type -> one line each (README "Backends" table, error messages).
BACKENDS = {
    "auto": "times the local simulators that can serve the request on a capped sub-batch and keeps the fastest",
    "fast": "qml's batched torch state-vector simulator (qml.sim), backprop, one broadcast execution per batch",
    "default.qubit": "PennyLane's reference simulator, torch backprop, one broadcast execution per batch",
    "lightning.qubit": "PennyLane Lightning C++ simulator, adjoint differentiation",
    "sector": "particle-number/Sz sector simulation of particle-conserving chemistry ansatzes (qml.sim)",
    "aer": "Qiskit Aer; exact when shots=None, sampled otherwise",
    "aer:<FakeDevice>": "Qiskit Aer with the noise model and coupling map of an IBM fake device, e.g. aer:FakeManilaV2",
    "ibm:<device>": "IBM Quantum hardware through Qiskit Runtime (see qml.runtime)",
}

_CLASSES: dict[str, type] = {}


def family(name: str) -> str:
    """The registry key of a backend string: ``"aer:FakeManilaV2"`` -> ``"aer"``."""
    return name.split(":", 1)[0] if ":" in name else name


def register(name: str, target) -> None:
    """Add (or replace) registry entry ``name``: a ``"module:Class"`` string or a Backend subclass."""
    if isinstance(target, type):
        if not issubclass(target, Backend):
            raise TypeError(f"a backend class must subclass qml.backends.base.Backend, got {target.__name__}")
        _CLASSES[name] = target
        target = f"{target.__module__}:{target.__qualname__}"
    else:
        _CLASSES.pop(name, None)
    REGISTRY[name] = target


def backend_class(name: str) -> type:
    """The class registered for backend string ``name`` (imported on first use).

    Raises:
        BackendError: no such family (the message lists the valid backends).
        ImportError: the family's optional dependencies are missing.
    """
    fam = family(name)
    if fam not in REGISTRY:
        raise BackendError(f"unknown backend {name!r}; valid backends are: " + ", ".join(BACKENDS))
    if fam not in _CLASSES:
        module, _, cls = REGISTRY[fam].partition(":")
        _CLASSES[fam] = getattr(importlib.import_module(module), cls)
    return _CLASSES[fam]


def with_capability(capability: str) -> list[str]:
    """Registered backends that have ``capability`` (those whose module imports)."""
    out = []
    for fam in REGISTRY:
        try:
            cls = backend_class(fam)
        except ImportError:
            continue
        if capability in getattr(cls, "capabilities", ()):
            out.append(fam)
    return out


def resolve(backend="auto", *, n_qubits: int, shots=None, seed=None, **options):
    """Return the backend object for a backend string.

    Args:
        backend: a registered name (``"fast"``, ``"aer:FakeManilaV2"``, ...; see :data:`BACKENDS`)
            or a backend object already returned by this function (returned as is).
        n_qubits: width of the circuit, checked against the backend's limit.
        shots: ``None`` for exact expectation values, or a positive number of shots.
        seed: seed of the shot sampler.
        **options: backend-specific options (``ibm:`` backends); unknown keys raise.

    Raises:
        TypeError: ``backend`` is neither a string nor a backend object.
        BackendError: unknown name, bad shots, a circuit wider than the device, or options the
            backend does not take.
    """
    if not isinstance(backend, str):
        if isinstance(backend, Backend) or hasattr(backend, "make_executor") or hasattr(backend, "energy_evaluator"):
            return backend
        raise TypeError(f"backend must be a string such as 'auto' or 'lightning.qubit', got {type(backend).__name__}")
    shots = check_shots(shots)
    if seed is not None:
        seed = check_int("seed", seed, 0)
    try:
        cls = backend_class(backend)
    except ImportError as exc:
        raise BackendError(
            f"backend {backend!r} is not available here: {exc}; install its dependencies "
            "(pip install qml-hybrid) or use another backend (see qml.backends.BACKENDS)"
        ) from exc
    return cls(backend, n_qubits=n_qubits, shots=shots, seed=seed, **options)


def at_door(backend, capability: str, *, n_qubits: int, shots=None, seed=None, options=None):
    """Resolve a backend spec where the user hands it in, and check it can serve ``capability``.

    The one call every public entry point (``QuantumLayer``, ``PESModel``, ``vqe``, ``scan``) makes
    with what the user typed; the object it returns is the only thing that travels from there.

    Args:
        backend: a backend string (see :data:`BACKENDS`) or a resolved backend (returned as is).
        capability: what the caller needs (``"expval"``, ``"energy"``, ``"state"``).
        n_qubits, shots, seed: as in :func:`resolve`.
        options: ``None`` or a dict of backend options (``backend_options=`` of the public calls).

    Raises:
        TypeError: ``options`` is not a dict, ``backend`` neither a string nor a backend.
        BackendError: as :func:`resolve`, or the backend lacks ``capability``.
    """
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"backend_options must be a dict of backend options, got {options!r}")
    be = resolve(backend, n_qubits=n_qubits, shots=shots, seed=seed, **(options or {}))
    require(be, capability)
    return be


def require(backend, capability: str) -> None:
    """Raise BackendError unless ``backend`` (a resolved backend object) has ``capability``."""
    if isinstance(backend, Backend):
        backend.require(capability)
    elif capability not in getattr(backend, "capabilities", {"expval"}):
        raise BackendError(
            f"backend {getattr(backend, 'name', backend)!r} cannot compute {CAPABILITIES[capability]}; "
            "backends that can: " + ", ".join(repr(n) for n in with_capability(capability))
        )


def ran(backend) -> str:
    """The name of what runs on ``backend`` (a resolved backend): ``"sector"`` for ``sector``, what
    ``auto`` chose for ``auto`` (``"auto"`` before it decided), the ``name`` of a duck-typed object."""
    return getattr(backend, "chosen", None) or getattr(backend, "name", None) or str(backend)


def summary(backend) -> str:
    """One line for a model's repr: the backend's :meth:`~Backend.summary` (``auto``: its decision),
    or the name of a duck-typed backend object."""
    fn = getattr(backend, "summary", None)
    return fn() if callable(fn) else repr(getattr(backend, "name", backend))


def drawing_device(n_qubits: int):
    """The PennyLane device circuits are drawn with (drawing runs nothing on a backend)."""
    import pennylane as qp

    return qp.device("default.qubit", wires=n_qubits)


def describe() -> dict[str, dict]:
    """``{family: {"capabilities": [...], "samples": bool, "max_qubits": int | None}}`` of every
    registered backend whose module imports."""
    out = {}
    for fam in REGISTRY:
        try:
            cls = backend_class(fam)
        except ImportError:
            continue
        out[fam] = {
            "capabilities": sorted(getattr(cls, "capabilities", ())),
            "samples": getattr(cls, "samples", None),
            "max_qubits": getattr(cls, "max_qubits", None),
        }
    return out


__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "fake_device": "qml.backends.aer:fake_device",
        "fake_device_names": "qml.backends.aer:fake_device_names",
        "context": ".context",
    },
    eager=(
        "BACKENDS",
        "REGISTRY",
        "CAPABILITIES",
        "Backend",
        "EnergyEvaluator",
        "resolve",
        "at_door",
        "register",
        "backend_class",
        "with_capability",
        "family",
        "check_shots",
        "describe",
        "require",
        "drawing_device",
        "summary",
        "ran",
    ),
)
