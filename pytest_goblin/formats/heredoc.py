"""A file a launcher script writes before it launches the config (issue 23, review6a #8): a JSON or YAML heredoc
(`cat > ds.json <<'EOF' ... EOF`, `cat <<EOF > ds.json`, `tee ds.json <<EOF`) or a single-quoted
`echo '{...}' > ds.json`, above the launch line that names the config, to the path the config names.

Read as text, nothing run. Bash expands nothing in a heredoc whose delimiter is quoted, and `$name`,
`${...}`, `$(...)` and backquotes in one whose delimiter is not (bash(1), Here Documents); nothing in
single quotes (bash(1), QUOTING). What bash would expand is not guessed: each is kept as a placeholder
string and named, so the settings it holds stay unknown.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

# an expansion bash makes in an unquoted heredoc: $name, ${...}, $(...), `...` (not an escaped \$)
_EXPANSION = re.compile(r"(?<!\\)(\$\{[^}\n]*\}|\$\([^)\n]*\)|\$[A-Za-z_][A-Za-z0-9_]*|\$[0-9@*#?$!-]|`[^`\n]*`)")
_TAG = re.compile(r"""<<(-?)\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2""")
_TO = re.compile(r"(?<![>0-9&])>\s*(['\"]?)([^\s'\"<>;&|]+)\1")
_TEE = re.compile(r"""^\s*(?:sudo\s+)?tee\s+((?:-[a-z]+\s+)*)(['"]?)([^\s'"<>;&|-][^\s'"<>;&|]*)\2""")
_ECHO = re.compile(r"""^\s*echo\s+(?:-[neE]+\s+)?'""")
PLACEHOLDER = "__goblin_unexpanded_{}__"
# files whose lines run top to bottom as a shell runs them (not a README's code blocks, a notebook or a Python file)
SHELL_SUFFIXES = frozenset({".sh", ".bash", ".slurm", ".sbatch", ".job", ""})


@dataclass
class Written:
    """The text a script writes to a path before its launch line."""

    text: str
    file: str  # the script's real path
    shown: str  # the script as the launch names it
    line: int  # the script line of the command that writes it
    first: int  # the script line of the text's first line
    launch_line: int
    unexpanded: list[str] = field(default_factory=list)  # `$X` words left unexpanded, in order (PLACEHOLDER.format(i))
    conditional: bool = False  # only where the file is absent (`if [ ! -f ds.json ]`, `[ -f ds.json ] ||`)

    def where(self) -> str:
        return f"{self.shown} line {self.line}"


def _same_path(a: str, b: str) -> bool:
    def norm(p: str) -> str:
        return os.path.normpath(p.strip().strip("'\""))

    return norm(a) == norm(b)


def _expand(lines: list[str], quoted: bool) -> tuple[list[str], list[str]]:
    """The heredoc's lines with each expansion bash would make replaced by a numbered placeholder."""
    if quoted:
        return lines, []
    words: list[str] = []

    def sub(m: re.Match[str]) -> str:
        words.append(m.group(1))
        return PLACEHOLDER.format(len(words) - 1)

    return [_EXPANSION.sub(sub, line).replace("\\$", "$") for line in lines], words


def _absent_test(text: str, ref: str) -> bool:
    """Whether a guard runs its command only where `ref` does not exist: `if [ ! -f ref ]`, `[ -f ref ] ||`,
    `[[ ! -e ref ]] &&` (bash(1), CONDITIONAL EXPRESSIONS: -e exists, -f regular file, -s non-empty)."""
    path = r"""["']?([^\s"'\]]+)["']?"""
    for m in re.finditer(r"\[\[?\s*(!\s*)?-[efs]\s+" + path + r"\s*\]\]?\s*(\|\||&&|;|$)", text):
        negated, sep = bool(m.group(1)), m.group(3)
        if _same_path(m.group(2), ref) and (negated != (sep == "||")):
            return True
    return False


def written_in(lines: list[str], ref: str, before: int) -> tuple[str, int, int, list[str], bool] | None:
    """(text, command line, text's first line (1-based), unexpanded words, only where the file is absent) of the
    last write of `ref` on lines 1..before-1 (a heredoc or a single-quoted echo redirected to it); None when none
    writes it, or the last write runs under a condition other than the file's absence (`if [ "$X" = 1 ]`, an
    `else`, a `case`), which goblin does not evaluate."""
    found: tuple[str, int, int, list[str], bool] | None = None
    guards: list[str] = []  # the enclosing if / case conditions, innermost last
    i = 0
    end = min(before - 1, len(lines))

    def settled(prefix: str) -> bool | None:
        """True: only where absent; False: unconditional; None: a condition goblin does not evaluate."""
        conds = [*guards, *([prefix] if re.search(r"\|\||&&", prefix) else [])]
        if not conds:
            return False
        return True if all(_absent_test(c, ref) for c in conds) else None

    while i < end:
        line = lines[i]
        stripped = line.strip()
        if re.match(r"^(if|case)\b", stripped) and not re.search(r"[;\s](fi|esac)\s*(#.*)?$", stripped):
            guards.append(stripped)
        elif re.match(r"^(elif|else)\b", stripped) and guards:
            guards[-1] = stripped  # the other branch: not the file's absence
        elif re.match(r"^(fi|esac)\b", stripped) and guards:
            guards.pop()
        tag = _TAG.search(line) if not stripped.startswith("#") else None
        if tag is not None:
            rest = line[: tag.start()] + " " + line[tag.end() :]
            to = _TO.search(rest)
            tee = _TEE.match(line[: tag.start()])
            target = tee.group(3) if tee else to.group(2) if to else None
            body: list[str] = []
            j = i + 1
            while j < len(lines) and (lines[j].lstrip("\t") if tag.group(1) else lines[j]).rstrip("\r") != tag.group(3):
                body.append(lines[j])
                j += 1
            if j >= end:  # the heredoc closes at or after the launch line: not written before it
                break
            appended = bool(tee and "a" in tee.group(1)) or (target is not None and bool(re.search(r">>\s*['\"]?" + re.escape(target), rest)))
            if target is not None and _same_path(target, ref) and not appended:
                text, words = _expand(body, bool(tag.group(2)))
                only_absent = settled(line[: tag.start()])  # `[ -f x ] || cat > x <<EOF`
                found = ("\n".join(text), i + 1, i + 2, words, only_absent) if only_absent is not None else None
            i = j + 1
            continue
        echo = _ECHO.match(line) if not stripped.startswith("#") else None
        if echo is not None:
            start = echo.end()
            joined, j = line[start:], i
            while "'" not in joined and j + 1 < end:
                j += 1
                joined += "\n" + lines[j]
            content, quote, after = joined.partition("'")
            to = _TO.search(after) if quote else None
            if to is not None and not after.lstrip().startswith(">>") and _same_path(to.group(2), ref):
                only_absent = settled(line[: echo.start()])
                found = (content, i + 1, i + 1, [], only_absent) if only_absent is not None else None
            i = j + 1
            continue
        i += 1
    return found
