"""``symml matrix-grad`` and ``symml steps matrix-grad``: gradients in matrix symbols.

The function is language text that declares its symbols, as in
``symml matrix-grad "matrix A[n, n]; vector x[n]; x'*A*x" x``; ``--decl`` may carry the
declarations separately. The ``steps`` form is added to the ``symml steps`` group registered
by :mod:`symml.cli.steps` (this module must be registered after it).
"""

from __future__ import annotations

import argparse

from .calc import show


def _text(args) -> str:
    return f"{args.decl}\n{args.expr}" if args.decl else args.expr


def _cmd_matrix_grad(args) -> int:
    from ..matrixcalc import matrix_grad

    print(show(matrix_grad(_text(args), args.var), args.latex))
    return 0


def _cmd_steps_matrix_grad(args) -> int:
    from ..steps import matrix_grad
    from .steps import _show

    return _show(matrix_grad(_text(args), args.var), args)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "expr", help="a scalar in matrix symbols, with its declarations: "
        "\"matrix A[n, n]; vector x[n]; x'*A*x\""
    )  # fmt: skip
    p.add_argument("var", help="the matrix or vector symbol to differentiate by, e.g. x")
    p.add_argument("--decl", default="", help="declarations, e.g. 'matrix A[n, n]; vector x[n]'")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``symml matrix-grad`` and ``symml steps matrix-grad``."""
    help_ = "closed-form gradient in matrix/vector symbols of symbolic size"
    p = sub.add_parser("matrix-grad", help=help_, description=help_)
    _common(p)
    p.add_argument("--latex", action="store_true", help="print LaTeX")
    p.set_defaults(func=_cmd_matrix_grad)

    top = sub.choices.get("steps")
    if top is None:  # the steps command is not registered: nothing to extend
        return
    kinds = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    help_ = "matrix gradient by typed rules: trace, Jacobi, chain, product, inverse ..."
    p = kinds.add_parser("matrix-grad", help=help_, description=help_)
    _common(p)
    p.add_argument("--format", choices=["text", "md", "latex", "html"], default="text",
                   help="text (default), md (Markdown + LaTeX math), latex, html")  # fmt: skip
    p.add_argument("--detail", choices=["brief", "textbook", "full"], default="textbook",
                   help="how much to show (default textbook)")  # fmt: skip
    p.add_argument("--standalone", action="store_true", help="with --format latex: a whole document")
    p.add_argument("--verify", action="store_true", help="re-check every step numerically first")
    p.set_defaults(func=_cmd_steps_matrix_grad)
