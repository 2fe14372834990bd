"""The base model a repository's own Markdown names for a local model folder that is not in the checkout.

`model_name_or_path: checkpoints/stage1_merged_fixed` names a folder the repository neither holds nor writes (the
guide links it in from a download); its README says what it is: "**Base**: `stage1_merged_fixed` (Qwen2.5-VL-7B + 3
physics tokens)" (review11a row 12, zouyueying/PhysCoT-Remote-Training README.md:81). A Markdown line that writes the
folder's last part in backticks followed by a parenthesis whose first word is a model in the shape table names its
base: that model's shape is taken, labelled with the file and line. So does a download command of a Markdown file,
`huggingface-cli download meta-llama/Meta-Llama-3-8B --local-dir $SCRATCH_ROOT/llama-models-cache` for a script's
`os.path.join(SCRATCH_ROOT, "llama-models-cache")` (review12b row 24, jingran-h/Distributed-Model-Training-on-Frontier
README.md:123-125). Only a distinctive folder name (MIN_NAME characters
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


# `huggingface-cli download ORG/NAME ... --local-dir DIR` (or `hf download`, huggingface_hub's newer name): the folder DIR
# holds the model ORG/NAME: repo_id is the first positional argument, `--local-dir` the folder the files are placed under,
# `--repo-type` model by default (huggingface/huggingface_hub src/huggingface_hub/commands/download.py:56-59,63-68,83-91
# @6ccc1f666acc; huggingface_hub 2.4.0 cli/download.py:34,40-41,68 for `hf download`). A dataset or space download is not
# a model's.
_DOWNLOAD = re.compile(r"(?:^|[\s;&|(])(?:huggingface-cli|hf)[ \t]+download[ \t]+([A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96})(?=[\s]|$)")
_OTHER_REPO = re.compile(r"--repo-type(?:[ \t]+|=)[\"']?(?:dataset|space)")
_LOCAL_DIR = re.compile(r"--local-dir(?:[ \t]+|=)[\"']?([^\s\"';|&]{1,400})")


def _downloads(text: str) -> list[tuple[int, str, str]]:
    """(line, model id, local dir) of each download command in a Markdown text, a command continued over lines with `\\`
    read as one and given the line it starts on."""
    out: list[tuple[int, str, str]] = []
    start = 0
    parts: list[str] = []
    for number, row in enumerate(text.splitlines(), 1):
        if not parts:
            start = number
        parts.append(row.rstrip().removesuffix("\\"))
        if row.rstrip().endswith("\\") and len(parts) < 40:
            continue
        command, parts = " ".join(parts), []
        if "download" not in command:
            continue
        model, into = _DOWNLOAD.search(command), _LOCAL_DIR.search(command)
        if model is not None and into is not None and _OTHER_REPO.search(command) is None:
            out.append((start, model.group(1), into.group(1)))
    return out


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
    found: dict[str, tuple[str, int, ModelShape, str]] = {}
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
                    found.setdefault(m.group(2), (shown, number, shape, f"names as what {name} holds"))
        for number, model, into in _downloads(text):
            if into.rstrip("/").rpartition("/")[2] == name and (shape := lookup_model(model)).known:
                found.setdefault(model, (shown, number, shape, f"downloads into {name}"))
    if len(found) > 1:
        said = ", ".join(f"{model} ({shown}:{line})" for model, (shown, line, _s, _how) in found.items())
        notes.append(f"model {value}: the repository's documents name {len(found)} base models for {name}, {said}: none is taken")
        return None
    if not found:
        return None
    model, (shown, line, shape, how) = next(iter(found.items()))
    label = f"shape of {model}, which {shown} line {line} {how}; the folder is not in the checkout"
    label += f"; {shape.inferred}" if shape.inferred else ""
    return shape.model_copy(update={"name": value, "inferred": label})
