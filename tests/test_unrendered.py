"""Files that are not configs yet (a Jinja template a repository script renders): not collected,
with the renderer named; a YAML file that merely holds quoted `{{ }}` strings is still read, and
broken YAML without template syntax still gets the YAML error."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import ConfigError, NotATrainingConfig
from pytest_goblin.formats import load_config

from .repo_files import write_tree

TEMPLATE = """\
# Config for single device LoRA finetuning
model:
  _component_: torchtune.models.llama3_1.lora_llama3_1_8b
  lora_rank: 8
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: {{model_dir}}/tokenizer.model
checkpointer:
  checkpoint_dir: {{model_dir}}
batch_size: 2
epochs: 1
optimizer:
  _component_: torch.optim.AdamW
  lr: 3e-4
"""

RENDERER = """\
import jinja2
from pathlib import Path

def main(args):
    env = jinja2.Environment()
    template = env.from_string(Path(args.tune_finetune_yaml).open().read())
    Path(args.tune_finetune_yaml).open("w").write(
        template.render(model_dir=args.model_dir)
    )
"""


def _repo(tmp_path: Path, renderer: str | None, name: str = "lora_llama.yaml") -> Path:
    files = {f"scripts/{name}": TEMPLATE}
    if renderer is not None:
        files["scripts/launcher_single.py"] = renderer
    return write_tree(tmp_path, files, git=True) / "scripts" / name


def test_template_is_not_collected_and_names_its_renderer(tmp_path: Path) -> None:
    config = _repo(tmp_path, RENDERER)
    with pytest.raises(NotATrainingConfig) as exc:
        load_config(config)
    reason = exc.value.reason
    assert "Jinja template" in reason
    assert "`{{model_dir}}` at line 7" in reason
    assert "scripts/launcher_single.py:8 beside it renders Jinja templates" in reason  # the `.render(` call
    assert "fix the YAML" not in reason and "None" not in reason


def test_template_named_by_its_renderer_is_said_to_be_rendered_by_it(tmp_path: Path) -> None:
    config = _repo(tmp_path, RENDERER.replace("def main", 'DEFAULT = "lora_llama.yaml"\n\ndef main'))
    (config.parent / "other_launcher.py").write_text(RENDERER)
    reason = ""
    try:
        load_config(config)
    except NotATrainingConfig as exc:
        reason = exc.reason
    assert "scripts/launcher_single.py:10 renders it with Jinja" in reason
    assert "other_launcher.py" not in reason


def test_template_without_a_renderer_still_not_collected(tmp_path: Path) -> None:
    config = _repo(tmp_path, None)
    with pytest.raises(NotATrainingConfig, match="no Python file in its folders renders it"):
        load_config(config)


def test_quoted_braces_in_valid_yaml_are_read_as_the_config(tmp_path: Path) -> None:
    config = _repo(tmp_path, RENDERER)
    config.write_text(
        TEMPLATE.replace("{{model_dir}}/tokenizer.model", '"{{model_dir}}/tokenizer.model"').replace(
            "checkpoint_dir: {{model_dir}}", 'checkpoint_dir: "{{model_dir}}"'
        )
    )
    loaded = load_config(config)
    assert loaded.adapter.name == "torchtune"


def test_broken_yaml_without_template_syntax_keeps_the_yaml_error(tmp_path: Path) -> None:
    config = _repo(tmp_path, RENDERER)
    config.write_text("model:\n  lora_rank: [8\n# {{commented}}\nbatch_size: 2\n")
    with pytest.raises(ConfigError, match="YAML error"):
        load_config(config)


# --- a repository config whose TrainingArguments sit in a nested `training_args:` block (GLM-4, ChatGLM3)

NESTED = """\
data_config:
  train_file: train.jsonl
  num_proc: 1
max_input_length: 512
max_output_length: 512
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

FINETUNE = """\
from transformers import Seq2SeqTrainingArguments

class FinetuningConfig:
    @classmethod
    def from_dict(cls, **kwargs):
        training_args = kwargs.get("training_args", None)
        kwargs["training_args"] = Seq2SeqTrainingArguments(**training_args)
        return cls(**kwargs)
"""


def _nested_repo(tmp_path: Path, text: str) -> Path:
    return write_tree(tmp_path, {"finetune.py": FINETUNE, "configs/lora.yaml": text}, git=True) / "configs" / "lora.yaml"


def test_nested_training_args_block_is_read_as_training_arguments(tmp_path: Path) -> None:
    loaded = load_config(_nested_repo(tmp_path, NESTED))
    w = loaded.workload
    assert w.format == "hf-trainer"
    assert w.micro_batch_size == 4 and w.gradient_accumulation == 2
    src = w.sources["micro_batch_size"]
    assert src.key == "training_args.per_device_train_batch_size" and src.line == 10
    assert any("finetune.py:7 builds Seq2SeqTrainingArguments" in n for n in w.notes)
    assert not any("None" in n for n in w.notes)


def test_nested_block_edits_land_under_the_block(tmp_path: Path) -> None:
    loaded = load_config(_nested_repo(tmp_path, NESTED))
    writes = loaded.adapter.writes("micro_batch_size", 2, loaded.workload, loaded.data)
    assert writes == {"training_args.per_device_train_batch_size": 2}


def test_a_train_args_block_is_the_same_nested_reading(tmp_path: Path) -> None:
    """review8b #37 (xiatingyu/SFT-DataSelection-at-scale diverse/configs/*.yml): the block is `train_args:`, built
    with `TrainingArguments(**train_args)`; it was not collected ("no known config format matched")."""
    config = _nested_repo(tmp_path, NESTED.replace("training_args:", "train_args:"))
    (tmp_path / "finetune.py").write_text(FINETUNE.replace("training_args", "train_args"))
    loaded = load_config(config)
    w = loaded.workload
    assert w.format == "hf-trainer" and w.micro_batch_size == 4
    assert w.sources["micro_batch_size"].key == "train_args.per_device_train_batch_size"
    assert any("the TrainingArguments are the `train_args:` block" in n for n in w.notes)
    assert loaded.adapter.writes("micro_batch_size", 2, w, loaded.data) == {"train_args.per_device_train_batch_size": 2}


def test_a_train_args_block_without_trainer_keys_is_not_collected(tmp_path: Path) -> None:
    with pytest.raises(NotATrainingConfig):
        load_config(_nested_repo(tmp_path, "data_config:\n  train_file: a.jsonl\ntrain_args:\n  output_dir: ./out\n  run_name: x\n"))


def test_a_block_named_training_args_without_trainer_keys_is_not_collected(tmp_path: Path) -> None:
    text = "data_config:\n  train_file: a.jsonl\ntraining_args:\n  output_dir: ./out\n  run_name: x\n"
    with pytest.raises(NotATrainingConfig):
        load_config(_nested_repo(tmp_path, text))


def test_flat_training_arguments_file_keeps_the_flat_reading(tmp_path: Path) -> None:
    flat = "per_device_train_batch_size: 4\ngradient_accumulation_steps: 2\nlearning_rate: 1e-4\ntraining_args:\n  per_device_train_batch_size: 9\n  max_steps: 1\n  logging_steps: 1\n"
    w = load_config(_nested_repo(tmp_path, flat)).workload
    assert w.micro_batch_size == 4 and w.sources["micro_batch_size"].key == "per_device_train_batch_size"


# --- a wrapper script that calls the training function of another module (LLaVA train_mem.py)


def _wrapper_repo(tmp_path: Path, module_text: str) -> Path:
    files = {
        "llava/train/train.py": module_text,
        "llava/train/train_mem.py": 'from llava.train.train import train\n\nif __name__ == "__main__":\n    train(attn_implementation="flash_attention_2")\n',
    }
    return write_tree(tmp_path, files, git=True) / "llava" / "train" / "train_mem.py"


def test_wrapper_names_the_module_it_calls(tmp_path: Path) -> None:
    module = "import transformers\n\ndef train(attn_implementation=None):\n    parser = transformers.HfArgumentParser((TrainingArguments,))\n"
    with pytest.raises(NotATrainingConfig) as exc:
        load_config(_wrapper_repo(tmp_path, module))
    assert "`train()` of llava.train.train (llava/train/train.py) at line 4; goblin audits llava/train/train.py as its own item" in exc.value.reason


def test_a_script_calling_a_module_without_training_arguments_keeps_the_plain_reason(tmp_path: Path) -> None:
    with pytest.raises(NotATrainingConfig) as exc:
        load_config(_wrapper_repo(tmp_path, "def train(attn_implementation=None):\n    return 1\n"))
    assert exc.value.reason == "a Python file without a TrainingArguments or TRL config call"


def _with_script(tmp_path: Path, body: str) -> Path:
    config = _nested_repo(tmp_path, NESTED.replace("training_args:", "training_args:\n  gradient_checkpointing: false"))
    (tmp_path / "finetune.py").write_text(FINETUNE + body)
    return config


def test_nested_block_takes_the_scripts_bf16_load_and_checkpointing(tmp_path: Path) -> None:
    body = (
        "\ndef main(model_dir):\n"
        "    model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.bfloat16)\n"
        "    model.gradient_checkpointing_enable()\n"
    )
    w = load_config(_with_script(tmp_path, body)).workload
    assert w.precision == "bf16" and w.weight_dtype == "bf16"
    assert "finetune.py:11 loads the model with torch_dtype bf16" in (w.sources["precision"].note or "")
    assert w.gradient_checkpointing is True
    assert "finetune.py:12 calls gradient_checkpointing_enable()" in (w.sources["gradient_checkpointing"].note or "")
    assert w.method == "lora" and w.sources["method"].key == "peft_config.peft_type"


def test_nested_block_without_a_half_load_or_unguarded_checkpointing_keeps_transformers_defaults(tmp_path: Path) -> None:
    body = (
        "\ndef main(model_dir, resume):\n"
        "    model = AutoModelForCausalLM.from_pretrained(model_dir, trust_remote_code=True)\n"
        "    if resume:\n"
        "        model.gradient_checkpointing_enable()\n"
    )
    w = load_config(_with_script(tmp_path, body)).workload
    assert w.precision == "fp32"
    assert w.gradient_checkpointing is False
    assert "transformers" in (w.framework or "") and "trl" not in (w.framework or "")
