"""Topology from the repository: what launches a config, read as text (never run).

A config rarely says how many GPUs it runs on; the repository around it does: a `train.sh` with
`torchrun --nnodes 2 --nproc_per_node 8 ... configs/sft.yaml`, a slurm job with `#SBATCH --nodes=4`,
`accelerate launch --config_file zero3.yaml`, `NNODES=2 llamafactory-cli train ...`, a README code
block. This module finds the launch line that names the config and reads nodes, GPUs per node and,
from an accelerate config it passes, the strategy (DeepSpeed stage and offload, FSDP).
`find_script_launch` finds the line that runs a Python training script (`python`/`torchrun`/
`accelerate launch`/`deepspeed` ... `train.py --flag value`) and returns the flags it passes, each
with its physical line, for formats/python.py to read as the script's argparse / HfArgumentParser values.

The work is split by job: `launcher_text` reads a launcher file into logical command lines, `launch_walk`
walks the repository for launcher files, `launch_naming` decides which lines name the config,
`launch_line` reads what a line says (the launchers' own semantics, cited there) and `launch_forms` the
launches of lines that are no direct launcher command; this module holds the entry points.

Bounded, so that a config costs little: shell/slurm scripts, notebooks (`.ipynb`: `!` lines,
`%%bash` cells, Markdown cells' code blocks; a Databricks notebook exported as `.py`: `!` lines and
`# MAGIC %sh` cells) and Markdown code blocks, first in the config's
folder, each parent up to the repository root, and their `scripts/`, `launch/`, `slurm/` folders
(`MAX_FILES` per folder, `MAX_BYTES` each), then in the rest of the repository (`launch_walk._repository_files`:
`MAX_REPO_FILES` / `MAX_REPO_BYTES`, breadth first, hidden, vendored and nested-checkout folders
skipped); each folder and file is read once per process (keyed by its mtime). The `.py` files of the
config's own folders (not the rest of the repository) are read for the commands they build
(formats/pylaunch.py), and a line that names the config and runs a Python file of the repository
(`modal run -m src.train --config=...`) is read through that file's one training command (`launch_forms.python_entry`). Without a `.git`
the repository is the root `safepath.project_root` chooses, named in the notes. Every file goes through safepath (inside the tree, a regular file, non-blocking): a
symlink out of the repository is refused unread. Nothing is executed: `$VAR` / `${VAR:-default}`
are expanded from the file's own assignments, `$((a*b))` from digits only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from ..safepath import UnsafePath, read_text, tree_of
from ..schemas import WorkloadConfig
from .launch_caller import caller_nodes
from .launch_demote import CPU_RUN, MAX_PASSED_OVER, cpu_only_note, demotion, passed_over_note
from .launch_forms import (
    commented_launch,
    deepspeed_unread,
    elsewhere_launch,
    llamafactory_python,
    other_run,
    plain_python,
    plain_python_yaml,
    python_entry,
    script_run,
)
from .launch_job import job_words, uneven_note
from .launch_line import (
    ACCELERATE_AT,
    Launch,
    accelerate_strategy,
    launch_flags,
    launcher_words,
    placeholder,
    program_kind,
    read_launch,
    shown_path,
    srun_body,
    strategy_from_name,
    unread_why,
)
from .launch_naming import (
    TRAINING_WORD,
    elsewhere_note,
    elsewhere_possible,
    glob_match,
    hydra_override,
    names_config,
    names_registry_config,
    pattern_note,
    resolve_relative,
    runs_elsewhere,
    tail_note,
    tune_registry_name,
)
from .launch_trains import script_trains
from .launch_varconfig import variable_config_launch
from .launch_walk import CHOSEN_LAUNCHER, MAX_DEPTH, MAX_DIR_ENTRIES, config_tree, folder_listing, launcher_candidates, launcher_rank, read_launcher
from .launcher_text import (
    ASSUMED_ARGUMENT,
    BROKEN_COMMAND,
    MAX_BYTES,
    NOTEBOOK_BYTES,
    LauncherFile,
    Line,
    module_files,
    word_path,
)


def readme_launch(config_path: str | Path, kind: str | None = None) -> tuple[str, str, dict[str, Any] | None] | None:
    """(why the strategy is not known, the README line, the strategy the file's name states or None) when the nearest README (the config's folder, then each
    parent up to the repository root) launches a run that names this config, or a placeholder of its kind
    (`your_config_name.yaml`), with an accelerate `--config_file` goblin cannot read: a placeholder, a value set
    at run time, or a file not in the repository (review3 #3 magpie: `accelerate launch --config_file
    recipes/accelerate_configs/deepspeed_zero3.yaml scripts/run_dpo.py your_config_name.yaml`, the alignment
    handbook's file, not the recipe repository's). A line that runs a placeholder is taken only when it runs
    the config's `kind` of program (`config_kind`). None when no such line is found."""
    absolute = Path(os.path.abspath(config_path))
    config = Path(os.path.realpath(absolute))
    roots, root, _how = config_tree(absolute)
    if not config.is_relative_to(root):
        root = config.parent
    here = config.parent
    for _ in range(8):
        for name in ("README.md", "readme.md", "README.MD"):
            f = here / name
            lf = read_launcher(f, roots) if f.is_file() else None
            if lf is None:
                continue
            shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
            for line in lf.lines:
                words = launcher_words(line.tokens)
                if not any(a == "accelerate" and b == "launch" for a, b in pairwise(words)):
                    continue
                ref = launch_flags(line.tokens).get("config_file")
                if not ref:
                    continue
                suffix = config.suffix.lower()
                names_it = names_config(line.tokens, config, here, root, line.cwd)
                stand_in = any(t.lower().endswith(suffix) and placeholder(t) and t != ref for t in line.tokens if not t.startswith("-"))
                if not (names_it or stand_in):
                    continue
                if stand_in and not names_it and kind is not None and program_kind(line.tokens) != kind:
                    continue  # a placeholder of another kind of run (magpie: axolotl SFT beside a handbook DPO line)
                where = f"{shown} line {line.line}"
                if not placeholder(ref) and "$" not in ref:
                    located = [Path(os.path.normpath(b / ref)) for b in (lf.path.parent, config.parent, root)]
                    if any(c.is_file() and any(c.is_relative_to(r) for r in roots) for c in located):
                        continue  # the file is there: find_launch reads it when the line names the config
                named = strategy_from_name(ref)
                return unread_why(ref, where, exists=False), where, ({**named, "ref": ref} if named is not None else None)
        if here == root or here.parent == here or not here.is_relative_to(root):
            break
        here = here.parent
    return None


# ------------------------------------------------------------------ an accelerate config beside the config
# accelerate 1.16.0 commands/config/config_args.py:109-110 (a config file without `distributed_type` is refused),
# :180-182 (num_processes default -1, num_machines default 1); commands/launch.py:1268-1269 (`accelerate launch`
# reads the --config_file it is given, else the default file in its cache folder: never a file beside the config)
BESIDE_AT = "accelerate 1.16.0 commands/config/config_args.py:109-110, :180-182 and commands/launch.py:1268-1269"
MAX_BESIDE = 24  # YAML/JSON files of the config's folder read to find accelerate configs


def accelerate_config(data: Any) -> bool:
    """An accelerate config file's mapping: `distributed_type` (required, BESIDE_AT) and one of its topology keys."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("distributed_type"), str)
        and any(k in data for k in ("num_processes", "num_machines", "compute_environment"))
    )


def _accelerate_files(folder: Path, skip: Path, roots: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """The accelerate configs (`accelerate_config`) among the YAML/JSON files of one folder (not `skip`), by name."""
    from ..yamlio import load_yaml

    try:
        with os.scandir(folder) as it:
            names = sorted(
                e.name
                for n, e in enumerate(it)
                if n < MAX_DIR_ENTRIES and e.name.lower().endswith((".yaml", ".yml", ".json")) and e.is_file(follow_symlinks=False)
            )
    except OSError:
        return []
    found: list[tuple[Path, dict[str, Any]]] = []
    for name in names[:MAX_BESIDE]:
        path = folder / name
        if os.path.realpath(path) == str(skip):
            continue
        try:
            text = read_text(path, roots=roots, limit=MAX_BYTES)
            # only a file with accelerate's required key is parsed: parsing another (a sibling recipe) would learn its
            # secret-named values for redaction (yamlio.load_yaml), which nothing here reads
            data = load_yaml(path, text) if _DISTRIBUTED_TYPE.search(text) else None
        except Exception:  # unreadable, outside the tree or not YAML: not an accelerate config goblin can read
            continue
        if isinstance(data, dict) and accelerate_config(data):
            found.append((path, data))
    return found


_DISTRIBUTED_TYPE = re.compile(r"""^(?:distributed_type|\s*"distributed_type")\s*:""", re.MULTILINE)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_FOLDER_WORD = re.compile(r"(?<![\w/.-])((?:\.{1,2}/)?[\w.-]+(?:/[\w.-]+)*/?)")
MAX_README_FOLDERS = 8  # folders a README section about the config names, looked into for accelerate configs


def _readme_named(config: Path, root: Path, roots: list[Path]) -> tuple[list[tuple[Path, dict[str, Any]]], str]:
    """(the accelerate configs in the folders that the README sections naming this config name, where): READMEs from
    the config's folder up to the root, nearest first; a section (one Markdown heading to the next) names the config by
    its file name or its path; the words of that section that are folders of the repository (from the README's folder or
    the root) are looked into. The first README with such a section decides; ([], "") when none has one."""
    here = config.parent
    for _ in range(MAX_DEPTH):
        for name in ("README.md", "readme.md", "README.MD"):
            readme = here / name
            if not readme.is_file():
                continue
            try:
                rows = read_text(readme, roots=roots, limit=MAX_BYTES).splitlines()
            except UnsafePath:
                continue
            starts = [0, *[n for n, row in enumerate(rows) if _HEADING.match(row)], len(rows)]
            folders: dict[Path, int] = {}
            for a, b in pairwise(starts):
                body = rows[a:b]
                if not any(_names_file(row, config, readme.parent, root) for row in body):
                    continue
                for n, row in enumerate(body, a + 1):
                    for m in _FOLDER_WORD.finditer(row):
                        word = m.group(1).rstrip("/")
                        if "/" not in m.group(1) or word in ("", ".", ".."):
                            continue  # a folder is named by a path (`configs/accelerate/`), not a bare word
                        for base in (readme.parent, root):
                            cand = Path(os.path.normpath(base / word))
                            if cand.is_dir() and cand.is_relative_to(root) and cand not in folders:
                                folders[cand] = n
                                break
            if folders:
                found: list[tuple[Path, dict[str, Any]]] = []
                for folder in list(folders)[:MAX_README_FOLDERS]:
                    found.extend(_accelerate_files(folder, config, roots))
                line = min(folders.values())
                return found, f"{shown_path(readme, root)} line {line}"
        if here == root or here.parent == here or not here.is_relative_to(root):
            break
        here = here.parent
    return [], ""


def _names_file(row: str, config: Path, folder: Path, root: Path) -> bool:
    """True when a README row names the config: its bare file name, or a path that leads to it from the README's
    folder or the root."""
    for m in re.finditer(rf"(?<![\w.-])((?:[\w.-]+/)*){re.escape(config.name)}(?![\w-])", row):
        if not m.group(1) or any(os.path.realpath(base / (m.group(1) + config.name)) == str(config) for base in (folder, root)):
            return True
    return False


def beside_accelerate(config_path: str | Path) -> Launch | None:
    """Where no launch line names a config file (YAML/JSON, not a script) and no README launch names an accelerate
    config for it: the one accelerate config of the config's own folder (else, where that folder holds none, of the
    folders a README section about the config names), its num_machines x num_processes read as the topology (and its
    DeepSpeed/FSDP settings as the strategy), said as assumed, since nothing passes it (review5 #5 Novelty-Reviewer
    llm_training/acc_config.yaml:12-13 beside fft-llama31-8B-liger-ds.yaml). None when there is none, or more than one
    (which one is used is not known), or it states no process count."""
    from ..yamlio import key_line

    absolute = Path(os.path.abspath(config_path))
    config = Path(os.path.realpath(absolute))
    if config.suffix.lower() not in (".yaml", ".yml", ".json"):
        return None
    roots, root, _how = config_tree(absolute)
    if not config.is_relative_to(root):
        root = config.parent
    found = _accelerate_files(config.parent, config, roots)
    where = "beside the config"
    if not found:
        found, named = _readme_named(config, root, roots)
        where = f"in a folder that {named} names, in a README section about this config"
    if len(found) != 1 or readme_launch(config) is not None:
        return None
    path, cfg = found[0]
    total = cfg.get("num_processes")
    machines = cfg.get("num_machines", 1)
    if not isinstance(total, int) or isinstance(total, bool) or total < 1 or not isinstance(machines, int) or isinstance(machines, bool) or machines < 1:
        return None  # no process count stated (accelerate's -1: every GPU at launch), nothing to read
    shown = shown_path(path, root)
    said = f"num_machines: {machines}, num_processes: {total}" if "num_machines" in cfg else f"num_processes: {total}"
    out = Launch(
        nodes=machines,
        per_node=max(1, total // machines),
        file=os.path.realpath(path),
        shown=shown,
        line=key_line(cfg, "num_processes") or 1,
        command=said,
        nodes_said=False,
        per_node_said=False,
        beside=True,
    )
    out.assumed.append(f"from {shown} {where}; no launcher passes it, assumed it is the one used ({ACCELERATE_AT}; {BESIDE_AT})")
    if total % machines:
        out.notes.append(f"{total} processes on {machines} machines do not divide evenly ({shown})")
    out.strategy = accelerate_strategy({}, cfg, shown, os.path.realpath(path))
    return out


def find_launch(config_path: str | Path) -> Launch | None:
    """The first launch line in the repository that names this config (closest folder first,
    scripts before READMEs; of one file's lines, one whose script is named as a training run over a counter's
    or analysis script's before it), read into nodes x GPUs per node; None when none names it. Once per config
    and set of files held in place in a session (repoindex: a patch's read-back asks again); each caller
    gets its own copy."""
    import copy

    return copy.deepcopy(_launch_and_npu(os.path.abspath(config_path))[0])


def npu_launch(config_path: str | Path) -> tuple[str, ...]:
    """Where README blocks for Ascend NPUs (formats/npu_block.py) name this config, when no GPU launch line does (then
    it is an NPU recipe: its topology is not the launch line's); () otherwise."""
    return _launch_and_npu(os.path.abspath(config_path))[1]


def _launch_and_npu(absolute: str) -> tuple[Launch | None, tuple[str, ...]]:
    from ..repoindex import memo
    from .deepspeed import in_place_key

    # a patch's read-back holds edited accelerate/DeepSpeed files in place: it must read those, not the cached launch
    key = (absolute, os.getcwd(), in_place_key())
    return memo("launchers.find_launch", key, lambda: _find_launch(absolute))


def _find_launch(config_path: str) -> tuple[Launch | None, tuple[str, ...]]:
    absolute = Path(config_path)
    config = Path(os.path.realpath(absolute))
    roots, root, how = config_tree(absolute)
    if not config.is_relative_to(root):
        root = config.parent
    if config.suffix.lower() in (".sh", ".bash", ".slurm", ".sbatch"):
        own = _flags_launch(config, root, roots)  # a LLaMA-Factory run given as this launcher's flags (formats/lf_flags.py)
        if own is not None:
            return own, ()
    found, npu = _first_launch(config, root, roots, how)
    found = _plain_over_demoted(found, lambda skip: _first_launch(config, root, roots, how, skip=skip)[0])
    if found is None and not npu and config.suffix == ".py":
        found = _wrapper_launch(config)
    if found is not None and not found.commented and is_markdown(found.file):
        # a README code block is an example (review11b #36 gritlm README.md:335 `torchrun --nproc_per_node 1 -m
        # training.run ... tiny-mistral`, while scripts/training/*.sh run it on 1-32 nodes of 8 GPUs, README.md:391
        # "For our actual training runs ... The scripts are all in `scripts/training`"): a launch script of the
        # repository that launches the same entry point on the config is the run
        script, _ = _first_launch(config, root, roots, how, scripts_only=True)
        if script is not None and script.script == found.script:
            script.notes.insert(0, over_readme_note(found.where(), script.where()))
            script.over_readme = found.where()
            return script, npu
    return found, npu


def _plain_over_demoted(found: Launch | None, walk: Callable[[frozenset[tuple[str, int]]], Launch | None]) -> Launch | None:
    """A CPU or placeholder launch line (`launch_demote.demotion`) loses to the first complete GPU line that launches the
    same config (`walk` passes over the lines skipped), said in its notes; a CPU line left alone is no GPU run: None."""
    if found is None or not found.demoted:
        return found
    skip = {(found.file, found.line)}
    for _ in range(MAX_PASSED_OVER):
        other = walk(frozenset(skip))
        if other is None:
            break
        if not other.demoted:
            other.notes.insert(0, passed_over_note(found.where(), found.demoted, other.where()))
            return other
        skip.add((other.file, other.line))
    return None if found.cpu else found


def _flags_launch(launcher: Path, root: Path, roots: list[Path]) -> Launch | None:
    """The launch line of a launcher audited as the LLaMA-Factory run its flags make (formats/lf_flags.py): that line
    itself, read as any launch line is (its GPUs, exports and launcher words)."""
    from .lf_flags import flags_line

    lf = read_launcher(launcher, roots)
    got = flags_line(lf, launcher.parent, root) if lf is not None else None
    if lf is None or got is None:
        return None
    found = read_launch(got[0], lf, shown_path(launcher, root), roots, root)
    if found is not None:  # its exports before the line are the run's environment, as for any launch line (_line_launch;
        # blind review 15b #23: chkaos train_qwen.sh:3 `export HSA_OVERRIDE_GFX_VERSION=9.0.6` was not read)
        found.env = list(got[0].exported)
        found.unread_sources = [f"{found.shown} line {n}" for n in got[0].unread_sources]
        found.env_defaults = list(got[0].env_defaults)
    return found


def _wrapper_launch(script: Path) -> Launch | None:
    """The topology of the first launch line of a wrapper that runs this script's entry function (LLaVA-style
    `train_mem.py`, formats/pyentry.entry_wrappers), when no line names the script itself: the wrapper's process is
    the script's (wrapper38, blind review 14a #16: LongVA longva/scripts/finetune.sh runs train_mem.py)."""
    import copy

    from .pyentry import MAX_WRAPPERS, entry_wrappers

    for w in entry_wrappers(script, MAX_WRAPPERS):
        found = find_launch(w.file)
        if found is not None:
            found = copy.deepcopy(found)
            found.notes.insert(0, f"{found.where()} runs {w.shown}, which imports and calls this script's entry point: its topology is this script's")
            return found
    return None


def is_markdown(file: str) -> bool:
    """A Markdown launcher (a README's or another document's code blocks), by its suffix."""
    return Path(file).suffix.lower() in (".md", ".markdown")


def over_readme_note(readme: str, script: str) -> str:
    """Why a launch script was read over a Markdown code block that launches the same entry point."""
    return (
        f"{readme} (a Markdown code block) also launches it; a README's code block is an example, and {script}, a launch script "
        "of the repository that runs the same entry point, is read for the run"
    )


def _first_launch(
    config: Path, root: Path, roots: list[Path], how: str, scripts_only: bool = False, skip: frozenset[tuple[str, int]] = frozenset()
) -> tuple[Launch | None, tuple[str, ...]]:
    """`_find_launch`'s walk: the first launch line that names the config; with `scripts_only`, in a shell/slurm script
    (`launch_walk.launcher_rank` 0) only; lines at `skip` (launcher's real path, line) passed over."""
    registered = tune_registry_name(config, root)  # `tune run R --config NAME` in a torchtune fork (AGENT_SFT_FEATURES.md:84, 8a #6)
    npu: list[str] = []  # launch lines of README blocks for Ascend NPUs that name the config, set aside
    for folder, path in launcher_candidates(config, root):
        if os.path.realpath(path) == str(config) or (scripts_only and launcher_rank(path.name) != 0):
            continue
        lf = read_launcher(path, roots)
        overridden = lf is not None and any(n.endswith("=" + config.stem) for n in lf.names)  # `+countdown=grpo-x`: a Hydra group option
        if lf is None or (
            config.name not in lf.names and registered not in lf.names and not overridden and not any(glob_match(config.name, g) for g in lf.globs)
        ):
            continue
        # lines read whose script is not named as a training run (`count_trainer.py`), or does not train (`launch_trains`)
        passed: list[tuple[Line, str, bool]] = []  # (line, its script, True where read with ast as not training)
        for line in lf.lines:
            if (str(lf.path), line.line) in skip:
                continue
            modules = tuple(m for i in range(len(line.tokens)) if config.suffix == ".py" for m in module_files(line.tokens, i))
            by_name = names_registry_config(line.tokens, registered) or bool(
                overridden and hydra_override(line.tokens, config, script_run(line, folder, root), root)
            )
            if not by_name and not names_config((*line.tokens, *line.reads, *modules), config, folder, root, line.cwd):
                continue
            if other_run(line.tokens, config):  # `!torchrun ... evaluate.py --config x.yaml`: not how it trains
                continue
            shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
            if line.line in lf.npu:  # a README block for Ascend NPUs (formats/npu_block.py): not the GPU run's launch
                npu.append(f"{shown} line {line.line}")
                continue
            found = _line_launch(line, lf, shown, folder, config, roots, root)
            if found is None:
                continue
            untrained = _untrained_script(line.tokens)
            later = [x for x in lf.lines if x.line > line.line] if len(passed) < 8 else []
            if untrained and any(_trains_later(x, lf, config, folder, root) for x in later):
                # several lines of one launcher name the config: the one whose script is named as a training run wins over a
                # counter/analysis script's (review8b #23 COPO launch_llama3_copo.sh:44 count_trainer.py vs :50 run_copo.py)
                passed.append((line, untrained, False))
                continue
            if found.script.endswith(".py") and any(_names_it(x, config, folder, root) for x in later) and script_trains(found.script) is False:
                # a preparation script run on the config before the training run of the same launcher, whatever its name
                # (review11b #22 LionAlignment dpo.sh:12 precompute_dpo_logprobs.py vs :20 run_precompute_dpo.py): read with ast
                if any(_names_it(x, config, folder, root) and (s := script_run(x, folder, root)).endswith(".py") and script_trains(s) for x in later):
                    passed.append((line, Path(found.script).name, True))
                    continue
            if passed:
                script = _untrained_script(line.tokens, named=True) or "its command"
                parts = []
                for by_ast in (False, True):
                    group = [f"line {p.line} ({name})" for p, name, a in passed if a is by_ast]
                    if not group:
                        continue
                    what = "a script that builds no trainer and calls no `.train()` (read with ast)" if by_ast else "a script not named as a training run"
                    one = len(group) == 1
                    parts.append(
                        f"{', '.join(group)} of {shown} also {'names' if one else 'name'} it but {'runs' if one else 'run'} {what}, and {'is' if one else 'are'} not read"
                    )
                found.notes.append(f"{found.where()} ({script}) is read as the launch that trains {config.name}; " + "; ".join(parts))
            if found.nodes_unset:  # `--nnodes=$NNODES` never set here: the script of the repository that runs this one may
                caller_nodes(found, config, root, roots)
            _count_others(found, config, root, roots, registered, (str(lf.path), line.line), line.branch, line.tokens)
            if how:
                found.notes.append(f"repository root: {root} ({how})")
            if npu:
                found.notes.append(
                    f"{', '.join(npu)} of a README block for Ascend NPUs also {'names' if len(npu) == 1 else 'name'} {config.name}; the GPU launch {found.where()} is read"
                )
            return found, ()
    if scripts_only:
        return None, tuple(npu)
    return elsewhere_launch(config, root, roots) or variable_config_launch(config, root, roots) or commented_launch(config, root, roots), tuple(npu)


MAX_OTHERS = 64  # other launch lines of a config counted (each read for its topology)
OTHERS_SHOWN = 3  # of those with another topology, named in the note


def _count_others(
    found: Launch,
    config: Path,
    root: Path,
    roots: list[Path],
    registered: str,
    chosen: tuple[str, int],
    branch: tuple[int, int, str] | None = None,
    tokens: tuple[str, ...] = (),
) -> None:
    """The other launch lines of the repository that name this config (review10a #9 torchtune-gpu-benchmark: 14 slurm
    scripts run configs/1B_lora_distributed.yaml on 2, 4 or 8 GPUs), counted and read for their topology, up to
    MAX_OTHERS: `found.others`, and the first few with another nodes x GPUs per node in `found.other_topologies` (launch
    scripts' before Markdown code blocks'). The other node lines of the chosen line's multi-node job (`launch_job.job_words`:
    one master address and port) are no other topology: where they give the nodes different counts, `found.node_counts`."""
    differ: list[tuple[bool, str]] = []
    arms: list[str] = []
    job = job_words(tokens) if found.nodes > 1 else None
    peers: dict[int, tuple[int, str]] = {job[3]: (found.per_node, found.where())} if job is not None else {}
    candidates = launcher_candidates(config, root)
    if job is not None:  # a node's line of the job sits beside the chosen one, whatever the repository walk's budget reached
        seen = {str(p) for _f, p in candidates}
        beside = Path(chosen[0]).parent
        candidates += [(beside, p) for p in folder_listing(beside)[0] if str(p) not in seen]
    for folder, path in candidates:
        if os.path.realpath(path) == str(config) or found.others >= MAX_OTHERS:
            continue
        lf = read_launcher(path, roots)
        if lf is None or (config.name not in lf.names and registered not in lf.names):
            continue
        for line in lf.lines:
            if (str(lf.path), line.line) == chosen or line.line in lf.npu or found.others >= MAX_OTHERS:
                continue
            # a Python config is named by a `-m module` too, as `_first_launch` reads it
            modules = tuple(m for i in range(len(line.tokens)) if config.suffix == ".py" for m in module_files(line.tokens, i))
            if not names_registry_config(line.tokens, registered) and not names_config((*line.tokens, *line.reads, *modules), config, folder, root, line.cwd):
                continue
            if other_run(line.tokens, config):
                continue
            shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
            other = _line_launch(line, lf, shown, folder, config, roots, root)
            if other is None:
                continue
            found.others += 1
            if other.demoted and not found.demoted:  # a CPU or placeholder line: no other topology of the GPU run
                continue
            peer = job_words(line.tokens) if job is not None and other.script == found.script else None
            if job is not None and peer is not None and peer[:3] == job[:3] and peer[3] not in peers:
                peers[peer[3]] = (other.per_node, other.where())  # another node of the same job
                continue
            if (other.nodes, other.per_node) != (found.nodes, found.per_node):
                differ.append((is_markdown(other.file), f"{other.where()}: {other.nodes} x {other.per_node}"))
                if branch is not None and line.branch is not None and str(lf.path) == chosen[0] and line.branch[0] == branch[0] and line.branch[1] != branch[1]:
                    # the other arm of the same `if` a Python launcher builds its command in (review13b #29 DiscoPOP
                    # scripts/launch_evo.py:218 `if config["NUM_GPUS"] == 4:`): which arm runs is not read
                    arms.append(f"{other.where()}: {other.nodes} x {other.per_node}, the other arm of `if {branch[2]}:` (line {branch[0]})")
    if job is not None and sorted(peers) == list(range(job[2])) and job[2] == found.nodes and len({n for n, _ in peers.values()}) > 1:
        counts = [peers[r] for r in range(job[2])]
        found.node_counts = [n for n, _ in counts]
        found.per_node = max(found.node_counts)
        found.notes.append(uneven_note(counts))
    differ.sort(key=lambda d: d[0])  # launch scripts' topologies named before README examples'
    found.other_topologies.extend(text for _, text in differ[:OTHERS_SHOWN])
    found.other_differ += max(0, len(differ) - OTHERS_SHOWN)
    if config.suffix == ".py" and not is_markdown(found.file) and CHOSEN_LAUNCHER.get() != Path(found.file):
        # (a launcher the user named says which run it is: its topology is the run's, launch_walk.launched_by)
        # a Python entry point that launch scripts run with different topologies (review11b #36 gritlm: train_embonly.sh
        # 16 x 8, train_genonly.sh 1 x 8, train_gritlm_8x7b.sh 32 x 8, each with its own flags): the entry is no config
        # of one run, nothing ties it to one script, so the one read first is not the run's topology (a README example
        # differing is not a run: `_find_launch` reads the script over it)
        found.ambiguous = [text for markdown, text in differ if not markdown]
    elif arms:
        found.ambiguous = arms


_RUN_NAME = re.compile(r"^(?:run|train)")  # `run_copo.py`, `trainer.py`: a script named as the run itself


def _untrained_script(tokens: tuple[str, ...], named: bool = False) -> str:
    """The Python file a line runs when its name is not a training run's (`count_trainer.py`, `analyze.py`); with
    `named`, the file whatever its name. "" for a line that runs no .py file (a launcher's own subcommand)."""
    for tok in tokens:
        if tok.endswith(".py") and not tok.startswith("-"):
            stem = Path(word_path(tok)).stem
            return Path(word_path(tok)).name if named or not (TRAINING_WORD.search(stem) or _RUN_NAME.match(stem)) else ""
    return ""


def _names_it(line: Line, config: Path, folder: Path, root: Path) -> bool:
    """A line that names the config and is not an evaluation or other run of it (`other_run`)."""
    return names_config((*line.tokens, *line.reads), config, folder, root, line.cwd) and not other_run(line.tokens, config)


def _trains_later(line: Line, lf: LauncherFile, config: Path, folder: Path, root: Path) -> bool:
    """A later line of the same launcher that names the config and runs a script named as a training run."""
    if not names_config((*line.tokens, *line.reads), config, folder, root, line.cwd) or other_run(line.tokens, config):
        return False
    return bool(_untrained_script(line.tokens, named=True)) and not _untrained_script(line.tokens)


def _line_launch(line: Line, lf: LauncherFile, shown: str, folder: Path, config: Path, roots: list[Path], root: Path) -> Launch | None:
    """What one line that names the config says of its topology (None when it is no launch goblin reads)."""
    found = read_launch(line, lf, shown, roots, root)
    if found is None:  # `modal run -m src.train --config=...`, `python launch.py x.yaml`: the command that file builds
        found = python_entry(line, lf, shown, folder, roots, root)
    if found is None and line.run_by is not None:  # written into a file a later srun line runs
        found = srun_body(line, lf, shown)
    if found is None and config.suffix == ".py":
        found = plain_python(line, lf, shown, config, folder, root)
    if found is None and config.suffix != ".py":  # `python src/train.py x.yaml`: LLaMA-Factory's entry script
        found = llamafactory_python(line, lf, shown, folder, root)
    if found is None and config.suffix != ".py":  # `python -m axolotl.cli.train x.yml`; `python train.py --config x.yaml` on one GPU
        found = plain_python_yaml(line, lf, shown)
    if found is not None:
        found.place = line.place
        found.script = script_run(line, folder, root)
        found.demoted = demotion(line, found.cpu, found.script)
        if found.script and (
            word := next((t for t in line.tokens if t.endswith(".py") and os.path.isabs(t) and not Path(os.path.normpath(t)).is_relative_to(root)), "")
        ):
            # an absolute path of the author's machine read as the repository's script (review12b #35)
            found.notes.append(f"`{word}` (a path on another machine) is read as {os.path.relpath(found.script, root)}, the repository's file it names")
        # a Modal/Flyte launch runs the training in a remote container: the local shell's environment does not reach it
        found.env = [] if any(Path(t).name in ("modal", "pyflyte") for t in launcher_words(line.tokens)) else list(line.exported)
        found.unread_sources = [f"{shown} line {n}" for n in line.unread_sources]
        found.env_defaults = list(line.env_defaults)
        if not found.strategy and not found.strategy_unread:
            found.strategy_unread = deepspeed_unread(line.tokens, found.where())
        if pattern := pattern_note(line, config, folder, root):
            found.notes.append(pattern)
        if tail := tail_note(line, config, root):
            found.notes.append(tail)
        if line.cwd == "!":
            found.notes.append(
                f"{found.where()} runs after a `cd` into a folder outside the repository: {config.name} is read as the repository's one file of that name"
            )
    return found


def sibling_model(config_path: str | Path) -> tuple[str, str, int | None, str] | None:
    """(model, file (real path), line, how) from another JSON/YAML file the launch line that names this config passes
    beside it, holding a `model_name_or_path` string (review7b #28 unionai-oss llm-fine-tuning README.md:78
    `--model_args "$(cat config/model_args.json)" ... --training_args "$(cat config/training_args.json)"`, the task
    loading model_args.model_name_or_path, llm_fine_tuning.py:296-299); None when the line passes none."""
    from ..errors import ConfigError
    from ..safepath import tree_of
    from ..yamlio import key_line, load_yaml

    launch = find_launch(config_path)
    if launch is None or launch.commented:
        return None
    config = Path(os.path.realpath(config_path))
    roots = tree_of(config)
    here = Path(launch.file).parent
    for word in launch.files:
        for base in (here, *here.parents):
            candidate = Path(os.path.realpath(base / word))
            if not any(candidate.is_relative_to(r) for r in roots):
                break
            if candidate == config or not candidate.is_file():
                continue
            try:
                data = load_yaml(candidate, read_text(candidate, roots=roots, limit=MAX_BYTES))
            except (UnsafePath, OSError, ConfigError):  # an unreadable sibling names no model
                break
            model = data.get("model_name_or_path") if isinstance(data, dict) else None
            if isinstance(model, str) and model.strip() and "$" not in model:
                how = f"`model_name_or_path: {model}` in {word}, which {launch.where()} passes beside this file"
                return model.strip(), str(candidate), key_line(data, "model_name_or_path"), how
            break
    return None


def launched_script(config_path: str) -> tuple[str, str] | None:
    """(the Python file the launch line naming the config runs, that line as "launcher line N"), for frameworks.pins: a
    vendored framework copy that file belongs to is the release the run uses (review3 #16-18: STaR-Judge's
    scripts/train_sft.sh runs train/LLaMA-Factory/src/train.py, a LLaMA-Factory 0.9.1.dev0 copy beside the configs)."""
    launch = find_launch(config_path)
    if launch is not None:
        return (launch.script, launch.where()) if launch.script else None
    return _sibling_script(os.path.abspath(config_path))


MAX_SIBLINGS = 16  # configs of the same folder whose launch lines are read for one that none names


def _sibling_script(config: str) -> tuple[str, str] | None:
    """For a config no launch line names: the one Python file the launch lines of the other configs of its folder (same
    suffix) run, when they agree (review3 #17: STaR-Judge's qwen2.5_full_dpo.yaml beside the llama3 configs that
    scripts/train_*.sh run through train/LLaMA-Factory/src/train.py). None when none is launched or they disagree."""
    here = Path(config)
    names: list[str] = []
    try:
        with os.scandir(here.parent) as it:
            for n, entry in enumerate(it):
                if n >= MAX_DIR_ENTRIES:
                    break
                if entry.name != here.name and Path(entry.name).suffix == here.suffix and entry.is_file(follow_symlinks=False):
                    names.append(entry.name)
    except OSError:
        return None
    names = sorted(names)[:MAX_SIBLINGS]
    found: dict[str, str] = {}
    for name in names:
        launch = find_launch(here.parent / name)
        if launch is not None and launch.script:
            found.setdefault(launch.script, f"{launch.where()} (for {name}, a config of the same folder)")
    return next(iter(found.items())) if len(found) == 1 else None


# ------------------------------------------------------------------ the arguments a launch line passes to a script
@dataclass
class ScriptLaunch:
    """The first launch line that runs a Python script, and the `--flag value` words it passes to it."""

    file: str  # the launcher's real path
    shown: str  # relative to the repository root
    line: int  # where the command starts
    flags: list[tuple[str, str | None, int]]  # (flag as written, value or None for the flag alone, physical line)
    others: int = 0  # further launch lines that run the same script (not read)
    files: list[str] = field(default_factory=list)  # a .json/.yaml file given as the script's first word (HfArgumentParser reads it)
    place: str = ""  # in a notebook: "cell N line M"
    root_note: str = ""  # "repository root: DIR (how)" when the repository is no git checkout
    notes: list[str] = field(default_factory=list)  # how the launch line's words were read (a shell default taken)
    # the words right after the script's name, before its first `-` word or a shell operator: its positional
    # arguments as written, each with its physical line (`finetune.py data/ THUDM/glm-4-9b-chat configs/lora.yaml`)
    positional: list[tuple[str, int]] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)  # `--k v1 v2 ...`: every word (pyargs.flag_lists)
    # words after the script's name that are neither a flag nor a flag's value (pyargs.read_words), with the
    # command's first line: `{bf16_flag}` / `$EXTRA_ARGS` may hold further flags
    loose: list[tuple[str, int]] = field(default_factory=list)
    elsewhere: bool = False  # the line runs the script by its bare name from another checkout (`runs_elsewhere`)
    joined_at: int = 0  # Line.joined_at: from this line on, words read as the command's although the shell would not pass them
    demoted: str = ""  # why the line is not the GPU run's (`launch_demote.demotion`): a complete line later wins over it
    cpu: bool = False  # the line runs on the CPU (a debug run): alone, its words are not read (`find_script_launch`)
    cwd: str = ""  # Line.cwd: the folder a `cd` before the line moved to, from which its relative files are looked up

    def where(self, line: int | None = None) -> str:
        if self.place and (line is None or line == self.line):
            return f"{self.shown} {self.place}"
        if self.joined_at and line is not None and line >= self.joined_at:
            return f"{self.shown} line {line} ({ASSUMED_ARGUMENT}: line {self.joined_at - 1} ends without `\\`)"
        return f"{self.shown} line {line or self.line}"


def _physical_line(lines: list[str], start: int, flag: str) -> int:
    """The 1-based line, from the command's first line on, where `flag` is written (a continued command)."""
    pattern = re.compile(r"(^|[\s\"'])" + re.escape(flag) + r"($|[\s=\"'\\])")
    for n in range(start - 1, min(len(lines), start + 199)):
        if pattern.search(lines[n]):
            return n + 1
    return start


def find_script_launch(script_path: str | Path, naming: Path | None = None, prefer: tuple[str, int, str] | None = None) -> ScriptLaunch | None:
    """The first line in the repository (closest folder first, scripts before READMEs) that runs this
    script (`python train.py ...`, `torchrun ... train.py ...`, `accelerate launch train.py ...`,
    `deepspeed train.py ...`), with the words after the script's name read as its flags; with `naming`,
    the first such line whose words after the script name that config file (real path), or the one at
    `prefer` (launcher's real path, line, notebook place: the line the config's topology was read from).
    Where no line runs it by a path from the launcher's folders, a launch line that runs it by its bare name
    from another checkout (`runs_elsewhere`: the README says to copy it there) is taken, said in its notes."""
    absolute = Path(os.path.abspath(script_path))
    script = Path(os.path.realpath(absolute))
    roots, root, how = config_tree(absolute)
    if not script.is_relative_to(root):
        root = script.parent
    found: ScriptLaunch | None = None
    for elsewhere in (False, True):  # a line that runs it by a path from here first, then one run from another checkout
        if found is not None or (elsewhere and not elsewhere_possible(script, root)):
            break
        found = _script_lines(script, root, roots, how, naming, prefer, elsewhere)
    if found is not None and prefer is None and is_markdown(found.file):
        # a launch script of the repository that runs it is the run, over a README's example (as `_find_launch`)
        over = _script_lines(script, root, roots, how, naming, None, found.elsewhere, scripts_only=True)
        if over is not None:
            over.others = found.others
            over.notes.insert(0, over_readme_note(found.where(), over.where()))
            return over
    if found is not None and found.cpu:  # only CPU/debug lines run it: its words are the script's only values, said
        found.notes.insert(0, cpu_only_note(found.where(), found.demoted))
    return found


def _line_cpu(line: Line, lf: LauncherFile, shown: str, roots: list[Path], root: Path) -> str:
    """`Launch.cpu` of a line that runs a script: its accelerate config's `use_cpu: true` too (read_launch)."""
    if line.place:
        return ""
    got = read_launch(line, lf, shown, roots, root)
    return got.cpu if got is not None else ""


def _script_lines(
    script: Path,
    root: Path,
    roots: list[Path],
    how: str,
    naming: Path | None,
    prefer: tuple[str, int, str] | None,
    elsewhere: bool,
    scripts_only: bool = False,
    collect: list[ScriptLaunch] | None = None,
) -> ScriptLaunch | None:
    """find_script_launch's walk; with `elsewhere`, only lines that run the script by its bare name from another
    checkout (`runs_elsewhere`), said in the ScriptLaunch's notes; with `scripts_only`, lines of shell/slurm scripts only."""
    from .pyargs import _STOP, flag_lists, read_words

    found: ScriptLaunch | None = None
    for folder, path in launcher_candidates(script, root):
        if scripts_only and launcher_rank(path.name) != 0:
            continue
        lf = read_launcher(path, roots)
        if lf is None or script.name not in lf.names:
            continue
        for line in lf.lines:
            if elsewhere:
                at = next((i for i in range(len(line.tokens)) if runs_elsewhere(line, i, script, folder, root)), None)
            else:
                at = next(
                    (
                        i
                        for i, tok in enumerate(line.tokens)
                        if (tok.endswith(".py") and names_config((tok,), script, folder, root, line.cwd))
                        or ((modules := module_files(line.tokens, i)) and names_config(modules, script, folder, root, line.cwd))
                    ),
                    None,
                )
            if at is None:
                continue
            if naming is not None and not names_config(line.tokens[at + 1 :], naming, folder, root, line.cwd):
                continue
            preferred = prefer is not None and prefer == (str(lf.path), line.line, line.place)
            shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
            why = demotion(line, _line_cpu(line, lf, shown, roots, root), str(script))
            over = found is not None and bool(found.demoted) and not why  # a complete GPU line over a CPU/placeholder one
            if collect is None and found is not None and not (preferred and (found.file, found.line, found.place) != prefer) and not over:
                found.others += 1
                continue
            others = found.others + 1 if found is not None else 0
            passed = passed_over_note(found.where(), found.demoted, f"{shown} line {line.line}") if found is not None and over else ""
            try:
                limit = NOTEBOOK_BYTES if lf.path.suffix.lower() == ".ipynb" else MAX_BYTES
                text_lines = read_text(lf.path, roots=roots, limit=limit).splitlines()
            except UnsafePath:
                text_lines = []
            words, loose = read_words(line.tokens[at + 1 :])
            flags = [(f, v, _physical_line(text_lines, line.line, f)) for f, v in words]
            first = line.tokens[at + 1] if at + 1 < len(line.tokens) else ""
            files = [first] if first.endswith((".json", ".yaml", ".yml")) and not first.startswith("-") else []
            positional: list[tuple[str, int]] = []
            for word in line.tokens[at + 1 :]:
                if word.startswith("-") or _STOP.match(word):
                    break
                positional.append((word, _physical_line(text_lines, line.line, word)))
            found = ScriptLaunch(
                file=str(lf.path),
                shown=shown,
                line=line.line,
                flags=flags,
                files=files,
                place=line.place,
                root_note=how and f"repository root: {root} ({how})",
                notes=[note if note.startswith(BROKEN_COMMAND) else f"{shown}: {note}" for note in line.notes],  # that one names its file
                positional=positional,
                others=others,
                lists=flag_lists(line.tokens[at + 1 :]),
                loose=[(w, line.line) for w in loose],
                joined_at=line.joined_at,
                demoted=why,
                cpu=why.startswith(CPU_RUN),
                cwd=line.cwd,
            )
            if passed:
                found.notes.insert(0, passed)
            if elsewhere:
                found.elsewhere = True
                found.notes.insert(0, elsewhere_note(found.where(), line.tokens[at], script, root))
            if collect is not None:
                collect.append(found)
    return found


def script_launches(script_path: str | Path, naming: Path | None = None) -> list[ScriptLaunch]:
    """Every launch line of the repository that runs this script by a path from its launcher's folders and names `naming`
    (real path; None: any), in `find_script_launch`'s order, each read as it reads its first."""
    absolute = Path(os.path.abspath(script_path))
    script = Path(os.path.realpath(absolute))
    roots, root, how = config_tree(absolute)
    if not script.is_relative_to(root):
        root = script.parent
    out: list[ScriptLaunch] = []
    _script_lines(script, root, roots, how, naming, None, False, collect=out)
    return out


MAX_MISSES = 3  # near misses named in a "no launch line runs it" reason


# `header="torchrun ... -m training.train_language_model"` (a double-quoted shell assignment, possibly over several lines)
_QUOTED_ASSIGNMENT = re.compile(r'(?m)^[ \t]*([A-Za-z_][A-Za-z0-9_]*)="([^"]{0,4000})"')  # bounded: linear on any input
_SHELL_SUFFIXES = frozenset({".sh", ".bash", ".slurm", ".sbatch"})
MAX_VARIABLE_FILES = 64


def variable_launches(script_path: str | Path) -> list[str]:
    """Shell launchers that name this script only inside a double-quoted variable (`header="torchrun ... -m
    training.train_language_model"`, then `${header} "${base_arguments[@]}"`: review11b #34 ProLong train_64K.sh:86):
    `file line N (`header`)` for each, at most MAX_MISSES. goblin's launch reading does not expand such a command, so the
    reason a script is not collected says so rather than that nothing runs it. Read as text through safepath."""
    absolute = Path(os.path.abspath(script_path))
    script = Path(os.path.realpath(absolute))
    roots, root, _ = config_tree(absolute)
    if not script.is_relative_to(root):
        return []
    inside = script.relative_to(root)
    words = {str(inside), ".".join(inside.with_suffix("").parts)}
    out: list[str] = []
    read = 0
    for _folder, path in launcher_candidates(script, root):
        if path.suffix.lower() not in _SHELL_SUFFIXES:
            continue
        read += 1
        if read > MAX_VARIABLE_FILES or len(out) >= MAX_MISSES:
            break
        try:
            text = read_text(path, roots=roots, limit=MAX_BYTES)
        except (UnsafePath, OSError, UnicodeDecodeError, ValueError):
            continue
        if not any(w in text for w in words):
            continue
        shown = os.path.relpath(path, root) if path.is_relative_to(root) else str(path)
        for m in _QUOTED_ASSIGNMENT.finditer(text):
            value_words = m.group(2).split()
            if not any(w in value_words for w in words):
                continue
            var = m.group(1)
            if re.search(r"(?m)^[ \t]*\$\{?" + var + r"\b", text) is None:
                continue  # the variable is not run as a command
            line = text.count("\n", 0, m.start()) + 1
            out.append(f"{shown} line {line} (`{var}`, run as `${{{var}}}`)")
            if len(out) >= MAX_MISSES:
                break
    return out


def script_misses(script_path: str | Path) -> list[str]:
    """Launch lines that run a script of this name that is not this one, each with the folders its
    relative path was resolved from and what it resolved to: the reason a script is not collected says
    what was tried (review2 MiniCPM: a launcher in trainer/scripts/deepspeed/ running `finetune.py`)."""
    absolute = Path(os.path.abspath(script_path))
    script = Path(os.path.realpath(absolute))
    roots, root, _ = config_tree(absolute)
    if not script.is_relative_to(root):
        root = script.parent
    out: list[str] = []
    for folder, path in launcher_candidates(script, root):
        lf = read_launcher(path, roots)
        if lf is None or script.name not in lf.names:
            continue
        shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
        for line in lf.lines:
            for tok in line.tokens:
                if not tok.endswith(".py") or word_path(tok).rsplit("/", 1)[-1] != script.name or "$" in tok or tok.startswith("/"):
                    continue
                found, tried = resolve_relative(tok, folder, root, line.cwd)
                bases = ", ".join((os.path.relpath(b, root) + "/").replace("./", "the root/") if b.is_relative_to(root) else str(b) for b in tried[:4])
                what = f"which is {os.path.relpath(found, root)}" if found is not None and found.is_relative_to(root) else "found in none of them"
                where = f"{shown} {line.place}" if line.place else f"{shown} line {line.line}"
                out.append(f"{where} runs `{tok}`, resolved from {bases}: {what}")
                break
            if len(out) >= MAX_MISSES:
                return out
    return out


def topology_launcher_line(w: WorkloadConfig, pattern: str, certain: bool = False, fallback: bool = False) -> str | None:
    """`file:line: text` of the first line matching `pattern` in the repository launcher the topology was read
    from (the workload's world size / nodes / GPUs-per-node source, when that is another file); None otherwise. With
    `certain`, not a line of a shell script's `if` block (a fallback such as `elif command -v nvidia-smi; then
    NUM_GPUS=$(nvidia-smi -L | wc -l)` after `if [[ -n "${SM_NUM_GPUS:-}" ]]`, review13a #14 sm_accelerate_train.sh:98-103,
    runs only where the branches before it do not). With `fallback`, only such a line of a shell script's `if` block."""
    files = {s.file for k in ("world_size", "nodes", "gpus_per_node") if (s := w.sources.get(k)) is not None and s.file and s.file != w.path}
    for file in sorted(files):
        try:
            text = read_text(Path(file), roots=tree_of(Path(w.path)), limit=256_000)
        except (UnsafePath, OSError):
            continue
        rows = text.splitlines()
        prose = _prose_rows(file, rows)
        shell = Path(file).suffix in (".sh", ".bash", "")
        branch = _branch_rows(rows) if (certain or fallback) and shell else frozenset()
        for n, row in enumerate(rows, 1):
            if n in prose or (certain and n in branch) or (fallback and n not in branch):
                continue
            if re.search(pattern, row):
                return f"{os.path.basename(file)}:{n}: {_continued(rows, n - 1)[:CONTINUED_CHARS]}"
    return None


_IF_OPEN = re.compile(r"^\s*if\s")
_IF_CLOSE = re.compile(r"^\s*fi\s*(?:[;#].*)?$")


_ASSIGNED = re.compile(r"^\s*(?:export\s+|local\s+)?[A-Za-z_]\w*=")


def _branch_rows(rows: list[str]) -> frozenset[int]:
    """The 1-based variable assignments inside a shell `if ... fi` block (each opened on a line of its own, `if [ ... ]; then`), by a
    count of the lines that open and close one; a one-line `if ...; then ...; fi` opens none."""
    depth = 0
    inside: set[int] = set()
    for n, row in enumerate(rows, 1):
        if _IF_OPEN.match(row) and not re.search(r"\bfi\s*$", row):
            depth += 1
            continue
        if _IF_CLOSE.match(row):
            depth = max(0, depth - 1)
            continue
        if depth and _ASSIGNED.match(row):
            inside.add(n)
    return frozenset(inside)


MAX_CONTINUED = 60  # physical lines a `\`-continued command is joined over
CONTINUED_CHARS = 400  # of the joined command, kept in the `file:line: text` answer
_ASSIGNMENTS = re.compile(r"^\s*(?:export\s+)?[A-Za-z_]\w*=\S*(?:\s+[A-Za-z_]\w*=\S*)*\s*\\$")  # `CUDA_VISIBLE_DEVICES=0,1 \`


def _continued(rows: list[str], at: int) -> str:
    r"""Row `at` (0-based) with the rows a trailing backslash continues it over, joined as the shell joins them (the
    backslash-newline removed; also inside a double-quoted `bash -c "..."` body), and before it the variable assignments
    that continue into it (`CUDA_VISIBLE_DEVICES=0,1 \` above `trl vllm-serve \`): the words a command passes on its
    continuation lines are its own (review11b #24 llm2025compet `trl vllm-serve \` then `--tensor_parallel_size 2`)."""
    start = at
    while start > 0 and at - start < MAX_CONTINUED and _ASSIGNMENTS.match(rows[start - 1]):
        start -= 1
    parts: list[str] = []
    n = start
    while n < len(rows) and n - start <= MAX_CONTINUED:
        row = rows[n].strip()
        if not row.endswith("\\") or row.endswith("\\\\"):
            parts.append(row)
            break
        parts.append(row[:-1].rstrip())
        n += 1
    return " ".join(p for p in parts if p)


def _prose_rows(file: str, rows: list[str]) -> frozenset[int]:
    """The 1-based lines of a Markdown file outside its fenced code blocks: prose, where a backtick is inline code and no
    shell runs (review11a #13 cat-on-tree/drkto README.md:26 "The `nvidia-smi` command shows your GPU driver version"
    was read as a launcher counting GPUs with nvidia-smi); none for another file."""
    if not file.lower().endswith((".md", ".markdown", ".rst")):
        return frozenset()
    from ..frameworks.pins import _fence_lines

    out: set[int] = set()
    inside = False
    for n, fence in enumerate(_fence_lines(rows), 1):
        if fence:
            inside = not inside
        elif not inside:
            out.add(n)
    return frozenset(out)
