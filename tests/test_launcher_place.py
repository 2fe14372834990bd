"""A launcher item's findings are placed in the file their key is in (location39, blind review 15a class 4: 11L printed
`run2node.sh:35` for the YAML's line 35 of a 19-line shell file, 15L `launcher.sh:9` for the YAML's line 9, row 18
`scripts/sft.sh:1273` for a line of train.py). The item is the launcher's (`pytest --goblin run.sh`, shellitem37); a
key the config sets is `config.yaml:N`, a value the launch line passes `run.sh:N`, in every output. Small fixture
repositories; nothing is executed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from pytest_goblin.cli import main
from pytest_goblin.reporting.text import failure_text
from pytest_goblin.schemas import Report

from .repo_files import repo
from .test_finding_place import SCRIPT


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# a LLaMA-Factory recipe whose micro-batch is on line 9
CONFIG = """\
### model
model_name_or_path: Qwen/Qwen2.5-7B-Instruct
stage: sft
do_train: true
finetuning_type: lora
dataset: alpaca_en_demo
template: qwen
cutoff_len: 1024
per_device_train_batch_size: 1
gradient_accumulation_steps: 8
learning_rate: 1.0e-4
num_train_epochs: 3.0
bf16: true
output_dir: out
"""
RUN = "#!/bin/bash\nset -e\n\nFORCE_TORCHRUN=1 llamafactory-cli train config.yaml\n"  # four lines: line 9 is none of them
# a script launcher whose launch line passes `--tf32 True` on its line 5
RUN_TF32 = """\
#!/bin/bash
torchrun --nproc_per_node=4 train.py \\
    --model_name_or_path meta-llama/Meta-Llama-3-8B \\
    --bf16 True --output_dir out \\
    --tf32 True
"""


def _audit(tmp_path: Path, item: str) -> tuple[dict[str, Any], str, str]:
    out = tmp_path / "out"
    main(["audit", item, "--runner", "projection", "--json", f"{out}.json", "--md", f"{out}.md", "--junit", f"{out}.xml"])
    report = json.loads(Path(f"{out}.json").read_text())["items"][0]["report"]
    junit = "".join(ET.fromstring(Path(f"{out}.xml").read_text()).itertext())
    return report, Path(f"{out}.md").read_text(), junit


def _finding(report: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(f for f in report["findings"] if f["rule_id"] == rule)


def test_a_launcher_items_config_key_is_placed_in_the_config(tmp_path: Path) -> None:
    repo(tmp_path, {"config.yaml": CONFIG, "run.sh": RUN})
    report, md, junit = _audit(tmp_path, "repo/run.sh")
    assert report["path"] == "repo/run.sh"
    f = _finding(report, "batch.raise_micro_batch")
    assert (f["file"], f["line"]) == ("config.yaml", 9)
    text = failure_text(Report.model_validate(report))
    assert "config.yaml:9: [batch.raise_micro_batch]" in text and "run.sh:9" not in text
    assert "config.yaml line 9" in md
    assert "config.yaml:9: [batch.raise_micro_batch]" in junit and "run.sh:9" not in junit


def test_a_launch_lines_value_is_placed_at_the_launchers_line(tmp_path: Path) -> None:
    repo(tmp_path, {"train.py": SCRIPT, "run.sh": RUN_TF32, "requirements.txt": "transformers==4.46.3\n"})
    report, md, _junit = _audit(tmp_path, "repo/run.sh")
    f = _finding(report, "blocker.tf32_on_rocm")
    assert (f["file"], f["line"]) == ("run.sh", 5)
    assert "run.sh:5: [blocker.tf32_on_rocm]" in failure_text(Report.model_validate(report))
    assert "run.sh line 5" in md


def test_the_config_audited_as_itself_keeps_its_own_lines(tmp_path: Path) -> None:
    repo(tmp_path, {"config.yaml": CONFIG, "run.sh": RUN})
    report, _md, _junit = _audit(tmp_path, "repo/config.yaml")
    f = _finding(report, "batch.raise_micro_batch")
    assert (f["file"], f["line"]) == (None, 9)  # the item's own file: no other named
    assert "repo/config.yaml:9: [batch.raise_micro_batch]" in failure_text(Report.model_validate(report))
