"""`symml lagrange` prints candidate points as a table in the language; `symml limit`."""

from __future__ import annotations

import pytest
import sympy

import symml as sm
from symml.calculus import limit
from symml.cli import main
from symml.errors import DerivationError


def test_lagrange_table_rows_parse_back_to_the_api_points(capsys):
    assert main(["lagrange", "x*y", "--subject-to", "x^2 + y^2 == 1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["x", "y", "lambda", "f"]
    api = sm.lagrange("x*y", "x^2 + y^2 == 1")
    assert len(lines) == 1 + len(api)
    for row, point in zip(lines[1:], api, strict=True):
        cells = row.split()
        values = [sm.expr(c) for c in cells]
        assert [sympy.simplify(v - point[k]) for v, k in zip(values, point, strict=False)] == [0, 0, 0]
        assert sympy.simplify(values[3] - sm.expr("x*y").subs(point)) == 0


def test_lagrange_steps_flag(capsys):
    assert main(["lagrange", "x + y", "--subject-to", "x^2 + y^2 == 1", "--steps"]) == 0
    assert "Result" in capsys.readouterr().out


@pytest.mark.parametrize(
    "f, point, direction, expected",
    [("sin(x)/x", 0, "+-", 1), ("(exp(x) - 1)/x", 0, "+-", 1), ("1/x", 0, "+", sympy.oo),
     ("1/x", 0, "-", -sympy.oo), ("exp(-x)", "inf", "+-", 0), ("x*exp(x)", "-inf", "+-", 0),
     ("(1 + 1/x)^x", "inf", "+-", sympy.E), ("abs(x)/x", 0, "+", 1)],  # fmt: skip
)
def test_limit_against_known_values(f, point, direction, expected):
    assert limit(f, "x", point, direction) == expected


def test_two_sided_limit_that_does_not_exist_is_an_error(capsys):
    with pytest.raises(DerivationError, match="from above it is 1, from below -1"):
        limit("abs(x)/x", "x", 0)
    assert main(["limit", "1/x", "x", "0"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["limit", "sin(x)/x", "x", "0"]) == 0
