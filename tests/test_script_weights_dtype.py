"""The dtype a Python script loads its weights in (lora19): `torch_dtype="auto"` (and transformers >= 5's default "auto")
loads the checkpoint's dtype, read from a local config.json, else "checkpoint dtype unknown" and never fp32 alone for a
memory finding; fp16 weights with neither bf16 nor fp16 in TrainingArguments train in pure fp16, not fp32."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.costmodel import memory_gb
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import facts

from .repo_files import write_tree

CONFIG = {
    "model_type": "llama",
    "num_hidden_layers": 32,
    "hidden_size": 4096,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 14336,
    "vocab_size": 128256,
}
SCRIPT = """\
import torch
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments
model = AutoModelForCausalLM.from_pretrained({model}{dtype})
args = TrainingArguments(output_dir="o", per_device_train_batch_size=4{ta})
Trainer(model=model, args=args).train()
"""


def _script(
    tmp_path: Path, model: str = '"./models/base"', dtype: str = ', torch_dtype="auto"', ta: str = "", ckpt: str | None = "bfloat16", extra: str = ""
) -> Path:
    files = {
        "models/base/config.json": json.dumps({**CONFIG, **({"torch_dtype": ckpt} if ckpt else {})}),
        "train.py": SCRIPT.format(model=model, dtype=dtype, ta=ta),
    }
    if extra:
        files["requirements.txt"] = extra
    return write_tree(tmp_path, files, git=True) / "train.py"


def test_auto_loads_the_local_checkpoints_recorded_dtype(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path)).workload
    assert w.weight_dtype == "bf16" and not w.sources["weight_dtype"].unread
    assert "loads the checkpoint's own dtype: bf16, as the model's config.json records it" in (w.sources["weight_dtype"].note or "")


def test_auto_over_a_checkpoint_of_unknown_dtype_is_unread_and_judged_at_the_smaller_projection(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, ckpt=None)).workload
    src = w.sources["weight_dtype"]
    assert w.weight_dtype is None and src.unread and "checkpoint dtype unknown" in (src.note or "")
    hw = get_hardware("mi300x")
    half = memory_gb(w.model_copy(update={"weight_dtype": "bf16"}))
    assert half < memory_gb(w)
    assert abs(facts(w, hw)["derived.headroom_gb"] - (facts(w.model_copy(update={"weight_dtype": "bf16"}), hw)["derived.headroom_gb"])) < 1e-6


def test_an_explicit_fp32_load_keeps_fp32_weights(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, dtype=", torch_dtype=torch.float32")).workload
    assert w.weight_dtype == "fp32" and not w.sources["weight_dtype"].unread


def test_no_dtype_under_a_transformers_4_pin_loads_fp32_and_is_not_marked(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, dtype="", extra="transformers==4.46.3\n")).workload
    src = w.sources.get("weight_dtype")
    assert not (src is not None and src.unread) and w.weight_dtype != "bf16"


def test_no_dtype_under_a_transformers_5_pin_loads_the_checkpoints_dtype(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, dtype="", extra="transformers==5.25.0\n")).workload
    assert w.weight_dtype == "bf16"


def test_fp16_weights_without_amp_train_in_pure_fp16(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, dtype=", torch_dtype=torch.float16")).workload
    assert w.weight_dtype == "fp16" and w.precision == "fp16"
    assert "trains in pure fp16" in (w.sources["precision"].note or "")


def test_fp16_weights_under_bf16_amp_keep_the_amp_precision(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, dtype=", torch_dtype=torch.float16", ta=", bf16=True")).workload
    assert w.precision == "bf16" and "pure" not in (w.sources["precision"].note or "")


def test_fp32_weights_without_amp_stay_fp32(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, dtype=", torch_dtype=torch.float32")).workload
    assert w.precision == "fp32"
