"""Case study: principal component analysis, derived and run.

Writes the derivation (maximise w'Sw subject to w'w = 1) to pca.md, prints the variance
explained by each component of correlated 5-D data, checks the reconstruction error against
the dropped eigenvalues, and draws the data projected on the first two components.

    python examples/pca.py [--small] [--out DIR]
"""

from __future__ import annotations

import numpy as np
from _case_common import parse_args, pyplot

from symml.ml import PCA


def main() -> None:
    args, out = parse_args(__doc__.splitlines()[0])
    rng = np.random.default_rng(0)
    n = 200 if args.small else 2000
    latent = rng.normal(size=(n, 2)) * [3.0, 1.0]
    X = latent @ rng.normal(size=(2, 5)) + 0.3 * rng.normal(size=(n, 5))
    labels = (latent[:, 0] > 0).astype(int)
    p = PCA(n_components=2).fit(X)
    d = p.derivation()
    d.verify()
    (out / "pca.md").write_text(d.to_markdown())
    print("explained variance ratio:", np.round(p.explained_variance_ratio_, 4))
    dropped = p.all_variances_[2:].sum()
    print(f"reconstruction error {p.reconstruction_error(X):.6g} = sum of dropped eigenvalues {dropped:.6g}")
    plt = pyplot()
    if plt is not None:
        Z = p.transform(X)
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.scatter(Z[:, 0], Z[:, 1], c=labels, s=8, cmap="coolwarm")
        ax.set_xlabel(f"PC1 ({p.explained_variance_ratio_[0]:.0%})")
        ax.set_ylabel(f"PC2 ({p.explained_variance_ratio_[1]:.0%})")
        ax.set_title("Data projected on the first two principal components")
        fig.tight_layout()
        fig.savefig(out / "pca.png", dpi=100)
        print("figure:", out / "pca.png")


if __name__ == "__main__":
    main()
