"""Taylor polynomials step by step: the expansion point, each needed (mixed) partial
derivative derived by rules (or referred to an earlier one), its value at the point, the terms,
and the polynomial.

>>> import symml as sm
>>> d = sm.steps.taylor("exp(x)*cos(y)", {"x": 0, "y": 0}, 2)
>>> d.result
x**2/2 + x - y**2/2 + 1
>>> d.verify()
True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import sympy
from sympy import Derivative, Subs

from .. import _taylor
from .._convert import to_sympy as _to_sympy
from .._limits import budgeted
from ..errors import ArgumentError, DerivationError, ShapeError
from .check import disagreement
from .diff import _as_expr, _as_symbols, _reserved
from .diff_rules import _Differ
from .model import Derivation, Step, explain
from .render import text as _t
from .rewrite import _abbreviate, _abbreviations, simplify_step

__all__ = ["taylor"]


def _point(at: Any, f: sympy.Expr) -> dict:
    if not isinstance(at, Mapping) or not at:
        raise ArgumentError("taylor needs the expansion point as a mapping, e.g. {'x': 0, 'y': 0}")
    point = {}
    for k, v in at.items():
        syms = _as_symbols(k, [f])
        if len(syms) != 1:
            raise ArgumentError(f"taylor: expected one variable per point entry, got {k!r}")
        sym = syms[0]
        val = _as_expr(v)
        if isinstance(val, sympy.MatrixBase) or sym in val.free_symbols:
            raise ArgumentError(
                f"taylor: the expansion point of {sym} must be a scalar not involving {sym}"
            )
        point[sym] = val
    return point


def _multi_indices(n: int, total: int):
    """Multi-indices of length n with the given total, in graded lexicographic order."""
    for combo in itertools.combinations_with_replacement(range(n), total):
        alpha = [0] * n
        for c in combo:
            alpha[c] += 1
        yield tuple(alpha)


def _spec(vs: list, alpha: tuple) -> list:
    out = []
    for v, k in zip(vs, alpha, strict=True):
        out.extend([v] * k)
    return out


_f = sympy.Function("f^{(k)}")
_K = sympy.Symbol("k", integer=True, nonnegative=True)


def _sym(label: str) -> sympy.Symbol:
    """A derivative's label (f_xy, f'') as a symbol, so that it is typeset."""
    return sympy.Symbol(label, real=True)


def _label(vs: list, alpha: tuple) -> str:
    if sum(alpha) == 0:
        return "f"
    if len(vs) == 1:
        k = alpha[0]
        return "f" + "'" * k if k <= 3 else f"f^({k})"
    return "f_" + "".join(str(v) * k for v, k in zip(vs, alpha, strict=True))


def _reference(f: sympy.Expr, point: dict, order: int) -> sympy.Expr:
    """SymPy's own Taylor polynomial: series of f(p + t*(x - p)) in t, then t = 1."""
    t = sympy.Dummy("t")
    g = f.xreplace({v: a + t * (v - a) for v, a in point.items()})
    ser = sympy.series(g, t, 0, order + 1).removeO()
    return sympy.expand(ser.subs(t, 1))


def _multi_formula(vs: list, point: dict, order: int, at) -> Any:
    """The expansion point's explanation for several variables: the general formula as a
    textbook states it, f(a) + sum_i f_i (x_i - a_i) + 1/2 sum_ij f_ij (x_i - a_i)(x_j - a_j)
    + ..., typeset term by term (in that order), with what x_i, a_i stand for here."""
    i, j = sympy.Symbol("i", integer=True), sympy.Symbol("j", integer=True)
    f_, x_, a_ = sympy.IndexedBase("f"), sympy.IndexedBase("x"), sympy.IndexedBase("a")
    n = sympy.Integer(len(vs))
    d_i, d_j = x_[i] - a_[i], x_[j] - a_[j]
    params = {
        "T": sympy.Function("T")(sympy.Symbol("x")), "f0": sympy.Function("f")(sympy.Symbol("a")),
        "f1": sympy.Sum(f_[i] * d_i, (i, 1, n)), "half": sympy.Rational(1, 2),
        "f2": sympy.Sum(f_[i, j] * d_i * d_j, (i, 1, n), (j, 1, n)),
        "fi": f_[i], "fij": f_[i, j],
    }  # fmt: skip
    formula = "{T} = {f0}" + (" + {f1}" if order >= 1 else "") + (
        " + {half} {f2}" if order >= 2 else "") + (" + ..." if order >= 3 else "")
    names = sympy.Tuple(*[sympy.Eq(x_[k + 1], v, evaluate=False) for k, v in enumerate(vs)])
    where = sympy.Tuple(*[sympy.Eq(a_[k + 1], point[v], evaluate=False)
                          for k, v in enumerate(vs)])  # fmt: skip
    return explain(
        "Expand about {at}, keeping the terms of total degree up to {n}. For a function of "
        "several variables the Taylor polynomial about a point a is " + formula + ", where "
        "{fi} and {fij} are the first and second partial derivatives at a; each further term "
        "of degree k is 1/k! times the sum over all k-fold partial derivatives at a, each "
        "times its k shifts. Here {names} and {where}.",
        at=at, n=sympy.Integer(order), names=names, where=where, **params,
    )  # fmt: skip


@budgeted("steps.taylor")
def taylor(f: Any, at: Any, order: int) -> Derivation:
    """Taylor polynomial of ``f`` about the point ``at`` (total degree <= ``order``), step by step.

    Parameters
    ----------
    f : str or sympy.Expr
        The function.
    at : mapping
        Variable -> expansion point, e.g. ``{"x": 0, "y": 0}``; the variables listed are the
        ones expanded in (others are constants).
    order : int
        Highest total degree kept.

    Returns
    -------
    Derivation
        ``.result`` equals :func:`symml.taylor`.

    Examples
    --------
    >>> import symml as sm
    >>> d = sm.steps.taylor("log(x)", {"x": 1}, 2)
    >>> d.result
    -(x - 1)**2/2 + (x - 1)**1
    >>> [s.rule for s in d.steps][:4]
    ['expansion_point', 'evaluate', 'derivative', 'evaluate']
    """
    f = _as_expr(f)
    if isinstance(f, sympy.MatrixBase):
        raise ShapeError("steps.taylor takes a scalar expression")
    point = _point(at, f)
    if (
        isinstance(order, bool)
        or not isinstance(order, (int, sympy.Integer))
        or not 0 <= int(order) <= 12
    ):
        raise ArgumentError(
            f"steps.taylor: order must be a whole number from 0 to 12, got {order!r}"
        )
    order = int(order)
    vs = list(point)
    multi = len(vs) > 1
    where = ", ".join(f"{v} = {_t(a)}" for v, a in point.items())
    at = sympy.Tuple(*(sympy.Eq(v, a, evaluate=False) for v, a in point.items()))
    kink = _taylor.kink(f, point)
    if kink:
        raise DerivationError(f"{_t(f)} is not analytic at {where}: {kink}; choose another point")
    series: dict = {}  # the partial derivatives from a series, computed once if needed
    # f itself undefined at the point (0/0): a removable singularity or not analytic; every
    # value there is then a limit (substituting into a derivative would be 0/0 as well)
    singular = _taylor.undefined(_to_sympy(f).subs(point))
    reserved = _reserved([f]) | {str(v) for v in vs}
    definitions = _abbreviations([f], vs, reserved)
    differ = _Differ(definitions, reserved | {str(s) for s in definitions})
    fa = _abbreviate(f, definitions)
    steps: list[Step] = [
        Step(
            "expansion_point",
            None,
            dict(point),
            _multi_formula(vs, point, order, at)
            if multi
            else explain(
                "Expand about {at} up to degree {n}: the Taylor polynomial is the sum of "
                "{term} for k = 0, ..., {n}.",
                at=at,
                n=sympy.Integer(order),
                term=_f(point[vs[0]]) * (vs[0] - point[vs[0]]) ** _K / sympy.factorial(_K),
            ),
            check=False,
        )  # fmt: skip
    ]
    if definitions:
        steps += [
            Step(
                "definition",
                s,
                b,
                explain(
                    "Abbreviate the repeated inner expression: let {d}.",
                    d=sympy.Eq(s, b, evaluate=False),
                ),
                check=False,
            )
            for s, b in definitions.items()
        ]
    derivs: dict[tuple, sympy.Expr] = {(0,) * len(vs): fa}
    where_step: dict[tuple, int] = {}
    terms_form, values = [], {}
    vals = list(point.values())
    for total in range(order + 1):
        for alpha in _multi_indices(len(vs), total):
            name = _label(vs, alpha)
            if total > 0:
                i = max(k for k, a in enumerate(alpha) if a)
                parent = list(alpha)
                parent[i] -= 1
                parent = tuple(parent)
                x = vs[i]
                root = differ.d(derivs[parent], x)
                subs = [root]
                value = root.after
                simp = simplify_step(value)
                if simp is not None:
                    subs.append(simp)
                    value = simp.after
                pname = _label(vs, parent)
                ref = f" (step {where_step[parent]})" if parent in where_step else ""
                others = [
                    v for v in sorted(differ.expand(derivs[parent]).free_symbols, key=str) if v != x
                ]
                names = {f"h{k}": v for k, v in enumerate(others)} if multi else {}
                held = (", holding " + ", ".join("{" + k + "}" for k in names) + " constant"
                        if names else "")  # fmt: skip
                steps.append(
                    Step(
                        "derivative",
                        Derivative(fa, *_spec(vs, alpha)),
                        value,
                        explain(
                            "{name}: differentiate {parent}"
                            + ref
                            + " with respect to {x}"
                            + held
                            + ".",
                            name=_sym(name),
                            parent=_sym(pname),
                            x=x,
                            **names,
                        ),
                        subs,
                        # D^alpha f = d/dx of the parent's value (checked in its own step):
                        # first order only, the same evaluations as the root substep's
                        check=lambda step, p=derivs[parent], x=x: disagreement(
                            Derivative(p, x), step.after, definitions, 4, 30, 0
                        ) is None,
                    )  # fmt: skip
                )
                derivs[alpha] = value
                where_step[alpha] = len(steps)
            expr_here = derivs[alpha]
            val = (
                sympy.simplify(differ.expand(expr_here).subs(point))
                if expr_here.free_symbols
                else expr_here
            )
            at_point = Derivative(fa, *_spec(vs, alpha)) if total else fa
            if singular or _taylor.undefined(val):
                # 0/0 at the point: the value is a limit (a DerivationError from the series
                # when the point is genuinely not analytic)
                if not series:
                    series.update(_taylor.series_values(f, point, order))
                val = series[alpha]
                full = differ.expand(expr_here)
                steps.append(
                    Step(
                        "limit",
                        Subs(at_point, vs, vals),
                        val,
                        explain(
                            "{name} cannot be evaluated at {at} by substitution (0/0), but it "
                            "has a limit there: {val} (from the series of f about the point).",
                            name=_sym(name),
                            at=at,
                            val=val,
                        ),
                        check=lambda step, e=full, v=val: _taylor.limit_check(e, point, v),
                    )  # fmt: skip
                )
            else:
                steps.append(
                    Step(
                        "evaluate",
                        Subs(at_point, vs, vals),
                        val,
                        explain("Evaluate {name} at {at}.", name=_sym(name), at=at),
                        form=Subs(expr_here, vs, vals) if total else None,
                    )  # fmt: skip
                )
            denom = math.prod(math.factorial(k) for k in alpha)
            mono = sympy.Mul(*[(v - a) ** k for v, a, k in zip(vs, vals, alpha, strict=True)])
            coeff = val / denom
            terms_form.append(coeff if mono == 1 else sympy.Mul(coeff, mono, evaluate=False))
            values[alpha] = val
    poly = _taylor.polynomial(values, point)
    steps.append(
        Step(
            "assemble",
            sympy.Add(*terms_form, evaluate=False),
            poly,
            "Assemble the terms: each value at the point divided by a! (the product of the "
            "factorials of the orders), times the matching powers; zero terms drop out.",
        )  # fmt: skip
    )
    if definitions:
        full = poly.xreplace(definitions)
        if full != poly:
            steps.append(Step("substitution", poly, full, "Substitute back the abbreviations."))
            poly = full
    title = explain("Taylor polynomial of {f} about {at}, degree {n}", f=f, at=at,
                    n=sympy.Integer(order))  # fmt: skip
    limits = any(st.rule == "limit" for st in steps)
    return Derivation(
        title, "taylor", f, steps, poly, definitions=definitions,
        result_check=lambda d: _result_check(d, f, fa, point, order, limits),
    )  # fmt: skip


def _result_check(d, f, fa, point: dict, order: int, limits: bool) -> bool:
    """The result is a polynomial of total degree <= order in the shifts x - a whose
    coefficient of each (x - a)^alpha, times alpha!, is the partial derivative D^alpha f at
    the point, by numeric differentiation (mpmath.diff, shared with the evaluate steps).
    Where f is 0/0 at the point (the values are limits), against SymPy's own series."""
    if limits:
        return disagreement(d.result, _reference(f, point, order), {}, 4, 30, 0) is None
    vs, vals = list(point), list(point.values())
    shifted = sympy.expand(_to_sympy(d.result).xreplace({v: v + a for v, a in point.items()}))
    try:
        poly = sympy.Poly(shifted, *vs)
    except sympy.PolynomialError:
        return False
    coeffs = dict(poly.terms())
    if any(sum(alpha) > order for alpha in coeffs):
        return False
    claimed, exact = [], []
    for total in range(order + 1):
        for alpha in _multi_indices(len(vs), total):
            c = coeffs.get(alpha, sympy.S.Zero)
            claimed.append(c * math.prod(math.factorial(k) for k in alpha))
            exact.append(
                Subs(Derivative(fa, *_spec(vs, alpha)), vs, vals) if total else fa.xreplace(point)
            )
    return disagreement(exact, claimed, d.definitions, 4, 30, 0) is None
