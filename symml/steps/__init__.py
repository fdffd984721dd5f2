"""Step-by-step derivations that read like a textbook and check themselves.

Every function here takes the same arguments as its plain counterpart in
:mod:`symml.calculus` and returns a :class:`Derivation`: a tree of :class:`Step` s with
``to_text()``, ``to_markdown()``, ``to_latex()`` and ``verify()``.

>>> import symml as sm
>>> d = sm.steps.diff("x^2*sin(x)", "x")
>>> d.result
x**2*cos(x) + 2*x*sin(x)
>>> d.verify()
True
"""

from __future__ import annotations

from .bayes import conjugate
from .convex import convex, dual
from .diff import diff, grad, hessian, jacobian
from .info import cross_entropy, kl
from .integrate import integrate
from .lagrange import lagrange
from .linalg import det, eig, gram_schmidt, inv, solve
from .markov import stationary
from .matrix_grad import matrix_grad
from .mle import mle
from .model import Derivation, Step
from .taylor import taylor

__all__ = [
    "Derivation",
    "Step",
    "diff",
    "grad",
    "jacobian",
    "hessian",
    "taylor",
    "integrate",
    "lagrange",
    "det",
    "inv",
    "solve",
    "eig",
    "gram_schmidt",
    "matrix_grad",
    "stationary",
    "convex",
    "dual",
    "mle",
    "kl",
    "cross_entropy",
    "conjugate",
]
