"""Rendering of derivations: snapshot tests of text and Markdown (reviewed by eye before they
were fixed), and structural checks of LaTeX (amsmath only; compiles with pdflatex when it is
installed).

Regenerate the snapshots after a deliberate change with
``SYMML_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_steps_render.py`` and read the diff.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import symml as sm
from tests._render_kinds import KINDS, kind

SNAPSHOTS = Path(__file__).parent / "snapshots"
LOGISTIC = "-(y*log(sigmoid(w1*x1 + w2*x2 + b)) + (1 - y)*log(1 - sigmoid(w1*x1 + w2*x2 + b)))"

CASES = {
    "diff_x2_sin": lambda: sm.steps.diff("x^2*sin(x)", "x"),
    "diff_chain_sin_x2": lambda: sm.steps.diff("sin(x^2)", "x"),
    "diff_x_to_x": lambda: sm.steps.diff("x^x", "x"),
    "diff_quotient": lambda: sm.steps.diff("(x^2 + 1)/(x - 3)", "x"),
    "grad_logistic_w1": lambda: sm.steps.grad(LOGISTIC, "w1"),
    "hessian_poly": lambda: sm.steps.hessian("x^2*y + y^3", "x y"),
    "taylor_exp_cos": lambda: sm.steps.taylor("exp(x)*cos(y)", {"x": 0, "y": 0}, 2),
}

SNAPSHOT_FORMATS = [
    ("diff_x2_sin", "txt"), ("diff_x2_sin", "md"), ("diff_chain_sin_x2", "txt"),
    ("diff_x_to_x", "txt"), ("diff_quotient", "txt"), ("grad_logistic_w1", "txt"),
    ("grad_logistic_w1", "md"), ("hessian_poly", "txt"), ("taylor_exp_cos", "txt"),
    ("taylor_exp_cos", "md"),
]  # fmt: skip
# the textbook rendering of every derivation kind of docs/steps.md (tests/_render_kinds.py)
SNAPSHOT_FORMATS += [(f"kind_{k}", "txt") for k in sorted(KINDS)]
SNAPSHOT_FORMATS += [("kind_grad_logistic", "md"), ("kind_kkt", "md"), ("kind_diff", "tex")]
CASES.update({f"kind_{k}": (lambda k=k: kind(k)) for k in KINDS})


def _render(name: str, fmt: str) -> str:
    d = CASES[name]()
    if fmt == "tex":
        return d.to_latex(standalone=True)
    return d.to_text() if fmt == "txt" else d.to_markdown()


@pytest.mark.parametrize(
    "name, fmt", SNAPSHOT_FORMATS, ids=[f"{n}.{f}" for n, f in SNAPSHOT_FORMATS]
)
def test_snapshot(name, fmt):
    got = _render(name, fmt)
    path = SNAPSHOTS / f"steps_{name}.{fmt}"
    if os.environ.get("SYMML_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"missing snapshot {path}; run with SYMML_UPDATE_SNAPSHOTS=1"
    assert got == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_fits_an_80_column_terminal(name):
    text = CASES[name]().to_text()
    too_long = [ln for ln in text.splitlines() if len(ln) > 80]
    assert not too_long, too_long


@pytest.mark.parametrize("name", sorted(CASES))
def test_markdown_math_is_balanced(name):
    md = CASES[name]().to_markdown()
    assert md.count("$$") % 2 == 0
    assert md.count(r"\begin{aligned}") == md.count(r"\end{aligned}")
    # explanations are escaped: no stray emphasis from the '*' of products
    for line in md.splitlines():
        if line.startswith("**") and "$$" not in line:
            body = line.split("**", 2)[2]
            assert re.search(r"(?<!\\)\*", body) is None, line


@pytest.mark.parametrize("name", sorted(CASES))
def test_latex_structure(name):
    d = CASES[name]()
    frag = d.to_latex()
    assert r"\documentclass" not in frag
    doc = d.to_latex(standalone=True)
    assert doc.startswith("\\documentclass{article}\n\\usepackage{amsmath}\n")
    assert doc.rstrip().endswith(r"\end{document}")
    # amsmath for the math, geometry for the 6.5-inch text width (both in texlive-latex-base)
    assert re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", doc) == ["amsmath", "geometry"]
    assert doc.count(r"\begin{align*}") == doc.count(r"\end{align*}")
    assert doc.count("{") == doc.count("}") + doc.count(r"\}") - doc.count(r"\{")
    assert all(ord(ch) < 128 for ch in doc), "pdflatex without extra packages needs ASCII"


def test_jupyter_reprs():
    d = sm.steps.diff("x^2*sin(x)", "x")
    assert d._repr_markdown_() == d.to_markdown()
    latex = d._repr_latex_()
    assert latex.startswith("$$") and latex.endswith("$$")
    assert r"\textbf" not in latex.replace(r"\textbf{Derivative", "")  # math mode only


def test_renderers_do_not_recompute():
    # a renderer shows whatever the tree says, even a wrong step (verify() is what catches it)
    d = sm.steps.diff("x^3", "x")
    d.steps[0].after = sm.expr("x^5")
    assert "x^5" in d.to_text()


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name", ["diff_x2_sin", "grad_logistic_w1", "taylor_exp_cos"])
def test_standalone_latex_compiles(name, tmp_path):
    (tmp_path / "d.tex").write_text(CASES[name]().to_latex(standalone=True), encoding="ascii")
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (tmp_path / "d.pdf").exists()


def test_cli_steps_formats(capsys):
    from symml.cli import main

    assert main(["steps", "diff", "x^2*sin(x)", "x"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Derivative of x^2*sin(x) with respect to x")
    assert main(["steps", "grad", LOGISTIC, "w1", "w2", "b", "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### Gradient of") and "$$" in out
    assert main(["steps", "taylor", "exp(x)*cos(y)", "--at", "x=0", "y=0", "--order", "2",
                 "--format", "latex", "--standalone", "--verify"]) == 0  # fmt: skip
    assert capsys.readouterr().out.startswith("\\documentclass")
    assert main(["steps", "hessian", "x^2*y", "x", "y"]) == 0
    assert "Hessian" in capsys.readouterr().out
    assert main(["steps", "jacobian", "[x*y, x + y]", "x", "y"]) == 0
    assert "Jacobian" in capsys.readouterr().out
    assert main(["steps", "integrate", "x*exp(x)", "x", "--from", "0", "--to", "1"]) == 0
    assert "x*exp(x)" in capsys.readouterr().out
    assert main(["steps", "lagrange", "x*y", "--subject-to", "x^2 + y^2 == 1", "--vars", "x", "y",
                 "--format", "md"]) == 0  # fmt: skip
    assert "$$" in capsys.readouterr().out
    assert main(["steps", "diff", "x^2", "x", "--standalone"]) == 1
    assert "--standalone" in capsys.readouterr().err
