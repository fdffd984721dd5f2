"""THE method table behind :func:`symml.minimize`, maximum-likelihood fitting and profile re-fits.

Every optimization method symml knows is one :class:`MethodSpec` row here: its exact name
(and the older spellings accepted as aliases), what kind of runner it uses, SciPy's name
for it, which derivatives it is given, whether it takes bounds, constraints and an L1
penalty, its default tolerance and which SciPy options that tolerance sets, its own
hyperparameters, and the SciPy options that ``options={...}`` may pass through. Nothing
else in the package keeps per-method facts: ``minimize``, ``fit`` (maximum likelihood),
``FitResult.conf_int(method="profile")`` and the command line all read this table.

=================  ===========  ==============  =========  ======  ===========  =========
name (aliases)     kind         SciPy           exact      bounds  constraints  L1
=================  ===========  ==============  =========  ======  ===========  =========
gd ... adam        first-order  --              gradient   proj.   no           proximal
bfgs               scipy        BFGS            gradient   no      no           rejected
l-bfgs-b (lbfgs)   scipy        L-BFGS-B        gradient   yes     no           split
cg                 scipy        CG              gradient   no      no           rejected
tnc                scipy        TNC             gradient   yes     no           split
nelder-mead        scipy        Nelder-Mead     none       yes     no           rejected
powell             scipy        Powell          none       yes     no           rejected
newton-cg          scipy        Newton-CG       hessp      no      no           rejected
newton             scipy        trust-exact     Hessian    no      no           rejected
trust-exact        scipy        trust-exact     Hessian    no      no           rejected
trust-ncg          scipy        trust-ncg       Hessian    no      no           rejected
trust-krylov       scipy        trust-krylov    Hessian    no      no           rejected
slsqp              scipy        SLSQP           gradient   yes     yes          split
trust-constr       scipy        trust-constr    Hessian    yes     yes          rejected
least_squares      lsq          least_squares   Jacobian   yes     no           --
=================  ===========  ==============  =========  ======  ===========  =========

``hessp`` is the exact Hessian-vector product (:func:`symml.calculus.hvp`, compiled), which
Newton-CG uses without ever forming the Hessian. ``newton`` is symml's Newton method: full
steps while the exact Hessian is positive definite and each step lowers the objective,
``trust-exact`` otherwise. ``least_squares`` is symml's least-squares engine (fit only).

>>> from symml.optimize.methods import get_method, method_names
>>> get_method("lbfgs").name, get_method("l-bfgs-b").scipy
('l-bfgs-b', 'L-BFGS-B')
>>> get_method("newton-cg").derivatives
'hessp'
>>> "nelder-mead" in method_names()
True
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ArgumentError

__all__ = [
    "MethodSpec",
    "TABLE",
    "get_method",
    "method_names",
    "scipy_options",
    "iteration_limit",
]

# SciPy's own option names per SciPy method (``scipy.optimize.show_options``); ``options=``
# may set these. ``maxiter`` and the tolerance have keywords of their own.
_COMMON = ("disp", "maxiter", "return_all")
_SCIPY_OPTIONS: dict[str, tuple[str, ...]] = {
    "BFGS": _COMMON + ("gtol", "norm", "xrtol", "c1", "c2", "hess_inv0"),
    "L-BFGS-B": ("disp", "maxiter", "maxcor", "ftol", "gtol", "maxfun", "iprint", "maxls"),
    "CG": _COMMON + ("gtol", "norm", "c1", "c2"),
    "TNC": (
        "disp",
        "scale",
        "offset",
        "maxCGit",
        "maxfun",
        "eta",
        "stepmx",
        "accuracy",
        "minfev",
        "ftol",
        "xtol",
        "gtol",
        "rescale",
    ),  # fmt: skip
    "Nelder-Mead": _COMMON + ("maxfev", "initial_simplex", "xatol", "fatol", "adaptive"),
    "Powell": _COMMON + ("maxfev", "direc", "xtol", "ftol"),
    "Newton-CG": _COMMON + ("xtol", "c1", "c2"),
    "trust-exact": _COMMON + ("initial_trust_radius", "max_trust_radius", "eta", "gtol"),
    "trust-ncg": _COMMON + ("initial_trust_radius", "max_trust_radius", "eta", "gtol"),
    "trust-krylov": _COMMON
    + ("initial_trust_radius", "max_trust_radius", "eta", "gtol", "inexact"),
    "SLSQP": ("disp", "maxiter", "ftol", "iprint"),
    "trust-constr": (
        "disp",
        "maxiter",
        "gtol",
        "xtol",
        "barrier_tol",
        "initial_constr_penalty",
        "initial_tr_radius",
        "initial_barrier_parameter",
        "initial_barrier_tolerance",
        "factorization_method",
        "verbose",
    ),  # fmt: skip
}

#: SciPy ``status`` codes that mean "stopped at the iteration or evaluation limit"
_LIMIT_STATUS: dict[str, frozenset[int]] = {
    "BFGS": frozenset({1}),
    "CG": frozenset({1}),
    "Newton-CG": frozenset({1}),
    "L-BFGS-B": frozenset({1}),
    "TNC": frozenset({3}),
    "Nelder-Mead": frozenset({1, 2}),
    "Powell": frozenset({1, 2}),
    "SLSQP": frozenset({9}),
    "trust-exact": frozenset({1}),
    "trust-ncg": frozenset({1}),
    "trust-krylov": frozenset({1}),
    "trust-constr": frozenset({0}),
}


@dataclass(frozen=True)
class MethodSpec:
    """One optimization method: everything any part of symml needs to know about it.

    Attributes
    ----------
    name : str
        The canonical name (SciPy's name in lower case where SciPy has the method).
    kind : str
        ``"first-order"`` (implemented in symml), ``"scipy"``, or ``"lsq"`` (symml's
        least-squares engine, for ``fit`` only).
    summary : str
        One line for listings.
    scipy : str or None
        SciPy's method name.
    derivatives : str
        What the solver is given exactly: ``"none"``, ``"gradient"``, ``"hessp"``
        (Hessian-vector products) or ``"hessian"``.
    bounds : bool
        Takes bounds (first-order methods project onto them).
    constraints : bool
        Takes equality and inequality constraints.
    l1 : str
        ``"proximal"`` (soft-thresholding steps), ``"split"`` (``x = p - q`` with
        ``p, q >= 0``, exact) or ``"rejected"`` (an L1 penalty is an error with a hint).
    tol : float or None
        Default tolerance of ``minimize`` (tighter than SciPy's: the derivatives are exact).
    tol_options : mapping
        SciPy option -> factor: ``tol=t`` sets each option to ``factor * t``.
    options : mapping
        symml's own hyperparameters of the method and their defaults (``options=``).
    aliases : tuple of str
        Older spellings that name the same method.
    """

    name: str
    kind: str
    summary: str
    scipy: str | None = None
    derivatives: str = "gradient"
    bounds: bool = False
    constraints: bool = False
    l1: str = "rejected"
    tol: float | None = None
    tol_options: Mapping[str, float] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def scipy_options(self) -> tuple[str, ...]:
        """SciPy options that ``options={...}`` passes through to the solver."""
        return _SCIPY_OPTIONS.get(self.scipy or "", ())

    @property
    def option_names(self) -> tuple[str, ...]:
        """Every name ``options={...}`` accepts for this method."""
        return tuple(dict.fromkeys([*self.options, *self.scipy_options]))

    @property
    def uses_hessian(self) -> bool:
        return self.derivatives in ("hessian", "hessp")


def _fo(name: str, summary: str, **options: float) -> MethodSpec:
    return MethodSpec(
        name,
        "first-order",
        summary,
        bounds=True,
        l1="proximal",
        tol=1e-6,
        options={**options, "lr_decay": 0.0},
    )


_ROWS: tuple[MethodSpec, ...] = (
    _fo("gd", "gradient descent on all rows"),
    _fo("sgd", "stochastic gradient descent, one row per update"),
    _fo("minibatch", "minibatch gradient descent, batch_size rows per update"),
    _fo("momentum", "heavy-ball momentum", momentum=0.9),
    _fo("nesterov", "Nesterov accelerated gradient", momentum=0.9),
    _fo("rmsprop", "RMSprop (per-coordinate steps)", rho=0.9, eps=1e-8),
    _fo("adam", "Adam (bias-corrected moments)", beta1=0.9, beta2=0.999, eps=1e-8),
    MethodSpec(
        "bfgs",
        "scipy",
        "SciPy BFGS with the exact gradient",
        "BFGS",
        tol=1e-8,
        tol_options={"gtol": 1.0},
    ),
    MethodSpec(
        "l-bfgs-b",
        "scipy",
        "SciPy L-BFGS-B with the exact gradient; bounds",
        "L-BFGS-B",
        bounds=True,
        l1="split",
        tol=1e-8,
        tol_options={"gtol": 1.0, "ftol": 1e-4},
        options={"maxcor": 10},
        aliases=("lbfgs",),
    ),
    MethodSpec(
        "cg",
        "scipy",
        "SciPy nonlinear conjugate gradient with the exact gradient",
        "CG",
        tol=1e-8,
        tol_options={"gtol": 1.0},
    ),
    MethodSpec(
        "tnc",
        "scipy",
        "SciPy truncated Newton (TNC) with the exact gradient; bounds",
        "TNC",
        bounds=True,
        l1="split",
        tol=1e-8,
        tol_options={"gtol": 1.0, "ftol": 0.0, "xtol": 0.0},
    ),
    MethodSpec(
        "nelder-mead",
        "scipy",
        "SciPy Nelder-Mead simplex, derivative-free; bounds",
        "Nelder-Mead",
        derivatives="none",
        bounds=True,
        tol=1e-10,
        tol_options={"xatol": 1.0, "fatol": 1.0},
    ),
    MethodSpec(
        "powell",
        "scipy",
        "SciPy Powell's conjugate directions, derivative-free; bounds",
        "Powell",
        derivatives="none",
        bounds=True,
        tol=1e-10,
        tol_options={"xtol": 1.0, "ftol": 1.0},
    ),
    MethodSpec(
        "newton-cg",
        "scipy",
        "SciPy Newton-CG with exact Hessian-vector products (symml.calculus.hvp)",
        "Newton-CG",
        derivatives="hessp",
        tol=1e-10,
        tol_options={"xtol": 1.0},
    ),
    MethodSpec(
        "newton",
        "scipy",
        "Newton: full steps on the exact Hessian, trust-exact where they fail",
        "trust-exact",
        derivatives="hessian",
        tol=1e-10,
        tol_options={"gtol": 1.0},
        options={"subproblem": "exact"},
    ),
    MethodSpec(
        "trust-exact",
        "scipy",
        "SciPy trust-exact with the exact Hessian",
        "trust-exact",
        derivatives="hessian",
        tol=1e-10,
        tol_options={"gtol": 1.0},
    ),
    MethodSpec(
        "trust-ncg",
        "scipy",
        "SciPy trust-ncg with the exact Hessian",
        "trust-ncg",
        derivatives="hessian",
        tol=1e-10,
        tol_options={"gtol": 1.0},
    ),
    MethodSpec(
        "trust-krylov",
        "scipy",
        "SciPy trust-krylov with the exact Hessian",
        "trust-krylov",
        derivatives="hessian",
        tol=1e-10,
        tol_options={"gtol": 1.0},
    ),
    MethodSpec(
        "slsqp",
        "scipy",
        "SciPy SLSQP; constraints with exact Jacobians; bounds",
        "SLSQP",
        bounds=True,
        constraints=True,
        l1="split",
        tol=1e-9,
        tol_options={"ftol": 1.0},
    ),
    MethodSpec(
        "trust-constr",
        "scipy",
        "SciPy trust-constr; exact Hessians of objective and constraints; bounds",
        "trust-constr",
        derivatives="hessian",
        bounds=True,
        constraints=True,
        tol=1e-10,
        tol_options={"gtol": 1.0, "xtol": 1.0, "barrier_tol": 1.0},
        options={"hessian": "exact"},
    ),
    MethodSpec(
        "least_squares",
        "lsq",
        "symml's least-squares engine (exact Jacobian, extended-precision polish); fit only",
        "least_squares",
        derivatives="jacobian",
        bounds=True,
    ),
)

#: canonical name -> its row
TABLE: dict[str, MethodSpec] = {m.name: m for m in _ROWS}
_ALIASES: dict[str, str] = {a: m.name for m in _ROWS for a in m.aliases}


def method_names(kind: str | None = None) -> tuple[str, ...]:
    """Canonical names (first-order methods first), optionally of one ``kind`` only."""
    return tuple(n for n, m in TABLE.items() if kind is None or m.kind == kind)


def all_names() -> tuple[str, ...]:
    """Every accepted name: the canonical ones and the aliases."""
    return (*TABLE, *_ALIASES)


def get_method(name: str, *, allowed: tuple[str, ...] | None = None, what: str = "") -> MethodSpec:
    """The row named exactly ``name`` (or an alias); an unknown name lists the valid ones.

    ``allowed`` restricts the choice (the kinds a caller can run), ``what`` says for what.
    """
    if not isinstance(name, str):
        raise ArgumentError(f"method must be a string, got {type(name).__name__}")
    canonical = _ALIASES.get(name, name)
    valid = tuple(n for n in TABLE if allowed is None or TABLE[n].kind in allowed)
    spec = TABLE.get(canonical)
    if spec is None or canonical not in valid:
        names = [*valid, *(a for a, c in _ALIASES.items() if c in valid)]
        close = difflib.get_close_matches(name.lower(), names, n=1)
        hint = f" — did you mean '{close[0]}'?" if close else ""
        where = f" for {what}" if what else ""
        raise ArgumentError(
            f"unknown method {name!r}{where}{hint} Valid methods: {', '.join(valid)}"
        )
    return spec


def split_options(spec: MethodSpec, method: str, options: Mapping[str, Any] | None):
    """``options`` split into symml's hyperparameters (merged into their defaults) and the
    SciPy options passed through; an unknown name lists the valid ones."""
    own = dict(spec.options)
    passed: dict[str, Any] = {}
    for k, v in (options or {}).items():
        if k in spec.options:
            own[k] = v
        elif k in spec.scipy_options:
            passed[k] = v
        else:
            valid = ", ".join(sorted(spec.option_names)) or "none"
            close = difflib.get_close_matches(str(k), list(spec.option_names), n=1)
            hint = f" — did you mean '{close[0]}'?" if close else "."
            raise ArgumentError(
                f"unknown option {k!r} for method {method!r}{hint} Valid options: {valid}"
            )
    return own, passed


def scipy_options(
    spec: MethodSpec, tol: float | None, maxiter: int | None, passed: Mapping[str, Any]
) -> dict[str, Any]:
    """SciPy's ``options`` for one run: the tolerance spread over the method's tolerance
    options, ``maxiter``, then the caller's pass-through options (which win)."""
    out: dict[str, Any] = {}
    t = spec.tol if tol is None else tol
    if t is not None:
        for key, factor in spec.tol_options.items():
            out[key] = factor * t
    if maxiter is not None:
        if "maxiter" in spec.scipy_options:
            out["maxiter"] = int(maxiter)
        if spec.scipy in ("L-BFGS-B", "TNC"):
            out["maxfun"] = max(15000, 2 * int(maxiter))
        if spec.scipy in ("Nelder-Mead", "Powell"):
            out["maxfev"] = max(2000, 4 * int(maxiter))
    out.update(passed)
    return out


def iteration_limit(spec: MethodSpec, res) -> bool:
    """True when SciPy's result says it stopped at its iteration or evaluation limit (read
    from ``res.status``, never from the message text)."""
    status = getattr(res, "status", None)
    if status is None or getattr(res, "success", False):
        return False
    return int(status) in _LIMIT_STATUS.get(spec.scipy or "", frozenset())
