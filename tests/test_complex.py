"""Complex values are never dropped: compile, minimize and fit say where a value is not real.

The reference for "is this constant real?" is mpmath at 30 digits, independent of SymPy's
assumptions that symml's compile-time check uses.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symml as sm
from symml.errors import ArgumentError, DataError, SymmlError

# symml function name -> mpmath reference
FUNCS = {
    "log": mpmath.log,
    "sqrt": mpmath.sqrt,
    "asin": mpmath.asin,
    "acos": mpmath.acos,
    "acosh": mpmath.acosh,
    "atanh": mpmath.atanh,
    "loggamma": mpmath.loggamma,
}


def _reference(fname: str, p: int, q: int):
    """mpmath's value of fname(p/q): (real?, value) or None where it is a pole/infinite."""
    with mpmath.workdps(30):
        try:
            v = mpmath.mpc(FUNCS[fname](mpmath.mpf(p) / q))
        except (ValueError, ZeroDivisionError):
            return None
        if not (mpmath.isfinite(v.real) and mpmath.isfinite(v.imag)):
            return None
        return abs(v.imag) < mpmath.mpf(10) ** -25, float(v.real)


@settings(max_examples=120, deadline=None)
@given(
    fname=st.sampled_from(sorted(FUNCS)),
    p=st.integers(-6, 6),
    q=st.integers(1, 4),
    op=st.sampled_from(["x + {c}", "x*{c}", "exp(x) - 2*{c}", "{c}/(1 + x^2)"]),
)
def test_constant_subexpressions_real_iff_mpmath_says_so(fname, p, q, op):
    c = f"{fname}({p}/{q})"
    text = op.format(c=c)
    ref = _reference(fname, p, q)
    if ref is None:  # a pole or an infinite value: an error, or an infinite result
        try:
            v = sm.compile(text, "x")(0.0)
        except ArgumentError:
            return
        assert math.isinf(float(v)) or math.isnan(float(v))
        return
    real, value = ref
    if not real:
        with pytest.raises(ArgumentError, match="not a real number"):
            sm.compile(text, "x")
        with pytest.raises(SymmlError):
            sm.minimize(f"{text} + x^2", {"x": 1.0})
        return
    f = sm.compile(text, "x")
    expect = {
        "x + {c}": value,
        "x*{c}": 0.0,
        "exp(x) - 2*{c}": 1 - 2 * value,
        "{c}/(1 + x^2)": value,
    }[op]
    assert float(f(0.0)) == pytest.approx(expect, rel=1e-13, abs=1e-13)


def test_the_reported_examples():
    with pytest.raises(ArgumentError, match="-I\\*pi"):
        sm.compile("y - log(-3)", "y")
    with pytest.raises(ArgumentError, match="undefined"):
        sm.compile("log(0)", "x")
    with pytest.raises(ArgumentError, match="not a real number"):
        sm.minimize("log(-1) + x^2", {"x": 1})
    with pytest.raises(ArgumentError, match="not a real number"):
        sm.compile(["x", "[x, sqrt(-2)]"], "x")


@pytest.mark.parametrize("k", [300, 307, 308, 309, 400, 1000])
@pytest.mark.parametrize(
    "form", ["x*10^{k}/3", "-x*10^{k}/7", "x*exp({k}*log(10))/3", "x/10^{k}*7"]
)
def test_constants_beyond_float_range_are_errors_not_overflow(form, k):
    text = form.format(k=k)
    exact = sm.expr(text).subs(sm.symbol("x"), 1)
    big = abs(float(mpmath.mpf(str(exact.evalf(30))))) > 1.7976931348623157e308
    if big:
        with pytest.raises(ArgumentError, match="range of double precision"):
            sm.compile(text, "x")
        return
    got = float(sm.compile(text, "x")(1.0))
    assert got == pytest.approx(float(exact.evalf(20)), rel=1e-15)


def test_loggamma_is_nan_exactly_where_it_is_not_real():
    xs = np.concatenate([np.linspace(-6.3, 6.3, 127), [0.5, 1.0, 2.0, 7.5]])
    xs = xs[np.abs(xs - np.round(xs)) > 1e-9]  # off the poles
    got = sm.compile("loggamma(x)", "x")(xs)
    for x, g in zip(xs, got, strict=True):
        v = mpmath.loggamma(mpmath.mpf(float(x)))
        if abs(mpmath.im(v)) > 1e-20:
            assert np.isnan(g), (x, g, v)
        else:
            assert g == pytest.approx(float(mpmath.re(v)), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "fname, ref", [("log", mpmath.log), ("sqrt", mpmath.sqrt), ("asin", mpmath.asin)]
)
def test_run_time_rule_nan_where_not_real(fname, ref):
    xs = np.linspace(-3, 3, 61)
    with np.errstate(invalid="ignore", divide="ignore"):
        got = sm.compile(f"{fname}(x)", "x")(xs)
    for x, g in zip(xs, got, strict=True):
        v = mpmath.mpc(ref(mpmath.mpf(float(x))))
        if abs(v.imag) > 0:
            assert np.isnan(g)
        elif mpmath.isinf(v.real):
            assert np.isinf(g)
        else:
            assert g == pytest.approx(float(v.real), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize(
    "value",
    [1 + 2j, np.complex128(1 - 1j), np.array([1.0, 2j]), [1.0, 1j], np.array([1 + 0j])],
)
def test_complex_arguments_are_argument_errors(value):
    f = sm.compile("x^2", "x")
    with pytest.raises(ArgumentError, match="complex"):
        f(value)


def test_minimize_never_reports_a_nan_objective_as_success():
    for text, x0 in [("log(x) + x^2", -1.0), ("sqrt(x) - x", -2.0), ("loggamma(x)", -0.5)]:
        with np.errstate(invalid="ignore"):
            r = sm.minimize(text, {"x": x0})
        assert not r.success and "nan" in r.message


@pytest.mark.parametrize(
    "column",
    [np.array([1.0, 2.0, 3.0 + 1e-3j, 4.0]), [1.0, 2.0 + 1j, 3.0, 4.0], np.array([1j, 2, 3, 4])],
)
def test_complex_data_are_data_errors(column):
    data = {"x": [0.0, 1.0, 2.0, 3.0], "y": column}
    with pytest.raises(DataError, match="complex"):
        sm.fit("param a, b; y ~ a + b*x", data)
    with pytest.raises(DataError, match="complex"):
        sm.fit("param a, b; y ~ a + b*x", {"x": column, "y": [0.0, 1.0, 2.0, 3.0]})


def test_complex_with_zero_imaginary_part_is_real_data():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = 1 + 2 * x + np.array([0.1, -0.1, 0.1, -0.1])
    a = sm.fit("param a, b; y ~ a + b*x", {"x": x, "y": y.astype(complex)})
    b = sm.fit("param a, b; y ~ a + b*x", {"x": x, "y": y})
    np.testing.assert_array_equal(a.x, b.x)


def test_non_real_constant_in_a_fit_model():
    with pytest.raises(SymmlError, match="not a real number"):
        sm.fit("param a; y ~ a*x + log(-2)", {"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]})
