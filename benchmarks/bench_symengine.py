"""SymEngine (the ``symml[fast]`` accelerator) against symml's own engine on the 4-8-1 MLP
loss (49 parameters): gradient and Hessian, median of several runs, in one process.

    python benchmarks/bench_symengine.py             # 4-8-1, 5 repeats
    python benchmarks/bench_symengine.py --small     # 2-3-1, 2 repeats (CI)

Each timed call starts with SymPy's global cache cleared and a fresh DiffContext:

* ``symml``: ``DiffContext(fast=False)`` (reverse-mode gradient, forward-over-reverse
  Hessian);
* ``symengine``: ``DiffContext(fast=True)``: SymPy -> SymEngine, SymEngine's ``diff``,
  SymEngine -> SymPy objects; the three parts are also timed separately (``bridge``);
* ``symengine diff only``: SymEngine's ``diff`` on an already converted loss, results left
  as SymEngine objects (what SymEngine costs without coming back to SymPy).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import time

import sympy

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from bench_diff import mlp  # noqa: E402

from symml import _diff  # noqa: E402


def _timed(fn):
    sympy.core.cache.clear_cache()
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _parts(L, P):
    """(to SymEngine, SymEngine diff, back to SymPy) seconds of one Hessian."""
    se = _diff._symengine(required=True)
    sympy.core.cache.clear_cache()
    ctx = _diff.DiffContext(fast=True)
    bridge = _diff._SymEngineBridge(se, ctx, frozenset(P))
    t0 = time.perf_counter()
    sL, sP = bridge.to_se(L), [bridge.to_se(p) for p in P]
    t1 = time.perf_counter()
    g = [sL.diff(p) for p in sP]
    H = [[g[i].diff(sP[j]) for j in range(i + 1)] for i in range(len(P))]
    t2 = time.perf_counter()
    for row in H:
        for e in row:
            bridge.to_sympy(e)
    return t1 - t0, t2 - t1, time.perf_counter() - t2


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    a = ap.parse_args(argv)
    sizes = [2, 3, 1] if a.small else [4, 8, 1]
    repeats = a.repeats or (2 if a.small else 5)
    L, P, _, _ = mlp(sizes)
    se = _diff._symengine(required=True)
    times: dict = {}

    def record(key, fn):
        times.setdefault(key, []).append(_timed(fn)[1])

    sL = se.sympify(L)
    sP = [se.Symbol(p.name) for p in P]
    for _ in range(repeats):
        record("symml gradient", lambda: _diff.DiffContext(fast=False).gradient(L, P))
        record("symengine gradient", lambda: _diff.DiffContext(fast=True).gradient(L, P))
        record("symml hessian", lambda: _diff.DiffContext(fast=False).hessian(L, P))
        record("symengine hessian", lambda: _diff.DiffContext(fast=True).hessian(L, P))
        record("symengine diff only, hessian", lambda: [
            [gi.diff(sP[j]) for j in range(i + 1)]
            for i, gi in enumerate([sL.diff(p) for p in sP])])  # fmt: skip
        for key, t in zip(("bridge: to symengine", "bridge: diff", "bridge: back to sympy"),
                          _parts(L, P), strict=True):  # fmt: skip
            times.setdefault(key, []).append(t)
    rows = {k: statistics.median(v) for k, v in times.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"MLP {'-'.join(map(str, sizes))} ({len(P)} parameters), median of {repeats}, "
          f"load average {load:.2f}")  # fmt: skip
    for k, v in rows.items():
        print(f"  {k:32s} {v * 1e3:9.1f} ms")
    for what in ("gradient", "hessian"):
        ratio = rows[f"symml {what}"] / rows[f"symengine {what}"]
        rows[f"symml/symengine {what}"] = ratio
        print(f"  symml / symengine {what:9s} {ratio:9.2f}x  (>1: SymEngine faster)")
    rows["load average"] = load
    return rows


if __name__ == "__main__":
    main()
