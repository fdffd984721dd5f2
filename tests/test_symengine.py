"""The SymEngine accelerator (``fast=`` of symml._diff) against symml's own SymPy engine.

Both paths must give the same derivatives: every product the bridge builds by sorting is
compared with SymPy's own ``Mul(*args)`` (``check`` mode), every result entry is compared
symbolically (structural equality, SymEngine's expansion of the difference, or
``sympy.simplify(a - b) == 0``) and at random points with 30 digits, on the MLP-49 loss, a
sigmoid-output MLP, the logistic loss, NIST models and a hypothesis-generated corpus.
"""

from __future__ import annotations

import random

import mpmath
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_diff_engine import _exprs, _mlp
from test_diff_reverse import _nist_models

from symml import _diff
from symml.backends import MissingExtraError
from symml.errors import SymmlError
from symml.functions import relu, sigmoid, softplus

try:
    import symengine as se
except ImportError:  # pragma: no cover - the extra is installed in CI
    se = None

needs_symengine = pytest.mark.skipif(
    se is None, reason='SymEngine is not installed (pip install "symml[fast]")'
)
X, Y, Z = sympy.symbols("x y z", real=True)


@pytest.fixture
def checked(monkeypatch):
    """Every bridge built during the test compares each sorted product with ``Mul``."""
    init = _diff._SymEngineBridge.__init__

    def checking(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.check = True

    monkeypatch.setattr(_diff._SymEngineBridge, "__init__", checking)


def _both(what, f, vs, *rest):
    fast = _diff.DiffContext(fast=True)
    a = getattr(fast, what)(f, vs, *rest)
    b = getattr(_diff.DiffContext(fast=False), what)(f, vs, *rest)
    return a, b, fast.engine


def _flat(m):
    return [e for row in m for e in row] if m and isinstance(m[0], list) else list(m)


def _same_symbolically(a, b, simplify=True) -> bool:
    if a == b:
        return True
    if se.expand(se.sympify(a) - se.sympify(b)) == 0:
        return True
    return simplify and sympy.simplify(a - b) == 0


def _point(symbols, seed):
    rng = random.Random(seed)
    return {s: sympy.Float(rng.uniform(-1, 1), 30) for s in symbols}


def _close_at(a, b, pt, tol=1e-20) -> bool:
    va, vb = complex(sympy.N(a.xreplace(pt), 30)), complex(sympy.N(b.xreplace(pt), 30))
    return abs(va - vb) <= tol * max(1.0, abs(vb))


def test_fast_true_without_symengine_names_the_extra(monkeypatch):
    monkeypatch.setattr(_diff, "_SE_STATE", [None])
    with pytest.raises(MissingExtraError, match=r'pip install "symml\[fast\]"') as info:
        _diff.DiffContext(fast=True)
    assert isinstance(info.value, SymmlError)
    # "auto" and False quietly use SymPy's engine
    ctx = _diff.DiffContext(fast="auto")
    assert ctx.hessian(X**2 * Y, [X, Y]) == [[2 * Y, 2 * X], [2 * X, 0]]
    assert ctx.engine == "sympy"


def test_fast_option_is_validated():
    with pytest.raises(ValueError, match="fast must be"):
        _diff.DiffContext(fast="yes")


_MP = {sympy.exp: mpmath.exp, sympy.log: mpmath.log, sympy.tanh: mpmath.tanh}


def _value(e, pt, memo):
    """``e`` at ``pt`` with mpmath (30 digits), each distinct node of the DAG once: an
    evaluator independent of both engines, for expressions too large for ``xreplace``."""
    stack = [e]
    while stack:
        node = stack[-1]
        if node in memo:
            stack.pop()
            continue
        if node.is_Symbol:
            memo[node] = mpmath.mpf(str(pt[node]))
            stack.pop()
            continue
        if node.is_Number:
            memo[node] = mpmath.mpf(node.p) / node.q if node.is_Rational else mpmath.mpf(node)
            stack.pop()
            continue
        todo = [a for a in node.args if a not in memo]
        if todo:
            stack.extend(todo)
            continue
        stack.pop()
        vals = [memo[a] for a in node.args]
        if node.is_Add:
            memo[node] = mpmath.fsum(vals)
        elif node.is_Mul:
            memo[node] = mpmath.fprod(vals)
        elif node.is_Pow:
            memo[node] = vals[0] ** vals[1]
        else:
            memo[node] = _MP[type(node)](*vals)
    return memo[e]


@needs_symengine
def test_mlp_49_hessian_and_gradient_identical(checked):
    L, P, x, y = _mlp([4, 8, 1])
    H, H0, engine = _both("hessian", L, P)
    assert engine == "symengine"
    g, g0, _ = _both("gradient", L, P)
    pairs = list(zip(_flat(H), _flat(H0), strict=True)) + list(zip(g, g0, strict=True))
    syms = [*P, *x, y]
    with mpmath.workdps(30):
        for seed in range(2):
            pt, memo = _point(syms, seed), {}
            for a, b in pairs:
                va, vb = _value(a, pt, memo), _value(b, pt, memo)
                assert abs(va - vb) <= 1e-20 * max(1, abs(vb))
    for k in (0, len(P) - 1):  # symbolically (simplify takes seconds per entry here)
        assert sympy.simplify(g[k] - g0[k]) == 0


@needs_symengine
def test_sigmoid_mlp_keeps_symmls_functions(checked):
    x = sympy.symbols("x0:2", real=True)
    W = sympy.symbols("w0:6", real=True)
    t = sympy.Symbol("t", real=True)
    h = [sympy.tanh(W[0] * x[0] + W[1] * x[1]), softplus(W[2] * x[0] - W[3] * x[1])]
    z = W[4] * h[0] + W[5] * h[1]
    L = -(t * sympy.log(sigmoid(z)) + (1 - t) * sympy.log(1 - sigmoid(z)))
    H, H0, engine = _both("hessian", L, list(W))
    assert engine == "symengine"
    assert any(e.has(sigmoid) for e in _flat(H))  # derivatives stay in sigmoid form
    pt = _point([*W, *x, t], 3)
    for a, b in zip(_flat(H), _flat(H0), strict=True):
        assert a == b or sympy.cancel(a - b) == 0  # rational in sigmoid(z), tanh(u), ...
        assert _close_at(a, b, pt)


@needs_symengine
def test_logistic_loss_gradient_and_hessian_identical(checked):
    w = sympy.symbols("w0:6", real=True)
    xs = sympy.symbols("x0:6", real=True)
    t = sympy.Symbol("t", real=True)
    z = sum(a * b for a, b in zip(w, xs, strict=True))
    for nll in (sympy.log(1 + sympy.exp(z)) - t * z, softplus(z) - t * z):
        H, H0, engine = _both("hessian", nll, list(w))
        assert engine == "symengine"
        g, g0, _ = _both("gradient", nll, list(w))
        pt = _point([*w, *xs, t], 5)
        for a, b in [*zip(_flat(H), _flat(H0), strict=True), *zip(g, g0, strict=True)]:
            assert _same_symbolically(a, b)
            assert _close_at(a, b, pt)


def _more_nist():
    b = sympy.symbols("b1:8", real=True)
    x = sympy.Symbol("x", real=True)
    misra1a = b[0] * (1 - sympy.exp(-b[1] * x))
    thurber = (b[0] + b[1] * x + b[2] * x**2 + b[3] * x**3) / (
        1 + b[4] * x + b[5] * x**2 + b[6] * x**3
    )
    mgh09 = b[0] * (x**2 + x * b[1]) / (x**2 + x * b[2] + b[3])
    eckerle4 = (b[0] / b[1]) * sympy.exp(-sympy.Rational(1, 2) * ((x - b[2]) / b[1]) ** 2)
    hahn = sympy.atan(b[0] * x) + 2.5 * b[1] ** 2 * sympy.sin(b[2] / x)
    return [(misra1a, list(b[:2]), x), (thurber, list(b), x), (mgh09, list(b[:4]), x),
            (eckerle4, list(b[:3]), x), (hahn, list(b[:3]), x)]  # fmt: skip


@needs_symengine
@pytest.mark.parametrize("k", range(8))
def test_nist_jacobians_and_hessians_identical(checked, k):
    model, b, x = (_nist_models() + _more_nist())[k]
    J, J0, engine = _both("jacobian", [model], b)
    assert engine == "symengine"
    H, H0, _ = _both("hessian", model, b)
    pt = {bi: sympy.Rational(1) + sympy.Rational(i, 7) for i, bi in enumerate(b)}
    pt[x] = sympy.Rational(3, 2)
    for a, c in [*zip(_flat(J), _flat(J0), strict=True), *zip(_flat(H), _flat(H0), strict=True)]:
        assert _same_symbolically(a, c)
        assert _close_at(a, c, pt)


@needs_symengine
def test_hvp_identical(checked):
    L, P, x, y = _mlp([2, 3, 1])
    us = sympy.symbols(f"u0:{len(P)}", real=True)
    h, h0, engine = _both("hvp", L, P, us)
    assert engine == "symengine"
    pt = _point([*P, *x, y, *us], 2)
    for a, b in zip(h, h0, strict=True):
        assert _close_at(a, b, pt)
        assert _same_symbolically(a, b, simplify=False)


@needs_symengine
def test_unsupported_nodes_fall_back_to_sympys_engine():
    for f in (sympy.Abs(X) * Y, sympy.Piecewise((X * Y, X > 0), (Y, True)), sympy.Max(X, Y)):
        ctx = _diff.DiffContext(fast=True)
        H = ctx.hessian(f, [X, Y])
        assert ctx.engine == "sympy"
        assert H == _diff.DiffContext().hessian(f, [X, Y])  # the same engine, the same forms
    # a subexpression free of the variables is carried as a constant, whatever it is
    ctx = _diff.DiffContext(fast=True)
    g = ctx.gradient(sympy.Abs(Z) * X**2 + relu(X * Y), [X, Y])
    assert ctx.engine == "symengine"
    assert g[0] == 2 * X * sympy.Abs(Z) + Y * sympy.Heaviside(X * Y, 0)


@needs_symengine
def test_auto_uses_symengine_only_for_large_hessians():
    small = _diff.DiffContext(fast="auto")
    small.hessian(X**2 * Y, [X, Y])
    assert small.engine == "sympy"
    L, P, _, _ = _mlp([2, 3, 1])
    big = _diff.DiffContext(fast="auto")
    big.gradient(L, P)
    assert big.engine == "sympy"  # symml's reverse mode is the faster gradient
    big.hessian(L, P)
    assert big.engine == ("symengine" if big._large(L, None) else "sympy")


@needs_symengine
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_exprs(), st.integers(0, 10**6))
def test_random_expressions_identical(e, seed):
    init = _diff._SymEngineBridge.__init__
    vs = [X, Y]
    fast = _diff.DiffContext(fast=True)
    _diff._SymEngineBridge.__init__ = lambda self, *a, **k: init(self, *a, check=True, **k)
    try:
        H = fast.hessian(e, vs)
    finally:
        _diff._SymEngineBridge.__init__ = init
    H0 = _diff.DiffContext().hessian(e, vs)
    pt = _point([X, Y, Z], seed)
    for a, b in zip(_flat(H), _flat(H0), strict=True):
        try:
            vb = complex(sympy.N(b.xreplace(pt), 30))
        except (TypeError, ValueError):
            continue
        if vb != vb or abs(vb) > 1e12:  # nan or a pole: nothing to compare
            continue
        assert _close_at(a, b, pt, 1e-15)
        if fast.engine == "symengine":
            assert _same_symbolically(a, b, simplify=False) or _close_at(a, b, _point([X, Y, Z], 9))


@needs_symengine
def test_benchmark_runs_at_a_small_size(capsys):
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "benchmarks"))
    import bench_symengine

    rows = bench_symengine.main(["--small", "--repeats", "1"])
    assert "symml / symengine hessian" in capsys.readouterr().out
    assert rows["symengine hessian"] > 0 and rows["symml hessian"] > 0
