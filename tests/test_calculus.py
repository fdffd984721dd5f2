"""symml.calculus against independent references: SymPy's own answers, finite differences,
SymPy's series, and textbook closed forms."""

from __future__ import annotations

import mpmath
import pytest
import sympy

import symml as sm
from symml.errors import ArgumentError, DerivationError, ShapeError

x, y, z = sympy.symbols("x y z", real=True)


def _fd(f, sym, point, h=mpmath.mpf("1e-20")):
    """Central finite difference at 50 digits (independent of SymPy's diff)."""
    with mpmath.workdps(50):  # never leak precision into other tests
        fn = sympy.lambdify(list(point), f, modules="mpmath")
        args = dict(point)
        args[sym] = args[sym] + h
        up = fn(*args.values())
        args[sym] = args[sym] - 2 * h
        down = fn(*args.values())
        return (up - down) / (2 * h)


CASES = [
    "x^2*sin(x)",
    "exp(-x^2/2)/sqrt(2*pi)",
    "log(1 + exp(3*x))",
    "sigmoid(2*x - 1)",
    "softplus(x*y)",
    "tanh(x)^3 + atan(x/2)",
    "x^x",
    "abs(x - 1)*x",
    "(x^2 + 1)/(x - 3)",
    "erf(x)*cos(y)",
]


@pytest.mark.parametrize("text", CASES)
def test_diff_equals_sympy_and_finite_differences(text):
    f = sm.expr(text)
    got = sm.diff(text, "x")
    xs = [s for s in f.free_symbols if s.name == "x"][0]
    assert sympy.simplify(got - sympy.diff(f.rewrite(sympy.exp), xs).rewrite(sympy.exp)) == 0 or (
        sympy.simplify((got - sympy.diff(f, xs)).rewrite(sympy.exp)) == 0
    )
    point = {s: mpmath.mpf("0.7") + i * mpmath.mpf("0.13") for i, s in enumerate(sorted(f.free_symbols, key=str))}
    expect = _fd(f.rewrite(sympy.exp), xs, point)
    with mpmath.workdps(50):
        value = sympy.lambdify(list(point), got.rewrite(sympy.exp), modules="mpmath")(*point.values())
        assert abs(value - expect) < mpmath.mpf("1e-15") * max(1, abs(expect))


def test_higher_order_and_mixed():
    f = sm.expr("x^3*y^2")
    X, Y = sorted(f.free_symbols, key=str)
    assert sm.diff(f, "x", 2) == sympy.diff(f, X, 2)
    assert sm.diff(f, "x", "x") == sympy.diff(f, X, X)
    assert sm.diff(f, "x", "y") == 6 * X**2 * Y
    assert sm.diff(f, "x", 0) == f


def test_familiar_forms_of_ml_functions():
    assert sm.diff("sigmoid(x)", "x") == sm.expr("sigmoid(x)*(1 - sigmoid(x))")
    assert sm.diff("softplus(x)", "x") == sm.expr("sigmoid(x)")
    assert sm.diff("relu(x)", "x") == sympy.Heaviside(sm.expr("x"), 0)
    # real symbols: abs differentiates to sign, no re/im
    d = sm.diff("abs(x)", "x")
    assert d == sympy.sign(sm.expr("x"))
    assert not d.has(sympy.re, sympy.im)


def test_grad_is_column_in_order_and_matches_sympy():
    g = sm.grad("x^2*y + sin(z)", ["z", "x", "y"])
    assert g.shape == (3, 1)
    assert list(g) == [sympy.cos(z), 2 * x * y, x**2]


def test_grad_understands_vectors_by_name():
    prog = sm.parse("param w[3] = 0, b = 0\ndata x[3], y\nloss = (dot(w, x) + b - y)^2")
    g = sm.grad(prog["loss"], ["w", "b"])
    w, xs = prog.params["w"].symbols, prog.data_decls["x"].symbols
    r = sum(w[i] * xs[i] for i in range(3)) + prog.params["b"].symbols - prog.data_decls["y"].symbols
    expect = [2 * r * xs[i] for i in range(3)] + [2 * r]
    assert all(sympy.expand(a - b) == 0 for a, b in zip(g, expect))
    # a mapping of declarations (prog.params) works the same
    assert sm.grad(prog["loss"], prog.params) == g


def test_jacobian_and_hessian_against_sympy():
    J = sm.jacobian("[x*y*z, x^2 - y, exp(z)]", ["x", "y", "z"])
    assert J == sympy.Matrix([x * y * z, x**2 - y, sympy.exp(z)]).jacobian([x, y, z])
    f = x**3 * y + sympy.exp(x * y) + sympy.log(1 + z**2)
    H = sm.hessian(f, [x, y, z])
    assert H == sympy.hessian(f, [x, y, z])
    assert H == H.T


def test_hessian_is_jacobian_of_gradient():
    f = "softplus(a*x + b) - y*(a*x + b)"
    assert sm.hessian(f, "a b") == sm.jacobian(sm.grad(f, "a b"), "a b")


def test_taylor_univariate_matches_sympy_series():
    for text, point, order in [("sin(x)", 0, 7), ("exp(x)", 1, 4), ("log(x)", 1, 5), ("sigmoid(x)", 0, 5)]:
        f = sm.expr(text)
        X = next(iter(f.free_symbols))
        ref = sympy.series(f.rewrite(sympy.exp), X, point, order + 1).removeO()
        got = sm.taylor(text, {"x": point}, order)
        assert sympy.simplify((got - ref).rewrite(sympy.exp)) == 0, text


def test_taylor_multivariate_includes_mixed_terms():
    got = sm.taylor("exp(x)*cos(y)", {"x": 0, "y": 0}, 3)
    # independent reference: one-variable series in t of f(t*x, t*y), then t = 1
    t = sympy.Symbol("t")
    f = sympy.exp(t * x) * sympy.cos(t * y)
    ref = sympy.series(f, t, 0, 4).removeO().subs(t, 1)
    assert sympy.expand(got - ref) == 0
    assert got.coeff(x).coeff(y, 2) == sympy.Rational(-1, 2)  # the mixed x*y^2 term


def test_taylor_about_nonzero_point_and_degree():
    got = sm.taylor("x^2*y", {"x": 1, "y": 2}, 1)
    assert sympy.expand(got) == sympy.expand(2 + 4 * (x - 1) + (y - 2))


def test_taylor_not_analytic_is_an_error():
    with pytest.raises(DerivationError, match="not analytic"):
        sm.taylor("log(x)", {"x": 0}, 2)


def test_integrals():
    assert sympy.simplify(sm.integrate("x*exp(x)", "x") - (x - 1) * sympy.exp(x)) == 0
    assert sm.integrate("x^2", ("x", 0, 1)) == sympy.Rational(1, 3)
    assert sm.integrate("exp(-x^2)", ("x", "-inf", "inf")) == sympy.sqrt(sympy.pi)
    assert sm.integrate("x*y", ("x", 0, 1), ("y", 0, 2)) == 1
    # sigmoid integrates once rewritten; the derivative gives it back
    F = sm.integrate("sigmoid(x)", "x")
    X = next(iter(F.free_symbols))
    assert sympy.simplify(sympy.diff(F, X) - sympy.exp(X) / (1 + sympy.exp(X))) == 0


def test_bad_arguments():
    with pytest.raises(ArgumentError):
        sm.diff("x^2")
    with pytest.raises(ShapeError):
        sm.grad("[x, y]", "x")
    with pytest.raises(ArgumentError):
        sm.taylor("exp(x)", {"x": 0}, -1)
    with pytest.raises(ArgumentError):
        sm.integrate("x", ("x", 0))
