"""The GPU a repository says a config ran on, with that GPU's memory: the config's own comment ("# Tested on 8xMI300X
192GB", review11a #6/#7 ROCm/MAD llama_3_3_70b_full_finetune_recipe.yaml:6) or the README statement tied to the config
(`prose.readme_prose`: "8 x H100 80GB"). A run that trained there fitted there, so where goblin's projection of the
config as it is exceeds that GPU's memory on lengths it assumed, the assumption is what is wrong (rules.over_hbm,
patching.assumed_over say so and price the length that fits). The memory is the GPU table's where the GPU is in it
(kb/hardware.yaml) and the stated label agrees, else the label stated beside the GPU read as GiB (HBM labels are:
kb/hardware.yaml notes, H100 81559 MiB, MI300X 191.98 GiB); a GPU named without its memory and not in the table is
not used (an A100 is 40 or 80 GB). Read as text, bounded; nothing run."""

from __future__ import annotations

import re
from pathlib import Path

from ..hardware import capacity_gb, capacity_phrase, hardware_table
from ..schemas import StatedGpu
from .prose import README_LIMIT, hits_of, readme_prose

# the table's GPUs by the name a statement uses (prose._NAMED_GPU, upper case); the MI250X row is one GCD, and a
# statement's "MI250X" may mean the package: not read
_TABLE = {"MI300X": "mi300x", "MI325X": "mi325x", "MI355X": "mi355x", "MI210": "mi210", "H100": "h100"}
# the words before the count that say the config ran there ("Tested on", "trained on 8 x H100"), not advice
_RAN = re.compile(r"\b(?:tested|trained|ran|run|runs|fine-?tuned|measured|benchmarked)\b", re.IGNORECASE)
_IF = re.compile(r"\b(?:if|when|for|unless|otherwise)\b", re.IGNORECASE)
# the words before the GPU that say its run is another one than training: "inference runs on a single T4 16GB",
# "serving on one L4" (issue 23: a GPU named in an unrelated sentence is not the one the config trained on)
_ASIDE = re.compile(r"\b(?:infer\w*|serv(?:e|es|ed|ing)|deploy\w*|demo|eval\w*)\b|推理|部署|评测", re.IGNORECASE)
_MEMORY = re.compile(r"^(\S+) (\d{2,3})GB$")
COMMENT_LINES = 200  # comment lines of the config read for a statement


def capacity_of(gpu: str) -> tuple[float, str] | None:
    """(decimal GB, how a message says it) of a named GPU ("MI300X 192GB", "H100", "A100 80GB"); None where unknown."""
    m = _MEMORY.match(gpu)
    name, label = (m.group(1), int(m.group(2))) if m else (gpu, None)
    key = _TABLE.get(name)
    if key is not None:
        hw = hardware_table()[key]
        if label is None or label == hw.hbm_gb:
            return capacity_gb(hw), capacity_phrase(hw)
    if label is None:
        return None
    have = label * 2**30 / 1e9
    return have, f"{have:.0f} GB ({name}'s {label} GB label read as GiB)"


def _own_comment(path: Path, text: str) -> StatedGpu | None:
    seen = 0
    for n, line in enumerate(text.splitlines(), 1):
        if not line.lstrip().startswith("#"):
            continue
        seen += 1
        if seen > COMMENT_LINES:
            return None
        for hit in hits_of(line, n):
            before = line[: line.find(hit.phrase)] if hit.phrase in line else line
            if not hit.gpu or not _RAN.search(before) or _IF.search(before) or _ASIDE.search(before):
                continue
            cap = capacity_of(hit.gpu)
            if cap is not None:
                return StatedGpu(phrase=hit.phrase, gpu=hit.gpu, capacity_gb=cap[0], capacity=cap[1], file=str(path), line=n)
    return None


def stated_gpu(path: Path, text: str) -> StatedGpu | None:
    """The GPU the config's own comment, else the README statement tied to it, says it ran on; None where neither
    names a GPU whose memory goblin knows."""
    return stated_gpu_read(path, text)[0]


def stated_gpu_read(path: Path, text: str) -> tuple[StatedGpu | None, str | None]:
    """`stated_gpu`, and a note where the README names several training GPUs for the config (none is taken)."""
    own = _own_comment(path, text)
    if own is not None:
        return own, None
    prose = readme_prose(str(path))
    if prose is not None and not prose.assumed and prose.gpu:
        cap = capacity_of(prose.gpu)
        if cap is not None and not _aside_line(path, prose.file, prose.line, prose.phrase):
            return StatedGpu(phrase=prose.phrase, gpu=prose.gpu, capacity_gb=cap[0], capacity=cap[1], file=prose.file, line=prose.line), None
    # the sentences of a section tied to the config, each on its own (a training GPU beside an inference one), else the
    # README's training-hardware table row (formats/stated_readme.py)
    from .stated_readme import readme_gpus

    found = readme_gpus(path)
    if found is not None:
        if len(found.named) > 1:
            said = ", ".join(f"{n.gpu} ({Path(n.file).name}:{n.line})" for n in found.named)
            return None, f"the README names several training GPUs for this config ({said}): goblin takes none as the GPU it trained on"
        one = found.named[0]
        cap = capacity_of(one.gpu)
        if cap is None:
            return None, None
        return StatedGpu(phrase=one.phrase, gpu=one.gpu, capacity_gb=cap[0], capacity=cap[1], file=one.file, line=one.line), None
    return _slurm(path)


def _slurm(path: Path) -> tuple[StatedGpu | None, str | None]:
    """The GPU model the Slurm batch script whose live launch line runs the config asks for (formats/stated_slurm.py)."""
    from ..safepath import UnsafePath, read_text, tree_of
    from .launchers import find_launch
    from .stated_slurm import slurm_gpus

    launch = find_launch(path)
    if launch is None or launch.commented or launch.template or not launch.file:
        return None, None
    try:
        text = read_text(Path(launch.file), roots=list(tree_of(path.resolve())), limit=README_LIMIT)
    except (UnsafePath, OSError):
        return None, None
    named = {g.gpu: g for g in reversed(slurm_gpus(Path(launch.file), text))}
    if len(named) > 1:
        said = ", ".join(f"{g.gpu} ({Path(g.file).name}:{g.line})" for g in sorted(named.values(), key=lambda g: g.line))
        return None, f"the Slurm script that runs this config names several GPU models ({said}): goblin takes none as the GPU it trained on"
    if not named:
        return None, None
    one = next(iter(named.values()))
    cap = capacity_of(one.gpu)
    if cap is None:
        return None, None
    return StatedGpu(phrase=one.phrase, gpu=one.gpu, capacity_gb=cap[0], capacity=cap[1], file=one.file, line=one.line), None


def _aside_line(config: Path, file: str, line: int, phrase: str) -> bool:
    """The README line's words before `phrase` say its run is inference, serving or evaluation (`_ASIDE`), not the
    training this config is; read through safepath, bounded. An unreadable line is taken as aside (nothing stated)."""
    from ..safepath import UnsafePath, read_text, tree_of

    try:
        text = read_text(Path(file), roots=list(tree_of(config.resolve())), limit=README_LIMIT)
    except (UnsafePath, OSError):
        return True
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return True
    said = lines[line - 1]
    return _ASIDE.search(said[: said.find(phrase)] if phrase in said else said) is not None
