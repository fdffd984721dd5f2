"""The CLI on a terminal that cannot show Unicode writes readable ASCII ("integral", "<="),
not ``\\u222b`` escapes and not a UnicodeEncodeError (issue 7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import symml._ascii  # noqa: F401 - registers the handler

ROOT = Path(__file__).resolve().parents[1]


def _symml(args, env):
    full = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "PYTHONUTF8")}
    full.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-m", "symml", *args], capture_output=True,
                          cwd=ROOT, env=full, timeout=120)


ASCII_ENVS = {
    "PYTHONIOENCODING=ascii": {"PYTHONIOENCODING": "ascii"},
    "LANG=C without UTF-8 coercion": {"LANG": "C", "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0",
                                      "PYTHONUTF8": "0"},
}


@pytest.mark.parametrize("env", list(ASCII_ENVS), ids=list(ASCII_ENVS))
@pytest.mark.parametrize("args, words", [
    (["steps", "integrate", "x*exp(x)", "x"], ["Find: integral (x*exp(x)) dx", "Result:"]),
    (["steps", "integrate", "x^2", "x", "--from", "0", "--to", "1"], ["integral[0, 1]"]),
])  # fmt: skip
def test_steps_on_an_ascii_terminal_are_readable(env, args, words):
    p = _symml(args, ASCII_ENVS[env])
    out = p.stdout.decode("ascii")  # raises if anything but ASCII was written
    assert p.returncode == 0, p.stderr.decode("ascii", "replace")
    assert b"Traceback" not in p.stderr
    assert "\\u" not in out  # no escapes
    for w in words:
        assert w in out, out


def test_the_same_output_in_utf8_keeps_the_integral_sign():
    p = _symml(["steps", "integrate", "x*exp(x)", "x"], {"PYTHONIOENCODING": "utf-8"})
    assert "\u222b (x*exp(x)) dx" in p.stdout.decode("utf-8")


def test_the_handler_spells_every_sign_and_escapes_the_unknown():
    for sign, word in symml._ascii.ASCII.items():
        assert sign.encode("ascii", "symml-ascii") == word.encode("ascii")
    assert "\u4e00".encode("ascii", "symml-ascii") == b"\\u4e00"
    with pytest.raises(UnicodeDecodeError):
        b"\xff".decode("ascii", "symml-ascii")
