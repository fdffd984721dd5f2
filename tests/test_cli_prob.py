"""symml mle / kl and symml steps mle / kl; the mle_kl example runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from symml.cli import main
from symml.cli.prob import parse_distribution
from symml.errors import ArgumentError, ParseError
from symml.prob import Categorical, Normal

ROOT = Path(__file__).resolve().parent.parent


def test_mle_command(capsys):
    assert main(["mle", "Poisson", "y"]) == 0
    assert capsys.readouterr().out.strip() == "lambda = sum[i = 1..n] y[i]/n"


def test_kl_command(capsys):
    assert main(["kl", "Normal(m1, s1)", "Normal(m2, s2)"]) == 0
    assert capsys.readouterr().out.strip() == "log(s2/s1) - 1/2 + (s1^2 + (m1 - m2)^2)/(2*s2^2)"


def test_steps_forms(capsys):
    assert main(["steps", "kl", "Exponential(a)", "Exponential(b)", "--verify"]) == 0
    assert "sum of expectations" in capsys.readouterr().out
    assert main(["steps", "mle", "Bernoulli", "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("###") and "$" in out
    assert main(["mle", "Exponential", "--steps"]) == 0
    assert "second" in capsys.readouterr().out


def test_parse_distribution():
    assert parse_distribution("Normal(0, 1)") == Normal(0, 1)
    assert isinstance(parse_distribution("Categorical([0.2, 0.8])"), Categorical)


@pytest.mark.parametrize("bad", ["Foo(1)", "Normal", "Normal(0, -1)", "Normal(1)",
                                 "Normal(__import__('os'), 1)"])  # fmt: skip
def test_parse_bad(bad):
    with pytest.raises((ArgumentError, ParseError)):
        parse_distribution(bad)


def test_cli_error_exit(capsys):
    assert main(["kl", "Normal(0, -1)", "Normal(0, 1)"]) != 0
    assert "sigma must be > 0" in capsys.readouterr().err


def test_example_runs():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "mle_kl.py"), "--small"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "quadrature" in proc.stdout and "numeric optimizer" in proc.stdout
