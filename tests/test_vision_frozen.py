"""A vision-language model's vision tower in memory (shapes32): its parameters count in the shape's params_b (weights),
and a LLaMA-Factory full fine-tune that keeps freeze_vision_tower and freeze_multi_modal_projector true (the defaults,
llamafactory hparams/finetuning_args.py:420-427@v0.9.2) gives it no gradients or optimizer state."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.costmodel import memory_gb, trainable_params
from pytest_goblin.formats import load_config

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)

_LF = """model_name_or_path: {model}
stage: sft
do_train: true
finetuning_type: full
{extra}template: qwen2_vl
cutoff_len: 4096
per_device_train_batch_size: 1
gradient_accumulation_steps: 2
bf16: true
output_dir: saves/x
"""


def _config(tmp_path: Path, model: str = "Qwen/Qwen2.5-VL-72B-Instruct", extra: str = "", pin: str | None = None) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    if pin is not None:
        (tmp_path / "requirements.txt").write_text(f"llamafactory=={pin}\n")
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(_LF.format(model=model, extra=extra))
    return cfg


def test_the_default_frozen_vision_tower_takes_no_gradients_or_optimizer_state(tmp_path: Path) -> None:
    w = load_config(_config(tmp_path)).workload
    assert w.model.known and w.model.vision_params_b == pytest.approx(0.70)
    assert w.frozen_vision_tower and "freeze_multi_modal_projector unset (default true)" in (w.sources["frozen_vision_tower"].note or "")
    assert trainable_params(w, w.model.params_b or 0.0) == pytest.approx(73.41 - 0.70)
    trained = w.model_copy(update={"frozen_vision_tower": False})
    assert trainable_params(trained, 73.41) == pytest.approx(73.41)
    assert memory_gb(w) < memory_gb(trained)  # the tower's weights stay, its gradients and optimizer state go


@pytest.mark.parametrize(
    ("extra", "pin"),
    [
        ("freeze_vision_tower: false\n", None),  # the tower trains
        ("freeze_multi_modal_projector: false\n", None),  # the projector trains: the split is not priced, all trained
        ("freeze_language_model: true\nfreeze_vision_tower: false\n", None),  # a frozen language model, priced as such
        ("", "0.9.1"),  # no projector switch before 0.9.2: the projector trains
    ],
)
def test_a_vision_tower_that_trains_keeps_its_gradients(tmp_path: Path, extra: str, pin: str | None) -> None:
    w = load_config(_config(tmp_path, extra=extra, pin=pin)).workload
    assert not w.frozen_vision_tower


def test_a_text_model_has_no_vision_share(tmp_path: Path) -> None:
    w = load_config(_config(tmp_path, model="Qwen/Qwen2.5-72B-Instruct")).workload
    assert w.model.vision_params_b is None
    assert trainable_params(w, w.model.params_b or 0.0) == pytest.approx(w.model.params_b or 0.0)
