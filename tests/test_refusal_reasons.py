"""Scripts goblin refused with reasons that were false (blind review 15b, class 1). Each is now read, or refused with the
true reason: a TRL parser given a tuple bound to a name (kaiwo dpo-singlenode/dpo.py:120,124), an optimizer class picked
by a conditional expression (kaiwo full-param-zero3-single-multinode/main.py:388-396), a launcher that runs its script
as `-m module` (malaya-speech session/llama3-tts/300M.sh:5), and a launch line whose config file does not exist (a path
a `cd` broke, RPO run_grpo.sh:9-12; a `recipes/xxxx.yaml` placeholder, drpo-align train.sh:3-5). Small fixture
repositories; nothing is executed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config
from pytest_goblin.service import check_config

from .repo_files import repo


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# ------------------------------------------------------------------ 1. a parser given a tuple bound to a name
DPO = """\
import argparse

import torch
from transformers import AutoModelForCausalLM
from trl import DPOConfig, DPOTrainer, ModelConfig, ScriptArguments, TrlParser


def main(script_args, training_args, model_args):
    model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)
    trainer = DPOTrainer(model, None, args=training_args)
    trainer.train()


def make_parser(subparsers: argparse._SubParsersAction = None):
    dataclass_types = (ScriptArguments, DPOConfig, ModelConfig)
{rebind}    if subparsers is not None:
        parser = subparsers.add_parser("dpo", help="Run DPO", dataclass_types=dataclass_types)
    else:
        parser = TrlParser(dataclass_types)
    return parser


if __name__ == "__main__":
    torch.autograd.set_detect_anomaly(True)
    parser = make_parser()
    script_args, training_args, model_args = parser.parse_args_and_config()
    main(script_args, training_args, model_args)
"""
DPO_RUN = (
    "accelerate launch --num_processes 4 dpo.py --dataset_name trl-lib/ultrafeedback_binarized"
    " --model_name_or_path Qwen/Qwen2-0.5B-Instruct --per_device_train_batch_size 8 --output_dir out --bf16\n"
)


def test_a_trl_parser_given_a_tuple_bound_to_a_name_reads_its_config(tmp_path: Path) -> None:
    root = repo(tmp_path, {"dpo.py": DPO.format(rebind=""), "run.sh": DPO_RUN})
    w = load_config(root / "dpo.py").workload
    assert "DPOConfig" in w.framework and (w.micro_batch_size, w.world_size, w.precision) == (8, 4, "bf16")
    # what the refused script hid: anomaly detection left on at `__main__` (debug.mode_left_on's fact)
    assert len(w.debug_modes) == 1 and w.debug_modes[0].startswith("`torch.autograd.set_detect_anomaly(True)` at line 24")


def test_a_name_bound_twice_is_said_as_unread_not_as_no_training_config(tmp_path: Path) -> None:
    rebind = "    if subparsers:\n        dataclass_types = (ScriptArguments, ModelConfig)\n"
    root = repo(tmp_path, {"dpo.py": DPO.format(rebind=rebind), "run.sh": DPO_RUN})
    with pytest.raises(NotATrainingConfig) as got:
        load_config(root / "dpo.py")
    assert "parses `dataclass_types`, bound at lines 15, 17, which goblin does not read as one tuple or list of classes" in got.value.reason
    assert "none of them TrainingArguments" not in got.value.reason


def test_a_name_the_function_is_given_is_not_taken_from_the_module(tmp_path: Path) -> None:
    text = (
        "from trl import DPOConfig, ModelConfig, TrlParser\n"
        "dataclass_types = (DPOConfig, ModelConfig)\n"
        "def make_parser(dataclass_types):\n"
        "    return TrlParser(dataclass_types)\n"
    )
    root = repo(tmp_path, {"x.py": text})
    with pytest.raises(NotATrainingConfig, match=r"parses `dataclass_types`, bound at line 2, which goblin does not read"):
        load_config(root / "x.py")


# ------------------------------------------------------------------ 2. an optimizer class picked by a conditional
LOOP = """\
import argparse

import torch
from accelerate import Accelerator
from accelerate.utils import DummyOptim
from torch.utils.data import DataLoader
from transformers import AutoModelForCausalLM

p = argparse.ArgumentParser()
p.add_argument("--optim", type=str, default="adamw")
p.add_argument("--model", type=str)
p.add_argument("--max-length", type=int, default=2048)
args = p.parse_args()
accelerator = Accelerator(gradient_accumulation_steps=4, mixed_precision="bf16")
model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.bfloat16)
rows = [tok(t, max_length=args.max_length, truncation=True) for t in texts]
loader = DataLoader(rows, batch_size=2)
optimizer_cls = (
    {arm} if {test} else DummyOptim
)
optimizer = optimizer_cls(model.parameters(), lr=1e-5)
model, optimizer = accelerator.prepare(model, optimizer)
for step, batch in enumerate(loader):
    with accelerator.accumulate(model):
        loss = model(**batch).loss
        accelerator.backward(loss)
        optimizer.step()
"""
ACCEL = "distributed_type: DEEPSPEED\ndeepspeed_config:\n  deepspeed_config_file: zero3.json\nnum_machines: 1\nnum_processes: 8\n"
ZERO3 = {"bf16": {"enabled": "auto"}, "zero_optimization": {"stage": 3}}
ADAMW = {"type": "AdamW", "params": {"lr": "auto"}}


def _loop(tmp_path: Path, *, arm: str = "torch.optim.AdamW", test: str = 'args.optim == "adamw"', flags: str = "", block: bool = False) -> Path:
    # kaiwo's zero_3_offload_optim_param.json has no "optimizer" block: the torch class is the one that runs
    ds = {**ZERO3, **({"optimizer": ADAMW} if block else {})}
    return repo(
        tmp_path,
        {
            "train.py": LOOP.format(arm=arm, test=test),
            "accel.yaml": ACCEL,
            "zero3.json": json.dumps(ds),
            "run.sh": f"accelerate launch --config_file accel.yaml train.py --model Qwen/Qwen2-7B-Instruct{flags}\n",
        },
    )


def test_the_optimizer_class_a_conditional_picks_is_read(tmp_path: Path) -> None:
    w = load_config(_loop(tmp_path) / "train.py").workload
    assert w.optimizer == "adamw_torch" and w.sources["optimizer"].line == 21
    assert (w.micro_batch_size, w.gradient_accumulation, w.seq_len, w.world_size) == (2, 4, 2048, 8)


def test_the_dummy_arm_the_launch_line_picks_is_deepspeeds_optimizer(tmp_path: Path) -> None:
    w = load_config(_loop(tmp_path, flags=" --optim deepspeed", block=True) / "train.py").workload
    assert w.optimizer.startswith("deepspeed:")
    assert any("`optimizer_cls(...)` at line 21 (the `DummyOptim` class" in n and "accelerate's placeholder" in n for n in w.notes)


def test_a_test_goblin_cannot_evaluate_names_both_classes_and_reads_the_rest(tmp_path: Path) -> None:
    # kaiwo main.py:388-393: `torch.optim.AdamW if accelerator.state.deepspeed_plugin is None or ... else DummyOptim`
    test = 'accelerator.state.deepspeed_plugin is None or "optimizer" not in accelerator.state.deepspeed_plugin.deepspeed_config'
    w = load_config(_loop(tmp_path, test=test) / "train.py").workload
    assert (w.micro_batch_size, w.gradient_accumulation, w.seq_len) == (2, 4, 2048)
    note = next(n for n in w.notes if "the optimizer `optimizer_cls(...)` at line 21 builds is" in n)
    assert "`torch.optim.AdamW` or `DummyOptim`" in note and "a test goblin does not evaluate" in note
    src = w.sources["optimizer"]
    assert src.unread and not src.explicit and "no rule judges it" in (src.note or "") and "sets none" not in (src.note or "")


def test_a_conditional_with_an_arm_goblin_does_not_know_still_builds_no_optimizer_goblin_knows(tmp_path: Path) -> None:
    with pytest.raises(NotATrainingConfig, match="builds no optimizer goblin knows"):
        load_config(_loop(tmp_path, arm="build_optimizer") / "train.py")


# ------------------------------------------------------------------ 3. a launcher that runs its script as `-m module`
HF_SCRIPT = """\
from dataclasses import dataclass, field

from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default=None)


parser = HfArgumentParser((ModelArguments, TrainingArguments))
model_args, training_args = parser.parse_args_into_dataclasses()
model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)
Trainer(model=model, args=training_args).train()
"""


def test_a_launcher_that_runs_a_module_of_its_folder_is_read(tmp_path: Path) -> None:
    run = "CUDA_VISIBLE_DEVICES=0 torchrun --nproc_per_node 1 \\\n-m train_multipacking \\\n--model_name_or_path Qwen/Qwen2-0.5B --per_device_train_batch_size 64 --output_dir o --bf16\n"
    root = repo(tmp_path, {"session/tts/train_multipacking.py": HF_SCRIPT, "session/tts/300M.sh": run})
    checked = check_config(root / "session/tts/300M.sh")
    assert checked.loaded is not None and checked.loaded.workload.micro_batch_size == 64


def test_a_module_the_repository_does_not_hold_is_still_no_script_goblin_reads(tmp_path: Path) -> None:
    run = "torchrun --nproc_per_node 1 -m other_module --model_name_or_path Qwen/Qwen2-0.5B\n"
    root = repo(tmp_path, {"session/tts/train_multipacking.py": HF_SCRIPT, "session/tts/300M.sh": run})
    checked = check_config(root / "session/tts/300M.sh")
    assert checked.loaded is None and "runs no config file or script of the repository that goblin reads" in (checked.skip or "")


# ------------------------------------------------------------------ 4. a config file the launch line passes that is not there
GRPO = """\
from trl import GRPOConfig, ModelConfig, TrlParser
from dataclasses import dataclass


@dataclass
class ScriptArguments:
    dataset_name: str = "x"


parser = TrlParser((ScriptArguments, GRPOConfig, ModelConfig))
script_args, training_args, model_args = parser.parse_args_and_config()
"""


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ("poer/recipes/grpo.yaml", "poer/recipes/grpo.yaml is not a file of the repository (looked up from src/): the path names no file there"),
        ("recipes/xxxx.yaml", "recipes/xxxx.yaml is a placeholder for a file to supply, not a file of the repository"),
    ],
)
def test_a_config_file_that_is_not_there_is_said_so(tmp_path: Path, config: str, said: str) -> None:
    run = f"cd src\naccelerate launch --num_processes=7 open_r1/grpo.py --config {config}\n"
    root = repo(tmp_path, {"src/open_r1/grpo.py": GRPO, "recipes/grpo.yaml": "learning_rate: 1.0e-6\n", "run_grpo.sh": run})
    with pytest.raises(NotATrainingConfig) as got:
        load_config(root / "src/open_r1/grpo.py")
    assert said in got.value.reason and "goblin audits that file as its own item" not in got.value.reason


def test_a_config_file_that_is_there_is_audited_as_its_own_item(tmp_path: Path) -> None:
    run = "cd src\naccelerate launch --num_processes=7 open_r1/grpo.py --config ../recipes/grpo.yaml\n"
    root = repo(tmp_path, {"src/open_r1/grpo.py": GRPO, "recipes/grpo.yaml": "learning_rate: 1.0e-6\n", "run_grpo.sh": run})
    with pytest.raises(
        NotATrainingConfig, match=r"its GRPOConfig is read from \.\./recipes/grpo\.yaml, passed by run_grpo\.sh line 2; goblin audits that file as its own item"
    ):
        load_config(root / "src/open_r1/grpo.py")
