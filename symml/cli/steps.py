"""``symml steps diff | grad | jacobian | hessian | taylor | integrate | lagrange``.

Each subcommand prints a step-by-step derivation as text (default), Markdown (``--format md``)
or LaTeX (``--format latex``; ``--standalone`` for a whole document) or HTML, at a detail level
(``--detail textbook`` by default, ``full`` or ``brief``). ``--verify`` re-checks every step
numerically first.
"""

from __future__ import annotations

import argparse

from ..errors import ArgumentError
from .calc import _point, _vars  # shared NAME=VALUE and VAR [ORDER] parsing


def _show(derivation, args) -> int:
    if args.verify:
        derivation.verify()
    detail = getattr(args, "detail", "textbook")  # kinds registered by other modules may lack --detail
    if args.format == "md":
        out = derivation.to_markdown(detail=detail)
    elif args.format == "latex":
        out = derivation.to_latex(standalone=args.standalone, detail=detail)
    elif args.format == "html":
        out = derivation.to_html(detail=detail)
    else:
        if args.standalone:
            raise ArgumentError("--standalone only applies to --format latex")
        out = derivation.to_text(detail=detail)
    print(out, end="" if out.endswith("\n") else "\n")
    return 0


def _cmd_diff(args):
    from ..steps.diff import diff

    return _show(diff(args.expr, *_vars(args.vars)), args)


def _cmd_grad(args):
    from ..steps.diff import grad

    return _show(grad(args.expr, args.vars), args)


def _cmd_jacobian(args):
    from ..steps.diff import jacobian

    return _show(jacobian(args.expr, args.vars), args)


def _cmd_hessian(args):
    from ..steps.diff import hessian

    return _show(hessian(args.expr, args.vars), args)


def _cmd_taylor(args):
    from ..steps.taylor import taylor

    return _show(taylor(args.expr, _point(args.at), args.order), args)


def _cmd_integrate(args):
    from ..steps.integrate import integrate

    if (args.lower is None) != (args.upper is None):
        raise ArgumentError("give both --from and --to for a definite integral")
    if args.lower is None:
        return _show(integrate(args.expr, args.var), args)
    return _show(integrate(args.expr, (args.var, args.lower, args.upper)), args)


def _cmd_lagrange(args):
    from ..steps.lagrange import lagrange

    return _show(lagrange(args.expr, args.subject_to, args.vars, sense=args.sense), args)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``symml steps ...`` to the ``symml`` command."""
    top = sub.add_parser(
        "steps", help="step-by-step derivations (text, Markdown or LaTeX)",
        description="Show a derivation one rule at a time, e.g. symml steps diff 'x^2*sin(x)' x",
    )  # fmt: skip
    steps = top.add_subparsers(dest="steps_command", metavar="KIND")
    steps.required = True

    def add(name, func, help_, expr_help="expression in the symml language"):
        p = steps.add_parser(name, help=help_, description=help_)
        p.add_argument("expr", help=expr_help)
        p.add_argument("--format", choices=["text", "md", "latex", "html"], default="text",
                       help="text (default), md (Markdown + LaTeX math), latex, html")  # fmt: skip
        p.add_argument("--detail", choices=["brief", "textbook", "full"], default="textbook",
                       help="textbook (default): what a textbook shows; full: every rule; "
                            "brief: the key rules, a line each")  # fmt: skip
        p.add_argument(
            "--standalone", action="store_true", help="with --format latex: a whole document"
        )
        p.add_argument(
            "--verify", action="store_true", help="re-check every step numerically first"
        )
        p.set_defaults(func=func)
        return p

    p = add("diff", _cmd_diff, "derivative by rules: symml steps diff 'x^2*sin(x)' x")
    p.add_argument("vars", nargs="+", help="variables, with an optional order after each (x 2)")
    p = add("grad", _cmd_grad, "gradient, one derivation per component")
    p.add_argument("vars", nargs="+", help="variables or vector names")
    p = add(
        "jacobian",
        _cmd_jacobian,
        "Jacobian of a vector '[f1, f2]'",
        "vector expression, e.g. '[x*y, x + y]'",
    )
    p.add_argument("vars", nargs="+", help="variables or vector names")
    p = add("hessian", _cmd_hessian, "Hessian, the Jacobian of the gradient")
    p.add_argument("vars", nargs="+", help="variables or vector names")
    p = add(
        "taylor", _cmd_taylor, "Taylor polynomial: symml steps taylor 'exp(x)*cos(y)' --at x=0 y=0"
    )
    p.add_argument("--at", nargs="+", required=True, metavar="NAME=VALUE", help="expansion point")
    p.add_argument("--order", type=int, default=2, help="highest total degree (default 2)")
    p = add("integrate", _cmd_integrate, "integral by rules, indefinite or with --from/--to")
    p.add_argument("var", help="variable of integration")
    p.add_argument("--from", dest="lower", help="lower limit (symml text)")
    p.add_argument("--to", dest="upper", help="upper limit (symml text)")
    p = add(
        "lagrange",
        _cmd_lagrange,
        "Lagrange multipliers / KKT: symml steps lagrange 'x*y' --subject-to 'x^2 + y^2 == 1'",
    )
    p.add_argument("--subject-to", dest="subject_to", nargs="+", required=True,
                   metavar="CONSTRAINT",
                   help="constraints such as 'x^2 + y^2 == 1' or 'x + y <= 2'")  # fmt: skip
    p.add_argument("--vars", nargs="+", default=None, help="variables (default: all free symbols)")
    p.add_argument("--sense", choices=["min", "max"], default="min",
                   help="with inequalities: the optimum the KKT conditions describe")  # fmt: skip
