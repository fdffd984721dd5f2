"""Case study: a neural network with backpropagation derived exactly.

Writes the backpropagation derivation to mlp.md (with the same network written in the
language, examples/mlp.sml, whose hand-written deltas are checked against the exact
gradient), trains a 2-8-1 tanh network on XOR and on
two moons with Adam (exact gradients compiled once), checks the gradient against central
finite differences, and draws the loss curve and the decision regions.

    python examples/mlp.py [--small] [--out DIR]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sympy
from _case_common import parse_args, pyplot

import symml as sm
from symml.ml import MLP
from symml.ml.datasets import make_moons, make_xor


def main() -> None:
    args, out = parse_args(__doc__.splitlines()[0])
    d = MLP().derivation()
    d.verify()
    sml = Path(__file__).with_name("mlp.sml")
    prog = sm.load(sml)  # the same network written in the language, backpropagation by hand
    checks = [(o.text, o.value) for o in prog.outputs]
    print("mlp.sml: backpropagation deltas minus the exact gradient:",
          "; ".join(f"{t} -> {sm.to_text(v)}" for t, v in checks))  # fmt: skip
    assert all(sympy.Matrix([v]).is_zero_matrix for _, v in checks)
    (out / "mlp.md").write_text(
        d.to_markdown() + "\n\n## The network in the symml language\n\n```\n" + prog.source + "```\n"
    )
    Xx, yx = make_xor()
    xor = MLP(hidden=(4,), lr=0.1, epochs=400, seed=1).fit(Xx, yx)
    print("XOR predictions:", xor.predict(Xx), "targets:", yx)
    n, epochs = (200, 300) if args.small else (400, 1000)
    X, y = make_moons(n, noise=0.1, seed=0)
    Xt, yt = make_moons(n, noise=0.1, seed=1)
    net = MLP(hidden=(8,), lr=0.05, epochs=epochs, seed=0).fit(X, y)
    print(f"two moons: train accuracy {net.score(X, y):.3f}, test accuracy {net.score(Xt, yt):.3f}, "
          f"final loss {net.loss_curve_[-1]:.4f}")
    plt = pyplot()
    if plt is not None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 4))
        axes[0].semilogy(net.loss_curve_)
        axes[0].set_xlabel("epoch")
        axes[0].set_ylabel("mean cross-entropy")
        axes[0].set_title("Loss curve (Adam)")
        g0, g1 = np.meshgrid(np.linspace(-1.5, 2.5, 200), np.linspace(-1, 1.5, 200))
        P = net.predict_proba(np.c_[g0.ravel(), g1.ravel()])[:, 1].reshape(g0.shape)
        axes[1].contourf(g0, g1, P, levels=20, cmap="coolwarm", alpha=0.6)
        axes[1].contour(g0, g1, P, levels=[0.5], colors="k")
        axes[1].scatter(X[:, 0], X[:, 1], c=y, s=8, cmap="coolwarm")
        axes[1].set_title("Decision regions")
        fig.tight_layout()
        fig.savefig(out / "mlp.png", dpi=100)
        print("figure:", out / "mlp.png")


if __name__ == "__main__":
    main()
