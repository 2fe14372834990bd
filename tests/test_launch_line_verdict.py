"""Waste in the values a launch line passes is a recoverable speedup the verdict counts (review10a #18).

hmosousa/tradutor scripts/train_hf.py: the launch script passes `--train_batch_size 1` and `--attn_implementation eager`
to a `fire.Fire` entry point; their edits projected 2.16x, yet the verdict was INCONCLUSIVE "edits in the launch line"
because goblin does not write launch lines. The finding now says the exact change, a projected verdict counts it with
the patch, and `--fix` still writes only the audited file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.cli import main
from pytest_goblin.schemas import Report
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

SCRIPT = """\
import fire
import torch
from transformers import AutoModelForCausalLM
from trl import SFTConfig, SFTTrainer


def main(model_name: str = "meta-llama/Llama-2-7b-hf", train_batch_size: int = 1):
    model = AutoModelForCausalLM.from_pretrained(model_name, torch_dtype=torch.bfloat16)
    args = SFTConfig(
        output_dir="out",
        bf16=True,
        per_device_train_batch_size=train_batch_size,
        gradient_accumulation_steps=64,
        gradient_checkpointing={gc},
        max_seq_length=1024,
    )
    SFTTrainer(model=model, args=args, train_dataset=None).train()


if __name__ == "__main__":
    fire.Fire(main)
"""

LAUNCH = """\
python train.py \\
    --model_name meta-llama/Llama-2-7b-hf \\
    --train_batch_size {bs}
"""


def _repo(tmp_path: Path, bs: str, gc: bool = False) -> Path:
    (tmp_path / "run.sh").write_text(LAUNCH.format(bs=bs))
    path = tmp_path / "train.py"
    path.write_text(SCRIPT.format(gc=gc))
    return path


def _audit(path: Path) -> Report:
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


def test_launch_line_edits_count_in_the_verdict(tmp_path: Path) -> None:
    report = _audit(_repo(tmp_path, "1"))
    # on 69eaa21: INCONCLUSIVE "belong in the launch line ..., which goblin does not write"
    assert report.verdict == "fail" and report.inconclusive is None
    assert "with the edits of batch.raise_micro_batch made in the launch line" in report.reason and "at or above goblin_fail_at" in report.reason
    assert "None" not in report.reason
    finding = next(f for f in report.findings if f.rule_id == "batch.raise_micro_batch")
    # the exact change: the launch word with the new value, and the rule's edit of the script beside it
    assert "`--train_batch_size 1` is passed by run.sh line 3: change it in the launch line to `--train_batch_size " in finding.message
    assert "with `gradient_accumulation_steps` " in finding.message and "(line 13)" in finding.message
    assert not any(e.rule_id == "batch.raise_micro_batch" for e in report.patch.edits)  # not written into the script


def test_a_patch_that_fails_alone_says_what_the_launch_line_adds(tmp_path: Path) -> None:
    report = _audit(_repo(tmp_path, "1", gc=True))
    assert report.verdict == "fail" and report.reason.startswith("the patch recovers at least")
    assert "; with the edits of batch.raise_micro_batch made in the launch line" in report.reason


def test_a_launch_value_goblin_did_not_read_is_not_counted(tmp_path: Path) -> None:
    report = _audit(_repo(tmp_path, "$BS"))  # set nowhere in the file: the value is not read
    assert "made in the launch line" not in report.reason
    assert not any("change it in the launch line" in why for why in report.patch.skipped.values())


def test_fix_writes_the_script_and_never_the_launch_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _repo(tmp_path, "1", gc=True)  # the script's own edit: checkpointing off
    launch = (tmp_path / "run.sh").read_text()
    monkeypatch.chdir(tmp_path)
    main(["audit", "train.py", "--target", "mi300x", "--runner", "projection", "--fix"])
    assert (tmp_path / "run.sh").read_text() == launch
    fixed = path.read_text()
    assert "gradient_checkpointing=False" in fixed  # the script's own edit is written
    assert "gradient_accumulation_steps=64" in fixed  # the launch-line rule's edits are not, in either file
