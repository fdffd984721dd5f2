"""Command-line conventions: negative values are values, a .sml argument is a file (a
missing one says so), models inline, ``minimize --data``, divergent integrals, the default
simplification and ``--no-simplify``."""

from __future__ import annotations

import math
import re

import mpmath
import numpy as np
import pytest
import sympy

import symml as sm
from symml.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_minus_inf_and_negative_numbers_are_values(capsys):
    code, out, err = run(capsys, "integrate", "exp(-x^2)", "x", "--from", "-inf", "--to", "inf")
    assert code == 0, err
    assert sm.expr(out) == sympy.sqrt(sympy.pi)
    assert (
        abs(
            float(sm.expr(out))
            - float(mpmath.quad(lambda t: mpmath.exp(-t * t), [-mpmath.inf, mpmath.inf]))
        )
        < 1e-12
    )
    code, out, _ = run(capsys, "integrate", "x", "x", "--from", "-2", "--to", "-1/2")
    assert code == 0 and sm.expr(out) == sympy.Rational(1, 8) - 2
    code, out, _ = run(capsys, "limit", "exp(x)", "x", "-inf")
    assert code == 0 and out == "0"
    code, out, _ = run(capsys, "limit", "x/(x + 2)", "x", "-2*pi")
    assert code == 0 and sm.expr(out) == sympy.limit(
        sm.expr("x/(x+2)"), sm.expr("x"), -2 * sympy.pi
    )


def test_negative_start_values_and_expressions(capsys):
    code, out, err = run(capsys, "minimize", "(x + 3)^2", "--x0", "x=-1")
    assert code == 0, err
    assert re.search(r"x = -3\b", out)
    code, out, _ = run(capsys, "diff", "-x^3", "x")  # an expression starting with '-'
    assert code == 0 and sm.expr(out) == -3 * sm.expr("x") ** 2


def test_options_still_work_and_unknown_double_dash_options_are_errors(capsys):
    with pytest.raises(SystemExit):
        main(["diff", "x^2", "x", "--nonsense"])
    capsys.readouterr()
    code, out, _ = run(capsys, "minimize", "x*y", "--x0", "x=1", "y=0", "--method", "slsqp",
                       "-c", "x^2 + y^2 == 1")  # fmt: skip
    assert code == 0 and "objective = -0.5" in out


def test_divergent_integral_says_so_and_fails(capsys):
    code, out, err = run(capsys, "integrate", "1/x", "x", "--from", "-1", "--to", "1")
    assert code == 1 and out == ""
    assert "diverges" in err and "x = 0" in err
    # the reference: each half diverges (SymPy's own definite integral)
    x = sm.expr("x")
    assert sympy.integrate(1 / x, (x, 0, 1)) is sympy.oo


def test_divergence_at_infinity_and_convergent_cases_are_not_flagged():
    from symml.cli._diverge import divergence_message

    assert divergence_message("1/x^2", "x", "-1", "1") is not None
    assert divergence_message("1/sqrt(abs(x))", "x", "-1", "1") is None  # integrable: 4
    assert divergence_message("1/(1 + x^2)", "x", "-inf", "inf") is None


def test_missing_sml_file_is_named_not_parsed(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "minimize", "missing.sml")
    assert code == 1 and "no such objective file: missing.sml" in err
    assert "parse" not in err.lower() and "column" not in err
    (tmp_path / "d.csv").write_text("x,y\n1,2\n")
    code, _, err = run(capsys, "fit", "model.sml", "--data", "d.csv")
    assert code == 1 and "no such model file: model.sml" in err
    code, _, err = run(capsys, "run", "nothere.sml")
    assert code == 1 and "no such file" in err


def test_sml_file_objective_still_read(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "obj.sml").write_text("param a = -1\nloss = (a - 2)^2\n")
    code, out, err = run(capsys, "minimize", "obj.sml")
    assert code == 0, err
    assert re.search(r"a = 2\b", out)


def _write_decay(tmp_path):
    t = np.linspace(0, 5, 12)
    y = 2.0 * np.exp(-0.6 * t) + 0.9 + 0.01 * np.sin(7 * t)
    lines = ["t,y"] + [f"{float(a)!r},{float(b)!r}" for a, b in zip(t, y, strict=True)]
    (tmp_path / "f.csv").write_text("\n".join(lines) + "\n")
    return t, y


def test_fit_with_an_inline_model(capsys, tmp_path, monkeypatch):
    from scipy.optimize import curve_fit

    monkeypatch.chdir(tmp_path)
    t, y = _write_decay(tmp_path)
    code, out, err = run(capsys, "fit", "y ~ A*exp(-k*t) + c", "--data", "f.csv",
                         "--p0", "A=1", "k=1", "c=0")  # fmt: skip
    assert code == 0, err
    ref, _ = curve_fit(lambda t, A, k, c: A * np.exp(-k * t) + c, t, y, p0=[1, 1, 0])
    got = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\s+(A|k|c)\s+(\S+)", out, re.M)}
    assert got.keys() == {"A", "k", "c"}
    for name, r in zip("Akc", ref, strict=True):
        assert math.isclose(got[name], r, rel_tol=1e-5)


def test_minimize_with_data(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    y = 1.5 * x - 0.5 + 0.1 * rng.normal(size=30)
    (tmp_path / "p.csv").write_text(
        "x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y, strict=True))
    )
    code, out, err = run(capsys, "minimize", "(a*x + b - y)^2", "--data", "p.csv",
                         "--x0", "a=0", "b=0")  # fmt: skip
    assert code == 0, err
    ref = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]
    got = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\s+(a|b) = (\S+)", out, re.M)}
    assert abs(got["a"] - ref[0]) < 1e-3 and abs(got["b"] - ref[1]) < 1e-3


def test_default_simplification_and_no_simplify(capsys):
    x = sm.expr("x")
    code, out, _ = run(capsys, "diff", "(-x - 1)*exp(-x)", "x")
    assert code == 0 and out == "x*exp(-x)"
    assert sm.expr(out) == sympy.diff((-x - 1) * sympy.exp(-x), x).simplify()
    _, raw, _ = run(capsys, "diff", "(-x - 1)*exp(-x)", "x", "--no-simplify")
    assert raw != out and sympy.simplify(sm.expr(raw) - sm.expr(out)) == 0
    _, out, _ = run(capsys, "hessian", "log(1 + exp(z))", "z")
    assert "sigmoid(z)" in out and "exp" not in out
    z = sm.expr("z")
    ref = sympy.diff(sympy.log(1 + sympy.exp(z)), z, 2)
    assert sympy.simplify(sm.expr(out)[0].rewrite(sympy.exp) - ref) == 0
