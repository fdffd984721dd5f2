"""SymPy -> symml language text (round-trippable) and LaTeX.

>>> import sympy
>>> x = sympy.Symbol("x", real=True)
>>> to_text(x**2*sympy.exp(1) + sympy.Rational(1, 4)*x)
'exp(1)*x^2 + x/4'
"""

from __future__ import annotations

import sys

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

from .._limits import budgeted, get_limits
from ..errors import LimitError, SymmlError

__all__ = ["to_text", "to_latex", "SymmlPrinter"]


def _digits(n: int) -> int:
    """Decimal digits of ``n`` (within one), without converting it to text."""
    return int(abs(n).bit_length() * 0.30102999566398120) + 1


def _check_printable(n: int) -> None:
    """Refuse integers too long to print (Python itself refuses text of more than 4,300
    digits, and converts longer ones in quadratic time)."""
    digits = _digits(n)
    if digits > max(get_limits().max_digits, 4300) or digits >= sys.get_int_max_str_digits() > 0:
        raise LimitError(
            f"a number of about {digits:,} digits is too long to print (limit "
            f"{get_limits().max_digits:,} digits); print it rounded with evalf, or raise the "
            "limit with symml.set_limits(max_digits=...)"
        )


class _Guarded:
    """Printer mix-in: numbers too long to print are a LimitError, not a ValueError."""

    def _print_Integer(self, expr, *args, **kwargs):
        _check_printable(int(expr))
        parent = getattr(super(), "_print_Integer", None) or super()._print_Rational
        return parent(expr, *args, **kwargs)

    def _print_Rational(self, expr, *args, **kwargs):
        _check_printable(int(expr.p))
        _check_printable(int(expr.q))
        return super()._print_Rational(expr, *args, **kwargs)


class _SymmlLatexPrinter(_Guarded, LatexPrinter):
    pass


class SymmlPrinter(_Guarded, StrPrinter):
    """Prints SymPy objects in the symml language: ``^`` for powers, ``exp(1)`` for e,
    ``inf``, ``[a, b]`` vectors, ``w[0]`` components, ``==`` equations."""

    printmethod = "_symmltext"

    def _print_Pow(self, expr, rational=False):
        PREC = precedence(expr)
        if expr.exp is sympy.S.Half and not rational:
            return f"sqrt({self._print(expr.base)})"
        if expr.is_commutative:
            if -expr.exp is sympy.S.Half and not rational:
                return f"1/sqrt({self._print(expr.base)})"
            if expr.exp is sympy.S.NegativeOne:
                return f"1/{self.parenthesize(expr.base, PREC, strict=False)}"
        e = self.parenthesize(expr.exp, PREC, strict=False)
        if expr.exp.is_Rational and expr.exp.q != 1 or e.startswith("-"):
            e = f"({self._print(expr.exp)})" if not e.startswith("(") else e
        return f"{self.parenthesize(expr.base, PREC, strict=False)}^{e}"

    def _print_Mul(self, expr):
        # '-(x + y)*z' would parse as (-x - y)*z: the sign must wrap the whole product
        c, _ = expr.as_coeff_Mul()
        if c.is_Rational and c.q != 1 and any(
            f.is_Pow and f.exp.is_negative and f.base.is_Add for f in expr.args
        ):
            # '1/(2*(x + y))' would parse as 1/(2*x + 2*y): divide by the number last
            return f"{self._print(c.p * (expr / c))}/{c.q}"
        return super()._print_Mul(expr)

    def _print_Exp1(self, expr):
        return "exp(1)"

    def _print_Infinity(self, expr):
        return "inf"

    def _print_NegativeInfinity(self, expr):
        return "-inf"

    def _print_ImaginaryUnit(self, expr):  # 'I' is an ordinary name in the language
        return "sqrt(-1)"

    def _print_ComplexInfinity(self, expr):
        return "zoo"

    def _print_NaN(self, expr):
        return "nan"

    def _print_BooleanTrue(self, expr):
        return "0 == 0"

    def _print_BooleanFalse(self, expr):
        return "0 == 1"

    def _print_DiracDelta(self, expr):
        return f"dirac({', '.join(self._print(a) for a in expr.args)})"

    def _print_Piecewise(self, expr):
        parts = []
        for value, cond in expr.args:
            parts.append(self._print(value))
            if cond is not sympy.true or (value, cond) != expr.args[-1]:
                parts.append(self._condition(cond))
        return f"piecewise({', '.join(parts)})"

    def _condition(self, cond):
        """A condition as the language reads it: and(...), or(...), not(...)."""
        if isinstance(cond, (sympy.And, sympy.Or, sympy.Not)):
            name = type(cond).__name__.lower()
            return f"{name}({', '.join(self._condition(c) for c in cond.args)})"
        return self._print(cond)

    def _print_Subs(self, expr):
        pairs = ", ".join(
            f"{self._print(v)} = {self._print(p)}" for v, p in zip(expr.variables, expr.point)
        )
        return f"subs({self._print(expr.expr)}, {pairs})"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr):
        x, h0 = expr.args[0], expr.pargs[1] if len(expr.pargs) > 1 else expr.args[-1]
        if h0 == 0:
            return f"heaviside({self._print(x)})"
        return f"heaviside({self._print(x)}, {self._print(h0)})"

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_ceiling(self, expr):
        return f"ceil({self._print(expr.args[0])})"

    def _print_MatrixBase(self, expr):
        if expr.shape[1] == 1:
            return "[" + ", ".join(self._print(e) for e in expr) + "]"
        rows = ["[" + ", ".join(self._print(e) for e in expr.row(i)) + "]" for i in range(expr.rows)]
        return "[" + ", ".join(rows) + "]"

    _print_ImmutableMatrix = _print_MatrixBase
    _print_MutableDenseMatrix = _print_MatrixBase
    _print_ImmutableDenseMatrix = _print_MatrixBase

    def _print_Relational(self, expr):
        op = {"==": "==", "<=": "<=", ">=": ">=", "<": "<", ">": ">", "!=": "!="}[expr.rel_op]
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_Derivative(self, expr):
        parts = [self._print(expr.expr)]
        for v, n in expr.variable_count:
            parts.append(self._print(v))
            if n != 1:
                parts.append(str(n))
        return f"diff({', '.join(parts)})"

    def _print_Integral(self, expr):
        parts = [self._print(expr.function)]
        for lim in expr.limits:
            parts.extend(self._print(x) for x in lim)
        return f"integrate({', '.join(parts)})"

    def _print_Dummy(self, expr):
        return expr.name

    # -- display forms used in derivations (indexed sums, matrix expressions) ----------------
    def _print_Indexed(self, expr):
        return f"{self._print(expr.base)}[{', '.join(self._print(i) for i in expr.indices)}]"

    def _print_IndexedBase(self, expr):
        return self._print(expr.label)

    def _print_Sum(self, expr):
        return self._big_operator("sum", expr)

    def _print_Product(self, expr):
        return self._big_operator("prod", expr)

    def _big_operator(self, name, expr):
        body = self._print(expr.function)
        if expr.function.is_Add:
            body = f"({body})"
        ranges = ", ".join(
            f"{self._print(v)} = {self._print(lo)}..{self._print(hi)}" for v, lo, hi in expr.limits
        )
        return f"{name}[{ranges}] {body}"

    def _print_And(self, expr):
        args = list(expr.args)
        if len(args) == 2 and all(isinstance(a, sympy.core.relational.Relational) for a in args):
            first, second = sorted(args, key=lambda r: 0 if r.rhs in (args[0].lhs, args[1].lhs) else 1)
            if first.rhs == second.lhs and first.rel_op == second.rel_op and first.rel_op in ("<", "<="):
                op = first.rel_op
                return f"{self._print(first.lhs)} {op} {self._print(first.rhs)} {op} {self._print(second.rhs)}"
        return " and ".join(self._print(a) for a in args)

    def _print_Transpose(self, expr):
        arg = expr.arg
        inner = self._print(arg)
        if not (arg.is_Symbol or isinstance(arg, sympy.MatrixSymbol)):
            inner = f"({inner})"
        return f"{inner}'"

    def _print_Identity(self, expr):
        return "I"

    # matrix expressions of symbolic size (``matrix A[n, n]``), as the language writes them
    def _print_Trace(self, expr):
        return f"trace({self._print(expr.arg)})"

    def _print_Determinant(self, expr):
        return f"det({self._print(expr.arg)})"

    def _print_Inverse(self, expr):
        return f"inv({self._print(expr.arg)})"

    def _print_MatPow(self, expr):
        base, exp = expr.args
        inner = self._print(base)
        if not isinstance(base, sympy.MatrixSymbol):
            inner = f"({inner})"
        return f"{inner}^{self._print(exp)}"

    def _print_MatrixElement(self, expr):
        parent = self._print(expr.parent)
        if not isinstance(expr.parent, sympy.MatrixSymbol):
            parent = f"({parent})"
        if expr.parent.shape[1] == 1 and expr.j == 0:
            return f"{parent}[{self._print(expr.i)}]"
        return f"{parent}[{self._print(expr.i)}, {self._print(expr.j)}]"

    def _print_MatMul(self, expr):
        c, mats = expr.as_coeff_matrices()
        parts = [self.parenthesize(m, precedence(expr)) for m in mats]
        text = "*".join(parts)
        if c == -1:
            return f"-{text}"
        if c != 1:
            return f"{self.parenthesize(c, precedence(expr))}*{text}"
        return text

    def _print_Lambda(self, expr):
        args = ", ".join(self._print(v) for v in expr.variables)
        return f"({args}) -> {self._print(expr.expr)}"


_PRINTER = SymmlPrinter({"order": None})


def _printing(fn):
    """Printing errors are SymmlErrors: SymPy's printers raise ValueError or TypeError on
    odd objects (and Python on numbers too long to print)."""
    import functools

    @functools.wraps(fn)
    def wrapper(expr, *args, **kwargs):
        old = sys.get_int_max_str_digits()
        wanted = get_limits().max_digits + 10
        try:
            if 0 < old < wanted:  # numbers allowed by max_digits must also print
                sys.set_int_max_str_digits(wanted)
            return fn(expr, *args, **kwargs)
        except SymmlError:
            raise
        except (ValueError, TypeError, AttributeError, KeyError, NotImplementedError) as exc:
            raise SymmlError(
                f"cannot print this {type(expr).__name__} ({type(exc).__name__}: {exc})"
            ) from None
        finally:
            if sys.get_int_max_str_digits() != old:
                sys.set_int_max_str_digits(old)

    return wrapper


@budgeted("to_text")
@_printing
def to_text(expr) -> str:
    """Print a SymPy object (or a list/dict of them) in the symml language.

    >>> import symml as sm
    >>> sm.to_text(sm.expr("0.25*x^2 - 3"))
    'x^2/4 - 3'
    """
    if isinstance(expr, dict):
        return "{" + ", ".join(f"{to_text(k)}: {to_text(v)}" for k, v in expr.items()) + "}"
    if isinstance(expr, (list, tuple)):
        return "[" + ", ".join(to_text(e) for e in expr) + "]"
    if isinstance(expr, int) and not isinstance(expr, bool):
        _check_printable(expr)
        return repr(expr)
    if isinstance(expr, float):
        return repr(expr)
    return _PRINTER.doprint(expr)


@budgeted("to_latex")
@_printing
def to_latex(expr, **settings) -> str:
    """LaTeX for a SymPy object (Greek names as Greek, ``w[0]`` as ``w_{0}``).

    >>> import symml as sm
    >>> sm.lang.to_latex(sm.expr("sigmoid(alpha*x)"))
    '\\\\sigma\\\\left(\\\\alpha x\\\\right)'
    """
    return _SymmlLatexPrinter(settings).doprint(expr)
