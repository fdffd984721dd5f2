"""Support vector machines: the dual derived from the primal, solved by SMO.

The derivation (:func:`svm_derivation`): the hard-margin primal
``min 1/2 ||w||^2`` subject to ``y_i (w' x_i + b) >= 1`` (maximising the margin ``1/||w||``),
then the soft-margin primal
``min 1/2 ||w||^2 + C sum xi_i`` subject to ``y_i (w' x_i + b) >= 1 - xi_i``, ``xi_i >= 0``;
its Lagrangian; stationarity ``w = sum alpha_i y_i x_i``, ``sum alpha_i y_i = 0`` and
``alpha_i + mu_i = C``; substituting back gives the dual
``max sum alpha_i - 1/2 sum_ij alpha_i alpha_j y_i y_j K(x_i, x_j)`` with
``0 <= alpha_i <= C`` and ``sum alpha_i y_i = 0``, where the data appear only through inner
products, so any kernel can replace them (the kernel trick, shown for the degree-2
polynomial kernel in two dimensions).

The dual is solved by sequential minimal optimisation with second-order working-set
selection (as in LIBSVM): each step optimises two multipliers exactly, keeping
``sum alpha_i y_i = 0``; it stops when the maximal KKT violation is below ``tol``.
:attr:`SVM.duality_gap_` is the primal objective minus the dual one at the solution.

>>> import numpy as np
>>> from symml.ml import SVM
>>> X = np.array([[0.0, 0.0], [2.0, 0.0]]); y = np.array([-1, 1])
>>> s = SVM(C=1e6).fit(X, y)
>>> np.round(s.coef_, 6), round(s.intercept_, 6), round(s.margin_, 6)
(array([1., 0.]), -1.0, 1.0)
"""

from __future__ import annotations

import numpy as np
import sympy

from ..errors import ArgumentError, DataError
from ._base import Estimator, as_matrix, as_vector, check_fitted

__all__ = ["SVM", "svm_derivation"]


class SVM(Estimator):
    """A two-class support vector machine (labels may be any two values).

    Parameters
    ----------
    kernel : "linear", "poly" or "rbf"
    C : float
        Penalty of margin violations (``np.inf`` for a hard margin).
    degree, gamma, coef0 :
        Kernel parameters: poly ``(gamma x'z + coef0)^degree``, rbf ``exp(-gamma ||x - z||^2)``;
        ``gamma="scale"`` is ``1 / (n_features * X.var())``.
    tol, max_iter :
        SMO stops when the maximal KKT violation is below ``tol``.
    """

    def __init__(self, kernel: str = "linear", C: float = 1.0, degree: int = 3,
                 gamma: float | str = "scale", coef0: float = 1.0, tol: float = 1e-8,
                 max_iter: int = 100_000):  # fmt: skip
        self.kernel = kernel
        self.C = C
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.tol = tol
        self.max_iter = max_iter

    # -- kernels -----------------------------------------------------------------------------
    def _kernel(self, A, B):
        if self.kernel == "linear":
            return A @ B.T
        if self.kernel == "poly":
            return (self.gamma_ * (A @ B.T) + self.coef0) ** self.degree
        if self.kernel == "rbf":
            d2 = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * A @ B.T
            return np.exp(-self.gamma_ * np.maximum(d2, 0.0))
        raise ArgumentError(f"unknown kernel {self.kernel!r}; use 'linear', 'poly' or 'rbf'")

    def _gamma(self, X):
        if self.gamma == "scale":
            v = X.var()
            return 1.0 / (X.shape[1] * v) if v > 0 else 1.0
        if isinstance(self.gamma, str) or not self.gamma > 0:
            raise ArgumentError(f"gamma must be 'scale' or a positive number, got {self.gamma!r}")
        return float(self.gamma)

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X, y):
        A = as_matrix(X)
        labels = as_vector(y, len(A))
        classes = np.unique(labels)
        if len(classes) != 2:
            raise DataError(f"SVM needs exactly two classes in y, found {len(classes)}")
        if not self.C > 0:
            raise ArgumentError(f"C must be positive, got {self.C}")
        self.classes_ = classes
        s = np.where(labels == classes[1], 1.0, -1.0)
        self.gamma_ = self._gamma(A)
        K = self._kernel(A, A)
        alpha, G, self.n_iter_ = _smo(K, s, float(self.C), self.tol, self.max_iter)
        self.converged_ = self.n_iter_ < self.max_iter
        free = (alpha > 1e-12) & (alpha < self.C - 1e-12 * max(1.0, self.C if np.isfinite(self.C) else 1.0))
        if free.any():
            b = float(np.mean(-s[free] * G[free]))
        else:  # every multiplier at a bound: the middle of the feasible interval
            up = ((s > 0) & (alpha < self.C)) | ((s < 0) & (alpha > 0))
            low = ((s < 0) & (alpha < self.C)) | ((s > 0) & (alpha > 0))
            b = float((np.max(-s[up] * G[up]) + np.min(-s[low] * G[low])) / 2)
        sv = alpha > 1e-12
        self.support_ = np.flatnonzero(sv)
        self.support_vectors_ = A[sv]
        self.dual_coef_ = (alpha * s)[sv][None, :]
        self.alpha_ = alpha
        self.intercept_ = b
        # objectives: the dual (maximised) and the primal at w = sum alpha_i y_i phi(x_i)
        quad = float(alpha @ (K * np.outer(s, s)) @ alpha)
        self.dual_objective_ = float(alpha.sum() - quad / 2)
        f = K @ (alpha * s) + b
        hinge = np.maximum(0.0, 1 - s * f)
        if np.isfinite(self.C):
            self.primal_objective_ = quad / 2 + self.C * float(hinge.sum())
        else:
            self.primal_objective_ = quad / 2 if hinge.max() < 1e-6 else np.inf
        self.duality_gap_ = self.primal_objective_ - self.dual_objective_
        if self.kernel == "linear":
            self.coef_ = (alpha * s) @ A
            norm = np.linalg.norm(self.coef_)
            self.margin_ = float(1.0 / norm) if norm > 0 else np.inf
        return self

    def decision_function(self, X) -> np.ndarray:
        """sum_i alpha_i y_i K(x_i, x) + b: positive on the side of ``classes_[1]``."""
        check_fitted(self, "alpha_")
        A = as_matrix(X)
        if A.shape[1] != self.support_vectors_.shape[1]:
            raise DataError(f"X has {A.shape[1]} features; the model was fitted on {self.support_vectors_.shape[1]}")
        return self._kernel(A, self.support_vectors_) @ self.dual_coef_[0] + self.intercept_

    def predict(self, X) -> np.ndarray:
        """The predicted label of each row."""
        return np.where(self.decision_function(X) > 0, self.classes_[1], self.classes_[0])

    def score(self, X, y) -> float:
        """Accuracy on (X, y)."""
        return float(np.mean(self.predict(X) == as_vector(y)))

    def derivation(self):
        """The derivation of the SVM dual (a :class:`~symml.steps.Derivation`)."""
        return svm_derivation()


def _smo(K, s, C, tol, max_iter):
    """Minimise 1/2 a'Qa - sum a, Q = (s s') * K, subject to 0 <= a <= C, s'a = 0."""
    n = len(s)
    alpha = np.zeros(n)
    G = -np.ones(n)  # gradient Q a - 1
    diag = np.diag(K)
    it = 0
    for it in range(max_iter):  # noqa: B007 - the count is returned
        score = -s * G
        up = ((s > 0) & (alpha < C)) | ((s < 0) & (alpha > 0))
        low = ((s < 0) & (alpha < C)) | ((s > 0) & (alpha > 0))
        if not up.any() or not low.any():
            break
        i = int(np.flatnonzero(up)[np.argmax(score[up])])
        m_up = score[i]
        cand = low & (score < m_up)
        if not cand.any() or m_up - score[low].min() < tol:
            break
        b = m_up - score[cand]
        a = np.maximum(diag[i] + diag[cand] - 2 * K[i, cand], 1e-12)
        j = int(np.flatnonzero(cand)[np.argmax(b * b / a)])
        curv = max(diag[i] + diag[j] - 2 * K[i, j], 1e-12)
        t = (m_up - score[j]) / curv
        t = min(t, C - alpha[i] if s[i] > 0 else alpha[i], alpha[j] if s[j] > 0 else C - alpha[j])
        alpha[i] += s[i] * t
        alpha[j] -= s[j] * t
        G += t * s * (K[:, i] - K[:, j])
    return alpha, G, it


class _Between(sympy.Function):
    """``lo <= x <= hi`` (``strict``: ``<``) as one chained relation, for display in derivations."""

    nargs = 4

    def _rel(self, printer, le, lt):
        lo, x, hi, strict = self.args
        op = lt if strict == sympy.true else le
        return f"{printer._print(lo)} {op} {printer._print(x)} {op} {printer._print(hi)}"

    def _latex(self, printer, exp=None):
        return self._rel(printer, r"\leq", "<")

    def _sympystr(self, printer):
        return self._rel(printer, "<=", "<")

    _symmltext = _sympystr  # symml's text printer


def svm_derivation():
    """From the soft-margin primal to the dual, and the kernel trick (degree-2 polynomial).

    Each step is checked: stationarity by symml's exact gradient of the Lagrangian of a
    concrete 3-point problem, the dual by substituting the stationary w back into that
    Lagrangian (exact algebra), the feature map by expanding both sides, and the result by
    solving a small dual numerically and comparing with the primal optimum.

    >>> d = svm_derivation()
    >>> d.verify()
    True
    """
    from ..calculus import grad as _grad
    from ..steps.model import Derivation, Step, explain

    i, j, n = sympy.symbols("i j n", integer=True, positive=True)
    w = sympy.Symbol("w")
    x, y, a, xi, mu = (sympy.IndexedBase(v) for v in ("x", "y", "alpha", "xi", "mu"))
    b, C = sympy.Symbol("b", real=True), sympy.Symbol("C", positive=True)
    Kf = sympy.Function("K")
    dual = sympy.Sum(a[i], (i, 1, n)) - sympy.Sum(
        a[i] * a[j] * y[i] * y[j] * Kf(x[i], x[j]), (i, 1, n), (j, 1, n)) / 2

    # a concrete instance: 3 points in 2-D, everything symbolic except the data
    pts = [(sympy.Integer(0), sympy.Integer(0)), (sympy.Integer(2), sympy.Integer(1)), (sympy.Integer(1), sympy.Integer(3))]
    lab = [-1, 1, 1]
    W = sympy.symbols("w1 w2", real=True)
    B = sympy.Symbol("b", real=True)
    A_ = sympy.symbols("a1:4", real=True)
    X_ = sympy.symbols("xi1:4", real=True)
    M_ = sympy.symbols("mu1:4", real=True)
    Cc = sympy.Symbol("C", positive=True)
    marg = [lab[k] * (W[0] * pts[k][0] + W[1] * pts[k][1] + B) - 1 + X_[k] for k in range(3)]
    L = (W[0] ** 2 + W[1] ** 2) / 2 + Cc * sum(X_) - sum(A_[k] * marg[k] for k in range(3)) - sum(M_[k] * X_[k] for k in range(3))
    w_star = [sum(A_[k] * lab[k] * pts[k][c] for k in range(3)) for c in range(2)]

    def check_stationarity(step) -> bool:
        g = _grad(L, [*W, B, *X_])
        want = [W[0] - w_star[0], W[1] - w_star[1], -sum(A_[k] * lab[k] for k in range(3))]
        want += [Cc - A_[k] - M_[k] for k in range(3)]
        return all(sympy.expand(gk - wk) == 0 for gk, wk in zip(g, want, strict=True))

    def check_dual(step) -> bool:
        # substitute w = w*, the constraint sum a y = 0 (eliminate a3) and mu = C - a
        sub = {W[0]: w_star[0], W[1]: w_star[1]}
        sub.update({M_[k]: Cc - A_[k] for k in range(3)})
        a3 = -(A_[0] * lab[0] + A_[1] * lab[1]) / lab[2]
        Ls = sympy.expand(L.subs(sub).subs(A_[2], a3))
        Kn = [[pts[p][0] * pts[q][0] + pts[p][1] * pts[q][1] for q in range(3)] for p in range(3)]
        D = sum(A_) - sum(A_[p] * A_[q] * lab[p] * lab[q] * Kn[p][q] for p in range(3) for q in range(3)) / 2
        return sympy.expand(Ls - D.subs(A_[2], a3)) == 0

    def check_kernel(step) -> bool:
        # the step as shown (the square expanded into phi(x)'phi(z)), then rebuilt from phi
        if sympy.expand(step.before - step.after) != 0:
            return False
        x1, x2, z1, z2 = sympy.symbols("x1 x2 z1 z2", real=True)
        r2 = sympy.sqrt(2)
        phi = lambda u, v: [1, r2 * u, r2 * v, u**2, r2 * u * v, v**2]  # noqa: E731
        lhs = (x1 * z1 + x2 * z2 + 1) ** 2
        rhs = sum(p * q for p, q in zip(phi(x1, x2), phi(z1, z2), strict=True))
        return sympy.expand(lhs - rhs) == 0

    def check_result(d) -> bool:
        from scipy.optimize import minimize

        rng = np.random.default_rng(0)
        Xn = np.r_[rng.normal(-1, 1, (15, 2)), rng.normal(1.5, 1, (15, 2))]
        yn = np.r_[-np.ones(15), np.ones(15)]
        model = SVM(C=1.0).fit(Xn, yn)

        def primal(v):
            return 0.5 * v[:2] @ v[:2] + np.maximum(0, 1 - yn * (Xn @ v[:2] + v[2])).sum()

        best = minimize(primal, np.r_[model.coef_, model.intercept_] + 0.3, method="Nelder-Mead",
                        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})  # fmt: skip
        return bool(abs(model.duality_gap_) < 1e-6 and best.fun >= model.dual_objective_ - 1e-6
                    and abs(best.fun - model.primal_objective_) < 1e-4)

    def check_hard_margin(step) -> bool:
        # on a hand-made separable set the distances |w'x + b| / ||w|| of the closest points
        # are 1/||w|| once they are scaled to |w'x + b| = 1, and maximising that margin
        # gives the analytic answer: half the distance between (0.5, 0.5) and (1.5, 1.5)
        Xh = np.array([[0.5, 0.5], [0.0, 1.0], [-1.0, 0.0], [1.5, 1.5], [3.0, 1.0], [2.0, 3.0]])
        yh = np.array([-1, -1, -1, 1, 1, 1])
        m = SVM(C=np.inf).fit(Xh, yh)
        dist = np.abs(Xh @ m.coef_ + m.intercept_) / np.linalg.norm(m.coef_)
        return bool(np.all(yh * (Xh @ m.coef_ + m.intercept_) >= 1 - 1e-9)
                    and np.isclose(dist.min(), m.margin_, rtol=1e-9)
                    and np.isclose(m.margin_, np.sqrt(2) / 2, rtol=1e-9))

    def check_kkt(step) -> bool:
        # every KKT condition at the solver's optimum of a soft-margin problem
        rng = np.random.default_rng(5)
        Xn = np.r_[rng.normal(-1, 1, (25, 2)), rng.normal(1, 1, (25, 2))]
        yn = np.r_[-np.ones(25), np.ones(25)]
        Cn = 0.7
        m = SVM(C=Cn).fit(Xn, yn)
        al = m.alpha_
        f = Xn @ m.coef_ + m.intercept_
        slack = np.maximum(0.0, 1 - yn * f)
        mu_ = Cn - al
        tol = 1e-6
        return bool(
            np.allclose(m.coef_, (al * yn) @ Xn) and abs(al @ yn) < 1e-10  # stationarity
            and np.all(yn * f >= 1 - slack - tol) and np.all(slack >= 0)  # primal feasibility
            and np.all(al >= -1e-12) and np.all(mu_ >= -1e-12)  # dual feasibility
            and np.all(np.abs(al * (yn * f - 1 + slack)) < tol)  # complementary slackness
            and np.all(np.abs(mu_ * slack) < tol)
        )

    x1s, x2s = sympy.symbols("x1 x2", real=True)
    z1s, z2s = sympy.symbols("z1 z2", real=True)
    _poly2 = (x1s * z1s + x2s * z2s + 1) ** 2
    _phi_x = [1, sympy.sqrt(2) * x1s, sympy.sqrt(2) * x2s, x1s**2, sympy.sqrt(2) * x1s * x2s, x2s**2]
    _phi_z = [1, sympy.sqrt(2) * z1s, sympy.sqrt(2) * z2s, z1s**2, sympy.sqrt(2) * z1s * z2s, z2s**2]
    _phi_dot = sympy.Add(*[p * q for p, q in zip(_phi_x, _phi_z, strict=True)])
    wnorm = sympy.Symbol("||w||", positive=True)
    steps = [
        Step("hard_margin", None, None,
             explain("Hard margin (separable data). The distance of a point to the hyperplane "
                     "{h} is {dist}; scaling {w} and {b} so that the closest points have {one}, "
                     "the margin is {m}, and maximising it is the primal problem: minimise "
                     "{f} subject to {c} for every point i.",
                     h=sympy.Eq(sympy.Symbol("w'x") + b, 0),
                     dist=sympy.Abs(sympy.Symbol("w'x_i") + b) / wnorm, w=w, b=b,
                     one=sympy.Eq(sympy.Abs(sympy.Symbol("w'x_i") + b), 1), m=1 / wnorm,
                     f=wnorm**2 / 2, c=sympy.Ge(y[i] * (sympy.Symbol("w'x_i") + b), 1)),
             check=check_hard_margin, detail="brief"),
        Step("primal", None, None,
             explain("Soft-margin primal: when the classes overlap, allow each point a slack "
                     "{xi} and pay {C} per unit of violation: minimise {f} over {w}, {b} and "
                     "the slacks, subject to {c1} and {c2} for every point i.", C=C,
                     f=sympy.Symbol("||w||") ** 2 / 2 + C * sympy.Sum(xi[i], (i, 1, n)), w=w, b=b,
                     xi=xi[i], c1=sympy.Ge(y[i] * (sympy.Symbol("w'x_i") + b), 1 - xi[i]),
                     c2=sympy.Ge(xi[i], 0)),
             check=False, detail="brief"),
        Step("lagrangian", None, None,
             explain("Multipliers {a} for the margin constraints and {m} for the slacks give the "
                     "Lagrangian {L}.", a=sympy.Ge(a[i], 0), m=sympy.Ge(mu[i], 0),
                     L=sympy.Symbol("||w||") ** 2 / 2 + C * sympy.Sum(xi[i], (i, 1, n))
                     - sympy.Sum(a[i] * (y[i] * (sympy.Symbol("w'x_i") + b) - 1 + xi[i]), (i, 1, n))
                     - sympy.Sum(mu[i] * xi[i], (i, 1, n))),
             check=False),
        Step("stationarity", None, None,
             explain("Setting the derivatives with respect to {w}, {b} and {xi} to zero gives "
                     "{e1}, {e2} and {e3}; with {m} this bounds each multiplier, {box}.",
                     w=w, b=b, xi=xi[i], e1=sympy.Eq(w, sympy.Sum(a[i] * y[i] * x[i], (i, 1, n))),
                     e2=sympy.Eq(sympy.Sum(a[i] * y[i], (i, 1, n)), 0), e3=sympy.Eq(a[i] + mu[i], C),
                     m=sympy.Ge(mu[i], 0), box=_Between(0, a[i], C, sympy.false)),
             check=check_stationarity, detail="brief"),
        Step("dual", None, dual,
             explain("Substituting back, {w} and the slacks drop out: maximise over {a}, with "
                     "{box} and {eq}, where {K} is the inner product of the points:",
                     w=w, a=a[i], box=_Between(0, a[i], C, sympy.false),
                     eq=sympy.Eq(sympy.Sum(a[i] * y[i], (i, 1, n)), 0), K=Kf(x[i], x[j])),
             check=check_dual, detail="brief"),
        Step("kkt", None, None,
             explain("The KKT conditions at the optimum: stationarity (above), primal "
                     "feasibility {pf1} and {pf2}, dual feasibility {df1} and {df2}, and "
                     "complementary slackness "
                     "{cs1} and {cs2}. So points with {a0} lie outside the margin, points "
                     "with {amid} lie on it (they fix {b}), and {aC} marks margin violations; "
                     "the points with {apos} are the support vectors. A hard margin is the case "
                     "{Cinf}.", pf1=sympy.Ge(y[i] * (sympy.Symbol("w'x_i") + b), 1 - xi[i]), pf2=sympy.Ge(xi[i], 0),
                     df1=sympy.Ge(a[i], 0), df2=sympy.Ge(mu[i], 0),
                     cs1=sympy.Eq(a[i] * (y[i] * (sympy.Symbol("w'x_i") + b) - 1 + xi[i]), 0),
                     cs2=sympy.Eq(mu[i] * xi[i], 0), a0=sympy.Eq(a[i], 0), amid=_Between(0, a[i], C, sympy.true),
                     b=b, aC=sympy.Eq(a[i], C), apos=sympy.Gt(a[i], 0), Cinf=sympy.Eq(C, sympy.oo, evaluate=False)),
             check=check_kkt),
        Step("kernel_trick", _poly2, _phi_dot,
             explain("The data enter only through {K}, so a kernel may replace the inner product. "
                     "For example {k2} is the inner product of the feature map phi(x) = {phi} "
                     "in six dimensions: expanding the square gives the sum of the products of "
                     "matching features, phi(x)'phi(z), below. The kernel costs one inner "
                     "product in two dimensions; phi is never computed.",
                     K=Kf(x[i], x[j]),
                     k2=sympy.Eq(Kf(sympy.Symbol("x"), sympy.Symbol("z")),
                                 (sympy.Symbol("x1") * sympy.Symbol("z1") + sympy.Symbol("x2") * sympy.Symbol("z2") + 1) ** 2),
                     phi=sympy.Matrix([1, sympy.sqrt(2) * x1s, sympy.sqrt(2) * x2s, x1s**2,
                                       sympy.sqrt(2) * x1s * x2s, x2s**2]).T),
             check=check_kernel),
    ]
    return Derivation("Support vector machine: from the primal to the dual", "svm", None,
                      steps, dual, result_check=check_result)  # fmt: skip
