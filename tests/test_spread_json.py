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
