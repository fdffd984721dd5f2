"""Derivations on the page: every derivation kind at every detail level renders in KaTeX,
MathJax 2.7 and MathJax 3 without error, the standalone LaTeX builds with pdflatex with no
overfull box wider than 5 pt and within the issue's page budgets, and detail levels change
only what is shown.

The KaTeX and MathJax checks need Node and the npm packages ``katex``, ``mathjax-node``
(MathJax 2.7, the version of the classic notebook) and ``mathjax-full`` (MathJax 3, as in
JupyterLab), installed with ``npm install`` in ``.katex/`` at the repository root (KaTeX may
also be in a directory named by ``SYMML_KATEX``); the LaTeX check needs ``pdflatex``. All are
installed by ``.ci/run``; elsewhere the checks are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from symml.steps.model import DETAIL_LEVELS
from tests._render_kinds import KINDS, PAGE_LIMITS, kind

ROOT = Path(__file__).resolve().parent.parent
LEVELS = list(DETAIL_LEVELS)

_KATEX_JS = r"""
const katex = require(process.argv[2]);
let data = "";
process.stdin.on("data", c => data += c);
process.stdin.on("end", () => {
  const out = JSON.parse(data).map(([tex, display]) => {
    const options = {displayMode: display, throwOnError: true, strict: "ignore"};
    try { katex.renderToString(tex, options); return null; }
    catch (e) { return String(e.message); }
  });
  process.stdout.write(JSON.stringify(out));
});
"""


#: MathJax 2.7 through mathjax-node, with the TeX extensions of the notebook's default
#: configuration (TeX-AMS_HTML) except noErrors/noUndefined, which would hide the errors.
_MATHJAX2_JS = r"""
const mjAPI = require(process.argv[2] + "/mathjax-node");
mjAPI.config({MathJax: {TeX: {extensions: ["AMSmath.js", "AMSsymbols.js"]}},
              displayErrors: false, undefinedCharError: false});
mjAPI.start();
let data = "";
process.stdin.on("data", c => data += c);
process.stdin.on("end", async () => {
  const out = [];
  for (const [tex, display] of JSON.parse(data)) {
    try {
      await mjAPI.typeset({math: tex, format: display ? "TeX" : "inline-TeX", mml: true});
      out.push(null);
    } catch (e) { out.push(Array.isArray(e) ? e.join("; ") : String(e)); }
  }
  process.stdout.write(JSON.stringify(out));
});
"""

#: MathJax 3's TeX input with only the base and AMS packages; an error throws.
_MATHJAX3_JS = r"""
const base = process.argv[2] + "/mathjax-full/js/";
const {mathjax} = require(base + "mathjax.js");
const {TeX} = require(base + "input/tex.js");
const {SVG} = require(base + "output/svg.js");
const {liteAdaptor} = require(base + "adaptors/liteAdaptor.js");
const {RegisterHTMLHandler} = require(base + "handlers/html.js");
require(base + "input/tex/base/BaseConfiguration.js");
require(base + "input/tex/ams/AmsConfiguration.js");
RegisterHTMLHandler(liteAdaptor());
const tex = new TeX({packages: ["base", "ams"], formatError: (jax, err) => { throw err; }});
const doc = mathjax.document("", {InputJax: tex, OutputJax: new SVG({fontCache: "none"})});
let data = "";
process.stdin.on("data", c => data += c);
process.stdin.on("end", () => {
  const out = JSON.parse(data).map(([t, display]) => {
    try { doc.convert(t, {display: display}); return null; }
    catch (e) { return String(e.message || e); }
  });
  process.stdout.write(JSON.stringify(out));
});
"""

_NODE_MODULES = ROOT / ".katex" / "node_modules"
_MATHJAX = {
    "2.7": (_MATHJAX2_JS, _NODE_MODULES / "mathjax-node" / "lib" / "main.js"),
    "3": (_MATHJAX3_JS, _NODE_MODULES / "mathjax-full" / "js" / "mathjax.js"),
}


def _katex_dir() -> Path | None:
    for cand in (os.environ.get("SYMML_KATEX"), ROOT / ".katex" / "node_modules" / "katex"):
        if cand and (Path(cand) / "dist" / "katex.js").exists():
            return Path(cand)
    return None


def _math_of_markdown(md: str) -> list[tuple[str, bool]]:
    """The ``$$display$$`` and ``$inline$`` math of a Markdown text (escaped ``\\$`` is prose)."""
    out = []
    for i, block in enumerate(re.split(r"\$\$", md)):
        if i % 2:
            out.append((block, True))
            continue
        parts = re.split(r"(?<!\\)\$", block)
        out += [(p, False) for j, p in enumerate(parts) if j % 2]
    return out


def _math_of_html(html: str) -> list[tuple[str, bool]]:
    """The ``\\(inline\\)`` and ``\\[display\\]`` math of an HTML fragment."""
    inline = [(m, False) for m in re.findall(r"\\\((.*?)\\\)", html, flags=re.S)]
    return inline + [(m, True) for m in re.findall(r"\\\[(.*?)\\\]", html, flags=re.S)]


def _run_node(source: str, name: str, where: Path, items: list) -> list[str | None]:
    script = ROOT / ".katex" / name
    script.parent.mkdir(exist_ok=True)
    script.write_text(source, encoding="utf-8")
    proc = subprocess.run(
        ["node", str(script), str(where)], input=json.dumps(items), capture_output=True,
        text=True, timeout=300, check=True,
    )  # fmt: skip
    return json.loads(proc.stdout)


def _katex(items: list[tuple[str, bool]]) -> list[str | None]:
    return _run_node(_KATEX_JS, "check.js", _katex_dir(), items)


def _mathjax(version: str, items: list[tuple[str, bool]]) -> list[str | None]:
    return _run_node(_MATHJAX[version][0], f"mathjax{version}.js", _NODE_MODULES, items)


def _all_math(d) -> list[tuple[str, bool]]:
    """Every piece of math of a derivation's Markdown, notebook LaTeX and HTML at every level."""
    items: list[tuple[str, bool]] = []
    for level in LEVELS:
        items += _math_of_markdown(d.to_markdown(detail=level))
        items += _math_of_markdown(d.at(level)._repr_latex_())
        items += _math_of_markdown(d.at(level)._repr_markdown_())
        items += _math_of_html(d.to_html(detail=level))
    return items


needs_katex = pytest.mark.skipif(
    shutil.which("node") is None or _katex_dir() is None,
    reason="KaTeX check needs node and the katex npm package (npm install katex in .katex/)",
)
needs_pdflatex = pytest.mark.skipif(
    shutil.which("pdflatex") is None, reason="pdflatex is not installed (texlive-latex-base)"
)


@needs_katex
@pytest.mark.parametrize("name", sorted(KINDS))
def test_katex_renders_every_level(name):
    items = _all_math(kind(name))
    errors = [(tex[:200], err) for (tex, _), err in zip(items, _katex(items), strict=True) if err]
    assert not errors, errors[:5]
    assert len(items) > 3 * len(LEVELS)


def test_katex_check_catches_errors():
    if shutil.which("node") is None or _katex_dir() is None:
        pytest.skip("KaTeX check needs node and the katex npm package")
    assert _katex([(r"\text{x^2}", False), ("x^2", False)])[1] is None
    assert _katex([("x^", False)])[0] is not None


def _needs_mathjax(version: str):
    return pytest.mark.skipif(
        shutil.which("node") is None or not _MATHJAX[version][1].exists(),
        reason=f"MathJax {version} check needs node and the npm package "
        + ("mathjax-node@2" if version == "2.7" else "mathjax-full@3")
        + " in .katex/",
    )


@pytest.mark.parametrize(
    "version", [pytest.param(v, marks=_needs_mathjax(v)) for v in sorted(_MATHJAX)]
)
@pytest.mark.parametrize("name", sorted(KINDS))
def test_mathjax_renders_every_level(version, name):
    items = _all_math(kind(name))
    got = _mathjax(version, items)
    errors = [(tex[:200], err) for (tex, _), err in zip(items, got, strict=True) if err]
    assert not errors, errors[:5]
    assert len(items) > 3 * len(LEVELS)


@pytest.mark.parametrize(
    "version", [pytest.param(v, marks=_needs_mathjax(v)) for v in sorted(_MATHJAX)]
)
def test_mathjax_check_catches_what_it_choked_on(version):
    # a Lagrange derivation showed as raw TeX in the classic notebook: SymPy writes Subs with
    # \substack, a macro, and MathJax expands macros into a 5 KB buffer holding the rest of
    # the display; the notebook LaTeX was one display of more than 5 KB
    long = r"\left. x \right|_{\substack{x=0}} " + r"+ x" * 3000
    got = _mathjax(version, [(long, True), ("x^", False), (r"\frac{a}{b}", True)])
    assert "buffer size exceeded" in got[0]
    assert got[1] is not None and got[2] is None
    for name in ("lagrange", "kkt", "taylor"):
        notebook = kind(name)._repr_latex_()
        assert r"\substack" not in notebook
        assert not re.search(r"(?<!\\)\\ ", notebook)  # no control space (a macro in 2.7)
        assert len(_math_of_markdown(notebook)) > 2  # a display per step, not one long one


def _pdflatex(tex: str, where: Path) -> tuple[int, list[float], str]:
    (where / "d.tex").write_text(tex, encoding="ascii")
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
        cwd=where, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    log = (where / "d.log").read_text(encoding="latin-1")
    assert proc.returncode == 0, log[-3000:]
    pages = int(re.search(r"Output written on d\.pdf \((\d+) pages?", log).group(1))
    overfull = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    return pages, overfull, log


@needs_pdflatex
@pytest.mark.parametrize("name", sorted(KINDS))
def test_standalone_latex_fits_the_page(name, tmp_path):
    pages, overfull, _log = _pdflatex(kind(name).to_latex(standalone=True), tmp_path)
    assert max(overfull, default=0.0) <= 5.0, f"overfull boxes (pt): {overfull}"
    assert pages <= PAGE_LIMITS.get(name, 3), f"{pages} pages"


@needs_pdflatex
@pytest.mark.parametrize("name", ["kkt", "grad_logistic", "diff"])
@pytest.mark.parametrize("level", ["brief", "full"])
def test_standalone_latex_compiles_at_other_levels(name, level, tmp_path):
    pages, _overfull, _log = _pdflatex(kind(name).to_latex(standalone=True, detail=level), tmp_path)
    assert pages >= 1


@pytest.mark.parametrize("name", sorted(KINDS))
def test_levels_change_what_is_shown_not_the_math(name):
    d = kind(name)
    texts = {level: d.to_text(detail=level) for level in LEVELS}
    assert len(texts["brief"]) <= len(texts["textbook"]) <= len(texts["full"])
    for level in LEVELS:
        other = d.at(level)
        assert other.result is d.result and other.steps is d.steps
        assert other.verify() is True
        assert other.to_text() == texts[level]
    # numbering at most three levels deep below full detail, and no bare "So, by" line
    for level in ("brief", "textbook"):
        for out in (texts[level], d.to_markdown(detail=level), d.to_latex(detail=level)):
            assert not re.search(r"\b\d+\.\d+\.\d+\.\d+\.", out), level
            assert "So, by" not in out


def test_unknown_detail_level_is_an_argument_error():
    from symml.errors import ArgumentError

    with pytest.raises(ArgumentError, match="detail must be one of brief, textbook, full"):
        kind("diff").to_text(detail="verbose")


def test_html_repr_folds_substeps():
    d = kind("grad_logistic")
    html = d._repr_html_()
    assert html.count("<details>") == html.count("</details>") >= 1
    assert "<summary>" in html and r"\(" in html
    full = d.to_html(detail="full")
    assert full.count("<details>") >= html.count("<details>")
