"""What a derivation shows at each detail level: which sub-steps, which steps collapse into
one, which conclusions would only repeat a sub-step. Every renderer asks these questions the
same way, so that the text, Markdown, LaTeX and HTML of one level show the same steps.

>>> import symml as sm
>>> d = sm.steps.diff("x^3 - 4*x^2 + 7*x - 9", "x")
>>> len(visible_substeps(d.steps[0], "full", 0)) > len(visible_substeps(d.steps[0], "textbook", 0))
True
"""

from __future__ import annotations

import sympy

__all__ = ["collapse", "said", "top_steps", "visible_substeps", "TEXTBOOK_DEPTH"]


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


def _repeats(step) -> bool:
    """True when a step's conclusion would only repeat its one sub-step word for word."""
    if len(step.substeps) != 1:
        return False
    sub = step.substeps[0]
    try:
        return bool(sub.before == step.before and sub.after == step.after)
    except Exception:  # objects without a plain equality
        return False


def _resultable(d) -> bool:
    """Whether ``problem = result`` reads well as an equation (a scalar problem)."""
    if d.kind == "taylor":  # the polynomial approximates the problem; it does not equal it
        return False
    return isinstance(d.problem, sympy.Expr) and isinstance(d.result, sympy.Expr)


def _problem_label(d) -> str:
    return {"taylor": "Expand"}.get(d.kind, "Find")


def _named_title(d, named):
    """The title with the derivation's named function written by its name (defined below)."""
    title = d.title
    params = getattr(title, "params", None)
    if not named or not params:
        return title
    from .model import Explanation

    return Explanation(title.template, {k: named[0] if _same(v, named[1]) else v
                                        for k, v in params.items()})  # fmt: skip
