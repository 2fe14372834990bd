"""`tensor_parallel_dim` under a repository's own torchtune recipe (review12a #10 emattia/tune-sft).

The repository runs its own full_sft_distributed.py, which reads `cfg.get("tensor_parallel_dim", 1)` and applies the
plan with parallelize_module, as torchtune 0.6.0 recipes/full_finetune_distributed.py:152,166,557 does; goblin said
it could not tell whether the file reads the key, priced data parallelism over 8 GPUs, and printed PASS on a 70B full
fine-tune at one sample per optimizer step. Where the file shows it applies the degree, the degree is the config's;
where goblin cannot tell, the degree is unread and no PASS rests on it. torchtune refuses a fused optimizer under
tensor parallelism (v0.6.0 recipes/full_finetune_distributed.py:161-164), so goblin does not propose one there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.formats.semantics import parallelism_unread
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import write_tree


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


CONFIG = """\
output_dir: /tmp/out
tensor_parallel_dim: 8
tensor_parallel_plan:
  _component_: torchtune.models.llama3.base_llama_tp_plan
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: /tmp/tokenizer.model
  max_seq_len: 2048
dataset:
  _component_: torchtune.datasets.alpaca_dataset
model:
  _component_: torchtune.models.llama3_3.llama3_3_70b
checkpointer:
  _component_: torchtune.training.FullModelHFCheckpointer
  checkpoint_dir: /tmp/m
batch_size: 1
epochs: 1
optimizer:
  _component_: torch.optim.AdamW
  lr: 2e-5
  fused: False
loss:
  _component_: torchtune.modules.loss.CEWithChunkedOutputLoss
gradient_accumulation_steps: 1
enable_activation_checkpointing: True
compile: False
dtype: bf16
"""

LAUNCH = "#!/bin/bash\ntune run --nproc_per_node 8 full_sft.py --config sft.yaml\n"

RECIPE = """\
from torch.distributed.tensor.parallel import parallelize_module
from torchtune import config, training
from torchtune.recipe_interfaces import FTRecipeInterface


class FullSFTRecipe(FTRecipeInterface):
    def __init__(self, cfg):
        self.tensor_parallel_plan = config.instantiate(cfg.get("tensor_parallel_plan", None))
        self.tensor_parallel_dim = cfg.get("tensor_parallel_dim", 1)
        self.batch_size = cfg.batch_size
        self.compile = cfg.get("compile", False)

    def setup(self, cfg, model, mesh):
        if self.tensor_parallel_dim > 1:
            parallelize_module(model, mesh["tp"], parallelize_plan=self.tensor_parallel_plan)
        training.shard_model(model=model, shard_conditions=[], cpu_offload=cfg.get("fsdp_cpu_offload", False), dp_mesh=mesh["dp"])
        return cfg.model, cfg.optimizer, cfg.dataset, cfg.tokenizer, cfg.loss, cfg.checkpointer, cfg.dtype


@config.parse
def recipe_main(cfg):
    FullSFTRecipe(cfg).setup(cfg, None, None)
"""


FUSED = "optimizer.fused_adamw"


def _tree(tmp_path: Path, recipe: str = RECIPE, config: str = CONFIG) -> Path:
    files = {"launch.sh": LAUNCH, "full_sft.py": recipe, "sft.yaml": config}
    return write_tree(tmp_path, files, git=True) / "sft.yaml"


def _audit(path: Path):
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


def test_the_own_recipe_that_reads_and_applies_tensor_parallel_dim_makes_it_the_config_degree(tmp_path: Path) -> None:
    w = load_config(_tree(tmp_path)).workload
    assert w.tensor_parallel == 8 and w.world_size == 8
    src = w.sources["tensor_parallel"]
    assert src.explicit and not src.unread and src.key == "tensor_parallel_dim" and src.line == 2
    assert parallelism_unread(w) is None
    assert not any("not modelled" in n for n in w.notes)


def test_an_own_recipe_that_never_reads_it_leaves_tensor_parallel_one(tmp_path: Path) -> None:
    recipe = RECIPE.replace('cfg.get("tensor_parallel_dim", 1)', "1")
    w = load_config(_tree(tmp_path, recipe)).workload
    assert w.tensor_parallel == 1 and parallelism_unread(w) is None
    assert any("`tensor_parallel_dim: 8` (line 2) does nothing: the repository's recipe full_sft.py never reads it" in n for n in w.notes)


def test_an_own_recipe_that_reads_it_but_applies_no_plan_leaves_the_degree_unread_and_no_pass(tmp_path: Path) -> None:
    recipe = RECIPE.replace("parallelize_module(model", "apply_plan(model")
    path = _tree(tmp_path, recipe)
    w = load_config(path).workload
    why = parallelism_unread(w)
    assert why is not None and "reads it (line 9) but calls no parallelize_module(" in why and "None" not in why
    assert w.sources["tensor_parallel"].unread
    report = _audit(path)
    assert report.verdict != "pass"
    assert report.verdict == "fail" or "tensor_parallel_dim: 8" in (report.inconclusive or report.reason)


def test_an_unknown_recipe_leaves_the_degree_unread_and_no_pass(tmp_path: Path) -> None:
    path = write_tree(tmp_path, {"sft.yaml": CONFIG}, git=True) / "sft.yaml"
    w = load_config(path).workload
    why = parallelism_unread(w)
    assert why is not None and "the recipe that runs is not one goblin knows" in why
    assert _audit(path).verdict != "pass"


def test_no_fused_optimizer_is_proposed_under_torchtune_tensor_parallelism(tmp_path: Path) -> None:
    report = _audit(_tree(tmp_path))
    assert not any(f.rule_id == FUSED for f in report.findings) and FUSED not in report.patch.skipped


def test_the_fused_optimizer_is_still_proposed_without_tensor_parallelism(tmp_path: Path) -> None:
    report = _audit(_tree(tmp_path, config=CONFIG.replace("tensor_parallel_dim: 8", "tensor_parallel_dim: 1")))
    assert any(f.rule_id == FUSED for f in report.findings) or FUSED in report.patch.skipped  # judged (small gain here)


NO_RULE = "goblin has no rule that prices that layout against this one"


def test_a_tensor_parallel_run_whose_fsdp_layout_fits_is_not_cleared(tmp_path: Path) -> None:
    report = _audit(_tree(tmp_path))
    assert report.verdict != "pass"
    text = report.inconclusive or report.reason
    assert "`tensor_parallel_dim: 8` (line 2): each layer is split over 8 GPUs, leaving 1 data-parallel rank and 1 sample per optimizer step" in text
    assert NO_RULE in text and "None" not in text


def test_no_tensor_parallel_reason_where_fsdp_alone_would_not_fit_or_there_is_no_tensor_parallelism(tmp_path: Path) -> None:
    big = _audit(_tree(tmp_path / "a", config=CONFIG.replace("llama3_3_70b", "llama3_1_405b")))
    assert NO_RULE not in (big.inconclusive or big.reason)
    flat = _audit(_tree(tmp_path / "b", config=CONFIG.replace("tensor_parallel_dim: 8", "tensor_parallel_dim: 1")))
    assert NO_RULE not in (flat.inconclusive or flat.reason)
