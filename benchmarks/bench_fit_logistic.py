"""Benchmark: logistic regression by maximum likelihood, symml.fit vs hand-written NumPy.

Both sides do the same job with the same optimizer: estimates and standard errors of
``y ~ Bernoulli(sigmoid(dot(w, x) + b))`` on n rows and d features, minimizing the negative
log-likelihood with SciPy's ``trust-exact`` (Newton steps on the exact Hessian in a trust
region), then inverting the Hessian at the optimum for the standard errors.

* hand-written: ``z = X @ w + b``; ``nll = sum(logaddexp(0, z) - y*z)``; gradient
  ``X.T @ (expit(z) - y)``; Hessian ``X.T @ diag(p (1 - p)) @ X`` (bordered for b);
* symml: ``symml.fit(...)`` (parse, symbolic NLL, exact derivatives, compile, optimize,
  covariance, FitResult), timed end to end.

Run::

    python benchmarks/bench_fit_logistic.py            # n = 10^6, d = 10
    python benchmarks/bench_fit_logistic.py --n 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.optimize
import scipy.special


def make_data(n: int, d: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d) * 0.5
    p = scipy.special.expit(X @ w + 0.3)
    y = (rng.random(n) < p).astype(float)
    return X, y


def hand_written(X: np.ndarray, y: np.ndarray):
    """Logistic-regression MLE with hand-written NumPy derivatives and trust-exact."""
    n, d = X.shape
    ones = np.ones(n)

    def fun(theta):
        z = X @ theta[:d] + theta[d]
        r = scipy.special.expit(z) - y
        return float(np.sum(np.logaddexp(0.0, z) - y * z)), np.append(X.T @ r, r.sum())

    def hess(theta):
        z = X @ theta[:d] + theta[d]
        p = scipy.special.expit(z)
        h = p * (1 - p)
        Xs = X * np.sqrt(h)[:, None]
        H = np.empty((d + 1, d + 1))
        H[:d, :d] = Xs.T @ Xs
        H[:d, d] = H[d, :d] = X.T @ h
        H[d, d] = h @ ones
        return H

    theta0 = np.zeros(d + 1)
    theta0[d] = 1.0  # the same start as symml (w = 0, b = 1)
    f0 = fun(theta0)[0]
    res = scipy.optimize.minimize(
        fun, theta0, jac=True, hess=hess, method="trust-exact", options={"gtol": 1e-8 * f0}
    )
    cov = np.linalg.inv(hess(res.x))
    return res.x, np.sqrt(np.diag(cov)), res.nfev


def with_symml(X: np.ndarray, y: np.ndarray):
    import symml as sm

    r = sm.fit("param b; y ~ Bernoulli(sigmoid(dot(w, x) + b))", {"x": X, "y": y})
    return np.append(r.params["w"], r.params["b"]), np.append(r.stderr["w"], r.stderr["b"]), r.nfev


def best_times(fns, repeat: int):
    """Best wall-clock and CPU time of each function, runs interleaved (a, b, a, b, ...) so
    that load from other jobs on a shared machine hits both sides alike."""
    wall = [np.inf] * len(fns)
    cpu = [np.inf] * len(fns)
    outs = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0, c0 = time.perf_counter(), time.process_time()
            outs[i] = fn()
            wall[i] = min(wall[i], time.perf_counter() - t0)
            cpu[i] = min(cpu[i], time.process_time() - c0)
    return wall, cpu, outs


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    X, y = make_data(args.n, args.d)
    with_symml(X[:100], y[:100])  # warm-up: imports
    wall, cpu, outs = best_times(
        [lambda: hand_written(X, y), lambda: with_symml(X, y)], args.repeat
    )
    (x_h, se_h, nfev_h), (x_s, se_s, nfev_s) = outs
    est_digits = -np.log10(np.max(np.abs(x_s - x_h) / np.abs(x_h)))
    se_digits = -np.log10(np.max(np.abs(se_s - se_h) / np.abs(se_h)))
    print(
        f"logistic regression MLE, n = {args.n}, d = {args.d} (best of {args.repeat}, interleaved)"
    )
    print("                                     wall (s)   CPU (s)  evaluations")
    print(f"  hand-written NumPy + trust-exact: {wall[0]:8.3f}  {cpu[0]:8.3f}  {nfev_h:6d}")
    print(f"  symml.fit (end to end)          : {wall[1]:8.3f}  {cpu[1]:8.3f}  {nfev_s:6d}")
    print(f"  ratio symml / hand-written      : {wall[1] / wall[0]:8.2f}  {cpu[1] / cpu[0]:8.2f}")
    print(f"  agreement: estimates {est_digits:.1f} digits, standard errors {se_digits:.1f} digits")


if __name__ == "__main__":
    main()
