"""The release an unpinned TRL recipe is read at counts the keys its launch line passes, and its findings speak of
that release (blind review 15b #25 Liar-Mask/FedGRPO, #26 yhz5613813/RPO); a GRPO group size the launch line passes
is the run's (#25: `--num_generations 5` over the file's 8)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks.history import reading
from pytest_goblin.hardware import get_hardware

from .repo_files import fresh_root, write_tree

SCRIPT = (
    "from trl import GRPOConfig, GRPOTrainer, ModelConfig, TrlParser\n\n"
    "if __name__ == '__main__':\n"
    "    parser = TrlParser((GRPOConfig, ModelConfig))\n"
    "    training_args, model_args = parser.parse_args_and_config()\n"
)
RECIPE = (
    "model_name_or_path: Qwen/Qwen2.5-1.5B\noutput_dir: out\nlearning_rate: 1.0e-06\nnum_train_epochs: 1\nbf16: true\n"
    "use_vllm: true\nvllm_device: auto\nnum_generations: 16\nmax_completion_length: 1024\n"
    "per_device_train_batch_size: 5\ngradient_accumulation_steps: 5\n"
)


def _root(tmp: Path, flags: str) -> Path:
    readme = f"# Train\n\n```\naccelerate launch grpo.py --config recipe.yaml {flags}\n```\n"
    return write_tree(fresh_root(tmp), {"grpo.py": SCRIPT, "recipe.yaml": RECIPE, "README.md": readme}, git=True)


def test_the_launch_lines_keys_move_the_release_an_unpinned_recipe_is_read_at(tmp_path: Path) -> None:
    got = reading("trl 1.16.0 (GRPOConfig)", str(_root(tmp_path, "--vllm_mode server") / "recipe.yaml"))
    assert got is not None and got.assumed and got.version == "1.16.0"
    assert "the newest release with the file's keys and its launch line's (trl 0.18.2-1.16.0)" in got.source
    # must not: a launch line passing no key of a later release keeps the file's range
    got = reading("trl 1.16.0 (GRPOConfig)", str(_root(tmp_path, "--output_dir out2") / "recipe.yaml"))
    assert got is not None and got.version == "0.17.0" and "the newest release with the file's keys (trl 0.14.0-0.17.0)" in got.source


def _grpo(root: Path) -> list[blockers.Finding]:
    found = blockers.findings(load_config(root / "recipe.yaml"), get_hardware("mi300x"))
    return [f for f in found if f.rule_id.startswith("blocker.grpo_generation_batch")]


def test_a_grpo_finding_speaks_of_the_release_the_recipe_is_read_at(tmp_path: Path) -> None:
    # 5 x 8 GPUs x 5 = 200 is no multiple of the file's 16: said at trl 0.17.0 (the reading), not at 1.16.0
    (f,) = _grpo(_root(tmp_path, "--output_dir out2"))
    assert "On trl 0.17.0 (assumed trl 0.17.0: no pin; the newest release with the file's keys" in f.message
    assert "trl 1.16.0" not in f.message.split("so the run stops")[0] and "None" not in f.message


def test_a_group_size_the_launch_line_passes_is_the_runs(tmp_path: Path) -> None:
    # `--num_generations 5` over the file's 16: 200 holds whole groups of 5
    assert _grpo(_root(tmp_path, "--num_generations 5")) == []
    # ... and one of 3 is judged with its place said
    (f,) = _grpo(_root(tmp_path, "--num_generations 3"))
    assert "num_generations 3 (README.md:" in f.message and "the launch line's `--num_generations 3`" in f.message
    # must not: a value set at run time is not read
    assert _grpo(_root(tmp_path, "--num_generations $NG")) == []
