"""The model a repository's Markdown downloads into the folder a script loads (review12b row 24,
jingran-h/Distributed-Model-Training-on-Frontier: sft_llama_ds.py:18,47-52 loads
`os.path.join(SCRATCH_ROOT, "llama-models-cache")`, README.md:123-125 runs
`huggingface-cli download meta-llama/Meta-Llama-3-8B ... --local-dir $SCRATCH_ROOT/llama-models-cache`)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.modelzoo import shape_assumption

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)

_SCRIPT = """import os
import torch
from transformers import AutoModelForCausalLM
from trl import SFTConfig, SFTTrainer

SCRATCH_ROOT = "/lustre/orion/proj/scratch/user"
MODEL_CACHE_DIR = os.path.join(SCRATCH_ROOT, "llama-models-cache")

base_model_name = "meta-llama/Meta-Llama-3-8B"  # never loaded

model = AutoModelForCausalLM.from_pretrained(MODEL_CACHE_DIR, dtype=torch.bfloat16, local_files_only=True)
args = SFTConfig(output_dir="out", per_device_train_batch_size=1, gradient_accumulation_steps=1, bf16=True, max_length=1024)
trainer = SFTTrainer(model=model, args=args, train_dataset=None)
trainer.train()
"""

_README = """# SFT on Frontier

```bash
mkdir -p $SCRATCH_ROOT/llama-models-cache
huggingface-cli download meta-llama/Meta-Llama-3-8B \\
  --exclude "original/*" \\
  --local-dir $SCRATCH_ROOT/llama-models-cache \\
  --local-dir-use-symlinks False
{more}
```
"""


def _repo(tmp_path: Path, more: str = "") -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "README.md").write_text(_README.format(more=more))
    script = tmp_path / "sft_llama_ds.py"
    script.write_text(_SCRIPT)
    return script


def test_the_folder_a_readme_downloads_the_model_into_takes_that_models_shape(tmp_path: Path) -> None:
    w = load_config(_repo(tmp_path)).workload
    assert w.model.name == "/lustre/orion/proj/scratch/user/llama-models-cache"  # os.path.join evaluated, nothing run
    assert w.model.known and w.model.family == "llama3" and w.model.n_layers == 32 and w.model.vocab == 128256
    said = "shape of meta-llama/Meta-Llama-3-8B, which README.md line 5 downloads into llama-models-cache; the folder is not in the checkout"
    assert w.model.inferred == said and shape_assumption(w.model) is None


def test_a_dataset_download_or_another_folder_names_no_model(tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / ".git").mkdir()
    (dataset / "README.md").write_text("```\nhuggingface-cli download meta-llama/Meta-Llama-3-8B --repo-type dataset --local-dir $S/llama-models-cache\n```\n")
    (dataset / "sft_llama_ds.py").write_text(_SCRIPT)
    m = load_config(dataset / "sft_llama_ds.py").workload.model
    assert not m.known and m.name.endswith("llama-models-cache")
    said = shape_assumption(m)
    assert said is not None and "7B assumed" in said and "None" not in said
    other = tmp_path / "other"
    other.mkdir()
    (other / ".git").mkdir()
    (other / "README.md").write_text("```\nhf download meta-llama/Meta-Llama-3-8B --local-dir $S/llama-tokenizers-cache\n```\n")
    (other / "sft_llama_ds.py").write_text(_SCRIPT)
    assert not load_config(other / "sft_llama_ds.py").workload.model.known


def test_two_downloads_of_different_models_into_the_folder_name_none(tmp_path: Path) -> None:
    script = _repo(tmp_path, more="hf download Qwen/Qwen2.5-7B --local-dir=$SCRATCH_ROOT/llama-models-cache")
    w = load_config(script).workload
    assert not w.model.known
    assert any("name 2 base models for llama-models-cache" in n for n in w.notes)
