"""Steps that rewrite an expression without a calculus rule, shared by the derivation kinds:
simplification as a step of its own, abbreviations of repeated inner expressions ("let
z = ..."), and the substitution back at the end.

>>> import sympy
>>> x = sympy.Symbol("x", real=True)
>>> simplify_step(x*(x + 1) - x).after
x**2
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import sympy
from sympy.functions.elementary.hyperbolic import HyperbolicFunction
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from ..functions import sigmoid
from .diff_rules import _ABBREV, _NON_FINITE, _Differ, _eq
from .model import Step, explain

__all__ = ["simplify_step"]


# -- simplification as a step of its own --------------------------------------------------
def _size(e) -> tuple:
    return (sympy.count_ops(e, visual=False), len(str(e)))


def _positive_lead(e: sympy.Expr) -> sympy.Expr:
    """Turn -a*(y - s) into a*(s - y): absorb a leading minus sign into a difference factor."""
    if e.is_Mul and e.could_extract_minus_sign():
        adds = [a for a in e.args if a.is_Add]
        if len(adds) == 1:
            add = adds[0]
            rest = [a for a in e.args if a is not add]
            return -sympy.Mul(*rest) * (-add)
    return e


def _larger_than(e: sympy.Basic, nodes: int) -> bool:
    """Has the tree of ``e`` more than ``nodes`` nodes? Stops counting there."""
    stack, seen = [e], 0
    while stack:  # (SymPy's preorder_traversal is a recursive generator: slow when deep)
        seen += 1
        if seen > nodes:
            return True
        stack.extend(stack.pop().args)
    return False


def _simplified(e: sympy.Expr) -> tuple[sympy.Expr, str]:
    """The tidiest of a few standard forms of ``e`` and how it was reached."""
    cands = [(e, "")]
    if _larger_than(e, 1500):  # (count_ops of a 200-deep chain alone took seconds)
        return e, ""
    ops = sympy.count_ops(e)
    if ops > 300:  # polynomial algebra on huge expressions is slow and rarely tidier
        return e, ""
    trig = e.has(TrigonometricFunction, HyperbolicFunction)
    try:
        cands.append((sympy.factor(e), "factor"))
        cands.append((sympy.cancel(e), "cancel"))
        cands.append((sympy.factor(sympy.expand(e)), "expand and factor"))
        if ops < 40 and not trig:  # SymPy's simplify (trigsimp) can take minutes on big input
            cands.append((sympy.simplify(e), "simplify"))
    except (sympy.PolynomialError, NotImplementedError, TypeError, ValueError):
        pass
    best, how = e, ""
    ops0, len0 = _size(e)
    calls = e.atoms(sympy.Function)
    for cand, label in cands:
        if not cand.atoms(sympy.Function) <= calls:
            continue  # no new functions (sin(2*x) for 2*sin(x)*cos(x)): keep the familiar form
        cand = _positive_lead(cand)
        ops, length = _size(cand)
        # only a clear gain is worth a step: two operations fewer, or a third shorter
        if (ops <= ops0 - 2 or length < 0.67 * len0) and (ops, length) < _size(best):
            best, how = cand, label
    return best, how


def simplify_step(e: sympy.Expr) -> Step | None:
    """A ``simplify`` step from ``e`` to a tidier equal form, or None if ``e`` is tidy already."""
    if isinstance(e, sympy.MatrixBase) or e.has(*_NON_FINITE):
        return None  # oo - oo and 0*oo would "simplify" to nan
    best, how = _simplified(e)
    if best == e:
        return None
    words = {
        "factor": "collect the terms and factor",
        "cancel": "cancel common factors",
        "expand and factor": "expand, collect like terms and factor",
        "simplify": "simplify (SymPy's simplify)",
    }.get(how, "move the minus sign into the difference")
    return Step("simplify", e, best, f"Simplify: {words}.")


# -- abbreviations of repeated inner expressions ---------------------------------------------------
def _abbreviations(exprs: Sequence, variables: Sequence, reserved: set[str]) -> dict:
    """Name -> body for compound function arguments occurring twice or more with a variable."""
    count: Counter = Counter()
    for e in exprs:
        for node in sympy.preorder_traversal(e):
            if isinstance(node, sympy.Function) and len(node.args) == 1:
                arg = node.args[0]
                if (
                    arg.is_Add
                    and len(arg.args) >= 3
                    and any(v in arg.free_symbols for v in variables)
                ):
                    count[arg] += 1
    repeated = [a for a, n in count.items() if n >= 2]
    repeated.sort(key=lambda a: sympy.default_sort_key(a))
    names = [n for n in _ABBREV if n not in reserved]
    out = {}
    for i, body in enumerate(repeated):
        name = names[i] if i < len(names) else f"z{i}"
        out[sympy.Symbol(name, real=True)] = body
    return {**out, **_function_values(exprs, out, reserved | {str(s) for s in out})}


def _function_values(exprs: Sequence, inner: dict, reserved: set[str]) -> dict:
    """Name -> body for a function of an abbreviation occurring twice or more, as ``sigma(z)``
    in the logistic loss: ``s = sigma(z)`` (the derivatives are then written with ``s``)."""
    count: Counter = Counter()
    for e in exprs:
        for node in sympy.preorder_traversal(_abbreviate(e, inner)):
            if isinstance(node, sympy.Function) and len(node.args) == 1 and node.args[0] in inner:
                count[node] += 1
    out = {}
    free = [n for n in _FUNCTION_NAMES if n not in reserved]
    for body in sorted((b for b, n in count.items() if n >= 2), key=sympy.default_sort_key):
        prefer = "s" if body.func is sigmoid and "s" in free else None
        name = prefer or (free[0] if free else None)
        if name is None:
            break
        free.remove(name)
        out[sympy.Symbol(name, real=True)] = body
    return out


#: Names for function values of abbreviations (``s`` for a sigmoid).
_FUNCTION_NAMES = ("s", "p", "q", "g", "r")


def _abbreviate(e, definitions: dict):
    """``e`` written with the abbreviations, in their order (``z`` first, then ``s = sigma(z)``)."""
    for sym, body in definitions.items():
        e = e.xreplace({body: sym})
    return e


def _definition_steps(definitions: dict) -> list[Step]:
    return [
        Step(
            "definition",
            sym,
            body,
            explain(
                "Abbreviate the repeated value: let {d}."
                if body.is_Function and body.args[0] in definitions
                else "Abbreviate the repeated inner expression: let {d}.",
                d=_eq(sym, body),
            ),
            check=False,
        )  # fmt: skip
        for sym, body in definitions.items()
    ]


def _back_substitution(value, definitions: dict, differ: _Differ) -> tuple[Step | None, Any]:
    if not definitions:
        return None, value
    full = (
        differ.expand(value)
        if not isinstance(value, sympy.MatrixBase)
        else value.applyfunc(differ.expand)
    )
    if full == value:
        return None, value
    params = {f"d{i}": _eq(s, b) for i, (s, b) in enumerate(definitions.items())}
    names = ", ".join("{" + k + "}" for k in params)
    return Step("substitution", value, full, explain(f"Substitute back {names}.", **params)), full
