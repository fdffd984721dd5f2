"""The default simplification of results (``sm.simplification``, ``sm.set_simplification``):
a bounded, value-preserving tidy-up.

``diff``, ``grad``, ``jacobian``, ``hessian`` and ``integrate`` (called directly, and every
``symml`` command) return a simplified form of their result **when a clearly shorter one
exists**; otherwise the result comes back exactly as the engine built it. The rules:

* candidates: SymPy's ``simplify`` of the result (for a rational function, its ``cancel``,
  ``factor`` and ``expand``; a result of one operation is kept as it is), and its *sigmoid
  forms* (``exp(a)/(1 + exp(a))`` is ``sigmoid(a)``: every ``exp(k*a)`` is written in
  ``s = sigmoid(a)`` and the rational function of ``s`` is cancelled);
* a candidate is taken only when its text is at most :data:`RATIO` of the original's length
  and it has no more operations;
* bounded: results of more than :data:`MAX_OPS` operations are left alone, and the whole
  tidy-up of one result (all entries of a matrix) stops after :data:`SECONDS` seconds,
  keeping the entries not reached as they are;
* never changes the value: a candidate is also compared with the original at random real
  points and dropped if they differ anywhere both are finite.

Switch it off for one call with ``simplify=False``, globally with
:func:`set_simplification`, or for a block with :func:`simplification`::

    >>> import symml as sm
    >>> sm.diff("(-x - 1)*exp(-x)", "x")
    x*exp(-x)
    >>> sm.diff("(-x - 1)*exp(-x)", "x", simplify=False)
    -(-x - 1)*exp(-x) - exp(-x)
    >>> with sm.simplification(False):
    ...     sm.hessian("log(1 + exp(z))", "z")[0]
    exp(z)/(exp(z) + 1) - exp(2*z)/(exp(z) + 1)**2
    >>> sm.hessian("log(1 + exp(z))", "z")[0]
    (1 - sigmoid(z))*sigmoid(z)

Calls made *inside* symml (``fit`` differentiating its model, ``is_convex`` compiling a
Hessian, a language statement) are not tidied: the default applies to results handed to the
user.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sympy

from ._limits import LimitError, _levels, time_limit

__all__ = ["tidy", "set_simplification", "get_simplification", "simplification", "RATIO",
           "MAX_OPS", "MAX_NODES", "SECONDS", "larger_than", "polynomial_form"]  # fmt: skip

#: A simplified form is used only when its text is at most this fraction of the original's.
RATIO = 0.85
#: Results with more operations than this are returned as they are (simplify is slow on them).
MAX_OPS = 300
#: Results whose tree has more nodes than this are returned without even counting their
#: operations (a cheap, bounded test: it stops counting there).
MAX_NODES = 4 * MAX_OPS
#: Time for the tidy-up of one result (all its entries), in seconds.
SECONDS = 2.0

_state = {"enabled": True}
_local = threading.local()


def get_simplification() -> bool:
    """Whether results are simplified by default (this thread's block setting first)."""
    stack = getattr(_local, "stack", None)
    return stack[-1] if stack else _state["enabled"]


def set_simplification(enabled: bool) -> bool:
    """Switch the default simplification on or off globally; returns the previous setting.

    >>> old = set_simplification(False)
    >>> get_simplification()
    False
    >>> _ = set_simplification(old)
    """
    old = _state["enabled"]
    _state["enabled"] = bool(enabled)
    return old


@contextlib.contextmanager
def simplification(enabled: bool):
    """Use (or not) the default simplification inside a ``with`` block (this thread)."""
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    stack.append(bool(enabled))
    try:
        yield
    finally:
        stack.pop()


def larger_than(e: Any, nodes: int) -> bool:
    """Has the tree of ``e`` more than ``nodes`` nodes? Stops counting there (iterative).

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> larger_than(x + 1, 2), larger_than(x + 1, 3)
    (True, False)
    """
    if not isinstance(e, sympy.Basic):
        return False
    stack, seen = [e], 0
    while stack:
        seen += 1
        if seen > nodes:
            return True
        stack.extend(stack.pop().args)
    return False


def polynomial_form(e: sympy.Expr, max_terms: int = 2000) -> sympy.Expr | None:
    """``e`` expanded, when it is a polynomial in its symbols, computed over the expression
    DAG (each shared sub-expression converted once) with SymPy's sparse polynomial rings:
    linear in the distinct nodes, where ``expand``/``cancel`` walk the tree (and took
    minutes on the derivative of a 200-statement chain ``a_i = a_(i-1)*x + i``). None when
    ``e`` is not a polynomial (a function, a negative or symbolic power, a float) or the
    expansion has more than ``max_terms`` terms.

    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> polynomial_form((x + 1)*(x - 1) + 1), polynomial_form(sympy.sin(x)) is None
    (x**2, True)
    """
    from sympy.polys.domains import QQ, ZZ
    from sympy.polys.rings import ring

    seen, stack, syms, whole = {e}, [e], set(), True  # one pass over the DAG first
    while stack:
        node = stack.pop()
        if node.is_Symbol:
            syms.add(node)
        elif node.is_Rational:
            whole = whole and node.q == 1
        elif not (node.is_Add or node.is_Mul or node.is_Pow):
            return None
        elif node.is_Pow and not (node.exp.is_Integer and node.exp >= 0):
            return None
        for a in node.args if not node.is_Pow else (node.base,):
            if a not in seen:
                seen.add(a)
                stack.append(a)
    if not syms:
        return None
    dom = ZZ if whole else QQ  # (integer arithmetic is several times faster)
    R, *gens = ring(sorted(syms, key=sympy.default_sort_key), dom)
    memo: dict = dict(zip(sorted(syms, key=sympy.default_sort_key), gens, strict=True))
    stack = [(e, False)]
    while stack:
        node, done = stack.pop()
        if node in memo:
            continue
        if node.is_Rational:
            memo[node] = R(int(node.p)) if whole else R(QQ(int(node.p), int(node.q)))
            continue
        parts = node.args if not node.is_Pow else (node.base,)
        if not done:
            stack.append((node, True))
            stack.extend((a, False) for a in parts if a not in memo)
            continue
        vals = [memo[a] for a in parts]
        if node.is_Add:
            v = R.zero
            for a in vals:
                v += a
        elif node.is_Mul:
            v = R.one
            for a in vals:
                v *= a
        else:
            v = vals[0] ** int(node.exp)
        if len(v) > max_terms:
            return None
        memo[node] = v
    return memo[e].as_expr()


def _text_len(e) -> int:
    from .lang.printer import _PRINTER

    return len(_PRINTER.doprint(e))


def _sigmoid_forms(e: sympy.Expr) -> sympy.Expr:
    """``e`` with every ``exp(k*a)`` (k a whole number) written through ``sigmoid(a)``,
    when that makes it shorter."""
    from .functions import sigmoid

    powers: dict = {}  # base a -> {exp(k*a): k}
    for atom in e.atoms(sympy.exp):
        c, a = atom.args[0].as_content_primitive()
        if a.could_extract_minus_sign():
            c, a = -c, -a
        if c.is_Rational and c.q == 1 and not a.is_number:
            powers.setdefault(a, {})[atom] = int(c)
    best, n_best = e, _text_len(e)
    for a in list(powers)[:4]:
        t, s, u = sympy.Dummy("t", positive=True), sympy.Dummy("s"), sympy.Dummy("u")
        in_t = best.xreplace({atom: t**k for atom, k in powers[a].items()})
        in_s = sympy.factor(sympy.cancel(in_t.subs(t, s / (1 - s))))
        # (s - 1) factors read better as (1 - sigmoid(a)): a separate symbol keeps the sign
        in_s = in_s.xreplace({s - 1: -u, 1 - s: u})
        cand = in_s.xreplace({s: sigmoid(a), u: sympy.Add(1, -sigmoid(a), evaluate=False)})
        if cand.has(t, s, u):
            continue
        n = _text_len(cand)
        if n < n_best:
            best, n_best = cand, n
    return best


def _same_value(a: sympy.Expr, b: sympy.Expr, points: int = 4) -> bool:
    """``a`` and ``b`` agree at random real points (where both are finite)."""
    syms = sorted(a.free_symbols | b.free_symbols, key=str)
    rng = random.Random(20240607)
    for _ in range(points):
        sub = {s: sympy.Float(rng.uniform(0.1, 2.0) * (1 if s.is_positive or rng.random() < 0.5
                                                       else -1), 30) for s in syms}  # fmt: skip
        try:
            va, vb = complex(a.evalf(30, subs=sub)), complex(b.evalf(30, subs=sub))
        except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
            continue
        if not all(map(lambda z: abs(z) < 1e300, (va, vb))):
            continue
        if abs(va - vb) > 1e-12 * max(1.0, abs(va), abs(vb)):
            return False
    return True


def _tidy_one(e, deadline: float, memo: dict):
    """``e`` or a clearly shorter equal form; never fails (a tidy-up that cannot finish, or
    that SymPy cannot do, leaves ``e`` as derived)."""
    try:
        return _tidy_expr(e, deadline, memo)
    except LimitError:
        return e
    except Exception:  # noqa: BLE001 - SymPy's simplify raises many kinds; keep the result
        return e


def _tidy_expr(e, deadline: float, memo: dict):
    if not isinstance(e, sympy.Expr) or e.is_number and e.is_Atom:
        return e
    if e in memo:
        return memo[e]
    if larger_than(e, MAX_NODES):  # (count_ops alone took a second on a 200-deep chain)
        return e
    ops0 = sympy.count_ops(e)
    if ops0 <= 1 or ops0 > MAX_OPS or e.has(sympy.Integral, sympy.Derivative):
        return e  # one operation (cos(x), 2*x) has no shorter form worth a simplify
    n0 = _text_len(e)
    best, n_best = e, n0

    def consider(c):
        nonlocal best, n_best
        n = _text_len(c)
        if n <= RATIO * n0 and n < n_best and sympy.count_ops(c) <= ops0 and _same_value(e, c):
            best, n_best = c, n

    try:
        left = deadline - time.monotonic()
        if left <= 0.05:
            return e
        with time_limit(left, "the default simplification"):
            consider(_sigmoid_forms(e))  # cheap, and often the form wanted
            if best is e and e.is_rational_function():
                # what simplify would try on a rational function, without its cost (its first
                # call imports sympy.physics: a third of a second on every command)
                for cand in (sympy.cancel(e), sympy.factor(e), sympy.expand(e)):
                    consider(cand)
            elif best is e:
                simp = sympy.simplify(e)
                consider(simp)
                if simp != e:
                    consider(_sigmoid_forms(simp))
    except LimitError:
        pass
    if best is not e or time.monotonic() < deadline:
        memo[e] = best
    return best


def tidy(value: Any, enabled: bool | None = None) -> Any:
    """``value`` simplified where a clearly shorter form exists (see the module docstring);
    matrices entry by entry; anything else unchanged. ``enabled=None`` follows the setting.

    >>> import symml as sm
    >>> tidy(sm.expr("-(-x - 1)*exp(-x) - exp(-x)"))
    x*exp(-x)
    >>> tidy(sm.expr("x^2*cos(x) + 2*x*sin(x)"))  # nothing clearly shorter: unchanged
    x**2*cos(x) + 2*x*sin(x)
    """
    if enabled is None:
        enabled = get_simplification()
    if not enabled:
        return value
    if _levels():  # share a running budget: never take more than it has left
        deadline = min(time.monotonic() + SECONDS, _levels()[-1].deadline - 0.5)
    else:
        deadline = time.monotonic() + SECONDS
    memo: dict = {}  # a symmetric Hessian's twin entries are tidied once
    if isinstance(value, sympy.MatrixBase):
        out = value.applyfunc(lambda e: _tidy_one(e, deadline, memo))
        return out.as_immutable() if isinstance(value, sympy.ImmutableMatrix) else out
    return _tidy_one(value, deadline, memo)


F = TypeVar("F", bound=Callable[..., Any])

#: Calls from symml's own modules (convex, ml, fitting ...) get the result as derived: they
#: compile it or compare it, and never show it.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def simplified_by_default(fn: F) -> F:
    """Decorator for public calculus functions: adds the ``simplify`` keyword (None: the
    setting). Only calls made from outside symml are tidied: not those inside a running
    budget, nor those made by symml's own modules."""

    @functools.wraps(fn)
    def wrapper(*args, simplify: bool | None = None, **kwargs):
        caller = sys._getframe(1).f_code.co_filename
        outermost = not _levels() and not caller.startswith(_PACKAGE_DIR)
        result = fn(*args, **kwargs)
        if simplify is False or (simplify is None and not outermost):
            return result
        return tidy(result, simplify)

    return wrapper  # type: ignore[return-value]
