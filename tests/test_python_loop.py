"""Python scripts that train in a loop of their own (issue 23 class 1; review4 #28 STAR-1 train/sft.py, #29
HuatuoGPT-o1 SFT_stage1.py): accelerate's Accelerator + prepare, or deepspeed.initialize, read when goblin can
read what matters, else not collected with the missing item named. Small synthetic trees; nothing run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config

from .repo_files import repo

# review4 #28's shape: the model and the micro-batch come from argparse, the launch line passes the model,
# the accelerate config it passes runs ZeRO-3 with parameters and optimizer state on the host
ACCELERATE_LOOP = """\
import argparse
import torch
from torch.utils.data import DataLoader
from accelerate import Accelerator
from transformers import AutoModelForCausalLM, AutoTokenizer


class Data(torch.utils.data.Dataset):
    def __init__(self, config, tokenizer):
        self.max_seq_len = config.max_seq_len


def train(args):
    accelerator = Accelerator(mixed_precision='bf16', gradient_accumulation_steps=args.gradient_accumulation_steps)
    tokenizer = AutoTokenizer.from_pretrained(args.model_path)
    model = AutoModelForCausalLM.from_pretrained(args.model_path)
    model.gradient_checkpointing_enable()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    train_dataloader = DataLoader(Data(args, tokenizer), batch_size=args.train_bsz_per_gpu, shuffle=True)
    model, optimizer, train_dataloader = accelerator.prepare(model, optimizer, train_dataloader)
    for batch in train_dataloader:
        loss = model(**batch).loss
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--model_path', required=True, type=str)
    parser.add_argument('--max_seq_len', default=8192, type=int)
    parser.add_argument('--gradient_accumulation_steps', default=16, type=int)
    parser.add_argument('--train_bsz_per_gpu', default=1, type=int)
    parser.add_argument('--learning_rate', default=1e-5, type=float)
    args = parser.parse_args()
    train(args)
"""
ZERO3_OFFLOAD = """\
compute_environment: LOCAL_MACHINE
deepspeed_config:
  offload_optimizer_device: cpu
  offload_param_device: cpu
  zero3_init_flag: true
  zero_stage: 3
distributed_type: DEEPSPEED
mixed_precision: bf16
num_machines: 1
"""
RUN = """\
accelerate launch --config_file ./configs/deepspeed_zero3.yaml \\
    --num_processes 8 --num_machines 1 \\
    sft.py \\
    --model_path deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B
"""


def _star(tmp_path: Path, script: str = ACCELERATE_LOOP, run: str = RUN, accelerate: str = ZERO3_OFFLOAD) -> Path:
    root = repo(tmp_path, {"train/sft.py": script, "train/configs/deepspeed_zero3.yaml": accelerate, "train/run_sft.sh": run})
    return root / "train" / "sft.py"


def test_an_accelerate_loop_is_read_from_its_dataloader_accelerator_and_launch(tmp_path: Path) -> None:
    w = load_config(_star(tmp_path)).workload
    assert w.model.name == "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B" and w.model.known
    assert (w.micro_batch_size, w.gradient_accumulation, w.seq_len, w.precision) == (1, 16, 8192, "bf16")
    assert w.gradient_checkpointing is True and w.optimizer == "adamw_torch"
    assert (w.strategy, w.zero_stage, w.cpu_offload, w.offload_params, w.world_size) == ("deepspeed", 3, True, True, 8)
    assert (w.dataloader_workers, w.pin_memory, w.save_interval) == (0, False, None)  # torch's DataLoader, no per-step saves
    assert w.framework is not None and "a training loop of its own, accelerate's Accelerator(...) at line 14" in w.framework
    assert w.sources["micro_batch_size"].line == 33 and w.sources["model"].file.endswith("run_sft.sh")
    assert any("`--max_seq_len` option (line 31)" in n for n in w.notes)
    assert (w.sources["sample_packing"].note or "").startswith("the script's loop packs no samples (no packing dataset call read)")


def _audit(path: Path) -> dict:
    from pytest_goblin.cli import main

    out = path.parent / "r.json"
    main(["audit", str(path), "--target", "mi300x", "--json", str(out)])
    return json.loads(out.read_text())["items"][0]["report"]


def test_host_offload_of_a_small_model_in_a_loop_is_found_and_edited_in_the_accelerate_config(tmp_path: Path) -> None:
    report = _audit(_star(tmp_path))
    ids = {f["rule_id"] for f in report["findings"]}
    assert "memory.cpu_offload_when_it_fits" in ids
    others = report["patch"]["other_files"]
    assert [o["path"] for o in others] == ["configs/deepspeed_zero3.yaml"]
    assert others[0]["edits"] == {"deepspeed_config.offload_optimizer_device": "none", "deepspeed_config.offload_param_device": "none"}
    skipped = report["patch"]["skipped"]
    assert "gradient_checkpointing_enable()` at line 17 turns gradient checkpointing on in code" in skipped["memory.disable_checkpointing_when_hbm_free"]
    # collation at 1 x 8192 tokens is under 5% of the projected step: no workers advice (issue 24)
    assert "data.dataloader_workers" not in ids and "data.dataloader_workers" not in skipped


def test_a_loop_setting_is_asked_for_in_the_loops_own_terms(tmp_path: Path) -> None:
    """A micro-batch of 1 that the launch line passes: the raise is said in the loop's own terms (its DataLoader's
    batch_size) and where to change it (the launch line), not as a TrainingArguments key the script never reads."""
    run = RUN.replace("DeepSeek-R1-Distill-Qwen-1.5B", "DeepSeek-R1-Distill-Qwen-1.5B --train_bsz_per_gpu 1 --max_seq_len 256")
    skipped = _audit(_star(tmp_path, run=run))["patch"]["skipped"]
    assert skipped["batch.raise_micro_batch"].startswith("set the training DataLoader's batch_size to ")
    assert "`--train_bsz_per_gpu 1` is passed by train/run_sft.sh line 4" in skipped["batch.raise_micro_batch"]


LENGTH_LOOP = """\
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from transformers import AutoModelForCausalLM, AutoTokenizer

MODEL = "Qwen/Qwen2.5-7B"
accelerator = Accelerator()
tokenizer = AutoTokenizer.from_pretrained(MODEL)
model = AutoModelForCausalLM.from_pretrained(MODEL)
rows = [tokenizer(t, max_length=1024, truncation=True) for t in texts]
loader = DataLoader(rows, batch_size=4, num_workers=2)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)
model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
for step, batch in enumerate(loader):
    loss = model(**batch).loss / 8
    accelerator.backward(loss)
    if (step + 1) % 8 == 0:
        optimizer.step()
        optimizer.zero_grad()
"""
FP16_DDP = "distributed_type: MULTI_GPU\nmixed_precision: fp16\nnum_machines: 1\nnum_processes: 4\n"


def test_a_loop_reads_the_tokenizer_cutoff_a_manual_accumulation_and_the_accelerate_config_precision(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": LENGTH_LOOP, "fp16.yaml": FP16_DDP, "run.sh": "accelerate launch --config_file fp16.yaml train.py\n"})
    w = load_config(root / "train.py").workload
    assert (w.micro_batch_size, w.gradient_accumulation, w.seq_len, w.precision) == (4, 8, 1024, "fp16")
    assert (w.dataloader_workers, w.optimizer, w.world_size, w.strategy) == (2, "adamw_torch_fused", 4, "ddp")
    assert w.sources["precision"].file.endswith("fp16.yaml") and w.sources["precision"].line == 2
    assert any("the optimizer steps under `if (step + 1) % 8 == 0` at line 17" in n for n in w.notes)
    # a literal the DataLoader reads as is may be rewritten; the manual accumulation test and the precision are not
    from pytest_goblin.formats.python import PythonAdapter

    loaded = load_config(root / "train.py")
    text = (root / "train.py").read_text()
    fields = {"micro_batch_size": 8, "gradient_accumulation": 4, "precision": "bf16"}
    new, skipped = PythonAdapter().apply(root / "train.py", text, loaded.data, loaded.workload, fields)
    assert "DataLoader(rows, batch_size=8, num_workers=2)" in new and "% 8 == 0" in new
    assert skipped["gradient_accumulation"].startswith("set the gradient accumulation to 4: the optimizer steps under")
    assert skipped["precision"].startswith("set the mixed precision to bf16: mixed precision is set by `mixed_precision: fp16` in accelerate config fp16.yaml")


DS_LOOP = """\
import argparse
import deepspeed
from torch.utils.data import DataLoader
from transformers import AutoModelForCausalLM

parser = argparse.ArgumentParser()
parser.add_argument('--deepspeed_config', type=str, default='ds_config.json')
parser.add_argument('--max_length', type=int, default=2048)
parser.add_argument('--local_rank', type=int, default=-1)
args = parser.parse_args()
model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")
loader = DataLoader(dataset, batch_size=2)
engine, optimizer, _, _ = deepspeed.initialize(args=args, model=model, model_parameters=model.parameters())
for batch in loader:
    batch = {k: v[:, : args.max_length] for k, v in batch.items()}
    loss = engine(**batch).loss
    engine.backward(loss)
    engine.step()
"""
DS_JSON = {
    "train_micro_batch_size_per_gpu": 2,
    "gradient_accumulation_steps": 4,
    "bf16": {"enabled": True},
    "zero_optimization": {"stage": 3, "offload_optimizer": {"device": "cpu"}, "offload_param": {"device": "cpu"}},
}


def test_a_deepspeed_initialize_loop_reads_the_file_its_args_name(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": DS_LOOP, "ds_config.json": json.dumps(DS_JSON, indent=1), "run.sh": "deepspeed --num_gpus 8 train.py\n"})
    w = load_config(root / "train.py").workload
    assert (w.micro_batch_size, w.gradient_accumulation, w.seq_len, w.precision) == (2, 4, 2048, "bf16")
    assert (w.strategy, w.zero_stage, w.cpu_offload, w.offload_params, w.world_size) == ("deepspeed", 3, True, True, 8)
    assert w.model.name == "meta-llama/Llama-3.1-8B"


# ------------------------------------------------------------------ must not fire
def test_a_loop_whose_model_goblin_cannot_read_stays_not_collected_naming_it(tmp_path: Path) -> None:
    path = _star(tmp_path, run="echo no launch here\n")
    with pytest.raises(NotATrainingConfig) as info:
        load_config(path)
    reason = info.value.reason
    assert "a training loop of its own (accelerate's Accelerator(...) at line 14, prepared at line 20)" in reason
    assert "the model (`args.model_path` given to from_pretrained(...) at line 16 is not read)" in reason
    assert "micro-batch" not in reason.split("it cannot read")[1]  # the rest was read


def test_a_loop_without_a_sequence_length_or_precision_names_both(tmp_path: Path) -> None:
    script = ACCELERATE_LOOP.replace("--max_seq_len", "--seed").replace("mixed_precision='bf16', ", "")
    path = _star(tmp_path, script=script, run=RUN.replace("--config_file ./configs/deepspeed_zero3.yaml ", ""))
    with pytest.raises(NotATrainingConfig) as info:
        load_config(path)
    assert "the sequence length (no tokenizer call with max_length=" in info.value.reason
    assert "the precision (no mixed_precision in the Accelerator call nor in an accelerate config" in info.value.reason


INFERENCE = """\
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from transformers import AutoModelForCausalLM

accelerator = Accelerator(mixed_precision="bf16")
model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct")
loader = DataLoader(prompts, batch_size=16)
model, loader = accelerator.prepare(model, loader)
with torch.no_grad():
    for batch in loader:
        out = model.generate(**batch, max_new_tokens=256)
"""


def test_an_inference_script_with_accelerator_prepare_is_not_a_training_script(tmp_path: Path) -> None:
    root = repo(tmp_path, {"infer.py": INFERENCE})
    with pytest.raises(NotATrainingConfig, match=r"no backward pass \(no `\.backward\(\.\.\.\)` call\): not a training loop \(inference"):
        load_config(root / "infer.py")


def test_a_deepspeed_loop_that_hands_its_dataset_to_initialize_takes_the_files_micro_batch(tmp_path: Path) -> None:
    script = DS_LOOP.replace("loader = DataLoader(dataset, batch_size=2)\n", "").replace(
        "model_parameters=model.parameters())", "model_parameters=model.parameters(), training_data=dataset)"
    )
    script = script.replace("engine, optimizer, _, _ =", "engine, optimizer, loader, _ =")
    ds = {**DS_JSON, "train_micro_batch_size_per_gpu": 3}
    root = repo(tmp_path, {"train.py": script, "ds_config.json": json.dumps(ds), "run.sh": "deepspeed --num_gpus 8 train.py\n"})
    w = load_config(root / "train.py").workload
    assert w.micro_batch_size == 3 and w.sources["micro_batch_size"].file.endswith("ds_config.json")


PLAIN_PYTHON = LENGTH_LOOP.replace("max_length=1024, truncation=True", "truncation=False").replace(
    "for step, batch", "sample = model.generate(max_length=args.max_length)\nfor step, batch"
)


def test_an_accelerator_run_by_plain_python_has_no_mixed_precision_and_a_generation_length_is_no_cutoff(tmp_path: Path) -> None:
    script = "import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--max_length', type=int, default=512)\nargs = parser.parse_args()\n"
    root = repo(tmp_path, {"train.py": script + PLAIN_PYTHON, "run.sh": "python train.py\n"})
    with pytest.raises(NotATrainingConfig) as info:
        load_config(root / "train.py")
    # `--max_length` is read only by generate(): not the training cutoff; the precision was read ("no")
    assert "it cannot read the sequence length" in info.value.reason and "precision" not in info.value.reason.split("it cannot read")[1]
    root2 = repo(tmp_path / "b", {"train.py": LENGTH_LOOP, "run.sh": "python train.py\n"})
    w = load_config(root2 / "train.py").workload
    assert w.precision == "fp32" and "runs it without `accelerate launch`" in (w.sources["precision"].note or "")


def test_a_loop_with_an_optimizer_goblin_does_not_know_says_so(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": LENGTH_LOOP.replace("torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)", "build_optimizer(model)")})
    with pytest.raises(NotATrainingConfig, match=r"calls backward \(line 16\), but builds no optimizer goblin knows"):
        load_config(root / "train.py")


def test_the_loader_the_backward_pass_iterates_is_the_micro_batch_and_unpacked_accelerator_kwargs_are_named(tmp_path: Path) -> None:
    # hw1/multiple_choice.py's shape (Brian-Konr/applied-deep-learning): train and eval loaders both prepared
    script = LENGTH_LOOP.replace(
        "loader = DataLoader(rows, batch_size=4, num_workers=2)\n",
        "loader = DataLoader(rows, batch_size=4, num_workers=2)\nevals = DataLoader(rows, batch_size=32)\n",
    ).replace("accelerator.prepare(model, optimizer, loader)", "accelerator.prepare(model, optimizer, evals, loader)")
    root = repo(tmp_path, {"train.py": script, "fp16.yaml": FP16_DDP, "run.sh": "accelerate launch --config_file fp16.yaml train.py\n"})
    assert load_config(root / "train.py").workload.micro_batch_size == 4
    unpacked = script.replace("accelerator = Accelerator()", "kw = {'mixed_precision': 'bf16'}\naccelerator = Accelerator(**kw)")
    root2 = repo(tmp_path / "b", {"train.py": unpacked, "fp16.yaml": FP16_DDP, "run.sh": "accelerate launch --config_file fp16.yaml train.py\n"})
    with pytest.raises(NotATrainingConfig, match=r"the precision \(Accelerator\(\.\.\.\) at line 8 takes `\*\*kw`, which may set mixed_precision\)"):
        load_config(root2 / "train.py")


def test_a_deepspeed_loop_whose_model_and_config_are_built_by_repository_functions_names_them(tmp_path: Path) -> None:
    """review6b #34 (01-ai/Yi finetune/sft/main.py:233-257, 344): `ds_config = get_train_ds_config(...)` and
    `model = create_hf_model(...)`: the reason names both calls, and the precision is the DeepSpeed config's, not an Accelerator's."""
    script = (
        DS_LOOP.replace(
            'model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")',
            "ds_config = get_train_ds_config(offload=True)\nmodel = create_hf_model(args)",
        )
        .replace("deepspeed.initialize(args=args,", "deepspeed.initialize(config=ds_config,")
        .replace("from transformers import AutoModelForCausalLM", "from utils import create_hf_model, get_train_ds_config")
    )
    root = repo(tmp_path, {"train.py": script, "run.sh": "deepspeed --num_gpus 8 train.py\n"})
    with pytest.raises(NotATrainingConfig) as info:
        load_config(root / "train.py")
    reason = info.value.reason
    assert "the model (the script makes no from_pretrained(...) call: `model = create_hf_model(...)` at line 12 loads it" in reason
    assert "`ds_config` given to deepspeed.initialize(...) at line 14 is a dict `get_train_ds_config(...)` builds at line 11" in reason
    assert "the precision (the DeepSpeed config sets it" in reason and "Accelerator" not in reason and "is not read)" not in reason.split("the model")[1][:80]


# review12b row 23 (eminorhan/frontier-guide 83ceef7 train.py:78, :133-138, :168-170), cut down: a causal-LM loop that
# chunks its text by `--block_size` and builds the model in bf16 on either branch; no launch line of the repository read
FRONTIER = """\
import argparse
import torch
from torch.utils.data import DataLoader
from accelerate import Accelerator
from transformers import AutoConfig, AutoModelForCausalLM

parser = argparse.ArgumentParser()
parser.add_argument('--model_name_or_path', type=str)
parser.add_argument('--block_size', type=int, default=8192)
parser.add_argument('--use_pretrained_weights', action='store_true')
args = parser.parse_args()
block_size = args.block_size
accelerator = Accelerator(gradient_accumulation_steps=1)
config = AutoConfig.from_pretrained(args.model_name_or_path)
if args.model_name_or_path and args.use_pretrained_weights:
    model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path, torch_dtype=torch.bfloat16, config=config)
else:
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.bfloat16)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
train_dataloader = DataLoader(data, batch_size=4)
model, optimizer, train_dataloader = accelerator.prepare(model, optimizer, train_dataloader)
for batch in train_dataloader:
    accelerator.backward(model(**batch).loss)
    optimizer.step()
"""


def test_a_block_size_option_and_a_dtype_on_every_model_build_are_read_and_only_the_model_is_missing(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": FRONTIER})
    with pytest.raises(NotATrainingConfig) as info:
        load_config(root / "train.py")
    missing = info.value.reason.split("it cannot read")[1]
    assert "the model (`args.model_name_or_path` given to from_pretrained(...) at line 16 is not read)" in missing
    assert "sequence length" not in missing and "precision" not in missing
    # with the model as the option's default it is read: 8192 from --block_size, bf16 weights from both builds
    script = FRONTIER.replace("'--model_name_or_path', type=str", "'--model_name_or_path', type=str, default='Qwen/Qwen2.5-0.5B'")
    root2 = repo(tmp_path / "b", {"train.py": script})
    w = load_config(root2 / "train.py").workload
    assert (w.model.name, w.seq_len, w.precision) == ("Qwen/Qwen2.5-0.5B", 8192, "bf16")
    # --use_pretrained_weights is off by default: only the from_config build runs
    assert "weights' dtype torch.bfloat16: `AutoModelForCausalLM.from_config(...)` at line 18 passes torch_dtype=torch.bfloat16" in w.notes


def test_a_dtype_on_one_model_build_only_is_not_read_and_no_launch_is_said_as_such(tmp_path: Path) -> None:
    script = FRONTIER.replace("from_config(config, torch_dtype=torch.bfloat16)", "from_config(config)").replace("--block_size", "--chunk")
    root = repo(tmp_path, {"train.py": script})
    with pytest.raises(NotATrainingConfig) as info:
        load_config(root / "train.py")
    reason = info.value.reason
    assert "nor an option it reads named like a length: --max_seq_len, --block_size, ..." in reason
    assert "the precision (no mixed_precision in the Accelerator call, no launch line of the repository read" in reason
