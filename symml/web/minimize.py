"""The page's ``minimize`` operation: :func:`symml.minimize` on an objective of the page's
variables, presented as a derivation.

The steps are the first-order (stationarity) conditions, derived exactly (the gradient's
own derivation, folded under its step), the numeric run (method, start, iterations,
status, the exact gradient at the point found) and, when the Hessian is available, the
second-order test. The result is the point; its check (what the page's badge shows)
evaluates the exact gradient and Hessian at the point with SymPy, independently of the
compiled derivatives the optimizer used: the run converged, the gradient vanishes there
and the Hessian has no negative eigenvalue.

>>> from symml.web.minimize import run_minimize
>>> d = run_minimize({"formula": "(x - 1)^2 + (y + 2)^2", "start": "x=0 y=0"})
>>> d.verify(), {k.name: round(float(v), 8) for k, v in d.result.items()}
(True, {'x': 1.0, 'y': -2.0})
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from ..errors import ArgumentError, LimitError, SymmlError
from ..steps import Derivation, Step
from ..steps.model import explain

__all__ = ["run_minimize", "Minimized", "summary", "MAX_ITER", "PAGE_METHODS"]

#: Largest ``max_iter`` a request may ask for.
MAX_ITER = 10_000
#: Rows of the path sent in the JSON answer (longer paths are thinned, the last row kept).
MAX_PATH_ROWS = 2000
#: The methods offered on the page (every one works without data or constraints).
PAGE_METHODS = ("bfgs", "l-bfgs-b", "cg", "newton", "trust-exact", "newton-cg", "tnc",
                "nelder-mead", "powell", "gd", "momentum", "nesterov", "rmsprop",
                "adam")  # fmt: skip


@dataclass(eq=False)
class Minimized(Derivation):
    """A derivation that also carries the optimization run (``run``, an OptimizeResult)."""

    run: Any = None
    value: Any = None  # the objective at the point, rounded as shown


def _float(text: str, what: str) -> float:
    from ..lang import expr

    v = expr(str(text))
    try:
        c = complex(sympy.N(v, 17)) if isinstance(v, sympy.Basic) else complex(v)
    except (TypeError, ValueError):
        raise ArgumentError(f"{what} must be a number, got {text!r}") from None
    if abs(c.imag) > 0 or not math.isfinite(c.real):
        raise ArgumentError(f"{what} must be a finite real number, got {text!r}")
    return c.real


def _start(text: Any, names: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in str(text or "").replace(",", " ").split():
        name, sep, value = part.partition("=")
        if not sep or not value:
            raise ArgumentError(f"the start point takes name=value pairs such as x=1, got {part!r}")
        if name not in names:
            raise ArgumentError(f"the start point names {name!r}, which is not a variable of "
                                f"the objective ({', '.join(names)})")  # fmt: skip
        out[name] = _float(value, f"the start value of {name}")
    return {n: out.get(n, 0.0) for n in names}  # an unnamed variable starts at 0


def _whole(value: Any, what: str, top: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"{what} must be a whole number, got {value!r}") from None
    if not v.is_integer() or not 1 <= v <= top:
        raise ArgumentError(f"{what} must be a whole number from 1 to {top:,}, got {value!r}")
    return int(v)


def _number(v: float, digits: int = 10) -> sympy.Float:
    from ..optimize.result import format_value

    if not math.isfinite(v):
        return sympy.nan
    s = format_value(v, digits)
    significant = s.split("e")[0].lstrip("-").replace(".", "").lstrip("0")
    return sympy.Float(s, max(2, len(significant)))  # printed with the digits it has


def _objective(r) -> tuple[sympy.Expr, list[sympy.Symbol]]:
    from ..lang import expr
    from ..symbols import ElementSymbol

    f = expr(r["formula"])
    if not isinstance(f, sympy.Expr) or isinstance(f, sympy.MatrixBase):
        raise ArgumentError("minimize needs a scalar objective, such as "
                            "(1 - x)^2 + 100*(y - x^2)^2")  # fmt: skip
    if any(isinstance(s, ElementSymbol) for s in f.free_symbols):
        raise ArgumentError("the page minimizes over scalar variables (x, y, ...); for vectors "
                            "use symml.minimize in Python")  # fmt: skip
    by_name = {s.name: s for s in f.free_symbols}
    from .derive import _vars

    names = _vars(r.get("variables")) or sorted(by_name)
    if not names:
        raise ArgumentError("the objective has no variable to minimize over")
    missing = sorted(set(by_name) - set(names))
    if missing:
        raise ArgumentError(f"the objective also depends on {', '.join(missing)}; list every "
                            f"variable to optimize, e.g. {' '.join(sorted(by_name))}")  # fmt: skip
    syms = [by_name.get(n) or sympy.Symbol(n, real=True) for n in names]
    return f, syms


def _gradient(formula: str, names: list[str]):
    """The gradient's derivation, or None when the rules cannot derive it."""
    from .. import steps

    try:
        return steps.grad(formula, names)
    except LimitError:
        raise
    except SymmlError:
        return None


def run_minimize(r) -> Minimized:
    """Run the request's minimization and build its derivation (see the module docstring)."""
    import symml

    f, syms = _objective(r)
    names = [s.name for s in syms]
    method = str(r.get("method") or "bfgs")
    if method not in PAGE_METHODS:
        raise ArgumentError(f"the page's minimize methods are {', '.join(PAGE_METHODS)}; "
                            f"got {method!r}")  # fmt: skip
    x0 = _start(r.get("start"), names)
    kw: dict[str, Any] = {"max_iter": _whole(r.get("max_iter"), "max_iter", MAX_ITER)}
    if r.get("lr") not in (None, ""):
        kw["lr"] = _float(str(r["lr"]), "lr")
    run = symml.minimize(r["formula"], x0, method, **kw)
    g = _gradient(r["formula"], names)
    at = {s: sympy.Float(float(run.x[s.name]), 17) for s in syms}
    steps = []
    grad = None
    if g is not None:
        grad = list(g.result)
        steps.append(Step("gradient", g.problem, g.result, explain(
            "First-order condition: where {f} is differentiable, a minimum has zero gradient. "
            "The gradient, one partial derivative per variable:", f=f), substeps=list(g.steps)))
        steps.append(Step("stationarity", [sympy.Eq(c, 0) for c in grad], None, explain(
            "The stationarity conditions, which the optimizer solves numerically:"),
            check=False))  # fmt: skip
    steps.append(_run_step(run, x0, syms, grad, at))
    if grad is not None:
        hess = _hessian_step(sympy.Matrix(grad).jacobian(syms), at)
        if hess is not None:
            steps.append(hess)
    result = {s: _number(float(run.x[s.name])) for s in syms}
    note = explain(f"f = {{v}} at the point; {run.nit} iterations, {run.nfev} evaluations; "
                   f"status {run.status} ({_status(run)}).", v=_number(float(run.fun)))
    return Minimized(explain("Minimize {f} with " + method, f=f), "minimize", f, steps, result,
                     result_check=_result_check(run, f, grad, syms, at), note=note, run=run,
                     value=_number(float(run.fun)))  # fmt: skip


def _status(run) -> str:
    from ..optimize.result import STATUS

    return STATUS.get(run.status, "?")


def _braces(text: str) -> str:
    return str(text).replace("{", "{{").replace("}", "}}")


def _run_step(run, x0, syms, grad, at) -> Step:
    start = [sympy.Eq(s, _number(x0[s.name])) for s in syms]
    found = [sympy.Eq(s, _number(float(run.x[s.name]))) for s in syms]
    text = (f"The method {run.method} from the start {{start}} took {run.nit} iteration(s) "
            f"and {run.nfev} evaluation(s): {_braces(run.message)}.")  # fmt: skip
    params: dict[str, Any] = {"start": start}
    if grad is not None:
        params["g"] = sympy.Matrix([_number(float(sympy.N(c.subs(at), 17)), 4) for c in grad])
        text += " The exact gradient at the point found is {g}."
    return Step("numeric", found, None, explain(text, **params), check=False)


def _hessian_step(H: sympy.Matrix, at) -> Step | None:
    try:
        Hn = np.array(H.subs(at).evalf(17).tolist(), dtype=float)
    except (TypeError, ValueError):
        return None
    if not np.all(np.isfinite(Hn)):
        return None
    ev = np.linalg.eigvalsh((Hn + Hn.T) / 2)
    scale = max(1.0, float(np.max(np.abs(ev))))
    if ev.min() > 1e-8 * scale:
        verdict = ("all positive: the Hessian is positive definite, so the point is a strict "
                   "local minimum")  # fmt: skip
    elif ev.min() >= -1e-8 * scale:
        verdict = "none negative but not all positive: the second-order test is inconclusive"
    else:
        verdict = "one is negative: the point is not a minimum (a saddle point or a maximum)"
    shown = sympy.Matrix(Hn.shape[0], Hn.shape[1], [_number(float(v), 6) for v in Hn.ravel()])
    return Step("second_order", [_number(float(v), 6) for v in ev], None, explain(
        "Second-order test: the Hessian at the point, {H}, has the eigenvalues below; "
        + verdict + ".",
        H=shown), check=False)  # fmt: skip


def _result_check(run, f, grad, syms, at):
    def check(d) -> bool:
        if not run.success:
            raise ValueError(f"the run did not converge: {run.message}")
        if grad is None:
            return True  # no exact gradient to check the point against
        fx = abs(complex(sympy.N(f.subs(at), 17)))
        gv = [abs(complex(sympy.N(c.subs(at), 30))) for c in grad]
        tol = 1e-5 * max(1.0, fx)
        if max(gv) > tol:
            raise ValueError(f"the exact gradient at the point has a component of size "
                             f"{max(gv):.3g}, above {tol:.1g}: not a stationary point")  # fmt: skip
        Hn = np.array(sympy.Matrix(grad).jacobian(syms).subs(at).evalf(17).tolist(), dtype=complex)
        if np.all(np.isfinite(Hn)):
            ev = np.linalg.eigvalsh((Hn.real + Hn.real.T) / 2)
            if ev.min() < -1e-8 * max(1.0, float(np.max(np.abs(ev)))):
                raise ValueError(f"the Hessian at the point has the negative eigenvalue "
                                 f"{ev.min():.3g}: a saddle point or a maximum, "
                                 "not a minimum")  # fmt: skip
        return True

    return check


def _finite(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def summary(d: Minimized) -> dict:
    """The run as JSON: the point, value, iterations, status and the path (thinned)."""
    run = d.run
    path = run.path if run.path is not None else np.empty((0, len(run.names)))
    keep = np.arange(len(path))
    if len(keep) > MAX_PATH_ROWS:
        thin = np.linspace(0, len(path) - 1, MAX_PATH_ROWS).astype(int)
        keep = np.unique(np.r_[thin, len(path) - 1])
    return {
        "method": run.method,
        "x": {k: _finite(v) for k, v in run.x.items()},
        "fun": _finite(run.fun),
        "nit": int(run.nit),
        "nfev": int(run.nfev),
        "success": bool(run.success),
        "status": int(run.status),
        "status_text": _status(run),
        "message": str(run.message),
        "names": list(run.names),
        "path": [[_finite(v) for v in row] for row in path[keep]],
        "path_rows": int(len(path)),
    }
