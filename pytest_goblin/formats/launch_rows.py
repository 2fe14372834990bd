"""The launch line that names a config, as physical lines (backslash continuations included), and the `--name` words it
passes the script after it: what TrlParser parses over the file (trl 0.18.0 trl/scripts/utils.py:186-208; 1.16.0
:340,345). frameworks/history reads those names through history.LAUNCH_KEYS (a lower layer: formats/__init__ registers
launch_keys there), so that the release a recipe's keys are read at counts the keys its launch line passes too."""

from __future__ import annotations

import re
from pathlib import Path

from ..safepath import text_or_empty, tree_of
from .launchers import find_launch

_FLAG = re.compile(r"(?<![\w-])--([A-Za-z][\w-]{0,127})")
_STOP = re.compile(r"[;&|<>]")


def launch_rows(path: Path) -> tuple[str, list[tuple[int, str]]] | None:
    """(the launcher shown, its physical lines (1-based number, text)) of the launch line that names `path`, with every
    backslash continuation before and after the line the launch was found on; None where no launch line names it."""
    try:
        launch = find_launch(path)
        if launch is None or not launch.file:
            return None
        lines = text_or_empty(Path(launch.file), roots=tree_of(path)).splitlines()
    except (OSError, ValueError):
        return None
    n = launch.line - 1
    while 0 < n < len(lines) and lines[n - 1].rstrip().endswith("\\"):  # back to the command's first line
        n -= 1
    out: list[tuple[int, str]] = []
    while 0 <= n < len(lines):
        out.append((n + 1, lines[n]))
        if not lines[n].rstrip().endswith("\\"):
            break
        n += 1
    return launch.shown, out


def launch_keys(config: str) -> list[str]:
    """The `--name` words (dashes to underscores) after the Python script on the launch line that passes `config` as
    `--config FILE`, up to a bare `--`, a shell operator or a comment; empty where there is none (a notebook's line,
    a positional YAML, no launch line)."""
    got = launch_rows(Path(config))
    if got is None or got[0].endswith(".ipynb"):
        return []
    words = [w.strip("'\"") for _n, text in got[1] for w in text.rstrip().removesuffix("\\").split()]
    script = next((i for i, w in enumerate(words) if w.endswith(".py")), None)
    if script is None:
        return []
    after = words[script + 1 :]
    cut = next((i for i, w in enumerate(after) if w == "--" or w.startswith("#") or _STOP.match(w)), len(after))
    after = after[:cut]
    name = Path(config).name
    if not any(w == "--config" and i + 1 < len(after) and Path(after[i + 1]).name == name for i, w in enumerate(after)):
        return []
    return [m.group(1).replace("-", "_") for w in after if (m := _FLAG.match(w)) is not None and m.group(1) != "config"]
