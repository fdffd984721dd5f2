"""Taylor coefficients that are right at removable singularities and honest at kinks.

Shared by :func:`symml.calculus.taylor` and :func:`symml.steps.taylor`:

* :func:`kink` finds a non-analytic point that a derivative would hide: ``abs(x)`` at 0 has
  derivative ``sign(0) = 0`` and would expand silently to 0 (also sign, Heaviside, relu,
  max/min, floor/ceiling at an integer, a Piecewise condition's boundary).
* :func:`series_values` gives the partial derivatives at a point where substituting the point
  gives nan (``sin(x)/x`` at 0), from SymPy's series of ``f(p + t*(x - p))`` in ``t``; a
  series with negative or fractional powers or logarithms means the point is genuinely not
  analytic, a :class:`~symml.errors.DerivationError`.
* :func:`polynomial` writes the result in powers of ``(x - a)``: the expression is an
  ordinary SymPy expression equal to the polynomial (``expand`` gives the power basis).

>>> import sympy
>>> x = sympy.Symbol("x", real=True)
>>> series_values(sympy.sin(x)/x, {x: 0}, 2)
{(0,): 1, (1,): 0, (2,): -1/3}
>>> polynomial({(0,): 0, (1,): 1, (2,): -1}, {x: 1})
-(x - 1)**2/2 + (x - 1)**1
"""

from __future__ import annotations

import math

import sympy

from ._convert import to_sympy as _to_sympy
from ._limits import time_limit
from .errors import DerivationError, LimitError
from .functions import relu

__all__ = ["kink", "series_values", "polynomial", "undefined", "limit_check", "term"]


def undefined(value: sympy.Expr) -> bool:
    """True when substituting a point gave no finite value (nan, zoo, +-oo)."""
    return bool(value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo))


def _vanishes(e: sympy.Expr, point: dict, integer: bool = False) -> bool:
    try:
        v = _to_sympy(_to_sympy(e).xreplace(point))
        v = sympy.nsimplify(v) if v.is_Float else v
        if integer:
            return bool(v.is_integer)
        return bool(v.is_zero)
    except (TypeError, ValueError, AttributeError):
        return False


def kink(f: sympy.Expr, point: dict) -> str | None:
    """A description of the kink or jump of ``f`` at ``point``, or None when there is none.

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> kink(abs(x) + x**2, {x: 0})
    'Abs(x) has a kink or jump at the point'
    >>> kink(abs(x - 1), {x: 0}) is None
    True
    """
    for e in sympy.preorder_traversal(f):
        if not (e.free_symbols & set(point)):
            continue
        hit = False
        if isinstance(e, (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.DiracDelta, relu)):
            hit = _vanishes(e.args[0], point)
        elif isinstance(e, (sympy.floor, sympy.ceiling, sympy.frac)):
            hit = _vanishes(e.args[0], point, integer=True)
        elif isinstance(e, (sympy.Max, sympy.Min)):
            a = e.args
            hit = any(_vanishes(p - q, point) for i, p in enumerate(a) for q in a[i + 1 :])
        elif isinstance(e, sympy.Piecewise):
            hit = any(
                _vanishes(rel.lhs - rel.rhs, point)
                for _, cond in e.args
                for rel in cond.atoms(sympy.Rel)
            )
        if hit:
            return f"{e} has a kink or jump at the point"
    return None


def series_values(f: sympy.Expr, point: dict, order: int, seconds: float | None = None) -> dict:
    """Multi-index -> the partial derivative of ``f`` at ``point``, from a series (so limits
    where substitution gives nan), for every multi-index of total degree <= ``order``.

    Raises
    ------
    DerivationError
        When ``f`` is not analytic at the point (the series has negative or fractional
        powers, logarithms, or terms that are not polynomials in the shifts).
    """
    vs = list(point)
    where = ", ".join(f"{v} = {a}" for v, a in point.items())
    t = sympy.Dummy("t", positive=True)
    g = f.xreplace({v: a + t * (v - a) for v, a in point.items()})
    try:
        with time_limit(seconds, f"the series of {f} about {where}"):
            ser = sympy.series(g, t, 0, order + 1).removeO()
            ser = sympy.expand(ser)
    except LimitError:
        raise
    except Exception as exc:  # noqa: BLE001 - SymPy could not expand it: say so
        raise DerivationError(
            f"{f} has no Taylor series about {where} that SymPy can find "
            f"({type(exc).__name__}); choose another expansion point"
        ) from None
    not_analytic = DerivationError(
        f"{f} is not analytic at {where} (its expansion there is not a power series: "
        "negative or fractional powers, logarithms, or terms that depend on the direction); "
        "choose another expansion point"
    )
    by_degree: dict[int, sympy.Expr] = {}
    for term in sympy.Add.make_args(ser):
        c, e = term.as_independent(t, as_Add=False)
        k = sympy.S.Zero if e == 1 else (e.exp if e.is_Pow and e.base == t else None)
        if e == t:
            k = sympy.S.One
        if k is None or not k.is_integer or k < 0 or c.has(t) or undefined(c):
            raise not_analytic
        by_degree[int(k)] = by_degree.get(int(k), 0) + c
    hs = [sympy.Dummy(f"h{i}") for i in range(len(vs))]
    shift = {v: a + h for v, a, h in zip(vs, point.values(), hs, strict=True)}
    values: dict[tuple, sympy.Expr] = {}
    for k in range(order + 1):
        ck = sympy.expand(_to_sympy(by_degree.get(k, 0)).xreplace(shift))
        try:
            poly = sympy.Poly(ck, *hs)
        except sympy.PolynomialError:
            raise not_analytic from None
        for monom, coeff in poly.terms():
            if coeff == 0:
                continue
            if sum(monom) != k or coeff.has(*vs) or undefined(coeff):
                raise not_analytic
            values[tuple(monom)] = sympy.simplify(coeff * math.prod(map(math.factorial, monom)))
    out = {}
    for k in range(order + 1):
        for alpha in _multi_indices(len(vs), k):
            out[alpha] = values.get(alpha, sympy.S.Zero)
    return out


def limit_check(expr: sympy.Expr, point: dict, value: sympy.Expr) -> bool:
    """Numerically, ``expr`` tends to ``value`` at ``point``: evaluated (50 digits) at distance
    1e-12 from the point in several directions, it agrees with ``value`` to 1e-8."""
    import random

    import mpmath

    rng = random.Random(0)
    target = complex(sympy.N(value, 30))
    for _ in range(4):
        near = {v: a + sympy.Rational(rng.choice((-1, 1)) * rng.randint(1, 9), 10**13)
                for v, a in point.items()}  # fmt: skip
        got = complex(sympy.N(expr.xreplace(near), 50))
        if not (mpmath.isfinite(got.real) and mpmath.isfinite(got.imag)):
            raise AssertionError(f"{expr} is not finite near the point")
        if abs(got - target) > 1e-8 * max(1.0, abs(target)):
            raise AssertionError(f"{expr} tends to {got:.12g} near the point, not {target:.12g}")
    return True


def _multi_indices(n: int, total: int):
    import itertools

    for combo in itertools.combinations_with_replacement(range(n), total):
        alpha = [0] * n
        for c in combo:
            alpha[c] += 1
        yield tuple(alpha)


def term(value: sympy.Expr, alpha: tuple, point: dict) -> sympy.Expr:
    """value/alpha! times the monomial in the shifts ``(x - a)``, kept in that form."""
    denom = math.prod(math.factorial(k) for k in alpha)
    coeff = _to_sympy(value) / denom
    factors = [(v - a) ** k for (v, a), k in zip(point.items(), alpha, strict=True) if k]
    if not factors:
        return coeff
    mono = sympy.Mul(*factors)
    if mono.is_Add:  # a lone (x - a): a number times it would be distributed by SymPy
        if coeff == 1:
            return sympy.Pow(mono, 1, evaluate=False)
        return sympy.Mul(coeff, mono, evaluate=False)
    return coeff * mono


def polynomial(values: dict, point: dict) -> sympy.Expr:
    """The Taylor polynomial from the partial derivatives at the point, in powers of (x - a).

    >>> import sympy
    >>> x, y = sympy.symbols("x y", real=True)
    >>> polynomial({(0, 0): 2, (1, 0): 4, (0, 1): 1}, {x: 1, y: 2})
    4*(x - 1) + (y - 2)**1 + 2
    """
    terms = [term(v, alpha, point) for alpha, v in values.items() if v != 0]
    if not terms:
        return sympy.S.Zero
    if len(terms) > 1 and any(a != 0 for a in point.values()):
        # evaluate=False keeps each power of (x - a) whole (SymPy would expand a lone x - a)
        return sympy.Add(*terms, evaluate=False)
    return sympy.Add(*terms)
