"""Regenerate pytest_goblin/frameworks/tune_sharding.json: how each torchtune distributed recipe shards the model at
each release goblin's key tables read (key_history.json `torchtune.versions`), read from pytorch/torchtune's git tags.

    python scripts/gen_tune_sharding.py --git <bare git dir of pytorch/torchtune>

Nothing is imported or run: each `recipes/*.py` at tag `v<release>` is read with `git show` and searched for
FSDP1 (`FullyShardedDataParallel` imported from torch.distributed.fsdp and called) or FSDP2 (torchtune's
`shard_model`, which calls `fully_shard` from torch.distributed._composable.fsdp in
torchtune/training/_distributed.py, or torchtune/utils/_distributed.py before 0.3). Only the line numbers are shipped.
The keys each recipe reads at each release are in key_history.json (scripts/gen_key_history.py).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "pytest_goblin" / "frameworks" / "tune_sharding.json"
HISTORY = ROOT / "pytest_goblin" / "frameworks" / "key_history.json"

FSDP1_IMPORT = re.compile(r"^\s*FullyShardedDataParallel as FSDP|import FullyShardedDataParallel\b|^\s*FullyShardedDataParallel,")
FSDP1_CALL = re.compile(r"=\s*FSDP\(|FullyShardedDataParallel\(")
FSDP2_CALL = re.compile(r"\b(?:training|utils)\.shard_model\(")
FULLY_SHARD_IMPORT = re.compile(r"from torch\.distributed\._composable\.fsdp import [^\n]*\bfully_shard\b")
HELPERS = ("torchtune/training/_distributed.py", "torchtune/utils/_distributed.py")


def _git(git: str, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={git}", *args], check=True, capture_output=True, text=True).stdout


def _first(pattern: re.Pattern[str], text: str) -> int | None:
    for n, line in enumerate(text.splitlines(), 1):
        if pattern.search(line):
            return n
    return None


def release(git: str, version: str) -> dict[str, object]:
    tag = f"v{version}"
    helper = ""
    for path in HELPERS:
        try:
            text = _git(git, "show", f"{tag}:{path}")
        except subprocess.CalledProcessError:
            continue
        if (n := _first(FULLY_SHARD_IMPORT, text)) is not None:
            helper = f"{path}:{n}@{tag}"
            break
    recipes: dict[str, dict[str, object]] = {}
    for path in _git(git, "ls-tree", "--name-only", f"{tag}:recipes").split():
        if not path.endswith(".py"):
            continue
        text = _git(git, "show", f"{tag}:recipes/{path}")
        name = path[:-3]
        two = _first(FSDP2_CALL, text)
        one_import, one_call = _first(FSDP1_IMPORT, text), _first(FSDP1_CALL, text)
        if two is not None and helper:
            recipes[name] = {"fsdp": 2, "at": f"recipes/{path}:{two}@{tag}"}
        elif one_import is not None and one_call is not None:
            recipes[name] = {"fsdp": 1, "at": f"recipes/{path}:{one_import},{one_call}@{tag}"}
    return {"fully_shard": helper, "recipes": recipes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--git", required=True, help="bare git dir of pytorch/torchtune")
    args = parser.parse_args()
    versions = json.loads(HISTORY.read_text())["torchtune"]["versions"]
    out = {
        "generated_by": "scripts/gen_tune_sharding.py from pytorch/torchtune git tags",
        "releases": {v: release(args.git, v) for v in versions},
    }
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
