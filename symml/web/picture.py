"""Pictures for the web page, drawn on the server as SVG (nothing loaded from another host).

A function of one variable is drawn as a curve (with the Taylor polynomial or the derivative
overlaid, dashed); a function of two variables as contour lines (levels at quantiles of its
values on a grid; contour lines from ``contourpy`` when installed, shaded cells otherwise),
with the constraint curves and the candidate points of a Lagrange/KKT derivation, or the
Taylor polynomial's contours, overlaid. Values come from :func:`symml.compile` (NumPy), so
the same limits apply as everywhere.

>>> import symml as sm
>>> svg = picture({"formula": "sin(x)", "operation": "taylor", "point": "x=0"},
...               sm.steps.taylor("sin(x)", {"x": 0}, 3))
>>> svg.startswith("<svg") and "<path" in svg and "http://" not in svg.replace(_NS, "")
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy

__all__ = ["picture", "path_window", "path_levels"]

_NS = "http://www.w3.org/2000/svg"
W, H, M = 480, 320, 36  # size and margin of the drawing
_COLORS = ("#1f5fa8", "#c0392b", "#2e8b57")


def _values(f: sympy.Expr, syms: list, grids: list) -> np.ndarray:
    import warnings

    from ..compile import compile as compile_

    fn = compile_(f, syms)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        v = np.asarray(fn(*grids), dtype=complex) * np.ones_like(grids[0], dtype=complex)
    out = np.where(np.abs(v.imag) < 1e-9 * (1 + np.abs(v.real)), v.real, np.nan)
    out[~np.isfinite(out)] = np.nan
    return out


def _range(center: float, extra: list[float]) -> tuple[float, float]:
    lo, hi = center - 3.0, center + 3.0
    for e in extra:
        lo, hi = min(lo, e - 1.0), max(hi, e + 1.0)
    return lo, hi


def _sx(x, lo, hi):
    return M + (x - lo) / (hi - lo) * (W - 2 * M)


def _sy(y, lo, hi):
    return H - M - (y - lo) / (hi - lo) * (H - 2 * M)


def _polyline(xs, ys, xr, yr, color, dashed=False) -> str:
    parts, pen = [], False
    for x, y in zip(xs, ys, strict=True):
        if not np.isfinite(y) or y < yr[0] - (yr[1] - yr[0]) or y > yr[1] + (yr[1] - yr[0]):
            pen = False
            continue
        parts.append(f"{'L' if pen else 'M'}{_sx(x, *xr):.1f},{_sy(y, *yr):.1f}")
        pen = True
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return f'<path d="{" ".join(parts)}" fill="none" stroke="{color}" stroke-width="2"{dash}/>'


def _frame(xr, yr, xlabel: str, ylabel: str) -> str:
    out = [f'<rect x="{M}" y="{M}" width="{W - 2 * M}" height="{H - 2 * M}" fill="#fff" '
           'stroke="#999"/>']  # fmt: skip
    for v, anchor in ((xr[0], "start"), (xr[1], "end")):
        out.append(f'<text x="{_sx(v, *xr):.1f}" y="{H - M + 14}" font-size="11" '
                   f'text-anchor="{anchor}">{v:.3g}</text>')  # fmt: skip
    for v, dy in ((yr[0], 0), (yr[1], 10)):  # small enough that "-0.246" fits the margin
        out.append(f'<text x="{M - 2}" y="{_sy(v, *yr) + dy:.1f}" font-size="10" '
                   f'text-anchor="end">{v:.3g}</text>')  # fmt: skip
    out.append(f'<text x="{W / 2}" y="{H - 6}" font-size="12" text-anchor="middle">'
               f"{_esc(xlabel)}</text>")  # fmt: skip
    out.append(f'<text x="10" y="{H / 2}" font-size="12" text-anchor="middle" '
               f'transform="rotate(-90 10 {H / 2})">{_esc(ylabel)}</text>')  # fmt: skip
    return "".join(out)


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _svg(frame: str, plot: str, legend: str, caption: str) -> str:
    clip = (f'<clipPath id="symml-plot"><rect x="{M}" y="{M}" width="{W - 2 * M}" '
            f'height="{H - 2 * M}"/></clipPath>')  # fmt: skip
    return (f'<svg xmlns="{_NS}" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
            f'class="picture"><title>{_esc(caption)}</title>{clip}{frame}'
            f'<g clip-path="url(#symml-plot)">{plot}</g>{legend}</svg>')  # fmt: skip


def _legend(items: list[tuple], left: bool = False, bottom: bool = False) -> str:
    """A legend box in a corner of the plot (top right unless told): each item is
    ``(label, color, dashed)`` for a line, or ``(label, color, "dot")`` for a marker."""
    x0 = M + 4 if left else W - M - 126
    y0 = H - M - 8 - 16 * len(items) if bottom else M + 4
    out = [f'<rect x="{x0}" y="{y0}" width="122" height="{16 * len(items) + 4}" '
           'fill="#fff" fill-opacity="0.85"/>']  # fmt: skip
    for k, (label, color, dashed) in enumerate(items):
        y = y0 + 10 + 16 * k
        if dashed == "dot":
            mark = f'<circle cx="{x0 + 18}" cy="{y}" r="4.5" fill="{color}" stroke="#000"/>'
        else:
            dash = ' stroke-dasharray="6 4"' if dashed else ""
            mark = (f'<line x1="{x0 + 6}" y1="{y}" x2="{x0 + 30}" y2="{y}" stroke="{color}" '
                    f'stroke-width="2"{dash}/>')  # fmt: skip
        out.append(f'{mark}<text x="{x0 + 36}" y="{y + 4}" font-size="11">{_esc(label)}</text>')
    return "".join(out)


def _free_corner(points: list[tuple[float, float]], rows: int) -> dict:
    """The corner of the plot whose legend box covers the fewest of the (screen) points."""
    best, where = None, {}
    for left in (False, True):
        for bottom in (False, True):
            x0 = M + 4 if left else W - M - 126
            y0 = H - M - 8 - 16 * rows if bottom else M + 4
            n = sum(x0 - 6 <= px <= x0 + 128 and y0 - 6 <= py <= y0 + 16 * rows + 10
                    for px, py in points)  # fmt: skip
            if best is None or n < best:
                best, where = n, {"left": left, "bottom": bottom}
    return where


def _curve(f, x, overlay, center, extra, caption) -> str:
    from ..steps.render import text

    xr = _range(center, extra)
    xs = np.linspace(xr[0], xr[1], 401)
    ys = _values(f, [x], [xs])
    curves = [(f"f = {text(f)}"[:40], ys, _COLORS[0], False)]
    if overlay is not None:
        curves.append((overlay[0][:40], _values(overlay[1], [x], [xs]), _COLORS[1], True))
    finite = ys[np.isfinite(ys)]
    if finite.size == 0:
        return ""
    lo, hi = np.nanpercentile(finite, [2, 98])
    if hi - lo < 1e-12:
        lo, hi = lo - 1, hi + 1
    pad = 0.1 * (hi - lo)
    yr = (float(lo - pad), float(hi + pad))
    body = []
    if yr[0] < 0 < yr[1]:
        body.append(f'<line x1="{M}" x2="{W - M}" y1="{_sy(0, *yr):.1f}" y2="{_sy(0, *yr):.1f}" '
                    'stroke="#ccc"/>')  # fmt: skip
    for _label, vals, color, dashed in curves:
        body.append(_polyline(xs, vals, xr, yr, color, dashed))
    legend = _legend([(c[0], c[2], c[3]) for c in curves])
    return _svg(_frame(xr, yr, str(x), "value"), "".join(body), legend, caption)


def _contour_paths(X, Y, Z, levels, xr, yr, color, dashed=False) -> str:
    dash = ' stroke-dasharray="5 3"' if dashed else ""
    try:
        import contourpy
    except ImportError:
        contourpy = None
    out = []
    if contourpy is not None:
        gen = contourpy.contour_generator(X, Y, np.ma.masked_invalid(Z))
        for lev in levels:
            for line in gen.lines(lev):
                pts = " ".join(f"{'M' if i == 0 else 'L'}{_sx(px, *xr):.1f},{_sy(py, *yr):.1f}"
                               for i, (px, py) in enumerate(line))  # fmt: skip
                out.append(f'<path d="{pts}" fill="none" stroke="{color}" stroke-width="1.3"'
                           f'{dash}/>')  # fmt: skip
        return "".join(out)
    # no contourpy: shaded cells, darker for larger values
    lo, hi = levels[0], levels[-1]
    ny, nx = Z.shape
    cw, ch = (W - 2 * M) / (nx - 1), (H - 2 * M) / (ny - 1)
    for i in range(ny - 1):
        for j in range(nx - 1):
            z = Z[i, j]
            if np.isfinite(z):
                t = min(max((z - lo) / (hi - lo + 1e-300), 0), 1)
                g = int(235 - 150 * t)
                out.append(f'<path d="M{M + j * cw:.1f},{H - M - (i + 1) * ch:.1f}h{cw:.1f}'
                           f'v{ch:.1f}h{-cw:.1f}z" fill="rgb({g},{g},255)"/>')  # fmt: skip
    return "".join(out)


def _contours(f, xy, center, points, zero_sets, overlay, caption) -> str:
    x, y = xy
    xr = _range(center[0], [p[0] for p in points])
    yr = _range(center[1], [p[1] for p in points])
    X, Y = np.meshgrid(np.linspace(*xr, 81), np.linspace(*yr, 81))
    Z = _values(f, [x, y], [X, Y])
    finite = Z[np.isfinite(Z)]
    if finite.size < 10:
        return ""
    levels = sorted(set(np.nanpercentile(finite, np.linspace(5, 95, 12)).tolist()))
    body = [_contour_paths(X, Y, Z, levels, xr, yr, _COLORS[0])]
    legend = [("level sets of f", _COLORS[0], False)]
    if overlay is not None:
        Zt = _values(overlay[1], [x, y], [X, Y])
        body.append(_contour_paths(X, Y, Zt, levels, xr, yr, _COLORS[1], dashed=True))
        legend.append((overlay[0], _COLORS[1], True))
    for g in zero_sets:
        body.append(_contour_paths(X, Y, _values(g, [x, y], [X, Y]), [0.0], xr, yr,
                                   _COLORS[2]))  # fmt: skip
    if zero_sets:
        legend.append(("constraint boundary", _COLORS[2], False))
    for px, py in points:
        body.append(f'<circle class="optimum" cx="{_sx(px, *xr):.1f}" cy="{_sy(py, *yr):.1f}" '
                    f'r="4.5" fill="{_COLORS[1]}" stroke="#fff"/>')  # fmt: skip
    return _svg(_frame(xr, yr, str(x), str(y)), "".join(body), _legend(legend), caption)


def _number(v) -> float | None:
    try:
        c = complex(sympy.N(v, 15))
    except (TypeError, ValueError):
        return None
    return c.real if abs(c.imag) < 1e-12 and math.isfinite(c.real) else None


#: viridis at 0, 1/4, 1/2, 3/4, 1 (matplotlib's default colour map, which plot_paths uses)
_VIRIDIS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))


def _viridis(t: float) -> str:
    t = min(max(t, 0.0), 1.0) * (len(_VIRIDIS) - 1)
    k = min(int(t), len(_VIRIDIS) - 2)
    a, b = _VIRIDIS[k], _VIRIDIS[k + 1]
    return "#" + "".join(f"{round(u + (t - k) * (v - u)):02x}" for u, v in zip(a, b, strict=True))


def path_window(path: np.ndarray, margin: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """The drawn range around the iterates: :func:`symml.optimize.plot_paths`' rule (their
    extent, widened by ``margin`` of it, never narrower than 1e-3*(1 + |high|))."""
    pts = path[np.all(np.isfinite(path), axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, 1e-3 * (1 + np.abs(hi)))
    return lo - margin * span, hi + margin * span


def path_levels(Z: np.ndarray, levels: int = 30) -> list[float]:
    """Contour levels spaced geometrically above the lowest value on the grid, as
    :func:`symml.optimize.plot_paths` draws them (a Rosenbrock valley stays visible)."""
    finite = Z[np.isfinite(Z)]
    if finite.size == 0:
        return []
    zmin, zmax = float(finite.min()), float(finite.max())
    if not zmax > zmin:
        return []
    return (zmin + np.geomspace(max((zmax - zmin) * 1e-6, 1e-300), zmax - zmin, levels)).tolist()


def _path_marks(xs, ys, xr, yr, label: str) -> tuple[str, list]:
    """The path as a line through the iterates, dots (at most 200), the start and the end."""
    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(x) and math.isfinite(y)]
    if not pts:
        return "", []
    d = " ".join(f"{'M' if i == 0 else 'L'}{_sx(x, *xr):.2f},{_sy(y, *yr):.2f}"
                 for i, (x, y) in enumerate(pts))  # fmt: skip
    out = [f'<path class="path" d="{d}" fill="none" stroke="{_COLORS[1]}" stroke-width="1.6"/>']
    step = max(1, math.ceil(len(pts) / 200))
    for x, y in pts[::step]:
        out.append(f'<circle class="iterate" cx="{_sx(x, *xr):.2f}" cy="{_sy(y, *yr):.2f}" '
                   f'r="1.8" fill="{_COLORS[1]}"/>')  # fmt: skip
    (x0, y0), (x1, y1) = pts[0], pts[-1]
    out.append(f'<circle class="start" cx="{_sx(x0, *xr):.2f}" cy="{_sy(y0, *yr):.2f}" r="5" '
               'fill="#000" stroke="#fff"/>')  # fmt: skip
    out.append(f'<circle class="end" cx="{_sx(x1, *xr):.2f}" cy="{_sy(y1, *yr):.2f}" r="5.5" '
               f'fill="#f5b700" stroke="#000"/>')  # fmt: skip
    items = [(label, _COLORS[1], False), ("start", "#000", "dot"), ("end", "#f5b700", "dot")]
    return "".join(out), items


def _with_window(svg: str, xr, yr) -> str:
    """Record the drawn range on the <svg> (so a reader can map coordinates back)."""
    window = f'data-x="{xr[0]!r} {xr[1]!r}" data-y="{yr[0]!r} {yr[1]!r}"'
    return svg.replace("<svg ", f"<svg {window} ", 1)


def _minimize_picture(request: dict, d: Any) -> str:
    """The optimizer's path: over the contours for two variables (the figure of
    :func:`symml.optimize.plot_paths`: same range, same levels), along the curve for one."""
    from ..lang import expr

    run = getattr(d, "run", None)
    if run is None or run.path is None or not 1 <= run.path.shape[1] <= 2 or len(run.path) == 0:
        return ""
    if not np.isfinite(run.path).all(axis=1).any():
        return ""
    f = expr(request["formula"])
    by_name = {s.name: s for s in f.free_symbols}
    syms = [by_name.get(n, sympy.Symbol(n, real=True)) for n in run.names]
    lo, hi = path_window(run.path)
    label = f"{run.method} ({run.nit} it)"
    caption = f"{run.method} minimizing {request['formula']}"
    if len(syms) == 1:
        xr = (float(lo[0]), float(hi[0]))
        xs = np.linspace(xr[0], xr[1], 401)
        ys = _values(f, syms, [xs])
        fx = _values(f, syms, [run.path[:, 0]])
        finite = np.concatenate([ys[np.isfinite(ys)], fx[np.isfinite(fx)]])
        if finite.size == 0:
            return ""
        a, b = float(finite.min()), float(finite.max())
        pad = 0.1 * (b - a) if b > a else 1.0
        yr = (a - pad, b + pad)
        marks, legend = _path_marks(run.path[:, 0].tolist(), fx.tolist(), xr, yr, label)
        body = _polyline(xs, ys, xr, yr, _COLORS[0]) + marks
        legend = [(f"f = {request['formula']}"[:40], _COLORS[0], False)] + legend
        screen = [(_sx(x, *xr), _sy(y, *yr)) for x, y in zip(run.path[:, 0], fx, strict=True)]
        box = _legend(legend, **_free_corner(screen, len(legend)))
        svg = _svg(_frame(xr, yr, syms[0].name, "value"), body, box, caption)
        return _with_window(svg, xr, yr)
    xr, yr = (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))
    n = 120  # plot_paths' grid
    X, Y = np.meshgrid(np.linspace(*xr, n), np.linspace(*yr, n))
    Z = _values(f, syms, [X, Y])
    levels = path_levels(Z)
    try:
        import contourpy  # noqa: F401
    except ImportError:  # shaded cells instead of lines: drawn once, for all the levels
        body = [_contour_paths(X, Y, Z, levels, xr, yr, _COLORS[0])] if levels else []
    else:  # one colour per level, low to high, as viridis
        body = [f'<g class="level" data-level="{lev!r}">'
                + _contour_paths(X, Y, Z, [lev], xr, yr, _viridis(k / max(1, len(levels) - 1)))
                + "</g>" for k, lev in enumerate(levels)]  # fmt: skip
    marks, legend = _path_marks(run.path[:, 0].tolist(), run.path[:, 1].tolist(), xr, yr, label)
    body.append(marks)
    legend = [("level sets of f", _viridis(0.5), False)] + legend
    screen = [(_sx(x, *xr), _sy(y, *yr)) for x, y in run.path[:, :2]]
    box = _legend(legend, **_free_corner(screen, len(legend)))
    svg = _svg(_frame(xr, yr, syms[0].name, syms[1].name), "".join(body), box, caption)
    return _with_window(svg, xr, yr)


def picture(request: dict, d: Any) -> str:
    """An SVG picture for the derivation ``d`` of ``request``, or "" when none helps (more
    than two variables, no real values, a kind without a function to draw)."""
    from ..lang import expr

    op = request.get("operation", "diff")
    if op == "minimize":
        return _minimize_picture(request, d)
    if op not in ("diff", "grad", "hessian", "taylor", "integrate", "lagrange", "convex", "dual"):
        return ""
    f = expr(request["formula"])
    if not isinstance(f, sympy.Expr) or isinstance(f, sympy.MatrixBase):
        return ""
    syms = sorted(f.free_symbols, key=lambda s: s.name)
    if op == "taylor" and isinstance(d.result, sympy.Expr):
        syms = sorted(f.free_symbols | d.result.free_symbols, key=lambda s: s.name)
    if not 1 <= len(syms) <= 2:
        return ""
    center = [0.0] * len(syms)
    overlay, points, zero_sets, extra = None, [], [], []
    if op == "taylor":
        overlay = ("Taylor polynomial", d.result)
        at = {str(k): v for k, v in getattr(d, "point", {}).items()} if hasattr(d, "point") else {}
        for part in str(request.get("point", "")).replace(",", " ").split():
            name, _, value = part.partition("=")
            at.setdefault(name, expr(value))
        center = [_number(at.get(s.name, 0)) or 0.0 for s in syms]
    elif op == "diff" and len(syms) == 1 and isinstance(d.result, sympy.Expr):
        overlay = ("derivative", d.result)
    elif op == "integrate" and len(syms) == 1:
        for k in ("lower", "upper"):
            if request.get(k) not in (None, ""):
                v = _number(expr(str(request[k])))
                if v is not None:
                    extra.append(v)
        if extra:
            center = [sum(extra) / len(extra)]
    elif op in ("lagrange", "dual") and len(syms) == 2:
        for c in str(request.get("constraints") or "").replace(";", "\n").splitlines():
            if c.strip():
                rel = expr(c.strip())
                if isinstance(rel, sympy.Rel):
                    zero_sets.append(rel.lhs - rel.rhs)
        if op == "lagrange" and isinstance(d.result, list):
            for cand in d.result:
                xy = [_number(cand.get(s)) for s in syms]
                if None not in xy:
                    points.append(tuple(xy))
    caption = f"{op} of {request['formula']}"
    if len(syms) == 1:
        return _curve(f, syms[0], overlay, center[0], extra, caption)
    return _contours(f, syms, center, points, zero_sets, overlay, caption)
