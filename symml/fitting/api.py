"""``symml.fit``: least squares and maximum likelihood from one ``~`` statement.

A model is written for one data row. Its left side is a data column or an expression of data
(``log(y) ~ ...`` fits on the log scale); every other name is a data column, a declared
parameter (``param a, b; y ~ a + b*x``) or a parameter with a starting value in ``p0``. A name
that is none of these is a DataError naming the closest column (it is most often a
misspelled column, and fitting it as a parameter would fit the wrong model).

* ``y ~ expr`` is least squares: ``sum((lhs - expr)^2)`` (times ``weights``) minimized by the
  engine of :mod:`symml.fitting.lsq` with an exact Jacobian; standard errors from
  ``s^2 (J^T J)^-1``.
* ``y ~ Normal(mu, s)``, ``Bernoulli(p)``, ``Poisson(rate)``, ``Binomial(n, p)``,
  ``Exponential(rate)`` is maximum likelihood (:mod:`symml.fitting.likelihood`): the
  negative log-likelihood derived symbolically per row, its exact gradient and Hessian
  compiled, minimized by SciPy; standard errors from the inverse observed information.

Starting values: declared parameters start at their declared value (0 unless given, as in
``param a = 1``); ``p0`` overrides (a scalar named only in ``p0`` starts there); a parameter
vector whose size comes from the data (``dot(w, x)`` with ``x`` of shape ``(n, d)``) starts at
zeros.

>>> import numpy as np, symml as sm
>>> x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
>>> y = 1 + 2*x + np.array([0.1, -0.1, 0.0, 0.1, -0.1])
>>> r = sm.fit("param a, b; y ~ a + b*x", {"x": x, "y": y})
>>> print(f"{r.params['a']:.4f} {r.params['b']:.4f} {r.stderr['b']:.4f}")
1.0400 1.9800 0.0346
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import scipy.optimize
import scipy.stats
import sympy

from .._convert import as_expr
from .._limits import budgeted
from ..backends import with_backend as _with_backend
from ..errors import ArgumentError, DataError, FitError, SymmlError
from ..optimize._shapes import group_vector_columns, parse_with_shapes, used_names
from ..optimize._shapes import row_shape as _row_shape
from ..optimize.methods import get_method
from ..symbols import ElementSymbol
from .dask_fit import fit_dask, is_dask_data
from .data import as_columns, validate_data
from .likelihood import (
    DISTRIBUTIONS,
    NLLObjective,
    ParamSpec,
    _compile_rows,
    maximize_likelihood,
    row_negloglik,
)
from .result import FitResult

__all__ = ["fit"]


# ---------------------------------------------------------------------------------------
# reading the model
# ---------------------------------------------------------------------------------------


def _parse_text(text: str, shapes: Mapping[str, tuple]):
    """Parse model text, declaring data vectors (and the parameter vectors dotted with them)
    whose sizes come from the data's shape (see :mod:`symml.optimize._shapes`)."""
    return parse_with_shapes(text, shapes)


def _closest(name: str, choices) -> str | None:
    """The column most like ``name``: a close spelling, else one sharing its first letter."""
    import difflib

    choices = list(choices)
    same = [c for c in choices if c.lower() == name.lower()]
    if same:
        return same[0]
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return close[0]
    prefix = [c for c in choices if name.startswith(c) or c.startswith(name)]
    if prefix:
        return max(prefix, key=len)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.3)
    return close[0] if close else None


def _check_response(lhs, prog, data_columns, text: str) -> None:
    """The left side of ``~`` is data: a name on it that is no column is a missing column."""
    names = {s.vector if isinstance(s, ElementSymbol) else s.name for s in lhs.free_symbols}
    missing = sorted(n for n in names if n not in data_columns and n not in prog.params)
    if not missing:
        return
    cols = ", ".join(data_columns) or "none"
    parts = []
    for n in missing:
        guess = _closest(n, data_columns)
        parts.append(f"'{n}'" + (f" (did you mean '{guess}'?)" if guess else ""))
    raise DataError(
        f"data has no column {', '.join(parts)} for the response (the left side of '~' in "
        f"{text}); the columns are {cols}"
    )


def _check_names(param_names, prog, data_columns, p0, text: str) -> None:
    """Every free name is a data column, a declared parameter, or has a start value in p0.

    A name that is none of these is most often a misspelled column (``time`` for ``t``);
    fitting it as a parameter would report success on the wrong model.
    """
    if p0 is not None and not isinstance(p0, Mapping):
        return  # a sequence p0 gives every parameter a start value by position
    named = set(p0 or {})
    named |= {re.sub(r"\[.*", "", str(k)) for k in named}
    unknown = [n for n in param_names if n not in prog.params and n not in named]
    if not unknown:
        return
    cols = ", ".join(data_columns) or "none"
    parts = []
    for n in unknown:
        guess = _closest(n, data_columns)
        parts.append(f"no column '{n}'" + (f" (did you mean '{guess}'?)" if guess else ""))
    listed = ", ".join(unknown)
    raise DataError(
        f"{'; '.join(parts)}; the columns are {cols}. If {listed} "
        f"{'is a parameter' if len(unknown) == 1 else 'are parameters'}, declare "
        f"{'it' if len(unknown) == 1 else 'them'} ('param {listed}; {text}') or give a "
        f"starting value in p0 (p0={{{', '.join(repr(u) + ': 1.0' for u in unknown)}}})"
    )


def _first_position(name: str, text: str) -> int:
    m = re.search(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])", text)
    return m.start() if m else len(text)


class _Spec:
    """A model read from text or a Program: its expressions, parameters and data symbols."""

    def __init__(self, model, data_columns: Mapping[str, object], p0=None):
        from ..lang import Program

        shapes = {k: _row_shape(k, v) for k, v in data_columns.items()}
        if isinstance(model, str):
            prog, sized = _parse_text(model, shapes)
            text = model.strip()
        elif isinstance(model, Program):
            prog, sized = model, set()
            text = ""
        else:
            raise ArgumentError(
                f"model must be language text (e.g. 'y ~ a*exp(-b*x)') or a Program with one "
                f"'~' statement, got {type(model).__name__}"
            )
        if len(prog.models) != 1:
            raise FitError(
                f"fit needs exactly one '~' statement (e.g. 'y ~ a*x + b'), the model has "
                f"{len(prog.models)}"
            )
        m = prog.models[0]
        self.model = m
        # a hand-built Model may hold text: it goes through the language like any other text
        lhs, rhs = as_expr(m.lhs), (as_expr(m.rhs) if m.rhs is not None else None)
        dist_args = tuple(as_expr(a) for a in m.dist_args)
        self.text = m.text or text
        self.dist = m.dist
        if m.dist is not None and m.dist not in DISTRIBUTIONS:
            raise FitError(
                f"unknown distribution '{m.dist}'; use one of {', '.join(DISTRIBUTIONS)}"
            )
        if any(isinstance(e, sympy.MatrixBase) for e in (lhs, rhs, *dist_args)):
            raise FitError(f"both sides of '~' must be scalar (one value per row): {self.text}")
        exprs = [lhs] + ([rhs] if rhs is not None else list(dist_args))
        free = set().union(*(e.free_symbols for e in exprs))

        # classify every free symbol as data or parameter
        data_syms: dict[str, object] = {}
        param_names: list[str] = []
        for s in free:
            base = s.vector if isinstance(s, ElementSymbol) else s.name
            if base in prog.params:
                kind = "param"
            elif base in prog.data_decls:
                kind = "data"
            else:
                kind = "data" if base in data_columns else "param"
            if kind == "data":
                if base in prog.data_decls:
                    data_syms[base] = prog.data_decls[base].symbols
                else:
                    data_syms[base] = s
            elif base not in param_names:
                param_names.append(base)
        _check_response(lhs, prog, data_columns, self.text)
        _check_names(param_names, prog, data_columns, p0, self.text)
        unused = [p for p in prog.params if p not in param_names]
        if unused:
            raise FitError(
                f"the model does not depend on the declared parameter "
                f"{', '.join(repr(u) for u in unused)}: {self.text}; remove the declaration "
                f"or use it in the model"
            )
        order_text = prog.source or self.text
        param_names.sort(
            key=lambda n: (
                n not in prog.params,
                list(prog.params).index(n) if n in prog.params else 0,
                _first_position(n, self.text or order_text),
                n,
            )
        )
        self.params: list[ParamSpec] = []
        self.init: dict[str, object] = {}
        self.bounds: dict[str, tuple] = {}
        self.declared_shapes = {k: d.shape for k, d in prog.data_decls.items()}
        for name in param_names:
            if name in prog.params:
                decl = prog.params[name]
                syms = decl.symbols
                shape = tuple(decl.shape)
                flat = tuple(syms) if isinstance(syms, sympy.MatrixBase) else (syms,)
                init = decl.init
                if name in sized and init is not None:
                    init = np.zeros(shape)
                self.init[name] = init
                self.bounds[name] = tuple(decl.bounds)
            else:
                sym = next(s for s in free if not isinstance(s, ElementSymbol) and s.name == name)
                flat, shape = (sym,), ()
                self.init[name] = 1.0
                self.bounds[name] = (None, None)
            self.params.append(ParamSpec(name, flat, shape))
        lhs_params = lhs.free_symbols & set(self.flat_symbols())
        if lhs_params:
            raise FitError(
                f"the left side of '~' must be data (or an expression of data), but it uses the "
                f"parameter {', '.join(sorted(map(str, lhs_params)))}: {self.text}"
            )
        if not self.params:
            raise FitError(
                f"the model has no parameters to fit (every name is a data column): {self.text}"
            )
        data_order = list(prog.data_decls)
        self.data_syms = {
            k: data_syms[k]
            for k in sorted(
                data_syms,
                key=lambda k: (
                    k not in prog.data_decls,
                    data_order.index(k) if k in prog.data_decls else 0,
                    _first_position(k, self.text),
                    k,
                ),
            )
        }
        self.lhs, self.rhs, self.dist_args = lhs, rhs, dist_args

    def flat_symbols(self) -> list:
        return [s for p in self.params for s in p.symbols]

    def flat_names(self) -> list[str]:
        return [n for p in self.params for n in p.flat_names()]


# ---------------------------------------------------------------------------------------
# numeric helpers
# ---------------------------------------------------------------------------------------


def _data_args(expr, data_syms: Mapping[str, object], columns: Mapping[str, np.ndarray]):
    """Fresh symbols and float columns for every data symbol (component) in ``expr``."""
    free = (
        expr.free_symbols
        if not isinstance(expr, (list, tuple))
        else set().union(*(e.free_symbols for e in expr))
    )
    subs, args, values = {}, [], []
    for name, sym in data_syms.items():
        if isinstance(sym, sympy.MatrixBase):
            col = columns[name].reshape(columns[name].shape[0], -1)
            for k, comp in enumerate(sym):
                if comp in free:
                    t = sympy.Symbol(f"_col{len(args)}_", real=True)
                    subs[comp], _ = t, args.append(t)
                    values.append(np.ascontiguousarray(col[:, k]))
        elif sym in free:
            t = sympy.Symbol(f"_col{len(args)}_", real=True)
            subs[sym], _ = t, args.append(t)
            values.append(columns[name])
    return subs, args, values


def _eval_rows(expr, data_syms, columns, n) -> np.ndarray:
    """Evaluate a data-only row expression over all rows (float array of shape (n,))."""
    subs, args, values = _data_args(expr, data_syms, columns)
    e = expr.xreplace(subs)
    if not args:
        with np.errstate(all="ignore"):
            return np.full(n, float(e))
    f = _compile_rows([e], args)
    with np.errstate(all="ignore"):
        (out,) = f(*values)
    return np.broadcast_to(np.asarray(out, dtype=float), (n,)).copy()


def _flatten_value(name, value, shape) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentError(f"starting value of '{name}' must be numbers, got {value!r}") from None
    size = int(np.prod(shape)) if shape else 1
    if arr.dtype.kind == "c" or not np.all(np.isfinite(arr)):
        raise ArgumentError(
            f"starting value of '{name}' must be finite real numbers, got {value!r}"
        )
    if arr.ndim == 0:
        return np.full(size, float(arr))
    if arr.size != size:
        raise ArgumentError(
            f"starting value of '{name}' has {arr.size} entries, the parameter has {size}"
        )
    return arr.reshape(-1)


def _bound_value(name: str, v, side: str) -> float | None:
    if v is None:
        return None
    try:
        out = float(v)
    except (TypeError, ValueError):
        raise ArgumentError(
            f"the {side} bound of '{name}' must be a number or None, got {v!r}"
        ) from None
    if np.isnan(out):
        raise ArgumentError(f"the {side} bound of '{name}' is NaN; use None for an open side")
    return out


def _start_and_bounds(spec: _Spec, p0, bounds):
    names = [p.name for p in spec.params]
    flat_names = spec.flat_names()
    init = {p.name: spec.init[p.name] for p in spec.params}
    if p0 is not None:
        if isinstance(p0, Mapping):
            for k, v in p0.items():
                if k in init:
                    init[k] = v
                elif k in flat_names:
                    p = next(p for p in spec.params if k in p.flat_names())
                    arr = _flatten_value(p.name, init[p.name], p.shape).copy()
                    arr[p.flat_names().index(k)] = _flatten_value(k, v, ())[0]
                    init[p.name] = arr.reshape(p.shape)
                else:
                    raise ArgumentError(
                        f"p0 gives a starting value for '{k}', which is not a parameter of the "
                        f"model; parameters are {', '.join(names)}"
                    )
        else:
            try:
                arr = np.asarray(p0, dtype=float).reshape(-1)
            except (TypeError, ValueError):
                raise ArgumentError(
                    f"p0 must be numbers (a mapping name -> value, or one number per "
                    f"parameter in order), got {p0!r}"
                ) from None
            if arr.size != len(flat_names):
                raise ArgumentError(
                    f"p0 has {arr.size} values, the model has {len(flat_names)} parameters "
                    f"({', '.join(flat_names)}); pass a mapping name -> value"
                )
            i = 0
            for p in spec.params:
                init[p.name] = arr[i : i + p.size]
                i += p.size
    x0 = np.concatenate([_flatten_value(p.name, init[p.name], p.shape) for p in spec.params])
    bnds = dict(spec.bounds)
    if bounds is not None:
        if not isinstance(bounds, Mapping):
            raise ArgumentError("bounds must map parameter names to (low, high) pairs")
        for k, v in bounds.items():
            if k not in bnds:
                raise ArgumentError(
                    f"bounds given for '{k}', which is not a parameter; parameters are "
                    f"{', '.join(names)}"
                )
            try:
                lo, hi = v
            except (TypeError, ValueError):
                raise ArgumentError(
                    f"bounds of '{k}' must be a (low, high) pair, got {v!r}"
                ) from None
            bnds[k] = (lo, hi)
    flat_bounds = []
    for p in spec.params:
        lo, hi = bnds[p.name]
        lo, hi = _bound_value(p.name, lo, "lower"), _bound_value(p.name, hi, "upper")
        lo = None if lo is not None and np.isneginf(lo) else lo
        hi = None if hi is not None and np.isposinf(hi) else hi
        if lo is not None and hi is not None and lo > hi:
            raise ArgumentError(f"bounds of '{p.name}': lower {lo} exceeds upper {hi}")
        flat_bounds += [(lo, hi)] * p.size
    for i, (lo, hi) in enumerate(flat_bounds):
        if (lo is not None and x0[i] < lo) or (hi is not None and x0[i] > hi):
            x0[i] = min(
                max(x0[i], lo if lo is not None else -np.inf), hi if hi is not None else np.inf
            )
    return x0, flat_bounds, {n: float(v) for n, v in zip(flat_names, x0, strict=True)}


def _check_dependence(expr, spec: _Spec):
    from ..calculus import diff as _diff

    free = expr.free_symbols
    for s, name in zip(spec.flat_symbols(), spec.flat_names(), strict=True):
        if s not in free or _diff(expr, s) == 0:
            raise FitError(
                f"the model does not depend on the parameter '{name}' ({spec.text}); "
                f"remove it or fix the formula"
            )


def _unflatten(spec: _Spec, flat: np.ndarray) -> dict:
    out, i = {}, 0
    for p in spec.params:
        if p.shape:
            out[p.name] = np.array(flat[i : i + p.size], dtype=float).reshape(p.shape)
        else:
            out[p.name] = float(flat[i])
        i += p.size
    return out


# ---------------------------------------------------------------------------------------
# problems: what conf_int, profile and predict need after the fit
# ---------------------------------------------------------------------------------------


class _Problem:
    def __init__(self, spec: _Spec, bounds, columns, n):
        self.spec = spec
        self._bounds = bounds
        self.columns = columns  # the validated data the model was fitted to
        self.n = n

    def param_shapes(self):
        return [(p.name, p.shape) for p in self.spec.params]

    def flat_bounds(self):
        return self._bounds

    def flat_symbols(self):
        return self.spec.flat_symbols()

    def param_symbols(self):
        out = {}
        for p in self.spec.params:
            if not p.shape:
                out[p.name] = p.symbols[0]
            elif len(p.shape) == 1:
                out[p.name] = sympy.Matrix(p.symbols)
            else:
                out[p.name] = sympy.Matrix(p.shape[0], p.shape[1], list(p.symbols))
        return out

    def mean_expr(self):
        raise NotImplementedError

    def _new_rows(self, expr, data):
        names = [n for n, s in self.spec.data_syms.items() if _uses(expr, s)]
        if not names:
            return None
        shapes = {n: self.spec.declared_shapes[n] for n in names if n in self.spec.declared_shapes}
        columns = group_vector_columns(as_columns(data), set(self.spec.data_syms))
        return validate_data(columns, names, shapes=shapes)

    def predict(self, x, data):
        mean = self.mean_expr()
        point = dict(zip(self.spec.flat_symbols(), map(float, x), strict=True))
        e = mean.xreplace(point)
        vd = self._new_rows(e, data)
        if vd is None:
            return np.asarray(float(e))
        return _eval_rows(e, self.spec.data_syms, vd.columns, vd.n_rows)

    def predict_gradient(self, x, data):
        """Predictions for new rows and the exact gradient of each in the parameters
        (rows x parameters), for delta-method intervals."""
        from ..calculus import diff as _diff

        mean = self.mean_expr()
        syms = self.spec.flat_symbols()
        exprs = [mean, *[_diff(mean, t) for t in syms]]
        theta = [sympy.Symbol(f"_theta{i}_", real=True) for i in range(len(syms))]
        rename = dict(zip(syms, theta, strict=True))
        vd = self._new_rows(mean, data)
        if vd is None:
            columns, n = {}, 1
        else:
            columns, n = vd.columns, vd.n_rows
        subs, args, values = _data_args(exprs, self.spec.data_syms, columns)
        exprs = [e.xreplace(subs).xreplace(rename) for e in exprs]
        f = _compile_rows(exprs, theta + args)
        with np.errstate(all="ignore"):
            out = f(*[float(v) for v in x], *values)
        cols = [np.broadcast_to(np.asarray(c, dtype=float), (n,)) for c in out]
        return cols[0].copy(), np.column_stack(cols[1:])


def _uses(expr, sym) -> bool:
    if isinstance(sym, sympy.MatrixBase):
        return bool(expr.free_symbols & set(sym))
    return sym in expr.free_symbols


class _LsqProblem(_Problem):
    def __init__(self, spec, bounds, columns, weights, n):
        super().__init__(spec, bounds, columns, n)
        self.residual = spec.lhs - spec.rhs
        syms = spec.flat_symbols()
        subs, args, values = _data_args(self.residual, spec.data_syms, columns)
        self._theta = [sympy.Symbol(f"_theta{i}_", real=True) for i in range(len(syms))]
        r = self.residual.xreplace(subs).xreplace(dict(zip(syms, self._theta, strict=True)))
        from ..calculus import diff as _diff

        self._f = _compile_rows([r, *[_diff(r, t) for t in self._theta]], self._theta + args)
        self._values = values
        self._sw = None if weights is None else np.sqrt(weights)
        self.rss_min = None

    def mean_expr(self):
        return self.spec.rhs

    def residual_jac(self, x):
        with np.errstate(all="ignore"):
            out = self._f(*[float(v) for v in x], *self._values)
        r = np.broadcast_to(np.asarray(out[0], dtype=float), (self.n,))
        J = np.column_stack(
            [np.broadcast_to(np.asarray(c, dtype=float), (self.n,)) for c in out[1:]]
        )
        if self._sw is not None:
            r = r * self._sw
            J = J * self._sw[:, None]
        return r, J

    @staticmethod
    def wald_quantile(level, dof):
        return scipy.stats.t.ppf(0.5 + level / 2, dof) if dof > 0 else np.nan

    @staticmethod
    def profile_quantile(level, dof):
        return scipy.stats.f.ppf(level, 1, dof) if dof > 0 else np.nan

    def profile_stat(self, result, j, value, start):
        s2 = result.rss / result.dof
        p = len(start)
        free = [i for i in range(p) if i != j]
        x = np.array(start, dtype=float)
        x[j] = value
        if free:
            lo = [self._bounds[i][0] if self._bounds[i][0] is not None else -np.inf for i in free]
            hi = [self._bounds[i][1] if self._bounds[i][1] is not None else np.inf for i in free]
            z0 = np.clip(x[free], lo, hi)

            def fun(z):
                x[free] = z
                return self.residual_jac(x)[0]

            def jac(z):
                x[free] = z
                return self.residual_jac(x)[1][:, free]

            try:
                res = scipy.optimize.least_squares(
                    fun,
                    z0,
                    jac=jac,
                    bounds=(lo, hi),
                    method="trf",
                    xtol=1e-15,
                    ftol=1e-15,
                    gtol=1e-15,
                    x_scale="jac",
                    max_nfev=200 * (len(free) + 1),
                )
            except ValueError:
                return np.inf, start
            x[free] = res.x
        r, _ = self.residual_jac(x)
        rss = float(r @ r)
        if not np.isfinite(rss):
            return np.inf, start
        return (rss - self.rss_min) / s2, x.copy()


class _MleProblem(_Problem):
    def __init__(self, spec, bounds, columns, n, objective, mean, nll_min, names):
        super().__init__(spec, bounds, columns, n)
        self.objective = objective
        self._mean = mean
        self.nll_min = nll_min
        self.names = names
        self.method, self.options = None, None

    def mean_expr(self):
        return self._mean

    @staticmethod
    def wald_quantile(level, dof):
        return scipy.stats.norm.ppf(0.5 + level / 2)

    @staticmethod
    def profile_quantile(level, dof):
        return scipy.stats.chi2.ppf(level, 1)

    def profile_stat(self, result, j, value, start):
        lo, hi = self._bounds[j]
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return np.inf, start
        try:
            sol = maximize_likelihood(
                self.objective,
                start,
                self.names,
                bounds=self._bounds,
                method=self.method,
                options=self.options,
                fixed={j: value},
            )
        except SymmlError:
            return np.inf, start
        return 2.0 * (sol.nll - self.nll_min), sol.x


# ---------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------


@budgeted("fit")
@_with_backend
def fit(
    model,
    data,
    p0=None,
    *,
    method: str | None = None,
    bounds: Mapping[str, tuple] | None = None,
    weights=None,
    missing: str = "raise",
    options: Mapping | None = None,
    backend: str = "numpy",
) -> FitResult:
    """Fit a model written as ``lhs ~ rhs`` to data.

    Parameters
    ----------
    model : str or Program
        Language text with one ``~`` statement (declarations may precede it:
        ``"param s = 1 in [0, inf]; y ~ Normal(a + b*x, s)"``) or a parsed Program.
        ``y ~ expr`` is least squares; ``y ~ Normal(mu, s)``, ``Bernoulli(p)``,
        ``Poisson(rate)``, ``Binomial(n, p)``, ``Exponential(rate)`` is maximum likelihood.
        A data vector ``x`` (an ``(n, d)`` column) may be used undeclared; a parameter dotted
        with it (``dot(w, x)`` or ``w @ x``) becomes a parameter vector of length ``d``.
    data : mapping or DataFrame
        Column name -> values, one per row (an ``(n, d)`` array for a vector column).
    p0 : mapping, optional
        Starting values by parameter name (a vector takes an array; ``"w[0]"`` one entry).
        Declared parameters start at their declared value (0 unless given); an undeclared
        name in ``p0`` is a parameter starting there; parameter vectors sized from the data
        start at 0. Every other name of the model must be a data column.
    method : str, optional
        Maximum likelihood: any SciPy method of the method table shared with
        :func:`symml.minimize` (:mod:`symml.optimize.methods`, same names and aliases):
        ``"trust-exact"`` (default), ``"trust-constr"`` (default with bounds),
        ``"newton"``, ``"trust-krylov"``, ``"trust-ncg"``, ``"newton-cg"``, ``"bfgs"``,
        ``"l-bfgs-b"`` (``"lbfgs"``), ``"cg"``, ``"tnc"``, ``"nelder-mead"``, ``"powell"``,
        ``"slsqp"``. Profile intervals re-fit with the same method and options. Least squares
        is solved by symml's least-squares engine (``method=None`` or ``"least_squares"``).
    bounds : mapping, optional
        Parameter name -> ``(low, high)``, None for an open side (overrides declarations).
    weights : array-like or str, optional
        Per-row weights (or the name of a data column holding them). Least squares minimizes
        ``sum(w * residual^2)`` (use ``1/sigma^2``); likelihood sums ``w * loglik`` (frequency
        weights).
    backend : {"numpy", "numba", "jax"}
        The :func:`symml.compile` backend for the objective and its derivatives.
    missing : {"raise", "drop"}
        Rows with NaN or infinite values in a used column raise a DataError (saying how many
        and where), or are dropped explicitly with ``"drop"`` (counted in ``result.dropped``).
    options : mapping, optional
        SciPy options of a maximum-likelihood method (``{"maxiter": 200}``), checked
        against the method table as in :func:`symml.minimize`.

    Returns
    -------
    FitResult

    Raises
    ------
    DataError
        Missing columns, different lengths, NaN/inf values, responses outside a
        distribution's support.
    FitError
        A model that cannot be fitted as written (no ``~``, a parameter the model does not
        depend on, a diverging optimizer, ...).

    Examples
    --------
    >>> import numpy as np, symml as sm
    >>> y = np.array([2.0, 0.0, 3.0, 1.0, 4.0, 2.0])
    >>> r = sm.fit("param rate = 1; y ~ Poisson(rate)", {"y": y})
    >>> print(f"{r.params['rate']:.4f} {r.stderr['rate']:.4f}")
    2.0000 0.5774
    """
    if is_dask_data(data):  # Dask DataFrame / arrays: out of core (fitting/dask_fit.py)
        return fit_dask(model, data, p0, method=method, bounds=bounds, weights=weights,
                        missing=missing)
    columns_in = as_columns(data)
    if isinstance(model, str):  # x[0], x[1] (or x_0, x_1) columns form the data vector x
        columns_in = group_vector_columns(columns_in, used_names(model))
    spec = _Spec(model, columns_in, p0)
    is_lsq = spec.dist is None
    if method is not None:  # THE method table (symml.optimize.methods) decides
        if is_lsq:
            get_method(method, allowed=("lsq",), what="a least-squares model (y ~ expr)")
        else:
            get_method(method, allowed=("scipy",), what="a likelihood model")
    if options is not None and not isinstance(options, Mapping):
        raise ArgumentError(f"options must be a mapping of option names to values, got {options!r}")
    if is_lsq and options:
        raise ArgumentError(
            "options are for the SciPy methods of maximum-likelihood fits; symml's "
            "least-squares engine chooses its own settings"
        )

    # weights: an array or the name of a column
    extra = {}
    if weights is not None:
        if isinstance(weights, str):
            if weights not in columns_in:
                raise ArgumentError(
                    f"weights names the column '{weights}', which data does not have"
                )
            weights = columns_in[weights]
        extra["weights"] = weights
    names = list(spec.data_syms)
    shapes = {n: spec.declared_shapes[n] for n in names if n in spec.declared_shapes}
    for n in names:
        if n not in shapes:
            shapes[n] = (
                ()
                if not isinstance(spec.data_syms[n], sympy.MatrixBase)
                else (len(spec.data_syms[n]),)
            )
    vd = validate_data(columns_in, names, shapes=shapes, missing=missing, extra=extra)
    columns = vd.columns
    w = columns.pop("weights", None)
    if w is not None and (w < 0).any():
        raise ArgumentError(f"weights must be >= 0; {int((w < 0).sum())} are negative")
    if w is not None and not (w > 0).any():
        raise DataError(
            "every weight is zero: no row takes part in the fit; give positive weights to the "
            "rows to fit"
        )
    n = vd.n_rows
    x0, flat_bounds, init = _start_and_bounds(spec, p0, bounds)
    flat_names = spec.flat_names()
    p = len(flat_names)

    if is_lsq:
        # Columns given exactly (decimal strings, Decimal, Fraction) reach the engine as
        # they are, so its extended-precision polish sees the exact data (NIST Lanczos1).
        exact = {}
        if vd.keep is None:
            for name in names:
                raw = columns_in[name]
                if not isinstance(spec.data_syms[name], sympy.MatrixBase) and _is_exact(raw):
                    exact[name] = raw
        result = _fit_lsq(spec, columns, w, n, x0, flat_bounds, flat_names, exact)
    else:
        result = _fit_mle(spec, columns, w, n, x0, flat_bounds, flat_names, method, options)
    result.init = init
    result.dropped = vd.dropped
    assert result.nparams == p
    return result


def _named_cov(cov, names):
    from .result import CovarianceMatrix

    return CovarianceMatrix(cov, names)


def _is_exact(raw) -> bool:
    """True for a column of decimal strings, Decimals or Fractions (exact values)."""
    from decimal import Decimal
    from fractions import Fraction

    if isinstance(raw, np.ndarray) and raw.dtype != object and raw.dtype.kind not in "US":
        return False
    try:
        items = list(raw)
    except TypeError:
        return False
    return bool(items) and all(isinstance(v, (str, Decimal, Fraction)) for v in items)


def _fit_lsq(spec, columns, w, n, x0, flat_bounds, flat_names, exact=None) -> FitResult:
    from .lsq import solve_least_squares

    residual = spec.lhs - spec.rhs
    _check_dependence(residual, spec)
    p = len(flat_names)
    if n < p:
        raise FitError(f"{n} data rows cannot determine {p} parameters ({', '.join(flat_names)})")
    data = {}
    for name, sym in spec.data_syms.items():
        if isinstance(sym, sympy.MatrixBase):
            col = columns[name].reshape(n, -1)
            for k, comp in enumerate(sym):
                data[comp] = col[:, k]
        else:
            data[sym] = (exact or {}).get(name, columns[name])
    sol = solve_least_squares(
        residual, spec.flat_symbols(), data, list(x0), bounds=flat_bounds, weights=w
    )
    x = np.asarray(sol.x, dtype=float)
    problem = _LsqProblem(spec, flat_bounds, columns, w, n)
    problem.rss_min = float(sol.rss)
    if sol.cov is None:
        cov = np.full((p, p), np.nan)
    else:
        cov = np.asarray(sol.cov, dtype=float)
    rss = float(sol.rss)
    if rss > 0:
        loglik = -0.5 * n * (math.log(2 * math.pi * rss / n) + 1)
    else:
        loglik = math.inf
    if w is not None:
        with np.errstate(divide="ignore"):
            loglik += 0.5 * float(np.sum(np.log(w[w > 0])))
    return FitResult(
        model=spec.text,
        kind="least squares",
        method=sol.method or "least_squares",
        names=flat_names,
        x=x,
        params=_unflatten(spec, x),
        stderr=_unflatten(spec, np.sqrt(np.diag(cov)))
        if sol.cov is not None
        else _unflatten(spec, np.full(p, np.nan)),
        cov=_named_cov(cov, flat_names),
        cov_reason=sol.cov_reason or ("" if sol.cov is not None else "undetermined"),
        nobs=n,
        nparams=p,
        rss=rss,
        loglik=loglik,
        nfev=int(sol.nfev),
        njev=int(sol.njev),
        success=bool(sol.success),
        status=int(sol.status),
        message=str(sol.message),
        dist=None,
        residuals=np.asarray(sol.residuals, dtype=float),
        response=_eval_rows(spec.lhs, spec.data_syms, columns, n),
        weights=None if w is None else np.asarray(w, dtype=float),
        _problem=problem,
    )


def _fit_mle(spec, columns, w, n, x0, flat_bounds, flat_names, method, options=None) -> FitResult:
    ysym = sympy.Symbol("_response_", real=True)
    nsym = sympy.Symbol("_trials_", real=True)
    params = set(spec.flat_symbols())
    yv = _eval_rows(spec.lhs, spec.data_syms, columns, n)
    if not np.all(np.isfinite(yv)):
        bad = np.flatnonzero(~np.isfinite(yv))
        raise FitError(
            f"the left side {spec.lhs} is not finite in {len(bad)} row(s) (first row {bad[0]}); "
            "check the data against the formula"
        )
    args = list(spec.dist_args)
    nv = None
    n_expr = None
    if spec.dist == "Binomial":
        n_expr = args[0]
        if n_expr.free_symbols & params:
            raise FitError(
                f"the number of trials of Binomial(n, p) must be data or a number, not a "
                f"function of parameters: {spec.text}"
            )
        nv = _eval_rows(n_expr, spec.data_syms, columns, n)
        args[0] = nsym
    row = row_negloglik(spec.dist, args, ysym)
    if row.check is not None:
        row.check(yv, nv)
    _check_dependence(row.core, spec)
    p = len(flat_names)
    mean = row.mean.xreplace({nsym: n_expr}) if n_expr is not None else row.mean
    cols = dict(columns)
    dsyms = dict(spec.data_syms)
    cols["_response_"] = yv
    dsyms["_response_"] = ysym
    if nv is not None:
        cols["_trials_"] = nv
        dsyms["_trials_"] = nsym
    objective = NLLObjective(row.core, spec.params, cols, dsyms, weights=w)
    sol = maximize_likelihood(
        objective, x0, flat_names, bounds=flat_bounds, method=method, options=options
    )
    with np.errstate(all="ignore"):
        const = row.constant(yv, nv)
    const_sum = float(const.sum() if w is None else w @ const)
    loglik = -(sol.nll + const_sum)
    x = sol.x
    if sol.cov is None:
        cov = np.full((p, p), np.nan)
    else:
        cov = sol.cov
    problem = _MleProblem(spec, flat_bounds, columns, n, objective, mean, sol.nll, flat_names)
    problem.method, problem.options = sol.method, options  # profile re-fits use the same
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(cov))
    return FitResult(
        model=spec.text,
        kind="maximum likelihood",
        method=sol.method,
        names=flat_names,
        x=x,
        params=_unflatten(spec, x),
        stderr=_unflatten(spec, se),
        cov=_named_cov(cov, flat_names),
        cov_reason=sol.cov_reason,
        nobs=n,
        nparams=p,
        rss=None,
        loglik=loglik,
        nfev=sol.nfev,
        njev=sol.njev,
        success=sol.success,
        status=sol.status,
        message=sol.message,
        dist=spec.dist,
        residuals=None,
        response=yv,
        weights=None if w is None else np.asarray(w, dtype=float),
        _problem=problem,
    )
