"""A framework image a config's own comment names is said beside the assumed release, never read as a pin
(review13a row 2: `# ... inside the winglian/axolotl:main-20241202 docker image`, nothing in the repository runs it)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import fresh_root, write_tree

BODY = "base_model: mistralai/Mistral-7B-v0.1\nsequence_len: 2048\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nnum_epochs: 1\n"
BODY += "datasets:\n  - path: data.jsonl\n    type: alpaca\nlearning_rate: 0.0002\noptimizer: adamw_torch\nbf16: true\n"


def _note(tmp: Path, name: str, head: str, files: dict[str, str] | None = None) -> str:
    path = write_tree(fresh_root(tmp, name), {"axolotl.yml": head + BODY, **(files or {})}, git=True) / "axolotl.yml"
    src = load_config(path).workload.sources["framework"]
    return src.note or ""


def test_a_commented_image_is_said_not_read_as_the_pin(tmp_path: Path) -> None:
    note = _note(tmp_path, "said", "# This is designed to run inside the `winglian/axolotl:main-20241202` docker image.\n")
    assert "axolotl 0.18.0 assumed" in note and "the config's comment at line 1 names the image `winglian/axolotl:main-20241202`" in note
    assert "after axolotl 0.5.2, before 0.6.0" in note and "a comment is not a pin" in note and "None" not in note


def test_a_commented_image_must_not_be_said(tmp_path: Path) -> None:
    # no comment naming an image
    assert "names the image" not in _note(tmp_path, "none", "# a plain comment\n")
    # a pin the repository has: the pin decides, the comment is not said
    pinned = _note(tmp_path, "pinned", "# run inside winglian/axolotl:main-20241202\n", {"requirements.txt": "axolotl==0.10.0\n"})
    assert "names the image" not in pinned and "0.10.0" in pinned
