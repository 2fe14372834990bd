"""blocker.launch_args_unknown_to_parser (review11b #24, llm2025compet): the launch line passes `--server_ip` beside
`--config x.yaml` to a script whose TrlParser has no such field (GRPOConfig's is vllm_server_host), and
parse_args_and_config stops with ValueError. Tiny fixture repositories; nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware

from .repo_files import write_tree

RULE = "blocker.launch_args_unknown_to_parser"
RECIPE = """\
model_name_or_path: Qwen/Qwen2.5-0.5B
bf16: true
per_device_train_batch_size: 4
num_generations: 4
learning_rate: 1.0e-6
output_dir: out
"""
SCRIPT = """\
from dataclasses import dataclass, field
from trl import GRPOConfig, GRPOTrainer, ModelConfig, TrlParser


@dataclass
class ScriptArgs:
    dataset_name: str = field(default="trl-lib/tldr")
    reward_scale: float = 1.0


def main():
    parser = TrlParser((ScriptArgs, GRPOConfig, ModelConfig))
    script_args, training_args, model_args = parser.parse_args_and_config({kw})
    GRPOTrainer(model=model_args.model_name_or_path, args=training_args).train()


if __name__ == "__main__":
    main()
"""
LAUNCH = "accelerate launch --num_processes 2 src/grpo.py \\\n  --config recipes/grpo.yaml \\\n  --use_vllm true \\\n  {flags}\n"


def _found(tmp_path: Path, flags: str, *, script: str = SCRIPT, kw: str = "", pins: str = "trl==0.19.0\ntransformers==4.54.1\n", **extra: str) -> list:
    files = {
        "requirements.txt": pins,
        "src/grpo.py": script.replace("{kw}", kw),
        "recipes/grpo.yaml": RECIPE,
        "run.sh": LAUNCH.replace("{flags}", flags),
        **extra,
    }
    root = write_tree(tmp_path, files, git=True)
    loaded = load_config(root / "recipes" / "grpo.yaml")
    return [f for f in blockers.findings(loaded, get_hardware("mi300x")) if f.rule_id == RULE]


def test_a_flag_no_dataclass_of_the_trlparser_has_stops_the_run(tmp_path: Path) -> None:
    [f] = _found(tmp_path, "--server_ip 10.0.0.1 --vllm_server_port 8000 --reward_scale 2")
    assert f.blocker and f.file == "run.sh" and f.line == 4
    assert "`--server_ip`" in f.message and "src/grpo.py:13" in f.message and "ScriptArgs, GRPOConfig, ModelConfig" in f.message
    assert "trl 0.19.0" in f.message and "Some specified arguments are not used by the HfArgumentParser" in f.message
    assert "None" not in f.message


def test_a_dashed_field_a_prefix_of_one_and_local_rank_are_fields(tmp_path: Path) -> None:
    # transformers 4.54.1 hf_argparser.py:151-153 (`--vllm-server-host`), argparse's allow_abbrev (`--vllm_server_h`),
    # TrainingArguments.local_rank (training_args.py:1117), TrlParser's own `--config`
    assert _found(tmp_path, "--vllm-server-host 10.0.0.1 --vllm_server_h 1.2.3.4 --local_rank 0 --no_bf16") == []


@pytest.mark.parametrize("kw", ["return_remaining_strings=True", "args=['--config', 'recipes/grpo.yaml']"])
def test_a_parse_that_keeps_unknown_words_or_is_given_its_own_is_not_judged(tmp_path: Path, kw: str) -> None:
    assert _found(tmp_path, "--server_ip 10.0.0.1", kw=kw) == []


def test_sys_argv_edited_before_the_parse_is_not_judged(tmp_path: Path) -> None:
    script = SCRIPT.replace("def main():\n", "def main():\n    sys.argv = [a for a in sys.argv if not a.startswith('--server')]\n")
    assert _found(tmp_path, "--server_ip 10.0.0.1", script="import sys\n" + script) == []


def test_a_dataclass_whose_base_goblin_cannot_read_is_not_judged(tmp_path: Path) -> None:
    script = SCRIPT.replace("from trl import", "from somelib import BaseArgs\nfrom trl import").replace("class ScriptArgs:", "class ScriptArgs(BaseArgs):")
    assert _found(tmp_path, "--server_ip 10.0.0.1", script=script) == []


def test_words_after_a_bare_double_dash_are_not_the_parser_s(tmp_path: Path) -> None:
    assert _found(tmp_path, "-- --server_ip 10.0.0.1") == []


def test_an_unpinned_trl_is_not_judged(tmp_path: Path) -> None:
    assert _found(tmp_path, "--server_ip 10.0.0.1", pins="accelerate\n") == []


def test_the_repository_s_own_subclass_of_a_trl_config_is_read_through_its_package(tmp_path: Path) -> None:
    # open-r1's layout: src/open_r1/grpo.py imports open_r1.configs, whose GRPOConfig subclasses trl.GRPOConfig
    configs = (
        "from dataclasses import dataclass, field\nimport trl\n\n\n@dataclass\nclass GRPOConfig(trl.GRPOConfig):\n"
        "    server_ip: str = field(default='0.0.0.0')\n"
    )
    script = SCRIPT.replace("from trl import GRPOConfig, GRPOTrainer", "from open_r1.configs import GRPOConfig\nfrom trl import GRPOTrainer")
    files = {"src/open_r1/__init__.py": "", "src/open_r1/configs.py": configs}
    launch = LAUNCH.replace("src/grpo.py", "src/open_r1/grpo.py")
    flags = "--server_ip 10.0.0.1 --server_port 8000"
    own = {"src/open_r1/grpo.py": script.replace("{kw}", ""), "run.sh": launch.replace("{flags}", flags)}
    found = _found(tmp_path, flags, **files, **own)
    assert [f.message.split("`")[1] for f in found] == ["--server_port"]  # server_ip is the repository's own field


def test_a_recipe_key_none_of_the_dataclasses_has_stops_the_run(tmp_path: Path) -> None:
    # set_defaults_with_config hands it back and parse_args_and_config raises (trl 0.19.0 utils.py:215,226-230,259)
    extra = {"recipes/grpo.yaml": RECIPE + "reward_funcs_weights: [1.0]\nreward_scale: 2\nenv:\n  WANDB_MODE: offline\n"}
    [f] = _found(tmp_path, "--vllm_server_port 8000", **extra)
    assert f.key == "reward_funcs_weights" and f.line == 7 and f.file is None
    assert "Unknown arguments from config file" in f.message


@pytest.mark.parametrize("kw", ["fail_with_unknown_args=False", "return_remaining_strings=True"])
def test_a_recipe_key_dropped_or_handed_back_is_not_a_stop(tmp_path: Path, kw: str) -> None:
    extra = {"recipes/grpo.yaml": RECIPE + "reward_funcs_weights: [1.0]\n"}
    assert _found(tmp_path, "--vllm_server_port 8000", kw=kw, **extra) == []


HF_SCRIPT = """\
from dataclasses import dataclass, field
from transformers import HfArgumentParser, Trainer, TrainingArguments


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="Qwen/Qwen2.5-0.5B")


parser = HfArgumentParser((ModelArguments, TrainingArguments))
model_args, training_args = parser.parse_args_into_dataclasses({kw})
Trainer(model=model_args.model_name_or_path, args=training_args).train()
"""


def _script_found(tmp_path: Path, flags: str, kw: str = "", script: str = HF_SCRIPT) -> list:
    files = {
        "requirements.txt": "transformers==4.54.1\n",
        "train.py": script.replace("{kw}", kw),
        "run.sh": f"torchrun --nproc_per_node 2 train.py --output_dir out --per_device_train_batch_size 4 --bf16 {flags}\n",
    }
    root = write_tree(tmp_path, files, git=True)
    return [f for f in blockers.findings(load_config(root / "train.py"), get_hardware("mi300x")) if f.rule_id == RULE]


def test_a_script_s_own_launch_flag_no_dataclass_has_stops_it(tmp_path: Path) -> None:
    [f] = _script_found(tmp_path, "--model_name Qwen/Qwen2.5-0.5B --dataset_path data.json")
    assert f.blocker and f.file == "run.sh" and f.line == 1 and "`--dataset_path data.json`" in f.message
    assert "ModelArguments, TrainingArguments" in f.message and "line 10" in f.message  # `--model_name` abbreviates a field


@pytest.mark.parametrize("kw", ["return_remaining_strings=True", "args=['--output_dir', 'out']"])
def test_a_script_that_keeps_unknown_words_or_parses_its_own_is_not_judged(tmp_path: Path, kw: str) -> None:
    assert _script_found(tmp_path, "--dataset_path data.json", kw=kw) == []


def test_a_script_parsing_known_args_is_not_judged(tmp_path: Path) -> None:
    script = HF_SCRIPT.replace("parse_args_into_dataclasses({kw})", "parse_known_args()")
    assert _script_found(tmp_path, "--dataset_path data.json", script=script) == []
