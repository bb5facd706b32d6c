"""``scan``: a potential-energy curve by VQE, warm-started from the neighbouring geometry.

Points are solved starting from the one nearest the catalog equilibrium and sweeping
outwards, so every other point starts from the converged parameters of an already
solved neighbour (the Hartree-Fock reference is best near equilibrium).

With ``executor=``/``workers=`` (see :mod:`qml.parallel`) the work is split without changing a
single bit of the result: the first point (nearest equilibrium) is solved here, then a
warm-started scan runs its two outward chains (larger and smaller ``r``) as two parallel tasks,
and a cold scan (``warm_start=False``) runs every other point as its own task.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import ConfigurationError
from . import catalog as _catalog
from .molecule import Molecule
from .vqe import CHEMICAL_ACCURACY_MHA, vqe

_COLUMNS = (
    "r",
    "hf",
    "vqe",
    "exact",
    "error_mha",
    "wall_time",
    "n_evaluations",
    "chemical_accuracy",
    "warm_start",
    "start_energy",
)


@dataclass
class ScanPoint:
    """One geometry of a scan. Energies in Hartree, ``error_mha = (vqe - exact) * 1000``.

    ``wall_time`` covers Hamiltonian construction, exact diagonalisation and VQE at this point.
    ``warm_start`` is True when the point started from a neighbour's parameters; ``start_energy``
    is the energy of those starting parameters (the HF energy for a cold uccsd start).
    """

    r: float
    hf: float
    vqe: float
    exact: float
    error_mha: float
    wall_time: float
    n_evaluations: int
    chemical_accuracy: bool
    warm_start: bool
    start_energy: float = float("nan")
    params: np.ndarray = field(repr=False, default=None)


@dataclass
class ScanResult:
    """Records of a scan, sorted by ``r``. Behaves like a list of :class:`ScanPoint`.

    Attributes:
        name: catalog molecule name.
        ansatz, optimizer, backend: what the VQE used.
        points: list of :class:`ScanPoint`.
    """

    name: str
    ansatz: str
    optimizer: str
    backend: str
    points: list

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, i) -> ScanPoint:
        return self.points[i]

    def __iter__(self):
        return iter(self.points)

    def column(self, key: str) -> np.ndarray:
        """One column as an ndarray of shape ``(len(self),)``, e.g. ``scan.column("vqe")``.

        Raises:
            ConfigurationError: unknown column (the message lists the columns).
        """
        if key not in _COLUMNS:
            raise ConfigurationError(f"unknown column {key!r}; columns are: {', '.join(_COLUMNS)}")
        return np.array([getattr(p, key) for p in self.points])

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """``{column: ndarray}`` for every column (parameters excluded)."""
        return {k: self.column(k) for k in _COLUMNS}

    def to_dict(self) -> dict:
        """Plain, JSON-serialisable dict: metadata plus ``"points"``, a list of per-point dicts."""
        rows = []
        for p in self.points:
            row = {k: v for k, v in asdict(p).items() if k != "params"}
            row.update({k: (bool(v) if isinstance(v, (bool, np.bool_)) else v) for k, v in row.items()})
            rows.append(row)
        return {
            "name": self.name,
            "ansatz": self.ansatz,
            "optimizer": self.optimizer,
            "backend": self.backend,
            "points": rows,
        }

    @property
    def max_error_mha(self) -> float:
        """Largest ``|error_mha|`` over the scan."""
        return float(np.max(np.abs(self.column("error_mha"))))

    @property
    def wall_time(self) -> float:
        """Total seconds over all points."""
        return float(np.sum(self.column("wall_time")))

    def __repr__(self) -> str:
        head = f"{'r (A)':>7} {'E_HF':>13} {'E_VQE':>13} {'E_exact':>13} {'err mHa':>9} {'s':>6} {'evals':>5}"
        lines = [
            f"ScanResult({self.name}, {self.ansatz}, {self.optimizer} on {self.backend}, {len(self)} points, "
            f"max error {self.max_error_mha:.4f} mHa, {self.wall_time:.1f} s)",
            head,
        ]
        for p in self.points:
            mark = "" if p.chemical_accuracy else f"  > {CHEMICAL_ACCURACY_MHA} mHa"
            lines.append(
                f"{p.r:7.3f} {p.hf:13.8f} {p.vqe:13.8f} {p.exact:13.8f} {p.error_mha:9.4f} "
                f"{p.wall_time:6.2f} {p.n_evaluations:5d}{mark}"
            )
        return "\n".join(lines)


def sweep_order(r_values: np.ndarray, r_eq: float) -> list[tuple[int, int | None]]:
    """Order in which to solve sorted ``r_values``: ``[(index, warm-start neighbour index or None)]``.

    Starts at the point nearest ``r_eq`` and walks outwards on both sides.
    """
    start = int(np.argmin(np.abs(r_values - r_eq)))
    order = [(start, None)]
    order += [(i, i - 1) for i in range(start + 1, len(r_values))]
    order += [(i, i + 1) for i in range(start - 1, -1, -1)]
    return order


def chains(order: list[tuple[int, int | None]], warm_start: bool) -> list[list[tuple[int, int | None]]]:
    """Split :func:`sweep_order` into independent tasks after its first point.

    Warm-started: the outward chain to larger ``r`` and the one to smaller ``r`` (each point needs
    its neighbour). Cold: one task per point. Flattened, the chains are ``order[1:]``.
    """
    rest = order[1:]
    if not warm_start:
        return [[step] for step in rest]
    up = [step for step in rest if step[0] > order[0][0]]
    down = [step for step in rest if step[0] < order[0][0]]
    return [c for c in (up, down) if c]


def _solve(mol, r, init, warm, vqe_kwargs) -> tuple[ScanPoint, str]:
    """VQE at one geometry: ``(ScanPoint, backend used)`` (the one rule for every point, here or in a worker)."""
    t0 = time.perf_counter()
    res = vqe(mol, init=init if warm else None, progress=False, **vqe_kwargs)
    return ScanPoint(
        r=float(r),
        hf=mol.hf_energy(),
        vqe=res.energy,
        exact=res.exact_energy,
        error_mha=res.error_mha,
        wall_time=time.perf_counter() - t0,
        n_evaluations=res.n_evaluations,
        chemical_accuracy=res.chemical_accuracy,
        warm_start=init is not None and warm,
        start_energy=res.history[0],
        params=res.params,
    ), res.backend


def _solve_chain(job) -> list[ScanPoint]:
    """Worker task: ``job = (steps, mols, start_params, warm_start, vqe_kwargs)``, points in step order.

    ``mols`` maps each step's index to ``(Molecule, r)``; ``start_params`` the first point's parameters.
    """
    steps, mols, start_params, warm, vqe_kwargs = job
    params = dict(start_params)
    out = []
    for i, nb in steps:
        point, _ = _solve(*mols[i], params.get(nb), warm, vqe_kwargs)
        params[i] = point.params
        out.append(point)
    return out


def _scan_tapering(name, entry, backend, vqe_options, basis, active_electrons, active_orbitals):
    """``False`` or the :class:`~qml.chem.tapering.Tapering` of the equilibrium geometry, for every point."""
    from .. import backends
    from .tapering import Tapering, check_taper, for_molecule, wants_taper

    taper = check_taper(vqe_options.get("taper", "auto"))
    if taper is False or isinstance(taper, Tapering):
        return taper
    if taper == "auto":
        ref_qubits = Molecule.from_name(
            name, entry.r_eq, basis=basis, active_electrons=active_electrons, active_orbitals=active_orbitals
        ).n_qubits
        be = backends.resolve(
            backend,
            n_qubits=ref_qubits,
            shots=vqe_options.get("shots"),
            seed=vqe_options.get("seed", 0),
            **dict(vqe_options.get("backend_options") or {}),
        )
        if not wants_taper(taper, be):
            return False
    ref = Molecule.from_name(
        name, entry.r_eq, basis=basis, active_electrons=active_electrons, active_orbitals=active_orbitals
    )
    return for_molecule(ref)


def scan(
    name: str,
    r_values,
    ansatz="uccsd",
    *,
    warm_start: bool = True,
    backend="auto",
    optimizer: str = "lbfgs",
    progress: bool = True,
    basis: str = "sto-3g",
    active_electrons="default",
    active_orbitals="default",
    executor=None,
    workers: int | None = None,
    **vqe_options,
) -> ScanResult:
    """VQE potential-energy scan of catalog molecule ``name`` over ``r_values`` (Angstrom).

    Args:
        name: catalog name (see :mod:`qml.chem.catalog`).
        r_values: 1-D sequence of distinct ``r`` values inside the catalog's physical range.
        ansatz: chemistry ansatz name (see :func:`qml.chem.vqe`).
        warm_start: start each point from the converged parameters of its solved neighbour.
        backend, optimizer, progress: as in :func:`qml.chem.vqe` (``auto`` is decided once).
        basis, active_electrons, active_orbitals: as in :meth:`Molecule.from_name`.
        executor: where the points run: None (here), a ``concurrent.futures.Executor``, a
            ``dask.distributed.Client``, ``"dask"`` or a scheduler address (see :mod:`qml.parallel`).
            Warm-started scans use at most two workers (the two outward chains); cold scans one
            per point. Results equal the serial scan's bit for bit (except ``wall_time``).
        workers: a local pool of this many processes instead of ``executor``.
        **vqe_options: passed to :func:`qml.chem.vqe` (``steps``, ``tol``, ``lr``, ansatz options,
            ``taper``). Tapered (``taper=True``, or ``"auto"`` on a sampling backend), every point uses
            the symmetry generators and sector of the equilibrium geometry (checked at each point; a
            :class:`~qml.chem.tapering.TaperingError` names the geometry where they stop holding).

    Returns:
        ScanResult: one :class:`ScanPoint` per ``r``, sorted by ``r``.

    Raises:
        ConfigurationError: unknown name, empty/duplicated/out-of-range ``r_values``, or an ``init``
            option (scans choose their own starting parameters).
    """
    entry = _catalog.get(name)
    if "init" in vqe_options:
        raise ConfigurationError("scan chooses starting parameters itself; use warm_start=True/False instead of init")
    r = np.asarray(r_values, dtype=float).ravel()
    if r.size == 0:
        raise ConfigurationError("r_values is empty; pass distances in Angstrom, e.g. numpy.linspace(0.5, 2.5, 9)")
    r = np.sort(r)
    if np.any(np.diff(r) == 0):
        raise ConfigurationError(f"r_values contains duplicates: {r.tolist()}")
    for x in r:
        entry.check_r(float(x))
    from .. import parallel

    parallel.check(executor, workers)
    vqe_options["taper"] = _scan_tapering(name, entry, backend, vqe_options, basis, active_electrons, active_orbitals)
    mols = [
        Molecule.from_name(
            name, float(x), basis=basis, active_electrons=active_electrons, active_orbitals=active_orbitals
        )
        for x in r
    ]
    points: list = [None] * len(r)
    be_name = backend
    from tqdm.auto import tqdm

    order = sweep_order(r, entry.r_eq)
    tasks = chains(order, warm_start)
    serial = executor is None and workers is None
    with parallel.one_thread():  # the same thread count as in a worker: the same bits
        for i, nb in tqdm(order if serial else order[:1], desc=f"scan {name}", disable=not progress):
            init = points[nb].params if (warm_start and nb is not None) else None
            kwargs = dict(ansatz=ansatz, backend=be_name, optimizer=optimizer, **vqe_options)
            points[i], used = _solve(mols[i], r[i], init, warm_start, kwargs)
            if be_name == "auto":
                be_name = used  # decide once per scan
    if not serial:
        kwargs = dict(ansatz=ansatz, backend=be_name, optimizer=optimizer, **vqe_options)
        start = order[0][0]
        jobs = [
            (c, {i: (mols[i], r[i]) for i, _ in c}, {start: points[start].params}, warm_start, kwargs) for c in tasks
        ]
        for c, solved in zip(
            tasks,
            parallel.map_tasks(
                _solve_chain, jobs, executor=executor, workers=workers, progress=progress, desc=f"scan {name}"
            ),
        ):
            for (i, _), point in zip(c, solved):
                points[i] = point
    ans_name = ansatz if isinstance(ansatz, str) else getattr(ansatz, "name", str(ansatz))
    return ScanResult(name=name, ansatz=ans_name, optimizer=optimizer, backend=str(be_name), points=points)
