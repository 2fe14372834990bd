"""One escaping layer per output format, for every string that came from a file, a file name or an API.

A pull request chooses its file names and every line of its configs, and those reach the terminal
(which GitHub Actions scans for workflow commands), the job summary and the PR comment (Markdown
and HTML), XML and SARIF. Each function here makes a string inert in one format:

- `terminal`: no line of it starts a workflow command (`::cmd` after leading blanks, which the
  runner trims) and no `##[` appears (the legacy form is matched anywhere); no control characters.
- `one_line`: a file name or value shown on one line: line breaks and controls become escapes.
- `md_text`, `md_code`, `md_fence`: Markdown text with HTML, emphasis, links, mentions and
  headings inert; an inline code span, or a fenced block whose fence is longer than any backtick
  run inside, so the content cannot close it.
- `sarif_uri`: a percent-encoded relative URI.
"""

from __future__ import annotations

import re
import urllib.parse

ZWSP = "\u200b"  # invisible; splits `::` and `@name` so that neither is parsed
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\u0085]")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x0b\x0c\u2028\u2029\u0085]")
_COMMAND_START = re.compile(r"^([ \t]*):(?=:)", re.M)
_BACKTICKS = re.compile(r"`+")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#!|~>+=-])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")


def _control(ch: str) -> str:
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def one_line(text: str) -> str:
    """A file name or value on one line: `\\n`, `\\r` and every other control shown as an escape."""
    text = text.replace("\\", "\\\\") if any(c in text for c in "\r\n") or _CONTROL.search(text) else text
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return _CONTROL.sub(lambda m: _control(m.group(0)), text)


def terminal(text: str) -> str:
    """Multi-line text for stdout: controls escaped, no workflow command can start on any line."""
    text = text.replace("\r\n", "\n")
    text = _CONTROL.sub(lambda m: _control(m.group(0)), text.replace("\r", "\\r"))
    text = _COMMAND_START.sub(lambda m: m.group(1) + ":" + ZWSP, text)
    return text.replace("##[", "#" + ZWSP + "#[")


def md_text(text: str) -> str:
    """Plain text inside Markdown (a table cell, a note, a heading): one line, nothing rendered."""
    text = _LINE_BREAK.sub(" ", text)
    text = _CONTROL.sub(" ", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MENTION.sub("@" + ZWSP, text)


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
