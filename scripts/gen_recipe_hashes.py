"""Regenerate pytest_goblin/frameworks/recipe_hashes.json: the content hash of each torchtune recipe file per release.

A repository that copies a torchtune recipe into its own tree (review6a #19: HichamAgueny/llm-workshop
fine-tuning-multigpu/python_scripts/lora_finetune_distributed.py) runs that release's recipe, whatever it installs
besides, and the copy carries no version string. This reads torchtune's own git history (a bare clone or mirror,
nothing checked out) and writes, for every release tag `vX.Y.Z` (no rc), the SHA-256 of each `recipes/*.py` file
(top level, the recipes `tune run` names) with line endings normalised to LF and trailing blank lines dropped:

    python scripts/gen_recipe_hashes.py torchtune=<torchtune git dir>

The file records the repository, the commit its tags were read at and the tags used. tests/test_vendored_recipe.py
checks it.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "pytest_goblin" / "frameworks" / "recipe_hashes.json"
REPOS = {"torchtune": "pytorch/torchtune"}
_TAG = re.compile(r"^v(\d+\.\d+\.\d+)$")


def digest(raw: bytes) -> str:
    """The hash a copy is compared by: CRLF as LF, trailing whitespace at the end of the file dropped."""
    text = raw.replace(b"\r\n", b"\n").rstrip()
    return hashlib.sha256(text).hexdigest()


def _git(git_dir: str, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True).stdout


def read(git_dir: str) -> dict[str, object]:
    tags = sorted((m.group(1) for t in _git(git_dir, "tag").decode().split() if (m := _TAG.match(t))), key=Version)
    files: dict[str, dict[str, object]] = {}
    for version in tags:
        for name in _git(git_dir, "ls-tree", "--name-only", f"v{version}", "recipes/").decode().split("\n"):
            if not name.endswith(".py") or name.count("/") != 1 or name.endswith("__init__.py"):
                continue
            h = digest(_git(git_dir, "show", f"v{version}:{name}"))
            entry = files.setdefault(h, {"file": name, "versions": []})
            entry["versions"].append(version)  # type: ignore[attr-defined]
    head = _git(git_dir, "rev-parse", "HEAD").decode().strip()
    return {"repository": REPOS["torchtune"], "read_at": head, "tags": [f"v{t}" for t in tags], "files": dict(sorted(files.items()))}


def main(argv: list[str]) -> int:
    dirs = dict(a.split("=", 1) for a in argv)
    if set(dirs) != set(REPOS):
        print(f"usage: {sys.argv[0]} torchtune=<git dir>", file=sys.stderr)
        return 2
    out = {
        "about": "SHA-256 of each torchtune recipes/*.py per release tag (LF line endings, trailing whitespace dropped); scripts/gen_recipe_hashes.py",
        "torchtune": read(dirs["torchtune"]),
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
