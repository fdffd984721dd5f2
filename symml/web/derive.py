"""The web page's one computation: a request (formula, operation, arguments) -> a JSON-ready
derivation tree with its renderings and verification. Pure: no server code here.

Every string in a request goes through the symml language; nothing else is evaluated.

>>> out = derive({"formula": "x^2*sin(x)", "operation": "diff", "variables": "x"})
>>> out["ok"], out["verified"], out["result"]["text"]
(True, True, 'x^2*cos(x) + 2*x*sin(x)')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy

from ..errors import ArgumentError, ParseError, SymmlError

__all__ = ["derive", "check", "OPERATIONS", "MAX_FORMULA"]

#: Longest formula (characters) a request may carry.
MAX_FORMULA = 5000


def _vars(text: str | None) -> list[str]:
    if not text:
        return []
    return [v for v in str(text).replace(",", " ").split() if v]


def _point(text: str) -> dict:
    out = {}
    for part in str(text or "").replace(",", " ").split():
        name, sep, value = part.partition("=")
        if not sep:
            raise ArgumentError(f"the point takes name=value pairs such as x=0, got {part!r}")
        out[name] = value
    if not out:
        raise ArgumentError("give the expansion point, e.g. x=0")
    return out


def _lines(text: str | None) -> list[str]:
    return [c.strip() for c in str(text or "").replace(";", "\n").splitlines() if c.strip()]


def _op_diff(r):
    from .. import steps

    vs = _vars(r.get("variables"))
    return steps.diff(r["formula"], *vs) if vs else steps.diff(r["formula"])


def _op_grad(r):
    from .. import steps

    return steps.grad(r["formula"], _vars(r.get("variables")))


def _op_jacobian(r):
    from .. import steps

    return steps.jacobian(_lines(r["formula"]) or r["formula"], _vars(r.get("variables")))


def _op_hessian(r):
    from .. import steps

    return steps.hessian(r["formula"], _vars(r.get("variables")))


def _op_taylor(r):
    from .. import steps

    order = r.get("order", 2)
    try:
        order = int(order)
    except (TypeError, ValueError):
        raise ArgumentError(f"the order must be a whole number, got {order!r}") from None
    return steps.taylor(r["formula"], _point(r.get("point", "")), order)


def _op_integrate(r):
    from .. import steps

    vs = _vars(r.get("variables"))
    if len(vs) != 1:
        raise ArgumentError("integrate needs one variable")
    lo, hi = r.get("lower"), r.get("upper")
    if (lo in (None, "")) != (hi in (None, "")):
        raise ArgumentError("give both limits of a definite integral, or neither")
    if lo in (None, ""):
        return steps.integrate(r["formula"], vs[0])
    return steps.integrate(r["formula"], (vs[0], str(lo), str(hi)))


def _op_lagrange(r):
    from .. import steps

    cons = _lines(r.get("constraints"))
    if not cons:
        raise ArgumentError("give at least one constraint, such as x^2 + y^2 == 1")
    return steps.lagrange(r["formula"], cons, _vars(r.get("variables")) or None)


#: operation name -> (label shown on the page, runner)
OPERATIONS = {
    "diff": ("Derivative", _op_diff),
    "grad": ("Gradient", _op_grad),
    "jacobian": ("Jacobian", _op_jacobian),
    "hessian": ("Hessian", _op_hessian),
    "taylor": ("Taylor polynomial", _op_taylor),
    "integrate": ("Integral", _op_integrate),
    "lagrange": ("Lagrange / KKT", _op_lagrange),
}


def _op_gram_schmidt(r):
    from .. import steps

    vectors = _lines(r["formula"])
    if len(vectors) == 1 and vectors[0].startswith("[[") and vectors[0].endswith("]]"):
        vectors = _split_top(vectors[0][1:-1])  # [[1, 1], [1, 0]]: the rows
    return steps.gram_schmidt(vectors)


def _op_mle(r):
    from .. import steps

    sample = _vars(r.get("variables"))
    if len(sample) > 1:
        raise ArgumentError("MLE takes one sample name (the observations are name[i])")
    return steps.mle(r["formula"].strip(), *(sample or []))


#: Families the page's KL operation reads as Name(arg, ...), each arg in the symml language.
_KL_FAMILIES = ("Normal", "Exponential", "Bernoulli")


def _split_top(text: str) -> list[str]:
    """Split at the commas outside brackets: "[1, 2], [3, 4]" -> ["[1, 2]", "[3, 4]"]."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return [p for p in out if p]


def _distribution(text: str, which: str):
    from .. import prob

    t = str(text or "").strip()
    name, _, rest = t.partition("(")
    name = name.strip()
    if name not in _KL_FAMILIES or not rest.endswith(")"):
        raise ArgumentError(f"{which}: write a distribution such as Normal(m1, s1), "
                            f"Exponential(a) or Bernoulli(p); got {t!r} "
                            f"(families: {', '.join(_KL_FAMILIES)})")  # fmt: skip
    args = _split_top(rest[:-1])  # each argument goes through the language in prob
    arity = {"Normal": 2, "Exponential": 1, "Bernoulli": 1}[name]
    if len(args) != arity:
        raise ArgumentError(f"{which}: {name} takes {arity} parameter(s), got {len(args)} in {t!r}")
    return getattr(prob, name)(*args)


def _op_kl(r):
    from .. import steps

    return steps.kl(_distribution(r["formula"], "p"), _distribution(r.get("q"), "q"))


def _op_convex(r):
    from .. import steps

    domain = _lines(r.get("constraints"))
    return steps.convex(r["formula"], _vars(r.get("variables")) or None,
                        domain=domain or None)  # fmt: skip


def _op_dual(r):
    from .. import steps

    cons = _lines(r.get("constraints"))
    if not cons:
        raise ArgumentError("give at least one constraint, such as x + y == 1")
    return steps.dual(r["formula"], cons, _vars(r.get("variables")) or None)


def _op_minimize(r):
    from .minimize import run_minimize

    return run_minimize(r)


OPERATIONS.update({
    "minimize": ("Minimize (numeric, with the optimizer's path)", _op_minimize),
    "gram_schmidt": ("Gram-Schmidt", _op_gram_schmidt),
    "mle": ("Maximum likelihood (MLE)", _op_mle),
    "kl": ("KL divergence", _op_kl),
    "convex": ("Convexity", _op_convex),
    "dual": ("Lagrange dual", _op_dual),
})


def _register_optional():
    """Derivation kinds of the mathematics library, when they are present."""
    from .. import steps

    for name, label, arg in (("det", "Determinant", "matrix"), ("inv", "Inverse", "matrix"),
                             ("eig", "Eigenvalues and eigenvectors", "matrix"),
                             ("stationary", "Stationary distribution", "matrix")):  # fmt: skip
        fn = getattr(steps, name, None)
        if fn is not None and name not in OPERATIONS:
            OPERATIONS[name] = (label, lambda r, fn=fn: fn(r["formula"]))


def _mathml(obj) -> str:
    from sympy.printing.mathml import mathml

    if obj is None:
        return ""
    if isinstance(obj, Mapping):
        eqs = (sympy.Eq(sympy.Symbol(str(k)), v, evaluate=False) for k, v in obj.items())
        return "<mo>,</mo>".join(f"<mrow>{_mathml(e)}</mrow>" for e in eqs)
    if isinstance(obj, (list, tuple)):
        if obj and all(isinstance(o, Mapping) for o in obj):  # candidate points: one per group
            gap = '<mo>;</mo><mspace width="1em"/>'
            return gap.join(f"<mrow><mo>(</mo>{_mathml(o)}<mo>)</mo></mrow>" for o in obj)
        if obj and all(isinstance(o, sympy.core.relational.Relational) for o in obj):
            gap = '<mo>,</mo><mspace width="1em"/>'  # a system of equations: no brackets
            return gap.join(f"<mrow>{_mathml(o)}</mrow>" for o in obj)
        return "<mo>[</mo>" + "<mo>,</mo>".join(_mathml(o) for o in obj) + "<mo>]</mo>"
    if isinstance(obj, sympy.MatrixBase) and not isinstance(obj, sympy.Basic):
        obj = sympy.ImmutableMatrix(obj)  # a mutable Matrix is no Basic; its MathML is the same
    try:
        if isinstance(obj, bool) or not isinstance(obj, (sympy.Basic, int, float)):
            raise TypeError("not a SymPy object")
        value = obj if isinstance(obj, sympy.Basic) else (sympy.Integer(obj) if isinstance(obj, int) else sympy.Float(obj))
        body = mathml(value, printer="presentation")
    except Exception:  # a SymPy object MathML cannot print: show its text
        from ..steps.render import text

        body = f"<mtext>{_escape(text(obj))}</mtext>"
    return body


def _math(obj, display: bool = False) -> str:
    mode = ' display="block"' if display else ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{mode}>{_mathml(obj)}</math>'


def _chain(sides: list) -> str:
    """``a = b = c`` as one display MathML formula."""
    if not sides:
        return ""
    body = "<mo>=</mo>".join(f"<mrow>{_mathml(s)}</mrow>" for s in sides)
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">{body}</math>'


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _explanation_html(e) -> str:
    import string

    if e is None:
        return ""
    if isinstance(e, str):
        return _escape(e)
    out = []
    for prose, field, _spec, _conv in string.Formatter().parse(e.template):
        if prose:
            out.append(_escape(prose))
        if field is not None:
            out.append(_math(e.params[field]))
    return "".join(out)


def _step_json(step, number: str) -> dict:
    from ..steps.render import latex, text

    sides = [s for s in (step.before, step.form, step.after) if s is not None]
    return {
        "number": number,
        "rule": step.rule,
        "detail": getattr(step, "detail", "textbook"),
        "explanation_html": _explanation_html(step.explanation),
        "explanation_text": str(step.explanation),
        "equation_html": _chain(sides),
        "equation_latex": " = ".join(latex(s) for s in sides),
        "equation_text": " = ".join(text(s) for s in sides),
        "note_html": _explanation_html(step.note),
        "substeps": [_step_json(s, f"{number}.{i}") for i, s in enumerate(step.substeps, 1)],
    }


def derive(request: Mapping[str, Any]) -> dict:
    """Run one derivation request; never raises for bad input (an ``error`` entry instead).

    Request keys: ``formula``, ``operation`` (see :data:`OPERATIONS`), and by operation
    ``variables`` ("x y"), ``point`` ("x=0 y=0"), ``order``, ``lower``/``upper``,
    ``constraints`` (one per line); minimize: ``start`` ("x=-1.2 y=1"), ``method``,
    ``max_iter``, ``lr``.
    """
    _register_optional()
    try:
        if not isinstance(request, Mapping):
            raise ArgumentError("the request must be a JSON object")
        formula = request.get("formula")
        if not isinstance(formula, str) or not formula.strip():
            raise ArgumentError("give a formula, e.g. x^2*sin(x)")
        if len(formula) > MAX_FORMULA:
            raise ArgumentError(f"the formula has {len(formula):,} characters; the page takes up to {MAX_FORMULA:,}")
        op = request.get("operation", "diff")
        if op not in OPERATIONS:
            raise ArgumentError(f"unknown operation {op!r}; use one of {', '.join(OPERATIONS)}")
        d = OPERATIONS[op][1](request)
        try:
            verified, verify_message = bool(d.verify()), "every step checked numerically"
        except SymmlError as exc:
            verified, verify_message = False, str(exc)
        from ..steps.render import latex, text
        from .picture import picture

        try:
            svg = picture(request, d)
        except SymmlError:  # a picture is a help, never a reason to fail the derivation
            svg = ""
        out = {
            "ok": True,
            "title": str(d.title),
            "kind": d.kind,
            "steps": [_step_json(s, str(i)) for i, s in enumerate(d.steps, 1)],
            "result": {"html": _math(d.result, True), "latex": latex(d.result), "text": text(d.result)},
            "verified": verified,
            "verify_message": verify_message,
            "picture_svg": svg,
            "note_html": _explanation_html(d.note),
            "renderings": {"text": d.to_text(), "markdown": d.to_markdown(),
                           "latex": d.to_latex(), "latex_document": d.to_latex(standalone=True)},  # fmt: skip
        }
        if op == "minimize":
            from .minimize import summary

            out["minimize"] = summary(d)
            value = sympy.Eq(sympy.Symbol("f"), d.value, evaluate=False)
            out["minimize"]["value_html"] = _math(value)
        return out
    except SymmlError as exc:
        return error_json(exc)


def error_json(exc: BaseException) -> dict:
    """A SymmlError as the page shows it (message, and position for syntax errors)."""
    out = {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)}}
    if isinstance(exc, ParseError):
        out["error"].update(line=exc.line, column=exc.column, snippet=exc.snippet, message=exc.message)
    return out


def check(formula: str) -> dict:
    """Parse only (for live feedback while typing): ``{"ok": True}`` or the error.

    >>> check("sin(x))")["error"]["type"]
    'ParseError'
    """
    from ..lang import expr

    try:
        if not isinstance(formula, str):
            raise ArgumentError("the formula must be text")
        if len(formula) > MAX_FORMULA:
            raise ArgumentError(f"the formula has {len(formula):,} characters; the page takes up to {MAX_FORMULA:,}")
        expr(formula)
        return {"ok": True}
    except SymmlError as exc:
        return error_json(exc)
