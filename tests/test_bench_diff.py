"""The differentiation benchmark runs at a small size, so it cannot rot (no timing asserted)."""

from __future__ import annotations

import importlib.util
import pathlib


def test_bench_diff_small(capsys):
    path = pathlib.Path(__file__).parent.parent / "benchmarks" / "bench_diff.py"
    spec = importlib.util.spec_from_file_location("bench_diff", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = mod.main(["--small"])
    assert {"symml grad", "symml hessian", "sympy grad", "sympy hessian"} <= set(rows)
    assert "MLP 2-3-1" in capsys.readouterr().out
