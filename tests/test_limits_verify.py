"""verify() is bounded on deep problems, and the 200-statement chain of issue 7 gets answers.

The chain ``a_i = a_(i-1)*x + i`` nests its problem 200 levels deep. Every step of its
step-by-step derivative holds a sub-tree of the next one, so a verify that walks each step's
whole tree (SymPy's ``free_symbols``, ``has``, ``preorder_traversal``) or evaluates each
unevaluated derivative afresh costs O(n^2); verify memoizes over the shared DAG instead.
The tests count work (tree-node evaluations), never time.

References: the chain is the polynomial a_n = x^n + sum_{i=1..n} i*x^(n-i), whose derivative
is written down in closed form here; ``free_symbols`` and the jump nodes are SymPy's own.
"""

from __future__ import annotations

import hypothesis.strategies as st
import sympy
from hypothesis import given, settings

import symml as sm
from symml.steps import check

x = sympy.Symbol("x", real=True)


def _chain(n: int) -> str:
    return "a0 = 1\n" + "".join(f"a{i} = a{i - 1}*x + {i}\n" for i in range(1, n + 1))


def _closed_form(n: int) -> sympy.Expr:
    return x**n + sum(i * x ** (n - i) for i in range(1, n + 1))


def test_the_200_statement_chain_differentiates_within_the_default_budget():
    p = sm.parse(_chain(200))
    a = p["a200"]
    assert sympy.expand(a - _closed_form(200)) == 0
    d = sm.diff(a, "x")  # under the default 10 s budget: a LimitError fails the test
    ref = sympy.diff(_closed_form(200), x)  # closed form, not the engine
    for q in (sympy.Rational(1, 2), sympy.Rational(-3, 7), sympy.Integer(2)):
        assert d.xreplace({x: q}) == ref.xreplace({x: q})  # exact rationals


def test_the_chain_in_the_language_and_its_text():
    p = sm.parse(_chain(200) + "d = diff(a200, x)\n")
    q = sympy.Rational(2, 3)
    assert p["d"].xreplace({x: q}) == sympy.diff(_closed_form(200), x).xreplace({x: q})
    text = sm.to_text(p["a200"])
    assert text.count("(") == 199  # nested as written, not expanded


def _tree_evaluations(n: int) -> int:
    d = sm.steps.diff(sm.parse(_chain(n))[f"a{n}"], "x")
    check._INFO.clear()
    check._TREES.clear()
    calls = [0]
    original = check._Tree._eval

    def counting(self, e):
        calls[0] += 1
        return original(self, e)

    check._Tree._eval = counting
    try:
        assert d.verify(seconds=120) is True
    finally:
        check._Tree._eval = original
    return calls[0]


def test_verify_of_a_deep_chain_is_linear_not_quadratic():
    # doubling the depth doubles the work (linear); quadratic would be four times
    small, large = _tree_evaluations(30), _tree_evaluations(60)
    assert large < 2.6 * small, (small, large)


def test_verify_of_the_chain_catches_a_wrong_step():
    d = sm.steps.diff(sm.parse(_chain(40))["a40"], "x")
    deep = [s for _, s in d.walk() if s.rule == "product"][-1]
    deep.after = deep.after + x**2  # the deepest product rule, now wrong
    try:
        d.verify(seconds=120)
    except sm.VerificationError as exc:
        assert "does not hold" in str(exc)
    else:
        raise AssertionError("a wrong step verified")


# -- the memoized walk agrees with SymPy's own ---------------------------------------------------
_y = sympy.Symbol("y", real=True)
_leaves = st.sampled_from([x, _y, sympy.Integer(2), sympy.Rational(1, 3), sympy.pi])


def _safe(fn):
    """SymPy refuses some nestings of Subs and Integral (ValueError): keep the first part."""

    def build(*args):
        try:
            return fn(*args)
        except ValueError:
            return args[-1]

    return build


def _extend(children):
    unary = st.sampled_from([sympy.sin, sympy.exp, sympy.floor, sympy.Abs, sympy.sign,
                             sympy.ceiling, sympy.Heaviside])
    ops = [
        (lambda a, b: a + b, 2), (lambda a, b: a * b, 2), (lambda a, b: sympy.Max(a, b), 2),
        (lambda a: sympy.Derivative(a, x), 1), (lambda a: sympy.Subs(a, x, sympy.Integer(1)), 1),
        (lambda a: sympy.Integral(a, (x, 0, 1)), 1),
        (lambda a, b: sympy.Piecewise((a, x > 0), (b, True)), 2),
    ]
    return st.one_of(
        st.builds(_safe(lambda f, a: f(a)), unary, children),
        *(st.builds(_safe(fn), *[children] * k) for fn, k in ops),
    )


_exprs = st.recursive(_leaves, _extend, max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(_exprs)
def test_memoized_free_symbols_and_jumps_agree_with_sympy(e):
    check._INFO.clear()
    try:
        reference = e.free_symbols
    except ValueError:  # SymPy's own fails on Integral(Subs(y, x, 1), (x, 0, 1))
        reference = None
    if reference is not None:
        assert check._free(e) == reference
    kinds = (sympy.floor, sympy.ceiling, sympy.frac, sympy.sign, sympy.Heaviside, sympy.Abs,
             sympy.DiracDelta, sympy.Max, sympy.Min, sympy.Piecewise)
    assert check._info(e)[1] == {s for s in sympy.preorder_traversal(e) if isinstance(s, kinds)}
    assert check._info(e)[2] == e.has(sympy.Integral, sympy.Subs)
    # memoized across calls: a second, larger expression sharing e is still right
    f = e * _y + sympy.sin(e)
    assert check._free(f) == f.free_symbols
