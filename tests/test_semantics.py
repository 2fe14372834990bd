"""Precision, defaults and world size as each framework runs them (pytest_goblin/formats/semantics.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.formats.record import parse_record
from pytest_goblin.formats.semantics import with_world_size
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import build_patch


def _load(tmp_path: Path, name: str, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text)
    return load_config(path)


TRL = "model_name_or_path: Qwen/Qwen2.5-1.5B\ndataset_name: trl-lib/Capybara\nlearning_rate: 2.0e-5\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 8\n"


def test_trl_recipe_without_bf16_runs_bf16_with_checkpointing(tmp_path: Path) -> None:
    w = _load(tmp_path, "sft.yaml", TRL).workload
    assert w.precision == "bf16" and w.gradient_checkpointing is True
    assert "base_config.py" in (w.sources["precision"].note or "") and w.framework and w.framework.startswith("trl ")
    w16 = _load(tmp_path, "fp16.yaml", TRL + "fp16: true\n").workload
    assert w16.precision == "fp16"
    off = _load(tmp_path, "off.yaml", TRL + "bf16: false\n").workload
    assert off.precision == "fp32"


def test_trl_without_bf16_gets_no_precision_finding(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "sft.yaml", TRL)
    ids = {r.id for r in kb.applicable(loaded.workload, get_hardware("mi300x"), kb.cached_rules())}
    assert "precision.bf16_amp_over_fp32" not in ids


LF_FULL = "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: {ft}\ndataset: identity\ntemplate: llama3\ncutoff_len: 2048\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 8\n"


def test_llamafactory_precision_follows_upcast_and_checkpoint_dtype(tmp_path: Path) -> None:
    full = _load(tmp_path, "full.yaml", LF_FULL.format(ft="full")).workload
    assert full.precision == "fp32" and full.weight_dtype == "fp32"
    lora = _load(tmp_path, "lora.yaml", LF_FULL.format(ft="lora")).workload
    assert lora.precision == "bf16" and lora.weight_dtype == "bf16"
    pure = _load(tmp_path, "pure.yaml", LF_FULL.format(ft="full") + "pure_bf16: true\n").workload
    assert pure.precision == "bf16" and pure.weight_dtype == "bf16"


def test_real_fp32_full_finetune_of_8b_fails_on_mi300x(tmp_path: Path) -> None:
    from pytest_goblin.costmodel import sensitivity
    from pytest_goblin.settings import Settings
    from pytest_goblin.stats import decide

    loaded = _load(tmp_path, "full.yaml", LF_FULL.format(ft="full"))
    hw = get_hardware("mi300x")
    rules = [r for r in kb.applicable(loaded.workload, hw, kb.cached_rules()) if not r.footgun]
    assert "precision.bf16_amp_over_fp32" in {r.id for r in rules}
    patch = build_patch(loaded, rules, hw, "p1")
    assert patch.new_workload.precision == "bf16" and "bf16: true" in patch.diff
    point, low, high = sensitivity(loaded.workload, patch.new_workload, hw)
    s = Settings()
    from pytest_goblin.schemas import Speedup

    verdict, _ = decide(Speedup(point=point, low=low, high=high, method="projection"), fail_at=s.fail_at, warn_at=s.warn_at)
    assert verdict == "fail"


V1 = "model: Qwen/Qwen3-0.6B\ntrain_dataset: data/v1_sft_demo.yaml\nmicro_batch_size: 1\nglobal_batch_size: 16\ncutoff_len: 2048\n"


def test_llamafactory_v1_defaults_and_only_v1_keys_in_patches(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "v1.yaml", V1)
    w = loaded.workload
    assert w.precision == "bf16" and w.gradient_checkpointing is True and w.dataloader_workers == 16
    assert "v1" in (w.framework or "")
    hw = get_hardware("mi300x")
    rules = [r for r in kb.applicable(w, hw, kb.cached_rules()) if not r.footgun]
    patch = build_patch(loaded, rules, hw, "p1")
    for bad in ("optim:", "torch_compile:", "enable_liger_kernel:", "dataloader_num_workers:", "gradient_checkpointing:"):
        assert f"+{bad}" not in patch.diff, bad


def test_llamafactory_v1_optim_config_names_the_optimizer(tmp_path: Path) -> None:
    w = _load(tmp_path, "v1.yaml", V1 + "optim_config:\n  name: muon\n").workload
    assert w.optimizer == "muon"


AXO = "base_model: meta-llama/Meta-Llama-3-8B\ndatasets:\n  - path: tatsu-lab/alpaca\n    type: alpaca\nsequence_len: 2048\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\n"


def test_axolotl_bf16_auto_and_dataloader_defaults(tmp_path: Path) -> None:
    w = _load(tmp_path, "a.yml", AXO).workload
    assert w.precision == "bf16" and w.weight_dtype == "bf16"
    assert w.dataloader_workers >= 1 and "config.py:2132" in (w.sources["dataloader_workers"].note or "")
    ids = {r.id for r in kb.applicable(w, get_hardware("mi300x"), kb.cached_rules())}
    assert "data.dataloader_workers" not in ids
    fp16 = _load(tmp_path, "b.yml", AXO + "fp16: true\n").workload
    assert fp16.precision == "fp16"


def test_world_size_from_comments_and_override(tmp_path: Path) -> None:
    w = _load(tmp_path, "sft.yaml", "# accelerate launch --num_processes 8 sft.py --config sft.yaml\n" + TRL).workload
    assert w.world_size == 8 and w.strategy == "ddp" and w.sources["world_size"].line == 1
    plain = _load(tmp_path, "one.yaml", TRL).workload
    assert plain.world_size == 1 and not plain.sources["world_size"].explicit
    stated = with_world_size(plain, 4)
    assert stated.world_size == 4 and stated.strategy == "ddp" and stated.sources["world_size"].explicit
    assert with_world_size(plain, None) is plain


def test_sharded_config_without_a_count_assumes_one_node_and_says_so(tmp_path: Path) -> None:
    w = _load(tmp_path, "z3.yaml", TRL + "deepspeed: configs/zero3.json\n").workload
    assert w.strategy == "deepspeed" and w.world_size == 8
    assert "assumed 8" in (w.sources["world_size"].note or "")


def test_python_script_model_kwarg_and_local_variable(tmp_path: Path) -> None:
    text = (
        "from trl import GRPOConfig, GRPOTrainer\n\ndef main():\n    model_id = 'Qwen/Qwen2.5-7B-Instruct'\n"
        "    args = GRPOConfig(output_dir='o', per_device_train_batch_size=4)\n    GRPOTrainer(model=model_id, args=args)\n"
    )
    w = _load(tmp_path, "train.py", text).workload
    assert w.model.params_b is not None and w.precision == "bf16" and "GRPOConfig" in (w.framework or "")
    plain = "from transformers import TrainingArguments\nargs = TrainingArguments(output_dir='o')\n"
    wp = _load(tmp_path, "plain.py", plain).workload
    assert wp.precision == "fp32" and wp.gradient_checkpointing is False


@pytest.mark.parametrize("name", ["sft.yaml"])
def test_parse_json_names_framework_versions_in_defaults(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(TRL)
    record, ok = parse_record(path)
    assert ok and record["framework"].startswith("trl ")
    for key, src in record["sources"].items():
        if not src["explicit"] and key != "model":
            assert any(ch.isdigit() for ch in (src["note"] or "")), (key, src["note"])
    json.dumps(record)


def test_axolotl_float16_without_amp_is_pure_fp16(tmp_path: Path) -> None:
    w = _load(tmp_path, "f.yml", AXO + "bf16: false\nfp16: false\nfloat16: true\n").workload
    assert w.precision == "fp16" and w.weight_dtype == "fp16" and w.sources["precision"].key == "float16"


@pytest.mark.parametrize("packing", [True, False])
@pytest.mark.parametrize("env", [{}, {"PYTORCH_TUNABLEOP_ENABLED": "1"}, {"PYTORCH_TUNABLEOP_ENABLED": "1", "PYTORCH_TUNABLEOP_TUNING": "0"}])
def test_tunableop_advice_never_contradicts_itself(tmp_path: Path, packing: bool, env: dict[str, str]) -> None:
    w = _load(tmp_path, "sft.yaml", TRL).workload.model_copy(update={"sample_packing": packing, "env": env})
    ids = {r.id for r in kb.applicable(w, get_hardware("mi300x"), kb.cached_rules())}
    assert "gemm.tunableop" not in ids  # dropped (issue 24): no sourced gain where the config leaves it unset
    assert ("gemm.tunableop_tuning_left_on" in ids) == (not packing and env == {"PYTORCH_TUNABLEOP_ENABLED": "1"})


# ---- misreads found by the second blind review (docs/kb-coverage.md)
RLOO_SCRIPT = """import torch
from trl import RLOOConfig, RLOOTrainer

def main():
    training_args = RLOOConfig(
        output_dir="Qwen3-0.6B-RLOO",
        model_init_kwargs={"dtype": torch.bfloat16},
        gradient_accumulation_steps=2,
    )
    trainer = RLOOTrainer(model="Qwen/Qwen3-0.6B", args=training_args)
"""


def test_model_init_kwargs_dtype_in_a_script_and_a_recipe(tmp_path: Path) -> None:
    """TRL examples/scripts/rloo.py (f2cd5771) loads the model through model_init_kwargs={"dtype": torch.bfloat16}."""
    w = _load(tmp_path, "rloo.py", RLOO_SCRIPT).workload
    assert w.weight_dtype == "bf16" and w.sources["weight_dtype"].key == "model_init_kwargs.dtype" and w.sources["weight_dtype"].line == 7
    w = _load(tmp_path, "sft.yaml", TRL + "model_init_kwargs:\n  dtype: bfloat16\n  attn_implementation: kernels-community/flash-attn2\n").workload
    assert w.weight_dtype == "bf16" and w.attention == "flash" and w.sources["attention"].key == "model_init_kwargs.attn_implementation"


@pytest.mark.parametrize(
    ("value", "attention"),
    [("kernels-community/flash-attn2", "flash"), ("kernels-community/vllm-flash-attn3@v1", "flash"), ("kernels-community/paged-attention", "sdpa")],
)
def test_hub_kernel_attention_is_not_eager(tmp_path: Path, value: str, attention: str) -> None:
    w = _load(tmp_path, "sft.yaml", TRL + f"attn_implementation: {value}\n").workload
    assert w.attention == attention


def test_use_flash_attention_2_is_flash_attention(tmp_path: Path) -> None:
    """transformers 4.x's flag (4.36.2 modeling_utils.py:1227, 1269), in old recipes and scripts."""
    assert _load(tmp_path, "sft.yaml", TRL + "use_flash_attention_2: true\n").workload.attention == "flash"
    script = (
        "import torch\nfrom transformers import AutoModelForCausalLM\nfrom trl import SFTConfig\n"
        'model = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", torch_dtype=torch.bfloat16, use_flash_attention_2=True)\n'
        'args = SFTConfig(output_dir="o", per_device_train_batch_size=2)\n'
    )
    w = _load(tmp_path, "train.py", script).workload
    assert w.attention == "flash" and w.sources["attention"].line == 4


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # LLaMA-Factory examples/train_qlora/llama3_lora_sft_awq.yaml (ff6d4d12), trimmed
        (
            "awq.yaml",
            "model_name_or_path: TechxGenus/Meta-Llama-3-8B-Instruct-AWQ\nstage: sft\ndo_train: true\nfinetuning_type: lora\nbf16: true\ncutoff_len: 2048\n",
        ),
        ("gptq.yaml", TRL.replace("Qwen/Qwen2.5-1.5B", "Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4") + "use_peft: true\n"),
        ("ax.yml", "base_model: TheBloke/Llama-2-7B-fp16\ngptq: true\nadapter: lora\nmicro_batch_size: 1\nsequence_len: 2048\n"),
    ],
)
def test_gptq_awq_checkpoints_are_quantized_not_bitsandbytes(tmp_path: Path, name: str, text: str) -> None:
    loaded = _load(tmp_path, name, text)
    w = loaded.workload
    assert w.quantization == "4bit" and w.prequantized in ("gptq", "awq") and w.method == "qlora"
    fired = {r.id for r in kb.applicable(w, get_hardware("mi300x"), kb.cached_rules())}
    assert "quant.bitsandbytes_rocm_build" not in fired and "quant.lora_over_qlora_when_bf16_fits" not in fired


@pytest.mark.parametrize(
    "comment",
    [
        "# nnodes 2 × nproc_per_node 8\n",
        "# tune run --nnodes 2 --nproc_per_node 8 full_finetune_distributed --config llama3_1/70B_full\n",
        "# FORCE_TORCHRUN=1 NNODES=2 NODE_RANK=0 NPROC_PER_NODE=8 llamafactory-cli train sft.yaml\n",
        "# torchrun --nnodes=2 \\\n#   --nproc_per_node=8 sft.py --config sft.yaml\n",
    ],
)
def test_world_size_multiplies_nodes_by_processes_per_node(tmp_path: Path, comment: str) -> None:
    w = _load(tmp_path, "sft.yaml", comment + TRL).workload
    assert w.world_size == 16 and w.sources["world_size"].explicit


def test_goblin_parse_applies_world_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_goblin.cli import main

    path = tmp_path / "sft.yaml"
    path.write_text(TRL)
    assert main(["parse", "--json", "--world-size", "4", str(path)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["world_size"] == 4 and record["strategy"] == "ddp" and "--world-size=4" in record["sources"]["world_size"]["note"]
    assert main(["parse", "--world-size", "4", str(path)]) == 0
    assert "world_size = 4" in capsys.readouterr().out
