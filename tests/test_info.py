"""symml.info and symml.steps.kl: closed forms from the integral, checked by mpmath quadrature."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy
from scipy import stats

from symml.errors import ArgumentError, ShapeError
from symml.info import cross_entropy, entropy, kl, mutual_information
from symml.prob import Bernoulli, Categorical, Exponential, Gamma, Normal
from symml.steps import cross_entropy as ce_steps
from symml.steps import kl as kl_steps

R = sympy.Symbol


def quad_kl(p, q, lo, hi, mid=0):
    def f(x):
        a, b = float(sympy.N(p.pdf(x))), float(sympy.N(q.pdf(x)))
        return a * mpmath.log(a / b) if a > 0 else 0

    return float(mpmath.quad(f, [lo, mid, hi]))


def test_normal_kl_textbook_form_from_the_integral():
    d = kl_steps(Normal("m1", "s1"), Normal("m2", "s2"))
    assert d.verify()
    m1, m2, s1, s2 = (R(k, real=True) for k in ("m1", "m2", "s1", "s2"))
    textbook = sympy.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - sympy.Rational(1, 2)
    assert sympy.simplify(d.result - textbook) == 0
    assert d.result == textbook  # the derivation arrives at the textbook arrangement
    assert "linearity of expectation" in d.rules() and "moment" in d.rules()
    vals = {m1: 0.3, s1: 0.8, m2: -1.1, s2: 1.7}
    num = quad_kl(Normal(0.3, 0.8), Normal(-1.1, 1.7), -30, 30)
    assert float(d.result.subs(vals)) == pytest.approx(num, rel=1e-9)


def test_exponential_and_bernoulli_kl():
    d = kl_steps(Exponential("a"), Exponential("b"))
    assert d.verify()
    a, b = R("a", real=True), R("b", real=True)
    assert sympy.simplify(d.result - (sympy.log(a / b) + b / a - 1)) == 0
    assert float(d.result.subs({a: 2.0, b: 0.5})) == pytest.approx(
        quad_kl(Exponential(2.0), Exponential(0.5), 0, 60, mid=1), rel=1e-9)
    d = kl_steps(Bernoulli("p"), Bernoulli("q"))
    assert d.verify()
    p, q = R("p", real=True), R("q", real=True)
    val = float(d.result.subs({p: 0.3, q: 0.6}))
    assert val == pytest.approx(stats.entropy([0.7, 0.3], [0.4, 0.6]))


def test_kl_numeric_and_vectors():
    assert float(kl(Normal(0, 1), Normal(1, 2))) == pytest.approx(
        quad_kl(Normal(0, 1), Normal(1, 2), -40, 40), rel=1e-9)
    p, q = [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]
    assert float(kl(p, q)) == pytest.approx(stats.entropy(p, q))
    assert float(kl(Categorical(p), Categorical(q))) == pytest.approx(stats.entropy(p, q))
    assert kl([0.5, 0.5], [1, 0]) == sympy.oo
    # different families: numeric quadrature
    g = Gamma(2, 1)
    assert float(kl(g, Exponential(0.8))) == pytest.approx(
        quad_kl(g, Exponential(0.8), 0, 80, mid=2), rel=1e-9)
    # by hand: E[log x] - E[x] - log(0.8) + 0.8 E[x] = digamma(2) - 2 - log(0.8) + 1.6
    assert float(kl(g, Exponential(0.8))) == pytest.approx(
        float(sympy.digamma(2) - 2 - sympy.log(0.8) + 1.6), rel=1e-9)


def test_entropy_and_cross_entropy():
    assert float(entropy([0.2, 0.3, 0.5])) == pytest.approx(stats.entropy([0.2, 0.3, 0.5]))
    # differential entropy: -E[log p] by quadrature
    n = Normal(0.5, 1.3)
    num = -mpmath.quad(lambda x: float(n.pdf(x)) * float(n.logpdf(x)), [-30, 30])
    assert float(entropy(n)) == pytest.approx(float(num), rel=1e-9)
    p, q = [0.2, 0.8], [0.6, 0.4]
    h = -(0.2 * np.log(0.6) + 0.8 * np.log(0.4))
    assert float(cross_entropy(p, q)) == pytest.approx(h)
    assert float(cross_entropy(p, q)) == pytest.approx(float(entropy(p) + kl(p, q)))
    assert float(cross_entropy(Normal(0, 1), Normal(1, 2))) == pytest.approx(
        float(entropy(Normal(0, 1)) + kl(Normal(0, 1), Normal(1, 2))))
    s = R("s", real=True)
    assert entropy(Normal(0, "s")) == sympy.log(2 * sympy.pi * sympy.E * s**2) / 2


def test_mutual_information():
    joint = np.array([[0.1, 0.2], [0.3, 0.4]])
    px, py = joint.sum(1), joint.sum(0)
    ref = float(np.sum(joint * np.log(joint / np.outer(px, py))))
    assert float(mutual_information(joint)) == pytest.approx(ref)
    assert float(mutual_information([[0.25, 0.25], [0.25, 0.25]])) == pytest.approx(0, abs=1e-15)
    assert float(mutual_information([[0.5, 0], [0, 0.5]])) == pytest.approx(np.log(2))


@pytest.mark.parametrize("model", ["Bernoulli", "Categorical"])
def test_cross_entropy_is_nll(model):
    d = ce_steps(model)
    assert d.verify()
    assert "pull the sum out" in d.rules()


def test_bad_input():
    with pytest.raises(ArgumentError):
        entropy([0.5, 0.6])
    with pytest.raises(ShapeError):
        kl([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ArgumentError):
        kl_steps(Normal(0, 1), Exponential(1))
    with pytest.raises(ArgumentError):
        kl("x", [0.5, 0.5])
