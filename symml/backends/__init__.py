"""Backends of :func:`symml.compile`: one backend-neutral plan, one small emitter each.

* :mod:`symml.backends.args` and :mod:`symml.backends.plan`: what to compute (shared);
* :mod:`symml.backends.printing`: what every printer shares;
* :mod:`symml.backends.numpy`, :mod:`symml.backends.numba`, :mod:`symml.backends.jax`:
  the emitters. Numba and JAX are optional extras, imported only when asked for.
"""

from __future__ import annotations

import contextvars
import functools
import importlib

from ..errors import ArgumentError

__all__ = ["BACKENDS", "load_backend", "require", "current_backend", "with_backend"]

#: backend name -> the extra that installs what it needs (None: core)
BACKENDS = {"numpy": None, "numba": "numba", "jax": "jax"}


class MissingExtraError(ArgumentError, ImportError):
    """A backend whose optional dependency is not installed."""


def require(module: str, extra: str):
    """Import ``module`` or raise a SymmlError naming ``pip install "symml[extra]"``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"compile: backend={extra!r} needs {module}, which is not installed ({exc}); "
            f'install it with: pip install "symml[{extra}]"'
        ) from None


def load_backend(name: str):
    """The emitter module of backend ``name`` (its extra checked first)."""
    extra = BACKENDS[name]
    if extra is not None:
        require(extra, extra)
    return importlib.import_module(f"{__name__}.{name}")


_CURRENT = contextvars.ContextVar("symml_compile_backend", default="numpy")


def current_backend() -> str:
    """The backend ``compile`` uses when none is given (``"numpy"`` unless inside a
    ``minimize(..., backend=...)`` or ``fit(..., backend=...)`` call)."""
    return _CURRENT.get()


def check_backend(name) -> str:
    if name not in BACKENDS:
        raise ArgumentError(
            f"compile: unknown backend {name!r}; the backends are "
            f"{', '.join(repr(b) for b in BACKENDS)}"
        )
    return name


def with_backend(fn):
    """Give ``fn`` a ``backend=`` keyword that every ``compile`` inside it inherits."""

    @functools.wraps(fn)
    def wrapper(*args, backend: str = "numpy", **kwargs):
        token = _CURRENT.set(check_backend(backend))
        try:
            return fn(*args, **kwargs)
        finally:
            _CURRENT.reset(token)

    return wrapper
