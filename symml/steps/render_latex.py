"""LaTeX of a derivation (amsmath only): fragments, standalone documents for a 6.5-inch text
width, and the math-mode-only form of Jupyter's ``_repr_latex_``.

Long equations are set in ``align*`` rows broken at the top-level ``=``, ``+`` and ``-``
(:func:`_rows`), with widths estimated from the LaTeX (:func:`~symml.steps.render._visual_len`).

>>> import symml as sm
>>> "begin{align*}" in to_latex(sm.steps.diff("x^2*sin(x)", "x"))
True
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy

from .render import (
    LINE_CHARS,
    _escape_mathjax_text,
    _is_partial,
    _naming,
    _positive_first,
    _tex_escape,
    _visual_len,
    latex,
    render_explanation,
)
from .render_detail import (
    _named_title,
    _problem_label,
    _repeats,
    _resultable,
    _same,
    collapse,
    said,
    top_steps,
    visible_substeps,
)

__all__ = ["to_latex"]


# -- layout: rows of aligned equations -------------------------------------------------------------
#: Equations of a leaf step up to this many characters are set in its sentence (LaTeX).
INLINE_CHARS = 50


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


# -- LaTeX ----------------------------------------------------------------------------------------
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


def _drop_alignment(row: str) -> str:
    """One ``aligned`` row set inline: its single alignment ``&`` removed, and only that one
    (the ``&`` column separators of a matrix in it stay)."""
    if row.startswith("& "):
        return row[2:]
    return row.replace(" &= ", " = ", 1) if " &= " in row else row.replace("&= ", "= ", 1)


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
            eq = _drop_alignment(rows[0])
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
    """Math-mode-only LaTeX for Jupyter's ``_repr_latex_``: ``aligned``-free arrays of rows,
    each row either a line of prose (with typeset math) or one equation.

    The title, each top-level step and the result are displays of their own: MathJax 2 and 3
    stop with "internal buffer size exceeded" when a macro is expanded with more than 5 KB
    of the display still to parse (it shows the raw TeX instead), so no display is long."""
    partial = _is_partial(d)
    title = (r"\textbf{" + _escape_mathjax_text(render_explanation(d.title, "text")) + "}"
             if isinstance(d.title, str) else _mathjax_text(d.title, partial))  # fmt: skip
    blocks: list[list[str]] = [[title]]
    rows: list[str] = []

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
        rows = []
        add(step, str(i), 0)
        blocks.append(rows)
    sides = [d.problem, d.result] if _resultable(d) else [d.result]
    blocks.append([r"\text{Result: }" + " = ".join(latex(s, partial) for s in sides)])
    return "\n".join("$$\\begin{array}{l}" + " \\\\\n".join(b) + "\\end{array}$$" for b in blocks)


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
        # inline formulas do not break inside: let TeX stretch a line's spaces rather than
        # push a long one (a Taylor formula in prose) into the margin
        "\\allowdisplaybreaks\n\\setlength{\\emergencystretch}{3em}\n\\begin{document}\n"
        "\\setlength{\\abovedisplayskip}{3pt plus 1pt}"
        "\\setlength{\\belowdisplayskip}{3pt plus 1pt}\\setlength{\\jot}{2pt}\n"
        "\\setlength{\\abovedisplayshortskip}{2pt}\\setlength{\\belowdisplayshortskip}{2pt}\n"
        + body
        + "\\end{document}\n"
    )
