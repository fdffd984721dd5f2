"""Exact calculus: derivatives, gradients, Jacobians, Hessians, Taylor series, integrals.

Every function accepts language text or SymPy objects, and names or Symbols for variables
(a vector name such as ``"w"`` stands for all its components). Differentiation goes through
one internal function, :func:`_d`, so its engine can change without touching callers.

>>> import symml as sm
>>> sm.grad("x^2*y + y^3", ["x", "y"]).T
Matrix([[2*x*y, x**2 + 3*y**2]])
>>> sm.taylor("exp(x)*cos(y)", {"x": 0, "y": 0}, 2)
x**2/2 + x - y**2/2 + 1
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import NamedTuple

import sympy

from ._convert import as_expr, as_symbol, as_symbols
from ._diff import DiffContext, deep
from ._limits import budgeted, time_limit
from ._tidy import simplified_by_default
from .errors import ArgumentError, DerivationError, ShapeError
from .symbols import vector

__all__ = ["diff", "grad", "jacobian", "hessian", "hvp", "Hvp", "taylor", "integrate", "simplify"]


def _d(expr, var, ctx: DiffContext | None = None):
    """d expr / d var through the one engine, :mod:`symml._diff` (pass ``ctx`` to share its
    memo tables across several derivatives of one job)."""
    return (ctx or DiffContext()).d(expr, var)


def _context(mode) -> DiffContext:
    if mode not in ("auto", "forward", "reverse"):
        raise ArgumentError(f"mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
    return DiffContext(mode)


def _scalar(f, what):
    if isinstance(f, sympy.MatrixBase):
        if f.shape == (1, 1):
            return f[0, 0]
        raise ShapeError(f"{what} needs a scalar expression, got a {f.shape[0]}x{f.shape[1]} matrix")
    if isinstance(f, sympy.core.relational.Relational):
        raise ArgumentError(f"{what} needs an expression, got the relation {f}")
    return f


@simplified_by_default
@budgeted("diff")
@deep
def diff(f, *vars):
    """Derivative of ``f``: ``diff(f, x)``, ``diff(f, x, x)`` or ``diff(f, x, 2)`` (second),
    ``diff(f, x, y)`` (mixed). A matrix ``f`` is differentiated entry by entry.

    >>> import symml as sm
    >>> sm.diff("x^2*sin(x)", "x")
    x**2*cos(x) + 2*x*sin(x)
    >>> sm.diff("sigmoid(x)", "x", 2)
    (sigmoid(x) - 1)*(2*sigmoid(x) - 1)*sigmoid(x)
    >>> sm.diff("sigmoid(x)", "x", 2, simplify=False)  # as derived, see sm.simplification
    (1 - sigmoid(x))**2*sigmoid(x) - (1 - sigmoid(x))*sigmoid(x)**2
    """
    f = as_expr(f)
    if not vars:
        raise ArgumentError("diff needs at least one variable: diff(f, 'x')")
    seq: list = []
    for v in vars:
        if isinstance(v, bool):
            raise ArgumentError(f"invalid variable {v!r}")
        if isinstance(v, int) or isinstance(v, sympy.Integer):
            n = int(v)
            if not seq:
                raise ArgumentError("the order must follow a variable: diff(f, 'x', 2)")
            if n < 0 or n > 100:
                raise ArgumentError(f"derivative order must be between 0 and 100, got {n}")
            seq.extend([seq[-1]] * (n - 1))
            if n == 0:
                seq.pop()
            continue
        seq.extend(as_symbols(v, [f]))
    out = f
    ctx = DiffContext()
    for v in seq:
        out = ctx.d(out, v)
    return out


@simplified_by_default
@budgeted("grad")
@deep
def grad(f, vars, mode: str = "auto") -> sympy.Matrix:
    """Gradient of a scalar ``f`` as a column Matrix, in the order of ``vars``.

    ``mode="forward"`` gives SymPy's own forms, ``"reverse"`` one backpropagation sweep;
    the default ``"auto"`` takes forward for textbook sizes and reverse above 500
    (subexpression, variable) pairs (an MLP loss), see :mod:`symml._diff`.

    >>> import symml as sm
    >>> sm.grad("log(1 + exp(w1*x1 + w2*x2))", "w1 w2").T
    Matrix([[x1*sigmoid(w1*x1 + w2*x2), x2*sigmoid(w1*x1 + w2*x2)]])
    """
    f = _scalar(as_expr(f), "grad")
    vs = as_symbols(vars, [f])
    return sympy.ImmutableMatrix(_context(mode).gradient(f, vs))


@simplified_by_default
@budgeted("jacobian")
@deep
def jacobian(F, vars, mode: str = "auto") -> sympy.Matrix:
    """Jacobian of a vector ``F`` (rows: entries of F; columns: variables).

    >>> import symml as sm
    >>> sm.jacobian(["x*y", "x + y"], ["x", "y"])
    Matrix([
    [y, x],
    [1, 1]])
    """
    F = as_expr(F)
    if not isinstance(F, sympy.MatrixBase):
        F = sympy.ImmutableMatrix([_scalar(F, "jacobian")])
    if F.shape[1] != 1 and F.shape[0] != 1:
        raise ShapeError(f"jacobian needs a vector, got a {F.shape[0]}x{F.shape[1]} matrix")
    entries = list(F)
    vs = as_symbols(vars, entries)
    return sympy.ImmutableMatrix(_context(mode).jacobian(entries, vs))


@simplified_by_default
@budgeted("hessian")
@deep
def hessian(f, vars, mode: str = "auto") -> sympy.Matrix:
    """Hessian of a scalar ``f``: the Jacobian of its gradient, each symmetric entry
    derived once.

    >>> import symml as sm
    >>> sm.hessian("x^2*y + y^3", ["x", "y"])
    Matrix([
    [2*y,   2*x],
    [2*x, 6*y]])
    """
    f = _scalar(as_expr(f), "hessian")
    vs = as_symbols(vars, [f])
    return sympy.ImmutableMatrix(_context(mode).hessian(f, vs))


class Hvp(NamedTuple):
    """A Hessian-vector product: ``product = H(f) @ direction`` (column Matrices)."""

    product: sympy.ImmutableMatrix
    direction: sympy.ImmutableMatrix


@deep
def hvp(f, vars, direction=None, mode: str = "auto") -> Hvp:
    """Hessian-vector product ``H(f) @ v``: the derivative of the gradient along ``v``.

    One forward pass with a vector seed over the gradient, so the result grows like the
    gradient, not like the Hessian: Newton-CG and trust-region methods can use it on models
    whose full Hessian is too large to write out. Compile it with the direction as an
    argument: ``sm.compile(h.product, [params, h.direction, ...])``.

    Parameters
    ----------
    f : expression
        A scalar, as text or SymPy.
    vars : names or Symbols
        The variables of the gradient and Hessian, in order.
    direction : names, Symbols or Matrix, optional
        The vector ``v`` (as many symbols as ``vars``). By default a new vector ``v[n]``
        (``v_[n]``, ... if ``f`` already uses the name).
    mode : {"auto", "forward", "reverse"}, optional
        As for :func:`grad`; large ``f`` use reverse over forward (the gradient of the
        directional derivative), so the product costs a few gradients.

    Returns
    -------
    Hvp
        ``(product, direction)``, both column Matrices.

    Examples
    --------
    >>> import symml as sm
    >>> h = sm.calculus.hvp("x^2*y + y^3", ["x", "y"])
    >>> h.direction.T
    Matrix([[v[0], v[1]]])
    >>> h.product.T
    Matrix([[2*v[0]*y + 2*v[1]*x, 2*v[0]*x + 6*v[1]*y]])
    """
    f = _scalar(as_expr(f), "hvp")
    vs = as_symbols(vars, [f])
    if direction is None:
        used = {getattr(s, "vector", s.name) for s in f.free_symbols} | {str(v) for v in vs}
        name = "v"
        while name in used:
            name += "_"
        us = list(vector(name, len(vs)))
    else:
        us = as_symbols(direction, [f])
        if len(us) != len(vs):
            raise ShapeError(f"hvp: the direction has {len(us)} entries, the variables {len(vs)}")
        if set(us) & set(vs):
            raise ArgumentError("hvp: the direction's symbols must differ from the variables")
    product = _context(mode).hvp(f, vs, us)
    return Hvp(sympy.ImmutableMatrix(product), sympy.ImmutableMatrix(us))


def _point(at, f):
    if not isinstance(at, Mapping) or not at:
        raise ArgumentError("taylor needs the expansion point as a mapping, e.g. {'x': 0, 'y': 0}")
    point = {}
    for k, v in at.items():
        sym = as_symbol(k, [f])
        val = as_expr(v)
        if isinstance(val, sympy.MatrixBase) or val.free_symbols & {sym}:
            raise ArgumentError(f"expansion point of {sym} must be a scalar not involving {sym}")
        point[sym] = val
    return point


@budgeted("taylor")
def taylor(f, at, order: int, seconds: float | None = None):
    """Taylor polynomial of ``f`` about the point ``at``, terms of total degree <= ``order``.

    Multivariate expansions include the mixed partials. There is no O() term. About a point
    a != 0 the polynomial is written in powers of ``(x - a)`` (``sympy.expand`` gives the
    power basis). At a removable singularity (``sin(x)/x`` at 0) the coefficients are
    limits, from SymPy's series; a point where ``f`` is not analytic (a pole, a branch
    point, a kink of abs/relu/max, a jump of sign/floor/Heaviside) is a DerivationError.

    >>> import symml as sm
    >>> sm.taylor("sin(x)", {"x": 0}, 5)
    x**5/120 - x**3/6 + x
    >>> sm.taylor("log(x)", {"x": 1}, 3)
    (x - 1)**3/3 - (x - 1)**2/2 + (x - 1)**1
    >>> sm.taylor("sin(x)/x", {"x": 0}, 4)
    x**4/120 - x**2/6 + 1
    """
    from . import _taylor

    f = _scalar(as_expr(f), "taylor")
    point = _point(at, f)
    if isinstance(order, bool) or not isinstance(order, (int, sympy.Integer)) or not 0 <= int(order) <= 30:
        raise ArgumentError(f"taylor order must be a whole number from 0 to 30, got {order!r}")
    order = int(order)
    where = ", ".join(f"{v} = {a}" for v, a in point.items())
    why = _taylor.kink(f, point)
    if why:
        raise DerivationError(f"f is not analytic at {where}: {why}; choose another expansion point")
    with time_limit(seconds, "the Taylor expansion"):
        try:
            values = dict(_taylor_coefficients(f, point, order))
        except _Undefined:
            # substitution gives 0/0 somewhere: a removable singularity, or not analytic
            values = _taylor.series_values(f, point, order)
    return _taylor.polynomial(values, point)


class _Undefined(Exception):
    """A partial derivative is undefined at the point when substituted."""


def _taylor_coefficients(f, point, order):
    """Yield (multi-index, value of the partial derivative at the point), by total degree.

    Each partial is derived from a lower one (memoized), so shared work is done once.
    """
    vs = list(point)
    derivs = {(0,) * len(vs): f}
    ctx = DiffContext()
    for total in range(order + 1):
        for alpha in _multi_indices(len(vs), total):
            if alpha not in derivs:
                # derive from the parent with one less in the last nonzero slot
                i = max(k for k, a in enumerate(alpha) if a)
                parent = list(alpha)
                parent[i] -= 1
                derivs[alpha] = _d(derivs[tuple(parent)], vs[i], ctx)
            value = derivs[alpha].subs(point)
            if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
                raise _Undefined(alpha)
            if value != 0:
                yield alpha, value


def _multi_indices(n, total):
    """Multi-indices of length n summing to total, in graded lexicographic order."""
    for combo in itertools.combinations_with_replacement(range(n), total):
        alpha = [0] * n
        for c in combo:
            alpha[c] += 1
        yield tuple(alpha)


@simplified_by_default
@budgeted("integrate")
def integrate(f, *limits, seconds: float | None = None):
    """Integral of ``f``: ``integrate(f, "x")`` (indefinite, no constant) or
    ``integrate(f, ("x", 0, 1))`` (definite); several limits integrate iteratively, the
    first innermost.

    Every answer is checked before it is returned (see :mod:`symml._integrate`): an
    antiderivative by differentiating it back to the integrand, a definite integral against
    numerical quadrature split at the integrand's kinks and jumps. When SymPy's first answer
    fails the check, other routes are tried (manualintegrate, relaxed or split assumptions,
    risch, Meijer G, the integrand term by term, piece by piece between its breakpoints).
    symml's sigmoid/softplus/relu are rewritten to elementary functions when needed.

    Raises
    ------
    DerivationError
        When no route gives an answer that passes its check (no closed form was found).
    LimitError
        When the search runs out of time (``seconds``, default 20 per call).

    >>> import symml as sm
    >>> sm.integrate("x*exp(x)", "x")
    (x - 1)*exp(x)
    >>> sm.integrate("x^2", ("x", 0, 1))
    1/3
    >>> sm.integrate("sqrt(x)*log(x)", ("x", 0, 1))
    -4/9
    >>> sm.integrate("abs(x - 1/3)", ("x", 0, 1))
    5/18
    """
    f = as_expr(f)
    if not limits:
        raise ArgumentError("integrate needs a variable: integrate(f, 'x') or integrate(f, ('x', 0, 1))")
    lims = []
    for lim in limits:
        if isinstance(lim, (tuple, list)):
            if len(lim) != 3:
                raise ArgumentError(f"a definite limit is (variable, lower, upper), got {lim!r}")
            v = as_symbol(lim[0], [f])
            lims.append((v, as_expr(lim[1]), as_expr(lim[2])))
        else:
            lims.append((as_symbol(lim, [f]),))
    from . import _integrate

    budget = _integrate._Budget(seconds)

    def one(e):
        for lim in lims:
            left = max(budget.left(), 0.1)
            if len(lim) == 1:
                e = _integrate.antiderivative(e, lim[0], seconds=left)
            else:
                e = _integrate.definite(e, *lim, seconds=left)
        return e

    if isinstance(f, sympy.MatrixBase):
        return f.applyfunc(one)
    return one(f)


@budgeted("simplify")
def simplify(f, seconds: float | None = None):
    """SymPy's simplify under a time limit (entry by entry for matrices).

    An expression of more than :data:`HUGE_NODES` tree nodes (the derivative of a
    200-statement chain has 40,000 operations), on which SymPy's simplify does not finish
    within the budget, is expanded when it is a polynomial (over its shared sub-expressions,
    :func:`symml._tidy.polynomial_form`) and otherwise returned as it is.

    >>> import symml as sm
    >>> sm.calculus.simplify("sin(x)^2 + cos(x)^2")
    1
    """
    f = as_expr(f)
    with time_limit(seconds, "simplification"):
        if isinstance(f, sympy.MatrixBase):
            return f.applyfunc(_simplify_one)
        return _simplify_one(f)


#: Above this many tree nodes ``simplify`` does not call SymPy's simplify.
HUGE_NODES = 3000


def _simplify_one(e):
    from ._tidy import larger_than, polynomial_form

    if not larger_than(e, HUGE_NODES):
        return sympy.simplify(e)
    poly = polynomial_form(e)
    if poly is not None and not larger_than(poly, HUGE_NODES) or (
        poly is not None and larger_than(e, 4 * HUGE_NODES)
    ):
        return poly
    return e


@budgeted("limit")
def limit(f, var, point, direction: str = "+-", seconds: float | None = None):
    """Limit of ``f`` as ``var`` tends to ``point``: two-sided (``"+-"``, the default), from
    above (``"+"``) or from below (``"-"``). A two-sided limit whose one-sided limits differ
    is a DerivationError saying so (with both values), never a silent one-sided answer.

    >>> import symml as sm
    >>> sm.calculus.limit("sin(x)/x", "x", 0)
    1
    >>> sm.calculus.limit("1/x", "x", 0, "+")
    oo
    """
    f = _scalar(as_expr(f), "limit")
    v = as_symbol(var, [f])
    a = as_expr(point)
    if isinstance(a, sympy.MatrixBase) or v in a.free_symbols:
        raise ArgumentError(f"the limit point must be a scalar not involving {v}, got {point!r}")
    if direction not in ("+-", "+", "-"):
        raise ArgumentError(f"direction must be '+-', '+' or '-', got {direction!r}")
    with time_limit(seconds, "the limit"):
        if a is sympy.S.Infinity:  # only one side exists at infinity
            return sympy.limit(f, v, a, "-")
        if a is sympy.S.NegativeInfinity:
            return sympy.limit(f, v, a, "+")
        if direction != "+-":
            return sympy.limit(f, v, a, direction)
        up, down = sympy.limit(f, v, a, "+"), sympy.limit(f, v, a, "-")
    if up != down:
        raise DerivationError(
            f"the two-sided limit of {f} at {v} = {a} does not exist: from above it is {up}, "
            f"from below {down}; ask for one side with direction='+' or '-'"
        )
    return up


__all__ += ["limit"]
