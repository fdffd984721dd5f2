"""Information-theory derivations: KL divergences out of their integrals, cross-entropy as NLL.

``kl(p, q)`` integrates ``p log(p/q)`` step by step: the log ratio is expanded in powers of
``x - E[x]`` (for a continuous pair) so that linearity of expectation leaves the moments
``E[x - E x] = 0`` and ``E[(x - E x)^2] = Var x``, each computed as an integral; a discrete
pair is summed over its support. Every step is checked numerically (integrals by quadrature).

>>> from symml.prob import Exponential
>>> from symml.steps import kl
>>> d = kl(Exponential("a"), Exponential("b"))
>>> d.result
log(a/b) - 1 + b/a
>>> d.verify()
True
"""

from __future__ import annotations

import random

import mpmath
import numpy as np
import sympy

from .._convert import to_sympy as _to_sympy
from .._limits import time_limit
from ..errors import ArgumentError, DerivationError
from ..prob import Bernoulli, Categorical, Distribution, Exponential, Normal
from .model import Derivation, Step, explain

__all__ = ["kl", "cross_entropy"]

_SUPPORT = {Normal: (-sympy.oo, sympy.oo), Exponential: (0, sympy.oo)}


def _positive_version(dist: Distribution):
    """The same family with its symbolic parameters replaced by positive / real dummies."""
    rep, back = {}, {}
    for name, v in dist.params.items():
        for s in _to_sympy(v).free_symbols:
            if s in rep:
                continue
            pos = name != "mu"
            d = sympy.Dummy(s.name, positive=True) if pos else sympy.Dummy(s.name, real=True)
            rep[s], back[d] = d, s
    return rep, back


def _numeric_check(seed: int = 0, points: int = 3):
    """Compare both sides with every symbol set to random positive values (integrals by quad)."""

    def check(step) -> bool:
        rng = random.Random(seed)
        syms = set()
        for side in (step.before, step.after):
            syms |= _to_sympy(side).free_symbols
        for _ in range(points):
            vals = {s: sympy.Rational(rng.randint(30, 170), 100) for s in syms}
            a = _value(_to_sympy(step.before).xreplace(vals))
            b = _value(_to_sympy(step.after).xreplace(vals))
            if abs(a - b) > 1e-9 * max(1.0, abs(a), abs(b)):
                return False
        return True

    return check


def _value(expr) -> complex:
    """Numeric value, integrals by quadrature (independent of SymPy's integrator)."""
    expr = expr.replace(lambda e: isinstance(e, sympy.Integral), _quad)
    return complex(sympy.N(expr, 20))


def _quad(integral) -> sympy.Float:
    """A one-dimensional integral over a finite, half-infinite or infinite range: the
    double-exponential (tanh-sinh / sinh-sinh / exp-sinh) trapezoidal rule on NumPy arrays,
    accepted when halving its step changes it by less than 1e-12 relative (mpmath's adaptive
    ``quad`` at 25 digits otherwise). Nodes where the float integrand is not finite (a
    density that underflows inside ``log(p/q)``) are evaluated with mpmath."""
    (var, lo, hi), = integral.limits
    f = integral.function
    rule = _de_nodes(lo, hi)
    if rule is not None:
        x, w, step = rule
        fn = sympy.lambdify(var, f, modules="numpy")
        with np.errstate(all="ignore"):
            y = np.asarray(fn(x), dtype=complex) * np.ones_like(x)
            if not np.isfinite(y).all():
                _tails(y, x, w, sympy.lambdify(var, f, modules="mpmath"))
            if np.isfinite(y).all():
                fine = step * np.sum(w * y)
                coarse = 2 * step * np.sum(w[::2] * y[::2])
                if abs(fine - coarse) <= 1e-12 * max(1.0, abs(fine)):
                    return sympy.Float(fine.real, 17) + sympy.I * sympy.Float(fine.imag, 17)
    g = sympy.lambdify(var, f, modules="mpmath")
    with mpmath.workdps(25):
        ends = [mpmath.inf if e == sympy.oo else -mpmath.inf if e == -sympy.oo
                else mpmath.mpf(str(sympy.N(e, 25))) for e in (lo, hi)]  # fmt: skip
        return sympy.Float(mpmath.quad(g, ends), 20)


def _tails(y, x, w, g) -> None:
    """Fill the nodes where the float integrand is not finite by mpmath (no underflow),
    from the middle outwards on each side, until the terms w*y have been negligible (below
    1e-30 of the sum) at four nodes in a row: the rest of that tail is truncated, as a
    double-exponential rule truncates anyway."""
    total = max(1.0, abs(np.sum((w * y)[np.isfinite(y)])))
    mid = len(y) // 2
    for side in (range(mid, len(y)), range(mid - 1, -1, -1)):
        small = 0
        for k in side:
            if small >= 4:
                y[k] = 0
                continue
            if not np.isfinite(y[k]):
                with mpmath.workdps(20):
                    y[k] = complex(g(mpmath.mpf(float(x[k]))))
            small = small + 1 if abs(w[k] * y[k]) < 1e-30 * total else 0


def _de_nodes(lo, hi):
    """(nodes, weights, step) of the double-exponential rule for the range, or None."""
    step = 1 / 64
    u = np.arange(-288, 289) * step  # |u| <= 4.5: the tails beyond are below 1e-30
    s = np.pi / 2 * np.sinh(u)
    ds = np.pi / 2 * np.cosh(u)
    if lo == -sympy.oo and hi == sympy.oo:
        return np.sinh(s), ds * np.cosh(s), step
    if hi == sympy.oo and lo.is_number:
        return float(lo) + np.exp(s), ds * np.exp(s), step
    if lo.is_number and hi.is_number and lo.is_finite and hi.is_finite:
        a, b = float(lo), float(hi)
        u = u[np.abs(u) <= 3.2]  # tanh(pi/2 sinh(u)) rounds to 1 beyond
        s, ds = np.pi / 2 * np.sinh(u), np.pi / 2 * np.cosh(u)
        return (a + b) / 2 + (b - a) / 2 * np.tanh(s), (b - a) / 2 * ds / np.cosh(s) ** 2, step
    return None


def kl(p: Distribution, q: Distribution) -> Derivation:
    """Derive KL(p || q) for two distributions of the same family.

    Continuous pairs: Normal, Exponential; discrete pairs: Bernoulli, Categorical.

    >>> from symml.prob import Normal
    >>> kl(Normal("m1", "s1"), Normal("m2", "s2")).result
    log(s2/s1) - 1/2 + (s1**2 + (m1 - m2)**2)/(2*s2**2)
    """
    if not isinstance(p, Distribution) or not isinstance(q, Distribution):
        raise ArgumentError("kl: give two distributions from symml.prob, e.g. Normal(0, 1)")
    if type(p) is not type(q):
        raise ArgumentError(f"kl: derivations are for two of the same family, got {p!r}, {q!r}")
    if type(p) in _SUPPORT:
        return _kl_continuous(p, q)
    if isinstance(p, (Bernoulli, Categorical)):
        return _kl_discrete(p, q)
    raise DerivationError(f"kl: no derivation for the {p.name} family yet (see symml.info.kl)")


def _kl_continuous(p, q) -> Derivation:
    x = sympy.Symbol("x", real=True)
    lo, hi = _SUPPORT[type(p)]
    fp, fq = p._density(x), q._density(x)
    m = p.mean
    problem = sympy.Integral(fp * sympy.log(fp / fq), (x, lo, hi))
    logp = sympy.expand_log(sympy.log(fp), force=True)
    logq = sympy.expand_log(sympy.log(fq), force=True)
    u = sympy.Dummy("u")
    poly = sympy.Poly(sympy.expand((logp - logq).subs(x, u + m)), u)
    if poly.degree() > 2:
        raise DerivationError("kl: the log ratio is not a quadratic in x")
    coeffs = {k: sympy.factor(poly.coeff_monomial(u**k)) for k in range(1, poly.degree() + 1)}
    coeffs[0] = sympy.logcombine((logp - logq).subs(x, m), force=True)
    coeffs = dict(sorted(coeffs.items()))
    ratio = sum((c * (x - m) ** k for k, c in coeffs.items()), sympy.Integer(0))
    steps = [Step(
        "log ratio", sympy.log(fp / fq), ratio,
        explain("Expand the log ratio {r} and write it in powers of {u}, the deviation from "
                "the mean of p.", r=sympy.log(sympy.Symbol("p")/sympy.Symbol("q")), u=x - m),
        detail="brief",
    )]  # fmt: skip
    moments, subs = {}, []
    rep, back = _positive_version(p)
    qrep, qback = _positive_version(q)
    rep.update(qrep)
    back.update(qback)
    for k in coeffs:
        integral = sympy.Integral((x - m) ** k * fp, (x, lo, hi))
        with time_limit(None, "the moment integral"):
            val = sympy.integrate(((x - m) ** k * fp).xreplace(rep), (x, lo, hi))
        val = sympy.simplify(val).xreplace(back)
        if val.has(sympy.Integral, sympy.Piecewise):
            raise DerivationError(f"kl: could not integrate {integral}")
        moments[k] = val
        what = {0: "the density integrates to one", 1: "the deviation from the mean averages "
                "to zero", 2: "the mean squared deviation is the variance"}[k]  # fmt: skip
        subs.append(Step(
            "moment", integral, val,
            explain(f"Under p, {what}: {{e}}.", e=sympy.Eq(integral, val, evaluate=False)),
            check=_numeric_check(k),
        ))  # fmt: skip
    lin = sum((c * moments[k] for k, c in coeffs.items()), sympy.Integer(0))
    form = sum((c * sympy.Integral((x - m) ** k * fp, (x, lo, hi)) for k, c in coeffs.items()),
               sympy.Integer(0))  # fmt: skip
    steps.append(Step(
        "linearity of expectation", sympy.Integral(fp * ratio, (x, lo, hi)), lin,
        "The expectation of a sum is the sum of expectations: each power of the deviation "
        "contributes its coefficient times a moment of p.",
        substeps=subs, form=form, check=_numeric_check(3), detail="brief",
    ))  # fmt: skip
    scale = 1 / (2 * q.var)
    rest = sympy.expand(sum((c * moments[k] for k, c in coeffs.items() if k), sympy.Integer(0)))
    final = sympy.collect(coeffs[0] * moments[0] + rest, scale)
    steps.append(Step(
        "simplify", lin, final, "Collect the terms.", check=_numeric_check(4),
    ))  # fmt: skip
    return Derivation(
        f"KL divergence KL({p!r} || {q!r})", "kl", problem, steps, final,
        result_check=lambda d: _numeric_check(5)(Step("kl", problem, d.result, "")),
    )  # fmt: skip


def _kl_discrete(p, q) -> Derivation:
    if isinstance(p, Categorical) and len(p.probs) != len(q.probs):
        raise ArgumentError("kl: the two categorical distributions have different sizes")
    k = sympy.Symbol("k", integer=True)
    size = 2 if isinstance(p, Bernoulli) else len(p.probs)
    if isinstance(p, Bernoulli):
        term = p._density(k) * sympy.log(p._density(k) / q._density(k))
        problem = sympy.Sum(term, (k, 0, 1))
        pk = [1 - p.params["p"], p.params["p"]]
        qk = [1 - q.params["p"], q.params["p"]]
    else:
        pk, qk = p.probs, q.probs
        problem = sympy.Add(*[sympy.Mul(a, sympy.log(a / b), evaluate=False)
                              for a, b in zip(pk, qk, strict=True)], evaluate=False)  # fmt: skip
    terms = [a * sympy.log(a / b) for a, b in zip(pk, qk, strict=True) if a != 0]
    total = sympy.Add(*terms)
    steps = [Step(
        "sum over the support", problem, total,
        explain("Sum p(k) log(p(k)/q(k)) over the {m} values k = 0..{last}; outcomes that p "
                "gives probability zero contribute nothing.", m=size, last=size - 1),
        check=_numeric_check(0), detail="brief",
    )]  # fmt: skip
    return Derivation(
        f"KL divergence KL({p!r} || {q!r})", "kl", problem, steps, total,
        result_check=lambda d: _numeric_check(1)(Step("kl", problem, d.result, "")),
    )  # fmt: skip


def cross_entropy(model: str = "Bernoulli", labels: str = "y", classes: int = 3) -> Derivation:
    """Show that the cross-entropy of the data's empirical distribution and a model is the
    model's average negative log-likelihood.

    ``model`` is ``"Bernoulli"`` (labels 0/1, probability ``q``) or ``"Categorical"``
    (one-hot labels ``y[i, c]`` over ``classes`` classes, probabilities ``q[c]``).

    >>> d = cross_entropy("Bernoulli")
    >>> d.verify()
    True
    """
    if model not in ("Bernoulli", "Categorical"):
        raise ArgumentError(
            f"cross_entropy: model must be 'Bernoulli' or 'Categorical', not {model!r}"
        )
    n = sympy.Symbol("n", integer=True, positive=True)
    i = sympy.Symbol("i", integer=True, positive=True)
    y = sympy.IndexedBase(labels, real=True)
    if model == "Bernoulli":
        q = sympy.Symbol("q", positive=True)
        ybar = sympy.Sum(y[i], (i, 1, n)) / n
        h = -(ybar * sympy.log(q) + (1 - ybar) * sympy.log(1 - q))
        nll = -sympy.Sum(y[i] * sympy.log(q) + (1 - y[i]) * sympy.log(1 - q), (i, 1, n))
        emp = [1 - ybar, ybar]
        qs = [1 - q, q]
    else:
        c = sympy.IndexedBase("q", positive=True)
        qs = [c[j] for j in range(classes)]
        emp = [sympy.Sum(y[i, j], (i, 1, n)) / n for j in range(classes)]
        h = -sum(e * sympy.log(qq) for e, qq in zip(emp, qs, strict=True))
        nll = -sympy.Sum(sum(y[i, j] * sympy.log(qs[j]) for j in range(classes)), (i, 1, n))
    defn = -sum(e * sympy.log(qq) for e, qq in zip(emp, qs, strict=True))
    steps = [
        Step("empirical distribution", sympy.Symbol("p_hat"), sympy.Tuple(*emp),
             explain("The data put probability {p} on each class: the fraction of labels "
                     "in it.", p=sympy.Tuple(*emp)), check=False),
        Step("definition", sympy.Function("H")(sympy.Symbol("p_hat"), sympy.Symbol("q")), h,
             "Cross-entropy is minus the sum over the classes of p(k) log q(k); put in the "
             "empirical p.", check=False),
        Step("pull the sum out", h, nll / n,
             "Each class's fraction is a sum over the observations divided by n; swap the "
             "two sums. The inner sum is the log-likelihood of one observation.",
             check=_sum_check(y, n, model, classes), detail="brief"),
    ]
    return Derivation(
        f"Cross-entropy of the data and a {model} model is its average negative log-likelihood",
        "cross_entropy", defn, steps, nll / n,
        result_check=lambda d: _sum_check(y, n, model, classes)(Step("r", defn, d.result, "")),
    )  # fmt: skip


def _sum_check(y, n, model, classes):
    """Both sides on random labelled data of 6 observations at random probabilities: the sums
    over the observations unrolled by the verifier's evaluator (data read as ``y[k]``),
    independent of SymPy's summation."""
    from .check import _free, _numeric

    def check(step) -> bool:
        rng = random.Random(0)
        size = 6
        before, after = _to_sympy(step.before), _to_sympy(step.after)
        probs = sorted({s for e in (before, after) for s in _free(e)} - {n}, key=str)
        probs += sorted({a for e in (before, after) for a in e.atoms(sympy.Indexed)
                         if a.base != y}, key=str)  # fmt: skip
        for _ in range(3):
            point = {n: size}
            for k in range(1, size + 1):
                if model == "Bernoulli":
                    point[(y, (k,))] = rng.randint(0, 1)
                else:
                    hot = rng.randrange(classes)
                    point.update({(y, (k, j)): int(j == hot) for j in range(classes)})
            for p in probs:
                v = sympy.Rational(rng.randint(10, 40), 100)
                point[(p.base, tuple(p.indices)) if isinstance(p, sympy.Indexed) else p] = v
            a, b = _numeric(before, point, 20), _numeric(after, point, 20)
            if a is None or b is None or abs(a - b) > 1e-12 * max(1, abs(a)):
                return False
        return True

    return check
