"""Debug modes left on in a training script (review 8b #36: `torch.autograd.set_detect_anomaly(True)` in a real user's
train script, and goblin said nothing). Anomaly detection and deterministic algorithms slow every step by an amount
goblin does not price: a footgun naming the call and its line, and a projected verdict that is not a clean PASS.
A call that turns the mode off, one under a debug flag that defaults off, one in a helper nothing calls, a
repository function of the same name, a comment, and a separate debug script are not the run's."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.cli import main
from pytest_goblin.formats import load_config

from .findings import audit, write_config
from .repo_files import write_tree

RULE = "debug.mode_left_on"

SCRIPT = """\
import argparse

import torch
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments
{imports}
parser = argparse.ArgumentParser()
parser.add_argument("--debug", action="store_true")
args = parser.parse_args()
{top}

def main():
    model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B", torch_dtype=torch.bfloat16)
    training_args = TrainingArguments(output_dir="out", per_device_train_batch_size=1, bf16=True, max_steps=100)
    trainer = Trainer(model=model, args=training_args)
{train}

if __name__ == "__main__":
    main()
"""


def _script(tmp_path: Path, *, top: str = "", train: str = "    trainer.train()\n", imports: str = "") -> Path:
    return write_config(tmp_path, "train.py", SCRIPT.format(top=top, train=train, imports=imports))


def _verdict(tmp_path: Path, path: Path) -> dict[str, object]:
    out = tmp_path / "report.json"
    main(["audit", str(path), "--target", "mi300x", "--json", str(out)])
    item = json.loads(out.read_text())["items"][0]
    assert isinstance(item, dict)
    return item


def test_anomaly_detection_at_module_level_is_a_footgun_and_not_a_clean_pass(tmp_path: Path) -> None:
    path = _script(tmp_path, top="torch.autograd.set_detect_anomaly(True)\n")
    w = load_config(path).workload
    assert len(w.debug_modes) == 1 and w.debug_modes[0].startswith("`torch.autograd.set_detect_anomaly(True)` at line 9 turns on autograd anomaly")
    assert "anomaly_mode.py:20-22" in w.debug_modes[0]
    shown, patch, _ = audit(path)
    assert RULE in shown and RULE not in patch.rule_ids  # guidance only: no edit of the script
    item = _verdict(tmp_path, path)
    assert item["verdict"] == "warn"
    report = item["report"]
    assert isinstance(report, dict)
    assert RULE in (report["inconclusive"] or "") and "at line 9" in report["inconclusive"]
    found = next(f for f in report["findings"] if f["rule_id"] == RULE)
    assert found["line"] == 9 and found["footgun"] and "None" not in found["message"]


def test_the_same_script_without_it_passes(tmp_path: Path) -> None:
    path = _script(tmp_path)
    assert load_config(path).workload.debug_modes == []
    assert RULE not in audit(path)[0]
    assert _verdict(tmp_path, path)["verdict"] == "pass"


def test_detect_anomaly_around_the_training_call_fires(tmp_path: Path) -> None:
    path = _script(tmp_path, train="    with torch.autograd.detect_anomaly():\n        trainer.train()\n")
    w = load_config(path).workload
    assert [m.split(" turns")[0] for m in w.debug_modes] == ["`torch.autograd.detect_anomaly()` at line 15"]
    assert RULE in audit(path)[0]


def test_set_detect_anomaly_imported_by_name_and_as_a_context_manager_fires(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        imports="from torch.autograd import set_detect_anomaly\n",
        train="    with set_detect_anomaly(True):\n        trainer.train()\n",
    )
    assert [m.split(" turns")[0] for m in load_config(path).workload.debug_modes] == ["`set_detect_anomaly(True)` at line 16"]


def test_deterministic_algorithms_fire_with_their_own_source(tmp_path: Path) -> None:
    path = _script(tmp_path, top="torch.use_deterministic_algorithms(True)\n")
    (mode,) = load_config(path).workload.debug_modes
    assert "deterministic algorithms" in mode and "randomness.rst:17-20" in mode and "anomaly" not in mode
    assert RULE in audit(path)[0]


def test_a_debug_flag_that_defaults_off_does_not_fire_and_the_launch_flag_does(tmp_path: Path) -> None:
    path = _script(tmp_path, top="if args.debug:\n    torch.autograd.set_detect_anomaly(True)\n")
    assert load_config(path).workload.debug_modes == []
    assert RULE not in audit(path)[0]
    (tmp_path / "run.sh").write_text("python train.py --debug\n")
    assert len(load_config(path).workload.debug_modes) == 1


def test_turning_it_off_a_comment_and_an_unknown_if_do_not_fire(tmp_path: Path) -> None:
    for top in (
        "torch.autograd.set_detect_anomaly(False)\n",
        "torch.use_deterministic_algorithms(mode=False)\n",
        "# torch.autograd.set_detect_anomaly(True)\n",
        "import os\nif os.environ.get('DEBUG_NAN'):\n    torch.autograd.set_detect_anomaly(True)\n",
    ):
        path = _script(tmp_path, top=top)
        assert load_config(path).workload.debug_modes == [], top
        assert RULE not in audit(path)[0], top


def test_a_helper_nothing_calls_and_a_repository_function_of_that_name_do_not_fire(tmp_path: Path) -> None:
    helper = "def debug_nan():\n    torch.autograd.set_detect_anomaly(True)\n"
    path = _script(tmp_path, top=helper)
    assert load_config(path).workload.debug_modes == []
    path = _script(tmp_path, imports="import utils\n", top="utils.set_detect_anomaly(True)\n")
    assert load_config(path).workload.debug_modes == []
    path = _script(tmp_path, top=helper + "\n\ndebug_nan()\n")  # called: it runs
    assert len(load_config(path).workload.debug_modes) == 1


def test_a_separate_debug_script_or_test_is_not_the_training_script(tmp_path: Path) -> None:
    path = _script(tmp_path)
    (tmp_path / "debug_nan.py").write_text("import torch\n\ntorch.autograd.set_detect_anomaly(True)\nprint(torch.ones(1))\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_train.py").write_text("import torch\n\n\ndef test_grads():\n    with torch.autograd.detect_anomaly():\n        pass\n")
    assert load_config(path).workload.debug_modes == []
    assert RULE not in audit(path)[0]


LAUNCHED = """\
import torch
from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments


def main():
    parser = HfArgumentParser((TrainingArguments,))
    (training_args,) = parser.parse_yaml_file("sft.yaml")
{call}    model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")
    Trainer(model=model, args=training_args).train()


if __name__ == "__main__":
    main()
"""
RECIPE = "output_dir: out\nper_device_train_batch_size: 1\nbf16: true\nmax_steps: 100\nmodel_name_or_path: meta-llama/Llama-3.1-8B\n"


def _recipe(tmp_path: Path, call: str) -> Path:
    files = {"sft.yaml": RECIPE, "train.py": LAUNCHED.format(call=call), "run.sh": "python train.py sft.yaml\n"}
    return write_tree(tmp_path, files, git=True) / "sft.yaml"


def test_a_yaml_recipe_run_by_a_script_that_leaves_anomaly_detection_on_fires(tmp_path: Path) -> None:
    path = _recipe(tmp_path, "    torch.autograd.set_detect_anomaly(True)\n")
    (mode,) = load_config(path).workload.debug_modes
    assert mode.startswith("`torch.autograd.set_detect_anomaly(True)` at train.py line 8 turns on autograd anomaly")
    assert "train.py is run on this file by run.sh line 1" in mode
    assert RULE in audit(path)[0]
    assert _verdict(tmp_path, path)["verdict"] == "warn"


def test_a_yaml_recipe_whose_script_guards_it_by_a_parsed_flag_does_not_fire(tmp_path: Path) -> None:
    path = _recipe(tmp_path, "    if training_args.debug:\n        torch.autograd.set_detect_anomaly(True)\n")
    loaded = load_config(path)
    assert loaded.workload.debug_modes == []
    assert any("set_detect_anomaly(True)` at line 9 is under the `if` at line 8" in n for n in loaded.workload.notes)
    path = _recipe(tmp_path, "")
    assert load_config(path).workload.debug_modes == []
    assert _verdict(tmp_path, path)["verdict"] == "pass"
