"""The model a repository builds itself, where a config loads a local folder no config.json was read from.

`model_name_or_path: models/GL-GDELT-WIKI-130k-RID` names no model goblin knows, and the folder is not in the
checkout: the repository's own merge config writes it (`export_dir: models/GL-GDELT-WIKI-130k-RID` beside
`model_name_or_path: models/llama3_8b` and an adapter). Its shape is that config's base model's. The writers read
(each from the framework's own source):

- LLaMA-Factory's export: `export_dir`, from `model_name_or_path` (src/llamafactory/train/tuner.py:96-97@v0.9.1,
  `model.save_pretrained(save_directory=model_args.export_dir)`, adapters merged);
- a training run's `output_dir` (HF Trainer, TRL, LLaMA-Factory: `model_name_or_path`; Axolotl: `base_model`), the
  folder itself or its `checkpoint-N`; Axolotl's merge writes `<output_dir>/merged`
  (src/axolotl/cli/merge_lora.py:81@v0.18.0);
- torchtune's checkpointer `output_dir` (or a top-level `output_dir` it interpolates), from its `checkpoint_dir`,
  saved under `epoch_N` (torchtune/training/checkpointing/_checkpointer.py:280@v0.5.0);
- a launch line of the repository (`launch_writers`) that passes `--output_dir X` (TrainingArguments.output_dir,
  transformers/training_args.py:771@5.24.0, frameworks/transformers.json; HfArgumentParser makes it the flag) beside
  a `--model_name_or_path` / `--base_model` word naming a model: an earlier stage's launcher. Where its
  folder's parent is a variable set at run time (`${CKPT_DIR}/run-pretrain`), a loaded name equal to the folder's last
  part (at least MIN_TAIL characters) is taken as that folder, said.

A config that only evaluates or predicts (`do_predict`, `do_eval` without `do_train`) writes no model. Several
writers of different base models name none (said); the base model may itself be a folder another config builds
(followed `MAX_HOPS` deep). Config files are the repository walk's (`launch_walk.config_files`), read through
safepath, parsed by yamlio, nothing run.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..modelzoo import lookup_model_noted, placeholder
from ..safepath import text_or_empty
from ..schemas import ModelShape
from ..yamlio import get_path, load_yaml
from .launch_walk import config_files, config_tree, launcher_candidates, read_launcher

MAX_HOPS = 3  # a built model's base that is itself built, and so on
MAX_BYTES = 200_000  # a training config is a few KB
MIN_TAIL = 8  # a loaded bare name matched to the last part of a folder under a run-time variable: distinctive names only
MAX_LAUNCH_LINES = 2000  # launch lines read for an output folder
_OUT_FLAGS = ("--output_dir", "--output-dir")
_BASE_FLAGS = ("--model_name_or_path", "--model-name-or-path", "--base_model", "--base-model")
# the sub-folder a writer saves under its output folder: HF Trainer's checkpoint-N, torchtune's epoch_N, Axolotl's merged
_SUBFOLDER = re.compile(r"checkpoint-\d{1,9}|epoch_\d{1,6}|merged")
# (output key, base-model keys) a config of each framework writes a model with
_WRITERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("export_dir", ("model_name_or_path",)),
    ("output_dir", ("model_name_or_path", "base_model", "checkpointer.checkpoint_dir")),
    ("checkpointer.output_dir", ("checkpointer.checkpoint_dir",)),
)


@dataclass(frozen=True)
class Writer:
    """A config of the repository that writes the folder: its base model, where, and by which key."""

    base: str
    shown: str  # the config's path from the repository root
    line: int | None  # the base model's line
    key: str  # the output key
    path: Path  # the config (a local base model is read relative to its folder)


def _norm(path: str) -> str:
    text = path.strip().replace("\\", "/").rstrip("/")
    while text.startswith("./"):
        text = text[2:]
    return re.sub(r"/{2,}", "/", text)


def _targets(value: str) -> set[str]:
    """The output folders that would hold `value`: itself, and its parent where its last part is a writer's sub-folder."""
    norm = _norm(value)
    out = {norm}
    head, _, last = norm.rpartition("/")
    if head and _SUBFOLDER.fullmatch(last):
        out.add(head)
    return out


def _load(path: Path, roots: list[Path], lasts: set[str]) -> Any:
    """The config parsed, where its text names the folder at all (most configs are not parsed); None otherwise."""
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        return None
    text = text_or_empty(path, roots=roots, limit=MAX_BYTES)
    if not any(last in text for last in lasts):
        return None
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else load_yaml(path, text)
    except (ConfigError, ValueError, RecursionError):
        return None


def _evaluates_only(data: dict[Any, Any]) -> bool:
    def on(key: str) -> bool:
        found, value, _ = get_path(data, key)
        return found and value is True

    return on("do_predict") or (on("do_eval") and not on("do_train"))


def writers(value: str, config: Path) -> list[Writer]:
    """Every config of `config`'s repository (but itself) whose output folder holds the local model `value`."""
    absolute = Path(os.path.abspath(config))
    roots, root, _ = config_tree(absolute)
    targets = _targets(value)
    lasts = {t.rpartition("/")[2] for t in targets} - {""}
    own = os.path.realpath(absolute)
    out: list[Writer] = []
    for path in config_files(root):
        if os.path.realpath(path) == own:
            continue
        data = _load(path, roots, lasts)
        if not isinstance(data, dict) or _evaluates_only(data):
            continue
        for out_key, base_keys in _WRITERS:
            found, written, _ = get_path(data, out_key)
            if not (found and isinstance(written, str) and _norm(written) in targets):
                continue
            for base_key in base_keys:
                has, base, line = get_path(data, base_key)
                if has and isinstance(base, str) and base.strip() and not placeholder(base) and "$" not in base:
                    shown = os.path.relpath(path, root) if path.is_relative_to(root) else path.name
                    out.append(Writer(base.strip(), shown, line, out_key, path))
                    break
            break
    return out


def _flag(tokens: tuple[str, ...], names: tuple[str, ...]) -> str | None:
    """The value of the last `--flag X` / `--flag=X` word of `names` on a launch line."""
    out: str | None = None
    for i, tok in enumerate(tokens):
        key, eq, value = tok.partition("=")
        if key not in names:
            continue
        if eq:
            out = value
        elif i + 1 < len(tokens) and not tokens[i + 1].startswith("-"):
            out = tokens[i + 1]
    return out


def _tail_match(value: str, written: str) -> bool:
    """`value` is a bare name equal to the last part of `written`, whose parent holds a variable set at run time."""
    norm, out = _norm(value), _norm(written)
    head, _, last = out.rpartition("/")
    return "/" not in norm and len(norm) >= MIN_TAIL and last == norm and "$" in head


def launch_writers(value: str, config: Path) -> list[Writer]:
    """Every launch line of `config`'s repository whose `--output_dir` holds the local model `value`, with the model it
    trains from (a literal word, or a variable the launcher set: the line's words as read)."""
    from .readme_model import usable_model

    absolute = Path(os.path.abspath(config))
    roots, root, _ = config_tree(absolute)
    targets = _targets(value)
    lasts = {t.rpartition("/")[2] for t in targets} - {""}
    out: list[Writer] = []
    read = 0
    for _folder, path in launcher_candidates(absolute, root):
        lf = read_launcher(path, roots)
        if lf is None or not (lasts & lf.names or any(last in name for name in lf.names for last in lasts)):
            continue
        for line in lf.lines:
            read += 1
            if read > MAX_LAUNCH_LINES:
                return out
            written = _flag(line.tokens, _OUT_FLAGS)
            if written is None or not (_norm(written) in targets or _tail_match(value, written)):
                continue
            base = _flag(line.tokens, _BASE_FLAGS)
            if base is None or not usable_model(base) or _norm(base) in targets:
                continue
            shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else lf.path.name
            how = "--output_dir" if _norm(written) in targets else f"--output_dir {written}, whose last part it names"
            out.append(Writer(base, shown, line.line, how, lf.path))
    return out


def built_model(value: str, config: Path, notes: list[str], hops: int = 0, seen: frozenset[str] = frozenset()) -> ModelShape | None:
    """The shape of the base model the one config (or several of one base) that writes `value` starts from, labelled;
    None when no config writes it, the writers name different bases (said in `notes`), or the base is unknown."""
    norm = _norm(value)
    if hops >= MAX_HOPS or norm in seen:
        return None
    pathlike = "/" in norm or value.strip().startswith(".")
    found = writers(value, config) if pathlike else []
    found += launch_writers(value, config) if pathlike or len(norm) >= MIN_TAIL else []
    bases = {w.base for w in found}
    if len(bases) > 1:
        said = ", ".join(f"{w.base} ({w.shown}:{w.line})" for w in {w.base: w for w in found}.values())
        notes.append(f"model {value}: {len(bases)} configs of the repository write it from different base models, {said}: none is taken")
        return None
    if not found:
        return None
    writer = found[0]
    shape, _unread = lookup_model_noted(writer.base, writer.path.parent)
    if not shape.known:
        deeper = built_model(writer.base, writer.path, notes, hops + 1, seen | {norm})
        if deeper is None:
            at = f"{writer.shown}" + (f" line {writer.line}" if writer.line else "")
            notes.append(f"model {value}: the folder {at} writes (`{writer.key}`), trained from {writer.base}, whose shape goblin does not know either")
            return None
        shape = deeper
    label = f"shape of {writer.base}, the base model of {writer.shown}" + (f" line {writer.line}" if writer.line else "")
    label += f", which writes {value} (`{writer.key}`)"
    label += f"; {shape.inferred}" if shape.inferred else ""
    return shape.model_copy(update={"name": value, "inferred": label})
