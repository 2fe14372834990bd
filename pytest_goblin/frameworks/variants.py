"""Which of a folder's environment files are another accelerator's variant, where the folder ships a ROCm one.

A repository may ship its environment once per accelerator (review12a #8/#9, mila-iqia/milabench@faf3923:
benchmarks/llm/requirements.rocm.txt:7 `--extra-index-url https://download.pytorch.org/whl/rocm6.2.4` and :324
torchtune==0.5.0 beside requirements.cuda.txt and requirements.hpu.txt; docker/Dockerfile-rocm beside Dockerfile-cuda,
Dockerfile-ngc and Dockerfile-hpu). goblin's targets are AMD Instinct GPUs, so the ROCm variant is the one that runs
there: the other accelerators' variants of the same folder are not read as the environment (pins, images). The evidence
is the file's name (`rocm` as a word of it: `requirements.rocm.txt`, `Dockerfile-rocm`, `rocm_requirements.txt`), else
a ROCm package index inside a requirements file (`download.pytorch.org/whl/rocm6.2.4`, AMD's repo.radeon.com wheels).
A folder with no ROCm variant keeps every file (a CUDA-only file is then what the repository runs, and judged so).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A word of a file name that marks another accelerator's variant: NVIDIA's (`cuda`, `cu121`, `ngc`, `nvidia`), Intel
# Gaudi's (`hpu`, `gaudi`, `habana`), Intel GPUs' (`xpu`), Ascend's (`npu`), TPUs' and Apple's (`mps`).
OTHER_WORDS = ("cuda", "cu1[0-9]{1,2}", "ngc", "nvidia", "hpu", "gaudi", "habana", "xpu", "npu", "ascend", "tpu", "mps")
_OTHER = re.compile(rf"(?i)(?:^|[^a-z0-9])(?:{'|'.join(OTHER_WORDS)})(?:[^a-z]|$)")
_ROCM = re.compile(r"(?i)(?:^|[^a-z0-9])rocm(?:[^a-z]|$)")
# A ROCm wheel index a requirements file installs from (PyTorch's `whl/rocmX.Y` index, AMD's repo.radeon.com wheels).
ROCM_INDEX = re.compile(r"(?i)download\.pytorch\.org/whl/(?:nightly/|test/)?rocm[0-9]|repo\.radeon\.com/rocm/manylinux")


def rocm_name(name: str) -> bool:
    return _ROCM.search(name) is not None


def other_name(name: str) -> bool:
    return _OTHER.search(name) is not None and not rocm_name(name)


def other_variants(names: list[str], rocm_inside: Callable[[str], bool] | None = None) -> set[str]:
    """The names of `names` (one folder's files) that are another accelerator's variant, where the folder also has a ROCm
    variant (by name, else a file `rocm_inside` says installs from a ROCm index); empty where it has none."""
    others = {n for n in names if other_name(n)}
    if not others:
        return set()
    if any(rocm_name(n) for n in names):
        return others
    if rocm_inside is not None and any(rocm_inside(n) for n in names if n not in others):
        return others
    return set()
