"""Text -> lark parse tree, with lark's errors translated into :class:`symml.ParseError`.

The grammar lives in ``grammar/symml.lark`` (shipped in the wheel as ``symml/grammar``); the
LALR parser is built once per process and kept; lark's own cache of the built parser is kept
in the user's cache directory (``$XDG_CACHE_HOME/symml`` or ``~/.cache/symml``, private to
the user; ``SYMML_NO_CACHE=1`` turns it off), so a new process loads it in about 5 ms
instead of building it in about 65 ms (every ``symml`` command pays this). Newlines inside
brackets are dropped by a small post-lexer, so matrices and long calls may span lines.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import threading
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .._limits import check
from ..errors import LimitError, ParseError

__all__ = [
    "parse_tree", "grammar_path", "MAX_SOURCE_CHARS", "MAX_DEPTH", "MAX_STATEMENTS", "MAX_TOKENS",
]

#: Longest source text accepted (characters). A 100,000-statement file fits.
MAX_SOURCE_CHARS = 5_000_000
#: Deepest nesting of operations accepted in one expression.
MAX_DEPTH = 200
#: Most statements accepted in one program (lark's pure-Python LALR parser and the SymPy
#: builder take about 0.1-0.2 ms per short statement; this keeps any input to a few seconds).
MAX_STATEMENTS = 10_000
#: Most tokens accepted in one program: lark's pure-Python parser and the builder take
#: 20-50 us per token, so this keeps any text within the default 10 s budget.
MAX_TOKENS = 200_000

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9.]+(?:[eE][-+]?[0-9]+)?|#[^\n]*|[^\s#]")

_OPEN = {"LPAR", "LSQB"}
_CLOSE = {"RPAR", "RSQB"}

# Friendly names for the terminals lark reports as expected.
_TERMINAL_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "INT": "an integer",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "EQUAL": "'='",
    "ADDOP": "'+' or '-'",
    "MINUS": "'-'",
    "PLUS": "'+'",
    "MULOP": "'*', '/' or '@'",
    "POWOP": "'^'",
    "COMPARE": "a comparison (==, <=, >=)",
    "TILDE": "'~'",
    "_NL": "a new line",
    "SEMICOLON": "';'",
    "QUOTE": "\"'\" (transpose)",
    "IN": "'in'",
    "$END": "the end of the input",
}


def grammar_path() -> Path:
    """Path of the grammar file: inside the installed package, or the source tree's grammar/."""
    here = Path(__file__).resolve().parent.parent  # symml/
    for candidate in (here / "grammar" / "symml.lark", here.parent / "grammar" / "symml.lark"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("symml grammar file symml.lark not found; reinstall symml")


class _BracketNewlines:
    """Post-lexer: newlines inside (...) or [...] are whitespace, not statement separators."""

    always_accept = ("_NL",)

    def __init__(self):
        self.spans: list = []

    def process(self, stream):
        # Also records each statement's span (first token, last token before its separator):
        # lark's propagate_positions would do it for every node and doubled parse time.
        depth = 0
        spans = self.spans = []
        first = last = None
        count = 0
        for tok in stream:
            count += 1
            if not count & 1023:
                check()  # the time budget, where no signal reaches
            kind = tok.type
            if kind in _OPEN:
                depth += 1
            elif kind in _CLOSE:
                depth = max(depth - 1, 0)
            elif kind == "_NL" or kind == "SEMICOLON":
                if depth and kind == "_NL":
                    continue
                if first is not None:
                    spans.append((first, last))
                    first = None
                yield tok
                continue
            if first is None:
                first = tok
            last = tok
            yield tok
        if first is not None:
            spans.append((first, last))


_SCAN = re.compile(r"#[^\n]*|\\[ \t]*\r?\n|[()\[\]]|[\n;]|[^\s#()\[\];\\]+")


def count_statements(source: str, stop: int | None = None) -> int:
    """Number of statements in ``source`` (separators outside brackets after some text),
    counted by one regular-expression scan, far faster than parsing; stops past ``stop``."""
    depth = 0
    count = 0
    pending = False
    for m in _SCAN.finditer(source):
        t = m.group()
        c = t[0]
        if c == "#" or c == "\\":
            continue
        if c in "([":
            depth += 1
            pending = True
        elif c in ")]":
            depth = max(depth - 1, 0)
        elif c == "\n" or c == ";":
            if pending and not (depth and c == "\n"):
                count += 1
                pending = False
                if stop is not None and count > stop:
                    return count
        else:
            pending = True
    return count + pending


_LOCK = threading.Lock()


#: Whether lark's cache of the built parser may be read and written on disk (``symml serve``
#: turns it off: the server writes nothing to disk).
DISK_CACHE = True


def _cache_file(grammar: str) -> str | bool:
    """Where lark keeps the built parser, or False (no cache): a per-user directory, never
    the shared temporary directory (lark's cache is a pickle, so nobody else may write it)."""
    if not DISK_CACHE or os.environ.get("SYMML_NO_CACHE"):
        return False
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "symml")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if not os.access(folder, os.W_OK) or (os.stat(folder).st_mode & 0o022):
            return False
    except OSError:
        return False
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
    return os.path.join(folder, f"grammar-{digest}.lark-cache")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = grammar_path().read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        propagate_positions=False,
        maybe_placeholders=True,
        postlex=_BracketNewlines(),
        cache=_cache_file(grammar),
    )


def parse_tree(source: str) -> Tree:
    """Parse ``source`` (a whole program) into a lark tree, or raise ParseError."""
    if not isinstance(source, str):
        raise ParseError(f"expected source text (str), got {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise LimitError(
            f"source text has {len(source):,} characters; the limit is {MAX_SOURCE_CHARS:,}. "
            "Split it into smaller files."
        )
    if source.count("\n") + source.count(";") >= MAX_STATEMENTS:  # cheap test first
        n = count_statements(source, stop=MAX_STATEMENTS)
        if n > MAX_STATEMENTS:
            raise LimitError(
                f"the program has more than {MAX_STATEMENTS:,} statements; split it into "
                "several files (symml.parse handles each in a few seconds at most)"
            )
    if len(source) > MAX_TOKENS:  # a token has at least one character: cheap test first
        n = sum(1 for m in _TOKEN.finditer(source) if m.group()[0] != "#")
        if n > MAX_TOKENS:
            raise LimitError(
                f"the program has {n:,} tokens (names, numbers, operators); the limit is "
                f"{MAX_TOKENS:,}. Split it into smaller parts, or pass long lists of numbers "
                "as data (NumPy arrays) rather than as text."
            )
    source = _LONE_CR.sub("\n", source)  # old Mac line ends: same length, so spans still fit
    text = source + "\n"
    try:
        with _LOCK:  # the post-lexer's statement spans belong to one parse at a time
            parser = _parser()
            tree = parser.parse(text)
            spans = parser.options.postlex.spans
    except UnexpectedInput as exc:
        raise _translate(exc, source) from None
    _set_statement_meta(tree, spans)
    _check_depth(tree, source)
    return tree


def _first_line(node) -> int:
    while isinstance(node, Tree):
        kids = [c for c in node.children if c is not None]
        if not kids:
            return 0
        node = kids[0]
    return getattr(node, "line", 0) or 0


def _set_statement_meta(tree: Tree, spans) -> None:
    """Give each statement tree its line, column and source span (``meta``)."""
    stmts = [c for c in tree.children if isinstance(c, Tree)]
    if len(stmts) != len(spans):  # pragma: no cover - the grammar makes them agree
        return
    for stmt, (first, last) in zip(stmts, spans):
        m = stmt.meta
        m.line, m.column, m.start_pos = first.line, first.column, first.start_pos
        m.end_line, m.end_column, m.end_pos = last.end_line, last.end_column, last.end_pos
        m.empty = False


def _check_depth(tree: Tree, source: str) -> None:
    """Reject trees nested deeper than MAX_DEPTH (iteratively: no recursion)."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            line = _first_line(node)
            raise LimitError(
                f"expression nested more than {MAX_DEPTH} levels deep"
                + (f" (statement at line {line})" if line else "")
                + "; split it into named parts with definitions (name = ...)."
            )
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, depth + 1))


_LONE_CR = re.compile(r"\r(?!\n)")


def _lines(source: str) -> list[str]:
    """Lines as the parser counts them: split at '\n', '\r\n' and a lone '\r' (a lone '\r' is
    read as a line end; str.splitlines would also split at \v, \f, \x1c... and disagree)."""
    return re.split(r"\r\n|\n|\r", source)


def caret_snippet(source: str, line: int, column: int) -> str:
    """The source line with a caret under ``column`` (both 1-based)."""
    lines = _lines(source)
    if not 1 <= line <= len(lines):
        return ""
    text = lines[line - 1]
    if len(text) > 200:  # keep very long lines readable around the column
        start = max(column - 80, 0)
        text = ("..." if start else "") + text[start : start + 160]
        column = column - start + (3 if start else 0)
    return f"    {text}\n    {' ' * (max(column, 1) - 1)}^"


def _describe(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    if tok.type == "_NL":
        return "end of line"
    return f"'{tok.value}'"


def _expected(names) -> str:
    shown = sorted({_TERMINAL_NAMES.get(n, f"'{n.lower()}'") for n in names if not n.startswith("__")})
    if len(shown) > 6:
        shown = shown[:6] + ["..."]
    return ", ".join(shown)


def _translate(exc: UnexpectedInput, source: str) -> ParseError:
    line, column = getattr(exc, "line", 0) or 0, getattr(exc, "column", 0) or 0
    at_end = isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    if isinstance(exc, UnexpectedEOF) or line <= 0 or at_end:
        lines = _lines(source.rstrip("\r\n"))
        line, column = len(lines), len(lines[-1]) + 1
    snippet = caret_snippet(source, line, column)
    if isinstance(exc, UnexpectedCharacters):
        text = _lines(source)[line - 1] if 1 <= line <= len(_lines(source)) else ""
        ch = text[column - 1] if 1 <= column <= len(text) else "?"
        hint = {
            '"': "symml has no strings; write names and numbers directly",
            "'": "a quote (transpose) must follow a name or a closing bracket",
            "=": "",
            "!": "'!' is not an operator; use factorial(n), or != for 'not equal'",
            "&": "use separate constraints instead of '&'",
            "|": "use abs(x) for absolute values",
            "{": "use [ ] for vectors and matrices",
        }.get(ch, "") or _unicode_hint(text, column)
        msg = f"unexpected character {ch!r}"
        if hint:
            msg += f"; {hint}"
        return ParseError(msg, line, column, snippet)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        prev = _previous_token(source, line, column)
        if "INT" in (exc.expected or ()) or (prev and prev.isdigit() and tok.value.startswith(".")
                                              and _expects_int(source, line, column)):
            return ParseError(
                f"unexpected {_describe(tok)}; a shape is written with whole numbers, "
                "as in w[3] or A[2, 3]",
                line,
                column,
                snippet,
            )
        if tok.type in _CLOSE and _unmatched_close(source, line, column):
            opener = "(" if tok.type == "RPAR" else "["
            return ParseError(
                f"unmatched '{tok.value}': there is no '{opener}' before it to close; "
                f"delete it or add the missing '{opener}'",
                line,
                column,
                snippet,
            )
        call = _call_without_parentheses(tok, prev)
        if call:
            return ParseError(call, line, column, snippet)
        if tok.type in ("NAME", "LPAR", "NUMBER") and prev is not None and prev[0] in "0123456789.)":
            return ParseError(
                f"unexpected {_describe(tok)} right after '{prev}': implicit multiplication is "
                f"not supported; write '{prev}*{tok.value}' instead",
                line,
                column,
                snippet,
            )
        if tok.type == "EQUAL":
            return ParseError(
                "unexpected '=': definitions are written 'name = expr' at the start of a "
                "statement; write '==' for an equation",
                line,
                column,
                snippet,
            )
        msg = f"unexpected {_describe(tok)}"
        if at_end:
            unclosed = _unclosed(source)
        else:  # a bracket left open on an earlier line swallows the line breaks after it
            offset = sum(len(t) + 1 for t in source.split("\n")[: line - 1]) + column - 1
            unclosed = _unclosed(source[:offset])
            if unclosed and unclosed[1] == line:
                unclosed = None
        if unclosed:
            msg += f"; the '{unclosed[0]}' at line {unclosed[1]}, column {unclosed[2]} is never closed"
            return ParseError(msg, line, column, snippet)
        expected = _expected(exc.expected or ())
        if expected:
            msg += f"; expected {expected}"
        return ParseError(msg, line, column, snippet)
    return ParseError(str(exc).splitlines()[0], line, column, snippet)


_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+"))
_UNICODE_OPS = {
    "×": ("*", "a product"), "·": ("*", "a product"), "⋅": ("*", "a product"),
    "−": ("-", "a minus sign"), "÷": ("/", "a division"), "≤": ("<=", "a comparison"),
    "≥": (">=", "a comparison"), "≠": ("!=", "a comparison"), "π": ("pi", "pi"),
    "√": ("sqrt(...)", "a square root"), "∞": ("inf", "infinity"),
}


def _unicode_hint(text: str, column: int) -> str:
    """What to write instead of a Unicode math character at ``column`` (1-based)."""
    i = column - 1
    if 0 <= i < len(text) and text[i] in _SUPERSCRIPTS:
        j = i
        while j < len(text) and text[j] in _SUPERSCRIPTS:
            j += 1
        power = "".join(_SUPERSCRIPTS[c] for c in text[i:j])
        k = i
        while k > 0 and (text[k - 1].isalnum() or text[k - 1] in "_"):
            k -= 1
        base = text[k:i] or "x"
        power = power if power.lstrip("-+").isdigit() and not power.startswith("-") else f"({power})"
        return f"superscripts are not read as powers; write {base}^{power}"
    if 0 <= i < len(text) and text[i] in _UNICODE_OPS:
        plain, what = _UNICODE_OPS[text[i]]
        return f"write {what} as {plain}"
    return ""


def _unmatched_close(source: str, line: int, column: int) -> bool:
    """True when the closing bracket at (line, column) closes nothing."""
    lines = _lines(source)
    if not 1 <= line <= len(lines):
        return False
    before = "\n".join(lines[: line - 1] + [lines[line - 1][: column - 1]])
    depth = 0
    for m in _SCAN.finditer(before):
        t = m.group()
        if t in ("(", "["):
            depth += 1
        elif t in (")", "]"):
            depth -= 1
        elif t in ("\n", ";") and depth <= 0:
            depth = 0  # a new statement starts with no open bracket
    return depth <= 0


def _call_without_parentheses(tok: Token, prev: str | None) -> str | None:
    """``exp x`` -> 'write exp(x)'; ``ln x`` -> 'write log(x)'."""
    if prev is None or tok.type not in ("NAME", "NUMBER"):
        return None
    from .builtins import ELEMENTWISE  # the function table (imported late: no cycle)

    if prev not in ELEMENTWISE:
        return None
    name = "log" if prev == "ln" else prev
    return (
        f"unexpected {_describe(tok)} after the function name '{prev}': a function's argument "
        f"is written in parentheses; write {name}({tok.value})"
        + (" (ln(x) is also accepted)" if prev == "ln" else "")
    )


def _expects_int(source: str, line: int, column: int) -> bool:
    """True when the text before the position is a declaration's shape ``name[``."""
    before = _lines(source)[line - 1][: column - 1]
    return re.search(r"\b(var|param|data)\b[^\n]*\[[\s\d,]*$", before) is not None


def _unclosed(source: str):
    """(bracket, line, column) of the last bracket left open at the end, or None."""
    stack = []
    for m in _SCAN.finditer(source):
        t = m.group()
        if t in ("(", "["):
            stack.append(m.start())
        elif t in (")", "]") and stack:
            stack.pop()
    if not stack:
        return None
    pos = stack[-1]
    line = source.count("\n", 0, pos) + 1
    column = pos - (source.rfind("\n", 0, pos) + 1) + 1
    return source[pos], line, column


def _previous_token(source: str, line: int, column: int) -> str | None:
    lines = _lines(source)
    if not 1 <= line <= len(lines):
        return None
    before = lines[line - 1][: column - 1].rstrip()
    if not before:
        return None
    # the last "word" before the offending token
    i = len(before)
    while i > 0 and (before[i - 1].isalnum() or before[i - 1] in "._"):
        i -= 1
    return before[i:] or before[-1]


def suggest(name: str, candidates) -> str:
    """' — did you mean 'x'?' for the closest candidate, or ''."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""
