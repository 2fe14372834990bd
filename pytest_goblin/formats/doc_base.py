"""The base model a repository's own Markdown names for a local model folder that is not in the checkout.

`model_name_or_path: checkpoints/stage1_merged_fixed` names a folder the repository neither holds nor writes (the
guide links it in from a download); its README says what it is: "**Base**: `stage1_merged_fixed` (Qwen2.5-VL-7B + 3
physics tokens)" (review11a row 12, zouyueying/PhysCoT-Remote-Training README.md:81). A Markdown line that writes the
folder's last part in backticks followed by a parenthesis whose first word is a model in the shape table names its
base: that model's shape is taken, labelled with the file and line. Only a distinctive folder name (MIN_NAME characters
or more, not a generic `checkpoints`/`output`: `modelzoo.path_model_part`) is matched; two different models named for
it name none (said). Read through safepath, bounded, nothing run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..modelzoo import lookup_model, path_model_part
from ..safepath import text_or_empty
from ..schemas import ModelShape
from .launch_walk import config_folders, config_tree

MIN_NAME = 8  # a folder name shorter than this is too common to match in prose
MAX_DOCS = 40  # Markdown files read
MAX_BYTES = 200_000
# `name` (Model-Id ...: the backticked folder, then a parenthesis opening on a model word
_NAMED = re.compile(r"`([^`\s]{1,200})`[ \t]{0,4}\([ \t]{0,4}([A-Za-z0-9][\w.-]{0,95}(?:/[\w.-]{1,96})?)")


def _folder_name(value: str) -> str | None:
    """The folder's distinctive last part (`checkpoints/stage1_merged_fixed` -> `stage1_merged_fixed`), or None."""
    text = value.strip().replace("\\", "/").rstrip("/")
    if "/" not in text:
        return None  # a bare name: a Hub id as much as a folder
    head = text.partition("/")[0]
    if text.count("/") == 1 and not text.startswith((".", "/", "~")) and path_model_part(f"./{head}") is not None:
        return None  # `org/name`: a Hub id, unless its first part is a generic folder (`checkpoints/x`)
    part = path_model_part(text if text.startswith((".", "/", "~")) else "./" + text)
    return part if part is not None and len(part) >= MIN_NAME else None


def _docs(config: Path, root: Path) -> list[Path]:
    out: list[Path] = []
    for folder in (root, *config_folders(config, root)):
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        out.extend(folder / n for n in names if n.lower().endswith(".md") and folder / n not in out)
    return out[:MAX_DOCS]


def doc_base(value: str, config: Path, notes: list[str]) -> ModelShape | None:
    """The shape of the one base model the repository's Markdown names for the folder `value`, labelled; None when
    none or several are named."""
    name = _folder_name(value)
    if name is None:
        return None
    absolute = Path(os.path.abspath(config))
    roots, root, _ = config_tree(absolute)
    found: dict[str, tuple[str, int, ModelShape]] = {}
    for path in _docs(absolute, root):
        text = text_or_empty(path, roots=roots, limit=MAX_BYTES)
        if name not in text:
            continue
        shown = os.path.relpath(path, root) if path.is_relative_to(root) else path.name
        for number, row in enumerate(text.splitlines(), 1):
            for m in _NAMED.finditer(row):
                if m.group(1).rstrip("/").rpartition("/")[2] != name:
                    continue
                shape = lookup_model(m.group(2))
                if shape.known:
                    found.setdefault(m.group(2), (shown, number, shape))
    if len(found) > 1:
        said = ", ".join(f"{model} ({shown}:{line})" for model, (shown, line, _s) in found.items())
        notes.append(f"model {value}: the repository's documents name {len(found)} base models for {name}, {said}: none is taken")
        return None
    if not found:
        return None
    model, (shown, line, shape) = next(iter(found.items()))
    label = f"shape of {model}, which {shown} line {line} names as what {name} holds; the folder is not in the checkout"
    label += f"; {shape.inferred}" if shape.inferred else ""
    return shape.model_copy(update={"name": value, "inferred": label})
