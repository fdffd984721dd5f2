"""Derivation at scale: symml's differentiation engine against SymPy's plain path (and
SymEngine when installed) on an MLP loss, side by side, with ratios.

    python benchmarks/bench_diff.py            # the 4-8-1 MLP of issue 9 (49 parameters)
    python benchmarks/bench_diff.py --small    # a 2-3-1 MLP, seconds (run by the tests)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import sympy

import symml as sm


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


def run(sizes, plain_hessian: bool) -> dict:
    L, P, x, y = mlp(sizes)
    sm.hessian(sympy.tanh(x[0] * y) ** 2, [x[0], y])  # warm up lazy imports
    rows = {}
    g, rows["symml grad"] = _time(lambda: sm.grad(L, P))
    H, rows["symml hessian"] = _time(lambda: sm.hessian(L, P))
    f, rows["symml compile L+g+H"] = _time(lambda: sm.compile([L, g, H], [*P, *x, y]))
    rng = np.random.default_rng(0)
    vals = [*rng.normal(size=len(P)), *rng.normal(size=len(x)), 1.0]
    f(*vals)
    reps = 200
    _, t = _time(lambda: [f(*vals) for _ in range(reps)])
    rows["symml one-point eval L,g,H"] = t / reps
    gs, rows["sympy grad"] = _time(lambda: [sympy.diff(L, p) for p in P])
    if plain_hessian:
        _, rows["sympy hessian"] = _time(
            lambda: [[sympy.diff(gs[i], P[j]) for j in range(i, len(P))] for i in range(len(P))]
        )
    assert list(g) == gs, "symml's gradient differs from sympy.diff"
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
    return rows


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="a 2-3-1 MLP (seconds)")
    ap.add_argument("--no-plain-hessian", action="store_true",
                    help="skip SymPy's plain Hessian (about 13 s for the 4-8-1 MLP)")
    a = ap.parse_args(argv)
    sizes = [2, 3, 1] if a.small else [4, 8, 1]
    rows = run(sizes, plain_hessian=not a.no_plain_hessian)
    print(f"MLP {'-'.join(map(str, sizes))}")
    for k, v in rows.items():
        unit = f"{v * 1e6:9.1f} us" if "eval" in k else f"{v:9.3f} s "
        print(f"  {k:30s} {unit}")
    for what in ("grad", "hessian"):
        if f"sympy {what}" in rows:
            print(f"  sympy/symml {what}: {rows[f'sympy {what}'] / rows[f'symml {what}']:.1f}x")
    return rows


if __name__ == "__main__":
    main()
