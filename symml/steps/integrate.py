"""Integrals step by step: SymPy's ``manualintegrate`` rule tree as a :class:`Derivation`.

SymPy's :func:`sympy.integrals.manualintegrate.integral_steps` finds an integral the way a
student would (power rule, substitution, parts, partial fractions, trig identities, ...)
and returns a tree of rules. This module translates that tree into symml's
:class:`~symml.steps.model.Step` model, one rule per step, with stable rule names:

=====================  =========================================================
rule                   manualintegrate rule(s)
=====================  =========================================================
``constant``           ConstantRule
``power``              PowerRule, NestedPowRule
``log``                ReciprocalRule (``1/x -> log(x)``)
``exp``                ExpRule
``trig``               SinRule, CosRule, Sec2Rule, Csc2Rule, SecTanRule, CscCotRule
``hyperbolic``         SinhRule, CoshRule
``inverse_trig``       ArctanRule, ArcsinRule, ArcsinhRule, (Reciprocal)SqrtQuadratic...
``sum``                AddRule
``constant_multiple``  ConstantTimesRule
``substitution``       URule (names ``u`` and ``du``)
``trig_substitution``  TrigSubstitutionRule
``parts``              PartsRule, CyclicPartsRule
``partial_fractions``  RewriteRule whose rewriting is ``apart``
``rewrite``            other RewriteRules, and symml's sigmoid/softplus/relu first
``piecewise``          PiecewiseRule (cases of a parameter)
``heaviside``          HeavisideRule
``special``            erf, Ei, Si, Ci, li, polylog, Fresnel, elliptic, orthogonal polys
``no_rule``            DontKnowRule: SymPy's ``integrate`` answers instead, said so
``simplify``           a final simplification of the antiderivative
``limits``             ``F(b) - F(a)`` for a definite integral (limits at infinity too)
``iterated``           one variable of a multiple integral (innermost first)
=====================  =========================================================

Checks: an indefinite step holds when the derivative of its ``after`` (and of its
``form``) equals the integrand; a definite step when its sides equal the integral computed
by ``mpmath.quad`` at random values of the other symbols. Antiderivatives are equal up to
a constant, so the result is compared with :func:`symml.calculus.integrate` by derivatives.

>>> d = integrate("x*exp(x)", "x")
>>> d.result
(x - 1)*exp(x)
>>> d.rules()
['parts', 'exp', 'exp', 'simplify']
>>> d.verify()
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import sympy
from sympy.integrals import manualintegrate as mi

from .. import _integrate as route
from .._convert import as_expr, as_symbol
from .._convert import to_sympy as _to_sympy
from .._diff import diff as _diff
from .._limits import budgeted, time_limit
from ..errors import ArgumentError, DerivationError, LimitError
from ..functions import relu, sigmoid, softplus
from .integrate_rules import _prefixed, _SympyRule, _Translator
from .model import Derivation, Explanation, Step, explain, values_agree

__all__ = ["integrate"]

#: Seconds for SymPy's rule search (integral_steps) and for each fallback integrate.
RULE_SECONDS = 20
FALLBACK_SECONDS = 20


_f, _F = sympy.Function("f"), sympy.Function("F")


# -- text helpers ---------------------------------------------------------------------------------
def _t(e: Any) -> str:
    """An expression in the symml language, for explanations."""
    from ..lang import to_text

    return to_text(e)


def _integral_text(integrand: sympy.Expr, var: sympy.Symbol) -> str:
    return f"integral of {_t(integrand)} d{_t(var)}"


# -- symml's own functions first --------------------------------------------------------------
def _ml_rewrites(f: sympy.Expr) -> dict:
    """sigmoid, softplus, relu calls -> elementary forms manualintegrate can handle."""
    reps = {}
    for call in f.atoms(sigmoid):
        reps[call] = 1 / (1 + sympy.exp(-call.args[0]))
    for call in f.atoms(softplus):
        reps[call] = sympy.log(1 + sympy.exp(call.args[0]))
    for call in f.atoms(relu):
        # a*H(a) equals relu(a) everywhere (at a = 0 both are 0), and manualintegrate has a
        # rule for H(m*x + b)*g(x) (its pattern needs the one-argument Heaviside).
        reps[call] = call.args[0] * sympy.Heaviside(call.args[0])
    return reps


# -- naming the substitution variables ------------------------------------------------------------
class _Namer:
    """Gives manualintegrate's Dummy substitution variables readable, unused names."""

    CHOICES = ("u", "v", "w", "t", "s", "z")

    def __init__(self, taken: set[str]):
        self.taken = set(taken)
        self.map: dict[sympy.Dummy, sympy.Symbol] = {}

    def name(self, dummy: sympy.Symbol) -> sympy.Symbol:
        if not isinstance(dummy, sympy.Dummy):
            return dummy
        if dummy not in self.map:
            for cand in self.CHOICES + tuple(f"u_{i}" for i in range(1, 100)):
                if cand not in self.taken:
                    break
            self.taken.add(cand)
            self.map[dummy] = sympy.Symbol(cand, real=True)
        return self.map[dummy]

    def show(self, e: Any) -> Any:
        if isinstance(e, sympy.Basic):
            for d in sorted(e.atoms(sympy.Dummy), key=lambda s: s.dummy_index):
                self.name(d)
            return e.xreplace(self.map)
        return e


class _Stuck(Exception):
    """A DontKnowRule inside a route that SymPy cannot finish either."""


def _sympy_integrate(integrand: sympy.Expr, *lims: Any) -> sympy.Expr:
    """symml's checked route (:mod:`symml._integrate`): the same answer as the plain API.

    Raises DerivationError when no checked answer is found."""
    if len(lims) == 1 and isinstance(lims[0], tuple):
        return route.definite(integrand, *lims[0], seconds=FALLBACK_SECONDS)
    return route.antiderivative(integrand, *lims, seconds=FALLBACK_SECONDS)


def _retarget(rule: Any, old: sympy.Symbol, new: sympy.Symbol) -> Any:
    """Inside a substitution SymPy sometimes labels sub-rules with x although their integrand
    is in u: give every rule of the subtree whose integrand is free of ``old`` the variable
    ``new`` (so the step reads, and checks, as an integral in u)."""
    if not isinstance(rule, mi.Rule):
        return rule
    changes = {}
    if rule.variable == old and not rule.integrand.has(old):
        changes["variable"] = new
    for fld in dataclasses.fields(rule):
        val = getattr(rule, fld.name)
        if isinstance(val, mi.Rule):
            changes[fld.name] = _retarget(val, old, new)
        elif isinstance(val, list) and val and isinstance(val[0], mi.Rule):
            changes[fld.name] = [_retarget(v, old, new) for v in val]
        elif isinstance(val, (list, tuple)) and val and isinstance(val[0], tuple):
            changes[fld.name] = [(_retarget(a, old, new), *rest) for a, *rest in val]
    return dataclasses.replace(rule, **changes) if changes else rule


def _size(rule: Any) -> int:
    """Number of rule applications in a tree (the shortest alternative reads best)."""
    if isinstance(rule, mi.AlternativeRule):
        return min(_size(a) for a in rule.alternatives)
    n = 1
    if isinstance(rule, mi.DontKnowRule):
        n += 1000  # a route that gives up somewhere is the last choice
    for fld in dataclasses.fields(rule):
        val = getattr(rule, fld.name)
        items = val if isinstance(val, (list, tuple)) else [val]
        for item in items:
            if isinstance(item, tuple):
                item = item[0]
            if isinstance(item, mi.Rule):
                n += _size(item)
    return n


def _prepare(rule: Any) -> Any:
    """Choose among alternatives (the shortest route) and replace DontKnowRules by SymPy."""
    if isinstance(rule, mi.AlternativeRule):
        sizes = [_size(a) for a in rule.alternatives]
        return _prepare(rule.alternatives[sizes.index(min(sizes))])
    if isinstance(rule, mi.DontKnowRule):
        try:
            result = _sympy_integrate(rule.integrand, rule.variable)
        except DerivationError:
            raise _Stuck() from None
        return _SympyRule(rule.integrand, rule.variable, result)
    if not isinstance(rule, mi.Rule):
        return rule
    if isinstance(rule, mi.URule) and isinstance(rule.substep, mi.PiecewiseRule):
        # SymPy nests the cases of a parameter inside the substitution, mixing x and u in one
        # rule; the same antiderivative reads (and checks) better as cases of which only the
        # generic one substitutes.
        cases = [
            (
                mi.URule(rule.integrand, rule.variable, rule.u_var, rule.u_func, sub)
                if sub.variable == rule.u_var or sub.integrand.has(rule.u_var)
                else sub,
                cond,
            )
            for sub, cond in rule.substep.subfunctions
        ]
        return _prepare(mi.PiecewiseRule(rule.integrand, rule.variable, cases))
    if isinstance(rule, mi.URule):
        rule = dataclasses.replace(rule, substep=_retarget(rule.substep, rule.variable, rule.u_var))
    changes = {}
    for fld in dataclasses.fields(rule):
        val = getattr(rule, fld.name)
        if isinstance(val, mi.Rule):
            changes[fld.name] = _prepare(val)
        elif isinstance(val, list) and val and isinstance(val[0], mi.Rule):
            changes[fld.name] = [_prepare(v) for v in val]
        elif isinstance(val, (list, tuple)) and val and isinstance(val[0], tuple):
            changes[fld.name] = [
                (_prepare(a), *rest) if isinstance(a, mi.Rule) else (a, *rest) for a, *rest in val
            ]
    return dataclasses.replace(rule, **changes) if changes else rule


def _rule_tree(integrand: sympy.Expr, var: sympy.Symbol) -> Any:
    try:
        with time_limit(RULE_SECONDS, f"the rule search for the {_integral_text(integrand, var)}"):
            rule = mi.integral_steps(integrand, var)
    except LimitError:
        rule = mi.DontKnowRule(integrand, var)
    finally:
        # manualintegrate's module caches must not outlive one search (an interrupted search
        # would leave a marker that makes the next attempt at the same integral give up).
        mi._integral_cache.clear()
        mi._parts_u_cache.clear()
    try:
        return _prepare(rule)
    except _Stuck:
        # A route that gets stuck part way: symml's checked route for the whole integrand
        # instead (a DerivationError when it finds no antiderivative either).
        return _SympyRule(integrand, var, _sympy_integrate(integrand, var))


# -- checks ---------------------------------------------------------------------------------------
def _d(expr: sympy.Expr, *vars: sympy.Symbol) -> sympy.Expr:
    """The derivative, with floor/ceiling taken as piecewise constant (derivative 0 between
    the jumps; SymPy keeps some antiderivatives continuous with them)."""
    out = _diff(expr, *vars)
    if not out.has(sympy.floor, sympy.ceiling):
        return out
    out = out.replace(
        lambda e: isinstance(e, sympy.Derivative) and e.expr.has(sympy.floor, sympy.ceiling),
        lambda e: sympy.S.Zero,
    )
    return out.replace(lambda e: isinstance(e, sympy.Subs), lambda e: e.doit())


def _antiderivative_check(integrand: sympy.Expr, var: sympy.Symbol, namer: _Namer) -> Callable:
    """Holds when d/dvar of ``form`` and of ``after`` equal the integrand wherever it is real
    (:func:`symml._integrate.antiderivative_problem`: both signs of the parameters, both
    sides of Piecewise breakpoints), and the sides are finite there."""

    def check(step: Step) -> bool:
        for side in (step.form, step.after):
            if side is None:
                continue
            if isinstance(side, sympy.Expr) and side.has(sympy.Integral):
                # the rule written out with integrals still to do: compare derivatives
                if not values_agree(_d(side, var), integrand):
                    raise AssertionError(
                        f"d/d{var} of {_t(side)} is not the integrand {_t(integrand)}"
                    )
                continue
            problem = route.antiderivative_problem(side, integrand, var)
            if problem:
                raise AssertionError(
                    f"{_t(side)} is not an antiderivative of {_t(integrand)} in {var}: {problem}"
                )
        return True

    return check


def _definite_check(integrand, var, a, b, breaks=()) -> Callable:
    """Holds when every side equals ``mpmath.quad`` of the integral at random parameter values,
    the quadrature split where the integrand kinks, jumps or blows up
    (:func:`symml._integrate.definite_problem`)."""

    def check(step: Step) -> bool:
        for side in (s for s in (step.form, step.after) if s is not None):
            value = side.doit() if isinstance(side, sympy.Basic) else side
            problem = route.definite_problem(value, integrand, var, a, b)
            if problem:
                raise AssertionError(f"{_t(side)}: {problem}")
        return True

    return check


def _integrand_check(f: sympy.Expr, g: sympy.Expr) -> Callable:
    def check(step: Step) -> bool:
        if not values_agree(f, g):
            raise AssertionError(f"{_t(f)} and {_t(g)} differ")
        return True

    return check


def _parse_limits(f: sympy.Expr, limits: tuple) -> list[tuple]:
    if not limits:
        raise ArgumentError(
            "integrate needs a variable: integrate(f, 'x') or integrate(f, ('x', 0, 1))"
        )
    out = []
    for lim in limits:
        if isinstance(lim, (tuple, list)):
            if len(lim) != 3:
                raise ArgumentError(f"a definite limit is (variable, lower, upper), got {lim!r}")
            out.append((as_symbol(lim[0], [f]), as_expr(lim[1]), as_expr(lim[2])))
        else:
            out.append((as_symbol(lim, [f]),))
    vars_ = [lim[0] for lim in out]
    if len(set(vars_)) != len(vars_):
        raise ArgumentError(f"each variable may be integrated once, got {[str(v) for v in vars_]}")
    return out


def _end_value(
    F: sympy.Expr, var: sympy.Symbol, end: sympy.Expr, side: str
) -> tuple[sympy.Expr, bool]:
    """F at an end point; a one-sided limit (from inside) when the end is infinite or F is
    undefined there."""
    if end.is_infinite:
        with time_limit(FALLBACK_SECONDS, f"the limit of {_t(F)} as {var} -> {_t(end)}"):
            return sympy.limit(F, var, end), True
    val = F.subs(var, end)
    if val.has(sympy.nan, sympy.zoo) or (val.is_number and val.is_finite is False):
        with time_limit(FALLBACK_SECONDS, f"the limit of {_t(F)} as {var} -> {_t(end)}"):
            return sympy.limit(F, var, end, side), True
    return val, False


def _continuity_problem(F: sympy.Expr, h: sympy.Expr, var, a, b) -> tuple[str, list] | None:
    """Why F(b) - F(a) may be wrong on [a, b] (a singularity or a jump) and the points
    where it happens, or None."""
    if not (a.is_number and b.is_number):
        return None
    lo, hi = (a, b) if (a.is_infinite or b.is_infinite or a <= b) else (b, a)
    interval = sympy.Interval(lo, hi)
    from sympy.calculus.util import continuous_domain

    try:
        with time_limit(10, "the continuity check of the antiderivative"):
            for expr, what in ((h, "the integrand"), (F, "the antiderivative")):
                # end points are handled by one-sided limits of F (improper at an end)
                gap = interval - continuous_domain(expr, var, interval) - sympy.FiniteSet(lo, hi)
                if gap.is_empty is False:
                    pts = sorted(p for p in gap if lo < p < hi) if gap.is_FiniteSet else []
                    why = explain(what + " is not continuous at {gap} in {interval}",
                                  gap=gap, interval=interval)  # fmt: skip
                    return why, pts
    except (LimitError, NotImplementedError, TypeError, ValueError):
        return None
    return None


def _definite_steps(h, F, var, a, b) -> tuple[list[Step], sympy.Expr]:
    """Steps from the antiderivative F to the value of the definite integral."""
    steps = []
    problem = _continuity_problem(F, h, var, a, b)
    before = sympy.Integral(h, (var, a, b))
    if problem:
        why, breaks = problem
        value = _sympy_integrate(h, (var, a, b))
        text = _prefixed(
            "{ftc} does not apply because ",
            why,
            ftc=_F(b) - _F(a),
        )
        text = Explanation(
            text.template + "; symml's definite integration (improper where needed, piece by "
            "piece between breakpoints, checked against numerical quadrature) gives the value.",
            text.params,
        )
        steps.append(
            Step("no_rule", before, value, text, check=_definite_check(h, var, a, b, breaks))
        )
        return steps, value
    Fb, lim_b = _end_value(F, var, b, "-")
    Fa, lim_a = _end_value(F, var, a, "+")
    form = sympy.Add(
        sympy.Subs(F, var, b) if not lim_b else sympy.Limit(F, var, b),
        -(sympy.Subs(F, var, a) if not lim_a else sympy.Limit(F, var, a)),
        evaluate=False,
    )
    raw = Fb - Fa
    how = "limits" if (lim_a or lim_b) else "values"
    text = explain(
        "Fundamental theorem of calculus: {ftc} with {F} (taking " + how + " at the ends).",
        ftc=sympy.Eq(sympy.Integral(_f(var), (var, a, b)), _F(b) - _F(a), evaluate=False),
        F=sympy.Eq(_F(var), F, evaluate=False),
    )
    steps.append(Step("limits", before, raw, text, form=form, check=_definite_check(h, var, a, b)))
    with time_limit(FALLBACK_SECONDS, "the simplification of F(b) - F(a)"):
        value = sympy.simplify(raw)
    if value != raw:
        steps.append(Step("simplify", raw, value, "Simplify."))
    wrong = route.definite_problem(value, h, var, a, b)
    if wrong:
        # F(b) - F(a) is contradicted by quadrature (a jump of F that the continuity test
        # missed): the checked route's value instead, said so
        value = _sympy_integrate(h, (var, a, b))
        text = explain(
            "{ftc} is contradicted by numerical quadrature ({wrong}); symml's definite "
            "integration (checked against quadrature) gives the value.",
            ftc=sympy.Eq(_F(b) - _F(a), raw, evaluate=False),
            wrong=str(wrong),
        )
        return [Step("no_rule", before, value, text, check=_definite_check(h, var, a, b))], value
    return steps, value


def _simplify_antiderivative(F: sympy.Expr, h, var, namer) -> tuple[sympy.Expr, Step | None]:
    try:
        with time_limit(10, "the simplification of the antiderivative"):
            G = sympy.simplify(F)
    except LimitError:
        return F, None
    if G == F or sympy.count_ops(G) > sympy.count_ops(F) or not values_agree(F, G):
        return F, None
    return G, Step("simplify", F, G, "Simplify the antiderivative.")


def _antiderivative(
    h: sympy.Expr, var: sympy.Symbol, namer: _Namer
) -> tuple[list[Step], sympy.Expr]:
    tree = _rule_tree(h, var)
    root = _Translator(_antiderivative_check, namer).step(tree, h)
    failure = _first_failure(root)
    if failure:
        # SymPy's rules gave something that is not an antiderivative (e.g. a Piecewise that
        # is nan where the integrand is real): symml's checked route instead, said so
        F = _half_lines(h, var)
        rule = _SympyRule(h, var, _sympy_integrate(h, var) if F is None else F, reason=failure)
        root = _Translator(_antiderivative_check, namer).step(rule, h)
    F = root.after
    if isinstance(F, sympy.Piecewise) and len(F.args) == 2:
        # manualintegrate puts the generic case of a parameter first (as it does itself)
        (e1, c1), (e2, c2) = F.args
        if isinstance(c1, sympy.Eq) and c2 is sympy.true:
            F = sympy.Piecewise((e2, sympy.Ne(*c1.args)), (e1, True))
            root.after = F
    steps = [root]
    G, simp = _simplify_antiderivative(F, h, var, namer)
    if simp is not None:
        simp.check = _antiderivative_check(h, var, namer)
        steps.append(simp)
    return steps, G


def _half_lines(h: sympy.Expr, var: sympy.Symbol) -> sympy.Expr | None:
    """The checked route's half-line candidates (as :func:`symml._integrate._variable_cases`:
    manualintegrate for var > 0 reflected to var < 0, or joined with its answer for var < 0,
    into a Piecewise), the first that passes the route's antiderivative test; else None.

    The rules for a real variable often answer with a Piecewise that is right on one
    half-line only (``sqrt(16*x^2 - 9)/x``: nan wherever the integrand is real), and the
    route reaches the same candidates only after SymPy's integrate, manualintegrate and risch
    on the whole line (several seconds): tried first here, for integrands with powers in
    one variable."""
    if not h.has(sympy.Pow) or len(h.free_symbols) > 1:
        return None

    def manual(g, v):
        try:
            with time_limit(FALLBACK_SECONDS / 4, "the rules on a half-line"):
                return mi.manualintegrate(g, v)
        except (LimitError, *_RULE_ERRORS):
            return None
        finally:
            mi._integral_cache.clear()
            mi._parts_u_cache.clear()

    def ok(F):
        return not F.has(sympy.nan, sympy.zoo) and route.antiderivative_problem(F, h, var) is None

    xp, xn = sympy.Symbol(var.name, positive=True), sympy.Symbol(var.name, negative=True)
    pos = [G.xreplace({xp: var}) for G in route._branches(manual(h.xreplace({var: xp}), xp))]
    pos = pos[1:] + pos[:1]  # the bare expressions first: SymPy's conditions can be wrong
    for Gp in pos[:3]:  # the positive half reflected first (odd or even integrand): one search
        for sign in (1, -1):
            F = sympy.Piecewise((sign * Gp.xreplace({var: -var}), var < 0), (Gp, True))
            if ok(F):
                return F
    neg = [G.xreplace({xn: var}) for G in route._branches(manual(h.xreplace({var: xn}), xn))]
    neg = neg[1:] + neg[:1]
    for Gp in pos[:3]:
        for Gn in neg[:3]:
            F = sympy.Piecewise((Gn, var < 0), (Gp, True))
            if ok(F):
                return F
    return None


_RULE_ERRORS = (ValueError, TypeError, NotImplementedError, AttributeError, ArithmeticError,
                sympy.PolynomialError, RecursionError)  # fmt: skip


def _first_failure(root: Step) -> str | None:
    """The first step of the tree whose own check fails, described; None when all hold."""
    for _, step in root.walk():
        if callable(step.check):
            try:
                if step.check(step):
                    continue
                return f"the {step.rule} step does not check out"
            except (AssertionError, ArithmeticError, TypeError, ValueError) as exc:
                return f"the {step.rule} step does not check out: {exc}"
    return None


# -- public ---------------------------------------------------------------------------------------
@budgeted("steps.integrate")
def integrate(f: Any, *limits: Any) -> Derivation:
    """Step-by-step integral: indefinite ``integrate(f, "x")`` or definite ``(x, a, b)``.

    The same arguments as :func:`symml.calculus.integrate`; several limits integrate one
    variable after another, innermost (first) first. symml's ``sigmoid``, ``softplus`` and
    ``relu`` are first rewritten into elementary functions in a ``rewrite`` step. Where
    SymPy's rules find no route a ``no_rule`` step gives SymPy's ``integrate`` answer.

    Parameters
    ----------
    f : str or sympy.Expr
        The integrand.
    *limits : str, Symbol, or (variable, lower, upper)
        What to integrate over.

    Returns
    -------
    Derivation
        ``.result`` is the antiderivative (without a constant) or the value.

    Raises
    ------
    DerivationError
        When neither the rules nor SymPy's integrate find a closed form.

    Examples
    --------
    >>> d = integrate("2*x*cos(x^2)", "x")
    >>> d.result
    sin(x**2)
    >>> d.rules()
    ['constant_multiple', 'substitution', 'constant_multiple', 'trig']
    >>> print(str(d.steps[0].substeps[0].explanation).split(":")[0])
    Substitute u = x^2, so du = 2*x dx
    >>> integrate("x^2", ("x", 0, 3)).result
    9
    """
    f = as_expr(f)
    if isinstance(f, sympy.MatrixBase):
        raise ArgumentError(
            "integrate steps take a scalar integrand; integrate each entry on its own"
        )
    lims = _parse_limits(f, limits)
    taken = {s.name for s in f.free_symbols}
    for lim in lims:
        for e in lim:
            taken |= {s.name for s in sympy.sympify(e).free_symbols}
    namer = _Namer(taken)
    problem = sympy.Integral(f, *lims)
    steps: list[Step] = []
    reps = _ml_rewrites(f)
    h = f
    if reps:
        h = f.xreplace(reps)
        forms = sympy.Tuple(*(sympy.Eq(k, v, evaluate=False) for k, v in reps.items()))
        steps.append(
            Step(
                "rewrite",
                problem,
                sympy.Integral(h, *lims),
                explain("Write symml's functions in elementary form: {forms}.", forms=forms),
                check=_integrand_check(f, h),
            )
        )
    for i, lim in enumerate(lims):
        var = lim[0]
        try:
            sub, F = _antiderivative(h, var, namer)
        except DerivationError:
            if len(lim) != 3:
                raise
            sub, F = None, None
        if len(lim) == 3 and F is None:
            # no antiderivative in closed form (floor(3*x)): the definite value piece by piece
            value = _sympy_integrate(h, (var, lim[1], lim[2]))
            text = explain(
                "No antiderivative of {h} is found in closed form; symml's definite "
                "integration (piece by piece between the jumps, checked against numerical "
                "quadrature) gives the value.", h=h,
            )  # fmt: skip
            wrap_check = _definite_check(h, var, lim[1], lim[2])
            sub = [Step("no_rule", sympy.Integral(h, lim), value, text, check=wrap_check)]
        elif len(lim) == 3:
            more, value = _definite_steps(h, F, var, lim[1], lim[2])
            sub += more
            wrap_check = _definite_check(h, var, lim[1], lim[2])
        else:
            value = F
            wrap_check = _antiderivative_check(h, var, namer)
        if len(lims) == 1:
            steps += sub
        else:
            others = sorted(h.free_symbols - {var}, key=sympy.default_sort_key)
            names = {f"h{k}": o for k, o in enumerate(others)}
            held = (", holding " + ", ".join("{" + k + "}" for k in names) + " constant"
                    if names else "")  # fmt: skip
            if i == 0:
                text = explain("Integrate over {x} first (the innermost integral)" + held + ".",
                               x=var, **names)  # fmt: skip
            else:
                text = explain("Then integrate the result over {x}" + held + ".", x=var, **names)
            steps.append(
                Step(
                    "iterated", sympy.Integral(h, lim), value, text, substeps=sub, check=wrap_check
                )
            )
        h = value
    result = h
    kind = "definite" if all(len(lim) == 3 for lim in lims) else "indefinite"
    params: dict = {"f": f}
    pieces = []
    for k, lim in enumerate(lims):
        params[f"v{k}"] = lim[0]
        if len(lim) == 1:
            pieces.append(f"{{v{k}}}")
        else:
            params[f"a{k}"], params[f"b{k}"] = lim[1], lim[2]
            pieces.append(f"{{v{k}}} from {{a{k}}} to {{b{k}}}")
    title = explain(
        ("Integral" if kind == "definite" else "Antiderivative")
        + " of {f}"
        + (" over " if kind == "definite" else " with respect to ")
        + ", ".join(pieces),
        **params,
    )
    d = Derivation(
        title,
        "integrate",
        problem,
        steps,
        result,
        reference=lambda: _reference(f, lims),
        result_check=lambda d: _result_check(d, f, lims),
    )
    if kind == "indefinite" or any(len(lim) == 1 for lim in lims):
        d.note = "An antiderivative is determined up to a constant of integration C."
    return d


def _reference(f, lims):
    from ..calculus import integrate as plain

    try:
        return plain(f, *[lim if len(lim) == 3 else lim[0] for lim in lims])
    except LimitError:
        return None


def _result_check(d: Derivation, f: sympy.Expr, lims: list[tuple]) -> bool:
    """The result equals symml.calculus.integrate: as a value, or (indefinite) by derivatives.

    A single indefinite integral is checked directly by the route's antiderivative test
    (its derivative equals the integrand wherever that is real): what the plain API's answer
    is checked by, without searching for that answer again (the whole route, often several
    times the derivation)."""
    indefinite = [lim[0] for lim in lims if len(lim) == 1]
    result = d.result
    if len(lims) == 1 and indefinite:
        problem = route.antiderivative_problem(_to_sympy(result), f, indefinite[0])
        if problem:
            raise AssertionError(f"it is not an antiderivative: {problem}")
        return True
    ref = d.reference() if callable(d.reference) else d.reference
    if ref is None:
        raise AssertionError("no reference: symml.calculus.integrate ran out of time")
    if indefinite:
        # antiderivatives agree up to a constant (a function of the other variables for a
        # multiple integral): compare the mixed derivative over the indefinite variables.
        return values_agree(_d(result, *indefinite), _d(ref, *indefinite))
    if result.is_infinite or ref.is_infinite:
        return result == ref
    if ref.has(sympy.Integral) and len(lims) == 1:
        return _definite_check(f, *lims[0])(Step("result", None, result, ""))
    return values_agree(result, ref)
