"""symml.fit: least squares, the model front end, data validation, FitResult, CLI.

References: closed-form linear regression (normal equations, s^2 (X^T X)^-1, t and F
quantiles), scipy.optimize.curve_fit for a nonlinear model, finite differences for the delta
method, hand computations of AIC/BIC from the RSS.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
import scipy.stats

import symml as sm
from symml.cli import main as cli_main
from symml.cli.fitcmd import read_csv
from symml.fitting.plot import fit_curve_data

RNG = np.random.default_rng(7)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _ols(X, y):
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    r = y - X @ beta
    dof = len(y) - X.shape[1]
    s2 = r @ r / dof
    return beta, np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X))), r @ r, dof


# ---------------------------------------------------------------------------------------
# least squares against closed forms and curve_fit
# ---------------------------------------------------------------------------------------


def test_linear_regression_estimates_and_stderr_closed_form():
    n = 30
    x = RNG.uniform(0, 5, size=n)
    y = 1.5 - 0.8 * x + RNG.normal(0, 0.3, size=n)
    r = sm.fit("param a = 1, b = 1; y ~ a + b*x", {"x": x, "y": y})
    beta, se, rss, dof = _ols(np.column_stack([np.ones(n), x]), y)
    np.testing.assert_allclose([r.params["a"], r.params["b"]], beta, rtol=1e-12)
    np.testing.assert_allclose([r.stderr["a"], r.stderr["b"]], se, rtol=1e-10)
    assert r.rss == pytest.approx(rss, rel=1e-12)
    assert r.dof == dof and r.nobs == n and r.nparams == 2
    # Gaussian log-likelihood with sigma^2 = RSS/n; k = p as statsmodels' OLS counts (R's
    # AIC(lm) counts sigma too: k = p + 1, 2 more)
    loglik = -n / 2 * (math.log(2 * math.pi * rss / n) + 1)
    assert r.loglik == pytest.approx(loglik, rel=1e-12)
    assert r.aic == pytest.approx(2 * 2 - 2 * loglik, rel=1e-12)
    assert r.bic == pytest.approx(2 * math.log(n) - 2 * loglik, rel=1e-12)
    assert r.residuals.shape == (n,)


def test_vector_data_least_squares_matches_normal_equations():
    n, d = 40, 3
    X = RNG.normal(size=(n, d))
    y = X @ [1.0, -2.0, 0.5] + 0.7 + RNG.normal(0, 0.1, size=n)
    r = sm.fit("param c = 1; y ~ dot(w, x) + c", {"x": X, "y": y})
    beta, se, _, _ = _ols(np.column_stack([X, np.ones(n)]), y)
    np.testing.assert_allclose(np.append(r.params["w"], r.params["c"]), beta, rtol=1e-10)
    np.testing.assert_allclose(np.append(r.stderr["w"], r.stderr["c"]), se, rtol=1e-8)


def test_nonlinear_fit_agrees_with_curve_fit():
    x = np.linspace(0, 4, 25)
    y = 2.5 * (1 - np.exp(-1.3 * x)) + RNG.normal(0, 0.05, size=x.size)
    r = sm.fit("y ~ b1*(1 - exp(-b2*x))", {"x": x, "y": y}, p0={"b1": 1, "b2": 1})
    popt, pcov = scipy.optimize.curve_fit(
        lambda x, b1, b2: b1 * (1 - np.exp(-b2 * x)), x, y, p0=[1, 1], xtol=1e-14, ftol=1e-14
    )
    np.testing.assert_allclose(r.x, popt, rtol=1e-7)
    np.testing.assert_allclose(np.asarray(r.cov), pcov, rtol=1e-5)
    assert r.init == {"b1": 1.0, "b2": 1.0}


def test_log_scale_left_side_fits_log_y():
    n = 30
    x = RNG.uniform(0, 3, size=n)
    y = np.exp(0.4 + 0.9 * x + RNG.normal(0, 0.05, size=n))
    r = sm.fit("param a = 1, b = 1; log(y) ~ a + b*x", {"x": x, "y": y})
    beta, se, _, _ = _ols(np.column_stack([np.ones(n), x]), np.log(y))
    np.testing.assert_allclose([r.params["a"], r.params["b"]], beta, rtol=1e-10)
    np.testing.assert_allclose([r.stderr["a"], r.stderr["b"]], se, rtol=1e-8)
    # predictions are on the scale of the left side
    assert r.predict({"x": [1.0]})[0] == pytest.approx(beta[0] + beta[1], rel=1e-10)


def test_weighted_least_squares_matches_closed_form():
    n = 25
    x = RNG.uniform(0, 2, size=n)
    sig = 0.1 + 0.2 * x
    y = 1 + 2 * x + RNG.normal(size=n) * sig
    w = 1 / sig**2
    r = sm.fit("param a = 1, b = 1; y ~ a + b*x", {"x": x, "y": y}, weights=w)
    X = np.column_stack([np.ones(n), x])
    beta = np.linalg.solve((X.T * w) @ X, (X.T * w) @ y)
    res = y - X @ beta
    s2 = (w * res**2).sum() / (n - 2)
    se = np.sqrt(np.diag(s2 * np.linalg.inv((X.T * w) @ X)))
    np.testing.assert_allclose(r.x, beta, rtol=1e-10)
    np.testing.assert_allclose([r.stderr["a"], r.stderr["b"]], se, rtol=1e-8)


def test_program_with_declarations_and_bounds():
    prog = sm.parse("param a = 2, k = 0.5 in [0, 10]\ndata t, y\ny ~ a*exp(-k*t)")
    t = np.linspace(0, 3, 12)
    y = 3 * np.exp(-0.7 * t) + RNG.normal(0, 0.01, size=t.size)
    r = sm.fit(prog, {"t": t, "y": y})
    assert r.init == {"a": 2.0, "k": 0.5}
    popt, _ = scipy.optimize.curve_fit(lambda t, a, k: a * np.exp(-k * t), t, y, p0=[2, 0.5])
    np.testing.assert_allclose(r.x, popt, rtol=1e-6)
    r2 = sm.fit(prog, {"t": t, "y": y}, p0={"k": 1.0})
    assert r2.init["k"] == 1.0 and r2.params["k"] == pytest.approx(popt[1], rel=1e-6)


# ---------------------------------------------------------------------------------------
# intervals and derived quantities
# ---------------------------------------------------------------------------------------


def test_wald_and_profile_equal_t_interval_for_a_linear_model():
    n = 20
    x = np.linspace(0, 1, n)
    y = 0.5 + 1.2 * x + RNG.normal(0, 0.1, size=n)
    r = sm.fit("param a = 1, b = 1; y ~ a + b*x", {"x": x, "y": y})
    beta, se, _, dof = _ols(np.column_stack([np.ones(n), x]), y)
    t = scipy.stats.t.ppf(0.975, dof)
    wald, prof = r.conf_int(0.95), r.conf_int(0.95, method="profile")
    for i, k in enumerate(("a", "b")):
        ref = (beta[i] - t * se[i], beta[i] + t * se[i])
        np.testing.assert_allclose(wald[k], ref, rtol=1e-9)
        np.testing.assert_allclose(prof[k], ref, rtol=1e-7)


def test_profile_contains_centre_and_is_close_to_wald_when_nearly_linear():
    x = np.linspace(0, 4, 200)
    y = 2.0 * np.exp(-0.5 * x) + RNG.normal(0, 0.005, size=x.size)
    r = sm.fit("y ~ a*exp(-k*x)", {"x": x, "y": y}, p0={"a": 1, "k": 1})
    wald, prof = r.conf_int(), r.conf_int(method="profile")
    for k in ("a", "k"):
        centre = sum(wald[k]) / 2
        assert prof[k][0] < centre < prof[k][1]
        width = wald[k][1] - wald[k][0]
        assert abs(prof[k][0] - wald[k][0]) < 0.01 * width
        assert abs(prof[k][1] - wald[k][1]) < 0.01 * width
    # the ends solve the F-test equation
    stat = r.profile("k", [prof["k"][0], prof["k"][1]])
    np.testing.assert_allclose(stat, r.profile_threshold(), rtol=1e-6)
    assert r.profile_threshold() == pytest.approx(scipy.stats.f.ppf(0.95, 1, r.dof))


def test_delta_method_matches_finite_differences():
    x = np.linspace(0, 4, 25)
    y = 2.5 * (1 - np.exp(-1.3 * x)) + RNG.normal(0, 0.05, size=x.size)
    r = sm.fit("param b1 = 1, b2 = 1; y ~ b1*(1 - exp(-b2*x))", {"x": x, "y": y})
    d = r.derived("b1*b2")
    b = r.x
    h = 1e-6
    g = np.array(
        [
            ((b[0] + h) * b[1] - (b[0] - h) * b[1]) / (2 * h),
            (b[0] * (b[1] + h) - b[0] * (b[1] - h)) / (2 * h),
        ]
    )
    assert d.value == pytest.approx(b[0] * b[1], rel=1e-14)
    assert d.stderr == pytest.approx(math.sqrt(g @ np.asarray(r.cov) @ g), rel=1e-8)
    assert d.gradient["b1"] == pytest.approx(b[1], rel=1e-14)
    with pytest.raises(sm.ArgumentError, match="not a parameter"):
        r.derived("b1*z")


# ---------------------------------------------------------------------------------------
# data validation
# ---------------------------------------------------------------------------------------


def test_missing_column():
    # a declared data column must be present; an undeclared name that is not a column is an
    # error too (most often a misspelled column), unless it is declared or given in p0
    with pytest.raises(sm.DataError, match="no column 'x'"):
        sm.fit("data x; param a; y ~ a*x", {"y": [1.0, 2.0], "xx": [1.0, 2.0]})
    with pytest.raises(sm.DataError, match="no column 'y'"):
        sm.fit("data y; param a; y ~ a*x", {"x": [1.0, 2.0]})


def test_columns_of_different_lengths():
    with pytest.raises(sm.DataError, match="'y' has 2 rows, 'x' has 3 rows"):
        sm.fit("param a = 1; y ~ a*x", {"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0]})


def test_nan_and_inf_are_reported_with_rows_and_columns():
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    y = np.array([1.0, np.inf, 3.0, np.nan, 5.1, 6.2])
    with pytest.raises(sm.DataError) as err:
        sm.fit("param a = 1; y ~ a*x", {"x": x, "y": y})
    msg = str(err.value)
    assert "3 of 6 rows" in msg
    assert "column 'x' has NaN in 1 row (row 2)" in msg
    assert "column 'y' has NaN and inf in 2 rows (row 1, 3)" in msg
    assert "missing='drop'" in msg
    r = sm.fit("param a = 1; y ~ a*x", {"x": x, "y": y}, missing="drop")
    assert r.nobs == 3 and r.dropped == 3
    assert "3 rows with NaN/inf dropped" in r.report()
    keep = np.isfinite(x) & np.isfinite(y)
    assert r.params["a"] == pytest.approx((x[keep] @ y[keep]) / (x[keep] @ x[keep]), rel=1e-12)


def test_unused_columns_are_not_checked():
    r = sm.fit(
        "param a = 1; y ~ a*x", {"x": [1.0, 2.0, 3.0], "y": [2.0, 4.1, 5.9], "junk": [np.nan, 1.0]}
    )
    assert r.success


def test_non_numeric_column():
    with pytest.raises(sm.DataError, match="not numeric"):
        sm.fit("param a = 1; y ~ a*x", {"x": ["a", "b"], "y": [1.0, 2.0]})


def test_vector_column_of_wrong_width_for_declaration():
    with pytest.raises(sm.DataError, match=r"shape \(n, 3\)"):
        sm.fit("data x[3]; y ~ dot(w, x)", {"x": np.ones((4, 2)), "y": np.ones(4)})


class _FakeFrame:
    """Duck-typed DataFrame: .columns and frame[name].to_numpy()."""

    class _Col:
        def __init__(self, values):
            self._v = values

        def to_numpy(self):
            return np.asarray(self._v)

    def __init__(self, data):
        self._d = data
        self.columns = list(data)

    def __getitem__(self, name):
        return self._Col(self._d[name])


def test_dataframe_like_input():
    x = np.arange(6.0)
    y = 3 - 0.5 * x + np.array([0.01, -0.02, 0.0, 0.02, -0.01, 0.0])
    r1 = sm.fit("param a = 1, b = 1; y ~ a + b*x", _FakeFrame({"x": x, "y": y}))
    r2 = sm.fit("param a = 1, b = 1; y ~ a + b*x", {"x": x, "y": y})
    np.testing.assert_array_equal(r1.x, r2.x)


def test_bad_data_container():
    with pytest.raises(sm.DataError, match="mapping"):
        sm.fit("y ~ a*x", [[1, 2], [3, 4]])


# ---------------------------------------------------------------------------------------
# the model front end
# ---------------------------------------------------------------------------------------


def test_model_must_have_one_tilde():
    with pytest.raises(sm.FitError, match="exactly one '~'"):
        sm.fit("a*x", {"x": [1.0]})


def test_declared_parameter_not_in_model():
    with pytest.raises(sm.FitError, match="does not depend on the declared parameter 'c'"):
        sm.fit("param a, c; y ~ a*x", {"x": [1.0, 2.0], "y": [1.0, 2.0]})


def test_parameter_that_cancels_is_rejected():
    # d/dc of a*x + c*x - c*x is 0: SymPy cancels it, so c is no parameter at all; a declared
    # c is then reported as unused
    with pytest.raises(sm.FitError, match="'c'"):
        sm.fit("param a, c; y ~ a*x + c*x - c*x", {"x": [1.0, 2.0], "y": [1.0, 2.0]})


def test_left_side_must_be_data():
    with pytest.raises(sm.FitError, match="left side"):
        sm.fit("param a = 1, b = 1; y - a ~ b*x", {"x": [1.0, 2.0], "y": [1.0, 2.0]})


def test_no_parameters():
    with pytest.raises(sm.FitError, match="no parameters"):
        sm.fit("y ~ 2*x", {"x": [1.0, 2.0], "y": [1.0, 2.0]})


def test_p0_and_bounds_name_unknown_parameters():
    data = {"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.1]}
    with pytest.raises(sm.ArgumentError, match="'q'.*not a parameter"):
        sm.fit("param a = 1; y ~ a*x", data, p0={"q": 1})
    with pytest.raises(sm.ArgumentError, match="'q'"):
        sm.fit("param a = 1; y ~ a*x", data, bounds={"q": (0, 1)})
    with pytest.raises(sm.ArgumentError, match="least"):
        sm.fit("param a = 1; y ~ a*x", data, method="bfgs")


def test_singular_jtj_returns_estimates_and_reason():
    r = sm.fit("param a = 1, b = 1; y ~ a*b*x", {"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.1]})
    assert r.params["a"] * r.params["b"] == pytest.approx(14.3 / 14, rel=1e-9)
    assert math.isnan(r.stderr["a"]) and math.isnan(r.stderr["b"])
    assert r.cov_reason
    assert "standard errors undetermined" in r.report()


def test_too_few_rows():
    with pytest.raises(sm.FitError, match="cannot determine"):
        sm.fit("param a = 1, b = 1; y ~ a + b*x", {"x": [1.0], "y": [1.0]})


def test_model_text_errors_are_symml_errors():
    with pytest.raises(sm.SymmlError):
        sm.fit("y ~ a*(x", {"x": [1.0], "y": [1.0]})
    with pytest.raises(sm.ArgumentError):
        sm.fit(42, {"x": [1.0]})


# ---------------------------------------------------------------------------------------
# FitResult printing
# ---------------------------------------------------------------------------------------


def test_report_repr_markdown():
    x = np.linspace(0, 4, 25)
    y = 2.5 * (1 - np.exp(-1.3 * x)) + RNG.normal(0, 0.05, size=x.size)
    r = sm.fit("param b1 = 1, b2 = 1; y ~ b1*(1 - exp(-b2*x))", {"x": x, "y": y})
    rep = r.report()
    for section in ("[[Model]]", "[[Fit Statistics]]", "[[Variables]]", "[[Correlations]]"):
        assert section in rep
    assert "C(b1, b2)" in rep and "rel. error" in rep and "Akaike" in rep
    rows = [ln for ln in rep.splitlines() if ln.strip().startswith(("b1 ", "b2 "))]
    assert len(rows) == 2 and len(rows[0]) == len(rows[1])  # aligned table
    text = repr(r)
    assert text.startswith("FitResult(least squares")
    assert "b1=" in text
    md = r._repr_markdown_()
    assert "| `b1` |" in md and "AIC" in md


# ---------------------------------------------------------------------------------------
# command line, CSV, plot
# ---------------------------------------------------------------------------------------


def test_cli_fit_decay_example(capsys):
    code = cli_main(
        [
            "fit",
            str(EXAMPLES / "decay.sml"),
            "--data",
            str(EXAMPLES / "decay.csv"),
            "--conf-int",
            "wald",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "[[Variables]]" in out and "[[Confidence intervals]]" in out
    # the same fit through the Python API, against curve_fit
    cols = read_csv(EXAMPLES / "decay.csv")
    popt, _ = scipy.optimize.curve_fit(
        lambda t, a, k, c: a * np.exp(-k * t) + c, cols["t"], cols["y"], p0=[5, 1, 0]
    )
    r = sm.fit((EXAMPLES / "decay.sml").read_text(), cols)
    np.testing.assert_allclose(r.x, popt, rtol=1e-6)
    assert f"{r.params['k']:.6g}" in out


def test_cli_errors_are_reported(tmp_path, capsys):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("t,y\n0,1\n1,oops\n")
    code = cli_main(["fit", str(EXAMPLES / "decay.sml"), "--data", str(csv_path)])
    err = capsys.readouterr().err
    assert code == 1 and "line 3, column 'y'" in err and "not a number" in err


def test_read_csv_vector_columns_and_missing(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("# comment\ny,x[1],x[0]\n1,2,3\nNA,5,6\n")
    cols = read_csv(p)
    np.testing.assert_array_equal(cols["x"], [[3, 2], [6, 5]])
    assert np.isnan(cols["y"][1])
    p.write_text("y,x[0],x[2]\n1,2,3\n")
    with pytest.raises(sm.DataError, match="no gaps"):
        read_csv(p)


def test_cli_plot(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "fit.png"
    code = cli_main(
        [
            "fit",
            str(EXAMPLES / "decay.sml"),
            "--data",
            str(EXAMPLES / "decay.csv"),
            "--plot",
            str(out),
        ]
    )
    assert code == 0 and out.stat().st_size > 1000


def test_plot_data_without_matplotlib():
    x = np.linspace(0, 2, 10)
    r = sm.fit(
        "param a = 1, k = 1; y ~ a*exp(-k*x)", {"x": x, "y": 2 * np.exp(-x) + 0.01 * np.sin(7 * x)}
    )
    d = fit_curve_data(r)
    np.testing.assert_allclose(d["observed"] - d["fitted"], d["residuals"])
    np.testing.assert_allclose(d["fitted"], r.params["a"] * np.exp(-r.params["k"] * x), rtol=1e-12)
    assert d["x_name"] == "x" and d["curve"].shape == (200,)


def test_cli_plot_without_matplotlib_is_a_clear_error(tmp_path, capsys):
    import importlib.util

    if importlib.util.find_spec("matplotlib") is not None:
        pytest.skip("matplotlib is installed: test_cli_plot covers --plot")
    code = cli_main(
        [
            "fit",
            str(EXAMPLES / "decay.sml"),
            "--data",
            str(EXAMPLES / "decay.csv"),
            "--plot",
            str(tmp_path / "fit.png"),
        ]
    )
    assert code == 1 and "pip install symml[plot]" in capsys.readouterr().err
