"""The backend-neutral compile plan: everything :func:`symml.compile` decides before printing.

Stages (each a pure function of the previous one; every backend shares them):

1. arguments resolved (:mod:`symml.backends.args`) and constants checked (a constant that
   is not a real, finite double is an error at compile time);
2. a *numerical-safety* rewrite: ``log(1 + exp(u)) -> softplus(u)``,
   ``log(sigmoid(u)) -> -softplus(-u)``, ``1 - sigmoid(u) -> sigmoid(-u)``,
   ``1/(1 + exp(-u)) -> sigmoid(u)`` (how sigmoid and softplus are then evaluated is
   written once, in :mod:`symml.functions`);
3. exact derivatives for ``grad=`` (then the safety rewrite again);
4. linear forms ``sum_i c_i x[i]`` over data vectors become placeholders computed by a
   matrix product; vector blocks ``F * x[i] + R[i]`` become ``outer`` parts (``X.T @ F``
   reduced) and matrix blocks ``F * xa[i] * xb[j]`` become ``gram`` parts (``Xa.T @ (F * Xb)``
   reduced: the logistic Hessian is ``X.T @ (s * X)`` with ``s = p(1 - p)`` computed once);
5. symmetry (a structurally symmetric matrix computes its upper triangle only);
6. one common-subexpression elimination over every scalar that is computed, and subtrees
   nested too deeply for Python's parser hoisted into their own assignments.

The result is a :class:`Plan`; the emitters (:mod:`symml.backends.numpy`, ``numba``,
``jax``) only print it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy
import sympy

from .._diff import DiffContext
from .._diff import d as _deriv
from ..errors import ArgumentError
from ..functions import sigmoid, softplus
from .args import Arg, fs, resolve_args, resolve_grad
from .cse import cse_dag, opaque, rebuild

_fs = fs
_Arg = Arg

__all__ = ["Plan", "Block", "build_plan"]

# Subexpressions nested deeper than this are hoisted into their own assignment (Python's
# parser accepts at most 200 nested parentheses).
_MAX_DEPTH = 40
# Up to this many distinct expression nodes SymPy's full cse runs, above it the linear-time
# DAG elimination of symml.backends.cse.
_SYMPY_CSE_NODES = 1000


def _bottom_up(expr, fn, memo: dict):
    """Rebuild ``expr`` children-first, applying ``fn`` to each rebuilt node (memoized over
    the DAG, iteratively: no recursion however deep ``expr`` is)."""
    hit = memo.get(expr)
    if hit is not None:
        return hit
    stack = [expr]
    while stack:
        node = stack[-1]
        if node in memo:
            stack.pop()
            continue
        if opaque(node):
            memo[node] = fn(node)
            stack.pop()
            continue
        todo = [a for a in node.args if a not in memo]
        if todo:
            stack.extend(todo)
            continue
        stack.pop()
        new_args = tuple([memo[a] for a in node.args])
        changed = any(b is not a for a, b in zip(node.args, new_args, strict=True))
        memo[node] = fn(rebuild(node, new_args) if changed else node)
    return memo[expr]


def _one_plus_exp(a):
    """``u`` when ``a`` is ``1 + exp(u)``, else None."""
    if a.is_Add and len(a.args) == 2:
        first, other = a.args
        if other is sympy.S.One:
            first, other = other, first
        if first is sympy.S.One and isinstance(other, sympy.exp):
            return other.args[0]
    return None


def _mul(factors):
    """The product of ``factors`` (canonical ones, the number first if any) without SymPy's
    flatten-and-sort, unless a factor needs it (a number or a product after the first)."""
    factors = [f for f in factors if f is not sympy.S.One]
    if len(factors) <= 1:
        return factors[0] if factors else sympy.S.One
    if any(f.is_Number or f.is_Mul for f in factors[1:]) or factors[0].is_Mul:
        return sympy.Mul(*factors)
    return sympy.Mul._from_args(tuple(factors))


class _Safe:
    """The numerical-safety rewrite (stage 2), memoized over the DAG of every entry.

    The rewritten nodes are built without SymPy's flatten where nothing needs flattening
    (their factors are already canonical), so the rewrite costs a pass over the DAG, not a
    ``Mul`` construction per ancestor of every rewritten node."""

    def __init__(self):
        self.memo: dict = {}
        self.negs: dict = {}

    def __call__(self, expr):
        return _bottom_up(expr, self.node, self.memo)

    def neg(self, u):
        hit = self.negs.get(u)
        if hit is None:
            hit = self.negs[u] = -u
        return hit

    def node(self, e):
        """One rewrite at a node whose children are already rewritten."""
        if isinstance(e, sympy.log) and len(e.args) == 1:
            a = e.args[0]
            u = _one_plus_exp(a)
            if u is not None:  # log(1 + exp(u)) = softplus(u)
                return softplus(u)
            if isinstance(a, sigmoid):  # log(sigmoid(u)) = -softplus(-u)
                return -softplus(self.neg(a.args[0]))
            if a.is_Pow and isinstance(a.base, sigmoid) and a.exp.is_real:
                return -a.exp * softplus(self.neg(a.base.args[0]))
            return e
        if e.is_Pow:
            if e.exp.is_Integer and e.exp < 0:
                u = _one_plus_exp(e.base)
                if u is not None:  # (1 + exp(u))^-p = sigmoid(-u)^p
                    s = sigmoid(self.neg(u))
                    return s if e.exp == -1 else sympy.Pow(s, -e.exp, evaluate=False)
            return e
        if e.is_Add and e.args[0] is sympy.S.One:
            for t in e.args:  # 1 - sigmoid(u) = sigmoid(-u)
                if t.is_Mul and len(t.args) == 2 and t.args[0] is sympy.S.NegativeOne:
                    rest = t.args[1]
                    if isinstance(rest, sigmoid):
                        others = [o for o in e.args[1:] if o is not t]
                        new = sigmoid(self.neg(rest.args[0]))
                        if not others:
                            return new
                        if any(o.is_Add for o in others):
                            return sympy.Add(*others, new)
                        return sympy.Add._from_args((*others, new))
            return e
        if e.is_Mul:
            # exp(u) * sigmoid(-u)^p = sigmoid(u) * sigmoid(-u)^(p-1)
            factors = e.args
            sig = {}
            for j, g in enumerate(factors):
                base, p = (g.base, g.exp) if g.is_Pow else (g, sympy.S.One)
                if isinstance(base, sigmoid) and p.is_Integer and p > 0:
                    sig.setdefault(base.args[0], (j, base, p))
            if not sig:
                return e
            for i, f in enumerate(factors):
                if not isinstance(f, sympy.exp):
                    continue
                u = f.args[0]
                hit = sig.get(self.neg(u))
                if hit is not None:
                    j, base, p = hit
                    rest = [h for k, h in enumerate(factors) if k not in (i, j)]
                    last = (
                        sympy.S.One
                        if p == 1
                        else base
                        if p == 2
                        else sympy.Pow(base, p - 1, evaluate=False)
                    )
                    return _mul([*rest, sigmoid(u), last])
            return e
        return e


class _Linear:
    """Placeholders for linear forms ``sum_i c_i x[i]`` over data vectors."""

    def __init__(self, data: list[_Arg]):
        self.data = [a for a in data if len(a.shape) == 1 and a.shape[0] >= 2]
        self.index = {s: (a, i) for a in self.data for i, s in enumerate(a.symbols)}
        self.components = frozenset(self.index)
        self.forms: dict = {}  # (arg name, coefficients) -> Dummy
        self.defs: list = []  # (Dummy, arg, coefficients) in creation order
        self.memo: dict = {}

    def __call__(self, expr):
        if not self.data:
            return expr
        return _bottom_up(expr, self._node, self.memo)

    def _node(self, e):
        if not e.is_Add or not (_fs(e) & self.components):
            return e
        terms = list(e.args)
        for arg in self.data:
            comps = set(arg.symbols)
            coeffs: dict = {}
            used = []
            for t in terms:
                hit = None
                for f in t.args if t.is_Mul else (t,):
                    if f in comps:
                        hit = f
                        break
                if hit is None:
                    continue
                if t is hit:
                    c = sympy.S.One
                else:
                    rest = list(t.args)
                    rest.remove(hit)
                    c = rest[0] if len(rest) == 1 else sympy.Mul(*rest)
                if _fs(c) & comps:
                    continue
                i = self.index[hit][1]
                coeffs[i] = coeffs.get(i, sympy.S.Zero) + c
                used.append(t)
            k = arg.shape[0]
            if len(coeffs) < 2 or 2 * len(coeffs) < k:
                continue
            cs = tuple(coeffs.get(i, sympy.S.Zero) for i in range(k))
            # -(w.x) and w.x share one placeholder: normalize the sign of the first coefficient
            sign = sympy.S.One
            first = next(c for c in cs if c != 0)
            if first.could_extract_minus_sign():
                sign = sympy.S.NegativeOne
                cs = tuple(-c for c in cs)
            key = (arg.name, cs)
            ph = self.forms.get(key)
            if ph is None:
                ph = self.forms[key] = sympy.Dummy(f"lin{len(self.forms)}", real=True)
                self.defs.append((ph, arg, cs))
            for t in used:
                terms.remove(t)
            terms.append(sign * ph)
        return sympy.Add(*terms) if len(terms) != len(e.args) else e


def _outer_split(entries, data: list[_Arg]):
    """``(x, F, R)`` when ``entries[i] == F * x[i] + R[i]`` with F, R free of the vector x."""
    k = len(entries)
    for arg in data:
        if arg.shape != (k,):
            continue
        comps = set(arg.symbols)
        F = None
        R = []
        for e, xi in zip(entries, arg.symbols, strict=True):
            if xi not in _fs(e):
                break
            d = _deriv(e, xi)
            if _fs(d) & comps or (F is not None and d != F):
                break
            F = d
            r = e.subs(xi, 0)
            if _fs(r) & comps:
                break
            R.append(r)
        else:
            return arg, F, R
    return None


def _depth_limit(expr, hoist: list, memo: dict):
    """Return ``(expr', depth)`` with subtrees deeper than _MAX_DEPTH hoisted into ``hoist``."""
    hit = memo.get(expr)
    if hit is not None:
        return hit
    if not expr.args or expr.is_Atom:
        out = (expr, 0)
    else:
        pairs = [_depth_limit(a, hoist, memo) for a in expr.args]
        new_args = tuple(p[0] for p in pairs)
        node = rebuild(expr, new_args) if new_args != expr.args else expr
        depth = 1 + max(p[1] for p in pairs)
        if depth > _MAX_DEPTH:
            tmp = sympy.Dummy("h")
            hoist.append((tmp, node))
            out = (tmp, 0)
        else:
            out = (node, depth)
    memo[expr] = out
    return out


def _dag_size(exprs, limit: int) -> int:
    """Number of distinct nodes in ``exprs`` (counting stops past ``limit``)."""
    seen: set = set()
    stack = list(exprs)
    while stack and len(seen) <= limit:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        stack.extend(e.args)
    return len(seen)


def _cse(exprs, engine: str = "auto"):
    """One common-subexpression elimination over all ``exprs``: ``(replacements, reduced)``
    with no subtree nested deeper than ``_MAX_DEPTH``.

    Up to ``_SYMPY_CSE_NODES`` distinct nodes (textbook expressions, value + gradient of a
    small model), SymPy's full ``cse``: it also factors common sub-sums and sub-products out
    of different sums (``opt_cse``), which makes slightly smaller code for small inputs, at a
    cost superlinear in their size. Above it, :func:`symml.backends.cse.cse_dag`: reference
    counting over the DAG, linear in its size (the 49-parameter MLP's loss + gradient +
    Hessian, 1225 entries: 0.05 s against 1.2-2 s for SymPy's ``tree_cse`` alone).
    ``engine`` forces one: ``"sympy"`` or ``"dag"`` (the tests compare them).
    """
    symbols = (sympy.Dummy(f"x{i}") for i in itertools.count())
    if engine == "auto":
        engine = "sympy" if _dag_size(exprs, _SYMPY_CSE_NODES) <= _SYMPY_CSE_NODES else "dag"
    if engine == "dag":
        return cse_dag(exprs, symbols, _MAX_DEPTH)
    replacements, reduced = sympy.cse(exprs, symbols=symbols, order="none", list=True)
    hoisted: list = []
    depth_memo: dict = {}
    for sym, e in replacements:
        e2, _ = _depth_limit(e, hoisted, depth_memo)
        hoisted.append((sym, e2))
    outputs = []
    for e in reduced:
        e2, _ = _depth_limit(e, hoisted, depth_memo)
        outputs.append(e2)
    return hoisted, outputs


# undefined constants: complex infinity, nan, and a range of values (atan(zoo) = <-pi/2, pi/2>)
_UNDEFINED = (sympy.zoo, sympy.nan, sympy.AccumBounds)


def _constant_is_real(c) -> bool | None:
    """False if the constant ``c`` is certainly not a real number (nor +-oo)."""
    if c.is_Number or c in (sympy.pi, sympy.E, sympy.EulerGamma, sympy.oo, -sympy.oo):
        return c is not sympy.nan and c is not sympy.zoo
    if c.has(*_UNDEFINED):
        return False
    real = c.is_extended_real
    if real is not None:
        return bool(real)
    try:
        v = complex(c.evalf(30))
    except (TypeError, ValueError, ArithmeticError):
        return None
    return abs(v.imag) <= 1e-25 * max(1.0, abs(v.real))


def _short(e, limit: int = 60) -> str:
    text = str(sympy.Float(e, 4)) if e.is_Number and not e.is_Float else str(e)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _too_big(c) -> bool:
    """True if the real constant ``c`` is finite but its magnitude overflows a float."""
    if c.is_Integer:
        return abs(c.p) > 2**1024
    if c.is_Rational:
        return abs(c.p) > c.q * 2**1024
    try:
        v = c.evalf(15)
    except (TypeError, ValueError, ArithmeticError):
        return False
    if not v.is_Float:
        return False
    return bool(abs(v) > sympy.Float(1.7976931348623157e308))


def _check_real_constants(expr, seen: set | None = None) -> None:
    """Compiled code is real arithmetic: a constant subexpression that is not real (``I``,
    ``log(-3) = log(3) + I*pi``, ``asin(2)``) or undefined (``log(0) = zoo``, ``0/0``) is
    an error at compile time, never an imaginary part dropped at call time.

    ``seen`` is shared by the entries of one compile call, so the walk is linear in the
    expression DAG (a Hessian's 10^4 entries share their subexpressions)."""
    stack = [expr]
    seen = set() if seen is None else seen
    while stack:
        e = stack.pop()
        if e in seen or not isinstance(e, sympy.Basic):
            continue
        seen.add(e)
        if not _fs(e):
            if isinstance(e, sympy.Expr) and not _constant_is_real(e):
                what = (
                    "undefined (complex infinity or nan)"
                    if e.has(*_UNDEFINED)
                    else "not a real number"
                )
                raise ArgumentError(
                    f"compile: the constant {e} in {expr} is {what}; compiled functions "
                    "compute real values, so the expression has no real value here. Fix the "
                    "formula (e.g. log(3) instead of log(-3)) or keep it symbolic"
                )
            if e in (sympy.oo, -sympy.oo):
                raise ArgumentError(
                    f"compile: the constant {e} in {_short(expr)} is infinite (a pole, such as "
                    f"atanh(1) or loggamma(0)); the expression has no finite value here"
                )
            if isinstance(e, sympy.Expr) and e.is_finite is not False and _too_big(e):
                raise ArgumentError(
                    f"compile: the constant {_short(e)} in {_short(expr)} is beyond the range "
                    f"of double precision (about 1.8e308), so compiled code would turn it "
                    f"into inf; rescale the formula (e.g. take logarithms)"
                )
            continue
        stack.extend(e.args)


# ------------------------------------------------------------------------------------------
# matrix blocks in matrix form
# ------------------------------------------------------------------------------------------


def _xfactors(e, comp: dict, allcomps: frozenset):
    """``(xs, F, R)`` with ``e == F * prod(components in xs) + R``, F and R free of them."""
    R = sympy.S.Zero
    if e.is_Add:
        hits = [t for t in e.args if _fs(t) & allcomps]
        if len(hits) != 1:
            return None
        R = sympy.Add(*[t for t in e.args if t is not hits[0]])
        e = hits[0]
    factors = e.args if e.is_Mul else (e,)
    xs, rest = [], []
    for f in factors:
        hit = comp.get(f)
        if hit is not None:
            xs.append(hit)
            continue
        if f.is_Pow and f.exp == 2 and f.base in comp:
            xs += [comp[f.base]] * 2
            continue
        rest.append(f)
    if not xs:
        return None
    F = rest[0] if len(rest) == 1 else sympy.Mul(*rest)
    if _fs(F) & allcomps:
        return None
    return tuple(sorted(xs)), F, R


def _labels(fac, n_lines: int, n_other: int, at) -> list:
    """Per line (row or column) the data component that divides all its nonzero entries."""
    out = []
    for i in range(n_lines):
        common = None
        for j in range(n_other):
            f = fac.get(at(i, j))
            if f is None:
                if at(i, j) in fac.zero:
                    continue
                common = set()
                break
            s = set(f[0])
            common = s if common is None else common & s
            if not common:
                break
        out.append(next(iter(common)) if common and len(common) == 1 else None)
    return out


def _segments(labels: list, by_name: dict) -> list:
    """Runs ``(arg, start)`` of lines labelled x[0], x[1], ..., x[k-1]; singles as ``(None, i)``."""
    out, i = [], 0
    while i < len(labels):
        lab = labels[i]
        if lab is not None and lab[1] == 0:
            arg = by_name[lab[0]]
            k = arg.shape[0]
            if all(labels[i + a] == (arg.name, a) for a in range(k) if i + a < len(labels)) and (
                i + k <= len(labels)
            ):
                out.append((arg, i))
                i += k
                continue
        out.append((None, i))
        i += 1
    return out


class _Fac(dict):
    zero: set


def _tiles(entries, shape, data: list, symmetric: bool):
    """Parts of a 2-D block: ``gram`` / ``outer`` tiles over data vectors, ``entry`` otherwise.

    Returns None when no tile is found (the block is then a list of entries)."""
    data = [a for a in data if len(a.shape) == 1 and a.shape[0] >= 2]
    if not data:
        return None
    comp = {s: (a.name, i) for a in data for i, s in enumerate(a.symbols)}
    by_name = {a.name: a for a in data}
    allcomps = frozenset(comp)
    m, p = shape
    fac = _Fac()
    fac.zero = set()
    for idx in numpy.ndindex(shape):
        e = entries[idx]
        if e == 0:
            fac.zero.add(idx)
            continue
        r = _xfactors(e, comp, allcomps)
        if r is not None:
            fac[idx] = r
    if not fac:
        return None
    rows = _segments(_labels(fac, m, p, lambda i, j: (i, j)), by_name)
    cols = _segments(_labels(fac, p, m, lambda j, i: (i, j)), by_name)
    if all(a is None for a, _ in rows) and all(a is None for a, _ in cols):
        return None
    parts = []

    def lines(seg):
        arg, start = seg
        return range(start, start + (arg.shape[0] if arg is not None else 1))

    for rseg in rows:
        for cseg in cols:
            rs, cs = lines(rseg), lines(cseg)
            if symmetric and rs[0] > cs[-1]:
                continue  # strictly below the diagonal: mirrored
            part = _tile(entries, fac, rseg, cseg, rs, cs)
            if part is not None:
                parts.append(part)
                continue
            for i in rs:
                for j in cs:
                    if not (symmetric and i > j):
                        parts.append(("entry", (i, j), entries[i, j]))
    return parts


def _tile(entries, fac, rseg, cseg, rs, cs):
    ra, ca = rseg[0], cseg[0]
    if ra is None and ca is None:
        return None
    F = None
    R = []
    for a, i in enumerate(rs):
        for b, j in enumerate(cs):
            f = fac.get((i, j))
            if f is None:
                return None
            want = [] if ra is None else [(ra.name, a)]
            if ca is not None:
                want.append((ca.name, b))
            if f[0] != tuple(sorted(want)):
                return None
            if F is None:
                F = f[1]
            elif f[1] != F:
                return None
            if f[2] != 0:
                R.append(((i, j), f[2]))
    if ra is not None and ca is not None:
        return ("gram", (slice(rs[0], rs[-1] + 1), slice(cs[0], cs[-1] + 1)), ra, ca, F, R)
    if ra is not None:
        return ("outer", (slice(rs[0], rs[-1] + 1), cs[0]), ra, F, R)
    return ("outer", (rs[0], slice(cs[0], cs[-1] + 1)), ca, F, R)


# ------------------------------------------------------------------------------------------
# the plan
# ------------------------------------------------------------------------------------------


@dataclass
class Block:
    """One result of shape ``shape`` (beyond the rows), as a list of parts.

    Parts index into :attr:`Plan.outputs` (the CSE-reduced scalars):

    * ``("entry", idx, k)``: entry ``idx`` is scalar ``k``;
    * ``("outer", index, arg, kF, [(idx, kR), ...])``: the entries at ``index`` (a tuple of
      ints and one slice of length ``len(arg)``) are ``F * x[a]``, plus ``R`` at ``idx``;
    * ``("gram", (rows, cols), xa, xb, kF, [(idx, kR), ...])``: the entries are
      ``F * xa[a] * xb[b]``, plus ``R`` at ``idx``.

    A ``symmetric`` block computes its upper triangle; the emitter mirrors it.
    """

    shape: tuple[int, ...]
    parts: list = field(default_factory=list)
    symmetric: bool = False


@dataclass
class Plan:
    """What to compute, independent of the backend that prints it."""

    specs: list  # Arg, in call order
    grad_specs: list | None
    reduce: str | None
    single: bool
    exprs: list  # the converted SymPy inputs
    linear: list  # (placeholder Dummy, data Arg, coefficients) in creation order
    replacements: list  # (Dummy, expr) in dependency order (CSE and depth hoists)
    outputs: list  # CSE-reduced scalars indexed by the blocks' parts
    blocks: list  # per input: [value Block, gradient Blocks...]

    @property
    def data(self) -> list:
        return [p[1] for p in self.linear]


def _entries_of(e) -> tuple[Any, tuple[int, ...]]:
    if isinstance(e, sympy.MatrixBase):
        shape = (e.rows,) if e.cols == 1 else tuple(e.shape)
        arr = numpy.empty(shape, dtype=object)
        for idx in numpy.ndindex(shape):
            arr[idx] = e[idx[0], idx[1] if len(idx) > 1 else 0]
        return arr, shape
    arr = numpy.empty((), dtype=object)
    arr[()] = e
    return arr, ()


def build_plan(exprs: list, args, grad, reduce, single: bool, cse: str = "auto") -> Plan:
    """Stages 1-6 of the module docstring (the caller holds the ``fs`` memo); ``cse``
    picks the elimination (see :func:`_cse`)."""
    for e in exprs:
        if not isinstance(e, (sympy.Expr, sympy.MatrixBase)):
            raise ArgumentError(
                f"compile: expected an expression, got {type(e).__name__} {e}; relations and "
                "booleans cannot be compiled"
            )
    seen: set = set()
    for e in exprs:
        for entry in e if isinstance(e, sympy.MatrixBase) else (e,):
            _check_real_constants(entry, seen)
    specs = resolve_args(args, exprs)
    grad_specs = None if grad is None else resolve_grad(grad, exprs, specs)

    safe = _Safe()
    dctx = DiffContext()  # one memo of derivatives for every entry
    raw: list[list[tuple]] = []  # per f: [(entries, shape)]
    for e in exprs:
        entries, shape = _entries_of(e)
        for idx in numpy.ndindex(shape):
            entries[idx] = safe(entries[idx])
        blocks = [(entries, shape)]
        for g in grad_specs or ():
            gshape = shape + g.shape
            ge = numpy.empty(gshape, dtype=object)
            for idx in numpy.ndindex(shape):
                for j, gidx in enumerate(numpy.ndindex(g.shape)):
                    ge[idx + gidx] = safe(dctx.d(entries[idx], g.symbols[j]))
            blocks.append((ge, gshape))
        raw.append(blocks)

    gsyms = {s for g in grad_specs or () for s in g.symbols}
    data = [a for a in specs if len(a.shape) == 1 and not (set(a.symbols) & gsyms)]
    linear = _Linear(data)
    todo: list = []

    def want(e) -> int:
        todo.append(e)
        return len(todo) - 1

    out_blocks = []
    for blocks in raw:
        fb = []
        for entries, shape in blocks:
            for idx in numpy.ndindex(shape):
                entries[idx] = linear(entries[idx])
            fb.append(_block(entries, shape, data, want))
        out_blocks.append(fb)

    hoisted, outputs = _cse(todo, cse)
    return Plan(specs, grad_specs, reduce, single, exprs, linear.defs, hoisted, outputs, out_blocks)


def _block(entries, shape, data, want) -> Block:
    symmetric = False
    if len(shape) == 2 and shape[0] == shape[1]:
        n = shape[0]
        symmetric = all(entries[i, j] == entries[j, i] for i in range(n) for j in range(i))
    blk = Block(shape, symmetric=symmetric)
    if len(shape) == 1 and data:
        split = _outer_split(list(entries), data)
        if split is not None:
            arg, F, R = split
            rs = [((i,), want(r)) for i, r in enumerate(R) if r != 0]
            blk.parts.append(("outer", (slice(0, shape[0]),), arg, want(F), rs))
            return blk
    if len(shape) == 2:
        tiles = _tiles(entries, shape, data, symmetric)
        if tiles is not None:
            for t in tiles:
                if t[0] == "entry":
                    blk.parts.append(("entry", t[1], want(t[2])))
                elif t[0] == "outer":
                    rs = [(idx, want(r)) for idx, r in t[4]]
                    blk.parts.append(("outer", t[1], t[2], want(t[3]), rs))
                else:
                    rs = [(idx, want(r)) for idx, r in t[5]]
                    blk.parts.append(("gram", t[1], t[2], t[3], want(t[4]), rs))
            return blk
    for idx in numpy.ndindex(shape):
        if symmetric and idx[0] > idx[1]:
            continue
        blk.parts.append(("entry", idx, want(entries[idx])))
    return blk
