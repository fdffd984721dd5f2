"""Markov chains: validation, stationary distributions (against NumPy's left eigenvector),
n-step probabilities (against matrix_power), absorbing chains (gambler's ruin in closed
form), classes and periods, and the stationary derivation."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symml.errors import DataError, ShapeError, SymmlError
from symml.markov import MarkovChain
from symml.steps import stationary

R = sympy.Rational


def _left_eig1(P: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eig(P.T)
    v = np.real(V[:, np.argmin(np.abs(w - 1))])
    return v / v.sum()


# -- validation -----------------------------------------------------------------------------------
def test_row_not_summing_to_one_is_named():
    with pytest.raises(DataError, match="row 1"):
        MarkovChain([[0.5, 0.5], [0.3, 0.6]])
    with pytest.raises(DataError, match="row 0 .* sums to 3/4"):
        MarkovChain("[[1/2, 1/4], [1/2, 1/2]]")


def test_non_square_and_negative_entries():
    with pytest.raises(ShapeError, match="square"):
        MarkovChain([[0.5, 0.5]])
    with pytest.raises(DataError, match=r"P\[1, 0\] = -0.5 "):
        MarkovChain([[1.0, 0.0], [-0.5, 1.5]])
    with pytest.raises(ShapeError):
        MarkovChain("1/2")
    with pytest.raises(DataError):
        MarkovChain([[float("nan"), 1.0], [0.5, 0.5]])


def test_symbolic_rows_checked():
    MarkovChain("[[1 - p, p], [q, 1 - q]]")
    with pytest.raises(DataError, match="row 0"):
        MarkovChain("[[p, p], [q, 1 - q]]")
    with pytest.raises(DataError, match="outside"):  # -exp(p) < 0 for every p
        MarkovChain("[[1 + exp(p), -exp(p)], [1/2, 1/2]]")


def test_errors_are_symml_errors():
    with pytest.raises(SymmlError):
        MarkovChain("[[1/2, 1/2], [1/4, 3/4]]").period(5)


# -- stationary -----------------------------------------------------------------------------------
def test_two_state_closed_form():
    p, q = sympy.symbols("p q", real=True)
    (pi,) = MarkovChain("[[1 - p, p], [q, 1 - q]]").stationary()
    assert sympy.simplify(pi[0] - q / (p + q)) == 0
    assert sympy.simplify(pi[1] - p / (p + q)) == 0


def test_exact_agrees_with_numpy_eigenvector():
    P = [[R(1, 2), R(1, 3), R(1, 6)], [R(1, 4), R(1, 2), R(1, 4)], [R(0), R(1, 3), R(2, 3)]]
    (pi,) = MarkovChain(P).stationary()
    ref = _left_eig1(np.array(P, dtype=float))
    np.testing.assert_allclose(np.array(pi, dtype=float).ravel(), ref, rtol=1e-12)


def test_several_closed_classes():
    mc = MarkovChain([[1, 0, 0], [R(1, 4), R(1, 2), R(1, 4)], [0, 0, 1]])
    assert mc.stationary() == [sympy.Matrix([[1, 0, 0]]), sympy.Matrix([[0, 0, 1]])]


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 6), st.integers(0, 10_000))
def test_random_stochastic_matrices(n, seed):
    rng = np.random.default_rng(seed)
    P = rng.random((n, n)) + 0.05
    P /= P.sum(axis=1, keepdims=True)
    mc = MarkovChain(P)
    (pi,) = mc.stationary()
    np.testing.assert_allclose(pi, _left_eig1(P), atol=1e-10)
    np.testing.assert_allclose(mc.n_step(5), np.linalg.matrix_power(P, 5), atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.lists(st.integers(1, 5), min_size=3, max_size=3), min_size=3, max_size=3))
def test_random_rational_chains_exact(rows):
    P = sympy.Matrix([[R(a, sum(r)) for a in r] for r in rows])
    (pi,) = MarkovChain(P).stationary()
    assert pi * P == pi and sum(pi) == 1
    np.testing.assert_allclose(
        np.array(pi, dtype=float).ravel(), _left_eig1(np.array(P, dtype=float)), atol=1e-12
    )


# -- n-step ---------------------------------------------------------------------------------------
def test_n_step_symbolic_matches_matrix_power():
    P = np.array([[0.5, 0.5], [0.25, 0.75]])
    Pn = MarkovChain("[[1/2, 1/2], [1/4, 3/4]]").n_step("n")
    n = next(iter(Pn.free_symbols))
    for k in range(6):
        np.testing.assert_allclose(
            np.array(Pn.subs(n, k), dtype=float), np.linalg.matrix_power(P, k), rtol=1e-12
        )


def test_n_step_integer_exact_and_bad_n():
    mc = MarkovChain("[[0, 1], [1, 0]]")
    assert mc.n_step(3) == sympy.Matrix([[0, 1], [1, 0]])
    with pytest.raises(SymmlError):
        mc.n_step(-1)
    with pytest.raises(SymmlError, match="exact"):
        MarkovChain([[0.5, 0.5], [0.5, 0.5]]).n_step("n")


# -- absorbing chains -----------------------------------------------------------------------------
def _ruin(N: int, p):
    rows = [[0] * (N + 1) for _ in range(N + 1)]
    rows[0][0] = rows[N][N] = 1
    for i in range(1, N):
        rows[i][i + 1], rows[i][i - 1] = p, 1 - p
    return rows


@pytest.mark.parametrize("p", [R(1, 2), R(2, 5), R(3, 4)])
def test_gamblers_ruin_closed_form(p):
    N = 5
    mc = MarkovChain(_ruin(N, p))
    B, t = mc.absorption_probabilities(), mc.expected_steps()
    assert mc.transient_states == list(range(1, N)) and mc.absorbing_states == [0, N]
    r = (1 - p) / p
    for row, i in enumerate(range(1, N)):
        win = R(i, N) if p == R(1, 2) else (1 - r**i) / (1 - r**N)
        steps = i * (N - i) if p == R(1, 2) else i / (1 - 2 * p) - N / (1 - 2 * p) * win
        assert B[row, 1] == win and B[row, 0] == 1 - win
        assert sympy.simplify(t[row] - steps) == 0


def test_gamblers_ruin_numeric_matches_exact():
    exact = MarkovChain(_ruin(4, R(2, 5)))
    num = MarkovChain(np.array(_ruin(4, 0.4), dtype=float))
    np.testing.assert_allclose(
        num.absorption_probabilities(), np.array(exact.absorption_probabilities(), dtype=float)
    )
    np.testing.assert_allclose(
        num.expected_steps(), np.array(exact.expected_steps(), dtype=float).ravel()
    )


def test_not_absorbing_is_an_error():
    mc = MarkovChain([[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    with pytest.raises(SymmlError, match="not absorbing"):
        mc.absorption_probabilities()
    with pytest.raises(SymmlError, match="no absorbing"):
        MarkovChain([[0, 1], [1, 0]]).expected_steps()


# -- classes and periods --------------------------------------------------------------------------
def test_classes_and_periods():
    P = [[0, 1, 0, 0], [1, 0, 0, 0], [R(1, 2), 0, 0, R(1, 2)], [0, 0, 0, 1]]
    mc = MarkovChain(P)
    cls = mc.classes()
    assert [(c.states, c.closed) for c in cls] == [((0, 1), True), ((2,), False), ((3,), True)]
    assert mc.period(0) == 2 and mc.period(3) == 1 and mc.period(2) is None
    assert not mc.is_irreducible()
    cyc = MarkovChain([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert cyc.is_irreducible() and cyc.period(1) == 3


# -- the derivation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "P",
    [
        "[[1/2, 1/2], [1/4, 3/4]]",
        "[[1 - p, p], [q, 1 - q]]",
        [[0.2, 0.8, 0.0], [0.1, 0.6, 0.3], [0.5, 0.0, 0.5]],
        [[1, 0, 0], [0.25, 0.5, 0.25], [0, 0, 1]],
    ],
)
def test_stationary_derivation_verifies(P):
    d = stationary(P)
    assert d.verify()
    ref = MarkovChain(P).stationary()
    got = d.result if isinstance(d.result, list) else [d.result]
    assert len(got) == len(ref)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_allclose(
            np.array(a.subs({s: R(1, 3) for s in a.free_symbols}), dtype=float).ravel(),
            np.array(
                sympy.Matrix(b).subs({s: R(1, 3) for s in sympy.Matrix(b).free_symbols}),
                dtype=float,
            ).ravel(),
            atol=1e-12,
        )
    for target in ("text", "markdown", "latex"):
        out = getattr(
            d, {"text": "to_text", "markdown": "to_markdown", "latex": "to_latex"}[target]
        )()
        assert "pi" in out


def test_stationary_derivation_rejects_bad_matrix():
    with pytest.raises(DataError, match="row 1"):
        stationary("[[1/2, 1/2], [1/2, 1/4]]")


# -- command line ---------------------------------------------------------------------------------
def test_cli_stationary_and_steps(capsys):
    from symml.cli import main

    assert main(["stationary", "[[1, 0, 0], [1/4, 1/2, 1/4], [0, 0, 1]]", "--classes"]) == 0
    out = capsys.readouterr().out
    assert "[1, 0, 0]" in out and "[0, 0, 1]" in out and "transient" in out
    assert main(["steps", "stationary", "[[1/2, 1/2], [1/4, 3/4]]", "--verify"]) == 0
    assert "Gauss-Jordan" in capsys.readouterr().out
    assert main(["stationary", "[[1/2, 1/2]]"]) == 1
    assert "square" in capsys.readouterr().err
