"""Why a definite integral has no value: a one-sided numerical test at each singular point.

Used by ``symml integrate`` after the integrator found no confirmed value, so that a
divergent integral (``1/x`` over ``[-1, 1]``) is reported as divergent, not as "not found".
"""

from __future__ import annotations

import mpmath
import sympy

from .._convert import as_expr, as_symbol
from ..lang import to_text

__all__ = ["divergence_message"]

#: Above this growth of a one-sided integral when the cut shrinks 1e-4 -> 1e-12 (or the
#: infinite end moves 1e4 -> 1e12), the integral is taken to diverge.
_GROWTH = 0.5


def _one_side(fn, s, side: int) -> float | None:
    """Growth of the integral of |f| over (s, s + side*h) as its cut shrinks."""
    with mpmath.workdps(30):
        try:

            def cut(eps):
                lo, hi = s + side * eps, s + side * mpmath.mpf("1e-2")
                lo, hi = (lo, hi) if side > 0 else (hi, lo)
                return mpmath.quad(lambda t: abs(fn(t)), [lo, hi], maxdegree=8)

            return float(cut(mpmath.mpf("1e-12")) - cut(mpmath.mpf("1e-4")))
        except (ValueError, ZeroDivisionError, TypeError, OverflowError):
            return None


def _at_infinity(fn, end: int) -> float | None:
    with mpmath.workdps(30):
        try:

            def cut(r):
                lo, hi = (mpmath.mpf(10) ** 4, r) if end > 0 else (-r, -(mpmath.mpf(10) ** 4))
                return mpmath.quad(lambda t: abs(fn(t)), [lo, hi], maxdegree=8)

            return float(cut(mpmath.mpf(10) ** 12) - cut(mpmath.mpf(10) ** 6))
        except (ValueError, ZeroDivisionError, TypeError, OverflowError):
            return None


def divergence_message(f, var, lower, upper) -> str | None:
    """A sentence saying where the integral of ``f`` over ``[lower, upper]`` diverges, or
    None when no divergence is found (then the integral may simply have no closed form).

    >>> print(divergence_message("1/x", "x", "-1", "1"))  # doctest: +NORMALIZE_WHITESPACE
    the integral of 1/x over x from -1 to 1 diverges (it does not exist):
    1/x is not integrable near x = 0 (from above and from below); a principal value is not
    an integral
    """
    from sympy.calculus.singularities import singularities

    f = as_expr(f)
    x = as_symbol(var, [f])
    a, b = as_expr(lower), as_expr(upper)
    if not isinstance(f, sympy.Expr) or f.free_symbols - {x} or not (a.is_number and b.is_number):
        return None
    if a.is_extended_real and b.is_extended_real and bool(a > b):
        a, b = b, a
    fn = sympy.lambdify(x, f, "mpmath")
    head = (
        f"the integral of {to_text(f)} over {x} from {to_text(as_expr(lower))} to "
        f"{to_text(as_expr(upper))} diverges (it does not exist): "
    )
    try:
        sing = singularities(f, x, sympy.Interval(a, b))
    except (NotImplementedError, TypeError, ValueError):
        sing = sympy.S.EmptySet
    points = (
        sorted(sing, key=float) if isinstance(sing, sympy.FiniteSet) and len(sing) <= 20 else []
    )
    for s in points:
        sides = []
        if (
            bool(s > a)
            and (g := _one_side(fn, mpmath.mpf(float(s)), -1)) is not None
            and g > _GROWTH
        ):
            sides.append("from below")
        if (
            bool(s < b)
            and (g := _one_side(fn, mpmath.mpf(float(s)), 1)) is not None
            and g > _GROWTH
        ):
            sides.append("from above")
        if sides:
            return head + (
                f"{to_text(f)} is not integrable near {x} = {to_text(s)} "
                f"({' and '.join(sorted(sides))})"
                + ("; a principal value is not an integral" if len(sides) == 2 else "")
            )
    for end, e in ((b, 1), (a, -1)):
        if end.is_infinite and (g := _at_infinity(fn, e)) is not None and g > _GROWTH:
            return head + f"{to_text(f)} does not decay fast enough as {x} -> {to_text(end)}"
    return None
