"""The NumPy backend: prints a :class:`~symml.backends.plan.Plan` as vectorized NumPy code.

Row-wise values are NumPy broadcasting over the leading (row) axes; linear forms are
``x @ w``; with ``reduce`` the ``outer`` and ``gram`` parts are the matrix products
``X.T @ F`` and ``Xa.T @ (F * Xb)``, and sums of products of two per-row arrays are dot
products. The runtime helpers below live in the namespace of the generated code.
"""

from __future__ import annotations

import math

import numpy
import scipy.special
import sympy
from sympy.printing.numpy import SciPyPrinter

from ..functions import NUMERICS
from .args import fs as _fs
from .printing import Names, PrinterMixin, print_or_raise

__all__ = ["Printer", "emit"]


def _fin(e, L):
    """Value ``e`` as a float array of exactly the leading shape ``L`` (float for ``()``)."""
    a = numpy.asarray(e, dtype=float)
    if a.shape != L:
        a = numpy.broadcast_to(a, L).copy()
    return a if L else a[()]


def _fincopy(e, L):
    """Like :func:`_fin`, but never returns the input array itself (no aliasing)."""
    a = numpy.array(e, dtype=float)
    if a.shape != L:
        a = numpy.broadcast_to(a, L).copy()
    return a if L else a[()]


def _rsum(e, L):
    """Sum of ``e`` broadcast to ``L`` without materializing the broadcast."""
    a = numpy.asarray(e, dtype=float)
    if a.shape == L:
        return a.sum()
    n = math.prod(L)
    return a.sum() * (n / a.size) if a.size else numpy.float64(0.0)


def _rvdot(a, b, L):
    """Sum over the rows of ``a * b`` (both broadcast to ``L``); a dot product when possible."""
    a = numpy.asarray(a, dtype=float)
    b = numpy.asarray(b, dtype=float)
    if len(L) == 1 and a.shape == L and b.shape == L:
        # Long vectors by einsum, not numpy.dot: OpenBLAS runs a long ddot on threads, and on
        # a busy machine one 16384-long ddot then waits a scheduler slice (~10 ms instead of
        # 5 us; measured). It keeps ddot on one thread up to 10000 (our blocks have 8192 rows).
        if a.size <= 10000:
            return numpy.dot(a, b)
        return numpy.einsum("i,i->", a, b)
    return _rsum(a * b, L)


def _dot(a, b):
    """Row-wise inner product over the last axis: ``a @ b`` when one side is a plain vector."""
    if b.ndim == 1:
        return a @ b
    if a.ndim == 1:
        return b @ a
    return numpy.einsum("...i,...i->...", a, b)


def _stack(*cs):
    """Coefficients ``c_0 .. c_{k-1}`` stacked on a new last axis."""
    return numpy.stack(numpy.broadcast_arrays(*(numpy.asarray(c, dtype=float) for c in cs)), -1)


def _rdot(F, x, L):
    """``sum over rows of F[r] * x[r, :]`` -- ``F @ X`` for one leading axis."""
    F = numpy.asarray(F, dtype=float)
    k = x.shape[-1:]
    if len(L) == 1 and F.shape == L and x.shape[:-1] == L:
        return x.T @ F  # faster than F @ x for C-ordered x (measured: 28 us against 41 us)
    if x.shape[:-1] == L:
        if F.shape != L:
            F = numpy.broadcast_to(F, L)
        return numpy.tensordot(F, x, axes=len(L)) if L else F * x
    return numpy.tensordot(numpy.broadcast_to(F, L), numpy.broadcast_to(x, L + k), axes=len(L))


def _outer(F, x, L):
    """Per-row ``F[r] * x[r, :]`` as an array of shape ``L + (k,)``."""
    out = numpy.multiply(numpy.asarray(F, dtype=float)[..., None], x)
    shape = L + x.shape[-1:]
    return out if out.shape == shape else numpy.broadcast_to(out, shape).copy()


def _empty(L, shape):
    return numpy.empty(L + shape)


def _iadd(t, b):
    """``t + b``, in place when ``t`` is a temporary array that ``b`` does not reshape."""
    if type(t) is numpy.ndarray and t.flags.writeable and numpy.ndim(b) == 0:
        t += b
        return t
    return t + b


def _loggamma(x):
    """Real loggamma: nan where it is not real (x < 0 off the poles), inf at the poles."""
    out = scipy.special.gammaln(x)
    bad = (x < 0) & (x != numpy.floor(x))
    if numpy.any(bad):
        out = numpy.where(bad, numpy.nan, out)
    return out


def _rgram(F, xa, xb, L):
    """``sum over rows of F[r] * xa[r, :, None] * xb[r, None, :]``: ``Xa.T @ (F * Xb)``."""
    F = numpy.asarray(F, dtype=float)
    if len(L) == 1 and xa.shape[:-1] == L and xb.shape[:-1] == L:
        if F.ndim == 0:
            return (xa.T @ xb) * F
        if F.shape == L:
            return xa.T @ (F[:, None] * xb)
    xa = numpy.broadcast_to(xa, L + xa.shape[-1:])
    xb = numpy.broadcast_to(xb, L + xb.shape[-1:])
    return numpy.einsum("...,...i,...j->ij", numpy.broadcast_to(F, L), xa, xb)


def _ogram(F, xa, xb, L):
    """Per-row ``F[r] * xa[r, :, None] * xb[r, None, :]`` of shape ``L + (ka, kb)``."""
    F = numpy.asarray(F, dtype=float)
    out = F[..., None, None] * xa[..., :, None] * xb[..., None, :]
    shape = L + xa.shape[-1:] + xb.shape[-1:]
    return out if out.shape == shape else numpy.broadcast_to(out, shape).copy()


def _mirror(t):
    """Copy the upper triangle of the last two axes onto the lower one (in place)."""
    i, j = numpy.tril_indices(t.shape[-1], -1)
    t[..., i, j] = t[..., j, i]
    return t


def _heaviside(x, h0):
    """Heaviside step with value ``h0`` at 0 (``numpy.heaviside`` of float arrays)."""
    return numpy.heaviside(numpy.asarray(x, dtype=float), h0)


_NAMESPACE_BASE = {
    "_loggamma": _loggamma,
    "_rgram": _rgram,
    "_ogram": _ogram,
    "_mirror": _mirror,
    "_heaviside": _heaviside,
    "numpy": numpy,
    "scipy": scipy,
    "_fin": _fin,
    "_fincopy": _fincopy,
    "_rsum": _rsum,
    "_rvdot": _rvdot,
    "_dot": _dot,
    "_stack": _stack,
    "_rdot": _rdot,
    "_outer": _outer,
    "_empty": _empty,
    "_iadd": _iadd,
}


class Printer(PrinterMixin, SciPyPrinter):
    """NumPy/SciPy code printer with symml's functions (module table: ``numpy``, ``scipy``)."""

    _numerics = NUMERICS["numpy"]

    def _print_sigmoid(self, expr):
        return self._numerics["sigmoid"].format(self._print(expr.args[0]))

    def _print_softplus(self, expr):
        return self._numerics["softplus"].format(self._print(expr.args[0]))

    def _print_relu(self, expr):
        return f"numpy.maximum({self._print(expr.args[0])}, 0.0)"

    def _print_Heaviside(self, expr):
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        return f"_heaviside({self._print(expr.args[0])}, {float(h0)!r})"

    def _print_DiracDelta(self, expr):
        # the derivative of a step is 0 almost everywhere; like automatic differentiation,
        # compiled code uses 0 everywhere (relu'' = heaviside' = 0, abs'' = 0)
        return f"numpy.zeros_like({self._print(expr.args[0])}, dtype=float)"

    def _print_sign(self, expr):
        return f"numpy.sign({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"numpy.abs({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        return self._minmax(expr, "numpy.maximum")

    def _print_Min(self, expr):
        return self._minmax(expr, "numpy.minimum")

    def _print_loggamma(self, expr):
        # scipy's gammaln is log|Gamma(x)|: for x < 0 (not a pole) loggamma is not real
        return f"_loggamma({self._print(expr.args[0])})"


# ------------------------------------------------------------------------------------------
# emission
# ------------------------------------------------------------------------------------------


def _index_text(index, pre: str) -> str:
    """Source for an index tuple of ints and slices (``pre`` is ``"..., "`` for row axes)."""
    parts = []
    for i in index:
        if isinstance(i, slice):
            parts.append(f"{i.start}:{i.stop}")
        else:
            parts.append(str(i))
    return pre + ", ".join(parts)


class Vectorized:
    """Naming and printing shared by the vectorized emitters (NumPy, JAX)."""

    def __init__(self, plan, printer_cls):
        self.plan = plan
        self.names = Names()
        self.local: dict = {}
        self.lines: list[str] = []
        self.arg_locals = []
        self.comp_of: dict = {}
        for a in plan.specs:
            nm = self.names.fresh(a.name)
            self.arg_locals.append(nm)
            if not a.shape:
                self.local[a.symbols[0]] = nm
            else:
                for j, idx in enumerate(numpy.ndindex(a.shape)):
                    self.comp_of[a.symbols[j]] = (nm, idx)
        self.arg_local_of = {a.name: nm for a, nm in zip(plan.specs, self.arg_locals, strict=True)}
        self.printer = printer_cls(self.local)
        self.counter: dict = {}
        self.backend = printer_cls.__module__.rsplit(".", 1)[-1]

    def name_dummy(self, d, prefix: str) -> str:
        n = self.counter.get(prefix, 0)
        self.counter[prefix] = n + 1
        self.local[d] = f"_{prefix}{n}"
        return self.local[d]

    def pr(self, e) -> str:
        # components are extracted lazily (only those that appear), in a fixed order
        for s in sorted(_fs(e), key=str):
            if s in self.comp_of and s not in self.local:
                nm, idx = self.comp_of[s]
                lname = self.names.fresh(f"{nm}_{'_'.join(map(str, idx))}")
                self.local[s] = lname
                self.lines.append(f"    {lname} = {nm}[..., {', '.join(map(str, idx))}]")
        return print_or_raise(self.printer, e, self.backend)

    def whole_vectors(self) -> dict:
        """Coefficient tuples that are an argument as a whole: a vector, a matrix row/column."""
        whole: dict = {}
        for a in self.plan.specs:
            nm = self.arg_local_of[a.name]
            if len(a.shape) == 1:
                whole[tuple(a.symbols)] = nm
            elif len(a.shape) == 2:
                r, c = a.shape
                for i in range(r):
                    whole.setdefault(tuple(a.symbols[i * c : (i + 1) * c]), f"{nm}[..., {i}, :]")
                for j in range(c):
                    whole.setdefault(tuple(a.symbols[j::c]), f"{nm}[..., :, {j}]")
        return whole

    def linear_forms(self, dot: str, stack: str, const_vec: str) -> None:
        whole = self.whole_vectors()
        for ph, arg, cs in self.plan.linear:
            nm = self.name_dummy(ph, "lin")
            xname = self.arg_local_of[arg.name]
            if cs in whole:
                self.lines.append(f"    {nm} = {dot}({xname}, {whole[cs]})")
            elif all(c.is_number for c in cs):
                consts = ", ".join(repr(float(c)) for c in cs)
                self.lines.append(f"    {nm} = {xname} @ {const_vec}([{consts}])")
            else:
                coeffs = ", ".join(self.pr(c) for c in cs)
                self.lines.append(f"    {nm} = {dot}({xname}, {stack}({coeffs}))")

    def header(self, doc: str) -> list[str]:
        return [
            f"def _symml_compiled({', '.join(self.arg_locals + ['_L', '_N'])}):",
            f'    """{doc}"""',
        ]


def emit(plan) -> tuple[str, dict]:
    """NumPy source of ``plan`` and the namespace it runs in."""
    v = Vectorized(plan, Printer)
    lines, pr, reduce = v.lines, v.pr, plan.reduce
    v.linear_forms("_dot", "_stack", "numpy.array")
    lin = {ph for ph, _, _ in plan.linear}
    uses: dict = {}
    for _, e in plan.replacements:
        for s in _fs(e):
            uses[s] = uses.get(s, 0) + 1
    for e in plan.outputs:
        for s in _fs(e):
            uses[s] = uses.get(s, 0) + 1
    for sym, e in plan.replacements:
        target = v.name_dummy(sym, "x")
        # z = x @ w + b: add the bias in place into the fresh matrix-product result
        if e.is_Add and len(e.args) == 2 and any(a in lin and uses.get(a) == 1 for a in e.args):
            ph = next(a for a in e.args if a in lin and uses.get(a) == 1)
            other = e.args[1] if e.args[0] is ph else e.args[0]
            lines.append(f"    {target} = _iadd({v.local[ph]}, {pr(other)})")
            continue
        lines.append(f"    {target} = {pr(e)}")
    outputs = plan.outputs

    def value_code(e) -> str:
        """Code for a reduced scalar (or broadcast scalar) result."""
        if reduce is None:
            # a bare symbol would be an input, a view of one, or shared with another result
            return f"_fincopy({pr(e)}, _L)" if e.is_Symbol else f"_fin({pr(e)}, _L)"
        parts = []
        terms = e.args if (e.is_Add and len(e.args) <= 4) else (e,)
        for t in terms:
            c, rest = t.as_coeff_Mul()
            if rest.is_Mul and len(rest.args) == 2:
                code = f"_rvdot({pr(rest.args[0])}, {pr(rest.args[1])}, _L)"
            else:
                code = f"_rsum({pr(rest)}, _L)"
            if c == 1:
                parts.append(code)
            elif c == -1:
                parts.append(f"-{code}")
            else:
                parts.append(f"{pr(c)}*{code}")
        return " + ".join(parts).replace("+ -", "- ")

    results = []
    rcount = 0
    pre = "..., " if reduce is None else ""
    for fblocks in plan.blocks:
        outs = []
        for blk in fblocks:
            target = f"_r{rcount}"
            rcount += 1
            outs.append(target)
            parts = blk.parts
            if not blk.shape:
                lines.append(f"    {target} = {value_code(outputs[parts[0][2]])}")
                continue
            whole_outer = len(parts) == 1 and parts[0][0] == "outer" and len(blk.shape) == 1
            if whole_outer:
                _, _, arg, kF, rs = parts[0]
                xname = v.arg_local_of[arg.name]
                fn = "_outer" if reduce is None else "_rdot"
                lines.append(f"    {target} = {fn}({pr(outputs[kF])}, {xname}, _L)")
                for idx, kR in rs:
                    lines.append(
                        f"    {target}[{_index_text(idx, pre)}] += {value_code(outputs[kR])}"
                    )
                continue
            shape = repr(tuple(blk.shape))
            if reduce is None:
                lines.append(f"    {target} = _empty(_L, {shape})")
            else:
                lines.append(f"    {target} = numpy.empty({shape})")
            for part in parts:
                kind = part[0]
                ix = _index_text(part[1], pre)
                if kind == "entry":
                    lines.append(f"    {target}[{ix}] = {value_code(outputs[part[2]])}")
                elif kind == "outer":
                    _, _, arg, kF, rs = part
                    fn = "_outer" if reduce is None else "_rdot"
                    xname = v.arg_local_of[arg.name]
                    lines.append(f"    {target}[{ix}] = {fn}({pr(outputs[kF])}, {xname}, _L)")
                else:
                    _, _, xa, xb, kF, rs = part
                    fn = "_ogram" if reduce is None else "_rgram"
                    a, b = v.arg_local_of[xa.name], v.arg_local_of[xb.name]
                    lines.append(f"    {target}[{ix}] = {fn}({pr(outputs[kF])}, {a}, {b}, _L)")
                for idx, kR in rs if kind != "entry" else ():
                    jx = _index_text(idx, pre)
                    lines.append(f"    {target}[{jx}] += {value_code(outputs[kR])}")
            if blk.symmetric:
                lines.append(f"    _mirror({target})")
        if plan.grad_specs is None:
            results.append(outs[0])
        else:
            results.append(f"({outs[0]}, [{', '.join(outs[1:])}])")

    ret = results[0] if plan.single else "(" + ", ".join(results) + ",)"
    doc = "Generated by symml.compile; _L = leading (row) shape, _N = its size."
    if reduce:
        doc += (
            "\n\n    Sums over the rows. The caller feeds long inputs in blocks of rows, adds the"
            "\n    blocks' sums, and divides by the number of rows for reduce='mean'.\n    "
        )
    source = "\n".join(v.header(doc) + lines + [f"    return {ret}", ""])
    return source, dict(_NAMESPACE_BASE)
