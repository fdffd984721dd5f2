"""symml.ml against scikit-learn (the "reference" extra) as an independent implementation:
PCA, naive Bayes, Gaussian mixtures, SVC's decision function and sklearn.metrics on the same
data with the same hyperparameters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symml.ml as ml
from symml.ml import metrics

sklearn = pytest.importorskip("sklearn", reason='pip install "symml[reference]"')
from sklearn import decomposition, mixture, naive_bayes, svm  # noqa: E402
from sklearn import metrics as skm  # noqa: E402


def _data(seed=0, n=120, d=5):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_pca_matches_sklearn(k):
    X = _data()
    ours = ml.PCA(n_components=k).fit(X)
    ref = decomposition.PCA(n_components=k, svd_solver="full").fit(X)
    assert np.allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-10)
    assert np.allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-10)
    assert np.allclose(ours.mean_, ref.mean_)
    signs = np.sign(np.sum(ours.components_ * ref.components_, axis=1))
    assert np.allclose(ours.components_, signs[:, None] * ref.components_, atol=1e-10)
    assert np.allclose(ours.transform(X), ref.transform(X) * signs, atol=1e-9)
    Z = ours.transform(X)
    assert np.allclose(ours.inverse_transform(Z), ref.inverse_transform(Z * signs), atol=1e-9)


def _classes(seed=1):
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(0, 1, (40, 3)), rng.normal([2, -1, 0.5], [0.5, 2, 1], (30, 3)),
              rng.normal([-1, 2, 2], 1, (20, 3))]  # fmt: skip
    return X, np.repeat(["a", "b", "c"], [40, 30, 20])


def test_gaussian_nb_matches_sklearn():
    X, y = _classes()
    ours, ref = ml.GaussianNB().fit(X, y), naive_bayes.GaussianNB().fit(X, y)
    assert np.allclose(ours.theta_, ref.theta_) and np.allclose(ours.var_, ref.var_, rtol=1e-10)
    Q = np.random.default_rng(9).normal(0, 2, (50, 3))
    assert np.allclose(ours.predict_proba(Q), ref.predict_proba(Q), atol=1e-12)
    assert np.array_equal(ours.predict(Q), ref.predict(Q))


def test_bernoulli_nb_matches_sklearn():
    rng = np.random.default_rng(2)
    X = (rng.uniform(size=(80, 6)) < np.r_[np.full(40, 0.3), np.full(40, 0.7)][:, None]).astype(float)
    y = np.r_[np.zeros(40), np.ones(40)]
    for alpha in (1.0, 0.5):
        ours = ml.BernoulliNB(alpha=alpha).fit(X, y)
        ref = naive_bayes.BernoulliNB(alpha=alpha).fit(X, y)
        assert np.allclose(ours.feature_prob_, np.exp(ref.feature_log_prob_))
        assert np.allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-12)


def test_gaussian_mixture_matches_sklearn_on_separated_clusters():
    rng = np.random.default_rng(3)
    X = np.r_[rng.multivariate_normal([-4, 0], [[1, 0.3], [0.3, 0.5]], 200),
              rng.multivariate_normal([3, 3], [[0.6, 0], [0, 0.6]], 100)]  # fmt: skip
    ours = ml.GaussianMixture(2, seed=0).fit(X)
    ref = mixture.GaussianMixture(2, random_state=0, tol=1e-10, reg_covar=1e-6).fit(X)
    order = [int(np.argmin(((ref.means_ - m) ** 2).sum(axis=1))) for m in ours.means_]
    assert sorted(order) == [0, 1]
    assert np.allclose(ours.means_, ref.means_[order], atol=1e-5)
    assert np.allclose(ours.covariances_, ref.covariances_[order], atol=1e-5)
    assert np.allclose(ours.weights_, ref.weights_[order], atol=1e-6)
    assert ours.score(X) == pytest.approx(ref.score(X), rel=1e-7)


@pytest.mark.parametrize(
    "kernel, params",
    [("linear", {}), ("poly", {"degree": 2, "gamma": 0.5, "coef0": 1.0}),
     ("poly", {"degree": 3, "gamma": "scale", "coef0": 1.0}), ("rbf", {"gamma": 0.7}),
     ("rbf", {"gamma": "scale"})],  # fmt: skip
)
@pytest.mark.parametrize("C", [0.5, 10.0])
def test_svm_decision_function_matches_sklearn_svc(kernel, params, C):
    rng = np.random.default_rng(4)
    X = np.r_[rng.normal(-1, 1, (40, 2)), rng.normal(1, 1, (40, 2))]
    y = np.r_[np.full(40, 3), np.full(40, 7)]  # any two labels
    ours = ml.SVM(kernel=kernel, C=C, **params).fit(X, y)
    ref = svm.SVC(kernel=kernel, C=C, tol=1e-10, **params).fit(X, y)
    Q = rng.uniform(-3, 3, (60, 2))
    scale = max(1.0, float(np.abs(ref.decision_function(Q)).max()))
    assert np.allclose(ours.decision_function(Q), ref.decision_function(Q), atol=1e-5 * scale)
    assert np.array_equal(ours.predict(Q), ref.predict(Q))
    assert np.array_equal(ours.classes_, ref.classes_)
    if kernel == "linear":
        assert np.allclose(ours.coef_, ref.coef_[0], atol=1e-5)


_labels = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 9)), min_size=2, max_size=40)


@settings(max_examples=80, deadline=None)
@given(_labels)
def test_classification_metrics_match_sklearn(rows):
    t = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    s = np.array([r[2] for r in rows]) / 9
    assert metrics.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
    kw = {"zero_division": 0, "labels": [0, 1]}
    assert metrics.precision(t, p, pos_label=1) == pytest.approx(skm.precision_score(t, p, **kw))
    assert metrics.recall(t, p, pos_label=1) == pytest.approx(skm.recall_score(t, p, **kw))
    assert metrics.f1(t, p, pos_label=1) == pytest.approx(skm.f1_score(t, p, **kw))
    assert metrics.confusion_matrix(t, p, labels=[0, 1]).tolist() == skm.confusion_matrix(t, p, labels=[0, 1]).tolist()
    if len(set(t.tolist())) == 2:
        assert metrics.roc_auc(t, s) == pytest.approx(skm.roc_auc_score(t, s))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-100, 100), st.floats(-100, 100)), min_size=2, max_size=30))
def test_regression_metrics_match_sklearn(rows):
    t = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    assert metrics.mse(t, p) == pytest.approx(skm.mean_squared_error(t, p), rel=1e-12, abs=1e-12)
    assert metrics.mae(t, p) == pytest.approx(skm.mean_absolute_error(t, p), rel=1e-12, abs=1e-12)
    if np.ptp(t) > 1e-6:
        assert metrics.r2(t, p) == pytest.approx(skm.r2_score(t, p), rel=1e-9, abs=1e-9)


def test_roc_curve_matches_sklearn():
    rng = np.random.default_rng(5)
    t = rng.integers(0, 2, 60)
    s = np.round(rng.uniform(size=60) + 0.4 * t, 1)  # ties on purpose
    fpr, tpr, thr = metrics.roc_curve(t, s)
    rf, rt, rth = skm.roc_curve(t, s, drop_intermediate=False)
    assert np.allclose(fpr, rf) and np.allclose(tpr, rt) and np.allclose(thr[1:], rth[1:])


def test_preprocessing_matches_sklearn():
    from sklearn import preprocessing as skp

    from symml.ml.preprocessing import (
        MinMaxScaler,
        OneHotEncoder,
        PolynomialFeatures,
        StandardScaler,
    )

    X = _data(6, n=30, d=3)
    assert np.allclose(StandardScaler().fit_transform(X), skp.StandardScaler().fit_transform(X))
    assert np.allclose(MinMaxScaler((-1, 2)).fit_transform(X), skp.MinMaxScaler((-1, 2)).fit_transform(X))
    ours, ref = PolynomialFeatures(3).fit(X), skp.PolynomialFeatures(3).fit(X)
    assert np.allclose(ours.transform(X), ref.transform(X))
    ref_names = [n.replace(" ", "*") for n in ref.get_feature_names_out()]
    assert ours.get_feature_names_out() == ref_names
    cats = np.array([["red", "s"], ["blue", "m"], ["red", "l"], ["green", "m"]], dtype=object)
    enc, skenc = OneHotEncoder().fit(cats), skp.OneHotEncoder().fit(cats)
    assert np.array_equal(enc.transform(cats), skenc.transform(cats).toarray())
    assert enc.get_feature_names_out() == [n.replace("_", "=", 1) for n in skenc.get_feature_names_out()]


def test_l1_logistic_selection_matches_sklearn():
    from sklearn.linear_model import LogisticRegression

    from symml.ml.interpret import l1_select

    rng = np.random.default_rng(8)
    X = rng.normal(size=(300, 5))
    y = (rng.uniform(size=300) < 1 / (1 + np.exp(-(1.5 * X[:, 0] - X[:, 2])))).astype(int)
    alpha = 0.05
    names, coef = l1_select(X, y, alpha, loss="logistic")
    Z = (X - X.mean(0)) / X.std(0)
    # sklearn minimises ||w||_1 + C sum(logloss); ours mean(logloss) + alpha ||w||_1
    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    l1 = {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}  # 1.8 deprecates penalty
    ref = LogisticRegression(C=1 / (alpha * len(Z)), solver="liblinear", tol=1e-10,
                             intercept_scaling=100.0, max_iter=10000, **l1).fit(Z, y)  # fmt: skip
    assert np.allclose(coef, ref.coef_[0], atol=2e-3)
    assert names == [f"x{j}" for j in np.flatnonzero(np.abs(ref.coef_[0]) > 1e-8)]
