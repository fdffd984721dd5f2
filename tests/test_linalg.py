"""symml.linalg against NumPy/SciPy (numeric input) and SymPy (symbolic input)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import symml.linalg as la
from symml.errors import ArgumentError, DerivationError, ParseError, ShapeError, SymmlError

a, b, c, d = sympy.symbols("a b c d", real=True)


def _square_arrays(lo=1, hi=5):
    return st.integers(lo, hi).flatmap(
        lambda k: arrays(np.float64, (k, k), elements=st.floats(-10, 10, width=32))
    )


# -- determinant, trace, inverse, solve ----------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(_square_arrays())
def test_det_numeric_matches_numpy_and_sympy(M):
    got = la.det(M)
    assert np.isclose(got, np.linalg.det(M), rtol=1e-9, atol=1e-9)
    exact = sympy.Matrix(sympy.nsimplify(sympy.Matrix(M.tolist()), rational=True)).det()
    assert np.isclose(got, float(exact), rtol=1e-7, atol=1e-7)


def test_det_symbolic_matches_sympy():
    assert la.det("[[a, b], [c, d]]") == a * d - b * c
    M = sympy.Matrix(3, 3, sympy.symbols("m0:9"))
    assert sympy.expand(la.det(M) - M.det()) == 0
    assert la.det("[[1, 2], [3, 4]]") == -2  # exact on language text


def test_trace_transpose_dot_cross():
    M = np.arange(9.0).reshape(3, 3)
    assert la.trace(M) == np.trace(M)
    assert la.trace("[[a, b], [c, d]]") == a + d
    assert np.array_equal(la.transpose(M), M.T)
    assert la.transpose("[[a, b]]") == sympy.Matrix([[a], [b]])
    assert la.dot([1, 2, 3], [4, 5, 6]) == 32.0
    assert la.dot("[a, b]", "[c, d]") == a * c + b * d
    assert np.array_equal(la.cross([1, 2, 3], [4, 5, 6]), np.cross([1, 2, 3], [4, 5, 6]))
    u, v = sympy.Matrix([a, b, c]), sympy.Matrix([d, 1, 2])
    assert la.cross(u, v) == u.cross(v)


@settings(max_examples=30, deadline=None)
@given(_square_arrays())
def test_inv_numeric(M):
    if np.linalg.cond(M) > 1e8:
        with pytest.raises(ArgumentError, match="singular|pinv") if np.linalg.matrix_rank(
            M) < M.shape[0] else _nothing():
            la.inv(M)
        return
    Mi = la.inv(M)
    assert np.allclose(M @ Mi, np.eye(M.shape[0]), atol=1e-6)
    assert np.allclose(Mi, np.linalg.inv(M))


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_inv_symbolic_matches_sympy():
    got = la.inv("[[a, b], [c, d]]")
    ref = sympy.Matrix([[a, b], [c, d]]).inv()
    assert sympy.simplify(got - ref) == sympy.zeros(2, 2)


def test_solve_numeric_and_symbolic():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    bb = np.array([9.0, 8.0])
    assert np.allclose(la.solve(A, bb), np.linalg.solve(A, bb))
    x = la.solve("[[a, 1], [1, a]]", "[1, 2]")
    ref = sympy.Matrix([[a, 1], [1, a]]).LUsolve(sympy.Matrix([1, 2]))
    assert sympy.simplify(x - ref) == sympy.zeros(2, 1)


# -- bad input -----------------------------------------------------------------------------------
def test_bad_input_messages():
    with pytest.raises(ShapeError, match="square"):
        la.det([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ShapeError, match="square"):
        la.det("[[a, b, c], [1, 2, 3]]")
    with pytest.raises(ArgumentError, match="singular.*pinv"):
        la.inv([[1, 2], [2, 4]])
    with pytest.raises(ArgumentError, match="singular.*pinv"):
        la.inv("[[a, 2*a], [1, 2]]")
    with pytest.raises(ShapeError, match="rows"):
        la.solve([[1, 0], [0, 1]], [1, 2, 3])
    with pytest.raises(ShapeError, match="lengths"):
        la.dot([1, 2], [1, 2, 3])
    with pytest.raises(ShapeError, match="3-vectors"):
        la.cross([1, 2], [3, 4])
    with pytest.raises(ParseError):
        la.det("[[1, 2], [3, ")
    with pytest.raises(ShapeError, match="scalar"):
        la.det("a + b")
    with pytest.raises(ArgumentError, match="NaN"):
        la.det([[np.nan, 1], [1, 1]])
    with pytest.raises(ArgumentError, match="ord"):
        la.norm([1, 2], "nuclear")
    with pytest.raises(ArgumentError, match="dependent"):
        la.gram_schmidt([[1, 0], [2, 0]])
    with pytest.raises(ArgumentError, match="dependent"):
        la.gram_schmidt(["[a, b]", "[2*a, 2*b]"])
    with pytest.raises(ArgumentError, match="symmetric"):
        la.is_positive_definite([[1, 2], [0, 1]])


def test_symbolic_eig_out_of_reach_says_so():
    M = sympy.Matrix(5, 5, sympy.symbols("e0:25"))
    with pytest.raises(DerivationError, match="degree-5"):
        la.eig(M)
    # the same matrix with numbers works, through NumPy
    rng = np.random.default_rng(0)
    assert sum(e.multiplicity for e in la.eig(rng.normal(size=(5, 5)))) == 5


# -- rank and norms ------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 4), st.integers(0, 100))
def test_rank_of_products(rows, cols, k, seed):
    rng = np.random.default_rng(seed)
    k = min(k, rows, cols)
    M = rng.integers(-3, 4, size=(rows, k)) @ rng.integers(-3, 4, size=(k, cols))
    M = M.astype(float)
    assert la.rank(M) == np.linalg.matrix_rank(M)
    assert la.rank(sympy.Matrix(M.astype(int).tolist())) == np.linalg.matrix_rank(M)


@pytest.mark.parametrize("ord_", [None, 1, 2, "inf", "fro"])
def test_norms_match_numpy(ord_):
    v = np.array([3.0, -4.0, 12.0])
    M = np.array([[1.0, -2.0], [3.0, 4.0]])
    np_ord = np.inf if ord_ == "inf" else ord_
    assert np.isclose(la.norm(v, ord_), np.linalg.norm(v, None if ord_ == "fro" else np_ord))
    assert np.isclose(la.norm(M, ord_), np.linalg.norm(M, np_ord))
    exact_v = la.norm(sympy.Matrix(v.astype(int).tolist()), ord_)
    exact_M = la.norm(sympy.Matrix(M.astype(int).tolist()), ord_)
    assert np.isclose(float(exact_v), np.linalg.norm(v, None if ord_ == "fro" else np_ord))
    assert np.isclose(float(exact_M), np.linalg.norm(M, np_ord))


def test_symbolic_vector_norm():
    assert la.norm("[a, b]") == sympy.sqrt(a**2 + b**2)


# -- eigen, SVD, pinv ----------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(_square_arrays(1, 4))
def test_eig_numeric_reconstructs(M):
    spaces = la.eig(M)
    assert sum(e.multiplicity for e in spaces) == M.shape[0]
    ref = np.sort_complex(np.linalg.eigvals(M).astype(complex))
    got = np.sort_complex(np.array([e.value for e in spaces for _ in range(e.multiplicity)],
                                   dtype=complex))  # fmt: skip
    assert np.allclose(got, ref, atol=1e-5 * max(1, np.abs(ref).max()))
    for e in spaces:
        for v in e.vectors:
            assert np.linalg.norm(v) > 0.5
            assert np.allclose(M @ v, e.value * v, atol=1e-5 * max(1, np.abs(M).max()))


def test_eig_symbolic_multiplicities_and_vectors():
    M = sympy.Matrix([[2, 1, 0], [0, 2, 0], [0, 0, 3]])
    spaces = la.eig(M)
    assert {e.value: e.multiplicity for e in spaces} == M.eigenvals()
    for val, _mult, vecs in spaces:
        for v in vecs:
            assert M * v == val * v
    assert [len(e.vectors) for e in spaces] == [1, 1]  # defective eigenvalue 2
    S = la.eig("[[a, b], [b, a]]")
    assert {e.value for e in S} == {a - b, a + b}
    for e in S:
        for v in e.vectors:
            assert sympy.simplify(sympy.Matrix([[a, b], [b, a]]) * v - e.value * v) == \
                sympy.zeros(2, 1)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 1000))
def test_svd_and_pinv_numeric(rows, cols, seed):
    M = np.random.default_rng(seed).normal(size=(rows, cols))
    U, s, Vh = la.svd(M)
    assert np.allclose(U @ np.diag(s) @ Vh, M)
    assert np.all(np.diff(s) <= 1e-12)
    P = la.pinv(M)
    # the four Penrose conditions
    assert np.allclose(M @ P @ M, M)
    assert np.allclose(P @ M @ P, P)
    assert np.allclose((M @ P).T, M @ P)
    assert np.allclose((P @ M).T, P @ M)


def test_svd_and_pinv_symbolic():
    M = sympy.Matrix([[3, 0], [4, 5]])
    U, s, Vh = la.svd(M)
    assert sympy.simplify(U * sympy.diag(*s) * Vh - M) == sympy.zeros(2, 2)
    assert sorted(float(v) for v in s) == pytest.approx(
        sorted(np.linalg.svd(np.array([[3.0, 0], [4, 5]]), compute_uv=False))
    )
    R = sympy.Matrix([[1, 2], [2, 4], [0, 1]])
    P = la.pinv(R)
    for lhs, rhs in [(R * P * R, R), (P * R * P, P), ((R * P).T, R * P), ((P * R).T, P * R)]:
        assert sympy.simplify(lhs - rhs) == sympy.zeros(*rhs.shape)
    assert np.allclose(np.array(P, dtype=float), np.linalg.pinv(np.array(R, dtype=float)))


# -- Gram-Schmidt, projections, definiteness -----------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(0, 1000))
def test_gram_schmidt_numeric(k, seed):
    V = np.random.default_rng(seed).normal(size=(k, 4))
    Q = np.array(la.gram_schmidt(list(V)))
    assert np.allclose(Q @ Q.T, np.eye(k))
    # the same span, step by step (upper-triangular change of basis)
    coeffs = V @ Q.T
    assert np.allclose(np.triu(coeffs.T), coeffs.T)


def test_gram_schmidt_symbolic_orthonormal():
    Q = la.gram_schmidt(["[1, 1, 0]", "[1, 0, 1]", "[0, 1, 1]"])
    G = sympy.Matrix.hstack(*Q)
    assert sympy.simplify(G.T * G) == sympy.eye(3)
    ref = sympy.GramSchmidt([sympy.Matrix([1, 1, 0]), sympy.Matrix([1, 0, 1]),
                             sympy.Matrix([0, 1, 1])], orthonormal=True)  # fmt: skip
    for q, r in zip(Q, ref, strict=True):
        assert sympy.simplify(q - r) == sympy.zeros(3, 1)


def test_projections():
    p = la.project([1.0, 2.0], [3.0, 0.0])
    assert np.allclose(p, [1.0, 0.0])
    P = la.projection_matrix([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert np.allclose(P @ P, P) and np.allclose(P, P.T)
    Ps = la.projection_matrix("[[1, 0], [1, 1], [0, 1]]")
    assert np.allclose(np.array(Ps, dtype=float), P)
    assert la.project("[a, b]", "[1, 0]") == sympy.Matrix([a, 0])
    with pytest.raises(ArgumentError, match="zero vector"):
        la.project([1, 2], [0, 0])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(0, 1000), st.booleans())
def test_positive_definite_numeric(k, seed, make_pd):
    B = np.random.default_rng(seed).normal(size=(k, k))
    M = B @ B.T + 0.1 * np.eye(k) if make_pd else B @ B.T - (np.trace(B @ B.T) + 1) * np.eye(k)
    assert la.is_positive_definite(M) is make_pd
    assert la.is_positive_definite(M) == bool(np.all(np.linalg.eigvalsh(M) > 0))


def test_positive_definite_symbolic():
    assert la.is_positive_definite("[[2, -1, 0], [-1, 2, -1], [0, -1, 2]]") is True
    assert la.is_positive_definite("[[1, 2], [2, 1]]") is False
    p = sympy.Symbol("p", positive=True)
    assert la.is_positive_definite(sympy.Matrix([[p, 0], [0, p + 1]])) is True
    assert la.is_positive_definite("[[a, 0], [0, 1]]") is None  # depends on a


def test_every_error_is_a_symml_error():
    for call in (lambda: la.det([[1, 2]]), lambda: la.inv([[0, 0], [0, 0]]),
                 lambda: la.norm("[1, 2]", 3)):  # fmt: skip
        with pytest.raises(SymmlError):
            call()


# -- the language --------------------------------------------------------------------------------
def test_language_functions_agree_with_linalg():
    from symml.lang import expr

    assert expr("rank([[1, 2], [2, 4]])") == la.rank("[[1, 2], [2, 4]]") == 1
    assert expr("cross([a, b, c], [1, 0, 0])") == la.cross("[a, b, c]", "[1, 0, 0]")
    assert expr("pinv([[1, 2], [2, 4]])") == la.pinv("[[1, 2], [2, 4]]")
    assert list(expr("eigenvalues([[2, 1, 0], [0, 2, 0], [0, 0, 3]])")) == [2, 2, 3]
    assert expr("det([[a, b], [c, d]])") == la.det("[[a, b], [c, d]]")
    with pytest.raises(ShapeError, match="rank needs"):
        expr("rank(3)")
    with pytest.raises(ShapeError, match="3-vectors"):
        expr("cross([1, 2], [3, 4])")
