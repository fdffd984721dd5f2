"""The interface contract of symml.ml, estimator by estimator: scikit-learn conventions
(constructor hyperparameters, fit returns self, get_params/set_params, clone), a derivation
that verifies and renders in text, Markdown and LaTeX, and NumPy arrays and pandas
DataFrames giving the same results."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import symml.ml as ml
from symml.errors import ArgumentError
from symml.ml import metrics
from symml.ml.datasets import make_blobs, make_moons
from symml.ml.model_selection import KFold, clone, cross_val_score, train_test_split
from symml.steps import Derivation

# the constructor signatures the interface contract names (name -> default)
CONTRACT = {
    ml.PCA: {"n_components": None, "scale": False},
    ml.SVM: {"kernel": "linear", "C": 1.0, "degree": 3, "gamma": "scale", "coef0": 1.0},
    ml.MLP: {"hidden": (8,), "activation": "tanh", "loss": "cross_entropy", "optimizer": "adam",
             "lr": 0.01, "epochs": None, "batch_size": None, "seed": None},  # fmt: skip
    ml.GaussianNB: {},
    ml.BernoulliNB: {"alpha": 1.0},
    ml.GaussianMixture: {"n_components": None, "seed": None},
}
ATTRIBUTES = {
    ml.PCA: ["fit", "transform", "inverse_transform", "components_", "explained_variance_",
             "explained_variance_ratio_", "mean_"],  # fmt: skip
    ml.SVM: ["fit", "predict", "decision_function", "support_vectors_", "dual_coef_", "intercept_", "margin_"],
    ml.MLP: ["fit", "predict", "predict_proba", "loss_curve_"],
    ml.GaussianNB: ["fit", "predict", "predict_proba"],
    ml.BernoulliNB: ["fit", "predict", "predict_proba"],
    ml.GaussianMixture: ["fit", "predict", "predict_proba", "means_", "covariances_", "weights_",
                         "log_likelihood_curve_"],  # fmt: skip
}


def _small_fit(cls):
    X, y = make_blobs(40, centers=((-2.0, 0.0), (2.0, 0.5)), sd=0.7, seed=0)
    kw = {ml.PCA: {"n_components": 1}, ml.GaussianMixture: {"n_components": 2, "seed": 0},
          ml.MLP: {"hidden": (3,), "epochs": 20, "lr": 0.05}, ml.SVM: {"C": 1.0}}.get(cls, {})  # fmt: skip
    est = cls(**kw)
    Xb = (X > 0).astype(float) if cls is ml.BernoulliNB else X
    out = est.fit(Xb) if cls in (ml.PCA, ml.GaussianMixture) else est.fit(Xb, y)
    return est, out


@pytest.mark.parametrize("cls", list(CONTRACT), ids=lambda c: c.__name__)
def test_constructor_signature_and_fitted_names_follow_the_contract(cls):
    sig = inspect.signature(cls.__init__).parameters
    for name, default in CONTRACT[cls].items():
        assert name in sig, f"{cls.__name__} lacks {name}"
        if default is not None:
            assert sig[name].default == default, (cls.__name__, name)
    est, out = _small_fit(cls)
    assert out is est  # fit returns self
    for attr in ATTRIBUTES[cls]:
        assert hasattr(est, attr), f"{cls.__name__}.{attr}"
    fitted = [a for a in vars(est) if a.endswith("_") and not a.startswith("_")]
    assert fitted and not set(fitted) & set(est.get_params())


@pytest.mark.parametrize("cls", list(CONTRACT), ids=lambda c: c.__name__)
def test_get_params_set_params_and_clone(cls):
    est = cls(**({"n_components": 2} if cls is ml.GaussianMixture else {}))
    params = est.get_params()
    assert list(params) == [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    c = clone(est)
    assert c is not est and c.get_params() == params
    name = next(iter(params))
    new = {ml.PCA: 2, ml.SVM: "rbf", ml.MLP: (5,), ml.GaussianNB: 1e-6, ml.BernoulliNB: 0.5,
           ml.GaussianMixture: 3}[cls]  # fmt: skip
    assert est.set_params(**{name: new}) is est and est.get_params()[name] == new
    assert params[name] != new and clone(est).get_params()[name] == new
    with pytest.raises(ArgumentError, match="no parameter"):
        est.set_params(not_a_parameter=1)
    assert repr(est).startswith(f"{cls.__name__}(")


@pytest.mark.parametrize("cls", list(CONTRACT), ids=lambda c: c.__name__)
def test_derivation_verifies_and_renders_in_text_markdown_and_latex(cls):
    est = cls(**({"n_components": 2} if cls is ml.GaussianMixture else {}))
    d = est.derivation()
    assert isinstance(d, Derivation)
    assert d.verify() is True
    text, md, tex = d.to_text(), d.to_markdown(), d.to_latex()
    assert d.title in text and len(text) > 300
    assert "$" in md and d.title in md
    assert "\\" in tex and len(tex) > 300
    # every checked step has a real check (no silent gaps), and at least one step is checked
    assert any(callable(s.check) for _, s in d.walk())


@pytest.mark.parametrize(
    "make, rule",
    [(lambda: ml.PCA().derivation(), "gradient"), (lambda: ml.SVM().derivation(), "kernel_trick"),
     (lambda: ml.MLP(loss="squared").derivation(), "output_delta"),
     (lambda: ml.GaussianMixture(2).derivation(), "mean_update"),
     (lambda: ml.GaussianMixture(2).derivation(), "variance_update")],  # fmt: skip
)
def test_a_wrong_formula_shown_in_a_step_fails_verify(make, rule):
    """The steps' own checks test the formula as shown, not a private copy of it."""
    from symml.errors import VerificationError

    d = make()
    step = next(s for s in d.steps if s.rule == rule)
    step.after = 2 * step.after
    with pytest.raises(VerificationError, match=rule):
        d.verify()


# -- NumPy arrays and pandas DataFrames everywhere ---------------------------------------------
pd = pytest.importorskip("pandas", reason='pip install "symml[pandas]"')


def _frame(seed=0):
    X, y = make_moons(80, noise=0.15, seed=seed)
    return pd.DataFrame(X, columns=["u", "v"]), pd.Series(np.where(y == 1, "yes", "no"), name="label")


@pytest.mark.parametrize(
    "make",
    [lambda: ml.SVM(kernel="rbf", C=3.0), lambda: ml.MLP(hidden=(4,), epochs=30, lr=0.05),
     lambda: ml.GaussianNB(), lambda: ml.BernoulliNB()],  # fmt: skip
    ids=["SVM", "MLP", "GaussianNB", "BernoulliNB"],
)
def test_classifiers_give_the_same_answers_on_dataframes_and_arrays(make):
    df, s = _frame()
    a, b = make().fit(df, s), make().fit(df.to_numpy(), s.to_numpy())
    assert np.array_equal(a.predict(df), b.predict(df.to_numpy()))
    assert set(a.predict(df).tolist()) <= {"yes", "no"}
    if hasattr(a, "predict_proba"):
        assert np.allclose(a.predict_proba(df), b.predict_proba(df.to_numpy()))
    if hasattr(a, "decision_function"):
        assert np.allclose(a.decision_function(df), b.decision_function(df.to_numpy()))


def test_unsupervised_estimators_on_dataframes():
    df, _ = _frame(1)
    p, q = ml.PCA(1).fit(df), ml.PCA(1).fit(df.to_numpy())
    assert np.allclose(p.transform(df), q.transform(df.to_numpy()))
    assert np.allclose(p.inverse_transform(p.transform(df)), q.inverse_transform(q.transform(df.to_numpy())))
    g, h = ml.GaussianMixture(2, seed=0).fit(df), ml.GaussianMixture(2, seed=0).fit(df.to_numpy())
    assert np.allclose(g.means_, h.means_) and np.array_equal(g.predict(df), h.predict(df.to_numpy()))


def test_metrics_model_selection_and_preprocessing_on_pandas():
    from symml.ml.interpret import l1_select
    from symml.ml.preprocessing import MinMaxScaler, OneHotEncoder, impute

    df, s = _frame(2)
    t = pd.Series([0, 1, 1, 0, 1]), pd.Series([0, 1, 0, 0, 1]), pd.Series([0.1, 0.9, 0.4, 0.3, 0.6])
    assert metrics.accuracy(t[0], t[1]) == metrics.accuracy(t[0].to_numpy(), t[1].to_numpy()) == 0.8
    assert metrics.roc_auc(t[0], t[2]) == 1.0 and metrics.f1(t[0], t[1]) == pytest.approx(0.8)
    assert metrics.r2(pd.Series([1.0, 2.0, 3.0]), pd.Series([1.0, 2.0, 4.0])) == pytest.approx(0.5)
    folds_df = [te.tolist() for _, te in KFold(4, shuffle=True, seed=3).split(df)]
    folds_np = [te.tolist() for _, te in KFold(4, shuffle=True, seed=3).split(df.to_numpy())]
    assert folds_df == folds_np
    sc = cross_val_score(ml.GaussianNB(), df, s, cv=4, seed=1)
    assert np.allclose(sc, cross_val_score(ml.GaussianNB(), df.to_numpy(), s.to_numpy(), cv=4, seed=1))
    tr, te, ytr, yte = train_test_split(df, s, test_size=0.25, seed=0)
    assert isinstance(te, pd.DataFrame) and isinstance(yte, pd.Series) and list(te.columns) == ["u", "v"]
    mm = MinMaxScaler().fit(df)
    assert mm.get_feature_names_out() == ["u", "v"] and np.allclose(mm.transform(df).max(axis=0), 1)
    cat = pd.DataFrame({"colour": ["red", "blue", "red"], "size": ["s", "m", "m"]})
    enc = OneHotEncoder().fit(cat)
    assert enc.get_feature_names_out() == ["colour=blue", "colour=red", "size=m", "size=s"]
    assert enc.transform(cat).tolist() == [[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 1, 0]]
    missing = df.assign(v=df["v"].where(df.index % 4 != 0))
    Xi, rep = impute(missing, "drop")
    assert len(Xi) == 60 and rep.rows_before == 80 and "dropped 20" in str(rep)
    rng = np.random.default_rng(0)
    F = pd.DataFrame(rng.normal(size=(100, 3)), columns=["signal", "noise1", "noise2"])
    keep, _ = l1_select(F, 3 * F["signal"] + 0.1 * rng.normal(size=100), alpha=0.5)
    assert keep == ["signal"]
