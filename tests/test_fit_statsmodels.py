"""Fit reports against statsmodels on the same fits (the ``reference`` extra).

R-squared and adjusted R-squared, log-likelihood, AIC, BIC, standard errors, t / z statistics,
p-values, Wald intervals and prediction intervals of symml's fits are compared with
statsmodels' OLS, WLS, Logit and Poisson GLM on identical data. statsmodels solves these
linear models in closed form or by IRLS, independently of symml's exact-derivative engines.
"""

from __future__ import annotations

import numpy as np
import pytest

import symml as sm

smapi = pytest.importorskip("statsmodels.api")
pd = pytest.importorskip("pandas")

RNG = np.random.default_rng(12)


def _close(ours, theirs, rtol=1e-7, atol=1e-10):
    np.testing.assert_allclose(
        np.asarray(ours, dtype=float), np.asarray(theirs), rtol=rtol, atol=atol
    )


def _flat(d, names):
    return np.array([d[n] for n in names], dtype=float)


@pytest.fixture(scope="module")
def ols_data():
    n = 60
    x1 = RNG.uniform(0, 4, n)
    x2 = RNG.normal(size=n)
    y = 0.7 + 1.3 * x1 - 0.4 * x2 + RNG.normal(0, 0.6, n)
    return x1, x2, y


def test_ols_statistics_match_statsmodels(ols_data):
    x1, x2, y = ols_data
    r = sm.fit("param c, b1, b2; y ~ c + b1*x1 + b2*x2", {"x1": x1, "x2": x2, "y": y})
    o = smapi.OLS(y, np.column_stack([np.ones_like(x1), x1, x2])).fit()
    names = ["c", "b1", "b2"]
    _close(_flat(r.params, names), o.params, rtol=1e-10)
    _close(_flat(r.stderr, names), o.bse, rtol=1e-9)
    _close(_flat(r.tvalues, names), o.tvalues, rtol=1e-9)
    _close(_flat(r.pvalues, names), o.pvalues, rtol=1e-6, atol=1e-300)
    assert r.rsquared == pytest.approx(o.rsquared, rel=1e-12)
    assert r.rsquared_adj == pytest.approx(o.rsquared_adj, rel=1e-12)
    assert r.loglik == pytest.approx(o.llf, rel=1e-12)
    assert r.llf == r.loglik
    assert r.aic == pytest.approx(o.aic, rel=1e-12)
    assert r.bic == pytest.approx(o.bic, rel=1e-12)
    ci = r.conf_int()
    _close([ci[n] for n in names], o.conf_int(0.05), rtol=1e-9)


def test_predict_intervals_match_statsmodels(ols_data):
    x1, x2, y = ols_data
    r = sm.fit("param c, b1, b2; y ~ c + b1*x1 + b2*x2", {"x1": x1, "x2": x2, "y": y})
    o = smapi.OLS(y, np.column_stack([np.ones_like(x1), x1, x2])).fit()
    new = {"x1": np.array([0.0, 2.5, 6.0]), "x2": np.array([1.0, -0.5, 2.0])}
    frame = o.get_prediction(np.column_stack([np.ones(3), new["x1"], new["x2"]])).summary_frame(
        alpha=0.10
    )
    conf = r.predict(new, interval="confidence", level=0.90)
    pred = r.predict(new, interval="prediction", level=0.90)
    _close(conf.mean, frame["mean"], rtol=1e-10)
    _close(conf.stderr, frame["mean_se"], rtol=1e-9)
    _close(conf.lower, frame["mean_ci_lower"], rtol=1e-9)
    _close(conf.upper, frame["mean_ci_upper"], rtol=1e-9)
    _close(pred.lower, frame["obs_ci_lower"], rtol=1e-9)
    _close(pred.upper, frame["obs_ci_upper"], rtol=1e-9)
    mean, lo, hi = pred
    assert np.all(lo < mean) and np.all(mean < hi)


def test_vector_model_from_dataframe_columns_matches_statsmodels(ols_data):
    # a model written with dot(w, x), data as DataFrame columns x[0], x[1] (or x_0, x_1)
    x1, x2, y = ols_data
    o = smapi.OLS(y, np.column_stack([x1, x2, np.ones_like(x1)])).fit()
    for cols in (("x[0]", "x[1]"), ("x_0", "x_1")):
        frame = pd.DataFrame({cols[0]: x1, cols[1]: x2, "y": y})
        r = sm.fit("param c; y ~ dot(w, x) + c", frame)
        assert r.names == ["w[0]", "w[1]", "c"]
        _close(r.x, o.params, rtol=1e-10)
        _close(r.stderr_flat, o.bse, rtol=1e-9)
        _close(r.tvalues["w"], o.tvalues[:2], rtol=1e-9)
        assert r.rsquared == pytest.approx(o.rsquared, rel=1e-12)
        pm = r.predict(pd.DataFrame({cols[0]: [1.0], cols[1]: [2.0]}), interval="confidence")
        ref = o.get_prediction(np.array([[1.0, 2.0, 1.0]])).summary_frame()
        _close(pm.stderr, ref["mean_se"], rtol=1e-9)
    # the same with a 2-D array for x
    r = sm.fit("param c; y ~ dot(w, x) + c", {"x": np.column_stack([x1, x2]), "y": y})
    _close(r.x, o.params, rtol=1e-10)


def test_weighted_least_squares_matches_wls(ols_data):
    x1, _, y = ols_data
    w = RNG.uniform(0.5, 2.0, len(y))
    r = sm.fit("param a, b; y ~ a + b*x", {"x": x1, "y": y}, weights=w)
    o = smapi.WLS(y, np.column_stack([np.ones_like(x1), x1]), weights=w).fit()
    _close(_flat(r.params, "ab"), o.params, rtol=1e-10)
    _close(_flat(r.stderr, "ab"), o.bse, rtol=1e-9)
    assert r.rsquared == pytest.approx(o.rsquared, rel=1e-10)
    assert r.rsquared_adj == pytest.approx(o.rsquared_adj, rel=1e-10)
    assert r.loglik == pytest.approx(o.llf, rel=1e-10)
    assert r.aic == pytest.approx(o.aic, rel=1e-10)


def test_nonlinear_least_squares_linear_in_disguise():
    # y ~ exp(a) * exp(b*x)... written nonlinearly but equal to OLS on log scale:
    # log(y) ~ a + b*x is fitted by the nonlinear engine and compared with OLS
    n = 40
    x = RNG.uniform(0, 2, n)
    y = np.exp(0.3 + 0.8 * x + RNG.normal(0, 0.1, n))
    r = sm.fit("log(y) ~ log(exp(a)*exp(b*x))", {"x": x, "y": y}, p0={"a": 0.0, "b": 0.0})
    o = smapi.OLS(np.log(y), np.column_stack([np.ones(n), x])).fit()
    _close(_flat(r.params, "ab"), o.params, rtol=1e-9)
    _close(_flat(r.stderr, "ab"), o.bse, rtol=1e-8)
    _close(_flat(r.pvalues, "ab"), o.pvalues, rtol=1e-6, atol=1e-300)
    assert r.rsquared == pytest.approx(o.rsquared, rel=1e-10)
    assert r.aic == pytest.approx(o.aic, rel=1e-10)


def test_logistic_regression_matches_logit():
    n = 400
    X = RNG.normal(size=(n, 2))
    p = 1 / (1 + np.exp(-(X @ [1.2, -0.7] + 0.4)))
    y = (RNG.random(n) < p).astype(float)
    r = sm.fit("param b; y ~ Bernoulli(sigmoid(dot(w, x) + b))", {"x": X, "y": y})
    o = smapi.Logit(y, np.column_stack([X, np.ones(n)])).fit(disp=0, method="newton", tol=1e-12)
    _close(r.x, o.params, rtol=1e-8)
    _close(r.stderr_flat, o.bse, rtol=1e-7)
    _close(r.tvalues["w"], o.tvalues[:2], rtol=1e-7)  # z statistics
    _close([*r.pvalues["w"], r.pvalues["b"]], o.pvalues, rtol=1e-6, atol=1e-300)
    assert r.loglik == pytest.approx(o.llf, rel=1e-10)
    assert r.aic == pytest.approx(o.aic, rel=1e-10)
    assert r.bic == pytest.approx(o.bic, rel=1e-10)
    assert r.rsquared is None
    assert "P>|z|" in r.summary()


def test_poisson_regression_matches_glm():
    n = 200
    x = RNG.uniform(0, 2, n)
    y = RNG.poisson(np.exp(0.2 + 0.6 * x)).astype(float)
    r = sm.fit("param a, b; y ~ Poisson(exp(a + b*x))", {"x": x, "y": y})
    o = smapi.GLM(y, np.column_stack([np.ones(n), x]), family=smapi.families.Poisson()).fit(
        tol=1e-13
    )
    _close(_flat(r.params, "ab"), o.params, rtol=1e-8)
    _close(_flat(r.stderr, "ab"), o.bse, rtol=1e-7)
    _close(_flat(r.tvalues, "ab"), o.tvalues, rtol=1e-7)
    _close(_flat(r.pvalues, "ab"), o.pvalues, rtol=1e-6, atol=1e-300)
    assert r.loglik == pytest.approx(o.llf, rel=1e-10)
    assert r.aic == pytest.approx(o.aic, rel=1e-10)
    # the mean's standard error for new rows: the delta method on the mean scale, as
    # statsmodels' se_mean
    new = np.array([0.5, 1.5, 3.0])
    conf = r.predict({"x": new}, interval="confidence")
    ref = o.get_prediction(np.column_stack([np.ones(3), new]))
    _close(conf.mean, ref.predicted_mean, rtol=1e-8)
    _close(conf.stderr, ref.se_mean, rtol=1e-6)
    with pytest.raises(sm.ArgumentError, match="prediction intervals"):
        r.predict({"x": new}, interval="prediction")


def test_summary_lists_every_statistic(ols_data):
    x1, x2, y = ols_data
    r = sm.fit("param c, b1, b2; y ~ c + b1*x1 + b2*x2", {"x1": x1, "x2": x2, "y": y})
    text = r.summary()
    for word in ("R-squared:", "Adj. R-squared:", "Log-Likelihood:", "AIC:", "BIC:", "P>|t|"):
        assert word in text
    assert f"{r.rsquared:.3f}" in text and f"{r.tvalues['b1']:.3f}" in text
    with pytest.raises(sm.ArgumentError, match="interval must be"):
        r.predict({"x1": [1.0], "x2": [1.0]}, interval="credible")
