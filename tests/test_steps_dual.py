"""Lagrange duality: closed-form dual functions (least-norm, QP, LP) against textbook
formulas, numeric duality gaps against SciPy, weak duality on random multipliers, random
convex quadratic programs (hypothesis), bad input, and the derivation."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from symml.convex import dual
from symml.errors import ArgumentError, DerivationError
from symml.steps import dual as dual_steps


def test_least_norm_closed_form():
    # min ||x||^2 s.t. A x = b: g(nu) = -nu' A A' nu / 4 - b' nu (Boyd & Vandenberghe 5.1.3)
    A = sympy.Matrix([[1, 2, 3], [1, -1, 0]])
    b = sympy.Matrix([1, 2])
    cons = [f"{A[i, 0]}*x1 + {A[i, 1]}*x2 + {A[i, 2]}*x3 == {b[i]}" for i in range(2)]
    d = dual("x1^2 + x2^2 + x3^2", cons, "x1 x2 x3")
    nu = sympy.Matrix(d.nus)
    ref = (-(nu.T * A * A.T * nu)[0, 0] / 4 - (b.T * nu)[0, 0]).expand()
    assert sympy.expand(d.g - ref) == 0
    # strong duality: max g equals the least-norm solution's squared norm
    x_ln = np.linalg.pinv(np.array(A, dtype=float)) @ np.array(b, dtype=float).ravel()
    res = d.check()
    assert abs(res.primal - x_ln @ x_ln) < 1e-7 and res.zero_gap


def test_lp_dual_function():
    # min c'x s.t. Ax = b, x >= 0: g = -b'nu if c + A'nu - lambda = 0, else -oo
    d = dual("x + 2*y + 3*z", ["x + y + z == 1", "x >= 0", "y >= 0", "z >= 0"], "x y z")
    (nu,) = d.nus
    assert d.kind == "linear" and d.g_finite == -nu
    lam = d.lambdas
    c = [1, 2, 3]
    expected = {sympy.expand(c[i] + nu - lam[i]) for i in range(3)}
    assert {sympy.expand(e.lhs - e.rhs) for e in d.conditions} == expected
    assert d.g.subs({nu: 5, lam[0]: 1, lam[1]: 1, lam[2]: 1}) == -sympy.oo
    res = d.check()
    lp = optimize.linprog(c, A_eq=[[1, 1, 1]], b_eq=[1], bounds=[(0, None)] * 3)
    assert abs(res.primal - lp.fun) < 1e-9 and abs(res.dual - lp.fun) < 1e-9


def test_qp_with_inequalities_matches_scipy():
    d = dual("(x - 2)^2 + (y - 1)^2", ["x + y <= 1", "x >= 0"], "x y")
    res = d.check()
    sol = optimize.minimize(
        lambda v: (v[0] - 2) ** 2 + (v[1] - 1) ** 2,
        [0, 0],
        constraints=[
            {"type": "ineq", "fun": lambda v: 1 - v[0] - v[1]},
            {"type": "ineq", "fun": lambda v: v[0]},
        ],
        method="SLSQP",
    )
    assert abs(res.primal - sol.fun) < 1e-7 and res.zero_gap


def test_weak_duality_on_random_multipliers():
    d = dual("x^2 + x*y + y^2 - x", ["x + y >= 1", "x - y == 0"], "x y")
    rng = np.random.default_rng(3)
    g = sympy.lambdify(d.multipliers, d.g_finite)
    p_star = d.check().primal
    for _ in range(50):
        lam = rng.exponential(size=len(d.lambdas))
        nu = rng.normal(scale=3, size=len(d.nus))
        assert g(*lam, *nu) <= p_star + 1e-9


def test_semidefinite_and_nonconvex():
    d = dual("x^2 + y", ["y >= 0", "x + y == 2"], "x y")
    assert d.kind == "semidefinite" and d.conditions
    assert d.check().zero_gap
    assert dual("x^2 - y^2", ["x + y == 1"], "x y").g == -sympy.oo


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_random_convex_qps(seed):
    rng = np.random.default_rng(seed)
    M = rng.integers(-2, 3, size=(2, 2))
    Q = M.T @ M + np.eye(2, dtype=int)
    q = rng.integers(-3, 4, size=2)
    a = rng.integers(-2, 3, size=2)
    if not a.any():
        a[0] = 1
    f = f"{Q[0, 0]}*x^2/2 + {Q[0, 1]}*x*y + {Q[1, 1]}*y^2/2 + {q[0]}*x + {q[1]}*y"
    d = dual(f, [f"{a[0]}*x + {a[1]}*y <= 1"], "x y")
    res = d.check()
    assert res.zero_gap, res.message
    sol = optimize.minimize(
        lambda v: v @ Q @ v / 2 + q @ v,
        [0.0, 0.0],
        method="SLSQP",
        constraints=[{"type": "ineq", "fun": lambda v: 1 - a @ v}],
    )
    assert abs(sol.fun - res.dual) < 1e-6 * max(1, abs(sol.fun))


def test_bad_input():
    with pytest.raises(DerivationError, match="not affine"):
        dual("x^2", ["x^2 <= 1"], "x")
    with pytest.raises(DerivationError, match="quadratic"):
        dual("exp(x)", ["x >= 1"], "x")
    with pytest.raises(ArgumentError):
        dual("x^2", ["x > 1"], "x")
    with pytest.raises(ArgumentError):
        dual("x^2", [], "x")


@pytest.mark.parametrize(
    "f, cons, vars",
    [
        ("x^2 + y^2", "x + y == 1", "x y"),
        ("x + y", ["x >= 0", "y >= 0", "x + y == 1"], "x y"),
        ("x1^2 + x2^2 + x3^2", ["a1*x1 + a2*x2 + a3*x3 == b"], "x1 x2 x3"),
        ("x^2 + y", ["y >= 0", "x + y == 2"], "x y"),
        ("(x - 2)^2 + (y - 1)^2", ["x + y <= 1", "x >= 0"], "x y"),
    ],
)
def test_derivation_verifies(f, cons, vars):
    d = dual_steps(f, cons, vars)
    assert d.verify()
    assert (
        sympy.simplify(d.result - dual(f, cons, vars).g) == 0 or d.result == dual(f, cons, vars).g
    )
    rules = d.rules()
    assert {"lagrangian", "dual_problem", "weak_duality", "strong_duality"} <= set(rules)
    assert "Slater" in d.to_text()
    d.to_markdown()
    d.to_latex()


def test_cli(capsys):
    from symml.cli import main

    assert main(["convex", "--domain", "x > 0", "--", "-log(x)", "x"]) == 0
    assert capsys.readouterr().out.startswith("convex:")
    assert main(["convex", "x^3", "x"]) == 0
    assert capsys.readouterr().out.startswith("not convex:")
    assert main(["steps", "convex", "x^2 + y^2", "x", "y", "--verify", "--format", "md"]) == 0
    assert "principal minor" in capsys.readouterr().out
    assert (
        main(
            [
                "steps",
                "dual",
                "x + y",
                "--subject-to",
                "x >= 0",
                "y >= 0",
                "x + y == 1",
                "--vars",
                "x",
                "y",
                "--verify",
            ]
        )
        == 0
    )
    assert "Slater" in capsys.readouterr().out
    assert main(["convex", "x^2", "z"]) == 1
    assert "unknown variable" in capsys.readouterr().err
