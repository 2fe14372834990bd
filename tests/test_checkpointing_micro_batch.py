"""memory.checkpointing_off_at_smaller_micro_batch (issue 24 point 4): activation checkpointing off at a
smaller micro-batch, with gradient accumulation raised so that micro-batch x accumulation stays the same,
where checkpointing off does not fit at the current micro-batch but does at a smaller one and the
projection says it is faster. Each format writes its own keys; the message says the config's values."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pytest_goblin import rules as kb
from pytest_goblin.costmodel import memory_gb, step
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import capacity_gb, get_hardware
from pytest_goblin.options import build_settings
from pytest_goblin.patching import SPARE_GB, build_patch, patched_text, plan_edits, spare_limit_gb
from pytest_goblin.service import audit_file

from .conftest import ROOT
from .repo_files import write_file

RULE = "memory.checkpointing_off_at_smaller_micro_batch"
HW = get_hardware("mi300x")
CORPUS = ROOT / "tests" / "data" / "reference_corpus"

TRL = """\
# SFTTrainer recipe (trl sft)
model_name_or_path: mistralai/Mistral-7B-v0.1
torch_dtype: bfloat16
bf16: true
max_seq_length: 2048
per_device_train_batch_size: 8
gradient_accumulation_steps: 4
gradient_checkpointing: true
learning_rate: 2.0e-05
"""
AXOLOTL = """\
base_model: mistralai/Mistral-7B-v0.1
adapter: lora
lora_r: 32
lora_target_linear: true
datasets:
  - path: mhenrichsen/alpaca_2k_test
    type: alpaca
sequence_len: 8192
sample_packing: true
micro_batch_size: 4
gradient_accumulation_steps: 4
num_epochs: 1
bf16: auto
gradient_checkpointing: true
flash_attention: true
"""
LLAMAFACTORY = """\
model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct
stage: sft
do_train: true
finetuning_type: lora
dataset: identity
template: llama3
cutoff_len: 4096
per_device_train_batch_size: 8
gradient_accumulation_steps: 2
learning_rate: 1.0e-5
bf16: true
packing: true
"""
LLAMAFACTORY_V1 = """\
model: Qwen/Qwen2.5-7B-Instruct
train_dataset: data/v1_sft_demo.yaml
micro_batch_size: 8
global_batch_size: 16
cutoff_len: 2048
bf16: true
"""
# packed, so every sample is seq_len long: the smaller micro-batch is sized on a known length, not an assumed one
TORCHTUNE = (CORPUS / "torchtune" / "recipes" / "configs" / "gemma" / "7B_lora_single_device.yaml").read_text().replace("packed: False", "packed: True")

# name, text, {field: (old, new)}, the key phrases the message and the written file must carry
FIRES: list[tuple[str, str, dict[str, tuple[Any, Any]], list[str], list[str]]] = [
    (
        "sft.yaml",
        TRL + "packing: true\n",
        {"micro_batch_size": (8, 4), "gradient_accumulation": (4, 8), "gradient_checkpointing": (True, False)},
        ["`per_device_train_batch_size` 8 -> 4", "`gradient_accumulation_steps` 4 -> 8", "`gradient_checkpointing: false`"],
        ["per_device_train_batch_size: 4", "gradient_accumulation_steps: 8", "gradient_checkpointing: false"],
    ),
    (
        "lora.yml",
        AXOLOTL,
        {"micro_batch_size": (4, 2), "gradient_accumulation": (4, 8), "gradient_checkpointing": (True, False)},
        ["`micro_batch_size` 4 -> 2", "`gradient_accumulation_steps` 4 -> 8", "`gradient_checkpointing: false`"],
        ["micro_batch_size: 2", "gradient_accumulation_steps: 8", "gradient_checkpointing: false"],
    ),
    (
        "llama3_full_sft.yaml",
        LLAMAFACTORY,
        {"micro_batch_size": (8, 4), "gradient_accumulation": (2, 4), "gradient_checkpointing": (True, False)},
        ["`per_device_train_batch_size` 8 -> 4", "`gradient_accumulation_steps` 2 -> 4", "`disable_gradient_checkpointing: true`"],
        ["per_device_train_batch_size: 4", "gradient_accumulation_steps: 4", "disable_gradient_checkpointing: true"],
    ),
    (
        "7B_lora_single_device.yaml",
        TORCHTUNE,
        {"micro_batch_size": (8, 4), "gradient_accumulation": (8, 16), "gradient_checkpointing": (True, False)},
        ["`batch_size` 8 -> 4", "`gradient_accumulation_steps` 8 -> 16", "`enable_activation_checkpointing: false`"],
        ["batch_size: 4", "gradient_accumulation_steps: 16", "enable_activation_checkpointing: False"],
    ),
]


def _audit(path: Path) -> Any:
    result = audit_file(path, build_settings({"target": "mi300x"}), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


@pytest.mark.parametrize(("name", "text", "edits", "said", "written"), FIRES, ids=[f[0] for f in FIRES])
def test_fires_with_the_formats_own_keys_and_values(
    tmp_path: Path, name: str, text: str, edits: dict[str, tuple[Any, Any]], said: list[str], written: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    loaded = load_config(path)
    w = loaded.workload
    # the premise: checkpointing off does not leave the spare HBM at this micro-batch, does at the proposed one
    assert memory_gb(w.model_copy(update={"gradient_checkpointing": False})) > capacity_gb(HW) - SPARE_GB
    report = _audit(path)
    finding = next(f for f in report.findings if f.rule_id == RULE)
    assert report.patch is not None
    own = {e.field: (e.old, e.new) for e in report.patch.edits if e.rule_id == RULE}
    assert own == edits
    after = w.model_copy(update={f: new for f, (_old, new) in edits.items()})
    assert after.micro_batch_size * after.gradient_accumulation == w.micro_batch_size * w.gradient_accumulation  # same batch, exactly
    assert memory_gb(after) <= spare_limit_gb(HW)
    for phrase in said:
        assert phrase in finding.message, finding.message
    m = re.search(r"fits in 206 GB \(MI300X's 192 GiB label\) at (\d+) GB, projected (\d+\.\d\d)x faster", finding.message)
    assert m and int(m.group(1)) <= capacity_gb(HW) - SPARE_GB and float(m.group(2)) > 1.0, finding.message
    assert "None" not in finding.message and "(not patched" not in finding.message
    new_text = patched_text(loaded, report.patch)
    for line in written:
        assert line in new_text, new_text
    reread = load_config(_write(tmp_path / "patched" / name, new_text)).workload
    assert (reread.micro_batch_size, reread.gradient_accumulation, reread.gradient_checkpointing) == (
        after.micro_batch_size,
        after.gradient_accumulation,
        False,
    )


def _write(path: Path, text: str) -> Path:
    return write_file(path.parent, path.name, text)


def test_silent_where_checkpointing_off_fits_at_the_current_micro_batch(tmp_path: Path) -> None:
    """At micro-batch 2 checkpointing off fits as it is: the plain rule turns it off, micro-batch kept."""
    path = _write(tmp_path / "sft.yaml", TRL.replace("per_device_train_batch_size: 8", "per_device_train_batch_size: 2"))
    w = load_config(path).workload
    ids = {r.id for r in kb.applicable(w, HW, kb.cached_rules(), host={})}
    assert "memory.disable_checkpointing_when_hbm_free" in ids and RULE not in ids


def test_silent_where_keeping_checkpointing_at_a_larger_micro_batch_is_faster() -> None:
    """LLaMA-Factory ASFT, full 7B under ZeRO-3: checkpointing off fits only at micro-batch 1 (1.01x),
    while micro-batch 8 with checkpointing (batch.raise_micro_batch) projects more; the smaller
    micro-batch must not take the memory that edit needs. Judged at the MI300X's 192 GB label: at its
    reported 206 GB, micro-batch 2 without checkpointing fits (165.0 of the 166.1 GB spare limit) at 1.20x,
    above micro-batch 8 with checkpointing, and is rightly proposed."""
    path = ROOT / "tests" / "data" / "review" / "llamafactory" / "examples" / "extras" / "asft" / "qwen2_full_asft.yaml"
    w = load_config(path).workload
    hw = HW.model_copy(update={"reported_bytes": None})
    assert kb.facts(w, hw, host={})["derived.checkpointing_off_micro_batch"] is None
    ids = {r.id for r in kb.applicable(w, hw, kb.cached_rules(), host={})}
    assert RULE not in ids and "batch.raise_micro_batch" in ids


def _trl(micro: int, seq: int) -> str:
    return (
        TRL.replace("per_device_train_batch_size: 8", f"per_device_train_batch_size: {micro}")
        .replace("gradient_accumulation_steps: 4", "gradient_accumulation_steps: 1")
        .replace("max_seq_length: 2048", f"max_seq_length: {seq}")
    )


def test_only_a_divisor_of_the_batch_is_proposed(tmp_path: Path) -> None:
    """micro-batch 6 x accumulation 1 at 3072 tokens: 4 fits and would be faster, but 6 sequences do not
    split into micro-batches of 4; 3 (accumulation 2) keeps the batch exact."""
    w = load_config(_write(tmp_path / "sft.yaml", _trl(6, 3072))).workload
    four = w.model_copy(update={"gradient_checkpointing": False, "micro_batch_size": 4, "gradient_accumulation": 1})
    assert memory_gb(four) <= spare_limit_gb(HW)  # a non-divisor that would fit
    fit = kb.checkpointing_off_fit(w, HW)
    assert fit is not None and (fit.micro_batch_size, fit.gradient_accumulation) == (3, 2)


def test_silent_where_the_batch_cannot_stay_exact(tmp_path: Path) -> None:
    """micro-batch 7 x accumulation 1 at 2048 tokens: checkpointing off at 6 fits and projects faster,
    but 7 sequences split exactly only into micro-batches of 1, which project slower than the config."""
    w = load_config(_write(tmp_path / "sft.yaml", _trl(7, 2048))).workload
    six = w.model_copy(update={"gradient_checkpointing": False, "micro_batch_size": 6})
    one = w.model_copy(update={"gradient_checkpointing": False, "micro_batch_size": 1, "gradient_accumulation": 7})
    assert memory_gb(six) <= spare_limit_gb(HW) and step(six, HW).step_s / 6 < step(w, HW).step_s / 7  # faster per sequence
    assert step(one, HW).step_s >= step(w, HW).step_s
    assert kb.facts(w, HW, host={})["derived.checkpointing_off_micro_batch"] is None
    assert RULE not in {r.id for r in kb.applicable(w, HW, kb.cached_rules(), host={})}


def test_not_offered_where_accumulation_cannot_be_raised(tmp_path: Path) -> None:
    """torchtune raises on gradient accumulation with optimizer_in_bwd; LLaMA-Factory v1 without
    global_batch_size has no accumulation to raise (its global batch is micro-batch x data-parallel
    size). Neither gets the edit, nor a finding that advises it."""
    tt = TORCHTUNE.replace("gradient_accumulation_steps: 8", "gradient_accumulation_steps: 1\noptimizer_in_bwd: True")
    tt = tt.replace("batch_size: 8", "batch_size: 16")
    v1 = LLAMAFACTORY_V1.replace("global_batch_size: 16\n", "")
    for name, text, why in (("7B_lora_single_device.yaml", tt, "optimizer_in_bwd"), ("v1_sft.yaml", v1, "have no setting")):
        path = _write(tmp_path / name, text)
        loaded = load_config(path)
        # packed, so the micro-batch is not left alone for an assumed sample length: the accumulation is what stops it
        loaded = replace(loaded, workload=loaded.workload.model_copy(update={"sample_packing": True}))
        rules = kb.applicable(loaded.workload, HW, kb.cached_rules(), host={})
        assert RULE in {r.id for r in rules}, name  # the premise holds ...
        patch = build_patch(loaded, [r for r in rules if not r.footgun], HW, "p")
        assert RULE not in patch.rule_ids and why in patch.skipped[RULE], patch.skipped  # ... the edit is not offered
        assert kb.unactionable(patch.skipped[RULE])  # and no finding advises it
        report = _audit(path)  # the file as written (v1 unpacked: left out for its assumed length instead)
        assert report.patch is not None and RULE not in report.patch.rule_ids


def test_never_on_a_guessed_model_shape(tmp_path: Path) -> None:
    """A model the shape table, a local folder and the cache do not know: its memory is a guess."""
    path = _write(tmp_path / "sft.yaml", TRL.replace("mistralai/Mistral-7B-v0.1", "acme/house-llm-7b"))
    loaded = load_config(path)
    w = loaded.workload
    assert not w.model.known
    assert kb.facts(w, HW, host={})["derived.checkpointing_off_micro_batch"] is None
    assert RULE not in {r.id for r in kb.applicable(w, HW, kb.cached_rules(), host={})}
    rule = next(r for r in kb.cached_rules() if r.id == RULE)
    _chosen, _env, _conflicts, skipped = plan_edits(w, [rule], HW)  # even when handed the rule
    assert "guessed size or shape" in skipped[RULE]


def test_the_spare_memory_is_the_plain_rules() -> None:
    """The smaller micro-batch leaves as much HBM free as memory.disable_checkpointing_when_hbm_free asks."""
    plain = next(r for r in kb.cached_rules() if r.id == "memory.disable_checkpointing_when_hbm_free")
    ours = next(r for r in kb.cached_rules() if r.id == RULE)
    spare = next(p.value for p in plain.applies_when if p.fact == "derived.headroom_without_checkpointing_gb")
    assert spare == SPARE_GB
    assert next(p.value for p in ours.applies_when if p.fact == "derived.headroom_without_checkpointing_gb") == SPARE_GB


def test_axolotl_batch_size_keeps_the_batch_and_writes_no_accumulation_key(tmp_path: Path) -> None:
    """Axolotl with `batch_size` instead of `gradient_accumulation_steps` derives the accumulation
    (batch_size // micro_batch_size) and rejects both keys together: the edit lowers micro_batch_size
    only, and the accumulation follows."""
    text = AXOLOTL.replace("gradient_accumulation_steps: 4\n", "batch_size: 16\n")
    path = _write(tmp_path / "lora.yml", text)
    loaded = load_config(path)
    assert loaded.workload.gradient_accumulation == 4 and loaded.workload.sources["gradient_accumulation"].key == "batch_size"
    report = _audit(path)
    finding = next(f for f in report.findings if f.rule_id == RULE)
    assert "`micro_batch_size` 4 -> 2" in finding.message and "gradient accumulation 4 -> 8 (follows from" in finding.message
    new_text = patched_text(loaded, report.patch)
    assert "gradient_accumulation_steps" not in new_text and "batch_size: 16" in new_text and "micro_batch_size: 2" in new_text
    assert load_config(_write(tmp_path / "patched" / "lora.yml", new_text)).workload.gradient_accumulation == 8


def test_not_lowered_for_samples_of_an_assumed_length(tmp_path: Path) -> None:
    """review2 (modal-labs SQL LoRA): micro-batch 32 -> 2 sized for samples priced at seq_len, while the rows are
    ~200 tokens and checkpointing off fits at 32. Without a sampled dataset, packing or a cutoff in the config the
    micro-batch is not lowered; the rule is left out with the reason and the verdict is inconclusive, naming it."""
    path = _write(tmp_path / "v1_sft.yaml", LLAMAFACTORY_V1.replace("cutoff_len: 2048\n", ""))
    report = _audit(path)
    assert report.patch is not None and RULE not in report.patch.rule_ids
    assert "goblin does not lower the micro-batch for samples of an assumed length" in report.patch.skipped[RULE]
    assert report.inconclusive and RULE in report.inconclusive and "2048 tokens" in report.inconclusive


def test_sized_at_the_configs_cutoff_and_decided_over_the_span_of_lengths(tmp_path: Path) -> None:
    """With the config's own cutoff (review3 #14) the smaller micro-batch fits at any real length, and is projected
    faster at half of it too: it is proposed. Much shorter rows (review2's SQL LoRA) may fit at the current micro-batch,
    but checkpointing off pays either way: at every length from the cutoff down to 1/8 of it the planner's choice
    projects 1.26x or more, so the verdict is decided (review10a #14; before lengthspan25: inconclusive)."""
    path = _write(tmp_path / "v1_sft.yaml", LLAMAFACTORY_V1)
    report = _audit(path)
    assert report.patch is not None and RULE in report.patch.rule_ids
    assert report.verdict == "fail" and report.inconclusive is None
    assert "from the config's cutoff of 2048 tokens down to 1/8 of it (2048, 1024, 512, 256;" in report.reason
    assert "checkpointing off fits at the current micro-batch 8 too" in report.reason
