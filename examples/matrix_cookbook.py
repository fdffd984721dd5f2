"""The Matrix Cookbook, derived: closed-form gradients of linear, quadratic, trace,
determinant and inverse forms, each checked against the element-wise derivative.

Run ``python examples/matrix_cookbook.py``: every line shows f, the gradient symml derives
in matrix form (sizes left symbolic), and the result of an independent check on random
explicit sizes. ``--markdown`` prints a Markdown table instead.
"""

from __future__ import annotations

import argparse

import sympy
from sympy import Determinant, MatrixSymbol, Trace, log

from symml.linalg import MatrixSymbol as SymbolOf
from symml.linalg import matrix_grad
from symml.matrixcalc import check_gradient

n, m = sympy.symbols("n m", integer=True, positive=True)
A, B, X = (MatrixSymbol(s, n, n) for s in "ABX")
a, b, x, w = (MatrixSymbol(s, n, 1) for s in "abxw")
D, y = MatrixSymbol("D", m, n), MatrixSymbol("y", m, 1)
S = SymbolOf("S", n, n, symmetric=True)  # S' = S

#: (the identity, f, variable), as in the Matrix Cookbook (Petersen & Pedersen)
IDENTITIES = [
    ("d a'x / dx", a.T * x, x),
    ("d x'Ax / dx", x.T * A * x, x),
    ("d a'Xb / dX", a.T * X * b, X),
    ("d a'X'b / dX", a.T * X.T * b, X),
    ("d tr(AX) / dX", Trace(A * X), X),
    ("d tr(AXB) / dX", Trace(A * X * B), X),
    ("d tr(X'AX) / dX", Trace(X.T * A * X), X),
    ("d det(X) / dX", Determinant(X), X),
    ("d log det(X) / dX", log(Determinant(X)), X),
    ("d det(AXB) / dX", Determinant(A * X * B), X),
    ("d a'X^-1 b / dX", a.T * X.inv() * b, X),
    ("d tr(A X^-1 B) / dX", Trace(A * X.inv() * B), X),
    ("d ||Dw - y||^2 / dw (least squares)", (D * w - y).T * (D * w - y), w),
    ("d x'Sx / dx (S symmetric)", x.T * S * x, x),
    ("d (x-b)'S^-1(x-b) / dx (S symmetric)", (x - b).T * S.inv() * (x - b), x),
]


def derive_all(seed: int = 1) -> list[tuple[str, object, object, bool]]:
    """Each identity's name, f, the derived gradient and an extra independent check."""
    rows = []
    for name, f, var in IDENTITIES:
        G = matrix_grad(f, var)  # checked inside already (seed 0)
        rows.append((name, f, G, check_gradient(f, var, G, trials=2, seed=seed)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    rows = derive_all()
    if args.markdown:
        print("| identity | f | gradient | element-wise check |")
        print("| --- | --- | --- | --- |")
        for name, f, G, ok in rows:
            verdict = "ok" if ok else "FAILED"
            print(f"| {name} | ${sympy.latex(f)}$ | ${sympy.latex(G)}$ | {verdict} |")
    else:
        for name, _f, G, ok in rows:
            print(f"{name:32s} grad = {str(G):34s} {'ok' if ok else 'FAILED'}")
    failed = [r[0] for r in rows if not r[3]]
    agree = len(rows) - len(failed)
    print(f"{agree} of {len(rows)} identities agree with the element-wise derivative")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
