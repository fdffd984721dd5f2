"""Tests of symml.compile against independent references.

References: ``sympy.lambdify`` (SymPy's own printer and NumPy), central finite differences,
mpmath at 50 digits, plain NumPy sums of the non-reduced output, and the same function
compiled with scalar symbols instead of vectors (no linear-form rewriting).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.special
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symml as sm
from symml import ArgumentError, ShapeError
from symml.functions import relu, sigmoid, softplus

x, y, z, b = (sm.symbol(n) for n in ("x", "y", "z", "b"))

# lambdify needs to be told what our functions are (SymPy does not know them)
_LAMBDIFY_MODULES = [
    {
        "sigmoid": scipy.special.expit,
        "softplus": lambda u: np.logaddexp(0.0, u),
        "relu": lambda u: np.maximum(u, 0.0),
    },
    "numpy",
    "scipy",
]


def _lambdify(args, e):
    return sympy.lambdify(args, e, modules=_LAMBDIFY_MODULES)


def _logistic(d):
    w, xv = sm.vector("w", d), sm.vector("x", d)
    zz = sum(w[i] * xv[i] for i in range(d)) + b
    return w, xv, softplus(zz) - y * zz


# ------------------------------------------------------------------------------------------
# values against lambdify
# ------------------------------------------------------------------------------------------

EXPRS = [
    x**2 * sympy.sin(x) + y,
    sympy.exp(-(x**2)) / (1 + y**2),
    sympy.sqrt(x**2 + 1) * sympy.atan(y) - sympy.tanh(x * y),
    sympy.log(1 + x**2) + sympy.cos(x + y) ** 3,
    sympy.erf(x) * sympy.Abs(y) + sympy.sign(x - y),
    sigmoid(x * y) + softplus(x - y) + relu(x) * y,
    sympy.Max(x, y, 0) - sympy.Min(x, 2 * y),
    sympy.Piecewise((x**2, x > 0), (y, True)),
    x ** sympy.Rational(1, 3) * 0 + sympy.pi * x / 7 + sympy.E,
    sympy.Heaviside(x, 0) + sympy.Heaviside(y),
]


@pytest.mark.parametrize("e", EXPRS, ids=lambda e: str(e)[:40])
def test_values_match_lambdify(e):
    rng = np.random.default_rng(1)
    xs, ys = rng.normal(size=50), rng.normal(size=50)
    xs[:3] = 0.0  # kinks
    ys[1] = 0.0
    f = sm.compile(e, [x, y])
    got = f(xs, ys)
    want = np.broadcast_to(_lambdify([x, y], e)(xs, ys), (50,))
    assert got.shape == (50,) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_text_input_and_names():
    f = sm.compile("x^2*sin(x) + y", "x, y", grad="x")
    assert f.args == ("x", "y")
    xs = np.linspace(-2, 2, 7)
    value, (dx,) = f(xs, 1.5)
    np.testing.assert_allclose(value, xs**2 * np.sin(xs) + 1.5, rtol=1e-14)
    np.testing.assert_allclose(dx, 2 * xs * np.sin(xs) + xs**2 * np.cos(xs), rtol=1e-13)
    assert "def _symml_compiled(x, y, _L, _N)" in f.source
    assert repr(f) == "<CompiledFunction (x, y) -> value + grad[x]>"


def test_program_params_as_args():
    prog = sm.parse(
        "param w[3] = 0, b = 0.1\ndata x[3], y\nz = dot(w, x) + b\nloss = softplus(z) - y*z"
    )
    f = sm.compile(prog["loss"], [prog.params, "x", "y"], grad=prog.params, reduce="mean")
    assert f.args == ("w[3]", "b", "x[3]", "y")
    assert f.grad == ("w[3]", "b")
    rng = np.random.default_rng(2)
    X, Y, W = rng.normal(size=(40, 3)), (rng.random(40) < 0.5) * 1.0, rng.normal(size=3)
    value, (gw, gb) = f(W, 0.1, X, Y)
    zz = X @ W + 0.1
    np.testing.assert_allclose(value, np.mean(np.logaddexp(0, zz) - Y * zz), rtol=1e-13)
    np.testing.assert_allclose(gw, X.T @ (scipy.special.expit(zz) - Y) / 40, rtol=1e-12)
    np.testing.assert_allclose(gb, np.mean(scipy.special.expit(zz) - Y), rtol=1e-12)


def test_list_of_expressions_gives_tuple():
    f = sm.compile([x * y, x + y], [x, y])
    p, s = f(np.array([1.0, 2.0]), 3.0)
    np.testing.assert_array_equal(p, [3.0, 6.0])
    np.testing.assert_array_equal(s, [4.0, 5.0])
    g = sm.compile([x * y, x + y], [x, y], grad=[x])
    (p, (px,)), (s, (sx,)) = g(2.0, 3.0)
    assert (p, px, s, sx) == (6.0, 3.0, 5.0, 1.0)


# ------------------------------------------------------------------------------------------
# gradients against finite differences
# ------------------------------------------------------------------------------------------


def _central(fun, vals, i, j=None, h=1e-6):
    """Central difference of scalar-valued ``fun`` in argument ``i`` (component ``j``)."""
    plus = [np.array(v, dtype=float, copy=True) for v in vals]
    minus = [np.array(v, dtype=float, copy=True) for v in vals]
    if j is None:
        plus[i] = plus[i] + h
        minus[i] = minus[i] - h
    else:
        plus[i][..., j] += h
        minus[i][..., j] -= h
    return (fun(*plus) - fun(*minus)) / (2 * h)


def test_gradient_matches_finite_differences():
    W = sm.matrix("W", 3, 2)
    c, v, xv = sm.vector("c", 3), sm.vector("v", 3), sm.vector("x", 2)
    hidden = [sympy.tanh(W[j, 0] * xv[0] + W[j, 1] * xv[1] + c[j]) for j in range(3)]
    out = sum(v[j] * hidden[j] for j in range(3)) + b
    loss = (out - y) ** 2 + sigmoid(v[0]) * sympy.log(1 + W[0, 0] ** 2)
    args = [W, c, v, b, xv, y]
    f = sm.compile(loss, args, grad=[W, c, v, b])
    value_only = sm.compile(loss, args)
    rng = np.random.default_rng(3)
    vals = [
        rng.normal(size=(3, 2)),
        rng.normal(size=3),
        rng.normal(size=3),
        0.2,
        rng.normal(size=(20, 2)),
        rng.normal(size=20),
    ]
    value, (gW, gc, gv, gb) = f(*vals)
    np.testing.assert_allclose(value, value_only(*vals), rtol=1e-14)
    assert gW.shape == (20, 3, 2) and gc.shape == (20, 3) and gb.shape == (20,)
    for r in range(3):
        for s in range(2):
            plus = [np.array(a, dtype=float, copy=True) for a in vals]
            minus = [np.array(a, dtype=float, copy=True) for a in vals]
            plus[0][r, s] += 1e-6
            minus[0][r, s] -= 1e-6
            fd = (value_only(*plus) - value_only(*minus)) / 2e-6
            np.testing.assert_allclose(gW[:, r, s], fd, rtol=1e-6, atol=1e-8)
    for j in range(3):
        np.testing.assert_allclose(gc[:, j], _central(value_only, vals, 1, j), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(gv[:, j], _central(value_only, vals, 2, j), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, _central(value_only, vals, 3), rtol=1e-6, atol=1e-8)


def test_gradient_matches_sympy_diff_on_logistic_loss():
    w, xv, loss = _logistic(4)
    f = sm.compile(loss, [w, b, xv, y], grad=[w, b])
    rng = np.random.default_rng(4)
    W, X, Y = rng.normal(size=4), rng.normal(size=(30, 4)), (rng.random(30) < 0.5) * 1.0
    _, (gw, gb) = f(W, -0.3, X, Y)
    flat = list(w) + [b] + list(xv) + [y]
    for i in range(4):
        ref = _lambdify(flat, loss.diff(w[i]))(*W, -0.3, *X.T, Y)
        np.testing.assert_allclose(gw[:, i], ref, rtol=1e-12)
    np.testing.assert_allclose(gb, _lambdify(flat, loss.diff(b))(*W, -0.3, *X.T, Y), rtol=1e-12)


# ------------------------------------------------------------------------------------------
# shapes and broadcasting
# ------------------------------------------------------------------------------------------


def test_scalar_inputs_give_numpy_floats():
    f = sm.compile(x * y + 1, [x, y], grad=[x, y])
    value, (dx, dy) = f(2.0, 3)
    assert isinstance(value, np.float64) and value == 7.0
    assert isinstance(dx, np.float64) and dx == 3.0 and dy == 2.0


def test_broadcasting_over_leading_axes():
    w, xv, loss = _logistic(3)
    f = sm.compile(loss, [w, b, xv, y], grad=[w, b])
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2, 5, 3))  # leading batch dims (2, 5)
    Y = rng.normal(size=(5,))  # broadcasts against (2, 5)
    W = rng.normal(size=3)
    value, (gw, gb) = f(W, 0.5, X, Y)
    assert value.shape == (2, 5) and gw.shape == (2, 5, 3) and gb.shape == (2, 5)
    zz = X @ W + 0.5
    np.testing.assert_allclose(value, np.logaddexp(0, zz) - Y * zz, rtol=1e-13)
    np.testing.assert_allclose(gw, (scipy.special.expit(zz) - Y)[..., None] * X, rtol=1e-12)
    # one row: a vector of shape (k,) gives scalars
    v1, (g1, gb1) = f(W, 0.5, X[0, 0], Y[0])
    assert np.shape(v1) == () and g1.shape == (3,) and np.shape(gb1) == ()
    np.testing.assert_allclose(v1, value[0, 0], rtol=1e-14)
    # a batch of parameter vectors against one data row
    Wb = rng.normal(size=(4, 3))
    vb, (gwb, _) = f(Wb, 0.5, X[0, 0], Y[0])
    assert vb.shape == (4,) and gwb.shape == (4, 3)
    np.testing.assert_allclose(vb[2], f(Wb[2], 0.5, X[0, 0], Y[0])[0], rtol=1e-14)


def test_result_broadcast_to_leading_shape_when_it_ignores_the_rows():
    w = sm.vector("w", 2)
    f = sm.compile(w[0] ** 2 + w[1], [w, y], grad=[w])
    value, (gw,) = f(np.array([3.0, 1.0]), np.zeros(4))
    assert value.shape == (4,) and gw.shape == (4, 2)
    np.testing.assert_array_equal(value, 10.0)
    np.testing.assert_array_equal(gw, np.broadcast_to([6.0, 1.0], (4, 2)))
    value[0] = -1.0  # writeable, not a broadcast view
    assert gw.flags.writeable


def test_matrix_argument_takes_last_two_axes():
    W = sm.matrix("W", 2, 3)
    e = sum(W[i, j] * (i + 1) * (j + 2) for i in range(2) for j in range(3))
    f = sm.compile(e, [W])
    A = np.random.default_rng(6).normal(size=(5, 2, 3))
    np.testing.assert_allclose(f(A), np.einsum("nij,i,j->n", A, [1, 2], [2, 3, 4]), rtol=1e-13)


def test_constant_and_zero_derivatives_are_float_arrays():
    f = sm.compile(x**2 + 3 * y, [x, y, z], grad=[x, y, z])
    xs = np.arange(4.0)
    value, (dx, dy, dz) = f(xs, np.ones(4), 0.0)
    # z is an argument the expression does not use: its derivative is 0
    assert f.args == ("x", "y", "z")
    for g, want in ((dx, 2 * xs), (dy, np.full(4, 3.0))):
        assert isinstance(g, np.ndarray) and g.dtype == np.float64 and g.shape == (4,)
        np.testing.assert_array_equal(g, want)
    assert dz.dtype == np.float64 and dz.shape == (4,) and not dz.any()


def test_constant_expression_broadcasts():
    f = sm.compile(sympy.Integer(5), [x])
    out = f(np.zeros((2, 3)))
    assert out.dtype == np.float64 and out.shape == (2, 3) and (out == 5).all()


def test_hessian_is_float_array_with_matrix_axes_last_and_symmetric_once():
    w, xv, loss = _logistic(3)
    params = list(w) + [b]
    H = sympy.hessian(loss + w[0] ** 2 + 2 * w[1], params)  # constant entries too
    f = sm.compile(H, [w, b, xv, y])
    rng = np.random.default_rng(7)
    W, X, Y = rng.normal(size=3), rng.normal(size=(6, 3)), rng.normal(size=6)
    out = f(W, 0.2, X, Y)
    assert out.shape == (6, 4, 4) and out.dtype == np.float64
    flat = list(w) + [b] + list(xv) + [y]
    ref = _lambdify(flat, H)
    for r in range(6):
        want = np.array(ref(*W, 0.2, *X[r], Y[r]), dtype=float)
        np.testing.assert_allclose(out[r], want, rtol=1e-12, atol=1e-15)
    # each (i, j)/(j, i) pair is computed once (the upper triangle, then mirrored), and the
    # w-w block is one matrix-form part x * x^T * s
    assert "_mirror(_r0)" in f.source and "_ogram(" in f.source
    assert f.source.count("    _r0[...,") <= 10
    # a constant Hessian entry is a float array of the right shape
    g = sm.compile(sympy.hessian(x**2 * y + y**2, [x, y]), [x, y])
    hh = g(np.arange(3.0), 1.0)
    assert hh.shape == (3, 2, 2) and hh.dtype == np.float64
    np.testing.assert_array_equal(hh[:, 1, 1], 2.0)
    np.testing.assert_array_equal(hh[:, 0, 0], 2.0)
    np.testing.assert_array_equal(hh[:, 0, 1], 2 * np.arange(3.0))


def test_column_vector_gives_one_axis():
    w = sm.vector("w", 3)
    gvec = sympy.Matrix([w[0] * x, w[1] ** 2, 1])
    out = sm.compile(gvec, [w, x])(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0]))
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out, [[1.0, 4.0, 1.0], [2.0, 4.0, 1.0]])


def test_outputs_never_alias_inputs():
    xs = np.arange(3.0)
    out = sm.compile(x, [x])(xs)
    out[0] = 99.0
    assert xs[0] == 0.0
    xv = sm.vector("x", 2)
    X = np.ones((3, 2))
    col = sm.compile(xv[1], [xv])(X)
    col[:] = 5.0
    assert (X == 1.0).all()


# ------------------------------------------------------------------------------------------
# reductions and linear forms
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_reduce_matches_numpy_reduction_of_rowwise_output(reduce):
    w, xv, loss = _logistic(5)
    extra = w[0] ** 2 * sympy.cos(y) + sympy.sqrt(1 + w[1] ** 2) + 0.5 * w[2]  # param-only part
    e = loss + extra
    args, wrt = [w, b, xv, y], [w, b]
    rows = sm.compile(e, args, grad=wrt)
    red = sm.compile(e, args, grad=wrt, reduce=reduce)
    rng = np.random.default_rng(8)
    for lead in [(50,), (4, 7)]:
        W, X, Y = rng.normal(size=5), rng.normal(size=lead + (5,)), rng.normal(size=lead)
        v, (gw, gb) = rows(W, -0.7, X, Y)
        rv, (rgw, rgb) = red(W, -0.7, X, Y)
        npred = np.sum if reduce == "sum" else np.mean
        axes = tuple(range(len(lead)))
        np.testing.assert_allclose(rv, npred(v), rtol=1e-12)
        np.testing.assert_allclose(rgw, npred(gw, axis=axes), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(rgb, npred(gb), rtol=1e-11, atol=1e-12)
        assert rgw.shape == (5,) and np.shape(rv) == ()
    # a value that ignores the rows counts once per row
    only_params = sm.compile(w[0] ** 2, [w, xv], grad=[w], reduce=reduce)
    rv, (rgw,) = only_params(np.array([3.0, 0, 0, 0, 0]), np.zeros((10, 5)))
    assert rv == (90.0 if reduce == "sum" else 9.0)
    np.testing.assert_array_equal(
        rgw, np.array([60.0, 0, 0, 0, 0]) / (1 if reduce == "sum" else 10)
    )


def _flat(r):
    """All numbers of a (value, [grads]) result, or of a plain array, in one vector."""
    if isinstance(r, tuple):
        return np.concatenate([np.ravel(a) for a in (r[0], *r[1])])
    return np.ravel(r)


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_reduce_in_blocks_of_rows_matches_numpy(reduce):
    w, xv, loss = _logistic(4)
    e = loss + w[0] ** 2 + sympy.Integer(3)  # row-free parts are counted once per row
    H = sm.hessian(e, list(w) + [b])
    args = [w, b, xv, y]
    rng = np.random.default_rng(13)
    W, X, Y = rng.normal(size=4), rng.normal(size=(103, 4)), rng.normal(size=103)
    npred = np.sum if reduce == "sum" else np.mean
    v, (gw, gb) = sm.compile(e, args, grad=[w, b])(W, 0.3, X, Y)
    want = _flat((npred(v), [npred(gw, axis=0), npred(gb)]))
    want_h = npred(sm.compile(H, args)(W, 0.3, X, Y), axis=0).ravel()
    for f, ref in (
        (sm.compile(e, args, grad=[w, b], reduce=reduce), want),
        (sm.compile(H, args, reduce=reduce), want_h),
    ):
        np.testing.assert_allclose(_flat(f(W, 0.3, X, Y)), ref, rtol=1e-12, atol=1e-12)
        f.block_rows = 10  # 11 blocks, the last one short
        np.testing.assert_allclose(_flat(f(W, 0.3, X, Y)), ref, rtol=1e-12, atol=1e-12)


def test_reduce_of_hessian_and_constants():
    f = sm.compile(sympy.hessian(x**2 * y + y**2, [x, y]), [x, y], reduce="sum")
    out = f(np.arange(3.0), 1.0)
    np.testing.assert_array_equal(out, [[6.0, 6.0], [6.0, 6.0]])


def test_linear_form_path_matches_scalar_path():
    """The vector version (x @ w, X.T @ r) equals the same loss written with scalars."""
    d = 6
    w, xv, loss = _logistic(d)
    xs = [sm.symbol(f"x{i}") for i in range(d)]
    ws = [sm.symbol(f"w{i}") for i in range(d)]
    loss_s = loss.subs(
        {**dict(zip(xv, xs, strict=True)), **dict(zip(w, ws, strict=True))}, simultaneous=True
    )
    rng = np.random.default_rng(9)
    W, X, Y = rng.normal(size=d), rng.normal(size=(200, d)), (rng.random(200) < 0.5) * 1.0
    for reduce in (None, "sum", "mean"):
        fv = sm.compile(loss, [w, b, xv, y], grad=[w, b], reduce=reduce)
        fs = sm.compile(loss_s, [*ws, b, *xs, y], grad=[*ws, b], reduce=reduce)
        assert "_dot(x, w)" in fv.source and "_dot" not in fs.source
        if reduce:
            assert "_rdot(" in fv.source  # X.T @ r, never an (n, d) array of per-row gradients
        v1, (gw, gb) = fv(W, 0.4, X, Y)
        v2, g2 = fs(*W, 0.4, *X.T, Y)
        np.testing.assert_allclose(v1, v2, rtol=1e-12)
        np.testing.assert_allclose(gw, np.stack(g2[:d], axis=-1), rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(gb, g2[d], rtol=1e-11, atol=1e-13)


def test_linear_form_with_general_coefficients_and_remainder():
    w, xv = sm.vector("w", 3), sm.vector("x", 3)
    # coefficients are not w itself; a per-row remainder R_i = w_i^2 in the gradient
    e = sympy.sin(2 * w[0] * xv[0] + 3 * xv[1] - w[2] ** 2 * xv[2]) + w[0] ** 3 + w[1] ** 2 * y
    e = e + sum(w[i] ** 2 * y for i in range(3))
    f = sm.compile(e, [w, xv, y], grad=[w], reduce="sum")
    g = sm.compile(e, [w, xv, y], grad=[w])
    rng = np.random.default_rng(10)
    W, X, Y = rng.normal(size=3), rng.normal(size=(25, 3)), rng.normal(size=25)
    v, (gw,) = f(W, X, Y)
    vr, (gwr,) = g(W, X, Y)
    np.testing.assert_allclose(v, vr.sum(), rtol=1e-12)
    np.testing.assert_allclose(gw, gwr.sum(0), rtol=1e-11)
    flat = list(w) + list(xv) + [y]
    for i in range(3):
        ref = _lambdify(flat, e.diff(w[i]))(*W, *X.T, Y)
        np.testing.assert_allclose(gwr[:, i], ref, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------------------
# kink conventions
# ------------------------------------------------------------------------------------------


def test_kink_conventions_follow_exactly():
    zero = np.zeros(3)
    f = sm.compile([relu(x), sympy.Abs(x), sm.heaviside(x), sympy.sign(x)], [x], grad=[x])
    (r, (dr,)), (a, (da,)), (h, (dh,)), (s, (ds,)) = f(zero)
    np.testing.assert_array_equal(r, 0.0)
    np.testing.assert_array_equal(dr, 0.0)  # relu'(0) = heaviside(0) = 0
    np.testing.assert_array_equal(a, 0.0)
    np.testing.assert_array_equal(da, 0.0)  # abs'(0) = sign(0) = 0
    np.testing.assert_array_equal(h, 0.0)  # heaviside(0) = 0
    np.testing.assert_array_equal(s, 0.0)
    # away from the kink: the usual values
    (r, (dr,)), (a, (da,)), (h, _), _ = f(np.array([-2.0, 3.0]))
    np.testing.assert_array_equal(dr, [0.0, 1.0])
    np.testing.assert_array_equal(da, [-1.0, 1.0])
    np.testing.assert_array_equal(h, [0.0, 1.0])
    # SymPy's own Heaviside(x) keeps its value 1/2 at 0
    assert sm.compile(sympy.Heaviside(x), [x])(0.0) == 0.5


# ------------------------------------------------------------------------------------------
# numerical safety (|z| up to 1e3), against mpmath at 50 digits
# ------------------------------------------------------------------------------------------

ZS = np.array(
    [
        -1000.0,
        -745.0,
        -710.0,
        -100.0,
        -40.0,
        -1.0,
        -1e-8,
        0.0,
        1e-8,
        1.0,
        40.0,
        100.0,
        710.0,
        745.0,
        1000.0,
    ]
)


def _mp(fun):
    with mpmath.workdps(50):  # local precision: other tests rely on mpmath's default
        return np.array([float(fun(mpmath.mpf(float(v)))) for v in ZS])


def _mp_softplus(u):
    return mpmath.log1p(mpmath.exp(u))


def _mp_sigmoid(u):
    return 1 / (1 + mpmath.exp(-u))


SAFETY_CASES = [
    # (expression in z, value reference, derivative reference)
    (softplus(z), _mp_softplus, _mp_sigmoid),
    (sympy.log(1 + sympy.exp(z)), _mp_softplus, _mp_sigmoid),
    (sympy.log(sigmoid(z)), lambda u: -_mp_softplus(-u), lambda u: _mp_sigmoid(-u)),
    (sympy.log(1 - sigmoid(z)), lambda u: -_mp_softplus(u), lambda u: -_mp_sigmoid(u)),
    (1 / (1 + sympy.exp(-z)), _mp_sigmoid, lambda u: _mp_sigmoid(u) * _mp_sigmoid(-u)),
    (1 - sigmoid(z), lambda u: _mp_sigmoid(-u), lambda u: -_mp_sigmoid(u) * _mp_sigmoid(-u)),
    (sigmoid(z), _mp_sigmoid, lambda u: _mp_sigmoid(u) * _mp_sigmoid(-u)),
    (sympy.exp(z) / (1 + sympy.exp(z)), _mp_sigmoid, lambda u: _mp_sigmoid(u) * _mp_sigmoid(-u)),
]


@pytest.mark.parametrize("e, ref, dref", SAFETY_CASES, ids=lambda c: str(c)[:30])
def test_numerically_safe_forms(e, ref, dref):
    f = sm.compile(e, [z], grad=[z])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        value, (dz,) = f(ZS)
    np.testing.assert_allclose(value, _mp(ref), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(dz, _mp(dref), rtol=1e-13, atol=1e-300)


def test_logistic_loss_is_safe_and_accurate():
    # the Bernoulli negative log-likelihood as a textbook writes it
    nll = -(y * sympy.log(sigmoid(z)) + (1 - y) * sympy.log(1 - sigmoid(z)))
    f = sm.compile(nll, [z, y], grad=[z])
    for label in (0.0, 1.0):
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            value, (dz,) = f(ZS, label)
        # softplus(u) - u = softplus(-u): the reference must not cancel either
        sgn = -1 if label else 1
        want = _mp(lambda u: _mp_softplus(sgn * u))  # noqa: B023
        dwant = _mp(lambda u: sgn * _mp_sigmoid(sgn * u))  # noqa: B023
        np.testing.assert_allclose(value, want, rtol=1e-13, atol=1e-300)
        np.testing.assert_allclose(dz, dwant, rtol=1e-13, atol=1e-300)
    # SymPy's straightforward version really does break down there
    naive = sympy.lambdify([z, y], nll.rewrite(sympy.exp), "numpy")
    with np.errstate(all="ignore"):
        assert not np.isfinite(naive(ZS, 1.0)).all()


# ------------------------------------------------------------------------------------------
# big expressions
# ------------------------------------------------------------------------------------------


def test_hessian_of_fifty_parameters_compiles():
    """A 50 x 50 Hessian of ~10^5 (tree) operations: no RecursionError, each pair once."""
    n = 50
    w, xv = sm.vector("w", n), sm.vector("x", n)
    u = sum(w[i] * xv[i] for i in range(n))
    r = sum(w[i] ** 2 for i in range(n))
    # the Hessian of softplus(w.x) + log(1 + |w|^2), written out entry by entry
    s = sigmoid(u) * sigmoid(-u)
    H = sympy.ImmutableMatrix(
        n,
        n,
        lambda i, j: (
            s * xv[i] * xv[j] + (2 if i == j else 0) / (1 + r) - 4 * w[i] * w[j] / (1 + r) ** 2
        ),
    )
    f = sm.compile(H, [w, xv])
    rng = np.random.default_rng(11)
    W, X = rng.normal(size=n) * 0.1, rng.normal(size=(3, n))
    out = f(W, X)
    assert out.shape == (3, n, n)
    np.testing.assert_array_equal(out, out.transpose(0, 2, 1))
    zz = X @ W
    rr = W @ W
    sig = scipy.special.expit(zz) * scipy.special.expit(-zz)
    want = (
        sig[:, None, None] * X[:, :, None] * X[:, None, :]
        + 2 * np.eye(n) / (1 + rr)
        - 4 * np.outer(W, W) / (1 + rr) ** 2
    )
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-15)


def test_symml_hessian_is_compiled_symmetric_once():
    xs = sm.vector("x", 3)
    e = sympy.exp(xs[0] * xs[1]) * sympy.sin(xs[2]) + xs[0] ** 3 * xs[2]
    H = sm.hessian(e, xs)
    f = sm.compile(H, [xs])
    # the 6 entries of the upper triangle are computed, the 3 below it mirrored
    assert f.source.count("    _r0[..., ") == 6 and "_mirror(_r0)" in f.source
    P = np.random.default_rng(12).normal(size=(4, 3))
    out = f(P)
    ref = _lambdify(list(xs), H)
    for k in range(4):
        np.testing.assert_allclose(out[k], np.array(ref(*P[k]), dtype=float), rtol=1e-13)


def test_long_sums_and_deep_nesting_compile():
    xs = [sm.symbol(f"x{i}") for i in range(1100)]
    long_sum = sympy.Add(*[(i % 7 + 1) * xs[i] ** 2 for i in range(1100)])
    f = sm.compile(long_sum, xs)
    vals = np.linspace(-1, 1, 1100)
    np.testing.assert_allclose(f(*vals), np.sum((np.arange(1100) % 7 + 1) * vals**2), rtol=1e-12)
    deep = x
    for _ in range(250):
        deep = sympy.sin(deep) + y
    g = sm.compile(deep, [x, y])
    ref = 0.3
    for _ in range(250):
        ref = math.sin(ref) + 0.1
    assert g(0.3, 0.1) == pytest.approx(ref, rel=1e-12)


# ------------------------------------------------------------------------------------------
# bad arguments
# ------------------------------------------------------------------------------------------


def test_bad_arguments_raise_clear_errors():
    w, xv, loss = _logistic(3)
    f = sm.compile(loss, [w, b, xv, y], grad=[w, b])
    with pytest.raises(ArgumentError, match="takes 4 argument"):
        f(np.zeros(3), 0.0, np.zeros((5, 3)))
    with pytest.raises(ShapeError, match=r"x\[3\].*length 3.*got shape \(5, 4\)"):
        f(np.zeros(3), 0.0, np.zeros((5, 4)), np.zeros(5))
    with pytest.raises(ShapeError, match="w"):
        f(0.0, 0.0, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ShapeError, match="do not broadcast"):
        f(np.zeros(3), 0.0, np.zeros((5, 3)), np.zeros(4))
    with pytest.raises(ArgumentError, match="argument y"):
        f(np.zeros(3), 0.0, np.zeros((5, 3)), "abc")
    with pytest.raises(ArgumentError, match="complex"):
        f(np.zeros(3), 0.0, np.zeros((5, 3)), np.zeros(5) + 1j)


def test_bad_compile_requests_raise():
    with pytest.raises(ArgumentError, match="uses y"):
        sm.compile(x + y, [x])
    with pytest.raises(ArgumentError, match="not among the args"):
        sm.compile(x + y, [x, y], grad=["z"])
    with pytest.raises(ArgumentError, match="reduce"):
        sm.compile(x, [x], reduce="max")
    with pytest.raises(ArgumentError, match="twice"):
        sm.compile(x, [x, "x"])
    with pytest.raises(ArgumentError, match="cannot compile"):
        sm.compile(sympy.Function("g")(x), [x])
    with pytest.raises(ArgumentError, match="relations"):
        sm.compile(sympy.Eq(x, 1), [x])
    with pytest.raises(ArgumentError):
        sm.compile(x, [3.5])


# ------------------------------------------------------------------------------------------
# property test: random small expressions
# ------------------------------------------------------------------------------------------

_UNARY = [
    sympy.sin,
    sympy.cos,
    sympy.exp,
    sympy.tanh,
    sympy.atan,
    sigmoid,
    softplus,
    relu,
    sympy.Abs,
    lambda u: sympy.log(1 + u**2),
    lambda u: sympy.sqrt(1 + u**2),
]


def _exprs():
    leaves = st.sampled_from([x, y, sympy.Integer(2), sympy.Rational(-1, 3), sympy.Float(0.75)])

    def extend(children):
        unary = st.tuples(st.sampled_from(_UNARY), children).map(lambda t: t[0](t[1]))
        binary = st.tuples(st.sampled_from(["+", "-", "*", "/", "^"]), children, children).map(
            _binop
        )
        return unary | binary

    return st.recursive(leaves, extend, max_leaves=8)


def _binop(t):
    op, a, c = t
    if op == "+":
        return a + c
    if op == "-":
        return a - c
    if op == "*":
        return a * c
    if op == "/":
        return a / (1 + c**2)
    return a**2 * c


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(e=_exprs(), xv=st.floats(-2, 2), yv=st.floats(-2, 2))
def test_property_compiled_value_equals_reference(e, xv, yv):
    f = sm.compile(e, [x, y], grad=[x])
    with np.errstate(all="ignore"):
        got, (gx,) = f(xv, yv)
        want = _lambdify([x, y], e)(xv, yv)
        dwant = _lambdify([x, y], e.diff(x))(xv, yv)
    exact = complex(e.evalf(30, subs={x: xv, y: yv}))
    if not np.isfinite(want) or abs(exact.imag) > 0:
        return
    # close to lambdify's float evaluation, or (where our safe rewrites differ) to the exact value
    ok = math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12) or math.isclose(
        got, exact.real, rel_tol=1e-9, abs_tol=1e-12
    )
    assert ok, (e, got, want, exact)
    if np.isfinite(dwant):
        assert math.isclose(gx, dwant, rel_tol=1e-8, abs_tol=1e-10), (e, gx, dwant)


@pytest.mark.parametrize(
    "text",
    [
        "atan(factorial(-1)) + x",  # atan(zoo) is a range of values (AccumBounds)
        # zoo appears only after the safe rewrite of log(sigmoid(.))
        "loggamma((log(sigmoid(123456789)))^((sinh(0.0)) - (loggamma(-1)))) + x",
        "x + log(0)",
    ],
)
def test_undefined_constants_are_argument_errors_not_raw_exceptions(text):
    with pytest.raises(ArgumentError):
        sm.compile(text, ["x", "y"])(np.array([1.0, 2.0]), 0.25)


def test_heaviside_of_constants_and_integers_is_a_float_array():
    f = sm.compile(sympy.Heaviside(x, 0) + sympy.Heaviside(2) + sympy.Heaviside(y), [x, y])
    got = f(np.array([-1.0, 0.0, 2.0]), np.array([0.0, 0.0, 1.0]))
    np.testing.assert_array_equal(got, [1.5, 1.5, 3.0])
