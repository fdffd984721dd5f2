"""The ``symml`` command. Subcommands mirror the Python API; each lives in its own module
with a ``register(subparsers)`` function that adds its parser and sets ``func``."""

from __future__ import annotations

import argparse
import importlib
import sys

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
    "symml.cli.prob",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symml",
        description="Exact derivations for the mathematics of machine learning.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"symml {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``symml`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except SymmlError as exc:
        print(f"symml: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("symml: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
