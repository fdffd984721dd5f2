"""symml.prob: distributions against scipy.stats, support checks, Bayes and conjugate updates."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from symml.errors import ArgumentError, SymmlError
from symml.prob import (
    Bernoulli,
    Beta,
    Binomial,
    Categorical,
    Exponential,
    Gamma,
    Normal,
    Poisson,
    Uniform,
    bayes,
    bayes_density,
    conjugate_update,
)  # fmt: skip
from symml.steps import conjugate

CONTINUOUS = [
    (Normal(1.5, 2.0), stats.norm(1.5, 2.0), [-1.0, 0.3, 2.0, 4.5]),
    (Exponential(1.7), stats.expon(scale=1 / 1.7), [0.0, 0.2, 1.1, 3.0]),
    (Uniform(-1, 3), stats.uniform(-1, 4), [-0.5, 0.0, 2.9]),
    (Beta(2.5, 1.5), stats.beta(2.5, 1.5), [0.1, 0.5, 0.9]),
    (Gamma(2.2, 1.3), stats.gamma(2.2, scale=1.3), [0.3, 1.0, 4.0]),
]
DISCRETE = [
    (Bernoulli(0.3), stats.bernoulli(0.3), [0, 1]),
    (Binomial(6, 0.35), stats.binom(6, 0.35), [0, 2, 6]),
    (Poisson(2.4), stats.poisson(2.4), [0, 1, 3, 8]),
]


def f(v):
    return float(sympy.N(v))


@pytest.mark.parametrize("dist, ref, xs", CONTINUOUS + DISCRETE)
def test_numeric_values_agree_with_scipy(dist, ref, xs):
    dens = ref.pmf if dist.discrete else ref.pdf
    logd = ref.logpmf if dist.discrete else ref.logpdf
    for x in xs:
        assert f(dist.pdf(x)) == pytest.approx(dens(x), rel=1e-10)
        assert f(dist.logpdf(x)) == pytest.approx(logd(x), rel=1e-10)
        assert f(dist.cdf(x)) == pytest.approx(ref.cdf(x), rel=1e-9, abs=1e-12)
    assert f(dist.mean) == pytest.approx(ref.mean(), rel=1e-12)
    assert f(dist.var) == pytest.approx(ref.var(), rel=1e-12)
    assert f(dist.entropy) == pytest.approx(ref.entropy(), rel=1e-9)


@pytest.mark.parametrize("dist, ref, xs", CONTINUOUS)
def test_vectorized_pdf(dist, ref, xs):
    np.testing.assert_allclose(dist.pdf(np.array(xs)), ref.pdf(xs), rtol=1e-10)


@pytest.mark.parametrize("dist, ref, xs", CONTINUOUS + DISCRETE)
def test_sampling_is_seeded_and_matches_moments(dist, ref, xs):
    a, b = dist.sample(20000, seed=3), dist.sample(20000, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.mean() == pytest.approx(ref.mean(), abs=5 * ref.std() / np.sqrt(a.size))


def test_categorical():
    c = Categorical([0.2, 0.5, 0.3])
    assert f(c.entropy) == pytest.approx(stats.entropy([0.2, 0.5, 0.3]))
    assert f(c.mean) == pytest.approx(1.1)
    assert f(c.cdf(1)) == pytest.approx(0.7)
    s = c.sample(30000, seed=0)
    np.testing.assert_allclose(np.bincount(s.astype(int)) / s.size, [0.2, 0.5, 0.3], atol=0.02)


def test_symbolic_closed_forms():
    mu, s, x = (sympy.Symbol(k, real=True) for k in ("mu", "sigma", "x"))
    n = Normal("mu", "sigma")
    assert sympy.simplify(sympy.integrate(n.pdf(x).subs(s, 2), (x, -sympy.oo, sympy.oo))) == 1
    assert n.mean == mu and n.var == s**2
    # the entropy's closed form is -E[log p]: check against the integral at a numeric sigma
    ent = n.entropy.subs({s: sympy.Rational(3, 2), mu: 0})
    assert f(ent) == pytest.approx(stats.norm(0, 1.5).entropy())
    lam = sympy.Symbol("lambda", real=True)
    assert Exponential("lambda").cdf("x").subs(x, 2) == 1 - sympy.exp(-2 * lam)
    a, b = sympy.symbols("a b", real=True)
    assert Beta("a", "b").var.subs({a: 2, b: 3}) == sympy.Rational(6, 25 * 6)


@pytest.mark.parametrize("make", [
    lambda: Normal(0, -1), lambda: Normal(0, 0), lambda: Bernoulli(1.5), lambda: Bernoulli(-0.1),
    lambda: Binomial(2.5, 0.5), lambda: Binomial(-1, 0.5), lambda: Poisson(0),
    lambda: Exponential(-2), lambda: Uniform(3, 1), lambda: Beta(0, 1), lambda: Gamma(1, -1),
    lambda: Categorical([0.5, 0.6]), lambda: Categorical([]), lambda: Normal("[1, 2]", 1),
])  # fmt: skip
def test_bad_parameters_raise(make):
    with pytest.raises(ArgumentError):
        make()


def test_sample_needs_numbers():
    with pytest.raises(SymmlError):
        Normal("mu", 1).sample(3)
    with pytest.raises(ArgumentError):
        Normal(0, 1).sample(-1)


@settings(max_examples=25, deadline=None)
@given(st.floats(-5, 5), st.floats(0.1, 5), st.floats(-10, 10))
def test_normal_property(mu, sigma, x):
    d = Normal(mu, sigma)
    assert f(d.pdf(x)) == pytest.approx(stats.norm(mu, sigma).pdf(x), rel=1e-9, abs=1e-300)
    assert f(d.cdf(x)) == pytest.approx(stats.norm(mu, sigma).cdf(x), rel=1e-8, abs=1e-15)


def test_bayes_events():
    # P(disease | positive) by hand: 0.9*0.01 / (0.9*0.01 + 0.05*0.99)
    assert f(bayes(0.01, 0.9, 0.05)) == pytest.approx(0.009 / (0.009 + 0.0495))
    assert f(bayes(0.3, 0.5, evidence=0.25)) == pytest.approx(0.6)
    with pytest.raises(ArgumentError):
        bayes(0.5, 0.5)
    with pytest.raises(ArgumentError):
        bayes(1.2, 0.5, 0.1)


def test_bayes_density_beta():
    t = sympy.Symbol("theta", real=True)
    post = bayes_density(1, t**3 * (1 - t), t, (0, 1))
    assert sympy.simplify(sympy.expand_func(post - Beta(4, 2).pdf(t).args[0][0])) == 0


def test_conjugate_beta_against_grid():
    data = [1, 0, 1, 1, 0, 1]
    post = conjugate_update(Beta(2, 3), "Bernoulli", data)
    assert post == Beta(6, 5)
    grid = np.linspace(0.001, 0.999, 4001)
    un = stats.beta(2, 3).pdf(grid) * grid**4 * (1 - grid) ** 2
    un /= np.trapezoid(un, grid)
    np.testing.assert_allclose(un, stats.beta(6, 5).pdf(grid), atol=2e-3)


def test_conjugate_gamma_poisson_and_normal():
    d = conjugate(Gamma(2, 0.5), "Poisson", [3, 1, 4, 2])
    assert d.verify()
    # shape k + sum x, scale theta / (1 + n theta)
    assert f(d.posterior.params["k"]) == 12
    assert f(d.posterior.params["theta"]) == pytest.approx(0.5 / 3)
    d = conjugate(Normal(0, 1), "Normal", [1.0, 2.0, 0.5], sigma=2)
    assert d.verify()
    prec = 1 + 3 / 4
    assert f(d.result["mu"]) == pytest.approx((3.5 / 4) / prec)
    assert f(d.result["sigma"]) == pytest.approx(prec**-0.5)
    d = conjugate(Beta("a", "b"), "Binomial", [3, 5], trials=6)
    assert d.verify() and d.result["a"] == sympy.Symbol("a", real=True) + 8


def test_conjugate_bad_pairs():
    with pytest.raises(ArgumentError):
        conjugate(Beta(1, 1), "Poisson", [1])
    with pytest.raises(ArgumentError):
        conjugate(Normal(0, 1), "Normal", [1.0])
