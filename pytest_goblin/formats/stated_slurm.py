"""The GPU model a Slurm batch script that launches the config asks for (issue 23): `#SBATCH --gres=gpu:h100:8`,
`--gpus-per-node=mi300x:8`, `--constraint=h100`, and a partition whose name names a GPU model (`--partition=gpu-h100`).
Facts (SchedMD/slurm doc/man/man1/sbatch.1@284c3b95f0): #SBATCH directives are read until the first non-comment,
non-whitespace line (:19-24); `--gres` entries are "name[[:type]:count]", the type a classification such as a100, the
count with an optional k/m/g multiplier suffix (:1225-1236), so a gres word's trailing `g` is no memory; `--gpus` and
`--gpus-per-node` are "[type:]number" (:1167, :1180); `--constraint` is a list of node features a site assigns, with
AND/OR/matching-OR operators (:281-300, :348-400); `--partition` a comma list of partitions, the earliest to start used
(:2123-2129). A feature or partition is a site's own word, so it is read only where it names a GPU model goblin knows by
name, and alternatives (`a100|h100`, several partitions of different GPUs) give none. The memory is then the GPU table's
(`stated_gpu.capacity_of`): an A100 named without its memory gives none (40 or 80 GB). Read as text through safepath,
bounded; nothing run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from .prose import _NAMED_GPU

_SBATCH = re.compile(r"^\s*#SBATCH\s+(.{1,300})$")
_OPTION = re.compile(r"(?:^|\s)(--gres|--gpus(?:-per-node|-per-task)?|-G|--constraint|-C|--partition|-p)(?:=|\s+)(\S{1,120})")
# a GPU model inside a word ("gpu:h100:8", "gpu-h100", "a100_80g"): the model, then the memory where the word says it
_IN_WORD = re.compile(rf"(?<![A-Za-z0-9])({_NAMED_GPU})(?![A-Za-z0-9])(?:[-_:]?(\d{{2,3}})g(?:b)?(?![A-Za-z0-9]))?", re.IGNORECASE)
_ALTERNATIVES = re.compile(r"[|\[\]]")
SBATCH_LINES = 400  # lines of the batch script read


class SlurmGpu(NamedTuple):
    gpu: str  # "H100", "A100 80GB"
    phrase: str  # the #SBATCH option as written
    file: str
    line: int


def slurm_gpus(script: Path, text: str) -> list[SlurmGpu]:
    """Each GPU model the script's #SBATCH options name (several where they name several, alternatives none)."""
    out: list[SlurmGpu] = []
    for n, raw in enumerate(text.splitlines()[:SBATCH_LINES], 1):
        if raw.strip() and not raw.lstrip().startswith("#"):
            break  # sbatch reads no #SBATCH directive after the first command (sbatch.1:22-23)
        m = _SBATCH.match(raw)
        if m is None:
            continue
        for opt in _OPTION.finditer(m.group(1).split(" #", 1)[0]):
            value = opt.group(2).strip("\"'")
            if _ALTERNATIVES.search(value):
                return []  # `a100|h100`, `[a100*2&h100*2]`: the job may run on either
            # a gres/gpus word ends in a count (its `g` a multiplier); a feature or partition may carry the memory
            sized = opt.group(1) in ("--constraint", "-C", "--partition", "-p")
            for g in _IN_WORD.finditer(value):
                name = g.group(1).upper()
                gpu = f"{name} {g.group(2)}GB" if sized and g.group(2) else name
                out.append(SlurmGpu(gpu, opt.group(0).strip(), str(script), n))
    return out
