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

from ..pysource import parse as parse_source
from ..repoindex import memo
from ..safepath import UnsafePath, read_text
from .launch_walk import config_tree

MAX_SCRIPT_BYTES = 2_000_000  # as formats/launched.py reads a launched script


def trains_on(tree: ast.Module, call: ast.Call) -> bool:
    """The script calls `.train()` on what the call builds (`t = Cls(...)`, `t.train()`, or `Cls(...).train()`)."""
    bound = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.value is call for t in n.targets if isinstance(t, ast.Name)}
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "train":
            owner = n.func.value
            if owner is call or (isinstance(owner, ast.Name) and owner.id in bound):
                return True
    return False


def script_trains(path: str | Path) -> bool | None:
    """True when the script builds a `...Trainer(...)` and calls `.train()` on it (`t = XTrainer(...)`, `t.train()`,
    or `XTrainer(...).train()`); False when it calls no `.train()` / `.backward()` at all and builds no `...Trainer`
    (a script that computes, converts or evaluates); None when it cannot be read through safepath or parsed, or
    trains some other way (a loop's `loss.backward()`, a library's `train` function): not known. Read once per
    session (repoindex)."""
    absolute = Path(os.path.abspath(path))
    return memo("launch_trains.script_trains", str(absolute), lambda: _script_trains(absolute))


def _script_trains(absolute: Path) -> bool | None:
    roots, _root, _how = config_tree(absolute)
    try:
        tree = parse_source(read_text(absolute, roots=roots, limit=MAX_SCRIPT_BYTES))
    except (UnsafePath, OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
        return None
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    named = [c for c in calls if (c.func.id if isinstance(c.func, ast.Name) else c.func.attr if isinstance(c.func, ast.Attribute) else "").endswith("Trainer")]
    if any(trains_on(tree, c) for c in named):
        return True
    if (
        not named
        and not any(isinstance(c.func, ast.Attribute) and c.func.attr in ("train", "backward") for c in calls)
        and not any(isinstance(c.func, ast.Name) and "train" in c.func.id.lower() for c in calls)
    ):
        return False
    return None
