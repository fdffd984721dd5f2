"""Derivation at scale: symml's differentiation engine against SymPy's plain path, SymEngine
and JAX (when installed), side by side in one run, with ratios.

    python benchmarks/bench_diff.py            # the targets of issue 9
    python benchmarks/bench_diff.py --small    # small sizes, seconds (run by the tests)

Cases: the 4-8-1 MLP (49 parameters: gradient, Hessian, compile of L + g + H, one-point
evaluation), the 4-16-16-1 MLP (369 parameters: gradient and hvp, derived and compiled), a
NIST Gauss1-like 8-parameter model (Jacobian over 250 rows, derived and compiled), a
depth-500 composition and a sum of 10^4 terms (derived and compiled).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import sympy

import symml as sm
from symml.errors import LimitError


def mlp(sizes):
    """Cross-entropy loss of a tanh MLP with a sigmoid output, plain SymPy, one sample."""
    x = sympy.symbols(f"x0:{sizes[0]}", real=True)
    y = sympy.Symbol("y", real=True)
    params, h = [], list(x)
    for layer in range(1, len(sizes)):
        n_in, n_out = sizes[layer - 1], sizes[layer]
        W = [[sympy.Symbol(f"W{layer}_{i}_{j}", real=True) for j in range(n_in)]
             for i in range(n_out)]
        b = [sympy.Symbol(f"b{layer}_{i}", real=True) for i in range(n_out)]
        for i in range(n_out):
            params += W[i] + [b[i]]
        z = [sum(W[i][j] * h[j] for j in range(n_in)) + b[i] for i in range(n_out)]
        h = [sympy.tanh(zi) for zi in z] if layer < len(sizes) - 1 else z
    s = 1 / (1 + sympy.exp(-h[0]))
    return -(y * sympy.log(s) + (1 - y) * sympy.log(1 - s)), params, list(x), y


def _time(fn):
    sympy.core.cache.clear_cache()  # every path starts with SymPy's global cache empty
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _compile(rows, key, fn):
    """Time a step; one that runs out of symml's time budget is recorded as such."""
    try:
        out, rows[key] = _time(fn)
        return out
    except LimitError:
        rows[key] = float("nan")
        rows[key + " (ran out of symml's 10 s budget)"] = float("nan")
        return None


def _jax_mlp(sizes):
    """The same loss in JAX on a flat parameter vector (None without JAX)."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    shapes = [(sizes[k], sizes[k - 1] + 1) for k in range(1, len(sizes))]

    def loss(theta, x, y):
        h, at = x, 0
        for k, (n_out, n_in1) in enumerate(shapes):
            Wb = theta[at : at + n_out * n_in1].reshape(n_out, n_in1)
            at += n_out * n_in1
            z = Wb[:, :-1] @ h + Wb[:, -1]
            h = jnp.tanh(z) if k < len(shapes) - 1 else z
        return jnp.logaddexp(0.0, h[0]) - y * h[0]

    return jax, loss


def run_mlp(sizes, plain_hessian: bool) -> dict:
    L, P, x, y = mlp(sizes)
    sm.hessian(sympy.tanh(x[0] * y) ** 2, [x[0], y])  # warm up lazy imports
    rows = {}
    # simplify=False: the derived form (the default tidying of results at the API boundary
    # is not derivation and costs minutes on a 49 x 49 Hessian)
    g, rows["symml grad"] = _time(lambda: sm.grad(L, P, simplify=False))
    H, rows["symml hessian"] = _time(lambda: sm.hessian(L, P, simplify=False))
    f = _compile(rows, "symml compile L+g+H", lambda: sm.compile([L, g, H], [*P, *x, y]))
    rows["symml grad+hessian+compile total"] = (
        rows["symml grad"] + rows["symml hessian"] + rows["symml compile L+g+H"])
    rng = np.random.default_rng(0)
    vals = [*rng.normal(size=len(P)), *rng.normal(size=len(x)), 1.0]
    if f is not None:
        f(*vals)
        reps = 200
        _, t = _time(lambda: [f(*vals) for _ in range(reps)])
        rows["symml one-point eval L,g,H"] = t / reps
    gs, rows["sympy grad"] = _time(lambda: [sympy.diff(L, p) for p in P])
    if plain_hessian:
        _, rows["sympy hessian"] = _time(
            lambda: [[sympy.diff(gs[i], P[j]) for j in range(i, len(P))] for i in range(len(P))]
        )
    pt = dict(zip([*P, *x, y], vals, strict=True))
    err = max(abs(float(a.xreplace(pt)) - float(b.xreplace(pt)))
              for a, b in zip(g, gs, strict=True))
    assert err < 1e-10, f"symml's gradient differs from sympy.diff by {err}"
    try:
        import symengine as se
    except ImportError:
        se = None
    if se is not None:
        Ls, Ps = se.sympify(L), [se.Symbol(str(p)) for p in P]
        gse, rows["symengine grad"] = _time(lambda: [Ls.diff(p) for p in Ps])
        _, rows["symengine hessian"] = _time(
            lambda: [[gse[i].diff(Ps[j]) for j in range(i, len(Ps))] for i in range(len(Ps))]
        )
    jx = _jax_mlp(sizes)
    if jx is not None:
        jax, loss = jx
        theta = np.asarray(vals[: len(P)])
        xv = np.asarray(vals[len(P) : -1])
        both = jax.jit(lambda t, a, b: (loss(t, a, b), jax.grad(loss)(t, a, b),
                                        jax.hessian(loss)(t, a, b)))
        _, rows["jax jit(L,g,H) trace+compile"] = _time(
            lambda: jax.block_until_ready(both(theta, xv, 1.0)))
        reps = 200
        _, t = _time(lambda: [jax.block_until_ready(both(theta, xv, 1.0)) for _ in range(reps)])
        rows["jax one-point eval L,g,H"] = t / reps
    return rows


def run_big(sizes) -> dict:
    """Gradient and hvp of a larger MLP, derived and compiled."""
    L, P, x, y = mlp(sizes)
    rows = {}
    _, rows["symml grad"] = _time(lambda: sm.grad(L, P, simplify=False))
    _compile(rows, "symml grad derived+compiled", lambda: sm.compile(L, [*P, *x, y], grad=P))
    h, rows["symml hvp"] = _time(lambda: sm.hvp(L, P))
    _compile(rows, "symml hvp compile", lambda: sm.compile(h.product, [P, h.direction, x, y]))
    rows["symml hvp derived+compiled"] = rows["symml hvp"] + rows["symml hvp compile"]
    _, rows["sympy grad"] = _time(lambda: [sympy.diff(L, p) for p in P[:: max(1, len(P) // 20)]])
    rows["sympy grad"] *= len(P) / len(P[:: max(1, len(P) // 20)])  # extrapolated from 1/20
    jx = _jax_mlp(sizes)
    if jx is not None:
        jax, loss = jx
        theta, xv = np.zeros(len(P)) + 0.1, np.ones(len(x))
        hvp = jax.jit(lambda t, v, a, b: jax.jvp(lambda u: jax.grad(loss)(u, a, b), (t,), (v,))[1])
        _, rows["jax jit(hvp) trace+compile"] = _time(
            lambda: jax.block_until_ready(hvp(theta, theta, xv, 1.0)))
    return rows


def run_logistic(d: int) -> dict:
    """Logistic regression with vector parameters: gradient and Hessian, reduce="sum"."""
    prog = sm.parse(
        f"param w[{d}] = 0, b = 0\ndata x[{d}], y\nz = dot(w, x) + b\nloss = softplus(z) - y*z\n"
    )
    rows = {}
    g, rows["symml grad"] = _time(lambda: sm.grad(prog["loss"], prog.params, simplify=False))
    H, rows["symml hessian"] = _time(
        lambda: sm.hessian(prog["loss"], prog.params, simplify=False))
    _compile(rows, "symml compile g+H", lambda: sm.compile([g, H], ["w", "b", "x", "y"],
                                                           reduce="sum"))
    rows["symml derived+compiled total"] = (
        rows["symml grad"] + rows["symml hessian"] + rows["symml compile g+H"])
    return rows


def run_gauss1(n_rows: int) -> dict:
    b = sympy.symbols("b1:9", real=True)
    x = sympy.Symbol("x", real=True)
    model = (b[0] * sympy.exp(-b[1] * x) + b[2] * sympy.exp(-((x - b[3]) ** 2) / b[4] ** 2)
             + b[5] * sympy.exp(-((x - b[6]) ** 2) / b[7] ** 2))
    rows = {}

    def derive_and_compile():
        J = sm.jacobian([model], list(b), simplify=False)
        return sm.compile(J, [*b, x])

    f, rows["symml jacobian derived+compiled"] = _time(derive_and_compile)
    xs = np.linspace(1, 250, n_rows)
    theta = [97.0, 0.009, 100.0, 65.0, 20.0, 70.0, 178.0, 16.5]
    _, rows["symml jacobian eval 250 rows"] = _time(lambda: f(*theta, xs))
    _, rows["sympy jacobian (plain diff)"] = _time(lambda: [sympy.diff(model, bi) for bi in b])
    return rows


def run_deep_wide(depth: int, width: int) -> dict:
    X, Y = sympy.symbols("x y", real=True)
    e = X
    for k in range(depth):
        e = sympy.sin(e) + Y if k % 2 else sympy.cos(e) * Y
    ws = sympy.symbols(f"w0:{width}", real=True)
    wide = sympy.Add(*[sympy.sin(w * X) for w in ws])
    rows = {}
    _compile(rows, f"depth-{depth} value compiled", lambda: sm.compile(e, [X, Y]))
    _compile(rows, f"depth-{depth} to_text", lambda: sm.to_text(e))
    _compile(rows, f"depth-{depth} grad derived", lambda: sm.grad(e, [X, Y], simplify=False))
    _compile(rows, f"depth-{depth} grad derived+compiled",
             lambda: sm.compile(e, [X, Y], grad=[X, Y]))
    _compile(rows, f"{width}-term sum d/dx derived",
             lambda: sm.grad(wide, [X], simplify=False))
    _compile(rows, f"{width}-term sum d/dx derived+compiled",
             lambda: sm.compile(wide, [X, list(ws)], grad=[X]))
    return rows


def _print(title, rows):
    print(title)
    for k, v in rows.items():
        if "budget" in k:
            print(f"  {k}")
            continue
        unit = f"{v * 1e6:9.1f} us" if "eval" in k else f"{v:9.3f} s "
        print(f"  {k:42s} {unit}")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="small sizes (seconds)")
    ap.add_argument("--no-plain-hessian", action="store_true",
                    help="skip SymPy's plain Hessian (about 13-80 s for the 4-8-1 MLP)")
    a = ap.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    sizes = [2, 3, 1] if a.small else [4, 8, 1]
    rows = run_mlp(sizes, plain_hessian=not a.no_plain_hessian)
    _print(f"MLP {'-'.join(map(str, sizes))}", rows)
    for what in ("grad", "hessian"):
        if f"sympy {what}" in rows:
            print(f"  sympy/symml {what}: {rows[f'sympy {what}'] / rows[f'symml {what}']:.1f}x")
        if f"symengine {what}" in rows:
            print(f"  symml/symengine {what}: "
                  f"{rows[f'symml {what}'] / rows[f'symengine {what}']:.1f}x")
    big_sizes = [2, 4, 4, 1] if a.small else [4, 16, 16, 1]
    big = run_big(big_sizes)
    _print(f"MLP {'-'.join(map(str, big_sizes))}", big)
    print(f"  sympy/symml grad: {big['sympy grad'] / big['symml grad']:.1f}x")
    lr = run_logistic(10 if a.small else 100)
    _print(f"logistic regression d = {10 if a.small else 100}", lr)
    rows.update({f"logistic {k}": v for k, v in lr.items()})
    gauss = run_gauss1(250)
    _print("Gauss1-like model, 8 parameters, 250 rows", gauss)
    deep = run_deep_wide(20 if a.small else 500, 1000 if a.small else 10000)
    _print("deep and wide", deep)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    rows.update({f"big {k}": v for k, v in big.items()})
    rows.update(gauss)
    rows.update(deep)
    return rows


if __name__ == "__main__":
    main()
