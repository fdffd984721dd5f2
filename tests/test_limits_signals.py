"""The timer's signal never lands where Python would swallow the exception.

A timeout raised inside a gc callback (hypothesis registers one) or a ``__del__`` method is
"unraisable": Python reports it and carries on, so the computation would not stop and pytest
would fail the run on the unraisable-exception warning. The handler defers the raise by a
few milliseconds instead; the budget still ends the computation with a LimitError.
"""

from __future__ import annotations

import gc
import time

import pytest

from symml._limits import time_limit
from symml.errors import LimitError


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_deadline_inside_a_gc_callback_is_deferred_not_lost():
    calls = []

    def slow_callback(phase, info):
        if phase == "start" and not calls:
            calls.append(phase)
            _spin(0.15)  # the deadline passes while Python is inside the gc callback

    gc.callbacks.append(slow_callback)
    try:
        with pytest.raises(LimitError):
            with time_limit(0.05, what="the spin"):
                gc.collect()
                _spin(5.0)  # ordinary code: here the deferred timeout lands
    finally:
        gc.callbacks.remove(slow_callback)
    assert calls == ["start"]


def test_a_deadline_inside_del_is_deferred_not_lost():
    class Slow:
        def __del__(self):
            _spin(0.15)

    with pytest.raises(LimitError):
        with time_limit(0.05, what="the spin"):
            obj = Slow()
            del obj
            _spin(5.0)


def test_a_deadline_inside_a_weakref_finalizer_is_deferred_not_lost():
    import weakref

    class Thing:
        pass

    with pytest.raises(LimitError):
        with time_limit(0.05, what="the spin"):
            obj = Thing()
            weakref.finalize(obj, _spin, 0.15)
            del obj  # the finalizer runs here, past the deadline
            _spin(5.0)

