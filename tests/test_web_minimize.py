"""The page's minimize operation through the JSON API (in process): the run agrees with
SciPy's own minimizer and with symml.minimize, the stationarity derivation with SymPy's
gradient, the badge with the exact gradient and Hessian at the point, and the picture with
the figure the Python API draws (symml.optimize.plot_paths: the same range, contour levels
and path). Bad requests are JSON errors; every answer is strict JSON (no NaN)."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import sympy

pytest.importorskip("starlette", reason='the web page needs pip install "symml[web]"')
pytest.importorskip("httpx", reason='the web tests need httpx (pip install "symml[web]")')

from test_web import _Client  # noqa: E402

import symml as sm  # noqa: E402
from symml.web.derive import derive  # noqa: E402
from symml.web.picture import H, M, W  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
ROSEN = "(1 - x)^2 + 100*(y - x^2)^2"


@pytest.fixture(scope="module")
def client():
    from symml.web import create_app

    c = _Client(create_app(time_limit=30.0))
    yield c
    c.close()


def _post(client, req):
    r = client.post("/api/derive", json=req)
    assert r.status_code == 200
    json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in the JSON answer"))
    d = r.json()
    assert d == json.loads(json.dumps(derive(req)))  # the server adds nothing of its own
    return d


def _rosen_scipy(x0):
    from scipy.optimize import minimize, rosen, rosen_der

    return minimize(rosen, x0, jac=rosen_der, method="BFGS", tol=1e-12)


def test_minimize_agrees_with_scipy_and_the_python_api(client):
    d = _post(client, {"formula": ROSEN, "operation": "minimize", "start": "x=-1.2 y=1"})
    assert d["ok"] and d["verified"] and d["kind"] == "minimize"
    m = d["minimize"]
    ref = _rosen_scipy([-1.2, 1.0])  # SciPy's own Rosenbrock function and gradient
    assert np.allclose([m["x"]["x"], m["x"]["y"]], ref.x, atol=1e-6)
    assert m["success"] and m["status"] == 0 and m["status_text"] == "converged"
    assert m["method"] == "bfgs" and m["fun"] < 1e-12 and m["nit"] > 5
    assert "<math" in m["value_html"] and "<math" in d["result"]["html"]
    # the same run as the Python API: the path the figure draws, start first
    r = sm.minimize(ROSEN, {"x": -1.2, "y": 1.0}, "bfgs")
    assert m["path_rows"] == len(r.path) == r.nit + 1
    assert np.allclose(m["path"], r.path, rtol=1e-12, atol=0)
    assert m["path"][0] == [-1.2, 1.0]
    # the result shown is the point, rounded
    for name in ("x", "y"):
        shown = d["result"]["text"].split(f"{name} = ")[1].split(",")[0]
        assert abs(float(shown) - ref.x["xy".index(name)]) < 1e-6


def _walk(steps):
    for s in steps:
        yield s
        yield from _walk(s["substeps"])


def test_the_stationarity_conditions_are_derived_and_match_sympy(client):
    d = _post(client, {"formula": ROSEN, "operation": "minimize", "start": "x=-1.2 y=1"})
    rules = [s["rule"] for s in d["steps"]]
    assert rules[:2] == ["gradient", "stationarity"] and "numeric" in rules
    assert d["steps"][0]["substeps"]  # the gradient's own derivation, folded under its step
    x, y = sympy.symbols("x y")
    f = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    conditions = d["steps"][1]["equation_text"].strip("[]").split(", ")
    assert len(conditions) == 2
    for c, v in zip(conditions, (x, y), strict=True):
        lhs, rhs = c.split(" == ")
        assert rhs == "0"
        got = sm.expr(lhs)
        got = got.subs({s: sympy.Symbol(s.name) for s in got.free_symbols})
        assert sympy.simplify(got - sympy.diff(f, v)) == 0
    # every step's equations are MathML; the derivation renders as LaTeX and Markdown too
    for s in _walk(d["steps"]):
        assert not s["equation_html"] or s["equation_html"].startswith("<math")
    assert "\\begin{document}" in d["renderings"]["latex_document"]
    assert "stationarity conditions" in d["renderings"]["markdown"]


def test_one_variable_draws_the_path_along_the_curve(client):
    d = _post(client, {"formula": "exp(x) - 2*x", "operation": "minimize", "start": "x=3",
                       "method": "gd"})  # fmt: skip
    assert d["ok"] and d["verified"]
    assert abs(d["minimize"]["x"]["x"] - math.log(2)) < 1e-5  # f' = exp(x) - 2 = 0
    root = ET.fromstring(d["picture_svg"])
    x0, x1 = map(float, root.get("data-x").split())
    y0, y1 = map(float, root.get("data-y").split())
    dots = [c for c in root.iter(SVG + "circle") if c.get("class") == "iterate"]
    assert len(dots) > 10
    for c in dots:  # each iterate is drawn on the curve: (x_k, f(x_k))
        px = x0 + (float(c.get("cx")) - M) / (W - 2 * M) * (x1 - x0)
        py = y0 + (H - M - float(c.get("cy"))) / (H - 2 * M) * (y1 - y0)
        assert abs(py - (math.exp(px) - 2 * px)) < 0.02 * (y1 - y0)
    start = next(c for c in root.iter(SVG + "circle") if c.get("class") == "start")
    assert abs(x0 + (float(start.get("cx")) - M) / (W - 2 * M) * (x1 - x0) - 3) < 0.01


def _back(px, py, xr, yr):
    """Screen coordinates of the SVG -> (x, y) on its drawn range."""
    return (xr[0] + (px - M) / (W - 2 * M) * (xr[1] - xr[0]),
            yr[0] + (H - M - py) / (H - 2 * M) * (yr[1] - yr[0]))  # fmt: skip


def test_the_picture_is_the_python_api_figure(client):
    mpl = pytest.importorskip("matplotlib", reason="the Python API's figure needs matplotlib")
    assert mpl
    from symml.optimize import plot_paths

    d = _post(client, {"formula": ROSEN, "operation": "minimize", "start": "x=-1.2 y=1"})
    root = ET.fromstring(d["picture_svg"])
    fig = plot_paths(sm.minimize(ROSEN, {"x": -1.2, "y": 1.0}, "bfgs"))
    ax = fig.axes[0]
    xr = tuple(map(float, root.get("data-x").split()))
    yr = tuple(map(float, root.get("data-y").split()))
    assert np.allclose(xr, ax.get_xlim(), rtol=1e-12) and np.allclose(yr, ax.get_ylim(), rtol=1e-12)
    levels = [float(g.get("data-level")) for g in root.iter(SVG + "g") if g.get("class") == "level"]
    contour = next(c for c in ax.collections if hasattr(c, "levels"))
    assert len(levels) == len(contour.levels) == 30
    assert np.allclose(levels, contour.levels, rtol=1e-9)
    # the drawn path, mapped back to (x, y), is the figure's line through the iterates
    line = next(p for p in root.iter(SVG + "path") if p.get("class") == "path")
    pts = [tuple(map(float, t[1:].split(","))) for t in line.get("d").split()]
    back = np.array([_back(px, py, xr, yr) for px, py in pts])
    mpl_path = ax.lines[0].get_xydata()
    tol = 0.01 / (W - 2 * M) * np.array([xr[1] - xr[0], yr[1] - yr[0]])  # the SVG's 0.01 px
    assert back.shape == mpl_path.shape and np.all(np.abs(back - mpl_path) <= tol + 1e-12)
    # every contour line lies on its level: f at its points equals the level
    f = sympy.lambdify(sympy.symbols("x y"), (1 - sympy.Symbol("x")) ** 2
                       + 100 * (sympy.Symbol("y") - sympy.Symbol("x") ** 2) ** 2)  # fmt: skip
    g = next(g for g in root.iter(SVG + "g") if g.get("class") == "level" and len(g))
    lev = float(g.get("data-level"))
    for p in g:
        for t in p.get("d").split()[::7]:
            vx, vy = _back(*map(float, t[1:].split(",")), xr, yr)
            assert abs(f(vx, vy) - lev) < 0.05 * max(lev, 1e-3) + 0.01


def test_a_run_that_does_not_converge_is_not_verified(client):
    d = _post(client, {"formula": ROSEN, "operation": "minimize", "start": "x=-1.2 y=1",
                       "method": "gd", "max_iter": 3})  # fmt: skip
    assert d["ok"] and not d["verified"]
    assert d["minimize"]["status"] == 1 and d["minimize"]["nit"] == 3
    assert "did not converge" in d["verify_message"]
    assert len(d["minimize"]["path"]) == 4 and d["picture_svg"].startswith("<svg")


def test_a_saddle_point_is_not_called_a_minimum(client):
    # the start is a stationary point of x^2 - y^2: the optimizer stops there at once
    d = _post(client, {"formula": "x^2 - y^2", "operation": "minimize", "start": "x=0 y=0"})
    assert d["ok"] and not d["verified"]
    assert "negative eigenvalue" in d["verify_message"]
    second = next(s for s in d["steps"] if s["rule"] == "second_order")
    assert "not a minimum" in second["explanation_text"]
    ev = sympy.Matrix([[2, 0], [0, -2]]).eigenvals()  # the Hessian of x^2 - y^2
    shown = [float(v) for v in second["equation_text"].strip("[]").split(", ")]
    assert sorted(float(e) for e in ev) == shown


def test_a_diverging_run_answers_strict_json(client):
    d = _post(client, {"formula": "x^2 + y^2", "operation": "minimize", "start": "x=1 y=1",
                       "method": "gd", "max_iter": 3000, "lr": "1.5"})  # fmt: skip
    assert d["ok"] and not d["verified"]
    assert d["minimize"]["status"] in (1, 2)


@pytest.mark.parametrize("req, kind, words", [
    ({"formula": ROSEN, "method": "frobnicate"}, "ArgumentError", "methods are"),
    ({"formula": ROSEN, "start": "z=1"}, "ArgumentError", "not a variable"),
    ({"formula": ROSEN, "start": "x"}, "ArgumentError", "name=value"),
    ({"formula": ROSEN, "max_iter": 10**9}, "ArgumentError", "10,000"),
    ({"formula": ROSEN, "max_iter": "2.5"}, "ArgumentError", "whole number"),
    ({"formula": ROSEN, "variables": "x"}, "ArgumentError", "also depends on y"),
    ({"formula": ROSEN, "start": "x=__import__('os') y=1"}, "ParseError", ""),
    ({"formula": ROSEN, "start": "x=sqrt(-1) y=1"}, "ArgumentError", "real"),
    ({"formula": "2^(10^10)*x"}, "LimitError", ""),
    ({"formula": "[1, 2]"}, "ArgumentError", "scalar"),
    ({"formula": "3"}, "ArgumentError", "no variable"),
])  # fmt: skip
def test_bad_minimize_requests_are_clear_errors(client, req, kind, words):
    d = _post(client, {**req, "operation": "minimize"})
    assert not d["ok"] and d["error"]["type"] == kind, d
    assert words in d["error"]["message"]


def test_a_start_where_the_objective_is_not_finite(client):
    d = _post(client, {"formula": "log(x) + x^2", "operation": "minimize", "start": "x=-1"})
    assert d["ok"] and not d["verified"] and d["minimize"]["status"] == 5


def test_the_methods_are_listed(client):
    from symml.optimize import method_names

    methods = client.get("/api/methods").json()
    assert "bfgs" in methods and "gd" in methods and set(methods) <= set(method_names())
    assert "minimize" in client.get("/api/operations").json()
