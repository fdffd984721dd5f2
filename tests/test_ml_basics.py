"""symml.ml: metrics, preprocessing, model selection and PCA against hand computations
and NumPy's own decompositions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symml.ml as ml
from symml.errors import ArgumentError, DataError, ShapeError
from symml.ml import metrics
from symml.ml.model_selection import (
    KFold,
    cross_val_score,
    grid_search,
    random_search,
    train_test_split,
)
from symml.ml.preprocessing import (
    MinMaxScaler,
    OneHotEncoder,
    PolynomialFeatures,
    StandardScaler,
    impute,
)


# -- metrics: hand-computed cases --------------------------------------------------------------
def test_classification_metrics_by_hand():
    t = [1, 1, 1, 0, 0, 0, 0, 1]
    p = [1, 0, 1, 0, 1, 0, 0, 1]
    # TP = 3, FN = 1, FP = 1, TN = 3
    assert metrics.accuracy(t, p) == 6 / 8
    assert metrics.precision(t, p) == 3 / 4
    assert metrics.recall(t, p) == 3 / 4
    assert metrics.f1(t, p) == pytest.approx(0.75)
    assert metrics.confusion_matrix(t, p).tolist() == [[3, 1], [1, 3]]
    assert metrics.precision(t, [0] * 8) == 0.0


def test_precision_recall_with_string_labels_and_pos_label():
    t = ["spam", "ham", "spam", "ham"]
    p = ["spam", "spam", "ham", "ham"]
    assert metrics.precision(t, p, pos_label="spam") == 0.5
    assert metrics.recall(t, p, pos_label="ham") == 0.5
    with pytest.raises(DataError, match="pos_label"):
        metrics.f1([0, 1, 2], [0, 1, 2])


def _auc_by_pairs(t, s):
    pos = [si for ti, si in zip(t, s, strict=True) if ti == 1]
    neg = [si for ti, si in zip(t, s, strict=True) if ti == 0]
    wins = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 5)), min_size=2, max_size=30))
def test_roc_auc_is_the_pairwise_win_rate(rows):
    t = [r[0] for r in rows]
    s = [r[1] / 5 for r in rows]
    if len(set(t)) < 2:
        with pytest.raises(DataError):
            metrics.roc_auc(t, s)
        return
    assert metrics.roc_auc(t, s) == pytest.approx(_auc_by_pairs(t, s))
    fpr, tpr, _ = metrics.roc_curve(t, s)
    assert np.trapezoid(tpr, fpr) == pytest.approx(_auc_by_pairs(t, s))


def test_regression_metrics_by_hand():
    t, p = [3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]
    assert metrics.mse(t, p) == pytest.approx((0.25 + 0.25 + 0 + 1) / 4)
    assert metrics.mae(t, p) == pytest.approx((0.5 + 0.5 + 0 + 1) / 4)
    ss_tot = sum((v - 2.875) ** 2 for v in t)
    assert metrics.r2(t, p) == pytest.approx(1 - 1.5 / ss_tot)
    with pytest.raises(ShapeError):
        metrics.mse([1, 2], [1, 2, 3])
    with pytest.raises(DataError, match="constant"):
        metrics.r2([1, 1], [1, 2])


# -- preprocessing -------------------------------------------------------------------------------
def test_impute_strategies_and_report():
    X = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 8.0], [5.0, 6.0]])
    Xm, rep = impute(X, "mean")
    assert Xm[2, 0] == 3.0 and Xm[0, 1] == 6.0
    assert rep.filled["x0"] == (1, 3.0) and rep.filled["x1"] == (1, 6.0)
    Xd, rep = impute(X, "median")
    assert Xd[0, 1] == 6.0
    Xdrop, rep = impute(X, "drop")
    assert Xdrop.tolist() == [[3.0, 4.0], [5.0, 6.0]] and rep.rows_after == 2
    with pytest.raises(ArgumentError, match="strategy"):
        impute(X, "mode")


def test_scalers_round_trip_and_statistics():
    rng = np.random.default_rng(0)
    X = rng.normal(3, 2, size=(50, 3))
    Z = StandardScaler().fit_transform(X)
    assert np.allclose(Z.mean(axis=0), 0) and np.allclose(Z.std(axis=0), 1)
    sc = StandardScaler().fit(X)
    assert np.allclose(sc.inverse_transform(sc.transform(X)), X)
    M = MinMaxScaler((-1, 1)).fit(X)
    T = M.transform(X)
    assert np.allclose(T.min(axis=0), -1) and np.allclose(T.max(axis=0), 1)
    assert np.allclose(M.inverse_transform(T), X)
    with pytest.raises(DataError, match="non-finite"):
        StandardScaler().fit([[1.0], [np.nan]])


def test_one_hot_and_polynomial_feature_names():
    enc = OneHotEncoder().fit([["a", 1], ["b", 2], ["a", 3]])
    assert enc.get_feature_names_out() == ["x0=a", "x0=b", "x1=1", "x1=2", "x1=3"]
    assert enc.transform([["b", 3]]).tolist() == [[0, 1, 0, 0, 1]]
    with pytest.raises(DataError, match="unknown category"):
        enc.transform([["c", 1]])
    pf = PolynomialFeatures(2).fit(np.zeros((1, 2)))
    X = np.array([[2.0, 3.0]])
    assert dict(zip(pf.get_feature_names_out(), pf.transform(X)[0], strict=True)) == {
        "1": 1, "x0": 2, "x1": 3, "x0^2": 4, "x0*x1": 6, "x1^2": 9,
    }
    inter = PolynomialFeatures(3, interaction_only=True, include_bias=False).fit(np.zeros((1, 3)))
    assert inter.get_feature_names_out() == ["x0", "x1", "x2", "x0*x1", "x0*x2", "x1*x2", "x0*x1*x2"]


# -- model selection -------------------------------------------------------------------------------
def test_split_and_folds_are_seeded_partitions():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20)
    a = train_test_split(X, y, test_size=0.25, seed=3)
    b = train_test_split(X, y, test_size=0.25, seed=3)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert sorted(np.r_[a[2], a[3]].tolist()) == list(range(20)) and len(a[3]) == 5
    seen = []
    for train, test in KFold(6, shuffle=True, seed=1).split(X):
        assert set(train).isdisjoint(test) and len(train) + len(test) == 20
        seen.extend(test.tolist())
    assert sorted(seen) == list(range(20))
    with pytest.raises(ArgumentError):
        KFold(1)


class _Threshold(ml._base.Estimator):
    """A tiny classifier for testing the search: predict 1 where x > t."""

    def __init__(self, t: float = 0.0):
        self.t = t

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict(self, X):
        return (np.asarray(X)[:, 0] > self.t).astype(int)


def test_cross_validation_and_searches_find_the_best_setting():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(60, 1))
    y = (X[:, 0] > 0.3).astype(int)
    scores = cross_val_score(_Threshold(0.3), X, y, cv=5)
    assert scores.shape == (5,) and np.all(scores == 1.0)
    res = grid_search(_Threshold(), {"t": [-0.5, 0.0, 0.3, 0.6]}, X, y, cv=3)
    assert res.best_params_ == {"t": 0.3} and res.best_score_ == 1.0
    assert len(res.results_) == 4 and res.best_estimator_.fitted_
    rs = random_search(_Threshold(), {"t": lambda r: r.uniform(0.25, 0.35)}, X, y, n_iter=4, cv=3, seed=2)
    assert 0.25 <= rs.best_params_["t"] <= 0.35
    with pytest.raises(ArgumentError, match="no parameter"):
        _Threshold().set_params(s=1)


# -- PCA -------------------------------------------------------------------------------------------------
def _data(seed=0, n=80, d=5):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)


def test_pca_agrees_with_numpy_svd_up_to_sign():
    X = _data()
    p = ml.PCA(n_components=3).fit(X)
    Xc = X - X.mean(axis=0)
    _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    for comp, ref in zip(p.components_, Vt[:3], strict=True):
        assert np.allclose(comp, ref) or np.allclose(comp, -ref)
    assert np.allclose(p.explained_variance_, s[:3] ** 2 / (len(X) - 1))
    assert np.allclose(p.explained_variance_, np.sort(np.linalg.eigvalsh(np.cov(X, rowvar=False)))[::-1][:3])
    assert np.isclose(p.explained_variance_ratio_.sum(), (s[:3] ** 2).sum() / (s**2).sum())
    assert np.allclose(p.transform(X), Xc @ p.components_.T)


@pytest.mark.parametrize("scale", [False, True])
def test_pca_reconstruction_error_is_the_sum_of_dropped_eigenvalues(scale):
    X = _data(1)
    p = ml.PCA(n_components=2, scale=scale).fit(X)
    C = np.corrcoef(X, rowvar=False) if scale else np.cov(X, rowvar=False)
    dropped = np.sort(np.linalg.eigvalsh(C))[::-1][2:].sum()
    assert p.reconstruction_error(X) == pytest.approx(dropped, rel=1e-10)
    full = ml.PCA(scale=scale).fit(X)
    assert np.allclose(full.inverse_transform(full.transform(X)), X)


def test_pca_bad_input_and_derivation():
    with pytest.raises(ArgumentError, match="n_components"):
        ml.PCA(n_components=9).fit(_data())
    with pytest.raises(ArgumentError, match="not fitted"):
        ml.PCA().transform(_data())
    d = ml.PCA().derivation()
    assert d.verify() is True
    assert [s.rule for s in d.steps] == ["problem", "definition", "gradient", "stationarity", "value", "example", "components", "reconstruction"]
    assert "standard_form" in d.rules() and "kkt_check" in d.rules()  # the library's Lagrange steps
    for render in (d.to_text, d.to_markdown, d.to_latex):
        assert "eigen" in render()
