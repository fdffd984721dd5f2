"""Validation of the data a model is fitted to.

Data arrive as a mapping of column names to array-likes, or as a pandas-like DataFrame
(anything with ``.columns`` whose columns can be read with ``frame[name]``; pandas itself is
optional). :func:`validate_data` checks them once, at the public boundary, and returns plain
float arrays: a scalar column as shape ``(n,)``, a vector column ``x[d]`` as ``(n, d)``.

Nothing is silent: missing columns, columns of different lengths, non-numeric values and
NaN / infinite values are :class:`~symml.errors.DataError` with the column names and row
counts. ``missing="drop"`` drops the rows with NaN / inf explicitly and reports how many.

>>> import numpy as np
>>> d = validate_data({"x": [1, 2, 3], "y": [2.0, np.nan, 6.0]}, ["x", "y"], missing="drop")
>>> d.columns["y"], d.n_rows, d.dropped
(array([2., 6.]), 2, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError, DataError

__all__ = ["ValidatedData", "validate_data", "as_columns"]

_MISSING_POLICIES = ("raise", "drop")


@dataclass
class ValidatedData:
    """Float columns of equal length, ready for compiled functions.

    Attributes
    ----------
    columns : dict
        name -> ndarray, shape ``(n,)`` for a scalar column, ``(n, d)`` for a vector column.
    n_rows : int
        Number of rows used.
    dropped : int
        Rows dropped because of NaN / inf (only with ``missing="drop"``).
    keep : ndarray of bool or None
        Mask of the rows kept, relative to the input (None when nothing was dropped).
    """

    columns: dict[str, np.ndarray]
    n_rows: int
    dropped: int = 0
    keep: np.ndarray | None = field(default=None, repr=False)


def as_columns(data) -> dict:
    """The data as a plain ``{name: column}`` dict (a mapping, or a DataFrame-like object).

    >>> as_columns({"x": [1, 2]})
    {'x': [1, 2]}
    """
    if isinstance(data, Mapping):
        return dict(data)
    columns = getattr(data, "columns", None)
    if columns is not None and hasattr(data, "__getitem__"):
        out = {}
        for name in list(columns):
            col = data[name]
            to_numpy = getattr(col, "to_numpy", None)
            out[str(name)] = to_numpy() if callable(to_numpy) else col
        return out
    raise DataError(
        f"data must be a mapping of column names to arrays or a DataFrame, got "
        f"{type(data).__name__}; write data={{'x': x, 'y': y}}"
    )


def _to_float(name: str, value) -> np.ndarray:
    try:
        raw = np.asarray(value)
        if raw.dtype.kind == "c" or (
            raw.dtype == object and any(isinstance(v, complex) for v in raw.reshape(-1))
        ):
            raw = raw.astype(complex)
            bad = np.flatnonzero(raw.reshape(raw.shape[0] if raw.ndim else 1, -1).imag.any(1))
            if bad.size:
                raise DataError(
                    f"data column '{name}' has complex values (imaginary part not zero in "
                    f"{_rows_phrase(bad.size)}, row {_row_list(bad)}); fit works on real "
                    f"data: pass the real and imaginary parts as separate columns"
                )
            raw = raw.real
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(
            f"data column '{name}' is not numeric or not rectangular ({exc}); give one "
            f"number (or one equal-length vector) per row"
        ) from None
    return arr


def _rows_phrase(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _row_list(rows: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (", ..." if len(rows) > limit else "")


def validate_data(
    data,
    names: Iterable[str],
    *,
    shapes: Mapping[str, tuple[int, ...]] | None = None,
    missing: str = "raise",
    extra: Mapping[str, object] | None = None,
) -> ValidatedData:
    """Check and convert the columns ``names`` of ``data``.

    Parameters
    ----------
    data : mapping or DataFrame
        Column name -> array-like (rows on the first axis).
    names : iterable of str
        The columns the model uses; other columns are ignored (and not checked).
    shapes : mapping, optional
        Declared per-row shape of a column: ``()`` for a scalar column, ``(d,)`` for a vector
        column ``x[d]``. Columns not listed take their shape from the data.
    missing : {"raise", "drop"}
        What to do with rows holding NaN or infinite values in a used column.
    extra : mapping, optional
        Further per-row arrays checked and filtered together with the columns (weights);
        they are returned in ``columns`` under their keys.

    Returns
    -------
    ValidatedData

    Raises
    ------
    DataError
        A missing column, columns of different lengths, non-numeric values, NaN / inf values
        (with ``missing="raise"``), or no rows left.

    Examples
    --------
    >>> validate_data({"x": [1, 2], "y": [1, 2, 3]}, ["x", "y"])
    Traceback (most recent call last):
    ...
    symml.errors.DataError: data columns have different lengths: 'x' has 2 rows, 'y' has 3 rows
    """
    if missing not in _MISSING_POLICIES:
        raise ArgumentError(f"missing={missing!r} is not one of {list(_MISSING_POLICIES)}")
    cols = as_columns(data)
    names = list(dict.fromkeys(names))
    shapes = dict(shapes or {})
    absent = [n for n in names if n not in cols]
    if absent:
        have = ", ".join(repr(k) for k in cols) or "none"
        raise DataError(
            f"data has no column {', '.join(repr(a) for a in absent)} that the model uses "
            f"(columns given: {have}); add {'it' if len(absent) == 1 else 'them'} to data"
        )
    arrays: dict[str, np.ndarray] = {}
    for name in names:
        arr = _to_float(name, cols[name])
        if arr.ndim == 0:
            raise DataError(
                f"data column '{name}' is a single number; give one value per row "
                f"(e.g. numpy.full(n, value)) or write the number into the model"
            )
        want = shapes.get(name)
        if want is not None:
            if want == () and arr.ndim != 1:
                raise DataError(
                    f"data column '{name}' should have one value per row (shape (n,)), "
                    f"got shape {arr.shape}"
                )
            if want != () and arr.shape[1:] != tuple(want):
                raise DataError(
                    f"data column '{name}' is declared with {want[0]} components per row, so "
                    f"it should have shape (n, {', '.join(map(str, want))}); got {arr.shape}"
                )
        elif arr.ndim > 2:
            raise DataError(
                f"data column '{name}' has shape {arr.shape}; use (n,) for a scalar column or "
                f"(n, d) for a vector column"
            )
        arrays[name] = arr
    for key, value in (extra or {}).items():
        arr = _to_float(key, value)
        if arr.ndim != 1:
            raise DataError(f"{key} should have one value per row (shape (n,)), got {arr.shape}")
        arrays[key] = arr
    if not arrays:
        raise DataError("the model uses no data column; fit needs data")
    lengths = {k: a.shape[0] for k, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"'{k}' has {_rows_phrase(v)}" for k, v in lengths.items())
        raise DataError(f"data columns have different lengths: {desc}")
    n = next(iter(lengths.values()))
    if n == 0:
        raise DataError("data has no rows")

    bad_by_col = {}
    bad_any = np.zeros(n, dtype=bool)
    for k, a in arrays.items():
        finite = np.isfinite(a)
        bad = ~(finite if a.ndim == 1 else finite.reshape(n, -1).all(axis=1))
        if bad.any():
            bad_by_col[k] = bad
            bad_any |= bad
    dropped = 0
    keep = None
    if bad_any.any():
        total = int(bad_any.sum())
        if missing == "raise":
            parts = []
            for k, bad in bad_by_col.items():
                rows = np.flatnonzero(bad)
                a = arrays[k]
                flat = a if a.ndim == 1 else a.reshape(n, -1)
                has_nan = bool(np.isnan(flat[bad]).any())
                has_inf = bool(np.isinf(flat[bad]).any())
                what = " and ".join(w for w, f in (("NaN", has_nan), ("inf", has_inf)) if f)
                parts.append(
                    f"column '{k}' has {what} in {_rows_phrase(len(rows))} (row {_row_list(rows)})"
                )
            raise DataError(
                f"data has NaN or infinite values in {total} of {n} rows: "
                + "; ".join(parts)
                + ". Pass missing='drop' to drop these rows, or clean the data"
            )
        keep = ~bad_any
        arrays = {k: a[keep] for k, a in arrays.items()}
        dropped = total
        n -= total
        if n == 0:
            raise DataError("every row has NaN or infinite values; no data left to fit")
    return ValidatedData(columns=arrays, n_rows=n, dropped=dropped, keep=keep)
