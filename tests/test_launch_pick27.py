"""Which launcher a config's run is read from, and what it passes (launchpick27, blind review 11): a `trl vllm-serve \\`
line's arguments on its continuation lines (review11b #24 llm2025compet), a repository launch script preferred over a
README example line that runs the same entry point (review11b #36 gritlm), and a launch line of a config of the same
recipe family when none names the config (review11a #15 tabtoreason). Small fixture repositories; nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats.launchers import topology_launcher_line
from pytest_goblin.options import build_settings
from pytest_goblin.rollout import SERVE, server_of
from pytest_goblin.service import audit_file

from .repo_files import write_tree


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


GRPO = (
    "# GRPOTrainer\nmodel_name_or_path: Qwen/Qwen2.5-7B-Instruct\nper_device_train_batch_size: 8\ngradient_accumulation_steps: 4\n"
    "bf16: true\nnum_generations: 8\nmax_completion_length: 1024\nuse_vllm: true\nvllm_mode: server\n"
)
TRAIN = "CUDA_VISIBLE_DEVICES=0,1,2,3 accelerate launch --num_processes 4 train_grpo.py --config grpo.yaml\n"


def _server(tmp_path: Path, serve: str) -> str:
    repo = write_tree(tmp_path / "repo", {"grpo.yaml": GRPO, "train.sh": "#!/bin/bash\n" + serve + TRAIN}, git=True)
    result = audit_file(repo / "grpo.yaml", build_settings({"target": "mi300x"}), shown_as="grpo.yaml")
    s = result.report.rollout if result.report is not None else None
    assert s is not None, result.error
    return s.generation_on


def test_a_vllm_serve_lines_continuation_words_are_its_own(tmp_path: Path) -> None:
    serve = "CUDA_VISIBLE_DEVICES=4,5,6,7 \\\ntrl vllm-serve \\\n    --model Qwen/Qwen2.5-7B-Instruct \\\n    --tensor_parallel_size 2 &\n"
    on = _server(tmp_path, serve)
    assert "tensor parallel 2" in on and "2 GPUs apart from the training ones" in on, on
    assert "train.sh:3: CUDA_VISIBLE_DEVICES=4,5,6,7 trl vllm-serve --model Qwen/Qwen2.5-7B-Instruct --tensor_parallel_size 2" in on
    assert "(4 GPUs visible to it, 2 used)" in on


def test_a_line_that_ends_without_a_backslash_passes_nothing_below_it(tmp_path: Path) -> None:
    serve = "trl vllm-serve --model Qwen/Qwen2.5-7B-Instruct &\necho --tensor_parallel_size 2\n"
    on = _server(tmp_path, serve)
    assert "tensor parallel 1" in on and "1 GPU apart from the training ones" in on, on
    assert "--tensor_parallel_size" not in on


def test_the_joined_line_inside_a_bash_c_body(tmp_path: Path) -> None:
    """A double-quoted `bash -c "..."` body: the shell removes a backslash-newline there too (srun ... bash -c)."""
    rows = [
        'srun --nodes=1 bash -c "',
        "  cd src || exit 1",
        "  trl vllm-serve \\",
        "    --model Qwen/Qwen3-32B \\",
        "    --tensor_parallel_size 2 \\",
        "    --port 8000",
        '" &',
    ]
    write_tree(tmp_path / "repo", {"grpo.yaml": GRPO, "job.sh": "\n".join(rows) + "\n" + TRAIN}, git=True)
    from pytest_goblin.formats import load_config

    w = load_config(tmp_path / "repo" / "grpo.yaml").workload
    got = topology_launcher_line(w, SERVE)
    assert got is not None and got.startswith("job.sh:3: trl vllm-serve --model Qwen/Qwen3-32B --tensor_parallel_size 2 --port 8000"), got
    assert server_of(got).tp == 2


# ------------------------------------------------------------------ a launch script over a README example (row 36)
PARSED = """\
import transformers

parser = transformers.HfArgumentParser((transformers.TrainingArguments,))
(args,) = parser.parse_args_into_dataclasses()
transformers.Trainer(model=transformers.AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B"), args=args).train()
"""
README = "# Train\n\n```bash\ntorchrun --nproc_per_node 1 -m training.run --per_device_train_batch_size 2 --output_dir o\n```\n"
SLURM = (
    "#!/bin/bash\n#SBATCH --nodes=4\n#SBATCH --gres=gpu:8\ncd /home/someone/project\n"
    "srun torchrun --nnodes 4 --nproc_per_node 8 -m {module} \\\n    --per_device_train_batch_size 16 --output_dir o\n"
)


def _gritlm(tmp_path: Path, module: str = "training.run", readme: str = README) -> Path:
    files = {"training/run.py": PARSED, "prepare/run.py": "print('another run.py')\n", "README.md": readme}
    if module:
        files["jobs/slurm/train_big.sh"] = SLURM.format(module=module)
    return write_tree(tmp_path / "repo", files, git=True) / "training/run.py"


def test_a_launch_script_of_the_same_entry_point_wins_over_the_readme_example(tmp_path: Path) -> None:
    from pytest_goblin.formats import load_config

    w = load_config(_gritlm(tmp_path)).workload
    assert (w.nodes, w.gpus_per_node, w.world_size) == (4, 8, 32)
    assert w.sources["world_size"].file.endswith("jobs/slurm/train_big.sh")
    # the script's own flags are read from the same line as its topology
    assert w.micro_batch_size == 16 and w.sources["micro_batch_size"].file.endswith("jobs/slurm/train_big.sh")
    notes = " ".join(w.notes)
    assert "README.md line 4 (a Markdown code block) also launches it; a README's code block is an example" in notes
    assert "jobs/slurm/train_big.sh line 5, a launch script of the repository that runs the same entry point, is read for the run" in notes
    assert "1 other launch line names this config, 1 with another topology (README.md line 4: 1 x 1)" in notes
    assert "this one, the first launch script found, over the README example, is read" in notes


@pytest.mark.parametrize("module", ["", "training.other"])
def test_the_readme_line_stays_where_no_script_launches_that_entry_point(tmp_path: Path, module: str) -> None:
    from pytest_goblin.formats import load_config

    w = load_config(_gritlm(tmp_path, module)).workload
    assert (w.nodes, w.world_size, w.micro_batch_size) == (1, 1, 2)
    assert w.sources["world_size"].file.endswith("README.md")
    assert "a README's code block is an example" not in " ".join(w.notes)


def test_a_bare_module_after_a_cd_out_of_the_repository_names_no_file_of_two(tmp_path: Path) -> None:
    """`-m run` after a `cd` elsewhere: two run.py files, no folder written to tell them apart (the README stays)."""
    from pytest_goblin.formats import load_config

    readme = README.replace("-m training.run", "training/run.py")
    path = _gritlm(tmp_path, "run", readme)
    w = load_config(path).workload
    assert w.sources["world_size"].file.endswith("README.md") and w.world_size == 1


YAML = (
    "# SFTTrainer\nmodel_name_or_path: Qwen/Qwen2.5-7B\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 4\n"
    "learning_rate: 2.0e-5\nnum_train_epochs: 1\nbf16: true\noutput_dir: out\n"
)


@pytest.mark.parametrize(("entry", "chosen", "world"), [("train.py", "cluster/jobs/run.sh", 16), ("other.py", "configs/README.md", 1)])
def test_a_yaml_recipe_launched_by_a_script_and_a_readme(tmp_path: Path, entry: str, chosen: str, world: int) -> None:
    """The script wins where it runs the README's entry point on the recipe; one that runs another script does not."""
    from pytest_goblin.formats import load_config

    files = {
        "train.py": PARSED,
        "other.py": PARSED,
        "configs/c.yaml": YAML,
        "configs/README.md": "```bash\ntorchrun --nproc_per_node 1 ../train.py c.yaml\n```\n",
        "cluster/jobs/run.sh": f"#!/bin/bash\ntorchrun --nnodes 2 --nproc_per_node 8 {entry} configs/c.yaml\n",
    }
    repo = write_tree(tmp_path / "repo", files, git=True)
    w = load_config(repo / "configs/c.yaml").workload
    assert w.world_size == world and w.sources["world_size"].file.endswith(chosen)


# ------------------------------------------------------------------ a launch line of the recipe family (row 15)
ZERO3 = (
    "compute_environment: LOCAL_MACHINE\ndeepspeed_config:\n  zero_stage: 3\n  offload_optimizer_device: none\n"
    "distributed_type: DEEPSPEED\nmixed_precision: bf16\nnum_machines: 1\nnum_processes: 4\n"
)
FAMILY_README = (
    "```shell\naccelerate launch --config_file recipes/accelerate_configs/zero3.yaml src/sft.py \\\n    --config recipes/{other}/config_demo.yaml\n```\n"
)


def _family(tmp_path: Path, other: str = "Small-1B/sft", extra: dict[str, str] | None = None) -> Path:
    files = {
        "recipes/Big-7B/sft/config_task.yaml": YAML,
        f"recipes/{other}/config_demo.yaml": YAML,
        "recipes/accelerate_configs/zero3.yaml": ZERO3,
        "src/sft.py": PARSED,
        "src/grpo.py": PARSED,
        "README.md": FAMILY_README.format(other=other),
        **(extra or {}),
    }
    return write_tree(tmp_path / "repo", files, git=True) / "recipes/Big-7B/sft/config_task.yaml"


def test_a_config_no_line_names_takes_its_recipe_familys_launch_as_assumed(tmp_path: Path) -> None:
    from pytest_goblin.formats import load_config

    w = load_config(_family(tmp_path)).workload
    assert (w.nodes, w.gpus_per_node, w.world_size) == (1, 4, 4)
    assert w.strategy == "deepspeed" and w.zero_stage == 3
    for key in ("world_size", "nodes", "gpus_per_node", "strategy", "zero_stage"):
        assert not w.sources[key].explicit, key
    note = w.sources["world_size"].note or ""
    assert "no launch line names config_task.yaml; README.md line 2 launches recipes/Small-1B/sft/config_demo.yaml" in note
    assert "a config of the same recipe family (recipes/*/sft/; the one launch line of the family read)" in note
    assert "with recipes/Small-1B/sft/config_demo.yaml, a config of the same recipe family" in (w.sources["strategy"].note or "")


@pytest.mark.parametrize(
    ("other", "extra"),
    [
        ("Small-1B/grpo", None),  # another task's folder: not the family
        ("Small-1B/sft", {"run.sh": "accelerate launch --num_processes 8 src/grpo.py --config recipes/Other-3B/sft/config_demo.yaml\n",
                          "recipes/Other-3B/sft/config_demo.yaml": YAML}),  # the family's lines run two scripts
        ("Small-1B/sft", {"README.md": "```shell\naccelerate launch --num_processes 8 -m axolotl.cli.train recipes/Small-1B/sft/config_demo.yaml\n```\n"}),
        # a launch of no Python file of the repository: no entry script tells the family's run
        (
            "Small-1B/sft",
            {"README.md": "Trained on 4*V100.\n\n```bash\ntorchrun --nproc_per_node={num_gpus} src/sft.py --config recipes/Small-1B/sft/config_demo.yaml\n```\n"},
        ),
        # a count the family's line does not state: no count assumed from it, nor from its README's prose (review10b #27 Firefly)
    ],
)  # fmt: skip
def test_no_family_launch_where_the_premise_does_not_hold(tmp_path: Path, other: str, extra: dict[str, str] | None) -> None:
    from pytest_goblin.formats import load_config

    w = load_config(_family(tmp_path, other, extra)).workload
    assert w.world_size == 1 and w.strategy == "single"
    assert "recipe family" not in (w.sources["world_size"].note or "")
