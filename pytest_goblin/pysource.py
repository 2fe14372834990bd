"""Parse a repository's Python source with the grammar of the Python it is written for, as far as goblin reads it.

goblin parses scripts with `ast` on the Python it runs on. Python 3.12's f-strings (PEP 701) may hold the quotes that
delimit them (`f"{d["k"]}"`), nest f-strings of the same quotes, and hold backslashes or comments in their fields; 3.11
refuses such a file outright ("f-string: unmatched '['", blind review 14b #28), and the whole script went unread.
Where 3.11 refuses an f-string, that one f-string is replaced by `f"{_}"`, an f-string of an unknown name that 3.11
accepts (in parentheses holding the line breaks it spanned, if any, so that every later line keeps its number). goblin
reads an f-string's value as computed at run time in any case (an `ast.JoinedStr` is no literal), so nothing it reads
changes except that the file is read. Nothing is run; on Python 3.12 and later the file is parsed as is."""

from __future__ import annotations

import ast
import sys

_PREFIX_CHARS = frozenset("rRbBuUfF")
_MAX_REWRITES = 64  # f-strings rewritten in one file, at most (each costs one parse)
PLACEHOLDER = "__goblin_pep701__"


def parse(text: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse`, with 3.12 f-strings made readable on an older Python (the module docstring); the first SyntaxError
    is raised where that does not help."""
    try:
        return ast.parse(text, filename=filename)
    except SyntaxError as refused:
        if sys.version_info >= (3, 12) or not (refused.msg or "").startswith("f-string"):
            raise
        first: SyntaxError = refused
    exc = first
    for _ in range(_MAX_REWRITES):
        rewritten = _rewrite_at(text, exc.lineno or 0)
        if rewritten is None:
            raise first
        text = rewritten
        try:
            return ast.parse(text, filename=filename)
        except SyntaxError as again:
            if not (again.msg or "").startswith("f-string"):
                raise first from None
            exc = again
    raise first


def _rewrite_at(text: str, lineno: int) -> str | None:
    """The text with the first f-string starting on line `lineno` that 3.11 refuses replaced, or None where none is."""
    if lineno < 1:
        return None
    starts = _line_starts(text)
    if lineno > len(starts):
        return None
    begin = starts[lineno - 1]
    end = starts[lineno] if lineno < len(starts) else len(text)
    pos = begin
    while pos < end:
        ch = text[pos]
        if ch == "#":
            return None  # the rest of the line is a comment: no f-string on it starts after this
        if ch in "'\"" or (ch in _PREFIX_CHARS and _string_start(text, pos) is not None):
            prefix_end = _string_start(text, pos)
            assert prefix_end is not None
            prefix = text[pos:prefix_end].lower()
            stop = _string_end(text, prefix_end, "f" in prefix)
            if stop is None:
                return None
            if "f" in prefix and not _accepted(text[pos:stop]):
                breaks = text.count("\n", pos, stop)
                # one line: the bare f-string (so an implicit concatenation with the next literal still parses);
                # over several: in parentheses holding the line breaks
                same = f'f"{{{PLACEHOLDER}}}"'
                return text[:pos] + (f"({same}" + "\n" * breaks + ")" if breaks else same) + text[stop:]
            pos = stop
            continue
        if ch.isalnum() or ch == "_":
            while pos < end and (text[pos].isalnum() or text[pos] == "_"):
                pos += 1  # a name: a prefix letter inside it starts no string
            continue
        pos += 1
    return None


def _line_starts(text: str) -> list[int]:
    out = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            out.append(i + 1)
    return out[:-1] if text.endswith("\n") else out


def _string_start(text: str, pos: int) -> int | None:
    """Where the quote of a string literal starting at `pos` is (after its prefix letters), or None."""
    i = pos
    while i < len(text) and i - pos < 2 and text[i] in _PREFIX_CHARS:
        i += 1
    if i < len(text) and text[i] in "'\"" and (i == pos or _valid_prefix(text[pos:i])):
        return i
    return None


def _valid_prefix(prefix: str) -> bool:
    return prefix.lower() in {"r", "u", "b", "br", "rb", "f", "fr", "rf"}


def _string_end(text: str, quote_at: int, fstring: bool) -> int | None:
    """The index just after the literal whose opening quote is at `quote_at`, read with Python 3.12's grammar: inside
    an f-string's replacement fields, strings of any quotes and nested f-strings are skipped whole."""
    q = text[quote_at]
    delim = q * 3 if text.startswith(q * 3, quote_at) else q
    i = quote_at + len(delim)
    raw = "r" in text[max(0, quote_at - 2) : quote_at].lower()
    depth = 0
    while i < len(text):
        ch = text[i]
        if depth == 0:
            if text.startswith(delim, i):
                return i + len(delim)
            if ch == "\\" and not raw:
                i += 2
                continue
            if ch == "\n" and len(delim) == 1:
                return None  # an unterminated single-quoted literal
            if fstring and ch == "{":
                if text.startswith("{{", i):
                    i += 2
                    continue
                depth = 1
            elif fstring and ch == "}" and text.startswith("}}", i):
                i += 2
                continue
            i += 1
            continue
        # inside a replacement field: Python code, with its own strings (any quotes, PEP 701)
        if ch in "'\"" or (ch in _PREFIX_CHARS and _string_start(text, i) is not None and not _in_name(text, i)):
            inner = _string_start(text, i)
            assert inner is not None
            stop = _string_end(text, inner, "f" in text[i:inner].lower())
            if stop is None:
                return None
            i = stop
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "#":
            nl = text.find("\n", i)
            if nl < 0:
                return None
            i = nl
            continue
        i += 1
    return None


def _in_name(text: str, i: int) -> bool:
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")


def _accepted(literal: str) -> bool:
    """Whether this Python's parser takes the literal as it stands."""
    try:
        ast.parse(f"({literal}\n)", mode="eval")
    except SyntaxError:
        return False
    return True
