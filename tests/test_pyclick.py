"""click command-line scripts (issue 23 class 4; review4 #27 databrickslabs/dolly training/trainer.py): options
read as data, the launch line's words over their defaults, `**kwargs` followed into the function the command
calls. Small synthetic trees; nothing run or imported."""

from __future__ import annotations

import ast
from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.pyclick import click_command

from .repo_files import write_tree

CLICK = """\
import click
import transformers

EPOCHS = 3


def train(*, input_model: str, epochs: int, per_device_train_batch_size: int, lr: float, bf16: bool, gradient_checkpointing: bool):
    model = transformers.AutoModelForCausalLM.from_pretrained(input_model)
    args = transformers.TrainingArguments(
        output_dir="o",
        per_device_train_batch_size=per_device_train_batch_size,
        num_train_epochs=epochs,
        learning_rate=lr,
        bf16=bf16,
        gradient_checkpointing=gradient_checkpointing,
    )
    transformers.Trainer(model=model, args=args).train()


@click.command()
@click.option("--input-model", type=str, default="Qwen/Qwen2.5-7B")
@click.option("--epochs", type=int, default=EPOCHS)
@click.option("--per-device-train-batch-size", type=int, default=8, help="Batch size")
@click.option("-l", "--lr", type=float, default=1e-5)
@click.option("--bf16/--no-bf16", default=False)
@click.option("--gradient-checkpointing", is_flag=True)
def main(**kwargs):
    train(**kwargs)


if __name__ == "__main__":
    main()
"""


def _tree(tmp_path: Path, script: str, launch: str | None) -> Path:
    files = {"train.py": script}
    if launch is not None:
        files["run.sh"] = f"#!/bin/bash\n{launch}\n"
    return write_tree(tmp_path, files, git=True) / "train.py"


def test_click_names_follow_the_declarations() -> None:
    cmd, why = click_command(ast.parse(CLICK.replace('"-l", "--lr"', '"-l", "--lr", "learning"')))
    assert cmd is not None and why == ""
    assert set(cmd.params) == {"input_model", "epochs", "per_device_train_batch_size", "learning", "bf16", "gradient_checkpointing"}
    bf16 = cmd.params["bf16"]
    assert bf16.is_flag and bf16.opts == ("--bf16",) and bf16.secondary == ("--no-bf16",)
    assert cmd.params["gradient_checkpointing"].is_flag and not cmd.params["epochs"].is_flag
    assert cmd.params["learning"].opts == ("-l", "--lr")


def test_click_defaults_are_the_values_without_a_launch_line(tmp_path: Path) -> None:
    w = load_config(_tree(tmp_path, CLICK, None)).workload
    assert w.micro_batch_size == 8 and w.sources["micro_batch_size"].line == 23  # the option's default
    assert w.precision == "fp32"  # `--bf16/--no-bf16` default False
    assert w.gradient_checkpointing is False  # an is_flag option not passed: False


def test_the_launch_line_overrides_click_defaults(tmp_path: Path) -> None:
    launch = "torchrun --nproc_per_node 2 train.py --per-device-train-batch-size 2 --bf16 --gradient-checkpointing --epochs 1"
    w = load_config(_tree(tmp_path, CLICK, launch)).workload
    assert w.micro_batch_size == 2 and w.sources["micro_batch_size"].file.endswith("run.sh")
    assert w.sources["micro_batch_size"].line == 2
    assert w.precision == "bf16" and w.gradient_checkpointing is True
    assert "`--bf16` is passed by run.sh line 2" in (w.sources["precision"].note or "")


def test_a_no_flag_sets_false_and_an_option_not_passed_keeps_its_default(tmp_path: Path) -> None:
    w = load_config(
        _tree(tmp_path, CLICK.replace('"--bf16/--no-bf16", default=False', '"--bf16/--no-bf16", default=True'), "python train.py --no-bf16")
    ).workload
    assert w.precision == "fp32"
    assert w.micro_batch_size == 8 and w.sources["micro_batch_size"].line == 23 and w.sources["micro_batch_size"].file.endswith("train.py")
    w = load_config(
        _tree(tmp_path, CLICK.replace('"--bf16/--no-bf16", default=False', '"--bf16/--no-bf16", default=True'), "python train.py --epochs 2")
    ).workload
    assert w.precision == "bf16"  # the default True, not passed


def test_a_launch_value_set_at_run_time_stays_unknown(tmp_path: Path) -> None:
    w = load_config(_tree(tmp_path, CLICK, "python train.py --per-device-train-batch-size $BS $EXTRA")).workload
    notes = " ".join(w.notes)
    assert "`--per-device-train-batch-size $BS`" in notes and "set at run time; not read" in notes
    assert "its word `$EXTRA` is set at run time and may pass it" in notes
    assert "None" not in notes


def test_a_click_group_with_several_commands_is_not_guessed(tmp_path: Path) -> None:
    group = CLICK.replace("@click.command()", "@cli.command()").replace(
        "def train(",
        "@click.group()\ndef cli():\n    pass\n\n\n@cli.command()\n@click.option('--per-device-train-batch-size', type=int, default=1)\ndef other(**kw):\n    pass\n\n\ndef train(",
    )
    cmd, why = click_command(ast.parse(group))
    assert cmd is None and "click group (cli())" in why
    w = load_config(_tree(tmp_path, group, "python train.py main --per-device-train-batch-size 2")).workload
    assert w.micro_batch_size != 2
    assert any("click group" in n for n in w.notes)


def test_a_function_called_twice_takes_no_click_values(tmp_path: Path) -> None:
    twice = CLICK.replace("    train(**kwargs)\n", "    train(**kwargs)\n    train(**kwargs)\n")
    w = load_config(_tree(tmp_path, twice, "python train.py --per-device-train-batch-size 2")).workload
    assert w.micro_batch_size != 2


NOTEBOOK = """\
# Databricks notebook source
gpu_family = dbutils.widgets.get("gpu_family")
if gpu_family == "v100":
    bf16_flag = "--no-bf16"
else:
    bf16_flag = "--bf16"

# COMMAND ----------

!python train.py --epochs 2 {bf16_flag}
"""


def test_a_run_time_word_holds_back_only_the_options_it_may_pass(tmp_path: Path) -> None:
    path = _tree(tmp_path, CLICK.replace('"--gradient-checkpointing", is_flag=True', '"--gradient-checkpointing/--no-gc", default=True'), None)
    (tmp_path / "train_nb.py").write_text(NOTEBOOK)
    w = load_config(path).workload
    notes = " ".join(w.notes)
    assert "click option `--bf16` (line 25) is not written on the launch line" in notes
    assert "the launcher sets it to `--no-bf16` or `--bf16`" in notes
    assert w.gradient_checkpointing is True and w.sources["gradient_checkpointing"].line == 26  # `$EXTRA` never passes it: the default
    assert "`--gradient-checkpointing`" not in notes and "None" not in notes


def test_a_multiple_option_takes_every_word_and_an_explicit_name(tmp_path: Path) -> None:
    from pytest_goblin.formats.python import read_script

    script = CLICK.replace(
        '@click.option("--bf16/--no-bf16", default=False)',
        '@click.option("--bf16/--no-bf16", default=False)\n@click.option("--report", "report_to", multiple=True)',
    )
    script = script.replace("def train(*, ", "def train(*, report_to, ").replace("        bf16=bf16,\n", "        bf16=bf16,\n        report_to=report_to,\n")
    path = _tree(tmp_path, script, "python train.py --report wandb --report tensorboard --epochs 1 --epochs 4")
    s = read_script(path, path.read_text())
    assert s.values["report_to"] == ["wandb", "tensorboard"]
    assert s.values["num_train_epochs"] == 4  # the last occurrence, as click's "store" keeps
    assert s.where["num_train_epochs"].fixed and "`--epochs 4`" in s.where["num_train_epochs"].fixed
