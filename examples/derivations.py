"""Derivations notebook: write a Markdown file of step-by-step derivations.

Derives, verifies and renders a derivative, the logistic-loss gradient, a Jacobian, a
Hessian, a multivariate Taylor polynomial, an integral by parts and a Lagrange-multiplier
problem, and writes them all to one Markdown file (LaTeX math in ``$$...$$``) that renders
on GitHub, in VS Code or in Jupyter.

Run::

    python examples/derivations.py                 # writes derivations.md
    python examples/derivations.py -o notes.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

import symml as sm

LOGISTIC = "-(y*log(sigmoid(w1*x1 + w2*x2 + b)) + (1 - y)*log(1 - sigmoid(w1*x1 + w2*x2 + b)))"


def derivations() -> list[tuple[str, sm.Derivation]]:
    """The derivations of the notebook, each with a one-line introduction."""
    return [
        ("The product rule, step by step.", sm.steps.diff("x^2*sin(x)", "x")),
        ("A symbolic exponent, by logarithmic differentiation.", sm.steps.diff("x^x", "x")),
        (
            "The gradient of the logistic loss: the sigmoid's derivative is derived once and "
            "reused by name, and the result simplifies to (sigmoid(z) - y)*x.",
            sm.steps.grad(LOGISTIC, "w1 w2 b"),
        ),
        ("A Jacobian, entry by entry.", sm.steps.jacobian("[x*y, x + sin(y)]", "x y")),
        ("A Hessian: the gradient, then its Jacobian.", sm.steps.hessian("x^2*y + y^3", "x y")),
        (
            "A Taylor polynomial in two variables, with its mixed partial.",
            sm.steps.taylor("exp(x)*cos(y)", {"x": 0, "y": 0}, 2),
        ),
        ("An integral by parts.", sm.steps.integrate("x*exp(x)", ("x", 0, 1))),
        (
            "Extrema of x*y on the unit circle, by Lagrange multipliers.",
            sm.steps.lagrange("x*y", "x^2 + y^2 == 1", ["x", "y"]),
        ),
    ]


def notebook(items: list[tuple[str, sm.Derivation]] | None = None) -> str:
    """All derivations as one Markdown document; each one is verified first."""
    items = derivations() if items is None else items
    parts = [
        "# Derivations with symml",
        "",
        "Every derivation below was re-checked step by step with `Derivation.verify()`: "
        "each step's two sides agree at random points to 30 digits, and each result "
        "agrees with SymPy's own answer.",
        "",
    ]
    for intro, d in items:
        d.verify()
        parts += [intro, "", d.to_markdown(), "---", ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="derivations.md", help="Markdown file to write")
    args = parser.parse_args(argv)
    items = derivations()
    text = notebook(items)
    Path(args.output).write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: {len(text.splitlines())} lines, {len(items)} derivations")


if __name__ == "__main__":
    main()
