"""The pipeline pieces: interpretability (sensitivities vs finite differences, Taylor
attributions), L1 feature selection vs a coordinate-descent lasso, and an end-to-end run."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symml as sm
from symml.ml import PCA, GaussianNB, metrics
from symml.ml.interpret import coefficients, l1_select, sensitivity, taylor_attribution
from symml.ml.model_selection import cross_val_score, train_test_split
from symml.ml.preprocessing import PolynomialFeatures, StandardScaler, impute


def test_sensitivity_matches_central_differences():
    f = "log(1 + exp(x1*x2)) + sin(x3)*x1"
    at = {"x1": 0.3, "x2": -1.2, "x3": 0.7}
    s = sensitivity(f, ["x1", "x2", "x3"], at)
    expr = sm.expr(f)
    h = 1e-6
    for name in at:
        up, dn = dict(at), dict(at)
        up[name] += h
        dn[name] -= h
        val = lambda p: float(expr.evalf(subs={sm.symbol(k): v for k, v in p.items()}))  # noqa: E731
        assert s[name] == pytest.approx((val(up) - val(dn)) / (2 * h), rel=1e-7)


def test_taylor_attribution_is_exact_for_linear_models_and_reports_the_residual():
    a = taylor_attribution("2*x1 - 3*x2 + 1", ["x1", "x2"], {"x1": 1.5, "x2": 2.0})
    assert a.attributions == {"x1": 3.0, "x2": -6.0} and a.residual == pytest.approx(0)
    b = taylor_attribution("x1*x2", ["x1", "x2"], {"x1": 1.0, "x2": 2.0}, baseline={"x1": 1.0, "x2": 1.0})
    assert b.attributions == {"x1": 0.0, "x2": 1.0} and b.residual == pytest.approx(0.0)
    c = taylor_attribution("x1^2", ["x1"], {"x1": 3.0}, baseline={"x1": 1.0})
    assert c.attributions["x1"] == 4.0 and c.residual == pytest.approx(4.0)  # 9 - 1 - 2*2


def _lasso_cd(Z, y, alpha, iters=5000):
    """Coordinate descent for (1/2n)||y - b - Zw||^2 + alpha ||w||_1 (Z standardized)."""
    n, d = Z.shape
    w, b = np.zeros(d), y.mean()
    for _ in range(iters):
        for j in range(d):
            r = y - b - Z @ w + Z[:, j] * w[j]
            rho = Z[:, j] @ r / n
            w[j] = np.sign(rho) * max(abs(rho) - alpha, 0) / (Z[:, j] @ Z[:, j] / n)
    return w


def test_l1_selection_agrees_with_coordinate_descent_lasso():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 6))
    y = 2 * X[:, 0] - 1.5 * X[:, 3] + 0.5 * X[:, 4] + 0.3 * rng.normal(size=150)
    names, coef = l1_select(X, y, 0.3, feature_names=list("abcdef"))
    Z = (X - X.mean(0)) / X.std(0)
    ref = _lasso_cd(Z, y, 0.3)
    assert np.allclose(coef, ref, atol=1e-6)
    assert names == [n for n, c in zip("abcdef", ref, strict=True) if abs(c) > 1e-9]


def test_coefficient_table_has_wald_z_and_p_values():
    rng = np.random.default_rng(1)
    x = rng.normal(size=300)
    y = (rng.uniform(size=300) < 1 / (1 + np.exp(-(0.5 + 1.2 * x)))).astype(float)
    res = sm.fit("y ~ Bernoulli(sigmoid(a + b*x))", {"x": x, "y": y}, p0={"a": 0, "b": 0})
    rows = {r[0]: r for r in coefficients(res)}
    for name in ("a", "b"):
        _, est, se, z, p = rows[name]
        assert est == pytest.approx(res.params[name]) and se == pytest.approx(res.stderr[name])
        assert z == pytest.approx(est / se)
        assert p == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))


def test_end_to_end_pipeline():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(240, 3))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    X[rng.integers(0, 240, 10), rng.integers(0, 3, 10)] = np.nan
    Xi, report = impute(X, "median")
    assert sum(k for k, _ in report.filled.values()) == int(np.isnan(X).sum())
    poly = PolynomialFeatures(2, include_bias=False).fit(Xi)
    F = StandardScaler().fit_transform(poly.transform(Xi))
    assert len(poly.get_feature_names_out()) == F.shape[1] == 9
    Ftr, Fte, ytr, yte = train_test_split(F, y, test_size=0.25, seed=0)
    nb = GaussianNB().fit(Ftr, ytr)
    scores = cross_val_score(GaussianNB(), F, y, cv=4)
    assert scores.mean() > 0.75 and metrics.accuracy(yte, nb.predict(Fte)) > 0.75
    auc = metrics.roc_auc(yte, nb.predict_proba(Fte)[:, 1])
    assert 0.8 < auc <= 1.0
    Z = PCA(n_components=2).fit_transform(F)
    assert Z.shape == (240, 2)


def test_dataframes_work_like_arrays_and_carry_names():
    pd = pytest.importorskip("pandas", reason='pip install "symml[pandas]"')
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"height": rng.normal(170, 10, 80), "weight": rng.normal(70, 8, 80)})
    y = pd.Series((df["height"] + rng.normal(0, 5, 80) > 170).astype(int))
    sc = StandardScaler().fit(df)
    assert sc.get_feature_names_out() == ["height", "weight"]
    assert np.allclose(sc.transform(df), StandardScaler().fit_transform(df.to_numpy()))
    poly = PolynomialFeatures(2, include_bias=False).fit(df)
    assert poly.get_feature_names_out()[-1] == "weight^2"
    nb_df = GaussianNB().fit(df, y)
    nb_np = GaussianNB().fit(df.to_numpy(), y.to_numpy())
    assert np.array_equal(nb_df.predict(df), nb_np.predict(df.to_numpy()))
    tr, te, ytr, yte = train_test_split(df, y, test_size=0.25, seed=1)
    assert isinstance(tr, pd.DataFrame) and len(te) == 20 and len(ytr) == 60
    Xi, rep = impute(df.assign(weight=df["weight"].where(df.index % 10 != 0)), "mean")
    assert rep.filled["weight"][0] == 8


def test_grid_search_tunes_learning_rate_batch_size_and_regularization():
    from symml.ml import MLP
    from symml.ml.datasets import make_moons
    from symml.ml.model_selection import grid_search

    X, y = make_moons(120, noise=0.15, seed=0)
    base = MLP(hidden=(6,), optimizer="minibatch", epochs=60, seed=0)
    res = grid_search(base, {"lr": [0.001, 0.3], "batch_size": [16, 60], "alpha": [0.0, 1e-3]}, X, y, cv=3)
    assert len(res.results_) == 8
    assert res.best_params_["lr"] == 0.3  # a learning rate 300x smaller cannot train in 60 epochs
    assert res.best_score_ > 0.8 and res.best_estimator_.score(X, y) > 0.8


def test_sensitivity_and_taylor_attribution_of_a_fitted_network():
    from symml.ml import MLP
    from symml.ml.datasets import make_moons

    X, y = make_moons(100, noise=0.1, seed=0)
    net = MLP(hidden=(4,), epochs=80, lr=0.05, seed=0).fit(X, y)
    expr, inputs = net.expression()
    at = np.array([0.3, 0.2])
    point = {str(s): v for s, v in zip(inputs, at, strict=True)}
    s = sensitivity(expr, inputs, point)
    h = 1e-6
    for k, name in enumerate(point):
        e = np.eye(2)[k] * h
        fd = (net.predict_proba([at + e])[0, 1] - net.predict_proba([at - e])[0, 1]) / (2 * h)
        assert s[name] == pytest.approx(fd, rel=1e-6, abs=1e-10)
    base = np.array([-0.5, 0.4])
    a = taylor_attribution(expr, inputs, point, baseline={str(q): v for q, v in zip(inputs, base, strict=True)})
    p_at, p_base = net.predict_proba([at, base])[:, 1]
    assert a.f_x == pytest.approx(p_at, rel=1e-10) and a.f_baseline == pytest.approx(p_base, rel=1e-10)
    grad_base = sensitivity(expr, inputs, {str(q): v for q, v in zip(inputs, base, strict=True)})
    for k, name in enumerate(point):
        assert a.attributions[name] == pytest.approx(grad_base[name] * (at[k] - base[k]))
    assert a.residual == pytest.approx(p_at - p_base - sum(a.attributions.values()), abs=1e-12)


def test_random_search_tunes_learning_rate_batch_size_and_regularization():
    from symml.ml import MLP
    from symml.ml.datasets import make_moons
    from symml.ml.model_selection import random_search

    X, y = make_moons(120, noise=0.15, seed=0)
    base = MLP(hidden=(6,), optimizer="minibatch", epochs=60, seed=0)
    space = {"lr": lambda r: 10 ** r.uniform(-3.5, -0.5), "batch_size": [16, 40, 120],
             "alpha": lambda r: 10 ** r.uniform(-5, -2)}  # fmt: skip
    a = random_search(base, space, X, y, n_iter=5, cv=3, seed=4)
    rng = np.random.default_rng(4)  # seeded: the draws are these, in this order
    first = {"lr": 10 ** rng.uniform(-3.5, -0.5), "batch_size": [16, 40, 120][rng.integers(3)],
             "alpha": 10 ** rng.uniform(-5, -2)}  # fmt: skip
    assert a.results_[0][0] == first
    assert len(a.results_) == 5 and all(set(r[0]) == {"lr", "batch_size", "alpha"} for r in a.results_)
    assert all(10**-3.5 <= r[0]["lr"] <= 10**-0.5 and r[0]["batch_size"] in (16, 40, 120) for r in a.results_)
    best = max(a.results_, key=lambda r: r[1])
    assert a.best_params_ == best[0] and a.best_score_ == best[1]
    assert a.best_estimator_.get_params()["lr"] == a.best_params_["lr"]
    # a learning rate below 0.01 cannot train in 60 epochs; the search picks a larger one
    assert a.best_params_["lr"] > 0.01 and a.best_score_ > 0.8


def test_coefficient_table_matches_statsmodels():
    sm_api = pytest.importorskip("statsmodels.api", reason='pip install "symml[reference]"')
    rng = np.random.default_rng(7)
    x1, x2 = rng.normal(size=400), rng.normal(size=400)
    y = (rng.uniform(size=400) < 1 / (1 + np.exp(-(0.3 + 1.0 * x1 - 0.7 * x2)))).astype(float)
    res = sm.fit("y ~ Bernoulli(sigmoid(a + b*x1 + c*x2))", {"x1": x1, "x2": x2, "y": y},
                 p0={"a": 0, "b": 0, "c": 0})  # fmt: skip
    ref = sm_api.Logit(y, np.c_[np.ones(400), x1, x2]).fit(disp=0)
    rows = {r[0]: r for r in coefficients(res)}
    for k, name in enumerate("abc"):
        _, est, se, z, p = rows[name]
        assert est == pytest.approx(ref.params[k], rel=1e-5)
        assert se == pytest.approx(ref.bse[k], rel=1e-4)
        assert z == pytest.approx(ref.tvalues[k], rel=1e-4)
        assert p == pytest.approx(ref.pvalues[k], rel=1e-3, abs=1e-12)
