"""Descriptive statistics and classical tests, each result carrying the formula it used.

Every function returns a :class:`StatResult` with the numbers (``statistic``, ``pvalue``,
``interval``, ...) and ``formula``: the SymPy expression (in symbols such as ``xbar``,
``s``, ``n``) that produced the statistic, so the working can be shown.

>>> from symml.stats import ttest_1samp
>>> r = ttest_1samp([5.1, 4.9, 5.6, 5.8, 6.0], 5)
>>> round(r.statistic, 6), round(r.pvalue, 6)
(2.304074, 0.082568)
>>> r.formula
sqrt(n)*(-mu0 + xbar)/s
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from .errors import ArgumentError, DataError

__all__ = [
    "StatResult",
    "describe",
    "covariance",
    "correlation",
    "ttest_1samp",
    "ttest_ind",
    "ztest",
    "mean_ci",
    "proportion_ci",
]

_S = {name: sympy.Symbol(name, real=True) for name in
      ("xbar", "ybar", "mu0", "s", "s1", "s2", "sigma", "z", "t", "p_hat", "sp")}  # fmt: skip
_n, _n1, _n2 = (sympy.Symbol(k, positive=True, integer=True) for k in ("n", "n1", "n2"))


@dataclass
class StatResult:
    """The outcome of a statistic: values, and the formula that produced them."""

    name: str
    statistic: float | None = None
    pvalue: float | None = None
    interval: tuple[float, float] | None = None
    formula: Any = None
    values: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        parts = [f"{self.name}:"]
        if self.statistic is not None:
            parts.append(f"statistic={self.statistic:.6g}")
        if self.pvalue is not None:
            parts.append(f"pvalue={self.pvalue:.6g}")
        if self.interval is not None:
            parts.append(f"interval=({self.interval[0]:.6g}, {self.interval[1]:.6g})")
        parts.append(f"formula: {self.formula}")
        return " ".join(parts)


def _data(x, what: str = "x", min_n: int = 1) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{what}: expected numbers, got {x!r}") from None
    arr = arr.ravel()
    if arr.size < min_n:
        raise DataError(f"{what}: need at least {min_n} observations, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{what}: the data contain NaN or inf; drop or fill them first")
    return arr


def _alternative(alt: str) -> str:
    if alt not in ("two-sided", "less", "greater"):
        raise ArgumentError(f"alternative must be 'two-sided', 'less' or 'greater', not {alt!r}")
    return alt


def _pvalue(dist, stat: float, alternative: str) -> float:
    if alternative == "two-sided":
        return float(2 * dist.sf(abs(stat)))
    if alternative == "greater":
        return float(dist.sf(stat))
    return float(dist.cdf(stat))


def describe(x) -> StatResult:
    """Mean, median, variance and standard deviation (``ddof=1``), quartiles, min and max.

    >>> r = describe([1, 2, 3, 4])
    >>> r.values["mean"], r.values["var"], r.values["median"]
    (2.5, 1.6666666666666667, 2.5)
    """
    a = _data(x, "describe", 2)
    q = np.quantile(a, [0.25, 0.5, 0.75])
    i = sympy.Symbol("i", integer=True, positive=True)
    xi = sympy.IndexedBase("x", real=True)[i]
    formula = {
        "mean": sympy.Sum(xi, (i, 1, _n)) / _n,
        "var": sympy.Sum((xi - _S["xbar"]) ** 2, (i, 1, _n)) / (_n - 1),
    }
    values = {
        "n": int(a.size), "mean": float(a.mean()), "median": float(q[1]),
        "var": float(a.var(ddof=1)), "std": float(a.std(ddof=1)),
        "q1": float(q[0]), "q3": float(q[2]), "min": float(a.min()), "max": float(a.max()),
    }  # fmt: skip
    return StatResult("describe", formula=formula, values=values)


def covariance(x, y) -> StatResult:
    """Sample covariance ``sum (x - xbar)(y - ybar) / (n - 1)``.

    >>> covariance([1, 2, 3], [2, 4, 7]).statistic
    2.5
    """
    a, b = _data(x, "x", 2), _data(y, "y", 2)
    if a.size != b.size:
        raise DataError(f"covariance: x has {a.size} values, y has {b.size}")
    i = sympy.Symbol("i", integer=True, positive=True)
    X, Y = sympy.IndexedBase("x", real=True), sympy.IndexedBase("y", real=True)
    f = sympy.Sum((X[i] - _S["xbar"]) * (Y[i] - _S["ybar"]), (i, 1, _n)) / (_n - 1)
    return StatResult("covariance", statistic=float(np.cov(a, b, ddof=1)[0, 1]), formula=f)


def correlation(x, y) -> StatResult:
    """Pearson correlation ``cov(x, y) / (s_x s_y)`` with its two-sided p-value.

    >>> round(correlation([1, 2, 3, 4], [2, 4, 5, 9]).statistic, 6)
    0.964764
    """
    from scipy import stats

    a, b = _data(x, "x", 3), _data(y, "y", 3)
    if a.size != b.size:
        raise DataError(f"correlation: x has {a.size} values, y has {b.size}")
    if a.std() == 0 or b.std() == 0:
        raise DataError("correlation: one of the samples is constant")
    r = stats.pearsonr(a, b)
    cov, sx, sy = sympy.symbols("cov_xy s_x s_y", real=True)
    return StatResult("correlation", statistic=float(r.statistic), pvalue=float(r.pvalue),
                      formula=cov / (sx * sy))  # fmt: skip


def ttest_1samp(x, mu0: float = 0.0, alternative: str = "two-sided") -> StatResult:
    """One-sample t test of mean ``mu0``: ``t = (xbar - mu0) / (s / sqrt(n))``, n - 1 df."""
    from scipy import stats

    a = _data(x, "ttest_1samp", 2)
    alternative = _alternative(alternative)
    s = a.std(ddof=1)
    if s == 0 or np.ptp(a) == 0:
        raise DataError(
            "ttest_1samp: the sample has no spread (its standard deviation is 0 in floating "
            "point: all values equal, or their differences too small to square); the t "
            "statistic is undefined"
        )
    f = (_S["xbar"] - _S["mu0"]) / (_S["s"] / sympy.sqrt(_n))
    t = float(f.subs({_S["xbar"]: a.mean(), _S["mu0"]: mu0, _S["s"]: s, _n: a.size}))
    p = _pvalue(stats.t(a.size - 1), t, alternative)
    return StatResult("one-sample t test", statistic=t, pvalue=p, formula=f,
                      values={"df": a.size - 1})  # fmt: skip


def ttest_ind(x, y, equal_var: bool = True, alternative: str = "two-sided") -> StatResult:
    """Two-sample t test (pooled variance, or Welch's with ``equal_var=False``).

    >>> r = ttest_ind([1, 2, 3, 4], [3, 4, 5, 6, 7])
    >>> round(r.statistic, 6)
    -2.545875
    """
    from scipy import stats

    a, b = _data(x, "x", 2), _data(y, "y", 2)
    alternative = _alternative(alternative)
    n1, n2 = a.size, b.size
    v1, v2 = a.var(ddof=1), b.var(ddof=1)
    s1, s2, sp = _S["s1"], _S["s2"], _S["sp"]
    diff = _S["xbar"] - _S["ybar"]
    vals = {_S["xbar"]: a.mean(), _S["ybar"]: b.mean(), s1: np.sqrt(v1), s2: np.sqrt(v2),
            _n1: n1, _n2: n2}  # fmt: skip
    if equal_var:
        pooled = sympy.sqrt(((_n1 - 1) * s1**2 + (_n2 - 1) * s2**2) / (_n1 + _n2 - 2))
        f = diff / (sp * sympy.sqrt(1 / _n1 + 1 / _n2))
        vals[sp] = float(pooled.subs(vals))
        df = n1 + n2 - 2
    else:
        f = diff / sympy.sqrt(s1**2 / _n1 + s2**2 / _n2)
        df = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    denom = float((diff / f).subs(vals))
    if denom == 0 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        raise DataError("ttest_ind: both samples have no spread")
    t = float(f.subs(vals))
    p = _pvalue(stats.t(df), t, alternative)
    return StatResult("two-sample t test", statistic=t, pvalue=p, formula=f,
                      values={"df": float(df)})  # fmt: skip


def ztest(x, mu0: float = 0.0, sigma: float | None = None,
          alternative: str = "two-sided") -> StatResult:  # fmt: skip
    """z test of mean ``mu0`` with known ``sigma`` (else the sample standard deviation).

    >>> round(ztest([2.1, 1.9, 2.4, 2.2], 2, sigma=0.2).statistic, 6)
    1.5
    """
    from scipy import stats

    a = _data(x, "ztest", 2)
    alternative = _alternative(alternative)
    sd = a.std(ddof=1) if sigma is None else float(sigma)
    if not sd > 0:
        raise ArgumentError(f"ztest: sigma must be > 0, got {sd}")
    f = (_S["xbar"] - _S["mu0"]) / (_S["sigma"] / sympy.sqrt(_n))
    z = float(f.subs({_S["xbar"]: a.mean(), _S["mu0"]: mu0, _S["sigma"]: sd, _n: a.size}))
    return StatResult("z test", statistic=z, pvalue=_pvalue(stats.norm, z, alternative),
                      formula=f)  # fmt: skip


def _pm(centre, half) -> sympy.Tuple:
    return sympy.Tuple(centre - half, centre + half)


def _level(confidence: float) -> float:
    if not (isinstance(confidence, (int, float)) and 0 < confidence < 1):
        raise ArgumentError(f"confidence must be between 0 and 1, got {confidence!r}")
    return float(confidence)


def mean_ci(x, confidence: float = 0.95, sigma: float | None = None) -> StatResult:
    """Confidence interval ``xbar -+ t s / sqrt(n)`` (``z sigma / sqrt(n)`` with known sigma).

    >>> lo, hi = mean_ci([1, 2, 3, 4, 5]).interval
    >>> round(lo, 6), round(hi, 6)
    (1.036757, 4.963243)
    """
    from scipy import stats

    a = _data(x, "mean_ci", 2)
    c = _level(confidence)
    n = a.size
    if sigma is None:
        crit, sd, q = stats.t(n - 1).ppf((1 + c) / 2), a.std(ddof=1), _S["t"]
        f = _pm(_S["xbar"], q * _S["s"] / sympy.sqrt(_n))
    else:
        crit, sd, q = stats.norm.ppf((1 + c) / 2), float(sigma), _S["z"]
        f = _pm(_S["xbar"], q * _S["sigma"] / sympy.sqrt(_n))
    half = crit * sd / np.sqrt(n)
    m = a.mean()
    interval = (float(m - half), float(m + half))
    return StatResult("confidence interval for a mean", interval=interval,
                      formula=f, values={"critical": float(crit)})  # fmt: skip


def proportion_ci(successes: int, n: int, confidence: float = 0.95,
                  method: str = "wald") -> StatResult:  # fmt: skip
    """Interval for a proportion: Wald ``p -+ z sqrt(p(1-p)/n)`` or ``method="wilson"``.

    >>> lo, hi = proportion_ci(40, 100).interval
    >>> round(lo, 6), round(hi, 6)
    (0.303982, 0.496018)
    """
    from scipy import stats

    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ArgumentError(f"proportion_ci: n must be a whole number > 0, got {n!r}")
    if not (isinstance(successes, (int, np.integer)) and 0 <= successes <= n):
        raise ArgumentError(f"proportion_ci: successes must be in 0..n, got {successes!r}")
    c = _level(confidence)
    z = float(stats.norm.ppf((1 + c) / 2))
    ph, zs = _S["p_hat"], _S["z"]
    if method == "wald":
        f = _pm(ph, zs * sympy.sqrt(ph * (1 - ph) / _n))
    elif method == "wilson":
        centre = (ph + zs**2 / (2 * _n)) / (1 + zs**2 / _n)
        half = zs / (1 + zs**2 / _n) * sympy.sqrt(ph * (1 - ph) / _n + zs**2 / (4 * _n**2))
        f = _pm(centre, half)
    else:
        raise ArgumentError(f"proportion_ci: method must be 'wald' or 'wilson', not {method!r}")
    vals = {ph: sympy.Rational(int(successes), int(n)), zs: z, _n: int(n)}
    lo, hi = (float(v) for v in f.subs(vals))
    return StatResult("confidence interval for a proportion", interval=(lo, hi), formula=f)
