"""Printers and explanations for derivations, shared by every renderer.

The renderers walk any :class:`~symml.steps.model.Derivation` tree generically and never
recompute mathematics: each step shows ``before = form = after`` (whichever are present), its
sub-steps, and a conclusion. Math is printed by subclasses of symml's/SymPy's printers (here);
what is shown at each detail level is :mod:`symml.steps.render_detail`; the targets are
:mod:`~symml.steps.render_text` (80-column terminal), :mod:`~symml.steps.render_md`
(Markdown with LaTeX math), :mod:`~symml.steps.render_latex` (amsmath, standalone
documents, Jupyter's ``_repr_latex_``) and :mod:`~symml.steps.render_html` (foldable steps).

>>> import sympy
>>> x = sympy.Symbol("x", real=True)
>>> text(sympy.Derivative(x**2, x) * sympy.sin(x))
'd/dx[x^2]*sin(x)'
>>> latex(sympy.Derivative(x**2 + 1, x))
'\\\\frac{d}{d x}\\\\left(x^{2} + 1\\\\right)'
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Mapping
from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from ..lang.printer import SymmlPrinter

__all__ = ["text", "latex", "render_explanation"]


_sort_key = sympy.default_sort_key


class WithDx(sympy.Expr):
    """``g dx`` in an explanation ("du = 2 x dx"); only printed, never evaluated."""

    def __new__(cls, coeff, var):
        coeff = sympy.Integer(coeff) if isinstance(coeff, int) else coeff
        return sympy.Expr.__new__(cls, coeff, var)


# -- printers -------------------------------------------------------------------------------------
def _positive_first(terms: list) -> list:
    """``[-y, s]`` -> ``[s, -y]``: a two-term sum reads ``s - y`` rather than ``-y + s``."""
    if (
        len(terms) == 2
        and terms[0].could_extract_minus_sign()
        and not terms[1].could_extract_minus_sign()
    ):
        return [terms[1], terms[0]]
    return terms


_UNEVALUATED = (sympy.Derivative, sympy.Integral, sympy.Subs)


def _is_form(expr) -> bool:
    """A node of a rule's form: it has an unevaluated operator among its own arguments."""

    def unevaluated(a) -> bool:
        return isinstance(a, _UNEVALUATED)

    return any(unevaluated(a) or (a.is_Mul and any(map(unevaluated, a.args))) for a in expr.args)


class _AsWritten:
    """Mixin: the sums and products of a rule's form print in the order they were written
    (their parts print as usual)."""

    _times = "*"

    def _print_Add(self, expr, order=None):
        if not _is_form(expr):
            return super()._print_Add(expr, order=order) if order else super()._print_Add(expr)
        out = ""
        for i, term in enumerate(expr.args):
            t = self._print(term)
            if t.startswith("-"):
                out += (" - " if i else "-") + t[1:]
            else:
                out += (" + " if i else "") + t
        return out

    def _print_Mul(self, expr):
        if not _is_form(expr):
            return super()._print_Mul(expr)
        args, sign = list(expr.args), ""
        if args and args[0] == -1:
            sign, args = "-", args[1:]
        num = [a for a in args if not (a.is_Pow and a.exp.is_number and a.exp.is_negative)]
        den = [1 / a for a in args if a not in num]
        prec = PRECEDENCE["Mul"]
        top = (
            self._times.join(
                self._print(a)
                if isinstance(a, _UNEVALUATED)
                else self.parenthesize(a, prec, strict=True)
                for a in num
            )
            or "1"
        )
        if not den:
            return sign + top
        return sign + self._fraction(top, num, sympy.Mul(*den))

    def _fraction(self, top, num, den):
        if len(num) > 1 or (num and num[0].is_Add):
            top = f"({top})"
        return f"{top}/{self.parenthesize(den, PRECEDENCE['Mul'], strict=True)}"

    def _as_ordered_terms(self, expr, order=None):
        return _positive_first(list(super()._as_ordered_terms(expr, order=order)))


class StepTextPrinter(_AsWritten, SymmlPrinter):
    """symml language text, with derivatives as ``d/dx[...]`` and integrals as ``∫ ... dx``."""

    def _print_WithDx(self, expr):
        c, v = expr.args
        if c == 1:
            return f"d{self._print(v)}"
        body = self._print(c)
        return f"({body}) d{self._print(v)}" if c.is_Add else f"{body} d{self._print(v)}"

    def _print_Derivative(self, expr):
        n = sum(int(c) for _, c in expr.variable_count)
        body = self._print(expr.expr)
        if n == 1:
            return f"d/d{self._print(expr.variables[0])}[{body}]"
        den = "".join(
            f"d{self._print(v)}" + (f"^{c}" if c != 1 else "") for v, c in expr.variable_count
        )
        return f"d^{n}/{den}[{body}]"

    def _print_Subs(self, expr):
        where = ", ".join(
            f"{self._print(v)} = {self._print(p)}"
            for v, p in zip(expr.variables, expr.point, strict=True)
        )
        return f"[{self._print(expr.expr)}]_({where})"

    def _print_Integral(self, expr):
        out = self._print(expr.function)
        if not (expr.function.is_Atom or expr.function.is_Function):
            out = f"({out})"
        for lim in expr.limits:
            if len(lim) == 3:
                out = (
                    f"∫[{self._print(lim[1])}, {self._print(lim[2])}] {out} d{self._print(lim[0])}"
                )
            else:
                out = f"∫ {out} d{self._print(lim[0])}"
        return out


class StepLatexPrinter(_AsWritten, LatexPrinter):
    """SymPy's LaTeX printer with derivatives whose argument is always delimited."""

    _default_settings = {**LatexPrinter._default_settings, "partial": False}
    _times = " "

    def _fraction(self, top, num, den):
        return rf"\frac{{{top}}}{{{self._print(den)}}}"

    def _print_MatrixBase(self, expr):
        """A column vector that fits on a line is written as a transposed row."""
        if expr.cols == 1 and expr.rows > 1:
            entries = [self._print(e) for e in expr]
            if sum(_visual_len(e) + 2 for e in entries) <= LINE_CHARS - 10:
                return r"\left[\begin{matrix}" + " & ".join(entries) + r"\end{matrix}\right]^{T}"
        return super()._print_MatrixBase(expr)

    _print_ImmutableMatrix = _print_Matrix = _print_MatrixBase
    _print_ImmutableDenseMatrix = _print_MutableDenseMatrix = _print_MatrixBase

    # sequences separated by ",\;" instead of SymPy's ",\ ": MathJax 2 expands the control
    # space as a macro, which fails ("buffer size exceeded") with 5 KB of the display after it
    def _print_tuple(self, expr):
        items = [self._print(i) for i in expr]
        return self._add_parens_lspace(items[0] + "," if len(items) == 1 else r",\;".join(items))

    def _print_Tuple(self, expr):
        return self._print_tuple(expr)

    # one \sum (\prod) per limit, outermost first, instead of SymPy's \substack: MathJax 2
    # expands \substack as a macro into a 5 KB buffer that a long notebook display overflows
    def _nested(self, expr, op: str) -> str:
        heads = [rf"{op}_{{{self._print(v)}={self._print(lo)}}}^{{{self._print(hi)}}}"
                 for v, lo, hi in reversed(expr.limits)]  # fmt: skip
        body = self._print(expr.function)
        if isinstance(expr.function, sympy.Add):
            body = rf"\left({body}\right)"
        return " ".join(heads) + " " + body

    def _print_Sum(self, expr):
        return self._nested(expr, r"\sum")

    def _print_Product(self, expr):
        return self._nested(expr, r"\prod")

    def _print_list(self, expr):
        return r"\left[ " + r",\;".join(self._print(i) for i in expr) + r"\right]"

    def _print_dict(self, d):
        items = [f"{self._print(k)} : {self._print(d[k])}" for k in sorted(d, key=_sort_key)]
        return r"\left\{ " + r",\;".join(items) + r"\right\}"

    def _print_WithDx(self, expr):
        c, v = expr.args
        if c == 1:
            return rf"d{self._print(v)}"
        body = self._print(c)
        return (rf"\left({body}\right)" if c.is_Add else body) + rf" \, d{self._print(v)}"

    def _print_Subs(self, expr):
        r"""``f|_{x=0,\;y=0}`` on one line: SymPy's ``\substack`` is a macro that MathJax 2 and 3
        expand into their 5 KB parse buffer, so a long display containing one fails there."""
        where = r",\;".join(
            f"{self._print(v)}={self._print(p)}"
            for v, p in zip(expr.variables, expr.point, strict=True)
        )
        return rf"\left. {self._print(expr.expr)} \right|_{{{where}}}"

    def _print_Derivative(self, expr):
        n = sum(int(c) for _, c in expr.variable_count)
        d = r"\partial" if self._settings["partial"] else "d"
        num = d if n == 1 else f"{d}^{{{n}}}"
        den = " ".join(
            f"{d} {self._print(v)}" + (f"^{{{c}}}" if c != 1 else "")
            for v, c in expr.variable_count
        )
        named = _NAMES.get({}).get(expr.expr)
        if named is not None:  # an abbreviated function: d f / d x
            return rf"\frac{{{num} {named}}}{{{den}}}"
        body = self._print(expr.expr)
        if not expr.expr.is_Symbol:
            body = rf"\left({body}\right)"
        return rf"\frac{{{num}}}{{{den}}}{body}"


_TEXT = StepTextPrinter({"order": None})

#: Long functions named once per derivation (expression -> LaTeX name), so that their
#: derivatives print as d f / d x; set while a derivation is rendered (see :func:`_naming`).
_NAMES: contextvars.ContextVar[dict] = contextvars.ContextVar("symml_step_names")

#: A function of more estimated characters than this is given a name in LaTeX.
NAME_CHARS = 24


def _function_of(d):
    """The expression a derivation differentiates, if its problem is a derivative (or a
    matrix of derivatives) of one expression."""
    prob = d.problem
    items = list(prob) if isinstance(prob, sympy.MatrixBase) else [prob]
    if not items or not all(isinstance(e, sympy.Derivative) for e in items):
        return None
    exprs = {e.expr for e in items}
    return exprs.pop() if len(exprs) == 1 else None


@contextlib.contextmanager
def _naming(d, partial: bool):
    """While rendering ``d``: name its long function ``f`` (and its abbreviated form)."""
    f = _function_of(d)
    names: dict = {}
    for _, step in d.walk():  # "let L = ...": derivatives of L print as dL/dx
        if (
            step.rule == "definition" and isinstance(step.before, sympy.Symbol)
            and isinstance(step.after, sympy.Expr) and not step.after.is_Atom
        ):  # fmt: skip
            names.setdefault(step.after, latex(step.before, partial))
    if (
        f is not None
        and _visual_len(StepLatexPrinter({"partial": partial}).doprint(f)) > NAME_CHARS
    ):
        free = {str(s) for s in f.free_symbols} | {str(s) for s in getattr(d, "definitions", {})}
        name = next((n for n in ("f", "L", "F", "g", "\\ell") if n not in free), None)
        if name is not None:
            names[f] = name
            short = f
            for s, b in (getattr(d, "definitions", None) or {}).items():
                short = short.xreplace({b: s})
            if short != f:
                names[short] = name
    token = _NAMES.set(names)
    try:
        yield (sympy.Symbol(names[f].strip("\\")), f) if f is not None and f in names else None
    finally:
        _NAMES.reset(token)


def text(obj: Any) -> str:
    """One-line symml text of a SymPy object (or list/tuple/dict of them)."""
    if obj is None:
        return ""
    if isinstance(obj, Mapping):
        return ", ".join(f"{text(k)} = {text(v)}" for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        # a list of points (dicts) keeps each point grouped: [(x = 1, y = 2), (...)]
        return (
            "["
            + ", ".join(f"({text(e)})" if isinstance(e, Mapping) else text(e) for e in obj)
            + "]"
        )
    if isinstance(obj, str):
        return obj
    if isinstance(obj, (int, float)):
        return repr(obj)
    return _TEXT.doprint(obj)


def latex(obj: Any, partial: bool = False) -> str:
    """LaTeX (math mode) of a SymPy object, list, tuple or dict."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return r"\text{" + _escape_mathjax_text(obj) + "}"
    if isinstance(obj, Mapping):
        # ",\;" rather than ",\ ": MathJax 2 expands the control space as a macro, which fails
        # with "buffer size exceeded" when more than 5 KB of the display follow it
        return ",\\;".join(f"{latex(k, partial)} = {latex(v, partial)}" for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        items = [
            r"\left(" + latex(e, partial) + r"\right)"
            if isinstance(e, Mapping)
            else latex(e, partial)
            for e in obj
        ]
        return r"\left[" + ",\\;".join(items) + r"\right]"
    return StepLatexPrinter({"partial": partial}).doprint(sympy.sympify(obj))


def render_explanation(e, target: str = "text", partial: bool = False) -> str:
    """Prose with typeset parameters: an :class:`~symml.steps.model.Explanation` (or a str,
    which is prose only) rendered for ``"text"``, ``"markdown"``, ``"latex"`` or ``"html"``.

    The prose is escaped for the target; the parameters are printed by the target's printer
    (symml text, or LaTeX math delimited by ``$...$`` in Markdown and ``\\(...\\)`` in LaTeX).
    """
    import string

    if e is None:
        return ""
    if isinstance(e, str):
        template, params = e.replace("{", "{{").replace("}", "}}"), {}
    else:
        template, params = e.template, e.params
    prose_escape = {
        "mathtext": _mathtext_prose,
        "text": lambda s: s,
        "markdown": _md_escape,
        "latex": _tex_escape,
        "html": lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
    }[target]

    def math(obj) -> str:
        if isinstance(obj, str):  # a parameter that is prose (a reason, a name)
            return prose_escape(obj)
        if isinstance(obj, sympy.Tuple) and obj and all(isinstance(e, sympy.Rel) for e in obj):
            return ", ".join(math(e) for e in obj)  # one piece each, so lines can break
        if target == "text":
            return _prose_text(obj)
        body = latex(obj, partial)
        if target == "mathtext":
            return body
        if target == "latex":
            return rf"\({body}\)"
        return f"${body}$"

    out = []
    for prose, field_name, _spec, _conv in string.Formatter().parse(template):
        if prose:
            out.append(prose_escape(prose))
        if field_name is not None:
            out.append(math(params[field_name]))
    return "".join(out)


def _prose_text(obj) -> str:
    """Math inside a sentence: ``u = x^2`` for an equation (not the language's ``==``), a
    tuple of equations as ``x = 1, y = 2``."""
    if isinstance(obj, sympy.Equality):
        return f"{_prose_text(obj.lhs)} = {_prose_text(obj.rhs)}"
    if isinstance(obj, sympy.Tuple) and obj and all(isinstance(e, sympy.Equality) for e in obj):
        return ", ".join(_prose_text(e) for e in obj)
    return text(obj)


def _is_partial(d) -> bool:
    """Whether the derivation's derivatives are partial ones (then every one is written with
    the partial sign, ordinary ones with d)."""
    if d.kind in ("grad", "jacobian", "hessian", "lagrange"):
        return True
    for _, step in d.walk():
        for side in (step.before, step.form):
            if isinstance(side, sympy.Basic):
                for der in side.atoms(sympy.Derivative):
                    if (
                        len(der.expr.free_symbols) > 1
                        or len(der.variables) > 1
                        and len(set(der.variables)) > 1
                    ):
                        return True
    prob = d.problem
    try:
        return len(prob.free_symbols) > 1 if isinstance(prob, sympy.Basic) else False
    except AttributeError:
        return False


# -- escaping prose for each target, and the width of typeset math --------------------------------
#: Longest display line, in estimated characters of typeset math, before it is broken
#: (a 6.5-inch text width holds about 80 characters of 10 pt math).
LINE_CHARS = 62

_MD_SPECIAL = "\\`*_{}[]<>#|"


def _md_escape(s: str) -> str:
    out = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)
    return out.replace("$", "\\$")


_TEX_TEXT = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%",
    "#": r"\#", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
    "∫": r"$\int$", "∂": r"$\partial$", "λ": r"$\lambda$", "μ": r"$\mu$", "≤": r"$\le$",
    "≥": r"$\ge$", "≠": r"$\ne$", "·": r"$\cdot$", "−": "-", "→": r"$\to$", "–": "--",
    "—": "---", "σ": r"$\sigma$", "∇": r"$\nabla$", "α": r"$\alpha$", "β": r"$\beta$",
}  # fmt: skip


def _tex_escape(s: str) -> str:
    return "".join(_TEX_TEXT.get(ch, ch if ord(ch) < 128 else "?") for ch in s)


def _escape_mathjax_text(s: str) -> str:
    """Text safe inside ``\\text{}`` for KaTeX and MathJax 2/3: no backslashes, braces, dollars,
    scripts or other characters that are special in math mode."""
    table = {"^": "ˆ", "_": " ", "&": "and", "%": " percent", "#": "no.", "~": " "}
    return "".join(table.get(ch, ch) for ch in s if ch not in "\\{}$")


def _mathtext_prose(s: str) -> str:
    return r"\text{" + _escape_mathjax_text(s) + "}" if s else ""


def _visual_len(tex: str) -> int:
    """A rough width of typeset LaTeX in characters: commands count as one, fractions as
    their wider part, braces and scripts not at all."""
    import re

    t = tex
    matrix = re.compile(r"\\left\[\\begin\{matrix\}(.*?)\\end\{matrix\}\\right\]")
    t = matrix.sub(lambda m: "x" * (2 + max(_visual_len(r) for r in m.group(1).split(r"\\"))), t)
    frac = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")
    for _ in range(6):
        new = frac.sub(lambda m: "x" * max(len(m.group(1)), len(m.group(2))), t)
        if new == t:
            break
        t = new
    t = re.sub(r"\\(left|right|mathrm|operatorname|displaystyle|limits)\b", "", t)
    t = re.sub(r"\\[a-zA-Z]+", "x", t)
    t = re.sub(r"[{}]|\^|_|\\[,;! ]", "", t)
    return len(t)


#: Names that moved to the per-target modules, still importable from here.
_MOVED = {
    "to_text": "render_text", "to_markdown": "render_md", "to_latex": "render_latex",
    "collapse": "render_detail", "said": "render_detail", "top_steps": "render_detail",
    "visible_substeps": "render_detail", "_rank": "render_detail", "_repeats": "render_detail",
    "_resultable": "render_detail", "_problem_label": "render_detail",
    "_chain_latex": "render_latex", "_rows": "render_latex", "INLINE_CHARS": "render_latex",
    "TEXTBOOK_DEPTH": "render_detail",
}  # fmt: skip


def __getattr__(name: str):
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __package__), name)
