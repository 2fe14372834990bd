"""Python scripts as they run: argparse and HfArgumentParser values, the arguments the repository's
launcher passes, legacy from_pretrained flags and settings made by code. Nothing is executed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config
from pytest_goblin.formats.pyargs import Arg, convert, passed_flags
from pytest_goblin.patching import build_patch

from .repo_files import write_file
from .test_patching import workers_rule

ARGPARSE = """\
import argparse
import torch
from transformers import TrainingArguments, AutoModelForCausalLM

BATCH = 1
parser = argparse.ArgumentParser()
parser.add_argument("--batch_size", type=int, default=BATCH)
parser.add_argument("--grad_accum", type=int, default="16")
parser.add_argument("--no_gradient_checkpointing", action="store_false")
parser.add_argument("--optim", choices=["adamw_torch", "adafactor"], default="adamw_torch")
parser.add_argument("--workers", dest="num_workers", type=int, default=2)
args = parser.parse_args()
model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B", load_in_8bit=True, torch_dtype=torch.bfloat16)
ta = TrainingArguments(
    output_dir="o",
    per_device_train_batch_size=args.batch_size,
    gradient_accumulation_steps=args.grad_accum,
    gradient_checkpointing=args.no_gradient_checkpointing,
    optim=args.optim,
    dataloader_num_workers=args.num_workers,
    bf16=True,
)
"""


def test_argparse_defaults_and_action_semantics(tmp_path: Path) -> None:
    path = write_file(tmp_path, "train.py", ARGPARSE)
    w = load_config(path).workload
    assert (w.micro_batch_size, w.gradient_accumulation, w.optimizer, w.dataloader_workers) == (1, 16, "adamw_torch", 2)
    assert w.gradient_checkpointing is True  # store_false: the attribute is True unless the flag is passed
    assert w.quantization == "8bit" and w.method == "full"  # from_pretrained(load_in_8bit=True)
    assert w.sources["micro_batch_size"].line == 5  # BATCH = 1, the literal the default names
    assert w.sources["gradient_accumulation"].line == 8  # "16" through type=int
    assert w.sources["gradient_checkpointing"].line == 9
    assert any("no launch line in its repository runs it" in n for n in w.notes)


def test_edit_lands_on_the_argparse_default_and_reads_back(tmp_path: Path) -> None:
    path = write_file(tmp_path, "train.py", ARGPARSE)
    loaded = load_config(path)
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, loaded.workload, {"micro_batch_size": 4, "gradient_checkpointing": False})
    assert "BATCH = 4" in text and "per_device_train_batch_size=args.batch_size" in text  # the keyword keeps reading the option
    assert "store_false switch" not in skipped.get("gradient_checkpointing", "x")
    assert "`--no_gradient_checkpointing` is a store_false option (line 9)" in skipped["gradient_checkpointing"]
    path.write_text(text)
    assert load_config(path).workload.micro_batch_size == 4


def test_launcher_values_override_defaults_and_are_not_patched_in_the_script(tmp_path: Path) -> None:
    path = write_file(tmp_path, "train.py", ARGPARSE)
    write_file(
        tmp_path,
        "train.sh",
        "#!/bin/bash\nBS=4\ntorchrun --nproc_per_node 8 train.py \\\n    --batch_size $BS \\\n    --no_gradient_checkpointing \\\n"
        "    --optim sgd \\\n    --grad_accum $UNSET\n",
    )
    loaded = load_config(path)
    w = loaded.workload
    assert w.micro_batch_size == 4 and w.sources["micro_batch_size"].file == str(tmp_path / "train.sh") and w.sources["micro_batch_size"].line == 4
    assert w.gradient_checkpointing is False and w.sources["gradient_checkpointing"].line == 5
    assert w.optimizer != "sgd" and any("not one of the choices of `--optim`" in n for n in w.notes)  # argparse would stop
    assert w.gradient_accumulation == 1 and any("`--grad_accum $UNSET` at train.sh line 7" in n for n in w.notes)
    assert (w.world_size, w.gpus_per_node) == (8, 8)
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, w, {"micro_batch_size": 8, "gradient_checkpointing": True})
    assert text == loaded.text  # nothing written where the launcher would override it
    assert skipped["micro_batch_size"] == "`--batch_size 4` is passed by train.sh line 4: change it in the launch line to `--batch_size 8`"
    assert "train.sh line 5" in skipped["gradient_checkpointing"]
    rules = [workers_rule()]
    patch = build_patch(loaded, rules, hardware.get_hardware("mi300x"), "p1")  # not passed by the launcher: its default is edited
    added = [line for line in patch.diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert len(added) == 1 and added[0].startswith('+parser.add_argument("--workers", dest="num_workers", type=int, default=')
    assert patch.new_workload is not None and patch.new_workload.dataloader_workers == patch.edits[0].new != 2


HF_SCRIPT = """\
from dataclasses import dataclass, field
from typing import Optional
from transformers import HfArgumentParser, TrainingArguments, AutoModelForCausalLM, Trainer


@dataclass
class ModelArguments:
    model_name_or_path: Optional[str] = field(default="Qwen/Qwen2.5-7B")
    use_flash_attn: bool = True


@dataclass
class DataArguments:
    max_seq_length: int = 512


parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments))
model_args, data_args, training_args = parser.parse_args_into_dataclasses()
model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)
Trainer(model=model, args=training_args).train()
"""

HF_LAUNCH = """\
torchrun --nproc_per_node 4 sft.py \\
  --model_name_or_path meta-llama/Llama-3.1-8B \\
  --per_device_train_batch_size 2 \\
  --gradient_accumulation_steps 8 \\
  --bf16 True \\
  --gradient_checkpointing \\
  --max_seq_length 2048 \\
  --no_use_flash_attn \\
  --output_dir out 2>&1 | tee log.txt
"""


def test_hfargumentparser_script_without_a_launcher_says_why(tmp_path: Path) -> None:
    path = write_file(tmp_path, "sft.py", HF_SCRIPT)
    with pytest.raises(NotATrainingConfig) as info:
        load_config(path)
    assert "comes from the command line through HfArgumentParser (line 17)" in info.value.reason
    assert "no launch line" in info.value.reason


def test_hfargumentparser_script_reads_its_launcher(tmp_path: Path) -> None:
    path = write_file(tmp_path, "sft.py", HF_SCRIPT)
    write_file(tmp_path, "sft.sh", HF_LAUNCH)
    loaded = load_config(path)
    w = loaded.workload
    assert loaded.adapter.name == "python" and w.model.name == "meta-llama/Llama-3.1-8B"
    assert (w.micro_batch_size, w.gradient_accumulation, w.precision, w.seq_len) == (2, 8, "bf16", 2048)
    assert w.gradient_checkpointing is True  # `--gradient_checkpointing` alone: True (string_to_bool field, const=True)
    assert (w.world_size, w.gpus_per_node) == (4, 4)
    src = w.sources["micro_batch_size"]
    assert (Path(src.file).name, src.line, src.explicit) == ("sft.sh", 3, True)
    assert (Path(w.sources["model"].file).name, w.sources["model"].line) == ("sft.sh", 2)
    assert loaded.data.values["use_flash_attn"] is False  # `--no_use_flash_attn` of a True bool field
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, w, {"dataloader_workers": 4, "micro_batch_size": 4})
    assert text == loaded.text
    assert skipped["dataloader_workers"].endswith("add `--dataloader_num_workers 4` in the launch line (sft.sh line 1)")
    assert skipped["micro_batch_size"] == "`--per_device_train_batch_size 2` is passed by sft.sh line 3: change it in the launch line"
    chosen = [r for r in kb.cached_rules() if r.id in {"batch.raise_micro_batch", "precision.bf16_over_fp16"}] + [workers_rule()]
    patch = build_patch(loaded, chosen, hardware.get_hardware("mi300x"), "p1")  # the read-back check passes: nothing is written
    assert not patch.edits and patch.diff == ""


def test_hfargumentparser_config_file_is_a_true_reason(tmp_path: Path) -> None:
    path = write_file(tmp_path, "sft.py", HF_SCRIPT)
    write_file(tmp_path, "run.sh", "python sft.py recipes/sft.json\n")
    write_file(tmp_path, "recipes/sft.json", '{"output_dir": "o"}\n')  # a file of the repository: audited as its own item
    with pytest.raises(NotATrainingConfig, match=r"read from recipes/sft.json, passed by run.sh line 1; goblin audits that file"):
        load_config(path)


def test_dataclass_defaults_and_a_trainingarguments_subclass(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "sft.py",
        "from dataclasses import dataclass, field\nfrom transformers import HfArgumentParser, TrainingArguments\n\n\n"
        "@dataclass\nclass MyArgs(TrainingArguments):\n    model_max_length: int = field(default=4096)\n    optim: str = field(default='adafactor')\n\n\n"
        "parser = HfArgumentParser(MyArgs)\n(args,) = parser.parse_args_into_dataclasses()\n",
    )
    write_file(tmp_path, "scripts/train.sh", "deepspeed ../sft.py --per_device_train_batch_size=3 --bf16 t\n")
    loaded = load_config(path)
    w = loaded.workload
    assert (w.seq_len, w.optimizer, w.micro_batch_size, w.precision) == (4096, "adafactor", 3, "bf16")
    assert w.sources["seq_len"].line == 7 and w.sources["seq_len"].file == str(path)
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, w, {"optimizer": "adamw_torch_fused", "micro_batch_size": 6})
    assert "optim: str = field(default='adamw_torch_fused')" in text  # the field default is the value the run has
    assert "per_device_train_batch_size=3" not in text and skipped["micro_batch_size"].endswith("scripts/train.sh line 1: change it in the launch line")


def test_legacy_from_pretrained_flags_and_code_switches(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "train.py",
        "import torch\nfrom transformers import AutoModelForCausalLM, TrainingArguments\nfrom trl.trainer import ConstantLengthDataset\n"
        "model = AutoModelForCausalLM.from_pretrained('meta-llama/Llama-2-7b-hf', load_in_4bit=True, use_flash_attention_2=True, torch_dtype=torch.float16)\n"
        "model.gradient_checkpointing_enable()\n"
        "train = ConstantLengthDataset(tok, ds, seq_length=1024)\n"
        "args = TrainingArguments(output_dir='o', gradient_checkpointing=False, fp16=True)\n",
    )
    loaded = load_config(path)
    w = loaded.workload
    assert (w.quantization, w.attention, w.gradient_checkpointing, w.sample_packing) == ("4bit", "flash", True, True)
    assert w.sources["gradient_checkpointing"].line == 5 and w.sources["sample_packing"].line == 6
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, w, {"gradient_checkpointing": False, "sample_packing": False})
    assert text == loaded.text  # a keyword would not undo the code: gradient_checkpointing=False is already there
    assert skipped["gradient_checkpointing"].startswith("`model.gradient_checkpointing_enable()` at line 5 turns gradient checkpointing on")
    assert "ConstantLengthDataset(...)` at line 6 packs the rows (trl 0.7.11" in skipped["sample_packing"]


def test_code_switches_under_conditions(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "train.py",
        "import argparse\nfrom transformers import TrainingArguments\nfrom peft import prepare_model_for_kbit_training\n"
        "p = argparse.ArgumentParser()\np.add_argument('--packing', action='store_true')\nargs = p.parse_args()\n"
        "if args.packing:\n    ds = ConstantLengthDataset(tok, ds)\n"
        "if check():\n    model.gradient_checkpointing_enable()\n"
        "model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)\n"
        "a = TrainingArguments(output_dir='o')\n",
    )
    w = load_config(path).workload
    assert w.sample_packing is False and w.gradient_checkpointing is False
    assert any("gradient_checkpointing_enable()` at line 10 is guarded by the `if` at line 9" in n for n in w.notes)
    write_file(tmp_path, "run.sh", "python train.py --packing\n")
    w = load_config(path).workload
    assert w.sample_packing is True and w.sources["sample_packing"].line == 8


def test_prepare_for_kbit_training_and_old_sfttrainer_keywords(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "train.py",
        "from transformers import TrainingArguments\nfrom trl import SFTTrainer\n"
        "model = prepare_model_for_kbit_training(model)\n"
        "args = TrainingArguments(output_dir='o')\n"
        "SFTTrainer(model=model, args=args, packing=True, max_seq_length=4096)\n",
    )
    loaded = load_config(path)
    w = loaded.workload
    assert w.gradient_checkpointing is True and w.sources["gradient_checkpointing"].line == 3
    assert (w.sample_packing, w.seq_len) == (True, 4096) and w.sources["seq_len"].line == 5
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, w, {"sample_packing": False, "gradient_checkpointing": False})
    assert "packing=False, max_seq_length=4096)" in text and "args = TrainingArguments(output_dir='o')" in text  # on SFTTrainer, where it is
    assert "prepare_model_for_kbit_training(...)` at line 3 turns gradient checkpointing on (peft 0.7.1" in skipped["gradient_checkpointing"]
    ast.parse(text)


def test_command_line_conversions() -> None:
    assert convert(Arg("x", ("--x",), 1, type_name="bool"), "False") == (True, True, None)  # type=bool: bool("False") is True
    assert convert(Arg("x", ("--x",), 1, type_name="string_to_bool"), "f")[:2] == (True, False)
    assert convert(Arg("x", ("--x",), 1, type_name="int"), "2.5")[0] is False
    assert convert(Arg("x", ("--x",), 1, type_name="str2bool"), "yes") == (False, None, "converted by `str2bool` in the script (not run)")
    assert passed_flags(("--a", "1", "--b", "--c=x", "--lr", "-1e-5", "|", "tee", "--d", "2")) == [("--a", "1"), ("--b", None), ("--c", "x"), ("--lr", "-1e-5")]


def test_script_arguments_dataclass_feeding_trainingarguments_and_a_readme_launch(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "sft.py",
        "from dataclasses import dataclass, field\nfrom transformers import HfArgumentParser, TrainingArguments\n\n\n"
        "@dataclass\nclass ScriptArguments:\n    batch_size: int = field(default=4)\n    gradient_accumulation_steps: int = 2\n    gc: bool = False\n\n\n"
        "script_args = HfArgumentParser(ScriptArguments).parse_args_into_dataclasses()[0]\n"
        "args = TrainingArguments(output_dir='o', per_device_train_batch_size=script_args.batch_size,\n"
        "    gradient_accumulation_steps=script_args.gradient_accumulation_steps, gradient_checkpointing=script_args.gc)\n",
    )
    w = load_config(path).workload
    assert (w.micro_batch_size, w.gradient_accumulation, w.gradient_checkpointing) == (4, 2, False)
    assert w.sources["micro_batch_size"].line == 7
    write_file(tmp_path, "README.md", "Train:\n\n```bash\n$ python sft.py --batch_size 16 \\\n    --gc yes\n```\n")
    w = load_config(path).workload
    assert (w.micro_batch_size, w.gradient_accumulation, w.gradient_checkpointing) == (16, 2, True)
    assert (Path(w.sources["gradient_checkpointing"].file).name, w.sources["gradient_checkpointing"].line) == ("README.md", 5)


def test_a_subclass_of_a_subclass_and_trlparser_config_file(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "sft.py",
        "from dataclasses import dataclass\nfrom trl import SFTConfig, TrlParser\n\n\n"
        "@dataclass\nclass Base(SFTConfig):\n    max_length: int = 8192\n\n\n@dataclass\nclass Mine(Base):\n    packing: bool = True\n\n\n"
        "parser = TrlParser((Mine,))\n",
    )
    write_file(tmp_path, "go.sh", "accelerate launch sft.py --per_device_train_batch_size 1\n")
    w = load_config(path).workload
    assert (w.seq_len, w.sample_packing, w.micro_batch_size) == (8192, True, 1)
    assert w.framework is not None and w.framework.startswith("trl")
    write_file(tmp_path, "go.sh", "accelerate launch sft.py --config recipes/sft.yaml\n")
    with pytest.raises(NotATrainingConfig, match=r"its SFTConfig is read from recipes/sft.yaml, passed by go.sh line 1"):
        load_config(path)


def test_parse_config_names_the_launcher_for_a_value_it_passes(tmp_path: Path) -> None:
    from pytest_goblin.tools.audit_tools import _workload_view

    path = write_file(tmp_path, "sft.py", HF_SCRIPT)
    write_file(tmp_path, "sft.sh", HF_LAUNCH)
    fields = _workload_view(load_config(path).workload)["fields"]
    assert fields["micro_batch_size"]["line"] is None and fields["micro_batch_size"]["set_in"] == "sft.sh line 3"


def test_arguments_read_from_a_yaml_file_is_a_true_reason(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "train.py",
        "import sys\nfrom transformers import HfArgumentParser, TrainingArguments\n"
        "(args,) = HfArgumentParser(TrainingArguments).parse_yaml_file(sys.argv[1])\n",
    )
    with pytest.raises(NotATrainingConfig, match=r"read by `parse_yaml_file\(\.\.\.\)` \(line 3\) from a file named at run time"):
        load_config(path)


def test_a_name_bound_to_something_else_is_not_the_command_line_and_launcher_secrets_are_learned(tmp_path: Path) -> None:
    from pytest_goblin.redact import redact

    assert "plainvalue123456" in redact("the value plainvalue123456 seen")  # not masked by its shape
    path = write_file(
        tmp_path,
        "train.py",
        "import argparse, yaml\nfrom transformers import TrainingArguments\n"
        "p = argparse.ArgumentParser()\np.add_argument('--learning_rate', type=float, default=1e-4)\np.add_argument('--batch_size', type=int, default=2)\n"
        "p.add_argument('--hub_token')\nargs = p.parse_args()\ncfg = yaml.safe_load(open('c.yaml'))\n"
        "a = TrainingArguments(output_dir='o', per_device_train_batch_size=cfg.batch_size, gradient_accumulation_steps=args.batch_size)\n",
    )
    write_file(tmp_path, "run.sh", "python train.py --hub_token plainvalue123456\n")
    w = load_config(path).workload
    assert w.micro_batch_size == 8 and not w.sources["micro_batch_size"].explicit  # cfg.batch_size: not the argparse option
    assert w.gradient_accumulation == 2
    assert "plainvalue123456" not in redact("the value plainvalue123456 seen")


def test_waste_left_in_the_launch_line_counts_in_the_verdict(tmp_path: Path) -> None:
    import json

    from pytest_goblin.cli import main

    path = write_file(tmp_path, "sft.py", HF_SCRIPT)
    write_file(
        tmp_path,
        "sft.sh",
        "torchrun --nproc_per_node 8 sft.py --model_name_or_path Qwen/Qwen2.5-0.5B --per_device_train_batch_size 1 \\\n"
        "  --gradient_accumulation_steps 16 --bf16 True --gradient_checkpointing True --max_seq_length 1024 --output_dir out\n",
    )
    out = tmp_path / "r.json"
    main(["audit", str(path), "--runner", "projection", "--json", str(out)])
    report = json.loads(out.read_text())["items"][0]["report"]
    # review10a #18: the launch-line edits are counted in the verdict (goblin still writes none of them)
    assert report["patch"]["edits"] == [] and report["inconclusive"] is None
    assert report["verdict"] in ("warn", "fail") and "made in the launch line" in report["reason"]
    assert "memory.disable_checkpointing_when_hbm_free" in report["reason"]
    assert report["patch"]["skipped"]["memory.disable_checkpointing_when_hbm_free"] == (
        "`--gradient_checkpointing True` is passed by sft.sh line 2: change it in the launch line to `--gradient_checkpointing False`"
    )


def test_a_field_assigned_after_parsing_wins_over_the_launcher_and_is_edited_there(tmp_path: Path) -> None:
    path = write_file(tmp_path, "sft.py", HF_SCRIPT + "training_args.gradient_checkpointing = False\nif flag():\n    training_args.bf16 = False\n")
    write_file(tmp_path, "sft.sh", HF_LAUNCH)
    loaded = load_config(path)
    w = loaded.workload
    assert w.gradient_checkpointing is False and w.sources["gradient_checkpointing"].line == 21
    assert w.sources["gradient_checkpointing"].file == str(path)
    # under an `if` goblin cannot evaluate: the launcher's bf16 is kept for the projection, and no rule judges it
    assert w.precision == "bf16" and any("line 23: `training_args.bf16 = ...` sets bf16 under the `if` at line 22" in n for n in w.notes)
    assert w.sources["precision"].unread
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, w, {"gradient_checkpointing": True})
    assert "training_args.gradient_checkpointing = True\n" in text and not skipped
    path.write_text(text)
    assert load_config(path).workload.gradient_checkpointing is True  # reads back through the launcher's --gradient_checkpointing


def test_a_launcher_flag_the_transformers_release_dropped_stops_hfargumentparser(tmp_path: Path) -> None:
    """review2 #8/#10 (FastChat, stanford_alpaca): `--evaluation_strategy` passed to a script that parses its command
    line with HfArgumentParser.parse_args_into_dataclasses, on a pin that installs transformers >= 4.51."""
    from pytest_goblin import blockers
    from pytest_goblin.hardware import get_hardware

    launch = HF_LAUNCH.replace("  --output_dir out", "  --evaluation_strategy steps \\\n  --output_dir out")

    def found(sub: str, files: dict[str, str]) -> list[tuple[str, str | None, bool]]:
        root = tmp_path / sub
        root.mkdir()
        (root / ".git").mkdir()
        for name, text in {"sft.py": HF_SCRIPT, "train.sh": launch, **files}.items():
            write_file(root, name, text)
        got = blockers.findings(load_config(root / "sft.py"), get_hardware("mi300x"))
        return [(f.rule_id, f.key, f.blocker) for f in got if f.rule_id.startswith("blocker.keys_")]

    pinned = found("a", {"requirements.txt": "transformers>=4.40,<5\n"})  # pip installs 4.57.x, which lacks it
    assert pinned == [("blocker.keys_rejected_at_version", "evaluation_strategy", True)]
    assert found("b", {}) == [("blocker.keys_unknown_at_version", "evaluation_strategy", False)]  # nothing pinned: a requirement
    # review4 #31 (LongWriter `transformers>=4.43.0`): an open range installs the newest, assumed as with no pin: a requirement
    assert found("f", {"requirements.txt": "transformers>=4.40\n"}) == [("blocker.keys_unknown_at_version", "evaluation_strategy", False)]
    # must not: a release that still has it; a script that keeps what its parser does not know; the script's own field
    assert found("c", {"requirements.txt": "transformers==4.45.2\n"}) == []
    keeps = HF_SCRIPT.replace("parse_args_into_dataclasses()", "parse_args_into_dataclasses(return_remaining_strings=True)")
    keeps = keeps.replace("model_args, data_args, training_args =", "model_args, data_args, training_args, _rest =")
    assert found("d", {"requirements.txt": "transformers>=4.40,<5\n", "sft.py": keeps}) == []
    own = HF_SCRIPT.replace("    max_seq_length: int = 512\n", "    max_seq_length: int = 512\n    evaluation_strategy: str = 'no'\n")
    assert found("e", {"requirements.txt": "transformers>=4.40,<5\n", "sft.py": own}) == []


NAMESPACE_SCRIPT = """\
import argparse
from trl import SFTConfig, SFTTrainer


def get_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_id", type=str, default="HuggingFaceTB/SmolLM2-360M")
    parser.add_argument("--micro_batch_size", type=int, default=1)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=4)
    return parser.parse_args()


def load_settings():
    return {"micro_batch_size": 16}


def main(args):
    SFTTrainer(
        model=args.model_id,
        args=SFTConfig(output_dir="o", per_device_train_batch_size=args.micro_batch_size, gradient_accumulation_steps=args.gradient_accumulation_steps),
    )


if __name__ == "__main__":
    args = get_args()
    main(args)
"""


def test_a_namespace_returned_by_a_function_and_passed_as_a_parameter_is_the_command_line(tmp_path: Path) -> None:
    # review3 #33 huggingface/smollm text/finetuning/train.py: `args = get_args()` then `main(args)`; the README
    # launch line names the model and the micro-batch (goblin said "model unknown" and read TRL's 8 x 1)
    path = write_file(tmp_path, "train.py", NAMESPACE_SCRIPT)
    write_file(tmp_path, "README.md", "```bash\naccelerate launch train.py \\\n    --model_id HuggingFaceTB/SmolLM2-1.7B \\\n    --micro_batch_size 2\n```\n")
    w = load_config(path).workload
    assert w.model.name == "HuggingFaceTB/SmolLM2-1.7B" and w.sources["model"].file == str(tmp_path / "README.md")
    assert (w.micro_batch_size, w.gradient_accumulation) == (2, 4)  # the launch line's word, then the declared default


def test_a_name_bound_to_a_function_that_does_not_parse_is_not_the_command_line(tmp_path: Path) -> None:
    text = NAMESPACE_SCRIPT.replace("args = get_args()\n    main(args)", "get_args()\n    args = load_settings()\n    main(args)")
    path = write_file(tmp_path, "train.py", text)
    w = load_config(path).workload
    assert w.micro_batch_size == 8 and not w.sources["micro_batch_size"].explicit  # TRL's default, not argparse's 1


SELF_ARGS = """\
import argparse
from transformers import TrainingArguments


class Runner:
    def __init__(self, args, extra):
        self.args = args
        self.extra = extra

    def run(self):
        return TrainingArguments(
            output_dir="o",
            per_device_train_batch_size=self.args.batch_size,
            gradient_accumulation_steps=self.extra.batch_size,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch_size", type=int, default=3)
    args = parser.parse_args()
    Runner(args=args, extra=object()).run()
"""


def test_self_args_holding_the_namespace_is_the_command_line(tmp_path: Path) -> None:
    # review3 #32 xfactlab/orpo main.py: `self.args = args` then `TrainingArguments(optim=self.args.optim, ...)`
    path = write_file(tmp_path, "train.py", SELF_ARGS)
    w = load_config(path).workload
    assert w.micro_batch_size == 3 and w.sources["micro_batch_size"].line == 20  # self.args.batch_size: the default= literal
    # must not fire: `self.extra` is given object(), not the namespace, so its `batch_size` is not the option
    assert w.gradient_accumulation == 1 and not w.sources["gradient_accumulation"].explicit


VARS_SCRIPT = """\
import argparse
from transformers import TrainingArguments

settings = {"optim": "adafactor"}


def build(ns):
    table = vars(ns)
    return TrainingArguments(output_dir="p", dataloader_num_workers=table["workers"], optim=settings["optim"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--optim", default="sgd")
    build(argparse.Namespace(workers=9))
    args = parser.parse_args()
    build(args)
"""


def test_vars_of_the_namespace_is_read_by_key_and_another_dict_is_not(tmp_path: Path) -> None:
    path = write_file(tmp_path, "train.py", VARS_SCRIPT.replace("    build(argparse.Namespace(workers=9))\n", ""))
    w = load_config(path).workload
    assert w.dataloader_workers == 5 and w.sources["dataloader_workers"].line == 14  # table = vars(ns), build(args)
    assert w.optimizer != "sgd"  # must not fire: settings["optim"] is a plain dict, not the namespace
    # must not fire: one call passes a namespace built by hand (not the command line), so `ns` is unknown
    w2 = load_config(write_file(tmp_path / "b", "train.py", VARS_SCRIPT)).workload
    assert w2.dataloader_workers == 0 and not w2.sources["dataloader_workers"].explicit


ORPO_MAIN = """\
import argparse
from transformers import TrainingArguments, AutoModelForCausalLM
from src.args import default_args


class ORPO:
    def __init__(self, args):
        self.args = args
        self.model = AutoModelForCausalLM.from_pretrained(self.args.model_name)

    def run(self):
        return TrainingArguments(output_dir="o", optim=self.args.optim, per_device_train_batch_size=self.args.per_device_train_batch_size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser("ORPO")
    args = default_args(parser)
    ORPO(args=args).run()
"""
ORPO_ARGS = """\
def default_args(parser):
    parser.add_argument("--model_name", default="gpt2", type=str)
    parser.add_argument("--optim", default="paged_adamw_32bit", type=str)
    parser.add_argument("--per_device_train_batch_size", default=2, type=int)
    args = parser.parse_args()
    return args
"""


@pytest.mark.parametrize(("pin", "fires"), [("bitsandbytes==0.43.0", True), ("bitsandbytes==0.49.0", False)])
def test_options_of_an_imported_repository_module_are_read_and_the_bitsandbytes_blocker_follows(tmp_path: Path, pin: str, fires: bool) -> None:
    # review3 #32 xfactlab/orpo: optim paged_adamw_32bit is the default of src/args.py:11 and the recipe pins
    # bitsandbytes==0.43.0: the bitsandbytes-before-ROCm blocker must fire; with a release that has ROCm wheels it must not
    from pytest_goblin import blockers

    path = write_file(tmp_path, "main.py", ORPO_MAIN)
    write_file(tmp_path, "src/args.py", ORPO_ARGS)
    write_file(tmp_path, "src/__init__.py", "")
    write_file(tmp_path, "requirements.txt", f"{pin}\n")
    write_file(tmp_path, "run.sh", "accelerate launch main.py \\\n    --model_name mistralai/Mistral-7B-v0.1 \\\n    --per_device_train_batch_size 4\n")
    loaded = load_config(path)
    w = loaded.workload
    assert w.optimizer == "paged_adamw_32bit" and w.sources["optimizer"].file == str((tmp_path / "src/args.py").resolve())
    assert w.sources["optimizer"].line == 3
    assert (w.model.name, w.micro_batch_size) == ("mistralai/Mistral-7B-v0.1", 4)
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, w, {"optimizer": "adamw_torch_fused"})
    assert text == loaded.text and "src/args.py:3" in skipped["optimizer"] and "***" not in skipped["optimizer"]
    ids = {f.rule_id for f in blockers.findings(loaded, hardware.get_hardware("mi300x"))}
    assert ("blocker.bitsandbytes_before_rocm_wheels" in ids) is fires


def test_a_same_named_function_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    path = write_file(tmp_path, "main.py", ORPO_MAIN.replace("from src.args import default_args", "from somepackage.args import default_args"))
    w = load_config(path).workload
    assert w.optimizer != "paged_adamw_32bit" and w.micro_batch_size == 8  # nothing to read: TrainingArguments' defaults


HF_TUPLE = """\
from dataclasses import dataclass, field
from transformers import HfArgumentParser, TrainingArguments
from trl import SFTConfig


@dataclass
class DataArguments:
    max_len: int = field(default=512)


parser = HfArgumentParser((DataArguments, TrainingArguments))
data_args, training_args = parser.parse_args_into_dataclasses()
other = make_other()
config = SFTConfig(
    output_dir="o",
    max_length=data_args.max_len,
    per_device_train_batch_size=training_args.per_device_train_batch_size,
    gradient_accumulation_steps=other.gradient_accumulation_steps,
)
"""


def test_a_framework_field_of_an_hfargumentparser_tuple_reads_the_launch_line(tmp_path: Path) -> None:
    path = write_file(tmp_path, "train.py", HF_TUPLE)
    write_file(tmp_path, "run.sh", "torchrun --nproc_per_node 8 train.py --per_device_train_batch_size 2 --gradient_accumulation_steps 16 --max_len 4096\n")
    w = load_config(path).workload
    assert (w.micro_batch_size, w.seq_len) == (2, 4096) and w.sources["micro_batch_size"].file == str(tmp_path / "run.sh")
    # must not fire: `other` is not the parsed tuple, so the launch line's accumulation is not read through it
    assert w.gradient_accumulation == 1 and not w.sources["gradient_accumulation"].explicit


H4_SCRIPT = """\
from dataclasses import dataclass, field
from alignment import H4ArgumentParser
from trl import DPOConfig, ModelConfig


@dataclass
class ScriptArguments:
    train_dir: str = field(default="data")


parser = H4ArgumentParser((ScriptArguments, DPOConfig, ModelConfig))
script_args, training_args, model_config = parser.parse()
"""


@pytest.mark.parametrize("words", ["configs/training.yaml", "configs/training.yaml --learning_rate=1e-6"])
def test_h4argumentparser_reading_a_yaml_is_a_true_reason(tmp_path: Path, words: str) -> None:
    # review3 tree RLHFlow/Online-RLHF dpo_iteration/run_dpo.py: H4ArgumentParser.parse() reads the YAML the launch
    # line passes; goblin said "a Python file without a TrainingArguments or TRL config call"
    (tmp_path / ".git").mkdir()  # a repository: run.sh at its root launches dpo_iteration/run_dpo.py
    path = write_file(tmp_path, "dpo_iteration/run_dpo.py", H4_SCRIPT)
    write_file(tmp_path, "run.sh", f"accelerate launch dpo_iteration/run_dpo.py {words}\n")
    with pytest.raises(NotATrainingConfig) as err:
        load_config(path)
    said = str(err.value)
    assert "DPOConfig is read by H4ArgumentParser.parse() from configs/training.yaml" in said and "run.sh line 1" in said
    assert ("override" in said) is ("--learning_rate" in words)


def test_h4argumentparser_with_flags_only_is_read_like_hfargumentparser(tmp_path: Path) -> None:
    path = write_file(tmp_path, "run_dpo.py", H4_SCRIPT)
    write_file(tmp_path, "run.sh", "accelerate launch run_dpo.py --model_name_or_path Qwen/Qwen2.5-7B --per_device_train_batch_size 2\n")
    w = load_config(path).workload
    assert w.model.name == "Qwen/Qwen2.5-7B" and w.micro_batch_size == 2


WRAPPED = """\
from dataclasses import dataclass, field
import transformers


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="facebook/opt-125m")


def train():
    parser = transformers.HfArgumentParser((ModelArguments, transformers.TrainingArguments))
    model_args, training_args = parser.parse_args_into_dataclasses()
    transformers.Trainer(model=None, args=training_args)
"""


@pytest.mark.parametrize(
    ("wrapper", "read"),
    [
        ("from pkg.train.train import train\n\nif __name__ == '__main__':\n    train()\n", True),
        ("import argparse\nfrom pkg.train.train import train\nargparse.ArgumentParser().parse_args()\ntrain()\n", False),
    ],
)
def test_a_wrapper_that_runs_the_entry_point_gives_its_launch_line(tmp_path: Path, wrapper: str, read: bool) -> None:
    # review3 tree huggingface/smollm vision/smolvlm2/smolvlm/train/train.py: README runs train_mem.py, which imports and
    # calls train(); goblin said no launch line runs it. A wrapper that parses its own command line is not followed.
    (tmp_path / ".git").mkdir()
    path = write_file(tmp_path, "pkg/train/train.py", WRAPPED)
    write_file(tmp_path, "pkg/train/train_mem.py", wrapper)
    write_file(
        tmp_path, "README.md", "```bash\npython pkg/train/train_mem.py \\\n  --model_name_or_path Qwen/Qwen2.5-7B \\\n  --per_device_train_batch_size 4\n```\n"
    )
    if not read:
        with pytest.raises(NotATrainingConfig, match="no launch line in its repository runs it"):
            load_config(path)
        return
    w = load_config(path).workload
    assert w.model.name == "Qwen/Qwen2.5-7B" and w.micro_batch_size == 4 and w.sources["micro_batch_size"].file == str(tmp_path / "README.md")
    assert any("run through pkg/train/train_mem.py" in n for n in w.notes)


def test_a_shell_default_over_the_launchers_own_argument_is_read_and_said(tmp_path: Path) -> None:
    # review3 #30 QwenLM/Qwen2.5-Coder finetuning/dpo/scripts/dpo_qwencoder.sh: `MICRO_BATCH_SIZE=${4}` then
    # `MICRO_BATCH_SIZE=${MICRO_BATCH_SIZE:-"1"}`: run as its README runs it (no arguments) the default is the value;
    # goblin left `${4}` unresolved and read TrainingArguments' 8
    path = write_file(tmp_path, "train.py", ARGPARSE)
    write_file(
        tmp_path,
        "run.sh",
        'MB=${4}\nMB=${MB:-"2"}\nGA=${5}\nSFT_MODEL=${2}\ntorchrun --nproc_per_node 8 train.py \\\n    --batch_size ${MB} \\\n    --grad_accum ${GA}\n',
    )
    w = load_config(path).workload
    assert w.micro_batch_size == 2 and w.sources["micro_batch_size"].file == str(tmp_path / "run.sh")
    assert any("`MB` is '2', the default of line 2" in n and "without its argument ${4}" in n for n in w.notes)
    # must not fire: `GA=${5}` with no default stays unknown (not read, with a note; TrainingArguments' 1)
    assert w.gradient_accumulation == 1 and any("`--grad_accum ${GA}`" in n and "not read" in n for n in w.notes)


def test_a_modelscope_folder_name_reads_as_its_model_id() -> None:
    from pytest_goblin.modelzoo import lookup_model

    shape = lookup_model("/path/to/pretrained_models/Qwen/Qwen2___5-Coder-1___5B/")  # review3 #29: read as 5B before
    assert shape.known and shape.params_b is not None and 1.4 < shape.params_b < 1.6
    assert lookup_model("some-org/model___x").params_b is None  # no size in the name: still unknown


DATACLASS_SETTINGS = """\
from dataclasses import dataclass
from transformers import TrainingArguments


@dataclass
class TrainConfig:
    batch_size: int = 4
    grad_accum: int = 2
    workers: int = 3


class Plain:
    workers = 9


cfg = TrainConfig(grad_accum=8)
plain = Plain()
args = TrainingArguments(
    output_dir="o",
    per_device_train_batch_size=cfg.batch_size,
    gradient_accumulation_steps=cfg.grad_accum,
    dataloader_num_workers=plain.workers,
)
"""


def test_a_dataclass_settings_object_is_read_by_its_call_and_field_defaults(tmp_path: Path) -> None:
    loaded = load_config(write_file(tmp_path, "train.py", DATACLASS_SETTINGS))
    w = loaded.workload
    assert (w.micro_batch_size, w.gradient_accumulation) == (4, 8)
    assert w.sources["micro_batch_size"].line == 7 and w.sources["gradient_accumulation"].line == 16  # the literals read
    assert w.dataloader_workers == 0 and not w.sources["dataloader_workers"].explicit  # must not fire: not a dataclass
    text, _skipped = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, w, {"micro_batch_size": 8})
    assert "    batch_size: int = 8\n" in text  # the edit lands on the field default the run reads


def test_a_settings_object_bound_twice_is_not_read(tmp_path: Path) -> None:
    text = DATACLASS_SETTINGS.replace("plain = Plain()\n", "plain = Plain()\nif plain:\n    cfg = TrainConfig(batch_size=1)\n")
    w = load_config(write_file(tmp_path, "train.py", text)).workload
    assert w.micro_batch_size == 8 and not w.sources["micro_batch_size"].explicit  # which binding runs is not known


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "from transformers import HfArgumentParser\nfrom dataclasses import dataclass\n@dataclass\nclass Args:\n    model: str = 'm'\n"
            "args = HfArgumentParser((Args,)).parse_args_into_dataclasses()[0]\n",
            "its HfArgumentParser (line 6) parses Args, none of them TrainingArguments or a TRL config",
        ),
        (
            "import trl\nfrom dataclasses import dataclass\n@dataclass\nclass GRPOConfig(trl.GRPOConfig):\n    extra: int = 1\n",
            "it defines argument classes (GRPOConfig (line 4)) but builds and parses none",
        ),
        ("from transformers import TrainingArguments\nprint(TrainingArguments)\n", "not a training config"),  # no config call: nothing to read
    ],
)
def test_a_script_without_a_training_config_says_what_it_is(tmp_path: Path, text: str, said: str) -> None:
    # review3 trees: RLHFlow generation/gen_hf.py (an HfArgumentParser of its own ScriptArguments) and X-R1
    # src/x_r1/configs.py (GRPOConfig subclasses) were "a Python file without a TrainingArguments or TRL config call"
    with pytest.raises(NotATrainingConfig) as err:
        load_config(write_file(tmp_path, "x.py", text))
    assert said in str(err.value)


PADDED = """\
import argparse
from transformers import AutoTokenizer, TrainingArguments

parser = argparse.ArgumentParser()
parser.add_argument("--response_max_length", type=int, default=1024)
args = parser.parse_args()
tok = AutoTokenizer.from_pretrained("meta-llama/Llama-3.1-8B")
a = tok(["x"], max_length=args.response_max_length, padding="max_length", truncation=True)
b = tok(["y"], max_length=args.response_max_length, padding="max_length", truncation=True)
ta = TrainingArguments(output_dir="o", per_device_train_batch_size=2)
"""


def test_a_tokenizer_that_pads_to_max_length_gives_the_sequence_length(tmp_path: Path) -> None:
    # review3 #32 xfactlab/orpo main.py:108-122: tokenizer(..., max_length=self.args.response_max_length, padding='max_length')
    # with plain TrainingArguments: goblin assumed 1024 while the launch line pads every sample to 2048
    path = write_file(tmp_path, "train.py", PADDED)
    write_file(tmp_path, "run.sh", "torchrun --nproc_per_node 8 train.py --response_max_length 2048\n")
    w = load_config(path).workload
    assert w.seq_len == 2048 and w.sources["seq_len"].file == str(tmp_path / "run.sh")
    # must not fire: calls that pad to different lengths, or pad to the batch's longest, say nothing
    w2 = load_config(
        write_file(tmp_path / "b", "train.py", PADDED.replace("max_length=args.response_max_length, padding", "max_length=512, padding", 1))
    ).workload
    assert w2.seq_len == 1024 and not w2.sources["seq_len"].explicit
    w3 = load_config(write_file(tmp_path / "c", "train.py", PADDED.replace('padding="max_length"', "padding=True"))).workload
    # padding to the batch's longest pads no sample to max_length; a truncating call the script does not map over its
    # dataset does not shape the training samples (pymapped.mapped_truncation): the length stays assumed
    assert not w3.pad_to_max and w3.seq_len == 1024 and not w3.sources["seq_len"].explicit
    w4 = load_config(write_file(tmp_path / "d", "train.py", PADDED.replace('padding="max_length", truncation=True', "padding=True"))).workload
    assert w4.seq_len == 1024 and not w4.sources["seq_len"].explicit  # neither pads to nor cuts at max_length: assumed


def test_getattr_of_the_namespace_reads_the_option_or_its_default(tmp_path: Path) -> None:
    text = (
        "import argparse\nfrom transformers import TrainingArguments\np = argparse.ArgumentParser()\n"
        "p.add_argument('--bs', type=int, default=3)\nargs = p.parse_args()\ncfg = object()\n"
        "ta = TrainingArguments(output_dir='o', per_device_train_batch_size=getattr(args, 'bs', 1),\n"
        "    gradient_accumulation_steps=getattr(args, 'accum', 4), dataloader_num_workers=getattr(cfg, 'workers', 6))\n"
    )
    w = load_config(write_file(tmp_path, "train.py", text)).workload
    assert (w.micro_batch_size, w.gradient_accumulation) == (3, 4)  # the option's default; getattr's default (no --accum)
    assert w.sources["gradient_accumulation"].line == 8
    assert w.dataloader_workers == 0 and not w.sources["dataloader_workers"].explicit  # must not fire: cfg is not the namespace
