"""The JAX backend: ``jax.numpy`` code in float64 (``pip install "symml[jax]"``).

The same plan as the NumPy backend, printed with a subclass of SymPy's ``JaxPrinter``;
arrays are immutable, so blocks are built by stacking their entries (or ``.at[].set`` for
matrix-form parts). Nothing converts to NumPy on the way, so a compiled function composes
with ``jax.jit``, ``jax.vmap`` and ``jax.grad`` (argument shapes are static under a trace,
which is all the call path reads). Importing this module enables JAX's float64 mode
(``jax_enable_x64``): symml's results are double precision on every backend.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import jax.scipy.special
import numpy
import sympy
from sympy.printing.numpy import JaxPrinter

from ..errors import ArgumentError
from ..functions import NUMERICS
from .numpy import Vectorized, _index_text
from .printing import PrinterMixin

__all__ = ["Printer", "emit", "run"]

jax.config.update("jax_enable_x64", True)

_F = jnp.float64


def _b(e, L):
    return jnp.broadcast_to(jnp.asarray(e, dtype=_F), L)


def _rsum(e, L):
    a = jnp.asarray(e, dtype=_F)
    if a.shape == L:
        return jnp.sum(a)
    return jnp.sum(a) * (math.prod(L) / a.size) if a.size else jnp.zeros((), _F)


def _dot(a, b):
    return (
        jnp.einsum("...i,...i->...", a, b)
        if (a.ndim > 1 and b.ndim > 1)
        else (a @ b if b.ndim == 1 else b @ a)
    )


def _stack(*cs):
    return jnp.stack(jnp.broadcast_arrays(*(jnp.asarray(c, dtype=_F) for c in cs)), -1)


def _outer(F, x, L):
    return jnp.broadcast_to(jnp.asarray(F, dtype=_F)[..., None] * x, L + x.shape[-1:])


def _rdot(F, x, L):
    k = x.shape[-1:]
    return jnp.tensordot(_b(F, L), jnp.broadcast_to(x, L + k), axes=len(L))


def _ogram(F, xa, xb, L):
    out = jnp.asarray(F, dtype=_F)[..., None, None] * xa[..., :, None] * xb[..., None, :]
    return jnp.broadcast_to(out, L + xa.shape[-1:] + xb.shape[-1:])


def _rgram(F, xa, xb, L):
    xa = jnp.broadcast_to(xa, L + xa.shape[-1:])
    xb = jnp.broadcast_to(xb, L + xb.shape[-1:])
    return jnp.einsum("...,...i,...j->ij", _b(F, L), xa, xb)


def _mirror(t):
    upper = jnp.triu(t)
    return upper + jnp.swapaxes(jnp.triu(t, 1), -1, -2)


def _loggamma(x):
    bad = (x < 0) & (x != jnp.floor(x))
    return jnp.where(bad, jnp.nan, jax.scipy.special.gammaln(x))


_SIGMOID = NUMERICS["jax"]["sigmoid"]
_SOFTPLUS = NUMERICS["jax"]["softplus"]

_NAMESPACE = {
    "jax": jax,
    "jnp": jnp,
    "numpy": numpy,
    "_b": _b,
    "_rsum": _rsum,
    "_dot": _dot,
    "_stack": _stack,
    "_outer": _outer,
    "_rdot": _rdot,
    "_ogram": _ogram,
    "_rgram": _rgram,
    "_mirror": _mirror,
    "_loggamma": _loggamma,
    "_sigmoid": lambda u: _SIGMOID(u, jnp),
    "_softplus": lambda u: _SOFTPLUS(u, jnp),
}


class Printer(PrinterMixin, JaxPrinter):
    """``jax.numpy`` printer (module table: ``jax.numpy``, ``jax.scipy.special``)."""

    _inf = "jax.numpy.inf"

    def _print_sigmoid(self, expr):
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"_softplus({self._print(expr.args[0])})"

    def _print_relu(self, expr):
        return f"jax.numpy.maximum({self._print(expr.args[0])}, 0.0)"

    def _print_Heaviside(self, expr):
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        return f"jax.numpy.heaviside({self._print(expr.args[0])}, {float(h0)!r})"

    def _print_DiracDelta(self, expr):
        return f"jax.numpy.zeros_like(jax.numpy.asarray({self._print(expr.args[0])}, float))"

    def _print_sign(self, expr):
        return f"jax.numpy.sign({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"jax.numpy.abs({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        return self._minmax(expr, "jax.numpy.maximum")

    def _print_Min(self, expr):
        return self._minmax(expr, "jax.numpy.minimum")

    def _print_loggamma(self, expr):
        return f"_loggamma({self._print(expr.args[0])})"

    def _special(self, name, expr):
        return f"jax.scipy.special.{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_erf(self, expr):
        return self._special("erf", expr)

    def _print_erfc(self, expr):
        return self._special("erfc", expr)

    def _print_gamma(self, expr):
        return self._special("gamma", expr)


def emit(plan) -> tuple[str, dict]:
    """JAX source of ``plan`` and the namespace it runs in."""
    v = Vectorized(plan, Printer)
    lines, pr, reduce = v.lines, v.pr, plan.reduce
    v.linear_forms("_dot", "_stack", "jax.numpy.array")
    for sym, e in plan.replacements:
        target = v.name_dummy(sym, "x")
        lines.append(f"    {target} = {pr(e)}")
    outputs = plan.outputs

    def value(k) -> str:
        e = pr(outputs[k])
        return f"_b({e}, _L)" if reduce is None else f"_rsum({e}, _L)"

    pre = "..., " if reduce is None else ""
    results, rcount = [], 0
    for fblocks in plan.blocks:
        outs = []
        for blk in fblocks:
            target = f"_r{rcount}"
            rcount += 1
            outs.append(target)
            if not blk.shape:
                lines.append(f"    {target} = {value(blk.parts[0][2])}")
                continue
            shape = tuple(blk.shape)
            if all(p[0] == "entry" for p in blk.parts):
                at = {p[1]: p[2] for p in blk.parts}
                names = {}
                for idx, k in at.items():
                    names[idx] = f"{target}_{'_'.join(map(str, idx))}"
                    lines.append(f"    {names[idx]} = {value(k)}")
                flat = [
                    names[idx] if idx in names else names[idx[::-1]] for idx in numpy.ndindex(shape)
                ]
                lead = "_L + " if reduce is None else ""
                lines.append(
                    f"    {target} = jax.numpy.stack([{', '.join(flat)}], -1)"
                    f".reshape({lead}{shape!r})"
                )
                continue
            zeros = f"_L + {shape!r}" if reduce is None else repr(shape)
            lines.append(f"    {target} = jax.numpy.zeros({zeros}, dtype=jax.numpy.float64)")
            for part in blk.parts:
                kind = part[0]
                ix = _index_text(part[1], pre)
                if kind == "entry":
                    code = value(part[2])
                elif kind == "outer":
                    fn = "_outer" if reduce is None else "_rdot"
                    code = f"{fn}({pr(outputs[part[3]])}, {v.arg_local_of[part[2].name]}, _L)"
                else:
                    fn = "_ogram" if reduce is None else "_rgram"
                    a, b = v.arg_local_of[part[2].name], v.arg_local_of[part[3].name]
                    code = f"{fn}({pr(outputs[part[4]])}, {a}, {b}, _L)"
                lines.append(f"    {target} = {target}.at[{ix}].set({code})")
                for idx, kR in part[-1] if kind != "entry" else ():
                    jx = _index_text(idx, pre)
                    lines.append(f"    {target} = {target}.at[{jx}].add({value(kR)})")
            if blk.symmetric:
                lines.append(f"    {target} = _mirror({target})")
        if plan.grad_specs is None:
            results.append(outs[0])
        else:
            results.append(f"({outs[0]}, [{', '.join(outs[1:])}])")
    ret = results[0] if plan.single else "(" + ", ".join(results) + ",)"
    doc = "Generated by symml.compile (backend='jax'); _L = leading (row) shape."
    source = "\n".join(v.header(doc) + lines + [f"    return {ret}", ""])
    return source, dict(_NAMESPACE)


def run(cf, values):
    """Call the compiled JAX function: shapes checked, float64 arrays, rows broadcast."""
    from ..compile import _broadcast_lead, _shape_error

    arrays, lead = [], []
    for spec, val in zip(cf._specs, values, strict=True):
        try:
            a = jnp.asarray(val)
        except (TypeError, ValueError) as exc:
            raise ArgumentError(
                f"argument {spec.label}: expected a number or an array of numbers, got "
                f"{type(val).__name__} ({exc})"
            ) from None
        if jnp.iscomplexobj(a):
            raise ArgumentError(f"argument {spec.label}: complex values are not supported")
        a = a.astype(_F)
        nd = len(spec.shape)
        shape = a.shape
        if nd:
            if len(shape) < nd or tuple(shape[len(shape) - nd :]) != spec.shape:
                raise _shape_error(spec, shape)
            shape = shape[: len(shape) - nd]
        lead.append(tuple(shape))
        arrays.append(a)
    L = _broadcast_lead(cf._specs, lead)
    N = math.prod(L)
    out = cf._func(*arrays, L, N)
    if cf.reduce == "mean":
        if N == 0:
            from ..errors import ShapeError

            raise ShapeError("reduce='mean' over zero rows is undefined")
        out = jax.tree_util.tree_map(lambda t: t / N, out)
    return out
