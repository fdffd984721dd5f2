"""Case study: support vector machines, derived (primal -> dual, kernel trick) and run.

Writes the derivation to svm.md, fits a linear SVM on separable data (margin, support
vectors, duality gap) and an RBF SVM on concentric circles, and draws both decision
boundaries with the support vectors circled.

    python examples/svm.py [--small] [--out DIR]
"""

from __future__ import annotations

import numpy as np
from _case_common import parse_args, pyplot

from symml.ml import SVM
from symml.ml.datasets import make_blobs, make_circles


def main() -> None:
    args, out = parse_args(__doc__.splitlines()[0])
    n = 60 if args.small else 300
    d = SVM().derivation()
    d.verify()
    (out / "svm.md").write_text(d.to_markdown())
    Xl, yl = make_blobs(n, centers=((-2.5, -1.0), (2.5, 1.0)), sd=0.8, seed=0)
    lin = SVM(kernel="linear", C=np.inf).fit(Xl, yl)
    print(f"linear: accuracy {lin.score(Xl, yl):.3f}, margin {lin.margin_:.4f}, "
          f"{len(lin.support_)} support vectors, duality gap {lin.duality_gap_:.2e}")
    Xc, yc = make_circles(n, seed=1)
    rbf = SVM(kernel="rbf", C=10.0).fit(Xc, yc)
    print(f"rbf on circles: accuracy {rbf.score(Xc, yc):.3f}, duality gap {rbf.duality_gap_:.2e}")
    plt = pyplot()
    if plt is not None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 4))
        for ax, model, X, y, title in ((axes[0], lin, Xl, yl, "linear, hard margin"), (axes[1], rbf, Xc, yc, "RBF kernel")):
            g0, g1 = np.meshgrid(np.linspace(X[:, 0].min() - 1, X[:, 0].max() + 1, 200),
                                 np.linspace(X[:, 1].min() - 1, X[:, 1].max() + 1, 200))
            F = model.decision_function(np.c_[g0.ravel(), g1.ravel()]).reshape(g0.shape)
            ax.contourf(g0, g1, F, levels=[-1e9, 0, 1e9], colors=["#cfe2f3", "#f4cccc"], alpha=0.8)
            ax.contour(g0, g1, F, levels=[-1, 0, 1], colors="k", linestyles=["--", "-", "--"], linewidths=1)
            ax.scatter(X[:, 0], X[:, 1], c=y, s=10, cmap="coolwarm")
            sv = model.support_vectors_
            ax.scatter(sv[:, 0], sv[:, 1], s=60, facecolors="none", edgecolors="k")
            ax.set_title(title)
        fig.tight_layout()
        fig.savefig(out / "svm.png", dpi=100)
        print("figure:", out / "svm.png")


if __name__ == "__main__":
    main()
