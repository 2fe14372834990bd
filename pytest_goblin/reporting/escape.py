"""One escaping layer per output format, for every string that came from a file, a file name or an API.

A pull request chooses its file names and every line of its configs, and those reach the terminal
(which GitHub Actions scans for workflow commands), the job summary and the PR comment (Markdown
and HTML), XML and SARIF. Each function here makes a string inert in one format:

- `terminal`: no line of it starts a workflow command and no `##[` appears; no control characters.
  The runner reads a line as a command when it starts with `::` after `TrimStart()`, which trims
  every .NET `Char.IsWhiteSpace` character (U+3000, U+2000-U+200A, U+00A0, ... not only blanks),
  and the legacy form when `##[` is anywhere in it (actions/runner src/Runner.Common/ActionCommand.cs,
  `TryParseV2` and `TryParse`). Every terminal or log line goblin writes passes through it.
- `one_line`: a file name or value shown on one line: line breaks and controls become escapes, and
  the line is as inert to the runner as `terminal` makes it.
- `md_text`, `md_code`, `md_fence`: Markdown text with HTML, emphasis, links (bare URLs too, which
  GitHub autolinks), mentions and headings inert; an inline code span, or a fenced block whose fence is longer than any backtick
  run inside, so the content cannot close it.
- `sarif_uri`: a percent-encoded relative URI.
"""

from __future__ import annotations

import re
import urllib.parse

ZWSP = "\u200b"  # invisible; splits `::` and `@name` so that neither is parsed
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\u0085]")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x0b\x0c\u2028\u2029\u0085]")
# What the runner's TrimStart() may trim before `::`: Python's Unicode whitespace (a superset of
# .NET's Char.IsWhiteSpace), less the newline that ends the line, plus U+180E (whitespace in older
# .NET), U+200B and U+FEFF (invisible). Two disjoint classes under one star: linear.
_COMMAND_START = re.compile(r"^((?:[^\S\n]|[\u180e\u200b\ufeff])*):(?=:)", re.M)
_AUTOLINK = re.compile(r"(?i)\b(?:https?|ftp)(?=://)|\bwww(?=\.)")
_BACKTICKS = re.compile(r"`+")
_CODE_SPAN = re.compile(r"`([^`\n]{1,200})`")
# HTML's three characters as entities, then every character Markdown gives a meaning to behind a
# backslash; one str.translate (a per-match template expansion cost more than the rest of md_text).
_MD_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", **{c: "\\" + c for c in "\\`*_[]()#!|~+=-"}})
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")


def _control(ch: str) -> str:
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def one_line(text: str) -> str:
    """A file name or value on one line: `\\n`, `\\r` and every other control shown as an escape."""
    text = text.replace("\\", "\\\\") if any(c in text for c in "\r\n") or _CONTROL.search(text) else text
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return _no_command(_CONTROL.sub(lambda m: _control(m.group(0)), text))


def _no_command(text: str) -> str:
    """No line starts a workflow command (`::` after what TrimStart() trims); no `##[` anywhere."""
    text = _COMMAND_START.sub(lambda m: m.group(1) + ":" + ZWSP, text)
    return text.replace("##[", "#" + ZWSP + "#[")


def terminal(text: str) -> str:
    """Multi-line text for stdout: controls escaped, no workflow command can start on any line."""
    text = text.replace("\r\n", "\n")
    return _no_command(_CONTROL.sub(lambda m: _control(m.group(0)), text.replace("\r", "\\r")))


def md_text(text: str) -> str:
    """Plain text inside Markdown (a table cell, a note, a heading): one line, nothing rendered.
    (Each search runs only when its characters are there: a summary escapes thousands of strings.)"""
    if not text.isprintable():  # every line break and control is unprintable
        text = _CONTROL.sub(" ", _LINE_BREAK.sub(" ", text))
    text = text.translate(_MD_ESCAPES)
    if "://" in text or "ww" in text.lower():
        text = _AUTOLINK.sub(lambda m: m.group(0) + ZWSP, text)  # GitHub links a bare https:// or www.
    return _MENTION.sub("@" + ZWSP, text) if "@" in text else text


def md_text_spans(text: str) -> str:
    """`md_text`, except that each `...` span is shown as an inline code span (`md_code`): a
    finding names config keys that way. Code is inert whatever it holds."""
    out: list[str] = []
    at = 0
    for m in _CODE_SPAN.finditer(text):
        out += [md_text(text[at : m.start()]), md_code(m.group(1))]
        at = m.end()
    return "".join([*out, md_text(text[at:])])


def md_code(text: str, *, in_table: bool = False) -> str:
    """An inline code span that no backtick inside can end; `|` escaped (GFM) in table cells."""
    text = _CONTROL.sub(" ", _LINE_BREAK.sub(" ", text))
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|') if in_table else text}{pad}{fence}"


def md_fence(text: str, lang: str = "") -> list[str]:
    """A fenced code block (as lines) whose fence is longer than any backtick run in `text`."""
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = _CONTROL.sub(lambda m: _control(m.group(0)), _LINE_BREAK.sub("\n", text))
    return [fence + lang, body, fence]


def md_trusted(text: str) -> str:
    """Text from the bundled knowledge base: Markdown kept, raw HTML and line breaks not."""
    return _LINE_BREAK.sub(" ", text).replace("<", "&lt;").replace(">", "&gt;")


def sarif_uri(path: str) -> str:
    """A relative path as a URI reference: every reserved or control character percent-encoded."""
    return urllib.parse.quote(path, safe="/._-~")
