"""Projected step time and memory: a per-layer roofline of the target GPU.

Nothing here is measured. Each term is FLOPs or bytes of one training step divided by the
GPU's published peak times an achieved-efficiency factor. The factors differ per GPU and
software stack, so they live per target in kb/efficiency.yaml, each with its source or the
published rows it was fitted to (benchmarks/calibration_rows.py, docs/projection.md). The
speedup's interval comes from re-running the model across the factors' plausible range,
widened by the calibration's own error, not from noise.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any, TypeVar

from pytest_goblin.errors import KBError
from pytest_goblin.hardware import kb_dir, load_yaml_list
from pytest_goblin.modelzoo import estimate_shape
from pytest_goblin.schemas import FieldSource, Hardware, ModelShape, VisionTower, WasteBudget, WorkloadConfig

T = TypeVar("T")
GB = 1e9
LORA_TRAINABLE_SHARE = 0.01  # LoRA adapters train about 1% of the parameters at typical ranks


@dataclass(frozen=True)
class Assumptions:
    """Achieved-efficiency factors; a target's values and sources are in kb/efficiency.yaml."""

    gemm_eff_max: float = 0.60  # best achieved share of the bf16/fp16 matrix peak for large GEMMs
    gemm_half_tokens: int = 1024  # tokens per micro-batch at which GEMMs reach half of that
    gemm_half_hidden: int = 0  # hidden size at which GEMMs reach half of that (0: no size term)
    fp8_gemm_eff_max: float = 0.60  # best achieved share of the fp8 matrix peak, tuned fused stack (Transformer Engine)
    fp8_compiled_gemm_eff_max: float = 0.60  # ... through torch.compile + torchao float8 (torch._scaled_mm), or eager
    fp32_gemm_eff_max: float = 0.60  # best achieved share of the fp32 matrix peak
    attn_eff: float = 0.45  # fused attention kernels (SDPA / flash), share of the bf16 matrix peak
    bw_eff: float = 0.70  # achieved share of HBM bandwidth in memory-bound kernels
    # bytes moved per fp8-cast element, forward and backward, compiled: the amax read fused into the
    # producer, bf16 read + fp8 write of the cast (3), the same for the gradient (3), a transposed fp8 copy (2)
    fp8_cast_passes: float = 8.0
    fp8_eager_factor: float = 1.5  # without torch.compile the amax is its own bf16 read per tensor: 12 bytes instead of 8
    comm_eff: float = 0.60  # achieved share of the per-GPU link bandwidth in collectives
    comm_overlap: float = 0.80  # share of collective time that can hide behind compute
    eager_score_passes: int = 16  # reads+writes of the seq x seq score matrix per layer, fwd+bwd
    elementwise_passes: int = 40  # activation-sized reads+writes per layer per token (norms, acts, residuals), fwd+bwd
    # memory traffic of foreach AdamW over fused: torch 2.13.0 torch/optim/adam.py _multi_tensor_adam (decoupled
    # weight decay, not capturable) runs mul_(params), lerp_(exp_avg, grads), mul_(exp_avg_sq), addcmul_(exp_avg_sq,
    # grads, grads), sqrt(exp_avg_sq) into a temporary, div_ and add_ on it, addcdiv_(params, exp_avg, temporary):
    # 20 tensor-sized reads and writes, against fused AdamW's 7 (param, exp_avg, exp_avg_sq read and written, grad
    # read); all fp32 (AMP's master weights) 80 / 28 bytes = 2.86 (bf16 weights without a master: 68 / 22 = 3.09)
    foreach_adamw_passes: float = 2.86
    eightbit_adamw_passes: float = 1.3  # quantize/dequantize overhead of 8-bit optimizers relative to fused
    host_link_gb_s: float = 50.0  # achieved GPU<->host copy rate; PCIe Gen5 x16 is 64 GB/s each way
    # host memory traffic rate of CPU AdamW steps, per node: one host serves every rank on it (HOST_OPTIMIZER_GB_S)
    host_optimizer_gb_s: float = 60.0
    offload_exposed: float = 0.5  # share of activation-offload copies and offloaded-parameter fetches not hidden behind compute
    fused_kernel_passes: float = 0.6  # activation-sized memory passes left with Liger-style fused kernels
    # achieved matrix throughput (GEMMs and fused attention) relative to the GPU whose factors these are:
    # a GPU that inherits another's factors but sustains a different clock under dense matrix load
    matrix_scale: float = 1.0


NOMINAL = Assumptions()
FACTORS = frozenset(f.name for f in fields(Assumptions))


@dataclass(frozen=True)
class ClassResidual:
    """How far the projection was from the calibration rows of one class (software stack, precision and
    method): the class's own largest over- and under-projection, which a workload of that class is
    given as its throughput interval instead of the assumption grid (`throughput_range`)."""

    stack: str
    precision: str
    method: str
    rows: int
    max_over: float  # largest over-projection of the class's rows, as a fraction
    max_under: float  # largest under-projection, as a positive fraction

    @classmethod
    def from_kb(cls, raw: Mapping[str, Any]) -> ClassResidual:
        return cls(**dict(raw))


def class_residuals(rows: Iterable[tuple[str, str, str, float]], digits: int | None = None) -> tuple[ClassResidual, ...]:
    """Each class's residuals from (stack, precision, method, error) per row, for the classes with at least
    CLASS_MIN_ROWS rows, sorted by class; `digits` rounds them up (kb/efficiency.yaml keeps three), so
    that the interval still holds the row that set them."""
    by: dict[tuple[str, str, str], list[float]] = {}
    for stack, precision, method, error in rows:
        by.setdefault((stack, precision, method), []).append(error)

    def r(x: float) -> float:
        return math.ceil(round(x * 10**digits, 6)) / 10**digits if digits is not None else x

    return tuple(
        ClassResidual(stack=k[0], precision=k[1], method=k[2], rows=len(e), max_over=r(max(0.0, *e)), max_under=r(max(0.0, *(-x for x in e))))
        for k, e in sorted(by.items())
        if len(e) >= CLASS_MIN_ROWS
    )


# A class needs this many calibration rows before its residuals stand for the interval; fewer, and
# the interval is the assumption grid widened by the target's residuals, as for an uncovered class.
CLASS_MIN_ROWS = 3
# The smallest half-width of a class's interval (as a fraction of the nominal rate): the same MLPerf
# recipe on the same GPU spans 2,051-2,168 tokens/s over five MI300X submitters and 2,746-2,947 over
# seven MI325X ones (about +-4%, docs/projection.md held-out table); +-10% is two and a half times that.
# An assumption, not fitted.
CLASS_FLOOR = 0.10


@dataclass(frozen=True)
class Calibration:
    """How far the target's nominal projection was from the published rows it was checked against,
    and what those rows cover (a workload outside it gets a wider throughput interval)."""

    rows: int
    mean_abs_error: float
    max_over: float  # largest over-projection, as a fraction (projected / published - 1)
    max_under: float  # largest under-projection, as a positive fraction
    speedup_abs_error: float  # largest error of a published one-change ablation's speedup
    basis: str  # which rows, in words
    # What the rows cover: their software stacks (STACKS), precisions, methods, and the smallest and
    # largest model (billions of parameters) and job (GPUs). Empty: not stated, nothing is covered.
    stacks: tuple[str, ...] = ()
    precisions: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    params_b: tuple[float, float] | None = None
    gpus: tuple[int, int] | None = None
    # residuals per class of at least CLASS_MIN_ROWS rows (`ClassResidual`)
    classes: tuple[ClassResidual, ...] = ()

    def residual_of(self, stack: str | None, precision: str, method: str) -> ClassResidual | None:
        """The class residuals a workload of this stack, precision and method takes; None without enough rows."""
        for c in self.classes:
            if (c.stack, c.precision, c.method) == (stack, precision, method) and c.rows >= CLASS_MIN_ROWS:
                return c
        return None

    @classmethod
    def from_kb(cls, raw: Mapping[str, Any]) -> Calibration:
        data = dict(raw)
        data["classes"] = tuple(ClassResidual.from_kb(c) for c in data.get("classes", ()))
        for key in ("stacks", "precisions", "methods"):
            data[key] = tuple(str(v) for v in data.get(key, ()))
        for key, kind in (("params_b", float), ("gpus", int)):
            if data.get(key) is not None:
                lo, hi = data[key]
                data[key] = (kind(lo), kind(hi))
        return cls(**data)


@dataclass(frozen=True)
class TargetEfficiency:
    nominal: Assumptions
    sources: Mapping[str, str]
    calibration: Calibration | None


@lru_cache(maxsize=1)
def efficiency_table() -> dict[str, TargetEfficiency]:
    """kb/efficiency.yaml: each target's factors, resolved through `inherits`."""
    path = kb_dir() / "efficiency.yaml"
    raw: dict[str, dict[str, Any]] = {}
    for entry in load_yaml_list(path):
        if not isinstance(entry, dict) or "target" not in entry:
            raise KBError(f"{path}: every entry needs a `target`")
        unknown = set(entry.get("factors", {})) - FACTORS
        if unknown:
            raise KBError(f"{path}: {entry['target']}: unknown factors {sorted(unknown)}")
        raw[str(entry["target"])] = entry

    def resolve(target: str, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], dict[str, str]]:
        if target in seen or target not in raw:
            raise KBError(f"{path}: cannot resolve {target!r} (missing or circular `inherits`)")
        entry = raw[target]
        factors: dict[str, Any] = {}
        sources: dict[str, str] = {}
        if "inherits" in entry:
            factors, sources = resolve(str(entry["inherits"]), (*seen, target))
            sources = {k: f"{v} (inherited from {entry['inherits']})" if not v.endswith(")") else v for k, v in sources.items()}
        factors.update(entry.get("factors", {}))
        sources.update({str(k): str(v) for k, v in entry.get("sources", {}).items()})
        return factors, sources

    out = {}
    for target, entry in raw.items():
        factors, sources = resolve(target)
        cal = entry.get("calibration")
        try:
            calibration = Calibration.from_kb(cal) if isinstance(cal, dict) else None
        except (TypeError, ValueError) as exc:
            raise KBError(f"{path}: {target}: `calibration`: {exc}; its keys are those of costmodel.Calibration") from None
        out[target] = TargetEfficiency(nominal=replace(NOMINAL, **factors), sources=sources, calibration=calibration)
    return out


def target_efficiency(hw: Hardware | str) -> TargetEfficiency:
    key = hw if isinstance(hw, str) else hw.id
    table = efficiency_table()
    return table.get(key) or table["default"]


def nominal_for(hw: Hardware) -> Assumptions:
    return target_efficiency(hw).nominal


# The interval: every combination of low/high settings of the factors, as multiples of the
# target's nominal value (efficiency factors) or absolute values (host figures).
_RELATIVE: dict[str, tuple[float, float]] = {
    "gemm_eff_max": (0.85, 1.15),
    "fp8_gemm_eff_max": (0.85, 1.15),
    "fp8_compiled_gemm_eff_max": (0.85, 1.15),
    "fp32_gemm_eff_max": (0.85, 1.15),
    "bw_eff": (0.8, 1.2),
    "gemm_half_tokens": (0.5, 2.0),
    "comm_eff": (0.6, 1.4),
}
_ABSOLUTE: dict[str, tuple[float, float]] = {
    "host_link_gb_s": (25.0, 64.0),
    "host_optimizer_gb_s": (40.0, 100.0),  # HOST_OPTIMIZER_GB_S: the measured bound to the previous assumption
}


def assumption_grid(nominal: Assumptions = NOMINAL, relevant: frozenset[str] | None = None) -> Iterator[Assumptions]:
    """Every combination of low and high settings around `nominal`: what a projection's interval spans.

    `relevant` limits the grid to the factors that can change the result (`factors_used`); the
    others stay nominal. The extremes are the same, since a factor no term reads cannot move them,
    and a single-GPU bf16 audit walks 8 points instead of 256.
    """
    yield from _grid(nominal, frozenset(_RELATIVE) | frozenset(_ABSOLUTE) if relevant is None else relevant)


@lru_cache(maxsize=64)
def _grid(nominal: Assumptions, relevant: frozenset[str]) -> tuple[Assumptions, ...]:
    """The grid, built once per target and set of factors: every projected audit walks it twice."""
    return tuple(_combinations(nominal, relevant))


# Precisions whose linear-layer GEMMs run in a scaled low-precision format (attention and the output
# projection stay bf16): fp8, and the microscaling MXFP4 / MXFP6 of MI355X (priced with fp8's efficiency
# factors, an assumption: no published MX training throughput on AMD was found with its settings)
QUANTIZED_GEMMS = frozenset({"fp8", "mxfp4", "mxfp6"})


def _transformer_engine(w: WorkloadConfig) -> bool:
    """fp8 through Transformer Engine's fused layers (fused kernels, no compile), not torchao/torch._scaled_mm."""
    return w.precision in QUANTIZED_GEMMS and w.fused_kernels and not w.torch_compile


def _data_parallel_ranks(w: WorkloadConfig) -> int:
    """Ranks that exchange gradients or weights: 1 when nothing is communicated. Context, tensor and
    pipeline parallel ranks of one replica hold the same batch (or different parts of one model)."""
    if w.strategy == "single":
        return 1
    return max(1, w.world_size // max(1, w.context_parallel * _model_parallel(w)))


def _model_parallel(w: WorkloadConfig) -> int:
    """GPUs one copy of the model is split across: tensor x pipeline parallel."""
    return max(1, w.tensor_parallel) * max(1, w.pipeline_parallel)


def pipeline_bubble(w: WorkloadConfig) -> float:
    """Idle share of a pipelined step: with p stages, m micro-batches per flush (the accumulation steps)
    and v model chunks per stage, 1F1B idles (p-1) stage-times per flush against m of work, and the
    interleaved schedule (p-1)/v (Narayanan et al. 2021, arXiv:2104.04473 section 2.2: bubble fraction
    (p-1)/m, (p-1)/(v m) interleaved); as a share of the step, (p-1)/v / (m + (p-1)/v). 0 without
    pipelining."""
    p = max(1, w.pipeline_parallel)
    if p <= 1:
        return 0.0
    idle = (p - 1) / max(1, w.virtual_pipeline)
    return idle / (max(1, w.gradient_accumulation) + idle)


def _offloads_activations(w: WorkloadConfig) -> bool:
    """Checkpointed layer inputs go to the host (offloading only applies to checkpointed layers)."""
    return w.activation_offloading and w.gradient_checkpointing


def sample_length(w: WorkloadConfig, *, peak: bool = False) -> int:
    """Tokens each sample of a micro-batch occupies (docs/projection.md, "Sample lengths").

    seq_len where every sample fills it: packed, padded to the maximum length (`pad_to_max`), or no
    lengths sampled from a local dataset (formats/datasets.py). Otherwise the collator pads to the
    batch's longest sample: for time, the expected longest of `micro_batch_size` samples drawn from the
    sampled lengths (their 21 quantiles taken as equally likely); for peak memory, the longest sampled
    (some micro-batch holds it, and the allocator keeps what it took). Never above seq_len, which the
    frameworks truncate (or drop) to."""
    q = w.token_quantiles
    if w.sample_packing or w.pad_to_max:
        return w.seq_len
    if not q:
        return assumed_length(w)
    lengths = sorted(min(max(1, x), w.seq_len) for x in q)
    if peak:
        return lengths[-1]
    n, b = len(lengths), max(1, w.micro_batch_size)
    expected = sum(x * (((i + 1) / n) ** b - (i / n) ** b) for i, x in enumerate(lengths))
    return max(1, min(w.seq_len, round(expected)))


def micro_batch_tokens(w: WorkloadConfig, *, peak: bool = False) -> int:
    """Tokens one GPU holds per micro-batch at the sampled lengths (`tokens_per_micro_batch` at seq_len)."""
    return w.micro_batch_size * sample_length(w, peak=peak) // max(1, w.context_parallel)


def lengths_assumed(w: WorkloadConfig) -> bool:
    """Every sample is priced at seq_len (or the stated GPU's bound, `assumed_length`) only because no dataset lengths
    were read (formats/datasets.py)."""
    return not (w.token_quantiles or w.sample_packing or w.pad_to_max)


def assumed_length(w: WorkloadConfig) -> int:
    """The length an assumed sample is priced at: seq_len, or below it the bound the GPU the repository says the config
    trains on sets (`WorkloadConfig.length_bound`, `bounded_by_stated`; issue 23)."""
    return min(w.seq_len, w.length_bound) if w.length_bound is not None and lengths_assumed(w) else w.seq_len


def bounded(w: WorkloadConfig) -> bool:
    """Assumed samples are priced at the stated GPU's bound, below seq_len (`bounded_by_stated`)."""
    return assumed_length(w) < w.seq_len


# The seq_len source note of a script that packs its own samples to a length goblin did not read (formats/python.py
# _pack_length_unread; review12a #17 THUDM/LongAlign: packs of 65536 tokens priced at an assumed 1024).
PACK_LENGTH_UNREAD = "the script packs its samples itself, into sequences of a length goblin did not read"


def pack_length_unread(w: WorkloadConfig) -> str | None:
    """Why no sample length bounds a decision: the script packs its own samples and goblin read no length for the packs
    (PACK_LENGTH_UNREAD), so the seq_len priced is an assumption below or above the packs by any factor. None elsewhere."""
    src = w.sources.get("seq_len")
    if src is None or src.explicit or not src.note or PACK_LENGTH_UNREAD not in src.note:
        return None
    return f"every sample was priced at an assumed {assumed_length(w)} tokens, but {src.note.split('; ')[0]}"


def seq_len_origin(w: WorkloadConfig) -> str:
    """Where the sequence length an assumed sample takes came from: the config's own key, or the default or assumption
    a reader applied when the config sets none (review3 #12/#13: "2048 tokens (the config's seq_len)" for a file with no
    such key)."""
    src = w.sources.get("seq_len")
    if bounded(w) and w.stated_gpu is not None:
        return f"bounded by the stated GPU: the longest sample that fits {_stated_where(w)}, where the repository trains this, below seq_len {w.seq_len}"
    if src is None or src.explicit:
        return "the config's seq_len" if src is not None else "seq_len"
    return f"seq_len not set in the config: {src.note}" if src.note else "seq_len not set in the config: a default"


# The shorter sample length an edit decided on assumed lengths is also tried at (a share of seq_len): where the
# verdict flips between the two, the data's lengths decide it, and goblin did not read them (review3 #14, #15).
SHORTER_LENGTH_SHARE = 0.5


def at_length(w: WorkloadConfig, tokens: int) -> WorkloadConfig:
    """`w` with every sample `tokens` long, as if a dataset of that length had been sampled."""
    return w.model_copy(update={"token_quantiles": [tokens] * 21, "mean_tokens": float(tokens)})


def fitting_length(w: WorkloadConfig, capacity: float) -> int | None:
    """The longest sample, at most seq_len, at which `w` (every sample that long) projects at or under `capacity` GB
    per GPU; None where not even a one-token sample fits (the length is then not what is over). Peak memory grows with
    the sample, so a bisection finds it (review11a #6/#7: 64 x 2048 tokens assumed for torchtune's null max_seq_len)."""
    if memory_gb(at_length(w, 1)) > capacity:
        return None
    low, high = 1, max(1, w.seq_len)
    if memory_gb(at_length(w, high)) <= capacity:
        return high
    while high - low > 1:
        mid = (low + high) // 2
        if memory_gb(at_length(w, mid)) <= capacity:
            low = mid
        else:
            high = mid
    return low


def length_premise(w: WorkloadConfig, capacity: float) -> str | None:
    """What a projection above `capacity` GB per GPU rests on where every sample's length is assumed (no dataset lengths
    read): the longest sample that fits, and, where the repository says which GPU the config ran on
    (`WorkloadConfig.stated_gpu`) and the projection is above that GPU's memory too, that the run's samples fit there,
    so the assumed length and not the config is what is over (review11a #6/#7: 375 GB projected for a recipe AMD
    tested on 8 x MI300X). None where the lengths were read or no length fits."""
    if not lengths_assumed(w):
        return None
    stated = w.stated_gpu
    if stated is not None and memory_gb(w) > stated.capacity_gb and (there := fitting_length(w, stated.capacity_gb)) is not None:
        where = f"{stated.file.rsplit('/', 1)[-1]}:{stated.line}"
        return (
            f"the repository says this config ran on {stated.phrase} ({where}: {stated.capacity} per GPU), where it fits only with samples "
            f"up to about {there} tokens: the run's samples are that short or shorter, so the {w.seq_len} tokens assumed here, not the "
            "config, are what is over the GPU's memory"
        )
    fits = fitting_length(w, capacity)
    if fits is None:
        return None
    return f"the config fits this GPU with samples up to about {fits} tokens, and goblin read no lengths of the data to say whether they are"


def _stated_where(w: WorkloadConfig) -> str:
    stated = w.stated_gpu
    assert stated is not None
    return f"{stated.gpu} ({stated.file.rsplit('/', 1)[-1]}:{stated.line}: {stated.capacity} per GPU)"


def _bound_of(w: WorkloadConfig) -> tuple[float, int] | None:
    """(GB per GPU at seq_len, the longest sample that fits the stated GPU) where `stated_bound`'s premise holds."""
    stated = w.stated_gpu
    # a model of assumed size (neither known nor sized) may be what is over, not the length (rules.over_hbm's `sized`);
    # an assumed world size is not the run's, so the length that fits at it is not the run's bound either
    ws = w.sources.get("world_size")
    if stated is None or not lengths_assumed(w) or not (w.model.known or w.model.params_b is not None) or ws is None or not ws.explicit:
        return None
    if pack_length_unread(w) is not None:
        return None
    full = w.model_copy(update={"length_bound": None})
    have = memory_gb(full)
    if have <= stated.capacity_gb or (fits := fitting_length(full, stated.capacity_gb)) is None or fits >= w.seq_len:
        return None
    return have, fits


def bounded_by_stated(w: WorkloadConfig) -> WorkloadConfig:
    """`w` with its assumed samples priced at the longest that fits the GPU the repository says the config trains on,
    where at seq_len it projects above that GPU's memory (`length_bound`, labelled in `sources["token_lengths"]`): the
    run that trained there had samples no longer, so the memory rules and the checkpointing decisions are made at that
    length, still an assumption (issue 23: review13a #10, 130 GB at 32,768 tokens for 80 GB A800s). `w` elsewhere: the
    lengths read, no GPU stated, the model's size or the world size assumed, or the config fitting there at seq_len."""
    got = _bound_of(w.model_copy(update={"length_bound": None}))
    if got is None:
        return w
    have, fits = got
    out = w.model_copy(update={"length_bound": fits})
    src = w.sources.get("token_lengths")
    said = (
        f"bounded by the stated GPU: every sample assumed {fits} tokens, the longest that fits {_stated_where(out)}, where the "
        f"repository trains this (at seq_len {w.seq_len} it projects {have:.0f} GB per GPU)"
    )
    note = f"{src.note.split(': every sample assumed')[0]}; {said}" if src is not None and src.note else said
    bound_src = FieldSource(file=w.path, key=src.key if src else None, line=src.line if src else None, note=note)
    return out.model_copy(update={"sources": {**w.sources, "token_lengths": bound_src}})


def stated_bound(w: WorkloadConfig) -> str | None:
    """Where every sample is priced at an assumed length and that baseline is above the memory of the GPU the
    repository says the config trains on (`WorkloadConfig.stated_gpu`): the run that ran there bounds its samples to the
    longest that fits there, said in the config's numbers (issue 23, review13a #10: 130 GB at 32,768 tokens for a run
    README.md:83 trains on 80 GB A800s), and goblin priced them at it (`bounded_by_stated`). None where the lengths were
    read, no GPU is stated, the model's size or the world size is assumed, the projection fits it, or no length fits it
    (the length is then not what is over)."""
    got = _bound_of(w.model_copy(update={"length_bound": None}))
    if got is None:
        return None
    have, fits = got
    priced = (
        f"goblin priced every sample at {fits:,} tokens, an upper bound, not the data's"
        if bounded(w)
        else f"the {w.seq_len:,} priced here are an upper bound, not the data's"
    )
    return (
        f"lengths bounded: the repository trains this on {_stated_where(w)}; at {w.seq_len:,} tokens per sample it would need "
        f"{have:.0f} GB, and it fits there only with samples up to about {fits:,} tokens, so the run's samples are that short or "
        f"shorter and {priced}"
    )


def stated_contradiction(w: WorkloadConfig) -> str | None:
    """Where the samples' length is known (packed, or padded to the maximum length) and the projection is still above
    the memory of the GPU the repository says the config trains on: the run that ran there contradicts the memory model
    itself, so no verdict rests on it (issue 23). None elsewhere."""
    stated = w.stated_gpu
    if stated is None or not (w.sample_packing or w.pad_to_max):
        return None
    have = memory_gb(w)
    if have <= stated.capacity_gb:
        return None
    how = "packed to" if w.sample_packing else "padded to"
    return (
        f"the repository trains this on {_stated_where(w)}, but goblin projects {have:.0f} GB per GPU for it with every sample "
        f"{how} {w.seq_len:,} tokens: the run that ran there contradicts goblin's memory model for this config, so goblin decides "
        "nothing on it; measure with your training command (goblin_command)"
    )


def shorter_length(w: WorkloadConfig) -> int:
    return max(1, int(assumed_length(w) * SHORTER_LENGTH_SHARE))


def at_shorter_length(w: WorkloadConfig) -> WorkloadConfig:
    """`w` with its samples `shorter_length` long. Where the config sets its own cutoff, the longest sample is kept at
    it: in a dataset of any size some sample reaches the cutoff, and peak memory is that sample's (`sample_length`), so
    only the time per step follows the shorter samples; with no cutoff stated, every sample is the shorter length."""
    return at_mostly(w, shorter_length(w))


def at_mostly(w: WorkloadConfig, tokens: int) -> WorkloadConfig:
    """`w` with its samples mostly `tokens` long: as `at_shorter_length`, the longest kept at the config's own cutoff where
    it sets one (peak memory is that sample's), else every sample `tokens` long."""
    if not seq_len_is_cutoff(w):
        return at_length(w, tokens)
    return w.model_copy(update={"token_quantiles": [tokens] * 20 + [w.seq_len], "mean_tokens": (20 * tokens + w.seq_len) / 21})


def seq_len_is_cutoff(w: WorkloadConfig) -> bool:
    """The config sets the length samples are truncated (or dropped) to: priced at it, a sample is at its longest,
    so what fits there fits at the data's real lengths (costmodel.sample_length)."""
    src = w.sources.get("seq_len")
    return src is not None and src.explicit and not bounded(w)


def length_phrase(w: WorkloadConfig, *, peak: bool = True) -> str:
    """The tokens per micro-batch a projection used, and where the sample length came from."""
    length = sample_length(w, peak=peak)
    src = w.sources.get("token_lengths")
    if w.sample_packing:
        why = "packed to seq_len"
    elif src is not None and src.note:
        why = src.note
    else:
        why = f"every sample assumed {assumed_length(w)} tokens ({seq_len_origin(w)})"
    if w.token_quantiles and not (w.sample_packing or w.pad_to_max):
        why = f"padded to the batch's longest sample; {'longest' if peak else 'expected longest'} sampled {length} tokens; {why}"
    said = f"{w.micro_batch_size} x {length} tokens per micro-batch ({why})"
    if w.vision is not None:
        said += f", and {w.micro_batch_size} x {w.vision.tokens_per_image} image tokens through the vision encoder"
    return said


def data_tokens_per_step(w: WorkloadConfig) -> int:
    """Tokens of data one optimizer step trains on, per GPU: the sampled mean length (pad tokens not
    counted) where lengths were sampled and batches are padded to their longest; else seq_len per sample."""
    # tensor and pipeline parallel GPUs of one replica train on the same tokens: a GPU's share is 1/(tp x pp)
    if w.sample_packing or w.pad_to_max or not w.token_quantiles or not w.mean_tokens:
        return max(1, w.tokens_per_step // _model_parallel(w))
    mean = min(float(w.mean_tokens), float(w.seq_len))
    return max(1, round(mean * w.micro_batch_size * w.gradient_accumulation / max(1, w.context_parallel) / _model_parallel(w)))


def factors_used(*workloads: WorkloadConfig) -> frozenset[str]:
    """The grid factors `step` reads for any of `workloads`: the same predicates pick its branches."""
    used = {"gemm_eff_max", "bw_eff", "gemm_half_tokens"}  # every step's GEMMs and memory passes
    for w in workloads:
        if w.precision in QUANTIZED_GEMMS:
            used.add("fp8_gemm_eff_max" if _transformer_engine(w) else "fp8_compiled_gemm_eff_max")
        if w.precision == "fp32":
            used.add("fp32_gemm_eff_max")  # fp32 GEMMs (and fused attention's fp32 rate) read it, not gemm_eff_max's
        if _data_parallel_ranks(w) > 1:
            used.add("comm_eff")
        if w.cpu_offload or _offloads_activations(w):
            used.add("host_link_gb_s")
        if w.cpu_offload:
            used.add("host_optimizer_gb_s")
    return frozenset(used)


def _combinations(nominal: Assumptions, relevant: frozenset[str]) -> Iterator[Assumptions]:
    keys = [k for k in (*_RELATIVE, *_ABSOLUTE) if k in relevant]
    choices = [[getattr(nominal, k) * m for m in _RELATIVE[k]] if k in _RELATIVE else list(_ABSOLUTE[k]) for k in keys]
    for combo in itertools.product(*choices):
        values = {
            k: (int(v) if k == "gemm_half_tokens" else min(v, 1.0) if k.endswith("_eff") or k.endswith("_eff_max") else v)
            for k, v in zip(keys, combo, strict=True)
        }
        yield replace(nominal, **values)


# Bytes of one GEMM operand element per precision (fp8 runs its linear layers' GEMMs on 1-byte operands)
# MXFP4 / MXFP6: 4 or 6 bits per element plus one 8-bit scale per 32 (OCP Microscaling Formats v1.0)
_OPERAND_BYTES = {"fp8": 1.0, "bf16": 2.0, "fp16": 2.0, "fp32": 4.0, "mxfp4": 0.5 + 1 / 32, "mxfp6": 0.75 + 1 / 32}


def _gemm_eff(eff_max: float, a: Assumptions, tokens: float, hidden: int = 0, ridge: float = 1.0) -> float:
    """Achieved share of matrix peak for GEMMs over `tokens` rows of a `hidden`-wide model: grows toward `eff_max`.

    `ridge` scales the half-efficiency sizes with the roofline's ridge point relative to bf16's: the
    precision's peak over bf16's times its operand bytes over bf16's two. A GEMM over `tokens` rows of
    a weight matrix does about 2 * tokens FLOPs per weight it reads, i.e. 2 * tokens / bytes per
    operand FLOPs per byte, so the tokens needed to keep the matrix unit busy grow with the peak and
    shrink with the operand width: fp8 (twice the peak, half the bytes) saturates at bf16's size,
    fp32 on MI300X (an eighth of the peak, twice the bytes) at a quarter of it (`_OPERAND_BYTES`).
    """
    size = hidden / (hidden + a.gemm_half_hidden * ridge) if a.gemm_half_hidden and hidden else 1.0
    return eff_max * size * tokens / (tokens + a.gemm_half_tokens * ridge)


@dataclass(frozen=True)
class StepModel:
    step_s: float
    parts: Mapping[str, float]  # seconds per optimizer step by waste category
    peak_memory_gb: float
    model_flops: float  # useful FLOPs per optimizer step (no recompute)
    # One micro-batch's forward alone (GEMMs, attention, elementwise, dequantization, fp8 casts; no
    # reference model, recompute or communication): what an evaluation batch costs (eval_seconds)
    forward_s: float = 0.0

    @property
    def waste(self) -> WasteBudget:
        """Each category's share of the step; built on demand, since the interval's grid needs only step_s."""
        return WasteBudget(**{k: v / self.step_s for k, v in self.parts.items()})


def _shape(w: WorkloadConfig, shape: ModelShape | None = None) -> tuple[float, int, int, int, int]:
    shape = shape or estimate_shape(w.model)
    params = (shape.active_params_b or (shape.params_b if shape.params_b is not None else 7.0)) * 1e9  # 7B: said in the workload notes
    return params, shape.n_layers or 32, shape.hidden or 4096, shape.n_heads or 32, shape.vocab or 32000


def _experts(shape: ModelShape, params: float) -> tuple[float, float]:
    """(active expert parameters, share of a micro-batch's tokens each expert sees) for MoE; (0, 1) when dense."""
    if not (shape.n_experts and shape.experts_per_token and shape.n_layers and shape.hidden and shape.intermediate):
        return 0.0, 1.0
    expert = shape.n_layers * shape.experts_per_token * 3 * shape.hidden * shape.intermediate
    return min(float(expert), params), shape.experts_per_token / shape.n_experts


def _expert_params(shape: ModelShape, total: float) -> float:
    """Parameters of the routed experts (all of them, every layer); 0 for a dense model or an unknown shape."""
    if not (shape.n_experts and shape.n_layers and shape.hidden and shape.intermediate):
        return 0.0
    return min(float(shape.n_layers * shape.n_experts * 3 * shape.hidden * shape.intermediate), 0.95 * total)


_HIERARCHICAL = frozenset({"hybrid", "hybrid_zero2", "hpz", "mics"})


def sharding_of(w: WorkloadConfig) -> str:
    """How the workload places its shards: the config's `sharding`, else "hybrid" where an FSDP shard
    group it states (Axolotl `dp_shard_size`) is smaller than its data-parallel ranks, else "full"."""
    if w.sharding is not None:
        return w.sharding
    if w.strategy == "fsdp" and w.shard_group is not None and w.shard_group < _data_parallel_ranks(w):
        return "hybrid"
    return "full"


def _shard_stage(w: WorkloadConfig) -> int:
    """ZeRO stage the strategy amounts to: 3 for FSDP (full sharding), the configured stage for DeepSpeed."""
    if w.world_size <= 1:
        return 0
    if w.strategy == "fsdp":
        # SHARD_GRAD_OP keeps whole parameters from the forward's all-gather to the end of the backward,
        # gradients and optimizer state sharded (torch 2.13.0 torch/distributed/fsdp/api.py:43-49): ZeRO-2's memory
        return 2 if w.sharding == "grad_op" else 3
    if w.strategy == "deepspeed":
        return w.zero_stage if w.zero_stage is not None else 3
    return 0


def trains_language_model(w: WorkloadConfig) -> bool:
    """Whether every parameter of the priced shape trains: a full fine-tune whose language model is not frozen
    (`WorkloadConfig.frozen_language_model`). A frozen language model is priced as a frozen base: its weights in the
    load dtype, no gradients, optimizer state or master copy, backward through it for input gradients only (the part
    that trains, a vision tower or projector, is before it)."""
    return w.method == "full" and not w.frozen_language_model


def trainable_params(w: WorkloadConfig, total: float) -> float:
    """The parameters of the priced shape that get gradients and optimizer state: all of a full fine-tune's but a frozen
    vision tower's (`WorkloadConfig.frozen_vision_tower`: the shape's `vision_params_b`, in `total`'s unit), none of a
    frozen language model's, an adapter's share of a LoRA's."""
    if w.method == "full":
        if w.frozen_language_model:
            return 0.0
        return max(0.0, total - frozen_vision(w, total))
    return total * LORA_TRAINABLE_SHARE


def frozen_vision(w: WorkloadConfig, total: float) -> float:
    """The vision tower and projector a full fine-tune leaves frozen, in `total`'s unit (parameters or billions): the
    shape's share `vision_params_b / params_b` of `total`; 0 where nothing is frozen or the shape does not split it."""
    vision, params = w.model.vision_params_b, w.model.params_b
    if not w.frozen_vision_tower or vision is None or not params:
        return 0.0
    return total * min(1.0, vision / params)


def _state_bytes(w: WorkloadConfig) -> tuple[float, float, float, float]:
    """Bytes per parameter of (weights of every parameter, extra master copy per trainable, grads per trainable, optimizer per trainable)."""
    half = w.precision != "fp32"
    if w.quantization != "none":
        weights = {"4bit": 0.55, "8bit": 1.05}[w.quantization]
    elif not trains_language_model(w):
        if w.weight_dtype is not None:
            weights = 4.0 if w.weight_dtype == "fp32" else 2.0
        else:
            # frozen base: half precision, or fp8 where the recipe trains in fp8 (MLPerf LoRA keeps fp8 weights)
            weights = 1.0 if w.precision == "fp8" else 2.0
    elif w.weight_dtype in ("bf16", "fp16"):
        weights = 2.0
    elif w.weight_dtype == "fp32" or not half:
        weights = 4.0
    else:
        weights = 2.0  # unknown dtype under mixed precision: half-precision weights plus fp32 masters
    master = 0.0
    if trains_language_model(w) and half and weights == 2.0 and (w.weight_dtype is None or w.strategy == "deepspeed"):
        master = 4.0
    pure_half = w.method == "full" and w.weight_dtype in ("bf16", "fp16") and master == 0.0
    grads = 2.0 if (pure_half or w.method != "full") else 4.0
    if w.grad_dtype is not None:
        grads = 4.0 if w.grad_dtype == "fp32" else 2.0  # the config's own accumulation/reduction dtype
    opt = 2.0 if "8bit" in w.optimizer else 4.0 if pure_half else 8.0
    if w.optimizer_state_bytes is not None:  # a DeepSpeed file's own optimizer (formats.deepspeed.own_optimizer)
        opt = w.optimizer_state_bytes
    return weights, master, grads, opt


def has_masters(w: WorkloadConfig) -> bool:
    """Whether `_state_bytes` prices an fp32 master copy beside the weights (a message names one only then)."""
    return _state_bytes(w)[1] > 0


def weights_phrase(w: WorkloadConfig) -> str:
    """The weights' dtype a memory figure rests on, as `_state_bytes` prices it: the config's own where read, else
    said as assumed and from what (no dtype read; the checkpoint's config.json dtype where goblin read one,
    `ModelShape.checkpoint_dtype`), never a bare "fp32" the config does not state (issue 23, class 5)."""
    if w.weight_dtype is not None:
        return w.weight_dtype
    if w.quantization != "none":
        return f"{w.quantization[0]}-bit (quantized base)"
    weights, master, _, _ = _state_bytes(w)
    half = w.precision if w.precision in ("bf16", "fp16") else "half precision"
    priced = "fp32" if weights == 4.0 else "fp8" if weights == 1.0 else f"{half} with fp32 masters" if master else half
    ck = w.model.checkpoint_dtype
    src = w.sources.get("weight_dtype")
    if src is not None and src.unread:
        said = f"its config.json records {ck}, but the load's dtype is not read" if ck else "the checkpoint's dtype is unknown"
        return f"{priced} (assumed: {said})"
    whence = f"the checkpoint's config.json records {ck}" if ck else "the checkpoint's dtype is unknown"
    how = "a frozen base held in the compute dtype" if not trains_language_model(w) else "mixed precision" if master else f"precision {w.precision}"
    return f"{priced} (assumed from {how}: the config sets no weight dtype, {whence})"


def layer_activation_bytes(
    *,
    hidden: int,
    intermediate: int,
    kv_dim: int,
    heads: int,
    method: str = "lora",
    lora_targets: str = "all",
    lora_dropout: float = 0.0,
    act: float = 2.0,
    liger: bool = False,
    eager_seq: int = 0,
    compiled: bool = False,
    adapter_act: float | None = None,
) -> float:
    """Bytes one transformers Llama-style decoder layer keeps for backward per token (PyTorch
    autograd, SDPA or flash attention, SwiGLU MLP). Measured by benchmarks/activation_memory.py
    (saved_tensors_hooks on `LlamaDecoderLayer`, transformers 5.24, torch 2.13; LoRA as PEFT's
    `base(x) + B(A(dropout(x))) * scaling`); the formula matches every measured case to the byte
    for widths from 256 to 8192 (docs/projection.md, "Activation memory"). `act` is the bytes of
    an activation element (2 in bf16/fp16), r the LoRA rank (16; its terms are under 0.1%).

    Both methods:
    - each RMSNorm keeps its input upcast to fp32 (4h) and 1/rms (4 bytes); Liger's fused RMSNorm
      keeps the input in its own dtype instead (act*h; liger_kernel/ops/rms_norm.py)
    - attention keeps q and k after RoPE, v, the output (act*(2h + 2*kv)) and fp32 logsumexp
      (4*heads); o_proj's input is that output (one storage). Eager attention keeps q and the
      repeated k, v and o_proj's contiguous input (4h*act) plus the S x S probabilities in fp32 (softmax)
      and in act (the matmul), per token against the whole context
    - SwiGLU keeps gate's output (silu's input), silu's output and up's output (3I*act); Liger's
      SiLUMul keeps gate and up only (2I*act; liger_kernel/ops/swiglu.py)
    Full fine-tuning adds each linear's input for its weight gradient (the normed input shared by
    q/k/v and by gate/up, the SwiGLU product for down: act*(2h + I)) and each norm's normalized
    input for the norm weight's gradient (act*h each, none with Liger's kernel).
    `method="frozen"` (a frozen language model with no adapter, `WorkloadConfig.frozen_language_model`) keeps only
    the terms both methods keep: its backward takes input gradients, for which no linear's input is needed (not
    measured on its own: the shared terms of the measured formula).
    A frozen base (LoRA) needs no linear's input, but each adapted linear keeps, per PEFT:
    without dropout, A's input (x itself: shared by q/k/v, by gate/up; o_proj's is attention's
    output), with dropout p > 0 its own dropped copy (act) and native_dropout's bool mask
    (1 byte) per input element, for every adapted linear separately; and A's output (act*r).
    `adapter_act`: the bytes of an adapter's element where it differs from `act` (fp32 LoRA adapters over a pure-half
    base, `WorkloadConfig.adapter_dtype`): each adapter casts its own copy of its input (peft 0.12.0
    peft/tuners/lora/layer.py:553), so A keeps that copy (or, with dropout, its dropped copy and the mask) and its
    output at `adapter_act` for every adapted linear separately; not measured, read from PEFT's forward; the
    compiled partition's count is then not used (the eager count, an upper bound).
    """
    h, i, kv = float(hidden), float(intermediate), float(kv_dim)
    rank = 16.0
    own = adapter_act is not None and adapter_act != act and method == "lora"
    if compiled and not own and not liger and not eager_seq and (method == "full" or (method == "lora" and lora_targets == "all")):
        # torch.compile: AOTAutograd's min-cut partitioner recomputes pointwise ops in backward instead
        # of saving them. Measured (benchmarks/activation_memory.py --compiled, the partitioner inductor
        # uses; torch 2.13.0, transformers 5.24.0): six hidden-sized tensors (the layer input, q after
        # RoPE, attention's output and three more among the norms' outputs and o_proj's input; the fp32
        # upcasts are recomputed), k and v, three MLP-sized ones, the logsumexp and two 1/rms:
        # act*(6h + 2kv + 3I) +
        # 4*heads + 8 for full fine-tuning, to the byte at three widths (256, 384, 4096). LoRA on every
        # linear keeps the same plus each A's output (act*r*7); with dropout 14h + I bytes more in bf16
        # (read as 4 dropped hidden-sized copies, act*4h, and the 7 one-byte masks, 6h + I). LoRA on attention only, Liger's kernels and eager
        # attention keep the eager counts below (the partitioner's choice there varies with the
        # width: an upper bound).
        per = act * (6 * h + 2 * kv + 3 * i) + 4 * heads + 8
        if method == "full":
            return per
        per += act * rank * 7
        return per + (act * 4 * h + 6 * h + i if lora_dropout > 0 else 0.0)
    norm = (act * h if liger else 4 * h) + 4
    mlp = (2 if liger else 3) * i * act
    if eager_seq:
        attn = 4 * h * act + heads * eager_seq * (4 + (act if act != 4 else 0))
    else:
        attn = act * (2 * h + 2 * kv) + 4 * heads
    per = 2 * norm + attn + mlp
    if method == "full":
        return per + act * (2 * h + i) + (0 if liger else 2 * act * h)
    if method == "frozen":
        return per  # a frozen layer with no adapter: backward takes input gradients only, no linear's input is kept
    mlp_lora = lora_targets == "all"
    adapted_inputs = [h, h, h, h] + ([h, h, i] if mlp_lora else [])  # q, k, v, o, gate, up, down
    a = adapter_act if own and adapter_act is not None else act
    per += a * rank * len(adapted_inputs)
    if lora_dropout > 0:
        return per + (a + 1) * sum(adapted_inputs)
    if own:
        return per + a * sum(adapted_inputs)  # each adapter's own cast copy of its input
    # no dropout: A saves x itself; q/k/v share the normed input, o_proj shares attention's output
    return per + act * h + (act * (h + i) if mlp_lora else 0.0)


def activation_bytes_per_token_layer(
    w: WorkloadConfig, hidden: int, heads: int, intermediate: int | None, kv_dim: int | None = None, context: int | None = None
) -> float:
    """Saved activations per token per layer for the workload's kernel stack.

    Transformer Engine's fused layers (fp8 with fused kernels and no compile: the Megatron/NeMo
    recipes the calibration rows come from, and te.TransformerLayer harnesses) keep, for full
    fine-tuning, what TE's modules save (read from TE's source, below: fp8 copies of the linear
    inputs); with a frozen base, the norm inputs, attention's inputs/outputs and the SwiGLU inputs,
    about 8h + 4*I bytes. That stack cannot run on CPU, so benchmarks/activation_memory.py does not
    measure it. Every other stack is PyTorch autograd over transformers' layers (with PEFT for LoRA):
    `layer_activation_bytes`, measured, eager or through torch.compile's partition."""
    act = 2.0 if w.precision != "fp32" else 4.0
    inter = intermediate or int(3.5 * hidden)
    context = context or w.seq_len  # the padded length a token attends against
    if _transformer_engine(w):
        kv = float(kv_dim or hidden)
        if trains_language_model(w):
            # What Transformer Engine's fp8 modules save for backward (ROCm/TransformerEngine 1.9.0 @ac80527,
            # transformer_engine/pytorch/module/): LayerNormLinear keeps its bf16 input, 1/rms and its
            # normalized output cast to fp8 (layernorm_linear.py:191-196, 317-327); the fused attention keeps
            # q, k, v, its output and the softmax statistics; Linear keeps its input cast to fp8
            # (linear.py:298-310); LayerNormMLP keeps its bf16 input, 1/rms, the fp8 normalized output, fc1's
            # bf16 output (gate and up, 2I) and the fp8 activation output fc2 reads (layernorm_mlp.py:269-279,
            # 466-482). In bytes: act*(4h + 2kv + 2I) in bf16, 3h + I in fp8, 4*heads + 8 in fp32 (Korthikanti
            # et al.'s 34h counts a GPT layer in bf16 and no fp8 copies).
            per = act * (4 * hidden + 2 * kv + 2 * inter) + 3 * hidden + inter + 4 * heads + 8
        else:
            per = (4 * hidden + 2 * inter) * act
        if w.attention == "eager":
            per += 2.5 * heads * context * act  # per local token, against the full context
        return per
    return layer_activation_bytes(
        hidden=hidden,
        intermediate=inter,
        kv_dim=kv_dim or hidden,
        heads=heads,
        method="full" if trains_language_model(w) else "frozen" if w.method == "full" else "lora",
        lora_targets=w.lora_targets,
        lora_dropout=w.lora_dropout,
        act=act,
        liger=w.fused_kernels,
        eager_seq=context if w.attention == "eager" else 0,
        compiled=w.torch_compile,
        adapter_act=adapter_bytes(w),
    )


def vision_tokens(w: WorkloadConfig) -> int:
    """Image tokens one micro-batch sends through the vision encoder (`WorkloadConfig.vision`; 0 without one): every
    sample's images at the most tiles (the collate pads the tiles to the batch's most, and peak memory is that batch's)."""
    v = w.vision
    return 0 if v is None else w.micro_batch_size * v.images_per_sample * v.tokens_per_image


def vision_activation_bytes(w: WorkloadConfig) -> float:
    """Activations the image part of a micro-batch keeps (formats/tune_vision.py for the facts): the projection's input
    (the concatenated hidden states) and output, the keys and values every cross-attention layer projects from the image
    tokens (not checkpointed: torchtune's checkpointing wraps the self-attention layers only), and, where the encoder
    trains, its layers' activations as the text's are kept (under checkpointing each layer's input plus one layer's
    recomputed activations). A frozen encoder builds no autograd graph: nothing of it is kept."""
    v = w.vision
    if v is None:
        return 0.0
    act = 2.0 if w.precision != "fp32" else 4.0
    tokens = vision_tokens(w)
    kept = tokens * (v.fusion_layers * 2 * v.kv_dim + v.decoder_hidden / v.merge) * act
    if not v.trains:
        return kept
    kept += tokens * (v.projection_in + v.projection_hidden) / v.merge * act
    per = layer_activation_bytes(
        hidden=v.hidden,
        intermediate=v.intermediate * v.mlp_matrices // 2,  # a gated MLP keeps gate and up outputs: 3/2 of fc1's
        kv_dim=v.hidden,
        heads=v.heads,
        method=v.method,
        lora_targets=w.lora_targets,
        lora_dropout=w.lora_dropout,
        act=act,
        eager_seq=v.tokens_per_image if w.attention == "eager" else 0,
        compiled=w.torch_compile,
    )
    if w.gradient_checkpointing:
        return kept + tokens * v.layers * v.hidden * act + tokens * per
    return kept + tokens * v.layers * per


def vision_params(w: WorkloadConfig) -> float:
    """Weights an image token passes through: the encoder's layers (attention 4h^2, MLP 2hI, or 3hI gated), its share of
    the projection to the decoder's width (a merging projector, Qwen2-VL's merger, reads `merge` encoder tokens at once),
    and each cross-attention layer's key and value projections."""
    v = w.vision
    if v is None:
        return 0.0
    encoder = v.layers * (4 * v.hidden**2 + v.mlp_matrices * v.hidden * v.intermediate)
    return float(encoder + _projection_weights(v) / v.merge + v.fusion_layers * 2 * v.decoder_hidden * v.kv_dim)


def _projection_weights(v: VisionTower) -> int:
    if v.projection_hidden:
        return v.projection_in * v.projection_hidden + v.projection_hidden * v.decoder_hidden
    return v.projection_in * v.decoder_hidden


def vision_weights(w: WorkloadConfig) -> float:
    """The GEMM weights of the image path (`vision_params`' matrices, each counted once): in the model's params_b, but
    no text token passes through them, so the text's GEMMs leave them out (costmodel.step); 0 without a vision encoder."""
    v = w.vision
    if v is None:
        return 0.0
    encoder = v.layers * (4 * v.hidden**2 + v.mlp_matrices * v.hidden * v.intermediate)
    return float(encoder + _projection_weights(v) + v.fusion_layers * 2 * v.decoder_hidden * v.kv_dim)


def _vision_attended(v: VisionTower) -> float:
    """Keys an image token attends to, summed over the encoder's layers: the whole image's tokens in every layer, but
    within a window in the windowed layers (Qwen2.5-VL: all but `full_attention_layers`)."""
    if v.window is None or v.full_attention_layers is None:
        return float(v.layers * v.tokens_per_image)
    full = min(v.full_attention_layers, v.layers)
    return float(full * v.tokens_per_image + (v.layers - full) * min(v.window, v.tokens_per_image))


def _vision_seconds(w: WorkloadConfig, hw: Hardware, a: Assumptions, bw: float) -> tuple[float, float, float]:
    """(forward, whole-pass compute, recompute) seconds of the image part of a micro-batch: GEMMs over `vision_params`,
    bidirectional attention over each image's tokens, elementwise passes; backward (weight and input gradients for a fully
    trained encoder, 2x forward; input gradients only under LoRA, 1x) and checkpointing's recompute only where it trains."""
    v = w.vision
    if v is None:
        return 0.0, 0.0, 0.0
    tokens = float(vision_tokens(w))
    peak = peak_tflops(hw, "bf16" if w.precision in QUANTIZED_GEMMS else w.precision) * 1e12
    eff_max = (a.fp32_gemm_eff_max if w.precision == "fp32" else a.gemm_eff_max) * a.matrix_scale
    gemm = 2 * vision_params(w) * tokens / (peak * _gemm_eff(eff_max, a, tokens, v.hidden))
    attn = 2 * 2 * _vision_attended(v) * v.hidden * tokens / (peak * a.attn_eff * a.matrix_scale)
    act = 2 if w.precision != "fp32" else 4
    elem = tokens * v.layers * v.hidden * act * a.elementwise_passes / 3 / bw
    fwd = gemm + attn + elem
    if not v.trains:
        return fwd, fwd, 0.0
    backward = 2.0 if v.method == "full" else 1.0  # weight and input gradients, or input gradients only (LoRA's own are small)
    return fwd, (1 + backward) * gemm + 3 * attn + 3 * elem, fwd * w.recompute_share if w.gradient_checkpointing else 0.0


def adapter_bytes(w: WorkloadConfig) -> float | None:
    """Bytes of a LoRA adapter's activation element where it is not the compute dtype's: `adapter_dtype`, set only for
    pure half precision (no autocast), while the precision is still the weights' dtype (an edit turning on mixed precision
    puts the adapters under autocast again)."""
    if w.adapter_dtype is None or w.precision != w.weight_dtype:
        return None
    return 4.0 if w.adapter_dtype == "fp32" else 2.0


def memory_gb(w: WorkloadConfig, parts: dict[str, float] | None = None) -> float:
    """Peak memory per GPU: weights, gradients, optimizer state, activations, logits. `parts`, when given, is filled
    with each term in GB before the allocator's share (rollout.offload_message states the training state from them)."""
    shape = estimate_shape(w.model)
    # tensor and pipeline parallelism: each GPU holds 1/(tp x pp) of the parameters (and their gradients and
    # optimizer state), which data-parallel sharding then splits over the remaining world / (tp x pp) ranks
    mp = _model_parallel(w)
    total_params = (shape.params_b if shape.params_b is not None else 7.0) * 1e9 / mp
    _, layers, hidden, heads, vocab = _shape(w, shape)
    trainable = trainable_params(w, total_params)
    wb, master, gb, ob = _state_bytes(w)
    if w.cpu_offload:  # optimizer state and fp32 master weights live in host memory (and with offload_params, below, the parameters)
        ob, master = 0.0, 0.0
    stage = _shard_stage(w)
    n = max(1, w.world_size // mp)
    if sharding_of(w) in ("hybrid", "hybrid_zero2", "mics"):
        n = max(1, min(n, w.shard_group or w.gpus_per_node or GPUS_PER_NODE))  # HSDP / MiCS: every state is sharded within the group only
    # Expert parallelism (Axolotl expert_parallel_size) keeps 1/ep of the routed experts on each GPU;
    # FSDP leaves the experts out and shards the rest over the dp_shard axis, the GPUs over ep
    # (axolotl 0.18.0 src/axolotl/integrations/expert_parallel/plugin.py:295-300).
    ep = max(1, w.expert_parallel)
    expert = _expert_params(shape, total_params) if ep > 1 else 0.0
    t_expert = expert if trains_language_model(w) else 0.0

    def sharded(count: float, experts: float, per: float, stage_from: int) -> float:
        d = max(1, n // ep) if stage >= stage_from else 1
        return (count - experts) * per / d + experts * per / ep

    weights = sharded(total_params, expert, wb, 3)
    masters = sharded(trainable, t_expert, master, 1)
    grads = sharded(trainable, t_expert, gb, 2)
    opt = sharded(trainable, t_expert, ob, 1)
    if stage >= 3:  # the all-gathered layers being computed on, in half precision
        weights += 2 * total_params / layers * 2
    if stage >= 3 and sharding_of(w) == "hpz":
        # ZeRO++ hpZ keeps a secondary half-precision partition of every parameter within its group
        weights += total_params * 2.0 / max(1, min(n, w.shard_group or w.gpus_per_node or GPUS_PER_NODE))
    if w.cpu_offload and w.offload_params:
        # Parameters live on the host: the GPU holds the unit being computed on and the one prefetched,
        # all-gathered (torch 2.13.0 _fully_shard/_fsdp_api.py:185-189; DeepSpeed ZeRO-3 offload_param).
        unit = total_params / layers
        weights = 2 * unit * (2.0 if w.precision != "fp32" else 4.0)
        if _gathered_through_backward(w):
            # SHARD_GRAD_OP keeps every unit's all-gathered parameters from its forward to its backward, offloaded or
            # not: the whole model in the compute dtype at the backward's start (FSDP1: no free after the forward,
            # torch 2.13.0 torch/distributed/fsdp/_runtime_utils.py:496-500, _flat_param.py:116-119; FSDP2's
            # reshard_after_forward=False likewise); only the sharded copy between steps is on the host.
            weights = total_params * (2.0 if w.precision != "fp32" else 4.0)
        if w.strategy != "deepspeed":
            # FSDP: each unit's reduced gradients go to the host too and the optimizer steps there
            # (torch 2.13.0 torch/distributed/fsdp/api.py:235-238): one unit's gradients in flight.
            grads = trainable / layers * gb
    if w.reference_copy:  # a frozen reference model in the policy's dtype, sharded like it under ZeRO-3 / FSDP
        weights += total_params * wb / (n if stage >= 3 else 1)
    # the longest micro-batch at the sampled lengths (seq_len when packed, padded to it, or not sampled);
    # preference training: chosen and rejected in one batch
    tokens = micro_batch_tokens(w, peak=True) * w.sequences_per_example
    teacher_weights, teacher_logits = _teacher_memory(w, n if stage >= 3 else 1, tokens, vocab, total_params / layers)
    weights += teacher_weights
    act = 2.0 if w.precision != "fp32" else 4.0
    kv_dim = hidden // heads * shape.n_kv_heads if shape.n_kv_heads else None
    per = activation_bytes_per_token_layer(w, hidden, heads, shape.intermediate, kv_dim, sample_length(w, peak=True))
    if w.gradient_checkpointing:
        share = w.recompute_share
        kept = 0.0 if w.activation_offloading else tokens * layers * share * hidden * act
        stored = tokens * layers * (1 - share) * per
        activations = kept + stored + tokens * per * (2 if w.activation_offloading else 1)
    else:
        activations = tokens * layers * per
    activations += vision_activation_bytes(w)
    # a sequence classifier's head is hidden x num_labels, one pooled row per sample: no vocabulary logits (formats/seqcls.py)
    logits = 0.0 if w.sequence_classification else tokens * vocab * 4.0 * 2
    if w.fused_kernels:
        logits /= 8  # fused linear cross-entropy works on chunks of the logits
    logits += teacher_logits
    tp, pp = max(1, w.tensor_parallel), max(1, w.pipeline_parallel)
    if tp > 1:
        # with sequence parallelism every activation of a layer is split over the tensor-parallel ranks
        # (Korthikanti et al. 2022, arXiv:2205.05198 section 4.2.2, sbh(34/t) per layer), and the logits
        # are vocabulary-parallel; without it some norm inputs stay whole: a lower bound there
        activations /= tp
        logits /= tp
    if pp > 1:
        # 1F1B: the first stage holds its L/p layers for min(p, m) micro-batches in flight, L layers' worth of
        # one micro-batch at most; the interleaved schedule holds (1 + (p-1)/(p v)) times that (Korthikanti et
        # al. 2022 section 4.2.3). Logits are the last stage's: counted too, an upper bound.
        in_flight = min(pp, max(1, w.gradient_accumulation)) / pp
        if w.virtual_pipeline > 1:
            in_flight *= 1 + (pp - 1) / (pp * w.virtual_pipeline)
        activations *= in_flight
    if parts is not None:
        parts.update(
            {
                "weights": weights / GB,
                "masters": masters / GB,
                "grads": grads / GB,
                "optimizer": opt / GB,
                "activations": activations / GB,
                "logits": logits / GB,
            }
        )
    return (weights + masters + grads + opt + activations + logits) / GB * 1.08  # allocator fragmentation


def _teacher_memory(w: WorkloadConfig, shards: int, tokens: float, vocab: int, student_unit: float) -> tuple[float, float]:
    """(weights, logits) bytes per GPU a knowledge-distillation teacher adds (0, 0 without one).

    Weights: the teacher is built in the recipe's `dtype` (torchtune 0.6.1 recipes/knowledge_distillation_single_device.py:
    477-478, `training.set_default_dtype(self._dtype)`, :488-490 validates it) and, distributed, sharded by the same
    training.shard_model call as the student with the same fsdp_cpu_offload (knowledge_distillation_distributed.py:
    545, 558-563; :587 requires_grad False): `shards` ways under FSDP, its gathered layer in place of the student's while it runs (reshard after forward),
    and with parameters offloaded only that gathered layer's bytes beyond the student's. With `fsdp_reshard_after_forward:
    False` the whole teacher stays gathered: FSDP2 skips the reshard after a forward then (torch 2.13.0
    distributed/fsdp/_fully_shard/_fsdp_param_group.py:499-502, 557-563) and reshards in the root's post-backward
    callback (_fsdp_state.py:395-419), which a teacher run under no_grad never reaches. Logits: the teacher's output in
    `dtype` chunks (torchtune/modules/transformer.py:655-659; fp32 unchunked, counted at `dtype`: a lower bound there; chunked when the loss is CEWithChunkedOutputLoss,
    single_device.py:278-281) lives through the KD loss, which keeps for backward an fp32 softmax of the teacher's and an
    fp32 log-softmax of the student's logits per chunk (modules/loss/kd_losses.py:49-52): 4 + 4 bytes per token and entry."""
    t = w.teacher
    if t is None or t.params_b is None:
        return 0.0, 0.0
    tb = 4.0 if w.precision == "fp32" else 2.0
    params = t.params_b * 1e9 / _model_parallel(w)
    unit = params / max(1, t.n_layers or 32)
    gathered = max(0.0, unit - student_unit) * tb * 2 if shards > 1 else 0.0
    weights = gathered if (w.cpu_offload and w.offload_params) else params * tb / shards + gathered
    if w.teacher_unsharded and shards > 1:
        weights = params * tb
    logits = tokens * (t.vocab or vocab) * (tb + 8.0) / max(1, w.tensor_parallel)
    return weights, logits


def teacher_forward_s(w: WorkloadConfig, hw: Hardware, a: Assumptions) -> float:
    """Seconds per micro-batch of a knowledge-distillation teacher's no-grad forward of the same tokens (torchtune 0.6.1
    knowledge_distillation_single_device.py:651-653, _distributed.py:795-796), priced as the student's forward is priced
    with the teacher's shape, unquantized and without adapters; under FSDP its layers are all-gathered for that forward,
    hidden behind it up to `comm_overlap` like the student's gathers (0 without a teacher)."""
    t = w.teacher
    if t is None:
        return 0.0
    as_model = w.model_copy(
        update={"model": t, "teacher": None, "method": "full", "quantization": "none", "prequantized": None, "gradient_checkpointing": False}
    )
    fwd = step(as_model, hw, a, peak_gb=0.0).forward_s
    n = _data_parallel_ranks(w)
    if _shard_stage(w) < 3 or n <= 1 or w.teacher_unsharded:  # unsharded: gathered once, kept (_teacher_memory)
        return fwd
    gather = (t.params_b or 0.0) * 1e9 / _model_parallel(w) * (4.0 if w.precision == "fp32" else 2.0) * seconds_per_byte(w, hw, n, a.comm_eff)
    overlap = 0.0 if w.comm_overlap is False else a.comm_overlap
    return fwd + max(gather * (1 - overlap), gather - fwd)


FP32_RATIO = 8.0  # MI300X: 1307.4 bf16 / 163.4 fp32 matrix TFLOPS, used where a target's fp32 peak has no source


def peak_tflops(hw: Hardware, precision: str) -> float:
    if precision == "fp32":
        return hw.fp32_tflops or hw.bf16_tflops / FP32_RATIO
    if precision == "fp8":
        return hw.fp8_tflops or hw.bf16_tflops
    if precision in ("mxfp4", "mxfp6"):
        # a GPU without the format runs nothing faster than its fp8 (or bf16) path; precision.mx_without_hardware_support says so
        return (hw.fp4_tflops if precision == "mxfp4" else hw.fp6_tflops) or hw.fp8_tflops or hw.bf16_tflops
    return hw.fp16_tflops if precision == "fp16" else hw.bf16_tflops


def topology(w: WorkloadConfig, hw: Hardware) -> tuple[int, int]:
    """(nodes, GPUs per node) of the run: as the workload states them, else the world size filled
    into the target's nodes (`gpus_per_node`, 8 where the GPU table has none)."""
    if w.nodes is not None and w.gpus_per_node is not None:
        return w.nodes, w.gpus_per_node
    n = max(1, w.world_size)
    fabric = hw.gpus_per_node or 8
    nodes = w.nodes or -(-n // fabric)
    return nodes, -(-n // nodes)


def seconds_per_byte(w: WorkloadConfig, hw: Hardware, ranks: int, comm_eff: float) -> float:
    """Seconds per byte of one all-gather (or reduce-scatter) of a buffer over `ranks` data-parallel
    GPUs, intra-node at the node's fabric (xGMI) and inter-node at the network's.

    Two levels, as RCCL's rings and trees use a multi-node machine with one NIC per GPU: of the
    (n-1)/n of the buffer each GPU receives, the (G-1)/G gathered inside its node of G ranks crosses
    the fabric (`scale_up_gb_s`), and the part from the other N-1 nodes arrives spread over the G
    GPUs' own NICs, (N-1)/(N*G) of the buffer per GPU, at `scale_out_gb_s` each (kb/hardware.yaml:
    one 400 Gb/s NIC per GPU, 8 x 400 Gb/s per MI300X node, assumed there). One node: (n-1)/n at the
    fabric's speed, as before."""
    nodes, per_node = topology(w, hw)
    within, across = _link_rates(hw, comm_eff)
    if ranks <= 1:
        return 0.0
    local = max(1, min(ranks, per_node // max(1, w.context_parallel)))
    groups = max(1, -(-ranks // local))
    if nodes <= 1 or groups <= 1:
        return (ranks - 1) / ranks / within
    return (local - 1) / local / within + (groups - 1) / (groups * local) / across


def _link_rates(hw: Hardware, comm_eff: float) -> tuple[float, float]:
    """(intra-node, inter-node) achieved bytes per second per GPU."""
    within = (hw.scale_up_gb_s or 64.0) * GB * comm_eff  # no sourced fabric figure: PCIe Gen5 x16, 64 GB/s each way
    across = (hw.scale_out_gb_s or 50.0) * GB * comm_eff
    return within, across


def shard_group(w: WorkloadConfig, hw: Hardware) -> int:
    """GPUs one shard group spans under hierarchical sharding (the config's, else one node's data-parallel
    GPUs), never more than the data-parallel ranks; the ranks themselves under full sharding."""
    n = _data_parallel_ranks(w)
    if sharding_of(w) not in _HIERARCHICAL:
        return n
    _nodes, per_node = topology(w, hw)
    g = w.shard_group or max(1, per_node // max(1, w.context_parallel))
    return max(1, min(g, n))


def _replica_seconds_per_byte(w: WorkloadConfig, hw: Hardware, group: int, comm_eff: float) -> float:
    """Seconds per byte of one reduce-scatter (half an all-reduce) of a gradient shard across the
    replicas of a shard group of `group` consecutive ranks: the replicas inside a node over the fabric,
    the nodes' over each GPU's own NIC (every GPU of a node holds a different shard)."""
    n = _data_parallel_ranks(w)
    replicas = max(1, n // max(1, group))
    if replicas <= 1:
        return 0.0
    nodes, per_node = topology(w, hw)
    within, across = _link_rates(hw, comm_eff)
    local = max(1, min(replicas, max(1, per_node // max(1, w.context_parallel)) // max(1, group)))
    groups = max(1, -(-replicas // local))
    if nodes <= 1 or groups <= 1:
        return (replicas - 1) / replicas / within
    return (local - 1) / local / within + (groups - 1) / (groups * local) / across


def _communication(w: WorkloadConfig, hw: Hardware, a: Assumptions, micro_compute_s: float, shape: ModelShape) -> tuple[float, float]:
    """(exposed collective seconds per micro-batch, per optimizer step) for data parallelism.

    DDP all-reduces the trainable gradients once per step; ZeRO-1/2 reduce-scatters them and
    all-gathers the updated shards; FSDP / ZeRO-3 all-gathers every layer's weights in forward
    and again in backward and reduce-scatters its gradients, on every micro-batch. A ring or
    mesh moves (n-1)/n of the bytes per GPU per gather or scatter, twice that for an all-reduce.
    Up to `comm_overlap` of it hides behind compute, never more than the compute there is.
    """
    n = _data_parallel_ranks(w)
    if n <= 1:
        return 0.0, 0.0
    total = (shape.params_b or 7.0) * 1e9 / _model_parallel(w)  # each GPU's share of a tensor/pipeline-split model
    trainable = trainable_params(w, total)
    per_byte = seconds_per_byte(w, hw, n, a.comm_eff)
    param_bytes = 2.0 if w.precision != "fp32" else 4.0  # the updated weights a ZeRO-1/2 step all-gathers
    grad_bytes = param_bytes
    if w.grad_dtype is not None:
        # the dtype the config reduces gradients in (WorkloadConfig.grad_dtype): torchtitan's FSDP2 reduce-scatters in
        # fp32 (MixedPrecisionPolicy reduce_dtype from `mixed_precision_reduce`, whose one value and default is "float32":
        # pytorch/torchtitan torchtitan/config/job_config.py:207, models/llama3/infra/parallelize.py:109-110 @2c8b594),
        # Megatron-LM all-reduces in fp32 under --bf16 unless --grad-reduce-in-bf16 (schemas.WorkloadConfig.grad_dtype)
        grad_bytes = 4.0 if w.grad_dtype == "fp32" else 2.0
    stage = _shard_stage(w)
    per_micro = per_step = 0.0
    if stage >= 3:
        # MoE experts are assumed sharded by expert parallelism (routed to, not gathered): only the rest is gathered
        experts = 0.0
        if shape.n_experts and shape.n_layers and shape.hidden and shape.intermediate:
            experts = min(float(shape.n_layers * shape.n_experts * 3 * shape.hidden * shape.intermediate) / _model_parallel(w), 0.95 * total)
        gather = (total - experts) * (1.0 if w.precision == "fp8" else 2.0 if w.precision != "fp32" else 4.0)
        scattered = trainable * (1 - experts / total)  # expert gradients stay with their expert-parallel rank
        group = shard_group(w, hw)
        scheme = sharding_of(w)
        if scheme in ("hybrid", "hybrid_zero2", "mics") and 1 < group < n:
            # HSDP / MiCS: gathers and the reduce-scatter stay inside the shard group; each GPU then
            # all-reduces its gradient shard (1/group) with its replicas in the other groups (torch 2.13.0
            # fsdp/_runtime_utils.py:863-872 all_reduce on _inter_node_pg, _fully_shard/_fsdp_collectives.py:634;
            # DeepSpeed MiCS v0.19.5 deepspeed/runtime/zero/mics.py). _HYBRID_SHARD_ZERO2's saved
            # backward gather is not modelled (counted as HYBRID_SHARD).
            inner = seconds_per_byte(w, hw, group, a.comm_eff)
            per_micro = (2 * gather + scattered * grad_bytes) * inner
            per_micro += 2 * scattered * grad_bytes / group * _replica_seconds_per_byte(w, hw, group, a.comm_eff)
        elif scheme == "hpz" and 1 < group < n:
            # ZeRO++ hpZ: the forward all-gather and the gradient reduce-scatter still span every rank; the
            # backward all-gather reads the secondary partition inside the group (DeepSpeed v0.19.5
            # docs/_tutorials/zeropp.md:14 "hpZ eliminates inter-node backward parameter all-gather")
            per_micro = (gather + scattered * grad_bytes) * per_byte + gather * seconds_per_byte(w, hw, group, a.comm_eff)
        else:
            per_micro = (2 * gather + scattered * grad_bytes) * per_byte
    elif stage == 2 and w.strategy == "fsdp":
        # FSDP SHARD_GRAD_OP: one all-gather of the parameters per micro-batch (kept through the backward,
        # not gathered again) and the gradient reduce-scatter (torch 2.13.0 torch/distributed/fsdp/api.py:43-49;
        # gradient accumulation outside no_sync() is assumed, the larger count)
        gather = total * (1.0 if w.precision == "fp8" else 2.0 if w.precision != "fp32" else 4.0)
        per_micro = (gather + trainable * grad_bytes) * per_byte
    elif stage == 2:
        # ZeRO-2 partitions gradients, so it reduce-scatters them on every micro-batch, not only at the
        # accumulation boundary as ZeRO-1 does (DeepSpeed 0.19.6 deepspeed/runtime/zero/stage_1_and_2.py:1767-1768,
        # `if self.partition_gradients or self.is_gradient_accumulation_boundary()`); the updated shards are
        # all-gathered once per optimizer step
        per_micro = trainable * grad_bytes * per_byte
        per_step = trainable * param_bytes * per_byte
    elif stage >= 1:
        # the gradients' reduce-scatter and the updated weights' all-gather
        per_step = trainable * (grad_bytes + param_bytes) * per_byte
    else:
        per_step = 2 * trainable * grad_bytes * per_byte  # a ring all-reduce of the gradients

    # a ZeRO-3 file with `overlap_comm: false` runs its collectives on the compute stream (DeepSpeed v0.19.5
    # runtime/zero/parameter_offload.py:189-190, stage3.py:335-336): none of them hides
    overlap = 0.0 if w.comm_overlap is False and stage >= 3 else a.comm_overlap

    def exposed(comm: float, compute: float) -> float:
        return max(comm * (1 - overlap), comm - compute)

    # the step's gradient sync overlaps only the last micro-batch's backward
    return exposed(per_micro, micro_compute_s), exposed(per_step, micro_compute_s * 2 / 3)


def _model_parallel_comm(w: WorkloadConfig, hw: Hardware, a: Assumptions, tokens: float, hidden: int, layers: int, act_bytes: int) -> float:
    """Exposed seconds per micro-batch of tensor- and pipeline-parallel traffic, inside a node (xGMI).

    Tensor parallelism all-reduces a layer's activations twice in forward and twice in backward
    (Shoeybi et al. 2019, arXiv:1909.08053 section 3: the f and g operators of the MLP and attention
    blocks), again for each recomputed forward; each all-reduce of B bytes over t ranks moves 2(t-1)/t x B
    per GPU. Megatron-Core leaves it on the critical path unless `tp_comm_overlap` is set (default False,
    megatron/core/model_parallel_config.py @02aa3ee): charged whole. Pipeline stages send one micro-batch's
    activations forward and their gradients back per stage boundary (point-to-point, tokens x hidden), up
    to `comm_overlap` hidden behind compute."""
    within = (hw.scale_up_gb_s or 64.0) * GB * a.comm_eff
    tp, pp = max(1, w.tensor_parallel), max(1, w.pipeline_parallel)
    out = 0.0
    if tp > 1:
        rounds = 4 + (2 * w.recompute_share if w.gradient_checkpointing else 0.0)
        out += layers / pp * rounds * 2 * (tp - 1) / tp * tokens * hidden * act_bytes / within
    if pp > 1:
        out += 2 * tokens * hidden * act_bytes / tp / within * (1 - a.comm_overlap)
    return out


def _context_parallel_comm(
    w: WorkloadConfig, hw: Hardware, a: Assumptions, tokens: float, layers: int, kv_dim: int, act_bytes: int, attention_s: float
) -> float:
    """Exposed seconds per micro-batch of context parallelism's K/V exchange, inside a node (xGMI).

    Each of the cp ranks holds tokens/cp of a sequence and needs every other rank's keys and values:
    Megatron-Core all-gathers K/V in forward, all-gathers them again in backward and reduce-scatters
    their gradients, as point-to-point transfers in a ring (NVIDIA/Megatron-LM
    docs/source/api-guide/context_parallel.rst @1df56dc): (cp-1) K/V chunks per layer three times.
    They are assumed to overlap the attention blocks they feed, as ring attention does; what the
    attention time cannot hide, or 1 - comm_overlap of it at least, is exposed.
    """
    cp = max(1, w.context_parallel)
    if cp <= 1:
        return 0.0
    within = (hw.scale_up_gb_s or 64.0) * GB * a.comm_eff
    per_layer = (cp - 1) * tokens * 2 * kv_dim * act_bytes
    comm = 3 * per_layer * layers / max(1, w.pipeline_parallel) / max(1, w.tensor_parallel) / within
    return max(comm * (1 - a.comm_overlap), comm - attention_s)


# Bytes per element read and written by the eager (uncompiled) elementwise ops of one Llama decoder layer's forward,
# counted from torchtune 0.5.0's model code (issue 25, compile9); bf16 activations, fp32 where the op upcasts:
# - RMSNorm, twice per layer (sa_norm, mlp_norm: torchtune/modules/transformer.py:121,128): `F.rms_norm(x.float(), ...)
#   .to(x.dtype)` (torchtune/modules/rms_norm.py:38-43): the upcast (2 read + 4 written), F.rms_norm's composite
#   pow / mean / mul by the reciprocal root / mul by the scale on fp32 (4+4, 4, 4+4, 4+4) and the downcast (4+2): 40
#   (aten::rms_norm is CompositeImplicitAutograd in torch 2.13.0; a build that dispatches its fused GPU kernel,
#   aten::_fused_rms_norm, leaves about 8 of the composite's 28: the count is the far end, not the point)
# - RoPE on q and k (torchtune/models/llama3_1/_position_embeddings.py:171-191, Llama 3.2's Llama3ScaledRoPE): the
#   upcast (2+4), four multiplies of fp32 halves (4 each), a subtraction and an addition of them (6 each), torch.stack
#   (4+4), the downcast (4+2): 48, on the query's width and the keys'
# - grouped-query attention: k and v expanded to every query head and flattened, a copy (attention.py:288-290), and
#   the output's transpose(1, 2).contiguous() (attention.py:302): 2 + 2 per expanded element, 4 per output element
# - two residual adds (transformer.py:125,131): 4 read + 2 written, each
# - SwiGLU (feed_forward.py:50-52, nn.SiLU by default, :32): silu on the gate (2+2) and its product with the up
#   projection (4+2), on the intermediate width
# - each LoRA adapter (torchtune/modules/peft/lora.py:137-139): the alpha / rank scaling (2+2) and the add to the
#   frozen projection's output (4+2), on that projection's output width; lora_dropout 0 is nn.Identity (:90)
# Backward's elementwise traffic is taken as twice forward's, the x3 `elementwise_passes` already assumes. Embedding,
# final norm and loss are once per model, not per layer, and are left out.
ROPE_BYTES, NORM_BYTES, RESIDUAL_BYTES = 48.0, 40.0, 6.0
SILU_BYTES, GATE_PRODUCT_BYTES, LORA_BYTES = 4.0, 6.0, 10.0


def eager_elementwise_passes(w: WorkloadConfig) -> float:
    """Activation-sized (hidden x act_bytes) memory passes per layer per token, forward and backward, that an eager
    Llama-shaped layer makes by the op count above (torchtune 0.5.0): the upper end of what `elementwise_passes`
    (an assumption, 40) stands for. Not a point estimate: no AMD measurement of an eager layer's elementwise time
    backs it, so goblin reads it only as the far end of a term it has not measured (audit_tools._unsure_small_rules)."""
    shape = estimate_shape(w.model)
    _params, _layers, hidden, heads, _vocab = _shape(w, shape)
    kv = hidden // heads * shape.n_kv_heads if shape.n_kv_heads else hidden
    inter = float(shape.intermediate or 3.5 * hidden)
    act = 2.0 if w.precision != "fp32" else 4.0
    fwd = 2 * NORM_BYTES * hidden + ROPE_BYTES * (hidden + kv) + 2 * RESIDUAL_BYTES * hidden
    fwd += 2 * (2 * hidden + 2 * kv) * (hidden > kv) + 4 * hidden  # the expanded k, v copies (when grouped) and the output copy
    fwd += (SILU_BYTES + GATE_PRODUCT_BYTES) * inter
    if w.method in ("lora", "qlora", "dora"):
        outputs = 2 * hidden + kv + (2 * inter + hidden + kv if w.lora_targets == "all" else kv)  # q, o, k, v (+ gate, up, down)
        fwd += LORA_BYTES * outputs
    return 3 * fwd / (hidden * act)


# Parameter offload's host traffic, per micro-batch: goblin's own projection, no published figure. With ZeRO-3
# `offload_param.device: cpu` every rank keeps its partition of each parameter in (pinned) host memory (DeepSpeed
# v0.19.5 deepspeed/runtime/zero/partition_parameters.py:1130-1138, the offload device is the `remote_device` that
# holds the partitions; :1784-1798, each partition allocated there) and copies it to the GPU at every all-gather
# (:1314-1316, `p.ds_tensor.to(current_device)` before `_dist_allgather_fn`); FSDP's CPUOffload(offload_params=True)
# likewise keeps the sharded parameters on the host (torch 2.13.0 torch/distributed/fsdp/api.py:235-238). A layer
# is gathered for the forward and again for the backward: two fetches of the rank's shard, and a third for a
# preference trainer's reference forward, which runs the same modules. A recompute's gather is left out: a
# parameter used again within `stage3_max_reuse_distance` elements (default 1e9, DeepSpeed v0.19.5
# deepspeed/runtime/zero/config.py:244) is not released (partitioned_param_coordinator.py:653-663), and a
# checkpointed layer's recompute runs just before its backward; the last layers, whose backward follows their
# forward within that distance, are not subtracted either (at most 1e9 elements' worth of one fetch). Over the host link (MI300X: PCIe Gen5 x16 to the host,
# /work/shared/research/rocm-facts.md, GPU table, from the ROCm MI300 microarchitecture page), `host_link_gb_s` in
# the grid (25-64 GB/s). The copy runs on the all-gather's stream: hidden behind compute at `offload_exposed` like
# activation offload's copies, and not at all where ZeRO-3's `overlap_comm: false` puts the all-gathers on the
# compute stream (DeepSpeed v0.19.5 parameter_offload.py:189-190, `comm_overlap`).
PARAM_FETCHES = 2


# CPU AdamW under ZeRO-Offload / FSDP offload: the host memory traffic of the optimizer step, per node. One host's CPU
# cores and memory serve every rank on it: DeepSpeed's ZeRO-Offload tutorial has `--bind_cores_to_rank` "divide
# physical CPU cores evenly among ranks" for the CPU optimizer (deepspeedai/DeepSpeed docs/_tutorials/zero-offload.md:
# 78-80 @v0.19.5), so each of a node's ranks gets its share. 60 GB/s from DeepSpeed's ZenFlow blog
# (blogs/deepspeed-zenflow/README.md:94 @v0.19.5): Llama-2-7B on 4x A100 with ZeRO-Offload, "the CPU path can take
# longer than 4s", i.e. 7e9 parameters x 32 bytes (goblin's AdamW host traffic) = 224 GB in about 3.9 s once the PCIe
# copies (2x model size per step, :98) are taken off. DeepSpeed PR #7474 (commit f03d416ea, the same tutorial):
# Qwen2.5-3B on 2x A100-40GB, 128 host cores, 2.38 s per whole step with core binding (3.08 s without), so the CPU
# step of 3.09e9 parameters took at most that: at least 41 GB/s. The grid walks 40-100 GB/s (that bound to the
# per-rank 100 GB/s assumed before, which priced a node of eight ranks at 800 GB/s and ZenFlow's step at under 1 s).
HOST_OPTIMIZER_GB_S = 60.0


def ranks_per_host(w: WorkloadConfig, hw: Hardware) -> int:
    """Ranks sharing one host's CPU optimizer: the GPUs of a node the run fills (all of them on a single node)."""
    return max(1, min(w.world_size, hw.gpus_per_node or GPUS_PER_NODE))


def _grad_round_trip_s(w: WorkloadConfig, trainable: float, a: Assumptions) -> float:
    """Seconds per micro-batch ZeRO-3's optimizer offload spends carrying gradients across the host link beyond the
    step's own copies, averaged over the accumulation. With `offload_optimizer` the rank's gradient partitions
    accumulate in a host buffer (DeepSpeed v0.19.5 deepspeed/runtime/zero/stage3.py:328, the device is the CPU; :711-715,
    the buffer), in the gradient-accumulation dtype, the model's unless `data_types.grad_accum_dtype` says otherwise
    (engine.py:1444-1455). The first micro-step copies its partition down (stage3.py:1873-1877); each later one copies the
    buffer up, adds, and copies it down again (:1878-1887, "adding directly to cpu is very slow"): 2 (GA-1) / GA
    partition copies per micro-batch beyond the first, which the step's term counts. Non-blocking on the gradient
    reduction's stream: hidden at `offload_exposed`, not at all with `overlap_comm: false`."""
    ga = max(1, w.gradient_accumulation)
    if not w.cpu_offload or w.strategy != "deepspeed" or w.zero_stage != 3 or ga == 1:
        return 0.0
    gbytes = 4.0 if w.precision == "fp32" else 2.0
    exposed = 1.0 if w.comm_overlap is False else a.offload_exposed
    return trainable * gbytes * 2 * (ga - 1) / ga / (a.host_link_gb_s * GB) * exposed


def no_grad_forwards(w: WorkloadConfig) -> int:
    """Forwards of a micro-batch's worth of sequences run under no_grad beside the training one: a preference trainer's
    reference forward of the batch, and KTO's KL term (`kl_forward`), the policy's forward over the mismatched (prompt,
    completion) pairs and, with a reference forward, the reference's over them (trl 1.16.0 kto_trainer.py:1379,
    :1424-1435; llamafactory 0.9.5 train/kto/trainer.py:188-189, :213-216). They keep no activations for backward, and a
    checkpointed run recomputes none of them (trl disables checkpointing around the reference forwards, :1425)."""
    ref = 1 if w.reference_forward else 0
    return ref + ((1 + ref) if w.kl_forward else 0)


def _gathered_through_backward(w: WorkloadConfig) -> bool:
    """FSDP SHARD_GRAD_OP (FSDP2 `reshard_after_forward=False`): each unit stays all-gathered from its forward to its
    backward (torch 2.13.0 torch/distributed/fsdp/api.py:43-49)."""
    return w.strategy == "fsdp" and w.sharding == "grad_op" and w.world_size > 1


def _param_fetch_s(w: WorkloadConfig, shape: ModelShape, a: Assumptions) -> float:
    """Seconds per micro-batch spent copying the rank's offloaded parameter shard to the GPU (0 without it).

    FSDP SHARD_GRAD_OP with `offload_params` (ZeRO-2's memory otherwise, `_shard_stage` 2) still keeps the parameter
    shards on the host and copies them up for each all-gather: one fetch per micro-batch, the forward's. FSDP2 skips
    the backward's unshard of a group still gathered (torch 2.13.0 _fully_shard/_fsdp_param_group.py:375-376), so its
    copy (_fsdp_param.py:896-899, in all_gather_inputs) runs once; FSDP1's pre-unshard copies the shard again before
    the backward although the all-gather is skipped there (_flat_param.py:1326-1337, :1371-1380): a second copy, left
    out (goblin does not tell FSDP1 from FSDP2), so this is FSDP1's lower bound."""
    once = _gathered_through_backward(w)
    if not (w.cpu_offload and w.offload_params) or (_shard_stage(w) < 3 and not once):
        return 0.0
    total = (shape.params_b if shape.params_b is not None else 7.0) * 1e9
    shard = total * _state_bytes(w)[0] / max(1, _data_parallel_ranks(w))
    exposed = 1.0 if w.comm_overlap is False else a.offload_exposed
    fetches = (1 if once else PARAM_FETCHES) + no_grad_forwards(w)
    if w.teacher is not None and w.teacher.params_b is not None and not w.teacher_unsharded:
        # a KD teacher offloaded with the student (the same fsdp_cpu_offload, _teacher_memory): one fetch of its shard, for its forward
        shard += w.teacher.params_b * 1e9 * (4.0 if w.precision == "fp32" else 2.0) / max(1, _data_parallel_ranks(w)) / fetches
    return fetches * shard / (a.host_link_gb_s * GB) * exposed


def attended_keys(w: WorkloadConfig, length: int) -> float:
    """Keys a query attends to, averaged over a `length`-token sample: length / 2 under the causal mask (the
    fused kernels skip the masked tiles); with a sliding window of W keys under `flash`,
    (sum over i = 1..length of min(i, W)) / length = W - W(W-1) / (2 length). flash_attn's kernels skip the
    tiles outside the band: the CK forward builds a band mask "b:left,0" from window_size_left with causal
    (ROCm/flash-attention csrc/flash_attn_ck/mha_fwd.cpp @fb8ce62, mha_fwd); `sdpa` and `eager` get a window
    only as a dense mask and run the full causal (or square) product, so they keep length / 2.
    """
    window = w.attention_window
    if w.attention != "flash" or window is None or window >= length:
        return length / 2
    return window - window * (window - 1) / (2 * length)


def step(w: WorkloadConfig, hw: Hardware, a: Assumptions | None = None, *, peak_gb: float | None = None) -> StepModel:
    """One optimizer step under assumptions `a` (the target's nominal ones by default); `peak_gb`,
    when the caller has it, saves recomputing memory, which no assumption changes."""
    a = a or nominal_for(hw)
    shape = estimate_shape(w.model)
    params, layers, hidden, heads, vocab = _shape(w, shape)
    bw = hw.hbm_tb_s * 1e12 * a.bw_eff
    length = sample_length(w)  # padded length of a micro-batch's samples (seq_len unless sampled lengths say less)
    tokens = micro_batch_tokens(w) * w.sequences_per_example  # preference training: chosen and rejected in one batch
    micro = w.gradient_accumulation
    # GEMMs: forward 2N per token; backward 4N (full) or 2N (frozen base: input grads only).
    bwd_factor = 2.0 if trains_language_model(w) else 1.0
    # Tensor parallelism splits every GEMM's weight (and attention's heads) over tp GPUs, each running the
    # whole micro-batch's tokens against 1/tp of the width; pipeline parallelism gives each GPU 1/pp of the
    # layers. The terms below are the whole model's; `split` divides them per GPU.
    # The GEMM efficiency keeps the model's hidden size: its size term is fitted, not a GEMM-shape law
    # (docs/projection.md, "Parameters and their sources"), so the narrower per-GPU GEMMs are not priced.
    tp, pp = max(1, w.tensor_parallel), max(1, w.pipeline_parallel)
    embed = float(vocab * hidden) if params > 4 * vocab * hidden else 0.0  # the input embedding is a lookup, not a GEMM
    head = float(vocab * hidden)  # the output projection stays in bf16 in fp8 recipes
    # a sequence classifier's head is hidden x num_labels (formats/seqcls.py): no vocabulary-wide GEMM runs, and the
    # vocabulary's weights are still not a dense layer's
    head_gemm = 0.0 if w.sequence_classification else head
    half_peak = peak_tflops(hw, "bf16" if w.precision in QUANTIZED_GEMMS else w.precision) * 1e12
    half_eff_max = (a.fp32_gemm_eff_max if w.precision == "fp32" else a.gemm_eff_max) * a.matrix_scale
    bf16_peak = peak_tflops(hw, "bf16") * 1e12
    half_ridge = half_peak / bf16_peak * _OPERAND_BYTES["bf16" if w.precision in QUANTIZED_GEMMS else w.precision] / 2
    if w.precision in QUANTIZED_GEMMS:
        lin_peak = peak_tflops(hw, w.precision) * 1e12
        lin_eff_max = (a.fp8_gemm_eff_max if _transformer_engine(w) else a.fp8_compiled_gemm_eff_max) * a.matrix_scale
    else:
        lin_peak, lin_eff_max = half_peak, half_eff_max
    # an MX format on a GPU without MX matrix cores runs at most as its fp8 path (peak_tflops's fallback)
    mx_native = w.precision not in ("mxfp4", "mxfp6") or (hw.fp4_tflops if w.precision == "mxfp4" else hw.fp6_tflops)
    ridge = lin_peak / bf16_peak * _OPERAND_BYTES[w.precision if mx_native else "fp8"] / 2
    expert, routed = _experts(shape, params)
    # the image path's weights (a vision encoder priced on its own tokens, _vision_seconds) see no text token
    dense = max(params - expert - embed - head - vision_weights(w), 0.0)
    # MoE: each expert's GEMMs see only the tokens routed to it, so they run less efficiently.
    fwd_gemm = (
        2 * dense * tokens / (lin_peak * _gemm_eff(lin_eff_max, a, tokens, hidden, ridge))
        + 2 * expert * tokens / (lin_peak * _gemm_eff(lin_eff_max, a, tokens * routed, hidden, ridge))
        + 2 * head_gemm * tokens / (half_peak * _gemm_eff(half_eff_max, a, tokens, hidden, half_ridge))
    ) / (tp * pp)
    # Attention core: causal QK^T and AV, 2 * 2 * h FLOPs per token per layer per attended key (attended_keys); bf16 under fp8.
    attn_flops = 2 * 2 * attended_keys(w, length) * hidden * layers * tokens
    if w.attention == "eager":
        scores = w.micro_batch_size * w.sequences_per_example * heads * length * length // max(1, w.context_parallel) * (2 if w.precision != "fp32" else 4)
        fwd_attn = (attn_flops * 2 / (half_peak * _gemm_eff(half_eff_max, a, tokens, hidden, half_ridge))) + scores * a.eager_score_passes * layers / 3 / bw
    else:
        fwd_attn = attn_flops / (half_peak * a.attn_eff * a.matrix_scale * (a.fp32_gemm_eff_max / a.gemm_eff_max if w.precision == "fp32" else 1.0))
    fwd_attn /= tp * pp  # heads split over tp, layers over pp
    act_bytes = 2 if w.precision != "fp32" else 4
    # elementwise passes: 1/pp of the layers; replicated over tp (no sequence parallelism assumed: an upper bound)
    fwd_elem = tokens * layers * hidden * act_bytes * a.elementwise_passes / 3 / bw / pp
    if w.torch_compile:
        fwd_elem *= 0.5  # fusion halves activation-sized memory passes
    elif w.fused_kernels:
        fwd_elem *= a.fused_kernel_passes
    dequant = 0.0
    if w.quantization != "none":
        # read packed, write 16-bit, per pass over every quantized weight: bitsandbytes' MatMul4Bit dequantizes the
        # whole weight in forward (F.dequantize_4bit(B, quant_state) into F.linear) and again in backward for the
        # input gradient (bitsandbytes/autograd/_functions.py MatMul4Bit.forward/.backward @60a0d8a5); by bandwidth;
        # each GPU dequantizes its tensor/pipeline part
        dequant = params / (tp * pp) * ((0.5 if w.quantization == "4bit" else 1.0) + 2.0) / bw
    fp8_cast = 0.0
    if w.precision in QUANTIZED_GEMMS:
        # amax, scale and cast of every linear's input (4 per layer: qkv, out, gate/up, down) and of its
        # weights, forward and backward; unfused without torch.compile
        inputs = tokens * layers * (3 * hidden + (shape.intermediate or 3.5 * hidden))
        stored_fp8 = _state_bytes(w)[0] == 1.0  # frozen fp8 weights need no cast
        fp8_cast = (inputs / pp + (0.0 if stored_fp8 else dense / (tp * pp))) * a.fp8_cast_passes / 3 / bw
        if not w.torch_compile:
            fp8_cast *= a.fp8_eager_factor
    vision_fwd, vision_s, vision_recompute = _vision_seconds(w, hw, a, bw)
    fwd = fwd_gemm + fwd_attn + fwd_elem + dequant + fp8_cast + vision_fwd
    compute = fwd_gemm * (1 + bwd_factor) + vision_s
    attention = fwd_attn * 3
    elementwise = fwd_elem * 3 + fp8_cast * 3
    dequant_total = dequant * (2 + (1 if w.gradient_checkpointing else 0))
    recompute = (fwd - vision_fwd) * w.recompute_share + vision_recompute if w.gradient_checkpointing else 0.0
    offload = 0.0
    if _offloads_activations(w):
        # checkpointed layer inputs go to the host in forward and come back in backward
        offload = 2 * tokens * layers * hidden * act_bytes / (a.host_link_gb_s * GB) * a.offload_exposed
    offload += _param_fetch_s(w, shape, a)
    # the frozen reference's no-grad forward of the same batch; KTO's KL forwards (policy and reference) of as many pairs
    reference = fwd * no_grad_forwards(w)
    reference += teacher_forward_s(w, hw, a)  # a knowledge-distillation teacher's no-grad forward of the same batch
    busy = compute + attention + elementwise + dequant_total + recompute + reference
    comm_micro, comm_step = _communication(w, hw, a, busy, shape)
    comm_micro += _model_parallel_comm(w, hw, a, tokens, hidden, layers, act_bytes)
    kv = hidden // heads * shape.n_kv_heads if shape.n_kv_heads else hidden
    comm_micro += _context_parallel_comm(w, hw, a, tokens, layers, kv, act_bytes, attention)
    micro_s = busy + offload + comm_micro
    # No host term for DataLoader workers 0 (issue 24/25, data7): the per-sample collation time it charged (1.5 ms)
    # had no measured source, the host queues GPU work asynchronously so collation overlaps the queued step unless
    # the host is the bottleneck, and a CPU A/B of workers 0 -> 4 measured 0.975-0.99x (docs/projection.md, Data)
    total = (shape.params_b if shape.params_b is not None else 7.0) * 1e9  # the optimizer updates every expert, not only the active ones
    trainable = trainable_params(w, total)
    if _shard_stage(w) >= 1:
        trainable /= max(1, w.world_size)  # each rank steps its own shard
    else:
        trainable /= _model_parallel(w)  # each GPU steps its tensor/pipeline part
    _wb, master, gbytes, obytes = _state_bytes(w)
    if "8bit" in w.optimizer and w.optimizer_state_bytes is None:
        obytes = 8.0  # 8-bit states: counted as fp32 traffic times eightbit_adamw_passes (block-wise (de)quantization)
    passes = a.eightbit_adamw_passes if "8bit" in w.optimizer else 1.0 if "fused" in w.optimizer else a.foreach_adamw_passes
    state = 2 * (master or _wb) + gbytes + 2 * obytes  # param (or its fp32 master), grad, and moments read and written
    optimizer = trainable * state * passes / bw
    if w.precision == "fp16":
        optimizer += trainable * 2 / bw  # the loss scaler's inf/nan check over the gradients
    if w.cpu_offload:
        # gradients down, updated weights up, and the AdamW step on the host
        # (32 bytes per parameter for AdamW: fp32 param and two moments read and written, the gradient read; a DeepSpeed
        # file's own optimizer moves its own state: formats.deepspeed.own_optimizer); the host's rate is shared by the
        # ranks on the node (HOST_OPTIMIZER_GB_S), each stepping its own shard at once
        host = 32.0 if w.optimizer_state_bytes is None else 16.0 + 2 * w.optimizer_state_bytes
        optimizer = trainable * (4 + 2) / (a.host_link_gb_s * GB) + trainable * host * ranks_per_host(w, hw) / (a.host_optimizer_gb_s * GB)
        optimizer += micro * _grad_round_trip_s(w, trainable, a)
    # pipeline flush: (p-1)/v stage micro-batch times idle per optimizer step (pipeline_bubble)
    idle = micro_s * (pp - 1) / max(1, w.virtual_pipeline) if pp > 1 else 0.0
    step_s = micro * micro_s + idle + optimizer + comm_step
    parts = {
        "compute": micro * (compute + reference),
        "attention": micro * attention,
        "memory_bound": micro * (elementwise + dequant_total + offload),
        "recompute": micro * recompute,
        "optimizer": optimizer,
        "communication": micro * comm_micro + comm_step,
        "idle": idle,
    }
    model_flops = micro * (2 * (params - embed) * tokens * (1 + bwd_factor) + attn_flops * 3) / (tp * pp)
    return StepModel(step_s=step_s, parts=parts, peak_memory_gb=memory_gb(w) if peak_gb is None else peak_gb, model_flops=model_flops, forward_s=fwd)


# Checkpoint write bandwidth, per writing process (the slow end) to a node's storage (the fast end). DeepSpeed's
# DeepNVMe blog (deepspeedai/DeepSpeed blogs/deepnvme/03-2025/README.md@7251557, Azure ND-H200-v5, single process,
# HBM to local NVMe): FastPersist saves a checkpoint over 20x faster than `torch.save()` on 8 Gen5 NVMe in RAID-0,
# whose measured write ceiling in the same blog is 26 GB/s, so a plain `torch.save()` writes under 1.3 GB/s; with
# DeepNVMe a node writes 11 GB/s to 4 Gen5 NVMe (5 GB/s to 4 Gen4). The Trainer saves synchronously through
# torch.save / safetensors, not FastPersist: the slow end is the realistic one, the fast end an optimized writer on
# local NVMe (a network file system client is no faster). goblin knows nothing of the user's storage.
STORAGE_GB_S = (1.3, 11.0)
REALISTIC_STORAGE_GB_S = STORAGE_GB_S[0]
GPUS_PER_NODE = 8  # MI300X / MI325X / MI355X platforms carry eight GPUs per node


def checkpoint_parts(w: WorkloadConfig) -> tuple[float, float]:
    """(model GB, optimizer GB) one save writes, all ranks together. The model: the trainable weights in the
    model's dtype (a LoRA's adapters in 16 bits; under ZeRO-3 the 16-bit weights gathered to rank 0 when
    `stage3_gather_16bit_weights_on_model_save`, transformers 5.25.0 trainer.py:4149-4161). The optimizer: fp32
    masters and AdamW moments, unless `save_only_model` (trainer.py:3442-3444; DeepSpeed writes its ZeRO shards
    there, trainer.py:3596-3605)."""
    total = (w.model.params_b if w.model.params_b is not None else 7.0) * 1e9
    trainable = trainable_params(w, total)
    weights, master, _grads, opt = _state_bytes(w)
    model = trainable * (weights if w.method == "full" else 2.0)
    if w.method == "full" and w.frozen_language_model:
        # the Trainer saves the whole model's state_dict, frozen parameters too (transformers 5.25.0 trainer.py:4199-4212)
        model = total * weights
    optimizer = 0.0 if w.save_only_model else trainable * (master + opt)
    if w.zero3_full_saves and trains_language_model(w) and w.strategy == "deepspeed" and w.zero_stage == 3:
        # no 16-bit gather: save_model writes DeepSpeed's checkpoint instead of the model file, its ZeRO shards
        # holding the fp32 masters and moments whatever save_only_model says (trainer.py:4165-4174; the 16-bit
        # module states under ZeRO-3 are placeholders, trainer.py:3596-3597)
        model, optimizer = 0.0, trainable * (master + opt)
    return model / GB, optimizer / GB


def checkpoint_gb(w: WorkloadConfig) -> float:
    """What one save writes, all ranks together (`checkpoint_parts`)."""
    return sum(checkpoint_parts(w))


def checkpoint_seconds(w: WorkloadConfig, storage_gb_s: float) -> float:
    """Time one save takes: the model file is written by rank 0 alone (the Trainer saves the consolidated state dict
    where `should_save`); sharded optimizer state (ZeRO-1/2/3, FSDP) by every node at once, an unsharded one by
    rank 0."""
    model, optimizer = checkpoint_parts(w)
    nodes = (w.nodes or max(1, -(-w.world_size // (w.gpus_per_node or GPUS_PER_NODE)))) if _shard_stage(w) >= 1 else 1
    return model / storage_gb_s + optimizer / (storage_gb_s * nodes)


def checkpoint_share(w: WorkloadConfig, hw: Hardware, storage_gb_s: float) -> float | None:
    """The share of the job's time per optimizer step that checkpoint writes take (save time
    amortized over `save_interval` steps); None when the config does not save every N steps."""
    if w.save_interval is None:
        return None
    save = checkpoint_seconds(w, storage_gb_s)
    train = step(w, hw).step_s * w.save_interval
    return save / (train + save) if train + save > 0 else None


def eval_seconds(w: WorkloadConfig, hw: Hardware, a: Assumptions | None = None) -> float | None:
    """One evaluation pass over the eval set, as each data-parallel rank runs its share of it: forward
    only (2N FLOPs per token against a training step's 6N with a full backward: Kaplan et al. 2020,
    arXiv:2001.08361 section 2.1, the convention `step` uses), at the eval batch size, every example
    padded to the (eval) sequence length (the collators pad a batch to its longest example, and goblin does not
    know the examples' lengths: an upper bound). Parameter gathers of a sharded model (ZeRO-3, FSDP)
    and metric computation are not counted. None unless the config evaluates and states the eval set's
    size and the eval batch size."""
    if not w.eval_runs or w.eval_examples is None or w.eval_batch_size is None:
        return None
    ranks = max(1, _data_parallel_ranks(w) // max(1, w.tensor_parallel))  # the eval sampler splits the set across ranks
    per_rank = -(-w.eval_examples // ranks)
    batches = -(-per_rank // w.eval_batch_size)
    # the eval set's lengths are not sampled (formats/datasets.py reads the training data): every example is kept
    # at the sequence length, the upper bound this term and its findings state
    return batches * step(_eval_shaped(w, w.eval_batch_size, sampled_lengths=False), hw, a).forward_s


def _eval_shaped(w: WorkloadConfig, batch: int, *, sampled_lengths: bool) -> WorkloadConfig:
    """The workload as one evaluation batch runs it: the eval batch at the eval length, one forward, no
    checkpointing, no reference model, one sequence per example; `sampled_lengths` keeps the training data's
    sampled lengths (an eval split of the same data), else every example is at the sequence length."""
    update: dict[str, object] = {
        "micro_batch_size": batch,
        "seq_len": w.eval_seq_len or w.seq_len,
        "gradient_accumulation": 1,
        "gradient_checkpointing": False,
        "reference_forward": False,
        "kl_forward": False,
        "sequences_per_example": 1,
    }
    if not sampled_lengths:
        update.update(token_quantiles=None, mean_tokens=None)
    return w.model_copy(update=update)


def per_epoch_eval_ratio(w: WorkloadConfig, hw: Hardware, a: Assumptions | None = None) -> float | None:
    """Evaluation time over training time within an epoch, where the eval set is a share f of the dataset
    and the config fixes the evaluations per epoch k: an epoch trains on (1 - f) of the examples (the full
    step, per example) and evaluates k times over f of them (forward only at the eval batch, eval_seconds'
    shape). The split comes from the same data, so the eval examples keep the training data's sampled
    lengths and its packing (Axolotl 0.18.0 sets eval_sample_packing to sample_packing when unset,
    utils/schemas/validation.py:148-156); an eval_sample_packing turned off makes evaluation dearer than
    this. The dataset's size cancels. None unless the config states f, k and the eval batch."""
    if not w.eval_runs or w.eval_fraction is None or w.evals_per_epoch is None or w.eval_batch_size is None:
        return None
    train = step(w, hw, a).step_s / (w.micro_batch_size * w.gradient_accumulation)
    evaluate = step(_eval_shaped(w, w.eval_batch_size, sampled_lengths=True), hw, a).forward_s / w.eval_batch_size
    if train <= 0:
        return None
    return w.evals_per_epoch * w.eval_fraction * evaluate / ((1 - w.eval_fraction) * train)


@dataclass(frozen=True)
class JobStep:
    """The job's time per optimizer step: the step, plus checkpoint writes and evaluation amortized
    over their intervals; a term is None where goblin cannot place it per step."""

    step_s: float
    checkpoint_s: float | None  # at the fast end of STORAGE_GB_S (a lower bound)
    eval_s: float | None  # an upper bound (every eval example at the sequence length)

    @property
    def total_s(self) -> float:
        return self.step_s + (self.checkpoint_s or 0.0) + (self.eval_s or 0.0)


def job_step(w: WorkloadConfig, hw: Hardware, a: Assumptions | None = None) -> JobStep:
    """Step + amortized checkpoint + amortized evaluation, each per optimizer step."""
    step_s = step(w, hw, a).step_s
    ckpt = checkpoint_seconds(w, STORAGE_GB_S[1]) / w.save_interval if w.save_interval is not None else None
    one_eval = eval_seconds(w, hw, a) if w.eval_interval is not None else None
    eval_s = one_eval / w.eval_interval if one_eval is not None and w.eval_interval else None
    if eval_s is None and (ratio := per_epoch_eval_ratio(w, hw, a)) is not None:
        eval_s = step_s * ratio  # evaluation per epoch spread over the epoch's optimizer steps
    return JobStep(step_s=step_s, checkpoint_s=ckpt, eval_s=eval_s)


def eval_share(w: WorkloadConfig, hw: Hardware) -> float | None:
    """The share of the job's time per optimizer step that evaluation takes (an upper bound, see
    eval_seconds), or per epoch where the eval set is a share of the data (per_epoch_eval_ratio); None
    where it is not projected (no per-step interval or no eval set size, no evaluations per epoch)."""
    job = job_step(w, hw)
    return job.eval_s / job.total_s if job.eval_s is not None and job.total_s > 0 else None


# The share of the job at which the least an evaluation can cost is called waste (job.frequent_eval_floor): goblin's
# >= 10% bar for a finding; below it, a note states the floor (tools/audit_tools.py).
EVAL_FLOOR_SHARE = 0.1


def eval_floor(w: WorkloadConfig, hw: Hardware, a: Assumptions | None = None) -> tuple[float, float] | None:
    """(seconds per optimizer step, share of the job): the least evaluation costs where the trainer evaluates every
    eval_interval steps over an eval set whose size the config does not give (so eval_seconds cannot price it): one
    eval batch per GPU per evaluation (per_device_eval_batch_size examples, forward only, at the training data's
    lengths, one sequence per example and no reference forward), amortized over the interval, against the step
    plus it. Every further eval batch adds as much, so this is a floor. None where the job terms price evaluation
    (job_step), or the config does not evaluate every N steps at a known eval batch."""
    if not w.eval_runs or w.eval_interval is None or w.eval_batch_size is None or w.eval_examples is not None:
        return None
    job = job_step(w, hw, a)
    if job.eval_s is not None:
        return None
    one = step(_eval_shaped(w, w.eval_batch_size, sampled_lengths=True), hw, a).forward_s
    per_step = one / w.eval_interval
    return per_step, per_step / (job.total_s + per_step) if job.total_s + per_step > 0 else 0.0


def inter_node_share(w: WorkloadConfig, hw: Hardware, a: Assumptions | None = None) -> float:
    """The share of the projected step that exposed inter-node collective traffic takes: the step as
    projected against the same step with the network free (every byte across nodes at no cost), so
    what hides behind compute is not counted. 0.0 on one node or without data parallelism."""
    nodes, _per_node = topology(w, hw)
    if nodes <= 1 or _data_parallel_ranks(w) <= 1:
        return 0.0
    base = step(w, hw, a).step_s
    free = step(w, hw.model_copy(update={"scale_out_gb_s": 1e9}), a).step_s
    return max(0.0, (base - free) / base) if base > 0 else 0.0


@dataclass(frozen=True)
class Hierarchical:
    """A hierarchical sharding of a fully sharded multi-node workload, and what the projection says of it."""

    sharding: str  # "hybrid" (FSDP HYBRID_SHARD / HSDP), "hpz" (ZeRO++), "mics" (DeepSpeed MiCS)
    group: int  # GPUs per shard group (one node's)
    speedup: float  # nominal projected step of the workload as it is over this one's
    peak_gb: float
    inter_node_share: float  # what exposed inter-node traffic would still take of the step
    fits: bool  # the projected peak fits the target's HBM with patching.SPARE_GB to spare


def hierarchical_options(w: WorkloadConfig, hw: Hardware, limit_gb: float) -> list[Hierarchical]:
    """The hierarchical shardings the workload's framework offers, with one node's GPUs per group: FSDP's
    HYBRID_SHARD, DeepSpeed ZeRO-3's hpZ and MiCS. Empty unless it fully shards over several nodes."""
    nodes, per_node = topology(w, hw)
    n = _data_parallel_ranks(w)
    group = max(1, per_node // max(1, w.context_parallel))
    if nodes <= 1 or _shard_stage(w) < 3 or sharding_of(w) != "full" or not 1 < group < n or n % group:
        return []
    names = ("hybrid",) if w.strategy == "fsdp" else ("hpz", "mics")
    base = step(w, hw).step_s
    out = []
    for name in names:
        v = w.model_copy(update={"sharding": name, "shard_group": group})
        peak = memory_gb(v)
        out.append(Hierarchical(name, group, base / step(v, hw, peak_gb=peak).step_s, peak, inter_node_share(v, hw), peak <= limit_gb))
    return out


def best_hierarchical(w: WorkloadConfig, hw: Hardware, limit_gb: float) -> Hierarchical | None:
    """The fastest hierarchical sharding that fits in `limit_gb`; None where none fits."""
    fitting = [h for h in hierarchical_options(w, hw, limit_gb) if h.fits]
    return max(fitting, key=lambda h: h.speedup) if fitting else None


@dataclass(frozen=True)
class LowerStage:
    """Less sharding for a fully sharded single-node run whose whole training state fits one GPU."""

    sharding: str  # "zero2" (DeepSpeed ZeRO-2) or "grad_op" (FSDP SHARD_GRAD_OP)
    speedup: float  # nominal projected step of the workload as it is over this one's
    peak_gb: float  # projected peak per GPU with it
    unsharded_gb: float  # projected peak per GPU with no sharding at all (DDP), what decided that it fits
    comm_s: float  # exposed collective seconds per optimizer step as it is
    comm_after_s: float  # and with it


def lower_stage(w: WorkloadConfig, hw: Hardware, limit_gb: float) -> LowerStage | None:
    """ZeRO-3 -> ZeRO-2 or FSDP FULL_SHARD -> SHARD_GRAD_OP on one node, when the training state with no
    sharding at all (DDP, no offload) projects under `limit_gb`: the parameter all-gathers of every layer,
    twice per micro-batch, become one gather per micro-batch (SHARD_GRAD_OP) or one per optimizer step
    (ZeRO-2). None where the run is not fully sharded over one node, or the unsharded state does not fit."""
    nodes, _ = topology(w, hw)
    if nodes != 1 or _data_parallel_ranks(w) <= 1 or _shard_stage(w) < 3 or sharding_of(w) != "full":
        return None
    unsharded = memory_gb(w.model_copy(update={"strategy": "ddp", "cpu_offload": False, "offload_params": False}))
    if unsharded > limit_gb:
        return None
    name, update = ("zero2", {"zero_stage": 2}) if w.strategy == "deepspeed" else ("grad_op", {"sharding": "grad_op"})
    v = w.model_copy(update=update)
    peak = memory_gb(v)
    before, after = step(w, hw), step(v, hw, peak_gb=peak)
    return LowerStage(name, before.step_s / after.step_s, peak, unsharded, before.parts["communication"], after.parts["communication"])


@dataclass(frozen=True)
class MicroBatchFit:
    """A smaller micro-batch at the same per-GPU batch: the values, and what the projection says of them."""

    micro_batch_size: int
    gradient_accumulation: int
    peak_gb: float
    speedup: float  # nominal projected step time of the workload as it is over this one's


def smaller_micro_batch(w: WorkloadConfig, hw: Hardware, limit_gb: float, update: Mapping[str, Any]) -> MicroBatchFit | None:
    """The micro-batch below `w`'s at which `w` with `update` (e.g. checkpointing off) fits in `limit_gb`
    and is projected fastest, with gradient accumulation raised so that micro-batch x accumulation
    stays exactly what it is (a divisor of it; none where no divisor fits); None unless that is
    projected faster than `w` as it is."""
    per_gpu = w.micro_batch_size * w.gradient_accumulation
    base = step(w, hw).step_s
    best: MicroBatchFit | None = None
    for mbs in range(w.micro_batch_size - 1, 0, -1):
        if per_gpu % mbs:
            continue
        trial = w.model_copy(update={**update, "micro_batch_size": mbs, "gradient_accumulation": per_gpu // mbs})
        peak = memory_gb(trial)
        if peak > limit_gb:
            continue
        gain = base / step(trial, hw, peak_gb=peak).step_s
        if gain > 1.0 + 1e-9 and (best is None or gain > best.speedup + 1e-9):
            best = MicroBatchFit(mbs, per_gpu // mbs, peak, gain)
    return best


def _session_memo(kind: str, w: WorkloadConfig, hw: Hardware, extra: Hashable, compute: Callable[[], T]) -> T:
    """compute(), once per workload, target and `extra` while a session scope is open (repoindex.memo): the cost
    model is a pure function of them and of the packaged tables, and an audit asks it for the same workload
    several times (the profile and the baseline benchmark, the speedup's grid and the throughput interval's)."""
    from .repoindex import active, memo

    if not active():
        return compute()
    return memo(kind, (w.model_dump_json(), hw.model_dump_json(), extra), compute)


def _grid_seconds(w: WorkloadConfig, hw: Hardware, nominal: Assumptions, relevant: frozenset[str], peak_gb: float) -> tuple[float, ...]:
    """step_s of `w` at each point of assumption_grid(nominal, relevant), in the grid's order (`peak_gb`, which no
    assumption changes and step_s does not read, saves recomputing memory at each point)."""
    return _session_memo(
        "costmodel.grid", w, hw, (nominal, relevant), lambda: tuple(step(w, hw, a, peak_gb=peak_gb).step_s for a in assumption_grid(nominal, relevant))
    )


def sensitivity(before: WorkloadConfig, after: WorkloadConfig, hw: Hardware) -> tuple[float, float, float]:
    """(point, low, high) speedup across the assumption grid, widened by the calibration's ablation error."""
    nominal = nominal_for(hw)
    mb, ma = memory_gb(before), memory_gb(after)
    point = step(before, hw, nominal, peak_gb=mb).step_s / step(after, hw, nominal, peak_gb=ma).step_s
    relevant = factors_used(before, after)
    grid = zip(_grid_seconds(before, hw, nominal, relevant, mb), _grid_seconds(after, hw, nominal, relevant, ma), strict=True)
    ratios = [b / a for b, a in grid]
    # a shape the table does not know: the speedup at the shapes it could have too, as the throughput interval spans them
    for v in shape_variants(before.model):
        vb, va = before.model_copy(update={"model": v}), after.model_copy(update={"model": v})
        ratios.append(step(vb, hw, nominal, peak_gb=memory_gb(vb)).step_s / step(va, hw, nominal, peak_gb=memory_gb(va)).step_s)
    low, high = min([*ratios, point]), max([*ratios, point])
    cal = target_efficiency(hw).calibration
    if cal is not None and abs(point - 1.0) > 1e-9:
        low, high = low / (1 + cal.speedup_abs_error), high * (1 + cal.speedup_abs_error)
    return point, min(low, point), max(high, point)


def calibration_note(hw: Hardware) -> str:
    """The line a projected report's footer carries: how far the projection was from published runs on this GPU."""
    te = target_efficiency(hw)
    cal = te.calibration
    gcd = (
        f"{hw.id} projected per GCD (one of a package's two dies: {hw.hbm_gb:g} GB, {hw.bf16_tflops:g} bf16 TFLOPS; a GPU here is a GCD); "
        if hw.per_gcd
        else ""
    )
    if cal is None:
        return f"{gcd}{hw.id}: no published rows to calibrate against; factors are the default set (docs/projection.md)"
    return gcd + (
        f"{cal.rows} published {cal.basis} rows: mean |error| {cal.mean_abs_error:.0%}, "
        f"range -{cal.max_under:.0%}..+{cal.max_over:.0%}; ablation speedups within {cal.speedup_abs_error:.0%} (docs/projection.md)"
    )


# The software stacks a calibration row or a workload runs on. A workload's stack is its config
# format's (Axolotl and LLaMA-Factory train through the Hugging Face Trainer); a native goblin file or
# a Python script does not say, so its stack is unknown, and no calibration covers it.
STACKS = ("hf_trainer", "torchtune", "torchtitan", "megatron_te", "megatron_lm", "maxtext", "deepspeed", "other")
_FORMAT_STACK = {"hf-trainer": "hf_trainer", "axolotl": "hf_trainer", "llamafactory": "hf_trainer", "torchtune": "torchtune", "deepspeed": "deepspeed"}


def stack_of(w: WorkloadConfig) -> str | None:
    """The software stack the workload's config format runs on; None where the format does not say."""
    return _FORMAT_STACK.get(w.format)


@dataclass(frozen=True)
class ThroughputRange:
    """A projected tokens/s per GPU: nominal, and the interval a published figure is expected inside."""

    nominal: float
    low: float
    high: float
    widened: tuple[str, ...]  # why the interval is wider than the grid and the target's calibration residuals


def _uncovered(w: WorkloadConfig, hw: Hardware, stack: str | None, cal: Calibration | None) -> list[str]:
    """What about `w` the target's calibration rows (`cal`) do not cover, in words; empty when they cover it."""
    if cal is None or not cal.stacks:
        return [f"{hw.id} has no published rows of its own"]
    out = []
    if stack not in cal.stacks:
        said = f"stack {stack}" if stack else "a stack the config does not name"
        out.append(f"{said} (the {hw.id} rows run {', '.join(cal.stacks)})")
    if w.precision not in cal.precisions:
        out.append(f"precision {w.precision} (the rows run {', '.join(cal.precisions)})")
    if w.method not in cal.methods:
        out.append(f"method {w.method} (the rows train {', '.join(cal.methods)})")
    params = w.model.params_b
    if cal.params_b is not None and params is not None and not cal.params_b[0] <= params <= cal.params_b[1]:
        out.append(f"a {params:g}B model (the rows span {cal.params_b[0]:g}-{cal.params_b[1]:g}B)")
    if cal.gpus is not None and not cal.gpus[0] <= w.world_size <= cal.gpus[1]:
        out.append(f"{w.world_size} GPUs (the rows run on {cal.gpus[0]}-{cal.gpus[1]})")
    return out


def shape_variants(shape: ModelShape) -> list[ModelShape]:
    """Shapes the model could have when the table does not know it: with no parameter count, half and
    twice the assumed 7B; with one, the estimated hidden size halved and doubled at that count."""
    if shape.known:
        return []
    if shape.params_b is None:
        return [shape.model_copy(update={"params_b": 7.0 * m}) for m in (0.5, 2.0)]
    base = estimate_shape(shape)
    out = []
    for m in (0.5, 2.0):
        hidden = max(256, int((base.hidden or 4096) * m) // 128 * 128)
        layers = max(1, round(shape.params_b * 1e9 / (12 * hidden * hidden)))
        out.append(
            base.model_copy(
                update={
                    "hidden": hidden,
                    "n_layers": layers,
                    "n_heads": hidden // 128,
                    "n_kv_heads": hidden // 128,
                    "intermediate": int(hidden * 8 / 3),
                    "known": True,
                }
            )
        )
    return out


def throughput_range(
    w: WorkloadConfig, hw: Hardware, *, stack: str | None = None, nominal: Assumptions | None = None, calibration: Calibration | None = None
) -> ThroughputRange:
    """_throughput_range; with the target's own stack, factors and calibration, once per workload in a session
    (the projection runner asks for the baseline's twice: its profile and its benchmark)."""
    if stack is None and nominal is None and calibration is None:
        return _session_memo("costmodel.throughput_range", w, hw, None, lambda: _throughput_range(w, hw))
    return _throughput_range(w, hw, stack=stack, nominal=nominal, calibration=calibration)


# Efficiencies with no source at the versions of the rows that set them, and the span their sources do show
# (docs/projection.md, "Assumptions and the interval", step 4). A workload whose step reads one gets an interval
# that holds the factor's whole sourced span: (low, high, shapes, source). With `shapes` (m = n = k of the GEMMs
# measured at each end), low and high are measured fractions of the precision's peak, turned into the factor
# through the model's own size terms at that shape; without: they are the factor itself (a measured max-achievable share, where the size terms are
# near 1); a high of 0: no source says higher, so the grid's own x1.15 of the nominal. Only MI300X and the
# targets that inherit its values (MI325X; MI355X, with no torchao or fp32 row of its own) carry them: the measurements are MI300X's. Transformer Engine's fp8
# factor is fitted to ten sources' rows and has none.
UNSOURCED_SPANS: dict[str, tuple[float, float, tuple[int, int] | None, str]] = {
    "fp8_compiled_gemm_eff_max": (
        0.042,  # 109.86 of 2,614.9 TFLOPS at 8192x8192x8192 (its other shapes 108-111)
        0.67,  # 1,746 of 2,614.9 TFLOPS at 4096x4096x4096
        (8192, 4096),
        "torch._scaled_mm fp8 GEMMs on MI300X measured from 0.04 of the fp8 peak (108-111 TFLOPS at 8192^3 and four "
        "larger shapes, PyTorch nightly of Dec 2024, pytorch/pytorch#143465) to 0.67 (1,746 TFLOPS at 4096^3, AMD's gfx942 matmul table, ROCm/xla "
        "matmul_interpolator_data.h @ea2c45f2ca, ROCm 7); none at the rows' versions, fitted to one torchao row",
    ),
    "fp32_gemm_eff_max": (
        0.49,
        0.0,
        None,
        "no fp32 GEMM measurement on MI300X (163.4 TFLOPS fp32 matrix peak): spanned from the lowest max-achievable "
        "share AMD measured on MI300X for any dtype (FP8 1,273 of 2,614.9 TFLOPS = 0.49; BF16 0.54; ROCm blog "
        "'Measuring Max-Achievable FLOPs - Part 2', Table 1) to x1.15 of the assumed value (no source says higher)",
    ),
}
UNSOURCED_SPAN_TARGETS = frozenset({"mi300x", "mi325x", "mi355x"})


def _with(a: Assumptions, name: str, value: float) -> Assumptions:
    """`a` with one efficiency factor set (UNSOURCED_SPANS names only float factors)."""
    values: dict[str, Any] = {name: value}
    return replace(a, **values)


def unsourced_spans(w: WorkloadConfig, hw: Hardware, nominal: Assumptions) -> list[tuple[str, float, float, str]]:
    """(factor, low, high, source) for each UNSOURCED_SPANS factor `w`'s step reads on `hw`, as values of the factor."""
    if hw.id not in UNSOURCED_SPAN_TARGETS:
        return []
    out = []
    for name in sorted(factors_used(w) & UNSOURCED_SPANS.keys()):
        lo, hi, shapes, source = UNSOURCED_SPANS[name]
        value = getattr(nominal, name)
        if shapes is not None:
            # the factor at which the model's GEMM efficiency at the measured shape equals the measured fraction
            ridge = peak_tflops(hw, "fp8") / peak_tflops(hw, "bf16") * _OPERAND_BYTES["fp8"] / 2
            lo, hi = (f / _gemm_eff(1.0, nominal, n, n, ridge) for f, n in ((lo, shapes[0]), (hi, shapes[1])))
        hi = value * max(_RELATIVE[name]) if hi == 0.0 else hi  # no source above: the grid's own guess
        out.append((name, min(lo, value, 1.0), min(max(hi, value), 1.0), source))
    return out


def _throughput_range(
    w: WorkloadConfig, hw: Hardware, *, stack: str | None = None, nominal: Assumptions | None = None, calibration: Calibration | None = None
) -> ThroughputRange:
    """Projected tokens/s per GPU with its interval (docs/projection.md, "Assumptions and the interval").

    0. A workload the target's calibration rows cover whose class (stack, precision, method) has at
       least CLASS_MIN_ROWS rows: that class's own residuals, at least CLASS_FLOOR either side; steps 1
       and 2 are skipped (the residuals are what the grid guesses at).
    1. Otherwise, the assumption grid's extremes, widened to the target's calibration residuals (its largest
       over- and under-projection of the published rows in its kb/efficiency.yaml block).
    2. Where those rows do not cover the workload (another stack, precision or method, a model or job
       size outside theirs, or a target without rows of its own), widened again by the error of factors
       on rows they were not fitted to: the default block's residuals (nine H100 rows, default factors).
    3. Where the model's shape is a guess, by the spread of the nominal rate over the shapes it could
       have (`shape_variants`).
    `stack` defaults to the config format's (`stack_of`); `nominal` and `calibration` to the target's
    kb/efficiency.yaml entry (benchmarks/loso.py passes a refit's).
    """
    stack = stack if stack is not None else stack_of(w)
    factors = nominal or nominal_for(hw)
    table = efficiency_table()
    cal = calibration if calibration is not None else table[hw.id].calibration if hw.id in table else None
    tokens = data_tokens_per_step(w)  # pad tokens are not data (the rate the projection runner reports)
    step_nominal = step(w, hw, factors)
    nominal_rate = tokens / step_nominal.step_s
    widened: list[str] = []
    uncovered = _uncovered(w, hw, stack, cal)
    klass = cal.residual_of(stack, w.precision, w.method) if cal is not None and not uncovered else None
    spans = unsourced_spans(w, hw, factors)
    span_rates: dict[str, tuple[float, float]] = {}  # each span's end rates, the other factors nominal (the "why")
    for name, lo_e, hi_e, _ in spans:
        ends = [tokens / step(w, hw, _with(factors, name, e), peak_gb=step_nominal.peak_memory_gb).step_s for e in (lo_e, hi_e)]
        span_rates[name] = (min([*ends, nominal_rate]), max([*ends, nominal_rate]))
    if klass is not None:
        # 0. a covered workload whose class has rows of its own: the class's residuals, at least CLASS_FLOOR,
        # and at least each unsourced factor's span (4.)
        low = nominal_rate / (1 + max(klass.max_over, CLASS_FLOOR))
        high = nominal_rate / max(0.05, 1 - max(klass.max_under, CLASS_FLOOR))
        low = min([low, *(lo for lo, _ in span_rates.values())])
        high = max([high, *(hi for _, hi in span_rates.values())])
    else:
        # 4. a factor with no source at the rows' versions: the grid walks its sourced span instead of x0.85-1.15
        points, relevant = [factors], factors_used(w)
        for name, lo_e, hi_e, _ in spans:
            points = [_with(p, name, e) for p in points for e in (lo_e, hi_e)]
            relevant = relevant - {name}
        rates = [tokens / s for p in points for s in _grid_seconds(w, hw, p, relevant, step_nominal.peak_memory_gb)]
        low, high = min([*rates, nominal_rate]), max([*rates, nominal_rate])
        residuals = cal if cal is not None else target_efficiency(hw).calibration
        if residuals is not None:
            low = min(low, nominal_rate / (1 + residuals.max_over))
            high = max(high, nominal_rate / max(0.05, 1 - residuals.max_under))
        unfitted = table["default"].calibration
        if uncovered and unfitted is not None:
            low, high = low / (1 + unfitted.max_over), high / max(0.05, 1 - unfitted.max_under)
            widened.append(
                f"outside the calibration rows: {'; '.join(uncovered)}: widened by unfitted factors' error "
                f"(-{1 - 1 / (1 + unfitted.max_over):.0%}/+{1 / (1 - unfitted.max_under) - 1:.0%})"
            )
    for name, lo_e, hi_e, source in spans:
        lo_r, hi_r = span_rates[name]
        widened.append(
            f"{name} {getattr(factors, name):.2f} rests on no measurement at this stack's version, spanned {lo_e:.2f}-{hi_e:.2f} "
            f"({source}): x{lo_r / nominal_rate:.2f}-x{hi_r / nominal_rate:.2f}"
        )
    variants = shape_variants(w.model)
    if variants:
        alt = [tokens / step(w.model_copy(update={"model": v}), hw, factors).step_s for v in variants]
        lo_m, hi_m = min([*alt, nominal_rate]) / nominal_rate, max([*alt, nominal_rate]) / nominal_rate
        low, high = low * lo_m, high * hi_m
        what = "7B assumed, 3.5B-14B spanned" if w.model.params_b is None else f"{w.model.params_b:g}B, hidden size halved and doubled"
        widened.append(f"model shape not in the table ({what}): x{lo_m:.2f}-x{hi_m:.2f}")
    return ThroughputRange(nominal_rate, min(low, nominal_rate), max(high, nominal_rate), tuple(widened))
