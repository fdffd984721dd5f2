"""The methods :func:`symml.minimize` can run, read from THE method table.

Exact names (and the aliases of :mod:`symml.optimize.methods`); no prefix matching, no case
folding.

>>> from symml.optimize.registry import get_method, method_names
>>> method_names()[:7]
('gd', 'sgd', 'minibatch', 'momentum', 'nesterov', 'rmsprop', 'adam')
>>> get_method("adam").kind
'first-order'
>>> get_method("lbfgs").name
'l-bfgs-b'
>>> get_method("Adam")
Traceback (most recent call last):
    ...
symml.errors.ArgumentError: unknown method 'Adam' — did you mean 'adam'? Valid methods: gd, ...
"""

from __future__ import annotations

from .methods import TABLE, MethodSpec
from .methods import get_method as _get

__all__ = ["MethodSpec", "METHODS", "get_method", "method_names"]

_KINDS = ("first-order", "scipy")

#: canonical name -> row of the method table, for every method minimize runs
METHODS: dict[str, MethodSpec] = {n: m for n, m in TABLE.items() if m.kind in _KINDS}


def method_names() -> tuple[str, ...]:
    """The names minimize accepts (canonical), first-order methods first."""
    return tuple(METHODS)


def get_method(name: str) -> MethodSpec:
    """The method named exactly ``name`` (or an alias); an unknown name lists the valid ones."""
    return _get(name, allowed=_KINDS)
