"""Linear algebra step by step: determinants by cofactor expansion, inverses by Gauss-Jordan
elimination, linear systems by Gaussian elimination and back substitution, eigenvalues from
the characteristic polynomial and eigenvectors from the null spaces, Gram-Schmidt.

Every row operation, minor, projection and normalization is a step; every step has its own
exact check (a row operation is a product with an elementary matrix, a null-space vector is
mapped to zero, ...), and each result is checked against SymPy's own answer.

>>> import symml as sm
>>> d = sm.steps.det("[[1, 2], [3, 4]]")
>>> d.result, d.verify()
(-2, True)
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Determinant, ImmutableMatrix, Integer

from .._limits import time_limit
from ..errors import ArgumentError, DerivationError, ShapeError
from ..linalg import _operand
from .model import Derivation, Step, explain

__all__ = ["det", "inv", "solve", "eig", "gram_schmidt"]

#: Largest matrix shown by cofactor expansion (n! terms) and by elimination.
MAX_COFACTOR = 5
MAX_ELIMINATION = 8


def _exact(A: Any, what: str) -> ImmutableMatrix:
    kind, m = _operand(A, what)
    if kind == "numeric":
        m = ImmutableMatrix(sympy.nsimplify(sympy.Matrix(m.tolist()), rational=True))
    return ImmutableMatrix(m)


def _square(A: Any, what: str, limit: int) -> ImmutableMatrix:
    m = _exact(A, what)
    if m.shape[0] != m.shape[1]:
        raise ShapeError(
            f"{what} needs a square matrix, got a {m.shape[0]}x{m.shape[1]} matrix"
        )
    if m.shape[0] > limit:
        raise ArgumentError(
            f"steps.{what} shows matrices up to {limit}x{limit}; use symml.linalg.{what} for "
            f"a {m.shape[0]}x{m.shape[0]} matrix"
        )
    return m


def _s(e):
    return sympy.cancel(sympy.together(e)) if isinstance(e, sympy.Basic) else e


def _zero(e) -> bool:
    return sympy.simplify(e) == 0


def _same(a, b) -> bool:
    """Exact equality of two SymPy values (matrices entry by entry), after simplification."""
    a = a.doit() if isinstance(a, sympy.Basic) else a
    b = b.doit() if isinstance(b, sympy.Basic) else b
    if isinstance(a, sympy.MatrixBase) or isinstance(b, sympy.MatrixBase):
        a, b = sympy.Matrix(a), sympy.Matrix(b)
        return a.shape == b.shape and all(_zero(x - y) for x, y in zip(a, b, strict=True))
    return _zero(a - b)


def _equal(step: Step) -> bool:
    sides = [step.before] + ([step.form] if step.form is not None else []) + [step.after]
    return all(_same(a, b) for a, b in zip(sides, sides[1:], strict=False))


# -- determinant ---------------------------------------------------------------------------------
def det(A: Any) -> Derivation:
    """The determinant by cofactor (Laplace) expansion along the row or column with most zeros.

    >>> d = det("[[2, 0, 1], [1, 3, 2], [1, 1, 2]]")
    >>> d.result, d.verify()
    (6, True)
    """
    m = _square(A, "det", MAX_COFACTOR)
    with time_limit(None, "the determinant derivation"):
        step, value = _cofactor_step(m, detail="brief")
    return Derivation(
        f"Determinant of a {m.shape[0]}x{m.shape[0]} matrix by cofactor expansion", "det",
        Determinant(m), [step], value, reference=lambda: m.det(method="berkowitz"),
    )  # fmt: skip


def _cofactor_step(m: ImmutableMatrix, detail: str = "textbook") -> tuple[Step, Any]:
    n = m.shape[0]
    if n == 1:
        return Step("definition", Determinant(m), m[0, 0],
                    "The determinant of a 1x1 matrix is its entry.", check=_equal,
                    detail="full"), m[0, 0]  # fmt: skip
    if n == 2:
        a, b, c, d = m
        value = _s(a * d - b * c)
        form = sympy.Add(sympy.Mul(a, d, evaluate=False), -sympy.Mul(b, c, evaluate=False),
                         evaluate=False)  # fmt: skip
        return Step("det2", Determinant(m), value,
                    explain("For a 2x2 matrix, det [[a, b], [c, d]] = a*d - b*c: {f}.", f=form),
                    check=_equal, detail=detail), value  # fmt: skip
    zeros_row = [sum(1 for j in range(n) if _zero(m[i, j])) for i in range(n)]
    zeros_col = [sum(1 for i in range(n) if _zero(m[i, j])) for j in range(n)]
    by_col = max(zeros_col) > max(zeros_row)
    k = zeros_col.index(max(zeros_col)) if by_col else zeros_row.index(max(zeros_row))
    terms, subs, value = [], [], Integer(0)
    for t in range(n):
        i, j = (t, k) if by_col else (k, t)
        if _zero(m[i, j]):
            continue
        minor = ImmutableMatrix(m.minor_submatrix(i, j))
        sign = Integer((-1) ** (i + j))
        terms.append(sympy.Mul(sign * m[i, j], Determinant(minor), evaluate=False))
        sub, val = _cofactor_step(minor)
        sub.explanation = explain(
            "The minor M[{i}, {j}] deletes row {i} and column {j}: {value}.",
            i=Integer(i + 1), j=Integer(j + 1), value=sympy.Eq(Determinant(minor), val),
        )
        subs.append(sub)
        value += sign * m[i, j] * val
    value = _s(sympy.expand(value))
    form = sympy.Add(*terms, evaluate=False) if terms else Integer(0)
    line = "column" if by_col else "row"
    i_, j_ = sympy.symbols("i j")
    cofactor = (-1) ** (i_ + j_) * sympy.Symbol("a_ij") * sympy.Symbol("M_ij")
    why = explain(
        "Expand along {line} {k}, the one with the most zeros: add up each entry times its "
        "cofactor {c}, where M_ij is the determinant of the minor without row i and "
        "column j (zero entries drop out): {form}.",
        line=sympy.Symbol(line), k=Integer(k + 1), c=cofactor, form=form,
    )
    return Step("cofactor_expansion", Determinant(m), value, why, substeps=subs, form=form,
                check=_equal, detail=detail), value  # fmt: skip


# -- row reduction ---------------------------------------------------------------------------------
def _row_op_step(before: ImmutableMatrix, E: ImmutableMatrix, why, detail="textbook") -> Step:
    after = ImmutableMatrix((E * before).applyfunc(_s))

    def check(step, E=E):
        return _same(step.after, E * step.before)

    return Step("row_operation", before, after, why, check=check, detail=detail)


def _eliminate(M: ImmutableMatrix, cols: int, jordan: bool, what: str):
    """Row-reduce M on its first ``cols`` columns; returns (steps, reduced matrix)."""
    steps: list[Step] = []
    rows = M.shape[0]
    R = sympy.Symbol
    for c in range(min(cols, rows)):
        pivot = next((r for r in range(c, rows) if not _zero(M[r, c])), None)
        if pivot is None:
            raise ArgumentError(
                f"steps.{what}: column {c + 1} has no nonzero pivot, so the matrix is singular "
                "(its determinant is 0); use symml.linalg.pinv for the Moore-Penrose "
                "pseudoinverse" + (" and pinv(A) @ b for a least-squares solution"
                                   if what == "solve" else "")
            )  # fmt: skip
        if pivot != c:
            E = ImmutableMatrix(sympy.eye(rows).elementary_row_op("n<->m", row1=c, row2=pivot))
            why = explain("Swap rows {a} and {b} to bring a nonzero pivot into place: {op}.",
                          a=Integer(c + 1), b=Integer(pivot + 1),
                          op=sympy.Eq(R(f"R_{c + 1}"), R(f"R_{pivot + 1}")))  # fmt: skip
            steps.append(_row_op_step(M, E, why))
            M = steps[-1].after
        p = M[c, c]
        if jordan and not _zero(p - 1):
            E = ImmutableMatrix(sympy.eye(rows).elementary_row_op("n->kn", row=c, k=1 / p))
            why = explain("Divide row {r} by the pivot {p}: {op}.", r=Integer(c + 1), p=p,
                          op=sympy.Eq(R(f"R_{c + 1}"), R(f"R_{c + 1}") / p))  # fmt: skip
            steps.append(_row_op_step(M, E, why))
            M = steps[-1].after
            p = Integer(1)
        targets = range(rows) if jordan else range(c + 1, rows)
        for r in targets:
            if r == c or _zero(M[r, c]):
                continue
            k = _s(M[r, c] / p)
            E = ImmutableMatrix(sympy.eye(rows).elementary_row_op("n->n+km", row=r, k=-k,
                                                                  row2=c))  # fmt: skip
            where = "below" if r > c else "above"
            why = explain("Clear the entry {where} the pivot in column {c}: {op}.",
                          where=sympy.Symbol(where), c=Integer(c + 1),
                          op=sympy.Eq(R(f"R_{r + 1}"), R(f"R_{r + 1}") - k * R(f"R_{c + 1}")))
            steps.append(_row_op_step(M, E, why))
            M = steps[-1].after
    return steps, M


def inv(A: Any) -> Derivation:
    """The inverse by Gauss-Jordan elimination on the augmented matrix [A | I].

    >>> d = inv("[[2, 1], [1, 1]]")
    >>> d.result
    Matrix([
    [ 1, -1],
    [-1,  2]])
    >>> d.verify()
    True
    """
    m = _square(A, "inv", MAX_ELIMINATION)
    n = m.shape[0]
    aug = ImmutableMatrix(m.row_join(sympy.eye(n)))
    start = Step("augment", m, aug,
                 explain("Write the augmented matrix [A | I], the identity {I} beside A; row "
                         "operations that turn A into I turn I into the inverse.",
                         I=ImmutableMatrix(sympy.eye(n))), check=False, detail="brief")  # fmt: skip
    with time_limit(None, "the Gauss-Jordan derivation"):
        ops, reduced = _eliminate(aug, n, jordan=True, what="inv")
    result = ImmutableMatrix(reduced[:, n:].applyfunc(sympy.simplify))
    read = Step("read_off", reduced, result,
                "The left block is now I, so the right block is the inverse.",
                check=lambda s: _same(m * s.after, sympy.eye(n)), detail="brief")  # fmt: skip
    return Derivation(
        f"Inverse of a {n}x{n} matrix by Gauss-Jordan elimination", "inv", sympy.Inverse(m),
        [start, *ops, read], result, reference=lambda: m.inv(method="LU"),
    )  # fmt: skip


def solve(A: Any, b: Any) -> Derivation:
    """Solve A x = b by Gaussian elimination to upper-triangular form, then back substitution.

    >>> d = solve("[[2, 1], [1, 3]]", "[3, 5]")
    >>> d.result.T
    Matrix([[4/5, 7/5]])
    >>> d.verify()
    True
    """
    m = _square(A, "solve", MAX_ELIMINATION)
    rhs = _exact(b, "solve")
    if rhs.shape[1] != 1 and rhs.shape[0] == 1:
        rhs = rhs.T
    n = m.shape[0]
    if rhs.shape != (n, 1):
        raise ShapeError(f"steps.solve: A is {n}x{n} but b has shape {rhs.shape}; b needs {n} rows")
    xs = [sympy.Symbol(f"x_{i + 1}") for i in range(n)]
    system = [sympy.Eq(sum((m[i, j] * xs[j] for j in range(n)), Integer(0)), rhs[i])
              for i in range(n)]  # fmt: skip
    aug = ImmutableMatrix(m.row_join(rhs))
    start = Step("augment", sympy.Tuple(*system), aug,
                 "Write the system as the augmented matrix [A | b].", check=False,
                 detail="brief")  # fmt: skip
    with time_limit(None, "the elimination derivation"):
        ops, U = _eliminate(aug, n, jordan=False, what="solve")
        back, values = [], {}
        for i in reversed(range(n)):
            rest = sum((U[i, j] * xs[j] for j in range(i + 1, n)), Integer(0))
            formula = (U[i, n] - rest) / U[i, i]
            value = sympy.simplify(formula.xreplace(values))
            values[xs[i]] = value
            back.append(Step(
                "back_substitution", xs[i], value,
                explain("Row {r} reads {eq}; solve it for {x} with the values found so far.",
                        r=Integer(i + 1), eq=sympy.Eq(U[i, i] * xs[i] + rest, U[i, n]),
                        x=xs[i]),
                form=None if formula.xreplace(values) == value else formula.xreplace(values),
                check=lambda s, i=i, U=U, vals=dict(values): _zero(
                    (sum((U[i, j] * xs[j] for j in range(i, n)), Integer(0)) - U[i, n])
                    .xreplace(vals)),
            ))  # fmt: skip
    result = ImmutableMatrix([values[x] for x in xs])
    return Derivation(
        f"Solution of a {n}x{n} linear system by Gaussian elimination", "solve",
        sympy.Tuple(*system), [start, *ops, *back], result,
        reference=lambda: m.LUsolve(rhs),
    )  # fmt: skip


# -- eigenvalues ---------------------------------------------------------------------------------
def eig(A: Any) -> Derivation:
    """Eigenvalues from the characteristic polynomial, eigenvectors from the null spaces.

    ``result`` is a list of ``(eigenvalue, algebraic multiplicity, [eigenvectors])``.

    >>> d = eig("[[2, 1], [1, 2]]")
    >>> [(val, mult, [list(v) for v in vecs]) for val, mult, vecs in d.result]
    [(1, 1, [[-1, 1]]), (3, 1, [[1, 1]])]
    >>> d.verify()
    True
    """
    m = _square(A, "eig", MAX_ELIMINATION)
    n = m.shape[0]
    if n > 4 and m.free_symbols:
        raise DerivationError(
            f"steps.eig: the characteristic polynomial of a {n}x{n} matrix with symbolic "
            "entries has degree above 4, whose roots have no closed form in general"
        )
    lam = sympy.Symbol("lambda")
    shifted = ImmutableMatrix(m - lam * sympy.eye(n))
    with time_limit(None, "the eigenvalue derivation"):
        poly = sympy.factor(shifted.det(method="berkowitz"))
        roots = sympy.roots(sympy.Poly(sympy.expand(poly), lam))
    if sum(roots.values()) != n:
        raise DerivationError(
            "steps.eig: the characteristic polynomial has roots SymPy cannot write in "
            "radicals; use symml.linalg.eig with a NumPy array for numeric eigenvalues"
        )
    char = Step("characteristic_polynomial", Determinant(shifted), poly,
                explain("The eigenvalues are the numbers {lam} with det(A - {lam} I) = 0; "
                        "expand the determinant of {M}.", lam=lam, M=shifted),
                check=_equal, detail="brief")  # fmt: skip
    vals = sorted(roots, key=sympy.default_sort_key)
    root_step = Step(
        "roots", sympy.Eq(poly, 0), sympy.Tuple(*vals),
        explain("The roots of the characteristic polynomial are the eigenvalues; "
                "their algebraic multiplicities are {mult}.",
                mult=sympy.Tuple(*[sympy.Eq(sympy.Symbol(f"m({v})"), roots[v]) for v in vals])),
        check=lambda s: all(_zero(poly.subs(lam, v)) for v in vals), detail="brief",
    )  # fmt: skip
    steps, result = [char, root_step], []
    with time_limit(None, "the eigenvector derivation (null spaces)"):
        for v in vals:
            step, basis = _null_space_step(m, v, lam)
            steps.append(step)
            result.append((v, int(roots[v]), basis))

    def result_check(d):
        ref = m.eigenvals()
        return {sympy.simplify(v): k for v, k, _ in d.result} == {
            sympy.simplify(v): k for v, k in ref.items()} and all(
            _same(m * b, v * b) for v, _, bs in d.result for b in bs)

    return Derivation(
        f"Eigenvalues and eigenvectors of a {n}x{n} matrix", "eig", shifted, steps, result,
        result_check=result_check,
    )  # fmt: skip


def _null_space_step(m: ImmutableMatrix, v, lam) -> tuple[Step, list]:
    n = m.shape[0]
    B = ImmutableMatrix((m - v * sympy.eye(n)).applyfunc(sympy.simplify))
    basis = [ImmutableMatrix(sympy.simplify(b)) for b in B.nullspace(simplify=True)]
    if not basis:
        raise DerivationError(
            f"steps.eig: SymPy found no eigenvector for the eigenvalue {v} (it could not "
            "simplify A - lambda I to a singular matrix); use symml.linalg.eig numerically"
        )
    rref = ImmutableMatrix(B.rref(simplify=True)[0])

    def check(step):
        return all(_same(B * b, sympy.zeros(n, 1)) for b in basis) and (
            len(basis) == n - B.rank(simplify=True))

    return Step(
        "null_space", B, sympy.Tuple(*basis),
        explain("For the eigenvalue {v}, the eigenvectors are the nonzero solutions of "
                "(A - {lam} I) v = 0; the reduced row echelon form of the matrix A - {lam} I "
                "below is {R}, and a basis of its null space is:",
                v=sympy.Eq(lam, v), lam=lam, R=rref),
        check=check,
    ), basis  # fmt: skip


# -- Gram-Schmidt ---------------------------------------------------------------------------------
def gram_schmidt(vectors: Any) -> Derivation:
    """Orthonormalize vectors: subtract from each its projections onto the earlier unit
    vectors, then divide by its length.

    >>> d = gram_schmidt(["[1, 1]", "[1, 0]"])
    >>> [list(q) for q in d.result]
    [[sqrt(2)/2, sqrt(2)/2], [sqrt(2)/2, -sqrt(2)/2]]
    >>> d.verify()
    True
    """
    if isinstance(vectors, str) or not isinstance(vectors, (list, tuple)) or not vectors:
        raise ArgumentError("steps.gram_schmidt needs a non-empty list of vectors")
    vs = []
    for v in vectors:
        e = _exact(v, "gram_schmidt")
        if e.shape[1] != 1 and e.shape[0] == 1:
            e = e.T
        if e.shape[1] != 1:
            raise ShapeError(f"gram_schmidt needs vectors, got a {e.shape[0]}x{e.shape[1]} matrix")
        vs.append(e)
    if len({v.shape for v in vs}) != 1:
        raise ShapeError("gram_schmidt: the vectors have different lengths")
    steps, qs = [], []
    with time_limit(None, "the Gram-Schmidt derivation"):
        for k, v in enumerate(vs, 1):
            w = sympy.Matrix(v)
            for j, q in enumerate(qs, 1):
                c = sympy.simplify(q.dot(v))
                new = ImmutableMatrix((w - c * q).applyfunc(sympy.simplify))
                steps.append(Step(
                    "projection", ImmutableMatrix(w), new,
                    explain("Subtract the projection of v_{k} onto q_{j}: the coefficient is "
                            "{c}, and {q} times it is removed.", k=Integer(k), j=Integer(j),
                            c=sympy.Eq(sympy.Symbol(f"v_{k}.q_{j}"), c), q=q),
                    check=lambda s, c=c, q=q: _same(s.after, s.before - c * q)
                    and _zero(ImmutableMatrix(s.after).dot(q)),
                ))  # fmt: skip
                w = sympy.Matrix(new)
            if all(_zero(e) for e in w):
                raise ArgumentError(
                    f"steps.gram_schmidt: vector {k} is a combination of the earlier ones "
                    "(the vectors are linearly dependent); drop it"
                )
            length = sympy.simplify(sympy.sqrt(w.dot(w)))
            q = ImmutableMatrix((w / length).applyfunc(sympy.simplify))
            steps.append(Step(
                "normalize", ImmutableMatrix(w), q,
                explain("Divide by the length {n} to get the unit vector q_{k}.",
                        n=sympy.Eq(sympy.Symbol(f"||u_{k}||"), length), k=Integer(k)),
                check=lambda s, length=length: _same(s.after * length, s.before)
                and _zero(ImmutableMatrix(s.after).dot(s.after) - 1),
                detail="brief",
            ))  # fmt: skip
            qs.append(q)

    def result_check(d):
        Q = sympy.Matrix.hstack(*d.result)
        gram_ok = _same(Q.T * Q, sympy.eye(len(d.result)))
        # the same span, step by step: v_k lies in span(q_1..q_k)
        span_ok = all(
            sympy.Matrix.hstack(*d.result[:k], vs[k - 1]).rank(simplify=True) == k
            for k in range(1, len(vs) + 1)
        )
        return gram_ok and span_ok

    return Derivation(
        f"Gram-Schmidt orthonormalization of {len(vs)} vectors", "gram_schmidt",
        sympy.Tuple(*vs), steps, qs, result_check=result_check,
    )  # fmt: skip
