"""The least-squares engine (symml.fitting.lsq) against independent references.

References: closed-form (weighted) linear regression in plain NumPy, SciPy's curve_fit with
finite-difference Jacobians, mpmath sums written here.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import curve_fit

from symml.errors import DataError, FitError
from symml.fitting.lsq import LsqSolution, solve_least_squares

x, y, a, b, c = sp.symbols("x y a b c", real=True)


def _linear_reference(X: np.ndarray, yv: np.ndarray, w: np.ndarray | None = None):
    """Closed-form (weighted) least squares: beta, s^2 (X^T W X)^-1, rss."""
    w = np.ones(len(yv)) if w is None else w
    XtWX = X.T @ (w[:, None] * X)
    beta = np.linalg.solve(XtWX, X.T @ (w * yv))
    res = yv - X @ beta
    rss = float(np.sum(w * res**2))
    dof = len(yv) - X.shape[1]
    return beta, rss / dof * np.linalg.inv(XtWX), rss


def test_linear_regression_matches_closed_form():
    rng = np.random.default_rng(0)
    xs = rng.uniform(-3, 3, 40)
    ys = 1.5 - 0.7 * xs + 0.2 * xs**2 + rng.normal(0, 0.3, 40)
    sol = solve_least_squares(y - (a + b * x + c * x**2), [a, b, c], {"x": xs, "y": ys}, [0, 0, 0])
    beta, cov, rss = _linear_reference(np.column_stack([np.ones(40), xs, xs**2]), ys)
    assert isinstance(sol, LsqSolution) and sol.success
    np.testing.assert_allclose(sol.x, beta, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sol.cov, cov, rtol=1e-10)
    np.testing.assert_allclose(sol.stderr, np.sqrt(np.diag(cov)), rtol=1e-10)
    assert sol.rss == pytest.approx(rss, rel=1e-12)
    assert sol.dof == 37
    np.testing.assert_allclose(sol.residuals, ys - (beta[0] + beta[1] * xs + beta[2] * xs**2),
                               atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(sol.jac, -np.column_stack([np.ones(40), xs, xs**2]))


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(5, 60),
    slope=st.floats(-50, 50),
    scale=st.floats(1e-3, 1e3),
)
def test_weighted_line_matches_closed_form(seed, n, slope, scale):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0, 10, n)
    ys = scale * (2.0 + slope * xs + rng.normal(0, 1, n))
    w = rng.uniform(0.1, 5.0, n)
    sol = solve_least_squares(y - (a + b * x), [a, b], {x: xs, y: ys}, [1.0, 1.0], weights=w)
    beta, cov, rss = _linear_reference(np.column_stack([np.ones(n), xs]), ys, w)
    assert sol.success, sol.message
    np.testing.assert_allclose(sol.x, beta, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(sol.stderr, np.sqrt(np.diag(cov)), rtol=1e-7)
    assert sol.rss == pytest.approx(rss, rel=1e-9)


def test_exponential_decay_matches_curve_fit():
    rng = np.random.default_rng(1)
    xs = np.linspace(0, 5, 30)
    ys = 3.0 * np.exp(-0.8 * xs) + 0.5 + rng.normal(0, 0.02, 30)
    sol = solve_least_squares(y - (a * sp.exp(-b * x) + c), [a, b, c], {"x": xs, "y": ys},
                              [1.0, 1.0, 0.0])  # fmt: skip
    popt, pcov = curve_fit(lambda t, p, q, r: p * np.exp(-q * t) + r, xs, ys, p0=[1, 1, 0],
                           xtol=1e-14, ftol=1e-14)  # fmt: skip
    assert sol.success
    np.testing.assert_allclose(sol.x, popt, rtol=1e-7)
    np.testing.assert_allclose(sol.stderr, np.sqrt(np.diag(pcov)), rtol=1e-5)
    # exact Jacobian: far fewer evaluations than curve_fit's finite differences would need
    assert sol.nfev < 60


def test_exact_decimal_data_reach_extended_precision():
    """A zero-residual problem: data given as exact decimals; the RSS is the round-off of the
    decimals, evaluated in extended precision (double precision would return noise)."""
    xs = [f"{0.05 * i:.2f}" for i in range(24)]
    ys = [mpmath.nstr(2 * mpmath.exp(-mpmath.mpf(v) * 3) + mpmath.exp(-mpmath.mpf(v)), 14)
          for v in xs]  # fmt: skip
    sol = solve_least_squares(y - (a * sp.exp(-b * x) + sp.exp(-c * x)), [a, b, c],
                              {"x": xs, "y": ys}, [1.5, 2.0, 1.5])  # fmt: skip
    assert sol.success and sol.polished
    with mpmath.workdps(40):
        xm = [mpmath.mpf(float(v)) for v in sol.x]
        pts = [(mpmath.mpf(xv), mpmath.mpf(yv)) for xv, yv in zip(xs, ys, strict=True)]
        ref = mpmath.fsum(
            (yv - xm[0] * mpmath.exp(-xm[1] * xv) - mpmath.exp(-xm[2] * xv)) ** 2 for xv, yv in pts
        )  # fmt: skip
    assert ref < 1e-26
    assert sol.rss == pytest.approx(float(ref), rel=1e-3)
    np.testing.assert_allclose(sol.x, [2.0, 3.0, 1.0], rtol=1e-11)


def test_bounds_active_and_inactive():
    xs = np.linspace(-2, 2, 20)
    ys = 2 * xs + 1 + 0.1 * np.sin(5 * xs)
    sol = solve_least_squares(y - (a * x + b), [a, b], {x: xs, y: ys}, [0.5, 0.0],
                              bounds=[(None, 1.5), (None, None)])  # fmt: skip
    assert sol.success
    # with a held at 1.5 the best intercept is mean(y - 1.5 x)
    np.testing.assert_allclose(sol.x, [1.5, np.mean(ys - 1.5 * xs)], rtol=1e-10)
    free = solve_least_squares(y - (a * x + b), [a, b], {x: xs, y: ys}, [0.5, 0.0],
                               bounds=[(0, 3), (-10, 10)])  # fmt: skip
    beta, _, _ = _linear_reference(np.column_stack([xs, np.ones(20)]), ys)
    np.testing.assert_allclose(free.x, beta, rtol=1e-10)


def test_singular_jtj_is_reported_not_success():
    xs = np.linspace(0.5, 4, 20)
    sol = solve_least_squares(y - a * b * x, [a, b], {x: xs, y: 2 * xs + 0.1 * np.sin(xs)}, [1, 1])
    assert not sol.success and sol.status == 3
    assert sol.cov is None and np.all(np.isnan(sol.stderr))
    assert "a, b" in sol.cov_reason and "cannot be determined" in sol.cov_reason
    # the product is still determined: it is the slope of a line through the origin
    assert sol.x[0] * sol.x[1] == pytest.approx(
        np.dot(xs, 2 * xs + 0.1 * np.sin(xs)) / np.dot(xs, xs)
    )


def test_estimates_running_off_to_infinity_are_not_success():
    """y = x exactly: a*x/(b + x) fits only in the limit a = b -> infinity."""
    xs = np.linspace(0.5, 4, 20)
    sol = solve_least_squares(y - a * x / (b + x), [a, b], {x: xs, y: xs.copy()}, [1.0, 1.0])
    assert not sol.success
    assert np.all(np.abs(sol.x) > 1e6)
    sep = np.linspace(-2, 2, 20)
    sol = solve_least_squares(y - 1 / (1 + sp.exp(-a * (x - b))), [a, b],
                              {x: sep, y: (sep > 0).astype(float)}, [1.0, 0.1])  # fmt: skip
    assert not sol.success and sol.status in (-1, 0, 3)
    assert abs(sol.x[0]) > 100  # the slope runs off towards infinity


def test_bad_input_errors():
    xs = np.linspace(0, 1, 5)
    with pytest.raises(DataError, match="no data for y"):
        solve_least_squares(y - a * x, [a], {"x": xs}, [1.0])
    with pytest.raises(DataError, match="different lengths"):
        solve_least_squares(y - a * x, [a], {"x": xs, "y": xs[:4]}, [1.0])
    with pytest.raises(DataError, match="2 NaN or infinite"):
        solve_least_squares(y - a * x, [a], {"x": xs, "y": [1, np.nan, 2, np.inf, 3]}, [1.0])
    with pytest.raises(FitError, match="does not depend on parameter b"):
        solve_least_squares(y - a * x, [a, b], {"x": xs, "y": xs}, [1.0, 1.0])
    with pytest.raises(FitError, match="p0 has 1 values for 2"):
        solve_least_squares(y - a * x - b, [a, b], {"x": xs, "y": xs}, [1.0])
    with pytest.raises(FitError, match="not finite at the starting point"):
        solve_least_squares(y - sp.log(a * x), [a], {"x": xs, "y": xs}, [-1.0])
    with pytest.raises(DataError, match="weights must be non-negative"):
        solve_least_squares(y - a * x, [a], {"x": xs, "y": xs}, [1.0], weights=-np.ones(5))
    with pytest.raises(FitError, match="low 2.0 must be below high 1.0"):
        solve_least_squares(y - a * x, [a], {"x": xs, "y": xs}, [1.0], bounds=[(2, 1)])


def test_no_degrees_of_freedom():
    sol = solve_least_squares(y - (a + b * x), [a, b], {x: [0.0, 1.0], y: [1.0, 3.0]}, [0, 0])
    np.testing.assert_allclose(sol.x, [1.0, 2.0], atol=1e-14)
    assert sol.cov is None and "no degrees of freedom" in sol.cov_reason


def test_symml_functions_in_the_model_are_polished():
    """sigmoid/softplus (symml.functions) are evaluated in extended precision too."""
    from symml.functions import sigmoid

    xs = np.linspace(-3, 3, 30)
    ys = 1 / (1 + np.exp(-(1.3 * xs + 0.4))) + 0.01 * np.sin(7 * xs)
    sol = solve_least_squares(y - sigmoid(a * x + b), [a, b], {x: xs, y: ys}, [1.0, 0.1])
    popt, pcov = curve_fit(lambda t, p, q: 1 / (1 + np.exp(-(p * t + q))), xs, ys, p0=[1, 0.1],
                           xtol=1e-14, ftol=1e-14)  # fmt: skip
    assert sol.success and sol.polished
    np.testing.assert_allclose(sol.x, popt, rtol=1e-7)
    np.testing.assert_allclose(sol.stderr, np.sqrt(np.diag(pcov)), rtol=1e-5)


@pytest.mark.parametrize(
    "ys, expected",
    [
        (lambda t: 2 * t, [0.0, 2.0]),  # zero residuals and an intercept of exactly 0
        (lambda t: 0 * t, [0.0, 0.0]),  # every estimate 0
        (lambda t: 1.5 + 0 * t, [1.5, 0.0]),  # a slope of exactly 0
    ],
)
def test_exact_fits_with_zero_estimates_converge(ys, expected):
    xs = np.linspace(-1, 1, 11)
    sol = solve_least_squares(y - (a + b * x), [a, b], {x: xs, y: ys(xs)}, [1.0, 1.0])
    assert sol.success, sol.message
    np.testing.assert_allclose(sol.x, expected, atol=1e-14)
    assert sol.rss < 1e-28


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rate=st.floats(0.05, 5.0),
    noise=st.sampled_from([0.0, 1e-3, 0.1, 1.0]),
    start_factor=st.floats(0.2, 5.0),
)
def test_success_means_a_stationary_point(seed, rate, noise, start_factor):
    """Whenever success is reported, the point is stationary by an independent NumPy check
    (hand-written Jacobian of a*exp(-b*x) + c; the Gauss-Newton step from a plain lstsq is
    negligible against the standard errors or the estimates)."""
    rng = np.random.default_rng(seed)
    xs = np.linspace(0, 4, 25)
    ys = 2.0 * np.exp(-rate * xs) + 0.5 + noise * rng.normal(size=25)
    p0 = np.array([2.0, rate, 0.5]) * start_factor
    sol = solve_least_squares(y - (a * sp.exp(-b * x) + c), [a, b, c], {x: xs, y: ys}, p0)
    if not sol.success:
        assert sol.status in (-1, 0, 3) and sol.message
        return
    A, B, C = sol.x
    e = np.exp(-B * xs)
    r = ys - (A * e + C)
    J = -np.column_stack([e, -A * xs * e, np.ones_like(xs)])
    dx = np.linalg.lstsq(J, -r, rcond=None)[0]
    assert np.all(np.abs(dx) <= 1e-6 * sol.stderr + 1e-9 * (np.abs(sol.x) + 1e-3))
    assert sol.rss == pytest.approx(float(np.sum(r**2)), rel=1e-6, abs=1e-20)


def test_large_problem_skips_the_polish_and_still_converges():
    rng = np.random.default_rng(3)
    xs = rng.uniform(-2, 2, 30_000)  # 30,000 rows * 3 > POLISH_MAX_CELLS
    ys = 1.0 + 0.5 * xs + rng.normal(0, 0.1, xs.size)
    sol = solve_least_squares(y - (a + b * x), [a, b], {x: xs, y: ys}, [0.0, 0.0])
    beta, cov, rss = _linear_reference(np.column_stack([np.ones(xs.size), xs]), ys)
    assert sol.success and not sol.polished
    np.testing.assert_allclose(sol.x, beta, rtol=1e-10)
    np.testing.assert_allclose(sol.stderr, np.sqrt(np.diag(cov)), rtol=1e-8)
