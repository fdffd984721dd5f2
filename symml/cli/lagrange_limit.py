"""``symml lagrange`` (candidate points as a table, ``--steps`` for the derivation) and
``symml limit``."""

from __future__ import annotations

import argparse

import sympy

from .calc import show


def _table(points: list[dict], f) -> str:
    """Candidate points as an aligned table in the language's syntax, f's value last."""
    from ..lang import to_text

    if not points:
        return "no candidate points"
    f_expr = f
    names = list(points[0])
    header = [str(n) for n in names] + ["f"]
    rows = []
    for p in points:
        value = f_expr.subs(p) if isinstance(f_expr, sympy.Basic) else ""
        rows.append([to_text(p[n]) for n in names] + [to_text(sympy.simplify(value)) if value != "" else ""])
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _cmd_lagrange(args):
    from .._convert import as_expr

    if args.steps:
        from ..steps.lagrange import lagrange as steps_lagrange

        d = steps_lagrange(args.expr, args.subject_to, args.vars, sense=args.sense)
        print(d.to_text(), end="")
        return 0
    from ..lagrange import lagrange

    points = lagrange(args.expr, args.subject_to, args.vars, sense=args.sense)
    print(_table(points, as_expr(args.expr)))
    return 0


def _cmd_limit(args):
    from ..calculus import limit

    print(show(limit(args.expr, args.var, args.point, args.dir), args.latex))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lagrange", help="candidate optima of a constrained problem (Lagrange / KKT)",
        description="Candidate points of a constrained optimum, one row each, e.g. "
        "symml lagrange 'x*y' --subject-to 'x^2 + y^2 == 1'",
    )  # fmt: skip
    p.add_argument("expr", help="the objective, e.g. 'x*y'")
    p.add_argument("--subject-to", dest="subject_to", nargs="+", required=True, metavar="CONSTRAINT",
                   help="constraints such as 'x^2 + y^2 == 1' or 'x + y <= 2'")  # fmt: skip
    p.add_argument("--vars", nargs="+", default=None, help="variables (default: all free symbols)")
    p.add_argument("--sense", choices=["min", "max"], default="min",
                   help="with inequalities: the optimum the KKT conditions describe")  # fmt: skip
    p.add_argument("--steps", action="store_true", help="show the step-by-step derivation")
    p.set_defaults(func=_cmd_lagrange)

    q = sub.add_parser(
        "limit", help="limit of an expression at a point",
        description="Limit of EXPR as VAR tends to POINT, e.g. symml limit 'sin(x)/x' x 0",
    )  # fmt: skip
    q.add_argument("expr")
    q.add_argument("var")
    q.add_argument("point", help="a number, an expression, inf or -inf (write -inf as =-inf or after --)")
    q.add_argument("--dir", choices=["+-", "+", "-"], default="+-",
                   help="two-sided (default), from above (+) or from below (-)")  # fmt: skip
    q.add_argument("--latex", action="store_true", help="print LaTeX")
    q.set_defaults(func=_cmd_limit)
