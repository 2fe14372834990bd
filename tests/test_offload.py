"""Host offload and ZeRO stage as the referenced DeepSpeed / FSDP file sets them (issue 23, points 2 and 5)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_goblin import rules as kb
from pytest_goblin.costmodel import memory_gb
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import build_patch

HW = get_hardware("mi300x")
RULE = "memory.cpu_offload_when_it_fits"

LF = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: lora\nlora_target: all\n"
    "deepspeed: {ref}\ndataset: identity\ntemplate: llama3\ncutoff_len: 1024\nper_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: 8\nbf16: true\n# torchrun --nproc_per_node 8\n"
)


def _ds(path: Path, stage: int, *, offload: bool, bf16: bool = True) -> None:
    zero: dict[str, object] = {"stage": stage, "overlap_comm": False}
    if offload:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
        if stage == 3:
            zero["offload_param"] = {"device": "cpu", "pin_memory": True}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"train_batch_size": "auto", "bf16": {"enabled": bf16}, "zero_optimization": zero}, indent=2))


def _patch(tmp_path: Path, ref: str):  # type: ignore[no-untyped-def]
    cfg = tmp_path / "train.yaml"
    cfg.write_text(LF.format(ref=ref))
    loaded = load_config(cfg)
    rules = kb.applicable(loaded.workload, HW, kb.cached_rules())
    assert RULE in {r.id for r in rules}, "the offload rule must fire for an 8B LoRA on 8 x 192 GB"
    return loaded, build_patch(loaded, rules, HW, "p1")


def test_offload_in_referenced_deepspeed_file_is_turned_off_by_naming_the_sibling(tmp_path: Path) -> None:
    """LLaMA-Factory's examples/deepspeed has ds_z3_config.json beside ds_z3_offload_config.json: the
    edit points `deepspeed:` at it, and the patched config reads back as ZeRO-3 without offload."""
    _ds(tmp_path / "ds" / "ds_z3_offload_config.json", 3, offload=True)
    _ds(tmp_path / "ds" / "ds_z3_config.json", 3, offload=False)
    _ds(tmp_path / "ds" / "ds_z2_config.json", 2, offload=False)  # another stage: never chosen
    loaded, patch = _patch(tmp_path, "ds/ds_z3_offload_config.json")
    assert loaded.workload.zero_stage == 3 and loaded.workload.offload_params
    assert RULE in patch.rule_ids and RULE not in patch.skipped
    assert "+deepspeed: ds/ds_z3_config.json" in patch.diff
    assert patch.new_workload.cpu_offload is False and patch.new_workload.zero_stage == 3


def test_offload_in_referenced_file_without_a_sibling_says_where_it_is_set(tmp_path: Path) -> None:
    """No non-offload file of the same stage and precision beside it, and a patch that may not edit
    other files (the command runner's): the skip names the file and the keys to change, not 'no
    setting for cpu_offload'."""
    _ds(tmp_path / "ds" / "zero3_offload.json", 3, offload=True)
    _ds(tmp_path / "ds" / "zero3_fp16.json", 3, offload=False, bf16=False)  # another precision: not a swap
    _ds(tmp_path / "ds" / "zero2.json", 2, offload=False)  # another stage: not a swap
    loaded, _ = _patch(tmp_path, "ds/zero3_offload.json")
    patch = build_patch(loaded, kb.applicable(loaded.workload, HW, kb.cached_rules()), HW, "p1", other_files=False)
    assert not patch.other_files
    why = patch.skipped[RULE]
    assert "no setting for" not in why
    assert "zero3_offload.json" in why and "`zero_optimization.offload_optimizer.device`" in why and "`zero_optimization.offload_param.device`" in why
    assert '"none"' in why and "`deepspeed` (line 6)" in why
    assert "+deepspeed" not in patch.diff


def test_offload_read_from_the_name_of_a_missing_file_says_so(tmp_path: Path) -> None:
    _, patch = _patch(tmp_path, "configs/ds_z3_offload.json")
    why = patch.skipped[RULE]
    assert "no setting for" not in why and "from the name of the file" in why and "`deepspeed`" in why


def test_fsdp_file_offload_params_is_not_read_by_training_arguments(tmp_path: Path) -> None:
    """review12b #35: TrainingArguments offloads FSDP parameters only for `offload` in its `fsdp` string (transformers
    4.40.0 training_args.py:1804-1805); an fsdp_config file's `fsdp_offload_params` moves nothing."""
    (tmp_path / "fsdp.json").write_text(json.dumps({"fsdp_offload_params": True, "fsdp_sharding_strategy": "FULL_SHARD"}))
    cfg = tmp_path / "sft.yaml"
    text = (
        "model_name_or_path: meta-llama/Meta-Llama-3-8B\ndataset_name: trl-lib/Capybara\nper_device_train_batch_size: 1\n"
        "gradient_accumulation_steps: 8\nfsdp: full_shard auto_wrap\nfsdp_config: fsdp.json\nuse_peft: true\nlora_r: 16\n"
        "# torchrun --nproc_per_node 8\n"
    )
    cfg.write_text(text)
    w = load_config(cfg).workload
    assert not w.cpu_offload and not w.offload_params
    assert any("`fsdp_offload_params` in fsdp.json moves nothing to the host" in n for n in w.notes)
    # must-not: `offload` in the fsdp string does offload, whatever the file says
    cfg.write_text(text.replace("fsdp: full_shard auto_wrap", "fsdp: full_shard auto_wrap offload"))
    w = load_config(cfg).workload
    assert w.cpu_offload and w.offload_params and w.sources["cpu_offload"].key == "fsdp"


def test_inline_fsdp_config_offload_params_is_not_read_by_training_arguments(tmp_path: Path) -> None:
    """review12b #35 (llm_decisions configs/llamma_3_70b.yaml): `fsdp: "full_shard"` with `fsdp_config.fsdp_offload_params:
    true` under transformers 4.40.0 offloads nothing: no offload finding, and fused AdamW is offered."""
    cfg = tmp_path / "sft.yaml"
    text = (
        "model_name_or_path: meta-llama/Meta-Llama-3-8B\ndataset_name: trl-lib/Capybara\nper_device_train_batch_size: 1\n"
        "gradient_accumulation_steps: 8\nbf16: true\n"
        'fsdp: "full_shard auto_wrap"\nfsdp_config:\n  fsdp_offload_params: true\n  fsdp_transformer_layer_cls_to_wrap: [LlamaDecoderLayer]\n'
        "# torchrun --nproc_per_node 8\n"
    )
    cfg.write_text(text)
    w = load_config(cfg).workload
    assert not w.cpu_offload and not w.offload_params
    assert any("`fsdp_config.fsdp_offload_params: true` (line 8) moves nothing to the host" in n for n in w.notes)
    assert all("True" not in n for n in w.notes if "moves nothing" in n)
    fired = {r.id for r in kb.applicable(w, HW, kb.cached_rules())}
    assert "memory.cpu_offload_fits_up_to" not in fired
    # must-not: with `offload` in the string the run offloads, and no note says otherwise
    cfg.write_text(text.replace('"full_shard auto_wrap"', '"full_shard auto_wrap offload"'))
    w = load_config(cfg).workload
    assert w.cpu_offload and w.offload_params and not any("moves nothing" in n for n in w.notes)
    # must-not: Axolotl's own fsdp_config is read by Axolotl, and its fsdp_offload_params does offload
    ax = tmp_path / "ax.yaml"
    ax.write_text(
        "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 1\nsequence_len: 2048\nbf16: true\nfsdp:\n  - full_shard\n"
        "  - auto_wrap\nfsdp_config:\n  fsdp_offload_params: true\n  fsdp_transformer_layer_cls_to_wrap: LlamaDecoderLayer\n"
        "datasets:\n  - path: tatsu-lab/alpaca\n    type: alpaca\n"
    )
    assert load_config(ax).workload.cpu_offload


# ---------------------------------------------------------------- ZeRO stage from the file name
def test_stage_from_the_name_of_a_file_that_is_not_there(tmp_path: Path) -> None:
    from pytest_goblin.formats.deepspeed import stage_from_name

    for name, stage in [
        ("zero2.json", 2),
        ("ds_config_zero3.json", 3),
        ("deepspeed_zero_stage2.json", 2),
        ("stage_1.json", 1),
        ("z2_config.json", 2),
        ("ds_z3_offload_config.json", 3),
        ("zero-2.json", 2),
    ]:
        assert stage_from_name(name) == stage, name
    for name in ("ds_config.json", "gpt2z3.json", "zero.json", "llama2_13b.json"):
        assert stage_from_name(name) is None, name
    cfg = tmp_path / "train.yaml"
    cfg.write_text(LF.format(ref="configs/deepspeed_zero_stage2.json"))
    w = load_config(cfg).workload
    assert w.zero_stage == 2 and "file name" in (w.sources["zero_stage"].note or "")
    assert any("ZeRO stage 2 read from the file name" in n for n in w.notes)


def test_stage_without_content_or_name_is_said_to_be_assumed(tmp_path: Path) -> None:
    (tmp_path / "ds_config.json").write_text(json.dumps({"zero_optimization": {"stage": "auto"}}))
    cfg = tmp_path / "train.yaml"
    cfg.write_text(LF.format(ref="ds_config.json"))
    w = load_config(cfg).workload
    assert w.zero_stage is None
    assert any("ZeRO stage unknown" in n and "assumes ZeRO-3" in n for n in w.notes)
    note = kb.memory_phrase(w, HW)
    assert "ZeRO-3 (stage unknown: assumed)" in note
    # must-not: a file that states its stage is read, not the name
    (tmp_path / "zero2.json").write_text(json.dumps({"zero_optimization": {"stage": 3}}))
    cfg.write_text(LF.format(ref="zero2.json"))
    w3 = load_config(cfg).workload
    assert w3.zero_stage == 3 and "file name" not in (w3.sources["zero_stage"].note or "")
    assert not any("None" in n for n in w.notes)


def test_a_file_that_sets_no_stage_runs_deepspeeds_default_stage_0(tmp_path: Path) -> None:
    """Review 7b #30: a read DeepSpeed file without `zero_optimization` (or without its `stage`) is ZeRO off, DeepSpeed's
    own default (v0.19.5 deepspeed/runtime/zero/config.py:71-78, :95), not an unknown stage taken as ZeRO-3."""
    cfg = tmp_path / "train.yaml"
    for data, said in (({"fp16": {"enabled": True}}, "no zero_optimization block"), ({"zero_optimization": {"overlap_comm": True}}, "sets no stage")):
        (tmp_path / "ds.config").write_text(json.dumps(data))
        cfg.write_text(LF.format(ref="ds.config"))
        w = load_config(cfg).workload
        assert w.zero_stage == 0
        assert any(said in n and "stage 0" in n for n in w.notes)
        assert "ZeRO-3" not in kb.memory_phrase(w, HW)


# ---------------------------------------------------------------- offload as each framework does it
def _fsdp_full(tmp_path: Path, offload: str) -> Path:
    cfg = tmp_path / "full.yaml"
    cfg.write_text(
        "model_name_or_path: meta-llama/Llama-2-70b-hf\ndataset_name: trl-lib/Capybara\nper_device_train_batch_size: 1\n"
        f"gradient_accumulation_steps: 8\nmax_length: 2048\nbf16: true\ngradient_checkpointing: true\nfsdp: full_shard auto_wrap{offload}\n"
        "fsdp_config:\n  backward_prefetch: backward_pre\n# torchrun --nproc_per_node 8\n"
    )
    return cfg


def test_fsdp_offload_params_moves_parameters_and_gradients_off_the_gpu(tmp_path: Path) -> None:
    """torch 2.13.0 api.py:235-238: FSDP1 offload_params puts parameters and gradients on the host and
    steps the optimizer there. A 70B full fine-tune on 8 GPUs keeps about one layer's gathered weights."""
    off = load_config(_fsdp_full(tmp_path, " offload")).workload
    on_gpu = load_config(_fsdp_full(tmp_path, "")).workload
    assert off.cpu_offload and off.offload_params and not on_gpu.cpu_offload
    gb_off, gb_on = memory_gb(off), memory_gb(on_gpu)
    # sharded weights (70e9*2/8 = 17.5 GB) and fp32 gradient shards (35 GB) leave the GPU
    assert gb_off < gb_on - 40, (gb_off, gb_on)
    assert gb_off < 20, gb_off
    # must-not: DeepSpeed's optimizer-only offload keeps the parameter and gradient shards on the GPU
    opt_only = off.model_copy(update={"offload_params": False})
    assert memory_gb(opt_only) > gb_off + 40


def test_deepspeed_offload_param_vs_offload_optimizer(tmp_path: Path) -> None:
    _ds(tmp_path / "z3_opt.json", 3, offload=False)
    data = json.loads((tmp_path / "z3_opt.json").read_text())
    data["zero_optimization"]["offload_optimizer"] = {"device": "cpu"}
    (tmp_path / "z3_opt.json").write_text(json.dumps(data))
    _ds(tmp_path / "z3_both.json", 3, offload=True)
    cfg = tmp_path / "train.yaml"
    cfg.write_text(LF.format(ref="z3_opt.json"))
    opt = load_config(cfg).workload
    cfg.write_text(LF.format(ref="z3_both.json"))
    both = load_config(cfg).workload
    assert opt.cpu_offload and not opt.offload_params
    assert both.cpu_offload and both.offload_params
    assert memory_gb(both) < memory_gb(opt)


def test_a_file_named_offload_that_offloads_nothing_reads_as_no_offload(tmp_path: Path) -> None:
    """The content wins over the name: `zero3_offload.json` with every device "none" does not offload."""
    path = tmp_path / "zero3_offload.json"
    path.write_text(json.dumps({"zero_optimization": {"stage": 3, "offload_optimizer": {"device": "none"}, "offload_param": {"device": "none"}}}))
    cfg = tmp_path / "train.yaml"
    cfg.write_text(LF.format(ref="zero3_offload.json"))
    w = load_config(cfg).workload
    assert w.zero_stage == 3 and w.cpu_offload is False and not w.offload_params
    # must-not: a file that is not there keeps the name's offload
    cfg.write_text(LF.format(ref="gone/zero3_offload.json"))
    assert load_config(cfg).workload.cpu_offload is True
