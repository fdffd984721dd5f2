"""symml: exact derivations for the mathematics of machine learning.

Write formulas in the symml language (or pass SymPy expressions), derive exactly, read the
derivation step by step, compile to fast NumPy, optimize and fit.

>>> import symml as sm
>>> sm.diff("x^2*sin(x)", "x")
x**2*cos(x) + 2*x*sin(x)
"""

from __future__ import annotations

import sys
import types

# -- errors ---------------------------------------------------------------------------------
from .errors import (
    ArgumentError,
    DataError,
    DerivationError,
    FitError,
    LimitError,
    OptimizeError,
    ParseError,
    ShapeError,
    SymmlError,
    UndefinedNameError,
    VerificationError,
)

# -- functions and symbols --------------------------------------------------------------------
from .functions import heaviside, relu, sigmoid, softplus
from .symbols import ElementSymbol, symbol, vector, matrix

# -- language ---------------------------------------------------------------------------------
from .lang import Program, expr, load, parse, to_text

# -- calculus ---------------------------------------------------------------------------------
from .calculus import diff, grad, hessian, integrate, jacobian, limit, simplify, taylor

# -- everything heavier is imported on first use (PEP 562), so `import symml` and the
# calculus commands never pay for scipy.optimize, scipy.stats, the fitting or the
# optimization packages. `sm.fit`, `sm.minimize`, `sm.steps` ... work as if imported eagerly.
_LAZY = {
    "hvp": ("symml.calculus", "hvp"),
    "Hvp": ("symml.calculus", "Hvp"),
    "lagrange": ("symml.lagrange", "lagrange"),
    "lagrangian": ("symml.lagrange", "lagrangian"),
    "CompiledFunction": ("symml.compile", "CompiledFunction"),
    "compile": ("symml.compile", "compile"),
    "steps": ("symml.steps", None),
    "Derivation": ("symml.steps.model", "Derivation"),
    "Step": ("symml.steps.model", "Step"),
    "OptimizeResult": ("symml.optimize", "OptimizeResult"),
    "minimize": ("symml.optimize", "minimize"),
    "FitResult": ("symml.fitting", "FitResult"),
    "fit": ("symml.fitting", "fit"),
    "linalg": ("symml.linalg", None),
    "matrix_grad": ("symml.matrixcalc", "matrix_grad"),
    "prob": ("symml.prob", None),
    "stats": ("symml.stats", None),
    "info": ("symml.info", None),
    "markov": ("symml.markov", None),
    "convex": ("symml.convex", None),
    "ml": ("symml.ml", None),
    "set_limits": ("symml._limits", "set_limits"),
    "get_limits": ("symml._limits", "get_limits"),
    "limits": ("symml._limits", "limits"),
    "Limits": ("symml._limits", "Limits"),
    "simplification": ("symml._tidy", "simplification"),
    "set_simplification": ("symml._tidy", "set_simplification"),
}


def __getattr__(name: str):
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'symml' has no attribute {name!r}") from None
    import importlib

    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


class _Namespace(types.ModuleType):
    """symml's module type: importing the submodules ``symml.compile`` or ``symml.lagrange``
    (which Python records as attributes of the package) must not hide the functions
    ``sm.compile`` and ``sm.lagrange`` of the same names."""

    def __setattr__(self, name, value):
        if name in _LAZY and _LAZY[name][1] == name and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Namespace


__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "DataError",
    "DerivationError",
    "FitError",
    "LimitError",
    "OptimizeError",
    "ParseError",
    "ShapeError",
    "SymmlError",
    "UndefinedNameError",
    "VerificationError",
    "heaviside",
    "relu",
    "sigmoid",
    "softplus",
    "ElementSymbol",
    "symbol",
    "vector",
    "matrix",
    "Program",
    "expr",
    "load",
    "parse",
    "to_text",
    "diff",
    "grad",
    "hessian",
    "hvp",
    "Hvp",
    "limit",
    "simplify",
    "integrate",
    "jacobian",
    "taylor",
    "lagrange",
    "lagrangian",
    "CompiledFunction",
    "compile",
    "steps",
    "Derivation",
    "Step",
    "minimize",
    "OptimizeResult",
    "fit",
    "FitResult",
    "linalg",
    "matrix_grad",
    "prob",
    "stats",
    "info",
    "markov",
    "convex",
    "ml",
    "set_limits",
    "get_limits",
    "limits",
    "Limits",
    "simplification",
    "set_simplification",
]
