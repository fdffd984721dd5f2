"""``symml diff | grad | jacobian | hessian | taylor | integrate | simplify | run``."""

from __future__ import annotations

import argparse
import sys

import sympy

from .. import calculus
from .._tidy import tidy
from ..errors import ArgumentError, DerivationError
from ..lang import EvaluationRequest, load, to_latex, to_text


def show(value, latex: bool = False) -> str:
    """Text for one result: the language's own syntax (pasteable), or LaTeX."""
    if latex:
        return to_latex(value)
    if isinstance(value, sympy.MatrixBase) and value.shape[1] > 1 and value.shape[0] > 1:
        rows = ["[" + ", ".join(to_text(e) for e in value.row(i)) + "]" for i in range(value.rows)]
        return "[" + ",\n ".join(rows) + "]"
    return to_text(value)


def _vars(tokens):
    out = []
    for t in tokens:
        out.append(int(t) if t.isdigit() else t)
    return out


def _point(items, what="--at"):
    at = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ArgumentError(f"{what} takes name=value pairs such as x=0, got {item!r}")
        at[name.strip()] = value.strip()
    return at


def _cmd_diff(args):
    print(show(tidy(calculus.diff(args.expr, *_vars(args.vars)), args.simplify), args.latex))


def _cmd_grad(args):
    print(show(tidy(calculus.grad(args.expr, args.vars), args.simplify), args.latex))


def _cmd_jacobian(args):
    print(show(tidy(calculus.jacobian(args.expr, args.vars), args.simplify), args.latex))


def _cmd_hessian(args):
    print(show(tidy(calculus.hessian(args.expr, args.vars), args.simplify), args.latex))


def _cmd_taylor(args):
    print(show(calculus.taylor(args.expr, _point(args.at), args.order), args.latex))


def _cmd_integrate(args):
    if (args.lower is None) != (args.upper is None):
        raise ArgumentError("give both --from and --to for a definite integral")
    if args.lower is None:
        result = calculus.integrate(args.expr, args.var)
    else:
        lim = (args.var, args.lower, args.upper)
        try:
            result = calculus.integrate(args.expr, lim)
        except DerivationError as exc:
            from ._diverge import divergence_message

            why = divergence_message(args.expr, *lim)
            if why is None:
                raise
            raise DerivationError(why) from exc
        if isinstance(result, sympy.Expr) and result.has(sympy.nan, sympy.zoo):
            raise DerivationError(
                f"the integral of {args.expr} over {args.var} from {args.lower} to {args.upper} "
                f"does not exist (its value is undefined: {to_text(result)})"
            )
    print(show(tidy(result, args.simplify), args.latex))


def _cmd_simplify(args):
    print(show(calculus.simplify(args.expr), args.latex))


def evaluate_request(req: EvaluationRequest):
    """Compute ``evaluate(f, x = ...)`` numerically with a compiled function."""
    import numpy as np

    from ..compile import compile as _compile

    names = list(req.values)
    values = []
    for name, v in req.values.items():
        entries = list(v) if isinstance(v, sympy.MatrixBase) else [v]
        for e in entries:
            if not (isinstance(e, sympy.Expr) and e.is_number and e.is_real is not False):
                raise ArgumentError(
                    f"evaluate(..., {name} = {to_text(v)}): the value must be a number "
                    f"(or a vector of numbers), got {to_text(e)}"
                )
        try:
            if isinstance(v, sympy.MatrixBase):
                values.append(np.array([float(e) for e in v], dtype=float))
            else:
                values.append(float(v))
        except (TypeError, ValueError) as exc:
            raise ArgumentError(f"evaluate(..., {name} = ...): {exc}") from None
    f = _compile(req.expr, names)
    return f(*values)


def _format_number(x) -> str:
    import numpy as np

    arr = np.asarray(x)
    if arr.ndim == 0:
        return f"{float(arr):.15g}"
    return np.array2string(arr, precision=15, separator=", ")


def _cmd_run(args):
    prog = load(args.file)
    if not prog.outputs:
        print(f"# {args.file}: {len(prog.bindings)} definitions, no expression statements to show")
    for out in prog.outputs:
        print(f">>> {out.text}")
        if isinstance(out.value, EvaluationRequest):
            print(_format_number(evaluate_request(out.value)))
        else:
            print(show(tidy(out.value, args.simplify), args.latex))
        print()


def no_simplify(p) -> None:
    """The ``--no-simplify`` flag (sets ``args.simplify``)."""
    p.add_argument(
        "--no-simplify",
        dest="simplify",
        action="store_false",
        help="print the result as derived, without the default simplification",
    )


def register(sub: argparse._SubParsersAction) -> None:
    def add(name, func, help_, expr_help="expression in the symml language"):
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("expr", help=expr_help)
        p.set_defaults(func=func)
        return p

    def latex(p):
        p.add_argument("--latex", action="store_true", help="print LaTeX instead of symml text")
        no_simplify(p)

    p = add("diff", _cmd_diff, "derivative: symml diff 'x^2*sin(x)' x  (x 2 for the second)")
    p.add_argument("vars", nargs="+", help="variables, with an optional order after each")
    latex(p)
    p = add("grad", _cmd_grad, "gradient (a column vector)")
    p.add_argument("vars", nargs="+", help="variables or vector names")
    latex(p)
    p = add(
        "jacobian",
        _cmd_jacobian,
        "Jacobian of a vector '[f1, f2]'",
        "vector expression, e.g. '[x*y, x + y]'",
    )
    p.add_argument("vars", nargs="+")
    latex(p)
    p = add("hessian", _cmd_hessian, "Hessian matrix")
    p.add_argument("vars", nargs="+")
    latex(p)
    p = add("taylor", _cmd_taylor, "Taylor polynomial (multivariate)")
    p.add_argument("--at", nargs="+", required=True, metavar="NAME=VALUE", help="expansion point")
    p.add_argument("--order", type=int, default=2, help="highest total degree (default 2)")
    latex(p)
    p = add("integrate", _cmd_integrate, "integral, indefinite or with --from/--to")
    p.add_argument("var")
    p.add_argument("--from", dest="lower", help="lower limit (symml text)")
    p.add_argument("--to", dest="upper", help="upper limit (symml text)")
    latex(p)
    p = add("simplify", _cmd_simplify, "simplify an expression")
    latex(p)
    p = sub.add_parser(
        "run",
        help="run a .sml file and show each expression statement",
        description="Run a .sml program: every expression statement is shown with its result.",
    )
    p.add_argument("file")
    latex(p)
    p.set_defaults(func=_cmd_run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use the symml command")
