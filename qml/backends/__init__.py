"""Where circuits run: one :class:`~qml.backends.base.Backend` interface, one registry, one ``auto``.

``resolve(name, n_qubits=..., shots=..., seed=..., **options)`` returns a backend object;
models ask it for a capability (``make_executor``, ``energy_evaluator``, ``state_fn``; see
:mod:`qml.backends.base`) and never branch on its name. This package, :mod:`qml.sim` and
:mod:`qml.runtime` are the only places that know device names.

Adding a backend: write a :class:`~qml.backends.base.Backend` subclass in one module (its name,
capabilities, description, ``auto_rank`` and cost model are class attributes) and add one line to
:data:`REGISTRY` (or call :func:`register`); :data:`BACKENDS`, ``auto``'s candidates, :func:`describe`,
the CLI's list and the docs' :func:`table` are read from the classes. ``"aer:<X>"``/``"ibm:<X>"`` select the family
before the colon; the class receives the full string.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from .._lazy import attach
from ..errors import BackendError, check_int
from .base import CAPABILITIES as CAPABILITIES
from .base import Backend as Backend
from .base import EnergyEvaluator as EnergyEvaluator
from .base import check_shots as check_shots

#: family name -> "module:Class", imported on first use: the one line a new backend adds. Everything
#: else users see (BACKENDS, ``auto``'s candidates, describe(), the CLI's list, the docs' table)
#: is read from the classes.
REGISTRY: dict[str, str] = {
    "auto": "qml.backends.auto:AutoBackend",
    "fast": "qml.backends.pennylane:FastBackend",
    "default.qubit": "qml.backends.pennylane:DefaultQubitBackend",
    "lightning.qubit": "qml.backends.pennylane:LightningBackend",
    "sector": "qml.backends.sector:SectorBackend",
    "aer": "qml.backends.aer:AerBackend",
    "ibm": "qml.runtime.backend:IBMBackend",
}

_CLASSES: dict[str, type] = {}


def _available() -> dict[str, type]:
    """``{family: class}`` of every registered backend whose module imports, in registry order."""
    out = {}
    for fam in list(REGISTRY):
        try:
            out[fam] = backend_class(fam)
        except ImportError:
            continue
    return out


class _Listing(Mapping):
    """:data:`BACKENDS`: backend strings users type -> one line each, read from the classes
    (``Backend.spellings`` or ``{family: Backend.description}``) every time it is read."""

    def _table(self) -> dict[str, str]:
        out = {}
        for fam in REGISTRY:
            try:
                out.update(backend_class(fam).listing(fam))
            except ImportError:
                out[fam] = "(not installed here)"
        return out

    def __getitem__(self, key):
        return self._table()[key]

    def __iter__(self):
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __repr__(self) -> str:
        return repr(self._table())


#: Backend strings users type -> one line each (error messages, the CLI, the docs' table).
BACKENDS: Mapping[str, str] = _Listing()


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
    return [fam for fam, cls in _available().items() if capability in getattr(cls, "capabilities", ())]


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
        if is_backend(backend):
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


def is_backend(obj) -> bool:
    """Whether ``obj`` is a resolved backend (a :class:`Backend`, or an object with a capability method)."""
    return isinstance(obj, Backend) or hasattr(obj, "make_executor") or hasattr(obj, "energy_evaluator")


def in_model(model) -> dict:
    """The one walker over a model's backends: ``{label: (module, backend)}``, each distinct backend once.

    ``model`` is a ``torch.nn.Module`` (anything with ``named_modules()``); a module's backend is its
    ``backend`` attribute. Labels are ``"<module path>.backend"`` (``"model.backend"`` for the root),
    e.g. ``"quantum.backend"`` for a HybridModel. Checkpoints (seed streams), ``fit``'s defaults
    (exact or sampled) and the pre-flight cost check all read this.
    """
    found, seen = {}, set()
    for name, module in model.named_modules():
        backend = getattr(module, "backend", None)
        if not is_backend(backend) or id(backend) in seen:
            continue
        seen.add(id(backend))
        found[f"{name or 'model'}.backend"] = (module, backend)
    return found


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
    """``{family: {"capabilities": [...], "samples": bool, "max_qubits": int | None, "description": str}}``
    of every registered backend whose module imports."""
    return {
        fam: {
            "capabilities": sorted(getattr(cls, "capabilities", ())),
            "samples": getattr(cls, "samples", None),
            "max_qubits": getattr(cls, "max_qubits", None),
            "description": getattr(cls, "description", ""),
        }
        for fam, cls in _available().items()
    }


def auto_candidates() -> tuple[str, ...]:
    """The local simulators ``auto`` may choose, in the order it tries them: registered classes with an
    :attr:`~Backend.auto_rank`, lowest first (``qml.backends.auto.CANDIDATES`` reads this)."""
    ranked = [(cls.auto_rank, i, fam) for i, (fam, cls) in enumerate(_available().items()) if cls.auto_rank is not None]
    return tuple(fam for _, _, fam in sorted(ranked))


def table() -> str:
    """The documentation's table of backends (Markdown), one row per string users type, read from the
    classes: what it is, its capabilities, whether it samples, its widest circuit, where ``auto``
    tries it. ``docs/guides/backends.md`` holds its output (a test keeps them equal)."""
    candidates = auto_candidates()
    rows = [
        "| backend | what it is | capabilities | shots | max qubits | auto tries it |",
        "|---|---|---|---|---|---|",
    ]
    for fam, cls in _available().items():
        caps = ", ".join(sorted(cls.capabilities))
        widest = "-" if cls.max_qubits is None else str(cls.max_qubits)
        tries = f"{candidates.index(fam) + 1}." if fam in candidates else ""
        for spelling, line in cls.listing(fam).items():
            rows.append(f"| `{spelling}` | {line} | {caps} | {'yes' if cls.samples else 'no'} | {widest} | {tries} |")
    return "\n".join(rows) + "\n"


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
        "auto_candidates",
        "table",
        "require",
        "drawing_device",
        "summary",
        "ran",
        "in_model",
        "is_backend",
    ),
)
