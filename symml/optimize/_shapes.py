"""Vector shapes inferred from the data: no declarations needed for ``dot(w, x)``.

Shared by :func:`symml.minimize` and :func:`symml.fit` (one implementation):

* :func:`group_vector_columns` gathers DataFrame columns ``x[0], x[1], ...`` (or ``x_0,
  x_1, ...``) into one ``(n, d)`` column ``x`` when the model uses ``x`` and no column is
  called ``x`` itself;
* :func:`parse_with_shapes` parses model text, declaring every undeclared data name whose
  column is ``(n, d)`` as a data vector ``x[d]``, and a parameter dotted with it
  (``dot(w, x)``, ``w @ x``) as a parameter vector ``w[d]`` (or with the length of its
  start value in ``x0``).

Internal module.

>>> import numpy as np
>>> cols = group_vector_columns({"x[0]": [1, 2], "x[1]": [3, 4], "y": [0, 1]}, {"x", "y"})
>>> sorted(cols), cols["x"].tolist()
(['x', 'y'], [[1.0, 3.0], [2.0, 4.0]])
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from ..errors import DataError, FitError

__all__ = ["tree_names", "used_names", "group_vector_columns", "parse_with_shapes", "row_shape"]

_INDEXED = (re.compile(r"^([A-Za-z]\w*?)\[(\d+)\]$"), re.compile(r"^([A-Za-z][A-Za-z0-9]*)_(\d+)$"))


def tree_names(tree) -> tuple[dict, set, list]:
    """Declared names (with their shapes), used names, and the (a, b) name pairs of every
    ``dot(a, b)`` and ``a @ b`` in a parse tree."""
    from lark import Token, Tree

    declared: dict[str, tuple] = {}
    used: set[str] = set()
    pairs: list[tuple[str, str]] = []

    def name_of(t):
        if isinstance(t, Tree) and t.data == "name":
            return str(t.children[0])
        return None

    for t in tree.iter_subtrees():
        if t.data in ("var_decl", "param_decl", "data_decl"):
            for item in t.children:
                shape = item.children[1]
                dims = (
                    tuple(int(c) for c in shape.children if c is not None)
                    if isinstance(shape, Tree)
                    else ()
                )
                declared[str(item.children[0])] = dims
        elif t.data == "const_decl":
            declared.update((str(c), ()) for c in t.children[::2])
        elif t.data == "assign":
            lhs = t.children[0]
            if isinstance(lhs, Tree) and lhs.data == "name":
                declared[name_of(lhs)] = ()
        elif t.data == "name":
            used.add(str(t.children[0]))
        elif t.data == "call" and str(t.children[0]) == "dot" and len(t.children) == 3:
            a, b = name_of(t.children[1]), name_of(t.children[2])
            if a and b:
                pairs.append((a, b))
        elif t.data == "product":
            kids = t.children
            for i in range(1, len(kids) - 1, 2):
                if isinstance(kids[i], Token) and str(kids[i]) == "@":
                    a, b = name_of(kids[i - 1]), name_of(kids[i + 1])
                    if a and b:
                        pairs.append((a, b))
    return declared, used, pairs


def used_names(text: str) -> set[str]:
    """Every name the text uses (parse errors are raised as the language reports them)."""
    from ..lang import parse_tree

    return tree_names(parse_tree(text))[1]


def row_shape(name: str, value) -> tuple:
    """The shape of one row of a data column (``()`` for a scalar column)."""
    try:
        return tuple(np.shape(value)[1:])
    except (TypeError, ValueError):
        raise DataError(
            f"data column '{name}' is not rectangular (rows of different lengths); give one "
            f"number (or one equal-length vector) per row"
        ) from None


def group_vector_columns(columns: Mapping[str, object], used: set[str]) -> dict:
    """Gather ``x[0], x[1], ...`` (or ``x_0, x_1, ...``) into one ``(n, d)`` column ``x``.

    Only for a name ``x`` that the model uses and that is not a column itself; the indices
    must run 0, 1, ..., d-1. The grouped columns are replaced by ``x``.
    """
    out = dict(columns)
    groups: dict[str, dict[int, str]] = {}
    for key in columns:
        for pattern in _INDEXED:
            m = pattern.match(str(key))
            if m and m.group(1) in used and m.group(1) not in columns:
                groups.setdefault(m.group(1), {})[int(m.group(2))] = key
                break
    for base, parts in groups.items():
        if any(key in used for key in parts.values()):
            continue  # the model names the indexed columns themselves (x_0 as a scalar)
        d = len(parts)
        if sorted(parts) != list(range(d)):
            raise DataError(
                f"columns {', '.join(repr(parts[i]) for i in sorted(parts))} form the data "
                f"vector '{base}', but their indices are not 0..{d - 1}; name them "
                f"{base}[0] ... {base}[{d - 1}]"
            )
        try:
            stacked = np.column_stack(
                [np.asarray(columns[parts[i]], dtype=float) for i in range(d)]
            )
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"the columns of the data vector '{base}' are not numeric: {exc}"
            ) from None
        for key in parts.values():
            del out[key]
        out[base] = stacked
    return out


def parse_with_shapes(
    text: str,
    data_shapes: Mapping[str, tuple],
    param_sizes: Mapping[str, int] | None = None,
    *,
    binding: str | None = None,
):
    """Parse model text, declaring the data vectors (and the parameter vectors dotted with
    them) whose sizes come from the data.

    ``param_sizes`` gives lengths of parameter vectors known otherwise (start values).
    With ``binding``, the text is one expression bound to that name (for ``minimize``).
    Returns ``(program, names of the parameter vectors declared here)``.
    """
    from ..lang import parse, parse_tree

    tree = parse_tree(text)
    declared, used, pairs = tree_names(tree)
    prefix = []
    sizes = {n: d[0] for n, d in declared.items() if len(d) == 1}
    for name in sorted(used - set(declared)):
        shape = data_shapes.get(name, ())
        if len(shape) == 1:
            prefix.append(f"data {name}[{shape[0]}]")
            sizes[name] = shape[0]
        elif len(shape) > 1:
            raise FitError(
                f"data column '{name}' has {len(shape)} dimensions per row; only scalar and "
                f"vector columns can be used in a model"
            )
    param_vectors: dict[str, int] = {}
    paired = {n for pair in pairs for n in pair}
    for name, k in (param_sizes or {}).items():
        if name in paired and name not in declared and name not in data_shapes:
            param_vectors[name] = int(k)
    for a, b in pairs:
        for p, d in ((a, b), (b, a)):
            if d in sizes and p not in declared and p not in data_shapes:
                if param_vectors.get(p, sizes[d]) != sizes[d]:
                    raise FitError(
                        f"parameter vector '{p}' is dotted with a data vector of length "
                        f"{sizes[d]} but has length {param_vectors[p]}; declare it, e.g. "
                        f"'param {p}[{sizes[d]}]'"
                    )
                param_vectors[p] = sizes[d]
    prefix += [f"param {p}[{k}]" for p, k in param_vectors.items()]
    body = text if binding is None else f"{binding} = {text}"
    # declarations joined by ';' on the first line keep the user's line numbers
    source = ("; ".join(prefix) + "; " if prefix else "") + body
    return parse(source), set(param_vectors)
