"""The ``symml`` command. Subcommands mirror the Python API; each lives in its own module
with a ``register(subparsers)`` function that adds its parser and sets ``func``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .._limits import budgeted
from ..errors import SymmlError

# One module per group of subcommands; each defines register(subparsers).
_COMMAND_MODULES = [
    "symml.cli.calc",
    "symml.cli.steps",
    "symml.cli.fitcmd",
    "symml.cli.optim",
    "symml.cli.lagrange_limit",
    "symml.cli.serve",
    "symml.cli.linalg",
    "symml.cli.markov_convex",  # after symml.cli.steps: it extends "symml steps"
    "symml.cli.prob",
    "symml.cli.matrix_grad",  # after symml.cli.steps: it extends "symml steps"
]


def build_parser() -> argparse.ArgumentParser:
    from ._args import SymmlArgumentParser

    parser = SymmlArgumentParser(
        prog="symml",
        description="Exact derivations for the mathematics of machine learning.",
        epilog="Negative values are values: --from -inf, --x0 x=-1. A program argument "
        "ending in .sml is a file, anything else is symml text.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"symml {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _ascii_safe(stream) -> None:
    """Let a stream that cannot encode the derivations' Unicode (an ASCII terminal, a pipe
    under LANG=C) write readable ASCII instead of failing with UnicodeEncodeError."""
    try:
        utf8 = stream.encoding.lower().replace("-", "") == "utf8"
        if stream.errors in ("strict", "surrogateescape") and not utf8:
            from .._ascii import HANDLER  # readable ASCII ("integral", "<="), not \u escapes

            stream.reconfigure(errors=HANDLER)
    except (AttributeError, ValueError):  # not a TextIOWrapper (tests capture output)
        pass


def _quiet_broken_pipe() -> None:
    """The reader went away (``symml run ... | head``): stop quietly, as cat does."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


#: Long-running commands (a server) are not one computation: each of their requests has its
#: own limit, so the command itself runs without the budget.
_UNBUDGETED = {"serve"}


@budgeted("the symml command")
def _budgeted_run(args) -> int:
    return int(args.func(args) or 0)


def _run(args) -> int:
    if getattr(args, "command", None) in _UNBUDGETED:
        return int(args.func(args) or 0)
    return _budgeted_run(args)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``symml`` console script; returns the exit status.

    Errors caused by the input are one line on stderr (exit status 1); anything else is a
    bug in symml, reported as an internal error (exit status 2), never a traceback.
    """
    _ascii_safe(sys.stdout)
    _ascii_safe(sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = _run(args)
        sys.stdout.flush()
    except SymmlError as exc:
        print(f"symml: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("symml: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_broken_pipe()
        return 0
    except Exception as exc:  # noqa: BLE001 - the last resort: no traceback for users
        print(
            f"symml: internal error ({type(exc).__name__}: {exc}); this is a bug in symml, "
            "please report it with the command that caused it",
            file=sys.stderr,
        )
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
