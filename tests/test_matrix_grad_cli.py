"""``symml matrix-grad`` and ``symml steps matrix-grad``."""

from __future__ import annotations

import sympy

import symml as sm
from symml.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_matrix_grad_prints_the_closed_form(capsys):
    code, out, _ = run(capsys, "matrix-grad", "matrix A[n, n]; vector x[n]; x'*A*x", "x")
    assert code == 0 and out.strip() == "(A + A')*x"
    # the printed form parses back to the Python API's answer
    prog = sm.parse("matrix A[n, n]\nvector x[n]")
    ns = {**prog.matrix_symbols, **prog.sizes}
    want = sm.matrix_grad("matrix A[n, n]; vector x[n]; x'*A*x", "x")
    assert sympy.simplify((sm.expr(out.strip(), namespace=ns) - want).doit()).is_ZeroMatrix


def test_decl_option_and_latex(capsys):
    code, out, _ = run(capsys, "matrix-grad", "log(det(X))", "X", "--decl", "matrix X[n, n]",
                       "--latex")  # fmt: skip
    assert code == 0 and out.strip() == r"\left(X^{T}\right)^{-1}"  # X^-T, hand-checked


def test_steps_form_verifies_and_renders(capsys):
    args = ["steps", "matrix-grad", "norm(M*w - y)^2", "w", "--decl",
            "matrix M[m, n]; vector w[n], y[m]", "--verify"]  # fmt: skip
    code, out, _ = run(capsys, *args)
    assert code == 0 and "Result: d/dw[" in out and "2*M'*(M*w - y)" in out
    code, md, _ = run(capsys, *args, "--format", "md")
    assert code == 0 and "$$" in md
    code, tex, _ = run(capsys, *args, "--format", "latex", "--standalone")
    assert code == 0 and "\\begin{document}" in tex


def test_errors_are_one_line(capsys):
    code, out, err = run(capsys, "matrix-grad", "x'*x", "z", "--decl", "vector x[n]")
    assert code == 1 and out == ""
    assert err.startswith("symml: error:") and "'z' is not a matrix symbol" in err
    code, _, err = run(capsys, "matrix-grad", "A*x", "x", "--decl", "matrix A[n, n]; vector x[n]")
    assert code == 1 and "scalar function" in err
