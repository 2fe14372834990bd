"""Issue 24/25 (data7): no number a finding rests on without a stated basis. Every numeric premise of a KB rule
(a threshold other than 0/1) is listed here with what it rests on: `source` (a cited figure or a framework
default), `bar` (goblin's own materiality bar on its projection, said as such) or `assumption`. A new numeric
premise fails this test until it is listed; a listed one that is gone fails it too. The projection's factors are
held to the same by tests/test_loso.py (docs/projection.md's parameters table: kind and source per factor)."""

from __future__ import annotations

from pytest_goblin import rules as kb

# rule id, fact -> (kind, basis)
CENSUS: dict[tuple[str, str], tuple[str, str]] = {
    ("attention.sdpa_math_fallback", "seq_len"): ("source", "unsloth #8821: MATH 11.8x slower at 4k tokens (the rule's source_figure)"),
    ("batch.raise_micro_batch", "micro_batch_size"): ("bar", "micro-batches of 4 or fewer; no measured knee"),
    ("batch.raise_micro_batch", "derived.tokens_per_micro_batch"): ("bar", "8192 tokens per micro-batch; no measured knee"),
    ("batch.raise_micro_batch", "gradient_accumulation"): ("bar", "accumulation to trade (2+): arithmetic, not a figure"),
    ("comm.high_priority_rccl_streams", "derived.comm_share"): ("bar", "5% of the projected step in exposed collectives"),
    ("comm.rccl_min_channels", "derived.comm_share"): ("bar", "5% of the projected step in exposed collectives"),
    ("comm.partial_node_collectives", "derived.comm_share"): ("bar", "5% of the projected step in exposed collectives"),
    ("distributed.zero3_overlap_comm_off", "zero_stage"): ("source", "DeepSpeed v0.19.5 zero/config.py:138,383-385: ZeRO-3 overlaps by default"),
    ("distributed.zero3_overlap_comm_off", "derived.overlap_comm_gain"): ("bar", "5% projected gain"),
    ("distributed.ddp_when_model_fits", "derived.headroom_ddp_gb"): ("bar", "patching.SPARE_GB, 40 GB spare HBM"),
    ("distributed.ddp_when_model_fits", "derived.lower_stage_gain"): ("bar", "exclusive with lower_stage_when_state_fits at 1.05"),
    ("distributed.hierarchical_sharding_across_nodes", "derived.inter_node_share"): (
        "assumption",
        "10% of the step across nodes at kb/hardware.yaml's scale_out_gb_s, assumed (one 400 Gb/s NIC per GPU); the finding says so",
    ),
    ("distributed.hierarchical_sharding_across_nodes", "derived.hierarchical_gain"): ("bar", "5% projected gain"),
    ("distributed.lower_stage_when_state_fits", "derived.lower_stage_gain"): ("bar", "5% projected gain"),
    ("job.frequent_full_checkpoints", "derived.checkpoint_share"): ("source", "15% at costmodel.STORAGE_GB_S's 1.3 GB/s, DeepSpeed DeepNVMe blog@7251557"),
    ("job.eval_batch_below_micro_batch", "micro_batch_size"): ("bar", "training micro-batch of 4+"),
    ("job.eval_batch_below_micro_batch", "derived.eval_batch_shortfall"): ("bar", "4x the eval batch's tokens"),
    ("job.frequent_eval", "derived.evals_per_save"): ("bar", "every other evaluation lines up with no save"),
    ("job.frequent_eval", "derived.eval_share"): ("bar", "half the job, on an upper bound of the eval time"),
    ("job.frequent_eval_floor", "derived.eval_floor_share"): ("bar", "a tenth of the job, on a floor of the eval time (one eval batch per GPU)"),
    ("job.frequent_eval_per_epoch", "evals_per_epoch"): ("bar", "two or more evaluations per epoch"),
    ("job.frequent_eval_per_epoch", "derived.eval_share"): ("bar", "a tenth of the job"),
    ("memory.disable_checkpointing_when_hbm_free", "derived.headroom_without_checkpointing_gb"): ("bar", "patching.SPARE_GB, 40 GB"),
    ("memory.checkpointing_off_at_smaller_micro_batch", "derived.headroom_without_checkpointing_gb"): ("bar", "patching.SPARE_GB, 40 GB"),
    ("memory.activation_offloading_when_hbm_free", "derived.headroom_without_offload_gb"): ("bar", "patching.SPARE_GB, 40 GB"),
    ("memory.cpu_offload_when_it_fits", "derived.headroom_without_offload_gb"): ("bar", "20 GB spare HBM"),
    ("optimizer.drop_8bit_when_hbm_free", "derived.headroom_gb"): ("bar", "patching.SPARE_GB, 40 GB"),
    ("precision.fp8_for_large_gemms", "derived.params_b"): ("source", "pytorch/ao PR #2736: the MI300X figure is Llama 3 8B; 7B+ is its size class"),
    ("quant.lora_over_qlora_when_bf16_fits", "derived.headroom_unquantized_gb"): ("bar", "patching.SPARE_GB, 40 GB"),
    ("quant.lora_over_8bit_when_bf16_fits", "derived.headroom_unquantized_gb"): ("bar", "patching.SPARE_GB, 40 GB"),
    ("batch.small_global_batch", "derived.tokens_per_micro_batch"): (
        "bar",
        "half of the 8192 tokens batch.raise_micro_batch calls small (globalbatch.MAX_TOKENS)",
    ),
    ("batch.small_global_batch", "derived.larger_batch_gain"): ("bar", "goblin_warn_at's default, 1.03, at the low end of the projected interval"),
    ("distributed.one_process_many_gpus", "derived.one_process_visible_gpus"): (
        "source",
        "transformers 5.25.0 trainer.py:2711-2724: nn.DataParallel where n_gpu > 1 (2 or more visible GPUs)",
    ),
}
KINDS = {"source", "bar", "assumption"}


def _numeric_premises() -> set[tuple[str, str]]:
    out = set()
    for rule in kb.load_rules():
        for p in rule.applies_when:
            if isinstance(p.value, int | float) and not isinstance(p.value, bool) and p.value not in (0, 1):
                out.add((rule.id, p.fact))
    return out


def test_every_numeric_premise_of_a_rule_states_what_it_rests_on() -> None:
    found = _numeric_premises()
    assert found - set(CENSUS) == set(), "a rule has a numeric premise with no stated basis: add it to CENSUS with its source"
    assert set(CENSUS) - found == set(), "CENSUS lists a premise no rule has any more"
    assert all(kind in KINDS and basis for kind, basis in CENSUS.values())


def test_every_rule_quotes_the_figure_its_impact_rests_on() -> None:
    assert [r.id for r in kb.load_rules() if not (r.impact.source_figure or "").strip()] == []


def test_no_rule_rests_on_an_assumed_host_time_per_sample() -> None:
    """data7: data.dataloader_workers rested on an unsourced 1.5 ms per sample and a 5% share; it is gone, and
    no rule speaks of DataLoader workers 0 (must-not-fire: a short step with workers 0, which fired before)."""
    from pytest_goblin.hardware import get_hardware

    from .test_kb import SHORT_STEP, _case

    rules = kb.load_rules()
    assert all("data_wait" not in p.fact for r in rules for p in r.applies_when)
    short, _target, _host = _case(SHORT_STEP)
    fired = {r.id for r in kb.applicable(short, get_hardware("mi300x"), rules, host={})}
    assert not any("dataloader_num_workers" in r.symptom or "dataloader_workers" in r.transform.set for r in rules if r.id in fired)
    # data.pin_memory still fires where workers are on and pin_memory is off (its premise has no number)
    on = short.model_copy(update={"dataloader_workers": 4, "pin_memory": False})
    assert "data.pin_memory" in {r.id for r in kb.applicable(on, get_hardware("mi300x"), rules, host={})}


def test_foreach_adamw_passes_is_the_installed_torchs_own_count() -> None:
    """costmodel.Assumptions.foreach_adamw_passes (data7: was an assumed 1.6) is foreach AdamW's tensor-sized reads
    and writes over fused AdamW's 7 (param, exp_avg, exp_avg_sq read and written, grad read; the fused kernels write
    the grad back only under a grad scaler). The foreach count is taken from the installed torch's own dispatch of one
    AdamW step (decoupled weight decay), so a torch whose foreach AdamW changes fails here until the factor follows."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    from pytest_goblin.costmodel import NOMINAL

    n = 1 << 12

    def sized(x: object) -> list[torch.Tensor]:
        return [t for t in tree_flatten(x)[0] if isinstance(t, torch.Tensor) and t.numel() == n]

    class Passes(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.passes = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            read = {id(t) for t in sized((args, kwargs))}
            mutated = sum(len(sized(v)) for a, v in zip(func._schema.arguments, args, strict=False) if a.alias_info is not None and a.alias_info.is_write)
            self.passes += len(read) + mutated + len({id(t) for t in sized(out)} - read)
            return out

    param = torch.nn.Parameter(torch.randn(n))
    opt = torch.optim.AdamW([param], lr=1e-3, weight_decay=0.01, foreach=True)
    param.grad = torch.randn(n)
    opt.step()  # creates the state
    param.grad = torch.randn(n)
    with Passes() as counted:
        opt.step()
    assert counted.passes == 20, torch.__version__
    assert round(counted.passes / 7, 2) == NOMINAL.foreach_adamw_passes
