"""The framework release a container image of the repository names, anywhere in its scripts (review11a #1, #4:
`axolotlai/axolotl-cloud:0.5.2` in a GCP Batch script, a Modal digest a comment names `main-20240705-...`), and the
footgun for a CUDA-only image the repository builds or names for the config (`blocker.cuda_repository_image`,
review11a #1, #4, #8: an Axolotl image, a Dockerfile `FROM nvcr.io/nvidia/pytorch:24.05-py3` of the config's folders)."""

from __future__ import annotations

import time
from pathlib import Path

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import pins as P
from pytest_goblin.frameworks.image_pins import images_in
from pytest_goblin.hardware import get_hardware

from .repo_files import fresh_root, write_tree

AXO = "base_model: meta-llama/Meta-Llama-3-8B\nsequence_len: 2048\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nbf16: true\nlearning_rate: 0.0002\n"
SUBMIT = '#!/bin/bash\nset -e\nexport CONTAINER_IMAGE="{image}"\nCONTAINER_COMMAND="accelerate launch -m axolotl.cli.train"\n'
MODAL = (
    "import modal\n\n# Axolotl image hash corresponding to main-20240705-py3.11-cu121-2.3.0\nSHA = (\n"
    '    "9578c47333bdcc9ad7318e54506b9adaf283161092ae780353d506f7a656590a"\n)\n\n'
    'image = modal.Image.from_registry(f"winglian/axolotl@sha256:{SHA}").pip_install("wandb==0.16.3")\n'
)


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    """A repository with `files` and an Axolotl config at configs/axolotl/sft.yaml; returns the config's path."""
    return write_tree(fresh_root(tmp_path), {**files, "configs/axolotl/sft.yaml": AXO}, git=True) / "configs/axolotl/sft.yaml"


def _found(config: Path) -> list[tuple[str | None, int | None, str]]:
    got = blockers.findings(load_config(config), get_hardware("mi300x"))
    return [(f.file, f.line, f.message) for f in got if f.rule_id == "blocker.cuda_repository_image"]


def test_an_image_in_a_batch_script_of_another_folder_pins_the_release(tmp_path: Path) -> None:
    config = _repo(tmp_path, {"scripts/gcp/submit.sh": SUBMIT.format(image="axolotlai/axolotl-cloud:0.5.2")})
    pin = P.pins(str(config))["axolotl"]
    assert (pin.version, pin.constraint, pin.where) == ("0.5.2", "==0.5.2", "scripts/gcp/submit.sh:3 (a container image of the repository)")
    assert "image axolotlai/axolotl-cloud:0.5.2" in pin.spec
    # the image is a CUDA build: a footgun at the script's line, naming the image (not a blocker)
    found = _found(config)
    assert [(f, n) for f, n, _m in found] == [("scripts/gcp/submit.sh", 3)]
    assert "`axolotlai/axolotl-cloud:0.5.2`" in found[0][2] and "nvidia/cuda" in found[0][2]
    assert all(not f.blocker for f in blockers.findings(load_config(config), get_hardware("mi300x")) if f.rule_id == "blocker.cuda_repository_image")


def test_a_digest_takes_the_tag_its_comment_names(tmp_path: Path) -> None:
    config = _repo(tmp_path, {"src/common.py": MODAL})
    pin = P.pins(str(config))["axolotl"]
    # main-20240705: main after v0.4.0 (first commit 2024-01-24), before v0.5.0; said as from the comment, assumed
    assert (pin.kind, pin.version, pin.before, pin.where) == ("commit", "0.4.0", "0.5.0", "src/common.py:8 (a container image of the repository)")
    assert "main-20240705-py3.11-cu121-2.3.0 the comment at src/common.py:3 names (assumed)" in pin.spec
    assert [(f, n) for f, n, _m in _found(config)] == [("src/common.py", 8)]


def test_an_image_naming_no_release_a_commented_one_or_two_disagreeing_pin_nothing(tmp_path: Path) -> None:
    for files in (
        {"run.sh": SUBMIT.format(image="winglian/axolotl:main-py3.10-cu118-2.0.1")},  # a branch build: no release
        {"run.sh": '# export CONTAINER_IMAGE="axolotlai/axolotl-cloud:0.5.2"\n'},  # commented out
        {"run.sh": SUBMIT.format(image="axolotlai/axolotl:0.5.2"), "k8s/job.yaml": "image: axolotlai/axolotl:0.6.0\n"},  # two releases
        {"src/common.py": MODAL.replace("# Axolotl image hash corresponding to main-20240705-py3.11-cu121-2.3.0\n", "\n")},  # digest, no tag
        {"serve/inference.sh": SUBMIT.format(image="axolotlai/axolotl:0.5.2")},  # a file named for inference
        {"clone.sh": "git clone https://github.com/winglian/axolotl:0.5.2\n"},  # not an image word
    ):
        config = _repo(tmp_path, files)
        assert "axolotl" not in P.pins(str(config)), files
        assert not _found(config), files


def test_a_pin_the_repository_states_beats_its_image(tmp_path: Path) -> None:
    config = _repo(tmp_path, {"requirements.txt": "axolotl==0.6.0\n", "scripts/run.sh": SUBMIT.format(image="axolotlai/axolotl:0.5.2")})
    assert P.pins(str(config))["axolotl"].version == "0.6.0"
    assert not _found(config)  # the release was not read from the image: no image of the config's is known


def test_a_cuda_dockerfile_of_the_configs_folders_is_a_footgun_and_a_rocm_one_is_silent(tmp_path: Path) -> None:
    config = _repo(tmp_path, {"configs/torchtune.dockerfile": "ARG X=1\nFROM nvcr.io/nvidia/pytorch:24.05-py3\nRUN pip install axolotl\n"})
    assert [(f, n) for f, n, _m in _found(config)] == [("configs/torchtune.dockerfile", 2)]
    for files in (
        {"configs/Dockerfile": "FROM rocm/pytorch:rocm7.0_ubuntu24.04_py3.12_pytorch_release_2.8.0\n"},
        {"other/Dockerfile": "FROM nvcr.io/nvidia/pytorch:24.05-py3\n"},  # not a folder of the config
        {"Dockerfile.inference": "FROM nvcr.io/nvidia/pytorch:24.05-py3\n"},  # the image of inference
    ):
        assert not _found(_repo(tmp_path, files)), files


def test_a_cuda_image_on_the_launch_path_is_the_launch_paths_blocker_only(tmp_path: Path) -> None:
    run = "docker build -f Dockerfile -t trainer .\ndocker run --device=/dev/kfd trainer torchrun --nproc_per_node 8 -m axolotl.cli.train configs/axolotl/sft.yaml\n"
    config = _repo(tmp_path, {"Dockerfile": "FROM nvcr.io/nvidia/pytorch:24.01-py3\n", "run.sh": run})
    got = blockers.findings(load_config(config), get_hardware("mi300x"))
    assert [f.rule_id for f in got if "cuda" in f.rule_id] == ["blocker.cuda_container_image"]


def test_megabyte_image_lines_are_read_in_linear_time() -> None:
    for text in (
        "winglian/axolotl" + ":1" * 500_000,
        "winglian/axolotl@sha256:{" + "a" * 1_000_000,
        "# " + "1.2.3-" * 200_000 + "\nwinglian/axolotl@sha256:$X\n",
    ):
        start = time.perf_counter()
        images_in(text, "x.sh", "x.sh")
        assert time.perf_counter() - start < 2.0
