"""Sliding-window attention (`attention_window`, costmodel.attended_keys): under `flash` a query attends to at
most W keys, so the attention term shrinks from length / 2 keys a query to W - W(W-1) / (2 length); other
kernels, and a window no shorter than the sample, keep the causal count."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.costmodel import attended_keys, nominal_for, step
from pytest_goblin.errors import ConfigError
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware

MI300X = get_hardware("mi300x")
A = nominal_for(MI300X)


def _config(tmp_path: Path, extra: str, name: str = "job.yaml") -> Path:
    path = tmp_path / name
    path.write_text(
        "goblin: 1\nmodel: mistralai/Mistral-7B-v0.1\nmethod: full\nprecision: bf16\nseq_len: 8192\n"
        f"micro_batch_size: 3\nattention: flash\nsample_packing: true\ntorch_compile: true\n{extra}"
    )
    return path


def test_window_under_flash_prices_only_the_band(tmp_path: Path) -> None:
    full = load_config(_config(tmp_path, "", "full.yaml")).workload
    windowed = load_config(_config(tmp_path, "attention_window: 1024\n", "windowed.yaml")).workload
    assert windowed.attention_window == 1024
    assert attended_keys(windowed, 8192) == pytest.approx(1024 - 1024 * 1023 / (2 * 8192))
    ratio = step(windowed, MI300X, A).parts["attention"] / step(full, MI300X, A).parts["attention"]
    assert ratio == pytest.approx((1024 - 1024 * 1023 / 16384) / 4096)
    # the GEMMs do not move
    assert step(windowed, MI300X, A).parts["compute"] == pytest.approx(step(full, MI300X, A).parts["compute"])


@pytest.mark.parametrize(
    "extra",
    [
        "attention_window: 8192\n",  # no shorter than the sample: full causal
        "attention_window: 1024\nattention: sdpa\n",  # a dense mask: SDPA runs the whole causal product
        "attention_window: 1024\nattention: eager\n",
    ],
)
def test_window_not_priced_where_the_kernel_runs_the_whole_product(tmp_path: Path, extra: str) -> None:
    text = _config(tmp_path, extra).read_text()
    if "attention: sdpa" in extra or "attention: eager" in extra:  # the later key would clash: write one attention
        text = text.replace("attention: flash\n", "")
    path = tmp_path / "other.yaml"
    path.write_text(text)
    w = load_config(path).workload
    plain = w.model_copy(update={"attention_window": None})
    assert attended_keys(w, 8192) == 4096
    assert step(w, MI300X, A).step_s == pytest.approx(step(plain, MI300X, A).step_s)


def test_window_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, "attention_window: 0\n", "bad.yaml"))
    assert "attention_window" in str(info.value) and "bad.yaml" in str(info.value)
