"""What every estimator of :mod:`symml.ml` shares: scikit-learn's conventions.

The constructor takes the hyperparameters (stored under the same names), ``fit`` returns
``self``, fitted attributes end in an underscore, and ``get_params`` / ``set_params`` read
and change hyperparameters, so the estimators drop into code people already have.

>>> from symml.ml import PCA
>>> PCA(n_components=2).get_params()
{'n_components': 2, 'scale': False}
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..errors import ArgumentError, DataError, ShapeError

__all__ = ["Estimator", "as_matrix", "as_vector", "check_fitted"]


class Estimator:
    """Base class: hyperparameters from the constructor's signature, sklearn-style."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyperparameters as a dict (``deep`` is accepted for scikit-learn parity)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any):
        """Set hyperparameters by name and return ``self``; an unknown name is an error."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ArgumentError(
                    f"{type(self).__name__} has no parameter {name!r}; "
                    f"its parameters are {', '.join(valid)}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _values(X):
    """A pandas DataFrame/Series or anything array-like -> a NumPy array."""
    if hasattr(X, "to_numpy") and callable(X.to_numpy):
        return X.to_numpy()
    return X


def as_matrix(X, what: str = "X") -> np.ndarray:
    """A 2-D float array of finite values (a 1-D input is one feature)."""
    try:
        A = np.asarray(_values(X), dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} must be a numeric array or DataFrame: {exc}") from None
    if A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2:
        raise ShapeError(f"{what} must be 2-D (rows x features), got {A.ndim} dimensions")
    if A.shape[0] == 0:
        raise DataError(f"{what} has no rows")
    if not np.all(np.isfinite(A)):
        bad = np.argwhere(~np.isfinite(A))[0]
        raise DataError(
            f"{what} has a non-finite value at row {bad[0]}, column {bad[1]}; "
            "impute or drop missing data first (symml.ml.preprocessing.impute)"
        )
    return A


def as_vector(y, n: int | None = None, what: str = "y") -> np.ndarray:
    """A 1-D array (of any dtype: labels may be strings), of length ``n`` if given."""
    v = np.asarray(_values(y))
    if v.ndim == 2 and 1 in v.shape:
        v = v.ravel()
    if v.ndim != 1:
        raise ShapeError(f"{what} must be 1-D, got shape {v.shape}")
    if n is not None and len(v) != n:
        raise ShapeError(f"{what} has {len(v)} entries but X has {n} rows")
    return v


def check_fitted(est, attr: str) -> None:
    """Raise a clear error when ``est`` is used before ``fit``."""
    if not hasattr(est, attr):
        raise ArgumentError(f"this {type(est).__name__} is not fitted yet; call fit(X, ...) first")
