"""A JSON recipe the script that runs it loads whole and spreads into `TrainingArguments(**cfg)` (blind review 13b #35:
Showmick119/Fine-Tuning-Open-Source-LLM configs/training_args.json `"max_seq_length": 512`,
train/run_lora_finetune.py:34-37,96): a key TrainingArguments has at no release is a TypeError at start, a blocker.
Small fixture repositories of the same shape under tmp_path; nothing is run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware

from .repo_files import write_tree

RUN = """\
import argparse
import json
from pathlib import Path

from transformers import AutoModelForCausalLM, Trainer, TrainingArguments


def load_training_config(config_path):
    with open(config_path, 'r', encoding='utf-8') as f:
        return json.load(f)


def run_training(training_config_path):
    training_config = load_training_config(Path(training_config_path))
    training_config['output_dir'] = 'out'
    model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-7B')
    training_args = TrainingArguments(**training_config)
    Trainer(model=model, args=training_args).train()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--training_config", type=str, default="configs/training_args.json")
    args = parser.parse_args()
    run_training(args.training_config)
"""
README = "# Train\n\n```bash\npython train/run.py --training_config configs/training_args.json\n```\n"
CONFIG: dict[str, Any] = {"output_dir": "o", "per_device_train_batch_size": 4, "bf16": True, "max_seq_length": 512}


def _keys(root: Path) -> list[blockers.Finding]:
    loaded = load_config(root / "configs" / "training_args.json")
    return [f for f in blockers.findings(loaded, get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]


def test_a_key_no_release_has_spread_into_training_arguments_stops_the_run(tmp_path: Path) -> None:
    files = {"train/run.py": RUN, "README.md": README, "configs/training_args.json": json.dumps(CONFIG, indent=4), "requirements.txt": "transformers>=4.36.0\n"}
    root = write_tree(tmp_path, files)
    (f,) = _keys(root)
    assert f.blocker and f.rule_id == "blocker.keys_rejected_at_version" and f.key == "max_seq_length" and f.line == 5
    assert "TrainingArguments has no `max_seq_length` at any release goblin read (transformers 4.36.2-" in f.message
    assert "train/run.py, passes the file's keys at line 17 to TrainingArguments(**training_config)" in f.message
    assert "TypeError" in f.message and "So the run does not start on any GPU." in f.message and "None" not in f.message


def test_a_key_the_script_drops_or_a_file_it_does_not_spread_is_not_a_blocker(tmp_path: Path) -> None:
    text = json.dumps(CONFIG, indent=4)
    # must not fire: the script pops the key before the call
    popped = RUN.replace("    training_config['output_dir'] = 'out'\n", "    training_config.pop('max_seq_length', None)\n")
    a = write_tree(tmp_path / "a", {"train/run.py": popped, "README.md": README, "configs/training_args.json": text})
    assert not any(f.blocker for f in _keys(a))
    # must not fire: the script reads keys one by one (no spread): a key it never reads cannot stop the run
    keyed = RUN.replace("TrainingArguments(**training_config)", "TrainingArguments(output_dir=training_config['output_dir'])")
    b = write_tree(tmp_path / "b", {"train/run.py": keyed, "README.md": README, "configs/training_args.json": text})
    assert not any(f.blocker for f in _keys(b))
    # must not fire: the script loads a second JSON, so which dict is spread is not read
    two = RUN.replace("    model = ", "    extra = json.load(open('other.json'))\n    model = ")
    c = write_tree(tmp_path / "c", {"train/run.py": two, "README.md": README, "configs/training_args.json": text})
    assert not any(f.blocker for f in _keys(c))
    # must not fire: an HfArgumentParser may be what reads the recipe, the json.load another file
    parsed = RUN.replace("import argparse\n", "import argparse\nfrom transformers import HfArgumentParser\n")
    d = write_tree(tmp_path / "d", {"train/run.py": parsed, "README.md": README, "configs/training_args.json": text})
    assert not any(f.blocker and f.key == "max_seq_length" for f in _keys(d))


# review13b #35: the model a repository class reads from the second JSON the launch line passes
LOADER = """\
import json
from pathlib import Path

from transformers import AutoModelForCausalLM, AutoTokenizer


class ModelLoader:
    def __init__(self, config_path):
        self.config_path = Path(config_path)
        self.config = self._load_config()

    def _load_config(self):
        with open(self.config_path, 'r', encoding='utf-8') as f:
            return json.load(f)

    def load_base_model(self):
        tokenizer = AutoTokenizer.from_pretrained(self.config['base_model_name'])
        model = AutoModelForCausalLM.from_pretrained(self.config['base_model_name'], device_map="auto")
        return model, tokenizer
"""
LOADER_RUN = (
    RUN.replace("from transformers import", "from model.loader import ModelLoader\nfrom transformers import")
    .replace("def run_training(training_config_path):", "def run_training(training_config_path, lora_config_path):")
    .replace("    model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-7B')\n", "    model, _tok = ModelLoader(lora_config_path).load_base_model()\n")
    .replace("TrainingArguments(**training_config)", "TrainingArguments(output_dir=training_config['output_dir'])")
    .replace(
        "    args = parser.parse_args()\n", '    parser.add_argument("--lora_config", type=str, default="configs/lora.json")\n    args = parser.parse_args()\n'
    )
    .replace("run_training(args.training_config)", "run_training(args.training_config, lora_config_path=args.lora_config)")
)
LOADER_README = README.replace("configs/training_args.json\n", "configs/training_args.json --lora_config configs/lora.json\n")


def _loader_tree(tmp_path: Path, loader: str = LOADER, lora: str = '{\n    "base_model_name": "Qwen/Qwen2.5-7B"\n}\n', readme: str = LOADER_README) -> Path:
    files = {"train/run.py": LOADER_RUN, "model/loader.py": loader, "README.md": readme, "configs/lora.json": lora}
    args = {"output_dir": "o", "num_train_epochs": 3, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 4, "learning_rate": 2e-4, "bf16": True}
    files["configs/training_args.json"] = json.dumps(args, indent=4)
    return write_tree(tmp_path, files)


def test_the_model_a_repository_class_reads_from_the_json_the_launch_line_passes(tmp_path: Path) -> None:
    root = _loader_tree(tmp_path)
    w = load_config(root / "configs" / "training_args.json").workload
    assert w.model.name == "Qwen/Qwen2.5-7B"
    src = w.sources["model"]
    assert src.file == str((root / "configs" / "lora.json").resolve()) and src.line == 2
    said = "`base_model_name: Qwen/Qwen2.5-7B` in configs/lora.json, which README.md line 4 passes as `--lora_config`"
    assert any(said in n and "gives it to ModelLoader, whose model load at model/loader.py:18" in n for n in w.notes)


def test_a_class_that_also_adapts_the_model_or_a_key_it_does_not_read_names_no_model(tmp_path: Path) -> None:
    # the class builds a LoRA adapter itself: the model is said, not priced as a full fine-tune
    adapting = LOADER.replace("        return model, tokenizer", "        model = get_peft_model(model, LoraConfig(r=8))\n        return model, tokenizer")
    a = _loader_tree(tmp_path / "a", loader="from peft import LoraConfig, get_peft_model\n" + adapting)
    wa = load_config(a / "configs" / "training_args.json").workload
    assert wa.model.name != "Qwen/Qwen2.5-7B"
    assert any("that class also decides what it trains (LoraConfig, get_peft_model)" in n and "not priced" in n for n in wa.notes)
    # must not fire: the JSON holds no key the class reads
    b = _loader_tree(tmp_path / "b", lora='{\n    "model_name": "Qwen/Qwen2.5-7B"\n}\n')
    wb = load_config(b / "configs" / "training_args.json").workload
    assert wb.model.name != "Qwen/Qwen2.5-7B" and not any("base_model_name" in n for n in wb.notes)
    # must not fire: the launch line passes no second JSON (the option's default is not read)
    c = _loader_tree(tmp_path / "c", readme=README)
    assert load_config(c / "configs" / "training_args.json").workload.model.name != "Qwen/Qwen2.5-7B"
