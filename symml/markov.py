"""Discrete-time Markov chains on finitely many states, exact or numeric.

A :class:`MarkovChain` holds a row-stochastic transition matrix ``P`` (``P[i, j]`` is the
probability of moving from state ``i`` to state ``j``), validated once at the boundary:
square, every entry in [0, 1], every row summing to 1. Rational and symbolic matrices are
worked with exactly (SymPy); matrices with floating-point entries numerically (NumPy).

States are numbered from 0. Every answer is checked before it is returned (a stationary
distribution satisfies ``pi P = pi`` and sums to 1, a fundamental matrix satisfies
``N (I - Q) = I``), or an error is raised.

Symbolic entries: an entry that is not identically zero is taken to be positive when the
chain's graph is built (the *generic* case); classes, periods and absorbing states are those
of the chain for parameter values where every such entry is nonzero.

>>> mc = MarkovChain("[[1/2, 1/2], [1/4, 3/4]]")
>>> mc.stationary()
[Matrix([[1/3, 2/3]])]
>>> mc.n_step(2)
Matrix([
[ 3/8,  5/8],
[5/16, 11/16]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from ._limits import time_limit
from .errors import ArgumentError, DataError, DerivationError, ShapeError

__all__ = ["MarkovChain", "CommunicatingClass"]

#: Tolerance for row sums and entries of floating-point transition matrices.
FLOAT_TOL = 1e-9
#: Seconds a symbolic computation (a power with symbolic n, a linear solve) may take.
SYMBOLIC_SECONDS = 30


@dataclass(frozen=True)
class CommunicatingClass:
    """A communicating class: ``states`` (sorted) and whether it is ``closed``.

    A closed class is recurrent (no probability leaves it); a class that is not closed is
    transient.
    """

    states: tuple[int, ...]
    closed: bool

    @property
    def transient(self) -> bool:
        return not self.closed

    def __repr__(self) -> str:
        kind = "closed" if self.closed else "transient"
        return f"CommunicatingClass(states={self.states}, {kind})"


def _as_matrix(P: Any) -> sympy.ImmutableMatrix:
    from ._convert import as_expr

    if isinstance(P, np.ndarray) and P.dtype == object:
        raise DataError("the transition matrix must be numeric or symbolic, not an object array")
    M = as_expr(P.tolist() if isinstance(P, np.ndarray) else P)
    if not isinstance(M, sympy.MatrixBase):
        raise ShapeError(
            f"a transition matrix must be a square matrix such as [[1/2, 1/2], [1/4, 3/4]], got {M}"
        )
    return sympy.ImmutableMatrix(M)


def _is_float_matrix(M: sympy.MatrixBase) -> bool:
    return all(e.is_number for e in M) and any(e.has(sympy.Float) for e in M)


def _check_entry(e: sympy.Expr, i: int, j: int) -> None:
    where = f"entry P[{i}, {j}]"
    if e.is_Float and e.is_finite:
        where += f" = {float(e):g}"
    else:
        where += f" = {e}"
    if e.is_number:
        if e.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) or not e.is_real:
            raise DataError(f"{where} is not a real probability")
        v = float(e)
        if v < -FLOAT_TOL or v > 1 + FLOAT_TOL:
            raise DataError(f"{where} is not a probability: entries must lie in [0, 1]")
        return
    if e.is_negative or (e - 1).is_positive:
        raise DataError(f"{where} is outside [0, 1] for every value of its symbols")


def _check_rows(M: sympy.MatrixBase, numeric: bool) -> None:
    for i in range(M.rows):
        s = sum(M.row(i), sympy.S.Zero)
        if numeric:
            ok = abs(float(s) - 1) <= FLOAT_TOL * max(1, M.cols)
        else:
            with time_limit(SYMBOLIC_SECONDS, f"simplifying the sum of row {i}"):
                ok = sympy.simplify(s - 1) == 0
        if not ok:
            raise DataError(
                f"row {i} of the transition matrix (states counted from 0) sums to "
                f"{sympy.nsimplify(s) if numeric else sympy.simplify(s)}, not 1; every row "
                "must be a probability distribution over the next state"
            )


def _fold(p: sympy.Pow) -> sympy.Expr:
    k, rest = p.exp.as_coeff_Mul()
    return sympy.Pow(p.base**k, rest)


def _tidy_power(e: sympy.Expr) -> sympy.Expr:
    """Write 2**(2*n) as 4**n (numeric bases absorb integer factors of the exponent)."""
    e = sympy.expand(sympy.powsimp(e))
    e = e.replace(
        lambda p: (
            p.is_Pow
            and p.base.is_Rational
            and p.exp.as_coeff_Mul()[0].is_Integer
            and p.exp.as_coeff_Mul()[0] != 1
            and not p.exp.is_number
        ),
        _fold,
    )
    return sympy.expand(e)


class MarkovChain:
    """A finite Markov chain with transition matrix ``P`` (rows sum to 1).

    Parameters
    ----------
    P : array_like, sympy.Matrix or str
        The transition matrix: a NumPy array, nested lists, a SymPy Matrix, or language text
        such as ``"[[1/2, 1/2], [1/4, 3/4]]"``. Entries may be symbolic (``"[[1 - p, p],
        [q, 1 - q]]"``).

    Raises
    ------
    ShapeError
        If ``P`` is not a square matrix.
    DataError
        If an entry is outside [0, 1] or a row does not sum to 1 (the message names it).

    Examples
    --------
    >>> mc = MarkovChain([[1, 0, 0], [0.5, 0, 0.5], [0, 0, 1]])
    >>> mc.numeric, mc.absorbing_states, mc.transient_states
    (True, [0, 2], [1])
    """

    def __init__(self, P: Any):
        M = _as_matrix(P)
        if M.rows != M.cols or M.rows == 0:
            raise ShapeError(
                f"a transition matrix must be square (one row and one column per state), "
                f"got {M.rows}x{M.cols}"
            )
        for i in range(M.rows):
            for j in range(M.cols):
                _check_entry(M[i, j], i, j)
        self.numeric: bool = _is_float_matrix(M)
        _check_rows(M, self.numeric)
        self.P: sympy.ImmutableMatrix = M
        self.n: int = M.rows

    def __repr__(self) -> str:
        return f"MarkovChain({self.P.tolist()})"

    # -- the graph ------------------------------------------------------------------------------
    def _edges(self) -> np.ndarray:
        """Boolean adjacency: True where the entry is not (identically) zero."""
        out = np.zeros((self.n, self.n), dtype=bool)
        for i in range(self.n):
            for j in range(self.n):
                e = self.P[i, j]
                out[i, j] = abs(float(e)) > FLOAT_TOL if self.numeric else e.is_zero is not True
                if not self.numeric and e.is_number:
                    out[i, j] = e != 0
        return out

    def _reach(self) -> np.ndarray:
        """reach[i, j]: j can be reached from i in zero or more steps (transitive closure)."""
        R = self._edges() | np.eye(self.n, dtype=bool)
        while True:
            R2 = (R.astype(np.int64) @ R.astype(np.int64)) > 0
            if (R2 == R).all():
                return R
            R = R2

    def classes(self) -> list[CommunicatingClass]:
        """The communicating classes, each closed (recurrent) or transient.

        Returns
        -------
        list of CommunicatingClass
            Ordered by their smallest state.

        Examples
        --------
        >>> MarkovChain([[1, 0, 0], [1/3, 1/3, 1/3], [0, 0, 1]]).classes()
        [CommunicatingClass(states=(0,), closed), CommunicatingClass(states=(1,), transient), \
CommunicatingClass(states=(2,), closed)]
        """
        R = self._reach()
        mutual = R & R.T
        seen: set[int] = set()
        out = []
        for i in range(self.n):
            if i in seen:
                continue
            members = tuple(int(j) for j in np.flatnonzero(mutual[i]))
            seen.update(members)
            outside = [j for j in range(self.n) if j not in members]
            closed = not R[np.ix_(members, outside)].any() if outside else True
            out.append(CommunicatingClass(members, bool(closed)))
        return out

    def is_irreducible(self) -> bool:
        """True when every state can reach every other (a single communicating class)."""
        return len(self.classes()) == 1

    def period(self, state: int) -> int | None:
        """The period of ``state``: the gcd of the lengths of all paths from it back to itself.

        Returns None when the chain can never return to ``state``. A period of 1 means the
        state is aperiodic; all states of one class share the period.

        Examples
        --------
        >>> MarkovChain([[0, 1], [1, 0]]).period(0)
        2
        >>> MarkovChain([[1/2, 1/2], [1, 0]]).period(1)
        1
        """
        s = self._state(state)
        cls = next(c for c in self.classes() if s in c.states)
        A = self._edges()
        members = set(cls.states)
        level = {s: 0}
        queue = [s]
        g = 0
        while queue:
            u = queue.pop(0)
            for v in np.flatnonzero(A[u]):
                v = int(v)
                if v not in members:
                    continue
                if v not in level:
                    level[v] = level[u] + 1
                    queue.append(v)
                else:
                    g = math.gcd(g, level[u] + 1 - level[v])
        return g or None

    def _state(self, state: Any) -> int:
        if isinstance(state, bool) or not isinstance(state, (int, np.integer, sympy.Integer)):
            raise ArgumentError(f"a state is a whole number from 0 to {self.n - 1}, got {state!r}")
        s = int(state)
        if not 0 <= s < self.n:
            raise ArgumentError(f"state {s} does not exist: the states are 0 to {self.n - 1}")
        return s

    # -- stationary distributions ---------------------------------------------------------------
    def stationary(self) -> list:
        """All stationary distributions, as the extreme points of their convex set.

        Each closed class carries exactly one stationary distribution (zero outside the
        class); every stationary distribution of the chain is a convex combination of these.
        An irreducible chain therefore has exactly one.

        Returns
        -------
        list
            One row vector ``pi`` per closed class, with ``pi P = pi`` and ``sum(pi) = 1``:
            exact 1 x n SymPy matrices for rational or symbolic ``P``, 1-D NumPy arrays when
            ``P`` has floating-point entries.

        Examples
        --------
        >>> MarkovChain("[[1 - p, p], [q, 1 - q]]").stationary()
        [Matrix([[q/(p + q), p/(p + q)]])]
        >>> MarkovChain([[1, 0], [0, 1]]).stationary()
        [Matrix([[1, 0]]), Matrix([[0, 1]])]
        """
        closed = [c for c in self.classes() if c.closed]
        if self.numeric:
            return [self._stationary_numeric(c.states) for c in closed]
        return [self._stationary_exact(c.states) for c in closed]

    def _stationary_exact(self, states: tuple[int, ...]) -> sympy.ImmutableMatrix:
        k = len(states)
        Q = self.P.extract(list(states), list(states))
        pis = sympy.symbols(f"pi0:{k}")
        eqs = [sum((pis[i] * Q[i, j] for i in range(k)), sympy.S.Zero) - pis[j] for j in range(k)]
        eqs = eqs[1:] + [sum(pis) - 1]  # one balance equation is redundant; sum(pi) = 1 instead
        with time_limit(SYMBOLIC_SECONDS, "solving pi P = pi"):
            sol = sympy.solve(eqs, pis, dict=True)
        if len(sol) != 1 or any(p not in sol[0] for p in pis):
            raise DerivationError(f"could not solve pi P = pi on the closed class {states} exactly")
        full = [sympy.S.Zero] * self.n
        for i, s in enumerate(states):
            full[s] = sympy.factor(sympy.simplify(sol[0][pis[i]]))
        pi = sympy.ImmutableMatrix([full])
        self._check_stationary(pi)
        return pi

    def _check_stationary(self, pi: sympy.MatrixBase) -> None:
        with time_limit(SYMBOLIC_SECONDS, "checking pi P = pi"):
            residual = (pi * self.P - pi).applyfunc(sympy.simplify)
            total = sympy.simplify(sum(pi) - 1)
        if any(e != 0 for e in residual) or total != 0:
            raise DerivationError(f"internal check failed: {pi} is not stationary")

    def _stationary_numeric(self, states: tuple[int, ...]) -> np.ndarray:
        idx = list(states)
        Q = self._float()[np.ix_(idx, idx)]
        k = len(idx)
        A = np.vstack([Q.T - np.eye(k), np.ones((1, k))])
        b = np.zeros(k + 1)
        b[-1] = 1.0
        sol, *_ = np.linalg.lstsq(A, b, rcond=None)
        pi = np.zeros(self.n)
        pi[idx] = np.clip(sol, 0.0, None)
        pi /= pi.sum()
        P = self._float()
        if np.abs(pi @ P - pi).max() > 1e-8:
            raise DerivationError("the numeric stationary distribution did not converge")
        return pi

    def _float(self) -> np.ndarray:
        return np.array(self.P.tolist(), dtype=float)

    # -- n-step transitions ---------------------------------------------------------------------
    def n_step(self, n: Any):
        """The n-step transition probabilities ``P^n`` (entry [i, j]: from i to j in n steps).

        ``n`` may be a whole number or a symbol (language text or SymPy); a symbolic power is
        found by diagonalization (or the Jordan form) and needs exact entries.

        Returns
        -------
        sympy.Matrix or numpy.ndarray
            Exact for rational or symbolic ``P`` (or symbolic ``n``), NumPy for float ``P``.

        Examples
        --------
        >>> MarkovChain("[[1/2, 1/2], [1/4, 3/4]]").n_step("n")[0, 0]
        1/3 + 2/(3*4**n)
        """
        if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
            n = sympy.Integer(int(n))
        elif isinstance(n, str):
            from ._convert import as_expr

            n = as_expr(n)
        if not isinstance(n, sympy.Expr):
            raise ArgumentError(f"n must be a whole number or a symbol, got {n!r}")
        if n.is_number:
            if not (n.is_integer and n.is_nonnegative):
                raise ArgumentError(f"n must be a whole number >= 0, got {n}")
            if self.numeric:
                return np.linalg.matrix_power(self._float(), int(n))
            return sympy.ImmutableMatrix(self.P ** int(n)).applyfunc(sympy.expand)
        if self.numeric:
            raise ArgumentError(
                "a symbolic power P^n needs exact entries: write the probabilities as fractions "
                "(1/4, not 0.25)"
            )
        m = sympy.Dummy("m", integer=True, nonnegative=True)
        with time_limit(SYMBOLIC_SECONDS, "the symbolic power P^n"):
            try:
                Pm = sympy.Matrix(self.P) ** m
            except (ValueError, NotImplementedError, sympy.MatrixError) as exc:
                raise DerivationError(f"P^{n} has no closed form SymPy can find: {exc}") from exc
            Pm = Pm.applyfunc(lambda e: sympy.simplify(sympy.expand(e))).subs(m, n)
        return sympy.ImmutableMatrix(Pm.applyfunc(_tidy_power))

    # -- absorbing chains -----------------------------------------------------------------------
    @property
    def absorbing_states(self) -> list[int]:
        """States ``i`` with ``P[i, i] = 1`` (never left once entered)."""
        out = []
        for i in range(self.n):
            e = self.P[i, i]
            one = abs(float(e) - 1) <= FLOAT_TOL if self.numeric else sympy.simplify(e - 1) == 0
            if one:
                out.append(i)
        return out

    @property
    def transient_states(self) -> list[int]:
        """The states that are not absorbing, in order (the rows of the fundamental matrix)."""
        absorbing = set(self.absorbing_states)
        return [i for i in range(self.n) if i not in absorbing]

    def _absorbing_parts(self):
        A, T = self.absorbing_states, self.transient_states
        if not A:
            raise DerivationError("the chain has no absorbing state (no P[i, i] = 1)")
        R = self._reach()
        stuck = [t for t in T if not R[t, A].any()]
        if stuck:
            raise DerivationError(
                f"the chain is not absorbing: from state(s) {stuck} no absorbing state can be "
                "reached, so the fundamental matrix (I - Q)^-1 does not exist"
            )
        return A, T

    def fundamental_matrix(self):
        """The fundamental matrix ``N = (I - Q)^-1``, Q the transient-to-transient block.

        ``N[i, j]`` is the expected number of visits to transient state ``j`` starting from
        transient state ``i`` (rows and columns follow :attr:`transient_states`).

        Examples
        --------
        >>> MarkovChain([[1, 0, 0], [1/2, 0, 1/2], [0, 0, 1]]).fundamental_matrix()
        array([[1.]])
        """
        A, T = self._absorbing_parts()
        if self.numeric:
            Q = self._float()[np.ix_(T, T)]
            eye = np.eye(len(T))
            N = np.linalg.solve(eye - Q, eye)
            if np.abs(N @ (eye - Q) - eye).max() > 1e-8:
                raise DerivationError("I - Q is numerically singular")
            return N
        Q = self.P.extract(T, T)
        eye = sympy.eye(len(T))
        with time_limit(SYMBOLIC_SECONDS, "inverting I - Q"):
            N = (eye - Q).inv().applyfunc(sympy.factor)
            if (N * (eye - Q) - eye).applyfunc(sympy.simplify) != sympy.zeros(len(T)):
                raise DerivationError("internal check failed: N (I - Q) is not I")
        return sympy.ImmutableMatrix(N)

    def absorption_probabilities(self):
        """Probabilities of ending in each absorbing state: ``B = N R``.

        Rows follow :attr:`transient_states`, columns :attr:`absorbing_states`; ``R`` is the
        transient-to-absorbing block of ``P``. Each row sums to 1.

        Examples
        --------
        Gambler's ruin with a fair coin on 0..3 (0 and 3 absorbing):

        >>> mc = MarkovChain("[[1, 0, 0, 0], [1/2, 0, 1/2, 0], [0, 1/2, 0, 1/2], [0, 0, 0, 1]]")
        >>> mc.absorption_probabilities()
        Matrix([
        [2/3, 1/3],
        [1/3, 2/3]])
        """
        A, T = self._absorbing_parts()
        N = self.fundamental_matrix()
        if self.numeric:
            return N @ self._float()[np.ix_(T, A)]
        B = (N * self.P.extract(T, A)).applyfunc(sympy.factor)
        return sympy.ImmutableMatrix(B)

    def expected_steps(self):
        """Expected number of steps until absorption from each transient state: ``t = N 1``.

        Examples
        --------
        >>> mc = MarkovChain("[[1, 0, 0, 0], [1/2, 0, 1/2, 0], [0, 1/2, 0, 1/2], [0, 0, 0, 1]]")
        >>> mc.expected_steps()
        Matrix([
        [2],
        [2]])
        """
        N = self.fundamental_matrix()
        if self.numeric:
            return N.sum(axis=1)
        t = (N * sympy.ones(N.cols, 1)).applyfunc(sympy.factor)
        return sympy.ImmutableMatrix(t)
