"""The result of :func:`symml.fit`: estimates, standard errors, intervals and a report.

:class:`FitResult` holds what a fit found, with the statistics computed once. Standard
errors come from the covariance of the estimates:

* least squares: ``s^2 (J^T J)^-1`` at the optimum, ``s^2 = RSS / (n - p)``;
* maximum likelihood: the inverse of the observed information, the exact Hessian of the
  negative log-likelihood at the optimum.

When that matrix is singular the estimates are still returned, the standard errors are NaN
and :attr:`FitResult.cov_reason` says why (the report prints it).

Confidence intervals (:meth:`FitResult.conf_int`):

* ``method="wald"``: estimate +- q * stderr, with q the Student-t quantile on ``n - p``
  degrees of freedom for least squares and the normal quantile for maximum likelihood;
* ``method="profile"``: the set of values ``b`` of one parameter for which the others,
  re-optimized with ``b`` held fixed (exact derivatives), still fit acceptably. Maximum
  likelihood: ``2 (NLL_profile(b) - NLL_min) <= chi2_1(level)`` (likelihood-ratio test).
  Least squares: ``(RSS_profile(b) - RSS_min) / s^2 <= F(level; 1, n - p)``, the F test
  of the extra sum of squares (Bates & Watts). For a model linear in its parameters both
  profile intervals coincide with the Wald ones.

Derived quantities (:meth:`FitResult.derived`) use the delta method: for ``g(b)``,
``var g = grad(g)^T Cov grad(g)``, the gradient taken symbolically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.optimize
import scipy.stats
import sympy

from ..errors import ArgumentError

__all__ = ["FitResult", "DerivedQuantity", "CovarianceMatrix", "Prediction"]


@dataclass(frozen=True)
class Prediction:
    """Predictions with an interval; unpacks as ``mean, lower, upper``.

    Attributes
    ----------
    mean : ndarray
        The predictions.
    lower, upper : ndarray
        The interval's ends.
    stderr : ndarray
        Standard error of the predicted mean (delta method).
    level : float
    interval : str
        ``"confidence"`` (for the mean) or ``"prediction"`` (for a new observation).
    """

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    stderr: np.ndarray
    level: float
    interval: str

    def __iter__(self):
        return iter((self.mean, self.lower, self.upper))


class CovarianceMatrix(np.ndarray):
    """A covariance matrix (a float ndarray) that knows its parameters' order, ``.names``."""

    def __new__(cls, values, names):
        obj = np.asarray(values, dtype=float).view(cls)
        obj.names = list(names)
        return obj

    def __array_finalize__(self, obj):
        names = getattr(obj, "names", None)
        self.names = (
            names if names is not None and self.shape == getattr(obj, "shape", None) else None
        )


@dataclass(frozen=True)
class DerivedQuantity:
    """A function of the fitted parameters with its delta-method standard error.

    Unpacks as ``value, stderr = result.derived("b1*b2")``.

    Attributes
    ----------
    expr : sympy.Expr
        The quantity, in the parameters' symbols.
    value : float
        Its value at the estimates.
    stderr : float
        ``sqrt(g^T Cov g)`` with ``g`` its exact gradient at the estimates (NaN when the
        covariance is undetermined).
    gradient : dict
        Flat parameter name -> the gradient's component at the estimates.
    """

    expr: Any
    value: float
    stderr: float
    gradient: dict = field(default_factory=dict, repr=False)

    def __iter__(self):
        return iter((self.value, self.stderr))

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Normal-theory interval ``value +- z * stderr``."""
        z = scipy.stats.norm.ppf(0.5 + level / 2)
        return (self.value - z * self.stderr, self.value + z * self.stderr)


def _fmt(v: float, width: int = 0) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return f"{v:.6g}"


def _table(rows: list[list[str]], header: list[str], indent: str = "    ") -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = [
        indent
        + "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    for r in rows:
        out.append(
            indent
            + "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return out


@dataclass(eq=False)
class FitResult:
    """What :func:`symml.fit` found.

    >>> import numpy as np, symml as sm
    >>> data = {"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 3.1, 4.9, 7.0]}
    >>> r = sm.fit("param a, b; y ~ a + b*x", data)
    >>> round(r.params["b"], 6), r.success
    (1.98, True)

    Attributes
    ----------
    params, stderr : dict
        Parameter name -> estimate / standard error (a vector parameter maps to an array).
        Undetermined standard errors are NaN (see ``cov_reason``).
    cov : ndarray
        Covariance of the estimates, in the order of ``names`` (``cov.names`` too).
    names : list of str
        Flat parameter names (``w[0]``, ``w[1]``... for a vector).
    x : ndarray
        Flat estimates in the order of ``names``.
    kind : str
        ``"least squares"`` or ``"maximum likelihood"``.
    rss : float or None
        Residual sum of squares (weighted), least squares only.
    loglik, aic, bic : float
        Log-likelihood at the estimates (``llf`` too) and the information criteria
        ``2k - 2 loglik`` and ``k log(n) - 2 loglik`` with ``k = nparams``, as statsmodels
        counts. For least squares the Gaussian log-likelihood with ``sigma^2 = RSS/n``
        (R's ``AIC(lm)`` also counts sigma, so it is 2 larger).
    rsquared, rsquared_adj : float or None
        Least squares: ``1 - RSS/TSS`` with TSS the (weighted) sum of squares of the
        response about its (weighted) mean, and ``1 - (1 - R^2) (n - 1)/(n - p)``; None for
        maximum likelihood.
    tvalues, pvalues : dict
        Estimate / standard error per parameter and its two-sided p-value: Student's t on
        ``n - p`` degrees of freedom for least squares, the normal distribution (z) for
        maximum likelihood, as statsmodels' OLS and GLM / Logit report them.
    nobs, nparams, dof : int
        Rows used, parameters, ``nobs - nparams``.
    nfev, njev : int
        Evaluations of the objective and of its first derivatives.
    success : bool
    message : str
    """

    model: str
    kind: str
    method: str
    names: list[str]
    x: np.ndarray
    params: dict
    stderr: dict
    cov: np.ndarray
    cov_reason: str
    nobs: int
    nparams: int
    rss: float | None
    loglik: float
    nfev: int
    njev: int
    success: bool
    status: int
    message: str
    init: dict = field(default_factory=dict)
    dist: str | None = None
    residuals: np.ndarray | None = field(default=None, repr=False)
    dropped: int = 0
    response: np.ndarray | None = field(default=None, repr=False)
    weights: np.ndarray | None = field(default=None, repr=False)
    _problem: Any = field(default=None, repr=False)

    # -- statistics ---------------------------------------------------------------------
    @property
    def dof(self) -> int:
        return self.nobs - self.nparams

    @property
    def _k(self) -> int:
        return self.nparams

    @property
    def llf(self) -> float:
        """The log-likelihood at the estimates (statsmodels' name for ``loglik``)."""
        return self.loglik

    @property
    def rsquared(self) -> float | None:
        if self.rss is None or self.response is None:
            return None
        y = np.asarray(self.response, dtype=float)
        w = np.ones_like(y) if self.weights is None else np.asarray(self.weights, dtype=float)
        ybar = float(w @ y / w.sum())
        tss = float(w @ (y - ybar) ** 2)
        return 1.0 - self.rss / tss if tss > 0 else float("nan")

    @property
    def rsquared_adj(self) -> float | None:
        r2 = self.rsquared
        if r2 is None:
            return None
        if self.dof <= 0:
            return float("nan")
        return 1.0 - (1.0 - r2) * (self.nobs - 1) / self.dof

    @property
    def _uses_t(self) -> bool:
        return self.kind == "least squares"

    def _stats_flat(self) -> tuple[np.ndarray, np.ndarray]:
        se = self.stderr_flat
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.asarray(self.x, dtype=float) / se
        if self._uses_t:
            p = (
                2.0 * scipy.stats.t.sf(np.abs(t), self.dof)
                if self.dof > 0
                else np.full_like(t, np.nan)
            )
        else:
            p = 2.0 * scipy.stats.norm.sf(np.abs(t))
        return t, p

    @property
    def tvalues(self) -> dict:
        return self._unflatten(self._stats_flat()[0])

    @property
    def pvalues(self) -> dict:
        return self._unflatten(self._stats_flat()[1])

    def _unflatten(self, flat: np.ndarray) -> dict:
        out, i = {}, 0
        for name, shape in self._problem.param_shapes():
            k = int(np.prod(shape)) if shape else 1
            out[name] = np.array(flat[i : i + k]).reshape(shape) if shape else float(flat[i])
            i += k
        return out

    @property
    def aic(self) -> float:
        return 2 * self._k - 2 * self.loglik

    @property
    def bic(self) -> float:
        return self._k * math.log(self.nobs) - 2 * self.loglik

    @property
    def stderr_flat(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.diag(np.asarray(self.cov)))

    @property
    def corr(self) -> np.ndarray:
        """Correlation matrix of the estimates (NaN when undetermined)."""
        se = self.stderr_flat
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(self.cov) / np.outer(se, se)

    # -- intervals ----------------------------------------------------------------------
    def conf_int(self, level: float = 0.95, method: str = "wald") -> dict:
        """Confidence intervals for every parameter.

        Parameters
        ----------
        level : float
            Coverage, between 0 and 1.
        method : {"wald", "profile"}
            See the module docstring: Wald uses the standard errors; profile re-optimizes
            the other parameters at each trial value (exact derivatives).

        Returns
        -------
        dict
            name -> ``(low, high)``; a vector parameter maps to an array of shape (k, 2).
            A profile that never rises to the threshold gives an infinite side.

        Examples
        --------
        >>> import symml as sm
        >>> r = sm.fit("param a, b; y ~ a + b*x", {"x": [0, 1, 2, 3], "y": [1.0, 2.9, 5.2, 6.9]})
        >>> lo, hi = r.conf_int()["b"]
        >>> print(f"{lo:.3f} {hi:.3f}")
        1.667 2.333
        """
        if not 0 < level < 1:
            raise ArgumentError(f"level must be between 0 and 1, got {level}")
        if method not in ("wald", "profile"):
            raise ArgumentError(f"method must be 'wald' or 'profile', got {method!r}")
        se = self.stderr_flat
        if method == "wald":
            q = self._problem.wald_quantile(level, self.dof)
            flat = np.column_stack([self.x - q * se, self.x + q * se])
        else:
            flat = np.array([self._profile_interval(j, level) for j in range(len(self.names))])
        return self._unflatten_pairs(flat)

    def _unflatten_pairs(self, flat: np.ndarray) -> dict:
        out, i = {}, 0
        for name, shape in self._problem.param_shapes():
            k = int(np.prod(shape)) if shape else 1
            if shape:
                out[name] = flat[i : i + k].reshape(*shape, 2)
            else:
                out[name] = (float(flat[i, 0]), float(flat[i, 1]))
            i += k
        return out

    def profile(self, name: str, values) -> np.ndarray:
        """The profile statistic of one flat parameter at ``values`` (others re-optimized).

        Maximum likelihood: ``2 (NLL_profile - NLL_min)``; least squares:
        ``(RSS_profile - RSS_min) / s^2``. Compare with :meth:`profile_threshold`.
        """
        if name not in self.names:
            raise ArgumentError(
                f"'{name}' is not a parameter; parameters are {', '.join(self.names)}"
            )
        j = self.names.index(name)
        out = []
        start = self.x
        for v in np.atleast_1d(np.asarray(values, dtype=float)):
            stat, start = self._problem.profile_stat(self, j, float(v), start)
            out.append(stat)
        return np.array(out)

    def profile_threshold(self, level: float = 0.95) -> float:
        """The value of the profile statistic at the ends of the ``level`` interval."""
        return self._problem.profile_quantile(level, self.dof)

    def _profile_interval(self, j: int, level: float) -> tuple[float, float]:
        q = self._problem.profile_quantile(level, self.dof)
        se = self.stderr_flat[j]
        xj = self.x[j]
        lo_b, hi_b = self._problem.flat_bounds()[j]
        if not np.isfinite(se) or se <= 0:
            se = max(abs(xj) * 0.1, 1e-3)
        half = se * math.sqrt(q)
        ends = []
        for side, limit in ((-1, lo_b), (1, hi_b)):
            cache: dict[float, np.ndarray] = {xj: self.x}

            def stat(v, cache=cache):
                near = min(cache, key=lambda c: abs(c - v))
                s, xs = self._problem.profile_stat(self, j, v, cache[near])
                if np.isfinite(s):
                    cache[v] = xs
                return s if np.isfinite(s) else np.inf

            prev, step, found = xj, half, None
            for _ in range(60):
                v = xj + side * step
                at_limit = limit is not None and (v - limit) * side >= 0
                if at_limit:
                    v = limit
                s = stat(v)
                if s >= q:
                    found = (prev, v)
                    break
                if at_limit:
                    break
                prev, step = v, step * 1.5
            if found is None:
                ends.append(limit if limit is not None else side * np.inf)
                continue
            a, b = found
            fa = stat(a) - q if a != xj else -q
            fb = stat(b) - q
            if not np.isfinite(fb):
                # bisection on a boundary of the domain: shrink b until finite
                for _ in range(60):
                    b = (a + b) / 2
                    fb = stat(b) - q
                    if np.isfinite(fb):
                        break
                if fb < 0:
                    ends.append(b)
                    continue
            root = (
                scipy.optimize.brentq(
                    lambda v: stat(v) - q, a, b, xtol=1e-12 * max(1.0, abs(xj)), rtol=1e-12
                )
                if fa * fb < 0
                else b
            )
            ends.append(float(root))
        return (ends[0], ends[1])

    # -- derived quantities -------------------------------------------------------------
    def derived(self, expr) -> DerivedQuantity:
        """Value and delta-method standard error of a function of the parameters.

        Parameters
        ----------
        expr : str or sympy.Expr
            A formula in the parameters, e.g. ``"b1*b2"`` or ``"w[0] - w[1]"``.

        Returns
        -------
        DerivedQuantity
            Unpacks as ``(value, stderr)``; ``.gradient`` holds the exact gradient at the
            estimates.

        Examples
        --------
        >>> import symml as sm
        >>> r = sm.fit("param a, b; y ~ a + b*x", {"x": [0, 1, 2, 3], "y": [1.0, 2.9, 5.2, 6.9]})
        >>> value, se = r.derived("a + 2*b")
        >>> print(f"{value:.4f} +- {se:.4f}")
        5.0000 +- 0.0949
        """
        from .._convert import as_expr
        from ..calculus import grad as _grad

        syms = self._problem.param_symbols()
        e = as_expr(expr, namespace=syms) if isinstance(expr, str) else as_expr(expr)
        if isinstance(e, sympy.MatrixBase):
            if e.shape != (1, 1):
                raise ArgumentError(f"derived needs a scalar quantity, got a {e.shape} matrix")
            e = e[0, 0]
        flat = self._problem.flat_symbols()
        known = set(flat)
        unknown = sorted(str(s) for s in e.free_symbols if s not in known)
        if unknown:
            raise ArgumentError(
                f"derived quantity uses {', '.join(unknown)}, which "
                f"{'is not a parameter' if len(unknown) == 1 else 'are not parameters'}; "
                f"parameters are {', '.join(self.names)}"
            )
        used = [s for s in flat if s in e.free_symbols]
        point = {s: sympy.Float(float(v), 30) for s, v in zip(flat, self.x, strict=True)}
        value = float(e.xreplace(point).evalf(30))
        g = np.zeros(len(flat))
        if used:
            gexpr = _grad(e, used)
            for s, gi in zip(used, gexpr, strict=True):
                g[flat.index(s)] = float(gi.xreplace(point).evalf(30))
        cov = np.asarray(self.cov)
        if not np.all(np.isfinite(cov[np.ix_(g != 0, g != 0)])):
            se = float("nan")
        else:
            se = float(math.sqrt(max(g @ cov @ g, 0.0)))
        return DerivedQuantity(e, value, se, dict(zip(self.names, g.tolist(), strict=True)))

    # -- prediction ---------------------------------------------------------------------
    def predict(self, data, interval: str | None = None, level: float = 0.95):
        """The fitted model's prediction for new rows, optionally with intervals.

        Least squares: the right side of ``~`` (on the scale of the left side, e.g.
        ``log(y)`` for ``log(y) ~ ...``). Likelihood: the mean of the distribution
        (Normal: ``mu``; Bernoulli: ``p``; Poisson: ``rate``; Binomial: ``n*p``;
        Exponential: ``1/rate``). ``data`` needs only the columns the prediction uses.

        Parameters
        ----------
        data : mapping or DataFrame
            The new rows.
        interval : {None, "confidence", "prediction"}
            None returns the predictions as an array. ``"confidence"``: an interval for the
            mean, ``mean +- q * se_mean`` with ``se_mean`` from the delta method (the exact
            gradient of the mean in the parameters, ``sqrt(g' Cov g)``) and ``q`` the
            Student-t quantile on ``n - p`` degrees of freedom (least squares) or the normal
            quantile (likelihood). ``"prediction"`` (least squares): an interval for a new
            observation, ``mean +- q * sqrt(se_mean^2 + s^2)`` with ``s^2 = RSS/(n - p)``
            (as statsmodels' ``obs_ci``; new rows have weight 1).
        level : float
            Coverage of the interval.

        Returns
        -------
        ndarray, or Prediction
            With an interval: a :class:`Prediction` (``mean``, ``lower``, ``upper``,
            ``stderr``) that unpacks as ``mean, lower, upper``.

        Examples
        --------
        >>> import symml as sm
        >>> r = sm.fit("param a, b; y ~ a + b*x", {"x": [0, 1, 2, 3], "y": [1.0, 2.9, 5.2, 6.9]})
        >>> r.predict({"x": [4, 5]}).round(3)
        array([ 9., 11.])
        >>> mean, lo, hi = r.predict({"x": [4]}, interval="prediction")
        >>> print(f"{mean[0]:.3f} [{lo[0]:.3f}, {hi[0]:.3f}]")
        9.000 [7.822, 10.178]
        """
        if interval is None:
            return self._problem.predict(self.x, data)
        if interval not in ("confidence", "prediction"):
            raise ArgumentError(
                f"interval must be None, 'confidence' or 'prediction', got {interval!r}"
            )
        if not 0 < level < 1:
            raise ArgumentError(f"level must be between 0 and 1, got {level}")
        if interval == "prediction" and self.kind != "least squares":
            raise ArgumentError(
                "prediction intervals (for a new observation) are computed for least-squares "
                "fits (Gaussian errors); for a likelihood model use interval='confidence' (the "
                "mean) and the distribution itself for new observations"
            )
        mean, G = self._problem.predict_gradient(self.x, data)
        cov = np.asarray(self.cov, dtype=float)
        var = np.einsum("ij,jk,ik->i", G, cov, G)
        se = np.sqrt(np.maximum(var, 0.0))
        q = self._problem.wald_quantile(level, self.dof)
        width = se
        if interval == "prediction":
            s2 = self.rss / self.dof if self.dof > 0 else float("nan")
            width = np.sqrt(var + s2)
        return Prediction(mean, mean - q * width, mean + q * width, se, level, interval)

    # -- printing -----------------------------------------------------------------------
    def _param_rows(self):
        se = self.stderr_flat
        rows = []
        for i, name in enumerate(self.names):
            v, s = float(self.x[i]), float(se[i])
            rel = abs(s / v) * 100 if v != 0 and np.isfinite(s) else float("nan")
            rows.append(
                [
                    name,
                    _fmt(v),
                    _fmt(s),
                    "nan" if math.isnan(rel) else f"{rel:.3g}%",
                    _fmt(self.init.get(name)),
                ]
            )
        return rows

    def summary(self, level: float = 0.95) -> str:
        """The fit as statsmodels' ``summary()`` lays it out: R-squared (least squares),
        log-likelihood, AIC, BIC, and per parameter the estimate, standard error, t or z,
        p-value and the ``level`` Wald interval.

        >>> import symml as sm
        >>> r = sm.fit("param a, b; y ~ a + b*x", {"x": [0, 1, 2, 3], "y": [1.0, 2.9, 5.2, 6.9]})
        >>> print(r.summary())  # doctest: +ELLIPSIS
                                      symml fit results
        ==============================================================================
        Model:             y ~ a + b*x
        Method:            least squares (...)
        ------------------------------------------------------------------------------
        No. Observations:                   4  R-squared:                        0.997
        Df Residuals:                       2  Adj. R-squared:                   0.996
        Converged:                       True  Log-Likelihood:                  2.7237
                                               AIC:                            -1.4473
                                               BIC:                            -2.6747
        ==============================================================================
                  coef    std err          t      P>|t|     [0.025     0.975]
        ------------------------------------------------------------------------------
        a       1.0000     0.1449      6.901      0.020      0.376      1.624
        b       2.0000     0.0775     25.820      0.001      1.667      2.333
        ==============================================================================
        Standard errors from s^2 (J'J)^-1 with the exact Jacobian J.
        """
        from .summary import summary_text

        if not 0 < level < 1:
            raise ArgumentError(f"level must be between 0 and 1, got {level}")
        return summary_text(self, level)

    def report(self, min_correl: float = 0.1) -> str:
        """A readable report: fit statistics, estimates, correlations (like lmfit's).

        Parameters
        ----------
        min_correl : float
            Correlations smaller than this in absolute value are not listed.
        """
        lines = ["[[Model]]", f"    {self.model}"]
        lines += ["[[Fit Statistics]]"]
        stats = [
            ("fitting method", f"{self.kind} ({self.method})"),
            ("success", f"{self.success} ({self.message})"),
            ("function evals", str(self.nfev)),
            (
                "data points",
                str(self.nobs)
                + (f" ({self.dropped} rows with NaN/inf dropped)" if self.dropped else ""),
            ),
            ("variables", str(self.nparams)),
            ("degrees of freedom", str(self.dof)),
        ]
        if self.rss is not None:
            stats.append(("residual sum of squares", _fmt(self.rss)))
            if self.dof > 0:
                stats.append(("residual std. error", _fmt(math.sqrt(self.rss / self.dof))))
            if self.rsquared is not None:
                stats.append(("R-squared", _fmt(self.rsquared)))
                stats.append(("adjusted R-squared", _fmt(self.rsquared_adj)))
        stats += [
            ("log-likelihood", _fmt(self.loglik)),
            ("Akaike info crit", _fmt(self.aic)),
            ("Bayesian info crit", _fmt(self.bic)),
        ]
        w = max(len(k) for k, _ in stats)
        lines += [f"    {k.ljust(w)} = {v}" for k, v in stats]
        lines += ["[[Variables]]"]
        lines += _table(
            self._param_rows(), ["name", "estimate", "std. error", "rel. error", "init"]
        )
        if self.cov_reason:
            lines.append(f"    standard errors undetermined: {self.cov_reason}")
        corr = self.corr
        pairs = []
        p = len(self.names)
        for i in range(p):
            for j in range(i + 1, p):
                c = corr[i, j]
                if np.isfinite(c) and abs(c) >= min_correl:
                    pairs.append((abs(c), f"C({self.names[i]}, {self.names[j]})", c))
        if pairs and not self.cov_reason:
            pairs.sort(key=lambda t: -t[0])
            lines.append(f"[[Correlations]] (unreported correlations are < {min_correl:.3f})")
            w = max(len(n) for _, n, _ in pairs)
            lines += [f"    {n.ljust(w)} = {c:+.4f}" for _, n, c in pairs]
        return "\n".join(lines)

    def __repr__(self) -> str:
        head = f"FitResult({self.kind}, {self.model!r})"
        rows = [
            ("success", str(self.success)),
            ("message", self.message),
            ("nobs", str(self.nobs)),
            ("nfev", str(self.nfev)),
        ]
        if self.rss is not None:
            rows.append(("rss", _fmt(self.rss)))
        rows += [("loglik", _fmt(self.loglik)), ("aic", _fmt(self.aic)), ("bic", _fmt(self.bic))]
        se = self.stderr_flat
        params = ", ".join(
            f"{n}={_fmt(float(v))}±{_fmt(float(s))}"
            for n, v, s in zip(self.names, self.x, se, strict=True)
        )
        rows.append(("params", params))
        w = max(len(k) for k, _ in rows)
        return "\n".join([head] + [f"  {k.rjust(w)}: {v}" for k, v in rows])

    def _repr_markdown_(self) -> str:
        lines = [
            f"**Fit** `{self.model}` — {self.kind} ({self.method}), "
            f"{self.nobs} rows, success: {self.success}",
            "",
        ]
        lines += ["| parameter | estimate | std. error | rel. error |", "|---|---:|---:|---:|"]
        for name, v, s, rel, _ in self._param_rows():
            lines.append(f"| `{name}` | {v} | {s} | {rel} |")
        lines.append("")
        stats = []
        if self.rss is not None:
            stats.append(f"RSS = {_fmt(self.rss)}")
        stats += [
            f"log-likelihood = {_fmt(self.loglik)}",
            f"AIC = {_fmt(self.aic)}",
            f"BIC = {_fmt(self.bic)}",
        ]
        lines.append(", ".join(stats))
        if self.cov_reason:
            lines += ["", f"Standard errors undetermined: {self.cov_reason}"]
        return "\n".join(lines)
