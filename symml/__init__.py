"""symml: exact derivations for the mathematics of machine learning.

Write formulas in the symml language (or pass SymPy expressions), derive exactly, read the
derivation step by step, compile to fast NumPy, optimize and fit.

>>> import symml as sm
>>> sm.diff("x^2*sin(x)", "x")
x**2*cos(x) + 2*x*sin(x)
"""

from __future__ import annotations

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
from .calculus import diff, grad, hessian, integrate, jacobian, taylor
from .lagrange import lagrange, lagrangian

# -- compile ----------------------------------------------------------------------------------
from .compile import CompiledFunction, compile

# -- step-by-step derivations (symml.steps) ---------------------------------------------------
from . import steps
from .steps import Derivation, Step

# -- optimization -----------------------------------------------------------------------------
from .optimize import OptimizeResult, minimize

# -- fitting ----------------------------------------------------------------------------------
from .fitting import FitResult, fit

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
]
