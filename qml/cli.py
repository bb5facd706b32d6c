"""The ``qml`` command: ``qml demo | datasets | jobs | train`` on top of the public functions."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import warnings


def _demo(args) -> int:
    from .demo import run_demo

    res = run_demo(epochs=args.epochs, backend=args.backend, out_dir=args.out, seed=args.seed,
                   progress=not args.no_progress)
    print(f"backend: {res['backend']}")
    print(f"train MAE: {res['train_mae_mha']:.2f} mHa")
    print(f"test MAE:  {res['test_mae_mha']:.2f} mHa   (chemical accuracy: 1.6 mHa)")
    print(f"plot: {res['plot']}   ({res['seconds']:.0f} s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qml", description="Hybrid quantum-classical ML for molecular energies.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="train a small HybridModel on the H2 energy curve (local simulator)")
    demo.add_argument("--epochs", type=int, default=200)
    demo.add_argument("--backend", default="auto")
    demo.add_argument("--out", default="qml-demo", help="folder for the plots (default: qml-demo)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(func=_demo)
    for module in ("qml.data.cli", "qml.runtime.cli", "qml.train.cli"):
        # Sub-commands of other modules register themselves; a missing module is skipped,
        # an import error inside one is not hidden.
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).add_subparser(sub)
    return parser


def main(argv=None) -> int:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, RuntimeError, FileNotFoundError) as exc:
        from .errors import QMLError

        if isinstance(exc, (QMLError, FileNotFoundError)):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    raise SystemExit(main())
