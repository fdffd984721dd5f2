"""Every derivation kind of docs/steps.md, shared by the rendering tests (KaTeX, pdflatex,
detail levels)."""

from __future__ import annotations

import symml as sm

LOGISTIC = "-(y*log(sigmoid(w1*x1 + w2*x2 + b)) + (1 - y)*log(1 - sigmoid(w1*x1 + w2*x2 + b)))"

KINDS = {
    "diff": lambda: sm.steps.diff("x^2*sin(x)", "x"),
    "diff_linear": lambda: sm.steps.diff("x^3 - 4*x^2 + 7*x - 9", "x"),
    "diff_chain": lambda: sm.steps.diff("exp(3*x)", "x"),
    "grad_logistic": lambda: sm.steps.grad(LOGISTIC, "w1 w2 b"),
    "jacobian": lambda: sm.steps.jacobian("[x*y, x + sin(y)]", "x y"),
    "hessian": lambda: sm.steps.hessian("x^2*y + y^3", "x y"),
    "taylor": lambda: sm.steps.taylor("exp(x)*cos(y)", {"x": 0, "y": 0}, 2),
    "integrate": lambda: sm.steps.integrate("x*exp(x)", "x"),
    "lagrange": lambda: sm.steps.lagrange("x*y", "x^2 + y^2 == 1", ["x", "y"]),
    "matrix_grad": lambda: sm.steps.matrix_grad("matrix A[n, n]; vector x[n]; x'*A*x", "x"),
    "matrix_grad_inv": lambda: sm.steps.matrix_grad(
        "matrix A[n, n]; matrix X[n, n]; trace(inv(X)*A)", "X"
    ),
    "kkt": lambda: sm.steps.lagrange(
        "(x - 2)^2 + (y - 2)^2", ["x + y <= 2", "x >= 0", "y >= 0"], ["x", "y"]
    ),
}

#: The issue's page budgets for the standalone LaTeX at textbook detail.
PAGE_LIMITS = {"kkt": 2, "grad_logistic": 1}

_CACHE: dict = {}


def kind(name: str):
    """The derivation (built once per test session)."""
    if name not in _CACHE:
        _CACHE[name] = KINDS[name]()
    return _CACHE[name]
