"""``Backend``: the one interface between models and the places circuits run.

A backend offers some of three capabilities (:data:`CAPABILITIES`):

* ``"expval"``: :meth:`Backend.make_executor` ``(spec) -> run(inputs (B, F), weights) -> (B, n_outputs)``,
  expectation values of a :class:`~qml.circuits.CircuitSpec`, differentiable in inputs and weights
  (what :class:`qml.QuantumLayer` needs);
* ``"energy"``: :meth:`Backend.energy_evaluator` ``(ansatz, n_qubits) -> ev``;
  ``ev(params (B, P), hamiltonians) -> (B,)`` with one Hamiltonian per sample, differentiable in
  ``params`` (what ``vqe``, ``scan`` and ``PESModel`` need);
* ``"state"``: :meth:`Backend.state_fn` ``(ansatz, n_qubits) -> f(params (B, P)) -> (B, 2**n)`` complex.

A model asks for a capability; it never looks at a backend's name. A backend implements the
methods it can and lists them in :attr:`Backend.capabilities`; asking for another one raises a
:class:`~qml.errors.BackendError` that names the backends that have it. A new backend is one
subclass in one module plus one line in :data:`qml.backends.REGISTRY`.
"""

from __future__ import annotations

from ..errors import BackendError, check_int

#: capability -> what it computes (used in messages).
CAPABILITIES = {
    "expval": "expectation values of a circuit for a batch of inputs (QuantumLayer, HybridModel)",
    "energy": "energies <psi(theta_b)|H_b|psi(theta_b)> for a batch, one Hamiltonian per sample (vqe, scan, PESModel)",
    "state": "the state vector itself",
}


def check_shots(shots):
    """Return ``shots`` as ``None`` or a positive int; raise BackendError otherwise."""
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, int):
        raise BackendError(f"shots must be None (exact) or a positive integer, got {shots!r}")
    if shots < 1:
        raise BackendError(f"shots must be None (exact) or a positive integer, got {shots}")
    return shots


def check_energy_batch(ansatz, params, hamiltonians) -> list:
    """The one check of an energy batch: ``params`` of shape ``(B, ansatz.n_params)`` and ``B``
    Hamiltonian entries; returns the entries as a list.

    Raises:
        DataError: a batch that does not match the ansatz or the Hamiltonians.
    """
    from ..errors import DataError

    if params.ndim != 2 or params.shape[1] != ansatz.n_params:
        raise DataError(f"params must have shape (batch, {ansatz.n_params}), got {tuple(params.shape)}")
    hamiltonians = list(hamiltonians)
    if len(hamiltonians) != params.shape[0]:
        raise DataError(
            f"got {params.shape[0]} parameter vectors but {len(hamiltonians)} Hamiltonians; "
            "pass one Hamiltonian per sample"
        )
    return hamiltonians


class Backend:
    """Base class of every backend.

    Subclasses set :attr:`capabilities` (and :attr:`max_qubits`, :attr:`samples`,
    :attr:`accepts` where they differ) and override the methods of their capabilities.
    Every backend is constructed as ``Cls(name, *, n_qubits, shots, seed, **options)`` by
    :func:`qml.backends.resolve`, ``name`` being the full string (``"aer:FakeManilaV2"``).

    Attributes:
        name: the backend string.
        n_qubits: widest circuit this instance will run.
        shots: ``None`` (exact expectation values) or shots per circuit.
        seed: seed of the shot sampler (``None``: not reproducible).
        exact: ``True`` when results carry no sampling noise.

    Raises:
        BackendError: bad shots, sampling asked of an exact-only simulator, a circuit wider than
            :attr:`max_qubits`, or options the backend does not take.
    """

    #: what this backend computes, a subset of :data:`CAPABILITIES`.
    capabilities: frozenset = frozenset()
    #: widest circuit it simulates (``None``: no fixed limit, checked by the subclass).
    max_qubits: int | None = None
    #: whether it can sample (``shots`` not ``None``).
    samples: bool = False
    #: option names it takes (anything else raises).
    accepts: tuple = ()
    #: one line for :data:`qml.backends.BACKENDS`, :func:`qml.backends.describe` and the docs' table.
    description: str = ""
    #: the strings users type for this class and one line each, when not just its registry name
    #: (e.g. ``{"aer": ..., "aer:<FakeDevice>": ...}``); ``None``: ``{family: description}``.
    spellings: dict | None = None
    #: where ``auto`` tries it among its candidates (lower first); ``None``: ``auto`` never picks it.
    auto_rank: int | None = None

    @classmethod
    def listing(cls, family: str) -> dict[str, str]:
        """``{string users type: one line}`` for this class registered as ``family``."""
        return dict(cls.spellings) if cls.spellings else {family: cls.description}

    # -- cost model: what ``auto`` predicts from a timed sub-batch -----------------------------
    def predicted_seconds(self, seconds: float, rows: int, timed_rows: int) -> float:
        """Seconds a call on ``rows`` rows should take, given ``seconds`` measured on ``timed_rows``.

        A broadcast simulator (one execution per batch) is compared at the timed size, where its cost
        is mostly fixed overhead; one that runs a circuit per row (``min_seconds_per_row > 0``)
        scales with the rows, and never below its floor. Override for another cost model.
        """
        floor = self.min_seconds_per_row
        return max(seconds * rows / timed_rows, floor * rows) if floor > 0 else seconds

    @property
    def min_seconds_per_row(self) -> float:
        """A lower bound on the seconds each row of a batch costs (0 for broadcast simulators):
        ``auto`` skips a backend, without running it, when this bound alone exceeds the time it
        predicts for a measured one."""
        return 0.0

    def __init__(self, name: str, *, n_qubits: int, shots=None, seed=None, **options):
        self.name = name
        self.n_qubits = check_int("n_qubits", n_qubits)
        self.shots = check_shots(shots)
        self.seed = seed
        unknown = sorted(set(options) - set(self.accepts))
        if unknown:
            takes = f"its options are {sorted(self.accepts)}" if self.accepts else "it takes no options"
            raise BackendError(
                f"backend {name!r} takes no option(s) {unknown}; {takes} (options such as "
                "resilience levels belong to 'ibm:<device>' backends)"
            )
        self.options = dict(options)
        if self.shots is not None and not self.samples:
            raise BackendError(
                f"the {name!r} backend computes exact expectation values only; for shots use one of: "
                + ", ".join(_sampling_backends())
            )
        if self.max_qubits is not None and self.n_qubits > self.max_qubits:
            raise BackendError(
                f"the circuit needs {self.n_qubits} qubits but {name} simulates at most {self.max_qubits}; "
                "use fewer qubits or another backend (see qml.backends.BACKENDS)"
            )

    @property
    def exact(self) -> bool:
        return self.shots is None

    def supports(self, capability: str) -> bool:
        """Whether this backend has ``capability`` (one of :data:`CAPABILITIES`)."""
        return capability in self.capabilities

    def require(self, capability: str) -> None:
        """Raise BackendError unless this backend has ``capability``; the message names those that do."""
        if capability not in CAPABILITIES:
            raise BackendError(f"unknown capability {capability!r}; capabilities are {sorted(CAPABILITIES)}")
        if capability not in self.capabilities:
            from . import with_capability

            raise BackendError(
                f"backend {self.name!r} cannot compute {CAPABILITIES[capability]}; backends that can: "
                + ", ".join(repr(n) for n in with_capability(capability))
            )

    # -- capabilities (override what the backend can do) --------------------------------------
    def make_executor(self, spec):
        """``run(inputs (B, F), weights) -> Tensor (B, spec.n_outputs)`` ("expval")."""
        self.require("expval")
        raise NotImplementedError(f"{type(self).__name__} lists 'expval' but does not implement make_executor")

    def energy_evaluator(self, ansatz, n_qubits: int):
        """An :class:`EnergyEvaluator` for ``ansatz`` on ``n_qubits`` wires ("energy")."""
        self.require("energy")
        raise NotImplementedError(f"{type(self).__name__} lists 'energy' but does not implement energy_evaluator")

    def state_fn(self, ansatz, n_qubits: int):
        """``f(params (B, P)) -> complex Tensor (B, 2**n_qubits)`` ("state")."""
        self.require("state")
        raise NotImplementedError(f"{type(self).__name__} lists 'state' but does not implement state_fn")

    # -- what ran -----------------------------------------------------------------------------
    #: ``auto``'s latest :class:`~qml.backends.auto.Decision` (``None`` on a named backend).
    decision = None

    @property
    def chosen(self) -> str | None:
        """Name of the backend that runs the circuits: :attr:`name` here; what ``auto`` chose
        (``None`` before it decided)."""
        return self.name

    def summary(self) -> str:
        """One line for a model's repr: the backend string (``auto`` adds its decision)."""
        return repr(self.name)

    # -- copies: a backend travels as the recipe that builds it ------------------------------
    def recipe(self, *, portable: bool = False) -> dict:
        """Keyword arguments that build an equivalent backend: ``type(b)(b.name, **b.recipe())``.

        With ``portable=True`` live objects injected as options (an estimator, a service) are left
        out: what pickling keeps (a pickled model never carries them).
        """
        return dict(n_qubits=self.n_qubits, shots=self.shots, seed=self.seed, **self.options)

    def carried_state(self):
        """What a copy keeps besides its recipe (``auto``: its choices); ``None`` here."""
        return None

    def restore_carried_state(self, state) -> None:
        """Take :meth:`carried_state` of the original (called on a copy)."""

    def fresh(self) -> "Backend":
        """An equivalent backend with fresh shot samplers (counters and seed streams from the start),
        live options kept: what a re-resolved backend string gave before."""
        return _rebuild(type(self), self.name, self.recipe(), self.carried_state())

    def __reduce__(self):
        # pickling (torch.save of a model, a worker process): rebuild from the recipe, not the live
        # devices, compiled circuits and injected estimators
        return _rebuild, (type(self), self.name, self.recipe(portable=True), self.carried_state())

    def __repr__(self) -> str:
        shots = "exact" if self.shots is None else f"shots={self.shots}"
        return f"{type(self).__name__}({self.name!r}, {shots})"


class EnergyEvaluator:
    """``ev(params, hamiltonians) -> energies``: the "energy" capability of one backend.

    Subclasses implement :meth:`evaluate`; calling the evaluator validates the batch first.

    Attributes:
        backend: the backend it runs on.
        ansatz: the :class:`qml.chem.ChemAnsatz`.
        last_stderr: after each call, an ndarray ``(B,)`` of standard errors, or ``None`` when exact.
        stats: counts for hardware backends (``jobs``, ``pubs``, ``circuits``, ``shots``).
    """

    def __init__(self, backend: Backend, ansatz, n_qubits: int):
        self.backend, self.ansatz, self.n_qubits = backend, ansatz, n_qubits
        self.last_stderr = None
        self.stats: dict = {}

    @property
    def name(self) -> str:
        return self.backend.name

    def __call__(self, params, hamiltonians):
        """Energies for ``params`` of shape ``(B, P)`` and a list of ``B`` Hamiltonian entries.

        Returns:
            Tensor of shape ``(B,)`` (float64), differentiable with respect to ``params``.

        Raises:
            DataError: a batch that does not match the ansatz or the Hamiltonians.
        """
        return self.evaluate(params, check_energy_batch(self.ansatz, params, hamiltonians))

    def evaluate(self, params, hamiltonians):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.backend.name!r}, {self.ansatz!r})"


def _rebuild(cls, name: str, recipe: dict, state=None) -> Backend:
    backend = cls(name, **recipe)
    if state is not None:
        backend.restore_carried_state(state)
    return backend


def _sampling_backends() -> list[str]:
    from . import REGISTRY, backend_class

    out = []
    for family in REGISTRY:
        if family == "auto":
            continue
        try:
            if getattr(backend_class(family), "samples", True):
                out.append(repr(family))
        except ImportError:  # an optional family whose dependencies are not installed
            continue
    return out
