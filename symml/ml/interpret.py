"""Interpretability from the symbolic model: exact sensitivities, first-order (Taylor)
attributions, coefficient tables with standard errors and p-values, and L1 feature selection.

>>> import symml as sm
>>> from symml.ml.interpret import sensitivity, taylor_attribution
>>> f = sm.expr("sigmoid(2*x1 - x2)")
>>> {k: round(v, 6) for k, v in sensitivity(f, ["x1", "x2"], {"x1": 0, "x2": 0}).items()}
{'x1': 0.5, 'x2': -0.25}
>>> a = taylor_attribution("3*x1 + x2^2", ["x1", "x2"], {"x1": 1, "x2": 2}, baseline={"x1": 0, "x2": 0})
>>> a.attributions, a.f_x - a.f_baseline
({'x1': 3.0, 'x2': 0.0}, 7.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError
from ._base import as_matrix, as_vector

__all__ = ["sensitivity", "taylor_attribution", "Attribution", "coefficients", "l1_select"]


def _setup(f, inputs):
    from .._convert import as_expr, as_symbols

    expr = as_expr(f)
    syms = as_symbols(inputs, [expr])
    return expr, syms


def _point(syms, at: Mapping, what: str) -> dict:
    names = {str(s): s for s in syms}
    missing = [n for n in names if n not in at]
    if missing:
        raise ArgumentError(f"{what} gives no value for {', '.join(missing)}")
    return {names[n]: float(at[n]) for n in names}


def sensitivity(f, inputs: Sequence, at: Mapping) -> dict[str, float]:
    """The exact partial derivatives of the model ``f`` with respect to each input at ``at``."""
    from ..calculus import grad

    expr, syms = _setup(f, inputs)
    point = _point(syms, at, "at")
    g = grad(expr, syms)
    out = {}
    for s, gi in zip(syms, g, strict=True):
        v = complex(gi.evalf(subs=point))
        if abs(v.imag) > 1e-12 or not np.isfinite(v.real):
            raise ArgumentError(f"the derivative with respect to {s} is not a finite real number at {at}")
        out[str(s)] = v.real
    return out


@dataclass
class Attribution:
    """A first-order Taylor attribution of ``f(x) - f(baseline)`` to each input.

    ``attributions[j] = df/dx_j(baseline) * (x_j - baseline_j)``; ``residual`` is what the
    first-order terms leave unexplained (zero for a linear model).
    """

    attributions: dict[str, float]
    f_x: float
    f_baseline: float
    residual: float

    def __repr__(self) -> str:
        rows = [f"  {k:>12}: {v: .6g}" for k, v in sorted(self.attributions.items(), key=lambda kv: -abs(kv[1]))]
        return "\n".join([f"Attribution of f(x) - f(baseline) = {self.f_x - self.f_baseline:.6g}", *rows,
                          f"  {'residual':>12}: {self.residual: .6g}"])  # fmt: skip


def taylor_attribution(f, inputs: Sequence, x: Mapping, baseline: Mapping | None = None) -> Attribution:
    """Attribute a prediction to each input by the first-order Taylor expansion about
    ``baseline`` (default: all inputs 0)."""
    expr, syms = _setup(f, inputs)
    base = baseline if baseline is not None else {str(s): 0.0 for s in syms}
    px, pb = _point(syms, x, "x"), _point(syms, base, "baseline")
    sens = sensitivity(expr, syms, base)
    attr = {str(s): sens[str(s)] * (px[s] - pb[s]) for s in syms}
    fx, fb = float(expr.evalf(subs=px)), float(expr.evalf(subs=pb))
    return Attribution(attr, fx, fb, fx - fb - sum(attr.values()))


def coefficients(result) -> list[tuple[str, float, float, float, float]]:
    """``(name, estimate, stderr, z, p-value)`` per parameter of a :class:`symml.FitResult`
    (Wald statistics; two-sided p-values from the normal distribution)."""
    from scipy.stats import norm

    rows = []
    for name, value in result.params.items():
        est = np.atleast_1d(np.asarray(value, dtype=float))
        se = np.atleast_1d(np.asarray(result.stderr[name], dtype=float))
        for k, (e, s) in enumerate(zip(est, se, strict=True)):
            label = name if est.size == 1 else f"{name}[{k}]"
            z = e / s if s > 0 else np.inf
            rows.append((label, float(e), float(s), float(z), float(2 * norm.sf(abs(z)))))
    return rows


def l1_select(X, y, alpha: float, loss: str = "squared", feature_names=None, max_iter: int = 5000):
    """Select features by L1-regularized regression on standardized features.

    ``loss="squared"`` (lasso) or ``"logistic"``; returns ``(selected names, coefficients)``
    where a coefficient is exactly 0 for a dropped feature (proximal gradient steps).
    """
    import symml as sm

    from ..functions import softplus
    from ..symbols import symbol, vector

    A = as_matrix(X)
    t = np.asarray(as_vector(y, len(A)), dtype=float)
    names = list(feature_names) if feature_names is not None else list(getattr(X, "columns", [f"x{j}" for j in range(A.shape[1])]))
    if len(names) != A.shape[1]:
        raise ArgumentError(f"{len(names)} feature names for {A.shape[1]} columns")
    sd = A.std(axis=0)
    Z = (A - A.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    d = A.shape[1]
    w, x, b, yy = vector("w", d), vector("x", d), symbol("b"), symbol("y")
    z = sum(w[j] * x[j] for j in range(d)) + b
    if loss == "squared":
        row = (z - yy) ** 2 / 2
        lr = 1.0 / (1.0 + float(np.linalg.eigvalsh(Z.T @ Z / len(Z)).max()))
    elif loss == "logistic":
        row = softplus(z) - yy * z
        lr = 4.0 / (1.0 + float(np.linalg.eigvalsh(Z.T @ Z / len(Z)).max()))
    else:
        raise ArgumentError(f"loss must be 'squared' or 'logistic', got {loss!r}")
    res = sm.minimize(row, {"w": np.zeros(d), "b": 0.0}, method="gd", data={"x": Z, "y": t},
                      regularization={"l1": {"w": alpha}}, lr=lr, max_iter=max_iter, tol=1e-10)  # fmt: skip
    coef = np.asarray(res.x["w"], dtype=float)
    return [n for n, c in zip(names, coef, strict=True) if c != 0], coef
