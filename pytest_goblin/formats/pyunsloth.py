"""An Unsloth model load in a training script (`FastLanguageModel.from_pretrained(...)`), read with `ast` as
Unsloth runs it (frameworks/unsloth.py holds the cited facts): the model id its `model_name=` names, the
quantization its `load_in_4bit` default gives, the weights' dtype its `dtype=None` resolves to, its
`max_seq_length` (the length Unsloth's SFTTrainer takes where the config sets none) and the vLLM engine
`fast_inference=True` builds with `gpu_memory_utilization`, which rollout.py models."""

from __future__ import annotations

import ast
from typing import Any

from ..frameworks.unsloth import (
    AT,
    CONFIG_DEFAULTS,
    CONFIG_DEFAULTS_AT,
    DEFAULT_AT,
    DEFAULT_LENGTH,
    GRPO_BATCH_AT,
    GRPO_NUM_GENERATIONS,
    LOADERS,
    PATCH_AT,
    QUANT_KEYWORDS,
    RELEASE,
    ROCM_AT,
    VERSION,
    UnslothLoad,
)
from ..schemas import FieldSource
from .base import Reader, as_int
from .pycommand import Lit
from .pyscript import Location, Script

# dtype=None: bfloat16 where the GPU supports it, else float16 (unsloth/models/llama.py:2434-2435; on ROCm
# SUPPORTS_BFLOAT16 = torch.cuda.is_bf16_supported(), unsloth/_gpu_init.py:342-343), as every Instinct target does
DTYPE_AT = f"unsloth/models/llama.py:2434-2435, unsloth/_gpu_init.py:342-343{AT}"
# Unsloth's SFTTrainer: a config with no max_seq_length takes the model's, and max_length follows it
# (unsloth/models/rl.py:2509-2519, :2528-2537)
LENGTH_AT = f"unsloth/models/rl.py:2509-2519, :2528-2537{AT}"


def loader_of(node: ast.Call) -> str | None:
    """`FastLanguageModel.from_pretrained(...)` (or FastModel's, FastVisionModel's, FastTextModel's): the class."""
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "from_pretrained" and isinstance(func.value, ast.Name) and func.value.id in LOADERS:
        return func.value.id
    return None


def _import_lines(tree: ast.Module) -> tuple[int | None, int | None]:
    """The first line importing unsloth, and the first importing trl."""
    first: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in ("unsloth", "trl") and node.lineno < first.get(top, 1 << 30):
                first[top] = node.lineno
    return first.get("unsloth"), first.get("trl")


def read_load(s: Script, tree: ast.Module, node: ast.Call, loader: str, lit: Lit) -> None:
    """Record the load in `s.unsloth` and set what Unsloth's defaults give where the call passes nothing: the
    model id of `model_name=`, load_in_4bit True (unless a keyword or a `-bf16` name changes what it does),
    bfloat16 weights for dtype None."""
    unsloth_line, trl_line = _import_lines(tree)
    if unsloth_line is None:
        return  # a class of the same name that is not Unsloth's
    kw = {k.arg: k for k in node.keywords if k.arg is not None}
    opaque = any(k.arg is None for k in node.keywords)  # `**kwargs`: what it passes is not read

    def read(name: str) -> tuple[bool, Any, Location | None]:
        k = kw.get(name)
        return (False, None, None) if k is None else lit(k.value)

    if "model_name_or_path" not in s.values:
        first = node.args[0] if node.args else kw["model_name"].value if "model_name" in kw else None
        if first is not None:
            ok, value, loc = lit(first)
            if ok and isinstance(value, str) and loc is not None:
                s.values["model_name_or_path"], s.where["model_name_or_path"] = value, loc
    ok_f, fast, _loc = read("fast_inference")
    ok_u, util, util_loc = read("gpu_memory_utilization")
    ok_q, q4, _q = read("load_in_4bit")
    name = str(s.values.get("model_name_or_path") or "")
    quant_passed = any(k in kw for k in QUANT_KEYWORDS) or opaque
    if not quant_passed and not name.lower().endswith("-bf16"):
        s.values["load_in_4bit"] = True
        s.where["load_in_4bit"] = Location(
            None,
            node.lineno,
            fixed=f"Unsloth's {loader}.from_pretrained default load_in_4bit=True ({DEFAULT_AT['load_in_4bit']}): pass load_in_4bit=False to change it",
        )
        s.notes.append(f"line {node.lineno}: {loader}.from_pretrained passes no load_in_4bit: Unsloth loads 4-bit by default ({DEFAULT_AT['load_in_4bit']})")
    if s.values.get("load_in_4bit") is True:
        s.notes.append(
            f"line {node.lineno}: on ROCm Unsloth loads this model 4-bit only with a bitsandbytes newer than 0.48.2.dev0 installed; "
            f"without one it loads 16-bit weights instead, with more memory, and says so only in its log ({ROCM_AT})"
        )
    ok_d, dtype, _d = read("dtype") if "dtype" in kw else read("torch_dtype")
    if (("dtype" not in kw and "torch_dtype" not in kw) or (ok_d and dtype is None)) and not opaque:
        s.values["torch_dtype"] = "bfloat16"
        s.where["torch_dtype"] = Location(
            None, node.lineno, fixed=f"{loader}.from_pretrained passes no dtype: Unsloth picks bfloat16 where the GPU supports it ({DTYPE_AT})"
        )
    ok_l, length, length_loc = read("max_seq_length")
    s.unsloth = UnslothLoad(
        loader=loader,
        line=node.lineno,
        fast_inference=fast if ok_f and isinstance(fast, bool) else None,
        fast_inference_passed="fast_inference" in kw or opaque,
        gpu_memory_utilization=float(util) if ok_u and isinstance(util, (int, float)) and not isinstance(util, bool) else None,
        gpu_memory_utilization_line=util_loc.line if util_loc is not None else None,
        load_in_4bit=bool(q4) if ok_q and isinstance(q4, bool) else True if s.values.get("load_in_4bit") is True else None if quant_passed else False,
        patches_trl=trl_line is None or unsloth_line < trl_line,
        standby=False,
        max_seq_length=length if ok_l and isinstance(length, int) and not isinstance(length, bool) and length > 0 else None,
        max_seq_length_line=length_loc.line if ok_l and length_loc is not None else None,
        max_seq_length_file=length_loc.file if ok_l and length_loc is not None else None,
        length_passed="max_seq_length" in kw or opaque,
        eight_bit_with_4bit=_eight_bit_with_4bit(kw, opaque, read),
    )


def _eight_bit_with_4bit(kw: dict[str, ast.keyword], opaque: bool, read: Any) -> tuple[int, bool] | None:
    """`load_in_8bit=True` while load_in_4bit stays on (written True, or not passed: its default), which Unsloth
    refuses before any weight loads (EIGHT_BIT_AT): the line of load_in_8bit and whether 4-bit is the default.
    None where a keyword goblin does not follow could turn one off first (full_finetuning, quantization_config)."""
    if opaque or "quantization_config" in kw:
        return None
    ok8, q8, loc8 = read("load_in_8bit")
    if not ok8 or q8 is not True:
        return None
    if "full_finetuning" in kw:
        ok_f, full, _f = read("full_finetuning")
        if not ok_f or full is not False:
            return None
    if "load_in_4bit" in kw:
        ok4, q4, _q = read("load_in_4bit")
        if not ok4 or q4 is not True:
            return None
    line = loc8.line if loc8 is not None and loc8.line else kw["load_in_8bit"].lineno
    return line, "load_in_4bit" not in kw


def standby(s: Script) -> None:
    """UNSLOTH_VLLM_STANDBY set in the script's own environment settings (Unsloth then runs TRL's sleep mode)."""
    if s.unsloth is not None and s.env.get("UNSLOTH_VLLM_STANDBY", "0") not in ("0", ""):
        from dataclasses import replace

        s.unsloth = replace(s.unsloth, standby=True)


def sourced(r: Reader, s: Script, path: str) -> None:
    """The weights' dtype Unsloth picks for dtype None is its default, not a value the script writes."""
    loc = s.where.get("torch_dtype")
    if s.unsloth is not None and loc is not None and loc.node is None and loc.fixed and DTYPE_AT in loc.fixed and "weight_dtype" in r.sources:
        r.sources["weight_dtype"] = FieldSource(file=path, key="torch_dtype", line=loc.line, explicit=False, note=loc.fixed)


def sft_length(r: Reader, s: Script, path: str) -> None:
    """Unsloth's SFTTrainer runs at the model load's max_seq_length where the config sets no length (LENGTH_AT)."""
    u = s.unsloth
    src = r.sources.get("seq_len")
    if u is None or not u.patches_trl or s.config_class != "SFTConfig" or src is None or src.explicit:
        return
    if u.length_passed and u.max_seq_length is None:
        return  # a value goblin cannot read
    length = u.max_seq_length or DEFAULT_LENGTH
    said = (
        f"max_seq_length {length} of {u.loader}.from_pretrained (line {u.max_seq_length_line or u.line}"
        f"{f' of {u.max_seq_length_file}' if u.max_seq_length_file and u.max_seq_length_line else ''})"
        if u.max_seq_length is not None
        else f"{u.loader}.from_pretrained passes no max_seq_length (line {u.line}): Unsloth's default {length} ({DEFAULT_AT['max_seq_length']})"
    )
    note = f"the SFT config sets no max_seq_length or max_length, so Unsloth's SFTTrainer takes the model's: {said} ({LENGTH_AT})"
    r.values["seq_len"] = length
    where = u.max_seq_length_file if u.max_seq_length_file and u.max_seq_length_line else path
    r.sources["seq_len"] = FieldSource(file=where, key="max_seq_length", line=u.max_seq_length_line or u.line, explicit=False, note=note)
    r.notes.append(note)


# The reader's field for each TrainingArguments key whose default Unsloth's generated TRL configs change
_CONFIG_FIELDS = {
    "per_device_train_batch_size": "micro_batch_size",
    "gradient_accumulation_steps": "gradient_accumulation",
    "optim": "optimizer",
    "per_device_eval_batch_size": "eval_batch_size",
}


def _trl_config(name: str | None) -> bool:
    """A TRL config class (SFTConfig, GRPOConfig, DPOConfig, ...), which Unsloth replaces with its own on import."""
    from ..frameworks import tables

    return name is not None and name in tables.table("trl").get("classes", {}) and name.endswith("Config") and name != "ModelConfig"


def config_defaults(r: Reader, s: Script, path: str) -> None:
    """A TRL config built after `import unsloth` is Unsloth's generated class, whose defaults for the batch,
    accumulation, optimizer and eval batch are its own (CONFIG_DEFAULTS_AT): each key the script leaves unset
    takes Unsloth's default in place of TRL's."""
    u = s.unsloth
    if u is None or not u.patches_trl or not _trl_config(s.config_class):
        return
    said: list[str] = []
    for key, field in _CONFIG_FIELDS.items():
        src = r.sources.get(field)
        if src is None or src.explicit or src.unread or key in r.fallback or key in s.code_unread or r.raw(key)[0] is not None:
            continue
        value = CONFIG_DEFAULTS[key]
        old = r.values.get(field)
        if old == value:
            continue
        note = f"{key} unset: Unsloth's {s.config_class} (imported after unsloth) defaults it to {value}, not TRL's{'' if old is None else f' {old}'} ({CONFIG_DEFAULTS_AT})"
        r.default(field, value, note)
        said.append(f"{key} {value}")
    if said:
        r.notes.append(f"the script's {s.config_class} is Unsloth's, which defaults {', '.join(said)} where it is unset ({CONFIG_DEFAULTS_AT})")
    if s.config_class == "GRPOConfig":
        _grpo_batch(r)


def _grpo_batch(r: Reader) -> None:
    """UnslothGRPOConfig turns a batch that does not hold whole groups into num_generations (GRPO_BATCH_AT)."""
    ws = r.sources.get("world_size")
    if r.raw("steps_per_generation")[0] is not None or r.raw("generation_batch_size")[0] is not None or ws is None or not ws.explicit:
        return  # the check multiplies by WORLD_SIZE: an assumed GPU count decides nothing
    key, raw, line = r.raw("num_generations")
    try:
        ng = GRPO_NUM_GENERATIONS if key is None else as_int(raw)
        batch, accum = as_int(r.values.get("micro_batch_size")), as_int(r.values.get("gradient_accumulation"))
        world = as_int(r.values.get("world_size", 1))
    except (TypeError, ValueError):
        return
    if ng < 1 or batch % ng == 0 or (accum * world * batch) % ng == 0:
        return  # kept (where the two checks disagree the TRL release decides; the TRL check's own finding says so)
    said = f"num_generations {ng}" + (f" (line {line})" if key is not None and line else " (not set: Unsloth's default)")
    note = (
        f"per_device_train_batch_size {batch} x gradient_accumulation_steps {accum} x {world} GPU(s) holds no whole number of groups of "
        f"{said}: Unsloth's GRPOConfig sets per_device_train_batch_size to {ng} before TRL checks it ({GRPO_BATCH_AT})"
    )
    r.default("micro_batch_size", ng, note)
    r.notes.append(note)


def release_read(r: Reader, s: Script) -> None:
    """The unsloth release the repository pins, said beside the release goblin read Unsloth's behaviour at: the
    facts stay at that release (frameworks/unsloth.py), and the note says when the pinned one differs."""
    if s.unsloth is None:
        return
    from ..frameworks.pins import pins

    pin = pins(r.path, r.text).get("unsloth")
    if pin is None:
        r.notes.append(f"the repository pins no unsloth release: Unsloth's defaults are read at {RELEASE}, assumed")
        return
    if pin.exact and pin.version == VERSION:
        r.notes.append(f"the repository pins {pin.spec} ({pin.where}), the release Unsloth's defaults are read at")
        return
    r.notes.append(
        f"the repository pins {pin.spec} ({pin.where}); Unsloth's defaults are read at {RELEASE}, not at the pinned release, whose defaults may differ"
    )


def trl_not_patched(s: Script) -> None:
    """A script that imports trl before unsloth keeps TRL's own trainer classes (PATCH_AT): said once."""
    u = s.unsloth
    if u is not None and not u.patches_trl:
        s.notes.append(
            f"the script imports trl before unsloth: the TRL classes it binds are TRL's own, not the ones Unsloth patches on import ({PATCH_AT}); read as TRL's"
        )
