"""``FitResult.summary()``: the fit as a statsmodels user reads it.

A header of fit statistics in two columns (R-squared and adjusted R-squared for least
squares, log-likelihood, AIC, BIC, observations, residual degrees of freedom) and one table
row per parameter: estimate, standard error, t (least squares) or z (maximum likelihood),
the two-sided p-value and the 95% Wald interval, laid out as statsmodels' ``summary()``.
"""

from __future__ import annotations

import math

__all__ = ["summary_text"]

_WIDTH = 78


def _num(v, digits: int = 4) -> str:
    if v is None:
        return "-"
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}f}"


def _pvalue(p: float) -> str:
    if math.isnan(p):
        return "nan"
    return "0.000" if p < 0.0005 else f"{p:.3f}"


def summary_text(r, level: float = 0.95) -> str:
    """The summary of a :class:`~symml.fitting.result.FitResult` as text."""
    least_squares = r.kind == "least squares"
    head = [("Model:", r.model), ("Method:", f"{r.kind} ({r.method})")]
    left = [
        ("No. Observations:", str(r.nobs)),
        ("Df Residuals:", str(r.dof)),
        ("Converged:", str(r.success)),
    ]
    if r.dist:
        left.append(("Distribution:", r.dist))
    right = []
    if least_squares:
        right += [("R-squared:", _num(r.rsquared, 3)), ("Adj. R-squared:", _num(r.rsquared_adj, 3))]
    right += [
        ("Log-Likelihood:", _num(r.loglik, 4)),
        ("AIC:", _num(r.aic, 4)),
        ("BIC:", _num(r.bic, 4)),
    ]
    rows = max(len(left), len(right))
    left += [("", "")] * (rows - len(left))
    right += [("", "")] * (rows - len(right))
    half = _WIDTH // 2
    lines = ["symml fit results".center(_WIDTH), "=" * _WIDTH]
    lines += [f"{k:<19}{v}" for k, v in head]
    lines.append("-" * _WIDTH)
    for (lk, lv), (rk, rv) in zip(left, right, strict=True):
        a = f"{lk:<19}{lv:>{half - 21}}" if lk else ""
        b = f"{rk:<17}{rv:>{half - 17}}" if rk else ""
        lines.append(f"{a:<{half}}{b}".rstrip())
    t, p = r._stats_flat()
    se = r.stderr_flat
    q = r._problem.wald_quantile(level, r.dof)
    lo_label, hi_label = f"[{(1 - level) / 2:.3f}", f"{1 - (1 - level) / 2:.3f}]"
    stat = "t" if least_squares else "z"
    header = ["", "coef", "std err", stat, f"P>|{stat}|", lo_label, hi_label]
    table = []
    for i, name in enumerate(r.names):
        est = float(r.x[i])
        table.append(
            [
                name,
                _num(est),
                _num(se[i]),
                _num(t[i], 3),
                _pvalue(float(p[i])),
                _num(est - q * se[i], 3),
                _num(est + q * se[i], 3),
            ]
        )
    w0 = max(len(h) for h in [header[0], *(row[0] for row in table)]) + 2
    widths = [w0] + [max(11, *(len(row[k]) + 2 for row in table)) for k in range(1, 7)]
    lines.append("=" * _WIDTH)
    lines.append(
        "".join(
            h.ljust(w) if k == 0 else h.rjust(w)
            for k, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    lines.append("-" * _WIDTH)
    for row in table:
        lines.append(
            "".join(
                c.ljust(w) if k == 0 else c.rjust(w)
                for k, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    lines.append("=" * _WIDTH)
    notes = []
    if r.cov_reason:
        notes.append(f"Standard errors undetermined: {r.cov_reason}")
    if not least_squares:
        notes.append("Standard errors from the inverse observed information (exact Hessian).")
    else:
        notes.append("Standard errors from s^2 (J'J)^-1 with the exact Jacobian J.")
    if r.dropped:
        notes.append(f"{r.dropped} rows with NaN/inf were dropped.")
    lines += notes
    return "\n".join(line.rstrip() for line in lines)
