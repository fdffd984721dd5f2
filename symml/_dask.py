"""Dask: sums over rows computed block by block, for data larger than memory.

A reduced compiled function (``symml.compile(..., reduce="sum")``) is a sum over rows, so it
distributes: called on Dask arrays, it is evaluated on each block of rows (one Dask task per
block, on NumPy blocks) and the blocks' partial sums are added in a tree. The rows are never
gathered in one place; only the small results (a value, a gradient, a Hessian, ``J^T J``,
``J^T r``) travel. ``reduce="mean"`` divides the total by the number of rows.

Dask is optional (the ``dask`` extra); this module imports it only when Dask values arrive.
Whatever scheduler is active computes the sums: Dask's local threads by default, a
``dask.distributed`` cluster when a ``Client`` is active.

>>> import numpy as np, dask.array as da, symml as sm
>>> f = sm.compile("(y - a*x)^2", ["a", "x", "y"], grad=["a"], reduce="sum")
>>> x = da.arange(6.0, chunks=2)
>>> value, (da_,) = f(2.0, x, 2 * x + 1)
>>> float(value), float(da_)
(6.0, -30.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ArgumentError, ShapeError, SymmlError

__all__ = ["is_dask", "require_dask", "call_reduced", "map_sum", "row_blocks"]

INSTALL = 'pip install "symml[dask]"'


def is_dask(value) -> bool:
    """True for a Dask collection (array, DataFrame, Series), without importing Dask."""
    mod = type(value).__module__ or ""
    return (mod == "dask" or mod.startswith("dask.")) and hasattr(value, "__dask_graph__")


def require_dask(what: str = "Dask data"):
    """Import and return ``dask``, or raise a SymmlError naming the extra to install."""
    try:
        import dask
        import dask.array  # noqa: F401
    except ImportError:  # pragma: no cover - the extra is installed where tests run
        raise SymmlError(
            f"{what} needs the Dask extra: {INSTALL} (Dask's array, dataframe and distributed "
            "packages)"
        ) from None
    return dask


# ------------------------------------------------------------------------------------------
# sums of per-block results
# ------------------------------------------------------------------------------------------


def _add(a, b):
    """Sum of two results of the same structure (tuples and lists of arrays or floats)."""
    if isinstance(a, tuple):
        return tuple(_add(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, list):
        return [_add(x, y) for x, y in zip(a, b, strict=True)]
    if isinstance(a, dict):
        return {k: _add(a[k], b[k]) for k in a}
    return a + b


def _scale(a, s):
    if isinstance(a, tuple):
        return tuple(_scale(x, s) for x in a)
    if isinstance(a, list):
        return [_scale(x, s) for x in a]
    return a * s


def _add_all(*parts):
    out = parts[0]
    for p in parts[1:]:
        out = _add(out, p)
    return out


def _tree_sum(parts: list, fan_in: int = 8):
    """The sum of delayed results, added in a tree (fixed order: reproducible run to run)."""
    import dask

    add = dask.delayed(_add_all, pure=True)
    while len(parts) > 1:
        parts = [add(*parts[i : i + fan_in]) for i in range(0, len(parts), fan_in)]
    return parts[0]


def _apply(fn, args, block):
    return fn(*args, block)


def map_sum(fn, blocks: list, *args):
    """``sum(fn(*args, block) for block in blocks)`` computed by the active Dask scheduler.

    ``fn`` is shipped once (a dependency of every task, not a copy in each); ``blocks`` are
    Delayed values (or plain ones). One pass over the data.
    """
    dask = require_dask()
    if not blocks:
        raise ArgumentError("no blocks of rows to sum over")
    fd = dask.delayed(fn, pure=True, traverse=False)
    ad = dask.delayed(tuple(args), pure=True, traverse=False)
    task = dask.delayed(_apply, pure=True)
    total = _tree_sum([task(fd, ad, b) for b in blocks])
    (out,) = dask.compute(total)
    return out


# ------------------------------------------------------------------------------------------
# arrays in blocks of rows
# ------------------------------------------------------------------------------------------


def row_blocks(arrays: list, where: str = "Dask arrays") -> tuple[list, tuple[int, ...]]:
    """Split row arrays (Dask or NumPy, rows on axis 0) into aligned blocks of rows.

    Returns ``(blocks, rows)``: ``blocks[i]`` is a Delayed tuple of the ``i``-th NumPy block
    of every array, ``rows`` the block lengths. Arrays are rechunked to the row chunks of the
    first Dask array (and to one chunk across their other axes).
    """
    dask = require_dask()
    import dask.array as da

    first = next(a for a in arrays if is_dask(a))
    if any(math.isnan(c) for a in arrays if is_dask(a) for c in a.chunks[0]):
        raise ShapeError(
            f"{where}: the number of rows in each block is unknown (an array made from a "
            "DataFrame without lengths); use df.to_dask_array(lengths=True) or "
            "arr.compute_chunk_sizes()"
        )
    rows = tuple(int(c) for c in first.chunks[0])
    n = sum(rows)
    lazy = []
    for a in arrays:
        if not is_dask(a):
            a = da.from_array(np.asarray(a), chunks=(rows,) + tuple(np.shape(a)[1:]))
        if a.shape[0] != n:
            raise ShapeError(
                f"{where}: arrays have different numbers of rows ({n} and {a.shape[0]})"
            )
        a = a.rechunk((rows,) + tuple(-1 for _ in a.shape[1:]))
        lazy.append(a.to_delayed().reshape(-1).tolist())
    to_tuple = dask.delayed(tuple, pure=True)
    blocks = [to_tuple(list(parts)) for parts in zip(*lazy, strict=True)]
    return blocks, rows


class _Block:
    """Evaluate a reduced compiled function on one block (NumPy arrays for the row args)."""

    def __init__(self, cf, row_index: list[int]):
        self.cf = cf
        self.row_index = row_index

    def __call__(self, shared, block):
        values = list(shared)
        for i, arr in zip(self.row_index, block, strict=True):
            values[i] = arr
        out = self.cf(*values)
        if self.cf.reduce == "mean":  # the block's sum: its mean times its rows
            out = _scale(out, float(len(block[0])))
        return out


def call_reduced(cf, values) -> Any:
    """Call a reduced :class:`~symml.compile.CompiledFunction` on Dask (and NumPy) values.

    An argument with one axis more than its declared shape (rows first) is data; it is
    split into blocks of rows aligned with the other data. Other values (parameters) go to
    every block unchanged. Returns the same structure as an in-memory call.
    """
    require_dask("a compiled function called on Dask arrays")
    specs = cf._specs
    if len(values) != len(specs):
        raise ArgumentError(
            f"compiled function takes {len(specs)} argument(s) ({', '.join(cf.args)}), "
            f"got {len(values)}"
        )
    if cf.reduce not in ("sum", "mean"):
        raise ArgumentError(
            "a compiled function called on Dask arrays must reduce over the rows "
            "(compile with reduce='sum' or 'mean'); per-row results of data beyond memory "
            "have nowhere to go"
        )
    row_index, arrays, shared = [], [], list(values)
    for i, (spec, v) in enumerate(zip(specs, values, strict=True)):
        nd = len(spec.shape)
        if not is_dask(v):
            continue
        if v.ndim != nd + 1:
            raise ShapeError(
                f"argument {spec.label}: a Dask array must have one row axis before the "
                f"{nd} axes of the argument (shape (n{', ' if nd else ''}"
                f"{', '.join(map(str, spec.shape))})), got {v.ndim} axes"
            )
        row_index.append(i)
        arrays.append(v)
        shared[i] = None
    for i, (spec, v) in enumerate(zip(specs, values, strict=True)):
        # NumPy data rows next to Dask ones: split them the same way
        if shared[i] is not None and np.ndim(v) == len(spec.shape) + 1 and not np.isscalar(v):
            row_index.append(i)
            arrays.append(v)
            shared[i] = None
    blocks, rows = row_blocks(arrays, f"compiled function {cf!r}")
    n = sum(rows)
    if n == 0:
        if cf.reduce == "mean":
            raise ShapeError("reduce='mean' over zero rows is undefined")
        return cf(*[np.asarray(v) if is_dask(v) else v for v in values])
    blocks = [b for b, r in zip(blocks, rows, strict=True) if r]  # empty blocks add nothing
    total = map_sum(_Block(cf, row_index), blocks, tuple(shared))
    return _scale(total, 1.0 / n) if cf.reduce == "mean" else total
