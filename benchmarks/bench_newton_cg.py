"""Newton-CG with symml's compiled Hessian-vector product against Adam, same wall time, on a
4-16-16-1 MLP (369 parameters, tanh hidden layers, sigmoid output, cross-entropy) trained on
two-moons data (400 rows).

    python benchmarks/bench_newton_cg.py            # 4-16-16-1, 400 rows
    python benchmarks/bench_newton_cg.py --small    # 2-4-4-1, 100 rows (seconds; the tests)

Newton-CG is SciPy's ``minimize(method="Newton-CG", jac=..., hessp=...)`` with the value,
gradient and hvp compiled by symml (``reduce="sum"`` over the rows). Adam (lr 0.01, the
usual betas) runs on the same compiled value and gradient for as long as Newton-CG took;
the script prints both final mean losses. Derivation and compilation are timed separately
and not counted in the training time.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from bench_diff import mlp  # noqa: E402

import symml as sm  # noqa: E402


def two_moons(n, noise=0.15, seed=0):
    rng = np.random.default_rng(seed)
    m = n // 2
    t1, t2 = rng.uniform(0, np.pi, m), rng.uniform(0, np.pi, n - m)
    a = np.c_[np.cos(t1), np.sin(t1)]
    b = np.c_[1 - np.cos(t2), 0.5 - np.sin(t2)]
    X = np.r_[a, b] + noise * rng.normal(size=(n, 2))
    y = np.r_[np.zeros(m), np.ones(n - m)]
    return X, y


def build(sizes):
    L, P, x, y = mlp(sizes)
    t = time.perf_counter()
    with sm.limits(seconds=600):
        fg = sm.compile(L, [*P, *x, y], grad=P, reduce="sum")
        t_grad = time.perf_counter() - t
        h = sm.hvp(L, P)
        fh = sm.compile(h.product, [*P, h.direction, *x, y], reduce="sum")
    return fg, fh, len(P), t_grad, time.perf_counter() - t - t_grad


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true")
    a = ap.parse_args(argv)
    sizes, n = ([2, 4, 4, 1], 100) if a.small else ([2, 16, 16, 1], 400)
    X, y = two_moons(n)
    fg, fh, k, t_grad, t_hvp = build(sizes)
    cols = [X[:, j] for j in range(X.shape[1])]

    def fun(theta):
        v, g = fg(*theta, *cols, y)
        return v / n, np.asarray(g, dtype=float).ravel() / n

    def hessp(theta, p):
        return np.asarray(fh(*theta, p, *cols, y), dtype=float).ravel() / n

    from scipy.optimize import minimize

    theta0 = np.random.default_rng(1).normal(scale=0.5, size=k)
    t = time.perf_counter()
    r = minimize(fun, theta0, jac=True, hessp=hessp, method="Newton-CG",
                 options={"maxiter": 200 if not a.small else 20, "xtol": 1e-10})
    t_ncg = time.perf_counter() - t
    # Adam for the same wall time
    theta, m, v = theta0.copy(), np.zeros(k), np.zeros(k)
    lr, b1, b2, eps, step = 0.01, 0.9, 0.999, 1e-8, 0
    t = time.perf_counter()
    while time.perf_counter() - t < t_ncg:
        step += 1
        _, g = fun(theta)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta -= lr * (m / (1 - b1**step)) / (np.sqrt(v / (1 - b2**step)) + eps)
    adam_loss = fun(theta)[0]
    rows = {"parameters": k, "rows": n, "derive+compile grad s": t_grad,
            "derive+compile hvp s": t_hvp, "newton-cg s": t_ncg, "newton-cg nit": r.nit,
            "newton-cg loss": float(r.fun), "adam steps": step, "adam loss": float(adam_loss)}
    print(f"MLP {'-'.join(map(str, sizes))} ({k} parameters), two moons, {n} rows")
    for key, val in rows.items():
        print(f"  {key:24s} {val:.6g}" if isinstance(val, float) else f"  {key:24s} {val}")
    better = "lower" if r.fun < adam_loss else "NOT lower"
    print(f"  Newton-CG loss is {better} than Adam's at the same wall time "
          f"({r.fun:.4g} vs {adam_loss:.4g})")
    return rows


if __name__ == "__main__":
    main()
