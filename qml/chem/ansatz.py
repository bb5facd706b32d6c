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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pennylane as qp

from ..circuits import hardware_efficient as _hea
from ..errors import ConfigurationError, check_int, one_of

#: Chemistry ansatz names -> one-line descriptions.
CHEM_ANSATZES = {
    "uccsd": "singles + doubles Givens rotations from the HF state (option reps, default 1)",
    "k_upccgsd": "k-UpCCGSD: k layers of generalised singles and paired doubles (option k, default 2)",
    "hardware_efficient": "HF state, then layers of RY + CZ ladder (option layers, default 2)",
}

_OPTIONS = {"uccsd": {"reps"}, "k_upccgsd": {"k"}, "hardware_efficient": {"layers"}}


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
    """

    name: str
    n_qubits: int
    hf_state: tuple
    weight_shape: tuple
    singles: tuple = ()
    doubles: tuple = ()
    options: dict = field(default_factory=dict)

    @property
    def n_params(self) -> int:
        """Number of trainable parameters."""
        return int(np.prod(self.weight_shape))

    def __call__(self, params) -> None:
        """Apply the circuit (HF preparation included) for ``params`` of shape :attr:`weight_shape`."""
        wires = range(self.n_qubits)
        hf = np.array(self.hf_state)
        if self.name == "uccsd":
            qp.BasisState(hf, wires=wires)
            nd, n = len(self.doubles), len(self.doubles) + len(self.singles)
            for rep in range(self.options.get("reps", 1)):
                for i, w in enumerate(self.doubles):
                    qp.DoubleExcitation(params[..., rep * n + i], wires=w)
                for i, w in enumerate(self.singles):
                    qp.SingleExcitation(params[..., rep * n + nd + i], wires=w)
        elif self.name == "k_upccgsd":
            qp.kUpCCGSD(params, wires=wires, k=self.options["k"], delta_sz=0, init_state=hf)
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
        if self.name == "hardware_efficient":
            return rng.normal(0.0, 0.05, self.weight_shape)
        x = np.zeros(self.weight_shape)
        n = len(self.singles) + len(self.doubles)
        if self.name == "uccsd" and x.size > n:
            x[n:] = rng.normal(0.0, 0.01, x.size - n)
        return x

    def __repr__(self) -> str:
        opts = "".join(f", {k}={v}" for k, v in self.options.items())
        return f"ChemAnsatz({self.name!r}, n_qubits={self.n_qubits}, n_params={self.n_params}{opts})"


def make_ansatz(molecule, name: str = "uccsd", **options) -> ChemAnsatz:
    """Build the chemistry ansatz ``name`` for ``molecule``.

    Args:
        molecule: a :class:`qml.chem.Molecule`.
        name: ``"uccsd"``, ``"k_upccgsd"`` or ``"hardware_efficient"``.
        **options: ``reps`` (uccsd, default 1), ``k`` (k_upccgsd, default 2) or ``layers``
            (hardware_efficient, default 2).

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
    if name == "uccsd":
        singles, doubles = qp.qchem.excitations(ne, n, delta_sz=0)
        reps = check_int("reps", options.get("reps", 1))
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
        k = check_int("k", options.get("k", 2))
        shape = tuple(qp.kUpCCGSD.shape(k=k, n_wires=n, delta_sz=0))
        return ChemAnsatz(name, n, hf, shape, options={"k": k})
    layers = check_int("layers", options.get("layers", 2))
    return ChemAnsatz(name, n, hf, (layers, n), options={"layers": layers})
