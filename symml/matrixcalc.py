"""Matrix calculus in closed form: gradients of scalar functions of matrix and vector symbols.

The rules are reverse-mode rules over SymPy's matrix-expression node types: a scalar
``f`` is linearized as ``df = trace(G' dM)`` for each matrix sub-expression ``M``, and the
cotangent ``G`` is pushed down the tree (``MatMul``: ``L' G R'``; ``Transpose``: ``G'``;
``Inverse``: ``-M^-T G M^-T``; ``Trace``: ``I``; ``Determinant``: ``det(M) M^-T``). Scalar
functions around traces and determinants go through the chain rule. Nothing is expanded
into elements: the sizes stay symbolic.

Every gradient is checked before it is returned: the symbols are replaced by explicit
matrices of small random sizes, ``f`` is differentiated element by element, and the two
are compared at random points (:func:`check_gradient`). A rule that does not apply raises
:class:`~symml.errors.DerivationError`; a wrong answer is never returned silently.

>>> import sympy
>>> n = sympy.Symbol("n", integer=True, positive=True)
>>> A, x = sympy.MatrixSymbol("A", n, n), sympy.MatrixSymbol("x", n, 1)
>>> matrix_grad(x.T*A*x, x)
(A + A.T)*x
"""

from __future__ import annotations

import random
from typing import Any

import sympy
from sympy import (
    Determinant,
    Identity,
    Inverse,
    MatAdd,
    MatMul,
    MatPow,
    MatrixExpr,
    MatrixSymbol,
    Trace,
    Transpose,
    ZeroMatrix,
)
from sympy.matrices.expressions.matexpr import MatrixElement

from ._convert import to_sympy as _to_sympy
from ._diff import d as _deriv
from .errors import ArgumentError, DerivationError

__all__ = [
    "matrix_grad", "check_gradient", "matrices_agree", "matrix_symbol", "SymmetricMatrixSymbol",
]  # fmt: skip


class SymmetricMatrixSymbol(sympy.MatrixSymbol):
    """A square matrix symbol known to be symmetric: its transpose is itself.

    So ``S.T`` is ``S`` and the closed forms simplify accordingly (the gradient of
    ``x'*S*x`` is ``2*S*x``). Make one with ``matrix_symbol(name, n, n, symmetric=True)``.
    """

    def _eval_transpose(self):
        return self


def matrix_symbol(name: str, rows: Any, cols: Any, symmetric: bool = False):
    """A matrix symbol of (possibly symbolic) size ``rows`` x ``cols``.

    ``symmetric=True`` declares ``S' = S`` (square only), which matrix calculus uses: the
    language spells it ``matrix S[n, n] symmetric``.

    >>> import sympy
    >>> n = sympy.Symbol("n", integer=True, positive=True)
    >>> S, x = matrix_symbol("S", n, n, symmetric=True), matrix_symbol("x", n, 1)
    >>> S.T == S, matrix_grad(x.T*S*x, x)
    (True, 2*S*x)
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ArgumentError(f"a matrix symbol needs a name such as 'A', got {name!r}")
    rows, cols = _size(rows, name), _size(cols, name)
    if not symmetric:
        return sympy.MatrixSymbol(name, rows, cols)
    if rows != cols:
        raise ArgumentError(
            f"a symmetric matrix is square: {name} is declared {rows} x {cols}; "
            f"write matrix_symbol({name!r}, {rows}, {rows}, symmetric=True)"
        )
    return SymmetricMatrixSymbol(name, rows, cols)


def matrix_grad(f: Any, X: Any, check: bool = True):
    """Gradient of the scalar ``f`` with respect to the matrix or vector symbol ``X``.

    Parameters
    ----------
    f : SymPy expression or str
        A scalar in matrix symbols: ``Trace``, ``Determinant``, 1x1 products such as
        ``x.T*A*x``, and scalar functions (log, exp, powers, ...) of those.
    X : MatrixSymbol or str
        The variable (its name when ``f`` is text).
    check : bool
        Check the closed form against the element-wise derivative on random sizes (default).

    Returns
    -------
    MatrixExpr
        The gradient, of X's shape, in the same symbols.

    >>> import sympy
    >>> n = sympy.Symbol("n", integer=True, positive=True)
    >>> X = sympy.MatrixSymbol("X", n, n)
    >>> matrix_grad(sympy.log(sympy.Determinant(X)), X)
    X.T**(-1)
    """
    f = _as_matrix_expr(f)
    X = _as_variable(X, f)
    if isinstance(X, SymmetricMatrixSymbol):
        raise ArgumentError(
            f"matrix_grad: {X} is declared symmetric, and the gradient with respect to a "
            "symmetric matrix depends on a convention (its entries are not independent); "
            f"declare {X} without 'symmetric' to get the unconstrained gradient"
        )
    if isinstance(f, MatrixExpr) and f.shape != (1, 1):
        raise ArgumentError(
            f"matrix_grad needs a scalar function, got a {f.shape[0]}x{f.shape[1]} matrix "
            "expression; take its trace or a quadratic form"
        )
    G = _simplify(_scalar_grad(f, X))
    if G == 0 or isinstance(G, ZeroMatrix):
        G = ZeroMatrix(*X.shape)
    if check and not check_gradient(f, X, G, min_size=2):  # size 1 hides transposes
        raise DerivationError(
            f"the closed-form gradient {G} of {f} disagrees with the element-wise derivative; "
            "this is a bug in symml's matrix-calculus rules, please report it"
        )
    return G


def _size(d, name):
    """A size: a positive whole number, or a name (a positive-integer symbol, as in the
    language's ``matrix A[n, n]``)."""
    if isinstance(d, str) and d.isidentifier():
        return sympy.Symbol(d, integer=True, positive=True)
    if isinstance(d, str):
        raise ArgumentError(f"a size of {name} is a name such as 'n' or a whole number, got {d!r}")
    d = _to_sympy(d)
    if (d.is_Integer and d > 0) or (d.is_Symbol and d.is_integer and d.is_positive):
        return d
    raise ArgumentError(
        f"a size of {name} must be a positive whole number or a positive-integer symbol "
        f"(sympy.Symbol('n', integer=True, positive=True)), got {d}"
    )


def _as_matrix_expr(f):
    if isinstance(f, str):
        f = _from_text(f)
    if not isinstance(f, sympy.Basic):
        raise ArgumentError(f"matrix_grad needs a SymPy expression or text, got {f!r}")
    return f


def _from_text(text: str):
    """The function of a language text: its one expression statement, else its last
    definition (``matrix A[n, n]; vector x[n]; x'*A*x``)."""
    from .lang import parse

    prog = parse(text)
    if len(prog.outputs) == 1:
        return prog.outputs[0].value
    if not prog.outputs and prog.bindings:
        return list(prog.bindings.values())[-1]
    raise ArgumentError(
        f"matrix_grad: the text must contain one expression (it has {len(prog.outputs)}), "
        "e.g. \"matrix A[n, n]; vector x[n]; x'*A*x\""
    )


def _as_variable(X, f) -> MatrixSymbol:
    if isinstance(X, MatrixSymbol):
        return X
    if isinstance(X, str):
        for s in f.atoms(MatrixSymbol):
            if s.name == X.strip():
                return s
        raise ArgumentError(f"matrix_grad: {X!r} is not a matrix symbol of the expression")
    raise ArgumentError(f"matrix_grad: the variable must be a MatrixSymbol, got {X!r}")


# -- the rules, one level each (symml.steps.matrix_grad shows them as steps) ---------------------
# A rule returns (name, parts): each part is ("m", M, G), push the cotangent G down the matrix
# expression M, or ("s", f, c), add c times the gradient of the scalar f. The gradient is the
# sum over the parts. Cotangents are linear in G, so scalar coefficients are folded into them.
def scalar_rule(f, X):
    """The rule for a scalar ``f``: ``(name, parts)``; raises DerivationError if none applies."""
    if isinstance(f, MatrixExpr):  # a 1x1 matrix expression is its own trace
        return "form", [("m", f, Identity(1))]
    if isinstance(f, Trace):
        M = f.arg
        return "trace", [("m", M, Identity(M.shape[0]))]
    if isinstance(f, Determinant):
        M = f.arg
        return "det", [("m", M, f * Transpose(Inverse(M)))]
    if isinstance(f, MatrixElement):
        raise DerivationError(
            f"matrix_grad: no rule for the element {f}; write it as a quadratic form e'Xe"
        )
    atoms = _matrix_atoms(f, X)
    if not atoms:
        raise DerivationError(f"matrix_grad: no rule applies to {f}")
    dummies = {a: sympy.Dummy(f"t{i}") for i, a in enumerate(atoms)}
    g = f.xreplace(dummies)
    back = {d: a for a, d in dummies.items()}
    parts = []
    for a, d in dummies.items():
        coeff = _deriv(g, d).xreplace(back)
        if coeff != 0:
            parts.append(("s", a, coeff))
    return "chain", parts


def matrix_rule(M, G, X):
    """The rule pushing the cotangent ``G`` down ``M`` (not X itself, and X occurs in M)."""
    if isinstance(M, MatAdd):
        return "sum", [("m", t, G) for t in M.args]
    if isinstance(M, MatMul):
        return "product", _matmul_parts(M, G, X)
    if isinstance(M, Transpose):
        return "transpose", [("m", M.arg, Transpose(G))]
    if isinstance(M, Inverse):
        A = M.arg
        Ai_T = Transpose(Inverse(A))
        return "inverse", [("m", A, -MatMul(Ai_T, G, Ai_T))]
    if isinstance(M, MatPow):
        base, p = M.args
        if p.is_Integer and p > 0:
            return "power", [("m", MatMul(*([base] * int(p)), evaluate=False), G)]
        if p.is_Integer and p < 0:
            return "power", [("m", Inverse(MatPow(base, -p) if p != -1 else base), G)]
        if base.shape == (1, 1):  # a scalar power of a 1x1 expression
            return "power", [("m", base, p * MatPow(base, p - 1) * G)]
        raise DerivationError(f"matrix_grad: no rule for the matrix power {M}")
    raise DerivationError(
        f"matrix_grad: no rule for the matrix expression {M} ({type(M).__name__})"
    )


def _matmul_parts(M, G, X):
    coeff, factors = M.as_coeff_matrices()
    parts = []
    if X in _to_sympy(coeff).free_symbols:
        rest = MatMul(*factors)
        parts.append(("s", Trace(MatMul(Transpose(G), rest)), sympy.Integer(1)))
    for i, F in enumerate(factors):
        if X not in F.free_symbols:
            continue
        left, right = factors[:i], factors[i + 1 :]
        cot = [Transpose(MatMul(*left))] if left else []
        cot.append(G)
        if right:
            cot.append(Transpose(MatMul(*right)))
        cot = MatMul(*cot) if len(cot) > 1 else cot[0]
        parts.append(("m", F, coeff * cot if coeff != 1 else cot))
    return parts


def _combine(parts, X, grad_m, grad_s):
    terms = [grad_m(e, c) if k == "m" else c * grad_s(e) for k, e, c in parts]
    return MatAdd(*terms) if terms else ZeroMatrix(*X.shape)


def _scalar_grad(f, X):
    if not isinstance(f, MatrixExpr) and X not in f.free_symbols:
        return ZeroMatrix(*X.shape)
    _, parts = scalar_rule(f, X)
    return _combine(parts, X, lambda M, G: _push(M, G, X), lambda g: _scalar_grad(g, X))


def _matrix_atoms(f, X) -> list:
    """The outermost Trace / Determinant / MatrixElement nodes of ``f`` that involve X."""
    found: list = []

    def walk(e):
        if isinstance(e, (Trace, Determinant, MatrixElement)):
            if X in e.free_symbols and e not in found:
                found.append(e)
            return
        for a in e.args:
            if isinstance(a, sympy.Basic):
                walk(a)

    walk(f)
    return found


def _push(M, G, X):
    """d trace(G' M) / dX for a matrix expression M."""
    if M == X:
        return G
    if X not in M.free_symbols:
        return ZeroMatrix(*X.shape)
    _, parts = matrix_rule(M, G, X)
    return _combine(parts, X, lambda N, H: _push(N, H, X), lambda g: _scalar_grad(g, X))


# -- simplification --------------------------------------------------------------------------------
def simplify_gradient(G):
    """The tidy form of a gradient: evaluated, 1x1 identities dropped, a common right factor
    collected (``A*x + A'*x`` -> ``(A + A')*x``)."""
    return _simplify(G)


def _simplify(G):
    G = G.doit()
    G = _drop_identity1(G)
    G = G.doit()
    try:
        collected = _collect_right(G)
    except Exception:  # collection is cosmetic: keep the plain form if it fails
        collected = G
    return collected


def _drop_identity1(G):
    return G.replace(lambda e: isinstance(e, Identity) and e.shape == (1, 1), lambda e: 1)


def _collect_right(G):
    """Factor a common right factor out of a MatAdd: A*x + A.T*x -> (A + A.T)*x."""
    if not isinstance(G, MatAdd):
        return G
    terms = [t.as_coeff_matrices() for t in G.args]
    if any(not ms for _, ms in terms):
        return G
    last = terms[0][1][-1]
    if any(ms[-1] != last or len(ms) < 2 for _, ms in terms):
        return G
    heads = [c * MatMul(*ms[:-1]) if len(ms) > 2 else c * ms[0] for c, ms in terms]
    return MatMul(MatAdd(*heads), last)


# -- the element-wise check -----------------------------------------------------------------------
def check_gradient(
    f, X, G, trials: int = 2, seed: int = 0, max_size: int = 3, min_size: int = 1
) -> bool:
    """True when the closed-form gradient ``G`` of ``f`` agrees with the element-wise one.

    Each trial gives every size symbol a random value in 1..``max_size`` and every matrix
    symbol a random explicit value (square ones diagonally dominant, so determinants and
    inverses exist), then differentiates ``f`` with respect to each element X[i, j] in turn
    (moving only that entry) and compares with the entry of ``G`` there.

    >>> import sympy
    >>> n = sympy.Symbol("n", integer=True, positive=True)
    >>> A, x = sympy.MatrixSymbol("A", n, n), sympy.MatrixSymbol("x", n, 1)
    >>> check_gradient(x.T*A*x, x, (A + A.T)*x), check_gradient(x.T*A*x, x, 2*A*x)
    (True, False)
    """
    rng = random.Random(seed)
    mats = sorted(
        (f.atoms(MatrixSymbol) | G.atoms(MatrixSymbol) | {X}), key=lambda s: s.name
    )
    dims = sorted(
        {d for s in mats for d in s.shape if isinstance(d, sympy.Symbol)}, key=str
    )
    for _ in range(trials):
        sizes = {d: rng.randint(min_size, max_size) for d in dims}
        if not _one_trial(f, X, G, mats, sizes, rng):
            return False
    return True


def _random_values(mats, sizes, rng) -> dict:
    """Random explicit values of the matrix symbols (square ones diagonally dominant,
    symmetric ones symmetric)."""
    values = {}
    for s in mats:
        r, c = (int(_to_sympy(d).subs(sizes)) for d in s.shape)
        dominant = r + 1 if r == c else 0
        m = sympy.Matrix(
            [[sympy.Rational(rng.randint(-9, 9), 10) + (dominant if i == j else 0)
              for j in range(c)] for i in range(r)]
        )  # fmt: skip
        if isinstance(s, SymmetricMatrixSymbol):
            m = m.upper_triangular() + m.upper_triangular(1).T
        values[s] = m
    return values


def matrices_agree(
    A, B, trials: int = 2, seed: int = 0, max_size: int = 3, min_size: int = 1
) -> bool:
    """True when the matrix (or scalar) expressions ``A`` and ``B`` have equal values at
    random sizes and random explicit matrices.

    >>> import sympy
    >>> n = sympy.Symbol("n", integer=True, positive=True)
    >>> A, B = sympy.MatrixSymbol("A", n, n), sympy.MatrixSymbol("B", n, n)
    >>> matrices_agree((A*B).T, B.T*A.T), matrices_agree(A*B, B*A)
    (True, False)
    """
    A, B = _to_sympy(A), _to_sympy(B)
    rng = random.Random(seed)
    mats = sorted(A.atoms(MatrixSymbol) | B.atoms(MatrixSymbol), key=lambda s: s.name)
    shapes = [s.shape for s in mats] + [e.shape for e in (A, B) if isinstance(e, MatrixExpr)]
    dims = sorted({d for sh in shapes for d in sh if isinstance(d, sympy.Symbol)}, key=str)
    for _ in range(trials):
        sizes = {d: rng.randint(min_size, max_size) for d in dims}
        values = _random_values(mats, sizes, rng)
        a, b = (_explicit(e, values, sizes) for e in (A, B))
        a = a if isinstance(a, sympy.MatrixBase) else sympy.Matrix([[a]])
        b = b if isinstance(b, sympy.MatrixBase) else sympy.Matrix([[b]])
        if a.shape != b.shape:
            return False
        for p, q in zip(a, b, strict=True):
            diff = complex(_to_sympy(p - q).evalf(30))
            if abs(diff) > 1e-15 * max(1.0, abs(complex(_to_sympy(p).evalf(30)))):
                return False
    return True


def _one_trial(f, X, G, mats, sizes, rng) -> bool:
    values = _random_values(mats, sizes, rng)
    Gx = _explicit(G, values, sizes)
    if not isinstance(Gx, sympy.MatrixBase):
        Gx = sympy.Matrix([[Gx]])
    X0 = values[X]
    if Gx.shape != X0.shape:
        return False
    t = sympy.Dummy("t")
    for i in range(X0.shape[0]):
        for j in range(X0.shape[1]):
            # the element-wise derivative df/dX[i, j]: move only that entry, X0 + t E_ij
            moved = X0.copy()
            moved[i, j] = moved[i, j] + t
            fx = _explicit(f, {**values, X: moved}, sizes)
            if isinstance(fx, sympy.MatrixBase):
                fx = fx[0, 0]
            want = _deriv(fx, t).subs(t, 0).evalf(30)
            got = sympy.sympify(Gx[i, j]).evalf(30)
            diff = complex(want - got)
            if abs(diff) > 1e-15 * max(1.0, abs(complex(want))):
                return False
    return True


def _as_explicit(m):
    m = m.doit()
    return sympy.Matrix(m.as_explicit() if isinstance(m, MatrixExpr) else m)


def _explicit(e, explicit, sizes):
    e = e.subs(sizes) if sizes else e
    repl = {}
    for s, m in explicit.items():
        repl[s.subs(sizes) if sizes else s] = sympy.ImmutableMatrix(m)
    out = e.xreplace(repl)
    # explicit inverses and determinants by LU / Berkowitz: exact and fast on small matrices
    out = out.replace(
        lambda a: isinstance(a, Inverse),
        lambda a: sympy.ImmutableMatrix(_as_explicit(a.arg).inv(method="LU")),
    )
    out = out.replace(
        lambda a: isinstance(a, Determinant),
        lambda a: _as_explicit(a.arg).det(method="berkowitz"),
    )
    out = out.doit()
    if isinstance(out, MatrixExpr):
        out = out.as_explicit()
    return out
