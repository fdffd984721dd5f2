"""Exact-name registry of optimization methods (no prefix matching, no case folding).

>>> from symml.optimize.registry import get_method, method_names
>>> method_names()[:7]
('gd', 'sgd', 'minibatch', 'momentum', 'nesterov', 'rmsprop', 'adam')
>>> method_names()[7:]
('bfgs', 'lbfgs', 'newton', 'slsqp', 'trust-constr')
>>> get_method("adam").kind
'first-order'
>>> get_method("Adam")
Traceback (most recent call last):
    ...
symml.errors.ArgumentError: unknown method 'Adam' — did you mean 'adam'? Valid methods: gd, ...
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ArgumentError
from .first_order import FIRST_ORDER, run_first_order
from .scipy_methods import SCIPY_METHODS, run_scipy

__all__ = ["Method", "METHODS", "get_method", "method_names"]


@dataclass(frozen=True)
class Method:
    """One registered method: its name, kind ("first-order" or "scipy") and runner."""

    name: str
    kind: str
    run: Callable
    summary: str


_SUMMARIES = {
    "gd": "gradient descent on all rows",
    "sgd": "stochastic gradient descent, one row per update",
    "minibatch": "minibatch gradient descent, batch_size rows per update",
    "momentum": "heavy-ball momentum",
    "nesterov": "Nesterov accelerated gradient",
    "rmsprop": "RMSprop (per-coordinate steps)",
    "adam": "Adam (bias-corrected moments)",
    "bfgs": "SciPy BFGS with the exact gradient",
    "lbfgs": "SciPy L-BFGS-B with the exact gradient; bounds",
    "newton": "Newton trust region (trust-exact) with the exact Hessian",
    "slsqp": "SciPy SLSQP; constraints with exact Jacobians; bounds",
    "trust-constr": "SciPy trust-constr; exact Hessians of objective and constraints; bounds",
}

METHODS: dict[str, Method] = {}
for _name in FIRST_ORDER:
    METHODS[_name] = Method(_name, "first-order", run_first_order, _SUMMARIES[_name])
for _name in SCIPY_METHODS:
    METHODS[_name] = Method(_name, "scipy", run_scipy, _SUMMARIES[_name])


def method_names() -> tuple[str, ...]:
    """The registered method names, first-order methods first."""
    return tuple(METHODS)


def get_method(name: str) -> Method:
    """The method registered under exactly ``name``; an unknown name lists the valid ones."""
    if not isinstance(name, str):
        raise ArgumentError(f"method must be a string, got {type(name).__name__}")
    try:
        return METHODS[name]
    except KeyError:
        close = difflib.get_close_matches(name.lower(), list(METHODS), n=1)
        hint = f" — did you mean '{close[0]}'?" if close else ""
        raise ArgumentError(
            f"unknown method {name!r}{hint} Valid methods: {', '.join(METHODS)}"
        ) from None
