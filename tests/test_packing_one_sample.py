"""packing.sample_packing's premise is pad tokens: a micro-batch of one sample, padded to its own length, has none
(review11b #35: tatsu-lab/alpaca_farm examples/supervised.py at `--per_device_train_batch_size 1`)."""

from __future__ import annotations

from pytest_goblin import hardware
from pytest_goblin import rules as kb

from .test_kb import _case


def _fires(**over: object) -> bool:
    w, target, _host = _case({"sample_packing": False, **over})
    return "packing.sample_packing" in {r.id for r in kb.applicable(w, hardware.get_hardware(target), kb.cached_rules())}


def test_packing_is_proposed_at_a_micro_batch_of_several_samples() -> None:
    assert _fires(micro_batch_size=2, gradient_accumulation=8)


def test_packing_is_not_proposed_at_a_micro_batch_of_one_sample() -> None:
    assert not _fires(micro_batch_size=1, gradient_accumulation=16)
