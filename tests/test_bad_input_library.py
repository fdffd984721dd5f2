"""The bad inputs issue 10 names, in Python, in the language and at the command line: each is
a SymmlError saying what is wrong, where, and how to fix it."""

from __future__ import annotations

import pytest

import symml as sm
from symml import linalg as la
from symml import prob
from symml.cli import main
from symml.errors import ArgumentError, DataError, ShapeError, SymmlError
from symml.markov import MarkovChain


@pytest.mark.parametrize(
    "call, err, words",
    [
        (lambda: la.det([[1, 2, 3], [4, 5, 6]]), ShapeError, ["square", "2x3", "pinv"]),
        (lambda: la.inv([[1, 2], [2, 4]]), ArgumentError, ["singular", "pinv"]),
        (lambda: la.inv("[[a, 2*a], [1, 2]]"), ArgumentError, ["singular", "pinv"]),
        (lambda: MarkovChain([[0.5, 0.5], [0.3, 0.6]]), DataError, ["row 1", "sums to"]),
        (lambda: MarkovChain([[1, 0], [-0.5, 1.5]]), DataError, ["P[1, 0]", "[0, 1]"]),
        (lambda: prob.Normal(0, -1), ArgumentError, ["Normal", "sigma", "> 0", "-1"]),
        (lambda: prob.Bernoulli(1.5), ArgumentError, ["p", "[0, 1]", "1.5"]),
        (lambda: prob.Poisson(0), ArgumentError, ["rate", "> 0"]),
        (lambda: prob.Exponential(-2), ArgumentError, ["rate", "> 0"]),
        (lambda: prob.Binomial(2.5, 0.5), ArgumentError, ["n", "whole number"]),
        (lambda: prob.Uniform(3, 1), ArgumentError, ["a < b"]),
        (lambda: prob.Beta(0, 1), ArgumentError, ["Beta"]),
        (lambda: prob.Gamma(1, -1), ArgumentError, ["Gamma", "theta"]),
        (lambda: prob.Categorical([0.5, 0.6]), ArgumentError, ["sum to 1", "1.1"]),
    ],
)
def test_python_bad_input(call, err, words):
    with pytest.raises(err) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


@pytest.mark.parametrize(
    "text, err, words",
    [
        ("det([[1, 2, 3], [4, 5, 6]])", ShapeError, ["square", "2x3", "pinv"]),
        ("inv([[1, 2], [2, 4]])", ArgumentError, ["singular", "pinv(A)"]),
        ("inv([[a, 2*a], [1, 2]])", ArgumentError, ["singular", "pinv(A)"]),
        ("stationary([[1/2, 1/4], [1/2, 1/2]])", DataError, ["row 0", "sums to 3/4"]),
        ("n_step([[1, 0], [1/3, 1/3]], 2)", DataError, ["row 1"]),
        ("pdf(Normal(0, -1), x)", ArgumentError, ["sigma", "> 0"]),
        ("mean(Bernoulli(3/2))", ArgumentError, ["p", "[0, 1]"]),
        ("entropy(Poisson(-1))", ArgumentError, ["rate"]),
    ],
)
def test_language_bad_input(text, err, words):
    with pytest.raises(err) as info:
        sm.expr(text)
    msg = str(info.value)
    assert "line 1" in msg  # where
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["det", "[[1, 2, 3], [4, 5, 6]]"], ["square", "pinv"]),
        (["inv", "[[1, 2], [2, 4]]"], ["singular", "pinv"]),
        (["stationary", "[[1/2, 1/4], [1/2, 1/2]]"], ["row 0"]),
        (["steps", "stationary", "[[1/2, 1/2], [1, 1]]"], ["row 1"]),
        (["mle", "Normal2", "x"], ["unknown distribution", "Normal"]),
    ],
)
def test_cli_bad_input(argv, words, capsys):
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


def test_errors_are_symml_errors():
    for cls in (ShapeError, ArgumentError, DataError):
        assert issubclass(cls, SymmlError)


def test_symbolic_5x5_eigenvalues_out_of_reach_in_the_language():
    rows = ", ".join(
        "[" + ", ".join(f"e{i}{j}" for j in range(5)) + "]" for i in range(5)
    )
    with pytest.raises(SymmlError) as info:
        sm.expr(f"eigenvalues([{rows}])")
    msg = str(info.value)
    assert "5x5" in msg and "symbolic" in msg and "NumPy" in msg
