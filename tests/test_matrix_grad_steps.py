"""steps.matrix_grad: typed-rule derivations of gradients in matrix symbols.

Each derivation's result must equal symml.matrix_grad's and SymPy's element-wise
derivative (sympy.diff of the explicit function at concrete sizes); verify() must pass, and
must fail when a step is tampered with; every detail level renders in text, Markdown and
LaTeX.
"""

from __future__ import annotations

import pytest
import sympy
from sympy import MatrixSymbol

import symml as sm
from symml.errors import ArgumentError, VerificationError
from symml.steps.model import DETAIL_LEVELS
from tests.test_lang_matrix import COOKBOOK, DECL, A, M, X, b, explicit_check, n, w, x, y  # noqa: F401


@pytest.mark.parametrize("text, V, closed", COOKBOOK)
def test_derivation_result_is_the_cookbook_gradient(text, V, closed):
    d = sm.steps.matrix_grad(DECL + text, V.name)
    assert d.kind == "matrix_grad"
    assert d.result == sm.matrix_grad(DECL + text, V.name)
    f = sm.parse(DECL + "f = " + text)["f"]
    explicit_check(f, V, d.result)  # SymPy's element-wise derivative
    assert d.verify()


def test_quadratic_form_rules_and_detail_levels():
    d = sm.steps.matrix_grad("matrix A[n, n]; vector x[n]; x'*A*x", "x")
    assert d.rules() == ["form", "product", "transpose", "variable", "variable"]
    assert sm.to_text(d.result) == "(A + A')*x"
    texts = {level: " ".join(d.to_text(detail=level).split()) for level in DETAIL_LEVELS}
    assert len(texts["brief"]) < len(texts["textbook"]) < len(texts["full"])
    assert "Product rule for traces" in texts["textbook"]
    assert "Product rule for traces" not in texts["brief"]
    assert "held fixed" in texts["full"]
    md, tex = d.to_markdown(), d.to_latex(standalone=True)
    assert "$$" in md and "\\frac{\\partial}{\\partial x}" in md
    assert tex.startswith("\\documentclass") and "\\end{document}" in tex


def test_log_det_uses_jacobi_and_the_chain_rule():
    d = sm.steps.matrix_grad("matrix X[n, n]; log(det(X))", "X")
    assert d.rules()[:2] == ["chain", "det"]
    assert d.result == X.T.I
    assert "Jacobi" in d.to_text()


def test_verify_catches_a_wrong_step():
    d = sm.steps.matrix_grad("matrix A[n, n]; vector x[n]; x'*A*x", "x")
    step = next(s for _, s in d.walk() if s.rule == "product")
    step.after = 2 * A * x  # right only for symmetric A
    with pytest.raises(VerificationError, match="product"):
        d.verify()


def test_verify_catches_a_wrong_result():
    d = sm.steps.matrix_grad("matrix X[n, n]; trace(X*X)", "X")
    d.result = 2 * X
    with pytest.raises(VerificationError, match="result"):
        d.verify()


def test_sympy_objects():
    nn = sympy.Symbol("n", integer=True, positive=True)
    Q = MatrixSymbol("Q", nn, nn)
    f = sympy.Trace(Q) + sympy.Trace(Q * Q)
    d = sm.steps.matrix_grad(f, Q)
    assert d.verify()
    assert d.result == sm.matrix_grad(f, Q)
    explicit_check(f.subs(nn, n).xreplace({Q.subs(nn, n): X}), X, d.result.xreplace({Q: X}))


def test_bad_input():
    with pytest.raises(ArgumentError, match="scalar function"):
        sm.steps.matrix_grad("matrix A[n, n]; vector x[n]; A*x", "x")
    with pytest.raises(ArgumentError, match="not a matrix symbol"):
        sm.steps.matrix_grad("matrix A[n, n]; vector x[n]; x'*A*x", "y")
