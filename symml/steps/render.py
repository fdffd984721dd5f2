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

    def _print_Derivative(self, expr):
        n = sum(int(c) for _, c in expr.variable_count)
        d = r"\partial" if self._settings["partial"] else "d"
        num = d if n == 1 else f"{d}^{{{n}}}"
        den = " ".join(
            f"{d} {self._print(v)}" + (f"^{{{c}}}" if c != 1 else "")
            for v, c in expr.variable_count
        )
        body = self._print(expr.expr)
        if not expr.expr.is_Symbol:
            body = rf"\left({body}\right)"
        return rf"\frac{{{num}}}{{{den}}}{body}"


_TEXT = StepTextPrinter({"order": None})


def text(obj: Any) -> str:
    """One-line symml text of a SymPy object (or list/tuple/dict of them)."""
    if obj is None:
        return ""
    if isinstance(obj, Mapping):
        return ", ".join(f"{text(k)} = {text(v)}" for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        # a list of points (dicts) keeps each point grouped: [(x = 1, y = 2), (...)]
        return "[" + ", ".join(f"({text(e)})" if isinstance(e, Mapping) else text(e) for e in obj) + "]"
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
            r"\left(" + latex(e, partial) + r"\right)" if isinstance(e, Mapping) else latex(e, partial)
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
        "text": lambda s: s,
        "markdown": _md_escape,
        "latex": _tex_escape,
        "html": lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
    }[target]

    def math(obj) -> str:
        if target == "text":
            if isinstance(obj, sympy.Equality):  # a definition in prose reads "u = x^2"
                return f"{text(obj.lhs)} = {text(obj.rhs)}"
            return text(obj)
        body = latex(obj, partial)
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


def _is_partial(d) -> bool:
    if d.kind in ("grad", "jacobian", "hessian"):
        return True
    prob = d.problem
    try:
        return len(prob.free_symbols) > 1 if isinstance(prob, sympy.Basic) else False
    except AttributeError:
        return False


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


def _step_text(step, number: str, depth: int, width: int) -> list[str]:
    ind = "  " * min(depth, 8)
    head = f"{number}." + (f" {step.name}" if step.name else "")
    eq_ind = ind + "    "
    out = textwrap.wrap(
        render_explanation(step.explanation, "text"), width=width, initial_indent=f"{ind}{head} ",
        subsequent_indent=eq_ind, break_on_hyphens=False,
    )  # fmt: skip
    if step.substeps:
        if step.form is not None:
            out.extend(_chain_text([step.before, step.form], eq_ind, width))
        for i, sub in enumerate(step.substeps, 1):
            out.extend(_step_text(sub, f"{number}.{i}", depth + 1, width))
        if not _repeats(step):
            out.extend(_chain_text([step.before, step.after], eq_ind, width, first=f"{eq_ind}So "))
    else:
        out.extend(_chain_text([step.before, step.form, step.after], eq_ind, width))
    if step.note:
        out.extend(textwrap.wrap(f"Note: {render_explanation(step.note)}", width=width, initial_indent=eq_ind,
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


def to_text(d, width: int = 80) -> str:
    """The derivation as plain text for a terminal ``width`` columns wide."""
    lines = textwrap.wrap(d.title, width=width) or [""]
    lines.append("=" * min(width, max(len(ln) for ln in lines)))
    lines.append("")
    if d.problem is not None:
        lines.extend(_chain_text([d.problem], "", width, first=f"{_problem_label(d)}: "))
        lines.append("")
    for i, step in enumerate(d.steps, 1):
        lines.extend(_step_text(step, str(i), 0, width))
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


def _chain_latex(sides: list, partial: bool) -> str:
    parts = [latex(s, partial) for s in sides if s is not None]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and len(parts[0]) + len(parts[1]) < 90:
        return f"{parts[0]} = {parts[1]}"
    return r"\begin{aligned}" + parts[0] + " &= " + r" \\ &= ".join(parts[1:]) + r"\end{aligned}"


def _md_display(sides: list, partial: bool) -> list[str]:
    body = _chain_latex(sides, partial)
    return [f"$${body}$$", ""] if body else []


def _step_md(step, number: str, partial: bool) -> list[str]:
    name = f" {_md_escape(step.name)}" if step.name else ""
    out = [f"**{number}.**{name} {render_explanation(step.explanation, 'markdown', partial)}", ""]
    if step.substeps:
        if step.form is not None:
            out += _md_display([step.before, step.form], partial)
        for i, sub in enumerate(step.substeps, 1):
            out += _step_md(sub, f"{number}.{i}", partial)
        if not _repeats(step) and (step.before is not None or step.after is not None):
            out += [f"So, by {number}: $${_chain_latex([step.before, step.after], partial)}$$", ""]
    else:
        out += _md_display([step.before, step.form, step.after], partial)
    if step.note:
        out += [f"*Note:* {render_explanation(step.note, 'markdown', partial)}", ""]
    return out


def to_markdown(d) -> str:
    """The derivation as Markdown; math as LaTeX in ``$...$`` and ``$$...$$``."""
    partial = _is_partial(d)
    out = [f"### {_md_escape(d.title)}", ""]
    if d.problem is not None:
        out += [f"{_problem_label(d)} $${latex(d.problem, partial)}$$", ""]
    for i, step in enumerate(d.steps, 1):
        out += _step_md(step, str(i), partial)
    sides = [d.problem, d.result] if _resultable(d) else [d.result]
    out += [f"**Result:** $${_chain_latex(sides, partial)}$$", ""]
    if d.note:
        out += [f"*Note:* {_md_escape(d.note)}", ""]
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
    return "".join(ch for ch in s if ch not in "\\{}$")


def _step_tex(step, number: str, depth: int, partial: bool) -> list[str]:
    name = f" {_tex_escape(step.name)}" if step.name else ""
    indent = f"\\setlength{{\\leftskip}}{{{1.5 * depth:g}em}}"
    out = [
        f"{{{indent}\\noindent\\textbf{{{number}.}}{name} "
        f"{render_explanation(step.explanation, 'latex', partial)}\\par}}"
    ]

    def display(sides):
        parts = [latex(s, partial) for s in sides if s is not None]
        if not parts:
            return []
        body = parts[0] if len(parts) == 1 else parts[0] + " &= " + " \\\\\n  &= ".join(parts[1:])
        return ["\\begin{align*}", f"  {body}", "\\end{align*}"]

    if step.substeps:
        if step.form is not None:
            out += display([step.before, step.form])
        for i, sub in enumerate(step.substeps, 1):
            out += _step_tex(sub, f"{number}.{i}", depth + 1, partial)
        if not _repeats(step) and (step.before is not None or step.after is not None):
            out += [f"{{{indent}\\noindent So, by {number}:\\par}}"] + display(
                [step.before, step.after]
            )
    else:
        out += display([step.before, step.form, step.after])
    if step.note:
        note = render_explanation(step.note, "latex", partial)
        out.append(f"{{{indent}\\noindent\\emph{{Note:}} {note}\\par}}")
    return out


def _notebook_latex(d) -> str:
    partial = _is_partial(d)
    rows = [r"\textbf{" + _escape_mathjax_text(d.title) + "}"]

    def add(step, number, depth):
        label = (
            r"\quad" * depth
            + r"\text{"
            + _escape_mathjax_text(f"{number}. {render_explanation(step.explanation)}")
            + "}"
        )
        rows.append(label)
        sides = (
            [step.before, step.form, step.after] if not step.substeps else [step.before, step.form]
        )
        if any(s is not None for s in sides):
            rows.append(
                r"\quad" * depth
                + r"\qquad "
                + " = ".join(latex(s, partial) for s in sides if s is not None)
            )
        for i, sub in enumerate(step.substeps, 1):
            add(sub, f"{number}.{i}", depth + 1)
        if step.substeps:
            rows.append(
                r"\quad" * depth
                + r"\qquad "
                + f"{latex(step.before, partial)} = {latex(step.after, partial)}"
            )

    for i, step in enumerate(d.steps, 1):
        add(step, str(i), 0)
    sides = [d.problem, d.result] if _resultable(d) else [d.result]
    rows.append(r"\text{Result: }" + " = ".join(latex(s, partial) for s in sides))
    return "$$\\begin{array}{l}" + " \\\\\n".join(rows) + "\\end{array}$$"


def to_latex(d, standalone: bool = False, notebook: bool = False) -> str:
    """The derivation as LaTeX using amsmath only; ``standalone`` wraps it in a document.

    ``notebook=True`` gives a math-mode-only version for Jupyter's ``_repr_latex_``.
    """
    if notebook:
        return _notebook_latex(d)
    partial = _is_partial(d)
    out = [f"\\noindent\\textbf{{{_tex_escape(d.title)}}}\\par\\medskip"]
    if d.problem is not None:
        out += [
            f"\\noindent {_problem_label(d)}",
            "\\begin{align*}",
            f"  {latex(d.problem, partial)}",
            "\\end{align*}",
        ]
    for i, step in enumerate(d.steps, 1):
        out += _step_tex(step, str(i), 0, partial)
    sides = [d.problem, d.result] if _resultable(d) else [d.result]
    parts = [latex(s, partial) for s in sides]
    out += [
        "\\noindent\\textbf{Result:}",
        "\\begin{align*}",
        "  " + " &= ".join(parts),
        "\\end{align*}",
    ]
    if d.note:
        out.append(f"\\noindent\\emph{{Note:}} {_tex_escape(d.note)}\\par")
    body = "\n".join(out) + "\n"
    if not standalone:
        return body
    return (
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
        + body
        + "\\end{document}\n"
    )
