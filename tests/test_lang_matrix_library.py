"""The mathematics library as functions of the language.

Each function is checked three ways: the language's answer, the Python API's answer on the
same input, and an independent reference (NumPy, SciPy or SymPy computed directly).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import sympy

import symml as sm
from symml import info, linalg, markov, prob
from symml.errors import ArgumentError, DerivationError, ShapeError, SymmlError, UndefinedNameError
from symml.lang.transform import FUNCTION_NAMES

A_TEXT = "[[4, 1, 0], [1, 3, 1], [0, 1, 2]]"
A_NP = np.array([[4.0, 1, 0], [1, 3, 1], [0, 1, 2]])
B_TEXT = "[1, 2, 3]"
B_NP = np.array([1.0, 2, 3])
P_TEXT = "[[1/2, 1/2, 0], [1/4, 1/2, 1/4], [0, 1/3, 2/3]]"
P_NP = np.array([[1 / 2, 1 / 2, 0], [1 / 4, 1 / 2, 1 / 4], [0, 1 / 3, 2 / 3]])
ABS_TEXT = "[[1, 0, 0, 0], [1/2, 0, 1/2, 0], [0, 1/2, 0, 1/2], [0, 0, 0, 1]]"


def val(text):
    return sm.expr(text)


def num(v):
    """A language value as a float array (or float)."""
    if isinstance(v, sympy.MatrixBase):
        return np.array(v.evalf(30).tolist(), dtype=float)
    return float(sympy.N(v, 30))


def col(v):
    return num(v).reshape(-1)


def test_every_library_function_is_a_language_name():
    from symml.lang.library import LIBRARY

    assert set(LIBRARY) <= set(FUNCTION_NAMES)


# -- linear algebra --------------------------------------------------------------------------
def test_solve():
    v = val(f"solve({A_TEXT}, {B_TEXT})")
    assert v == linalg.solve(A_TEXT, B_TEXT)
    np.testing.assert_allclose(col(v), np.linalg.solve(A_NP, B_NP), rtol=1e-12)


def test_solve_singular_says_so():
    with pytest.raises(ArgumentError, match="singular"):
        val("solve([[1, 2], [2, 4]], [1, 2])")


def test_eigenvalues_and_eigenvectors():
    vals = val(f"eigenvalues({A_TEXT})")
    vecs = val(f"eigenvectors({A_TEXT})")
    ref = np.linalg.eigvalsh(A_NP)
    np.testing.assert_allclose(np.sort(col(vals)), ref, rtol=1e-12)
    api = linalg.eig(A_TEXT)
    assert [e.value for e in api] == list(vals)
    V = num(vecs)
    for j, lam in enumerate(col(vals)):  # A v = lambda v, column by column
        np.testing.assert_allclose(A_NP @ V[:, j], lam * V[:, j], atol=1e-10)


def test_singular_values():
    s = val("singular_values([[3, 0], [4, 5]])")
    np.testing.assert_allclose(col(s), np.linalg.svd([[3.0, 0], [4, 5]], compute_uv=False))
    assert list(s) == list(linalg.svd("[[3, 0], [4, 5]]")[1])


def test_gram_schmidt_both_forms():
    Q1 = val("gram_schmidt([1, 1, 0], [1, 0, 1], [0, 1, 1])")
    Q2 = val("gram_schmidt([[1, 1, 0], [1, 0, 1], [0, 1, 1]]')")  # the columns of a matrix
    assert Q1 == Q2
    api = linalg.gram_schmidt(["[1, 1, 0]", "[1, 0, 1]", "[0, 1, 1]"])
    assert [list(Q1[:, j]) for j in range(3)] == [list(q) for q in api]
    Qn = num(Q1)
    np.testing.assert_allclose(Qn.T @ Qn, np.eye(3), atol=1e-12)
    # same column space, same orientation as QR (up to signs)
    Qr, _ = np.linalg.qr(np.array([[1.0, 1, 0], [1, 0, 1], [0, 1, 1]]).T)
    np.testing.assert_allclose(np.abs(Qn), np.abs(Qr), atol=1e-12)


def test_projections():
    p = val("project([1, 2, 3], [1, 1, 0])")
    u, v = np.array([1.0, 2, 3]), np.array([1.0, 1, 0])
    np.testing.assert_allclose(col(p), u @ v / (v @ v) * v)
    assert p == linalg.project("[1, 2, 3]", "[1, 1, 0]")
    Pm = val("projection_matrix([[1, 0], [1, 1], [0, 1]])")
    Am = np.array([[1.0, 0], [1, 1], [0, 1]])
    np.testing.assert_allclose(num(Pm), Am @ np.linalg.pinv(Am), atol=1e-12)


def test_positive_definite():
    assert val(f"is_positive_definite({A_TEXT})") is sympy.true
    assert val("is_positive_definite([[1, 2], [2, 1]])") is sympy.false
    np.linalg.cholesky(A_NP)  # the reference: a Cholesky factor exists
    assert linalg.is_positive_definite(A_TEXT) is True
    with pytest.raises(DerivationError, match="cannot be decided"):
        val("is_positive_definite([[a, 0], [0, 1]])")


@pytest.mark.parametrize("ord_text, ord_np", [("1", 1), ("2", 2), ("inf", np.inf)])
def test_vector_norms(ord_text, ord_np):
    v = val(f"norm([3, -4, 12], {ord_text})")
    assert float(v) == pytest.approx(np.linalg.norm([3, -4, 12], ord_np))
    assert v == linalg.norm("[3, -4, 12]", ord_np if ord_np != np.inf else "inf")


def test_matrix_norms():
    assert num(val("norm([[1, 2], [3, 4]], fro)")) == pytest.approx(
        np.linalg.norm([[1, 2], [3, 4]])
    )
    assert num(val("norm([[1, 2], [3, 4]], 1)")) == pytest.approx(
        np.linalg.norm([[1, 2], [3, 4]], 1)
    )
    with pytest.raises(ArgumentError, match="ord"):
        val("norm([1, 2], 3)")


# -- probability ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "dist, args, frozen, at",
    [
        ("Normal", "1, 2", scipy.stats.norm(1, 2), 0.5),
        ("Exponential", "3", scipy.stats.expon(scale=1 / 3), 0.5),
        ("Beta", "2, 5", scipy.stats.beta(2, 5), 0.25),
        ("Gamma", "2, 3", scipy.stats.gamma(2, scale=3), 1.5),
        ("Uniform", "0, 4", scipy.stats.uniform(0, 4), 1.0),
    ],
)
def test_continuous_pdf_cdf_logpdf(dist, args, frozen, at):
    D = getattr(prob, dist)(*[sympy.Integer(a) for a in args.split(",")])
    for fn, ref in (("pdf", frozen.pdf), ("logpdf", frozen.logpdf), ("cdf", frozen.cdf)):
        v = val(f"{fn}({dist}({args}), {at})")
        assert num(v) == pytest.approx(ref(at), rel=1e-10)
        assert sympy.simplify(v - getattr(D, fn)(sympy.nsimplify(at))) == 0
    assert num(val(f"mean({dist}({args}))")) == pytest.approx(frozen.mean())
    assert num(val(f"variance({dist}({args}))")) == pytest.approx(frozen.var())
    assert num(val(f"std({dist}({args}))")) == pytest.approx(frozen.std())
    assert num(val(f"entropy({dist}({args}))")) == pytest.approx(frozen.entropy(), rel=1e-10)


@pytest.mark.parametrize(
    "dist, args, frozen, k",
    [
        ("Poisson", "3", scipy.stats.poisson(3), 2),
        ("Binomial", "5, 1/3", scipy.stats.binom(5, 1 / 3), 2),
        ("Bernoulli", "1/4", scipy.stats.bernoulli(1 / 4), 1),
        (
            "Categorical",
            "[1/2, 1/3, 1/6]",
            scipy.stats.rv_discrete(values=([0, 1, 2], [1 / 2, 1 / 3, 1 / 6])),
            1,
        ),
    ],
)
def test_discrete_pmf_cdf(dist, args, frozen, k):
    assert num(val(f"pdf({dist}({args}), {k})")) == pytest.approx(frozen.pmf(k))
    assert num(val(f"cdf({dist}({args}), {k})")) == pytest.approx(frozen.cdf(k))
    assert num(val(f"mean({dist}({args}))")) == pytest.approx(frozen.mean())
    assert num(val(f"variance({dist}({args}))")) == pytest.approx(frozen.var())


def test_symbolic_parameters_give_closed_forms():
    mu, s, x = sympy.symbols("mu s x", real=True)
    assert val("pdf(Normal(mu, s), x)") == prob.Normal(mu, s).pdf(x)
    assert val("variance(Binomial(n, p))") == prob.Binomial("n", "p").var
    # the density integrates to 1: SymPy's own integral as the reference
    dens = val("pdf(Normal(0, 1), x)")
    assert sympy.integrate(dens, (x, -sympy.oo, sympy.oo)) == 1


def test_bad_distribution_parameters_and_placement():
    with pytest.raises(SymmlError, match="Bernoulli"):
        val("pdf(Bernoulli(2), 1)")
    with pytest.raises(ArgumentError, match="fitting knows"):
        sm.parse("data y\nparam a, b\ny ~ Beta(a, b)")
    with pytest.raises(ArgumentError, match="distribution"):
        val("Normal(0, 1) + 1")
    with pytest.raises(ArgumentError, match="needs a distribution"):
        val("pdf(2, 1)")


# -- descriptive statistics ----------------------------------------------------------------
DATA = [2.5, 1.0, 4.0, 7.5, 3.0]
DATA_TEXT = "[5/2, 1, 4, 15/2, 3]"


def test_descriptive_statistics_agree_with_numpy_and_symml_stats():
    d = sm.stats.describe(DATA).values
    assert (
        num(val(f"mean({DATA_TEXT})")) == pytest.approx(np.mean(DATA)) == pytest.approx(d["mean"])
    )
    assert (
        num(val(f"median({DATA_TEXT})"))
        == pytest.approx(np.median(DATA))
        == pytest.approx(d["median"])
    )
    assert (
        num(val(f"variance({DATA_TEXT})"))
        == pytest.approx(np.var(DATA, ddof=1))
        == pytest.approx(d["var"])
    )
    assert (
        num(val(f"std({DATA_TEXT})"))
        == pytest.approx(np.std(DATA, ddof=1))
        == pytest.approx(d["std"])
    )
    assert num(val("median([4, 1, 3])")) == 3


def test_covariance_and_correlation():
    x, y = [1, 2, 3, 4], [2, 4, 5, 9]
    c = val("cov([1, 2, 3, 4], [2, 4, 5, 9])")
    r = val("corr([1, 2, 3, 4], [2, 4, 5, 9])")
    assert (
        num(c)
        == pytest.approx(np.cov(x, y)[0, 1])
        == pytest.approx(sm.stats.covariance(x, y).statistic)
    )
    assert (
        num(r)
        == pytest.approx(np.corrcoef(x, y)[0, 1])
        == pytest.approx(sm.stats.correlation(x, y).statistic)
    )
    with pytest.raises(ShapeError, match="entries"):
        val("cov([1, 2], [1, 2, 3])")
    with pytest.raises(ArgumentError, match="numbers"):
        val("median([a, b])")


# -- information theory ----------------------------------------------------------------------
def test_entropy_cross_entropy_kl_of_vectors():
    p, q = np.array([1 / 2, 1 / 4, 1 / 4]), np.array([1 / 3, 1 / 3, 1 / 3])
    P, Q = "[1/2, 1/4, 1/4]", "[1/3, 1/3, 1/3]"
    assert num(val(f"entropy({P})")) == pytest.approx(scipy.stats.entropy(p))
    assert num(val(f"kl({P}, {Q})")) == pytest.approx(scipy.stats.entropy(p, q))
    assert num(val(f"cross_entropy({P}, {Q})")) == pytest.approx(-(p * np.log(q)).sum())
    assert val(f"kl({P}, {Q})") == info.kl(P, Q)
    assert val(f"entropy({P})") == info.entropy(P)


def test_kl_of_normals_is_the_closed_form():
    v = val("kl(Normal(m1, s1), Normal(m2, s2))")
    assert v == info.kl(prob.Normal("m1", "s1"), prob.Normal("m2", "s2"))
    at = {
        sympy.Symbol(k, real=True): x
        for k, x in (("m1", 0.3), ("s1", 1.2), ("m2", -0.5), ("s2", 0.7))
    }
    # the reference: numeric quadrature of p log(p/q) with SciPy
    from scipy.integrate import quad

    p, q = scipy.stats.norm(0.3, 1.2), scipy.stats.norm(-0.5, 0.7)
    ref = quad(lambda t: p.pdf(t) * (p.logpdf(t) - q.logpdf(t)), -30, 30)[0]
    assert float(v.subs(at)) == pytest.approx(ref, rel=1e-9)


def test_mutual_information():
    J = np.array([[0.3, 0.1], [0.2, 0.4]])
    v = val("mutual_information([[3/10, 1/10], [1/5, 2/5]])")
    px, py = J.sum(1), J.sum(0)
    ref = sum(J[i, j] * np.log(J[i, j] / (px[i] * py[j])) for i in range(2) for j in range(2))
    assert num(v) == pytest.approx(ref)
    assert v == info.mutual_information("[[3/10, 1/10], [1/5, 2/5]]")


# -- Markov chains -------------------------------------------------------------------------
def test_stationary_and_n_step():
    pi = val(f"stationary({P_TEXT})")
    assert list(pi) == list(markov.MarkovChain(P_TEXT).stationary()[0])
    w, V = np.linalg.eig(P_NP.T)  # the reference: the left eigenvector of eigenvalue 1
    ref = np.real(V[:, np.argmin(abs(w - 1))])
    np.testing.assert_allclose(col(pi), ref / ref.sum(), rtol=1e-12)
    P3 = val(f"n_step({P_TEXT}, 3)")
    np.testing.assert_allclose(num(P3), np.linalg.matrix_power(P_NP, 3), rtol=1e-12)


def test_two_closed_classes_give_one_row_each():
    pis = val("stationary([[1, 0, 0], [1/2, 0, 1/2], [0, 0, 1]])")
    assert pis.shape == (2, 3)
    np.testing.assert_allclose(num(pis) @ np.array([[1, 0, 0], [0.5, 0, 0.5], [0, 0, 1]]), num(pis))


def test_absorbing_chain():
    B = val(f"absorption_probabilities({ABS_TEXT})")
    t = val(f"expected_steps({ABS_TEXT})")
    N = val(f"fundamental_matrix({ABS_TEXT})")
    Pn = np.array([[1, 0, 0, 0], [0.5, 0, 0.5, 0], [0, 0.5, 0, 0.5], [0, 0, 0, 1]])
    Q, R = Pn[1:3, 1:3], Pn[1:3][:, [0, 3]]
    Nref = np.linalg.inv(np.eye(2) - Q)  # the textbook fundamental matrix
    np.testing.assert_allclose(num(N), Nref)
    np.testing.assert_allclose(num(B), Nref @ R)
    np.testing.assert_allclose(col(t), Nref.sum(1))
    assert B == markov.MarkovChain(ABS_TEXT).absorption_probabilities()


def test_period_and_bad_chains():
    assert val("period([[0, 1, 0], [0, 0, 1], [1, 0, 0]], 0)") == 3
    assert val(f"period({P_TEXT}, 1)") == 1
    with pytest.raises(SymmlError, match="row"):
        val("stationary([[1/2, 1/3], [0, 1]])")


# -- convexity -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "f, rest, want",
    [
        ("x^2 + y^2", "", True),
        ("exp(x)", "", True),
        ("log(exp(x) + exp(y))", "", True),
        ("x^3", ", x", False),
        ("x*y", ", [x, y]", False),
        ("-log(x)", ", x, x > 0", True),
    ],
)
def test_is_convex(f, rest, want):
    v = val(f"is_convex({f}{rest})")
    assert v is (sympy.true if want else sympy.false)
    assert sm.convex.is_convex(f, None, "x > 0" if "x > 0" in rest else None).convex is want
    # the reference: the smallest eigenvalue of SymPy's Hessian at sample points (NumPy)
    e = val(f)
    vs = sorted(e.free_symbols, key=str)
    H = sympy.lambdify(vs, sympy.hessian(e, vs))
    low = 0.1 if want else -3.0  # inside the domain x > 0 for -log(x)
    pts = np.random.default_rng(0).uniform(low, 3, size=(50, len(vs)))
    smallest = min(
        np.linalg.eigvalsh(np.atleast_2d(np.array(H(*p), dtype=float))).min() for p in pts
    )
    assert bool(smallest >= -1e-9) is want


def test_library_errors():
    with pytest.raises(ArgumentError, match="takes 2"):
        val("solve([[1]])")
    with pytest.raises(ShapeError, match="vector or a matrix"):
        val("solve(2, 3)")
    with pytest.raises(UndefinedNameError, match="did you mean 'stationary'"):
        val("stationery([[1]])")
    with pytest.raises(ArgumentError, match="built-in"):
        sm.parse("kl = 2")
    with pytest.raises(ArgumentError, match="whole number"):
        val(f"period({P_TEXT}, 1/2)")


# -- results with several parts: SVD factors, tests and intervals, Markov classes ---------------
def _floats(m):
    return np.array([float(e) for e in m], dtype=float)


def test_svd_factors_reconstruct_the_matrix():
    A = [[3, 1], [1, 2]]
    U, V = val("svd_u([[3, 1], [1, 2]])"), val("svd_v([[3, 1], [1, 2]])")
    s = _floats(val("singular_values([[3, 1], [1, 2]])"))
    Un = np.array(U.evalf(), dtype=float)
    Vn = np.array(V.evalf(), dtype=float)
    np.testing.assert_allclose(Un @ np.diag(s) @ Vn.T, A, atol=1e-12)
    np.testing.assert_allclose(s, np.linalg.svd(np.array(A, float), compute_uv=False))
    np.testing.assert_allclose(Un.T @ Un, np.eye(2), atol=1e-12)


@pytest.mark.parametrize(
    "text, ref",
    [
        ("ttest_1samp([1, 2, 3, 5], 1)",
         lambda: scipy.stats.ttest_1samp([1, 2, 3, 5], 1)),
        ("ttest_ind([1, 2, 3], [2, 4, 7])",
         lambda: scipy.stats.ttest_ind([1, 2, 3], [2, 4, 7])),
    ],
)  # fmt: skip
def test_t_tests_match_scipy(text, ref):
    got = _floats(val(text))
    r = ref()
    np.testing.assert_allclose(got, [r.statistic, r.pvalue], rtol=1e-12)


def test_ztest_and_intervals_match_the_formulas():
    xs = np.array([1.0, 2.0, 3.0])
    z = (xs.mean() - 0) / (1 / np.sqrt(3))
    np.testing.assert_allclose(
        _floats(val("ztest([1, 2, 3], 0, 1)")), [z, 2 * scipy.stats.norm.sf(z)], rtol=1e-12
    )
    lo, hi = scipy.stats.t.interval(0.95, 2, loc=xs.mean(), scale=scipy.stats.sem(xs))
    np.testing.assert_allclose(_floats(val("mean_ci([1, 2, 3])")), [lo, hi], rtol=1e-12)
    half = scipy.stats.norm.ppf(0.95) / np.sqrt(3)
    np.testing.assert_allclose(
        _floats(val("mean_ci([1, 2, 3], 0.9, 1)")), [2 - half, 2 + half], rtol=1e-12
    )
    p, se = 0.3, np.sqrt(0.3 * 0.7 / 100)
    crit = scipy.stats.norm.ppf(0.975)
    np.testing.assert_allclose(
        _floats(val("proportion_ci(30, 100)")), [p - crit * se, p + crit * se], rtol=1e-12
    )
    assert float(val("quantile([1, 2, 3, 4], 1/4)")) == np.quantile([1, 2, 3, 4], 0.25)


def test_markov_classes_as_values():
    P = "[[1, 0, 0], [1/3, 1/3, 1/3], [0, 0, 1]]"
    assert list(val(f"state_classes({P})")) == [0, 1, 2]
    assert list(val(f"recurrent_states({P})")) == [1, 0, 1]
    Q = "[[0, 1, 0], [1, 0, 0], [0, 1/2, 1/2]]"
    assert list(val(f"state_classes({Q})")) == [0, 0, 1]
    assert list(val(f"recurrent_states({Q})")) == [1, 1, 0]
    assert val(f"period({Q}, 0)") == 2
    # the labels agree with the Python API
    half = sympy.Rational(1, 2)
    cls = markov.MarkovChain([[0, 1, 0], [1, 0, 0], [0, half, half]]).classes()
    assert [c.states for c in cls] == [(0, 1), (2,)]


def test_several_part_results_work_in_symml_run(tmp_path, capsys):
    from symml.cli import main

    src = tmp_path / "stats.sml"
    src.write_text(
        "r = ttest_1samp([1, 2, 3, 5], 1)\n2*r[1]\nstate_classes([[0, 1], [1, 0]])\n"
        "svd_u([[2, 0], [0, 1]])\n"
    )
    assert main(["run", str(src)]) == 0
    out = capsys.readouterr().out
    p = scipy.stats.ttest_1samp([1, 2, 3, 5], 1).pvalue
    blocks = out.split(">>> ")
    assert float(blocks[1].splitlines()[1]) == pytest.approx(2 * p, rel=1e-12)
    assert "[0, 0]" in blocks[2] and "[[1, 0],\n [0, 1]]" in blocks[3]


@pytest.mark.parametrize(
    "text, words",
    [
        ("ttest_1samp([1, 2, 3], x)", "number"),
        ("ttest_1samp([1], 0)", "at least 2"),
        ("proportion_ci(1/2, 10)", "whole number"),
        ("quantile([1, 2], 2)", "[0, 1]"),
        ("ttest_ind([1, 2], [[1, 2], [3, 4]])", "vector"),
    ],
)
def test_bad_test_arguments(text, words):
    with pytest.raises(SymmlError, match=None) as err:
        val(text)
    assert words in str(err.value)


def test_sample_matches_the_python_api():
    got = _floats(val("random_sample(Normal(1, 2), 5, 7)"))
    np.testing.assert_array_equal(got, prob.Normal(1, 2).sample(5, seed=7))
    ks = val("random_sample(Poisson(3), 6, 1)")
    assert all(isinstance(k, sympy.Integer) for k in ks)
    np.testing.assert_array_equal(_floats(ks), prob.Poisson(3).sample(6, seed=1))
    with pytest.raises(ArgumentError, match="symbolic"):
        val("random_sample(Normal(mu, 1), 3)")
    with pytest.raises(ArgumentError, match="whole number"):
        val("random_sample(Normal(0, 1), 5/2)")


def test_common_data_names_stay_free():
    # the library's names do not take words a model's data would use
    prog = sm.parse("data sample, classes, recurrent\nparam mu\nsample ~ Normal(mu, 1)")
    assert set(prog.data_decls) == {"sample", "classes", "recurrent"}
