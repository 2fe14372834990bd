"""A launch line of a config of the same recipe family, for a config no launch line names (review11a #15
RH-MikkelWerling/tabtoreason: recipes/DeepSeek-R1-Distill-Qwen-7B/sft/config_cardiovascular_*.yaml is named by no launch
line; the README's `accelerate launch --config_file recipes/accelerate_configs/zero3.yaml src/open_r1/sft.py --config
recipes/Qwen2.5-1.5B-Instruct/sft/config_demo.yaml` runs the same recipe family, recipes/*/sft/, with the repository's
only accelerate config for it). Its nodes, GPUs per node and strategy are read as this config's, said as assumed; nothing
else of the line (its `--key value` words, its model, its environment) is this config's (a nested `training_args:` config's
model argument, which its folder's lines pass to the script, is read apart: positional.family_model). Read as text, nothing run."""

from __future__ import annotations

import os
from pathlib import Path

from .launch_forms import other_run
from .launch_line import Launch
from .launch_naming import resolve_relative
from .launch_walk import config_tree, launcher_candidates, launcher_rank, read_launcher
from .launcher_text import GLOB, Line

MAX_FAMILY_LINES = 64  # launch lines of the family read, to learn whether they agree on the script they run
LAUNCHER_RANKS = 3  # launch_walk.launcher_rank: shell/slurm scripts, notebooks and Markdown code blocks only


def family_member(other: Path, config: Path, root: Path) -> bool:
    """True when `other` (real path) is another config of `config`'s recipe family: the same suffix, inside the repository,
    and in the same folder, or in a folder of the same name one level over (`recipes/A/sft/x.yaml` beside
    `recipes/B/sft/y.yaml`)."""
    if other == config or other.suffix.lower() != config.suffix.lower() or not other.is_relative_to(root):
        return False
    if other.parent == config.parent:
        return True
    return (
        other.parent.name == config.parent.name
        and other.parent.parent != config.parent.parent
        and other.parent.parent.parent == config.parent.parent.parent
        and config.parent.parent.parent.is_relative_to(root)
    )


def _member_word(line: Line, config: Path, folder: Path, root: Path) -> Path | None:
    """The config of the family a launch line names by a literal path (no variable, no glob), else None."""
    suffix = config.suffix.lower()
    for tok in line.tokens:
        word = tok.split("=", 1)[1] if tok.startswith("-") and "=" in tok else tok
        if not word.lower().endswith(suffix) or "$" in word or GLOB.search(word):
            continue
        found, _ = resolve_relative(word, folder, root, line.cwd)
        if found is not None and family_member(found, config, root):
            return found
    return None


def family_launch(config_path: str | Path) -> Launch | None:
    """For a YAML/JSON config no launch line names: the first launch line (in `launch_walk.launcher_candidates` order, of
    a script, notebook or Markdown file) that launches another config of its recipe family (`family_member`) with a Python
    file of the repository, read into a Launch whose counts and strategy are assumed (`Launch.family`). None when none
    does, or the family's lines run different Python files (which one runs this config is not known)."""
    from .launchers import _line_launch

    absolute = Path(os.path.abspath(config_path))
    config = Path(os.path.realpath(absolute))
    if config.suffix.lower() not in (".yaml", ".yml", ".json"):
        return None
    roots, root, _how = config_tree(absolute)
    if not config.is_relative_to(root):
        return None
    first: Launch | None = None
    member: Path | None = None
    scripts: set[str] = set()
    differ: list[str] = []  # the family's lines of another topology than the first (review13b #34 ChatGLM3: a notebook cell
    # `CUDA_VISIBLE_DEVICES=0 python finetune_hf.py ... configs/lora.yaml` 1 x 1, README_en.md:212 `torchrun --nproc_per_node=8` 1 x 8)
    seen = 0
    for folder, path in launcher_candidates(config, root):
        if seen >= MAX_FAMILY_LINES:
            break
        rank = launcher_rank(path.name)
        if rank is None or rank > LAUNCHER_RANKS:
            continue  # a Dockerfile, compose or cloud file of another config: its image and resources are that run's
        lf = read_launcher(path, roots)
        if lf is None or not any(n.lower().endswith(config.suffix.lower()) for n in lf.names):
            continue
        for line in lf.lines:
            if line.line in lf.npu or seen >= MAX_FAMILY_LINES:
                continue
            other = _member_word(line, config, folder, root)
            if other is None or other_run(line.tokens, other):
                continue
            shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
            got = _line_launch(line, lf, shown, folder, other, roots, root)
            if got is None or not got.script:
                continue  # a launch of no Python file of the repository: no entry script to tell the family's run by
            if not (got.nodes_said and got.per_node_said) or got.nodes_unset:
                continue  # a count the line does not state (`--nproc_per_node={num_gpus}`): nothing to assume from it
            seen += 1
            scripts.add(got.script)
            if first is None:
                first, member = got, other
            elif (got.nodes, got.per_node) != (first.nodes, first.per_node):
                differ.append(f"{got.where()}: {got.nodes} x {got.per_node}")
    if first is None or member is None or len(scripts) != 1:
        return None
    sibling = os.path.relpath(member, root)
    top = os.path.relpath(config.parent.parent.parent, root)
    family = (f"{'' if top == '.' else top + '/'}*/{config.parent.name}/") if member.parent != config.parent else f"{os.path.relpath(config.parent, root)}/"
    out = Launch(
        nodes=first.nodes,
        per_node=first.per_node,
        file=first.file,
        shown=first.shown,
        line=first.line,
        command=first.command,
        nodes_said=False,
        per_node_said=False,
        place=first.place,
        script=first.script,
        strategy=dict(first.strategy),
        strategy_unread=first.strategy_unread,
        family=sibling,
    )
    runs = f" ({os.path.relpath(first.script, root)})" if first.script and Path(first.script).is_relative_to(root) else ""
    every = "the one launch line of the family read" if seen == 1 else f"each of the {seen} launch lines of the family read runs the same script{runs}"
    out.assumed.append(
        f"no launch line names {config.name}; {first.where()} launches {sibling}, a config of the same recipe family ({family}; "
        f"{every}): its topology is assumed to be this config's"
    )
    out.assumed.extend(first.assumed)
    out.ambiguous = differ  # which of the family's topologies this config runs with is not known: none is stated
    return out
