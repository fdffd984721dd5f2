"""Convexity tests and Lagrange duality.

:func:`is_convex` decides whether a twice-differentiable ``f`` is convex in the given
variables from its Hessian: positive semidefinite everywhere on the domain means convex, a
point where it is not means not convex. The symbolic test checks every principal minor of
the Hessian for being >= 0 (SymPy's sign assumptions, with the domain's bounds); when that
is undecided, the Hessian is sampled numerically and a point with a negative eigenvalue is
a counterexample (confirmed exactly at a rational point); when none turns up the verdict is
``convex=None`` ("no counterexample found") with the evidence. Functions with kinks (abs,
max, relu, ...) have no Hessian everywhere; for them only the midpoint inequality is
sampled.

:func:`dual` derives the Lagrange dual function of a problem with a quadratic (or linear)
objective and affine constraints (see :mod:`symml.steps.convex` for the derivation).
Convention (Boyd and Vandenberghe): inequalities ``g_i(x) <= 0`` get multipliers
``lambda_i >= 0``, equalities ``h_j(x) = 0`` get ``nu_j``, and
``L = f + sum(lambda_i*g_i) + sum(nu_j*h_j)``. (:func:`symml.lagrange.lagrangian` names and
signs the multipliers differently: its ``lambda`` is ``-nu`` here, its ``mu`` is ``lambda``.)

>>> is_convex("x^2 + y^2", ["x", "y"]).convex
True
>>> v = is_convex("x*y", ["x", "y"])
>>> v.convex, v.test
(False, 'principal minors')
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from ._convert import to_sympy as _to_sympy
from ._limits import time_limit
from .errors import ArgumentError, DerivationError, LimitError, ShapeError

__all__ = ["is_convex", "ConvexityVerdict", "dual", "DualProblem"]

#: Seconds the symbolic PSD test may take before falling back to sampling.
SYMBOLIC_SECONDS = 20
#: Number of random points the numeric fallback samples.
SAMPLES = 2000

_NONSMOOTH = (
    sympy.Abs,
    sympy.Max,
    sympy.Min,
    sympy.Heaviside,
    sympy.sign,
    sympy.floor,
    sympy.ceiling,
    sympy.Piecewise,
)


@dataclass
class ConvexityVerdict:
    """The answer of :func:`is_convex` with its evidence.

    Attributes
    ----------
    convex : bool or None
        True (proved), False (a counterexample was found) or None (undecided: no
        counterexample found).
    reason : str
        One sentence saying why.
    hessian : sympy.Matrix or None
        The Hessian of ``f`` in ``vars`` (None for non-smooth ``f``).
    test : str
        ``"principal minors"``, ``"sampling"`` or ``"midpoint sampling"``.
    minors : dict
        Index tuple -> principal minor (as simplified), for the symbolic test.
    counterexample : dict or None
        A point (variables and parameters) where convexity fails.
    direction : list or None
        A direction ``v`` with ``v' H v < 0`` at the counterexample.
    """

    convex: bool | None
    reason: str
    hessian: Any
    test: str
    vars: list
    minors: dict = field(default_factory=dict)
    counterexample: dict | None = None
    direction: list | None = None
    samples: int = 0

    def __bool__(self) -> bool:
        return self.convex is True

    def __repr__(self) -> str:
        return f"ConvexityVerdict(convex={self.convex}, test={self.test!r}, reason={self.reason!r})"


# -- the boundary ---------------------------------------------------------------------------------
def _scalar(f: Any) -> sympy.Expr:
    from ._convert import as_expr

    out = as_expr(f)
    if isinstance(out, sympy.MatrixBase):
        if out.shape == (1, 1):
            return out[0, 0]
        raise ShapeError(
            f"is_convex needs a scalar function, got a {out.shape[0]}x{out.shape[1]} matrix; "
            "test one component (or a sum of them)"
        )
    if isinstance(out, sympy.core.relational.Relational) or not isinstance(out, sympy.Expr):
        raise ArgumentError(f"is_convex needs a scalar expression, got {out}")
    return out


def _variables(vars: Any, f: sympy.Expr) -> list[sympy.Symbol]:
    from ._convert import as_symbols

    if vars is None:
        return sorted(f.free_symbols, key=lambda s: s.name)
    xs = list(as_symbols(vars, [f]))
    if not xs:
        raise ArgumentError("give at least one variable")
    missing = [str(v) for v in xs if v not in f.free_symbols]
    if missing:
        have = ", ".join(sorted(str(s) for s in f.free_symbols)) or "none"
        raise ArgumentError(
            f"unknown variable(s) {', '.join(missing)}: they do not appear in {f} "
            f"(its symbols: {have})"
        )
    return xs


@dataclass
class _Bound:
    lower: sympy.Expr | None = None
    upper: sympy.Expr | None = None


def _domain(domain: Any, symbols: set) -> dict:
    """Parse ``domain`` (relations such as ``"x > 0"``, or a dict var -> (lo, hi)) to bounds."""
    from ._convert import as_expr, as_relation

    out: dict = {}
    if domain is None:
        return out
    by_name = {s.name: s for s in symbols}
    if isinstance(domain, dict):
        for k, (lo, hi) in domain.items():
            s = by_name.get(str(k))
            if s is None:
                raise ArgumentError(f"the domain names {k}, which is not a symbol of f")
            b = out.setdefault(s, _Bound())
            b.lower = None if lo is None else as_expr(lo)
            b.upper = None if hi is None else as_expr(hi)
        return out
    items = [domain] if isinstance(domain, (str, sympy.Basic)) else list(domain)
    for item in items:
        rel = as_relation(item)
        lhs, rhs = rel.lhs, rel.rhs
        if isinstance(rel, (sympy.GreaterThan, sympy.StrictGreaterThan)):
            lhs, rhs = rhs, lhs  # now lhs <= rhs
        elif not isinstance(rel, (sympy.LessThan, sympy.StrictLessThan)):
            raise ArgumentError(f"a domain is a list of bounds such as 'x > 0', got {item!r}")
        if isinstance(rhs, sympy.Symbol) and rhs in symbols and not lhs.free_symbols:
            out.setdefault(rhs, _Bound()).lower = lhs
        elif isinstance(lhs, sympy.Symbol) and lhs in symbols and not rhs.free_symbols:
            out.setdefault(lhs, _Bound()).upper = rhs
        else:
            raise ArgumentError(
                f"a domain bound must compare one symbol of f with a constant, got {item!r}"
            )
    return out


# -- the symbolic test ----------------------------------------------------------------------------
def _shift(bounds: dict) -> tuple[dict, dict]:
    """Substitutions x -> lo + t (t > 0) or hi - t for bounded symbols, and the inverse."""
    fwd, back = {}, {}
    for s, b in bounds.items():
        t = sympy.Dummy(f"{s.name}_shift", positive=True)
        if b.lower is not None:
            fwd[s], back[t] = b.lower + t, s - b.lower
        elif b.upper is not None:
            fwd[s], back[t] = b.upper - t, b.upper - s
    return fwd, back


def _sign_nonnegative(e: sympy.Expr) -> bool | None:
    """True if e >= 0 provably, False if e < 0 provably somewhere (constant), else None."""
    candidates = [e]
    for fn in (sympy.factor, sympy.simplify, lambda z: sympy.factor(sympy.simplify(z))):
        try:
            candidates.append(fn(e))
        except (TypeError, ValueError, NotImplementedError):
            continue
    for c in candidates:
        if c.is_nonnegative:
            return True
        if c.is_negative:
            return False
    return None


def _principal_minors(H: sympy.MatrixBase, fwd: dict) -> tuple[bool | None, dict, tuple | None]:
    """Sign every principal minor: True (all >= 0), False (a constant one < 0) or None.

    Each exponential exp(a) is replaced by its own positive symbol first, which turns
    logistic and softmax Hessians into rational functions that cancel exactly. Proving a
    minor >= 0 for independent positive symbols proves it for the exponentials (a subset
    of their values); a negative verdict is only taken from a constant minor.
    """
    n = H.rows
    Hs = H.xreplace(fwd) if fwd else H
    Hu, back = _positive_exponentials(Hs)
    minors, undecided = {}, False
    for k in range(1, n + 1):
        for idx in itertools.combinations(range(n), k):
            m = Hu.extract(list(idx), list(idx)).det(method="berkowitz")
            m = sympy.factor(sympy.cancel(m))
            minors[idx] = m.xreplace(back)
            verdict = _sign_nonnegative(m)
            if verdict is False and m.free_symbols:
                verdict = None  # a sign that depends on the point: leave it to sampling
            if verdict is False:
                return False, minors, idx
            if verdict is None:
                undecided = True
    return (None if undecided else True), minors, None


def _positive_exponentials(H: sympy.MatrixBase) -> tuple[sympy.MatrixBase, dict]:
    """Write exp(c1*m1 + c2*m2 + ...) as U1**c1 * U2**c2 * ..., one positive symbol per
    monomial m (so exp(2*x) = U**2 and exp(-x) = 1/U stay related); and the way back."""
    units: dict = {}
    back: dict = {}

    def unit(m):
        if m not in units:
            units[m] = sympy.Dummy("u", positive=True)
            back[units[m]] = sympy.exp(m)
        return units[m]

    def rewrite(e):
        factors = []
        for term in sympy.Add.make_args(sympy.expand(e.args[0])):
            c, m = term.as_coeff_Mul()
            factors.append(unit(m) ** c if c.is_Rational else unit(term))
        return sympy.Mul(*factors)

    out = H.replace(lambda e: isinstance(e, sympy.exp), rewrite)
    return out, back


# -- numeric sampling -----------------------------------------------------------------------------
def _sample(symbols: list, bounds: dict, rng: np.random.Generator, n: int) -> np.ndarray:
    cols = []
    for s in symbols:
        b = bounds.get(s)
        z = rng.standard_normal(n) * np.exp(rng.uniform(-2, 1.5, n))
        if b is None or (b.lower is None and b.upper is None):
            cols.append(z)
        elif b.lower is not None and b.upper is not None:
            lo, hi = float(b.lower), float(b.upper)
            cols.append(lo + (hi - lo) * rng.uniform(0.001, 0.999, n))
        elif b.lower is not None:
            cols.append(float(b.lower) + np.abs(z) + 1e-3)
        else:
            cols.append(float(b.upper) - np.abs(z) - 1e-3)
    return np.column_stack(cols) if cols else np.zeros((n, 0))


def _candidates(symbols: list, bounds: dict, seed: int) -> np.ndarray:
    """Test points: a small grid of round values first, then random points (2 decimals)."""
    nice = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
    axes = []
    for s in symbols:
        b = bounds.get(s)
        if b is None or (b.lower is None and b.upper is None):
            axes.append(nice)
        elif b.lower is not None and b.upper is not None:
            lo, hi = float(b.lower), float(b.upper)
            axes.append(lo + (hi - lo) * np.array([0.25, 0.5, 0.75]))
        elif b.lower is not None:
            axes.append(float(b.lower) + np.array([0.5, 1.0, 2.0]))
        else:
            axes.append(float(b.upper) - np.array([0.5, 1.0, 2.0]))
    grid = np.zeros((1, 0))
    if len(symbols) <= 4:
        grid = np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, len(symbols))
    rng = np.random.default_rng(seed)
    rand = np.round(_sample(symbols, bounds, rng, SAMPLES), 2)
    return np.vstack([grid, rand]) if grid.size else rand


def _hessian_counterexample(H, symbols, bounds, seed=0):
    """A tested point where H has a negative eigenvalue (confirmed exactly), or None."""
    fn = sympy.lambdify(symbols, H, modules="numpy", cse=True)
    pts = _candidates(symbols, bounds, seed)
    m = len(pts)
    with np.errstate(all="ignore"):
        vals = fn(*pts.T)
        n = H.rows
        arr = np.empty((m, n, n))
        for i in range(n):
            for j in range(n):
                arr[:, i, j] = np.broadcast_to(np.asarray(vals[i][j], dtype=float), (m,))
    ok = np.isfinite(arr).all(axis=(1, 2))
    if not ok.any():
        return None, 0
    eig = np.full(m, np.inf)
    eig[ok] = np.linalg.eigvalsh(arr[ok])[:, 0]
    scale = np.where(ok, np.abs(np.where(np.isfinite(arr), arr, 0)).max(axis=(1, 2)), 1.0)
    bad = np.flatnonzero(eig < -1e-8 * np.maximum(scale, 1.0))
    for k in bad[:20]:  # the first ones: grid points before random ones
        point = {
            s: sympy.nsimplify(sympy.Float(v, 6), rational=True)
            for s, v in zip(symbols, pts[k], strict=True)
        }
        if not _in_domain(point, bounds):
            continue
        direction = _negative_direction(H.xreplace(point))
        if direction is not None:
            return (point, direction), int(ok.sum())
    return None, int(ok.sum())


def _in_domain(point: dict, bounds: dict) -> bool:
    for s, b in bounds.items():
        if s in point:
            if b.lower is not None and not point[s] > b.lower:
                return False
            if b.upper is not None and not point[s] < b.upper:
                return False
    return True


def _negative_direction(Hp: sympy.MatrixBase) -> list | None:
    """A simple exact direction v with v' Hp v < 0 (unit vectors and e_i +- e_j first)."""
    n = Hp.rows
    tries = [[int(k == i) for k in range(n)] for i in range(n)]
    tries += [
        [int(k == i) + s * int(k == j) for k in range(n)]
        for i, j in itertools.combinations(range(n), 2)
        for s in (1, -1)
    ]
    try:
        A = np.array(Hp.evalf(30).tolist(), dtype=float)
        if np.isfinite(A).all():
            V = np.linalg.eigh(A)[1]
            tries.append([sympy.Rational(str(round(float(c), 3))) for c in V[:, 0]])
    except (TypeError, ValueError):
        pass
    for v in tries:
        q = (sympy.Matrix([v]) * Hp * sympy.Matrix(v))[0, 0]
        if q.is_number and sympy.N(q, 30) < 0:
            return [sympy.Integer(c) if isinstance(c, int) else c for c in v]
    return None


def _midpoint_counterexample(f, symbols, bounds, nvars, seed=0):
    """Points a, b with f((a+b)/2) > (f(a)+f(b))/2 (exactly), or None; and #pairs tried.

    Only the first ``nvars`` symbols (the variables) differ between a and b; the
    parameters take the same value at both points.
    """
    fn = sympy.lambdify(symbols, f, modules="numpy", cse=True)
    a = _candidates(symbols, bounds, seed)
    rng = np.random.default_rng(seed + 1)
    b = a.copy()
    b[:, :nvars] = rng.permutation(a[:, :nvars], axis=0)
    m = len(a)
    with np.errstate(all="ignore"):
        fa = np.broadcast_to(np.asarray(fn(*a.T), dtype=float), (m,))
        fb = np.broadcast_to(np.asarray(fn(*b.T), dtype=float), (m,))
        fm = np.broadcast_to(np.asarray(fn(*((a + b) / 2).T), dtype=float), (m,))
        gap = fm - (fa + fb) / 2
        ok = np.isfinite(gap)
        bad = np.flatnonzero(ok & (gap > 1e-8 * (1 + np.abs(fa) + np.abs(fb))))
    for k in bad[:20]:
        pa = {
            s: sympy.nsimplify(sympy.Float(v, 6), rational=True)
            for s, v in zip(symbols, a[k], strict=True)
        }
        pb = {
            s: sympy.nsimplify(sympy.Float(v, 6), rational=True)
            for s, v in zip(symbols, b[k], strict=True)
        }
        pm = {s: (pa[s] + pb[s]) / 2 for s in symbols}
        lhs = f.xreplace(pm)
        rhs = (f.xreplace(pa) + f.xreplace(pb)) / 2
        if sympy.N(lhs - rhs, 30) > 0:
            return (pa, pb), int(ok.sum())
    return None, int(ok.sum())


# -- the public test ------------------------------------------------------------------------------
def is_convex(f: Any, vars: Any = None, domain: Any = None) -> ConvexityVerdict:
    """Decide whether ``f`` is convex in ``vars`` (on ``domain``), with the evidence.

    Parameters
    ----------
    f : str or sympy.Expr
        A scalar function. Symbols other than ``vars`` are parameters; a proof holds for
        every (real) value of them, a counterexample gives their values too.
    vars : str, Symbol or list, optional
        The variables (default: every free symbol of ``f``).
    domain : relation, list of relations, or dict, optional
        Bounds such as ``"x > 0"`` or ``["x > 0", "y >= 1"]``, or ``{"x": (0, None)}``. The
        domain should be convex (a box).

    Returns
    -------
    ConvexityVerdict
        ``.convex`` is True, False or None (undecided); ``.reason`` says why; the Hessian,
        the test used, the principal minors and any counterexample point are attached.

    Raises
    ------
    ShapeError
        If ``f`` is a vector or matrix.
    ArgumentError
        If a variable does not occur in ``f``, or a domain bound cannot be read.

    Examples
    --------
    >>> is_convex("-log(x)", "x", domain="x > 0").convex
    True
    >>> v = is_convex("x^3", "x")
    >>> v.convex, v.test
    (False, 'sampling')
    >>> is_convex("log(exp(x) + exp(y))", ["x", "y"]).convex
    True
    """
    f = _scalar(f)
    xs = _variables(vars, f)
    symbols = sorted(f.free_symbols, key=lambda s: s.name)
    symbols = xs + [s for s in symbols if s not in xs]
    bounds = _domain(domain, set(symbols))
    if f.has(*_NONSMOOTH) or any(type(a).__name__ == "relu" for a in sympy.preorder_traversal(f)):
        return _nonsmooth_verdict(f, xs, symbols, bounds)
    from .calculus import hessian

    H = sympy.ImmutableMatrix(hessian(f, xs))
    fwd, shift_back = _shift(bounds)
    try:
        with time_limit(SYMBOLIC_SECONDS, "the principal-minor test"):
            verdict, minors, where = _principal_minors(H, fwd)
    except LimitError:
        verdict, minors, where = None, {}, None
    minors = {k: sympy.factor(m.xreplace(shift_back)) for k, m in minors.items()}
    try:
        with time_limit(SYMBOLIC_SECONDS, "simplifying the Hessian"):
            H = H.applyfunc(lambda e: min(e, sympy.simplify(e), key=sympy.count_ops))
    except LimitError:
        pass
    if verdict is True:
        return ConvexityVerdict(
            True, _proof_reason(len(xs), bounds), H, "principal minors", xs, minors
        )
    if verdict is False:
        point = {}
        direction = _negative_direction(H)
        rows = ", ".join(str(xs[i]) for i in where)
        return ConvexityVerdict(
            False,
            f"the principal minor of the Hessian in ({rows}) is {minors[where]} < 0 at every "
            "point, so the Hessian is nowhere positive semidefinite (v'Hv < 0 for v = "
            f"({', '.join(map(str, direction or []))}))",
            H,
            "principal minors",
            xs,
            minors,
            point,
            direction,
        )
    found, n = _hessian_counterexample(H, symbols, bounds)
    if found is not None:
        point, direction = found
        where = ", ".join(f"{s} = {v}" for s, v in point.items() if s in xs)
        params = ", ".join(f"{s} = {v}" for s, v in point.items() if s not in xs)
        if params:
            where += f" (with the parameters {params})"
        vtext = ", ".join(map(str, direction))
        return ConvexityVerdict(
            False,
            f"at {where} the Hessian H is not positive semidefinite: v'Hv < 0 for "
            f"v = ({vtext}), so f is not convex",
            H,
            "sampling",
            xs,
            minors,
            point,
            direction,
            n,
        )
    return ConvexityVerdict(
        None,
        f"undecided: the principal minors could not be signed symbolically and no "
        f"counterexample was found at {n} sampled points (no proof of convexity)",
        H,
        "sampling",
        xs,
        minors,
        None,
        None,
        n,
    )


def _proof_reason(n: int, bounds: dict) -> str:
    on = " on the domain" if bounds else ""
    if n == 1:
        return f"the second derivative is >= 0 everywhere{on}"
    return (
        f"every principal minor of the Hessian is >= 0 everywhere{on}, so it is positive "
        "semidefinite"
    )


def _nonsmooth_verdict(f, xs, symbols, bounds) -> ConvexityVerdict:
    found, n = _midpoint_counterexample(f, symbols, bounds, len(xs))
    if found is not None:
        pa, pb = found
        return ConvexityVerdict(
            False,
            "f has kinks, so there is no Hessian test; the midpoint inequality "
            "f((a + b)/2) <= (f(a) + f(b))/2 fails for the points a, b given",
            None,
            "midpoint sampling",
            xs,
            {},
            {"a": pa, "b": pb},
            None,
            n,
        )
    return ConvexityVerdict(
        None,
        f"undecided: f has kinks (no Hessian test) and the midpoint inequality held for "
        f"all {n} sampled pairs of points (no proof of convexity)",
        None,
        "midpoint sampling",
        xs,
        {},
        None,
        None,
        n,
    )


# -- Lagrange duality -----------------------------------------------------------------------------
@dataclass
class DualityCheck:
    """A numeric check of strong duality on one instance (see :meth:`DualProblem.check`).

    ``primal`` is p* (scipy on the primal), ``dual`` is d* (scipy maximizing g), ``gap`` is
    p* - d* (>= 0 by weak duality, 0 under strong duality); ``instance`` gives the values
    used for the problem's parameters.
    """

    primal: float
    dual: float
    gap: float
    x: dict
    multipliers: dict
    instance: dict
    slater: bool
    message: str

    @property
    def zero_gap(self) -> bool:
        return abs(self.gap) <= 1e-6 * max(1.0, abs(self.primal))


@dataclass
class DualProblem:
    """The Lagrange dual of ``min f(x) s.t. g_i(x) <= 0, h_j(x) = 0`` (see :func:`dual`).

    Attributes
    ----------
    f, vars : the objective and the variables.
    inequalities, equalities : the g_i (each <= 0) and the h_j (each = 0).
    lambdas, nus : their multipliers (``lambda_i >= 0``, ``nu_j`` free).
    L : the Lagrangian ``f + sum(lambda_i*g_i) + sum(nu_j*h_j)``.
    P, q, r : ``L = x'Px/2 + q'x + r`` (P constant, q and r affine in the multipliers).
    kind : ``"quadratic"`` (P positive definite), ``"linear"`` (P = 0), ``"semidefinite"``
        (P singular, PSD) or ``"unbounded"`` (P not PSD: g = -oo everywhere).
    x_star : dict or None
        The minimizer of L over x (a function of the multipliers), when there is one.
    conditions : list of sympy.Eq
        Where g is finite (e.g. ``c + A'nu - lambda = 0`` for a linear program).
    g : sympy.Expr
        The dual function (a ``Piecewise`` with ``-oo`` off the conditions).
    g_finite : sympy.Expr
        The value of g where the conditions hold.
    """

    f: sympy.Expr
    vars: list
    inequalities: list
    equalities: list
    relations: list
    lambdas: list
    nus: list
    L: sympy.Expr
    P: sympy.Matrix
    q: sympy.Matrix
    r: sympy.Expr
    kind: str
    x_star: dict | None
    conditions: list
    g: sympy.Expr
    g_finite: sympy.Expr

    @property
    def multipliers(self) -> list:
        return self.lambdas + self.nus

    @property
    def parameters(self) -> list:
        syms = set(self.f.free_symbols)
        for e in self.inequalities + self.equalities:
            syms |= e.free_symbols
        return sorted(syms - set(self.vars), key=lambda s: s.name)

    def check(self, instance: dict | None = None, seed: int = 0) -> DualityCheck:
        """Solve primal and dual numerically (SciPy) on an instance and compare the values.

        Parameters without a value in ``instance`` get seeded random values in [0.5, 2].
        """
        return _check_duality(self, instance or {}, seed)


def _standard_constraint(rel: Any, original: Any) -> tuple[sympy.Expr, str]:
    if isinstance(rel, sympy.Equality):
        return sympy.expand(rel.lhs - rel.rhs), "eq"
    if isinstance(rel, (sympy.StrictLessThan, sympy.StrictGreaterThan)):
        raise ArgumentError(f"write the strict inequality {original!r} with <= or >=")
    if isinstance(rel, sympy.LessThan):
        return sympy.expand(rel.lhs - rel.rhs), "ineq"
    if isinstance(rel, sympy.GreaterThan):
        return sympy.expand(rel.rhs - rel.lhs), "ineq"
    raise ArgumentError(f"expected a constraint such as 'x + y == 1' or 'x >= 0', got {original!r}")


def _names(base: str, count: int, taken: set) -> list:
    from .symbols import symbol

    names = [base] if count == 1 else [f"{base}_{i}" for i in range(1, count + 1)]
    out = []
    for name in names:
        while name in taken:
            name += "_"
        taken.add(name)
        out.append(symbol(name))
    return out


def dual(f: Any, constraints: Any, vars: Any = None) -> DualProblem:
    """The Lagrange dual function ``g(lambda, nu) = inf_x L(x, lambda, nu)`` in closed form.

    For a quadratic or linear objective with affine constraints (quadratic programs,
    least-norm problems, linear programs). See :mod:`symml.steps.convex` for the derivation.

    Parameters
    ----------
    f : str or sympy.Expr
        The objective (to minimize), at most quadratic in ``vars``.
    constraints : str, relation, or list of them
        Affine equalities and inequalities (``"x + y == 1"``, ``"x >= 0"``).
    vars : optional
        The variables (default: every free symbol, sorted); other symbols are parameters.

    Examples
    --------
    >>> d = dual("x^2 + y^2", "x + y == 1", ["x", "y"])
    >>> d.g
    -nu**2/2 - nu
    >>> dual("x + y", ["x >= 0", "y >= 0", "x + y == 1"], ["x", "y"]).g
    Piecewise((-nu, Eq(lambda_1 - nu, 1) & Eq(lambda_2 - nu, 1)), (-oo, True))
    """
    from ._convert import as_relation, as_symbols

    f = _scalar(f)
    items = constraints if isinstance(constraints, (list, tuple)) else [constraints]
    if not items:
        raise ArgumentError("dual needs at least one constraint")
    rels = [as_relation(c) for c in items]
    forms = [_standard_constraint(r, c) for r, c in zip(rels, items, strict=True)]
    exprs = [f] + [e for e, _ in forms]
    if vars is None:
        xs = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    else:
        xs = list(as_symbols(vars, exprs))
    if not xs:
        raise ArgumentError("the problem has no variables")
    for rel, (e, _) in zip(rels, forms, strict=True):
        if not _is_affine(e, xs):
            raise DerivationError(
                f"the constraint {rel} is not affine in {', '.join(map(str, xs))}; the closed-form "
                "dual covers affine constraints only"
            )
    if not f.is_polynomial(*xs) or sympy.Poly(f, *xs).total_degree() > 2:
        raise DerivationError(
            f"the objective {f} is not a quadratic (or linear) polynomial in "
            f"{', '.join(map(str, xs))}; inf_x L has no closed form symml can derive"
        )
    taken = {s.name for e in exprs for s in e.free_symbols}
    ineqs = [e for e, k in forms if k == "ineq"]
    eqs = [e for e, k in forms if k == "eq"]
    ineq_rels = [r for r, (_, k) in zip(rels, forms, strict=True) if k == "ineq"]
    eq_rels = [r for r, (_, k) in zip(rels, forms, strict=True) if k == "eq"]
    lambdas = _names("lambda", len(ineqs), taken)
    nus = _names("nu", len(eqs), taken)
    L = f + sum((m * g for m, g in zip(lambdas, ineqs, strict=True)), sympy.S.Zero)
    L += sum((m * h for m, h in zip(nus, eqs, strict=True)), sympy.S.Zero)
    zero = {x: 0 for x in xs}
    from .calculus import grad, hessian

    P = sympy.Matrix(hessian(L, xs)).applyfunc(sympy.expand)
    q = sympy.Matrix([sympy.expand(gi.subs(zero)) for gi in grad(L, xs)])
    r = sympy.expand(L.subs(zero))
    kind, x_star, conditions, g_fin = _inner_minimum(P, q, r, xs)
    if kind == "unbounded":
        g = -sympy.oo
    elif conditions:
        g = sympy.Piecewise((g_fin, sympy.And(*conditions)), (-sympy.oo, True))
    else:
        g = g_fin
    return DualProblem(
        f,
        xs,
        ineqs,
        eqs,
        ineq_rels + eq_rels,
        lambdas,
        nus,
        L,
        P,
        q,
        r,
        kind,
        x_star,
        conditions,
        g,
        g_fin,
    )


def _is_affine(e: sympy.Expr, xs: list) -> bool:
    if not e.is_polynomial(*xs):
        return False
    return sympy.Poly(e, *xs).total_degree() <= 1


def _inner_minimum(P, q, r, xs):
    """inf over x of x'Px/2 + q'x + r: (kind, minimizer, conditions, value)."""
    n = len(xs)
    if P.is_zero_matrix:
        conds = [sympy.Eq(qi, 0, evaluate=False) for qi in q if qi != 0]
        return "linear", None, conds, r
    if P.free_symbols:
        verdict, _, _ = _principal_minors(P, {})
        leading = [P[:k, :k].det() for k in range(1, n + 1)]
        if verdict is True and all(sympy.factor(m).is_positive for m in leading):
            Pinv = P.inv()
            x_star = -Pinv * q
            value = sympy.simplify(r - (q.T * Pinv * q)[0, 0] / 2)
            return (
                "quadratic",
                dict(zip(xs, x_star.applyfunc(sympy.simplify), strict=True)),
                [],
                value,
            )
        raise DerivationError(
            "cannot decide whether the quadratic part of the objective is positive definite "
            "for all values of its parameters"
        )
    eig = P.eigenvals()
    if any(sympy.N(ev) < -1e-14 for ev in eig):
        return "unbounded", None, [], -sympy.oo
    if all(sympy.N(ev) > 1e-14 for ev in eig):
        Pinv = P.inv()
        x_star = (-Pinv * q).applyfunc(sympy.expand)
        value = sympy.expand(r - (q.T * Pinv * q)[0, 0] / 2)
        return "quadratic", dict(zip(xs, x_star, strict=True)), [], value
    null = P.nullspace()
    conds = [sympy.expand((v.T * q)[0, 0]) for v in null]
    conds = [sympy.Eq(c, 0, evaluate=False) for c in conds if c != 0]
    Pp = P.pinv()
    x_star = (-Pp * q).applyfunc(sympy.expand)
    value = sympy.expand(r - (q.T * Pp * q)[0, 0] / 2)
    return "semidefinite", dict(zip(xs, x_star, strict=True)), conds, value


def _check_duality(d: DualProblem, instance: dict, seed: int) -> DualityCheck:
    """Primal and dual optimal values by SciPy on one instance of the parameters."""
    from scipy import optimize  # lazily: only the numeric check needs SciPy

    rng = np.random.default_rng(seed)
    values = {}
    by_name = {str(k): v for k, v in instance.items()}
    for p in d.parameters:
        v = by_name.get(p.name, instance.get(p))
        values[p] = (
            sympy.nsimplify(v) if v is not None else sympy.Rational(int(rng.integers(50, 201)), 100)
        )
    sub = lambda e: _to_sympy(e).xreplace(values)  # noqa: E731
    xs, ms = d.vars, d.multipliers
    n = len(xs)
    if d.kind == "unbounded":
        raise DerivationError(
            "the Lagrangian is unbounded below for every multiplier (f is not "
            "convex): g = -oo and there is no duality gap to check"
        )
    fx = sympy.lambdify([xs], sub(d.f), "numpy")
    from .calculus import grad

    gradf = sympy.lambdify([xs], list(grad(sub(d.f), xs)), "numpy")
    A_ub = np.array([[float(sub(g).coeff(x)) for x in xs] for g in d.inequalities]).reshape(-1, n)
    b_ub = np.array([-float(sub(g).subs({x: 0 for x in xs})) for g in d.inequalities])
    A_eq = np.array([[float(sub(h).coeff(x)) for x in xs] for h in d.equalities]).reshape(-1, n)
    b_eq = np.array([-float(sub(h).subs({x: 0 for x in xs})) for h in d.equalities])
    lin_kw = dict(
        A_ub=A_ub if len(b_ub) else None,
        b_ub=b_ub if len(b_ub) else None,
        A_eq=A_eq if len(b_eq) else None,
        b_eq=b_eq if len(b_eq) else None,
    )
    # Slater's condition for affine constraints (refined form): the constraints are feasible.
    feas = optimize.linprog(np.zeros(n), bounds=[(None, None)] * n, method="highs", **lin_kw)
    if feas.status != 0:
        raise DerivationError(f"the instance {values} is infeasible, so Slater's condition fails")
    if d.kind == "linear":
        c = np.array([float(sub(d.f).coeff(x)) for x in xs])
        res = optimize.linprog(c, bounds=[(None, None)] * n, method="highs", **lin_kw)
        if res.status != 0:
            raise DerivationError(
                f"the linear program is unbounded on the instance {values}: {res.message}"
            )
        x_opt = res.x
        primal = float(res.fun) + float(sub(d.f).subs({x: 0 for x in xs}))
    else:
        cons = [
            {"type": "ineq", "fun": lambda x, a=a, b=b: b - a @ x}
            for a, b in zip(A_ub, b_ub, strict=True)
        ]
        cons += [
            {"type": "eq", "fun": lambda x, a=a, b=b: a @ x - b}
            for a, b in zip(A_eq, b_eq, strict=True)
        ]
        res = optimize.minimize(
            lambda x: float(fx(x)),
            feas.x,
            jac=lambda x: np.array(gradf(x), dtype=float),
            constraints=cons,
            method="SLSQP",
            options={"ftol": 1e-12, "maxiter": 500},
        )
        x_opt, primal = res.x, float(res.fun)
    dual_value, m_opt = _maximize_dual(d, sub, optimize)
    gap = primal - dual_value
    return DualityCheck(
        primal,
        dual_value,
        gap,
        dict(zip(xs, x_opt.tolist(), strict=True)),
        dict(zip(ms, m_opt, strict=True)),
        values,
        True,
        f"p* = {primal:.10g}, d* = {dual_value:.10g}, gap = {gap:.3g}",
    )


def _maximize_dual(d: DualProblem, sub, optimize) -> tuple[float, list]:
    ms = d.multipliers
    k = len(ms)
    bounds = [(0, None)] * len(d.lambdas) + [(None, None)] * len(d.nus)
    gf = sub(d.g_finite)
    conds = [sub(c.lhs - c.rhs) for c in d.conditions]
    if d.kind == "linear":  # an LP in the multipliers: max r s.t. q = 0, lambda >= 0
        c = -np.array([float(gf.coeff(m)) for m in ms])
        A = np.array([[float(e.coeff(m)) for m in ms] for e in conds]).reshape(-1, k)
        b = np.array([-float(e.subs({m: 0 for m in ms})) for e in conds])
        res = optimize.linprog(
            c, A_eq=A if len(b) else None, b_eq=b if len(b) else None, bounds=bounds, method="highs"
        )
        if res.status != 0:
            raise DerivationError(f"the dual linear program could not be solved: {res.message}")
        return float(-res.fun) + float(gf.subs({m: 0 for m in ms})), res.x.tolist()
    neg = sympy.lambdify([ms], -gf, "numpy")
    from .calculus import grad as gradient

    grad = sympy.lambdify([ms], [-gi for gi in gradient(gf, ms)], "numpy")
    cons = [{"type": "eq", "fun": sympy.lambdify([ms], e, "numpy")} for e in conds]
    res = optimize.minimize(
        lambda m: float(neg(m)),
        np.ones(k),
        jac=lambda m: np.array(grad(m), dtype=float),
        bounds=bounds,
        constraints=cons,
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 500},
    )
    return float(-res.fun), res.x.tolist()
