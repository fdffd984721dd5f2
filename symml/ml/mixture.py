"""Gaussian mixture models fitted by expectation-maximisation (EM), with its derivation.

E-step: the responsibility of component k for row i is its posterior probability by
Bayes' theorem, ``r_ik = pi_k N(x_i | mu_k, Sigma_k) / sum_j pi_j N(x_i | mu_j, Sigma_j)``.
M-step: maximise the expected complete-data log-likelihood
``Q = sum_i sum_k r_ik (log pi_k + log N(x_i | mu_k, Sigma_k))``: setting its derivatives
to zero gives ``mu_k = sum_i r_ik x_i / N_k``, ``Sigma_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)' / N_k``
and (with a Lagrange multiplier for ``sum_k pi_k = 1``) ``pi_k = N_k / n``, where
``N_k = sum_i r_ik``. EM never decreases the log-likelihood; :meth:`GaussianMixture.fit`
checks that at every iteration and raises if it ever fails.

>>> import numpy as np
>>> from symml.ml import GaussianMixture
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(-5, 1, size=(100, 1)), rng.normal(5, 1, size=(100, 1))]
>>> gm = GaussianMixture(2, seed=0).fit(X)
>>> np.round(np.sort(gm.means_.ravel()))
array([-5.,  5.])
"""

from __future__ import annotations

import numpy as np
import sympy

from ..errors import ArgumentError, DataError, DerivationError
from ._base import Estimator, as_matrix, check_fitted

__all__ = ["GaussianMixture", "em_derivation"]


def _log_gauss(X: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(x | mean, cov) for every row, through a Cholesky factor (no explicit inverse)."""
    d = X.shape[1]
    try:
        L = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise DataError("a component's covariance is not positive definite; raise reg_covar") from None
    Z = np.linalg.solve(L, (X - mean).T)
    return -0.5 * (d * np.log(2 * np.pi) + 2 * np.log(np.diag(L)).sum() + (Z**2).sum(axis=0))


class GaussianMixture(Estimator):
    """A mixture of ``n_components`` full-covariance Gaussians fitted by EM.

    Parameters
    ----------
    n_components : int
        Number of components.
    seed : int or None
        Seed of the initialisation (means at rows chosen by k-means++ seeding).
    max_iter, tol : int, float
        EM stops when the mean log-likelihood per row improves by less than ``tol``.
    reg_covar : float
        Added to the diagonal of every covariance so none becomes singular.

    Fitted: ``weights_``, ``means_``, ``covariances_``, ``log_likelihood_curve_`` (total
    log-likelihood after each iteration, never decreasing), ``n_iter_``, ``converged_``.
    """

    def __init__(self, n_components: int = 1, seed: int | None = None, max_iter: int = 200,
                 tol: float = 1e-8, reg_covar: float = 1e-6):  # fmt: skip
        self.n_components = n_components
        self.seed = seed
        self.max_iter = max_iter
        self.tol = tol
        self.reg_covar = reg_covar

    def _init(self, X, rng):
        n = len(X)
        centers = [X[rng.integers(n)]]
        for _ in range(1, self.n_components):
            d2 = np.min([((X - c) ** 2).sum(axis=1) for c in centers], axis=0)
            total = d2.sum()
            centers.append(X[rng.choice(n, p=d2 / total)] if total > 0 else X[rng.integers(n)])
        cov = np.atleast_2d(np.cov(X, rowvar=False)) + self.reg_covar * np.eye(X.shape[1])
        return (np.full(self.n_components, 1 / self.n_components), np.array(centers),
                np.array([cov] * self.n_components))  # fmt: skip

    def _log_joint(self, X, weights, means, covs):
        return np.column_stack(
            [np.log(w) + _log_gauss(X, m, c) for w, m, c in zip(weights, means, covs, strict=True)]
        )

    def fit(self, X, y=None):
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ArgumentError(f"n_components must be a whole number >= 1, got {k!r}")
        A = as_matrix(X)
        n, d = A.shape
        if n < k:
            raise DataError(f"{k} components need at least {k} rows, got {n}")
        weights, means, covs = self._init(A, np.random.default_rng(self.seed))
        curve: list[float] = []
        self.converged_ = False
        for it in range(1, self.max_iter + 1):
            J = self._log_joint(A, weights, means, covs)  # E-step
            m = J.max(axis=1, keepdims=True)
            log_norm = m.ravel() + np.log(np.exp(J - m).sum(axis=1))
            ll = float(log_norm.sum())
            if curve and ll < curve[-1] - 1e-9 * max(1.0, abs(curve[-1])):
                raise DerivationError(
                    f"EM decreased the log-likelihood at iteration {it} ({curve[-1]:.12g} -> "
                    f"{ll:.12g}); this should not happen, please report it"
                )
            curve.append(ll)
            if len(curve) > 1 and (curve[-1] - curve[-2]) / n < self.tol:
                self.converged_ = True
                break
            R = np.exp(J - log_norm[:, None])
            Nk = R.sum(axis=0) + 10 * np.finfo(float).eps  # M-step
            weights = Nk / n
            means = (R.T @ A) / Nk[:, None]
            covs = np.empty((k, d, d))
            for j in range(k):
                D = A - means[j]
                covs[j] = (R[:, j, None] * D).T @ D / Nk[j] + self.reg_covar * np.eye(d)
        self.weights_, self.means_, self.covariances_ = weights, means, covs
        self.log_likelihood_curve_ = curve
        self.n_iter_ = len(curve)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Responsibilities P(component k | x) for every row."""
        check_fitted(self, "means_")
        J = self._log_joint(as_matrix(X), self.weights_, self.means_, self.covariances_)
        J -= J.max(axis=1, keepdims=True)
        P = np.exp(J)
        return P / P.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The most responsible component of every row."""
        return np.argmax(self.predict_proba(X), axis=1)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per row."""
        check_fitted(self, "means_")
        J = self._log_joint(as_matrix(X), self.weights_, self.means_, self.covariances_)
        m = J.max(axis=1, keepdims=True)
        return float(np.mean(m.ravel() + np.log(np.exp(J - m).sum(axis=1))))

    def derivation(self):
        """The derivation of EM for Gaussian mixtures (a :class:`~symml.steps.Derivation`)."""
        return em_derivation()


def em_derivation(check_rows: int = 4):
    """EM for a Gaussian mixture: responsibilities by Bayes, M-step updates by setting the
    derivatives of Q to zero (derived exactly for one-dimensional components; every update
    is re-derived and solved by symml at ``check_rows`` concrete rows in ``verify()``).

    >>> d = em_derivation()
    >>> d.verify()
    True
    """
    from ..calculus import diff as _diff
    from ..calculus import grad as _grad
    from ..steps.model import Derivation, Step, explain

    i, k, j = sympy.symbols("i k j", integer=True, positive=True)
    n, K = sympy.symbols("n K", integer=True, positive=True)
    x, r = sympy.IndexedBase("x"), sympy.IndexedBase("r")
    mu, s2, pi_k = sympy.Symbol("mu_k", real=True), sympy.Symbol("sigma_k^2", positive=True), sympy.Symbol("pi_k", positive=True)
    Nk = sympy.Symbol("N_k", positive=True)
    lam = sympy.Symbol("lambda", real=True)
    log_n = -sympy.log(2 * sympy.pi * s2) / 2 - (x[i] - mu) ** 2 / (2 * s2)
    Q = sympy.Sum(r[i, k] * (sympy.log(pi_k) + log_n), (i, 1, n))
    mu_hat = sympy.Sum(r[i, k] * x[i], (i, 1, n)) / Nk
    s2_hat = sympy.Sum(r[i, k] * (x[i] - mu) ** 2, (i, 1, n)) / Nk

    def concrete(expr):
        """The sum over i written out for check_rows rows, with N_k = sum of r."""
        return expr.subs(n, check_rows).doit().subs(Nk, sum(r[t, k] for t in range(1, check_rows + 1)))

    def check_mu(step) -> bool:
        Qc = concrete(Q)
        dQ = _diff(Qc, mu)
        after = getattr(step, "after", None)  # the step as shown (the result check has none)
        shown = after is None or sympy.simplify(dQ - concrete(after)) == 0
        sol = sympy.solve(dQ, mu)
        return shown and len(sol) == 1 and sympy.simplify(sol[0] - concrete(mu_hat)) == 0

    def check_s2(step) -> bool:
        v = sympy.Symbol("v", positive=True)
        Qc = concrete(Q).subs(s2, v)
        dQ = _diff(Qc, v)
        shown = sympy.simplify(dQ - concrete(step.after).subs(s2, v)) == 0
        sol = sympy.solve(dQ, v)
        return shown and len(sol) == 1 and sympy.simplify(sol[0] - concrete(s2_hat)) == 0

    def check_pi(step) -> bool:
        # maximise sum_k N_k log pi_k subject to sum pi_k = 1 for three components
        p = sympy.symbols("p1:4", positive=True)
        N = sympy.symbols("N1:4", positive=True)
        L = sum(Ni * sympy.log(pj) for Ni, pj in zip(N, p, strict=True)) - lam * (sum(p) - 1)
        eqs = [_diff(L, v) for v in (*p, lam)]
        sol = sympy.solve(eqs, [*p, lam], dict=True)
        return len(sol) == 1 and all(sympy.simplify(sol[0][pj] - Ni / sum(N)) == 0 for pj, Ni in zip(p, N, strict=True))

    def check_responsibility(step) -> bool:
        gm = GaussianMixture(2, seed=1, max_iter=3).fit(np.array([[0.0], [0.2], [3.0], [3.3], [1.4]]))
        R = gm.predict_proba(np.array([[1.0]]))
        dens = [w * np.exp(_log_gauss(np.array([[1.0]]), m, c))[0] for w, m, c in zip(gm.weights_, gm.means_, gm.covariances_, strict=True)]
        return bool(np.allclose(R[0], np.array(dens) / sum(dens)))

    def check_monotone(step) -> bool:
        rng = np.random.default_rng(7)
        X = np.r_[rng.normal(0, 1, (60, 2)), rng.normal(4, 0.5, (60, 2))]
        curve = GaussianMixture(2, seed=3, tol=0).fit(X).log_likelihood_curve_
        return bool(np.all(np.diff(curve) >= -1e-9 * np.abs(curve[1:])))

    def check_full(step) -> bool:
        # in two dimensions with a full covariance [[a, c], [c, b]]: symml's exact gradient of
        # Q in (mu1, mu2, a, b, c) vanishes exactly at the weighted mean and covariance
        rng = np.random.default_rng(11)
        pts = [sympy.Matrix([sympy.Rational(int(v), 4) for v in rng.integers(-12, 13, 2)]) for _ in range(5)]
        resp = [sympy.Rational(int(v), 10) for v in rng.integers(1, 10, 5)]
        m1, m2 = sympy.symbols("m1 m2", real=True)
        a_, b_, c_ = sympy.symbols("a b c", real=True)
        M = sympy.Matrix([m1, m2])
        det = a_ * b_ - c_**2  # of Sigma = [[a, c], [c, b]]
        adj = sympy.Matrix([[b_, -c_], [-c_, a_]])  # det * inverse of Sigma
        Qd = sum(rr * (-sympy.log(det) / 2 - ((pp - M).T * adj * (pp - M))[0, 0] / (2 * det))
                 for rr, pp in zip(resp, pts, strict=True))  # fmt: skip
        Nk_ = sum(resp)
        mean = sum((rr * pp for rr, pp in zip(resp, pts, strict=True)), sympy.zeros(2, 1)) / Nk_
        cov = sum(((pp - mean) * (pp - mean).T * rr for rr, pp in zip(resp, pts, strict=True)), sympy.zeros(2, 2)) / Nk_
        at = {m1: mean[0], m2: mean[1], a_: cov[0, 0], b_: cov[1, 1], c_: cov[0, 1]}
        g = _grad(Qd, [m1, m2, a_, b_, c_])
        zero = all(sympy.simplify(gk.subs(at)) == 0 for gk in g)
        moved = {**at, m1: at[m1] + sympy.Rational(1, 3)}  # and not at a shifted mean
        return bool(zero and sympy.simplify(g[0].subs(moved)) != 0)

    N_pdf = sympy.Function("N")
    steps = [
        Step("model", None, None,
             explain("A mixture of {K} Gaussians has density {p}.", K=K,
                     p=sympy.Sum(sympy.Symbol("pi_j") * N_pdf(sympy.Symbol("x"), sympy.Symbol("mu_j"), sympy.Symbol("Sigma_j")), (j, 1, K))),
             check=False, detail="brief"),
        Step("e_step", None, None,
             explain("E-step. By Bayes' theorem the responsibility of component {k} for row "
                     "{i} is its posterior probability, {rik}.", k=k, i=i,
                     rik=sympy.Eq(r[i, k], pi_k * N_pdf(x[i], mu, sympy.Symbol("Sigma_k"))
                                  / sympy.Sum(sympy.Symbol("pi_j") * N_pdf(x[i], sympy.Symbol("mu_j"), sympy.Symbol("Sigma_j")), (j, 1, K)))),
             check=check_responsibility, detail="brief"),
        Step("q_function", None, Q,
             explain("M-step. Holding the responsibilities fixed, maximise the expected "
                     "complete-data log-likelihood; for component {k} (one-dimensional, "
                     "variance {s2}) its part is", k=k, s2=s2),
             check=False),
        Step("mean_update", sympy.Derivative(Q, mu), sympy.Sum(r[i, k] * (x[i] - mu), (i, 1, n)) / s2,
             explain("Differentiate with respect to {mu} and set to zero: with {Nk} the "
                     "update is {upd}.", mu=mu, Nk=sympy.Eq(Nk, sympy.Sum(r[i, k], (i, 1, n))),
                     upd=sympy.Eq(mu, mu_hat)),
             check=check_mu, detail="brief"),
        Step("variance_update", sympy.Derivative(Q, s2),
             sympy.Sum(r[i, k] * ((x[i] - mu) ** 2 / (2 * s2**2) - 1 / (2 * s2)), (i, 1, n)),
             explain("Differentiate with respect to {s2} and set to zero: {upd}.",
                     s2=s2, upd=sympy.Eq(s2, s2_hat)),
             check=check_s2, detail="brief"),
        Step("full_covariance", None, None,
             explain("In d dimensions, {lN}; setting the gradients with respect to {m} and "
                     "{S} to zero gives the responsibility-weighted mean {mu} and covariance "
                     "{cov} (checked by symml's exact gradient in two dimensions).",
                     lN=sympy.Eq(sympy.Symbol("log N(x_i | mu_k, Sigma_k)"),
                                 -sympy.Symbol("d") * sympy.log(2 * sympy.pi) / 2
                                 - sympy.log(sympy.Symbol("det(Sigma_k)")) / 2
                                 - sympy.Symbol("(x_i - mu_k)' Sigma_k^-1 (x_i - mu_k)") / 2),
                     m=sympy.Symbol("mu_k"), S=sympy.Symbol("Sigma_k"),
                     mu=sympy.Eq(sympy.Symbol("mu_k"), sympy.Sum(r[i, k] * sympy.Symbol("x_i"), (i, 1, n)) / Nk),
                     cov=sympy.Eq(sympy.Symbol("Sigma_k"), sympy.Sum(r[i, k] * sympy.Symbol("(x_i - mu_k)(x_i - mu_k)'"), (i, 1, n)) / Nk)),
             check=check_full),
        Step("weight_update", None, None,
             explain("The weights maximise {q} subject to {c}; a Lagrange multiplier gives "
                     "{upd}.", q=sympy.Sum(sympy.Symbol("N_j") * sympy.log(sympy.Symbol("pi_j")), (j, 1, K)),
                     c=sympy.Eq(sympy.Sum(sympy.Symbol("pi_j"), (j, 1, K)), 1), upd=sympy.Eq(pi_k, Nk / n)),
             check=check_pi, detail="brief"),
        Step("monotone", None, None,
             "Each iteration maximises a lower bound of the log-likelihood that touches it at "
             "the current parameters, so the log-likelihood never decreases.",
             check=check_monotone),
    ]
    return Derivation("The EM algorithm for a Gaussian mixture", "em", None, steps,
                      sympy.Eq(mu, mu_hat), result_check=check_mu)  # fmt: skip
