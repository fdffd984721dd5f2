"""The derivation page driven in headless Chromium (the distribution's package, through
Playwright's Python API with the system browser): type a formula, choose an operation,
wait for the derivation, unfold a step, check that the math is rendered (MathML, no raw
source visible), that a syntax error shows the caret message, and that the copied LaTeX
compiles when pdflatex is available."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason='the web page needs pip install "symml[web]"')
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need pip install playwright")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "symml", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    import httpx

    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(base + "/api/operations", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(10)


#: Every URL the page requested (recorded from before it loads): all must be the server's.
REQUESTS: list[str] = []


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1000, "height": 900})
        pg.on("request", lambda req: REQUESTS.append(req.url))
        pg.goto(server)
        pg.wait_for_selector("#operation option", state="attached")
        yield pg
        browser.close()


def test_a_derivation_renders_as_math_and_unfolds(page, tmp_path):
    page.fill("#formula", "sin(x^2)*exp(x)")
    page.select_option("#operation", "diff")
    page.fill("#variables", "x")
    page.click("#go")
    page.wait_for_selector("#verified", timeout=30000)
    assert page.inner_text("#verified") == "verified"
    assert page.locator("#output math").count() > 0
    visible = page.inner_text("#output")
    for raw in ("<math", "\\frac", "\\left", "<mi>"):
        assert raw not in visible
    folded = page.locator("#output details").first
    folded.locator("summary").first.click()
    assert folded.evaluate("d => d.open")
    # MathML is laid out as math: a fraction or superscript has a rendered box
    box = page.locator("#output .result math").bounding_box()
    assert box and box["width"] > 20 and box["height"] > 10
    if os.environ.get("SYMML_SCREENSHOT"):  # refresh docs/img/web.png on request only
        shot = Path(__file__).resolve().parent.parent / "docs" / "img" / "web.png"
        page.screenshot(path=str(shot), full_page=True)
    latex = page.locator("button", has_text="Copy LaTeX").get_attribute("data-copy")
    assert latex and "\\begin" in latex
    if shutil.which("pdflatex"):
        doc = "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n" + latex + "\\end{document}\n"
        (tmp_path / "d.tex").write_text(doc)
        out = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert out.returncode == 0, out.stdout[-2000:]


def test_a_syntax_error_shows_the_caret_message_live(page):
    page.fill("#formula", "")
    page.type("#formula", "sin(x))")
    page.wait_for_selector("#syntax:not([hidden])", timeout=10000)
    text = page.inner_text("#syntax")
    assert "^" in text and ")" in text
    page.fill("#formula", "sin(x)")
    page.wait_for_selector("#syntax[hidden]", state="attached", timeout=10000)


def _derive_on_page(page, **fields):
    page.select_option("#operation", fields.pop("operation"))
    for name, value in fields.items():
        page.fill(f"#{name}", value)
    page.evaluate("document.getElementById('output').innerHTML = ''")
    page.click("#go")
    page.wait_for_selector("#verified", timeout=60000)


def test_a_lagrange_problem_shows_contours_and_the_optima(page):
    _derive_on_page(page, operation="lagrange", formula="x*y", variables="x y",
                    constraints="x^2 + y^2 == 1")
    assert page.inner_text("#verified") == "verified"
    fig = page.locator("#picture svg")
    box = fig.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 100  # drawn, not raw text
    assert page.locator("#picture svg circle.optimum").count() == 4
    assert page.locator("#picture svg path").count() > 5
    assert "<svg" not in page.inner_text("#output")
    if os.environ.get("SYMML_SCREENSHOT"):  # refresh docs/img/web-lagrange.png on request only
        shot = Path(__file__).resolve().parent.parent / "docs" / "img" / "web-lagrange.png"
        page.screenshot(path=str(shot), full_page=True)


def test_kl_and_gram_schmidt_on_the_page(page):
    _derive_on_page(page, operation="kl", formula="Normal(m1, s1)", q="Normal(m2, s2)")
    assert page.is_visible("#q") and not page.is_visible("#point")
    assert page.inner_text("#verified") == "verified"
    assert page.locator("#output .result math").count() == 1
    for raw in ("<math", "\\frac", "<mi>"):
        assert raw not in page.inner_text("#output")
    _derive_on_page(page, operation="gram_schmidt", formula="[1, 1]; [1, 0]")
    assert page.inner_text("#verified") == "verified"
    assert page.locator("#picture").count() == 0  # no picture for a list of vectors


def test_minimize_draws_the_path_and_shows_the_run(page, server):
    page.fill("#formula", "")
    page.type("#formula", "(1 - x)^2 + 100*(y - x^2)^2")
    page.select_option("#operation", "minimize")
    assert page.is_visible("#start") and page.is_visible("#method")
    page.fill("#variables", "x y")
    page.fill("#start", "x=-1.2 y=1")
    page.select_option("#method", "bfgs")
    page.evaluate("document.getElementById('output').innerHTML = ''")
    page.click("#go")
    page.wait_for_selector("#verified", timeout=60000)
    assert page.inner_text("#verified") == "verified"
    fig = page.locator("#picture svg")
    box = fig.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 100  # laid out as a picture
    assert page.locator("#picture svg path.path").count() == 1  # the optimizer's path
    assert page.locator("#picture svg circle.start").count() == 1
    assert page.locator("#picture svg circle.end").count() == 1
    if importlib.util.find_spec("contourpy"):  # contour lines (shaded cells without it)
        assert page.locator("#picture svg g.level").count() == 30
    run = page.inner_text("#run")
    assert "converged" in run and "bfgs" in run and "iterations" in run
    assert page.locator("#run math").count() == 1  # the value, as math
    result = page.locator("#output .result math").first
    assert result.bounding_box()["width"] > 20
    visible = page.inner_text("#output")
    for raw in ("<math", "<svg", "\\frac", "<mi>"):
        assert raw not in visible
    assert "stationarity conditions" in visible
    # the point shown is SciPy's answer for the Rosenbrock function
    from scipy.optimize import minimize, rosen, rosen_der

    ref = minimize(rosen, [-1.2, 1.0], jac=rosen_der, method="BFGS", tol=1e-12).x
    mt = page.locator("button", has_text="Copy text").get_attribute("data-copy")
    res = mt.split("Result: ")[1].splitlines()[0]
    got = [float(part.split(" = ")[1]) for part in res.split(", ")]
    assert abs(got[0] - ref[0]) < 1e-6 and abs(got[1] - ref[1]) < 1e-6
    if os.environ.get("SYMML_SCREENSHOT"):  # refresh docs/img/web-minimize.png on request only
        shot = Path(__file__).resolve().parent.parent / "docs" / "img" / "web-minimize.png"
        page.screenshot(path=str(shot), full_page=True)
    local = [u for u in REQUESTS if not u.startswith((server, "blob:", "data:"))]
    assert REQUESTS and not local, local  # nothing loads from another host


def test_copy_buttons_and_the_download_carry_the_renderings(page):
    _derive_on_page(page, operation="diff", formula="x^3*exp(x)", variables="x")
    md = page.locator("button", has_text="Copy Markdown").get_attribute("data-copy")
    txt = page.locator("button", has_text="Copy text").get_attribute("data-copy")
    assert "$$" in md and "Result" in md
    assert "Result:" in txt and "x^3*exp(x)" in txt and "\\" not in txt
    link = page.locator("a", has_text="Download LaTeX document")
    assert link.get_attribute("download") == "derivation.tex"
    doc = link.evaluate("a => fetch(a.href).then((r) => r.text())")
    assert doc.startswith("\\documentclass") and "\\end{document}" in doc


@pytest.mark.parametrize("fields", [
    {"operation": "grad", "formula": "x^2*y + sin(y)", "variables": "x y"},
    {"operation": "jacobian", "formula": "x*y; x + y^2", "variables": "x y"},
    {"operation": "hessian", "formula": "x^3*y", "variables": "x y"},
    {"operation": "taylor", "formula": "exp(x)*cos(x)", "point": "x=0", "order": "3"},
    {"operation": "integrate", "formula": "x*exp(x)", "variables": "x", "lower": "", "upper": ""},
    {"operation": "mle", "formula": "Poisson", "variables": "x"},
    {"operation": "convex", "formula": "x^2 + x*y + y^2", "variables": "x y", "constraints": ""},
    {"operation": "dual", "formula": "x^2 + y^2", "variables": "x y", "constraints": "x + y == 1"},
    {"operation": "det", "formula": "[[a, b], [c, d]]"},
    {"operation": "inv", "formula": "[[2, 1], [1, 3]]"},
    {"operation": "eig", "formula": "[[2, 1], [1, 2]]"},
    {"operation": "stationary", "formula": "[[1/2, 1/2], [1/4, 3/4]]"},
])  # fmt: skip
def test_every_operation_renders_its_equations_as_math(page, fields):
    op = fields["operation"]
    if page.locator(f"#operation option[value='{op}']").count() == 0:
        pytest.skip(f"{op} is not offered by this build")
    _derive_on_page(page, **dict(fields))
    assert page.inner_text("#verified") == "verified"
    eqs = page.locator("#output .eq")
    for k in range(eqs.count()):  # every displayed equation is laid out MathML
        eq = eqs.nth(k)
        if not eq.is_visible():
            continue  # folded away
        math = eq.locator("math")
        assert math.count() >= 1
        box = math.first.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0
    assert page.locator("#output .result math").count() == 1
    visible = page.inner_text("#output")
    for raw in ("<math", "<mi>", "\\frac", "\\left", "\\begin"):
        assert raw not in visible
