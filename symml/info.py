"""Entropy, cross-entropy, KL divergence and mutual information (natural logarithms, nats).

Arguments are distributions from :mod:`symml.prob` or probability vectors (lists, NumPy
arrays, SymPy matrices, language text such as ``"[1/2, 1/4, 1/4]"``). Parametric pairs of the
same family give closed forms derived by :func:`symml.steps.kl` (from the integral).

>>> from symml.info import entropy, kl
>>> entropy([0.5, 0.5])
0.693147180559945
>>> from symml.prob import Bernoulli
>>> kl(Bernoulli("p"), Bernoulli("q"))
p*log(p/q) + (1 - p)*log((1 - p)/(1 - q))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from ._convert import as_expr
from .errors import ArgumentError, DerivationError, ShapeError
from .prob import Categorical, Distribution

__all__ = ["entropy", "cross_entropy", "kl", "mutual_information"]


def _vector(p: Any, what: str) -> list:
    if isinstance(p, Categorical):
        return list(p.probs)
    if isinstance(p, str):
        p = as_expr(p)
    if isinstance(p, np.ndarray):
        p = p.tolist()
    if isinstance(p, sympy.MatrixBase):
        items = list(p)
    elif isinstance(p, (list, tuple)):
        items = [as_expr(v) for v in p]
    else:
        raise ArgumentError(f"{what}: expected a distribution or a probability vector, got {p!r}")
    return Categorical(items).probs  # validates entries in [0, 1] and the sum


def _plogq(a, b):
    return sympy.Integer(0) if a == 0 else -a * sympy.log(b)


def entropy(p: Any) -> sympy.Expr:
    """Shannon entropy ``H(p) = -sum p log p`` (or ``-E[log p(X)]`` for a density).

    >>> from symml.prob import Normal
    >>> entropy(Normal(0, "s"))
    log(2*E*pi*s**2)/2
    """
    if isinstance(p, Distribution):
        return p.entropy
    ps = _vector(p, "entropy")
    return sum((_plogq(a, a) for a in ps), sympy.Integer(0))


def kl(p: Any, q: Any) -> sympy.Expr:
    """Kullback-Leibler divergence ``KL(p || q) = E_p[log(p/q)]``.

    Two distributions of a family that :func:`symml.steps.kl` derives give its closed form;
    other numeric pairs are integrated numerically; vectors are summed.

    >>> kl([0.5, 0.5], [0.9, 0.1])
    0.510825623765991
    """
    if isinstance(p, Distribution) and isinstance(q, Distribution) and not (
        isinstance(p, Categorical) and isinstance(q, Categorical)
    ):
        if type(p) is type(q):
            from .steps.info import kl as derive

            try:
                return derive(p, q).result
            except DerivationError:
                pass
        return _numeric_kl(p, q)
    ps, qs = _vector(p, "kl"), _vector(q, "kl")
    if len(ps) != len(qs):
        raise ShapeError(f"kl: p has {len(ps)} entries, q has {len(qs)}")
    out = sympy.Integer(0)
    for a, b in zip(ps, qs, strict=True):
        if a != 0 and b == 0:
            return sympy.oo
        if a != 0:
            out += a * sympy.log(a / b)
    return out


def _numeric_kl(p: Distribution, q: Distribution) -> sympy.Expr:
    if not (p.is_numeric and q.is_numeric):
        raise DerivationError(
            f"kl: no closed form for KL({p!r} || {q!r}); give numeric parameters"
        )
    import mpmath

    if p.discrete != q.discrete:
        raise ArgumentError("kl: one distribution is discrete and the other continuous")
    x = sympy.Dummy("x", real=True)
    if p.discrete:
        raise DerivationError(f"kl: numeric KL between {p.name} and {q.name} is not supported")
    fp, fq = sympy.lambdify(x, p.density(x), "mpmath"), sympy.lambdify(x, q.density(x), "mpmath")

    def f(t):
        a = fp(t)
        if a == 0:
            return 0
        b = fq(t)
        if b == 0:
            return mpmath.inf
        return a * mpmath.log(a / b)

    sd = sympy.sqrt(p.var)
    lo = float(sympy.N(sympy.Max(p.support[0], p.mean - 40 * sd)))
    hi = float(sympy.N(sympy.Min(p.support[1], p.mean + 40 * sd)))
    with mpmath.workdps(20):
        return sympy.Float(mpmath.quad(f, [lo, float(sympy.N(p.mean)), hi]))


def cross_entropy(p: Any, q: Any) -> sympy.Expr:
    """Cross-entropy ``H(p, q) = -E_p[log q] = H(p) + KL(p || q)``.

    >>> cross_entropy([1, 0], [0.8, 0.2])
    0.223143551314210
    """
    if isinstance(p, Distribution) and not isinstance(p, Categorical):
        return entropy(p) + kl(p, q)
    ps, qs = _vector(p, "cross_entropy"), _vector(q, "cross_entropy")
    if len(ps) != len(qs):
        raise ShapeError(f"cross_entropy: p has {len(ps)} entries, q has {len(qs)}")
    return sum((_plogq(a, b) for a, b in zip(ps, qs, strict=True)), sympy.Integer(0))


def mutual_information(joint: Any) -> sympy.Expr:
    """Mutual information ``I(X; Y) = sum p(x, y) log(p(x, y) / (p(x) p(y)))`` of a joint table.

    >>> mutual_information([[0.5, 0], [0, 0.5]])
    0.693147180559945
    """
    if isinstance(joint, str):
        joint = as_expr(joint)
    m = sympy.Matrix(joint.tolist() if isinstance(joint, np.ndarray) else joint)
    if m.shape[0] < 1 or m.shape[1] < 1:
        raise ShapeError("mutual_information: the joint table is empty")
    Categorical(list(m))  # entries in [0, 1], summing to 1
    px = [sum(m.row(i)) for i in range(m.rows)]
    py = [sum(m.col(j)) for j in range(m.cols)]
    out = sympy.Integer(0)
    for i in range(m.rows):
        for j in range(m.cols):
            if m[i, j] != 0:
                out += m[i, j] * sympy.log(m[i, j] / (px[i] * py[j]))
    return out
