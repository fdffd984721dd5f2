"""symml.steps.mle: textbook estimators, verified derivations, agreement with numeric optimizers."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from scipy import optimize, stats

from symml.errors import ArgumentError
from symml.steps import mle

FAMILIES = ["Normal", "Bernoulli", "Binomial", "Poisson", "Exponential"]


def _numeric(expr, data, m=None):
    n, i, j = (sympy.Symbol(k, integer=True, positive=True) for k in "nij")
    x = sympy.IndexedBase("x", real=True)
    e = expr.xreplace({n: len(data)})
    if m is not None:
        e = e.xreplace({sympy.Symbol("m", integer=True, positive=True): m})
    e = e.doit().xreplace({x[k]: v for k, v in enumerate(data, 1)})
    return float(e)


@pytest.fixture(scope="module")
def derivations():
    return {name: mle(name, "x") for name in FAMILIES}


@pytest.mark.parametrize("name", FAMILIES)
def test_verifies_and_renders(derivations, name):
    d = derivations[name]
    assert d.verify()
    for text in (d.to_text(), d.to_markdown(), d.to_latex()):
        assert "x" in text and len(text) > 200
    assert "second-order condition" in d.rules()


def test_textbook_estimators_on_random_data(derivations):
    rng = np.random.default_rng(5)
    x = rng.normal(2.0, 1.5, 40)
    r = derivations["Normal"].result
    assert _numeric(r["mu"], x) == pytest.approx(x.mean())
    assert _numeric(r["sigma2"], x) == pytest.approx(x.var(ddof=0))  # the 1/n variance
    assert _numeric(r["sigma"], x) == pytest.approx(x.std(ddof=0))
    b = rng.integers(0, 2, 30).astype(float)
    assert _numeric(derivations["Bernoulli"].result["p"], b) == pytest.approx(b.mean())
    c = rng.poisson(3.0, 30).astype(float)
    assert _numeric(derivations["Poisson"].result["lambda"], c) == pytest.approx(c.mean())
    e = rng.exponential(0.5, 30)
    assert _numeric(derivations["Exponential"].result["lambda"], e) == pytest.approx(1 / e.mean())
    k = rng.binomial(8, 0.3, 30).astype(float)
    assert _numeric(derivations["Binomial"].result["p"], k, m=8) == pytest.approx(k.mean() / 8)


def test_normal_against_numeric_optimizer(derivations):
    rng = np.random.default_rng(11)
    x = rng.normal(-1.0, 0.7, 25)

    def nll(t):
        return -stats.norm(t[0], np.sqrt(t[1])).logpdf(x).sum()

    opt = optimize.minimize(nll, [0.0, 1.0], method="L-BFGS-B", bounds=[(None, None), (1e-6, None)])
    r = derivations["Normal"].result
    np.testing.assert_allclose(opt.x, [_numeric(r["mu"], x), _numeric(r["sigma2"], x)], rtol=1e-4)


def test_poisson_against_scalar_optimizer(derivations):
    c = np.random.default_rng(2).poisson(4.0, 50)
    opt = optimize.minimize_scalar(lambda lam: -stats.poisson(lam).logpmf(c).sum(),
                                   bounds=(0.01, 20), method="bounded", options={"xatol": 1e-10})
    assert opt.x == pytest.approx(_numeric(derivations["Poisson"].result["lambda"], c), rel=1e-6)


def test_result_names_use_indexed_sample(derivations):
    n = sympy.Symbol("n", integer=True, positive=True)
    for d in derivations.values():
        for est in d.result.values():
            assert n in est.free_symbols
            assert est.atoms(sympy.Indexed)


def test_other_sample_name():
    d = mle("Poisson", "y")
    assert "y" in str(d.result["lambda"])


@pytest.mark.parametrize("bad", [("Cauchy", "x"), ("Normal", "1x"), (3, "x"), ("Normal", "")])
def test_bad_input(bad):
    with pytest.raises(ArgumentError):
        mle(*bad)
