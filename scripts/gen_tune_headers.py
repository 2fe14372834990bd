"""Regenerate pytest_goblin/frameworks/tune_headers.json: the GPU count each torchtune stock config's header comment
gives, per release.

torchtune's stock configs open with a template ("To launch on 2 devices, run the following command from root:
`tune run --nproc_per_node 2 lora_finetune_distributed --config llama3/8B_lora`", v0.6.1
recipes/configs/llama3/8B_lora.yaml:8-9). A repository that copies the config keeps that comment: it is torchtune's
example, not the repository's word on how it runs (topo19a #3). This reads torchtune's own git history (a bare clone or
mirror, nothing checked out) and records, for each `recipes/configs/**.yaml` of every release tag `vX.Y.Z` (no rc), the
`--nproc_per_node N` counts of its leading comment block and the config that block's `--config` names:

    python scripts/gen_tune_headers.py torchtune=<torchtune git dir>

Only facts (names, counts, lines) are stored, never the comment text. tests/test_topo19a.py checks a few entries.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "pytest_goblin" / "frameworks" / "tune_headers.json"
_TAG = re.compile(r"^v(\d+\.\d+\.\d+)$")
_PER_NODE = re.compile(r"--nproc_per_node[=\s]+(\d+)")
_CONFIG = re.compile(r"--config[=\s]+([\w./-]+)")


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True, text=True).stdout


def header(text: str) -> tuple[list[int], str, int] | None:
    """(counts, the config `--config` names, the first count's line) from the leading comment block; None without a count."""
    counts: list[int] = []
    named, first = "", 0
    for n, line in enumerate(text.splitlines(), 1):
        body = line.strip()
        if body and not body.startswith("#"):
            break
        if (m := _PER_NODE.search(body)) is not None:
            if int(m.group(1)) not in counts:
                counts.append(int(m.group(1)))
            first = first or n
            if (c := _CONFIG.search(body)) is not None and not named:
                named = c.group(1)
    return (counts, named, first) if counts else None


def main(argv: list[str]) -> int:
    git_dir = dict(a.split("=", 1) for a in argv)["torchtune"]
    tags = sorted((t for t in _git(git_dir, "tag").split() if _TAG.match(t)), key=lambda t: Version(t[1:]))
    configs: dict[str, dict[str, object]] = {}
    for tag in tags:
        listing = _git(git_dir, "ls-tree", "-r", "--name-only", tag, "recipes/configs/").split("\n")
        for path in listing:
            if not path.endswith(".yaml"):
                continue
            found = header(_git(git_dir, "show", f"{tag}:{path}"))
            if found is None:
                continue
            counts, named, line = found
            rel = path.removeprefix("recipes/configs/")
            key = json.dumps([counts, named])
            entry = configs.setdefault(rel, {})
            got = entry.setdefault(key, {"nproc_per_node": counts, "config": named, "line": line, "versions": []})
            assert isinstance(got, dict)
            got["versions"].append(tag[1:])
    out = {
        "about": "torchtune stock configs' header comment: the --nproc_per_node counts and --config name per release; scripts/gen_tune_headers.py",
        "repository": "pytorch/torchtune",
        "read_at": _git(git_dir, "rev-parse", "HEAD").strip(),
        "tags": [t[1:] for t in tags],
        "configs": {rel: list(v.values()) for rel, v in sorted(configs.items())},
    }
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
