"""A model whose size goblin reads from its name but whose shape it guesses: a memory-raising edit is offered when
it fits at the worst shape of the span (parameters x the table's largest name ratio, hidden size halved and doubled,
the table's largest vocabulary), and skipped as before otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import hardware
from pytest_goblin.costmodel import memory_gb, sensitivity, shape_variants, step
from pytest_goblin.formats import load_config
from pytest_goblin.modelzoo import LARGEST_VOCAB, LARGEST_VOCAB_ROW, NAME_SIZE_FACTOR, NAME_SIZE_FACTOR_ROW, lookup_model
from pytest_goblin.patching import MEMORY_MARGIN, NOT_ON_A_GUESS, plan_edits
from pytest_goblin.schemas import Report, Rule, WorkloadConfig
from pytest_goblin.shapespan import span_memory_gb, span_shapes, spanned

CHECKPOINTING = "memory.disable_checkpointing_when_hbm_free"


def _checkpointing_off() -> Rule:
    return Rule.model_validate(
        {
            "id": "test.checkpointing_off",
            "category": "test",
            "title": "checkpointing off",
            "symptom": "checkpointing on",
            "applies_when": [],
            "transform": {"set": {"gradient_checkpointing": False}},
            "impact": {"low": 1.0, "high": 1.3},
            "risk": "memory",
            "citation": "https://example.org",
        }
    )


def _axolotl(tmp_path: Path, model: str, body: str = "", **update: object) -> WorkloadConfig:
    path = tmp_path / "c.yml"
    path.write_text(
        f"base_model: {model}\n{body}sequence_len: 2048\nmicro_batch_size: 1\ngradient_accumulation_steps: 16\ngradient_checkpointing: true\nbf16: true\n"
    )
    return load_config(path).workload.model_copy(update=update)


def _audit(tmp_path: Path, model: str, body: str) -> Report:
    from pytest_goblin.options import build_settings
    from pytest_goblin.service import audit_file

    path = tmp_path / "train.yaml"
    path.write_text(f"model_name_or_path: {model}\n" + body)
    report = audit_file(path, build_settings({"target": "mi300x"}), shown_as=path.name).report
    assert report is not None
    return report


def test_the_span_is_derived_from_the_shape_table() -> None:
    """The upper factor is gemma-2-2b's 2.61B for the "2b" of its name, the largest ratio of any dense row today (gemma-7b is
    8.54/7 = 1.22); the vocabulary is Gemma 3's 262208. A row that raises either moves the span with it."""
    assert (NAME_SIZE_FACTOR, NAME_SIZE_FACTOR_ROW) == (pytest.approx(2.61 / 2), "gemma-2-2b")
    assert (LARGEST_VOCAB, LARGEST_VOCAB_ROW) == (262208, "gemma-3-27b")
    shapes = span_shapes(lookup_model("acme/Widget-7B"))
    assert [s.params_b for s in shapes] == [pytest.approx(7 * 1.305)] * 3 and {s.vocab for s in shapes} == {262208}
    hidden = sorted(s.hidden or 0 for s in shapes)
    assert hidden[0] * 4 == hidden[-1] and len(hidden) == 3  # as estimated, halved and doubled


@pytest.mark.parametrize("name", ["acme/Widget", "acme/Widget-8x7B", "acme/Qwen3.5-9B-Base"])
def test_no_span_where_the_size_is_assumed_or_the_shape_not_dense(name: str) -> None:
    shape = lookup_model(name)
    assert not shape.known and not spanned(shape) and span_shapes(shape) == []


def test_a_160m_model_at_micro_batch_1_gets_its_micro_batch_raised_and_a_decided_verdict(tmp_path: Path) -> None:
    """review (18 configs): a 160M pre-training/SFT run at micro-batch 1 was inconclusive on its guessed shape, though
    no shape of that size could fail to hold micro-batch 8 on an MI300X."""
    body = (
        "stage: sft\ndo_train: true\nfinetuning_type: full\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 16\n"
        "cutoff_len: 1024\nbf16: true\nflash_attn: sdpa\n"
    )
    report = _audit(tmp_path, "acme/Widget-160M", body)
    raised = [e for e in report.patch.edits if e.field == "micro_batch_size"]
    assert raised and raised[0].new > 1
    assert not any(NOT_ON_A_GUESS in why for why in report.patch.skipped.values())
    assert report.inconclusive is None and report.verdict == "fail"
    note = next(n for n in report.notes if "largest shape of the span" in n)
    assert "0.16B from its name up to 0.209B parameters (x1.305" in note and "vocabulary 262208" in note and "None" not in note


def test_a_7b_lora_on_mi300x_gets_checkpointing_off(tmp_path: Path) -> None:
    body = (
        "stage: sft\ndo_train: true\nfinetuning_type: lora\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 4\n"
        "cutoff_len: 2048\nbf16: true\nflash_attn: sdpa\n"
    )
    report = _audit(tmp_path, "acme/Widget-7B", body)
    assert CHECKPOINTING in {e.rule_id for e in report.patch.edits}
    assert CHECKPOINTING not in report.patch.skipped
    assert any("7B from its name up to 9.13B parameters" in n for n in report.notes)


def test_a_70b_full_fine_tune_near_the_limit_keeps_the_skip(tmp_path: Path) -> None:
    """Checkpointing off fits at the generic 70B shape (145 GB of MI300X's 206 under FSDP on 8) but not at the worst shape
    of the span (a narrower, deeper model of 91B with Gemma 3's vocabulary): it is left out as before."""
    hw = hardware.get_hardware("mi300x")
    w = _axolotl(tmp_path, "acme/Widget-70B", world_size=8, strategy="fsdp", gpus_per_node=8)
    trial = w.model_copy(update={"gradient_checkpointing": False})
    assert memory_gb(trial) <= hardware.capacity_gb(hw) * MEMORY_MARGIN < (span_memory_gb(trial) or 0.0)
    chosen, _, _, skipped = plan_edits(w, [_checkpointing_off()], hw)
    assert "gradient_checkpointing" not in chosen
    assert NOT_ON_A_GUESS in skipped["test.checkpointing_off"] and "largest shape of the span (70B from its name" in skipped["test.checkpointing_off"]


@pytest.mark.parametrize("name", ["acme/Widget", "acme/Widget-8x7B"])
def test_a_size_assumed_or_experts_from_the_name_keep_the_skip(tmp_path: Path, name: str) -> None:
    """ "size unknown, 7B assumed" and a name-sized MoE: no span is walked, the edit is left out as before."""
    hw = hardware.get_hardware("mi300x")
    w = _axolotl(tmp_path, name, "adapter: lora\n")
    chosen, _, _, skipped = plan_edits(w, [_checkpointing_off()], hw)
    assert "gradient_checkpointing" not in chosen
    assert NOT_ON_A_GUESS in skipped["test.checkpointing_off"] and "span" not in skipped["test.checkpointing_off"]


def test_a_name_sized_7b_lora_gets_the_edit_in_plan_edits(tmp_path: Path) -> None:
    """The same rule on the same file with a dense 7B from its name: offered (it fits at the span's worst shape)."""
    hw = hardware.get_hardware("mi300x")
    chosen, _, _, skipped = plan_edits(_axolotl(tmp_path, "acme/Widget-7B", "adapter: lora\n"), [_checkpointing_off()], hw)
    assert chosen["gradient_checkpointing"] == (False, "test.checkpointing_off") and not skipped


def test_the_speedup_interval_spans_the_guessed_shapes(tmp_path: Path) -> None:
    """The verdict's projected speedup holds the speedup at the hidden size halved and doubled too."""
    hw = hardware.get_hardware("mi300x")
    w = _axolotl(tmp_path, "acme/Widget-7B", "adapter: lora\n")
    after = w.model_copy(update={"gradient_checkpointing": False})
    _, low, high = sensitivity(w, after, hw)
    for v in shape_variants(w.model):
        b, a = w.model_copy(update={"model": v}), after.model_copy(update={"model": v})
        ratio = step(b, hw).step_s / step(a, hw).step_s
        assert low <= ratio + 1e-9 and ratio <= high + 1e-9


def test_an_edit_that_does_not_fit_over_the_span_is_named_in_the_inconclusive_reason(tmp_path: Path) -> None:
    """A 34B LoRA at 1024 tokens, micro-batch 2 the whole batch: checkpointing off fits at the generic shape (114 GB) but not
    at the span's worst (194 GB of MI300X's 206, over 85%): left out, and the reason names it and why."""
    body = (
        "stage: sft\ndo_train: true\nfinetuning_type: lora\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 1\n"
        "cutoff_len: 1024\nbf16: true\nflash_attn: sdpa\n"
    )
    report = _audit(tmp_path, "acme/Widget-34B", body)
    assert CHECKPOINTING in report.patch.skipped and "largest shape of the span (34B from its name" in report.patch.skipped[CHECKPOINTING]
    assert report.verdict == "warn" and report.inconclusive is not None
    assert f"goblin left out {CHECKPOINTING}, whose gain depends on what fits in memory (not fitting at the largest shape" in report.inconclusive
    assert not any("largest shape of the span" in n for n in report.notes)


def test_the_reason_names_only_rules_really_left_out(tmp_path: Path) -> None:
    """A rule skipped on the guess whose edit another rule of the patch makes anyway is not named as left out."""
    from types import SimpleNamespace

    from pytest_goblin.schemas import Patch
    from pytest_goblin.tools.audit_tools import _left_out_on_a_guess

    w = _axolotl(tmp_path, "acme/Widget", "adapter: lora\n")
    made = w.model_copy(update={"gradient_checkpointing": False})
    skip = f"model acme/Widget: size unknown, 7B assumed; {NOT_ON_A_GUESS}"
    other = _checkpointing_off().model_copy(update={"id": "test.other"})
    ctx = SimpleNamespace(rules=[_checkpointing_off(), other])
    both = {"test.checkpointing_off": skip, "test.other": skip}
    assert _left_out_on_a_guess(ctx, Patch(patch_id="p", rule_ids=[], edits=[], skipped=both, new_workload=made, diff="")) == []  # type: ignore[arg-type]
    assert _left_out_on_a_guess(ctx, Patch(patch_id="p", rule_ids=[], edits=[], skipped=both, new_workload=w, diff="")) == [  # type: ignore[arg-type]
        "test.checkpointing_off",
        "test.other",
    ]
