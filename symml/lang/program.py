"""The result of parsing: a :class:`Program` of declarations, bindings, models and outputs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy

__all__ = ["Program", "VarDecl", "ParamDecl", "DataDecl", "Model", "Output", "EvaluationRequest"]


@dataclass(frozen=True)
class VarDecl:
    """``var x`` / ``var s > 0``: a real symbol (or a vector/matrix of them)."""

    name: str
    symbols: Any  # Symbol or Matrix of ElementSymbol
    shape: tuple[int, ...] = ()


@dataclass(frozen=True)
class ParamDecl:
    """``param w[3] = 0, s = 1 in [0, inf]``: a parameter to fit or optimize.

    ``init`` is a float (scalar) or an ndarray of the declared shape; ``bounds`` is a
    ``(low, high)`` pair with None for an open side.
    """

    name: str
    symbols: Any
    shape: tuple[int, ...] = ()
    init: Any = None
    bounds: tuple[float | None, float | None] = (None, None)

    @property
    def size(self) -> int:
        return math.prod(self.shape) if self.shape else 1


@dataclass(frozen=True)
class DataDecl:
    """``data x[3], y``: a per-row data column (a vector of columns for ``x[3]``)."""

    name: str
    symbols: Any
    shape: tuple[int, ...] = ()


@dataclass(frozen=True)
class Model:
    """A ``lhs ~ rhs`` statement.

    ``dist`` is None for least squares (``y ~ expr``, then ``rhs`` is the expression), or a
    distribution name ("Normal", "Bernoulli", "Poisson", "Binomial", "Exponential") with
    its arguments in ``dist_args`` (then ``rhs`` is None).
    """

    lhs: Any
    rhs: Any
    dist: str | None
    dist_args: tuple = ()
    text: str = ""
    line: int = 0


@dataclass(frozen=True)
class EvaluationRequest:
    """``evaluate(f, x = 1, w = [1, 2])``: a numeric evaluation that ``symml run`` compiles."""

    expr: Any
    values: dict


@dataclass(frozen=True)
class Output:
    """An expression statement: its source text, line and value."""

    text: str
    line: int
    value: Any


@dataclass
class Program:
    """A parsed symml program.

    ``program[name]`` is a binding's SymPy value (a Matrix for vectors and matrices), and
    also finds declared names (their symbols) and constants.

    >>> import symml as sm
    >>> prog = sm.parse("param w[2] = 0, b = 1\\ndata x[2], y\\nz = dot(w, x) + b")
    >>> prog["z"]
    w[0]*x[0] + w[1]*x[1] + b
    >>> list(prog.params), prog.data
    (['w', 'b'], ['x', 'y'])
    """

    bindings: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, sympy.Lambda] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, VarDecl] = field(default_factory=dict)
    params: dict[str, ParamDecl] = field(default_factory=dict)
    data_decls: dict[str, DataDecl] = field(default_factory=dict)
    models: list[Model] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    source: str = ""
    #: ``matrix A[n, n]`` / ``vector x[n]``: name -> SymPy MatrixSymbol (symbolic sizes)
    matrix_symbols: dict[str, Any] = field(default_factory=dict)
    #: the size names of those declarations (``n``) -> positive integer Symbols
    sizes: dict[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> list[str]:
        """Names of the data columns, in declaration order."""
        return list(self.data_decls)

    @property
    def symbols(self) -> dict[str, Any]:
        """Every declared name (var, param, data) -> its Symbol or Matrix of symbols."""
        out: dict[str, Any] = {}
        for table in (self.vars, self.params, self.data_decls):
            for name, decl in table.items():
                out[name] = decl.symbols
        return out

    def __getitem__(self, name: str):
        for table in (self.bindings, self.constants, self.symbols, self.matrix_symbols,
                      self.sizes):
            if name in table:
                return table[name]
        if name in self.functions:
            return self.functions[name]
        from ..errors import UndefinedNameError
        from .parser import suggest

        known = list(self.bindings) + list(self.constants) + list(self.symbols)
        raise UndefinedNameError(
            f"'{name}' is not defined in this program{suggest(name, known)}"
            + ("" if known else " (it defines nothing)")
        )

    def __contains__(self, name: str) -> bool:
        return any(
            name in t
            for t in (self.bindings, self.constants, self.symbols, self.functions,
                      self.matrix_symbols, self.sizes)
        )

    def __iter__(self):
        return iter(self.bindings)

    def keys(self):
        return self.bindings.keys()

    def __repr__(self) -> str:
        parts = []
        if self.params:
            parts.append(f"params={list(self.params)}")
        if self.data_decls:
            parts.append(f"data={self.data}")
        if self.bindings:
            parts.append(f"bindings={list(self.bindings)}")
        if self.models:
            parts.append(f"models={len(self.models)}")
        return f"Program({', '.join(parts)})"


def is_mapping(x) -> bool:
    return isinstance(x, Mapping)
