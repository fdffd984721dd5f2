"""Naive Bayes classifiers, derived from Bayes' theorem and conditional independence.

The derivation (:func:`naive_bayes_derivation`): by Bayes' theorem
``P(c | x) = P(c) p(x | c) / p(x)``; assuming the features independent given the class,
``p(x | c) = prod_j p(x_j | c)``, so in log form
``log P(c | x) = log P(c) + sum_j log p(x_j | c) - log p(x)``, and the prediction is the
class with the largest ``log P(c) + sum_j log p(x_j | c)``. The parameters are maximum
likelihood estimates per class: the class frequencies for the priors; for Gaussian features
the class mean and the 1/n variance of each feature; for binary features the frequency of
ones, smoothed by ``alpha`` (Laplace) in :class:`BernoulliNB`.

>>> import numpy as np
>>> from symml.ml import GaussianNB
>>> X = np.array([[0.0], [1.0], [5.0], [6.0]]); y = np.array(["a", "a", "b", "b"])
>>> GaussianNB().fit(X, y).predict(np.array([[0.4], [5.4]]))
array(['a', 'b'], dtype='<U1')
"""

from __future__ import annotations

import numpy as np
import sympy

from ..errors import ArgumentError, DataError
from ._base import Estimator, as_matrix, as_vector, check_fitted

__all__ = ["GaussianNB", "BernoulliNB", "naive_bayes_derivation"]


def _logsumexp(A: np.ndarray) -> np.ndarray:
    m = A.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(A - m).sum(axis=1, keepdims=True))).ravel()


class _NaiveBayes(Estimator):
    def _classes(self, X, y):
        A = as_matrix(X)
        y = as_vector(y, len(A))
        classes, index = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise DataError(f"a classifier needs at least two classes in y, found {len(classes)}")
        self.classes_ = classes
        counts = np.bincount(index, minlength=len(classes)).astype(float)
        self.class_count_ = counts
        self.class_prior_ = counts / counts.sum()
        return A, index

    def _joint_log_likelihood(self, X) -> np.ndarray:
        raise NotImplementedError

    def predict_log_proba(self, X) -> np.ndarray:
        """log P(c | x) for every row and class (columns in the order of ``classes_``)."""
        J = self._joint_log_likelihood(X)
        return J - _logsumexp(J)[:, None]

    def predict_proba(self, X) -> np.ndarray:
        """P(c | x) for every row and class."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        """The class of largest posterior probability."""
        return self.classes_[np.argmax(self._joint_log_likelihood(X), axis=1)]

    def score(self, X, y) -> float:
        """Accuracy on (X, y)."""
        return float(np.mean(self.predict(X) == as_vector(y)))

    def derivation(self):
        """The derivation of the classifier (a :class:`~symml.steps.Derivation`)."""
        return naive_bayes_derivation(self._kind)


class GaussianNB(_NaiveBayes):
    """Naive Bayes with a normal density per feature and class.

    ``var_smoothing`` adds that fraction of the largest feature variance to every variance
    (as scikit-learn does) so a feature constant within a class does not divide by zero.
    Fitted: ``classes_``, ``class_prior_``, ``theta_`` (means), ``var_`` (1/n variances).
    """

    _kind = "gaussian"

    def __init__(self, var_smoothing: float = 1e-9):
        self.var_smoothing = var_smoothing

    def fit(self, X, y):
        A, index = self._classes(X, y)
        k, d = len(self.classes_), A.shape[1]
        self.theta_ = np.zeros((k, d))
        self.var_ = np.zeros((k, d))
        for c in range(k):
            rows = A[index == c]
            self.theta_[c] = rows.mean(axis=0)
            self.var_[c] = rows.var(axis=0)  # the MLE: 1/n
        self.epsilon_ = self.var_smoothing * float(A.var(axis=0).max())
        self.var_ = self.var_ + self.epsilon_
        if np.any(self.var_ <= 0):
            raise DataError("a feature is constant in the whole data set; drop it or raise var_smoothing")
        return self

    def _joint_log_likelihood(self, X):
        check_fitted(self, "theta_")
        A = as_matrix(X)
        if A.shape[1] != self.theta_.shape[1]:
            raise DataError(f"X has {A.shape[1]} features; the model was fitted on {self.theta_.shape[1]}")
        out = np.log(self.class_prior_)[None, :] - 0.5 * np.sum(np.log(2 * np.pi * self.var_), axis=1)[None, :]
        diff2 = (A[:, None, :] - self.theta_[None, :, :]) ** 2 / self.var_[None, :, :]
        return out - 0.5 * diff2.sum(axis=2)


class BernoulliNB(_NaiveBayes):
    """Naive Bayes for binary features (values 0/1; ``binarize`` thresholds others).

    ``feature_prob_[c, j] = (count of x_j = 1 in class c + alpha) / (n_c + 2 alpha)``.
    """

    _kind = "bernoulli"

    def __init__(self, alpha: float = 1.0, binarize: float | None = 0.0):
        self.alpha = alpha
        self.binarize = binarize

    def _binary(self, X):
        A = as_matrix(X)
        if self.binarize is not None:
            return (A > self.binarize).astype(float)
        if not np.all((A == 0) | (A == 1)):
            raise DataError("BernoulliNB needs 0/1 features; pass binarize=threshold to convert")
        return A

    def fit(self, X, y):
        if self.alpha < 0:
            raise ArgumentError(f"alpha must be >= 0, got {self.alpha}")
        A, index = self._classes(self._binary(X), y)
        k = len(self.classes_)
        ones = np.vstack([A[index == c].sum(axis=0) for c in range(k)])
        self.feature_count_ = ones
        self.feature_prob_ = (ones + self.alpha) / (self.class_count_[:, None] + 2 * self.alpha)
        if np.any((self.feature_prob_ <= 0) | (self.feature_prob_ >= 1)):
            raise DataError("a feature probability is 0 or 1 in some class; use alpha > 0 (Laplace smoothing)")
        return self

    def _joint_log_likelihood(self, X):
        check_fitted(self, "feature_prob_")
        A = self._binary(X)
        P = self.feature_prob_
        return np.log(self.class_prior_)[None, :] + A @ np.log(P).T + (1 - A) @ np.log(1 - P).T


def _evaluate_estimator(expr, values) -> float:
    """An estimator of :func:`symml.steps.mle` (sums over ``x[i]``, ``i = 1..n``) at data."""
    n = next(v for v in expr.free_symbols if getattr(v, "name", "") == "n")
    base = next(iter(expr.atoms(sympy.Indexed))).base
    e = expr.xreplace({n: len(values)}).doit()
    return float(e.xreplace({base[k]: sympy.Float(v, 30) for k, v in enumerate(values, 1)}))


class _Conditional(sympy.Function):
    """``P(c | x)``: a probability or density of the first argument given the second, for
    display in derivations (the name is the function's ``name`` class attribute)."""

    nargs = 2
    letter = "P"

    def _latex(self, printer, exp=None):
        a, b = (printer._print(v) for v in self.args)
        out = rf"{self.letter}\left({a} \mid {b}\right)"
        return f"{out}^{{{exp}}}" if exp else out

    def _sympystr(self, printer):
        a, b = (printer._print(v) for v in self.args)
        return f"{self.letter}({a} | {b})"

    _symmltext = _sympystr  # symml's text printer


class _Pcond(_Conditional):
    letter = "P"


class _pcond(_Conditional):  # noqa: N801
    letter = "p"


def naive_bayes_derivation(kind: str = "gaussian"):
    """Naive Bayes from Bayes' theorem: the log-posterior decision rule and the MLE fits.

    ``kind`` is ``"gaussian"`` or ``"bernoulli"``. The algebraic steps are checked
    numerically; the parameter estimates are the mathematics library's maximum likelihood
    derivation (:func:`symml.steps.mle`, shown as sub-steps and verified with them), whose
    estimators evaluated on each class's rows must equal the fitted parameters.

    >>> d = naive_bayes_derivation("bernoulli")
    >>> d.verify()
    True
    """
    from ..steps.model import Derivation, Step, explain

    if kind not in ("gaussian", "bernoulli"):
        raise ArgumentError(f"kind must be 'gaussian' or 'bernoulli', got {kind!r}")
    c, j, d, m = sympy.symbols("c j d m", integer=True, positive=True)
    Pc = sympy.Function("P")(c)
    xj = sympy.Symbol("x_j", real=True)
    p_cond = _pcond
    joint = sympy.Product(p_cond(xj, c), (j, 1, d))
    log_post = sympy.log(Pc) + sympy.Sum(sympy.log(p_cond(xj, c)), (j, 1, d))

    def check_log_form(step) -> bool:
        # log of a product is the sum of logs, for concrete positive factors
        rng = np.random.default_rng(0)
        prior, factors = rng.uniform(0.1, 1), rng.uniform(0.1, 1, size=5)
        return bool(np.isclose(np.log(prior * factors.prod()), np.log(prior) + np.log(factors).sum()))

    def check_argmax(step) -> bool:
        # dropping log p(x), the same for every class, does not change the arg max
        rng = np.random.default_rng(1)
        J = rng.normal(size=(50, 3))
        post = J - _logsumexp(J)[:, None]
        return bool(np.array_equal(np.argmax(J, axis=1), np.argmax(post, axis=1)))

    from ..steps import mle as _library_mle

    family = "Normal" if kind == "gaussian" else "Bernoulli"
    library = _library_mle(family, "x")

    def check_mle(step) -> bool:
        # the library's estimators, evaluated on the rows of each class, are the fitted
        # parameters (no smoothing: var_smoothing = 0, alpha = 0), and the library's own
        # derivation passes its result check (a numeric optimizer) too
        rng = np.random.default_rng(2)
        y = np.repeat([0, 1], [7, 5])
        if kind == "gaussian":
            X = rng.normal(1.5, 2.0, size=(12, 2))
            est = GaussianNB(var_smoothing=0.0).fit(X, y)
            want = [("mu", est.theta_), ("sigma2", est.var_)]
        else:
            X = (rng.uniform(size=(12, 3)) < 0.5).astype(float)
            X[0], X[7] = 1.0, 1.0  # every class has a one and a zero in every column
            X[1], X[8] = 0.0, 0.0
            est = BernoulliNB(alpha=0.0).fit(X, y)
            want = [("p", est.feature_prob_)]
        for name, fitted in want:
            for c in range(2):
                for jj in range(X.shape[1]):
                    value = _evaluate_estimator(library.result[name], X[y == c, jj])
                    if not np.isclose(value, fitted[c, jj], rtol=1e-12, atol=0):
                        return False
        return bool(library.result_check(library))

    def check_prior(step) -> bool:
        y = np.array([0, 0, 1, 2, 2, 2])
        est = GaussianNB().fit(np.arange(6.0)[:, None] + np.array([0, 0.5, 0, 0, 0.5, 1.0])[:, None], y)
        return bool(np.allclose(est.class_prior_, [2 / 6, 1 / 6, 3 / 6]))

    mu, s2 = sympy.Symbol("mu_cj", real=True), sympy.Symbol("sigma_cj^2", positive=True)
    theta = sympy.Symbol("theta_cj", positive=True)
    xi = xj
    if kind == "gaussian":
        model = sympy.exp(-(xi - mu) ** 2 / (2 * s2)) / sympy.sqrt(2 * sympy.pi * s2)
        fits = explain("Each feature is normal within a class, {p}. Its maximum likelihood "
                       "estimates over the rows of class {c} are the class mean {mu} and the "
                       "1/n variance {s2} of feature {j}, derived below by the mathematics library's "
                       "maximum likelihood derivation (symml.steps.mle), whose observations "
                       "are the values of feature {j} in the rows of class {c}.",
                       p=sympy.Eq(p_cond(xi, c), model),
                       c=c, mu=mu, s2=s2, j=j)
    else:
        model = theta**xi * (1 - theta) ** (1 - xi)
        fits = explain("Each binary feature is Bernoulli within a class, {p}. Its maximum "
                       "likelihood estimate is the fraction of ones among the rows of class {c}; "
                       "Laplace smoothing adds {a} to each count: {est}. The unsmoothed estimate "
                       "({a} = 0) is derived below by symml.steps.mle, whose observations are "
                       "the values of feature {j} in the rows of class {c} and whose p is {t}.",
                       p=sympy.Eq(p_cond(xi, c), model), c=c, a=sympy.Symbol("alpha"), j=j, t=theta,
                       est=sympy.Eq(theta, (sympy.Symbol("n_cj") + sympy.Symbol("alpha"))
                                    / (sympy.Symbol("n_c") + 2 * sympy.Symbol("alpha"))))
    steps = [
        Step("bayes", None, None,
             explain("Bayes' theorem gives the posterior of class {c} given the features "
                     "{x}: {b}.", c=c, x=sympy.Symbol("x"),
                     b=sympy.Eq(_Pcond(c, sympy.Symbol("x")),
                                Pc * _pcond(sympy.Symbol("x"), c) / sympy.Function("p")(sympy.Symbol("x")))),
             check=False, detail="brief"),
        Step("independence", None, None,
             explain("The naive assumption: the features are independent given the class, so "
                     "the likelihood factorises, {f}.", f=sympy.Eq(_pcond(sympy.Symbol("x"), c), joint)),
             check=False, detail="brief"),
        Step("log", None, None,
             explain("Take logarithms (the log of a product is the sum of the logs): {lp}.",
                     lp=sympy.Eq(sympy.log(_Pcond(c, sympy.Symbol("x"))),
                                 log_post - sympy.log(sympy.Function("p")(sympy.Symbol("x"))))),
             check=check_log_form),
        Step("decision", None, None,
             explain("The evidence {e} is the same for every class, so the predicted class "
                     "maximises {s}.", e=sympy.Function("p")(sympy.Symbol("x")), s=log_post),
             check=check_argmax, detail="brief"),
        Step("prior", None, None,
             explain("The maximum likelihood estimate of the prior is the class frequency, "
                     "{pr}.", pr=sympy.Eq(Pc, sympy.Symbol("n_c") / sympy.Symbol("n"))),
             check=check_prior),
        Step("mle", None, None, fits, substeps=list(library.steps), check=check_mle),
    ]
    title = f"{'Gaussian' if kind == 'gaussian' else 'Bernoulli'} naive Bayes from Bayes' theorem"
    return Derivation(title, "naive_bayes", None, steps, log_post, result_check=check_argmax)
