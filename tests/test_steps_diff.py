"""Step-by-step differentiation: every derivation ends at SymPy's own derivative, every step
checks out numerically, and the rules a textbook would use appear.

The reference is SymPy (``sympy.diff`` on the same parsed expression), compared both
symbolically (``simplify`` of the difference) and numerically with mpmath at 30 digits.
"""

from __future__ import annotations

import mpmath
import pytest
import sympy

import symml as sm
from symml._integrate import elementary
from symml.errors import VerificationError
from symml.steps.model import Derivation, Step, values_agree

# (expression, variable, rules that must appear)
CORPUS = [
    # polynomials
    ("x^3 - 2*x + 5", "x", {"difference", "power", "constant_multiple", "constant"}),
    ("3*x^4 + x^2 + 7", "x", {"sum", "constant_multiple", "power"}),
    ("(x^2 + 1)^5", "x", {"chain", "power", "sum"}),
    ("x^7", "x", {"power"}),
    ("5*x", "x", {"constant_multiple"}),
    ("x", "x", {"variable"}),
    ("42", "x", {"constant"}),
    ("(2*x - 1)^3*(x + 4)^2", "x", {"product", "chain", "power"}),
    ("x^2*y + y^3", "x", {"partial", "constant_multiple", "constant"}),
    ("a*x^2 + b*x + c", "x", {"sum", "constant_multiple", "power", "constant"}),
    # rational functions and roots
    ("(x^2 + 1)/(x - 3)", "x", {"quotient", "sum", "difference"}),
    ("1/x", "x", {"power"}),
    ("1/(1 + x^2)", "x", {"chain", "power"}),
    ("x/(x + 1)", "x", {"quotient"}),
    ("(x^3 - x)/(x^2 + 4)", "x", {"quotient"}),
    ("sqrt(x)", "x", {"power"}),
    ("sqrt(1 + x^2)", "x", {"chain", "power"}),
    ("x^(-3/2)", "x", {"power"}),
    ("sin(x)/x", "x", {"quotient", "trig"}),
    ("exp(x)/(1 + exp(x))", "x", {"quotient", "exp"}),
    # exp / log
    ("exp(x)", "x", {"exp"}),
    ("exp(x^2)", "x", {"chain", "exp", "power"}),
    ("exp(-x^2/2)", "x", {"chain", "exp"}),
    ("log(x)", "x", {"log"}),
    ("log(x^2 + 1)", "x", {"chain", "log"}),
    ("log(log(x))", "x", {"chain", "log"}),
    ("x*log(x) - x", "x", {"difference", "product", "log"}),
    ("2^x", "x", {"exp"}),
    ("3^(x^2)", "x", {"chain", "exp"}),
    ("exp(sin(x))", "x", {"chain", "exp", "trig"}),
    ("log(1 + exp(x))", "x", {"chain", "log", "exp"}),
    ("exp(x)*log(x)", "x", {"product", "exp", "log"}),
    # trig, inverse trig, hyperbolic
    ("sin(x)", "x", {"trig"}),
    ("cos(3*x)", "x", {"chain", "trig"}),
    ("tan(x)", "x", {"trig"}),
    ("sin(x)^2", "x", {"chain", "power", "trig"}),
    ("sin(cos(x))", "x", {"chain", "trig"}),
    ("sin(x)*cos(x)", "x", {"product", "trig"}),
    ("atan(x)", "x", {"inverse_trig"}),
    ("asin(2*x)", "x", {"chain", "inverse_trig"}),
    ("acos(x^2)", "x", {"chain", "inverse_trig"}),
    ("sinh(x)*cosh(x)", "x", {"product", "hyperbolic"}),
    ("tanh(2*x + 1)", "x", {"chain", "hyperbolic"}),
    ("exp(-x)*sin(2*x)", "x", {"product", "chain", "exp", "trig"}),
    ("log(cos(x))", "x", {"chain", "log", "trig"}),
    # products of three factors
    ("x*exp(x)*cos(x)", "x", {"product", "exp", "trig"}),
    ("x^2*sin(x)*log(x)", "x", {"product", "power", "trig", "log"}),
    ("(x + 1)*(x + 2)*(x + 3)", "x", {"product", "sum"}),
    ("x*sigmoid(x)*exp(x)", "x", {"product", "sigmoid", "exp"}),
    # ML functions and losses
    ("sigmoid(x)", "x", {"sigmoid"}),
    ("sigmoid(w*x + b)", "w", {"chain", "sigmoid", "constant_multiple"}),
    ("softplus(x)", "x", {"softplus"}),
    ("softplus(3*x - 1)", "x", {"chain", "softplus"}),
    ("relu(x)", "x", {"relu"}),
    ("relu(2*x + 1)", "x", {"chain", "relu"}),
    ("abs(x)", "x", {"abs"}),
    ("abs(x^2 - 4)", "x", {"chain", "abs"}),
    ("log(sigmoid(x))", "x", {"chain", "log", "sigmoid"}),
    (
        "-(y*log(sigmoid(w*x + b)) + (1 - y)*log(1 - sigmoid(w*x + b)))",
        "w",
        {"chain", "log", "sigmoid"},
    ),
    ("softplus(-y*(w*x + b))", "w", {"chain", "softplus"}),
    ("(sigmoid(w*x) - y)^2", "w", {"chain", "power", "sigmoid"}),
    ("log(1 + exp(-y*w*x))", "w", {"chain", "log", "exp"}),
    ("(w*x + b - y)^2/2", "b", {"constant_multiple", "chain", "power"}),
    # symbolic exponents
    ("x^x", "x", {"log_differentiation", "product", "log"}),
    ("x^sin(x)", "x", {"log_differentiation", "product", "trig", "log"}),
    ("x^n", "x", {"power"}),
    ("a^x", "x", {"exp"}),
    ("(x^2 + 1)^x", "x", {"log_differentiation"}),
    ("x^(1/x)", "x", {"log_differentiation"}),
    ("sin(x)^x", "x", {"log_differentiation", "chain", "trig"}),
]


def _reference(text: str, var: str):
    f = sm.expr(text)
    x = [s for s in f.free_symbols if s.name == var]
    x = x[0] if x else sm.symbol(var)
    return f, x, sympy.diff(f, x)


@pytest.mark.parametrize("text, var, rules", CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_matches_sympy_and_verifies(text, var, rules):
    d = sm.steps.diff(text, var)
    f, x, ref = _reference(text, var)
    assert isinstance(d, Derivation)
    # symbolic: the difference simplifies to zero (independent reference: SymPy's diff)
    assert sympy.simplify((d.result - ref).rewrite(sympy.exp)) == 0, (d.result, ref)
    # numeric: agree at random points with mpmath at 30 digits
    assert values_agree(d.result, ref)
    assert d.verify() is True
    used = set(d.rules())
    assert rules <= used, f"missing rules {rules - used} in {sorted(used)}"
    assert "no_rule" not in used


def test_corpus_size():
    assert len(CORPUS) >= 60


def test_result_equals_plain_api():
    for text, var, _ in CORPUS[::5]:
        d = sm.steps.diff(text, var)
        # the plain API simplifies by default (sigmoid forms): compare in elementary terms
        plain = elementary(sm.diff(text, var))
        assert sympy.simplify(elementary(d.result) - plain) == 0


def test_chain_rule_names_outer_and_inner_and_derives_inner():
    d = sm.steps.diff("sin(x^2)", "x")
    chain = d.steps[0]
    assert chain.rule == "chain"
    assert "outer function sin(u)" in chain.explanation and "u = x^2" in chain.explanation
    outer, inner = chain.substeps
    assert outer.rule == "trig" and inner.rule == "power"
    assert inner.before == sympy.Derivative(sm.expr("x^2"), sm.symbol("x"))


def test_simplification_is_a_separate_final_step():
    d = sm.steps.diff("(x^2 + 1)/(x - 3)", "x")
    assert [s.rule for s in d.steps] == ["quotient", "simplify"]
    assert d.steps[-1].before == d.steps[0].after


def test_partial_derivative_says_what_is_held_constant():
    d = sm.steps.diff("x^2*y + y^3*z", "x")
    assert d.steps[0].rule == "partial"
    assert "holding y, z constant" in d.steps[0].explanation


def test_second_and_mixed_derivatives():
    d = sm.steps.diff("x^3*y^2", "x", 2)
    assert sympy.simplify(d.result - 6 * sm.expr("x*y^2")) == 0
    d = sm.steps.diff("exp(x*y)", "x", "y")
    ref = sympy.diff(sm.expr("exp(x*y)"), sm.symbol("x"), sm.symbol("y"))
    assert sympy.simplify(d.result - ref) == 0
    assert d.verify()


def test_unknown_function_is_an_explicit_no_rule_step():
    x = sm.symbol("x")
    f = sympy.Function("g")(x) * x
    d = sm.steps.diff(f, x)
    assert "no_rule" in d.rules()
    assert d.result == sympy.diff(f, x)


def test_corrupted_step_is_named_by_verify():
    d = sm.steps.diff("x^2*sin(x)", "x")
    power = d.steps[0].substeps[0]
    assert power.rule == "power"
    power.after = 3 * sm.expr("x")  # wrong: d/dx x^2 is 2*x
    with pytest.raises(sm.VerificationError, match=r"step 1\.1 \(power"):
        d.verify()


def test_corrupted_result_is_caught():
    d = sm.steps.diff("exp(2*x)", "x")
    d.result = d.result + 1
    with pytest.raises(sm.VerificationError, match="differs from SymPy"):
        d.verify()


def test_custom_check_and_opt_out():
    x = sm.symbol("x")
    stmt = Step("definition", None, sympy.Eq(x, 1), "A statement.", check=False)
    good = Step("evaluate", x, x, "Fine.", check=lambda s: True)
    bad = Step("evaluate", x, x, "Claimed.", check=lambda s: False)
    d = Derivation("t", "test", x, [stmt, good], x, reference=x)
    assert d.verify()
    d.steps.append(bad)
    with pytest.raises(sm.VerificationError, match="step 3"):
        d.verify()


def test_verify_is_deterministic_and_uses_high_precision():
    # 1e-20 differences are invisible to floats but not to 30-digit mpmath
    x = sm.symbol("x")
    assert not values_agree(x, x + sympy.Rational(1, 10**20))
    assert values_agree(sympy.sin(x) ** 2 + sympy.cos(x) ** 2, 1)
    assert mpmath.mp.dps == 15  # verify restores mpmath's precision


# -- gradients, Jacobians, Hessians ------------------------------------------------------------
LOGISTIC = "-(y*log(sigmoid(w1*x1 + w2*x2 + b)) + (1 - y)*log(1 - sigmoid(w1*x1 + w2*x2 + b)))"


def test_logistic_gradient_arrives_at_the_familiar_form():
    d = sm.steps.grad(LOGISTIC, "w1 w2 b")
    f = sm.expr(LOGISTIC)
    w1, w2, b, x1, x2, y = (sm.symbol(n) for n in ("w1", "w2", "b", "x1", "x2", "y"))
    s = sm.sigmoid(w1 * x1 + w2 * x2 + b)
    assert d.result[0] == (s - y) * x1  # structurally the familiar form
    assert d.result[1] == (s - y) * x2
    assert d.result[2] == s - y
    ref = sympy.Matrix([sympy.diff(f, v) for v in (w1, w2, b)])
    assert values_agree(d.result, ref)
    assert d.verify()
    # the repeated inner expression is abbreviated once and its derivative reused by name
    assert d.steps[0].rule == "definition" and "z = b + w1*x1 + w2*x2" in d.steps[0].explanation
    assert "reuse" in d.rules()
    text = d.to_text(detail="full")
    assert "Already derived in (A)" in text and "(A) s stands for" in text
    assert "holding b, w2, x1, x2, y constant" in text
    assert "x1*(s - y)" in text and "let s = sigmoid(z)" in text


@pytest.mark.parametrize(
    "f, vs",
    [
        ("x^2*y + y^3", "x y"),
        ("exp(x*y) + sin(x)", "x y"),
        ("log(1 + exp(w1*x1 + w2*x2))", "w1 w2"),
        ("x*y*z + x^2", "x y z"),
    ],
)
def test_grad_and_hessian_match_sympy(f, vs):
    F = sm.expr(f)
    xs = [sm.symbol(v) for v in vs.split()]
    g = sm.steps.grad(f, vs)
    assert values_agree(g.result, sympy.Matrix([sympy.diff(F, v) for v in xs]))
    assert values_agree(g.result, sm.grad(f, vs))
    assert g.verify()
    h = sm.steps.hessian(f, vs)
    assert values_agree(h.result, sympy.hessian(F, xs))
    assert values_agree(h.result, sm.hessian(f, vs))
    assert h.result == h.result.T
    assert h.verify()


def test_hessian_reuses_first_derivatives_and_symmetry():
    h = sm.steps.hessian(LOGISTIC, "w1 b")
    assert h.verify()
    kinds = [s.rule for s in h.steps]
    # 2 abbreviations (z and s = sigma(z)), 2 gradient entries, 3 second derivatives (upper
    # triangle), assemble, substitute
    assert kinds == [
        "definition",
        "definition",
        "partial",
        "partial",
        "partial",
        "partial",
        "partial",
        "assemble",
        "substitution",
    ]
    assert "reuse" in h.rules()


def test_jacobian_matches_sympy():
    comps = ["x*y", "x + sin(y)", "exp(x - y)"]
    d = sm.steps.jacobian(comps, "x, y")
    ref = sympy.Matrix([sm.expr(c) for c in comps]).jacobian([sm.symbol("x"), sm.symbol("y")])
    assert values_agree(d.result, ref)
    assert d.result.shape == (3, 2)
    assert d.verify()
    assert values_agree(d.result, sm.jacobian(comps, "x, y"))


def test_vector_names_expand():
    w = sm.vector("w", 2)
    x = sm.vector("x", 2)
    f = sm.sigmoid(w[0] * x[0] + w[1] * x[1])
    d = sm.steps.grad(f, "w")
    assert values_agree(d.result, sympy.Matrix([sympy.diff(f, v) for v in w]))
    assert d.verify()


# -- Taylor ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "f, at, order",
    [
        ("exp(x)*cos(y)", {"x": 0, "y": 0}, 2),
        ("sin(x)", {"x": 0}, 5),
        ("log(x)", {"x": 1}, 3),
        ("sqrt(1 + x + y)", {"x": 0, "y": 0}, 2),
        ("sigmoid(x)", {"x": 0}, 3),
        ("x^2*y + exp(y)", {"x": 1, "y": 0}, 3),
    ],
)
def test_taylor_matches_sympy_series(f, at, order):
    d = sm.steps.taylor(f, at, order)
    F = sm.expr(f)
    t = sympy.Symbol("t")
    point = {sm.symbol(k): v for k, v in at.items()}
    g = F.subs({v: a + t * (v - a) for v, a in point.items()}, simultaneous=True)
    ref = sympy.series(g, t, 0, order + 1).removeO().subs(t, 1)
    assert sympy.expand(d.result - ref) == 0
    assert sympy.expand(d.result - sm.taylor(f, at, order)) == 0
    assert d.verify()


def test_taylor_shows_mixed_partials_and_values():
    d = sm.steps.taylor("exp(x)*cos(y)", {"x": 0, "y": 0}, 2)
    rules = [s.rule for s in d.steps]
    assert rules[0] == "expansion_point" and rules[-1] == "assemble"
    assert rules.count("derivative") == 5 and rules.count("evaluate") == 6
    text = d.to_text()
    assert "f_xy: differentiate f_x (step 3) with respect to y" in text
    assert "Already derived in" in text


def test_taylor_rejects_a_singular_point():
    with pytest.raises(sm.DerivationError):
        sm.steps.taylor("log(x)", {"x": 0}, 2)


def test_matrix_is_differentiated_entry_by_entry():
    M = sm.expr("[x^2, sin(x*y), sigmoid(x + y + 1)*sigmoid(x + y + 1)]")
    d = sm.steps.diff(M, "x")
    assert values_agree(d.result, M.applyfunc(lambda e: sympy.diff(e, sm.symbol("x"))))
    assert values_agree(d.result, sm.diff(M, "x"))
    assert d.verify()


def test_small_mlp_gradient():
    f = "(v1*tanh(a1*x + c1) + v2*tanh(a2*x + c2) + d - y)^2"
    names = "a1 a2 c1 c2 v1 v2 d"
    g = sm.steps.grad(f, names)
    F = sm.expr(f)
    ref = sympy.Matrix([sympy.diff(F, sm.symbol(n)) for n in names.split()])
    assert values_agree(g.result, ref)
    assert g.verify()


# -- issue 7: steps agree with the plain API; no raw exceptions --------------------------------
@pytest.mark.parametrize(
    "f",
    [
        "((loggamma(0))^0.5/(log(2.5, 2) - x + 1e-3) - (2*x - 2*y)*2)^-1",
        "1/(x*loggamma(0) - x^2)",
        "x*loggamma(0) + x^2",
        "exp(x)/(1 + loggamma(0)*x)",
    ],
)
def test_non_finite_constants_give_sympys_derivative(f):
    # rules do not apply to oo/zoo/nan: the step says so and gives SymPy's value (nan, zoo)
    d = sm.steps.diff(f, "x")
    ref = sympy.diff(sm.expr(f), sm.symbol("x"))
    assert d.result == ref
    assert d.result == sm.diff(f, "x", simplify=False) or (d.result is sympy.nan and sm.diff(f, "x", simplify=False) is sympy.nan)
    assert d.verify() is True  # the steps' own checks compare with SymPy exactly
    assert "non-finite" in d.to_text()
    d.result = sympy.Integer(1)  # the old wrong answer is caught
    with pytest.raises(VerificationError):
        d.verify()


@pytest.mark.parametrize(
    "f",
    ["abs(log(x - 2))", "abs(sqrt(x - 2))", "abs(asin(x))", "abs(log(x))", "abs(x^0.5) + x"],
)
def test_abs_of_a_possibly_complex_argument_agrees_with_diff(f):
    d = sm.steps.diff(f, "x")
    x = sm.symbol("x")
    ref = sm.diff(f, "x")
    # agree with the plain API at points where the argument is complex and where it is real
    for point in (sympy.Rational(1, 2), sympy.Rational(3, 10), sympy.Rational(5, 2)):
        a = complex(d.result.subs(x, point).evalf(30))
        b = complex(ref.subs(x, point).evalf(30))
        assert abs(a - b) < 1e-20, (point, a, b)
    assert d.verify() is True


@pytest.mark.parametrize(
    "f, v",
    [("-y*(atan2(1, x) - x)", "x"), ("-y*(atan2(x, 1) - x)", "x"), ("-2*(x - y)*z", "x"),
     ("-a*(b - x)", "x")],
)  # fmt: skip
def test_minus_sign_simplification_does_not_raise(f, v):
    # the tidiest form can be reached by moving the minus sign alone (no KeyError '')
    d = sm.steps.diff(f, v)
    assert values_agree(d.result, sympy.diff(sm.expr(f), sm.symbol(v)))
    assert d.verify() is True
    d.to_text(), d.to_markdown(), d.to_latex()


@pytest.mark.parametrize("level", ["brief", "textbook", "full"])
def test_detail_levels_share_result_and_verification(level):
    d = sm.steps.grad(LOGISTIC, "w1 w2 b")
    other = d.at(level)
    assert other.result == d.result and other.verify() is True
    assert "Likewise with respect to" in d.to_text(detail=level) or level == "brief"


def test_linear_combination_is_one_textbook_step():
    d = sm.steps.diff("x^3 - 4*x^2 + 7*x - 9", "x")
    text = d.to_text()
    assert "By linearity and the power rule" in text
    assert "1.1." not in text  # no sub-steps for the terms at textbook detail
    assert "1.1." in d.to_text(detail="full")
    assert d.result == sympy.diff(sm.expr("x^3 - 4*x^2 + 7*x - 9"), sm.symbol("x"))


def test_explanations_are_typeset_not_code():
    d = sm.steps.diff("sin(x^2)", "x")
    md = d.to_markdown(detail="full")
    assert "x^2" not in md.replace("x^{2}", "")  # every power is LaTeX math, never prose
    tex = d.to_latex(detail="full")
    assert r"\textasciicircum" not in tex
