"""The data model of step-by-step derivations: a :class:`Derivation` is a tree of :class:`Step` s.

Every rule set (differentiation, Taylor series, integrals, Lagrange multipliers, ...) builds
the same two classes; the renderers in :mod:`symml.steps.render` walk the tree generically
and never recompute any mathematics, and :meth:`Derivation.verify` re-checks every step
numerically against SymPy.

A step says that ``before`` equals ``after`` by one rule::

    Step(rule="power", before=Derivative(x**3, x), after=3*x**2,
         explanation="Power rule: d/dx x^n = n*x^(n - 1).")

* ``before`` / ``after`` are SymPy objects (an expression, a Matrix, a relation, a tuple or
  list of those). For a derivative step ``before`` is an *unevaluated* ``Derivative`` and
  ``after`` its value; an integral step uses an unevaluated ``Integral``.
* ``form`` (optional) is the rule written out with the pieces still to be worked out left
  unevaluated, e.g. ``Derivative(f, x)*g + f*Derivative(g, x)`` for the product rule. It is
  shown between ``before`` and ``after`` and is checked too.
* ``substeps`` are the sub-derivations the rule needs (the chain rule's inner derivative,
  the two factors of a product, ...). They come before the step's conclusion.
* ``check`` controls verification of this one step:

  - ``None`` (default): ``before``, ``form`` and ``after`` must agree numerically;
  - ``False``: the step states something that is not an equality of values (a list of
    candidate points, the statement of a KKT system, a definition); it is skipped, its
    substeps are still checked;
  - a callable ``check(step) -> bool``: the step's own check. Return True when it holds;
    return False or raise to fail it (the exception's message is reported).

* ``definitions`` on a :class:`Derivation` maps abbreviation symbols (``z`` for
  ``w1*x1 + w2*x2 + b``) to what they stand for; :meth:`Derivation.verify` substitutes
  them before evaluating, so steps may be written in terms of the abbreviations.

>>> import sympy
>>> x = sympy.Symbol("x", real=True)
>>> s = Step("power", sympy.Derivative(x**3, x), 3*x**2, "Power rule: d/dx x^n = n*x^(n - 1).")
>>> d = Derivation("Derivative of x^3", "diff", sympy.Derivative(x**3, x), [s], 3*x**2,
...                reference=sympy.diff(x**3, x))
>>> d.verify()
True
>>> print(d.to_text())
Derivative of x^3
=================
<BLANKLINE>
Find: d/dx[x^3]
<BLANKLINE>
1. Power rule: d/dx x^n = n*x^(n - 1).
    d/dx[x^3] = 3*x^2
<BLANKLINE>
Result: d/dx[x^3] = 3*x^2
<BLANKLINE>
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy

from .._limits import budgeted
from ..errors import VerificationError

__all__ = ["Step", "Derivation", "Explanation", "explain", "values_agree", "DETAIL_LEVELS"]

#: Detail levels, least to most detailed. A step is shown at its own ``detail`` level and at
#: every more detailed one: ``"brief"`` steps are the key rules (always shown), ``"textbook"``
#: steps are what a good textbook shows, ``"full"`` steps only appear in the full tree.
DETAIL_LEVELS = ("brief", "textbook", "full")


@dataclass(frozen=True, eq=False)
class Explanation:
    """A step's explanation: prose with named mathematical parameters (SymPy objects).

    The template is prose with ``{name}`` placeholders; each renderer prints the parameters
    with its own printer (symml text in plain text, LaTeX math in Markdown and LaTeX), so
    no renderer ever escapes mathematics written as prose. ``str()`` gives the plain-text
    form, and ``"u = x^2" in explanation`` searches it, so an Explanation reads like a str.

    >>> import sympy
    >>> x, u = sympy.symbols("x u", real=True)
    >>> e = explain("Chain rule with outer function {outer} and inner function {inner}.",
    ...             outer=sympy.sin(u), inner=sympy.Eq(u, x**2))
    >>> str(e)
    'Chain rule with outer function sin(u) and inner function u = x^2.'
    >>> print(e.render("markdown"))
    Chain rule with outer function $\\sin{\\left(u \\right)}$ and inner function $u = x^{2}$.
    >>> "u = x^2" in e
    True
    """

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, target: str = "text") -> str:
        """The explanation for ``target``: ``"text"``, ``"markdown"``, ``"latex"`` or ``"html"``."""
        from .render import render_explanation

        return render_explanation(self, target)

    def __str__(self) -> str:
        return self.render("text")

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __repr__(self) -> str:  # shown like the str it reads as
        return repr(str(self))

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            return str(self) == other
        if isinstance(other, Explanation):
            return self.template == other.template and dict(self.params) == dict(other.params)
        return NotImplemented

    __hash__ = object.__hash__

    def __add__(self, other):
        return str(self) + other

    def __radd__(self, other):
        return other + str(self)


def explain(template: str, **params: Any) -> Explanation:
    """An :class:`Explanation` from prose with ``{name}`` placeholders and SymPy parameters.

    >>> import sympy
    >>> str(explain("Pull out the constant {c}.", c=sympy.Rational(1, 2)))
    'Pull out the constant 1/2.'
    """
    return Explanation(template, dict(params))


#: Stable rule names used by symml's rule sets (others may add their own short names).
RULES = (
    "constant", "variable", "sum", "difference", "constant_multiple", "power", "product",
    "quotient", "chain", "exp", "log", "trig", "inverse_trig", "hyperbolic", "sigmoid",
    "softplus", "relu", "abs", "general_power", "log_differentiation", "substitution", "parts",
    "simplify", "definition", "reuse", "partial", "assemble", "evaluate", "no_rule",
)  # fmt: skip


@dataclass(eq=False)
class Step:
    """One rule application: ``before`` equals ``after`` because of ``rule``.

    >>> import symml as sm
    >>> step = sm.steps.diff("x^2", "x").steps[0]
    >>> step.rule
    'power'

    Parameters
    ----------
    rule : str
        Short stable rule name (``"product"``, ``"chain"``, ``"simplify"``, ...).
    before, after : SymPy object
        The two sides. For derivative steps ``before`` is an unevaluated ``Derivative``.
    explanation : str or Explanation
        One sentence saying which rule is applied and to what. Plain prose as a ``str``;
        anything mathematical in it as an :class:`Explanation` (see :func:`explain`), whose
        SymPy parameters every renderer typesets with its own printer.
    substeps : list of Step
        Sub-derivations this step relies on, shown before its conclusion.
    form : SymPy object, optional
        The rule written out with the pieces still to derive left unevaluated.
    note : str, optional
        A remark shown after the step (a convention, a caveat).
    name : str, optional
        A label other steps refer to ("(A)", "dz/dw1"), shown with the step.
    check : None, False or callable
        How :meth:`Derivation.verify` checks the step (see the module docstring).
    detail : str
        The least detailed level at which the step is shown (one of :data:`DETAIL_LEVELS`):
        ``"brief"`` for the key rules, ``"textbook"`` (default), ``"full"`` for steps only the
        full tree shows. A hidden step's substeps are hidden with it.
    """

    rule: str
    before: Any
    after: Any
    explanation: str | Explanation
    substeps: list[Step] = field(default_factory=list)
    form: Any = None
    note: str | Explanation | None = None
    name: str | None = None
    check: Callable[[Step], bool] | bool | None = None
    detail: str = "textbook"

    def walk(self, prefix: str = "") -> Iterator[tuple[str, Step]]:
        """Yield ``(number, step)`` for this step's substeps (depth first) and then itself."""
        for i, sub in enumerate(self.substeps, 1):
            yield from sub.walk(f"{prefix}.{i}" if prefix else str(i))
        yield prefix, self

    def rules(self) -> list[str]:
        """The rule names used in this step and all its substeps (pre-order)."""
        out = [self.rule]
        for sub in self.substeps:
            out.extend(sub.rules())
        return out


@dataclass(eq=False)
class Derivation:
    """A titled tree of steps from a problem to its result, which can check itself.

    >>> import symml as sm
    >>> d = sm.steps.diff("sin(x^2)", "x")
    >>> d.result, d.verify()
    (2*x*cos(x**2), True)

    Parameters
    ----------
    title : str or Explanation
        One line saying what is derived; with mathematics in it an :class:`Explanation`
        (``explain("Derivative of {f} with respect to {x}", f=..., x=...)``).
    kind : str
        ``"diff"``, ``"grad"``, ``"jacobian"``, ``"hessian"``, ``"taylor"``,
        ``"integrate"``, ``"lagrange"``, ...
    problem : SymPy object
        What is asked, unevaluated (``Derivative(f, x)``, a Matrix of them, ``Integral(...)``).
    steps : list of Step
        The top-level steps in order.
    result : object
        The answer (equal in value to what the plain API in :mod:`symml.calculus` returns).
    reference : object or callable, optional
        SymPy's own answer (or a zero-argument callable computing it); :meth:`verify`
        checks ``result`` against it.
    definitions : dict, optional
        Abbreviation symbol -> expression it stands for; substituted before checking.
    result_check : callable, optional
        ``result_check(derivation) -> bool`` replacing the numeric comparison of
        ``result`` and ``reference`` (for results such as lists of candidate points).
    detail : str
        How much the renderers show by default: ``"textbook"`` (default), ``"full"`` (every
        step) or ``"brief"`` (the key rules, a line each); see :data:`DETAIL_LEVELS`. It
        changes what is shown, never the steps, the result or :meth:`verify`.
    """

    title: str
    kind: str
    problem: Any
    steps: list[Step]
    result: Any
    reference: Any = None
    definitions: dict = field(default_factory=dict)
    result_check: Callable[[Derivation], bool] | None = None
    note: str | Explanation | None = None
    detail: str = "textbook"

    # -- structure ----------------------------------------------------------------------------
    def walk(self) -> Iterator[tuple[str, Step]]:
        """Yield ``(number, step)`` for every step, substeps first ("1.2.1", ..., "1")."""
        for i, step in enumerate(self.steps, 1):
            yield from step.walk(str(i))

    def rules(self) -> list[str]:
        """Every rule name used anywhere in the derivation (pre-order, with repeats)."""
        out: list[str] = []
        for step in self.steps:
            out.extend(step.rules())
        return out

    # -- checking -----------------------------------------------------------------------------
    @budgeted("verify")
    def verify(self, points: int = 4, digits: int = 30, seed: int = 0) -> bool:
        """Check every step and the result numerically; return True or raise.

        Each step's ``before``, ``form`` and ``after`` are evaluated (unevaluated
        derivatives and integrals by SymPy's own ``doit``, i.e. the reference is SymPy) at
        ``points`` random points (seeded, so repeatable) with mpmath at ``digits`` digits,
        and must agree. Then ``result`` must agree with ``reference``.

        Raises
        ------
        VerificationError
            Naming the first step (in reading order) that fails, or the result.
        """
        for number, step in self.walk():
            if step.check is False:
                continue
            where = f"step {number} ({step.rule}: {step.explanation})"
            if callable(step.check):
                try:
                    ok = step.check(step)
                except Exception as exc:  # the step's own check failed: report it
                    raise VerificationError(f"{where} failed its check: {exc}") from exc
                if not ok:
                    raise VerificationError(f"{where} failed its check")
                continue
            sides = [step.before] + ([step.form] if step.form is not None else []) + [step.after]
            for a, b in zip(sides, sides[1:], strict=False):
                problem = _disagreement(a, b, self.definitions, points, digits, seed)
                if problem:
                    raise VerificationError(f"{where} does not hold: {problem}")
        if self.result_check is not None:
            if not self.result_check(self):
                raise VerificationError(f"the result of {self.title!r} failed its check")
        elif self.reference is not None:
            ref = self.reference() if callable(self.reference) else self.reference
            problem = _disagreement(self.result, ref, self.definitions, points, digits, seed)
            if problem:
                raise VerificationError(
                    f"the result of {self.title!r} differs from SymPy's answer: {problem}"
                )
        return True

    # -- rendering ----------------------------------------------------------------------------
    def to_text(self, width: int = 80, detail: str | None = None) -> str:
        """Plain text for a terminal, math in the symml language (``^`` for powers).

        ``detail`` is one of :data:`DETAIL_LEVELS` (default: the derivation's ``detail``).
        """
        from .render import to_text

        return to_text(self, width=width, detail=detail or self.detail)

    def to_markdown(self, detail: str | None = None) -> str:
        """Markdown with LaTeX math in ``$...$`` and ``$$...$$``, at ``detail``."""
        from .render import to_markdown

        return to_markdown(self, detail=detail or self.detail)

    def to_latex(self, standalone: bool = False, detail: str | None = None) -> str:
        """A LaTeX fragment (amsmath only); ``standalone=True`` gives a whole document."""
        from .render import to_latex

        return to_latex(self, standalone=standalone, detail=detail or self.detail)

    def to_html(self, detail: str | None = None) -> str:
        """An HTML fragment with foldable sub-steps (``<details>``), math in ``\\(...\\)``."""
        from .render_html import to_html

        return to_html(self, detail=detail or self.detail)

    def at(self, detail: str) -> Derivation:
        """The same derivation (same steps, result and checks) shown at another ``detail``.

        >>> import symml as sm
        >>> d = sm.steps.diff("x^3 - 4*x^2 + 7*x - 9", "x")
        >>> d.at("brief").detail, d.at("brief").result == d.result
        ('brief', True)
        """
        from .render import _rank

        _rank(detail)
        return dataclasses.replace(self, detail=detail)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_latex_(self) -> str:
        from .render import to_latex

        return to_latex(self, standalone=False, notebook=True, detail=self.detail)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<Derivation {self.kind}: {self.title}; {len(self.steps)} steps>"


# -- numeric comparison ---------------------------------------------------------------------------
def values_agree(
    a: Any, b: Any, definitions: Mapping | None = None, points: int = 4, digits: int = 30,
    seed: int = 0,
) -> bool:  # fmt: skip
    """True when ``a`` and ``b`` agree numerically at random points (see :meth:`Derivation.verify`).

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> values_agree(sympy.sin(x)**2 + sympy.cos(x)**2, 1), values_agree(x, x + 1e-12)
    (True, False)
    """
    return _disagreement(a, b, definitions or {}, points, digits, seed) is None


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
        return [sympy.sympify(obj)]
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
    """Evaluate Derivative/Integral/Subs objects with SymPy's own doit (innermost first)."""
    kinds = (sympy.Derivative, sympy.Integral, sympy.Subs)
    if not expr.has(*kinds):
        return expr
    return expr.replace(lambda e: isinstance(e, kinds), lambda e: e.doit())


def _point_value(rng: random.Random) -> sympy.Rational:
    # Values in (0.1, 0.9): inside the domain of log, sqrt, asin, log(1 - x), ..., and
    # away from kinks at 0; rationals so that substitution is exact.
    return sympy.Rational(rng.randint(101, 899), 1000)


def _disagreement(a, b, definitions, points, digits, seed) -> str | None:
    """None when ``a`` and ``b`` agree at ``points`` random points, else a description."""
    fa, fb = _flatten(a), _flatten(b)
    if fa is None or fb is None:
        kind = type(a if fa is None else b).__name__
        return f"cannot compare a {kind} numerically (give the step a check= callable)"
    if len(fa) != len(fb) or (_shape(a) != _shape(b) and _shape(a) and _shape(b)):
        return f"shapes differ: {_shape(a)} vs {_shape(b)}"
    fa = [_evaluate_unevaluated(_expand_definitions(sympy.sympify(e), definitions)) for e in fa]
    fb = [_evaluate_unevaluated(_expand_definitions(sympy.sympify(e), definitions)) for e in fb]
    syms = set()
    for e in fa + fb:
        syms |= e.free_symbols
    syms = sorted(syms, key=lambda s: s.sort_key())
    rng = random.Random(seed)
    tol = mpmath.mpf(10) ** (-(digits - 6))  # evalf gives ~digits correct digits per side
    checked = 0
    with mpmath.workdps(digits + 10):
        for _ in range(points):
            point = {s: _point_value(rng) for s in syms}
            for i, (ea, eb) in enumerate(zip(fa, fb, strict=True)):
                va, vb = _numeric(ea, point, digits), _numeric(eb, point, digits)
                if va is None and vb is None:
                    continue  # outside both sides' domain: try the other points
                if va is None or vb is None:
                    which = "left" if va is None else "right"
                    return f"the {which} side cannot be evaluated at {_fmt_point(point)}"
                scale = max(mpmath.mpf(1), abs(va), abs(vb))
                if abs(va - vb) > tol * scale:
                    label = f" (entry {i})" if len(fa) > 1 else ""
                    return (
                        f"at {_fmt_point(point)}{label} the two sides are "
                        f"{mpmath.nstr(va, 12)} and {mpmath.nstr(vb, 12)}"
                    )
                checked += 1
    if checked == 0 and fa:
        return "no test point lies in the domain of both sides"
    return None


def _numeric(expr: sympy.Expr, point: dict, digits: int):
    """The value of ``expr`` at ``point`` as an mpmath number, or None if not finite."""
    try:
        val = sympy.sympify(expr).evalf(digits, subs=point)
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
    except (TypeError, ValueError, ZeroDivisionError, AttributeError):
        return None


def _fmt_point(point: dict) -> str:
    return ", ".join(f"{s}={float(v):g}" for s, v in point.items()) or "(no variables)"
