"""The model of a YAML/JSON recipe named by the key the launched script loads (review11b class 2, row 28:
oracle-quickstart/oci-amd-gpu-onboarding lora.py:93,112 `AutoModelForCausalLM.from_pretrained(script_args.model_id, ...)`
over `model_id: "/data/models/Meta-Llama-3-70B"`): the field comes from the script's own from_pretrained call, never from
a list of key names. Nothing is executed."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launched import launched_script

from .repo_files import write_tree

RECIPE = """\
model_id: "/data/models/Meta-Llama-3-70B"
dataset_path: "."
max_seq_length: 2048
output_dir: out
learning_rate: 0.00001
per_device_train_batch_size: 2
gradient_accumulation_steps: 1
bf16: true
gradient_checkpointing: false
"""

SCRIPT = """\
from dataclasses import dataclass, field
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainingArguments
from trl.commands.cli_utils import TrlParser
from trl import SFTTrainer


@dataclass
class ScriptArguments:
    dataset_path: str = field(default=None)
    model_id: str = field(default=None, metadata={"help": "Model ID to use for SFT training"})
    max_seq_length: int = field(default=2048)


def training_function(script_args, training_args):
    tokenizer = AutoTokenizer.from_pretrained(script_args.model_id, use_fast=True)
    model = AutoModelForCausalLM.from_pretrained(LOAD, torch_dtype="bfloat16")
    SFTTrainer(model=model, args=training_args, tokenizer=tokenizer).train()


if __name__ == "__main__":
    parser = TrlParser((ScriptArguments, TrainingArguments))
    script_args, training_args = parser.parse_args_and_config()
    training_function(script_args, training_args)
"""


def _repo(tmp_path: Path, load: str = "script_args.model_id", recipe: str = RECIPE, launch: str = "") -> Path:
    write_tree(
        tmp_path,
        {
            "ft/lora.py": SCRIPT.replace("LOAD", load),
            "ft/lora.yaml": recipe,
            "ft/run.sh": f"torchrun --nproc_per_node=8 ./lora.py --config lora.yaml{launch}\n",
        },
        git=True,
    )
    return tmp_path / "ft" / "lora.yaml"


def test_the_key_the_launched_script_loads_names_the_model(tmp_path: Path) -> None:
    config = _repo(tmp_path)
    launched = launched_script(config)
    assert launched is not None and launched.model_field == ("model_id", 16, "AutoModelForCausalLM.from_pretrained(script_args.model_id, ...)")
    w = load_config(config).workload
    assert w.model.known and w.model.params_b is not None and w.model.params_b > 60  # Meta-Llama-3-70B, by the path's last part
    assert w.sources["model"].key == "model_id" and w.sources["model"].line == 1
    notes = " ".join(w.notes)
    assert "model: `model_id` of this file, the field ft/lora.py:16 loads as the model" in notes
    assert "none given" not in notes


def test_a_launch_word_for_that_key_names_the_model_that_runs(tmp_path: Path) -> None:
    config = _repo(tmp_path, launch=" --model_id meta-llama/Meta-Llama-3-8B")
    w = load_config(config).workload
    assert w.model.params_b is not None and w.model.params_b < 10
    assert w.sources["model"].file.endswith("run.sh") and w.sources["model"].key == "model_id"


def test_a_load_of_anything_else_names_no_key(tmp_path: Path) -> None:
    # the model is a literal in the script: the file's model_id is not what loads (the tokenizer's read is no model load)
    config = _repo(tmp_path, load='"meta-llama/Meta-Llama-3-8B"')
    launched = launched_script(config)
    assert launched is not None and launched.model_field is None
    w = load_config(config).workload
    assert w.sources.get("model") is None or w.sources["model"].key != "model_id"
    assert not (w.model.params_b is not None and w.model.params_b > 60)


def test_a_field_the_parser_classes_do_not_declare_names_no_key(tmp_path: Path) -> None:
    # `other.model_id` where no parser class declares `model_path`: not a field of the file
    config = _repo(tmp_path, load="script_args.model_path", recipe=RECIPE.replace("model_id", "model_path"))
    launched = launched_script(config)
    assert launched is not None and launched.model_field is None
    assert not load_config(config).workload.model.known


def test_no_launch_line_no_script_key(tmp_path: Path) -> None:
    config = _repo(tmp_path)
    (tmp_path / "ft" / "run.sh").unlink()
    assert launched_script(config) is None
    assert not load_config(config).workload.model.known


def _removed(config: Path) -> list[tuple[str, str | None, int | None]]:
    from pytest_goblin import blockers
    from pytest_goblin.hardware import get_hardware

    got = blockers.findings(load_config(config), get_hardware("mi300x"))
    return [(f.rule_id, f.file, f.line) for f in got if f.rule_id.startswith("blocker.module_")]


def test_the_launched_scripts_trl_commands_import_stops_on_trl_0_13(tmp_path: Path) -> None:
    # trl v0.12.2 trl/commands/cli_utils.py:182 `class TrlParser`; v0.13.0 has no trl/commands/ (commit ca850be0a, #2380)
    config = _repo(tmp_path)
    write_tree(tmp_path, {"ft/requirements.txt": "trl==0.13.0\n"})
    assert _removed(config) == [("blocker.module_removed_at_version", "ft/lora.py", 3)]
    unpinned = _repo(tmp_path / "b")
    write_tree(tmp_path / "b", {"ft/requirements.txt": "trl\n"})  # unpinned: the newest, assumed
    assert _removed(unpinned) == [("blocker.module_unknown_at_version", "ft/lora.py", 3)]


def test_trl_commands_on_trl_0_12_or_from_trl_imports_nothing_removed(tmp_path: Path) -> None:
    config = _repo(tmp_path)
    write_tree(tmp_path, {"ft/requirements.txt": "trl==0.12.2\n"})  # the last release with trl.commands
    assert _removed(config) == []
    moved = _repo(tmp_path / "b")
    write_tree(
        tmp_path / "b",
        {"ft/requirements.txt": "trl\n", "ft/lora.py": SCRIPT.replace("from trl.commands.cli_utils import TrlParser", "from trl import TrlParser")},
    )
    assert _removed(moved) == []


def test_a_script_importing_trl_commands_is_judged_on_its_own_item(tmp_path: Path) -> None:
    from pytest_goblin.frameworks.modules import imports

    got = [(i.line, i.removed.gone) for i in imports("import os\nfrom trl.commands.cli_utils import TrlParser, init_zero_verbose\n")]
    assert got == [(2, "0.13.0")]
    assert not [i for i in imports("from trl.scripts.utils import TrlParser\nfrom mytrl.commands import x\n") if i.removed.dist == "trl"]


# review11b #31: lixinyu66666/Qwen3-1.7b_RLHF scripts/train_lora.py:18,30-46,54-56 (the JSON opened by its literal path)
TA_JSON = """{
  "output_dir": "checkpoints/qwen3_lora",
  "per_device_train_batch_size": 2,
  "gradient_accumulation_steps": 4,
  "learning_rate": 2e-5,
  "fp16": true
}
"""

OPENER = """\
import json
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, Trainer, TrainingArguments
from peft import LoraConfig, get_peft_model

model_name = "Qwen/Qwen3-1.7B"
tokenizer = AutoTokenizer.from_pretrained(model_name)
bnb_config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float16)
model = AutoModelForCausalLM.from_pretrained(model_name, quantization_config=bnb_config, device_map="auto")
model.gradient_checkpointing_enable()
with open("configs/lora_config.json", "r") as f:
    lora_dict = json.load(f)
model = get_peft_model(model, LoraConfig(**lora_dict))
with open(PATH, "r") as f:
    training_args_dict = json.load(f)
training_args = TrainingArguments(**training_args_dict)
Trainer(model=model, args=training_args).train()
"""


def _opener(tmp_path: Path, path: str = '"configs/training_args.json"', script: str = OPENER, extra: dict[str, str] | None = None) -> Path:
    files = {"configs/training_args.json": TA_JSON, "configs/lora_config.json": '{"r": 8}\n', "scripts/train_lora.py": script.replace("PATH", path)}
    write_tree(tmp_path, {**files, **(extra or {})}, git=True)
    return tmp_path / "configs" / "training_args.json"


def test_a_script_opening_the_recipe_by_its_path_is_its_script(tmp_path: Path) -> None:
    config = _opener(tmp_path)
    launched = launched_script(config)
    assert launched is not None and launched.script == "scripts/train_lora.py"
    assert (
        launched.where == "scripts/train_lora.py:15 opens this file by its path and builds TrainingArguments from it (line 16); no launch line names this file"
    )
    assert launched.model_literal == ("Qwen/Qwen3-1.7B", 9, "AutoModelForCausalLM.from_pretrained(model_name, ...)")
    w = load_config(config).workload
    assert w.model.name == "Qwen/Qwen3-1.7B" and w.model.known
    assert w.sources["model"].line == 9 and (w.sources["model"].file or "").endswith("train_lora.py")
    assert w.quantization == "4bit" and w.method == "qlora"
    assert w.gradient_checkpointing is True and w.sources["gradient_checkpointing"].line == 10


def test_a_path_from_the_scripts_own_folder_and_a_direct_load(tmp_path: Path) -> None:
    script = OPENER.replace(
        'with open(PATH, "r") as f:\n    training_args_dict = json.load(f)\ntraining_args = TrainingArguments(**training_args_dict)',
        "training_args = TrainingArguments(**json.load(open(PATH)))",
    )
    config = _opener(tmp_path, '"../configs/training_args.json"', script)
    launched = launched_script(config)
    assert launched is not None and launched.script == "scripts/train_lora.py"


def test_a_script_that_opens_another_file_or_does_not_build_the_class_is_not_its_script(tmp_path: Path) -> None:
    # the handle of the lora file's `with` is not the recipe's, nor a path that does not resolve to it
    assert launched_script(_opener(tmp_path / "a", '"configs/other.json"')) is None
    # the recipe is opened and read, but only printed: no TrainingArguments is built from it
    printed = OPENER.replace(
        "training_args = TrainingArguments(**training_args_dict)", "print(training_args_dict)\ntraining_args = TrainingArguments(output_dir='o')"
    )
    config = _opener(tmp_path / "b", script=printed)
    assert launched_script(config) is None
    assert not load_config(config).workload.model.known


def test_two_scripts_opening_the_recipe_name_no_script(tmp_path: Path) -> None:
    second = OPENER.replace("Qwen/Qwen3-1.7B", "Qwen/Qwen2.5-7B").replace("PATH", '"configs/training_args.json"')
    config = _opener(tmp_path, extra={"scripts/train_other.py": second})
    assert launched_script(config) is None
    assert not load_config(config).workload.model.known


def test_a_model_name_bound_twice_or_a_parameter_is_not_fixed(tmp_path: Path) -> None:
    rebound = OPENER.replace("model.gradient_checkpointing_enable()", "model.gradient_checkpointing_enable()\nmodel_name = 'Qwen/Qwen2.5-7B'")
    launched = launched_script(_opener(tmp_path / "a", script=rebound))
    assert launched is not None and launched.model_literal is None
    guarded = OPENER.replace("model.gradient_checkpointing_enable()", "if torch.cuda.device_count() > 1:\n    model.gradient_checkpointing_enable()")
    w = load_config(_opener(tmp_path / "b", script=guarded)).workload
    assert w.model.name == "Qwen/Qwen3-1.7B" and w.gradient_checkpointing is False  # an `if` goblin cannot evaluate: not read


def test_checkpointing_enabled_inside_a_function_is_not_read_as_every_run(tmp_path: Path) -> None:
    in_function = OPENER.replace("model.gradient_checkpointing_enable()", "def enable(m):\n    m.gradient_checkpointing_enable()")
    w = load_config(_opener(tmp_path, script=in_function)).workload
    assert w.gradient_checkpointing is False


def test_the_fields_default_names_the_model_where_the_file_does_not_set_it(tmp_path: Path) -> None:
    # review12b row 35 (smerrillunc/llm_decisions train_agent_llm.py:72-74, :161-162), cut down: the script loads
    # `script_args.model_name`, whose default names the model; the recipe sets `model_id`, which no field reads
    script = SCRIPT.replace("model_id: str = field(default=None,", 'model_name: str = field(default="meta-llama/Meta-Llama-3-70B-Instruct",')
    write_tree(
        tmp_path,
        {
            "ft/lora.py": script.replace("script_args.model_id", "script_args.model_name").replace("LOAD", "script_args.model_name"),
            "ft/lora.yaml": RECIPE,
            "ft/run.sh": "torchrun --nproc_per_node=8 ./lora.py --config lora.yaml\n",
        },
        git=True,
    )
    w = load_config(tmp_path / "ft" / "lora.yaml").workload
    assert w.model.known and w.model.params_b is not None and w.model.params_b > 60
    assert w.sources["model"].key == "model_name" and w.sources["model"].line == 10 and w.sources["model"].explicit is False
    notes = " ".join(w.notes)
    assert "loads the field `model_name` as the model" in notes and "its default meta-llama/Meta-Llama-3-70B-Instruct in ScriptArguments" in notes


def test_a_field_without_a_default_or_set_by_the_file_is_not_taken_from_a_default(tmp_path: Path) -> None:
    # the field's default is None (the recipe's model_id is read as before); and a recipe setting the key wins over a default
    config = _repo(tmp_path)
    w = load_config(config).workload
    assert w.sources["model"].line == 1 and "its default" not in " ".join(w.notes)
    script = SCRIPT.replace("model_id: str = field(default=None,", 'model_id: str = field(default="meta-llama/Meta-Llama-3-8B",')
    write_tree(
        tmp_path / "b",
        {
            "ft/lora.py": script.replace("LOAD", "script_args.model_id"),
            "ft/lora.yaml": RECIPE,
            "ft/run.sh": "torchrun --nproc_per_node=8 ./lora.py --config lora.yaml\n",
        },
        git=True,
    )
    w2 = load_config(tmp_path / "b" / "ft" / "lora.yaml").workload
    assert w2.model.params_b is not None and w2.model.params_b > 60 and "its default" not in " ".join(w2.notes)
