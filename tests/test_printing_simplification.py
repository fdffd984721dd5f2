"""The default simplification: shorter forms when they clearly exist, never another value,
bounded, and switchable off (``simplify=False``, ``sm.set_simplification``,
``sm.simplification``). Internal calls (``fit`` differentiating its model) are not tidied."""

from __future__ import annotations

import random

import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symml as sm
from symml import _tidy
from symml._limits import time_limit
from symml.errors import SymmlError

X, Z = sm.expr("x"), sm.expr("z")


def test_issue_examples():
    raw = sympy.diff((-X - 1) * sympy.exp(-X), X)  # SymPy's own derivative: the reference
    assert sm.diff("(-x - 1)*exp(-x)", "x") == X * sympy.exp(-X)
    assert sympy.simplify(sm.diff("(-x - 1)*exp(-x)", "x") - raw) == 0
    h = sm.hessian("log(1 + exp(z))", "z")[0]
    assert sm.to_text(h) == "(1 - sigmoid(z))*sigmoid(z)"
    assert sympy.simplify(h.rewrite(sympy.exp) - sympy.diff(sympy.log(1 + sympy.exp(Z)), Z, 2)) == 0


def test_hessian_of_logistic_loss_in_sigmoid_form(monkeypatch):
    monkeypatch.setattr(_tidy, "SECONDS", 120.0)  # the form, not the speed: no clock here
    H = sm.hessian("log(1 + exp(w1*x1 + w2*x2))", "w1 w2")
    text = sm.to_text(H)
    assert "exp" not in text and text.count("sigmoid(w1*x1 + w2*x2)") == 8
    raw = sm.hessian("log(1 + exp(w1*x1 + w2*x2))", "w1 w2", simplify=False)
    assert all(sympy.simplify(a.rewrite(sympy.exp) - b) == 0 for a, b in zip(H, raw, strict=True))


def test_nothing_clearly_shorter_keeps_the_result():
    assert sm.diff("x^2*sin(x)", "x") == X**2 * sympy.cos(X) + 2 * X * sympy.sin(X)


def test_switches():
    raw = sympy.diff((-X - 1) * sympy.exp(-X), X)  # SymPy builds the same unsimplified form
    assert sm.diff("(-x - 1)*exp(-x)", "x", simplify=False) == raw
    old = sm.set_simplification(False)
    try:
        assert sm.diff("(-x - 1)*exp(-x)", "x") == raw
        assert sm.diff("(-x - 1)*exp(-x)", "x", simplify=True) == X * sympy.exp(-X)
    finally:
        sm.set_simplification(old)
    with sm.simplification(False):
        assert sm.grad("(-x - 1)*exp(-x)", "x")[0] == raw
    assert sm.grad("(-x - 1)*exp(-x)", "x")[0] == X * sympy.exp(-X)


def test_calls_inside_symml_are_not_tidied():
    with time_limit(30, "an outer computation"):
        assert sm.diff("(-x - 1)*exp(-x)", "x") == sympy.diff((-X - 1) * sympy.exp(-X), X)


def test_bounded_by_size():
    big = sum(sympy.sin(k * X) ** 2 + sympy.cos(k * X) ** 2 for k in range(1, 80))
    assert sympy.count_ops(big) > _tidy.MAX_OPS
    assert _tidy.tidy(big) is big


def _values_agree(a, b, syms) -> bool:
    rng = random.Random(7)
    for _ in range(5):
        pt = {s: sympy.Rational(rng.randint(1, 40), 13) * rng.choice([1, -1]) for s in syms}
        va, vb = complex(a.xreplace(pt).evalf(25)), complex(b.xreplace(pt).evalf(25))
        if all(abs(v) < 1e100 for v in (va, vb)) and abs(va - vb) > 1e-10 * max(1, abs(va)):
            return False
    return True


_ATOMS = st.sampled_from(["x", "y", "1", "2", "-1"])
_F = ["exp", "log", "sin", "cos", "sigmoid", "sqrt", "tanh"]
_EXPR = st.recursive(
    _ATOMS,
    lambda e: st.one_of(
        st.tuples(st.sampled_from(_F), e).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(e, st.sampled_from("+-*/"), e).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
    ),
    max_leaves=5,
)


@given(_EXPR, st.sampled_from(["diff", "grad", "hessian", "integrate"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_simplified_equals_unsimplified(text, fname):
    fn = getattr(sm, fname)
    var = "x" if fname in ("diff", "integrate") else "x y"
    try:
        with sm.limits(seconds=8):
            raw = fn(text, var, simplify=False)
            tidy = fn(text, var)
    except SymmlError:
        return
    syms = sorted((sympy.Matrix([raw]).free_symbols if not isinstance(raw, sympy.MatrixBase)
                   else raw.free_symbols), key=str)  # fmt: skip
    pairs = zip(raw, tidy, strict=True) if isinstance(raw, sympy.MatrixBase) else [(raw, tidy)]
    for a, b in pairs:
        assert _values_agree(a, b, syms), (text, fname, a, b)
        assert len(sm.to_text(b)) <= len(sm.to_text(a))  # never longer
