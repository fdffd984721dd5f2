"""Plain text of a derivation for an 80-column terminal, math in the symml language.

>>> import symml as sm
>>> print(to_text(sm.steps.diff("x^3", "x")).splitlines()[-1])
Result: d/dx[x^3] = 3*x^2
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import sympy

from .render import render_explanation, text
from .render_detail import (
    _problem_label,
    _repeats,
    _resultable,
    collapse,
    said,
    top_steps,
    visible_substeps,
)

__all__ = ["to_text"]


def _title(d, target: str) -> str:
    return render_explanation(d.title, target)


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
