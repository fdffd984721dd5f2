"""Property tests (hypothesis): random SymPy expressions round-trip through the language,
symml.diff agrees with SymPy's own diff, and no text makes the parser raise anything but
a SymmlError."""

from __future__ import annotations

import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symml as sm
from symml import functions as F

X, Y, Z = (sympy.Symbol(n, real=True) for n in "xyz")
ALPHA = sympy.Symbol("alpha", real=True)

FAST = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# ---- random expression trees built directly in SymPy ------------------------------------

leaves = st.one_of(
    st.sampled_from([X, Y, Z, ALPHA, sympy.pi, sympy.E]),
    st.integers(-5, 5).map(sympy.Integer),
    st.tuples(st.integers(-9, 9), st.integers(1, 9)).map(lambda t: sympy.Rational(*t)),
)

UNARY = [
    sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.atan, sympy.tanh,
    sympy.sinh, sympy.Abs, sympy.sqrt, sympy.erf, sympy.sign,
    F.sigmoid, F.softplus, F.relu, lambda e: sympy.Heaviside(e, 0),
]


def _safe(f, *args):
    """Build a node; SymPy refusing a combination (Heaviside(I), ...) gives a plain leaf."""
    try:
        return f(*args)
    except (ValueError, TypeError, ZeroDivisionError):
        return sympy.Integer(1)


def _binary(op):
    return lambda t: _safe(op, t[0], t[1])


def _nodes(children):
    return st.one_of(
        st.tuples(children, children).map(_binary(lambda a, b: a + b)),
        st.tuples(children, children).map(_binary(lambda a, b: a - b)),
        st.tuples(children, children).map(_binary(lambda a, b: a * b)),
        st.tuples(children, children).map(_binary(lambda a, b: a / b if b != 0 else a)),
        st.tuples(children, st.sampled_from([2, 3, -1, -2, sympy.Rational(1, 2),
                                             sympy.Rational(-3, 2), sympy.Rational(1, 3)]))
        .map(_binary(lambda a, b: a**b)),
        st.tuples(children, st.sampled_from([X, Y, X + 1])).map(_binary(lambda a, b: a**b)),
        st.tuples(st.sampled_from(UNARY), children).map(lambda t: _safe(t[0], t[1])),
        st.tuples(children, children).map(_binary(sympy.Max)),
        st.tuples(children, children).map(_binary(sympy.Min)),
    )


expressions = st.recursive(leaves, _nodes, max_leaves=6)


def _usable(e) -> bool:
    """Real, finite expressions of the language (no I, zoo, nan, Piecewise...)."""
    if not isinstance(e, sympy.Expr):
        return False
    bad = (sympy.I, sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
    if any(e.has(b) for b in bad):
        return False
    if e.has(sympy.Piecewise, sympy.re, sympy.im, sympy.arg, sympy.AccumBounds):
        return False
    return _rebuild(e) == e  # SymPy sometimes leaves a node unevaluated; skip those


def _rebuild(e):
    """The canonical form SymPy gives when each node is built again from its arguments."""
    if not e.args or isinstance(e, (sympy.Rational, sympy.Symbol)):
        return e
    return e.func(*[_rebuild(a) for a in e.args])


@FAST
@given(expressions)
def test_print_then_parse_round_trips(e):
    assume(_usable(e))
    text = sm.to_text(e)
    back = sm.expr(text)
    assert back == e, (text, back, e)


@FAST
@given(expressions)
def test_latex_never_fails(e):
    assume(_usable(e))
    assert isinstance(sm.lang.to_latex(e), str)


@settings(max_examples=80, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions, st.sampled_from([X, Y, ALPHA]))
def test_symml_diff_equals_sympy_diff(e, v):
    assume(_usable(e))
    ref = sympy.diff(e, v)
    assert sm.diff(e, v, simplify=False) == ref
    # and from text, with the variable given by name
    assert sm.diff(sm.to_text(e), v.name, simplify=False) == ref


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions)
def test_diff_in_the_language_equals_sympy(e):
    assume(_usable(e))
    assert sm.expr(f"diff({sm.to_text(e)}, x)") == sympy.diff(e, X)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(expressions, min_size=1, max_size=3))
def test_vector_literals_round_trip(items):
    assume(all(_usable(i) for i in items))
    m = sympy.ImmutableMatrix(items)
    assert sm.expr(sm.to_text(m)) == m


# ---- random text never raises anything but SymmlError -----------------------------------

TOKENS = [
    "x", "y", "w", "w[0]", "0", "1", "2", "0.5", "1e3", "10", "pi", "inf", "+", "-", "*", "/",
    "^", "**", "@", "(", ")", "[", "]", ",", "'", "=", "==", "<=", ">=", "<", ">", "!=", "~",
    ";", "\n", "#c\n", "var", "param", "data", "const", "in", "sin", "exp", "log", "sqrt",
    "abs", "relu", "sigmoid", "dot", "norm", "sum", "diff", "grad", "hessian", "jacobian",
    "taylor", "integrate", "subs", "evaluate", "simplify", "expand", "factor", "limit",
    "transpose", "det", "inv", "factorial", "Normal", "Bernoulli", "max", "f", "f(a) = ",
    "x = ", "param w[2]\n", "var x\n", " ",
]


def _run(text):
    try:
        sm.parse(text)
    except sm.SymmlError:
        pass


@settings(max_examples=500, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=14).map("".join))
def test_token_soup_raises_only_symml_errors(text):
    _run(text)


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=10).map(" ".join))
def test_spaced_token_soup_raises_only_symml_errors(text):
    _run(text)


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=30))
def test_arbitrary_text_raises_only_symml_errors(text):
    _run(text)
    try:
        sm.expr(text)
    except sm.SymmlError:
        pass


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=12).map("".join))
def test_parse_errors_carry_positions_inside_the_text(text):
    try:
        sm.parse(text)
    except sm.ParseError as exc:
        if exc.line:
            lines = text.splitlines() or [""]
            assert 1 <= exc.line <= max(len(lines), 1)
            assert 1 <= exc.column <= len(lines[exc.line - 1]) + 1 if exc.line <= len(lines) else True
    except sm.SymmlError:
        pass
