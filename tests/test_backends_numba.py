"""The Numba backend's block scheduling: a thread pool over chunks of blocks of rows.

References: the NumPy backend (and sums written by hand); the result must not depend on the
number of threads, the chunk size, or the way the blocks are shared out (bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

import symml as sm

pytest.importorskip("numba", reason='the numba backend needs pip install "symml[numba]"')
import numba  # noqa: E402

from symml.backends import numba as nbk  # noqa: E402

_PROG = sm.parse(
    "param w[4] = 0, b = 0\ndata x[4], y\nz = dot(w, x) + b\nloss = softplus(z) - y*z\n"
)
_ARGS = ["w", "b", "x", "y"]


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    w = np.array([0.5, -0.2, 0.1, 0.3])
    y = (rng.random(n) < scipy.special.expit(X @ w)).astype(float)
    return w, X, y


def _hand(w, b, X, y):
    z = X @ w + b
    r = scipy.special.expit(z) - y
    return float(np.sum(np.logaddexp(0.0, z) - y * z)), X.T @ r, float(r.sum())


@pytest.mark.parametrize("n", [0, 1, nbk.BLOCK - 1, nbk.BLOCK, 3 * nbk.BLOCK + 5, 40_000])
def test_reduced_kernel_equals_numpy_at_every_block_boundary(n):
    f = sm.compile(_PROG["loss"], _ARGS, grad=["w", "b"], reduce="sum", backend="numba")
    ref = sm.compile(_PROG["loss"], _ARGS, grad=["w", "b"], reduce="sum")
    w, X, y = _data(n, seed=n)
    v, (gw, gb) = f(w, 0.2, X, y)
    v0, (gw0, gb0) = ref(w, 0.2, X, y)
    hv, hgw, hgb = _hand(w, 0.2, X, y)
    assert float(v) == pytest.approx(v0, rel=1e-12, abs=1e-300)
    assert float(v) == pytest.approx(hv, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(gw, gw0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, hgw, rtol=1e-12, atol=1e-12)
    assert float(gb) == pytest.approx(gb0, rel=1e-12, abs=1e-12)


def test_sums_do_not_depend_on_threads_or_chunks(monkeypatch):
    f = sm.compile(_PROG["loss"], _ARGS, grad=["w", "b"], reduce="sum", backend="numba")
    w, X, y = _data(25 * nbk.BLOCK + 17, seed=3)
    first = f(w, -0.1, X, y)
    runs = []
    old = numba.get_num_threads()
    try:
        for threads in (1, old):
            numba.set_num_threads(threads)
            for chunk in (1, 3, 64):
                monkeypatch.setattr(nbk, "CHUNK", chunk)
                runs.append(f(w, -0.1, X, y))
    finally:
        numba.set_num_threads(old)
    for r in runs:
        assert float(r[0]) == float(first[0])  # bit for bit
        assert np.array_equal(r[1][0], first[1][0]) and float(r[1][1]) == float(first[1][1])


def test_rowwise_kernel_over_many_blocks_and_threads_from_python():
    from concurrent.futures import ThreadPoolExecutor

    f = sm.compile(_PROG["loss"], _ARGS, grad=["w", "b"], backend="numba")
    ref = sm.compile(_PROG["loss"], _ARGS, grad=["w", "b"])
    w, X, y = _data(5 * nbk.BLOCK + 3, seed=4)
    v, (gw, gb) = f(w, 0.3, X, y)
    v0, (gw0, gb0) = ref(w, 0.3, X, y)
    np.testing.assert_allclose(v, v0, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gw, gw0, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gb, gb0, rtol=1e-13, atol=1e-15)
    # callers on several threads share the pool without deadlock or mixing results
    with ThreadPoolExecutor(3) as ex:
        outs = list(ex.map(lambda s: f(w * s, 0.3, X, y)[0], [1.0, 0.5, 2.0]))
    for s, o in zip([1.0, 0.5, 2.0], outs, strict=True):
        np.testing.assert_allclose(o, ref(w * s, 0.3, X, y)[0], rtol=1e-13, atol=1e-15)
