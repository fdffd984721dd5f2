"""No caller's string ever reaches Python's evaluator.

``sympy.sympify`` and ``sympy.parsing`` (``parse_expr``) run ``eval`` on strings; ``eval``
and ``exec`` do so by definition. This test reads every module of the package with
:mod:`ast` and fails on any call of ``sympify``, ``S(...)``, ``parse_expr``, ``eval`` or
``exec`` (and on importing ``sympy.parsing``) that is not listed below with the reason it
cannot see a caller's string. A new call site must either go through the language
(``symml._convert.as_expr``) or be added here with its reason, after review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symml"

#: Names whose call evaluates a string as Python.
DANGEROUS = {"sympify", "S", "parse_expr", "eval", "exec", "evaluate_string"}

#: (module path relative to symml/, enclosing function, callee) -> why the argument can never
#: be a caller's string. Keep each reason specific: it is the review of that call site.
ALLOWED = {
    ("compile.py", "_compile", "exec"): (
        "runs the source that symml.compile printed itself from SymPy objects, in a private "
        "namespace; user text never reaches the printer (names are validated identifiers)"
    ),
    ("steps/render.py", "latex", "sympify"): (
        "renders a Step's parameters, which the derivation builders create as SymPy objects "
        "(Derivation data, not caller text); str parameters are prose and never reach it"
    ),
    ("matrixcalc.py", "_one_trial", "sympify"): (
        "dimensions of MatrixSymbol shapes and entries of a SymPy Matrix (numeric check)"
    ),
    ("steps/integrate.py", "integrate", "sympify"): (
        "entries of the limits returned by _parse_limits (as_expr-converted SymPy objects)"
    ),
}


def _call_name(node: ast.Call) -> str | None:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        if f.attr in ("eval", "exec"):
            # Python's eval/exec, also as builtins.eval; obj.eval() is some object's method
            base = f.value
            return f.attr if isinstance(base, ast.Name) and base.id == "builtins" else None
        return f.attr
    return None


def _is_literal_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex))


class _Scanner(ast.NodeVisitor):
    def __init__(self, rel: str):
        self.rel = rel
        self.scope: list[str] = []
        self.found: list[tuple[str, str, str, int]] = []

    def _visit_function(self, node):
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _visit_function

    def visit_Call(self, node: ast.Call):
        name = _call_name(node)
        if name in DANGEROUS:
            # sympy.S.Half and friends are attributes, not calls; S(1)/sympify(2) of a
            # number literal is harmless
            harmless = node.args and all(_is_literal_number(a) for a in node.args)
            if not harmless:
                where = self.scope[-1] if self.scope else "<module>"
                self.found.append((self.rel, where, name, node.lineno))
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom):
        if node.module and node.module.startswith("sympy.parsing"):
            self.found.append((self.rel, "<import>", node.module, node.lineno))
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import):
        for alias in node.names:
            if alias.name.startswith("sympy.parsing"):
                self.found.append((self.rel, "<import>", alias.name, node.lineno))
        self.generic_visit(node)


def scan() -> list[tuple[str, str, str, int]]:
    """Every dangerous call site in the package: (module, function, callee, line)."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        scanner = _Scanner(rel)
        scanner.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        out.extend(scanner.found)
    return out


def test_no_string_reaches_eval_sympify_or_parse_expr():
    unexplained = [
        f"symml/{rel}:{line} {name}(...) in {func}()"
        for rel, func, name, line in scan()
        if (rel, func, name) not in ALLOWED
    ]
    assert not unexplained, (
        "calls that may evaluate a caller's string as Python (route text through "
        "symml._convert.as_expr, or allow-list the site in tests/test_no_eval.py with the "
        "reason it only sees SymPy objects or symml's own generated code):\n  "
        + "\n  ".join(unexplained)
    )


def test_allow_list_has_no_stale_entries():
    present = {(rel, func, name) for rel, func, name, _ in scan()}
    stale = sorted(set(ALLOWED) - present)
    assert not stale, f"allow-listed call sites that no longer exist (remove them): {stale}"


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import sympy\nsympy.sympify(text)\n", [("m.py", "<module>", "sympify")]),
        ("from sympy import S\ndef f(t):\n    return S(t)\n", [("m.py", "f", "S")]),
        ("def g(s):\n    eval(s)\n", [("m.py", "g", "eval")]),
        ("import builtins\nbuiltins.exec(s)\nrule.eval()\n", [("m.py", "<module>", "exec")]),
        ("from sympy.parsing.sympy_parser import parse_expr\n",
         [("m.py", "<import>", "sympy.parsing.sympy_parser")]),
        ("import sympy\nx = sympy.sympify(2) + sympy.S(1)\ny = sympy.S.Half\n", []),
    ],
)
def test_the_scanner_finds_what_it_must(source, expected):
    scanner = _Scanner("m.py")
    scanner.visit(ast.parse(source))
    assert [f[:3] for f in scanner.found] == expected
