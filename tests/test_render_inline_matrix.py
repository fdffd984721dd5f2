"""A short step set inline in LaTeX keeps its matrix's column separators (only the single
alignment ``&`` of its row is dropped): ``2 & 1 \\\\ 1 & 2`` once lost its ``&``s."""

from __future__ import annotations

import sympy

from symml.steps.model import Derivation, Step
from symml.steps.render_latex import _drop_alignment


def test_inline_step_keeps_matrix_columns():
    m = sympy.ImmutableMatrix([[2, 1], [1, 2]])
    a = sympy.Symbol("A")
    step = Step(rule="assemble", before=a, after=m, explanation="Assemble the entries.")
    d = Derivation(title="A matrix", kind="demo", problem=a, steps=[step], result=m)
    tex = d.to_latex(detail="textbook")
    (inline,) = [ln for ln in tex.splitlines() if r"\textbf{1.}" in ln]  # the step, in its sentence
    assert r"\(\displaystyle A = " in inline
    assert r"2 & 1\\1 & 2" in inline


def test_drop_alignment_removes_exactly_one_marker():
    assert _drop_alignment(r"A &= \begin{matrix}2 & 1\end{matrix}") == (
        r"A = \begin{matrix}2 & 1\end{matrix}"
    )
    assert _drop_alignment(r"& \begin{matrix}2 & 1\end{matrix}") == r"\begin{matrix}2 & 1\end{matrix}"
    assert _drop_alignment(r"&= 3") == "= 3"
