"""Naive Bayes and Gaussian mixtures: hand computations, recovery of known parameters, and
the EM monotonicity that fit() itself checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symml.ml as ml
from symml.errors import DataError
from symml.ml.mixture import em_derivation
from symml.ml.naive_bayes import naive_bayes_derivation


def _normal_pdf(x, m, v):
    return math.exp(-((x - m) ** 2) / (2 * v)) / math.sqrt(2 * math.pi * v)


def test_gaussian_nb_matches_a_hand_computation():
    X = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 3.0], [6.0, 8.0], [7.0, 9.0]])
    y = np.array([0, 0, 0, 1, 1])
    nb = ml.GaussianNB(var_smoothing=0.0).fit(X, y)
    # class 0: means (2, 3), 1/n variances (2/3, 2/3); class 1: means (6.5, 8.5), vars (1/4, 1/4)
    assert np.allclose(nb.theta_, [[2, 3], [6.5, 8.5]]) and np.allclose(nb.var_, [[2 / 3, 2 / 3], [0.25, 0.25]])
    q = (4.0, 5.0)
    joint0 = 3 / 5 * _normal_pdf(q[0], 2, 2 / 3) * _normal_pdf(q[1], 3, 2 / 3)
    joint1 = 2 / 5 * _normal_pdf(q[0], 6.5, 0.25) * _normal_pdf(q[1], 8.5, 0.25)
    proba = nb.predict_proba(np.array([q]))[0]
    assert proba == pytest.approx([joint0 / (joint0 + joint1), joint1 / (joint0 + joint1)], rel=1e-10)
    assert nb.predict(np.array([q]))[0] == (0 if joint0 > joint1 else 1)


def test_bernoulli_nb_matches_a_hand_computation_with_laplace_smoothing():
    X = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 1], [0, 1, 1]])
    y = np.array(["a", "a", "b", "b"])
    nb = ml.BernoulliNB(alpha=1.0).fit(X, y)
    # class a: ones (2, 1, 1) of 2 -> (3/4, 2/4, 2/4); class b: (0, 1, 2) -> (1/4, 2/4, 3/4)
    assert np.allclose(nb.feature_prob_, [[3 / 4, 1 / 2, 1 / 2], [1 / 4, 1 / 2, 3 / 4]])
    q = np.array([1, 0, 0])
    pa = 0.5 * (3 / 4) * (1 / 2) * (1 / 2)
    pb = 0.5 * (1 / 4) * (1 / 2) * (1 / 4)
    assert nb.predict_proba(q[None])[0] == pytest.approx([pa / (pa + pb), pb / (pa + pb)])
    assert nb.predict(q[None])[0] == "a"
    with pytest.raises(DataError, match="two classes"):
        ml.BernoulliNB().fit(X, ["a"] * 4)


@pytest.mark.parametrize("kind", ["gaussian", "bernoulli"])
def test_naive_bayes_derivations_verify_and_render(kind):
    d = naive_bayes_derivation(kind)
    assert d.verify() is True
    assert "independent" in d.to_text() and r"\mid" in d.to_latex()


@pytest.mark.parametrize("kind, family", [("gaussian", "Normal"), ("bernoulli", "Bernoulli")])
def test_naive_bayes_fits_by_the_library_mle_derivation(kind, family, monkeypatch):
    from symml.errors import VerificationError
    from symml.steps import mle

    d = naive_bayes_derivation(kind)
    step = next(s for s in d.steps if s.rule == "mle")
    assert [s.rule for s in step.substeps] == mle(family).rules()
    assert "second-order condition" in d.rules() and "6.1." in d.to_text()
    # a wrong fitted parameter would fail the step: break the estimator the check compares
    original = ml.GaussianNB.fit if kind == "gaussian" else ml.BernoulliNB.fit

    def wrong(self, X, y):
        original(self, X, y)
        if kind == "gaussian":
            self.var_ = self.var_ * len(X) / (len(X) - 1)  # the 1/(n-1) variance is not the MLE
        else:
            self.feature_prob_ = self.feature_prob_ * 0.999
        return self

    cls = ml.GaussianNB if kind == "gaussian" else ml.BernoulliNB
    monkeypatch.setattr(cls, "fit", wrong)
    with pytest.raises(VerificationError):
        naive_bayes_derivation(kind).verify()


def _clusters(seed=0):
    rng = np.random.default_rng(seed)
    means = np.array([[-4.0, 0.0], [3.0, 3.0], [3.0, -4.0]])
    covs = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.6, 0.0], [0.0, 0.6]], [[0.4, -0.2], [-0.2, 1.2]]])
    sizes = [300, 200, 100]
    X = np.vstack([rng.multivariate_normal(m, c, size=s) for m, c, s in zip(means, covs, sizes, strict=True)])
    return X, means, covs, np.array(sizes) / sum(sizes)


def test_gmm_recovers_well_separated_clusters_and_likelihood_never_decreases():
    X, means, covs, weights = _clusters()
    gm = ml.GaussianMixture(3, seed=0).fit(X)
    order = [int(np.argmin(((gm.means_ - m) ** 2).sum(axis=1))) for m in means]
    assert sorted(order) == [0, 1, 2]
    assert np.allclose(gm.means_[order], means, atol=0.2)
    assert np.allclose(gm.covariances_[order], covs, atol=0.25)
    assert np.allclose(gm.weights_[order], weights, atol=0.02)
    curve = np.array(gm.log_likelihood_curve_)
    assert np.all(np.diff(curve) >= -1e-9 * np.abs(curve[1:])) and gm.converged_
    assert gm.predict_proba(X).sum(axis=1) == pytest.approx(np.ones(len(X)))


def test_gmm_one_component_is_the_gaussian_mle():
    X, *_ = _clusters(1)
    gm = ml.GaussianMixture(1, seed=0, reg_covar=0.0).fit(X)
    assert np.allclose(gm.means_[0], X.mean(axis=0))
    assert np.allclose(gm.covariances_[0], np.cov(X, rowvar=False, bias=True))


def test_em_derivation_verifies():
    d = em_derivation()
    assert d.verify() is True
    assert [s.rule for s in d.steps][:2] == ["model", "e_step"]


def test_gmm_fit_checks_every_iteration_that_the_likelihood_did_not_decrease(monkeypatch):
    """Sabotage the E-step at the third iteration: fit must notice the drop and raise."""
    from symml.errors import DerivationError

    X, *_ = _clusters(2)
    real = ml.GaussianMixture._log_joint
    calls = {"n": 0}

    def worse(self, A, w, m, c):
        calls["n"] += 1
        out = real(self, A, w, m, c)
        return out - 1.0 if calls["n"] == 3 else out

    monkeypatch.setattr(ml.GaussianMixture, "_log_joint", worse)
    with pytest.raises(DerivationError, match="iteration 3"):
        ml.GaussianMixture(3, seed=0, tol=0).fit(X)
