"""Text from another project inside a repository is not the repository's word on how it runs a config (review12a
rows 6, 7, 12; review12b row 34): torchtune's template usage comment copied with a stock config gives way to the
repository's own launch line."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import repo
from .test_tune_header_template import TUNE_BODY, TUNE_HEADER


def test_launch_line_recipe_over_copied_tune_run_comment(tmp_path: Path) -> None:
    # review12a #6: the copied 11B_lora header says lora_finetune_distributed; the notebook runs single_device
    root = repo(
        tmp_path,
        {
            "configs/8B_lora.yaml": TUNE_HEADER.format(n=2, name="llama3/8B_lora") + TUNE_BODY,
            "run.sh": "tune run lora_finetune_single_device --config configs/8B_lora.yaml\n",
        },
    )
    w = load_config(root / "configs" / "8B_lora.yaml").workload
    assert w.world_size == 1
    assert "lora_finetune_single_device" in w.framework and "lora_finetune_distributed" not in w.framework
    note = next(n for n in w.notes if n.startswith("torchtune recipe "))
    assert "run.sh line 1" in note and "over the config's own `tune run lora_finetune_distributed` comment" in note


def test_must_not_fire_recipe_from_comment_without_live_launch(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/8B_lora.yaml": TUNE_HEADER.format(n=2, name="llama3/8B_lora") + TUNE_BODY,
            "run.sh": "tune run --nproc_per_node 2 lora_finetune_distributed --config configs/8B_lora.yaml\n",
        },
    )
    w = load_config(root / "configs" / "8B_lora.yaml").workload
    assert "lora_finetune_distributed" in w.framework and w.world_size == 2
    note = next(n for n in w.notes if n.startswith("torchtune recipe "))
    assert "repository's launch line" not in note  # the line agrees with the comment: nothing to override
    bare = repo(tmp_path / "b", {"configs/8B_lora.yaml": TUNE_HEADER.format(n=2, name="llama3/8B_lora") + TUNE_BODY})
    assert "lora_finetune_distributed" in load_config(bare / "configs" / "8B_lora.yaml").workload.framework


def _notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c.splitlines(True)} for c in cells],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


NB_COMMENTED = _notebook(
    "# Because of DRAM limitation from 1-gpu setup, we will skip this finetune:\n# ! tune run lora_finetune_single_device --config configs/{name} epochs=1\n"
)


def test_commented_notebook_launch_over_copied_template_header(tmp_path: Path) -> None:
    # review12a #7: the 90B_qlora header's `--nproc_per_node 4 ... --config llama3_2_vision/90B_qlora` (another config)
    # against the workshop notebook's commented-out single-device line naming this file
    root = repo(
        tmp_path,
        {
            "configs/my_8B_lora.yaml": TUNE_HEADER.format(n=2, name="llama3/8B_lora") + TUNE_BODY,
            "notebook.ipynb": NB_COMMENTED.replace("{name}", "my_8B_lora.yaml"),
        },
    )
    w = load_config(root / "configs" / "my_8B_lora.yaml").workload
    assert w.world_size == 1 and w.strategy == "single"
    assert not w.sources["world_size"].explicit and "lora_finetune_single_device" in w.framework
    note = next(n for n in w.notes if n.startswith("torchtune recipe "))
    assert "notebook.ipynb cell 1 line 2" in note and "commented out: its hint, assumed" in note


def test_must_not_fire_own_comment_over_commented_notebook_line(tmp_path: Path) -> None:
    # the config's comment runs this very file: the repository's own statement, not a template; it stands
    root = repo(
        tmp_path,
        {
            "configs/my_run.yaml": TUNE_HEADER.format(n=2, name="configs/my_run.yaml") + TUNE_BODY,
            "notebook.ipynb": NB_COMMENTED.replace("{name}", "my_run.yaml"),
        },
    )
    w = load_config(root / "configs" / "my_run.yaml").workload
    assert w.world_size == 2 and "lora_finetune_distributed" in w.framework
    # a live `!` line is read as before (not as a comment)
    live = repo(
        tmp_path / "live",
        {
            "configs/my_8B_lora.yaml": TUNE_HEADER.format(n=2, name="llama3/8B_lora") + TUNE_BODY,
            "notebook.ipynb": _notebook("!tune run lora_finetune_single_device --config configs/my_8B_lora.yaml\n"),
        },
    )
    lw = load_config(live / "configs" / "my_8B_lora.yaml").workload
    assert lw.world_size == 1
    assert "commented out" not in next(n for n in lw.notes if n.startswith("torchtune recipe "))


LF_YAML = (
    "model_name_or_path: Qwen/Qwen2.5-7B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: lora\n"
    "dataset: alpaca_en_demo\ntemplate: qwen\ncutoff_len: 2048\noutput_dir: saves/x\n"
    "per_device_train_batch_size: 1\ngradient_accumulation_steps: 8\nlearning_rate: 1.0e-4\nbf16: true\n"
)
LF_README = "# Examples\n\nUse `CUDA_VISIBLE_DEVICES` to choose devices.\n\nThe full-parameter example trains on 4 GPUs.\n"


def test_vendored_framework_readme_count_is_not_the_repositorys(tmp_path: Path) -> None:
    # review12a #12 InternSVG: LLaMA-Factory/examples/README.md's "on 4 GPUs" is the vendored framework's example
    root = repo(
        tmp_path,
        {
            "LLaMA-Factory/src/llamafactory/extras/env.py": 'VERSION = "0.9.4.dev0"\n',
            "LLaMA-Factory/examples/README.md": LF_README,
            "LLaMA-Factory/examples/train_full/stage_1.yaml": LF_YAML,
        },
    )
    w = load_config(root / "LLaMA-Factory" / "examples" / "train_full" / "stage_1.yaml").workload
    assert "README" not in (w.sources["world_size"].key or "") and "README" not in (w.sources["world_size"].note or "")


def test_must_not_fire_readme_count_outside_a_vendored_copy(tmp_path: Path) -> None:
    # the same README in the repository's own folder (no framework copy) is the repository's word
    root = repo(tmp_path, {"examples/README.md": LF_README, "examples/train_full/stage_1.yaml": LF_YAML})
    w = load_config(root / "examples" / "train_full" / "stage_1.yaml").workload
    assert w.world_size == 4 and "README" in (w.sources["world_size"].key or "")
    # the framework's own repository (the copy is the root) reads its README as before
    own = repo(
        tmp_path / "own",
        {"src/llamafactory/extras/env.py": 'VERSION = "0.9.4.dev0"\n', "examples/README.md": LF_README, "examples/train_full/stage_1.yaml": LF_YAML},
    )
    assert load_config(own / "examples" / "train_full" / "stage_1.yaml").workload.world_size == 4
