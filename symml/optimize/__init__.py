"""Numeric optimization on exact derivatives: :func:`minimize` and :class:`OptimizeResult`.

The objective is derived and compiled once (value and exact gradient from one call; the
exact Hessian and constraint Jacobians when a method needs them), then handed either to a
first-order method implemented here (``gd``, ``sgd``, ``minibatch``, ``momentum``,
``nesterov``, ``rmsprop``, ``adam``) or to a SciPy solver (``bfgs``, ``l-bfgs-b``, ``cg``,
``tnc``, ``nelder-mead``, ``powell``, ``newton-cg``, ``newton``, ``trust-*``, ``slsqp``,
``trust-constr``), all listed in one method table (:mod:`symml.optimize.methods`). See
``docs/optimization.md``.

>>> import symml as sm
>>> r = sm.minimize("(1 - x)^2 + 100*(y - x^2)^2", {"x": -1.2, "y": 1})
>>> r.success, round(r.x["x"], 6), round(r.x["y"], 6)
(True, 1.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .._limits import budgeted
from ..backends import with_backend as _with_backend
from ..errors import ArgumentError
from ._problem import build_problem
from .first_order import run_first_order
from .registry import METHODS, get_method, method_names
from .result import OptimizeResult
from .scipy_methods import run_scipy

__all__ = ["minimize", "OptimizeResult", "METHODS", "method_names", "plot_paths", "plot_history"]


def _check_count(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ArgumentError(f"{name} must be a whole number >= 0, got {value!r}")
    if value < 0:
        raise ArgumentError(f"{name} must be >= 0, got {value}")
    return int(value)


def _check_positive(name: str, value, allow_zero: bool = False) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"{name} must be a number, got {value!r}") from exc
    ok = v >= 0 if allow_zero else v > 0
    if not (ok and math.isfinite(v)):
        raise ArgumentError(
            f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value!r}"
        )
    return v


@budgeted("minimize")
@_with_backend
def minimize(
    f,
    x0: Mapping[str, Any] | Sequence[float] | np.ndarray,
    method: str = "bfgs",
    *,
    data: Mapping[str, Any] | None = None,
    constraints: Iterable = (),
    bounds: Mapping[str, tuple] | None = None,
    regularization: Mapping[str, Any] | None = None,
    lr: float | None = None,
    max_iter: int | None = None,
    maxiter: int | None = None,
    epochs: int | None = None,
    tol: float | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    progress: bool = False,
    options: Mapping[str, Any] | None = None,
    backend: str = "numpy",
) -> OptimizeResult:
    """Minimize an objective written in the symml language (or SymPy) with exact derivatives.

    Parameters
    ----------
    f : str or sympy.Expr
        The objective: language text (``"(1 - x)^2 + 100*(y - x^2)^2"``), a SymPy expression,
        or a Program binding (``prog["loss"]``). With ``data``, ``f`` is written for one row.
    x0 : mapping, or array / list
        Parameter name -> start value. The optimized parameters are exactly these names; a
        vector name (``"w"`` for ``w[0]``, ``w[1]``...) takes an array of its length, or one
        number for all components. As in SciPy, a flat array or list in variable order works
        too: the objective's non-data names in the order of first appearance in its text
        (sorted by name for SymPy input), a vector taking one value per component
        (``r.names`` gives the order, ``r.x_flat`` the solution in it).
    method : str
        A name of the method table (:mod:`symml.optimize.methods`): first-order ``gd``,
        ``sgd``, ``minibatch``, ``momentum``, ``nesterov``, ``rmsprop``, ``adam``
        (implemented in symml), or SciPy's ``bfgs``, ``l-bfgs-b`` (alias ``lbfgs``), ``cg``,
        ``tnc``, ``nelder-mead``, ``powell`` (derivative-free), ``newton-cg`` (exact
        Hessian-vector products), ``newton``, ``trust-exact``, ``trust-ncg``,
        ``trust-krylov``, ``slsqp``, ``trust-constr`` with exact derivatives. Exact names.
    data : mapping, optional
        Data name -> array: ``(n,)`` for a scalar name, ``(n, k)`` for a vector name of length
        k. The objective becomes the mean of ``f`` over the n rows.
    constraints : str, sympy relation, or a list of them
        ``"x^2 + y^2 == 1"``, ``"x + y <= 2"``... (``slsqp`` and ``trust-constr``).
    bounds : mapping, optional
        Name -> ``(low, high)``, None for an open side; for a vector, numbers apply to every
        component (or give arrays). A start outside its bounds is moved onto them.
    regularization : mapping, optional
        ``{"l1": a}`` adds ``a*sum(|p|)``, ``{"l2": a}`` adds ``a*sum(p^2)``, and
        ``{"elastic_net": (a, r)}`` adds ``a*r*sum(|p|) + a*(1 - r)*sum(p^2)``, summed over
        every component of every optimized parameter; a strength may be a mapping of
        parameter names to strengths to restrict it. Keys may be combined.
    lr : float, optional
        Learning rate of the first-order methods. Default for gd, momentum and nesterov:
        ``1/L`` with L the largest |eigenvalue| of the exact Hessian at the start (gd also
        backtracks); sgd and minibatch 0.01; rmsprop and adam 0.001.
    max_iter, maxiter : int, optional
        Maximum number of parameter updates (``sgd``: one row each; ``minibatch``: one batch).
        Defaults: 1000 for full-batch first-order methods, 10 epochs for ``sgd``/``minibatch``,
        SciPy's own limits otherwise.
    epochs : int, optional
        Instead of ``max_iter``: passes over the data (one update per epoch for full-batch
        methods).
    tol : float, optional
        Stopping tolerance: for first-order methods, on the largest component of the
        (proximal, projected) gradient (default 1e-6); for SciPy methods, their gradient or
        function tolerance (defaults tighter than SciPy's, per method in the method table).
    batch_size : int, optional
        Rows per update of ``minibatch`` (default 32).
    seed : int, optional
        Seed of the row shuffling of ``sgd`` and ``minibatch`` (same seed, same run).
    progress : bool
        Draw a progress bar on stderr.
    backend : {"numpy", "numba", "jax"}
        The :func:`symml.compile` backend for the objective and its derivatives.
    options : mapping, optional
        Method hyperparameters: ``momentum`` (momentum, nesterov; 0.9), ``rho``, ``eps``
        (rmsprop), ``beta1``, ``beta2``, ``eps`` (adam), ``lr_decay`` (every first-order
        method), ``subproblem`` ("exact" or "ncg", newton), ``hessian`` ("exact" or "bfgs",
        trust-constr); for SciPy methods also SciPy's own options (``maxcor``, ``maxls``,
        ``xatol`` ...), passed through. Unknown names are an error listing the valid ones.

    Returns
    -------
    OptimizeResult
        ``x`` (dict), ``x_flat`` (flat array in variable order), ``fun``, ``nit``, ``nfev``,
        ``success``, ``status``, ``message``,
        ``history``, ``jac``, ``path``; ``report()`` for a readable summary.

    Raises
    ------
    ArgumentError
        Unknown method or option, unknown parameter name, wrong vector length, lr <= 0, a
        method that cannot take the given bounds/constraints/L1 penalty...
    DataError
        Data columns of different lengths or wrong shapes, NaN or infinite values.

    Notes
    -----
    A start where the objective or its gradient is not finite returns the start with
    ``success=False``, ``status=5`` and a message saying so (no iteration is made).
    A run that meets NaN or infinity stops and returns the best point so far with
    ``success=False``, ``status=2`` and the iteration in the message. Ctrl-C
    (KeyboardInterrupt) during a run returns the best point so far with ``status=3``.

    Examples
    --------
    >>> import symml as sm
    >>> r = sm.minimize("(x - 2)^2 + (y + 1)^2 + x*y", {"x": 3, "y": -2}, method="newton")
    >>> r.nit, round(r.x["x"], 10), round(r.x["y"], 10)   # one Newton step on a quadratic
    (1, 3.3333333333, -2.6666666667)
    >>> r = sm.minimize("x*y", {"x": 1, "y": 0}, constraints=["x^2 + y^2 == 1"], method="slsqp")
    >>> round(r.fun, 10)
    -0.5
    """
    m = get_method(method)
    if maxiter is not None:  # SciPy's spelling
        if max_iter is not None and max_iter != maxiter:
            raise ArgumentError(
                f"give max_iter or maxiter (the same), not both: {max_iter}, {maxiter}"
            )
        max_iter = maxiter
    lr = _check_positive("lr", lr)
    tol = _check_positive("tol", tol, allow_zero=True)
    max_iter = _check_count("max_iter", max_iter)
    epochs = _check_count("epochs", epochs)
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ArgumentError(f"batch_size must be a positive integer, got {batch_size!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ArgumentError(f"seed must be an integer, got {seed!r}")
    if options is not None and not isinstance(options, Mapping):
        raise ArgumentError(f"options must be a mapping of option names to values, got {options!r}")
    problem = build_problem(
        f, x0, data=data, constraints=constraints, bounds=bounds, regularization=regularization
    )
    if m.kind == "first-order":
        if problem.constraints:
            raise ArgumentError(
                f"method {method!r} does not take constraints; use 'slsqp' or 'trust-constr' "
                f"(bounds alone work with every first-order method, by projection)"
            )
        with np.errstate(all="ignore"):  # NaN/inf are detected and reported by the runner
            return run_first_order(
                problem,
                method,
                lr=lr,
                max_iter=max_iter,
                epochs=epochs,
                tol=tol,
                batch_size=batch_size,
                seed=seed,
                options=dict(options or {}),
                progress=progress,
            )
    for name, value, why in (
        ("lr", lr, "it chooses its own steps (line search or trust region)"),
        ("epochs", epochs, "it uses all rows at every iteration; give max_iter"),
        ("batch_size", batch_size, "it uses all rows at every iteration"),
    ):
        if value is not None:
            raise ArgumentError(f"{name} is for the first-order methods, not {method!r}: {why}")
    with np.errstate(all="ignore"):
        return run_scipy(
            problem,
            method,
            max_iter=max_iter,
            tol=tol,
            options=dict(options or {}),
            progress=progress,
        )


def plot_paths(*args, **kwargs):
    """Contours of a two-parameter objective with the path of each run; see :mod:`.plot`."""
    from .plot import plot_paths as _plot_paths

    return _plot_paths(*args, **kwargs)


def plot_history(*args, **kwargs):
    """The objective per iteration of one or more runs; see :mod:`.plot`."""
    from .plot import plot_history as _plot_history

    return _plot_history(*args, **kwargs)
