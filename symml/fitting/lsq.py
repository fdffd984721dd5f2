"""The nonlinear least-squares engine: exact Jacobians, robust defaults, extended-precision polish.

This is the engine behind ``symml.fit("y ~ expr", ...)``; it can be called directly.

Interface (stable; :mod:`symml.fitting.api` depends on it)::

    solve_least_squares(residual, params, data, p0, *, bounds=None, weights=None) -> LsqSolution

``residual``
    A SymPy expression for the residual of ONE data row, e.g. ``y - b1*(1 - exp(-b2*x))``.
    It is differentiated symbolically once and compiled to NumPy over all rows at once; the
    sum over rows is never expanded symbolically.
``params``
    Ordered list of the parameter Symbols. ``x``, ``stderr``, ``cov`` and ``jac`` columns
    follow this order.
``data``
    Mapping of data Symbol (or its name) -> 1-D column of length n. Columns are float
    array-likes; they may also hold decimal strings, :class:`~fractions.Fraction`,
    :class:`~decimal.Decimal` or mpmath numbers, which are then read exactly in the
    extended-precision stages (the double-precision stages use the nearest floats).
``p0``
    Starting values, a sequence of floats in ``params`` order.
``bounds``
    ``None`` or one ``(low, high)`` pair per parameter, ``None``/``±inf`` for an open side.
``weights``
    ``None`` or n non-negative row weights ``w``; the objective is ``sum(w * r**2)``.

:class:`LsqSolution` fields: ``x``, ``cov`` (``s^2 (J^T J)^-1`` with ``s^2 = rss / dof``, or
``None`` with the reason in ``cov_reason``), ``stderr`` (``nan`` where undetermined), ``rss``
(the weighted residual sum of squares, accumulated in extended precision), ``dof``, ``jac``
(``d r_i / d b_j`` of the unweighted rows at ``x``), ``residuals`` (unweighted ``r_i`` at ``x``),
``nfev``, ``njev`` (double-precision residual and Jacobian evaluations over all rows),
``success``, ``status``, ``message`` and, for diagnostics, ``method`` (the path that produced
``x``), ``polished``, ``nmpev`` (extended-precision residual+Jacobian evaluations of the
polish), ``rel_offset`` and ``rel_step`` (the convergence measures below) and ``param_names``.

How it works
------------
1. Residual and exact Jacobian are compiled once per model (cached) to vectorised NumPy
   with :func:`symml.compile`.
2. Double precision: SciPy's ``least_squares`` with the exact Jacobian and
   ``x_scale="jac"``; Levenberg-Marquardt (MINPACK) without bounds, trust-region reflective
   with bounds or when LM fails. These first runs use tolerances of 1e-10 and stop as soon as
   one is close to a minimum (Gauss-Newton step below 1e-6 relative, or relative offset below
   1e-4); otherwise further runs restart from the start or the best point with other
   methods and scalings, and the lowest residual sum of squares is kept.
3. Polish in extended precision: residuals, Jacobian and ``g = J^T r`` are evaluated in
   mpmath at 30 digits (from the exact data when they are given as decimals) and Newton
   steps are taken, ``(J^T J + sum r_i Hess(r_i)) dx = -g``, with the exact second-order
   term compiled from the symbolic Hessian of one row and the step solved in double precision
   from a column-scaled SVD of J (as in iterative refinement, this limits the rate, not the
   attainable accuracy; Gauss-Newton is used where the Newton matrix is not positive
   definite). A step is kept only if the extended-precision residual sum of squares does not
   rise. This fixes the final digits where double precision stalls (ill-conditioned models,
   round-off-level residuals as in NIST's Lanczos1). Models that mpmath cannot evaluate
   (piecewise ones) and large problems (rows * (parameters + 1) > 50,000) skip the polish.
4. If the polish is unavailable or does not converge, the double-precision runs are repeated
   with tolerances at machine precision, continuing from the best point. When the polish does
   not run, Gauss-Newton (then Newton) steps in double precision, each kept only if the
   exactly summed residual sum of squares does not rise, continue until the step stops
   shrinking (the round-off floor): SciPy's tolerances and the statistical test of 5. stop
   earlier, and another solver (the Dask fit) must land on the same optimum to ~1e-12.
5. Convergence test at the final point (in the polish's precision when it ran): the
   Gauss-Newton step ``dx`` solving ``J dx = -r`` over the parameters not held at a bound must
   be negligible, either relative to the estimates (``max |dx_i| / |x_i| <= 1e-10``) or
   statistically (the Bates-Watts relative offset ``|Q_1^T r| / sqrt(p) / (|Q_2^T r| /
   sqrt(n - p)) <= 1e-6``: the step moves the estimates by a negligible fraction of their
   standard errors). Otherwise ``success`` is False and ``message`` says why; the best point
   found is still returned.

``status``: 1 converged, 2 converged after the extended-precision polish, 3 stationary but
``J^T J`` is singular there (estimates not unique, e.g. ``a*b*x``, or parameters running off
to infinity; ``success`` is False, ``cov`` is None), 0 stopped without meeting the
convergence test, -1 non-finite residuals or Jacobian at the end. ``success`` is True only for
status 1 and 2.

Examples
--------
>>> import numpy as np, sympy as sp
>>> x, y, b1, b2 = sp.symbols("x y b1 b2", real=True)
>>> xs = np.linspace(0.0, 4.0, 9)
>>> ys = 2.0 * (1.0 - np.exp(-0.7 * xs)) + 0.01 * np.cos(7.0 * xs)
>>> sol = solve_least_squares(y - b1 * (1 - sp.exp(-b2 * x)), [b1, b2], {x: xs, y: ys}, [1.0, 1.0])
>>> sol.success, np.round(sol.x, 4).tolist(), sol.dof
(True, [1.9977, 0.7011], 7)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from .._diff import diff as _diff
from ..compile import compile as _compile
from ..errors import DataError, FitError, SymmlError
from ..functions import NUMERICS

__all__ = ["LsqSolution", "solve_least_squares"]

#: Digits of the extended-precision polish and of the reported residual sum of squares.
POLISH_DPS = 30
#: The polish stops when its step is below this, relative to the estimates (or offset) ...
POLISH_REL_STEP = 1e-17
#: The polish runs when rows * (parameters + 1) is at most this (its arithmetic is mpmath's,
#: about 1e-5 s per row and expression); larger problems keep the double-precision answer.
POLISH_MAX_CELLS = 50_000
#: Newton steps (exact second-order term) from the first polish iteration.
POLISH_NEWTON_FIRST = True
#: ... or after this many iterations or extended-precision evaluations.
POLISH_MAX_ITER = 20
POLISH_MAX_EVALS = 30
#: Tolerances (ftol, xtol, gtol) of the first double-precision runs ...
DOUBLE_TOL = 1e-10
#: ... which stop once the Gauss-Newton step is this small relative to the estimates ...
NEAR_REL_STEP = 1e-6
#: ... or the relative offset this small; the polish then finishes the job.
NEAR_REL_OFFSET = 1e-4
#: Evaluation limit of one SciPy run, per parameter + 1 (twice this for the first run) ...
RUN_NFEV_PER_PARAM = 250
#: ... and of all runs together (no new run starts beyond it).
MAX_NFEV_PER_PARAM = 1500
#: Convergence: max |dx_i| / |x_i| of the Gauss-Newton step ...
REL_STEP_TOL = 1e-10
#: ... or the Bates-Watts relative offset.
REL_OFFSET_TOL = 1e-6
#: Double-precision refinement (when the polish does not run): at most this many steps.
REFINE_MAX_ITER = 30

_EPS = np.finfo(float).eps


@dataclass
class LsqSolution:
    """Result of :func:`solve_least_squares` (see the module docstring for every field)."""

    x: np.ndarray
    cov: np.ndarray | None
    stderr: np.ndarray
    rss: float
    dof: int
    jac: np.ndarray
    residuals: np.ndarray
    nfev: int
    njev: int
    success: bool
    status: int
    message: str
    cov_reason: str = ""
    method: str = ""
    polished: bool = False
    rel_offset: float = math.nan
    rel_step: float = math.nan
    param_names: tuple[str, ...] = field(default=())
    nmpev: int = 0

    def __repr__(self) -> str:
        rows = [
            ("success", self.success),
            ("status", self.status),
            ("message", self.message),
            ("x", self.x),
            ("stderr", self.stderr),
            ("rss", self.rss),
            ("dof", self.dof),
            ("nfev", self.nfev),
            ("njev", self.njev),
            ("method", self.method),
        ]
        width = max(len(k) for k, _ in rows)
        return "LsqSolution(\n" + "\n".join(f"  {k:>{width}}: {v!r}" for k, v in rows) + "\n)"


# ---------------------------------------------------------------------------------------------
# compiled model: residual rows and exact Jacobian, in float64 and in mpmath
# ---------------------------------------------------------------------------------------------

_MP_UNARY = (
    "exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
    "asinh", "acosh", "atanh", "sec", "csc", "cot", "erf", "erfc", "gamma", "loggamma", "expm1",
    "log1p", "sign", "fabs", "ceil", "floor", "log10",
)  # fmt: skip


def _mp_namespace() -> dict[str, Any]:
    """mpmath functions lifted to object arrays, so one call evaluates every row."""
    ns: dict[str, Any] = {}
    for name in _MP_UNARY:
        fn = getattr(mpmath, name, None)
        if fn is not None:
            ns[name] = np.frompyfunc(fn, 1, 1)
    ns["atan2"] = np.frompyfunc(mpmath.atan2, 2, 1)
    ns["abs"] = np.frompyfunc(abs, 1, 1)
    # symml's own functions, evaluated stably (the formulas live in symml.functions.NUMERICS)
    for name, fn in NUMERICS["mpmath"].items():
        ns[name] = np.frompyfunc(fn, 1, 1)
    ns["relu"] = np.frompyfunc(lambda v: v if v > 0 else 0 * v, 1, 1)
    ns["DiracDelta"] = np.frompyfunc(lambda v: 0 * v, 1, 1)
    return ns


class _Model:
    """Residual and Jacobian of one row, compiled for float64 arrays and for mpmath arrays."""

    def __init__(
        self, residual: sp.Expr, params: Sequence[sp.Symbol], data_syms: Sequence[sp.Symbol]
    ):
        self.residual = residual
        self.params = tuple(params)
        self.data_syms = tuple(data_syms)
        self.jac_exprs = [_diff(residual, b) for b in params]
        for b, d in zip(params, self.jac_exprs, strict=True):
            if d == 0:
                raise FitError(
                    f"the model does not depend on parameter {b}; remove it or fix the model"
                )
        args = list(self.params) + list(self.data_syms)
        self._args = args
        self._r = _compile(residual, args)
        self._j = _compile(self.jac_exprs, args)
        self._mp_rj = None
        self._hess = None
        self.mp_ok: bool | None = None

    # float64 -------------------------------------------------------------------------------
    def r(self, p: np.ndarray, cols: Sequence[np.ndarray], n: int) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = self._r(*p, *cols)
        return np.broadcast_to(np.asarray(out, dtype=float), (n,))

    def jac(self, p: np.ndarray, cols: Sequence[np.ndarray], n: int) -> np.ndarray:
        with np.errstate(all="ignore"):
            cols_out = self._j(*p, *cols)
        out = np.empty((n, len(self.params)))
        for j, c in enumerate(cols_out):
            out[:, j] = np.asarray(c, dtype=float)
        return out

    def hess_sum(
        self, p: np.ndarray, cols: Sequence[np.ndarray], n: int, c: np.ndarray
    ) -> np.ndarray | None:
        """``sum_i c_i * Hessian(r_i)`` in float64 (the second-order term of Newton's method)."""
        k = len(self.params)
        if self._hess is None:
            pairs = [(a, b) for a in range(k) for b in range(a, k)]
            exprs = [_diff(self.jac_exprs[a], self.params[b]) for a, b in pairs]
            try:
                self._hess = (pairs, _compile(exprs, self._args))
            except SymmlError:  # a second derivative compile cannot handle: Gauss-Newton
                self._hess = False
                return None
        if self._hess is False:
            return None
        pairs, fn = self._hess
        with np.errstate(all="ignore"):
            vals = fn(*p, *cols)
        S = np.zeros((k, k))
        for (a, b), v in zip(pairs, vals, strict=True):
            S[a, b] = S[b, a] = float(np.sum(c * np.broadcast_to(np.asarray(v, dtype=float), (n,))))
        return S

    # mpmath ---------------------------------------------------------------------------------
    def _mp_compile(self) -> bool:
        if self.mp_ok is None:
            try:
                exprs = [self.residual, *self.jac_exprs]
                ns = _mp_namespace()
                self._mp_rj = sp.lambdify(self._args, exprs, modules=[ns, "mpmath"], cse=True)
                self.mp_ok = True
            except Exception:  # noqa: BLE001 - an expression mpmath cannot print: skip polish
                self.mp_ok = False
        return bool(self.mp_ok)

    def mp_rj(self, p: Sequence[Any], cols: Sequence[np.ndarray], n: int):
        """Residual rows and Jacobian in mpmath at the working precision (object arrays)."""
        out = self._mp_rj(*p, *cols)
        J = np.empty((n, len(self.params)), dtype=object)
        for j, c in enumerate(out[1:]):
            J[:, j] = _mp_column(c, n)
        return _mp_column(out[0], n), J


class _MpArray(np.ndarray):
    """Object array of mpf values whose repr is cheap.

    mpmath formats an operand it cannot convert into its error message (``repr``); for a
    large object array that costs more than the arithmetic, so the data columns carry this
    subclass (ufunc results inherit it).
    """

    def __repr__(self) -> str:
        return f"<{self.size} mpf values>"


def _mp_array(values: Sequence[Any]) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    return arr.view(_MpArray)


def _mp_column(value: Any, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=object)
    if arr.ndim == 0:
        v = arr.item()
        arr = np.empty(n, dtype=object)
        arr[:] = [mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else v] * n
    return arr


_MODEL_CACHE: dict[tuple, _Model] = {}


def _model(
    residual: sp.Expr, params: Sequence[sp.Symbol], data_syms: Sequence[sp.Symbol]
) -> _Model:
    key = (residual, tuple(params), tuple(data_syms))
    model = _MODEL_CACHE.get(key)
    if model is None:
        if len(_MODEL_CACHE) > 64:
            _MODEL_CACHE.clear()
        model = _MODEL_CACHE[key] = _Model(residual, params, data_syms)
    return model


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------


def _to_mpf(v: Any) -> mpmath.mpf:
    if isinstance(v, mpmath.mpf):
        return v
    if isinstance(v, Fraction):
        return mpmath.mpf(v.numerator) / v.denominator
    if isinstance(v, (str, Decimal)):
        return mpmath.mpf(str(v).strip())
    return mpmath.mpf(float(v))


class _Data:
    """Float columns, and on demand the exact (mpmath) columns at the polish precision."""

    def __init__(self, residual: sp.Expr, params: Sequence[sp.Symbol], data: Mapping[Any, Any]):
        free = residual.free_symbols - set(params)
        by_name = {s.name: s for s in free}
        self.syms: list[sp.Symbol] = []
        self.raw: list[Any] = []
        self.cols: list[np.ndarray] = []
        seen: set[sp.Symbol] = set()
        for key, col in data.items():
            sym = key if isinstance(key, sp.Symbol) else by_name.get(str(key))
            if sym is None or sym not in free or sym in seen:
                continue  # a column the model does not use
            seen.add(sym)
            self.syms.append(sym)
            self.raw.append(col)
            self.cols.append(_float_column(col, sym.name))
        missing = sorted(s.name for s in free - seen)
        if missing:
            raise DataError(
                f"no data for {', '.join(missing)}: the residual uses them but they are neither "
                "parameters nor data columns; pass them in data= or list them as parameters"
            )
        lengths = {s.name: len(c) for s, c in zip(self.syms, self.cols, strict=True)}
        if len(set(lengths.values())) > 1:
            raise DataError(f"data columns have different lengths: {lengths}")
        self.n = next(iter(lengths.values())) if lengths else 1
        self._mp_cols: dict[int, list[np.ndarray]] = {}

    def mp_cols(self) -> list[np.ndarray]:
        dps = mpmath.mp.dps
        if dps not in self._mp_cols:
            out = []
            for raw, col in zip(self.raw, self.cols, strict=True):
                src = raw if _is_exact_source(raw) else col
                out.append(_mp_array([_to_mpf(v) for v in src]))
            self._mp_cols = {dps: out}
        return self._mp_cols[dps]


def _is_exact_source(raw: Any) -> bool:
    if isinstance(raw, np.ndarray):
        return raw.dtype == object or raw.dtype.kind in "US"
    return isinstance(raw, (list, tuple)) and any(
        isinstance(v, (str, Fraction, Decimal, mpmath.mpf)) for v in raw
    )


def _float_column(col: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(col, dtype=float)  # numbers, decimal strings, Fraction, Decimal, mpf
    except (TypeError, ValueError) as exc:
        raise DataError(f"data column {name!r} is not numeric: {exc}") from None
    if arr.ndim != 1:
        raise DataError(f"data column {name!r} must be 1-D, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataError(
            f"data column {name!r} has {int(bad.sum())} NaN or infinite value(s) (first at row "
            f"{int(np.argmax(bad))}); drop or fill those rows"
        )
    return arr


# ---------------------------------------------------------------------------------------------
# the solver
# ---------------------------------------------------------------------------------------------


@dataclass
class _Run:
    x: np.ndarray
    cost: float
    method: str
    converged: bool = False
    rel_step: float = math.inf
    rel_offset: float = math.inf
    near: bool = False
    stationary: bool = False  # the step test alone, whatever the rank of J


class _Problem:
    def __init__(self, model: _Model, data: _Data, sqrtw: np.ndarray | None, sqrtw_raw: Any):
        self.model = model
        self.data = data
        self.sqrtw = sqrtw
        self.sqrtw_raw = sqrtw_raw
        self.n = data.n
        self.p = len(model.params)
        self.nfev = 0
        self.njev = 0

    def fun(self, x: np.ndarray) -> np.ndarray:
        self.nfev += 1
        r = self.model.r(x, self.data.cols, self.n)
        if self.sqrtw is not None:
            r = r * self.sqrtw
        return np.where(np.isfinite(r), r, 1e100)

    def jac(self, x: np.ndarray) -> np.ndarray:
        self.njev += 1
        J = self.model.jac(x, self.data.cols, self.n)
        if self.sqrtw is not None:
            J = J * self.sqrtw[:, None]
        return np.where(np.isfinite(J), J, 0.0)


def _scaled_svd(J: np.ndarray):
    """SVD of J with unit-norm columns: ``J = U diag(sv) Vt diag(d)``; rank-revealing."""
    d = np.linalg.norm(J, axis=0)
    d[d == 0] = 1.0
    U, sv, Vt = np.linalg.svd(J / d, full_matrices=False)
    keep = sv > (sv[0] if sv.size else 0.0) * max(J.shape) * _EPS * 10
    return U, sv, Vt, d, keep


def _gn_step(J: np.ndarray, r: np.ndarray, g: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Gauss-Newton step ``J dx = -r`` (least squares) and the Bates-Watts relative offset.

    From the SVD of the column-scaled J, truncated at its numerical rank (a minimum-norm step
    when J^T J is singular). ``g`` (``J^T r``, computed in extended precision) replaces the
    double-precision projection ``U^T r`` when given: ``U^T r = diag(1/sv) Vt (g / d)``.
    """
    n, p = J.shape
    U, sv, Vt, d, keep = _scaled_svd(J)
    sv_safe = np.where(keep, sv, 1.0)
    if g is None:
        utr = U.T @ r
    else:
        utr = (Vt @ (g / d)) / sv_safe
    utr = np.where(keep, utr, 0.0)
    dxs = -(Vt.T @ (utr / sv_safe))
    rr = float(np.dot(r, r))
    q1 = float(np.dot(utr, utr))
    rest = max(rr - q1, 0.0)
    rank = int(keep.sum())
    if rr == 0.0:
        offset = 0.0
    elif rank == 0:
        offset = math.inf
    elif n > rank and rest > 0:
        offset = math.sqrt(q1 / rank) / math.sqrt(rest / (n - rank))
    else:
        offset = math.inf
    return dxs / d, offset


def _newton_step(J: np.ndarray, S: np.ndarray, g: np.ndarray) -> np.ndarray | None:
    """Newton step for ``H = J^T J + S`` without forming J^T J.

    With the column-scaled SVD ``J_s = U diag(sv) Vt`` and ``B = diag(sv) Vt``:
    ``H_s = B^T (I + M) B``, ``M = B^-T S_s B^-1``. ``None`` when J is rank deficient or
    ``I + M`` is not positive definite (the caller then keeps the Gauss-Newton step).
    """
    U, sv, Vt, d, keep = _scaled_svd(J)
    if not keep.all() or sv.size == 0:
        return None
    Binv = Vt.T / sv  # B^-1 = V diag(1/sv)
    M = Binv.T @ (S / np.outer(d, d)) @ Binv
    A = np.eye(sv.size) + 0.5 * (M + M.T)
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        return None
    y = Binv.T @ (-g / d)
    y = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return (Binv @ y) / d


def _rel(dx: np.ndarray, x: np.ndarray, colnorm: np.ndarray) -> float:
    """``max |dx_i| / max(|x_i|, floor_i)``: the step relative to the estimates.

    ``floor_i`` is the change of ``x_i`` that moves the model by 1e-14 of the sum of its
    terms' sizes ``sum_j |x_j| |J_j|`` (``|J_j|`` = column norms): it keeps the measure
    meaningful for an estimate at or near zero (an intercept that is exactly 0, say).
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        size = float(np.sum(np.abs(x) * colnorm))
        floor = np.where(colnorm > 0, 1e-14 * size / colnorm, 0.0)
        rel = np.abs(dx) / np.maximum(np.abs(x), floor)
    rel = np.where(dx == 0, 0.0, rel)
    return float(np.max(rel)) if rel.size else 0.0


def _active(x: np.ndarray, g: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """Parameters held at a bound: on it (to 1e-8 relative) with the gradient pushing out."""
    tol = 1e-8 * np.maximum(1.0, np.abs(x))
    return ((x - lb <= tol) & (g > 0)) | ((ub - x <= tol) & (g < 0))


def _assess(prob: _Problem, run: _Run, lb: np.ndarray, ub: np.ndarray, r=None, J=None) -> _Run:
    """Convergence test in double precision (Gauss-Newton step over the free parameters)."""
    r = prob.fun(run.x) if r is None else r
    J = prob.jac(run.x) if J is None else J
    run.cost = float(0.5 * np.dot(r, r))
    if not (np.all(np.isfinite(r)) and np.all(np.abs(r) < 1e99)):
        run.converged = False
        return run
    free = ~_active(run.x, J.T @ r, lb, ub)
    if not free.any():
        run.rel_step = run.rel_offset = 0.0
        run.converged = run.near = run.stationary = True
        return run
    dx, offset = _gn_step(J[:, free], r)
    run.rel_step = _rel(dx, run.x[free], np.linalg.norm(J[:, free], axis=0))
    run.rel_offset = offset
    # A rank-deficient J (a flat region, e.g. an underflowing exponential) is no reason to
    # stop trying: only full-rank points count as converged here.
    full_rank = bool(_scaled_svd(J[:, free])[4].all())
    small = run.rel_step <= REL_STEP_TOL or offset <= REL_OFFSET_TOL
    run.stationary = bool(small)
    run.converged = bool(small and full_rank)
    run.near = bool((run.rel_step <= NEAR_REL_STEP or offset <= NEAR_REL_OFFSET) and full_rank)
    return run


def _scipy_run(
    prob: _Problem, x0: np.ndarray, method: str, lb, ub, x_scale, tol: float, max_nfev: int
) -> _Run:
    tol = max(tol, 1e-15) if method == "lm" else tol
    kw: dict[str, Any] = dict(
        jac=prob.jac, method=method, x_scale=x_scale, ftol=tol, xtol=tol, gtol=tol,
        max_nfev=max_nfev,
    )  # fmt: skip
    if method != "lm":
        kw["bounds"] = (lb, ub)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = least_squares(prob.fun, x0, **kw)
        except (ValueError, np.linalg.LinAlgError) as exc:  # e.g. a singular start for 'lm'
            return _Run(x0.copy(), math.inf, f"{method}: {exc}")
    run = _Run(np.asarray(res.x, dtype=float), float(res.cost), method)
    # SciPy returns residuals and Jacobian at res.x (evaluated and counted by us already)
    J = np.asarray(res.jac, dtype=float) if isinstance(res.jac, np.ndarray) else None
    return _assess(prob, run, lb, ub, np.asarray(res.fun, dtype=float), J)


def _better(a: _Run | None, b: _Run) -> _Run:
    if a is None:
        return b
    if a.converged != b.converged:
        return a if a.converged else b
    return a if a.cost <= b.cost else b


def _polish(prob: _Problem, x: np.ndarray, lb: np.ndarray, ub: np.ndarray, dps: int = POLISH_DPS):
    """Gauss-Newton (then Newton) steps in extended precision.

    Residuals, Jacobian and ``g = J^T r`` are evaluated in mpmath at ``dps`` digits; steps are
    solved in double precision from them (their relative error ~ cond(J) * eps only limits the
    rate, not the attainable accuracy, as in iterative refinement). When Gauss-Newton
    contracts slowly (large residuals), the exact second-order term ``sum r_i Hess(r_i)`` is
    added (Newton's method) for quadratic convergence. A step is kept only if it does not raise
    the extended-precision residual sum of squares. Returns ``(x_mp, r_mp, rss_mp, rel_step,
    rel_offset, info)`` or ``None`` when the model cannot be evaluated in mpmath.
    """
    model = prob.model
    if not model._mp_compile():
        return None
    n, p = prob.n, prob.p
    with mpmath.workdps(dps):
        cols = prob.data.mp_cols()
        sw = None
        if prob.sqrtw_raw is not None:
            sw = _mp_array([mpmath.sqrt(_to_mpf(v)) for v in prob.sqrtw_raw])

        evals = [0]

        def rj(xm):
            evals[0] += 1
            r, J = model.mp_rj(xm, cols, n)
            if sw is not None:
                r, J = r * sw, J * np.asarray(sw)[:, None]
            return r, J

        def rss(r):
            return mpmath.fsum(v * v for v in r)

        xm = [mpmath.mpf(float(v)) for v in x]
        try:
            r, J = rj(xm)
        except Exception:  # noqa: BLE001 - a function mpmath cannot evaluate: no polish
            model.mp_ok = False
            return None
        try:
            s = rss(r)
            if not mpmath.isfinite(s):
                return None
            g0 = np.array([float(mpmath.fdot(J[:, j], r)) for j in range(p)])
            free = ~_active(np.asarray(x, dtype=float), g0, lb, ub)
            if not free.any():
                return None
            rel_step = offset = math.inf
            newton = POLISH_NEWTON_FIRST
            steps = []
            for _ in range(POLISH_MAX_ITER):
                g = np.array([mpmath.fdot(J[:, j], r) for j in range(p)], dtype=object)
                Jf = np.array(J[:, free], dtype=float)
                rf = np.array(r, dtype=float)
                gf = np.array(g[free], dtype=float)
                dxf, offset = _gn_step(Jf, rf, gf)
                if newton:
                    xf = np.array([float(v) for v in xm])
                    c = rf * (np.array(sw, dtype=float) if sw is not None else 1.0)
                    S = model.hess_sum(xf, prob.data.cols, n, c)
                    dn = None if S is None else _newton_step(Jf, S[np.ix_(free, free)], gf)
                    if dn is not None and np.all(np.isfinite(dn)):
                        dxf = dn
                if not np.all(np.isfinite(dxf)):
                    break
                dx = np.zeros(p)
                dx[free] = dxf
                colnorm = np.zeros(p)
                colnorm[free] = np.linalg.norm(Jf, axis=0)
                rel_step = _rel(dx, np.array([float(v) for v in xm]), colnorm)
                steps.append(rel_step)
                if rel_step <= POLISH_REL_STEP or offset <= POLISH_REL_STEP:
                    break
                # slow (linear) Gauss-Newton contraction: switch to Newton's method
                if not newton and len(steps) >= 2 and steps[-1] > 1e-3 * steps[-2]:
                    newton = True
                t = mpmath.mpf(1)
                accepted = False
                for _ in range(12):
                    if evals[0] >= POLISH_MAX_EVALS:
                        break
                    trial = [xm[i] + t * mpmath.mpf(dx[i]) for i in range(p)]
                    if all(lb[i] <= trial[i] <= ub[i] for i in range(p)):
                        r_new, J_new = rj(trial)
                        s_new = rss(r_new)
                        if mpmath.isfinite(s_new) and s_new <= s:
                            accepted = True
                            break
                    t /= 2
                if not accepted:
                    break
                xm, r, J, s = trial, r_new, J_new, s_new
            return xm, r, s, rel_step, offset, ("newton" if newton else "gn", steps, evals[0])
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return None


def _refine(prob: _Problem, run: _Run, lb: np.ndarray, ub: np.ndarray) -> _Run:
    """Gauss-Newton (Newton when it contracts slowly) steps in double precision, to the
    round-off floor, for problems the extended-precision polish does not take (too many rows,
    or a model mpmath cannot evaluate).

    SciPy stops at its tolerances and the convergence test accepts a statistically negligible
    step (relative offset 1e-6); two solvers stopping that way may still differ in the 8th
    digit. Here each step solves ``J dx = -r`` from the column-scaled SVD of J and is kept only
    if the residual sum of squares (summed exactly, ``math.fsum``) does not rise; the loop
    ends when the step stops shrinking (the round-off floor, where steps are noise) or is
    below 1e-15 relative, so the result is the stationary point of the double-precision sum
    ``J^T r = 0`` to its last digits, whichever path reached its neighbourhood.
    """
    x = run.x.copy()
    r, J = prob.fun(x), prob.jac(x)
    s = math.fsum(r * r)
    if not math.isfinite(s):
        return run
    steps: list[float] = []
    newton, taken = False, 0
    cols, n, model = prob.data.cols, prob.n, prob.model
    for _ in range(REFINE_MAX_ITER):
        g = J.T @ r
        free = ~_active(x, g, lb, ub)
        if not free.any():
            break
        Jf = J[:, free]
        dxf, _ = _gn_step(Jf, r)
        if newton:
            c = r * prob.sqrtw if prob.sqrtw is not None else r
            S = model.hess_sum(x, cols, n, c)
            dn = None if S is None else _newton_step(Jf, S[np.ix_(free, free)], g[free])
            if dn is not None and np.all(np.isfinite(dn)):
                dxf = dn
        if not np.all(np.isfinite(dxf)):
            break
        dx = np.zeros_like(x)
        dx[free] = dxf
        colnorm = np.zeros_like(x)
        colnorm[free] = np.linalg.norm(Jf, axis=0)
        step = _rel(dx, x, colnorm)
        if step <= 1e-15:
            break
        if steps and step > 0.5 * steps[-1]:
            if newton:
                break  # at the floor: the step no longer shrinks
            newton = True  # or slow Gauss-Newton contraction: retry with the Newton term
            continue
        if not newton and steps and step > 1e-3 * steps[-1]:
            newton = True  # linear contraction (large residuals): exact second-order term
        steps.append(step)
        xn = np.clip(x + dx, lb, ub)
        rn = prob.fun(xn)
        sn = math.fsum(rn * rn)
        if not (math.isfinite(sn) and sn <= s):
            break
        x, r, s, taken = xn, rn, sn, taken + 1
        J = prob.jac(x)
    if not taken:
        return run
    out = _Run(x, 0.5 * s, run.method + "+gn")
    return _assess(prob, out, lb, ub, r, J)


def _covariance(
    J: np.ndarray, rss: float, dof: int, names: Sequence[str]
) -> tuple[np.ndarray | None, str]:
    """``s^2 (J^T J)^-1`` from the column-scaled SVD of J, or ``None`` and the reason."""
    if dof <= 0:
        return None, f"no degrees of freedom left (n - p = {dof}); standard errors are undefined"
    zero = np.linalg.norm(J, axis=0) == 0
    if zero.any():
        which = ", ".join(n for n, z in zip(names, zero, strict=True) if z)
        return None, (
            f"J^T J is singular: the residuals do not depend on {which} at the estimates; "
            "standard errors are undetermined"
        )
    U, sv, Vt, d, keep = _scaled_svd(J)
    if not keep.all():
        null = Vt[-1]
        involved = ", ".join(n for n, v in zip(names, null, strict=True) if abs(v) > 0.1)
        return None, (
            f"J^T J is singular (scaled condition number {sv[0] / max(sv[-1], 1e-300):.2g}): "
            f"{involved} cannot be determined separately from the data; estimates are returned, "
            "standard errors are undetermined"
        )
    Binv = Vt.T / sv
    cov = (rss / dof) * (Binv @ Binv.T) / np.outer(d, d)
    return cov, ""


def solve_least_squares(
    residual: sp.Expr,
    params: Sequence[sp.Symbol],
    data: Mapping[Any, Any],
    p0: Sequence[float],
    *,
    bounds: Sequence[tuple[float | None, float | None]] | None = None,
    weights: Sequence[float] | np.ndarray | None = None,
) -> LsqSolution:
    """Minimise ``sum(w * residual**2)`` over the data rows with an exact Jacobian.

    Parameters
    ----------
    residual : sympy.Expr
        Residual of one row (data symbols and parameters).
    params : list of sympy.Symbol
        Parameters, in the order of ``p0`` and of the result's arrays.
    data : mapping
        Data symbol or name -> 1-D column (floats, or exact decimals as strings).
    p0 : sequence of float
        Starting values.
    bounds : sequence of (low, high), optional
        One pair per parameter; ``None`` or ``inf`` for an open side.
    weights : array-like, optional
        Non-negative row weights.

    Returns
    -------
    LsqSolution

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> x, y, a, b = sp.symbols("x y a b", real=True)
    >>> data = {"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 3.1, 4.9, 7.0]}
    >>> sol = solve_least_squares(y - (a + b * x), [a, b], data, [0.0, 0.0])
    >>> np.round(sol.x, 6).tolist(), round(sol.rss, 6), sol.success
    ([1.03, 1.98], 0.018, True)
    """
    params = list(params)
    p = len(params)
    if p == 0:
        raise FitError("no parameters to fit")
    if len(set(params)) != p:
        raise FitError(f"parameters listed twice: {params}")
    x0 = np.asarray([float(v) for v in p0], dtype=float)
    if x0.shape != (p,):
        raise FitError(f"p0 has {x0.size} values for {p} parameters {[str(b) for b in params]}")
    if not np.all(np.isfinite(x0)):
        raise FitError(f"p0 must be finite, got {x0.tolist()}")
    if not isinstance(residual, sp.Expr):
        raise FitError(f"residual must be a SymPy expression, got {type(residual).__name__}")

    dat = _Data(residual, params, data)
    n = dat.n
    model = _model(residual, params, dat.syms)

    sqrtw = sqrtw_raw = None
    n_eff = n
    if weights is not None:
        sqrtw_raw = list(weights) if not isinstance(weights, np.ndarray) else weights
        w = _float_column(weights, "weights")
        if w.shape != (n,):
            raise DataError(f"weights has {w.size} values for {n} data rows")
        if np.any(w < 0):
            raise DataError(f"weights must be non-negative; {int((w < 0).sum())} are negative")
        sqrtw = np.sqrt(w)
        n_eff = int(np.count_nonzero(w))

    lb = np.full(p, -np.inf)
    ub = np.full(p, np.inf)
    if bounds is not None:
        if len(bounds) != p:
            raise FitError(f"bounds has {len(bounds)} pairs for {p} parameters")
        for i, pair in enumerate(bounds):
            lo, hi = pair
            lb[i] = -np.inf if lo is None else float(lo)
            ub[i] = np.inf if hi is None else float(hi)
            if not lb[i] < ub[i]:
                raise FitError(f"bounds for {params[i]}: low {lb[i]} must be below high {ub[i]}")
        x0 = np.clip(x0, lb, ub)
        inside = (x0 > lb) & (x0 < ub)
        span = np.where(np.isfinite(ub - lb), ub - lb, np.abs(x0) + 1.0)
        x0 = np.where(inside, x0, np.clip(x0, lb + 1e-10 * span, ub - 1e-10 * span))
    bounded = bool(np.isfinite(lb).any() or np.isfinite(ub).any())

    prob = _Problem(model, dat, sqrtw, sqrtw_raw)
    r0 = prob.fun(x0)
    if np.any(np.abs(r0) >= 1e100):
        bad = int(np.sum(np.abs(r0) >= 1e100))
        raise FitError(
            f"the residuals are not finite at the starting point for {bad} of {n} rows; "
            "choose starting values where the model can be evaluated"
        )

    # -- double precision: SciPy with the exact Jacobian, retries from the best point ---------
    # First with moderate tolerances, stopping as soon as a run is close enough for the
    # extended-precision polish to finish; if the polish is unavailable or does not converge,
    # again with tolerances at machine precision, continuing from the best point.
    tried: list[str] = []

    budget = MAX_NFEV_PER_PARAM * (p + 1)

    def double_phase(best: _Run | None, tol: float, tight: bool) -> _Run:
        plan: list[tuple[str, str | float, str]] = []
        if tight:  # continue from the best point at machine precision
            plan = [("lm" if not bounded else "trf", "jac", "best"), ("trf", 1.0, "best")]
        else:
            if not bounded:
                plan.append(("lm", "jac", "start"))
            plan += [("trf", "jac", "start"), ("trf", "jac", "best"), ("trf", 1.0, "start"),
                     ("dogbox", "jac", "best"), ("trf", 1.0, "best")]  # fmt: skip
        for method, xs, origin in plan:
            if best is not None and (best.converged if tight else best.near):
                break
            if best is not None and prob.nfev >= budget:
                break
            if method == "dogbox" and not bounded:
                method = "lm"
            start = x0 if origin == "start" or best is None else best.x
            max_nfev = RUN_NFEV_PER_PARAM * (p + 1) * (2 if not tried else 1)
            run = _scipy_run(prob, start, method, lb, ub, xs, tol, max_nfev)
            run.method = f"{method}(x_scale={xs}, from {origin}, tol={tol:.0e})"
            tried.append(run.method)
            best = _better(best, run)
        assert best is not None
        return best

    def polish_converged(pol) -> bool:
        return pol is not None and bool(pol[3] <= REL_STEP_TOL or pol[4] <= REL_OFFSET_TOL)

    # the polish only starts close to a minimum (it would not help far from one), and only
    # for problems small enough for its row-by-row arithmetic
    polish_ok = n * (p + 1) <= POLISH_MAX_CELLS
    best = double_phase(None, DOUBLE_TOL, tight=False)
    polished = _polish(prob, best.x, lb, ub) if best.near and polish_ok else None
    if not polish_converged(polished) and not best.converged:
        best = double_phase(best, _EPS, tight=True)
        if model.mp_ok is not False and best.near and polish_ok:
            polished = _polish(prob, best.x, lb, ub)
    if polished is None and best.near:
        # no extended precision: finish in double precision down to the round-off floor
        best = _refine(prob, best, lb, ub)

    # -- results at the final point ------------------------------------------------------------
    x = best.x
    rel_step, rel_offset = best.rel_step, best.rel_offset
    converged = best.stationary  # rank deficiency is reported below (status 3)
    rss_ext = None
    nmpev = 0
    if polished is not None:
        xm, r_mp, s_mp, ps, po, info = polished
        nmpev = info[2]
        x = np.array([float(v) for v in xm])
        rss_ext = float(s_mp)
        rel_step, rel_offset = ps, po
        converged = bool(ps <= REL_STEP_TOL or po <= REL_OFFSET_TOL)

    r_raw = prob.model.r(x, dat.cols, n)
    J_raw = prob.model.jac(x, dat.cols, n)
    rw = r_raw * sqrtw if sqrtw is not None else r_raw
    rss = rss_ext if rss_ext is not None else float(math.fsum(rw * rw))
    Jw = J_raw * sqrtw[:, None] if sqrtw is not None else J_raw
    finite = bool(np.all(np.isfinite(r_raw)) and np.all(np.isfinite(J_raw)))

    dof = n_eff - p
    cov, cov_reason = (
        (None, "non-finite Jacobian at the estimates")
        if not finite
        else _covariance(Jw, rss, dof, [str(b) for b in params])
    )
    stderr = np.sqrt(np.diag(cov)) if cov is not None else np.full(p, np.nan)

    singular = cov is None and dof > 0
    if not finite:
        status, success = -1, False
        message = (
            "residuals or Jacobian are not finite at the final point (the estimates may be "
            f"running off to infinity: {x.tolist()}); try other starting values or bounds"
        )
    elif converged and singular:
        status, success = 3, False
        message = (
            f"reached a stationary point, but the estimates are not unique there: {cov_reason}"
        )
    elif converged:
        success = True
        status = 2 if polished is not None else 1
        message = (
            f"converged: Gauss-Newton step {rel_step:.1e} relative to the estimates, relative "
            f"offset {rel_offset:.1e}" + (" (after extended-precision polish)" if polished else "")
        )
    else:
        status, success = 0, False
        message = (
            f"did not converge: the Gauss-Newton step is still {rel_step:.1e} relative to the "
            f"estimates (relative offset {rel_offset:.1e}) after runs {', '.join(tried)}; the "
            "best point is returned - try other starting values"
        )
    return LsqSolution(
        x=x,
        cov=cov,
        stderr=stderr,
        rss=rss,
        dof=dof,
        jac=J_raw,
        residuals=r_raw,
        nfev=prob.nfev,
        njev=prob.njev,
        success=success,
        status=status,
        message=message,
        cov_reason=cov_reason,
        method=best.method + ("+mp" if polished is not None else ""),
        polished=polished is not None,
        rel_offset=rel_offset,
        rel_step=rel_step,
        param_names=tuple(str(b) for b in params),
        nmpev=nmpev,
    )
