"""Numeric verification of derivations: right (no false alarms) and bounded (no hang).

:meth:`symml.steps.Derivation.verify` and :func:`values_agree` come here. Two sides of a
step are compared at seeded random points with mpmath at 30 digits. What makes this right:

* **Unevaluated derivatives are differentiated numerically** (``mpmath.diff`` of the
  expression compiled for mpmath, at raised precision), never by SymPy's ``doit`` on the
  unevaluated tree: that is independent of the engine being checked, exact to ~30 digits,
  bounded (a 6th derivative costs 7 evaluations, not a 6-fold symbolic blow-up), and it
  gives 0 for the derivative of floor/ceiling/sign between their jumps, where SymPy leaves
  ``Derivative(floor(x), x)`` unevaluated.
* **Test points avoid jumps and kinks**: a point where the argument of floor/ceiling is
  within 1e-3 of an integer, or the argument of sign/abs/Heaviside/relu/max/min or a
  Piecewise condition is within 1e-3 of 0, is replaced by another (from a wider range when
  the first one keeps failing), so two sides that differ only by a convention at the jump
  (``Heaviside(0)``, ``sign(0)``) are not compared there.
* **A side that cannot be evaluated** (RecursionError, overflow, ...) is treated as outside
  its domain at that point, never as an exception out of ``verify``.

What makes it bounded: every step is checked under :func:`symml._limits.time_limit` with
what is left of one budget (``seconds``, default :data:`VERIFY_SECONDS`), and a timeout is a
:class:`~symml.errors.LimitError` naming the step.

>>> import sympy
>>> x = sympy.Symbol("x", real=True)
>>> values_agree(sympy.Derivative(sympy.floor(x), x), 0)
True
>>> values_agree(sympy.Derivative(x**7, (x, 6)), 5040*x)
True
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any

import mpmath
import sympy
from sympy.concrete.expr_with_limits import ExprWithLimits

from .._convert import to_sympy as _to_sympy
from .._limits import _Timeout, get_limits, time_limit
from ..errors import LimitError, VerificationError

__all__ = ["verify", "values_agree", "disagreement", "is_zero", "VERIFY_SECONDS"]

#: Former default budget of one verification; verify now uses the global budget
#: (``symml.get_limits().seconds``) unless ``seconds=`` is given.
VERIFY_SECONDS = 20.0
#: Distance from a jump or kink below which a test point is replaced.
JUMP_MARGIN = 1e-3
_UNEVALUATED = (sympy.Derivative, sympy.Integral, sympy.Subs)
_EVAL_ERRORS = (TypeError, ValueError, ZeroDivisionError, AttributeError, OverflowError,
                RecursionError, ArithmeticError, NotImplementedError, KeyError)  # fmt: skip


# -- the whole derivation -------------------------------------------------------------------------
def verify(d: Any, points: int = 4, digits: int = 30, seed: int = 0,
           seconds: float | None = None) -> bool:  # fmt: skip
    """Check every step of the derivation ``d`` and its result; True or VerificationError.

    See :meth:`symml.steps.Derivation.verify`. Raises LimitError naming the step when the
    budget of ``seconds`` runs out.
    """
    budget = get_limits().seconds if seconds is None else float(seconds)
    end = time.monotonic() + budget
    current = ["the first step"]
    try:
        return _verify(d, points, digits, seed, budget, end, current)
    except _Timeout:
        # an outer time limit (or the alarm between two steps): still a LimitError naming
        # the step, never the internal interrupt
        raise LimitError(
            f"verifying {current[0]} of {_short_title(d)} ran out of time (budget {budget:g} s); "
            "pass "
            "verify(seconds=...) to allow more"
        ) from None


def _short_title(d) -> str:
    """The derivation's title for messages, rendered once and cut to a readable length (the
    title can hold the whole problem: rendering it for every step cost more than the check)."""
    params = getattr(d.title, "params", None) or {}
    if any(isinstance(v, sympy.Basic) and _larger_than(v, 400) for v in params.values()):
        title = f"the {d.kind} derivation"  # (printing a 200-deep problem cost a third of it)
    else:
        title = str(d.title)
    return repr(title if len(title) <= 80 else title[:77] + "...")


def _larger_than(e: sympy.Basic, nodes: int) -> bool:
    """Has the tree of ``e`` more than ``nodes`` nodes? Stops counting there."""
    stack, seen = [e], 0
    while stack:
        seen += 1
        if seen > nodes:
            return True
        stack.extend(stack.pop().args)
    return False


def _verify(d, points, digits, seed, budget, end, current) -> bool:
    title = _short_title(d)
    for number, step in d.walk():
        current[0] = f"step {number} ({step.rule})"
        if step.check is False:
            continue
        with _limit(end, budget, f"verifying step {number} ({step.rule}) of {title}"):
            if callable(step.check):
                try:
                    ok = step.check(step)
                except LimitError:
                    raise
                except Exception as exc:  # the step's own check failed: report it
                    where = _where(number, step)
                    raise VerificationError(f"{where} failed its check: {exc}") from exc
                if not ok:
                    raise VerificationError(f"{_where(number, step)} failed its check")
                continue
            sides = [step.before] + ([step.form] if step.form is not None else []) + [step.after]
            for a, b in zip(sides, sides[1:], strict=False):
                problem = disagreement(a, b, d.definitions, points, digits, seed)
                if problem:
                    raise VerificationError(f"{_where(number, step)} does not hold: {problem}")
    with _limit(end, budget, f"verifying the result of {title}"):
        if d.result_check is not None:
            try:
                ok = d.result_check(d)
            except (LimitError, VerificationError):
                raise
            except Exception as exc:  # noqa: BLE001 - the result's own check failed
                raise VerificationError(
                    f"the result of {title} failed its check: {exc}"
                ) from exc
            if not ok:
                raise VerificationError(f"the result of {title} failed its check")
        elif d.reference is not None:
            ref = d.reference() if callable(d.reference) else d.reference
            problem = disagreement(d.result, ref, d.definitions, points, digits, seed)
            if problem:
                raise VerificationError(
                    f"the result of {title} differs from SymPy's answer: {problem}"
                )
    return True


def _where(number: str, step) -> str:
    """Names a failing step (built only on failure: rendering an explanation is not free)."""
    return f"step {number} ({step.rule}: {step.explanation})"


def _limit(end: float, budget: float, what: str):
    left = end - time.monotonic()
    if left <= 0:
        raise LimitError(
            f"{what} did not start: verification used its budget of {budget:g} s; pass "
            "verify(seconds=...) to allow more"
        )
    return time_limit(left, what)


# -- two sides ------------------------------------------------------------------------------------
def values_agree(a: Any, b: Any, definitions: Mapping | None = None, points: int = 4,
                 digits: int = 30, seed: int = 0) -> bool:  # fmt: skip
    """True when ``a`` and ``b`` agree numerically at random points.

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> values_agree(sympy.sin(x)**2 + sympy.cos(x)**2, 1), values_agree(x, x + 1e-12)
    (True, False)
    """
    return disagreement(a, b, definitions or {}, points, digits, seed) is None


def is_zero(e: Any, digits: int = 40) -> bool:
    """Is ``e`` zero? Exactly for small expressions (expand), else numerically: to ``digits``
    digits when it is a number, at random points when it has free symbols. Bounded, unlike
    ``simplify(e) == 0`` (which ran for minutes on a two-constraint KKT residual).

    >>> import sympy
    >>> is_zero(sympy.sqrt(2)**2 - 2), is_zero(sympy.sin(1)**2 + sympy.cos(1)**2 - 1)
    (True, True)
    >>> is_zero(sympy.Rational(1, 10**30))
    False
    """
    e = _to_sympy(e)
    if e == 0:
        return True
    if sympy.count_ops(e) <= 40 and sympy.expand(e) == 0:
        return True
    if e.free_symbols:
        return values_agree(e, 0, digits=digits)
    v = _numeric(e, {}, digits + 20)
    return v is not None and abs(v) < mpmath.mpf(10) ** (-digits)


def _flatten(obj: Any) -> list | None:
    """Flatten ``obj`` into a list of scalar SymPy expressions; None if it cannot be compared."""
    if isinstance(obj, sympy.MatrixBase):
        return list(obj)
    if isinstance(obj, sympy.Rel):
        return [obj.lhs - obj.rhs]
    if isinstance(obj, (list, tuple, sympy.Tuple)):
        out = []
        for item in obj:
            flat = _flatten(item)
            if flat is None:
                return None
            out.extend(flat)
        return out
    if isinstance(obj, Mapping):
        out = []
        for key in sorted(obj, key=str):
            flat = _flatten(obj[key])
            if flat is None:
                return None
            out.extend(flat)
        return out
    if isinstance(obj, (int, float, complex)):
        return [_to_sympy(obj)]
    if isinstance(obj, sympy.Expr):
        return [obj]
    return None


def _shape(obj: Any):
    if isinstance(obj, sympy.MatrixBase):
        return obj.shape
    if isinstance(obj, (list, tuple, sympy.Tuple)):
        return (len(obj),)
    if isinstance(obj, Mapping):
        return tuple(sorted(map(str, obj)))
    return ()


def _expand_definitions(expr: sympy.Expr, definitions: Mapping) -> sympy.Expr:
    if not definitions:
        return expr
    for _ in range(len(definitions) + 1):
        new = expr.xreplace(dict(definitions))
        if new == expr:
            break
        expr = new
    return expr


def _evaluate_unevaluated(expr: sympy.Expr) -> sympy.Expr:
    """Integrals (and Subs without derivatives inside) by SymPy's doit; Derivatives are left
    for :func:`_numeric`, which differentiates them numerically."""
    if not _info(expr)[2]:
        return expr

    def do(e):
        if isinstance(e, sympy.Subs) and e.has(sympy.Derivative):
            return e
        try:
            return e.doit()
        except _EVAL_ERRORS:
            return e

    return expr.replace(lambda e: isinstance(e, (sympy.Integral, sympy.Subs)), do)


def _point_value(rng: random.Random, wide: int = 0) -> sympy.Rational:
    """A test value: in (0.1, 0.9) first (inside the domain of log, sqrt, asin, log(1 - x),
    ... and away from kinks at 0); wider ranges when jumps keep getting in the way."""
    if wide == 0:
        return sympy.Rational(rng.randint(101, 899), 1000)
    v = sympy.Rational(rng.randint(101, 899 + 1000 * 2**wide), 1000)
    return -v if wide >= 2 and rng.random() < 0.3 else v


_INFO: dict = {}  # expression -> (free symbols, jump nodes, has Integral/Subs), over the DAG
_JUMP_KINDS: tuple = ()
_NO_INFO = (frozenset(), frozenset(), False)


def _info(e: sympy.Basic) -> tuple:
    """(free symbols, floor/sign/abs/max/Piecewise/... nodes, contains an Integral or Subs)
    of ``e``, memoized per sub-expression. The steps of a derivation share their sub-trees,
    and SymPy's ``free_symbols`` / ``has`` / ``preorder_traversal`` walk the whole tree on
    every call (no cache): for a problem nested n deep that made verify O(n^2) tree walks.
    Iterative, so no recursion limit either."""
    global _JUMP_KINDS
    if not _JUMP_KINDS:
        from ..functions import relu

        _JUMP_KINDS = (sympy.floor, sympy.ceiling, sympy.frac, sympy.sign, sympy.Heaviside,
                       sympy.Abs, relu, sympy.DiracDelta, sympy.Max, sympy.Min,
                       sympy.Piecewise)  # fmt: skip
    memo = _INFO
    if len(memo) > 200_000:
        memo.clear()
    stack = [(e, False)]
    while stack:
        node, children_done = stack.pop()
        if node in memo:
            continue
        args = node.args
        if not args:
            free = node.free_symbols
            memo[node] = (frozenset(free), frozenset(), False) if free else _NO_INFO
            continue
        if not children_done:
            stack.append((node, True))
            stack.extend((a, False) for a in args if a not in memo)
            continue
        parts = [memo[a] for a in args]
        jumps = frozenset().union(*(p[1] for p in parts))
        if isinstance(node, _JUMP_KINDS):
            jumps = jumps | {node}
        unevaluated = isinstance(node, (sympy.Integral, sympy.Subs)) or any(p[2] for p in parts)
        cls_free = type(node).free_symbols
        if cls_free is sympy.Basic.free_symbols:
            free = frozenset().union(*(p[0] for p in parts))
        elif isinstance(node, sympy.Derivative):  # SymPy's rule: the expression's, the counts'
            free = memo[node.expr][0].union(*(memo[c][0] for _, c in node.variable_count
                                              if c in memo))  # fmt: skip
            free = free.union(*(c.free_symbols for _, c in node.variable_count if c not in memo))
        elif isinstance(node, sympy.Subs):
            free = (memo[node.expr][0] - set(node.variables)) | memo[node.point][0]
        elif isinstance(node, ExprWithLimits) and all(lim[0].is_Symbol for lim in node.limits):
            free = set(memo[node.function][0])  # SymPy's rule for Integral, Sum, Product
            for lim in node.limits:
                if len(lim) == 1:
                    free.add(lim[0])
                    continue
                free.discard(lim[0])
                free.update(*(memo[b][0] for b in lim[1:]))
            free = frozenset(free)
        else:  # Indexed, Lambda, ...: SymPy's own (bound variables)
            free = frozenset(node.free_symbols)
        memo[node] = (free, jumps, unevaluated)
    return memo[e]


def _free(e: sympy.Basic) -> frozenset:
    """``e.free_symbols``, memoized over the DAG (see :func:`_info`).

    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> e = sympy.Subs(sympy.Derivative(x*y, x), x, 0) + sympy.Derivative(x, y)
    >>> sorted(_free(e), key=str), _free(e) == e.free_symbols
    ([x, y], True)
    """
    return _info(e)[0]


def _jump_arguments(exprs: list) -> list[tuple[sympy.Expr, bool]]:
    """(g, integer): an expression jumps or kinks where g = 0 (where g is an integer)."""
    nodes: set = set()
    for e in exprs:
        nodes |= _info(e)[1]
    out: dict = {}
    for sub in nodes:  # (any order: the points avoid every jump)
        if isinstance(sub, (sympy.floor, sympy.ceiling, sympy.frac)):
            out[(sub.args[0], True)] = None
        elif isinstance(sub, (sympy.Max, sympy.Min)):
            a = sub.args
            out.update(((p - q, False), None) for i, p in enumerate(a) for q in a[i + 1 :])
        elif isinstance(sub, sympy.Piecewise):
            for _, cond in sub.args:
                out.update(((r.lhs - r.rhs, False), None) for r in cond.atoms(sympy.Rel))
        else:  # sign, Heaviside, Abs, relu, DiracDelta
            out[(sub.args[0], False)] = None
    return list(out)


def _complex_at(g: sympy.Expr, point: dict) -> complex:
    return complex(_to_sympy(g).evalf(15, subs=point))


def _locally_constant(g: sympy.Expr, point: dict, v: complex) -> bool:
    """g takes the same value a little way off the point in every direction (sign(x^2 + 1)
    is always 1: an integer, but no jump of floor(sign(...)) is near)."""
    for k in (1, -1):
        near = {s: val + k * sympy.Rational(1, 10**4) for s, val in point.items()}
        try:
            if _complex_at(g, near) != v:
                return False
        except _EVAL_ERRORS:
            return False
    return True


def _near_jump(jumps: list, point: dict) -> bool:
    for g, integer in jumps:
        try:
            v = _complex_at(g, point)
        except _EVAL_ERRORS:
            continue
        if v != v or abs(v) == float("inf"):
            continue
        if abs(v.imag) > 1e-9:
            # abs/sign/floor/... of a complex number: their rules hold on the real domain
            if not _locally_constant(g, point, v):
                return True
            continue
        r = v.real
        if abs(r - (round(r) if integer else 0)) < JUMP_MARGIN and not _locally_constant(
            g, point, v
        ):
            return True
    return False


def _test_points(syms: list, jumps: list, points: int, seed: int, wide: int = 0) -> list[dict]:
    rng = random.Random(seed + 7919 * wide)
    out = []
    for _ in range(points):
        point = {s: _point_value(rng, wide) for s in syms}
        tries = 0
        while jumps and _near_jump(jumps, point) and tries < 24:
            tries += 1
            point = {s: _point_value(rng, wide + tries // 6) for s in syms}
        if tries < 24:
            out.append(point)  # a point next to a jump is not used at all
    return out


def disagreement(a, b, definitions, points, digits, seed) -> str | None:
    """None when ``a`` and ``b`` agree at ``points`` random points, else a description."""
    fa, fb = _flatten(a), _flatten(b)
    if fa is None or fb is None:
        kind = type(a if fa is None else b).__name__
        return f"cannot compare a {kind} numerically (give the step a check= callable)"
    if len(fa) != len(fb) or (_shape(a) != _shape(b) and _shape(a) and _shape(b)):
        return f"shapes differ: {_shape(a)} vs {_shape(b)}"
    fa = [_evaluate_unevaluated(_expand_definitions(_to_sympy(e), definitions)) for e in fa]
    fb = [_evaluate_unevaluated(_expand_definitions(_to_sympy(e), definitions)) for e in fb]
    syms = set()
    for e in fa + fb:
        syms |= _free(e)
    syms = sorted(syms, key=lambda s: s.sort_key())
    jumps = _jump_arguments(fa + fb)
    tol = mpmath.mpf(10) ** (-(digits - 6))  # evalf gives ~digits correct digits per side
    checked = 0
    with mpmath.workdps(digits + 10):
        domain = None
        for wide in (0, 1, 3):  # wider ranges only when no point of the first lies in the domain
            for point in _test_points(syms, jumps, points, seed, wide):
                for i, (ea, eb) in enumerate(zip(fa, fb, strict=True)):
                    va = _numeric(ea, point, digits)
                    if va is None:
                        continue  # outside the domain of the left side (the problem): skip
                    vb = _numeric(eb, point, digits)
                    if vb is None:  # a failure unless the sides agree somewhere else
                        domain = f"the right side cannot be evaluated at {_fmt_point(point)}"
                        continue
                    scale = max(mpmath.mpf(1), abs(va), abs(vb))
                    if abs(va - vb) > tol * scale:
                        label = f" (entry {i})" if len(fa) > 1 else ""
                        return (
                            f"at {_fmt_point(point)}{label} the two sides are "
                            f"{mpmath.nstr(va, 12)} and {mpmath.nstr(vb, 12)}"
                        )
                    checked += 1
            if checked or not syms:
                break
    if checked == 0 and fa:
        return domain or "no test point lies in the domain of both sides"
    return None


# -- one value ------------------------------------------------------------------------------------
_FAIL = object()  # the tree evaluator cannot evaluate this: use SymPy's evalf instead


class _Undefined(Exception):
    """The expression has no finite value at the point (1/0, log(0), ...)."""


class _Unsupported(Exception):
    """A node the tree evaluator does not know: SymPy's evalf takes over."""


def _heaviside(x, h0=None):
    if x > 0:
        return mpmath.mpf(1)
    if x < 0:
        return mpmath.mpf(0)
    if h0 is None:
        raise _Undefined()
    return h0


def _mp_functions() -> dict:
    from ..functions import relu, sigmoid, softplus

    m = mpmath
    table = {
        sympy.sin: m.sin, sympy.cos: m.cos, sympy.tan: m.tan, sympy.cot: m.cot,
        sympy.sec: m.sec, sympy.csc: m.csc, sympy.asin: m.asin, sympy.acos: m.acos,
        sympy.atan: m.atan, sympy.acot: m.acot, sympy.sinh: m.sinh, sympy.cosh: m.cosh,
        sympy.tanh: m.tanh, sympy.coth: m.coth, sympy.asinh: m.asinh, sympy.acosh: m.acosh,
        sympy.atanh: m.atanh, sympy.exp: m.exp, sympy.Abs: abs, sympy.sign: m.sign,
        sympy.floor: m.floor, sympy.ceiling: m.ceil, sympy.frac: m.frac, sympy.erf: m.erf,
        sympy.erfc: m.erfc, sympy.gamma: m.gamma, sympy.loggamma: m.loggamma,
        sympy.LambertW: m.lambertw, sympy.Heaviside: _heaviside, sympy.polylog: m.polylog,
        sympy.atan2: m.atan2, sympy.DiracDelta: lambda v: m.mpf(0) if v != 0 else _undef(),
        sympy.digamma: m.digamma, sympy.beta: m.beta, sympy.zeta: m.zeta,
        sympy.factorial: m.factorial, sympy.binomial: m.binomial,
        sigmoid: lambda v: 1 / (1 + m.exp(-v)), softplus: lambda v: m.log1p(m.exp(v)),
        relu: lambda v: v if v > 0 else m.mpf(0),
    }  # fmt: skip
    return table


def _undef():
    raise _Undefined()


_TABLE: dict = {}
_CONSTANTS: dict = {}  # (pi, precision) -> its mpmath value


def _real(v):
    if isinstance(v, mpmath.mpc):
        if v.imag != 0:
            raise _Unsupported()  # an order on complex numbers: leave it to SymPy
        return v.real
    return v


def _truth(c, ev) -> bool:
    if c is sympy.true:
        return True
    if c is sympy.false:
        return False
    if isinstance(c, sympy.Rel):
        lhs, rhs = _real(ev(c.lhs)), _real(ev(c.rhs))
        op = {"<": lhs < rhs, "<=": lhs <= rhs, ">": lhs > rhs, ">=": lhs >= rhs,
              "==": lhs == rhs, "!=": lhs != rhs}  # fmt: skip
        return op[c.rel_op]
    if isinstance(c, sympy.And):
        return all(_truth(a, ev) for a in c.args)
    if isinstance(c, sympy.Or):
        return any(_truth(a, ev) for a in c.args)
    if isinstance(c, sympy.Not):
        return not _truth(c.args[0], ev)
    raise _Unsupported()


class _Tree:
    """Evaluates a SymPy tree at one point with mpmath, memoized over the DAG (shared
    sub-expressions of all the steps of a derivation are evaluated once per point)."""

    def __init__(self, point: dict):
        self.point = point
        self.memo: dict = {}

    def __call__(self, e):
        # SymPy's Subs compares equal under renaming of its bound variables (so f_x(0, 0)
        # == f_y(0, 0)): key it by its parts
        key = (e.expr, e.variables, e.point) if isinstance(e, sympy.Subs) else e
        try:
            return self.memo[key]
        except KeyError:
            pass
        v = self._eval(e)
        self.memo[key] = v
        return v

    def _eval(self, e):  # noqa: C901 - one branch per kind of node
        if e.is_Symbol:
            if e not in self.point:
                raise _Unsupported()
            return _as_mp(self.point[e])
        if e.is_Rational:
            return mpmath.mpf(int(e.p)) / int(e.q)
        if e.is_Float:
            return mpmath.mpf(e._mpf_) if hasattr(e, "_mpf_") else mpmath.mpf(str(e))
        if e is sympy.I:
            return mpmath.mpc(0, 1)
        if e.is_NumberSymbol:
            key = (e, mpmath.mp.prec)
            if key not in _CONSTANTS:
                _CONSTANTS[key] = _as_mp(e.evalf(mpmath.mp.dps))
            return _CONSTANTS[key]
        if e in (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            raise _Undefined()
        if e.is_Add:
            return mpmath.fsum(self(a) for a in e.args)
        if e.is_Mul:
            return mpmath.fprod(self(a) for a in e.args)
        if e.is_Pow:
            b, x = self(e.base), self(e.exp)
            if b == 0 and mpmath.re(x) < 0:
                raise _Undefined()
            return (
                mpmath.power(b, x)
                if not (isinstance(x, mpmath.mpf) and x == 0.5)
                else mpmath.sqrt(b)
            )
        if isinstance(e, sympy.log):
            args = [self(a) for a in e.args]
            if args[0] == 0:
                raise _Undefined()
            return (
                mpmath.log(*args) if len(args) == 1 else mpmath.log(args[0]) / mpmath.log(args[1])
            )
        if isinstance(e, (sympy.Max, sympy.Min)):
            vals = [_real(self(a)) for a in e.args]
            return max(vals) if isinstance(e, sympy.Max) else min(vals)
        if isinstance(e, sympy.Piecewise):
            for expr, cond in e.args:
                if _truth(cond, self):
                    return self(expr)
            raise _Undefined()
        if isinstance(e, sympy.Derivative):
            return _derivative(e, self.point)
        if isinstance(e, sympy.Indexed):  # data: the point maps (base, (k, ...)) to a value
            key = (e.base, tuple(_whole(self(k)) for k in e.indices))
            if key not in self.point:
                raise _Unsupported()
            return _as_mp(self.point[key])
        if isinstance(e, (sympy.Sum, sympy.Product)):
            return self._finite(e)
        if isinstance(e, sympy.Subs):
            sub = dict(self.point)
            for var, at in zip(e.variables, e.point, strict=True):
                sub[var] = self(_to_sympy(at))
            return _tree_at(sub)(e.expr)
        if not _TABLE:
            _TABLE.update(_mp_functions())
        fn = _TABLE.get(type(e))
        if fn is None:
            raise _Unsupported()
        if isinstance(e, (sympy.floor, sympy.ceiling, sympy.frac, sympy.sign, sympy.Heaviside)):
            return fn(*[_real(self(a)) for a in e.args])
        return fn(*[self(a) for a in e.args])


    def _finite(self, e):
        """A Sum or Product over whole-number limits that the point makes concrete (n = 7),
        term by term: an unrolled sum, independent of SymPy's summation."""
        if len(e.limits) != 1 or len(e.limits[0]) != 3:
            raise _Unsupported()
        var, lo, hi = e.limits[0]
        lo, hi = _whole(self(lo)), _whole(self(hi))
        if hi - lo > 10_000:
            raise _Unsupported()
        terms = [_Tree({**self.point, var: mpmath.mpf(k)})(e.function) for k in range(lo, hi + 1)]
        return mpmath.fsum(terms) if isinstance(e, sympy.Sum) else mpmath.fprod(terms)


def _whole(v) -> int:
    """An index or a limit of a sum as an int (a value that is not whole cannot be one)."""
    v = _real(v)
    k = int(mpmath.nint(v))
    if v != k:
        raise _Unsupported()
    return k


def _derivative(node: sympy.Derivative, point: dict):
    """An unevaluated derivative at the point, by mpmath.diff of the tree evaluator."""
    orders: dict = {}
    for v, n in node.variable_count:
        orders[v] = orders.get(v, 0) + int(n)
    args = list(orders)
    if any(a not in _free(node.expr) for a in args):
        return mpmath.mpf(0)
    if any(a not in point for a in args):
        raise _Unsupported()
    at = [_as_mp(point[a]) for a in args]

    def g(*t):
        return _tree_at({**point, **dict(zip(args, t, strict=True))})(node.expr)

    here = g(*at)
    if not (mpmath.isfinite(mpmath.re(here)) and mpmath.isfinite(mpmath.im(here))):
        raise _Undefined()
    if len(args) == 1:
        return mpmath.mpmathify(mpmath.diff(g, at[0], orders[args[0]]))
    return mpmath.mpmathify(mpmath.diff(g, tuple(at), tuple(orders[a] for a in args)))


def _as_mp(v):
    if isinstance(v, (mpmath.mpf, mpmath.mpc)):
        return v
    if isinstance(v, int):
        return mpmath.mpf(v)
    if isinstance(v, sympy.Rational):
        return mpmath.mpf(int(v.p)) / int(v.q)
    return _mp(v, mpmath.mp.dps)


_TREES: dict = {}


def _tree_at(point: dict) -> _Tree:
    """The tree evaluator at ``point`` and the working precision, shared by every expression
    evaluated there: the sides of all the steps, and the shifted points where mpmath.diff
    evaluates the unevaluated derivatives (the same points for every derivative node, so a
    chain of n nested derivatives costs O(n) evaluations, not O(n^2))."""
    key = (mpmath.mp.prec, frozenset(point.items()))
    tree = _TREES.get(key)
    if tree is None:
        if len(_TREES) > 64:
            _TREES.clear()
        tree = _TREES[key] = _Tree(point)
    return tree


def _fast(expr: sympy.Expr, point: dict):
    """expr at point by the tree evaluator (memoized per point across calls): an mpmath
    number, None (undefined there) or _FAIL (a node it does not know)."""
    tree = _tree_at(point)
    try:
        return mpmath.mpmathify(tree(expr))
    except (_Undefined, ZeroDivisionError):
        return None
    except (_Unsupported, *_EVAL_ERRORS):
        return _FAIL


def _numeric(expr: sympy.Expr, point: dict, digits: int):
    """The value of ``expr`` at ``point`` as an mpmath number, or None if not finite.

    Compiled for mpmath once per expression (derivative nodes differentiated numerically);
    SymPy's evalf after exact substitution where that cannot be compiled.
    """
    try:
        expr = _to_sympy(expr)
        with mpmath.workdps(digits + 10):
            v = _fast(expr, point)
        if v is not _FAIL:
            if v is None or not (mpmath.isfinite(mpmath.re(v)) and mpmath.isfinite(mpmath.im(v))):
                return None
            return v if mpmath.im(v) != 0 else mpmath.re(v)
        return _slow(expr, point, digits)
    except _EVAL_ERRORS:
        return None


def _slow(expr: sympy.Expr, point: dict, digits: int):
    try:
        if expr.has(sympy.Derivative):
            expr = _numeric_derivatives(expr, point, digits)
            if expr is None:
                return None
        # exact substitution first: evalf(subs=) would turn an exact 0 (1 - floor(1.2)) into
        # a tiny number and 1/0 into a huge one
        point = {k: v for k, v in point.items() if isinstance(k, sympy.Basic)}
        val = expr.xreplace(point).evalf(digits) if point else expr.evalf(digits)
        if val.free_symbols or val.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            return None
        val = sympy.N(val, digits)
        c = complex(val)
        if c != c or abs(c) == float("inf"):
            return None
        re_, im_ = val.as_real_imag()
        re_v = mpmath.mpf(str(sympy.Float(re_, digits)))
        im_v = mpmath.mpf(str(sympy.Float(im_, digits)))
        return mpmath.mpc(re_v, im_v) if im_v != 0 else re_v
    except _EVAL_ERRORS:
        return None


def _function_of(expr: sympy.Expr, args: list, point: dict, digits: int):
    """expr as an mpmath function of ``args`` (the other symbols fixed at ``point``)."""
    rest = {s: v for s, v in point.items() if s not in args}
    e = expr.xreplace(rest) if rest else expr
    if not e.has(*_UNEVALUATED):
        try:
            from ..functions import CUSTOM_FUNCTIONS

            reps = {
                c: c.rewrite(sympy.exp) for cls in CUSTOM_FUNCTIONS.values() for c in e.atoms(cls)
            }
            g = sympy.lambdify(args, e.xreplace(reps) if reps else e, modules="mpmath")
            return g
        except _EVAL_ERRORS + (SyntaxError, NameError):
            pass

    def slow(*vals):
        v = _numeric(e, dict(zip(args, map(_rational, vals), strict=True)), digits + 10)
        if v is None:
            raise ValueError("undefined")
        return v

    return slow


def _rational(v) -> sympy.Expr:
    return sympy.Float(mpmath.nstr(v, 60), 60)


def _numeric_derivatives(expr: sympy.Expr, point: dict, digits: int):
    """expr with its (innermost first) Derivative nodes replaced by numeric values at point."""

    def value_of(node):
        if isinstance(node, sympy.Subs):
            inner = dict(zip(node.variables, node.point, strict=True))
            sub_point = {**point, **{k: _to_sympy(v).xreplace(point) for k, v in inner.items()}}
            v = _numeric(node.expr, sub_point, digits)
        else:
            v = _derivative_value(node, point, digits)
        if v is None:
            raise ValueError("undefined")
        return sympy.Float(
            mpmath.nstr(mpmath.re(v), digits + 5), digits + 5
        ) + sympy.I * sympy.Float(mpmath.nstr(mpmath.im(v), digits + 5), digits + 5)

    def walk(e):
        if isinstance(e, sympy.Derivative) or (
            isinstance(e, sympy.Subs) and e.has(sympy.Derivative)
        ):
            return value_of(e)  # outermost first: a Subs binds the variables inside it
        if not e.args or not e.has(sympy.Derivative):
            return e
        return e.func(*[walk(a) for a in e.args])

    try:
        return walk(expr)
    except _EVAL_ERRORS:
        return None


def _derivative_value(node: sympy.Derivative, point: dict, digits: int):
    """The value of an unevaluated Derivative at point, by mpmath.diff (raised precision)."""
    orders: dict = {}
    for v, n in node.variable_count:
        orders[v] = orders.get(v, 0) + int(n)
    args = list(orders)
    if any(a not in _free(node.expr) for a in args):
        return mpmath.mpf(0)  # the expression does not depend on one of the variables
    if any(a not in point for a in args):
        return None
    fn = _function_of(node.expr, args, point, digits)
    at = [_mp(point[a], digits + 10) for a in args]
    with mpmath.workdps(digits + 10):
        here = mpmath.mpmathify(fn(*at))
        if not (mpmath.isfinite(mpmath.re(here)) and mpmath.isfinite(mpmath.im(here))):
            return None  # the function itself is not defined at the point
        if len(args) == 1:
            val = mpmath.diff(fn, at[0], orders[args[0]])
        else:
            val = mpmath.diff(fn, tuple(at), tuple(orders[a] for a in args))
    val = mpmath.mpmathify(val)
    if not (mpmath.isfinite(mpmath.re(val)) and mpmath.isfinite(mpmath.im(val))):
        return None
    return val


def _mp(v, digits: int):
    """A SymPy number as an mpmath number (complex when it is not real)."""
    v = sympy.N(v, digits)
    re_, im_ = v.as_real_imag()
    re_m = mpmath.mpf(str(sympy.Float(re_, digits)))
    if im_ == 0:
        return re_m
    return mpmath.mpc(re_m, mpmath.mpf(str(sympy.Float(im_, digits))))


def _fmt_point(point: dict) -> str:
    return ", ".join(f"{s}={float(v):g}" for s, v in point.items()) or "(no variables)"
