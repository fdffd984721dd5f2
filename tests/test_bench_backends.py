"""The backends benchmark runs at a tiny size, so it cannot rot (no timing asserted)."""

from __future__ import annotations

import importlib.util
import pathlib


def test_bench_backends_small(capsys):
    path = pathlib.Path(__file__).parent.parent / "benchmarks" / "bench_backends.py"
    spec = importlib.util.spec_from_file_location("bench_backends", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = mod.main(["--small"])
    assert {"logistic", "hessian", "mlp"} <= set(rows)
    assert "hand-written NumPy" in rows["logistic"]["best"]
    assert "symml numpy" in rows["mlp"]["rows"]
    out = capsys.readouterr().out
    assert "logistic NLL value + gradient" in out and "MLP 2-3-1" in out
