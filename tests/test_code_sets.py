"""TrainingArguments fields the script a launch line runs sets in code on the object it parsed the recipe into
(formats/codeset.py; review7b #28 unionai-oss llm-fine-tuning llm_fine_tuning.py:283 `replace(training_args, fp16=True,
bf16=False)`): counted where every `if` is known true and the value is a literal, unread under an `if` goblin cannot
evaluate, nothing where the code does not run. Nothing is executed."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.semantics import strategy_unread
from pytest_goblin.options import build_settings
from pytest_goblin.service import audit_file

from .repo_files import write_tree

TA_JSON = '{\n    "output_dir": "/tmp",\n    "per_device_train_batch_size": 1,\n    "gradient_accumulation_steps": 16,\n    "learning_rate": 0.00002\n}\n'
MODEL_JSON = '{\n    "model_name_or_path": "meta-llama/Meta-Llama-3-8B"\n}\n'
FLYTE_TASK = """\
from dataclasses import dataclass, replace
from typing import Optional
import flytekit
import transformers
from flytekit import Resources
from flytekitplugins.kfpytorch.task import Elastic


@dataclass
class TrainingArguments(transformers.TrainingArguments):
    model_max_length: int = 512


@flytekit.task(task_config=Elastic(nnodes=1), requests=Resources(mem="120Gi", gpu="8"))
def train(model_args: dict, training_args: TrainingArguments, ds_config: Optional[dict] = None) -> None:
    training_args = replace(
        training_args,
        fp16=True,
        bf16=False,
    )
    if ds_config:
        training_args = replace(training_args, deepspeed=ds_config)
    transformers.Trainer(model=None, args=training_args).train()
"""
FLYTE_README = (
    "```bash\npyflyte --config $FLYTECTL_CONFIG run --remote \\\n    --image x/y:latest \\\n    task.py train \\\n"
    '    --model_args "$(cat config/model_args.json)" \\\n    --training_args "$(cat config/training_args.json)" \\\n'
    "    --ds_config '{}'\n```\n"
)
PARSED = """\
import argparse
import dataclasses
from transformers import HfArgumentParser, Trainer, TrainingArguments


@dataclasses.dataclass
class DataArguments:
    use_long: bool = False


def unused(training_args):
    training_args.fp16 = True


def main():
    parser = HfArgumentParser((DataArguments, TrainingArguments))
    data_args, training_args = parser.parse_json_file("config/train.json")
    args = argparse.ArgumentParser().parse_args()
{body}
    Trainer(model=None, args=training_args).train()


if __name__ == "__main__":
    main()
"""


def _parsed(tmp_path: Path, body: str) -> Path:
    files = {"train.py": PARSED.format(body=body), "run.sh": "python train.py config/train.json\n", "config/train.json": TA_JSON}
    return write_tree(tmp_path, files, git=True) / "config/train.json"


def test_a_flyte_task_that_forces_fp16_after_parsing_runs_fp16_and_no_edit_lands_in_the_json(tmp_path: Path) -> None:
    files = {"task.py": FLYTE_TASK, "README.md": FLYTE_README, "config/training_args.json": TA_JSON, "config/model_args.json": MODEL_JSON}
    path = write_tree(tmp_path, files, git=True) / "config/training_args.json"
    w = load_config(path).workload
    src = w.sources["precision"]
    assert w.precision == "fp16" and src.file.endswith("task.py") and src.line == 16 and src.key == "fp16"
    assert "in the script's code by hand" in (src.note or "")
    assert any("replace(training_args, fp16=True, bf16=False)" in n and "task.py:16" in n for n in w.notes)
    # `if ds_config:` is a task parameter goblin cannot evaluate: the DDP it projects is a guess, said so
    assert w.strategy == "ddp" and (strategy_unread(w) or "").startswith("`training_args = replace(training_args, deepspeed=ds_config)` at task.py:22")
    report = audit_file(path, build_settings({"target": "mi300x"}), shown_as="config.json").report
    # fp16 on MI300X: bf16 is proposed (same matrix peak, no loss scaler), but the code sets it: no edit of the JSON
    assert report.patch is not None and not any(f.rule_id == "precision.bf16_amp_over_fp32" for f in report.findings)
    assert any(f.rule_id == "precision.bf16_over_fp16" for f in report.findings) and "precision.bf16_over_fp16" not in report.patch.rule_ids
    assert "change it in the script's code by hand" in report.patch.skipped["precision.bf16_over_fp16"]
    assert "bf16" not in report.patch.diff


def test_attribute_and_setattr_under_a_known_if_set_the_field(tmp_path: Path) -> None:
    body = '    training_args.gradient_checkpointing = True\n    if not data_args.use_long:\n        setattr(training_args, "bf16", True)\n'
    w = load_config(_parsed(tmp_path, body)).workload
    assert w.gradient_checkpointing is True and w.sources["gradient_checkpointing"].file.endswith("train.py")
    assert w.precision == "bf16" and w.sources["precision"].line == 21
    assert any("the `if` at line 20 is true (`use_long` takes its default false)" in n for n in w.notes)


def test_a_setting_in_a_function_never_called_or_under_a_false_if_sets_nothing(tmp_path: Path) -> None:
    # `unused()` holds `training_args.fp16 = True` and nothing calls it; `if data_args.use_long:` is false by its default
    w = load_config(_parsed(tmp_path, "    if data_args.use_long:\n        training_args.fp16 = True\n")).workload
    assert w.precision == "fp32" and not w.sources["precision"].unread
    assert not any("sets fp16" in n for n in w.notes)


def test_a_setting_under_an_unknown_if_leaves_the_field_unread(tmp_path: Path) -> None:
    path = _parsed(tmp_path, "    if args.debug:\n        training_args.fp16 = True\n")
    w = load_config(path).workload
    src = w.sources["precision"]
    assert w.precision == "fp32" and src.unread and "the `if` at line 19 (`args.debug`), which goblin cannot evaluate" in (src.note or "")
    assert any("precision assumed for the projection, not judged" in n for n in w.notes)
    report = audit_file(path, build_settings({"target": "mi300x"}), shown_as="config.json").report
    assert not any(f.rule_id.startswith("precision.") for f in report.findings)
    # a value goblin cannot read under a true `if` is unread too
    w2 = load_config(_parsed(tmp_path / "b", "    training_args.fp16 = args.half\n")).workload
    assert w2.sources["precision"].unread and "to `args.half`, a value goblin cannot read" in (w2.sources["precision"].note or "")


SCRIPT = """\
import dataclasses
from dataclasses import dataclass, replace
from transformers import HfArgumentParser, TrainingArguments, AutoModelForCausalLM, Trainer


@dataclass
class ModelArguments:
    model_name_or_path: str = "Qwen/Qwen2.5-7B"


def never_called(training_args):
    return replace(training_args, bf16=True)


parser = HfArgumentParser((ModelArguments, TrainingArguments))
model_args, training_args = parser.parse_args_into_dataclasses()
{body}
Trainer(model=AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path), args=training_args).train()
"""
LAUNCH = "torchrun --nproc_per_node 4 sft.py --per_device_train_batch_size 2 --output_dir out\n"


def _script(root: Path, body: str) -> Path:
    return write_tree(root, {"sft.py": SCRIPT.format(body=body), "sft.sh": LAUNCH}, git=True) / "sft.py"


def test_a_script_config_reads_replace_and_setattr_on_the_parsed_arguments(tmp_path: Path) -> None:
    body = 'training_args = dataclasses.replace(training_args, fp16=True)\nsetattr(training_args, "gradient_checkpointing", True)'
    w = load_config(_script(tmp_path, body)).workload
    assert w.precision == "fp16" and w.sources["precision"].line == 17 and not w.sources["precision"].unread
    assert w.gradient_checkpointing is True and w.sources["gradient_checkpointing"].line == 18
    assert any("line 17: `dataclasses.replace(training_args, fp16=True)` sets fp16 after the config is built" in n for n in w.notes)


def test_a_script_config_sets_nothing_from_an_uncalled_function_and_leaves_an_unknown_if_unread(tmp_path: Path) -> None:
    # `never_called()` holds `replace(training_args, bf16=True)`: nothing runs it, so the run stays fp32 and is judged
    w = load_config(_script(tmp_path, "")).workload
    assert w.precision == "fp32" and not w.sources["precision"].unread and not any("sets bf16" in n for n in w.notes)
    w2 = load_config(_script(tmp_path / "b", "if training_args.local_rank == 0 and flag():\n    training_args.bf16 = True")).workload
    src = w2.sources["precision"]
    assert w2.precision == "fp32" and src.unread and "sft.py: `training_args.bf16 = ...` at line 18 sets bf16 under the `if` at line 17" in (src.note or "")
