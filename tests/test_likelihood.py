"""Maximum-likelihood fits checked against independent references.

References: textbook closed forms of the MLE and its standard error, scipy.stats log-pmfs and
log-pdfs for the log-likelihood, a GLM fitted by iteratively reweighted least squares written
below in plain NumPy (standard errors from (X^T W X)^-1), finite differences of the objective
for the exact gradient and Hessian, and the chi-square likelihood-ratio condition solved in
closed form for profile intervals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.special
import scipy.stats
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symml as sm
from symml.fitting.likelihood import NLLObjective, ParamSpec, row_negloglik
from symml.symbols import vector

RNG = np.random.default_rng(20261123)


# ---------------------------------------------------------------------------------------
# textbook closed forms
# ---------------------------------------------------------------------------------------


def test_normal_mean_and_1_over_n_variance():
    y = RNG.normal(3.0, 2.0, size=40)
    r = sm.fit("param mu = 1, s = 1; y ~ Normal(mu, s)", {"y": y})
    mu, s = y.mean(), math.sqrt(np.mean((y - y.mean()) ** 2))  # MLE: the 1/n variance
    assert r.params["mu"] == pytest.approx(mu, rel=1e-12)
    assert r.params["s"] == pytest.approx(s, rel=1e-10)
    # observed information at the MLE: I_mu = n/s^2, I_s = 2n/s^2, uncorrelated
    n = len(y)
    assert r.stderr["mu"] == pytest.approx(s / math.sqrt(n), rel=1e-8)
    assert r.stderr["s"] == pytest.approx(s / math.sqrt(2 * n), rel=1e-8)
    assert abs(r.corr[0, 1]) < 1e-8
    assert r.loglik == pytest.approx(scipy.stats.norm.logpdf(y, mu, s).sum(), rel=1e-12)
    assert r.success and r.kind == "maximum likelihood"


def test_poisson_mean():
    y = RNG.poisson(4.5, size=60).astype(float)
    r = sm.fit("param rate = 1; y ~ Poisson(rate)", {"y": y})
    lam = y.mean()
    assert r.params["rate"] == pytest.approx(lam, rel=1e-12)
    assert r.stderr["rate"] == pytest.approx(math.sqrt(lam / len(y)), rel=1e-9)
    assert r.loglik == pytest.approx(scipy.stats.poisson.logpmf(y, lam).sum(), rel=1e-12)


def test_exponential_one_over_mean():
    y = RNG.exponential(1 / 2.5, size=80)
    r = sm.fit("param rate = 1; y ~ Exponential(rate)", {"y": y})
    rate = 1 / y.mean()
    assert r.params["rate"] == pytest.approx(rate, rel=1e-12)
    assert r.stderr["rate"] == pytest.approx(rate / math.sqrt(len(y)), rel=1e-9)
    assert r.loglik == pytest.approx(scipy.stats.expon.logpdf(y, scale=1 / rate).sum(), rel=1e-12)


def test_bernoulli_proportion():
    y = (RNG.random(70) < 0.3).astype(float)
    r = sm.fit("y ~ Bernoulli(p)", {"y": y}, p0={"p": 0.5}, bounds={"p": (0, 1)})
    p = y.mean()
    assert r.params["p"] == pytest.approx(p, rel=1e-8)
    assert r.stderr["p"] == pytest.approx(math.sqrt(p * (1 - p) / len(y)), rel=1e-6)
    assert r.loglik == pytest.approx(scipy.stats.bernoulli.logpmf(y, p).sum(), rel=1e-10)


def test_bernoulli_on_the_logit_scale_is_the_log_odds():
    y = (RNG.random(70) < 0.3).astype(float)
    r = sm.fit("param a = 1; y ~ Bernoulli(sigmoid(a))", {"y": y})
    p = y.mean()
    assert r.params["a"] == pytest.approx(math.log(p / (1 - p)), rel=1e-12)
    # delta method: var(logit p) = 1/(n p (1-p))
    assert r.stderr["a"] == pytest.approx(1 / math.sqrt(len(y) * p * (1 - p)), rel=1e-9)


def test_binomial_pooled_proportion_with_trials_column():
    trials = RNG.integers(5, 20, size=30).astype(float)
    y = RNG.binomial(trials.astype(int), 0.35).astype(float)
    r = sm.fit("param a = 1; y ~ Binomial(m, sigmoid(a))", {"y": y, "m": trials})
    p = y.sum() / trials.sum()
    assert scipy.special.expit(r.params["a"]) == pytest.approx(p, rel=1e-12)
    assert r.stderr["a"] == pytest.approx(1 / math.sqrt(trials.sum() * p * (1 - p)), rel=1e-9)
    assert r.loglik == pytest.approx(scipy.stats.binom.logpmf(y, trials, p).sum(), rel=1e-12)
    # predict gives the mean n*p
    assert r.predict({"m": [10.0]})[0] == pytest.approx(10 * p, rel=1e-12)


# ---------------------------------------------------------------------------------------
# GLMs against iteratively reweighted least squares written here in plain NumPy
# ---------------------------------------------------------------------------------------


def irls(X, y, family, iters=100):
    """Canonical-link GLM by IRLS; returns (beta, stderr from (X^T W X)^-1)."""
    beta = np.zeros(X.shape[1])
    for _ in range(iters):
        eta = X @ beta
        if family == "logistic":
            mu = 1 / (1 + np.exp(-eta))
            W = mu * (1 - mu)
        else:
            mu = np.exp(eta)
            W = mu
        z = eta + (y - mu) / W
        XtW = X.T * W
        new = np.linalg.solve(XtW @ X, XtW @ z)
        done = np.max(np.abs(new - beta)) < 1e-14 * (1 + np.max(np.abs(beta)))
        beta = new
        if done:
            break
    eta = X @ beta
    mu = 1 / (1 + np.exp(-eta)) if family == "logistic" else np.exp(eta)
    W = mu * (1 - mu) if family == "logistic" else mu
    cov = np.linalg.inv((X.T * W) @ X)
    return beta, np.sqrt(np.diag(cov))


def _digits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(-np.log10(np.max(np.abs(a - b) / np.abs(b))))


def test_logistic_regression_matches_irls():
    n, d = 400, 3
    X = RNG.normal(size=(n, d))
    y = (RNG.random(n) < scipy.special.expit(X @ [0.8, -1.2, 0.3] + 0.4)).astype(float)
    r = sm.fit("param b = 1; y ~ Bernoulli(sigmoid(dot(w, x) + b))", {"x": X, "y": y})
    beta, se = irls(np.column_stack([X, np.ones(n)]), y, "logistic")
    est = np.append(r.params["w"], r.params["b"])
    ses = np.append(r.stderr["w"], r.stderr["b"])
    assert r.names == ["w[0]", "w[1]", "w[2]", "b"]
    assert _digits(est, beta) >= 6 and _digits(ses, se) >= 6
    np.testing.assert_allclose(est, beta, rtol=1e-9)
    np.testing.assert_allclose(ses, se, rtol=1e-8)


def test_poisson_regression_matches_irls():
    n = 300
    x1, x2 = RNG.normal(size=n), RNG.uniform(-1, 1, size=n)
    y = RNG.poisson(np.exp(0.5 + 0.3 * x1 - 0.7 * x2)).astype(float)
    r = sm.fit(
        "param b0 = 1, b1 = 1, b2 = 1; y ~ Poisson(exp(b0 + b1*x1 + b2*x2))",
        {"x1": x1, "x2": x2, "y": y},
    )
    beta, se = irls(np.column_stack([np.ones(n), x1, x2]), y, "poisson")
    est = [r.params[k] for k in ("b0", "b1", "b2")]
    ses = [r.stderr[k] for k in ("b0", "b1", "b2")]
    np.testing.assert_allclose(est, beta, rtol=1e-9)
    np.testing.assert_allclose(ses, se, rtol=1e-8)
    assert r.loglik == pytest.approx(
        scipy.stats.poisson.logpmf(y, np.exp(beta[0] + beta[1] * x1 + beta[2] * x2)).sum(),
        rel=1e-12,
    )


def test_scalar_and_vector_forms_of_the_same_glm_agree():
    n = 200
    X = RNG.normal(size=(n, 2))
    y = (RNG.random(n) < scipy.special.expit(X @ [1.0, -0.5])).astype(float)
    rv = sm.fit("y ~ Bernoulli(sigmoid(dot(w, x)))", {"x": X, "y": y})
    rs = sm.fit(
        "param w0 = 1, w1 = 1; y ~ Bernoulli(sigmoid(w0*x0 + w1*x1))",
        {"x0": X[:, 0], "x1": X[:, 1], "y": y},
    )
    np.testing.assert_allclose(rv.params["w"], [rs.params["w0"], rs.params["w1"]], rtol=1e-10)
    np.testing.assert_allclose(rv.stderr["w"], [rs.stderr["w0"], rs.stderr["w1"]], rtol=1e-9)


def test_other_optimizers_reach_the_same_estimates():
    n = 150
    x = RNG.normal(size=n)
    y = RNG.poisson(np.exp(0.2 + 0.5 * x)).astype(float)
    ref = sm.fit("param a = 1, b = 1; y ~ Poisson(exp(a + b*x))", {"x": x, "y": y})
    for method in ("newton-cg", "trust-krylov", "bfgs", "l-bfgs-b", "trust-constr"):
        r = sm.fit("param a = 1, b = 1; y ~ Poisson(exp(a + b*x))", {"x": x, "y": y}, method=method)
        assert r.method == method
        assert r.params["a"] == pytest.approx(ref.params["a"], rel=1e-6, abs=1e-8)
        assert r.params["b"] == pytest.approx(ref.params["b"], rel=1e-6, abs=1e-8)


def test_frequency_weights_equal_repeated_rows():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, 0.0, 3.0, 2.0, 6.0])
    w = np.array([1, 3, 2, 1, 2])
    rw = sm.fit("param a = 1, b = 1; y ~ Poisson(exp(a + b*x))", {"x": x, "y": y}, weights=w)
    rr = sm.fit(
        "param a = 1, b = 1; y ~ Poisson(exp(a + b*x))",
        {"x": np.repeat(x, w), "y": np.repeat(y, w)},
    )
    assert rw.params["a"] == pytest.approx(rr.params["a"], rel=1e-10)
    assert rw.stderr["b"] == pytest.approx(rr.stderr["b"], rel=1e-9)
    assert rw.loglik == pytest.approx(rr.loglik, rel=1e-12)


def test_bounds_use_trust_constr_and_agree():
    y = RNG.normal(1.0, 0.5, size=50)
    r = sm.fit("param mu = 1, s = 1 in [0, inf]; y ~ Normal(mu, s)", {"y": y})
    assert r.method == "trust-constr"
    assert r.params["s"] == pytest.approx(y.std(), rel=1e-7)
    assert r.params["mu"] == pytest.approx(y.mean(), rel=1e-7, abs=1e-9)


def test_heteroscedastic_normal_with_two_predictors():
    # Normal(a + b*x, exp(c + d*x)): compare with a direct SciPy minimization of the
    # hand-written log-likelihood (finite-difference gradients)
    n = 300
    x = RNG.uniform(0, 2, size=n)
    y = 1 + 2 * x + np.exp(-1 + 0.5 * x) * RNG.normal(size=n)
    r = sm.fit(
        "y ~ Normal(a + b*x, exp(c + d*x))", {"x": x, "y": y}, p0={"a": 0, "b": 0, "c": 0, "d": 0}
    )

    def nll(t):
        a, b, c, d = t
        return -scipy.stats.norm.logpdf(y, a + b * x, np.exp(c + d * x)).sum()

    ref = scipy.optimize.minimize(nll, np.zeros(4), method="BFGS", options={"gtol": 1e-9})
    np.testing.assert_allclose(r.x, ref.x, rtol=1e-5, atol=1e-6)
    assert -r.loglik == pytest.approx(ref.fun, rel=1e-10)


# ---------------------------------------------------------------------------------------
# the objective's exact derivatives against finite differences
# ---------------------------------------------------------------------------------------


def _fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def test_objective_gradient_and_hessian_match_finite_differences():
    w = vector("w", 2)
    x = vector("x", 2)
    s, c, z, y = (sm.symbol(n) for n in ("s", "c", "z", "y"))
    mu = w[0] * x[0] + w[1] * x[1] + c * z**2
    row = row_negloglik("Normal", (mu, sympy.exp(s)), y)
    params = [ParamSpec("w", tuple(w), (2,)), ParamSpec("c", (c,)), ParamSpec("s", (s,))]
    n = 50
    cols = {"x": RNG.normal(size=(n, 2)), "z": RNG.normal(size=n), "y": RNG.normal(size=n)}
    obj = NLLObjective(row.core, params, cols, {"x": x, "z": z, "y": y})
    assert obj._predictors, "dot(w, x) should be evaluated as X @ w"
    theta = np.array([0.3, -0.7, 0.2, 0.1])
    g = obj.grad(theta)
    np.testing.assert_allclose(g, _fd_grad(obj.value, theta), rtol=1e-6, atol=1e-6)
    H = obj.hess(theta)
    Hfd = np.column_stack([_fd_grad(lambda t, i=i: obj.grad(t)[i], theta) for i in range(4)]).T
    np.testing.assert_allclose(H, Hfd, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=0)


@settings(max_examples=15, deadline=None)
@given(
    a=st.floats(-2, 2),
    b=st.floats(-1, 1),
    dist=st.sampled_from(["Poisson", "Exponential", "Bernoulli"]),
)
def test_nll_matches_scipy_logpmf(a, b, dist):
    """Property: the symbolic row NLL plus its data-only constant is -logpmf/-logpdf."""
    x = np.linspace(-1, 1, 7)
    eta = a + b * x
    if dist == "Poisson":
        y, ref = np.arange(7.0), lambda: -scipy.stats.poisson.logpmf(np.arange(7.0), np.exp(eta))
        arg = "exp(a + b*x)"
    elif dist == "Exponential":
        y, ref = x + 1.5, lambda: -scipy.stats.expon.logpdf(x + 1.5, scale=np.exp(-eta))
        arg = "exp(a + b*x)"
    else:
        y = (x > 0).astype(float)
        ref = lambda: -scipy.stats.bernoulli.logpmf(y, scipy.special.expit(eta))  # noqa: E731
        arg = "sigmoid(a + b*x)"
    ysym, asym, bsym, xsym = (sm.symbol(n) for n in ("y", "a", "b", "x"))
    row = row_negloglik(dist, (sm.expr(arg),), ysym)
    obj = NLLObjective(
        row.core,
        [ParamSpec("a", (asym,)), ParamSpec("b", (bsym,))],
        {"x": x, "y": y},
        {"x": xsym, "y": ysym},
    )
    total = obj.value([a, b]) + row.constant(y, None).sum()
    assert total == pytest.approx(ref().sum(), rel=1e-10, abs=1e-10)


# ---------------------------------------------------------------------------------------
# intervals and derived quantities
# ---------------------------------------------------------------------------------------


def test_profile_interval_solves_the_likelihood_ratio_equation():
    y = RNG.poisson(3.0, size=25).astype(float)
    r = sm.fit("param rate = 1; y ~ Poisson(rate)", {"y": y})
    lo, hi = r.conf_int(0.95, method="profile")["rate"]
    n, S, lam = len(y), y.sum(), y.mean()

    def lr(v):  # closed form: 2 (NLL(v) - NLL(lam))
        return 2 * ((n * v - S * math.log(v)) - (n * lam - S * math.log(lam)))

    q = scipy.stats.chi2.ppf(0.95, 1)
    assert lr(lo) == pytest.approx(q, rel=1e-8)
    assert lr(hi) == pytest.approx(q, rel=1e-8)
    assert lo < lam < hi
    wlo, whi = r.conf_int(0.95)["rate"]
    assert lo < (wlo + whi) / 2 < hi
    # the Poisson likelihood is skewed: the profile interval sits to the right of Wald's
    assert lo > wlo and hi > whi


def test_profile_and_wald_agree_for_large_samples():
    n = 4000
    x = RNG.normal(size=n)
    y = (RNG.random(n) < scipy.special.expit(0.3 + 0.8 * x)).astype(float)
    r = sm.fit("param a = 1, b = 1; y ~ Bernoulli(sigmoid(a + b*x))", {"x": x, "y": y})
    prof, wald = r.conf_int(method="profile"), r.conf_int()
    for k in ("a", "b"):
        assert prof[k][0] < r.params[k] < prof[k][1]
        width = wald[k][1] - wald[k][0]
        assert abs(prof[k][0] - wald[k][0]) < 0.03 * width
        assert abs(prof[k][1] - wald[k][1]) < 0.03 * width


def test_delta_method_against_finite_difference_gradient():
    y = RNG.normal(2.0, 0.7, size=60)
    r = sm.fit("param mu = 1, s = 1; y ~ Normal(mu, s)", {"y": y})
    d = r.derived("mu/s^2")
    mu, s = r.params["mu"], r.params["s"]
    assert d.value == pytest.approx(mu / s**2, rel=1e-14)
    g = _fd_grad(lambda t: t[0] / t[1] ** 2, np.array([mu, s]))
    se_fd = math.sqrt(g @ np.asarray(r.cov) @ g)
    assert d.stderr == pytest.approx(se_fd, rel=1e-7)
    value, se = d  # unpacks as (value, stderr)
    assert (value, se) == (d.value, d.stderr)


def test_vector_parameter_derived_and_conf_int_shapes():
    n = 300
    X = RNG.normal(size=(n, 3))
    y = (RNG.random(n) < scipy.special.expit(X @ [1.0, -1.0, 0.5])).astype(float)
    r = sm.fit("y ~ Bernoulli(sigmoid(dot(w, x)))", {"x": X, "y": y})
    ci = r.conf_int()
    assert ci["w"].shape == (3, 2)
    d = r.derived("w[0] + w[1]")
    C = np.asarray(r.cov)
    assert d.stderr == pytest.approx(math.sqrt(C[0, 0] + C[1, 1] + 2 * C[0, 1]), rel=1e-12)
    assert r.cov.names == ["w[0]", "w[1]", "w[2]"]


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------


def test_separated_classes_diverge_with_a_clear_error():
    x = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
    with pytest.raises(sm.FitError, match="does not exist"):
        sm.fit(
            "param a = 1, b = 1; y ~ Bernoulli(sigmoid(a + b*x))",
            {"x": x, "y": (x > 0).astype(float)},
        )


def test_unidentifiable_parameters_give_estimates_and_a_reason():
    r = sm.fit("param a = 1, b = 1; y ~ Bernoulli(sigmoid(a + b))", {"y": [0.0, 1, 1, 0, 1]})
    assert r.params["a"] + r.params["b"] == pytest.approx(math.log(1.5), rel=1e-9)
    assert math.isnan(r.stderr["a"]) and "singular" in r.cov_reason
    assert "undetermined" in r.report()


def test_response_outside_support():
    with pytest.raises(sm.DataError, match="Poisson"):
        sm.fit("param rate = 1; y ~ Poisson(rate)", {"y": [1.0, -2.0, 3.0]})
    with pytest.raises(sm.DataError, match="Bernoulli"):
        sm.fit("param a = 1; y ~ Bernoulli(sigmoid(a))", {"y": [0.0, 2.0]})


def test_start_outside_the_domain():
    with pytest.raises(sm.FitError, match="starting point"):
        sm.fit("y ~ Poisson(rate)", {"y": [1.0, 2.0]}, p0={"rate": -1})


def test_unknown_method_lists_the_valid_ones():
    # adam is a first-order method of minimize, not one of the SciPy methods a fit uses
    with pytest.raises(sm.ArgumentError, match="for a likelihood model.*trust-exact"):
        sm.fit("param rate = 1; y ~ Poisson(rate)", {"y": [1.0, 2.0]}, method="adam")


def test_trials_must_not_depend_on_parameters():
    with pytest.raises(sm.FitError, match="trials"):
        sm.fit("y ~ Binomial(k, sigmoid(a))", {"y": [1.0, 2.0]}, p0={"a": 0, "k": 1})
