"""The data model of step-by-step derivations: a :class:`Derivation` is a tree of :class:`Step` s.

Every rule set (differentiation, Taylor series, integrals, Lagrange multipliers, ...) builds
the same two classes; the renderers (:mod:`symml.steps.render` and its per-target modules)
walk the tree generically and never recompute any mathematics, and
:meth:`Derivation.verify` re-checks every step numerically against SymPy.

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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy

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
    # not @budgeted: check.verify keeps its own clock inside the global budget, so that a
    # timeout names the step it stopped in
    def verify(
        self, points: int = 4, digits: int = 30, seed: int = 0, seconds: float | None = None
    ) -> bool:
        """Check every step and the result numerically; return True or raise.

        Each step's ``before``, ``form`` and ``after`` are evaluated (unevaluated
        derivatives and integrals by SymPy's own ``doit``, i.e. the reference is SymPy) at
        ``points`` random points (seeded, so repeatable) with mpmath at ``digits`` digits,
        and must agree. Then ``result`` must agree with ``reference``.

        Unevaluated derivatives are differentiated numerically (``mpmath.diff``), and test
        points keep away from the jumps of floor/ceiling/sign/abs/Heaviside (see
        :mod:`symml.steps.check`). The whole check runs within ``seconds`` (default: the global
        budget, ``symml.get_limits().seconds``), never longer than an enclosing call has left.

        Raises
        ------
        VerificationError
            Naming the first step (in reading order) that fails, or the result.
        LimitError
            Naming the step being checked when the time budget runs out.
        """
        from .check import verify

        return verify(self, points=points, digits=digits, seed=seed, seconds=seconds)

    # -- rendering ----------------------------------------------------------------------------
    def to_text(self, width: int = 80, detail: str | None = None) -> str:
        """Plain text for a terminal, math in the symml language (``^`` for powers).

        ``detail`` is one of :data:`DETAIL_LEVELS` (default: the derivation's ``detail``).
        """
        from .render_text import to_text

        return to_text(self, width=width, detail=detail or self.detail)

    def to_markdown(self, detail: str | None = None) -> str:
        """Markdown with LaTeX math in ``$...$`` and ``$$...$$``, at ``detail``."""
        from .render_md import to_markdown

        return to_markdown(self, detail=detail or self.detail)

    def to_latex(self, standalone: bool = False, detail: str | None = None) -> str:
        """A LaTeX fragment (amsmath only); ``standalone=True`` gives a whole document."""
        from .render_latex import to_latex

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
        from .render_detail import _rank

        _rank(detail)
        return dataclasses.replace(self, detail=detail)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_latex_(self) -> str:
        from .render_latex import to_latex

        return to_latex(self, standalone=False, notebook=True, detail=self.detail)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<Derivation {self.kind}: {self.title}; {len(self.steps)} steps>"


# -- numeric comparison (in symml.steps.check; these names stay for callers) ----------------------
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
    from .check import values_agree as agree

    return agree(a, b, definitions, points, digits, seed)


def _disagreement(a, b, definitions, points, digits, seed) -> str | None:
    from .check import disagreement

    return disagreement(a, b, definitions, points, digits, seed)


def _numeric(expr: sympy.Expr, point: dict, digits: int):
    from .check import _numeric as numeric

    return numeric(expr, point, digits)
