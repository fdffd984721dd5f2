"""The differentiation rules: a table of elementary derivatives and a rule engine
(:class:`_Differ`) that dispatches on the expression's type, one rule per method.

Each rule is a method of :class:`_Differ` whose docstring states the rule. A rule receives
the expression and the variable and returns a :class:`~symml.steps.model.Step` whose
``before`` is the unevaluated ``Derivative`` and whose ``after`` is its value; the pieces it
needs (the factors of a product, the inner function of a composition) are derived as
sub-steps. When no rule applies, a ``no_rule`` step says so and gives SymPy's answer.
Derivatives already worked out are reused by name ("derived in (A)"). :func:`_tag` sets
which sub-steps a textbook shows (table entries and constants only at full detail).

>>> import sympy
>>> x = sympy.Symbol("x", real=True)
>>> step = _Differ().d(x**2 * sympy.sin(x), x)
>>> step.rule, step.after
('product', x**2*cos(x) + 2*x*sin(x))
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy
from sympy import Derivative, Heaviside, S

from .._diff import diff as _diff
from ..functions import relu, sigmoid, softplus
from .check import _free
from .model import Step, explain
from .render import _positive_first

__all__: list[str] = []


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


_ONE = sympy.Integer(1)


def _d(expr: sympy.Expr, var: sympy.Symbol) -> Derivative:
    """``Derivative(expr, var)`` unevaluated. Built directly where SymPy's constructor would
    only repeat its checks (it walks the whole of ``expr`` for its free symbols: quadratic in
    the depth of a nested problem); a Derivative of a Derivative is merged by SymPy."""
    if (isinstance(expr, sympy.Expr) and not isinstance(expr, Derivative) and var.is_Symbol
            and not getattr(expr, "is_Matrix", False)):  # fmt: skip
        return sympy.Expr.__new__(Derivative, expr, sympy.Tuple(var, _ONE))
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
        #: abbreviations of function values of an abbreviation (s = sigma(z)): derivatives
        #: are written with them
        self.functions = {
            s: b for s, b in self.definitions.items()
            if isinstance(b, sympy.Function) and len(b.args) == 1 and b.args[0] in self.definitions
        }  # fmt: skip
        self.labels = 0
        self.depth = 0
        self.finite_memo: dict = {}

    # -- helpers ----------------------------------------------------------------------------
    def expand(self, expr: sympy.Expr) -> sympy.Expr:
        if not self.definitions:
            return expr
        for _ in range(len(self.definitions) + 1):
            new = expr.xreplace(self.definitions)
            if new == expr:
                break
            expr = new
        return expr

    def depends(self, expr: sympy.Expr, var: sympy.Symbol) -> bool:
        # free symbols memoized over the shared sub-trees (SymPy's walk the whole tree on
        # every call: quadratic in the depth of a 200-statement chain)
        return var in _free(self.expand(expr))

    def non_finite(self, expr: sympy.Expr) -> bool:
        """``expr`` (expanded) contains nan, zoo or an infinity; memoized like depends."""
        return _contains(self.expand(expr), _NON_FINITE, self.finite_memo)

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
        if self.functions:  # values written with the named functions: s*(1 - s), not sigma(z)
            step.after = self.abbreviate(step.after)
            if isinstance(step.form, sympy.Basic):
                step.form = self.abbreviate(step.form)
        if step.substeps:
            self.memo[key] = step
        return step

    def abbreviate(self, e):
        """``e`` with the named function values (``s`` for ``sigma(z)``) written by name."""
        inverse = {body: sym for sym, body in self.functions.items()}
        return e.xreplace(inverse) if isinstance(e, sympy.Basic) else e

    def rule(self, f: sympy.Expr, x: sympy.Symbol) -> Step:
        """Dispatch on the expression: special cases first, then the type table ``_DISPATCH``."""
        if not self.depends(f, x):
            return self.constant(f, x)
        if f == x:
            return self.variable(f, x)
        if f in self.definitions:
            return self.definition(f, x)
        if self.non_finite(f):
            return self.non_finite_rule(f, x)
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
        if all(_immediate(sub) for sub in subs.values()):
            # (only here: collecting the rules of every sub-tree at every level is quadratic)
            rules = {r for sub in subs.values() for r in sub.rules()}
            rules -= {"constant", "variable", "constant_multiple"}
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
        if inner in self.definitions:  # an abbreviation is already a name for the inner function
            why = explain(
                "Chain rule through {inner}, where {douter}.", inner=inner,
                douter=_eq(_d(outer(inner), inner), self.abbreviate(g1)),
            )  # fmt: skip
        else:
            why = explain(
                "Chain rule with outer function {outer} and inner function {inner}, "
                "where {douter}.",
                outer=g, inner=_eq(u, inner, evaluate=False), douter=_eq(_d(g, u), out.after),
            )  # fmt: skip
        return Step(
            "chain", _d(f, x), g1 * inn.after, why, [out, inn],
            form=sympy.Mul(g1, _d(inner, x), evaluate=False),
        )  # fmt: skip

    def non_finite_rule(self, f, x) -> Step:
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


def _contains(e: sympy.Basic, targets: tuple, memo: dict) -> bool:
    """Does ``e`` contain one of the atoms ``targets``? Iterative and memoized over the DAG."""
    stack = [(e, False)]
    while stack:
        node, done = stack.pop()
        if node in memo:
            continue
        if not node.args:
            memo[node] = node in targets
        elif not done:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a not in memo)
        else:
            memo[node] = any(memo[a] for a in node.args)
    return memo[e]


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
