"""The result of :func:`symml.minimize`: a typed, readable record of one optimization run.

Field names follow SciPy's ``OptimizeResult`` (``x, fun, success, status, message, nfev,
nit, jac``); ``history`` holds the objective value at the start and after every iteration,
and ``path`` the iterates themselves for small problems (what the landscape plots draw).

Status codes
------------
====  ========================================================================
0     converged (the method's stopping test was met)
1     the iteration limit (``max_iter`` / ``epochs``) was reached first
2     diverged: the objective or its gradient became NaN or infinite
3     interrupted by the user (Ctrl-C); the best point so far is returned
4     the SciPy solver stopped for another reason (see ``message``)
5     the objective (or its gradient) is not finite at the start; no iteration
====  ========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["OptimizeResult", "format_value", "STATUS"]

STATUS = {
    0: "converged",
    1: "iteration limit reached",
    2: "diverged",
    3: "interrupted",
    4: "solver stopped",
    5: "not finite at the start",
}


def format_value(v: Any, digits: int = 10) -> str:
    """A number or vector written in the symml language (``1.5``, ``[1, 2.5]``).

    >>> format_value(0.1 + 0.2), format_value(np.array([1.0, -2.5])), format_value(-0.0)
    ('0.3', '[1, -2.5]', '0')
    """
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        x = float(a)
        if x == 0.0:
            return "0"  # no "-0" in the language
        return f"{x:.{digits}g}"
    return "[" + ", ".join(format_value(e, digits) for e in a) + "]"


@dataclass(repr=False)
class OptimizeResult:
    """The outcome of :func:`symml.minimize`.

    Attributes
    ----------
    x : dict
        Parameter name -> optimum (a float for a scalar, a 1-D array for a vector), in the
        order of ``x0``.
    fun : float
        Objective at ``x`` (including any regularization penalty; the mean over the data rows
        when data were given).
    nit : int
        Number of parameter updates (for ``"sgd"`` one row each, ``"minibatch"`` one batch).
    nfev : int
        Number of evaluations of the objective (each compiled call of value and gradient
        counts once, on however many rows it was given).
    success : bool
        True when the method's convergence test was met.
    status : int
        0 converged, 1 iteration limit, 2 diverged, 3 interrupted, 4 solver stopped,
        5 not finite at the start.
    message : str
        What happened, in words.
    history : numpy.ndarray
        Objective at the start, then after every iteration (``history[0]`` is the value at
        ``x0``). For ``"sgd"`` and ``"minibatch"`` the entries after the first are the mean
        over the rows of each update's batch, an unbiased estimate of the objective that
        costs nothing extra; ``fun`` is always the full objective.
    jac : dict or None
        Gradient of the objective at ``x`` in the layout of ``x`` (the gradient of the
        smooth part when an L1 penalty is present), or None if not computed.
    method : str
        The method's registered name.
    nhev : int
        Number of Hessian evaluations.
    path : numpy.ndarray or None
        Iterates as rows of the flattened parameter vector (start included), kept when there
        are at most 10 parameter components (None otherwise); a first-order run of more than
        50,000 updates keeps every 2nd, 4th... iterate so the path stays small.
    names : tuple of str
        Flattened component names matching the columns of ``path`` (``x``, ``w[0]`` ...).
    objective : str
        The objective in the symml language, for reports.
    x_flat : numpy.ndarray
        The solution as one flat array in variable order (the order of ``names``), as
        SciPy's ``x``; ``x0`` may be given in this layout too.

    Examples
    --------
    >>> import symml as sm
    >>> r = sm.minimize("(x - 1)^2 + (y + 2)^2", {"x": 0, "y": 0})
    >>> r.success, round(r.x["x"], 8), round(r.x["y"], 8)
    (True, 1.0, -2.0)
    """

    x: dict[str, Any]
    fun: float
    nit: int
    nfev: int
    success: bool
    status: int
    message: str
    history: np.ndarray
    jac: dict[str, Any] | None = None
    method: str = ""
    nhev: int = 0
    path: np.ndarray | None = None
    names: tuple[str, ...] = ()
    objective: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    x_flat: np.ndarray | None = None
    _problem: Any = field(default=None, compare=False)

    # -- access ------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        """Dictionary-style access to the fields, as with SciPy's result (``r["fun"]``)."""
        if key.startswith("_") or key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> list[str]:
        """The public field names."""
        return [k for k in self.__dataclass_fields__ if not k.startswith("_")]

    # -- printing ----------------------------------------------------------------------------
    def _rows(self) -> list[tuple[str, str]]:
        xs = ", ".join(f"{k} = {format_value(v)}" for k, v in self.x.items())
        rows = [
            ("message", self.message),
            ("success", str(self.success)),
            ("status", str(self.status)),
            ("fun", format_value(self.fun)),
            ("x", xs),
            ("nit", str(self.nit)),
            ("nfev", str(self.nfev)),
        ]
        if self.nhev:
            rows.append(("nhev", str(self.nhev)))
        if self.jac is not None:
            rows.append(
                ("jac", ", ".join(f"{k} = {format_value(v, 3)}" for k, v in self.jac.items()))
            )
        rows.append(("method", self.method))
        rows.append(("history", f"{len(self.history)} values"))
        return rows

    def __repr__(self) -> str:
        rows = self._rows()
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.rjust(width)}: {v}" for k, v in rows)

    def report(self) -> str:
        """A readable report with sections: problem, result, convergence.

        Values are written in the symml language, so they can be pasted back.

        >>> import symml as sm
        >>> r = sm.minimize("(x - 3)^2", {"x": 2.5}, method="newton")
        >>> print(r.report())  # doctest: +ELLIPSIS
        [[Problem]]
            minimize  (x - 3)^2
            method    newton
        [[Result]]
            x = 3
            objective = 0
        [[Convergence]]
            status      0 (converged)
            message     converged (Newton): gradient below 1e-10 after 1 full Newton step(s) ...
            iterations  1
            evaluations 4 (+1 Hessians)
            |gradient|  0 (largest component at x)
        """
        lines = ["[[Problem]]"]
        if self.objective:
            lines.append(f"    minimize  {self.objective}")
        lines.append(f"    method    {self.method}")
        for key in ("constraints", "regularization", "data"):
            if key in self.extra:
                lines.append(f"    {key.ljust(9)} {self.extra[key]}")
        lines.append("[[Result]]")
        for k, v in self.x.items():
            lines.append(f"    {k} = {format_value(v)}")
        lines.append(f"    objective = {format_value(self.fun)}")
        if "zeros" in self.extra:
            lines.append(f"    exact zeros: {self.extra['zeros']}")
        lines.append("[[Convergence]]")
        lines.append(f"    status      {self.status} ({STATUS.get(self.status, '?')})")
        lines.append(f"    message     {self.message}")
        lines.append(f"    iterations  {self.nit}")
        lines.append(
            f"    evaluations {self.nfev}" + (f" (+{self.nhev} Hessians)" if self.nhev else "")
        )
        if "lagrangian_gradient" in self.extra:
            lines.append(
                f"    |grad L|    {self.extra['lagrangian_gradient']:.3g} (the Lagrangian's "
                f"gradient, largest component; multipliers by least squares on the active "
                f"set: {self.extra['active']})"
            )
        elif self.jac is not None:
            gnorm = max((float(np.max(np.abs(v))) for v in self.jac.values()), default=0.0)
            where = "largest component at x"
            if "zeros" in self.extra:
                where += "; smooth part, without the L1 penalty"
            lines.append(f"    |gradient|  {gnorm:.3g} ({where})")
        if "lr_rule" in self.extra:
            lines.append(f"    step size   {self.extra['lr']:.3g} ({self.extra['lr_rule']})")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        head = f"**minimize** `{self.objective}` with `{self.method}`: {self.message}\n\n"
        table = ["| parameter | value |", "|---|---|"]
        table += [f"| `{k}` | `{format_value(v)}` |" for k, v in self.x.items()]
        tail = (
            f"\n\nobjective `{format_value(self.fun)}`, {self.nit} iterations, "
            f"{self.nfev} evaluations, success `{self.success}`"
        )
        return head + "\n".join(table) + tail

    def __str__(self) -> str:
        return self.report()
