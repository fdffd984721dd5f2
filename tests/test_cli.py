"""The symml command: results in the language's syntax, LaTeX on request, clean errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sympy

import symml as sm
from symml.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_diff_prints_language_syntax_that_parses_back(capsys):
    code, out, _ = run(capsys, "diff", "x^2*sin(x)", "x")
    assert code == 0
    assert out == "x^2*cos(x) + 2*x*sin(x)"
    assert sm.expr(out) == sympy.diff(sm.expr("x^2*sin(x)"), sm.expr("x"))


def test_second_derivative_order(capsys):
    _, out, _ = run(capsys, "diff", "x^4", "x", "2")
    assert sm.expr(out) == sm.expr("12*x^2")


def test_hessian_latex(capsys):
    code, out, _ = run(capsys, "hessian", "log(1 + exp(w1*x1 + w2*x2))", "w1", "w2", "--latex")
    assert code == 0
    assert out.startswith(r"\left[\begin{matrix}")
    assert "w_{1}" in out and "x_{2}" in out


def test_taylor(capsys):
    _, out, _ = run(capsys, "taylor", "exp(x)*cos(y)", "--at", "x=0", "y=0", "--order", "3")
    t = sympy.Symbol("t")
    x, y = sm.expr("x"), sm.expr("y")
    ref = sympy.series(sympy.exp(t * x) * sympy.cos(t * y), t, 0, 4).removeO().subs(t, 1)
    assert sympy.expand(sm.expr(out) - ref) == 0


def test_grad_jacobian_integrate_simplify(capsys):
    _, out, _ = run(capsys, "grad", "x^2*y", "x", "y")
    assert sm.expr(out) == sympy.Matrix(sm.expr("[2*x*y, x^2]"))
    _, out, _ = run(capsys, "jacobian", "[x*y, x + y]", "x", "y")
    assert sm.expr(out) == sympy.Matrix([[sm.expr("y"), sm.expr("x")], [1, 1]])
    _, out, _ = run(capsys, "integrate", "x*exp(-x)", "x", "--from", "0", "--to", "inf")
    assert out == "1"
    _, out, _ = run(capsys, "simplify", "sin(x)^2 + cos(x)^2")
    assert out == "1"


def test_errors_are_clean(capsys):
    code, out, err = run(capsys, "diff", "sinn(x)", "x")
    assert code == 1 and out == ""
    assert "did you mean 'sin'" in err and "Traceback" not in err
    code, _, err = run(capsys, "diff", "x^2 +", "x")
    assert code == 1 and "line 1, column" in err and "^" in err
    code, _, err = run(capsys, "taylor", "exp(x)", "--at", "x")
    assert code == 1 and "name=value" in err


def test_run_quickstart(capsys):
    code, out, _ = run(capsys, "run", str(ROOT / "examples" / "quickstart.sml"))
    assert code == 0
    assert ">>> hessian(f, [x, y])" in out
    # the compiled evaluation of f at (0.5, 0.25): (1 - 0.5)^2 + 100*(0.25 - 0.25)^2 = 0.25
    assert out.rstrip().splitlines()[-1] == "0.25"


def test_run_logistic_example(capsys):
    code, out, _ = run(capsys, "run", str(ROOT / "examples" / "logistic.sml"))
    assert code == 0
    assert "x[0]*(-y + sigmoid(w[0]*x[0] + w[1]*x[1] + w[2]*x[2] + b))" in out


def test_missing_file(capsys):
    code, _, err = run(capsys, "run", "no/such/file.sml")
    assert code == 1 and "no such file" in err


def test_python_dash_m_entry_point():
    r = subprocess.run(
        [sys.executable, "-m", "symml", "diff", "x^3", "x"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "3*x^2"
