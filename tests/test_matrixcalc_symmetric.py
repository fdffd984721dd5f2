"""Symmetric matrix symbols: ``S' = S`` simplifies the closed forms (x'Sx -> 2 S x).

The reference is independent of symml.matrixcalc's own check: S becomes an explicit
symmetric matrix of element symbols (S[i, j] and S[j, i] are one symbol), the variable an
explicit matrix of element symbols, f is differentiated element by element with sympy.diff
and compared with the closed form at a random point, at sizes hypothesis chooses.
"""

from __future__ import annotations

import random

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Determinant, Inverse, Trace, log

import symml as sm
from symml.errors import ArgumentError, ShapeError
from symml.linalg import MatrixSymbol, matrix_grad
from symml.matrixcalc import SymmetricMatrixSymbol, check_gradient

n = sympy.Symbol("n", integer=True, positive=True)
S = MatrixSymbol("S", n, n, symmetric=True)
T = MatrixSymbol("T", n, n, symmetric=True)
A = MatrixSymbol("A", n, n)
X = MatrixSymbol("X", n, n)
x, b = MatrixSymbol("x", n, 1), MatrixSymbol("b", n, 1)

# (name, f, variable, the closed form a textbook gives when S' = S)
CASES = [
    ("x'Sx", x.T * S * x, x, 2 * S * x),
    ("x'S^-1x", x.T * Inverse(S) * x, x, 2 * Inverse(S) * x),
    ("(x-b)'S(x-b)", (x - b).T * S * (x - b), x, 2 * S * (x - b)),
    ("x'STx", x.T * S * T * x, x, (S * T + T * S) * x),
    ("tr(SX)", Trace(S * X), X, S),
    ("tr(X'SX)", Trace(X.T * S * X), X, 2 * S * X),
    ("a'Sx", b.T * S * x, x, S * b),
    ("log det(X) + tr(S X^-1)", log(Determinant(X)) + Trace(S * Inverse(X)), X,
     Inverse(X).T - Inverse(X).T * S * Inverse(X).T),
]  # fmt: skip


def _explicit(expr, k, values):
    """Every matrix symbol as an explicit k x k (or k x 1) matrix: element symbols, the two
    halves of a symmetric one shared, replaced by ``values`` where given."""
    expr = expr.subs(n, k)
    repl = {}
    for s in expr.atoms(sympy.MatrixSymbol):
        r, c = (int(d) for d in s.shape)
        sym = isinstance(s, SymmetricMatrixSymbol)

        def entry(i, j, s=s, sym=sym):
            i, j = (min(i, j), max(i, j)) if sym else (i, j)
            e = sympy.Symbol(f"{s.name}{i}{j}")
            return values.get(e, e)

        repl[s] = sympy.ImmutableMatrix(r, c, entry)
    out = expr.xreplace(repl)
    out = out.replace(lambda e: isinstance(e, Inverse),
                      lambda e: sympy.ImmutableMatrix(sympy.Matrix(e.arg.doit()).inv(method="LU")))
    out = out.replace(lambda e: isinstance(e, Determinant),
                      lambda e: sympy.Matrix(e.arg.doit()).det(method="berkowitz"))
    out = out.doit()
    return out.as_explicit() if isinstance(out, sympy.MatrixExpr) else out


def _point(expr, k, rng):
    """Random exact values of every element symbol; the diagonal dominant (invertible)."""
    full = _explicit(expr, k, {})
    mats = full if isinstance(full, sympy.MatrixBase) else [full]
    syms = set().union(*(sympy.sympify(e).free_symbols for e in mats))
    return {s: sympy.Rational(rng.randint(-9, 9), 10) + (k + 2 if s.name[-1] == s.name[-2] else 0)
            for s in syms}  # fmt: skip


def _agrees(f, var, G, k, seed) -> bool:
    rng = random.Random(seed)
    point = _point(f, k, rng) | _point(G, k, rng)
    vsyms = [[sympy.Symbol(f"{var.name}{i}{j}") for j in range(int(var.shape[1].subs(n, k)))]
             for i in range(k)]  # fmt: skip
    others = {s: v for s, v in point.items() if not s.name.startswith(var.name)}
    fx = _explicit(f, k, others)
    fx = fx[0, 0] if isinstance(fx, sympy.MatrixBase) else fx
    Gx = _explicit(G, k, point)
    Gx = Gx if isinstance(Gx, sympy.MatrixBase) else sympy.Matrix([[Gx]])
    for i, row in enumerate(vsyms):
        for j, v in enumerate(row):
            want = sympy.diff(fx, v).xreplace(point)
            if abs(complex(sympy.N(want - Gx[i, j], 30))) > 1e-20:
                return False
    return True


@pytest.mark.parametrize("name,f,var,expected", CASES, ids=[c[0] for c in CASES])
def test_symmetric_closed_forms(name, f, var, expected):
    G = matrix_grad(f, var)
    assert G.shape == var.shape and isinstance(G, sympy.MatrixExpr)
    for k in (2, 3):
        assert _agrees(f, var, G, k, seed=k), (name, G)
        assert _agrees(f, var, expected, k, seed=k), (name, expected)


def test_quadratic_form_gives_two_s_x():
    assert matrix_grad(x.T * S * x, x) == 2 * S * x
    # without the assumption the general form stays
    assert matrix_grad(x.T * A * x, x) == (A + A.T) * x


@settings(max_examples=10, deadline=None)
@given(index=st.integers(0, len(CASES) - 1), k=st.integers(1, 3), seed=st.integers(0, 9999))
def test_symmetric_cases_on_random_sizes(index, k, seed):
    name, f, var, _ = CASES[index]
    if k == 3 and f.has(Inverse):
        k = 2  # explicit symbolic 3x3 inverses are slow; the rule does not depend on n
    G = matrix_grad(f, var, check=False)
    assert _agrees(f, var, G, k, seed), (name, G)


def test_the_reference_can_fail():
    # the general (A + A')x is right for symmetric S too, S x alone is wrong
    assert _agrees(x.T * S * x, x, (S + S.T) * x, 2, 0)
    assert not _agrees(x.T * S * x, x, S * x, 2, 0)
    assert not check_gradient(x.T * S * x, x, S * x, min_size=2)


def test_symmetric_transposes_to_itself_and_differs_from_plain():
    assert S.T == S and Inverse(S).T == Inverse(S)
    assert S != sympy.MatrixSymbol("S", n, n)
    assert S.subs(n, 3).T == S.subs(n, 3)


def test_language_declares_symmetric_matrices():
    prog = sm.parse("matrix S[n, n] symmetric, A[n, n]\nvector x[n]")
    Sl, Al = prog.matrix_symbols["S"], prog.matrix_symbols["A"]
    assert isinstance(Sl, SymmetricMatrixSymbol) and not isinstance(Al, SymmetricMatrixSymbol)
    G = matrix_grad("matrix S[n, n] symmetric; vector x[n]; x'*S*x", "x")
    assert G == 2 * Sl * prog.matrix_symbols["x"]
    assert _agrees(x.T * S * x, x, G.xreplace({Sl: S, prog.matrix_symbols["x"]: x}), 3, 1)
    # 'symmetric' stays an ordinary name elsewhere
    assert sm.parse("symmetric = 3\ny = symmetric + 1").bindings["y"] == 4


def test_symml_run_with_a_symmetric_matrix(tmp_path, capsys):
    from symml.cli import main

    src = tmp_path / "sym.sml"
    src.write_text("matrix S[n, n] symmetric\nvector x[n]\nmatrix_grad(x'*S*x, x)\n")
    assert main(["run", str(src)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.splitlines()[-1] == "2*S*x", out


@pytest.mark.parametrize(
    "text", ["vector v[n] symmetric", "matrix M[n, m] symmetric", "matrix M[2, 3] symmetric"]
)
def test_only_square_matrices_can_be_symmetric(text):
    with pytest.raises(ShapeError, match="square"):
        sm.parse(text)


def test_bad_python_input():
    with pytest.raises(ArgumentError, match="square"):
        MatrixSymbol("M", n, 2, symmetric=True)
    with pytest.raises(ArgumentError, match="name"):
        MatrixSymbol("1x", n, n)
    with pytest.raises(ArgumentError, match="size"):
        MatrixSymbol("M", -1, n)
    with pytest.raises(ArgumentError, match="symmetric"):
        matrix_grad(Trace(S * A), S)
