"""SVM: the maximum-margin hyperplane on hand-made data, kernels, and a zero duality gap."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from symml.errors import ArgumentError, DataError
from symml.ml import SVM
from symml.ml.svm import svm_derivation


def test_hard_margin_on_a_hand_made_set_matches_the_analytic_margin():
    # classes separated by the line x1 + x2 = 2: closest points (0.5, 0.5) and (1.5, 1.5)
    X = np.array([[0.5, 0.5], [0.0, 1.0], [-1.0, 0.0], [1.5, 1.5], [3.0, 1.0], [2.0, 3.0]])
    y = np.array(["no", "no", "no", "yes", "yes", "yes"])
    s = SVM(C=np.inf).fit(X, y)
    assert s.score(X, y) == 1.0
    # the maximal margin is half the distance between (0.5, 0.5) and (1.5, 1.5)
    assert s.margin_ == pytest.approx(np.sqrt(2) / 2, rel=1e-8)
    assert np.allclose(s.coef_ / np.linalg.norm(s.coef_), [1 / np.sqrt(2)] * 2)
    assert s.intercept_ / np.linalg.norm(s.coef_) == pytest.approx(-2 / np.sqrt(2), rel=1e-8)
    assert sorted(s.support_.tolist()) == [0, 3]
    assert abs(s.duality_gap_) < 1e-8
    assert np.allclose(np.abs(s.decision_function(s.support_vectors_)), 1.0)


def _blobs(seed=0, n=60):
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(-1, 1, (n, 2)), rng.normal(1.2, 1, (n, 2))]
    return X, np.r_[-np.ones(n), np.ones(n)]


@pytest.mark.parametrize("kernel", ["linear", "poly", "rbf"])
def test_dual_optimum_matches_the_primal_and_kkt_holds(kernel):
    X, y = _blobs()
    s = SVM(kernel=kernel, C=1.0, degree=2).fit(X, y)
    assert s.converged_
    assert abs(s.duality_gap_) < 1e-6
    a = s.alpha_
    assert np.all(a >= -1e-12) and np.all(a <= 1.0 + 1e-12)
    assert abs(np.sum(a * y)) < 1e-10
    f = s.decision_function(X)
    margin = y * f
    assert np.all(margin[a < 1e-9] >= 1 - 1e-5)  # outside or on the margin
    free = (a > 1e-7) & (a < 1 - 1e-7)
    assert np.allclose(margin[free], 1.0, atol=1e-5)  # on the margin


def test_rbf_separates_concentric_circles_and_linear_cannot():
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 2 * np.pi, 200)
    r = np.r_[rng.uniform(0, 1, 100), rng.uniform(2, 3, 100)]
    X = np.c_[r * np.cos(t), r * np.sin(t)]
    y = np.r_[np.zeros(100), np.ones(100)]
    assert SVM(kernel="rbf", C=10.0).fit(X, y).score(X, y) == 1.0
    assert SVM(kernel="linear", C=10.0).fit(X, y).score(X, y) < 0.8


def test_polynomial_kernel_is_the_feature_map_inner_product():
    rng = np.random.default_rng(2)
    A, B = rng.normal(size=(5, 2)), rng.normal(size=(4, 2))
    s = SVM(kernel="poly", degree=2, gamma=1.0, coef0=1.0)
    s.gamma_ = 1.0

    def phi(Z):
        r = np.sqrt(2)
        return np.c_[np.ones(len(Z)), r * Z[:, 0], r * Z[:, 1], Z[:, 0] ** 2, r * Z[:, 0] * Z[:, 1], Z[:, 1] ** 2]

    assert np.allclose(s._kernel(A, B), phi(A) @ phi(B).T)


def test_bad_input():
    X, y = _blobs()
    with pytest.raises(DataError, match="two classes"):
        SVM().fit(X, np.zeros(len(X)))
    with pytest.raises(ArgumentError, match="kernel"):
        SVM(kernel="sigmoid").fit(X, y)
    with pytest.raises(ArgumentError, match="not fitted"):
        SVM().predict(X)


def test_svm_derivation_verifies():
    d = svm_derivation()
    assert d.verify() is True
    assert [s.rule for s in d.steps] == [
        "hard_margin", "primal", "lagrangian", "stationarity", "dual", "kkt", "kernel_trick",
    ]
    text = d.to_text()
    assert "KKT" in text and "complementary slackness" in text
    kt = d.steps[-1]
    assert sympy.expand(kt.before - kt.after) == 0 and "sqrt(2)" in str(kt.explanation.params["phi"])
