"""Online RL runs get no memory facts (rules.facts), so CPU offload of a training state that fits went unreported
(issue 24, review5 #20 QingyangZhang/EMPO: ZeRO-3 offloading a 3B GRPO run's parameters and optimizer over 6 GPUs).
rollout.offload_message bounds the state (weights, masters, gradients, optimizer, a reference copy, a colocated
vLLM's reservation) and reports the offload where that takes at most half the GPU, the verdict staying inconclusive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_goblin.options import build_settings
from pytest_goblin.rollout import OFFLOAD_ID
from pytest_goblin.service import audit_file

from .repo_files import write_tree

DS_OFFLOAD = '{"zero_optimization": {"stage": 3, "offload_optimizer": {"device": "cpu"}, "offload_param": {"device": "cpu"}}, "bf16": {"enabled": "auto"}}\n'
DS_NO_OFFLOAD = '{"zero_optimization": {"stage": 3}, "bf16": {"enabled": "auto"}}\n'


def _grpo(model: str = "Qwen/Qwen2.5-3B", gpus: int = 6, trl: str = "0.14.0", extra: str = "", ds: str = "ds.json") -> str:
    return (
        f"# accelerate launch --num_processes {gpus} -m trl.scripts.grpo --config grpo.yaml\n# pip install trl=={trl}\n"
        f"model_name_or_path: {model}\ntorch_dtype: bfloat16\nbf16: true\nuse_vllm: true\nper_device_train_batch_size: 1\n"
        f"gradient_accumulation_steps: 16\nnum_generations: 6\nmax_prompt_length: 1024\nmax_completion_length: 1024\n"
        f"gradient_checkpointing: true\ndeepspeed: {ds}\n{extra}"
    )


def _audit(tmp: Path, text: str, ds: str = DS_OFFLOAD) -> Any:
    path = write_tree(tmp, {"ds.json": ds, "grpo.yaml": text}) / "grpo.yaml"
    result = audit_file(path, build_settings({"target": "mi300x"}), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


def _offload(report: Any) -> list[Any]:
    return [f for f in report.findings if f.rule_id == OFFLOAD_ID]


def test_offload_of_a_state_that_fits_is_reported_with_its_arithmetic(tmp_path: Path) -> None:
    report = _audit(tmp_path, _grpo())
    found = _offload(report)
    assert len(found) == 1, [f.rule_id for f in report.findings]
    msg = found[0].message
    # the config's own keys and the DeepSpeed file's, the sharding and the state's parts, the TRL default beta's reference copy
    assert "`zero_optimization.offload_param.device`, ds.json line 1" in msg
    assert "DeepSpeed ZeRO-3 over 6 GPUs" in msg and "3.09B parameters" in msg
    assert "a reference copy" in msg and "beta 0.04" in msg and "grpo_config.py" in msg
    assert "vLLM on a GPU of its own (trl 0.14.0" in msg
    assert "None" not in msg
    # the online RL verdict stays inconclusive, never a PASS
    assert report.inconclusive is not None and report.verdict != "pass"


def test_a_colocated_vllm_reservation_is_counted(tmp_path: Path) -> None:
    report = _audit(tmp_path, _grpo(trl="0.29.0", extra="vllm_mode: colocate\nvllm_gpu_memory_utilization: 0.3\n"))
    found = _offload(report)
    assert found and "a colocated vLLM's reservation 61.8 GB (vllm_gpu_memory_utilization 0.3" in found[0].message
    assert "reference copy" not in found[0].message  # beta's default is 0.0 at trl 0.29.0


@pytest.mark.parametrize(
    ("text", "ds"),
    [
        # 72B over 2 GPUs: weights, masters, gradients and AdamW are far over half of 192 GB without the offload
        (_grpo(model="Qwen/Qwen2.5-72B", gpus=2), DS_OFFLOAD),
        # a colocated vLLM whose reservation is too large: over half the GPU with the state
        (_grpo(trl="0.29.0", extra="vllm_mode: colocate\nvllm_gpu_memory_utilization: 0.6\n"), DS_OFFLOAD),
        # trl 0.14 with vLLM placed on a training GPU (allowed with a warning): its memory is not bounded
        (_grpo(extra="vllm_device: cuda:0\n"), DS_OFFLOAD),
        # no offload: nothing to report
        (_grpo(), DS_NO_OFFLOAD),
        # a model goblin only guesses the shape of
        (_grpo(model="someone/custom-rl-model"), DS_OFFLOAD),
    ],
)
def test_offload_is_not_called_waste_where_the_state_is_not_bounded_or_does_not_fit(tmp_path: Path, text: str, ds: str) -> None:
    assert _offload(_audit(tmp_path, text, ds)) == []
