"""Read the NIST StRD nonlinear-regression problems and check symml's fits against them.

The NIST Statistical Reference Datasets (StRD) for nonlinear regression are 27 problems, each
with data, a model formula, two certified starting points, certified parameter values, their
certified standard deviations and the certified residual sum of squares, computed by NIST in
128-bit arithmetic. They are the standard test of a least-squares solver.

:func:`load_problem` reads one ``.dat`` file into a :class:`NistProblem`. The model formula in
the file (``y = b1*(1-exp[-b2*x])  +  e``) is translated into SymPy by symml's own parser after
a light normalisation of NIST's notation (``[...]`` brackets, ``arctan``, ``.5``); nothing is
``eval``-ed. :func:`fit_problem` fits a problem with the engine of :mod:`symml.fitting.lsq`
and :func:`digits` measures agreement with the certified values as the log relative error
(LRE, McCullough 1998), ``-log10(|estimate - certified| / |certified|)``.

Command line (the table in ``docs/validation.md`` is produced by it)::

    python -m symml.fitting.nist --table            # all 27 problems, both starts
    python -m symml.fitting.nist --table MGH09 Eckerle4

The folder with the ``.dat`` files is taken from the environment variable ``SYMML_NIST_DIR``,
else ``<repository>/../shared/data/nist_strd``.

>>> from symml.fitting.nist import digits
>>> digits(1.2345678, 1.2345679)
7.1
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

from ..errors import DataError

__all__ = [
    "NistProblem",
    "PROBLEM_NAMES",
    "nist_dir",
    "load_problem",
    "load_all",
    "fit_problem",
    "digits",
    "validation_rows",
    "markdown_table",
    "main",
]

#: The 27 problems in NIST's order of difficulty (lower, average, higher).
PROBLEM_NAMES: tuple[str, ...] = (
    "Misra1a", "Chwirut2", "Chwirut1", "Lanczos3", "Gauss1", "Gauss2", "DanWood", "Misra1b",
    "Kirby2", "Hahn1", "Nelson", "MGH17", "Lanczos1", "Lanczos2", "Gauss3", "Misra1c",
    "Misra1d", "Roszman1", "ENSO",
    "MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4", "Rat43", "Bennett5",
)  # fmt: skip

#: Certified values carry 11 significant digits; agreement is reported up to this many.
MAX_DIGITS = 11.0


@dataclass(frozen=True)
class NistProblem:
    """One NIST StRD nonlinear-regression problem, as read from its ``.dat`` file.

    Attributes
    ----------
    name : str
        Dataset name, e.g. ``"MGH09"``.
    difficulty : str
        ``"lower"``, ``"average"`` or ``"higher"`` (NIST's level of difficulty).
    model_text : str
        The model formula as printed in the file, without the ``+ e`` error term.
    lhs, rhs : sympy.Expr
        Both sides of the formula (``lhs`` is ``y``, or ``log(y)`` for Nelson).
    params : tuple of sympy.Symbol
        ``b1, b2, ...`` in order.
    starts : tuple of ndarray
        The two certified starting points.
    certified, certified_stderr : ndarray
        Certified parameter values and their standard deviations.
    certified_rss, certified_rsd : float
        Certified residual sum of squares and residual standard deviation.
    dof, nobs : int
        Degrees of freedom and number of observations as printed in the file (Rat43.dat
        prints 9 degrees of freedom for n - p = 11; its certified values use 11).
    data : dict
        Column name -> float array (``y``, ``x`` or ``x1``, ``x2``).
    data_text : dict
        Column name -> tuple of the decimal strings in the file (the exact data, used for the
        extended-precision evaluation of round-off-level residuals).
    """

    name: str
    difficulty: str
    model_text: str
    lhs: sp.Expr
    rhs: sp.Expr
    params: tuple[sp.Symbol, ...]
    starts: tuple[np.ndarray, np.ndarray]
    certified: np.ndarray
    certified_stderr: np.ndarray
    certified_rss: float
    certified_rsd: float
    dof: int
    nobs: int
    data: dict[str, np.ndarray] = field(repr=False)
    data_text: dict[str, tuple[str, ...]] = field(repr=False)

    @property
    def residual(self) -> sp.Expr:
        """The residual of one row, ``lhs - rhs``."""
        return self.lhs - self.rhs

    @property
    def data_symbols(self) -> dict[str, sp.Symbol]:
        """Column name -> the symbol standing for it in the formula."""
        names = {s.name: s for s in (self.lhs - self.rhs).free_symbols}
        return {k: names[k] for k in self.data if k in names}


def nist_dir() -> Path:
    """The folder holding the NIST ``.dat`` files.

    ``$SYMML_NIST_DIR`` if set, else ``<repository>/../shared/data/nist_strd``.
    """
    env = os.environ.get("SYMML_NIST_DIR")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data" / "nist_strd"


_RANGE = re.compile(r"(Starting Values|Certified Values|Data)\s*\(lines\s+(\d+)\s+to\s+(\d+)\)")
_CONSTANT = re.compile(r"^\s*([A-Za-z]\w*)\s*=\s*([-+0-9.Ee]+)\s*$")
_PARAM = re.compile(r"^\s*(b\d+)\s*=\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$")


def _normalise_formula(text: str) -> str:
    """NIST notation -> symml language: ``[..]`` -> ``(..)``, ``arctan`` -> ``atan``, ``.5``."""
    text = text.replace("[", "(").replace("]", ")")
    text = re.sub(r"\barctan\b", "atan", text)
    text = re.sub(r"(?<![\w.])\.(\d)", r"0.\1", text)
    return text


def _formula_to_sympy(model_text: str) -> tuple[sp.Expr, sp.Expr]:
    """Translate ``lhs = rhs`` through symml's parser (never eval/sympify)."""
    from ..lang import expr as parse_expr_text

    lhs_text, _, rhs_text = _normalise_formula(model_text).partition("=")
    return parse_expr_text(lhs_text.strip()), parse_expr_text(rhs_text.strip())


def load_problem(path: str | os.PathLike) -> NistProblem:
    """Read one NIST StRD nonlinear-regression ``.dat`` file.

    Parameters
    ----------
    path : path-like
        The ``.dat`` file, or a problem name looked up in :func:`nist_dir`.

    Returns
    -------
    NistProblem

    Examples
    --------
    >>> p = load_problem("Misra1a")                              # doctest: +SKIP
    >>> p.model_text, p.params, p.nobs                           # doctest: +SKIP
    ('y = b1*(1-exp[-b2*x])', (b1, b2), 14)
    """
    path = Path(path)
    if not path.suffix and not path.exists():
        path = nist_dir() / f"{path.name}.dat"
    if not path.is_file():
        raise DataError(
            f"NIST StRD file {str(path)!r} not found; set SYMML_NIST_DIR to the folder holding "
            "the .dat files"
        )
    lines = path.read_text().splitlines()
    head = "\n".join(lines[:12])
    ranges = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in _RANGE.finditer(head)}
    if set(ranges) != {"Starting Values", "Certified Values", "Data"}:
        raise DataError(f"{path.name}: not a NIST StRD nonlinear regression file (no line ranges)")
    name_match = re.search(r"Dataset Name:\s+(\S+)", head)
    name = name_match.group(1) if name_match else path.stem

    # Parameters: start 1, start 2, certified value, certified standard deviation.
    s0, s1 = ranges["Starting Values"]
    rows = [_PARAM.match(line) for line in lines[s0 - 1 : s1]]
    if not all(rows):
        raise DataError(f"{path.name}: cannot read the parameter lines {s0}-{s1}")
    params = tuple(sp.Symbol(m.group(1), real=True) for m in rows)
    table = np.array([[float(m.group(k)) for k in range(2, 6)] for m in rows])
    certified_block = "\n".join(lines[s0 - 1 : ranges["Certified Values"][1]])

    def _number(label: str) -> float:
        m = re.search(label + r":\s+(\S+)", certified_block)
        if not m:
            raise DataError(f"{path.name}: no {label!r} line")
        return float(m.group(1))

    # The model: from the line with '=' after "Model:" up to the '+ e' error term.
    text = "\n".join(lines[: s0 - 1])
    model_at = text.find("Model:")
    body = text[model_at:].splitlines()[1:] if model_at >= 0 else []
    start = next((i for i, line in enumerate(body) if "=" in line), None)
    if start is None:
        raise DataError(f"{path.name}: no model formula after 'Model:' before line {s0}")
    formula = []
    constants: dict[str, str] = {}  # e.g. Roszman1's "pi = 3.14159..." line
    for line in body[start:]:
        const = _CONSTANT.match(line)
        if const and not formula:
            constants[const.group(1)] = const.group(2)
            continue
        if not line.strip():
            break
        formula.append(line.strip())
    model_text = " ".join(formula)
    model_text = re.sub(r"\s*\+\s*e\s*$", "", model_text)
    model_text = re.sub(r"\s+", " ", model_text).replace("( ", "(").replace(" )", ")")

    # Data: the header line just before the range names the columns.
    d0, d1 = ranges["Data"]
    columns = lines[d0 - 2].replace("Data:", " ").split()
    raw = [line.split() for line in lines[d0 - 1 : d1] if line.strip()]
    if any(len(r) != len(columns) for r in raw):
        raise DataError(f"{path.name}: ragged data lines {d0}-{d1}")
    data_text = {c: tuple(r[j] for r in raw) for j, c in enumerate(columns)}
    data = {c: np.asarray(vals, dtype=float) for c, vals in data_text.items()}

    difficulty = re.search(r"(Lower|Average|Higher) Level of Difficulty", text)
    lhs, rhs = _formula_to_sympy(model_text)
    # A named constant other than pi (which the language knows exactly) is substituted.
    subs = {
        sp.Symbol(k, real=True): _formula_to_sympy(f"{k} = {v}")[1]
        for k, v in constants.items()
        if k != "pi"
    }
    if subs:
        lhs, rhs = lhs.subs(subs), rhs.subs(subs)
    return NistProblem(
        name=name,
        difficulty=difficulty.group(1).lower() if difficulty else "unknown",
        model_text=model_text,
        lhs=lhs,
        rhs=rhs,
        params=params,
        starts=(table[:, 0].copy(), table[:, 1].copy()),
        certified=table[:, 2].copy(),
        certified_stderr=table[:, 3].copy(),
        certified_rss=_number("Residual Sum of Squares"),
        certified_rsd=_number("Residual Standard Deviation"),
        dof=int(_number("Degrees of Freedom")),
        nobs=int(_number("Number of Observations")),
        data=data,
        data_text=data_text,
    )


def load_all(directory: str | os.PathLike | None = None) -> list[NistProblem]:
    """Read every problem of :data:`PROBLEM_NAMES` from ``directory`` (default :func:`nist_dir`)."""
    folder = Path(directory) if directory is not None else nist_dir()
    return [load_problem(folder / f"{name}.dat") for name in PROBLEM_NAMES]


def digits(estimate: float | np.ndarray, certified: float | np.ndarray) -> float | np.ndarray:
    """Log relative error: the number of significant digits on which two values agree.

    ``-log10(|estimate - certified| / |certified|)``, rounded to 0.1 and clipped to
    ``[0, 11]`` (certified values carry 11 significant digits). NaN scores 0.

    >>> digits(2.0, 2.0)
    11.0
    >>> digits(np.array([1.0, 100.0]), np.array([1.001, 101.0])).tolist()
    [3.0, 2.0]
    """
    est = np.asarray(estimate, dtype=float)
    cert = np.asarray(certified, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(est - cert) / np.abs(cert)
        lre = np.where(rel > 0, -np.log10(rel), MAX_DIGITS)
    # NaN or infinite estimates (or certified zeros) agree on no digit
    lre = np.where(np.isfinite(rel) & np.isfinite(lre), lre, 0.0)
    out = np.round(np.clip(lre, 0.0, MAX_DIGITS), 1)
    return float(out) if out.ndim == 0 else out


def fit_problem(problem: NistProblem, start: int = 1):
    """Fit ``problem`` from certified start 1 or 2 with the engine of :mod:`symml.fitting.lsq`.

    The data are passed as the file's decimal strings, so the extended-precision polish sees
    the exact data. Returns the :class:`~symml.fitting.lsq.LsqSolution`.
    """
    from .lsq import solve_least_squares

    if start not in (1, 2):
        raise ValueError("start must be 1 or 2")
    syms = problem.data_symbols
    data = {syms[c]: problem.data_text[c] for c in syms}
    return solve_least_squares(
        problem.residual, list(problem.params), data, problem.starts[start - 1]
    )


def validation_rows(problems: Sequence[NistProblem]) -> list[dict]:
    """Fit every problem from both starts; one dict per fit with digits, timings, counts."""
    rows = []
    for prob in problems:
        for start in (1, 2):
            t0 = time.perf_counter()
            sol = fit_problem(prob, start)
            elapsed = time.perf_counter() - t0
            est_digits = digits(sol.x, prob.certified)
            se_digits = digits(sol.stderr, prob.certified_stderr)
            rows.append(
                dict(
                    problem=prob.name,
                    difficulty=prob.difficulty,
                    start=start,
                    p=len(prob.params),
                    n=prob.nobs,
                    est_digits=float(np.min(est_digits)),
                    se_digits=float(np.min(se_digits)),
                    rss_digits=float(digits(sol.rss, prob.certified_rss)),
                    success=bool(sol.success),
                    nfev=sol.nfev,
                    njev=sol.njev,
                    seconds=elapsed,
                    method=sol.method,
                )
            )
    return rows


def markdown_table(rows: Sequence[dict]) -> str:
    """A Markdown table of :func:`validation_rows` plus a summary line."""
    out = [
        "| problem | difficulty | start | p | n | estimates (min digits) | std errors (min digits) "
        "| RSS digits | success | nfev | njev | time (s) | path |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['problem']} | {r['difficulty']} | {r['start']} | {r['p']} | {r['n']} "
            f"| {r['est_digits']:.1f} | {r['se_digits']:.1f} | {r['rss_digits']:.1f} "
            f"| {'yes' if r['success'] else 'NO'} | {r['nfev']} | {r['njev']} "
            f"| {r['seconds']:.2f} | {r['method']} |"
        )
    est = np.array([r["est_digits"] for r in rows])
    se = np.array([r["se_digits"] for r in rows])
    total = sum(r["seconds"] for r in rows)
    out.append("")
    out.append(
        f"{len(rows)} fits: estimates min {est.min():.1f} / median {np.median(est):.1f} digits, "
        f"{int((est >= 6).sum())} of {len(rows)} reach 6; std errors min {se.min():.1f} / median "
        f"{np.median(se):.1f} digits, {int((se >= 4).sum())} of {len(rows)} reach 4; "
        f"{sum(r['success'] for r in rows)} report success; total fit time {total:.1f} s "
        "(compilation included, one process)."
    )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m symml.fitting.nist [--table] [NAMES...]``: fit, print the table or summary.

    The exit code is 0 when every fit reaches 6 digits in the estimates, 4 in the standard
    errors and reports success, else 1.
    """
    import argparse

    ap = argparse.ArgumentParser(prog="python -m symml.fitting.nist", description=main.__doc__)
    ap.add_argument(
        "--table", action="store_true", help="print the Markdown table, not just the summary"
    )
    ap.add_argument("names", nargs="*", help="problem names (default: all 27)")
    args = ap.parse_args(argv)
    names = args.names or list(PROBLEM_NAMES)
    unknown = [n for n in names if n not in PROBLEM_NAMES]
    if unknown:
        ap.error(f"unknown problem(s) {unknown}; valid: {', '.join(PROBLEM_NAMES)}")
    folder = nist_dir()
    if not folder.is_dir():
        print(f"NIST folder {folder} not found; set SYMML_NIST_DIR", file=sys.stderr)
        return 1
    problems = [load_problem(folder / f"{n}.dat") for n in names]
    rows = validation_rows(problems)
    text = markdown_table(rows)
    print(text if args.table else text.splitlines()[-1])
    ok = all(r["est_digits"] >= 6 and r["se_digits"] >= 4 and r["success"] for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
