"""Optimizer verdicts: Newton takes full steps where they are right; success means KKT holds.

References: numpy.linalg.solve for quadratic minima; the published optimum of
Hock-Schittkowski problem 100 (Hock & Schittkowski, *Test Examples for Nonlinear Programming
Codes*, 1981): f* = 680.6300573 at x* = (2.330499, 1.951372, -0.4775414, 4.365726,
-0.6244870, 1.038131, 1.594227); and a KKT check written here (least-squares multipliers on
the active set), independent of symml's own.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symml as sm


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
)
def test_newton_minimizes_a_convex_quadratic_in_one_iteration(n, seed, scale):
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(n, n))
    A = B @ B.T + 0.5 * np.eye(n)
    b = rng.normal(size=n)
    names = [f"x{i}" for i in range(n)]
    terms = [f"{float(A[i, j]) / 2!r}*{names[i]}*{names[j]}" for i in range(n) for j in range(n)]
    terms += [f"({float(-b[i])!r})*{names[i]}" for i in range(n)]
    x0 = {v: float(scale * rng.normal()) for v in names}
    r = sm.minimize(" + ".join(terms), x0, "newton")
    expect = np.linalg.solve(A, b)
    got = np.array([r.x[v] for v in names])
    assert r.success and r.nit == 1, r.message
    assert np.max(np.abs(got - expect)) <= 1e-10 * (1 + np.max(np.abs(expect)))
    assert "full Newton step" in r.message


def test_newton_hands_over_to_the_trust_region_where_the_hessian_is_indefinite():
    # f = x^4 - x^2 has f'' < 0 at x = 0.1: no full step there; minimum at 1/sqrt(2)
    r = sm.minimize("x^4 - x^2", {"x": 0.1}, "newton")
    assert r.success and abs(r.x["x"] - 2**-0.5) < 1e-12
    assert "trust-exact" in r.message


def test_newton_on_a_smooth_convex_function_still_converges_quadratically():
    r = sm.minimize("exp(x + y) + x^2 + y^2", {"x": 1.0, "y": -0.5}, "newton")
    t = -0.2835716452048919  # -W(1)/2
    assert r.success and abs(r.x["x"] - t) < 1e-14 and r.nit <= 6


HS100 = (
    "(x1 - 10)^2 + 5*(x2 - 12)^2 + x3^4 + 3*(x4 - 11)^2 + 10*x5^6 + 7*x6^2 + x7^4"
    " - 4*x6*x7 - 10*x6 - 8*x7"
)
HS100_CONS = [
    "127 - 2*x1^2 - 3*x2^4 - x3 - 4*x4^2 - 5*x5 >= 0",
    "282 - 7*x1 - 3*x2 - 10*x3^2 - x4 + x5 >= 0",
    "196 - 23*x1 - x2^2 - 6*x6^2 + 8*x7 >= 0",
    "-4*x1^2 - x2^2 + 3*x1*x2 - 2*x3^2 - 5*x6 + 11*x7 >= 0",
]
HS100_F = 680.6300573
HS100_X = [2.330499, 1.951372, -0.4775414, 4.365726, -0.6244870, 1.038131, 1.594227]
NAMES = [f"x{i}" for i in range(1, 8)]


def _kkt_residual(x: np.ndarray) -> tuple[float, float, float]:
    """(relative stationarity residual, smallest multiplier, largest violation), computed here."""
    f = sm.compile(HS100, NAMES, grad=NAMES)
    _, g = f(*x)
    g = np.array(g, dtype=float)
    vals, grads = [], []
    for c in HS100_CONS:
        expr = c.split(">=")[0]
        cf = sm.compile(expr, NAMES, grad=NAMES)
        v, dg = cf(*x)
        vals.append(float(v))
        grads.append(np.array(dg, dtype=float))
    vals = np.array(vals)
    active = np.abs(vals) <= 1e-6
    J = np.array(grads)[active]
    lam, *_ = np.linalg.lstsq(J.T, g, rcond=None)
    resid = float(np.max(np.abs(J.T @ lam - g))) / (1.0 + float(np.max(np.abs(g))))
    return resid, float(lam.min()) if lam.size else 0.0, float(max(0.0, -vals.min()))


@pytest.mark.parametrize("tol", [1e-6, 1e-9, 1e-12, 1e-14])
@pytest.mark.parametrize("start", ["published", "near"])
def test_hs100_success_means_kkt_holds(tol, start):
    x0 = (
        dict(x1=1, x2=2, x3=0, x4=4, x5=0, x6=1, x7=1)
        if start == "published"
        else dict(zip(NAMES, HS100_X, strict=True))
    )
    r = sm.minimize(HS100, x0, "slsqp", constraints=HS100_CONS, tol=tol)
    x = np.array([r.x[v] for v in NAMES])
    resid, lam_min, viol = _kkt_residual(x)
    assert resid < 1e-8 and lam_min > 0 and viol < 1e-9  # an accurate KKT point ...
    assert r.fun == pytest.approx(HS100_F, abs=1e-6)
    np.testing.assert_allclose(x, HS100_X, atol=2e-6)
    assert r.success and r.status == 0, r.message  # ... is reported as one
    if "SciPy stopped" in r.message:
        assert "KKT conditions hold" in r.message


def test_a_genuine_failure_stays_a_failure():
    # infeasible: x >= 1 and x <= 0
    r = sm.minimize("(x - 3)^2", {"x": 0.5}, "slsqp", constraints=["x >= 1", "x <= 0"])
    assert not r.success
