"""A full fine-tune whose language model is frozen is priced as a frozen base (issue 23, class 5, frozen20): its
weights in the load dtype, no gradients, optimizer state or master copy, backward through it for input gradients only.
LLaMA-Factory's `freeze_language_model` (0.9.5 hparams/finetuning_args.py:527-535, model/adapter.py:48-54); a config
that trains the language model keeps the full fine-tune's price."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import costmodel
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.modelzoo import lookup_model
from pytest_goblin.rules import over_hbm
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import write_tree

LF = """\
model_name_or_path: Qwen/Qwen2.5-7B-Instruct
stage: sft
do_train: true
finetuning_type: {ftype}
dataset: some_hub_dataset
template: qwen
cutoff_len: 2048
output_dir: out
per_device_train_batch_size: 2
gradient_accumulation_steps: 8
bf16: true
{extra}"""


def _lf(tmp_path: Path, extra: str, ftype: str = "full") -> WorkloadConfig:
    return load_config(write_tree(tmp_path, {"lf.yaml": LF.format(ftype=ftype, extra=extra)}, git=True) / "lf.yaml").workload


def test_llamafactory_freeze_language_model_with_a_trained_projector_is_a_frozen_base(tmp_path: Path) -> None:
    w = _lf(tmp_path, "freeze_language_model: true\nfreeze_multi_modal_projector: false\n")
    assert w.method == "full" and w.frozen_language_model
    src = w.sources["frozen_language_model"]
    note = src.note or ""
    assert src.key == "freeze_language_model" and src.line == 12 and src.explicit
    assert "the multi-modal projector (`freeze_multi_modal_projector: false`, line 13) trains" in note
    assert (
        "`freeze_language_model: true` (line 12)" in note
        and "model/adapter.py:48-54" in note
        and "assumed: backward flows through it" in note
        and "None" not in note
    )
    full = w.model_copy(update={"frozen_language_model": False})
    assert costmodel.memory_gb(w) < 0.6 * costmodel.memory_gb(full)


def test_llamafactory_with_nothing_left_to_train_leaves_the_method_unread(tmp_path: Path) -> None:
    w = _lf(tmp_path, "freeze_language_model: true\n")
    assert not w.frozen_language_model
    method = w.sources["method"]
    assert method.unread and "no part the config names trains" in (method.note or "") and "None" not in (method.note or "")


def test_llamafactory_training_the_language_model_keeps_full_pricing(tmp_path: Path) -> None:
    # must not fire: the language model trains (the key unset, or false), or an adapter run (not this switch)
    for extra in ("", "freeze_language_model: false\nfreeze_vision_tower: false\n"):
        w = _lf(tmp_path, extra)
        assert w.method == "full" and not w.frozen_language_model and "frozen_language_model" not in w.sources
        assert not w.sources["method"].unread
    w = _lf(tmp_path, "freeze_language_model: true\nfreeze_vision_tower: false\n", ftype="lora")
    assert w.method == "lora" and not w.frozen_language_model


def _w(**kw: object) -> WorkloadConfig:
    base = {"method": "full", "precision": "bf16", "micro_batch_size": 2, "seq_len": 2048}
    base.update(kw)
    return WorkloadConfig(path="a.yaml", format="goblin", model=lookup_model("meta-llama/Meta-Llama-3-8B"), **base)  # type: ignore[arg-type]


def test_a_frozen_language_model_has_no_optimizer_state_and_a_lighter_backward() -> None:
    frozen, full = _w(frozen_language_model=True), _w()
    fparts: dict[str, float] = {}
    costmodel.memory_gb(frozen, fparts)
    parts: dict[str, float] = {}
    costmodel.memory_gb(full, parts)
    assert fparts["grads"] == 0 and fparts["optimizer"] == 0 and fparts["masters"] == 0
    assert parts["grads"] > 0 and parts["optimizer"] > 0
    assert 15 < fparts["weights"] < 17  # 8.03B in bf16: the load dtype, not an fp32 copy
    hw = get_hardware("mi300x")
    assert costmodel.step(frozen, hw).step_s < costmodel.step(full, hw).step_s
    # the Trainer's save writes the whole model's state_dict, frozen weights too (trainer.py:4199-4212@5.25.0), no optimizer
    model, optimizer = costmodel.checkpoint_parts(frozen)
    assert 15 < model < 17 and optimizer == 0


def test_over_hbm_follows_the_frozen_price() -> None:
    # a 70B full fine-tune on one GPU is over HBM; the same model frozen in bf16 (140 GB of weights, no state) fits at a short length
    big = WorkloadConfig(
        path="a.yaml",
        format="goblin",
        model=lookup_model("meta-llama/Meta-Llama-3-70B"),
        method="full",
        precision="bf16",
        micro_batch_size=1,
        seq_len=256,
        gradient_checkpointing=True,
    )
    hw = get_hardware("mi300x")
    assert over_hbm(big, hw) is not None
    assert over_hbm(big.model_copy(update={"frozen_language_model": True}), hw) is None


def test_the_memory_message_says_the_language_model_is_frozen() -> None:
    from pytest_goblin.rules import memory_phrase

    hw = get_hardware("mi300x")
    assert "full (language model frozen) bf16" in memory_phrase(_w(frozen_language_model=True), hw, "headroom_gb")
    assert "language model frozen" not in memory_phrase(_w(), hw, "headroom_gb")


def test_llamafactorys_frozen_language_model_stays_in_the_compute_dtype(tmp_path: Path) -> None:
    # _setup_full_tuning upcasts only the trainable parameters (model/adapter.py:48-54@0.9.5): not the frozen LLM
    w = _lf(tmp_path, "freeze_language_model: true\nfreeze_vision_tower: false\n")
    assert w.weight_dtype == "bf16" and "is not upcast" in (w.sources["weight_dtype"].note or "")
    parts: dict[str, float] = {}
    costmodel.memory_gb(w, parts)
    assert parts["weights"] < 17  # 7.6B in bf16, not 30 GB in fp32
    # must not fire: a full fine-tune of the language model keeps its fp32 upcast
    w = _lf(tmp_path, "")
    assert w.weight_dtype == "fp32"


def test_no_memory_rule_spends_a_headroom_that_leaves_out_the_trained_part() -> None:
    from pytest_goblin.rules import facts

    hw = get_hardware("mi300x")
    assert facts(_w(frozen_language_model=True), hw)["derived.headroom_gb"] is None
    # must not fire: a full fine-tune of the language model has its headroom judged
    assert facts(_w(), hw)["derived.headroom_gb"] is not None


def test_no_larger_micro_batch_is_offered_on_a_frozen_language_model(tmp_path: Path) -> None:
    from pytest_goblin.service import audit_file
    from pytest_goblin.settings import Settings

    (tmp_path / ".git").mkdir()
    path = tmp_path / "lf.yaml"
    path.write_text(LF.format(ftype="full", extra="freeze_language_model: true\nfreeze_multi_modal_projector: false\n"))
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    assert result.report is not None, result.error
    assert not any(e.rule_id == "batch.raise_micro_batch" for e in result.report.patch.edits)
    assert not any(f.rule_id.startswith("memory.") for f in result.report.findings)


def test_the_checkpoint_message_says_why_a_frozen_model_saves_no_optimizer_state() -> None:
    from pytest_goblin.rules import checkpoint_phrase

    hw = get_hardware("mi300x")
    text = checkpoint_phrase(_w(frozen_language_model=True, save_interval=20), hw)
    assert "the language model is frozen: no optimizer state of its own" in text and "save_only_model" not in text
    assert "the language model is frozen" not in checkpoint_phrase(_w(save_interval=20), hw)
