"""SciPy conventions of ``minimize`` and the one method table (issue 12).

References are independent of symml's code under test: SciPy's own minimize on hand-written
NumPy objectives and gradients, closed forms, numpy.linalg.lstsq, and KKT conditions
written out by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize as so

import symml as sm
from symml.errors import ArgumentError
from symml.optimize import minimize
from symml.optimize.methods import TABLE, get_method, scipy_options

ROSEN = "(1 - x)^2 + 100*(y - x^2)^2"


# --------------------------------------------------------------------------------------------
# x0 as an array, maxiter, tol, options; x_flat
# --------------------------------------------------------------------------------------------


def test_x0_as_array_or_list_in_variable_order():
    # variables in the order of first appearance in the text: b, then a
    f = "(b - 1)^2 + 10*(a + 2)^2 + a*b"
    ref = minimize(f, {"b": 0.5, "a": -1.0}, "bfgs")
    for x0 in (np.array([0.5, -1.0]), [0.5, -1.0], (0.5, -1.0)):
        r = minimize(f, x0, "bfgs")
        assert list(r.x) == ["b", "a"] and r.names == ("b", "a")
        assert r.x == pytest.approx(ref.x)
    # the closed form of the stationary point: [[2, 1], [1, 20]] @ [b, a] = [2, -40]
    sol = np.linalg.solve([[2.0, 1.0], [1.0, 20.0]], [2.0, -40.0])
    np.testing.assert_allclose(r.x_flat, sol, rtol=1e-8)
    assert isinstance(r.x_flat, np.ndarray) and r.x_flat.shape == (2,)


def test_x0_array_for_a_vector_parameter_and_sympy_objective():
    import sympy

    x, y = sympy.symbols("x y", real=True)
    r = minimize((x - 3) ** 2 + (y + 1) ** 2, [0.0, 0.0], "bfgs")  # sorted by name: x, y
    np.testing.assert_allclose(r.x_flat, [3.0, -1.0], atol=1e-8)
    prog = sm.parse("param w[3]\nloss = (w[0] - 1)^2 + (w[1] - 2)^2 + (w[2] + 1)^2")
    r = minimize(prog["loss"], np.zeros(3), "bfgs")
    np.testing.assert_allclose(r.x["w"], [1.0, 2.0, -1.0], atol=1e-8)
    np.testing.assert_allclose(r.x_flat, r.x["w"])


def test_maxiter_is_scipys_spelling_of_max_iter():
    a = minimize(ROSEN, [-1.2, 1.0], "bfgs", maxiter=5)
    b = minimize(ROSEN, [-1.2, 1.0], "bfgs", max_iter=5)
    assert a.nit == b.nit == 5 and a.status == 1 and a.x == b.x
    with pytest.raises(ArgumentError, match="not both"):
        minimize(ROSEN, [-1.2, 1.0], "bfgs", maxiter=5, max_iter=6)


def test_options_are_passed_to_scipy_and_checked():
    r = minimize(ROSEN, [-1.2, 1.0], "l-bfgs-b", options={"maxcor": 3, "maxls": 30})
    ref = so.minimize(
        so.rosen, [-1.2, 1.0], jac=so.rosen_der, method="L-BFGS-B",
        options={"maxcor": 3, "maxls": 30, "gtol": 1e-8, "ftol": 1e-12},
    )  # fmt: skip
    np.testing.assert_allclose(r.x_flat, ref.x, rtol=1e-6)
    assert r.nit == ref.nit  # the same iteration: SciPy got the same options
    with pytest.raises(ArgumentError, match="unknown option 'maxcorr'.*did you mean 'maxcor'"):
        minimize(ROSEN, [-1.2, 1.0], "lbfgs", options={"maxcorr": 3})
    # Nelder-Mead's own tolerances
    loose = minimize(ROSEN, [-1.2, 1.0], "nelder-mead", options={"xatol": 1e-2, "fatol": 1e-2})
    tight = minimize(ROSEN, [-1.2, 1.0], "nelder-mead")
    assert loose.nfev < tight.nfev


def test_tol_sets_the_methods_tolerance():
    loose = minimize(ROSEN, [-1.2, 1.0], "bfgs", tol=1e-2)
    tight = minimize(ROSEN, [-1.2, 1.0], "bfgs", tol=1e-10)
    assert loose.nit < tight.nit
    assert max(abs(v) for v in tight.jac.values()) <= 1e-10


# --------------------------------------------------------------------------------------------
# the new methods against SciPy with hand-written derivatives
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, scipy_method, uses",
    [
        ("nelder-mead", "Nelder-Mead", "none"),
        ("powell", "Powell", "none"),
        ("cg", "CG", "jac"),
        ("tnc", "TNC", "jac"),
        ("newton-cg", "Newton-CG", "hessp"),
        ("trust-exact", "trust-exact", "hess"),
        ("trust-ncg", "trust-ncg", "hess"),
    ],
)
def test_new_methods_reach_the_rosenbrock_minimum(method, scipy_method, uses):
    r = minimize(ROSEN, np.array([-1.2, 1.0]), method)
    assert r.success and r.status == 0, r.message
    tol = 1e-3 if uses == "none" else 1e-5
    np.testing.assert_allclose(r.x_flat, [1.0, 1.0], atol=tol)
    kw = {}
    if uses != "none":
        kw["jac"] = so.rosen_der
    if uses == "hessp":
        kw["hessp"] = so.rosen_hess_prod
    if uses == "hess":
        kw["hess"] = so.rosen_hess
    # SciPy with hand-written derivatives and the same tolerances
    opts = scipy_options(get_method(method), None, None, {})
    ref = so.minimize(so.rosen, [-1.2, 1.0], method=scipy_method, options=opts, **kw)
    np.testing.assert_allclose(r.x_flat, ref.x, atol=tol)
    assert scipy_method in r.message


def test_newton_cg_uses_exact_hessian_vector_products_only():
    r = minimize(ROSEN, [-1.2, 1.0], "newton-cg")
    problem = r._problem
    assert problem._hvp is not None and problem._hess is None  # never formed the Hessian
    assert r.nhev > 0
    # the compiled product equals the hand-written Rosenbrock Hessian times v
    for point, v in (([-1.2, 1.0], [1.0, 0.0]), ([0.3, -0.7], [0.4, 2.0])):
        hv = problem.hessp(np.array(point), np.array(v))
        np.testing.assert_allclose(hv, so.rosen_hess_prod(point, v), rtol=1e-12)


def test_newton_cg_with_data_matches_least_squares():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(100, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.01 * rng.normal(size=100)
    r = minimize("(dot(w, x) - y)^2", np.zeros(3), "newton-cg", data={"x": X, "y": y})
    np.testing.assert_allclose(r.x["w"], np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-8)


def test_bounds_with_derivative_free_and_tnc():
    for method in ("nelder-mead", "powell", "tnc"):
        r = minimize("(x - 3)^2 + (y + 1)^2", [0.0, 0.0], method, bounds={"x": (None, 2)})
        np.testing.assert_allclose(r.x_flat, [2.0, -1.0], atol=1e-4)
    with pytest.raises(ArgumentError, match="does not take bounds"):
        minimize("(x - 3)^2", [0.0], "cg", bounds={"x": (0, 1)})


# --------------------------------------------------------------------------------------------
# one method table
# --------------------------------------------------------------------------------------------


def test_one_table_for_minimize_fit_and_the_cli():
    from symml.cli.optim import _option_names
    from symml.fitting.likelihood import MLE_METHODS
    from symml.optimize.registry import METHODS

    assert set(METHODS) == {n for n, m in TABLE.items() if m.kind in ("first-order", "scipy")}
    assert set(MLE_METHODS) >= {n for n, m in TABLE.items() if m.kind == "scipy"}
    assert get_method("lbfgs") is get_method("l-bfgs-b")  # an alias, not a second row
    assert _option_names("lbfgs") >= {"maxcor", "maxls", "ftol"}


def test_old_and_new_spellings_give_the_same_runs():
    a = minimize(ROSEN, [-1.2, 1.0], "lbfgs")
    b = minimize(ROSEN, [-1.2, 1.0], "l-bfgs-b")
    assert a.x == b.x and a.nit == b.nit
    assert a.method == "lbfgs" and b.method == "l-bfgs-b"  # reported as asked
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    y = rng.poisson(np.exp(0.3 + 0.4 * x)).astype(float)
    model = "param a, b; y ~ Poisson(exp(a + b*x))"
    ref = sm.fit(model, {"x": x, "y": y})
    for method in ("lbfgs", "newton", "cg", "tnc", "nelder-mead", "powell"):
        r = sm.fit(model, {"x": x, "y": y}, method=method)
        assert r.method == get_method(method).name or r.method == method
        np.testing.assert_allclose(r.x, ref.x, rtol=1e-7)


def test_fit_options_and_profile_refits_use_the_same_method():
    rng = np.random.default_rng(1)
    x = rng.normal(size=60)
    y = rng.poisson(np.exp(0.2 + 0.5 * x)).astype(float)
    model = "param a, b; y ~ Poisson(exp(a + b*x))"
    r = sm.fit(model, {"x": x, "y": y}, method="bfgs", options={"maxiter": 500})
    assert r._problem.method == "bfgs" and r._problem.options == {"maxiter": 500}
    ref = sm.fit(model, {"x": x, "y": y})
    np.testing.assert_allclose(
        r.conf_int(method="profile")["b"], ref.conf_int(method="profile")["b"], rtol=1e-6
    )
    with pytest.raises(ArgumentError, match="unknown option 'maxiters'"):
        sm.fit(model, {"x": x, "y": y}, method="bfgs", options={"maxiters": 5})
    with pytest.raises(ArgumentError, match="least-squares"):
        sm.fit("y ~ a*x", {"x": x, "y": y}, p0={"a": 1}, options={"maxiter": 5})


def test_status_is_read_from_scipys_result_not_its_message(monkeypatch):
    import symml.optimize.scipy_methods as sm_methods

    original = sm_methods.so.minimize

    def reworded(*args, **kwargs):
        res = original(*args, **kwargs)
        res.message = "something else entirely"
        return res

    monkeypatch.setattr(sm_methods.so, "minimize", reworded)
    r = minimize(ROSEN, [-1.2, 1.0], "bfgs", maxiter=3)
    assert r.status == 1 and not r.success  # BFGS status 1: maximum iterations
    r = minimize(ROSEN, [-1.2, 1.0], "nelder-mead", maxiter=10)
    assert r.status == 1


# --------------------------------------------------------------------------------------------
# default steps of the first-order methods; the constrained report
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["gd", "momentum", "nesterov"])
def test_default_step_does_not_diverge_on_rosenbrock(method):
    r = minimize(ROSEN, {"x": -1.2, "y": 1.0}, method, max_iter=6000)
    assert r.status != 2 and np.all(np.isfinite(r.history))
    assert r.fun < 0.05 * r.history[0]
    # the step is 1/L, L the largest Hessian eigenvalue at the start (closed form here)
    H = so.rosen_hess([-1.2, 1.0])
    L = np.max(np.abs(np.linalg.eigvalsh(H)))
    assert r.extra["lr"] == pytest.approx(1 / L, rel=1e-2) or method == "gd"
    assert "largest Hessian eigenvalue" in r.extra["lr_rule"]
    assert "step size" in r.report()
    if method != "gd":
        assert r.status == 0 and r.x["x"] == pytest.approx(1.0, abs=1e-4)
    else:  # backtracking: every accepted step decreases the objective
        assert np.all(np.diff(r.history) <= 0)


def test_constrained_report_shows_the_lagrangians_gradient():
    r = minimize("x*y", {"x": 1.0, "y": 0.0}, "slsqp", constraints=["x^2 + y^2 == 1"])
    # by hand: grad f = (y, x), grad c = (2x, 2y); lambda by least squares
    x, y = r.x["x"], r.x["y"]
    g, a = np.array([y, x]), np.array([2 * x, 2 * y])
    lam = g @ a / (a @ a)
    by_hand = float(np.max(np.abs(g - lam * a)))
    assert r.extra["lagrangian_gradient"] == pytest.approx(by_hand, abs=1e-12)
    assert r.extra["lagrangian_gradient"] < 1e-8 < max(abs(v) for v in r.jac.values())
    text = r.report()
    assert "|grad L|" in text and "1 active constraint" in text and "|gradient|" not in text


# --------------------------------------------------------------------------------------------
# a start outside the domain; shapes from the data
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["gd", "adam", "bfgs", "newton", "nelder-mead", "sgd"])
def test_non_finite_start_is_reported_as_such(method):
    kw = {"data": {"t": np.ones(5)}, "lr": 0.1} if method == "sgd" else {}
    f = "-log(x) * t + x" if method == "sgd" else "-log(x) + x"
    r = minimize(f, {"x": -1.0}, method, **kw)
    assert r.status == 5 and not r.success and r.nit == 0
    assert r.message.startswith("the objective is not finite at the start (x = -1): it is nan")
    assert "change x0" in r.message and "diverged" not in r.message
    assert r.x == {"x": -1.0} and math.isnan(r.fun)
    assert "5 (not finite at the start)" in r.report()


def test_non_finite_gradient_at_the_start():
    r = minimize("sqrt(x) + x^2", {"x": 0.0}, "bfgs")
    assert r.status == 5 and "gradient is not finite at the start" in r.message
    r = minimize("sqrt(x) + x^2", {"x": 0.0}, "gd")
    assert r.status == 5 and "gradient is not finite at the start" in r.message


def test_minimize_infers_vector_shapes_from_the_data():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 3))
    y = X @ [0.5, -1.0, 2.0] + 0.05 * rng.normal(size=80)
    ref = np.linalg.lstsq(X, y, rcond=None)[0]
    r = minimize("(dot(w, x) - y)^2", {"w": 0.0}, data={"x": X, "y": y})
    np.testing.assert_allclose(r.x["w"], ref, rtol=1e-7)
    r = minimize("(dot(w, x) - y)^2", np.zeros(3), data={"x": X, "y": y})
    np.testing.assert_allclose(r.x_flat, ref, rtol=1e-7)
    pd = pytest.importorskip("pandas")
    for names in (["x[0]", "x[1]", "x[2]"], ["x_0", "x_1", "x_2"]):
        frame = pd.DataFrame(X, columns=names).assign(y=y)
        r = minimize("(w @ x - y)^2", {"w": np.zeros(3)}, data=frame)
        np.testing.assert_allclose(r.x["w"], ref, rtol=1e-7)
    with pytest.raises(sm.SymmlError, match="length"):
        minimize("(dot(w, x) - y)^2", {"w": np.zeros(2)}, data={"x": X, "y": y})


def test_indexed_columns_that_the_model_names_stay_scalars():
    from symml.optimize._shapes import group_vector_columns

    cols = {"x_0": [1.0, 2.0], "x_1": [3.0, 4.0]}
    assert group_vector_columns(cols, {"x_0", "x_1"}) == cols
    assert set(group_vector_columns(cols, {"x"})) == {"x"}
    with pytest.raises(sm.DataError, match="indices"):
        group_vector_columns({"x[0]": [1.0], "x[2]": [2.0]}, {"x"})


def test_every_table_row_is_complete():
    for name, spec in TABLE.items():
        assert spec.name == name and spec.summary
        if spec.kind == "scipy":
            assert spec.scipy and spec.tol is not None and spec.tol_options
            assert all(k in spec.scipy_options for k in spec.tol_options), name
        assert spec.l1 in ("proximal", "split", "rejected")
        assert math.isfinite(spec.tol or 0.0)
