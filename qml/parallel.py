"""Independent tasks on one machine or many: the one place in qml that knows executors.

Every parallel feature of qml (data-set builds, scans, Hamiltonian banks, training sweeps) is a
list of independent tasks handed to :func:`map_tasks`, which runs them

* serially in this process (``executor=None``, the default: nothing changes for a notebook user),
* in a local pool of ``workers=N`` processes with one BLAS/torch thread each, or
* on any :class:`concurrent.futures.Executor` or a ``dask.distributed.Client`` you pass as
  ``executor=`` (a string is a Dask scheduler address; ``"dask"`` starts a temporary
  ``LocalCluster``).

Results come back in input order. Every task runs with one thread (pyscf, torch, BLAS), in this
process too, so a result is bit-identical whatever executor, number of workers or completion
order produced it (on one machine: other CPUs may pick other BLAS kernels). With ``cache=`` a
directory, each finished result is stored under a hash of the task's content and the package
versions, so a killed build or sweep resumes without recomputing finished tasks.

We write no scheduler of our own: retries after a lost worker are Dask's (it reschedules the
tasks of a dead worker); a local pool we own is rebuilt once per broken pool, up to ``retries``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
import os
import pickle
import re
import socket
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError, ExecutorLostError, MissingDependencyError, StorageError, check_int

#: How to install what ``executor=<dask>`` needs.
EXTRA = 'pip install "qml-hybrid[distributed]"'

#: Environment variables that cap native thread pools (set to 1 in every worker).
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


# --------------------------------------------------------------------------- one thread per task
def _init_worker() -> None:
    """Initializer of our local pool: one BLAS/OpenMP/torch thread before anything is imported."""
    for var in THREAD_VARS:
        os.environ[var] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


@contextlib.contextmanager
def one_thread():
    """Run the body with one thread in every native pool (BLAS, OpenMP, pyscf, torch); restore after.

    Thread counts change the order of floating-point sums, hence the last bits of a result (FCI of
    LiH moves by 4e-15 Ha between one and two BLAS threads); every task of :func:`map_tasks` runs
    inside this context so that a result does not depend on where it was computed. Loaded BLAS
    and OpenMP libraries are limited with threadpoolctl; torch and pyscf through their own
    setters; libraries the task loads itself see ``*_NUM_THREADS=1``. Meant for one task per
    process at a time (process pools, Dask workers with one thread each, or serial).
    """
    from threadpoolctl import threadpool_limits

    env = {v: os.environ.get(v) for v in THREAD_VARS}
    torch, lib = sys.modules.get("torch"), sys.modules.get("pyscf.lib")
    old = (torch.get_num_threads() if torch else None, lib.num_threads() if lib else None)
    os.environ.update(dict.fromkeys(THREAD_VARS, "1"))
    if torch:
        torch.set_num_threads(1)
    if lib:
        lib.num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        for v, value in env.items():
            if value is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = value
        default = int(env["OMP_NUM_THREADS"] or os.cpu_count() or 1)
        torch_now, lib_now = sys.modules.get("torch"), sys.modules.get("pyscf.lib")
        if torch_now:
            torch_now.set_num_threads(old[0] if torch else default)
        if lib_now:
            lib_now.num_threads(old[1] if lib else default)


def _call(fn, item):
    """What a worker runs for one task."""
    with one_thread():
        return fn(item)


# --------------------------------------------------------------------------- content keys and the cache
def _canonical(value):
    """A JSON-able, exact and order-stable form of ``value`` (floats as hex, arrays with dtype)."""
    import numbers

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return {"float": float(value).hex()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {"dict": sorted(([_canonical(k), _canonical(v)] for k, v in value.items()), key=json.dumps)}
    if hasattr(value, "__array__") and hasattr(value, "dtype"):
        import numpy as np

        a = np.ascontiguousarray(np.asarray(value))
        return {"array": str(a.dtype), "shape": list(a.shape), "sha256": hashlib.sha256(a.tobytes()).hexdigest()}
    raise TypeError(
        f"cannot build a cache key from a {type(value).__name__}; pass key=fn(item) returning "
        "plain numbers, strings, lists, dicts or arrays that describe the task's content"
    )


def versions() -> dict:
    """Versions that enter every content key: qml and the numerical packages results depend on."""
    from importlib import metadata

    from . import __version__

    out = {"qml": __version__}
    for dist in ("pyscf", "numpy", "torch", "pennylane"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def task_key(content) -> str:
    """sha256 of a task's ``content`` (geometry, basis, active space, method, ...) and :func:`versions`."""
    text = json.dumps([_canonical(content), versions()], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


#: What every task-cache file says it is (a file without it is not used).
CACHE_FORMAT = "qml.task-cache/2"


def _encode(value):
    """``value`` as a JSON tree that rebuilds it exactly (floats as hex, arrays as raw bytes).

    Only data: None, bool, int, float, complex, str, lists, tuples, dicts, numpy arrays and scalars
    (not of object dtype). Decoding it can run no code.
    """
    import base64
    import numbers

    import numpy as np

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic) or isinstance(value, np.ndarray):
        a = np.asarray(value)
        if a.dtype.hasobject or a.dtype.fields is not None:
            raise TypeError(f"an array of dtype {a.dtype} cannot be cached (only plain numeric arrays)")
        data = base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()
        tag = "scalar" if isinstance(value, np.generic) else "array"
        return {tag: a.dtype.str, "shape": list(a.shape), "data": data}
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return {"float": float(value).hex()}
    if isinstance(value, numbers.Complex):
        return {"complex": [float(value.real).hex(), float(value.imag).hex()]}
    if isinstance(value, list):
        return {"list": [_encode(v) for v in value]}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise TypeError(
        f"a task result of type {type(value).__name__} cannot be stored in a cache; cached tasks must return "
        "numbers, strings, lists, tuples, dicts or numpy arrays (run without cache= for other results)"
    )


def _decode(tree):
    """Inverse of :func:`_encode`; raises ValueError on anything it did not write."""
    import base64

    import numpy as np

    if tree is None or isinstance(tree, (bool, str, int)):
        return tree
    if not isinstance(tree, dict) or not tree:
        raise ValueError(f"unexpected {type(tree).__name__} in a cache entry")
    tag = next(iter(tree))
    if tag == "float" and len(tree) == 1:
        return float.fromhex(tree["float"])
    if tag == "complex" and len(tree) == 1:
        re, im = tree["complex"]
        return complex(float.fromhex(re), float.fromhex(im))
    if tag == "list" and len(tree) == 1:
        return [_decode(v) for v in tree["list"]]
    if tag == "tuple" and len(tree) == 1:
        return tuple(_decode(v) for v in tree["tuple"])
    if tag == "dict" and len(tree) == 1:
        return {_decode(k): _decode(v) for k, v in tree["dict"]}
    if tag in ("array", "scalar") and set(tree) == {tag, "shape", "data"}:
        dtype = np.dtype(tree[tag])
        if dtype.hasobject or dtype.fields is not None:
            raise ValueError(f"dtype {dtype} is not allowed in a cache entry")
        a = np.frombuffer(base64.b64decode(tree["data"], validate=True), dtype=dtype).reshape(tree["shape"]).copy()
        return a[()] if tag == "scalar" else a
    raise ValueError(f"unknown entry {tag!r} in a cache entry")


def _digest(tree) -> str:
    return hashlib.sha256(json.dumps(tree, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class TaskCache:
    """Finished task results on disk, one JSON file per content key, verified on read, written atomically.

    Each file ``KEY.json`` holds the result as plain data (numbers as exact hex floats, arrays as
    raw bytes with their dtype: nothing in it can run code), the key it was stored under and a
    SHA-256 of the content. A file that fails any check (damaged, truncated, edited, stored under
    another key) is never used: the task is recomputed with a ``RuntimeWarning`` naming the file,
    and the file rewritten. Pickle files left by older qml versions (``*.pkl``) are ignored with a
    warning (never unpickled) and their tasks recomputed. ``clear()`` is the one way to empty it;
    deleting the folder does the same.

    Attributes:
        path: the folder.
        hits, misses: lookups answered from disk / not found, since construction.
        damaged: entries found unusable (and recomputed), since construction.

    Raises:
        ConfigurationError: ``path`` exists and is not a folder.
    """

    def __init__(self, path):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ConfigurationError(
                f"cache={str(self.path)!r} is a file, not a folder; pass a folder path for the task cache "
                "(it is created if missing), or cache=None"
            )
        self.hits = self.misses = self.damaged = 0
        self._warned_pickles = False

    def _file(self, key: str) -> Path:
        return self.path / f"{key}.json"

    def _old_pickles(self) -> None:
        if self._warned_pickles or not self.path.is_dir():
            return
        self._warned_pickles = True
        old = list(self.path.glob("*.pkl"))
        if old:
            warnings.warn(
                f"{len(old)} pickle file(s) from an older qml in the task cache {self.path} are ignored (pickles "
                "are never loaded: they can run code); their tasks are recomputed. cache.clear() removes them.",
                RuntimeWarning,
                stacklevel=3,
            )

    def get(self, key: str):
        """``(True, result)`` if ``key`` is stored and verified, else ``(False, None)``.

        A stored entry that fails verification counts as a miss (and in ``damaged``), with a warning.
        """
        self._old_pickles()
        path = self._file(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self.misses += 1
            return False, None
        try:
            entry = json.loads(data)
            if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT:
                raise ValueError("not a qml task-cache file")
            if entry.get("key") != key:
                raise ValueError("stored under another key")
            if entry.get("sha256") != _digest(entry.get("value")):
                raise ValueError("content does not match its SHA-256")
            value = _decode(entry["value"])
        except (ValueError, TypeError, KeyError, OverflowError, UnicodeDecodeError) as exc:
            self.misses += 1
            self.damaged += 1
            warnings.warn(
                f"task cache entry {path} is not usable ({exc}); recomputing it", RuntimeWarning, stacklevel=3
            )
            return False, None
        self.hits += 1
        return True, value

    def put(self, key: str, value) -> None:
        """Store ``value`` under ``key`` (temporary file + rename: never half-written).

        Raises:
            TypeError: ``value`` holds something other than plain data (see :func:`_encode`).
            StorageError: the file could not be written (disk full, ...); an older entry stays intact.
        """
        tree = _encode(value)
        blob = json.dumps(
            {"format": CACHE_FORMAT, "key": key, "sha256": _digest(tree), "value": tree}, separators=(",", ":")
        ).encode()
        tmp = None
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.path)
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, self._file(key))
        except OSError as exc:
            if tmp is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            raise StorageError(
                exc.errno,
                f"cannot write to the task cache {self.path} ({exc.strerror or exc}); entries already stored are "
                "intact: free space (or pass another cache folder) and run again to resume",
            ) from exc
        except BaseException:
            if tmp is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            raise

    def __len__(self) -> int:
        return len(list(self.path.glob("*.json"))) if self.path.is_dir() else 0

    def clear(self) -> None:
        """Delete every stored result, old pickle files included (and the folder when left empty)."""
        if self.path.is_dir():
            for pattern in ("*.json", "*.pkl", ".*.tmp"):
                for f in self.path.glob(pattern):
                    f.unlink()
            with contextlib.suppress(OSError):
                self.path.rmdir()

    def __repr__(self) -> str:
        return f"TaskCache({str(self.path)!r}, {len(self)} results)"


def as_cache(cache) -> TaskCache | None:
    """``None``/``False`` -> no cache; a path -> :class:`TaskCache` there; a TaskCache as is.

    Raises:
        TypeError: anything else.
        ConfigurationError: a path that exists and is not a folder.
    """
    if cache is None or cache is False:
        return None
    if isinstance(cache, TaskCache):
        return cache
    if isinstance(cache, (str, os.PathLike)):
        return TaskCache(cache)
    raise TypeError(f"cache must be None, a folder path or a qml.parallel.TaskCache, got {type(cache).__name__}")


# --------------------------------------------------------------------------- executors
def _is_dask_client(obj) -> bool:
    return type(obj).__module__.split(".")[0] == "distributed" and hasattr(obj, "submit") and hasattr(obj, "gather")


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError(
            f"running on Dask needs dask.distributed, which is not installed; install it with {EXTRA}"
        ) from None
    return distributed


def _local_pool(workers: int) -> cf.ProcessPoolExecutor:
    """``workers`` fresh processes (spawned: no inherited thread pools), one thread each."""
    import multiprocessing

    return cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker)


#: Schemes of a Dask scheduler address qml accepts (``SCHEME://HOST:PORT``).
SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_ADDRESS = re.compile(r"(?P<scheme>[a-z]+)://(?P<host>\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):(?P<port>\d{1,5})/?")
_FORMS = (
    "None (serial, here), 'dask' (a temporary local Dask cluster), a Dask scheduler address with scheme and port "
    "such as 'tcp://head:8786', a dask.distributed.Client, or a concurrent.futures.Executor (for a local process "
    "pool pass workers=N instead)"
)


def connect_timeout() -> float:
    """Seconds allowed to reach a Dask scheduler: ``$QML_CONNECT_TIMEOUT`` or 5.

    Raises:
        ConfigurationError: the variable is not a positive number.
    """
    text = os.environ.get("QML_CONNECT_TIMEOUT")
    if text is None:
        return 5.0
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise ConfigurationError(f"QML_CONNECT_TIMEOUT must be a positive number of seconds, got {text!r}")
    return value


def _parse_address(executor: str) -> tuple[str, str, int]:
    m = _ADDRESS.fullmatch(executor.strip())
    if m is None or m["scheme"] not in SCHEMES or not 0 < int(m["port"]) < 65536:
        raise ConfigurationError(f"executor={executor!r} is not an executor qml knows; pass {_FORMS}")
    return m["scheme"], m["host"].strip("[]"), int(m["port"])


def _reach(executor: str, timeout: float) -> None:
    """Open (and close) a TCP connection to the scheduler's port, within ``timeout`` seconds."""
    _, host, port = _parse_address(executor)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot reach the Dask scheduler at {executor!r} within {timeout:g} s ({exc.strerror or exc}); check "
            "that the scheduler runs and the address is right (set QML_CONNECT_TIMEOUT=seconds to wait longer)"
        ) from None


def check(executor=None, workers=None) -> None:
    """Validate ``executor=``/``workers=`` before expensive work, starting nothing.

    A scheduler address is checked for its form and then reached (one TCP connection, closed at
    once) within :func:`connect_timeout` seconds.

    Raises:
        the errors of :func:`runner`.
    """
    if workers is not None:
        check_int("workers", workers, 1)
    if executor is None:
        return
    if isinstance(executor, str):
        if executor != "dask":
            _parse_address(executor)
        _import_distributed()
        if workers is not None and executor != "dask":
            raise ConfigurationError(
                f"workers={workers} cannot resize the Dask cluster at {executor!r}; "
                "size it where it is started (or pass executor='dask', workers=N)"
            )
        if executor != "dask":
            _reach(executor, connect_timeout())
        return
    if not (_is_dask_client(executor) or isinstance(executor, cf.Executor)):
        raise TypeError(f"executor must be {_FORMS}; got {type(executor).__name__}")
    if workers is not None:
        raise ConfigurationError("pass either executor= or workers=, not both: an executor brings its own workers")
    if _is_dask_client(executor) and getattr(executor, "status", "running") in ("closed", "closing"):
        raise ConfigurationError("executor is a dask.distributed.Client that is closed; pass a running client")


@dataclass
class Runner:
    """How tasks are run: ``kind`` is ``"serial"``, ``"pool"`` (our local pool), ``"executor"`` or ``"dask"``."""

    kind: str
    target: object = None
    workers: int | None = None


@contextlib.contextmanager
def runner(executor=None, workers=None):
    """Resolve ``executor=``/``workers=`` into a :class:`Runner`; close what this call started.

    Args:
        executor: None (serial, in this process), a :class:`concurrent.futures.Executor`, a
            ``dask.distributed.Client``, ``"dask"`` (a temporary ``LocalCluster`` of ``workers``
            processes, one thread each) or a Dask scheduler address such as ``"tcp://head:8786"``.
        workers: with ``executor=None``: a local pool of this many processes, one thread each;
            with ``executor="dask"``: its number of workers (default: CPU count).

    Raises:
        TypeError: ``executor`` of another type, or ``workers`` not an integer.
        ConfigurationError: a string that is neither ``"dask"`` nor ``SCHEME://HOST:PORT``, a
            scheduler that cannot be reached within :func:`connect_timeout` seconds, ``workers`` < 1,
            or ``workers`` with an executor that has its own.
        MissingDependencyError: a Dask executor was asked for and dask.distributed is not installed.
    """
    check(executor, workers)
    workers = None if workers is None else int(workers)
    if executor is None:
        if workers is None:
            yield Runner("serial")
            return
        run = Runner("pool", _local_pool(workers), workers)
        try:
            yield run
        finally:
            run.target.shutdown(wait=True, cancel_futures=True)  # the pool in use (rebuilt after a crash)
        return
    if isinstance(executor, str):
        distributed = _import_distributed()
        if executor == "dask":
            cluster = distributed.LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            client = distributed.Client(cluster)
            try:
                yield Runner("dask", client, workers)
            finally:
                client.close()
                cluster.close()
            return
        timeout = connect_timeout()
        try:
            client = distributed.Client(executor, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ConfigurationError(
                f"cannot connect to the Dask scheduler at {executor!r} within {timeout:g} s ({exc}); check that "
                "the scheduler runs and the address is right (set QML_CONNECT_TIMEOUT=seconds to wait longer)"
            ) from None
        try:
            yield Runner("dask", client)
        finally:
            client.close()
        return
    yield Runner("dask" if _is_dask_client(executor) else "executor", executor)


def _check_picklable(fn, name: str) -> None:
    try:
        pickle.dumps(fn)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise TypeError(
            f"{name} cannot be sent to worker processes ({exc}); define it with `def` at module level "
            "(not a lambda or a function inside another function), or pass a Dask client, which uses cloudpickle"
        ) from None


# --------------------------------------------------------------------------- the map
def map_tasks(
    fn: Callable,
    items: Iterable,
    *,
    executor=None,
    workers=None,
    cache=None,
    key=None,
    progress: bool = False,
    desc: str = "tasks",
    retries: int = 2,
) -> list:
    """``[fn(item) for item in items]``, run by the chosen executor, in input order.

    Args:
        fn: a function of one argument; for process pools, a module-level function.
        items: the tasks' inputs (picklable).
        executor, workers: where to run (see :func:`runner`); default serial in this process.
        cache: None, a folder, or a :class:`TaskCache`: finished results are stored there as they
            arrive and looked up before anything runs.
        key: ``key(item) -> content`` describing a task (geometry, basis, active space, method...);
            hashed with :func:`versions`. Default: the item itself. Needed only with ``cache``.
        progress: show a tqdm bar over tasks.
        desc: the bar's label.
        retries: how often a local pool of ours is rebuilt after a worker died (Dask reschedules
            lost tasks itself).

    Returns:
        list of results, ``results[i] = fn(items[i])``, bit-identical to a serial run.

    Raises:
        TypeError / ConfigurationError / MissingDependencyError: see :func:`runner`; a
            ``fn`` that cannot be pickled for a process pool; a cache key that cannot be built.
        Exception: the first exception raised by a task (the others are cancelled; results
            already in the cache stay there).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    items = list(items)
    check(executor, workers)
    if workers is not None and executor is None:
        _check_picklable(fn, "fn")
    store = as_cache(cache)
    keys = [task_key(key(x) if key is not None else x) for x in items] if store is not None else None
    results: list = [None] * len(items)
    todo = []
    for i in range(len(items)):
        hit, value = store.get(keys[i]) if store is not None else (False, None)
        if hit:
            results[i] = value
        else:
            todo.append(i)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(items), initial=len(items) - len(todo), desc=desc, unit="task", dynamic_ncols=True)

    def done(i, value):
        results[i] = value
        if store is not None:
            store.put(keys[i], value)
        if bar is not None:
            bar.update(1)

    try:
        if todo:
            with runner(executor, workers) as run:
                if run.kind == "serial":
                    for i in todo:
                        done(i, _call(fn, items[i]))
                elif run.kind == "dask":
                    _map_dask(run.target, fn, items, todo, done)
                else:
                    _map_futures(run, fn, items, todo, done, retries if run.kind == "pool" else 0)
    finally:
        if bar is not None:
            bar.close()
    return results


def _map_dask(client, fn, items, todo, done) -> None:
    """Submit ``todo`` to Dask, hand results to ``done`` as they arrive.

    A gathered result is released at once, so a worker that dies later costs only the tasks it
    was running (Dask reschedules those). A lost scheduler raises :class:`ExecutorLostError`.
    """
    import uuid

    from distributed import as_completed

    tag = uuid.uuid4().hex[:8]
    futures = {client.submit(_call, fn, items[i], pure=False, key=f"qml-task-{tag}-{i}"): i for i in todo}
    finished = 0
    try:
        for fut in as_completed(futures):
            try:
                value = fut.result()
            except Exception as exc:
                if _scheduler_lost(client, exc):
                    why = " ".join(str(exc).split())
                    raise ExecutorLostError(
                        f"lost the Dask scheduler after {finished} of {len(todo)} tasks ({type(exc).__name__}: "
                        f"{why}); finished results are kept when a cache= is given: run again to compute only "
                        "the rest"
                    ) from exc
                raise
            done(futures[fut], value)
            finished += 1
            client.cancel([fut])  # release the result on its worker: never recomputed if that worker dies
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(futures))


def _scheduler_lost(client, exc) -> bool:
    """Whether ``exc`` (raised by a future's result) means the scheduler went away."""
    from distributed.client import FutureCancelledError

    if isinstance(exc, (OSError, TimeoutError)) and type(exc).__module__.split(".")[0] in ("distributed", "builtins"):
        return getattr(client, "status", "running") != "running" or "comm" in type(exc).__name__.lower()
    if isinstance(exc, (FutureCancelledError, cf.CancelledError)):
        return True
    return getattr(client, "status", "running") != "running"


def _map_futures(run, fn, items, todo, done, retries) -> None:
    pool = run.target
    pending = list(todo)
    while pending:
        futures = {pool.submit(_call, fn, items[i]): i for i in pending}
        try:
            for fut in cf.as_completed(futures):
                done(futures[fut], fut.result())
                pending.remove(futures[fut])
        except cf.process.BrokenProcessPool:
            if retries <= 0 or run.kind != "pool":
                raise
            retries -= 1
            pool.shutdown(wait=True, cancel_futures=True)
            pool = run.target = _local_pool(run.workers)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
