"""The config's own words on its GPUs (topo19a #2): a header comment ("# 2 x H100 80GB", "# trained on 2 GPUs") is the
repository's statement where no launcher names the config; a count in its file name (`*_2gpu_80gb.yaml`) only a stated
assumption. Must not fire: a comment about another run ("# if you use 8 GPUs ..."), a number that is no GPU count."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.formats.semantics import filename_count, world_size_note

from .repo_files import write_tree

AXOLOTL = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nsequence_len: 2048\nbf16: true\n"


def one(tmp_path: Path, name: str, text: str, extra: dict[str, str] | None = None) -> Path:
    return write_tree(tmp_path / "repo", {name: text, **(extra or {})}, git=True) / name


@pytest.mark.parametrize(("comment", "phrase"), [("# 2 x H100 80GB", "2 x H100"), ("# trained on 2 GPUs", "on 2 GPUs")])
def test_header_comment_states_the_gpus(tmp_path: Path, comment: str, phrase: str) -> None:
    w = load_config(one(tmp_path, "x.yaml", comment + "\n" + AXOLOTL)).workload
    assert w.world_size == 2 and w.sources["world_size"].explicit and w.sources["world_size"].line == 1
    assert phrase in (w.sources["world_size"].note or "")
    assert world_size_note(w) == "on 2 GPUs (line 1)"


@pytest.mark.parametrize(
    "comment",
    [
        "# for 8 GPUs use lr 1e-4",
        "# if you use 8 GPUs, halve gradient_accumulation_steps",
        "# When training on 4 GPUs set micro_batch_size: 1",
        "# version 2 of the recipe, 80GB",
    ],
)
def test_must_not_fire_comment_about_another_run_or_no_gpu_count(tmp_path: Path, comment: str) -> None:
    w = load_config(one(tmp_path, "x.yaml", comment + "\n" + AXOLOTL)).workload
    assert w.world_size == 1 and not w.sources["world_size"].explicit


def test_file_name_count_is_a_stated_assumption(tmp_path: Path) -> None:
    w = load_config(one(tmp_path, "llama_2gpu_80gb.yaml", AXOLOTL)).workload
    assert w.world_size == 2 and not w.sources["world_size"].explicit
    assert "the file name says `2gpu`" in (w.sources["world_size"].note or "")
    assert "world size: 2 GPUs read from the file name's `2gpu`, assumed" in w.notes


def test_must_not_fire_file_name_under_a_launcher_or_without_a_gpu_count(tmp_path: Path) -> None:
    assert filename_count("qwen2_5_7b.yaml") is None and filename_count("llama3_8b_80gb.yaml") is None
    assert filename_count("a_2gpu_4gpu.yaml") is None  # two counts: none
    w = load_config(
        one(tmp_path, "llama_2gpu_80gb.yaml", AXOLOTL, {"run.sh": "torchrun --nproc_per_node 4 -m axolotl.cli.train llama_2gpu_80gb.yaml\n"})
    ).workload
    assert w.world_size == 4 and w.sources["world_size"].explicit  # the launch line wins over the name
