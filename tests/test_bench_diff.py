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
    assert {"symml grad", "symml hessian", "sympy grad", "sympy hessian", "big symml hvp",
            "symml jacobian derived+compiled"} <= set(rows)
    assert "MLP 2-3-1" in capsys.readouterr().out


def test_bench_newton_cg_small(capsys):
    path = pathlib.Path(__file__).parent.parent / "benchmarks" / "bench_newton_cg.py"
    spec = importlib.util.spec_from_file_location("bench_newton_cg", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = mod.main(["--small"])
    assert rows["newton-cg loss"] < 0.7  # below log(2), the loss of a constant 1/2 prediction
    assert "Newton-CG loss is" in capsys.readouterr().out
