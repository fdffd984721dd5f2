"""Plot a fit: the data, the fitted curve, and the residuals (matplotlib, an optional extra).

With one scalar data column on the right of ``~`` the top panel shows the data against it
and the fitted curve on a fine grid; otherwise it shows observed against fitted values with
the line of equality. The bottom panel shows the residuals ``observed - fitted`` (on the
scale of the left side of ``~``; for likelihood models the fitted value is the mean).

Install the extra with ``pip install symml[plot]``; without matplotlib, :func:`plot_fit`
raises a SymmlError saying so.
"""

from __future__ import annotations

import os

import numpy as np
import sympy

from ..errors import SymmlError

__all__ = ["plot_fit", "fit_curve_data"]


def _matplotlib():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SymmlError(
            "plotting needs matplotlib, which is not installed; install it with "
            "'pip install symml[plot]' (or 'pip install matplotlib')"
        ) from None
    return plt


def fit_curve_data(result) -> dict:
    """What :func:`plot_fit` draws, as arrays (usable without matplotlib).

    Returns a dict with ``observed``, ``fitted``, ``residuals`` (one per data row), and, when
    the model has exactly one scalar data column on its right side, ``x`` (that column),
    ``x_name``, ``grid`` and ``curve`` (the fitted curve on 200 points).
    """
    problem = result._problem
    spec = problem.spec
    from .api import _eval_rows

    observed = _eval_rows(spec.lhs, spec.data_syms, problem.columns, problem.n)
    fitted = np.broadcast_to(problem.predict(result.x, problem.columns), observed.shape)
    out = {
        "observed": observed,
        "fitted": np.asarray(fitted, dtype=float),
        "residuals": observed - fitted,
        "lhs": str(spec.lhs),
    }
    mean = problem.mean_expr()
    right = [
        name
        for name, sym in spec.data_syms.items()
        if not isinstance(sym, sympy.MatrixBase)
        and not name.startswith("_")
        and sym in mean.free_symbols
    ]
    vectors = [
        name
        for name, sym in spec.data_syms.items()
        if isinstance(sym, sympy.MatrixBase) and set(sym) & mean.free_symbols
    ]
    if len(right) == 1 and not vectors:
        x = problem.columns[right[0]]
        grid = np.linspace(float(np.min(x)), float(np.max(x)), 200)
        out.update(
            x=x, x_name=right[0], grid=grid, curve=problem.predict(result.x, {right[0]: grid})
        )
    return out


def plot_fit(result, path: str | os.PathLike | None = None, *, title: str | None = None):
    """Draw data, fitted curve and residuals of a :class:`~symml.FitResult`.

    Parameters
    ----------
    result : FitResult
    path : path, optional
        Where to save the figure (format from the extension, e.g. ``.png``, ``.svg``).
    title : str, optional
        Figure title (default: the model).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _matplotlib()
    d = fit_curve_data(result)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(7, 6), sharex="x" in d, gridspec_kw={"height_ratios": [3, 1.3]}
    )
    if "x" in d:
        top.plot(d["x"], d["observed"], "o", ms=4, label="data")
        top.plot(d["grid"], d["curve"], "-", lw=2, label="fit")
        top.set_ylabel(d["lhs"])
        bottom.plot(d["x"], d["residuals"], "o", ms=4)
        bottom.set_xlabel(d["x_name"])
    else:
        top.plot(d["fitted"], d["observed"], "o", ms=4, label="data")
        lo = float(min(d["fitted"].min(), d["observed"].min()))
        hi = float(max(d["fitted"].max(), d["observed"].max()))
        top.plot([lo, hi], [lo, hi], "-", lw=1.5, label="observed = fitted")
        top.set_xlabel("fitted")
        top.set_ylabel(f"observed {d['lhs']}")
        bottom.plot(d["fitted"], d["residuals"], "o", ms=4)
        bottom.set_xlabel("fitted")
    bottom.axhline(0.0, color="gray", lw=1)
    bottom.set_ylabel("residual")
    top.legend()
    top.set_title(title or result.model)
    fig.tight_layout()
    if path is not None:
        fig.savefig(os.fspath(path), dpi=120)
    return fig
