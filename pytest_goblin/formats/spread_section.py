"""A YAML whose sections are a script's settings, one of them the keyword arguments of a trainer config class: AMD-AGI/PARD
config/train/example_qwen.yaml's `train:` mapping, which pard/pard2_train.py:962,1094-1098 reads as
`config.get("train", {})` and spreads into `SFTConfig(output_dir=..., **train_kwargs)` (review11b #27). goblin reads
no trainer config from such a section, so the reason the file is not collected says which section holds trainer keys
and which script spreads it, found by reading the repository's Python files as text (bounded; nothing imported or run)."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..safepath import UnsafePath, read_text
from ..yamlio import key_line

MAX_FILES = 400  # Python files of the repository read, breadth first
MAX_BYTES = 400_000
MIN_KEYS = 3  # a section with fewer trainer keys is not called a trainer section
_SKIP = frozenset({".git", "node_modules", "__pycache__", ".venv", "venv", "site-packages"})


@lru_cache(maxsize=1)
def _trainer_keys() -> frozenset[str]:
    """The keys of TrainingArguments and of every TRL config class at any release goblin's key history read
    (frameworks/history.py: transformers 4.36.2-5.25.0, trl 0.7.11-1.16.0), plus the shipped tables'."""
    from ..frameworks import tables
    from ..frameworks.history import history

    keys = set(tables.class_fields("transformers", "TrainingArguments"))
    for entry in tables.table("trl").get("classes", {}).values():
        keys |= set(entry.get("fields", {}))
    for dist in ("transformers", "trl"):
        for name, entry in history()[dist]["classes"].items():
            if dist == "trl" or name in ("TrainingArguments", "Seq2SeqTrainingArguments"):
                keys |= set(entry["keys"])
    return frozenset(keys)


def trainer_section(data: Any) -> tuple[str, list[str]] | None:
    """(section, its keys) of the one top-level mapping whose keys are all TrainingArguments / TRL config fields, at least
    MIN_KEYS of them; None when there is not exactly one."""
    if not isinstance(data, dict):
        return None
    known = _trainer_keys()
    found = [
        (name, [k for k in value if isinstance(k, str)])
        for name, value in data.items()
        if isinstance(name, str) and isinstance(value, dict) and len(value) >= MIN_KEYS and all(isinstance(k, str) and k in known for k in value)
    ]
    return found[0] if len(found) == 1 else None


def _python_files(root: Path) -> list[Path]:
    out: list[Path] = []
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP and not d.startswith("."))
        out.extend(Path(here) / f for f in sorted(files) if f.endswith(".py"))
        if len(out) >= MAX_FILES:
            break
    return out[:MAX_FILES]


def _spreading(section: str, root: Path, roots: list[Path]) -> str:
    """ "pard/pard2_train.py reads a `train` section (line 962) and spreads a mapping into SFTConfig (line 1096: ...)" for the first
    repository file that reads the section by its name and spreads a mapping into a trainer config class; "" when none."""
    from .pyclasses import CONFIG_CLASSES

    name = re.escape(section)
    reads = re.compile(r"""\[\s*['"]""" + name + r"""['"]\s*\]|\.get\(\s*['"]""" + name + r"""['"]""")
    calls = re.compile(r"\b(" + "|".join(sorted(CONFIG_CLASSES)) + r")\(")
    for path in _python_files(root):
        try:
            text = read_text(path, roots=roots, limit=MAX_BYTES)
        except (UnsafePath, OSError, UnicodeDecodeError, ValueError):
            continue
        read = reads.search(text)
        if read is None:
            continue
        for call in calls.finditer(text):
            window = text[call.end() : call.end() + 400]
            close = window.find(")")
            if "**" in (window[:close] if close >= 0 else window):
                at = text.count("\n", 0, call.start()) + 1
                line = text.count("\n", 0, read.start()) + 1
                shown = os.path.relpath(path, root)
                return (
                    f"{shown} reads a `{section}` section (line {line}) and spreads a mapping into {call.group(1)} (line {at}: `{call.group(1)}(..., **...)`)"
                )
    return ""


def spread_reason(path: Path, data: Any) -> str:
    """ "; its `train:` section (line 12) holds only TrainingArguments/TRL config keys (...), and pard/pard2_train.py reads a
    `train` section ... and spreads a mapping into SFTConfig ...: goblin reads no trainer config from ..." for the "no known
    config format matched" reason; "" when the file has no such section."""
    found = trainer_section(data)
    if found is None:
        return ""
    section, keys = found
    from .launch_walk import config_tree

    absolute = Path(os.path.abspath(path))
    roots, root, _how = config_tree(absolute)
    line = key_line(data, section)
    at = f" (line {line})" if line else ""
    shown = ", ".join(keys[:4]) + (", ..." if len(keys) > 4 else "")
    script = _spreading(section, root, roots)
    if not script:
        return f"; its `{section}:` section{at} holds only TrainingArguments/TRL config keys ({shown}), and goblin reads no trainer config from a section of a file"
    return (
        f"; its `{section}:` section{at} holds only TrainingArguments/TRL config keys ({shown}), and {script}:"
        " goblin reads no trainer config from a section of a file that a script spreads into its config class"
    )
