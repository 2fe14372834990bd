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


# ------------------------------------------------------------------ a recipe family's lines of different topologies (row 34)
PARSED = """\
import transformers

parser = transformers.HfArgumentParser((transformers.Seq2SeqTrainingArguments,))
(args,) = parser.parse_yaml_file("x.yaml")
transformers.Trainer(model=transformers.AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B"), args=args).train()
"""
NOTEBOOK_LINE = "CUDA_VISIBLE_DEVICES=0 python finetune_hf.py data THUDM/chatglm3-6b configs/lora.yaml\n"
TORCHRUN_LINE = "torchrun --standalone --nnodes=1 --nproc_per_node=8 finetune_hf.py data THUDM/chatglm3-6b configs/lora.yaml\n"


def _family(tmp_path: Path, readme: str) -> Path:
    files = {
        "demo/configs/sft.yaml": YAML,
        "demo/configs/lora.yaml": YAML,
        "demo/finetune_hf.py": PARSED,
        "demo/run_lora.sh": "#!/bin/bash\n" + NOTEBOOK_LINE,
        "demo/README.md": "```bash\n" + readme + "```\n",
    }
    return write_tree(tmp_path / "repo", files, git=True) / "demo/configs/sft.yaml"


def test_a_recipe_familys_lines_of_different_topologies_leave_it_ambiguous(tmp_path: Path) -> None:
    w = load_config(_family(tmp_path, TORCHRUN_LINE)).workload
    note = w.sources["world_size"].note or ""
    assert "a config of the same recipe family" in note and not w.sources["world_size"].explicit
    assert f"{TOPOLOGY_AMBIGUOUS}: other launch lines that may run it have another topology (demo/README.md line 2: 1 x 8)" in note
    assert topology_ambiguous(w) is not None


def test_a_recipe_familys_lines_of_one_topology_are_not_ambiguous(tmp_path: Path) -> None:
    w = load_config(_family(tmp_path, NOTEBOOK_LINE)).workload
    note = w.sources["world_size"].note or ""
    assert "a config of the same recipe family" in note
    assert TOPOLOGY_AMBIGUOUS not in note and topology_ambiguous(w) is None
