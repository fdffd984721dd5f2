"""The mathematics library as functions of the language.

Each entry calls the Python API (:mod:`symml.linalg`, :mod:`symml.matrixcalc`,
:mod:`symml.prob`, :mod:`symml.info`, :mod:`symml.markov`, :mod:`symml.convex`) on the
language's values (scalars, explicit matrices, matrix symbols of symbolic size, and
distributions written ``Normal(mu, sigma)``), and returns a language value: a SymPy scalar,
an explicit matrix, a matrix expression or a SymPy boolean. Results with several parts (an
SVD, an eigen-decomposition, a test) are given by one function per part (``singular_values``,
``svd_u``, ``svd_v``, ``eigenvectors``) or as a vector in a documented order (a test gives
``[statistic, p-value]``, an interval ``[low, high]``, ``state_classes(P)`` each state's class).
"""

from __future__ import annotations

import sympy
from sympy import MatrixBase, MatrixSymbol

from ..errors import ArgumentError, DerivationError, ShapeError
from . import matexpr as ME

__all__ = ["LIBRARY", "DIST_FUNCS", "VALUE_DISTRIBUTIONS", "call", "distribution"]

Matrix = sympy.ImmutableMatrix

#: Distributions usable as arguments (``pdf(Beta(a, b), x)``), with their number of arguments;
#: the ones fitting knows are also allowed on the right of ``~``.
VALUE_DISTRIBUTIONS = {
    "Normal": 2, "Bernoulli": 1, "Poisson": 1, "Binomial": 2, "Exponential": 1,
    "Uniform": 2, "Beta": 2, "Gamma": 2, "Categorical": 1,
}  # fmt: skip


class DistValue:
    """``Normal(mu, s)`` written in the language: a distribution name and its arguments."""

    def __init__(self, name, args):
        self.name, self.args = name, args


def distribution(d):
    """The :mod:`symml.prob` object of a language distribution value."""
    from .. import prob

    args = list(d.args)
    if d.name == "Categorical":
        if not (isinstance(args[0], MatrixBase) and 1 in args[0].shape):
            raise ShapeError(
                "Categorical(p) takes a probability vector, as Categorical([1/2, 1/2])"
            )
        args = [list(args[0])]
    return getattr(prob, d.name)(*args)


def _matrix(v, what: str):
    if isinstance(v, DistValue):
        raise ArgumentError(f"{what} needs a vector or matrix, got the distribution {v.name}(...)")
    if not isinstance(v, MatrixBase):
        raise ShapeError(f"{what} needs a vector or a matrix such as [[1, 2], [3, 4]], got {v}")
    return v


def _out(v):
    """A library result as a language value."""
    if isinstance(v, bool):
        return sympy.true if v else sympy.false
    if isinstance(v, int):
        return sympy.Integer(v)
    if isinstance(v, MatrixBase):
        m = Matrix(v)
        return m[0, 0] if m.shape == (1, 1) else m
    return v


def _columns(vectors) -> Matrix:
    return Matrix.hstack(*[Matrix(v) for v in vectors])


# -- linear algebra --------------------------------------------------------------------------
def _solve(A, b):
    from .. import linalg

    return linalg.solve(_matrix(A, "solve"), _matrix(b, "solve"))


def _eigenvectors(A):
    """Eigenvectors as the columns of a matrix, in the order of eigenvalues(A)."""
    from .. import linalg

    spaces = linalg.eig(_matrix(A, "eigenvectors"))
    return _columns([v for e in spaces for v in e.vectors])


def _singular_values(A):
    from .. import linalg

    _, s, _ = linalg.svd(_matrix(A, "singular_values"))
    return Matrix(list(s))


def _svd_part(A, which):
    from .. import linalg

    U, _, Vh = linalg.svd(_matrix(A, f"svd_{which}"))
    return Matrix(U) if which == "u" else Matrix(Vh).H


def _gram_schmidt(*vectors):
    """gram_schmidt(A) orthonormalizes the columns of A; gram_schmidt(u, v, ...) the vectors."""
    from .. import linalg

    if len(vectors) == 1:
        A = _matrix(vectors[0], "gram_schmidt")
        vecs = [A[:, j] for j in range(A.shape[1])]
    else:
        vecs = [_matrix(v, "gram_schmidt") for v in vectors]
    return _columns(linalg.gram_schmidt(vecs))


def _project(u, v):
    from .. import linalg

    return linalg.project(_matrix(u, "project"), _matrix(v, "project"))


def _projection_matrix(A):
    from .. import linalg

    return linalg.projection_matrix(_matrix(A, "projection_matrix"))


def _is_positive_definite(A):
    from .. import linalg

    verdict = linalg.is_positive_definite(_matrix(A, "is_positive_definite"))
    if verdict is None:
        raise DerivationError(
            "is_positive_definite: the signs of the leading principal minors cannot be decided "
            "from the symbols' assumptions; declare them positive (var a > 0) or use numbers"
        )
    return verdict


def _matrix_grad(f, X):
    from ..matrixcalc import matrix_grad

    if not isinstance(X, MatrixSymbol):
        raise ArgumentError(
            f"matrix_grad(f, X): X must be a matrix or vector symbol (declared with "
            f"'matrix X[n, m]' or 'vector x[n]'), got {X}"
        )
    return matrix_grad(f, X)


# -- probability and information theory -----------------------------------------------------
def _dist(d, what: str):
    if not isinstance(d, DistValue):
        raise ArgumentError(f"{what} needs a distribution such as Normal(mu, sigma), got {d}")
    return distribution(d)


def _pdf(d, x):
    D = _dist(d, "pdf")
    return D.pmf(x) if D.discrete else D.pdf(x)


def _logpdf(d, x):
    return _dist(d, "logpdf").logpdf(x)


def _cdf(d, x):
    return _dist(d, "cdf").cdf(x)


def _sample(d, n, seed=None):
    """random_sample(D, n, seed): n independent draws as a vector (floats; integers for a
    discrete D), the same numbers as symml.prob's D.sample(n, seed=seed)."""
    D = _dist(d, "random_sample")
    for name, a in (("n", n), ("seed", seed)):
        if a is not None and not (isinstance(a, sympy.Integer) and a >= 0):
            raise ArgumentError(
                f"random_sample(D, n, seed): {name} must be a whole number >= 0, got {a}"
            )
    if int(n) == 0:
        raise ArgumentError("random_sample(D, n): n must be at least 1 (a vector has entries)")
    draws = D.sample(int(n), seed=None if seed is None else int(seed))
    return Matrix([sympy.Integer(int(v)) if D.discrete else sympy.Float(float(v)) for v in draws])


def _info_arg(p, what):
    if isinstance(p, DistValue):
        return distribution(p)
    return _matrix(p, what)


def _entropy(p):
    from .. import info

    return info.entropy(_info_arg(p, "entropy"))


def _cross_entropy(p, q):
    from .. import info

    return info.cross_entropy(_info_arg(p, "cross_entropy"), _info_arg(q, "cross_entropy"))


def _kl(p, q):
    from .. import info

    return info.kl(_info_arg(p, "kl"), _info_arg(q, "kl"))


def _mutual_information(J):
    from .. import info

    return info.mutual_information(_matrix(J, "mutual_information"))


# -- descriptive statistics (exact, on the entries of a vector) -----------------------------
def _entries(v, what, least=1):
    if isinstance(v, DistValue):
        raise ArgumentError(f"{what} of a distribution: write mean(D) or variance(D)")
    v = _matrix(v, what)
    if 1 not in v.shape:
        raise ShapeError(
            f"{what} needs a vector of observations, got a {v.shape[0]}x{v.shape[1]} matrix"
        )
    xs = list(v)
    if len(xs) < least:
        raise ArgumentError(f"{what} needs at least {least} observations, got {len(xs)}")
    return xs


def _variance(v):
    """variance(D) of a distribution; variance(v): the sample variance (n - 1 divisor)."""
    if isinstance(v, DistValue):
        return distribution(v).var
    xs = _entries(v, "variance", 2)
    m = sympy.Add(*xs) / len(xs)
    return sympy.Add(*[(x - m) ** 2 for x in xs]) / (len(xs) - 1)


def _std(v):
    if isinstance(v, DistValue):
        return sympy.sqrt(distribution(v).var)
    return sympy.sqrt(_variance(v))


def _median(v):
    xs = _entries(v, "median")
    if not all(x.is_number and x.is_real for x in xs):
        raise ArgumentError("median needs numbers (the order of symbols is unknown)")
    xs = sorted(xs, key=lambda e: e)
    k = len(xs)
    return xs[k // 2] if k % 2 else (xs[k // 2 - 1] + xs[k // 2]) / 2


def _cov(u, v):
    xs, ys = _entries(u, "cov", 2), _entries(v, "cov", 2)
    if len(xs) != len(ys):
        raise ShapeError(f"cov: the vectors have {len(xs)} and {len(ys)} entries")
    mx, my = sympy.Add(*xs) / len(xs), sympy.Add(*ys) / len(ys)
    return sympy.Add(*[(x - mx) * (y - my) for x, y in zip(xs, ys)]) / (len(xs) - 1)


def _corr(u, v):
    c, su, sv = _cov(u, v), _variance(u), _variance(v)
    if su == 0 or sv == 0:
        raise ArgumentError("corr: one of the vectors is constant")
    return c / sympy.sqrt(su * sv)


def _quantile(v, q):
    import numpy as np

    xs = _entries(v, "quantile")
    if not (q.is_number and 0 <= q <= 1):
        raise ArgumentError(f"quantile(v, q): q must be a number in [0, 1], got {q}")
    return sympy.Float(np.quantile(_floats(xs, "quantile"), float(q)))


# -- tests and intervals (numeric, as symml.stats): vectors in a documented order ----------------
def _floats(xs, what):
    if not all(x.is_number and x.is_real for x in xs):
        raise ArgumentError(f"{what} needs numbers, got {Matrix(xs).T}")
    return [float(x) for x in xs]


def _number(v, what, name):
    if isinstance(v, sympy.Basic) and v.is_number and v.is_real:
        return float(v)
    raise ArgumentError(f"{what}: {name} must be a number, got {v}")


def _test_vector(r):
    return Matrix([sympy.Float(r.statistic), sympy.Float(r.pvalue)])


def _ttest_1samp(v, mu0=sympy.S.Zero):
    """ttest_1samp(v, mu0) = [t, p-value] (two-sided)."""
    from .. import stats

    xs = _floats(_entries(v, "ttest_1samp", 2), "ttest_1samp")
    return _test_vector(stats.ttest_1samp(xs, _number(mu0, "ttest_1samp", "mu0")))


def _ttest_ind(u, v):
    """ttest_ind(u, v) = [t, p-value] (pooled variance, two-sided)."""
    from .. import stats

    xs = _floats(_entries(u, "ttest_ind", 2), "ttest_ind")
    ys = _floats(_entries(v, "ttest_ind", 2), "ttest_ind")
    return _test_vector(stats.ttest_ind(xs, ys))


def _ztest(v, mu0=sympy.S.Zero, sigma=None):
    """ztest(v, mu0, sigma) = [z, p-value] (two-sided; sigma the known standard deviation)."""
    from .. import stats

    xs = _floats(_entries(v, "ztest", 2), "ztest")
    s = None if sigma is None else _number(sigma, "ztest", "sigma")
    return _test_vector(stats.ztest(xs, _number(mu0, "ztest", "mu0"), s))


def _interval(r):
    return Matrix([sympy.Float(r.interval[0]), sympy.Float(r.interval[1])])


def _mean_ci(v, level=None, sigma=None):
    """mean_ci(v, level) = [low, high] (t interval; with sigma, the z interval)."""
    from .. import stats

    xs = _floats(_entries(v, "mean_ci", 2), "mean_ci")
    level = sympy.Float(0.95) if level is None else level
    s = None if sigma is None else _number(sigma, "mean_ci", "sigma")
    return _interval(stats.mean_ci(xs, _number(level, "mean_ci", "level"), s))


def _proportion_ci(k, n, level=None):
    """proportion_ci(k, n, level) = [low, high] (the Wald interval, as symml.stats)."""
    from .. import stats

    for name, a in (("k", k), ("n", n)):
        if not isinstance(a, sympy.Integer):
            raise ArgumentError(f"proportion_ci(k, n): {name} must be a whole number, got {a}")
    level = sympy.Float(0.95) if level is None else level
    return _interval(stats.proportion_ci(int(k), int(n), _number(level, "proportion_ci", "level")))


# -- Markov chains ---------------------------------------------------------------------------
def _chain(P):
    from ..markov import MarkovChain

    return MarkovChain(_matrix(P, "a Markov chain's transition matrix"))


def _stationary(P):
    """The stationary distribution (a vector); several closed classes give one row each."""
    pis = _chain(P).stationary()
    if len(pis) == 1:
        return Matrix(list(pis[0]))
    return Matrix([list(p) for p in pis])


def _n_step(P, k):
    return _chain(P).n_step(k)


def _absorption_probabilities(P):
    return _chain(P).absorption_probabilities()


def _expected_steps(P):
    return _chain(P).expected_steps()


def _fundamental_matrix(P):
    return _chain(P).fundamental_matrix()


def _classes(P):
    """state_classes(P): for each state the number of its communicating class (0, 1, ... in the
    order of their smallest state)."""
    labels = {}
    for k, c in enumerate(_chain(P).classes()):
        labels.update({s: k for s in c.states})
    return Matrix([labels[s] for s in sorted(labels)])


def _recurrent(P):
    """recurrent_states(P): 1 for a state of a closed (recurrent) class, 0 for a transient one."""
    flags = {}
    for c in _chain(P).classes():
        flags.update({s: int(c.closed) for s in c.states})
    return Matrix([flags[s] for s in sorted(flags)])


def _period(P, state):
    if not (isinstance(state, sympy.Integer)):
        raise ArgumentError(f"period(P, i): the state i must be a whole number, got {state}")
    p = _chain(P).period(int(state))
    return sympy.oo if p is None else p  # never returns: an infinite period


# -- convexity -------------------------------------------------------------------------------
def _is_convex(f, *rest):
    """is_convex(f), is_convex(f, [x, y]), is_convex(f, x, x > 0, ...): true or false."""
    from ..convex import is_convex

    if ME.is_matexpr(f) or isinstance(f, MatrixBase):
        raise ShapeError("is_convex needs a scalar function")
    variables = None
    domain = []
    for r in rest:
        if isinstance(r, sympy.core.relational.Relational):
            domain.append(r)
        elif isinstance(r, MatrixBase):
            variables = (variables or []) + list(r)
        elif isinstance(r, sympy.Symbol):
            variables = (variables or []) + [r]
        else:
            raise ArgumentError(
                f"is_convex(f, [x, y], x > 0): expected variables or domain bounds, got {r}"
            )
    v = is_convex(f, variables, domain or None)
    if v.convex is None:
        raise DerivationError(
            f"is_convex could not decide: {v.reason}. symml.convex.is_convex(...) gives the "
            "sampled evidence"
        )
    return v.convex


#: name -> (function, least arguments, most arguments)
LIBRARY = {
    "solve": (_solve, 2, 2),
    "eigenvectors": (_eigenvectors, 1, 1),
    "singular_values": (_singular_values, 1, 1),
    "svd_u": (lambda A: _svd_part(A, "u"), 1, 1),
    "svd_v": (lambda A: _svd_part(A, "v"), 1, 1),
    "gram_schmidt": (_gram_schmidt, 1, 99),
    "project": (_project, 2, 2),
    "projection_matrix": (_projection_matrix, 1, 1),
    "is_positive_definite": (_is_positive_definite, 1, 1),
    "matrix_grad": (_matrix_grad, 2, 2),
    "pdf": (_pdf, 2, 2),
    "logpdf": (_logpdf, 2, 2),
    "cdf": (_cdf, 2, 2),
    "random_sample": (_sample, 2, 3),
    "variance": (_variance, 1, 1),
    "std": (_std, 1, 1),
    "median": (_median, 1, 1),
    "cov": (_cov, 2, 2),
    "corr": (_corr, 2, 2),
    "quantile": (_quantile, 2, 2),
    "ttest_1samp": (_ttest_1samp, 1, 2),
    "ttest_ind": (_ttest_ind, 2, 2),
    "ztest": (_ztest, 1, 3),
    "mean_ci": (_mean_ci, 1, 3),
    "proportion_ci": (_proportion_ci, 2, 3),
    "entropy": (_entropy, 1, 1),
    "cross_entropy": (_cross_entropy, 2, 2),
    "kl": (_kl, 2, 2),
    "mutual_information": (_mutual_information, 1, 1),
    "stationary": (_stationary, 1, 1),
    "n_step": (_n_step, 2, 2),
    "absorption_probabilities": (_absorption_probabilities, 1, 1),
    "expected_steps": (_expected_steps, 1, 1),
    "fundamental_matrix": (_fundamental_matrix, 1, 1),
    "period": (_period, 2, 2),
    "state_classes": (_classes, 1, 1),
    "recurrent_states": (_recurrent, 1, 1),
    "is_convex": (_is_convex, 1, 99),
}

#: Functions of the vector table that also take a distribution (``mean(Poisson(3))``).
DIST_FUNCS = {"mean": lambda d: distribution(d).mean}


def call(name: str, args: list):
    """Run library function ``name`` on language values."""
    fn, lo, hi = LIBRARY[name]
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}" if hi < 99 else f"at least {lo}"
        raise ArgumentError(f"{name} takes {want} argument(s), got {len(args)}")
    return _out(fn(*args))
