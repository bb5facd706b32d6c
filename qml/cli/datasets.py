"""``qml datasets list | build | verify``: the command line of :mod:`qml.data`.

``qml/cli.py`` calls :func:`add_subparser` to register the ``datasets`` command and
:func:`run` to execute it; ``python -m qml.data ...`` runs the same commands stand-alone.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import QMLError


def _add_commands(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="datasets_command", metavar="{list,build,verify}")
    sub.required = True
    sub.add_parser(
        "list",
        help="list the shipped data sets",
        description="List the shipped data sets with their rows, features, target and description.",
    )
    b = sub.add_parser(
        "build",
        help="regenerate data files with PySCF",
        description="Recompute data sets with PySCF and write NAME.csv + NAME.json "
        "(into the source checkout's datasets/ directory unless --out is given).",
    )
    b.add_argument("names", nargs="*", metavar="NAME", help="data set(s) to build")
    b.add_argument("--all", action="store_true", help="build every data set")
    b.add_argument("--out", metavar="DIR", default=None, help="output directory (None: the checkout's datasets/)")
    b.add_argument(
        "--rows",
        type=int,
        default=None,
        help="number of rows (None: the shipped number; PES: grid points, distortions: first N samples)",
    )
    b.add_argument(
        "--no-cache",
        action="store_true",
        help="do not keep finished rows in OUT/.NAME.cache/ (a killed build then starts over)",
    )
    _add_parallel(b)
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    v = sub.add_parser(
        "verify",
        help="regenerate rows and compare them with the shipped files",
        description="Validate the file (hash, columns, values), recompute rows with PySCF and "
        "compare the energies with the file to --tol Hartree.",
    )
    v.add_argument("names", nargs="*", metavar="NAME", help="data set(s) to verify (none named: all)")
    v.add_argument(
        "--rows", default=None, metavar="START:STOP", help="rows to regenerate, e.g. 0:10 or ::50 (None: all rows)"
    )
    v.add_argument("--dir", default=None, metavar="DIR", help="directory with the files (None: the shipped data)")
    v.add_argument("--tol", type=float, default=1e-8, help="energy tolerance in Hartree")
    _add_parallel(v)
    v.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_parallel(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="compute rows in N local processes, one thread each (same file bit for bit; None: in this process)",
    )
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help='a Dask scheduler address, e.g. tcp://head:8786 (needs pip install "qml-hybrid[distributed]"; None: no Dask)',
    )


def add_subparser(subparsers) -> argparse.ArgumentParser:
    """Register the ``datasets`` command on ``subparsers`` (from ``parser.add_subparsers()``)."""
    parser = subparsers.add_parser(
        "datasets",
        help="list, build and verify the shipped molecular energy data sets",
        description="The molecular energy data sets shipped with qml (CSV + JSON sidecar in datasets/).",
    )
    _add_commands(parser)
    parser.set_defaults(func=run)
    return parser


def _run_options(args) -> dict:
    """Progress and where the rows run, as ``build`` and ``verify`` take them."""
    return dict(progress=not args.no_progress, executor=args.scheduler, workers=args.workers)


def run(args: argparse.Namespace) -> int:
    """Execute a parsed ``datasets`` command; returns the exit status (0 ok, 1 mismatch, 2 error)."""
    from ..data import builder, dataset, registry

    try:
        if args.datasets_command == "list":
            print(dataset.list_datasets())
            return 0
        if args.datasets_command == "build":
            if bool(args.names) == bool(args.all):
                print(
                    "qml datasets build: name one or more data sets, or pass --all; valid names: "
                    + ", ".join(registry.names()),
                    file=sys.stderr,
                )
                return 2
            names = registry.names() if args.all else [registry.get(n).name for n in args.names]
            for name in names:
                path = builder.build(
                    name,
                    rows=args.rows,
                    out_dir=args.out,
                    cache=not args.no_cache,
                    **_run_options(args),
                )
                print(f"wrote {path} and {path.with_suffix('.json').name}")
            return 0
        if args.datasets_command == "verify":
            names = [registry.get(n).name for n in args.names] or registry.names()
            status = 0
            for name in names:
                report = builder.verify(
                    name,
                    rows=args.rows,
                    root=args.dir,
                    tol=args.tol,
                    **_run_options(args),
                )
                print(report)
                status = status or (0 if report.ok else 1)
            return status
    except QMLError as exc:
        print(f"qml datasets {args.datasets_command}: {exc}", file=sys.stderr)
        return 2
    raise AssertionError(f"unhandled datasets command {args.datasets_command!r}")  # argparse prevents this


def main(argv=None) -> int:
    """``python -m qml.data {list,build,verify} ...``."""
    from . import Parser

    parser = Parser(prog="python -m qml.data", description="List, build and verify the qml data sets.")
    _add_commands(parser)
    return run(parser.parse_args(argv))
