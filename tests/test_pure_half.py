"""Half-precision weights with neither bf16 nor fp16 true train in pure half precision, on every path that reads a weight
dtype (formats/semantics.pure_half_precision): a TrainingArguments JSON recipe its launched script loads the model for
with `torch_dtype=bfloat16` (review11b #29/#30: McGill-NLP/llm2vec run_mntp.py:692-707 over
train_configs/mntp/MetaLlama3.json, where `precision.bf16_amp_over_fp32` claimed 4.83x over an fp32 step that does not
run), and a Python script, full or LoRA. fp32 weights, a dtype goblin cannot evaluate, a key the script never reads, the
script's own autocast, a DeepSpeed file and a quantized base keep fp32 as read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.costmodel import adapter_bytes, layer_activation_bytes, memory_gb
from pytest_goblin.formats import load_config
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo

AMP = "precision.bf16_amp_over_fp32"

# the shape of llm2vec experiments/run_mntp.py: its own ModelArguments beside TrainingArguments, the dtype computed from
# the file's `torch_dtype`, a LoRA adapter on the loaded model
SCRIPT = """\
import sys
from dataclasses import dataclass, field

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default=None)
    torch_dtype: str = field(default=None)


def main():
    parser = HfArgumentParser((ModelArguments, TrainingArguments))
    model_args, training_args = parser.parse_json_file(json_file=sys.argv[1])
    torch_dtype = model_args.torch_dtype if model_args.torch_dtype in ["auto", None] else getattr(torch, model_args.torch_dtype)
    model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, torch_dtype=torch_dtype{more})
{body}    model = get_peft_model(model, LoraConfig(r=16, target_modules=["q_proj", "v_proj"]))
    Trainer(model=model, args=training_args).train()


if __name__ == "__main__":
    main()
"""
README = "```bash\npython train.py train_configs/run.json\n```\n"
RECIPE: dict[str, Any] = {
    "model_name_or_path": "meta-llama/Meta-Llama-3-8B-Instruct",
    "output_dir": "out",
    "per_device_train_batch_size": 8,
    "max_seq_length": 512,
    "gradient_checkpointing": True,
    "torch_dtype": "bfloat16",
}


def _recipe(
    tmp_path: Path, changes: dict[str, Any] | None = None, drop: tuple[str, ...] = (), more: str = "", body: str = "", files: dict[str, str] | None = None
) -> WorkloadConfig:
    recipe = {k: v for k, v in {**RECIPE, **(changes or {})}.items() if k not in drop}
    root = repo(
        tmp_path,
        {"train.py": SCRIPT.format(more=more, body=body), "README.md": README, "train_configs/run.json": json.dumps(recipe, indent=4), **(files or {})},
    )
    return load_config(root / "train_configs/run.json").workload


def _fired(w: WorkloadConfig) -> set[str]:
    return {r.id for r in kb.applicable(w, hardware.get_hardware("mi300x"), list(kb.cached_rules()))}


def test_a_json_recipe_whose_script_loads_bf16_weights_trains_in_pure_bf16(tmp_path: Path) -> None:
    w = _recipe(tmp_path)
    assert (w.method, w.weight_dtype, w.precision) == ("lora", "bf16", "bf16"), w.sources["precision"]
    note = w.sources["precision"].note or ""
    assert note.startswith("the weights load in bf16: `torch_dtype: bfloat16` (line 7), which train.py reads; TrainingArguments turns on neither bf16 nor fp16")
    assert "the model trains in pure bf16, every base-model GEMM in the weights' dtype" in note and "peft 0.12.0" in note
    assert "transformers 4.44.2 training_args.py:1036-1048,1778-1785" in note and "None" not in note
    assert AMP not in _fired(w)


def test_fp32_weights_with_no_flag_keep_the_bf16_amp_finding(tmp_path: Path) -> None:
    for root, (changes, drop) in enumerate((({}, ("torch_dtype",)), ({"torch_dtype": "float32"}, ()))):
        w = _recipe(tmp_path / str(root), changes, drop)
        assert w.precision == "fp32" and w.weight_dtype != "bf16", (changes, drop, w.weight_dtype)
        assert AMP in _fired(w), (changes, drop)


def test_a_flag_true_keeps_the_amp_precision(tmp_path: Path) -> None:
    w = _recipe(tmp_path, {"bf16": True})
    assert w.precision == "bf16" and "pure" not in (w.sources["precision"].note or "")


def test_a_dtype_under_an_if_goblin_cannot_evaluate_stays_unread(tmp_path: Path) -> None:
    """The file sets no dtype; the script loads bf16 only under an environment test: the weights are not read, so the
    precision stays the fp32 the flags give."""
    body = '    if os.environ.get("HALF"):\n        model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, torch_dtype=torch.bfloat16)\n'
    w = _recipe(tmp_path, drop=("torch_dtype",), body=body)
    assert w.weight_dtype != "bf16" and w.precision == "fp32"
    assert "pure" not in (w.sources["precision"].note or "")


def test_a_dtype_key_the_script_never_reads_is_not_the_compute_dtype(tmp_path: Path) -> None:
    script = SCRIPT.replace("model_args.torch_dtype", "'float32'")
    w = _recipe(tmp_path, files={"train.py": script.format(more="", body="")})
    assert w.precision == "fp32" and AMP in _fired(w)


def test_the_scripts_own_autocast_keeps_fp32_as_read(tmp_path: Path) -> None:
    body = "    with torch.autocast('cuda', dtype=torch.bfloat16):\n        pass\n"
    w = _recipe(tmp_path, body=body)
    assert w.precision == "fp32"
    assert any("train.py:20 calls autocast of its own: precision fp32 kept as read" in n for n in w.notes), w.notes


def test_a_deepspeed_file_decides_its_own_dtype(tmp_path: Path) -> None:
    w = _recipe(tmp_path, {"deepspeed": "ds.json"}, files={"ds.json": '{"zero_optimization": {"stage": 2}, "bf16": {"enabled": "auto"}}'})
    assert w.precision == "fp32"


def test_a_quantized_base_is_left_as_read(tmp_path: Path) -> None:
    w = _recipe(tmp_path, more=", load_in_4bit=True")
    assert w.quantization == "4bit" and w.precision == "fp32"


PY = """\
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments
model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B", torch_dtype=torch.bfloat16{more})
model = get_peft_model(model, LoraConfig(r=16))
args = TrainingArguments(output_dir="o", per_device_train_batch_size=4{ta})
Trainer(model=model, args=args).train()
"""


def test_a_python_lora_script_on_bf16_weights_trains_in_pure_bf16(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": PY.format(more="", ta="")})
    w = load_config(root / "train.py").workload
    assert (w.method, w.weight_dtype, w.precision) == ("lora", "bf16", "bf16"), w.sources["precision"]
    assert "`torch_dtype=" in (w.sources["precision"].note or "") and AMP not in _fired(w)


def test_a_python_script_with_bf16_false_and_fp32_weights_keeps_the_finding(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": PY.format(more="", ta=", bf16=False").replace("torch.bfloat16", "torch.float32")})
    w = load_config(root / "train.py").workload
    assert w.precision == "fp32" and AMP in _fired(w)


def test_lora_adapters_over_a_pure_half_base_are_fp32_at_the_newest_peft_and_priced_so(tmp_path: Path) -> None:
    w = _recipe(tmp_path, {"gradient_checkpointing": False})
    assert w.adapter_dtype == "fp32"
    assert any(n.startswith("LoRA adapters in fp32 (assumed: peft is not pinned: its newest release") for n in w.notes), w.notes
    assert memory_gb(w) > memory_gb(w.model_copy(update={"adapter_dtype": None}))
    # an edit that turns on mixed precision puts the adapters under autocast again
    assert adapter_bytes(w) == 4.0 and adapter_bytes(w.model_copy(update={"precision": "fp8"})) is None


def test_an_exact_peft_pin_before_0_12_keeps_the_adapters_in_the_base_dtype(tmp_path: Path) -> None:
    w = _recipe(tmp_path, files={"requirements.txt": "peft==0.11.1\n"})
    assert w.adapter_dtype == "bf16" and any("LoRA adapters in bf16: peft==0.11.1" in n for n in w.notes), w.notes
    w = _recipe(tmp_path / "b", files={"requirements.txt": "peft==0.12.0\n"})
    assert w.adapter_dtype == "fp32"


def test_fp32_adapter_activations_per_peft_forward() -> None:
    """Each adapted linear keeps its own cast copy of its input (with dropout: the dropped copy and its one-byte mask) and
    A's output in the adapters' dtype (peft 0.12.0 peft/tuners/lora/layer.py:553-556)."""
    shape = {"hidden": 4096, "intermediate": 14336, "kv_dim": 1024, "heads": 32, "lora_targets": "all"}
    inputs = 6 * 4096 + 14336
    for dropout, extra in ((0.05, 2 * inputs), (0.0, 4 * inputs - 2 * (4096 + 4096 + 14336))):
        bf16 = layer_activation_bytes(**shape, lora_dropout=dropout)  # type: ignore[arg-type]
        fp32 = layer_activation_bytes(**shape, lora_dropout=dropout, adapter_act=4.0)  # type: ignore[arg-type]
        assert fp32 - bf16 == extra + 2 * 16 * 7, (dropout, fp32 - bf16)
    assert layer_activation_bytes(**shape, adapter_act=2.0) == layer_activation_bytes(**shape)  # type: ignore[arg-type]


def test_a_python_scripts_own_autocast_keeps_fp32_as_read(tmp_path: Path) -> None:
    text = PY.format(more="", ta="").replace(
        "Trainer(model=model, args=args).train()", "with torch.autocast('cuda'):\n    Trainer(model=model, args=args).train()"
    )
    root = repo(tmp_path, {"train.py": text})
    w = load_config(root / "train.py").workload
    assert w.weight_dtype == "bf16" and w.precision == "fp32", w.sources["precision"]
    assert any("train.py:7 calls autocast of its own" in n for n in w.notes), w.notes


def test_a_scripts_own_lora_config_is_not_trls_attention_default(tmp_path: Path) -> None:
    """The recipe names no peft keys; the script builds its own LoraConfig (review11b #29 llm2vec run_mntp.py:96-111,
    all seven projections): TRL ModelConfig's q/v default is not the run's; every linear layer is priced, said."""
    w = _recipe(tmp_path)
    assert w.method == "lora" and w.lora_targets == "all"
    assert "every linear layer assumed" in (w.sources["lora_targets"].note or "")
    trl = _recipe(tmp_path / "trl", changes={"use_peft": True})  # TRL's own ModelConfig: its default stands
    assert trl.lora_targets == "attention"
