"""Compile backends side by side: hand-written NumPy, JAX jit, and symml's numpy, numba and
jax backends, in one run, as ratios to hand-written NumPy (lower is better).

Workloads:

1. logistic-regression NLL value + gradient summed over n rows (d = 10);
2. logistic Hessian with ``reduce="sum"`` (d = 100, n = 10^5) against
   ``(X * s[:, None]).T @ X``, and the time to derive and compile gradient + Hessian;
3. the 4-8-1 MLP of issue 9 (49 parameters, scalar symbols): value + gradient + Hessian
   summed over 10^4 rows, one-point evaluation of all three, compile times.

Timings are the best of ``--repeat`` interleaved rounds (each round runs every method once),
so background load hits all methods alike. First-call (compile) times are reported
separately. A script, not a test: nothing here asserts a timing.

    python benchmarks/bench_backends.py            # full sizes
    python benchmarks/bench_backends.py --small    # seconds (run by the tests)
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np
import scipy.special
import sympy

import symml as sm

HAVE_JAX = importlib.util.find_spec("jax") is not None
HAVE_NUMBA = importlib.util.find_spec("numba") is not None
BACKENDS = ["numpy"] + (["numba"] if HAVE_NUMBA else []) + (["jax"] if HAVE_JAX else [])


def _best(methods: dict, repeat: int) -> dict:
    best = dict.fromkeys(methods, float("inf"))
    for _ in range(repeat):
        for k, fn in methods.items():
            t = time.perf_counter()
            out = fn()
            if hasattr(out, "block_until_ready"):
                out.block_until_ready()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def _first_call(fn) -> float:
    t = time.perf_counter()
    out = fn()
    if hasattr(out, "block_until_ready"):
        out.block_until_ready()
    return time.perf_counter() - t


def _jax_ready(tree):
    import jax

    return jax.block_until_ready(tree)


def logistic(n: int, d: int, repeat: int) -> dict:
    prog = sm.parse(
        f"param w[{d}] = 0, b = 0\ndata x[{d}], y\nz = dot(w, x) + b\nloss = softplus(z) - y*z\n"
    )
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d) * 0.3
    y = (rng.random(n) < scipy.special.expit(X @ w)).astype(float)

    def hand():
        z = X @ w + 0.1
        r = scipy.special.expit(z) - y
        return np.sum(np.logaddexp(0, z) - y * z), X.T @ r, r.sum()

    methods = {"hand-written NumPy": hand}
    first = {}
    if HAVE_JAX:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        Xj, yj = jnp.asarray(X), jnp.asarray(y)

        def jloss(w_, b_):
            z = Xj @ w_ + b_
            return jnp.sum(jnp.logaddexp(0.0, z) - yj * z)

        vg = jax.jit(jax.value_and_grad(jloss, argnums=(0, 1)))
        wj = jnp.asarray(w)
        first["JAX jit (hand-written)"] = _first_call(lambda: _jax_ready(vg(wj, 0.1)))
        methods["JAX jit (hand-written)"] = lambda: _jax_ready(vg(wj, 0.1))
    compile_s = {}
    for be in BACKENDS:
        t = time.perf_counter()
        f = sm.compile(
            prog["loss"], ["w", "b", "x", "y"], grad=["w", "b"], reduce="sum", backend=be
        )
        compile_s[be] = time.perf_counter() - t
        if be == "jax":
            import jax

            fj = jax.jit(lambda w_, b_, f=f: f(w_, b_, Xj, yj))

            def call(fj=fj):
                return _jax_ready(fj(wj, 0.1))
        else:

            def call(f=f):
                return f(w, 0.1, X, y)

        first[f"symml {be}"] = _first_call(call)
        methods[f"symml {be}"] = call
    ref = methods["symml numpy"]()
    for be in BACKENDS[1:]:
        out = methods[f"symml {be}"]()
        rel = abs(float(out[0]) - ref[0]) / abs(ref[0])
        grel = np.max(np.abs(np.asarray(out[1][0]) - ref[1][0]) / np.abs(ref[1][0]))
        print(f"  symml {be} vs numpy: value rel. diff {rel:.1e}, gradient {grel:.1e}")
    best = _best(methods, repeat)
    return {"best": best, "first": first, "compile": compile_s}


def logistic_hessian(n: int, d: int, repeat: int) -> dict:
    t = time.perf_counter()
    prog = sm.parse(
        f"param w[{d}] = 0, b = 0\ndata x[{d}], y\nz = dot(w, x) + b\nloss = softplus(z) - y*z\n"
    )
    g = sm.grad(prog["loss"], prog.params)
    H = sm.hessian(prog["loss"], prog.params)
    t_derive = time.perf_counter() - t
    t = time.perf_counter()
    sm.compile([g, H], ["w", "b", "x", "y"], reduce="sum")
    t_compile = time.perf_counter() - t
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d) * 0.1
    y = (rng.random(n) < 0.5).astype(float)

    def hand():
        p = scipy.special.expit(X @ w + 0.1)
        s = p * (1 - p)
        return (X * s[:, None]).T @ X

    fh = sm.compile(H, ["w", "b", "x", "y"], reduce="sum")
    err = np.max(np.abs(fh(w, 0.1, X, y)[:d, :d] - hand())) / np.max(np.abs(hand()))
    print(f"  d={d} Hessian: symml vs hand-written max rel. diff {err:.1e}")
    best = _best({"hand-written NumPy": hand, "symml numpy": lambda: fh(w, 0.1, X, y)}, repeat)
    return {"best": best, "derive": t_derive, "compile": t_compile}


def mlp(sizes, n: int, repeat: int) -> dict:
    """The MLP loss of benchmarks/bench_diff.py (tanh hidden, sigmoid output, cross-entropy)."""
    x = [sm.symbol(f"x{i}") for i in range(sizes[0])]
    y = sm.symbol("y")
    params, h = [], list(x)
    for layer in range(1, len(sizes)):
        n_in, n_out = sizes[layer - 1], sizes[layer]
        W = [[sm.symbol(f"W{layer}_{i}_{j}") for j in range(n_in)] for i in range(n_out)]
        b = [sm.symbol(f"b{layer}_{i}") for i in range(n_out)]
        for i in range(n_out):
            params += W[i] + [b[i]]
        z = [sum(W[i][j] * h[j] for j in range(n_in)) + b[i] for i in range(n_out)]
        h = [sympy.tanh(zi) for zi in z] if layer < len(sizes) - 1 else z
    s = 1 / (1 + sympy.exp(-h[0]))
    L = -(y * sympy.log(s) + (1 - y) * sympy.log(1 - s))
    t = time.perf_counter()
    with sm.limits(seconds=3600):
        g = sm.grad(L, params)
        H = sm.hessian(L, params)
    t_derive = time.perf_counter() - t
    rng = np.random.default_rng(2)
    P = list(rng.normal(size=len(params)) * 0.5)
    X = rng.normal(size=(n, sizes[0]))
    Y = (rng.random(n) < 0.5).astype(float)
    cols = [X[:, i] for i in range(sizes[0])]
    out = {"derive": t_derive, "compile": {}, "first": {}, "rows": {}, "point": {}}
    calls, points = {}, {}
    for be in [b for b in BACKENDS if b != "jax"]:
        t = time.perf_counter()
        with sm.limits(seconds=3600):  # a benchmark on a loaded machine: no 10 s budget
            f = sm.compile([L, g, H], [*params, *x, y], reduce="sum", backend=be)
            out["compile"][be] = time.perf_counter() - t
            fp = sm.compile([L, g, H], [*params, *x, y], backend=be)
        out["first"][be] = _first_call(lambda f=f: f(*P, *cols, Y))
        calls[f"symml {be}"] = lambda f=f: f(*P, *cols, Y)
        pt = [float(c[0]) for c in cols]
        fp(*P, *pt, float(Y[0]))
        points[f"symml {be}"] = lambda fp=fp, pt=pt: fp(*P, *pt, float(Y[0]))
    out["rows"] = _best(calls, repeat)
    out["point"] = _best(points, max(repeat, 50))
    a, c = calls["symml numpy"](), calls.get("symml numba", calls["symml numpy"])()
    err = max(
        float(np.max(np.abs(np.asarray(u) - np.asarray(v)) / (1 + np.abs(np.asarray(v)))))
        for u, v in zip(a, c, strict=True)
    )
    print(f"  MLP numba vs numpy max rel. diff {err:.1e}")
    return out


def _ratio_table(best: dict) -> None:
    base = best["hand-written NumPy"]
    for k, v in best.items():
        print(f"    {k:28s} {v * 1e3:10.3f} ms   ({v / base:.2f}x)")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="tiny sizes (seconds)")
    ap.add_argument("--repeat", type=int, default=10)
    a = ap.parse_args(argv)
    small = a.small
    rep = 2 if small else a.repeat
    n1, nh, dh, nm = (2000, 500, 8, 200) if small else (10**6, 10**5, 100, 10**4)
    sizes = [2, 3, 1] if small else [4, 8, 1]
    rows: dict = {}
    print(f"backends: {', '.join(BACKENDS)}")
    print(f"1. logistic NLL value + gradient, n = {n1}, d = 10 (ratio to hand-written NumPy)")
    r = rows["logistic"] = logistic(n1, 10, rep)
    _ratio_table(r["best"])
    print(
        "    first call (compile) times: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in r["first"].items())
    )
    print(f"2. logistic Hessian reduce='sum', n = {nh}, d = {dh}")
    r = rows["hessian"] = logistic_hessian(nh, dh, rep)
    _ratio_table(r["best"])
    print(f"    derive grad + Hessian {r['derive']:.2f} s, compile both {r['compile']:.2f} s")
    print(f"3. MLP {'-'.join(map(str, sizes))}: value + gradient + Hessian")
    r = rows["mlp"] = mlp(sizes, nm, rep)
    print(f"    derive grad + Hessian {r['derive']:.2f} s")
    for be in r["compile"]:
        print(
            f"    symml {be}: compile {r['compile'][be]:.2f} s, first call "
            f"{r['first'][be]:.2f} s, {nm} rows {r['rows'][f'symml {be}'] * 1e3:.2f} ms, "
            f"one point {r['point'][f'symml {be}'] * 1e6:.1f} us"
        )
    if "symml numba" in r["rows"]:
        ratio = r["rows"]["symml numba"] / r["rows"]["symml numpy"]
        print(f"    numba / numpy over rows: {ratio:.2f}x")
    return rows


if __name__ == "__main__":
    main()
