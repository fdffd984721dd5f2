"""The built LALR parser is cached per user (never in the shared temporary directory), and
a missing, foreign or corrupt cache file never changes what is parsed or prints anything."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = "import symml as sm; print(sm.diff('x^3 + sin(x)', 'x'))"


def _run(env_extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SYMML_NO_CACHE"} | env_extra
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def test_cache_is_written_in_the_users_cache_directory(tmp_path):
    out = _run({"XDG_CACHE_HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    files = list((tmp_path / "symml").glob("grammar-*.lark-cache"))
    assert len(files) == 1
    assert not (os.stat(tmp_path / "symml").st_mode & 0o022)  # nobody else may write it
    again = _run({"XDG_CACHE_HOME": str(tmp_path)})
    assert again.stdout == out.stdout == "3*x**2 + cos(x)\n"


def test_corrupt_cache_is_rebuilt_silently(tmp_path):
    assert _run({"XDG_CACHE_HOME": str(tmp_path)}).returncode == 0
    (cache,) = (tmp_path / "symml").glob("grammar-*.lark-cache")
    cache.write_bytes(b"not a parser\n\x80\x04garbage")
    out = _run({"XDG_CACHE_HOME": str(tmp_path)})
    assert (out.returncode, out.stdout, out.stderr) == (0, "3*x**2 + cos(x)\n", "")


def test_group_writable_directory_is_not_trusted(tmp_path):
    folder = tmp_path / "symml"
    folder.mkdir()
    folder.chmod(0o777)
    out = _run({"XDG_CACHE_HOME": str(tmp_path)})
    assert out.returncode == 0 and out.stdout == "3*x**2 + cos(x)\n"
    assert not list(folder.glob("grammar-*"))


def test_cache_can_be_switched_off(tmp_path):
    out = _run({"XDG_CACHE_HOME": str(tmp_path), "SYMML_NO_CACHE": "1"})
    assert out.returncode == 0 and out.stdout == "3*x**2 + cos(x)\n"
    assert not (tmp_path / "symml").exists()
