"""The model the launchers that run a config pass, where the config itself names a placeholder.

`model_name_or_path: /path/to/model` names no model; a `train.sh` / slurm script whose launch line runs the config and
passes `--model_name_or_path meta-llama/Llama-2-7b-hf` (also `--model_name_or_path=X`, LLaMA-Factory's
`model_name_or_path=X` override word, `--model X`, `--base_model X`) says which one the authors ran. A `$MODEL` /
`${MODEL}` word takes the value the launcher gave MODEL for certain before the line (an assignment outside any branch,
loop or function: `Line.origins`, as `launch_line._tune_overrides` reads a variable); any other variable names none.
Every launch line of the repository that names the config (as `launchers.find_launch` decides a line names it, but all
of them, not the first) is read: one distinct model over all of them counts, two name none (`LaunchModels.models`).
Read through safepath (launch_walk.read_launcher), nothing run.

The keys read are the entry points' own: LLaMA-Factory's ModelArguments.model_name_or_path
(src/llamafactory/hparams/model_args.py:38@v0.9.5), which `llamafactory-cli train x.yaml model_name_or_path=X` merges
over the YAML from 0.9.3 (hparams/parser.py:63-64@v0.9.3, :90-93@v0.9.5; not at a pinned release before it:
`Reader.words_unmerged`); TRL's ModelConfig.model_name_or_path (trl/trainer/model_config.py:82@v0.18.0), which
TrlParser sets from `--model_name_or_path X` over the file (launch_line.SCRIPT_FLAGS_AT); Axolotl's `base_model`
(src/axolotl/utils/schemas/model.py:17@067b021c8b), which `--base_model X` after the YAML sets (launch_line.AXOLOTL_CLI_AT).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .launch_forms import other_run
from .launch_naming import names_config
from .launch_walk import config_tree, launcher_candidates, read_launcher
from .launcher_text import Line
from .readme_model import usable_model

# the flag / override word that names the model a training entry point loads (the readme_model words, one word each)
_KEY = re.compile(r"-{0,2}(model[-_]name[-_]or[-_]path|model[-_]name|model[-_]path|model[-_]id|base[-_]model|model)")
_VAR_ALONE = re.compile(r"\$(?:\{([A-Za-z_]\w{0,63})\}|([A-Za-z_]\w{0,63}))")
_LF_KEY = "model_name_or_path"
_MAX_LINES = 64  # launch lines naming the config read for their model


@dataclass(frozen=True)
class Passed:
    """A model a launch line passes: the model id, the launcher as shown from the repository root, its line, and the
    assignment a variable word took it from ("MODEL=Qwen/Qwen2-7B set at train.sh line 2"; "" for a literal word)."""

    model: str
    file: str  # the launcher's real path
    shown: str
    line: int
    via: str = ""
    # a `model_name_or_path=X` word without dashes: LLaMA-Factory merges it over the YAML from LF_CLI_MERGE only
    # (formats/datasets.before_cli_merge)
    merge_word: bool = False


def launch_models(config_path: str | Path) -> tuple[Passed, ...]:
    """One `Passed` per distinct model the launch lines that run this config pass (the first line of each), in the
    order `launchers.find_launch` looks (closest folder first); () when none passes one. Once per config in a session."""
    from ..repoindex import memo

    absolute = os.path.abspath(config_path)
    return memo("launch_model.launch_models", (absolute, os.getcwd()), lambda: _launch_models(Path(absolute)))


def _launch_models(absolute: Path) -> tuple[Passed, ...]:
    from .launchers import _line_launch

    config = Path(os.path.realpath(absolute))
    roots, root, _how = config_tree(absolute)
    if not config.is_relative_to(root):
        root = config.parent
    found: dict[str, Passed] = {}
    read = 0
    for folder, path in launcher_candidates(config, root):
        if os.path.realpath(path) == str(config):
            continue
        lf = read_launcher(path, roots)
        if lf is None or config.name not in lf.names:
            continue
        shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
        for line in lf.lines:
            if line.line in lf.npu or not names_config((*line.tokens, *line.reads), config, folder, root, line.cwd) or other_run(line.tokens, config):
                continue
            launch = _line_launch(line, lf, shown, folder, config, roots, root)
            if launch is None:
                continue  # a line that names the config but is no launch goblin reads (`cat x.yaml`)
            read += 1
            # a `model_name_or_path=X` word counts where the line's reader takes it as a word over the config (LLaMA-Factory's)
            merges = any(w[0] == _LF_KEY for w in launch.overrides) or any(k == _LF_KEY for k, _why in launch.unresolved)
            for model, via, merge_word in _models_of(line, root, merges):
                found.setdefault(model, Passed(model, str(lf.path), shown, line.line, via, merge_word))
            if read >= _MAX_LINES:
                return tuple(found.values())
    return tuple(found.values())


def _models_of(line: Line, root: Path, merges: bool) -> list[tuple[str, str, bool]]:
    """(model, the assignment a variable word took it from, else "", written as a `key=value` word without dashes) for each model word of one launch line: `--key X`,
    `--key=X`, `model_name_or_path=X`, read from the words as written (a variable alone resolved where it was set for
    certain before the line)."""
    words = list(line.raw) or list(line.tokens)
    origins = {name: (file, at) for name, file, at in line.origins}
    env = dict(line.env)
    out: list[tuple[str, str, bool]] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        key, eq, value = word.partition("=")
        if not _KEY.fullmatch(key):
            continue
        if not eq:
            if not key.startswith("-") or i >= len(words):
                continue  # a bare `model` word, or a flag with no value after it
            value = words[i]
            i += 1
        elif not key.startswith("-") and (key != _LF_KEY or not merges):
            continue  # only LLaMA-Factory's own key, on a line whose reader merges it, is a word without dashes
        via = ""
        var = _VAR_ALONE.fullmatch(value)
        if var:
            name = var.group(1) or var.group(2)
            if name not in origins or name not in env:
                continue  # set at run time, in a branch, or never: no model named
            file, at = origins[name]
            real, base = os.path.realpath(file), os.path.realpath(root)
            where = os.path.relpath(real, base) if Path(real).is_relative_to(base) else Path(real).name
            value = env[name]
            via = f"{name}={value} set at {where} line {at}"
        if usable_model(value):
            out.append((value, via, not key.startswith("-")))
    return out
