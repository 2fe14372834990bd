"""A framework submodule's commit, read from the repository's git index (review6a #12 asked why a submodule is not placed).

PC-Agent-E's train/LLaMA-Factory is a submodule; a clone without --recurse-submodules leaves the folder empty, but the
index keeps a gitlink (mode 160000) naming the commit. frameworks/gitlink.py reads it (git Documentation/
gitformat-index.txt) and pins.py places it like any commit pin (commit_releases.json).
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from pytest_goblin.frameworks.gitlink import gitlinks
from pytest_goblin.frameworks.pins import pins

from .repo_files import write_tree

PLACED = "e2299e261b" + "0" * 30  # a LLaMA-Factory main-line commit after v0.9.2, before v0.9.3 (commit_releases.json)
GITMODULES = '[submodule "train/LLaMA-Factory"]\n\tpath = train/LLaMA-Factory\n\turl = https://github.com/hiyouga/LLaMA-Factory.git\n'
CONFIG = "model_name_or_path: Qwen/Qwen2.5-7B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: full\ndataset: d\ntemplate: qwen\ncutoff_len: 2048\n"


def _index_v2(entries: list[tuple[str, int, str]]) -> bytes:
    """A version-2 index with these (path, mode, sha) entries, sorted by path as git keeps them."""
    body = b""
    for path, mode, sha in sorted(entries):
        name = path.encode()
        entry = b"\0" * 24 + struct.pack(">I", mode) + b"\0" * 12 + bytes.fromhex(sha) + struct.pack(">H", min(len(name), 0xFFF)) + name
        body += entry + b"\0" * (8 - len(entry) % 8)
    data = b"DIRC" + struct.pack(">II", 2, len(entries)) + body
    return data + hashlib.sha1(data).digest()


def test_gitlinks_are_read_and_other_entries_are_not() -> None:
    index = _index_v2([("README.md", 0o100644, "ab" * 20), ("train/LLaMA-Factory", 0o160000, PLACED), ("train/sft.yaml", 0o100644, "cd" * 20)])
    assert gitlinks(index) == {"train/LLaMA-Factory": PLACED}
    assert gitlinks(b"not an index") == {}
    assert gitlinks(index[:40]) == {}  # truncated: nothing, no error


def _tree(tmp_path: Path, index: bytes | None) -> Path:
    files: dict[str, str | bytes] = {".gitmodules": GITMODULES, "train/sft.yaml": CONFIG}
    if index is not None:
        files[".git/index"] = index
    root = write_tree(tmp_path, files, git=True)
    (root / "train" / "LLaMA-Factory").mkdir()  # not checked out: empty
    return root / "train" / "sft.yaml"


def test_a_submodule_commit_in_the_index_is_placed(tmp_path: Path) -> None:
    config = _tree(tmp_path, _index_v2([("train/LLaMA-Factory", 0o160000, PLACED), ("train/sft.yaml", 0o100644, "cd" * 20)]))
    pin = pins(str(config), CONFIG)["llamafactory"]
    assert pin.kind == "commit" and pin.version == "0.9.2" and pin.before == "0.9.3"
    assert "git submodule train/LLaMA-Factory at commit e2299e261b00" in pin.where and ".gitmodules:3" in pin.where


def test_without_a_gitlink_the_submodule_stays_unknown(tmp_path: Path) -> None:
    config = _tree(tmp_path, _index_v2([("train/sft.yaml", 0o100644, "cd" * 20)]))
    pin = pins(str(config), CONFIG)["llamafactory"]
    assert pin.kind == "submodule" and pin.version == ""


def test_an_unplaceable_submodule_commit_is_said_with_its_commit(tmp_path: Path) -> None:
    config = _tree(tmp_path, _index_v2([("train/LLaMA-Factory", 0o160000, "f96c0858" + "0" * 32)]))
    pin = pins(str(config), CONFIG)["llamafactory"]
    assert pin.version == "" and "commit f96c08580000" in pin.spec and "release unknown" in pin.spec


@pytest.mark.skipif(shutil.which("git") is None, reason="no git binary to write a real index")
@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_an_index_git_itself_writes_is_read(tmp_path: Path, version: str) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("x")
    (tmp_path / "README.md").write_text("r")
    git("add", "a/x.txt", "README.md")
    git("update-index", "--add", "--cacheinfo", f"160000,{PLACED},train/LLaMA-Factory")
    git("update-index", "--index-version", version)
    assert gitlinks((tmp_path / ".git" / "index").read_bytes()) == {"train/LLaMA-Factory": PLACED}
