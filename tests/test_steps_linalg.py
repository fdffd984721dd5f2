"""Linear-algebra derivations: results against SymPy, every step verified, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symml.steps as steps
from symml.errors import ArgumentError, DerivationError, ShapeError, VerificationError

a, b, c = sympy.symbols("a b c", real=True)


def _int_matrices(lo=1, hi=4):
    return st.integers(lo, hi).flatmap(
        lambda k: st.lists(
            st.lists(st.integers(-4, 4), min_size=k, max_size=k), min_size=k, max_size=k
        )
    )


def _renders(d):
    text, md, tex = d.to_text(), d.to_markdown(), d.to_latex()
    assert d.title in text and text.count("\n") > 3
    assert "$" in md and "\\" in tex
    return text


@settings(max_examples=25, deadline=None)
@given(_int_matrices())
def test_det_matches_sympy_and_numpy(rows):
    d = steps.det(rows)
    assert d.result == sympy.Matrix(rows).det()
    assert np.isclose(float(d.result), np.linalg.det(np.array(rows, dtype=float)), atol=1e-8)
    assert d.verify()


def test_det_symbolic_and_text():
    d = steps.det("[[a, b, 0], [1, 2, 3], [0, c, 1]]")
    assert sympy.expand(d.result - sympy.Matrix([[a, b, 0], [1, 2, 3], [0, c, 1]]).det()) == 0
    assert d.verify()
    text = _renders(d)
    assert "cofactor" in text and "minor" in text
    assert "brief" in {s.detail for _, s in d.walk()}


@settings(max_examples=20, deadline=None)
@given(_int_matrices(1, 3))
def test_inv_by_gauss_jordan(rows):
    M = sympy.Matrix(rows)
    if M.det() == 0:
        with pytest.raises(ArgumentError, match="singular.*pinv"):
            steps.inv(rows)
        return
    d = steps.inv(rows)
    assert d.result == M.inv()
    assert d.verify()
    assert d.steps[0].rule == "augment" and d.steps[-1].rule == "read_off"
    assert all(s.rule == "row_operation" for s in d.steps[1:-1])


def test_inv_symbolic_shows_row_operations():
    d = steps.inv("[[a, 1], [1, 1]]")
    assert sympy.simplify(d.result - sympy.Matrix([[a, 1], [1, 1]]).inv()) == sympy.zeros(2, 2)
    assert d.verify()
    text = _renders(d)
    assert "R_2" in text and "pivot" in text


@settings(max_examples=20, deadline=None)
@given(_int_matrices(1, 4), st.lists(st.integers(-5, 5), min_size=4, max_size=4))
def test_solve_by_elimination(rows, rhs):
    M = sympy.Matrix(rows)
    rhs = rhs[: M.shape[0]]
    if M.det() == 0:
        with pytest.raises(ArgumentError, match="singular"):
            steps.solve(rows, rhs)
        return
    d = steps.solve(rows, rhs)
    assert M * d.result == sympy.Matrix(rhs)
    assert d.verify()
    assert [s.rule for s in d.steps].count("back_substitution") == M.shape[0]


def test_solve_symbolic_rhs():
    d = steps.solve("[[1, 2], [3, 4]]", "[a, b]")
    assert sympy.Matrix([[1, 2], [3, 4]]) * d.result == sympy.Matrix([a, b])
    assert d.verify()
    _renders(d)


def _similar_to_diagonal(k):
    """Integer matrices P D P^-1 with det P = 1: integer eigenvalues, generic eigenvectors."""
    ints = st.integers(-2, 2)
    return st.tuples(
        st.lists(ints, min_size=k, max_size=k),
        st.lists(ints, min_size=k * k, max_size=k * k),
        st.lists(ints, min_size=k * k, max_size=k * k),
    ).map(lambda t: _build(k, *t))


def _build(k, diag, low, up):
    L = sympy.Matrix(k, k, lambda i, j: 1 if i == j else (low[i * k + j] if i > j else 0))
    U = sympy.Matrix(k, k, lambda i, j: 1 if i == j else (up[i * k + j] if i < j else 0))
    P = L * U
    return (P * sympy.diag(*diag) * P.inv()).tolist()


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 3).flatmap(_similar_to_diagonal))
def test_eig_reconstructs(rows):
    M = sympy.Matrix(rows)
    d = steps.eig(rows)
    assert {sympy.simplify(v): k for v, k, _ in d.result} == {
        sympy.simplify(v): k for v, k in M.eigenvals().items()
    }
    for val, _, vecs in d.result:
        for v in vecs:
            assert sympy.simplify(M * v - val * v) == sympy.zeros(M.shape[0], 1)
    assert d.verify()


def test_eig_irrational_eigenvalues():
    d = steps.eig("[[1, 2], [3, 4]]")
    M = sympy.Matrix([[1, 2], [3, 4]])
    for val, _, vecs in d.result:
        assert sympy.simplify(M * vecs[0] - val * vecs[0]) == sympy.zeros(2, 1)
    assert d.verify()


def test_eig_text_and_defective_matrix():
    d = steps.eig("[[2, 1, 0], [0, 2, 0], [0, 0, 3]]")
    assert [(v, k, len(vs)) for v, k, vs in d.result] == [(2, 2, 1), (3, 1, 1)]
    assert d.verify()
    text = _renders(d)
    assert "characteristic polynomial" in text and "null space" in text


def test_gram_schmidt_orthonormal_and_verified():
    d = steps.gram_schmidt(["[1, 1, 0]", "[1, 0, 1]", "[0, 1, 1]"])
    Q = sympy.Matrix.hstack(*d.result)
    assert sympy.simplify(Q.T * Q) == sympy.eye(3)
    assert d.verify()
    rules = [s.rule for s in d.steps]
    assert rules.count("normalize") == 3 and rules.count("projection") == 3
    _renders(d)


def test_a_wrong_step_fails_verification():
    d = steps.inv("[[2, 1], [1, 1]]")
    op = next(s for s in d.steps if s.rule == "row_operation")
    op.after = op.after + sympy.ones(*op.after.shape)
    with pytest.raises(VerificationError):
        d.verify()
    g = steps.gram_schmidt(["[1, 0]", "[1, 1]"])
    g.result = [sympy.Matrix([1, 0]), sympy.Matrix([1, 1])]
    with pytest.raises(VerificationError):
        g.verify()


def test_bad_input():
    with pytest.raises(ShapeError, match="square"):
        steps.det([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ArgumentError, match="singular.*pinv"):
        steps.inv("[[1, 2], [2, 4]]")
    with pytest.raises(ShapeError, match="rows"):
        steps.solve("[[1, 0], [0, 1]]", "[1, 2, 3]")
    with pytest.raises(ArgumentError, match="dependent"):
        steps.gram_schmidt(["[1, 2]", "[2, 4]"])
    with pytest.raises(ArgumentError, match="up to"):
        steps.det(np.eye(7))
    with pytest.raises(DerivationError, match="degree above 4"):
        steps.eig(sympy.Matrix(5, 5, sympy.symbols("e0:25")))


def test_cli_commands(capsys):
    from symml.cli import main

    assert main(["det", "[[a, b], [c, d]]"]) == 0
    assert capsys.readouterr().out.strip() == "a*d - b*c"
    assert main(["eig", "[[2, 1], [1, 2]]"]) == 0
    out = capsys.readouterr().out
    assert "eigenvalue 1  multiplicity 1" in out and "eigenvalue 3" in out
    assert main(["inv", "[[1, 2], [2, 4]]"]) == 1
    assert "singular" in capsys.readouterr().err
    assert main(["steps", "inv", "[[2, 1], [1, 1]]", "--verify"]) == 0
    assert "Gauss-Jordan" in capsys.readouterr().out
    assert main(["steps", "gram-schmidt", "[1, 1]", "[1, 0]", "--format", "md"]) == 0
    assert "$" in capsys.readouterr().out
    assert main(["steps", "solve", "[[2, 1], [1, 3]]", "[3, 5]"]) == 0
    assert "x_2 = 7/5" in capsys.readouterr().out
