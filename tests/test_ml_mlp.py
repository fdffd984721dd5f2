"""MLP: exact gradients (vs central finite differences), backpropagation checked against the
per-parameter gradient, and training that reaches stated accuracies."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symml as sm
from symml.errors import ArgumentError, DataError
from symml.ml import MLP
from symml.ml.datasets import make_moons, make_spirals, make_xor
from symml.ml.mlp import backprop_derivation


def test_learns_xor():
    X, y = make_xor()
    net = MLP(hidden=(4,), lr=0.1, epochs=400, seed=1).fit(X, y)
    assert np.array_equal(net.predict(X), y)
    assert net.loss_curve_[-1] < 0.01 * net.loss_curve_[0]
    P = net.predict_proba(X)
    assert np.allclose(P.sum(axis=1), 1) and np.all((P[:, 1] > 0.5) == (y == 1))


@pytest.mark.parametrize(
    "optimizer, kw",
    [("adam", {"lr": 0.1, "epochs": 400}), ("momentum", {"lr": 0.1, "epochs": 800}),
     ("minibatch", {"lr": 0.5, "epochs": 800, "batch_size": 2})],  # fmt: skip
)
def test_every_optimizer_learns_xor(optimizer, kw):
    X, y = make_xor()
    net = MLP(hidden=(4,), optimizer=optimizer, seed=1, **kw).fit(X, y)
    assert np.array_equal(net.predict(X), y), optimizer
    assert net.loss_curve_[-1] < 0.01  # mean cross-entropy; log(2) = 0.69 at chance


def test_learns_spirals_to_97_percent():
    X, y = make_spirals(200, noise=0.02, seed=0)
    Xt, yt = make_spirals(200, noise=0.02, seed=1)
    net = MLP(hidden=(16,), lr=0.03, epochs=1500, seed=0).fit(X, y)
    assert net.score(X, y) >= 0.97 and net.score(Xt, yt) >= 0.97


def test_learns_two_moons_to_97_percent():
    X, y = make_moons(300, noise=0.1, seed=0)
    Xt, yt = make_moons(300, noise=0.1, seed=1)
    net = MLP(hidden=(8,), lr=0.05, epochs=600, seed=0).fit(X, y)
    assert net.score(X, y) >= 0.97 and net.score(Xt, yt) >= 0.96


def test_momentum_and_minibatch_optimizers_train_too():
    X, y = make_moons(200, noise=0.1, seed=2)
    for opt, kw in (("momentum", {"lr": 0.1}), ("minibatch", {"lr": 0.2, "batch_size": 20})):
        net = MLP(hidden=(8,), optimizer=opt, epochs=300, seed=0, **kw).fit(X, y)
        assert net.score(X, y) >= 0.9, opt


def test_regression_with_squared_loss():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (200, 1))
    y = np.sin(X[:, 0])
    net = MLP(hidden=(8,), loss="squared", lr=0.02, epochs=1500, seed=0).fit(X, y)
    assert net.score(X, y) > 0.98


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("loss", ["cross_entropy", "squared"])
def test_exact_gradient_matches_central_differences(activation, loss):
    net = MLP(hidden=(3, 2), activation=activation, loss=loss)
    z, row_loss, params, x, y = net._build(2)
    f = sm.compile(row_loss, [*params, x, y], grad=params, reduce="mean")
    rng = np.random.default_rng(0)
    X, t = rng.normal(size=(30, 2)), rng.integers(0, 2, 30).astype(float)
    values = [rng.normal(size=len(p)) for p in params]
    _, grads = f(*values, X, t)
    h = 1e-6
    for k, v in enumerate(values):
        g = np.atleast_1d(grads[k])
        for c in range(len(v)):
            up = [u.copy() for u in values]
            dn = [u.copy() for u in values]
            up[k][c] += h
            dn[k][c] -= h
            fd = (f(*up, X, t)[0] - f(*dn, X, t)[0]) / (2 * h)
            assert g[c] == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_hessian_vector_product_of_the_network_loss_matches_differences_of_the_gradient():
    net = MLP(hidden=(3,), activation="tanh")
    z, row_loss, params, x, y = net._build(2)
    theta = [s for p in params for s in p]
    h = sm.hvp(row_loss, theta)
    rng = np.random.default_rng(1)
    xv, yv = rng.normal(size=2), 1.0
    data = {**dict(zip(list(x), xv, strict=True)), y: yv}
    grad = sm.compile(sm.grad(row_loss, theta).xreplace(data), theta)
    hvp = sm.compile(h.product.xreplace(data), [*theta, *h.direction])
    t0, v = rng.normal(size=len(theta)), rng.normal(size=len(theta))
    eps = 1e-6
    fd = (np.asarray(grad(*(t0 + eps * v)), float) - np.asarray(grad(*(t0 - eps * v)), float)).ravel() / (2 * eps)
    assert np.allclose(np.asarray(hvp(*t0, *v), float).ravel(), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_sigmoid_and_relu_networks_train_too(activation):
    X, y = make_moons(200, noise=0.1, seed=3)
    net = MLP(hidden=(8,), activation=activation, lr=0.05, epochs=600, seed=0).fit(X, y)
    assert net.score(X, y) >= 0.95, activation


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("loss", ["cross_entropy", "squared"])
def test_backprop_derivation_verifies(activation, loss):
    d = backprop_derivation(activation, loss)
    assert d.verify() is True
    assert [s.rule for s in d.steps][2:5] == ["output_delta", "output_gradients", "hidden_delta"]


def test_bad_input():
    X, y = make_xor()
    with pytest.raises(ArgumentError, match="activation"):
        MLP(activation="swish").fit(X, y)
    with pytest.raises(DataError, match="binary"):
        MLP().fit(X, [0, 1, 2, 0])
    with pytest.raises(ArgumentError, match="not fitted"):
        MLP().predict(X)


# -- the network written in the language (examples/mlp.sml) -------------------------------------
SML = __import__("pathlib").Path(__file__).resolve().parent.parent / "examples" / "mlp.sml"


def _flat(syms):
    return list(syms) if hasattr(syms, "shape") else [syms]


def _num(expr, point):
    return float(expr.xreplace({k: sympy.Float(v, 30) for k, v in point.items()}).evalf(30))


def test_language_mlp_backprop_deltas_match_central_differences_and_the_exact_gradient():
    prog = sm.load(SML)
    names = ("W1", "b1", "w2", "b2")
    theta = [s for n in names for s in _flat(prog.params[n].symbols)]
    deltas = sympy.Matrix([g for n in names for g in _flat(prog["g" + n])])
    data = [*prog.data_decls["x"].symbols, prog.data_decls["y"].symbols]
    args = [*theta, *data]
    loss = sm.compile(prog["loss"], args)
    by_hand = sm.compile(deltas, args)
    exact = sm.compile(sm.grad(prog["loss"], theta), args)
    rng = np.random.default_rng(3)
    h = 1e-6
    for _ in range(3):
        v = np.r_[rng.normal(size=len(theta)), rng.normal(size=2), float(rng.integers(0, 2))]
        bp = np.asarray(by_hand(*v), dtype=float).ravel()
        assert np.allclose(bp, np.asarray(exact(*v), dtype=float).ravel(), rtol=1e-12, atol=1e-14)
        for k in range(len(theta)):
            up, dn = v.copy(), v.copy()
            up[k] += h
            dn[k] -= h
            fd = (float(loss(*up)) - float(loss(*dn))) / (2 * h)
            assert bp[k] == pytest.approx(fd, rel=1e-6, abs=1e-9), theta[k]


def test_language_mlp_is_the_network_that_symml_ml_mlp_trains():
    prog = sm.load(SML)
    X, y = make_xor()
    net = MLP(hidden=(4,), lr=0.1, epochs=400, seed=1).fit(X, y)
    W = net.params_["W1"]  # W1[i*4 + j]: input i -> hidden unit j; the language's W1[j, i]
    point = {}
    W1 = prog.params["W1"].symbols
    for j in range(4):
        for i in range(2):
            point[W1[j, i]] = W[i * 4 + j]
    point.update(dict(zip(list(prog.params["b1"].symbols), net.params_["b1"], strict=True)))
    point.update(dict(zip(list(prog.params["w2"].symbols), net.params_["wo"], strict=True)))
    point[prog.params["b2"].symbols] = float(net.params_["bo"][0])
    xs = list(prog.data_decls["x"].symbols)
    probs = [_num(prog["p"], {**point, xs[0]: r[0], xs[1]: r[1]}) for r in X]
    assert np.allclose(probs, net.predict_proba(X)[:, 1], rtol=1e-10)
    assert np.array_equal((np.array(probs) > 0.5).astype(int), y)  # the language network solves XOR
