"""Convexity and Lagrange duality step by step.

:func:`convex` derives the Hessian and applies the test of :func:`symml.convex.is_convex`
(every principal minor >= 0 on the domain, or a point and direction where ``v'Hv < 0``).
:func:`dual` derives the dual function ``g(lambda, nu) = inf_x L(x, lambda, nu)`` of a
problem with a quadratic or linear objective and affine constraints, states the dual
problem, and shows weak duality and (Slater) strong duality, the zero gap checked with SciPy
on an instance.

>>> d = dual("x^2 + y^2", "x + y == 1", ["x", "y"])
>>> d.result
-nu**2/2 - nu
>>> d.verify()
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy
from sympy import Derivative

from .._convert import to_sympy as _to_sympy
from .._diff import diff as _diff
from .._limits import time_limit
from ..convex import (
    SYMBOLIC_SECONDS,
    ConvexityVerdict,
    DualProblem,
    _candidates,
    _domain,
    _midpoint_counterexample,
)
from ..convex import dual as _dual
from ..convex import is_convex as _is_convex
from ..errors import SymmlError
from .model import Derivation, Step, explain
from .render import text as _t

__all__ = ["convex", "dual"]


# -- convexity ------------------------------------------------------------------------------------
def _nonnegative_on_samples(m: sympy.Expr, symbols: list, bounds: dict):
    """Check callable: the minor ``m`` is >= 0 at the sampled test points."""

    def check(step: Step) -> bool:
        fn = sympy.lambdify(symbols, m, "numpy")
        pts = _candidates(symbols, bounds, seed=1)
        with np.errstate(all="ignore"):
            vals = np.broadcast_to(np.asarray(fn(*pts.T), dtype=float), (len(pts),))
        ok = np.isfinite(vals)
        if (vals[ok] < -1e-9 * (1 + np.abs(vals[ok]).max(initial=0))).any():
            raise AssertionError(f"the minor {m} is negative at a sampled point")
        return True

    return check


def _quadratic_form_check(Hp: sympy.MatrixBase, v: list):
    def check(step: Step) -> bool:
        q = (sympy.Matrix([v]) * Hp * sympy.Matrix(v))[0, 0]
        if not (q.is_number and sympy.N(q, 30) < 0):
            raise AssertionError(f"v'Hv = {q} is not negative")
        return True

    return check


def convex(f: Any, vars: Any = None, domain: Any = None) -> Derivation:
    """Is ``f`` convex in ``vars``? The Hessian and the test, step by step.

    Takes the arguments of :func:`symml.convex.is_convex`; ``.result`` is its verdict's
    ``convex`` (True, False, or None when undecided) and ``.verdict`` the whole verdict.

    Examples
    --------
    >>> d = convex("x*y", "x y")
    >>> d.result, d.verify()
    (False, True)
    >>> convex("-log(x)", "x", domain="x > 0").result
    True
    """
    v = _is_convex(f, vars, domain)
    from ..convex import _scalar

    fe = _scalar(f)
    xs = v.vars
    symbols = xs + sorted(fe.free_symbols - set(xs), key=lambda s: s.name)
    bounds = _domain(domain, set(symbols))
    steps: list[Step] = []
    definitions: dict = {}
    if bounds:
        rels = [_bound_relation(s, b) for s, b in bounds.items()]
        steps.append(
            Step(
                "domain",
                None,
                tuple(rels),
                "Work on the domain given (a box, hence "
                "convex); bounded variables keep their sign in every test below.",
                check=False,
            )
        )
    if v.hessian is None:
        return _nonsmooth_derivation(fe, v, symbols, bounds, steps)
    steps.append(_hessian_step(fe, xs, v.hessian, definitions))
    if v.test == "principal minors" and v.convex is True:
        steps.append(_minors_step(v, symbols, bounds))
        conclusion = explain(
            "Every principal minor is >= 0, so the Hessian is positive "
            "semidefinite at every point of the domain: {f} is convex.",
            f=fe,
        )
    elif v.convex is False:
        steps.append(_counterexample_step(v))
        conclusion = explain(
            "A convex twice-differentiable function has a positive "
            "semidefinite Hessian everywhere, so {f} is not convex.",
            f=fe,
        )
    else:
        steps.append(Step("sampling", None, None, v.reason, check=False))
        conclusion = explain("Undecided: no proof and no counterexample for {f}.", f=fe)
    steps.append(Step("conclusion", None, None, conclusion, check=False, detail="brief"))
    title = f"Is {_t(fe)} convex in {', '.join(map(str, xs))}?"
    d = Derivation(
        title,
        "convex",
        fe,
        steps,
        v.convex,
        definitions=definitions,
        result_check=lambda d: _verdict_check(fe, v, symbols, bounds),
    )
    d.verdict = v
    return d


def _bound_relation(s, b):
    if b.lower is not None and b.upper is not None:
        return sympy.And(sympy.Gt(s, b.lower), sympy.Lt(s, b.upper))
    return sympy.Gt(s, b.lower) if b.lower is not None else sympy.Lt(s, b.upper)


def _hessian_step(f, xs, H, definitions) -> Step:
    n = len(xs)
    before = sympy.ImmutableMatrix(n, n, lambda i, j: Derivative(f, xs[i], xs[j]))
    subs: list[Step] = []
    try:
        from .diff import hessian as hessian_steps

        with time_limit(SYMBOLIC_SECONDS, "the Hessian derivation"):
            hd = hessian_steps(f, xs)
        subs = list(hd.steps)
        for s in subs:
            s.detail = "full"
        definitions.update(hd.definitions)
    except SymmlError:
        subs = []
    text = (
        "Differentiate twice: the second derivative."
        if n == 1
        else "Differentiate twice: the Hessian, the matrix of second partial derivatives."
    )
    return Step("hessian", before, H, text, substeps=subs, detail="brief")


def _minors_step(v: ConvexityVerdict, symbols, bounds) -> Step:
    subs = []
    for idx, m in v.minors.items():
        rows = sympy.Tuple(*[v.vars[i] for i in idx]) if len(idx) > 1 else v.vars[idx[0]]
        sub = v.hessian.extract(list(idx), list(idx))
        subs.append(
            Step(
                "minor",
                sympy.Symbol("Delta"),
                m,
                explain(
                    "The principal minor in {rows}: the determinant of {sub}, which is >= 0 "
                    "at every point.",
                    rows=rows,
                    sub=sub,
                ),
                check=_nonnegative_on_samples(m, symbols, bounds),
            )
        )
    n = v.hessian.rows
    text = (
        "A twice-differentiable function of one variable is convex exactly when its second "
        "derivative is >= 0."
        if n == 1
        else "A symmetric matrix is positive semidefinite exactly when all its principal minors "
        "(determinants of the submatrices keeping the same rows and columns) are >= 0; "
        "f is convex exactly when its Hessian is positive semidefinite everywhere."
    )
    return Step("psd_test", None, None, text, substeps=subs, check=False, detail="brief")


def _counterexample_step(v: ConvexityVerdict) -> Step:
    point = v.counterexample or {}
    Hp = v.hessian.xreplace(point) if point else v.hessian
    vec = sympy.Matrix(v.direction)
    q = (vec.T * Hp * vec)[0, 0]
    where = (
        "at the point " + ", ".join(f"{s} = {val}" for s, val in point.items())
        if point
        else "at every point (the Hessian is constant)"
    )
    sub = Step("evaluate", None, Hp, f"The Hessian {where}.", check=False)
    return Step(
        "counterexample",
        sympy.MatMul(vec.T, Hp, vec, evaluate=False),
        q,
        explain(
            "Take the direction {v}: the quadratic form v'Hv is negative, so the Hessian is "
            "not positive semidefinite there.",
            v=vec.T,
        ),
        substeps=[sub],
        check=_quadratic_form_check(Hp, list(v.direction)),
        detail="brief",
    )


def _nonsmooth_derivation(f, v, symbols, bounds, steps) -> Derivation:
    steps.append(
        Step(
            "no_rule",
            None,
            None,
            "f has kinks (abs, max, relu, ...), so it has no "
            "Hessian everywhere and the second-order test does not apply; test the "
            "midpoint inequality f((a + b)/2) <= (f(a) + f(b))/2 instead.",
            check=False,
        )
    )
    if v.convex is False:
        a, b = v.counterexample["a"], v.counterexample["b"]
        mid = {s: (a[s] + b[s]) / 2 for s in a}
        lhs, rhs = f.xreplace(mid), (f.xreplace(a) + f.xreplace(b)) / 2
        steps.append(
            Step(
                "counterexample",
                None,
                sympy.Gt(lhs, rhs, evaluate=False),
                explain(
                    "At a = {a} and b = {b} the midpoint value exceeds the average of the end "
                    "values.",
                    a=_point(a),
                    b=_point(b),
                ),
                check=lambda s: bool(sympy.N(lhs - rhs, 30) > 0),
                detail="brief",
            )
        )
    else:
        steps.append(Step("sampling", None, None, v.reason, check=False, detail="brief"))
    d = Derivation(
        f"Is {_t(f)} convex in {', '.join(map(str, v.vars))}?",
        "convex",
        f,
        steps,
        v.convex,
        result_check=lambda d: _verdict_check(f, v, symbols, bounds),
    )
    d.verdict = v
    return d


def _point(p: dict):
    vals = list(p.values())
    return vals[0] if len(vals) == 1 else sympy.Tuple(*vals)


def _verdict_check(f, v: ConvexityVerdict, symbols, bounds) -> bool:
    """An independent test: a proof must survive the sampled midpoint inequality; a
    counterexample must be confirmed exactly."""
    if v.convex is True:
        found, _ = _midpoint_counterexample(f, symbols, bounds, len(v.vars), seed=7)
        return found is None
    if v.convex is False:
        if v.hessian is None:
            a, b = v.counterexample["a"], v.counterexample["b"]
            mid = {s: (a[s] + b[s]) / 2 for s in a}
            return bool(sympy.N(f.xreplace(mid) - (f.xreplace(a) + f.xreplace(b)) / 2, 30) > 0)
        Hp = v.hessian.xreplace(v.counterexample or {})
        return _quadratic_form_check(Hp, list(v.direction))(None)
    return True


# -- duality --------------------------------------------------------------------------------------
def _vec(xs) -> sympy.ImmutableMatrix:
    return sympy.ImmutableMatrix(list(xs))


def _lagrangian_check(d: DualProblem, f, constraints, vars):
    """Check L against symml.lagrange.lagrangian (its lambda is -nu here, its mu is lambda)."""

    def check(step: Step) -> bool:
        from ..lagrange import lagrangian

        L2, mults = lagrangian(f, constraints, d.vars)
        n_eq = len(d.nus)
        mapping = dict(zip(mults[:n_eq], [-m for m in d.nus], strict=True))
        mapping.update(zip(mults[n_eq:], d.lambdas, strict=True))
        if sympy.expand(L2.xreplace(mapping) - d.L) != 0:
            raise AssertionError("L differs from symml.lagrange.lagrangian")
        return True

    return check


def _standard_steps(d: DualProblem) -> Step:
    subs = []
    n_in = len(d.inequalities)
    for k, rel in enumerate(d.relations):
        if k < n_in:
            e, m, after = d.inequalities[k], d.lambdas[k], sympy.Le(d.inequalities[k], 0)
            text = explain(
                "The inequality {rel} becomes {std}, with a multiplier {m} >= 0.",
                rel=rel,
                std=after,
                m=m,
            )
        else:
            e, m = d.equalities[k - n_in], d.nus[k - n_in]
            after = sympy.Eq(e, 0)
            text = explain(
                "The equality {rel} becomes {std}, with a free multiplier {m}.",
                rel=rel,
                std=after,
                m=m,
            )
        sign = -1 if isinstance(rel, sympy.GreaterThan) else 1
        subs.append(
            Step(
                "standard_form",
                None,
                after,
                text,
                check=lambda s, rel=rel, e=e, sign=sign: (
                    sympy.expand(sign * (rel.lhs - rel.rhs) - e) == 0
                ),
            )
        )
    return Step(
        "standard_form",
        None,
        None,
        "Write the problem in standard form: minimize f(x) subject to g_i(x) <= 0 and h_j(x) = 0.",
        substeps=subs,
        check=False,
    )


def _inner_steps(d: DualProblem) -> list[Step]:
    xs = d.vars
    x = _vec(xs)
    grad_before = sympy.ImmutableMatrix([Derivative(d.L, v) for v in xs])
    grad_after = sympy.ImmutableMatrix(d.P * x + d.q).applyfunc(sympy.expand)
    out = [
        Step(
            "stationarity",
            grad_before,
            grad_after,
            explain(
                "L is a quadratic function of x, {form}, with P = {P}; its gradient in x "
                "is P x + q.",
                form=sympy.Eq(sympy.Symbol("L"), sympy.Symbol("x'Px/2 + q'x + r")),
                P=sympy.ImmutableMatrix(d.P),
            ),
        )
    ]
    if d.kind == "linear":
        out.append(
            Step(
                "linear",
                None,
                tuple(d.conditions),
                explain(
                    "L is affine in x: {L}. An affine function is bounded below only when its "
                    "slope vanishes, so inf_x L = {r} when these hold and -oo otherwise.",
                    L=sympy.Eq(sympy.Symbol("L"), (d.q.T * x)[0, 0] + d.r),
                    r=d.r,
                ),
                check=lambda s: sympy.expand(d.L - (d.q.T * x)[0, 0] - d.r) == 0,
                detail="brief",
            )
        )
        return out
    if d.kind == "unbounded":
        out.append(
            Step(
                "unbounded",
                None,
                sympy.ImmutableMatrix(d.P),
                "P has a negative eigenvalue: along its eigenvector L decreases without "
                "bound for every choice of multipliers, so g = -oo everywhere.",
                check=lambda s: any(sympy.N(e) < 0 for e in d.P.eigenvals()),
                detail="brief",
            )
        )
        return out
    xstar = sympy.ImmutableMatrix([d.x_star[v] for v in xs])
    if d.kind == "quadratic":
        text = explain(
            "P is positive definite, so L is strictly convex in x and its minimum is "
            "where the gradient vanishes: {x} = -P^-1 q.",
            x=x,
        )
    else:
        text = explain(
            "P is positive semidefinite but singular: L is bounded below only when q "
            "lies in the range of P, i.e. {conds}; then {x} = -P^+ q minimizes it.",
            conds=sympy.And(*d.conditions),
            x=x,
        )
    residual = (d.P * xstar + d.q).applyfunc(sympy.simplify)
    out.append(
        Step(
            "solve",
            x,
            xstar,
            text,
            check=lambda s: d.kind != "quadratic" or residual.is_zero_matrix,
            detail="brief",
        )
    )
    return out


def _duality_steps(d: DualProblem, instance: dict | None) -> list[Step]:
    lam_cond = [sympy.Ge(m, 0) for m in d.lambdas]
    stmt = tuple(lam_cond + list(d.conditions))
    used = [m for m in d.multipliers if m in _to_sympy(d.g_finite).free_symbols]
    concave = _is_convex(-d.g_finite, used) if d.kind != "unbounded" and used else None
    ms = sympy.Tuple(*d.multipliers) if len(d.multipliers) > 1 else d.multipliers[0]
    text = (
        "The dual problem: maximize the dual function {g} over {ms}"
        + (" subject to the conditions below" if stmt else " (no conditions)")
        + "; g is concave, as an infimum of affine functions of the multipliers."
    )
    steps = [
        Step(
            "dual_problem",
            None,
            stmt if stmt else None,
            explain(text, g=sympy.Eq(sympy.Symbol("g"), d.g_finite), ms=ms),
            check=lambda s: concave is None or concave.convex is not False,
            detail="brief",
        )
    ]
    steps.append(
        Step(
            "weak_duality",
            None,
            sympy.Le(sympy.Symbol("d*"), sympy.Symbol("p*")),
            "Weak duality: for any feasible x and any lambda >= 0, each lambda_i*g_i(x) <= 0 and "
            "each h_j(x) = 0, so g(lambda, nu) <= L(x, lambda, nu) <= f(x); hence the dual optimum "
            "d* is at most the primal optimum p*.",
            check=False,
        )
    )
    if d.kind == "unbounded":
        return steps
    try:
        res = d.check(instance)
    except SymmlError as exc:
        steps.append(
            Step(
                "strong_duality", None, None, f"Strong duality was not checked: {exc}", check=False
            )
        )
        return steps
    inst = ", ".join(f"{k} = {v}" for k, v in res.instance.items())
    where = f" on the instance {inst}" if inst else ""
    steps.append(
        Step(
            "strong_duality",
            sympy.Symbol("p*"),
            sympy.Float(res.primal, 10),
            f"Slater's condition: f is convex and the constraints are affine and feasible{where}, "
            f"so strong duality holds: d* = p*. Numerically (SciPy) {res.message}.",
            check=lambda s: res.zero_gap and res.gap > -1e-6 * max(1, abs(res.primal)),
            detail="brief",
        )
    )
    return steps


def dual(f: Any, constraints: Any, vars: Any = None, instance: dict | None = None) -> Derivation:
    """The Lagrange dual function and dual problem, step by step.

    Takes the arguments of :func:`symml.convex.dual`; ``instance`` gives parameter values for
    the numeric strong-duality check (others are drawn at random, seeded). ``.result`` is
    the dual function ``g`` and ``.dual`` the :class:`symml.convex.DualProblem`.

    Examples
    --------
    >>> d = dual("x + y", ["x >= 0", "y >= 0", "x + y == 1"], ["x", "y"])
    >>> d.dual.conditions
    [Eq(-lambda_1 + nu + 1, 0), Eq(-lambda_2 + nu + 1, 0)]
    >>> d.verify()
    True
    """
    d = _dual(f, constraints, vars)
    steps = [_standard_steps(d)]
    terms = sympy.Add(
        d.f,
        *[m * g for m, g in zip(d.lambdas, d.inequalities, strict=True)],
        *[m * h for m, h in zip(d.nus, d.equalities, strict=True)],
        evaluate=False,
    )
    steps.append(
        Step(
            "lagrangian",
            sympy.Symbol("L"),
            terms,
            "The Lagrangian adds each constraint function times its multiplier: "
            "L = f + sum(lambda_i*g_i) + sum(nu_j*h_j).",
            check=_lagrangian_check(d, f, constraints, vars),
            detail="brief",
        )
    )
    steps += _inner_steps(d)
    if d.kind in ("quadratic", "semidefinite"):
        before = d.L.xreplace(d.x_star)
        steps.append(
            Step(
                "dual_function",
                before,
                d.g_finite,
                "Substitute the minimizer into L: the dual function g(lambda, nu).",
                detail="brief",
            )
        )
    steps += _duality_steps(d, instance)
    title = f"Lagrange dual of minimizing {_t(d.f)} subject to " + ", ".join(map(_t, d.relations))
    out = Derivation(
        title, "dual", sympy.Symbol("g"), steps, d.g, result_check=lambda _: _dual_result_check(d)
    )
    out.dual = d
    return out


def _dual_result_check(d: DualProblem) -> bool:
    """Independent check: SymPy's own derivative (the reference, not symml's engine), then
    sympy.solve of grad_x L = 0, and compare the values of L."""
    if d.kind == "unbounded":
        return d.g == -sympy.oo
    if d.kind == "linear":
        x = _vec(d.vars)
        return sympy.expand(d.L - (d.q.T * x)[0, 0] - d.g_finite) == 0
    eqs = [_diff(d.L, v) for v in d.vars]
    sols = sympy.solve(eqs, d.vars, dict=True)
    if not sols:
        return False
    value = d.L.xreplace(sols[0])
    extra = [sympy.Eq(c.lhs - c.rhs, 0) for c in d.conditions]
    if extra:
        free = list(set().union(*(c.free_symbols for c in extra)) & set(d.multipliers))
        pin = sympy.solve([c.lhs for c in extra], free[: len(extra)], dict=True)
        if not pin:
            return False
        value = value.xreplace(pin[0])
        return sympy.simplify(value - d.g_finite.xreplace(pin[0])) == 0
    return sympy.simplify(value - d.g_finite) == 0
