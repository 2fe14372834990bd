"""Token lengths that are the config's own (review4 class 3): a TRL GRPO config's sequence is prompt + completion."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

GRPO = (
    "model_name_or_path: Qwen/Qwen2.5-0.5B-Instruct\nbf16: true\nuse_vllm: true\nnum_generations: 6\n"
    "per_device_train_batch_size: 6\ngradient_accumulation_steps: 4\nlearning_rate: 1.0e-6\nmax_prompt_length: 512\nmax_completion_length: 3584\n"
)


def test_grpo_sequence_is_the_configs_prompt_plus_completion(tmp_path: Path) -> None:
    path = tmp_path / "grpo.yaml"
    path.write_text(GRPO)
    w = load_config(path).workload
    assert w.framework is not None and "GRPOConfig" in w.framework
    assert w.seq_len == 512 + 3584
    note = w.sources["seq_len"].note or ""
    assert "max_prompt_length 512 (line 8)" in note and "max_completion_length 3584 (line 9)" in note
    assert "SFTConfig" not in note and "None" not in note


def test_grpo_completion_alone_takes_the_prompt_default_at_the_pinned_release(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("trl==0.17.0\n")
    path = tmp_path / "grpo.yaml"
    path.write_text(GRPO.replace("max_prompt_length: 512\n", "").replace("3584", "1024"))
    w = load_config(path).workload
    note = w.sources["seq_len"].note or ""
    assert w.seq_len == 512 + 1024, note  # trl 0.17.0 GRPOConfig.max_prompt_length default 512
    assert "max_prompt_length unset: 512" in note and "0.17.0" in note


def test_sft_config_max_length_default_is_not_touched(tmp_path: Path) -> None:
    # must not fire: an SFT recipe (no generation key) keeps SFTConfig's max_length
    path = tmp_path / "sft.yaml"
    path.write_text("model_name_or_path: Qwen/Qwen2.5-0.5B-Instruct\nbf16: true\nper_device_train_batch_size: 4\nlearning_rate: 1.0e-5\npacking: false\n")
    w = load_config(path).workload
    assert w.seq_len == 1024 and "max_prompt_length" not in (w.sources["seq_len"].note or "")


def test_grpo_config_that_sets_max_length_keeps_it(tmp_path: Path) -> None:
    # must not fire: a length the config states itself wins
    path = tmp_path / "grpo.yaml"
    path.write_text(GRPO + "max_length: 2048\n")
    w = load_config(path).workload
    assert w.seq_len == 2048 and w.sources["seq_len"].explicit


def test_grpo_without_length_keys_takes_the_release_defaults_not_sft_max_length(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("trl==0.17.0\n")
    path = tmp_path / "grpo.yaml"
    path.write_text(GRPO.replace("max_prompt_length: 512\nmax_completion_length: 3584\n", ""))
    w = load_config(path).workload
    note = w.sources["seq_len"].note or ""
    assert w.seq_len == 512 + 256, note  # trl 0.17.0 grpo_config.py:201-202 and :214-215 defaults
    assert "max_completion_length unset: 256" in note and "SFTConfig" not in note


PACKED_SCRIPT = """import argparse
from transformers import Trainer, TrainingArguments

parser = argparse.ArgumentParser()
parser.add_argument("--seq_length", type=int, default=2048)
parser.add_argument("--batch_size", type=int, default=1)
args = parser.parse_args()
train = ConstantLengthDataset(tokenizer, data, seq_length=args.seq_length)
training_args = TrainingArguments(output_dir="out", per_device_train_batch_size=args.batch_size, bf16=True)
model = AutoModelForCausalLM.from_pretrained("bigcode/starcoderbase-1b")
Trainer(model=model, args=training_args, train_dataset=train).train()
"""


def test_a_packing_dataset_call_sets_the_scripts_sequence_length_from_its_argparse_default(tmp_path: Path) -> None:
    path = tmp_path / "finetune.py"
    path.write_text(PACKED_SCRIPT)
    w = load_config(path).workload
    assert w.sample_packing is True
    assert w.seq_len == 2048  # the argparse default of --seq_length (line 5), not the assumed 1024
    assert w.sources["seq_len"].line == 5, w.sources["seq_len"]


def test_a_packing_call_without_a_readable_length_keeps_the_assumed_one(tmp_path: Path) -> None:
    # must not fire: a computed seq_length is not read
    path = tmp_path / "finetune.py"
    path.write_text(PACKED_SCRIPT.replace("seq_length=args.seq_length", "seq_length=compute()"))
    w = load_config(path).workload
    assert w.sample_packing is True and w.seq_len == 1024
    assert not w.sources["seq_len"].explicit
