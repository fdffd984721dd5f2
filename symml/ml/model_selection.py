"""Splitting, cross-validation and hyperparameter search, seeded so results repeat.

>>> import numpy as np
>>> from symml.ml.model_selection import KFold, train_test_split
>>> X = np.arange(10).reshape(5, 2); y = np.arange(5)
>>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, seed=0)
>>> X_tr.shape, X_te.shape
((3, 2), (2, 2))
>>> [len(te) for _, te in KFold(3).split(X)]
[2, 2, 1]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ArgumentError, DataError
from . import metrics
from ._base import _values

__all__ = [
    "train_test_split", "KFold", "cross_val_score", "grid_search", "random_search",
    "SearchResult", "clone",
]  # fmt: skip


def _rows(a):
    v = _values(a)
    if hasattr(v, "shape"):
        return v
    return np.asarray(v)


def _take(a, idx):
    if hasattr(a, "iloc"):
        return a.iloc[idx]
    return _rows(a)[idx]


def train_test_split(*arrays, test_size: float | int = 0.25, seed: int | None = None,
                     shuffle: bool = True):  # fmt: skip
    """Split arrays (same number of rows) into train and test parts: returns
    ``X_train, X_test, y_train, y_test, ...`` in the order given."""
    if not arrays:
        raise ArgumentError("train_test_split needs at least one array")
    n = len(_rows(arrays[0]))
    for a in arrays[1:]:
        if len(_rows(a)) != n:
            raise DataError(f"all arrays need the same number of rows ({n}), got {len(_rows(a))}")
    k = int(round(test_size * n)) if isinstance(test_size, float) else int(test_size)
    if not 0 < k < n:
        raise ArgumentError(f"test_size gives {k} test rows of {n}; it must leave both parts non-empty")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    test, train = order[:k], order[k:]
    out = []
    for a in arrays:
        out.extend([_take(a, train), _take(a, test)])
    return out


class KFold:
    """K consecutive folds (after an optional seeded shuffle); ``split`` yields index arrays."""

    def __init__(self, n_splits: int = 5, shuffle: bool = False, seed: int | None = None):
        if isinstance(n_splits, bool) or not isinstance(n_splits, int) or n_splits < 2:
            raise ArgumentError(f"n_splits must be a whole number >= 2, got {n_splits!r}")
        self.n_splits, self.shuffle, self.seed = n_splits, shuffle, seed

    def split(self, X, y=None):
        n = len(_rows(X))
        if n < self.n_splits:
            raise DataError(f"{self.n_splits} folds need at least {self.n_splits} rows, got {n}")
        order = np.random.default_rng(self.seed).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        start = 0
        for size in sizes:
            test = order[start : start + size]
            train = np.concatenate([order[:start], order[start + size :]])
            start += size
            yield train, test


def clone(estimator):
    """A new, unfitted estimator with the same hyperparameters."""
    return type(estimator)(**estimator.get_params())


def _scorer(scoring) -> Callable:
    if callable(scoring):
        return scoring
    if scoring is None:
        return lambda est, X, y: est.score(X, y) if hasattr(est, "score") else metrics.accuracy(y, est.predict(X))
    names = {"accuracy": metrics.accuracy, "f1": metrics.f1, "precision": metrics.precision,
             "recall": metrics.recall, "r2": metrics.r2,
             "neg_mse": lambda t, p: -metrics.mse(t, p), "neg_mae": lambda t, p: -metrics.mae(t, p)}  # fmt: skip
    if scoring == "roc_auc":
        return lambda est, X, y: metrics.roc_auc(y, est.decision_function(X) if hasattr(est, "decision_function") else est.predict_proba(X)[:, 1])
    if scoring not in names:
        raise ArgumentError(f"unknown scoring {scoring!r}; use one of {', '.join(sorted(names) + ['roc_auc'])} or a callable")
    fn = names[scoring]
    return lambda est, X, y: fn(y, est.predict(X))


def cross_val_score(estimator, X, y, cv: int | KFold = 5, scoring=None, seed: int | None = 0) -> np.ndarray:
    """Score of a fresh clone of ``estimator`` on each of ``cv`` folds (higher is better)."""
    folds = cv if isinstance(cv, KFold) else KFold(cv, shuffle=True, seed=seed)
    score = _scorer(scoring)
    out = []
    for train, test in folds.split(X):
        est = clone(estimator).fit(_take(X, train), _take(y, train))
        out.append(score(est, _take(X, test), _take(y, test)))
    return np.asarray(out, dtype=float)


@dataclass
class SearchResult:
    """Outcome of a hyperparameter search: every candidate with its mean CV score."""

    best_params_: dict
    best_score_: float
    best_estimator_: Any
    results_: list[tuple[dict, float, float]] = field(default_factory=list)

    def __repr__(self) -> str:
        lines = [f"SearchResult(best_score_={self.best_score_:.6g}, best_params_={self.best_params_})"]
        for params, mean, sd in sorted(self.results_, key=lambda r: -r[1])[:10]:
            lines.append(f"  {mean:10.6g} +- {sd:<10.3g} {params}")
        return "\n".join(lines)


def _search(estimator, candidates, X, y, cv, scoring, seed) -> SearchResult:
    results = []
    for params in candidates:
        est = clone(estimator).set_params(**params)
        scores = cross_val_score(est, X, y, cv=cv, scoring=scoring, seed=seed)
        results.append((params, float(scores.mean()), float(scores.std())))
    if not results:
        raise ArgumentError("the search has no candidate settings")
    best = max(results, key=lambda r: r[1])
    final = clone(estimator).set_params(**best[0]).fit(X, y)
    return SearchResult(dict(best[0]), best[1], final, results)


def grid_search(estimator, param_grid: Mapping[str, Sequence], X, y, cv: int = 5, scoring=None,
                seed: int | None = 0) -> SearchResult:  # fmt: skip
    """Every combination of ``param_grid`` scored by cross-validation; refits the best."""
    keys = list(param_grid)
    grid = [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*(param_grid[k] for k in keys))]
    return _search(estimator, grid, X, y, cv, scoring, seed)


def random_search(estimator, param_distributions: Mapping[str, Any], X, y, n_iter: int = 10,
                  cv: int = 5, scoring=None, seed: int | None = 0) -> SearchResult:  # fmt: skip
    """``n_iter`` random settings: each value drawn from a list (uniformly) or from a
    callable ``rng -> value`` (e.g. ``lambda r: 10 ** r.uniform(-4, 0)``)."""
    rng = np.random.default_rng(seed)
    candidates = []
    for _ in range(n_iter):
        params = {}
        for k, dist in param_distributions.items():
            params[k] = dist(rng) if callable(dist) else list(dist)[rng.integers(len(dist))]
        candidates.append(params)
    return _search(estimator, candidates, X, y, cv, scoring, seed)
