"""Compile expressions to fast functions: vectorized NumPy, fused Numba kernels, or JAX.

:func:`compile` turns one expression (or a list of them), written for *one row*, into a NumPy
function of explicitly ordered arguments. Scalars take numbers or arrays, a vector ``w[k]``
takes an array whose last axis has length ``k``; results broadcast over the leading (row)
axes. With ``grad=`` the function returns the value and its gradient in one call, sharing
every common subexpression; with ``reduce="sum"`` or ``"mean"`` it reduces over the rows
itself, computing linear forms over data vectors as matrix products (``X @ w``, ``X.T @ r``).

The pipeline: a backend-neutral plan (:mod:`symml.backends.plan`: arguments, numerically
safe rewrites, exact derivatives, linear forms and matrix-form blocks, symmetry, one CSE),
then one small emitter per backend, each a SymPy printer subclass with its module table:

* ``backend="numpy"`` (default; :mod:`symml.backends.numpy`): vectorized NumPy, reductions
  as matrix products, long inputs in cache-sized blocks of rows;
* ``backend="numba"`` (``pip install "symml[numba]"``; :mod:`symml.backends.numba`): one
  fused kernel over the rows that computes value, gradient and Hessian per row and
  accumulates them, in parallel over row blocks in a fixed order (reproducible), cached
  on disk;
* ``backend="jax"`` (``pip install "symml[jax]"``; :mod:`symml.backends.jax`):
  ``jax.numpy`` code in float64 that composes with ``jax.jit``, ``jax.vmap``, ``jax.grad``.

The generated source is ours (printed from SymPy objects), never user text; it stays
inspectable as :attr:`CompiledFunction.source` and is registered with :mod:`linecache`, so
a traceback through compiled code shows the failing line.

Kink conventions are followed exactly: ``relu'(0) = heaviside(0) = 0``, ``abs'(0) =
sign(0) = 0``; ``DiracDelta`` (the derivative of a step) compiles to 0, as in automatic
differentiation.

>>> import symml as sm
>>> x, y = sm.symbol("x"), sm.symbol("y")
>>> f = sm.compile(x**2 * y, [x, y], grad=[x, y])
>>> value, (dx, dy) = f([1.0, 2.0], 3.0)
>>> value, dx, dy
(array([ 3., 12.]), array([ 6., 12.]), array([1., 4.]))
"""

from __future__ import annotations

import builtins
import linecache
import math
import sys
import weakref
from typing import Any

import numpy
import sympy

from ._dask import call_reduced as _dask_call
from ._dask import is_dask as _is_dask
from ._limits import budgeted
from .backends import check_backend, current_backend, load_backend
from .backends.args import Arg as _Arg
from .backends.args import fresh_memo
from .backends.plan import build_plan
from .backends.printing import register_source
from .errors import ArgumentError, ShapeError

__all__ = ["compile", "CompiledFunction"]

_REDUCE = (None, "sum", "mean")
_RECURSION_LIMIT = 20000
# A reduced function processes long inputs in blocks of this many rows (cache-sized).
_BLOCK_ROWS = 1 << 13


# ------------------------------------------------------------------------------------------
# the compiled function
# ------------------------------------------------------------------------------------------


def _as_sympy(f) -> Any:
    try:
        from ._convert import as_expr
    except ImportError:  # the language front end is not available: SymPy objects only
        if isinstance(f, (sympy.Basic, sympy.MatrixBase)):
            return f
        if isinstance(f, (int, float)) and not isinstance(f, bool):
            return sympy.Float(f) if isinstance(f, float) else sympy.Integer(f)
        raise ArgumentError(f"compile: cannot convert {f!r}; pass a SymPy expression") from None
    return as_expr(f)


class CompiledFunction:
    """A function compiled from symbolic expressions by :func:`compile`.

    >>> import symml as sm
    >>> f = sm.compile("x^2 + y", ["x", "y"])
    >>> f.args, float(f(3.0, 1.0))
    (('x', 'y'), 10.0)

    Call it with one value per argument, positionally in the order of :attr:`args`.

    Attributes
    ----------
    args : tuple of str
        Argument names in call order; vectors and matrices show their shape (``"w[3]"``).
    grad : tuple of str or None
        Names the gradient is taken with respect to.
    reduce : {None, "sum", "mean"}
        Reduction over the leading (row) axes.
    source : str
        The generated Python source.
    exprs : tuple
        The SymPy expressions that were compiled (after conversion).
    backend : str
        ``"numpy"``, ``"numba"`` or ``"jax"``.
    """

    def __init__(self, func, source, plan, backend: str = "numpy"):
        self._func = func
        self.source = source
        specs, grad_specs = plan.specs, plan.grad_specs
        self._specs = tuple(specs)
        self._nd = tuple(len(a.shape) for a in specs)
        self.args = tuple(a.label for a in specs)
        self.grad = None if grad_specs is None else tuple(g.label for g in grad_specs)
        self.reduce = plan.reduce
        self.exprs = tuple(plan.exprs)
        self._single = plan.single
        #: the backend that runs it: "numpy", "numba" or "jax"
        self.backend = backend
        #: rows per block when a reduced function is fed long inputs (see ``__call__``)
        self.block_rows = _BLOCK_ROWS
        self._run = {"numpy": self._run_numpy, "numba": func, "jax": self._run_jax}[backend]

    def __call__(self, *values):
        specs = self._specs
        if len(values) != len(specs):
            raise ArgumentError(
                f"compiled function takes {len(specs)} argument(s) ({', '.join(self.args)}), "
                f"got {len(values)}"
            )
        out = _dispatch(self, values)
        if out is not NotImplemented:
            return out
        return self._run(values)

    def prepare(self, values):
        """Check ``values`` against the arguments: ``(float arrays, leading shapes, L, N)``.

        ``L`` is the broadcast leading (row) shape and ``N`` its size."""
        specs = self._specs
        arrays = []
        lead = []
        L = ()  # the leading shape, if all non-scalar leading shapes agree (the usual case)
        uniform = True
        for spec, v in zip(specs, values, strict=True):
            tv = type(v)
            if tv is numpy.ndarray and v.dtype == _F64:
                a = v
            elif tv is float:
                a = numpy.float64(v)
            else:
                a = _as_float_array(v, spec)
            shape = a.shape
            nd = len(spec.shape)
            if nd:
                if shape[len(shape) - nd :] != spec.shape or len(shape) < nd:
                    raise _shape_error(spec, shape)
                shape = shape[: len(shape) - nd]
            if shape and shape != L:
                if L:
                    uniform = False
                L = shape
            lead.append(shape)
            arrays.append(a)
        if not uniform:
            L = _broadcast_lead(specs, lead)
        N = math.prod(L)
        if self.reduce == "mean" and N == 0:
            raise ShapeError("reduce='mean' over zero rows is undefined")
        return arrays, lead, L, N

    def _run_numpy(self, values):
        arrays, lead, L, N = self.prepare(values)
        if not self.reduce:
            return self._func(*arrays, L, N)
        B = self.block_rows
        if len(L) == 1 and N > B + B // 2:
            # Rows in blocks: every temporary of a block stays in cache, and the second
            # pass over a block of X (X.T @ r after X @ w) reads it from cache, not memory.
            func = self._func
            rows = [r == L for r in lead]
            out = None
            for i in range(0, N, B):
                j = min(i + B, N)
                part = func(
                    *[a[i:j] if r else a for a, r in zip(arrays, rows, strict=True)],
                    (j - i,),
                    j - i,
                )
                out = part if out is None else _tree_add(out, part)
        else:
            out = self._func(*arrays, L, N)
        if self.reduce == "mean":
            out = _tree_scale(out, 1.0 / N)
        return out

    def _run_jax(self, values):
        from .backends import jax as _jax

        return _jax.run(self, values)

    def __repr__(self) -> str:
        out = "value" if self._single else f"{len(self.exprs)} values"
        if self.grad is not None:
            out += f" + grad[{', '.join(self.grad)}]"
        extra = f", reduce={self.reduce!r}" if self.reduce else ""
        return f"<CompiledFunction ({', '.join(self.args)}) -> {out}{extra}>"


_F64 = numpy.dtype(numpy.float64)


def _dispatch(f: CompiledFunction, values) -> Any:
    """The one place where a call may leave the in-memory path.

    Returns ``NotImplemented`` to run ``f`` on its backend as usual. This is the hook for
    inputs that are not in-memory arrays (the Dask reductions of issue 13 plug in here:
    a ``reduce="sum"`` function called on Dask arrays sums per-block results)."""
    for v in values:
        if type(v) is not numpy.ndarray and type(v) is not float and _is_dask(v):
            return _dask_call(f, values)  # per-block partial sums (symml/_dask.py)
    return NotImplemented


def _broadcast_lead(specs, lead) -> tuple:
    try:
        return numpy.broadcast_shapes(*lead)
    except ValueError:
        detail = ", ".join(f"{s.label}: {sh}" for s, sh in zip(specs, lead, strict=True))
        raise ShapeError(
            f"the arguments' leading (row) shapes do not broadcast together ({detail})"
        ) from None


def _shape_error(spec: _Arg, shape) -> ShapeError:
    nd = len(spec.shape)
    want = ", ".join(map(str, spec.shape))
    return ShapeError(
        f"argument {spec.label}: expected an array whose last "
        f"{'axis has' if nd == 1 else 'axes have'} length {want} "
        f"(shape (..., {want})), got shape {shape}"
    )


def _tree_add(a, b):
    if isinstance(a, tuple):
        return tuple(_tree_add(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, list):
        return [_tree_add(x, y) for x, y in zip(a, b, strict=True)]
    if type(a) is numpy.ndarray and a.ndim:
        a += b
        return a
    return a + b


def _tree_scale(a, s):
    if isinstance(a, tuple):
        return tuple(_tree_scale(x, s) for x in a)
    if isinstance(a, list):
        return [_tree_scale(x, s) for x in a]
    return a * s


def _as_float_array(v, spec: _Arg):
    try:
        a = numpy.asarray(v)
        if a.dtype.kind == "c":
            raise ArgumentError(f"argument {spec.label}: complex values are not supported")
        return a.astype(float, copy=False)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ArgumentError):
            raise
        raise ArgumentError(
            f"argument {spec.label}: expected a number or an array of numbers, got "
            f"{type(v).__name__} ({exc})"
        ) from None


@budgeted("compile")
def compile(  # noqa: A001 - the public name of the contract
    f,
    args,
    grad=None,
    reduce: str | None = None,
    backend: str | None = None,
) -> CompiledFunction:
    """Compile expressions to a vectorized NumPy function with ordered arguments.

    Parameters
    ----------
    f : expression, Matrix, or list of them
        Language text or SymPy. A list gives a tuple of results. A Matrix (a Hessian, say)
        gives an array with the matrix axes last; a column vector gives one axis.
    args : names, Symbols, Matrices, or a mapping such as ``prog.params``
        The function's arguments in call order (``["w", "b", "x", "y"]`` or ``"x, y"``).
        A scalar name takes a number or an array; a vector ``w`` of length ``k`` takes an
        array whose last axis has length ``k`` (``n`` rows of a data vector ``x[3]`` are an
        ``(n, 3)`` array); a matrix ``W[r, c]`` takes an array whose last two axes are
        ``(r, c)``. Results broadcast over the leading axes.
    grad : names, optional
        Also return the derivatives with respect to these arguments: the call returns
        ``(value, [g_1, ..., g_m])``; a vector's gradient has its components on the last
        axis. Value and gradient share every common subexpression.
    reduce : {None, "sum", "mean"}
        Reduce value and gradient over the leading (row) axes inside the call. Linear forms
        over data vectors are then computed as matrix products (``X @ w``, ``X.T @ r``,
        and ``X.T @ (s * X)`` for a Hessian block ``s * x[i] * x[j]``).
    backend : {"numpy", "numba", "jax"}, optional
        Who runs the function (default ``"numpy"``, or the ``backend=`` of an enclosing
        ``minimize``/``fit`` call) (see the module docstring and docs/compile.md). ``numba`` and
        ``jax`` are extras (``pip install "symml[numba]"``, ``"symml[jax]"``); all give the
        same results.

    Returns
    -------
    CompiledFunction
        Results are float arrays of the inputs' broadcast leading shape (a NumPy float when
        that shape is ``()``), including constant results.

    Notes
    -----
    Compiled code is real double-precision arithmetic, and never drops an imaginary part:

    * at compile time, a constant subexpression that is not real (``log(-3)``, ``sqrt(-2)``,
      ``asin(2)``, ``I``), undefined (``log(0)``, ``0/0``), infinite (``atanh(1)``) or
      beyond the float range (``10^400``) is an ArgumentError;
    * at call time, where the exact value at the given point is not real (``log(x)`` or
      ``sqrt(x)`` at ``x < 0``, ``loggamma(x)`` at a negative non-integer, ``asin(x)`` at
      ``|x| > 1``) the result is ``nan`` (NumPy may also warn). :func:`symml.minimize` and
      :func:`symml.fit` treat a ``nan`` objective as an error or a rejected step, never as
      a value; complex arguments are an ArgumentError.

    Raises
    ------
    ArgumentError
        Unknown or duplicate variables, a free symbol missing from ``args``, a function
        that cannot be compiled, or (at call time) the wrong number of values.
    ShapeError
        (At call time) an array whose last axis does not fit its vector.

    Examples
    --------
    >>> import numpy as np
    >>> import symml as sm
    >>> w, x = sm.vector("w", 2), sm.vector("x", 2)
    >>> b, y = sm.symbol("b"), sm.symbol("y")
    >>> z = w[0] * x[0] + w[1] * x[1] + b
    >>> nll = sm.compile(sm.softplus(z) - y * z, [w, b, x, y], grad=[w, b], reduce="sum")
    >>> X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.0, 0.0]])
    >>> value, (gw, gb) = nll(np.array([0.1, -0.2]), 0.3, X, np.array([1.0, 0.0, 1.0]))
    >>> round(float(value), 6), gw.round(6), round(float(gb), 6)
    (2.296779, array([ 0.267234, -1.634136]), -0.31603)
    >>> sm.compile("y - log(-3)", "y")
    Traceback (most recent call last):
    ...
    symml.errors.ArgumentError: compile: the constant -I*pi in y - log(3) - I*pi is not ...
    >>> sm.compile("loggamma(x)", "x")(np.array([-0.5, 0.5]))
    array([       nan, 0.57236494])
    """
    if reduce not in _REDUCE:
        raise ArgumentError(f"compile: reduce must be None, 'sum' or 'mean', got {reduce!r}")
    single = not isinstance(f, (list, tuple))
    fs = [f] if single else list(f)
    if not fs:
        raise ArgumentError("compile: no expression given")
    backend = check_backend(current_backend() if backend is None else backend)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, _RECURSION_LIMIT))
    try:
        with fresh_memo():
            return _compile(fs, args, grad, reduce, single, backend)
    finally:
        sys.setrecursionlimit(old)


def _compile(fs, args, grad, reduce, single, backend) -> CompiledFunction:
    exprs = [_as_sympy(fi) for fi in fs]
    plan = build_plan(exprs, args, grad, reduce, single)
    emitter = load_backend(backend)
    if backend == "numba":
        runner = emitter.build(plan)
        runner.cf = CompiledFunction(runner, runner.source, plan, backend)
        return runner.cf
    source, namespace = emitter.emit(plan)
    filename = register_source(source, backend)
    # The source was printed by our own printer from SymPy objects (never user text), so
    # exec'ing it in this private namespace is safe.
    code = builtins.compile(source, filename, "exec")
    exec(code, namespace)  # noqa: S102
    f = CompiledFunction(namespace["_symml_compiled"], source, plan, backend)
    weakref.finalize(f, linecache.cache.pop, filename, None)
    return f
