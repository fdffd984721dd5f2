"""Differentiation by rules, one rule per step: ``diff``, ``grad``, ``jacobian``, ``hessian``.

The rules themselves are in :mod:`symml.steps.diff_rules`; simplification, abbreviations
and substitution back are steps of :mod:`symml.steps.rewrite`. This module builds the
derivations: one partial derivative per component, "likewise" for components derived by
the same rules with another variable, and the assembly of vectors and matrices.

Within one derivation, derivatives already worked out are reused by name instead of being
derived again ("derived in (A)"), and a compound inner expression that occurs several times
(``w1*x1 + w2*x2 + b`` inside two sigmoids) is abbreviated (``z``) once at the start and
substituted back at the end. Simplification is always a step of its own.

>>> import symml as sm
>>> d = sm.steps.diff("x^2*sin(x)", "x")
>>> d.result
x**2*cos(x) + 2*x*sin(x)
>>> d.rules()[:3]
['product', 'power', 'trig']
>>> d.verify()
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy
from sympy import Derivative, Matrix

from .._diff import diff as _diff
from .._limits import budgeted
from ..errors import ArgumentError, ShapeError
from .diff_rules import (  # noqa: F401 (re-exported: other derivation kinds use the engine)
    _NON_FINITE,
    _TABLE,
    _d,
    _Differ,
    _eq,
    _immediate,
    _same_as_sympy,
    _tag,
)
from .model import Derivation, Explanation, Step, explain
from .rewrite import (  # noqa: F401 (re-exported)
    _abbreviate,
    _abbreviations,
    _back_substitution,
    _definition_steps,
    simplify_step,
)

__all__ = ["diff", "grad", "jacobian", "hessian"]


# -- argument handling ----------------------------------------------------------------------------
def _as_expr(f):
    from .. import _convert

    return _convert.as_expr(f)


def _as_symbols(vars_, exprs=()):
    from .. import _convert

    return _convert.as_symbols(vars_, exprs)


def _diff_order(vars_: Sequence, f) -> list[sympy.Symbol]:
    """Expand ``x, 2, y`` (SymPy style counts) into ``[x, x, y]``."""
    out: list[sympy.Symbol] = []
    for v in vars_:
        if isinstance(v, (int, sympy.Integer)) and not isinstance(v, bool):
            if not out:
                raise ArgumentError("diff: a count must follow a variable, as in diff(f, 'x', 2)")
            if int(v) < 1:
                raise ArgumentError(f"diff: the count after {out[-1]} must be >= 1, got {v}")
            out.extend([out[-1]] * (int(v) - 1))
        elif isinstance(v, str) and v.strip().isdigit():
            out.extend(_diff_order([int(v)], f) if not out else [out[-1]] * (int(v) - 1))
        else:
            out.extend(_as_symbols(v, [f]))
    return out


def _reserved(exprs) -> set[str]:
    names: set[str] = set()
    for e in exprs:
        names |= {str(s) for s in e.free_symbols}
    return names


def _held(f_full: sympy.Expr, x: sympy.Symbol) -> tuple[str, dict]:
    """``", holding {h0}, {h1} constant"`` and its parameters (the other variables)."""
    others = sorted((s for s in f_full.free_symbols if s != x), key=sympy.default_sort_key)
    if not others:
        return "", {}
    params = {f"h{i}": s for i, s in enumerate(others)}
    return ", holding " + ", ".join("{" + k + "}" for k in params) + " constant", params


def _partial(differ: _Differ, f, x, title: str, before=None, **params) -> Step:
    """A partial derivative of ``f`` with respect to ``x``: the rule steps, then simplify."""
    root = differ.d(f, x)
    subs = [root]
    value = root.after
    simp = simplify_step(value)
    if simp is not None:
        subs.append(simp)
        value = simp.after
    held, names = _held(differ.expand(f), x)
    exact = _same_as_sympy if differ.expand(f).has(*_NON_FINITE) else None
    return Step(
        "partial", before if before is not None else _d(f, x), value,
        explain(f"{title} with respect to {{x}}{held}.", x=x, **names, **params), subs,
        detail="brief", check=exact,
    )  # fmt: skip


def _title(template: str, f, xs, vector: bool = False) -> Explanation:
    """A derivation's title with its expression and variables typeset."""
    names = {f"x{i}": x for i, x in enumerate(xs)}
    listed = ", ".join("{" + k + "}" for k in names)
    if vector and len(xs) > 1:
        listed = "(" + listed + ")"
    return explain(template + " " + listed, f=f, **names)


def _pattern(step: Step, x: sympy.Symbol, rep: sympy.Symbol) -> tuple:
    """The rules of ``step``'s tree with the expressions written for variable ``rep``."""
    swap = {x: rep}
    out = [step.rule]
    for sub in step.substeps:
        if not _immediate(sub):  # leaves may differ (d/db b = 1, d/dw w*x = x)
            out.append(_pattern(sub, x, rep))
    before = step.before.xreplace(swap) if isinstance(step.before, sympy.Basic) else None
    return (tuple(out), before is not None and before.has(rep))


def _likewise(parts: list[Step], xs: Sequence) -> list[Step]:
    """Components derived by the same steps as the first (with another variable) say
    "likewise" and show their rule steps only at full detail."""
    if len(parts) < 2:
        return parts
    first = _pattern(parts[0], xs[0], xs[0])
    for step, x in zip(parts[1:], xs[1:], strict=True):
        if _pattern(step, x, xs[0]) == first:
            step.explanation = explain(
                "Likewise with respect to {x}, by the same rules as for {x0}.", x=x, x0=xs[0],
            )  # fmt: skip
            for sub in step.substeps:
                sub.detail = "full"
    return parts


# -- public functions ----------------------------------------------------------------------
def _prepare(exprs, xs, abbreviate: bool = True):
    """Shared set-up of every differentiation derivation: name repeated inner expressions
    (abbreviations), build the rule engine that reuses them, and state their definitions.

    Returns ``(differ, definition steps, the expressions written with the abbreviations)``.
    """
    reserved = _reserved(exprs) | {str(v) for v in xs}
    definitions = _abbreviations(exprs, xs, reserved) if abbreviate else {}
    differ = _Differ(definitions, reserved | {str(s) for s in definitions})
    return differ, _definition_steps(definitions), [_abbreviate(e, definitions) for e in exprs]


@budgeted("steps.diff")
def diff(f: Any, *vars: Any) -> Derivation:
    """Derivative of ``f`` with respect to ``vars``, one rule per step.

    Parameters
    ----------
    f : str or sympy.Expr
        The expression (symml language text or SymPy).
    *vars : str or Symbol, optionally followed by counts
        Variables to differentiate by in order; ``diff(f, "x", 2)`` is the second derivative.

    Returns
    -------
    Derivation
        ``.result`` equals :func:`symml.diff` in value; ``.verify()`` re-checks every step.

    Examples
    --------
    >>> import symml as sm
    >>> d = sm.steps.diff("exp(x^2)", "x")
    >>> d.result
    2*x*exp(x**2)
    >>> [s.rule for s in d.steps[0].substeps]
    ['exp', 'power']
    """
    f = _as_expr(f)
    if isinstance(f, sympy.MatrixBase):
        return _diff_matrix(f, vars)
    if not vars:
        free = sorted(f.free_symbols, key=sympy.default_sort_key)
        if len(free) != 1:
            raise ArgumentError(
                f"steps.diff: say which variable to differentiate by, e.g. diff(f, 'x'); "
                f"the expression has {len(free)} free symbols"
            )
        vars = (free[0],)
    order = _diff_order(vars, f)
    differ, steps, (current,) = _prepare([f], order, _ABBREVIATE[0])
    partial = len(f.free_symbols) > 1 or len(set(order)) > 1
    for i, x in enumerate(order):
        if partial:
            what = (
                "Partial derivative"
                if i == 0
                else f"Derivative number {i + 1}: differentiate again"
            )
            step = _partial(differ, current, x, what)
            steps.append(step)
            current = step.after
        else:
            root = differ.d(current, x)
            steps.append(root)
            current = root.after
            simp = simplify_step(current)
            if simp is not None:
                steps.append(simp)
                current = simp.after
    back, current = _back_substitution(current, differ.definitions, differ)
    if back is not None:
        steps.append(back)
    problem = Derivative(f, *order)
    title = _title("Derivative of {f} with respect to", f, order)
    _tag(steps)
    exact = None
    if f.has(*_NON_FINITE):  # nan and zoo have no numeric test point: compare exactly
        exact = lambda d: d.result == _diff(f, *order)  # noqa: E731
    return Derivation(
        title, "diff", problem, steps, current, reference=lambda: _diff(f, *order),
        definitions=differ.definitions, result_check=exact,
    )  # fmt: skip


_ABBREVIATE = [True]


def _diff_matrix(F: sympy.MatrixBase, vars: Sequence) -> Derivation:
    """A matrix differentiated entry by entry, like :func:`symml.diff`."""
    if not vars:
        raise ArgumentError("steps.diff of a matrix needs the variables: diff(M, 'x')")
    order = _diff_order(vars, list(F))
    _ABBREVIATE[0] = False  # entries' abbreviations could clash by name: none in matrices
    try:
        parts = [diff(e, *order) for e in F]
    finally:
        _ABBREVIATE[0] = True
    steps = []
    for (i, j), d in zip(
        ((i, j) for i in range(F.rows) for j in range(F.cols)), parts, strict=True
    ):
        steps.append(
            Step(
                "partial",
                d.problem,
                d.result,
                f"Entry ({i + 1}, {j + 1}) of the matrix.",
                d.steps,
                check=None,
            )  # fmt: skip
        )
    value = Matrix(F.rows, F.cols, [d.result for d in parts])
    problem = Matrix(F.rows, F.cols, [d.problem for d in parts])
    steps.append(Step("assemble", problem, value, "Collect the entries into the matrix."))
    definitions = {}
    for d in parts:
        definitions.update(d.definitions)
    title = _title("Derivative of {f} with respect to", F, order)
    _tag(steps)
    return Derivation(
        title, "diff", problem, steps, value,
        reference=lambda: F.applyfunc(lambda e: _diff(e, *order)), definitions=definitions,
    )  # fmt: skip


def _vector_of(F) -> list:
    F = _as_expr(F) if not isinstance(F, (list, tuple)) else [_as_expr(e) for e in F]
    if isinstance(F, sympy.MatrixBase):
        if 1 not in F.shape:
            raise ShapeError(f"jacobian needs a vector of expressions, got a {F.shape} matrix")
        return list(F)
    if isinstance(F, list):
        out = []
        for e in F:
            out.extend(list(e) if isinstance(e, sympy.MatrixBase) else [e])
        return out
    return [F]


@budgeted("steps.grad")
def grad(f: Any, vars: Any) -> Derivation:
    """Gradient of the scalar ``f`` with respect to ``vars``: one derivation per component.

    Shared pieces (the derivative of a repeated inner expression) are derived once and
    reused by name.

    Examples
    --------
    >>> import symml as sm
    >>> d = sm.steps.grad("x^2*y + y^3", "x, y")
    >>> d.result.T
    Matrix([[2*x*y, x**2 + 3*y**2]])
    >>> d.verify()
    True
    """
    f = _as_expr(f)
    if isinstance(f, sympy.MatrixBase):
        raise ShapeError("steps.grad takes a scalar expression; use steps.jacobian for a vector")
    xs = _as_symbols(vars, [f])
    differ, steps, (fa,) = _prepare([f], xs)
    comps, parts = [], []
    for x in xs:
        step = _partial(differ, fa, x, "Partial derivative")
        parts.append(step)
        comps.append(step.after)
    steps.extend(_likewise(parts, xs))
    value = Matrix(comps)
    steps.append(
        Step(
            "assemble",
            Matrix([_d(fa, x) for x in xs]),
            value,
            "Collect the partial derivatives into the gradient (a column vector).",
        )  # fmt: skip
    )
    back, value = _back_substitution(value, differ.definitions, differ)
    if back is not None:
        steps.append(back)
    title = _title("Gradient of {f} with respect to", f, xs, vector=True)
    _tag(steps)
    return Derivation(
        title, "grad", Matrix([_d(f, x) for x in xs]), steps, value,
        reference=lambda: Matrix([_diff(f, x) for x in xs]), definitions=differ.definitions,
    )  # fmt: skip


@budgeted("steps.jacobian")
def jacobian(F: Any, vars: Any) -> Derivation:
    """Jacobian matrix of the vector ``F`` with respect to ``vars``, entry by entry.

    Examples
    --------
    >>> import symml as sm
    >>> d = sm.steps.jacobian(["x*y", "x + sin(y)"], "x, y")
    >>> d.result
    Matrix([
    [y,      x],
    [1, cos(y)]])
    >>> d.verify()
    True
    """
    comps = _vector_of(F)
    xs = _as_symbols(vars, comps)
    differ, steps, fas = _prepare(comps, xs)
    rows = []
    for i, fa in enumerate(fas):
        row = []
        for x in xs:
            step = _partial(differ, fa, x, f"Entry ({i + 1}, {xs.index(x) + 1}): component {i + 1}")
            steps.append(step)
            row.append(step.after)
        rows.append(row)
    value = Matrix(rows)
    steps.append(
        Step(
            "assemble",
            Matrix([[_d(fa, x) for x in xs] for fa in fas]),
            value,
            "Collect the partial derivatives into the Jacobian: row i holds the gradient "
            "of component i.",
        )  # fmt: skip
    )
    back, value = _back_substitution(value, differ.definitions, differ)
    if back is not None:
        steps.append(back)
    title = _title("Jacobian of {f} with respect to", Matrix(comps).T, xs, vector=True)
    _tag(steps)
    return Derivation(
        title, "jacobian", Matrix([[_d(e, x) for x in xs] for e in comps]), steps, value,
        reference=lambda: Matrix([[_diff(e, x) for x in xs] for e in comps]),
        definitions=differ.definitions,
    )  # fmt: skip


@budgeted("steps.hessian")
def hessian(f: Any, vars: Any) -> Derivation:
    """Hessian of the scalar ``f``: the gradient first, then the Jacobian of the gradient.

    Only the entries on and above the diagonal are derived; the others follow by symmetry of
    second partial derivatives. First derivatives already derived are reused by name.

    Examples
    --------
    >>> import symml as sm
    >>> d = sm.steps.hessian("x^2*y + y^3", "x, y")
    >>> d.result
    Matrix([
    [2*y,  2*x],
    [2*x, 6*y]])
    >>> d.verify()
    True
    """
    f = _as_expr(f)
    if isinstance(f, sympy.MatrixBase):
        raise ShapeError("steps.hessian takes a scalar expression")
    xs = _as_symbols(vars, [f])
    n = len(xs)
    differ, steps, (fa,) = _prepare([f], xs)
    first, parts = [], []
    for x in xs:
        step = _partial(differ, fa, x, "First partial derivative")
        parts.append(step)
        first.append(step.after)
    steps.extend(_likewise(parts, xs))
    H: list[list[Any]] = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            step = _partial(
                differ, first[i], xs[j],
                "Second partial derivative: differentiate the partial derivative by {v}",
                v=xs[i],
                before=Derivative(fa, xs[i], xs[j]),
            )  # fmt: skip
            steps.append(step)
            H[i][j] = step.after
    for i in range(n):
        for j in range(i):
            H[i][j] = H[j][i]
    value = Matrix(H)
    sym = (
        " (the entries below the diagonal equal those above it: mixed partials commute)"
        if n > 1
        else ""
    )
    steps.append(
        Step(
            "assemble",
            Matrix(n, n, lambda i, j: Derivative(fa, xs[min(i, j)], xs[max(i, j)])),
            value,
            f"Collect the second partial derivatives into the Hessian{sym}.",
        )  # fmt: skip
    )
    back, value = _back_substitution(value, differ.definitions, differ)
    if back is not None:
        steps.append(back)
    title = _title("Hessian of {f} with respect to", f, xs, vector=True)
    _tag(steps)
    return Derivation(
        title, "hessian", Matrix(n, n, lambda i, j: Derivative(f, xs[i], xs[j])), steps, value,
        reference=lambda: sympy.hessian(f, xs), definitions=differ.definitions,
    )  # fmt: skip
