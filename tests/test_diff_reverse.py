"""The engine's fast paths (reverse mode, forward-over-reverse Hessians, reverse-over-forward
Hessian-vector products) against SymPy's plain diff at random points and against central
finite differences of the compiled gradient."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_diff_engine import _exprs, _mlp

import symml as sm
from symml import _diff

X, Y, Z = sympy.symbols("x y z", real=True)


def _at(e, point) -> float:
    return float(sympy.N(e.xreplace(point), 30))


def _close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(1.0, abs(b))


def _point(symbols, seed=0, y=None):
    rng = random.Random(seed)
    pt = {s: sympy.Float(rng.uniform(-1, 1), 30) for s in symbols}
    if y is not None:
        pt[y] = sympy.Integer(1)
    return pt


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_exprs(), st.integers(0, 10**6))
def test_reverse_gradient_equals_sympy_at_random_points(e, seed):
    vs = [X, Y, Z]
    g = _diff.gradient(e, vs, mode="reverse")
    pt = {X: sympy.Rational(seed % 97 + 13, 71), Y: sympy.Rational(-(seed % 89) - 7, 53),
          Z: sympy.Rational(seed % 61 + 5, 37)}
    for gi, v in zip(g, vs, strict=True):
        want = sympy.diff(e, v).xreplace(pt)
        got = gi.xreplace(pt)
        if want.has(sympy.nan, sympy.zoo, sympy.oo) or not want.is_real:
            continue
        assert _close(complex(sympy.N(got, 30)).real, float(sympy.N(want, 30)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_exprs())
def test_reverse_hessian_and_hvp_equal_sympy(e):
    vs = [X, Y]
    u = sympy.symbols("u0 u1", real=True)
    H = _diff.hessian(e, vs, mode="reverse")
    hv = _diff.hvp(e, vs, u, mode="reverse")
    pt = {X: sympy.Rational(3, 7), Y: sympy.Rational(-5, 11), Z: sympy.Rational(2, 3),
          u[0]: sympy.Rational(1, 3), u[1]: sympy.Rational(-2, 5)}
    for i in range(2):
        row = [sympy.diff(e, vs[i], vs[j]).xreplace(pt) for j in range(2)]
        if any(r.has(sympy.nan, sympy.zoo, sympy.oo) or not r.is_real for r in row):
            continue
        for j in range(2):
            assert _close(float(sympy.N(H[i][j].xreplace(pt), 30)), float(sympy.N(row[j], 30)))
        want = row[0] * u[0].xreplace(pt) + row[1] * u[1].xreplace(pt)
        assert _close(float(sympy.N(hv[i].xreplace(pt), 30)), float(sympy.N(want, 30)))


def test_mlp_4_8_1_gradient_and_hessian_equal_sympy_at_random_points():
    L, P, x, y = _mlp([4, 8, 1])
    ctx = _diff.DiffContext()
    assert ctx._large(L, tuple(P))  # the auto mode takes reverse mode here
    g = sm.grad(L, P)
    H = sm.hessian(L, P)
    pt = _point([*P, *x], seed=2, y=y)
    gs = [sympy.diff(L, p) for p in P]
    for k in range(len(P)):
        assert _close(_at(g[k], pt), _at(gs[k], pt))
    rng = random.Random(5)
    for _ in range(30):
        i, j = rng.randrange(len(P)), rng.randrange(len(P))
        assert H[i, j] == H[j, i]
        assert _close(_at(H[i, j], pt), _at(sympy.diff(gs[i], P[j]), pt))


def test_modes_agree_and_forward_keeps_sympys_forms():
    L, P, x, y = _mlp([3, 4, 1])
    fwd = sm.grad(L, P, mode="forward")
    rev = sm.grad(L, P, mode="reverse")
    assert list(fwd) == [sympy.diff(L, p) for p in P]
    pt = _point([*P, *x], seed=4, y=y)
    for a, b in zip(rev, fwd, strict=True):
        assert _close(_at(a, pt), _at(b, pt))
    with pytest.raises(sm.ArgumentError):
        sm.grad(L, P, mode="backward")


def test_auto_d_of_a_large_expression_is_served_by_one_reverse_sweep():
    L, P, x, y = _mlp([4, 8, 1])
    ctx = _diff.DiffContext()
    d0 = ctx.d(L, P[0])
    assert L in ctx._rows  # one sweep by every free symbol
    pt = _point([*P, *x], seed=6, y=y)
    assert _close(_at(d0, pt), _at(sympy.diff(L, P[0]), pt))
    assert _close(_at(ctx.d(L, y), pt), _at(sympy.diff(L, y), pt))
    assert ctx.d(L, sympy.Symbol("unused")) == 0


def test_logistic_gradient_and_hessian_equal_sympy():
    w = sympy.symbols("w0:30", real=True)
    xs = sympy.symbols("x0:30", real=True)
    t = sympy.Symbol("t", real=True)
    z = sum(a * b for a, b in zip(w, xs, strict=True))
    nll = sympy.log(1 + sympy.exp(z)) - t * z
    g = _diff.gradient(nll, w, mode="reverse")
    H = _diff.hessian(nll, w, mode="reverse")
    pt = _point([*w, *xs, t], seed=8)
    p = 1 / (1 + sympy.exp(-z))
    for i in range(len(w)):
        assert _close(_at(g[i], pt), _at(sympy.diff(nll, w[i]), pt))
        for j in (0, i, len(w) - 1):
            closed = (p * (1 - p) * xs[i] * xs[j]).xreplace(pt)  # X' diag(p(1-p)) X
            assert _close(_at(H[i][j], pt), float(sympy.N(closed, 30)))


def _nist_models():
    b = sympy.symbols("b1:9", real=True)
    x = sympy.Symbol("x", real=True)
    gauss = (b[0] * sympy.exp(-b[1] * x) + b[2] * sympy.exp(-((x - b[3]) ** 2) / b[4] ** 2)
             + b[5] * sympy.exp(-((x - b[6]) ** 2) / b[7] ** 2))
    rat43 = b[0] / (1 + sympy.exp(b[1] - b[2] * x)) ** (1 / b[3])
    bennett = b[0] * (b[1] + x) ** (-1 / b[2])
    return [(gauss, list(b), x), (rat43, list(b[:4]), x), (bennett, list(b[:3]), x)]


@pytest.mark.parametrize("k", range(3))
def test_nist_jacobians_reverse_equal_sympy(k):
    model, b, x = _nist_models()[k]
    J = _diff.jacobian([model], b, mode="reverse")[0]
    pt = {bi: sympy.Rational(1, 1) + sympy.Rational(i, 7) for i, bi in enumerate(b)}
    pt[x] = sympy.Rational(3, 2)
    for Ji, bi in zip(J, b, strict=True):
        assert _close(_at(Ji, pt), _at(sympy.diff(model, bi), pt), 1e-20)


def test_compiled_reverse_gradient_matches_central_differences():
    L, P, x, y = _mlp([4, 8, 1])  # large enough for the auto mode's reverse path
    f = sm.compile(L, [*P, *x, y], grad=P)
    rng = np.random.default_rng(11)
    theta = rng.normal(size=len(P))
    data = [*rng.normal(size=4), 0.0]
    _, g = f(*theta, *data)
    h = 1e-6
    for k in range(len(P)):
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        fd = (f(*tp, *data)[0] - f(*tm, *data)[0]) / (2 * h)
        assert abs(fd - g[k]) < 1e-7 * max(1.0, abs(fd))


def test_compiled_hvp_of_large_mlp_matches_the_hessian():
    L, P, x, y = _mlp([4, 8, 1])
    h = sm.hvp(L, P)
    fh = sm.compile(h.product, [P, h.direction, x, y])
    fg = sm.compile(L, [*P, *x, y], grad=P)
    rng = np.random.default_rng(12)
    theta, v, xv = rng.normal(size=len(P)), rng.normal(size=len(P)), rng.normal(size=4)
    hv = np.ravel(fh(*theta, v, *xv, 1.0))
    eps = 1e-5  # central differences of the compiled gradient along v
    gp = np.ravel(fg(*(theta + eps * v), *xv, 1.0)[1])
    gm = np.ravel(fg(*(theta - eps * v), *xv, 1.0)[1])
    assert np.allclose(hv, (gp - gm) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_deep_and_wide_sums_in_reverse_mode_compile():
    # depth 30 here: SymPy's flattened chain-rule products make each level cost more than the
    # last (depth 100 takes seconds, see docs/performance.md); the sweep itself is iterative
    e = X
    for k in range(30):
        e = sympy.sin(e) + Y if k % 2 else sympy.cos(e) * Y
    g = _diff.gradient(e, [X, Y], mode="reverse")
    f = sm.compile(e, [X, Y], grad=[X, Y])
    val, (gx, gy) = f(0.3, 0.7)
    h = 1e-6
    assert abs((f(0.3 + h, 0.7)[0] - f(0.3 - h, 0.7)[0]) / (2 * h) - gx) < 1e-5
    assert len(g) == 2
    ws = sympy.symbols("w0:10000", real=True)
    wide = sympy.Add(*[sympy.sin(w * X) for w in ws])
    gw = _diff.gradient(wide, [X, *ws[:3]], mode="reverse")
    assert gw[1] == X * sympy.cos(ws[0] * X)
    small = sympy.Add(*[sympy.sin(w * X) for w in ws[:500]])
    fw = sm.compile(small, [X, *ws[:500]], grad=[X])
    wv = np.linspace(-1, 1, 500)
    _, gxv = fw(0.4, *wv)
    assert np.isclose(gxv, np.sum(wv * np.cos(wv * 0.4)))


def test_top_level_hvp():
    h = sm.hvp("x^2*y + y^3", ["x", "y"])
    assert isinstance(h, sm.Hvp)
    assert h.product == sm.hessian("x^2*y + y^3", ["x", "y"]) * h.direction
