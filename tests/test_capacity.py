"""The GPU memory every fit check compares with: decimal GB, as the device reports it where a source gives
the bytes (kb/hardware.yaml `reported_bytes`), else the vendor's label (issues 25/23: the labels 192 and 80
are GiB, and `costmodel.memory_gb` counts bytes / 1e9, so comparing with the label was ~7% strict)."""

from __future__ import annotations

import pytest

from pytest_goblin import costmodel
from pytest_goblin.hardware import capacity_gb, capacity_phrase, get_hardware, match_target
from pytest_goblin.modelzoo import lookup_model
from pytest_goblin.rules import facts, over_hbm
from pytest_goblin.schemas import WorkloadConfig

MI300X = get_hardware("mi300x")
# what every check used before: the 192 GB label read as decimal GB
LABEL_ONLY = MI300X.model_copy(update={"reported_bytes": None})


def _workload() -> WorkloadConfig:
    return WorkloadConfig(path="x.yaml", format="goblin", model=lookup_model("meta-llama/Meta-Llama-3-8B"), world_size=8)


def test_reported_sizes_are_the_cited_bytes_and_the_rest_keep_their_label() -> None:
    # rocminfo pool 201310208 KB; nvidia-smi 81559 MiB (docs/research/gpu-memory-bytes.md)
    assert MI300X.reported_bytes == 201310208 * 1024 and capacity_gb(MI300X) == pytest.approx(206.14, abs=0.01)
    h100 = get_hardware("h100")
    assert h100.reported_bytes == 81559 * 1024 * 1024 and capacity_gb(h100) == pytest.approx(85.52, abs=0.01)
    for gpu in ("mi325x", "mi355x", "mi250x", "mi210"):
        hw = get_hardware(gpu)
        assert hw.reported_bytes is None and capacity_gb(hw) == hw.hbm_gb and capacity_phrase(hw) == f"{hw.hbm_gb:g} GB"


def test_the_phrase_names_the_label_where_the_two_differ() -> None:
    assert capacity_phrase(MI300X) == "206 GB (MI300X's 192 GiB label)"
    assert capacity_phrase(get_hardware("h100")) == "86 GB (H100's 80 GiB label)"
    assert capacity_phrase(LABEL_ONLY) == "192 GB"


@pytest.mark.parametrize(("projected", "over_now", "over_at_the_label"), [(200.0, False, True), (210.0, True, True), (190.0, False, False)])
def test_a_projection_between_the_label_and_the_reported_size_fits(
    monkeypatch: pytest.MonkeyPatch, projected: float, over_now: bool, over_at_the_label: bool
) -> None:
    monkeypatch.setattr(costmodel, "memory_gb", lambda *_a, **_k: projected)
    w = _workload()
    assert (over_hbm(w, MI300X) is not None) is over_now
    assert (over_hbm(w, LABEL_ONLY) is not None) is over_at_the_label
    headroom = facts(w, MI300X, host={})["derived.headroom_gb"]
    assert headroom == pytest.approx(206.141652992 - projected) and (headroom < 0) is over_now
    if over_now:
        why = over_hbm(w, MI300X) or ""
        assert f"{projected:.0f} GB per GPU of 206 GB (MI300X's 192 GiB label)" in why and "None" not in why


def test_a_detected_gpu_matches_by_its_reported_size() -> None:
    assert match_target("gfx942", 206.14) == "mi300x"
    assert match_target("gfx942", 256.0) == "mi325x"
