"""TrainingArguments `fsdp` without `auto_wrap` (review12b #35, class C6): at a pinned transformers 4.28.1-4.57.0 the whole
model is one FSDP unit (formats/fsdp_wrap.py); never for a PEFT adapter (peft's own wrap policy), a release outside the
ones read, an unpinned run, `auto_wrap` in the option string, or a launch line that hands accelerate its own config."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.formats.fsdp_wrap import no_auto_wrap
from pytest_goblin.hardware import get_hardware

from .repo_files import write_tree

HW = get_hardware("mi300x")
RULE = "distributed.fsdp_one_unit"
CFG = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\ndataset_name: trl-lib/Capybara\nper_device_train_batch_size: 1\n"
    "max_length: 1024\nbf16: true\ngradient_checkpointing: true\nfsdp: {fsdp}\nfsdp_config:\n"
    "  fsdp_auto_wrap_policy: TRANSFORMER_BASED_WRAP\n  fsdp_transformer_layer_cls_to_wrap: [LlamaDecoderLayer]\n{extra}"
    "# {launch}\n"
)


def _fired(tmp_path: Path, *, fsdp: str = '"full_shard"', pin: str | None = "transformers==4.40.0", extra: str = "", launch: str = "") -> dict[str, str]:
    files = {"sft.yaml": CFG.format(fsdp=fsdp, extra=extra, launch=launch or "torchrun --nproc_per_node 8 sft.py")}
    if pin:
        files["requirements.txt"] = f"{pin}\n"
    root = write_tree(tmp_path, files, git=True)
    w = load_config(root / "sft.yaml").workload
    return {r.id: kb.render_finding(r, w, HW) for r in kb.applicable(w, HW, kb.cached_rules())}


@pytest.mark.parametrize("pin", ["transformers==4.40.0", "transformers==4.57.0", "transformers==4.28.1"])
def test_full_shard_without_auto_wrap_is_one_unit_at_a_pinned_release_read(tmp_path: Path, pin: str) -> None:
    fired = _fired(tmp_path, pin=pin)
    assert RULE in fired
    msg = fired[RULE]
    version = pin.split("==")[1]
    assert f"at transformers {version} ({pin})" in msg and "(`fsdp`, line 7)" in msg
    # the whole 8B gathered in bf16 (FSDP's mixed-precision parameter dtype), and the fix
    assert "all-gathers all 8.0B parameters (16 GB in bf16" in msg and '`fsdp: "full_shard auto_wrap"`' in msg
    assert "training_args.py:1806-1814" in msg and "NO_WRAP" in msg and "None" not in msg


def test_not_with_auto_wrap_nor_for_an_adapter(tmp_path: Path) -> None:
    assert RULE not in _fired(tmp_path / "wrap", fsdp='"full_shard auto_wrap"')
    # a PEFT adapter: transformers installs peft's fsdp_auto_wrap_policy (4.40.0 trainer.py:4418-4425)
    assert RULE not in _fired(tmp_path / "lora", extra="use_peft: true\nlora_r: 16\n")


def test_not_outside_the_releases_read_nor_unpinned(tmp_path: Path) -> None:
    assert RULE not in _fired(tmp_path / "new", pin="transformers==5.15.1")  # TRANSFORMER_BASED_WRAP by default
    assert RULE not in _fired(tmp_path / "old", pin="transformers==4.20.0")
    assert RULE not in _fired(tmp_path / "none", pin=None)


def test_not_where_the_launch_line_hands_accelerate_a_config(tmp_path: Path) -> None:
    launch = "accelerate launch --config_file fsdp.yaml --num_processes 8 sft.py --config sft.yaml"
    assert RULE not in _fired(tmp_path, launch=launch)


def test_the_option_string() -> None:
    assert no_auto_wrap("full_shard") and no_auto_wrap(True) and no_auto_wrap(["shard_grad_op", "offload"])
    assert not no_auto_wrap("full_shard auto_wrap") and not no_auto_wrap("") and not no_auto_wrap(False) and not no_auto_wrap("offload")
