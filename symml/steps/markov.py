"""Stationary distributions step by step: the balance equations pi P = pi with sum(pi) = 1,
written as a linear system, solved by Gauss-Jordan elimination (each row operation shown and
checked: it leaves the reduced row echelon form unchanged), and the solution read off.

>>> d = stationary("[[1/2, 1/2], [1/4, 3/4]]")
>>> d.result
Matrix([[1/3, 2/3]])
>>> d.verify()
True
"""

from __future__ import annotations

from typing import Any

import sympy

from .._limits import time_limit
from ..errors import DerivationError
from ..markov import SYMBOLIC_SECONDS, MarkovChain
from .model import Derivation, Step, explain

__all__ = ["stationary"]

_P = sympy.Symbol("P", commutative=False)
_PI = sympy.Symbol("pi", commutative=False)
_BALANCE = sympy.Eq(_PI * _P, _PI)


def _exact(mc: MarkovChain) -> tuple[sympy.ImmutableMatrix, bool]:
    """P with floats replaced by the exact rationals they denote (and whether any were)."""
    if not mc.numeric:
        return mc.P, False
    P = mc.P.applyfunc(lambda e: sympy.nsimplify(e, rational=True) if e.has(sympy.Float) else e)
    return sympy.ImmutableMatrix(P), True


def _nonzero(e: sympy.Expr) -> bool:
    return sympy.simplify(e) != 0


def _same_rref(a: sympy.MatrixBase, b: sympy.MatrixBase):
    def check(step: Step) -> bool:
        with time_limit(SYMBOLIC_SECONDS, "checking a row operation"):
            ra = a.rref(simplify=True)[0].applyfunc(sympy.simplify)
            rb = b.rref(simplify=True)[0].applyfunc(sympy.simplify)
        if ra != rb:
            raise AssertionError("the row operation changed the solution set")
        return True

    return check


def _eliminate(M: sympy.Matrix, nvars: int) -> tuple[list[Step], sympy.Matrix, list[int]]:
    """Gauss-Jordan elimination on the augmented matrix, one recorded Step per operation."""
    M = sympy.Matrix(M)
    steps: list[Step] = []
    pivots: list[int] = []
    row = 0

    def record(rule, text, before):
        after = sympy.ImmutableMatrix(M)
        steps.append(
            Step(
                rule,
                sympy.ImmutableMatrix(before),
                after,
                text,
                check=_same_rref(before, after),
                detail="full",
            )
        )

    for col in range(nvars):
        if row >= M.rows:
            break
        rows = range(row, M.rows)
        pivot = next((r for r in rows if M[r, col].is_number and M[r, col] != 0), None)
        if pivot is None:  # only symbolic candidates: the generic case (pivot nonzero)
            pivot = next((r for r in rows if _nonzero(M[r, col])), None)
        if pivot is None:
            continue
        if pivot != row:
            before = M.copy()
            M.row_swap(pivot, row)
            record(
                "swap", f"Swap rows {row + 1} and {pivot + 1} to bring a nonzero pivot up.", before
            )
        c = sympy.simplify(M[row, col])
        if c != 1:
            before = M.copy()
            M[row, :] = (M[row, :] / c).applyfunc(sympy.simplify)
            text = f"Divide row {row + 1} by its pivot {{c}}"
            text += "." if c.is_number else " (assumed nonzero: the generic case)."
            record("scale", explain(text, c=c), before)
        for r in range(M.rows):
            if r == row:
                continue
            f = sympy.simplify(M[r, col])
            if f == 0:
                continue
            before = M.copy()
            M[r, :] = (M[r, :] - f * M[row, :]).applyfunc(sympy.simplify)
            record(
                "eliminate",
                explain(
                    f"Row {r + 1} minus {{f}} times row {row + 1} clears column {col + 1}.", f=f
                ),
                before,
            )
        pivots.append(col)
        row += 1
    return steps, M, pivots


def stationary(P: Any) -> Derivation:
    """Stationary distribution(s) of a Markov chain, solving ``pi P = pi``, ``sum(pi) = 1``.

    Parameters
    ----------
    P : array_like, sympy.Matrix or str
        The transition matrix (see :class:`symml.markov.MarkovChain`). Floating-point
        entries are replaced by the exact fractions they denote.

    Returns
    -------
    Derivation
        ``.result`` is the stationary row vector when it is unique; when the chain has
        several closed classes the system has free parameters and ``.result`` is the list of
        extreme stationary distributions (one per closed class), as
        :meth:`MarkovChain.stationary` returns.

    Examples
    --------
    >>> d = stationary("[[1 - p, p], [q, 1 - q]]")
    >>> d.result
    Matrix([[q/(p + q), p/(p + q)]])
    >>> d.verify()
    True
    """
    mc = MarkovChain(P)
    Pe, converted = _exact(mc)
    exact = MarkovChain(Pe)
    n = exact.n
    pis = sympy.symbols(f"pi_0:{n}", real=True)
    pi_row = sympy.Matrix([list(pis)])
    steps: list[Step] = []
    if converted:
        steps.append(
            Step(
                "definition",
                sympy.ImmutableMatrix(mc.P),
                Pe,
                "Write the floating-point entries as the exact fractions they denote.",
                check=False,
            )
        )
    steps.append(
        Step(
            "definition",
            _P,
            Pe,
            explain(
                "A stationary distribution is a row vector {pi} of probabilities left unchanged "
                "by one step of the chain with transition matrix P: {balance} and {total}.",
                pi=pi_row,
                balance=_BALANCE,
                total=sympy.Eq(sympy.Add(*pis), 1),
            ),
            check=False,
            detail="brief",
        )
    )
    equations = [
        sympy.Eq(sympy.Add(*[pis[i] * Pe[i, j] for i in range(n)]), pis[j]) for j in range(n)
    ] + [sympy.Eq(sympy.Add(*pis), 1)]
    steps.append(
        Step(
            "system",
            None,
            tuple(equations),
            explain(
                "Column j of {balance} is the balance equation for state j (probability flowing "
                "in equals the probability there); add the normalization {total}.",
                balance=_BALANCE,
                total=sympy.Eq(sympy.Add(*pis), 1),
            ),
            check=False,
        )
    )
    A = (Pe.T - sympy.eye(n)).col_join(sympy.ones(1, n))
    aug = A.row_join(sympy.Matrix([0] * n + [1]))
    steps.append(
        Step(
            "augmented",
            None,
            sympy.ImmutableMatrix(aug),
            explain(
                "Move every term to the left and write the augmented matrix {Ab} of the system: "
                "one row per equation, one column per unknown, the right-hand sides last.",
                Ab=sympy.Symbol("[A | b]"),
            ),
            check=_system_check(equations, aug, pis),
        )
    )
    with time_limit(SYMBOLIC_SECONDS, "Gauss-Jordan elimination"):
        ops, R, pivots = _eliminate(aug, n)
    steps.append(
        Step(
            "eliminate",
            sympy.ImmutableMatrix(aug),
            sympy.ImmutableMatrix(R),
            "Gauss-Jordan elimination: scale each pivot row to a leading 1 and clear the rest of "
            "its "
            "column, giving the reduced row echelon form.",
            substeps=ops,
            check=_same_rref(aug, R),
            detail="brief",
        )
    )
    if n in pivots:
        raise DerivationError("the system pi P = pi, sum(pi) = 1 has no solution")
    free = [pis[j] for j in range(n) if j not in pivots]
    general = {
        pis[c]: R[i, n] - sum(R[i, j] * pis[j] for j in range(n) if j not in pivots)
        for i, c in enumerate(pivots)
    }
    solution = sympy.ImmutableMatrix([[sympy.factor(general.get(p, p)) for p in pis]])
    classes = exact.classes()
    extremes = exact.stationary()
    if not free:
        steps.append(
            Step(
                "solve",
                None,
                sympy.Eq(pi_row, solution),
                explain(
                    "Every unknown is a pivot, so the solution is unique: read {pi} off the last "
                    "column.",
                    pi=pi_row,
                ),
                check=_stationary_check(Pe, [solution]),
                detail="brief",
            )
        )
        result = solution
        reference: Any = extremes[0]
    else:
        steps.append(
            Step(
                "solve",
                None,
                sympy.Eq(pi_row, solution),
                explain(
                    "The free unknowns {free} remain: the balance equations have a family of "
                    "solutions.",
                    free=free[0] if len(free) == 1 else sympy.Tuple(*free),
                ),
                check=_family_check(Pe, solution),
                detail="brief",
            )
        )
        closed = [c.states for c in classes if c.closed]
        steps.append(
            Step(
                "extreme_points",
                None,
                tuple(extremes),
                f"The chain has {len(closed)} closed classes {closed}; each carries one stationary "
                "distribution (zero off the class), and the probability vectors in the family are "
                "exactly the convex combinations of these.",
                check=_stationary_check(Pe, extremes),
                detail="brief",
            )
        )
        result = list(extremes)
        reference = list(extremes)
    title = "Stationary distribution of the Markov chain" + ("s" if free else "")
    return Derivation(
        title,
        "stationary",
        _BALANCE,
        steps,
        result,
        reference=reference,
        result_check=_result_check(Pe, result),
    )


def _system_check(equations, aug, pis):
    def check(step: Step) -> bool:
        n = len(pis)
        for k, eq in enumerate(equations):
            row = sum((aug[k, j] * pis[j] for j in range(n)), sympy.S.Zero) - aug[k, n]
            if sympy.simplify(eq.lhs - eq.rhs - row) != 0:
                raise AssertionError(f"row {k + 1} of the matrix is not equation {k + 1}")
        return True

    return check


def _stationary_check(P, pis):
    def check(step: Step) -> bool:
        for pi in pis:
            res = (sympy.Matrix(pi) * P - sympy.Matrix(pi)).applyfunc(sympy.simplify)
            if any(e != 0 for e in res) or sympy.simplify(sum(pi) - 1) != 0:
                raise AssertionError(f"{pi} does not satisfy pi P = pi, sum(pi) = 1")
        return True

    return check


def _family_check(P, solution):
    def check(step: Step) -> bool:
        res = (sympy.Matrix(solution) * P - sympy.Matrix(solution)).applyfunc(sympy.simplify)
        if any(e != 0 for e in res) or sympy.simplify(sum(solution) - 1) != 0:
            raise AssertionError("the general solution does not satisfy the system")
        return True

    return check


def _result_check(P, result):
    def check(d: Derivation) -> bool:
        ref = MarkovChain(P).stationary()
        got = [result] if isinstance(result, sympy.MatrixBase) else list(result)
        if len(got) != len(ref):
            return False
        return all(
            (sympy.Matrix(a) - sympy.Matrix(b)).applyfunc(sympy.simplify) == sympy.zeros(*a.shape)
            for a, b in zip(got, ref, strict=True)
        ) and _stationary_check(P, got)(None)

    return check
