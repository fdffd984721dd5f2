"""Case study: a machine-learning pipeline end to end.

Imputes missing values (with a report), adds polynomial features with their names, selects
features by L1 regularization, scales, splits with a seed, tunes a classifier by grid search
with 5-fold cross-validation, evaluates it (accuracy, precision, recall, F1, confusion matrix,
ROC AUC), fits a logistic regression on the same features (coefficients with standard
errors and p-values) and explains one prediction by exact sensitivities and a first-order
Taylor attribution of the fitted formula, writes the naive Bayes derivation to pipeline.md and draws the ROC curve.

    python examples/pipeline.py [--small] [--out DIR]
"""

from __future__ import annotations

import numpy as np
from _case_common import parse_args, pyplot

import symml as sm
from symml.ml import GaussianNB, metrics
from symml.ml.interpret import coefficients, l1_select, sensitivity, taylor_attribution
from symml.ml.model_selection import grid_search, train_test_split
from symml.ml.preprocessing import PolynomialFeatures, StandardScaler, impute


def main() -> None:
    args, out = parse_args(__doc__.splitlines()[0])
    rng = np.random.default_rng(0)
    n = 300 if args.small else 2000
    X = rng.normal(size=(n, 3))
    score = 2 * (X[:, 0] - X[:, 1] ** 2 + 0.5)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-score))).astype(int)  # noisy labels
    X[rng.integers(0, n, n // 50), rng.integers(0, 3, n // 50)] = np.nan
    X, report = impute(X, "median")
    print(report)
    poly = PolynomialFeatures(2, include_bias=False).fit(X)
    F, names = poly.transform(X), poly.get_feature_names_out()
    keep, coef = l1_select(F, y, alpha=0.02, loss="logistic", feature_names=names)
    print("L1 keeps:", ", ".join(keep))
    F = StandardScaler().fit_transform(F[:, [names.index(k) for k in keep]])
    Ftr, Fte, ytr, yte = train_test_split(F, y, test_size=0.25, seed=0)
    search = grid_search(GaussianNB(), {"var_smoothing": [1e-9, 1e-6, 1e-3, 1e-1]}, Ftr, ytr, cv=5)
    print("best:", search.best_params_, f"cv accuracy {search.best_score_:.3f}")
    model = search.best_estimator_
    pred, score = model.predict(Fte), model.predict_proba(Fte)[:, 1]
    print(f"test accuracy {metrics.accuracy(yte, pred):.3f}, precision {metrics.precision(yte, pred):.3f}, "
          f"recall {metrics.recall(yte, pred):.3f}, F1 {metrics.f1(yte, pred):.3f}, "
          f"ROC AUC {metrics.roc_auc(yte, score):.3f}")
    print("confusion matrix:\n", metrics.confusion_matrix(yte, pred))
    # a likelihood model on the same features: coefficients with standard errors and
    # p-values, and one prediction attributed to each feature from the fitted formula
    cols = {f"f{k}": F[:, k] for k in range(F.shape[1])}
    score_text = "b + " + " + ".join(f"w{k}*f{k}" for k in range(F.shape[1]))
    fit = sm.fit(f"y ~ Bernoulli(sigmoid({score_text}))", {**cols, "y": y.astype(float)},
                 p0={"b": 0, **{f"w{k}": 0 for k in range(F.shape[1])}})  # fmt: skip
    print("logistic regression on", ", ".join(f"f{k} = {name}" for k, name in enumerate(keep)))
    print(f"{'':>6} {'estimate':>10} {'stderr':>10} {'z':>8} {'p-value':>10}")
    for name, est, se, z, p in coefficients(fit):
        print(f"{name:>6} {est:10.4f} {se:10.4f} {z:8.2f} {p:10.3g}")
    formula = sm.expr(f"sigmoid({score_text})")
    formula = formula.xreplace({sm.symbol(k): float(np.asarray(v)) for k, v in fit.params.items()})
    inputs = list(cols)
    row = {k: float(cols[k][0]) for k in inputs}
    print("exact sensitivities at row 0:", {k: round(v, 4) for k, v in sensitivity(formula, inputs, row).items()})
    print(taylor_attribution(formula, inputs, row, baseline={k: 0.0 for k in inputs}))  # the mean row
    (out / "pipeline.md").write_text(model.derivation().to_markdown())
    plt = pyplot()
    if plt is not None:
        fpr, tpr, _ = metrics.roc_curve(yte, score)
        fig, ax = plt.subplots(figsize=(4.5, 4))
        ax.plot(fpr, tpr, label=f"naive Bayes (AUC {metrics.roc_auc(yte, score):.3f})")
        ax.plot([0, 1], [0, 1], "k--", linewidth=1)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.legend(loc="lower right")
        ax.set_title("ROC curve")
        fig.tight_layout()
        fig.savefig(out / "roc.png", dpi=100)
        print("figure:", out / "roc.png")


if __name__ == "__main__":
    main()
