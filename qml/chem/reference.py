"""Independent reference energies from PySCF: HF, CCSD, CASCI (same active space) and FCI.

These never touch PennyLane, so agreement with :meth:`Molecule.exact_energy` checks the
whole Hamiltonian pipeline (integrals, active space, Jordan-Wigner, sector restriction).
"""

from __future__ import annotations

from ..errors import check_choice

#: Reference methods: name -> description.
REFERENCES = {
    "hf": "restricted (open-shell) Hartree-Fock total energy",
    "casci": "CASCI in the molecule's active space (equals FCI without one)",
    "fci": "full configuration interaction in the whole basis (no active space)",
    "ccsd": "CCSD total energy; frozen core and virtuals outside the active space, as the qubit Hamiltonian",
}


def _scf(molecule):
    from pyscf import scf

    mol = molecule.to_pyscf()
    mf = scf.RHF(mol) if molecule.multiplicity == 1 else scf.ROHF(mol)
    mf.conv_tol = 1e-11
    mf.chkfile = None  # no HDF5 checkpoint file per SCF cycle
    mf.kernel()
    if not mf.converged:  # pragma: no cover - PySCF convergence trouble at odd geometries
        mf = mf.newton().run()
    return mf


def reference_energy(molecule, method: str = "casci") -> float:
    """Total energy (Hartree) of ``molecule`` by an independent PySCF calculation.

    Args:
        molecule: a :class:`qml.chem.Molecule`.
        method: one of :data:`REFERENCES`.

    Returns:
        float: total energy including nuclear repulsion and frozen core.

    Raises:
        ConfigurationError: unknown method.
    """
    check_choice("reference method", method, REFERENCES)
    from pyscf import cc, fci, mcscf

    mf = _scf(molecule)
    if method == "hf":
        return float(mf.e_tot)
    n_core = (molecule.total_electrons - molecule.n_electrons) // 2
    n_active = molecule.n_orbitals
    nelec = _nelec(molecule.n_electrons, molecule.multiplicity)
    if method == "fci":
        return float(fci.FCI(mf).kernel()[0])
    if method == "casci":
        mc = mcscf.CASCI(mf, n_active, nelec)
        mc.fcisolver.conv_tol = 1e-12
        return float(mc.kernel()[0])
    frozen = list(range(n_core)) + list(range(n_core + n_active, mf.mo_coeff.shape[1]))
    solver = cc.CCSD(mf, frozen=frozen or None)
    solver.conv_tol = 1e-10
    solver.kernel()
    return float(solver.e_tot)


def _nelec(n_electrons: int, multiplicity: int) -> tuple[int, int]:
    n_alpha = (n_electrons + multiplicity - 1) // 2
    return n_alpha, n_electrons - n_alpha
