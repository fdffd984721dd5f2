"""The symml language: parse text into a :class:`Program` of SymPy objects, print back."""

from __future__ import annotations

import os
from pathlib import Path

from .._limits import budgeted
from ..errors import SymmlError
from .parser import parse_tree
from .printer import SymmlPrinter, to_latex, to_text
from .program import DataDecl, EvaluationRequest, Model, Output, ParamDecl, Program, VarDecl
from .transform import DISTRIBUTIONS, FUNCTION_NAMES, build_expr, build_program

__all__ = [
    "parse",
    "load",
    "expr",
    "to_text",
    "to_latex",
    "Program",
    "ParamDecl",
    "DataDecl",
    "VarDecl",
    "Model",
    "Output",
    "EvaluationRequest",
    "FUNCTION_NAMES",
    "DISTRIBUTIONS",
    "parse_tree",
    "SymmlPrinter",
]


@budgeted("parse")
def parse(source: str, *, strict: bool = False) -> Program:
    """Parse a symml program.

    Parameters
    ----------
    source : str
        Program text: statements separated by new lines or ``;``.
    strict : bool
        If True, every name must be declared (``var``, ``param``, ``data``) or defined;
        by default undeclared names become real symbols.

    Returns
    -------
    Program

    >>> import symml as sm
    >>> prog = sm.parse("var x\\nf = x^2*sin(x)\\ndf = diff(f, x)")
    >>> prog["df"]
    x**2*cos(x) + 2*x*sin(x)
    """
    return build_program(source, lenient=not strict)


@budgeted("load")
def load(path: str | os.PathLike, *, strict: bool = False) -> Program:
    """Read and parse a ``.sml`` file.

    >>> import symml as sm, pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.sml"
    >>> _ = p.write_text("param a = 1\\nloss = (a - 2)^2\\n")
    >>> sm.load(p)["loss"]
    (a - 2)**2
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SymmlError(f"no such file: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SymmlError(f"cannot read {p}: {exc}") from None
    return parse(text, strict=strict)


@budgeted("expr")
def expr(text: str, namespace: dict | None = None):
    """Parse one expression; undeclared names become real symbols.

    ``namespace`` maps names to SymPy values (e.g. ``program.symbols``) so that vectors
    like ``w`` resolve to their declared components.

    >>> import symml as sm
    >>> sm.expr("0.25*x^2")
    x**2/4
    >>> sm.expr("x^2 + y^2 == 1")
    Eq(x**2 + y**2, 1)
    """
    if not isinstance(text, str):
        raise SymmlError(f"symml.expr takes text, got {type(text).__name__}")
    return build_expr(text, namespace=namespace)
