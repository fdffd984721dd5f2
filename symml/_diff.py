"""The one differentiation engine of symml: forward mode for SymPy's forms, reverse mode
(symbolic backpropagation) for large expressions, both memoized over the expression DAG.

Every derivative symml computes (``diff``, ``grad``, ``jacobian``, ``hessian``, ``hvp``,
``taylor``, ``compile(grad=...)``, the least-squares Jacobians, the likelihood gradients and
Hessians, Lagrange/KKT and the checks inside step derivations) goes through this module;
nothing else in the package calls ``sympy.diff`` or ``Expr.diff`` (a test scans the source).

Design
------
A :class:`DiffContext` holds the memo tables of one call (never module globals): the free
symbols of each distinct node, ``(node, seed) -> derivative`` for forward mode, and
``node -> {symbol: derivative}`` for reverse sweeps.

*Forward mode* (:meth:`DiffContext.forward`) applies SymPy's own local rules (``Add``, the
Leibniz rule for ``Mul``, ``Pow``, the chain rule with ``fdiff``) in the same order with the
same constructors, so its results are *structurally identical* to ``sympy.diff`` (the tests
compare with ``==``). A seed is one variable or a direction ``{x_j: u_j}``. symml's own
functions (sigmoid, softplus, relu) keep their exact ``fdiff``; nodes with their own
``_eval_derivative`` (Piecewise, Abs, Max, Integral, ...) are handed to SymPy.

*Reverse mode* (:meth:`DiffContext.reverse`) sweeps the distinct nodes once, parents before
children: a node's adjoint is the sum of (parent's adjoint) * (parent's local partial), built
with SymPy's evaluating constructors, so the gradient costs about as much as ``f`` whatever
the number of variables. Its entries are canonical SymPy expressions equal to SymPy's
derivatives (tests check at random points with 30 digits), grouped along the chain rule
(``x_j * (1 - tanh(a)**2) * (sum ...)``) instead of SymPy's expanded products.

Why both, and when: on the 4-8-1 MLP loss of issue 9 (49 parameters) forward mode takes
0.1-0.4 s for the gradient and 1.6-3 s for the Hessian, because SymPy's ``Mul.flatten`` of
the long chain-rule products (~0.5 ms each) is paid once per (node, variable); reverse mode
takes 5-10 ms for the gradient, and the Hessian as *forward over reverse* (the forward
derivative of the reverse gradient, whose entries share their adjoints, one memo for all
entries, only ``H[i][j]`` with ``i <= j`` derived) 0.3-0.4 s. A Hessian-vector product of a
large ``f`` is *reverse over forward*: the reverse gradient of the directional derivative
``f_u`` (0.5 s for the 369-parameter MLP, against 5 s for forward over reverse, and its size
grows like the gradient's). The default ``mode="auto"`` keeps forward mode, and so SymPy's
exact forms for every textbook expression and step derivation, below ``REVERSE_ABOVE``
(subexpression, variable) pairs, and switches to reverse mode above it; ``mode="forward"``
or ``"reverse"`` force one. In ``"auto"`` mode ``d(e, v)`` of a large ``e`` runs one reverse
sweep by all free symbols of ``e`` and serves later variables from it, which makes
``compile(f, grad=...)`` linear in the size of ``f``.

SymEngine, the optional accelerator (``pip install "symml[fast]"``): ``DiffContext(fast=...)``
(and ``fast=`` of :func:`gradient`, :func:`jacobian`, :func:`hessian`, :func:`hvp`) sends
gradients, Jacobians, Hessians and Hessian-vector products through SymEngine: the
expression is converted once (each variable a uniquely named SymEngine symbol, so
assumptions and Dummies survive; each subexpression free of the variables an opaque
constant; numbers exactly, Floats of double precision only; symml's sigmoid, softplus and
relu as SymEngine undefined functions whose ``Derivative``/``Subs`` come back as their own
exact ``fdiff``), differentiated by SymEngine, and converted back once per distinct node with
SymPy's evaluating constructors -- except products, built by sorting alone where
``Mul.flatten`` would only sort (distinct, non-numeric bases, no coefficient times a single
sum; the tests compare every such product with ``Mul(*args)``). Anything else that depends
on a variable (Abs, Piecewise, Max, multi-argument functions...) or anything unexpected in
SymEngine's result makes the call fall back to SymPy's engine above, so the answer is never
different: the tests check both paths agree symbolically and at random points on the MLP-49
loss, a sigmoid MLP, the logistic loss, NIST models and a hypothesis corpus.
``fast=False`` (the default) never uses it; ``fast=True`` uses it wherever it can and raises
:class:`~symml.backends.MissingExtraError` naming the extra if SymEngine is missing;
``fast="auto"`` uses it, when installed, for the Hessians of large expressions only. Why:
SymEngine's own ``diff`` of the MLP-49 Hessian takes ~60 ms, but building the ~6000 distinct
SymPy nodes of the result costs 0.3-1 s, so end to end it matches symml's
forward-over-reverse Hessian (1.0-1.1x; 1.5x on a 2-3-1 net, where symml stays in forward
mode; benchmarks/bench_symengine.py, docs/performance.md), and gradients are ~6x *slower*
through SymEngine than symml's reverse mode. A gain that small does not justify changing,
by default, the forms every caller (step derivations, compile) sees.

The traversals are iterative (explicit stacks), so deep compositions and sums of 10^4 terms
differentiate without RecursionError (SymPy's flattening makes very deep chains slow:
depth 100 takes seconds).

>>> import sympy
>>> x, y = sympy.symbols("x y")
>>> ctx = DiffContext()
>>> ctx.d(x**2 * sympy.sin(y), x)
2*x*sin(y)
>>> ctx.hessian(x**2 * y, [x, y])
[[2*y, 2*x], [2*x, 0]]
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Mapping, Sequence

import sympy
from sympy import Add, Function, Mul, Pow, S
from sympy.core.function import ArgumentIndexError

__all__ = ["DiffContext", "deep", "d", "diff", "gradient", "jacobian", "hessian", "hvp"]

# SymPy's own tree walks (free_symbols, subs, printing) recurse once per level; the engine
# does not, but callers that meet deep expressions at the boundary raise the limit with this.
_RECURSION_LIMIT = 20000


def _as_basic(v):
    """A tangent as a SymPy object (callers pass SymPy objects or Python numbers, never text)."""
    if isinstance(v, sympy.Basic):
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"a direction component must be a SymPy object or a number, got {v!r}")
    return sympy.Integer(v) if isinstance(v, int) else sympy.Float(v)


def deep(fn):
    """Decorator: run ``fn`` with Python's recursion limit raised for deep expressions.

    >>> deep(lambda: sys.getrecursionlimit() >= _RECURSION_LIMIT)()
    True
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        old = sys.getrecursionlimit()
        if old < _RECURSION_LIMIT:
            sys.setrecursionlimit(_RECURSION_LIMIT)
        try:
            return fn(*args, **kwargs)
        finally:
            sys.setrecursionlimit(old)

    return wrapper


_FUNCTION_RULE = Function._eval_derivative
_POW_RULE = Pow._eval_derivative
_MUL_RULE = Mul._eval_derivative_n_times
_ADD_RULE = Add._eval_derivative


#: Forward mode above this many (subexpression, variable) pairs switches to reverse mode
#: in ``"auto"`` mode. Textbook expressions stay far below it (and keep SymPy's forms).
REVERSE_ABOVE = 500
_MODES = ("auto", "forward", "reverse")


def _times(adj, p):
    """``adj * p`` without building products by one."""
    if p is S.One:
        return adj
    if adj is S.One:
        return p
    return Mul(adj, p)


def _partial(node, kind: str, i: int):
    """The local partial derivative of ``node`` by its ``i``-th argument."""
    args = node.args
    if kind == "add":
        return S.One
    if kind == "mul":
        return Mul(*args[:i], *args[i + 1 :])
    if kind == "pow":
        base, ex = args
        return ex * base ** (ex - 1) if i == 0 else node * sympy.log(base)
    try:
        return node.fdiff(i + 1)
    except ArgumentIndexError:
        return Function.fdiff(node, i + 1)


def _kind(e) -> str:
    """Which local rule applies to ``e``: 'atom', 'add', 'mul', 'pow', 'fun' or 'other'."""
    cls = type(e)
    if e.is_Symbol or e.is_Number or e.is_NumberSymbol or not e.args:
        return "atom" if e.is_Symbol or e.is_Number or e.is_NumberSymbol else "other"
    if e.is_Add:
        return "add" if cls._eval_derivative is _ADD_RULE else "other"
    if e.is_Mul:
        ok = cls._eval_derivative_n_times is _MUL_RULE and e.is_commutative
        return "mul" if ok else "other"
    if e.is_Pow:
        return "pow" if cls._eval_derivative is _POW_RULE else "other"
    if isinstance(e, Function) and cls._eval_derivative is _FUNCTION_RULE:
        return "fun"
    return "other"


class DiffContext:
    """Memo tables for one differentiation job (a gradient, a Hessian, a compile call).

    Reuse one context for all the derivatives of one job so shared subexpressions are
    differentiated once; drop it afterwards.

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> ctx = DiffContext()
    >>> ctx.d(sympy.exp(x**2), x) == sympy.diff(sympy.exp(x**2), x)
    True
    """

    def __init__(self, mode: str = "auto", fast=False) -> None:
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}, got {mode!r}")
        if not any(fast is v for v in _FAST_VALUES):
            raise ValueError(f"fast must be False, True or 'auto', got {fast!r}")
        self.mode = mode
        self.fast = fast
        if fast is True:
            _symengine(required=True)
        #: which engine produced the last gradient/jacobian/hessian/hvp: "symengine" or "sympy"
        self.engine = "sympy"
        self.free: dict = {}
        self.memo: dict = {}
        self.kinds: dict = {}
        self._seeds: dict = {}
        self._rows: dict = {}  # e -> {symbol: de/dsymbol}, from one reverse sweep
        self._size: dict = {}  # (e, vs) -> whether forward mode would be large
        self._no_fast: set = set()  # expressions the SymEngine bridge cannot carry

    # -- free symbols, memoized per node ---------------------------------------------------
    def free_symbols(self, e) -> frozenset:
        """Free symbols of ``e``, each distinct node visited once (iteratively)."""
        hit = self.free.get(e)
        if hit is not None:
            return hit
        stack = [e]
        while stack:
            node = stack[-1]
            if node in self.free:
                stack.pop()
                continue
            kind = self._kind(node)
            if kind == "atom":
                self.free[node] = frozenset((node,)) if node.is_Symbol else frozenset()
                stack.pop()
                continue
            if kind == "other":
                self.free[node] = frozenset(node.free_symbols)
                stack.pop()
                continue
            todo = [a for a in node.args if a not in self.free]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            acc: set = set()
            for a in node.args:
                acc |= self.free[a]
            self.free[node] = frozenset(acc)
        return self.free[e]

    def _kind(self, e) -> str:
        k = self.kinds.get(e)
        if k is None:
            k = self.kinds[e] = _kind(e)
        return k

    # -- seeds -----------------------------------------------------------------------------
    def _seed(self, var):
        """A hashable key and a ``{symbol: tangent}`` map for a variable or a direction."""
        if isinstance(var, Mapping):
            items = tuple((k, _as_basic(v)) for k, v in var.items())
            key = ("dir", items)
            if key not in self._seeds:
                self._seeds[key] = (dict(items), frozenset(k for k, _ in items))
            return key
        key = var
        if key not in self._seeds:
            self._seeds[key] = ({var: S.One}, frozenset((var,)))
        return key

    # -- the derivative --------------------------------------------------------------------
    def d(self, e, var):
        """``d e / d var`` (``var`` a Symbol), or the directional derivative of ``e`` along a
        mapping ``{x_j: u_j}``.

        In ``"forward"`` mode (and in ``"auto"`` mode for small ``e``) this is structurally
        identical to ``sympy.diff``. In ``"auto"`` mode a large ``e`` (see
        :meth:`_large`) is differentiated by reverse mode once, by all its free symbols,
        and later calls for other variables are served from that gradient (this is what
        makes ``compile(f, grad=...)`` linear in the size of ``f``).
        """
        if isinstance(e, sympy.MatrixBase):
            return e.applyfunc(lambda entry: self.d(entry, var))
        if isinstance(var, Mapping) or not var.is_Symbol or self.mode == "forward":
            return self.forward(e, var)
        row = self._rows.get(e)
        if row is None:
            if self.mode == "auto" and not self._large(e, None):
                return self.forward(e, var)
            syms = [s for s in self.free_symbols(e) if s.is_Symbol]
            syms.sort(key=sympy.default_sort_key)
            row = self._rows[e] = dict(zip(syms, self.reverse(e, syms), strict=True))
        return row.get(var, S.Zero)

    def forward(self, e, var):
        """Forward mode, memoized per (node, seed): SymPy's rules, SymPy's forms."""
        if isinstance(e, sympy.MatrixBase):
            return e.applyfunc(lambda entry: self.forward(entry, var))
        if not isinstance(var, Mapping) and not var.is_Symbol:
            return e.diff(var)  # derivative by a function or a derivative: SymPy's own
        key = self._seed(var)
        tangents, wrt = self._seeds[key]
        memo = self.memo
        hit = memo.get((e, key))
        if hit is not None:
            return hit
        stack = [e]
        while stack:
            node = stack[-1]
            mk = (node, key)
            if mk in memo:
                stack.pop()
                continue
            if not (self.free_symbols(node) & wrt):
                memo[mk] = S.Zero
                stack.pop()
                continue
            kind = self._kind(node)
            if kind == "atom":
                memo[mk] = tangents.get(node, S.Zero)
                stack.pop()
                continue
            if kind == "other":
                memo[mk] = self._other(node, tangents)
                stack.pop()
                continue
            todo = [a for a in node.args if (a, key) not in memo]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            memo[mk] = self._rule(node, kind, [memo[(a, key)] for a in node.args])
        return memo[(e, key)]

    # -- reverse mode ----------------------------------------------------------------------
    def _order(self, f, wrt: frozenset) -> list:
        """The distinct nodes of ``f`` that depend on ``wrt``, children before parents."""
        order: list = []
        seen: set = set()
        stack = [(f, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if node in seen or not (self.free_symbols(node) & wrt):
                continue
            seen.add(node)
            stack.append((node, True))
            if self._kind(node) not in ("atom", "other"):
                stack.extend((a, False) for a in reversed(node.args) if a not in seen)
        return order

    def _large(self, f, vs) -> bool:
        """Whether forward mode would differentiate more than ``REVERSE_ABOVE``
        (subexpression, variable) pairs of ``f`` (``vs`` None: all its free symbols)."""
        hit = self._size.get((f, vs))
        if hit is None:
            wrt = self.free_symbols(f) if vs is None else frozenset(vs)
            work = 0
            for node in self._order(f, wrt):
                work += len(self.free_symbols(node) & wrt)
                if work > REVERSE_ABOVE:
                    break
            hit = self._size[(f, vs)] = work > REVERSE_ABOVE
        return hit

    def reverse(self, f, vs: Sequence) -> list:
        """The gradient of ``f`` by ``vs`` in reverse mode (symbolic backpropagation).

        One sweep over the distinct nodes of ``f``, parents before children: the adjoint
        of a node is the sum of (adjoint of a parent) * (the parent's local partial), built
        with SymPy's evaluating constructors. Each node is visited once whatever the number
        of variables, so the gradient costs about as much as ``f``. Nodes with their own
        derivative rules (Piecewise, Abs, Max, ...) are leaves here: their contribution is
        ``adjoint * forward(node, v)``.
        """
        wrt = frozenset(vs)
        parts: dict = {f: [S.One]}
        grads: dict = {v: [] for v in vs}
        for node in reversed(self._order(f, wrt)):
            contribs = parts.pop(node, None)
            if not contribs:
                continue
            adj = contribs[0] if len(contribs) == 1 else Add(*contribs)
            kind = self._kind(node)
            if kind == "atom":
                grads[node].append(adj)
                continue
            if kind == "other":
                for v in vs:
                    if v in self.free_symbols(node):
                        grads[v].append(_times(adj, self.forward(node, v)))
                continue
            args = node.args
            for i, a in enumerate(args):
                if self.free_symbols(a) & wrt:
                    parts.setdefault(a, []).append(_times(adj, _partial(node, kind, i)))
        return [Add(*grads[v]) if grads[v] else S.Zero for v in vs]

    @staticmethod
    def _other(node, tangents):
        """Nodes with their own derivative method: SymPy differentiates them."""
        out = S.Zero
        parts = []
        for v, u in tangents.items():
            dv = node.diff(v)
            if dv != 0:
                parts.append(dv if u == 1 else dv * u)
        if len(tangents) == 1:
            return parts[0] if parts else out
        return Add(*parts)

    @staticmethod
    def _rule(node, kind, ds):
        """SymPy's local rule for ``node`` given the derivatives ``ds`` of its arguments."""
        if kind == "add":
            return Add(*ds)
        args = node.args
        if kind == "mul":
            # Mul._eval_derivative_n_times with n = 1 (the Leibniz rule, one term per factor)
            terms = []
            for i, di in enumerate(ds):
                if di == 0:
                    continue
                terms.append(Mul(*args[:i], di, *args[i + 1 :]))
            return Add(*terms)
        if kind == "pow":
            base, ex = args
            dbase, dexp = ds
            return node * (dexp * sympy.log(base) + dbase * ex / base)
        # a function: the chain rule with fdiff, as Function._eval_derivative
        parts = []
        for i, da in enumerate(ds, start=1):
            if da.is_zero:
                continue
            try:
                df = node.fdiff(i)
            except ArgumentIndexError:
                df = Function.fdiff(node, i)
            parts.append(df * da)
        return Add(*parts)

    # -- composite transforms --------------------------------------------------------------
    def gradient(self, f, vs: Sequence) -> list:
        """``[df/dv for v in vs]``: forward mode (SymPy's forms) for small ``f`` or in
        ``"forward"`` mode, one reverse sweep for large ``f`` or in ``"reverse"`` mode."""
        vs = list(vs)
        if isinstance(f, sympy.MatrixBase) or not all(v.is_Symbol for v in vs):
            return [self.d(f, v) for v in vs]
        out = self._fast("gradient", [f], vs)
        if out is not None:
            return out[0]
        if self.mode == "forward" or (self.mode == "auto" and not self._large(f, tuple(vs))):
            return [self.forward(f, v) for v in vs]
        return self.reverse(f, vs)

    def _fast(self, what: str, F: list, vs: list, us: list | None = None):
        """``what`` ("gradient" of each entry of ``F``, "hessian" or "hvp" of ``F[0]``)
        through SymEngine, or None when SymPy's engine must do it: ``fast=False``, SymEngine
        missing under ``"auto"``, ``F`` small under ``"auto"``, or anything in ``F`` or in
        SymEngine's result that the bridge cannot carry exactly."""
        self.engine = "sympy"
        if self.fast is False or not vs or not all(v.is_Symbol for v in vs):
            return None
        if any(isinstance(e, sympy.MatrixBase) or not isinstance(e, sympy.Expr) for e in F):
            return None
        se = _symengine(required=self.fast is True)
        if se is None:
            return None
        if self.fast == "auto" and (what != "hessian" or not self._large(F[0], None)):
            return None  # symml's reverse mode is faster for gradients (docs/performance.md)
        if any(e in self._no_fast for e in F):
            return None
        bridge = _SymEngineBridge(se, self, frozenset(vs))
        try:
            out = _se_derive(bridge, what, F, vs, us)
        except _Unsupported:
            self._no_fast.update(F)
            return None
        self.engine = "symengine"
        return out

    def jacobian(self, F: Iterable, vs: Sequence) -> list:
        """Rows: entries of ``F``; columns: ``vs``."""
        F, vs = list(F), list(vs)
        out = self._fast("gradient", F, vs)
        if out is not None:
            return out
        return [self.gradient(e, vs) for e in F]

    def hessian(self, f, vs: Sequence) -> list:
        """Forward over the gradient (forward-over-reverse for large ``f``), each symmetric
        entry derived once; the forward memo is shared by all the gradient's entries."""
        vs = list(vs)
        out = self._fast("hessian", [f], vs)
        if out is not None:
            return out
        g = self.gradient(f, vs)
        n = len(vs)
        H = [[S.Zero] * n for _ in range(n)]
        for j in range(n):
            for i in range(j + 1):
                H[i][j] = H[j][i] = self.forward(g[i], vs[j])
        return H

    def hvp(self, f, vs: Sequence, us: Sequence) -> list:
        """Hessian-vector product ``H(f) @ u``.

        Small ``f`` (or ``"forward"`` mode): the forward derivative of the gradient along
        ``u``. Large ``f``: reverse over forward, the gradient of the directional derivative
        ``f_u = sum_j u_j df/dx_j`` (``f_u`` is a few times the size of ``f``, so the
        product costs a few gradients and never builds the Hessian)."""
        vs, us = list(vs), list(us)
        direction = dict(zip(vs, us, strict=True))
        out = self._fast("hvp", [f], vs, us)
        if out is not None:
            return out
        if self.mode == "forward" or (self.mode == "auto" and not self._large(f, tuple(vs))):
            return [self.forward(gi, direction) for gi in self.gradient(f, vs)]
        return self.reverse(self.forward(f, direction), vs)


# -- SymEngine, the optional ``symml[fast]`` accelerator -----------------------------------

#: SymPy functions SymEngine implements natively, with the same derivative rules.
_SE_NATIVE = (
    "exp", "log", "sin", "cos", "tan", "asin", "acos", "atan",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc",
)  # fmt: skip
_FAST_VALUES = (False, True, "auto")
_SE_STATE: list = []  # [module or None] once probed


def _symengine(required: bool):
    """The ``symengine`` module, None if it is not installed (``required``: raise instead)."""
    if not _SE_STATE:
        try:
            import symengine  # the symml[fast] extra
        except ImportError:
            symengine = None
        _SE_STATE.append(symengine)
    se = _SE_STATE[0]
    if se is None and required:
        from .backends import MissingExtraError

        raise MissingExtraError(
            "differentiation with fast=True needs SymEngine, which is not installed; "
            'install it with: pip install "symml[fast]" (or pass fast=False)'
        )
    return se


class _Unsupported(Exception):
    """A node the SymEngine bridge cannot carry exactly (the caller falls back to SymPy)."""


class _SymEngineBridge:
    """Exact conversion SymPy -> SymEngine -> SymPy for one differentiation job.

    Variables become SymEngine symbols with unique names (so assumptions and Dummies survive
    the round trip); subexpressions free of the variables become opaque symbols (constants
    to SymEngine, restored as they were); numbers convert exactly (Floats of double
    precision only). symml's one-argument functions (sigmoid, softplus, relu) become
    SymEngine undefined functions whose derivatives ``Derivative``/``Subs`` are replaced on
    the way back by their own exact ``fdiff``. Anything else that depends on a variable
    (Abs, Piecewise, Max, ...) raises :class:`_Unsupported`.
    """

    def __init__(self, se, ctx: DiffContext, wrt: frozenset, check: bool = False) -> None:
        from .functions import CUSTOM_FUNCTIONS

        self.se, self.ctx, self.wrt, self.check = se, ctx, wrt, check
        self.to: dict = {}  # SymPy node -> SymEngine node
        self.back: dict = {}  # SymEngine node -> SymPy node
        self.names: dict = {}  # undefined-function name -> SymPy class
        self.custom = tuple(CUSTOM_FUNCTIONS.values())
        self.native = {name: getattr(se, name) for name in _SE_NATIVE}
        self.derivs: dict = {}  # (class, order) -> (dummy, derivative)

    def _fresh(self, node):
        s = self.se.Symbol(f"_symml_s{len(self.back)}")
        self.back[s] = node
        return s

    def _number(self, node):
        se = self.se
        if node.is_Integer:
            return se.Integer(int(node))
        if node.is_Rational:
            return se.Rational(int(node.p), int(node.q))
        if node.is_Float and node._prec == 53:
            return se.RealDouble(float(node))
        if node is S.Pi:
            return se.pi
        if node is S.Exp1:
            return se.E
        return None

    def to_se(self, e):
        """``e`` in SymEngine (raises :class:`_Unsupported`)."""
        to, ctx = self.to, self.ctx
        stack = [e]
        while stack:
            node = stack[-1]
            if node in to:
                stack.pop()
                continue
            if node.is_Number or node.is_NumberSymbol:
                num = self._number(node)
                to[node] = num if num is not None else self._fresh(node)
                stack.pop()
                continue
            if not (ctx.free_symbols(node) & self.wrt):
                to[node] = self._fresh(node)
                stack.pop()
                continue
            if node.is_Symbol:
                if not node.is_commutative:
                    raise _Unsupported(node)
                to[node] = self._fresh(node)
                stack.pop()
                continue
            if self.ctx._kind(node) not in ("add", "mul", "pow", "fun") or (
                self.ctx._kind(node) == "fun" and not self._known(node)
            ):
                raise _Unsupported(node)
            todo = [a for a in node.args if a not in to]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            to[node] = self._node(node, [to[a] for a in node.args])
        return to[e]

    def _known(self, node) -> bool:
        if len(node.args) != 1:
            return False
        name = type(node).__name__
        native = name in self.native and getattr(sympy, name) is type(node)
        return native or isinstance(node, self.custom)

    def _node(self, node, args):
        se, kind = self.se, self.ctx._kind(node)
        if kind == "add":
            return se.Add(*args)
        if kind == "mul":
            return se.Mul(*args)
        if kind == "pow":
            return se.Pow(*args)
        name = type(node).__name__  # a function _known() accepted
        if name in self.native and getattr(sympy, name) is type(node):
            return self.native[name](args[0])
        fname = f"_symml_f_{name}"
        self.names[fname] = type(node)
        return se.Function(fname)(args[0])

    def to_sympy(self, e):
        """A SymEngine result back in SymPy, built with SymPy's evaluating constructors
        (canonical SymPy objects), each distinct node once (raises :class:`_Unsupported`)."""
        back = self.back
        stack = [e]
        while stack:
            node = stack[-1]
            if node in back:
                stack.pop()
                continue
            cls = type(node).__name__
            if cls == "Subs":
                kids = list(node.point)
            elif cls == "Derivative":  # Derivative(f(x), x, ..., x) of a variable x
                kids = list(node.args[0].args)
            else:
                kids = list(node.args)
            todo = [a for a in kids if a not in back]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            back[node] = self._back(node, cls, [back[a] for a in kids])
        return back[e]

    def _back(self, node, cls, args):
        if not args:
            if node.is_Number or cls in ("Exp1", "Pi", "ImaginaryUnit"):
                return node._sympy_()
            raise _Unsupported(node)  # a symbol of SymEngine's own (_xi of a Subs)
        if cls == "Add":
            return Add(*args)
        if cls == "Mul":
            return self._mul(args)
        if cls == "Pow":
            return sympy.exp(args[1]) if args[0] is S.Exp1 else Pow(*args)
        if cls in self.native:
            return getattr(sympy, cls)(*args)
        if cls == "FunctionSymbol" and node.get_name() in self.names:
            return self.names[node.get_name()](*args)
        if cls == "Subs":  # Subs(Derivative(f(xi), xi, ..., xi), (xi,), (point,))
            return self._derivative(node.expr, node.variables, args)
        if cls == "Derivative":
            return self._derivative(node, node.args[0].args, args)
        raise _Unsupported(node)

    def _mul(self, args):
        """``Mul(*args)``, skipping ``Mul.flatten`` (the cost of the round trip) where it
        only sorts: commutative factors with distinct bases that are not numbers or
        constants (at most one power of ``E``), no nested product, at most one rational or
        float coefficient, and not a coefficient times one sum (which SymPy distributes).
        With ``check`` (the tests) every product is compared with ``Mul(*args)``."""
        out = _sorted_mul(args)
        if out is None or self.check:
            full = Mul(*args)
            if out is not None and out != full:
                raise AssertionError(f"fast product {out!r} != Mul {full!r}")
            return full
        return out

    def _derivative(self, d, variables, point):
        if type(d).__name__ != "Derivative" or len(variables) != 1 or len(point) != 1:
            raise _Unsupported(d)
        f, *by = d.args
        name = f.get_name() if type(f).__name__ == "FunctionSymbol" else None
        if name not in self.names or f.args != tuple(variables) or set(by) != set(variables):
            raise _Unsupported(d)
        cls, n = self.names[name], len(by)
        if (cls, n) not in self.derivs:
            t = sympy.Dummy("t")
            out = cls(t)
            for _ in range(n):
                out = self.ctx.forward(out, t)  # the function's own fdiff, SymPy's forms
            self.derivs[(cls, n)] = (t, out)
        t, out = self.derivs[(cls, n)]
        return out.xreplace({t: point[0]})


def _sorted_mul(args):
    """The canonical ``Mul`` of ``args`` by sorting alone, or None when ``Mul.flatten``
    could do more than sort (see :meth:`_SymEngineBridge._mul`)."""
    from sympy.core.mul import _mulsort

    coeff, rest, bases = None, [], set()
    for a in args:
        if a.is_Number:
            if coeff is not None or not (a.is_Rational or a.is_Float) or a in (S.Zero, S.One):
                return None
            coeff = a
            continue
        if a.is_Mul or not a.is_commutative:
            return None
        b = a.as_base_exp()[0]
        if b in bases or (b.is_Atom and not b.is_Symbol and b is not S.Exp1):
            return None
        bases.add(b)
        rest.append(a)
    if coeff is not None and len(rest) == 1 and rest[0].is_Add:
        return None  # Mul.flatten distributes 2*(x + y) into 2*x + 2*y
    if len(rest) < 2 and coeff is None or not rest:
        return None
    _mulsort(rest)
    return Mul._from_args([coeff, *rest] if coeff is not None else rest)


def _se_derive(bridge: _SymEngineBridge, what: str, F: list, vs: list, us):
    """The SymEngine side of :meth:`DiffContext._fast` (raises :class:`_Unsupported`)."""
    sF = [bridge.to_se(e) for e in F]
    svs = [bridge.to_se(v) for v in vs]
    back = bridge.to_sympy
    if what == "gradient":
        return [[back(e.diff(v)) for v in svs] for e in sF]
    g = [sF[0].diff(v) for v in svs]
    if what == "hvp":
        su = [bridge.to_se(_as_basic(u)) for u in us]
        fu = bridge.se.Add(*[u * gj for u, gj in zip(su, g, strict=True)])
        return [back(fu.diff(v)) for v in svs]
    n = len(vs)
    H = [[S.Zero] * n for _ in range(n)]
    for j in range(n):
        for i in range(j + 1):
            H[i][j] = H[j][i] = back(g[i].diff(svs[j]))
    return H


def d(e, var):
    """``d e / d var`` in a fresh context (structurally equal to ``sympy.diff(e, var)``).

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> d(x**3 * sympy.sin(x), x)
    x**3*cos(x) + 3*x**2*sin(x)
    """
    return DiffContext("forward").d(e, var)


def diff(e, *vars):
    """``e`` differentiated by each of ``vars`` in turn (Symbols; an integer after a Symbol
    repeats it, as in ``diff(f, x, 2)``), entry by entry for a Matrix, in one context.

    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> diff(x**3 * y, x, 2, y)
    6*x
    """
    ctx = DiffContext("forward")
    order: list = []
    for v in vars:
        if isinstance(v, (tuple, list, sympy.Tuple)) and len(v) == 2:
            order.extend([v[0]] * int(v[1]))
        elif isinstance(v, (int, sympy.Integer)) and not isinstance(v, bool):
            order.extend([order[-1]] * (int(v) - 1) if int(v) else [])
            if not int(v):
                order.pop()
        else:
            order.append(v)
    for v in order:
        e = ctx.d(e, v)
    return e


def gradient(f, vs: Sequence, mode: str = "auto", fast=False) -> list:
    """Gradient of ``f`` by ``vs`` as a list (one shared context).

    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> gradient(x * y**2, [x, y])
    [y**2, 2*x*y]
    """
    return DiffContext(mode, fast).gradient(f, vs)


def jacobian(F: Iterable, vs: Sequence, mode: str = "auto", fast=False) -> list:
    """Jacobian of the entries of ``F`` by ``vs`` as nested lists (one shared context).

    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> jacobian([x * y, x + y], [x, y])
    [[y, x], [1, 1]]
    """
    return DiffContext(mode, fast).jacobian(F, vs)


def hessian(f, vs: Sequence, mode: str = "auto", fast=False) -> list:
    """Hessian of ``f`` by ``vs`` as nested lists (symmetric, one shared context).

    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> hessian(x**2 * y, [x, y])
    [[2*y, 2*x], [2*x, 0]]
    """
    return DiffContext(mode, fast).hessian(f, vs)


def hvp(f, vs: Sequence, us: Sequence, mode: str = "auto", fast=False) -> list:
    """Hessian-vector product ``H(f) @ us`` as a list (one forward pass with a vector seed).

    >>> import sympy
    >>> x, y, u, v = sympy.symbols("x y u v")
    >>> hvp(x**2 * y, [x, y], [u, v])
    [2*u*y + 2*v*x, 2*u*x]
    """
    return DiffContext(mode, fast).hvp(f, vs, us)
