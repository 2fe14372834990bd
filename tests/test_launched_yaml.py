"""A YAML recipe no launch line names, read through the one script the launch lines of its folder's
other YAML recipes run (review6b #31: Firefly-LLaMA2-Chinese train_args/llama2-13b.yaml beside the
llama2-13b-ext.yaml that README.MD:214 runs with `train.py --train_args_file`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .repo_files import write_tree

TRAIN = """\
import argparse
from dataclasses import dataclass, field
from transformers import HfArgumentParser, TrainingArguments, AutoModelForCausalLM, BitsAndBytesConfig
from peft import LoraConfig, get_peft_model


@dataclass
class QLoRAArguments:
    model_name_or_path: str = field(metadata={"help": "model"})
    max_seq_length: int = field(default=512)
    lora_rank: int = field(default=64)


def setup():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train_args_file", type=str, default="./train_args/llama2-13b-ext.yaml")
    args = parser.parse_args()
    parser = HfArgumentParser((QLoRAArguments, TrainingArguments))
    args, training_args = parser.parse_yaml_file(yaml_file=args.train_args_file)
    model = AutoModelForCausalLM.from_pretrained(
        args.model_name_or_path, load_in_4bit=True, quantization_config=BitsAndBytesConfig(load_in_4bit=True)
    )
    config = LoraConfig(r=args.lora_rank)
    return get_peft_model(model, config)
"""

RECIPE = """\
output_dir: ./output/x
model_name_or_path: NousResearch/Llama-2-13b-hf
num_train_epochs: 1
per_device_train_batch_size: 8
gradient_accumulation_steps: 2
learning_rate: 0.0001
gradient_checkpointing: true
fp16: true
"""

# a key TRL's SFTConfig reads and TrainingArguments does not, here a field of the script's own QLoRAArguments
TRL_KEY = "max_seq_length: 1024\n"


def _tree(tmp_path: Path, launched: str, other_script: str | None = None) -> Path:
    files = {
        "train.py": TRAIN,
        "train_args/llama2-13b-ext.yaml": RECIPE,
        "train_args/baichuan2-13b.yaml": RECIPE,
        "train_args/llama2-13b.yaml": RECIPE + TRL_KEY,
    }
    line = f"torchrun --nproc_per_node=4 train.py --train_args_file {launched}"
    if other_script is not None:
        files[other_script] = TRAIN
        line += f"\ntorchrun --nproc_per_node=4 {other_script} --train_args_file train_args/baichuan2-13b.yaml"
    files["README.md"] = f"```bash\n{line}\n```\n"
    return write_tree(tmp_path, files, git=True) / "train_args" / "llama2-13b.yaml"


def test_yaml_recipe_is_read_through_the_script_its_folders_launch_line_runs(tmp_path: Path) -> None:
    from pytest_goblin.formats import load_config
    from pytest_goblin.formats.launched import launched_script

    config = _tree(tmp_path, "train_args/llama2-13b-ext.yaml")
    launched = launched_script(config)
    assert launched is not None and launched.script == "train.py"
    assert launched.parser_classes == ("QLoRAArguments", "TrainingArguments")
    assert launched.where == "README.md line 2, which runs llama2-13b-ext.yaml of this file's folder with it (no launch line names this file)"
    loaded: Any = load_config(config)
    w = loaded.workload
    assert w.seq_len == 1024 and w.micro_batch_size == 8
    assert w.method in ("lora", "qlora")  # train.py wraps the model in LoRA unconditionally: never a full fine-tune
    assert (w.method, w.quantization) == ("qlora", "4bit") and "train.py:" in (w.sources["quantization"].note or "")
    assert not w.sources["quantization"].unread and not w.sources["method"].unread  # read from the script, judged
    # the script's TrainingArguments, not a TRL SFTConfig guessed from max_seq_length
    assert str(w.framework).startswith("transformers") and "train.py parses this file into" in str(w.framework)
    assert any("goblin read its training method and quantization from calls there that run on this file: the weight dtype is assumed" in n for n in w.notes)


def test_yaml_recipe_whose_siblings_run_two_scripts_is_read_alone(tmp_path: Path) -> None:
    """Must not fire: the folder's other recipes are run by two different scripts, so neither stands for this one."""
    from pytest_goblin.formats.launched import launched_script

    config = _tree(tmp_path, "train_args/llama2-13b-ext.yaml", other_script="train_other.py")
    assert launched_script(config) is None


def test_yaml_recipe_is_not_read_through_a_json_siblings_launch(tmp_path: Path) -> None:
    """Must not fire: a launch line for a JSON recipe of the folder does not stand for a YAML one."""
    from pytest_goblin.formats.launched import launched_script

    config = _tree(tmp_path, "train_args/llama2-13b-ext.json")
    (config.parent / "llama2-13b-ext.yaml").rename(config.parent / "llama2-13b-ext.json")
    assert launched_script(config) is None
