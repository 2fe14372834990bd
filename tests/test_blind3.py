"""Blind review 3 (docs/kb-coverage.md): each class of mistake, as a small config that fails without its fix."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import build_patch, patched_text
from pytest_goblin.schemas import Patch

HW = get_hardware("mi300x")


def _audit(path: Path) -> tuple[set[str], Patch, str]:
    """Rules shown as findings (as the audit shows them), the patch, and the text --goblin-fix would write."""
    loaded = load_config(path)
    fired = [r for r in kb.applicable(loaded.workload, HW, kb.cached_rules()) if r.id not in loaded.workload.ignored_rules]
    patch = build_patch(loaded, [r for r in fired if not r.footgun], HW, "p1")
    shown = {r.id for r in fired if r.footgun or not kb.unactionable(patch.skipped.get(r.id))}
    return shown, patch, patched_text(loaded, patch)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    path = tmp_path / name
    path.write_text(text)
    return path


AXOLOTL_FSDP = """base_model: Qwen/Qwen2.5-7B
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
sequence_len: 2048
sample_packing: true
micro_batch_size: 1
gradient_accumulation_steps: 4
num_epochs: 1
optimizer: adamw_torch_fused
bf16: true
{gc}fsdp_version: 2
fsdp_config:
  offload_params: false
  auto_wrap_policy: TRANSFORMER_BASED_WRAP
  transformer_layer_cls_to_wrap: Qwen2DecoderLayer
  {ac}: true
"""


# ------------------------------------------------------------------ A: a second checkpointing switch
def test_axolotl_checkpointing_off_reaches_fsdp_activation_checkpointing(tmp_path: Path) -> None:
    """Axolotl exports FSDP_ACTIVATION_CHECKPOINTING (src/axolotl/utils/trainer.py:597-598): turning
    `gradient_checkpointing` off alone leaves recompute on, so the edit must turn both off."""
    path = _write(tmp_path, "fft.yaml", AXOLOTL_FSDP.format(gc="gradient_checkpointing: true\n", ac="activation_checkpointing"))
    shown, patch, text = _audit(path)
    assert "memory.disable_checkpointing_when_hbm_free" in shown
    assert "gradient_checkpointing: false" in text and "  activation_checkpointing: false" in text
    assert patch.new_workload.gradient_checkpointing is False


def test_fsdp_activation_checkpointing_alone_is_read_as_recompute(tmp_path: Path) -> None:
    """No trainer flag, only `fsdp_config.fsdp_activation_checkpointing` (the prefixed spelling Axolotl
    strips, validation.py:1086-1100): recompute is on, and only that switch is edited."""
    path = _write(tmp_path, "fft.yaml", AXOLOTL_FSDP.format(gc="", ac="fsdp_activation_checkpointing"))
    w = load_config(path).workload
    assert w.gradient_checkpointing is True
    assert w.sources["gradient_checkpointing"].key == "fsdp_config.fsdp_activation_checkpointing"
    shown, _patch, text = _audit(path)
    assert "memory.disable_checkpointing_when_hbm_free" in shown
    assert "  fsdp_activation_checkpointing: false" in text and "gradient_checkpointing" not in text


def test_fsdp_file_checkpointing_is_not_claimed_by_a_trainer_flag_edit(tmp_path: Path) -> None:
    """The switch lives in a referenced FSDP file goblin does not edit: no patch claims the recompute
    saving, and the reason names that file."""
    (tmp_path / "fsdp.json").write_text(json.dumps({"activation_checkpointing": True}))
    path = _write(
        tmp_path,
        "sft.yaml",
        "model_name_or_path: Qwen/Qwen2.5-1.5B\nper_device_train_batch_size: 4\nlearning_rate: 1.0e-5\nbf16: true\n"
        "gradient_checkpointing: true\nfsdp: full_shard auto_wrap\nfsdp_config: fsdp.json\n",
    )
    _shown, patch, text = _audit(path)
    assert "gradient_checkpointing: false" not in text
    why = patch.skipped.get("memory.disable_checkpointing_when_hbm_free", "")
    assert "fsdp.json" in why and "activation_checkpointing" in why
