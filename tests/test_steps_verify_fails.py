"""verify() of the derivation kinds whose checks were made cheaper (issue 7: verify costs at
most 3x its derivation) can still fail: a deliberately wrong result of any checked step, or a
wrong final result, raises VerificationError."""

from __future__ import annotations

import copy

import pytest
import sympy

import symml as sm
from symml.errors import VerificationError
from symml.prob import Beta, Exponential, Gamma, Normal

EPS, SHIFT = sympy.Rational(1, 1000), sympy.Rational(1, 997)

KINDS = {
    "mle Normal": lambda: sm.steps.mle("Normal", "x"),
    "mle Bernoulli": lambda: sm.steps.mle("Bernoulli"),
    "mle Binomial": lambda: sm.steps.mle("Binomial"),
    "mle Poisson": lambda: sm.steps.mle("Poisson"),
    "mle Exponential": lambda: sm.steps.mle("Exponential"),
    "cross_entropy Bernoulli": lambda: sm.steps.cross_entropy("Bernoulli"),
    "cross_entropy Categorical": lambda: sm.steps.cross_entropy("Categorical"),
    "conjugate Normal": lambda: sm.steps.conjugate(Normal(0, 1), "Normal", [1, 2, 3], sigma=1),
    "conjugate Beta": lambda: sm.steps.conjugate(Beta(2, 3), "Bernoulli", [1, 0, 1, 1]),
    "conjugate Gamma": lambda: sm.steps.conjugate(Gamma(2, 1), "Poisson", [3, 1, 4]),
    "kl Normal": lambda: sm.steps.kl(Normal("m1", "s1"), Normal("m2", "s2")),
    "kl Exponential": lambda: sm.steps.kl(Exponential("a"), Exponential("b")),
    "taylor 2 variables": lambda: sm.steps.taylor("exp(x)*cos(y)", {"x": 0, "y": 0}, 3),
    "taylor 1 variable": lambda: sm.steps.taylor("log(1 + x)", {"x": 0}, 4),
}


def _perturb(obj):
    """A value that differs from ``obj`` in every entry (by about 0.1 percent)."""
    if isinstance(obj, sympy.MatrixBase):
        return obj.applyfunc(_perturb)
    if isinstance(obj, (sympy.Tuple, tuple, list)):
        return type(obj)([_perturb(v) for v in obj]) if not isinstance(obj, sympy.Tuple) \
            else sympy.Tuple(*[_perturb(v) for v in obj])
    if isinstance(obj, dict):
        return {k: _perturb(v) for k, v in obj.items()}
    if isinstance(obj, sympy.Eq):
        return sympy.Eq(obj.lhs, _perturb(obj.rhs))
    return obj * (1 + EPS) + SHIFT


@pytest.fixture(scope="module")
def built():
    return {name: build() for name, build in KINDS.items()}


@pytest.mark.parametrize("name", list(KINDS))
def test_correct_derivation_verifies(built, name):
    assert built[name].verify() is True


@pytest.mark.parametrize("name", list(KINDS))
def test_every_wrong_step_result_fails(built, name):
    d = built[name]
    numbers = [number for number, step in d.walk() if step.check is not False]
    assert numbers, "no checked step"
    passed = []
    for target in numbers:
        bad = copy.deepcopy(d)
        step = dict(bad.walk())[target]
        step.after = _perturb(step.after)
        try:
            bad.verify()
        except VerificationError as exc:
            assert f"step {target} " in str(exc)  # the wrong step is the one named
        else:
            passed.append(f"{target} ({step.rule})")
    assert not passed, f"wrong results that verify: {passed}"


@pytest.mark.parametrize("name", list(KINDS))
def test_wrong_result_fails(built, name):
    bad = copy.deepcopy(built[name])
    bad.result = _perturb(bad.result)
    if getattr(bad, "posterior", None) is not None:  # a conjugate update checks its posterior
        post = bad.posterior
        bad.posterior = type(post)(*[_perturb(v) for v in post.params.values()])
    with pytest.raises(VerificationError):
        bad.verify()


@pytest.mark.parametrize(
    "integrand, lo, hi, exact",
    [
        ("exp(-x^2/2)/sqrt(2*pi)*(x - 1)^2", -sympy.oo, sympy.oo, 2),
        ("x^3*exp(-2*x)", 0, sympy.oo, sympy.Rational(3, 8)),
        ("1/(1 + x^2)", -sympy.oo, sympy.oo, sympy.pi),
        ("sqrt(x)*log(x)", 0, 1, -sympy.Rational(4, 9)),
        ("exp(-x^2)*log(exp(-x^2)/exp(-(x - 1)^2))", -sympy.oo, sympy.oo, sympy.sqrt(sympy.pi)),
        ("sin(40*x)^2", 0, 3, sympy.Rational(3, 2) - sympy.sin(240) / 160),  # the slow path
    ],
)
def test_kl_quadrature_against_closed_forms(integrand, lo, hi, exact):
    """The double-exponential rule of the KL checks (mpmath's quad where it does not settle),
    including the tails where the float density underflows inside a log ratio."""
    from symml.steps.info import _quad

    x = sympy.Symbol("x", real=True)
    f = sm.expr(integrand).xreplace({sympy.Symbol("x"): x})
    got = complex(_quad(sympy.Integral(f, (x, lo, hi))))
    assert got == pytest.approx(complex(sympy.N(exact, 20)), rel=1e-11, abs=1e-12)
