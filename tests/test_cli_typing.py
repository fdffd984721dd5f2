"""Type checkers see the package after the README's editable install.

setuptools' default ("lenient") editable install of symml is an import hook (the grammar
directory is mapped into the package), which mypy cannot follow; the README installs with
``--config-settings editable_mode=compat``, a plain path entry. This test makes that
install in a fresh virtual environment and runs mypy on a file importing symml."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _setuptools_version() -> tuple:
    try:
        from importlib.metadata import version

        return tuple(int(p) for p in version("setuptools").split(".")[:2])
    except Exception:  # noqa: BLE001 - not installed, or an unusual version string
        return (0, 0)


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
@pytest.mark.skipif(
    _setuptools_version() < (77, 0),
    reason="the build backend needs setuptools>=77 in this environment (.ci/run installs it)",
)
def test_mypy_sees_symml_after_the_readme_editable_install(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "editable_mode=compat" in readme  # the install this test checks is the README's
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    site = Path(sysconfig.get_path("purelib", vars={"base": str(env_dir)}))
    # the new environment borrows this one's packages (mypy, sympy...) without its .pth hooks
    (site / "zz_borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # the setuptools that venv bundles is older than the build needs: use this environment's
    for bundled in [*site.glob("setuptools*"), *site.glob("_distutils_hack"),
                    *site.glob("distutils-precedence.pth")]:  # fmt: skip
        shutil.rmtree(bundled) if bundled.is_dir() else bundled.unlink()
    # no build isolation: the build backend is this environment's (tests download nothing)
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--no-build-isolation", "-e", str(ROOT), "--config-settings", "editable_mode=compat"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-2000:]
    probe = tmp_path / "probe.py"
    probe.write_text("import symml\nreveal_type(symml.Program)\n")
    out = subprocess.run(
        [str(py), "-m", "mypy", "--no-incremental", "--follow-imports=silent", str(probe)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    text = out.stdout + out.stderr
    assert "import-not-found" not in text and "Cannot find implementation" not in text, text
    assert "symml.lang.program.Program" in text, text
