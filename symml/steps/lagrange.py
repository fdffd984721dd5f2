"""Lagrange multipliers and KKT conditions step by step.

The derivation: constraints in standard form (``h(x) = 0``, ``g(x) <= 0``), the
Lagrangian ``L = f - sum(lambda_i*h_i) + sum(mu_j*g_j)``, each stationarity equation
derived (``dL/dx = 0``, ...), then either the Lagrange system solved exactly or, with
inequalities, the KKT conditions split into active-set cases (each inequality active or
inactive), every solution kept or rejected with its reason. The candidates are listed,
``f`` is evaluated at each, they are classified (largest and smallest value, second-order
test), and the KKT residuals of every candidate are checked with exact gradients.

Sign convention: for a minimum ``mu_j >= 0`` with ``g_j(x) <= 0``; for ``sense="max"``,
``mu_j <= 0``. ``result`` equals :func:`symml.lagrange.lagrange`.

>>> d = lagrange("x^2 + y^2", "x + y == 1")
>>> d.result
[{x: 1/2, y: 1/2, lambda: 1}]
>>> d.verify()
True
"""

from __future__ import annotations

from typing import Any

import sympy

from .._diff import diff as _diff
from .._limits import budgeted, time_limit
from ..errors import LimitError, SymmlError
from ..lagrange import (
    SOLVE_SECONDS,
    Case,
    Problem,
    Solution,
    _fmt,
    _is_real,
    _problem,
    _residuals,
    solve_problem,
)
from .check import is_zero
from .model import Derivation, Explanation, Step, explain

__all__ = ["lagrange"]

_TOL = 1e-20
_H, _G, _L, _MU = sympy.symbols("h g L mu", real=True)


def _point_eqs(point: dict, keys=None) -> sympy.Tuple:
    """A point as a tuple of equations ``x = 1, y = 2`` (typeset by every renderer)."""
    keys = list(point) if keys is None else keys
    return sympy.Tuple(*[sympy.Eq(k, point[k], evaluate=False) for k in keys])


def _tuple_eq(problem: Problem, point: dict) -> sympy.Basic:
    vals = [point[v] for v in problem.vars]
    if len(problem.vars) == 1:
        return sympy.Eq(problem.vars[0], vals[0], evaluate=False)
    return sympy.Eq(sympy.Tuple(*problem.vars), sympy.Tuple(*vals), evaluate=False)


# -- small helpers --------------------------------------------------------------------------------
def _point_text(point: dict, keys=None) -> str:
    keys = list(point) if keys is None else keys
    return ", ".join(f"{_fmt(k)} = {_fmt(point[k])}" for k in keys)


def _tuple_text(problem: Problem, point: dict) -> str:
    vals = ", ".join(_fmt(point[v]) for v in problem.vars)
    names = ", ".join(_fmt(v) for v in problem.vars)
    return f"({names}) = ({vals})" if len(problem.vars) > 1 else f"{names} = {vals}"


def _num(e: sympy.Expr) -> complex:
    return complex(sympy.N(e, 40))


def _standard_form_check(c) -> Any:
    rel = c.relation
    sign = -1 if isinstance(rel, sympy.GreaterThan) else 1

    def check(step: Step) -> bool:
        if not is_zero(sign * (rel.lhs - rel.rhs) - c.expr):
            raise AssertionError(f"{_fmt(c.expr)} is not {_fmt(rel)} in standard form")
        return True

    return check


def _solutions_check(equations: list, points: list[dict]) -> Any:
    """Every listed solution satisfies every equation exactly."""

    def check(step: Step) -> bool:
        for point in points:
            for eq in equations:
                val = eq.subs(point)
                if not is_zero(val):
                    raise AssertionError(
                        f"{_fmt(eq)} = {_fmt(val)}, not 0, at {_point_text(point)}"
                    )
        return True

    return check


def _verdict_check(problem: Problem, point: dict, kept: bool, active: tuple) -> Any:
    """Re-check a verdict numerically (40 digits): kept points satisfy the KKT sign
    conditions; a rejected point violates at least one of them (or is not real)."""

    def check(step: Step) -> bool:
        if any(v.free_symbols for v in point.values()):
            return True  # a family of points: nothing numeric to re-check
        vals = {k: _num(v) for k, v in point.items()}
        real = all(abs(v.imag) <= _TOL * max(1.0, abs(v.real)) for v in vals.values())
        bad = not real
        if real:
            for j, c in enumerate(problem.inequalities):
                g = _num(c.expr.subs(point)).real
                mu = vals[c.multiplier].real
                if j not in active and g > _TOL:
                    bad = True
                if j in active and (
                    (problem.sense == "min" and mu < -_TOL)
                    or (problem.sense == "max" and mu > _TOL)
                ):
                    bad = True
        if kept and bad:
            raise AssertionError(f"the kept point {_point_text(point)} violates a KKT condition")
        if not kept and not bad and step.rule == "reject":
            raise AssertionError(
                f"the rejected point {_point_text(point)} satisfies every KKT condition"
            )
        return True

    return check


def _residual_check(raw: list) -> Any:
    def check(step: Step) -> bool:
        for r in raw:
            if not is_zero(r):
                raise AssertionError(f"the residual {_fmt(r)} is not 0")
        return True

    return check


# -- the derivation -------------------------------------------------------------------------------
def _constraint_steps(problem: Problem) -> Step:
    subs = []
    for c in problem.constraints:
        rel = c.relation
        if c.kind == "eq":
            after = sympy.Eq(c.expr, 0)
            text = explain("Equality {rel}: {h}, with multiplier {m}.", rel=rel,
                           h=sympy.Eq(_H, c.expr, evaluate=False), m=c.multiplier)  # fmt: skip
        else:
            after = sympy.Le(c.expr, 0)
            text = explain("Inequality {rel}: {g}, with multiplier {m}.", rel=rel,
                           g=sympy.Eq(_G, c.expr, evaluate=False), m=c.multiplier)  # fmt: skip
        subs.append(Step("standard_form", None, after, text, check=_standard_form_check(c)))
    text = "Write every constraint in standard form: equalities as {h}"
    text += ", inequalities as {g}." if problem.inequalities else "."
    text = explain(text, h=sympy.Eq(_H, 0), g=sympy.Le(_G, 0))
    for sub in subs:
        sub.detail = "full"  # the list below states them; each one's check runs at every level
    forms = [sub.after for sub in subs]
    return Step("standard_form", None, forms if len(forms) > 1 else forms[0], text,
                substeps=subs, check=False, detail="brief")  # fmt: skip


def _lagrangian_step(problem: Problem) -> Step:
    pieces = ["f"]
    if problem.equalities:
        pieces.append("sum of lambda_i*h_i" if len(problem.equalities) > 1 else "lambda*h")
    if problem.inequalities:
        pieces.append("sum of mu_j*g_j" if len(problem.inequalities) > 1 else "mu*g")
    form = " - ".join(pieces[:2]) + (" + " + pieces[2] if len(pieces) == 3 else "")
    if not problem.equalities:
        form = "f + " + pieces[1]
    text = f"Form the Lagrangian L = {form}, one multiplier per constraint."
    note = None
    if problem.inequalities:
        want = ">= 0" if problem.sense == "min" else "<= 0"
        note = (
            f"Sign convention: inequalities are g(x) <= 0 and L adds mu*g; for a "
            f"{'minimum' if problem.sense == 'min' else 'maximum'} every mu must be {want}."
        )
    return Step("definition", sympy.Symbol("L"), problem.L, text, note=note, check=False)


def _partial_step(problem: Problem, var: sympy.Symbol, definitions: dict) -> Step:
    others = [v for v in problem.vars if v != var] + problem.multipliers
    held = ", ".join(_fmt(o) for o in others)
    value = _diff(problem.L, var)
    names = {f"o{i}": o for i, o in enumerate(others)}
    text = "Stationarity in {x}: differentiate {L} with respect to {x}"
    if held:
        text += " (holding " + ", ".join("{" + k + "}" for k in names) + " constant) and set {dL}."
    else:
        text += " and set it to 0."
    text = explain(text, x=var, L=_L, dL=sympy.Eq(sympy.Derivative(_L, var), 0), **names)
    subs = []
    try:
        from .diff import diff as diff_steps

        with time_limit(SOLVE_SECONDS, f"the derivation of dL/d{var}"):
            d = diff_steps(problem.L, var)
        subs = list(d.steps)
        for sub in subs:
            sub.detail = "full"  # differentiating L is routine: shown in the full tree only
        if len(subs) == 1 and subs[0].rule == "partial" and subs[0].substeps:
            subs = list(subs[0].substeps)  # its "holding ... constant" is said here already
            for sub in subs:
                sub.detail = "full"
        definitions.update(d.definitions)
    except (SymmlError, ImportError):
        subs = []  # the step itself still states and checks the derivative
    return Step("partial", sympy.Derivative(problem.L, var), value, text, substeps=subs)


def _case_text(problem: Problem, case: Case, number: int) -> Explanation:
    parts, params = [], {}
    for j, c in enumerate(problem.inequalities):
        params[f"r{j}"], params[f"m{j}"] = c.relation, c.multiplier
        if j in case.active:
            params[f"g{j}"] = sympy.Eq(c.expr, 0, evaluate=False)
            parts.append(f"{{r{j}}} active ({{g{j}}}, {{m{j}}} unknown)")
        else:
            params[f"m{j}"] = sympy.Eq(c.multiplier, 0, evaluate=False)
            parts.append(f"{{r{j}}} inactive ({{m{j}}})")
    return explain(f"Case {number}: " + "; ".join(parts) + ".", **params)


def _case_step(problem: Problem, case: Case, number: int, candidates: list) -> Step:
    eqs = [sympy.Eq(e, 0) for e in case.equations]
    subs = []
    points = [v.point for v in case.verdicts]
    unk = {f"u{i}": u for i, u in enumerate(case.unknowns)}
    unknowns = ", ".join("{" + k + "}" for k in unk)
    if points:
        text = explain(
            f"Solve for {unknowns}: {len(points)} solution{'s' if len(points) != 1 else ''}.", **unk
        )
    else:
        text = explain(
            f"Solve for {unknowns}: the system has no solution, so this case gives no candidate.",
            **unk,
        )
    subs.append(
        Step(
            "solve",
            None,
            points or sympy.EmptySet,
            text,
            check=_solutions_check(case.equations, points),
        )
    )
    for v in case.verdicts:
        where = "The solution {p}"
        if v.duplicate_of is not None:
            k = v.duplicate_of + 1
            text = explain(
                f"{where} is the same point as candidate {k}, already kept; not counted twice.",
                p=_point_eqs(v.point),
            )
            rule = "duplicate"
        elif v.kept:
            k = (
                next(
                    i for i, c in enumerate(candidates) if c.point is v.point or c.point == v.point
                )
                + 1
            )
            conds = "real, primal and dual feasible" if problem.inequalities else "real"
            text = explain(
                f"{where} is {conds}, so it is kept as candidate {k}.", p=_point_eqs(v.point)
            )
            rule = "keep"
        else:
            text = explain(
                f"{where} is rejected: {{why}}.", p=_point_eqs(v.point), why="; ".join(v.reasons)
            )
            rule = "reject"
        subs.append(
            Step(
                rule, None, None, text, check=_verdict_check(problem, v.point, v.kept, case.active)
            )
        )
    intro = (
        _case_text(problem, case, number)
        if problem.inequalities
        else explain(f"Solve the system for {unknowns} exactly.", **unk)
    )
    return Step("case", None, None, intro, substeps=subs, form=eqs, check=False)


def _irregular_step(problem: Problem, sol: Solution) -> Step:
    h = problem.equalities[0].expr
    grad = [_diff(h, v) for v in problem.vars]
    points = [p for p, _ in sol.irregular]

    def check(step: Step) -> bool:
        for p in points:
            for e in [h] + grad:
                if not is_zero(e.subs(p)):
                    raise AssertionError(f"{_fmt(e)} is not 0 at {_point_text(p)}")
        return True

    where = "; ".join(f"{_tuple_text(problem, p)} with f = {_fmt(v)}" for p, v in sol.irregular)
    text = (
        f"Lagrange's condition needs grad h != 0. The constraint's gradient vanishes at {where}: "
        "there the condition need not hold, so compare these points with the candidates too."
    )
    return Step("irregular", None, points, text, check=check)


def _kkt_conditions(problem: Problem) -> list:
    conds = [sympy.Eq(_diff(problem.L, v), 0) for v in problem.vars]
    conds += [sympy.Eq(c.expr, 0) for c in problem.equalities]
    conds += [sympy.Le(c.expr, 0) for c in problem.inequalities]
    if problem.sense == "min":
        conds += [sympy.Ge(c.multiplier, 0) for c in problem.inequalities]
    else:
        conds += [sympy.Le(c.multiplier, 0) for c in problem.inequalities]
    conds += [sympy.Eq(c.multiplier * c.expr, 0) for c in problem.inequalities]
    return conds


def _classify_step(problem: Problem, sol: Solution) -> Step:
    subs = []
    for k, c in enumerate(sol.candidates, 1):
        xs = {v: c.point[v] for v in problem.vars}
        before = sympy.Subs(problem.f, tuple(xs), tuple(xs.values()))
        text = f"Candidate {k}: f at {_tuple_text(problem, c.point)}."
        if c.local:
            text += f" Second-order test: {c.local}."
        if c.family:
            text += " This is a whole family of stationary points (a free parameter remains)."
        subs.append(Step("evaluate", before, c.value, text))
    finite = [
        (k, c)
        for k, c in enumerate(sol.candidates, 1)
        if "maximum" in c.labels or "minimum" in c.labels
    ]
    sentences = []
    for label, word in (("maximum", "largest"), ("minimum", "smallest")):
        hits = [k for k, c in finite if label in c.labels]
        if not hits:
            continue
        value = sol.candidates[hits[0] - 1].value
        where = ", ".join(str(k) for k in hits)
        s = "s" if len(hits) > 1 else ""
        certain = sol.convex and label == ("minimum" if problem.sense == "min" else "maximum")
        sentences.append(
            f"the {word} value of f, {_fmt(value)}, is at candidate{s} {where}: "
            f"the constrained {label}{'' if certain else ' if one exists'}"
        )
    if problem.inequalities:
        goal = "minimum" if problem.sense == "min" else "maximum"
        lead = f"Compare f at the KKT points of a {goal}: "
    else:
        lead = "Compare f at the candidates: "
    text = lead + ("; ".join(sentences) if sentences else "no candidate has a definite value") + "."
    note = None
    if sol.convex and problem.sense == "min":
        note = (
            "The problem is convex (f and every g_j have positive semidefinite constant Hessians, "
            "every h_i "
            "is affine), so a KKT point is a global minimum."
        )
    elif sentences:
        note = (
            "A largest or smallest candidate is the constrained optimum when one exists (for "
            "example when the feasible set is closed and bounded); the second-order test says "
            "what each point is locally."
        )
    return Step("classify", None, None, text, substeps=subs, note=note, check=False)


def _residual_steps(problem: Problem, sol: Solution) -> list[Step]:
    steps = []
    what = "KKT" if problem.inequalities else "Lagrange"
    for k, c in enumerate(sol.candidates, 1):
        if c.family:
            continue
        grad = [_diff(problem.L, v) for v in problem.vars]
        exprs = grad + [h.expr for h in problem.equalities]
        exprs += [g.multiplier * g.expr for g in problem.inequalities]
        with sympy.evaluate(False):  # show the values put in, before any arithmetic
            raw = [e.subs(c.point) for e in exprs]
        names = ["stationarity"] + (["the equality constraints"] if problem.equalities else [])
        names += ["complementary slackness"] if problem.inequalities else []
        text = explain(
            f"Check candidate {k} with exact gradients: the {what} residuals ({', '.join(names)}) "
            "at {p} are all 0.", p=_tuple_eq(problem, c.point),
        )  # fmt: skip
        steps.append(
            Step(
                "kkt_check",
                sympy.Matrix(raw),
                sympy.zeros(len(raw), 1),
                text,
                check=_residual_check(raw),
            )
        )
    return steps


def _blind_reference(problem: Problem) -> list[dict] | None:
    """The KKT system in one solve (complementary slackness as equations), filtered by
    feasibility: an independent route to the same candidate points (None if it runs away)."""
    eqs = [_diff(problem.L, v) for v in problem.vars]
    eqs += [c.expr for c in problem.equalities]
    eqs += [c.multiplier * c.expr for c in problem.inequalities]
    unknowns = list(problem.vars) + problem.multipliers
    try:
        with time_limit(SOLVE_SECONDS, "the one-shot KKT solve used as a reference"):
            sols = sympy.solve(eqs, unknowns, dict=True)
    except (LimitError, NotImplementedError):
        return None
    out = []
    for s in sols:
        if any(u not in s for u in unknowns):
            return None  # a family: leave it to the exact residual checks
        pt = {u: s[u] for u in unknowns}
        if any(_is_real(v) is False for v in pt.values()):
            continue
        ok = True
        for c in problem.inequalities:
            g, mu = _num(c.expr.subs(pt)).real, _num(pt[c.multiplier]).real
            if (
                g > _TOL
                or (problem.sense == "min" and mu < -_TOL)
                or (problem.sense == "max" and mu > _TOL)
            ):
                ok = False
        if ok:
            out.append(pt)
    return out


def _result_check(problem: Problem):
    def check(d: Derivation) -> bool:
        for point in d.result:
            res = _residuals(problem, point)
            if any(r != 0 for r in res) and not any(v.free_symbols for v in point.values()):
                return False
        ref = _blind_reference(problem)
        if ref is None:
            return True  # no independent solve within the time limit; residuals were exact
        # compare as sets of numeric tuples (the one-shot solve may list a point twice)
        unknowns = list(problem.vars) + problem.multipliers

        def key(p):
            return tuple(round(_num(p[u]).real, 12) for u in unknowns)

        return {key(p) for p in ref} == {key(p) for p in d.result}

    return check


@budgeted("steps.lagrange")
def lagrange(f: Any, constraints: Any, vars: Any = None, *, sense: str = "min") -> Derivation:
    """Step-by-step Lagrange multipliers (equalities) or KKT conditions (inequalities).

    The same arguments as :func:`symml.lagrange.lagrange`, whose candidate list is the
    derivation's ``result``.

    Parameters
    ----------
    f : str or sympy.Expr
        The objective.
    constraints : str, sympy relation, or a list of them
        ``"x^2 + y^2 == 1"``, ``"x + y <= 2"``, ``"x >= 0"`` or SymPy relations.
    vars : optional
        The variables; default: the free symbols of ``f`` and the constraints, by name.
    sense : {"min", "max"}
        The optimum the KKT conditions describe (only with inequality constraints).

    Returns
    -------
    Derivation
        ``.result`` is the list of candidate points (dicts including the multipliers).

    Examples
    --------
    >>> d = lagrange("(x - 2)^2 + (y - 1)^2", "x + y <= 2")
    >>> d.result
    [{x: 3/2, y: 1/2, mu: 1}]
    >>> print([s.explanation for s in d.steps if s.rule == "cases"][0])
    Split complementary slackness g*mu = 0 into 2 active-set cases: each inequality is either
    active (g = 0) or inactive (mu = 0).
    >>> d.verify()
    True
    """
    problem = _problem(f, constraints, vars, sense)
    sol = solve_problem(problem)
    definitions: dict = {}
    steps = [_constraint_steps(problem), _lagrangian_step(problem)]
    partials = [_partial_step(problem, v, definitions) for v in problem.vars]
    grad_before = sympy.Matrix([s.before for s in partials])
    grad_after = sympy.Matrix([s.after for s in partials])
    steps.append(
        Step(
            "stationarity",
            grad_before,
            grad_after,
            "Stationarity: every partial derivative of L with respect to the variables is 0.",
            substeps=partials,
        )
    )
    if problem.inequalities:
        conds = _kkt_conditions(problem)
        x0 = sympy.Symbol("x", real=True)
        text = explain(
            "The KKT conditions: stationarity ({st} for every variable), primal feasibility "
            "({h}, {g}), dual feasibility ({mu}) and complementary slackness ({cs}).",
            st=sympy.Eq(sympy.Derivative(_L, x0), 0), h=sympy.Eq(_H, 0), g=sympy.Le(_G, 0),
            mu=sympy.Ge(_MU, 0) if sense == "min" else sympy.Le(_MU, 0),
            cs=sympy.Eq(sympy.Mul(_MU, _G, evaluate=False), 0),
        )  # fmt: skip
        steps.append(Step("kkt", None, conds, text, check=False, detail="brief"))
        m = len(problem.inequalities)
        text = explain(
            "Split complementary slackness {cs} into " + str(2**m) + " active-set cases: "
            "each inequality is either active ({g}) or inactive ({mu}).",
            cs=sympy.Eq(sympy.Mul(_MU, _G, evaluate=False), 0), g=sympy.Eq(_G, 0),
            mu=sympy.Eq(_MU, 0),
        )  # fmt: skip
        cases = [_case_step(problem, c, i, sol.candidates) for i, c in enumerate(sol.cases, 1)]
        steps.append(Step("cases", None, None, text, substeps=cases, check=False))
    else:
        system = [sympy.Eq(_diff(problem.L, v), 0) for v in problem.vars]
        system += [sympy.Eq(c.expr, 0) for c in problem.equalities]
        text = (
            "The Lagrange system: the stationarity equations together with the constraints "
            "(dL/dlambda = 0 gives back each constraint)."
        )
        steps.append(Step("system", None, system, text, check=False))
        steps.append(_case_step(problem, sol.cases[0], 1, sol.candidates))
    result = [dict(c.point) for c in sol.candidates]
    n = len(result)
    listing = "The candidate points with their multipliers" if n else "There is no candidate point"
    steps.append(
        Step("candidates", None, result if n else sympy.EmptySet, f"{listing}.", check=False)
    )
    if sol.irregular:
        steps.append(_irregular_step(problem, sol))
    if n:
        steps.append(_classify_step(problem, sol))
        steps += _residual_steps(problem, sol)
    cons = {f"c{i}": c.relation for i, c in enumerate(problem.constraints)}
    goal = {"min": "Minimum", "max": "Maximum"}[sense] if problem.inequalities else "Extrema"
    title = explain(f"{goal} of {{f}} subject to " + ", ".join("{" + k + "}" for k in cons),
                    f=problem.f, **cons)  # fmt: skip
    return Derivation(
        title,
        "lagrange",
        None,
        steps,
        result,
        definitions=definitions,
        result_check=_result_check(problem),
    )
