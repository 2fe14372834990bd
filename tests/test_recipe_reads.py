"""An edit of a top-level torchtune key is offered only where the recipe the config runs reads it (review5 #8).

tradutor's configs/lora/phi3.yaml: `tune run ... recipes/lora_finetune_distributed.py` (the repository's own copy,
no `compile` in it) on torchtune 0.2.1 (`torchtune.utils.FullModelHFCheckpointer`: moved in 0.3); goblin patched
`compile: true`. torchtune v0.2.1 recipes/lora_finetune_distributed.py and full_finetune_distributed.py never read
`compile` (0 occurrences); recipes/lora_finetune_single_device.py:207 reads `cfg.compile`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.schemas import Report
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import write_tree

RULE = "compile.torch_compile_torchtune"

CONFIG = """\
# tune run --nproc_per_node 8 recipes/{recipe}.py --config c.yaml
batch_size: 4
gradient_accumulation_steps: 4
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: /tmp/tokenizer.model
model:
  _component_: torchtune.models.llama3.lora_llama3_8b
  lora_attn_modules: ['q_proj', 'v_proj']
  lora_rank: 8
checkpointer:
  _component_: torchtune.utils.FullModelHFCheckpointer
  checkpoint_dir: /tmp/m
dataset:
  _component_: torchtune.datasets.alpaca_dataset
  max_seq_len: 1024
optimizer:
  _component_: torch.optim.AdamW
  lr: 3e-4
dtype: bf16
enable_activation_checkpointing: False
"""


def _audit(tmp_path: Path, recipe: str, own: str | None) -> Report:
    files = {"c.yaml": CONFIG.format(recipe=recipe)}
    if own is not None:
        files[f"recipes/{recipe}.py"] = own
    path = write_tree(tmp_path, files, git=True) / "c.yaml"
    result = audit_file(path, Settings(runner="projection", target="mi300x", world_size=8), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


def test_the_repositorys_own_recipe_that_never_reads_compile_gets_no_compile_edit(tmp_path: Path) -> None:
    report = _audit(tmp_path, "lora_finetune_distributed", "def setup(cfg):\n    return cfg.batch_size\n")
    assert not any(e.rule_id == RULE for e in report.patch.edits)  # on 8f667be: `compile: true` patched
    assert "the repository's own recipe recipes/lora_finetune_distributed.py, which never reads `compile`" in report.patch.skipped[RULE]


def test_the_repositorys_own_recipe_that_reads_compile_gets_the_edit(tmp_path: Path) -> None:
    own = "def setup(cfg):\n    if cfg.compile:\n        pass\n    return cfg.batch_size * cfg.gradient_accumulation_steps\n"
    report = _audit(tmp_path, "lora_finetune_distributed", own)
    # not left out for the recipe (it may still be left out as a gain within the projection's noise)
    assert "never reads" not in report.patch.skipped.get(RULE, "")
    assert RULE in report.patch.rule_ids or "not worth patching" in report.patch.skipped[RULE]


@pytest.mark.parametrize(("recipe", "offered"), [("lora_finetune_distributed", False), ("lora_finetune_single_device", True)])
def test_a_recipe_file_not_in_the_repository_is_judged_at_the_pinned_release(tmp_path: Path, recipe: str, offered: bool) -> None:
    report = _audit(tmp_path, recipe, None)
    assert any(e.rule_id == RULE for e in report.patch.edits) is offered
    if not offered:
        why = report.patch.skipped[RULE]
        assert "torchtune 0.2.1's recipe lora_finetune_distributed" in why and "does not read `compile`" in why and "None" not in why
