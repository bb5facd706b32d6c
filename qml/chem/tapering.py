"""Qubit tapering: remove the qubits that the Hamiltonian's Z2 symmetries fix.

A Jordan-Wigner molecular Hamiltonian commutes with a few Pauli-Z strings ``g_i`` (electron-number
parity, spin parity, and the point-group symmetries PySCF's orbitals carry); PennyLane finds them
(``qp.symmetry_generators``) and pairs each with a single-qubit ``X_{q_i}`` that anticommutes with
``g_i`` only (``qp.paulix_ops``). The Clifford ``U = prod_i (g_i + X_{q_i}) / sqrt(2)`` turns each
``g_i`` into ``X_{q_i}``, so in ``U H U`` the qubits ``q_i`` are fixed at the eigenvalues ``s_i`` of
the chosen sector and drop out: ``n`` qubits become ``n - len(generators)`` (H2: 4 -> 1, LiH (2e, 5o):
10 -> 6, BeH2 (4e, 6o): 12 -> 7, H2O (8e, 6o): 12 -> 8).

The sector is the reference's: ``s_i = (-1)**(occupied qubits of the HF state inside g_i)``, the
sector ``qp.qchem.optimal_sector`` picks, and the tapered HF state is the HF occupation on the
kept qubits (equal to ``qp.qchem.taper_hf``; both tested). The conjugation is done here term by
term on the Pauli sentence (one product per generator); ``qp.taper`` gives the same operator
(tested) but simplifies through operator arithmetic: measured 2.0 s for BeH2 and 1.1 s for H2O
against milliseconds here.

Along a surface the generators are fixed at the reference geometry (:meth:`Tapering.check`
verifies at every other geometry that they still commute with ``H``, and raises
:class:`TaperingError` naming the geometry when they do not), so every geometry uses the same
qubits, the same sector and the same tapered HF state. :meth:`TaperedEntry.exact_energy` also
checks that the ground state did not leave the sector.

``taper=`` (on :func:`qml.chem.vqe`, :func:`qml.chem.scan`, :class:`qml.PESModel` and the
Hamiltonian bank) takes ``"auto"`` (default: on where the backend samples or is noisy, off on
exact simulators), ``True`` or ``False`` (:func:`check_taper`, :func:`wants_taper`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigurationError

#: Values of the ``taper=`` option.
TAPER_CHOICES = ("auto", True, False)

#: A tapered ground state this far (Hartree) above the untapered one means the sector lost it.
SECTOR_TOL = 1e-8

#: Pauli coefficients below this (Hartree) are dropped from tapered operators.
COEFF_TOL = 1e-12

#: Terms that break a symmetry with a coefficient below this (Hartree) are numerical noise of the
#: orbitals (SCF convergence, a tracked chain's drift) and are dropped; larger ones raise. Measured:
#: the rectangular H4 tracked from 0.75 to 2.1 A has such terms up to 4.7e-7 Ha; dropping them
#: changes the ground energy by second order (tapered = exact to 1e-10 Ha there, tested).
SYMMETRY_TOL = 1e-6


class TaperingError(ConfigurationError):
    """Tapering cannot be applied as asked: a symmetry breaks along a surface, a sector does not exist."""


def check_taper(taper):
    """Return ``taper`` if it is ``"auto"``, ``True`` or ``False``.

    Raises:
        ConfigurationError: any other value (the message names ``taper`` and its choices).
    """
    if isinstance(taper, Tapering):
        return taper
    if taper is True or taper is False or (isinstance(taper, str) and taper == "auto"):
        return taper
    raise ConfigurationError(
        f"taper must be 'auto' (on for shot-based or noisy backends, off for exact simulators), True or False; "
        f"got {taper!r}"
    )


def wants_taper(taper, backend) -> bool:
    """Whether ``taper`` (see :func:`check_taper`) means tapering on the resolved ``backend``.

    ``"auto"`` is on where the backend samples (``backend.exact`` is False: shots, a fake device's
    noise, hardware) and off on exact simulators.
    """
    taper = check_taper(taper)
    if isinstance(taper, Tapering):
        return True
    if taper == "auto":
        return getattr(backend, "exact", True) is False
    return bool(taper)


# ---------------------------------------------------------------------------- Pauli helpers
def _sentence(operator):
    from pennylane.pauli import PauliSentence

    ps = getattr(operator, "pauli_rep", None) if not isinstance(operator, PauliSentence) else operator
    if ps is None:
        raise TypeError(f"a Hamiltonian with a Pauli representation is needed, got {type(operator).__name__}")
    return ps


def _z_support(word) -> tuple:
    ops = dict(word.items())
    if any(p != "Z" for p in ops.values()):
        raise TaperingError(f"symmetry generator {word} is not a product of Pauli Z; qml tapers Z2 Z-string symmetries")
    return tuple(sorted(int(w) for w in ops))


def _anticommutes(word, support: tuple) -> bool:
    """Whether a Pauli word anticommutes with the Z string on ``support`` (odd count of X/Y there)."""
    return sum(word.get(w, "I") in ("X", "Y") for w in support) % 2 == 1


@dataclass(frozen=True)
class Tapering:
    """Z2 symmetries of one Hamiltonian, the qubits they remove and the sector kept.

    Attributes:
        n_qubits: qubits before tapering.
        generators: the Z strings ``g_i``, each as the sorted tuple of wires it acts on.
        paulix_wires: ``q_i``, the qubit removed with ``g_i`` (``X_{q_i}`` anticommutes with ``g_i`` only).
        sector: ``s_i`` in ``{+1, -1}``, the eigenvalue of ``g_i`` kept.
        reference: where the generators were found (a label for messages).
    """

    n_qubits: int
    generators: tuple
    paulix_wires: tuple
    sector: tuple
    reference: str = ""

    @property
    def kept(self) -> tuple:
        """The qubits that stay, in order; kept qubit ``kept[j]`` becomes wire ``j``."""
        return tuple(q for q in range(self.n_qubits) if q not in self.paulix_wires)

    @property
    def n_tapered(self) -> int:
        """Qubits after tapering."""
        return self.n_qubits - len(self.generators)

    def generator_ops(self) -> list:
        """The generators as PennyLane operators (``Z(0) @ Z(1)``, ...)."""
        import pennylane as qp

        return [qp.prod(*[qp.Z(w) for w in g]) if len(g) > 1 else qp.Z(g[0]) for g in self.generators]

    # -------------------------------------------------------------- checks
    def broken_by(self, hamiltonian) -> list:
        """Generators (as wire tuples) that do not commute with ``hamiltonian`` (empty when all do)."""
        ps = _sentence(hamiltonian)
        return [g for g in self.generators if any(_anticommutes(w, g) for w, c in ps.items() if abs(c) > SYMMETRY_TOL)]

    def check(self, hamiltonian, where: str = "") -> None:
        """Raise :class:`TaperingError` unless every generator commutes with ``hamiltonian``.

        Args:
            where: the geometry, for the message (e.g. ``"r = 2.4"``).
        """
        broken = self.broken_by(hamiltonian)
        if broken:
            words = ", ".join(" ".join(f"Z{w}" for w in g) for g in broken)
            raise TaperingError(
                f"the symmetry {words} found at {self.reference or 'the reference geometry'} does not hold at "
                f"{where or 'this geometry'}: the tapering (same qubits and sector along the surface) cannot be "
                "continued there; use taper=False, or a surface whose geometries keep the reference's symmetry"
            )

    def state_sector(self, occupation) -> tuple:
        """``s_i`` of a basis state (0/1 occupation per qubit, shape ``(n_qubits,)``)."""
        occ = np.asarray(occupation, dtype=int)
        return tuple(int(1 - 2 * (occ[list(g)].sum() % 2)) for g in self.generators)

    # -------------------------------------------------------------- tapering
    def sentence(self, operator):
        """The tapered Pauli sentence of ``operator``, wires ``0..k-1``.

        Terms that anticommute with a generator (below :data:`SYMMETRY_TOL` after :meth:`check`) are
        left out.
        """
        from pennylane.pauli import PauliSentence, PauliWord

        ps = _sentence(operator)
        ps = PauliSentence({w: c for w, c in ps.items() if not any(_anticommutes(w, g) for g in self.generators)})
        for g, q in zip(self.generators, self.paulix_wires):
            xg = PauliWord({q: "X"}) @ PauliWord(dict.fromkeys(g, "Z"))  # a sentence of one word
            flip = PauliSentence({w: c for w, c in ps.items() if w.get(q, "I") in ("Y", "Z")})
            keep = PauliSentence({w: c for w, c in ps.items() if w.get(q, "I") not in ("Y", "Z")})
            ps = keep + xg @ flip
        index = {q: j for j, q in enumerate(self.kept)}
        signs = dict(zip(self.paulix_wires, self.sector))
        out: dict = {}
        for word, c in ps.items():
            new, coeff = {}, complex(c)
            for w, p in word.items():
                if w in signs:
                    if p != "X":  # pragma: no cover - only if the operator breaks a symmetry (checked before)
                        raise TaperingError(f"the operator does not commute with the symmetry on qubit {w}")
                    coeff *= signs[w]
                else:
                    new[index[w]] = p
            key = PauliWord(new)
            out[key] = out.get(key, 0.0) + coeff
        result = PauliSentence({w: c for w, c in out.items() if abs(c) > COEFF_TOL})
        return result

    def hamiltonian(self, hamiltonian, where: str = ""):
        """The tapered Hamiltonian, a PennyLane operator on wires ``0 .. n_tapered - 1`` with real coefficients.

        Raises:
            TaperingError: a generator does not commute with ``hamiltonian`` (see :meth:`check`).
        """
        self.check(hamiltonian, where)
        ps = self.sentence(hamiltonian)
        imag = max((abs(complex(c).imag) for c in ps.values()), default=0.0)
        if imag > 1e-9:  # pragma: no cover - a Hermitian input gives real Pauli coefficients
            raise TaperingError(f"the tapered Hamiltonian has complex coefficients (|imag| up to {imag:.2g})")
        from pennylane.pauli import PauliSentence

        ps = PauliSentence({w: float(complex(c).real) for w, c in ps.items()})
        return ps.operation(wire_order=range(self.n_tapered))

    def hf_state(self, occupation) -> tuple:
        """The tapered reference state: ``occupation`` on the kept qubits, shape ``(n_tapered,)``.

        ``U |b>`` for a basis state ``b`` of this sector is ``|b on the kept qubits>`` tensored with the
        ``X_{q_i} = s_i`` eigenstates of the removed ones.

        Raises:
            TaperingError: ``occupation`` is not in :attr:`sector`.
        """
        occ = np.asarray(occupation, dtype=int)
        if occ.shape != (self.n_qubits,):
            raise TaperingError(f"occupation must have shape ({self.n_qubits},), got {occ.shape}")
        if self.state_sector(occ) != tuple(self.sector):
            raise TaperingError(
                f"the reference state {occ.tolist()} is in sector {list(self.state_sector(occ))}, not in the "
                f"tapered sector {list(self.sector)}"
            )
        return tuple(int(occ[q]) for q in self.kept)

    def with_sector(self, sector, n_electrons: int | None = None, two_sz: int | None = None) -> Tapering:
        """The same generators with another ``sector`` (validated).

        Args:
            sector: one ``+1``/``-1`` per generator.
            n_electrons, two_sz: when given, the sector must hold a basis state with this particle
                number and ``2 Sz`` (else it does not exist for the molecule).

        Raises:
            TaperingError: wrong length or values, or no state of the molecule in that sector.
        """
        try:
            s = tuple(int(v) for v in sector)
        except (TypeError, ValueError):
            raise TaperingError(f"sector must be a list of +1/-1, one per generator, got {sector!r}") from None
        if (
            len(s) != len(self.generators)
            or any(v not in (1, -1) for v in s)
            or any(float(a) != float(b) for a, b in zip(s, sector))
        ):
            raise TaperingError(
                f"sector must be {len(self.generators)} values of +1 or -1 (one per generator "
                f"{[' '.join(f'Z{w}' for w in g) for g in self.generators]}), got {list(sector)!r}"
            )
        if n_electrons is not None:
            found = self.sectors(n_electrons, 0 if two_sz is None else two_sz)
            if s not in found:
                raise TaperingError(
                    f"sector {list(s)} holds no state with {n_electrons} electrons and 2Sz = {two_sz or 0}; "
                    f"sectors that do: {[list(x) for x in found]}"
                )
        return Tapering(self.n_qubits, self.generators, self.paulix_wires, s, self.reference)

    def sectors(self, n_electrons: int, two_sz: int = 0) -> list:
        """Every sector that holds a basis state with ``n_electrons`` and ``2 Sz = two_sz``, sorted."""
        from .hamiltonian import sector_indices

        idx = sector_indices(self.n_qubits, n_electrons, two_sz)
        bits = (idx[:, None] >> (self.n_qubits - 1 - np.arange(self.n_qubits))) & 1
        found = {
            tuple(int(1 - 2 * (bits[:, list(g)].sum(axis=1)[k] % 2)) for g in self.generators) for k in range(len(idx))
        }
        return sorted(found, reverse=True)

    def __repr__(self) -> str:
        gens = ", ".join(" ".join(f"Z{w}" for w in g) for g in self.generators)
        return (
            f"Tapering({self.n_qubits} -> {self.n_tapered} qubits, generators [{gens}], "
            f"removed qubits {list(self.paulix_wires)}, sector {list(self.sector)})"
        )


def find(hamiltonian, n_qubits: int, reference_state, *, sector=None, reference: str = "") -> Tapering:
    """The Z2 symmetries of ``hamiltonian`` and the sector of ``reference_state`` (or ``sector``).

    Args:
        hamiltonian: a PennyLane operator on wires ``0 .. n_qubits - 1``.
        n_qubits: its width.
        reference_state: 0/1 occupation, shape ``(n_qubits,)`` (the Hartree-Fock state).
        sector: ``None`` (the reference state's sector) or one ``+1``/``-1`` per generator.
        reference: label of the geometry, for messages.

    Raises:
        TaperingError: a bad ``sector``.
    """
    import pennylane as qp

    gens = qp.symmetry_generators(hamiltonian)
    generators = tuple(_z_support(next(iter(_sentence(g)))) for g in gens)
    paulix = qp.paulix_ops(gens, n_qubits) if gens else []
    wires = tuple(int(op.wires[0]) for op in paulix)
    tap = Tapering(int(n_qubits), generators, wires, (), reference)
    occ = np.asarray(reference_state, dtype=int)
    tap = Tapering(tap.n_qubits, generators, wires, tap.state_sector(occ), reference)
    if sector is not None:
        n_e = int(occ.sum())
        tap = tap.with_sector(sector, n_e, int(occ[0::2].sum() - occ[1::2].sum()))
    return tap


def for_molecule(molecule, *, sector=None, where: str | None = None) -> Tapering:
    """The tapering of ``molecule``'s Hamiltonian in its Hartree-Fock sector (or ``sector``).

    ``where`` names the geometry in later messages (default: its ``r`` or coordinates).

    Raises:
        TaperingError: a ``sector`` that is not ``+1``/``-1`` per generator, or holds no state with
            the molecule's electron number and spin.
    """
    where = _where(molecule) if where is None else where
    return find(molecule.hamiltonian(), molecule.n_qubits, molecule.hf_state(), sector=sector, reference=where)


def surface_point(surface, point) -> str:
    """``"name r = 0.74"``: how messages name a point of a surface."""
    return f"{surface.name} " + ", ".join(f"{n} = {float(v):g}" for n, v in zip(surface.coordinate_names, point))


def _where(molecule) -> str:
    if molecule.r is not None:
        return f"{molecule.name or 'r'} r = {molecule.r:g}"
    return f"{molecule.name or ''.join(molecule.symbols)} at {np.round(molecule.coordinates, 4).tolist()}"


class TaperedEntry:
    """A Hamiltonian-bank entry whose operator is tapered (the interface of :class:`qml.chem.bank.HamiltonianEntry`,
    which imports this module, so it is not subclassed: ``molecule``, ``n_qubits``, ``cache``, ``operator``,
    ``sparse()``, ``sector_block()``, ``exact_energy()``, ``hf_energy()``).

    ``operator``, ``sparse()`` and ``n_qubits`` are those of the tapered Hamiltonian; ``exact_energy()``
    and ``hf_energy()`` are the molecule's (untapered) energies, so results compare with the physical
    target; :meth:`tapered_exact_energy` is the lowest eigenvalue of the tapered operator.

    Args:
        molecule: the :class:`Molecule`.
        tapering: the :class:`Tapering` (e.g. fixed at the surface's reference geometry).
        where: how messages name this geometry (default: the molecule's ``r`` or coordinates).

    Raises:
        TaperingError: the generators do not commute with this geometry's Hamiltonian.
    """

    def __init__(self, molecule, tapering: Tapering, where: str | None = None):
        from .molecule import Molecule

        if not isinstance(molecule, Molecule):
            raise TypeError(f"a Hamiltonian entry needs a qml.chem.Molecule, got {type(molecule).__name__}")
        self.molecule = molecule
        self.cache: dict = {}
        if tapering.n_qubits != molecule.n_qubits:
            raise TaperingError(
                f"the tapering is for {tapering.n_qubits} qubits but {molecule!r} has {molecule.n_qubits}"
            )
        self.tapering = tapering
        self.where = _where(molecule) if where is None else where
        self.n_qubits = tapering.n_tapered
        self._operator = tapering.hamiltonian(molecule.hamiltonian(), self.where)

    @property
    def operator(self):
        """The tapered Hamiltonian on wires ``0 .. n_qubits - 1`` (Hartree)."""
        return self._operator

    def sparse(self):
        """The tapered Hamiltonian as a CSR matrix, shape ``(2**k, 2**k)``."""
        if "tapered_sparse" not in self.cache:
            from .hamiltonian import sparse_matrix

            self.cache["tapered_sparse"] = sparse_matrix(self._operator, self.n_qubits)
        return self.cache["tapered_sparse"]

    def sector_block(self, indices) -> np.ndarray:
        """Dense block ``H[indices][:, indices]`` of the tapered Hamiltonian, shape ``(d, d)``."""
        from .hamiltonian import sector_block

        return sector_block(self, indices)

    def hf_energy(self) -> float:
        """The molecule's Hartree-Fock energy (equals :meth:`tapered_hf_energy`; tested)."""
        return self.molecule.hf_energy()

    def hf_state(self) -> tuple:
        """The tapered Hartree-Fock state, shape ``(n_qubits,)`` (tapered)."""
        return self.tapering.hf_state(self.molecule.hf_state())

    def tapered_hf_energy(self) -> float:
        """``<HF|H_tapered|HF>`` of the tapered HF basis state (equals :meth:`hf_energy`; tested)."""
        i = int("".join(map(str, self.hf_state())), 2)
        return float(self.sparse()[i, i].real)

    def tapered_exact_energy(self) -> float:
        """Lowest eigenvalue (Hartree) of the tapered Hamiltonian (all of its ``2**k`` states)."""
        if "tapered_exact" not in self.cache:
            from .hamiltonian import lowest_eigenvalue

            self.cache["tapered_exact"] = lowest_eigenvalue(self.sparse(), np.arange(2**self.n_qubits))
        return self.cache["tapered_exact"]

    def exact_energy(self) -> float:
        """The molecule's exact energy (untapered, its particle-number/Sz sector), checked against the tapered one.

        Raises:
            TaperingError: the tapered ground state lies above it (the ground state left the sector
                here), naming the geometry.
        """
        exact = self.molecule.exact_energy()
        self.check_sector(exact)
        return exact

    def check_sector(self, exact: float | None = None) -> None:
        """Raise :class:`TaperingError` if the tapered ground energy is above the exact one (sector changed)."""
        exact = self.molecule.exact_energy() if exact is None else exact
        tapered = self.tapered_exact_energy()
        if tapered > exact + SECTOR_TOL:
            raise TaperingError(
                f"at {self.where} the ground state is not in the tapered sector {list(self.tapering.sector)} "
                f"(fixed at {self.tapering.reference or 'the reference geometry'}): lowest energy in the sector "
                f"{tapered:.8f} Ha, exact {exact:.8f} Ha; the sector changes along this surface, use taper=False"
            )

    def __repr__(self) -> str:
        return f"TaperedEntry({self.molecule!r}, {self.tapering.n_qubits} -> {self.n_qubits} qubits)"


__all__ = [
    "TAPER_CHOICES",
    "TaperedEntry",
    "Tapering",
    "TaperingError",
    "check_taper",
    "find",
    "for_molecule",
    "wants_taper",
]
