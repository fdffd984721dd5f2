"""The page's MLE, KL, convexity, dual and Gram-Schmidt operations and its pictures, through
the JSON API (in process). Results are checked against independent references: NumPy for
orthonormality, the closed-form KL of two normals, the sample mean/variance for the MLE,
SymPy's Hessian eigenvalues for convexity, SciPy for the dual's optimum; pictures are parsed
as XML and their points compared with the Lagrange candidates."""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import sympy

pytest.importorskip("starlette", reason='the web page needs pip install "symml[web]"')
pytest.importorskip("httpx", reason='the web tests need httpx (pip install "symml[web]")')

from test_web import _Client  # noqa: E402

import symml as sm  # noqa: E402
from symml.web.derive import derive  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def client():
    from symml.web import create_app

    c = _Client(create_app(time_limit=20.0))
    yield c
    c.close()


def _post(client, req):
    d = client.post("/api/derive", json=req).json()
    assert d == json.loads(json.dumps(derive(req)))  # the server adds nothing of its own
    return d


def test_the_new_operations_are_offered(client):
    ops = client.get("/api/operations").json()
    assert {"gram_schmidt", "mle", "kl", "convex", "dual"} <= set(ops)


@pytest.mark.parametrize("formula", ["[1, 1, 0]; [1, 0, 1]; [0, 1, 1]",
                                     "[[1, 1, 0], [1, 0, 1], [0, 1, 1]]"])
def test_gram_schmidt_is_orthonormal_and_spans_the_same_space(client, formula):
    d = _post(client, {"formula": formula, "operation": "gram_schmidt"})
    assert d["ok"] and d["verified"]
    rows = sm.expr(d["result"]["text"]).tolist()
    q = np.array([[float(sympy.N(v)) for v in row] for row in rows])
    assert np.allclose(q @ q.T, np.eye(3), atol=1e-12)
    a = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=float)
    assert np.allclose(q.T @ (q @ a.T), a.T)  # each vector is in the span of q


def test_mle_matches_the_sample_mean_and_variance(client):
    d = _post(client, {"formula": "Normal", "operation": "mle", "variables": "x"})
    assert d["ok"] and d["verified"]
    assert "mu = " in d["result"]["text"] and "sigma2 = " in d["result"]["text"]
    # the derivation's estimator, evaluated on data, against NumPy
    est = sm.steps.mle("Normal", "x").result
    data = [random.Random(3).gauss(1, 2) for _ in range(7)]
    n = next(s for s in est["mu"].free_symbols if s.name == "n")
    x = next(iter(est["mu"].atoms(sympy.Indexed))).base
    mu = est["mu"].subs(n, 7).doit().subs({x[k + 1]: v for k, v in enumerate(data)})
    assert abs(float(mu) - np.mean(data)) < 1e-12
    bad = _post(client, {"formula": "Cauchy", "operation": "mle"})
    assert not bad["ok"] and "Normal" in bad["error"]["message"]


def test_kl_of_two_normals_matches_the_closed_form(client):
    d = _post(client, {"formula": "Normal(m1, s1)", "q": "Normal(m2, s2)", "operation": "kl"})
    assert d["ok"] and d["verified"]
    m1, m2, s1, s2 = sympy.symbols("m1 m2 s1 s2", positive=True)
    ref = sympy.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - sympy.Rational(1, 2)
    got = sm.expr(d["result"]["text"])
    at = {"m1": 0.3, "m2": -1.1, "s1": 0.7, "s2": 1.9}
    assert abs(float(got.subs({sympy.Symbol(k, real=True): v for k, v in at.items()}).subs(
        {sympy.Symbol(k): v for k, v in at.items()})) - float(ref.subs(
        {sympy.Symbol(k, positive=True): v for k, v in at.items()}))) < 1e-12
    for bad in ({"formula": "Normal(0, 1)", "q": "Exponential(1)"},
                {"formula": "Normal(0)", "q": "Normal(0, 1)"},
                {"formula": "os.system(1)", "q": "Normal(0, 1)"},
                {"formula": "Normal(__import__('os'), 1)", "q": "Normal(0, 1)"}):
        e = _post(client, {**bad, "operation": "kl"})
        assert not e["ok"] and e["error"]["type"] in ("ArgumentError", "ParseError"), e


@pytest.mark.parametrize("formula, vars_, domain, convex", [
    ("x^2 + x*y + y^2", "x y", "", True),      # Hessian [[2, 1], [1, 2]]: eigenvalues 1, 3
    ("x*y", "x y", "", False),                 # eigenvalues -1, 1
    ("-log(x)", "x", "x > 0", True),
])  # fmt: skip
def test_convexity_agrees_with_the_hessian_eigenvalues(client, formula, vars_, domain, convex):
    d = _post(client, {"formula": formula, "operation": "convex", "variables": vars_,
                       "constraints": domain})
    assert d["ok"] and d["verified"]
    assert d["result"]["text"] == str(convex)
    f = sm.expr(formula)
    syms = sorted(f.free_symbols, key=str)
    H = sympy.hessian(f, syms).subs({s: sympy.Rational(1, 2) for s in syms})
    assert all(ev >= 0 for ev in H.eigenvals()) == convex


def test_the_dual_gives_the_primal_optimum(client):
    from scipy.optimize import minimize

    d = _post(client, {"formula": "x^2 + y^2", "operation": "dual", "constraints": "x + y == 1",
                       "variables": "x y"})
    assert d["ok"] and d["verified"]
    g = sm.expr(d["result"]["text"])  # the dual function of nu
    best = max(float(g.subs(next(iter(g.free_symbols)), t)) for t in np.linspace(-3, 3, 6001))
    primal = minimize(lambda v: v[0] ** 2 + v[1] ** 2, [0, 0],
                      constraints=[{"type": "eq", "fun": lambda v: v[0] + v[1] - 1}]).fun
    assert abs(best - primal) < 1e-6  # strong duality: max of the dual = min of the primal
    none = _post(client, {"formula": "x^2", "operation": "dual", "constraints": ""})
    assert not none["ok"] and "constraint" in none["error"]["message"]


# -- pictures ---------------------------------------------------------------------------------
def _svg(d):
    assert d["ok"] and d["picture_svg"].startswith("<svg")
    assert "http" not in d["picture_svg"].replace("http://www.w3.org/2000/svg", "")
    return ET.fromstring(d["picture_svg"])


def _coords(path_d: str) -> list[tuple[float, float]]:
    return [tuple(map(float, p[1:].split(","))) for p in path_d.split()]


def test_a_curve_with_its_taylor_polynomial(client):
    d = _post(client, {"formula": "sin(x)", "operation": "taylor", "point": "x=0", "order": 3})
    root = _svg(d)
    paths = [p for p in root.iter(SVG + "path") if p.get("d")]
    solid = [p for p in paths if not p.get("stroke-dasharray")]
    dashed = [p for p in paths if p.get("stroke-dasharray")]
    assert solid and dashed  # the function, and the polynomial overlaid
    # the curve is sin: its highest drawn point is at x = pi/2 (the range is [-3, 3])
    pts = _coords(solid[0].get("d"))
    top = min(pts, key=lambda p: p[1])  # smallest screen y = largest value
    from symml.web.picture import M, W
    x_at = -3 + (top[0] - M) / (W - 2 * M) * 6
    assert abs(x_at - np.pi / 2) < 0.05 or abs(x_at + 3 * np.pi / 2) < 0.05


def test_contours_with_the_constrained_optima(client):
    d = _post(client, {"formula": "x*y", "operation": "lagrange", "constraints": "x^2 + y^2 == 1"})
    root = _svg(d)
    dots = [(float(c.get("cx")), float(c.get("cy"))) for c in root.iter(SVG + "circle")]
    from symml.web.picture import H, M, W
    # four candidates (+-1/sqrt(2), +-1/sqrt(2)) on the range [-3, 3] x [-3, 3]
    want = {(sx * 2**-0.5, sy * 2**-0.5) for sx in (1, -1) for sy in (1, -1)}
    got = {(round(-3 + (cx - M) / (W - 2 * M) * 6, 2), round(3 - (cy - M) / (H - 2 * M) * 6, 2))
           for cx, cy in dots}
    assert got == {(round(a, 2), round(b, 2)) for a, b in want}
    assert len([p for p in root.iter(SVG + "path") if p.get("d")]) > 5  # level sets + circle


@pytest.mark.parametrize("req", [
    {"formula": "Normal", "operation": "mle"},
    {"formula": "x*y*z", "operation": "diff", "variables": "x"},   # three variables
    {"formula": "[1, 1]; [1, 0]", "operation": "gram_schmidt"},
])  # fmt: skip
def test_no_picture_where_none_helps(client, req):
    d = _post(client, req)
    assert d["ok"] and d["picture_svg"] == ""


# -- the mathematics library's derivation kinds ---------------------------------------------
def _offered(client, op):
    if op not in client.get("/api/operations").json():
        pytest.skip(f"symml.steps has no {op} in this build")


def _matrix(text: str) -> np.ndarray:
    return np.array([[float(sympy.N(v)) for v in row] for row in sm.expr(text).tolist()])


def test_det_agrees_with_numpy_and_the_formula(client):
    _offered(client, "det")
    a = [[2, -1, 0], [1, 3, 4], [0, 5, -2]]
    d = _post(client, {"formula": str(a), "operation": "det"})
    assert d["ok"] and d["verified"]
    assert abs(float(sympy.N(sm.expr(d["result"]["text"]))) - np.linalg.det(a)) < 1e-9
    s = _post(client, {"formula": "[[a, b], [c, d]]", "operation": "det"})
    a_, b_, c_, d_ = (sympy.Symbol(n) for n in "abcd")
    got = sm.expr(s["result"]["text"])
    got = got.subs({v: sympy.Symbol(v.name) for v in got.free_symbols})
    assert sympy.expand(got - (a_ * d_ - b_ * c_)) == 0


def test_inverse_times_the_matrix_is_the_identity(client):
    _offered(client, "inv")
    a = [[2, 1, 0], [1, 3, 1], [0, 1, 4]]
    d = _post(client, {"formula": str(a), "operation": "inv"})
    assert d["ok"] and d["verified"]
    assert np.allclose(_matrix(d["result"]["text"]) @ np.array(a, dtype=float), np.eye(3), atol=1e-12)
    assert np.allclose(_matrix(d["result"]["text"]), np.linalg.inv(a), atol=1e-12)


def test_eigen_pairs_satisfy_a_v_equals_lambda_v(client):
    _offered(client, "eig")
    a = np.array([[2.0, 1.0], [1.0, 2.0]])
    d = _post(client, {"formula": "[[2, 1], [1, 2]]", "operation": "eig"})
    assert d["ok"] and d["verified"]
    pairs = json.loads(d["result"]["text"])  # [[value, multiplicity, [vectors]], ...]: numbers
    assert sorted(p[0] for p in pairs) == pytest.approx(sorted(np.linalg.eigvalsh(a)))
    for value, mult, vectors in pairs:
        assert mult == len(vectors) == 1
        v = np.array(vectors[0], dtype=float)
        assert np.allclose(a @ v, value * v) and np.linalg.norm(v) > 0


def test_the_stationary_distribution_is_left_unchanged(client):
    _offered(client, "stationary")
    p = np.array([[0.5, 0.5], [0.25, 0.75]])
    d = _post(client, {"formula": "[[1/2, 1/2], [1/4, 3/4]]", "operation": "stationary"})
    assert d["ok"] and d["verified"]
    pi = _matrix(d["result"]["text"])[0]
    assert np.allclose(pi @ p, pi) and abs(pi.sum() - 1) < 1e-12 and np.all(pi >= 0)
    w, vl = np.linalg.eig(p.T)  # NumPy's left eigenvector for eigenvalue 1
    ref = np.real(vl[:, np.argmin(abs(w - 1))])
    assert np.allclose(pi, ref / ref.sum())
    s = _post(client, {"formula": "[[1 - p, p], [q, 1 - q]]", "operation": "stationary"})
    assert s["ok"] and s["verified"]
    got = sm.expr(s["result"]["text"])
    pp, qq = sorted(got.free_symbols, key=lambda v: v.name)
    P = sympy.Matrix([[1 - pp, pp], [qq, 1 - qq]])
    assert sympy.simplify(got * P - got) == sympy.zeros(1, 2)
    assert sympy.simplify(sum(got) - 1) == 0
