"""The training GPUs of a README's stated total when the repository starts a vLLM server on some of them: an
online-RL run (TRL's `use_vllm: true`, not colocated) whose README says the machine's GPUs ("4 x A40: 3 for training,
1 for vLLM", "2 x A800") while its launch block starts `CUDA_VISIBLE_DEVICES=1 trl vllm-serve ...` beside an
`accelerate launch` that states no count: the server's GPUs are inside that total, not on top of it
(rollout.rollout_split puts the server's GPUs apart from the world size read here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from ..rollout import SERVE
from ..safepath import text_or_empty, tree_of

# "3 for training", "3 GPUs for training", "3 used for training"; "1 for vLLM", "1 GPU for generation"
_FOR_TRAINING = re.compile(r"\b(\d{1,3})\s+(?:GPUs?\s+)?(?:(?:are\s+)?used\s+)?for\s+training\b", re.IGNORECASE)
_FOR_SERVER = re.compile(r"\b(\d{1,3})\s+(?:GPUs?\s+)?(?:(?:is\s+|are\s+)?used\s+)?for\s+(?:the\s+)?(?:vLLM|generation|rollouts?|inference)\b", re.IGNORECASE)
_VISIBLE = re.compile(r"(?:CUDA|HIP|ROCR)_VISIBLE_DEVICES=[\"']?(\d{1,3}(?:,\d{1,3}){0,63})")
_USE_VLLM = re.compile(r"^use_vllm:\s*true\b", re.MULTILINE | re.IGNORECASE)
_COLOCATE = re.compile(r"^vllm_mode:\s*[\"']?colocate\b", re.MULTILINE | re.IGNORECASE)
MAX_BYTES = 1_000_000


class Share(NamedTuple):
    gpus: int  # the GPUs left for training
    why: str  # how, in the files' own words


def _line(text: str, n: int) -> str:
    rows = text.splitlines()
    return rows[n - 1] if 0 < n <= len(rows) else ""


def training_share(config: str, config_text: str, total: int, prose_file: str, prose_line: int, launch_file: str = "") -> Share | None:
    """The GPUs of `total` (a README's count, `prose_file`:`prose_line`) left for training, or None: the count line's own
    "K for training" (K below the total), else the total less the server's: the line's "N for vLLM", else the GPUs a
    `trl vllm-serve` / `vllm serve` line of the README or the launch line's file makes visible to it, every one of them
    an index inside the total. Only for a config that generates with a vLLM server (`use_vllm: true`, no
    `vllm_mode: colocate`)."""
    if total < 2 or not _USE_VLLM.search(config_text) or _COLOCATE.search(config_text):
        return None
    roots = tree_of(Path(config))
    readme = text_or_empty(Path(prose_file), roots=roots, limit=MAX_BYTES)
    said = _line(readme, prose_line)
    where = f"{Path(prose_file).name}:{prose_line}"
    if (m := _FOR_TRAINING.search(said)) and 1 <= int(m.group(1)) < total:
        return Share(int(m.group(1)), f"{where} says `{m.group(0)}` of the {total}")
    if (m := _FOR_SERVER.search(said)) and 1 <= int(m.group(1)) < total:
        n = int(m.group(1))
        return Share(total - n, f"{where} says `{m.group(0)}`: {total} less {n} for the vLLM server")
    for file in dict.fromkeys(f for f in (prose_file, launch_file) if f):
        text = readme if file == prose_file else text_or_empty(Path(file), roots=roots, limit=MAX_BYTES)
        for n, row in enumerate(text.splitlines(), 1):
            if not re.search(SERVE, row) or (v := _VISIBLE.search(row)) is None:
                continue
            devices = {int(d) for d in v.group(1).split(",")}
            if max(devices) < total and len(devices) < total:
                return Share(
                    total - len(devices),
                    f"{Path(file).name}:{n} starts the vLLM server on GPU{'s' if len(devices) > 1 else ''} {v.group(1)} of the {total}"
                    f" {where} states: {total} less {len(devices)}",
                )
            return None
    return None
