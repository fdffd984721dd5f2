"""Compile at scale: the linear-time DAG CSE against SymPy's cse and lambdify, and deep or
wide expressions through diff, grad, compile and to_text without RecursionError."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symml as sm
from symml.backends.args import fresh_memo
from symml.backends.cse import cse_dag
from symml.backends.plan import build_plan
from symml.functions import sigmoid

X, Y, Z = sympy.symbols("x y z", real=True)


def _mlp(sizes):
    x = sympy.symbols(f"x0:{sizes[0]}", real=True)
    y = sympy.Symbol("y", real=True)
    params, h = [], list(x)
    for layer in range(1, len(sizes)):
        n_in, n_out = sizes[layer - 1], sizes[layer]
        W = [
            [sympy.Symbol(f"W{layer}_{i}_{j}", real=True) for j in range(n_in)]
            for i in range(n_out)
        ]
        b = [sympy.Symbol(f"b{layer}_{i}", real=True) for i in range(n_out)]
        for i in range(n_out):
            params += W[i] + [b[i]]
        z = [sum(W[i][j] * h[j] for j in range(n_in)) + b[i] for i in range(n_out)]
        h = [sympy.tanh(zi) for zi in z] if layer < len(sizes) - 1 else z
    s = 1 / (1 + sympy.exp(-h[0]))
    return -(y * sympy.log(s) + (1 - y) * sympy.log(1 - s)), params, list(x), y


def _substituted(repl, reduced):
    """The inputs back from ``(replacements, reduced)`` (an independent check of cse_dag)."""
    env: dict = {}
    for sym, e in repl:
        env[sym] = e.xreplace(env)
    return [e.xreplace(env) for e in reduced]


def test_cse_dag_reconstructs_its_inputs_and_orders_its_temporaries():
    L, P, x, y = _mlp([2, 3, 1])
    g = sm.grad(L, P, simplify=False)
    exprs = [L, *g]
    names = (sympy.Dummy(f"t{i}") for i in itertools.count())
    repl, reduced = cse_dag(exprs, names, max_depth=6)
    defined: set = set()
    temps = {s for s, _ in repl}
    for sym, e in repl:  # each temporary uses only earlier ones
        assert (e.free_symbols & temps) <= defined
        defined.add(sym)
    back = _substituted(repl, reduced)
    rng = np.random.default_rng(3)
    for _ in range(3):
        pt = {
            s: sympy.Float(v) for s, v in zip([*P, *x, y], rng.normal(size=len(P) + 3), strict=True)
        }
        for a, b in zip(exprs, back, strict=True):
            assert abs(float(a.xreplace(pt)) - float(b.xreplace(pt))) < 1e-12


def test_cse_dag_names_each_shared_subexpression_once():
    s = sympy.sin(X + Y)
    repl, reduced = cse_dag(
        [s**2 + s, sympy.cos(s) * s], (sympy.Symbol(f"t{i}") for i in itertools.count())
    )
    assert [e for _, e in repl] == [X + Y, sympy.sin(sympy.Symbol("t0"))] or [
        e for _, e in repl
    ] == [sympy.sin(X + Y)]
    assert sum(1 for _, e in repl if e == sympy.sin(X + Y) or e.func is sympy.sin) == 1


def _plans(exprs, args, **kw):
    with fresh_memo():
        dag = build_plan(exprs, args, None, None, False, cse="dag", **kw)
    with fresh_memo():
        ref = build_plan(exprs, args, None, None, False, cse="sympy", **kw)
    return dag, ref


def test_dag_and_sympy_cse_compile_to_the_same_values_on_the_mlp_hessian():
    L, P, x, y = _mlp([2, 3, 1])
    g = sm.grad(L, P, simplify=False)
    H = sm.hessian(L, P, simplify=False)
    args = [*P, *x, y]
    f = sm.compile([L, g, H], args)  # the default picks the DAG CSE at this size or not
    ref = sympy.lambdify(args, [L, list(g), H.tolist()], "mpmath")
    rng = np.random.default_rng(5)
    for _ in range(4):
        vals = list(rng.normal(size=len(args)))
        out = f(*vals)
        want = ref(*vals)
        assert abs(out[0] - float(want[0])) <= 1e-12 * max(1, abs(float(want[0])))
        np.testing.assert_allclose(out[1], np.array(want[1], dtype=float), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(out[2], np.array(want[2], dtype=float), rtol=1e-10, atol=1e-13)


def _compile_with(exprs, args, engine, monkeypatch):
    import symml.backends.plan as plan

    monkeypatch.setattr(plan, "_SYMPY_CSE_NODES", 10**9 if engine == "sympy" else -1)
    return sm.compile(exprs, args)


@pytest.mark.parametrize("engine", ["dag", "sympy"])
def test_both_cse_engines_match_lambdify_on_a_logistic_hessian(engine, monkeypatch):
    w, xv = sm.vector("w", 3), sm.vector("x", 3)
    b, y = sm.symbol("b"), sm.symbol("y")
    z = sum(w[i] * xv[i] for i in range(3)) + b
    loss = sm.softplus(z) - y * z
    params = [*w, b]
    H = sympy.hessian(loss, params)
    g = sympy.Matrix([sympy.diff(loss, p) for p in params])
    f = _compile_with([g, H], [w, b, xv, y], engine, monkeypatch)
    flat = [*w, b, *xv, y]
    ref = sympy.lambdify(
        flat,
        [g, H],
        modules=[
            {"softplus": lambda t: np.logaddexp(0, t), "sigmoid": lambda t: 1 / (1 + np.exp(-t))},
            "numpy",
        ],
    )
    rng = np.random.default_rng(9)
    W, X_, Yv = rng.normal(size=3), rng.normal(size=(5, 3)), rng.normal(size=5)
    out_g, out_H = f(W, 0.3, X_, Yv)
    for r in range(5):
        wg, wH = ref(*W, 0.3, *X_[r], Yv[r])
        np.testing.assert_allclose(out_g[r], np.ravel(np.array(wg, dtype=float)), rtol=1e-12)
        np.testing.assert_allclose(out_H[r], np.array(wH, dtype=float), rtol=1e-12, atol=1e-15)


_UNARY = [sympy.sin, sympy.cos, sympy.exp, sympy.tanh, sigmoid, sm.softplus]


@st.composite
def _exprs(draw, depth=4):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from([X, Y, Z, sympy.Integer(2), sympy.Rational(1, 3)]))
    kind = draw(st.integers(0, 3))
    a = draw(_exprs(depth - 1))
    if kind == 0:
        return draw(st.sampled_from(_UNARY))(a)
    b = draw(_exprs(depth - 1))
    return [a + b, a * b, a * b + a][kind - 1]


def _real(e) -> float:
    c = complex(e)
    assert abs(c.imag) <= 1e-12 * max(1.0, abs(c.real))
    return c.real


@settings(max_examples=40, deadline=None)
@given(_exprs(), _exprs())
def test_dag_and_sympy_cse_agree_on_random_expressions_and_their_gradients(e1, e2):
    exprs = [e1 + e2, e1 * e2]
    exprs += [sympy.diff(exprs[1], v) for v in (X, Y)]
    dag, ref = _plans(exprs, [X, Y, Z])
    rng = np.random.default_rng(11)
    pts = rng.uniform(-1.5, 1.5, size=(4, 3))

    def values(plan):
        env_names = dict(zip((X, Y, Z), range(3), strict=True))
        out = []
        for p in pts:
            env = {s: p[i] for s, i in env_names.items()}
            for sym, e in plan.replacements:
                env[sym] = _real(e.xreplace({k: sympy.Float(v) for k, v in env.items()}))
            out.append(
                [
                    _real(e.xreplace({k: sympy.Float(v) for k, v in env.items()}))
                    for e in plan.outputs
                ]
            )
        return np.array(out)

    a, b = values(dag), values(ref)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------------------------------
# depth 500 and 10^4 terms: no RecursionError anywhere
# ------------------------------------------------------------------------------------------


def _chain(depth):
    e = X
    for _ in range(depth):
        e = sympy.sin(e)
    return e


def _reference_chain_derivative(depth, x0):
    """d/dx sin^depth(x) at x0 by the chain rule in floats (independent of SymPy)."""
    v, dv = x0, 1.0
    for _ in range(depth):
        v, dv = np.sin(v), np.cos(v) * dv
    return v, dv


def test_depth_500_composition_compiles_and_prints():
    limit = sys.getrecursionlimit()
    e = _chain(500)
    f = sm.compile(e, [X])
    assert abs(f(0.7) - _reference_chain_derivative(500, 0.7)[0]) < 1e-12
    text = sm.to_text(e)
    assert text.count("sin(") == 500
    assert sys.getrecursionlimit() == limit  # nothing leaks a raised limit


def test_deep_composition_derivative_compiles_and_prints():
    # depth 80: deriving depth 500 is the engine's part (docs/performance.md); the
    # derivative's compile and printing are what is tested here
    e = _chain(80)
    d = sm.grad(e, [X], simplify=False)[0]
    f = sm.compile(e, [X], grad=[X])
    v, (dv,) = f(0.7)
    want_v, want_dv = _reference_chain_derivative(80, 0.7)
    assert abs(v - want_v) < 1e-12 and abs(dv - want_dv) < 1e-12
    assert abs(sm.compile(d, [X])(0.7) - want_dv) < 1e-12
    assert sm.to_text(d).count("cos(") >= 80


def test_depth_500_mixed_chain_compiles_and_prints():
    e = X
    for k in range(500):
        e = sympy.sin(e) + Y / 7 if k % 2 else sympy.cos(e) * (1 + Y / 9)
    f = sm.compile(e, [X, Y])
    v = X0 = 0.3
    for k in range(500):
        v = np.sin(v) + 0.2 / 7 if k % 2 else np.cos(v) * (1 + 0.2 / 9)
    assert abs(f(X0, 0.2) - v) < 1e-12
    assert sm.to_text(e).count("sin(") == 250


def test_sum_of_ten_thousand_terms_differentiates_and_compiles():
    ws = sympy.symbols("w0:10000", real=True)
    wide = sympy.Add(*[sympy.sin(w * X) for w in ws])
    g = sm.grad(wide, [X], simplify=False)[0]
    with sm.limits(seconds=600):  # about 10-40 s on the shared machine
        f = sm.compile(wide, [X, *ws], grad=[X])
    rng = np.random.default_rng(2)
    W = rng.normal(size=10000)
    v, (dx,) = f(0.4, *W)
    assert abs(v - np.sin(W * 0.4).sum()) < 1e-9
    assert abs(dx - (W * np.cos(W * 0.4)).sum()) < 1e-9
    # sm.to_text of this gradient is the language printer's part: over 60 s here
    assert g.is_Add and len(g.args) == 10000


def test_a_sum_whose_last_group_of_32_terms_has_one_term_compiles():
    # printed in groups of 32 terms: a 33rd negated term is a group of one
    xs = sympy.symbols("a0:33", real=True)
    f = sm.compile(sympy.Add(*[-(v**2) for v in xs]), list(xs))
    v = np.arange(33.0)
    assert f(*v) == -(v**2).sum()
