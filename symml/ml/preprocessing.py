"""Preprocessing: missing data, scaling, one-hot encoding, polynomial features.

Transformers follow scikit-learn (``fit``, ``transform``, ``fit_transform``,
``inverse_transform`` where it exists) and carry feature names through:
``get_feature_names_out()`` names the output columns (taken from a DataFrame's columns, or
``x0, x1, ...``).

>>> import numpy as np
>>> from symml.ml.preprocessing import PolynomialFeatures, impute
>>> PolynomialFeatures(2).fit(np.zeros((1, 2))).get_feature_names_out()
['1', 'x0', 'x1', 'x0^2', 'x0*x1', 'x1^2']
>>> X, report = impute(np.array([[1.0, np.nan], [3.0, 4.0]]), "mean")
>>> X
array([[1., 4.],
       [3., 4.]])
>>> print(report)
imputed 1 missing value(s) with the column mean: x1: 1 (4)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError, DataError
from ._base import Estimator, _values, as_matrix, check_fitted

__all__ = [
    "impute", "ImputeReport", "StandardScaler", "MinMaxScaler", "OneHotEncoder",
    "PolynomialFeatures",
]  # fmt: skip


def _names(X, n: int, given=None) -> list[str]:
    if given is not None:
        return [str(c) for c in given]
    cols = getattr(X, "columns", None)
    if cols is not None and len(cols) == n:
        return [str(c) for c in cols]
    return [f"x{j}" for j in range(n)]


def _raw_matrix(X) -> np.ndarray:
    """A 2-D float array that may contain NaN (for imputation)."""
    try:
        A = np.asarray(_values(X), dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"X must be numeric: {exc}") from None
    if A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2:
        raise DataError(f"X must be 2-D, got {A.ndim} dimensions")
    return A


@dataclass
class ImputeReport:
    """What :func:`impute` changed: per column, how many values and with what."""

    strategy: str
    rows_before: int
    rows_after: int
    filled: dict[str, tuple[int, float]] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.strategy == "drop":
            dropped = self.rows_before - self.rows_after
            return f"dropped {dropped} of {self.rows_before} row(s) with a missing value"
        total = sum(k for k, _ in self.filled.values())
        parts = [f"{name}: {k} ({v:g})" for name, (k, v) in self.filled.items() if k]
        what = {"mean": "column mean", "median": "column median", "zero": "value 0"}
        return (
            f"imputed {total} missing value(s) with the {what[self.strategy]}"
            + (": " + ", ".join(parts) if parts else "")
        )


def impute(X, strategy: str = "mean"):
    """Handle missing values (NaN): ``"drop"`` rows, or fill with the column ``"mean"``,
    ``"median"`` or ``"zero"``. Returns ``(X_new, report)``.

    >>> import numpy as np
    >>> X, rep = impute(np.array([[1.0, 2.0], [np.nan, 3.0], [5.0, 6.0]]), "drop")
    >>> X.shape, str(rep)
    ((2, 2), 'dropped 1 of 3 row(s) with a missing value')
    """
    A = _raw_matrix(X)
    names = _names(X, A.shape[1])
    missing = np.isnan(A)
    if strategy == "drop":
        keep = ~missing.any(axis=1)
        return A[keep], ImputeReport("drop", len(A), int(keep.sum()))
    if strategy not in ("mean", "median", "zero"):
        raise ArgumentError(
            f"unknown imputation strategy {strategy!r}; use 'drop', 'mean', 'median' or 'zero'"
        )
    out = A.copy()
    report = ImputeReport(strategy, len(A), len(A))
    for j in range(A.shape[1]):
        col = A[:, j]
        k = int(missing[:, j].sum())
        if not k:
            report.filled[names[j]] = (0, float("nan"))
            continue
        if k == len(col) and strategy != "zero":
            raise DataError(f"column {names[j]} has no values at all; drop it first")
        value = {"mean": np.nanmean, "median": np.nanmedian}.get(strategy, lambda c: 0.0)(col)
        out[missing[:, j], j] = value
        report.filled[names[j]] = (k, float(value))
    return out, report


class _Transformer(Estimator):
    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X, y).transform(X)

    def get_feature_names_out(self) -> list[str]:
        """Names of the output columns."""
        check_fitted(self, "feature_names_in_")
        return list(self.feature_names_in_)


class StandardScaler(_Transformer):
    """Centre each column and divide by its (population, 1/n) standard deviation.

    >>> import numpy as np
    >>> StandardScaler().fit_transform(np.array([[1.0], [3.0]]))
    array([[-1.],
           [ 1.]])
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None):
        A = as_matrix(X)
        self.feature_names_in_ = _names(X, A.shape[1])
        self.mean_ = A.mean(axis=0) if self.with_mean else np.zeros(A.shape[1])
        sd = A.std(axis=0) if self.with_std else np.ones(A.shape[1])
        self.scale_ = np.where(sd > 0, sd, 1.0)  # a constant column is left unscaled
        return self

    def transform(self, X):
        check_fitted(self, "mean_")
        return (as_matrix(X) - self.mean_) / self.scale_

    def inverse_transform(self, Z):
        check_fitted(self, "mean_")
        return as_matrix(Z, "Z") * self.scale_ + self.mean_


class MinMaxScaler(_Transformer):
    """Map each column linearly onto ``feature_range`` (default [0, 1]).

    >>> import numpy as np
    >>> MinMaxScaler().fit_transform(np.array([[2.0], [4.0], [3.0]])).ravel()
    array([0. , 1. , 0.5])
    """

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)):
        self.feature_range = feature_range

    def fit(self, X, y=None):
        A = as_matrix(X)
        lo, hi = self.feature_range
        if not lo < hi:
            raise ArgumentError(f"feature_range must be (low, high) with low < high, got {self.feature_range}")
        self.feature_names_in_ = _names(X, A.shape[1])
        self.data_min_, self.data_max_ = A.min(axis=0), A.max(axis=0)
        span = self.data_max_ - self.data_min_
        self.scale_ = (hi - lo) / np.where(span > 0, span, 1.0)
        self.min_ = lo - self.data_min_ * self.scale_
        return self

    def transform(self, X):
        check_fitted(self, "scale_")
        return as_matrix(X) * self.scale_ + self.min_

    def inverse_transform(self, Z):
        check_fitted(self, "scale_")
        return (as_matrix(Z, "Z") - self.min_) / self.scale_


class OneHotEncoder(_Transformer):
    """One indicator column per category of each (categorical) column.

    >>> enc = OneHotEncoder().fit([["red"], ["blue"], ["red"]])
    >>> enc.transform([["blue"], ["red"]])
    array([[1., 0.],
           [0., 1.]])
    >>> enc.get_feature_names_out()
    ['x0=blue', 'x0=red']
    """

    def __init__(self, handle_unknown: str = "error"):
        self.handle_unknown = handle_unknown

    def _cells(self, X) -> np.ndarray:
        A = np.asarray(_values(X), dtype=object)
        if A.ndim == 1:
            A = A[:, None]
        if A.ndim != 2:
            raise DataError(f"OneHotEncoder needs a 2-D table, got {A.ndim} dimensions")
        return A

    def fit(self, X, y=None):
        if self.handle_unknown not in ("error", "ignore"):
            raise ArgumentError("handle_unknown must be 'error' or 'ignore'")
        A = self._cells(X)
        self.feature_names_in_ = _names(X, A.shape[1])
        self.categories_ = [sorted(set(A[:, j].tolist()), key=str) for j in range(A.shape[1])]
        return self

    def transform(self, X):
        check_fitted(self, "categories_")
        A = self._cells(X)
        blocks = []
        for j, cats in enumerate(self.categories_):
            index = {c: k for k, c in enumerate(cats)}
            B = np.zeros((len(A), len(cats)))
            for i, v in enumerate(A[:, j].tolist()):
                if v in index:
                    B[i, index[v]] = 1.0
                elif self.handle_unknown == "error":
                    raise DataError(
                        f"unknown category {v!r} in column {self.feature_names_in_[j]}; "
                        f"known: {', '.join(map(str, cats))} (or handle_unknown='ignore')"
                    )
            blocks.append(B)
        return np.hstack(blocks)

    def get_feature_names_out(self) -> list[str]:
        check_fitted(self, "categories_")
        return [f"{n}={c}" for n, cats in zip(self.feature_names_in_, self.categories_, strict=True) for c in cats]


class PolynomialFeatures(_Transformer):
    """All monomials of the columns up to ``degree`` (``interaction_only``: no powers),
    named ``x0^2``, ``x0*x1``, ...
    """

    def __init__(self, degree: int = 2, interaction_only: bool = False, include_bias: bool = True):
        self.degree = degree
        self.interaction_only = interaction_only
        self.include_bias = include_bias

    def fit(self, X, y=None):
        if isinstance(self.degree, bool) or not isinstance(self.degree, int) or self.degree < 0:
            raise ArgumentError(f"degree must be a whole number >= 0, got {self.degree!r}")
        A = as_matrix(X)
        self.feature_names_in_ = _names(X, A.shape[1])
        combos = []
        for d in range(0 if self.include_bias else 1, self.degree + 1):
            pick = itertools.combinations if self.interaction_only else itertools.combinations_with_replacement
            combos.extend(pick(range(A.shape[1]), d))
        self.powers_ = combos
        return self

    def transform(self, X):
        check_fitted(self, "powers_")
        A = as_matrix(X)
        cols = [np.prod(A[:, list(c)], axis=1) if c else np.ones(len(A)) for c in self.powers_]
        return np.column_stack(cols)

    def get_feature_names_out(self) -> list[str]:
        check_fitted(self, "powers_")
        out = []
        for c in self.powers_:
            if not c:
                out.append("1")
                continue
            parts = []
            for j, group in itertools.groupby(c):
                k = len(list(group))
                name = self.feature_names_in_[j]
                parts.append(name if k == 1 else f"{name}^{k}")
            out.append("*".join(parts))
        return out
