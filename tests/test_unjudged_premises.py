"""A projected PASS is not clean where a rule that would change the run reads a field the script sets in code goblin
could not evaluate (rules.unjudged, tools/audit_tools._unjudged_premises): review11b #32 LUMI GPT-neo-IMDB-finetuning.py
sets `per_device_train_batch_size=global_train_batch_size // world_size` (32 // 8 = 4 on its launcher's 8 GCDs), which
goblin read as TrainingArguments' default 8, so batch.small_global_batch went unjudged and the item printed PASS.
attention.flash_over_eager (GPT-Neo's unset attention runs eager) is ignored here, so that the projected verdict is the
PASS this test is about."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import load_rules, unjudged
from pytest_goblin.schemas import Report
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import repo

SCRIPT = """\
import os

from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

world_size = {world}
global_train_batch_size = 32
model = AutoModelForCausalLM.from_pretrained("EleutherAI/gpt-neo-1.3B")
ta = TrainingArguments(output_dir="o", bf16=True, per_device_train_batch_size=global_train_batch_size // world_size)
Trainer(model=model, args=ta, train_dataset=None).train()
# goblin: ignore[attention.flash_over_eager]
"""


def _audit(tmp_path: Path, world: str, launch: str) -> Report:
    root = repo(tmp_path, {"train.py": SCRIPT.format(world=world), "run.sh": launch})
    result = audit_file(root / "train.py", Settings(runner="projection", target="mi300x"), shown_as="train.py")
    assert result.report is not None, result.error
    return result.report


def test_a_pass_on_a_micro_batch_set_in_code_goblin_could_not_evaluate_is_not_decided(tmp_path: Path) -> None:
    # WORLD_SIZE from a launcher count goblin does not know: the micro-batch is computed at run time
    report = _audit(tmp_path, 'int(os.environ["WORLD_SIZE"])', "torchrun --nproc-per-node=$NGPU train.py\n")
    assert report.verdict != "pass"
    why = report.inconclusive or ""
    assert "batch.small_global_batch would judge micro_batch_size" in why
    assert "`per_device_train_batch_size=`" in why and "goblin assumed micro_batch_size 8" in why and "None" not in why


def test_a_micro_batch_goblin_reads_leaves_nothing_unjudged(tmp_path: Path) -> None:
    # the same script under torchrun on 8 GPUs: 32 // 8 = 4, read, so the rule is judged on the run's own value
    report = _audit(tmp_path, 'int(os.environ["WORLD_SIZE"])', "torchrun --nproc-per-node=8 train.py\n")
    assert "could not evaluate" not in (report.inconclusive or "")
    w = load_config(tmp_path / "repo" / "train.py").workload
    assert w.micro_batch_size == 4 and not unjudged(w, get_hardware("mi300x"), load_rules())


@pytest.mark.parametrize("ignored", [True, False])
def test_an_ignored_rule_is_not_unjudged(tmp_path: Path, ignored: bool) -> None:
    root = repo(tmp_path, {"train.py": SCRIPT.format(world='int(os.environ["WORLD_SIZE"])'), "run.sh": "torchrun --nproc-per-node=$NGPU train.py\n"})
    w = load_config(root / "train.py").workload
    assert w.sources["micro_batch_size"].unread
    if ignored:
        w = w.model_copy(update={"ignored_rules": [*w.ignored_rules, "batch.small_global_batch"]})
    got = unjudged(w, get_hardware("mi300x"), load_rules())
    assert ("batch.small_global_batch" in got) is not ignored
