"""A torchtune recipe copied into the repository is placed at its release by content (review6a #19).

HichamAgueny/llm-workshop runs fine-tuning-multigpu/python_scripts/lora_finetune_distributed.py, byte-identical to
torchtune v0.4.0 recipes/lora_finetune_distributed.py, and pins no torchtune; goblin said "0.6.1 assumed".
recipe_hashes.json (scripts/gen_recipe_hashes.py, from torchtune's tags) holds each release's recipe hashes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin.frameworks import own_recipe
from pytest_goblin.frameworks.pins import pins

from .repo_files import write_tree

CONFIG = """\
batch_size: 4
model:
  _component_: torchtune.models.llama3_2.lora_llama3_2_1b
optimizer:
  _component_: torch.optim.AdamW
dtype: bf16
"""
COPY = b"# a recipe\nimport torchtune\n\n\ndef recipe_main(cfg):\n    return cfg.batch_size\n"


def test_the_table_holds_each_release_recipe_once_per_content() -> None:
    table = json.loads((Path(own_recipe.__file__).parent / "recipe_hashes.json").read_text())["torchtune"]
    assert table["repository"] == "pytorch/torchtune" and "v0.4.0" in table["tags"] and "v0.6.1" in table["tags"]
    tags = {t[1:] for t in table["tags"]}
    for h, entry in table["files"].items():
        assert len(h) == 64 and entry["file"].startswith("recipes/") and entry["file"].endswith(".py")
        assert entry["versions"] and set(entry["versions"]) <= tags
    files = [e for e in table["files"].values() if e["file"] == "recipes/lora_finetune_distributed.py"]
    assert sum(len(e["versions"]) for e in files) == len({v for e in files for v in e["versions"]})  # one content per release


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = {own_recipe.digest(COPY): {"file": "recipes/lora_finetune_distributed.py", "versions": ["0.4.0"]}}
    monkeypatch.setattr(own_recipe, "recipe_hashes", lambda: fake)


def _tree(tmp_path: Path, copy: bytes, requirements: str | None = None) -> Path:
    files: dict[str, str | bytes] = {"python_scripts/lora_finetune_distributed.py": copy, "configs/1B_lora_multi_device_QA.yaml": CONFIG}
    if requirements is not None:
        files["requirements.txt"] = requirements
    return write_tree(tmp_path, files, git=True) / "configs" / "1B_lora_multi_device_QA.yaml"


@pytest.mark.usefixtures("table")
def test_a_copied_recipe_pins_the_release_it_is_identical_to(tmp_path: Path) -> None:
    config = _tree(tmp_path, COPY.replace(b"\n", b"\r\n"))  # line endings do not count
    pin = pins(str(config), CONFIG)["torchtune"]
    assert pin.version == "0.4.0" and pin.constraint == "==0.4.0"
    assert pin.where == "vendored recipe python_scripts/lora_finetune_distributed.py identical to torchtune v0.4.0 recipes/lora_finetune_distributed.py"


@pytest.mark.usefixtures("table")
def test_an_edited_copy_pins_nothing(tmp_path: Path) -> None:
    config = _tree(tmp_path, COPY + b"# edited\n")
    assert "torchtune" not in pins(str(config), CONFIG)


@pytest.mark.usefixtures("table")
def test_a_requirement_pin_stays_over_a_copied_recipe(tmp_path: Path) -> None:
    config = _tree(tmp_path, COPY, requirements="torchtune==0.6.1\n")
    pin = pins(str(config), CONFIG)["torchtune"]
    assert pin.version == "0.6.1" and "requirements.txt" in pin.where
