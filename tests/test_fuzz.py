"""Fuzz: thousands of generated inputs, only SymmlError may escape.

Two generators, both seeded (a failure names its seed and input, so it can be replayed):

* token soups: random sequences of the language's tokens (names, numbers from 0 to 1e300,
  operators, brackets, commas, function names, ``=``, ``~``, ``;``, quotes...);
* grammar-shaped formulas: random expression trees over the built-in functions, the
  operators, awkward numbers (0, -1, 1/3, 1e-3, huge ones), scalars and vectors.

They go through ``parse``, ``expr``, ``diff``, ``steps.diff`` (and ``verify`` and the
renderers), ``compile`` (and a call of the compiled function), and ``fit``. Each call runs
under a short budget (``limits(seconds=...)``): a LimitError is a fine outcome, a hang is
not. Sizes are chosen so the whole file takes well under a minute.
"""

from __future__ import annotations

import random
import traceback
import warnings

import numpy as np
import pytest

import symml as sm
from symml._limits import limits

SEED = 20261202
N_SOUP = 2500
N_FORMULA = 400
N_STEPS = 60
N_COMPILE = 250
N_FIT = 30

FUNCS1 = ["exp", "log", "sqrt", "abs", "sign", "sin", "cos", "tan", "asin", "acos", "atan",
          "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "softplus", "relu",
          "erf", "erfc", "gamma", "loggamma", "floor", "ceil", "heaviside", "factorial"]
FUNCS2 = ["atan2", "log", "binomial", "min", "max"]
NUMBERS = ["0", "1", "2", "-1", "0.5", "1e-3", "3.25", "10", "1e300", "1e-300", "123456789",
           "0.0", "7", "1/3", "2^64", "10^400", "pi", "inf"]
NAMES = ["x", "y", "z", "a", "b", "w"]
SOUP = (NUMBERS + NAMES + FUNCS1 + FUNCS2
        + ["+", "-", "*", "/", "^", "@", "'", "(", ")", "[", "]", ",", "=", "==", "<=", ">=",
           "<", ">", "!=", "~", ";", "\n", "var", "param", "data", "const", "in", "diff",
           "grad", "hessian", "jacobian", "taylor", "integrate", "limit", "simplify",
           "expand", "factor", "subs", "evaluate", "dot", "norm", "sum", "mean", "det",
           "inv", "trace", "outer", "transpose", "Normal", "Poisson", "#", "!", "{", "$",
           "e", "_", "1.", ".5", "1e", "x1", "w[0]", "\\", "\t", "\u00e9", "\x00"])


def token_soup(rng: random.Random) -> str:
    return " ".join(rng.choice(SOUP) for _ in range(rng.randint(1, 25)))


def formula(rng: random.Random, depth: int = 0) -> str:
    """A random scalar formula in x and y (and sometimes a vector operation)."""
    r = rng.random()
    if depth >= 4 or r < 0.25:
        return rng.choice(NUMBERS[:14] + ["x", "y", "x", "y"])
    if r < 0.5:
        op = rng.choice(["+", "-", "*", "/", "^"])
        a, b = formula(rng, depth + 1), formula(rng, depth + 1)
        if op == "^" and rng.random() < 0.7:
            b = rng.choice(["2", "3", "0.5", "-1", "x", "1/3", "-2"])
        return f"({a}) {op} ({b})"
    if r < 0.8:
        return f"{rng.choice(FUNCS1)}({formula(rng, depth + 1)})"
    if r < 0.9:
        return f"{rng.choice(FUNCS2)}({formula(rng, depth + 1)}, {formula(rng, depth + 1)})"
    if r < 0.95:
        return f"-({formula(rng, depth + 1)})"
    a, b = formula(rng, depth + 1), formula(rng, depth + 1)
    return rng.choice([f"dot([{a}, x], [y, {b}])", f"sum([{a}, {b}])", f"norm([{a}, {b}])",
                       f"det([[{a}, 1], [x, {b}]])", f"max([{a}, {b}])"])


def _run(fn, text, raw):
    """Call fn(text); a SymmlError (or a result) is fine, anything else is recorded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numeric warnings are not exceptions
            with np.errstate(all="ignore"):
                return fn(text)
    except sm.SymmlError:
        return None
    except (KeyboardInterrupt, SystemExit):  # pragma: no cover
        raise
    except BaseException as exc:  # noqa: BLE001 - what the test is looking for
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raw.append(f"{type(exc).__name__}: {str(exc)[:80]!r} at {where.filename.split('/')[-1]}"
                   f":{where.lineno} for {text!r}")
        return None


def _report(raw, what):
    assert not raw, f"{len(raw)} raw exception(s) escaped {what}:\n  " + "\n  ".join(raw[:15])


def test_token_soups_through_parse_and_expr():
    rng = random.Random(SEED)
    raw: list[str] = []
    with limits(seconds=2):
        for _ in range(N_SOUP):
            text = token_soup(rng)
            _run(sm.parse, text, raw)
            _run(sm.expr, text, raw)
    _report(raw, "parse / expr on token soups")


def test_formulas_through_expr_diff_and_printing():
    rng = random.Random(SEED + 1)
    raw: list[str] = []
    with limits(seconds=2):
        for _ in range(N_FORMULA):
            text = formula(rng)
            e = _run(sm.expr, text, raw)
            _run(lambda t: sm.diff(t, "x"), text, raw)
            if e is not None:
                _run(sm.to_text, e, raw)
                _run(sm.lang.to_latex, e, raw)
    _report(raw, "expr / diff / to_text / to_latex on formulas")


def test_formulas_through_steps_and_verify():
    rng = random.Random(SEED + 2)
    raw: list[str] = []

    def derive(text):
        d = sm.steps.diff(text, "x")
        d.verify()
        d.to_text()
        d.to_latex()
        return d

    with limits(seconds=3):
        for _ in range(N_STEPS):
            _run(derive, formula(rng), raw)
    _report(raw, "steps.diff / verify / render on formulas")


def test_formulas_through_compile_and_call():
    rng = random.Random(SEED + 3)
    raw: list[str] = []
    xs = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])

    def compiled(text):
        f = sm.compile(text, ["x", "y"])
        return f(xs, 0.25)

    with limits(seconds=2):
        for _ in range(N_COMPILE):
            _run(compiled, formula(rng), raw)
    _report(raw, "compile / call on formulas")


def test_formulas_through_fit():
    rng = random.Random(SEED + 4)
    raw: list[str] = []
    x = np.linspace(0.1, 2.0, 12)
    data = {"x": x, "y": 1.5 * x + 0.2}

    def fitted(text):
        return sm.fit(f"y ~ a*({text}) + b", data, p0={"a": 1.0, "b": 0.0})

    with limits(seconds=3):
        for _ in range(N_FIT):
            _run(fitted, formula(rng).replace("y", "x"), raw)
    _report(raw, "fit on formulas")


@pytest.mark.parametrize("text", ["x^", "((((", "[1, [2]]", "diff(x)", "evaluate(x)", "1e99999",
                                  "x = = y", "var var", "~ ~", "\x00", "max()", "sum()"])
def test_classic_bad_inputs_are_symml_errors(text):
    raw: list[str] = []
    _run(sm.parse, text, raw)
    _run(sm.expr, text, raw)
    _report(raw, "parse / expr")
