"""Python training scripts: read with ast (never run), patched by exact source edits."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.errors import ConfigError, NotATrainingConfig
from pytest_goblin.formats import load_config
from pytest_goblin.patching import build_patch, patched_text

from .conftest import DATA

SCRIPT = DATA / "scripts" / "train_sft.py"


def test_script_values_and_lines() -> None:
    loaded = load_config(SCRIPT)
    w = loaded.workload
    assert loaded.adapter.name == "python"
    assert w.model.name == "meta-llama/Llama-3.1-8B-Instruct" and w.model.known
    assert (w.micro_batch_size, w.gradient_accumulation, w.precision, w.attention, w.seq_len) == (1, 16, "fp16", "eager", 2048)
    assert (w.gradient_checkpointing, w.optimizer, w.quantization, w.method) == (True, "paged_adamw_8bit", "4bit", "qlora")
    assert w.sources["micro_batch_size"].line == 14  # the module constant BATCH = 1 the call refers to
    assert w.sources["attention"].line == 19
    assert w.env == {"WANDB_PROJECT": "sft", "TOKENIZERS_PARALLELISM": "false"}


def test_patch_is_exact_source_edits_that_read_back(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(SCRIPT.read_text())
    loaded = load_config(path)
    rules = [r for r in kb.cached_rules() if r.id in {"precision.bf16_over_fp16", "attention.sdpa_over_eager", "batch.raise_micro_batch"}]
    patch = build_patch(loaded, rules, hardware.get_hardware("mi300x"), "p1")
    assert set(patch.rule_ids) == {r.id for r in rules}
    new = patched_text(loaded, patch)
    ast.parse(new)  # still Python
    changed = [line for line in patch.diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert "+BATCH = 8  # what fit on our old V100" in changed  # the constant, with its comment
    assert '+    attn_implementation="sdpa",' in changed  # the file's own quotes
    assert "+    torch_dtype=torch.bfloat16," in changed and "+    bf16=True," in changed
    assert all("learning_rate" not in line and "output_dir" not in line for line in changed)
    path.write_text(new)
    w = load_config(path).workload
    assert (w.micro_batch_size, w.precision, w.attention) == (8, "bf16", "sdpa")


def test_single_line_call_and_computed_values(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import sys\nfrom transformers import TrainingArguments, AutoModelForCausalLM\n"
        "m = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-7B')\n"
        "args = TrainingArguments(output_dir='o', per_device_train_batch_size=int(sys.argv[1]), bf16=True)\n"
    )
    loaded = load_config(path)
    w = loaded.workload
    assert w.micro_batch_size == 8 and not w.sources["micro_batch_size"].explicit  # TrainingArguments default
    assert any("per_device_train_batch_size is computed at run time" in n for n in w.notes)
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, w, {"dataloader_workers": 4, "micro_batch_size": 16})
    assert "bf16=True, dataloader_num_workers=4)" in text
    assert "computed in the script" in skipped["micro_batch_size"]


def test_files_that_are_not_training_scripts_or_do_not_parse(tmp_path: Path) -> None:
    helper = tmp_path / "utils.py"
    helper.write_text("def f():\n    return 1\n")
    with pytest.raises(NotATrainingConfig, match="without a TrainingArguments"):
        load_config(helper)
    broken = tmp_path / "train.py"
    broken.write_text("from transformers import TrainingArguments\nargs = TrainingArguments(bf16=True\n")
    with pytest.raises(ConfigError, match="Python syntax error") as info:
        load_config(broken)
    assert "train.py:" in str(info.value)
    # an f-string holding its own quotes is Python 3.12 grammar (PEP 701): read on any Python (pysource.py)
    newer = tmp_path / "pep701.py"
    newer.write_text('from transformers import TrainingArguments\nd = {"q": 1}\nm = f"{d["q"]}"\nargs = TrainingArguments(bf16=True)\n')
    assert load_config(newer).workload is not None
    if sys.version_info < (3, 12):
        # an f-string no Python parses: the error, with the hint that a newer grammar may be the reason
        bad = tmp_path / "badf.py"
        bad.write_text('from transformers import TrainingArguments\nm = f"{d["q"]"\nargs = TrainingArguments(bf16=True)\n')
        with pytest.raises(ConfigError, match="Python syntax error") as info:
            load_config(bad)
        assert "badf.py:2" in str(info.value) and "valid from Python 3.12, PEP 701" in str(info.value)
        with pytest.raises(ConfigError) as plain:
            load_config(broken)
        assert "PEP 701" not in str(plain.value)  # an unclosed call is not newer grammar


def test_nothing_in_a_script_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "train.py"
    path.write_text(
        f"import os\nos.system('touch {marker}')\nopen({str(marker)!r}, 'w').write('x')\n"
        "from transformers import TrainingArguments\nargs = TrainingArguments(output_dir='o', per_device_train_batch_size=__import__('os').getpid())\n"
    )
    load_config(path)
    assert not marker.exists()
