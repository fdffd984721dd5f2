"""What every backend's printer shares: local names, exact literals, long sums in groups.

Each backend's printer is a SymPy printer subclass (``SciPyPrinter`` for NumPy,
``PythonCodePrinter`` for Numba's scalar kernels, ``JaxPrinter`` for JAX) with this mixin
in front, so the backend differs only in its module table (``exp`` is ``numpy.exp``,
``math.exp`` or ``jax.numpy.exp``) and in how symml's own functions are evaluated
(:data:`symml.functions.NUMERICS`).
"""

from __future__ import annotations

import builtins
import keyword
import linecache
import math
import re
from itertools import count

import sympy
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.precedence import precedence

from ..errors import ArgumentError

__all__ = ["PrinterMixin", "Names", "float_literal", "register_source", "print_or_raise"]

# Sums and products with more terms than this are printed as balanced groups, so that
# neither the printer nor Python's own compiler recurse once per term.
GROUP = 32

PRINTER_SETTINGS = {
    "fully_qualified_modules": True,
    "inline": True,
    "allow_unknown_functions": False,
    "order": "none",
    "strict": True,
}


def float_literal(p: int, q: int, inf: str = "numpy.inf") -> str:
    """The nearest float to ``p/q`` as source text (``inf`` past the float range)."""
    import mpmath

    with mpmath.workprec(60):
        v = float(mpmath.mpf(p) / q)
    if math.isinf(v):
        return inf if v > 0 else f"(-{inf})"
    return repr(v) if v >= 0 else f"({v!r})"


class PrinterMixin:
    """Local names for symbols, exact-to-the-last-bit literals, grouped long sums/products.

    Put it first in the bases: ``class P(PrinterMixin, sympy's printer)``."""

    _inf = "numpy.inf"

    def __init__(self, names: dict, settings: dict | None = None):
        super().__init__(dict(PRINTER_SETTINGS, **(settings or {})))
        self._names = names

    def _print_Symbol(self, expr):
        try:
            return self._names[expr]
        except KeyError:  # pragma: no cover - every symbol is named before printing
            raise ArgumentError(f"compile: internal error, no local name for {expr}") from None

    _print_Dummy = _print_Symbol
    _print_ElementSymbol = _print_Symbol

    def _undefined(self, expr):
        # a constant rewrite (e.g. the safe forms) may leave an undefined value behind (nan
        # itself stays printable: Piecewise uses it as the value outside every condition)
        raise ArgumentError(
            f"compile: the expression contains the undefined value {expr} (complex infinity, "
            "nan or a range of values), so it has no numerical value here; fix the formula"
        )

    _print_ComplexInfinity = _undefined
    _print_AccumulationBounds = _undefined

    def _print_Integer(self, expr):
        if abs(expr.p) > 2**53:
            return float_literal(expr.p, 1, self._inf)
        return str(expr.p)

    def _print_Rational(self, expr):
        # an exact rational beyond float range is its IEEE value (inf or 0), never a Python
        # integer division that overflows at call time
        if max(abs(expr.p), expr.q) > 2**53:
            return float_literal(expr.p, expr.q, self._inf)
        return super()._print_Rational(expr)

    def _minmax(self, expr, fn):
        parts = [self._print(a) for a in expr.args]
        while len(parts) > 1:
            parts = [
                f"{fn}({parts[i]}, {parts[i + 1]})" if i + 1 < len(parts) else parts[i]
                for i in range(0, len(parts), 2)
            ]
        return parts[0]

    def _grouped(self, expr, op: str, base):
        args = list(expr.args)
        if len(args) <= GROUP:
            return base(expr)
        # a last group of one term is that term (Add(t, evaluate=False) is t itself)
        parts = [
            "("
            + (
                base(expr.func(*args[i : i + GROUP], evaluate=False))
                if len(args[i : i + GROUP]) > 1
                else self._print(args[i])
            )
            + ")"
            for i in range(0, len(args), GROUP)
        ]
        while len(parts) > GROUP:
            parts = ["(" + op.join(parts[i : i + GROUP]) + ")" for i in range(0, len(parts), GROUP)]
        return op.join(parts)

    def _print_Add(self, expr, order=None):
        return self._grouped(expr, " + ", self._add)

    def _add(self, expr):
        """``a - b`` rather than ``-b + a``: NumPy would spend a pass on the negation."""
        terms = list(expr.args)
        first = next((t for t in terms if not t.could_extract_minus_sign()), None)
        if first is None:
            return super()._print_Add(expr)
        terms.remove(first)
        prec = precedence(expr)
        out = [self.parenthesize(first, prec)]
        for t in terms:
            if t.could_extract_minus_sign():
                out.append(" - " + self.parenthesize(-t, prec + 1))
            else:
                out.append(" + " + self.parenthesize(t, prec))
        return "".join(out)

    def _print_Mul(self, expr):
        return self._grouped(expr, "*", lambda e: super(PrinterMixin, self)._print_Mul(e))


def print_or_raise(printer, e, backend: str) -> str:
    try:
        return printer._print(e)
    except PrintMethodNotImplementedError as exc:
        raise ArgumentError(
            f"compile: cannot compile {e} to {backend} ({str(exc).splitlines()[0]}); "
            "undefined functions and unevaluated derivatives or integrals have no "
            "numerical form"
        ) from None


_RESERVED = set(dir(builtins)) | {"numpy", "scipy", "math", "jax", "jnp", "numba"}


class Names:
    """Readable, unique Python identifiers for the generated code."""

    def __init__(self):
        self.taken: set = set()

    def fresh(self, hint: str) -> str:
        base = re.sub(r"\W+", "_", hint).strip("_") or "v"
        if base[0].isdigit() or base.startswith("_") or keyword.iskeyword(base):
            base = "v_" + base
        if base in _RESERVED:
            base = base + "_"
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name


_SERIAL = count()


def register_source(source: str, backend: str) -> str:
    """A unique file name for generated ``source``, registered with :mod:`linecache` so a
    traceback through compiled code shows the line that failed."""
    filename = f"<symml.compile:{backend}:{next(_SERIAL)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return filename


def sympy_number(e) -> bool:
    return isinstance(e, sympy.Number)
