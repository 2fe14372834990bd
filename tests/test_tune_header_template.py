"""torchtune's stock header comment kept in a copied config ("To launch on 2 devices ... tune run --nproc_per_node 2
lora_finetune_distributed --config llama3/8B_lora"): torchtune's example, read as assumed (topo19a #3); a count the user
changed stands."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.semantics import world_size_note
from pytest_goblin.frameworks import tables

from .repo_files import repo

TUNE_HEADER = (
    "# Config for multi-device LoRA finetuning in lora_finetune_distributed.py\n"
    "# using a Llama3 8B Instruct model\n"
    "#\n"
    "# To launch on {n} devices, run the following command from root:\n"
    "#   tune run --nproc_per_node {n} lora_finetune_distributed --config {name}\n"
    "\n"
)
TUNE_BODY = (
    "output_dir: /tmp/out\n"
    "model:\n  _component_: torchtune.models.llama3.lora_llama3_8b\n  lora_attn_modules: ['q_proj', 'v_proj']\n  lora_rank: 8\n  lora_alpha: 16\n"
    "tokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n  path: /tmp/tokenizer.model\n  max_seq_len: 2048\n"
    "dataset:\n  _component_: torchtune.datasets.alpaca_cleaned_dataset\n"
    "optimizer:\n  _component_: torch.optim.AdamW\n  lr: 3e-4\n"
    "batch_size: 2\nepochs: 1\ngradient_accumulation_steps: 8\ndevice: cuda\ndtype: bf16\n"
)


def test_tune_headers_table_holds_the_stock_count() -> None:
    assert tables.tune_stock_header("llama3/8B_lora", 2) == "torchtune 0.6.1 recipes/configs/llama3/8B_lora.yaml:9"
    assert tables.tune_stock_header("llama3/8B_lora.yaml", 4) is None


def test_copied_stock_torchtune_config_header_count_is_assumed(tmp_path: Path) -> None:
    root = repo(tmp_path, {"8B_lora.yaml": TUNE_HEADER.format(n=2, name="llama3/8B_lora") + TUNE_BODY})
    w = load_config(root / "8B_lora.yaml").workload
    assert w.world_size == 2
    src = w.sources["world_size"]
    assert not src.explicit and "torchtune's template" in (src.note or "") and "recipes/configs/llama3/8B_lora.yaml:9" in (src.note or "")
    assert "assumed" in world_size_note(w)


def test_must_not_fire_header_count_the_user_changed_stands(tmp_path: Path) -> None:
    root = repo(tmp_path, {"my_run.yaml": TUNE_HEADER.format(n=4, name="my_run.yaml") + TUNE_BODY})
    w = load_config(root / "my_run.yaml").workload
    assert w.world_size == 4 and w.sources["world_size"].explicit
    root2 = tmp_path / "two"
    (root2 / ".git").mkdir(parents=True)
    (root2 / "8B_lora.yaml").write_text(TUNE_HEADER.format(n=8, name="llama3/8B_lora") + TUNE_BODY, encoding="utf-8")
    w2 = load_config(root2 / "8B_lora.yaml").workload
    assert w2.world_size == 8 and w2.sources["world_size"].explicit  # not the stock header's 2: the user's edit
