"""A CUDA-only container or cluster request on the launch path goblin found for the config (review 8a #4:
a Kubernetes Job asking for `nvidia.com/gpu` and a Dockerfile `FROM nvcr.io/nvidia/pytorch:...`):
`blocker.cuda_gpu_resource` and `blocker.cuda_container_image` (formats/container.py). Only the launcher that runs
THIS config counts; a Dockerfile nothing links to it, a ROCm image and `amd.com/gpu` are silent."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.formats.container import base_image, cuda_image
from pytest_goblin.hardware import get_hardware

from .repo_files import repo

AXOLOTL = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\nsequence_len: 2048\nbf16: true\nflash_attention: true\n"
JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: train
spec:
  template:
    spec:
      containers:
        - name: train
          image: nvcr.io/nvidia/pytorch:24.01-py3
          command: ["torchrun", "--nproc_per_node", "8", "-m", "axolotl.cli.train", "configs/sft.yaml"]
          resources:
            limits:
              nvidia.com/gpu: 8
      restartPolicy: Never
"""
ROCM_JOB = JOB.replace("nvcr.io/nvidia/pytorch:24.01-py3", "rocm/pytorch:rocm7.0_ubuntu24.04_py3.12_pytorch_release_2.8.0").replace(
    "nvidia.com/gpu", "amd.com/gpu"
)
RUN_SH = "docker build -f docker/{name} -t trainer .\ndocker run --device=/dev/kfd trainer torchrun --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n"
CUDA_DF = "FROM nvcr.io/nvidia/pytorch:24.01-py3\nRUN pip install axolotl\n"
ROCM_DF = "FROM rocm/pytorch:rocm7.0_ubuntu24.04_py3.12_pytorch_release_2.8.0\nRUN pip install axolotl\n"


def _found(root: Path, rule: str) -> list[str]:
    loaded = load_config(root / "configs/sft.yaml")
    return [f.message for f in blockers.findings(loaded, get_hardware("mi300x")) if f.rule_id == rule]


def test_images_read_as_cuda_and_not() -> None:
    for image in (
        "nvcr.io/nvidia/pytorch:24.01-py3",
        "nvidia/cuda:12.1.0-devel-ubuntu22.04",
        "docker.io/nvidia/cuda:12.1.0-base",
        "pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
    ):
        assert cuda_image(image), image
    for image in ("rocm/pytorch:latest", "pytorch/pytorch:latest", "ubuntu:22.04", "myorg/nvidia-cuda-free:1", "rocm/nvidia/cuda:1", "${BASE_IMAGE}"):
        assert not cuda_image(image), image


def test_a_megabyte_image_word_is_read_in_linear_time() -> None:
    assert not cuda_image("pytorch/pytorch:" + "a" * 1_000_000)


def test_a_kubernetes_job_running_the_config_with_nvidia_gpus_and_a_cuda_image(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "jobs/train.yaml": JOB})
    resource = _found(root, "blocker.cuda_gpu_resource")
    assert len(resource) == 1 and resource[0].startswith("jobs/train.yaml:14: `nvidia.com/gpu: 8`") and "amd.com/gpu" in resource[0]
    image = _found(root, "blocker.cuda_container_image")
    assert len(image) == 1 and image[0].startswith("jobs/train.yaml:10: `image: nvcr.io/nvidia/pytorch:24.01-py3`") and "rocm/pytorch:rocm7.0" in image[0]
    assert "None" not in resource[0] + image[0]
    # not on an NVIDIA target
    assert not [f for f in blockers.findings(load_config(root / "configs/sft.yaml"), get_hardware("h100")) if f.rule_id.startswith("blocker.cuda_")]


def test_a_rocm_job_is_silent(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "jobs/train.yaml": ROCM_JOB})
    assert not _found(root, "blocker.cuda_gpu_resource") and not _found(root, "blocker.cuda_container_image")


def test_a_job_that_runs_another_config_is_silent(tmp_path: Path) -> None:
    root = repo(
        tmp_path, {"configs/sft.yaml": AXOLOTL, "configs/other.yaml": AXOLOTL, "jobs/train.yaml": JOB.replace("configs/sft.yaml", "configs/other.yaml")}
    )
    assert not _found(root, "blocker.cuda_gpu_resource") and not _found(root, "blocker.cuda_container_image")


def test_the_dockerfile_the_launcher_builds_is_read(tmp_path: Path) -> None:
    files = {"configs/sft.yaml": AXOLOTL, "run.sh": RUN_SH.format(name="Dockerfile.cuda"), "docker/Dockerfile.cuda": CUDA_DF, "docker/Dockerfile.rocm": ROCM_DF}
    root = repo(tmp_path, files)
    got = _found(root, "blocker.cuda_container_image")
    assert len(got) == 1 and got[0].startswith(
        "docker/Dockerfile.cuda:1 (run.sh:1 builds it and the launch line runs it): `FROM nvcr.io/nvidia/pytorch:24.01-py3`"
    ), got
    # the same repository whose launcher builds the ROCm Dockerfile: the CUDA one beside it is not this config's
    root2 = repo(tmp_path / "two", {**files, "run.sh": RUN_SH.format(name="Dockerfile.rocm")})
    assert not _found(root2, "blocker.cuda_container_image")


def test_a_dockerfile_nothing_links_to_the_config_is_silent(tmp_path: Path) -> None:
    files = {"configs/sft.yaml": AXOLOTL, "run.sh": "torchrun --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n", "Dockerfile": CUDA_DF}
    assert not _found(repo(tmp_path, files), "blocker.cuda_container_image")


def test_a_docker_run_of_a_cuda_image_is_read(tmp_path: Path) -> None:
    run = "docker run --gpus all -e HF_TOKEN=plainhub44444444 -v $PWD:/w nvidia/cuda:12.1.0-devel-ubuntu22.04 torchrun --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n"
    got = _found(repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "run.sh": run}), "blocker.cuda_container_image")
    assert len(got) == 1 and got[0].startswith("run.sh:1: `docker run ... nvidia/cuda:12.1.0-devel-ubuntu22.04`"), got
    assert "plainhub44444444" not in got[0]  # only the image is quoted, never the line's other words
    rocm = run.replace("nvidia/cuda:12.1.0-devel-ubuntu22.04", "rocm/pytorch:latest")
    assert not _found(repo(tmp_path / "two", {"configs/sft.yaml": AXOLOTL, "run.sh": rocm}), "blocker.cuda_container_image")


def test_a_multi_stage_dockerfile_runs_its_last_stage(tmp_path: Path) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text("FROM nvidia/cuda:12.1.0-devel AS build\nRUN make\nFROM rocm/pytorch:latest\nCOPY --from=build /x /x\n")
    assert base_image(df) == (3, "rocm/pytorch:latest")
    df.write_text("FROM nvidia/cuda:12.1.0-devel AS base\nFROM base\nRUN pip install x\n")
    assert base_image(df) == (1, "nvidia/cuda:12.1.0-devel")


def test_a_base_image_from_an_arg_default_and_a_build_arg(tmp_path: Path) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text("ARG BASE=nvcr.io/nvidia/pytorch:24.01-py3\nFROM ${BASE}\n")
    assert base_image(df) == (2, "nvcr.io/nvidia/pytorch:24.01-py3")
    assert base_image(df, {"BASE": "rocm/pytorch:latest"}) == (2, "rocm/pytorch:latest")
    files = {
        "configs/sft.yaml": AXOLOTL,
        "run.sh": "docker build --build-arg BASE=rocm/pytorch:latest -t trainer .\ndocker run trainer torchrun --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n",
        "Dockerfile": df.read_text(),
    }
    assert not _found(repo(tmp_path / "rocm", files), "blocker.cuda_container_image")
    files["run.sh"] = files["run.sh"].replace("--build-arg BASE=rocm/pytorch:latest ", "")
    assert _found(repo(tmp_path / "cuda", files), "blocker.cuda_container_image")


def test_a_docker_build_the_launch_line_does_not_run_is_silent(tmp_path: Path) -> None:
    """The launcher builds a CUDA image but runs the config on the host (or in another image): not this config's container."""
    run = "docker build -f docker/Dockerfile.cuda -t server .\ntorchrun --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n"
    files = {"configs/sft.yaml": AXOLOTL, "run.sh": run, "docker/Dockerfile.cuda": CUDA_DF}
    assert not _found(repo(tmp_path, files), "blocker.cuda_container_image")


def test_a_compose_service_the_launch_line_runs(tmp_path: Path) -> None:
    compose = "services:\n  train:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile.cuda\n  serve:\n    image: nvidia/cuda:12.1.0-base\n"
    run = "docker compose run --rm -e X=1 train torchrun --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n"
    files = {"configs/sft.yaml": AXOLOTL, "run.sh": run, "docker-compose.yml": compose, "docker/Dockerfile.cuda": CUDA_DF, "docker/Dockerfile.rocm": ROCM_DF}
    got = _found(repo(tmp_path, files), "blocker.cuda_container_image")
    assert len(got) == 1 and got[0].startswith("docker/Dockerfile.cuda:1 (run.sh runs it through docker-compose.yml): `FROM nvcr.io/nvidia/pytorch"), got
    rocm = {**files, "docker-compose.yml": compose.replace("Dockerfile.cuda", "Dockerfile.rocm")}
    assert not _found(repo(tmp_path / "rocm", rocm), "blocker.cuda_container_image")
    # the CUDA `serve` service is not the one the launch line runs
    assert not _found(repo(tmp_path / "serve", {**rocm, "run.sh": run}), "blocker.cuda_container_image")
    image = {**files, "docker-compose.yml": "services:\n  train:\n    image: pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime\n"}
    got = _found(repo(tmp_path / "image", image), "blocker.cuda_container_image")
    assert len(got) == 1 and got[0].startswith("docker-compose.yml:3: `image: pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime`"), got


def test_megabyte_launch_lines_are_read_in_linear_time(tmp_path: Path) -> None:
    import time

    from pytest_goblin.formats.container import _compose_run, _container_of

    for line in ("docker compose " * 70_000, "docker run " * 90_000, "x" * 1_000_000, "FROM " + "a " * 500_000):
        t = time.perf_counter()
        _compose_run(line)
        _container_of(line, line, tmp_path / "run.sh", tmp_path)
        # a quadratic walk of a megabyte takes hours; 30 s leaves room for a loaded CI machine (a linear one takes ~1 s)
        assert time.perf_counter() - t < 30, line[:40]
