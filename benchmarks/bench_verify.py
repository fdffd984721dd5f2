"""verify() against its derivation: the time of ``d.verify()`` over the time of building ``d``,
for every derivation kind of ``symml.steps`` and the cases issue 7 names (a 6th derivative,
a two-constraint KKT problem, a 200-statement chain). Issue 7's target: verify costs at most
3x its derivation.

    python benchmarks/bench_verify.py            # every kind, 3 repeats (median)
    python benchmarks/bench_verify.py --quick    # one repeat of the small kinds (seconds)

Each derivation and each verification starts with SymPy's cache and verify's memos empty,
so neither side profits from the other's work. Times are wall-clock medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's symml

import sympy  # noqa: E402

import symml as sm  # noqa: E402
from symml.prob import Exponential, Normal  # noqa: E402

LOGISTIC = "-(y*log(sigmoid(w1*x1 + w2*x2 + b)) + (1 - y)*log(1 - sigmoid(w1*x1 + w2*x2 + b)))"
CHAIN = "a0 = 1\n" + "".join(f"a{i} = a{i - 1}*x + {i}\n" for i in range(1, 201))

#: name -> a function building the derivation; the ``big`` ones are skipped by --quick.
KINDS = {
    "diff x^2*sin(x)": lambda: sm.steps.diff("x^2*sin(x)", "x"),
    "diff, 6th derivative": lambda: sm.steps.diff("exp(sin(x))*log(x)", "x", 6),
    "diff with floor/sign": lambda: sm.steps.diff("floor(2*x)*sign(x - 1)*x^2 + abs(x)", "x"),
    "grad (logistic loss)": lambda: sm.steps.grad(LOGISTIC, "w1 w2 b"),
    "jacobian": lambda: sm.steps.jacobian("[x*y, x + sin(y)]", "x y"),
    "hessian": lambda: sm.steps.hessian("x^2*y + y^3", "x y"),
    "taylor (2 variables)": lambda: sm.steps.taylor("exp(x)*cos(y)", {"x": 0, "y": 0}, 3),
    "integrate (by parts)": lambda: sm.steps.integrate("x*exp(x)", "x"),
    "integrate (substitution)": lambda: sm.steps.integrate("1/sqrt(4 - 9*x^2)", "x"),
    "integrate (definite, abs)": lambda: sm.steps.integrate("abs(x - 1/2)*x", ("x", 0, 2)),
    "lagrange (equality)": lambda: sm.steps.lagrange("x*y", "x^2 + y^2 == 1", ["x", "y"]),
    "lagrange (KKT, 3 constraints)": lambda: sm.steps.lagrange(
        "(x - 2)^2 + (y - 2)^2", ["x + y <= 2", "x >= 0", "y >= 0"], ["x", "y"]
    ),
    "lagrange (KKT, 2 constraints)": lambda: sm.steps.lagrange(
        "x*y*z", ["x + y + z == 3", "x >= 0"], ["x", "y", "z"]
    ),
    "det 4x4": lambda: sm.steps.det("[[2, 0, 1, 3], [1, 3, 2, 0], [1, 1, 2, 1], [0, 2, 1, 4]]"),
    "inv 3x3": lambda: sm.steps.inv("[[2, 1, 0], [1, 3, 1], [0, 1, 4]]"),
    "solve 3x3": lambda: sm.steps.solve("[[2, 1, 0], [1, 3, 1], [0, 1, 4]]", "[1, 2, 3]"),
    "eig 3x3": lambda: sm.steps.eig("[[2, 1, 0], [1, 2, 0], [0, 0, 3]]"),
    "gram_schmidt 3 vectors": lambda: sm.steps.gram_schmidt(
        ["[1, 1, 0]", "[1, 0, 1]", "[0, 1, 1]"]
    ),
    "stationary (Markov)": lambda: sm.steps.stationary(
        "[[1/2, 1/2, 0], [1/4, 1/2, 1/4], [0, 1/2, 1/2]]"
    ),
    "convex": lambda: sm.steps.convex("x^2 + x*y + y^2 + exp(x)", "x y"),
    "dual": lambda: sm.steps.dual("x^2 + y^2", "x + y == 1", ["x", "y"]),
    "mle Normal": lambda: sm.steps.mle("Normal", "x"),
    "mle Exponential": lambda: sm.steps.mle("Exponential"),
    "kl Normal": lambda: sm.steps.kl(Normal("m1", "s1"), Normal("m2", "s2")),
    "kl Exponential": lambda: sm.steps.kl(Exponential("a"), Exponential("b")),
    "cross_entropy Bernoulli": lambda: sm.steps.cross_entropy("Bernoulli"),
    "conjugate Normal": lambda: sm.steps.conjugate(Normal(0, 1), "Normal", [1, 2, 3], sigma=1),
    "diff, 200-statement chain": lambda: sm.steps.diff(sm.parse(CHAIN)["a200"], "x"),
}
BIG = {"diff, 6th derivative", "lagrange (KKT, 2 constraints)", "diff, 200-statement chain"}


def _fresh() -> None:
    from symml.steps import check

    sympy.core.cache.clear_cache()
    for name in ("_INFO", "_TREES"):
        getattr(check, name, {}).clear()


def measure(build, repeats: int) -> tuple[float, float]:
    """(median derivation seconds, median verify seconds)."""
    derive, verify = [], []
    for _ in range(repeats):
        _fresh()
        t = time.perf_counter()
        with sm.limits(seconds=600):
            d = build()
        derive.append(time.perf_counter() - t)
        _fresh()
        t = time.perf_counter()
        assert d.verify(seconds=600) is True
        verify.append(time.perf_counter() - t)
    return statistics.median(derive), statistics.median(verify)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one repeat, small kinds only")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", help="run the kinds whose name contains this text")
    args = ap.parse_args()
    repeats = 1 if args.quick else args.repeats
    sm.steps.diff("sin(x)", "x").verify()  # lazy imports and tables out of the way
    print(f"symml from {Path(sm.__file__).parent}")
    print(f"{'derivation':32s} {'derive s':>9s} {'verify s':>9s} {'ratio':>7s}")
    worst = 0.0
    for name, build in KINDS.items():
        if (args.quick and name in BIG) or (args.only and args.only not in name):
            continue
        t_d, t_v = measure(build, repeats)
        ratio = t_v / t_d
        worst = max(worst, ratio)
        flag = "  > 3x" if ratio > 3 else ""
        print(f"{name:32s} {t_d:9.3f} {t_v:9.3f} {ratio:7.2f}{flag}", flush=True)
    print(f"largest ratio {worst:.2f} (target: at most 3)")


if __name__ == "__main__":
    main()
