"""The one differentiation engine (symml._diff) against SymPy's own diff and finite differences."""

from __future__ import annotations

import ast
import pathlib
import random

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symml as sm
from symml import _diff
from symml.calculus import hvp
from symml.functions import relu, sigmoid, softplus

X, Y, Z = sympy.symbols("x y z", real=True)
_UNARY = [sympy.sin, sympy.cos, sympy.exp, sympy.tanh, sigmoid, softplus, relu, sympy.Abs,
          lambda u: sympy.log(1 + u**2), sympy.atan, lambda u: sympy.sqrt(1 + u**2)]


def _exprs():
    leaves = st.sampled_from([X, Y, Z, sympy.Integer(2), sympy.Rational(-1, 3), sympy.pi])

    def extend(children):
        return st.one_of(
            st.tuples(children, children).map(lambda p: p[0] + p[1]),
            st.tuples(children, children).map(lambda p: p[0] * p[1]),
            st.tuples(children, st.sampled_from([2, 3, -1])).map(
                lambda p: p[0] ** p[1]
            ),
            st.tuples(st.sampled_from(_UNARY), children).map(lambda p: p[0](p[1])),
            st.tuples(children, children).map(
                lambda p: sympy.Piecewise((p[0], X > 0), (p[1], True))
            ),
            st.tuples(children, children).map(lambda p: sympy.Max(p[0], p[1])),
        )

    return st.recursive(leaves, extend, max_leaves=12)


def _num(e, point):
    return complex(e.subs(point).evalf(30))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_exprs(), st.sampled_from([X, Y, Z]))
def test_engine_is_structurally_sympys_diff(e, v):
    """Same rules, same constructors: the engine's derivative *is* sympy.diff's."""
    assert _diff.d(e, v) == sympy.diff(e, v)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_exprs())
def test_hessian_and_hvp_match_sympy(e):
    vs = [X, Y]
    H = _diff.hessian(e, vs)
    u = sympy.symbols("u0 u1", real=True)
    hv = _diff.hvp(e, vs, u)
    for i in range(2):
        row = [sympy.diff(sympy.diff(e, vs[i]), vs[j]) for j in range(2)]
        for j in range(i, 2):
            assert H[i][j] == H[j][i] == row[j]  # derived once, in the order i <= j
        assert sympy.expand(hv[i] - (row[0] * u[0] + row[1] * u[1])) == 0


def test_symml_functions_keep_their_derivatives():
    assert _diff.d(sigmoid(X), X) == sigmoid(X) * (1 - sigmoid(X))
    assert _diff.d(softplus(X), X) == sigmoid(X)
    assert _diff.d(relu(X), X) == sympy.Heaviside(X, 0)


def test_memo_lives_in_the_context_and_results_are_shared():
    ctx = _diff.DiffContext()
    inner = sympy.sin(X * Y)
    f = inner**2 + sympy.exp(inner)
    ctx.d(f, X)
    assert ctx.memo[(inner, X)] is ctx.d(inner, X)
    assert _diff.DiffContext().memo == {}
    module_dicts = [
        k for k, v in vars(_diff).items() if isinstance(v, dict) and not k.startswith("__")
    ]
    assert module_dicts == []


def _mlp(sizes):
    x = sympy.symbols(f"x0:{sizes[0]}", real=True)
    y = sympy.Symbol("y", real=True)
    params, h = [], list(x)
    for layer in range(1, len(sizes)):
        W = [[sympy.Symbol(f"W{layer}_{i}_{j}", real=True) for j in range(sizes[layer - 1])]
             for i in range(sizes[layer])]
        b = [sympy.Symbol(f"b{layer}_{i}", real=True) for i in range(sizes[layer])]
        for i in range(sizes[layer]):
            params += W[i] + [b[i]]
        z = [sum(W[i][j] * h[j] for j in range(sizes[layer - 1])) + b[i]
             for i in range(sizes[layer])]
        h = [sympy.tanh(zi) for zi in z] if layer < len(sizes) - 1 else z
    s = 1 / (1 + sympy.exp(-h[0]))
    return -(y * sympy.log(s) + (1 - y) * sympy.log(1 - s)), params, list(x), y


def test_mlp_gradient_and_hessian_match_sympy():
    L, P, x, y = _mlp([2, 3, 1])
    g = sm.grad(L, P)
    H = sm.hessian(L, P)
    gs = [sympy.diff(L, p) for p in P]
    assert list(g) == gs
    rng = random.Random(1)
    for _ in range(25):
        i, j = rng.randrange(len(P)), rng.randrange(len(P))
        assert H[i, j] == sympy.diff(gs[i], P[j])
    point = {s: rng.uniform(-1, 1) for s in [*P, *x]} | {y: 1}
    Hn = np.array(H.subs(point).evalf(), dtype=float)
    assert np.allclose(Hn, Hn.T, atol=1e-13)


def test_compiled_mlp_gradient_matches_finite_differences():
    L, P, x, y = _mlp([3, 4, 1])
    f = sm.compile(L, [*P, *x, y], grad=P)
    rng = np.random.default_rng(0)
    theta = rng.normal(size=len(P))
    data = [*rng.normal(size=3), 1.0]
    _, g = f(*theta, *data)
    h = 1e-6
    for k in range(len(P)):
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        fd = (f(*tp, *data)[0] - f(*tm, *data)[0]) / (2 * h)
        assert abs(fd - g[k]) < 1e-7 * max(1.0, abs(fd))


def test_hvp_of_mlp_compiles_and_matches_the_hessian():
    L, P, x, y = _mlp([2, 3, 1])
    h = hvp(L, P)
    assert h.direction.shape == (len(P), 1)
    f = sm.compile(h.product, [P, h.direction, x, y])
    H = sm.compile(sm.hessian(L, P), [P, x, y])
    rng = np.random.default_rng(3)
    theta, v, xv = rng.normal(size=len(P)), rng.normal(size=len(P)), rng.normal(size=2)
    args = [*theta]
    hv = f(*args, v, *xv, 0.0)
    Hm = H(*args, *xv, 0.0)
    assert np.allclose(hv, Hm @ v, rtol=1e-12, atol=1e-12)


def test_hvp_checks_its_direction():
    with pytest.raises(sm.errors.ShapeError):
        hvp("x^2*y", ["x", "y"], ["a"])
    with pytest.raises(sm.errors.ArgumentError):
        hvp("x^2*y", ["x", "y"], ["x", "a"])
    h = hvp("v*x^2", ["x"])
    assert str(h.direction[0]) == "v_[0]"


def test_gauss1_jacobian_matches_sympy():
    b = sympy.symbols("b1:9", real=True)
    x = sympy.Symbol("x", real=True)
    model = (b[0] * sympy.exp(-b[1] * x) + b[2] * sympy.exp(-((x - b[3]) ** 2) / b[4] ** 2)
             + b[5] * sympy.exp(-((x - b[6]) ** 2) / b[7] ** 2))
    J = sm.jacobian([model], list(b), simplify=False)  # the engine's own form
    assert list(J) == [sympy.diff(model, bi) for bi in b]


def test_deep_and_wide_expressions_differentiate_and_compile():
    # depth 40 only: SymPy's flattened chain-rule products make deeper chains slow (see
    # docs/performance.md); the engine itself walks the DAG without recursion
    e = X
    for k in range(40):
        e = sympy.sin(e) + Y if k % 2 else sympy.cos(e) * Y
    g = sm.grad(e, [X, Y])
    f = sm.compile(e, [X, Y], grad=[X, Y])
    val, (gx, gy) = f(0.3, 0.7)
    h = 1e-6
    assert abs((f(0.3 + h, 0.7)[0] - f(0.3 - h, 0.7)[0]) / (2 * h) - gx) < 1e-6
    assert g.shape == (2, 1)
    ws = sympy.symbols("w0:10000", real=True)
    wide = sympy.Add(*[sympy.sin(w * X) for w in ws])
    dx = _diff.d(wide, X)
    assert len(dx.args) == 10000


# receivers whose .diff is not SymPy's: NumPy, symml.calculus and symml.steps (symml APIs)
_NOT_SYMPY = {"np", "numpy", "calculus", "C", "steps", "mpmath"}  # numeric, or already the engine


def _calls_diff(tree) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Attribute) and fn.attr == "diff":
                base = fn.value
                if isinstance(base, ast.Name) and base.id in _NOT_SYMPY:
                    continue
                lines.append(node.lineno)
            if (isinstance(fn, ast.Attribute) and fn.attr == "doit"
                    and isinstance(fn.value, ast.Call)
                    and getattr(fn.value.func, "id", getattr(fn.value.func, "attr", ""))
                    == "Derivative"):
                lines.append(node.lineno)
    return lines


def test_only_the_engine_differentiates():
    """No module but symml/_diff.py calls sympy.diff, Expr.diff or Derivative(...).doit()."""
    root = pathlib.Path(sm.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "_diff.py" and path.parent == root:
            continue
        tree = ast.parse(path.read_text())
        offenders += [f"{path.relative_to(root)}:{n}" for n in _calls_diff(tree)]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sympy"):
                if any(a.name == "diff" for a in node.names):
                    offenders.append(f"{path.relative_to(root)}:{node.lineno} imports sympy.diff")
    assert offenders == []
