"""Regenerate pytest_goblin/frameworks/attention.json: which attention implementations each
transformers model type supports, read by AST from the installed transformers (nothing imported).

    PYTHONPATH=$PWD python scripts/gen_attention_support.py

The shipped table was read from transformers 5.24.0; tests/test_frameworks.py regenerates it
and requires the shipped file to match when that version is installed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_goblin.frameworks.attention import OUT, build_installed  # noqa: E402


def main() -> int:
    table = build_installed()
    if table is None:
        print("transformers is not installed here")
        return 1
    OUT.write_text(json.dumps(table, indent=None, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    types = table["types"]
    counts = {impl: sum(1 for row in types.values() if row.get(impl) is False) for impl in ("sdpa", "flash", "flex")}
    print(
        f"transformers {table['version']}: {len(types)} model types; without sdpa {counts['sdpa']}, flash {counts['flash']}, flex {counts['flex']} -> {OUT.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
