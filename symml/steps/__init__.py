"""Step-by-step derivations that read like a textbook and check themselves.

Every function here takes the same arguments as its plain counterpart in
:mod:`symml.calculus` and returns a :class:`Derivation`: a tree of :class:`Step` s with
``to_text()``, ``to_markdown()``, ``to_latex()`` and ``verify()``.
"""

from __future__ import annotations

from .model import Derivation, Step

__all__ = ["Derivation", "Step"]
