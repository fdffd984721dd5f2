"""The function tables of the language: element-wise functions, vector and matrix functions,
linear algebra, and the calculus and algebra calls (``diff``, ``taylor``, ``integrate``,
``subs``...), each checking its arguments; the mathematics library is in
:mod:`symml.lang.library`.
"""

from __future__ import annotations

import sympy

from .. import functions as F
from .._limits import time_limit
from ..errors import (
    ArgumentError,
    ShapeError,
    UndefinedNameError,
)
from . import library as LIB
from . import matexpr as ME
from .ops import (
    Matrix,
    _apply,
    _as_vec,
    _guard_int_arg,
    _guarded_rebuild,
    _inv,
    _is_mat,
    _mean,
    _norm,
    _norm_ord,
    _outer,
    _square,
    _sum,
    dot,
)
from .program import EvaluationRequest


class _Keyword:
    """``name = value`` inside a call's argument list."""

    def __init__(self, key, value):
        self.key, self.value = key, value


class _Dist(LIB.DistValue):
    """``Normal(mu, s)``: on the right of ``~``, or an argument of pdf, kl, mean..."""


# ---------------------------------------------------------------------------------------
# elementwise functions and builtins


def _log(x, base=None):
    return sympy.log(x) if base is None else sympy.log(x, base)


def _factorial(n):
    return sympy.factorial(_guard_int_arg("factorial")(n))


def _gamma(x):
    return sympy.gamma(_guard_int_arg("gamma")(x))


def _heaviside(x, h0=0):
    return sympy.Heaviside(x, h0)


def _condition(c, where):
    if isinstance(c, (bool, sympy.logic.boolalg.Boolean)):
        return c
    raise ArgumentError(f"{where}: a condition is a comparison such as x > 0, got {c}")


def _piecewise(*args):
    """piecewise(v1, c1, v2, c2, ..., otherwise): the first vi whose ci holds."""
    pairs = [(args[i], _condition(args[i + 1], "piecewise")) for i in range(0, len(args) - 1, 2)]
    if len(args) % 2:
        pairs.append((args[-1], True))
    return sympy.Piecewise(*pairs)


def _logic(op):
    return lambda *cs: op(*[_condition(c, op.__name__.lower()) for c in cs])


def _binomial(n, k):
    _guard_int_arg("binomial")(n)
    _guard_int_arg("binomial")(k)
    return sympy.binomial(n, k)


# name -> (function, min args, max args); all apply elementwise to vectors and matrices.
ELEMENTWISE = {
    "exp": (sympy.exp, 1, 1),
    "log": (_log, 1, 2),
    "ln": (sympy.log, 1, 1),
    "sqrt": (sympy.sqrt, 1, 1),
    "abs": (sympy.Abs, 1, 1),
    "sign": (sympy.sign, 1, 1),
    "heaviside": (_heaviside, 1, 2),  # heaviside(x) = heaviside(x, 0); the 2nd: value at 0
    "sin": (sympy.sin, 1, 1),
    "cos": (sympy.cos, 1, 1),
    "tan": (sympy.tan, 1, 1),
    "asin": (sympy.asin, 1, 1),
    "acos": (sympy.acos, 1, 1),
    "atan": (sympy.atan, 1, 1),
    "atan2": (sympy.atan2, 2, 2),
    "sinh": (sympy.sinh, 1, 1),
    "cosh": (sympy.cosh, 1, 1),
    "tanh": (sympy.tanh, 1, 1),
    "asinh": (sympy.asinh, 1, 1),
    "acosh": (sympy.acosh, 1, 1),
    "atanh": (sympy.atanh, 1, 1),
    "sigmoid": (F.sigmoid, 1, 1),
    "softplus": (F.softplus, 1, 1),
    "relu": (F.relu, 1, 1),
    "erf": (sympy.erf, 1, 1),
    "erfc": (sympy.erfc, 1, 1),
    "gamma": (_gamma, 1, 1),
    "loggamma": (sympy.loggamma, 1, 1),
    "lgamma": (sympy.loggamma, 1, 1),
    "factorial": (_factorial, 1, 1),
    "binomial": (_binomial, 2, 2),
    "floor": (sympy.floor, 1, 1),
    "ceil": (sympy.ceiling, 1, 1),
    # so that printed results read back (symml.lang.printer): special functions, conditions
    "polygamma": (sympy.polygamma, 2, 2),
    "digamma": (sympy.digamma, 1, 1),
    "erfi": (sympy.erfi, 1, 1),
    "dirac": (sympy.DiracDelta, 1, 2),
    "piecewise": (_piecewise, 1, 200),
    "and": (_logic(sympy.And), 2, 200),
    "or": (_logic(sympy.Or), 2, 200),
    "not": (_logic(sympy.Not), 1, 1),
}

_CALCULUS = {"diff", "grad", "jacobian", "hessian", "taylor", "integrate", "limit"}
_ALGEBRA = {"simplify", "expand", "factor", "subs", "evaluate"}
_VECTOR = {"dot", "norm", "sum", "mean", "transpose", "trace", "det", "inv", "outer", "min", "max"}
_LINALG = {"rank", "cross", "pinv", "eigenvalues"}  # symml.linalg, see _linalg_funcs

#: Every function name the language knows.
FUNCTION_NAMES = sorted(
    set(ELEMENTWISE) | _CALCULUS | _ALGEBRA | _VECTOR | _LINALG | set(LIB.LIBRARY)
)

_CONSTANTS = {"pi": sympy.pi, "inf": sympy.oo, "nan": sympy.nan, "zoo": sympy.zoo}


VECTOR_FUNCS = {
    "dot": (dot, 2, 2),
    "norm": (lambda v, ord=None: _norm(v) if ord is None else _norm_ord(v, ord), 1, 2),
    "sum": (_sum, 1, 1),
    "mean": (_mean, 1, 1),
    "transpose": (lambda m: Matrix(m).T if _is_mat(m) else m, 1, 1),
    "trace": (lambda m: _square(m, "trace").trace(), 1, 1),
    "det": (lambda m: _square(m, "det").det(), 1, 1),
    "inv": (_inv, 1, 1),
    "outer": (lambda u, v: _outer(_as_vec(u, "outer"), _as_vec(v, "outer")), 2, 2),
    "min": (lambda *a: sympy.Min(*[e for x in a for e in (x if _is_mat(x) else [x])]), 1, 99),
    "max": (lambda *a: sympy.Max(*[e for x in a for e in (x if _is_mat(x) else [x])]), 1, 99),
}


def _linalg_funcs() -> dict:
    """Linear-algebra functions of explicit matrices, computed by symml.linalg (exact)."""

    def call(name):
        def run(*args):
            from .. import linalg

            if not all(_is_mat(a) for a in args):
                raise ShapeError(f"{name} needs vectors or matrices, got a scalar")
            if name == "eigenvalues":
                vals = [e.value for e in linalg.eig(args[0]) for _ in range(e.multiplicity)]
                return Matrix(vals)
            out = getattr(linalg, name)(*args)
            return Matrix(out) if isinstance(out, sympy.MatrixBase) else sympy.Integer(out)

        return run

    return {"rank": (call("rank"), 1, 1), "cross": (call("cross"), 2, 2),
            "pinv": (call("pinv"), 1, 1), "eigenvalues": (call("eigenvalues"), 1, 1)}  # fmt: skip


VECTOR_FUNCS.update(_linalg_funcs())


def _matexpr_call(name, args):
    """A vector/matrix function with a matrix-expression argument (``trace(A*X)``)."""
    if name not in ME.FUNCS:
        raise ShapeError(
            f"{name} is not defined for matrix symbols of symbolic size; it needs explicit "
            f"entries. With matrix symbols use {', '.join(sorted(ME.FUNCS))} or matrix_grad"
        )
    return ME.FUNCS[name](*args)


def _arity(name, args, lo, hi):
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise ArgumentError(f"{name} takes {want} argument(s), got {len(args)}")


def _call_lambda(lam: sympy.Lambda, args):
    mapping = {}
    for var, val in zip(lam.variables, args):
        mapping[var] = val
    body = lam.expr
    if any(_is_mat(v) for v in args) or _is_mat(body):
        # vector arguments: substitute entries (functions of vectors are written with dot, @...)
        raise ArgumentError("user functions take scalar arguments; apply them entry by entry")
    return _guarded_rebuild(body, mapping)


def _flat_symbols(v, what):
    items = list(v) if _is_mat(v) else [v]
    out = []
    for s in items:
        if not isinstance(s, sympy.Symbol):
            raise ArgumentError(f"{what}: expected a variable, got {s}")
        out.append(s)
    return out


def _calculus_call(name, args, scope):
    """A calculus or algebra call (``diff``, ``grad``, ``taylor``, ``integrate``, ``limit``,
    ``simplify``, ``subs``...): positional arguments first, then ``name = value`` ones."""
    pos = [a for a in args if not isinstance(a, _Keyword)]
    kws = [a for a in args if isinstance(a, _Keyword)]
    for a in pos:
        scope.need_value(a)
    if name in ("diff", "grad", "jacobian", "hessian", "integrate", "limit", "simplify",
                "expand", "factor") and kws:
        raise ArgumentError(f"{name} takes no 'name = value' arguments")
    if not pos:
        raise ArgumentError(f"{name} needs an expression as its first argument")
    f, rest = pos[0], pos[1:]
    if name in _CALLS:
        return _CALLS[name](name, f, rest, kws)
    raise UndefinedNameError(f"unknown function '{name}'")  # pragma: no cover


def _diff_call(name, f, rest, kws):
    from .. import calculus as C

    if not rest:
        raise ArgumentError("diff needs a variable: diff(f, x) or diff(f, x, 2)")
    spec = []
    for r in rest:
        if isinstance(r, sympy.Integer):
            spec.append(int(r))
        else:
            spec.extend(_flat_symbols(r, "diff"))
    return C.diff(f, *spec)


def _grad_call(name, f, rest, kws):
    from .. import calculus as C

    if name == "grad" and len(rest) == 1 and isinstance(rest[0], sympy.MatrixSymbol):
        from ..matrixcalc import matrix_grad

        return matrix_grad(f, rest[0])  # grad(f, X) of a matrix symbol: in closed form
    if len(rest) < 1:
        raise ArgumentError(f"{name} needs variables: {name}(f, [x, y]) or {name}(f, w)")
    vs = [s for r in rest for s in _flat_symbols(r, name)]
    return getattr(C, name)(f, vs)


def _taylor_call(name, f, rest, kws):
    from .. import calculus as C

    at = {}
    order = None
    for k in kws:
        key = k.key
        if not isinstance(key, sympy.Symbol):
            raise ArgumentError("taylor points are written 'x = 0'")
        at[key] = k.value
    for r in rest:
        if isinstance(r, sympy.Integer):
            order = int(r)
        else:
            raise ArgumentError(
                "taylor(f, x = 0, y = 0, order): the order must be a whole number"
            )
    if not at:
        raise ArgumentError("taylor needs an expansion point: taylor(f, x = 0, 3)")
    if order is None:
        raise ArgumentError("taylor needs an order: taylor(f, x = 0, 3)")
    return C.taylor(f, at, order)


def _integrate_call(name, f, rest, kws):
    """integrate(f, x) / integrate(f, x, y): indefinite; integrate(f, x, a, b[, y, c, d]):
    groups of (variable, lower, upper) when the count is a multiple of three."""
    from .. import calculus as C

    limits = []
    if len(rest) % 3 == 0 and rest:
        for v, lo, hi in zip(rest[::3], rest[1::3], rest[2::3]):
            if not isinstance(v, sympy.Symbol):
                raise ArgumentError(f"integrate(f, x, a, b): expected a variable, got {v}")
            limits.append((v, lo, hi))
    else:
        for v in rest:
            if not isinstance(v, sympy.Symbol):
                raise ArgumentError(
                    f"integrate(f, x) or integrate(f, x, a, b): expected a variable, got {v}"
                )
            limits.append(v)
    if not limits:
        raise ArgumentError("integrate needs a variable: integrate(f, x)")
    return C.integrate(f, *limits)


def _limit_call(name, f, rest, kws):
    if len(rest) != 2 or not isinstance(rest[0], sympy.Symbol) or _is_mat(f):
        raise ArgumentError("limit(f, x, a): a scalar f, a variable x and a point a")
    try:  # SymPy substitutes the point: refuse the numbers that would never finish
        _guarded_rebuild(f, {rest[0]: rest[1]})
    except ArgumentError:
        pass  # 0^-1 at the point is what limits are for
    with time_limit(None, "limit"):
        return sympy.limit(f, rest[0], rest[1])


def _algebra_call(name, f, rest, kws):
    from .. import calculus as C

    if name == "simplify":
        return C.simplify(f)
    with time_limit(None, name):
        return _apply(sympy.expand if name == "expand" else sympy.factor, f)


def _subs_call(name, f, rest, kws):
    mapping = {}
    for k in kws:
        key = k.key
        if _is_mat(key) and _is_mat(k.value):
            if key.shape != k.value.shape:
                raise ShapeError(
                    f"{name}: value of shape {k.value.shape} for shape {key.shape}"
                )
            mapping.update(dict(zip(key, k.value)))
        elif isinstance(key, sympy.Symbol):
            mapping[key] = k.value
        else:
            raise ArgumentError(f"{name}(f, x = value): left of '=' must be a variable")
    if rest:
        raise ArgumentError(f"{name}(f, x = value, ...) takes values as 'name = value'")
    if name == "subs":
        return _apply(lambda e: _subs(e, mapping), f)
    return EvaluationRequest(f, {str(k): v for k, v in mapping.items()})


#: The calculus and algebra calls: name -> handler(name, f, positional rest, keywords).
_CALLS = {
    "diff": _diff_call,
    "grad": _grad_call, "jacobian": _grad_call, "hessian": _grad_call,
    "taylor": _taylor_call,
    "integrate": _integrate_call,
    "limit": _limit_call,
    "simplify": _algebra_call, "expand": _algebra_call, "factor": _algebra_call,
    "subs": _subs_call, "evaluate": _subs_call,
}  # fmt: skip


def _subs(e, mapping):
    """Substitute; a derivative's own variable stays as an unevaluated Subs (d/dy f(y) at
    y = exp(x) is not a derivative with respect to exp(x))."""
    if isinstance(e, sympy.Basic) and any(
        k in d.variables for d in e.atoms(sympy.Derivative) for k in mapping
    ):
        return sympy.Subs(e, tuple(mapping), tuple(mapping.values()))
    return _guarded_rebuild(e, mapping)


