"""A script's values that come from its launch line (issue 23, review4 class 4): a dataclass field of the
script's own HfArgumentParser class the launcher passes, followed into from_pretrained's dtype and into the
`if` that applies LoRA; a launch line's inline `` `# comment` `` words; positional launch words mapped to a
typer entry point's arguments, the model given to the config the same line passes. Nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config

from .repo_files import write_file

# The shape of MedicalGPT training/dpo_training.py@2f1008c: the script's own ScriptArguments dataclass, its
# torch_dtype string turned into a torch dtype by getattr, and LoRA under `if args.use_peft:`
DPO = """\
from dataclasses import dataclass, field
from typing import Optional
import torch
from transformers import AutoModelForCausalLM, HfArgumentParser
from trl import DPOConfig, DPOTrainer
from peft import LoraConfig


@dataclass
class ScriptArguments:
    model_name_or_path: Optional[str] = field(default=None)
    torch_dtype: Optional[str] = field(default=None)
    use_peft: bool = field(default=False)
    per_device_train_batch_size: int = field(default=4)


def main():
    parser = HfArgumentParser(ScriptArguments)
    args = parser.parse_args_into_dataclasses(return_remaining_strings=True)[0]
    torch_dtype = (
        args.torch_dtype
        if args.torch_dtype in ["auto", None]
        else getattr(torch, args.torch_dtype)
    )
    model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path, dtype=torch_dtype)
    training_args = DPOConfig(per_device_train_batch_size=args.per_device_train_batch_size, bf16=True, output_dir="o")
    peft_config = None
    if args.use_peft:
        peft_config = LoraConfig(r=8)
    DPOTrainer(model, args=training_args, peft_config=peft_config).train()


if __name__ == "__main__":
    main()
"""


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the tree a config is read from: its git checkout, else the working directory (safepath.project_root)
    monkeypatch.chdir(tmp_path)


def test_a_launcher_dtype_flag_reaches_from_pretrained_through_getattr(tmp_path: Path) -> None:
    script = write_file(tmp_path, "training/dpo.py", DPO)
    write_file(
        tmp_path,
        "scripts/run_dpo.sh",
        "python3 training/dpo.py \\\n    --model_name_or_path Qwen/Qwen2.5-7B \\\n    --torch_dtype bfloat16 \\\n    --use_peft True\n",
    )
    w = load_config(script).workload
    assert w.weight_dtype == "bf16"
    src = w.sources["weight_dtype"]
    assert src.file is not None and src.file.endswith("run_dpo.sh") and src.line == 3
    assert src.note is not None and "--torch_dtype bfloat16" in src.note and "fp32" not in src.note
    assert w.method == "lora"


def test_a_field_the_launcher_does_not_pass_keeps_the_dataclass_default(tmp_path: Path) -> None:
    # torch_dtype's default None: `dtype=None`, nothing read from the launcher; use_peft's default False: no LoRA
    script = write_file(tmp_path, "training/dpo.py", DPO)
    write_file(tmp_path, "scripts/run_dpo.sh", "python3 training/dpo.py --model_name_or_path Qwen/Qwen2.5-7B --bf16 True\n")
    w = load_config(script).workload
    assert w.method == "full"
    src = w.sources.get("weight_dtype")
    assert src is None or not (src.file or "").endswith("run_dpo.sh")
    assert w.weight_dtype != "bf16"
    assert src is not None and src.note is not None and "assumed" in src.note and "ModelConfig" not in src.note
    assert "dtype=torch_dtype" in src.note


@pytest.mark.parametrize(
    ("load", "dtype"),
    [
        ('DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}\n', "DTYPES[args.torch_dtype]"),
        ("", '{"bfloat16": torch.bfloat16, "float16": torch.float16}[args.torch_dtype]'),
    ],
)
def test_a_dtype_looked_up_in_a_mapping_of_the_launch_value(tmp_path: Path, load: str, dtype: str) -> None:
    text = DPO.replace("import torch\n", "import torch\n" + load).replace("dtype=torch_dtype)", f"dtype={dtype})")
    value = "bf16" if load else "float16"
    script = write_file(tmp_path, "training/dpo.py", text)
    write_file(tmp_path, "run.sh", f"python3 training/dpo.py --model_name_or_path Qwen/Qwen2.5-7B --torch_dtype {value}\n")
    w = load_config(script).workload
    assert w.weight_dtype == ("bf16" if load else "fp16")


def test_an_unknown_mapping_key_reads_nothing(tmp_path: Path) -> None:
    text = DPO.replace("dtype=torch_dtype)", 'dtype={"bfloat16": torch.bfloat16}[args.torch_dtype])')
    script = write_file(tmp_path, "training/dpo.py", text)
    write_file(tmp_path, "run.sh", "python3 training/dpo.py --model_name_or_path Qwen/Qwen2.5-7B --torch_dtype float16\n")
    w = load_config(script).workload
    assert w.weight_dtype != "fp16"
    src = w.sources.get("weight_dtype")
    assert src is None or not (src.file or "").endswith("run.sh")


# MedicalGPT scripts/run_grpo.sh@2f1008c: a `` `# comment` `` word inside the continued command, then more flags
GRPO_LAUNCH = """\
torchrun --nproc_per_node 2 training/dpo.py \\
    --model_name_or_path Qwen/Qwen2.5-7B \\
    --torch_dtype bfloat16 \\
    \\
    `# LoRA settings` \\
    --use_peft True \\
    $(# memory) \\
    --per_device_train_batch_size 2
"""


def test_flags_after_an_inline_comment_substitution_are_read(tmp_path: Path) -> None:
    script = write_file(tmp_path, "training/dpo.py", DPO)
    write_file(tmp_path, "scripts/run.sh", GRPO_LAUNCH)
    w = load_config(script).workload
    assert w.method == "lora"
    assert w.micro_batch_size == 2
    assert w.sources["micro_batch_size"].line == 8


def test_a_hash_inside_a_quoted_value_or_a_real_comment_still_ends_the_words(tmp_path: Path) -> None:
    from pytest_goblin.formats.launcher_text import _split

    assert _split("python t.py --a 1 # --b 2") == ["python", "t.py", "--a", "1"]
    assert _split("python t.py --tag '#x' --b 2") == ["python", "t.py", "--tag", "#x", "--b", "2"]
    assert _split("python t.py `# note` --b 2") == ["python", "t.py", "--b", "2"]
    assert _split("python t.py `echo #x` --b 2")[:3] == ["python", "t.py", "`echo"]


# --- positional launch words (THUDM GLM-4@3f79b54 finetune/finetune.py:370-386 and README.md:264)

NESTED = """\
data_config:
  train_file: train.jsonl
max_input_length: 512
training_args:
  output_dir: ./output
  max_steps: 3000
  learning_rate: 5e-4
  per_device_train_batch_size: 4
  gradient_accumulation_steps: 2
  logging_steps: 10
peft_config:
  peft_type: LORA
  r: 8
"""

TYPER_SCRIPT = """\
from typing import Annotated
import torch
import typer
from transformers import AutoModelForCausalLM, AutoTokenizer, Seq2SeqTrainingArguments

app = typer.Typer()


class FinetuningConfig:
    @classmethod
    def from_dict(cls, **kwargs):
        training_args = kwargs.get("training_args", None)
        kwargs["training_args"] = Seq2SeqTrainingArguments(**training_args)
        return cls(**kwargs)


def load_tokenizer_and_model(model_dir: str, peft_config=None):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if peft_config is not None:
        model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.bfloat16)
    else:
        model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.bfloat16)
    return tokenizer, model


@app.command()
def main(
    data_dir: Annotated[str, typer.Argument(help="")],
    model_dir: Annotated[str, typer.Argument(help="")],
    config_file: Annotated[str, typer.Argument(help="")],
    auto_resume_from_checkpoint: str = typer.Argument(default=""),
    verbose: bool = False,
):
    tokenizer, model = load_tokenizer_and_model(model_dir, peft_config=None)


if __name__ == "__main__":
    app()
"""

README = """\
# Fine-tune

```shell
OMP_NUM_THREADS=1 torchrun --standalone --nnodes=1 --nproc_per_node=8 finetune.py data/AdvertiseGen/ THUDM/glm-4-9b-chat configs/lora.yaml
```
"""


def _typer_repo(root: Path, script: str = TYPER_SCRIPT, readme: str = README) -> Path:
    write_file(root, "finetune/finetune.py", script)
    write_file(root, "finetune/README.md", readme)
    write_file(root, "finetune/configs/sft.yaml", NESTED.replace("peft_config:\n  peft_type: LORA\n  r: 8\n", ""))
    return write_file(root, "finetune/configs/lora.yaml", NESTED)


def test_the_model_is_the_typer_argument_the_launch_line_passing_the_config_fills(tmp_path: Path) -> None:
    config = _typer_repo(tmp_path)
    w = load_config(config).workload
    assert w.model.name == "THUDM/glm-4-9b-chat"
    src = w.sources["model"]
    assert src.file is not None and src.file.endswith("README.md") and src.line == 4 and src.key == "model_dir"
    assert src.note is not None and "model_dir argument" in src.note and "typer" in src.note and "from_pretrained at line 20" in src.note
    assert w.world_size == 8


def test_a_config_no_launch_line_passes_takes_the_model_its_folders_lines_pass_assumed(tmp_path: Path) -> None:
    # review13b #34 (THUDM/ChatGLM3 finetune_demo: README_en.md:212 runs configs/lora.yaml with THUDM/chatglm3-6b, a
    # notebook cell with a local folder of that name; nothing runs configs/sft.yaml): the model is the script's argument
    _typer_repo(tmp_path)
    readme = README + "\n```shell\npython finetune.py data/AdvertiseGen/ /media/me/models/glm-4-9b-chat configs/lora.yaml\n```\n"
    write_file(tmp_path, "finetune/README.md", readme)
    w = load_config(tmp_path / "finetune/configs/sft.yaml").workload
    assert w.model.name == "THUDM/glm-4-9b-chat"
    src = w.sources["model"]
    assert not src.explicit and src.note is not None and "assumed: no launch line names sft.yaml" in src.note
    assert "`/media/me/models/glm-4-9b-chat` elsewhere, a local folder of that name" in src.note
    assert "pass the model on the line that runs sft.yaml" in src.note


def test_a_config_no_launch_line_passes_takes_no_model_where_its_folders_lines_pass_two(tmp_path: Path) -> None:
    _typer_repo(tmp_path)
    readme = README + "\n```shell\npython finetune.py data/AdvertiseGen/ Qwen/Qwen2.5-7B configs/lora.yaml\n```\n"
    write_file(tmp_path, "finetune/README.md", readme)
    w = load_config(tmp_path / "finetune/configs/sft.yaml").workload
    assert w.model.name == "unknown" and "model" not in w.sources
    assert any("pass different models" in n and "goblin names none" in n for n in w.notes)


def test_a_config_of_another_folder_takes_no_model_from_a_family_line(tmp_path: Path) -> None:
    # must not fire: a same-named folder one level over is another recipe (recipes/A/sft beside recipes/B/sft)
    write_file(tmp_path, "finetune/finetune.py", TYPER_SCRIPT)
    write_file(tmp_path, "finetune/README.md", README.replace("configs/lora.yaml", "a/configs/lora.yaml"))
    lora = write_file(tmp_path, "finetune/a/configs/lora.yaml", NESTED)
    config = write_file(tmp_path, "finetune/b/configs/sft.yaml", NESTED)
    assert load_config(lora).workload.model.name == "THUDM/glm-4-9b-chat"  # the line's own config takes it
    w = load_config(config).workload
    assert w.model.name == "unknown" and "model" not in w.sources


@pytest.mark.parametrize(
    "script",
    [
        # the data folder is a positional argument, the model a literal of the script: the word is no model
        TYPER_SCRIPT.replace("load_tokenizer_and_model(model_dir,", 'load_tokenizer_and_model("Qwen/Qwen2.5-7B",'),
        # two commands: the first word picks one, positions are not read
        TYPER_SCRIPT.replace("if __name__", "@app.command()\ndef other(x: str):\n    pass\n\n\nif __name__"),
    ],
    ids=["data-folder", "two-commands"],
)
def test_a_positional_word_that_does_not_reach_from_pretrained_is_no_model(tmp_path: Path, script: str) -> None:
    config = _typer_repo(tmp_path, script=script)
    w = load_config(config).workload
    assert w.model.name not in ("THUDM/glm-4-9b-chat", "data/AdvertiseGen/")
    assert "model" not in w.sources


def test_a_shell_variable_word_is_not_read_as_the_model(tmp_path: Path) -> None:
    config = _typer_repo(tmp_path, readme=README.replace("THUDM/glm-4-9b-chat", "$MODEL"))
    w = load_config(config).workload
    assert w.model.name == "unknown"


ARGPARSE_SCRIPT = """\
import argparse
from transformers import AutoModelForCausalLM, Seq2SeqTrainingArguments

parser = argparse.ArgumentParser()
parser.add_argument("data_dir")
parser.add_argument("model_dir")
parser.add_argument("config_file")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
cfg = load(args.config_file)
ta = Seq2SeqTrainingArguments(**cfg.training_args)
model = AutoModelForCausalLM.from_pretrained(args.model_dir)
"""


def test_argparse_positionals_map_by_order(tmp_path: Path) -> None:
    config = _typer_repo(
        tmp_path,
        script=ARGPARSE_SCRIPT,
        readme=README.replace("finetune.py data/", "finetune.py data/").replace("configs/lora.yaml", "configs/lora.yaml --seed 3"),
    )
    w = load_config(config).workload
    assert w.model.name == "THUDM/glm-4-9b-chat"
    assert "argparse" in (w.sources["model"].note or "")


# --- a list field the launch line passes as several words (MedicalGPT scripts/run_grpo.sh:28@2f1008c)

TRL_SCRIPT = """\
from trl import GRPOConfig, GRPOTrainer, ModelConfig, TrlParser, get_peft_config


def main(model_args, training_args):
    GRPOTrainer(model=model_args.model_name_or_path, args=training_args, peft_config=get_peft_config(model_args)).train()


if __name__ == "__main__":
    parser = TrlParser((ModelConfig, GRPOConfig))
    model_args, training_args = parser.parse_args_and_config()
    main(model_args, training_args)
"""


def test_flag_lists_reads_every_word_of_a_list_flag() -> None:
    from pytest_goblin.formats.pyargs import flag_lists

    words = ("--lora_target_modules", "q_proj", "gate_proj", "--lr", "1e-4", "--x=a", "b", "--m", "-1", "-2", "|", "--z", "a", "b")
    assert flag_lists(words) == {"--lora_target_modules": ["q_proj", "gate_proj"], "--m": ["-1", "-2"]}


@pytest.mark.parametrize(("modules", "targets"), [("q_proj k_proj v_proj o_proj gate_proj up_proj down_proj", "all"), ("q_proj v_proj", "attention")])
def test_a_list_field_takes_every_word_the_launch_line_gives_it(tmp_path: Path, modules: str, targets: str) -> None:
    script = write_file(tmp_path, "train.py", TRL_SCRIPT)
    write_file(
        tmp_path,
        "run.sh",
        f"torchrun --nproc_per_node 2 train.py \\\n  --model_name_or_path Qwen/Qwen2.5-7B \\\n  --use_peft True \\\n  --lora_target_modules {modules} \\\n  --per_device_train_batch_size 2\n",
    )
    w = load_config(script).workload
    assert w.method == "lora"
    assert w.lora_targets == targets
    assert w.micro_batch_size == 2
    assert modules in (w.sources["lora_targets"].note or "")


def test_a_trainer_that_loads_the_model_id_itself_keeps_trls_float32_default(tmp_path: Path) -> None:
    # no from_pretrained of the script: TRL loads the id in float32 (trl 1.16.0 trl/trainer/sft_trainer.py:544-547)
    script = write_file(
        tmp_path, "train.py", 'from trl import SFTConfig, SFTTrainer\nSFTTrainer(model="Qwen/Qwen2.5-7B", args=SFTConfig(output_dir="o")).train()\n'
    )
    w = load_config(script).workload
    assert w.weight_dtype == "fp32"
    note = w.sources["weight_dtype"].note or ""
    assert "TRL ModelConfig.dtype default" in note and "assumed" not in note


def test_an_implausible_launch_word_is_no_model_and_no_error(tmp_path: Path) -> None:
    config = _typer_repo(tmp_path, readme=README.replace("THUDM/glm-4-9b-chat", "org/model-90000B"))
    w = load_config(config).workload
    assert w.model.name == "unknown"
    assert "model" not in w.sources


def test_a_field_of_no_list_type_takes_only_its_first_word(tmp_path: Path) -> None:
    script = write_file(tmp_path, "train.py", TRL_SCRIPT)
    write_file(tmp_path, "run.sh", "python train.py --model_name_or_path Qwen/Qwen2.5-7B stray words --per_device_train_batch_size 2\n")
    w = load_config(script).workload
    assert w.model.name == "Qwen/Qwen2.5-7B"
    assert w.micro_batch_size == 2
