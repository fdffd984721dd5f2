"""The one differentiation engine of symml.

Design: forward-mode differentiation memoized over the expression DAG. A SymPy expression
is a tree whose equal subtrees are (mostly) the same objects; the engine derives
``d node / d var`` once per distinct ``(node, var)`` pair and keeps the results in a
:class:`Context` (memo tables per call, never module globals). A gradient therefore derives
each shared piece once per variable, and a Hessian, the Jacobian of that gradient, reuses
the gradient's own pieces (the derivatives of ``sigmoid(z)``, of the hidden activations,
...) instead of re-deriving the whole tree for each of its ``n(n+1)/2`` entries. The walk
is iterative (explicit stack), so depth-500 compositions and 10^4-term sums do not hit
Python's recursion limit.

Rules are applied only where they are exactly SymPy's own: sums, products, powers and
functions whose derivative SymPy defines through ``fdiff`` (the elementary functions and
symml's ``sigmoid``, ``softplus``, ``relu``). Everything else (``Abs``, ``sign``,
``Piecewise``, ``Max``, ``floor``, ``Derivative`` ...) is handed to ``sympy.diff`` for that
node, so the result always equals SymPy's derivative in value (and is SymPy's own
expression wherever a rule is not applied).

Why not reverse mode: SymPy expression construction, not the number of rule applications,
dominates the cost; forward mode over a memoized DAG builds each derivative node once and
keeps results as ordinary SymPy expressions that print, simplify and compile like any
other. Compilation (CSE) then shares the common pieces of value, gradient and Hessian.

>>> import sympy
>>> x, y = sympy.symbols("x y", real=True)
>>> ctx = Context()
>>> ctx.diff(sympy.sin(x * y) + x**2, x)
2*x + y*cos(x*y)
>>> gradient(x**2 * y, [x, y])
[2*x*y, x**2]
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy
from sympy.core.function import AppliedUndef, ArgumentIndexError

from .functions import relu, sigmoid, softplus

__all__ = ["Context", "derivative", "gradient", "jacobian", "hessian", "hvp"]

_ZERO, _ONE = sympy.S.Zero, sympy.S.One

#: functions whose derivative is exactly ``fdiff(i) * d(arg_i)`` (SymPy's own chain rule)
_FDIFF = (
    sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc,
    sympy.asin, sympy.acos, sympy.atan, sympy.acot, sympy.sinh, sympy.cosh, sympy.tanh,
    sympy.coth, sympy.asinh, sympy.acosh, sympy.atanh, sympy.erf, sympy.erfc, sympy.loggamma,
    sympy.gamma, sympy.polygamma, sympy.digamma, sigmoid, softplus, relu,
)  # fmt: skip


class _NoRule(Exception):
    """Internal: a node none of the engine's rules covers exactly."""


class Context:
    """Memo tables for one differentiation job (a gradient, a Hessian, a Jacobian...).

    ``free(e)`` caches free-symbol sets bottom-up; ``diff(e, v)`` caches derivatives per
    ``(node, v)``. Reusing one context across the entries of a Hessian is what makes it fast.
    """

    def __init__(self) -> None:
        self._free: dict = {}
        self._d: dict = {}

    # -- free symbols, memoized (Basic.free_symbols recomputes the union on every call) -------
    def free(self, e) -> frozenset:
        memo = self._free
        if e in memo:
            return memo[e]
        stack = [(e, False)]
        while stack:
            node, ready = stack.pop()
            if node in memo:
                continue
            if node.is_Symbol:
                memo[node] = frozenset((node,))
                continue
            if not node.args or isinstance(node, (sympy.Derivative, sympy.Integral, sympy.Subs,
                                                   sympy.Sum, sympy.Product, sympy.Lambda)):  # fmt: skip
                memo[node] = frozenset(node.free_symbols)
                continue
            if ready:
                out: frozenset = frozenset()
                for a in node.args:
                    out |= memo[a]
                memo[node] = out
            else:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args if a not in memo)
        return memo[e]

    # -- derivatives ------------------------------------------------------------------------
    def diff(self, e, v):
        """``d e / d v`` (exact, equal to ``sympy.diff(e, v)``)."""
        return self._forward(e, v, {v: _ONE})

    def directional(self, e, seed: dict):
        """``sum_j (d e / d x_j) * seed[x_j]``: the derivative of ``e`` along a direction,
        in one forward pass (never the separate partials)."""
        return self._forward(e, ("dir", tuple(seed.items())), dict(seed))

    def _forward(self, e, key, seed: dict):
        if not isinstance(e, sympy.Basic):
            e = sympy.sympify(e)  # a Python number from our own code, never user text
        memo = self._d
        wrt = frozenset(seed)
        if (e, key) in memo:
            return memo[(e, key)]
        stack = [(e, False)]
        while stack:
            node, ready = stack.pop()
            k = (node, key)
            if k in memo:
                continue
            if not (wrt & self.free(node)):
                memo[k] = _ZERO
                continue
            if node in seed:
                memo[k] = seed[node]
                continue
            kids = self._children(node)
            if kids is None:  # not one of our rules: SymPy derives this node itself
                memo[k] = self._by_sympy(node, seed)
                continue
            if ready:
                try:
                    memo[k] = self._combine(node, key)
                except _NoRule:
                    memo[k] = self._by_sympy(node, seed)
            else:
                stack.append((node, True))
                stack.extend((a, False) for a in kids if (a, key) not in memo)
        return memo[(e, key)]

    def _by_sympy(self, node, seed: dict):
        free = self.free(node)
        return sympy.Add(*[sympy.diff(node, x) * t for x, t in seed.items() if x in free])

    def _children(self, node):
        if node.is_Add or node.is_Mul or node.is_Pow:
            return node.args
        if isinstance(node, _FDIFF) and not isinstance(node, AppliedUndef):
            return node.args
        return None

    def _combine(self, node, key):
        memo = self._d
        args = node.args
        if node.is_Add:
            return sympy.Add(*[memo[(a, key)] for a in args])
        if node.is_Mul:
            terms = []
            for i, a in enumerate(args):
                da = memo[(a, key)]
                if da != 0:
                    terms.append(sympy.Mul(*args[:i], da, *args[i + 1 :]))
            return sympy.Add(*terms)
        if node.is_Pow:
            b, p = args
            db, dp = memo[(b, key)], memo[(p, key)]
            # SymPy's own formula, built the same way, so results agree term for term
            return node * (dp * sympy.log(b) + db * p / b)
        terms = []
        for i, a in enumerate(args):
            da = memo[(a, key)]
            if da == 0:
                continue
            try:
                terms.append(node.fdiff(i + 1) * da)
            except ArgumentIndexError:  # no partial for this argument: SymPy takes the node
                raise _NoRule from None
        return sympy.Add(*terms)


def derivative(e, v, ctx: Context | None = None):
    """``d e / d v`` through a (new or given) context.

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> derivative(sympy.exp(x**2), x)
    2*x*exp(x**2)
    """
    return (ctx or Context()).diff(e, v)


def gradient(f, vars: Sequence, ctx: Context | None = None) -> list:
    """``[d f / d v for v in vars]``, sharing one context."""
    ctx = ctx or Context()
    return [ctx.diff(f, v) for v in vars]


def jacobian(F: Sequence, vars: Sequence, ctx: Context | None = None) -> list[list]:
    """Rows ``d F_i / d v_j``, sharing one context across every entry."""
    ctx = ctx or Context()
    return [[ctx.diff(e, v) for v in vars] for e in F]


def hessian(f, vars: Sequence, ctx: Context | None = None) -> list[list]:
    """The Hessian as the Jacobian of the gradient: each entry on and above the diagonal
    derived once (mixed partials of the smooth rules commute), sharing one context.

    >>> import sympy
    >>> x, y = sympy.symbols("x y", real=True)
    >>> hessian(x**2 * y + y**3, [x, y])
    [[2*y, 2*x], [2*x, 6*y]]
    """
    ctx = ctx or Context()
    g = gradient(f, vars, ctx)
    n = len(vars)
    H = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            H[i][j] = H[j][i] = ctx.diff(g[i], vars[j])
    return H


def hvp(f, vars: Sequence, direction: Sequence, ctx: Context | None = None) -> list:
    """The Hessian-vector product ``H v`` as the directional derivative of the gradient
    along ``v``, one forward pass per gradient entry: its size grows like the gradient's and
    the Hessian is never assembled.

    >>> import sympy
    >>> x, y, u, w = sympy.symbols("x y u w", real=True)
    >>> hvp(x**2 * y, [x, y], [u, w])
    [2*u*y + 2*w*x, 2*u*x]
    """
    ctx = ctx or Context()
    seed = dict(zip(vars, direction, strict=True))
    return [ctx.directional(gi, seed) for gi in gradient(f, vars, ctx)]
