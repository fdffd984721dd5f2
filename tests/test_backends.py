"""The compile backends (numpy, numba, jax) against independent references and each other.

References: SymPy's ``lambdify`` per row, hand-written NumPy formulas (logistic NLL, its
gradient ``X.T @ (p - y)`` and Hessian ``(X * s[:, None]).T @ X``), central finite
differences, and JAX's own ``jax.grad`` of the compiled JAX function. Numba kernels are
cached on disk (``cache=True``) and kept few and small so the file stays fast.
"""

from __future__ import annotations

import importlib
import importlib.util
import linecache
import traceback

import numpy as np
import pytest
import scipy.special
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symml as sm
from symml.backends import BACKENDS, require
from symml.errors import ArgumentError, SymmlError
from symml.functions import relu, sigmoid, softplus

HAVE = {"numpy": True} | {b: importlib.util.find_spec(b) is not None for b in ("numba", "jax")}


def _backend(name):
    return pytest.param(
        name,
        marks=pytest.mark.skipif(
            not HAVE[name], reason=f'backend {name!r} needs pip install "symml[{name}]"'
        ),
    )


ALL = [_backend(b) for b in BACKENDS]
EXTRA = [_backend(b) for b in ("numba", "jax")]

x, y, b = sm.symbol("x"), sm.symbol("y"), sm.symbol("b")

EXPRS = [
    x**2 * sympy.sin(x) + y,
    sympy.exp(-(x**2)) / (1 + y**2),
    sympy.sqrt(x**2 + 1) * sympy.atan(y) - sympy.tanh(x * y),
    sympy.log(1 + x**2) + sympy.cos(x + y) ** 3,
    sympy.erf(x) * sympy.Abs(y) + sympy.sign(x - y),
    sigmoid(x * y) + softplus(x - y) + relu(x) * y,
    sympy.Max(x, y, 0) - sympy.Min(x, 2 * y),
    sympy.Piecewise((x**2, x > 0), (y, True)),
    sympy.Heaviside(x, 0) + sympy.Heaviside(y) + sympy.pi * x / 7,
    sympy.log(1 + sympy.exp(40 * x)) - softplus(-30 * y),  # safe forms at large |z|
]

_MODULES = [
    {
        "sigmoid": scipy.special.expit,
        "softplus": lambda u: np.logaddexp(0.0, u),
        "relu": lambda u: np.maximum(u, 0.0),
    },
    "numpy",
    "scipy",
]


def _logistic(d):
    prog = sm.parse(
        f"param w[{d}] = 0, b = 0\ndata x[{d}], y\nz = dot(w, x) + b\nloss = softplus(z) - y*z\n"
    )
    return prog, prog["loss"]


def _data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d) * 0.5
    Y = (rng.random(n) < scipy.special.expit(X @ w)).astype(float)
    return w, X, Y


def _hand(w, b0, X, Y):
    z = X @ w + b0
    p = scipy.special.expit(z)
    s = p * (1 - p)
    H = np.empty((len(w) + 1,) * 2)
    H[:-1, :-1] = (X * s[:, None]).T @ X
    H[:-1, -1] = H[-1, :-1] = X.T @ s
    H[-1, -1] = s.sum()
    return np.sum(np.logaddexp(0, z) - Y * z), X.T @ (p - Y), np.sum(p - Y), H


@pytest.mark.parametrize("backend", ALL)
def test_values_match_lambdify_on_every_backend(backend):
    rng = np.random.default_rng(1)
    xs, ys = rng.normal(size=40), rng.normal(size=40)
    xs[:3] = 0.0  # kinks
    ys[1] = 0.0
    f = sm.compile(EXPRS, [x, y], backend=backend)  # one kernel for the whole corpus
    got = f(xs, ys)
    for e, g in zip(EXPRS, got, strict=True):
        want = np.broadcast_to(sympy.lambdify([x, y], e, modules=_MODULES)(xs, ys), (40,))
        assert np.shape(g) == (40,)
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-12, atol=1e-14, err_msg=str(e))


@pytest.mark.parametrize("backend", ALL)
@pytest.mark.parametrize("reduce", [None, "sum", "mean"])
def test_logistic_value_gradient_hessian_against_hand_numpy(backend, reduce):
    prog, loss = _logistic(4)
    H = sm.hessian(loss, prog.params)
    f = sm.compile([loss, H], ["w", "b", "x", "y"], grad=["w", "b"], reduce=reduce, backend=backend)
    w, X, Y = _data(300, 4)
    (v, (gw, gb)), (h, _) = f(w, 0.3, X, Y)
    hv, hgw, hgb, hH = _hand(w, 0.3, X, Y)
    if reduce is None:
        v, gw, gb, h = (np.sum(np.asarray(a), axis=0) for a in (v, gw, gb, h))
    elif reduce == "mean":
        v, gw, gb, h = (np.asarray(a) * 300 for a in (v, gw, gb, h))
    np.testing.assert_allclose(v, hv, rtol=1e-12)
    np.testing.assert_allclose(gw, hgw, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(gb, hgb, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(h, hH, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", EXTRA)
def test_backends_equal_numpy_to_1e12_over_many_rows(backend):
    prog, loss = _logistic(10)
    args = ["w", "b", "x", "y"]
    ref = sm.compile(loss, args, grad=["w", "b"], reduce="sum")
    f = sm.compile(loss, args, grad=["w", "b"], reduce="sum", backend=backend)
    w, X, Y = _data(20000, 10, seed=3)  # several blocks of rows
    v0, (gw0, gb0) = ref(w, -0.2, X, Y)
    v, (gw, gb) = f(w, -0.2, X, Y)
    assert abs(float(v) - v0) <= 1e-12 * abs(v0)
    np.testing.assert_allclose(np.asarray(gw), gw0, rtol=1e-12)
    assert abs(float(gb) - gb0) <= 1e-12 * abs(gb0)


def test_numba_reduction_is_reproducible_whatever_the_threads():
    if not HAVE["numba"]:
        pytest.skip('backend "numba" needs pip install "symml[numba]"')
    import numba

    prog, loss = _logistic(3)
    f = sm.compile(loss, ["w", "b", "x", "y"], grad=["w", "b"], reduce="sum", backend="numba")
    w, X, Y = _data(9000, 3, seed=5)
    first = f(w, 0.1, X, Y)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = f(w, 0.1, X, Y)
    finally:
        numba.set_num_threads(old)
    again = f(w, 0.1, X, Y)
    for a, c in ((first, one), (first, again)):
        assert float(a[0]) == float(c[0])  # bit for bit
        assert np.array_equal(a[1][0], c[1][0]) and float(a[1][1]) == float(c[1][1])


@pytest.mark.parametrize("backend", EXTRA)
def test_mlp_value_gradient_hessian_match_numpy(backend):
    # a 2-3-1 tanh MLP with squared error (13 parameters), summed over rows
    rng = np.random.default_rng(2)
    xv = sm.vector("x", 2)
    W = sympy.Matrix(3, 2, lambda i, j: sm.symbol(f"W{i}{j}"))
    c = [sm.symbol(f"c{i}") for i in range(3)]
    v = [sm.symbol(f"v{i}") for i in range(3)]
    h = [sympy.tanh(W[i, 0] * xv[0] + W[i, 1] * xv[1] + c[i]) for i in range(3)]
    loss = (sum(v[i] * h[i] for i in range(3)) + b - y) ** 2
    P = list(W) + c + v + [b]
    g, H = sm.grad(loss, P), sm.hessian(loss, P)
    args = [*P, xv, y]
    ref = sm.compile([loss, g, H], args, reduce="sum")
    f = sm.compile([loss, g, H], args, reduce="sum", backend=backend)
    vals = list(rng.normal(size=len(P)))
    X, Y = rng.normal(size=(500, 2)), rng.normal(size=500)
    for a, r in zip(f(*vals, X, Y), ref(*vals, X, Y), strict=True):
        np.testing.assert_allclose(np.asarray(a), r, rtol=1e-11, atol=1e-11)
    # and one point (no rows): the value of the per-row expressions
    one = f(*vals, X[0], Y[0])
    np.testing.assert_allclose(np.asarray(one[2]), ref(*vals, X[0], Y[0])[2], rtol=1e-12)


def test_jax_backend_composes_with_grad_jit_and_vmap():
    if not HAVE["jax"]:
        pytest.skip('backend "jax" needs pip install "symml[jax]"')
    import jax
    import jax.numpy as jnp

    prog, loss = _logistic(3)
    args = ["w", "b", "x", "y"]
    exact = sm.compile(loss, args, grad=["w", "b"], reduce="sum")
    fj = sm.compile(loss, args, reduce="sum", backend="jax")
    w, X, Y = _data(50, 3, seed=8)
    # JAX differentiates symml's compiled code; symml's exact gradient is the reference
    gw, gb = jax.grad(lambda w_, b_: fj(w_, b_, X, Y), argnums=(0, 1))(jnp.asarray(w), 0.4)
    v0, (gw0, gb0) = exact(w, 0.4, X, Y)
    np.testing.assert_allclose(np.asarray(gw), gw0, rtol=1e-12)
    np.testing.assert_allclose(float(gb), gb0, rtol=1e-12)
    assert gw.dtype == jnp.float64
    # jit gives the same value
    np.testing.assert_allclose(float(jax.jit(lambda w_: fj(w_, 0.4, X, Y))(w)), v0, rtol=1e-13)
    # vmap over the rows of a per-row function equals the vectorized call
    fr = sm.compile(loss, args, backend="jax")
    rows = jax.vmap(lambda xr, yr: fr(w, 0.4, xr, yr))(X, Y)
    np.testing.assert_allclose(np.asarray(rows), np.asarray(fr(w, 0.4, X, Y)), rtol=1e-14)


@settings(max_examples=25, deadline=None)
@given(
    # subnormal inputs are excluded: a kernel's sign/step of a subnormal difference is not
    # guaranteed to match NumPy's bit for bit
    st.floats(-30, 30, allow_nan=False, allow_subnormal=False),
    st.floats(-30, 30, allow_nan=False, allow_subnormal=False),
)
def test_property_backends_agree_at_random_points(xv, yv):
    f = {bk: _COMPILED(bk) for bk in BACKENDS if HAVE[bk]}
    ref = f.pop("numpy")(xv, yv)
    for bk, fn in f.items():
        for a, r in zip(fn(xv, yv), ref, strict=True):
            np.testing.assert_allclose(float(a), float(r), rtol=1e-12, atol=1e-13, err_msg=bk)


_CACHE: dict = {}


def _COMPILED(backend):  # noqa: N802 - one compiled corpus per backend for the property test
    if backend not in _CACHE:
        _CACHE[backend] = sm.compile(EXPRS, [x, y], backend=backend)
    return _CACHE[backend]


def test_unknown_backend_and_missing_extra_are_symml_errors():
    with pytest.raises(ArgumentError, match="'numpy', 'numba', 'jax'"):
        sm.compile("x^2", "x", backend="torch")
    with pytest.raises(SymmlError, match=r'pip install "symml\[numba\]"'):
        require("symml_no_such_module_xyz", "numba")
    with pytest.raises(ImportError):  # also an ImportError, for code that catches that
        require("symml_no_such_module_xyz", "jax")


def test_missing_numba_names_its_extra(monkeypatch):
    import symml.backends as backends

    real = backends.importlib.import_module

    def fake(name, *a):
        if name == "numba":
            raise ImportError("No module named 'numba'")
        return real(name, *a)

    monkeypatch.setattr(backends.importlib, "import_module", fake)
    with pytest.raises(SymmlError, match=r'pip install "symml\[numba\]"'):
        sm.compile("x^2", "x", backend="numba")


def test_tracebacks_show_the_generated_line():
    f = sm.compile("x^2*sin(x) + 1", "x")
    code = f._func.__code__
    assert linecache.getline(code.co_filename, 1).startswith("def _symml_compiled(")
    with pytest.raises(TypeError) as info:
        f._func("not a number", (), 1)  # bypass the argument checks to fail inside
    last = traceback.extract_tb(info.value.__traceback__)[-1]
    assert last.filename == code.co_filename and "numpy.sin" in last.line


def test_logistic_hessian_compiles_to_matrix_products():
    prog, loss = _logistic(6)
    H = sm.hessian(loss, prog.params)
    f = sm.compile(H, ["w", "b", "x", "y"], reduce="sum")
    assert "_rgram(" in f.source and "_rdot(" in f.source  # X.T @ (s*X), X.T @ s
    assert f.source.count("expit(") == 2  # s = p(1 - p) = expit(z)*expit(-z), once
    w, X, Y = _data(400, 6, seed=11)
    np.testing.assert_allclose(f(w, 0.1, X, Y), _hand(w, 0.1, X, Y)[3], rtol=1e-12)
    # per row: the outer products s * x x^T
    g = sm.compile(H, ["w", "b", "x", "y"])
    rows = g(w, 0.1, X[:5], Y[:5])
    s = scipy.special.expit(X[:5] @ w + 0.1)
    s = s * (1 - s)
    np.testing.assert_allclose(
        rows[:, :6, :6], s[:, None, None] * X[:5, :, None] * X[:5, None, :], rtol=1e-12
    )


def test_jacobian_of_linear_in_features_model_is_x_itself():
    prog = sm.parse("param w[5] = 0\ndata x[5], y\nr = y - dot(w, x)\n")
    J = sm.jacobian(sympy.Matrix([prog["r"]]), list(prog.params["w"].symbols))
    f = sm.compile(J, ["x"])
    _, X, _ = _data(30, 5)
    assert "_outer(-1, x, _L)" in f.source  # the block is -X as a whole, not 5 columns
    np.testing.assert_array_equal(f(X), -X[:, None, :])


@pytest.mark.parametrize("backend", EXTRA)
def test_minimize_and_fit_pass_the_backend_to_compile(backend, monkeypatch):

    import symml.backends as backends

    compile_module = importlib.import_module("symml.compile")
    seen = []
    real = backends.load_backend

    def spy(name):
        seen.append(name)
        return real(name)

    monkeypatch.setattr(compile_module, "load_backend", spy)
    r = sm.minimize("(x - 1)^2 + 3*(y + 2)^4", {"x": 0, "y": 0}, method="bfgs", backend=backend)
    r0 = sm.minimize("(x - 1)^2 + 3*(y + 2)^4", {"x": 0, "y": 0}, method="bfgs")
    assert seen and set(seen[: seen.index("numpy")]) == {backend}  # then r0's numpy
    np.testing.assert_allclose([r.x["x"], r.x["y"]], [r0.x["x"], r0.x["y"]], rtol=1e-10)
    seen.clear()
    t = np.linspace(0, 2, 40)
    data = {"t": t, "y": 1.5 * np.exp(-0.7 * t) + 0.01 * np.sin(7 * t)}
    f = sm.fit("y ~ a*exp(-k*t)", data, p0={"a": 1, "k": 1}, backend=backend)
    f0 = sm.fit("y ~ a*exp(-k*t)", data, p0={"a": 1, "k": 1})
    assert backend in seen
    for k in ("a", "k"):
        assert abs(f.params[k] - f0.params[k]) <= 1e-10 * abs(f0.params[k])
    with pytest.raises(ArgumentError, match="unknown backend"):
        sm.minimize("x^2", {"x": 1}, backend="cuda")
