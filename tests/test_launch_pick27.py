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
        "srun --nodes=1 bash -c \"",
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
