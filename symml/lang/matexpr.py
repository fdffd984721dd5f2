"""The third kind of language value: matrix expressions of symbolic size.

``matrix A[n, n]`` and ``vector x[n]`` declare SymPy ``MatrixSymbol``s; the arithmetic of the
language dispatches here whenever an operand is such a matrix expression (explicit
matrices, ``[[1, 2], [3, 4]]``, and scalars are handled in :mod:`symml.lang.ops`).

For matrix expressions ``*`` and ``@`` are both the matrix product (there is no entry-by-entry
product of matrices of unknown size), so ``x'*A*x`` is the quadratic form. A 1x1 matrix
expression (a quadratic form, an inner product ``x'*y``) is a scalar wherever a scalar is
needed: in a sum with a number, under ``log``, ``exp`` or a power, it becomes
``trace(x'*A*x)``, which is the same number and which :func:`symml.matrix_grad`
differentiates.
"""

from __future__ import annotations

import sympy
from sympy import (
    Determinant,
    Inverse,
    MatAdd,
    MatMul,
    MatPow,
    MatrixBase,
    MatrixExpr,
    MatrixSymbol,
    Trace,
    Transpose,
)

from ..errors import ArgumentError, ShapeError

__all__ = ["is_matexpr", "size_symbol", "declare"]


def is_matexpr(v) -> bool:
    """True for a matrix expression of symbolic form (not an explicit matrix)."""
    return isinstance(v, MatrixExpr) and not isinstance(v, MatrixBase)


def size_symbol(name: str) -> sympy.Symbol:
    """The symbol of a size ``n``: a positive integer."""
    return sympy.Symbol(name, integer=True, positive=True)


def declare(name: str, dims: tuple, kind: str, symmetric: bool = False) -> MatrixSymbol:
    """``matrix A[n, m]`` (kind "matrix") or ``vector x[n]`` (a column, kind "vector");
    ``matrix S[n, n] symmetric`` declares ``S' = S``."""
    if symmetric and (kind == "vector" or len(dims) != 2 or dims[0] != dims[1]):
        raise ShapeError(
            f"only a square matrix can be symmetric: write 'matrix {name}[n, n] symmetric'"
        )
    if symmetric:
        from ..matrixcalc import SymmetricMatrixSymbol

        return SymmetricMatrixSymbol(name, dims[0], dims[1])
    if kind == "vector":
        if len(dims) != 1:
            raise ShapeError(
                f"a vector has one size: write 'vector {name}[n]' (it is a column, n x 1); "
                f"for a matrix write 'matrix {name}[n, m]'"
            )
        return MatrixSymbol(name, dims[0], 1)
    if len(dims) != 2:
        raise ShapeError(
            f"a matrix has two sizes: write 'matrix {name}[n, m]' (or 'vector {name}[n]')"
        )
    return MatrixSymbol(name, dims[0], dims[1])


def _shape_text(m) -> str:
    return "x".join(str(d) for d in m.shape)


def _is_scalar_1x1(v) -> bool:
    return is_matexpr(v) and v.shape == (1, 1)


def scalar(v):
    """A 1x1 matrix expression as a scalar (its trace); other values unchanged."""
    if _is_scalar_1x1(v):
        return Trace(v)
    return v


def need_scalar(v, what: str):
    """``v`` as a scalar, or a ShapeError naming ``what`` for a true matrix expression."""
    v = scalar(v)
    if is_matexpr(v):
        raise ShapeError(
            f"{what} needs a scalar, got the {_shape_text(v)} matrix expression {v}; "
            "take trace(...), det(...) or a quadratic form x'*A*x"
        )
    return v


def _explicit(v):
    """An explicit SymPy matrix as an immutable matrix expression operand."""
    return sympy.ImmutableMatrix(v)


def _mat_operand(v, what: str):
    if isinstance(v, MatrixBase):
        return _explicit(v)
    if is_matexpr(v):
        return v
    raise ShapeError(f"{what}: expected a matrix expression, got {v}")


def _same_shape(a, b) -> bool:
    return all(sympy.simplify(p - q) == 0 for p, q in zip(a.shape, b.shape))


def add(a, b, sign=1):
    """``a + b`` / ``a - b`` with at least one matrix expression."""
    a_m, b_m = (
        is_matexpr(a) or isinstance(a, MatrixBase),
        is_matexpr(b) or isinstance(b, MatrixBase),
    )
    if a_m and b_m:
        a, b = _mat_operand(a, "+"), _mat_operand(b, "+")
        if not _same_shape(a, b):
            if a.shape == (1, 1) or b.shape == (1, 1):
                return add(scalar(a), scalar(b), sign)
            raise ShapeError(
                f"cannot add matrix expressions of shapes {_shape_text(a)} and {_shape_text(b)}"
            )
        return MatAdd(a, b if sign > 0 else -b).doit()
    # one side is a scalar: only a 1x1 matrix expression adds to it
    a, b = scalar(a), scalar(b)
    for side in (a, b):
        if is_matexpr(side):
            other = b if side is a else a
            if other == 0:
                return side if side is a or sign > 0 else -side
            raise ShapeError(
                f"cannot add the scalar {other} to the {_shape_text(side)} matrix expression "
                f"{side}; multiply the scalar by a matrix of the right shape"
            )
    return a + b if sign > 0 else a - b


def mul(a, b):
    """``a * b`` (and ``a @ b``): the matrix product, or scaling by a scalar."""
    a_m = is_matexpr(a) or isinstance(a, MatrixBase)
    b_m = is_matexpr(b) or isinstance(b, MatrixBase)
    if a_m and b_m:
        a, b = _mat_operand(a, "*"), _mat_operand(b, "*")
        if sympy.simplify(a.shape[1] - b.shape[0]) != 0:
            if a.shape == (1, 1) or b.shape == (1, 1):  # a quadratic form times a matrix
                return mul(scalar(a), scalar(b))
            raise ShapeError(
                f"matrix product of shapes {_shape_text(a)} and {_shape_text(b)}: the inner "
                f"sizes {a.shape[1]} and {b.shape[0]} differ (vectors are columns; transpose "
                "with ')"
            )
        return MatMul(a, b).doit()
    a, b = scalar(a), scalar(b)
    if is_matexpr(a) or is_matexpr(b):
        return MatMul(a, b).doit() if is_matexpr(b) else MatMul(b, a).doit()
    return a * b


def div(a, b):
    """``a / b``: a matrix expression divided by a scalar."""
    b = need_scalar(b, "the divisor of '/'")
    if isinstance(b, sympy.Expr) and b.is_zero:
        raise ArgumentError("division by zero")
    if is_matexpr(a):
        return MatMul(sympy.Integer(1) / b, a).doit()
    return scalar(a) / b


def power(a, b):
    """``A^k``: a matrix power of a square expression; a 1x1 expression is a scalar."""
    b = need_scalar(b, "an exponent")
    if _is_scalar_1x1(a):
        return scalar(a) ** b
    _need_square(a, "A^k (a matrix power)")
    if not (isinstance(b, sympy.Integer)):
        raise ArgumentError(f"a matrix expression can only be raised to a whole number, got {b}")
    if b == -1:
        return Inverse(a)
    return MatPow(a, b).doit()


def neg(a):
    return (-a).doit() if is_matexpr(a) else -a


def transpose(a):
    return Transpose(a).doit()


def trace(a):
    _need_square(a, "trace")
    return Trace(a)


def det(a):
    _need_square(a, "det")
    return Determinant(a)


def inv(a):
    _need_square(a, "inv")
    return Inverse(a)


def _need_square(a, what):
    if sympy.simplify(a.shape[0] - a.shape[1]) != 0:
        raise ShapeError(f"{what} needs a square matrix, got the {_shape_text(a)} expression {a}")


def dot(u, v):
    """``dot(u, v)`` of two vector expressions: ``u'*v`` (a 1x1 expression)."""
    u, v = _mat_operand(u, "dot"), _mat_operand(v, "dot")
    for w in (u, v):
        if w.shape[1] != 1:
            raise ShapeError(
                f"dot needs vectors (columns), got the {_shape_text(w)} expression {w}"
            )
    return mul(Transpose(u), v)


def norm(v):
    """Euclidean norm of a vector expression, Frobenius norm of a matrix expression."""
    v = _mat_operand(v, "norm")
    return sympy.sqrt(Trace(MatMul(Transpose(v), v).doit()))  # sqrt(v'v), sqrt(tr(X'X))


def outer(u, v):
    return mul(_mat_operand(u, "outer"), Transpose(_mat_operand(v, "outer")))


def element(base, idx: list):
    """``X[i, j]`` and ``x[i]`` (0-based) of a matrix expression: a scalar entry."""
    rows, cols = base.shape
    if len(idx) == 1:
        if cols != 1:
            raise ShapeError(f"{base} is a matrix; index it with two indices, {base}[i, j]")
        idx = [idx[0], 0]
    if len(idx) != 2:
        raise ShapeError("at most two indices")
    for i, n in zip(idx, (rows, cols)):
        if i < 0 or (n.is_Integer and i >= n):
            raise ShapeError(f"index {i} out of range for size {n} (indices start at 0)")
    return base[idx[0], idx[1]]


#: Vector and matrix functions of the language, for matrix-expression arguments.
FUNCS = {
    "transpose": transpose,
    "trace": trace,
    "det": det,
    "inv": inv,
    "dot": dot,
    "norm": norm,
    "outer": outer,
}
