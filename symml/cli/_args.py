"""Argument conventions shared by every subcommand.

* **Negative values are values.** ``--from -inf``, ``--x0 x=-1``, ``symml limit f x -inf``:
  a word starting with a single ``-`` that is not one of the command's own options (``-h``,
  ``-c`` ...) is read as a value, not as an unknown option. Options are spelled ``--name``.
* **File or text.** An argument that may be a program is a *file* when it ends in ``.sml``
  (or names an existing file and contains no spaces or operators), otherwise it is language
  text. A ``.sml`` name that does not exist is an error saying so, never a parse error.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..errors import SymmlError

__all__ = ["SymmlArgumentParser", "read_source", "looks_like_file"]


class SymmlArgumentParser(argparse.ArgumentParser):
    """argparse, except that ``-inf``, ``-1.5``, ``-x^2`` are values, not options."""

    def _parse_optional(self, arg_string):
        if (
            len(arg_string) > 1
            and arg_string[0] == "-"
            and arg_string[1] != "-"
            and arg_string not in self._option_string_actions
            and arg_string.split("=", 1)[0] not in self._option_string_actions
            and arg_string[:2] not in self._option_string_actions
        ):
            return None  # a value such as -inf, -1, -2*pi, -x^2
        return super()._parse_optional(arg_string)


_PATHLIKE = re.compile(r"^[\w./\\:~-]+$")


def looks_like_file(arg: str) -> bool:
    """True when ``arg`` names a program file rather than being language text.

    >>> looks_like_file("model.sml"), looks_like_file("y ~ a*x + b"), looks_like_file("x^2")
    (True, False, False)
    """
    if arg.endswith(".sml"):
        return True
    return bool(_PATHLIKE.match(arg)) and ("/" in arg or "." in arg) and Path(arg).is_file()


def read_source(arg: str, what: str = "program") -> tuple[str, bool]:
    """``(text, from_file)``: the file's text when ``arg`` names a file, else ``arg`` itself."""
    if not looks_like_file(arg):
        return arg, False
    p = Path(arg)
    try:
        return p.read_text(encoding="utf-8"), True
    except FileNotFoundError:
        raise SymmlError(
            f"no such {what} file: {p} (a name ending in .sml is read as a file; "
            "to pass the text itself, write it without the .sml ending)"
        ) from None
    except IsADirectoryError:
        raise SymmlError(f"{p} is a directory, not a {what} file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SymmlError(f"cannot read {what} file {p}: {exc}") from None
