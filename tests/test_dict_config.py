"""A training script whose settings come from a YAML/JSON file it loads into a dict (formats/dictcfg.py):
the file's values, each sourced at its line there, read as data. Small synthetic trees; nothing run."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_file, write_tree

SCRIPT = """\
import argparse
import yaml
from transformers import AutoModelForCausalLM, TrainingArguments, Trainer
{helper}

ap = argparse.ArgumentParser()
ap.add_argument("--config", default="configs/p1.yaml")
args = ap.parse_args()
cfg = {load}
model_cfg = cfg["model"]
training_cfg = cfg["training"]
{mutation}
model = AutoModelForCausalLM.from_pretrained(model_cfg["name"])
targs = TrainingArguments(
    output_dir="o",
    per_device_train_batch_size=training_cfg["per_device_train_batch_size"],
    bf16=training_cfg.get("bf16", True),
    gradient_checkpointing=training_cfg["gradient_checkpointing"],
)
Trainer(model=model, args=targs).train()
"""

HELPER = """\
def load_yaml(p):
    with open(p) as f:
        return yaml.safe_load(f)
"""

YAML = """\
model:
  name: Qwen/Qwen2.5-14B
training:
  per_device_train_batch_size: 6
  bf16: false
  gradient_checkpointing: true
"""


def _repo(tmp_path: Path, helper: str = HELPER, load: str = "load_yaml(args.config)", mutation: str = "", yaml_text: str = YAML) -> Path:
    files = {"configs/p1.yaml": yaml_text, "train.py": SCRIPT.format(helper=helper, load=load, mutation=mutation)}
    return write_tree(tmp_path, files, git=True) / "train.py"


def test_the_settings_a_script_loads_from_its_yaml_are_read_with_their_lines(tmp_path: Path) -> None:
    loaded = load_config(_repo(tmp_path))
    w = loaded.workload
    assert w.micro_batch_size == 6
    assert w.precision != "bf16"
    assert w.gradient_checkpointing is True
    assert w.model.name == "Qwen/Qwen2.5-14B"
    src = w.sources["micro_batch_size"]
    assert src.file is not None and src.file.endswith("configs/p1.yaml") and src.line == 4
    assert any("configs/p1.yaml" in n and "repository root" in n for n in w.notes)


def test_a_loader_imported_from_the_repository_is_followed(tmp_path: Path) -> None:
    write_file(tmp_path, "utils/config.py", "import yaml\n\n\ndef load_config(path):\n    return yaml.safe_load(open(path))\n")
    path = _repo(tmp_path, helper="from utils.config import load_config", load="load_config(args.config)")
    w = load_config(path).workload
    assert w.micro_batch_size == 6
    assert w.sources["micro_batch_size"].file.endswith("configs/p1.yaml")


def test_the_launch_lines_config_word_wins_over_the_default(tmp_path: Path) -> None:
    path = _repo(tmp_path)
    write_file(tmp_path, "configs/other.yaml", YAML.replace("batch_size: 6", "batch_size: 3"))
    write_file(tmp_path, "run.sh", "python train.py --config configs/other.yaml\n")
    w = load_config(path).workload
    assert w.micro_batch_size == 3
    assert w.sources["micro_batch_size"].file.endswith("configs/other.yaml")


def test_a_get_default_applies_where_the_key_is_absent(tmp_path: Path) -> None:
    path = _repo(tmp_path, yaml_text=YAML.replace("  bf16: false\n", ""))
    w = load_config(path).workload
    assert w.precision == "bf16"
    assert w.sources["precision"].file.endswith("train.py")


def test_json_and_with_open_loads_are_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(
        tmp_path, "cfg.json", '{"model": {"name": "Qwen/Qwen2.5-14B"},\n "training": {"per_device_train_batch_size": 5, "gradient_checkpointing": false}}\n'
    )
    text = SCRIPT.format(helper="import json", load="json.load(open('cfg.json'))", mutation="")
    w = load_config(write_file(tmp_path, "train.py", text)).workload
    assert w.micro_batch_size == 5
    assert w.sources["micro_batch_size"].file.endswith("cfg.json") and w.sources["micro_batch_size"].line == 2


# ------------------------------------------------------------------ must not fire
def test_a_path_set_at_run_time_stays_unknown_with_a_note(tmp_path: Path) -> None:
    path = _repo(tmp_path, helper=HELPER + "import os", load='load_yaml(os.environ["CFG"])')
    w = load_config(path).workload
    assert w.micro_batch_size != 6
    assert any("set at run time" in n for n in w.notes)


def test_an_f_string_of_unknowns_stays_unknown(tmp_path: Path) -> None:
    path = _repo(tmp_path, helper=HELPER + "import os", load="load_yaml(f\"configs/{os.environ['RUN']}.yaml\")")
    w = load_config(path).workload
    assert w.micro_batch_size != 6
    assert any("set at run time" in n for n in w.notes)


def test_a_file_outside_the_tree_is_not_read(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_file(tmp_path, "outside.yaml", YAML)
    path = _repo(repo, load="load_yaml('../outside.yaml')")
    w = load_config(path).workload
    assert w.micro_batch_size != 6
    assert any("not read" in n and "outside.yaml" in n for n in w.notes)


def test_a_loader_goblin_cannot_recognise_is_not_read(tmp_path: Path) -> None:
    helper = "def load_yaml(p):\n    data = yaml.safe_load(open(p))\n    data['x'] = 1\n    return massage(data)\n"
    path = _repo(tmp_path, helper=helper)
    w = load_config(path).workload
    assert w.micro_batch_size != 6
    assert "micro_batch_size" not in w.sources or not (w.sources["micro_batch_size"].file or "").endswith("p1.yaml")


def test_a_key_changed_after_the_load_is_never_the_stale_value(tmp_path: Path) -> None:
    path = _repo(tmp_path, mutation='cfg["training"]["per_device_train_batch_size"] = 2')
    w = load_config(path).workload
    assert w.micro_batch_size != 6
    assert any("changed by the script" in n for n in w.notes)
    # a dict handed whole to a function goblin does not read may be changed there
    path = _repo(tmp_path / "b", mutation="apply_overrides(cfg, args)")
    assert load_config(path).workload.micro_batch_size != 6


def test_a_key_the_file_lacks_without_a_default_stays_unknown(tmp_path: Path) -> None:
    path = _repo(tmp_path, yaml_text=YAML.replace("  per_device_train_batch_size: 6\n", ""))
    w = load_config(path).workload
    assert w.micro_batch_size != 6
    assert any("has no `training.per_device_train_batch_size`" in n for n in w.notes)


def test_a_value_yaml_1_1_reads_otherwise_is_not_read(tmp_path: Path) -> None:
    path = _repo(tmp_path, yaml_text=YAML.replace("gradient_checkpointing: true", "gradient_checkpointing: yes"))
    w = load_config(path).workload
    assert any("YAML 1.1" in n for n in w.notes)


def test_an_edit_to_a_value_of_the_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = _repo(tmp_path)
    loaded = load_config(path)
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, loaded.workload, {"micro_batch_size": 8, "gradient_checkpointing": False})
    assert text == loaded.text  # nothing written into the script: the value lives in the YAML
    assert "configs/p1.yaml line 4" in skipped["micro_batch_size"] and "training.per_device_train_batch_size" in skipped["micro_batch_size"]
    assert "configs/p1.yaml line 6" in skipped["gradient_checkpointing"]


UNSLOTH = """\
import argparse
import yaml
from unsloth import FastLanguageModel
from trl import SFTConfig, SFTTrainer

ap = argparse.ArgumentParser()
ap.add_argument("--config", default="configs/p1_8b_qlora.yaml")
args = ap.parse_args()
with open(args.config) as f:
    cfg = yaml.safe_load(f)
model_cfg = cfg["model"]
model, tokenizer = FastLanguageModel.from_pretrained(
    model_name=model_cfg["name"], max_seq_length=cfg["data"]["max_len"], load_in_4bit=model_cfg["load_in_4bit"]
)
model = FastLanguageModel.get_peft_model(model, r=16)
sft = SFTConfig(output_dir="o", per_device_train_batch_size=cfg["training"]["batch"])
SFTTrainer(model=model, processing_class=tokenizer, args=sft).train()
"""


def test_an_unsloth_load_reads_the_files_values(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "configs/p1_8b_qlora.yaml", "model:\n  name: Qwen/Qwen2.5-7B\n  load_in_4bit: false\ndata:\n  max_len: 3072\ntraining:\n  batch: 7\n")
    w = load_config(write_file(tmp_path, "train.py", UNSLOTH)).workload
    assert w.micro_batch_size == 7 and w.seq_len == 3072
    assert w.quantization == "none"  # the file's load_in_4bit: false, not Unsloth's default
    assert w.sources["seq_len"].file.endswith("p1_8b_qlora.yaml") and w.sources["seq_len"].line == 5


def test_omegaconf_attributes_are_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "conf.yaml", YAML)
    text = SCRIPT.format(helper="from omegaconf import OmegaConf", load="OmegaConf.load('conf.yaml')", mutation="")
    text = text.replace('training_cfg["per_device_train_batch_size"]', "cfg.training.per_device_train_batch_size")
    w = load_config(write_file(tmp_path, "train.py", text)).workload
    assert w.micro_batch_size == 6 and w.sources["micro_batch_size"].line == 4


def test_toml_and_path_wrapped_loads_are_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(
        tmp_path,
        "train.toml",
        '[model]\nname = "Qwen/Qwen2.5-14B"\n\n[[runs]]\nper_device_train_batch_size = 1\n\n'
        "[training]\nper_device_train_batch_size = 4\ngradient_checkpointing = true\n",
    )
    text = SCRIPT.format(helper="import tomllib\nfrom pathlib import Path", load="tomllib.load(Path('train.toml').open('rb'))", mutation="")
    w = load_config(write_file(tmp_path, "train.py", text)).workload
    assert w.micro_batch_size == 4 and w.sources["micro_batch_size"].file.endswith("train.toml") and w.sources["micro_batch_size"].line == 8


def test_a_number_read_from_the_file_and_handed_to_a_function_is_still_read(tmp_path: Path) -> None:
    path = _repo(tmp_path, mutation='bs = training_cfg["per_device_train_batch_size"]\nlog_value(bs)\nlog_value(model_cfg)')
    w = load_config(path).workload
    assert w.micro_batch_size == 6  # `bs` is a number: log_value cannot change it
    assert w.model.name != "Qwen/Qwen2.5-14B"  # model_cfg is a mapping log_value may change: not read


def test_a_launch_word_is_resolved_from_its_launchers_folder(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "exp/configs/p1.yaml", YAML.replace("batch_size: 6", "batch_size: 5"))
    write_file(tmp_path, "exp/run.sh", "python ../train.py --config configs/p1.yaml\n")  # run from exp/
    path = write_file(tmp_path, "train.py", SCRIPT.format(helper=HELPER, load="load_yaml(args.config)", mutation=""))
    w = load_config(path).workload
    assert w.micro_batch_size == 5 and w.sources["micro_batch_size"].file.endswith("exp/configs/p1.yaml")
    assert any("launch line's folder exp" in n for n in w.notes)
    assert not any("set at run time" in n for n in w.notes)  # the helper's own load of its parameter is no load site


def test_a_dict_passed_to_the_scripts_own_function_is_read_there(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "configs/p1.yaml", YAML)
    text = (
        "import yaml\nfrom transformers import AutoModelForCausalLM, TrainingArguments, Trainer\n\n\n"
        "def train(cfg):\n"
        "    t = cfg['training']\n"
        "    model = AutoModelForCausalLM.from_pretrained(cfg['model']['name'])\n"
        "    Trainer(model=model, args=TrainingArguments(output_dir='o', per_device_train_batch_size=t['per_device_train_batch_size'])).train()\n\n\n"
        "def main():\n"
        "    with open('configs/p1.yaml') as f:\n"
        "        cfg = yaml.safe_load(f)\n"
        "    train(cfg)\n\n\n"
        "main()\n"
    )
    w = load_config(write_file(tmp_path, "train.py", text)).workload
    assert w.micro_batch_size == 6 and w.model.name == "Qwen/Qwen2.5-14B"
    # a write inside that function is seen too
    changed = text.replace("    t = cfg['training']\n", "    t = cfg['training']\n    t['per_device_train_batch_size'] = 1\n")
    w = load_config(write_file(tmp_path / "b", "train.py", changed)).workload
    assert w.micro_batch_size != 6 and any("changed by the script at line 7" in n for n in w.notes)


def test_a_json_files_secret_is_never_quoted(tmp_path: Path) -> None:
    from pytest_goblin.redact import redact

    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "cfg.json", '{"hub_token": "zq9XbT4kLm2", "training": {"per_device_train_batch_size": 5}, "model": {"name": "m"}}\n')
    text = SCRIPT.format(helper="import json", load="json.load(open('cfg.json'))", mutation="").replace(
        '    gradient_checkpointing=training_cfg["gradient_checkpointing"],\n', ""
    )
    w = load_config(write_file(tmp_path, "train.py", text)).workload
    assert w.micro_batch_size == 5
    assert "zq9XbT4kLm2" not in redact("token zq9XbT4kLm2 here")


READS_ONLY = """\
import logging


def setup(config):
    name = config["model"]["name"]
    logging.info(f"model {name}")
    if config["training"].get("gradient_checkpointing", True):
        print("checkpointing")
    return load(name, targets=config.get("lora_targets", ["q_proj"]))
"""


def test_a_dict_handed_to_a_repository_function_that_only_reads_it_is_still_read(tmp_path: Path) -> None:
    """Blind review 9 row 32 (poornachandra24/grpo-vision-reasoning src/fine_tuning/train.py:56 `load_model_and_processor(cfg)`,
    whose body in model.py only reads the dict): the script's own reads of the file stay read."""
    write_file(tmp_path, "utils/setup.py", READS_ONLY)
    path = _repo(tmp_path, helper=HELPER + "from utils.setup import setup", mutation="setup(cfg)")
    w = load_config(path).workload
    assert w.micro_batch_size == 6 and w.sources["micro_batch_size"].file.endswith("configs/p1.yaml")
    assert not any("changed by the script" in n for n in w.notes)


def test_a_dict_a_repository_function_writes_into_or_hands_on_whole_stays_unknown(tmp_path: Path) -> None:
    for i, body in enumerate(
        (
            'def setup(config):\n    config["training"]["per_device_train_batch_size"] = 1\n',
            'def setup(config):\n    config.update({"training": {}})\n',
            "def setup(config):\n    return other(config)\n",
            'def setup(config):\n    t = config["training"]\n    t["per_device_train_batch_size"] = 1\n',
            'def setup(config):\n    t = config["training"]\n    tweak(t)\n',
            "def setup(*config):\n    pass\n",
        )
    ):
        root = tmp_path / str(i)
        write_file(root, "utils/setup.py", body)
        path = _repo(root, helper=HELPER + "from utils.setup import setup", mutation="setup(cfg)")
        w = load_config(path).workload
        assert w.micro_batch_size != 6, body
        assert any("changed by the script at line 15" in n for n in w.notes), body


# A DictConfig resolves `${a.b}` when the script reads the key (dictcfg.OMEGACONF_READ_AT); yaml.safe_load does not.
_INTERP_YAML = (
    "bs: 6\nmodel:\n  name: Qwen/Qwen2.5-14B\ntraining:\n  per_device_train_batch_size: ${bs}\n  bf16: false\n  gradient_checkpointing: ${oc.env:GC,true}\n"
)


def test_an_omegaconf_load_reads_an_interpolation_as_the_key_it_names(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "conf.yaml", _INTERP_YAML)
    text = SCRIPT.format(helper="from omegaconf import OmegaConf", load="OmegaConf.load('conf.yaml')", mutation="")
    text = text.replace('training_cfg["per_device_train_batch_size"]', "cfg.training.per_device_train_batch_size")
    w = load_config(write_file(tmp_path, "train.py", text)).workload
    assert w.micro_batch_size == 6 and w.sources["micro_batch_size"].line == 5
    # oc.env: the environment the script runs with is not read here, so the value is unknown, said
    assert w.sources["gradient_checkpointing"].unread and not w.sources["gradient_checkpointing"].explicit
    assert any("`training.gradient_checkpointing` of conf.yaml is an interpolation goblin does not resolve" in n for n in w.notes)


def test_a_yaml_safe_load_keeps_an_interpolation_as_text(tmp_path: Path) -> None:
    import pytest

    from pytest_goblin.errors import ConfigError

    with pytest.raises(ConfigError, match="expected an integer, got '\\$\\{bs\\}'"):  # the text, not the key it names
        load_config(_repo(tmp_path, yaml_text=_INTERP_YAML))
