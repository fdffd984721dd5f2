"""Symbols of symml: real by default, and components of declared vectors and matrices.

A declared vector ``param w[3]`` is a column of three :class:`ElementSymbol` objects named
``w[0]``, ``w[1]``, ``w[2]``. Each one knows its vector's name, its index and the vector's
shape, so any code that receives an expression (compile, grad, minimize, fit) can gather
whole vectors by name without a side table.

>>> w = vector("w", 3)
>>> w[1], w[1].vector, w[1].index, w[1].shape
(w[1], 'w', (1,), (3,))
>>> w[1].is_real
True
"""

from __future__ import annotations

from collections.abc import Iterable

import sympy

__all__ = ["ElementSymbol", "symbol", "vector", "matrix", "components_of", "is_element"]


def symbol(name: str, **assumptions) -> sympy.Symbol:
    """A scalar symbol, real unless assumptions say otherwise.

    >>> symbol("x").is_real, symbol("s", positive=True).is_positive
    (True, True)
    """
    if not any(k in assumptions for k in ("real", "complex", "commutative")):
        assumptions["real"] = True
    return sympy.Symbol(name, **assumptions)


class ElementSymbol(sympy.Symbol):
    """Component ``name[i]`` (or ``name[i, j]``) of a declared vector or matrix.

    >>> W = ElementSymbol("W", (1, 2), (2, 3))
    >>> W, W.vector, W.index, W.shape
    (W[1, 2], 'W', (1, 2), (2, 3))

    Equality and hashing include the container's shape, so ``w[0]`` of a 3-vector and
    ``w[0]`` of a 4-vector are different symbols.
    """

    __slots__ = ("vector", "index", "shape")

    def __new__(cls, vector: str, index, shape, **assumptions):
        index = tuple(int(i) for i in (index if isinstance(index, Iterable) else (index,)))
        shape = tuple(int(s) for s in (shape if isinstance(shape, Iterable) else (shape,)))
        if len(index) != len(shape):
            raise ValueError(f"index {index} does not fit shape {shape}")
        if not any(k in assumptions for k in ("real", "complex", "commutative")):
            assumptions["real"] = True
        name = f"{vector}[{', '.join(map(str, index))}]"
        cls._sanitize(assumptions, cls)
        obj = sympy.Symbol.__xnew__(cls, name, **assumptions)
        obj.vector = vector
        obj.index = index
        obj.shape = shape
        return obj

    def __getnewargs_ex__(self):
        return ((self.vector, self.index, self.shape), self._assumptions_orig)

    def _hashable_content(self):
        return sympy.Symbol._hashable_content(self) + (self.shape,)

    @sympy.core.cache.cacheit
    def sort_key(self, order=None):
        return self.class_key(), (2, (self.vector, self.index)), sympy.S.One.sort_key(), sympy.S.One

    def _latex(self, printer):
        base = printer._print(sympy.Symbol(self.vector))
        return f"{base}_{{{','.join(map(str, self.index))}}}"

    def _sympystr(self, printer):
        return self.name


def is_element(s) -> bool:
    """True for a component of a declared vector or matrix."""
    return isinstance(s, ElementSymbol)


def vector(name: str, n: int, **assumptions) -> sympy.Matrix:
    """Column vector of ``n`` real component symbols ``name[0] ... name[n-1]``.

    >>> vector("w", 2).T
    Matrix([[w[0], w[1]]])"""
    return sympy.Matrix([ElementSymbol(name, (i,), (n,), **assumptions) for i in range(n)])


def matrix(name: str, rows: int, cols: int, **assumptions) -> sympy.Matrix:
    """``rows`` x ``cols`` matrix of real component symbols ``name[i, j]``.

    >>> matrix("A", 2, 2)
    Matrix([
    [A[0, 0], A[0, 1]],
    [A[1, 0], A[1, 1]]])"""
    return sympy.Matrix(
        rows, cols, lambda i, j: ElementSymbol(name, (i, j), (rows, cols), **assumptions)
    )


def components_of(name: str, exprs) -> sympy.Matrix | None:
    """The whole vector/matrix called ``name`` whose components appear in ``exprs``.

    Returns None when no component of that name appears. The shape comes from the
    components themselves, so components that do not appear are filled in too.

    >>> w = vector("w", 3)
    >>> components_of("w", [w[0] + 1]).T
    Matrix([[w[0], w[1], w[2]]])
    """
    for e in _iter_exprs(exprs):
        for s in e.free_symbols:
            if isinstance(s, ElementSymbol) and s.vector == name:
                assumptions = s._assumptions_orig
                if len(s.shape) == 1:
                    return vector(name, s.shape[0], **assumptions)
                return matrix(name, s.shape[0], s.shape[1], **assumptions)
    return None


def _iter_exprs(exprs):
    if isinstance(exprs, (sympy.Basic, sympy.MatrixBase)):
        yield exprs
        return
    for e in exprs:
        yield from _iter_exprs(e)
