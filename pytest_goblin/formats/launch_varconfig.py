"""A launch script beside the config that passes its config as a variable it never sets (review13b #30
mathllm-finetune recipes/MathCoder-CL-34B/sft/sft_8gpu_dis.sh:18 `torchrun --nnodes $WORLD_SIZE ... --nproc_per_node 8
./scripts/run_sft_lce.py ${CONFIG}`, beside the folder's one config, config_full.yaml): where no line names the config,
such a script of the config's own folder is read as its launch, assumed; the folder's other such scripts with another
topology are named (`Launch.ambiguous`), so the topology read is not a statement."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .launch_line import Launch, read_launch
from .launch_walk import launcher_rank, read_launcher

# `${CONFIG}`, `$CONFIG_FILE`, `$RECIPE`: a whole word that is one variable named as a config (a `$1` argument is the
# caller's, `formats/launch_caller.py`)
_CONFIG_VAR = re.compile(r"\$\{?([A-Za-z_]*(?:CONFIG|CFG|YAML|RECIPE)[A-Za-z_0-9]*)\}?", re.IGNORECASE)
_CONFIG_FILES = (".yaml", ".yml", ".json")
MAX_SCRIPTS = 32  # launch scripts of the folder read


def _only_config(config: Path) -> bool:
    """The config is the one YAML/JSON file of its folder (so a variable config of a script there can be no other)."""
    try:
        names = [e.name for e in os.scandir(config.parent) if e.is_file() and Path(e.name).suffix.lower() in _CONFIG_FILES]
    except OSError:
        return False
    return names == [config.name]


def variable_config_launch(config: Path, root: Path, roots: list[Path]) -> Launch | None:
    """The launch of `config` by a shell script of its own folder whose launch line passes, after the script it runs,
    a config variable the script never sets (`${CONFIG}`), where `config` is the folder's one YAML/JSON file: the first
    such script by name, assumed; the others' differing topologies in `Launch.ambiguous`. None where there is none."""
    if config.suffix.lower() not in _CONFIG_FILES or not _only_config(config):
        return None
    try:
        scripts = sorted(e.name for e in os.scandir(config.parent) if e.is_file() and launcher_rank(e.name) == 0)[:MAX_SCRIPTS]
    except OSError:
        return None
    read: list[tuple[Launch, str]] = []
    for name in scripts:
        lf = read_launcher(config.parent / name, roots)
        if lf is None:
            continue
        shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
        for line in lf.lines:
            at = next((i for i, t in enumerate(line.tokens) if t.endswith(".py")), None)
            word = next((t for t in line.tokens[at + 1 :] if _CONFIG_VAR.fullmatch(t)), None) if at is not None else None
            if word is None:
                continue
            found = read_launch(line, lf, shown, roots, root)
            if found is not None:
                found.place = line.place
                read.append((found, word))
                break
    if not read:
        return None
    found, word = read[0]
    found.nodes_said = found.per_node_said = False
    found.assumed.append(
        f"no line names {config.name}; {found.where()} passes `{word}`, which it never sets, as the config of its script,"
        f" and {config.name} is the one config of its folder: read as its launch, assumed"
    )
    found.ambiguous = [
        f"{other.where()}: {other.nodes} x {other.per_node}" for other, _ in read[1:] if (other.nodes, other.per_node) != (found.nodes, found.per_node)
    ]
    return found
