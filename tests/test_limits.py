"""One budget for every public call, and limits that hold on hostile input.

The budget tests check the mechanism (nested calls share the clock, inner limits may only
shorten it, threads stop through check()). The hostile inputs run in a subprocess with a
wall-clock cap, under a 1 s budget to keep the suite fast: each must end with a LimitError
or a correct answer (checked here against an independent computation), with a peak memory
under 500 MB. No timing assertions: a regression shows as a timeout of the subprocess or a
budget that no LimitError enforced.

Run ``python tests/test_limits.py`` for the table of times and peak memory at the default
10 s budget.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import sympy

import symml as sm
from symml._limits import (
    budgeted,
    check,
    check_entries,
    get_limits,
    limits,
    set_limits,
    time_limit,
)

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------
# the budget itself


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_spinning_call_ends_with_a_limit_error_that_says_how_to_raise_it():
    @budgeted("spinner")
    def spinner():
        while True:
            pass

    with limits(seconds=0.2):
        with pytest.raises(sm.LimitError) as info:
            spinner()
    msg = str(info.value)
    assert "spinner" in msg and "0.2 s" in msg and "set_limits(seconds=" in msg


def test_nested_public_calls_share_the_outer_budget():
    calls = []

    @budgeted("inner")
    def inner():
        calls.append(1)
        _spin(0.05)

    @budgeted("outer")
    def outer():
        for _ in range(1000):  # 50 s if every inner call restarted the clock
            inner()

    with limits(seconds=0.3):
        with pytest.raises(sm.LimitError, match="outer ran out"):
            outer()
    assert len(calls) < 100


def test_an_inner_limit_shortens_the_budget_and_can_be_caught():
    @budgeted("outer")
    def outer():
        try:
            with time_limit(0.1, "the first route"):
                while True:
                    pass
        except sm.LimitError as exc:
            assert "the first route" in str(exc)
        return "second route"

    with limits(seconds=5):
        assert outer() == "second route"


def test_an_inner_limit_cannot_extend_the_outer_budget():
    @budgeted("outer")
    def outer():
        with time_limit(60, "a long inner block"):
            while True:
                pass

    with limits(seconds=0.2):
        with pytest.raises(sm.LimitError, match="outer ran out"):
            outer()


def test_check_stops_loops_in_threads_where_no_signal_reaches():
    out = []

    def work():
        try:
            with limits(seconds=0.2), time_limit(None, "a thread's loop"):
                while True:
                    check()
        except sm.LimitError as exc:
            out.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join(30)
    assert not t.is_alive() and len(out) == 1


def test_a_timer_running_before_the_budget_is_kept():
    fired = []

    def handler(signum, frame):
        fired.append(signum)

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        assert sm.diff("x^3", "x") == 3 * sympy.Symbol("x", real=True) ** 2
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0  # re-armed after our call
        _spin(0.7)
        assert fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_limits_are_validated_and_restored():
    with pytest.raises(sm.LimitError, match="unknown limit"):
        set_limits(secs=3)
    with pytest.raises(sm.LimitError):
        set_limits(max_size=-1)
    old = set_limits(seconds=3)
    try:
        assert get_limits().seconds == 3
        with limits(seconds=7):
            assert get_limits().seconds == 7
        assert get_limits().seconds == 3
    finally:
        set_limits(**old._asdict())
    assert get_limits() == old


def test_size_limits_are_configurable():
    with pytest.raises(sm.LimitError, match="max_digits"):
        sm.expr("2^20000")
    with limits(max_digits=10_000):
        assert sm.expr("2^20000") == sympy.Integer(2) ** 20000
    with pytest.raises(sm.LimitError, match="max_entries"):
        check_entries(200_000)
    with limits(max_entries=10):
        with pytest.raises(sm.LimitError, match="max_entries"):
            sm.expr("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]")
    with limits(max_size=50):
        with pytest.raises(sm.LimitError, match="max_size"):
            sm.parse("a = x + 1\nb = a*a + a + sin(a)\nc = b*b + b + sin(b)\nd = c*c + c")


def test_every_public_entry_point_is_budgeted():
    import importlib

    def m(name):
        return importlib.import_module(name)

    calculus, lagrange, lang = m("symml.calculus"), m("symml.lagrange"), m("symml.lang")
    compile_, fit = m("symml.compile").compile, m("symml.fitting.api").fit
    minimize = m("symml.optimize").minimize
    sdiff, sint, slag = m("symml.steps.diff"), m("symml.steps.integrate"), m("symml.steps.lagrange")
    model, taylor = m("symml.steps.model"), m("symml.steps.taylor")
    fns = [calculus.diff, calculus.grad, calculus.jacobian, calculus.hessian, calculus.taylor,
           calculus.integrate, calculus.simplify, lang.parse, lang.expr, lang.load,
           lang.to_text, lang.to_latex, compile_, fit, minimize, lagrange.lagrange,
           lagrange.lagrangian, sdiff.diff, sdiff.grad, sdiff.jacobian, sdiff.hessian,
           taylor.taylor, sint.integrate, slag.lagrange]
    missing = [f.__qualname__ for f in fns if not hasattr(f, "__symml_budgeted__")]
    assert not missing
    # verify keeps its own clock (the global budget unless seconds= is given, never more than
    # what an enclosing call has left) so that its timeout can name the step
    assert "get_limits" in (model.Derivation.verify.__doc__ or "")


# ---------------------------------------------------------------------------------------
# hostile inputs (subprocess, wall-clock cap)

#: name -> (code that computes ``r``, code that checks a result ``r``, or None if only a
#: LimitError is a correct outcome).
HOSTILE = {
    "vector power [2]^(10^10)": ('r = sm.expr("[2]^(10^10)")', None),
    "vector power [2, 3]^(10^8)": ('r = sm.expr("[2, 3]^(10^8)")', None),
    "squaring v = v*v": ('r = sm.parse("v = [3]\\n" + "v = v*v\\n" * 40)', None),
    "squaring through dot": ('r = sm.parse("v = [3]\\n" + "v = [dot(v, v)]\\n" * 40)', None),
    "squaring through @": ('r = sm.parse("A = [[3, 1], [1, 3]]\\n" + "A = A @ A\\n" * 40)',
                           None),
    "squaring a coefficient": ('r = sm.parse("v = 3*x\\n" + "v = v*v\\n" * 40)', None),
    "steps.diff": (
        'f = "sin(x^x^x^x^x)*exp(cos(x)^x)/(1 + log(x)^x)"\nr = sm.steps.diff(f, "x")',
        "assert abs(sympy.N((r.result - sympy.diff(sm.expr(f), x)).subs(x, 1.3), 30)) < 1e-20",
    ),
    "diff(exp(sin(x)), x, 100)": ('r = sm.diff("exp(sin(x))", "x", 100)', None),
    "taylor order 30": ('r = sm.taylor("exp(sin(x)*cos(y))", {"x": 0, "y": 0}, 30)', None),
    "det of a symbolic 14x14": ('r = sm.parse("var A[14, 14]\\nd = det(A)")', None),
    "inv of a symbolic 9x9": ('r = sm.parse("var A[9, 9]\\nB = inv(A)")', None),
    "hessian of a 60-vector": (
        'r = sm.parse("var w[60]\\nH = hessian(log(sum(exp(w))), w)")["H"]',
        "assert r.shape == (60, 60) and r == r.T",
    ),
    "(10^4000 - 1)^(1/3)": (
        'r = sm.expr("(10^4000 - 1)^(1/3)")',
        "assert abs(sympy.N(r, 50) - (sympy.Integer(10)**4000 - 1)**sympy.Rational(1, 3)"
        ".evalf(50)) < sympy.Float(10)**(1333 - 45)",
    ),
    "(10^3000)^(1/3)": ('r = sm.expr("(10^3000)^(1/3)")', "assert r == 10**1000"),
    "1 MB of x+x+...": ('r = sm.expr("+".join(["x"] * 500_000))', None),
    "sum of 100k names": (
        'r = sm.expr("+".join(f"x{i}" for i in range(100_000)))',
        "assert len(r.args) == 100_000",
    ),
    "200k-element vector": ('r = sm.expr("[" + ",".join(map(str, range(200_000))) + "]")',
                            None),
    "max of 100k arguments": ('r = sm.expr("max(" + ",".join(map(str, range(100_000))) + ")")',
                              None),
    "200-statement chain, to_text": (
        'p = sm.parse("a0 = 1\\n" + "".join(f"a{i} = a{i-1}*x + {i}\\n" for i in '
        'range(1, 201)))\nr = (p["a200"], sm.to_text(p["a200"]))',
        # the text nests 200 parentheses deep: parse it back past the parser's depth limit
        "import symml.lang.parser as P\nP.MAX_DEPTH = 5000\nassert sm.expr(r[1]) == r[0]",
    ),
    "200-statement chain, diff": (
        'p = sm.parse("a0 = 1\\n" + "".join(f"a{i} = a{i-1}*x + {i}\\n" for i in '
        'range(1, 201)))\nr = (p["a200"], sm.diff(p["a200"], "x"))',
        "assert abs(sympy.N(r[1].subs(x, sympy.Rational(1, 2)) - sympy.diff(r[0], x)"
        ".subs(x, sympy.Rational(1, 2)))) < 1e-20",
    ),
    "to_text of a 3-million-digit number": ('r = sm.to_text(sympy.Integer(10**3_000_000))',
                                            None),
    "to_latex(erf(zoo))": ('r = sm.lang.to_latex(sympy.erf(sympy.zoo))',
                           "assert r == sympy.latex(sympy.erf(sympy.zoo))"),
    "verify of a 6th derivative": (
        'r = sm.steps.diff("exp(sin(x))*log(x)", "x", 6)\nr = r.verify()', "assert r is True"
    ),
}


def _generated_hostile(n: int, seed: int = 7) -> dict:
    """Hostile inputs built from templates: huge powers of scalars, vectors, matrices and
    coefficients; repeated squaring; huge factorials; towers of functions; big literals."""
    rng = random.Random(seed)
    bases = ["2", "[2]", "[2, 3]", "3*x", "[[2, 1], [1, 2]]", "(1/3)", "sqrt(2)", "[x, 2*y]"]
    exps = ["10^10", "10^8", "2^40", "(10^6 + 1)", "99999999"]
    squarings = ["v = v*v", "v = v^2", "v = [dot(v, v)]", "v = v @ v'", "v = 2*v*v",
                 "v = v*v + v"]
    out = {}
    for k in range(n):
        kind = rng.randrange(5)
        if kind == 0:
            text = f"{rng.choice(bases)}^{rng.choice(exps)}"
            code = f"r = sm.expr({text!r})"
        elif kind == 1:
            step = rng.choice(squarings)
            start = rng.choice(["v = [3]", "v = [3, x]", "v = [2*x]"])
            src = start + "\n" + (step + "\n") * rng.randint(20, 45)
            code = f"r = sm.parse({src!r})"
        elif kind == 2:
            f = rng.choice(["factorial", "gamma", "binomial(10^6, 5000) + factorial"])
            code = f"r = sm.expr({f + '(' + str(10 ** rng.randint(4, 9)) + ')'!r})"
        elif kind == 3:
            fn = rng.choice(["exp", "sin", "sigmoid", "softplus", "tanh"])
            depth = rng.randint(20, 60)
            text = fn + "(" * 1 + f"{fn}(" * (depth - 1) + "x" + ")" * depth
            code = f"r = sm.diff({text!r}, 'x', {rng.randint(3, 8)})"
        else:
            text = rng.choice(["9" * 5000, "1e5000", "0." + "3" * 4500,
                               "+".join(["x^2*y"] * 60_000), "*".join(["(x + 1)"] * 70_000)])
            code = f"r = sm.expr({text!r})"
        out[f"generated {k}: {code[:60]}"] = (code, None)
    return out


_RUNNER = textwrap.dedent(
    """
    import json, resource, sys, time
    import sympy
    import symml as sm
    from symml._limits import set_limits
    set_limits(seconds=float(sys.argv[1]))
    x = sympy.Symbol("x", real=True)

    def peak_mb():
        # this process's own high-water mark: ru_maxrss survives exec on Linux, so
        # it would report the size of the pytest process that started this one
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    cases = json.loads(sys.stdin.read())
    for name, (code, verify) in cases.items():
        t0 = time.perf_counter()
        env = {"sm": sm, "sympy": sympy, "x": x}
        try:
            exec(code, env)  # the test's own code, not user input
            outcome = "answer"
        except sm.LimitError as exc:
            outcome = "LimitError"
        except sm.SymmlError as exc:
            outcome = type(exc).__name__ + ": " + str(exc)[:80]
        except BaseException as exc:
            outcome = "RAW " + type(exc).__name__ + ": " + str(exc)[:120]
        seconds = time.perf_counter() - t0
        if outcome == "answer" and verify is not None:
            try:
                exec(verify, env)
                outcome = "checked answer"
            except BaseException as exc:
                outcome = "WRONG ANSWER " + type(exc).__name__ + ": " + str(exc)[:120]
        mb = peak_mb()
        print(json.dumps([name, outcome, seconds, mb]), flush=True)
    """
)


def run_hostile(cases: dict, seconds: float, cap: float) -> list:
    """Run ``cases`` in one subprocess under a ``seconds`` budget; [name, outcome, s, MB]."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(seconds)],
        input=json.dumps(cases), capture_output=True, text=True, timeout=cap, cwd=ROOT, env=env,
    )
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("[")]
    assert len(rows) == len(cases), proc.stderr[-2000:]
    return rows


#: SymmlErrors other than LimitError that are the right answer for a case.
OTHER_ERRORS = {"max of 100k arguments": "LimitError"}


@pytest.mark.parametrize("group", ["listed", "generated"])
def test_hostile_inputs_end_within_the_budget(group):
    cases = HOSTILE if group == "listed" else _generated_hostile(24)
    budget = 1.0
    # each case may use its budget, plus SymPy's import and slack for a loaded machine
    rows = run_hostile(cases, budget, cap=60 + 6 * budget * len(cases))
    bad = [r for r in rows if r[1] not in ("LimitError", "checked answer")
           and not (r[1] == "answer" and cases[r[0]][1] is None and group == "generated")]
    assert not bad, "\n".join(map(str, bad))
    assert max(r[3] for r in rows) < 500, "peak memory of the hostile inputs above 500 MB"
    for name, outcome, *_ in rows:
        if cases[name][1] is None and group == "listed":
            assert outcome == "LimitError", (name, outcome)


# ---------------------------------------------------------------------------------------
# the CLI: no tracebacks, pipes and ASCII terminals


def _symml(args, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **kw.pop("env", {}))
    return subprocess.run([sys.executable, "-m", "symml", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120, **kw)


def test_cli_evaluate_with_a_symbolic_value_is_an_error_not_a_traceback(tmp_path):
    f = tmp_path / "e.sml"
    f.write_text("f = x^2\nevaluate(f, x = y)\n")
    p = _symml(["run", str(f)])
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "must be a number" in p.stderr


def test_cli_on_an_ascii_terminal():
    p = _symml(["steps", "integrate", "x*exp(x)", "x"], env={"PYTHONIOENCODING": "ascii"})
    assert p.returncode == 0 and "Traceback" not in p.stderr
    assert "Antiderivative" in p.stdout


def test_cli_into_a_closed_pipe(tmp_path):
    f = tmp_path / "many.sml"
    f.write_text("a = x^2\n" + "diff(a, x)\n" * 3000)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run(f"{sys.executable} -m symml run {f} | head -n 1", shell=True,
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert p.stdout.strip() == ">>> diff(a, x)"
    assert "Traceback" not in p.stderr and "Error" not in p.stderr


def test_cli_internal_errors_are_one_line_and_exit_2(monkeypatch, capsys):
    from symml import cli
    from symml.cli import calc

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(calc, "_cmd_diff", broken)
    assert cli.main(["diff", "x", "x"]) == 2
    err = capsys.readouterr().err
    assert "internal error" in err and "RuntimeError: boom" in err and "report" in err


def test_cli_limit_errors_are_reported_as_errors(capsys):
    from symml import cli

    assert cli.main(["diff", "[2]^(10^10)", "x"]) == 1
    assert "max_digits" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------


def main() -> None:  # pragma: no cover - the measurement table in the report
    cases = dict(HOSTILE, **_generated_hostile(24))
    for name, code in cases.items():
        (row,) = run_hostile({name: code}, seconds=10.0, cap=120)
        print(f"{row[2]:7.2f} s {row[3]:7.0f} MB  {row[1][:40]:40}  {name}")


if __name__ == "__main__":  # pragma: no cover
    main()
