"""fit: every name of a model is a data column, a declared parameter or given in p0.

Also the input errors of fit's set-up (p0, bounds, weights, data) and the rule that no
caller's string reaches sympy.sympify.
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symml as sm
from symml.errors import ArgumentError, DataError, ParseError
from symml.lang.transform import _CONSTANTS, DISTRIBUTIONS, FUNCTION_NAMES

#: names the language gives a meaning of its own: functions, distributions, constants
RESERVED = set(FUNCTION_NAMES) | set(DISTRIBUTIONS) | set(_CONSTANTS) | {"e", "i"}

X = np.linspace(0.0, 2.0, 9)
Y = 2.0 * np.exp(-0.7 * X) + 0.01 * np.sin(5 * X)

names = st.text(string.ascii_lowercase, min_size=1, max_size=6).filter(
    lambda s: (
        s not in RESERVED
        and not s.startswith(("param", "data", "var", "const"))
    )
)


@settings(max_examples=60, deadline=None)
@given(col=names, typo=names)
def test_an_unknown_name_is_a_data_error_naming_columns(col, typo):
    if typo in (col, "y", "a", "k") or col in ("y", "a", "k"):
        return
    data = {col: X, "y": Y}
    with pytest.raises(DataError) as err:
        sm.fit(f"y ~ a*exp(-k*{typo})", data, p0={"a": 1, "k": 1})
    msg = str(err.value)
    assert f"no column '{typo}'" in msg
    assert f"the columns are {col}, y" in msg
    # the right name fits; so does the unknown name once it is declared or in p0
    r = sm.fit(f"y ~ a*exp(-k*{col})", data, p0={"a": 1, "k": 1})
    assert r.success and abs(r.params["k"] - 0.7) < 0.05
    for model, p0 in (
        (f"param {typo} = 1; y ~ a*exp(-k*{typo})", {"a": 1, "k": 1}),
        (f"y ~ a*exp(-k*{typo})", {"a": 1, "k": 1, typo: 1}),
    ):
        r = sm.fit(model, data, p0=p0)
        assert typo in r.params


def test_the_closest_column_is_suggested():
    data = {"t": X, "y": Y}
    with pytest.raises(
        DataError, match=r"no column 'time' \(did you mean 't'\?\); the columns are t, y"
    ):
        sm.fit("y ~ a*exp(-k*time)", data, p0={"a": 1, "k": 1})
    with pytest.raises(DataError, match=r"did you mean 'temp'"):
        sm.fit("y ~ a*tmep", {"temp": X, "y": Y}, p0={"a": 1})
    with pytest.raises(DataError, match=r"did you mean 'X'"):
        sm.fit("y ~ a*x", {"X": X, "y": Y}, p0={"a": 1})


def test_a_model_of_no_column_does_not_report_success():
    with pytest.raises(DataError, match="no column 'x'"):
        sm.fit("log(y) ~ x", {"t": X, "y": Y})
    for dist in ("Poisson(exp(b*x))", "Normal(b*x, 1)"):
        with pytest.raises(DataError, match="no column 'x'"):
            sm.fit(f"param b; y ~ {dist}", {"t": X, "y": np.round(Y)})


def test_a_missing_response_is_named_as_a_missing_column():
    for model in ("param a; y ~ a*x", "param a; log(y) ~ a*x", "param a; y ~ Poisson(exp(a*x))"):
        with pytest.raises(DataError, match="no column 'y'.* for the response"):
            sm.fit(model, {"x": X, "Y": Y})
    with pytest.raises(DataError, match="did you mean 'Y'"):
        sm.fit("param a; y ~ a*x", {"x": X, "Y": Y})


@pytest.mark.parametrize(
    "model", ["param a, k = 1; y ~ a*exp(-k*x)", "param a; y ~ Poisson(exp(a*x))"]
)
def test_all_zero_weights_are_an_error(model):
    with pytest.raises(DataError, match="every weight is zero"):
        sm.fit(model, {"x": X, "y": np.round(Y)}, weights=np.zeros_like(X))
    with pytest.raises(ArgumentError, match="negative"):
        sm.fit(model, {"x": X, "y": np.round(Y)}, weights=-np.ones_like(X))


def _not_a_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


bad_values = st.one_of(
    st.text(max_size=3).filter(_not_a_number),
    st.just(None),
    st.just([1, 2]),
    st.just({}),
    st.just(float("nan")),
    st.just(1j),
    st.just(object()),
)


@settings(max_examples=60, deadline=None)
@given(v=bad_values, w=bad_values)
def test_bad_p0_and_bounds_are_argument_errors(v, w):
    data = {"x": X, "y": Y}
    model = "param a = 1, k = 1; y ~ a*exp(-k*x)"
    with pytest.raises(ArgumentError):
        sm.fit(model, data, p0=[v, w])
    if v is not None:
        with pytest.raises(ArgumentError):
            sm.fit(model, data, p0={"a": v})
    if not (v is None and w is None):
        with pytest.raises(ArgumentError):
            sm.fit(model, data, bounds={"a": (v, w)})


@pytest.mark.parametrize(
    "column",
    [[[1.0, 2.0], [3.0]], [1.0, [2.0, 3.0]], [[1.0], [2.0, 3.0], [4.0]], ["1", "x"]],
)
def test_ragged_or_non_numeric_data_are_data_errors(column):
    n = len(column)
    with pytest.raises(DataError):
        sm.fit("param a; y ~ a*x", {"x": column, "y": list(range(n))})
    with pytest.raises(DataError):
        sm.fit("param a; y ~ a*x", {"x": list(range(n)), "y": column})


# ---------------------------------------------------------------------------------------
# no caller's string reaches sympify
# ---------------------------------------------------------------------------------------

PROBE = "__import__('os').system('echo reached > /dev/null')"


def test_row_negloglik_text_goes_through_the_language(monkeypatch):
    from symml.fitting.likelihood import row_negloglik

    def forbidden(*args, **kwargs):  # pragma: no cover - reaching it fails the test
        raise AssertionError("sympify was called on a caller's string")

    monkeypatch.setattr(sympy, "sympify", forbidden)
    y = sympy.Symbol("y", real=True)
    with pytest.raises(ParseError):
        row_negloglik("Normal", (PROBE, 1), y)
    with pytest.raises(ParseError):
        row_negloglik("Poisson", ("exec('x = 1')",), y)
    core = row_negloglik("Normal", ("a + b", "2"), y).core
    a, b = sm.symbol("a"), sm.symbol("b")
    assert sympy.simplify(core - (sympy.log(2) + (y - a - b) ** 2 / 8)) == 0


def test_a_hand_built_model_with_text_is_parsed_by_the_language():
    from symml.lang.program import Model, Program

    prog = sm.parse("param a = 1, k = 1")
    hand = Program(params=prog.params, models=[Model("y", "a*exp(-k*x)", None, (), "y ~ ...")])
    r = sm.fit(hand, {"x": X, "y": Y})
    ref = sm.fit("param a = 1, k = 1; y ~ a*exp(-k*x)", {"x": X, "y": Y})
    np.testing.assert_allclose(r.x, ref.x, rtol=1e-12)
    evil = Program(params=prog.params, models=[Model("y", PROBE, None, (), "y ~ ...")])
    with pytest.raises(ParseError):
        sm.fit(evil, {"x": X, "y": Y})
    evil = Program(models=[Model("y", None, "Normal", (PROBE, "1"), "y ~ ...")])
    with pytest.raises(ParseError):
        sm.fit(evil, {"x": X, "y": Y})


def test_no_sympify_on_caller_values_in_fitting_optimize_compile_lagrange():
    import re

    root = Path(sm.__file__).parent
    files = [root / "compile.py", root / "lagrange.py", root / "_convert.py"]
    files += sorted((root / "fitting").glob("*.py")) + sorted((root / "optimize").glob("*.py"))
    pattern = re.compile(r"(?<![\w.])(sympify|parse_expr|eval|exec|S)\(|sympy\.(sympify|S)\(")
    for path in files:
        for line in path.read_text().splitlines():
            code = line.split("#")[0]
            if pattern.search(code):
                # the one exec: compile's own generated source, printed from SymPy objects
                assert path.name == "compile.py" and "exec(code, namespace)" in code, (
                    f"{path.name}: {line.strip()}"
                )
