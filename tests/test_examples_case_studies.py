"""The case-study examples run (small sizes) and write their derivations, so they cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "name, expect, figure",
    [("pca", "reconstruction error", "pca.png"), ("svm", "duality gap", "svm.png"),
     ("mlp", "two moons", "mlp.png"), ("pipeline", "p-value", "roc.png")],  # fmt: skip
)
def test_case_study_runs(name, expect, figure, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{name}.py"), "--small", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )  # fmt: skip  (PYTHONPATH: the scripts import this checkout's symml, not another install)
    assert proc.returncode == 0, proc.stderr
    assert expect in proc.stdout
    md = list(tmp_path.glob("*.md"))
    assert md and all("$" in p.read_text() for p in md)
    import symml.ml as ml

    derivation = {"pca": ml.PCA, "svm": ml.SVM, "mlp": ml.MLP, "pipeline": ml.GaussianNB}[name]().derivation()
    assert md[0].read_text().startswith(derivation.to_markdown())  # this checkout's derivation
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # the figures are an optional extra: the script says so and goes on
        assert "no figure drawn" in proc.stdout
    else:
        png = tmp_path / figure
        assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_the_language_mlp_runs_with_symml_run_and_every_check_prints_zero(capsys):
    from symml.cli import main

    code = main(["run", str(ROOT / "examples" / "mlp.sml")])
    out = capsys.readouterr().out
    assert code == 0
    results = [line.strip() for line in out.splitlines() if line.strip() and not line.startswith(">>>")]
    assert results == ["0", "[0, 0, 0, 0]", "[0, 0, 0, 0]", "0", "0"]
