"""A PASS is not clean beside a footgun goblin prices at goblin_warn_at or more, or whose gain rests on the
data's lengths it did not read (review6a class 8); Axolotl's pad_to_sequence_len as a priced footgun."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.options import build_settings
from pytest_goblin.rules import unpatched_gain
from pytest_goblin.schemas import Report
from pytest_goblin.service import audit_file

from .repo_files import write_tree

HW = get_hardware("mi300x")
PAD = "packing.pad_to_sequence_len"
PACK = "packing.sample_packing"

AXOLOTL = """\
base_model: meta-llama/Llama-3.1-8B
adapter: lora
sequence_len: {seq}
micro_batch_size: 8
gradient_accumulation_steps: 2
bf16: true
flash_attention: true
datasets:
  - path: ./data/rows.jsonl
    type: alpaca
"""


def _tree(tmp_path: Path, extra: str = "", *, words: int = 20, seq: int = 4096, data: bool = True) -> Path:
    files = {"cfg.yml": AXOLOTL.format(seq=seq) + extra}
    if data:
        rows = [{"instruction": "Summarise: " + "word " * (words + i % 50), "input": "", "output": f"summary {i}"} for i in range(200)]
        files["data/rows.jsonl"] = "".join(json.dumps(r) + "\n" for r in rows)
    return write_tree(tmp_path, files) / "cfg.yml"


def _report(cfg: Path) -> Report:
    report = audit_file(cfg, build_settings({"target": "mi300x"}), shown_as=cfg.name).report
    assert report is not None
    return report


def test_padding_to_sequence_len_on_short_samples_is_priced_and_the_item_warns(tmp_path: Path) -> None:
    cfg = _tree(tmp_path, "sample_packing: false\npad_to_sequence_len: true\n", seq=1024)
    w = load_config(cfg).workload
    # the lengths are read although the batches are padded to seq_len: they price the padding
    assert w.pad_to_max and w.token_quantiles is not None and w.token_quantiles[-1] < 1024
    assert "unpadded, 200 rows sampled" in w.sources["token_lengths"].note
    gain = unpatched_gain(PAD, w, HW)
    assert gain is not None and gain > 2.0
    report = _report(cfg)
    pad = next(f for f in report.findings if f.rule_id == PAD)
    assert (
        pad.footgun
        and pad.line == 12
        and "pad_to_sequence_len: false" in pad.message
        and "every sample padded to 1024 tokens" in pad.message
        and f"projects {gain:.2f}x" in pad.message
    )
    assert report.verdict == "warn" and report.inconclusive is None
    assert PAD in report.reason and f"{gain:.2f}x" in report.reason and "None" not in report.reason
    from pytest_goblin.outcome import ItemOutcome
    from pytest_goblin.reporting.text import summary_line

    line = summary_line(ItemOutcome(nodeid="cfg.yml::audit", path="cfg.yml", verdict="warn", message=report.reason, report=report))
    assert line.startswith("WARN") and PAD in line and "make that change by hand" in line


def test_padding_footgun_does_not_fire_with_sample_packing(tmp_path: Path) -> None:
    # Axolotl 0.18.0 utils/schemas/validation.py:228-242 recommends (and defaults) the padding with sample packing
    report = _report(_tree(tmp_path, "sample_packing: true\npad_to_sequence_len: true\n"))
    assert all(f.rule_id != PAD for f in report.findings)
    assert PAD not in report.reason


def test_pad_to_sequence_len_under_rl_is_inert(tmp_path: Path) -> None:
    # only HFCausalTrainerBuilder reads the key; a `rl:` run's collator pads to the batch's longest
    w = load_config(_tree(tmp_path, "rl: dpo\nsample_packing: false\npad_to_sequence_len: true\n")).workload
    assert not w.pad_to_max


def test_samples_at_the_cutoff_price_the_padding_at_nothing(tmp_path: Path) -> None:
    cfg = _tree(tmp_path, "sample_packing: false\npad_to_sequence_len: true\n", words=400, seq=256)
    w = load_config(cfg).workload
    assert w.token_quantiles is not None and min(w.token_quantiles) >= 256
    gain = unpatched_gain(PAD, w, HW)
    assert gain is not None and abs(gain - 1.0) < 1e-6
    report = _report(cfg)
    assert PAD not in report.reason and PAD not in (report.inconclusive or "")


def test_unpacked_short_samples_price_packing_and_warn(tmp_path: Path) -> None:
    cfg = _tree(tmp_path, "sample_packing: false\n")
    w = load_config(cfg).workload
    gain = unpatched_gain(PACK, w, HW)
    assert gain is not None and gain > 1.5
    report = _report(cfg)
    assert report.verdict == "warn" and PACK in report.reason
    assert f"projects {gain:.2f}x" in next(f for f in report.findings if f.rule_id == PACK).message


def test_unpacked_samples_at_the_cutoff_still_pass(tmp_path: Path) -> None:
    report = _report(_tree(tmp_path, "sample_packing: false\n", words=400, seq=256))
    assert any(f.rule_id == PACK for f in report.findings)
    assert report.verdict == "pass" and report.inconclusive is None


def test_unpacked_without_lengths_is_inconclusive_not_a_clean_pass(tmp_path: Path) -> None:
    report = _report(_tree(tmp_path, "sample_packing: false\n", data=False, seq=1024))
    assert any(f.rule_id == PACK for f in report.findings)
    assert report.inconclusive is not None and PACK in report.inconclusive and "did not read" in report.inconclusive
    assert report.verdict == "warn" and "None" not in report.inconclusive


def test_an_ignored_footgun_leaves_the_pass_alone(tmp_path: Path) -> None:
    report = _report(_tree(tmp_path, "sample_packing: false\n# goblin: ignore[packing.sample_packing]\n", data=False, seq=1024))
    assert all(f.rule_id != PACK for f in report.findings)
    assert report.inconclusive is None or PACK not in report.inconclusive


def test_one_unpadded_sample_per_micro_batch_leaves_no_pad_tokens_to_price(tmp_path: Path) -> None:
    cfg = _tree(tmp_path, "sample_packing: false\n", data=False, seq=1024)
    cfg.write_text(cfg.read_text().replace("micro_batch_size: 8", "micro_batch_size: 1") + "# goblin: ignore[batch.raise_micro_batch]\n")
    report = _report(cfg)
    assert any(f.rule_id == PACK for f in report.findings)
    assert report.verdict == "pass" and report.inconclusive is None


def test_a_threshold_above_the_sources_bound_is_not_reached_by_unread_lengths(tmp_path: Path) -> None:
    cfg = _tree(tmp_path, "sample_packing: false\n", data=False, seq=1024)
    report = audit_file(cfg, build_settings({"target": "mi300x", "warn_at": 5.0, "fail_at": 9.0}), shown_as=cfg.name).report
    assert report is not None and report.verdict == "pass" and report.inconclusive is None
