"""Launch scripts beside a config that pass it as a variable they never set (launch35, blind review 13 row 30
mathllm-finetune recipes/MathCoder-CL-34B/sft/sft_8gpu_dis.sh:18 `torchrun --nnodes $WORLD_SIZE ... --nproc_per_node 8
./scripts/run_sft_lce.py ${CONFIG}`, sft_4gpu_dis.sh the same with 4): the folder's one config is read as launched by
them, assumed, its node count unknown, and two scripts of different topologies leave it ambiguous. Small fixture
repositories; nothing is run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.formats.semantics import TOPOLOGY_AMBIGUOUS, topology_ambiguous

from .repo_files import write_tree

YAML = (
    "model_name_or_path: Qwen/Qwen2.5-7B\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 4\nlearning_rate: 2.0e-5\nbf16: true\noutput_dir: out\n"
)
SCRIPT = "#!/bin/bash\nconda activate env\ntorchrun --nnodes {nodes} --node_rank $RANK --nproc_per_node {n} ./scripts/run_sft.py ${{CONFIG}}\n"


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _config(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_tree(tmp_path / "repo", {"r/sft/config_full.yaml": YAML, **files}, git=True) / "r/sft/config_full.yaml"


def test_a_sibling_script_passing_an_unset_config_variable_is_the_launch_assumed(tmp_path: Path) -> None:
    w = load_config(_config(tmp_path, {"r/sft/sft_8gpu.sh": SCRIPT.format(nodes="$WORLD_SIZE", n=8)})).workload
    assert w.gpus_per_node == 8
    note = w.sources["gpus_per_node"].note or ""
    assert not w.sources["gpus_per_node"].explicit and not w.sources["nodes"].explicit
    assert "passes `${CONFIG}`, which it never sets" in note and "config_full.yaml is the one config of its folder" in note
    assert "node count `$WORLD_SIZE`" in note and "the node count is unknown" in note


def test_two_sibling_scripts_of_different_topologies_leave_it_ambiguous(tmp_path: Path) -> None:
    files = {"r/sft/sft_4gpu.sh": SCRIPT.format(nodes="2", n=4), "r/sft/sft_8gpu.sh": SCRIPT.format(nodes="2", n=8)}
    w = load_config(_config(tmp_path, files)).workload
    assert (w.nodes, w.gpus_per_node) == (2, 4)  # the first by name, assumed
    assert f"{TOPOLOGY_AMBIGUOUS}" in (w.sources["world_size"].note or "") and "r/sft/sft_8gpu.sh line 3: 2 x 8" in (w.sources["world_size"].note or "")
    assert topology_ambiguous(w) is not None


@pytest.mark.parametrize(
    "files",
    [
        # another config in the folder: the variable may be either
        {"r/sft/sft_8gpu.sh": SCRIPT.format(nodes="2", n=8), "r/sft/config_lora.yaml": YAML},
        # the script sets the variable to another file
        {"r/sft/sft_8gpu.sh": SCRIPT.format(nodes="2", n=8).replace("conda activate env", "CONFIG=other.yaml")},
        # a variable not named as a config
        {"r/sft/sft_8gpu.sh": SCRIPT.format(nodes="2", n=8).replace("${CONFIG}", "$OUTPUT_DIR")},
        # the script is in another folder
        {"r/other/sft_8gpu.sh": SCRIPT.format(nodes="2", n=8)},
    ],
    ids=["two-configs", "set-to-another", "not-a-config-variable", "other-folder"],
)
def test_no_variable_launch_where_the_premise_fails(tmp_path: Path, files: dict[str, str]) -> None:
    w = load_config(_config(tmp_path, files)).workload
    note = w.sources["gpus_per_node"].note or ""
    assert "which it never sets" not in note
    assert w.gpus_per_node != 8 or "assumed" in note
