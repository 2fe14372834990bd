"""Regenerate pytest_goblin/frameworks/*.json from the frameworks' own source.

Installed packages (transformers, trl, peft, torchtune, llamafactory) are read from their
site-packages folder by AST, without importing them:

    python -m venv /work/venv-x && /work/venv-x/bin/pip install --no-deps transformers trl peft torchtune llamafactory
    PYTHONPATH=$PWD /work/venv-x/bin/python scripts/gen_framework_tables.py [--only trl]

Axolotl does not install without its GPU stack; its pydantic schema is read from a git checkout:

    python scripts/gen_framework_tables.py --only axolotl --axolotl-git /path/to/axolotl/.git [--commit SHA]

tests/test_frameworks.py regenerates each table whose framework is importable at the same
version and requires the shipped file to match.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_goblin.frameworks.tables import OUT_DIR, SPECS, build_git, build_installed  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", help="framework name (repeatable)")
    ap.add_argument("--axolotl-git", help="a git directory of axolotl-ai-cloud/axolotl")
    ap.add_argument("--commit", default="HEAD", help="the axolotl commit to read (default HEAD)")
    args = ap.parse_args()
    names = args.only or [*SPECS, "axolotl"]
    for name in names:
        if name == "axolotl":
            if not args.axolotl_git:
                print("axolotl: skipped (give --axolotl-git)")
                continue
            table = build_git("axolotl", Path(args.axolotl_git), args.commit)
        else:
            table = build_installed(name)
            if table is None:
                print(f"{name}: not installed here; skipped")
                continue
        path = OUT_DIR / f"{name}.json"
        path.write_text(json.dumps(table, indent=None, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
        n = sum(len(c.get("fields", {})) for c in table.get("classes", {}).values())
        print(f"{name} {table['version']}: {len(table.get('classes', {}))} classes, {n} keys -> {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
