"""Start-up time of the command line: ``import symml`` and ``symml diff "x^2" x``.

Wall time of fresh interpreters (best and median of N runs), next to a bare ``python -c
pass`` for scale, and the CPU seconds (user + system) each run used: on a shared machine
the wall time grows with the load average, the CPU time much less. Target (issue 12):
``symml diff "x^2" x`` in at most 0.8 s wall.

    python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

TARGET = 0.8


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _time(argv: list[str], runs: int) -> tuple[float, float, float]:
    times, cpus = [], []
    for _ in range(runs):
        c0, t0 = _cpu(), time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
        cpus.append(_cpu() - c0)
    return min(times), statistics.median(times), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    runs = ap.parse_args().runs
    py = sys.executable
    cases = [
        ("python -c pass", [py, "-c", "pass"]),
        ("import symml", [py, "-c", "import symml"]),
        ('symml diff "x^2" x', [py, "-m", "symml", "diff", "x^2", "x"]),
        (
            'symml hessian "log(1 + exp(z))" z',
            [py, "-m", "symml", "hessian", "log(1 + exp(z))", "z"],
        ),
    ]
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(f"{'command':<36} {'best s':>8} {'median s':>9} {'CPU s':>7}")
    results = {}
    for name, argv in cases:
        best, med, cpu = _time(argv, runs)
        results[name] = best
        print(f"{name:<36} {best:8.3f} {med:9.3f} {cpu:7.3f}")
    diff = results['symml diff "x^2" x']
    print(
        f"\nsymml diff (best) / target {TARGET} s: {diff / TARGET:.2f} "
        f"({'within' if diff <= TARGET else 'over'} target); "
        f"import symml / python: {results['import symml'] / results['python -c pass']:.1f}x"
    )


if __name__ == "__main__":
    main()
