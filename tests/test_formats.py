from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import ConfigError, NotATrainingConfig
from pytest_goblin.formats import load_config
from pytest_goblin.kb import applicable, get_hardware, load_rules
from pytest_goblin.patching import build_patch

from .conftest import EXAMPLES


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        (
            "axolotl-llama3-8b-lora.yml",
            "axolotl",
            {"precision": "fp16", "attention": "eager", "micro_batch_size": 1, "gradient_checkpointing": True, "method": "lora"},
        ),
        ("torchtune-qwen2_5-7b-full.yaml", "torchtune", {"precision": "fp32", "seq_len": 4096, "gradient_accumulation": 8, "method": "full"}),
        ("llamafactory-qwen3-4b-qlora.yaml", "llamafactory", {"method": "qlora", "quantization": "4bit", "gradient_checkpointing": True}),
        (
            "trl-smollm3-3b-sft-tuned.yaml",
            "hf-trainer",
            {"precision": "bf16", "micro_batch_size": 4, "gradient_accumulation": 2, "optimizer": "adamw_torch_fused"},
        ),
    ],
)
def test_examples_parse_with_values_and_lines(name: str, fmt: str, expected: dict[str, object]) -> None:
    loaded = load_config(EXAMPLES / name)
    assert loaded.adapter.name == fmt
    for field, value in expected.items():
        assert getattr(loaded.workload, field) == value, field
    text_lines = (EXAMPLES / name).read_text().splitlines()
    for field, src in loaded.workload.sources.items():
        if src.explicit and src.line:
            assert src.key.split(".")[-1] in text_lines[src.line - 1], (field, src)


def test_defaults_are_marked_and_explained() -> None:
    w = load_config(EXAMPLES / "llamafactory-qwen3-4b-qlora.yaml").workload
    src = w.sources["gradient_checkpointing"]
    assert not src.explicit and src.line is None
    assert "disable_gradient_checkpointing" in (src.note or "")


@pytest.mark.parametrize(
    ("name", "reason"),
    [("torchtune-generation.yaml", "optimizer"), ("llamafactory-inference.yaml", "inference")],
)
def test_non_training_configs_say_why(corpus_sample: Path, name: str, reason: str) -> None:
    with pytest.raises(NotATrainingConfig, match=reason):
        load_config(corpus_sample / name)


def test_accelerate_file_is_not_a_training_config() -> None:
    with pytest.raises(NotATrainingConfig, match="accelerate"):
        load_config(EXAMPLES / "accelerate-fsdp.yaml")


def test_yaml_error_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("base_model: x\nmicro_batch_size: [1, 2\nsequence_len: 10\n")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert info.value.line in (2, 3)
    assert "broken.yaml:" in str(info.value) and "hint" in str(info.value)


def test_bad_value_names_key_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "zero.yml"
    bad.write_text("base_model: meta-llama/Llama-3.1-8B\ndatasets: []\nmicro_batch_size: 0\n")
    with pytest.raises(ConfigError, match=r"zero.yml:3: `micro_batch_size`: must be at least 1"):
        load_config(bad)


@pytest.mark.parametrize("name", ["axolotl-llama3-8b-lora.yml", "torchtune-qwen2_5-7b-full.yaml", "llamafactory-qwen3-4b-qlora.yaml"])
def test_patch_keeps_comments_and_reads_back(name: str) -> None:
    loaded = load_config(EXAMPLES / name)
    hw = get_hardware("mi300x")
    patch = build_patch(loaded, applicable(loaded.workload, hw, load_rules()), hw, "p1")
    assert patch.edits, "the bad examples must get edits"
    removed = [line[1:] for line in patch.diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert not any(line.lstrip().startswith("#") for line in removed), "a comment line was changed"
    for edit in patch.edits:
        assert getattr(patch.new_workload, edit.field) == edit.new


def test_inline_comment_survives_a_value_edit() -> None:
    loaded = load_config(EXAMPLES / "axolotl-llama3-8b-lora.yml")
    hw = get_hardware("mi300x")
    patch = build_patch(loaded, applicable(loaded.workload, hw, load_rules()), hw, "p1")
    assert "+bf16: true" in patch.diff or "+fp16: false            # copied from a V100 recipe" in patch.diff
    assert "# copied from a V100 recipe" in patch.diff


def test_ignore_comment_acknowledges_a_rule(tmp_path: Path) -> None:
    cfg = tmp_path / "ack.yml"
    cfg.write_text((EXAMPLES / "axolotl-llama3-8b-lora.yml").read_text() + "# goblin: ignore[attention.sdpa_over_eager]\n")
    loaded = load_config(cfg)
    assert loaded.workload.ignored_rules == ["attention.sdpa_over_eager"]
    hw = get_hardware("mi300x")
    patch = build_patch(loaded, applicable(loaded.workload, hw, load_rules()), hw, "p1")
    assert "attention.sdpa_over_eager" not in patch.rule_ids
    assert "ignore" in patch.skipped["attention.sdpa_over_eager"]
