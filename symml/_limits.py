"""Time limits for SymPy calls that can run away (integrate, solve, simplify).

The guard uses ``signal.setitimer`` and is active only in the main thread of the main
interpreter on POSIX; elsewhere it is a no-op (the call simply runs to completion).
"""

from __future__ import annotations

import contextlib
import signal
import threading

from .errors import LimitError

__all__ = ["time_limit", "DEFAULT_SECONDS"]

#: Default budget, in seconds, for one potentially slow symbolic operation.
DEFAULT_SECONDS = 20.0


class _Timeout(BaseException):
    """Raised by the alarm handler; BaseException so SymPy's `except Exception` can't eat it."""


@contextlib.contextmanager
def time_limit(seconds: float | None = None, what: str = "the computation"):
    """Raise :class:`symml.LimitError` if the block runs longer than ``seconds``.

    >>> with time_limit(5, "a quick sum"):
    ...     x = sum(range(10))
    >>> x
    45
    """
    seconds = DEFAULT_SECONDS if seconds is None else seconds
    usable = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and seconds > 0
    )
    if not usable:
        yield
        return
    previous = signal.getitimer(signal.ITIMER_REAL)
    if previous[0] > 0:  # an outer limit is running: leave it in charge
        yield
        return

    def handler(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Timeout:
        raise LimitError(
            f"{what} took longer than {seconds:g} s and was stopped; simplify the input "
            "or split the problem"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
