"""Matrix and vector symbols of symbolic size in the language, and matrix calculus on them.

References: expressions built directly with SymPy's MatrixSymbol API, and gradients compared
entry by entry with ``sympy.diff`` of the explicit (element-wise) function at concrete
sizes: SymPy's own answer, independent of symml's matrix-calculus rules.
"""

from __future__ import annotations

import random

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Determinant, MatrixSymbol, Trace

import symml as sm
from symml.errors import ArgumentError, ShapeError, SymmlError

DECL = """
matrix A[n, n], X[n, n], B[n, n], M[m, n]
vector x[n], w[n], y[m], b[n]
"""

n = sympy.Symbol("n", integer=True, positive=True)
m = sympy.Symbol("m", integer=True, positive=True)
A, X, B = (MatrixSymbol(s, n, n) for s in "AXB")
M = MatrixSymbol("M", m, n)
x, w, b = (MatrixSymbol(s, n, 1) for s in "xwb")
y = MatrixSymbol("y", m, 1)


def lang(text: str):
    """The value of the last statement of DECL + text."""
    prog = sm.parse(DECL + "f = " + text)
    return prog["f"]


def explicit_check(f, V, G, sizes=({n: 3, m: 2}, {n: 2, m: 3}), seed=1):
    """G == d f / d V entry by entry: at concrete sizes and random rational matrices, each
    entry V[i, j] is moved by a symbol t and sympy.diff gives df/dt at t = 0."""
    rng = random.Random(seed)
    t = sympy.Symbol("t")
    for size in sizes:
        mats = sorted(f.atoms(MatrixSymbol) | G.atoms(MatrixSymbol) | {V}, key=str)
        values = {}
        for S in mats:
            r, c = (int(sympy.sympify(d).subs(size)) for d in S.shape)
            bump = r + 2 if r == c else 0  # diagonally dominant: inverses and logs exist
            values[S] = sympy.Matrix(
                r, c, lambda i, j: sympy.Rational(rng.randint(-9, 9), 7) + (bump if i == j else 0)
            )

        def explicit(e, vals):
            e = e.subs(size).xreplace(
                {S.subs(size): sympy.ImmutableMatrix(v) for S, v in vals.items()}
            )
            e = e.doit()
            return e.as_explicit() if isinstance(e, sympy.MatrixExpr) else e

        Gx = explicit(G, values)
        if not isinstance(Gx, sympy.MatrixBase):
            Gx = sympy.Matrix([[Gx]])
        V0 = values[V]
        assert Gx.shape == V0.shape
        for i in range(V0.rows):
            for j in range(V0.cols):
                moved = V0.copy()
                moved[i, j] += t
                fx = explicit(f, {**values, V: moved})
                if isinstance(fx, sympy.MatrixBase):
                    fx = fx[0, 0]
                want = sympy.diff(fx, t).subs(t, 0)
                assert abs(complex(sympy.N(want - Gx[i, j], 30))) < 1e-20, (i, j, want, Gx[i, j])


# -- declarations ---------------------------------------------------------------------------
def test_declarations_make_matrix_symbols_with_symbolic_sizes():
    prog = sm.parse(DECL)
    assert prog["A"] == A and prog["x"] == x and prog["M"].shape == (m, n)
    assert prog["n"] == n and prog["n"].is_integer and prog["n"].is_positive
    assert set(prog.matrix_symbols) == {"A", "X", "B", "M", "x", "w", "y", "b"}
    assert set(prog.sizes) == {"n", "m"}


def test_numeric_sizes_and_constant_sizes():
    prog = sm.parse("const k = 3\nmatrix C[2, k]\nvector v[k]")
    assert prog["C"].shape == (2, 3) and prog["v"].shape == (3, 1)
    assert isinstance(prog["C"], MatrixSymbol)


@pytest.mark.parametrize(
    "text, err, words",
    [
        ("vector v[n, n]", ShapeError, "one size"),
        ("matrix C[n]", ShapeError, "two sizes"),
        ("matrix C[0, 2]", ArgumentError, "positive"),
        ("var n\nmatrix C[n, n]", ArgumentError, "already defined"),
        ("f = 2*n\nmatrix C[n, n]", ArgumentError, "before the formulas"),
        ("matrix C[n, n]\nvector C[n]", ArgumentError, "already defined"),
        ("matrix C[n, n]\nC = 2", ArgumentError, "cannot be redefined"),
        ("const k = 1/2\nmatrix C[k, k]", ArgumentError, "whole number"),
    ],
)
def test_bad_declarations_are_clear_errors(text, err, words):
    with pytest.raises(err, match=words) as info:
        sm.parse(text)
    assert isinstance(info.value, SymmlError) and info.value.line >= 1


# -- arithmetic dispatched on the kind of value ----------------------------------------------
@pytest.mark.parametrize(
    "text, want",
    [
        ("x'*A*x", x.T * A * x),
        ("x' @ A @ x", x.T * A * x),
        ("trace(A*X*B)", Trace(A * X * B)),
        ("log(det(X))", sympy.log(Determinant(X))),
        ("dot(w, x)", w.T * x),
        ("2*A*x - 3*b", 2 * A * x - 3 * b),
        ("transpose(A*x)", x.T * A.T),
        ("inv(X)*A", X.I * A),
        ("X^2", X**2),
        ("X^-1", X.I),
        ("A*x/2", A * x / 2),
        ("outer(x, w)", x * w.T),
        ("x[0] + A[1, 0]", x[0, 0] + A[1, 0]),
    ],
)
def test_language_builds_the_sympy_matrix_expression(text, want):
    assert lang(text) == want


def test_a_1x1_form_is_a_scalar_where_a_scalar_is_needed():
    q = Trace(x.T * A * x)
    assert lang("x'*A*x + 1") == q + 1
    assert lang("exp(x'*A*x)") == sympy.exp(q)
    assert lang("(x'*A*x)^2") == q**2
    assert lang("(x'*x)*A*x") == Trace(x.T * x) * A * x
    assert lang("norm(M*w - y)^2") == Trace((M * w - y).T * (M * w - y))
    assert lang("norm(X)") == sympy.sqrt(Trace(X.T * X))


@pytest.mark.parametrize(
    "text, words",
    [
        ("A*M", "inner sizes"),
        ("A + x", "cannot add"),
        ("1 + A", "cannot add the scalar"),
        ("exp(A)", "needs a scalar"),
        ("M^2", "square"),
        ("A^(1/2)", "whole number"),
        ("trace(M)", "square"),
        ("det(M)", "square"),
        ("sum(x)", "not defined for matrix symbols"),
        ("A[1]", "two indices"),
        ("x'*A*x == A", "compare scalars"),
        ("matrix_grad(x'*A*x, n)", "matrix or vector symbol"),
        ("matrix_grad(A*x, x)", "scalar function"),
    ],
)
def test_shape_errors_name_the_shapes(text, words):
    with pytest.raises(SymmlError, match=words):
        lang(text)


def test_explicit_matrices_keep_their_entrywise_product():
    # explicit matrices: '*' stays entry by entry (unchanged); symbols: the matrix product
    assert sm.to_text(sm.expr("[1, 2] * [3, 4]")) == "[3, 8]"
    assert lang("x'*x") == x.T * x


def test_printing_round_trips():
    prog = sm.parse(DECL)
    ns = {**prog.matrix_symbols, **prog.sizes}
    for text in (
        "x'*A*x",
        "trace(A*X*B)",
        "log(det(X)) + trace(inv(X)*A)",
        "X^3*A",
        "x[1]*X[0, 1]",
        "norm(M*w - y)^2",
        "exp(x'*A*x)",
    ):
        v = lang(text)
        printed = sm.to_text(v)
        assert sm.expr(printed, namespace=ns) == v, printed


# -- matrix calculus from the language --------------------------------------------------------
COOKBOOK = [
    # (f in the language, variable, the Matrix Cookbook's closed form)
    ("x'*A*x", x, (A + A.T) * x),
    ("b'*x", x, b),
    ("x'*b", x, b),
    ("trace(A*X*B)", X, A.T * B.T),
    ("trace(A*X)", X, A.T),
    ("trace(X'*A)", X, A),
    ("trace(X*A*X')", X, X * A.T + X * A),
    ("log(det(X))", X, X.T.I),
    ("det(X)", X, Determinant(X) * X.T.I),
    ("trace(inv(X)*A)", X, -(X.I * A * X.I).T),
    ("norm(M*w - y)^2", w, 2 * M.T * (M * w - y)),
    ("x'*A*x + 2*b'*x - 1", x, (A + A.T) * x + 2 * b),
    ("trace(X^2)", X, 2 * X.T),
    ("exp(x'*A*x)", x, sympy.exp(Trace(x.T * A * x)) * (A + A.T) * x),
]


@pytest.mark.parametrize("text, V, closed", COOKBOOK)
def test_matrix_grad_in_the_language_matches_the_cookbook(text, V, closed):
    f = lang(text)
    G = sm.parse(DECL + f"f = {text}\ng = matrix_grad(f, {V.name})")["g"]
    assert G.shape == V.shape
    explicit_check(f, V, G)  # symml's gradient is SymPy's element-wise derivative
    explicit_check(f, V, closed)  # and so is the Cookbook's form (the reference is sound)


def test_grad_of_a_matrix_symbol_is_matrix_grad():
    prog = sm.parse(DECL + "f = norm(M*w - y)^2\ng1 = grad(f, w)\ng2 = matrix_grad(f, w)")
    assert prog["g1"] == prog["g2"]
    assert sm.to_text(prog["g1"]) == "2*M'*(M*w - y)"


def test_python_api_takes_language_text_with_declarations():
    G = sm.matrix_grad("matrix A[n, n]; vector x[n]; x'*A*x", "x")
    assert G == (A + A.T) * x
    G2 = sm.linalg.matrix_grad("matrix X[n, n]\nf = log(det(X))", "X")
    assert G2 == X.T.I
    with pytest.raises(ArgumentError, match="one expression"):
        sm.matrix_grad("matrix A[n, n]; vector x[n]; x'*x; x'*A*x", "x")


def test_gradient_is_never_expanded_into_elements():
    G = lang("matrix_grad(trace(A*X*B), X)")
    assert not G.atoms(sympy.matrices.expressions.matexpr.MatrixElement)
    assert G.shape == (n, n)


@settings(max_examples=15, deadline=None)
@given(
    k=st.integers(1, 4),
    coeffs=st.lists(st.integers(-3, 3), min_size=3, max_size=3),
)
def test_quadratic_losses_at_random_sizes(k, coeffs):
    a, c, d = coeffs
    text = f"{a}*x'*A*x + {c}*b'*x + {d}*trace(A*X)*x'*b"
    f = lang(text)
    G = sm.parse(DECL + f"g = matrix_grad({text}, x)")["g"]
    explicit_check(f, x, G, sizes=({n: k, m: 1},), seed=k)
    assert G.shape == (n, 1)
