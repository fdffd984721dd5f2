"""``symml det | inv | solve | eig | rank`` and ``symml steps det | inv | solve | eig |
gram-schmidt``: linear algebra of matrices written in the symml language.

Matrices are text such as ``'[[a, b], [c, d]]'``; results are exact (SymPy). Append the
derivations to the ``steps`` command that :mod:`symml.cli.steps` created.
"""

from __future__ import annotations

import argparse

from .calc import show


def _cmd_det(args):
    from .. import linalg

    print(show(linalg.det(args.matrix), args.latex))


def _cmd_inv(args):
    from .. import linalg

    print(show(linalg.inv(args.matrix), args.latex))


def _cmd_solve(args):
    from .. import linalg

    print(show(linalg.solve(args.matrix, args.rhs), args.latex))


def _cmd_rank(args):
    from .. import linalg

    print(linalg.rank(args.matrix))


def _cmd_eig(args):
    import sympy

    from .. import linalg

    for space in linalg.eig(args.matrix):
        vecs = ", ".join(show(sympy.ImmutableMatrix(v).T, args.latex) for v in space.vectors)
        print(f"eigenvalue {show(space.value, args.latex)}  multiplicity {space.multiplicity}"
              f"  eigenvectors {vecs}")  # fmt: skip


def _steps_cmd(kind: str):
    def run(args):
        from .. import steps
        from .steps import _show

        if kind == "solve":
            d = steps.solve(args.matrix, args.rhs)
        elif kind == "gram_schmidt":
            d = steps.gram_schmidt(list(args.vectors))
        else:
            d = getattr(steps, kind)(args.matrix)
        return _show(d, args)

    return run


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``symml det | inv | solve | eig | rank`` and the ``steps`` linear-algebra kinds."""
    matrix_help = "a matrix in the symml language, e.g. '[[a, b], [c, d]]'"
    for name, func, help_ in [
        ("det", _cmd_det, "determinant: symml det '[[a, b], [c, d]]'"),
        ("inv", _cmd_inv, "inverse of a nonsingular square matrix"),
        ("solve", _cmd_solve, "solve A x = b: symml solve '[[2, 1], [1, 3]]' '[3, 5]'"),
        ("eig", _cmd_eig, "eigenvalues with multiplicities and eigenvectors"),
        ("rank", _cmd_rank, "rank of a matrix"),
    ]:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("matrix", help=matrix_help)
        if name == "solve":
            p.add_argument("rhs", help="the right-hand side b, e.g. '[3, 5]'")
        p.add_argument("--latex", action="store_true", help="print LaTeX")
        p.set_defaults(func=func)

    top = sub.choices.get("steps")
    if top is None:  # the steps command is not registered: nothing to extend
        return
    kinds = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    for name, kind, help_ in [
        ("det", "det", "determinant by cofactor expansion"),
        ("inv", "inv", "inverse by Gauss-Jordan elimination, one row operation per step"),
        ("solve", "solve", "A x = b by Gaussian elimination and back substitution"),
        ("eig", "eig", "characteristic polynomial, eigenvalues, eigenvectors (null spaces)"),
        ("gram-schmidt", "gram_schmidt", "Gram-Schmidt: each projection and normalization"),
    ]:
        p = kinds.add_parser(name, help=help_, description=help_)
        if kind == "gram_schmidt":
            p.add_argument("vectors", nargs="+", help="vectors such as '[1, 1, 0]' '[1, 0, 1]'")
        else:
            p.add_argument("matrix", help=matrix_help)
        if kind == "solve":
            p.add_argument("rhs", help="the right-hand side b, e.g. '[3, 5]'")
        p.add_argument("--format", choices=["text", "md", "latex"], default="text",
                       help="text (default), md (Markdown + LaTeX math), latex")  # fmt: skip
        p.add_argument(
            "--standalone", action="store_true", help="with --format latex: a whole document"
        )
        p.add_argument(
            "--verify", action="store_true", help="re-check every step numerically first"
        )
        p.set_defaults(func=_steps_cmd(kind))
