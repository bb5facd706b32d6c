"""The orbitals of a :class:`qml.chem.Molecule`: canonical, given, or tracked along a surface
(:mod:`qml.chem.orbitals` does the orbital mathematics; this is the molecule's side of it).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigurationError


class OrbitalBasis:
    """The MO coefficients a molecule's Hamiltonian is built in (a part of :class:`Molecule`)."""

    def track(self, tracker, point) -> OrbitalBasis:
        """Take this molecule's orbitals from ``tracker`` at ``point`` (computed on first use); returns self.

        Args:
            tracker: a :class:`qml.chem.orbitals.OrbitalTracker` whose builder gives this geometry.
            point: the coordinates of this molecule on the tracker's surface (tuple).
        """
        if self._cache:
            raise ConfigurationError("track() must be called before the Hamiltonian is built; make a new Molecule")
        self._tracker = (tracker, tuple(float(v) for v in point))
        self._orbitals = None
        self.orbital_source = "tracked"
        return self

    def with_orbitals(self, orbitals) -> OrbitalBasis:
        """A copy of this molecule whose Hamiltonian is built in ``orbitals`` (shape ``(n_ao, n_mo)``)."""
        d = self.to_dict(orbitals=False)
        d["orbitals"] = orbitals
        mol = type(self)(**d)
        mol.r = self.r
        return mol

    @property
    def orbitals(self) -> np.ndarray:
        """MO coefficients the Hamiltonian is built in, shape ``(n_ao, n_mo)`` (read-only, computed once)."""
        if self._orbitals is None:
            if self._tracker is not None:
                tracker, point = self._tracker
                c = tracker.orbitals(point)
            else:
                from .orbitals import canonical

                c = canonical(self).coefficients
            c = np.array(c, dtype=float, copy=True)
            c.setflags(write=False)
            self._orbitals = c
        return self._orbitals

    def _check_orbitals(self, orbitals) -> np.ndarray:
        try:
            c = np.array(orbitals, dtype=float, copy=True)
        except (TypeError, ValueError):
            raise TypeError(f"orbitals must be a 2-D array of MO coefficients, got {type(orbitals).__name__}") from None
        n_ao = self.n_orbitals_total
        if c.shape != (n_ao, n_ao):
            raise ConfigurationError(
                f"orbitals must have shape ({n_ao}, {n_ao}) (AO x MO coefficients of the {self.basis} basis), "
                f"got {c.shape}"
            )
        s = self.to_pyscf().intor_symmetric("int1e_ovlp")
        err = np.abs(c.T @ s @ c - np.eye(n_ao)).max()
        if not err < 1e-8:
            raise ConfigurationError(
                f"orbitals are not orthonormal under the AO overlap (max |C^T S C - 1| = {err:.2g}); pass MO "
                "coefficients of this geometry, e.g. from qml.chem.orbitals"
            )
        c.setflags(write=False)
        return c

    def __getstate__(self):
        state = self.__dict__.copy()
        if state["_tracker"] is not None:  # a chain holds a builder (often a closure): keep its result only
            state["_orbitals"] = self.orbitals
            state["_tracker"] = None
        state["_pyscf"] = None
        return state
