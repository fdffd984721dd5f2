"""SciPy's quasi-Newton, Newton and constrained solvers, fed with exact derivatives.

==================  ======================  =====================================================
method              SciPy method            exact derivatives given
==================  ======================  =====================================================
``bfgs``            ``BFGS``                value and gradient from one compiled call
``lbfgs``           ``L-BFGS-B``            value and gradient; bounds
``newton``          ``trust-exact``         value, gradient and Hessian (``options={"subproblem":
                                            "ncg"}`` uses ``trust-ncg`` instead)
``slsqp``           ``SLSQP``               value, gradient, constraint values and Jacobians; bounds
``trust-constr``    ``trust-constr``        value, gradient, Hessian, constraint Jacobians and
                                            constraint Hessians (the Lagrangian's Hessian is exact)
==================  ======================  =====================================================

L1 penalties are not differentiable at zero, so they are never handed to a smooth solver as
``|x|``. ``lbfgs`` and ``slsqp`` solve the equivalent smooth problem in a split
``x = p - q`` with ``p, q >= 0`` and penalty ``a*(p + q)`` (bounds keep the split exact, and a
component whose ``p`` and ``q`` both sit on their bound 0 is exactly zero). ``bfgs``, ``newton``
and ``trust-constr`` reject L1 with a hint (an interior-point method never lands exactly on
zero). L2 is smooth and added to the objective with its exact derivatives.

>>> import symml as sm
>>> r = sm.minimize("x*y", {"x": 1, "y": 0}, constraints=["x^2 + y^2 == 1"], method="slsqp")
>>> r.success, round(r.fun, 8), round(abs(r.x["x"]), 6)
(True, -0.5, 0.707107)
"""

from __future__ import annotations

import math
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize as so

from ..errors import ArgumentError
from ._problem import Diverged, Problem, Progress, not_finite_start
from .methods import TABLE, all_names, get_method, iteration_limit, method_names, split_options
from .methods import scipy_options as _scipy_options
from .result import OptimizeResult

__all__ = ["SCIPY_METHODS", "run_scipy"]

#: method name (canonical or alias) -> its options (symml's and SciPy's pass-through) and
#: capabilities, read from THE method table (:mod:`symml.optimize.methods`)
SCIPY_METHODS: dict[str, dict[str, Any]] = {
    name: {
        "options": {k: TABLE[get_method(name).name].options.get(k) for k in spec.option_names},
        "bounds": spec.bounds,
        "constraints": spec.constraints,
        "l1": spec.l1 == "split",
    }
    for name in all_names()
    if (spec := get_method(name)).kind == "scipy"
}

#: default tolerance per method (tighter than SciPy's, since our derivatives are exact)
DEFAULT_TOL = {name: TABLE[name].tol for name in method_names("scipy")}

FEASIBILITY_TOL = 1e-6


class _Split:
    """The map ``z -> theta`` of the L1 split (the identity when no component is split)."""

    def __init__(self, problem: Problem, split: bool):
        n = problem.n
        self.n = n
        if split and problem.l1 is not None:
            self.idx = np.flatnonzero(problem.l1 > 0)
        else:
            self.idx = np.zeros(0, dtype=int)
        self.m = len(self.idx)
        self.a = problem.l1[self.idx] if self.m else np.zeros(0)

    def theta(self, z: np.ndarray) -> np.ndarray:
        t = z[: self.n].copy()
        if self.m:
            t[self.idx] -= z[self.n :]
        return t

    def z0(self, theta: np.ndarray) -> np.ndarray:
        if not self.m:
            return theta.copy()
        u = theta.copy()
        u[self.idx] = np.maximum(theta[self.idx], 0.0)
        return np.concatenate([u, np.maximum(-theta[self.idx], 0.0)])

    def penalty(self, z: np.ndarray) -> float:
        if not self.m:
            return 0.0
        return float(np.sum(self.a * (z[self.idx] + z[self.n :])))

    def grad(self, g: np.ndarray) -> np.ndarray:
        if not self.m:
            return g
        gz = np.concatenate([g, -g[self.idx]])
        gz[self.idx] += self.a
        gz[self.n :] += self.a
        return gz

    def hess(self, H: np.ndarray) -> np.ndarray:
        if not self.m:
            return H
        n, i = self.n, self.idx
        Hz = np.zeros((n + self.m, n + self.m))
        Hz[:n, :n] = H
        Hz[:n, n:] = -H[:, i]
        Hz[n:, :n] = -H[i, :]
        Hz[n:, n:] = H[np.ix_(i, i)]
        return Hz

    def jac(self, J: np.ndarray) -> np.ndarray:
        if not self.m:
            return J
        return np.concatenate([J, -J[:, self.idx]], axis=1)

    def bounds(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.m:
            return lo, hi
        i = self.idx
        lo_z, hi_z = lo.copy(), hi.copy()
        lo_z[i] = np.maximum(lo[i], 0.0)
        hi_z[i] = np.maximum(hi[i], 0.0)
        lo_v = np.maximum(-hi[i], 0.0)
        hi_v = np.maximum(-lo[i], 0.0)
        return np.concatenate([lo_z, lo_v]), np.concatenate([hi_z, hi_v])


class _Tracker:
    """Evaluates in z, caches recent points, remembers the best one, refuses NaN/inf."""

    def __init__(self, problem: Problem, T: _Split, need_grad: bool = True):
        self.problem = problem
        self.T = T
        self.need_grad = need_grad
        self.cache: OrderedDict[bytes, tuple[float, np.ndarray, np.ndarray]] = OrderedDict()
        self.best_f = math.inf
        self.best_theta = problem.x0.copy()
        self.iteration = 0
        self.cons_cache: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def evaluate(self, z: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        key = np.asarray(z, dtype=float).tobytes()
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        theta = self.T.theta(np.asarray(z, dtype=float))
        v, g = self.problem.value_grad(theta)
        f = v + self.T.penalty(z)
        if not self.T.m:
            f += self.problem.l1_penalty(theta)
        if not math.isfinite(f):
            raise Diverged(f"the objective became {f} (evaluation {self.problem.nfev})", f)
        if self.need_grad and not np.all(np.isfinite(g)):
            raise Diverged(f"the gradient became NaN or infinite (evaluation {self.problem.nfev})")
        if f < self.best_f:
            self.best_f, self.best_theta = f, theta
        out = (f, self.T.grad(g), g)
        self.cache[key] = out
        if len(self.cache) > 8:
            self.cache.popitem(last=False)
        return out

    def fun(self, z):
        f, gz, _ = self.evaluate(z)
        return f, gz

    def trial(self, z):
        """For trust-region methods: a trial point where the objective is NaN or +inf is
        +inf for the solver (the step is rejected and the region shrinks); -inf diverges."""
        try:
            return self.fun(z)
        except Diverged as d:
            if d.value is None or d.value == -math.inf:
                raise
            return math.inf, np.zeros(len(np.asarray(z)))

    def value(self, z):
        """The objective alone, for derivative-free methods: a point outside the domain
        (NaN or +inf) is +inf for the solver, which then steps back; -inf is divergence."""
        try:
            return self.evaluate(z)[0]
        except Diverged as d:
            if d.value is not None and d.value == -math.inf:
                raise
            return math.inf

    def hessp(self, z, v):
        hv = self.problem.hessp(self.T.theta(np.asarray(z, dtype=float)), v)
        if not np.all(np.isfinite(hv)):
            raise Diverged("the Hessian-vector product became NaN or infinite")
        return hv

    def hess(self, z):
        H = self.problem.hess(self.T.theta(np.asarray(z, dtype=float)))
        if not np.all(np.isfinite(H)):
            raise Diverged("the Hessian became NaN or infinite")
        return self.T.hess(H)

    def constraints(self, z):
        key = np.asarray(z, dtype=float).tobytes()
        hit = self.cons_cache.get(key)
        if hit is None:
            vals, J = self.problem.constraint_values(self.T.theta(np.asarray(z, dtype=float)))
            hit = (vals, self.T.jac(J))
            self.cons_cache[key] = hit
            if len(self.cons_cache) > 8:
                self.cons_cache.popitem(last=False)
        return hit


def _scipy_constraints(problem: Problem, tracker: _Tracker, method: str, exact_hess: bool):
    cons = problem.constraints
    if not cons:
        return ()
    if method == "slsqp":
        out = []
        for i, c in enumerate(cons):
            out.append(
                {
                    "type": c.kind,
                    "fun": (lambda z, i=i: float(tracker.constraints(z)[0][i])),
                    "jac": (lambda z, i=i: tracker.constraints(z)[1][i]),
                }
            )
        return out
    lb = np.zeros(len(cons))
    ub = np.array([0.0 if c.kind == "eq" else np.inf for c in cons])
    kwargs = {}
    if exact_hess:
        T = tracker.T

        def chess(z, v):
            theta = T.theta(np.asarray(z, dtype=float))
            H = sum(vi * problem.constraint_hess(i, theta) for i, vi in enumerate(v) if vi != 0.0)
            if np.isscalar(H):
                H = np.zeros((problem.n, problem.n))
            return T.hess(H)

        kwargs["hess"] = chess
    else:
        kwargs["hess"] = so.BFGS()
    return [
        so.NonlinearConstraint(
            lambda z: tracker.constraints(z)[0],
            lb,
            ub,
            jac=lambda z: tracker.constraints(z)[1],
            **kwargs,
        )
    ]


def run_scipy(
    problem: Problem,
    method: str,
    *,
    max_iter: int | None,
    tol: float | None,
    options: dict[str, Any] | None,
    progress: bool,
) -> OptimizeResult:
    """Run one SciPy method with exact derivatives on a validated problem."""
    spec = get_method(method)
    own, passed = split_options(spec, method, options)
    has_bounds = bool(np.any(np.isfinite(problem.lo)) or np.any(np.isfinite(problem.hi)))
    has_l1 = problem.l1 is not None and bool(np.any(problem.l1 > 0))
    if has_bounds and not spec.bounds:
        with_bounds = ", ".join(n for n in method_names("scipy") if TABLE[n].bounds)
        raise ArgumentError(
            f"method {method!r} does not take bounds; use one of {with_bounds}, or a "
            f"first-order method (which projects onto the bounds)"
        )
    if problem.constraints and not spec.constraints:
        raise ArgumentError(
            f"method {method!r} does not take constraints; use 'slsqp' or 'trust-constr'"
        )
    if has_l1 and spec.l1 != "split":
        raise ArgumentError(
            f"an L1 penalty is not differentiable at 0, so {method!r} cannot handle it exactly; "
            f"use 'lbfgs' or 'slsqp' (which solve it exactly through the split x = p - q with "
            f"p, q >= 0), or a first-order method such as 'gd' or 'adam' (proximal steps)"
        )
    tol = spec.tol if tol is None else tol

    T = _Split(problem, has_l1)
    tracker = _Tracker(problem, T, need_grad=spec.derivatives != "none")
    keep_path = problem.n <= 10
    bar = Progress(f"minimize {method}", max_iter, progress)

    theta0 = problem.x0.copy()
    z0 = T.z0(theta0)
    history: list[float] = []
    path: list[np.ndarray] = []
    iters = 0

    def callback(intermediate_result):
        nonlocal iters
        z = np.asarray(getattr(intermediate_result, "x", intermediate_result), dtype=float)
        try:
            f, _, _ = tracker.evaluate(z)
        except Diverged:  # a derivative-free method may visit points outside the domain
            return
        iters += 1
        history.append(f)
        if keep_path:
            path.append(T.theta(z))
        bar.update(iters, f)

    kwargs: dict[str, Any] = {"callback": callback}
    fun = tracker.fun
    if spec.derivatives == "none":
        fun = tracker.value
    else:
        kwargs["jac"] = True
        if spec.scipy.startswith("trust-") and spec.scipy != "trust-constr":
            fun = tracker.trial
    sopts = _scipy_options(spec, tol, max_iter, passed)
    lo, hi = T.bounds(problem.lo, problem.hi)
    smethod = spec.scipy
    if spec.name == "l-bfgs-b":
        sopts.setdefault("maxcor", int(own["maxcor"]))
    if spec.name == "newton":
        if own["subproblem"] not in ("exact", "ncg"):
            raise ArgumentError(
                f"newton's subproblem option is 'exact' (trust-exact) or 'ncg' (trust-ncg), "
                f"got {own['subproblem']!r}"
            )
        smethod = "trust-exact" if own["subproblem"] == "exact" else "trust-ncg"
    if spec.name == "trust-krylov":
        sopts.setdefault("inexact", False)
    if spec.derivatives == "hessp":
        kwargs["hessp"] = tracker.hessp
    elif spec.derivatives == "hessian":
        kwargs["hess"] = tracker.hess
    if spec.name == "trust-constr":
        if own["hessian"] not in ("exact", "bfgs"):
            raise ArgumentError(
                f"trust-constr's hessian option is 'exact' or 'bfgs', got {own['hessian']!r}"
            )
        if own["hessian"] == "bfgs":
            kwargs["hess"] = so.BFGS()
    if spec.bounds and (has_bounds or T.m):
        kwargs["bounds"] = so.Bounds(lo, hi)
    if spec.constraints and problem.constraints:
        # constraint Hessians are always exact (small, and a quasi-Newton update of a linear
        # constraint has nothing to learn); options={"hessian": "bfgs"} affects the objective
        kwargs["constraints"] = _scipy_constraints(problem, tracker, spec.name, True)

    status = 4
    res = None
    note = ""
    try:
        f0, _, _ = tracker.evaluate(z0)
    except Diverged as d:
        what = "objective" if d.value is not None else "gradient"
        value = d.value if d.value is not None else "NaN or infinite"
        bar.close(0, float("nan"))
        return not_finite_start(problem, method, value, what)
    try:
        history.append(f0)
        if keep_path:
            path.append(theta0.copy())
        pre_steps = 0
        if spec.name == "newton":
            z0, res, pre = _newton_full_steps(problem, z0, f0, tol, max_iter)
            pre_steps = len(pre)
            for t_k, f_k in pre:
                iters += 1
                history.append(f_k)
                if keep_path:
                    path.append(t_k)
                bar.update(iters, f_k)
        if res is None:
            if max_iter is not None:
                sopts["maxiter"] = max(int(max_iter) - pre_steps, 1)
            res = so.minimize(fun, z0, method=smethod, options=sopts, **kwargs)
            if pre_steps:
                res.nit = int(getattr(res, "nit", 0)) + pre_steps
    except Diverged as d:
        status, note = 2, d.what
    except KeyboardInterrupt:
        status, note = 3, "interrupted"

    if res is not None:
        zres = np.asarray(res.x, dtype=float)
        if T.m:  # the split's bounds p, q >= 0: values at round-off from 0 are exactly 0
            zlo, zhi = lo, hi
            snap = np.max(np.abs(zres)) * 1e-12 + 1e-300
            zres = np.where(np.abs(zres - zlo) <= snap, zlo, zres)
            zres = np.where(np.abs(zres - zhi) <= snap, zhi, zres)
        theta = T.theta(zres)
        f, _, g = tracker.evaluate(T.z0(theta) if T.m else zres)
        nit = int(getattr(res, "nit", iters))
        text = str(res.message).rstrip(".")
        roundoff = (
            not res.success
            and not problem.constraints
            and not has_bounds
            and not T.m
            and problem.stationarity(theta, g) <= max(tol, 1e-8) * (1.0 + abs(f))
        )
        if roundoff:  # e.g. trust-exact's "bad approximation" once only round-off is left
            text = (
                f"stationary point reached (SciPy stopped on round-off: '{text}', where the "
                f"exact gradient's largest component is {problem.stationarity(theta, g):.2g})"
            )
        full_steps = isinstance(res, _FullSteps)
        if res.success or roundoff:
            status = 0
        elif not full_steps and iteration_limit(spec, res):
            status = 1
        if full_steps:
            smethod = "Newton"
        if spec.name == "newton" and status == 0 and full_steps:
            # refinement of a converged point on round-off (iterative refinement of the
            # last linear solve), not an iteration of the method
            theta, f, g, log = _newton_finish(problem, theta, f, g)
            if log:
                text += f"; refined by {len(log)} round-off-level Newton step(s)"
        elif spec.name == "newton" and status == 0:
            theta, f, g, log = _newton_finish(problem, theta, f, g)
            extra_steps = len(log)
            if extra_steps:
                nit += extra_steps
                iters += extra_steps
                for t_k, f_k in log:
                    history.append(f_k)
                    if keep_path:
                        path.append(t_k)
                text += (
                    f"; then {extra_steps} full Newton step(s) accepted on the exact gradient's "
                    f"norm (a function-value ratio cannot see below round-off)"
                )
        rescued = False
        if spec.constraints and status == 4 and not T.m:
            # SciPy gave up (SLSQP's "positive directional derivative" at an accurate
            # optimum, say): the verdict is the KKT conditions, checked independently
            polished = _polish(problem, theta, tol)
            if polished is not None:
                theta, n_active = polished
                f, _, g = tracker.evaluate(theta)
                status, rescued = 0, True
                text = (
                    f"SciPy stopped with '{text}', but the KKT conditions hold: on its active "
                    f"set ({n_active} equality/active constraint(s) and bound(s)) the point is "
                    f"feasible to 1e-9, stationary (Lagrangian gradient below 1e-6 of the "
                    f"gradient's scale) and its multipliers have the signs KKT requires "
                    f"(checked independently of SciPy)"
                )
        if spec.constraints and status == 0 and not T.m and not rescued:
            polished = _polish(problem, theta, tol)
            if polished is not None:
                theta, n_active = polished
                f, _, g = tracker.evaluate(theta)
                text = text.rstrip(".") + (
                    f"; polished on the active set ({n_active} equality/active constraint(s) "
                    f"and bound(s), KKT conditions verified)"
                    if n_active
                    else "; polished by Newton steps with the exact Hessian"
                )
        message = f"{'converged' if status == 0 else 'stopped'} ({smethod}): {text}"
        if problem.constraints:
            vals, _ = problem.constraint_values(theta)
            viol = _violation(problem, vals)
            message += f"; largest constraint violation {viol:.2g}"
            if viol > FEASIBILITY_TOL and status == 0:
                status = 4
                message = (
                    f"not solved ({smethod}): the solver reported success but a constraint is "
                    f"violated by {viol:.2g}; try another start or method"
                )
        if has_bounds:
            outside = np.maximum(problem.lo - theta, 0) + np.maximum(theta - problem.hi, 0)
            if np.any(outside > 0):  # round-off of a solver: put the point back in the box
                theta = np.clip(theta, problem.lo, problem.hi)
                f, _, g = tracker.evaluate(T.z0(theta))
        jac = g
    else:
        theta, f, g = tracker.best_theta, tracker.best_f, None
        nit = iters
        if status == 2:
            message = (
                f"diverged at iteration {iters}: {note}; returning the best point so far "
                f"(objective {f:.6g})"
            )
        else:
            message = (
                f"interrupted by the user (KeyboardInterrupt) at iteration {iters}; returning "
                f"the best point so far (objective {f:.6g})"
            )
        if keep_path:
            path.append(theta.copy())
        jac = None
    bar.close(iters, f)
    return problem.result(
        method,
        theta,
        f,
        nit=nit,
        status=status,
        message=message,
        history=history,
        path=path if keep_path else None,
        jac=jac,
        extra={"scipy_method": smethod},
    )


def _violation(problem: Problem, vals: np.ndarray) -> float:
    worst = 0.0
    for c, v in zip(problem.constraints, vals, strict=True):
        worst = max(worst, abs(v) if c.kind == "eq" else max(-v, 0.0))
    return float(worst)


def _polish(problem: Problem, theta: np.ndarray, tol: float):
    """Finish an interior-point solution on its active set, and keep it only if KKT holds.

    An interior-point method approaches active bounds and inequalities only as fast as its
    barrier parameter falls, which often stalls at 1e-4..1e-6 from the bound. Here the
    constraints that look active are imposed as equalities and the equality-constrained
    problem is solved by SciPy's SQP (exact derivatives; quadratic convergence). The result
    replaces the interior point only when it is feasible for *every* original constraint,
    its multipliers have the signs KKT requires, the stationarity residual is small, and the
    objective is no worse. Returns ``(theta, number active)`` or None.
    """
    n = problem.n
    lo, hi = problem.lo, problem.hi
    near = 1e-3
    low_act = np.flatnonzero(np.isfinite(lo) & (theta - lo <= near * (1 + np.abs(lo))))
    high_act = np.flatnonzero(np.isfinite(hi) & (hi - theta <= near * (1 + np.abs(hi))))
    vals, _ = problem.constraint_values(theta)
    eq = [i for i, c in enumerate(problem.constraints) if c.kind == "eq"]
    ineq_act = [
        i
        for i, c in enumerate(problem.constraints)
        if c.kind == "ineq" and vals[i] <= near * (1 + abs(vals[i]))
    ]
    rows = len(eq) + len(ineq_act) + len(low_act) + len(high_act)
    if rows > n or n > 200:
        return None
    if rows == 0:
        return _polish_free(problem, theta)
    fixed = np.concatenate([lo[low_act], hi[high_act]])
    fixed_idx = np.concatenate([low_act, high_act]).astype(int)
    cidx = eq + ineq_act

    def cfun(t):
        v, _ = problem.constraint_values(t)
        return np.concatenate([v[cidx], t[fixed_idx] - fixed])

    def cjac(t):
        _, J = problem.constraint_values(t)
        E = np.zeros((len(fixed_idx), n))
        E[np.arange(len(fixed_idx)), fixed_idx] = 1.0
        return np.vstack([J[cidx], E])

    def chess(t, v):
        H = np.zeros((n, n))
        for k, i in enumerate(cidx):
            if v[k] != 0.0:
                H += v[k] * problem.constraint_hess(i, t)
        return H

    def fun(t):
        v, g = problem.value_grad(t)
        return v, g

    start = theta.copy()
    start[fixed_idx] = fixed
    m = len(cidx) + len(fixed_idx)
    try:
        res = so.minimize(
            fun,
            start,
            jac=True,
            hess=problem.hess,
            method="trust-constr",
            constraints=[so.NonlinearConstraint(cfun, np.zeros(m), np.zeros(m), cjac, chess)],
            options={"gtol": min(tol, 1e-12), "xtol": 1e-15, "maxiter": 200},
        )
    except (Diverged, np.linalg.LinAlgError, ValueError):
        return None
    t = np.asarray(res.x, dtype=float)
    t[fixed_idx] = fixed
    if not np.all(np.isfinite(t)):
        return None
    # feasibility of everything
    if np.any(t < lo - 1e-12 * (1 + np.abs(lo))) or np.any(t > hi + 1e-12 * (1 + np.abs(hi))):
        return None
    v_all, J_all = problem.constraint_values(t)
    if _violation(problem, v_all) > 1e-9:
        return None
    # KKT: grad f = sum(lambda_i * grad c_i), signs: inequality/lower bound >= 0, upper <= 0
    f_new, g = problem.value_grad(t)
    A = cjac(t)
    lam, *_ = np.linalg.lstsq(A.T, g, rcond=None)
    resid = float(np.max(np.abs(A.T @ lam - g))) if n else 0.0
    scale = 1.0 + float(np.max(np.abs(g)))
    if resid > 1e-6 * scale:
        return None
    k = len(eq)
    lam_ineq = lam[k : k + len(ineq_act)]
    lam_low = lam[len(cidx) : len(cidx) + len(low_act)]
    lam_high = lam[len(cidx) + len(low_act) :]
    if np.any(lam_ineq < -1e-8 * scale) or np.any(lam_low < -1e-8 * scale):
        return None
    if np.any(lam_high > 1e-8 * scale):
        return None
    f_old = problem.value(theta)
    if f_new > f_old + 1e-9 * (1 + abs(f_old)):
        return None
    return t, rows


def _polish_free(problem: Problem, theta: np.ndarray):
    """No constraint is active: finish with Newton steps (trust-exact, exact Hessian), kept
    only if the point stays strictly feasible, the objective is no worse and the exact
    gradient is smaller."""
    f_old, g_old = problem.value_grad(theta)
    try:
        res = so.minimize(
            lambda t: problem.value_grad(t),
            theta,
            jac=True,
            hess=problem.hess,
            method="trust-exact",
            options={"gtol": 1e-12, "maxiter": 50},
        )
    except (Diverged, np.linalg.LinAlgError, ValueError):
        return None
    t = np.asarray(res.x, dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t <= problem.lo) or np.any(t >= problem.hi):
        return None
    if problem.constraints:
        vals, _ = problem.constraint_values(t)
        if _violation(problem, vals) > 0:
            return None
    f_new, g_new = problem.value_grad(t)
    if f_new > f_old or np.max(np.abs(g_new)) >= np.max(np.abs(g_old)):
        return None
    return t, 0


class _FullSteps(SimpleNamespace):
    """The result of a Newton run that finished on full steps alone (no trust region)."""


def _newton_full_steps(problem: Problem, theta, f, tol: float, max_iter: int | None):
    """Full Newton steps while the exact Hessian is positive definite and each step lowers f.

    A trust region caps the first steps at its initial radius even where the quadratic model
    is exact (a convex quadratic then takes several iterations); a full step is the minimizer
    of a positive definite model, so it is taken whenever it decreases the objective. Returns
    the point reached, a finished SciPy-like result when the gradient test holds there (else
    None: the trust region takes over from that point) and the (theta, f) of each step.
    """
    log: list = []
    f_cur, g = problem.value_grad(theta)
    limit = 50 if max_iter is None else int(max_iter)
    while len(log) < limit and np.all(np.isfinite(g)):
        if problem.stationarity(theta, g) <= tol:
            text = (
                f"gradient below {tol:g} after {len(log)} full Newton step(s) with a positive "
                f"definite exact Hessian"
            )
            return theta, _FullSteps(x=theta, success=True, message=text, nit=len(log)), log
        H = problem.hess(theta)
        try:
            step = scipy.linalg.cho_solve(scipy.linalg.cho_factor(H), g)
        except (np.linalg.LinAlgError, ValueError):
            break  # not positive definite (or not finite): the trust region decides
        t_new = theta - step
        f_new, g_new = problem.value_grad(t_new)
        lower = math.isfinite(f_new) and f_new < f_cur
        # at round-off level f cannot tell; the exact gradient still can
        level = (
            math.isfinite(f_new)
            and f_new <= f_cur + 1e-13 * (1.0 + abs(f_cur))
            and np.all(np.isfinite(g_new))
            and float(np.max(np.abs(g_new))) <= 0.5 * float(np.max(np.abs(g)))
        )
        if not (lower or level):
            break
        theta, f_cur, g = t_new, f_new, g_new
        log.append((theta.copy(), f_cur))
    return theta, None, log


def _newton_finish(problem: Problem, theta, f, g, max_steps: int = 6):
    """Final full Newton steps, each kept only if it at least halves the exact gradient.

    A trust-region method decides on steps by comparing predicted with actual decrease of
    f, which round-off swamps once f is within ~1e-16 of its minimum; the iterate then stalls
    near ``sqrt(eps)`` accuracy. The gradient is still accurate there, so pure Newton steps
    judged by the gradient's norm recover the quadratic convergence to full precision.
    """
    log = []
    for _ in range(max_steps):
        gmax = float(np.max(np.abs(g))) if g.size else 0.0
        if gmax == 0.0:
            break
        H = problem.hess(theta)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        t_new = theta - step
        f_new, g_new = problem.value_grad(t_new)
        f_new += problem.l1_penalty(t_new)
        ok = (
            math.isfinite(f_new)
            and np.all(np.isfinite(g_new))
            and float(np.max(np.abs(g_new))) <= 0.5 * gmax
            and f_new <= f + 1e-12 * (1.0 + abs(f))
        )
        if not ok:
            break
        theta, f, g = t_new, f_new, g_new
        log.append((theta.copy(), f))
    return theta, f, g, log
