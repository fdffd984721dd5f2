"""Benchmark: logistic-regression MLE out of core with Dask, peak memory and time per pass.

The data are generated lazily in chunks of rows by ``dask.array.random`` (seeded per chunk,
so every pass over the data sees the same numbers): ``x`` is n x d standard normal, ``y`` is
Bernoulli(sigmoid(x @ w + 0.3)). At the default n = 2*10^7, d = 10 the design matrix alone is
1.6 GB of float64; it is never held at once. ``symml.fit`` sees a dict of Dask arrays and runs
Newton's method on the value, gradient and Hessian summed block by block (one pass over the
data per iteration, on Dask's local threaded scheduler).

Printed: rows, chunk, passes, wall time, time per pass, the process's peak resident memory
(VmHWM, which includes Python, NumPy, SymPy and Dask themselves: the baseline after the
imports is printed too) and the largest error of the estimates against the true weights.

Run::

    PYTHONPATH=. python benchmarks/bench_dask.py              # n = 2*10^7, d = 10
    PYTHONPATH=. python benchmarks/bench_dask.py --rows 2000000 --compare   # and in memory
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

MODEL = "param b; y ~ Bernoulli(sigmoid(dot(w, x) + b))"


def true_weights(d: int) -> np.ndarray:
    return 0.5 * np.linspace(-1.0, 1.0, d)


def make_data(rows: int, features: int, chunk: int, seed: int = 0):
    """Lazy ``(x, y)`` Dask arrays in chunks of ``chunk`` rows (nothing is computed here)."""
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, features), chunks=(chunk, features))
    eta = X @ true_weights(features) + 0.3
    u = rng.random(rows, chunks=chunk)
    y = (u < 1.0 / (1.0 + da.exp(-eta))).astype(float)
    return X, y


def fit_lazy(X, y):
    import symml as sm

    return sm.fit(MODEL, {"x": X, "y": y})


def peak_mb() -> float:
    """Peak resident memory of this process in MB (VmHWM; ru_maxrss where /proc is absent)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--chunk", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--compare",
        action="store_true",
        help="also fit the computed data in memory (needs the memory!) and print both",
    )
    args = ap.parse_args(argv)

    import dask  # noqa: F401  (imports counted in the baseline)

    import symml  # noqa: F401

    base = peak_mb()
    X, y = make_data(args.rows, args.features, args.chunk, args.seed)
    t0 = time.perf_counter()
    r = fit_lazy(X, y)
    seconds = time.perf_counter() - t0
    peak = peak_mb()
    passes = r.nfev + 1  # the Newton iterations' passes and the first (checking) pass
    err = float(np.max(np.abs(r.params["w"] - true_weights(args.features))))
    gb = args.rows * args.features * 8 / 1e9
    print(
        f"logistic MLE on Dask: {args.rows:,} rows x {args.features} features "
        f"({gb:.2f} GB of x as float64), chunks of {args.chunk:,} rows"
    )
    print(f"  {r.message}")
    print(
        f"  passes over the data: {passes}; wall time {seconds:.1f} s "
        f"({seconds / passes:.2f} s per pass)"
    )
    print(f"  peak memory (VmHWM): {peak:.0f} MB; after the imports: {base:.0f} MB")
    print(f"  max |w - w_true| = {err:.2e}; stderr(w[0]) = {r.stderr['w'][0]:.2e}")
    out = {
        "rows": args.rows,
        "features": args.features,
        "passes": passes,
        "seconds": seconds,
        "peak_mb": peak,
        "base_mb": base,
        "success": bool(r.success),
        "max_error": err,
    }
    if args.compare:
        import symml as sm

        Xm, ym = X.compute(), y.compute()
        t0 = time.perf_counter()
        with sm.limits(seconds=None):  # in memory the whole fit is under the budget
            mem = sm.fit(MODEL, {"x": Xm, "y": ym})
        t_mem = time.perf_counter() - t0
        rel = float(np.max(np.abs(r.x - mem.x) / np.abs(mem.x)))
        rel_se = float(np.max(np.abs(r.stderr_flat - mem.stderr_flat) / mem.stderr_flat))
        print(
            f"  in memory: {t_mem:.1f} s ({mem.nfev} evaluations); Dask / memory time "
            f"{seconds / t_mem:.2f}; estimates agree to {rel:.1e}, standard errors to "
            f"{rel_se:.1e} (relative)"
        )
        out.update(memory_seconds=t_mem, rel_diff=rel, rel_diff_se=rel_se)
    return out


if __name__ == "__main__":
    main()
