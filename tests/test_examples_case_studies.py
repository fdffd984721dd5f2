"""The case-study examples run (small sizes) and write their derivations, so they cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "name, expect",
    [("pca", "reconstruction error"), ("svm", "duality gap"), ("mlp", "two moons"),
     ("pipeline", "ROC AUC")],  # fmt: skip
)
def test_case_study_runs(name, expect, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{name}.py"), "--small", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert expect in proc.stdout
    md = list(tmp_path.glob("*.md"))
    assert md and all("$" in p.read_text() for p in md)
