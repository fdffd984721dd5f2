"""Taylor polynomials at removable singularities, at kinks, and about a != 0.

References: SymPy's ``series`` of f itself (a different code path from symml's series of
f(p + t*(x - p))), and mpmath: the remainder f(x) - T(x) shrinks like |x - p|^(n + 1).
"""

from __future__ import annotations

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symml as sm
from symml.errors import DerivationError

x, y = (sympy.Symbol(n, real=True) for n in ("x", "y"))
R = sympy.Rational

# numerator g with g(0) = 0 to order >= k, so g/x^k has a removable singularity at 0
_NUMERATORS = [
    (lambda: sympy.sin(x), 1),
    (lambda: sympy.exp(x) - 1, 1),
    (lambda: sympy.log(1 + x), 1),
    (lambda: 1 - sympy.cos(x), 2),
    (lambda: sympy.atan(x), 1),
    (lambda: sympy.sinh(x) - x, 3),
    (lambda: sympy.sin(x) ** 2, 2),
]


def _remainder_shrinks(f, T, p, n):
    """|f - T| at p + h is O(h^(n+1)): dividing h by 10 divides it by ~10^(n+1)."""
    fn = sympy.lambdify(x, f, "mpmath")
    tn = sympy.lambdify(x, sympy.expand(T), "mpmath")
    with mpmath.workdps(60):
        r1 = abs(fn(p + mpmath.mpf("1e-3")) - tn(p + mpmath.mpf("1e-3")))
        r2 = abs(fn(p + mpmath.mpf("1e-4")) - tn(p + mpmath.mpf("1e-4")))
        return r1 < mpmath.mpf(10) ** (-3 * (n + 1) + 2) and r2 < r1 * mpmath.mpf(10) ** (-n)


@settings(max_examples=8, deadline=None)
@given(st.sampled_from(_NUMERATORS), st.integers(0, 2), st.integers(1, 5))
def test_removable_singularities_expand(num, extra, order):
    g, k = num
    f = g() * (1 + x) ** extra / x**k
    T = sm.taylor(f, {"x": 0}, order)
    ref = sympy.series(f, x, 0, order + 1).removeO()
    assert sympy.expand(T - ref) == 0
    assert _remainder_shrinks(f, T, 0, order)
    d = sm.steps.taylor(f, {"x": 0}, min(order, 3))
    assert sympy.expand(d.result - sympy.series(f, x, 0, min(order, 3) + 1).removeO()) == 0
    assert d.verify()


@pytest.mark.parametrize(
    "text, order", [("sin(x)/x", 4), ("(exp(x) - 1)/x", 3), ("1/(x^-2 + x^-3)", 5)]
)
def test_the_reported_removable_singularities(text, order):
    f = sm.expr(text)
    T = sm.taylor(text, {"x": 0}, order)
    assert sympy.expand(T - sympy.series(f, x, 0, order + 1).removeO()) == 0


def test_removable_singularity_in_two_variables():
    T = sm.taylor("sin(x*y)/(x*y)", {"x": 0, "y": 0}, 4)
    assert sympy.expand(T - (1 - x**2 * y**2 / 6)) == 0
    assert sm.steps.taylor("sin(x*y)/(x*y)", {"x": 0, "y": 0}, 2).verify()


@pytest.mark.parametrize(
    "text",
    ["log(x)", "sqrt(x)", "1/x", "x*log(x)", "abs(x)", "relu(x)", "sign(x)", "floor(x)",
     "x^2*abs(x)", "max(x, 0)", "heaviside(x)", "x^(3/2)", "exp(-1/x^2)*0 + 1/x^2"],
)  # fmt: skip
def test_genuinely_non_analytic_points_raise(text):
    with pytest.raises(DerivationError, match="not analytic|no Taylor series"):
        sm.taylor(text, {"x": 0}, 3)
    with pytest.raises(DerivationError):
        sm.steps.taylor(text, {"x": 0}, 3)


def test_direction_dependent_limit_is_not_analytic():
    with pytest.raises(DerivationError):
        sm.taylor("x*y/(x^2 + y^2)", {"x": 0, "y": 0}, 2)


@settings(max_examples=8, deadline=None)
@given(
    st.sampled_from(["log(x)", "exp(x)", "sqrt(x)", "sin(x)/x", "1/(1 + x^2)", "atan(x)"]),
    st.sampled_from([R(1), R(2), R(1, 2), R(3, 2)]),
    st.integers(1, 4),
)
def test_expansions_about_a_print_in_powers_of_x_minus_a(text, p, order):
    T = sm.taylor(text, {"x": p}, order)
    f = sm.expr(text)
    ref = sympy.series(f, x, p, order + 1).removeO()
    assert sympy.expand(T - ref) == 0  # an ordinary expression equal to the polynomial
    printed = sm.to_text(T)
    shift = sm.to_text(x - p)
    assert f"({shift})" in printed
    assert sympy.expand(sm.expr(printed) - ref) == 0  # the text parses back to the same value
    # no bare power of x: every x sits inside a power of (x - p)
    assert sympy.expand(sm.expr(printed.replace(f"({shift})", "h"))).free_symbols <= {
        sympy.Symbol("h", real=True)
    }


def test_log_about_1_reads_as_powers_of_x_minus_1():
    assert sm.to_text(sm.taylor("log(x)", {"x": 1}, 3)) == "(x - 1)^3/3 - (x - 1)^2/2 + (x - 1)^1"
