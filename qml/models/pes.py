"""PESModel: one hybrid model for a whole potential energy surface.

In the spirit of meta-VQE (Cervera-Lierta, Kottmann, Aspuru-Guzik, PRX Quantum 2, 020329 (2021)),
but with a neural encoder: a classical network maps the geometry ``x`` (``surface.dim``
coordinates, scaled to [-1, 1]) to the angles of a chemistry ansatz, and the output is
``E(x) = <psi(x)|H(x)|psi(x)>`` with the Hamiltonian of that geometry. Training minimises the
mean energy over training geometries: it is variational and needs no reference energies.

The model is thin; each part has one owner:

* geometry: a :class:`qml.chem.surface.Surface` (catalog name, builder + ranges, or a Surface);
* Hamiltonians: a :class:`qml.chem.bank.HamiltonianBank` (built once per geometry, cached);
* energies: the backend's ``"energy"`` capability (:mod:`qml.backends`), resolved at construction
  (``auto`` decides on the first batch) and shown in the repr.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import ConfigurationError

#: Givens layers of the default uccsd ansatz of a PESModel.
DEFAULT_UCCSD_REPS = 2


class PESModel(nn.Module):
    """Geometry ``x`` -> encoder -> ansatz angles -> ``<psi(x)|H(x)|psi(x)>``.

    Args:
        molecule: a catalog name (``"H2"``, ``"LiH"``, ...), a function ``builder(*coords) ->
            qml.chem.Molecule`` (then ``ranges`` is required), or a :class:`~qml.chem.surface.Surface`.
        ranges: one ``(lo, hi)`` per coordinate: the encoder's input scaling (default: the catalog
            scan range) and its domain, widened by ``qml.fit`` to cover the training geometries.
            Outside the domain the encoder does not extrapolate: a geometry gets the angles of the
            nearest point of the domain (its energy is still that of its own Hamiltonian, so still
            an upper bound); measured on the H4 rectangle 0.25 A below the domain, 6 mHa instead of
            26-54 mHa.
        ansatz: chemistry ansatz, ``"uccsd"`` (default), ``"k_upccgsd"`` or ``"hardware_efficient"``
            (see ``qml.chem.CHEM_ANSATZES``).
        encoder: hidden widths of the encoder MLP, default ``(32, 32)``; its input width is
            ``surface.dim`` and its last layer starts at zero, so the untrained model is the
            Hartree-Fock state at every geometry (uccsd).
        backend: a backend string with the ``"energy"`` capability (see ``qml.backends.BACKENDS``)
            or a resolved backend object; ``"auto"`` (default) times the local simulators on the
            first batch and keeps the fastest. Resolved here, held as :attr:`backend`.
        shots, seed: shot sampling of the backend (``None``: exact).
        backend_options: options of the backend (``ibm:`` backends: mode, resilience level, ...).
        ansatz_options: options of the ansatz; uccsd defaults to ``{"reps": 2}`` (two layers of
            singles and doubles Givens rotations: the default recipe, see :mod:`qml.train.defaults`).
        device: torch device of the encoder, its buffers, the angles and the energies (default
            cpu), e.g. ``"cuda"``; simulators in torch (``fast``, ``sector``) run there and the
            Hamiltonians are copied there once per geometry. ``energy()`` returns numpy (cpu).
        taper: qubit tapering (:mod:`qml.chem.tapering`): ``"auto"`` (default: on where the backend
            samples or is noisy, off on exact simulators), ``True`` or ``False``. Tapered, the
            generators and sector are those of the surface's reference geometry at every geometry
            (checked; :class:`~qml.chem.tapering.TaperingError` names a geometry where they fail),
            the ansatz runs on the tapered qubits (``n_qubits``) from the tapered HF state.
        **molecule_options: for catalog names, passed to ``qml.chem.Molecule.from_name`` (``basis``,
            ``active_electrons``, ``active_orbitals``).

    Raises:
        ConfigurationError: unknown molecule or ansatz, bad ranges or encoder widths, a device
            torch cannot use.
        BackendError: unknown backend, or one without the ``"energy"`` capability (the message
            names those that have it), or one that cannot run this ansatz.
    """

    def __init__(
        self,
        molecule,
        *,
        ranges=None,
        ansatz="uccsd",
        encoder=(32, 32),
        backend="auto",
        shots=None,
        seed=None,
        backend_options: dict | None = None,
        ansatz_options: dict | None = None,
        device=None,
        taper="auto",
        **molecule_options,
    ):
        super().__init__()
        from .. import backends
        from ..chem import make_ansatz
        from ..chem.tapering import check_taper, for_molecule, surface_point, wants_taper
        from ..inputs import check_device

        device = check_device(device)
        taper = check_taper(taper)

        #: the :class:`~qml.chem.tapering.Tapering` of every geometry (``None``: untapered).
        self.tapering = None
        self._surface_args = (molecule, ranges, dict(molecule_options))
        self._build_surface()
        reference = self.surface.molecule(self.surface.reference)
        self.ansatz_options = dict(ansatz_options or {})
        if ansatz == "uccsd":  # the recipe (issue 21): 2 Givens layers; 1 misses mHa on H4, BeH2, H2O
            self.ansatz_options.setdefault("reps", DEFAULT_UCCSD_REPS)
        self.n_qubits = reference.n_qubits
        self.n_electrons = reference.n_electrons
        self.two_sz = reference.two_sz
        #: the backend that runs the energies, resolved here, once (``auto`` decides on the first batch)
        self._backend = backends.at_door(
            backend, "energy", n_qubits=self.n_qubits, shots=shots, seed=seed, options=backend_options
        )
        if taper is not False and wants_taper(taper, self._backend):
            self.tapering = for_molecule(reference, where=surface_point(self.surface, self.surface.reference))
            self.n_qubits = self.tapering.n_tapered
            self._build_surface()  # the bank, now tapered
        self.ansatz = make_ansatz(reference, ansatz, taper=self.tapering, **self.ansatz_options)
        self.ansatz_name = self.ansatz.name
        self._evaluator = None
        self._fns: dict = {}
        self.evaluator()  # raises now, not at the first batch, if the backend cannot run the ansatz
        lo = torch.tensor([r[0] for r in self.surface.ranges], dtype=torch.float64)
        hi = torch.tensor([r[1] for r in self.surface.ranges], dtype=torch.float64)
        self.register_buffer("x_center", (lo + hi) / 2)
        self.register_buffer("x_scale", (hi - lo) / 2)
        # the encoder's domain (scaled units): ranges, widened to the training geometries by fit;
        # outside it the angles are those of the nearest point of the domain (no extrapolation)
        self.register_buffer("x_min", -torch.ones(self.surface.dim, dtype=torch.float64))
        self.register_buffer("x_max", torch.ones(self.surface.dim, dtype=torch.float64))
        self.encoder = _encoder(
            tuple(encoder) if isinstance(encoder, (tuple, list)) else encoder, self.surface.dim, self.ansatz.n_params
        )
        if self.ansatz_name == "hardware_efficient":
            with torch.no_grad():  # start from small angles around HF, as the VQE does
                self.encoder[-1].bias.copy_(torch.as_tensor(self.ansatz.init_params(0).ravel()))
        self.to(device)

    # ------------------------------------------------------------------ parts
    def _build_surface(self) -> None:
        from ..chem import catalog
        from ..chem.bank import HamiltonianBank
        from ..chem.surface import surface

        molecule, ranges, options = self._surface_args
        self.surface = surface(molecule, ranges, **options)
        self.molecule_name = self.surface.name
        #: the catalog entry when built from a catalog name (else ``None``).
        self.entry = catalog.get(molecule) if isinstance(molecule, str) else None
        self.bank = HamiltonianBank(self.surface, taper=getattr(self, "tapering", None))

    @property
    def backend(self):
        """The resolved backend: ``model.backend.chosen`` names what runs the energies; ``auto``'s
        decision is ``model.backend.decision`` (also in the repr)."""
        return self._backend

    @property
    def chosen_backend(self) -> str | None:
        """Read-only alias of ``model.backend.chosen``: the backend that runs the energies (``None``
        until ``auto`` has decided)."""
        return self._backend.chosen

    def evaluator(self):
        """The backend's energy evaluator for this ansatz, built once."""
        if self._evaluator is None:
            self._evaluator = self._backend.energy_evaluator(self.ansatz, self.n_qubits)
        return self._evaluator

    def _state_fn(self):
        if "state" not in self._fns:
            from .. import backends

            backends.require(self._backend, "state")
            self._fns["state"] = self._backend.state_fn(self.ansatz, self.n_qubits)
        return self._fns["state"]

    # ------------------------------------------------------------------ geometry
    def check(self, x) -> np.ndarray:
        """Geometries as float64 of shape ``(B, surface.dim)`` (see :meth:`Surface.check`)."""
        return self.surface.check(x)

    def prepare(self, x, progress: bool = False, *, executor=None, workers: int | None = None) -> None:
        """Build and cache the Hamiltonians of geometries ``x`` (with a progress bar if asked).

        ``executor``/``workers`` spread the geometries over processes or a Dask cluster with
        identical results (see :meth:`qml.chem.bank.HamiltonianBank.prepare`); default: here.
        """
        self.bank.prepare(x, progress=progress, executor=executor, workers=workers)

    # ------------------------------------------------------------------ the model
    def params(self, x) -> torch.Tensor:
        """Ansatz angles for geometries ``x``: shape ``(B, n_params)``."""
        return self._angles(self.check(x))

    def _angles(self, coords: np.ndarray) -> torch.Tensor:
        coords = torch.as_tensor(coords, dtype=torch.float64, device=self.x_center.device)
        z = (coords - self.x_center) / self.x_scale
        # clamp to the domain (torch.where: the full gradient reaches a point on the boundary)
        z = torch.where(z < self.x_min, self.x_min, torch.where(z > self.x_max, self.x_max, z))
        return self.encoder(z)

    def energies(self, x) -> torch.Tensor:
        """Differentiable energies ``<psi(x)|H(x)|psi(x)>`` (Hartree), shape ``(B,)``."""
        coords = self.check(x)
        entries = self.bank.entries(coords)
        params = self._angles(coords)
        return self.evaluator()(params, entries)

    def forward(self, x) -> torch.Tensor:
        return self.energies(x)

    def state(self, x) -> torch.Tensor:
        """State vectors ``|psi(x)>``: complex tensor of shape ``(B, 2**n_qubits)`` (no gradient).

        Raises:
            BackendError: the backend has no ``"state"`` capability.
        """
        with torch.no_grad():
            return self._state_fn()(self.params(x))

    def energy(self, x, return_std: bool = False):
        """Predicted energy (Hartree): a float for a single number, else an ndarray of shape ``(B,)``.

        With ``return_std=True``, ``(energy, stderr)``: the standard error of each energy from the
        shot-based backend (``ibm:``, ``aer`` with shots), zeros on exact backends; same shapes.
        """
        with torch.no_grad():
            e = self.energies(x).cpu().numpy()
        if not return_std:
            return float(e[0]) if np.ndim(x) == 0 else e
        s = self.last_stderr(len(e))
        return (float(e[0]), float(s[0])) if np.ndim(x) == 0 else (e, s)

    def last_stderr(self, n: int) -> np.ndarray:
        """Standard errors (Hartree) of the latest ``n`` energies, shape ``(n,)`` (zeros when exact)."""
        std = getattr(self._evaluator, "last_stderr", None)
        return np.zeros(n) if std is None else np.asarray(std, dtype=np.float64).reshape(n)

    def exact_energy(self, x):
        """Exact active-space energy (Hartree) from the same Hamiltonian: a float or shape ``(B,)``."""
        return self._per_geometry(x, lambda entry: entry.exact_energy())

    def hf_energy(self, x):
        """Hartree-Fock energy (Hartree): a float or shape ``(B,)``."""
        return self._per_geometry(x, lambda entry: entry.hf_energy())

    def _per_geometry(self, x, fn):
        e = np.array([fn(entry) for entry in self.bank.entries(self.check(x))])
        return float(e[0]) if np.ndim(x) == 0 else e

    def errors_mha(self, x) -> np.ndarray:
        """``energy(x) - exact_energy(x)`` in mHa, shape ``(B,)`` (non-negative up to round-off)."""
        return (np.atleast_1d(self.energy(x)) - np.atleast_1d(self.exact_energy(x))) * 1000.0

    # ------------------------------------------------------------------ qml.fit protocol
    def variational_data(self, data, name: str, progress: bool = True):
        """Geometries for ``qml.fit``: validated, Hamiltonians built once (progress bar)."""
        coords = self.check(data)
        self.prepare(coords, progress=progress)
        if name == "train":  # the encoder's domain covers every training geometry
            z = (
                torch.as_tensor(coords, dtype=torch.float64, device=self.x_center.device) - self.x_center
            ) / self.x_scale
            self.x_min.copy_(torch.minimum(self.x_min, z.min(0).values))
            self.x_max.copy_(torch.maximum(self.x_max, z.max(0).values))
        return _Geometries(torch.as_tensor(coords, dtype=torch.float64))

    def variational_loss(self, batch) -> torch.Tensor:
        """Mean energy over a batch of geometries: the variational training objective.

        On shot-based backends the loss's standard error, ``sqrt(sum stderr**2) / B``, goes to the
        epoch's history record as ``loss_stderr`` (that of the epoch's last step)."""
        e = self.energies(batch)
        std = self.last_stderr(len(e))
        if std.any():
            from ..backends import context

            context.note("loss_stderr", float(np.sqrt(np.sum(std**2)) / len(std)))
        return e.mean()

    # ------------------------------------------------------------------ interop (qml.export, qml.tables)
    def to_qiskit(self, x, *, device=None, optimization_level: int = 1, seed: int = 0):
        """The bound circuit at one geometry ``x`` and its Hamiltonian: ``(QuantumCircuit, SparsePauliOp)``.

        Logical by default (qubit ``i`` = wire ``i``); ``device=`` a fake device name (``"FakeFez"``) or a
        Qiskit ``BackendV2`` gives the ISA circuit and the operator on its physical qubits. Qiskit's
        ``StatevectorEstimator`` on the pair gives :meth:`energy` (see :mod:`qml.export`).
        """
        from ..export import model_to_qiskit

        return model_to_qiskit(self, x, device=device, optimization_level=optimization_level, seed=seed)

    def to_qasm3(self, x) -> str:
        """The bound logical circuit at one geometry ``x`` as OpenQASM 3 text."""
        from ..export import model_to_qasm3

        return model_to_qasm3(self, x)

    def to_pennylane(self, x):
        """``(QuantumScript, operator)`` at one geometry ``x``: the tape measuring ``expval(H)``, and ``H``."""
        from ..export import model_to_pennylane

        return model_to_pennylane(self, x)

    def to_pandas(self, x, *, exact: bool = False):
        """Predictions over geometries ``x`` as a ``pandas.DataFrame`` (see :func:`qml.tables.predictions`)."""
        from ..tables import predictions, to_pandas

        return to_pandas(predictions(self, x, exact=exact))

    def to_csv(self, path, x, *, exact: bool = False):
        """Write the predictions over ``x`` to a CSV file (no pandas needed); returns the path."""
        from ..tables import predictions, write_csv

        return write_csv(predictions(self, x, exact=exact), path)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        # the backend pickles as its recipe (auto: with its choice); the rest is rebuilt
        state = self.__dict__.copy()
        for k in ("_evaluator", "_fns", "surface", "bank", "entry"):
            state.pop(k, None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._build_surface()
        self._evaluator = None
        self._fns = {}

    def extra_repr(self) -> str:
        from .. import backends

        return (
            f"molecule={self.molecule_name!r}, ansatz={self.ansatz_name!r}, n_qubits={self.n_qubits}"
            + (f" (tapered from {self.tapering.n_qubits})" if getattr(self, "tapering", None) is not None else "")
            + f", n_params={self.ansatz.n_params}, coordinates={self.surface.coordinate_names}, "
            f"backend={backends.summary(self._backend)}"
        )


class _Geometries:
    def __init__(self, x: torch.Tensor):
        self.x = x

    def __len__(self) -> int:
        return len(self.x)

    def batch(self, idx):
        return self.x[idx]


def _encoder(widths: tuple, n_in: int, n_out: int) -> nn.Sequential:
    if not isinstance(widths, tuple) or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
        raise ConfigurationError(f"encoder must be a tuple of positive layer widths, e.g. (32, 32), got {widths}")
    layers = []
    for w in widths:
        layers += [nn.Linear(n_in, w), nn.Tanh()]
        n_in = w
    last = nn.Linear(n_in, n_out)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    layers.append(last)
    return nn.Sequential(*layers).to(torch.float64)
