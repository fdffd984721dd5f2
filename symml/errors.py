"""Every error a user can cause is a :class:`SymmlError`.

The tree::

    SymmlError (Exception)
    ├── ParseError (+ ValueError)        text that the grammar rejects; .line, .column, caret snippet
    ├── UndefinedNameError (+ NameError) a name that is neither declared, defined nor a known function
    ├── ArgumentError (+ TypeError, ValueError)
    │                                   wrong number or kind of arguments to a function or API call
    ├── ShapeError (+ ValueError)        vector/matrix shapes that do not fit together
    ├── LimitError (+ ValueError)        input that would make evaluation explode (huge powers, nesting)
    ├── DerivationError                  a derivation that cannot be carried out (no closed form, ...)
    │   └── VerificationError            a derivation step that does not check out numerically
    ├── DataError (+ ValueError)         missing columns, ragged lengths, NaN / inf in data
    ├── OptimizeError                    an optimizer that diverged or was configured wrongly
    └── FitError                         a model that cannot be fitted as written

Messages say what was wrong, where, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "SymmlError",
    "ParseError",
    "UndefinedNameError",
    "ArgumentError",
    "ShapeError",
    "LimitError",
    "DerivationError",
    "VerificationError",
    "DataError",
    "OptimizeError",
    "FitError",
]


class SymmlError(Exception):
    """Base class of every error that symml raises because of its input."""


class ParseError(SymmlError, ValueError):
    """Source text that is not valid symml.

    Attributes
    ----------
    line, column : int
        1-based position of the offending character (0 when unknown).
    snippet : str
        The offending source line with a caret under the column.
    """

    def __init__(self, message: str, line: int = 0, column: int = 0, snippet: str = ""):
        self.message = message
        self.line = line
        self.column = column
        self.snippet = snippet
        text = message
        if line:
            text = f"line {line}, column {column}: {message}"
        if snippet:
            text = f"{text}\n{snippet}"
        super().__init__(text)


class UndefinedNameError(SymmlError, NameError):
    """A name that is not declared, defined, or a known function."""


class ArgumentError(SymmlError, TypeError, ValueError):
    """Wrong number or kind of arguments."""


class ShapeError(SymmlError, ValueError):
    """Shapes of vectors or matrices that do not fit together."""


class LimitError(SymmlError, ValueError):
    """Input that would make evaluation explode (a huge power, deep nesting...)."""


class DerivationError(SymmlError):
    """A derivation that cannot be carried out."""


class VerificationError(DerivationError):
    """A derivation step whose two sides disagree numerically."""


class DataError(SymmlError, ValueError):
    """Data that cannot be used as given: missing columns, ragged lengths, NaN or inf."""


class OptimizeError(SymmlError):
    """An optimizer that was configured wrongly or diverged."""


class FitError(SymmlError):
    """A model that cannot be fitted as written."""
