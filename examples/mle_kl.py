"""Maximum likelihood and KL divergence, derived step by step and checked.

Derives the Normal MLE (sample mean and the 1/n variance) from the log-likelihood, checks the
estimators against a numeric optimizer on a random sample, and derives
KL(Normal(m1, s1) || Normal(m2, s2)) out of its integral, then compares it with quadrature.
Run: python examples/mle_kl.py [--small]
"""

from __future__ import annotations

import sys

import mpmath
import numpy as np
import sympy
from scipy import optimize, stats

from symml.prob import Normal
from symml.steps import kl, mle


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    n_obs = 20 if "--small" in argv else 200
    d = mle("Normal", "x")
    d.verify()
    print(d.to_text())

    x = np.random.default_rng(0).normal(1.0, 2.0, n_obs)
    n, i, j = (sympy.Symbol(k, integer=True, positive=True) for k in "nij")
    xs = sympy.IndexedBase("x", real=True)

    def value(expr):
        e = expr.xreplace({n: n_obs}).doit()
        return float(e.xreplace({xs[k]: v for k, v in enumerate(x, 1)}))

    mine = [value(d.result["mu"]), value(d.result["sigma2"])]
    opt = optimize.minimize(lambda t: -stats.norm(t[0], np.sqrt(t[1])).logpdf(x).sum(),
                            [0.0, 1.0], method="L-BFGS-B", bounds=[(None, None), (1e-6, None)])
    print(f"MLE on {n_obs} draws: mu = {mine[0]:.6f}, sigma2 = {mine[1]:.6f}; "
          f"numeric optimizer: {opt.x[0]:.6f}, {opt.x[1]:.6f}")

    k = kl(Normal("m1", "s1"), Normal("m2", "s2"))
    k.verify()
    print(k.to_text())
    vals = dict(m1=0.3, s1=0.8, m2=-1.0, s2=1.5)
    closed = float(k.result.subs({sympy.Symbol(a, real=True): v for a, v in vals.items()}))
    p, q = stats.norm(0.3, 0.8), stats.norm(-1.0, 1.5)
    quad = float(mpmath.quad(lambda t: p.pdf(float(t)) * (p.logpdf(float(t)) - q.logpdf(float(t))),
                             [-20, 0, 20]))
    print(f"KL closed form at {vals}: {closed:.12f}; quadrature: {quad:.12f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
