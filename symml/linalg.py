"""Linear algebra, numeric and symbolic, through one set of calls.

Numeric input (NumPy arrays, nested lists of numbers) goes through NumPy/SciPy and gives
NumPy results; symbolic input (SymPy matrices, language text such as ``"[[a, b], [c, d]]"``)
goes through SymPy, under :func:`symml._limits.time_limit`, and gives SymPy results. A
symbolic request that is out of reach (the eigenvalues of a general symbolic 5x5 matrix)
raises a :class:`~symml.errors.DerivationError` saying so, never a wrong answer.

>>> import symml.linalg as la
>>> la.det("[[a, b], [c, d]]")
a*d - b*c
>>> round(float(la.det([[1, 2], [3, 4]])), 12)
-2.0

Matrix calculus in closed form lives in :mod:`symml.matrixcalc`; :func:`matrix_grad` is
re-exported here.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import sympy

from ._convert import as_expr
from ._limits import time_limit
from .errors import ArgumentError, DerivationError, ShapeError
from .matrixcalc import matrix_grad, matrix_symbol

#: ``MatrixSymbol(name, rows, cols, symmetric=False)``: a matrix symbol of symbolic size,
#: symmetric (``S' = S``) when asked; see :func:`symml.matrixcalc.matrix_symbol`.
MatrixSymbol = matrix_symbol

__all__ = [
    "det", "inv", "solve", "eig", "Eigenspace", "svd", "pinv", "gram_schmidt", "rank", "norm",
    "trace", "cross", "dot", "transpose", "project", "projection_matrix",
    "is_positive_definite", "matrix_grad", "MatrixSymbol", "matrix_symbol",
]  # fmt: skip

#: Relative tolerance used by the numeric paths to call a matrix singular.
RTOL = 1e-12


# -- the boundary ---------------------------------------------------------------------------------
def _is_number_array(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biufc"
    if isinstance(x, (list, tuple)) and x:
        flat = x
        while flat and isinstance(flat[0], (list, tuple, np.ndarray)):
            flat = [e for row in flat for e in row]
        return bool(flat) and all(
            isinstance(e, (numbers.Number, np.number))
            and not isinstance(e, (bool, sympy.Basic))
            for e in flat
        )
    return False


def _operand(x: Any, what: str):
    """``("numeric", ndarray)`` or ``("symbolic", ImmutableMatrix)`` for a matrix or vector."""
    if _is_number_array(x):
        try:
            arr = np.asarray(x)
        except ValueError as exc:
            raise ShapeError(f"{what}: the rows have different lengths ({exc})") from None
        if arr.dtype.kind in "biu":
            arr = arr.astype(float)
        if arr.ndim not in (1, 2):
            raise ShapeError(f"{what} needs a vector or a matrix, got an array of {arr.ndim} dims")
        if not np.all(np.isfinite(arr)):
            raise ArgumentError(f"{what}: the matrix has NaN or infinite entries")
        return "numeric", arr
    m = as_expr(x)
    if not isinstance(m, sympy.MatrixBase):
        raise ShapeError(
            f"{what} needs a vector or a matrix such as [[1, 2], [3, 4]], got the scalar {m}"
        )
    return "symbolic", sympy.ImmutableMatrix(m)


def _matrix(x: Any, what: str):
    kind, m = _operand(x, what)
    if kind == "numeric" and m.ndim == 1:
        m = m.reshape(-1, 1)
    return kind, m


def _square(x: Any, what: str):
    kind, m = _matrix(x, what)
    if m.shape[0] != m.shape[1]:
        raise ShapeError(
            f"{what} needs a square matrix, got a {m.shape[0]}x{m.shape[1]} matrix"
            + ("; for a non-square matrix use pinv or svd" if what in ("inv", "det") else "")
        )
    return kind, m


def _vector(x: Any, what: str):
    kind, v = _operand(x, what)
    if kind == "numeric":
        if v.ndim == 2 and 1 in v.shape:
            v = v.reshape(-1)
        if v.ndim != 1:
            raise ShapeError(f"{what} needs a vector, got a {v.shape[0]}x{v.shape[1]} matrix")
        return kind, v
    if v.shape[1] != 1 and v.shape[0] == 1:
        v = v.T
    if v.shape[1] != 1:
        raise ShapeError(f"{what} needs a vector, got a {v.shape[0]}x{v.shape[1]} matrix")
    return kind, v


def _symbolic(what: str):
    return time_limit(None, f"symbolic {what}")


def _is_zero(e) -> bool:
    e = sympy.simplify(e) if isinstance(e, sympy.Basic) and e.free_symbols else e
    return bool(e == 0)


# -- basic operations -----------------------------------------------------------------------------
def det(A: Any):
    """Determinant of a square matrix.

    >>> det("[[2, 1], [1, 3]]")
    5

    Raises
    ------
    ShapeError
        If the matrix is not square.
    """
    kind, m = _square(A, "det")
    if kind == "numeric":
        return np.linalg.det(m)
    with _symbolic("determinant"):
        return sympy.expand(m.det(method="berkowitz"))


def trace(A: Any):
    """Trace (sum of the diagonal) of a square matrix.

    >>> trace("[[a, b], [c, d]]")
    a + d
    """
    kind, m = _square(A, "trace")
    return np.trace(m) if kind == "numeric" else m.trace()


def transpose(A: Any):
    """Transpose of a matrix (a vector becomes a row).

    >>> transpose("[[1, 2], [3, 4]]")
    Matrix([
    [1, 3],
    [2, 4]])
    """
    kind, m = _matrix(A, "transpose")
    return m.T if kind == "numeric" else m.T


def inv(A: Any):
    """Inverse of a square, nonsingular matrix.

    >>> inv("[[2, 0], [0, 4]]")
    Matrix([
    [1/2,   0],
    [  0, 1/4]])

    Raises
    ------
    ShapeError
        If the matrix is not square.
    ArgumentError
        If it is singular (the message suggests :func:`pinv`).
    """
    kind, m = _square(A, "inv")
    if kind == "numeric":
        if m.size == 0 or np.linalg.matrix_rank(m) < m.shape[0]:
            raise ArgumentError(_singular_message("inv", m.shape))
        return np.linalg.inv(m)
    with _symbolic("inverse"):
        if _is_zero(m.det(method="berkowitz")):
            raise ArgumentError(_singular_message("inv", m.shape))
        return sympy.ImmutableMatrix(sympy.simplify(m.inv(method="LU")))


def _singular_message(what: str, shape) -> str:
    return (
        f"{what}: the {shape[0]}x{shape[1]} matrix is singular (its determinant is 0), so it "
        "has no inverse; use pinv(A) for the Moore-Penrose pseudoinverse"
        + (" or lstsq-style pinv(A) @ b for a least-squares solution" if what == "solve" else "")
    )


def solve(A: Any, b: Any):
    """The solution x of A x = b for a square nonsingular A (b a vector or a matrix).

    >>> solve("[[2, 1], [1, 3]]", "[3, 5]")
    Matrix([
    [4/5],
    [7/5]])

    Raises
    ------
    ShapeError
        If A is not square or b has the wrong number of rows.
    ArgumentError
        If A is singular.
    """
    kind, m = _square(A, "solve")
    kb, rhs = _operand(b, "solve")
    rows = rhs.shape[0]
    if rows != m.shape[0]:
        raise ShapeError(
            f"solve: A is {m.shape[0]}x{m.shape[1]} but b has {rows} rows; they must match"
        )
    if kind == "numeric" and kb == "numeric":
        if np.linalg.matrix_rank(m) < m.shape[0]:
            raise ArgumentError(_singular_message("solve", m.shape))
        return scipy.linalg.solve(m, rhs)
    m = sympy.ImmutableMatrix(m.tolist() if kind == "numeric" else m)
    rhs = sympy.ImmutableMatrix(rhs.tolist() if kb == "numeric" else rhs)
    with _symbolic("solve"):
        if _is_zero(m.det(method="berkowitz")):
            raise ArgumentError(_singular_message("solve", m.shape))
        return sympy.ImmutableMatrix(sympy.simplify(m.LUsolve(rhs)))


def dot(u: Any, v: Any):
    """Inner product of two vectors of equal length.

    >>> dot("[a, b]", "[c, d]")
    a*c + b*d
    """
    ku, u = _vector(u, "dot")
    kv, v = _vector(v, "dot")
    if len(u) != len(v):
        raise ShapeError(f"dot of vectors of lengths {len(u)} and {len(v)}; they must match")
    if ku == kv == "numeric":
        return float(np.dot(u, v)) if u.dtype.kind != "c" else np.vdot(v, u)
    terms = [a * b for a, b in zip(list(u), list(v), strict=True)]
    return sympy.expand(sympy.Add(*terms))


def cross(u: Any, v: Any):
    """Cross product of two 3-vectors.

    >>> cross("[1, 0, 0]", "[0, 1, 0]").T
    Matrix([[0, 0, 1]])
    """
    ku, u = _vector(u, "cross")
    kv, v = _vector(v, "cross")
    if len(u) != 3 or len(v) != 3:
        raise ShapeError(f"cross needs two 3-vectors, got lengths {len(u)} and {len(v)}")
    if ku == kv == "numeric":
        return np.cross(u, v)
    u = sympy.ImmutableMatrix(list(u))
    v = sympy.ImmutableMatrix(list(v))
    return sympy.ImmutableMatrix(u.cross(v))


def project(u: Any, v: Any):
    """Orthogonal projection of the vector u onto the line spanned by v: (u.v / v.v) v.

    >>> project("[1, 2]", "[1, 0]").T
    Matrix([[1, 0]])
    """
    ku, uu = _vector(u, "project")
    kv, vv = _vector(v, "project")
    vv_dot = dot(vv, vv)
    if (kv == "numeric" and vv_dot == 0) or (kv == "symbolic" and _is_zero(vv_dot)):
        raise ArgumentError("project: cannot project onto the zero vector")
    if ku == kv == "numeric":
        return dot(uu, vv) / vv_dot * vv
    return sympy.ImmutableMatrix(sympy.simplify(dot(uu, vv) / vv_dot * sympy.Matrix(list(vv))))


def projection_matrix(A: Any):
    """Matrix of the orthogonal projection onto the column space of A: A (A' A)^-1 A'.

    Uses the pseudoinverse, so A may have dependent columns.

    >>> projection_matrix("[[1], [1]]")
    Matrix([
    [1/2, 1/2],
    [1/2, 1/2]])
    """
    kind, m = _matrix(A, "projection_matrix")
    if kind == "numeric":
        return m @ np.linalg.pinv(m)
    with _symbolic("projection matrix"):
        return sympy.ImmutableMatrix(sympy.simplify(m * m.pinv()))


def rank(A: Any) -> int:
    """Rank of a matrix (for symbolic entries: the rank for generic values of the symbols).

    >>> rank("[[1, 2], [2, 4]]")
    1
    """
    kind, m = _matrix(A, "rank")
    if kind == "numeric":
        return int(np.linalg.matrix_rank(m))
    with _symbolic("rank"):
        return int(m.rank(simplify=True))


def norm(x: Any, ord: Any = None):
    """Norm of a vector (ord 1, 2, inf; default 2) or a matrix (ord "fro" (default), 1, 2, inf).

    >>> norm("[3, 4]")
    5
    >>> norm("[3, -4]", 1), norm("[3, -4]", "inf")
    (7, 4)
    """
    kind, m = _operand(x, "norm")
    vector = (m.ndim == 1 if kind == "numeric" else 1 in m.shape)
    if isinstance(ord, str):
        key = ord.lower()
        if key in ("inf", "infinity"):
            ord = np.inf
        elif key in ("-inf",):
            ord = -np.inf
        elif key in ("fro", "frobenius"):
            ord = "fro"
        else:
            raise ArgumentError(f"norm: unknown ord {ord!r}; use 1, 2, 'inf' or 'fro'")
    if ord not in (None, 1, 2, np.inf, -np.inf, "fro", sympy.oo):
        raise ArgumentError(f"norm: unsupported ord {ord!r}; use 1, 2, 'inf' or 'fro'")
    if ord == "fro" and vector:
        ord = 2
    if kind == "numeric":
        if m.ndim == 2 and vector:
            m = m.reshape(-1)
        return float(np.linalg.norm(m, ord))
    sym_ord = {None: None, 1: 1, 2: 2, np.inf: sympy.oo, -np.inf: -sympy.oo, "fro": "fro",
               sympy.oo: sympy.oo}[ord]  # fmt: skip
    with _symbolic("norm"):
        if vector:
            m = sympy.ImmutableMatrix(list(m))
            return sympy.simplify(m.norm(sym_ord))
        if sym_ord == 2:
            vals = list(sympy.Matrix(m.T * m).eigenvals())
            return sympy.simplify(sympy.sqrt(sympy.Max(*vals)))
        return sympy.simplify(m.norm(sym_ord))


# -- eigenvalues, SVD, pseudoinverse ---------------------------------------------------------------
@dataclass(frozen=True)
class Eigenspace:
    """One eigenvalue with its algebraic multiplicity and a basis of its eigenvectors."""

    value: Any
    multiplicity: int
    vectors: list

    def __iter__(self):
        return iter((self.value, self.multiplicity, self.vectors))


def eig(A: Any) -> list[Eigenspace]:
    """Eigenvalues with their algebraic multiplicities and eigenvectors (a basis of each
    eigenspace), as a list of :class:`Eigenspace` ``(value, multiplicity, vectors)``.

    >>> [(e.value, e.multiplicity, [list(v) for v in e.vectors]) for e in eig("[[2, 1], [1, 2]]")]
    [(1, 1, [[-1, 1]]), (3, 1, [[1, 1]])]

    Numeric matrices give NumPy eigenvalues (equal ones grouped) and orthonormal null-space
    bases. For symbolic entries, characteristic polynomials of degree above 4 have no
    formula for their roots: a :class:`~symml.errors.DerivationError` says so.
    """
    kind, m = _square(A, "eig")
    if kind == "numeric":
        return _eig_numeric(m)
    n = m.shape[0]
    if n > 4 and m.free_symbols:
        raise DerivationError(
            f"eig: the eigenvalues of a {n}x{n} matrix with symbolic entries are the roots of a "
            f"degree-{n} polynomial, which have no closed form in general (Abel-Ruffini); "
            "substitute numbers for the symbols and pass a NumPy array"
        )
    with _symbolic("eigenvalue computation"):
        triples = m.eigenvects(simplify=True)
    out = []
    for val, mult, vecs in triples:
        out.append(Eigenspace(val, int(mult), [sympy.ImmutableMatrix(sympy.simplify(v))
                                               for v in vecs]))  # fmt: skip
    return sorted(out, key=lambda e: sympy.default_sort_key(e.value))


def _eig_numeric(m: np.ndarray) -> list[Eigenspace]:
    vals = np.linalg.eigvals(m)
    scale = max(1.0, float(np.max(np.abs(vals)))) if vals.size else 1.0
    tol = 1e-8 * scale
    groups: list[list[complex]] = []
    for v in sorted(vals, key=lambda z: (z.real, z.imag)):
        if groups and abs(v - np.mean(groups[-1])) <= tol:
            groups[-1].append(v)
        else:
            groups.append([v])
    out = []
    for g in groups:
        lam = np.mean(g)
        lam = float(lam.real) if abs(lam.imag) <= tol else complex(lam)
        shifted = m - lam * np.eye(m.shape[0])
        basis = scipy.linalg.null_space(shifted, rcond=1e-8)
        if basis.shape[1] == 0:  # numerically defective: take the smallest singular vector
            basis = np.linalg.svd(shifted)[2][-1:].conj().T
        out.append(Eigenspace(lam, len(g), [basis[:, j] for j in range(basis.shape[1])]))
    return out


def svd(A: Any):
    """Singular value decomposition ``(U, s, Vh)`` with ``A = U diag(s) Vh``.

    Numeric input gives NumPy's reduced SVD; symbolic input SymPy's condensed one (only the
    nonzero singular values).

    >>> U, s, Vh = svd("[[3, 0], [0, 2]]")
    >>> list(s)
    [3, 2]
    """
    kind, m = _matrix(A, "svd")
    if kind == "numeric":
        return np.linalg.svd(m, full_matrices=False)
    with _symbolic("SVD"):
        U, S, V = sympy.Matrix(m).singular_value_decomposition()
        U, S, V = (sympy.simplify(M) for M in (U, S, V))
    s = [S[i, i] for i in range(min(S.shape))]
    order = sorted(range(len(s)), key=lambda i: -_sort_value(s[i]))
    U = sympy.ImmutableMatrix.hstack(*[U[:, i] for i in order]) if order else U
    V = sympy.ImmutableMatrix.hstack(*[V[:, i] for i in order]) if order else V
    return sympy.ImmutableMatrix(U), [s[i] for i in order], sympy.ImmutableMatrix(V.H)


def _sort_value(e) -> float:
    try:
        return float(e)
    except TypeError:
        return 0.0


def pinv(A: Any):
    """Moore-Penrose pseudoinverse.

    >>> pinv("[[1, 0], [0, 0]]")
    Matrix([
    [1, 0],
    [0, 0]])
    """
    kind, m = _matrix(A, "pinv")
    if kind == "numeric":
        return np.linalg.pinv(m)
    with _symbolic("pseudoinverse"):
        return sympy.ImmutableMatrix(sympy.simplify(m.pinv()))


def gram_schmidt(vectors: Any, normalize: bool = True):
    """Orthonormalize a list of linearly independent vectors (Gram-Schmidt).

    >>> [list(q) for q in gram_schmidt(["[1, 1]", "[1, 0]"])]
    [[sqrt(2)/2, sqrt(2)/2], [sqrt(2)/2, -sqrt(2)/2]]

    Raises
    ------
    ArgumentError
        If the vectors are linearly dependent (a zero vector remains after subtracting the
        projections).
    """
    if isinstance(vectors, np.ndarray) and vectors.ndim == 2:
        vectors = list(vectors)
    if isinstance(vectors, str) or not isinstance(vectors, (list, tuple)) or not vectors:
        raise ArgumentError("gram_schmidt needs a non-empty list of vectors")
    ops = [_vector(v, "gram_schmidt") for v in vectors]
    lengths = {len(v) for _, v in ops}
    if len(lengths) != 1:
        raise ShapeError(f"gram_schmidt: the vectors have different lengths {sorted(lengths)}")
    if all(k == "numeric" for k, _ in ops):
        return _gram_schmidt_numeric([v for _, v in ops], normalize)
    vecs = [sympy.Matrix(list(v)) for _, v in ops]
    out: list = []
    with _symbolic("Gram-Schmidt"):
        for i, v in enumerate(vecs):
            w = v
            for q in out:
                w = w - (q.dot(v) / q.dot(q)) * q
            w = sympy.simplify(w)
            if all(_is_zero(e) for e in w):
                raise ArgumentError(
                    f"gram_schmidt: vector {i + 1} is a combination of the earlier ones "
                    "(the vectors are linearly dependent); drop it"
                )
            out.append(w)
        if normalize:
            out = [sympy.simplify(w / sympy.sqrt(w.dot(w))) for w in out]
    return [sympy.ImmutableMatrix(w) for w in out]


def _gram_schmidt_numeric(vecs: list[np.ndarray], normalize: bool) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    scale = max(float(np.linalg.norm(v)) for v in vecs) or 1.0
    for i, v in enumerate(vecs):
        w = v.astype(float if v.dtype.kind != "c" else complex)
        for q in out:  # modified Gram-Schmidt (numerically stable)
            w = w - (np.vdot(q, w) / np.vdot(q, q)) * q
        if np.linalg.norm(w) <= 1e-10 * scale:
            raise ArgumentError(
                f"gram_schmidt: vector {i + 1} is a combination of the earlier ones "
                "(the vectors are linearly dependent); drop it"
            )
        out.append(w)
    if normalize:
        out = [w / np.linalg.norm(w) for w in out]
    return out


def is_positive_definite(A: Any) -> bool | None:
    """Whether a symmetric matrix is positive definite.

    Numeric: a Cholesky factorization (of the symmetric part after checking symmetry).
    Symbolic: Sylvester's criterion (every leading principal minor positive); ``None`` when
    the signs of the minors cannot be decided from the symbols' assumptions.

    >>> is_positive_definite("[[2, -1], [-1, 2]]"), is_positive_definite([[1, 2], [2, 1]])
    (True, False)
    """
    kind, m = _square(A, "is_positive_definite")
    if kind == "numeric":
        if not np.allclose(m, m.conj().T, rtol=1e-10, atol=1e-12):
            raise ArgumentError(
                "is_positive_definite needs a symmetric matrix; test (A + A')/2 for the "
                "quadratic form x' A x"
            )
        try:
            np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            return False
        return True
    with _symbolic("positive-definiteness test"):
        if not all(_is_zero(e) for e in (m - m.T)):
            raise ArgumentError(
                "is_positive_definite needs a symmetric matrix; test (A + A')/2 for the "
                "quadratic form x' A x"
            )
        verdict: bool | None = True
        for k in range(1, m.shape[0] + 1):
            minor = sympy.factor(m[:k, :k].det(method="berkowitz"))
            pos = minor.is_positive
            if pos is False:
                return False
            if pos is None:
                verdict = None
        return verdict
