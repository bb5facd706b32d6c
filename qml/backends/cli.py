"""``qml backends``: the backends users can name, read from the registered classes (the CLI's list)."""

from __future__ import annotations

import argparse


def add_subparser(subparsers) -> argparse.ArgumentParser:
    """Add ``backends`` to ``qml``'s sub-commands; ``args.func`` is :func:`run`."""
    cmd = subparsers.add_parser(
        "backends",
        help="list the backends a --backend option takes, with their capabilities",
        description="The backend strings --backend (and backend= in Python) take, one line each, read from "
        "the registered Backend classes (qml.backends.BACKENDS); --table prints the documentation's table.",
    )
    cmd.add_argument("--table", action="store_true", help="the Markdown table of docs/guides/backends.md")
    cmd.set_defaults(func=run)
    return cmd


def lines() -> list[str]:
    """One line per backend string: name, capabilities, what it is."""
    from . import BACKENDS, backend_class, family

    out = []
    for spelling, what in BACKENDS.items():
        caps = ",".join(sorted(backend_class(family(spelling)).capabilities))
        out.append(f"{spelling:<20} {caps:<20} {what}")
    return out


def run(args) -> int:
    from . import table

    print(table() if args.table else "\n".join(lines()))
    return 0
