"""NIST StRD nonlinear regression: all 27 problems from both certified starts (54 fits).

The data are read from ``$SYMML_NIST_DIR`` or ``<repo>/../shared/data/nist_strd`` (never copied
into the repository); without them these tests are skipped with the reason.

Independent references: NIST's certified values, standard deviations and residual sums of
squares (128-bit computations by NIST), and an mpmath evaluation written here.
"""

from __future__ import annotations

from functools import cache

import mpmath
import numpy as np
import pytest
import sympy as sp

from symml.errors import DataError
from symml.fitting.nist import (
    PROBLEM_NAMES,
    NistProblem,
    digits,
    fit_problem,
    load_problem,
    markdown_table,
    nist_dir,
)

NIST = nist_dir()
pytestmark = pytest.mark.skipif(
    not NIST.is_dir(),
    reason=f"NIST StRD data not found at {NIST}; set SYMML_NIST_DIR to the folder of .dat files",
)

FITS = [(name, start) for name in PROBLEM_NAMES for start in (1, 2)]


@cache
def problem(name: str) -> NistProblem:
    return load_problem(NIST / f"{name}.dat")


def _rss_mp(prob: NistProblem, params) -> mpmath.mpf:
    """Residual sum of squares in mpmath, row by row, from the file's decimal strings."""
    syms = prob.data_symbols
    f = sp.lambdify([*prob.params, *syms.values()], prob.residual, modules="mpmath")
    cols = [prob.data_text[c] for c in syms]
    with mpmath.workdps(40):
        pm = [mpmath.mpf(str(v)) for v in params]
        return mpmath.fsum(f(*pm, *[mpmath.mpf(c[i]) for c in cols]) ** 2 for i in range(prob.nobs))


def test_folder_has_all_27_problems():
    assert sorted(p.stem for p in NIST.glob("*.dat")) == sorted(PROBLEM_NAMES)


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_reader(name):
    prob = problem(name)
    p = len(prob.params)
    assert prob.name == name
    assert [str(b) for b in prob.params] == [f"b{i}" for i in range(1, p + 1)]
    assert all(s.shape == (p,) for s in prob.starts)
    assert prob.certified.shape == prob.certified_stderr.shape == (p,)
    assert all(len(col) == prob.nobs for col in prob.data.values())
    # Rat43.dat prints 9 degrees of freedom although n - p = 11; its certified residual
    # standard deviation (28.262414662 = sqrt(8786.404908 / 11)) uses 11.
    dof = prob.nobs - p
    assert prob.dof == (9 if name == "Rat43" else dof)
    # The residual uses exactly the parameters and the data columns (y is on the left side).
    free = {s.name for s in prob.residual.free_symbols}
    assert free == {str(b) for b in prob.params} | set(prob.data)
    assert np.isclose(prob.certified_rsd**2 * dof, prob.certified_rss, rtol=1e-9)


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_formula_reproduces_certified_rss(name):
    """The translated formula, evaluated at the certified values, gives the certified RSS.

    This checks the text -> SymPy translation of every model independently of the solver.
    Certified values are rounded to 11 digits, which moves the RSS by at most a few 1e-22
    relative to y^2 per row (that matters only for Lanczos1, whose RSS is 1.4e-25).
    """
    prob = problem(name)
    rss = float(_rss_mp(prob, prob.certified))
    ymax = max(abs(v) for v in prob.data["y"])
    slack = prob.nobs * (2e-10 * ymax) ** 2
    assert abs(rss - prob.certified_rss) <= 1e-8 * prob.certified_rss + slack


def test_specific_translations():
    x, y = sp.symbols("x y", real=True)
    b = sp.symbols("b1:5", real=True)
    assert sp.simplify(problem("BoxBOD").rhs - b[0] * (1 - sp.exp(-b[1] * x))) == 0
    assert problem("Nelson").lhs == sp.log(y)
    ros = problem("Roszman1")
    assert sp.simplify(ros.rhs - (b[0] - b[1] * x - sp.atan(b[2] / (x - b[3])) / sp.pi)) == 0
    misra1c = problem("Misra1c")
    assert sp.simplify(misra1c.rhs - b[0] * (1 - 1 / sp.sqrt(1 + 2 * b[1] * x))) == 0


@pytest.mark.parametrize("name,start", FITS, ids=[f"{n}-start{s}" for n, s in FITS])
def test_nist_fit(name, start):
    """Estimates to >= 6 significant digits, standard errors to >= 4, success reported."""
    prob = problem(name)
    sol = fit_problem(prob, start)
    est = digits(sol.x, prob.certified)
    se = digits(sol.stderr, prob.certified_stderr)
    assert sol.success, sol.message
    assert np.min(est) >= 6.0, f"estimate digits {est}"
    assert np.min(se) >= 4.0, f"std-error digits {se}"
    assert digits(sol.rss, prob.certified_rss) >= 6.0
    assert sol.dof == prob.nobs - len(prob.params)
    assert sol.cov is not None and np.allclose(np.sqrt(np.diag(sol.cov)), sol.stderr)


def test_lanczos1_rss_in_extended_precision():
    """Lanczos1's residuals are round-off of 14-digit data: the RSS (1.4e-25) and hence the
    standard errors need the residuals in extended precision; double precision gets the RSS
    wrong in its leading digit."""
    prob = problem("Lanczos1")
    sol = fit_problem(prob, 2)
    assert digits(sol.rss, prob.certified_rss) >= 6.0
    # independent: our own mpmath loop at the returned estimates
    assert abs(sol.rss - float(_rss_mp(prob, sol.x))) <= 1e-6 * prob.certified_rss
    r = prob.data["y"] - sp.lambdify([*prob.params, sp.Symbol("x", real=True)], prob.rhs, "numpy")(
        *sol.x, prob.data["x"]
    )
    assert digits(float(np.sum(r**2)), prob.certified_rss) < 3.0


def test_digits():
    assert digits(1.0, 1.0) == 11.0
    assert digits(1.001, 1.0) == pytest.approx(3.0)
    assert digits(-2.5e-9, -2.5000001e-9) == pytest.approx(7.4, abs=0.05)
    assert digits(np.nan, 1.0) == 0.0
    assert digits(5.0, 1.0) == 0.0  # wrong in the leading digit: clipped at 0


def test_markdown_table_summary():
    rows = [
        dict(problem="A", difficulty="lower", start=1, p=2, n=3, est_digits=8.0, se_digits=5.0,
             rss_digits=9.0, success=True, nfev=3, njev=2, seconds=0.1, method="lm"),
        dict(problem="A", difficulty="lower", start=2, p=2, n=3, est_digits=10.0, se_digits=3.0,
             rss_digits=9.0, success=False, nfev=3, njev=2, seconds=0.1, method="lm"),
    ]  # fmt: skip
    text = markdown_table(rows)
    assert "| A | lower | 2 | 2 | 3 | 10.0 | 3.0 | 9.0 | NO |" in text
    assert "estimates min 8.0 / median 9.0 digits, 2 of 2 reach 6" in text
    assert "std errors min 3.0 / median 4.0 digits, 1 of 2 reach 4" in text


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="SYMML_NIST_DIR"):
        load_problem(tmp_path / "Nope.dat")
    bad = tmp_path / "Bad.dat"
    bad.write_text("not a NIST file\n")
    with pytest.raises(DataError, match="not a NIST StRD"):
        load_problem(bad)
    # a real file with its model formula removed
    lines = (NIST / "Misra1a.dat").read_text().splitlines()
    cut = tmp_path / "Cut.dat"
    cut.write_text("\n".join(ln if "y = b1" not in ln else "" for ln in lines) + "\n")
    with pytest.raises(DataError, match="no model formula"):
        load_problem(cut)


HARD = ["MGH09", "MGH10", "Bennett5", "Eckerle4", "BoxBOD", "MGH17"]


@pytest.mark.parametrize("name", HARD)
def test_hard_starts_without_the_polish(name, monkeypatch):
    """The double-precision stage alone (tight retries when the polish is unavailable) still
    reaches 6 digits from start 1; the polish is a refinement, not a crutch."""
    from symml.fitting import lsq

    monkeypatch.setattr(lsq, "_polish", lambda *args, **kwargs: None)
    prob = problem(name)
    sol = fit_problem(prob, 1)
    assert sol.success and not sol.polished, sol.message
    assert np.min(digits(sol.x, prob.certified)) >= 6.0


def test_command_line(capsys):
    from symml.fitting.nist import main

    assert main(["--table", "BoxBOD", "Misra1a"]) == 0
    out = capsys.readouterr().out
    assert out.count("| BoxBOD | higher |") == 2 and "4 fits: estimates min" in out
    assert main(["DanWood"]) == 0
    assert capsys.readouterr().out.startswith("2 fits:")
    with pytest.raises(SystemExit):
        main(["NoSuchProblem"])
