"""Families of KKT points carry the sign conditions on which their members are KKT points.

The check is independent of how lagrange finds the set: members are sampled inside and
outside ``where`` and the KKT conditions (stationarity, primal and dual feasibility,
complementary slackness) are evaluated exactly at each member.
"""

from __future__ import annotations

import pytest
import sympy

import symml as sm
from symml.lagrange import Family

PROBLEMS = [
    ("x*y*z", ["x + y + z == 3", "x >= 0"], ["x", "y", "z"], "min"),
    ("x*y*z", ["x + y + z == 3", "x >= 0"], ["x", "y", "z"], "max"),
    ("x*y", ["x >= 0", "y >= 0"], ["x", "y"], "min"),
    ("(x + y)^2", ["x + y <= 1", "x >= -5"], ["x", "y"], "min"),
    ("x^2*y", ["x + y == 2", "y >= 0"], ["x", "y"], "min"),
    ("(x - y)^2", ["x <= 2"], ["x", "y"], "min"),
]

SAMPLES = [sympy.Rational(k, 4) for k in range(-40, 41, 3)]


def _kkt_holds(f, cons, vars_, sense, point) -> bool:
    """All KKT conditions at a concrete point (exact arithmetic)."""
    syms = {str(v): v for v in point}
    xs = [syms[v] for v in vars_]
    L = sm.expr(f).xreplace({sm.symbol(v): syms[v] for v in vars_})
    n_eq = n_in = 0
    names_eq = [k for k in syms if k.startswith("lambda")]
    names_in = sorted(k for k in syms if k.startswith("mu"))
    for c in cons:
        rel = sm.expr(c).xreplace({sm.symbol(v): syms[v] for v in vars_})
        if isinstance(rel, sympy.Equality):
            lam = syms[names_eq[n_eq]]
            n_eq += 1
            L -= lam * (rel.lhs - rel.rhs)  # L = f - lambda*h + mu*g (symml convention)
        else:
            g = rel.lhs - rel.rhs if rel.rel_op == "<=" else rel.rhs - rel.lhs  # g <= 0
            mu = syms[names_in[n_in]]
            n_in += 1
            gv, muv = g.xreplace(point), point[mu]
            if gv > 0 or (muv * gv) != 0:
                return False
            if (sense == "min" and muv < 0) or (sense == "max" and muv > 0):
                return False
            L += mu * g
    return all(sympy.simplify(sympy.diff(L, x).xreplace(point)) == 0 for x in xs)


@pytest.mark.parametrize("f, cons, vars_, sense", PROBLEMS)
def test_family_members_are_kkt_points_exactly_where_the_family_says(f, cons, vars_, sense):
    cands = sm.lagrange(f, cons, vars_, sense=sense)
    families = [c for c in cands if isinstance(c, Family)]
    for fam in families:
        free = sorted(set().union(*(v.free_symbols for v in fam.values())), key=str)
        assert len(free) == 1, fam
        (t,) = free
        where = fam.where if fam.where is not None else sympy.S.Reals
        assert isinstance(where, sympy.Set), fam
        inside = outside = 0
        for s in SAMPLES:
            member = {k: sympy.simplify(v.subs(t, s)) for k, v in fam.items()}
            ok = _kkt_holds(f, cons, vars_, sense, member)
            assert ok == bool(where.contains(s)), (fam, s, ok)
            inside += ok
            outside += not ok
        assert inside > 0
    # every non-family candidate is a KKT point
    for c in cands:
        if not isinstance(c, Family):
            assert _kkt_holds(f, cons, vars_, sense, c), c


def test_the_reported_family_is_conditioned_on_z_in_0_3():
    cands = sm.lagrange("x*y*z", ["x + y + z == 3", "x >= 0"], ["x", "y", "z"])
    (fam,) = [c for c in cands if isinstance(c, Family)]
    z = sm.symbol("z")
    assert fam[sm.symbol("mu")] == z * (3 - z)
    assert fam.where == sympy.Interval(0, 3)
    assert "where z in [0, 3]" in repr(fam)
