"""Benchmark: value + gradient of the logistic-regression negative log-likelihood.

Compares, for d features and n rows (value and gradient with respect to w and b, summed
over the rows):

* hand-written vectorized NumPy (the baseline: ratio 1.0)::

      z = X @ w + b; loss = sum(logaddexp(0, z) - y*z)
      grad_w = X.T @ (expit(z) - y); grad_b = sum(expit(z) - y)

* ``symml.compile(loss, args, grad=["w", "b"], reduce="sum")``;
* ``symml.compile(..., grad=...)`` without ``reduce`` (per-row arrays, summed by NumPy);
* ``sympy.lambdify`` of the per-row expression expanded over scalar symbols (SymPy's own
  derivation of ``log(1 + exp(z))``), without and with ``cse=True``, summed by NumPy;
* JAX ``jit(value_and_grad)`` when JAX is importable.

Timings are the best of ``--repeat`` interleaved rounds (each round runs every method once,
several calls per round for small n), so background load hits all methods alike. A script,
not a test: nothing here asserts a timing.

Run::

    python benchmarks/bench_compile.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import scipy.special
import sympy

import symml as sm


def build_loss(d: int):
    """The per-row NLL written in the symml language."""
    prog = sm.parse(
        f"param w[{d}] = 0, b = 0\ndata x[{d}], y\nz = dot(w, x) + b\nloss = softplus(z) - y*z\n"
    )
    return prog


def hand_numpy(w, b, X, y):
    z = X @ w + b
    loss = np.sum(np.logaddexp(0, z) - y * z)
    r = scipy.special.expit(z) - y
    return loss, [X.T @ r, np.sum(r)]


def make_methods(d: int):
    prog = build_loss(d)
    loss = prog["loss"]
    methods = {}
    compile_times = {}

    t = time.perf_counter()
    f_red = sm.compile(loss, ["w", "b", "x", "y"], grad=["w", "b"], reduce="sum")
    compile_times["symml reduce='sum'"] = time.perf_counter() - t
    methods["symml reduce='sum'"] = f_red

    t = time.perf_counter()
    f_rows = sm.compile(loss, ["w", "b", "x", "y"], grad=["w", "b"])
    compile_times["symml per-row + np.sum"] = time.perf_counter() - t

    def symml_rows(w, b, X, y):
        v, (gw, gb) = f_rows(w, b, X, y)
        return v.sum(), [gw.sum(0), gb.sum()]

    methods["symml per-row + np.sum"] = symml_rows

    # SymPy's own path: scalar symbols, log(1 + exp(z)), derivatives by sympy.diff
    ws = sympy.symbols(f"w0:{d}", real=True)
    xs = sympy.symbols(f"x0:{d}", real=True)
    bs, ys = sympy.symbols("b y", real=True)
    zs = sum(wi * xi for wi, xi in zip(ws, xs, strict=True)) + bs
    row = sympy.log(1 + sympy.exp(zs)) - ys * zs
    outs = [row] + [row.diff(v) for v in (*ws, bs)]
    for cse in (False, True):
        name = f"lambdify cse={cse}"
        t = time.perf_counter()
        lam = sympy.lambdify([*ws, bs, *xs, ys], outs, modules="numpy", cse=cse)
        compile_times[name] = time.perf_counter() - t

        def run(w, b, X, y, lam=lam):
            res = lam(*w, b, *X.T, y)
            sums = [np.sum(r) for r in res]
            return sums[0], [np.array(sums[1 : d + 1]), sums[d + 1]]

        methods[name] = run

    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        jax_note = "JAX is not installed here: skipped"
    else:  # pragma: no cover - not installed on the reference machine
        jax.config.update("jax_enable_x64", True)

        def jloss(params, X, y):
            w, b = params
            z = X @ w + b
            return jnp.sum(jnp.logaddexp(0.0, z) - y * z)

        vg = jax.jit(jax.value_and_grad(jloss))

        def run_jax(w, b, X, y):
            v, (gw, gb) = vg((w, b), X, y)
            v.block_until_ready()
            return float(v), [np.asarray(gw), float(gb)]

        methods["jax jit"] = run_jax
        jax_note = f"JAX {jax.__version__} (x64, jit of value_and_grad)"
    return methods, compile_times, jax_note


def best_times(methods, args, repeat: int, number: int) -> dict:
    best = {name: float("inf") for name in methods}
    for fn in methods.values():  # warm-up (and JIT compilation)
        fn(*args)
    for _ in range(repeat):
        for name, fn in methods.items():
            t = time.perf_counter()
            for _ in range(number):
                fn(*args)
            best[name] = min(best[name], (time.perf_counter() - t) / number)
    return best


def check(methods, args, reference) -> None:
    v0, (gw0, gb0) = reference
    for name, fn in methods.items():
        v, (gw, gb) = fn(*args)
        ok = (
            np.isclose(v, v0, rtol=1e-9)
            and np.allclose(gw, gw0, rtol=1e-8, atol=1e-8)
            and np.isclose(gb, gb0, rtol=1e-8, atol=1e-8)
        )
        if not ok:
            raise SystemExit(f"{name} disagrees with the hand-written NumPy result")


def bench_hessian(rows: int) -> None:
    """Derive and compile the Hessian of a 49-parameter MLP's squared error (4-8-1, tanh)."""
    prog = sm.parse(
        "param W[8, 4] = 0, c[8] = 0, v[8] = 0, d = 0\n"
        "data x[4], y\n"
        "loss = (dot(v, tanh(W @ x + c)) + d - y)^2\n"
    )
    loss = prog["loss"]
    t = time.perf_counter()
    H = sm.hessian(loss, prog.params)
    t_derive = time.perf_counter() - t
    args = [prog.params, "x", "y"]
    t = time.perf_counter()
    f = sm.compile(H, args, reduce="sum")
    t_compile = time.perf_counter() - t
    t = time.perf_counter()
    g = sm.compile(loss, args, grad=prog.params, reduce="sum")
    t_grad = time.perf_counter() - t
    rng = np.random.default_rng(0)
    vals = [
        rng.normal(size=(8, 4)),
        rng.normal(size=8),
        rng.normal(size=8),
        0.1,
        rng.normal(size=(rows, 4)),
        rng.normal(size=rows),
    ]
    t_run = min(_once(f, vals) for _ in range(5))
    t_grun = min(_once(g, vals) for _ in range(5))
    print(
        f"49-parameter MLP: sm.hessian {t_derive:.2f} s ({H.shape[0]}x{H.shape[1]}); "
        f"compile Hessian {t_compile:.2f} s ({f.source.count(chr(10))} lines), "
        f"value+gradient {t_grad:.2f} s; at n = {rows}: Hessian {t_run * 1e3:.1f} ms, "
        f"value+gradient {t_grun * 1e3:.2f} ms (reduce='sum')"
    )


def _once(f, vals) -> float:
    t = time.perf_counter()
    f(*vals)
    return time.perf_counter() - t


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--d", type=int, default=10, help="number of features")
    parser.add_argument("--repeat", type=int, default=15, help="interleaved rounds (best of)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--hessian",
        action="store_true",
        help="also derive and compile the Hessian of a 49-parameter MLP (takes a while)",
    )
    opts = parser.parse_args(argv)

    methods, compile_times, jax_note = make_methods(opts.d)
    methods = {"hand-written NumPy": hand_numpy, **methods}
    print(
        f"logistic-regression NLL, value + gradient, d = {opts.d}; "
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"sympy {sympy.__version__}, {os.cpu_count()} CPU(s), "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}"
    )
    print(jax_note)
    print("compile times: " + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in compile_times.items()))
    rng = np.random.default_rng(opts.seed)
    header = f"{'n':>9}  {'method':<26} {'time (ms)':>10} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for n in opts.sizes:
        X = rng.normal(size=(n, opts.d))
        w = rng.normal(size=opts.d) * 0.5
        y = (rng.random(n) < scipy.special.expit(X @ w)).astype(float)
        args = (w, 0.1, X, y)
        check(methods, args, hand_numpy(*args))
        number = max(1, 200_000 // n)
        times = best_times(methods, args, opts.repeat, number)
        base = times["hand-written NumPy"]
        for name, t in times.items():
            print(f"{n:>9}  {name:<26} {t * 1e3:>10.3f} {t / base:>7.2f}")
        print()
    if opts.hessian:
        bench_hessian(10_000)


if __name__ == "__main__":
    main()
