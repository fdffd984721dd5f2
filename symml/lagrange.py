"""Lagrange multipliers and KKT conditions, solved exactly.

Conventions (the same in :func:`lagrange`, :func:`lagrangian` and ``symml.steps.lagrange``):

* An equality constraint ``a == b`` is written ``h(x) = a - b = 0`` and gets a multiplier
  ``lambda`` (``lambda_1``, ``lambda_2``, ... when there are several).
* An inequality constraint is brought to the standard form ``g(x) <= 0`` (``a <= b`` gives
  ``g = a - b``, ``a >= b`` gives ``g = b - a``) and gets a multiplier ``mu`` (``mu_1``,
  ``mu_2``, ...).
* The Lagrangian is ``L = f - sum(lambda_i*h_i) + sum(mu_j*g_j)``. For a *minimum* the KKT
  conditions require ``mu_j >= 0`` (dual feasibility), ``g_j <= 0`` (primal feasibility) and
  ``mu_j*g_j = 0`` (complementary slackness); for a maximum (``sense="max"``) ``mu_j <= 0``.
* Inequalities are solved by active-set cases: each inequality is either active
  (``g_j = 0``, ``mu_j`` unknown) or inactive (``mu_j = 0``), giving ``2^m`` small systems
  instead of one blind solve; every solution is kept or rejected with its reason.

>>> lagrange("x^2 + y^2", "x + y >= 1")
[{x: 1/2, y: 1/2, mu: 1}]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy

from ._limits import budgeted, time_limit
from ._diff import diff as _diff
from .errors import ArgumentError, DerivationError, LimitError
from .symbols import symbol

__all__ = ["lagrange", "lagrangian"]

#: Seconds any single SymPy solve may take before it is abandoned with a LimitError.
SOLVE_SECONDS = 30
#: Most inequality constraints accepted (2^m active-set cases).
MAX_INEQUALITIES = 8


# -- conversion at the boundary ---------------------------------------------------------------
def _as_expr(f: Any) -> sympy.Expr:
    from ._convert import as_expr

    out = as_expr(f)
    if isinstance(out, sympy.MatrixBase):
        if out.shape == (1, 1):
            return out[0, 0]
        raise ArgumentError(
            f"the objective must be a scalar expression, got a {out.shape[0]}x{out.shape[1]} "
            "matrix; optimize one component or a sum of them"
        )
    return out


def _as_relation(c: Any) -> sympy.Basic:
    from ._convert import as_relation

    return as_relation(c)


def _as_symbols(vars: Any, exprs: Sequence[sympy.Expr]) -> list[sympy.Symbol]:
    from ._convert import as_symbols

    return list(as_symbols(vars, exprs))


# -- the problem ------------------------------------------------------------------------------
@dataclass
class Constraint:
    """One constraint in standard form: ``expr == 0`` (equality) or ``expr <= 0``."""

    relation: sympy.Basic  # as the user wrote it
    expr: sympy.Expr  # h (equality) or g (inequality, g <= 0)
    kind: str  # "eq" or "ineq"
    multiplier: sympy.Symbol


@dataclass
class Problem:
    """A constrained problem, converted and named once at the boundary."""

    f: sympy.Expr
    vars: list[sympy.Symbol]
    equalities: list[Constraint]
    inequalities: list[Constraint]
    sense: str
    L: sympy.Expr

    @property
    def multipliers(self) -> list[sympy.Symbol]:
        return [c.multiplier for c in self.equalities + self.inequalities]

    @property
    def constraints(self) -> list[Constraint]:
        return self.equalities + self.inequalities


def _constraint_list(constraints: Any) -> list[Any]:
    if constraints is None:
        return []
    if isinstance(constraints, (str, sympy.Basic)) or not isinstance(
        constraints, (list, tuple, set, frozenset)
    ):
        return [constraints]
    return list(constraints)


def _standard_form(rel: Any, original: Any) -> tuple[sympy.Expr, str]:
    if isinstance(rel, sympy.Equality):
        return rel.lhs - rel.rhs, "eq"
    if isinstance(rel, (sympy.StrictLessThan, sympy.StrictGreaterThan)):
        op = "<" if isinstance(rel, sympy.StrictLessThan) else ">"
        raise ArgumentError(
            f"the strict inequality {original!r} may have no attained optimum; write it with "
            f"'{op}=' instead"
        )
    if isinstance(rel, sympy.LessThan):
        return rel.lhs - rel.rhs, "ineq"
    if isinstance(rel, sympy.GreaterThan):
        return rel.rhs - rel.lhs, "ineq"
    raise ArgumentError(
        f"a constraint must be an equation or an inequality such as 'x^2 + y^2 == 1' or "
        f"'x + y <= 2', got {original!r}"
    )


def _multiplier_names(base: str, count: int, taken: set[str]) -> list[str]:
    names = [base] if count == 1 else [f"{base}_{i}" for i in range(1, count + 1)]
    out = []
    for name in names:
        candidate = name
        while candidate in taken:
            candidate += "_"
        taken.add(candidate)
        out.append(candidate)
    return out


def _problem(f: Any, constraints: Any, vars: Any = None, sense: str = "min") -> Problem:
    """Convert and validate the inputs of :func:`lagrange` (once, at the boundary)."""
    if sense not in ("min", "max"):
        raise ArgumentError(f"sense must be 'min' or 'max', got {sense!r}")
    f = _as_expr(f)
    items = _constraint_list(constraints)
    if not items:
        raise ArgumentError(
            "lagrange needs at least one constraint, e.g. 'x^2 + y^2 == 1'; for an "
            "unconstrained problem set the gradient to zero (symml.grad) instead"
        )
    forms = []
    for item in items:
        rel = _as_relation(item)
        expr, kind = _standard_form(rel, item)
        forms.append((rel, sympy.expand(expr) if expr.is_polynomial() else expr, kind))
    exprs = [f] + [e for _, e, _ in forms]
    if vars is None:
        free: set[sympy.Symbol] = set()
        for e in exprs:
            free |= e.free_symbols
        xs = sorted(free, key=lambda s: s.name)
    else:
        xs = _as_symbols(vars, exprs)
    if not xs:
        raise ArgumentError("the problem has no variables; give an objective in some variables")
    for rel, e, _ in forms:
        if not (e.free_symbols & set(xs)):
            raise ArgumentError(
                f"the constraint {rel} does not involve any of the variables "
                f"{', '.join(map(str, xs))}"
            )
    n_ineq = sum(kind == "ineq" for *_, kind in forms)
    if n_ineq > MAX_INEQUALITIES:
        raise LimitError(
            f"{n_ineq} inequality constraints give 2^{n_ineq} active-set cases; at most "
            f"{MAX_INEQUALITIES} are supported"
        )
    taken = {s.name for e in exprs for s in e.free_symbols} | {s.name for s in xs}
    lam_names = _multiplier_names("lambda", len(forms) - n_ineq, taken)
    mu_names = _multiplier_names("mu", n_ineq, taken)
    eqs, ineqs = [], []
    for rel, e, kind in forms:
        if kind == "eq":
            eqs.append(Constraint(rel, e, kind, symbol(lam_names[len(eqs)])))
        else:
            ineqs.append(Constraint(rel, e, kind, symbol(mu_names[len(ineqs)])))
    L = (
        f
        - sum((c.multiplier * c.expr for c in eqs), sympy.S.Zero)
        + sum((c.multiplier * c.expr for c in ineqs), sympy.S.Zero)
    )
    return Problem(f, xs, eqs, ineqs, sense, L)


# -- solving ----------------------------------------------------------------------------------
@dataclass
class Verdict:
    """One solution of one case's system, kept or rejected (with the reason)."""

    point: dict  # symbol -> value, variables then multipliers (inactive mu = 0 included)
    kept: bool
    reasons: list[str] = field(default_factory=list)
    duplicate_of: int | None = None  # index into Solution.candidates


@dataclass
class Case:
    """An active-set case: which inequalities are active, its system and its solutions."""

    active: tuple[int, ...]  # indices into Problem.inequalities
    equations: list[sympy.Expr]  # each = 0
    unknowns: list[sympy.Symbol]
    verdicts: list[Verdict] = field(default_factory=list)
    note: str | None = None


@dataclass
class Candidate:
    """A point that satisfies the Lagrange / KKT conditions."""

    point: dict
    value: sympy.Expr | None  # f at the point
    family: bool = False  # infinitely many points (free parameters remain)
    local: str | None = None  # second-order verdict
    #: for a family: where its members satisfy the KKT sign conditions (a Set of the one
    #: free parameter, or a Boolean of the conditions); None when no condition applies
    where: Any = None
    labels: list[str] = field(default_factory=list)  # "maximum", "minimum"


@dataclass
class Solution:
    problem: Problem
    cases: list[Case]
    candidates: list[Candidate]
    residuals: list[list[sympy.Expr]]  # per candidate: exact KKT residuals (all zero)
    convex: bool = False
    notes: list[str] = field(default_factory=list)
    #: feasible points where the constraint gradient vanishes (Lagrange's condition does not
    #: apply there), with the value of f: (point of the variables, value)
    irregular: list[tuple[dict, sympy.Expr]] = field(default_factory=list)


def _is_real(value: sympy.Expr) -> bool | None:
    if value.is_real is not None:
        return bool(value.is_real)
    if value.free_symbols:
        return None
    v = complex(sympy.N(value, 30))
    return abs(v.imag) <= 1e-25 * max(1.0, abs(v.real))


def _sign(value: sympy.Expr) -> int | None:
    """-1, 0 or 1 for a constant expression, decided exactly when possible; None if unknown."""
    value = sympy.nsimplify(value) if value.is_Float else value
    if value.free_symbols:
        value = sympy.simplify(value)
        if value.free_symbols:
            return None
    if value.is_zero:
        return 0
    if value.is_positive:
        return 1
    if value.is_negative:
        return -1
    simplified = sympy.simplify(value)
    if simplified.is_zero:
        return 0
    if simplified.is_positive:
        return 1
    if simplified.is_negative:
        return -1
    num = sympy.N(simplified, 50)
    if abs(num) < sympy.Float("1e-40"):
        return 0
    return 1 if num > 0 else -1


def _fmt(e: Any) -> str:
    """Write an expression in the symml language (``^`` for powers)."""
    try:
        from .lang import to_text

        return to_text(e)
    except Exception:  # noqa: BLE001 - the printer is optional here; fall back to SymPy's
        return sympy.sstr(e).replace("**", "^")


def _case_equations(problem: Problem, active: tuple[int, ...]) -> tuple[list, list]:
    inactive = {c.multiplier: 0 for j, c in enumerate(problem.inequalities) if j not in active}
    L = problem.L.subs(inactive)
    eqs = [_diff(L, v) for v in problem.vars]
    eqs += [c.expr for c in problem.equalities]
    eqs += [problem.inequalities[j].expr for j in active]
    unknowns = list(problem.vars) + [c.multiplier for c in problem.equalities]
    unknowns += [problem.inequalities[j].multiplier for j in active]
    return eqs, unknowns


def _solve(eqs: list, unknowns: list, what: str) -> list[dict]:
    eqs = [sympy.together(e) if e.is_rational_function(*unknowns) else e for e in eqs]
    eqs = [e for e in eqs if e != 0]
    if not eqs:
        return [{}]
    try:
        with time_limit(SOLVE_SECONDS, what):
            sols = sympy.solve(eqs, unknowns, dict=True)
    except NotImplementedError as exc:
        raise DerivationError(f"SymPy cannot solve {what} exactly: {exc}") from exc
    return sols


def _complete(sol: dict, problem: Problem, unknowns: list, active: tuple[int, ...]) -> dict:
    """Order a solution as variables, lambdas, mus; missing unknowns stay free parameters."""
    point = {}
    for s in problem.vars:
        point[s] = sympy.simplify(sol.get(s, s)) if s in sol else s
    for c in problem.equalities:
        point[c.multiplier] = (
            sympy.simplify(sol[c.multiplier]) if c.multiplier in sol else c.multiplier
        )
    for j, c in enumerate(problem.inequalities):
        if j in active:
            m = c.multiplier
            point[m] = sympy.simplify(sol[m]) if m in sol else m
        else:
            point[c.multiplier] = sympy.S.Zero
    return point


def _relation_text(rel: sympy.Basic, point: dict) -> str:
    lhs = sympy.simplify(rel.lhs.subs(point))
    rhs = sympy.simplify(rel.rhs.subs(point))
    return _fmt(rel.lhs), _fmt(lhs), _fmt(rhs)


def _judge(problem: Problem, active: tuple[int, ...], point: dict) -> tuple[bool, list[str]]:
    """Check reality, primal feasibility of inactive inequalities and dual feasibility."""
    reasons = []
    for k, v in point.items():
        if not v.free_symbols and _is_real(v) is False:
            reasons.append(f"{k} = {_fmt(v)} is not real")
    if reasons:
        return False, reasons
    for j, c in enumerate(problem.inequalities):
        rel = c.relation
        if j not in active:
            val = c.expr.subs(point)
            s = _sign(val) if not val.free_symbols else None
            if s == 1:
                lhs_text, lhs, rhs = _relation_text(rel, point)
                op = {"<=": ">", ">=": "<"}[rel.rel_op]
                reasons.append(
                    f"{lhs_text} = {lhs} {op} {rhs} violates primal feasibility ({_fmt(rel)})"
                )
        else:
            mu = point[c.multiplier]
            s = _sign(mu) if not mu.free_symbols else None
            if s is not None and (
                (problem.sense == "min" and s < 0) or (problem.sense == "max" and s > 0)
            ):
                op, need = ("< 0", ">= 0") if s < 0 else ("> 0", "<= 0")
                reasons.append(
                    f"{c.multiplier} = {_fmt(mu)} {op} violates dual feasibility "
                    f"({c.multiplier} {need} for a {_goal(problem.sense)})"
                )
    return not reasons, reasons


def _pin_family(
    problem: Problem, active: tuple[int, ...], point: dict
) -> tuple[list[dict], str, Any] | None:
    """Where does a family of solutions meet the KKT sign conditions?

    Returns None for a single point or a problem without inequalities, else
    ``(points, reason, where)``: no points (``reason`` says why) when no member is feasible;
    the finitely many feasible members; or the family itself with ``where``, the set of its
    free parameter (``z`` in ``[0, 3]``) or, with several parameters or conditions SymPy
    cannot solve, the conditions themselves, on which its members are KKT points. A family
    is never kept without its sign conditions (``mu = z*(3 - z)`` is dual feasible only for
    ``0 <= z <= 3``).
    """
    unknowns = set(problem.vars) | set(problem.multipliers)
    free = set().union(*(v.free_symbols for v in point.values())) & unknowns
    if not free or not problem.inequalities:
        return None
    conds = []
    for j, c in enumerate(problem.inequalities):
        if j not in active:
            conds.append(sympy.Le(c.expr.subs(point), 0))
        else:
            mu = point[c.multiplier]
            conds.append(sympy.Ge(mu, 0) if problem.sense == "min" else sympy.Le(mu, 0))
    conds = [c for c in conds if c is not sympy.true]
    if any(c is sympy.false for c in conds):
        text = ", ".join(_fmt(c) for c in conds if c is not sympy.false)
        return [], f"the feasibility conditions cannot hold ({text})", None
    if not conds:
        return [point], "", None
    if len(free) > 1:
        return [point], "", sympy.And(*conds)
    (t,) = free
    where = sympy.S.Reals
    try:
        with time_limit(SOLVE_SECONDS, "the feasibility conditions of a family of solutions"):
            for cond in conds:
                where = where & sympy.solveset(cond, t, domain=sympy.S.Reals)
    except (NotImplementedError, ValueError, TypeError):
        return [point], "", sympy.And(*conds)
    if isinstance(where, sympy.ConditionSet) or where.has(sympy.ConditionSet):
        return [point], "", sympy.And(*conds)
    if where is sympy.S.EmptySet:
        text = ", ".join(_fmt(c) for c in conds)
        return [], f"no value of {t} satisfies the feasibility conditions {text}", None
    if isinstance(where, sympy.FiniteSet):
        pts = [{k: sympy.simplify(v.subs(t, val)) for k, v in point.items()} for val in where]
        return pts, "", None
    if where == sympy.S.Reals:
        return [point], "", None
    return [point], "", where


class Family(dict):
    """A family of KKT points: the point (with free parameters) and where it holds.

    ``where`` is the set of the free parameter on which every member satisfies the KKT sign
    conditions (``parameter`` names it), or a Boolean of the conditions when they could not
    be solved; None when no condition applies. Compares equal to the plain dict.
    """

    def __init__(self, point: dict, where: Any = None):
        super().__init__(point)
        self.where = where
        self.parameter = (
            next(iter(where.free_symbols), None)
            if isinstance(where, sympy.Basic) and not isinstance(where, sympy.Set)
            else None
        )

    def __repr__(self) -> str:
        if self.where is None:
            return super().__repr__()
        return f"{super().__repr__()} where {_where_text(self, self.where)}"


def _set_text(where: Any) -> str:
    if isinstance(where, sympy.Interval):
        lo = "(" if where.left_open else "["
        hi = ")" if where.right_open else "]"
        return f"{lo}{_fmt(where.start)}, {_fmt(where.end)}{hi}"
    if isinstance(where, sympy.Union):
        return " or ".join(_set_text(a) for a in where.args)
    return _fmt(where)


def _where_text(point: dict, where: Any) -> str:
    """``z in [0, 3]`` for a set of the family's parameter, else the conditions."""
    if isinstance(where, sympy.Set):
        free = set().union(*(getattr(v, "free_symbols", set()) for v in point.values()))
        t = sorted(free, key=str)[0] if free else "t"
        return f"{t} in {_set_text(where)}"
    return _fmt(where)


def _drop_instances(points: list[dict], unknowns: set) -> list[dict]:
    """Drop solutions that are members of a family also returned (SymPy may list both)."""
    families = [q for q in points if any(v.free_symbols & unknowns for v in q.values())]
    if not families:
        return points
    out = []
    for p in points:
        if p in families or any(v.free_symbols & unknowns for v in p.values()):
            out.append(p)
            continue
        member = False
        for q in families:
            free = sorted(set().union(*(v.free_symbols for v in q.values())) & unknowns, key=str)
            eqs = [q[k] - p[k] for k in p if q[k] != p[k]]
            if not eqs:
                member = True
                break
            try:
                sols = sympy.solve(eqs, free, dict=True)
            except NotImplementedError:
                sols = []
            if sols:
                member = True
                break
        if not member:
            out.append(p)
    return out


def _goal(sense: str) -> str:
    return "minimum" if sense == "min" else "maximum"


def _same_point(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    return all(sympy.simplify(a[k] - b[k]) == 0 for k in a)


def _sort_key(point: dict) -> tuple:
    key = []
    for v in point.values():
        if v.free_symbols:
            key.append((1, 0.0, str(v)))
        else:
            key.append((0, float(sympy.re(sympy.N(v, 20))), str(v)))
    return tuple(key)


def _second_order(problem: Problem, point: dict) -> str:
    """Classify a candidate by the Hessian of L on the active constraints' tangent space."""
    sub = dict(point)
    H = sympy.hessian(problem.L, problem.vars).subs(sub)
    rows = [c.expr for c in problem.equalities]
    weak = False
    for c in problem.inequalities:
        if sympy.simplify(c.expr.subs(sub)) == 0:
            m = sub[c.multiplier]
            if _sign(m) == 0:
                weak = True
            else:
                rows.append(c.expr)
    if rows:
        J = sympy.Matrix([[_diff(r, v) for v in problem.vars] for r in rows]).subs(sub)
        if J.rank() < len(rows):
            return (
                "the constraint gradients are linearly dependent here (LICQ fails); "
                "no second-order verdict"
            )
        Z = J.nullspace()
        if not Z:
            return "the active constraints fix the point (no feasible direction to move along)"
        Zm = sympy.Matrix.hstack(*Z)
    else:
        Zm = sympy.eye(len(problem.vars))
    R = sympy.simplify(Zm.T * H * Zm)
    import numpy as np

    try:
        eig = np.linalg.eigvalsh(np.array(sympy.N(R, 30).tolist(), dtype=float))
    except (TypeError, ValueError):
        return "the second-order test could not be evaluated"
    scale = max(1.0, float(np.max(np.abs(eig)))) if eig.size else 1.0
    tol = 1e-10 * scale
    where = "on the constraint surface" if rows else "in every direction"
    extra = (
        " (a weakly active inequality makes this a sufficient-condition check only)" if weak else ""
    )
    if np.all(eig > tol):
        return f"strict local minimum: the Hessian of L is positive definite {where}{extra}"
    if np.all(eig < -tol):
        return f"strict local maximum: the Hessian of L is negative definite {where}{extra}"
    if np.any(eig > tol) and np.any(eig < -tol):
        return f"saddle point: the Hessian of L is indefinite {where}"
    return f"inconclusive: the Hessian of L is only semidefinite {where}"


def _is_convex(problem: Problem) -> bool:
    """A cheap sufficient test: f and every g_j have constant PSD Hessians, every h_i is affine."""

    def const_psd(e, sign=1):
        H = sympy.hessian(sign * e, problem.vars)
        if H.free_symbols & set(problem.vars):
            return False
        if H.free_symbols:
            return False
        return bool(H.is_positive_semidefinite)

    sign = 1 if problem.sense == "min" else -1
    if not const_psd(problem.f, sign):
        return False
    for c in problem.equalities:
        if sympy.hessian(c.expr, problem.vars) != sympy.zeros(len(problem.vars)):
            return False
    return all(const_psd(c.expr) for c in problem.inequalities)


def _residuals(problem: Problem, point: dict) -> list[sympy.Expr]:
    """Exact KKT residuals at a point: stationarity, equalities, complementary slackness."""
    grad = [_diff(problem.L, v) for v in problem.vars]
    out = [sympy.simplify(g.subs(point)) for g in grad]
    out += [sympy.simplify(c.expr.subs(point)) for c in problem.equalities]
    out += [sympy.simplify((c.multiplier * c.expr).subs(point)) for c in problem.inequalities]
    return out


def solve_problem(problem: Problem) -> Solution:
    """Solve the Lagrange / KKT conditions of ``problem`` case by case (internal)."""
    m = len(problem.inequalities)
    subsets = [tuple(a) for k in range(m + 1) for a in itertools.combinations(range(m), k)]
    cases: list[Case] = []
    found: list[dict] = []
    wheres: dict[int, Any] = {}  # id(point) -> where its family holds
    for active in subsets:
        eqs, unknowns = _case_equations(problem, active)
        case = Case(active, eqs, unknowns)
        label = "the Lagrange system" if m == 0 else f"active-set case {len(cases) + 1}"
        sols = _solve(eqs, unknowns, label)
        if not sols:
            case.note = "the system has no solution"
        sols = sorted((_complete(s, problem, unknowns, active) for s in sols), key=_sort_key)
        sols = _drop_instances(sols, set(unknowns))
        pinned = []
        for point in sols:
            narrowed = _pin_family(problem, active, point)
            if narrowed is None:
                pinned.append((point, None, None))
            elif not narrowed[0]:
                pinned.append((point, narrowed[1], None))
            else:
                pinned.extend((p, None, narrowed[2]) for p in narrowed[0])
        for point, why_not, where in pinned:
            if where is not None:
                wheres[id(point)] = where
            if why_not:
                case.verdicts.append(Verdict(point, False, [why_not]))
                continue
            kept, reasons = _judge(problem, active, point)
            verdict = Verdict(point, kept, reasons)
            if kept:
                for i, other in enumerate(found):
                    if _same_point(point, other):
                        verdict.kept = False
                        verdict.duplicate_of = i
                        break
                else:
                    found.append(point)
            case.verdicts.append(verdict)
        cases.append(case)
    candidates = []
    for point in found:
        xs = {v: point[v] for v in problem.vars}
        family = any(
            val.free_symbols & set(problem.vars + problem.multipliers) for val in point.values()
        )
        value = sympy.simplify(problem.f.subs(xs))
        cand = Candidate(point, value, family, where=wheres.get(id(point)))
        if not family:
            cand.local = _second_order(problem, point)
        candidates.append(cand)
    order = sorted(range(len(candidates)), key=lambda i: _sort_key(candidates[i].point))
    candidates = [candidates[i] for i in order]
    remap = {old: new for new, old in enumerate(order)}
    for case in cases:
        for v in case.verdicts:
            if v.duplicate_of is not None:
                v.duplicate_of = remap[v.duplicate_of]
    _label(problem, candidates)
    residuals = [_residuals(problem, c.point) for c in candidates]
    for c, r in zip(candidates, residuals, strict=True):
        if not c.family and any(x != 0 for x in r):
            raise DerivationError(
                f"internal check failed: the KKT residuals at {c.point} are {r}, not zero"
            )
    return Solution(
        problem,
        cases,
        candidates,
        residuals,
        convex=_is_convex(problem),
        irregular=_irregular_points(problem),
    )


def _irregular_points(problem: Problem) -> list[tuple[dict, sympy.Expr]]:
    """Points of a single equality constraint h = 0 where grad h = 0 (LICQ fails).

    Lagrange's condition grad f = lambda*grad h does not have to hold there, so an optimum
    can sit at such a point without being a candidate (min x on y^2 = x^3 at the cusp).
    Only the single-equality case is searched; with several constraints it is a rank
    condition on the Jacobian that is not attempted here.
    """
    if problem.inequalities or len(problem.equalities) != 1:
        return []
    h = problem.equalities[0].expr
    eqs = [h] + [_diff(h, v) for v in problem.vars]
    try:
        sols = _solve(eqs, list(problem.vars), "the search for irregular points of the constraint")
    except (LimitError, DerivationError):
        return []
    out = []
    for sol in sols:
        if any(v not in sol for v in problem.vars):
            continue  # a whole curve of irregular points: not listed
        point = {v: sympy.simplify(sol[v]) for v in problem.vars}
        if all(_is_real(val) for val in point.values()):
            out.append((point, sympy.simplify(problem.f.subs(point))))
    return sorted(out, key=lambda pv: _sort_key(pv[0]))


def _label(problem: Problem, candidates: list[Candidate]) -> None:
    finite = [c for c in candidates if not c.family and not c.value.free_symbols]
    if not finite:
        return
    vals = [sympy.N(c.value, 40) for c in finite]
    lo, hi = min(vals), max(vals)
    tol = sympy.Float("1e-30")
    for c, v in zip(finite, vals, strict=True):
        if problem.inequalities:
            # KKT points for a minimum (or a maximum): the best of them is the candidate.
            best = lo if problem.sense == "min" else hi
            if abs(v - best) <= tol * max(1, abs(best)):
                c.labels.append("minimum" if problem.sense == "min" else "maximum")
        else:
            if abs(v - hi) <= tol * max(1, abs(hi)):
                c.labels.append("maximum")
            if abs(v - lo) <= tol * max(1, abs(lo)):
                c.labels.append("minimum")


# -- public API -------------------------------------------------------------------------------
@budgeted("lagrangian")
def lagrangian(f: Any, constraints: Any, vars: Any = None) -> tuple[sympy.Expr, list[sympy.Symbol]]:
    """The Lagrangian of a constrained problem and its multiplier symbols.

    ``L = f - sum(lambda_i*h_i) + sum(mu_j*g_j)`` where each equality is written
    ``h_i(x) = 0`` and each inequality ``g_j(x) <= 0`` (see the module docstring).

    Parameters
    ----------
    f : str or sympy.Expr
        The objective.
    constraints : str, sympy relation, or a list of them
        ``"x^2 + y^2 == 1"``, ``"x + y <= 2"``, ``"x >= 0"`` or SymPy ``Eq``/``Le``/``Ge``.
    vars : optional
        The variables (names, symbols or a list); default: every free symbol of ``f`` and the
        constraints, sorted by name.

    Returns
    -------
    (L, multipliers) : tuple
        The Lagrangian and the list of multiplier symbols (equalities first).

    Examples
    --------
    >>> L, mults = lagrangian("x*y", "x^2 + y^2 == 1")
    >>> L, mults
    (-lambda*(x**2 + y**2 - 1) + x*y, [lambda])
    >>> lagrangian("x^2 + y^2", ["x + y == 1", "x >= 0"])
    (-lambda*(x + y - 1) - mu*x + x**2 + y**2, [lambda, mu])
    """
    problem = _problem(f, constraints, vars)
    return problem.L, problem.multipliers


@budgeted("lagrange")
def lagrange(f: Any, constraints: Any, vars: Any = None, *, sense: str = "min") -> list[dict]:
    """Candidate points of a constrained optimum, by Lagrange multipliers or KKT conditions.

    Equality constraints alone give the stationary points of ``L`` (both maxima and minima
    are among them). With inequality constraints the KKT conditions of a minimum (or of a
    maximum with ``sense="max"``) are solved case by case over the active sets.
    ``symml.steps.lagrange`` shows the derivation, the rejected cases and the classification.

    Parameters
    ----------
    f : str or sympy.Expr
        The objective.
    constraints : str, sympy relation, or a list of them
        ``"x^2 + y^2 == 1"``, ``"x + y <= 2"``, ``"x >= 0"`` or SymPy relations.
    vars : optional
        The variables; default: every free symbol of ``f`` and the constraints, by name.
    sense : {"min", "max"}
        Which optimum the KKT conditions describe (only matters with inequalities).

    Returns
    -------
    list of dict
        Each candidate maps every variable and every multiplier symbol to its exact value
        (an inactive inequality has multiplier 0). Sorted by the variables' values. A
        family of points is a :class:`Family` (a dict) whose ``where`` holds its sign
        conditions.

    Raises
    ------
    ArgumentError
        Malformed constraints or variables.
    LimitError
        A SymPy solve that runs away, or too many inequalities.

    Examples
    --------
    >>> for p in lagrange("x*y", "x^2 + y^2 == 1"):
    ...     print(p)
    {x: -sqrt(2)/2, y: -sqrt(2)/2, lambda: 1/2}
    {x: -sqrt(2)/2, y: sqrt(2)/2, lambda: -1/2}
    {x: sqrt(2)/2, y: -sqrt(2)/2, lambda: -1/2}
    {x: sqrt(2)/2, y: sqrt(2)/2, lambda: 1/2}
    >>> lagrange("(x - 2)^2 + (y - 1)^2", "x + y <= 2")
    [{x: 3/2, y: 1/2, mu: 1}]

    A family of points (free parameters remain) is a :class:`Family`: its ``where`` says
    on which parameter values its members satisfy the KKT sign conditions.

    >>> lagrange("x*y*z", ["x + y + z == 3", "x >= 0"], ["x", "y", "z"])[2]
    {x: 0, y: 3 - z, z: z, lambda: 0, mu: z*(3 - z)} where z in [0, 3]
    """
    problem = _problem(f, constraints, vars, sense)
    return [
        Family(c.point, c.where) if c.family else dict(c.point)
        for c in solve_problem(problem).candidates
    ]
