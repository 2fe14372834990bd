"""A "needs a ROCm build" finding is left out where the repository installs that build, and says so in the notes
(frameworks/rocm_ship.py; review11b class 7: financial-grpo's Dockerfile FROM rocm/vllm, InstellaVL's FROM
rocm/megatron-lm); evidence for one package never answers another's. A torch release a README names without installing
it (review11b #36, gritlm README.md:320: "# ... we used torch==2.2.0 with ... CUDA Version: 12.2") is no torch pin."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks.pins import exact_pins
from pytest_goblin.frameworks.rocm_ship import dockerfile_evidence, line_evidence, shipped
from pytest_goblin.hardware import get_hardware
from pytest_goblin.options import build_settings
from pytest_goblin.service import audit_file

from .repo_files import write_tree

HF = "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nlearning_rate: 2.0e-5\nbf16: true\n"
VLLM = "blocker.trl_vllm_needs_rocm_build"
FLASH = "attention.flash_attn_rocm_build"
TORCH = "blocker.torch_without_rocm_build"


def _audit(path: Path) -> Any:
    result = audit_file(path, build_settings({"target": "mi300x"}), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


def _config(tmp_path: Path, body: str, files: dict[str, str]) -> Path:
    return write_tree(tmp_path / "repo", {"sft.yaml": body, **files}, git=True) / "sft.yaml"


@pytest.mark.parametrize(
    ("files", "fires"),
    [
        ({"Dockerfile": "FROM rocm/vllm:rocm6.3.1_vllm_0.8.5_20250513\nRUN pip install trl==0.16.1\n"}, False),
        # the last stage is what runs: an earlier stage's name followed to its FROM
        ({"Dockerfile": "FROM rocm/vllm:rocm6.3.1_vllm_0.8.5_20250513 AS base\nFROM base\n"}, False),
        ({"README.md": "```bash\ndocker run -it --device /dev/kfd rocm/vllm:rocm6.4.1_vllm_0.9.1_20250715 bash\n```\n"}, False),
        ({"requirements.txt": "vllm==0.8.5+rocm6.3.1\n"}, False),
        # must fire: rocm/pytorch holds a ROCm torch, not vLLM; a build stage that is not the one run; a ROCm 5 image;
        # a plain vllm pin; a commented-out clone of ROCm's vLLM
        ({"Dockerfile": "FROM rocm/pytorch:rocm6.2_ubuntu22.04_py3.10_pytorch_release_2.3.0\n"}, True),
        ({"Dockerfile": "FROM rocm/vllm:rocm6.3.1_vllm_0.8.5_20250513 AS build\nFROM ubuntu:22.04\n"}, True),
        ({"Dockerfile": "FROM rocm/vllm:rocm5.7_vllm_0.3.0\n"}, True),
        ({"requirements.txt": "vllm==0.8.5\n"}, True),
        ({"Dockerfile": "FROM ubuntu:22.04\n# RUN git clone https://github.com/ROCm/vllm.git\n"}, True),
    ],
)
def test_the_vllm_requirement_is_left_out_where_the_repository_ships_rocm_vllm(tmp_path: Path, files: dict[str, str], fires: bool) -> None:
    path = _config(tmp_path, HF + "use_vllm: true\n", files)
    got = [f.rule_id for f in blockers.findings(load_config(path), get_hardware("mi300x"))]
    assert (VLLM in got) == fires


def test_the_note_says_where_the_rocm_build_is_installed(tmp_path: Path) -> None:
    """financial-grpo (review11b #33): the Dockerfile goblin reads trl's pin from is FROM rocm/vllm."""
    path = _config(tmp_path, HF + "use_vllm: true\n", {"Dockerfile": "FROM rocm/vllm:rocm6.3.1_vllm_0.8.5_20250513\nRUN pip install trl==0.16.1\n"})
    report = _audit(path)
    assert VLLM not in [f.rule_id for f in report.findings]
    (note,) = [n for n in report.notes if n.startswith(VLLM)]
    assert "Dockerfile:1 builds FROM `rocm/vllm:rocm6.3.1_vllm_0.8.5_20250513`" in note and "vllm-history" in note and "None" not in note


@pytest.mark.parametrize(
    ("files", "fires"),
    [
        ({"requirements.txt": "flash_attn==2.7.4.post1+rocm6.3\n"}, False),
        ({"Dockerfile": "FROM ubuntu:22.04\nRUN git clone https://github.com/ROCm/flash-attention.git && cd flash-attention && pip install .\n"}, False),
        ({"requirements.txt": "https://example.org/rocm6.3/flash_attn-2.7.4-cp310-cp310-linux_x86_64.whl\n"}, False),
        ({"Dockerfile": "FROM rocm/megatron-lm:v25.5_py310\nRUN pip install transformers==4.44.0\n"}, False),  # InstellaVL (review11b #37)
        # must fire: an upstream pin, and evidence for another package only (rocm/vllm: goblin knows its vLLM and torch)
        ({"requirements.txt": "flash_attn==2.7.4\n"}, True),
        ({"Dockerfile": "FROM rocm/vllm:rocm6.3.1_vllm_0.8.5_20250513\n"}, True),
        ({"requirements.txt": "https://example.org/cu121/flash_attn-2.7.4-cp310-cp310-linux_x86_64.whl\n"}, True),
    ],
)
def test_the_flash_attn_footgun_is_left_out_where_the_repository_ships_rocm_flash_attn(tmp_path: Path, files: dict[str, str], fires: bool) -> None:
    path = _config(tmp_path, HF + "attn_implementation: flash_attention_2\n", files)
    report = _audit(path)
    assert (FLASH in [f.rule_id for f in report.findings]) == fires
    assert any(n.startswith(FLASH) for n in report.notes) != fires


def test_rocm_bitsandbytes_built_from_source_is_shipped(tmp_path: Path) -> None:
    dockerfile = (
        "FROM rocm/vllm:rocm6.3.1_vllm_0.8.5_20250513\n"
        "RUN git clone --recurse-submodules https://github.com/ROCm/bitsandbytes.git && \\\n"
        "    cd bitsandbytes && cmake -DCOMPUTE_BACKEND=hip -S . && make && pip install .\n"
    )
    path = _config(tmp_path, HF, {"Dockerfile": dockerfile})
    got = shipped(exact_pins(str(path), path.read_text()))
    assert sorted(got) == ["bitsandbytes", "torch", "vllm"]
    assert got["bitsandbytes"].where == "Dockerfile:2" and got["vllm"].where == "Dockerfile:1"
    other = _config(tmp_path / "b", HF, {"Dockerfile": "FROM ubuntu:22.04\nRUN pip install bitsandbytes==0.43.1\n"})
    assert shipped(exact_pins(str(other), other.read_text())) == {}


@pytest.mark.parametrize(
    ("readme", "fires"),
    [
        # gritlm README.md:320 (review11b #36): the authors' NVIDIA environment in a comment of the setup block
        (
            "```bash\n# First install PyTorch (https://pytorch.org/get-started/locally/; we used torch==2.2.0 with NVIDIA-SMI 535.104.05, "
            "CUDA Version: 12.2), then do the below\ngit clone https://github.com/ContextualAI/gritlm\npip install -e .\n```\n",
            False,
        ),
        ("```\nWe used torch==2.0.1 and CUDA 11.8 for all experiments.\n```\n", False),
        # must fire: an install line, and a requirements listing shown in a block
        ("```bash\npip install torch==2.0.1\n```\n", True),
        ("```\ntorch==2.0.1\ntransformers==4.36.2\n```\n", True),
    ],
)
def test_a_torch_release_a_readme_names_without_installing_it_is_no_pin(tmp_path: Path, readme: str, fires: bool) -> None:
    path = _config(tmp_path, HF, {"README.md": readme})
    got = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == TORCH]
    assert bool(got) == fires
    if got:
        assert "README.md:2" in got[0].message


def test_evidence_lines() -> None:
    assert line_evidence("# git clone https://github.com/ROCm/flash-attention") == []
    assert [p for p, *_ in line_evidence("pip install git+https://github.com/ROCmSoftwarePlatform/flash-attention.git")] == ["flash-attn"]
    assert [p for p, *_ in line_evidence("  rocm/pytorch:rocm6.2_ubuntu22.04 \\")] == ["torch"]
    assert line_evidence("docker run rocm/instellavl:latest") == []  # an image AMD documents nothing about
    assert [(n, p) for n, p, *_ in dockerfile_evidence("FROM docker.io/rocm/vllm:rocm6.4.1_vllm_0.9.1_20250715\n")] == [(1, "torch"), (1, "vllm")]
    assert dockerfile_evidence("FROM rocm/pytorch:rocm5.4.2_ubuntu20.04_py3.8_pytorch_2.0.0\n") == []


def test_evidence_reading_is_linear() -> None:
    start = time.monotonic()
    for line in ("rocm/" * 200_000, "github.com/ROCm/" * 60_000, "flash_attn==1" + "." * 500_000 + "+rocm", "FROM " + " " * 500_000 + "x"):
        line_evidence(line)
        dockerfile_evidence(line)
    assert time.monotonic() - start < 5
