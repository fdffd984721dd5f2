"""Arguments of a compiled function: names, shapes and symbols, in call order.

Stage 1 of :func:`symml.compile` (shared by every backend): the caller's ``args`` and
``grad`` (names, Symbols, Matrices, mappings such as ``prog.params``) become an explicit,
ordered tuple of :class:`Arg` records, checked once (no variable twice, no free symbol
missing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sympy

from ..errors import ArgumentError
from ..symbols import ElementSymbol, components_of, symbol
from .cse import binds

__all__ = ["Arg", "resolve_args", "resolve_grad", "fs", "free_symbols", "fresh_memo"]


@dataclass(frozen=True)
class _Arg:
    name: str  # as the user knows it: "x", "w"
    shape: tuple[int, ...]  # () scalar, (k,) vector, (r, c) matrix
    symbols: tuple  # flat, row-major

    @property
    def label(self) -> str:
        return self.name + (f"[{', '.join(map(str, self.shape))}]" if self.shape else "")


_FS_MEMO: dict = {}  # replaced per compile call (see symml.compile); keyed by node


def _fs(e) -> frozenset:
    """Free symbols of ``e``, memoized per node: linear in the expression DAG.

    SymPy's ``free_symbols`` walks the expression *tree*, which for derivatives of real
    models (shared subexpressions everywhere) is exponentially larger than the DAG.
    """
    memo = _FS_MEMO
    r = memo.get(e)
    if r is None:
        if e.is_Symbol:
            r = frozenset((e,))
        elif not e.args:
            r = frozenset()
        elif binds(type(e)):
            r = frozenset(e.free_symbols)  # bound variables (Integral, Lambda, ...)
        else:
            r = frozenset().union(*(_fs(a) for a in e.args))
        memo[e] = r
    return r


def _free_symbols(exprs) -> set:
    out: set = set()
    for e in exprs:
        if isinstance(e, sympy.MatrixBase):
            for entry in e:
                out |= _fs(entry)
        else:
            out |= _fs(e)
    return out


def _split_names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _spec_from_matrix(m: sympy.MatrixBase, name: str | None, where: str) -> _Arg:
    entries = list(m)
    if not all(isinstance(s, sympy.Symbol) for s in entries):
        raise ArgumentError(
            f"{where}: a Matrix argument must hold symbols only, got {m}; pass the names "
            "of the variables instead"
        )
    shape = (len(entries),) if 1 in m.shape else tuple(m.shape)
    if name is None:
        vecs = {getattr(s, "vector", None) for s in entries}
        v = vecs.pop() if len(vecs) == 1 else None
        name = v if v is not None else "[" + ", ".join(str(s) for s in entries) + "]"
    return _Arg(name, shape, tuple(entries))


def _resolve_one(spec, exprs, free: set, where: str) -> list[_Arg]:
    if isinstance(spec, str):
        out = []
        for name in _split_names(spec):
            scalar = [s for s in free if s.name == name and not isinstance(s, ElementSymbol)]
            if not scalar:
                scalar = [s for s in free if s.name == name]
            if scalar:
                out.append(_Arg(name, (), (scalar[0],)))
                continue
            elems = [s for s in free if isinstance(s, ElementSymbol) and s.vector == name]
            m = components_of(name, elems[:1]) if elems else None
            if m is not None:
                out.append(_spec_from_matrix(m, name, where))
            else:
                out.append(_Arg(name, (), (symbol(name),)))
        if not out:
            raise ArgumentError(f"{where}: empty name {spec!r}")
        return out
    if isinstance(spec, sympy.Symbol):
        return [_Arg(spec.name, (), (spec,))]
    if isinstance(spec, sympy.MatrixBase):
        return [_spec_from_matrix(spec, None, where)]
    if isinstance(spec, Mapping):
        out = []
        for key, val in spec.items():
            syms = getattr(val, "symbols", val)
            if isinstance(syms, sympy.MatrixBase):
                out.append(_spec_from_matrix(syms, str(key), where))
            elif isinstance(syms, sympy.Symbol):
                out.append(_Arg(str(key), (), (syms,)))
            else:
                out.extend(_resolve_one(str(key), exprs, free, where))
        return out
    if isinstance(spec, Iterable) and not isinstance(spec, (bytes, sympy.Basic)):
        out = []
        for s in spec:
            out.extend(_resolve_one(s, exprs, free, where))
        return out
    raise ArgumentError(
        f"{where}: cannot use {spec!r} ({type(spec).__name__}) as a variable; give a name "
        "such as 'x' or 'w', a Symbol, a Matrix of symbols, or a list of those"
    )


def _resolve_args(args, exprs) -> list[_Arg]:
    free = _free_symbols(exprs)
    specs = _resolve_one(args, exprs, free, "compile args")
    seen: dict = {}
    for a in specs:
        for s in a.symbols:
            if s in seen:
                raise ArgumentError(
                    f"compile args: {s} is given twice (in {seen[s]!r} and {a.name!r}); "
                    "list each variable once"
                )
            seen[s] = a.name
    missing = sorted(str(s) for s in free if s not in seen)
    if missing:
        given = ", ".join(a.label for a in specs) or "nothing"
        raise ArgumentError(
            f"compile: the expression uses {', '.join(missing)} but args give only "
            f"{given}; add the missing names to args (in the order the function should "
            "take them)"
        )
    return specs


def _resolve_grad(grad, exprs, args: list[_Arg]) -> list[_Arg]:
    free = _free_symbols(exprs)
    specs = _resolve_one(grad, exprs, free, "compile grad")
    known = {s for a in args for s in a.symbols}
    for g in specs:
        unknown = [str(s) for s in g.symbols if s not in known]
        if unknown:
            raise ArgumentError(
                f"compile grad: {g.label} is not among the args "
                f"({', '.join(a.label for a in args)}); differentiate only with respect to "
                "arguments of the function"
            )
    return specs


class fresh_memo:  # noqa: N801 - used as a context manager
    """Start (and on exit drop) the per-call memo of :func:`fs`."""

    def __enter__(self):
        global _FS_MEMO
        self._old = _FS_MEMO
        _FS_MEMO = {}
        return self

    def __exit__(self, *exc):
        global _FS_MEMO
        _FS_MEMO = self._old
        return False


Arg = _Arg
fs = _fs
free_symbols = _free_symbols
resolve_args = _resolve_args
resolve_grad = _resolve_grad
