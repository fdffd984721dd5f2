"""SymPy's ``manualintegrate`` rules, one to one, as symml's typed integration rules.

:func:`sympy.integrals.manualintegrate.integral_steps` returns a tree of rule objects (dataclasses
such as ``PartsRule(u, dv, v_step, second_step)``). :class:`_Translator` turns each into a
:class:`~symml.steps.model.Step` through a dispatch table, :data:`RULES`, keyed by the rule's
class: one method per rule, whose explanation states the rule as a formula with SymPy
parameters (``\\int u\\,dv = uv - \\int v\\,du`` with ``u = x`` and ``dv = e^x dx``), so every
renderer typesets it. Every concrete rule class of ``manualintegrate`` has an entry, except
those in :data:`RESOLVED_BEFORE` (removed from the tree before translation); a class SymPy adds
later gets the explicit fallback :meth:`_Translator.unmapped`, which says so.

>>> import sympy
>>> from sympy.integrals import manualintegrate as mi
>>> x = sympy.Symbol("x", real=True)
>>> rule = mi.integral_steps(x * sympy.exp(x), x)
>>> step = _Translator(lambda *a: None).step(rule)
>>> step.rule, str(step.explanation)
('parts', 'Integrate by parts, ∫ (u*d/dx[v]) dx = u*v - ∫ (v*d/dx[u]) dx, with u = x and dv = exp(x) dx: du = dx and v = exp(x).')
"""  # noqa: E501 (a doctest line)

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import sympy
from sympy import Integral
from sympy.integrals import manualintegrate as mi

from .._diff import diff as _diff
from .._limits import time_limit
from ..errors import LimitError
from .model import Explanation, Step, explain
from .render import WithDx
from .render_detail import _as_template

__all__ = ["RULES", "RESOLVED_BEFORE"]

#: Seconds for the partial-fraction test of a rewriting.
SPLIT_SECONDS = 20


@dataclasses.dataclass
class _SympyRule(mi.AtomicRule):
    """No rule applies: SymPy's integrate gives ``result`` (an extension of manualintegrate)."""

    result: sympy.Expr
    closed: bool = True  # False when SymPy's answer still contains an unevaluated Integral
    reason: str = ""  # why SymPy's rules were not used (their answer failed its check)

    def eval(self) -> sympy.Expr:
        return self.result


def _eq(a, b) -> sympy.Eq:
    return sympy.Eq(a, b, evaluate=False)


_A, _B, _C, _N = sympy.symbols("a b c n", real=True)
_U, _V, _I = sympy.symbols("u v I", real=True)


def _g(x):
    return sympy.Function("g")(x)


def _prefixed(template: str, e, **params) -> Explanation:
    """``template`` (with its own parameters) followed by the explanation ``e``."""
    body, inner = _as_template(e, "e_")
    return Explanation(template + body, {**params, **inner})


#: Standard integrals: the integrand of each table rule, written in the rule's variable; the
#: right-hand side is SymPy's own (the rule's ``eval``), so the formula shown is the rule used.
_TABLE_INTEGRANDS: dict[type, Callable] = {
    mi.SinRule: sympy.sin,
    mi.CosRule: sympy.cos,
    mi.Sec2Rule: lambda x: sympy.sec(x) ** 2,
    mi.Csc2Rule: lambda x: sympy.csc(x) ** 2,
    mi.SecTanRule: lambda x: sympy.sec(x) * sympy.tan(x),
    mi.CscCotRule: lambda x: sympy.csc(x) * sympy.cot(x),
    mi.SinhRule: sympy.sinh,
    mi.CoshRule: sympy.cosh,
    mi.ArcsinRule: lambda x: 1 / sympy.sqrt(1 - x**2),
    mi.ArcsinhRule: lambda x: 1 / sympy.sqrt(1 + x**2),
}
_TABLE_KIND = {
    mi.SinhRule: "hyperbolic",
    mi.CoshRule: "hyperbolic",
    mi.ArcsinRule: "inverse_trig",
    mi.ArcsinhRule: "inverse_trig",
}

_SPECIAL = (
    mi.CiRule,
    mi.ChiRule,
    mi.EiRule,
    mi.SiRule,
    mi.ShiRule,
    mi.LiRule,
    mi.ErfRule,
    mi.FresnelCRule,
    mi.FresnelSRule,
    mi.PolylogRule,
    mi.UpperGammaRule,
    mi.EllipticFRule,
    mi.EllipticERule,
)
_ORTHOGONAL = (
    mi.JacobiRule,
    mi.GegenbauerRule,
    mi.ChebyshevTRule,
    mi.ChebyshevURule,
    mi.LegendreRule,
    mi.HermiteRule,
    mi.LaguerreRule,
    mi.AssocLaguerreRule,
)

#: manualintegrate rule class -> the method of :class:`_Translator` that translates it.
RULES: dict[type, str] = {
    mi.ConstantRule: "constant",
    mi.ConstantTimesRule: "constant_times",
    mi.PowerRule: "power",
    mi.NestedPowRule: "nested_power",
    mi.ReciprocalRule: "reciprocal",
    mi.ExpRule: "exponential",
    **{cls: "table" for cls in _TABLE_INTEGRANDS},
    mi.ArctanRule: "arctan",
    mi.ReciprocalSqrtQuadraticRule: "sqrt_quadratic",
    mi.SqrtQuadraticDenomRule: "sqrt_quadratic",
    mi.SqrtQuadraticRule: "sqrt_quadratic",
    mi.AddRule: "add",
    mi.URule: "substitution",
    mi.PartsRule: "parts",
    mi.CyclicPartsRule: "cyclic_parts",
    mi.TrigSubstitutionRule: "trig_substitution",
    mi.RewriteRule: "rewrite",
    mi.CompleteSquareRule: "complete_square",
    mi.PiecewiseRule: "piecewise",
    mi.HeavisideRule: "heaviside",
    mi.DerivativeRule: "derivative",
    mi.DiracDeltaRule: "dirac_delta",
    **{cls: "special" for cls in _SPECIAL},
    **{cls: "orthogonal" for cls in _ORTHOGONAL},
    _SympyRule: "sympy",
}

#: Rule classes that never reach the translator, and why.
RESOLVED_BEFORE: dict[type, str] = {
    mi.AlternativeRule: "the shortest alternative is chosen before translation",
    mi.DontKnowRule: "replaced before translation by SymPy's integrate (a no_rule step)",
}


class _Translator:
    """manualintegrate rule tree -> Step tree, one method per rule class (:data:`RULES`).

    ``check(integrand, var, namer)`` gives each step's check; ``namer`` (optional) gives
    SymPy's Dummy substitution variables readable names (``.name`` and ``.show``).
    """

    def __init__(self, check: Callable, namer: Any = None):
        self.check = check
        self.namer = namer

    def show(self, e):
        return self.namer.show(e) if self.namer is not None else e

    def name(self, dummy):
        return self.namer.name(dummy) if self.namer is not None else dummy

    def step(self, rule: Any, integrand: sympy.Expr | None = None) -> Step:
        """One rule (and its sub-rules) as a Step; ``integrand`` overrides rule.integrand."""
        var = self.show(rule.variable)
        f = self.show(integrand if integrand is not None else rule.integrand)
        method = RULES.get(type(rule), "unmapped")
        name, why, subs, form, note = getattr(self, method)(rule, f, var)
        return Step(
            name,
            Integral(f, var),
            self.show(rule.eval()),
            why,
            substeps=subs,
            form=form,
            note=note,
            check=self.check(f, var, self.namer),
        )

    # -- atomic rules ---------------------------------------------------------------------------
    def constant(self, rule, f, x):
        """integral c dx = c*x."""
        why = explain(
            "{c} does not depend on {x}, so {rule}.", c=f, x=x, rule=_eq(Integral(f, x), f * x)
        )
        return "constant", why, [], None, None

    def power(self, rule, f, x):
        """integral x^n dx = x^(n + 1)/(n + 1) for n != -1."""
        n = self.show(rule.exp)
        base = self.show(rule.base)
        formula = _eq(Integral(x**_N, x), x ** (_N + 1) / (_N + 1))
        if n.free_symbols:
            why = explain(
                "Power rule {rule} for {cond} (and {log} for n = -1), here {n}.",
                rule=formula,
                cond=sympy.Ne(_N, -1),
                log=sympy.log(x),
                n=_eq(_N, n),
            )
        else:
            why = explain("Power rule {rule}, here {n}.", rule=formula, n=_eq(_N, n))
        if base != x:
            why = _prefixed("With {u}: ", why, u=_eq(_U, base))
        return "power", why, [], None, None

    def nested_power(self, rule, f, x):
        """integral (x^a)^b dx = x*(x^a)^b/(a*b + 1)."""
        formula = _eq(Integral((x**_A) ** _B, x), x * (x**_A) ** _B / (_A * _B + 1))
        return (
            "power",
            explain("Power rule for a power of a power: {rule}.", rule=formula),
            [],
            None,
            None,
        )

    def reciprocal(self, rule, f, x):
        """integral 1/x dx = log(x)."""
        b = self.show(rule.base)
        formula = _eq(Integral(1 / x, x), sympy.log(x))
        why = (
            explain("{rule}, applied to {u}.", rule=formula, u=_eq(_U, b))
            if b != x
            else explain("{rule}.", rule=formula)
        )
        note = explain(
            "SymPy writes {a} for {b}; for negative arguments the two differ by a constant.",
            a=sympy.log(x),
            b=sympy.log(sympy.Abs(x)),
        )
        return "log", why, [], None, note

    def exponential(self, rule, f, x):
        """integral exp(x) dx = exp(x); integral a^x dx = a^x/log(a)."""
        base = self.show(rule.base)
        if base == sympy.E:
            why = explain(
                "The exponential is its own antiderivative: {rule}.",
                rule=_eq(Integral(sympy.exp(x), x), sympy.exp(x)),
            )
        else:
            why = explain(
                "Exponential rule {rule}, here {a}.",
                rule=_eq(Integral(_A**x, x), _A**x / sympy.log(_A)),
                a=_eq(_A, base),
            )
        return "exp", why, [], None, None

    def table(self, rule, f, x):
        """A standard integral (sin, cos, sec^2, ..., asin, asinh), SymPy's right-hand side."""
        cls = type(rule)
        g = _TABLE_INTEGRANDS[cls](x)
        formula = _eq(Integral(g, x), cls(g, x).eval())
        return (
            _TABLE_KIND.get(cls, "trig"),
            explain("Standard integral {rule}.", rule=formula),
            [],
            None,
            None,
        )

    def arctan(self, rule, f, x):
        """integral a/(b*x^2 + c) dx = a/(b*sqrt(c/b))*atan(x/sqrt(c/b))."""
        a, b, c = (self.show(v) for v in (rule.a, rule.b, rule.c))
        g = _A / (_B * x**2 + _C)
        formula = _eq(Integral(g, x), mi.ArctanRule(g, x, _A, _B, _C).eval())
        why = explain(
            "Arctangent rule {rule}, here {p}.",
            rule=formula,
            p=sympy.Tuple(_eq(_A, a), _eq(_B, b), _eq(_C, c)),
        )
        return "inverse_trig", why, [], None, None

    def sqrt_quadratic(self, rule, f, x):
        """Integrals with the square root of a quadratic a + b*x + c*x^2."""
        a, b, c = (self.show(v) for v in (rule.a, rule.b, rule.c))
        why = explain(
            "Standard integral with the square root of the quadratic {q}.", q=a + b * x + c * x**2
        )
        return "inverse_trig", why, [], None, None

    def special(self, rule, f, x):
        """A special-function integral (Ei, Si, Ci, li, erf, Fresnel, polylog, gamma, elliptic)."""
        value = self.show(rule.eval())
        calls = sorted(
            (a for a in value.atoms(sympy.Function) if not isinstance(a, _ELEMENTARY)),
            key=sympy.default_sort_key,
        )
        why = explain(
            "Standard special-function integral: the antiderivative is written with "
            "{F}, which is not elementary.",
            F=calls[0] if calls else value,
        )
        return "special", why, [], None, None

    def orthogonal(self, rule, f, x):
        """The integral of an orthogonal polynomial (Legendre, Chebyshev, Hermite, ...)."""
        why = explain("Standard integral of the orthogonal polynomial {p}.", p=f)
        return "special", why, [], None, None

    def dirac_delta(self, rule, f, x):
        """integral delta(x) dx = H(x) (and the derivatives of delta)."""
        formula = _eq(Integral(sympy.DiracDelta(x), x), sympy.Heaviside(x))
        return "special", explain("Delta function: {rule}.", rule=formula), [], None, None

    def derivative(self, rule, f, x):
        """integral g'(x) dx = g(x)."""
        formula = _eq(Integral(sympy.Derivative(_g(x), x), x), _g(x))
        return (
            "derivative",
            explain("Integrating a derivative undoes it: {rule}.", rule=formula),
            [],
            None,
            None,
        )

    # -- rules with sub-rules -------------------------------------------------------------------
    def constant_times(self, rule, f, x):
        """integral c*g(x) dx = c * integral g(x) dx."""
        c, other = self.show(rule.constant), self.show(rule.other)
        sub = self.step(rule.substep, other)
        formula = _eq(Integral(_C * _g(x), x), _C * Integral(_g(x), x))
        why = explain("Constant multiple rule {rule}, here {c}.", rule=formula, c=_eq(_C, c))
        return "constant_multiple", why, [sub], c * Integral(other, x), None

    def add(self, rule, f, x):
        """The integral of a sum is the sum of the integrals."""
        subs = [self.step(s) for s in rule.substeps]
        form = sympy.Add(*(Integral(s.before.function, x) for s in subs), evaluate=False)
        h = sympy.Function("h")(x)
        formula = _eq(Integral(_g(x) + h, x), Integral(_g(x), x) + Integral(h, x))
        return "sum", explain("Integrate term by term: {rule}.", rule=formula), subs, form, None

    def substitution(self, rule, f, x):
        """integral h(g(x)) g'(x) dx = integral h(u) du with u = g(x)."""
        u, g = self.name(rule.u_var), self.show(rule.u_func)
        sub = self.step(rule.substep)
        why = explain(
            "Substitute {u}, so {du}: the integral becomes {new}; integrate, then put {back} back.",
            u=_eq(u, g),
            du=_eq(WithDx(1, u), WithDx(_diff(g, x), x)),
            new=Integral(self.show(rule.substep.integrand), u),
            back=_eq(u, g),
        )
        return "substitution", why, [sub], None, None

    def parts(self, rule, f, x):
        """integral u dv = u*v - integral v du."""
        u, dv = self.show(rule.u), self.show(rule.dv)
        v_step = self.step(rule.v_step, dv)
        v_step.explanation = _prefixed(
            "First {v}, the integral of {dv}: ", v_step.explanation, v=_V, dv=WithDx(dv, x)
        )
        v = v_step.after
        second = self.step(rule.second_step, self.show(rule.second_step.integrand))
        second.explanation = _prefixed(
            "Then the integral of {vdu}: ", second.explanation, vdu=WithDx(v * _diff(u, x), x)
        )
        formula = _eq(
            Integral(_U * sympy.Derivative(_V, x), x),
            sympy.Add(_U * _V, -Integral(_V * sympy.Derivative(_U, x), x), evaluate=False),
        )
        why = explain(
            "Integrate by parts, {rule}, with {u} and {dv}: {du} and {v}.",
            rule=formula,
            u=_eq(_U, u),
            dv=_eq(WithDx(1, _V), WithDx(dv, x)),
            du=_eq(WithDx(1, _U), WithDx(_diff(u, x), x)),
            v=_eq(_V, v),
        )
        form = sympy.Add(u * v, -Integral(second.before.function, x), evaluate=False)
        return "parts", why, [v_step, second], form, None

    def cyclic_parts(self, rule, f, x):
        """Parts until the integral I comes back: I = T + c*I, so I = T/(1 - c)."""
        subs, terms, sign = [], [], 1
        for p in rule.parts_rules:
            vs = self.step(p.v_step, self.show(p.dv))
            subs.append(vs)
            terms.append(sign * self.show(p.u) * vs.after)
            sign = -sign
        c, t = self.show(rule.coefficient), sympy.Add(*terms)
        why = explain(
            "Integrate by parts {k} times: the integral {I} comes back, {eq}; solving "
            "for it gives {sol}.",
            k=sympy.Integer(len(rule.parts_rules)),
            I=_eq(_I, Integral(f, x)),
            eq=_eq(_I, t + c * _I),
            sol=_eq(_I, t / (1 - c)),
        )
        return "parts", why, subs, None, None

    def trig_substitution(self, rule, f, x):
        """A trigonometric substitution x = func(theta)."""
        theta, func = self.name(rule.theta), self.show(rule.func)
        new = self.show(rule.rewritten)
        sub = self.step(rule.substep, new)
        why = explain(
            "Trigonometric substitution {sub}: the integral becomes {new}; integrate, "
            "then return to {x}.",
            sub=_eq(x, func),
            new=Integral(new, theta),
            x=x,
        )
        return "trig_substitution", why, [sub], None, None

    def rewrite(self, rule, f, x):
        """Rewrite (expand, partial fractions, an identity), then integrate."""
        new = self.show(rule.rewritten)
        sub = self.step(rule.substep, new)
        if _is_partial_fractions(f, new, x):
            return (
                "partial_fractions",
                explain("Split into partial fractions: {eq}.", eq=_eq(f, new)),
                [sub],
                Integral(new, x),
                None,
            )
        how = "Expand" if new == sympy.expand(f) else "Rewrite"
        why = explain(how + " the integrand: {eq}.", eq=_eq(f, new))
        return "rewrite", why, [sub], Integral(new, x), None

    def complete_square(self, rule, f, x):
        """Complete the square in the quadratic, then integrate."""
        new = self.show(rule.rewritten)
        sub = self.step(rule.substep, new)
        why = explain("Complete the square: {eq}.", eq=_eq(f, new))
        return "rewrite", why, [sub], Integral(new, x), None

    def piecewise(self, rule, f, x):
        """The antiderivative depends on a parameter: one case per condition."""
        subs, names = [], {}
        for i, (sub, cond) in enumerate(rule.subfunctions):
            st = self.step(sub)
            label = self.show(cond) if cond is not sympy.true else "otherwise"
            st.explanation = _prefixed("Case {case}: ", st.explanation, case=label)
            subs.append(st)
            names[f"c{i}"] = label
        listed = "; ".join("{" + k + "}" for k in names)
        why = explain("The answer depends on a parameter; the cases are " + listed + ".", **names)
        return "piecewise", why, subs, None, None

    def heaviside(self, rule, f, x):
        """integral H(x - b)*g(x) dx = H(x - b)*(G(x) - G(b))."""
        sub = self.step(rule.substep)
        why = explain(
            "For {h} times {g}, integrate {g} and subtract its value at the step {b}, "
            "so that the antiderivative is continuous there.",
            h=sympy.Heaviside(self.show(rule.harg)),
            g=_g(x),
            b=_eq(x, self.show(rule.ibnd)),
        )
        return "heaviside", why, [sub], None, None

    # -- no rule ----------------------------------------------------------------------------------
    def sympy(self, rule, f, x):
        """No rule of SymPy's manualintegrate applies: SymPy's integrate answers, said so."""
        i = Integral(f, x)
        if rule.reason:
            why = explain(
                "SymPy's integration rules give a wrong answer for {i} ({why}); symml's "
                "checked integration (SymPy's integrators, each answer checked by "
                "differentiation) gives the antiderivative instead.",
                i=i,
                why=rule.reason,
            )
            return "no_rule", why, [], None, None
        if rule.closed:
            why = explain(
                "No integration rule applies to {i}; SymPy's integrate (Risch and "
                "Meijer G algorithms) gives the antiderivative instead.",
                i=i,
            )
            return "no_rule", why, [], None, None
        why = explain(
            "No integration rule finishes {i}, and SymPy's integrate finds no closed "
            "form either: its answer keeps an unevaluated integral.",
            i=i,
        )
        note = (
            "The remaining integral has no antiderivative in elementary functions that SymPy "
            "can find."
        )
        return "no_rule", why, [], None, note

    def unmapped(self, rule, f, x):
        """A rule class SymPy added after this table was written: named, SymPy's value, checked."""
        name = type(rule).__name__
        why = explain(
            "SymPy's {name} has no symml rule yet; the value is SymPy's rule's own "
            "(checked by differentiation like every step).",
            name=name,
        )
        return "no_rule", why, [], None, None


_ELEMENTARY = (
    sympy.exp,
    sympy.log,
    sympy.sin,
    sympy.cos,
    sympy.tan,
    sympy.Heaviside,
    sympy.sinh,
    sympy.cosh,
    sympy.tanh,
    sympy.asin,
    sympy.atan,
    sympy.Abs,
)


def _is_partial_fractions(f: sympy.Expr, new: sympy.Expr, var: sympy.Symbol) -> bool:
    """Is the rewriting f -> new the partial-fraction split of a rational function of var?"""
    if not f.is_rational_function(var):
        return False  # apart needs a rational function (else SymPy's PolynomialError)
    if not (new.is_Add or (new.is_Mul and any(t.is_Add for t in new.args))):
        return False
    try:
        with time_limit(SPLIT_SECONDS, "the partial fractions"):
            split = sympy.apart(f, var)
    except (sympy.PolynomialError, NotImplementedError, LimitError):
        return False
    return sympy.expand(new) == sympy.expand(split) and sympy.expand(new) != sympy.expand(f)
