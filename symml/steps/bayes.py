"""Conjugate Bayesian updates derived step by step: ``symml.steps.conjugate(prior, lik, data)``.

The posterior is proportional to prior times likelihood; for a conjugate pair the product
has the prior's functional form, so reading off its parameters gives the posterior.
Covered: Beta prior with Bernoulli or Binomial data, Gamma prior (shape ``k``, scale
``theta``) with Poisson data, Normal prior on the mean of Normal data of known ``sigma``.

>>> from symml.prob import Beta
>>> d = conjugate(Beta(2, 2), "Bernoulli", [1, 0, 1, 1])
>>> d.posterior, d.result["mean"]
(Beta(5, 3), 5/8)
>>> d.verify()
True
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .._convert import as_expr
from ..errors import ArgumentError
from ..prob import Beta, Distribution, Gamma, Normal
from .check import _numeric, is_zero
from .model import Derivation, Step, explain

__all__ = ["conjugate", "ConjugateDerivation"]

_INF = float("inf")


@dataclass(repr=False)
class ConjugateDerivation(Derivation):
    """A :class:`Derivation` that also carries the posterior distribution."""

    posterior: Distribution | None = None


def _values(data) -> list:
    if isinstance(data, str):
        data = as_expr(data)
    if isinstance(data, sympy.MatrixBase):
        return list(data)
    try:
        items = [as_expr(v) if not isinstance(v, (int, float)) else sympy.nsimplify(v)
                 for v in data]  # fmt: skip
    except TypeError:
        raise ArgumentError(f"conjugate: data must be a list, got {data!r}") from None
    if not items:
        raise ArgumentError("conjugate: no observations")
    return items


def conjugate(prior: Distribution, likelihood: str, data, **known) -> ConjugateDerivation:
    """Derive the posterior of a conjugate prior after observing ``data``.

    Parameters
    ----------
    prior : Beta, Gamma or Normal
    likelihood : str
        ``"Bernoulli"`` or ``"Binomial"`` (with ``trials=``) for a Beta prior, ``"Poisson"``
        for a Gamma prior, ``"Normal"`` (with known ``sigma=``) for a Normal prior.
    data : list
        The observations (numbers or symbols).

    >>> from symml.prob import Gamma
    >>> conjugate(Gamma(2, 1), "Poisson", [3, 1, 4]).posterior
    Gamma(10, 1/4)
    """
    xs = _values(data)
    if isinstance(prior, Beta) and likelihood in ("Bernoulli", "Binomial"):
        trials = as_expr(known.get("trials", 1)) if likelihood == "Binomial" else 1
        if likelihood == "Binomial" and "trials" not in known:
            raise ArgumentError("conjugate: give trials= (the trials behind each count)")
        return _beta(prior, likelihood, xs, trials)
    if isinstance(prior, Gamma) and likelihood == "Poisson":
        return _gamma(prior, xs)
    if isinstance(prior, Normal) and likelihood == "Normal":
        if "sigma" not in known:
            raise ArgumentError("conjugate: give the known standard deviation, sigma=")
        return _normal(prior, xs, as_expr(known["sigma"]))
    raise ArgumentError(
        f"conjugate: no conjugate pair for prior {prior!r} and a {likelihood!r} likelihood; "
        "use Beta with Bernoulli/Binomial, Gamma with Poisson, or Normal with Normal"
    )


def _finish(title, prior, steps, post, params: dict, var, lik, support) -> ConjugateDerivation:
    result = dict(params)
    result["mean"] = post.mean
    return ConjugateDerivation(
        title, "conjugate", sympy.Tuple(*prior.params.values()), steps, result,
        result_check=lambda d: _bayes_check(d, prior, var, lik, support), posterior=post,
    )  # fmt: skip


def _bayes_check(d, prior, var, lik, support) -> bool:
    """Bayes' rule for the derivation's posterior: at random values of the symbols, the log of
    the posterior density minus the log of prior times likelihood is the same constant at
    every test value of the parameter (posterior = prior * likelihood / evidence), evaluated
    at 40 digits; and ``result`` holds the posterior's parameters and mean. The posterior's
    normalization is its family's (symml.prob); a quadrature of the evidence cost ten times
    the derivation and checked nothing more about the update."""
    import random

    post = d.posterior
    rng = random.Random(0)
    syms = sorted(prior.free_symbols | post.free_symbols | (lik.free_symbols - {var}), key=str)
    # the posterior's parameters as symbols, their values given at evaluation: SymPy would
    # otherwise take exact powers of rationals with large denominators (minutes)
    held = {sympy.Dummy(k, real=True) if k == "mu" else sympy.Dummy(k, positive=True): as_expr(v)
            for k, v in post.params.items()}  # fmt: skip
    generic = type(post)(*held)
    gap = sympy.log(generic.density(var)) - sympy.log(prior.density(var)) - sympy.log(lik)
    lo, hi = support
    ts = ([sympy.Rational(k, 20) for k in (3, 8, 13, 18)] if hi == 1 else
          [sympy.Rational(k, 10) for k in (3, 11, 25, 40)] if lo == 0 else
          [sympy.Rational(k, 10) for k in (-13, 2, 11, 24)])  # fmt: skip
    claimed = [(d.result[k], v) for k, v in post.params.items()] + [(d.result["mean"], post.mean)]
    for _ in range(2):
        vals = {s_: sympy.Rational(rng.randint(60, 180), 100) for s_ in syms}
        for a, b in claimed:
            u, w = _numeric(as_expr(a), vals, 30), _numeric(as_expr(b), vals, 30)
            if u is None or w is None or abs(u - w) > 1e-12 * max(1, abs(w)):
                return False
        at = {h: _numeric(v.xreplace(vals), {}, 30) for h, v in held.items()}
        if any(v is None for v in at.values()):
            return False
        consts = [_numeric(gap, {**vals, **at, var: t}, 30) for t in ts]
        if any(c is None for c in consts):
            return False
        if any(abs(c - consts[0]) > 1e-12 * max(1, abs(consts[0])) for c in consts):
            return False
    return True


def _beta(prior, likelihood, xs, m):
    t = sympy.Symbol("theta", positive=True)
    a, b = prior.params["a"], prior.params["b"]
    s = sympy.Add(*xs)
    f = len(xs) * m - s
    kprior = t ** (a - 1) * (1 - t) ** (b - 1)
    klik = sympy.Mul(*[t**x * (1 - t) ** (m - x) for x in xs])
    kpost = t ** (a + s - 1) * (1 - t) ** (b + f - 1)
    post = Beta(a + s, b + f)
    steps = [
        Step("prior", sympy.Function("p")(t), kprior / sympy.beta(a, b),
             explain("The prior density of the success probability {t}.", t=t), check=False),
        Step("likelihood", sympy.Function("L")(t), klik,
             explain("Each observation contributes {f}.", f=t**sympy.Symbol("x")
                     * (1 - t) ** (m - sympy.Symbol("x"))), check=False),
        Step("posterior kernel", kprior * klik, kpost,
             explain("Posterior is proportional to prior times likelihood; add the exponents: "
                     "{s} successes and {f} failures.", s=s, f=f), detail="brief"),
        Step("read off", sympy.Tuple(a + s - 1, b + f - 1), sympy.Tuple(*post.params.values()),
             "This is a Beta kernel: its parameters are the exponents plus one.",
             check=lambda st: all(is_zero(u + 1 - w) for u, w in
                                  zip(st.before, st.after, strict=True))),  # fmt: skip
        Step("posterior mean", sympy.Function("E")(t), post.mean,
             "The mean of a Beta(a, b) is a/(a + b).", check=False, detail="brief"),
    ]
    return _finish(f"Beta-{likelihood} update of {prior!r}", prior, steps, post,
                   {"a": post.params["a"], "b": post.params["b"]}, t, klik, (0, 1))


def _gamma(prior, xs):
    lam = sympy.Symbol("lambda", positive=True)
    k, th = prior.params["k"], prior.params["theta"]
    s, n = sympy.Add(*xs), len(xs)
    kprior = lam ** (k - 1) * sympy.exp(-lam / th)
    klik = sympy.Mul(*[lam**x * sympy.exp(-lam) for x in xs])
    kpost = lam ** (k + s - 1) * sympy.exp(-lam * (1 / th + n))
    post = Gamma(k + s, sympy.simplify(1 / (1 / th + n)))
    steps = [
        Step("prior", sympy.Function("p")(lam), prior._density(lam),
             explain("The Gamma prior density of the rate {l} (shape k, scale theta).", l=lam),
             check=False),
        Step("likelihood", sympy.Function("L")(lam), klik,
             "Each Poisson count x contributes lambda^x exp(-lambda) (the x! do not depend "
             "on lambda).", check=False),
        Step("posterior kernel", kprior * klik, kpost,
             explain("Multiply and collect: the exponent of {l} grows by the total count "
                     "{s}, the rate term by the number of observations {n}.", l=lam, s=s, n=n),
             detail="brief"),
        Step("read off", sympy.Tuple(k + s, 1 / (1 / th + n)), sympy.Tuple(*post.params.values()),
             "A Gamma kernel: shape = exponent + 1, scale = 1/(coefficient of lambda)."),
        Step("posterior mean", sympy.Function("E")(lam), post.mean,
             "The mean of a Gamma(k, theta) is k*theta.", check=False, detail="brief"),
    ]
    return _finish(f"Gamma-Poisson update of {prior!r}", prior, steps, post,
                   {"k": post.params["k"], "theta": post.params["theta"]}, lam, klik,
                   (0, _INF))


def _normal(prior, xs, sigma):
    mu = sympy.Symbol("mu", real=True)
    m0, s0 = prior.params["mu"], prior.params["sigma"]
    n, total = len(xs), sympy.Add(*xs)
    prec = 1 / s0**2 + n / sigma**2
    mn = (m0 / s0**2 + total / sigma**2) / prec
    sn = sympy.sqrt(1 / prec)
    logk = -((mu - m0) ** 2) / (2 * s0**2) - sum((x - mu) ** 2 for x in xs) / (2 * sigma**2)
    post = Normal(sympy.simplify(mn), sympy.simplify(sn))
    steps = [
        Step("log posterior", sympy.Function("log_p")(mu), logk,
             "Up to a constant, the log posterior is the log prior plus the log-likelihood: "
             "two quadratics in mu.", check=False),
        Step("complete the square", sympy.Derivative(logk, mu),
             sympy.Derivative(-((mu - mn) ** 2) / (2 * sn**2), mu),
             explain("A quadratic in {mu} with curvature {c} is a Normal kernel; its slope "
                     "matches that of the completed square, so they differ by a constant.",
                     mu=mu, c=-prec), detail="brief"),
        Step("posterior precision", 1 / sn**2, prec,
             "Precisions add: prior precision plus n over the noise variance."),
        Step("posterior mean", sympy.Function("E")(mu), mn,
             "The posterior mean is the precision-weighted average of the prior mean and the "
             "data.", check=False, detail="brief"),
    ]
    return _finish(f"Normal-Normal update of {prior!r} (known sigma = {sigma})", prior, steps,
                   post, {"mu": post.params["mu"], "sigma": post.params["sigma"]}, mu,
                   sympy.exp(logk + (mu - m0) ** 2 / (2 * s0**2)), (-_INF, _INF))
