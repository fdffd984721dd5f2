"""Maximum likelihood estimators derived step by step: ``symml.steps.mle(dist, sample)``.

The log-likelihood of ``n`` independent observations ``x[i]`` is written as a sum, split
into sums over the data, differentiated with respect to each parameter, the score
equations solved, and the second-order condition checked. Steps whose sides contain sums
over ``i = 1..n`` are checked at a concrete ``n`` on random data; the result is checked
against a numeric optimizer (SciPy) on random samples.

>>> from symml.steps import mle
>>> d = mle("Poisson", "x")
>>> d.result["lambda"]
Sum(x[i], (i, 1, n))/n
>>> d.verify()
True
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

from .._convert import to_sympy as _to_sympy
from .._diff import diff as _diff
from ..errors import ArgumentError, DerivationError
from .check import _numeric
from .model import Derivation, Step, explain

__all__ = ["mle", "FAMILIES"]

_n = sympy.Symbol("n", integer=True, positive=True)
_i = sympy.Symbol("i", integer=True, positive=True)
_j = sympy.Symbol("j", integer=True, positive=True)
#: Trials per observation of a Binomial sample.
_m = sympy.Symbol("m", integer=True, positive=True)
_N_CHECK = 7
#: The sample mean, an abbreviation in the steps of multi-parameter families.
_xbar = sympy.Symbol("xbar", real=True)


@dataclass(frozen=True)
class _Family:
    params: tuple  # (name, Symbol, test value)
    logf: Callable  # (x, *params) -> log density of one observation
    data: Callable  # rng -> concrete sample of size _N_CHECK
    note: str = ""


def _sym(name, **kw):
    return sympy.Symbol(name, real=True, **kw)


_mu, _v = _sym("mu"), _sym("sigma2", positive=True)
_p, _lam = _sym("p", positive=True), _sym("lambda", positive=True)


def _bern_data(rng):
    d = [int(rng.random() < 0.4) for _ in range(_N_CHECK)]
    d[0], d[1] = 0, 1
    return d


FAMILIES = {
    "Normal": _Family(
        (("mu", _mu, sympy.Rational(3, 10)), ("sigma2", _v, sympy.Rational(7, 10))),
        lambda x, mu, v: -sympy.log(2 * sympy.pi) / 2 - sympy.log(v) / 2 - (x - mu) ** 2 / (2 * v),
        lambda rng: [sympy.Rational(rng.randint(-900, 900), 300) for _ in range(_N_CHECK)],
        "sigma2 is the variance; sigma = sqrt(sigma2)",
    ),
    "Bernoulli": _Family(
        (("p", _p, sympy.Rational(7, 20)),),
        lambda x, p: x * sympy.log(p) + (1 - x) * sympy.log(1 - p),
        _bern_data,
    ),
    "Binomial": _Family(
        (("p", _p, sympy.Rational(7, 20)),),
        lambda x, p: sympy.log(sympy.binomial(_m, x)) + x * sympy.log(p)
        + (_m - x) * sympy.log(1 - p),
        lambda rng: [1, 4] + [rng.randint(0, 5) for _ in range(_N_CHECK - 2)],
        "each observation counts the successes in m trials",
    ),
    "Poisson": _Family(
        (("lambda", _lam, sympy.Rational(13, 10)),),
        lambda x, lam: x * sympy.log(lam) - lam - sympy.log(sympy.factorial(x)),
        lambda rng: [2] + [rng.randint(0, 6) for _ in range(_N_CHECK - 1)],
    ),
    "Exponential": _Family(
        (("lambda", _lam, sympy.Rational(13, 10)),),
        lambda x, lam: sympy.log(lam) - lam * x,
        lambda rng: [sympy.Rational(rng.randint(1, 900), 300) for _ in range(_N_CHECK)],
    ),
}
_CONCRETE = {_m: 5}


# -- sums over the sample -------------------------------------------------------------------
def _split(summand, i=_i):
    """Sum over i=1..n of ``summand`` as constants times n plus constants times sums."""
    expr = sympy.expand(summand, multinomial=False, power_exp=False, power_base=False, log=False)
    out = sympy.Integer(0)
    for term in sympy.Add.make_args(expr):
        c, dep = term.as_independent(i, as_Add=False)
        out += _n * c if dep == 1 else c * sympy.Sum(dep, (i, 1, _n))
    return out


def _resplit(expr):
    return expr.replace(
        lambda e: isinstance(e, sympy.Sum) and e.limits[0][0] == _i, lambda e: _split(e.function)
    )


def _reindex(expr):
    """The same expression with its sums written over j (to nest inside a sum over i)."""
    return expr.replace(
        lambda e: isinstance(e, sympy.Sum) and e.limits[0][0] == _i,
        lambda e: sympy.Sum(e.function.xreplace({_i: _j}), (_j, 1, _n)),
    )


def _canon(expr):
    """Write (a - b)^2 with the sign that sorts first, so equal sums look equal."""
    return expr.replace(
        lambda t: isinstance(t, sympy.Pow) and t.exp.is_even
        and (-t.base).could_extract_minus_sign(),
        lambda t: (-t.base) ** t.exp,
    )


def _with_placeholders(expr):
    expr = _canon(expr)
    sums = sorted(expr.atoms(sympy.Sum), key=sympy.default_sort_key)
    rep = {s: sympy.Dummy(f"S{k}", positive=True) for k, s in enumerate(sums)}
    return expr.xreplace(rep), {v: k for k, v in rep.items()}


# -- concrete checks ------------------------------------------------------------------------
def _point(x, data, values) -> dict:
    """The evaluation point of a concrete check: n = len(data), x[k] = data[k-1] (keys
    ``(x, (k,))``, as :mod:`symml.steps.check`'s evaluator reads data) and the parameters."""
    point = {_n: len(data), **_CONCRETE, **values}
    point.update({(x, (k,)): v for k, v in enumerate(data, 1)})
    return point


def _concrete(expr, x, data, values):
    """The entries of ``expr`` (a matrix) at n = len(data), x[k] = data[k-1] and the given
    parameter values, as mpmath numbers (None where undefined). The sums over the sample are
    unrolled and the derivatives taken numerically by the verifier's evaluator (memoized per
    point over all the steps), independent of SymPy's summation and differentiation."""
    e = expr.xreplace({_xbar: sympy.Sum(x[_j], (_j, 1, _n)) / _n})
    point = _point(x, data, values)
    return [_numeric(v, point, 30) for v in e]


def _close(a, b) -> bool:
    if a is None or b is None:
        return False
    return abs(a - b) <= 1e-10 * max(1, abs(a), abs(b))


def _sides_check(fam, x, seeds=(0, 1)):
    values = {s: v for _, s, v in fam.params}

    def check(step):
        for seed in seeds:
            data = fam.data(random.Random(seed))
            a = _concrete(_flat(step.before), x, data, values)
            b = _concrete(_flat(step.after), x, data, values)
            if not all(_close(u, w) for u, w in zip(a, b, strict=True)):
                return False
        return True

    return check


def _flat(obj):
    if isinstance(obj, sympy.MatrixBase):
        return sympy.ImmutableMatrix(obj)
    if isinstance(obj, sympy.Eq):
        return sympy.ImmutableMatrix([obj.lhs - obj.rhs])
    return sympy.ImmutableMatrix([obj])


def _solution_check(fam, x, scores, solutions, s):
    """The step's result (the estimator of ``s``, with the earlier ones) makes every score so
    far zero on random data."""

    def check(step):
        full = {**solutions, s: step.after.xreplace({_xbar: _mean(x)})}
        return _scores_vanish(fam, x, scores, full)

    return check


def _scores_vanish(fam, x, scores, solutions):
    """The estimators make every score zero on random data (the parameters not solved for
    yet at their test values: the scores so far vanish whatever they are)."""
    values = {s: v for _, s, v in fam.params}
    for seed in range(2):
        data = fam.data(random.Random(seed))
        at = {s: _concrete(_flat(solutions[s]), x, data, {})[0] for s in solutions}
        if any(v is None for v in at.values()):
            return False
        at = {**values, **at}
        for sc in scores:
            if not _close(_concrete(_flat(sc), x, data, at)[0], 0):
                return False
    return True


def _optimizer_check(fam, x, result_syms):
    """The estimators maximize the log-likelihood of random samples, written directly as the
    sum of the log densities of the observations (not from the derivation's sums): its
    gradient there is zero and its Hessian negative definite, both by numeric differentiation
    (``mpmath.diff``) at 40 digits, so the estimate is a strict local maximum, the one
    stationary point. Replaces a comparison with SciPy's L-BFGS-B (to 1e-4), which cost more
    to import than the derivation."""
    syms = [s for _, s, _ in fam.params]

    def check(derivation) -> bool:
        for seed in range(2):
            data = fam.data(random.Random(seed))
            ll = sympy.Add(*(fam.logf(_to_sympy(d), *syms) for d in data)).xreplace(_CONCRETE)
            at = {s: _concrete(_flat(result_syms[s]), x, data, {})[0] for s in syms}
            if any(v is None for v in at.values()):
                return False
            value = _numeric(ll, at, 30)
            if value is None:
                return False
            scale = max(1, abs(value))
            for s in syms:
                g = _numeric(sympy.Derivative(ll, s), at, 30)
                if g is None or abs(g) > 1e-20 * scale:
                    return False
            h = [[_numeric(sympy.Derivative(ll, a, b), at, 30) for b in syms] for a in syms]
            if any(v is None for row in h for v in row):
                return False
            if not np.all(np.linalg.eigvalsh(np.array(h, dtype=float)) < 0):
                return False
        return True

    return check


# -- the derivation -------------------------------------------------------------------------
def mle(dist: str, sample: str = "x") -> Derivation:
    """Derive the maximum likelihood estimators of ``dist`` from ``n`` observations.

    Parameters
    ----------
    dist : str
        ``"Normal"`` (parameters ``mu``, ``sigma2``; the result also gives ``sigma``),
        ``"Bernoulli"`` (``p``), ``"Binomial"`` (``p``, with ``m`` trials per
        observation), ``"Poisson"`` (``lambda``) or ``"Exponential"`` (``lambda``).
    sample : str
        The name of the observations: they appear as ``sample[i]``, ``i = 1..n``.

    Returns
    -------
    Derivation
        ``.result`` maps each parameter name to its estimator.

    >>> d = mle("Normal", "x")
    >>> d.result["mu"]
    Sum(x[i], (i, 1, n))/n
    >>> d.result["sigma2"]
    Sum((x[i] - Sum(x[j], (j, 1, n))/n)**2, (i, 1, n))/n
    """
    if not isinstance(dist, str) or dist not in FAMILIES:
        raise ArgumentError(
            f"mle: unknown distribution {dist!r}; choose one of {', '.join(FAMILIES)}"
        )
    if not isinstance(sample, str) or not sample.isidentifier():
        raise ArgumentError(f"mle: the sample must be a name such as 'x', got {sample!r}")
    fam = FAMILIES[dist]
    x = sympy.IndexedBase(sample, real=True)
    syms = [s for _, s, _ in fam.params]
    xi = x[_i]
    logf = fam.logf(xi, *syms)
    check = _sides_check(fam, x)
    steps = []

    dens = sympy.exp(logf)
    lik = sympy.Product(dens, (_i, 1, _n))
    steps.append(Step(
        "likelihood", sympy.Function("L")(*syms), lik,
        explain("The observations {x} are independent, so the likelihood is the product of "
                "their densities, one factor per observation.", x=xi),
        check=False, detail="textbook",
    ))  # fmt: skip
    loglik_sum = sympy.Sum(logf, (_i, 1, _n))
    steps.append(Step(
        "log-likelihood", sympy.log(lik, evaluate=False), loglik_sum,
        "The logarithm turns the product into a sum; it is increasing, so it has the "
        "same maximizer.",
        check=check, detail="brief",
    ))  # fmt: skip
    ell = _split(logf)
    steps.append(Step(
        "split sums", loglik_sum, ell,
        explain("Split the sum term by term: a term without {x} contributes {n} copies of "
                "itself.", x=xi, n=_n),
        check=check,
    ))  # fmt: skip

    solutions: dict = {}  # in terms of xbar after the first parameter
    scores = []
    for k, (_name, s, _) in enumerate(fam.params):
        score = _resplit(_diff(ell, s))
        steps.append(Step(
            "score", sympy.Derivative(ell, s), score,
            explain("Differentiate with respect to {s} term by term (the sums are linear).", s=s),
            check=check,
        ))  # fmt: skip
        at_prev = score.xreplace(solutions)
        sol = _solve(at_prev, s)
        scores.append(score)
        eq = sympy.Eq(at_prev, 0)
        text = (explain("Set the derivative to zero, {eq}, and solve for {s}:", eq=eq, s=s)
                if k == 0 else
                explain("Put in the estimates so far and set the derivative to zero, {eq}; "
                        "solving for {s}:", eq=eq, s=s))  # fmt: skip
        full = {q: v.xreplace({_xbar: _mean(x)}) for q, v in solutions.items()}
        steps.append(Step(
            "solve", s, sol, text,
            check=_solution_check(fam, x, scores[:], full, s), detail="brief",
        ))  # fmt: skip
        if k == 0 and len(fam.params) > 1:
            steps.append(Step(
                "sample mean", _xbar, sol,
                explain("Write {xbar} for this sample mean.", xbar=_xbar),
                check=False, detail="textbook",
            ))  # fmt: skip
            sol = _xbar
        solutions[s] = sol
    steps.append(_second_order(ell, syms, solutions, fam, x))

    mean_i = sympy.Sum(x[_i], (_i, 1, _n)) / _n
    result = {
        name: mean_i if solutions[s] == _xbar else solutions[s].xreplace({_xbar: _mean(x)})
        for name, s, _ in fam.params
    }
    if dist == "Normal":
        result["sigma"] = sympy.sqrt(result["sigma2"])
    def result_check(d) -> bool:
        final = {s: d.result[name] for name, s, _ in fam.params}
        if not _optimizer_check(fam, x, final)(d):
            return False
        if "sigma" not in d.result:
            return True
        data = fam.data(random.Random(0))  # sigma is the square root of sigma2
        sq = _concrete(_flat(d.result["sigma"] ** 2 - d.result["sigma2"]), x, data, {})[0]
        return _close(sq, 0)

    return Derivation(
        f"Maximum likelihood estimators of {dist} from observations {sample}[i], i = 1..n",
        "mle", ell, steps, result,
        result_check=result_check,
        note=fam.note or None,
    )  # fmt: skip


def _mean(x):
    return sympy.Sum(x[_j], (_j, 1, _n)) / _n


def _solve(score, s):
    eq, back = _with_placeholders(score)
    sols = sympy.solve(sympy.numer(sympy.together(eq)), s)
    sols = [q for q in sols if q.is_real is not False]
    if len(sols) != 1:
        raise DerivationError(f"the score equation for {s} has {len(sols)} solutions: {sols}")
    return sympy.simplify(sols[0]).xreplace(back)


def _second_order(ell, syms, solutions, fam, x):
    hess = sympy.Matrix([[_resplit(_diff(ell, a, b)) for b in syms] for a in syms])
    h_at = hess.xreplace(solutions)
    placeholder, back = _with_placeholders(h_at)
    total = sympy.Sum(x[_i], (_i, 1, _n))
    fwd = {v: k for k, v in back.items()}
    s1 = fwd.get(total, sympy.Dummy("S", positive=True))
    back.setdefault(s1, total)
    simple = placeholder.xreplace({_xbar: s1 / _n}).applyfunc(sympy.factor)
    if len(syms) > 1:
        simple = simple.xreplace({s1: _n * _xbar})
    simple = simple.xreplace(back)
    values = {s: v for _, s, v in fam.params}

    def check(step) -> bool:
        for seed in range(3):
            data = fam.data(random.Random(seed))
            a = _concrete(_flat(step.before), x, data, values)
            b = _concrete(_flat(step.after), x, data, values)
            if not all(_close(u, w) for u, w in zip(a, b, strict=True)):
                return False
            k = len(syms)
            eig = np.linalg.eigvalsh(np.array(b, dtype=float).reshape(k, k))
            if not np.all(eig < 0):
                return False
        return True

    what = "second derivative" if len(syms) == 1 else "Hessian"
    return Step(
        "second-order condition", sympy.ImmutableMatrix(h_at), sympy.ImmutableMatrix(simple),
        explain(f"At the estimate the {what} of the log-likelihood is negative "
                "(definite) for any sample with positive spread, so the stationary point is "
                "a maximum: {H}", H=sympy.ImmutableMatrix(simple)),
        check=check, detail="brief",
    )  # fmt: skip
