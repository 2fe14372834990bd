"""Whether a Python script a launch line runs trains, read with ast (nothing imported or run).

Used where two launch lines of one launcher both name the config (`launchers._find_launch`): the first running a
preparation script on it (review11b #22 LionAlignment examples/llama-3/dpo.sh:12 `accelerate launch --multi_gpu
scripts/precompute_dpo_logprobs.py $CONFIG_FILE`, :20 the DPO training run under a ZeRO-3 accelerate config), the
training run is the line whose script builds a trainer and calls its `.train()`.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

_SEEN: dict[str, tuple[int, bool | None]] = {}


def script_trains(path: str | Path) -> bool | None:
    """True when the script builds a `...Trainer(...)` and calls `.train()` on it (`t = XTrainer(...)`, `t.train()`,
    or `XTrainer(...).train()`); False when it calls no `.train()` / `.backward()` at all and builds no `...Trainer`
    (a script that computes, converts or evaluates); None when it cannot be read through safepath or parsed, or
    trains some other way (a loop's `loss.backward()`, a library's `train` function): not known. Kept per file
    until its mtime changes."""
    real = os.path.realpath(path)
    try:
        stamp = os.stat(real).st_mtime_ns
    except OSError:
        return None
    hit = _SEEN.get(real)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    from .launched import parse_in_tree
    from .pybuilt import _trains

    parsed = parse_in_tree(path)
    out: bool | None = None
    if parsed is not None:
        tree = parsed[0].tree
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        named = [
            c for c in calls if (c.func.id if isinstance(c.func, ast.Name) else c.func.attr if isinstance(c.func, ast.Attribute) else "").endswith("Trainer")
        ]
        if any(_trains(tree, c) for c in named):
            out = True
        elif (
            not named
            and not any(isinstance(c.func, ast.Attribute) and c.func.attr in ("train", "backward") for c in calls)
            and not any(isinstance(c.func, ast.Name) and "train" in c.func.id.lower() for c in calls)
        ):
            out = False
    _SEEN[real] = (stamp, out)
    return out
