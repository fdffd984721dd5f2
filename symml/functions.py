"""The elementwise functions of ML formulas that SymPy lacks, as real SymPy Functions.

``sigmoid``, ``softplus`` and ``relu`` stay named (they never expand into exponentials on
their own), differentiate to their familiar forms, print by name, evaluate numerically, and
rewrite to elementary functions on request (``.rewrite(sympy.exp)``).

Kink conventions (followed exactly by compiled code):

* ``relu'(0) = heaviside(0) = 0``: ``diff(relu(x), x)`` is ``Heaviside(x, 0)``.
* ``abs'(0) = sign(0) = 0``: with real symbols ``diff(abs(x), x)`` is ``sign(x)``.

>>> import sympy
>>> x = sympy.Symbol("x", real=True)
>>> sigmoid(x).diff(x)
(1 - sigmoid(x))*sigmoid(x)
>>> softplus(x).diff(x)
sigmoid(x)
>>> relu(x).diff(x)
Heaviside(x, 0)
>>> sigmoid(0), softplus(0), relu(-3)
(1/2, log(2), 0)
"""

from __future__ import annotations

import math

import sympy
from sympy import Function, Heaviside, S, exp, log

__all__ = ["sigmoid", "softplus", "relu", "heaviside", "CUSTOM_FUNCTIONS", "NUMERICS"]


class sigmoid(Function):  # noqa: N801 - named as written in formulas
    r"""The logistic function :math:`\sigma(x) = 1/(1 + e^{-x})`.

    >>> import sympy
    >>> sigmoid(0), sympy.N(sigmoid(2), 6)
    (1/2, 0.880797)"""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return S.Half
        if x is S.Infinity:
            return S.One
        if x is S.NegativeInfinity:
            return S.Zero
        if x.is_Float:
            return _sigmoid_exact(x)

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return _sigmoid_exact(x)

    _eval_rewrite_as_tractable = _eval_rewrite_as_exp

    def _eval_evalf(self, prec):
        return _sigmoid_exact(self.args[0])._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        if self.args[0].is_extended_real:
            return True

    def _eval_is_finite(self):
        if self.args[0].is_extended_real:
            return True

    def _latex(self, printer, exp=None):
        s = rf"\sigma\left({printer._print(self.args[0])}\right)"
        return f"{s}^{{{exp}}}" if exp else s


class softplus(Function):  # noqa: N801
    r"""Softplus :math:`\log(1 + e^{x})`, whose derivative is the sigmoid.

    >>> import sympy
    >>> softplus(0), softplus(sympy.Symbol("z")).rewrite(sympy.log)
    (log(2), log(exp(z) + 1))"""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return log(2)
        if x is S.Infinity:
            return S.Infinity
        if x is S.NegativeInfinity:
            return S.Zero
        if x.is_Float:
            return _softplus_exact(x)

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, x, **kwargs):
        return _softplus_exact(x)

    _eval_rewrite_as_exp = _eval_rewrite_as_log
    _eval_rewrite_as_tractable = _eval_rewrite_as_log

    def _eval_evalf(self, prec):
        return _softplus_exact(self.args[0])._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        if self.args[0].is_extended_real:
            return True

    def _latex(self, printer, exp=None):
        s = rf"\operatorname{{softplus}}\left({printer._print(self.args[0])}\right)"
        return f"{s}^{{{exp}}}" if exp else s


class relu(Function):  # noqa: N801
    r"""Rectified linear unit :math:`\max(0, x)`; derivative ``Heaviside(x, 0)`` (0 at the kink).

    >>> relu(3), relu(-2)
    (3, 0)"""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_extended_nonnegative:
            return x
        if x.is_extended_nonpositive:
            return S.Zero

    def fdiff(self, argindex=1):
        return Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, x, **kwargs):
        return sympy.Max(0, x)

    def _eval_rewrite_as_Heaviside(self, x, **kwargs):
        return x * Heaviside(x, 0)

    def _eval_rewrite_as_Piecewise(self, x, **kwargs):
        return sympy.Piecewise((x, x > 0), (0, True))

    _eval_rewrite_as_exp = _eval_rewrite_as_Piecewise

    def _eval_evalf(self, prec):
        x = self.args[0]._eval_evalf(prec)
        if x is not None and x.is_number:
            return sympy.Max(0, x)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_nonnegative(self):
        if self.args[0].is_extended_real:
            return True

    def _latex(self, printer, exp=None):
        s = rf"\operatorname{{relu}}\left({printer._print(self.args[0])}\right)"
        return f"{s}^{{{exp}}}" if exp else s


def heaviside(x):
    """Heaviside step with symml's convention ``heaviside(0) = 0``.

    >>> heaviside(0), heaviside(2)
    (0, 1)"""
    return Heaviside(x, 0)


#: Name -> class of the functions symml adds to SymPy.
CUSTOM_FUNCTIONS = {"sigmoid": sigmoid, "softplus": softplus, "relu": relu}


# ------------------------------------------------------------------------------------------
# numerics: how each function is evaluated in floating point, written once for every backend
# ------------------------------------------------------------------------------------------
#
# The stable forms, whatever the number type:
#   sigmoid(u)  = 1/(1 + exp(-u))          for u >= 0,   exp(u)/(1 + exp(u))   for u < 0
#   softplus(u) = u + log1p(exp(-u))       for u > 0,    log1p(exp(u))         for u <= 0
# so exp only ever sees a non-positive argument (no overflow, no 0*inf, no cancellation in
# 1 - sigmoid: compiled code rewrites that to sigmoid(-u)). Each backend below is the same
# formula in its own vocabulary; compiled code, fitting's extended-precision polish and
# SymPy's own evaluation all take theirs from here.


def _sigmoid_exact(x):
    """SymPy form (evaluation of Floats and ``rewrite(exp)``)."""
    return S.One / (1 + exp(-x))


def _softplus_exact(x):
    return log(1 + exp(x))


def sigmoid_float(u: float) -> float:
    """Stable sigmoid of one float (plain Python; the Numba backend compiles this).

    Branch-free over one ``exp(-|u|)``, which a compiler shares with :func:`softplus_float`
    of the same argument."""
    e = math.exp(-abs(u))
    return (1.0 if u >= 0.0 else e) / (1.0 + e)


def softplus_float(u: float) -> float:
    """Stable softplus of one float (plain Python; the Numba backend compiles this)."""
    return max(u, 0.0) + math.log1p(math.exp(-abs(u)))


def sigmoid_mp(u):
    """Stable sigmoid of one mpmath number (at the working precision)."""
    import mpmath

    if u >= 0:
        return 1 / (1 + mpmath.exp(-u))
    e = mpmath.exp(u)
    return e / (1 + e)


def softplus_mp(u):
    """Stable softplus of one mpmath number (at the working precision)."""
    import mpmath

    if u > 0:
        return u + mpmath.log1p(mpmath.exp(-u))
    return mpmath.log1p(mpmath.exp(u))


def sigmoid_array(u, xp):
    """Stable sigmoid of an array in the array namespace ``xp`` (``jax.numpy``, ...).

    Branch-free (``where`` over one ``exp(-|u|)``), so it traces and differentiates."""
    e = xp.exp(-xp.abs(u))
    return xp.where(u >= 0, 1.0, e) / (1.0 + e)


def softplus_array(u, xp):
    """Stable softplus of an array in the array namespace ``xp``."""
    return xp.maximum(u, 0.0) + xp.log1p(xp.exp(-xp.abs(u)))


#: backend -> function name -> how compiled code evaluates it. ``numpy`` names library
#: ufuncs with the same stable formulas in C (``expit``, ``logaddexp``); the others are the
#: functions above.
NUMERICS = {
    "numpy": {"sigmoid": "scipy.special.expit({})", "softplus": "numpy.logaddexp(0.0, {})"},
    "numba": {"sigmoid": sigmoid_float, "softplus": softplus_float},
    "jax": {"sigmoid": sigmoid_array, "softplus": softplus_array},
    "mpmath": {"sigmoid": sigmoid_mp, "softplus": softplus_mp},
}
