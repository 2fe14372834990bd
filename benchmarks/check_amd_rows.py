"""Check benchmarks/data/amd_rows.yaml: every row's workload parses as a native goblin config, every
target is a kb/hardware.yaml id, names are unique and every ablation names two rows.

    python benchmarks/check_amd_rows.py [PATH]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from pytest_goblin.errors import GoblinError
from pytest_goblin.formats.goblin import FIELDS, GoblinAdapter
from pytest_goblin.hardware import get_hardware
from pytest_goblin.yamlio import load_yaml

DEFAULT = Path(__file__).parent / "data" / "amd_rows.yaml"
REQUIRED = (
    "name",
    "source_key",
    "source",
    "location",
    "row",
    "target",
    "stack",
    "workload",
    "published_tokens_per_s",
    "derivation",
    "settings_unstated",
    "fitted",
)
STACKS = {"hf_trainer", "torchtune", "torchtitan", "megatron_te", "megatron_lm", "maxtext", "deepspeed", "other"}


def check(path: Path) -> list[str]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems: list[str] = []
    names: set[str] = set()
    for row in data["rows"]:
        name = row.get("name", "?")
        problems += [f"{name}: no `{key}`" for key in REQUIRED if key not in row]
        if name in names:
            problems.append(f"{name}: duplicate name")
        names.add(name)
        if row.get("stack") not in STACKS:
            problems.append(f"{name}: unknown stack {row.get('stack')!r}")
        try:
            get_hardware(row["target"])
        except GoblinError as exc:
            problems.append(f"{name}: target {row.get('target')!r}: {exc}")
        unknown = sorted(set(row["workload"]) - {*FIELDS, "model", "model_shape"})
        if unknown:  # the goblin format ignores keys it does not know: catch misspelt fields here
            problems.append(f"{name}: workload keys goblin does not read: {', '.join(unknown)}")
        text = yaml.safe_dump({"goblin": 1, **row["workload"]}, sort_keys=False)
        file = Path(f"{name}.yaml")
        try:
            w = GoblinAdapter().parse(file, load_yaml(file, text), text)
        except GoblinError as exc:
            problems.append(f"{name}: workload does not parse: {exc}")
            continue
        if not w.model.known:
            problems.append(f"{name}: model {w.model.name} has no known shape")
    for ab in data.get("ablations", []):
        problems += [f"ablation {ab}: no row {ab[k]!r}" for k in ("before", "after") if ab[k] not in names]
    return problems


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    found = check(target)
    rows = yaml.safe_load(target.read_text(encoding="utf-8"))["rows"]
    print(f"{target}: {len(rows)} rows, {sum(not r['fitted'] for r in rows)} held out, {len({r['source_key'] for r in rows})} sources")
    print("\n".join(found) or "all rows parse")
    sys.exit(1 if found else 0)
