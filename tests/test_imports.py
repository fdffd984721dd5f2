"""A fast start: `import symml` and the calculus commands stay clear of the heavy parts.

This is an import check, not a timing assertion: scipy.stats and scipy.optimize (about
1.5 s of CPU between them) and symml's fitting and optimization packages are imported only
when a fit, a minimization or a compiled function is asked for.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("scipy.stats", "scipy.optimize", "symml.fitting", "symml.optimize")


def _loaded_after(code: str) -> set[str]:
    probe = (
        f"{code}\nimport sys\n"
        f"print('LOADED:', *(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    marker = [ln for ln in out.stdout.splitlines() if ln.startswith("LOADED:")][-1]
    return set(marker.split()[1:])


def test_import_symml_is_light():
    assert _loaded_after("import symml") == set()


@pytest.mark.parametrize(
    "argv",
    [["diff", "x^2", "x"], ["grad", "x^2*y", "x", "y"], ["taylor", "exp(x)", "--at", "x=0"]],
)
def test_calculus_commands_are_light(argv):
    code = f"from symml.cli import main\nmain({argv!r})"
    assert _loaded_after(code) == set()


def test_the_smallest_command_needs_neither_numpy_nor_sympy_physics():
    # numpy (~0.07 s) and sympy.physics (~0.15-0.3 s, imported by sympy.simplify's first
    # call) are most of what separates `symml diff "x^2" x` from its 0.8 s target
    probe = ("from symml.cli import main\nmain(['diff', 'x^2', 'x'])\nimport sys\n"
             "print('LOADED:', *(m for m in ('numpy', 'sympy.physics') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, check=True)  # fmt: skip
    assert out.stdout.splitlines() == ["2*x", "LOADED:"]


def test_lazy_names_resolve_to_the_functions():
    import symml as sm
    import symml.compile  # noqa: F401 - importing the submodule must not hide sm.compile
    import symml.lagrange  # noqa: F401

    assert callable(sm.compile) and sm.compile.__module__ == "symml.compile"
    assert callable(sm.lagrange) and sm.lagrange.__module__ == "symml.lagrange"
    assert sm.fit.__name__ == "fit" and sm.minimize.__name__ == "minimize"
    assert set(sm.__all__) <= set(dir(sm))


def test_version_flag(capsys):
    import symml
    from symml.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"symml {symml.__version__}"
