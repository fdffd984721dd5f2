"""The one boundary helper: user input (language text or SymPy) -> SymPy, converted once.

Text always goes through the symml grammar; nothing here calls eval, sympify or parse_expr
on user text.
"""

from __future__ import annotations

import numbers
import re
import sys
from collections.abc import Iterable, Mapping

import mpmath
import sympy

from .errors import ArgumentError
from .symbols import ElementSymbol, components_of, symbol

__all__ = [
    "as_expr", "as_exprs", "as_relation", "as_symbols", "as_symbol", "free_symbols", "to_sympy",
]  # fmt: skip


def to_sympy(obj):
    """An internal value as a SymPy object, like ``sympy.sympify`` but never from text.

    SymPy objects pass through; Python and NumPy numbers, bools, mpmath numbers, lists and
    tuples are converted; a ``str`` is a TypeError (text reaches SymPy only through the
    language, :func:`as_expr`).

    >>> to_sympy(2), to_sympy(0.5), to_sympy([1, 2])
    (2, 0.500000000000000, (1, 2))
    """
    if isinstance(obj, sympy.Basic):
        return obj
    if isinstance(obj, sympy.MatrixBase):
        return sympy.ImmutableMatrix(obj)
    np = sys.modules.get("numpy")  # numpy values exist only once numpy is imported
    if isinstance(obj, bool) or (np is not None and isinstance(obj, np.bool_)):
        return sympy.true if obj else sympy.false
    if isinstance(obj, numbers.Integral):  # numpy registers its scalar types with numbers
        return sympy.Integer(int(obj))
    if isinstance(obj, numbers.Rational):
        return sympy.Rational(obj.numerator, obj.denominator)
    if isinstance(obj, numbers.Real):
        return sympy.Float(float(obj))
    if isinstance(obj, numbers.Complex):
        c = complex(obj)
        return sympy.Float(c.real) + sympy.I * sympy.Float(c.imag)
    if isinstance(obj, (mpmath.mpf, mpmath.mpc)):
        return sympy.Float(obj) if isinstance(obj, mpmath.mpf) else sympy.Float(obj.real) + sympy.I * sympy.Float(obj.imag)
    if isinstance(obj, (list, tuple)):
        return sympy.Tuple(*[to_sympy(o) for o in obj])
    if isinstance(obj, str):
        raise TypeError("text reaches SymPy only through the symml language (as_expr)")
    raise TypeError(f"cannot convert {type(obj).__name__} to a SymPy object")


def as_expr(f, namespace: Mapping | None = None):
    """Language text, a SymPy object, a number or a nested list -> SymPy (Expr or Matrix).

    >>> as_expr("x^2/4")
    x**2/4
    >>> as_expr(3)
    3
    """
    if isinstance(f, str):
        from .lang import expr as _expr

        return _expr(f, namespace=namespace)
    if isinstance(f, sympy.MatrixBase):
        return sympy.ImmutableMatrix(f)
    if isinstance(f, sympy.Basic):
        return f
    if isinstance(f, bool):
        raise ArgumentError(f"expected an expression, got {f!r}")
    if isinstance(f, numbers.Integral):
        return sympy.Integer(int(f))
    if isinstance(f, numbers.Real):
        return sympy.Float(float(f))
    np = sys.modules.get("numpy")
    if np is not None and isinstance(f, np.ndarray) and f.dtype != object and f.ndim in (1, 2):
        return sympy.ImmutableMatrix(f.tolist())
    if isinstance(f, (list, tuple)):
        items = [as_expr(e, namespace) for e in f]
        if items and all(isinstance(i, sympy.MatrixBase) and i.shape[1] == 1 for i in items):
            return sympy.ImmutableMatrix([list(i) for i in items])
        return sympy.ImmutableMatrix(items)
    raise ArgumentError(
        f"expected language text or a SymPy expression, got {type(f).__name__}: {f!r}"
    )


def as_exprs(fs, namespace: Mapping | None = None) -> list:
    """A single expression or a list of them -> list of SymPy objects."""
    if isinstance(fs, (list, tuple)):
        return [as_expr(f, namespace) for f in fs]
    return [as_expr(fs, namespace)]


def as_relation(c, namespace: Mapping | None = None) -> sympy.core.relational.Relational:
    """A constraint as text (``"x^2 + y^2 == 1"``, ``"x + y <= 2"``, ``"x + y = 1"``) or SymPy.

    >>> as_relation("x + y <= 2")
    x + y <= 2
    >>> as_relation("x + y = 1")
    Eq(x + y, 1)
    """
    if isinstance(c, str):
        text = c
        # a single '=' (not part of ==, <=, >=, !=) means an equation in a constraint
        if re.search(r"(?<![=<>!])=(?!=)", text):
            text = re.sub(r"(?<![=<>!])=(?!=)", "==", text, count=1)
        rel = as_expr(text, namespace)
    else:
        rel = c
    if not isinstance(rel, sympy.core.relational.Relational) or isinstance(
        rel, sympy.core.relational.Unequality
    ):
        raise ArgumentError(
            f"expected a constraint such as 'x + y == 1' or 'x^2 <= 4', got {c!r}"
        )
    return rel


def free_symbols(exprs) -> set:
    out: set = set()
    for e in exprs if isinstance(exprs, (list, tuple)) else [exprs]:
        if isinstance(e, (sympy.Basic, sympy.MatrixBase)):
            out |= e.free_symbols
    return out


def as_symbol(v, exprs=()) -> sympy.Symbol:
    """One scalar variable (name or Symbol), matched against symbols in ``exprs``."""
    syms = as_symbols(v, exprs)
    if len(syms) != 1:
        raise ArgumentError(f"expected one scalar variable, got {len(syms)}: {v!r}")
    return syms[0]


def as_symbols(vars, exprs=()) -> list[sympy.Symbol]:
    """Variables -> a flat list of scalar symbols.

    Accepts ``"x"``, ``"x, y"`` or ``"x y"``, a Symbol, a vector name ``"w"`` (expanded to
    ``w[0], w[1], ...`` as found in ``exprs``), ``"w[1]"``, lists of those, a Matrix of
    symbols, or a mapping (its values if they are declarations, else its keys).

    >>> import symml as sm
    >>> w = sm.vector("w", 2)
    >>> as_symbols(["w", "b"], [w[0] + w[1]])
    [w[0], w[1], b]
    """
    exprs = exprs if isinstance(exprs, (list, tuple)) else [exprs]
    pool = free_symbols(exprs)
    out: list[sympy.Symbol] = []
    for item in _iter_vars(vars):
        if isinstance(item, sympy.Symbol):
            out.append(item)
        elif isinstance(item, sympy.MatrixBase):
            for e in item:
                if not isinstance(e, sympy.Symbol):
                    raise ArgumentError(f"expected variables, got {e}")
                out.append(e)
        elif isinstance(item, str):
            out.extend(_resolve_name(item, pool, exprs))
        else:
            raise ArgumentError(f"expected a variable name or Symbol, got {item!r}")
    if len(set(out)) != len(out):
        raise ArgumentError(f"a variable appears twice in {[str(s) for s in out]}")
    return out


def _iter_vars(vars):
    if isinstance(vars, (str, sympy.Basic, sympy.MatrixBase)):
        yield vars
        return
    if isinstance(vars, Mapping):
        for k, v in vars.items():
            syms = getattr(v, "symbols", None)
            yield syms if syms is not None else k
        return
    if isinstance(vars, Iterable):
        for v in vars:
            yield from _iter_vars(v)
        return
    raise ArgumentError(f"expected variables, got {vars!r}")


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ELEMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[\s*(\d+)\s*(?:,\s*(\d+)\s*)?\]$")


def _resolve_name(text: str, pool: set, exprs) -> list[sympy.Symbol]:
    text = text.strip()
    m = _ELEMENT.match(text)
    if m:
        for s in pool:
            if isinstance(s, ElementSymbol) and s.name.replace(" ", "") == text.replace(" ", ""):
                return [s]
        raise ArgumentError(f"'{text}' does not appear in the expression")
    if not _NAME.match(text):
        parts = [p for p in re.split(r"[,\s]+", text) if p]
        if len(parts) > 1:
            return [s for p in parts for s in _resolve_name(p, pool, exprs)]
        raise ArgumentError(f"'{text}' is not a variable name")
    for s in pool:
        if type(s) is sympy.Symbol and s.name == text:
            return [s]
    vec = components_of(text, exprs)
    if vec is not None:
        return list(vec)
    for s in pool:
        if isinstance(s, sympy.Dummy) and s.name == text:
            return [s]
    return [symbol(text)]
