"""The one integration route of symml: every answer is checked before it is returned.

:func:`symml.calculus.integrate`, :func:`symml.steps.integrate` and ``integrate(...)`` in the
language all come here. SymPy's integrators are fast and usually right, but not always:
SymPy 1.14 integrates ``1/(a + x^2)`` to 0 when ``a`` is a real symbol, and manualintegrate
gives ``sqrt(16*x^2 - 9)/x`` a Piecewise that is nan wherever the integrand is real. So:

* an **antiderivative** candidate is accepted only when its derivative equals the integrand
  (exactly when that is cheap, otherwise at seeded random points that include both signs of
  every parameter and both sides of every Piecewise breakpoint) and when it is finite
  wherever the integrand is real. Candidates come from several routes in turn (SymPy's
  ``integrate``; ``manualintegrate``; the parameters' assumptions relaxed; the cases
  ``p > 0`` / ``p < 0`` of a parameter, assembled into a Piecewise; ``risch``; Meijer G;
  the integrand split term by term). When none passes, :class:`~symml.errors.DerivationError`
  says that no antiderivative was found: never a wrong one.
* a **definite integral** candidate (``F(b) - F(a)`` with one-sided limits at the ends,
  SymPy's definite ``integrate``, or the sum over the pieces between the integrand's
  breakpoints) is accepted only when it equals ``mpmath.quad`` at random values of the
  parameters, the quadrature being split at the points where the integrand has kinks, jumps
  or poles (``abs``, ``relu``, ``max``/``min``, ``sign``, ``floor``, ``ceiling``,
  ``Heaviside``, Piecewise conditions, zeros of denominators).

>>> import sympy
>>> x, a = sympy.symbols("x a", real=True)
>>> F = antiderivative(1/(a + x**2), x)
>>> F.args[0]
(atan(x/sqrt(a))/sqrt(a), a > 0)
>>> F.args[1][0]
(log(x - sqrt(-a)) - log(x + sqrt(-a)))/(2*sqrt(-a))
>>> definite(sympy.sqrt(x)*sympy.log(x), x, 0, 1)
-4/9
>>> definite(abs(x - sympy.Rational(1, 3)), x, 0, 1)
5/18
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

import mpmath
import sympy
from sympy.integrals.manualintegrate import manualintegrate

from ._convert import to_sympy as _to_sympy
from ._diff import d as _deriv
from ._limits import DEFAULT_SECONDS, time_limit
from .errors import DerivationError
from .functions import CUSTOM_FUNCTIONS

__all__ = [
    "antiderivative",
    "definite",
    "antiderivative_problem",
    "definite_problem",
    "breakpoints",
    "quad",
    "derivative",
]

#: Seconds for one route (one SymPy integrator call); the whole search is capped by the
#: caller's budget (``seconds``, default :data:`symml._limits.DEFAULT_SECONDS`).
ROUTE_SECONDS = 8.0
#: Digits of the numeric checks.
DIGITS = 30
_X_SAMPLES = ("-2.71", "-1.37", "-0.53", "-0.19", "0.23", "0.61", "1.29", "2.47", "4.13",
              "-5.9", "0.07", "7.3")  # fmt: skip


def _fmt(e) -> str:
    from .lang import to_text

    try:
        return to_text(e)
    except Exception:  # noqa: BLE001 - a message must never fail to print
        return str(e)


# -- small tools ----------------------------------------------------------------------------------
class _Budget:
    """Wall-clock budget shared by the routes of one search."""

    def __init__(self, seconds: float | None):
        self.seconds = DEFAULT_SECONDS if seconds is None else float(seconds)
        self.end = time.monotonic() + self.seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def attempt(self, what: str, fn: Callable, *args, share: float = 1.0, **kwargs):
        """fn(*args) under a per-route limit (at most ``share`` of the time left); None on any
        failure or when time is up."""
        left = self.left()
        if left <= 0.05:
            return None
        try:
            with time_limit(min(ROUTE_SECONDS, left * share), what):
                return fn(*args, **kwargs)
        except (Exception, RecursionError):  # noqa: BLE001 - a failed route is just skipped
            return None

    def passes(self, what: str, check: Callable, *args) -> bool:
        """True when check(*args) returns None (no problem) within the budget."""
        left = self.left()
        if left <= 0.05:
            return False
        try:
            with time_limit(min(ROUTE_SECONDS, left), what):
                return check(*args) is None
        except (Exception, RecursionError):  # noqa: BLE001 - a check that cannot run fails
            return False


def elementary(f: sympy.Expr) -> sympy.Expr:
    """symml's sigmoid, softplus and relu written in elementary functions (Piecewise for relu)."""
    reps = {}
    for cls in CUSTOM_FUNCTIONS.values():
        for call in f.atoms(cls):
            reps[call] = call.rewrite(sympy.exp)
    return f.xreplace(reps) if reps else f


def derivative(F: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """dF/dx with floor and ceiling taken as piecewise constant (derivative 0 between jumps)."""
    out = _deriv(F, x)
    if not out.has(sympy.floor, sympy.ceiling, sympy.frac):
        return out
    out = out.replace(
        lambda e: (
            isinstance(e, sympy.Derivative) and e.expr.has(sympy.floor, sympy.ceiling, sympy.frac)
        ),
        lambda e: sympy.S.Zero,
    )
    return out.replace(lambda e: isinstance(e, sympy.Subs), lambda e: e.doit())


def _value(e: sympy.Expr, point: dict):
    """e at point as an mpmath mpc, or None when it is not a finite number there."""
    try:
        v = e.xreplace(point) if point else e
        if isinstance(v, sympy.Basic):
            v = v.evalf(DIGITS)
            if v.free_symbols or v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
                return None
            re_, im_ = v.as_real_imag()
            out = mpmath.mpc(mpmath.mpf(str(sympy.Float(re_, DIGITS))),
                             mpmath.mpf(str(sympy.Float(im_, DIGITS))))  # fmt: skip
        else:
            out = mpmath.mpc(v)
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, RecursionError):
        return None
    if not mpmath.isfinite(out.real) or not mpmath.isfinite(out.imag):
        return None
    return out


def _is_real(v) -> bool:
    return abs(v.imag) <= mpmath.mpf(10) ** (-(DIGITS - 8)) * max(1, abs(v.real))


def _close(u, v, rel: float = 1e-15) -> bool:
    return abs(u - v) <= rel * max(mpmath.mpf(1), abs(u), abs(v))


def _params(*exprs, var=None) -> list:
    syms: set = set()
    for e in exprs:
        syms |= _to_sympy(e).free_symbols
    syms.discard(var)
    return sorted(syms, key=lambda s: s.name)


def _param_value(sym: sympy.Symbol, rng: random.Random, signed: bool) -> sympy.Rational:
    v = sympy.Rational(rng.randint(150, 2400), 1000)
    negative = signed and rng.random() < 0.5
    if sym.is_positive or sym.is_nonnegative:
        negative = False
    if sym.is_negative or sym.is_nonpositive:
        negative = True
    if sym.is_integer:
        v = sympy.Integer(max(1, int(v)))
    return -v if negative else v


# -- breakpoints ----------------------------------------------------------------------------------
def _kink_arguments(f: sympy.Expr) -> list[tuple[sympy.Expr, bool]]:
    """(g, integer) pairs: f may jump or kink where g = 0 (where g is an integer when True)."""
    out: list[tuple[sympy.Expr, bool]] = []
    for e in sympy.preorder_traversal(f):
        if isinstance(e, (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.DiracDelta)):
            out.append((e.args[0], False))
        elif isinstance(e, (sympy.floor, sympy.ceiling, sympy.frac)):
            out.append((e.args[0], True))
        elif isinstance(e, (sympy.Max, sympy.Min)):
            args = e.args
            out += [(p - q, False) for i, p in enumerate(args) for q in args[i + 1 :]]
        elif isinstance(e, sympy.Piecewise):
            for _, cond in e.args:
                for rel in cond.atoms(sympy.Rel):
                    out.append((rel.lhs - rel.rhs, False))
        elif isinstance(e, sympy.Pow) and e.exp.is_number and e.exp.is_negative:
            out.append((e.base, False))
        elif isinstance(e, sympy.Pow) and not e.exp.is_integer:
            out.append((e.base, False))
        elif isinstance(e, (sympy.log, sympy.tan, sympy.cot, sympy.sec, sympy.csc)):
            out.append((e.args[0] if isinstance(e, sympy.log) else sympy.cos(e.args[0])
                        if isinstance(e, (sympy.tan, sympy.sec)) else sympy.sin(e.args[0]),
                        False))  # fmt: skip
    return out


def _bisect(g: Callable, lo, hi, k):
    glo = g(lo) - k
    for _ in range(110):
        mid = (lo + hi) / 2
        gm = g(mid) - k
        if gm == 0:
            return mid
        if (gm > 0) == (glo > 0):
            lo, glo = mid, gm
        else:
            hi = mid
    return (lo + hi) / 2


def breakpoints(f: sympy.Expr, x: sympy.Symbol, lo, hi, cap: int = 400) -> list:
    """Points strictly inside (lo, hi) (mpmath numbers) where the numeric integrand ``f`` (no
    parameters) may kink, jump or blow up, found on a grid and refined by bisection.

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> [float(p) for p in breakpoints(abs(x - sympy.Rational(1, 3)) + sympy.floor(2*x), x, 0, 1)]
    [0.3333333333333333, 0.5]
    """
    lo, hi = mpmath.mpf(lo), mpmath.mpf(hi)
    a = max(lo, mpmath.mpf(-200)) if mpmath.isinf(lo) else lo
    b = min(hi, mpmath.mpf(200)) if mpmath.isinf(hi) else hi
    if not a < b:
        return []
    n = 1200
    grid = [a + (b - a) * i / n for i in range(n + 1)]
    found: set = set()
    with mpmath.workdps(DIGITS):
        for g, integer in _kink_arguments(f):
            if x not in g.free_symbols:
                continue
            try:
                gf = sympy.lambdify(x, g, modules="mpmath")
                vals = []
                for t in grid:
                    try:
                        v = mpmath.mpmathify(gf(t))
                        vals.append(v.real if isinstance(v, mpmath.mpc) and _is_real(v) else v)
                    except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                        vals.append(None)
            except Exception:  # noqa: BLE001 - an argument we cannot evaluate: no breaks from it
                continue
            for i in range(n):
                u, v = vals[i], vals[i + 1]
                if not isinstance(u, mpmath.mpf) or not isinstance(v, mpmath.mpf):
                    continue
                if integer:
                    ks = range(int(mpmath.ceil(min(u, v))), int(mpmath.floor(max(u, v))) + 1)
                else:
                    ks = [0] if (u <= 0 <= v or v <= 0 <= u) else []
                for k in ks:
                    if u == k:
                        found.add(grid[i])
                    elif v == k:
                        found.add(grid[i + 1])
                    else:
                        found.add(_bisect(gf, grid[i], grid[i + 1], k))
                if len(found) > cap:
                    break
    return sorted(p for p in found if lo < p < hi)


def _mp_bound(v, point: dict):
    v = _to_sympy(v).xreplace(point)
    if v is sympy.oo:
        return mpmath.inf
    if v is -sympy.oo:
        return -mpmath.inf
    return mpmath.mpf(str(sympy.N(v, DIGITS)))


def quad(f: sympy.Expr, x: sympy.Symbol, a, b, point: dict | None = None):
    """``(value, error)`` of the integral of ``f`` from ``a`` to ``b`` by ``mpmath.quad``, at the
    parameter values ``point``, split at :func:`breakpoints`; None when it cannot be computed.

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> v, err = quad(sympy.sign(x - sympy.Rational(1, 4)), x, 0, 1)
    >>> round(float(v), 12)
    0.5
    """
    point = point or {}
    g = elementary(_to_sympy(f)).xreplace(point)
    try:
        fn, nodes, sign = _nodes(g, x, a, b, point)
        with mpmath.workdps(DIGITS):
            val, err = mpmath.quad(fn, nodes, error=True, maxdegree=8)
        val = mpmath.mpmathify(val)
    except Exception:  # noqa: BLE001 - no numeric reference here
        return None
    if not mpmath.isfinite(val.real) or not mpmath.isfinite(val.imag):
        return None
    return sign * val, err


# -- antiderivatives ------------------------------------------------------------------------------
def _x_points(F: sympy.Expr, f: sympy.Expr, x: sympy.Symbol, pvals: dict) -> list:
    """x values to test: fixed spread-out samples plus both sides of Piecewise breakpoints."""
    xs = [sympy.Rational(s) for s in _X_SAMPLES]
    extra: list = []
    for e in (F, f):
        for pw in e.atoms(sympy.Piecewise):
            for _, cond in pw.args:
                for rel in cond.atoms(sympy.Rel):
                    g = (rel.lhs - rel.rhs).xreplace(pvals)
                    if g.free_symbols != {x}:
                        continue
                    for r in breakpoints(g**-1, x, -10, 10, cap=6):
                        c = sympy.Rational(str(mpmath.nstr(r, 12)))
                        for d in (sympy.Rational(1, 7), sympy.Rational(1, 997)):
                            extra += [c - d, c + d]
    return extra[:16] + xs


def _exactly_equal(dF: sympy.Expr, f: sympy.Expr) -> bool:
    """dF == f shown symbolically, only where that is cheap (small rational functions)."""
    if dF == f:
        return True
    if sympy.count_ops(dF) > 60 or sympy.count_ops(f) > 60:
        return False
    if not (dF.is_rational_function() and f.is_rational_function()):
        return False
    try:
        with time_limit(2, "an exact comparison"):
            return sympy.cancel(dF - f) == 0
    except Exception:  # noqa: BLE001
        return False


def antiderivative_problem(F: sympy.Expr, f: sympy.Expr, x: sympy.Symbol, seed: int = 0,
                           points: int = 6) -> str | None:  # fmt: skip
    """None when dF/dx equals ``f`` wherever ``f`` is real (and F is finite there); else why not.

    Parameters take both signs; x takes spread-out values and both sides of every Piecewise
    breakpoint. Points where the integrand is not a finite real number are skipped (when
    there are none, finite complex values are compared instead).

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> antiderivative_problem(x**3/3, x**2, x) is None
    True
    >>> antiderivative_problem(sympy.S.Zero, 1/(1 + x**2), x)[:14]
    'at x = -2.71: '
    """
    if F.has(sympy.Integral):
        return "it keeps an unevaluated integral"
    if F.has(sympy.nan, sympy.zoo):
        pass  # maybe in an unused branch: the points decide
    try:
        dF = derivative(F, x)
    except Exception as exc:  # noqa: BLE001
        return f"it cannot be differentiated ({type(exc).__name__})"
    exact = _exactly_equal(dF, f)
    params = _params(F, f, var=x)
    rng = random.Random(seed)
    real_ok, complex_pts = 0, []
    for _ in range(4):
        pvals = {p: _param_value(p, rng, signed=True) for p in params}
        for xv in _x_points(F, f, x, pvals):
            pt = {**pvals, x: xv}
            fv = _value(f, pt)
            if fv is None:
                continue
            if not _is_real(fv):
                complex_pts.append((pt, fv))
                continue
            where = ", ".join(f"{s} = {float(v):g}" for s, v in pt.items())
            if _value(F, pt) is None:
                fr = mpmath.nstr(fv.real, 8)
                return f"at {where} it is not a finite number, but the integrand is {fr}"
            if exact:
                real_ok += 1
            else:
                dv = _value(dF, pt)
                if dv is None or not _close(dv, fv):
                    got = "undefined" if dv is None else mpmath.nstr(dv, 10)
                    return (
                        f"at {where}: its derivative is {got}, the integrand {mpmath.nstr(fv, 10)}"
                    )
                real_ok += 1
            if real_ok >= points * (1 + len(params)):
                return None
        if real_ok >= points:
            return None
    if real_ok:
        return None
    for pt, fv in complex_pts[:points]:
        dv = _value(dF, pt)
        if dv is None or not _close(dv, fv, 1e-12):
            where = ", ".join(f"{s} = {float(v):g}" for s, v in pt.items())
            return f"at {where}: its derivative does not equal the integrand"
    if complex_pts:
        return None
    return "no test point lies in the domain of the integrand"


def _relaxed(f: sympy.Expr, x: sympy.Symbol, route: Callable) -> sympy.Expr | None:
    """route(f) with the parameters' assumptions dropped, then the parameters put back."""
    params = _params(f, var=x)
    if not params:
        return None
    plain = {p: sympy.Symbol(p.name) for p in params}
    F = route(f.xreplace(plain), x)
    if F is None:
        return None
    return F.xreplace({v: k for k, v in plain.items()})


def _sign_cases(f: sympy.Expr, x: sympy.Symbol, route: Callable) -> sympy.Expr | None:
    """A Piecewise over the signs of one parameter (p > 0, p < 0, p = 0), each case checked."""
    params = [p for p in _params(f, var=x) if p.is_positive is None and p.is_negative is None]
    for p in params[:2]:
        pieces = []
        for cls_kw, cond in (({"positive": True}, p > 0), ({"negative": True}, p < 0)):
            q = sympy.Symbol(p.name, real=True, **cls_kw)
            Fq = route(f.xreplace({p: q}), x)
            if Fq is None or Fq.has(sympy.Integral):
                break
            Fq = Fq.xreplace({q: p})
            pieces.append((Fq, cond))
        else:
            zero = route(f.xreplace({p: 0}), x)
            if zero is None or zero.has(sympy.Integral):
                continue
            return sympy.Piecewise(*pieces, (zero, True))
    return None


def _variable_cases(f: sympy.Expr, x: sympy.Symbol, route: Callable) -> Iterator[sympy.Expr]:
    """Antiderivatives built from the cases x > 0 and x < 0 (SymPy's answers are often right
    on one half-line only): each half's own answer, or the positive one reflected (odd or even
    integrand); the check then decides."""
    xp, xn = sympy.Symbol(x.name, positive=True), sympy.Symbol(x.name, negative=True)
    pos = [G.xreplace({xp: x}) for G in _branches(route(f.xreplace({x: xp}), xp))]
    neg = [G.xreplace({xn: x}) for G in _branches(route(f.xreplace({x: xn}), xn))]
    pos = pos[1:] + pos[:1]  # the bare expressions first: SymPy's conditions can be wrong
    neg = neg[1:] + neg[:1]
    for Gp in pos[:3]:
        for Gn in neg[:3]:
            yield sympy.Piecewise((Gn, x < 0), (Gp, True))
        yield sympy.Piecewise((Gp.xreplace({x: -x}), x < 0), (Gp, True))
        yield sympy.Piecewise((-Gp.xreplace({x: -x}), x < 0), (Gp, True))


def _branches(F) -> list:
    """F, and when F is a Piecewise also each branch on its own (SymPy sometimes attaches a
    wrong condition to a right expression)."""
    if F is None or not isinstance(F, sympy.Expr) or F.has(sympy.Integral):
        return []
    out = [F]
    if F.has(sympy.exp_polar):
        plain = F.replace(lambda e: isinstance(e, sympy.exp_polar),
                          lambda e: sympy.exp(e.args[0]))  # fmt: skip
        out.insert(0, sympy.unpolarify(plain))
    if isinstance(F, sympy.Piecewise):
        out += [e for e, _ in F.args if not e.has(sympy.nan) and e not in out]
    return out


def _exp_substitution(f: sympy.Expr, x: sympy.Symbol, route: Callable) -> Iterator[sympy.Expr]:
    """u = exp(c*x + d) for an integrand that is a function of that exponential: the integral
    of g(u)/(c*u) du, then u put back (log(1 + exp(x)) -> -polylog(2, -exp(x)))."""
    u = sympy.Dummy("u", positive=True)
    seen = set()
    for e in sorted(f.atoms(sympy.exp), key=sympy.count_ops):
        g = e.args[0]
        c = _deriv(g, x)
        if not g.has(x) or c.has(x) or c == 0 or g in seen:
            continue
        seen.add(g)
        d = g - c * x
        fu = f.subs(e, u)
        fu = fu.xreplace({x: (sympy.log(u) - d) / c}) if fu.has(x) else fu
        G = route(fu / (c * u), u)
        for H in _branches(G):
            yield H.xreplace({u: e})


def _routes(f: sympy.Expr, x: sympy.Symbol, budget: _Budget, depth: int) -> Iterator:
    """Candidate antiderivatives, roughly from the most to the least natural."""

    def plain(g, v, share=1.0):
        return budget.attempt("SymPy's integrate", sympy.integrate, g, v, share=share)

    def manual(g, v):
        return budget.attempt("manualintegrate", manualintegrate, g, v)

    # SymPy's integrate goes first but may take at most half the time, so that on a slow
    # (loaded) machine manualintegrate, often immediate, still gets its turn
    yield from _branches(plain(f, x, share=0.5))
    yield from _branches(manual(f, x))
    yield from _branches(_relaxed(f, x, plain))
    yield from _branches(_sign_cases(f, x, manual) or _sign_cases(f, x, plain))
    from sympy.integrals.risch import risch_integrate

    yield from _branches(budget.attempt("risch", risch_integrate, f, x))
    yield from _variable_cases(f, x, manual)
    yield from _variable_cases(f, x, plain)
    yield from _exp_substitution(f, x, plain)
    yield from _branches(budget.attempt("meijerg", sympy.integrate, f, x, meijerg=True))
    if depth == 0:
        terms = sympy.Add.make_args(budget.attempt("expand", sympy.expand, f) or f)
        if len(terms) > 1:
            parts = []
            for t in terms:
                part = _search(t, x, budget, depth + 1)
                if part is None:
                    break
                parts.append(part)
            else:
                yield sympy.Add(*parts)


def _messy(F: sympy.Expr) -> bool:
    return F.has(sympy.meijerg, sympy.hyper, sympy.exp_polar) or (
        isinstance(F, sympy.Piecewise) and len(F.args) > 2
    )


def _search(f: sympy.Expr, x: sympy.Symbol, budget: _Budget, depth: int = 0):
    if x not in f.free_symbols:
        return f * x
    found = None
    for F in _routes(f, x, budget, depth):
        if budget.left() <= 0:
            break
        if not budget.passes("the check of an antiderivative", antiderivative_problem, F, f, x):
            continue
        if found is None:
            found = F
            if not _messy(F):
                return F
        elif not _messy(F) or sympy.count_ops(F) < sympy.count_ops(found):
            return F
    return found


def antiderivative(f: sympy.Expr, x: sympy.Symbol, seconds: float | None = None) -> sympy.Expr:
    """A checked antiderivative of ``f`` with respect to ``x`` (no constant).

    Raises
    ------
    DerivationError
        When no route gives an antiderivative that passes the check.
    LimitError
        When an outer time limit runs out.

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> antiderivative(x*sympy.exp(x), x)
    (x - 1)*exp(x)
    """
    f = _to_sympy(f)
    key = (f, x)
    if key in _FOUND:
        F = _FOUND[key]
        if F is None:
            raise DerivationError(_not_found(f, x, "by any route"))
        return F
    budget = _Budget(seconds)
    F = _search(f, x, budget)
    g = elementary(f)
    if F is None and g != f:
        F = _search(g, x, budget)
        if F is not None and not budget.passes("a check", antiderivative_problem, F, f, x):
            F = None
    timed_out = budget.left() <= 0.05
    if len(_FOUND) > 512:
        _FOUND.clear()
    if F is not None or not timed_out:
        _FOUND[key] = F  # the plain API, steps and verify ask for the same integrals
    if F is None:
        raise DerivationError(
            _not_found(f, x, "within the time limit" if timed_out else "by any route")
        )
    return F


_FOUND: dict = {}


def _not_found(f, x, why: str) -> str:
    return (
        f"no antiderivative of {_fmt(f)} with respect to {x} was found {why} (SymPy's "
        "integrate, manualintegrate, risch and Meijer G, each checked by differentiation); "
        "the integral may have no closed form: try a definite integral, which is also "
        "computed numerically"
    )


# -- definite integrals ---------------------------------------------------------------------------
def _end(F: sympy.Expr, x: sympy.Symbol, end: sympy.Expr, side: str, budget: _Budget):
    if end.is_infinite:
        return budget.attempt("a limit", sympy.limit, F, x, end)
    try:
        val = F.subs(x, end)
    except (TypeError, ValueError):
        val = sympy.nan
    if val.has(sympy.nan, sympy.zoo) or (val.is_number and val.is_finite is False):
        return budget.attempt("a limit", sympy.limit, F, x, end, side)
    return val


def fundamental(F: sympy.Expr, x, a, b, budget: _Budget | None = None):
    """F(b) - F(a), with one-sided limits where F is undefined or an end is infinite."""
    budget = budget or _Budget(None)
    Fb, Fa = _end(F, x, b, "-", budget), _end(F, x, a, "+", budget)
    if Fb is None or Fa is None:
        return None
    return Fb - Fa


def definite_problem(value, f: sympy.Expr, x: sympy.Symbol, a, b, seed: int = 0,
                     points: int = 3) -> str | None:  # fmt: skip
    """None when ``value`` equals the quadrature of ``f`` over [a, b] (at random parameter
    values; the quadrature split at :func:`breakpoints`), else why not.

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> definite_problem(sympy.Rational(1, 2), sympy.Heaviside(x - sympy.Rational(1, 2)), x, 0, 1)
    """
    value = _to_sympy(value)
    if not isinstance(value, sympy.Expr):
        return f"{_fmt(value)} is not a value"
    if value.has(sympy.Integral):
        return "it keeps an unevaluated integral"
    params = _params(value, f, a, b, var=x)
    rng = random.Random(seed)
    checked = 0
    for attempt in range(points * 4 if params else 1):
        pt = {p: _param_value(p, rng, signed=attempt % 2 == 1) for p in params}
        if attempt % 2 == 0:  # small positive values first: where most integrals converge
            pt = {p: (abs(v) if not p.is_negative else v) / 3 for p, v in pt.items()}
        where = ", ".join(f"{s} = {float(v):g}" for s, v in pt.items()) or "these limits"
        v = value.xreplace(pt)
        if v.has(sympy.oo, -sympy.oo, sympy.zoo) or v is sympy.oo or v is -sympy.oo:
            growth = _divergence(f, x, a, b, pt)
            if (
                v in (sympy.oo, -sympy.oo)
                and growth is not None
                and (growth > 0) == (v is sympy.oo)
            ):
                checked += 1
                if checked >= (points if params else 1):
                    return None
                continue
            return f"at {where} it is {_fmt(v)} but the integral does not diverge that way"
        val = _value(v, {})
        q = quad(f, x, a, b, pt)
        if q is None:
            continue
        qv, err = q
        if val is None:
            if abs(qv) > 1e10 or err > 1e-6 * max(1, abs(qv)):
                continue  # divergent, or quadrature unreliable here: no evidence either way
            return (
                f"at {where} it is undefined but numerical quadrature gives {mpmath.nstr(qv, 15)}"
            )
        if err > 1e-8 * max(1, abs(qv)):
            continue  # quadrature not reliable at this point
        if abs(val - qv) > max(1e-12 * max(1, abs(qv)), 100 * err):
            return (f"at {where} it is {mpmath.nstr(val, 15)} but numerical quadrature gives "
                    f"{mpmath.nstr(qv, 15)}")  # fmt: skip
        checked += 1
        if checked >= (points if params else 1):
            return None
    if checked:
        return None
    return "numerical quadrature could not confirm it at any test point"


def _freeze(e: sympy.Basic, x: sympy.Symbol, mid) -> sympy.Basic:
    """``e`` on the piece around ``mid`` where its jumps and kinks do not change: floor,
    ceiling, sign and Heaviside by their constant value, abs, max and min by the argument
    that applies, a Piecewise by the branch that holds."""
    if not e.args or x not in e.free_symbols:
        return e
    if isinstance(e, sympy.Piecewise):
        for expr, cond in e.args:
            if bool(cond.xreplace({x: mid})):
                return _freeze(expr, x, mid)
        return sympy.nan
    args = [_freeze(a, x, mid) for a in e.args]
    at = {x: mid}
    if isinstance(e, (sympy.floor, sympy.ceiling, sympy.sign, sympy.Heaviside)):
        return e.func(*args).xreplace(at)
    if isinstance(e, sympy.frac):
        return args[0] - sympy.floor(args[0].xreplace(at))
    if isinstance(e, sympy.Abs):
        return sympy.sign(args[0].xreplace(at)) * args[0]
    if isinstance(e, (sympy.Max, sympy.Min)):
        vals = [float(a.xreplace(at)) for a in args]
        pick = max if isinstance(e, sympy.Max) else min
        return args[vals.index(pick(vals))]
    return e.func(*args)


_FROZEN = (
    sympy.floor,
    sympy.ceiling,
    sympy.frac,
    sympy.sign,
    sympy.Heaviside,
    sympy.Abs,
    sympy.Max,
    sympy.Min,
    sympy.Piecewise,
)


def _exact_point(p) -> sympy.Expr | None:
    r = sympy.nsimplify(sympy.Float(mpmath.nstr(p, 28), 28), [sympy.pi, sympy.E],
                        tolerance=mpmath.mpf(10) ** -24)  # fmt: skip
    return r if abs(sympy.N(r - sympy.Float(mpmath.nstr(p, 28), 28), 30)) < 1e-22 else None


def _nodes(g, x, a, b, point: dict):
    """The integrand as an mpmath function, the ordered ends with the breakpoints between
    them, and the sign (-1 when the limits were given in decreasing order)."""
    lo, hi = _mp_bound(a, point), _mp_bound(b, point)
    sign = 1
    if lo > hi:
        lo, hi, sign = hi, lo, -1
    with mpmath.workdps(DIGITS):
        fn = sympy.lambdify(x, g, modules="mpmath")
        return fn, [lo, *breakpoints(g, x, lo, hi), hi], sign


def _graded(u, v, u2, v2) -> list:
    """Quadrature nodes over the cut interval [u2, v2] of the piece (u, v), graded
    geometrically toward each end: one tanh-sinh rule over [-1e12, 1e12] misses a peak of
    width 1 (and over [0, 1 - 1e-12] the growth at the end), and reads a convergent
    integral as a divergent one."""
    pts = {u2, v2}
    if mpmath.isinf(u) or mpmath.isinf(v):
        c = v if mpmath.isinf(u) and not mpmath.isinf(v) else (u if not mpmath.isinf(u) else 0)
        for k in range(13):
            for q in (c - mpmath.mpf(10) ** k, c + mpmath.mpf(10) ** k):
                if u2 < q < v2:
                    pts.add(q)
        if u2 < c < v2:
            pts.add(c)
    else:
        width = v - u
        for k in range(1, 13):
            for q in (u + width * mpmath.mpf(10) ** -k, v - width * mpmath.mpf(10) ** -k):
                if u2 < q < v2:
                    pts.add(q)
    return sorted(pts)


def _divergence(f, x, a, b, point: dict):
    """How much the integral grows when the cuts around the ends and breakpoints shrink from
    1e-6 to 1e-12 (infinite ends: from 1e6 to 1e12): a number of size > 0.5 (with its sign)
    when the integral diverges, None when it seems to converge."""
    g = elementary(_to_sympy(f)).xreplace(point)
    try:
        fn, cut, sign = _nodes(g, x, a, b, point)
        with mpmath.workdps(DIGITS):

            def cut_integral(eps):
                total = mpmath.mpf(0)
                for u, v in zip(cut, cut[1:], strict=False):
                    u2 = -1 / eps if mpmath.isinf(u) else u + eps * max(1, abs(u))
                    v2 = 1 / eps if mpmath.isinf(v) else v - eps * max(1, abs(v))
                    if u2 < v2:
                        nodes = _graded(u, v, u2, v2)
                        total += mpmath.re(mpmath.quad(fn, nodes, maxdegree=6))
                return total

            growth = sign * (cut_integral(mpmath.mpf("1e-12")) - cut_integral(mpmath.mpf("1e-6")))
    except Exception:  # noqa: BLE001
        return None
    return growth if abs(growth) > 0.5 else None


def _pieces(f, x, a, b, budget):
    """The sum over the pieces between the integrand's breakpoints (numeric limits, no
    parameters), each piece integrated with its jumps and kinks frozen."""
    if not (a.is_number and b.is_number) or _params(f, var=x):
        return None
    g = elementary(f)
    lo, hi = (a, b) if (a.is_infinite or b.is_infinite or a <= b) else (b, a)
    pts = breakpoints(g, x, _mp_bound(lo, {}), _mp_bound(hi, {}))
    if len(pts) > 60 or not g.has(*_FROZEN):
        return None
    exact = [_exact_point(p) for p in pts]
    if any(e is None for e in exact):
        return None
    nodes = [lo, *exact, hi]
    total = sympy.S.Zero
    for u, v in zip(nodes, nodes[1:], strict=False):
        if u.is_infinite or v.is_infinite:
            mid = (v - 1) if u.is_infinite and not v.is_infinite else (u + 1)
            if u.is_infinite and v.is_infinite:
                mid = sympy.S.Zero
        else:
            mid = (u + v) / 2
        piece = _freeze(g, x, mid)
        if piece.has(sympy.nan):
            return None
        F = _search(piece, x, budget, depth=1)
        if F is None:
            return None
        Fv, Fu = _end(F, x, v, "-", budget), _end(F, x, u, "+", budget)
        if Fv is None or Fu is None:
            return None
        total += Fv - Fu
    return total if lo == a else -total


def definite(f: sympy.Expr, x: sympy.Symbol, a, b, seconds: float | None = None) -> sympy.Expr:
    """The integral of ``f`` over ``x`` from ``a`` to ``b``, checked against quadrature.

    Raises
    ------
    DerivationError
        When no route gives a value that numerical quadrature confirms.

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> definite(sympy.Max(0, x - sympy.Rational(1, 2)), x, 0, 1)
    1/8
    """
    f, a, b = _to_sympy(f), _to_sympy(a), _to_sympy(b)
    budget = _Budget(seconds)
    try:
        F = antiderivative(f, x, seconds=budget.left() / 2)
    except DerivationError:
        F = None

    def candidates():
        if F is not None:
            yield fundamental(F, x, a, b, budget)
        yield budget.attempt("SymPy's definite integrate", sympy.integrate, f, (x, a, b))
        yield budget.attempt("the pieces between breakpoints", _pieces, f, x, a, b, budget)
        g = elementary(f)
        if g != f:
            yield budget.attempt("SymPy's definite integrate", sympy.integrate, g, (x, a, b))

    for value in candidates():
        if value is None or not isinstance(value, sympy.Expr) or value.has(sympy.Integral):
            continue
        if value.has(sympy.nan):
            continue
        simp = (
            budget.attempt("a simplification", sympy.simplify, value) if budget.left() > 1 else None
        )
        if simp is not None and sympy.count_ops(simp) <= sympy.count_ops(value):
            value = simp
        if budget.passes("the quadrature check", definite_problem, value, f, x, a, b):
            return value
    raise DerivationError(
        f"no value of the integral of {_fmt(f)} over {x} from {_fmt(a)} to {_fmt(b)} was found "
        "that numerical quadrature confirms; the integral may diverge or have no closed form"
    )
