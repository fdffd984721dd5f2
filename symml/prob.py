"""Probability distributions with symbolic or numeric parameters, and Bayes' theorem.

Each distribution gives its density (``pdf``/``pmf``), ``logpdf``, ``cdf`` (closed form
where one exists), ``mean``, ``var``, ``entropy`` and ``sample(n, seed=)``. Parameters may
be numbers, SymPy objects or language text (``"mu"``); parameters outside the support are
an :class:`~symml.errors.ArgumentError`.

>>> from symml.prob import Normal, Bernoulli
>>> Normal("mu", "sigma").mean, Normal("mu", "sigma").var
(mu, sigma**2)
>>> Bernoulli(0.25).var
0.187500000000000
>>> Normal(0, -1)
Traceback (most recent call last):
...
symml.errors.ArgumentError: Normal: sigma must be > 0, got -1
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import sympy

from ._convert import as_expr
from ._convert import to_sympy as _to_sympy
from .errors import ArgumentError, DataError, DerivationError

__all__ = [
    "Distribution",
    "Normal",
    "Bernoulli",
    "Binomial",
    "Poisson",
    "Exponential",
    "Uniform",
    "Beta",
    "Gamma",
    "Categorical",
    "bayes",
    "bayes_density",
    "conjugate_update",
]


def _param(value, dist: str, name: str, rule: str):
    """Convert one parameter and check it against ``rule`` ('real', '>0', '[0,1]', 'int>=0')."""
    e = as_expr(value) if not isinstance(value, sympy.Basic) else value
    if not isinstance(e, sympy.Expr) or isinstance(e, sympy.MatrixBase):
        raise ArgumentError(f"{dist}: {name} must be a scalar, got {value!r}")
    if e.is_real is False:
        raise ArgumentError(f"{dist}: {name} must be real, got {value!r}")
    bad = {
        ">0": lambda v: v.is_positive is False,
        "[0,1]": lambda v: (v < 0) == sympy.true or (v > 1) == sympy.true,
        "int>=0": lambda v: v.is_negative is True or v.is_integer is False,
    }.get(rule)
    what = {">0": "> 0", "[0,1]": "in [0, 1]", "int>=0": "a whole number >= 0"}.get(rule)
    if bad is not None and (e.is_number or e.free_symbols) and bad(e):
        raise ArgumentError(f"{dist}: {name} must be {what}, got {value!r}")
    return e


def _num(e) -> float:
    return float(sympy.N(e))


class Distribution:
    """Base class: ``params`` maps parameter names to SymPy values.

    Subclasses define ``_density(x)`` (on the support), ``_support(x)`` (a condition),
    ``mean``, ``var``, ``entropy``, ``_cdf(x)`` and ``_scipy()``.
    """

    discrete = False
    name = "Distribution"

    @property
    def support(self) -> tuple:
        """The interval ``(lower, upper)`` outside which the density is zero."""
        return (-sympy.oo, sympy.oo)

    def __init__(self, **params):
        self.params: dict[str, sympy.Expr] = params

    # -- representation ----------------------------------------------------------------------
    def __repr__(self) -> str:
        args = ", ".join(str(v) for v in self.params.values())
        return f"{self.name}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.params == other.params

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.params.items())))

    @property
    def is_numeric(self) -> bool:
        """True when every parameter is a number."""
        return not self.free_symbols

    @property
    def free_symbols(self) -> set:
        out: set = set()
        for v in self.params.values():
            out |= _to_sympy(v).free_symbols
        return out

    # -- densities ---------------------------------------------------------------------------
    def _arg(self, x):
        if isinstance(x, (np.ndarray, list, tuple)):
            return np.asarray(x, dtype=float)
        if isinstance(x, sympy.Basic):
            return x
        if isinstance(x, bool):
            raise ArgumentError(f"expected a value, got {x!r}")
        if isinstance(x, numbers.Integral):
            return sympy.Integer(int(x))
        return as_expr(x)

    def _apply(self, fn, x):
        x = self._arg(x)
        if isinstance(x, np.ndarray):
            t = sympy.Dummy("t", real=True)
            f = sympy.lambdify(t, fn(t), modules=["scipy", "numpy"])
            out = np.asarray(f(x), dtype=float)
            return np.broadcast_to(out, x.shape).copy() if out.shape != x.shape else out
        return fn(x)

    def density(self, x: sympy.Expr) -> sympy.Expr:
        """The density (or mass) as a Piecewise in ``x``: zero outside the support."""
        cond = self._support(x)
        if cond is sympy.true:
            return self._density(x)
        return sympy.Piecewise((self._density(x), cond), (0, True))

    def pdf(self, x: Any):
        """Density at ``x`` (a number, symbol, text or an array for vectorized values).

        >>> import symml as sm
        >>> sm.prob.Exponential(2).pdf(0)
        2
        """
        return self._apply(self.density, x)

    pmf = pdf

    def logpdf(self, x: Any):
        """Log-density at ``x`` (on the support; ``-oo`` outside it for numeric ``x``).

        >>> import symml as sm
        >>> sm.prob.Normal(0, 1).logpdf("x")
        -x**2/2 - log(pi)/2 - log(2)/2
        """

        def f(t):
            body = sympy.expand_log(sympy.log(self._density(t)), force=True)
            cond = self._support(t)
            if cond is sympy.true:
                return body
            return sympy.Piecewise((body, cond), (-sympy.oo, True))

        return self._apply(f, x)

    def cdf(self, x: Any):
        """Cumulative distribution function P(X <= x), in closed form where one exists.

        >>> import symml as sm
        >>> sm.prob.Exponential("lambda").cdf("x")
        Piecewise((1 - exp(-lambda*x), x >= 0), (0, True))
        """
        return self._apply(self._cdf, x)

    # -- sampling ----------------------------------------------------------------------------
    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` independent draws (needs numeric parameters); ``seed`` makes them repeatable.

        >>> import symml as sm
        >>> sm.prob.Bernoulli(0.5).sample(4, seed=1).shape
        (4,)
        """
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
            raise ArgumentError(f"sample: n must be a whole number >= 0, got {n!r}")
        if not self.is_numeric:
            raise ArgumentError(
                f"cannot sample {self!r}: its parameters are symbolic; give numbers"
            )
        rng = np.random.default_rng(seed)
        return self._sample(rng, int(n))

    def _scipy(self):  # pragma: no cover - overridden
        raise NotImplementedError


def _closed(e):
    return sympy.piecewise_fold(e)


class Normal(Distribution):
    """Normal distribution with mean ``mu`` and standard deviation ``sigma > 0``.

    >>> Normal(0, 1).cdf(0)
    1/2
    >>> Normal("mu", "sigma").entropy
    log(2*E*pi*sigma**2)/2
    """

    name = "Normal"

    def __init__(self, mu, sigma):
        super().__init__(
            mu=_param(mu, "Normal", "mu", "real"), sigma=_param(sigma, "Normal", "sigma", ">0")
        )

    def _support(self, x):
        return sympy.true

    def _density(self, x):
        mu, s = self.params["mu"], self.params["sigma"]
        return sympy.exp(-((x - mu) ** 2) / (2 * s**2)) / (sympy.sqrt(2 * sympy.pi) * s)

    def _cdf(self, x):
        mu, s = self.params["mu"], self.params["sigma"]
        return (1 + sympy.erf((x - mu) / (s * sympy.sqrt(2)))) / 2

    @property
    def mean(self):
        return self.params["mu"]

    @property
    def var(self):
        return self.params["sigma"] ** 2

    @property
    def entropy(self):
        s = self.params["sigma"]
        return sympy.log(2 * sympy.pi * sympy.E * s**2) / 2

    def _sample(self, rng, n):
        return rng.normal(_num(self.params["mu"]), _num(self.params["sigma"]), n)

    def _scipy(self):
        from scipy import stats

        return stats.norm(_num(self.params["mu"]), _num(self.params["sigma"]))


class Bernoulli(Distribution):
    """Bernoulli distribution: 1 with probability ``p``, else 0.

    >>> Bernoulli("p").pmf(1), Bernoulli("p").pmf(0)
    (p, 1 - p)
    """

    name = "Bernoulli"
    discrete = True

    def __init__(self, p):
        super().__init__(p=_param(p, "Bernoulli", "p", "[0,1]"))

    def _support(self, x):
        if x.is_number:
            return sympy.true if x in (0, 1) else sympy.false
        return sympy.true

    def _density(self, x):
        p = self.params["p"]
        return p**x * (1 - p) ** (1 - x)

    def _cdf(self, x):
        p = self.params["p"]
        return sympy.Piecewise((0, x < 0), (1 - p, x < 1), (1, True))

    @property
    def mean(self):
        return self.params["p"]

    @property
    def var(self):
        p = self.params["p"]
        return p * (1 - p)

    @property
    def entropy(self):
        p = self.params["p"]
        return -p * sympy.log(p) - (1 - p) * sympy.log(1 - p)

    def _sample(self, rng, n):
        return (rng.random(n) < _num(self.params["p"])).astype(float)

    def _scipy(self):
        from scipy import stats

        return stats.bernoulli(_num(self.params["p"]))


def _whole(x):
    return x.is_number and x.is_integer and x >= 0


class Binomial(Distribution):
    """Number of successes in ``n`` independent trials of probability ``p``.

    >>> Binomial(4, "p").mean, Binomial(4, "p").pmf(2)
    (4*p, 6*p**2*(1 - p)**2)
    """

    name = "Binomial"
    discrete = True

    def __init__(self, n, p):
        super().__init__(
            n=_param(n, "Binomial", "n", "int>=0"), p=_param(p, "Binomial", "p", "[0,1]")
        )

    def _support(self, x):
        if x.is_number:
            n = self.params["n"]
            ok = _whole(x) and (not n.is_number or x <= n)
            return sympy.true if ok else sympy.false
        return sympy.true

    def _density(self, x):
        n, p = self.params["n"], self.params["p"]
        return sympy.binomial(n, x) * p**x * (1 - p) ** (n - x)

    def _cdf(self, x):
        j = sympy.Dummy("j", integer=True)
        s = sympy.Sum(self._density(j), (j, 0, sympy.floor(x)))
        return s.doit() if (x.is_number and self.params["n"].is_number) else s

    @property
    def mean(self):
        return self.params["n"] * self.params["p"]

    @property
    def var(self):
        p = self.params["p"]
        return self.params["n"] * p * (1 - p)

    @property
    def entropy(self):
        """No closed form: a finite sum, evaluated when ``n`` is a number."""
        n = self.params["n"]
        j = sympy.Dummy("j", integer=True)
        f = self._density(j)
        s = sympy.Sum(-f * sympy.log(f), (j, 0, n))
        return s.doit() if n.is_number else s

    def _sample(self, rng, n):
        return rng.binomial(int(self.params["n"]), _num(self.params["p"]), n).astype(float)

    def _scipy(self):
        from scipy import stats

        return stats.binom(int(self.params["n"]), _num(self.params["p"]))


class Poisson(Distribution):
    """Poisson distribution with ``rate > 0``.

    >>> Poisson("lambda").pmf("k")
    lambda**k*exp(-lambda)/factorial(k)
    """

    name = "Poisson"
    discrete = True

    def __init__(self, rate):
        super().__init__(rate=_param(rate, "Poisson", "rate", ">0"))

    def _support(self, x):
        if x.is_number:
            return sympy.true if _whole(x) else sympy.false
        return sympy.true

    def _density(self, x):
        lam = self.params["rate"]
        return lam**x * sympy.exp(-lam) / sympy.factorial(x)

    def _cdf(self, x):
        lam = self.params["rate"]
        k = sympy.floor(x)
        return sympy.Piecewise(
            (sympy.uppergamma(k + 1, lam) / sympy.factorial(k), sympy.Ge(x, 0)), (0, True)
        )

    @property
    def mean(self):
        return self.params["rate"]

    @property
    def var(self):
        return self.params["rate"]

    @property
    def entropy(self):
        """No closed form: an infinite series (summed numerically for a numeric rate)."""
        lam = self.params["rate"]
        if lam.is_number:
            from scipy import special

            r = _num(lam)
            k = np.arange(0, int(r + 40 * np.sqrt(r) + 60))
            logf = k * np.log(r) - r - special.gammaln(k + 1)
            return sympy.Float(float(-np.sum(np.exp(logf) * logf)))
        j = sympy.Dummy("j", integer=True)
        f = self._density(j)
        return sympy.Sum(-f * sympy.log(f), (j, 0, sympy.oo))

    def _sample(self, rng, n):
        return rng.poisson(_num(self.params["rate"]), n).astype(float)

    def _scipy(self):
        from scipy import stats

        return stats.poisson(_num(self.params["rate"]))


class Exponential(Distribution):
    """Exponential distribution with ``rate > 0`` (mean ``1/rate``).

    >>> Exponential("lambda").mean, Exponential("lambda").entropy
    (1/lambda, 1 - log(lambda))
    """

    name = "Exponential"

    @property
    def support(self) -> tuple:
        return (sympy.Integer(0), sympy.oo)

    def __init__(self, rate):
        super().__init__(rate=_param(rate, "Exponential", "rate", ">0"))

    def _support(self, x):
        return sympy.true if (x.is_number and x >= 0) else sympy.Ge(x, 0)

    def _density(self, x):
        lam = self.params["rate"]
        return lam * sympy.exp(-lam * x)

    def _cdf(self, x):
        lam = self.params["rate"]
        return _closed(sympy.Piecewise((1 - sympy.exp(-lam * x), sympy.Ge(x, 0)), (0, True)))

    @property
    def mean(self):
        return 1 / self.params["rate"]

    @property
    def var(self):
        return 1 / self.params["rate"] ** 2

    @property
    def entropy(self):
        return 1 - sympy.log(self.params["rate"])

    def _sample(self, rng, n):
        return rng.exponential(1 / _num(self.params["rate"]), n)

    def _scipy(self):
        from scipy import stats

        return stats.expon(scale=1 / _num(self.params["rate"]))


class Uniform(Distribution):
    """Uniform distribution on ``[a, b]`` (``a < b``).

    >>> Uniform(0, 4).var, Uniform("a", "b").entropy
    (4/3, log(-a + b))
    """

    name = "Uniform"

    @property
    def support(self) -> tuple:
        return (self.params["a"], self.params["b"])

    def __init__(self, a, b):
        a, b = _param(a, "Uniform", "a", "real"), _param(b, "Uniform", "b", "real")
        if (b - a).is_positive is False:
            raise ArgumentError(f"Uniform: need a < b, got a={a}, b={b}")
        super().__init__(a=a, b=b)

    def _support(self, x):
        a, b = self.params["a"], self.params["b"]
        cond = sympy.And(sympy.Ge(x, a), sympy.Le(x, b))
        return cond

    def _density(self, x):
        return 1 / (self.params["b"] - self.params["a"])

    def _cdf(self, x):
        a, b = self.params["a"], self.params["b"]
        return sympy.Piecewise((0, x < a), ((x - a) / (b - a), x <= b), (1, True))

    @property
    def mean(self):
        return (self.params["a"] + self.params["b"]) / 2

    @property
    def var(self):
        return (self.params["b"] - self.params["a"]) ** 2 / 12

    @property
    def entropy(self):
        return sympy.log(self.params["b"] - self.params["a"])

    def _sample(self, rng, n):
        return rng.uniform(_num(self.params["a"]), _num(self.params["b"]), n)

    def _scipy(self):
        from scipy import stats

        a, b = _num(self.params["a"]), _num(self.params["b"])
        return stats.uniform(a, b - a)


class Beta(Distribution):
    """Beta distribution on ``[0, 1]`` with shapes ``a, b > 0``.

    >>> Beta("a", "b").mean
    a/(a + b)
    """

    name = "Beta"

    @property
    def support(self) -> tuple:
        return (sympy.Integer(0), sympy.Integer(1))

    def __init__(self, a, b):
        super().__init__(a=_param(a, "Beta", "a", ">0"), b=_param(b, "Beta", "b", ">0"))

    def _support(self, x):
        return sympy.And(sympy.Ge(x, 0), sympy.Le(x, 1))

    def _density(self, x):
        a, b = self.params["a"], self.params["b"]
        return x ** (a - 1) * (1 - x) ** (b - 1) / sympy.beta(a, b)

    def _cdf(self, x):
        a, b = self.params["a"], self.params["b"]
        return sympy.Piecewise(
            (0, x < 0), (sympy.betainc_regularized(a, b, 0, x), x <= 1), (1, True)
        )

    @property
    def mean(self):
        a, b = self.params["a"], self.params["b"]
        return a / (a + b)

    @property
    def var(self):
        a, b = self.params["a"], self.params["b"]
        return a * b / ((a + b) ** 2 * (a + b + 1))

    @property
    def entropy(self):
        a, b = self.params["a"], self.params["b"]
        psi = sympy.digamma
        return (
            sympy.log(sympy.beta(a, b)) - (a - 1) * psi(a) - (b - 1) * psi(b)
            + (a + b - 2) * psi(a + b)
        )  # fmt: skip

    def _sample(self, rng, n):
        return rng.beta(_num(self.params["a"]), _num(self.params["b"]), n)

    def _scipy(self):
        from scipy import stats

        return stats.beta(_num(self.params["a"]), _num(self.params["b"]))


class Gamma(Distribution):
    """Gamma distribution with shape ``k > 0`` and scale ``theta > 0`` (mean ``k*theta``).

    >>> Gamma("k", "theta").var
    k*theta**2
    """

    name = "Gamma"

    @property
    def support(self) -> tuple:
        return (sympy.Integer(0), sympy.oo)

    def __init__(self, k, theta):
        super().__init__(
            k=_param(k, "Gamma", "k", ">0"), theta=_param(theta, "Gamma", "theta", ">0")
        )

    def _support(self, x):
        return sympy.true if (x.is_number and x > 0) else sympy.Gt(x, 0)

    def _density(self, x):
        k, t = self.params["k"], self.params["theta"]
        return x ** (k - 1) * sympy.exp(-x / t) / (sympy.gamma(k) * t**k)

    def _cdf(self, x):
        k, t = self.params["k"], self.params["theta"]
        return sympy.Piecewise(
            (sympy.lowergamma(k, x / t) / sympy.gamma(k), sympy.Gt(x, 0)), (0, True)
        )

    @property
    def mean(self):
        return self.params["k"] * self.params["theta"]

    @property
    def var(self):
        return self.params["k"] * self.params["theta"] ** 2

    @property
    def entropy(self):
        k, t = self.params["k"], self.params["theta"]
        return k + sympy.log(t) + sympy.loggamma(k) + (1 - k) * sympy.digamma(k)

    def _sample(self, rng, n):
        return rng.gamma(_num(self.params["k"]), _num(self.params["theta"]), n)

    def _scipy(self):
        from scipy import stats

        return stats.gamma(_num(self.params["k"]), scale=_num(self.params["theta"]))


class Categorical(Distribution):
    """Distribution on ``0, 1, ..., K-1`` with probabilities ``probs`` (summing to 1).

    >>> c = Categorical([0.5, 0.25, 0.25])
    >>> c.pmf(1), c.mean
    (0.250000000000000, 0.750000000000000)
    """

    name = "Categorical"
    discrete = True

    def __init__(self, probs):
        if isinstance(probs, str):
            probs = as_expr(probs)
        if isinstance(probs, np.ndarray):
            probs = probs.tolist()
        items = list(probs) if not isinstance(probs, sympy.Basic) or isinstance(
            probs, sympy.MatrixBase) else None  # fmt: skip
        if not items:
            raise ArgumentError(f"Categorical: probs must be a non-empty list, got {probs!r}")
        ps = [_param(p, "Categorical", f"probs[{i}]", "[0,1]") for i, p in enumerate(items)]
        total = sympy.nsimplify(sum(ps)) if all(p.is_number for p in ps) else None
        if total is not None and abs(_num(total) - 1) > 1e-9:
            raise ArgumentError(f"Categorical: probs must sum to 1, they sum to {_num(total):g}")
        super().__init__(probs=sympy.Tuple(*ps))
        self.probs = ps

    def __repr__(self) -> str:
        return f"Categorical([{', '.join(map(str, self.probs))}])"

    def _support(self, x):
        if x.is_number:
            return sympy.true if (_whole(x) and x < len(self.probs)) else sympy.false
        return sympy.true

    def _density(self, x):
        if x.is_number:
            return self.probs[int(x)] if _whole(x) and x < len(self.probs) else sympy.Integer(0)
        return sympy.Piecewise(*[(p, sympy.Eq(x, i)) for i, p in enumerate(self.probs)], (0, True))

    def _cdf(self, x):
        pieces = [(sympy.Integer(0), x < 0)]
        acc = sympy.Integer(0)
        for i, p in enumerate(self.probs):
            acc = acc + p
            pieces.append((acc, x < i + 1))
        pieces[-1] = (acc, True)
        return sympy.Piecewise(*pieces)

    @property
    def mean(self):
        return sum((i * p for i, p in enumerate(self.probs)), sympy.Integer(0))

    @property
    def var(self):
        m = self.mean
        return sum(((i - m) ** 2 * p for i, p in enumerate(self.probs)), sympy.Integer(0))

    @property
    def entropy(self):
        return -sum((p * sympy.log(p) for p in self.probs if p != 0), sympy.Integer(0))

    def _sample(self, rng, n):
        p = np.array([_num(q) for q in self.probs])
        return rng.choice(len(p), size=n, p=p / p.sum()).astype(float)


# -- Bayes' theorem ---------------------------------------------------------------------------
def bayes(prior, likelihood, likelihood_not=None, evidence=None) -> sympy.Expr:
    """Bayes' theorem on events: ``P(A|B) = P(B|A) P(A) / P(B)``.

    ``P(B)`` is ``evidence`` if given, else ``P(B|A) P(A) + P(B|not A) (1 - P(A))`` from
    ``likelihood_not``.

    >>> bayes(0.01, 0.9, 0.05)   # a test with 90% sensitivity and 5% false positives
    0.153846153846154
    >>> bayes("a", "b", "c")
    a*b/(a*b + c*(1 - a))
    """
    pa = _param(prior, "bayes", "prior", "[0,1]")
    pba = _param(likelihood, "bayes", "likelihood", "[0,1]")
    if evidence is None:
        if likelihood_not is None:
            raise ArgumentError("bayes: give likelihood_not = P(B|not A) or evidence = P(B)")
        pbn = _param(likelihood_not, "bayes", "likelihood_not", "[0,1]")
        pb = pba * pa + pbn * (1 - pa)
    else:
        pb = _param(evidence, "bayes", "evidence", "[0,1]")
    if pb == 0:
        raise ArgumentError("bayes: P(B) is 0, so P(A|B) is undefined")
    return pba * pa / pb


def bayes_density(prior, likelihood, theta, domain=None) -> sympy.Expr:
    """Posterior density ``p(theta|data) = L(theta) p(theta) / integral of L p`` (closed form).

    >>> bayes_density("1", "theta^3*(1 - theta)", "theta", (0, 1))
    20*theta**3*(1 - theta)
    """
    from ._limits import time_limit

    t = as_expr(theta)
    prior_e, lik = as_expr(prior), as_expr(likelihood)
    lo, hi = (-sympy.oo, sympy.oo) if domain is None else (as_expr(domain[0]), as_expr(domain[1]))
    with time_limit(None, "the normalizing integral"):
        z = sympy.simplify(sympy.integrate(lik * prior_e, (t, lo, hi)))
    if z.has(sympy.Integral) or z == 0 or z.has(sympy.oo, sympy.zoo, sympy.nan):
        raise DerivationError(f"the evidence integral of {lik * prior_e} has no usable closed form")
    return lik * prior_e / z


def conjugate_update(prior: Distribution, likelihood: str, data, **known) -> Distribution:
    """The posterior of a conjugate prior after observing ``data``.

    ``likelihood`` is ``"Binomial"`` (prior Beta; data = counts with ``trials=``, or a 0/1
    sample for ``"Bernoulli"``), ``"Poisson"`` (prior Gamma) or ``"Normal"`` (prior Normal,
    known ``sigma=``). See :func:`symml.steps.conjugate` for the derivation.

    >>> conjugate_update(Beta(2, 2), "Bernoulli", [1, 0, 1, 1])
    Beta(5, 3)
    """
    from .steps.bayes import conjugate

    return conjugate(prior, likelihood, data, **known).posterior


def _data(data, name: str) -> list:
    arr = np.asarray(data, dtype=float).ravel()
    if arr.size == 0:
        raise DataError(f"{name}: no observations")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name}: the data contain NaN or inf")
    return arr
