"""Less sharding on one node (issue 24 class 3): ZeRO-3 / FSDP FULL_SHARD on a model whose whole training
state fits one GPU with room to spare -> ZeRO-2 / SHARD_GRAD_OP, with the communication the cost model
says it saves; never on several nodes (distributed.hierarchical_sharding_across_nodes's), never where
the world size is assumed, and distributed.ddp_when_model_fits stays silent where it speaks."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin import rules as kb
from pytest_goblin.costmodel import lower_stage, memory_gb, step
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.modelzoo import lookup_model
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo

HW = get_hardware("mi300x")
RULE = "distributed.lower_stage_when_state_fits"
DDP = "distributed.ddp_when_model_fits"
HIER = "distributed.hierarchical_sharding_across_nodes"
LF = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: lora\nlora_target: all\n"
    "{dist}\ndataset: identity\ntemplate: llama3\ncutoff_len: 512\nper_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: 4\nbf16: true\n{launch}\n"
)
Z3 = {"zero_optimization": {"stage": 3, "overlap_comm": True}, "bf16": {"enabled": True}}


def _fired(root: Path, name: str = "train.yaml") -> tuple[WorkloadConfig, dict[str, str]]:
    w = load_config(root / name).workload
    return w, {r.id: kb.render_finding(r, w, HW) for r in kb.applicable(w, HW, kb.cached_rules())}


def test_zero3_on_one_node_whose_state_fits_is_told_zero2_with_the_projection(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {"ds/z3.json": json.dumps(Z3, indent=2), "train.yaml": LF.format(dist="deepspeed: ds/z3.json", launch="# torchrun --nproc_per_node 8 train.py")},
    )
    w, fired = _fired(root)
    assert w.zero_stage == 3 and w.world_size == 8
    assert RULE in fired and DDP not in fired and HIER not in fired
    # the same run pipelined over 2 stages: the lower stage is priced for pure data parallelism, so not offered
    piped = w.model_copy(update={"pipeline_parallel": 2})
    assert RULE not in {r.id for r in kb.applicable(piped, HW, kb.cached_rules())}
    msg = fired[RULE]
    low = lower_stage(w, HW, HW.hbm_gb - 40)
    assert low is not None and low.speedup >= 1.05 and low.unsharded_gb < 40
    assert f"projected {low.speedup:.2f}x" in msg and "ZeRO-2 (whole parameters on every GPU" in msg
    assert "Set `zero_optimization.stage` to 2 in z3.json (`deepspeed: ds/z3.json`)" in msg
    assert "(no sharding at all, DDP:" in msg and "None" not in msg and "4 micro-batches" in msg


def test_not_on_two_nodes_nor_on_an_assumed_world_size(tmp_path: Path) -> None:
    two = repo(
        tmp_path / "two",
        {"ds/z3.json": json.dumps(Z3), "train.yaml": LF.format(dist="deepspeed: ds/z3.json", launch="# torchrun --nnodes 2 --nproc_per_node 8 train.py")},
    )
    w, fired = _fired(two)
    assert w.nodes == 2 and RULE not in fired  # several nodes: the hierarchical rule's, never this one
    assumed = repo(tmp_path / "assumed", {"ds/z3.json": json.dumps(Z3), "train.yaml": LF.format(dist="deepspeed: ds/z3.json", launch="")})
    w, fired = _fired(assumed)
    assert not w.sources["world_size"].explicit and RULE not in fired


def test_fsdp_full_shard_is_told_shard_grad_op_and_shard_grad_op_is_not(tmp_path: Path) -> None:
    cfg = (
        "model_name_or_path: meta-llama/Meta-Llama-3-8B\ndataset_name: trl-lib/Capybara\nper_device_train_batch_size: 1\n"
        "gradient_accumulation_steps: 4\nmax_length: 256\nbf16: true\ngradient_checkpointing: true\nfsdp: {fsdp} auto_wrap\n"
        "use_peft: true\nlora_r: 16\n# torchrun --nproc_per_node 8 sft.py\n"
    )
    root = repo(tmp_path, {"sft.yaml": cfg.format(fsdp="full_shard")})
    _, fired = _fired(root, "sft.yaml")
    assert RULE in fired and "SHARD_GRAD_OP (parameters gathered once per micro-batch" in fired[RULE]
    assert "`fsdp: shard_grad_op auto_wrap`" in fired[RULE]
    (root / "sft.yaml").write_text(cfg.format(fsdp="shard_grad_op"))
    w, fired = _fired(root, "sft.yaml")
    assert w.sharding == "grad_op" and RULE not in fired


def _w(**update: object) -> WorkloadConfig:
    base = WorkloadConfig(
        path="x.yaml",
        format="hf-trainer",
        model=lookup_model("meta-llama/Meta-Llama-3-8B"),
        method="full",
        strategy="deepspeed",
        zero_stage=3,
        world_size=8,
        nodes=1,
        gpus_per_node=8,
        micro_batch_size=1,
        gradient_accumulation=1,
        seq_len=512,
        gradient_checkpointing=True,
    )
    return base.model_copy(update=update)


def test_cost_model_charges_zero2_and_shard_grad_op_as_their_frameworks_run_them() -> None:
    """ZeRO-2 reduce-scatters gradients on every micro-batch (DeepSpeed 0.19.6 stage_1_and_2.py:1767-1768),
    ZeRO-1 only at the accumulation boundary; SHARD_GRAD_OP holds whole parameters through the backward
    and gathers them once per micro-batch (torch 2.13.0 fsdp/api.py:43-49)."""
    z1 = [step(_w(zero_stage=1, gradient_accumulation=ga), HW).parts["communication"] for ga in (1, 8)]
    z2 = [step(_w(zero_stage=2, gradient_accumulation=ga), HW).parts["communication"] for ga in (1, 8)]
    assert z1[1] == z1[0]  # once per optimizer step
    assert z2[1] > 4 * z2[0]  # every micro-batch
    full = _w(strategy="fsdp", zero_stage=None)
    grad_op = full.model_copy(update={"sharding": "grad_op"})
    assert memory_gb(grad_op) > memory_gb(full) + 10  # 8B parameters held whole (bf16: 16 GB) instead of 1/8
    assert step(grad_op, HW).parts["communication"] < step(full, HW).parts["communication"]
    # must-not: several nodes, or an unsharded state over the limit, give no lower stage
    assert lower_stage(_w(world_size=16, nodes=2), HW, 152) is None
    assert lower_stage(_w(model=lookup_model("meta-llama/Llama-3.1-70B")), HW, 152) is None


def test_ddp_advice_does_not_promise_freed_memory(tmp_path: Path) -> None:
    # launch32 / review12b #35: a 70B LoRA under FSDP on 8 MI300X; DDP holds the whole bf16 model on every GPU,
    # so switching frees communication time but costs memory: the advice must not say it frees memory
    cfg = (
        "model_name_or_path: meta-llama/Meta-Llama-3-70B\ndataset_name: trl-lib/Capybara\nper_device_train_batch_size: 1\n"
        "max_length: 512\nbf16: true\ndtype: bfloat16\ngradient_checkpointing: true\nfsdp: full_shard auto_wrap\n"
        "use_peft: true\nlora_r: 16\n# torchrun --nproc_per_node 8 sft.py\n"
    )
    root = repo(tmp_path, {"sft.yaml": cfg})
    w = load_config(root / "sft.yaml").workload
    rule = next(r for r in kb.cached_rules() if r.id == DDP)
    msg = kb.render_finding(rule, w, HW)
    assert "more memory than sharding, not less" in msg and "time and memory" not in msg
    assert "Memory: projected" in msg and "unsharded (DDP)" in msg and "None" not in msg
