"""``symml mle DIST SAMPLE``, ``symml kl P Q`` and their ``symml steps mle | kl`` forms.

Distributions are written as in the language, ``Normal(m1, s1)`` or ``Categorical([0.2, 0.8])``;
the arguments are parsed by the symml grammar (never eval).
"""

from __future__ import annotations

import argparse
import re

from ..errors import ArgumentError

_DIST = re.compile(r"^\s*([A-Za-z]+)\s*\((.*)\)\s*$", re.S)


def parse_distribution(text: str):
    """``"Normal(m1, s1)"`` -> ``symml.prob.Normal(m1, s1)`` (arguments through the grammar).

    >>> parse_distribution("Bernoulli(p)")
    Bernoulli(p)
    """
    from .. import prob
    from .._convert import as_expr

    m = _DIST.match(text or "")
    names = [n for n in prob.__all__ if n not in ("Distribution", "bayes", "bayes_density",
                                                   "conjugate_update")]  # fmt: skip
    if not m:
        raise ArgumentError(
            f"expected a distribution such as 'Normal(m1, s1)', got {text!r}; "
            f"families: {', '.join(names)}"
        )
    name, inner = m.group(1), m.group(2).strip()
    if name not in names:
        raise ArgumentError(f"unknown distribution {name!r}; choose one of {', '.join(names)}")
    if name == "Categorical":
        return prob.Categorical(list(as_expr(inner)))
    args = list(as_expr(f"[{inner}]")) if inner else []
    try:
        return getattr(prob, name)(*args)
    except ArgumentError:
        raise
    except TypeError:
        raise ArgumentError(f"{name} takes different arguments than {inner!r}") from None


def _show_result(result) -> None:
    from ..lang.printer import to_text

    if isinstance(result, dict):
        for k, v in result.items():
            print(f"{k} = {to_text(v)}")
    else:
        print(to_text(result))


def _cmd_mle(args):
    from ..steps.mle import mle
    from .steps import _show

    d = mle(args.dist, args.sample)
    if getattr(args, "steps", True):
        return _show(d, args)
    _show_result(d.result)
    return 0


def _cmd_kl(args):
    from ..steps.info import kl
    from .steps import _show

    d = kl(parse_distribution(args.p), parse_distribution(args.q))
    if getattr(args, "steps", True):
        return _show(d, args)
    _show_result(d.result)
    return 0


def _common(p, steps_default: bool) -> None:
    p.add_argument("--format", choices=["text", "md", "latex"], default="text",
                   help="with --steps: text (default), md, latex")  # fmt: skip
    p.add_argument("--standalone", action="store_true", help="with --format latex")
    p.add_argument("--verify", action="store_true", help="re-check every step first")
    if not steps_default:
        p.add_argument("--steps", action="store_true", help="show the derivation")
    else:
        p.set_defaults(steps=True)


def _add(sub, steps_default: bool) -> None:
    p = sub.add_parser("mle", help="maximum likelihood estimators: symml mle Normal x",
                       description="Derive the MLE of Normal, Bernoulli, Binomial, Poisson or "
                       "Exponential parameters from observations SAMPLE[i], i = 1..n.")  # fmt: skip
    p.add_argument("dist", help="Normal, Bernoulli, Binomial, Poisson or Exponential")
    p.add_argument("sample", nargs="?", default="x", help="name of the observations (x)")
    _common(p, steps_default)
    p.set_defaults(func=_cmd_mle)
    p = sub.add_parser("kl", help="KL divergence: symml kl 'Normal(m1, s1)' 'Normal(m2, s2)'",
                       description="KL(P || Q) derived from its integral (or sum).")  # fmt: skip
    p.add_argument("p", help="first distribution, e.g. 'Normal(m1, s1)'")
    p.add_argument("q", help="second distribution of the same family")
    _common(p, steps_default)
    p.set_defaults(func=_cmd_kl)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``symml mle``, ``symml kl`` and, under ``symml steps``, ``mle`` and ``kl``."""
    _add(sub, steps_default=False)
    steps = sub.choices.get("steps")
    if steps is not None and steps._subparsers is not None:
        for action in steps._subparsers._group_actions:
            if isinstance(action, argparse._SubParsersAction):
                _add(action, steps_default=True)
                break
