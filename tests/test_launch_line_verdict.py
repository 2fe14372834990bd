"""Waste in the values a launch line passes is a recoverable speedup the verdict counts (review10a #18).

hmosousa/tradutor scripts/train_hf.py: the launch script passes `--train_batch_size 1` and `--attn_implementation eager`
to a `fire.Fire` entry point; their edits projected 2.16x, yet the verdict was INCONCLUSIVE "edits in the launch line"
because goblin does not write launch lines. The finding now says the exact change, a projected verdict counts it with
the patch, and `--fix` still writes only the audited file.
"""

from __future__ import annotations

import json
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


# The same for a value the script's own code sets with certainty (review10b #36 tloen/alpaca-lora finetune.py: an
# LLM.int8 load and the findings' edits "change them by hand" left the verdict INCONCLUSIVE on the data's lengths).
CODE_SCRIPT = """\
import os

import torch
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-2-7b-hf", torch_dtype=torch.bfloat16)
{guard}
    model.gradient_checkpointing_enable()
args = TrainingArguments(output_dir="out", bf16=True, per_device_train_batch_size=8, max_steps=100, optim="adamw_torch_fused")
Trainer(model=model, args=args, train_dataset=None).train()
"""


def _code_repo(tmp_path: Path, guard: str) -> Path:
    (tmp_path / "run.sh").write_text("torchrun --nproc_per_node 8 train.py\n")
    path = tmp_path / "train.py"
    path.write_text(CODE_SCRIPT.format(guard=guard))
    return path


def test_code_edits_count_in_the_verdict(tmp_path: Path) -> None:
    report = _audit(_code_repo(tmp_path, "if True:"))
    # on 70d0ce0: INCONCLUSIVE "activation checkpointing stays on, and whether turning it off pays is not decided"
    assert report.verdict == "fail" and report.inconclusive is None
    assert "with the edits of memory.disable_checkpointing_when_hbm_free made in the script's code" in report.reason
    assert "the config's own patch recovers 1.00x" in report.reason and "None" not in report.reason
    assert "in the code by hand" in report.patch.skipped["memory.disable_checkpointing_when_hbm_free"]
    assert not report.patch.edits  # nothing written into the script's code


def test_code_goblin_cannot_evaluate_is_not_counted(tmp_path: Path) -> None:
    report = _audit(_code_repo(tmp_path, 'if os.environ.get("GC"):'))  # may or may not run: not read
    assert "made in the script's code" not in report.reason
    assert not any(f.rule_id == "memory.disable_checkpointing_when_hbm_free" for f in report.findings)


def test_a_quantized_load_in_code_counts_with_the_launch_line(tmp_path: Path) -> None:
    """An 8-bit load (the script's code) and a micro-batch the launch line passes: both are the user's edits."""
    (tmp_path / "run.sh").write_text(LAUNCH.format(bs="1"))
    path = tmp_path / "train.py"
    path.write_text(
        SCRIPT.format(gc=False)
        .replace("torch_dtype=torch.bfloat16)", "load_in_8bit=True, torch_dtype=torch.bfloat16)")
        .replace("from trl import", "from peft import LoraConfig, get_peft_model\nfrom trl import")
        .replace("    args = SFTConfig(", "    model = get_peft_model(model, LoraConfig(r=16))\n    args = SFTConfig(")
    )
    report = _audit(path)
    assert report.verdict == "fail"
    assert "quant.lora_over_8bit_when_bf16_fits" in report.reason and "made in the script's code and in the launch line" in report.reason


def test_the_items_line_says_what_decided_a_verdict_the_users_edits_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The item's one line leads with the speedup the user's edits project, says it is theirs beside the config's own
    patch (1.00x), and what decided the verdict (blind review 14b #31: a FAIL whose line showed only 1.00x)."""
    _code_repo(tmp_path, "if True:")
    monkeypatch.chdir(tmp_path)
    main(["audit", "train.py", "--target", "mi300x", "--runner", "projection", "--json", "r.json"])
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("FAIL "))
    report = json.loads((tmp_path / "r.json").read_text())["items"][0]["report"]
    hand = report["hand_speedup"]
    assert hand["low"] >= 1.10 and report["speedup"]["point"] == 1.0
    assert f"{hand['point']:.2f}x [{hand['low']:.2f}-{hand['high']:.2f}] projected with the edits made by hand (the config's own patch: 1.00x)" in line
    assert "(with the edits of memory.disable_checkpointing_when_hbm_free made in the script's code" in line


def test_a_verdict_the_config_patch_decides_has_no_hand_speedup(tmp_path: Path) -> None:
    report = _audit(_repo(tmp_path, "1", gc=True))  # the script's own edit decides: the launch line only adds
    assert report.verdict == "fail" and report.hand_speedup is None
