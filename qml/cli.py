"""The ``qml`` command: ``qml demo | datasets | jobs | train`` on top of the public functions."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import warnings


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds ``(default: X)`` to every option's help, except where it says nothing: required
    options, on/off flags, and ``None`` defaults whose help already explains them (``None: ...``)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.required or action.nargs == 0 or (action.default is None and "None" in text):
            return text
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """Every ``qml`` parser and sub-parser shows defaults in its help."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def _demo(args) -> int:
    from .demo import run_demo
    from .plot.basic import CHEMICAL_ACCURACY_MHA, format_mha

    res = run_demo(
        epochs=args.epochs, backend=args.backend, out_dir=args.out, seed=args.seed, progress=not args.no_progress
    )
    ok = res["test_mae_mha"] < CHEMICAL_ACCURACY_MHA
    print(f"backend: {res['backend']}, optimizer: {res['optimizer']}")
    print(f"train MAE: {format_mha(res['train_mae_mha'])}   ({res['n_train']} geometries)")
    print(f"val MAE:   {format_mha(res['val_mae_mha'])}   ({res['n_val']} geometries)")
    print(
        f"test MAE:  {format_mha(res['test_mae_mha'])}   ({res['n_test']} held-out geometries, worst "
        f"{format_mha(res['test_max_mha'])})"
    )
    bar = f"chemical accuracy {CHEMICAL_ACCURACY_MHA} mHa"
    if ok:
        print(f"{bar}: reached, the test MAE is {CHEMICAL_ACCURACY_MHA / max(res['test_mae_mha'], 1e-9):.0f}x below it")
    else:
        print(f"{bar}: NOT reached on the test geometries; train longer (--epochs) or try another --seed")
    print(f"plot: {res['plot']}   ({res['seconds']:.0f} s)")
    return 0


# Sub-commands registered by other modules (each with ``add_subparser(sub)``). Their modules import
# only argparse at the top: torch, PennyLane and Qiskit load when a command runs, so every
# ``--help`` answers at once.
SUBCOMMAND_MODULES = ("qml.data.cli", "qml.runtime.cli", "qml.train.cli", "qml.backends.cli")


def build_parser() -> argparse.ArgumentParser:
    from .demo import DEMO_EPOCHS

    parser = Parser(prog="qml", description="Hybrid quantum-classical ML for molecular energies.")
    parser.add_argument("--version", action="version", version=f"qml {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    demo = sub.add_parser(
        "demo",
        help="train a small HybridModel on the H2 energy curve (local simulator)",
        description="Train HybridModel(1 -> 1, 3 qubits, 2 layers) on the shipped H2 energy "
        "curve with qml.fit's defaults (full-batch L-BFGS), print train, validation "
        "and test errors in mHa next to chemical accuracy (1.6 mHa), and write "
        "prediction.png and history.png.",
    )
    demo.add_argument("--epochs", type=int, default=DEMO_EPOCHS, help="L-BFGS steps (each up to 20 iterations)")
    demo.add_argument(
        "--backend", default="auto", help="where the circuit runs: a backend string, as listed by `qml backends`"
    )
    demo.add_argument("--out", default="qml-demo", help="folder for the plots")
    demo.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines")
    demo.set_defaults(func=_demo)
    for module in SUBCOMMAND_MODULES:
        # A missing module is skipped, an import error inside one is not hidden.
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).add_subparser(sub)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


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
