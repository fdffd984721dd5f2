"""Principal component analysis: derived with a Lagrange multiplier, computed by the SVD.

The derivation (:meth:`PCA.derivation`): maximise the variance ``w' S w`` of the data
projected on a unit vector ``w`` (``w' w = 1``); the Lagrangian's stationarity condition is
the eigenvalue equation ``S w = lambda w``, and the variance captured is then ``lambda``.

Numerically, the principal axes are the right singular vectors of the centred data
``Xc = U Sigma V'``; the eigenvalues of the sample covariance ``S = Xc' Xc / (n - 1)`` are
``Sigma^2 / (n - 1)``. Each component's sign is fixed so that its largest entry is positive,
so results are deterministic.

>>> import numpy as np
>>> from symml.ml import PCA
>>> X = np.array([[2.0, 0.0], [0.0, 1.0], [-2.0, 0.0], [0.0, -1.0]])
>>> p = PCA(n_components=1).fit(X)
>>> p.components_, p.explained_variance_, p.explained_variance_ratio_
(array([[1., 0.]]), array([2.66666667]), array([0.8]))
"""

from __future__ import annotations

import numpy as np
import sympy

from ..errors import ArgumentError
from ._base import Estimator, as_matrix, check_fitted

__all__ = ["PCA", "pca_derivation"]


class PCA(Estimator):
    """Principal components of a data matrix (rows are observations).

    Parameters
    ----------
    n_components : int or None
        How many components to keep (all when None).
    scale : bool
        Divide each centred column by its standard deviation first (PCA on the correlation
        matrix).
    """

    def __init__(self, n_components: int | None = None, scale: bool = False):
        self.n_components = n_components
        self.scale = scale

    def fit(self, X, y=None):
        A = as_matrix(X)
        n, d = A.shape
        if n < 2:
            raise ArgumentError("PCA needs at least two rows")
        k = min(n, d) if self.n_components is None else self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= min(n, d):
            raise ArgumentError(f"n_components must be a whole number from 1 to {min(n, d)}, got {k!r}")
        self.mean_ = A.mean(axis=0)
        Xc = A - self.mean_
        if self.scale:
            sd = Xc.std(axis=0, ddof=1)
            self.scale_ = np.where(sd > 0, sd, 1.0)
            Xc = Xc / self.scale_
        else:
            self.scale_ = np.ones(d)
        _, sing, Vt = np.linalg.svd(Xc, full_matrices=False)
        signs = np.sign(Vt[np.arange(len(Vt)), np.argmax(np.abs(Vt), axis=1)])
        Vt = Vt * signs[:, None]
        eig = sing**2 / (n - 1)
        self.n_components_ = int(k)
        self.all_variances_ = eig
        self.components_ = Vt[:k]
        self.explained_variance_ = eig[:k]
        total = eig.sum()
        self.explained_variance_ratio_ = eig[:k] / total if total > 0 else np.zeros(k)
        self.singular_values_ = sing[:k]
        self.n_samples_ = n
        return self

    def transform(self, X):
        """Coordinates of the rows of X on the kept components."""
        check_fitted(self, "components_")
        return ((as_matrix(X) - self.mean_) / self.scale_) @ self.components_.T

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def inverse_transform(self, Z):
        """Rows in the original space from their component coordinates."""
        check_fitted(self, "components_")
        Z = as_matrix(Z, "Z")
        return (Z @ self.components_) * self.scale_ + self.mean_

    def reconstruction_error(self, X) -> float:
        """sum over rows of ||x - x_hat||^2 / (n - 1), in the (scaled) space of the fit.

        For the data the PCA was fitted on this equals the sum of the dropped eigenvalues.
        """
        check_fitted(self, "components_")
        A = as_matrix(X)
        R = (A - self.inverse_transform(self.transform(A))) / self.scale_
        return float(np.sum(R**2) / (len(A) - 1))

    def derivation(self):
        """The derivation of PCA (a :class:`~symml.steps.Derivation`)."""
        return pca_derivation()


def _random_covariance(rng, k: int = 3) -> np.ndarray:
    B = rng.normal(size=(k + 2, k))
    return np.cov(B, rowvar=False)


def pca_derivation():
    """Maximise ``w' S w`` subject to ``w' w = 1``: ``S w = lambda w``, variance ``lambda``.

    Every step is checked on concrete instances: the gradient of the Lagrangian against
    symml's exact gradient for a random symmetric 3x3 S, stationarity and the captured
    variance against NumPy's eigendecomposition, the reconstruction error against the SVD.

    >>> d = pca_derivation()
    >>> d.verify()
    True
    >>> d.result
    Eq(S*w, lambda*w)
    """
    from ..calculus import grad as _grad
    from ..steps.model import Derivation, Step, explain

    n = sympy.Symbol("n", integer=True, positive=True)
    S = sympy.MatrixSymbol("S", n, n)
    w = sympy.MatrixSymbol("w", n, 1)
    lam = sympy.Symbol("lambda", real=True)
    one = sympy.Identity(1)
    quad = w.T * S * w
    lagr = w.T * S * w - lam * (w.T * w - one)
    grad = 2 * S * w - 2 * lam * w
    eigen = sympy.Eq(S * w, lam * w)

    def check_gradient(step) -> bool:
        rng = np.random.default_rng(1)
        k = 3
        Sn = sympy.Matrix(k, k, lambda i, j: sympy.Rational(int(rng.integers(-9, 10)), 4))
        Sn = Sn + Sn.T  # any symmetric matrix
        ws = sympy.Matrix(sympy.symbols(f"w_0:{k}", real=True))
        lv = sympy.Symbol("lambda", real=True)
        L = (ws.T * Sn * ws)[0, 0] - lv * ((ws.T * ws)[0, 0] - 1)
        exact = _grad(L, list(ws))
        # the gradient as shown, with this S and w put in for the matrix symbols
        sized = step.after.subs({n: k})
        Sk, wk = sympy.MatrixSymbol("S", k, k), sympy.MatrixSymbol("w", k, 1)
        claimed = sympy.Matrix(sized.subs({Sk: Sn, wk: ws, lam: lv}).doit())
        return (exact - claimed).expand() == sympy.zeros(k, 1)

    def check_stationary(step) -> bool:
        Sn = _random_covariance(np.random.default_rng(2))
        vals, vecs = np.linalg.eigh(Sn)
        ok = all(np.allclose(2 * Sn @ v - 2 * lv_ * v, 0, atol=1e-12) for lv_, v in zip(vals, vecs.T, strict=True))
        u = np.ones(3) / np.sqrt(3)  # not an eigenvector: stationarity must fail for it
        off = min(np.linalg.norm(2 * Sn @ u - 2 * lv_ * u) for lv_ in vals) > 1e-6
        return bool(ok and off)

    def check_maximum(step) -> bool:
        rng = np.random.default_rng(3)
        Sn = _random_covariance(rng)
        vals, vecs = np.linalg.eigh(Sn)
        U = rng.normal(size=(3, 20000))
        U /= np.linalg.norm(U, axis=0)
        sampled = np.einsum("ij,ik,kj->j", U, Sn, U)
        at_top = vecs[:, -1] @ Sn @ vecs[:, -1]
        return bool(sampled.max() <= vals[-1] + 1e-12 and abs(at_top - vals[-1]) < 1e-12)

    def fitted_pca(seed: int):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(40, 4)) @ rng.normal(size=(4, 4))
        return X, PCA(n_components=2).fit(X)

    def check_components(step) -> bool:
        X, p = fitted_pca(4)
        C = np.cov(X, rowvar=False)
        vals = np.sort(np.linalg.eigvalsh(C))[::-1]
        eig_ok = all(np.allclose(C @ v, lv_ * v, atol=1e-9) for lv_, v in zip(p.explained_variance_, p.components_, strict=True))
        return bool(eig_ok and np.allclose(p.explained_variance_, vals[:2])
                    and np.isclose(p.explained_variance_ratio_.sum(), vals[:2].sum() / vals.sum()))

    def check_reconstruction(step) -> bool:
        X, p = fitted_pca(5)
        vals = np.sort(np.linalg.eigvalsh(np.cov(X, rowvar=False)))[::-1]
        return bool(np.isclose(p.reconstruction_error(X), vals[2:].sum(), rtol=1e-10))

    from ..steps import lagrange as _lagrange

    w1, w2 = sympy.symbols("w1 w2", real=True)
    S_ex = sympy.Matrix([[2, 1], [1, 2]])
    wv = sympy.Matrix([w1, w2])
    example = _lagrange((wv.T * S_ex * wv)[0, 0], [sympy.Eq(w1**2 + w2**2, 1)], [w1, w2])

    def check_example(step) -> bool:
        # each candidate of the library's Lagrange derivation is an eigenvector of S with
        # its multiplier the eigenvalue, the variance there equals the multiplier, and the
        # largest is the top eigenvalue 3
        eig = {int(k): v for k, v in S_ex.eigenvals().items()}
        lam_ex = next(k for k in example.result[0] if str(k) == "lambda")
        ok = len(example.result) == 4
        for cand in example.result:
            v = sympy.Matrix([cand[w1], cand[w2]])
            ok &= (S_ex * v - cand[lam_ex] * v).expand() == sympy.zeros(2, 1)
            ok &= sympy.simplify((v.T * S_ex * v)[0, 0] - cand[lam_ex]) == 0
            ok &= int(cand[lam_ex]) in eig
        return bool(ok and max(c[lam_ex] for c in example.result) == 3)

    lam_k = sympy.Symbol("lambda_k", real=True)
    lam_j = sympy.Symbol("lambda_j", real=True)
    j, k, d = sympy.symbols("j k d", integer=True, positive=True)
    steps = [
        Step("problem", None, quad,
             explain("The variance of the centred data projected on a direction {w} is {q}, "
                     "where {S} is the sample covariance matrix (symmetric and positive "
                     "semidefinite). Maximise it over unit vectors, {c}.",
                     w=w, q=quad, S=S, c=sympy.Eq(w.T * w, one)),
             check=False, detail="brief"),
        Step("definition", None, sympy.Eq(sympy.Symbol("L"), lagr, evaluate=False),
             explain("Introduce a Lagrange multiplier {l} for the constraint:", l=lam),
             check=False),
        Step("gradient", sympy.Derivative(lagr, w), grad,
             explain("Differentiate with respect to {w}: the gradient of {q} is {g}, which is "
                     "{g2} because {S} is symmetric, and the gradient of {ww} is {g3}.",
                     w=w, q=quad, g=(S + S.T) * w, g2=2 * S * w, S=S, ww=w.T * w, g3=2 * w),
             check=check_gradient),
        Step("stationarity", None, eigen,
             explain("Set the gradient to zero: the stationary directions are the eigenvectors "
                     "of {S}, and the multiplier {l} is the eigenvalue.", S=S, l=lam),
             check=check_stationary, detail="brief"),
        Step("value", quad, sympy.Symbol("lambda"),
             explain("At an eigenvector the captured variance is {v}, since {c}. So the "
                     "maximum is the largest eigenvalue, reached at its eigenvector: the "
                     "first principal component.",
                     v=sympy.Eq(quad, lam * w.T * w), c=sympy.Eq(w.T * w, one)),
             check=check_maximum, detail="brief"),
        Step("example", None, None,
             explain("For example, with {S} = {Sv} the Lagrange derivation of the mathematics "
                     "library (symml.steps.lagrange) gives four stationary points: the unit "
                     "eigenvectors, with multipliers the eigenvalues 3 and 1, and the "
                     "variance 3 at the first principal direction {w}.", S=S, Sv=S_ex,
                     w=sympy.Matrix([1, 1]) / sympy.sqrt(2)),
             substeps=list(example.steps), check=check_example),
        Step("components", None, None,
             explain("Maximising again over unit vectors orthogonal to the components found so "
                     "far gives the next eigenvector: component {k} explains variance {lk} "
                     "(the k-th largest eigenvalue), a fraction {r} of the total.",
                     k=k, lk=lam_k, r=lam_k / sympy.Sum(lam_j, (j, 1, d))),
             check=check_components),
        Step("reconstruction", None, None,
             explain("Keeping {k} components, the squared reconstruction error per degree of "
                     "freedom is the variance left out: {e}.",
                     k=k, e=sympy.Sum(lam_j, (j, k + 1, d))),
             check=check_reconstruction),
    ]
    return Derivation(
        "Principal component analysis: the directions of maximal variance", "pca",
        quad, steps, eigen, result_check=check_components,
    )  # fmt: skip
