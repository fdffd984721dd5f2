"""Dask: reduced compiled functions and fits over data in blocks of rows (symml._dask,
symml.fitting.dask_fit). References: the same compiled function / fit in memory, SciPy's
least_squares at tight tolerances, and sums written by hand in NumPy."""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import symml as sm
from symml.errors import ArgumentError, DataError, FitError, ShapeError, SymmlError

pytest.importorskip("dask", reason="the dask extra is not installed (pip install 'symml[dask]')")
import dask.array as da  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _logistic_data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = np.linspace(-1.0, 1.0, d)
    eta = X @ w + 0.3
    yb = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    yp = rng.poisson(np.exp(0.4 * eta)).astype(float)
    yl = eta + rng.normal(scale=0.5, size=n)
    return X, yb, yp, yl


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


# ------------------------------------------------------------------------------------------
# compiled functions on Dask arrays
# ------------------------------------------------------------------------------------------

_W, _X = sm.vector("w", 3), sm.vector("x", 3)
_B, _Y = sm.symbol("b"), sm.symbol("y")
_Z = sum(_W[i] * _X[i] for i in range(3)) + _B
_NLL = sm.softplus(_Z) - _Y * _Z
_PARAMS = [*_W, _B]
_VGH = sm.compile(
    [_NLL, sm.grad(_NLL, _PARAMS), sm.hessian(_NLL, _PARAMS)], [_W, _B, _X, _Y], reduce="sum"
)


def _hand_sums(w, b, X, y):
    z = X @ w + b
    p = 1 / (1 + np.exp(-z))
    Xa = np.column_stack([X, np.ones(len(X))])
    return (
        float(np.sum(np.logaddexp(0, z) - y * z)),
        Xa.T @ (p - y),
        (Xa * (p * (1 - p))[:, None]).T @ Xa,
    )


def test_reduced_function_sums_blocks_like_memory_and_by_hand():
    X, y, _, _ = _logistic_data(5000, 3)
    w, b = np.array([0.2, -0.1, 0.4]), 0.1
    mem = _VGH(w, b, X, y)
    lazy = _VGH(w, b, da.from_array(X, chunks=(700, 3)), da.from_array(y, chunks=1100))
    hand = _hand_sums(w, b, X, y)
    for m, lz, h in zip(mem, lazy, hand, strict=True):
        assert _rel(lz, m) < 1e-12
        assert _rel(lz, h) < 1e-12


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=6), st.booleans())
def test_any_chunking_gives_the_same_sums(chunks, numpy_y):
    n = sum(chunks)
    X, y, _, _ = _logistic_data(n, 3, seed=n)
    w, b = np.array([0.3, 0.2, -0.5]), -0.2
    Xd = da.from_array(X, chunks=(tuple(chunks), 3))
    yd = y if numpy_y else da.from_array(y, chunks=max(1, n // 3))
    for m, lz in zip(_hand_sums(w, b, X, y), _VGH(w, b, Xd, yd), strict=True):
        np.testing.assert_allclose(lz, m, rtol=1e-12, atol=1e-12)


def test_grad_form_mean_and_jtj_jtr():
    import sympy

    t, y, a, k = sm.symbol("t"), sm.symbol("y"), sm.symbol("a"), sm.symbol("k")
    r = y - a * sympy.exp(-k * t)
    J = [sm.diff(r, a), sm.diff(r, k)]
    f = sm.compile(
        [r**2, sympy.Matrix(2, 2, lambda i, j: J[i] * J[j]), sympy.Matrix([J[0] * r, J[1] * r])],
        [a, k, t, y],
        reduce="sum",
    )
    rng = np.random.default_rng(3)
    tv = rng.uniform(0, 3, 3000)
    yv = 2 * np.exp(-0.5 * tv) + rng.normal(scale=0.1, size=3000)
    e = np.exp(-0.7 * tv)
    res = yv - 1.5 * e
    Jh = np.column_stack([-e, 1.5 * tv * e])
    rss, JtJ, Jtr = f(1.5, 0.7, da.from_array(tv, chunks=512), da.from_array(yv, chunks=512))
    assert _rel(rss, res @ res) < 1e-12
    assert _rel(JtJ, Jh.T @ Jh) < 1e-12
    assert _rel(np.ravel(Jtr), Jh.T @ res) < 1e-12
    g = sm.compile("(y - a*x)^2", ["a", "x", "y"], grad=["a"], reduce="mean")
    xv = np.arange(10.0)
    value, (ga,) = g(2.0, da.from_array(xv, chunks=3), 2 * xv + 1)
    assert value == pytest.approx(1.0) and ga == pytest.approx(np.mean(-2 * xv))


def test_dask_call_errors():
    X, y, _, _ = _logistic_data(100, 3)
    rowwise = sm.compile("x^2", ["x"])
    with pytest.raises(ArgumentError, match="reduce='sum'"):
        rowwise(da.from_array(y, chunks=10))
    with pytest.raises(ShapeError, match="different numbers of rows"):
        _VGH(np.zeros(3), 0.0, da.from_array(X, chunks=(10, 3)), da.from_array(y[:50], chunks=10))
    with pytest.raises(ShapeError, match="one row axis"):
        _VGH(np.zeros(3), 0.0, da.from_array(X[0], chunks=3), da.from_array(y, chunks=10))
    unknown = da.from_array(y, chunks=10)[da.from_array(y, chunks=10) > 0.5]
    with pytest.raises(ShapeError, match="unknown"):
        _VGH(np.zeros(3), 0.0, da.from_array(X, chunks=(10, 3)), unknown)


def test_missing_dask_names_the_extra(monkeypatch):
    from symml._dask import require_dask

    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(SymmlError, match=r'pip install "symml\[dask\]"'):
        require_dask()


# ------------------------------------------------------------------------------------------
# fits: Dask against memory
# ------------------------------------------------------------------------------------------

N = 100_000


@pytest.fixture(scope="module")
def data():
    return _logistic_data(N, 3)


def _dask_cols(X, **cols):
    rows = max(len(X) // 6, 1)  # different chunks for x and y: aligned by the fit
    out = {"x": da.from_array(X, chunks=(rows, X.shape[1]))}
    out.update({k: da.from_array(v, chunks=rows + 7) for k, v in cols.items()})
    return out


@pytest.mark.parametrize(
    "model, column",
    [
        ("param b; y ~ dot(w, x) + b", 3),
        ("param b; y ~ Bernoulli(sigmoid(dot(w, x) + b))", 1),
        ("param b; y ~ Poisson(exp(dot(w, x) + b))", 2),
    ],
)
def test_dask_fit_equals_memory_fit(data, model, column):
    X, y = data[0], data[column]
    mem = sm.fit(model, {"x": X, "y": y})
    lazy = sm.fit(model, _dask_cols(X, y=y))
    assert lazy.success and lazy.nobs == N and "dask" in lazy.method
    assert _rel(lazy.x, mem.x) < 1e-10
    assert _rel(lazy.stderr_flat, mem.stderr_flat) < 1e-10
    assert lazy.loglik == pytest.approx(mem.loglik, rel=1e-12)
    assert lazy.names == mem.names
    report = lazy.report()
    assert "dask" in report and "w[2]" in report and str(N) in report
    lo, hi = lazy.conf_int()["b"]
    mlo, mhi = mem.conf_int()["b"]
    assert _rel([lo, hi], [mlo, mhi]) < 1e-9


@pytest.mark.parametrize(
    "model",
    [
        "param a, b, s = 1 in [0, inf]; y ~ Normal(a + b*x, s)",
        "param a, b; y ~ Binomial(t, sigmoid(a + b*x))",
        "param a, b; y ~ Exponential(exp(a + b*x))",
        "param a, b; log(e) ~ a + b*x",
    ],
)
def test_other_distributions_and_a_response_expression(model):
    rng = np.random.default_rng(4)
    n = 5000
    x, t = rng.normal(size=n), rng.integers(1, 10, n).astype(float)
    cols = {
        "x": x,
        "t": t,
        "e": rng.exponential(1 / np.exp(0.2 + 0.5 * x)),
        "y": {
            "Normal": 1 + 2 * x + rng.normal(scale=0.7, size=n),
            "Binomial": rng.binomial(t.astype(int), 1 / (1 + np.exp(-0.3 - 0.8 * x))),
            "Exponential": rng.exponential(1 / np.exp(0.2 + 0.5 * x)),
            "log": np.zeros(n),
        }[next(k for k in ("Normal", "Binomial", "Exponential", "log") if k in model)],
    }
    mem = sm.fit(model, cols)
    lazy = sm.fit(model, {**cols, "x": da.from_array(x, chunks=1200)})
    assert lazy.success
    assert _rel(lazy.x, mem.x) < 1e-10
    assert _rel(lazy.stderr_flat, mem.stderr_flat) < 1e-10
    assert lazy.loglik == pytest.approx(mem.loglik, rel=1e-12)


def test_dask_dataframe_and_weights_equal_memory(data):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, _, _, yl = data
    rng = np.random.default_rng(5)
    wts = rng.uniform(0.5, 2.0, N)
    frame = pd.DataFrame({"u": X[:, 0], "v": X[:, 1], "y": yl, "wt": wts})
    model = "param a, b, c; y ~ a + b*u + c*v"
    mem = sm.fit(model, frame, weights="wt")
    lazy = sm.fit(model, dd.from_pandas(frame, npartitions=4), weights="wt")
    assert _rel(lazy.x, mem.x) < 1e-10
    assert _rel(lazy.stderr_flat, mem.stderr_flat) < 1e-10
    assert lazy.loglik == pytest.approx(mem.loglik, rel=1e-12)
    # weights as a Dask array next to Dask columns, and a prediction on new in-memory rows
    cols = {"u": da.from_array(X[:, 0], chunks=30_000), "v": X[:, 1], "y": da.from_array(yl)}
    lazy2 = sm.fit(model, cols, weights=da.from_array(wts, chunks=40_000))
    assert _rel(lazy2.x, mem.x) < 1e-10
    new = {"u": np.array([0.0, 1.0]), "v": np.array([1.0, -1.0])}
    np.testing.assert_allclose(lazy2.predict(new), mem.predict(new), rtol=1e-10)


def test_nonlinear_least_squares_matches_tight_scipy():
    import scipy.optimize

    rng = np.random.default_rng(2)
    t = rng.uniform(0, 5, N)
    y = 2.0 * np.exp(-0.7 * t) + 0.5 + rng.normal(scale=0.05, size=N)
    p0 = {"a": 1.0, "k": 1.0, "c": 0.0}
    lazy = sm.fit("y ~ a*exp(-k*t) + c", {"t": da.from_array(t, chunks=30_000), "y": y}, p0)

    def res(p):
        return y - (p[0] * np.exp(-p[1] * t) + p[2])

    def jac(p):
        e = np.exp(-p[1] * t)
        return np.column_stack([-e, p[0] * t * e, -np.ones_like(t)])

    ref = scipy.optimize.least_squares(res, [1.0, 1.0, 0.0], jac=jac, method="lm").x
    for _ in range(5):  # Gauss-Newton to the round-off floor, each step by QR (lstsq of J)
        ref = ref - np.linalg.lstsq(jac(ref), res(ref), rcond=None)[0]
    assert _rel(lazy.x, ref) < 1e-11
    J = jac(ref)
    cov = np.linalg.inv(J.T @ J) * (res(ref) @ res(ref)) / (N - 3)
    assert _rel(lazy.stderr_flat, np.sqrt(np.diag(cov))) < 1e-9
    # the in-memory engine (no extended-precision polish at this size) refines in double
    # precision to the round-off floor, so both land on the same optimum
    mem = sm.fit("y ~ a*exp(-k*t) + c", {"t": t, "y": y}, p0)
    assert mem.success and _rel(mem.x, ref) < 1e-11
    assert _rel(lazy.x, mem.x) < 1e-10
    assert _rel(lazy.stderr_flat, mem.stderr_flat) < 1e-10


def test_dask_fit_errors(data):
    X, yb, yl = data[0][:5000], data[1][:5000], data[3][:5000]
    model = "param b; y ~ Bernoulli(sigmoid(dot(w, x) + b))"
    bad = yl.copy()
    bad[[10, 20]] = np.nan
    with pytest.raises(DataError, match="NaN or infinite.*'y' in 2 row"):
        sm.fit("param b; y ~ dot(w, x) + b", _dask_cols(X, y=bad))
    with pytest.raises(DataError, match="Bernoulli needs the response"):
        sm.fit(model, _dask_cols(X, y=yl))
    with pytest.raises(ArgumentError, match="missing='keep' is not one of"):
        sm.fit(model, _dask_cols(X, y=yb), missing="keep")
    with pytest.raises(DataError, match="no rows left after dropping 5000"):
        sm.fit(model, _dask_cols(X, y=np.full(5000, np.nan)), missing="drop")
    with pytest.raises(ArgumentError, match="method='bfgs' is not available"):
        sm.fit(model, _dask_cols(X, y=yb), method="bfgs")
    with pytest.raises(DataError, match="did you mean 'y'"):
        sm.fit("param b; yy ~ Bernoulli(sigmoid(dot(w, x) + b))", _dask_cols(X, y=yb))
    separated = (X[:, 0] > 0).astype(float)
    with pytest.raises(FitError, match="diverge"):
        sm.fit(model, _dask_cols(X, y=separated))


@pytest.mark.parametrize(
    "model, column, p0",
    [
        ("param b; y ~ dot(w, x) + b", 3, None),
        ("param b; y ~ Bernoulli(sigmoid(dot(w, x) + b))", 1, None),
        ("param b; y ~ Poisson(exp(dot(w, x) + b))", 2, None),
        ("y ~ a*exp(-k*u) + c", "exp", {"a": 1.0, "k": 1.0, "c": 0.0}),
    ],
)
def test_profile_intervals_and_dropped_rows_equal_memory(data, model, column, p0):
    n = 6000
    X = data[0][:n, :2]
    if column == "exp":
        rng = np.random.default_rng(8)
        u = rng.uniform(0, 5, n)
        cols = {"u": u, "y": 2.0 * np.exp(-0.7 * u) + 0.5 + rng.normal(scale=0.05, size=n)}
    else:
        cols = {"x": X, "y": data[column][:n].copy()}
    mem = sm.fit(model, cols, p0)
    lazy = sm.fit(
        model, {k: da.from_array(v, chunks=(1000,) + v.shape[1:]) for k, v in cols.items()}, p0
    )
    # profile intervals: each trial value re-fits the others through the Dask sums
    pm, pl = mem.conf_int(method="profile"), lazy.conf_int(method="profile")
    assert set(pm) == set(pl)
    for k in pm:
        assert _rel(pl[k], pm[k]) < 1e-9, k
    wald = lazy.conf_int()
    assert all(_rel(pl[k], wald[k]) < 0.05 for k in pm)  # near Wald at this n, not equal
    name = lazy.names[0]
    grid = lazy.x[0] + np.array([-2.0, 0.5, 1.5]) * lazy.stderr_flat[0]
    np.testing.assert_allclose(lazy.profile(name, grid), mem.profile(name, grid), rtol=1e-8)
    # missing="drop": NaN / inf rows dropped per block, as in memory
    bad = {k: v.copy() for k, v in cols.items()}
    first = next(iter(bad))
    bad[first][[3, 1500, 1501]] = np.nan
    bad["y"][[7, 5999]] = np.inf
    mem_d = sm.fit(model, bad, p0, missing="drop")
    lazy_d = sm.fit(
        model,
        {k: da.from_array(v, chunks=(700,) + v.shape[1:]) for k, v in bad.items()},
        p0,
        missing="drop",
    )
    assert lazy_d.dropped == mem_d.dropped == 5 and lazy_d.nobs == mem_d.nobs == n - 5
    assert _rel(lazy_d.x, mem_d.x) < 1e-10
    assert _rel(lazy_d.stderr_flat, mem_d.stderr_flat) < 1e-10
    assert lazy_d.loglik == pytest.approx(mem_d.loglik, rel=1e-12)
    with pytest.raises(DataError, match="missing='drop'"):
        sm.fit(
            model,
            {k: da.from_array(v, chunks=700) if v.ndim == 1 else v for k, v in bad.items()},
            p0,
        )


def test_dropping_rows_from_a_dask_dataframe_with_weights(data):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, _, _, yl = data
    n = 8000
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"u": X[:n, 0], "v": X[:n, 1], "y": yl[:n], "wt": rng.uniform(0.5, 2, n)})
    frame.loc[[4, 400], "u"] = np.nan
    frame.loc[[50], "wt"] = np.nan
    frame.loc[[60], "unused"] = np.nan  # a column the model does not use: its rows stay
    model = "param a, b, c; y ~ a + b*u + c*v"
    mem = sm.fit(model, frame, weights="wt", missing="drop")
    lazy = sm.fit(model, dd.from_pandas(frame, npartitions=3), weights="wt", missing="drop")
    assert lazy.dropped == mem.dropped == 3
    assert _rel(lazy.x, mem.x) < 1e-10
    assert _rel(lazy.stderr_flat, mem.stderr_flat) < 1e-10


# ------------------------------------------------------------------------------------------
# the benchmark's out-of-core path at 10^6 rows (and the benchmark itself can't rot)
# ------------------------------------------------------------------------------------------


def _bench():
    path = ROOT / "benchmarks" / "bench_dask.py"
    spec = importlib.util.spec_from_file_location("bench_dask", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_out_of_core_logistic_at_a_million_rows():
    bench = _bench()
    X, y = bench.make_data(1_000_000, 4, chunk=125_000, seed=7)  # lazy: never all in memory
    assert isinstance(X, da.Array) and X.numblocks[0] == 8
    lazy = bench.fit_lazy(X, y)
    mem = sm.fit(bench.MODEL, {"x": X.compute(), "y": y.compute()})
    assert lazy.success
    assert _rel(lazy.x, mem.x) < 1e-10
    assert _rel(lazy.stderr_flat, mem.stderr_flat) < 1e-10


def test_benchmark_script_runs_small():
    bench = _bench()
    out = bench.main(["--rows", "20000", "--features", "3", "--chunk", "5000"])
    assert out["rows"] == 20000 and out["success"]
    assert out["peak_mb"] > 0


# ------------------------------------------------------------------------------------------
# a dask.distributed cluster of two worker processes on the loopback interface
# ------------------------------------------------------------------------------------------


def test_fit_through_a_local_cluster(data):
    distributed = pytest.importorskip("distributed")
    X, yb, _, _ = data
    n = 20_000
    model = "param b; y ~ Bernoulli(sigmoid(dot(w, x) + b))"
    mem = sm.fit(model, {"x": X[:n], "y": yb[:n]})
    with warnings.catch_warnings():
        # distributed may warn about ports, event loops or closing comms on shutdown
        warnings.filterwarnings("ignore", module=r"(distributed|tornado|asyncio)(\..*)?")
        warnings.filterwarnings("ignore", category=ResourceWarning)
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            workers = client.scheduler_info()["workers"]
            assert len(workers) == 2 and all("127.0.0.1" in a for a in workers)
            with distributed.get_task_stream(client) as tasks:
                lazy = sm.fit(model, _dask_cols(X[:n], y=yb[:n]))
            ran_on = {t["worker"] for t in tasks.data}
    assert ran_on and ran_on <= set(workers)  # the passes ran on the cluster's workers
    assert _rel(lazy.x, mem.x) < 1e-10
    assert _rel(lazy.stderr_flat, mem.stderr_flat) < 1e-10


def test_passes_over_the_data_do_not_spend_the_time_budget():
    import time

    from symml._limits import budgeted, limits, untimed

    @budgeted("a test call")
    def work(paused: bool):
        if paused:
            with untimed():
                time.sleep(0.6)  # the length of the data, not of the input
        else:
            time.sleep(0.6)
        return "done"

    with limits(seconds=0.3):
        assert work(True) == "done"
        with pytest.raises(sm.LimitError, match="time budget"):
            work(False)
