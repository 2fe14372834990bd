"""The model a README's code block launches a config with, where the config itself names a placeholder.

`model_name_or_path: /path/to/model` names no model; a README beside the config (its folder or a parent, up to
the repository root) whose fenced code block names the config's file and passes `--model_name_or_path
meta-llama/Llama-2-7b-hf` (or `model_name_or_path=...`, `--model ...`) says which one the authors ran. Only one
distinct model over all such blocks counts; a README that names two (gpt-oss-20b or -120b) names none.
Read through safepath, nothing run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..frameworks.pins import _fence_lines
from ..modelzoo import placeholder
from ..safepath import text_or_empty, tree_of, within

_README = ("README.md", "readme.md", "Readme.md")
_MAX_UP = 8
# `--model_name_or_path X`, `--model-name-or-path=X`, `model_name_or_path=X`, `--model X`, `--base_model X`
_MODEL_WORD = re.compile(
    r"(?:^|[\s\\])-{0,2}(?:model[-_]name[-_]or[-_]path|model[-_]name|model[-_]path|model[-_]id|base[-_]model|model)"
    r"(?:=|[ \t]{1,20})[\"']?([^\s\"'\\]{1,300})"
)
# A Hub id or a path whose last part names a model: no variable, no placeholder.
_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}(?:/[\w.-]{1,96}){0,8}")


def readme_model(config: Path) -> tuple[str, str, int] | None:
    """The one model id a README code block that names `config`'s file passes, with that README's path (as shown
    from the repository root) and line; None when no block names one, or blocks name two."""
    config = Path(os.path.abspath(config))
    roots = tree_of(config)
    if not roots:
        return None
    found: dict[str, tuple[str, int]] = {}
    folder = config.parent
    for _ in range(_MAX_UP):
        for name in _README:
            path = folder / name
            if not path.is_file() or not within(path, roots):
                continue
            text = text_or_empty(path, roots=roots)
            shown = os.path.relpath(path, roots[0]) if path.is_relative_to(roots[0]) else path.name
            for value, line in _block_models(text, config.name):
                found.setdefault(value, (shown, line))
            break
        if not within(folder.parent, roots) or folder.parent == folder:
            break
        folder = folder.parent
    if len(found) != 1:
        return None
    value, (shown, line) = next(iter(found.items()))
    return value, shown, line


def _block_models(text: str, config_name: str) -> list[tuple[str, int]]:
    """The model words of each fenced block that names the config's file, with their lines (1-based)."""
    rows = text.splitlines()
    out: list[tuple[str, int]] = []
    block: list[tuple[int, str]] = []
    inside = False
    for index, (row, fence) in enumerate(zip(rows, _fence_lines(rows), strict=True)):
        if fence:
            if inside and any(config_name in r for _, r in block):
                for number, r in block:
                    out.extend((m.group(1), number) for m in _MODEL_WORD.finditer(r) if usable_model(m.group(1)))
            inside, block = not inside, []
        elif inside:
            block.append((index + 1, row))
    return out


def usable_model(value: str) -> bool:
    """A model word that names a model: a Hub id or a path, no variable, no placeholder, no config file."""
    return "$" not in value and not placeholder(value) and _ID.fullmatch(value) is not None and not value.lower().endswith((".yaml", ".yml", ".json"))
