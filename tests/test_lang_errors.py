"""Language errors say what to write: unmatched brackets, functions without parentheses,
Unicode math characters, and old Mac (``\\r``-only) line endings read as line ends."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symml as sm
from symml.errors import ParseError
from symml.lang.transform import ELEMENTWISE


def _error(text: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        sm.parse(text)
    return info.value


@pytest.mark.parametrize(
    "text, line, column, bracket",
    [("sin(x))", 1, 7, ")"), ("[1, 2]]", 1, 7, "]"), ("y = 1\nf = (y + 1))*2", 2, 12, ")")],
)
def test_unmatched_closing_bracket_is_named(text, line, column, bracket):
    err = _error(text)
    assert f"unmatched '{bracket}'" in str(err)
    assert (err.line, err.column) == (line, column)


def test_a_closing_bracket_that_closes_something_is_not_called_unmatched():
    err = _error("f = (x + 1)) + (2")  # the first ')' is fine, the second is not
    assert "unmatched ')'" in str(err) and err.column == 12


@pytest.mark.parametrize("name", ["exp", "sin", "sqrt", "sigmoid", "log"])
def test_function_without_parentheses_suggests_the_call(name):
    err = _error(f"{name} x")
    assert f"write {name}(x)" in str(err)


def test_ln_suggests_log():
    msg = str(_error("ln x"))
    assert "write log(x)" in msg
    # and what it suggests means the same as what ln means
    assert sm.expr("log(x)") == sm.expr("ln(x)")


#: functions whose argument is a condition (x > 0), not a value: "not x" is no call to hint
CONDITIONS = {"not", "and", "or"}


@given(st.sampled_from(sorted(n for n, (_, lo, _) in ELEMENTWISE.items()
                              if lo == 1 and n not in CONDITIONS)),
       st.sampled_from(["x", "y2", "3"]))  # fmt: skip
@settings(max_examples=30, deadline=None)
def test_every_one_argument_function_gets_the_hint(name, arg):
    msg = str(_error(f"{name} {arg}"))
    want = "log" if name == "ln" else name
    assert f"write {want}({arg})" in msg
    sm.expr(f"{want}({arg})")  # the suggestion itself parses


@pytest.mark.parametrize(
    "text, hint",
    [("x²", "x^2"), ("3*y³", "y^3"), ("x⁻¹", "x^(-1)"), ("2×x", "*"), ("a − b", "-"),
     ("x ≤ 1", "<=")],
)  # fmt: skip
def test_unicode_math_characters_say_what_to_write(text, hint):
    msg = str(_error(text))
    assert "write" in msg and hint in msg


def test_superscript_suggestion_parses_to_the_power():
    msg = str(_error("x²"))
    suggestion = msg.split("write ")[1].split()[0]
    assert sm.expr(suggestion) == sm.expr("x") ** 2


@pytest.mark.parametrize("sep", ["\r", "\r\n", "\n"])
def test_line_endings(sep):
    prog = sm.parse(sep.join(["a = 2", "b = 3", "a*b", "a + b"]))
    assert [o.value for o in prog.outputs] == [6, 5]


def test_lone_cr_errors_point_at_the_right_line():
    err = _error("a = 1\rb = 2\rsin(a))")
    assert err.line == 3 and err.column == 7
    assert "sin(a))" in str(err)


@given(st.lists(st.integers(-50, 50), min_size=1, max_size=6))
@settings(max_examples=25, deadline=None)
def test_cr_only_program_equals_newline_program(values):
    lines = [f"v{i} = {v}" for i, v in enumerate(values)] + [
        " + ".join(f"v{i}" for i in range(len(values)))
    ]
    cr, nl = sm.parse("\r".join(lines)), sm.parse("\n".join(lines))
    assert (
        [o.value for o in cr.outputs]
        == [o.value for o in nl.outputs]
        == [sympy.Integer(sum(values))]
    )
