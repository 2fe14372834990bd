"""A memory message says the weights' dtype it rests on as the config's own, or as assumed and from what (issue 23,
class 5): never a bare "fp32" where the config sets no dtype and the checkpoint's is unknown."""

from __future__ import annotations

from pytest_goblin.costmodel import weights_phrase
from pytest_goblin.hardware import get_hardware
from pytest_goblin.modelzoo import lookup_model
from pytest_goblin.rules import memory_phrase, over_hbm
from pytest_goblin.schemas import FieldSource, WorkloadConfig


def _w(**kw: object) -> WorkloadConfig:
    model = lookup_model("meta-llama/Meta-Llama-3-8B")
    if "checkpoint_dtype" in kw:
        model = model.model_copy(update={"checkpoint_dtype": kw.pop("checkpoint_dtype")})
    return WorkloadConfig(path="a.yaml", format="goblin", model=model, **kw)  # type: ignore[arg-type]


def test_an_unknown_dtype_under_mixed_precision_is_said_assumed_with_its_masters() -> None:
    text = weights_phrase(_w(method="full", precision="bf16"))
    assert text.startswith("bf16 with fp32 masters (assumed from mixed precision")
    assert "the checkpoint's dtype is unknown" in text


def test_fp32_weights_are_said_as_an_assumption_and_what_from() -> None:
    text = weights_phrase(_w(method="full", precision="fp32"))
    assert text.startswith("fp32 (assumed from precision fp32: the config sets no weight dtype")


def test_the_checkpoints_recorded_dtype_is_named_beside_the_assumption() -> None:
    text = weights_phrase(_w(method="full", precision="fp32", checkpoint_dtype="bf16"))
    assert "(assumed" in text and "the checkpoint's config.json records bf16" in text


def test_an_unread_load_dtype_says_so() -> None:
    src = FieldSource(file="train.py", key=None, line=3, explicit=False, unread=True, note="checkpoint dtype unknown")
    text = weights_phrase(_w(method="full", precision="bf16", sources={"weight_dtype": src}))
    assert "(assumed: the checkpoint's dtype is unknown)" in text


def test_a_frozen_base_and_a_quantized_base_are_not_called_fp32() -> None:
    assert weights_phrase(_w(method="lora", precision="bf16")).startswith("bf16 (assumed from a frozen base")
    assert weights_phrase(_w(method="qlora", precision="bf16", quantization="4bit")) == "4-bit (quantized base)"


def test_a_dtype_the_config_sets_is_said_plainly() -> None:
    # must not fire: the config's own dtype is no assumption
    assert weights_phrase(_w(method="full", precision="bf16", weight_dtype="bf16")) == "bf16"
    assert (
        "assumed"
        not in memory_phrase(_w(method="full", precision="bf16", weight_dtype="bf16"), get_hardware("mi300x"), "headroom_gb")
        .split("weights in ")[1]
        .split(",")[0]
    )


def test_over_hbm_says_the_weights_it_priced_and_that_they_are_assumed() -> None:
    big = _w(method="full", precision="bf16", micro_batch_size=64, seq_len=8192)
    text = over_hbm(big, get_hardware("mi300x"))
    assert text is not None and "weights in bf16 with fp32 masters (assumed from mixed precision" in text
    assert "weights in fp32" not in text
    stated = over_hbm(big.model_copy(update={"weight_dtype": "bf16"}), get_hardware("mi300x"))
    assert stated is not None and "weights in bf16:" in stated and "assumed from" not in stated


def test_a_checkpoint_message_names_fp32_masters_only_where_they_are_priced() -> None:
    from pytest_goblin.rules import checkpoint_phrase

    hw = get_hardware("mi300x")
    mixed = checkpoint_phrase(_w(method="full", precision="bf16", save_interval=20), hw)
    assert "the model's weights in bf16 with fp32 masters (assumed from mixed precision" in mixed and "optimizer state and fp32 masters" in mixed
    pure = checkpoint_phrase(_w(method="full", precision="fp32", weight_dtype="fp32", save_interval=20), hw)
    assert "fp32 masters" not in pure and "the model's weights in fp32 and" in pure
