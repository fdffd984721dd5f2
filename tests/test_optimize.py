"""symml.minimize: every answer is checked against an independent reference (closed forms,
Lambert W, Hock-Schittkowski literature optima, NumPy least squares / coordinate descent),
never against symml's own output."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special

import symml as sm
from symml.errors import ArgumentError, DataError, SymmlError
from symml.optimize import OptimizeResult, minimize
from symml.optimize._problem import Problem
from symml.optimize.result import format_value

# --------------------------------------------------------------------------------------------
# standard test functions (minimizers in closed form)
# --------------------------------------------------------------------------------------------

QUAD = "3*x^2 + 2*x*y + 2*y^2 - 4*x + 6*y"
QUAD_MIN = np.linalg.solve([[6.0, 2.0], [2.0, 4.0]], [4.0, -6.0])  # gradient = 0
ROSEN = "(1 - x)^2 + 100*(y - x^2)^2"
BEALE = "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2"
BOOTH = "(x + 2*y - 7)^2 + (2*x + y - 5)^2"

FUNCTIONS = {
    "quadratic": (QUAD, {"x": 0.0, "y": 0.0}, QUAD_MIN),
    "rosenbrock": (ROSEN, {"x": -1.2, "y": 1.0}, np.array([1.0, 1.0])),
    "beale": (BEALE, {"x": 1.0, "y": 1.0}, np.array([3.0, 0.5])),
    "booth": (BOOTH, {"x": 0.0, "y": 0.0}, np.array([1.0, 3.0])),
}

# method -> function -> (keyword arguments, tolerance on max |x - x*|)
DECAY = {"lr_decay": 0.01}
FIRST_ORDER_CASES = {
    "gd": {
        "quadratic": ({"lr": 0.1}, 1e-6),
        "rosenbrock": ({"lr": 1.5e-3, "max_iter": 10000}, 5e-3),
        "beale": ({"lr": 0.01, "max_iter": 5000}, 1e-5),
        "booth": ({"lr": 0.05}, 1e-6),
    },
    "momentum": {
        "quadratic": ({"lr": 0.02}, 1e-6),
        "rosenbrock": ({"lr": 1e-3, "max_iter": 4000}, 1e-5),
        "beale": ({"lr": 2e-3, "max_iter": 3000}, 1e-5),
        "booth": ({"lr": 0.01}, 1e-6),
    },
    "nesterov": {
        "quadratic": ({"lr": 0.02}, 1e-6),
        "rosenbrock": ({"lr": 1e-3, "max_iter": 4000}, 1e-5),
        "beale": ({"lr": 2e-3, "max_iter": 3000}, 1e-5),
        "booth": ({"lr": 0.01}, 1e-6),
    },
    # RMSprop's step is ~lr in every coordinate whatever the gradient, so it needs a decaying
    # learning rate to settle; its tolerances are stated accordingly.
    "rmsprop": {
        "quadratic": ({"lr": 0.05, "options": DECAY}, 1e-6),
        "rosenbrock": ({"lr": 0.02, "max_iter": 8000, "options": {"lr_decay": 0.02}}, 1e-3),
        "beale": ({"lr": 0.02, "max_iter": 3000, "options": {"lr_decay": 0.005}}, 2e-3),
        "booth": ({"lr": 0.02, "max_iter": 3000, "options": {"lr_decay": 0.005}}, 2e-3),
    },
    "adam": {
        "quadratic": ({"lr": 0.05}, 1e-6),
        "rosenbrock": ({"lr": 0.01, "max_iter": 6000}, 1e-5),
        "beale": ({"lr": 0.01, "max_iter": 4000}, 1e-5),
        "booth": ({"lr": 0.05}, 1e-6),
    },
}


def _xvec(r: OptimizeResult) -> np.ndarray:
    return np.array([r.x[k] for k in r.x], dtype=float)


@pytest.mark.parametrize(
    "method, fname",
    [(m, f) for m, cases in FIRST_ORDER_CASES.items() for f in cases],
)
def test_first_order_reaches_known_minimum(method, fname):
    f, x0, xstar = FUNCTIONS[fname]
    kwargs, tol = FIRST_ORDER_CASES[method][fname]
    r = minimize(f, x0, method, **kwargs)
    err = np.max(np.abs(_xvec(r) - xstar))
    assert err <= tol, f"{method} on {fname}: error {err:.2e} > {tol} after {r.nit} iterations"
    assert r.status in (0, 1) and np.isfinite(r.fun)
    # the history starts at f(x0) and has one value per update
    assert len(r.history) == r.nit + 1
    assert r.history[-1] == pytest.approx(r.fun)
    if r.status == 0:
        assert r.success and max(abs(v) for v in r.jac.values()) <= 1e-6


def test_quadratic_minimum_value_matches_closed_form():
    # f* = -b^T A^{-1} b / 2 for f = x^T A x / 2 - b^T x with A = [[6, 2], [2, 4]], b = [4, -6]
    b = np.array([4.0, -6.0])
    fstar = -0.5 * b @ QUAD_MIN
    r = minimize(QUAD, {"x": 0, "y": 0}, "adam", lr=0.05)
    assert r.fun == pytest.approx(fstar, abs=1e-10)


# ---- stochastic methods: the same functions written as a mean over data rows ----------------

_ONE_HOT2 = np.tile(np.eye(2), (10, 1))  # 20 rows: term a, term b, term a, ...
_ONE_HOT3 = np.tile(np.eye(3), (10, 1))
_RNG = np.random.default_rng(42)
_U = _RNG.normal(size=(20, 2))
_T = _U @ QUAD_MIN  # a consistent least-squares problem: a convex quadratic with every residual 0

STOCHASTIC = {
    "quadratic": (
        "(u1*x + u2*y - t)^2",
        {"u1": _U[:, 0], "u2": _U[:, 1], "t": _T},
        {"x": 0.0, "y": 0.0},
        QUAD_MIN,
    ),
    "rosenbrock": (
        "2*(a*(1 - x)^2 + b*100*(y - x^2)^2)",
        {"a": _ONE_HOT2[:, 0], "b": _ONE_HOT2[:, 1]},
        {"x": -1.2, "y": 1.0},
        np.array([1.0, 1.0]),
    ),
    "beale": (
        "3*(a*(1.5 - x + x*y)^2 + b*(2.25 - x + x*y^2)^2 + c*(2.625 - x + x*y^3)^2)",
        {"a": _ONE_HOT3[:, 0], "b": _ONE_HOT3[:, 1], "c": _ONE_HOT3[:, 2]},
        {"x": 1.0, "y": 1.0},
        np.array([3.0, 0.5]),
    ),
    "booth": (
        "2*(a*(x + 2*y - 7)^2 + b*(2*x + y - 5)^2)",
        {"a": _ONE_HOT2[:, 0], "b": _ONE_HOT2[:, 1]},
        {"x": 0.0, "y": 0.0},
        np.array([1.0, 3.0]),
    ),
}

STOCHASTIC_CASES = {
    "sgd": {
        "quadratic": ({"lr": 0.02, "epochs": 100}, 1e-6),
        "rosenbrock": ({"lr": 1e-3, "epochs": 600}, 1e-2),
        "beale": ({"lr": 0.01, "epochs": 100}, 1e-4),
        "booth": ({"lr": 0.01, "epochs": 100}, 1e-6),
    },
    "minibatch": {
        "quadratic": ({"lr": 0.05, "batch_size": 5, "epochs": 200}, 1e-6),
        "rosenbrock": ({"lr": 1.5e-3, "batch_size": 4, "epochs": 2000}, 5e-3),
        "beale": ({"lr": 0.02, "batch_size": 6, "epochs": 300}, 1e-4),
        "booth": ({"lr": 0.01, "batch_size": 4, "epochs": 200}, 1e-6),
    },
}


def test_stochastic_versions_are_the_standard_functions():
    # the mean over rows equals the standard function (checked with NumPy at random points)
    rng = np.random.default_rng(0)
    refs = {
        "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        "beale": lambda x, y: (
            (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
        ),
        "booth": lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
    }
    for name, ref in refs.items():
        f, data, _, _ = STOCHASTIC[name]
        fn = sm.compile(f, ["x", "y", *data], reduce="mean")
        for x, y in rng.normal(size=(3, 2)):
            assert fn(x, y, *data.values()) == pytest.approx(ref(x, y), rel=1e-12)


@pytest.mark.parametrize(
    "method, fname", [(m, f) for m, cases in STOCHASTIC_CASES.items() for f in cases]
)
def test_stochastic_methods_reach_known_minimum(method, fname):
    f, data, x0, xstar = STOCHASTIC[fname]
    kwargs, tol = STOCHASTIC_CASES[method][fname]
    r = minimize(f, x0, method, data=data, seed=1, **kwargs)
    err = np.max(np.abs(_xvec(r) - xstar))
    assert err <= tol, f"{method} on {fname}: error {err:.2e} > {tol} after {r.nit} updates"
    n = len(next(iter(data.values())))
    per_epoch = math.ceil(n / kwargs.get("batch_size", 1))
    assert r.nit <= kwargs["epochs"] * per_epoch
    assert len(r.history) == r.nit + 1


def test_sgd_and_minibatch_reproducible_with_seed():
    f, data, x0, _ = STOCHASTIC["beale"]
    for method, extra in (("sgd", {}), ("minibatch", {"batch_size": 4})):
        a = minimize(f, x0, method, data=data, seed=7, lr=0.01, epochs=3, **extra)
        b = minimize(f, x0, method, data=data, seed=7, lr=0.01, epochs=3, **extra)
        c = minimize(f, x0, method, data=data, seed=8, lr=0.01, epochs=3, **extra)
        np.testing.assert_array_equal(a.history, b.history)
        assert a.x == b.x
        assert not np.array_equal(a.history, c.history)


def test_long_runs_thin_the_path(monkeypatch):
    import symml.optimize.first_order as fo

    monkeypatch.setattr(fo, "MAX_PATH", 100)
    r = minimize("x^2 + y^2", {"x": 1, "y": 1}, "gd", lr=1e-4, max_iter=1000, tol=0)
    assert r.nit == 1000 and len(r.history) == 1001
    assert 50 <= len(r.path) <= 101
    np.testing.assert_array_equal(r.path[-1], [r.x["x"], r.x["y"]])
    np.testing.assert_array_equal(r.path[0], [1.0, 1.0])


def test_max_iter_counts_updates_and_epochs_convert():
    f, data, x0, _ = STOCHASTIC["booth"]  # 20 rows
    r = minimize(f, x0, "sgd", data=data, seed=0, lr=1e-4, max_iter=7, tol=0)
    assert r.nit == 7 and r.status == 1 and not r.success
    r = minimize(f, x0, "minibatch", data=data, seed=0, lr=1e-4, batch_size=8, epochs=2, tol=0)
    assert r.nit == 2 * 3  # ceil(20 / 8) = 3 batches per epoch
    r = minimize(f, x0, "gd", data=data, lr=1e-4, epochs=5, tol=0)
    assert r.nit == 5


# --------------------------------------------------------------------------------------------
# Newton: quadratic convergence with the exact Hessian
# --------------------------------------------------------------------------------------------


def test_newton_converges_quadratically():
    # f = exp(x + y) + x^2 + y^2 is strictly convex; grad = 0 gives x = y = t with
    # exp(2t) = -2t, i.e. t = -W(1)/2 (Lambert W, the omega constant).
    t = -float(scipy.special.lambertw(1.0).real) / 2
    r = minimize("exp(x + y) + x^2 + y^2", {"x": 1.0, "y": -0.5}, "newton")
    assert r.success
    assert abs(r.x["x"] - t) < 1e-14 and abs(r.x["y"] - t) < 1e-14
    assert r.nit <= 8, f"Newton took {r.nit} iterations"
    errors = np.max(np.abs(r.path - t), axis=1)
    # quadratic convergence: once close, e_{k+1} <= C e_k^2 (until round-off)
    ratios = [
        errors[k + 1] / errors[k] ** 2
        for k in range(len(errors) - 1)
        if errors[k] < 0.1 and errors[k + 1] > 1e-14
    ]
    assert len(ratios) >= 2, f"error sequence {errors}"
    assert max(ratios) < 2.0, f"error sequence {errors}, ratios {ratios}"
    # digits double: each error at most ~ the square of the one before
    close = [e for e in errors if 1e-15 < e < 0.1]
    assert all(b < a**1.8 for a, b in zip(close, close[1:], strict=False)), errors


def test_newton_one_step_on_a_quadratic():
    # within the initial trust radius (1) of the minimum (1.4, -2.2): one full Newton step
    r = minimize(QUAD, {"x": 2.0, "y": -2.5}, "newton")
    assert r.nit == 1 and np.max(np.abs(_xvec(r) - QUAD_MIN)) < 1e-12
    assert r.nhev >= 1


@pytest.mark.parametrize("method", ["bfgs", "lbfgs", "newton", "slsqp", "trust-constr"])
def test_scipy_methods_rosenbrock(method):
    r = minimize(ROSEN, {"x": -1.2, "y": 1.0}, method)
    assert r.success, r.message
    assert np.max(np.abs(_xvec(r) - 1.0)) < 1e-6
    assert r.history[0] == pytest.approx(24.2)  # f(-1.2, 1) = 2.2^2 + 100*0.44^2


def test_exact_gradients_mean_fewer_evaluations_than_finite_differences():
    import scipy.optimize as so

    ref = so.minimize(so.rosen, [-1.2, 1.0], method="BFGS")  # finite-difference gradient
    r = minimize(ROSEN, {"x": -1.2, "y": 1.0}, "bfgs")
    assert r.nfev < ref.nfev


# --------------------------------------------------------------------------------------------
# constrained problems with known optima (Hock & Schittkowski, 1981)
# --------------------------------------------------------------------------------------------

SQRT3 = math.sqrt(3)
HOCK_SCHITTKOWSKI = {
    # name: (objective, x0, constraints, bounds, x*, f*)
    "hs6": ("(1 - x1)^2", {"x1": -1.2, "x2": 1}, ["10*(x2 - x1^2) == 0"], None, [1, 1], 0.0),
    "hs7": (
        "log(1 + x1^2) - x2",
        {"x1": 2, "x2": 2},
        ["(1 + x1^2)^2 + x2^2 - 4 == 0"],
        None,
        [0, SQRT3],
        -SQRT3,
    ),
    "hs21": (
        "0.01*x1^2 + x2^2 - 100",
        {"x1": -1, "x2": -1},
        ["10*x1 - x2 - 10 >= 0"],
        {"x1": (2, 50), "x2": (-50, 50)},
        [2, 0],
        -99.96,
    ),
    "hs28": (
        "(x1 + x2)^2 + (x2 + x3)^2",
        {"x1": -4, "x2": 1, "x3": 1},
        ["x1 + 2*x2 + 3*x3 == 1"],
        None,
        [0.5, -0.5, 0.5],
        0.0,
    ),
    "hs35": (
        "9 - 8*x1 - 6*x2 - 4*x3 + 2*x1^2 + 2*x2^2 + x3^2 + 2*x1*x2 + 2*x1*x3",
        {"x1": 0.5, "x2": 0.5, "x3": 0.5},
        ["x1 + x2 + 2*x3 <= 3"],
        {"x1": (0, None), "x2": (0, None), "x3": (0, None)},
        [4 / 3, 7 / 9, 4 / 9],
        1 / 9,
    ),
    "hs71": (
        "x1*x4*(x1 + x2 + x3) + x3",
        {"x1": 1, "x2": 5, "x3": 5, "x4": 1},
        ["x1*x2*x3*x4 >= 25", "x1^2 + x2^2 + x3^2 + x4^2 == 40"],
        {k: (1, 5) for k in ("x1", "x2", "x3", "x4")},
        [1.0, 4.74299963, 3.82114998, 1.37940829],  # literature, 9 digits
        17.0140173,
    ),
}


@pytest.mark.parametrize("method", ["slsqp", "trust-constr"])
@pytest.mark.parametrize("name", list(HOCK_SCHITTKOWSKI))
def test_hock_schittkowski(name, method):
    f, x0, cons, bounds, xstar, fstar = HOCK_SCHITTKOWSKI[name]
    r = minimize(f, x0, method, constraints=cons, bounds=bounds)
    assert r.success, r.message
    assert np.max(np.abs(_xvec(r) - np.array(xstar))) < 1e-6
    assert abs(r.fun - fstar) < 1e-6
    assert "largest constraint violation" in r.message
    if bounds:
        for k, (lo, hi) in bounds.items():
            assert (lo is None or r.x[k] >= lo) and (hi is None or r.x[k] <= hi)


@pytest.mark.parametrize("method", ["slsqp", "trust-constr"])
def test_max_xy_on_unit_circle(method):
    # maximize x*y on x^2 + y^2 = 1: x = y = +-1/sqrt(2), value 1/2
    r = minimize("-x*y", {"x": 1.0, "y": 0.5}, method, constraints="x^2 + y^2 == 1")
    assert r.success
    assert r.fun == pytest.approx(-0.5, abs=1e-10)
    assert abs(r.x["x"]) == pytest.approx(math.sqrt(0.5), abs=1e-8)
    assert r.x["x"] * r.x["y"] > 0
    # the issue's own example: minimize x*y on the circle
    r = sm.minimize("x*y", {"x": 1, "y": 0}, constraints=["x^2 + y^2 == 1"], method="slsqp")
    assert r.fun == pytest.approx(-0.5, abs=1e-10)


def test_constraints_as_sympy_relations():
    x, y = sm.symbol("x"), sm.symbol("y")
    import sympy

    r = minimize(x**2 + y**2, {"x": 3, "y": 1}, "slsqp", constraints=[sympy.Ge(x + y, 2)])
    assert r.x["x"] == pytest.approx(1, abs=1e-8) and r.x["y"] == pytest.approx(1, abs=1e-8)


# --------------------------------------------------------------------------------------------
# data: the objective is the mean over rows
# --------------------------------------------------------------------------------------------

_PROG = sm.parse("param w[3]\ndata x[3], y\nloss = (dot(w, x) - y)^2")
_X = np.random.default_rng(3).normal(size=(60, 3))
_Y = _X @ np.array([1.5, -0.5, 2.0]) + 0.1 * np.random.default_rng(4).normal(size=60)


def test_data_mean_objective_equals_numpy_reference():
    w0 = np.array([0.3, -0.2, 0.1])
    r = minimize(_PROG["loss"], {"w": w0}, "bfgs", data={"x": _X, "y": _Y})
    assert r.history[0] == pytest.approx(np.mean((_X @ w0 - _Y) ** 2), rel=1e-13)
    assert r.fun == pytest.approx(np.mean((_X @ r.x["w"] - _Y) ** 2), rel=1e-13)
    ref = np.linalg.lstsq(_X, _Y, rcond=None)[0]
    np.testing.assert_allclose(r.x["w"], ref, atol=1e-7)
    assert isinstance(r.x["w"], np.ndarray) and r.x["w"].shape == (3,)
    grad_ref = 2 * _X.T @ (_X @ r.x["w"] - _Y) / len(_Y)
    np.testing.assert_allclose(r.jac["w"], grad_ref, atol=1e-12)


def test_newton_and_trust_constr_with_data_use_exact_hessian():
    ref = np.linalg.lstsq(_X, _Y, rcond=None)[0]
    for method in ("newton", "trust-constr"):
        r = minimize(_PROG["loss"], {"w": 0}, method, data={"x": _X, "y": _Y})
        np.testing.assert_allclose(r.x["w"], ref, atol=1e-9)
        assert r.nhev >= 1
        if method == "newton":
            assert r.nit <= 3  # a quadratic: Newton is exact after the first full step


def test_l2_matches_ridge_closed_form():
    a = 0.3
    n = len(_Y)
    ref = np.linalg.solve(_X.T @ _X / n + a * np.eye(3), _X.T @ _Y / n)
    for method, kw in (("bfgs", {}), ("newton", {}), ("gd", {"lr": 0.1, "max_iter": 3000})):
        r = minimize(
            _PROG["loss"], {"w": 0}, method, data={"x": _X, "y": _Y}, regularization={"l2": a}, **kw
        )
        np.testing.assert_allclose(r.x["w"], ref, atol=1e-6)
        assert r.fun == pytest.approx(np.mean((_X @ r.x["w"] - _Y) ** 2) + a * r.x["w"] @ r.x["w"])


# --------------------------------------------------------------------------------------------
# L1: a sparse truth gives exact zeros
# --------------------------------------------------------------------------------------------

_SPARSE = sm.parse("param w[6]\ndata x[6], y\nloss = (dot(w, x) - y)^2")
_XS = np.random.default_rng(11).normal(size=(80, 6))
_WS = np.array([2.0, 0.0, 0.0, -1.5, 0.0, 0.0])
_YS = _XS @ _WS + 0.05 * np.random.default_rng(12).normal(size=80)
_ALPHA = 0.1


def _lasso_coordinate_descent(X, y, a, sweeps=5000):
    """Independent reference: mean((Xw - y)^2) + a*|w|_1 by exact coordinate minimization."""
    n, d = X.shape
    w = np.zeros(d)
    col = 2 * np.sum(X * X, axis=0) / n
    for _ in range(sweeps):
        old = w.copy()
        for j in range(d):
            r = y - X @ w + X[:, j] * w[j]
            rho = 2 * X[:, j] @ r / n
            w[j] = np.sign(rho) * max(abs(rho) - a, 0.0) / col[j]
        if np.max(np.abs(w - old)) < 1e-15:
            break
    return w


@pytest.mark.parametrize(
    "method, kw",
    [
        ("gd", {"lr": 0.1, "max_iter": 5000}),
        ("adam", {"lr": 0.02, "max_iter": 5000}),
        ("momentum", {"lr": 0.05, "max_iter": 5000}),
        ("lbfgs", {}),
        ("slsqp", {}),
    ],
)
def test_l1_gives_exact_zeros(method, kw):
    ref = _lasso_coordinate_descent(_XS, _YS, _ALPHA)
    assert np.count_nonzero(ref) == 2  # the reference recovers the sparse support
    r = minimize(
        _SPARSE["loss"],
        {"w": np.full(6, 0.5)},
        method,
        data={"x": _XS, "y": _YS},
        regularization={"l1": _ALPHA},
        **kw,
    )
    w = r.x["w"]
    np.testing.assert_array_equal(w == 0.0, ref == 0.0)  # exact zeros, same pattern
    np.testing.assert_allclose(w, ref, atol=1e-6)
    assert "4 of 6" in r.extra["zeros"]


def test_l1_restricted_by_mapping_and_elastic_net():
    x0 = {"x": 1.0, "y": 1.0}
    # L1 on x only: argmin (x - 0.1)^2 + 0.5|x| is 0, y is untouched
    r = minimize("(x - 0.1)^2 + (y - 0.1)^2", x0, "gd", lr=0.1, regularization={"l1": {"x": 0.5}})
    assert r.x["x"] == 0.0 and r.x["y"] == pytest.approx(0.1, abs=1e-6)
    # elastic net (a, r): a*r*|x| + a*(1 - r)*x^2 on (x - 2)^2: x = (4 - a*r) / (2 + 2*a*(1 - r))
    a, ratio = 0.8, 0.25
    r = minimize("(x - 2)^2", {"x": 0.0}, "gd", lr=0.1, regularization={"elastic_net": (a, ratio)})
    assert r.x["x"] == pytest.approx((4 - a * ratio) / (2 + 2 * a * (1 - ratio)), abs=1e-6)


def test_l1_rejected_with_hint_by_smooth_only_methods():
    with pytest.raises(ArgumentError, match="lbfgs"):
        minimize("x^2", {"x": 1}, "bfgs", regularization={"l1": 0.1})


# --------------------------------------------------------------------------------------------
# bounds
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, kw",
    [
        ("gd", {"lr": 0.1}),
        ("adam", {"lr": 0.05, "max_iter": 3000}),
        ("nesterov", {"lr": 0.05}),
        ("lbfgs", {}),
        ("slsqp", {}),
        ("trust-constr", {}),
    ],
)
def test_bounds_respected(method, kw):
    # unconstrained minimum (3, -1); with x <= 2 and y >= 0 the minimum is the corner (2, 0)
    bounds = {"x": (None, 2), "y": (0, None)}
    r = minimize(
        "(x - 3)^2 + (y + 1)^2 + x*y/10", {"x": 0.0, "y": 1.0}, method, bounds=bounds, **kw
    )
    assert r.x["x"] <= 2 and r.x["y"] >= 0
    assert r.x["x"] == pytest.approx(2, abs=1e-6) and r.x["y"] == pytest.approx(0, abs=1e-6)
    if r.path is not None:
        assert np.all(r.path[:, 0] <= 2) and np.all(r.path[:, 1] >= 0)


def test_vector_bounds_and_parameter_only_in_constraint():
    w = sm.vector("w", 3)
    f = sum((wi - i) ** 2 for i, wi in enumerate(w))  # minimum w = (0, 1, 2)
    r = minimize(f, {"w": 0}, "lbfgs", bounds={"w": ([0.5, 0, 0], [1, 5, 1.5])})
    np.testing.assert_allclose(r.x["w"], [0.5, 1, 1.5], atol=1e-8)
    # y appears only in the constraint: min x^2 s.t. x + y = 3 is x = 0, y = 3
    r = minimize("x^2", {"x": 1, "y": 1}, "slsqp", constraints=["x + y == 3"])
    assert r.x["x"] == pytest.approx(0, abs=1e-10) and r.x["y"] == pytest.approx(3)


def test_start_outside_bounds_is_moved_inside():
    r = minimize("(x - 1)^2", {"x": 10.0}, "gd", bounds={"x": (-1, 3)}, lr=0.1)
    assert r.path[0, 0] == 3.0 and r.x["x"] == pytest.approx(1, abs=1e-6)


# --------------------------------------------------------------------------------------------
# divergence, interruption, progress
# --------------------------------------------------------------------------------------------


def test_divergence_is_reported_not_silent():
    r = minimize("x^2", {"x": 1.0}, "gd", lr=1.5)  # x <- -2x: blows up, then overflows to inf
    assert not r.success and r.status == 2
    assert "diverged at iteration" in r.message and "smaller learning rate" in r.message
    assert math.isfinite(r.fun) and math.isfinite(r.x["x"])
    assert r.x["x"] == 1.0 and r.fun == 1.0  # the best point seen is the start
    assert np.all(np.isfinite(r.history))


def test_divergence_in_scipy_method_is_reported():
    r = minimize("-exp(x)", {"x": 0.0}, "bfgs")  # unbounded below: reaches -inf
    assert r.status == 2 and not r.success and "diverged" in r.message
    assert math.isfinite(r.fun) and math.isfinite(r.x["x"])


def _interrupt_after(monkeypatch, calls: int):
    original = Problem.value_grad
    count = {"n": 0}

    def patched(self, theta, rows=None):
        count["n"] += 1
        if count["n"] > calls:
            raise KeyboardInterrupt
        return original(self, theta, rows)

    monkeypatch.setattr(Problem, "value_grad", patched)


@pytest.mark.parametrize("method", ["gd", "adam", "bfgs"])
def test_keyboard_interrupt_returns_best_so_far(monkeypatch, method):
    _interrupt_after(monkeypatch, 25)
    kw = {"lr": 1e-3} if method != "bfgs" else {}
    r = minimize(ROSEN, {"x": -1.2, "y": 1.0}, method, max_iter=10000, **kw)
    assert r.status == 3 and not r.success
    assert "interrupted" in r.message
    assert r.fun == pytest.approx(min(r.history))
    x, y = r.x["x"], r.x["y"]
    assert r.fun == pytest.approx((1 - x) ** 2 + 100 * (y - x**2) ** 2)  # fun belongs to x
    assert r.fun < 24.2  # better than the start


def test_keyboard_interrupt_sgd(monkeypatch):
    f, data, x0, _ = STOCHASTIC["booth"]
    _interrupt_after(monkeypatch, 30)
    r = minimize(f, x0, "sgd", data=data, seed=0, lr=0.01, epochs=100)
    assert r.status == 3 and "interrupted" in r.message
    ref = (r.x["x"] + 2 * r.x["y"] - 7) ** 2 + (2 * r.x["x"] + r.x["y"] - 5) ** 2
    assert r.fun == pytest.approx(ref)


def test_progress_bar_on_stderr(capsys):
    minimize(QUAD, {"x": 0, "y": 0}, "gd", lr=0.01, max_iter=50, tol=0, progress=True)
    err = capsys.readouterr().err
    assert "minimize gd" in err and "100.0%" in err and "50/50" in err
    minimize(QUAD, {"x": 0, "y": 0}, "bfgs", progress=True)
    assert "iteration" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# bad input -> SymmlError with a clear message
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"method": "Adam"}, ArgumentError, "did you mean 'adam'"),
        ({"method": "newton-raphson"}, ArgumentError, "Valid methods: gd, sgd"),
        ({"x0": {"x": 1, "z": 2}}, ArgumentError, "unknown parameter 'z'"),
        ({"x0": {"x": 1}}, ArgumentError, "'y'.*neither a parameter"),
        ({"x0": [1, 2, 3]}, ArgumentError, "x0 has 3 value"),
        ({"x0": [[1, 2]]}, ArgumentError, "flat"),
        ({"x0": ["a", "b"]}, ArgumentError, "mapping"),
        ({"x0": {"x": [1, 2], "y": 0}}, ArgumentError, "scalar"),
        ({"lr": 0, "method": "gd"}, ArgumentError, "lr must be"),
        ({"lr": -1, "method": "adam"}, ArgumentError, "lr must be"),
        ({"lr": 0.1}, ArgumentError, "lr is for the first-order"),
        ({"max_iter": -1}, ArgumentError, "max_iter"),
        ({"max_iter": 5, "epochs": 2, "method": "gd"}, ArgumentError, "not both"),
        ({"method": "sgd"}, ArgumentError, "no data"),
        ({"method": "gd", "batch_size": 4}, ArgumentError, "batch_size"),
        ({"bounds": {"x": (0, 1)}}, ArgumentError, "does not take bounds"),
        ({"bounds": {"q": (0, 1)}, "method": "lbfgs"}, ArgumentError, "not in x0"),
        ({"bounds": {"x": (2, 1)}, "method": "lbfgs"}, ArgumentError, "empty"),
        ({"constraints": ["x + y <= 1"], "method": "gd"}, ArgumentError, "slsqp"),
        ({"constraints": ["x + z <= 1"], "method": "slsqp"}, ArgumentError, "'z'"),
        ({"method": "adam", "options": {"beta3": 0.9}}, ArgumentError, "beta1, beta2"),
        ({"method": "adam", "options": {"beta1": 1.5}}, ArgumentError, "beta1 < 1"),
        ({"regularization": {"l3": 1}}, ArgumentError, "unknown regularization"),
        ({"regularization": {"l2": -1}}, ArgumentError, ">= 0"),
        ({"regularization": {"l1": {"q": 1}}}, ArgumentError, "'q'"),
    ],
)
def test_bad_input(kwargs, error, match):
    args = {"x0": {"x": 1.0, "y": 2.0}}
    args.update(kwargs)
    x0 = args.pop("x0")
    with pytest.raises(error, match=match):
        minimize("x^2 + y^2", x0, **args)


def test_bad_vector_length_and_data():
    with pytest.raises(ArgumentError, match="length 3"):
        minimize(_PROG["loss"], {"w": [1, 2]}, data={"x": _X, "y": _Y})
    with pytest.raises(DataError, match="different lengths"):
        minimize(_PROG["loss"], {"w": 0}, data={"x": _X, "y": _Y[:10]})
    bad = _Y.copy()
    bad[[3, 7]] = np.nan
    with pytest.raises(DataError, match="2 row"):
        minimize(_PROG["loss"], {"w": 0}, data={"x": _X, "y": bad})
    with pytest.raises(DataError, match=r"\(n, 3\)"):
        minimize(_PROG["loss"], {"w": 0}, data={"x": _X[:, :2], "y": _Y})
    with pytest.raises(ArgumentError, match="both a parameter"):
        minimize("(a - y)^2", {"a": 0, "y": 1}, data={"y": _Y})
    assert issubclass(ArgumentError, SymmlError) and issubclass(DataError, SymmlError)


# --------------------------------------------------------------------------------------------
# the result object
# --------------------------------------------------------------------------------------------


def test_result_printing():
    r = minimize("(x - 1)^2 + (y + 2)^2", {"x": 0, "y": 0}, "newton")
    text = repr(r)
    lines = text.splitlines()
    colons = {line.index(":") for line in lines}
    assert len(colons) == 1  # aligned
    assert "x = 1, y = -2" in text
    report = r.report()
    for section in ("[[Problem]]", "[[Result]]", "[[Convergence]]"):
        assert section in report
    # values are written in the language, so they parse back
    for line in report.splitlines():
        if line.strip().startswith(("x = ", "y = ")):
            name, value = line.strip().split(" = ")
            assert float(sm.expr(value)) == pytest.approx(r.x[name])
    assert "| `x` |" in r._repr_markdown_()
    assert r["fun"] == r.fun and "history" in r.keys()
    assert format_value(np.array([1.0, -0.0, 2.5])) == "[1, 0, 2.5]"


# --------------------------------------------------------------------------------------------
# command line and plots
# --------------------------------------------------------------------------------------------


def test_cli_minimize(capsys):
    from symml.cli import main

    code = main(
        [
            "minimize",
            ROSEN,
            "--x0",
            "x=-1.2",
            "y=1",
            "--method",
            "adam",
            "--lr",
            "0.01",
            "--max-iter",
            "20000",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "x = 0.99999" in out and "y = 0.99999" in out and "converged" in out
    code = main(
        ["minimize", "x*y", "--x0", "x=1", "y=0", "--method", "slsqp", "-c", "x^2 + y^2 == 1"]
    )
    out = capsys.readouterr().out
    assert code == 0 and "objective = -0.5" in out
    code = main(["minimize", "x^2", "--x0", "x=1", "--method", "adamm"])
    assert code == 1 and "did you mean 'adam'" in capsys.readouterr().err
    code = main(
        ["minimize", "x^2", "--x0", "x=1", "--method", "gd", "--lr", "0.1", "--max-iter", "3"]
    )
    assert code == 2  # ran, but did not converge


def test_cli_sml_file_bounds_vectors_and_penalties(tmp_path, capsys):
    from symml.cli import main

    src = tmp_path / "problem.sml"
    src.write_text("param a = 0, b = 0 in [-1, inf]\nloss = (a - 1)^2 + (b + 3)^2\n")
    assert main(["minimize", str(src)]) == 0  # bounds declared in the file -> lbfgs
    out = capsys.readouterr().out
    assert "method    lbfgs" in out and "a = 1" in out and "b = -1" in out
    assert main(["minimize", "(x - 2)^2 + y^2", "--x0", "x=0", "y=1", "--bounds", "x=:1"]) == 0
    assert "x = 1" in capsys.readouterr().out
    code = main(
        ["minimize", "(x - 2)^2", "--x0", "x=0", "--method", "gd", "--lr", "0.5", "--l1", "1"]
    )
    assert code == 0 and "x = 1.5" in capsys.readouterr().out  # soft-threshold: 2 - 1/2
    code = main(
        ["minimize", "(x - 3)^2", "--x0", "x=0", "--method", "adam", "--lr", "0.1",
         "--option", "beta1=0.5", "--max-iter", "5000"]
    )  # fmt: skip
    assert code == 0 and "x = 2.99999" in capsys.readouterr().out  # |grad| <= 1e-6
    code = main(["minimize", "(x - 3)^2", "--x0", "x=0", "--method", "adam", "--option", "b=1"])
    assert code == 1 and "unknown option" in capsys.readouterr().err


def test_cli_plot_without_matplotlib_says_install(monkeypatch, capsys, tmp_path):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    from symml.cli import main

    code = main(["minimize", "x^2", "--x0", "x=1", "--plot", str(tmp_path / "p.png")])
    assert code == 1 and "symml[plot]" in capsys.readouterr().err


def test_plots(tmp_path):
    pytest.importorskip("matplotlib")
    from symml.optimize.plot import plot_history, plot_paths, save_plot

    runs = [
        minimize(ROSEN, {"x": -1.2, "y": 1.0}, m, lr=lr, max_iter=300)
        for m, lr in (("gd", 1e-3), ("momentum", 1e-3), ("adam", 0.01))
    ]
    fig = plot_paths(runs)
    assert len(fig.axes[0].lines) >= 3
    assert plot_history(runs[0]) is not None
    out = save_plot(runs, str(tmp_path / "paths.png"))
    assert (tmp_path / "paths.png").stat().st_size > 1000 and out.endswith("paths.png")
    three = minimize("x^2 + y^2 + z^2", {"x": 1, "y": 1, "z": 1}, "gd", lr=0.1)
    with pytest.raises(ArgumentError, match="two scalar parameters"):
        plot_paths(three)
    save_plot(three, str(tmp_path / "history.png"))  # history only


def test_cli_plot_overlay(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from symml.cli import main

    out = tmp_path / "cmp.png"
    code = main(
        ["minimize", "x^2 + 10*y^2", "--x0", "x=2", "y=1", "--method", "gd,momentum,adam",
         "--lr", "0.02", "--max-iter", "2000", "--plot", str(out)]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0 and out.exists() and "== momentum ==" in text
