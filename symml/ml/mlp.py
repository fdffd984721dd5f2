"""A multilayer perceptron whose gradients are derived exactly, trained by symml's optimizers.

The network is written for one row as a SymPy expression over its parameters (one weight
vector per layer, ``W1[i*h + j]`` the weight from input i to unit j, and biases), its loss
is differentiated exactly by symml, compiled once (value and gradient share every common
subexpression, reduced over the rows inside the call), and trained with
:func:`symml.minimize` (``adam``, ``momentum``, ``nesterov``, ``rmsprop``, ``gd``,
``minibatch`` or ``sgd``; ``bfgs``/``lbfgs`` for small networks).

Binary classification (``loss="cross_entropy"``, a sigmoid output; labels may be any two
values) or regression (``loss="squared"``, a linear output).

:func:`backprop_derivation` derives backpropagation layer by layer (the delta terms) and
checks every formula against the per-parameter exact gradient.

>>> import numpy as np
>>> from symml.ml import MLP
>>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]); y = np.array([0, 1, 1, 0])
>>> net = MLP(hidden=(4,), lr=0.1, epochs=400, seed=1).fit(X, y)
>>> net.predict(X)
array([0, 1, 1, 0])
"""

from __future__ import annotations

import functools

import numpy as np
import sympy

from ..errors import ArgumentError, DataError
from ..functions import relu, sigmoid, softplus
from ..symbols import symbol, vector
from ._base import Estimator, as_matrix, as_vector, check_fitted

__all__ = ["MLP", "backprop_derivation"]

_ACTIVATIONS = {"tanh": sympy.tanh, "sigmoid": sigmoid, "relu": relu}


def _network(d: int, hidden: tuple[int, ...], activation: str):
    """Symbolic per-row network: (output pre-activation z, parameter vectors, x)."""
    act = _ACTIVATIONS[activation]
    x = vector("x", d)
    a = list(x)
    params = []
    sizes = [d, *hidden]
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False), 1):
        W, b = vector(f"W{layer}", n_in * n_out), vector(f"b{layer}", n_out)
        params += [W, b]
        a = [act(sum(W[i * n_out + j] * a[i] for i in range(n_in)) + b[j]) for j in range(n_out)]
    wo, bo = vector("wo", sizes[-1]), symbol("bo")
    params += [wo, sympy.Matrix([bo])]
    z = sum(wo[j] * a[j] for j in range(sizes[-1])) + bo
    return z, params, x


class MLP(Estimator):
    """A fully connected network with exact gradients.

    Parameters
    ----------
    hidden : tuple of int
        Units per hidden layer.
    activation : "tanh", "sigmoid" or "relu"
    loss : "cross_entropy" (binary classification) or "squared" (regression)
    optimizer : a first-order method name of :func:`symml.minimize` (or ``bfgs``/``lbfgs``)
    lr, epochs, batch_size, seed :
        Learning rate, passes over the data, rows per update (``minibatch`` only), and the
        seed of the initial weights (Glorot-uniform) and of the row shuffling.
    alpha : float
        L2 penalty on the weights (not the biases).
    """

    def __init__(self, hidden: tuple[int, ...] = (8,), activation: str = "tanh",
                 loss: str = "cross_entropy", optimizer: str = "adam", lr: float = 0.01,
                 epochs: int = 200, batch_size: int | None = None, seed: int | None = 0,
                 alpha: float = 0.0):  # fmt: skip
        self.hidden = hidden
        self.activation = activation
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.alpha = alpha

    def _build(self, d: int):
        if self.activation not in _ACTIVATIONS:
            raise ArgumentError(f"unknown activation {self.activation!r}; use {', '.join(_ACTIVATIONS)}")
        if self.loss not in ("cross_entropy", "squared"):
            raise ArgumentError(f"unknown loss {self.loss!r}; use 'cross_entropy' or 'squared'")
        hidden = tuple(self.hidden)
        if not hidden or any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in hidden):
            raise ArgumentError(f"hidden must be a tuple of positive whole numbers, got {self.hidden!r}")
        z, params, x = _network(d, hidden, self.activation)
        y = symbol("y")
        row_loss = softplus(z) - y * z if self.loss == "cross_entropy" else (z - y) ** 2 / 2
        return z, row_loss, params, x, y

    def _init(self, params, rng):
        start = {}
        for p in params:
            name = str(p[0]).split("[")[0] if len(p) > 1 or "[" in str(p[0]) else str(p[0])
            if name.startswith("W") or name == "wo":
                n = len(p)
                fan = n ** 0.5 * 2
                limit = np.sqrt(6 / fan) if fan > 0 else 1.0
                start[name] = rng.uniform(-limit, limit, size=n)
            else:
                start[name] = np.zeros(len(p)) if len(p) > 1 else 0.0
        return start

    def fit(self, X, y):
        from .. import compile as _compile
        from .. import minimize

        A = as_matrix(X)
        t = as_vector(y, len(A))
        if self.loss == "cross_entropy":
            classes = np.unique(t)
            if len(classes) != 2:
                raise DataError(f"cross-entropy MLP is a binary classifier; y has {len(classes)} classes")
            self.classes_ = classes
            target = (t == classes[1]).astype(float)
        else:
            target = np.asarray(t, dtype=float)
        z, row_loss, params, x, ysym = self._build(A.shape[1])
        objective = row_loss
        if self.alpha:
            weights = [p for p in params if str(p[0]).startswith(("W", "wo"))]
            objective = row_loss + self.alpha / (2 * len(A)) * sum(w**2 for W in weights for w in W)
        x0 = self._init(params, np.random.default_rng(self.seed))
        opts = dict(lr=self.lr, epochs=self.epochs, seed=self.seed)
        if self.optimizer in ("bfgs", "lbfgs"):
            opts = {"max_iter": self.epochs}
        if self.batch_size is not None:
            opts["batch_size"] = self.batch_size
        res = minimize(objective, x0, method=self.optimizer, data={"x": A, "y": target}, **opts)
        self.result_ = res
        self.params_ = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in res.x.items()}
        self.loss_curve_ = np.asarray(res.history, dtype=float)
        names = [str(p[0]).split("[")[0] if "[" in str(p[0]) else str(p[0]) for p in params]
        self._names = names
        self._forward = _compile(z, [*params, x])
        self._symbolic = (z, params, x)
        self.n_features_in_ = A.shape[1]
        return self

    def expression(self):
        """The fitted network as a SymPy expression of its inputs ``x[0], x[1], ...``: the
        probability of ``classes_[1]`` (cross-entropy) or the predicted value (squared loss),
        with the trained weights as numbers. Its exact input gradient is the sensitivity
        (:func:`symml.ml.interpret.sensitivity`).

        Returns ``(expr, inputs)``.

        >>> import numpy as np
        >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        >>> net = MLP(hidden=(2,), epochs=5, seed=0).fit(X, [0, 1, 1, 0])
        >>> expr, inputs = net.expression()
        >>> inputs
        [x[0], x[1]]
        >>> bool(np.isclose(float(expr.subs({inputs[0]: 1.0, inputs[1]: 0.0})), net.predict_proba([[1.0, 0.0]])[0, 1]))
        True
        """
        check_fitted(self, "params_")
        z, params, x = self._symbolic
        values = {}
        for name, p in zip(self._names, params, strict=True):
            for s, v in zip(list(p), self.params_[name], strict=True):
                values[s] = sympy.Float(float(v))
        out = z.xreplace(values)
        return (sigmoid(out) if self.loss == "cross_entropy" else out), list(x)

    def _z(self, X):
        check_fitted(self, "params_")
        A = as_matrix(X)
        if A.shape[1] != self.n_features_in_:
            raise DataError(f"X has {A.shape[1]} features; the network was fitted on {self.n_features_in_}")
        values = [self.params_[n] for n in self._names]
        return np.asarray(self._forward(*values, A), dtype=float)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``[P(classes_[0]), P(classes_[1])]`` per row."""
        if self.loss != "cross_entropy":
            raise ArgumentError("predict_proba needs loss='cross_entropy'")
        p = 1 / (1 + np.exp(-self._z(X)))
        return np.c_[1 - p, p]

    def predict(self, X) -> np.ndarray:
        """Labels (classification) or values (regression)."""
        zv = self._z(X)
        if self.loss == "cross_entropy":
            return np.where(zv > 0, self.classes_[1], self.classes_[0])
        return zv

    def score(self, X, y) -> float:
        """Accuracy (classification) or R^2 (regression)."""
        from .metrics import accuracy, r2

        return accuracy(y, self.predict(X)) if self.loss == "cross_entropy" else r2(y, self.predict(X))

    def derivation(self):
        """Backpropagation for this network's activation and loss (a Derivation)."""
        return backprop_derivation(self.activation, self.loss)


def _dact(activation: str, z, a):
    """g'(z) written with the unit's output a = g(z) where that is the textbook form."""
    return {"tanh": 1 - a**2, "sigmoid": a * (1 - a), "relu": sympy.Heaviside(z, 0)}[activation]


def backprop_derivation(activation: str = "tanh", loss: str = "cross_entropy"):
    """Backpropagation through a one-hidden-layer network, layer by layer (the deltas),
    then the recursion for deeper networks.

    Every formula is checked against the exact per-parameter gradient that symml derives
    from the loss of concrete networks (2 inputs, 3 hidden units; and two hidden layers for
    the recursion), at random points.

    >>> d = backprop_derivation("tanh")
    >>> d.verify()
    True
    """
    from ..calculus import diff as _d
    from ..steps.model import Derivation, Step, explain, values_agree

    if activation not in _ACTIVATIONS:
        raise ArgumentError(f"unknown activation {activation!r}; use {', '.join(_ACTIVATIONS)}")
    if loss not in ("cross_entropy", "squared"):
        raise ArgumentError(f"unknown loss {loss!r}; use 'cross_entropy' or 'squared'")
    g = _ACTIVATIONS[activation]
    i, j = sympy.symbols("i j", integer=True)
    x, W, b, z, a, w, delta = (sympy.IndexedBase(v) for v in ("x", "W", "b", "z", "a", "w", "delta"))
    zo, bo, yv, yhat = sympy.symbols("z_o b_o y yhat", real=True)
    d_o = sympy.Symbol("delta_o", real=True)
    L = sympy.Symbol("L")

    # concrete networks for the checks
    def concrete(layers):
        xs = sympy.symbols("x0:2", real=True)
        acts, Ws, bs, zs = list(xs), [], [], []
        for li, h in enumerate(layers):
            Wl = sympy.Matrix(len(acts), h, lambda p, q, li=li: sympy.Symbol(f"W{li}_{p}{q}", real=True))
            bl = [sympy.Symbol(f"b{li}_{q}", real=True) for q in range(h)]
            zl = [sum(Wl[p, q] * acts[p] for p in range(len(acts))) + bl[q] for q in range(h)]
            Ws.append(Wl), bs.append(bl), zs.append(zl)
            acts = [g(v) for v in zl]
        ws = [sympy.Symbol(f"w_{q}", real=True) for q in range(len(acts))]
        b_o, y_ = sympy.Symbol("b_o", real=True), sympy.Symbol("y", real=True)
        z_o = sum(wq * aq for wq, aq in zip(ws, acts, strict=True)) + b_o
        Lc = softplus(z_o) - y_ * z_o if loss == "cross_entropy" else (z_o - y_) ** 2 / 2
        out_delta = sigmoid(z_o) - y_ if loss == "cross_entropy" else z_o - y_
        return dict(x=xs, W=Ws, b=bs, z=zs, w=ws, bo=b_o, zo=z_o, L=Lc, delta=out_delta)

    def agree(pairs) -> bool:
        return all(values_agree(p, q, points=2, digits=16) for p, q in pairs)

    def dg(zv):
        return _dact(activation, zv, g(zv))

    def check_output_delta(step) -> bool:
        net = concrete([3])
        shown = getattr(step, "before", None)  # the step as shown (the result check has none)
        pairs = [(_d(net["L"], net["bo"]), net["delta"])]
        if shown is not None:
            pairs.append((_d(shown.expr, zo), step.after))
        return agree(pairs)

    def check_output_grads(step) -> bool:
        net = concrete([3])
        acts = [g(v) for v in net["z"][0]]
        return agree([(_d(net["L"], wq), net["delta"] * aq) for wq, aq in zip(net["w"], acts, strict=True)])

    def hidden_deltas(net):
        return [net["delta"] * wq * dg(zq) for wq, zq in zip(net["w"], net["z"][-1], strict=True)]

    def check_hidden_grads(step) -> bool:
        return _hidden_ok()

    @functools.lru_cache(maxsize=1)
    def _hidden_ok() -> bool:
        net = concrete([3])
        deltas = hidden_deltas(net)
        pairs = [(_d(net["L"], net["b"][0][q]), deltas[q]) for q in range(3)]
        pairs += [(_d(net["L"], net["W"][0][p, q]), deltas[q] * net["x"][p]) for p in range(2) for q in range(3)]
        return agree(pairs)

    def check_recursion(step) -> bool:
        net = concrete([2, 2])
        top = hidden_deltas(net)  # deltas of the second hidden layer
        W2 = net["W"][1]
        lower = [sum(W2[p, q] * top[q] for q in range(2)) * dg(net["z"][0][p]) for p in range(2)]
        pairs = [(_d(net["L"], net["W"][0][r, p]), lower[p] * net["x"][r]) for r in range(2) for p in range(2)]
        return agree(pairs)

    out = sigmoid(zo) if loss == "cross_entropy" else zo
    loss_expr = (softplus(zo) - yv * zo) if loss == "cross_entropy" else (zo - yv) ** 2 / 2
    out_delta = sigmoid(zo) - yv if loss == "cross_entropy" else zo - yv
    gname = {"tanh": "tanh", "sigmoid": "sigma", "relu": "relu"}[activation]
    steps = [
        Step("forward", None, None,
             explain("Forward pass for one row: hidden unit {j} computes {zj} and {aj}; the output "
                     "is {zo} with prediction {yh}.", j=j,
                     zj=sympy.Eq(z[j], sympy.Sum(W[i, j] * x[i], (i, 1, sympy.Symbol("d"))) + b[j]),
                     aj=sympy.Eq(a[j], g(z[j])), zo=sympy.Eq(zo, sympy.Sum(w[j] * a[j], (j, 1, sympy.Symbol("h"))) + bo),
                     yh=sympy.Eq(yhat, out)),
             check=False, detail="brief"),
        Step("loss", None, None,
             explain("The loss of the row is {L}" + (", the cross-entropy -(y log yhat + (1 - y) log(1 - yhat)) written "
                     "stably in terms of the logit." if loss == "cross_entropy" else "."),
                     L=sympy.Eq(L, loss_expr, evaluate=False)),
             check=False),
        Step("output_delta", sympy.Derivative(loss_expr, zo), out_delta,
             explain("Output delta: differentiate the loss with respect to the output's "
                     "pre-activation, {d}.", d=sympy.Eq(d_o, out_delta)),
             check=check_output_delta, detail="brief"),
        Step("output_gradients", None, None,
             explain("The output layer's gradients follow by the chain rule, since {dz}: "
                     "{gw} and {gb}.", dz=sympy.Eq(sympy.Symbol("dz_o/dw_j"), a[j]),
                     gw=sympy.Eq(sympy.Symbol("dL/dw_j"), d_o * a[j]), gb=sympy.Eq(sympy.Symbol("dL/db_o"), d_o)),
             check=check_output_grads),
        Step("hidden_delta", None, None,
             explain("Hidden delta: {zj} feeds the output through {w}, so {dj}, with {gp} for "
                     "the {g} activation.", zj=z[j], w=w[j],
                     dj=sympy.Eq(delta[j], d_o * w[j] * sympy.Symbol(f"{gname}'(z_j)")),
                     gp=sympy.Eq(sympy.Symbol(f"{gname}'(z_j)"), _dact(activation, z[j], a[j])), g=sympy.Symbol(gname)),
             check=check_hidden_grads, detail="brief"),
        Step("hidden_gradients", None, None,
             explain("And the hidden layer's gradients: {gw} and {gb}.",
                     gw=sympy.Eq(sympy.Symbol("dL/dW_ij"), delta[j] * x[i]), gb=sympy.Eq(sympy.Symbol("dL/db_j"), delta[j])),
             check=check_hidden_grads),
        Step("recursion", None, None,
             explain("With more layers the same rule repeats backwards: the delta of unit {p} "
                     "in layer l is {rule}; each weight's gradient is its delta times the "
                     "activation that feeds it.", p=i,
                     rule=sympy.Eq(sympy.Symbol("delta_i^(l)"),
                                   sympy.Sum(sympy.Symbol("W_ij^(l+1)") * sympy.Symbol("delta_j^(l+1)"), (j, 1, sympy.Symbol("h_(l+1)")))
                                   * sympy.Symbol(f"{gname}'(z_i^(l))"))),
             check=check_recursion),
    ]
    return Derivation(f"Backpropagation ({activation} hidden layer, {loss.replace('_', '-')} loss)",
                      "backprop", None, steps, out_delta, result_check=check_output_delta)  # fmt: skip
