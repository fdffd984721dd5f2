"""Lagrange multipliers and KKT conditions against textbook closed forms.

Every problem's candidates are compared with answers worked out by hand (or in the cited
textbook), the KKT residuals are recomputed here from exact gradients of f and of the
constraints as written, the derivation passes ``verify()``, and the step-by-step result
equals the plain API. A few optima are also confirmed by SciPy's SLSQP (an independent,
numerical route), and a hypothesis test checks the projection onto a half-plane.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.optimize
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symml
from symml.errors import ArgumentError, LimitError
from symml.lagrange import lagrange, lagrangian
from symml.steps.lagrange import lagrange as lagrange_steps

x, y, z = (sympy.Symbol(n, real=True) for n in "xyz")
lam, mu = sympy.Symbol("lambda", real=True), sympy.Symbol("mu", real=True)
r2, r3, r29 = sympy.sqrt(2), sympy.sqrt(3), sympy.sqrt(29)


@functools.cache
def _derive(f, constraints, sense="min"):
    return lagrange_steps(
        f, list(constraints) if isinstance(constraints, tuple) else constraints, sense=sense
    )


def _points(result, vars_):
    return {tuple(sympy.nsimplify(p[v]) for v in vars_) for p in result}


def _residuals_here(f, constraints, point, sense="min"):
    """KKT residuals computed from scratch: grad f - sum(l*grad h) + sum(m*grad g) = 0 (for a
    minimum, m >= 0, g <= 0, m*g = 0), with g and h built here from the relations."""
    f = symml.expr(f)
    rels = [
        symml._convert.as_relation(c)
        for c in ([constraints] if isinstance(constraints, str) else constraints)
    ]
    xs = [
        v
        for v in point
        if v.name not in ("lambda", "mu") and not v.name.startswith(("lambda_", "mu_"))
    ]
    lams = [v for v in point if v.name == "lambda" or v.name.startswith("lambda_")]
    mus = [v for v in point if v.name == "mu" or v.name.startswith("mu_")]
    eqs = [r.lhs - r.rhs for r in rels if isinstance(r, sympy.Equality)]
    ineqs = [
        (r.lhs - r.rhs) if r.rel_op == "<=" else (r.rhs - r.lhs)
        for r in rels
        if not isinstance(r, sympy.Equality)
    ]
    stat = [
        sympy.diff(f, v)
        - sum(la * sympy.diff(h, v) for la, h in zip(lams, eqs, strict=True))
        + sum(m * sympy.diff(g, v) for m, g in zip(mus, ineqs, strict=True))
        for v in xs
    ]
    out = [
        sympy.simplify(e.subs(point))
        for e in stat + eqs + [m * g for m, g in zip(mus, ineqs, strict=True)]
    ]
    signs = [sympy.simplify(g.subs(point)) <= 0 for g in ineqs]
    signs += [(point[m] >= 0) if sense == "min" else (point[m] <= 0) for m in mus]
    return out, signs


def _check_kkt(f, constraints, result, sense="min"):
    for p in result:
        res, signs = _residuals_here(f, constraints, p, sense)
        assert all(r == 0 for r in res), (p, res)
        assert all(bool(s) for s in signs), (p, signs)


def _classified(d, label):
    """Candidates the derivation names as the largest/smallest value (from the classify step)."""
    step = next(s for s in d.steps if s.rule == "classify")
    return step.explanation


# -- the textbook problems ------------------------------------------------------------------
def test_max_xy_on_the_unit_circle():
    d = _derive("x*y", "x^2 + y^2 == 1")
    assert _points(d.result, [x, y]) == {
        (a, b) for a in (-r2 / 2, r2 / 2) for b in (-r2 / 2, r2 / 2)
    }
    for p in d.result:
        assert p[lam] == p[x] * p[y]  # lambda = f at the point here: y = 2*lambda*x
        assert (
            sympy.simplify(
                p[x] * p[y] - (sympy.Rational(1, 2) if p[x] == p[y] else -sympy.Rational(1, 2))
            )
            == 0
        )
    text = _classified(d, "maximum")
    assert "largest value of f, 1/2, is at candidates 1, 4" in text
    assert "smallest value of f, -1/2, is at candidates 2, 3" in text
    _check_kkt("x*y", "x^2 + y^2 == 1", d.result)
    assert d.verify()


def test_min_of_the_squared_norm_on_a_line():
    d = _derive("x^2 + y^2", "x + y == 1")
    assert d.result == [{x: sympy.Rational(1, 2), y: sympy.Rational(1, 2), lam: 1}]
    classify = next(s for s in d.steps if s.rule == "classify")
    assert "1/2" in classify.explanation and "convex" in classify.note
    _check_kkt("x^2 + y^2", "x + y == 1", d.result)
    assert d.verify()


def test_two_constraints_stewart():
    # Stewart, Calculus, section 14.8, example 5: the maximum of x + 2y + 3z on the curve
    # x - y + z = 1, x^2 + y^2 = 1 is 3 + sqrt(29) at (-2/sqrt(29), 5/sqrt(29), 1 + 7/sqrt(29)).
    f, cons = "x + 2*y + 3*z", ("x - y + z == 1", "x^2 + y^2 == 1")
    d = _derive(f, cons)
    top = (-2 / r29, 5 / r29, 1 + 7 / r29)
    assert _points(d.result, [x, y, z]) == {
        tuple(sympy.nsimplify(v) for v in top),
        tuple(sympy.nsimplify(v) for v in (2 / r29, -5 / r29, 1 - 7 / r29)),
    }
    values = sorted(sympy.simplify(symml.expr(f).subs(p)) for p in d.result)
    assert (
        sympy.simplify(values[-1] - (3 + r29)) == 0 and sympy.simplify(values[0] - (3 - r29)) == 0
    )
    assert {s.name for s in d.result[0]} >= {"lambda_1", "lambda_2"}
    _check_kkt(f, list(cons), d.result)
    assert d.verify()


def test_three_variables_on_the_sphere():
    d = _derive("x + y + z", "x^2 + y^2 + z^2 == 1")
    assert _points(d.result, [x, y, z]) == {(-r3 / 3,) * 3, (r3 / 3,) * 3}
    assert "largest value of f, sqrt(3)" in _classified(d, "maximum")
    _check_kkt("x + y + z", "x^2 + y^2 + z^2 == 1", d.result)
    assert d.verify()


def test_product_with_fixed_sum_three_variables():
    # max xyz with x + y + z = 3: (1, 1, 1), value 1; the other stationary points are saddles
    d = _derive("x*y*z", "x + y + z = 3")  # a single '=' is accepted in a constraint
    assert (1, 1, 1) in _points(d.result, [x, y, z])
    best = [p for p in d.result if p[x] == 1][0]
    assert best[lam] == 1
    evaluate = [s for _, s in d.walk() if s.rule == "evaluate"]
    assert any("saddle" in s.explanation for s in evaluate)
    assert any("local maximum" in s.explanation for s in evaluate)
    _check_kkt("x*y*z", "x + y + z == 3", d.result)
    assert d.verify()


def test_entropy_is_largest_when_uniform():
    d = _derive("-x*log(x) - y*log(y)", "x + y == 1")
    assert d.result == [{x: sympy.Rational(1, 2), y: sympy.Rational(1, 2), lam: sympy.log(2) - 1}]
    assert d.verify()


def test_inequality_active():
    f, c = "(x - 2)^2 + (y - 1)^2", "x + y <= 2"
    d = _derive(f, c)
    assert d.result == [{x: sympy.Rational(3, 2), y: sympy.Rational(1, 2), mu: 1}]
    cases = next(s for s in d.steps if s.rule == "cases")
    assert len(cases.substeps) == 2
    reject = [s for _, s in d.walk() if s.rule == "reject"]
    assert "x + y = 3 > 2 violates primal feasibility" in reject[0].explanation
    _check_kkt(f, c, d.result)
    assert d.verify()


def test_inequality_inactive():
    f, c = "(x - 1)^2 + (y - 1)^2", "x + y <= 3"
    d = _derive(f, c)
    assert d.result == [{x: 1, y: 1, mu: 0}]
    reject = [s for _, s in d.walk() if s.rule == "reject"]
    assert "mu = -1 < 0 violates dual feasibility" in reject[0].explanation
    _check_kkt(f, c, d.result)
    assert d.verify()


def test_three_inequalities_eight_cases():
    f, cons = "(x - 2)^2 + (y - 2)^2", ("x + y <= 2", "x >= 0", "y >= 0")
    d = _derive(f, cons)
    m1, m2, m3 = (sympy.Symbol(f"mu_{i}", real=True) for i in (1, 2, 3))
    assert d.result == [{x: 1, y: 1, m1: 2, m2: 0, m3: 0}]
    cases = next(s for s in d.steps if s.rule == "cases")
    assert len(cases.substeps) == 8
    _check_kkt(f, list(cons), d.result)
    assert d.verify()


def test_maximum_with_inequalities():
    f, cons = "x*y", ("x + y <= 4", "x >= 0", "y >= 0")
    d = _derive(f, cons, "max")
    assert (2, 2) in _points(d.result, [x, y])
    assert "largest value of f, 4" in _classified(d, "maximum")
    _check_kkt(f, list(cons), d.result, sense="max")
    assert d.verify()


def test_mixed_equality_and_inequality():
    # min x^2 + y^2 + z^2 with x + y + z = 3 and x >= 2: (2, 1/2, 1/2); 2y = lambda gives
    # lambda = 1 and 2x - lambda - mu = 0 gives mu = 3
    f, cons = "x^2 + y^2 + z^2", ("x + y + z == 3", "x >= 2")
    d = _derive(f, cons)
    assert d.result == [{x: 2, y: sympy.Rational(1, 2), z: sympy.Rational(1, 2), lam: 1, mu: 3}]
    _check_kkt(f, list(cons), d.result)
    assert d.verify()


# -- independent numeric confirmation ------------------------------------------------------
def _slsqp(fun, cons, x0s):
    best = None
    for x0 in x0s:
        r = scipy.optimize.minimize(fun, x0, method="SLSQP", constraints=cons, tol=1e-12)
        if r.success and (best is None or r.fun < best.fun):
            best = r
    return best


def test_minimum_values_agree_with_slsqp():
    starts = [np.array(p, dtype=float) for p in ([0.3, -0.2], [-1, 2], [2, 2], [0.5, 0.1])]
    # min x*y on the unit circle = -1/2
    r = _slsqp(
        lambda v: v[0] * v[1], [{"type": "eq", "fun": lambda v: v[0] ** 2 + v[1] ** 2 - 1}], starts
    )
    assert abs(r.fun + 0.5) < 1e-8
    # min (x-2)^2 + (y-1)^2 with x + y <= 2 = 1/2 at (3/2, 1/2)
    r = _slsqp(
        lambda v: (v[0] - 2) ** 2 + (v[1] - 1) ** 2,
        [{"type": "ineq", "fun": lambda v: 2 - v[0] - v[1]}],
        starts,
    )
    assert abs(r.fun - 0.5) < 1e-8 and np.allclose(r.x, [1.5, 0.5], atol=1e-6)
    d = _derive("(x - 2)^2 + (y - 1)^2", "x + y <= 2")
    assert float(sympy.Rational(1, 2)) == float(
        (d.result[0][x] - 2) ** 2 + (d.result[0][y] - 1) ** 2
    )


# -- the plain API and the derivation agree ---------------------------------------------------
@pytest.mark.parametrize(
    "f, cons",
    [
        ("x*y", "x^2 + y^2 == 1"),
        ("(x - 2)^2 + (y - 1)^2", "x + y <= 2"),
        ("x^2 + y^2 + z^2", ["x + y + z == 3", "x >= 2"]),
    ],
)
def test_steps_result_equals_plain_api(f, cons):
    assert lagrange_steps(f, cons).result == lagrange(f, cons)


def test_lagrangian_and_multiplier_names():
    L, mults = lagrangian("x*y", "x^2 + y^2 == 1")
    assert mults == [lam] and sympy.expand(L - (x * y - lam * (x**2 + y**2 - 1))) == 0
    L, mults = lagrangian("x + y", ["x^2 + y^2 == 1", "x - y == 0", "x <= 1", "y >= 0"])
    assert [m.name for m in mults] == ["lambda_1", "lambda_2", "mu_1", "mu_2"]
    m1, m2 = mults[2:]
    assert (
        sympy.expand(
            L - (x + y - mults[0] * (x**2 + y**2 - 1) - mults[1] * (x - y) + m1 * (x - 1) - m2 * y)
        )
        == 0
    )
    # SymPy relations work as well as text, and a user's own 'lambda' is not reused
    L, mults = lagrangian(x * lam, [sympy.Eq(x + lam, 1)])
    assert mults[0].name == "lambda_"


def test_vars_default_sorted_and_explicit():
    d = lagrange("b*a", "a^2 + b^2 == 2")
    assert [s.name for s in d[0]][:2] == ["a", "b"]
    # y treated as a parameter: only x is a variable
    res = lagrange("x^2 + y", "x == y", vars="x")
    assert res == [{x: y, lam: 2 * y}]


def test_family_of_stationary_points():
    (p,) = lagrange("x + y", "x + y == 1")
    assert p[lam] == 1 and sympy.simplify(p[x] + p[y] - 1) == 0


def test_no_candidates_is_an_empty_list_and_the_cusp_is_reported():
    # min x on y^2 = x^3: the minimum (0, 0) is a point where grad h = 0, missed by Lagrange
    assert lagrange("x", "y^2 == x^3") == []
    d = _derive("x", "y^2 == x^3")
    irregular = next(s for s in d.steps if s.rule == "irregular")
    assert irregular.after == [{x: 0, y: 0}] and "with f = 0" in irregular.explanation
    assert d.verify()


def test_a_family_of_multipliers_is_listed_once():
    # at (0, 0) on x^2 = y^2 every lambda works; SymPy also lists two members of the family
    (p,) = lagrange("x^2 + y^2", "x^2 - y^2 == 0")
    assert p[x] == 0 and p[y] == 0 and p[lam] == lam


@pytest.mark.parametrize(
    "cons, error",
    [
        ("x + y < 2", ArgumentError),
        ([], ArgumentError),
        ("1 == 1", ArgumentError),
        ("z == 1", ArgumentError),
        ([f"x >= {i}" for i in range(9)], LimitError),
    ],
    ids=["strict", "none", "trivial", "unrelated", "too-many"],
)
def test_bad_constraints(cons, error):
    with pytest.raises(error):
        lagrange("x^2 + y^2", cons, vars=["x", "y"])


def test_bad_sense():
    with pytest.raises(ArgumentError):
        lagrange("x", "x <= 1", sense="biggest")


# -- property: projection onto a half-plane ---------------------------------------------------
@settings(max_examples=12, deadline=None)
@given(st.integers(-4, 4), st.integers(-4, 4), st.integers(-4, 4))
def test_projection_onto_half_plane(a, b, c):
    """min (x-a)^2 + (y-b)^2 s.t. x + y <= c: (a, b) if a + b <= c, else (a - t, b - t) with
    t = (a + b - c)/2 and mu = 2t (the textbook projection)."""
    res = lagrange(f"(x - {a})^2 + (y - {b})^2", f"x + y <= {c}")
    if a + b <= c:
        assert res == [{x: a, y: b, mu: 0}]
    else:
        t = sympy.Rational(a + b - c, 2)
        assert res == [{x: a - t, y: b - t, mu: 2 * t}]
