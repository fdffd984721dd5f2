"""Renderers for derivations: plain text (80-column terminal), Markdown with LaTeX, LaTeX.

They walk any :class:`~symml.steps.model.Derivation` tree generically and never recompute
mathematics: each step shows ``before = form = after`` (whichever are present), its
sub-steps, and a conclusion. Math is printed by subclasses of symml's/SymPy's printers.

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
import textwrap
from collections.abc import Mapping
from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from ..lang.printer import SymmlPrinter

__all__ = ["text", "latex", "to_text", "to_markdown", "to_latex", "render_explanation"]


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
            inverse = {b: s for s, b in (getattr(d, "definitions", None) or {}).items()}
            if inverse:
                names[f.xreplace(inverse)] = name
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
        return ",\\ ".join(f"{latex(k, partial)} = {latex(v, partial)}" for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        items = [
            r"\left(" + latex(e, partial) + r"\right)"
            if isinstance(e, Mapping)
            else latex(e, partial)
            for e in obj
        ]
        return r"\left[" + ",\\ ".join(items) + r"\right]"
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


# -- detail levels ---------------------------------------------------------------------------------
#: The deepest numbering shown at textbook detail (1.2.3).
TEXTBOOK_DEPTH = 3


def _rank(level: str) -> int:
    from .model import DETAIL_LEVELS

    if level not in DETAIL_LEVELS:
        from ..errors import ArgumentError

        raise ArgumentError(f"detail must be one of {', '.join(DETAIL_LEVELS)}; got {level!r}")
    return DETAIL_LEVELS.index(level)


def _shown(step, detail: str) -> bool:
    return _rank(getattr(step, "detail", "textbook")) <= _rank(detail)


def visible_substeps(step, detail: str, depth: int) -> list:
    """The substeps of ``step`` (at nesting ``depth``, 0 for a top-level step) shown at ``detail``.

    ``"full"`` shows every substep; ``"textbook"`` those tagged ``"brief"`` or ``"textbook"``,
    at most :data:`TEXTBOOK_DEPTH` levels deep; ``"brief"`` shows none (see :func:`top_steps`).
    """
    if detail == "full":
        return list(step.substeps)
    if detail == "brief" or depth + 1 >= TEXTBOOK_DEPTH:
        return []
    return [s for s in step.substeps if _shown(s, detail)]


def _as_template(e, prefix: str) -> tuple[str, dict]:
    """An explanation (str or Explanation) as a template whose fields carry ``prefix``."""
    import string

    if e is None:
        return "", {}
    if isinstance(e, str):
        return e.replace("{", "{{").replace("}", "}}"), {}
    out, params = [], {}
    for prose, name, _spec, _conv in string.Formatter().parse(e.template):
        out.append((prose or "").replace("{", "{{").replace("}", "}}"))
        if name is not None:
            out.append("{" + prefix + name + "}")
            params[prefix + name] = e.params[name]
    return "".join(out), params


def _joined(a, b):
    """Two explanations read as one: "A. B."."""
    from .model import Explanation

    ta, pa = _as_template(a, "a_")
    tb, pb = _as_template(b, "b_")
    ta = ta.rstrip()
    if ta and not ta.endswith((".", ":", ";")):
        ta += "."
    return Explanation(f"{ta} {tb}".strip(), {**pa, **pb})


def collapse(step, detail: str, depth: int):
    """Below full detail, a step whose only shown sub-step says the same thing (same two
    sides, as in "partial derivative" -> "chain rule") is shown as that sub-step, under one
    number with both explanations."""

    if detail == "full":
        return step
    for _ in range(6):
        new = _collapse_once(step, detail)
        if new is step:
            return step
        step = new
    return step


def said(step) -> bool:
    """True when the step's explanation already states its equation ``before = after`` (as in
    "let z = b + w*x"), so that renderers need not display it again."""
    params = getattr(step.explanation, "params", None)
    if not params or step.substeps or step.form is not None or step.before is None:
        return False
    for p in params.values():
        if isinstance(p, sympy.Equality) and _same(p.lhs, step.before) and _same(p.rhs, step.after):
            return True
    return False


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:  # objects without a plain equality
        return False


def _collapse_once(step, detail: str):
    import dataclasses

    subs = [s for s in step.substeps if _shown(s, detail)]
    if not subs:
        return step
    sub = subs[0]
    joined = _joined(step.explanation, sub.explanation)
    if step.form is None and step.before is not None and _same(sub.before, step.before):
        if len(subs) == 1 and _same(sub.after, step.after):  # the sub-step says it all
            return dataclasses.replace(
                sub, explanation=joined, name=step.name or sub.name, note=sub.note or step.note,
                detail=step.detail,
            )  # fmt: skip
        # the first sub-step derives the same thing: its rule and parts become this step's
        return dataclasses.replace(
            step, explanation=joined, form=sub.form, note=step.note or sub.note,
            name=step.name or sub.name,
            substeps=[s for s in sub.substeps if _shown(s, detail)] + subs[1:],
        )  # fmt: skip
    if (
        len(subs) == 1 and sub.form is not None and step.form is not None
        and isinstance(step.form, sympy.Basic) and step.form.has(sub.before)
        and any(_shown(s, detail) for s in sub.substeps)
    ):  # fmt: skip
        # c*d/dx[g] with g derived by a rule: show c*(the rule's form) and the rule's parts
        return dataclasses.replace(
            step, explanation=joined, form=step.form.xreplace({sub.before: sub.form}),
            name=step.name or sub.name,
            substeps=[s for s in sub.substeps if _shown(s, detail)], note=step.note or sub.note,
        )  # fmt: skip
    return step


def top_steps(d, detail: str) -> list:
    """The steps listed at the top level: all top-level steps, and at ``"brief"`` detail
    also every nested step tagged ``"brief"`` (each on a line of its own, in reading order)."""
    _rank(detail)
    if detail != "brief":
        return list(d.steps)
    out: list = []

    def collect(step, top):
        if top or getattr(step, "detail", "textbook") == "brief":
            out.append(step)
        for sub in step.substeps:
            collect(sub, False)

    for step in d.steps:
        collect(step, True)
    return out


def _title(d, target: str) -> str:
    return render_explanation(d.title, target)


# -- text -----------------------------------------------------------------------------------------
def _blocks(obj: Any, width: int = 76) -> list[str]:
    """Lines that show ``obj``: a matrix as rows in brackets, a list one item per line.

    A matrix too wide for ``width`` is shown entry by entry instead.
    """
    if isinstance(obj, sympy.MatrixBase) and obj.rows * obj.cols > 1:
        cells = [[text(obj[i, j]) for j in range(obj.cols)] for i in range(obj.rows)]
        widths = [max(len(cells[i][j]) for i in range(obj.rows)) for j in range(obj.cols)]
        rows = [
            "[ " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " ]"
            for row in cells
        ]
        if max(len(r) for r in rows) <= width:
            return rows
        out = []
        for i in range(obj.rows):
            for j in range(obj.cols):
                label = f"({i + 1})" if obj.cols == 1 else f"({i + 1},{j + 1})"
                out.extend(_wrap_line(f"{label} {cells[i][j]}", width, " " * (len(label) + 3)))
        return out
    if (
        isinstance(obj, (list, tuple))
        and obj
        and any(isinstance(e, (Mapping, sympy.Rel, list, tuple, sympy.MatrixBase)) for e in obj)
    ):
        return [text(e) for e in obj]
    return [text(obj)]


def _wrap_line(s: str, width: int, cont: str) -> list[str]:
    """Break a long line of math at ' + ' / ' - ' / ' = ' / ', ', preferring the outermost level."""
    if len(s) <= width:
        return [s]
    best = [s]
    for level in range(4):
        lines = _wrap_at(s, width, cont, level)
        if max(len(ln) for ln in lines) <= width:
            return lines
        if max(len(ln) for ln in lines) < max(len(ln) for ln in best):
            best = lines
    return best


def _wrap_at(s: str, width: int, cont: str, level: int) -> list[str]:
    cuts, depth = [], 0
    for i, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth <= level and s[i : i + 3] in (" + ", " - ", " = "):
            cuts.append(i)
        elif depth <= level + 1 and s[i : i + 2] == ", ":
            cuts.append(i + 1)
    lines, start, last = [], 0, None
    for c in cuts:
        limit = width if not lines else width - len(cont)
        if c - start > limit and last is not None and last > start:
            lines.append(s[start:last].rstrip())
            start = last + (1 if s[last] == " " else 0)
        last = c
    rest_limit = width if not lines else width - len(cont)
    if len(s) - start > rest_limit and last is not None and last > start:
        lines.append(s[start:last].rstrip())
        start = last + (1 if s[last] == " " else 0)
    lines.append(s[start:].strip())
    return [lines[0]] + [cont + ln for ln in lines[1:]]


def _chain_text(sides: list, indent: str, width: int, first: str | None = None) -> list[str]:
    """``a = b = c`` on one line if it fits, else one side per line with '= ' in front.

    ``first`` replaces ``indent`` on the first line (a label such as ``"Result: "``).
    """
    first = indent if first is None else first
    blocks = [_blocks(s, width - len(indent) - 4) for s in sides if s is not None]
    if not blocks:
        return []
    if all(len(b) == 1 for b in blocks):
        one = first + " = ".join(b[0] for b in blocks)
        if len(one) <= width:
            return [one]
    out: list[str] = []
    for k, b in enumerate(blocks):
        lead = first if k == 0 else indent + "  = "
        pad = " " * len(lead)
        if len(b) == 1:
            out.extend(_wrap_line(lead + b[0], width, pad + "  "))
        else:
            out.append(lead + b[0])
            out.extend(pad + ln for ln in b[1:])
    return out


def _step_text(step, number: str, depth: int, width: int, detail: str = "full") -> list[str]:
    step = collapse(step, detail, depth)
    ind = "  " * min(depth, 8)
    head = f"{number}." + (f" {step.name}" if step.name else "")
    eq_ind = ind + "    "
    out = textwrap.wrap(
        render_explanation(step.explanation, "text"), width=width, initial_indent=f"{ind}{head} ",
        subsequent_indent=eq_ind, break_on_hyphens=False,
    )  # fmt: skip
    subs = visible_substeps(step, detail, depth)
    if subs:
        if step.form is not None:
            out.extend(_chain_text([step.before, step.form], eq_ind, width))
        for i, sub in enumerate(subs, 1):
            out.extend(_step_text(sub, f"{number}.{i}", depth + 1, width, detail))
        if not _repeats(step):
            lead = f"{eq_ind}So "
            out.extend(_chain_text([step.before, step.after], eq_ind, width, first=lead))
    elif said(step):
        pass
    elif detail == "brief":
        out.extend(_chain_text([step.before, step.after], eq_ind, width))
    else:
        out.extend(_chain_text([step.before, step.form, step.after], eq_ind, width))
    if step.note and detail != "brief":
        note = f"Note: {render_explanation(step.note)}"
        out.extend(textwrap.wrap(note, width=width, initial_indent=eq_ind,
                                 subsequent_indent=eq_ind + "      "))  # fmt: skip
    return out


def _repeats(step) -> bool:
    """True when a step's conclusion would only repeat its one sub-step word for word."""
    if len(step.substeps) != 1:
        return False
    sub = step.substeps[0]
    try:
        return bool(sub.before == step.before and sub.after == step.after)
    except Exception:  # objects without a plain equality
        return False


def to_text(d, width: int = 80, detail: str = "textbook") -> str:
    """The derivation as plain text for a terminal ``width`` columns wide, at ``detail``."""
    lines = textwrap.wrap(_title(d, "text"), width=width) or [""]
    lines.append("=" * min(width, max(len(ln) for ln in lines)))
    lines.append("")
    if d.problem is not None:
        lines.extend(_chain_text([d.problem], "", width, first=f"{_problem_label(d)}: "))
        lines.append("")
    for i, step in enumerate(top_steps(d, detail), 1):
        lines.extend(_step_text(step, str(i), 0, width, detail))
    lines.append("")
    sides = [d.problem, d.result] if _resultable(d) else [d.result]
    lines.extend(_chain_text(sides, "        ", width, first="Result: "))
    if d.note:
        lines.extend(textwrap.wrap(f"Note: {d.note}", width=width))
    return "\n".join(lines) + "\n"


def _resultable(d) -> bool:
    """Whether ``problem = result`` reads well as an equation (a scalar problem)."""
    if d.kind == "taylor":  # the polynomial approximates the problem; it does not equal it
        return False
    return isinstance(d.problem, sympy.Expr) and isinstance(d.result, sympy.Expr)


def _problem_label(d) -> str:
    return {"taylor": "Expand"}.get(d.kind, "Find")


# -- Markdown -------------------------------------------------------------------------------------
_MD_SPECIAL = "\\`*_{}[]<>#|"


def _md_escape(s: str) -> str:
    out = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)
    return out.replace("$", "\\$")


#: Equations of a leaf step up to this many characters are set in its sentence (LaTeX).
INLINE_CHARS = 50

#: Longest display line, in estimated characters of typeset math, before it is broken
#: (a 6.5-inch text width holds about 80 characters of 10 pt math).
LINE_CHARS = 62


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


def _split_terms(obj, partial: bool, limit: int) -> list[str]:
    """``obj`` as LaTeX, broken at its top-level ``+``/``-`` into lines of at most ``limit``."""
    whole = latex(obj, partial)
    if _visual_len(whole) <= limit:
        return [whole]
    inner, wrap = obj, None
    if isinstance(obj, sympy.Derivative) and obj.expr.is_Add and len(obj.variables) >= 1:
        inner = obj.expr
        head = latex(sympy.Derivative(sympy.Symbol("F"), *obj.variables), partial)
        wrap = head[:-1] if head.endswith("F") else None
    if not (isinstance(inner, sympy.Expr) and inner.is_Add):
        return [whole]
    terms = _positive_first(list(inner.as_ordered_terms()))
    lines, cur = [], ""
    for i, term in enumerate(terms):
        t = latex(term, partial)
        piece = t if i == 0 else (f"- {t[1:]}" if t.startswith("-") else f"+ {t}")
        if cur and _visual_len(cur + piece) > limit:
            lines.append(cur)
            cur = piece
        else:
            cur = f"{cur} {piece}" if cur else piece
    lines.append(cur)
    if wrap is not None:
        lines[0] = wrap + r"\Bigl(" + lines[0]
        lines[-1] = lines[-1] + r"\Bigr)"
    return lines


def _rows(sides: list, partial: bool, limit: int = LINE_CHARS) -> list[str]:
    """Rows of an ``aligned`` block showing ``a = b = c``, each row with one ``&``; long sides
    are broken at top-level ``+`` and ``-`` and the left side stands on a row of its own."""
    sides = [s for s in sides if s is not None]
    if not sides:
        return []
    if len(sides) == 1 and _is_listing(sides[0]):  # a system or a list of points: packed rows
        rows, cur = [], ""
        for e in sides[0]:
            t = latex(e, partial)
            if cur and _visual_len(cur + t) + 4 > limit:
                rows.append("& " + cur)
                cur = t
            else:
                cur = f"{cur},\\quad {t}" if cur else t
        return rows + ["& " + cur]
    pieces = [_split_terms(s, partial, limit) for s in sides]
    if len(pieces) == 1:
        return ["& " + pieces[0][0]] + [r"&\quad " + ln for ln in pieces[0][1:]]
    rows: list[str] = []
    first = pieces[0]
    one_line = len(first) == 1 and len(pieces[1]) >= 1
    if one_line and _visual_len(first[0] + pieces[1][0]) <= limit:
        rows.append(first[0] + " &= " + pieces[1][0])
        rows += [r"&\quad " + ln for ln in pieces[1][1:]]
        rest = pieces[2:]
    else:
        rows += ["& " + first[0]] + [r"&\quad " + ln for ln in first[1:]]
        rest = pieces[1:]
    for p in rest:
        rows.append("&= " + p[0])
        rows += [r"&\quad " + ln for ln in p[1:]]
    return rows


def _is_listing(obj) -> bool:
    return (
        isinstance(obj, (list, tuple))
        and len(obj) > 1
        and all(isinstance(e, (Mapping, sympy.Rel, sympy.MatrixBase)) for e in obj)
    )


def _chain_latex(sides: list, partial: bool) -> str:
    rows = _rows(sides, partial)
    if not rows:
        return ""
    if len(rows) == 1 and rows[0].startswith("& "):
        return rows[0][2:]
    if len(rows) == 1:
        return rows[0].replace(" &= ", " = ")
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def _md_display(sides: list, partial: bool) -> list[str]:
    body = _chain_latex(sides, partial)
    return [f"$${body}$$", ""] if body else []


def _step_md(step, number: str, partial: bool, depth: int = 0, detail: str = "full") -> list[str]:
    step = collapse(step, detail, depth)
    name = f" {_md_escape(step.name)}" if step.name else ""
    out = [f"**{number}.**{name} {render_explanation(step.explanation, 'markdown', partial)}", ""]
    subs = visible_substeps(step, detail, depth)
    if subs:
        if step.form is not None:
            out += _md_display([step.before, step.form], partial)
        for i, sub in enumerate(subs, 1):
            out += _step_md(sub, f"{number}.{i}", partial, depth + 1, detail)
        if not _repeats(step) and (step.before is not None or step.after is not None):
            lead = [f"So, by {number}:", ""] if detail == "full" else []
            out += lead + _md_display([step.before, step.after], partial)
    elif said(step):
        pass
    elif detail == "brief":
        out += _md_display([step.before, step.after], partial)
    else:
        out += _md_display([step.before, step.form, step.after], partial)
    if step.note and detail != "brief":
        out += [f"*Note:* {render_explanation(step.note, 'markdown', partial)}", ""]
    return out


def to_markdown(d, detail: str = "textbook") -> str:
    """The derivation as Markdown at ``detail``; math as LaTeX in ``$...$`` and ``$$...$$``."""
    partial = _is_partial(d)
    with _naming(d, partial) as named:
        return _to_markdown(d, detail, partial, named)


def _where(named, partial: bool) -> str:
    """LaTeX of the definition of the derivation's named function, ``f = ...``."""
    return f"{named[0]} = {latex(named[1], partial)}" if named else ""


def _to_markdown(d, detail: str, partial: bool, named) -> str:
    out = [f"### {render_explanation(_named_title(d, named), 'markdown', partial)}", ""]
    if d.problem is not None:
        out += [_problem_label(d), ""] + _md_display([d.problem], partial)
        if named:
            out += ["where", ""] + _md_display([sympy.Eq(*named, evaluate=False)], partial)
    for i, step in enumerate(top_steps(d, detail), 1):
        out += _step_md(step, str(i), partial, 0, detail)
    sides = [d.problem, d.result] if _resultable(d) else [d.result]
    out += ["**Result:**", ""] + _md_display(sides, partial)
    if d.note:
        out += [f"*Note:* {render_explanation(d.note, 'markdown', partial)}", ""]
    return "\n".join(out)


# -- LaTeX ----------------------------------------------------------------------------------------
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


def _result_chain(d, tops: list, detail: str) -> list:
    """Below full detail, the last steps that only rewrite one into the next and into the
    result (assembling a vector, substituting back an abbreviation) share the result's display:
    ``before = after_1 = ... = result``."""
    if detail == "full" or not tops or _resultable(d):
        return []

    def plain(step) -> bool:
        return (not step.substeps and step.form is None and step.before is not None
                and not step.note and not said(step))  # fmt: skip

    if not (plain(tops[-1]) and _same(tops[-1].after, d.result)):
        return []
    chain = [tops[-1]]
    for step in reversed(tops[:-1]):
        if not (plain(step) and _same(step.after, chain[0].before)):
            break
        chain.insert(0, step)
    return chain


def _tex_display(sides: list, partial: bool) -> list[str]:
    rows = _rows(sides, partial)
    if not rows:
        return []
    return ["\\begin{align*}", "  " + " \\\\\n  ".join(rows), "\\end{align*}"]


def _step_tex(step, number: str, depth: int, partial: bool, detail: str = "full") -> list[str]:
    step = collapse(step, detail, depth)
    name = f" {_tex_escape(step.name)}" if step.name else ""
    indent = f"\\setlength{{\\leftskip}}{{{1.5 * min(depth, 4):g}em}}"
    subs = visible_substeps(step, detail, depth)
    explanation = render_explanation(step.explanation, "latex", partial)
    if not subs and not said(step) and detail != "full":
        sides = (
            [step.before, step.after] if detail == "brief" else [step.before, step.form, step.after]
        )
        rows = _rows(sides, partial)
        if len(rows) == 1 and _visual_len(rows[0]) <= INLINE_CHARS:  # short: in the sentence
            eq = rows[0].replace("&= ", "= ").replace("& ", "")
            out = [f"{{{indent}\\noindent\\textbf{{{number}.}}{name} {explanation} "
                   f"\\(\\displaystyle {eq}\\).\\par}}"]  # fmt: skip
            if step.note and detail != "brief":
                note = render_explanation(step.note, "latex", partial)
                out.append(f"{{{indent}\\noindent\\emph{{Note:}} {note}\\par}}")
            return out
    out = [f"{{{indent}\\noindent\\textbf{{{number}.}}{name} {explanation}\\par}}"]
    if subs:
        if step.form is not None:
            out += _tex_display([step.before, step.form], partial)
        for i, sub in enumerate(subs, 1):
            out += _step_tex(sub, f"{number}.{i}", depth + 1, partial, detail)
        if not _repeats(step) and (step.before is not None or step.after is not None):
            lead = [f"{{{indent}\\noindent So, by {number}:\\par}}"] if detail == "full" else []
            out += lead + _tex_display([step.before, step.after], partial)
    elif said(step):
        pass
    elif detail == "brief":
        out += _tex_display([step.before, step.after], partial)
    else:
        out += _tex_display([step.before, step.form, step.after], partial)
    if step.note and detail != "brief":
        note = render_explanation(step.note, "latex", partial)
        out.append(f"{{{indent}\\noindent\\emph{{Note:}} {note}\\par}}")
    return out


def _mathjax_text(e, partial: bool) -> str:
    """An explanation inside math mode: prose in ``\\text{}`` (made safe for KaTeX and
    MathJax), parameters as math between the prose pieces."""
    return render_explanation(e, "mathtext", partial)


def _notebook_latex(d, detail: str = "textbook") -> str:
    """Math-mode-only LaTeX for Jupyter's ``_repr_latex_``: one ``aligned``-free array of rows,
    each row either a line of prose (with typeset math) or one equation."""
    partial = _is_partial(d)
    rows = [r"\textbf{" + _escape_mathjax_text(render_explanation(d.title, "text")) + "}"
            if isinstance(d.title, str) else _mathjax_text(d.title, partial)]  # fmt: skip

    def equation(sides, depth):
        parts = [latex(s, partial) for s in sides if s is not None]
        if parts:
            rows.append(r"\quad" * depth + r"\qquad " + " = ".join(parts))

    def add(step, number, depth):
        step = collapse(step, detail, depth)
        rows.append(
            r"\quad" * depth + rf"\text{{{number}. }}" + _mathjax_text(step.explanation, partial)
        )
        subs = visible_substeps(step, detail, depth)
        if subs:
            equation([step.before, step.form], depth)
            for i, sub in enumerate(subs, 1):
                add(sub, f"{number}.{i}", depth + 1)
            if not _repeats(step):
                equation([step.before, step.after], depth)
        elif said(step):
            pass
        elif detail == "brief":
            equation([step.before, step.after], depth)
        else:
            equation([step.before, step.form, step.after], depth)

    for i, step in enumerate(top_steps(d, detail), 1):
        add(step, str(i), 0)
    sides = [d.problem, d.result] if _resultable(d) else [d.result]
    rows.append(r"\text{Result: }" + " = ".join(latex(s, partial) for s in sides))
    return "$$\\begin{array}{l}" + " \\\\\n".join(rows) + "\\end{array}$$"


def to_latex(d, standalone: bool = False, notebook: bool = False, detail: str = "textbook") -> str:
    """The derivation as LaTeX using amsmath only, at ``detail``; ``standalone`` wraps it in a
    document (6.5-inch text width).

    ``notebook=True`` gives a math-mode-only version for Jupyter's ``_repr_latex_``.
    """
    partial = _is_partial(d)
    with _naming(d, partial) as named:
        if notebook:
            return _notebook_latex(d, detail)
        return _to_latex(d, standalone, detail, partial, named)


def _named_title(d, named):
    """The title with the derivation's named function written by its name (defined below)."""
    title = d.title
    params = getattr(title, "params", None)
    if not named or not params:
        return title
    from .model import Explanation

    return Explanation(title.template, {k: named[0] if _same(v, named[1]) else v
                                        for k, v in params.items()})  # fmt: skip


def _to_latex(d, standalone: bool, detail: str, partial: bool, named) -> str:
    title = render_explanation(_named_title(d, named), "latex", partial)
    out = [f"\\noindent\\textbf{{{title}}}\\par\\medskip"]
    if d.problem is not None:
        rows = _rows([d.problem], partial)
        if named:  # "where f = ..." in the same display
            rows[-1] += r",\quad \text{where}"
            rows += _rows([sympy.Eq(*named, evaluate=False)], partial)
        out += [f"\\noindent {_problem_label(d)}", "\\begin{align*}", "  " + " \\\\\n  ".join(rows),
                "\\end{align*}"]  # fmt: skip
    tops = top_steps(d, detail)
    sides = [d.problem, d.result] if _resultable(d) else [d.result]
    tail = _result_chain(d, tops, detail)
    for i, step in enumerate(tops, 1):
        if i > len(tops) - len(tail):  # its equation continues into the result: shown below
            expl = render_explanation(step.explanation, "latex", partial)
            out.append(f"{{\\noindent\\textbf{{{i}.}} {expl}\\par}}")
        else:
            out += _step_tex(step, str(i), 0, partial, detail)
    if tail:
        sides = [tail[0].before] + [s.after for s in tail]
    out += ["\\noindent\\textbf{Result:}"] + _tex_display(sides, partial)
    if d.note:
        out.append(f"\\noindent\\emph{{Note:}} {render_explanation(d.note, 'latex', partial)}\\par")
    body = "\n".join(out) + "\n"
    if not standalone:
        return body
    return (
        "\\documentclass{article}\n\\usepackage{amsmath}\n"
        "\\usepackage[textwidth=6.5in,textheight=9in]{geometry}\n"
        "\\allowdisplaybreaks\n\\begin{document}\n"
        "\\setlength{\\abovedisplayskip}{3pt plus 1pt}"
        "\\setlength{\\belowdisplayskip}{3pt plus 1pt}\\setlength{\\jot}{2pt}\n"
        "\\setlength{\\abovedisplayshortskip}{2pt}\\setlength{\\belowdisplayshortskip}{2pt}\n"
        + body
        + "\\end{document}\n"
    )
