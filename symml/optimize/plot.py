"""Pictures of optimization runs (needs matplotlib, the optional extra ``symml[plot]``).

* :func:`plot_history` — the objective per iteration of one or more runs (log scale when
  every value is positive);
* :func:`plot_paths` — for an objective of two scalar parameters, its contours with the path
  of each run, so that GD, momentum and Adam can be compared at a glance;
* :func:`save_plot` — both side by side, written to a file (what ``symml minimize --plot``
  does).

Figures are built with :class:`matplotlib.figure.Figure` directly, never through pyplot, so
nothing here touches global matplotlib state; in a notebook the returned figure displays.

>>> import symml as sm
>>> from symml.optimize.plot import plot_paths   # doctest: +SKIP
>>> runs = [sm.minimize("x^2 + 10*y^2", {"x": 2, "y": 1}, m, lr=0.05) for m in ("gd", "adam")]
>>> fig = plot_paths(runs)                       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import ArgumentError, SymmlError
from .result import OptimizeResult

__all__ = ["plot_history", "plot_paths", "save_plot"]


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise SymmlError(
            "plotting needs matplotlib, which is an optional extra: install symml[plot] "
            "(pip install 'symml[plot]') or pip install matplotlib"
        ) from exc
    return Figure


def _as_results(results) -> list[OptimizeResult]:
    if isinstance(results, OptimizeResult):
        return [results]
    out = list(results) if isinstance(results, Iterable) else []
    if not out or not all(isinstance(r, OptimizeResult) for r in out):
        raise ArgumentError("plot functions take an OptimizeResult or a list of them")
    return out


def plot_history(results, ax=None, *, labels: list[str] | None = None):
    """Plot the objective per iteration of one or more runs; returns the figure.

    Parameters
    ----------
    results : OptimizeResult or list of them
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    labels : list of str, optional
        Legend labels (default: each run's method and iteration count).
    """
    runs = _as_results(results)
    if ax is None:
        ax = _figure_class()(figsize=(6, 4.5)).add_subplot()
    positive = all(np.all(r.history > 0) for r in runs if len(r.history))
    for i, r in enumerate(runs):
        label = labels[i] if labels else f"{r.method} ({r.nit} it)"
        ax.plot(np.arange(len(r.history)), r.history, lw=1.2, label=label)
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("objective")
    ax.set_title("objective per iteration")
    ax.legend(fontsize="small")
    return ax.figure


def _grid_values(problem, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The whole objective (penalties included) on a grid of the two parameters."""
    with np.errstate(all="ignore"):
        if not problem.data_names and problem._all_scalar:
            v, _ = problem._compiled(X, Y)
            Z = np.broadcast_to(np.asarray(v, dtype=float), X.shape).copy()
            for k, A in enumerate((X, Y)):
                if problem.l2 is not None:
                    Z += problem.l2[k] * A * A
                if problem.l1 is not None:
                    Z += problem.l1[k] * np.abs(A)
            return Z
        Z = np.empty(X.shape)
        for idx in np.ndindex(X.shape):
            Z[idx] = problem.value(np.array([X[idx], Y[idx]]))
        return Z


def plot_paths(
    results,
    ax=None,
    *,
    grid: int = 120,
    levels: int = 30,
    margin: float = 0.2,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    labels: list[str] | None = None,
):
    """Contours of a two-parameter objective with the path each run took; returns the figure.

    All runs must minimize the same objective of two scalar parameters (their paths are
    kept because such problems are small). The contour levels are spaced geometrically above
    the lowest value on the grid, so the valley of a Rosenbrock function stays visible.

    Parameters
    ----------
    results : OptimizeResult or list of them
    ax : matplotlib Axes, optional
    grid : int
        Grid points per axis (objectives with data use at most 60).
    levels : int
        Number of contour levels.
    margin : float
        Space around the paths, as a fraction of their extent.
    xlim, ylim : pair of float, optional
        Plot limits (default: the paths' extent plus the margin).
    labels : list of str, optional
        Legend labels (default: method and iteration count).
    """
    runs = _as_results(results)
    first = runs[0]
    if first.path is None or first.path.shape[1] != 2:
        raise ArgumentError(
            "plot_paths draws objectives of exactly two scalar parameters; this run has "
            f"{len(first.names)} component(s) ({', '.join(first.names)}); use plot_history"
        )
    for r in runs[1:]:
        if r.names != first.names or r.objective != first.objective:
            raise ArgumentError("plot_paths overlays runs of the same objective and parameters")
    problem = first._problem
    if problem is None:  # pragma: no cover - results always carry their problem
        raise ArgumentError("this result does not carry its objective; rerun minimize")
    pts = np.vstack([r.path for r in runs])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, 1e-3 * (1 + np.abs(hi)))
    lo, hi = lo - margin * span, hi + margin * span
    if xlim is not None:
        lo[0], hi[0] = xlim
    if ylim is not None:
        lo[1], hi[1] = ylim
    n = grid if not problem.data_names else min(grid, 60)
    X, Y = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    Z = _grid_values(problem, X, Y)
    if ax is None:
        ax = _figure_class()(figsize=(6, 5)).add_subplot()
    finite = Z[np.isfinite(Z)]
    if finite.size:
        zmin, zmax = float(finite.min()), float(finite.max())
        if zmax > zmin:
            offsets = np.geomspace(max((zmax - zmin) * 1e-6, 1e-300), zmax - zmin, levels)
            ax.contour(X, Y, Z, levels=zmin + offsets, cmap="viridis", linewidths=0.7)
    for i, r in enumerate(runs):
        label = labels[i] if labels else f"{r.method} ({r.nit} it)"
        p = r.path
        (line,) = ax.plot(p[:, 0], p[:, 1], lw=1.2, marker=".", ms=2.5, label=label)
        ax.plot(p[-1, 0], p[-1, 1], marker="*", ms=10, color=line.get_color())
    ax.plot(first.path[0, 0], first.path[0, 1], marker="o", ms=7, color="black", label="start")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel(first.names[0])
    ax.set_ylabel(first.names[1])
    ax.set_title(first.objective if len(first.objective) <= 60 else "objective")
    ax.legend(fontsize="small")
    return ax.figure


def save_plot(results, path: str, **kwargs: Any) -> str:
    """Write the history (and, for two parameters, the landscape with paths) to ``path``.

    Returns the path. The file type follows the extension (``.png``, ``.pdf``, ``.svg``).
    """
    runs = _as_results(results)
    Figure = _figure_class()
    two = runs[0].path is not None and runs[0].path.shape[1] == 2
    fig = Figure(figsize=(12, 5) if two else (6.5, 5), layout="constrained")
    if two:
        ax1, ax2 = fig.subplots(1, 2)
        plot_history(runs, ax=ax1)
        plot_paths(runs, ax=ax2, **kwargs)
    else:
        plot_history(runs, ax=fig.add_subplot())
    try:
        fig.savefig(path, dpi=110)
    except (OSError, ValueError) as exc:
        raise ArgumentError(f"cannot write the plot to {path!r}: {exc}") from exc
    return path
