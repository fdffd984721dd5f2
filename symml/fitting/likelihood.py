"""Maximum likelihood: negative log-likelihoods derived per row, exact gradient and Hessian.

For a model ``y ~ Dist(args)`` the negative log-likelihood of ONE row is written down
symbolically (:func:`row_negloglik`), split into a part that depends on the parameters and a
part that depends on the data only (``log(y!)`` for Poisson, ``log(2 pi)/2`` for Normal...).
The parameter part is differentiated exactly, compiled, evaluated over all rows with NumPy
and summed (``reduce="sum"``); the data-only part is added once to report the log-likelihood.

========================  ===========================================================
``Normal(mu, s)``         ``log(s) + (y - mu)^2/(2 s^2)``            ``+ log(2 pi)/2``
``Bernoulli(p)``          ``-y log(p) - (1 - y) log(1 - p)``
``Poisson(rate)``         ``rate - y log(rate)``                     ``+ log(y!)``
``Binomial(n, p)``        ``-y log(p) - (n - y) log(1 - p)``         ``- log(n choose y)``
``Exponential(rate)``     ``rate*y - log(rate)``
========================  ===========================================================

A probability written ``sigmoid(z)`` turns the Bernoulli/Binomial terms into the numerically
safe ``n*softplus(z) - y*z``; a rate written ``exp(z)`` gives ``exp(z) - y*z`` by SymPy's own
simplification of ``log(exp(z))`` for real ``z``.

Speed: linear predictors ``dot(w, x)`` of a parameter vector with a data vector are found in
the row expression and evaluated as a matrix product ``X @ w``; the chain rule then gives
the gradient ``X.T @ (dl/deta)`` and the Hessian ``X.T @ diag(d2l/deta2) @ X`` with BLAS,
never an n-by-d array of per-row gradients held in Python objects.

>>> import sympy
>>> y, mu, s = sympy.symbols("y mu s", real=True)
>>> row_negloglik("Normal", (mu, s), y).core
log(s) + (-mu + y)**2/(2*s**2)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import mpmath
import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.special
import sympy

from ..errors import ArgumentError, DataError, FitError
from ..functions import sigmoid, softplus
from ..optimize.methods import all_names, get_method, method_names, scipy_options, split_options

__all__ = [
    "DISTRIBUTIONS",
    "RowNLL",
    "row_negloglik",
    "ParamSpec",
    "NLLObjective",
    "MLESolution",
    "maximize_likelihood",
    "MLE_METHODS",
]


def _as_sym(value):
    """A SymPy object from a caller's value: text goes through the symml language (never
    ``sympy.sympify``, which evaluates Python), numbers become SymPy numbers."""
    from .._convert import as_expr

    if isinstance(value, sympy.Basic):
        return value
    out = as_expr(value)
    if isinstance(out, sympy.MatrixBase):
        raise ArgumentError(f"expected a scalar expression, got {value!r}")
    return out


#: digits and size limit (rows * (parameters + 1)) of the extended-precision gradient
_MP_DPS = 40
_MP_MAX_WORK = 60_000

# name -> number of arguments
DISTRIBUTIONS: dict[str, int] = {
    "Normal": 2,
    "Bernoulli": 1,
    "Poisson": 1,
    "Binomial": 2,
    "Exponential": 1,
}


@dataclass(frozen=True)
class RowNLL:
    """Negative log-likelihood of one row, split into what the optimizer needs and the rest.

    Attributes
    ----------
    dist : str
        Distribution name.
    core : sympy.Expr
        The part that depends on the parameters (what is minimized and differentiated).
    constant : callable
        ``constant(y, n) -> ndarray``: the data-only part per row (``n`` is the Binomial
        number of trials, None otherwise).
    mean : sympy.Expr
        The model's mean of ``y`` for a row (what ``FitResult.predict`` returns).
    check : callable
        ``check(y, n)`` raises DataError when ``y`` is outside the distribution's support.
    """

    dist: str
    core: sympy.Expr
    constant: Callable = field(repr=False)
    mean: sympy.Expr = None
    check: Callable = field(default=None, repr=False)


def _no_constant(y, n):
    return np.zeros_like(y)


def _check_range(dist, y, low=None, high=None, what=""):
    bad = np.zeros(y.shape, dtype=bool)
    if low is not None:
        bad |= y < low
    if high is not None:
        bad |= y > high
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = ", ".join(str(int(r)) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
        raise DataError(
            f"{dist} needs the response {what}; {len(rows)} row(s) are outside that "
            f"(row {shown}, first value {y[rows[0]]:g})"
        )


def row_negloglik(dist: str, args: Sequence[sympy.Expr], y: sympy.Symbol) -> RowNLL:
    """The per-row negative log-likelihood of ``y ~ dist(*args)``.

    Parameters
    ----------
    dist : str
        One of :data:`DISTRIBUTIONS`.
    args : sequence of sympy.Expr
        The distribution's arguments (expressions of parameters and data).
    y : sympy.Symbol
        Symbol standing for the response of the row.

    Returns
    -------
    RowNLL

    Examples
    --------
    >>> import sympy
    >>> from symml.functions import sigmoid
    >>> y, z = sympy.symbols("y z", real=True)
    >>> row_negloglik("Bernoulli", (sigmoid(z),), y).core
    -y*z + softplus(z)
    >>> row_negloglik("Poisson", (sympy.exp(z),), y).core
    -y*z + exp(z)
    """
    if dist not in DISTRIBUTIONS:
        raise FitError(f"unknown distribution '{dist}'; use one of {', '.join(DISTRIBUTIONS)}")
    want = DISTRIBUTIONS[dist]
    args = tuple(_as_sym(a) for a in args)
    if len(args) != want:
        raise FitError(f"{dist} takes {want} argument(s), got {len(args)}")
    if dist == "Normal":
        mu, s = args
        core = sympy.log(s) + (y - mu) ** 2 / (2 * s**2)
        half_log_2pi = 0.5 * math.log(2 * math.pi)
        return RowNLL(
            dist,
            core,
            lambda yv, n: np.full_like(yv, half_log_2pi),
            mu,
            None,
        )
    if dist == "Bernoulli":
        (p,) = args
        core = _binary_nll(p, y, sympy.Integer(1))
        return RowNLL(
            dist,
            core,
            _no_constant,
            p,
            lambda yv, n: _check_range(dist, yv, 0, 1, "in [0, 1] (0 or 1 for each row)"),
        )
    if dist == "Binomial":
        n, p = args
        core = _binary_nll(p, y, n)

        def constant(yv, nv):
            return -(
                scipy.special.gammaln(nv + 1)
                - scipy.special.gammaln(yv + 1)
                - scipy.special.gammaln(nv - yv + 1)
            )

        def check(yv, nv):
            _check_range(dist, yv, 0, None, "of successes to be >= 0")
            _check_range(dist, nv - yv, 0, None, "of successes to be at most the trials n")

        return RowNLL(dist, core, constant, n * p, check)
    if dist == "Poisson":
        (rate,) = args
        core = rate - y * sympy.log(rate)
        return RowNLL(
            dist,
            core,
            lambda yv, n: scipy.special.gammaln(yv + 1),
            rate,
            lambda yv, n: _check_range(dist, yv, 0, None, "to be a count >= 0"),
        )
    # Exponential
    (rate,) = args
    core = rate * y - sympy.log(rate)
    return RowNLL(
        dist,
        core,
        _no_constant,
        1 / rate,
        lambda yv, n: _check_range(dist, yv, 0, None, "to be >= 0"),
    )


def _binary_nll(p, y, n):
    """``-y log p - (n - y) log(1 - p)``; with ``p = sigmoid(z)``: ``n softplus(z) - y z``."""
    if isinstance(p, sigmoid):
        z = p.args[0]
        return n * softplus(z) - y * z
    return -y * sympy.log(p) - (n - y) * sympy.log(1 - p)


# ---------------------------------------------------------------------------------------
# parameters and the compiled objective
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """A parameter of a fit: a name, its shape and its scalar symbols (row-major)."""

    name: str
    symbols: tuple  # of sympy.Symbol
    shape: tuple[int, ...] = ()

    @property
    def size(self) -> int:
        return len(self.symbols)

    def flat_names(self) -> list[str]:
        if not self.shape:
            return [self.name]
        return [s.name for s in self.symbols]


def _fresh(prefix: str, i: int) -> sympy.Symbol:
    return sympy.Symbol(f"_{prefix}{i}_", real=True)


def _absorb_linear_predictor(expr, P, D, eta):
    """Replace every sum containing all of ``c*P[i]*D[i]`` (same c) by ``c*eta``."""
    d = len(P)
    prods = {sympy.Mul(P[i], D[i]): i for i in range(d)}

    def split(add):
        by_coeff: dict = {}
        for a in add.args:
            c, rest = a.as_coeff_Mul()
            i = prods.get(rest)
            if i is not None:
                by_coeff.setdefault(c, {})[i] = a
        for c, found in by_coeff.items():
            if len(found) == d:
                return c, set(found.values())
        return None

    def query(a):
        return a.is_Add and split(a) is not None

    def value(a):
        c, used = split(a)
        return sympy.Add(*[t for t in a.args if t not in used]) + c * eta

    return expr.replace(query, value)


def _compile_rows(exprs, args):
    """Compile a list of row expressions of plain symbols ``args`` to NumPy (no reduction)."""
    from ..compile import compile as _compile

    return _compile(list(exprs), list(args))


class NLLObjective:
    """Sum over rows of a compiled per-row negative log-likelihood, with exact derivatives.

    ``value(theta)``, ``grad(theta)`` and ``hess(theta)`` take the flat parameter vector
    (parameters in order, vectors row-major). Values outside the model's domain (a log of a
    negative number, an overflow) are returned as +inf so trust-region methods step back.
    """

    def __init__(
        self,
        core: sympy.Expr,
        params: Sequence[ParamSpec],
        columns: Mapping[str, np.ndarray],
        data_symbols: Mapping[str, object],
        weights: np.ndarray | None = None,
    ):
        from ..calculus import grad as _grad
        from ..calculus import hessian as _hessian

        self.params = list(params)
        self.size = sum(p.size for p in self.params)
        self.weights = weights
        expr = _as_sym(core)

        # 1. linear predictors: (param vector, data vector) pairs of the same length
        vec_params = [p for p in self.params if len(p.shape) == 1]
        vec_data = {
            name: list(sym)
            for name, sym in data_symbols.items()
            if isinstance(sym, sympy.MatrixBase) and min(sym.shape) == 1
        }
        offsets, off = {}, 0
        for p in self.params:
            offsets[p.name] = off
            off += p.size
        self._offsets = offsets
        predictors = []  # (eta symbol, param spec, data name)
        for p in vec_params:
            trial, found = expr, []
            for dname, dsyms in vec_data.items():
                if len(dsyms) != p.size:
                    continue
                eta = _fresh("eta", len(predictors) + len(found))
                new = _absorb_linear_predictor(trial, list(p.symbols), dsyms, eta)
                if new != trial:
                    found.append((eta, p, dname))
                    trial = new
            if found and not (trial.free_symbols & set(p.symbols)):
                expr = trial
                predictors.extend(found)
        absorbed = {id(p) for _, p, _ in predictors}
        self._predictors = [
            (eta, offsets[p.name], p.size, np.ascontiguousarray(columns[dname]))
            for eta, p, dname in predictors
        ]

        # 2. direct parameters (scalars and vectors not absorbed), fresh plain symbols
        direct = []  # (flat index, original symbol, fresh symbol)
        for p in self.params:
            if id(p) in absorbed:
                continue
            for k, s in enumerate(p.symbols):
                direct.append((offsets[p.name] + k, s, _fresh("theta", len(direct))))
        self._direct_index = np.array([i for i, _, _ in direct], dtype=int)

        # 3. data: scalar columns and the remaining components of data vectors
        data_args, data_values, subs = [], [], {}
        for _, s, t in direct:
            subs[s] = t
        free = expr.free_symbols
        for name, sym in data_symbols.items():
            if isinstance(sym, sympy.MatrixBase):
                col = columns[name].reshape(columns[name].shape[0], -1)
                for k, comp in enumerate(sym):
                    if comp in free:
                        t = _fresh("data", len(data_args))
                        subs[comp] = t
                        data_args.append(t)
                        data_values.append(np.ascontiguousarray(col[:, k]))
            elif sym in free:
                t = _fresh("data", len(data_args))
                subs[sym] = t
                data_args.append(t)
                data_values.append(np.asarray(columns[name], dtype=float))
        expr = expr.xreplace(subs)
        self._data_values = data_values
        self.n = len(next(iter(columns.values()))) if columns else 0

        self._vars = [eta for eta, *_ in self._predictors] + [t for _, _, t in direct]
        leftover = expr.free_symbols - set(self._vars) - set(data_args)
        if leftover:
            names = ", ".join(sorted(str(s) for s in leftover))
            raise FitError(
                f"the likelihood depends on {names}, which is neither data nor a parameter"
            )
        self.kernel_expr = expr
        nv = len(self._vars)
        g = list(_grad(expr, self._vars)) if nv else []
        self._row_grad_exprs, self._all_args = g, self._vars + data_args
        self._mp = None  # the extended-precision gradient, compiled on first use
        H = _hessian(expr, self._vars) if nv else sympy.zeros(0, 0)
        self._pairs = [(a, b) for a in range(nv) for b in range(a, nv)]
        args = self._vars + data_args
        self._vg = _compile_rows([expr, *g], args)
        self._h = _compile_rows([H[a, b] for a, b in self._pairs], args) if nv else None
        self.nfev = self.njev = self.nhev = 0
        self._cache_key = None
        self._cache = None
        self._hess_key = None
        self._hess = None

    # -- evaluation ---------------------------------------------------------------------
    def _row_args(self, theta):
        theta = np.asarray(theta, dtype=float)
        etas = [D @ theta[o : o + k] for _, o, k, D in self._predictors]
        direct = [theta[i] for i in self._direct_index]
        return etas + direct + self._data_values

    def _sum(self, a):
        a = np.broadcast_to(np.asarray(a, dtype=float), (self.n,))
        if self.weights is None:
            return float(a.sum())
        return float(self.weights @ a)

    def _weighted(self, a):
        a = np.broadcast_to(np.asarray(a, dtype=float), (self.n,))
        return a if self.weights is None else a * self.weights

    def value_and_grad(self, theta):
        theta = np.asarray(theta, dtype=float)
        key = theta.tobytes()
        if key == self._cache_key:
            return self._cache
        self.nfev += 1
        self.njev += 1
        with np.errstate(all="ignore"):
            out = self._vg(*self._row_args(theta))
            f = self._sum(out[0])
            grad = np.zeros(self.size)
            npred = len(self._predictors)
            for (_, o, k, D), gk in zip(self._predictors, out[1 : 1 + npred], strict=True):
                grad[o : o + k] += D.T @ self._weighted(gk)
            for i, gk in zip(self._direct_index, out[1 + npred :], strict=True):
                grad[i] += self._sum(gk)
        if not np.isfinite(f) or not np.all(np.isfinite(grad)):
            f = np.inf
        self._cache_key, self._cache = key, (f, grad)
        return f, grad

    def value(self, theta) -> float:
        return self.value_and_grad(theta)[0]

    def mp_grad(self, theta) -> np.ndarray | None:
        """The gradient summed in mpmath at ``_MP_DPS`` digits (None if unavailable).

        Linear predictors, per-row derivatives and the sums over rows are all evaluated in
        extended precision from the float data and parameters (exact as mpmath numbers), so
        the cancellation in ``sum(r_i * x_i) = 0`` at the optimum costs no digits.
        """
        if self._mp is None:
            self._mp = False
            if self.n * (self.size + 1) <= _MP_MAX_WORK:
                from .lsq import _mp_namespace

                try:
                    fn = sympy.lambdify(
                        self._all_args,
                        self._row_grad_exprs,
                        modules=[_mp_namespace(), "mpmath"],
                        cse=True,
                    )
                except Exception:  # noqa: BLE001 - a function mpmath cannot print
                    fn = None
                if fn is not None:
                    mpf = np.frompyfunc(mpmath.mpf, 1, 1)
                    self._mp = (
                        fn,
                        [mpf(D) for *_, D in self._predictors],
                        [mpf(v) for v in self._data_values],
                        None if self.weights is None else mpf(self.weights),
                    )
        if not self._mp:
            return None
        fn, Ds, cols, w = self._mp
        theta = np.asarray(theta, dtype=float)
        with mpmath.workdps(_MP_DPS):
            tm = [mpmath.mpf(float(v)) for v in theta]
            etas = [
                D @ np.array(tm[o : o + k], dtype=object)
                for D, (_, o, k, _) in zip(Ds, self._predictors, strict=True)
            ]
            direct = [tm[i] for i in self._direct_index]
            try:
                rows = fn(*etas, *direct, *cols)
            except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
                return None
            npred = len(self._predictors)
            out = [mpmath.mpf(0)] * self.size
            for (_, o, k, _), D, r in zip(self._predictors, Ds, rows[:npred], strict=True):
                r = np.broadcast_to(np.asarray(r, dtype=object), (self.n,))
                r = r if w is None else r * w
                part = D.T @ r
                for j in range(k):
                    out[o + j] += part[j]
            for i, r in zip(self._direct_index, rows[npred:], strict=True):
                r = np.broadcast_to(np.asarray(r, dtype=object), (self.n,))
                out[int(i)] += mpmath.fsum(r if w is None else r * w)
            return np.array([float(v) for v in out])

    def grad(self, theta) -> np.ndarray:
        return self.value_and_grad(theta)[1]

    def hess(self, theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        key = theta.tobytes()
        if key == self._hess_key:
            return self._hess.copy()
        H = self._hess_eval(theta)
        self._hess_key, self._hess = key, H
        return H.copy()

    def _hess_eval(self, theta) -> np.ndarray:
        self.nhev += 1
        npred = len(self._predictors)
        nv = len(self._vars)
        H = np.zeros((self.size, self.size))
        if not nv:
            return H
        with np.errstate(all="ignore"):
            vals = self._h(*self._row_args(theta))
            blocks = {}
            for (a, b), v in zip(self._pairs, vals, strict=True):
                blocks[a, b] = blocks[b, a] = v

            def idx(a):
                if a < npred:
                    _, o, k, _ = self._predictors[a]
                    return slice(o, o + k)
                i = int(self._direct_index[a - npred])
                return slice(i, i + 1)

            for a, b in self._pairs:
                h = self._weighted(blocks[a, b])
                if a < npred and b < npred:
                    Da, Db = self._predictors[a][3], self._predictors[b][3]
                    if a == b and np.all(h >= 0):
                        Ds = Da * np.sqrt(h)[:, None]
                        block = Ds.T @ Ds  # symmetric product (BLAS syrk)
                    else:
                        block = (Da * h[:, None]).T @ Db
                elif a < npred:
                    block = (self._predictors[a][3].T @ h)[:, None]
                elif b < npred:
                    block = (self._predictors[b][3].T @ h)[None, :]
                else:
                    block = np.array([[h.sum()]])
                H[idx(a), idx(b)] += block
                if a != b:
                    H[idx(b), idx(a)] += block.T
        return H


# ---------------------------------------------------------------------------------------
# the optimizer
# ---------------------------------------------------------------------------------------

#: the methods maximum likelihood can use: every SciPy row of THE method table
#: (:mod:`symml.optimize.methods`), by canonical name and alias
MLE_METHODS = tuple(n for n in all_names() if get_method(n).kind == "scipy")
_MLE_KINDS = ("scipy",)
#: the SciPy stage's tolerance; the exact-Hessian Newton polish that follows it finishes
_MLE_TOL = 1e-8


@dataclass
class MLESolution:
    """What :func:`maximize_likelihood` found (flat parameter vector ``x``)."""

    x: np.ndarray
    nll: float
    grad: np.ndarray
    hess: np.ndarray
    cov: np.ndarray | None
    cov_reason: str
    nfev: int
    njev: int
    nhev: int
    nit: int
    success: bool
    status: int
    message: str
    method: str


def _open(b):
    return b is None or (isinstance(b, float) and math.isinf(b))


def covariance_from_information(H: np.ndarray, names: Sequence[str], what: str):
    """Invert an information matrix; returns ``(cov or None, reason)``.

    Singular or indefinite matrices give None and a reason naming the parameters involved.
    """
    p = H.shape[0]
    if p == 0:
        return np.zeros((0, 0)), ""
    if not np.all(np.isfinite(H)):
        return None, f"the {what} is not finite at the optimum"
    Hs = 0.5 * (H + H.T)
    scale = np.sqrt(np.abs(np.diag(Hs)))
    zero = scale == 0
    if zero.any():
        bad = ", ".join(n for n, z in zip(names, zero, strict=True) if z)
        return None, (
            f"the {what} is singular: the fit does not depend on {bad} at the optimum "
            f"(the parameter is not identifiable from these data)"
        )
    C = Hs / np.outer(scale, scale)  # unit diagonal: condition number free of units
    evals, evecs = np.linalg.eigh(C)
    if evals[0] <= p * np.finfo(float).eps * max(evals[-1], 1.0) * 1e3:
        v = np.abs(evecs[:, 0])
        involved = [n for n, vi in zip(names, v, strict=True) if vi > 0.1]
        if evals[0] < -1e-8 * evals[-1]:
            return None, (
                f"the {what} is not positive definite (the optimum is not a minimum "
                f"in the direction of {', '.join(involved)})"
            )
        cond = (
            f"condition number {evals[-1] / evals[0]:.1e}" if evals[0] > 0 else "a zero eigenvalue"
        )
        return None, (
            f"the {what} is singular ({cond}): {', '.join(involved)} cannot be told apart "
            "from these data; estimates are returned, standard errors are undetermined"
        )
    Cinv = evecs @ np.diag(1.0 / evals) @ evecs.T
    return Cinv / np.outer(scale, scale), ""


def _check_not_at_infinity(fun, z, z0, f, lo, hi, names, free):
    """Raise FitError when the NLL still decreases beyond the optimizer's final point along
    the path it took (the maximum is at infinity: no MLE exists, e.g. separated classes)."""
    d = z - z0
    if not np.any(d):
        return
    tol = 1e-12 * max(1.0, abs(f))
    prev = f
    for t in (1.0, 2.0):
        zt = z + t * d
        if np.any(zt < lo) or np.any(zt > hi):
            return
        ft = fun(zt)[0]
        if not (np.isfinite(ft) and ft < prev - tol * 0.0 and ft < f - tol):
            return
        prev = ft
    moving = [names[i] for i, di in zip(free, d, strict=True) if abs(di) > 1e-8 * np.max(np.abs(d))]
    raise FitError(
        "the maximum-likelihood fit diverges: the negative log-likelihood keeps decreasing as "
        f"{', '.join(moving)} grow without bound ({f:.3g} at the optimizer's last point, "
        f"{prev:.3g} twice as far), so the maximum-likelihood estimate does not exist for these "
        "data (e.g. perfectly separated classes in logistic regression); add data, remove the "
        "separating variable, or bound the parameters"
    )


def _newton_step(H: np.ndarray, g: np.ndarray) -> np.ndarray | None:
    """Solve ``H step = g`` on the Jacobi-scaled Hessian ``D^-1 H D^-1`` (D = sqrt(diag H)).

    A GLM's Hessian ``X' W X`` inherits the squared scale differences of its columns
    (condition 1e12 and more on raw covariates); scaling removes that part exactly, so a
    Cholesky solve (or a minimum-norm one if H is singular) loses only the digits of the
    scaled problem and no small singular value is cut off as round-off.
    """
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(g))):
        return None
    d = np.sqrt(np.abs(np.diag(H)))
    d = np.where(d > 0, d, 1.0)
    Hs = H / d[:, None] / d[None, :]
    gs = g / d
    try:
        sol = scipy.linalg.cho_solve(scipy.linalg.cho_factor(Hs), gs)
    except (np.linalg.LinAlgError, ValueError):
        try:
            sol = np.linalg.lstsq(Hs, gs, rcond=1e-15)[0]
        except np.linalg.LinAlgError:
            return None
    return sol / d


def _mp_polish(objective, full, free, fun, hess, z, f, g, lam2, lo, hi):
    """Newton steps on the gradient summed in extended precision (the final polish).

    At the optimum the gradient ``sum_i r_i x_i`` is a sum of large terms that cancel; in
    double precision its round-off, times the inverse Hessian, is the error floor of the
    estimates (7-10 digits on a 21-parameter binomial GLM with raw covariates). With the
    gradient from :meth:`NLLObjective.mp_grad`, Newton's fixed point is the exact optimum to
    the double precision of the Hessian's solve. Steps continue while they change the
    estimates; a step is kept when it lowers the extended-precision decrement.
    """
    n_mp = 0
    if not np.isfinite(lam2) or np.any(np.isfinite(lo)) or np.any(np.isfinite(hi)):
        return z, f, g, lam2, n_mp
    gm = objective.mp_grad(full(z))
    if gm is None:
        return z, f, g, lam2, n_mp
    gm = gm[free]
    for _ in range(6):
        step = _newton_step(hess(z), gm)
        if step is None:
            break
        dec = float(gm @ step)
        if np.all(np.abs(step) <= 1e-17 * np.maximum(np.abs(z), 1e-300)):
            lam2 = max(min(lam2, abs(dec)), 0.0)
            break
        if np.any(np.abs(step) > 1e-6 * (1.0 + np.abs(z))):
            break  # not a round-off correction: leave the estimate as it is
        z_new = z - step
        gm_new = objective.mp_grad(full(z_new))
        if gm_new is None:
            break
        gm_new = gm_new[free]
        step_new = _newton_step(hess(z_new), gm_new)
        if step_new is None or not float(gm_new @ step_new) < dec:
            break
        z, gm, n_mp = z_new, gm_new, n_mp + 1
        lam2 = abs(float(gm_new @ step_new))
    if n_mp:
        f, g = fun(z)
    return z, f, g, lam2, n_mp


def maximize_likelihood(
    objective: NLLObjective,
    x0: np.ndarray,
    names: Sequence[str],
    *,
    bounds: Sequence[tuple] | None = None,
    method: str | None = None,
    fixed: Mapping[int, float] | None = None,
    tol: float | None = None,
    maxiter: int = 1000,
    options: Mapping | None = None,
) -> MLESolution:
    """Minimize ``objective`` (a summed NLL) from ``x0`` with SciPy on exact derivatives.

    ``bounds`` is a per-flat-parameter list of ``(low, high)`` (None for open). The default
    method is ``"trust-exact"`` (Newton steps on the exact Hessian in a trust region), or
    ``"trust-constr"`` when a bound is finite. ``fixed`` maps flat indices to values held
    fixed (used by profile likelihood); the others are optimized.
    """
    x0 = np.asarray(x0, dtype=float)
    p = x0.size
    bounds = list(bounds) if bounds is not None else [(None, None)] * p
    fixed = dict(fixed or {})
    free = np.array([i for i in range(p) if i not in fixed], dtype=int)
    has_bounds = any(
        not (_open(lo) and _open(hi)) for i, (lo, hi) in enumerate(bounds) if i in set(free)
    )
    if method is None:
        method = "trust-constr" if has_bounds else "trust-exact"
    spec = get_method(method, allowed=_MLE_KINDS, what="maximum likelihood")
    _, passed = split_options(spec, method, options)
    if has_bounds and not spec.bounds:
        with_bounds = ", ".join(n for n in method_names("scipy") if get_method(n).bounds)
        raise ArgumentError(
            f"method {method!r} does not take bounds; use one of {with_bounds} (or no bounds)"
        )
    base = x0.copy()
    for i, v in fixed.items():
        base[i] = v

    def full(z):
        x = base.copy()
        x[free] = z
        return x

    def fun(z):
        f, g = objective.value_and_grad(full(z))
        return f, g[free]

    def hess(z):
        return objective.hess(full(z))[np.ix_(free, free)]

    z0 = base[free]
    f0, g0 = fun(z0)
    if not np.isfinite(f0):
        raise FitError(
            "the negative log-likelihood is not finite at the starting point "
            f"({', '.join(f'{names[i]}={base[i]:g}' for i in free)}); give starting values p0 "
            "inside the model's domain (e.g. a positive scale or rate)"
        )
    if free.size == 0:  # everything fixed (a profile of a one-parameter model)
        x = base
        H = objective.hess(x)
        return MLESolution(
            x,
            float(f0),
            objective.grad(x),
            H,
            None,
            "no free parameters",
            objective.nfev,
            objective.njev,
            objective.nhev,
            0,
            True,
            0,
            "no free parameters",
            method or "none",
        )
    kwargs: dict = {}
    objective_fun = fun
    if spec.derivatives == "hessian":
        kwargs["hess"] = hess
    elif spec.derivatives == "hessp":
        kwargs["hessp"] = lambda z, v: hess(z) @ v
    if spec.derivatives == "none":
        objective_fun = lambda z: fun(z)[0]  # noqa: E731 - derivative-free: the value alone
    else:
        kwargs["jac"] = True
    # the table's tolerance (a gradient tolerance scaled by the size of the NLL, a sum
    # over rows), maxiter, then the caller's SciPy options
    opts = scipy_options(spec, _MLE_TOL if tol is None else tol, maxiter, {})
    if "gtol" in opts:
        opts["gtol"] *= max(1.0, abs(f0))
    if spec.name == "trust-krylov":
        opts["inexact"] = False
    opts.update(passed)
    lo = np.array([(-np.inf if _open(bounds[i][0]) else bounds[i][0]) for i in free])
    hi = np.array([(np.inf if _open(bounds[i][1]) else bounds[i][1]) for i in free])
    if spec.bounds and has_bounds:
        kwargs["bounds"] = scipy.optimize.Bounds(lo, hi)
        z0 = np.clip(z0, lo, hi)
    try:
        with np.errstate(all="ignore"):
            res = scipy.optimize.minimize(
                objective_fun,
                z0,
                method=spec.scipy,
                options=opts,
                **kwargs,
            )
    except (ValueError, np.linalg.LinAlgError) as exc:  # SciPy's own failures on bad input
        raise FitError(f"the {method} optimizer failed: {exc}") from None
    z = np.asarray(res.x, dtype=float)
    f, g = fun(z)
    if not np.all(np.isfinite(z)) or not np.isfinite(f) or np.max(np.abs(z)) > 1e12:
        x = full(z)
        raise FitError(
            f"the maximum-likelihood optimizer diverged after {getattr(res, 'nit', '?')} "
            f"iterations (parameters "
            f"{', '.join(f'{n}={v:.3g}' for n, v in zip(names, x, strict=True))}, "
            f"negative log-likelihood {f:.6g}); the likelihood may have no maximum "
            "(e.g. perfectly separated classes), or give better starting values p0"
        )
    # Newton polish on the exact Hessian: the last digits, and a scale-free convergence test
    # (the Newton decrement lam2 = g' H^-1 g estimates 2 (f - f_min)).
    lam2 = np.inf
    for _ in range(6):
        step = _newton_step(hess(z), g)
        if step is None:
            break
        new_lam2 = float(g @ step)
        if not np.isfinite(new_lam2) or new_lam2 < 0:
            break
        lam2 = new_lam2
        if lam2 < 1e-24 * max(1.0, abs(f)):
            break
        z_new = z - step
        if np.any(z_new < lo) or np.any(z_new > hi):
            break
        f_new, g_new = fun(z_new)
        if not np.isfinite(f_new) or f_new > f + 1e-13 * max(1.0, abs(f)):
            break
        if np.linalg.norm(g_new) >= np.linalg.norm(g) and f_new >= f:
            break
        z, f, g = z_new, f_new, g_new
    if not fixed:
        # In a bowl the quadratic model at the optimum explains the decrease achieved from
        # the start (0.5 d'Hd ~ f0 - f); when the curvature along the path explains almost
        # none of it, the optimizer may have walked off towards infinity: test the ray.
        d = z - z0
        quad = 0.5 * float(d @ hess(z) @ d)
        if not quad >= 0.01 * (f0 - f):
            _check_not_at_infinity(fun, z, z0, f, lo, hi, names, free)
    n_mp = 0
    # converged in double: polish the estimates (not the many fits of a profile)
    if not fixed and np.isfinite(lam2) and lam2 <= 1e-10 * max(1.0, abs(f)):
        z, f, g, lam2, n_mp = _mp_polish(objective, full, free, fun, hess, z, f, g, lam2, lo, hi)
    x = full(z)
    H = objective.hess(x)
    cov, reason = covariance_from_information(
        H[np.ix_(free, free)], [names[i] for i in free], "observed information (Hessian of the NLL)"
    )
    if cov is not None:
        full_cov = np.full((p, p), np.nan)
        full_cov[np.ix_(free, free)] = cov
        cov = full_cov
    at_bound = np.any(np.isclose(z, lo) | np.isclose(z, hi))
    converged_newton = np.isfinite(lam2) and lam2 <= 1e-10 * max(1.0, abs(f))
    success = bool(res.success) or bool(converged_newton)
    if converged_newton and not at_bound:
        message = f"converged: Newton decrement {lam2:.1e} at the optimum"
        if n_mp:
            message += (
                f" (gradient summed in {_MP_DPS}-digit arithmetic for the last "
                f"{n_mp} Newton step(s))"
            )
    else:
        message = str(res.message)
    g = objective.grad(x)
    return MLESolution(
        x=x,
        nll=float(f),
        grad=g,
        hess=H,
        cov=cov,
        cov_reason=reason,
        nfev=objective.nfev,
        njev=objective.njev,
        nhev=objective.nhev,
        nit=int(getattr(res, "nit", 0) or 0),
        success=success,
        status=int(getattr(res, "status", 0) or 0),
        message=message,
        method=method,
    )
