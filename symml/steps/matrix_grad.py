"""Matrix calculus step by step: the gradient of a scalar in matrix and vector symbols.

The derivation follows the rules of :mod:`symml.matrixcalc` (the same rule functions, so
the derivation's answer is :func:`symml.matrix_grad`'s): the scalar ``f`` is linearized as
``df = tr(G' dM)`` and each step pushes the cotangent ``G`` one level down the expression
tree — the trace rule, Jacobi's formula for determinants, the chain rule through scalar
functions, then sums, products (``tr(G' L F R)`` gives ``F`` the cotangent ``L' G R'``),
transposes, inverses and powers — until it reaches ``X`` itself, where the gradient of
``tr(G' X)`` is ``G``. The sizes stay symbolic throughout.

Every step checks itself numerically: the sizes are given small random values, the symbols
random explicit matrices, and the step's gradient is compared entry by entry with the
derivative of its scalar with respect to each entry of X
(:func:`symml.matrixcalc.check_gradient`).

>>> import symml as sm
>>> d = sm.steps.matrix_grad("matrix A[n, n]; vector x[n]; x'*A*x", "x")
>>> d.result
(A + A.T)*x
>>> d.verify()
True
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Derivative, Identity, MatMul, MatrixExpr, Trace, Transpose, ZeroMatrix

from .._limits import time_limit
from ..errors import ArgumentError
from ..matrixcalc import (
    _as_matrix_expr,
    _as_variable,
    _push,
    _scalar_grad,
    check_gradient,
    matrices_agree,
    matrix_rule,
    scalar_rule,
    simplify_gradient,
)
from .model import Derivation, Step, explain

__all__ = ["matrix_grad"]

#: Most steps a derivation shows (each is checked element by element).
MAX_STEPS = 60


def matrix_grad(f: Any, X: Any, detail: str = "textbook") -> Derivation:
    """The gradient of the scalar ``f`` with respect to the matrix or vector symbol ``X``,
    one typed rule per step.

    Parameters
    ----------
    f : str or SymPy expression
        Language text declaring its symbols (``"matrix X[n, n]; log(det(X))"``) or a SymPy
        scalar in ``MatrixSymbol`` s.
    X : str or MatrixSymbol
        The variable.
    detail : str
        ``"brief"`` (the scalar rules and the result), ``"textbook"`` (default: every rule)
        or ``"full"`` (also the leaves: X itself and the constant parts).

    >>> d = matrix_grad("matrix X[n, n]; log(det(X))", "X")
    >>> d.result, d.rules()
    (X.T**(-1), ['chain', 'det', 'variable'])
    """
    f = _as_matrix_expr(f)
    X = _as_variable(X, f)
    if isinstance(f, MatrixExpr) and f.shape != (1, 1):
        raise ArgumentError(
            f"steps.matrix_grad needs a scalar function, got a {f.shape[0]}x{f.shape[1]} "
            "matrix expression; take its trace or a quadratic form"
        )
    builder = _Builder(X)
    with time_limit(None, "the matrix-gradient derivation"):
        top = builder.scalar(f)
        G = simplify_gradient(_scalar_grad(f, X))  # exactly symml.matrix_grad's form
        if G == 0:
            G = ZeroMatrix(*X.shape)
    steps = [top]
    if G != top.after:
        steps.append(Step(
            "simplify", top.after, G,
            "Collect the terms (a common right factor is taken out).",
            check=_gradient_check(f, X), detail="brief",
        ))  # fmt: skip
    return Derivation(
        explain("Gradient of {f} with respect to {X}", f=f, X=X), "matrix_grad",
        Derivative(f, X), steps, G,
        result_check=lambda d: check_gradient(f, X, d.result, trials=2, seed=1, min_size=2),
        detail=detail, note=_cookbook(f, X),
    )  # fmt: skip


def _gradient_check(phi, X):
    """A step's check: its gradient agrees with the element-wise derivative of ``phi``."""

    def check(step: Step) -> bool:
        return check_gradient(phi, X, step.after, trials=2, seed=7, min_size=2)

    return check


def _pushed_check(M, G, X):
    """A matrix step's check. Its claim is the gradient of tr(G' M) *with the cotangent G
    held fixed* (G may contain X: it carries the outer factors). So G's X is frozen as a
    separate symbol X0: the gradient with G(X0) must agree with the element-wise derivative
    of tr(G(X0)' M), and, with X0 back to X, with the step's result."""
    X0 = sympy.MatrixSymbol(f"{X.name}_0", *X.shape)
    G0 = G.xreplace({X: X0})
    phi0 = _linear(G0, M)

    def check(step: Step) -> bool:
        pushed = _push(M, G0, X)
        return check_gradient(phi0, X, pushed, trials=2, seed=7, min_size=2) and matrices_agree(
            pushed.xreplace({X0: X}), step.after, trials=2, seed=7, min_size=2
        )

    return check


def _tidy(G):
    return simplify_gradient(G) if isinstance(G, MatrixExpr) else G


def _tidy_cot(G):
    """A cotangent in its tidy form (1x1 identities dropped), still a matrix expression."""
    if isinstance(G, Identity):
        return G
    try:
        out = simplify_gradient(G)
    except (AttributeError, TypeError):
        return G
    return out if isinstance(out, MatrixExpr) and out.shape == G.shape else G


def _linear(G, M):
    """The scalar ``tr(G' M)`` whose gradient a matrix step computes."""
    if isinstance(G, Identity):
        return Trace(M) if M.shape != (1, 1) else M
    return Trace(MatMul(Transpose(G), M).doit())


class _Builder:
    def __init__(self, X):
        self.X = X
        self.count = 0

    def _step(self, *args, **kwargs) -> Step:
        self.count += 1
        if self.count > MAX_STEPS:
            raise ArgumentError(
                f"steps.matrix_grad shows at most {MAX_STEPS} steps; this expression needs "
                "more. Use symml.matrix_grad for the result alone"
            )
        return Step(*args, **kwargs)

    def _combine(self, parts, subs):
        terms = []
        for (kind, _, c), sub in zip(parts, subs, strict=True):
            terms.append(sub.after if kind == "m" else c * sub.after)
        if not terms:
            return ZeroMatrix(*self.X.shape)
        return _tidy(sympy.MatAdd(*terms).doit())

    def _parts(self, parts):
        return [self.matrix(e, _tidy_cot(c)) if k == "m" else self.scalar(e) for k, e, c in parts]

    # -- scalar level ------------------------------------------------------------------------
    def scalar(self, f) -> Step:
        X = self.X
        before = Derivative(f, X)
        if not isinstance(f, MatrixExpr) and X not in f.free_symbols:
            return self._step(
                "constant", before, ZeroMatrix(*X.shape),
                explain("{f} does not depend on {X}: its gradient is 0.", f=f, X=X),
                check=_gradient_check(f, X), detail="full",
            )  # fmt: skip
        rule, parts = scalar_rule(f, X)
        subs = self._parts(parts)
        G = self._combine(parts, subs)
        why = _scalar_explanation(rule, f, parts, X)
        return self._step(rule, before, G, why, substeps=subs, check=_gradient_check(f, X),
                          detail="brief")  # fmt: skip

    # -- matrix level --------------------------------------------------------------------------
    def matrix(self, M, G) -> Step:
        X = self.X
        shown = G if isinstance(G, Identity) else sympy.MatrixSymbol("G", *M.shape)
        before = Derivative(_linear(shown, M), X)  # G named: it is held fixed
        note = None if shown is G else explain("Here G = {G}, held fixed.", G=G)
        if M == X:
            return self._step(
                "variable", before, _tidy(G),
                explain("The gradient of tr(G' X) with respect to X is G: here {G}.", G=G),
                check=_pushed_check(M, G, X), note=note, detail="full",
            )  # fmt: skip
        if X not in M.free_symbols:
            return self._step(
                "constant", before, ZeroMatrix(*X.shape),
                explain("{M} does not depend on {X}: its part of the gradient is 0.", M=M, X=X),
                check=_pushed_check(M, G, X), note=note, detail="full",
            )  # fmt: skip
        rule, parts = matrix_rule(M, G, X)
        parts = [(k, e, _tidy_cot(c) if k == "m" else c) for k, e, c in parts]
        subs = self._parts(parts)
        out = self._combine(parts, subs)
        why = _matrix_explanation(rule, M, parts, X)
        return self._step(rule, before, out, why, substeps=subs, check=_pushed_check(M, G, X),
                          note=note)  # fmt: skip


# the rules as formulas (typeset by every renderer), in generic square matrices
_n = sympy.Symbol("n", integer=True, positive=True)
_G, _L, _F, _R, _A, _B, _M = (sympy.MatrixSymbol(c, _n, _n) for c in "GLFRABM")
_dA, _dM = sympy.MatrixSymbol("dA", _n, _n), sympy.MatrixSymbol("dM", _n, _n)
_d = sympy.Function("d")


def _eq(a, b):
    return sympy.Eq(a, b, evaluate=False)


def _scalar_explanation(rule, f, parts, X):
    if rule == "form":
        return explain("A 1x1 matrix is a scalar, {eq}, so the product receives the 1x1 "
                       "identity as its cotangent (the matrix G of {tr} below).",
                       eq=_eq(f, Trace(f)), tr=Trace(_G.T * _M))  # fmt: skip
    if rule == "trace":
        return explain("Trace rule: {rule}, so {M} receives the identity as its cotangent.",
                       rule=_eq(_d(Trace(_M)), Trace(_dM)), M=parts[0][1])  # fmt: skip
    if rule == "det":
        (_, M, cot), = parts
        return explain("Jacobi's formula: {rule}, so {M} receives the cotangent "
                       "{G}.", rule=_eq(_d(sympy.Determinant(_M)),
                                        sympy.Determinant(_M) * Trace(_M.I * _dM)),
                       M=M, G=_eq(sympy.Determinant(_M) * _M.I.T, cot))  # fmt: skip
    atoms = sympy.Tuple(*[a for _, a, _ in parts])
    coeffs = sympy.Tuple(*[c for _, _, c in parts])
    if len(parts) == 1:  # one inner function: no tuples
        return explain("Chain rule: {f} depends on {X} through {t}; its gradient is the "
                       "derivative {c} times the gradient of {t}.",
                       f=f, X=X, t=atoms[0], c=coeffs[0])  # fmt: skip
    return explain("Chain rule: {f} depends on {X} through {t}; its gradient is the sum of "
                   "the derivatives {c} times the gradients of those.",
                   f=f, X=X, t=atoms, c=coeffs)  # fmt: skip


def _matrix_explanation(rule, M, parts, X):
    if rule == "sum":
        return explain("Sum rule: {rule}, so each term of {M} receives the same cotangent.",
                       rule=_eq(Trace(_G.T * sympy.MatAdd(_A, _B)),
                                Trace(_G.T * _A) + Trace(_G.T * _B)), M=M)  # fmt: skip
    if rule == "product":
        pairs = [(e, c) for k, e, c in parts if k == "m"]
        each = "; ".join(f"{{e{i}}} receives {{c{i}}}" for i in range(len(pairs)))
        names = {f"e{i}": e for i, (e, _) in enumerate(pairs)}
        names.update({f"c{i}": c for i, (_, c) in enumerate(pairs)})
        return explain("Product rule for traces: {rule} (the trace is invariant under cyclic "
                       "shifts), so each factor F of {M} that contains {X} receives the "
                       "cotangent {cot}: " + each + ".",
                       rule=_eq(Trace(_G.T * _L * _F * _R), Trace((_L.T * _G * _R.T).T * _F)),
                       cot=_L.T * _G * _R.T, M=M, X=X, **names)  # fmt: skip
    if rule == "transpose":
        return explain("Transpose rule: {rule}; so the argument of {M} receives {G}.",
                       rule=_eq(Trace(_G.T * _M.T), Trace(_G * _M)), M=M,
                       G=parts[0][2])  # fmt: skip
    if rule == "inverse":
        return explain("Inverse rule: {rule}, so the argument of {M} receives {G}.",
                       rule=_eq(_d(_A.I), -_A.I * _dA * _A.I), M=M,
                       G=_eq(-_A.I.T * _G * _A.I.T, parts[0][2]))  # fmt: skip
    return explain("Power rule: {M} is written as {N}.", M=M, N=parts[0][1])


def _cookbook(f, X):
    """The Matrix Cookbook identity (Petersen & Pedersen, section 2) that the whole problem
    is an instance of, as a note; None when it is none of the common forms."""
    others = sorted((m for m in f.atoms(sympy.MatrixSymbol) if m != X), key=str)
    vector = X.shape[1] == 1
    forms = []
    for B in others:
        if vector:
            forms += [
                (X.T * B * X, "the derivative of a quadratic form", (B + B.T) * X, "2.4.2"),
                (B.T * X, "the derivative of a linear form", B, "2.4.1"),
                (X.T * B, "the derivative of a linear form", B, "2.4.1"),
            ]
        else:
            forms += [
                (Trace(B * X), "the derivative of a trace", B.T, "2.5"),
                (Trace(X * B), "the derivative of a trace", B.T, "2.5"),
                (Trace(X.T * B * X), "the derivative of a quadratic trace",
                 (B + B.T) * X, "2.5"),
            ]  # fmt: skip
    if vector:
        forms.append((X.T * X, "the derivative of a squared norm", 2 * X, "2.4.2"))
    else:
        forms += [
            (sympy.Determinant(X), "the derivative of a determinant",
             sympy.Determinant(X) * X.I.T, "2.1"),
            (sympy.log(sympy.Determinant(X)), "the derivative of a log-determinant", X.I.T,
             "2.1"),
        ]  # fmt: skip
    for form, name, grad, section in forms:
        if f == form:
            return explain(f"This is {name}, a Matrix Cookbook identity (section {section}): "
                           "{rule}.", rule=_eq(Derivative(form, X), grad))  # fmt: skip
    return None
