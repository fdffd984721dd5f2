"""Bounded simplification of huge results (issue 7): the default tidy-up skips them without
counting their operations, ``sm.simplify`` expands a huge polynomial over its shared
sub-expressions instead of calling SymPy's simplify, and ``sm.compile`` of the derivative of
a 200-statement chain works. References: SymPy's ``expand`` and a closed form."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symml as sm
from symml import _tidy
from symml._tidy import larger_than, polynomial_form

X, Y = sympy.symbols("x y")
CHAIN = "a0 = 1\n" + "".join(f"a{i} = a{i - 1}*x + {i}\n" for i in range(1, 201))


@st.composite
def polynomials(draw, depth=4):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from([X, Y, sympy.Integer(draw(st.integers(-5, 5))),
                                     sympy.Rational(draw(st.integers(-5, 5)), 3)]))
    kind = draw(st.sampled_from(["add", "mul", "pow"]))
    a = draw(polynomials(depth=depth - 1))
    if kind == "pow":
        return a ** draw(st.integers(0, 3))
    b = draw(polynomials(depth=depth - 1))
    return a + b if kind == "add" else a * b


@settings(max_examples=60, deadline=None)
@given(polynomials())
def test_polynomial_form_is_sympys_expansion(p):
    got = polynomial_form(p)
    if not p.free_symbols:
        assert got is None
        return
    assert got is not None
    assert sympy.expand(got - p) == 0
    assert got == sympy.expand(got)  # expanded


@pytest.mark.parametrize("e", [sympy.sin(X) + 1, 1 / X, X ** Y, sympy.Float(1.5) * X,
                               sympy.sqrt(X) + X, sympy.pi * X])  # fmt: skip
def test_polynomial_form_rejects_non_polynomials(e):
    assert polynomial_form(e) is None


def test_larger_than_counts_tree_nodes():
    e = X * Y + sympy.sin(X)  # Add(Mul(x, y), sin(x)): 6 nodes
    assert sum(1 for _ in sympy.preorder_traversal(e)) == 6
    assert larger_than(e, 5) and not larger_than(e, 6)


@pytest.fixture(scope="module")
def chain_derivative():
    return sm.diff(sm.parse(CHAIN)["a200"], "x")


def _closed_form(x):
    # a_200 = x^200 + sum_i i x^(200 - i), so its derivative is:
    return 200 * x**199 + sum(i * (200 - i) * x ** (199 - i) for i in range(1, 200))


def test_simplify_of_the_chain_derivative_is_its_expanded_polynomial(chain_derivative):
    x = next(iter(chain_derivative.free_symbols))
    r = sm.simplify(chain_derivative)
    assert len(sympy.Add.make_args(r)) == 200
    assert sympy.expand(r - _closed_form(x)) == 0


def test_compile_of_the_chain_derivative(chain_derivative):
    x = next(iter(chain_derivative.free_symbols))
    f = sm.compile(chain_derivative, "x")
    for v in (0.5, -0.9, 0.99):
        ref = float(_closed_form(x).subs(x, sympy.Rational(str(v))))
        assert f(v) == pytest.approx(ref, rel=1e-9)


def test_default_tidy_skips_huge_results_without_counting_operations(monkeypatch,
                                                                      chain_derivative):
    def fail(*a, **k):
        raise AssertionError("count_ops called on a huge expression")

    monkeypatch.setattr(_tidy.sympy, "count_ops", fail)
    assert _tidy.tidy(chain_derivative, True) is chain_derivative


def test_small_results_are_still_tidied():
    assert sm.diff("(-x - 1)*exp(-x)", "x") == sm.expr("x*exp(-x)")
    assert sm.simplify("sin(x)^2 + cos(x)^2") == 1
