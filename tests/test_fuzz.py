"""Hypothesis fuzzing of every format adapter and of the patch writer.

Adapters: any mapping of known and unknown keys with arbitrary values either reads as a
workload or fails with ConfigError / NotATrainingConfig, never anything else. The writer: an
empty patch leaves a file byte-identical, and any edit leaves valid YAML whose changed lines
are only the edited keys.
"""

from __future__ import annotations

import difflib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_goblin.errors import ConfigError, NotATrainingConfig
from pytest_goblin.formats import load_config, parse_text

from .conftest import DATA, EXAMPLES

MARKERS = {
    "axolotl": {"base_model": "meta-llama/Meta-Llama-3-8B", "datasets": [{"path": "x"}]},
    "torchtune": {"model": {"_component_": "torchtune.models.llama3.lora_llama3_8b"}, "optimizer": {"_component_": "torch.optim.AdamW"}},
    "llamafactory": {"model_name_or_path": "Qwen/Qwen3-4B", "stage": "sft", "finetuning_type": "lora", "dataset": "alpaca"},
    "hf-trainer": {"model_name_or_path": "HuggingFaceTB/SmolLM3-3B", "per_device_train_batch_size": 2, "learning_rate": 1e-5},
}
KEYS = [
    "micro_batch_size", "per_device_train_batch_size", "batch_size", "gradient_accumulation_steps", "sequence_len", "cutoff_len",
    "max_length", "bf16", "fp16", "dtype", "torch_dtype", "attn_implementation", "flash_attention", "flash_attn", "gradient_checkpointing",
    "enable_activation_checkpointing", "disable_gradient_checkpointing", "optim", "optimizer", "torch_compile", "compile",
    "dataloader_num_workers", "load_in_4bit", "load_in_8bit", "quantization_bit", "adapter", "sample_packing", "packing", "deepspeed",
    "fsdp", "fsdp_config", "env", "activation_offloading", "use_liger_kernel", "plugins", "context_parallel_size", "tokenizer", "dataset",
]  # fmt: skip
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.sampled_from(["bf16", "fp16", "auto", "eager", "sdpa", "flash_attention_2", "offload", "qlora", "adamw_torch"]),
)  # fmt: skip
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)
documents = st.tuples(
    st.sampled_from(sorted(MARKERS)),
    st.dictionaries(st.sampled_from(KEYS), values, max_size=8),
    st.dictionaries(st.text(min_size=1, max_size=12), values, max_size=3),
)
_counter = itertools.count()


def _dump(data: dict[str, Any]) -> str:
    # JSON is YAML; it also writes NaN and huge integers the way a careless generator would
    return json.dumps(data, default=str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=documents)
def test_adapters_read_or_refuse_cleanly(doc: tuple[str, dict[str, Any], dict[str, Any]], tmp_path: Path) -> None:
    fmt, known, unknown = doc
    data = {**MARKERS[fmt], **known, **unknown}
    path = tmp_path / f"c{next(_counter)}.yaml"
    path.write_text(_dump(data))
    try:
        loaded = load_config(path)
    except (ConfigError, NotATrainingConfig) as exc:
        assert str(path) in str(exc)
        return
    w = loaded.workload
    assert w.micro_batch_size >= 1 and w.seq_len >= 1 and w.gradient_accumulation >= 1
    assert w.precision in ("fp32", "fp16", "bf16", "fp8")


SAMPLES = sorted([*EXAMPLES.glob("*.y*ml"), *(DATA / "reference_corpus").rglob("*.y*ml"), *(DATA / "scripts").glob("*.py")])
EDITS: dict[str, Any] = {
    "micro_batch_size": st.integers(1, 64),
    "gradient_accumulation": st.integers(1, 64),
    "precision": st.sampled_from(["bf16", "fp16", "fp32"]),
    "gradient_checkpointing": st.booleans(),
    "torch_compile": st.booleans(),
    "dataloader_workers": st.integers(0, 16),
    "pin_memory": st.booleans(),
    "optimizer": st.sampled_from(["adamw_torch_fused", "adamw_torch", "paged_adamw_8bit"]),
    "attention": st.sampled_from(["sdpa", "flash", "eager"]),
    "sample_packing": st.booleans(),
}


# Fields whose write is a single key with the value as given, in every format that has the key.
PLAIN = {"micro_batch_size", "gradient_accumulation", "dataloader_workers", "torch_compile"}


def _trainable(path: Path) -> bool:
    try:
        load_config(path)
    except (ConfigError, NotATrainingConfig):
        return False
    return True


TRAINABLE = [p for p in SAMPLES if _trainable(p)]


@pytest.mark.parametrize("path", TRAINABLE, ids=lambda p: p.name)
def test_empty_patch_is_byte_identical(path: Path) -> None:
    loaded = load_config(path)
    text, skipped = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, loaded.workload, {})
    assert text == loaded.text and skipped == {}


@settings(max_examples=120, deadline=None)
@given(index=st.integers(0, len(TRAINABLE) - 1), edits=st.fixed_dictionaries({}, optional=EDITS))
def test_writer_keeps_yaml_valid_and_touches_only_edited_keys(index: int, edits: dict[str, Any]) -> None:
    loaded = load_config(TRAINABLE[index])
    fields = {f: v for f, v in edits.items() if getattr(loaded.workload, f) != v}
    text, skipped = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, loaded.workload, fields)
    parse_text(loaded.path, text)  # still YAML, or still Python
    written = {f: v for f, v in fields.items() if f not in skipped}
    keys = set()
    for f, v in written.items():
        w = loaded.adapter.writes(f, v, loaded.workload, loaded.data) or {}
        keys |= {k.rsplit(".", 1)[-1] for k in w}
    changed = [
        line[1:]
        for line in difflib.unified_diff(loaded.text.split("\n"), text.split("\n"), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    # a Python script may hold the literal in a module constant the call refers to (BATCH = 1)
    where = getattr(loaded.data, "where", {})
    old_lines = loaded.text.split("\n")
    anchors = {old_lines[where[k].line - 1].split("=")[0] for k in keys if k in where}
    for line in changed:
        assert any(k in line for k in keys) or line.split("=")[0] in anchors, f"{TRAINABLE[index].name}: unexpected change {line!r} for {written}"
