"""Closed-form matrix gradients, each checked against the element-wise derivative.

The reference here is independent of symml.matrixcalc's own check: every matrix symbol is
replaced by an explicit matrix of SymPy element symbols at a size hypothesis chooses, f is
differentiated element by element with sympy.diff, and the result is compared with the
closed form, made explicit the same way, at a random point.
"""

from __future__ import annotations

import random

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Determinant, MatrixSymbol, Trace, log

from symml.errors import ArgumentError, DerivationError
from symml.linalg import matrix_grad as linalg_matrix_grad
from symml.matrixcalc import check_gradient, matrix_grad

n, m = sympy.symbols("n m", integer=True, positive=True)
A, B, C = (MatrixSymbol(s, n, n) for s in "ABC")
X = MatrixSymbol("X", n, n)
x, a, b = (MatrixSymbol(s, n, 1) for s in "xab")
R = MatrixSymbol("R", m, n)  # a rectangular data matrix
w = MatrixSymbol("w", n, 1)
y = MatrixSymbol("y", m, 1)

# (name, f, variable, the textbook closed form of the gradient (Matrix Cookbook))
IDENTITIES = [
    ("a'x", a.T * x, x, a),
    ("x'a", x.T * a, x, a),
    ("x'x", x.T * x, x, 2 * x),
    ("x'Ax", x.T * A * x, x, (A + A.T) * x),
    ("a'Xb", a.T * X * b, X, a * b.T),
    ("a'X'b", a.T * X.T * b, X, b * a.T),
    ("tr(X)", Trace(X), X, sympy.Identity(n)),
    ("tr(AX)", Trace(A * X), X, A.T),
    ("tr(AXB)", Trace(A * X * B), X, A.T * B.T),
    ("tr(AX'B)", Trace(A * X.T * B), X, B * A),
    ("tr(X'AX)", Trace(X.T * A * X), X, (A + A.T) * X),
    ("tr(XX)", Trace(X * X), X, 2 * X.T),
    ("tr(X'X)", Trace(X.T * X), X, 2 * X),
    ("tr(AXBX)", Trace(A * X * B * X), X, A.T * X.T * B.T + B.T * X.T * A.T),
    ("det(X)", Determinant(X), X, Determinant(X) * X.T.inv()),
    ("log det X", log(Determinant(X)), X, X.T.inv()),
    ("det(AXB)", Determinant(A * X * B), X, Determinant(A * X * B) * X.T.inv()),
    ("tr(X^-1)", Trace(X.inv()), X, -(X.inv() * X.inv()).T),
    ("tr(AX^-1B)", Trace(A * X.inv() * B), X, -(X.inv() * B * A * X.inv()).T),
    ("a'X^-1b", a.T * X.inv() * b, X, -X.T.inv() * a * b.T * X.T.inv()),
    ("||Rw - y||^2", (R * w - y).T * (R * w - y), w, 2 * R.T * (R * w - y)),
    ("(x'Ax)^2 via tr", Trace(x.T * A * x) ** 2, x, 2 * Trace(x.T * A * x) * (A + A.T) * x),
    ("exp(a'x)", sympy.exp(Trace(a.T * x)), x, sympy.exp(Trace(a.T * x)) * a),
]


def _explicit(expr, sizes, values):
    """Replace every matrix symbol by an explicit matrix at ``sizes``: its entry of
    ``values`` where given, else a matrix of element symbols."""
    expr = expr.subs(sizes)
    repl = {}
    for s in expr.atoms(MatrixSymbol):
        r, c = (int(d) for d in s.shape)
        repl[s] = sympy.ImmutableMatrix(
            r, c, lambda i, j, s=s: values.get(s.name, {}).get(
                (i, j), sympy.Symbol(f"{s.name}{i}{j}"))
        )
    out = expr.xreplace(repl)
    out = out.replace(lambda e: isinstance(e, sympy.Inverse),
                      lambda e: sympy.ImmutableMatrix(_dense(e.arg).inv(method="LU")))
    out = out.replace(lambda e: isinstance(e, sympy.Determinant),
                      lambda e: _dense(e.arg).det(method="berkowitz"))
    out = out.doit()
    if isinstance(out, sympy.MatrixExpr):
        out = out.as_explicit()
    return out


def _dense(e):
    e = e.doit()
    return sympy.Matrix(e.as_explicit() if isinstance(e, sympy.MatrixExpr) else e)


def _random_values(expr, sizes, rng):
    """Random exact values for every matrix symbol; square ones diagonally dominant."""
    out = {}
    for s in expr.subs(sizes).atoms(MatrixSymbol):
        r, c = (int(d) for d in s.shape)
        out[s.name] = {
            (i, j): sympy.Rational(rng.randint(-9, 9), 10) + (r + 1 if i == j and r == c else 0)
            for i in range(r) for j in range(c)
        }  # fmt: skip
    return out


def _elementwise_agrees(f, var, G, sizes, seed) -> bool:
    rng = random.Random(seed)
    values = _random_values(f, sizes, rng) | _random_values(G, sizes, rng)
    values |= _random_values(var, sizes, rng)
    others = {k: v for k, v in values.items() if k != var.name}
    fx = _explicit(f, sizes, others)  # symbolic in the elements of var only
    if isinstance(fx, sympy.MatrixBase):
        assert fx.shape == (1, 1)
        fx = fx[0, 0]
    Gx = _explicit(G, sizes, values)  # fully numeric
    if not isinstance(Gx, sympy.MatrixBase):
        Gx = sympy.Matrix([[Gx]])
    r, c = (int(d) for d in var.subs(sizes).shape)
    assert Gx.shape == (r, c)
    point = {sympy.Symbol(f"{var.name}{i}{j}"): v for (i, j), v in values[var.name].items()}
    for i in range(r):
        for j in range(c):
            want = sympy.diff(fx, sympy.Symbol(f"{var.name}{i}{j}")).xreplace(point)
            got = Gx[i, j]
            if abs(complex(sympy.N(want - got, 30))) > 1e-20:
                return False
    return True


@pytest.mark.parametrize("name,f,var,expected", IDENTITIES, ids=[i[0] for i in IDENTITIES])
def test_identity_matches_cookbook_and_elementwise(name, f, var, expected):
    G = matrix_grad(f, var)
    assert G.shape == var.shape
    # never expanded into elements: the result is a matrix expression in the same symbols
    assert isinstance(G, sympy.MatrixExpr)
    assert not G.atoms(sympy.matrices.expressions.matexpr.MatrixElement)
    assert G.atoms(MatrixSymbol) <= f.atoms(MatrixSymbol)
    for k, sizes in enumerate(({n: 2, m: 3}, {n: 3, m: 1})):
        assert _elementwise_agrees(f, var, G, sizes, seed=k), (name, G, sizes)
        assert _elementwise_agrees(f, var, expected, sizes, seed=k), (name, expected)


@settings(max_examples=8, deadline=None)
@given(
    index=st.integers(0, len(IDENTITIES) - 1),
    nn=st.integers(1, 3),
    mm=st.integers(1, 3),
    seed=st.integers(0, 10_000),
)
def test_identities_on_random_sizes(index, nn, mm, seed):
    name, f, var, _ = IDENTITIES[index]
    if nn == 3 and f.has(sympy.Inverse):
        nn = 2  # explicit symbolic 3x3 inverses are slow; the rule does not depend on n
    G = matrix_grad(f, var, check=False)
    assert _elementwise_agrees(f, var, G, {n: nn, m: mm}, seed), (name, G)


def test_headline_forms_print_as_the_textbook_writes_them():
    assert matrix_grad(x.T * A * x, x) == (A + A.T) * x
    assert matrix_grad(Trace(A * X * B), X) == A.T * B.T
    assert matrix_grad(log(Determinant(X)), X) == X.T.inv()
    assert matrix_grad((R * w - y).T * (R * w - y), w) == 2 * R.T * (R * w - y)


def test_the_check_rejects_a_wrong_gradient():
    assert check_gradient(x.T * A * x, x, (A + A.T) * x)
    assert not check_gradient(x.T * A * x, x, 2 * A * x)  # right only for symmetric A
    assert not check_gradient(log(Determinant(X)), X, X.inv())  # X^-1 instead of X^-T


def test_constant_gives_zero_matrix():
    G = matrix_grad(Trace(A * B), X)
    assert isinstance(G, sympy.ZeroMatrix) and G.shape == X.shape


def test_bad_input():
    with pytest.raises(ArgumentError, match="scalar"):
        matrix_grad(A * x, x)
    with pytest.raises(ArgumentError, match="not a matrix symbol"):
        matrix_grad(x.T * A * x, "z")
    with pytest.raises(DerivationError, match="no rule"):
        matrix_grad(Trace(sympy.HadamardProduct(X, X)), X)


def test_linalg_reexports_matrix_grad():
    assert linalg_matrix_grad is matrix_grad


def test_variable_by_name():
    assert matrix_grad(x.T * A * x, "x") == (A + A.T) * x


def test_the_reference_of_these_tests_can_fail():
    assert not _elementwise_agrees(x.T * A * x, x, 2 * A * x, {n: 2}, seed=0)
    assert not _elementwise_agrees(Trace(A * X * B), X, B.T * A.T, {n: 2}, seed=0)


def test_cookbook_example_runs(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "matrix_cookbook.py"
    spec = importlib.util.spec_from_file_location("matrix_cookbook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([]) == 0
    out = capsys.readouterr().out
    assert f"{len(module.IDENTITIES)} of {len(module.IDENTITIES)} identities agree" in out
