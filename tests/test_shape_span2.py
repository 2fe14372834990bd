"""A size read from the name decides the verdict where every rule holds alike over the span of shapes it allows
(namesize22, issue 23: blind review 10 rows 26, 33, 34, 36 came out INCONCLUSIVE "not in the shape table; N B from its
name with a generic Llama-like shape"). The span's ends: parameters x the table's smallest and largest ratio of
parameters to a name's size, hidden size halved / as estimated / doubled, the table's smallest and largest vocabulary."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import hardware
from pytest_goblin.formats import load_config
from pytest_goblin.modelzoo import NAME_SIZE_FLOOR, NAME_SIZE_FLOOR_ROW, SMALLEST_VOCAB, lookup_model
from pytest_goblin.rules import facts, undecided_over_span
from pytest_goblin.schemas import Report, Rule, WorkloadConfig
from pytest_goblin.shapespan import corner_shapes, full_span_phrase, low_shapes

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)

# nothing to recover on a known Llama-3-8B: LoRA at micro-batch 16 (the whole batch), packed, flash, fused AdamW
_CLEAN = (
    "stage: sft\ndo_train: true\nfinetuning_type: lora\nper_device_train_batch_size: 16\ngradient_accumulation_steps: 1\n"
    "cutoff_len: 512\nbf16: true\nflash_attn: fa2\nneat_packing: true\npacking: true\ndisable_gradient_checkpointing: true\n"
    "optim: adamw_torch_fused\n"
)
# a full fine-tune at micro-batch 1 x 8 and 4096 tokens: raising the micro-batch fits the generic 8B, not the span's largest
_TIGHT = (
    "stage: sft\ndo_train: true\nfinetuning_type: full\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 8\n"
    "cutoff_len: 4096\nbf16: true\nflash_attn: fa2\nneat_packing: true\npacking: true\noptim: adamw_torch_fused\n"
)


def _audit(tmp_path: Path, name: str, model: str, body: str) -> Report:
    from pytest_goblin.options import build_settings
    from pytest_goblin.service import audit_file

    path = tmp_path / name
    path.write_text(f"model_name_or_path: {model}\n" + body)
    report = audit_file(path, build_settings({"target": "mi300x"}), shown_as=path.name).report
    assert report is not None
    return report


def test_the_low_end_of_the_span_is_derived_from_the_table() -> None:
    assert (NAME_SIZE_FLOOR, NAME_SIZE_FLOOR_ROW, SMALLEST_VOCAB) == (pytest.approx(0.95, abs=0.001), "mpt-7b", 32000)
    m = lookup_model("acme/Widget-34B")
    low = low_shapes(m)
    assert [s.params_b for s in low] == [pytest.approx(34 * NAME_SIZE_FLOOR)] * 3 and {s.vocab for s in low} == {32000}
    phrase = full_span_phrase(m)
    assert phrase.startswith("34B from its name: 32.3-44.4B parameters (x0.95-x1.305") and "None" not in phrase
    assert len(corner_shapes(m)) == 6


def test_a_name_sized_model_with_nothing_left_undecided_gets_its_known_siblings_verdict(tmp_path: Path) -> None:
    """Fires: a clean LoRA on a name-sized 8B PASSes as the same config on Meta-Llama-3-8B does, and a note says the shape
    is a span from the name; before, a guessed shape was inconclusive whatever the patch."""
    known = _audit(tmp_path, "known.yaml", "meta-llama/Meta-Llama-3-8B", _CLEAN)
    guessed = _audit(tmp_path, "guessed.yaml", "acme/Widget-8B-SFT", _CLEAN)
    assert known.verdict == "pass" and known.inconclusive is None
    assert guessed.verdict == "pass" and guessed.inconclusive is None
    note = next(n for n in guessed.notes if "its shape is a span from its name" in n)
    assert "acme/Widget-8B-SFT: not in the shape table" in note and "8B from its name: 7.6-10.4B parameters" in note and "None" not in note


def test_a_name_without_a_size_stays_undecided(tmp_path: Path) -> None:
    """Must not fire: no size in the name, 7B assumed: no span, inconclusive as before."""
    report = _audit(tmp_path, "unsized.yaml", "acme/Widget-SFT", _CLEAN)
    assert report.verdict == "warn" and report.inconclusive is not None
    assert "acme/Widget-SFT: size unknown, 7B assumed" in report.inconclusive and "None" not in report.inconclusive
    assert not any("span from its name" in n for n in report.notes)


def test_an_edit_that_does_not_fit_at_the_largest_shape_stays_undecided(tmp_path: Path) -> None:
    """Must not fire: raising the micro-batch fits the generic 8B but not the span's largest shape: left out, not decided."""
    report = _audit(tmp_path, "tight.yaml", "acme/Widget-8B-SFT", _TIGHT)
    assert report.verdict == "warn" and report.inconclusive is not None
    assert "goblin left out batch.raise_micro_batch" in report.inconclusive and "not fitting at the largest shape its name allows" in report.inconclusive
    assert not any("span from its name" in n for n in report.notes)


def _headroom_rule(at_least: float) -> Rule:
    return Rule.model_validate(
        {
            "id": "test.headroom",
            "category": "test",
            "title": "spend the headroom",
            "symptom": "memory left free",
            "applies_when": [{"fact": "derived.headroom_gb", "op": "ge", "value": at_least}],
            "transform": {"set": {"gradient_checkpointing": False}},
            "impact": {"low": 1.0, "high": 1.3},
            "risk": "memory",
            "citation": "https://example.org",
        }
    )


def _workload(tmp_path: Path) -> WorkloadConfig:
    path = tmp_path / "c.yml"
    path.write_text("base_model: acme/Widget-34B\nsequence_len: 2048\nmicro_batch_size: 1\ngradient_accumulation_steps: 16\nbf16: true\n")
    return load_config(path).workload


def test_a_rule_that_holds_only_at_another_shape_of_the_span_is_undecided(tmp_path: Path) -> None:
    """Must not fire: a memory rule whose premise holds at the smallest shape the name allows but not at the generic shape
    priced is named as undecided; one that holds at every corner, or at none, is decided alike."""
    hw = hardware.get_hardware("mi300x")
    w = _workload(tmp_path)
    priced = facts(w, hw)["derived.headroom_gb"]
    smallest = max(facts(w.model_copy(update={"model": c}), hw)["derived.headroom_gb"] for c in corner_shapes(w.model))
    assert smallest > priced
    between = (priced + smallest) / 2
    assert undecided_over_span(w, hw, [_headroom_rule(between)]) == ["test.headroom"]
    assert undecided_over_span(w, hw, [_headroom_rule(smallest + 1)]) == []  # holds nowhere
    lowest = min(facts(w.model_copy(update={"model": c}), hw)["derived.headroom_gb"] for c in corner_shapes(w.model))
    assert undecided_over_span(w, hw, [_headroom_rule(min(lowest, priced) - 1)]) == []  # holds everywhere
    ignored = w.model_copy(update={"ignored_rules": ["test.headroom"]})
    assert undecided_over_span(ignored, hw, [_headroom_rule(between)]) == []


@pytest.mark.parametrize(
    "model",
    ["decapoda-research/llama-7b-hf", "EleutherAI/gpt-neo-1.3B", "amd/Instella-3B-SFT", "LumiOpen/Poro-34B"],
)
def test_review10_models_are_no_longer_judged_on_a_guess(tmp_path: Path, model: str) -> None:
    """Fires: the models of review10b rows 26, 33, 34, 36 have their cited shapes: no reason or note rests on a guess."""
    report = _audit(tmp_path, "r.yaml", model, _CLEAN)
    assert "not in the shape table" not in (report.inconclusive or "")
    assert not any("not in the shape table" in n for n in report.notes)


def test_a_config_over_the_gpu_at_the_largest_shape_stays_undecided(tmp_path: Path) -> None:
    """Must not fire: a name-sized 20B full fine-tune at micro-batch 1 x 1 projects 175 GB on the generic shape, under MI300X's
    206 GB, but 233 GB at the span's largest shape: whether it fits at all rests on the guess, so it stays inconclusive."""
    path = tmp_path / "w.yml"
    path.write_text(
        "base_model: acme/Widget-20B\nsequence_len: 2048\nmicro_batch_size: 1\ngradient_accumulation_steps: 1\nbf16: true\n"
        "gradient_checkpointing: true\nflash_attention: true\nsample_packing: true\noptimizer: adamw_torch_fused\n"
    )
    from pytest_goblin.options import build_settings
    from pytest_goblin.service import audit_file

    report = audit_file(path, build_settings({"target": "mi300x"}), shown_as=path.name).report
    assert report is not None and report.verdict == "warn" and report.inconclusive is not None
    assert "at the largest shape its name allows the config as it is projects 233 GB per GPU of 206 GB" in report.inconclusive
    assert not any("span from its name" in n for n in report.notes)
