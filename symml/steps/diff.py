"""Differentiation by rules, one rule per step: ``diff``, ``grad``, ``jacobian``, ``hessian``.

Each rule is a method of :class:`_Differ` whose docstring states the rule. A rule receives
the expression and the variable and returns a :class:`~symml.steps.model.Step` whose
``before`` is the unevaluated ``Derivative`` and whose ``after`` is its value; the pieces it
needs (the factors of a product, the inner function of a composition) are derived as
sub-steps. When no rule applies, a ``no_rule`` step says so and gives SymPy's answer.

Within one derivation, derivatives already worked out are reused by name instead of being
derived again ("derived in (A)"), and a compound inner expression that occurs several times
(``w1*x1 + w2*x2 + b`` inside two sigmoids) is abbreviated (``z``) once at the start and
substituted back at the end. Simplification is always a step of its own.

>>> import symml as sm
>>> d = sm.steps.diff("x^2*sin(x)", "x")
>>> d.result
x**2*cos(x) + 2*x*sin(x)
>>> d.rules()[:3]
['product', 'power', 'trig']
>>> d.verify()
True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import sympy
from sympy import Derivative, Heaviside, Matrix, S
from sympy.functions.elementary.hyperbolic import HyperbolicFunction
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from .._limits import budgeted
from .._diff import diff as _diff
from ..errors import ArgumentError, ShapeError
from ..functions import relu, sigmoid, softplus
from .model import Derivation, Explanation, Step, explain
from .render import _positive_first

__all__ = ["diff", "grad", "jacobian", "hessian"]


# -- the table of elementary derivatives: class -> (rule name, label, derivative) ------------------
def _table() -> dict:
    u2 = lambda u: u**2  # noqa: E731
    return {
        sympy.exp: ("exp", "Exponential rule", lambda u: sympy.exp(u)),
        sympy.log: ("log", "Logarithm rule", lambda u: 1 / u),
        sympy.sin: ("trig", "Trig rule", lambda u: sympy.cos(u)),
        sympy.cos: ("trig", "Trig rule", lambda u: -sympy.sin(u)),
        sympy.tan: ("trig", "Trig rule", lambda u: 1 / sympy.cos(u) ** 2),
        sympy.cot: ("trig", "Trig rule", lambda u: -1 / sympy.sin(u) ** 2),
        sympy.sec: ("trig", "Trig rule", lambda u: sympy.sec(u) * sympy.tan(u)),
        sympy.csc: ("trig", "Trig rule", lambda u: -sympy.csc(u) * sympy.cot(u)),
        sympy.asin: ("inverse_trig", "Inverse trig rule", lambda u: 1 / sympy.sqrt(1 - u2(u))),
        sympy.acos: ("inverse_trig", "Inverse trig rule", lambda u: -1 / sympy.sqrt(1 - u2(u))),
        sympy.atan: ("inverse_trig", "Inverse trig rule", lambda u: 1 / (1 + u2(u))),
        sympy.sinh: ("hyperbolic", "Hyperbolic rule", lambda u: sympy.cosh(u)),
        sympy.cosh: ("hyperbolic", "Hyperbolic rule", lambda u: sympy.sinh(u)),
        sympy.tanh: ("hyperbolic", "Hyperbolic rule", lambda u: 1 - sympy.tanh(u) ** 2),
        sympy.asinh: ("hyperbolic", "Inverse hyperbolic rule", lambda u: 1 / sympy.sqrt(u2(u) + 1)),
        sympy.atanh: ("hyperbolic", "Inverse hyperbolic rule", lambda u: 1 / (1 - u2(u))),
        sigmoid: ("sigmoid", "Sigmoid rule", lambda u: sigmoid(u) * (1 - sigmoid(u))),
        softplus: ("softplus", "Softplus rule", lambda u: sigmoid(u)),
        relu: ("relu", "ReLU rule", lambda u: Heaviside(u, 0)),
        sympy.Abs: ("abs", "Absolute value rule", lambda u: sympy.sign(u)),
    }


_TABLE = _table()

_NOTES = {
    "relu": "symml's convention at the kink: relu'(0) = heaviside(0) = 0.",
    "abs": "For real u; at the kink symml takes abs'(0) = sign(0) = 0.",
}

_FRESH = ("u", "v", "t", "s", "p", "q", "r", "k")
_ABBREV = ("z", "a", "c", "m", "n", "h")


def _d(expr: sympy.Expr, var: sympy.Symbol) -> Derivative:
    return Derivative(expr, var)


class _Differ:
    """Applies the differentiation rules, remembering what it has derived.

    ``definitions`` maps abbreviation symbols to what they stand for; ``reserved`` are
    names not to use for the chain rule's ``u``.
    """

    def __init__(self, definitions: dict | None = None, reserved: set[str] | None = None):
        self.definitions = dict(definitions or {})
        self.reserved = set(reserved or ()) | {str(s) for s in self.definitions}
        self.memo: dict[tuple, Step] = {}
        self.labels = 0
        self.depth = 0

    # -- helpers ----------------------------------------------------------------------------
    def expand(self, expr: sympy.Expr) -> sympy.Expr:
        for _ in range(len(self.definitions) + 1):
            new = expr.xreplace(self.definitions)
            if new == expr:
                break
            expr = new
        return expr

    def depends(self, expr: sympy.Expr, var: sympy.Symbol) -> bool:
        return var in self.expand(expr).free_symbols

    def fresh(self) -> sympy.Symbol:
        names = [n for n in _FRESH if n not in self.reserved]
        name = names[self.depth % len(names)] if names else f"u{self.depth}"
        return sympy.Symbol(name, real=True)

    def label(self) -> str:
        self.labels += 1
        n, s = self.labels - 1, ""
        while True:
            s = chr(ord("A") + n % 26) + s
            n = n // 26 - 1
            if n < 0:
                return f"({s})"

    # -- entry point: memo, then rules ------------------------------------------------------
    def d(self, f: sympy.Expr, x: sympy.Symbol) -> Step:
        """Derive ``d f / d x``; reuse an earlier derivation of the same thing by name."""
        key = (f, x)
        if key in self.memo:
            first = self.memo[key]
            if first.name is None:
                first.name = self.label()
            return Step(
                "reuse", _d(f, x), first.after,
                explain(f"Already derived in {first.name}: {{d}} = {{value}}.",
                        d=_d(f, x), value=first.after),
            )  # fmt: skip
        step = self.rule(f, x)
        if step.substeps:
            self.memo[key] = step
        return step

    def rule(self, f: sympy.Expr, x: sympy.Symbol) -> Step:
        """Dispatch on the expression: special cases first, then the type table ``_DISPATCH``."""
        if not self.depends(f, x):
            return self.constant(f, x)
        if f == x:
            return self.variable(f, x)
        if f in self.definitions:
            return self.definition(f, x)
        if self.expand(f).has(*_NON_FINITE):
            return self.non_finite(f, x)
        for cls in type(f).__mro__:
            method = _DISPATCH.get(cls)
            if method is not None:
                return getattr(self, method)(f, x)
        return self.no_rule(f, x)

    # -- the rules --------------------------------------------------------------------------
    def constant(self, f, x) -> Step:
        """Constant rule: d/dx c = 0 for anything c that does not depend on x."""
        if f.is_number:
            why = explain("{c} is a constant, so its derivative is 0.", c=f)
        else:
            held = {
                f"h{i}": s for i, s in enumerate(sorted(f.free_symbols, key=sympy.default_sort_key))
            }
            names = ", ".join("{" + k + "}" for k in held)
            verb = "is" if len(held) == 1 else "are"
            why = explain(
                "{c} does not depend on {x} (" + names + f" {verb} held constant), so its "
                "derivative is 0.", c=f, x=x, **held,
            )  # fmt: skip
        return Step("constant", _d(f, x), S.Zero, why)

    def variable(self, f, x) -> Step:
        """Variable rule: d/dx x = 1."""
        return Step(
            "variable", _d(f, x), S.One,
            explain("The derivative of {x} with respect to itself is 1.", x=x),
        )  # fmt: skip

    def definition(self, f, x) -> Step:
        """An abbreviation is differentiated through its definition: d/dx z = d/dx (definition)."""
        body = self.definitions[f]
        sub = self.d(body, x)
        return Step(
            "definition", _d(f, x), sub.after,
            explain("{z} stands for {body}, so differentiate that.", z=f, body=body), [sub],
        )  # fmt: skip

    def sum(self, f, x) -> Step:
        """Sum and difference rules: (f + g)' = f' + g' and (f - g)' = f' - g', term by term."""
        terms = _positive_first(list(f.as_ordered_terms()))
        fixed = [t for t in terms if not self.depends(t, x)]
        if len(fixed) > 1:  # the terms free of x are one constant, derived in one step
            terms = [t for t in terms if self.depends(t, x)] + [sympy.Add(*fixed)]
        plus = [t for t in terms if not t.could_extract_minus_sign()]
        minus = [-t for t in terms if t.could_extract_minus_sign()]
        subs = {t: self.d(t, x) for t in [-t if t.could_extract_minus_sign() else t for t in terms]}
        form = sympy.Add(
            *[sympy.Mul(-1, _d(-t, x), evaluate=False) if t.could_extract_minus_sign() else _d(t, x)
              for t in terms], evaluate=False,
        )  # fmt: skip
        after = sympy.Add(*[subs[t].after for t in plus]) - sympy.Add(
            *[subs[t].after for t in minus]
        )
        rules = {r for sub in subs.values() for r in sub.rules()}
        rules -= {"constant", "variable", "constant_multiple"}
        if all(_immediate(sub) for sub in subs.values()):
            words = sorted(_RULE_WORDS.get(r, r.replace("_", " ")) for r in rules)
            named = (" and the " + " and ".join(words) + (" rules" if len(words) > 1 else " rule")
                     if words else "")  # fmt: skip
            return Step(
                "difference" if minus else "sum", _d(f, x), after,
                f"By linearity{named}, term by term.", list(subs.values()), form=form,
            )  # fmt: skip
        if minus:
            rule, why = "difference", "Difference rule: differentiate term by term."
        else:
            rule, why = "sum", "Sum rule: differentiate term by term."
        return Step(rule, _d(f, x), after, why, list(subs.values()), form=form)

    def mul(self, f, x) -> Step:
        """Constant multiple, quotient and product rules for a product of factors."""
        const = [a for a in f.args if not self.depends(a, x)]
        dep = [a for a in f.args if self.depends(a, x)]
        if const:
            c, g = sympy.Mul(*const), sympy.Mul(*dep)
            if g == x:
                return Step(
                    "constant_multiple", _d(f, x), c,
                    explain("Constant multiple rule: {rule}, here with {c}.",
                            rule=_eq(_d(_C * x, x), _C), c=_eq(_C, c)),
                )  # fmt: skip
            sub = self.d(g, x)
            return Step(
                "constant_multiple", _d(f, x), c * sub.after,
                explain("Constant multiple rule: the factor {c} does not depend on {x}, so it "
                        "comes out of the derivative.", c=c, x=x),
                [sub], form=sympy.Mul(c, _d(g, x), evaluate=False),
            )  # fmt: skip
        den = [a for a in dep if a.is_Pow and a.exp.is_number and a.exp.is_negative]
        num = [a for a in dep if a not in den]
        if den and num:
            return self.quotient(f, x, sympy.Mul(*num), sympy.Mul(*[1 / a for a in den]))
        return self.product(f, x, dep)

    def quotient(self, f, x, num, den) -> Step:
        """Quotient rule: (f/g)' = (f'*g - f*g')/g^2."""
        sn, sd = self.d(num, x), self.d(den, x)
        form = sympy.Mul(
            sympy.Add(
                sympy.Mul(_d(num, x), den, evaluate=False),
                sympy.Mul(-1, num, _d(den, x), evaluate=False),
                evaluate=False,
            ),
            sympy.Pow(den, -2),
            evaluate=False,
        )
        after = (sn.after * den - num * sd.after) / den**2
        why = explain("Quotient rule with numerator {f} and denominator {g}.", f=num, g=den)
        return Step("quotient", _d(f, x), after, why, [sn, sd], form=form)

    def product(self, f, x, factors: Sequence) -> Step:
        """Product rule: (f*g)' = f'*g + f*g'; n factors: differentiate one at a time, add."""
        factors = list(factors)
        subs = [self.d(a, x) for a in factors]
        terms_form, terms_after = [], []
        for i in range(len(factors)):
            terms_form.append(
                sympy.Mul(
                    *[_d(a, x) if j == i else a for j, a in enumerate(factors)], evaluate=False
                )
            )
            terms_after.append(
                sympy.Mul(*[subs[j].after if j == i else a for j, a in enumerate(factors)])
            )
        names = {f"f{i + 1}": a for i, a in enumerate(factors)}
        listed = ", ".join("{" + k + "}" for k in names)
        word = "two" if len(factors) == 2 else str(len(factors))
        return Step(
            "product", _d(f, x), sympy.Add(*terms_after),
            explain(f"Product rule for the {word} factors {listed}: differentiate one factor at "
                    "a time and add.", **names),
            subs, form=sympy.Add(*terms_form, evaluate=False),
        )  # fmt: skip

    def pow(self, f, x) -> Step:
        """Power rule, exponential rule a^g, or logarithmic differentiation for f^g."""
        base, ex = f.base, f.exp
        base_dep, ex_dep = self.depends(base, x), self.depends(ex, x)
        if base_dep and ex_dep:
            return self.log_differentiation(f, x)
        if base_dep:
            if base == x:
                return self.power(f, x)
            return self.chain(f, x, lambda u: u**ex, base)
        if ex == x:
            return self.exponential(f, x)
        return self.chain(f, x, lambda u: base**u, ex)

    def power(self, f, x) -> Step:
        """Power rule: d/dx x^n = n*x^(n - 1)."""
        n = f.exp
        kind = ""
        if n == S.Half:
            kind = " (a square root is the power 1/2)"
        elif n.is_number and n.is_negative:
            kind = " (a reciprocal power has a negative exponent)"
        return Step(
            "power", _d(f, x), n * x ** (n - 1),
            explain("Power rule {rule}, here with {n}" + kind + ".",
                    rule=_eq(_d(x**_N, x), _N * x ** (_N - 1)), n=_eq(_N, n)),
        )  # fmt: skip

    def exponential(self, f, x) -> Step:
        """Exponential rule with a constant base: d/dx a^x = a^x*log(a)."""
        a = f.base
        return Step(
            "exp", _d(f, x), f * sympy.log(a),
            explain("Exponential rule {rule}, here with {a}.",
                    rule=_eq(_d(_A**x, x), _A**x * sympy.log(_A)), a=_eq(_A, a)),
        )  # fmt: skip

    def log_differentiation(self, f, x) -> Step:
        """Logarithmic differentiation: f^g = exp(g*log(f)), so (f^g)' = f^g*(g*log(f))'."""
        base, ex = f.base, f.exp
        inner = ex * sympy.log(base)
        sub = self.d(inner, x)
        return Step(
            "log_differentiation", _d(f, x), f * sub.after,
            explain("Logarithmic differentiation: base and exponent both depend on {x}; "
                    "{power}, so its derivative is {f} times the derivative of {inner}.",
                    x=x, power=_eq(f, sympy.exp(inner, evaluate=False), evaluate=False),
                    f=f, inner=inner),
            [sub], form=sympy.Mul(f, _d(inner, x), evaluate=False),
        )  # fmt: skip

    def function(self, f, x) -> Step:
        """exp, log, trig, hyperbolic, sigmoid, softplus, relu, abs: table or chain rule."""
        if len(f.args) != 1 or f.func not in _TABLE:
            return self.no_rule(f, x)
        arg = f.args[0]
        if f.func is sympy.Abs and self.expand(arg).is_extended_real is not True:
            return self.complex_abs(f, x)
        if arg == x:
            return self.elementary(f.func, x)
        return self.chain(f, x, lambda u: f.func(u), arg)

    def complex_abs(self, f, x) -> Step:
        """Absolute value of a possibly complex u: d|u|/dx = (re(u) re(u)' + im(u) im(u)')/|u|."""
        u = f.args[0]
        value = _diff(self.expand(f), x)
        return Step(
            "abs", _d(f, x), value,
            explain("The argument {u} is not known to be real, so {abs} and the derivative "
                    "is SymPy's.", u=u, abs=_eq(f, sympy.sqrt(sympy.re(u)**2 + sympy.im(u)**2),
                                                     evaluate=False)),
        )  # fmt: skip

    def elementary(self, func, u: sympy.Symbol) -> Step:
        """One entry of the table of derivatives, e.g. d/du sin(u) = cos(u)."""
        rule, label, deriv = _TABLE[func]
        fu, du = func(u), deriv(u)
        return Step(
            rule, _d(fu, u), du, explain(label + ": {rule}.", rule=_eq(_d(fu, u), du)),
            note=_NOTES.get(rule),
        )  # fmt: skip

    def outer(self, g: sympy.Expr, u: sympy.Symbol) -> Step:
        """The outer function's derivative with respect to its argument u."""
        if g.is_Pow and g.base == u:
            return self.power(g, u)
        if g.is_Pow and g.exp == u:
            return self.exponential(g, u)
        return self.elementary(g.func, u)

    def chain(self, f, x, outer, inner) -> Step:
        """Chain rule: d/dx g(u) = g'(u)*du/dx with u the inner function."""
        u = self.fresh()
        g = outer(u)
        out = self.outer(g, u)
        self.depth += 1
        try:
            inn = self.d(inner, x)
        finally:
            self.depth -= 1
        g1 = out.after.xreplace({u: inner})
        why = explain(
            "Chain rule with outer function {outer} and inner function {inner}, "
            "where {douter}.",
            outer=g, inner=_eq(u, inner, evaluate=False), douter=_eq(_d(g, u), out.after),
        )  # fmt: skip
        return Step(
            "chain", _d(f, x), g1 * inn.after, why, [out, inn],
            form=sympy.Mul(g1, _d(inner, x), evaluate=False),
        )  # fmt: skip

    def non_finite(self, f, x) -> Step:
        """An expression with oo, zoo or nan has no derivative by the rules: SymPy's value."""
        value = _diff(self.expand(f), x)
        bad = sorted(self.expand(f).atoms(*_NON_FINITE_TYPES), key=sympy.default_sort_key)
        return Step(
            "no_rule", _d(f, x), value,
            explain("The expression contains the non-finite constant {c}, so no "
                    "differentiation rule applies; the value is SymPy's.",
                    c=bad[0] if bad else S.NaN),
            check=_same_as_sympy,
        )  # fmt: skip

    def no_rule(self, f, x) -> Step:
        """No rule of symml applies: say so and give SymPy's result."""
        value = _diff(self.expand(f), x)
        return Step(
            "no_rule", _d(f, x), value,
            explain("No differentiation rule of symml applies to {f}; this is SymPy's result.",
                    f=f),
        )  # fmt: skip


_C, _N, _A = sympy.symbols("c n a", real=True)


def _eq(a, b, **_kw) -> sympy.Eq:
    """An unevaluated equation shown in an explanation (``lhs = rhs``)."""
    return sympy.Eq(a, b, evaluate=False)


_NON_FINITE = (S.NaN, S.ComplexInfinity, S.Infinity, S.NegativeInfinity)
_NON_FINITE_TYPES = (
    type(S.NaN),
    type(S.ComplexInfinity),
    type(S.Infinity),
    type(S.NegativeInfinity),
)
_DISPATCH = {sympy.Add: "sum", sympy.Mul: "mul", sympy.Pow: "pow"}
_DISPATCH.update({func: "function" for func in _TABLE})
_RULE_WORDS = {"power": "power", "constant_multiple": "constant multiple", "exp": "exponential",
               "log": "logarithm", "trig": "trig"}  # fmt: skip
_IMMEDIATE = {"constant", "variable", "power", "exp", "log", "trig", "inverse_trig",
              "hyperbolic", "sigmoid", "softplus", "relu"}  # fmt: skip


def _tag(steps: Sequence[Step]) -> None:
    """Set the detail level of every sub-step: table entries, constants and lone variables
    (and the outer derivative of a chain, named in its explanation) only at ``"full"``."""
    seen: set[int] = set()

    def walk(step: Step) -> None:
        if id(step) in seen:
            return
        seen.add(id(step))
        for i, sub in enumerate(step.substeps):
            if _immediate(sub) or (step.rule == "chain" and i == 0):
                sub.detail = "full"
            walk(sub)

    for step in steps:
        walk(step)


def _immediate(step: Step) -> bool:
    """A step a textbook does not derive: a table entry, or a constant times one."""
    if step.rule in _IMMEDIATE and not step.substeps:
        return True
    if step.rule == "reuse":  # its value was derived (and named) before
        return True
    linear = ("constant_multiple", "sum", "difference", "definition")
    return step.rule in linear and all(_immediate(s) for s in step.substeps)


def _same_as_sympy(step: Step) -> bool:
    """The step's value is exactly SymPy's derivative (for non-finite expressions)."""
    d = step.before
    return bool(_diff(d.expr, *d.variables) == step.after)


# -- simplification as a step of its own --------------------------------------------------
def _size(e) -> tuple:
    return (sympy.count_ops(e, visual=False), len(str(e)))


def _positive_lead(e: sympy.Expr) -> sympy.Expr:
    """Turn -a*(y - s) into a*(s - y): absorb a leading minus sign into a difference factor."""
    if e.is_Mul and e.could_extract_minus_sign():
        adds = [a for a in e.args if a.is_Add]
        if len(adds) == 1:
            add = adds[0]
            rest = [a for a in e.args if a is not add]
            return -sympy.Mul(*rest) * (-add)
    return e


def _simplified(e: sympy.Expr) -> tuple[sympy.Expr, str]:
    """The tidiest of a few standard forms of ``e`` and how it was reached."""
    cands = [(e, "")]
    ops = sympy.count_ops(e)
    if ops > 300:  # polynomial algebra on huge expressions is slow and rarely tidier
        return e, ""
    trig = e.has(TrigonometricFunction, HyperbolicFunction)
    try:
        cands.append((sympy.factor(e), "factor"))
        cands.append((sympy.cancel(e), "cancel"))
        cands.append((sympy.factor(sympy.expand(e)), "expand and factor"))
        if ops < 40 and not trig:  # SymPy's simplify (trigsimp) can take minutes on big input
            cands.append((sympy.simplify(e), "simplify"))
    except (sympy.PolynomialError, NotImplementedError, TypeError, ValueError):
        pass
    best, how = e, ""
    ops0, len0 = _size(e)
    calls = e.atoms(sympy.Function)
    for cand, label in cands:
        if not cand.atoms(sympy.Function) <= calls:
            continue  # no new functions (sin(2*x) for 2*sin(x)*cos(x)): keep the familiar form
        cand = _positive_lead(cand)
        ops, length = _size(cand)
        # only a clear gain is worth a step: two operations fewer, or a third shorter
        if (ops <= ops0 - 2 or length < 0.67 * len0) and (ops, length) < _size(best):
            best, how = cand, label
    return best, how


def simplify_step(e: sympy.Expr) -> Step | None:
    """A ``simplify`` step from ``e`` to a tidier equal form, or None if ``e`` is tidy already."""
    if isinstance(e, sympy.MatrixBase) or e.has(*_NON_FINITE):
        return None  # oo - oo and 0*oo would "simplify" to nan
    best, how = _simplified(e)
    if best == e:
        return None
    words = {
        "factor": "collect the terms and factor",
        "cancel": "cancel common factors",
        "expand and factor": "expand, collect like terms and factor",
        "simplify": "simplify (SymPy's simplify)",
    }.get(how, "move the minus sign into the difference")
    return Step("simplify", e, best, f"Simplify: {words}.")


# -- abbreviations of repeated inner expressions ---------------------------------------------------
def _abbreviations(exprs: Sequence, variables: Sequence, reserved: set[str]) -> dict:
    """Name -> body for compound function arguments occurring twice or more with a variable."""
    count: Counter = Counter()
    for e in exprs:
        for node in sympy.preorder_traversal(e):
            if isinstance(node, sympy.Function) and len(node.args) == 1:
                arg = node.args[0]
                if (
                    arg.is_Add
                    and len(arg.args) >= 3
                    and any(v in arg.free_symbols for v in variables)
                ):
                    count[arg] += 1
    repeated = [a for a, n in count.items() if n >= 2]
    repeated.sort(key=lambda a: sympy.default_sort_key(a))
    names = [n for n in _ABBREV if n not in reserved]
    out = {}
    for i, body in enumerate(repeated):
        name = names[i] if i < len(names) else f"z{i}"
        out[sympy.Symbol(name, real=True)] = body
    return out


def _abbreviate(e, definitions: dict):
    inverse = {body: sym for sym, body in definitions.items()}
    return e.xreplace(inverse) if inverse else e


def _definition_steps(definitions: dict) -> list[Step]:
    return [
        Step(
            "definition",
            sym,
            body,
            explain("Abbreviate the repeated inner expression: let {d}.", d=_eq(sym, body)),
            check=False,
        )  # fmt: skip
        for sym, body in definitions.items()
    ]


def _back_substitution(value, definitions: dict, differ: _Differ) -> tuple[Step | None, Any]:
    if not definitions:
        return None, value
    full = (
        differ.expand(value)
        if not isinstance(value, sympy.MatrixBase)
        else value.applyfunc(differ.expand)
    )
    if full == value:
        return None, value
    params = {f"d{i}": _eq(s, b) for i, (s, b) in enumerate(definitions.items())}
    names = ", ".join("{" + k + "}" for k in params)
    return Step("substitution", value, full, explain(f"Substitute back {names}.", **params)), full


# -- argument handling ----------------------------------------------------------------------------
def _as_expr(f):
    from .. import _convert

    return _convert.as_expr(f)


def _as_symbols(vars_, exprs=()):
    from .. import _convert

    return _convert.as_symbols(vars_, exprs)


def _diff_order(vars_: Sequence, f) -> list[sympy.Symbol]:
    """Expand ``x, 2, y`` (SymPy style counts) into ``[x, x, y]``."""
    out: list[sympy.Symbol] = []
    for v in vars_:
        if isinstance(v, (int, sympy.Integer)) and not isinstance(v, bool):
            if not out:
                raise ArgumentError("diff: a count must follow a variable, as in diff(f, 'x', 2)")
            if int(v) < 1:
                raise ArgumentError(f"diff: the count after {out[-1]} must be >= 1, got {v}")
            out.extend([out[-1]] * (int(v) - 1))
        elif isinstance(v, str) and v.strip().isdigit():
            out.extend(_diff_order([int(v)], f) if not out else [out[-1]] * (int(v) - 1))
        else:
            out.extend(_as_symbols(v, [f]))
    return out


def _reserved(exprs) -> set[str]:
    names: set[str] = set()
    for e in exprs:
        names |= {str(s) for s in e.free_symbols}
    return names


def _held(f_full: sympy.Expr, x: sympy.Symbol) -> tuple[str, dict]:
    """``", holding {h0}, {h1} constant"`` and its parameters (the other variables)."""
    others = sorted((s for s in f_full.free_symbols if s != x), key=sympy.default_sort_key)
    if not others:
        return "", {}
    params = {f"h{i}": s for i, s in enumerate(others)}
    return ", holding " + ", ".join("{" + k + "}" for k in params) + " constant", params


def _partial(differ: _Differ, f, x, title: str, before=None, **params) -> Step:
    """A partial derivative of ``f`` with respect to ``x``: the rule steps, then simplify."""
    root = differ.d(f, x)
    subs = [root]
    value = root.after
    simp = simplify_step(value)
    if simp is not None:
        subs.append(simp)
        value = simp.after
    held, names = _held(differ.expand(f), x)
    exact = _same_as_sympy if differ.expand(f).has(*_NON_FINITE) else None
    return Step(
        "partial", before if before is not None else _d(f, x), value,
        explain(f"{title} with respect to {{x}}{held}.", x=x, **names, **params), subs,
        detail="brief", check=exact,
    )  # fmt: skip


def _title(template: str, f, xs, vector: bool = False) -> Explanation:
    """A derivation's title with its expression and variables typeset."""
    names = {f"x{i}": x for i, x in enumerate(xs)}
    listed = ", ".join("{" + k + "}" for k in names)
    if vector and len(xs) > 1:
        listed = "(" + listed + ")"
    return explain(template + " " + listed, f=f, **names)


def _pattern(step: Step, x: sympy.Symbol, rep: sympy.Symbol) -> tuple:
    """The rules of ``step``'s tree with the expressions written for variable ``rep``."""
    swap = {x: rep}
    out = [step.rule]
    for sub in step.substeps:
        if not _immediate(sub):  # leaves may differ (d/db b = 1, d/dw w*x = x)
            out.append(_pattern(sub, x, rep))
    before = step.before.xreplace(swap) if isinstance(step.before, sympy.Basic) else None
    return (tuple(out), before is not None and before.has(rep))


def _likewise(parts: list[Step], xs: Sequence) -> list[Step]:
    """Components derived by the same steps as the first (with another variable) say
    "likewise" and show their rule steps only at full detail."""
    if len(parts) < 2:
        return parts
    first = _pattern(parts[0], xs[0], xs[0])
    for step, x in zip(parts[1:], xs[1:], strict=True):
        if _pattern(step, x, xs[0]) == first:
            step.explanation = explain(
                "Likewise with respect to {x}, by the same rules as for {x0}.", x=x, x0=xs[0],
            )  # fmt: skip
            for sub in step.substeps:
                sub.detail = "full"
    return parts


# -- public functions ----------------------------------------------------------------------
def _prepare(exprs, xs, abbreviate: bool = True):
    """Shared set-up of every differentiation derivation: name repeated inner expressions
    (abbreviations), build the rule engine that reuses them, and state their definitions.

    Returns ``(differ, definition steps, the expressions written with the abbreviations)``.
    """
    reserved = _reserved(exprs) | {str(v) for v in xs}
    definitions = _abbreviations(exprs, xs, reserved) if abbreviate else {}
    differ = _Differ(definitions, reserved | {str(s) for s in definitions})
    return differ, _definition_steps(definitions), [_abbreviate(e, definitions) for e in exprs]


@budgeted("steps.diff")
def diff(f: Any, *vars: Any) -> Derivation:
    """Derivative of ``f`` with respect to ``vars``, one rule per step.

    Parameters
    ----------
    f : str or sympy.Expr
        The expression (symml language text or SymPy).
    *vars : str or Symbol, optionally followed by counts
        Variables to differentiate by in order; ``diff(f, "x", 2)`` is the second derivative.

    Returns
    -------
    Derivation
        ``.result`` equals :func:`symml.diff` in value; ``.verify()`` re-checks every step.

    Examples
    --------
    >>> import symml as sm
    >>> d = sm.steps.diff("exp(x^2)", "x")
    >>> d.result
    2*x*exp(x**2)
    >>> [s.rule for s in d.steps[0].substeps]
    ['exp', 'power']
    """
    f = _as_expr(f)
    if isinstance(f, sympy.MatrixBase):
        return _diff_matrix(f, vars)
    if not vars:
        free = sorted(f.free_symbols, key=sympy.default_sort_key)
        if len(free) != 1:
            raise ArgumentError(
                f"steps.diff: say which variable to differentiate by, e.g. diff(f, 'x'); "
                f"the expression has {len(free)} free symbols"
            )
        vars = (free[0],)
    order = _diff_order(vars, f)
    differ, steps, (current,) = _prepare([f], order, _ABBREVIATE[0])
    partial = len(f.free_symbols) > 1 or len(set(order)) > 1
    for i, x in enumerate(order):
        if partial:
            what = (
                "Partial derivative"
                if i == 0
                else f"Derivative number {i + 1}: differentiate again"
            )
            step = _partial(differ, current, x, what)
            steps.append(step)
            current = step.after
        else:
            root = differ.d(current, x)
            steps.append(root)
            current = root.after
            simp = simplify_step(current)
            if simp is not None:
                steps.append(simp)
                current = simp.after
    back, current = _back_substitution(current, differ.definitions, differ)
    if back is not None:
        steps.append(back)
    problem = Derivative(f, *order)
    title = _title("Derivative of {f} with respect to", f, order)
    _tag(steps)
    exact = None
    if f.has(*_NON_FINITE):  # nan and zoo have no numeric test point: compare exactly
        exact = lambda d: d.result == _diff(f, *order)  # noqa: E731
    return Derivation(
        title, "diff", problem, steps, current, reference=lambda: _diff(f, *order),
        definitions=differ.definitions, result_check=exact,
    )  # fmt: skip


_ABBREVIATE = [True]


def _diff_matrix(F: sympy.MatrixBase, vars: Sequence) -> Derivation:
    """A matrix differentiated entry by entry, like :func:`symml.diff`."""
    if not vars:
        raise ArgumentError("steps.diff of a matrix needs the variables: diff(M, 'x')")
    order = _diff_order(vars, list(F))
    _ABBREVIATE[0] = False  # entries' abbreviations could clash by name: none in matrices
    try:
        parts = [diff(e, *order) for e in F]
    finally:
        _ABBREVIATE[0] = True
    steps = []
    for (i, j), d in zip(
        ((i, j) for i in range(F.rows) for j in range(F.cols)), parts, strict=True
    ):
        steps.append(
            Step(
                "partial",
                d.problem,
                d.result,
                f"Entry ({i + 1}, {j + 1}) of the matrix.",
                d.steps,
                check=None,
            )  # fmt: skip
        )
    value = Matrix(F.rows, F.cols, [d.result for d in parts])
    problem = Matrix(F.rows, F.cols, [d.problem for d in parts])
    steps.append(Step("assemble", problem, value, "Collect the entries into the matrix."))
    definitions = {}
    for d in parts:
        definitions.update(d.definitions)
    title = _title("Derivative of {f} with respect to", F, order)
    _tag(steps)
    return Derivation(
        title, "diff", problem, steps, value,
        reference=lambda: F.applyfunc(lambda e: _diff(e, *order)), definitions=definitions,
    )  # fmt: skip


def _vector_of(F) -> list:
    F = _as_expr(F) if not isinstance(F, (list, tuple)) else [_as_expr(e) for e in F]
    if isinstance(F, sympy.MatrixBase):
        if 1 not in F.shape:
            raise ShapeError(f"jacobian needs a vector of expressions, got a {F.shape} matrix")
        return list(F)
    if isinstance(F, list):
        out = []
        for e in F:
            out.extend(list(e) if isinstance(e, sympy.MatrixBase) else [e])
        return out
    return [F]


@budgeted("steps.grad")
def grad(f: Any, vars: Any) -> Derivation:
    """Gradient of the scalar ``f`` with respect to ``vars``: one derivation per component.

    Shared pieces (the derivative of a repeated inner expression) are derived once and
    reused by name.

    Examples
    --------
    >>> import symml as sm
    >>> d = sm.steps.grad("x^2*y + y^3", "x, y")
    >>> d.result.T
    Matrix([[2*x*y, x**2 + 3*y**2]])
    >>> d.verify()
    True
    """
    f = _as_expr(f)
    if isinstance(f, sympy.MatrixBase):
        raise ShapeError("steps.grad takes a scalar expression; use steps.jacobian for a vector")
    xs = _as_symbols(vars, [f])
    differ, steps, (fa,) = _prepare([f], xs)
    comps, parts = [], []
    for x in xs:
        step = _partial(differ, fa, x, "Partial derivative")
        parts.append(step)
        comps.append(step.after)
    steps.extend(_likewise(parts, xs))
    value = Matrix(comps)
    steps.append(
        Step(
            "assemble",
            Matrix([_d(fa, x) for x in xs]),
            value,
            "Collect the partial derivatives into the gradient (a column vector).",
        )  # fmt: skip
    )
    back, value = _back_substitution(value, differ.definitions, differ)
    if back is not None:
        steps.append(back)
    title = _title("Gradient of {f} with respect to", f, xs, vector=True)
    _tag(steps)
    return Derivation(
        title, "grad", Matrix([_d(f, x) for x in xs]), steps, value,
        reference=lambda: Matrix([_diff(f, x) for x in xs]), definitions=differ.definitions,
    )  # fmt: skip


@budgeted("steps.jacobian")
def jacobian(F: Any, vars: Any) -> Derivation:
    """Jacobian matrix of the vector ``F`` with respect to ``vars``, entry by entry.

    Examples
    --------
    >>> import symml as sm
    >>> d = sm.steps.jacobian(["x*y", "x + sin(y)"], "x, y")
    >>> d.result
    Matrix([
    [y,      x],
    [1, cos(y)]])
    >>> d.verify()
    True
    """
    comps = _vector_of(F)
    xs = _as_symbols(vars, comps)
    differ, steps, fas = _prepare(comps, xs)
    rows = []
    for i, fa in enumerate(fas):
        row = []
        for x in xs:
            step = _partial(differ, fa, x, f"Entry ({i + 1}, {xs.index(x) + 1}): component {i + 1}")
            steps.append(step)
            row.append(step.after)
        rows.append(row)
    value = Matrix(rows)
    steps.append(
        Step(
            "assemble",
            Matrix([[_d(fa, x) for x in xs] for fa in fas]),
            value,
            "Collect the partial derivatives into the Jacobian: row i holds the gradient "
            "of component i.",
        )  # fmt: skip
    )
    back, value = _back_substitution(value, differ.definitions, differ)
    if back is not None:
        steps.append(back)
    title = _title("Jacobian of {f} with respect to", Matrix(comps).T, xs, vector=True)
    _tag(steps)
    return Derivation(
        title, "jacobian", Matrix([[_d(e, x) for x in xs] for e in comps]), steps, value,
        reference=lambda: Matrix([[_diff(e, x) for x in xs] for e in comps]),
        definitions=differ.definitions,
    )  # fmt: skip


@budgeted("steps.hessian")
def hessian(f: Any, vars: Any) -> Derivation:
    """Hessian of the scalar ``f``: the gradient first, then the Jacobian of the gradient.

    Only the entries on and above the diagonal are derived; the others follow by symmetry of
    second partial derivatives. First derivatives already derived are reused by name.

    Examples
    --------
    >>> import symml as sm
    >>> d = sm.steps.hessian("x^2*y + y^3", "x, y")
    >>> d.result
    Matrix([
    [2*y,  2*x],
    [2*x, 6*y]])
    >>> d.verify()
    True
    """
    f = _as_expr(f)
    if isinstance(f, sympy.MatrixBase):
        raise ShapeError("steps.hessian takes a scalar expression")
    xs = _as_symbols(vars, [f])
    n = len(xs)
    differ, steps, (fa,) = _prepare([f], xs)
    first, parts = [], []
    for x in xs:
        step = _partial(differ, fa, x, "First partial derivative")
        parts.append(step)
        first.append(step.after)
    steps.extend(_likewise(parts, xs))
    H: list[list[Any]] = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            step = _partial(
                differ, first[i], xs[j],
                "Second partial derivative: differentiate the partial derivative by {v}",
                v=xs[i],
                before=Derivative(fa, xs[i], xs[j]),
            )  # fmt: skip
            steps.append(step)
            H[i][j] = step.after
    for i in range(n):
        for j in range(i):
            H[i][j] = H[j][i]
    value = Matrix(H)
    sym = (
        " (the entries below the diagonal equal those above it: mixed partials commute)"
        if n > 1
        else ""
    )
    steps.append(
        Step(
            "assemble",
            Matrix(n, n, lambda i, j: Derivative(fa, xs[min(i, j)], xs[max(i, j)])),
            value,
            f"Collect the second partial derivatives into the Hessian{sym}.",
        )  # fmt: skip
    )
    back, value = _back_substitution(value, differ.definitions, differ)
    if back is not None:
        steps.append(back)
    title = _title("Hessian of {f} with respect to", f, xs, vector=True)
    _tag(steps)
    return Derivation(
        title, "hessian", Matrix(n, n, lambda i, j: Derivative(f, xs[i], xs[j])), steps, value,
        reference=lambda: sympy.hessian(f, xs), definitions=differ.definitions,
    )  # fmt: skip
