"""symml.stats against SciPy/NumPy, and the formulas they report."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from symml import stats as ss
from symml.errors import ArgumentError, DataError

RNG = np.random.default_rng(7)
X = RNG.normal(1.0, 2.0, 30)
Y = RNG.normal(2.0, 1.0, 25)


def test_describe():
    r = ss.describe(X)
    v = r.values
    assert v["mean"] == pytest.approx(X.mean()) and v["median"] == pytest.approx(np.median(X))
    assert v["var"] == pytest.approx(np.var(X, ddof=1)) and v["std"] == pytest.approx(X.std(ddof=1))
    assert v["q1"] == pytest.approx(np.quantile(X, 0.25))
    assert isinstance(r.formula["var"], sympy.Expr)


def test_covariance_correlation():
    assert ss.covariance(X[:25], Y).statistic == pytest.approx(np.cov(X[:25], Y)[0, 1])
    r = ss.correlation(X[:25], Y)
    ref = stats.pearsonr(X[:25], Y)
    assert r.statistic == pytest.approx(ref.statistic) and r.pvalue == pytest.approx(ref.pvalue)


@pytest.mark.parametrize("alt", ["two-sided", "less", "greater"])
def test_t_tests(alt):
    r, ref = ss.ttest_1samp(X, 0.5, alternative=alt), stats.ttest_1samp(X, 0.5, alternative=alt)
    assert r.statistic == pytest.approx(ref.statistic) and r.pvalue == pytest.approx(ref.pvalue)
    for eq in (True, False):
        r = ss.ttest_ind(X, Y, equal_var=eq, alternative=alt)
        ref = stats.ttest_ind(X, Y, equal_var=eq, alternative=alt)
        assert r.statistic == pytest.approx(ref.statistic) and r.pvalue == pytest.approx(ref.pvalue)


def test_formula_reproduces_statistic():
    r = ss.ttest_1samp(X, 0.5)
    syms = {s.name: s for s in r.formula.free_symbols}
    val = r.formula.subs({syms["xbar"]: X.mean(), syms["mu0"]: 0.5, syms["s"]: X.std(ddof=1),
                          syms["n"]: X.size})
    assert float(val) == pytest.approx(r.statistic)


def test_ztest_by_hand():
    r = ss.ztest(X, 0.5, sigma=2.0)
    z = (X.mean() - 0.5) / (2.0 / np.sqrt(X.size))
    assert r.statistic == pytest.approx(z)
    assert r.pvalue == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_mean_ci():
    lo, hi = ss.mean_ci(X, 0.9).interval
    ref = stats.t.interval(0.9, X.size - 1, loc=X.mean(), scale=stats.sem(X))
    assert (lo, hi) == pytest.approx(ref)
    lo, hi = ss.mean_ci(X, 0.95, sigma=2).interval
    assert (lo, hi) == pytest.approx(stats.norm.interval(0.95, X.mean(), 2 / np.sqrt(X.size)))


def test_proportion_ci():
    lo, hi = ss.proportion_ci(40, 100).interval
    half = stats.norm.ppf(0.975) * np.sqrt(0.4 * 0.6 / 100)
    assert (lo, hi) == pytest.approx((0.4 - half, 0.4 + half))
    lo, hi = ss.proportion_ci(40, 100, method="wilson").interval
    # Wilson interval: scipy's binomtest gives the same bounds
    ref = stats.binomtest(40, 100).proportion_ci(0.95, method="wilson")
    assert (lo, hi) == pytest.approx((ref.low, ref.high))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=3, max_size=30))
def test_ttest_property(xs):
    a = np.array(xs)
    if np.all(a == a[0]) or a.std(ddof=1) == 0:  # equal, or differences that underflow
        with pytest.raises(DataError, match="no spread"):
            ss.ttest_1samp(a, 0)
        return
    r, ref = ss.ttest_1samp(a, 1.0), stats.ttest_1samp(a, 1.0)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("call", [
    lambda: ss.describe([1.0]), lambda: ss.describe([1, np.nan, 2]),
    lambda: ss.ttest_1samp([1, 1, 1]), lambda: ss.covariance([1, 2], [1, 2, 3]),
    lambda: ss.mean_ci([1, 2, 3], 1.5), lambda: ss.proportion_ci(5, 3),
    lambda: ss.ttest_1samp([1, 2, 3], alternative="bigger"), lambda: ss.describe("abc"),
])  # fmt: skip
def test_bad_input(call):
    with pytest.raises((DataError, ArgumentError)):
        call()
