"""Doctests (in docstrings, docs/*.md and README.md) run from the repository root."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _run_from_repo_root(request, monkeypatch):
    if isinstance(request.node, pytest.DoctestItem) or request.node.__class__.__name__ == "DoctestItem":
        monkeypatch.chdir(ROOT)
    yield


@pytest.fixture(autouse=True, scope="session")
def _numpy_print_options():
    import numpy as np

    np.set_printoptions(legacy=False)
    yield


def pytest_configure(config):
    os.environ.setdefault("SYMML_NIST_DIR", str(ROOT.parent / "shared" / "data" / "nist_strd"))
