"""Launches a config gets where no launcher command goblin reads names it directly: the one training command
of a Python file the line runs (`modal run -m src.train --config=...`: `python_entry`), a plain `python`
process (`plain_python`), a copy of the script run from another checkout (`elsewhere_launch`), a
commented-out line (`commented_launch`) or a README code block beside the config that launches a
placeholder config; and the lines that run a config for something other than training (`other_run`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..safepath import UnsafePath, read_text
from .launch_lfentry import entry_script
from .launch_line import Launch, config_kind, llamafactory_entry, placeholder, program_kind, read_launch, short_command, visible_devices
from .launch_naming import (
    INTERPRETER,
    NOT_TRAINING_WORD,
    TRAINING_WORD,
    checkout_file,
    elsewhere_note,
    elsewhere_possible,
    names_config,
    resolve_relative,
    runs_elsewhere,
)
from .launch_walk import config_folders, folder_listing, launcher_candidates, launcher_rank, read_launcher
from .launcher_text import CONFIG_SUFFIXES, MAX_BYTES, LauncherFile, Line, launcher_kind, module_file, module_files, word_path


def elsewhere_launch(script: Path, root: Path, roots: list[Path]) -> Launch | None:
    """Where no live line names a training script by a path from here: a launch line that runs it by its bare name
    from another checkout (`runs_elsewhere`, review5 #30 WizardCoder README.md:137 `deepspeed train_wizardcoder.py ...`),
    read as its topology, with a note saying so."""
    if not elsewhere_possible(script, root):
        return None
    for folder, path in launcher_candidates(script, root):
        lf = read_launcher(path, roots)
        if lf is None or script.name not in lf.names:
            continue
        for line in lf.lines:
            at = next((i for i in range(len(line.tokens)) if runs_elsewhere(line, i, script, folder, root)), None)
            if at is None:
                continue
            shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
            found = read_launch(line, lf, shown, roots, root) or _interpreted(line, lf, shown, at)
            if found is None:
                continue
            found.place = line.place
            found.script = str(script)
            if not found.strategy and not found.strategy_unread:
                found.strategy_unread = deepspeed_unread(line.tokens, found.where())
            found.notes.insert(0, elsewhere_note(found.where(), line.tokens[at], script, root))
            return found
    return None


def _one_process(line: Line, lf: LauncherFile, shown: str, interpreter: str) -> Launch:
    """A script run by the interpreter itself: one process on one node, the GPUs the line's environment shows."""
    out = Launch(nodes=1, per_node=1, file=str(lf.path), shown=shown, line=line.line, command=short_command(line.tokens), interpreter=True)
    out.notes.extend(lf.cloud)
    out.notes.append(f"{shown} line {line.line} runs the script with `{interpreter}`: one process (no torchrun, accelerate or deepspeed launcher)")
    visible = visible_devices(dict(line.env))
    out.visible = visible[1] if visible is not None else ""
    return out


def _interpreted(line: Line, lf: LauncherFile, shown: str, at: int) -> Launch | None:
    """`python train_x.py ...` run from another checkout: one process, as `plain_python`."""
    words = [t for t in line.tokens[:at] if not re.match(r"^[A-Za-z_]\w*=", t)]
    if len(words) != 1 or not INTERPRETER.fullmatch(Path(words[0]).name):
        return None
    return _one_process(line, lf, shown, Path(words[0]).name)


# A script or module whose name says it evaluates, serves, merges or converts (`evaluate.py`, `run_inference.py`,
# `axolotl.cli.merge_lora`) and says no training word: a line that runs it on a config is not the config's training launch.
_OTHER_RUN = re.compile(r"(?:^|[._-])(?:eval\w*|infer\w*|inference|generat\w*|predict\w*|serve|serving|merge\w*|export\w*|convert\w*|chat|demo)(?:[._-]|$)")


def other_run(tokens: tuple[str, ...], config: Path) -> bool:
    """True when the Python file or module the line runs is an evaluation / inference / merge script (by its name),
    not `config` itself: a notebook's or script's later cell that evaluates the trained model with the same config."""
    for i, tok in enumerate(tokens):
        word = module_file(tokens, i) or (word_path(tok) if tok.endswith(".py") and not tok.startswith("-") else "")
        if not word:
            continue
        name = Path(word).name
        if name == config.name:
            return False
        stem = name[: -len(".py")]
        if TRAINING_WORD.search(stem):
            return False
        for part in (stem, *word[: -len(".py")].split("/")[-3:-1]):
            if _OTHER_RUN.search(part) and not TRAINING_WORD.search(part):
                return True
        return False
    return False


def deepspeed_unread(tokens: tuple[str, ...], where: str) -> str:
    """Why the strategy is not known when the line passes the script a DeepSpeed config set at run time
    (`--deepspeed {deepspeed_config}` in a notebook, `--deepspeed $DS_CONFIG`): "" for any other line."""
    for i, tok in enumerate(tokens):
        flag, eq, value = tok.partition("=")
        if flag not in ("--deepspeed", "--deepspeed_config", "--deepspeed-config"):
            continue
        value = value if eq else (tokens[i + 1] if i + 1 < len(tokens) else "")
        if "$" in value:
            return f"the DeepSpeed config {where} passes, {value!r}, is set at run time, so the ZeRO stage it sets is not known"
    return ""


def plain_python(line: Line, lf: LauncherFile, shown: str, script: Path, folder: Path, root: Path) -> Launch | None:
    """`python finetune/finetune.py --flags`: the script itself run by the interpreter, one process on one
    node (review4 #33 starcoder README.md:140); None for any other line (a launcher, `python -m`, another file)."""
    words = [t for t in line.tokens if not re.match(r"^[A-Za-z_]\w*=", t)]  # the inline VAR=value prefix
    if len(words) < 2 or not INTERPRETER.fullmatch(Path(words[0]).name) or not words[1].endswith(".py"):
        return None
    if not names_config((words[1],), script, folder, root, line.cwd):
        return None
    return _one_process(line, lf, shown, Path(words[0]).name)


# `python -m axolotl.cli.train x.yml`: the module's `__main__` parses the config and trains in that process, with no
# launcher of its own (axolotl v0.18.0 src/axolotl/cli/train.py:206 `fire.Fire(do_cli)`, :139 `do_train(...)`; `use_ray`
# at :117 is the config's own key, read before any launch line).
AXOLOTL_MODULE_AT = "axolotl v0.18.0 src/axolotl/cli/train.py:117, :139, :206"


def plain_python_yaml(line: Line, lf: LauncherFile, shown: str) -> Launch | None:
    """A line that names a YAML/JSON config and runs the interpreter itself: `python -m axolotl.cli.train x.yml` (one
    process, AXOLOTL_MODULE_AT), or `python train.py --config x.yaml` where the line sees one GPU (`#SBATCH
    --gres=gpu:1`, `--gpus=1`, `CUDA_VISIBLE_DEVICES=0`): one process on that GPU. A script run where more GPUs may be
    visible is left unread (it may spread over them: HF Trainer's DataParallel, `device_map="auto"`); None then."""
    words = [t for t in line.tokens if not re.match(r"^[A-Za-z_]\w*=", t)]  # the inline VAR=value prefix
    if len(words) < 2 or not INTERPRETER.fullmatch(Path(words[0]).name):
        return None
    interpreter = Path(words[0]).name
    if words[1] == "-m" and len(words) > 2 and words[2] == "axolotl.cli.train":
        out = _one_process(line, lf, shown, interpreter)
        out.notes.append(f"`{interpreter} -m axolotl.cli.train` trains in that one process ({AXOLOTL_MODULE_AT})")
        return out
    if not words[1].endswith(".py") or words[1].startswith("-"):
        return None
    sb = {what: (value, n) for what, value, n in reversed(lf.sbatch)}  # first directive wins
    visible = visible_devices(dict(line.env))
    if visible is not None and visible[0] == 1:
        why = visible[1]
    elif visible is None and "gpus_per_node" in sb and sb["gpus_per_node"][0] == 1 and sb.get("nodes", (1, 0))[0] == 1:
        why = f"the #SBATCH line {sb['gpus_per_node'][1]} asks for 1 GPU"
    else:
        return None
    out = _one_process(line, lf, shown, interpreter)
    out.notes.append(f"{why}: the one process runs on that GPU")
    return out


def llamafactory_python(line: Line, lf: LauncherFile, shown: str, folder: Path, root: Path) -> Launch | None:
    """`python src/train.py x.yaml k=v`: LLaMA-Factory's entry script run by the interpreter itself, one process on one
    node as `plain_python`, with the `key=value` words LLaMA-Factory merges over the config as `llamafactory-cli train`'s
    (launch_lfentry.ENTRY_AT); None for any other line."""
    entry = entry_script(line.tokens, folder, root, line.cwd)
    words = [t for t in line.tokens[: entry or 0] if not re.match(r"^[A-Za-z_]\w*=", t)]
    if entry is None or len(words) != 1 or not INTERPRETER.fullmatch(Path(words[0]).name):
        return None
    out = _one_process(line, lf, shown, Path(words[0]).name)
    llamafactory_entry(line, lf, shown, root, out, entry)
    return out


def _template_launch(config: Path, root: Path, roots: list[Path]) -> Launch | None:
    """Where no line names the config: a README code block in the config's own folder or a parent
    that launches a placeholder config (`accelerate launch --num_processes 4 --config_file
    recipes/accelerate_configs/deepspeed_zero3.yaml scripts/run_dpo.py your_config_name.yaml`,
    review3 magpie recipes/README.md:63), read as the way the recipes beside it are run."""
    for folder in config_folders(config, root):
        for path in folder_listing(folder)[0]:
            if launcher_rank(path.name) not in (2, 3) or os.path.realpath(path) == str(config):
                continue
            lf = read_launcher(path, roots)
            if lf is None:
                continue
            for line in lf.lines:
                words = [word_path(t) for t in line.tokens]
                held = [w for w in words if w.lower().endswith(CONFIG_SUFFIXES) and placeholder(w) and "$" not in w]
                if not held or config.suffix.lower() != Path(held[0]).suffix.lower() or program_kind(line.tokens) != _config_kind(config, roots):
                    continue  # a README's Axolotl line is not how its TRL recipes run (review3 magpie recipes/README.md:41, :63)
                shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
                found = read_launch(line, lf, shown, roots, root)
                # a template line that states no count (every visible GPU) leaves the README's prose to say one
                if found is not None and launcher_kind(line.tokens) is not None and found.per_node_said and found.nodes_said:
                    found.place, found.template = line.place, True
                    found.notes.append(f"{found.where()} launches `{held[0]}`, a placeholder, in a README beside this config: read as how its recipes run")
                    return found
    return None


def script_run(line: Line, folder: Path, root: Path) -> str:
    """The repository's `.py` file a launch line runs (`accelerate launch ... train/LLaMA-Factory/src/train.py x.yaml`):
    the first word ending in .py that is not an option, resolved as the line's own paths are, else the file of the module
    a `-m`/`--module` word runs; "" when none."""
    for tok in line.tokens:
        if tok.endswith(".py") and not tok.startswith("-") and ("$" in tok or Path(tok).is_absolute()):
            # a root-level script under the author's checkout (review12b #35): launch_naming.checkout_file, as a config is read
            moved = checkout_file(tok, root, line.tokens) if Path(tok).is_absolute() else None
            return _checkout_tail(tok, root) or (str(moved) if moved is not None else "")
        if tok.endswith(".py") and not tok.startswith("-"):
            found, _ = resolve_relative(tok, folder, root, line.cwd)
            return str(found) if found is not None and found.is_relative_to(root) and found.is_file() else ""
    for i in range(len(line.tokens)):
        # `torchrun --nproc_per_node 1 -m train_multipacking ...`: the module's file, as launchers.find_script_launch
        # matches the script to the line (launcher_text.module_files), so a launcher and its script agree (blind
        # review 15b #38 malaya-speech session/llama3-tts/300M.sh:5)
        for word in module_files(line.tokens, i):
            found, _ = resolve_relative(word, folder, root, line.cwd)
            if found is not None and found.is_relative_to(root) and found.is_file():
                return str(found)
    return ""


def _checkout_tail(word: str, root: Path) -> str:
    """A script named by an absolute or variable-prefixed path into a checkout elsewhere
    (`${MyWD}/recipes/distributed/lora_finetune_distributed.py` with MyWD=/cluster/projects/.../$USER/llm-hpc-gervasio,
    review7a #7): the repository file whose whole path inside the repository (two parts or more) ends the word's
    literal tail, as launch_naming.names_config judges a config so named; "" when none."""
    tail = word.rsplit("}", 1)[-1] if "}" in word else re.sub(r"^.*\$\w+", "", word)
    parts = [p for p in tail.split("/") if p and p not in (".", "..")]
    for k in range(min(len(parts), 8), 1, -1):
        cand = root.joinpath(*parts[-k:])
        if cand.is_file() and cand.resolve().is_relative_to(root):
            return str(cand)
    return ""


def _config_kind(config: Path, roots: list[Path]) -> str:
    """`config_kind` of a config file, read within the repository; "" when it cannot be read."""
    try:
        return config_kind(read_text(config, roots=roots, limit=MAX_BYTES))
    except UnsafePath:
        return ""


def commented_launch(config: Path, root: Path, roots: list[Path]) -> Launch | None:
    """Where no live line names the config: a commented-out launch line that does, read the same way
    and marked `commented` (its counts are the repository's hint, said as assumed)."""
    for folder, path in launcher_candidates(config, root):
        if os.path.realpath(path) == str(config):
            continue
        lf = read_launcher(path, roots)
        if lf is None or not lf.commented or config.name not in lf.names:
            continue
        for line in lf.commented:
            if not names_config(line.tokens, config, folder, root, line.cwd):
                continue
            shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
            found = read_launch(line, lf, shown, roots, root) or python_entry(line, lf, shown, folder, roots, root)
            if found is not None:
                found.place, found.commented = line.place, True
                found.nodes_said = found.per_node_said = False
                here = f"{shown} {line.place}" if line.place else f"{shown} line {line.line}"
                found.assumed.append(f"no live line names this config; {here} does, commented out: its count is the repository's hint, not a statement")
                return found
    return _template_launch(config, root, roots)


def python_entry(line: Line, lf: LauncherFile, shown: str, folder: Path, roots: list[Path], root: Path) -> Launch | None:
    """The topology of a launch line that runs a Python file of the repository on the config (`modal run -m
    src.train --config=config/x.yml`, `python launch.py x.yaml`) from the one training command that file
    builds (formats/pylaunch.py: `accelerate launch --num_processes {torch.cuda.device_count()} -m
    axolotl.cli.train ...` in a Modal function with gpu="a100:2"); the line's `VAR=value` prefix is the
    environment that file reads. None when it names no such file, or its training commands disagree."""
    from .pylaunch import commands as python_commands

    ref = None
    for i, tok in enumerate(line.tokens):
        if tok == "-m" and i + 1 < len(line.tokens) and re.fullmatch(r"[A-Za-z_][\w.]*", line.tokens[i + 1]):
            if not line.tokens[i + 1].startswith("torch."):
                ref = line.tokens[i + 1].replace(".", "/") + ".py"
            break
        if tok.split("::", 1)[0].endswith(".py") and not tok.startswith("-"):
            ref = tok.split("::", 1)[0]
            break
    if ref is None or "$" in ref:
        return None
    found, _ = resolve_relative(ref, folder, root, line.cwd)
    if found is None or not found.is_relative_to(root):
        return None
    try:
        text = read_text(found, roots=roots, limit=MAX_BYTES)
    except UnsafePath:
        return None
    training = [
        c
        for c in python_commands(text, dict(line.env))
        if launcher_kind(c.tokens) is not None
        and any(TRAINING_WORD.search(Path(t).name) for t in c.tokens)
        and not any(NOT_TRAINING_WORD.search(Path(t).name) for t in c.tokens)
    ]
    if not training:
        return None
    py = LauncherFile(path=found, lines=(), sbatch=())
    py_shown = os.path.relpath(found, root)
    launches = [read_launch(Line(c.line, c.tokens, (), notes=tuple(c.notes), gpus=c.gpus), py, py_shown, roots, root) for c in training]
    read = [x for x in launches if x is not None]
    if not read or len({(x.nodes, x.per_node) for x in read}) > 1:
        return None
    out = read[0]
    where = f"{shown} {line.place}" if line.place else f"{shown} line {line.line}"
    out.notes.insert(0, f"{where} runs {py_shown} on this config: `{short_command(line.tokens)}`")
    return out
