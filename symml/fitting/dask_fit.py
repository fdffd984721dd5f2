"""``symml.fit`` on Dask data: least squares and maximum likelihood out of core.

Data given as a Dask DataFrame, or as a mapping whose columns are Dask arrays (NumPy
columns may sit next to them), are never gathered: every quantity the optimizer needs is a
sum over rows, computed block by block by a compiled ``reduce="sum"`` function
(:mod:`symml._dask`) and added in a tree. One pass over the data per iteration:

* least squares ``y ~ f``: Levenberg-Marquardt (Gauss-Newton when it converges, as it does
  in one step for a linear model) on ``J^T J``, ``J^T r`` and ``r^T r`` of the weighted rows;
  standard errors ``s^2 (J^T J)^-1`` with ``s^2 = RSS / (n - p)``, as in memory;
* maximum likelihood ``y ~ Dist(...)``: Newton's method with a line search on the summed
  value, gradient and Hessian of the negative log-likelihood; standard errors from the
  inverse of the summed Hessian (the observed information).

A first pass checks the data (rows, NaN / inf, the response's support, the weights) and sums
the data-only part of the log-likelihood. The result is the same :class:`FitResult` as in
memory (estimates, standard errors, report, Wald and profile intervals, derived quantities,
predictions on new in-memory rows); residuals are not kept (they are as long as the data).
A profile interval re-fits the other parameters for each trial value through the same
compiled sums (one pass per solver step, no new compile), so it costs a few dozen passes per
parameter. ``missing="drop"`` drops, block by block, the rows with NaN / inf in a used column
(or the weights), as an in-memory fit drops them; ``result.dropped`` counts them.

The passes run on the active Dask scheduler: threads by default, a ``dask.distributed``
cluster when a ``Client`` is active. They do not count against symml's time budget (the
derivation and compile do): their length is the data's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy

from .._dask import is_dask, map_sum, require_dask, row_blocks
from .._limits import untimed
from ..errors import ArgumentError, DataError, FitError
from .result import FitResult

__all__ = ["is_dask_data", "fit_dask"]

_MAX_ITER = 100


def is_dask_data(data) -> bool:
    """True for a Dask DataFrame or a mapping with at least one Dask column."""
    if isinstance(data, Mapping):
        return any(is_dask(v) for v in data.values())
    return is_dask(data)


# ---------------------------------------------------------------------------------------
# the data in blocks
# ---------------------------------------------------------------------------------------


def _frame_block(part, names):
    out = []
    for n in names:
        try:
            out.append(np.asarray(part[n], dtype=float))
        except (TypeError, ValueError) as exc:
            raise DataError(f"data column '{n}' is not numeric ({exc})") from None
    return tuple(out)


def _bad_rows(block) -> np.ndarray:
    """Rows with a NaN or inf in any column of the block."""
    n = len(block[0])
    bad = np.zeros(n, dtype=bool)
    for a in block:
        finite = np.isfinite(a)
        bad |= ~(finite if a.ndim == 1 else finite.reshape(n, -1).all(axis=1))
    return bad


def _finite_rows(block):
    """The block without its rows holding NaN / inf (missing="drop")."""
    bad = _bad_rows(block)
    if not bad.any():
        return block
    keep = ~bad
    return tuple(a[keep] for a in block)


def _float_block(block):
    try:
        return tuple(np.asarray(b, dtype=float) for b in block)
    except (TypeError, ValueError) as exc:
        raise DataError(f"a data column is not numeric ({exc})") from None


class _Data:
    """The used columns of Dask data as a list of delayed blocks (tuples of NumPy columns)."""

    def __init__(self, data, names: list[str], weights, drop: bool = False):
        import dask

        self.names = list(names)
        cols = data if isinstance(data, Mapping) else None
        if weights is not None and not isinstance(weights, str):
            if cols is None:
                raise ArgumentError(
                    "with a Dask DataFrame, give weights as the name of one of its columns"
                )
            cols = dict(cols)
            cols["_weight_"] = weights
            self.names.append("_weight_")
        elif isinstance(weights, str):
            self.names.append(weights)
        have = list(cols) if cols is not None else [str(c) for c in data.columns]
        absent = [n for n in self.names if n not in have]
        if absent:
            raise DataError(
                f"data has no column {', '.join(repr(a) for a in absent)} that the model uses "
                f"(columns given: {', '.join(repr(h) for h in have) or 'none'})"
            )
        if cols is None:
            parts = data[self.names].to_delayed()
            block = dask.delayed(_frame_block, pure=True)
            self.blocks = [block(p, self.names) for p in parts]
            self.row_shapes = {n: () for n in self.names}
        else:
            arrays = [cols[n] for n in self.names]
            if not any(is_dask(a) for a in arrays):
                raise DataError(
                    "the model uses no Dask column of the data (only NumPy ones); fit them "
                    "in memory, or make the columns Dask arrays"
                )
            blocks, rows = row_blocks(arrays, "fit data")
            floats = dask.delayed(_float_block, pure=True)
            self.blocks = [floats(b) for b, r in zip(blocks, rows, strict=True) if r]
            pairs = zip(self.names, arrays, strict=True)
            self.row_shapes = {n: tuple(np.shape(a)[1:]) for n, a in pairs}
        self.weighted = weights is not None
        self.raw_blocks = self.blocks  # the first pass counts (and checks) what is dropped
        if drop:
            finite = dask.delayed(_finite_rows, pure=True)
            self.blocks = [finite(b) for b in self.blocks]

    def placeholders(self) -> dict:
        """Zero-row NumPy stand-ins with each column's row shape (for reading the model)."""
        return {n: np.empty((0, *s)) for n, s in self.row_shapes.items()}


# ---------------------------------------------------------------------------------------
# the first pass: checks and data-only sums
# ---------------------------------------------------------------------------------------


@dataclass
class _Checks:
    rows: int = 0
    bad: dict = field(default_factory=dict)  # column -> rows with NaN / inf
    support: list = field(default_factory=list)  # messages of response checks
    constant: float = 0.0  # sum of the data-only part of the NLL (weighted)
    log_weights: float = 0.0  # sum of log(w) over w > 0
    negative: int = 0
    positive: int = 0
    lhs_bad: int = 0
    dropped: int = 0

    def __add__(self, other: _Checks) -> _Checks:
        bad = dict(self.bad)
        for k, v in other.bad.items():
            bad[k] = bad.get(k, 0) + v
        return _Checks(
            self.rows + other.rows,
            bad,
            self.support + other.support,
            self.constant + other.constant,
            self.log_weights + other.log_weights,
            self.negative + other.negative,
            self.positive + other.positive,
            self.lhs_bad + other.lhs_bad,
            self.dropped + other.dropped,
        )


class _CheckKernel:
    def __init__(self, names, weight_name, lhs_fn, trials_fn, row, drop=False):
        self.names, self.weight_name = names, weight_name
        self.lhs_fn, self.trials_fn, self.row = lhs_fn, trials_fn, row
        self.drop = drop

    def __call__(self, block) -> _Checks:
        dropped = 0
        if self.drop:
            dropped = len(block[0])
            block = _finite_rows(block)
            dropped -= len(block[0])
        cols = dict(zip(self.names, block, strict=True))
        n = len(block[0])
        out = _Checks(rows=n, dropped=dropped)
        if n == 0:
            return out
        for k, a in cols.items():
            finite = np.isfinite(a)
            bad = int((~(finite if a.ndim == 1 else finite.reshape(n, -1).all(axis=1))).sum())
            if bad:
                out.bad[k] = bad
        w = cols.get(self.weight_name) if self.weight_name else None
        if w is not None:
            out.negative, out.positive = int((w < 0).sum()), int((w > 0).sum())
            with np.errstate(divide="ignore"):
                out.log_weights = float(np.log(w[w > 0]).sum())
        if self.row is not None and not out.bad:
            with np.errstate(all="ignore"):
                y = self.lhs_fn(cols, n)
                nv = self.trials_fn(cols, n) if self.trials_fn is not None else None
            out.lhs_bad = int((~np.isfinite(y)).sum())
            if self.row.check is not None and not out.lhs_bad:
                try:
                    self.row.check(y, nv)
                except DataError as exc:
                    out.support.append(str(exc))
            with np.errstate(all="ignore"):
                const = self.row.constant(y, nv)
            out.constant = float(const.sum() if w is None else w @ const)
        return out


class _RowEval:
    """A data-only row expression evaluated on a block's columns (shape (n,))."""

    def __init__(self, expr, data_syms):
        from ..compile import compile as _compile

        self.args = [(name, sym) for name, sym in data_syms.items() if _uses(expr, sym)]
        syms = [sym for _, sym in self.args]
        self.fn = _compile(expr, syms) if syms else None
        self.const = None if syms else float(expr)

    def __call__(self, cols, n):
        if self.fn is None:
            return np.full(n, self.const)
        out = self.fn(*[cols[name] for name, _ in self.args])
        return np.broadcast_to(np.asarray(out, dtype=float), (n,))


def _uses(expr, sym) -> bool:
    if isinstance(sym, sympy.MatrixBase):
        return bool(expr.free_symbols & set(sym))
    return sym in expr.free_symbols


def _raise_checks(c: _Checks, is_mle: bool, lhs_text: str) -> None:
    if c.rows == 0:
        raise DataError(
            "data has no rows"
            + (f" left after dropping {c.dropped} with NaN / inf" if c.dropped else "")
        )
    if c.bad:
        parts = [f"column '{k}' in {v} row(s)" for k, v in c.bad.items()]
        raise DataError(
            f"data has NaN or infinite values ({'; '.join(parts)}, of {c.rows} rows); drop "
            "those rows with missing='drop' (or first: df.dropna(), a mask on the arrays)"
        )
    if c.negative:
        raise ArgumentError(f"weights must be >= 0; {c.negative} are negative")
    if is_mle and c.lhs_bad:
        raise FitError(
            f"the left side {lhs_text} is not finite in {c.lhs_bad} row(s); check the data "
            "against the formula"
        )
    if c.support:
        more = f" (and in {len(c.support) - 1} other block(s))" if len(c.support) > 1 else ""
        raise DataError(f"{c.support[0]} -- row numbers within one block of rows{more}")


# ---------------------------------------------------------------------------------------
# the sums of one pass: value, gradient, Hessian / J^T J, J^T r
# ---------------------------------------------------------------------------------------


class _SumKernel:
    """``theta, block -> sums`` of a compiled reduce="sum" function over one block."""

    def __init__(self, cf, params, data_index):
        self.cf = cf
        self.params = [(p.shape, p.size) for p in params]
        self.data_index = data_index  # positions of the data args in the block

    def __call__(self, theta, block):
        values, o = [], 0
        for shape, size in self.params:
            values.append(theta[o : o + size].reshape(shape) if shape else float(theta[o]))
            o += size
        values += [block[i] for i in self.data_index]
        with np.errstate(all="ignore"):
            return self.cf(*values)


def _sum_kernel(exprs, spec, data: _Data, weight_sym):
    from ..compile import compile as _compile

    args = []
    for p in spec.params:
        args.append(
            sympy.Matrix(p.symbols)
            if len(p.shape) == 1
            else (
                sympy.Matrix(p.shape[0], p.shape[1], list(p.symbols)) if p.shape else p.symbols[0]
            )
        )
    data_index = []
    for name, sym in spec.data_syms.items():
        args.append(sym)
        data_index.append(data.names.index(name))
    if weight_sym is not None:
        args.append(weight_sym)
        data_index.append(len(data.names) - 1)
    cf = _compile(exprs, args, reduce="sum")
    return _SumKernel(cf, spec.params, data_index)


# ---------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------


def fit_dask(model, data, p0=None, *, method=None, bounds=None, weights=None, missing="raise"):
    """:func:`symml.fit` for Dask data (see the module docstring); same arguments."""
    require_dask("fit on Dask data")
    from .api import _check_dependence, _Spec, _start_and_bounds

    if missing not in ("raise", "drop"):
        raise ArgumentError(f"missing={missing!r} is not one of ['raise', 'drop']")
    if isinstance(weights, str) and isinstance(data, Mapping) and weights not in data:
        raise ArgumentError(f"weights names the column '{weights}', which data does not have")
    if isinstance(data, Mapping):
        columns = {k: np.empty((0, *np.shape(v)[1:])) for k, v in data.items()}
    else:
        columns = {str(c): np.empty((0,)) for c in data.columns}
    spec = _Spec(model, columns, p0)
    is_lsq = spec.dist is None
    if method is not None and not (is_lsq and method == "least_squares"):
        how = "Levenberg-Marquardt on J^T J" if is_lsq else "Newton's method on the summed Hessian"
        raise ArgumentError(
            f"method={method!r} is not available for Dask data: a Dask fit uses {how} (one "
            "pass over the data per iteration); leave method=None"
        )
    names = list(spec.data_syms)
    d = _Data(data, names, weights, drop=missing == "drop")
    for name, sym in spec.data_syms.items():
        want = (len(sym),) if isinstance(sym, sympy.MatrixBase) else ()
        if d.row_shapes[name] != want:
            raise DataError(
                f"data column '{name}' should have shape (n{', ' if want else ''}"
                f"{', '.join(map(str, want))}), got rows of shape {d.row_shapes[name]}"
            )
    x0, flat_bounds, init = _start_and_bounds(spec, p0, bounds)
    flat_names, flat = spec.flat_names(), spec.flat_symbols()
    wsym = sympy.Symbol("_weight_", real=True) if weights is not None else None
    wname = d.names[-1] if weights is not None else None
    if is_lsq:
        residual = spec.lhs - spec.rhs
        _check_dependence(residual, spec)
        check = _CheckKernel(d.names, wname, None, None, None, missing == "drop")
        result, c = _fit_lsq(spec, d, residual, x0, flat_bounds, flat_names, flat, wsym, check)
    else:
        result, c = _fit_mle(spec, d, x0, flat_bounds, flat_names, flat, wsym, wname, missing)
    result.init = init
    result.dropped = c.dropped
    return result


def _weighted(e, wsym):
    return e if wsym is None else wsym * e


def _first_pass(d: _Data, check: _CheckKernel, is_mle: bool, lhs_text: str) -> _Checks:
    with untimed():
        c = map_sum(check, d.raw_blocks)
    _raise_checks(c, is_mle, lhs_text)
    if d.weighted and c.positive == 0:
        raise DataError(
            "every weight is zero: no row takes part in the fit; give positive weights to the "
            "rows to fit"
        )
    return c


def _fit_lsq(spec, d, residual, x0, flat_bounds, flat_names, flat, wsym, check) -> FitResult:
    from .api import _LsqProblem, _named_cov, _unflatten
    from .likelihood import covariance_from_information

    c = _first_pass(d, check, False, str(spec.lhs))
    n, p = c.rows, len(flat)
    if n < p:
        raise FitError(f"{n} data rows cannot determine {p} parameters ({', '.join(flat_names)})")
    from ..calculus import diff as _diff

    J = [_diff(residual, s) for s in flat]
    JtJ = sympy.Matrix(p, p, lambda i, j: _weighted(J[i] * J[j], wsym))
    Jtr = sympy.Matrix(p, 1, lambda i, _: _weighted(J[i] * residual, wsym))
    kernel = _sum_kernel([_weighted(residual**2, wsym), JtJ, Jtr], spec, d, wsym)

    def evaluate(x):
        with untimed():
            rss, A, b = map_sum(kernel, d.blocks, np.asarray(x, dtype=float))
        return float(rss), np.asarray(A, dtype=float), np.asarray(b, dtype=float).reshape(-1)

    sol = _levenberg_marquardt(evaluate, x0, flat_bounds, flat_names)
    x, rss, A = sol["x"], sol["f"], sol["A"]

    dof = n - p
    cov, reason = (None, "no degrees of freedom (as many rows as parameters)")
    if dof > 0:
        cov, reason = covariance_from_information(A, flat_names, "J^T J")
        if cov is not None:
            cov = cov * (rss / dof)
    covm = np.full((p, p), np.nan) if cov is None else cov
    loglik = -0.5 * n * (math.log(2 * math.pi * rss / n) + 1) if rss > 0 else math.inf
    if d.weighted:
        loglik += 0.5 * c.log_weights
    problem = _DaskProblem(spec, flat_bounds, n, spec.rhs, _LsqProblem)
    problem.refit = _Refit(evaluate, _levenberg_marquardt, flat_bounds, flat_names, rss, True)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(covm))
    return FitResult(
        model=spec.text,
        kind="least squares",
        method="levenberg-marquardt, dask",
        names=flat_names,
        x=x,
        params=_unflatten(spec, x),
        stderr=_unflatten(spec, se),
        cov=_named_cov(covm, flat_names),
        cov_reason=reason if cov is None else "",
        nobs=n,
        nparams=p,
        rss=rss,
        loglik=loglik,
        nfev=sol["passes"],
        njev=sol["passes"],
        success=sol["success"],
        status=0 if sol["success"] else 2,
        message=sol["message"],
        dist=None,
        residuals=None,
        _problem=problem,
    ), c


def _fit_mle(spec, d, x0, flat_bounds, flat_names, flat, wsym, wname, missing):
    from ..calculus import grad as _grad
    from ..calculus import hessian as _hessian
    from .api import _check_dependence, _MleProblem, _named_cov, _unflatten
    from .likelihood import covariance_from_information, row_negloglik

    ysym = sympy.Symbol("_response_", real=True)
    nsym = sympy.Symbol("_trials_", real=True)
    args = list(spec.dist_args)
    n_expr = None
    if spec.dist == "Binomial":
        n_expr = args[0]
        if n_expr.free_symbols & set(flat):
            raise FitError(
                f"the number of trials of Binomial(n, p) must be data or a number, not a "
                f"function of parameters: {spec.text}"
            )
        args[0] = nsym
    row = row_negloglik(spec.dist, args, ysym)
    _check_dependence(row.core, spec)
    lhs_fn = _RowEval(spec.lhs, spec.data_syms)
    trials_fn = _RowEval(n_expr, spec.data_syms) if n_expr is not None else None
    check = _CheckKernel(d.names, wname, lhs_fn, trials_fn, row, missing == "drop")
    c = _first_pass(d, check, True, str(spec.lhs))
    n, p = c.rows, len(flat)
    core = row.core.xreplace({ysym: spec.lhs, **({nsym: n_expr} if n_expr is not None else {})})
    g = _grad(core, flat)
    H = _hessian(core, flat)
    kernel = _sum_kernel(
        [
            _weighted(core, wsym),
            g.applyfunc(lambda e: _weighted(e, wsym)),
            H.applyfunc(lambda e: _weighted(e, wsym)),
        ],
        spec,
        d,
        wsym,
    )

    def evaluate(x):
        with untimed():
            f, gv, Hv = map_sum(kernel, d.blocks, np.asarray(x, dtype=float))
        return float(f), np.asarray(gv, dtype=float).reshape(-1), np.asarray(Hv, dtype=float)

    sol = _newton(evaluate, x0, flat_bounds, flat_names)
    x, nll, Hx = sol["x"], sol["f"], sol["A"]
    cov, reason = covariance_from_information(
        Hx, flat_names, "observed information (Hessian of the NLL)"
    )
    covm = np.full((p, p), np.nan) if cov is None else cov
    mean = row.mean.xreplace({nsym: n_expr}) if n_expr is not None else row.mean
    problem = _DaskProblem(spec, flat_bounds, n, mean, _MleProblem)
    problem.refit = _Refit(evaluate, _newton, flat_bounds, flat_names, nll, False)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(covm))
    return FitResult(
        model=spec.text,
        kind="maximum likelihood",
        method="newton, dask",
        names=flat_names,
        x=x,
        params=_unflatten(spec, x),
        stderr=_unflatten(spec, se),
        cov=_named_cov(covm, flat_names),
        cov_reason=reason,
        nobs=n,
        nparams=p,
        rss=None,
        loglik=-(nll + c.constant),
        nfev=sol["passes"],
        njev=sol["passes"],
        success=sol["success"],
        status=0 if sol["success"] else 2,
        message=sol["message"],
        dist=spec.dist,
        residuals=None,
        _problem=problem,
    ), c


# ---------------------------------------------------------------------------------------
# what the result needs afterwards
# ---------------------------------------------------------------------------------------


class _Refit:
    """The fit again with one parameter held at a value: the profile statistic.

    The same ``evaluate`` (one pass over the data, the compiled sums of the fit) restricted
    to the other parameters; the same solver. Least squares: ``(RSS - RSS_min) / s^2``;
    likelihood: ``2 (NLL - NLL_min)``.
    """

    def __init__(self, evaluate, solver, bounds, names, f_min, is_lsq):
        self.evaluate, self.solver = evaluate, solver
        self.bounds, self.names = list(bounds), list(names)
        self.f_min, self.is_lsq = f_min, is_lsq

    def __call__(self, result, j, value, start):
        lo, hi = self.bounds[j]
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return np.inf, start
        p = len(self.names)
        free = [i for i in range(p) if i != j]
        x = np.array(start, dtype=float)
        x[j] = value

        def full(z):
            xf = x.copy()
            xf[free] = z
            return xf

        if free:
            try:
                sol = self.solver(
                    (lambda z: _restricted(self.evaluate, full, free, z, self.is_lsq)),
                    x[free],
                    [self.bounds[i] for i in free],
                    [self.names[i] for i in free],
                )
            except FitError:
                return np.inf, start
            x, f = full(sol["x"]), sol["f"]
        else:
            f = self.evaluate(x)[0]
        if not np.isfinite(f):
            return np.inf, start
        if self.is_lsq:
            return (f - self.f_min) / (self.f_min / result.dof), x
        return 2.0 * (f - self.f_min), x


def _restricted(evaluate, full, free, z, is_lsq):
    """``evaluate`` at the full point of ``z``, its derivative sums cut to ``free``."""
    f, A, b = evaluate(full(z))
    if is_lsq:  # (rss, J^T J, J^T r)
        return f, A[np.ix_(free, free)], b[free]
    return f, A[free], b[np.ix_(free, free)]  # (nll, gradient, Hessian)


class _DaskProblem:
    """conf_int, profile, derived and predict for a Dask fit (profiles re-fit via Dask)."""

    def __init__(self, spec, bounds, n, mean, kind):
        from .api import _Problem

        self._base = _Problem(spec, bounds, None, n)
        self._mean = mean
        self.wald_quantile = kind.wald_quantile
        self.profile_quantile = kind.profile_quantile

    def __getattr__(self, name):
        return getattr(self._base, name)

    def mean_expr(self):
        return self._mean

    def predict(self, x, data):
        self._base.mean_expr = self.mean_expr
        return self._base.predict(x, data)

    def profile_stat(self, result, j, value, start):
        return self.refit(result, j, value, start)


# ---------------------------------------------------------------------------------------
# the solvers: one pass over the data per evaluation
# ---------------------------------------------------------------------------------------


def _box(bounds):
    lo = np.array([-np.inf if b[0] is None else b[0] for b in bounds], dtype=float)
    hi = np.array([np.inf if b[1] is None else b[1] for b in bounds], dtype=float)
    return lo, hi


def _scaled_solve(A, b, damping=0.0):
    """Solve ``(A + damping * diag(A)) s = b`` on the Jacobi-scaled matrix (None if not PD)."""
    import scipy.linalg

    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        return None
    dg = np.sqrt(np.abs(np.diag(A)))
    dg = np.where(dg > 0, dg, 1.0)
    As = A / dg[:, None] / dg[None, :]
    As = 0.5 * (As + As.T) + damping * np.eye(len(b))
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(As), b / dg) / dg
    except (np.linalg.LinAlgError, ValueError):
        return None


def _diverged(x, names):
    return FitError(
        "the fit on Dask data diverges: the objective keeps decreasing as the parameters grow "
        "without bound (now "
        + ", ".join(f"{n}={v:.3g}" for n, v in zip(names, x, strict=True))
        + "), so the estimate does not exist for these data (e.g. perfectly separated classes "
        "in logistic regression); add data, remove the separating variable, or bound the "
        "parameters"
    )


def _ray_diverges(evaluate, x, x0, f, f0, H, lo, hi) -> tuple[bool, int]:
    """True if the objective flattens out along the path ``x0 -> x`` continued (no MLE).

    In a bowl the quadratic model at ``x`` explains the decrease from the start
    (``0.5 d'Hd ~ f0 - f``); if it explains almost none of it, the ray beyond ``x`` is
    probed: towards infinity the objective no longer rises (to round-off: by a millionth of
    the decrease achieved), where past a minimum it rises again. Returns the passes used.
    """
    d = x - np.asarray(x0, dtype=float)
    if not np.any(d) or 0.5 * float(d @ H @ d) >= 0.01 * (f0 - f):
        return False, 0
    used = 0
    for t in (1.0, 2.0):
        xt = x + t * d
        if np.any(xt < lo) or np.any(xt > hi):
            return False, used
        ft = evaluate(xt)[0]
        used += 1
        if not (np.isfinite(ft) and ft <= f + 1e-6 * (f0 - f)):
            return False, used
    return True, used


def _newton(evaluate, x0, bounds, names) -> dict:
    """Newton's method with step halving on ``evaluate(x) -> (f, g, H)`` (one pass each)."""
    lo, hi = _box(bounds)
    x = np.asarray(x0, dtype=float)
    f, g, H = evaluate(x)
    f0, passes = f, 1
    if not np.isfinite(f):
        raise FitError(
            "the negative log-likelihood is not finite at the starting point ("
            + ", ".join(f"{n}={v:g}" for n, v in zip(names, x, strict=True))
            + "); give starting values p0 inside the model's domain (e.g. a positive scale)"
        )
    success, message, best = False, "", np.inf
    for it in range(_MAX_ITER):
        step = _scaled_solve(H, g)
        damping = 1e-8
        while (step is None or not float(g @ step) > 0) and damping <= 1e12:
            step = _scaled_solve(H, g, damping)  # not positive definite: damped towards -g
            damping *= 100
        if step is None or not float(g @ step) > 0:
            message = "stopped: Newton's method found no descent direction"
            break
        lam2 = float(g @ step)  # Newton decrement: ~ 2 (f - f_min)
        if lam2 <= 1e-24 * max(1.0, abs(f)) or (lam2 >= best and lam2 <= 1e-16 * max(1.0, abs(f))):
            success, message = True, f"converged: Newton decrement {lam2:.1e} at the optimum"
            break
        best = min(best, lam2)
        t, accepted = 1.0, False
        for _ in range(40):
            xn = x - t * step
            if np.all((xn >= lo) & (xn <= hi)):
                fn, gn, Hn = evaluate(xn)
                passes += 1
                if np.isfinite(fn) and fn <= f + 1e-13 * max(1.0, abs(f)):
                    accepted = True
                    break
            t *= 0.5
        if not accepted:
            success = lam2 <= 1e-12 * max(1.0, abs(f))
            message = (
                f"stopped: no step lowers the negative log-likelihood (Newton decrement {lam2:.1e})"
            )
            break
        x, f, g, H = xn, fn, gn, Hn
        if it % 8 == 7:  # a long way: is it towards infinity?
            diverges, used = _ray_diverges(evaluate, x, x0, f, f0, H, lo, hi)
            passes += used
            if diverges:
                raise _diverged(x, names)
        if np.max(np.abs(x)) > 1e12:
            raise _diverged(x, names)
    else:
        message = f"stopped after {_MAX_ITER} Newton iterations"
    diverges, used = _ray_diverges(evaluate, x, x0, f, f0, H, lo, hi)
    passes += used
    if diverges:
        raise _diverged(x, names)
    if not success and message.startswith("stopped: Newton's method found no descent"):
        raise FitError(
            "Newton's method found no descent direction (the Hessian is not "
            "finite); give better starting values p0"
        )
    return {"x": x, "f": f, "A": H, "passes": passes, "success": success, "message": message}


def _levenberg_marquardt(evaluate, x0, bounds, names) -> dict:
    """Levenberg-Marquardt on ``evaluate(x) -> (rss, J^T J, J^T r)`` (one pass each).

    Starts as Gauss-Newton (no damping: a linear model converges in one step); damping
    ``lam * diag(J^T J)`` grows tenfold on a rejected step and shrinks on an accepted one.
    """
    lo, hi = _box(bounds)
    x = np.asarray(x0, dtype=float)
    f, A, b = evaluate(x)
    passes = 1
    if not np.isfinite(f):
        raise FitError(
            "the residuals are not finite at the starting point ("
            + ", ".join(f"{n}={v:g}" for n, v in zip(names, x, strict=True))
            + "); give starting values p0 inside the model's domain"
        )
    lam, success, message = 0.0, False, ""
    for _ in range(_MAX_ITER):
        step = _scaled_solve(A, -b, lam)
        if step is None:
            lam = max(lam * 10, 1e-6)
            if lam > 1e16:
                message = "stopped: J^T J is singular at the current point"
                break
            continue
        scale = np.abs(x) + 1e-10 * (np.max(np.abs(x)) + 1e-300)
        small = np.all(np.abs(step) <= 1e-13 * scale)
        if small and lam == 0.0:
            success, message = True, "converged: the Gauss-Newton step is below 1e-13 relative"
            break
        xn = np.clip(x + step, lo, hi)
        fn, An, bn = evaluate(xn)
        passes += 1
        if np.isfinite(fn) and fn <= f:
            x, f, A, b = xn, fn, An, bn
            lam = 0.0 if lam <= 1e-9 else lam / 10
            if small:
                success, message = True, "converged: the step no longer changes the estimates"
                break
        elif lam == 0.0 and np.all(np.abs(step) <= 1e-10 * scale):
            success = True
            message = "converged: the Gauss-Newton step is at the round-off level"
            break
        else:
            lam = max(lam * 10, 1e-6)
            if lam > 1e16:
                success = bool(np.all(np.abs(step) <= 1e-8 * scale))
                message = "stopped: no step lowers the residual sum of squares"
                break
        if np.max(np.abs(x)) > 1e15:
            raise _diverged(x, names)
    else:
        message = f"stopped after {_MAX_ITER} iterations"
    return {"x": x, "f": f, "A": A, "passes": passes, "success": success, "message": message}
