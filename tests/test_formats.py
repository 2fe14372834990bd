from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import ConfigError, NotATrainingConfig
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import build_patch
from pytest_goblin.rules import applicable, load_rules

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


# ---- the native goblin format, goblin parse --json, --goblin-fix -----------------------------

GOBLIN_CONFIG = """\
goblin: 1
model: acme/house-model
model_shape: {params_b: 13.0, n_layers: 40, hidden: 5120, n_heads: 40, n_kv_heads: 8, intermediate: 13824, vocab: 64000}
precision: fp16   # the team's old default
micro_batch_size: 2
gradient_accumulation: 8
world_size: 8
strategy: fsdp
env:
  PYTORCH_TUNABLEOP_ENABLED: "1"
"""


def test_goblin_format_reads_fields_defaults_and_shape(tmp_path: Path) -> None:
    from pytest_goblin.formats import load_config

    path = tmp_path / "job.yaml"
    path.write_text(GOBLIN_CONFIG)
    loaded = load_config(path)
    w = loaded.workload
    assert loaded.adapter.name == "goblin"
    assert (w.precision, w.micro_batch_size, w.gradient_accumulation, w.world_size, w.strategy) == ("fp16", 2, 8, 8, "fsdp")
    assert w.sources["precision"].line == 4 and w.sources["precision"].explicit
    assert not w.sources["attention"].explicit and w.attention == "sdpa"
    assert w.model.known and w.model.params_b == 13.0 and w.model.n_layers == 40
    assert w.env == {"PYTORCH_TUNABLEOP_ENABLED": "1"}
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, w, {"precision": "bf16", "dataloader_workers": 4})
    assert skipped == {} and "precision: bf16   # the team's old default" in text and "dataloader_workers: 4" in text


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("precision: fp64", "precision"),
        ("micro_batch_size: 0", "out of range"),
        ("gradient_checkpointing: maybe", "gradient_checkpointing"),
        ("model_shape: {params_b: lots}", "model_shape.params_b"),
    ],
)
def test_goblin_format_errors_name_the_key_and_line(tmp_path: Path, line: str, message: str) -> None:
    from pytest_goblin.errors import ConfigError
    from pytest_goblin.formats import load_config

    path = tmp_path / "bad.yaml"
    path.write_text(f"goblin: 1\nmodel: meta-llama/Llama-3.1-8B\n{line}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value) and "bad.yaml:3" in str(info.value)


def test_parse_json_is_one_documented_record_per_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from pytest_goblin.cli import main
    from pytest_goblin.formats.record import SUMMARY

    (tmp_path / "job.yaml").write_text(GOBLIN_CONFIG)
    (tmp_path / "broken.yaml").write_text("goblin: 1\nmodel: x\nprecision: fp64\n")
    for f in EXAMPLES.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    assert main(["parse", "--json", str(tmp_path)]) == 1  # one file is broken
    lines = capsys.readouterr().out.strip().splitlines()
    records = {Path(r["path"]).name: r for r in map(json.loads, lines)}
    assert len(lines) == len(records) == 7
    for r in records.values():
        assert list(r)[: len(SUMMARY)] == list(SUMMARY)
    assert records["accelerate-fsdp.yaml"]["format"] is None and "accelerate" in records["accelerate-fsdp.yaml"]["reason"]
    assert "error" in records["broken.yaml"] and records["broken.yaml"]["format"] is None
    axolotl = records["axolotl-llama3-8b-lora.yml"]
    assert axolotl["format"] == "axolotl" and axolotl["model"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert (axolotl["micro_batch_size"], axolotl["gradient_accumulation_steps"], axolotl["precision"], axolotl["gradient_checkpointing"]) == (
        1,
        16,
        "fp16",
        True,
    )
    assert records["llamafactory-qwen3-4b-qlora.yaml"]["quantization_bits"] == 4
    assert records["torchtune-qwen2_5-7b-full.yaml"]["model"].startswith("torchtune.models.qwen2_5.")
    assert axolotl["sources"]["gradient_accumulation_steps"]["line"] is not None


def test_goblin_fix_writes_patches_in_place(pytester: pytest.Pytester) -> None:
    import shutil

    shutil.copytree(EXAMPLES, pytester.path / "configs")
    before = (pytester.path / "configs" / "axolotl-llama3-8b-lora.yml").read_text()
    first = pytester.runpytest_subprocess("--goblin", "configs", "--goblin-fix", "--goblin-runner", "projection", "-p", "no:cacheprovider")
    assert first.ret == 1  # the run that fixes still reports what it found
    after = (pytester.path / "configs" / "axolotl-llama3-8b-lora.yml").read_text()
    assert after != before and "# copied from a V100 recipe" in after  # comments kept
    second = pytester.runpytest_subprocess("--goblin", "configs", "--goblin-runner", "projection", "-p", "no:cacheprovider")
    assert second.ret == 0, second.stdout.str()


def test_model_shape_from_a_cached_config_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from pytest_goblin import hubconfig
    from pytest_goblin.modelzoo import lookup_model

    snap = tmp_path / "hub" / "models--acme--moe-lab-7b" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    cfg = {
        "model_type": "mixtral",
        "num_hidden_layers": 32,
        "hidden_size": 4096,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 14336,
        "vocab_size": 32000,
        "num_local_experts": 8,
        "num_experts_per_tok": 2,
    }
    (snap / "config.json").write_text(json.dumps(cfg))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    hubconfig.shape_from_hub.cache_clear()
    shape = lookup_model("acme/moe-lab-7b")
    assert shape.known and shape.family == "mixtral" and shape.n_layers == 32
    # Mixtral 8x7B's published sizes: about 46.7B total and 12.9B active parameters
    assert 45 < (shape.params_b or 0) < 48 and 12 < (shape.active_params_b or 0) < 14
    assert (shape.n_experts, shape.experts_per_token) == (8, 2)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    hubconfig.shape_from_hub.cache_clear()
    assert lookup_model("acme/moe-lab-7b").known is False  # back to the name's "7b"


def test_hub_download_only_when_allowed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import json
    import sys
    import types

    from pytest_goblin import hubconfig

    calls: list[str] = []
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4, "vocab_size": 100, "intermediate_size": 128}))
    fake = types.ModuleType("huggingface_hub")
    fake.hf_hub_download = lambda repo, name: calls.append(repo) or str(cfg)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "huggingface_hub", fake)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "none"))
    monkeypatch.delenv("GOBLIN_HUB", raising=False)
    hubconfig.shape_from_hub.cache_clear()
    assert hubconfig.shape_from_hub("acme/tiny") is None and calls == []  # no download unless asked
    monkeypatch.setenv("GOBLIN_HUB", "1")
    hubconfig.shape_from_hub.cache_clear()
    shape = hubconfig.shape_from_hub("acme/tiny")
    assert shape is not None and shape.n_layers == 2 and calls == ["acme/tiny"]
    hubconfig.shape_from_hub.cache_clear()


def test_every_reference_corpus_file_is_classified_with_its_fields() -> None:
    """The whole reference corpus: no exception, each file a training config or a reason."""
    from pytest_goblin.formats.record import parse_record

    from .conftest import SHARED_CORPUS

    files = sorted(p for p in SHARED_CORPUS.rglob("*") if p.suffix in (".yml", ".yaml"))
    assert len(files) >= 250
    formats: dict[str, int] = {}
    for path in files:
        record, ok = parse_record(path)
        assert ok, record.get("error")
        if record["format"] is None:
            assert record["reason"], path
            continue
        formats[record["format"]] = formats.get(record["format"], 0) + 1
        for key in ("model", "micro_batch_size", "gradient_accumulation_steps", "seq_len", "precision", "gradient_checkpointing"):
            assert record[key] is not None, (path, key)
        assert record["precision"] in ("bf16", "fp16", "fp32", "fp8")
        assert record["quantization_bits"] in (None, 4, 8)
        top = path.relative_to(SHARED_CORPUS).parts[0]
        expected = {"axolotl": "axolotl", "torchtune": "torchtune", "llamafactory": "llamafactory", "alignment-handbook": "hf-trainer"}[top]
        assert record["format"] == expected, path
    assert set(formats) == {"axolotl", "torchtune", "llamafactory", "hf-trainer"}


@pytest.mark.parametrize("kind", ["json", "accelerate-yaml", "missing"])
def test_fsdp_config_file_referenced_by_path(tmp_path: Path, kind: str) -> None:
    import json

    from pytest_goblin.formats import load_config

    (tmp_path / ".git").mkdir()
    (tmp_path / "configs").mkdir()
    if kind == "json":
        (tmp_path / "fsdp.json").write_text(json.dumps({"fsdp_offload_params": True, "fsdp_activation_checkpointing": True}))
        ref = "fsdp.json"
    elif kind == "accelerate-yaml":
        (tmp_path / "configs" / "accel.yaml").write_text("distributed_type: FSDP\nfsdp_config:\n  fsdp_offload_params: true\n")
        ref = "accel.yaml"
    else:
        ref = "nowhere.json"
    cfg = tmp_path / "configs" / "sft.yaml"
    cfg.write_text(
        "model_name_or_path: Qwen/Qwen2.5-7B\nper_device_train_batch_size: 4\nlearning_rate: 1.0e-5\nbf16: true\n"
        f"fsdp: full_shard auto_wrap\nfsdp_config: {ref}\nmax_length: 2048\n"  # max_length: a TRL recipe
    )
    w = load_config(cfg).workload
    assert w.strategy == "fsdp"
    if kind == "missing":
        assert not w.cpu_offload and any("was not found" in n for n in w.notes)
    else:
        # TrainingArguments offloads only for `offload` in its `fsdp` string (transformers 4.40.0 training_args.py:1804-1805)
        assert not w.cpu_offload and any("moves nothing to the host" in n for n in w.notes)
        # TRL turns checkpointing on by default (trl/trainer/base_config.py); the JSON file's FSDP
        # activation checkpointing is a second switch, recorded with the file it lives in.
        assert w.gradient_checkpointing is True
        assert w.sources["gradient_checkpointing"].explicit is False
        fsdp_ac = w.sources.get("fsdp_activation_checkpointing")
        assert (fsdp_ac is not None and fsdp_ac.file.endswith("fsdp.json")) is (kind == "json")
        assert any("FSDP settings read from" in n for n in w.notes)


@pytest.mark.parametrize(
    ("name", "family", "layers", "hidden", "active"),
    [
        ("google/gemma-3-1b-it", "gemma3", 26, 1152, None),
        ("google/gemma-3-4b-pt", "gemma3", 34, 2560, None),
        ("unsloth/gemma-3-12b-it-bnb-4bit", "gemma3", 48, 3840, None),
        ("google/gemma-3-27b-it", "gemma3", 62, 5376, None),
        ("google/gemma-2-27b", "gemma2", 46, 4608, None),  # Gemma 3 rows must not shadow Gemma 2
        ("deepseek-ai/DeepSeek-V3", "deepseek-v3", 61, 7168, 37.0),
        ("deepseek-ai/DeepSeek-R1-0528", "deepseek-v3", 61, 7168, 37.0),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "qwen2", 28, 3584, None),  # the distill's base model
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "qwen2", 48, 5120, None),
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "llama3", 32, 4096, None),
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "llama3", 80, 8192, None),
    ],
)
def test_gemma3_and_deepseek_shapes(name: str, family: str, layers: int, hidden: int, active: float | None) -> None:
    from pytest_goblin.modelzoo import lookup_model

    shape = lookup_model(name)
    assert shape.known and shape.name == name
    assert (shape.family, shape.n_layers, shape.hidden, shape.active_params_b) == (family, layers, hidden, active)


def test_a_trainingarguments_only_recipe_gets_the_trainers_defaults_not_trls(tmp_path: Path) -> None:
    """The README's own example: model_name_or_path plus TrainingArguments keys, parsed by a
    HfArgumentParser((ModelArguments, TrainingArguments)) script. TRL's defaults (bf16, gradient
    checkpointing on) must not be assumed, nor TRL-only keys written; one TRL-only key makes it TRL."""
    from pytest_goblin.formats import load_config
    from pytest_goblin.frameworks import check_key

    plain = tmp_path / "slow.yaml"
    plain.write_text("model_name_or_path: tiny\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 8\noutput_dir: out\n")
    w = load_config(plain).workload
    assert w.precision == "fp32" and w.gradient_checkpointing is False
    assert "TrainingArguments" in (w.sources["precision"].note or "")
    assert check_key("hf-trainer", {"model_name_or_path": "tiny"}, "packing", True) is not None  # the script's parser rejects it
    trl = tmp_path / "sft.yaml"
    trl.write_text(plain.read_text() + "max_length: 512\n")
    w = load_config(trl).workload
    # the file (sft.yaml) names SFTConfig, which accepts packing; unnamed, not every TRL class would
    assert w.gradient_checkpointing is True and check_key("hf-trainer", {"max_length": 512}, "packing", True, None, str(trl), "") is None
    assert check_key("hf-trainer", {"max_length": 512}, "packing", True) is not None


@pytest.mark.parametrize(
    ("tokenizer", "dataset", "expected", "key"),
    [
        (None, 4096, 4096, "dataset.max_seq_len"),  # torchtune 0.2 truncates in the dataset builder (review1 #27)
        (2048, 512, 512, "dataset.max_seq_len"),  # the shorter one governs
        (1024, 4096, 1024, "tokenizer.max_seq_len"),
        (None, None, 2048, None),  # neither: assumed, and said so
    ],
)
def test_torchtune_sequence_length_from_the_tokenizer_or_the_dataset(
    tmp_path: Path, tokenizer: int | None, dataset: int | None, expected: int, key: str | None
) -> None:
    text = "model:\n  _component_: torchtune.models.llama3.lora_llama3_8b\ntokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n"
    if tokenizer is not None:
        text += f"  max_seq_len: {tokenizer}\n"
    text += "dataset:\n  _component_: torchtune.datasets.chat_dataset\n"
    if dataset is not None:
        text += f"  max_seq_len: {dataset}\n"
    text += "batch_size: 2\noptimizer:\n  _component_: torch.optim.AdamW\n"
    path = tmp_path / "c.yaml"
    path.write_text(text)
    w = load_config(path).workload
    assert w.seq_len == expected and w.sources["seq_len"].key == key
    assert w.sources["seq_len"].explicit is (key is not None)


def test_a_repository_s_own_torchtune_dataset_builder_blocks_the_packing_advice(tmp_path: Path) -> None:
    """`packed` is an argument of torchtune's builders; a repository's own builder may have none (review1 #26)."""
    base = "model:\n  _component_: torchtune.models.llama3.lora_llama3_8b\nbatch_size: 2\noptimizer:\n  _component_: torch.optim.AdamW\n"
    path = tmp_path / "c.yaml"
    path.write_text(base + "dataset:\n  _component_: first_dataset.first_dataset\n  max_seq_len: 512\n")
    assert "repository's own" in (load_config(path).workload.packing_blocked or "")
    path.write_text(base + "dataset:\n  _component_: torchtune.datasets.alpaca_dataset\n")
    assert load_config(path).workload.packing_blocked is None
