"""launch_line.script_flags: the one reading of the `--key value` words a launch line passes over a recipe, used for
Launch.overrides (formats/hf_trainer._launch_words) and by blockers.launch_config_flags (the rollout's values)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.blockers import launch_config_flags
from pytest_goblin.formats import load_config
from pytest_goblin.formats.launch_line import script_flags
from pytest_goblin.formats.launchers import find_launch


def test_after_config_every_pair_and_switch_is_read() -> None:
    words = ["python", "grpo.py", "--config", "x.yaml", "--num_generations", "8", "--vllm-mode=colocate", "--log_completions"]
    got = script_flags(words, 1, {2, 3}, split_pairs=True)
    assert got == [("num_generations", "8", 4, False), ("vllm_mode", "colocate", 6, True), ("log_completions", "true", 7, False)]


def test_a_recipe_given_first_splits_only_key_equals_value_words() -> None:
    """Must not read `--key value` pairs: parse_yaml_and_args splits only `--key=value` words."""
    words = ["python", "train.py", "x.yaml", "--deepspeed=ds.json", "--num_train_epochs", "3"]
    assert script_flags(words, 1, {2}, split_pairs=False) == [("deepspeed", "ds.json", 3, True)]


def test_the_recipes_own_words_and_odd_keys_are_not_flags() -> None:
    words = ["python", "grpo.py", "--config", "x.yaml", "--9bad", "1", "--empty=", "-s", "1"]
    assert script_flags(words, 1, {2, 3}, split_pairs=True) == []


GRPO = (
    "model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 2\n"
    "bf16: true\nnum_generations: 4\nmax_completion_length: 256\nuse_vllm: true\nvllm_mode: server\n"
)


def test_both_routes_read_the_same_words(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "recipes").mkdir()
    cfg = repo / "recipes" / "grpo.yaml"
    cfg.write_text("# GRPOTrainer\n" + GRPO)
    (repo / "run.sh").write_text("accelerate launch src/grpo.py --config recipes/grpo.yaml --num_generations 8 --vllm-mode=colocate --log_completions\n")
    launch = find_launch(cfg)
    assert launch is not None and launch.flag_form == "config"
    via_launch = {key: value for key, value, _f, _l, _h in launch.overrides}
    via_rollout = launch_config_flags(load_config(cfg))
    assert via_launch == {"num_generations": "8", "vllm_mode": "colocate", "log_completions": "true"}
    assert set(via_rollout) == set(via_launch) and via_rollout["num_generations"][0] == 8


def test_a_flag_given_twice_keeps_its_last_value() -> None:
    """argparse's store action sets the value at each occurrence, so the last wins (CPython 3.11.7 Lib/argparse.py:955-956)."""
    words = ["python", "grpo.py", "--config", "x.yaml", "--num_generations", "8", "--beta=0.1", "--num-generations=16"]
    assert script_flags(words, 1, {2, 3}, split_pairs=True) == [("beta", "0.1", 6, True), ("num_generations", "16", 7, True)]


def test_flags_given_once_are_all_kept_in_order() -> None:
    """Must not fire: no key repeats, nothing is dropped."""
    words = ["python", "grpo.py", "--config", "x.yaml", "--num_generations", "8", "--beta=0.1"]
    assert script_flags(words, 1, {2, 3}, split_pairs=True) == [("num_generations", "8", 4, False), ("beta", "0.1", 6, True)]


def test_a_repeated_flag_reaches_both_routes_as_its_last_value(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "recipes").mkdir()
    cfg = repo / "recipes" / "grpo.yaml"
    cfg.write_text("# GRPOTrainer\n" + GRPO)
    (repo / "run.sh").write_text("accelerate launch src/grpo.py --config recipes/grpo.yaml --num_generations 8 --num_generations 16\n")
    launch = find_launch(cfg)
    assert launch is not None
    assert [(k, v) for k, v, _f, _l, _h in launch.overrides] == [("num_generations", "16")]
    assert launch_config_flags(load_config(cfg))["num_generations"][0] == 16


def test_a_variable_the_launcher_sets_reaches_the_rollout_as_its_value(tmp_path: Path) -> None:
    """Review12b #29: `--max_completion_length=$MAX_COMPLETION_LENGTH`, the variable set before the line, is 4096 for
    the rollout split as it is for the recipe's own fields (Launch.overrides)."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "recipes").mkdir()
    cfg = repo / "recipes" / "grpo.yaml"
    cfg.write_text("# GRPOTrainer\n" + GRPO)
    (repo / "run.sh").write_text(
        "MAX_COMPLETION_LENGTH=4096\nUSE_VLLM=true\n"
        "accelerate launch src/grpo.py --config recipes/grpo.yaml \\\n  --max_completion_length=$MAX_COMPLETION_LENGTH \\\n  --use_vllm=$USE_VLLM\n"
    )
    got = launch_config_flags(load_config(cfg))
    assert got["max_completion_length"][0] == 4096 and "run.sh line" in got["max_completion_length"][1]
    assert got["use_vllm"][0] is True


def test_a_variable_set_at_run_time_stays_unread(tmp_path: Path) -> None:
    """Must not fire: `$LEN` is set by no line before the launch, so the value is not known."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "recipes").mkdir()
    cfg = repo / "recipes" / "grpo.yaml"
    cfg.write_text("# GRPOTrainer\n" + GRPO)
    (repo / "run.sh").write_text("accelerate launch src/grpo.py --config recipes/grpo.yaml --max_completion_length=$LEN\n")
    assert "max_completion_length" not in launch_config_flags(load_config(cfg))
