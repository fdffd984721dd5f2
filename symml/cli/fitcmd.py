"""``symml fit MODEL --data file.csv [--plot out.png]``: fit a model to a CSV file.

MODEL is the model text itself (``"y ~ A*exp(-k*t) + c"``) or a ``.sml`` file holding it.

The CSV file has a header row of column names. Columns named ``x[0]``, ``x[1]``, ... form the
data vector ``x`` (an ``(n, d)`` column). Lines starting with ``#`` are comments; empty
cells and ``NA``/``nan`` are missing values (rejected unless ``--missing drop``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from ..errors import ArgumentError, DataError, SymmlError

_MISSING = {"", "na", "nan", "null", "none"}
_VECTOR_COL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[(\d+)\]$")


def read_csv(path) -> dict[str, np.ndarray]:
    """Read a CSV file of numbers into ``{column: array}`` (vector columns grouped).

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = p.write_text("# made up\\nt,x[0],x[1]\\n0,1,2\\n1,3,\\n")
    >>> cols = read_csv(p)
    >>> cols["t"], cols["x"]
    (array([0., 1.]), array([[ 1.,  2.],
           [ 3., nan]]))
    """
    import numpy as np  # imported here: the other commands start faster without it

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SymmlError(f"no such data file: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SymmlError(f"cannot read {p}: {exc}") from None
    lines = [
        (i + 1, ln)
        for i, ln in enumerate(text.splitlines())
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if not lines:
        raise DataError(f"{p}: no header row (the file is empty)")
    rows = list(csv.reader([ln for _, ln in lines]))
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise DataError(f"{p}: repeated column name {', '.join(dup)} in the header")
    values = np.empty((len(rows) - 1, len(header)))
    for r, row in enumerate(rows[1:]):
        lineno = lines[r + 1][0]
        if len(row) != len(header):
            raise DataError(
                f"{p}, line {lineno}: {len(row)} values, the header has {len(header)} columns"
            )
        for c, cell in enumerate(row):
            cell = cell.strip()
            if cell.lower() in _MISSING:
                values[r, c] = np.nan
                continue
            try:
                values[r, c] = float(cell)
            except ValueError:
                raise DataError(
                    f"{p}, line {lineno}, column '{header[c]}': {cell!r} is not a number"
                ) from None
    out: dict[str, np.ndarray] = {}
    vectors: dict[str, dict[int, np.ndarray]] = {}
    for c, name in enumerate(header):
        m = _VECTOR_COL.match(name)
        if m:
            vectors.setdefault(m.group(1), {})[int(m.group(2))] = values[:, c]
        else:
            out[name] = values[:, c]
    for name, comps in vectors.items():
        if name in out:
            raise DataError(f"{p}: column '{name}' and vector columns '{name}[i]' both present")
        if sorted(comps) != list(range(len(comps))):
            raise DataError(
                f"{p}: vector columns of '{name}' must be {name}[0] ... {name}[{len(comps) - 1}] "
                f"with no gaps, got indices {sorted(comps)}"
            )
        out[name] = np.column_stack([comps[i] for i in range(len(comps))])
    return out


def _p0(items):
    out = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise ArgumentError(f"--p0 takes name=value pairs such as b1=1, got {item!r}")
    return out


def _cmd_fit(args) -> int:
    import numpy as np

    from ..fitting import fit
    from ._args import read_source

    model, _ = read_source(args.model, "model")
    data = read_csv(args.data)
    result = fit(model, data, _p0(args.p0) or None, method=args.method, missing=args.missing)
    print(result.report())
    if args.conf_int:
        ci = result.conf_int(args.level, method=args.conf_int)
        print(f"[[Confidence intervals]] ({args.conf_int}, level {args.level:g})")
        width = max(len(n) for n in result.names)
        flat = []
        for v in ci.values():
            arr = np.asarray(v, dtype=float).reshape(-1, 2)
            flat += list(arr)
        for name, (lo, hi) in zip(result.names, flat, strict=True):
            print(f"    {name.ljust(width)}  [{lo:.6g}, {hi:.6g}]")
    if args.plot:
        from ..fitting.plot import plot_fit

        plot_fit(result, args.plot)
        print(f"plot written to {args.plot}")
    return 0 if result.success else 2


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "fit",
        help="fit a model ('y ~ a*x + b', or a .sml file with one '~' statement) to a CSV file",
        description="Fit 'y ~ expr' (least squares) or 'y ~ Dist(...)' (maximum likelihood) "
        "to the columns of a CSV file and print a report. Exit status 2 if the "
        "optimizer did not converge.",
    )
    p.add_argument(
        "model", help="the model text, e.g. 'y ~ A*exp(-k*t) + c', or a .sml file holding it"
    )
    p.add_argument("--data", required=True, help="CSV file with a header row of column names")
    p.add_argument("--p0", nargs="+", metavar="NAME=VALUE", help="starting values")
    p.add_argument("--method", default=None, help="optimizer for likelihood models")
    p.add_argument(
        "--missing",
        choices=["raise", "drop"],
        default="raise",
        help="rows with NaN/missing values: raise an error (default) or drop them",
    )
    p.add_argument(
        "--conf-int",
        choices=["wald", "profile"],
        default=None,
        help="also print confidence intervals",
    )
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument(
        "--plot", metavar="OUT.png", help="draw data, fit and residuals (needs matplotlib)"
    )
    p.set_defaults(func=_cmd_fit)


__all__ = ["register", "read_csv"]
