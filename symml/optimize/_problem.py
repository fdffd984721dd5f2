"""The numeric problem behind :func:`symml.minimize`: validated once, then trusted.

``build_problem`` converts the user's objective, start point, data, bounds, constraints and
regularization into a :class:`Problem` that works on one flat float vector ``theta`` (the
parameters of ``x0`` in order, vectors expanded into their components). It compiles the
objective with its exact gradient once (``symml.compile(..., grad=names, reduce="mean")``)
and the exact Hessian and constraint Jacobians lazily, when a method asks for them.

Internal module: everything here is private to :mod:`symml.optimize`.
"""

from __future__ import annotations

import difflib
import math
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from .._convert import as_expr, as_relation
from ..errors import ArgumentError, DataError
from ..symbols import ElementSymbol
from ._shapes import group_vector_columns, parse_with_shapes, row_shape, used_names

__all__ = ["Problem", "Constraint", "build_problem", "Diverged", "Progress", "not_finite_start"]


class Diverged(Exception):
    """Internal signal: a NaN or infinite objective/gradient was met (never leaves the package)."""

    def __init__(self, what: str, value: float | None = None):
        super().__init__(what)
        self.what = what
        self.value = value


@dataclass
class ParamSpec:
    """One optimized name: a scalar (shape ()) or a vector (shape (k,))."""

    name: str
    symbols: list[sympy.Symbol]
    shape: tuple[int, ...]
    start: np.ndarray
    sl: slice


@dataclass
class Constraint:
    """``g(theta) == 0`` (kind "eq") or ``g(theta) >= 0`` (kind "ineq") with exact derivatives."""

    kind: str
    expr: sympy.Expr
    text: str
    value_grad: Any = None  # theta -> (g, dg/dtheta)
    hess_fn: Any = None  # lazily: theta -> Hessian of g


def _symbol_names(exprs) -> dict[str, list[sympy.Symbol]]:
    """Map each name (a scalar's name, or a vector's name) to the symbols carrying it."""
    out: dict[str, list[sympy.Symbol]] = {}
    for e in exprs:
        for s in e.free_symbols:
            key = s.vector if isinstance(s, ElementSymbol) else s.name
            out.setdefault(key, []).append(s)
    return out


def _components(name: str, syms: list[sympy.Symbol]) -> tuple[list[sympy.Symbol], tuple[int, ...]]:
    """All components of ``name`` in index order (missing ones filled in) and its shape."""
    elems = [s for s in syms if isinstance(s, ElementSymbol)]
    if not elems:
        return [syms[0]], ()
    shape = elems[0].shape
    if len(shape) != 1:
        raise ArgumentError(
            f"'{name}' is a matrix of shape {shape}; minimize optimizes scalars and vectors — "
            f"declare its entries as a vector instead"
        )
    assumptions = elems[0]._assumptions_orig
    return [ElementSymbol(name, (i,), shape, **assumptions) for i in range(shape[0])], shape


def _arg_symbols(symbols: list, shape: tuple[int, ...]):
    """How compile is told a name's symbols: the Symbol, or a column Matrix of components."""
    return symbols[0] if shape == () else sympy.Matrix(symbols)


def _suggest(name: str, options) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return f" — did you mean '{close[0]}'?" if close else ""


def _as_float_array(value: Any, what: str, error=ArgumentError) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise error(f"{what} must be numbers, got {value!r}") from exc
    return a


def _parse_regularization(reg, names: list[str]) -> dict[str, dict[str, float]]:
    """``{"l1": a}``, ``{"l2": a}``, ``{"elastic_net": (a, ratio)}`` (several may be combined);
    a strength may be a mapping of parameter names to strengths. Returns kind -> name -> a,
    with elastic net split into its L1 and L2 parts."""
    out: dict[str, dict[str, float]] = {"l1": {}, "l2": {}}
    if reg is None:
        return out
    if not isinstance(reg, Mapping):
        raise ArgumentError(
            f"regularization must be a mapping like {{'l1': 0.1}}, {{'l2': 0.1}} or "
            f"{{'elastic_net': (0.1, 0.5)}}, got {reg!r}"
        )

    def strengths(value, kind) -> dict[str, Any]:
        if isinstance(value, Mapping):
            for k in value:
                if k not in names:
                    raise ArgumentError(
                        f"regularization {kind!r} names '{k}', which is not a parameter being "
                        f"optimized (those are: {', '.join(names)}){_suggest(str(k), names)}"
                    )
            return dict(value)
        return {n: value for n in names}

    for kind, value in reg.items():
        if kind in ("l1", "l2"):
            for n, a in strengths(value, kind).items():
                a = float(_as_float_array(a, f"the {kind} strength"))
                if not np.isfinite(a) or a < 0:
                    raise ArgumentError(
                        f"the {kind} strength must be a finite number >= 0, got {a}"
                    )
                out[kind][n] = out[kind].get(n, 0.0) + a
        elif kind == "elastic_net":
            for n, pair in strengths(value, kind).items():
                try:
                    a, ratio = (float(v) for v in pair)
                except (TypeError, ValueError) as exc:
                    raise ArgumentError(
                        f"elastic_net takes a pair (strength, l1_ratio), got {pair!r}"
                    ) from exc
                if not (np.isfinite(a) and a >= 0 and 0 <= ratio <= 1):
                    raise ArgumentError(
                        f"elastic_net needs strength >= 0 and 0 <= l1_ratio <= 1, "
                        f"got ({a}, {ratio})"
                    )
                out["l1"][n] = out["l1"].get(n, 0.0) + a * ratio
                out["l2"][n] = out["l2"].get(n, 0.0) + a * (1 - ratio)
        else:
            raise ArgumentError(
                f"unknown regularization {kind!r}; use 'l1', 'l2' or 'elastic_net'"
                f"{_suggest(str(kind), ['l1', 'l2', 'elastic_net'])}"
            )
    return out


class Problem:
    """The objective and its derivatives as functions of one flat vector ``theta``.

    ``value_grad(theta, rows)`` returns the *smooth* part (data mean of f plus the L2
    penalty) and its gradient; the L1 part ``sum(l1 * |theta|)`` is kept apart so that
    first-order methods can take proximal steps and SciPy adapters can split it.
    """

    def __init__(
        self, f, specs, data_names, data_symbols, data_arrays, n_rows, lo, hi, l1, l2, constraints
    ):
        self.expr = f
        self.specs: list[ParamSpec] = specs
        self.names = [s.name for s in specs]
        self.n = sum(int(np.prod(s.shape)) for s in specs)
        self.symbols = [sym for s in specs for sym in s.symbols]
        self.component_names = tuple(str(sym) for sym in self.symbols)
        self.data_names = data_names
        self.data_arrays = data_arrays
        self.n_rows = n_rows
        self.lo, self.hi = lo, hi
        self.l1, self.l2 = l1, l2
        self.constraints: list[Constraint] = constraints
        self._all_scalar = all(s.shape == () for s in specs)
        self.has_bounds = bool(np.any(np.isfinite(lo)) or np.any(np.isfinite(hi)))
        self.x0 = np.concatenate([s.start.ravel() for s in specs]) if specs else np.zeros(0)
        self.nfev = 0
        self.nhev = 0
        reduce = "mean" if data_names else None
        from .. import compile as _compile

        self.param_args = {s.name: _arg_symbols(s.symbols, s.shape) for s in specs}
        self.arg_map = dict(self.param_args)
        self.arg_map.update(data_symbols)
        self._compiled = _compile(f, self.arg_map, grad=self.param_args, reduce=reduce)
        self._reduce = reduce
        self._hess = None
        self._hvp = None
        self.data_symbols = data_symbols

    # -- layout ------------------------------------------------------------------------------
    def split(self, theta: np.ndarray) -> list[Any]:
        """Per-name values: a float for a scalar, an array for a vector."""
        if self._all_scalar:
            return theta.tolist()
        out = []
        for s in self.specs:
            part = theta[s.sl]
            out.append(float(part[0]) if s.shape == () else part.copy())
        return out

    def as_dict(self, theta: np.ndarray) -> dict[str, Any]:
        return dict(zip(self.names, self.split(theta), strict=True))

    def _flatten_grads(self, grads) -> np.ndarray:
        if self._all_scalar:
            return np.array(grads, dtype=float).reshape(self.n)
        out = np.empty(self.n)
        for s, g in zip(self.specs, grads, strict=True):
            out[s.sl] = np.ravel(np.asarray(g, dtype=float))
        return out

    # -- objective ---------------------------------------------------------------------------
    def _data(self, rows):
        if rows is None:
            return self.data_arrays
        return [a[rows] for a in self.data_arrays]

    def value_grad(self, theta: np.ndarray, rows=None) -> tuple[float, np.ndarray]:
        """Smooth objective (mean of f over the rows + L2 penalty) and its exact gradient."""
        self.nfev += 1
        v, grads = self._compiled(*self.split(theta), *self._data(rows))
        v = float(v)
        g = self._flatten_grads(grads)
        if self.l2 is not None:
            v += float(np.dot(self.l2, theta * theta))
            g += 2.0 * self.l2 * theta
        return v, g

    def l1_penalty(self, theta: np.ndarray) -> float:
        if self.l1 is None:
            return 0.0
        return float(np.sum(self.l1 * np.abs(theta)))

    def value(self, theta: np.ndarray, rows=None) -> float:
        """The whole objective: smooth part plus the L1 penalty."""
        v, _ = self.value_grad(theta, rows)
        return v + self.l1_penalty(theta)

    def hess(self, theta: np.ndarray) -> np.ndarray:
        """Exact Hessian of the smooth part (compiled on first use; symmetric entries once)."""
        if self._hess is None:
            self._hess = _compile_hessian(self.expr, self.symbols, self.arg_map, self._reduce)
        self.nhev += 1
        H = self._hess(self.split(theta) + list(self.data_arrays))
        if self.l2 is not None:
            H[np.diag_indices_from(H)] += 2.0 * self.l2
        return H

    def hessp(self, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Exact Hessian-vector product ``H(theta) @ v`` of the smooth part, compiled on first
        use from :func:`symml.calculus.hvp` (the Hessian itself is never formed)."""
        if self._hvp is None:
            self._hvp = _compile_hvp(
                self.expr, self.symbols, self.param_args, self.data_symbols, self._reduce
            )
        self.nhev += 1
        v = np.asarray(v, dtype=float)
        out = np.asarray(self._hvp(*self.split(theta), v, *self.data_arrays), dtype=float)
        out = np.broadcast_to(out.reshape(-1), (self.n,)).copy()
        if self.l2 is not None:
            out += 2.0 * self.l2 * v
        return out

    def curvature(self, theta: np.ndarray, iterations: int = 30) -> float:
        """The largest |eigenvalue| of the exact Hessian at ``theta``, by power iteration on
        exact Hessian-vector products (what a safe gradient step ``1/L`` needs)."""
        n = self.n
        if n == 0:
            return 0.0
        v = 1.0 + 0.1 * np.arange(n) / max(n, 1)  # deterministic, not orthogonal to much
        v /= np.linalg.norm(v)
        lam = 0.0
        for _ in range(iterations):
            w = self.hessp(theta, v)
            if not np.all(np.isfinite(w)):
                return math.inf
            norm = float(np.linalg.norm(w))
            if norm == 0.0:
                return lam
            new = norm  # |H v| for a unit v: converges to the largest |eigenvalue|
            v = w / norm
            if abs(new - lam) <= 1e-3 * new:
                return new
            lam = new
        return lam

    def lagrangian_gradient(self, theta: np.ndarray, g: np.ndarray) -> tuple[float, str]:
        """Largest component of the Lagrangian's gradient ``g - A' lambda`` at ``theta``,
        with least-squares multipliers on the active set (equalities, inequalities within
        1e-6 of 0, bounds within 1e-8); and a note saying what was active."""
        rows, n_cons, n_bounds = [], 0, 0
        if self.constraints:
            vals, J = self.constraint_values(theta)
            for c, v, row in zip(self.constraints, vals, J, strict=True):
                if c.kind == "eq" or v <= 1e-6 * (1.0 + abs(v)):
                    rows.append(row)
                    n_cons += 1
        scale = 1e-8 * (1.0 + np.abs(theta))
        for i in np.flatnonzero((theta - self.lo <= scale) | (self.hi - theta <= scale)):
            e = np.zeros(self.n)
            e[i] = 1.0
            rows.append(e)
            n_bounds += 1
        if rows:
            A = np.array(rows)
            lam, *_ = np.linalg.lstsq(A.T, g, rcond=None)
            resid = g - A.T @ lam
        else:
            resid = g
        value = float(np.max(np.abs(resid))) if resid.size else 0.0
        return value, f"{n_cons} active constraint(s), {n_bounds} active bound(s)"

    # -- constraints -------------------------------------------------------------------------
    def constraint_values(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All constraint values and their exact Jacobian (rows = constraints)."""
        vals = np.empty(len(self.constraints))
        jac = np.empty((len(self.constraints), self.n))
        args = self.split(theta)
        for i, c in enumerate(self.constraints):
            v, grads = c.value_grad(*args)
            vals[i] = float(v)
            jac[i] = self._flatten_grads(grads)
        return vals, jac

    def constraint_hess(self, i: int, theta: np.ndarray) -> np.ndarray:
        c = self.constraints[i]
        if c.hess_fn is None:
            c.hess_fn = _compile_hessian(c.expr, self.symbols, self.param_args, None)
        return c.hess_fn(self.split(theta))

    # -- checks ------------------------------------------------------------------------------
    def stationarity(self, theta: np.ndarray, g: np.ndarray) -> float:
        """Largest component of the unit-step proximal gradient mapping ``theta - prox(theta - g)``.

        Equals the gradient without L1 and bounds; zero exactly at a stationary point of the
        composite (smooth + L1 + box) problem.
        """
        if not theta.size:
            return 0.0
        if self.l1 is None and not self.has_bounds:
            return float(np.abs(g).max())
        z = prox(theta - g, self.l1, self.lo, self.hi, 1.0)
        return float(np.abs(theta - z).max())

    # -- result ------------------------------------------------------------------------------
    def result(self, method, theta, fun, *, nit, status, message, history, path, jac, extra=None):
        """Package a run into an :class:`OptimizeResult` (x and jac in the layout of x0)."""
        from ..lang import to_text
        from .result import OptimizeResult

        info = dict(extra or {})
        if self.constraints:
            info["constraints"] = "; ".join(c.text for c in self.constraints)
        if self.data_names:
            info["data"] = f"mean over {self.n_rows} rows of {', '.join(self.data_names)}"
        if self.l1 is not None or self.l2 is not None:
            info["regularization"] = self.reg_text
        if self.l1 is not None:
            mask = self.l1 > 0
            zeros = int(np.sum(theta[mask] == 0.0))
            info["zeros"] = f"{zeros} of {int(mask.sum())} L1-penalized components"
        if jac is not None and (self.constraints or self.has_bounds) and self.l1 is None:
            gl, note = self.lagrangian_gradient(theta, np.asarray(jac, dtype=float))
            info["lagrangian_gradient"] = gl
            info["active"] = note
        try:
            text = to_text(self.expr)
        except Exception:  # noqa: BLE001 - a report must never fail on printing
            text = str(self.expr)
        return OptimizeResult(
            x=self.as_dict(theta),
            fun=float(fun),
            nit=int(nit),
            nfev=int(self.nfev),
            success=status == 0,
            status=int(status),
            message=message,
            history=np.asarray(history, dtype=float),
            jac=None if jac is None else self.as_dict(np.asarray(jac, dtype=float)),
            method=method,
            nhev=int(self.nhev),
            path=None if path is None else np.array(path, dtype=float).reshape(-1, self.n),
            names=self.component_names,
            objective=text,
            extra=info,
            x_flat=np.array(theta, dtype=float),
            _problem=self,
        )


def prox(z: np.ndarray, l1, lo, hi, step) -> np.ndarray:
    """Proximal step of ``step * sum(l1*|x|)`` plus the box ``[lo, hi]``: soft-threshold, then clip.

    For one coordinate, the minimizer of ``a|x| + (x - z)^2 / (2 t)`` over an interval is the
    clipped soft-threshold, because the problem is convex in one variable.
    """
    if l1 is not None:
        t = step * l1
        z = np.sign(z) * np.maximum(np.abs(z) - t, 0.0) + 0.0  # + 0.0: no -0.0
    if lo is not None:
        z = np.clip(z, lo, hi)
    return z


def _compile_hessian(expr, symbols, arg_map, reduce):
    """Compile the exact Hessian matrix; compile computes each symmetric entry once."""
    from .. import compile as _compile
    from ..calculus import hessian

    H = hessian(expr, list(symbols))
    fn = _compile(H, arg_map, reduce=reduce)
    n = len(symbols)

    def hess(values: list) -> np.ndarray:
        return np.array(fn(*values), dtype=float).reshape(n, n)

    return hess


def _compile_hvp(expr, symbols, param_args, data_symbols, reduce):
    """Compile the exact Hessian-vector product (one forward pass over the gradient)."""
    from .. import compile as _compile
    from ..calculus import hvp

    h = hvp(expr, list(symbols))
    args = [*param_args.values(), h.direction, *data_symbols.values()]
    return _compile(h.product, args, reduce=reduce)


def not_finite_start(problem: Problem, method: str, value, what: str = "objective"):
    """The result for a start where the objective (or its gradient) is not finite: status 5,
    the start returned, a message saying so (not a divergence: no iteration was made)."""
    point = ", ".join(f"{k} = {format_number(v)}" for k, v in problem.as_dict(problem.x0).items())
    message = (
        f"the {what} is not finite at the start ({point}): it is {value}; start inside the "
        f"domain of the objective (log and sqrt need positive arguments, a division a "
        f"nonzero divisor) — change x0"
    )
    fun = value if isinstance(value, float) else float("nan")
    return problem.result(
        method,
        problem.x0.copy(),
        fun,
        nit=0,
        status=5,
        message=message,
        history=[fun],
        path=None,
        jac=None,
    )


def format_number(v) -> str:
    from .result import format_value

    return format_value(v)


def _data_mapping(data) -> dict:
    """The data as a plain dict (a mapping, or a pandas-like DataFrame)."""
    if data is None:
        return {}
    if isinstance(data, Mapping):
        return dict(data)
    if hasattr(data, "columns"):  # a pandas DataFrame
        return {str(c): data[c].to_numpy() for c in data.columns}
    raise ArgumentError(f"data must be a mapping of names to arrays, got {type(data).__name__}")


def _fresh_binding(used: set[str]) -> str:
    name = "objective_"
    while name in used:
        name += "_"
    return name


def _read_objective(f, data: dict, x0) -> tuple[Any, str | None]:
    """The objective as SymPy, and its text when it was given as text.

    Text is parsed with the shapes of its data: an undeclared name whose data column is
    ``(n, d)`` is a data vector ``x[d]``, and a name dotted with it (``dot(w, x)``) a
    parameter vector ``w[d]`` (as is a name dotted with a data vector whose start value in
    ``x0`` is a 1-D array). Grouped columns ``x[0], x[1]`` / ``x_0, x_1`` form ``x`` (this
    updates ``data`` in place).
    """
    if not isinstance(f, str):
        try:
            return as_expr(f), None
        except TypeError as exc:  # pragma: no cover - as_expr raises SymmlError for bad text
            raise ArgumentError(f"cannot read the objective {f!r}: {exc}") from exc
    used = used_names(f)
    grouped = group_vector_columns(data, used)
    data.clear()
    data.update(grouped)
    shapes = {str(k): row_shape(str(k), v) for k, v in data.items()}
    sizes = {}
    if isinstance(x0, Mapping):
        for k, v in x0.items():
            if isinstance(v, (list, tuple, np.ndarray)) and np.ndim(v) == 1:
                sizes[str(k)] = len(v)
    if any(len(shapes.get(n, ())) >= 1 for n in used):
        binding = _fresh_binding(used)
        prog, _ = parse_with_shapes(f, shapes, sizes, binding=binding)
        return prog[binding], f
    return as_expr(f), f


def _first_position(name: str, text: str) -> int:
    import re

    m = re.search(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])", text)
    return m.start() if m else len(text)


def _x0_from_sequence(x0, known: dict, data: dict, text: str | None) -> dict:
    """A flat array (or list) of start values in variable order, as a name -> value dict.

    The variables are the objective's names that are not data columns, in the order of
    their first appearance in the objective's text (sorted by name for a SymPy objective);
    a vector takes as many consecutive values as it has components.
    """
    try:
        a = np.asarray(x0, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(
            f"x0 must be a mapping of parameter names to start values, like {{'x': 0, 'y': 1}}, "
            f"or an array of numbers in variable order; got {x0!r}"
        ) from exc
    if a.ndim != 1:
        raise ArgumentError(
            f"x0 as an array must be flat (one value per component, in variable order), got "
            f"shape {a.shape}; or give a mapping name -> start value"
        )
    names = [n for n in known if n not in {str(k) for k in data}]
    if text is not None:
        names.sort(key=lambda n: (_first_position(n, text), n))
    else:
        names.sort()
    sizes = []
    for n in names:
        _, shape = _components(n, known[n])
        sizes.append(int(np.prod(shape)) if shape else 1)
    desc = ", ".join(f"{n}[{k}]" if k > 1 else n for n, k in zip(names, sizes, strict=True))
    if sum(sizes) != a.size:
        raise ArgumentError(
            f"x0 has {a.size} value(s), but the variables ({desc}, in this order) have "
            f"{sum(sizes)} component(s); give one start value per component in this order, or "
            f"a mapping name -> start value"
        )
    out, i = {}, 0
    for n, k in zip(names, sizes, strict=True):
        _, shape = _components(n, known[n])
        out[n] = a[i] if not shape else a[i : i + k].copy()
        i += k
    return out


def build_problem(f, x0, *, data=None, constraints=(), bounds=None, regularization=None) -> Problem:
    """Validate the user's input once and build the :class:`Problem` (see ``minimize``)."""
    from .. import compile as _compile

    data = _data_mapping(data)
    expr, text = _read_objective(f, data, x0)
    if isinstance(expr, sympy.MatrixBase):
        if expr.shape == (1, 1):
            expr = expr[0, 0]
        else:
            raise ArgumentError(
                f"the objective must be a scalar, got a {expr.shape[0]}x{expr.shape[1]} matrix; "
                f"minimize e.g. its sum or norm"
            )
    if not isinstance(expr, sympy.Expr):
        raise ArgumentError(f"the objective must be an expression, got {type(expr).__name__}")

    if isinstance(constraints, (str, sympy.Basic)):
        constraints = [constraints]
    constraints = list(constraints)
    relations = []
    for c in constraints:
        rel = as_relation(c)
        relations.append(rel)

    exprs = [expr] + [r.lhs - r.rhs for r in relations]
    known = _symbol_names(exprs)
    if not isinstance(x0, Mapping):
        x0 = _x0_from_sequence(x0, known, data, text)
    if not x0:
        raise ArgumentError(
            f"x0 must be a non-empty mapping of parameter names to start values, like "
            f"{{'x': 0, 'y': 1}}, or an array of start values in variable order; got {x0!r}"
        )
    names = [str(k) for k in x0]

    # parameters
    specs: list[ParamSpec] = []
    offset = 0
    for name, start in zip(names, x0.values(), strict=True):
        if name not in known:
            raise ArgumentError(
                f"unknown parameter '{name}': the objective does not contain it"
                f"{_suggest(name, known)} (its names are: {', '.join(sorted(known)) or 'none'})"
            )
        syms, shape = _components(name, known[name])
        a = _as_float_array(start, f"the start value of '{name}'")
        if shape == ():
            if a.ndim != 0:
                raise ArgumentError(
                    f"'{name}' is a scalar but its start value has shape {a.shape}; give one number"
                )
            a = a.reshape(1)
        else:
            if a.ndim == 0:
                a = np.full(shape, float(a))
            elif a.shape != shape:
                raise ArgumentError(
                    f"'{name}' is a vector of length {shape[0]} but its start value has shape "
                    f"{a.shape}; give {shape[0]} numbers (or one number for all)"
                )
        if not np.all(np.isfinite(a)):
            raise ArgumentError(f"the start value of '{name}' contains NaN or infinity: {a}")
        size = max(1, int(np.prod(shape)))
        specs.append(ParamSpec(name, syms, shape, a.astype(float), slice(offset, offset + size)))
        offset += size
    n = offset

    # data
    data_names: list[str] = []
    data_symbols: dict[str, Any] = {}
    arrays: list[np.ndarray] = []
    n_rows = None
    obj_names = _symbol_names([expr])
    for key, value in data.items():
        key = str(key)
        if key in x0:
            raise ArgumentError(
                f"'{key}' is both a parameter (in x0) and a data column; rename one"
            )
        if key not in obj_names:
            continue  # a column the objective does not use (e.g. an extra DataFrame column)
        dsyms, shape = _components(key, obj_names[key])
        a = _as_float_array(value, f"data column '{key}'", DataError)
        want = "(n,)" if shape == () else f"(n, {shape[0]})"
        if a.ndim != len(shape) + 1 or (shape and a.shape[1:] != shape):
            raise DataError(f"data column '{key}' should have shape {want}, got {a.shape}")
        if n_rows is None:
            n_rows = a.shape[0]
            first = key
        elif a.shape[0] != n_rows:
            raise DataError(
                f"data columns have different lengths: '{first}' has {n_rows} rows, "
                f"'{key}' has {a.shape[0]}"
            )
        bad = ~np.isfinite(a) if a.ndim == 1 else ~np.all(np.isfinite(a), axis=1)
        if bad.any():
            raise DataError(
                f"data column '{key}' has {int(bad.sum())} row(s) with NaN or infinite values "
                f"(first at row {int(np.argmax(bad))}); remove them before minimizing"
            )
        data_names.append(key)
        data_symbols[key] = _arg_symbols(dsyms, shape)
        arrays.append(a)
    if n_rows == 0:
        raise DataError("the data have no rows")

    # every other name of the objective must be a parameter or data
    free = sorted(set(obj_names) - set(names) - set(data_names))
    if free:
        hint = ""
        if data and any(k not in obj_names for k in data):
            unused = [str(k) for k in data if str(k) not in obj_names]
            hint = f"; data columns not used by the objective: {', '.join(unused)}"
        raise ArgumentError(
            f"the objective contains {', '.join(repr(s) for s in free)}, which "
            f"{'is' if len(free) == 1 else 'are'} neither a parameter in x0 nor a data column"
            f"{hint}; add {'it' if len(free) == 1 else 'them'} to x0 (to optimize) or to data"
        )

    # bounds
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    if bounds is not None:
        if not isinstance(bounds, Mapping):
            raise ArgumentError(
                f"bounds must map parameter names to (low, high) pairs, like {{'x': (0, None)}}; "
                f"got {bounds!r}"
            )
        spec_by = {s.name: s for s in specs}
        for key, pair in bounds.items():
            if key not in spec_by:
                raise ArgumentError(
                    f"bounds name '{key}', which is not in x0{_suggest(str(key), names)}"
                )
            try:
                low, high = pair
            except (TypeError, ValueError) as exc:
                raise ArgumentError(
                    f"bounds for '{key}' must be a pair (low, high) with None for an open side, "
                    f"got {pair!r}"
                ) from exc
            s = spec_by[key]
            size = s.sl.stop - s.sl.start
            for arr, val, inf in ((lo, low, -np.inf), (hi, high, np.inf)):
                v = inf if val is None else _as_float_array(val, f"the bound of '{key}'")
                v = np.asarray(v, dtype=float)
                if v.ndim and v.shape != (size,):
                    raise ArgumentError(f"bounds of '{key}' must be numbers or {size} numbers")
                arr[s.sl] = v
            if (
                np.any(lo[s.sl] > hi[s.sl])
                or np.any(np.isnan(lo[s.sl]))
                or np.any(np.isnan(hi[s.sl]))
            ):
                raise ArgumentError(f"bounds of '{key}' are empty: low {low} > high {high}")
        for s in specs:  # a start outside the box is moved onto it (documented)
            s.start = np.clip(
                s.start, lo[s.sl].reshape(s.start.shape), hi[s.sl].reshape(s.start.shape)
            )

    # regularization
    reg = _parse_regularization(regularization, names)
    l1 = l2 = None
    for kind in ("l1", "l2"):
        if reg[kind]:
            arr = np.zeros(n)
            for s in specs:
                arr[s.sl] = reg[kind].get(s.name, 0.0)
            if kind == "l1":
                l1 = arr
            else:
                l2 = arr

    # constraints
    cons = []
    for rel, c in zip(relations, constraints, strict=True):
        text = c if isinstance(c, str) else str(rel)
        g_names = set(_symbol_names([rel.lhs - rel.rhs]))
        extra = sorted(g_names - set(names))
        if extra:
            raise ArgumentError(
                f"constraint {text!r} contains {', '.join(repr(e) for e in extra)}, which "
                f"{'is' if len(extra) == 1 else 'are'} not optimized; constraints may only use "
                f"the names in x0 ({', '.join(names)})"
            )
        if isinstance(rel, sympy.Eq):
            kind, g = "eq", rel.lhs - rel.rhs
        elif isinstance(rel, (sympy.Le, sympy.Lt)):
            kind, g = "ineq", rel.rhs - rel.lhs
        elif isinstance(rel, (sympy.Ge, sympy.Gt)):
            kind, g = "ineq", rel.lhs - rel.rhs
        else:
            raise ArgumentError(f"constraint {text!r} is not ==, <= or >=; write e.g. 'x + y <= 2'")
        pargs = {s.name: _arg_symbols(s.symbols, s.shape) for s in specs}
        vg = _compile(g, pargs, grad=pargs)
        cons.append(Constraint(kind, g, text, vg))

    problem = Problem(expr, specs, data_names, data_symbols, arrays, n_rows, lo, hi, l1, l2, cons)
    problem.reg_text = ", ".join(
        f"{kind} {name} {a:g}" for kind in ("l1", "l2") for name, a in reg[kind].items() if a
    )
    return problem


class Progress:
    """A plain-text progress bar on stderr, redrawn at most ten times a second.

    With a known total it draws ``[#####.....]  50%  500/1000  f = 1.2e-03``; otherwise an
    iteration counter.
    """

    def __init__(self, label: str, total: int | None, enabled: bool, stream=None):
        self.label = label
        self.total = total
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self._last = 0.0
        self._drawn = False

    def update(self, k: int, f: float, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        if self.total:
            frac = min(1.0, k / self.total)
            filled = int(round(30 * frac))
            bar = "#" * filled + "." * (30 - filled)
            text = f"{self.label} [{bar}] {100 * frac:5.1f}%  {k}/{self.total}  f = {f:.6g}"
        else:
            text = f"{self.label} iteration {k}  f = {f:.6g}"
        self.stream.write("\r" + text)
        self.stream.flush()
        self._drawn = True

    def close(self, k: int, f: float) -> None:
        if not self.enabled:
            return
        self.update(k, f, force=True)
        self.stream.write("\n")
        self.stream.flush()


def check_finite(theta: np.ndarray, v: float, g: np.ndarray | None = None) -> None:
    """Raise :class:`Diverged` when the objective or its gradient is not finite.

    (A sum of finite gradient components overflows only when the run is diverging anyway.)
    """
    if not math.isfinite(v):
        raise Diverged(f"the objective became {v}", v)
    if g is not None and not math.isfinite(g.sum()):
        raise Diverged("the gradient became NaN or infinite")


def require_options(method: str, options, allowed: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``options`` into the method's defaults; an unknown key lists the valid ones."""
    out = dict(allowed)
    for k, v in (options or {}).items():
        if k not in allowed:
            valid = ", ".join(sorted(allowed)) or "none"
            raise ArgumentError(
                f"unknown option {k!r} for method {method!r}{_suggest(str(k), allowed)}; "
                f"valid options: {valid}"
            )
        out[k] = v
    return out
