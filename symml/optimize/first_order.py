"""First-order methods implemented in symml on compiled exact gradients.

Every method updates ``theta <- prox(theta - s * u)`` where ``u`` is the method's direction
(the gradient, a momentum buffer, Adam's bias-corrected first moment...), ``s`` its step size
(``lr``, or per coordinate for RMSprop and Adam), and ``prox`` the proximal step of the L1
penalty (soft-thresholding by ``s * l1``) followed by projection onto the bounds. Momentum
methods are implemented in their equivalent form on the previous step ``x_k - x_{k-1}``, so
that with L1 or bounds their fixed points are exactly the optimum (see ``_rule``). L2 is part
of the smooth gradient. Soft-thresholding sets small coordinates to exactly zero, which is why
an L1 penalty on a sparse truth gives exact zeros.

=============  ==============================================================  ===========
method         update (g = gradient of the smooth part)                         default lr
=============  ==============================================================  ===========
``gd``         ``u = g`` on all rows                                            1/L, backtr.
``sgd``        ``u = g`` on one row, rows shuffled every epoch                  0.01
``minibatch``  ``u = g`` on ``batch_size`` rows (default 32), shuffled          0.01
``momentum``   heavy ball ``b = mu*b + g; u = b`` (``momentum`` mu = 0.9)      1/L
``nesterov``   ``b = mu*b + g; u = g + mu*b`` (PyTorch's form, mu = 0.9)        1/L
``rmsprop``    ``v = rho*v + (1-rho)*g^2; s = lr/(sqrt(v) + eps)`` (rho 0.9)    0.001
``adam``       bias-corrected moments, ``beta1`` 0.9, ``beta2`` 0.999, eps 1e-8  0.001
=============  ==============================================================  ===========

``1/L``: L is the largest |eigenvalue| of the exact Hessian at the start, found by power
iteration on exact Hessian-vector products; a gradient step of ``1/L`` decreases every
function whose curvature stays below L. ``gd`` also backtracks (the step is halved until
``f(x+) <= f(x) + g'(x+ - x) + |x+ - x|^2 / (2 lr)``), so its objective never rises. The
result's ``extra["lr_rule"]`` says how the step was chosen.

Every method also takes ``lr_decay`` (``lr_k = lr / (1 + lr_decay*k)``, default 0) through
``options=``. The stopping test is the largest component of the unit-step proximal gradient
mapping ``theta - prox(theta - g)`` (the gradient itself without L1 and bounds) falling to
``tol`` (default 1e-6); for ``sgd`` and ``minibatch`` it is checked on all rows at the end of
every epoch.

>>> import symml as sm
>>> r = sm.minimize("(x - 1)^2 + 10*(y + 2)^2", {"x": 0, "y": 0}, method="momentum", lr=0.02)
>>> r.success, round(r.x["x"], 5), round(r.x["y"], 5)
(True, 1.0, -2.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ArgumentError
from ._problem import (
    Diverged,
    Problem,
    Progress,
    check_finite,
    not_finite_start,
    prox,
    require_options,
)
from .methods import TABLE, method_names
from .result import OptimizeResult

__all__ = ["FIRST_ORDER", "DEFAULT_LR", "AUTO_LR", "run_first_order"]

#: method -> its options and their defaults (from THE method table)
FIRST_ORDER: dict[str, dict[str, float]] = {
    name: dict(TABLE[name].options) for name in method_names("first-order")
}

#: default learning rates of the methods whose step is not chosen from the curvature
DEFAULT_LR = {
    "sgd": 0.01,
    "minibatch": 0.01,
    "rmsprop": 0.001,
    "adam": 0.001,
}

#: methods whose default step is ``1/L``, L the largest |eigenvalue| of the exact Hessian at
#: the start (``gd`` also backtracks: the step is halved until the objective decreases enough)
AUTO_LR = ("gd", "momentum", "nesterov")

DEFAULT_MAX_ITER = 1000
DEFAULT_EPOCHS = 10
DEFAULT_BATCH = 32
DEFAULT_TOL = 1e-6
MAX_PATH = 50_000


class _Path:
    """Iterates kept for plots: a very long run keeps every stride-th one, thinned to at
    most MAX_PATH rows by doubling the stride."""

    def __init__(self, x0: np.ndarray, keep: bool):
        self.keep = keep
        self.points: list[np.ndarray] = [x0.copy()] if keep else []
        self.stride = 1

    def record(self, k: int, x: np.ndarray) -> None:
        if self.keep and k % self.stride == 0:
            self.points.append(x.copy())
            if len(self.points) > MAX_PATH:
                self.points = self.points[::2]
                self.stride *= 2


def _check_options(method: str, opts: dict[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in opts.items():
        try:
            out[k] = float(v)
        except (TypeError, ValueError) as exc:
            raise ArgumentError(f"option {k!r} of {method!r} must be a number, got {v!r}") from exc
    ranges = {
        "momentum": (0.0, 1.0, "0 <= momentum < 1"),
        "rho": (0.0, 1.0, "0 <= rho < 1"),
        "beta1": (0.0, 1.0, "0 <= beta1 < 1"),
        "beta2": (0.0, 1.0, "0 <= beta2 < 1"),
    }
    for k, (low, high, text) in ranges.items():
        if k in out and not (low <= out[k] < high):
            raise ArgumentError(f"option {k!r} of {method!r} must satisfy {text}, got {out[k]}")
    if "eps" in out and not out["eps"] > 0:
        raise ArgumentError(f"option 'eps' of {method!r} must be > 0, got {out['eps']}")
    if not (out["lr_decay"] >= 0 and math.isfinite(out["lr_decay"])):
        raise ArgumentError(
            f"option 'lr_decay' must be a finite number >= 0, got {out['lr_decay']}"
        )
    return out


def _rule(method: str, o: dict[str, float], n: int):
    """The method's proximal proposal: ``propose(x, g, k, lr) -> (z, s)``, the next iterate
    being ``prox(z)`` with threshold ``s * l1`` (``s`` a scalar or per coordinate).

    Momentum terms are written with the previous *step* ``x_k - x_{k-1}`` rather than a
    buffer of gradients: without L1 and bounds this is the same iteration as the buffer form
    (heavy ball; PyTorch's Nesterov), and with them a fixed point satisfies exactly
    ``x = prox(x - lr*g)``, the optimality condition of the penalized problem. (A gradient
    buffer would amplify the gradient by ``1/(1 - mu)`` but not the threshold, and so solve
    a problem with a weaker penalty.)
    """
    if method in ("gd", "sgd", "minibatch"):
        return lambda x, g, k, lr: (x - lr * g, lr)
    if method in ("momentum", "nesterov"):
        mu = o["momentum"]
        state: dict[str, np.ndarray | None] = {"x": None, "g": None}

        def heavy_ball(x, g, k, lr):
            prev_x, prev_g = state["x"], state["g"]
            z = x - lr * g
            if prev_x is not None:
                z = z + mu * (x - prev_x)
                if method == "nesterov":
                    z = z - mu * lr * (g - prev_g)
            elif method == "nesterov":
                z = z - mu * lr * g  # first step: b = g, u = g + mu*g
            state["x"], state["g"] = x, g
            return z, lr

        return heavy_ball
    if method == "rmsprop":
        rho, eps = o["rho"], o["eps"]
        v = np.zeros(n)

        def rmsprop(x, g, k, lr):
            v[:] = rho * v + (1 - rho) * g * g
            s = lr / (np.sqrt(v) + eps)
            return x - s * g, s

        return rmsprop
    if method == "adam":
        b1, b2, eps = o["beta1"], o["beta2"], o["eps"]
        m = np.zeros(n)
        v = np.zeros(n)

        def adam(x, g, k, lr):
            t = k + 1
            m[:] = b1 * m + (1 - b1) * g
            v[:] = b2 * v + (1 - b2) * g * g
            mhat = m / (1 - b1**t)
            vhat = v / (1 - b2**t)
            s = lr / (np.sqrt(vhat) + eps)
            return x - s * mhat, s

        return adam
    raise ArgumentError(f"not a first-order method: {method!r}")  # pragma: no cover


def run_first_order(
    problem: Problem,
    method: str,
    *,
    lr: float | None,
    max_iter: int | None,
    epochs: int | None,
    tol: float | None,
    batch_size: int | None,
    seed: int | None,
    options: dict[str, Any] | None,
    progress: bool,
) -> OptimizeResult:
    """Run one first-order method on a validated problem (see :func:`symml.minimize`)."""
    o = _check_options(method, require_options(method, options, FIRST_ORDER[method]))
    auto = lr is None and method in AUTO_LR
    backtrack = auto and method == "gd"
    lr_rule = ""
    lr = DEFAULT_LR.get(method, 0.01) if lr is None else lr
    tol = DEFAULT_TOL if tol is None else tol
    stochastic = method in ("sgd", "minibatch")

    if stochastic and problem.n_rows is None:
        raise ArgumentError(
            f"method {method!r} draws rows of the data at each update, but no data= was given "
            f"(or the objective uses none of the data columns); use 'gd' or another full-batch "
            f"method for an objective without data"
        )
    if batch_size is not None:
        if method == "sgd" and batch_size != 1:
            raise ArgumentError(
                "'sgd' updates on one row at a time; use method='minibatch' for batch_size > 1"
            )
        if method not in ("sgd", "minibatch"):
            raise ArgumentError(
                f"batch_size is for 'minibatch' (and 'sgd', which uses 1), not {method!r}"
            )
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ArgumentError(f"batch_size must be a positive integer, got {batch_size!r}")
    if stochastic:
        batch = 1 if method == "sgd" else min(int(batch_size or DEFAULT_BATCH), problem.n_rows)
        per_epoch = math.ceil(problem.n_rows / batch)
    else:
        batch, per_epoch = None, 1
    if max_iter is not None and epochs is not None:
        raise ArgumentError("give max_iter or epochs, not both")
    if epochs is not None:
        total = int(epochs) * per_epoch
    elif max_iter is not None:
        total = int(max_iter)
    else:
        total = DEFAULT_EPOCHS * per_epoch if stochastic else DEFAULT_MAX_ITER

    rng = np.random.default_rng(seed)
    rule = _rule(method, o, problem.n)
    l1, lo, hi = problem.l1, problem.lo, problem.hi
    if np.all(np.isinf(lo)) and np.all(np.isinf(hi)):
        lo = hi = None
    keep_path = problem.n <= 10
    bar = Progress(f"minimize {method}", total, progress)

    x = problem.x0.copy()
    history: list[float] = []
    path = _Path(x, keep_path)
    best_x, best_f, best_k = x.copy(), math.inf, 0
    k = 0
    status, g, gnorm = 1, None, math.inf
    note = ""

    def lr_at(step: int) -> float:
        return lr / (1.0 + o["lr_decay"] * step)

    cached = None
    try:
        if not stochastic:
            while True:
                v, g = cached if cached is not None else problem.value_grad(x)
                cached = None
                f = v + problem.l1_penalty(x)
                check_finite(x, f, g)
                history.append(f)
                if auto and k == 0:
                    lr, lr_rule = _curvature_step(problem, x, backtrack)
                if f < best_f:
                    best_x, best_f, best_k = x.copy(), f, k
                bar.update(k, f)
                gnorm = problem.stationarity(x, g)
                if gnorm <= tol:
                    status = 0
                    break
                if k >= total:
                    break
                z, s = rule(x, g, k, lr_at(k))
                x_new = prox(z, l1, lo, hi, s)
                if backtrack:  # halve the step until the objective decreases enough
                    for _ in range(60):
                        v_new, g_new = problem.value_grad(x_new)
                        d = x_new - x
                        ok = math.isfinite(v_new) and v_new <= v + float(g @ d) + float(d @ d) / (
                            2.0 * s
                        )
                        if ok:
                            cached = (v_new, g_new)
                            break
                        lr /= 2.0
                        z, s = rule(x, g, k, lr_at(k))
                        x_new = prox(z, l1, lo, hi, s)
                x = x_new
                k += 1
                path.record(k, x)
            fun = history[-1]
        else:
            n_rows = problem.n_rows
            v, g = problem.value_grad(x)
            f = v + problem.l1_penalty(x)
            check_finite(x, f, g)
            history.append(f)
            best_x, best_f, best_k = x.copy(), f, 0
            gnorm = problem.stationarity(x, g)
            perm = rng.permutation(n_rows)
            pos = 0
            if gnorm <= tol:
                status = 0
            while status != 0 and k < total:
                if pos >= n_rows:  # end of an epoch: check on all rows
                    v, g = problem.value_grad(x)
                    f = v + problem.l1_penalty(x)
                    check_finite(x, f, g)
                    if f < best_f:
                        best_x, best_f, best_k = x.copy(), f, k
                    gnorm = problem.stationarity(x, g)
                    if gnorm <= tol:
                        status = 0
                        break
                    perm = rng.permutation(n_rows)
                    pos = 0
                rows = perm[pos : pos + batch]
                pos += batch
                vb, gb = problem.value_grad(x, rows)
                fb = vb + problem.l1_penalty(x)
                check_finite(x, fb, gb)
                history.append(fb)
                bar.update(k, fb)
                z, s = rule(x, gb, k, lr_at(k))
                x = prox(z, l1, lo, hi, s)
                k += 1
                path.record(k, x)
            if status != 0:
                v, g = problem.value_grad(x)
                f = v + problem.l1_penalty(x)
                check_finite(x, f, g)
                gnorm = problem.stationarity(x, g)
                status = 0 if gnorm <= tol else 1
            fun = v + problem.l1_penalty(x)
        kind = "proximal gradient" if (l1 is not None or lo is not None) else "gradient"
        if status == 0:
            message = (
                f"converged: largest {kind} component {gnorm:.3g} <= tol {tol:g} "
                f"after {k} iterations"
            )
        else:
            message = (
                f"iteration limit reached: stopped after {k} iterations with largest {kind} "
                f"component {gnorm:.3g} > tol {tol:g}; raise max_iter (or epochs) or tune lr"
            )
    except Diverged as d:
        if not history:  # the very first evaluation, at x0
            what = "objective" if d.what.startswith("the objective") else "gradient"
            bar.close(0, float("nan"))
            value = d.value if d.value is not None else d.what.split("became ")[-1]
            return not_finite_start(problem, method, value, what)
        status = 2
        message = (
            f"diverged at iteration {k}: {d.what}; returning the best point so far "
            f"(iteration {best_k}, objective {best_f:.6g}); try a smaller learning rate than "
            f"lr={lr:g}"
        )
        x, fun, g = best_x, best_f, None
        note = "diverged"
    except KeyboardInterrupt:
        status = 3
        if stochastic:  # the best full objective seen, or the current point if better
            try:
                with np.errstate(all="ignore"):
                    fc = problem.value(x)
                if np.isfinite(fc) and fc < best_f:
                    best_x, best_f, best_k = x.copy(), fc, k
            except KeyboardInterrupt:  # pragma: no cover - a second Ctrl-C
                pass
        message = (
            f"interrupted by the user (KeyboardInterrupt) at iteration {k}; returning the best "
            f"point so far (iteration {best_k}, objective {best_f:.6g})"
        )
        x, fun, g = best_x, best_f, None
        note = "interrupted"
    bar.close(k, fun if math.isfinite(fun) else float("nan"))
    if keep_path and (note or k % path.stride):
        path.points.append(x.copy())  # the returned point ends the path
    return problem.result(
        method,
        x,
        fun,
        nit=k,
        status=status,
        message=message,
        history=history,
        path=path.points if keep_path else None,
        jac=g,
        extra={
            "lr": lr,
            **({"lr_rule": lr_rule} if lr_rule else {}),
            **({"batch_size": batch} if stochastic else {}),
        },
    )


def _curvature_step(problem: Problem, x: np.ndarray, backtrack: bool) -> tuple[float, str]:
    """The default step ``1/L``: L is the largest |eigenvalue| of the exact Hessian at the
    start, by power iteration on exact Hessian-vector products (a gradient step of
    ``1/L`` decreases any function whose curvature stays below L)."""
    L = problem.curvature(x)
    tail = (
        "; halved by backtracking when the objective does not decrease enough" if backtrack else ""
    )
    if not math.isfinite(L):
        return 0.01, "default 0.01: the Hessian at the start is not finite" + tail
    if L <= 0.0:
        return 1.0, "1: the objective has no curvature at the start" + tail
    return 1.0 / L, (
        f"1/L, L = {L:.3g} the largest Hessian eigenvalue at the start (power iteration on "
        f"exact Hessian-vector products)" + tail
    )
