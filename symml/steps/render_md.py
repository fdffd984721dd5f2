"""Markdown of a derivation, math as LaTeX in ``$...$`` and ``$$...$$`` (KaTeX, MathJax).

>>> import symml as sm
>>> print(to_markdown(sm.steps.diff("x^3", "x")).splitlines()[0])
### Derivative of $x^{3}$ with respect to $x$
"""

from __future__ import annotations

import sympy

from .render import _is_partial, _md_escape, _naming, latex, render_explanation
from .render_detail import (
    _named_title,
    _problem_label,
    _repeats,
    _resultable,
    collapse,
    said,
    top_steps,
    visible_substeps,
)
from .render_latex import _chain_latex

__all__ = ["to_markdown"]


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
