"""HTML for notebooks (``Derivation._repr_html_``): each step with sub-steps is a foldable
``<details>`` block; math is LaTeX in ``\\(...\\)`` and ``\\[...\\]``, which the notebook's
MathJax or KaTeX typesets.

>>> import symml as sm
>>> html = to_html(sm.steps.diff("sin(x^2)", "x"), detail="full")
>>> html.count("<details") >= 1, html.startswith("<div")
(True, True)
"""

from __future__ import annotations

import html as _html

from .render import _is_partial, render_explanation
from .render_detail import (
    _problem_label,
    _repeats,
    _resultable,
    collapse,
    said,
    top_steps,
    visible_substeps,
)
from .render_latex import _chain_latex

__all__ = ["to_html"]


def _display(sides: list, partial: bool) -> str:
    body = _chain_latex(sides, partial)
    return f"<div class='symml-eq'>\\[{_html.escape(body, quote=False)}\\]</div>" if body else ""


def _explanation(e, partial: bool) -> str:
    """Prose escaped for HTML, math in ``\\(...\\)``."""
    return _inline(render_explanation(e, "html", partial))


def _inline(s: str) -> str:
    # render_explanation("html") delimits math by $...$; notebooks typeset \(...\) reliably
    parts = s.split("$")
    return "".join(p if i % 2 == 0 else f"\\({p}\\)" for i, p in enumerate(parts))


def _step(step, number: str, depth: int, partial: bool, detail: str) -> str:
    step = collapse(step, detail, depth)
    head = f"<b>{number}.</b> " + (f"{_html.escape(step.name)} " if step.name else "")
    head += _explanation(step.explanation, partial)
    subs = visible_substeps(step, detail, depth)
    note = (
        f"<p><i>Note:</i> {_explanation(step.note, partial)}</p>"
        if step.note and detail != "brief"
        else ""
    )
    if not subs and said(step):
        return f"<div class='symml-step'><p>{head}</p>{note}</div>"
    if not subs:
        sides = (
            [step.before, step.after] if detail == "brief" else [step.before, step.form, step.after]
        )
        return f"<div class='symml-step'><p>{head}</p>{_display(sides, partial)}{note}</div>"
    inner = _display([step.before, step.form], partial) if step.form is not None else ""
    inner += "".join(
        _step(s, f"{number}.{i}", depth + 1, partial, detail) for i, s in enumerate(subs, 1)
    )
    conclusion = "" if _repeats(step) else _display([step.before, step.after], partial)
    return (
        f"<div class='symml-step'><details><summary>{head}</summary>"
        f"<div style='margin-left:1.5em'>{inner}</div></details>{conclusion}{note}</div>"
    )


def to_html(d, detail: str = "textbook") -> str:
    """The derivation as an HTML fragment at ``detail``, sub-steps folded in ``<details>``."""
    partial = _is_partial(d)
    out = [f"<div class='symml-derivation'><h4>{_explanation(d.title, partial)}</h4>"]
    if d.problem is not None:
        out.append(f"<p>{_problem_label(d)}</p>{_display([d.problem], partial)}")
    for i, step in enumerate(top_steps(d, detail), 1):
        out.append(_step(step, str(i), 0, partial, detail))
    sides = [d.problem, d.result] if _resultable(d) else [d.result]
    out.append(f"<p><b>Result:</b></p>{_display(sides, partial)}")
    if d.note:
        out.append(f"<p><i>Note:</i> {_explanation(d.note, partial)}</p>")
    out.append("</div>")
    return "\n".join(out)
