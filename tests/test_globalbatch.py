"""batch.small_global_batch: a run whose global batch is tiny (gradient accumulation 1, a micro-batch of one or two short
samples) leaves the GPU mostly idle, and with no accumulation to trade the only larger micro-batch is a larger global
batch. goblin reports it as guidance (it changes the optimisation, so it is never patched), priced by its own projection
at a larger micro-batch that fits, and a PASS beside it is a WARN naming it (review10b #33: CSCfi llm-fine-tuning-examples
finetuning.py, gpt-neo-1.3B at 1 x 256 tokens on one GPU, said PASS 1.00x)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.globalbatch import MAX_TOKENS, larger_batch
from pytest_goblin.hardware import get_hardware
from pytest_goblin.reporting.markdown import KBEntry, render
from pytest_goblin.rules import cached_rules

from .repo_files import repo

RULE = "batch.small_global_batch"
# review10b #33's run as an HF TrainingArguments YAML: one 256-token sample per optimizer step on one GPU
SFT = (
    "model_name_or_path: EleutherAI/gpt-neo-1.3B\nper_device_train_batch_size: 1\nmax_length: 256\nbf16: true\n"
    "learning_rate: 2.0e-5\nnum_train_epochs: 1\nactivation_checkpointing: false\n"
)
LAUNCH = "torchrun --nproc_per_node 1 train.py --config sft.yaml\n"


def _audit(tmp_path: Path, text: str, **settings: object):  # type: ignore[no-untyped-def]
    from pytest_goblin.service import audit_file
    from pytest_goblin.settings import Settings

    root = repo(tmp_path, {"sft.yaml": text, "train.sh": LAUNCH})
    report = audit_file(root / "sft.yaml", Settings(runner="projection", target="mi300x", **settings), shown_as="sft.yaml").report  # type: ignore[arg-type]
    assert report is not None
    return report


def test_a_tiny_global_batch_is_guidance_that_makes_a_pass_a_warn(tmp_path: Path) -> None:
    report = _audit(tmp_path, SFT)
    assert report.verdict == "warn", report.reason
    assert f"but {RULE}, which goblin reports as guidance and does not patch, projects" in report.reason
    found = next(f for f in report.findings if f.rule_id == RULE)
    assert found.footgun and found.line == 2 and found.key == "per_device_train_batch_size"
    assert RULE not in (report.patch.rule_ids if report.patch else [])  # never patched
    text = found.message
    # the config's own values: micro-batch, accumulation, tokens, world size, the global batch before and after
    assert text.startswith("micro-batch 1 (`per_device_train_batch_size`, line 2); gradient accumulation 1 (not set;")
    assert "the global batch is 1 sample per optimizer step (micro-batch 1 x gradient accumulation 1, on 1 GPU (train.sh line 1))" in text
    assert "1 x 256 tokens per micro-batch" in text and "At micro-batch 32 (8,192 tokens per micro-batch" in text
    assert "changes the global batch from 1 to 32 samples (256 to 8,192 tokens per optimizer step)" in text
    assert "the learning rate must be retuned" in text and "32x fewer optimizer steps" in text
    assert "projected" in text and "tokens/s/GPU" in text and "None" not in text


def test_the_projection_behind_it(tmp_path: Path) -> None:
    """The micro-batch is doubled while it fits and gains, up to MAX_TOKENS tokens; the gain is in tokens of data per
    second per GPU, with an interval whose low end decides the rule."""
    w = load_config(repo(tmp_path, {"sft.yaml": SFT, "train.sh": LAUNCH}) / "sft.yaml").workload
    found = larger_batch(w, get_hardware("mi300x"))
    assert found is not None
    assert found.micro_batch_size * 256 == MAX_TOKENS
    assert found.low <= found.speedup <= found.high and found.low >= 1.03
    assert found.base_mfu < 0.05 < found.mfu  # a few per cent of the bf16 peak as it is


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ("gradient_accumulation_steps: 2\n", "accumulation to trade: batch.raise_micro_batch's case"),
        ("auto_find_batch_size: true\n", "the Trainer lowers the micro-batch at run time"),
    ],
)
def test_silent_where_its_premise_does_not_hold(tmp_path: Path, change: str, why: str) -> None:
    report = _audit(tmp_path, SFT + change)
    assert RULE not in {f.rule_id for f in report.findings}, why
    assert RULE not in report.reason


def test_silent_on_a_micro_batch_the_config_does_not_state(tmp_path: Path) -> None:
    """TrainingArguments' default micro-batch (8) is not the config's: nothing to speak of."""
    report = _audit(tmp_path, SFT.replace("per_device_train_batch_size: 1\n", ""))
    assert RULE not in {f.rule_id for f in report.findings}


def test_silent_where_no_larger_micro_batch_fits(tmp_path: Path) -> None:
    """An 8B full fine-tune without checkpointing at 1 x 4096 tokens projects about 172 GB per GPU; at 2 x 4096 it
    passes 85% of the MI300X's HBM (175 GB), the fit limit batch.raise_micro_batch uses."""
    text = SFT.replace("EleutherAI/gpt-neo-1.3B", "meta-llama/Meta-Llama-3-8B").replace("max_length: 256", "max_length: 4096")
    w = load_config(repo(tmp_path, {"sft.yaml": text, "train.sh": LAUNCH}) / "sft.yaml").workload
    assert larger_batch(w, get_hardware("mi300x")) is None


def test_a_warn_at_above_the_gain_keeps_the_pass(tmp_path: Path) -> None:
    """The verdict reads the session's goblin_warn_at: below it the finding is shown and the PASS stands."""
    report = _audit(tmp_path, SFT, warn_at=6.0, fail_at=6.0)
    assert RULE in {f.rule_id for f in report.findings}
    assert RULE not in report.reason


def test_auto_find_batch_size_is_read_where_set(tmp_path: Path) -> None:
    """transformers 5.25.0 training_args.py:989-994 (default False), trainer.py:1585-1586: read from the file and from a
    script's TrainingArguments call; unset, no field is recorded."""
    root = repo(
        tmp_path,
        {
            "a.yaml": SFT + "auto_find_batch_size: true\n",
            "b.yaml": SFT,
            "train.py": (
                "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
                'model = AutoModelForCausalLM.from_pretrained("EleutherAI/gpt-neo-1.3B")\n'
                'args = TrainingArguments(output_dir="out", per_device_train_batch_size=1, auto_find_batch_size=True)\n'
                "Trainer(model=model, args=args).train()\n"
            ),
        },
    )
    a = load_config(root / "a.yaml").workload
    assert a.auto_find_batch_size and a.sources["auto_find_batch_size"].line == 8
    b = load_config(root / "b.yaml").workload
    assert not b.auto_find_batch_size and "auto_find_batch_size" not in b.sources
    assert load_config(root / "train.py").workload.auto_find_batch_size


def test_markdown_shows_the_kb_words_and_no_placeholder(tmp_path: Path) -> None:
    """A guidance's `{name}` placeholders are the config's own text: the KB words around them are rendered as the
    installed KB's (distributed.hierarchical_sharding_across_nodes' `{hierarchical}` alike)."""
    from pytest_goblin.outcome import ItemOutcome, SessionReport

    by_id = {r.id: r for r in cached_rules()}
    for rid in (RULE, "distributed.hierarchical_sharding_across_nodes", "distributed.lower_stage_when_state_fits"):
        assert not any("{" in part for part in KBEntry.of_rule(by_id[rid]).words), rid
    report = _audit(tmp_path, SFT)
    item = ItemOutcome(nodeid="sft.yaml", path="sft.yaml", verdict=report.verdict, message=report.reason, report=report)
    session = SessionReport(version="0", target="mi300x", items=[item])
    text = render(session)
    assert "{small_batch}" not in text and "goblin reports this as guidance and does not patch it" in text
