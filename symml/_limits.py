"""One budget for every public call: a time limit and size guards on intermediate results.

Every public entry point (language statements, calculus, ``symml.steps`` and ``verify``,
``compile``, ``fit`` set-up, ``minimize``, the CLI) runs under ONE budget: by default 10 s per
call, and results of at most ``max_size`` expression nodes, ``max_entries`` vector/matrix
entries and ``max_digits`` digits per exact number. Input that would go beyond raises
:class:`symml.LimitError`, whose message names what was too big and how to raise the limit.

Nested public calls share the outer call's budget: ``diff`` inside a language statement
inside ``fit`` does not restart the clock. Inner ``time_limit(seconds)`` blocks (e.g. one
integration route among several) may shorten the budget for their block, never extend it.

Change the budget globally or for a block::

    >>> import symml as sm
    >>> from symml._limits import limits, set_limits   # also symml.limits, symml.set_limits
    >>> with limits(seconds=60):             # one slow derivation
    ...     d = sm.diff("exp(sin(x))", "x", 3)
    >>> old = set_limits(seconds=30)         # from now on (returns the previous limits)
    >>> _ = set_limits(**old._asdict())      # and back

How the clock is enforced: in the main thread of the main interpreter (POSIX) a
``SIGALRM`` timer interrupts any Python code, SymPy's included. Signals cannot reach other
threads, nor a long computation inside one C call (a huge integer power, for instance):
there the budget is enforced by cheap :func:`check` calls in symml's own loops (the parser,
the language builder, the printers' guards, expression walks) and by the size guards that
refuse explosive operations before they start.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import signal
import sys
import threading
import time
import weakref
import _weakrefset
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from .errors import LimitError

__all__ = [
    "Limits",
    "DEFAULT_SECONDS",
    "set_limits",
    "get_limits",
    "limits",
    "time_limit",
    "untimed",
    "budgeted",
    "check",
    "check_size",
    "check_entries",
    "check_digits",
    "expression_size",
]

#: Default time budget, in seconds, of one public call.
DEFAULT_SECONDS = 10.0

#: Python recursion limit inside a budget (SymPy recurses once or more per tree level; the
#: language bounds expression depth, see :data:`symml.lang.transform.MAX_EXPR_DEPTH`).
RECURSION_LIMIT = 12_000

F = TypeVar("F", bound=Callable[..., Any])


class Limits(NamedTuple):
    """The budget of one public call.

    Attributes
    ----------
    seconds : float or None
        Wall-clock time of one public call (None or 0: no time limit).
    max_size : int
        Nodes of one intermediate expression (its tree, counted with repetitions).
    max_entries : int
        Entries of one vector or matrix.
    max_digits : int
        Decimal digits of one exact number.
    """

    seconds: float | None = DEFAULT_SECONDS
    max_size: int = 1_000_000
    max_entries: int = 100_000
    max_digits: int = 4_200


_HOW = {
    "seconds": "seconds",
    "max_size": "max_size",
    "max_entries": "max_entries",
    "max_digits": "max_digits",
}

_global = Limits()
_local = threading.local()


def _overrides() -> list:
    stack = getattr(_local, "overrides", None)
    if stack is None:
        stack = _local.overrides = []
    return stack


def get_limits() -> Limits:
    """The limits in force here (a :func:`limits` block's, else the global ones).

    >>> get_limits().max_entries
    100000
    """
    stack = _overrides()
    return stack[-1] if stack else _global


def _validated(base: Limits, changes: dict) -> Limits:
    for key, value in changes.items():
        if key not in Limits._fields:
            raise LimitError(f"unknown limit {key!r}; the limits are {', '.join(Limits._fields)}")
        if key == "seconds":
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or value < 0):
                raise LimitError(f"seconds must be a non-negative number or None, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise LimitError(f"{key} must be a positive whole number, got {value!r}")
    return base._replace(**changes)


def set_limits(**changes: Any) -> Limits:
    """Change the global limits; returns the previous ones.

    Parameters
    ----------
    seconds : float or None
        Time budget of one public call (default 10; None or 0 for none).
    max_size, max_entries, max_digits : int
        Largest intermediate expression (nodes), vector/matrix (entries) and exact number
        (digits).

    >>> old = set_limits(seconds=20)
    >>> get_limits().seconds
    20
    >>> _ = set_limits(**old._asdict())
    """
    global _global
    old = _global
    _global = _validated(_global, changes)
    return old


@contextlib.contextmanager
def limits(**changes: Any):
    """Use other limits inside a ``with`` block (this thread only).

    >>> with limits(seconds=60, max_entries=10**6):
    ...     get_limits().max_entries
    1000000
    """
    stack = _overrides()
    stack.append(_validated(get_limits(), changes))
    try:
        yield stack[-1]
    finally:
        stack.pop()


# ---------------------------------------------------------------------------------------
# the clock


class _Timeout(BaseException):
    """Raised by the alarm handler or :func:`check`; a BaseException, so SymPy's
    ``except Exception`` cannot swallow it. Converted to LimitError by the level it belongs to."""


class _Level:
    __slots__ = ("deadline", "seconds", "what", "entry")

    def __init__(self, deadline: float, seconds: float, what: str, entry: bool):
        self.deadline, self.seconds, self.what, self.entry = deadline, seconds, what, entry


def _levels() -> list:
    stack = getattr(_local, "levels", None)
    if stack is None:
        stack = _local.levels = []
    return stack


def _signals_usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


_foreign: list = []  # (handler, absolute deadline) of an ITIMER_REAL running before ours


_WEAKREF_FILES = {weakref.__file__, _weakrefset.__file__}


def _unraisable_here(frame) -> bool:
    """Whether an exception raised in ``frame`` would be lost as "unraisable".

    Python swallows (and reports) exceptions from gc callbacks, ``__del__`` methods and
    weakref callbacks; a timeout raised there would neither stop the computation nor reach
    the caller. The handler then re-arms the timer and raises a moment later instead.
    """
    codes = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    depth = 0
    while frame is not None and depth < 64:
        code = frame.f_code
        if code in codes or code.co_name in ("__del__", "_remove_dead_weakref"):
            return True
        if code.co_filename in _WEAKREF_FILES:
            # weakref.finalize and WeakSet/WeakValueDictionary removal callbacks, run by the
            # garbage collector (deferring 5 ms in other weakref code is harmless)
            return True
        frame, depth = frame.f_back, depth + 1
    return False


def _handler(signum, frame):
    stack = _levels()
    now = time.monotonic()
    if stack and now >= min(lv.deadline for lv in stack) - 1e-3:
        if _unraisable_here(frame):
            signal.setitimer(signal.ITIMER_REAL, 0.005)
            return
        _local.where = stack[-1].what
        # a safety net: should the raise land somewhere Python swallows it after all, the
        # timer fires again (the level that catches the timeout stops its own deadline)
        signal.setitimer(signal.ITIMER_REAL, 0.25)
        raise _Timeout()
    if _foreign and now >= _foreign[-1][1] - 1e-3:
        handler = _foreign[-1][0]
        _foreign[-1][2] = True
        if callable(handler):
            handler(signum, frame)
    _arm()


def _arm() -> None:
    """Point the interval timer at the earliest deadline (ours or a foreign one)."""
    stack = _levels()
    deadlines = [lv.deadline for lv in stack if lv.deadline != float("inf")]
    if _foreign and not _foreign[-1][2]:
        deadlines.append(_foreign[-1][1])
    if not deadlines:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    signal.setitimer(signal.ITIMER_REAL, max(min(deadlines) - time.monotonic(), 1e-4))


def check() -> None:
    """Raise LimitError (through the budget that ran out) if the time budget is spent.

    Cheap: call it in loops that can run long, where a signal may not reach (threads).

    >>> check()  # outside any budget: nothing to do
    """
    stack = getattr(_local, "levels", None)
    if stack and time.monotonic() > stack[-1].deadline:
        _local.where = stack[-1].what
        raise _Timeout()


def _limit_message(level: _Level) -> str:
    where = getattr(_local, "where", None)
    if level.entry:
        inside = f" (stopped in {where})" if where and where != level.what else ""
        return (
            f"{level.what} ran out of its time budget of {level.seconds:g} s{inside}; simplify "
            "the input or split the problem, or allow more time with "
            "symml.set_limits(seconds=...) or 'with symml.limits(seconds=...):'"
        )
    return f"{level.what} took longer than the {level.seconds:g} s allowed for it and was stopped"


@contextlib.contextmanager
def _budget(seconds: float | None, what: str, entry: bool):
    stack = _levels()
    now = time.monotonic()
    outer = stack[-1].deadline if stack else float("inf")
    if seconds and seconds > 0:
        deadline = min(outer, now + seconds)
    else:
        deadline = outer
    level = _Level(deadline, seconds or 0.0, what, entry)
    signals = _signals_usable()
    first = not stack
    old_handler = None
    old_limit = None
    pushed = False
    if first:
        old_limit = _raise_recursion_limit()
        if signals:
            remaining = signal.getitimer(signal.ITIMER_REAL)[0]
            old_handler = signal.getsignal(signal.SIGALRM)
            if remaining > 0 and old_handler is not _handler:
                _foreign.append([old_handler, now + remaining, False])
                pushed = True
            signal.signal(signal.SIGALRM, _handler)
    stack.append(level)
    if signals and deadline != outer:
        _arm()
    try:
        yield level
    except _Timeout:
        t = time.monotonic()
        if t < level.deadline - 2e-3 or any(lv.deadline <= t for lv in stack[:-1]):
            raise  # an enclosing budget ran out: it reports
        level.deadline = float("inf")  # reported here: the safety-net signal must not re-raise
        raise LimitError(_limit_message(level)) from None
    except RecursionError:
        if not first:
            raise
        raise LimitError(
            f"{what}: the expression is nested too deeply to process (Python's recursion "
            "limit); split it into named parts"
        ) from None
    except MemoryError:
        if not first:
            raise
        raise LimitError(
            f"{what} ran out of memory; simplify the input or lower the size limits"
        ) from None
    finally:
        if first and signals:
            signal.setitimer(signal.ITIMER_REAL, 0)
        stack.pop()
        if first:
            if signals:
                restore = old_handler if old_handler is not None else signal.SIG_DFL
                signal.signal(signal.SIGALRM, restore)
                if pushed:
                    _h, foreign_deadline, fired = _foreign.pop()
                    if not fired:
                        signal.setitimer(
                            signal.ITIMER_REAL, max(foreign_deadline - time.monotonic(), 1e-4)
                        )
            _restore_recursion_limit(old_limit)
        elif signals:
            _arm()


def _raise_recursion_limit():
    """Raise Python's recursion limit for SymPy's recursive walks (never lowered again: no
    lock, so that a fork from a worker thread cannot inherit a held lock)."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    return None


def _restore_recursion_limit(old) -> None:
    return None


# Raised once when symml is imported, not in the middle of a call: tools that watch the limit
# during a run (hypothesis does) then see it unchanged.
_raise_recursion_limit()


def time_limit(seconds: float | None = None, what: str = "the computation"):
    """Run a block under at most ``seconds`` (default: the budget in force), sharing any
    enclosing budget: the block stops at whichever deadline comes first.

    A block whose own, shorter limit runs out raises :class:`symml.LimitError` there (so a
    caller can try another route); when the enclosing budget runs out, the enclosing call
    reports it.

    >>> with time_limit(5, "a quick sum"):
    ...     x = sum(range(10))
    >>> x
    45
    """
    if seconds is None:
        seconds = get_limits().seconds if not _levels() else None
    return _budget(seconds, what, entry=not _levels())


@contextlib.contextmanager
def untimed():
    """Stop the clock of the running budget for a block (size limits still apply).

    For work whose length is set by the data, not by the input: the passes over the rows of
    a Dask fit. The budget resumes afterwards with the time it had left.

    >>> with untimed():
    ...     x = sum(range(10))
    """
    stack = _levels()
    if not stack:
        yield
        return
    saved = list(stack)
    start = time.monotonic()
    stack.clear()
    signals = _signals_usable()
    if signals:
        _arm()
    try:
        yield
    finally:
        paused = time.monotonic() - start
        for level in saved:
            level.deadline += paused
        stack[:] = saved
        if signals:
            _arm()


def budgeted(what: str) -> Callable[[F], F]:
    """Decorator for public entry points: the call runs under the budget (or shares the one
    already running). A ``seconds=`` keyword of the decorated function, when given, sets the
    budget of an outermost call.

    >>> @budgeted("my computation")
    ... def f(n):
    ...     return n + 1
    >>> f(1)
    2
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if _levels():
                return fn(*args, **kwargs)
            seconds = kwargs.get("seconds")
            if seconds is None:
                seconds = get_limits().seconds
            with _budget(seconds, what, entry=True):
                return fn(*args, **kwargs)

        wrapper.__symml_budgeted__ = what  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


# ---------------------------------------------------------------------------------------
# size guards


def _too_big(what: str, size: str, limit: int, key: str) -> LimitError:
    return LimitError(
        f"{what} would have {size}, more than the limit of {limit:,}; simplify the input, or "
        f"raise the limit with symml.set_limits({_HOW[key]}=...) or "
        f"'with symml.limits({_HOW[key]}=...):'"
    )


def check_entries(n: int, what: str = "a vector or matrix") -> None:
    """Refuse a vector/matrix of more than ``max_entries`` entries (before it is built).

    >>> check_entries(3)
    """
    limit = get_limits().max_entries
    if n > limit:
        raise _too_big(what, f"{n:,} entries", limit, "max_entries")


def check_digits(digits: float, what: str = "a number") -> None:
    """Refuse an exact number of more than ``max_digits`` decimal digits.

    >>> check_digits(10)
    """
    limit = get_limits().max_digits
    if digits > limit:
        raise _too_big(what, f"about {digits:,.0f} digits", limit, "max_digits")


def expression_size(expr: Any, stop: int | None = None) -> int:
    """Nodes of a SymPy expression tree (repeated subtrees counted each time), counted
    iteratively; stops counting once past ``stop``.

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> expression_size(x**2 + 1)
    5
    """
    args = getattr(expr, "args", None)
    if args is None:
        if hasattr(expr, "shape") and hasattr(expr, "__iter__"):  # a matrix
            total = 0
            for e in expr:
                total += expression_size(e, None if stop is None else stop - total)
                if stop is not None and total > stop:
                    break
            return total
        return 1
    count = 0
    stack = [expr]
    limit = float("inf") if stop is None else stop
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            return count
        if not count & 0xFFFF:
            check()
        stack.extend(node.args)
    return count


def check_size(expr: Any, what: str = "the result") -> Any:
    """Refuse an expression of more than ``max_size`` nodes; returns ``expr``.

    >>> import sympy
    >>> check_size(sympy.Symbol("x"))
    x
    """
    limit = get_limits().max_size
    n = expression_size(expr, stop=limit)
    if n > limit:
        raise _too_big(what, f"more than {limit:,} nodes", limit, "max_size")
    return expr
