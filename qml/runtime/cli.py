"""``qml jobs list | show ID | fetch ID | estimate``: the job store from a terminal.

Registered by :mod:`qml.cli` through :func:`add_subparser`; every command returns an exit code.
Imports stay light until a command runs, so ``qml --help`` is fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def add_subparser(subparsers) -> argparse.ArgumentParser:
    """Add ``jobs`` to ``qml``'s sub-commands; ``args.func`` is :func:`run`."""
    jobs = subparsers.add_parser("jobs", help="IBM Quantum jobs recorded in $QML_HOME/jobs.sqlite")
    jobs.add_argument(
        "--store", default=None, help="job store file (None: $QML_HOME/jobs.sqlite, $QML_HOME defaulting to ~/.qml)"
    )
    sub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION")
    lst = sub.add_parser("list", help="newest jobs first")
    lst.add_argument("--run", default=None, help="only jobs of this run id")
    lst.add_argument("--limit", type=int, default=20, help="show at most this many jobs")
    lst.add_argument(
        "--no-check",
        action="store_true",
        help="do not contact IBM Quantum about PENDING jobs (they are still marked as unchecked)",
    )
    show = sub.add_parser("show", help="everything recorded about one job")
    show.add_argument("job_id", help="the job id, as `qml jobs list` prints it")
    fetch = sub.add_parser("fetch", help="get a job's result (from the store, or from IBM Quantum) and store it")
    fetch.add_argument("job_id", help="the job id, as `qml jobs list` prints it")
    fetch.add_argument("--out", default=None, help="also write the result arrays to this .npz file")
    fetch.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a running job")
    est = sub.add_parser("estimate", help="jobs, circuits, shots and QPU time of a planned hardware run")
    est.add_argument("--qubits", type=int, required=True, help="qubits of the quantum layer")
    est.add_argument("--layers", type=int, default=2, help="ansatz layers")
    est.add_argument("--embedding", default="angle", help="angle, amplitude, iqp or reupload")
    est.add_argument(
        "--ansatz", default="strongly_entangling", help="strongly_entangling, hardware_efficient or basic_entangler"
    )
    est.add_argument("--batch-size", type=int, required=True, help="samples per optimizer step")
    est.add_argument("--steps", type=int, required=True, help="optimizer steps of the whole run")
    est.add_argument("--shots", type=int, default=None, help="shots per circuit (None: the backend default, 1024)")
    est.add_argument(
        "--precision",
        type=float,
        default=None,
        help="target standard error per expectation value instead of --shots (None: use --shots)",
    )
    est.add_argument(
        "--gradient", default="parameter-shift", choices=["parameter-shift", "spsa"], help="gradient method on hardware"
    )
    jobs.set_defaults(func=run)
    return jobs


def run(args) -> int:
    """Run ``qml jobs ...``; returns the exit code (1 with a message on stderr for a user error)."""
    from ..errors import QMLError
    from .store import JobStore, default_path

    action = getattr(args, "jobs_command", None)
    if action is None:
        print("usage: qml jobs {list,show,fetch,estimate} ...  (see qml jobs --help)", file=sys.stderr)
        return 2
    try:
        if action == "estimate":
            return _estimate(args)
        store = JobStore.existing(args.store)  # read-only commands create no file
        if store is None:
            path = args.store or default_path()
            if action == "list":
                print(f"no jobs in {path}: there is no job store there yet (the first ibm: run creates it)")
                return 0
            if action == "show":
                print(f"error: no job {args.job_id!r}: there is no job store at {path}", file=sys.stderr)
                return 1
            return _fetch(None, args)
        if action == "list":
            notes = _reconcile(store, args)
            records = store.list(run_id=args.run, limit=args.limit)
            if not records:
                print(f"no jobs in {store.path}")
            for rec in records:
                note = notes.get(rec.job_id)
                print(rec.summary() + (f"  [{note}]" if note else ""))
            return 0
        if action == "show":
            rec = store.get(args.job_id)
            if rec is None:
                print(f"error: no job {args.job_id!r} in {store.path}; see `qml jobs list`", file=sys.stderr)
                return 1
            print(_describe(rec))
            return 0
        return _fetch(store, args)
    except QMLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _reconcile(store, args) -> dict:
    """Settle PENDING rows before listing them (see JobStore.reconcile); contact IBM Quantum only
    when a remote job is PENDING, credentials exist and ``--no-check`` was not given."""
    from .store import PENDING

    pending = store.list(run_id=args.run, status=PENDING, limit=1_000_000)
    service = None
    if any(not r.local for r in pending) and not args.no_check:
        service = _service()
    return store.reconcile(service=service, run_id=args.run)


def _service():
    """A QiskitRuntimeService from the user's credentials, or ``None`` when there are none or it fails."""
    from ..errors import CredentialsError
    from . import credentials as creds

    try:
        return creds.connect(creds.resolve_credentials())
    except CredentialsError:
        return None


def _describe(rec) -> str:
    lines = [
        f"job id:      {rec.job_id}",
        f"status:      {rec.status}" + (f" ({rec.error})" if rec.error else ""),
        f"backend:     {rec.backend}" + ("  (local testing mode)" if rec.local else ""),
        f"run:         {rec.run_id}  epoch {rec.epoch}  step {rec.step}",
        f"submitted:   {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(rec.created))}",
        f"updated:     {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(rec.updated))}",
        f"PUB shapes:  {rec.pub_shapes}  (outputs x circuit evaluations)",
        f"fingerprint: {rec.fingerprint}",
        f"options:     {json.dumps(rec.options, sort_keys=True)}",
    ]
    if rec.result is not None:
        lines.append("result:      " + ", ".join(f"{k} {v.shape}" for k, v in rec.result.items()))
    return "\n".join(lines)


def _fetch(store, args) -> int:
    import numpy as np

    from ..errors import JobFailedError
    from . import credentials as creds
    from .failures import wait_for

    rec = store.get(args.job_id) if store is not None else None
    if rec is not None and rec.result is not None:
        result = rec.result
    else:
        if rec is not None and rec.local:
            raise JobFailedError(
                f"job {args.job_id} ran in local testing mode and has no stored result (its process ended "
                "before it finished); run the step again",
                args.job_id,
            )
        service = creds.connect(creds.resolve_credentials())
        try:
            job = service.job(args.job_id)
        except Exception as exc:  # noqa: BLE001
            raise JobFailedError(
                f"IBM Quantum has no job {args.job_id!r} for this account: {creds.redact(str(exc))}", args.job_id
            ) from None
        res = wait_for(job, timeout=args.timeout)
        data = res[0].data
        result = {"evs": np.asarray(data.evs, dtype=np.float64), "stds": np.asarray(data.stds, dtype=np.float64)}
        if rec is not None:
            store.set_result(args.job_id, **result)
    print(f"job {args.job_id}: " + ", ".join(f"{k} shape {v.shape}" for k, v in result.items()))
    if args.out:
        np.savez(args.out, **result)
        print(f"wrote {args.out}")
    return 0


def _estimate(args) -> int:
    from ..circuits import make_spec
    from .cost import estimate

    spec = make_spec(n_qubits=args.qubits, embedding=args.embedding, ansatz=args.ansatz, layers=args.layers)
    est = estimate(
        spec,
        None,
        batch_size=args.batch_size,
        steps=args.steps,
        shots=args.shots,
        precision=args.precision,
        gradient=args.gradient,
    )
    print(est)
    return 0
