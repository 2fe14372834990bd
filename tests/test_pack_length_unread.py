"""A script that packs its own samples to a length goblin did not read decides nothing on the assumed seq_len (review12a
#17, THUDM/LongAlign main.py: `--batch_method pack` over rows sort_and_group.py packed to 65536 tokens, priced at 1 x 1024
tokens: checkpointing off "17 GB" and checkpoint writes "32 %" of the job, both wrong at 64k-token packs).

The seq_len's source says so (costmodel.PACK_LENGTH_UNREAD); the memory-bound edits are not made on it
(patching.packed_unread) nor shown as findings, and the checkpoint share, a share of a step of unknown length, is not
computed (rules.facts)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.costmodel import PACK_LENGTH_UNREAD, pack_length_unread
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import facts
from pytest_goblin.schemas import Report, WorkloadConfig
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import fresh_root, write_tree
from .test_own_packing import MAIN

LAUNCH = (
    "torchrun --nproc_per_node 8 main.py --model_name_or_path meta-llama/Meta-Llama-3-8B --output_dir o --bf16 True "
    "--gradient_checkpointing True --per_device_train_batch_size 1 --save_steps 20 --deepspeed ds.json {extra}\n"
)
DS = '{"zero_optimization": {"stage": 3}, "bf16": {"enabled": true}, "train_micro_batch_size_per_gpu": "auto"}'


def _audit(tmp_path: Path, extra: str) -> tuple[Report, WorkloadConfig]:
    root = write_tree(fresh_root(tmp_path), {"main.py": MAIN, "train.sh": LAUNCH.format(extra=extra), "ds.json": DS}, git=True)
    result = audit_file(root / "main.py", Settings(runner="projection", target="mi300x"), shown_as="main.py")
    assert result.report is not None, result.error
    return result.report, load_config(root / "main.py").workload


def test_own_packs_of_unread_length_decide_no_memory_edit_and_no_checkpoint_share(tmp_path: Path) -> None:
    r, w = _audit(tmp_path, '--batch_method "pack"')
    assert facts(w, get_hardware("mi300x"))["derived.checkpoint_share"] is None
    said = f"{r.reason} {r.inconclusive or ''} " + " ".join(f.message for f in r.findings)
    ids = {f.rule_id for f in r.findings}
    assert "memory.disable_checkpointing_when_hbm_free" not in ids and "job.frequent_full_checkpoints" not in ids
    assert not any(e.field == "gradient_checkpointing" for e in r.patch.edits)
    assert "memory.disable_checkpointing_when_hbm_free" in r.patch.skipped
    assert PACK_LENGTH_UNREAD in r.patch.skipped["memory.disable_checkpointing_when_hbm_free"]
    assert "every sample was priced at an assumed 1024 tokens, but the script packs its samples itself" in said
    assert "None" not in said


def test_the_scripts_unpacked_batches_keep_the_memory_and_checkpoint_findings(tmp_path: Path) -> None:
    """Must not fire: `--batch_method naive` packs nothing; the assumed length is the usual one."""
    r, w = _audit(tmp_path, "--batch_method naive")
    assert pack_length_unread(w) is None and facts(w, get_hardware("mi300x"))["derived.checkpoint_share"] is not None
    assert {"memory.disable_checkpointing_when_hbm_free", "job.frequent_full_checkpoints"} <= {f.rule_id for f in r.findings}
    assert not any(PACK_LENGTH_UNREAD in s for s in r.patch.skipped.values())
    assert PACK_LENGTH_UNREAD not in f"{r.reason} {r.inconclusive or ''}"


def test_a_stated_length_is_read_over_the_packing(tmp_path: Path) -> None:
    """Must not fire: a script that packs and states its length (max_length on the launch line) is priced at it."""
    text = MAIN.replace('batch_method: str = field(default="naive")', 'batch_method: str = field(default="naive")\n    max_length: int = field(default=8192)')
    root = write_tree(fresh_root(tmp_path), {"main.py": text, "train.sh": LAUNCH.format(extra='--batch_method "pack"'), "ds.json": DS}, git=True)
    w = load_config(root / "main.py").workload
    assert w.seq_len == 8192 and pack_length_unread(w) is None
    assert facts(w, get_hardware("mi300x"))["derived.checkpoint_share"] is not None
