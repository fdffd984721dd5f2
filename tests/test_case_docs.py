"""docs/case-studies.md shows each estimator's derivation as rendered by symml: every block
between ``<!-- derivation: NAME -->`` and ``<!-- end derivation -->`` must be exactly what
the current code renders (Markdown, brief detail), so the page cannot drift from the code.

Regenerate the blocks after changing a derivation with::

    python tests/test_case_docs.py --write
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # run as a script: import this checkout's symml
    sys.path.insert(0, str(ROOT))
DOC = ROOT / "docs" / "case-studies.md"
BLOCK = re.compile(r"(<!-- derivation: (\w+) -->\n)(.*?)(<!-- end derivation -->)", re.S)


def _derivations():
    import symml.ml as ml

    return {
        "pca": lambda: ml.PCA().derivation(),
        "svm": lambda: ml.SVM().derivation(),
        "mlp": lambda: ml.MLP().derivation(),
        "gaussian_nb": lambda: ml.GaussianNB().derivation(),
        "gmm": lambda: ml.GaussianMixture(2).derivation(),
    }


def _rendered(name: str) -> str:
    return _derivations()[name]().to_markdown(detail="brief").strip() + "\n"


def test_every_case_study_has_its_rendered_derivation_and_figure():
    text = DOC.read_text(encoding="utf-8")
    names = [m.group(2) for m in BLOCK.finditer(text)]
    assert sorted(names) == sorted(_derivations())
    for fig in ("pca.png", "svm.png", "mlp.png", "roc.png"):
        assert f"](img/{fig})" in text and (ROOT / "docs" / "img" / fig).exists()


@pytest.mark.parametrize("name", ["gaussian_nb", "gmm", "mlp", "pca", "svm"])
def test_rendered_derivation_in_the_docs_is_current(name):
    text = DOC.read_text(encoding="utf-8")
    block = next(m.group(3) for m in BLOCK.finditer(text) if m.group(2) == name)
    assert block == _rendered(name), f"docs/case-studies.md is stale; run: python {Path(__file__).name} --write"


def _write() -> None:
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(BLOCK.sub(lambda m: m.group(1) + _rendered(m.group(2)) + m.group(4), text), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        _write()
    else:
        print(__doc__)
