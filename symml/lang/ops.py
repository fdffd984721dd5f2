"""The arithmetic of the language, dispatched on the kind of value: scalars (SymPy),
explicit matrices (``[[1, 2], [3, 4]]``, entry-by-entry ``*``) and matrix symbols of
symbolic size (:mod:`symml.lang.matexpr`), with the size guards that keep exact arithmetic
printable (:data:`MAX_BITS`); and number literals.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy

from .. import _limits
from .._limits import check, check_entries
from ..errors import (
    ArgumentError,
    LimitError,
    ShapeError,
)
from . import matexpr as ME

#: Largest result of exact integer arithmetic, in bits, before a LimitError.
#: (14,000 bits is about 4,200 decimal digits: results stay printable, since Python refuses
#: to convert integers of more than 4,300 digits to text.)
MAX_BITS = 14_000
#: Largest integer argument of factorial / binomial / gamma evaluated exactly.
MAX_FACTORIAL = 1000
#: Largest decimal exponent in a number literal.
MAX_EXPONENT = 1000
#: Deepest SymPy expression a statement may build through definitions (each level costs
#: SymPy several Python frames when it prints or differentiates).
MAX_EXPR_DEPTH = 1000
_LOG2_10 = math.log2(10)


def _max_bits() -> float:
    """Bits of the largest exact number allowed: ``max_digits`` of the budget in force."""
    return _limits.get_limits().max_digits * _LOG2_10

Matrix = sympy.ImmutableMatrix


def _is_mat(v) -> bool:
    return isinstance(v, sympy.MatrixBase)


def _any_mat(v) -> bool:
    """An explicit matrix or a matrix expression of symbolic size (``matrix A[n, n]``)."""
    return isinstance(v, sympy.MatrixBase) or ME.is_matexpr(v)


def _guard_int_arg(name):
    def check(n):
        if isinstance(n, sympy.Basic) and n.is_Rational and abs(n) > MAX_FACTORIAL:
            raise LimitError(
                f"{name}({n}) is too large to evaluate exactly (limit {MAX_FACTORIAL}); "
                f"use loggamma(n + 1) for the logarithm of a factorial"
            )
        return n

    return check


def _apply(fn, *args):
    """Apply an elementwise function; vectors and matrices map entry by entry."""
    mats = [a for a in args if _is_mat(a)]
    if any(ME.is_matexpr(a) for a in args):
        return fn(*[ME.need_scalar(a, "this function (entry by entry)") for a in args])
    if not mats:
        return fn(*args)
    shape = mats[0].shape
    for m in mats[1:]:
        if m.shape != shape:
            raise ShapeError(f"shapes {shape} and {m.shape} do not match")
    rows, cols = shape

    def entry(i, j):
        return fn(*[a[i, j] if _is_mat(a) else a for a in args])

    return Matrix(rows, cols, lambda i, j: entry(i, j))


def _scalar(m):
    """1x1 matrices become scalars."""
    if _is_mat(m) and m.shape == (1, 1):
        return m[0, 0]
    return m


def _numeric_bits(b) -> float:
    """Bits of the exact numbers SymPy would raise to a power when it evaluates ``b^n``.

    A rational ``p/q`` contributes ``log2 max(|p|, q)``; ``(p/q)^r`` (e.g. ``sqrt(2)``) that
    times ``|r|``; a product ``2*x`` its numeric factors (``(2*x)^n`` becomes ``2^n*x^n``).
    Sums, symbols and functions stay unevaluated under a power and contribute nothing.
    """
    if b.is_Rational:
        p, q = abs(int(b.p)), int(b.q)
        if p in (0, 1) and q == 1:
            return 0.0
        return math.log2(max(p, q))
    if b.is_Pow and b.base.is_Rational and b.exp.is_Rational:
        return _numeric_bits(b.base) * abs(float(b.exp))
    if b.is_Mul:
        return sum(_numeric_bits(f) for f in b.args)
    return 0.0


def _check_pow(base, ex):
    """Refuse ``base^ex`` whose exact evaluation would need more than MAX_BITS bits.

    (Python's big-integer power cannot be interrupted once started, so this is checked
    before SymPy sees the power.)
    """
    if not (isinstance(base, sympy.Basic) and isinstance(ex, sympy.Basic)):
        return
    if base.is_zero and ex.is_Number and ex.is_negative:
        raise ArgumentError(f"division by zero: 0^{ex}")
    if not (ex.is_Rational and not ex.is_zero):
        return
    bits = float(abs(ex)) * _numeric_bits(base)
    if bits > _max_bits():
        raise LimitError(
            f"{_pow_text(base, ex)} has about {bits / _LOG2_10:,.0f} digits, too large to "
            f"evaluate exactly (limit {_limits.get_limits().max_digits:,} digits); write it with "
            "log() or exp() instead, or raise the limit with symml.set_limits(max_digits=...)"
        )


def _pow_text(base, ex) -> str:
    from .printer import to_text

    b, e = to_text(base), to_text(ex)
    if not (base.is_Symbol or (base.is_Integer and base >= 0)):
        b = f"({b})"
    if not (ex.is_Symbol or (ex.is_Integer and ex >= 0)):
        e = f"({e})"
    return f"{b}^{e}"


def _guarded_rebuild(expr, mapping: dict):
    """``expr.xreplace(mapping)``, re-evaluating bottom-up with the same guards as the
    parser (huge powers, factorials), iteratively so deep expressions cannot overflow.

    Substituting ``x = 2`` into ``x^(10^10)`` would otherwise start an uninterruptible
    ten-billion-bit computation inside SymPy.
    """
    if not isinstance(expr, sympy.Basic):
        return expr
    done: dict = {}
    stack = [expr]
    while stack:
        check()
        node = stack[-1]
        if node in done:
            stack.pop()
            continue
        if node in mapping:
            done[node] = mapping[node]
            stack.pop()
            continue
        pending = [a for a in node.args if a not in done]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        if not node.args:
            done[node] = node
            continue
        args = [done[a] for a in node.args]
        if all(a is b for a, b in zip(args, node.args)):
            done[node] = node
            continue
        if node.is_Pow:
            done[node] = power(*args)
            continue
        if isinstance(node, (sympy.factorial, sympy.gamma, sympy.binomial)):
            for a in args:
                _guard_int_arg(node.func.__name__)(a)
        done[node] = node.func(*args)
    return done[expr]


def _bits(x) -> int:
    """Bits of an exact rational's numerator or denominator (0 for anything else)."""
    if isinstance(x, sympy.Rational):
        return max(int(x.p).bit_length(), int(x.q).bit_length())
    return 0


def _check_product(a, b):
    """Refuse a product whose numeric coefficients multiply past ``max_digits``
    (``(3*x)*(3*x)`` is ``9*x^2``: repeated squaring doubles the digits each time)."""
    ba = _numeric_bits(a) if isinstance(a, sympy.Basic) else 0.0
    bb = _numeric_bits(b) if isinstance(b, sympy.Basic) else 0.0
    if ba + bb > _max_bits():
        raise LimitError(
            f"the product of numbers of about {ba / _LOG2_10:,.0f} and {bb / _LOG2_10:,.0f} digits "
            f"is too large to evaluate exactly (limit {_limits.get_limits().max_digits:,} "
            "digits); rescale the formula, or raise the limit with symml.set_limits(max_digits=...)"
        )


def _coefficient(e):
    """The numeric factor SymPy would multiply out of ``e`` in a product."""
    c, _ = e.as_coeff_Mul() if isinstance(e, sympy.Expr) else (sympy.Integer(1), e)
    return c if c.is_Rational else sympy.Integer(1)


def _matrix_bits(m) -> float:
    """Largest numeric-coefficient size (bits) among the entries of a matrix."""
    return max((_numeric_bits(e) for e in m if isinstance(e, sympy.Basic)), default=0.0)


def _mul_all(factors):
    return factors[0] if len(factors) == 1 else sympy.Mul(*factors)


def add(a, b, sign=1):
    if ME.is_matexpr(a) or ME.is_matexpr(b):
        return ME.add(a, b, sign)
    if _is_mat(a) or _is_mat(b):
        if _is_mat(a) and _is_mat(b):
            if a.shape != b.shape:
                raise ShapeError(f"cannot add shapes {a.shape} and {b.shape}")
            return Matrix(a + (b if sign > 0 else -b))
        return _apply(lambda u, v: u + sign * v, a, b)
    return a + b if sign > 0 else a - b


def mul(a, b):
    if ME.is_matexpr(a) or ME.is_matexpr(b):
        return ME.mul(a, b)
    if _is_mat(a) and _is_mat(b):
        if a.shape != b.shape:
            raise ShapeError(
                f"'*' multiplies entry by entry and needs equal shapes, got {a.shape} and "
                f"{b.shape}; use '@' for the matrix product or dot(u, v) for the inner product"
            )
        return _apply(mul, a, b)
    if _is_mat(a) or _is_mat(b):
        return _apply(mul, a, b)
    _check_product(a, b)
    return a * b


def div(a, b):
    if ME.is_matexpr(a) or ME.is_matexpr(b):
        return ME.div(a, b)
    if isinstance(b, sympy.Expr) and b.is_zero:
        raise ArgumentError("division by zero")
    if _is_mat(a) or _is_mat(b):
        if _is_mat(a) and _is_mat(b) and a.shape != b.shape:
            raise ShapeError(f"'/' divides entry by entry; shapes {a.shape} and {b.shape} differ")
        return _apply(lambda u, v: u / v, a, b)
    return a / b


def matmul(a, b):
    if ME.is_matexpr(a) or ME.is_matexpr(b):
        return ME.mul(a, b)
    if not (_is_mat(a) and _is_mat(b)):
        raise ShapeError("'@' is the matrix product of two vectors/matrices; use '*' for scalars")
    n = max(a.shape[0], 2)
    if _matrix_bits(a) + _matrix_bits(b) + math.log2(n) > _max_bits():
        raise LimitError(
            f"the entries of this matrix product would have more than "
            f"{_limits.get_limits().max_digits:,} digits; rescale the matrices, or raise the "
            "limit with symml.set_limits(max_digits=...)"
        )
    if a.shape[1] == 1 and b.shape[1] == 1 and a.shape[0] == b.shape[0]:
        return (a.T * b)[0, 0]  # two vectors: inner product (as NumPy's 1-D @)
    if a.shape[1] != b.shape[0]:
        raise ShapeError(
            f"matrix product of shapes {a.shape} and {b.shape}: inner dimensions "
            f"{a.shape[1]} and {b.shape[0]} differ (vectors are columns; transpose with ')"
        )
    check_entries(a.shape[0] * b.shape[1], "the matrix product")
    return _scalar(Matrix(a * b))


def power(a, b):
    if ME.is_matexpr(a) or ME.is_matexpr(b):
        return ME.power(a, b)
    if _is_mat(b):
        raise ShapeError("an exponent must be a scalar")
    if _is_mat(a):
        return _apply(lambda u: power(u, b), a)
    _check_pow(a, b)
    if a.is_Integer and b.is_Rational and not b.is_Integer and _bits(a) > 1000:
        return _big_root(a, b)
    return a**b


def _big_root(a, b):
    """``a^(p/q)`` of a big integer without SymPy's trial factorization (minutes for
    thousands of digits): exact when ``|a|`` is a perfect q-th power, else kept as a power."""
    if a > 0:
        root, exact = sympy.integer_nthroot(int(a), int(b.q))
        if exact:
            return power(sympy.Integer(root), sympy.Integer(b.p))
    return sympy.Pow(a, b, evaluate=False)


def _as_vec(v, what):
    if not _is_mat(v):
        raise ShapeError(f"{what} needs a vector, got the scalar {v}")
    if v.shape[1] != 1 and v.shape[0] == 1:
        v = v.T
    if v.shape[1] != 1:
        raise ShapeError(f"{what} needs a vector, got a {v.shape[0]}x{v.shape[1]} matrix")
    return v


def dot(u, v):
    u, v = _as_vec(u, "dot"), _as_vec(v, "dot")
    if u.shape != v.shape:
        raise ShapeError(f"dot of vectors of lengths {u.shape[0]} and {v.shape[0]}")
    return sympy.Add(*[mul(a, b) for a, b in zip(u, v)])


def _norm(v):
    if not _is_mat(v):
        return sympy.Abs(v)
    return sympy.sqrt(sympy.Add(*[e**2 for e in v]))


def _norm_ord(v, ord):
    """norm(v, 1), norm(v, 2), norm(v, inf), norm(A, fro): symml.linalg.norm."""
    from .. import linalg

    if isinstance(ord, sympy.Symbol) and ord.name == "fro":
        key = "fro"
    elif ord == sympy.oo:
        key = "inf"
    elif ord in (1, 2):
        key = int(ord)
    else:
        raise ArgumentError(f"norm(x, ord): ord must be 1, 2, inf or fro, got {ord}")
    if not _is_mat(v):
        raise ShapeError(f"norm(x, {ord}) needs a vector or a matrix, got the scalar {v}")
    return linalg.norm(v, key)


def _sum(v):
    return sympy.Add(*list(v)) if _is_mat(v) else v


def _mean(v):
    return sympy.Add(*list(v)) / len(v) if _is_mat(v) else v


def _square(m, what):
    if not _is_mat(m):
        raise ShapeError(f"{what} needs a square matrix, got the scalar {m}")
    if m.shape[0] != m.shape[1]:
        raise ShapeError(
            f"{what} needs a square matrix, got a {m.shape[0]}x{m.shape[1]} matrix; for a "
            "non-square matrix use pinv or singular_values"
        )
    return m


def _inv(m):
    """The inverse of an explicit square matrix; a singular one is an error suggesting pinv."""
    m = _square(m, "inv")
    try:
        return Matrix(m.inv())
    except sympy.matrices.exceptions.NonInvertibleMatrixError:
        raise ArgumentError(
            f"inv: the {m.shape[0]}x{m.shape[0]} matrix is singular (its determinant is 0), so "
            "it has no inverse; use pinv(A) for the Moore-Penrose pseudoinverse"
        ) from None


def _outer(u, v):
    check_entries(len(u) * len(v), "outer(u, v)")
    return Matrix(len(u), len(v), lambda i, j: mul(u[i], v[j]))


# ---------------------------------------------------------------------------------------
# numbers


def _number(text: str) -> sympy.Rational:
    mant, _, exp = text.lower().partition("e")
    if exp and abs(int(exp)) > MAX_EXPONENT:
        raise LimitError(
            f"number {text} has an exponent beyond ±{MAX_EXPONENT}; rescale the formula"
        )
    if len(mant) > 4000:
        raise LimitError(f"number literal of {len(mant):,} digits is too long (limit 4,000)")
    if mant.isdigit() and not exp:
        n = sympy.Integer(int(mant))
    else:
        f = Fraction(text)
        n = sympy.Rational(f.numerator, f.denominator)
    if _bits(n) > _max_bits():
        raise LimitError(
            f"number {text[:20]}... is too large (limit {_limits.get_limits().max_digits:,} "
            "digits); raise it with symml.set_limits(max_digits=...)"
        )
    return n


