"""Regenerate pytest_goblin/frameworks/commit_releases.json: which release a framework commit follows and precedes.

A recipe pinned to a commit (`trl @ git+https://github.com/huggingface/trl.git@019fc6d`, `git checkout 55cc214` of
Axolotl) runs a build between two releases. This reads each framework's own git history (a bare clone or mirror,
nothing checked out) and writes, per framework, the commits of its main line (first parent of the head read) from
the fork point of the oldest release goblin's key tables cover on, as 10-hex prefixes grouped by the release they
follow and the next release, and for Axolotl its own requirements.txt pins of bitsandbytes / flash-attn / xformers
per release and at each main-line commit that changed one (DEP_PINS):

    python scripts/gen_commit_releases.py trl=<trl git dir> torchtune=<dir> llamafactory=<dir> axolotl=<dir> \
        [peft=<dir> accelerate=<dir> bitsandbytes=<dir>]

A release is a tag `vX.Y.Z` or `X.Y.Z` (a `.postN` too; no rc/dev); its fork point is `git merge-base TAG HEAD` (the
tag itself when it is on the main line, else where its release branch left it). A main-line commit follows the
release with the latest fork point at or before it (the lowest version of those sharing that point: the one cut there) and precedes
the release with the next fork point (the lowest version there); "N commits after" counts main-line commits from
that fork point. The file records each repository, the commit its history was read at and the tags used.

A framework whose history was rewritten (LLaMA-Factory: its main line today shares no commit with the one before, whose
commits GitHub still serves through pull-request refs, so `llamafactory @ git+...@762c2d7` installs) gets `rewritten`:
the commits of the clone's other refs that have the same author, author date, committer date and subject as exactly one
main-line commit from the first fork point on, as runs [position, 10-hex prefixes] (the k-th prefix is the rewritten
copy of the main-line commit at position + k), so such a commit is placed where its main-line copy is.
tests/test_commit_releases.py checks it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "pytest_goblin" / "frameworks" / "commit_releases.json"
PREFIX = 10
# the repository each framework's history is read from, and the oldest release read: the oldest goblin's key tables
# (key_history.json) cover for the frameworks they cover, a comparable age for the others
REPOS = {
    "trl": ("huggingface/trl", "0.7.0"),
    "torchtune": ("pytorch/torchtune", "0.1.0"),  # its first release: requirements pin commits before 0.2.0 too (8f59c2f)
    "llamafactory": ("hiyouga/LLaMA-Factory", "0.8.0"),
    "axolotl": ("axolotl-ai-cloud/axolotl", "0.4.0"),
    "peft": ("huggingface/peft", "0.7.0"),
    "accelerate": ("huggingface/accelerate", "0.25.0"),
    "bitsandbytes": ("bitsandbytes-foundation/bitsandbytes", "0.41.0"),
}
_RELEASE = re.compile(r"^v?([0-9]+\.[0-9]+\.[0-9]+(?:\.post[0-9]+)?)$")
# The framework's own requirements.txt pins of packages goblin's blockers read (bitsandbytes: blocker.bitsandbytes_*),
# per release tag and at each main-line commit that changed one: a recipe that runs Axolotl at a release or commit
# installs them (review3 #7: Axolotl 55cc214 pins bitsandbytes==0.43.1, requirements.txt:6; its setup.py:11-29 reads
# requirements.txt into install_requires, at 55cc214 and at v0.5.2 alike).
DEP_PINS = {"axolotl": ("requirements.txt", ("bitsandbytes", "flash-attn", "xformers"))}
_DEP_LINE = re.compile(r"^[ \t]*([A-Za-z0-9][A-Za-z0-9._-]*)[ \t]*(==|>=|~=|<=|<|>)[ \t]*([0-9][\w.+-]*)")


def _dep_pins(git_dir: str, ref: str, path: str, deps: tuple[str, ...]) -> dict[str, list[object]]:
    """dep -> [specifier, line] in `path` at `ref` (comments and options ignored; the first line of each dep)."""
    got = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{ref}:{path}"], capture_output=True, text=True)
    out: dict[str, list[object]] = {}
    for n, line in enumerate(got.stdout.splitlines() if got.returncode == 0 else [], 1):
        m = _DEP_LINE.match(line.split("#", 1)[0])
        name = m.group(1).lower().replace("_", "-") if m else ""
        if m and name in deps and name not in out:
            out[name] = [f"{m.group(2)}{m.group(3)}", n]
    return out


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True, text=True).stdout


_SAME = "%H%x00%an%x00%ae%x00%at%x00%ct%x00%s"


def _rewritten(git_dir: str, chain: list[str], start: int) -> list[list[object]]:
    """Runs [position from the first fork point, prefixes] of the commits other refs hold whose author, author date,
    committer date and subject are those of exactly one main-line commit at or after `start` (a rewritten history)."""
    main = [row.split("\0") for row in _git(git_dir, "log", "--first-parent", f"--format={_SAME}", "HEAD").splitlines()][::-1]
    assert [row[0] for row in main] == chain
    count: dict[tuple[str, ...], int] = {}
    for row in main:
        count[tuple(row[1:])] = count.get(tuple(row[1:]), 0) + 1
    where = {tuple(row[1:]): i for i, row in enumerate(main) if i >= start and count[tuple(row[1:])] == 1}
    others = _git(git_dir, "log", "--all", "--not", "HEAD", "--topo-order", "--reverse", f"--format={_SAME}").splitlines()
    runs: list[list[object]] = []
    open_at: dict[int, list[object]] = {}  # the next position a run continues at
    for row in (line.split("\0") for line in others):
        pos = where.get(tuple(row[1:]))
        if pos is None:
            continue
        run = open_at.pop(pos, None)
        if run is None:
            run = [pos - start, ""]
            runs.append(run)
        run[1] = f"{run[1]}{row[0][:PREFIX]}"
        open_at[pos + 1] = run
    return runs


def read(dist: str, git_dir: str) -> dict[str, object]:
    repo, oldest = REPOS[dist]
    head = _git(git_dir, "rev-parse", "HEAD").strip()
    chain = _git(git_dir, "rev-list", "--first-parent", "HEAD").split()[::-1]  # oldest first
    index = {sha: i for i, sha in enumerate(chain)}
    forks: dict[int, list[str]] = {}
    tags: dict[str, str] = {}
    for tag in _git(git_dir, "tag").split():
        m = _RELEASE.match(tag)
        if not m or Version(m.group(1)) < Version(oldest):
            continue
        base = subprocess.run(["git", f"--git-dir={git_dir}", "merge-base", tag, "HEAD"], capture_output=True, text=True).stdout.strip()
        if base not in index:
            continue  # a fork point off the main line (a merged side branch): not placed
        forks.setdefault(index[base], []).append(m.group(1))
        tags[m.group(1)] = tag
    points = sorted(forks)
    if not points:
        raise SystemExit(f"{dist}: no release tag from {oldest} on in {git_dir}")
    segments = []
    for n, at in enumerate(points):
        end = points[n + 1] if n + 1 < len(points) else len(chain)
        after = min(forks[at], key=Version)  # the release cut at the fork point; later patch releases of its branch only add fixes
        before = min(forks[end], key=Version) if end in forks else ""
        segments.append([after, before, "".join(sha[:PREFIX] for sha in chain[at:end])])
    out: dict[str, object] = {
        "repository": f"https://github.com/{repo}",
        "read_at": head,
        "tags": dict(sorted(tags.items(), key=lambda kv: Version(kv[0]))),
        "segments": segments,
    }
    rewritten = _rewritten(git_dir, chain, points[0])
    if rewritten:
        out["rewritten"] = rewritten
    if dist in DEP_PINS:
        path, deps = DEP_PINS[dist]
        start = points[0]
        touched = set(_git(git_dir, "log", "--first-parent", "--format=%H", f"{chain[start]}..HEAD", "--", path).split())
        changes: list[list[object]] = []  # [main-line position from the first fork point, dep, specifier or "", line]
        state: dict[str, list[object]] = {}
        for i in range(start, len(chain)):
            if i != start and chain[i] not in touched:
                continue
            now = _dep_pins(git_dir, chain[i], path, deps)
            for dep in deps:
                if now.get(dep, ["", 0]) != state.get(dep, ["", 0]):
                    changes.append([i - start, dep, *now.get(dep, ["", 0])])
            state = now
        out["dep_pins"] = {"file": path, "releases": {v: _dep_pins(git_dir, tag, path, deps) for v, tag in tags.items()}, "changes": changes}
    return out


def main(argv: list[str]) -> int:
    out: dict[str, object] = {
        "about": "main-line commits (first 10 hex) of each framework, grouped by the release they follow and the next one; scripts/gen_commit_releases.py",
        "prefix": PREFIX,
    }
    if OUT.exists():  # frameworks not named keep their shipped entry
        out.update({k: v for k, v in json.loads(OUT.read_text(encoding="utf-8")).items() if k in REPOS})
    for arg in argv:
        dist, _, git_dir = arg.partition("=")
        if dist not in REPOS or not git_dir:
            raise SystemExit(f"usage: {dist}=<git dir>, dist one of {', '.join(REPOS)}")
        out[dist] = read(dist, git_dir)
    OUT.write_text(json.dumps(out, separators=(",", ":"), sort_keys=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
