"""DeepSpeed `offload_param` below ZeRO-3 (review13b #21): the engine hands the ZeRO-1/2 optimizer only the
`offload_optimizer` block (DeepSpeed v0.19.5 engine.py:2338-2371; stage_1_and_2.py:184-189), so parameter offload
there moves nothing and is not priced (formats.base.ignored_param_offload). At ZeRO-3 the parameter fetches are
priced per micro-batch (costmodel._param_fetch_s); optimizer-only offload is read as before."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin.costmodel import _param_fetch_s, memory_gb, nominal_for, step
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.modelzoo import estimate_shape
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo

HW = get_hardware("mi300x")

LF = (
    "model_name_or_path: meta-llama/Llama-2-7b-hf\nstage: sft\ndo_train: true\nfinetuning_type: full\n"
    "deepspeed: ds.json\ndataset: identity\ntemplate: llama2\ncutoff_len: 1024\nper_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: {ga}\nbf16: true\n# torchrun --nproc_per_node 8\n"
)


def _workload(tmp_path: Path, *, stage: int, param: bool, optimizer: bool, ga: int = 1) -> WorkloadConfig:
    zero: dict[str, object] = {"stage": stage}
    if optimizer:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
    if param:
        zero["offload_param"] = {"device": "cpu", "pin_memory": True}
    ds = json.dumps({"zero_optimization": zero, "bf16": {"enabled": True}}, indent=2)
    root = repo(tmp_path / f"s{stage}p{int(param)}o{int(optimizer)}g{ga}", {"train.yaml": LF.format(ga=ga), "ds.json": ds})
    return load_config(root / "train.yaml").workload


def _said(w: WorkloadConfig) -> list[str]:
    return [n for n in w.notes if "`offload_param`" in n and "is ignored" in n]


def test_offload_param_at_stage_2_is_not_priced(tmp_path: Path) -> None:
    both = _workload(tmp_path, stage=2, param=True, optimizer=True)
    opt = _workload(tmp_path, stage=2, param=False, optimizer=True)
    assert both.cpu_offload and not both.offload_params
    said = _said(both)
    assert said and "ZeRO stage 2" in said[0] and "ds.json:" in said[0] and "None" not in said[0] and "optimizer offload is priced alone" in said[0]
    # priced exactly as the optimizer-only file: the parameters and their memory stay on the GPU
    assert step(both, HW).step_s == step(opt, HW).step_s and _param_fetch_s(both, estimate_shape(both.model), nominal_for(HW)) == 0.0
    assert memory_gb(both) == memory_gb(opt)


def test_offload_param_alone_at_stage_1_offloads_nothing(tmp_path: Path) -> None:
    w = _workload(tmp_path, stage=1, param=True, optimizer=False)
    assert not w.cpu_offload and not w.offload_params
    assert "nothing is offloaded" in _said(w)[0]
    plain = _workload(tmp_path, stage=1, param=False, optimizer=False)
    assert step(w, HW).step_s == step(plain, HW).step_s


def test_offload_param_at_stage_3_is_priced_per_micro_batch(tmp_path: Path) -> None:
    """must-not: ZeRO-3 keeps parameter offload, and its host->GPU fetches repeat every micro-batch."""
    one = _workload(tmp_path, stage=3, param=True, optimizer=True, ga=1)
    four = _workload(tmp_path, stage=3, param=True, optimizer=True, ga=4)
    assert one.offload_params and one.cpu_offload and not _said(one)
    fetch = _param_fetch_s(one, estimate_shape(one.model), nominal_for(HW))
    assert fetch > 0 and _param_fetch_s(four, estimate_shape(four.model), nominal_for(HW)) == fetch
    opt3 = _workload(tmp_path, stage=3, param=False, optimizer=True, ga=4)
    # the four micro-batches each fetch the parameters: four fetches in the step beyond the optimizer-only run's
    extra = step(four, HW).parts["memory_bound"] - step(opt3, HW).parts["memory_bound"]
    assert abs(extra - 4 * fetch) < 1e-9 * extra
    assert _param_fetch_s(opt3, estimate_shape(opt3.model), nominal_for(HW)) == 0.0


def test_optimizer_only_offload_is_read_as_before(tmp_path: Path) -> None:
    """must-not: no offload_param, no note, no change at any stage."""
    for stage in (1, 2, 3):
        w = _workload(tmp_path, stage=stage, param=False, optimizer=True)
        assert w.cpu_offload and not w.offload_params and not _said(w)
