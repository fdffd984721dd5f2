"""``symml stationary | convex`` and ``symml steps stationary | convex | dual``.

The ``steps`` forms are added to the ``symml steps`` group registered by
:mod:`symml.cli.steps` (this module must be registered after it).
"""

from __future__ import annotations

import argparse

from ..errors import ArgumentError
from .calc import show


def _row(pi) -> str:
    import numpy as np

    if isinstance(pi, np.ndarray):
        return "[" + ", ".join(f"{v:.10g}" for v in pi) + "]"
    return show(pi).replace("[[", "[").replace("]]", "]")


def _cmd_stationary(args) -> int:
    from ..markov import MarkovChain

    mc = MarkovChain(args.matrix)
    dists = mc.stationary()
    for pi in dists:
        print(_row(pi))
    if len(dists) > 1:
        print(
            f"({len(dists)} closed classes: every stationary distribution is a convex "
            "combination of these)"
        )
    if args.classes:
        for c in mc.classes():
            period = mc.period(c.states[0])
            kind = "closed" if c.closed else "transient"
            print(f"class {list(c.states)}: {kind}, period {period if period else 'undefined'}")
    return 0


def _cmd_convex(args) -> int:
    from ..convex import is_convex

    v = is_convex(args.expr, args.vars or None, args.domain)
    word = {True: "convex", False: "not convex", None: "undecided"}[v.convex]
    print(f"{word}: {v.reason}")
    return 0


def _show(derivation, args) -> int:
    from .steps import _show as show_derivation

    return show_derivation(derivation, args)


def _cmd_steps_stationary(args) -> int:
    from ..steps.markov import stationary

    return _show(stationary(args.expr), args)


def _cmd_steps_convex(args) -> int:
    from ..steps.convex import convex

    return _show(convex(args.expr, args.vars or None, args.domain), args)


def _cmd_steps_dual(args) -> int:
    from ..steps.convex import dual

    return _show(dual(args.expr, args.subject_to, args.vars), args)


def _steps_group(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    parser = sub.choices.get("steps")
    actions = [
        a for a in getattr(parser, "_actions", []) if isinstance(a, argparse._SubParsersAction)
    ]
    if not actions:  # pragma: no cover - registration order is fixed in symml.cli
        raise ArgumentError("symml.cli.markov_convex must be registered after symml.cli.steps")
    return actions[0]


def _common(p: argparse.ArgumentParser, func) -> None:
    p.add_argument(
        "--format",
        choices=["text", "md", "latex"],
        default="text",
        help="text (default), md (Markdown + LaTeX math), latex",
    )
    p.add_argument(
        "--standalone", action="store_true", help="with --format latex: a whole document"
    )
    p.add_argument("--verify", action="store_true", help="re-check every step numerically first")
    p.set_defaults(func=func)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``symml stationary``, ``symml convex`` and their ``symml steps`` forms."""
    p = sub.add_parser(
        "stationary",
        help="stationary distribution(s) of a Markov chain",
        description="symml stationary '[[1/2, 1/2], [1/4, 3/4]]'",
    )
    p.add_argument(
        "matrix", help="transition matrix, rows summing to 1: '[[1/2, 1/2], [1/4, 3/4]]'"
    )
    p.add_argument(
        "--classes",
        action="store_true",
        help="also list the communicating classes and their periods",
    )
    p.set_defaults(func=_cmd_stationary)
    p = sub.add_parser(
        "convex",
        help="is f convex? (Hessian test, with the reason)",
        description="symml convex 'log(exp(x) + exp(y))' x y",
    )
    p.add_argument("expr", help="scalar expression in the symml language")
    p.add_argument("vars", nargs="*", help="variables (default: every symbol)")
    p.add_argument(
        "--domain", nargs="+", default=None, metavar="BOUND", help="bounds such as 'x > 0'"
    )
    p.set_defaults(func=_cmd_convex)

    steps = _steps_group(sub)
    p = steps.add_parser("stationary", help="stationary distribution by Gauss-Jordan elimination")
    p.add_argument("expr", help="transition matrix, e.g. '[[1/2, 1/2], [1/4, 3/4]]'")
    _common(p, _cmd_steps_stationary)
    p = steps.add_parser("convex", help="the Hessian and the convexity test")
    p.add_argument("expr", help="scalar expression in the symml language")
    p.add_argument("vars", nargs="*", help="variables (default: every symbol)")
    p.add_argument(
        "--domain", nargs="+", default=None, metavar="BOUND", help="bounds such as 'x > 0'"
    )
    _common(p, _cmd_steps_convex)
    p = steps.add_parser("dual", help="Lagrange dual function, dual problem, weak/strong duality")
    p.add_argument("expr", help="objective to minimize (quadratic or linear)")
    p.add_argument(
        "--subject-to",
        dest="subject_to",
        nargs="+",
        required=True,
        metavar="CONSTRAINT",
        help="affine constraints such as 'x + y == 1', 'x >= 0'",
    )
    p.add_argument("--vars", nargs="+", default=None, help="variables (default: all free symbols)")
    _common(p, _cmd_steps_dual)
