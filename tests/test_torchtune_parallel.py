"""torchtune's `tensor_parallel_dim` and a repository's own recipe launched from a script (review6a #18, #4, #5).

#18 nebius/ml-cookbook llama3_3_70B_full_multinode.yaml sets `tensor_parallel_dim: 8` on 2x8 GPUs; torchtune 0.6.1
recipes/full_finetune_distributed.py:152 reads it and :166 makes the data-parallel size world // tensor_parallel_dim.
No other 0.6.1 recipe reads it (frameworks/key_history.json). #4/#5 run recipes/moe_*_distributed.py from
scripts/launch_mi250x_fsdp*.sh; those files read no `compile`, yet goblin patched `compile: true`.
"""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.frameworks.own_recipe import keys_read, launched_recipe
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import write_tree

FULL = """\
# tune run --nnodes 2 --nproc_per_node 8 full_finetune_distributed --config c.yaml
batch_size: 4
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: /tmp/tokenizer.model
  max_seq_len: 1024
model:
  _component_: torchtune.models.llama3_1.llama3_1_8b
checkpointer:
  _component_: torchtune.training.FullModelHFCheckpointer
  checkpoint_dir: /tmp/m
dataset:
  _component_: torchtune.datasets.alpaca_dataset
optimizer:
  _component_: torch.optim.AdamW
  lr: 2e-5
dtype: bf16
enable_activation_checkpointing: True
tensor_parallel_dim: 8
tensor_parallel_plan:
  _component_: torchtune.models.llama3.base_llama_tp_plan
"""


def _load(tmp_path: Path, text: str, name: str = "c.yaml"):
    return load_config(write_tree(tmp_path, {name: text}, git=True) / name).workload


def test_tensor_parallel_dim_is_read_where_the_recipe_reads_it(tmp_path: Path) -> None:
    w = _load(tmp_path, FULL)
    assert w.tensor_parallel == 8
    assert w.sources["tensor_parallel"].key == "tensor_parallel_dim" and w.sources["tensor_parallel"].line == 19
    assert w.world_size == 16  # the launch line's 2 x 8


def test_tensor_parallel_dim_is_not_read_where_the_recipe_does_not(tmp_path: Path) -> None:
    text = FULL.replace("full_finetune_distributed", "lora_finetune_distributed").replace("llama3_1_8b", "lora_llama3_1_8b")
    w = _load(tmp_path, text)
    assert w.tensor_parallel == 1
    assert any("`tensor_parallel_dim: 8` (line 19) does nothing" in n and "lora_finetune_distributed" in n for n in w.notes)


def test_tensor_parallel_dim_raises_a_smaller_world_size_to_its_minimum(tmp_path: Path) -> None:
    w = _load(tmp_path, FULL.replace("# tune run --nnodes 2 --nproc_per_node 8", "# tune run --nproc_per_node 4"))
    assert w.tensor_parallel == 8 and w.world_size >= 8


OWN = """\
batch_size: 1
gradient_accumulation_steps: 8
tokenizer:
  _component_: torchtune.models.qwen2_5.qwen2_5_tokenizer
  path: /tmp/vocab.json
  merges_file: /tmp/merges.txt
  max_seq_len: 512
model:
  _component_: torchtune.models.qwen2_5.qwen2_5_0_5b
checkpointer:
  _component_: torchtune.training.FullModelHFCheckpointer
  checkpoint_dir: /tmp/m
dataset:
  _component_: torchtune.datasets.alpaca_cleaned_dataset
optimizer:
  _component_: torch.optim.AdamW
  lr: 2e-5
dtype: bf16
enable_activation_checkpointing: False
compile: False
"""

SCRIPT = """\
#!/bin/bash
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIG=${1:-"$REPO_ROOT/configs/moe.yaml"}
cd "$REPO_ROOT"
tune run \\
  --nnodes 1 \\
  --nproc_per_node 8 \\
  recipes/moe_full.py \\
  --config "$CONFIG"
"""

RECIPE_NO_COMPILE = """\
from omegaconf import OmegaConf


def main(args):
    cfg = OmegaConf.load(args.config)
    workers = int(getattr(cfg, "num_workers", 2))
    accum = int(getattr(cfg, "gradient_accumulation_steps", 1))
    metric_logger.log_config(cfg)
    return cfg.batch_size * accum, cfg.get("dtype", "bf16"), cfg.model, cfg.optimizer, cfg.dataset, workers
"""

RULE = "compile.torch_compile_torchtune"


def _own_tree(tmp_path: Path, recipe: str) -> Path:
    files = {"scripts/launch.sh": SCRIPT, "recipes/moe_full.py": recipe, "configs/moe.yaml": OWN}
    return write_tree(tmp_path, files, git=True) / "configs" / "moe.yaml"


def test_a_script_launched_own_recipe_is_found_and_its_cfg_reads_parsed(tmp_path: Path) -> None:
    config = _own_tree(tmp_path, RECIPE_NO_COMPILE)
    found = launched_recipe(str(config), OWN)
    assert found is not None and found[0].name == "moe_full.py" and "scripts/launch.sh" in found[1]
    keys = keys_read(found[0])
    assert keys is not None and {"batch_size", "gradient_accumulation_steps", "num_workers", "dtype", "model"} <= keys
    assert "compile" not in keys


def test_the_whole_config_handed_to_outside_code_makes_the_reads_unknown(tmp_path: Path) -> None:
    recipe = tmp_path / "r.py"
    recipe.write_text("from somewhere import Trainer\n\ndef main(cfg):\n    Trainer(cfg).fit()\n")
    assert keys_read(recipe) is None
    recipe.write_text("from torchtune.recipes import Base\n\nclass R(Base):\n    def go(self, cfg):\n        return cfg.batch_size\n")
    assert keys_read(recipe) is None


def _audit(config: Path):
    result = audit_file(config, Settings(runner="projection", target="mi300x", world_size=8), shown_as=config.name)
    assert result.report is not None, result.error
    return result.report


def test_no_compile_edit_for_a_script_launched_own_recipe_that_never_reads_it(tmp_path: Path) -> None:
    report = _audit(_own_tree(tmp_path, RECIPE_NO_COMPILE))
    assert not any(e.rule_id == RULE for e in report.patch.edits)
    why = report.patch.skipped[RULE]
    assert "scripts/launch.sh" in why and "recipes/moe_full.py, which never reads `compile`" in why and "None" not in why


def test_the_compile_edit_stays_for_a_script_launched_own_recipe_that_reads_it(tmp_path: Path) -> None:
    reads = RECIPE_NO_COMPILE.replace("    metric_logger", '    if cfg.get("compile", False):\n        pass\n    metric_logger')
    report = _audit(_own_tree(tmp_path, reads))
    assert "never reads" not in report.patch.skipped.get(RULE, "")
