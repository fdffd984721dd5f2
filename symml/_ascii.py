"""Readable ASCII for terminals that cannot show the derivations' few Unicode signs.

A codec error handler (``"symml-ascii"``) that writes ``integral`` for the integral sign,
``<=`` for the less-or-equal sign, ``lambda`` for the Greek letter and so on, and a
``\\uXXXX`` escape only for a character it does not know. The CLI turns it on for a stdout
or stderr that cannot encode Unicode (an ASCII terminal, ``LANG=C``).

>>> import symml._ascii
>>> "\u222b x dx \u2264 1".encode("ascii", "symml-ascii")
b'integral x dx <= 1'
"""

from __future__ import annotations

import codecs

__all__ = ["ASCII", "HANDLER"]

HANDLER = "symml-ascii"

#: Unicode sign -> ASCII words (spaces around words are the caller's).
ASCII = {
    "\u222b": "integral", "\u2202": "d", "\u2207": "grad", "\u2264": "<=", "\u2265": ">=",
    "\u2260": "!=", "\u2212": "-", "\u2192": "->", "\u2013": "-", "\u2014": "--",
    "\u00b7": "*", "\u00d7": "x", "\u221a": "sqrt", "\u221e": "oo", "\u2211": "sum",
    "\u03c0": "pi", "\u03bb": "lambda", "\u03bc": "mu", "\u03c3": "sigma", "\u03b1": "alpha",
    "\u03b2": "beta", "\u03b8": "theta", "\u02c6": "^", "\u2026": "...", "\u2248": "~=",
    "\u00b1": "+/-", "\u2208": " in ", "\u2018": "'", "\u2019": "'", "\u201c": '"',
    "\u201d": '"', "\u00a0": " ",
}  # fmt: skip


def _replace(err: UnicodeError):
    if not isinstance(err, UnicodeEncodeError):
        raise err
    out = []
    for ch in err.object[err.start : err.end]:
        out.append(ASCII.get(ch) or ch.encode("ascii", "backslashreplace").decode("ascii"))
    return "".join(out), err.end


codecs.register_error(HANDLER, _replace)
