"""What measuring a molecular Hamiltonian costs: grouping of Pauli terms and shot budgets.

An Estimator measures a Hamiltonian ``H = c_0 I + sum_i c_i P_i`` by grouping its Pauli
terms into qubit-wise commuting sets (``SparsePauliOp.group_commuting(qubit_wise=True)``,
what ``qiskit.primitives.BackendEstimatorV2`` and Qiskit Runtime's local mode do); each
group is one *measurement setting*: one circuit with basis rotations, run with the
Estimator's ``shots`` (``ceil(1 / precision**2)`` when a precision is given). The
identity term is a constant and costs nothing.

Standard error of the energy with ``S`` shots per setting. Every shot of group ``g``
gives ``X_g = sum_{i in g} c_i p_i`` with ``p_i = +-1``, so ``|X_g| <= L_g = sum_{i in g} |c_i|``
and ``Var(X_g) <= L_g**2`` whatever the state. Groups are sampled independently, hence

* the state-independent bound ``sigma(E) <= sqrt(sum_g L_g**2 / S)`` (:meth:`MeasurementPlan.stderr_bound`;
  :meth:`~MeasurementPlan.shots_for` inverts it), and with the optimal allocation
  ``S_g ~ L_g`` of a total of ``N`` shots, ``sigma(E) <= sum_g L_g / sqrt(N)``
  (:meth:`~MeasurementPlan.total_shots_optimal`);
* the exact value at a given state ``sigma(E) = sqrt(sum_g Var_psi(A_g) / S)`` with
  ``A_g = sum_{i in g} c_i P_i`` (:meth:`~MeasurementPlan.stderr_at`), e.g. at the
  Hartree-Fock state, which is close to the trained states of a chemistry ansatz.

Wire convention (qml's, the one :func:`qml.backends.qiskit_circuits.pauli_op` and
:func:`~qml.backends.qiskit_circuits.to_qiskit` share): PennyLane wire ``i`` is Qiskit qubit ``i``,
so the Pauli label of wire 0 is the *last* character of a Qiskit label, and a PennyLane
state index (wire 0 most significant) is the bit-reversed Qiskit index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigurationError, DataError


def hamiltonian_op(hamiltonian, n_qubits: int | None = None):
    """A Hamiltonian as a Qiskit ``SparsePauliOp`` in qml's wire convention.

    Args:
        hamiltonian: a PennyLane operator with a Pauli representation (``Molecule.hamiltonian()``),
            a ``SparsePauliOp`` (returned as is), or a Hamiltonian-bank entry (its operator, cached
            in the entry by :func:`qml.backends.qiskit_circuits.hamiltonian_op`).
        n_qubits: width (default: the entry's, or one more than the largest wire label).

    Returns:
        ``SparsePauliOp`` on ``n_qubits`` qubits, wire ``i`` -> qubit ``i``, real coefficients.

    Raises:
        ConfigurationError: non-integer wire labels, a non-Hermitian operator, or no Pauli form.
        TypeError: not a Hamiltonian.
    """
    from qiskit.quantum_info import SparsePauliOp

    from ..backends import qiskit_circuits

    if isinstance(hamiltonian, SparsePauliOp):
        return hamiltonian
    if n_qubits is None:
        n_qubits = getattr(hamiltonian, "n_qubits", None)
    if n_qubits is None:
        wires = list(getattr(hamiltonian, "wires", []))
        if not all(isinstance(w, (int, np.integer)) and w >= 0 for w in wires):
            raise ConfigurationError(f"the Hamiltonian must act on integer wires 0..n-1, got wires {wires}")
        n_qubits = max(wires) + 1 if wires else 1
    return qiskit_circuits.hamiltonian_op(hamiltonian, n_qubits)


@dataclass(frozen=True)
class MeasurementPlan:
    """The measurement settings of one Hamiltonian and the shot budgets they imply.

    Attributes:
        n_qubits: width.
        n_terms: Pauli terms, the identity excluded.
        n_groups: measurement settings (qubit-wise commuting groups), the Estimator's circuits
            per parameter set.
        constant: coefficient of the identity (Hartree), measured for free.
        group_norms: ``L_g = sum |c_i|`` of each group, shape ``(n_groups,)`` (Hartree).
        groups: the groups as ``SparsePauliOp`` (not shown in the repr).
    """

    n_qubits: int
    n_terms: int
    n_groups: int
    constant: float
    group_norms: np.ndarray = field(repr=False)
    groups: tuple = field(repr=False, compare=False)

    @property
    def variance_bound(self) -> float:
        """``sum_g L_g**2``: the single-shot-per-setting variance bound (Hartree^2)."""
        return float(np.sum(self.group_norms**2))

    def stderr_bound(self, shots: int) -> float:
        """Upper bound of the energy's standard error with ``shots`` per setting (Hartree), any state."""
        shots = _positive_int("shots", shots)
        return math.sqrt(self.variance_bound / shots)

    def shots_for(self, precision: float, state=None) -> int:
        """Shots per setting for a standard error <= ``precision`` (Hartree).

        Args:
            precision: target standard error of the energy (Hartree), e.g. ``1.6e-3``.
            state: ``None`` for the guarantee at any state (from :attr:`variance_bound`), or a state
                vector (see :meth:`group_variances`) for the exact need at that state.

        Raises:
            ConfigurationError: ``precision`` not a positive number.
        """
        precision = _positive_float("precision", precision)
        var = self.variance_bound if state is None else float(np.sum(self.group_variances(state)))
        return max(1, math.ceil(var / precision**2))

    def total_shots_optimal(self, precision: float) -> int:
        """Total shots over all settings for a standard error <= ``precision`` with the optimal
        allocation ``S_g ~ L_g`` (a lower budget than ``n_groups * shots_for(precision)``)."""
        precision = _positive_float("precision", precision)
        return max(1, math.ceil(float(np.sum(self.group_norms)) ** 2 / precision**2))

    def group_variances(self, state) -> np.ndarray:
        """Single-shot variance ``Var_psi(A_g)`` of every group at ``state``, shape ``(n_groups,)``.

        Args:
            state: a state vector of shape ``(2**n_qubits,)`` in PennyLane's order (wire 0 the most
                significant bit, what ``qp.state()`` and ``PESModel.state`` return) or a Qiskit
                ``Statevector``.

        Raises:
            DataError: wrong length or not normalised.
        """
        from qiskit.quantum_info import Statevector

        if isinstance(state, Statevector):
            sv = state
        else:
            psi = np.asarray(state, dtype=np.complex128).reshape(-1)
            n = self.n_qubits
            if psi.size != 2**n:
                raise DataError(f"state has {psi.size} amplitudes, expected 2**{n} = {2**n}")
            # PennyLane index (wire 0 most significant) -> Qiskit index (qubit 0 least significant)
            psi = psi.reshape((2,) * n).transpose(tuple(reversed(range(n)))).reshape(-1)
            sv = Statevector(psi)
        if abs(np.vdot(sv.data, sv.data).real - 1.0) > 1e-8:
            raise DataError("state is not normalised")
        out = []
        for group in self.groups:
            mean = float(np.real(sv.expectation_value(group)))
            square = float(np.real(sv.expectation_value((group @ group).simplify())))
            out.append(max(square - mean**2, 0.0))
        return np.array(out)

    def stderr_at(self, state, shots: int) -> float:
        """Standard error of the energy measured at ``state`` with ``shots`` per setting (Hartree)."""
        shots = _positive_int("shots", shots)
        return math.sqrt(float(np.sum(self.group_variances(state))) / shots)

    def summary(self) -> str:
        return (
            f"{self.n_terms} Pauli terms in {self.n_groups} qubit-wise commuting settings; "
            f"sigma(E) <= {math.sqrt(self.variance_bound):.3g} Ha / sqrt(shots per setting)"
        )


def measurement_plan(hamiltonian, n_qubits: int | None = None) -> MeasurementPlan:
    """Group ``hamiltonian`` into measurement settings (cached on Hamiltonian-bank entries).

    Args:
        hamiltonian: PennyLane operator, ``SparsePauliOp`` or Hamiltonian-bank entry.
        n_qubits: width (default: from the operator).

    Returns:
        The :class:`MeasurementPlan`.

    Raises:
        ConfigurationError: see :func:`hamiltonian_op`.
    """
    cache = getattr(hamiltonian, "cache", None)
    if isinstance(cache, dict) and "measurement_plan" in cache:
        return cache["measurement_plan"]
    op = hamiltonian_op(hamiltonian, n_qubits).simplify(atol=1e-12)
    labels = op.paulis
    is_identity = ~(labels.x.any(axis=1) | labels.z.any(axis=1))
    constant = float(np.sum(op.coeffs[is_identity].real))
    rest = op[~is_identity] if (~is_identity).any() else None
    groups = tuple(rest.group_commuting(qubit_wise=True)) if rest is not None else ()
    norms = np.array([float(np.sum(np.abs(g.coeffs))) for g in groups])
    plan = MeasurementPlan(op.num_qubits, int((~is_identity).sum()), len(groups), constant, norms, groups)
    if isinstance(cache, dict):
        cache["measurement_plan"] = plan
    return plan


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _positive_float(name: str, value) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.floating))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigurationError(f"{name} must be a positive number (Hartree), got {value!r}")
    return float(value)
