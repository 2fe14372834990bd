"""A README install block that lists packages as `pip list` / `conda list` columns (`bitsandbytes   0.41.0`, no `==`)
names one release of each: read as that package's exact pin for the blockers (frameworks/listed.py; blind review 15b
#27, choucaicai/drpo-align README.md:15-19, whose bitsandbytes 0.41.0 has no ROCm library)."""

from __future__ import annotations

import time
from pathlib import Path

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks.listed import listed_releases
from pytest_goblin.hardware import get_hardware

from .repo_files import fresh_root, write_tree

QLORA = "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\nload_in_4bit: true\nuse_peft: true\noptim: rmsprop\nbf16: true\n"
LISTING = "transformers                      4.44.0\naccelerate                        0.33.0\nbitsandbytes                      0.41.0\n"
BNB = "blocker.bitsandbytes_before_rocm_wheels"


def _readme(body: str) -> str:
    return f"# Project\n\n## Installation\n\n2. Install request environment\n{body}\n## Usage\n"


def _bnb(tmp_path: Path, readme: str) -> list[str]:
    root = write_tree(fresh_root(tmp_path), {"README.md": readme, "sft.yaml": QLORA}, git=True)
    return [f.message for f in blockers.findings(load_config(root / "sft.yaml"), get_hardware("mi300x")) if f.rule_id == BNB]


def test_a_listing_in_a_readme_code_block_pins_bitsandbytes(tmp_path: Path) -> None:
    got = _bnb(tmp_path, _readme("```\n" + LISTING + "```\n"))
    assert len(got) == 1, got
    # the listing's line, said as a listing; the anchor is the file's own 4-bit key, not `optim: rmsprop`
    assert "README.md:9, a package listing read as ==0.41.0" in got[0]
    assert got[0].startswith("line 3: `load_in_4bit: true`") and "rmsprop" not in got[0] and "None" not in got[0]


def test_a_listing_that_does_not_pin(tmp_path: Path) -> None:
    cases = {
        "prose": _readme(LISTING),  # not a code block: a version in prose is not a pin
        "eq wins": _readme("```\n" + LISTING + "pip install bitsandbytes==0.49.0\n```\n"),  # the README's own == line
        "two parts": _readme("```\nbitsandbytes    0.41\n```\n"),  # pip list prints the whole version
        "sentence": _readme("```\nbitsandbytes 0.41.0 was too slow for us here\n```\n"),
        # an inference section's environment beside a training one (pins._set_aside)
        "inference": "# P\n\n## Training\n```\npip install -r requirements.txt\n```\n\n## Inference\n```\n" + LISTING + "```\n",
    }
    for i, (what, readme) in enumerate(cases.items()):
        (tmp_path / str(i)).mkdir()
        assert _bnb(tmp_path / str(i), readme) == [], what


def test_listing_lines_are_read_by_their_columns() -> None:
    rows = "pytorch                   2.1.0           py3.10_cuda11.8_cudnn8.7.0_0    pytorch\ntorch 2.3.1+rocm6.0\nimport torch 2.1.0\nvllm==0.6.3\n"
    got = listed_releases(rows)
    assert [(r.dist, r.version, r.local, r.line) for r in got] == [("torch", "2.1.0", "", 1), ("torch", "2.3.1", "+rocm6.0", 2)]


def test_listing_reader_is_linear_on_a_megabyte_line() -> None:
    start = time.perf_counter()
    listed_releases("torch " + "1" * 1_000_000 + "\n" + "bitsandbytes" + " \t" * 500_000 + "\n" + "vllm 0.1.1 " + "a " * 500_000)
    assert time.perf_counter() - start < 2.0
