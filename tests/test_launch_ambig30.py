"""A Python entry point several launch scripts run with different topologies (launchambig30, blind review 11 row 36
gritlm: scripts/training/train_embonly.sh 16 x 8, train_genonly.sh 1 x 8, train_gritlm_8x7b.sh 32 x 8 run one
`-m training.run`): nothing ties the entry point to one script, so the one found first is assumed, every other one is
named in the topology source, and a projected verdict does not rest on it. Small fixture repositories; nothing is run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.formats.semantics import TOPOLOGY_AMBIGUOUS, topology_ambiguous, with_world_size
from pytest_goblin.options import build_settings
from pytest_goblin.service import audit_file

from .repo_files import write_tree

PARSED = """\
import transformers

parser = transformers.HfArgumentParser((transformers.TrainingArguments,))
(args,) = parser.parse_args_into_dataclasses()
transformers.Trainer(model=transformers.AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B"), args=args).train()
"""
BIG = "#!/bin/bash\ntorchrun --nnodes 4 --nproc_per_node 8 -m training.run --per_device_train_batch_size 4 --bf16 --output_dir o\n"
SMALL = "#!/bin/bash\ntorchrun --nproc_per_node 2 -m training.run --per_device_train_batch_size 4 --bf16 --output_dir o\n"


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_tree(tmp_path / "repo", {"training/run.py": PARSED, **files}, git=True) / "training/run.py"


def test_launch_scripts_of_different_topologies_leave_the_entry_points_topology_assumed(tmp_path: Path) -> None:
    w = load_config(_repo(tmp_path, {"scripts/a_big.sh": BIG, "scripts/b_small.sh": SMALL})).workload
    assert (w.nodes, w.gpus_per_node, w.world_size) == (4, 8, 32)  # the first found is priced, said as assumed
    for key in ("world_size", "nodes", "gpus_per_node"):
        assert not w.sources[key].explicit
    note = w.sources["world_size"].note or ""
    assert f"{TOPOLOGY_AMBIGUOUS}: other launch lines that may run it have another topology (scripts/b_small.sh line 2: 1 x 2)" in note
    said = topology_ambiguous(w)
    assert said is not None and said.startswith("scripts/a_big.sh line 2 runs it on 4 nodes x 8 GPUs, but other launch lines")
    assert topology_ambiguous(with_world_size(w, 8)) is None  # a stated count ends the ambiguity


def test_an_ambiguous_topology_makes_a_projected_verdict_inconclusive(tmp_path: Path) -> None:
    path = _repo(tmp_path, {"scripts/a_big.sh": BIG, "scripts/b_small.sh": SMALL})
    result = audit_file(path, build_settings({"target": "mi300x"}), shown_as="training/run.py")
    assert result.report is not None, result.error
    reason = result.report.reason
    assert result.report.verdict == "warn" and reason.startswith("inconclusive"), reason
    assert "scripts/b_small.sh line 2: 1 x 2" in reason and "goblin_world_size" in reason


@pytest.mark.parametrize(
    "files",
    [
        {"scripts/a_big.sh": BIG, "scripts/b_same.sh": BIG.replace("--per_device_train_batch_size 4", "--per_device_train_batch_size 8")},
        {"scripts/a_big.sh": BIG, "README.md": "```bash\ntorchrun --nproc_per_node 1 -m training.run --output_dir o\n```\n"},
        {"scripts/a_big.sh": BIG},
    ],
    ids=["same-topology", "readme-example-differs", "one-script"],
)
def test_one_topology_among_the_launch_scripts_is_read_as_stated(tmp_path: Path, files: dict[str, str]) -> None:
    w = load_config(_repo(tmp_path, files)).workload
    assert w.world_size == 32 and w.sources["world_size"].explicit
    assert topology_ambiguous(w) is None and TOPOLOGY_AMBIGUOUS not in (w.sources["world_size"].note or "")


def test_a_yaml_config_two_scripts_run_on_different_topologies_is_not_an_entry_point(tmp_path: Path) -> None:
    """The config file is named by each line: which one is read stays the first found, as before (`_others_phrase`)."""
    yaml = "# SFTTrainer\nmodel_name_or_path: Qwen/Qwen2.5-7B\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 4\nlearning_rate: 2.0e-5\nbf16: true\noutput_dir: out\n"
    files = {
        "train.py": PARSED,
        "configs/c.yaml": yaml,
        "scripts/a.sh": "#!/bin/bash\ntorchrun --nnodes 2 --nproc_per_node 8 train.py configs/c.yaml\n",
        "scripts/b.sh": "#!/bin/bash\ntorchrun --nproc_per_node 4 train.py configs/c.yaml\n",
    }
    w = load_config(write_tree(tmp_path / "repo", files, git=True) / "configs/c.yaml").workload
    assert w.world_size == 16 and "1 with another topology (scripts/b.sh line 2: 1 x 4)" in (w.sources["world_size"].note or "")
    assert topology_ambiguous(w) is None and TOPOLOGY_AMBIGUOUS not in (w.sources["world_size"].note or "")
