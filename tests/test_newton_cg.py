"""minimize(method="newton-cg") with the exact compiled Hessian-vector product on a small MLP:
it reaches a stationary point (checked by central differences of an independent NumPy loss)
and a lower loss than Adam given as many gradient evaluations; the Newton-CG benchmark runs
at a small size so it cannot rot. No timing assertions."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest
from test_diff_engine import _mlp

import symml as sm

sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "benchmarks"))
SIZES = [2, 3, 1]
L2 = 1e-2  # makes the minimum finite (two moons with 40 rows is almost separable)
REG = {"l2": L2}


def _data(n=40, seed=0):
    import bench_newton_cg

    X, y = bench_newton_cg.two_moons(n, seed=seed)
    return {"x0": X[:, 0], "x1": X[:, 1], "y": y}


def _numpy_loss(params: dict, data) -> float:
    """The mean cross-entropy of the 2-3-1 tanh/sigmoid MLP plus ``L2 * sum(p^2)``, written
    directly in NumPy."""
    h = np.c_[data["x0"], data["x1"]]
    for layer in (1, 2):
        n_in, n_out = SIZES[layer - 1], SIZES[layer]
        W = np.array([[params[f"W{layer}_{i}_{j}"] for j in range(n_in)] for i in range(n_out)])
        b = np.array([params[f"b{layer}_{i}"] for i in range(n_out)])
        z = h @ W.T + b
        h = np.tanh(z) if layer == 1 else z
    z, y = h[:, 0], data["y"]
    # -log(sigmoid(z)) = logaddexp(0, -z), -log(1 - sigmoid(z)) = logaddexp(0, z)
    mean = np.mean(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z))
    return float(mean + L2 * sum(v**2 for v in params.values()))


def _start(P, seed=1):
    rng = np.random.default_rng(seed)
    return {p.name: float(v) for p, v in zip(P, rng.normal(scale=0.5, size=len(P)), strict=True)}


@pytest.fixture(scope="module")
def problem():
    L, P, _, _ = _mlp(SIZES)
    return L, P, _data()


def test_newton_cg_reaches_a_stationary_point_by_finite_differences(problem):
    L, P, data = problem
    r = sm.minimize(L, _start(P), method="newton-cg", data=data, regularization=REG)
    assert r.nhev > 0  # the exact Hessian-vector product was used
    x = dict(r.x)
    assert abs(_numpy_loss(x, data) - r.fun) <= 1e-10 * max(1.0, abs(r.fun))
    eps, fd = 1e-6, []
    for p in P:
        up, dn = dict(x), dict(x)
        up[p.name] += eps
        dn[p.name] -= eps
        fd.append((_numpy_loss(up, data) - _numpy_loss(dn, data)) / (2 * eps))
    assert np.max(np.abs(fd)) < 1e-5, (r.message, np.max(np.abs(fd)))
    # and it is a decrease from the start
    assert r.fun < _numpy_loss(_start(P), data)


def test_newton_cg_beats_adam_at_equal_gradient_evaluations(problem):
    L, P, data = problem
    r = sm.minimize(L, _start(P), method="newton-cg", data=data, regularization=REG)
    # an hvp costs about two gradients (reverse over forward); value + gradient is one
    budget = int(r.nfev + 2 * r.nhev)
    for lr in (0.01, 0.03, 0.1):  # 0.1 comes closest (0.37286 against 0.37280)
        a = sm.minimize(
            L, _start(P), method="adam", data=data, lr=lr, max_iter=budget, regularization=REG
        )
        assert r.fun < a.fun, (r.fun, a.fun, lr, budget)


def test_benchmark_runs_at_a_small_size(capsys):
    import bench_newton_cg

    rows = bench_newton_cg.main(["--small", "--budget", "0.2"])
    out = capsys.readouterr().out
    assert "Newton-CG loss is" in out
    assert rows["parameters"] == 4 * 3 + 3 + 3 * 3 + 3 + 3 + 1
    assert rows["hvp vs gradient differences"] < 1e-5  # the compiled hvp is the Hessian's
    assert np.isfinite(rows["newton-cg loss"]) and rows["newton-cg loss"] < rows["start loss"]
