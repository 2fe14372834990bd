"""The one builder for the small repositories tests write under tmp_path: a dict of `relative path -> text`
(or bytes), folders made as needed, and a `.git` folder at the root where the test wants a repository root
(goblin reads a config's tree from its git checkout: `safepath.project_root`; no git command is run)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def write_tree(root: Path, files: Mapping[str, str | bytes], *, git: bool = False) -> Path:
    """Writes each file of `files` under `root` (text as UTF-8, bytes as they are), and a `.git` folder at `root`
    when `git`; returns `root`."""
    root.mkdir(parents=True, exist_ok=True)
    if git:
        (root / ".git").mkdir(exist_ok=True)
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
    return root


def write_file(root: Path, rel: str, text: str) -> Path:
    """One file of a tree (write_tree with one entry); returns its path."""
    return write_tree(root, {rel: text}) / rel


def repo(tmp_path: Path, files: Mapping[str, str | bytes], git: bool = True) -> Path:
    """A small repository at tmp_path/repo (a `.git` folder unless `git` is false, and the given files); returns its root."""
    return write_tree(tmp_path / "repo", files, git=git)


def fresh_root(tmp: Path, prefix: str = "r") -> Path:
    """A folder under `tmp` no earlier call named (r0, r1, ...: pins and launch searches are read once per folder),
    not yet made."""
    return tmp / f"{prefix}{len(list(tmp.iterdir()))}"
