"""Compile expressions to fast, vectorized NumPy functions.

:func:`compile` turns one expression (or a list of them), written for *one row*, into a NumPy
function of explicitly ordered arguments. Scalars take numbers or arrays, a vector ``w[k]``
takes an array whose last axis has length ``k``; results broadcast over the leading (row)
axes. With ``grad=`` the function returns the value and its gradient in one call, sharing
every common subexpression; with ``reduce="sum"`` or ``"mean"`` it reduces over the rows
itself, computing linear forms over data vectors as matrix products (``X @ w``, ``X.T @ r``).

The pipeline (each stage a pure function of the previous one):

1. convert the input once (language text or SymPy) and resolve the arguments;
2. a *numerical-safety* rewrite: ``log(1 + exp(u)) -> softplus(u)``,
   ``log(sigmoid(u)) -> -softplus(-u)``, ``1 - sigmoid(u) -> sigmoid(-u)``,
   ``1/(1 + exp(-u)) -> sigmoid(u)``;
3. exact derivatives (then the safety rewrite again);
4. linear forms ``sum_i c_i x[i]`` over data vectors become placeholders computed by a
   matrix product, and gradient blocks ``F * x[i]`` become ``F @ X`` (reduce) or an outer
   product;
5. one common-subexpression elimination over every scalar that is computed;
6. printing with a subclass of SymPy's ``SciPyPrinter`` and ``exec`` of the generated
   source in a namespace we control. The source is ours (printed from SymPy objects), never
   user text; it stays inspectable as :attr:`CompiledFunction.source`.

Kink conventions are followed exactly: ``relu'(0) = heaviside(0) = 0``, ``abs'(0) =
sign(0) = 0``; ``DiracDelta`` (the derivative of a step) compiles to 0, as in automatic
differentiation.

>>> import symml as sm
>>> x, y = sm.symbol("x"), sm.symbol("y")
>>> f = sm.compile(x**2 * y, [x, y], grad=[x, y])
>>> value, (dx, dy) = f([1.0, 2.0], 3.0)
>>> value, dx, dy
(array([ 3., 12.]), array([ 6., 12.]), array([1., 4.]))
"""

from __future__ import annotations

import builtins
import itertools
import keyword
import math
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy
import scipy.special
import sympy
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.precedence import precedence

from ._dask import call_reduced as _dask_call
from ._dask import is_dask as _is_dask
from ._limits import budgeted
from ._diff import DiffContext
from ._diff import d as _deriv
from .errors import ArgumentError, ShapeError
from .functions import sigmoid, softplus
from .symbols import ElementSymbol, components_of, symbol

__all__ = ["compile", "CompiledFunction"]

_REDUCE = (None, "sum", "mean")
# Sums and products with more terms than this are printed as balanced groups, so that
# neither the printer nor Python's own compiler recurse once per term.
_GROUP = 32
# Subexpressions nested deeper than this are hoisted into their own assignment (Python's
# parser accepts at most 200 nested parentheses).
_MAX_DEPTH = 40
_RECURSION_LIMIT = 20000
# Above this many distinct expression nodes only the linear-time part of CSE runs.
_FULL_CSE_NODES = 4000
# A reduced function processes long inputs in blocks of this many rows (cache-sized).
_BLOCK_ROWS = 1 << 13


# ------------------------------------------------------------------------------------------
# runtime helpers (live in the namespace of the generated code)
# ------------------------------------------------------------------------------------------


def _fin(e, L):
    """Value ``e`` as a float array of exactly the leading shape ``L`` (float for ``()``)."""
    a = numpy.asarray(e, dtype=float)
    if a.shape != L:
        a = numpy.broadcast_to(a, L).copy()
    return a if L else a[()]


def _fincopy(e, L):
    """Like :func:`_fin`, but never returns the input array itself (no aliasing)."""
    a = numpy.array(e, dtype=float)
    if a.shape != L:
        a = numpy.broadcast_to(a, L).copy()
    return a if L else a[()]


def _rsum(e, L):
    """Sum of ``e`` broadcast to ``L`` without materializing the broadcast."""
    a = numpy.asarray(e, dtype=float)
    if a.shape == L:
        return a.sum()
    n = math.prod(L)
    return a.sum() * (n / a.size) if a.size else numpy.float64(0.0)


def _rvdot(a, b, L):
    """Sum over the rows of ``a * b`` (both broadcast to ``L``); a dot product when possible."""
    a = numpy.asarray(a, dtype=float)
    b = numpy.asarray(b, dtype=float)
    if len(L) == 1 and a.shape == L and b.shape == L:
        # Long vectors by einsum, not numpy.dot: OpenBLAS runs a long ddot on threads, and on
        # a busy machine one 16384-long ddot then waits a scheduler slice (~10 ms instead of
        # 5 us; measured). It keeps ddot on one thread up to 10000 (our blocks have 8192 rows).
        if a.size <= 10000:
            return numpy.dot(a, b)
        return numpy.einsum("i,i->", a, b)
    return _rsum(a * b, L)


def _dot(a, b):
    """Row-wise inner product over the last axis: ``a @ b`` when one side is a plain vector."""
    if b.ndim == 1:
        return a @ b
    if a.ndim == 1:
        return b @ a
    return numpy.einsum("...i,...i->...", a, b)


def _stack(*cs):
    """Coefficients ``c_0 .. c_{k-1}`` stacked on a new last axis."""
    return numpy.stack(numpy.broadcast_arrays(*(numpy.asarray(c, dtype=float) for c in cs)), -1)


def _rdot(F, x, L):
    """``sum over rows of F[r] * x[r, :]`` -- ``F @ X`` for one leading axis."""
    F = numpy.asarray(F, dtype=float)
    k = x.shape[-1:]
    if len(L) == 1 and F.shape == L and x.shape[:-1] == L:
        return x.T @ F  # faster than F @ x for C-ordered x (measured: 28 us against 41 us)
    if x.shape[:-1] == L:
        if F.shape != L:
            F = numpy.broadcast_to(F, L)
        return numpy.tensordot(F, x, axes=len(L)) if L else F * x
    return numpy.tensordot(numpy.broadcast_to(F, L), numpy.broadcast_to(x, L + k), axes=len(L))


def _outer(F, x, L):
    """Per-row ``F[r] * x[r, :]`` as an array of shape ``L + (k,)``."""
    out = numpy.multiply(numpy.asarray(F, dtype=float)[..., None], x)
    shape = L + x.shape[-1:]
    return out if out.shape == shape else numpy.broadcast_to(out, shape).copy()


def _empty(L, shape):
    return numpy.empty(L + shape)


def _iadd(t, b):
    """``t + b``, in place when ``t`` is a temporary array that ``b`` does not reshape."""
    if type(t) is numpy.ndarray and t.flags.writeable and numpy.ndim(b) == 0:
        t += b
        return t
    return t + b


def _float_literal(p: int, q: int) -> str:
    """The nearest float to ``p/q`` as source text (``numpy.inf`` past the float range)."""
    import mpmath

    with mpmath.workprec(60):
        v = float(mpmath.mpf(p) / q)
    if math.isinf(v):
        return "numpy.inf" if v > 0 else "(-numpy.inf)"
    return repr(v) if v >= 0 else f"({v!r})"


def _loggamma(x):
    """Real loggamma: nan where it is not real (x < 0 off the poles), inf at the poles."""
    out = scipy.special.gammaln(x)
    bad = (x < 0) & (x != numpy.floor(x))
    if numpy.any(bad):
        out = numpy.where(bad, numpy.nan, out)
    return out


_NAMESPACE_BASE = {
    "_loggamma": _loggamma,
    "numpy": numpy,
    "scipy": scipy,
    "_fin": _fin,
    "_fincopy": _fincopy,
    "_rsum": _rsum,
    "_rvdot": _rvdot,
    "_dot": _dot,
    "_stack": _stack,
    "_rdot": _rdot,
    "_outer": _outer,
    "_empty": _empty,
    "_iadd": _iadd,
}


# ------------------------------------------------------------------------------------------
# arguments
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Arg:
    name: str  # as the user knows it: "x", "w"
    shape: tuple[int, ...]  # () scalar, (k,) vector, (r, c) matrix
    symbols: tuple  # flat, row-major

    @property
    def label(self) -> str:
        return self.name + (f"[{', '.join(map(str, self.shape))}]" if self.shape else "")


_FS_MEMO: dict = {}  # replaced per compile call (see _compile); keyed by node


def _fs(e) -> frozenset:
    """Free symbols of ``e``, memoized per node: linear in the expression DAG.

    SymPy's ``free_symbols`` walks the expression *tree*, which for derivatives of real
    models (shared subexpressions everywhere) is exponentially larger than the DAG.
    """
    memo = _FS_MEMO
    r = memo.get(e)
    if r is None:
        if e.is_Symbol:
            r = frozenset((e,))
        elif not e.args:
            r = frozenset()
        elif type(e).free_symbols is not sympy.Basic.free_symbols:
            r = frozenset(e.free_symbols)  # bound variables (Integral, Lambda, ...)
        else:
            r = frozenset().union(*(_fs(a) for a in e.args))
        memo[e] = r
    return r


def _free_symbols(exprs) -> set:
    out: set = set()
    for e in exprs:
        if isinstance(e, sympy.MatrixBase):
            for entry in e:
                out |= _fs(entry)
        else:
            out |= _fs(e)
    return out


def _split_names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _spec_from_matrix(m: sympy.MatrixBase, name: str | None, where: str) -> _Arg:
    entries = list(m)
    if not all(isinstance(s, sympy.Symbol) for s in entries):
        raise ArgumentError(
            f"{where}: a Matrix argument must hold symbols only, got {m}; pass the names "
            "of the variables instead"
        )
    shape = (len(entries),) if 1 in m.shape else tuple(m.shape)
    if name is None:
        vecs = {getattr(s, "vector", None) for s in entries}
        v = vecs.pop() if len(vecs) == 1 else None
        name = v if v is not None else "[" + ", ".join(str(s) for s in entries) + "]"
    return _Arg(name, shape, tuple(entries))


def _resolve_one(spec, exprs, free: set, where: str) -> list[_Arg]:
    if isinstance(spec, str):
        out = []
        for name in _split_names(spec):
            scalar = [s for s in free if s.name == name and not isinstance(s, ElementSymbol)]
            if not scalar:
                scalar = [s for s in free if s.name == name]
            if scalar:
                out.append(_Arg(name, (), (scalar[0],)))
                continue
            elems = [s for s in free if isinstance(s, ElementSymbol) and s.vector == name]
            m = components_of(name, elems[:1]) if elems else None
            if m is not None:
                out.append(_spec_from_matrix(m, name, where))
            else:
                out.append(_Arg(name, (), (symbol(name),)))
        if not out:
            raise ArgumentError(f"{where}: empty name {spec!r}")
        return out
    if isinstance(spec, sympy.Symbol):
        return [_Arg(spec.name, (), (spec,))]
    if isinstance(spec, sympy.MatrixBase):
        return [_spec_from_matrix(spec, None, where)]
    if isinstance(spec, Mapping):
        out = []
        for key, val in spec.items():
            syms = getattr(val, "symbols", val)
            if isinstance(syms, sympy.MatrixBase):
                out.append(_spec_from_matrix(syms, str(key), where))
            elif isinstance(syms, sympy.Symbol):
                out.append(_Arg(str(key), (), (syms,)))
            else:
                out.extend(_resolve_one(str(key), exprs, free, where))
        return out
    if isinstance(spec, Iterable) and not isinstance(spec, (bytes, sympy.Basic)):
        out = []
        for s in spec:
            out.extend(_resolve_one(s, exprs, free, where))
        return out
    raise ArgumentError(
        f"{where}: cannot use {spec!r} ({type(spec).__name__}) as a variable; give a name "
        "such as 'x' or 'w', a Symbol, a Matrix of symbols, or a list of those"
    )


def _resolve_args(args, exprs) -> list[_Arg]:
    free = _free_symbols(exprs)
    specs = _resolve_one(args, exprs, free, "compile args")
    seen: dict = {}
    for a in specs:
        for s in a.symbols:
            if s in seen:
                raise ArgumentError(
                    f"compile args: {s} is given twice (in {seen[s]!r} and {a.name!r}); "
                    "list each variable once"
                )
            seen[s] = a.name
    missing = sorted(str(s) for s in free if s not in seen)
    if missing:
        given = ", ".join(a.label for a in specs) or "nothing"
        raise ArgumentError(
            f"compile: the expression uses {', '.join(missing)} but args give only "
            f"{given}; add the missing names to args (in the order the function should "
            "take them)"
        )
    return specs


def _resolve_grad(grad, exprs, args: list[_Arg]) -> list[_Arg]:
    free = _free_symbols(exprs)
    specs = _resolve_one(grad, exprs, free, "compile grad")
    known = {s for a in args for s in a.symbols}
    for g in specs:
        unknown = [str(s) for s in g.symbols if s not in known]
        if unknown:
            raise ArgumentError(
                f"compile grad: {g.label} is not among the args "
                f"({', '.join(a.label for a in args)}); differentiate only with respect to "
                "arguments of the function"
            )
    return specs


# ------------------------------------------------------------------------------------------
# expression passes
# ------------------------------------------------------------------------------------------


def _bottom_up(expr, fn, memo: dict):
    """Rebuild ``expr`` children-first, applying ``fn`` to each rebuilt node (memoized)."""
    hit = memo.get(expr)
    if hit is not None:
        return hit
    if expr.args and not expr.is_Atom:
        new_args = tuple(_bottom_up(a, fn, memo) for a in expr.args)
        node = expr.func(*new_args) if new_args != expr.args else expr
    else:
        node = expr
    out = fn(node)
    memo[expr] = out
    return out


def _one_plus_exp(a):
    """``u`` when ``a`` is ``1 + exp(u)``, else None."""
    if a.is_Add and len(a.args) == 2 and sympy.S.One in a.args:
        other = a.args[1] if a.args[0] is sympy.S.One else a.args[0]
        if isinstance(other, sympy.exp):
            return other.args[0]
    return None


def _safe_node(e):
    """One numerical-safety rewrite at a node whose children are already rewritten."""
    if isinstance(e, sympy.log) and len(e.args) == 1:
        a = e.args[0]
        u = _one_plus_exp(a)
        if u is not None:  # log(1 + exp(u)) = softplus(u)
            return softplus(u)
        if isinstance(a, sigmoid):  # log(sigmoid(u)) = -softplus(-u)
            return -softplus(-a.args[0])
        if a.is_Pow and isinstance(a.base, sigmoid) and a.exp.is_real:
            return -a.exp * softplus(-a.base.args[0])
        return e
    if e.is_Pow:
        if e.exp.is_Integer and e.exp < 0:
            u = _one_plus_exp(e.base)
            if u is not None:  # (1 + exp(u))^-p = sigmoid(-u)^p
                return sigmoid(-u) ** (-e.exp)
        return e
    if e.is_Add and sympy.S.One in e.args:
        for t in e.args:  # 1 - sigmoid(u) = sigmoid(-u)
            c, rest = t.as_coeff_Mul()
            if c == -1 and isinstance(rest, sigmoid):
                others = list(e.args)
                others.remove(sympy.S.One)
                others.remove(t)
                return sympy.Add(*others, sigmoid(-rest.args[0]))
        return e
    if e.is_Mul:
        # exp(u) * sigmoid(-u)^p = sigmoid(u) * sigmoid(-u)^(p-1)
        factors = list(e.args)
        for i, f in enumerate(factors):
            if not isinstance(f, sympy.exp):
                continue
            u = f.args[0]
            for j, g in enumerate(factors):
                base, p = (g.base, g.exp) if g.is_Pow else (g, sympy.S.One)
                if isinstance(base, sigmoid) and base.args[0] == -u and p.is_Integer and p > 0:
                    rest = [h for k, h in enumerate(factors) if k not in (i, j)]
                    return sympy.Mul(*rest, sigmoid(u), base ** (p - 1))
        return e
    return e


def _safe(expr, memo: dict):
    return _bottom_up(expr, _safe_node, memo)


class _Linear:
    """Placeholders for linear forms ``sum_i c_i x[i]`` over data vectors."""

    def __init__(self, data: list[_Arg]):
        self.data = [a for a in data if len(a.shape) == 1 and a.shape[0] >= 2]
        self.index = {s: (a, i) for a in self.data for i, s in enumerate(a.symbols)}
        self.components = frozenset(self.index)
        self.forms: dict = {}  # (arg name, coefficients) -> Dummy
        self.defs: list = []  # (Dummy, arg, coefficients) in creation order
        self.memo: dict = {}

    def __call__(self, expr):
        if not self.data:
            return expr
        return _bottom_up(expr, self._node, self.memo)

    def _node(self, e):
        if not e.is_Add or not (_fs(e) & self.components):
            return e
        terms = list(e.args)
        for arg in self.data:
            comps = set(arg.symbols)
            coeffs: dict = {}
            used = []
            for t in terms:
                hit = None
                for f in t.args if t.is_Mul else (t,):
                    if f in comps:
                        hit = f
                        break
                if hit is None:
                    continue
                if t is hit:
                    c = sympy.S.One
                else:
                    rest = list(t.args)
                    rest.remove(hit)
                    c = rest[0] if len(rest) == 1 else sympy.Mul(*rest)
                if _fs(c) & comps:
                    continue
                i = self.index[hit][1]
                coeffs[i] = coeffs.get(i, sympy.S.Zero) + c
                used.append(t)
            k = arg.shape[0]
            if len(coeffs) < 2 or 2 * len(coeffs) < k:
                continue
            cs = tuple(coeffs.get(i, sympy.S.Zero) for i in range(k))
            # -(w.x) and w.x share one placeholder: normalize the sign of the first coefficient
            sign = sympy.S.One
            first = next(c for c in cs if c != 0)
            if first.could_extract_minus_sign():
                sign = sympy.S.NegativeOne
                cs = tuple(-c for c in cs)
            key = (arg.name, cs)
            ph = self.forms.get(key)
            if ph is None:
                ph = self.forms[key] = sympy.Dummy(f"lin{len(self.forms)}", real=True)
                self.defs.append((ph, arg, cs))
            for t in used:
                terms.remove(t)
            terms.append(sign * ph)
        return sympy.Add(*terms) if len(terms) != len(e.args) else e


def _outer_split(entries, data: list[_Arg]):
    """``(x, F, R)`` when ``entries[i] == F * x[i] + R[i]`` with F, R free of the vector x."""
    k = len(entries)
    for arg in data:
        if arg.shape != (k,):
            continue
        comps = set(arg.symbols)
        F = None
        R = []
        for e, xi in zip(entries, arg.symbols, strict=True):
            if xi not in _fs(e):
                break
            d = _deriv(e, xi)
            if _fs(d) & comps or (F is not None and d != F):
                break
            F = d
            r = e.subs(xi, 0)
            if _fs(r) & comps:
                break
            R.append(r)
        else:
            return arg, F, R
    return None


def _depth_limit(expr, hoist: list, memo: dict):
    """Return ``(expr', depth)`` with subtrees deeper than _MAX_DEPTH hoisted into ``hoist``."""
    hit = memo.get(expr)
    if hit is not None:
        return hit
    if not expr.args or expr.is_Atom:
        out = (expr, 0)
    else:
        pairs = [_depth_limit(a, hoist, memo) for a in expr.args]
        new_args = tuple(p[0] for p in pairs)
        node = expr.func(*new_args) if new_args != expr.args else expr
        depth = 1 + max(p[1] for p in pairs)
        if depth > _MAX_DEPTH:
            tmp = sympy.Dummy("h")
            hoist.append((tmp, node))
            out = (tmp, 0)
        else:
            out = (node, depth)
    memo[expr] = out
    return out


def _dag_size(exprs, limit: int) -> int:
    """Number of distinct nodes in ``exprs`` (counting stops past ``limit``)."""
    seen: set = set()
    stack = list(exprs)
    while stack and len(seen) <= limit:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        stack.extend(e.args)
    return len(seen)


def _cse(exprs):
    """One common-subexpression elimination over all ``exprs``.

    SymPy's full ``cse`` also factors common sub-sums and sub-products out of different
    sums (``opt_cse``), which costs time superlinear in the expression size; past
    ``_FULL_CSE_NODES`` distinct nodes (a Hessian of dozens of parameters) only the
    linear-time tree elimination runs.

    Measured on a 49-parameter MLP (reduce="sum", 5e4 rows): value+gradient 12.9 ms (tree
    only) / 10.5 ms (full) / 10.0 ms (full + ``optimizations="basic"``); Hessian 231 / 229
    / 193 ms with compile times 0.55 / 0.70 / 4.3 s. ``basic`` is not used: its gain is
    small and its cost can explode (a chain of 250 nested ``sin(...) + y``, 500 nodes:
    27 s instead of 0.1 s).
    """
    symbols = (sympy.Dummy(f"x{i}") for i in itertools.count())
    size = _dag_size(exprs, _FULL_CSE_NODES)
    if size <= _FULL_CSE_NODES:
        return sympy.cse(exprs, symbols=symbols, order="none", list=True)
    from sympy.simplify.cse_main import tree_cse

    return tree_cse(exprs, symbols, opt_subs={}, order="none")


# ------------------------------------------------------------------------------------------
# printing
# ------------------------------------------------------------------------------------------


class _Printer(SciPyPrinter):
    """NumPy/SciPy code printer with symml's functions, local names and grouped long sums."""

    def __init__(self, names: dict):
        super().__init__(
            {
                "fully_qualified_modules": True,
                "inline": True,
                "allow_unknown_functions": False,
                "order": "none",
                "strict": True,
            }
        )
        self._names = names

    def _print_Symbol(self, expr):
        try:
            return self._names[expr]
        except KeyError:  # pragma: no cover - every symbol is named before printing
            raise ArgumentError(f"compile: internal error, no local name for {expr}") from None

    _print_Dummy = _print_Symbol
    _print_ElementSymbol = _print_Symbol

    def _print_sigmoid(self, expr):
        return f"scipy.special.expit({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"numpy.logaddexp(0.0, {self._print(expr.args[0])})"

    def _print_relu(self, expr):
        return f"numpy.maximum({self._print(expr.args[0])}, 0.0)"

    def _print_Heaviside(self, expr):
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        return f"numpy.heaviside({self._print(expr.args[0])}, {float(h0)!r})"

    def _print_DiracDelta(self, expr):
        # the derivative of a step is 0 almost everywhere; like automatic differentiation,
        # compiled code uses 0 everywhere (relu'' = heaviside' = 0, abs'' = 0)
        return f"numpy.zeros_like({self._print(expr.args[0])}, dtype=float)"

    def _print_sign(self, expr):
        return f"numpy.sign({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"numpy.abs({self._print(expr.args[0])})"

    def _minmax(self, expr, fn):
        parts = [self._print(a) for a in expr.args]
        while len(parts) > 1:
            parts = [
                f"{fn}({parts[i]}, {parts[i + 1]})" if i + 1 < len(parts) else parts[i]
                for i in range(0, len(parts), 2)
            ]
        return parts[0]

    def _print_Max(self, expr):
        return self._minmax(expr, "numpy.maximum")

    def _print_Min(self, expr):
        return self._minmax(expr, "numpy.minimum")

    def _print_Integer(self, expr):
        if abs(expr.p) > 2**53:
            return _float_literal(expr.p, 1)
        return str(expr.p)

    def _print_Rational(self, expr):
        # an exact rational beyond float range is its IEEE value (inf or 0), never a Python
        # integer division that overflows at call time
        if max(abs(expr.p), expr.q) > 2**53:
            return _float_literal(expr.p, expr.q)
        return super()._print_Rational(expr)

    def _print_loggamma(self, expr):
        # scipy's gammaln is log|Gamma(x)|: for x < 0 (not a pole) loggamma is not real
        return f"_loggamma({self._print(expr.args[0])})"

    def _grouped(self, expr, op: str, base):
        args = list(expr.args)
        if len(args) <= _GROUP:
            return base(expr)
        parts = [
            "(" + base(expr.func(*args[i : i + _GROUP], evaluate=False)) + ")"
            for i in range(0, len(args), _GROUP)
        ]
        while len(parts) > _GROUP:
            parts = [
                "(" + op.join(parts[i : i + _GROUP]) + ")" for i in range(0, len(parts), _GROUP)
            ]
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
        return self._grouped(expr, "*", lambda e: super(_Printer, self)._print_Mul(e))


_RESERVED = set(dir(builtins)) | {"numpy", "scipy", "math"}


class _Names:
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


# ------------------------------------------------------------------------------------------
# the compiled function
# ------------------------------------------------------------------------------------------


def _as_sympy(f) -> Any:
    try:
        from ._convert import as_expr
    except ImportError:  # the language front end is not available: SymPy objects only
        if isinstance(f, (sympy.Basic, sympy.MatrixBase)):
            return f
        if isinstance(f, (int, float)) and not isinstance(f, bool):
            return sympy.Float(f) if isinstance(f, float) else sympy.Integer(f)
        raise ArgumentError(f"compile: cannot convert {f!r}; pass a SymPy expression") from None
    return as_expr(f)


@dataclass
class _Block:
    """One result: an array of SymPy entries of shape ``shape`` (beyond the rows)."""

    entries: Any  # numpy object array of SymPy expressions
    shape: tuple[int, ...]
    symmetric: bool = False
    outer: tuple | None = None  # (arg, F, R-entries) for vector blocks F * x[i] + R[i]


class CompiledFunction:
    """A NumPy function compiled from symbolic expressions by :func:`compile`.

    >>> import symml as sm
    >>> f = sm.compile("x^2 + y", ["x", "y"])
    >>> f.args, float(f(3.0, 1.0))
    (('x', 'y'), 10.0)

    Call it with one value per argument, positionally in the order of :attr:`args`.

    Attributes
    ----------
    args : tuple of str
        Argument names in call order; vectors and matrices show their shape (``"w[3]"``).
    grad : tuple of str or None
        Names the gradient is taken with respect to.
    reduce : {None, "sum", "mean"}
        Reduction over the leading (row) axes.
    source : str
        The generated Python source.
    exprs : tuple
        The SymPy expressions that were compiled (after conversion).
    """

    def __init__(self, func, source, specs, grad_specs, reduce, exprs, single):
        self._func = func
        self.source = source
        self._specs = tuple(specs)
        self._nd = tuple(len(a.shape) for a in specs)
        self.args = tuple(a.label for a in specs)
        self.grad = None if grad_specs is None else tuple(g.label for g in grad_specs)
        self.reduce = reduce
        self.exprs = tuple(exprs)
        self._single = single
        #: rows per block when a reduced function is fed long inputs (see ``__call__``)
        self.block_rows = _BLOCK_ROWS

    def __call__(self, *values):
        specs = self._specs
        if len(values) != len(specs):
            raise ArgumentError(
                f"compiled function takes {len(specs)} argument(s) ({', '.join(self.args)}), "
                f"got {len(values)}"
            )
        arrays = []
        lead = []
        L = ()  # the leading shape, if all non-scalar leading shapes agree (the usual case)
        uniform = True
        for spec, v in zip(specs, values, strict=True):
            tv = type(v)
            if tv is numpy.ndarray and v.dtype == _F64:
                a = v
            elif tv is float:
                a = numpy.float64(v)
            elif _is_dask(v):  # Dask arrays: per-block partial sums (symml/_dask.py)
                return _dask_call(self, values)
            else:
                a = _as_float_array(v, spec)
            shape = a.shape
            nd = len(spec.shape)
            if nd:
                if shape[len(shape) - nd :] != spec.shape or len(shape) < nd:
                    raise _shape_error(spec, shape)
                shape = shape[: len(shape) - nd]
            if shape and shape != L:
                if L:
                    uniform = False
                L = shape
            lead.append(shape)
            arrays.append(a)
        if not uniform:
            try:
                L = numpy.broadcast_shapes(*lead)
            except ValueError:
                detail = ", ".join(f"{s.label}: {sh}" for s, sh in zip(specs, lead, strict=True))
                raise ShapeError(
                    f"the arguments' leading (row) shapes do not broadcast together ({detail})"
                ) from None
        N = math.prod(L)
        if not self.reduce:
            return self._func(*arrays, L, N)
        if self.reduce == "mean" and N == 0:
            raise ShapeError("reduce='mean' over zero rows is undefined")
        B = self.block_rows
        if len(L) == 1 and N > B + B // 2:
            # Rows in blocks: every temporary of a block stays in cache, and the second
            # pass over a block of X (X.T @ r after X @ w) reads it from cache, not memory.
            func = self._func
            rows = [r == L for r in lead]
            out = None
            for i in range(0, N, B):
                j = min(i + B, N)
                part = func(
                    *[a[i:j] if r else a for a, r in zip(arrays, rows, strict=True)],
                    (j - i,),
                    j - i,
                )
                out = part if out is None else _tree_add(out, part)
        else:
            out = self._func(*arrays, L, N)
        if self.reduce == "mean":
            out = _tree_scale(out, 1.0 / N)
        return out

    def __repr__(self) -> str:
        out = "value" if self._single else f"{len(self.exprs)} values"
        if self.grad is not None:
            out += f" + grad[{', '.join(self.grad)}]"
        extra = f", reduce={self.reduce!r}" if self.reduce else ""
        return f"<CompiledFunction ({', '.join(self.args)}) -> {out}{extra}>"


_F64 = numpy.dtype(numpy.float64)


def _shape_error(spec: _Arg, shape) -> ShapeError:
    nd = len(spec.shape)
    want = ", ".join(map(str, spec.shape))
    return ShapeError(
        f"argument {spec.label}: expected an array whose last "
        f"{'axis has' if nd == 1 else 'axes have'} length {want} "
        f"(shape (..., {want})), got shape {shape}"
    )


def _tree_add(a, b):
    if isinstance(a, tuple):
        return tuple(_tree_add(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, list):
        return [_tree_add(x, y) for x, y in zip(a, b, strict=True)]
    if type(a) is numpy.ndarray and a.ndim:
        a += b
        return a
    return a + b


def _tree_scale(a, s):
    if isinstance(a, tuple):
        return tuple(_tree_scale(x, s) for x in a)
    if isinstance(a, list):
        return [_tree_scale(x, s) for x in a]
    return a * s


def _as_float_array(v, spec: _Arg):
    try:
        a = numpy.asarray(v)
        if a.dtype.kind == "c":
            raise ArgumentError(f"argument {spec.label}: complex values are not supported")
        return a.astype(float, copy=False)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ArgumentError):
            raise
        raise ArgumentError(
            f"argument {spec.label}: expected a number or an array of numbers, got "
            f"{type(v).__name__} ({exc})"
        ) from None


def _entries_of(e) -> tuple[Any, tuple[int, ...]]:
    if isinstance(e, sympy.MatrixBase):
        shape = (e.rows,) if e.cols == 1 else tuple(e.shape)
        arr = numpy.empty(shape, dtype=object)
        for idx in numpy.ndindex(shape):
            arr[idx] = e[idx[0], idx[1] if len(idx) > 1 else 0]
        return arr, shape
    arr = numpy.empty((), dtype=object)
    arr[()] = e
    return arr, ()


@budgeted("compile")
def compile(  # noqa: A001 - the public name of the contract
    f,
    args,
    grad=None,
    reduce: str | None = None,
) -> CompiledFunction:
    """Compile expressions to a vectorized NumPy function with ordered arguments.

    Parameters
    ----------
    f : expression, Matrix, or list of them
        Language text or SymPy. A list gives a tuple of results. A Matrix (a Hessian, say)
        gives an array with the matrix axes last; a column vector gives one axis.
    args : names, Symbols, Matrices, or a mapping such as ``prog.params``
        The function's arguments in call order (``["w", "b", "x", "y"]`` or ``"x, y"``).
        A scalar name takes a number or an array; a vector ``w`` of length ``k`` takes an
        array whose last axis has length ``k`` (``n`` rows of a data vector ``x[3]`` are an
        ``(n, 3)`` array); a matrix ``W[r, c]`` takes an array whose last two axes are
        ``(r, c)``. Results broadcast over the leading axes.
    grad : names, optional
        Also return the derivatives with respect to these arguments: the call returns
        ``(value, [g_1, ..., g_m])``; a vector's gradient has its components on the last
        axis. Value and gradient share every common subexpression.
    reduce : {None, "sum", "mean"}
        Reduce value and gradient over the leading (row) axes inside the call. Linear forms
        over data vectors are then computed as matrix products (``X @ w``, ``X.T @ r``).

    Returns
    -------
    CompiledFunction
        Results are float arrays of the inputs' broadcast leading shape (a NumPy float when
        that shape is ``()``), including constant results.

    Notes
    -----
    Compiled code is real double-precision arithmetic, and never drops an imaginary part:

    * at compile time, a constant subexpression that is not real (``log(-3)``, ``sqrt(-2)``,
      ``asin(2)``, ``I``), undefined (``log(0)``, ``0/0``), infinite (``atanh(1)``) or
      beyond the float range (``10^400``) is an ArgumentError;
    * at call time, where the exact value at the given point is not real (``log(x)`` or
      ``sqrt(x)`` at ``x < 0``, ``loggamma(x)`` at a negative non-integer, ``asin(x)`` at
      ``|x| > 1``) the result is ``nan`` (NumPy may also warn). :func:`symml.minimize` and
      :func:`symml.fit` treat a ``nan`` objective as an error or a rejected step, never as
      a value; complex arguments are an ArgumentError.

    Raises
    ------
    ArgumentError
        Unknown or duplicate variables, a free symbol missing from ``args``, a function
        that cannot be compiled, or (at call time) the wrong number of values.
    ShapeError
        (At call time) an array whose last axis does not fit its vector.

    Examples
    --------
    >>> import numpy as np
    >>> import symml as sm
    >>> w, x = sm.vector("w", 2), sm.vector("x", 2)
    >>> b, y = sm.symbol("b"), sm.symbol("y")
    >>> z = w[0] * x[0] + w[1] * x[1] + b
    >>> nll = sm.compile(sm.softplus(z) - y * z, [w, b, x, y], grad=[w, b], reduce="sum")
    >>> X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.0, 0.0]])
    >>> value, (gw, gb) = nll(np.array([0.1, -0.2]), 0.3, X, np.array([1.0, 0.0, 1.0]))
    >>> round(float(value), 6), gw.round(6), round(float(gb), 6)
    (2.296779, array([ 0.267234, -1.634136]), -0.31603)
    >>> sm.compile("y - log(-3)", "y")
    Traceback (most recent call last):
    ...
    symml.errors.ArgumentError: compile: the constant -I*pi in y - log(3) - I*pi is not ...
    >>> sm.compile("loggamma(x)", "x")(np.array([-0.5, 0.5]))
    array([       nan, 0.57236494])
    """
    if reduce not in _REDUCE:
        raise ArgumentError(f"compile: reduce must be None, 'sum' or 'mean', got {reduce!r}")
    single = not isinstance(f, (list, tuple))
    fs = [f] if single else list(f)
    if not fs:
        raise ArgumentError("compile: no expression given")
    global _FS_MEMO
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, _RECURSION_LIMIT))
    _FS_MEMO = {}
    try:
        return _compile(fs, args, grad, reduce, single)
    finally:
        _FS_MEMO = {}
        sys.setrecursionlimit(old)


_UNDEFINED = (sympy.zoo, sympy.nan)


def _constant_is_real(c) -> bool | None:
    """False if the constant ``c`` is certainly not a real number (nor +-oo)."""
    if c.is_Number or c in (sympy.pi, sympy.E, sympy.EulerGamma, sympy.oo, -sympy.oo):
        return c is not sympy.nan and c is not sympy.zoo
    if c.has(*_UNDEFINED):
        return False
    real = c.is_extended_real
    if real is not None:
        return bool(real)
    try:
        v = complex(c.evalf(30))
    except (TypeError, ValueError, ArithmeticError):
        return None
    return abs(v.imag) <= 1e-25 * max(1.0, abs(v.real))


def _short(e, limit: int = 60) -> str:
    text = str(sympy.Float(e, 4)) if e.is_Number and not e.is_Float else str(e)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _too_big(c) -> bool:
    """True if the real constant ``c`` is finite but its magnitude overflows a float."""
    if c.is_Integer:
        return abs(c.p) > 2**1024
    if c.is_Rational:
        return abs(c.p) > c.q * 2**1024
    try:
        v = c.evalf(15)
    except (TypeError, ValueError, ArithmeticError):
        return False
    if not v.is_Float:
        return False
    return bool(abs(v) > sympy.Float(1.7976931348623157e308))


def _check_real_constants(expr) -> None:
    """Compiled code is real arithmetic: a constant subexpression that is not real (``I``,
    ``log(-3) = log(3) + I*pi``, ``asin(2)``) or undefined (``log(0) = zoo``, ``0/0``) is
    an error at compile time, never an imaginary part dropped at call time."""
    stack, seen = [expr], set()
    while stack:
        e = stack.pop()
        if e in seen or not isinstance(e, sympy.Basic):
            continue
        seen.add(e)
        if not e.free_symbols:
            if isinstance(e, sympy.Expr) and not _constant_is_real(e):
                what = (
                    "undefined (complex infinity or nan)"
                    if e.has(*_UNDEFINED)
                    else "not a real number"
                )
                raise ArgumentError(
                    f"compile: the constant {e} in {expr} is {what}; compiled functions "
                    "compute real values, so the expression has no real value here. Fix the "
                    "formula (e.g. log(3) instead of log(-3)) or keep it symbolic"
                )
            if e in (sympy.oo, -sympy.oo):
                raise ArgumentError(
                    f"compile: the constant {e} in {_short(expr)} is infinite (a pole, such as "
                    f"atanh(1) or loggamma(0)); the expression has no finite value here"
                )
            if isinstance(e, sympy.Expr) and e.is_finite is not False and _too_big(e):
                raise ArgumentError(
                    f"compile: the constant {_short(e)} in {_short(expr)} is beyond the range "
                    f"of double precision (about 1.8e308), so compiled code would turn it "
                    f"into inf; rescale the formula (e.g. take logarithms)"
                )
            continue
        stack.extend(e.args)


def _compile(fs, args, grad, reduce, single) -> CompiledFunction:
    exprs = [_as_sympy(fi) for fi in fs]
    for e in exprs:
        if not isinstance(e, (sympy.Expr, sympy.MatrixBase)):
            raise ArgumentError(
                f"compile: expected an expression, got {type(e).__name__} {e}; relations and "
                "booleans cannot be compiled"
            )
    for e in exprs:
        for entry in e if isinstance(e, sympy.MatrixBase) else (e,):
            _check_real_constants(entry)
    specs = _resolve_args(args, exprs)
    grad_specs = None if grad is None else _resolve_grad(grad, exprs, specs)

    # 1. numerical safety, 2. derivatives (then safety again)
    memo: dict = {}
    dctx = DiffContext()  # one memo of derivatives for every entry
    blocks_per_f: list[list[_Block]] = []
    for e in exprs:
        entries, shape = _entries_of(e)
        for idx in numpy.ndindex(shape):
            entries[idx] = _safe(entries[idx], memo)
        blocks = [_Block(entries, shape)]
        if grad_specs is not None:
            for g in grad_specs:
                gshape = shape + g.shape
                ge = numpy.empty(gshape, dtype=object)
                for idx in numpy.ndindex(shape):
                    for j, gidx in enumerate(numpy.ndindex(g.shape)):
                        ge[idx + gidx] = _safe(dctx.d(entries[idx], g.symbols[j]), memo)
                blocks.append(_Block(ge, gshape))
        blocks_per_f.append(blocks)

    # 3. linear forms over data vectors (vector args we do not differentiate by)
    gsyms = {s for g in grad_specs or () for s in g.symbols}
    data = [a for a in specs if len(a.shape) == 1 and not (set(a.symbols) & gsyms)]
    linear = _Linear(data)
    for blocks in blocks_per_f:
        for blk in blocks:
            for idx in numpy.ndindex(blk.shape):
                blk.entries[idx] = linear(blk.entries[idx])
            if blk.shape and len(blk.shape) == 2 and blk.shape[0] == blk.shape[1]:
                n = blk.shape[0]
                blk.symmetric = all(
                    blk.entries[i, j] == blk.entries[j, i] for i in range(n) for j in range(i)
                )
            if len(blk.shape) == 1 and data:
                blk.outer = _outer_split(list(blk.entries), data)

    # 4. the scalars to compute, one CSE over all of them
    todo: list = []

    def want(e) -> int:
        todo.append(e)
        return len(todo) - 1

    plan = []  # per f: per block: ("entries", [(idx, k)], sym) | ("outer", arg, kF, [(i, kR)])
    for blocks in blocks_per_f:
        fplan = []
        for blk in blocks:
            if blk.outer is not None:
                arg, F, R = blk.outer
                fplan.append(
                    ("outer", blk, arg, want(F), [(i, want(r)) for i, r in enumerate(R) if r != 0])
                )
                continue
            items = []
            for idx in numpy.ndindex(blk.shape):
                if blk.symmetric and idx[0] > idx[1]:
                    continue
                items.append((idx, want(blk.entries[idx])))
            fplan.append(("entries", blk, items))
        plan.append(fplan)

    replacements, reduced = _cse(todo)

    # 5. print
    names = _Names()
    local: dict = {}
    arg_locals = []
    for a in specs:
        nm = names.fresh(a.name)
        arg_locals.append(nm)
        if not a.shape:
            local[a.symbols[0]] = nm
    lines: list[str] = []
    # components are extracted lazily: only those that appear
    comp_of = {}
    for a, nm in zip(specs, arg_locals, strict=True):
        if a.shape:
            for j, idx in enumerate(numpy.ndindex(a.shape)):
                comp_of[a.symbols[j]] = (nm, idx)
    printer = _Printer(local)
    counter = {"x": 0, "h": 0}

    def name_dummy(d, prefix):
        counter[prefix] = counter.get(prefix, 0) + 1
        local[d] = f"_{prefix}{counter[prefix] - 1}"
        return local[d]

    def ensure_components(e):
        for s in _fs(e):
            if s in comp_of and s not in local:
                nm, idx = comp_of[s]
                lname = names.fresh(f"{nm}_{'_'.join(map(str, idx))}")
                local[s] = lname
                lines.append(f"    {lname} = {nm}[..., {', '.join(map(str, idx))}]")

    def pr(e) -> str:
        ensure_components(e)
        try:
            return printer._print(e)
        except PrintMethodNotImplementedError as exc:
            raise ArgumentError(
                f"compile: cannot compile {e} to NumPy ({str(exc).splitlines()[0]}); "
                "undefined functions and unevaluated derivatives or integrals have no "
                "numerical form"
            ) from None

    arg_local_of = {a.name: nm for a, nm in zip(specs, arg_locals, strict=True)}
    depth_memo: dict = {}

    def emit(target: str, e) -> None:
        hoist: list = []
        e2, _ = _depth_limit(e, hoist, depth_memo)
        for tmp, node in hoist:
            body_line(name_dummy(tmp, "h"), node)
        body_line(target, e2)

    def body_line(target, e):
        text = pr(e)
        lines.append(f"    {target} = {text}")

    # coefficient vectors that are an argument as a whole: a vector, a row or a column of a matrix
    whole: dict = {}
    for a in specs:
        nm = arg_local_of[a.name]
        if len(a.shape) == 1:
            whole[tuple(a.symbols)] = nm
        elif len(a.shape) == 2:
            r, c = a.shape
            for i in range(r):
                whole.setdefault(tuple(a.symbols[i * c : (i + 1) * c]), f"{nm}[..., {i}, :]")
            for j in range(c):
                whole.setdefault(tuple(a.symbols[j::c]), f"{nm}[..., :, {j}]")
    for ph, arg, cs in linear.defs:
        nm = name_dummy(ph, "lin")
        xname = arg_local_of[arg.name]
        if cs in whole:
            lines.append(f"    {nm} = _dot({xname}, {whole[cs]})")
        elif all(c.is_number for c in cs):
            consts = ", ".join(repr(float(c)) for c in cs)
            lines.append(f"    {nm} = {xname} @ numpy.array([{consts}])")
        else:
            lines.append(f"    {nm} = _dot({xname}, _stack({', '.join(pr(c) for c in cs)}))")

    uses: dict = {}
    for _, e in replacements:
        for s in _fs(e):
            uses[s] = uses.get(s, 0) + 1
    for e in reduced:
        for s in _fs(e):
            uses[s] = uses.get(s, 0) + 1
    for sym, e in replacements:
        target = name_dummy(sym, "x")
        # z = x @ w + b: add the bias in place into the fresh matrix-product result
        if (
            e.is_Add
            and len(e.args) == 2
            and any(a in linear.forms.values() and uses.get(a) == 1 for a in e.args)
        ):
            ph = next(a for a in e.args if a in linear.forms.values() and uses.get(a) == 1)
            other = e.args[1] if e.args[0] is ph else e.args[0]
            hoist: list = []
            other2, _ = _depth_limit(other, hoist, depth_memo)
            for tmp, node in hoist:
                body_line(name_dummy(tmp, "h"), node)
            lines.append(f"    {target} = _iadd({local[ph]}, {pr(other2)})")
            continue
        emit(target, e)

    # outputs nested too deeply are broken up like the CSE assignments
    for k, e in enumerate(reduced):
        hoist = []
        reduced[k], _ = _depth_limit(e, hoist, depth_memo)
        for tmp, node in hoist:
            body_line(name_dummy(tmp, "h"), node)

    def value_code(e) -> str:
        """Code for a reduced scalar (or broadcast scalar) result."""
        if reduce is None:
            # a bare symbol would be an input, a view of one, or shared with another result
            return f"_fincopy({pr(e)}, _L)" if e.is_Symbol else f"_fin({pr(e)}, _L)"
        parts = []
        terms = e.args if (e.is_Add and len(e.args) <= 4) else (e,)
        for t in terms:
            c, rest = t.as_coeff_Mul()
            if rest.is_Mul and len(rest.args) == 2:
                code = f"_rvdot({pr(rest.args[0])}, {pr(rest.args[1])}, _L)"
            else:
                code = f"_rsum({pr(rest)}, _L)"
            if c == 1:
                parts.append(code)
            elif c == -1:
                parts.append(f"-{code}")
            else:
                parts.append(f"{pr(c)}*{code}")
        out = " + ".join(parts).replace("+ -", "- ")
        return out

    def entry_code(e) -> str:
        """Code for one entry assigned into a block (broadcast by assignment)."""
        if reduce is None:
            return pr(e)
        return value_code(e)

    results = []
    rcount = 0
    for fplan in plan:
        outs = []
        for item in fplan:
            target = f"_r{rcount}"
            rcount += 1
            if item[0] == "outer":
                _, blk, arg, kF, rs = item
                xname = arg_local_of[arg.name]
                F = pr(reduced[kF])
                if reduce is None:
                    lines.append(f"    {target} = _outer({F}, {xname}, _L)")
                    for i, kR in rs:
                        lines.append(f"    {target}[..., {i}] += {pr(reduced[kR])}")
                else:
                    lines.append(f"    {target} = _rdot({F}, {xname}, _L)")
                    for i, kR in rs:
                        lines.append(f"    {target}[{i}] += {value_code(reduced[kR])}")
                outs.append(target)
                continue
            _, blk, items = item
            if not blk.shape:
                lines.append(f"    {target} = {value_code(reduced[items[0][1]])}")
                outs.append(target)
                continue
            shape = repr(tuple(blk.shape))
            if reduce is None:
                lines.append(f"    {target} = _empty(_L, {shape})")
                pre = "..., "
            else:
                lines.append(f"    {target} = numpy.empty({shape})")
                pre = ""
            for idx, k in items:
                ix = ", ".join(map(str, idx))
                lines.append(f"    {target}[{pre}{ix}] = {entry_code(reduced[k])}")
                if blk.symmetric and idx[0] != idx[1]:
                    jx = ", ".join(map(str, (idx[1], idx[0])))
                    lines.append(f"    {target}[{pre}{jx}] = {target}[{pre}{ix}]")
            outs.append(target)
        if grad_specs is None:
            results.append(outs[0])
        else:
            results.append(f"({outs[0]}, [{', '.join(outs[1:])}])")

    ret = results[0] if single else "(" + ", ".join(results) + ",)"
    doc = "Generated by symml.compile; _L = leading (row) shape, _N = its size."
    if reduce:
        doc += (
            "\n\n    Sums over the rows. The caller feeds long inputs in blocks of rows, adds the"
            "\n    blocks' sums, and divides by the number of rows for reduce='mean'.\n    "
        )
    header = [
        f"def _symml_compiled({', '.join(arg_locals + ['_L', '_N'])}):",
        f'    """{doc}"""',
    ]
    source = "\n".join(header + lines + [f"    return {ret}", ""])
    namespace = dict(_NAMESPACE_BASE)
    # The source was printed by our own printer from SymPy objects (never user text), so
    # exec'ing it in this private namespace is safe.
    code = builtins.compile(source, "<symml.compile>", "exec")
    exec(code, namespace)  # noqa: S102
    return CompiledFunction(
        namespace["_symml_compiled"], source, specs, grad_specs, reduce, exprs, single
    )
