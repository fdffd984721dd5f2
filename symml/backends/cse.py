"""Common-subexpression elimination in linear time over the expression DAG (plan stage 6).

The derivatives symml's engine builds are DAGs: a Hessian's 1225 entries share the
gradient's adjoints, and every shared subexpression is *one* SymPy object referenced from
many parents. Finding the common subexpressions is then a matter of counting references,
not of searching: one iterative pass over the distinct nodes counts how many parents (and
outputs) use each node, a second pass, children first, rebuilds every node with its
children replaced and names

* each non-atomic expression used more than once, and
* each node whose rebuilt subtree would be nested deeper than ``max_depth`` (Python's parser
  accepts about 200 nested parentheses, SymPy's printers recurse once per level)

as a temporary, in topological order. Rebuilding uses SymPy's raw constructors
(``Add._from_args``, ``Pow(..., evaluate=False)``): the children are already canonical and
replacing one by a symbol changes nothing a constructor would fix, and this is what makes
the pass linear (``sympy.cse``'s ``tree_cse`` rebuilds with the evaluating constructors,
which re-flatten and re-sort every product; its ``opt_cse`` also looks for common sub-sums
across different sums, which is superlinear).

Both passes are iterative, so a chain of 500 nested functions or a sum of 10^4 terms
costs no recursion.

>>> import sympy
>>> x, y = sympy.symbols("x y")
>>> e = sympy.sin(x + y)
>>> repl, out = cse_dag([e**2, sympy.cos(e)], (sympy.Symbol(f"t{i}") for i in range(9)))
>>> repl
[(t0, sin(x + y))]
>>> out
[t0**2, cos(t0)]
"""

from __future__ import annotations

from collections.abc import Iterator

import sympy
from sympy import Basic, Pow

__all__ = ["cse_dag", "rebuild", "opaque", "binds"]


_BINDS: dict = {}


def binds(cls) -> bool:
    """Whether nodes of class ``cls`` define their own ``free_symbols`` (they bind variables:
    Integral, Sum, Lambda, Subs...). Looked up in the class dictionaries: a function class's
    metaclass makes ``cls.free_symbols`` a different object from ``Basic.free_symbols``."""
    hit = _BINDS.get(cls)
    if hit is None:
        hit = _BINDS[cls] = any(
            k is not Basic and "free_symbols" in k.__dict__ for k in cls.__mro__ if k is not object
        )
    return hit


def opaque(e) -> bool:
    """Whether CSE must not look inside ``e``: atoms, and nodes binding variables
    (Integral, Sum, Lambda: a bound variable must not be replaced) or holding matrices."""
    if not e.args or e.is_Atom:
        return True
    if binds(type(e)):
        return True
    return isinstance(e, sympy.MatrixBase)


def rebuild(node, args: tuple):
    """``node`` with ``args``, by SymPy's raw constructors where that is safe.

    Safe means: the new arguments need nothing a constructor would do (no number to merge
    into a coefficient, no sum inside a sum or product inside a product to flatten). The
    result is then the same expression as ``node.func(*args)`` would give up to the order
    of its arguments, which no numeric code depends on."""
    if node.is_Add or node.is_Mul:
        cls = type(node)
        if not any(
            b is not a and (b.is_Number or type(b) is cls)
            for a, b in zip(node.args, args, strict=True)
        ):
            return cls._from_args(args, node.is_commutative)
        return node.func(*args)
    if node.is_Pow:
        b, ex = args
        if not (b.is_Number or b.is_Pow or b.is_Mul or ex.is_Number is not node.exp.is_Number):
            return Pow(b, ex, evaluate=False)
        return node.func(*args)
    if isinstance(node, sympy.Function):
        try:
            return node.func(*args, evaluate=False)
        except TypeError:  # a function whose constructor takes no ``evaluate``
            return node.func(*args)
    return node.func(*args)


def _rebuild_temp(node, args: tuple):
    """Rebuild ``node`` whose changed arguments are temporaries (plain symbols): the raw
    constructor is always safe then (a symbol is neither a number nor a sum/product)."""
    if node.is_Add or node.is_Mul:
        return type(node)._from_args(args, node.is_commutative)
    if node.is_Pow:
        return Pow(*args, evaluate=False)
    if isinstance(node, sympy.Function):
        try:
            return node.func(*args, evaluate=False)
        except TypeError:
            return node.func(*args)
    return node.func(*args)


def _order(exprs) -> tuple[list, dict]:
    """Distinct non-opaque nodes, children before parents, and each node's use count."""
    uses: dict = {}
    for e in exprs:
        uses[e] = uses.get(e, 0) + 1
    order: list = []
    expanded: set = set()
    stack = [(e, False) for e in reversed(exprs)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in expanded or opaque(node):
            continue
        expanded.add(node)
        stack.append((node, True))
        args = node.args
        for a in args:
            uses[a] = uses.get(a, 0) + 1
        for a in reversed(args):
            if a not in expanded:
                stack.append((a, False))
    return order, uses


def _worth_naming(node) -> bool:
    """Temporaries are expressions (not conditions, pairs or tuples), and more than a
    negated symbol (``-x`` costs as much to recompute as to load)."""
    if not isinstance(node, sympy.Expr) or isinstance(node, sympy.MatrixExpr):
        return False
    if node.is_Mul and len(node.args) == 2 and node.args[0] is sympy.S.NegativeOne:
        return not node.args[1].is_Atom
    return True


def cse_dag(exprs, symbols: Iterator, max_depth: int = 40) -> tuple[list, list]:
    """Common subexpressions of ``exprs`` by reference counting over their DAG.

    Returns ``(replacements, reduced)`` like ``sympy.cse``: ``replacements`` is a list of
    ``(symbol, expression)`` in dependency order (each expression uses only the symbols
    defined before it), ``reduced`` the inputs written with them. ``symbols`` supplies the
    names of the temporaries."""
    exprs = list(exprs)
    order, uses = _order(exprs)
    new: dict = {}  # node -> its temporary or its rebuilt form
    depth: dict = {}  # node -> nesting depth of its rebuilt form (0: a temporary)
    replacements: list = []
    for node in order:
        args = node.args
        nargs = tuple([new.get(a, a) for a in args])
        dep = 1
        for a in args:
            da = depth.get(a, 0)
            if da >= dep:
                dep = da + 1
        changed = any(b is not a for a, b in zip(args, nargs, strict=True))
        rebuilt = _rebuild_temp(node, nargs) if changed else node
        if (uses[node] > 1 or dep > max_depth) and _worth_naming(node):
            sym = next(symbols)
            replacements.append((sym, rebuilt))
            new[node] = sym
            depth[node] = 0
            continue
        new[node] = rebuilt
        depth[node] = dep
    return replacements, [new.get(e, e) for e in exprs]
