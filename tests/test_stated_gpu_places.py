"""The GPU a repository says a config trained on, read from more places (issue 23): a README's training-hardware table
row (review13b #25 finance-phi3-qlora README.md:43 `| Training hardware | Google Colab T4 (16GB VRAM) |`), the training
sentence of a README section that names an inference GPU in another sentence, and the Slurm batch script that launches
the config (`#SBATCH --gres=gpu:h100:8`, `--constraint`, a partition naming a GPU model; SchedMD/slurm
doc/man/man1/sbatch.1@284c3b95f0). A GPU named for inference is never the training GPU; several training GPUs give none,
said in a note."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import fresh_root, write_tree
from .test_length_premise import TUNE

RECIPE = TUNE.format(header="# a recipe", max_seq_len="  max_seq_len: 4096", data="/outside/wikitext_train.json")
RUN = "tune run --nproc_per_node 8 full_finetune_distributed --config recipe.yaml\n"


def _recipe(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_tree(fresh_root(tmp_path), {"recipe.yaml": RECIPE, **files}, git=True) / "recipe.yaml"


def _table(first: str, value: str, *, names: str = "`recipe.yaml`") -> str:
    return f"# Project\n\nRun {names} with tune.\n\n## Stack\n\n| Component | Tool |\n|---|---|\n| Base model | Llama |\n| {first} | {value} |\n"


def test_a_training_hardware_table_row_names_the_gpu(tmp_path: Path) -> None:
    w = load_config(_recipe(tmp_path, {"README.md": _table("Training hardware", "Google Colab T4 (16GB VRAM)")})).workload
    assert w.stated_gpu is not None and w.stated_gpu.gpu == "T4 16GB" and w.stated_gpu.line == 10
    assert w.stated_gpu.file.endswith("README.md") and "label read as GiB" in w.stated_gpu.capacity


def test_a_table_row_that_is_not_the_training_hardware_names_none(tmp_path: Path) -> None:
    # must-not: an inference row, a row that does not say training, a README that does not name the config
    assert load_config(_recipe(tmp_path, {"README.md": _table("Inference hardware", "T4 (16GB)")})).workload.stated_gpu is None
    assert load_config(_recipe(tmp_path, {"README.md": _table("Training hardware", "T4 (16GB) for the demo")})).workload.stated_gpu is None
    assert load_config(_recipe(tmp_path, {"README.md": _table("GPU", "T4 (16GB)")})).workload.stated_gpu is None
    assert load_config(_recipe(tmp_path, {"README.md": _table("Training hardware", "T4 (16GB)", names="`other.yaml`")})).workload.stated_gpu is None


def test_the_training_sentence_beside_an_inference_one(tmp_path: Path) -> None:
    for said in (
        "We trained `recipe.yaml` on 8 x H100 80GB. Inference runs on a single T4 16GB.",
        "Inference runs on a single T4 16GB. We trained `recipe.yaml` on 8 x H100 80GB.",
    ):
        readme = f"# Project\n\n## Training\n\n{said}\n"
        w = load_config(_recipe(tmp_path, {"README.md": readme})).workload
        assert w.stated_gpu is not None and w.stated_gpu.gpu == "H100 80GB", said


def test_several_training_gpus_give_none_and_say_so(tmp_path: Path) -> None:
    readme = "# Project\n\n## Training\n\nWe trained `recipe.yaml` on 8 x H100 80GB. We also trained it on 1 x MI300X 192GB.\n"
    w = load_config(_recipe(tmp_path, {"README.md": readme})).workload
    assert w.stated_gpu is None
    said = [n for n in w.notes if "several training GPUs" in n]
    assert len(said) == 1 and "H100 80GB (README.md:5)" in said[0] and "MI300X 192GB (README.md:5)" in said[0] and "None" not in said[0]
    # must-not: an inference GPU alone is not a training GPU (no note either)
    alone = load_config(_recipe(tmp_path, {"README.md": "# Project\n\n## Training\n\n`recipe.yaml`: inference runs on 1 x T4 16GB.\n"})).workload
    assert alone.stated_gpu is None and not any("several training GPUs" in n for n in alone.notes)


def _slurm(*lines: str) -> str:
    return "#!/bin/bash\n" + "".join(f"{line}\n" for line in lines) + RUN


def test_the_slurm_script_that_launches_the_config_names_the_gpu(tmp_path: Path) -> None:
    for option, gpu in (
        ("#SBATCH --gres=gpu:h100:8", "H100"),
        ("#SBATCH --constraint=h100", "H100"),
        ("#SBATCH --partition=gpu-mi300x", "MI300X"),
        ("#SBATCH -C a100_80gb", "A100 80GB"),
    ):
        w = load_config(_recipe(tmp_path, {"run.slurm": _slurm("#SBATCH --nodes=1", option)})).workload
        assert w.stated_gpu is not None and w.stated_gpu.gpu == gpu, option
        assert w.stated_gpu.file.endswith("run.slurm") and w.stated_gpu.line == 3


def test_a_slurm_gpu_goblin_cannot_size_or_choose_names_none(tmp_path: Path) -> None:
    # must-not: an A100 without its memory (40 or 80 GB), a gres count's `g` multiplier read as memory, alternatives,
    # several models, a partition naming no GPU, a directive after the first command (sbatch reads none there)
    for lines in (
        ("#SBATCH --gres=gpu:a100:8",),
        ("#SBATCH --gres=gpu:a100:80g",),
        ('#SBATCH --constraint="a100|h100"',),
        ("#SBATCH --gres=gpu:h100:8", "#SBATCH --partition=mi300x"),
        ("#SBATCH --partition=gpu",),
        ("echo start", "#SBATCH --gres=gpu:h100:8"),
    ):
        w = load_config(_recipe(tmp_path, {"run.slurm": _slurm(*lines)})).workload
        assert w.stated_gpu is None, lines
    several = load_config(_recipe(tmp_path, {"run.slurm": _slurm("#SBATCH --gres=gpu:h100:8", "#SBATCH --partition=mi300x")})).workload
    assert any("names several GPU models" in n and "H100 (run.slurm:2)" in n for n in several.notes)
