"""FSDP SHARD_GRAD_OP with `offload_params` (task offload36): the parameter shards live on the host and are copied
up for each all-gather, and SHARD_GRAD_OP keeps every unit gathered from its forward to its backward (torch 2.13.0
torch/distributed/fsdp/_runtime_utils.py:496-500; _fully_shard/_fsdp_param_group.py:375-376). Memory holds the whole
gathered model at the backward's start; time pays one shard copy per micro-batch (`costmodel._param_fetch_s`), where
before memory moved the parameters to the host and time charged no copy."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.costmodel import _param_fetch_s, memory_gb, nominal_for, step
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.modelzoo import estimate_shape
from pytest_goblin.schemas import WorkloadConfig

HW = get_hardware("mi300x")


def _workload(tmp_path: Path, fsdp: str, name: str) -> WorkloadConfig:
    cfg = tmp_path / name / "sft.yaml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(
        "model_name_or_path: meta-llama/Meta-Llama-3-8B\ndataset_name: trl-lib/Capybara\nper_device_train_batch_size: 1\n"
        f"gradient_accumulation_steps: 4\nbf16: true\nfsdp: {fsdp}\n# torchrun --nproc_per_node 8\n"
    )
    return load_config(cfg).workload


def test_grad_op_parameter_offload_fetches_once_a_micro_batch_and_holds_the_gathered_model(tmp_path: Path) -> None:
    w = _workload(tmp_path, "shard_grad_op auto_wrap offload", "gop")
    assert w.sharding == "grad_op" and w.cpu_offload and w.offload_params
    a = nominal_for(HW)
    shape = estimate_shape(w.model)
    fetch = _param_fetch_s(w, shape, a)
    assert fetch > 0
    full = _workload(tmp_path, "full_shard auto_wrap offload", "full")
    # one copy of the rank's shard (the forward's) where full sharding copies it for the forward and the backward
    assert abs(_param_fetch_s(full, shape, a) - 2 * fetch) < 1e-9
    # the whole model in bf16 stays gathered from forward to backward: at least 2 bytes a parameter
    assert memory_gb(w) >= (shape.params_b or 0) * 2 and memory_gb(w) > memory_gb(full) + 10
    kept = _workload(tmp_path, "shard_grad_op auto_wrap", "kept")
    # each of the four micro-batches pays the copy: the offloaded step is slower by at least the four fetches
    assert step(w, HW).parts["memory_bound"] - step(kept, HW).parts["memory_bound"] >= 4 * fetch * (1 - 1e-9)


def test_grad_op_without_parameter_offload_fetches_nothing(tmp_path: Path) -> None:
    """must-not: SHARD_GRAD_OP with the parameters on the GPU copies nothing from the host, and its memory is as before."""
    w = _workload(tmp_path, "shard_grad_op auto_wrap", "plain")
    assert w.sharding == "grad_op" and not w.offload_params
    assert _param_fetch_s(w, estimate_shape(w.model), nominal_for(HW)) == 0.0
    single = w.model_copy(update={"world_size": 1, "cpu_offload": True, "offload_params": True})
    assert _param_fetch_s(single, estimate_shape(w.model), nominal_for(HW)) == 0.0
