"""Chemistry ansatzes: circuits that start from the Hartree-Fock state of a :class:`Molecule`.

* ``uccsd``: particle- and Sz-conserving singles and doubles as Givens rotations
  (``qp.SingleExcitation`` / ``qp.DoubleExcitation``), doubles first; zero parameters give
  the HF state. These gates have native adjoint/backprop rules and are 8x faster than the
  Trotterised ``qp.UCCSD`` template for LiH (see ``benchmarks/chem_vqe.py``). Option ``reps``
  repeats the product with fresh parameters: one product is the usual (single-reference) choice
  and is chemically accurate near equilibrium, but e.g. stretched H4 (2.0 A) stays 3.8 mHa above
  the exact energy at the best minimum found, while ``reps=2`` reaches it (1e-11 mHa).
  Parameters may carry a leading batch dimension (``(..., n_params)``; used by ``PESModel``).
* ``k_upccgsd``: PennyLane's ``qp.kUpCCGSD`` (k-fold unitary pair CC with generalised singles
  and paired doubles, Lee et al. 2019).
* ``hardware_efficient``: :func:`qml.circuits.hardware_efficient` (RY + CZ ladder layers) after
  HF state preparation; not particle-conserving. The HF state is a stationary point of it, and
  for H2 two layers cannot leave the HF energy while three from a broad random ``init`` reach
  the exact energy: it is a baseline, not the ansatz to use for chemistry.
* ``compact``: :func:`qml.circuits.compact` (RY layers joined by CZ chains, ``(layers - 1)(n - 1)``
  CZ) after the (tapered) HF state: the few-CX ansatz for tapered Hamiltonians
  (``benchmarks/results/taper.md``).

With ``taper=`` a :class:`qml.chem.tapering.Tapering`, every ansatz is built on the tapered qubits
and starts from the tapered HF state; ``uccsd`` then applies each symmetry-allowed excitation as
its tapered generator's Pauli rotations (the same unitary as the untapered Givens rotation,
conjugated by the tapering Clifford; excitations that break a point-group symmetry are left out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pennylane as qp

from ..circuits import compact as _compact
from ..circuits import hardware_efficient as _hea
from ..circuits.compact import pauli_rotation
from ..errors import ConfigurationError, one_of

#: Chemistry ansatz names -> one-line descriptions.
CHEM_ANSATZES = {
    "uccsd": "singles + doubles Givens rotations from the HF state (option reps, default 1)",
    "k_upccgsd": "k-UpCCGSD: k layers of generalised singles and paired doubles (option k, default 2)",
    "hardware_efficient": "HF state, then layers of RY + CZ ladder (option layers, default 2)",
    "compact": "HF state, then RY layers joined by CZ chains: few CX, for tapered Hamiltonians (option layers)",
}

_OPTIONS = {"uccsd": {"reps"}, "k_upccgsd": {"k"}, "hardware_efficient": {"layers"}, "compact": {"layers"}}

#: Default layers of ``compact`` by tapered width (qubits -> layers); wider: ``n_qubits`` layers.
#: The fewest that reach the exact energy of every catalog molecule (benchmarks/results/taper.md).
COMPACT_LAYERS = {1: 1, 2: 2}


@dataclass(frozen=True)
class ChemAnsatz:
    """A chemistry ansatz bound to one molecule's qubit count and HF state.

    Attributes:
        name: one of :data:`CHEM_ANSATZES`.
        n_qubits: circuit width.
        hf_state: occupation vector, shape ``(n_qubits,)``.
        weight_shape: shape of the parameter tensor.
        singles, doubles: excitation wires (``uccsd`` only, else empty).
        options: ansatz options (``k``, ``layers``).
        rotations: tapered ``uccsd`` only: per parameter, its generator's Pauli terms
            ``((word items, coefficient), ...)`` on the tapered wires.
        tapering: the :class:`qml.chem.tapering.Tapering` it is built for (``None``: untapered).
    """

    name: str
    n_qubits: int
    hf_state: tuple
    weight_shape: tuple
    singles: tuple = ()
    doubles: tuple = ()
    options: dict = field(default_factory=dict)
    rotations: tuple = ()
    tapering: object = None

    @property
    def n_params(self) -> int:
        """Number of trainable parameters."""
        return int(np.prod(self.weight_shape))

    def __call__(self, params) -> None:
        """Apply the circuit (HF preparation included) for ``params`` of shape :attr:`weight_shape`."""
        wires = range(self.n_qubits)
        hf = np.array(self.hf_state)
        if self.tapering is not None and self.name == "uccsd":
            qp.BasisState(hf, wires=wires)
            n = len(self.rotations)
            for rep in range(self.options.get("reps", 1)):
                for i, terms in enumerate(self.rotations):
                    for word, coeff in terms:  # exp(i theta c P) = PauliRot(-2 c theta, P)
                        pauli_rotation(-2.0 * coeff * params[..., rep * n + i], dict(word))
        elif self.name == "uccsd":
            qp.BasisState(hf, wires=wires)
            nd, n = len(self.doubles), len(self.doubles) + len(self.singles)
            for rep in range(self.options.get("reps", 1)):
                for i, w in enumerate(self.doubles):
                    qp.DoubleExcitation(params[..., rep * n + i], wires=w)
                for i, w in enumerate(self.singles):
                    qp.SingleExcitation(params[..., rep * n + nd + i], wires=w)
        elif self.name == "k_upccgsd":
            qp.kUpCCGSD(params, wires=wires, k=self.options["k"], delta_sz=0, init_state=hf)
        elif self.name == "compact":
            qp.BasisState(hf, wires=wires)
            _compact(params, wires)
        else:
            qp.BasisState(hf, wires=wires)
            _hea(params, wires)

    def init_params(self, seed: int | None = 0) -> np.ndarray:
        """Starting parameters of shape :attr:`weight_shape`, seeded.

        Zeros (the HF state) for ``uccsd``/``k_upccgsd``, except that ``uccsd`` repetitions after
        the first get N(0, 0.01^2) angles so they do not move in lock-step with the first; for
        ``hardware_efficient`` N(0, 0.05^2) angles to break symmetry.
        """
        rng = np.random.default_rng(seed)
        if self.name == "hardware_efficient" or (self.name == "compact" and self.tapering is None):
            return rng.normal(0.0, 0.05, self.weight_shape)
        if self.name == "compact":  # tapered: HF is not stationary; later layers start slightly apart
            x = np.zeros(self.weight_shape)
            x[1:] = rng.normal(0.0, 0.01, x[1:].shape)
            return x
        x = np.zeros(self.weight_shape)
        n = len(self.rotations) if self.tapering is not None else len(self.singles) + len(self.doubles)
        if self.name == "uccsd" and x.size > n:
            x[n:] = rng.normal(0.0, 0.01, x.size - n)
        return x

    def __repr__(self) -> str:
        opts = "".join(f", {k}={v}" for k, v in self.options.items())
        if self.tapering is not None:
            opts += f", tapered from {self.tapering.n_qubits} qubits"
        return f"ChemAnsatz({self.name!r}, n_qubits={self.n_qubits}, n_params={self.n_params}{opts})"


def make_ansatz(molecule, name: str = "uccsd", *, taper=None, **options) -> ChemAnsatz:
    """Build the chemistry ansatz ``name`` for ``molecule``.

    Args:
        molecule: a :class:`qml.chem.Molecule`.
        name: ``"uccsd"``, ``"k_upccgsd"``, ``"hardware_efficient"`` or ``"compact"``.
        taper: ``None`` (untapered) or a :class:`qml.chem.tapering.Tapering` of ``molecule``'s
            qubits: the ansatz then acts on the tapered qubits from the tapered HF state.
        **options: ``reps`` (uccsd, default 1), ``k`` (k_upccgsd, default 2) or ``layers``
            (hardware_efficient, default 2; compact, default :data:`COMPACT_LAYERS` by width).

    Returns:
        ChemAnsatz: callable ``ansatz(params)`` that emits the circuit's gates.

    Raises:
        ConfigurationError: unknown ansatz name, unknown option, or a non-positive ``k``/``layers``.
    """
    if isinstance(name, ChemAnsatz):
        return name
    if name not in CHEM_ANSATZES:
        raise one_of("chemistry ansatz", name, CHEM_ANSATZES)
    unknown = set(options) - _OPTIONS[name]
    if unknown:
        allowed = sorted(_OPTIONS[name]) or "none"
        raise ConfigurationError(f"ansatz {name!r} takes no option(s) {sorted(unknown)}; its options are: {allowed}")
    n, ne = molecule.n_qubits, molecule.n_electrons
    hf = tuple(int(b) for b in molecule.hf_state())
    if taper is not None:
        return _tapered(molecule, name, taper, options)
    if name == "compact":
        layers = _positive("layers", options.get("layers", compact_layers(n)))
        return ChemAnsatz(name, n, hf, (layers, n), options={"layers": layers})
    if name == "uccsd":
        singles, doubles = qp.qchem.excitations(ne, n, delta_sz=0)
        reps = _positive("reps", options.get("reps", 1))
        shape = (reps * (len(singles) + len(doubles)),)
        if shape[0] == 0:
            raise ConfigurationError(
                f"{molecule!r} has no excitations inside its active space (uccsd would have no parameters); "
                "use a larger active space"
            )
        return ChemAnsatz(
            name,
            n,
            hf,
            shape,
            tuple(tuple(s) for s in singles),
            tuple(tuple(d) for d in doubles),
            options={"reps": reps} if reps > 1 else {},
        )
    if name == "k_upccgsd":
        k = _positive("k", options.get("k", 2))
        shape = tuple(qp.kUpCCGSD.shape(k=k, n_wires=n, delta_sz=0))
        return ChemAnsatz(name, n, hf, shape, options={"k": k})
    layers = _positive("layers", options.get("layers", 2))
    return ChemAnsatz(name, n, hf, (layers, n), options={"layers": layers})


def compact_layers(n_qubits: int) -> int:
    """Default layers of ``compact`` on ``n_qubits`` wires (:data:`COMPACT_LAYERS`, else ``n_qubits``)."""
    return COMPACT_LAYERS.get(n_qubits, n_qubits)


def _tapered(molecule, name: str, taper, options: dict) -> ChemAnsatz:
    """``name`` on the qubits ``taper`` keeps, from the tapered HF state."""
    if getattr(taper, "n_qubits", None) != molecule.n_qubits or not hasattr(taper, "hf_state"):
        raise ConfigurationError(
            f"taper must be a qml.chem.tapering.Tapering of the {molecule.n_qubits} qubits of {molecule!r}, got {taper!r}"
        )
    k = taper.n_tapered
    hf = taper.hf_state(molecule.hf_state())
    if name == "k_upccgsd":
        raise ConfigurationError(
            "ansatz 'k_upccgsd' cannot run on tapered qubits; use 'compact', 'uccsd' or 'hardware_efficient' "
            "with taper, or taper=False"
        )
    if name in ("compact", "hardware_efficient"):
        default = compact_layers(k) if name == "compact" else 2
        layers = _positive("layers", options.get("layers", default))
        return ChemAnsatz(name, k, hf, (layers, k), options={"layers": layers}, tapering=taper)
    reps = _positive("reps", options.get("reps", 1))
    singles, doubles = qp.qchem.excitations(molecule.n_electrons, molecule.n_qubits, delta_sz=0)
    rotations, kept_s, kept_d = [], [], []
    for wires, gate, kept in [(d, qp.DoubleExcitation, kept_d) for d in doubles] + [
        (s, qp.SingleExcitation, kept_s) for s in singles
    ]:
        generator = qp.generator(gate(0.0, wires=wires), format="observable")
        terms = taper.sentence(generator)
        terms = tuple((tuple(sorted(w.items())), float(np.real(c))) for w, c in terms.items() if len(w) > 0)
        if terms:  # an excitation that breaks a point-group symmetry tapers to nothing: left out
            rotations.append(terms)
            kept.append(tuple(wires))
    if not rotations:
        raise ConfigurationError(
            f"{molecule!r} has no symmetry-allowed excitations after tapering (uccsd would have no parameters); "
            "use a larger active space"
        )
    return ChemAnsatz(
        name,
        k,
        hf,
        (reps * len(rotations),),
        tuple(kept_s),
        tuple(kept_d),
        options={"reps": reps} if reps > 1 else {},
        rotations=tuple(rotations),
        tapering=taper,
    )


def _positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
