"""The symml language: every construct, checked against SymPy objects built by hand,
and the error messages (position, caret, expected tokens, hints)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symml as sm
from symml import functions as F
from symml.lang.transform import ELEMENTWISE, FUNCTION_NAMES, VECTOR_FUNCS

x, y, z, a, b = (sympy.Symbol(n, real=True) for n in "xyzab")


def R(p, q=1):
    return sympy.Rational(p, q)


# --------------------------------------------------------------------------------------
# numbers and operators


@pytest.mark.parametrize(
    "text, value",
    [
        ("3", R(3)),
        ("0.25", R(1, 4)),
        ("1e-3", R(1, 1000)),
        ("2.5E+4", R(25000)),
        (".5", R(1, 2)),
        ("5.", R(5)),
        ("1.5e2", R(150)),
        ("007", R(7)),
    ],
)
def test_numbers_are_exact(text, value):
    v = sm.expr(text)
    assert v == value and isinstance(v, sympy.Rational)


def test_decimal_coefficient_prints_as_fraction():
    assert sm.expr("0.25*x") == x / 4
    assert sm.to_text(sm.expr("0.25*x")) == "x/4"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-x^2", -(x**2)),
        ("2^3^2", R(512)),  # right-assoc: 2^(3^2)
        ("x^y^z", x ** (y**z)),
        ("x**2", x**2),
        ("x**y**z", x ** (y**z)),
        ("-2^2", R(-4)),
        ("2^-1", R(1, 2)),
        ("x^-y^z", x ** (-(y**z))),
        ("a - b - x", a - b - x),  # left-assoc
        ("a/b/x", a / b / x),
        ("a/b*x", a * x / b),
        ("1 + 2*3", R(7)),
        ("(1 + 2)*3", R(9)),
        ("--x", x),
        ("+-x", -x),
        ("3*-x", -3 * x),
        ("2^+3", R(8)),
        ("x - -y", x + y),
    ],
)
def test_operators_and_precedence(text, expected):
    assert sm.expr(text) == expected


def test_names_are_real_symbols_and_e_is_ordinary():
    v = sm.expr("alpha + e + E + x_1 + _t2")
    syms = {s.name: s for s in v.free_symbols}
    assert set(syms) == {"alpha", "e", "E", "x_1", "_t2"}
    assert all(s.is_real for s in syms.values())
    assert sm.expr("exp(1)") == sympy.E
    assert sm.expr("pi") == sympy.pi
    assert sm.expr("inf") == sympy.oo
    assert sm.expr("-inf") == -sympy.oo


def test_greek_names_print_as_greek_in_latex():
    assert sm.lang.to_latex(sm.expr("alpha*sigma + lambda_1")) in (
        r"\alpha \sigma + \lambda_{1}",
        r"\lambda_{1} + \alpha \sigma",
    )
    assert sm.lang.to_latex(sm.expr("sigmoid(beta)")) == r"\sigma\left(\beta\right)"


# --------------------------------------------------------------------------------------
# functions


@pytest.mark.parametrize(
    "name, ref",
    [
        ("exp", sympy.exp),
        ("ln", sympy.log),
        ("log", sympy.log),
        ("sqrt", sympy.sqrt),
        ("abs", sympy.Abs),
        ("sin", sympy.sin),
        ("cos", sympy.cos),
        ("tan", sympy.tan),
        ("asin", sympy.asin),
        ("acos", sympy.acos),
        ("atan", sympy.atan),
        ("sinh", sympy.sinh),
        ("cosh", sympy.cosh),
        ("tanh", sympy.tanh),
        ("erf", sympy.erf),
        ("erfc", sympy.erfc),
        ("sign", sympy.sign),
        ("floor", sympy.floor),
        ("ceil", sympy.ceiling),
        ("asinh", sympy.asinh),
        ("acosh", sympy.acosh),
        ("atanh", sympy.atanh),
        ("loggamma", sympy.loggamma),
        ("lgamma", sympy.loggamma),
        ("gamma", sympy.gamma),
        ("factorial", sympy.factorial),
    ],
)
def test_elementwise_functions_match_sympy(name, ref):
    assert sm.expr(f"{name}(x*y)") == ref(x * y)


def test_every_elementwise_function_is_tested_or_custom():
    tested = {"exp", "ln", "log", "sqrt", "abs", "sin", "cos", "tan", "asin", "acos", "atan",
              "sinh", "cosh", "tanh", "erf", "erfc", "sign", "floor", "ceil", "asinh", "acosh",
              "atanh", "loggamma", "lgamma", "gamma", "factorial"}
    custom = {"sigmoid", "softplus", "relu", "heaviside", "atan2", "binomial"}
    # read back printed results; tested in tests/test_printing_roundtrip.py
    custom |= {"polygamma", "digamma", "erfi", "dirac", "piecewise", "and", "or", "not"}
    assert set(ELEMENTWISE) == tested | custom
    assert set(VECTOR_FUNCS) <= set(FUNCTION_NAMES)


def test_two_argument_functions():
    assert sm.expr("log(x, 2)") == sympy.log(x, 2)
    assert sm.expr("log(8, 2)") == 3
    assert sm.expr("atan2(y, x)") == sympy.atan2(y, x)
    assert sm.expr("binomial(5, 2)") == 10
    assert sm.expr("max(x, y, 1)") == sympy.Max(x, y, 1)
    assert sm.expr("min(x, y)") == sympy.Min(x, y)


def test_ml_functions_stay_named_and_differentiate():
    s = sm.expr("sigmoid(x)")
    assert s == F.sigmoid(x) and sm.to_text(s) == "sigmoid(x)"
    d = sm.diff(s, "x")
    assert d == F.sigmoid(x) * (1 - F.sigmoid(x))
    ref = sympy.diff(1 / (1 + sympy.exp(-x)), x)  # SymPy on the elementary form
    assert sympy.simplify(d.rewrite(sympy.exp) - ref) == 0
    assert sm.expr("diff(softplus(x), x)") == F.sigmoid(x)
    assert sm.to_text(sm.expr("softplus(x) + relu(x)")) == "relu(x) + softplus(x)"


def test_kink_conventions():
    d_relu = sm.expr("diff(relu(x), x)")
    assert d_relu == sympy.Heaviside(x, 0)
    assert d_relu.subs(x, 0) == 0
    assert sm.to_text(d_relu) == "heaviside(x)"
    d_abs = sm.expr("diff(abs(x), x)")
    assert d_abs == sympy.sign(x) and d_abs.subs(x, 0) == 0
    assert not d_abs.has(sympy.re, sympy.im)
    assert sm.expr("heaviside(0)") == 0


@pytest.mark.parametrize("fn", ["exp", "sigmoid", "abs", "sin"])
def test_elementwise_functions_map_over_vectors(fn):
    v = sm.expr(f"{fn}([x, y])")
    assert isinstance(v, sympy.MatrixBase) and v.shape == (2, 1)
    assert list(v) == [sm.expr(f"{fn}(x)"), sm.expr(f"{fn}(y)")]


# --------------------------------------------------------------------------------------
# statements


def test_statements_separators_comments_continuations():
    src = "# a comment\n\nx1 = 1 # trailing\n;; y1 = 2; z1 = x1 +\\\n  y1\nm = [[1, 2],\n     [3, 4]]\n"
    p = sm.parse(src)
    assert list(p) == ["x1", "y1", "z1", "m"]
    assert p["z1"] == 3
    assert p["m"] == sympy.Matrix([[1, 2], [3, 4]])


def test_empty_program():
    p = sm.parse("")
    assert list(p) == [] and p.models == [] and p.params == {}
    assert list(sm.parse("# only a comment\n\n")) == []


def test_var_with_sign_assumptions():
    p = sm.parse("var s > 0, t < 0, u >= 0, v != 0, w")
    s, t, u, v, w = (p.symbols[n] for n in "stuvw")
    assert s.is_positive and t.is_negative and u.is_nonnegative and v.is_nonzero
    assert w.is_real and w.is_positive is None
    assert sm.parse("var s > 0\nf = sqrt(s^2)")["f"] == s
    assert sm.parse("var r\nf = sqrt(r^2)")["f"] == sympy.Abs(p.symbols["w"].func("r", real=True))


def test_param_declarations():
    p = sm.parse("param w[3] = 0, b = 0.1, s = 1 in [0, inf], c in [-1, 3], q > 0, v[2] = [1, 2]")
    assert list(p.params) == ["w", "b", "s", "c", "q", "v"]
    w = p.params["w"]
    assert w.shape == (3,) and w.size == 3
    assert [str(e) for e in w.symbols] == ["w[0]", "w[1]", "w[2]"]
    assert all(e.vector == "w" for e in w.symbols)
    assert np.array_equal(w.init, np.zeros(3))
    assert p.params["b"].init == 0.1 and p.params["b"].bounds == (None, None)
    assert p.params["s"].bounds == (0.0, None) and p.params["s"].init == 1.0
    assert p.params["c"].bounds == (-1.0, 3.0) and p.params["c"].init == 1.0  # midpoint
    assert p.params["q"].bounds == (0.0, None) and p.params["q"].init > 0
    assert p.params["q"].symbols.is_positive
    assert np.array_equal(p.params["v"].init, [1.0, 2.0])


def test_param_matrix():
    p = sm.parse("param W[2, 3] = 1")
    W = p.params["W"]
    assert W.shape == (2, 3) and W.symbols.shape == (2, 3)
    assert str(W.symbols[1, 2]) == "W[1, 2]"
    assert np.array_equal(W.init, np.ones((2, 3)))


def test_data_declarations_and_models():
    src = (
        "data x[3], y\nparam w[3], b\n"
        "y ~ Bernoulli(sigmoid(dot(w, x) + b))\n"
        "y ~ Normal(dot(w, x), 2)\n"
        "y ~ Poisson(exp(b))\ny ~ Binomial(10, sigmoid(b))\ny ~ Exponential(b)\n"
        "y ~ b*x[0]\n"
    )
    p = sm.parse(src)
    assert p.data == ["x", "y"]
    assert p.data_decls["x"].shape == (3,)
    w, xs = p.params["w"].symbols, p.data_decls["x"].symbols
    bb, yy = p.params["b"].symbols, p.data_decls["y"].symbols
    lin = sum(w[i] * xs[i] for i in range(3))
    m = p.models
    assert [mo.dist for mo in m] == ["Bernoulli", "Normal", "Poisson", "Binomial", "Exponential", None]
    assert m[0].lhs == yy and m[0].rhs is None and m[0].dist_args == (F.sigmoid(lin + bb),)
    assert m[1].dist_args == (lin, 2)
    assert m[5].rhs == bb * xs[0] and m[5].dist_args == ()
    assert m[0].text == "y ~ Bernoulli(sigmoid(dot(w, x) + b))"
    assert [mo.line for mo in m] == [3, 4, 5, 6, 7, 8]


def test_const_and_definitions():
    p = sm.parse("const g = 9.81\nh = g*t^2/2\nf(u, v) = u^2 + v\nk = f(h, 1)")
    t = sympy.Symbol("t", real=True)
    assert p.constants["g"] == R(981, 100)
    assert p["g"] == R(981, 100)
    assert p["h"] == R(981, 200) * t**2
    assert p["k"] == (R(981, 200) * t**2) ** 2 + 1
    assert "f" in p and "h" in p and "nope" not in p


def test_definitions_can_be_replaced_by_same_kind():
    assert sm.parse("x = 1\nx = x + 1")["x"] == 2
    assert sm.parse("f(a) = a\nf(a) = 2*a\ny = f(3)")["y"] == 6


def test_relations():
    assert sm.expr("x^2 + y^2 == 1") == sympy.Eq(x**2 + y**2, 1)
    assert sm.expr("x + y <= 2") == sympy.Le(x + y, 2)
    assert sm.expr("x >= 2") == sympy.Ge(x, 2)
    assert sm.expr("x < 2") == sympy.Lt(x, 2)
    assert sm.expr("x > y") == sympy.Gt(x, y)
    assert sm.expr("x != 2") == sympy.Ne(x, 2)
    assert sm.to_text(sm.expr("x^2 + y^2 == 1")) == "x^2 + y^2 == 1"


def test_outputs_keep_text_and_line():
    p = sm.parse("var x\nx^2\n  sin(x)  # c\n")
    assert [(o.text, o.line, o.value) for o in p.outputs] == [
        ("x^2", 2, x**2),
        ("sin(x)", 3, sympy.sin(x)),
    ]


def test_strict_mode_requires_declarations():
    with pytest.raises(sm.UndefinedNameError, match="'y' is not declared"):
        sm.parse("var x\nf = x + y", strict=True)
    with pytest.raises(sm.UndefinedNameError, match="did you mean 'alpha'"):
        sm.parse("var alpha\nf = alpah", strict=True)
    assert sm.parse("var x\nf = x^2", strict=True)["f"] == x**2


def test_load(tmp_path):
    f = tmp_path / "m.sml"
    f.write_text("param a = 1\nloss = (a - 2)^2\n", encoding="utf-8")
    assert sm.load(f)["loss"] == (a - 2) ** 2
    with pytest.raises(sm.SymmlError, match="no such file"):
        sm.load(tmp_path / "missing.sml")


def test_program_getitem_suggests():
    p = sm.parse("loss = x^2")
    with pytest.raises(sm.UndefinedNameError, match="did you mean 'loss'"):
        p["los"]


# --------------------------------------------------------------------------------------
# vectors and matrices


def test_vector_literals_indexing_and_ops():
    p = sm.parse(
        "var u[3], v[3], A[2, 3]\n"
        "d = dot(u, v)\nd2 = u @ v\ne = u * v\nn = norm(u)\ns = sum(u)\nmn = mean(u)\n"
        "first = u[0]\nlast = u[-1]\nAv = A @ v\nAt = A'\nAt2 = transpose(A)\nrow = A[1]\n"
        "entry = A[1, 2]\nlit = [1, 2, 3]\nm = [[1, 2], [3, 4]]\ndt = det(m)\ntr = trace(m)\n"
        "iv = inv(m)\nuo = outer([1, 2], [3, 4])\nsc = 2*u + 1\n"
    )
    u, v, A = p.symbols["u"], p.symbols["v"], p.symbols["A"]
    assert p["d"] == sum(u[i] * v[i] for i in range(3)) == p["d2"]
    assert p["e"] == sympy.Matrix([u[i] * v[i] for i in range(3)])
    assert p["n"] == sympy.sqrt(sum(u[i] ** 2 for i in range(3)))
    assert p["s"] == u[0] + u[1] + u[2]
    assert p["mn"] == (u[0] + u[1] + u[2]) / 3
    assert p["first"] == u[0] and p["last"] == u[2]
    assert p["Av"] == sympy.Matrix(A) * sympy.Matrix(v)
    assert p["At"] == sympy.Matrix(A).T == p["At2"]
    assert p["row"] == sympy.Matrix(A[1, :]).T
    assert p["entry"] == A[1, 2]
    assert p["lit"] == sympy.Matrix([1, 2, 3]) and p["lit"].shape == (3, 1)
    assert p["dt"] == -2 and p["tr"] == 5
    assert p["iv"] == sympy.Matrix([[1, 2], [3, 4]]).inv()
    assert p["uo"] == sympy.Matrix([[3, 4], [6, 8]])
    assert p["sc"] == sympy.Matrix([2 * u[i] + 1 for i in range(3)])


def test_vector_element_symbols_carry_vector_and_index():
    p = sm.parse("param w[2]\nz = w[1]")
    e = p["z"]
    assert isinstance(e, sm.ElementSymbol) and e.vector == "w" and e.index == (1,)
    assert sm.to_text(e) == "w[1]"


@pytest.mark.parametrize(
    "src, match",
    [
        ("var u[2], v[3]\nd = dot(u, v)", "dot of vectors of lengths 2 and 3"),
        ("var u[2], v[3]\nd = u * v", "use '@' for the matrix product"),
        ("var u[2], v[3]\nd = u + v", "cannot add shapes"),
        ("var A[2, 3], v[2]\nd = A @ v", "inner dimensions 3 and 2 differ"),
        ("var u[3]\nq = u[3]", "index 3 out of range for length 3"),
        ("var x\nq = x[0]", "cannot index the scalar"),
        ("m = [[1, 2], [3]]", "different lengths"),
        ("m = [1, [2, 3]]", "mixes scalars and vectors"),
        ("var u[2]\nq = u^u", "exponent must be a scalar"),
        ("q = det([1, 2])", "square matrix"),
        ("var u[2]\nq = u == u", "relations compare scalars"),
        ("q = x @ y", "'@' is the matrix product"),
        ("param w[2] = [1, 2, 3]", r"initial value of 'w' has shape \(3,\)"),
    ],
)
def test_shape_errors(src, match):
    with pytest.raises(sm.ShapeError, match=match):
        sm.parse(src)


# --------------------------------------------------------------------------------------
# calculus and algebra inside the language


def test_calculus_in_the_language():
    p = sm.parse(
        "var x, y\nf = x^2*sin(x)\ndf = diff(f, x)\nd2 = diff(f, x, 2)\ndxy = diff(x^2*y^3, x, y)\n"
        "g = grad(x^2*y, [x, y])\nH = hessian(x^2*y + y^3, [x, y])\nJ = jacobian([x*y, x + y], [x, y])\n"
        "T = taylor(exp(x)*cos(y), x = 0, y = 0, 2)\nT1 = taylor(sin(x), x = 0, 3)\n"
        "I1 = integrate(x*exp(x), x)\nI2 = integrate(x^2, x, 0, 1)\nI3 = integrate(x*y, x, 0, 1, y, 0, 2)\n"
    )
    f = x**2 * sympy.sin(x)
    assert p["df"] == sympy.diff(f, x)
    assert p["d2"] == sympy.diff(f, x, 2)
    assert p["dxy"] == sympy.diff(x**2 * y**3, x, y)
    assert p["g"] == sympy.Matrix([2 * x * y, x**2])
    assert p["H"] == sympy.hessian(x**2 * y + y**3, (x, y))
    assert p["J"] == sympy.Matrix([x * y, x + y]).jacobian([x, y])
    ref = sympy.series(sympy.exp(x) * sympy.cos(y), x, 0, 3).removeO()
    ref = sympy.expand(sympy.series(ref, y, 0, 3).removeO())
    ref = sum(t for t in sympy.Add.make_args(ref) if sympy.Poly(t, x, y).total_degree() <= 2)
    assert sympy.expand(p["T"] - ref) == 0
    assert p["T1"] == x - x**3 / 6
    assert sympy.simplify(sympy.diff(p["I1"], x) - x * sympy.exp(x)) == 0
    assert p["I2"] == R(1, 3)
    assert p["I3"] == 1


def test_gradient_of_a_declared_vector_by_name():
    p = sm.parse("param w[2]\ndata x[2]\nloss = (dot(w, x) - 1)^2\ng = grad(loss, w)")
    w, xs = p.symbols["w"], p.symbols["x"]
    r = w[0] * xs[0] + w[1] * xs[1] - 1
    assert (p["g"] - sympy.Matrix([2 * r * xs[0], 2 * r * xs[1]])).expand() == sympy.zeros(2, 1)


def test_algebra_in_the_language():
    p = sm.parse(
        "s = simplify(sin(x)^2 + cos(x)^2)\ne = expand((x + 1)^2)\nf = factor(x^2 - 1)\n"
        "u = subs(x^2 + y, x = 3)\nl = limit(sin(x)/x, x, 0)\n"
        "evaluate(x^2 + y, x = 1.5, y = 2)\n"
    )
    assert p["s"] == 1
    assert p["e"] == x**2 + 2 * x + 1
    assert p["f"] == (x - 1) * (x + 1)
    assert p["u"] == y + 9
    assert p["l"] == 1
    req = p.outputs[0].value
    assert isinstance(req, sm.lang.EvaluationRequest)
    assert req.expr == x**2 + y and req.values == {"x": R(3, 2), "y": 2}


def test_subs_of_a_vector():
    p = sm.parse("var w[2]\nq = subs(dot(w, w), w = [1, 2])")
    assert p["q"] == 5


@pytest.mark.parametrize(
    "src, exc, match",
    [
        ("t = taylor(sin(x), 3)", sm.ArgumentError, "expansion point"),
        ("t = taylor(sin(x), x = 0)", sm.ArgumentError, "needs an order"),
        ("t = diff(x^2)", sm.ArgumentError, "diff needs a variable"),
        ("t = diff(x^2, 2)", sm.ArgumentError, "the order must follow a variable"),
        ("t = integrate(x, 1, 2)", sm.ArgumentError, "expected a variable"),
        ("t = grad(x^2)", sm.ArgumentError, "needs variables"),
        ("t = subs(x, 3)", sm.ArgumentError, "name = value"),
        ("t = evaluate(x^2, x = 1)", sm.ArgumentError, "cannot be assigned"),
        ("t = diff(x^2, x = 1)", sm.ArgumentError, "no 'name = value' arguments"),
        ("t = sin(x, y)", sm.ArgumentError, "sin takes 1 argument"),
        ("t = log()", sm.ArgumentError, "log takes 1 to 2 argument"),
        ("t = sin(x = 1)", sm.ArgumentError, "only allowed as a function argument"),
    ],
)
def test_bad_calls(src, exc, match):
    with pytest.raises(exc, match=match):
        sm.parse(src)


# --------------------------------------------------------------------------------------
# parse errors: position, caret, expected tokens, hints


def _err(src, exc=sm.ParseError):
    with pytest.raises(exc) as info:
        sm.parse(src)
    return info.value


def test_parse_error_has_line_column_caret_and_expected():
    e = _err("var x\ny = x +\n")
    assert (e.line, e.column) == (2, 8)
    assert "unexpected end of line" in str(e)
    assert "expected" in str(e) and "a name" in str(e) and "a number" in str(e)
    assert e.snippet == "    y = x +\n           ^"
    assert str(e).startswith("line 2, column 8:")
    assert isinstance(e, ValueError) and isinstance(e, sm.SymmlError)


def test_unexpected_token_is_quoted_and_caret_points_at_it():
    e = _err("f = (x + ) * 2")
    assert (e.line, e.column) == (1, 10)
    assert "unexpected ')'" in e.message
    assert e.snippet.splitlines()[1].index("^") == 4 + 9


def test_implicit_multiplication_is_rejected_with_hint():
    e = _err("y = 2x + 1")
    assert (e.line, e.column) == (1, 6)
    assert "implicit multiplication is not supported" in e.message
    assert "write '2*x'" in e.message
    e = _err("y = (x + 1)(x - 1)")
    assert "implicit multiplication" in e.message and "')*('" in e.message


def test_unclosed_bracket_is_named():
    e = _err("y = (1 + x\nz = 3")
    assert (e.line, e.column) == (2, 1)
    assert "'(' at line 1, column 5 is never closed" in e.message
    e = _err("y = [1, 2")
    assert (e.line, e.column) == (1, 10) and "'[' at line 1, column 5" in e.message


@pytest.mark.parametrize(
    "src, hint",
    [
        ('y = "x"', "no strings"),
        ("y = 3!", "factorial"),
        ("y = |x|", "abs(x)"),
        ("y = {1, 2}", "[ ]"),
        ("y = x & z", "separate constraints"),
    ],
)
def test_unexpected_characters_have_hints(src, hint):
    e = _err(src)
    bad = next(c for c in src[4:] if c in '"!|{&')
    assert e.line == 1 and e.column == src.index(bad) + 1 and hint in e.message


def test_single_equals_inside_expression_hint():
    e = _err("y = x = 2")
    assert "write '==' for an equation" in e.message


def test_misspelled_function_suggests_close_name():
    e = _err("var x\ny = 1 + sinn(x)", sm.UndefinedNameError)
    assert "unknown function 'sinn'" in str(e) and "did you mean 'sin'" in str(e)
    assert (e.line, e.column) == (2, 9)
    assert str(e).splitlines()[-1] == "            ^"
    e = _err("y = sigmod(x)", sm.UndefinedNameError)
    assert "did you mean 'sigmoid'" in str(e)
    e = _err("y ~ Bernouli(p)", sm.UndefinedNameError)
    assert "did you mean 'Bernoulli'" in str(e)
    e = _err("y = qqqzz(x)", sm.UndefinedNameError)
    assert "define it first" in str(e)


def test_statement_errors_have_line_prefix_and_caret():
    e = _err("a = 1\nb = [1, 2] * [1, 2, 3]", sm.ShapeError)
    assert str(e).startswith("line 2, column 12:")  # the failing operator
    assert (e.line, e.column) == (2, 12)
    assert str(e).splitlines()[-1] == " " * 15 + "^"
    e = _err("y = 1 + x/0", sm.ArgumentError)
    assert e.column == 10


@pytest.mark.parametrize(
    "src, exc, match",
    [
        ("var x\nvar x", sm.ArgumentError, "'x' is already defined"),
        ("var x\nx = 2", sm.ArgumentError, "cannot be redefined"),
        ("param w\ndata w", sm.ArgumentError, "already defined"),
        ("y = 1\nvar y", sm.ArgumentError, "already defined"),
        ("const g = 1\ng = 2", sm.ArgumentError, "constant"),
        ("f(a) = a\nf = 2", sm.ArgumentError, "already defined as a function"),
        ("f = 2\nf(a) = a", sm.ArgumentError, "already defined as a value"),
        ("sin = 3", sm.ArgumentError, "built-in name"),
        ("var pi", sm.ArgumentError, "built-in name"),
        ("sin(a) = a", sm.ArgumentError, "built-in"),
        ("f(a, a) = a", sm.ArgumentError, "repeated parameter"),
        ("f(1) = 2", sm.ArgumentError, "must be names"),
        ("f(a) = a\ng = f", sm.ArgumentError, "call it with arguments"),
        ("f(a) = a\ng = f(1, 2)", sm.ArgumentError, "takes 1 argument"),
        ("g = Normal(0, 1)", sm.ArgumentError, "only appear on the right of '~'"),
        ("y ~ Normal(x)", sm.ArgumentError, "Normal takes 2 argument"),
        ("var x > 1", sm.ArgumentError, "compare with 0"),
        ("data x[0]", sm.ArgumentError, "must be positive"),
        ("param a = 1 in [2, 0]", sm.ArgumentError, "lower 2.0 exceeds upper 0.0"),
        ("param a = y", sm.ArgumentError, "must be a real number"),
        ("param a in [y, 1]", sm.ArgumentError, "bound must be a real number"),
        ("const g = x", sm.ArgumentError, "must be a number"),
        ("a[0] = 1", sm.ArgumentError, "left side of '='"),
        ("y = 1/0", sm.ArgumentError, "division by zero"),
        ("y = 0^-1", sm.ArgumentError, "division by zero"),
        ("y = [1, 2][0.5]", sm.ArgumentError, "whole number"),
    ],
)
def test_bad_declarations_and_definitions(src, exc, match):
    with pytest.raises(exc, match=match):
        sm.parse(src)


def test_bad_declaration_syntax():
    e = _err("var x >")
    assert "unexpected end of line" in e.message
    e = _err("param")
    assert "expected a name" in e.message
    e = _err("param w[2.5]")
    assert e.column == 10 and "whole numbers" in e.message
    e = _err("data x[n]")
    assert e.column == 8 and "whole numbers" in e.message


def test_expr_rejects_programs_and_non_text():
    with pytest.raises(sm.ParseError, match="expected one expression"):
        sm.expr("x = 2")
    with pytest.raises(sm.ParseError, match="expected one expression, got 2"):
        sm.expr("x; y")
    with pytest.raises(sm.SymmlError):
        sm.expr(3)  # type: ignore[arg-type]
    with pytest.raises(sm.ParseError):
        sm.parse(None)  # type: ignore[arg-type]


def test_expr_namespace_resolves_vectors():
    p = sm.parse("param w[2]")
    v = sm.expr("dot(w, w)", namespace=p.symbols)
    w = p.symbols["w"]
    assert v == w[0] ** 2 + w[1] ** 2


# --------------------------------------------------------------------------------------
# printing


@pytest.mark.parametrize(
    "text",
    [
        "x^2/4 - 3",
        "-x^2",
        "x^(y^z)",
        "(x^y)^z",
        "exp(1)*x",
        "sqrt(x + 1)",
        "1/sqrt(x)",
        "x^(-2)",
        "x^(3/2)",
        "sigmoid(x)*(1 - sigmoid(x))",
        "abs(x) + heaviside(x) + sign(x)",
        "max(x, y) + min(x, 1)",
        "ceil(x) + floor(y)",
        "log(x)/log(2)",
        "inf",
        "-inf",
        "pi*x",
        "[x, y^2]",
        "[[1, x], [y, 2]]",
        "x + y <= 2",
        "x^2 == 1",
    ],
)
def test_printer_round_trips(text):
    e = sm.expr(text)
    assert sm.expr(sm.to_text(e)) == e


def test_printer_prints_language_syntax():
    assert sm.to_text(sm.expr("x**2")) == "x^2"
    assert sm.to_text(sm.expr("exp(1)")) == "exp(1)"
    assert sm.to_text(sm.expr("inf")) == "inf"
    assert sm.to_text([sm.expr("x"), 2]) == "[x, 2]"
