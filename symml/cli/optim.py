"""``symml minimize``: numeric optimization with exact derivatives from the command line.

    symml minimize "(1 - x)^2 + 100*(y - x^2)^2" --x0 x=-1.2 y=1 --method adam --lr 0.01
    symml minimize "x*y" --x0 x=1 y=0 --method slsqp -c "x^2 + y^2 == 1"
    symml minimize "(1 - x)^2 + 100*(y - x^2)^2" --x0 x=-1.2 y=1 --method gd,momentum,adam \\
        --lr 0.001 --max-iter 3000 --plot paths.png

The objective may also be a ``.sml`` file: ``--objective NAME`` picks the binding to minimize
(default ``loss``), and its declared parameters give the start values and bounds unless
``--x0`` / ``--bounds`` say otherwise.
"""

from __future__ import annotations

import argparse

from ..errors import ArgumentError

#: exit status when a run finished without converging (diverged, iteration limit...)
NOT_CONVERGED = 2


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ArgumentError(f"{what}: {text!r} is not a number") from None


def _value(text: str, what: str):
    """``1.5`` -> float, ``1,2,3`` or ``[1, 2, 3]`` -> array (for a vector)."""
    import numpy as np

    t = text.strip()
    if t.startswith("[") and t.endswith("]"):
        t = t[1:-1]
    if "," in t:
        return np.array([_number(p.strip(), what) for p in t.split(",") if p.strip()])
    return _number(t, what)


def _pairs(items, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ArgumentError(f"{what} takes name=value pairs such as x=0, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def _bounds(items) -> dict[str, tuple]:
    """``x=0:1``, ``y=0:`` (open above), ``z=:5`` (open below)."""
    out = {}
    for name, text in _pairs(items, "--bounds").items():
        low, sep, high = text.partition(":")
        if not sep:
            raise ArgumentError(f"--bounds takes name=low:high (a side may be empty), got {text!r}")
        out[name] = (
            None if not low.strip() else _number(low, "--bounds"),
            None if not high.strip() else _number(high, "--bounds"),
        )
    return out


def _load_objective(args):
    """The objective and defaults from a .sml file, or the expression text itself."""
    from ._args import read_source

    text, from_file = read_source(args.expr, "objective")
    if from_file:
        from ..lang import parse

        prog = parse(text)
        try:
            objective = prog[args.objective]
        except (KeyError, Exception) as exc:  # noqa: BLE001 - reported as a SymmlError below
            raise ArgumentError(
                f"{args.expr} has no binding named {args.objective!r}; choose one with "
                "--objective"
            ) from exc
        x0 = {}
        bounds = {}
        free = {getattr(s, "vector", None) or s.name for s in objective.free_symbols}
        for name, decl in prog.params.items():
            if name in free:
                x0[name] = decl.init
                if decl.bounds is not None and tuple(decl.bounds) != (None, None):
                    bounds[name] = tuple(decl.bounds)
        return objective, x0, bounds
    return text, {}, {}


def _cmd_minimize(args) -> int:
    from ..optimize import minimize
    from ..optimize.registry import get_method

    if args.plot:  # fail before a long run, not after it
        from ..optimize.plot import _figure_class

        _figure_class()
    objective, x0, bounds = _load_objective(args)
    for name, value in _pairs(args.x0, "--x0").items():
        x0[name] = _value(value, f"--x0 {name}")
    if not x0:
        raise ArgumentError("give start values with --x0 name=value ... (e.g. --x0 x=-1.2 y=1)")
    bounds.update(_bounds(args.bounds))
    data = None
    if args.data:
        from .fitcmd import read_csv

        data = read_csv(args.data)
    options = {
        k: (v if k in ("subproblem", "hessian") else _number(v, f"--option {k}"))
        for k, v in _pairs(args.option, "--option").items()
    }
    reg = {}
    if args.l1 is not None:
        reg["l1"] = args.l1
    if args.l2 is not None:
        reg["l2"] = args.l2
    if args.method is None:  # the default follows the problem
        args.method = "slsqp" if args.constraint else "lbfgs" if (bounds or args.l1) else "bfgs"
    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    if not methods:
        raise ArgumentError("--method needs at least one method name")
    kinds = [get_method(m).kind for m in methods]  # unknown names fail before any run
    valid = set().union(*(_option_names(m) for m in methods))
    for k in options:
        if k not in valid:
            raise ArgumentError(
                f"unknown option {k!r} for {', '.join(methods)}; valid options: "
                f"{', '.join(sorted(valid)) or 'none'}"
            )

    results = []
    for m, kind in zip(methods, kinds, strict=True):
        first = kind == "first-order"
        r = minimize(
            objective,
            x0,
            m,
            data=data,
            constraints=args.constraint or (),
            bounds=bounds or None,
            regularization=reg or None,
            lr=args.lr if first else None,
            max_iter=args.max_iter,
            epochs=args.epochs if first else None,
            tol=args.tol,
            seed=args.seed,
            progress=args.progress,
            options={k: v for k, v in options.items() if k in _option_names(m)} or None,
        )
        results.append(r)
        if len(methods) > 1:
            print(f"== {m} ==")
        print(r.report())
    if args.plot:
        from ..optimize.plot import save_plot

        save_plot(results, args.plot)
        print(f"plot written to {args.plot}")
    return 0 if all(r.success for r in results) else NOT_CONVERGED


def _option_names(method: str) -> set[str]:
    from ..optimize.first_order import FIRST_ORDER
    from ..optimize.scipy_methods import SCIPY_METHODS

    if method in FIRST_ORDER:
        return set(FIRST_ORDER[method])
    return set(SCIPY_METHODS[method]["options"])


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``minimize`` subcommand."""
    help_ = "minimize an objective with exact derivatives (first-order methods or SciPy)"
    p = sub.add_parser(
        "minimize",
        help=help_,
        description=help_ + ". Exit status 2 when a run did not converge.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            '  symml minimize "(1 - x)^2 + 100*(y - x^2)^2" --x0 x=-1.2 y=1 --method adam '
            "--lr 0.01 --max-iter 20000\n"
            '  symml minimize "x*y" --x0 x=1 y=0 --method slsqp -c "x^2 + y^2 == 1"\n'
            '  symml minimize "x^2 + 10*y^2" --x0 x=2 y=1 --method gd,momentum,adam '
            "--lr 0.05 --plot paths.png"
        ),
    )
    p.add_argument("expr", help="objective in the symml language, or a .sml file")
    p.add_argument(
        "--data",
        metavar="FILE.csv",
        help="CSV data (header row of column names): the objective is written for one row "
        "and its mean over the rows is minimized",
    )
    p.add_argument("--x0", nargs="+", metavar="NAME=VALUE", help="start values (a vector: w=1,2,3)")
    p.add_argument(
        "--method",
        default=None,
        help="method name, or several separated by commas to compare (default: bfgs; "
        "lbfgs with bounds or --l1, slsqp with constraints)",
    )
    p.add_argument("--objective", default="loss", help="binding to minimize in a .sml file")
    p.add_argument(
        "-c",
        "--constraint",
        action="append",
        metavar="RELATION",
        help="constraint such as 'x^2 + y^2 == 1' or 'x + y <= 2' (repeatable)",
    )
    p.add_argument(
        "--bounds", nargs="+", metavar="NAME=LOW:HIGH", help="bounds, a side may be empty"
    )
    p.add_argument("--lr", type=float, help="learning rate (first-order methods)")
    p.add_argument("--max-iter", type=int, help="maximum number of parameter updates")
    p.add_argument("--epochs", type=int, help="passes over the data instead of --max-iter")
    p.add_argument("--tol", type=float, help="stopping tolerance")
    p.add_argument("--seed", type=int, help="seed of sgd/minibatch shuffling")
    p.add_argument("--l1", type=float, help="L1 penalty strength on every parameter")
    p.add_argument("--l2", type=float, help="L2 penalty strength on every parameter")
    p.add_argument(
        "--option",
        nargs="+",
        metavar="NAME=VALUE",
        help="method hyperparameters, e.g. beta1=0.8 momentum=0.95",
    )
    p.add_argument("--plot", metavar="FILE", help="write history and landscape (needs matplotlib)")
    p.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    p.set_defaults(func=_cmd_minimize)
