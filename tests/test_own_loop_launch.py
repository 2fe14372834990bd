"""Own training loops whose values come from a launch line (blind review 12, class C4): review12b #23
eminorhan/frontier-guide (an accelerate loop run by `srun $CMD`, the script named by an absolute path of the cluster
it ran on, a model built with `from_config`, its text grouped into `--block_size` chunks). Small synthetic trees;
nothing run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config

from .repo_files import repo

# frontier-guide train.py's shape (shortened): argparse options, a config loaded from the model id, the model built
# from it with fresh weights, the text joined and cut into block_size chunks, an accelerate loop
GROUPED_LOOP = """\
import argparse
from itertools import chain

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from transformers import AutoConfig, AutoModelForCausalLM, default_data_collator


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_name_or_path", type=str, required=False)
    parser.add_argument("--per_device_train_batch_size", type=int, default=8)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1)
    parser.add_argument("--block_size", type=int, default=1024)
    parser.add_argument("--use_pretrained_weights", action="store_true")
    return parser.parse_args()


def main():
    args = parse_args()
    block_size = args.block_size
    accelerator = Accelerator(gradient_accumulation_steps=args.gradient_accumulation_steps)
    config = AutoConfig.from_pretrained(args.model_name_or_path)
    if args.model_name_or_path and args.use_pretrained_weights:
        model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path, attn_implementation="sdpa", torch_dtype=torch.bfloat16, config=config)
    else:
        model = AutoModelForCausalLM.from_config(config, attn_implementation="flash_attention_2", torch_dtype=torch.bfloat16)
    model.gradient_checkpointing_enable()

    def group(examples):
        joined = {k: list(chain(*examples[k])) for k in examples.keys()}
        total = (len(joined["input_ids"]) // block_size) * block_size
        return {k: [t[i : i + block_size] for i in range(0, total, block_size)] for k, t in joined.items()}

    rows = tokenized.map(group, batched=True)
    train_dataloader = DataLoader(rows, shuffle=True, collate_fn=default_data_collator, batch_size=args.per_device_train_batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    model, optimizer, train_dataloader = accelerator.prepare(model, optimizer, train_dataloader)
    for batch in train_dataloader:
        loss = model(**batch).loss
        accelerator.backward(loss)
        optimizer.step()


if __name__ == "__main__":
    main()
"""

# frontier-guide train.sh:41-70's shape: the command held in variables, the script by a path of the cluster
SLURM = """\
#!/bin/bash
#SBATCH --nodes=2
export GPUS_PER_NODE=8
export LAUNCHER="accelerate launch \\
    --num_processes $((SLURM_NNODES * GPUS_PER_NODE)) \\
    --num_machines $SLURM_NNODES \\
    --mixed_precision bf16 \\
    "
export SCRIPT="{script}"
export SCRIPT_ARGS=" \\
    --model_name_or_path "meta-llama/Meta-Llama-3.1-8B" \\
    --block_size 8192 \\
    --per_device_train_batch_size 4 \\
    "
export CMD="$LAUNCHER $SCRIPT $SCRIPT_ARGS"
srun $CMD
"""
ELSEWHERE = "/lustre/orion/proj/scratch/user/frontier-guide/train.py"


def _tree(tmp_path: Path, script: str = GROUPED_LOOP, where: str = ELSEWHERE, extra: dict[str, str] | None = None) -> Path:
    root = repo(tmp_path, {"train.py": script, "train.sh": SLURM.replace("{script}", where), **(extra or {})})
    return root / "train.py"


def test_a_loop_run_by_a_path_of_another_machine_takes_that_launch_lines_values(tmp_path: Path) -> None:
    w = load_config(_tree(tmp_path)).workload
    assert w.model.name == "meta-llama/Meta-Llama-3.1-8B"
    assert w.sources["model"].file.endswith("train.sh") and w.sources["model"].line == 16
    assert (w.micro_batch_size, w.gradient_accumulation, w.seq_len, w.precision) == (4, 1, 8192, "bf16")
    assert w.sources["micro_batch_size"].file.endswith("train.sh")
    assert (w.nodes, w.gpus_per_node, w.world_size) == (2, 8, 16)
    said = [n for n in w.notes if "from another checkout" in n]
    assert said and f"`{ELSEWHERE}` from another checkout (a path on another machine): train.py" in said[0]


def test_a_model_built_from_config_gives_its_attention_and_dtype(tmp_path: Path) -> None:
    w = load_config(_tree(tmp_path)).workload
    # the from_pretrained under `use_pretrained_weights` (not passed) does not run: from_config's keywords are the run's
    assert w.attention == "flash" and w.sources["attention"].line == 28
    assert w.weight_dtype == "bf16"  # both builds pass torch.bfloat16 (pyloop._built_dtype)
    assert any(n.startswith("attn_implementation='flash_attention_2': `AutoModelForCausalLM.from_config(...)` at line 28") for n in w.notes)


def test_text_grouped_into_option_sized_chunks_is_packed_at_the_launch_lines_size(tmp_path: Path) -> None:
    w = load_config(_tree(tmp_path)).workload
    assert w.sample_packing is True and w.sources["sample_packing"].line == 36
    assert w.seq_len == 8192 and w.sources["seq_len"].file.endswith("train.sh")
    assert any("cuts it into chunks of `block_size` tokens (the `--block_size` option)" in n for n in w.notes)


def test_a_path_of_another_machine_naming_another_file_is_no_launch_of_it(tmp_path: Path) -> None:
    with pytest.raises(NotATrainingConfig, match=r"it cannot read the model \(`args.model_name_or_path` given to from_pretrained"):
        load_config(_tree(tmp_path, where="/lustre/orion/proj/scratch/user/frontier-guide/pretrain.py"))


def test_two_files_of_the_scripts_name_are_not_guessed(tmp_path: Path) -> None:
    with pytest.raises(NotATrainingConfig, match=r"it cannot read the model"):
        load_config(_tree(tmp_path, extra={"old/train.py": GROUPED_LOOP}))


def test_a_model_built_from_config_under_an_unreadable_test_is_not_read(tmp_path: Path) -> None:
    script = GROUPED_LOOP.replace("if args.model_name_or_path and args.use_pretrained_weights:", "if os.environ.get('PRETRAINED'):")
    w = load_config(_tree(tmp_path, script=script)).workload
    assert w.attention != "flash" and not any("builds the model with it" in n for n in w.notes)


# review12b #22 Jack31098/llm_training_demo fsdp/train_fsdp.py's shape (shortened): torch FSDP around the model, no
# accelerate or DeepSpeed, run by torchrun from a launcher whose commented-out flags end in `\`
FSDP_LOOP = """\
import argparse
import os
from functools import partial

import torch
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp.wrap import size_based_auto_wrap_policy
from torch.utils.data import DataLoader
from transformers import AutoModelForCausalLM


def train(args):
    dtype = torch.bfloat16 if args.bf16 else torch.float32
    model = AutoModelForCausalLM.from_pretrained({model}, dtype=dtype)
    mp_policy = None
    model = FSDP(model, auto_wrap_policy=partial(size_based_auto_wrap_policy, min_num_params=10**7), mixed_precision=mp_policy{extra})
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    rows = [tokenizer(t, max_length=args.seq_len, truncation=True) for t in texts]
    {loader}
    for step, batch in enumerate(loader):
        loss = model(**batch).loss / args.grad_accum_steps
        loss.backward()
        if (step + 1) % args.grad_accum_steps == 0:
            opt.step()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--model_name_or_path", type=str, required=True)
    p.add_argument("--seq_len", type=int, default=1024)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--micro_batch_size", type=int, default=1)
    p.add_argument("--grad_accum_steps", type=int, default=1)
    p.add_argument("--lr", type=float, default=0)
    train(p.parse_args())
"""
FSDP_RUN = """\
cd "$(dirname "$0")"
export HIP_VISIBLE_DEVICES=0,1

#  --pack_sequences \\
#     --bf16 \\
torchrun --nproc_per_node=2 train_fsdp.py \\
  --model_name_or_path Qwen/Qwen3-0.6B-Base \\
  --seq_len 512 --lr 1e-5 \\
  --bf16 \\
  --micro_batch_size 16 --grad_accum_steps 2
"""
DATALOADER = "loader = DataLoader(rows, batch_size=args.micro_batch_size)"
BY_HAND = "loader = [rows[i : i + args.micro_batch_size] for i in range(0, len(rows), args.micro_batch_size)]"


def _fsdp(tmp_path: Path, model: str = "args.model_name_or_path", loader: str = DATALOADER, extra: str = "") -> Path:
    script = FSDP_LOOP.replace("{model}", model).replace("{loader}", loader).replace("{extra}", extra)
    root = repo(tmp_path, {"fsdp/train_fsdp.py": script, "fsdp/launch_fsdp.sh": FSDP_RUN})
    return root / "fsdp" / "train_fsdp.py"


def test_a_torch_fsdp_loop_is_read_from_its_launch_line_and_fsdp_call(tmp_path: Path) -> None:
    w = load_config(_fsdp(tmp_path)).workload
    assert w.model.name == "Qwen/Qwen3-0.6B-Base" and w.sources["model"].file.endswith("launch_fsdp.sh")
    assert (w.micro_batch_size, w.gradient_accumulation, w.seq_len) == (16, 2, 512)
    assert w.sources["micro_batch_size"].line == 10 and w.sources["seq_len"].line == 8
    assert w.weight_dtype == "bf16" and w.sources["weight_dtype"].line == 14
    assert (w.strategy, w.sharding, w.world_size) == ("fsdp", "full", 2)
    assert w.sources["strategy"].line == 16 or w.sources["sharding"].line == 16
    assert any(n.startswith("FSDP full_shard: `FSDP(...)` at line 16 passes no sharding_strategy (FULL_SHARD)") for n in w.notes)
    assert w.framework is not None and "a torch FSDP loop: `FSDP(...)` at line 16 wraps the model itself" in w.framework


def test_a_commented_flag_ending_in_a_backslash_continues_nothing(tmp_path: Path) -> None:
    """bash(1) COMMENTS: the comment runs to the end of its line, `\\` included; the torchrun line is read."""
    from pytest_goblin.formats.launchers import find_script_launch

    launch = find_script_launch(_fsdp(tmp_path))
    assert launch is not None and launch.line == 6
    assert ("--pack_sequences", None) not in {(f, v) for f, v, _ in launch.flags}


def test_a_torch_fsdp_loop_that_batches_by_hand_is_not_collected_and_says_why(tmp_path: Path) -> None:
    with pytest.raises(NotATrainingConfig) as info:
        load_config(_fsdp(tmp_path, loader=BY_HAND))
    reason = info.value.reason
    assert reason.startswith("a training loop of its own (a torch FSDP loop: `FSDP(...)` at line 16 wraps the model itself, with no accelerate or DeepSpeed)")
    assert reason.endswith("it cannot read the micro-batch (no DataLoader(...) call in the script: it builds its batches in code goblin does not follow)")


def test_a_torch_fsdp_loop_whose_model_comes_from_the_environment_is_not_collected(tmp_path: Path) -> None:
    with pytest.raises(NotATrainingConfig, match=r"it cannot read the model \(`os.environ\['MODEL'\]` given to from_pretrained\(\.\.\.\) at line 14"):
        load_config(_fsdp(tmp_path, model="os.environ['MODEL']"))


def test_a_torch_fsdp_mixed_precision_policy_is_not_guessed(tmp_path: Path) -> None:
    extra = ", sharding_strategy=ShardingStrategy.SHARD_GRAD_OP"
    w = load_config(_fsdp(tmp_path, extra=extra)).workload
    assert w.sharding == "grad_op"
    script = _fsdp(tmp_path / "b")
    script.write_text(script.read_text().replace("mixed_precision=mp_policy", "mixed_precision=MixedPrecision(param_dtype=torch.bfloat16)"))
    with pytest.raises(
        NotATrainingConfig, match=r"it cannot read the sharding \(`mixed_precision=MixedPrecision\(param_dtype=torch.bfloat16\)` of `FSDP\(\.\.\.\)`"
    ):
        load_config(script)


# review12b #26 Scicom small-ablation malaysian-sft/lora-llama3.py's shape (shortened): an HfArgumentParser script whose
# data class has `block_size`, a collator defined inside main() that joins multipacked rows, the Trainer given it
NESTED_COLLATOR = """\
from dataclasses import dataclass, field
from typing import Optional

import torch
from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments


@dataclass
class DataArguments:
    train_file: Optional[str] = field(default=None)
    block_size: Optional[int] = field(default=None)


def main():
    data_args, training_args = HfArgumentParser((DataArguments, TrainingArguments)).parse_args_into_dataclasses()
    sequence_length = data_args.block_size
    model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B", torch_dtype=torch.bfloat16)

    def collator(batch):
        batch = [b for b in batch if b is not None and b["lengths"].max() < sequence_length]
        return {"input_ids": torch.cat([b["input_ids"] for b in batch])[None]}

    Trainer(model=model, args=training_args, train_dataset=rows, data_collator=collator).train()


if __name__ == "__main__":
    main()
"""
NESTED_RUN = """\
torchrun --nproc_per_node 8 train.py \\
  --output_dir out --bf16 \\
  --per_device_train_batch_size 1 \\
  --gradient_accumulation_steps 4 \\
  --train_file multipacking{length}
"""


def _nested(tmp_path: Path, length: str = " \\\n  --block_size 16384") -> Path:
    root = repo(tmp_path, {"train.py": NESTED_COLLATOR, "run.sh": NESTED_RUN.replace("{length}", length)})
    return root / "train.py"


def test_a_collator_defined_inside_main_is_the_scripts_own(tmp_path: Path) -> None:
    w = load_config(_nested(tmp_path)).workload
    assert w.packing_blocked is not None and "train.py line 23 passes Trainer a collator of the repository's own (`collator`" in w.packing_blocked
    assert "its default collator pads each batch" not in (w.sources["sample_packing"].note or "")


def test_a_length_option_the_launch_line_passes_is_the_sequence_length(tmp_path: Path) -> None:
    w = load_config(_nested(tmp_path)).workload
    assert w.seq_len == 16384 and w.sources["seq_len"].file.endswith("run.sh") and w.sources["seq_len"].line == 6
    assert any(n.startswith("seq_len 16384: `--block_size`, passed by the launch line and read by the script") for n in w.notes)


def test_a_length_option_left_at_its_default_is_not_taken(tmp_path: Path) -> None:
    """Must not fire: the launch line passes no --block_size (its default None), so the length stays TrainingArguments'
    stated assumption."""
    w = load_config(_nested(tmp_path, length="")).workload
    assert w.seq_len != 16384 and not any("read from its name" in n for n in w.notes)
