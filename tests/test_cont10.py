"""review7b #24/#36: a README install line under a data-generation / evaluation section is not the run's environment,
and Markdown fences pair as CommonMark pairs them (a `` ```shell `` line inside an unclosed block does not close it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import pins
from pytest_goblin.hardware import get_hardware

HF = "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nbf16: true\n"
CUDA = "pip install vllm-dev.whl --extra-index-url https://download.pytorch.org/whl/cu121\n"


def _readme(cuda_section: str, unclosed: bool) -> str:
    # an example block the author never closes (review7b #24 README.md:291), then blocks fenced with an info string
    example = '## Dataset\n\n```python\n{"a": 1}\n\nstart the server:\n\n```shell\nserve x\n```\n\n' if unclosed else ""
    return (
        "# Project\n\n## Installation\n\n```shell\npip install vllm==0.8.5.post1\n```\n\n"
        + example
        + f"## {cuda_section}\n\n### Step one\n\n```shell\n{CUDA}```\n\n## Training\n\n```shell\naccelerate launch train.py\n```\n"
    )


def _cuda_index(tmp_path: Path, readme: str) -> list[str]:
    (tmp_path / "README.md").write_text(readme)
    path = tmp_path / "sft.yaml"
    path.write_text(HF)
    return [f.message for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.torch_from_cuda_index"]


@pytest.mark.parametrize("section", ["Data generation", "Evaluating models", "Generate data from DeepSeek-R1"])
@pytest.mark.parametrize("unclosed", [False, True])
def test_a_cuda_index_under_a_data_generation_or_evaluation_section_is_not_the_run_s(tmp_path: Path, section: str, unclosed: bool) -> None:
    assert _cuda_index(tmp_path, _readme(section, unclosed)) == []
    rows = _readme(section, unclosed).splitlines()
    at = next(i for i, r in enumerate(rows, 1) if "cu121" in r)
    assert any(first <= at <= last and "not about training" in why for first, last, why in pins._set_aside("\n".join(rows)))


@pytest.mark.parametrize("unclosed", [False, True])
def test_a_cuda_index_under_the_training_install_section_still_fires(tmp_path: Path, unclosed: bool) -> None:
    (msg,) = _cuda_index(tmp_path, _readme("Training setup", unclosed))
    assert "cu121" in msg and "README.md" in msg and "None" not in msg


def test_fences_pair_as_commonmark_does() -> None:
    rows = ["```python", "x", "```shell", "y", "```", "# Heading", "````", "```", "````", "~~~", "```", "~~~ tail", "~~~"]
    assert pins._fence_lines(rows) == [True, False, False, False, True, False, True, False, True, True, False, False, True]
    assert pins._sections(rows)[5] == "Heading"  # outside every block once the fences pair
    assert pins._sections(["```python", "```sh", "# not a heading", "```"])[2] == ""
