"""symml.fit on exact (decimal-text) data: the extended-precision polish sees the exact
values, so Lanczos1's round-off-level residuals give certified standard errors through the
public API too (float data cannot: its residuals are below double-precision round-off)."""

from __future__ import annotations

import numpy as np
import pytest

import symml as sm
from symml.fitting.nist import digits, load_problem, nist_dir

NIST = nist_dir()
pytestmark = pytest.mark.skipif(
    not (NIST / "Lanczos1.dat").is_file(),
    reason=f"NIST StRD data not found at {NIST}; set SYMML_NIST_DIR",
)


@pytest.mark.parametrize("start", [0, 1])
def test_lanczos1_through_fit_with_decimal_text(start):
    p = load_problem(NIST / "Lanczos1.dat")
    data = {k: list(p.data_text[k]) for k in p.data}  # the file's decimal strings
    p0 = {f"b{i + 1}": v for i, v in enumerate(p.starts[start])}
    r = sm.fit("y ~ b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)", data, p0=p0)
    est = np.array([r.params[f"b{i + 1}"] for i in range(6)])
    se = np.array([r.stderr[f"b{i + 1}"] for i in range(6)])
    assert r.success
    assert digits(est, p.certified).min() >= 6
    assert digits(se, p.certified_stderr).min() >= 4


def test_decimal_text_and_floats_agree_on_an_ordinary_problem():
    x = ["0", "1", "2", "3", "4", "5"]
    y = ["1.02", "2.95", "5.1", "6.9", "9.05", "11.0"]
    exact = sm.fit("param a = 1, b = 1; y ~ a + b*x", {"x": x, "y": y})
    floats = sm.fit(
        "param a = 1, b = 1; y ~ a + b*x", {"x": np.array(x, float), "y": np.array(y, float)}
    )
    # closed-form least squares (independent reference)
    X = np.c_[np.ones(6), np.array(x, float)]
    coef = np.linalg.lstsq(X, np.array(y, float), rcond=None)[0]
    for r in (exact, floats):
        assert np.allclose([r.params["a"], r.params["b"]], coef, rtol=1e-12, atol=1e-12)
