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
    DEFAULT_AT,
    DEFAULT_LENGTH,
    LOADERS,
    PATCH_AT,
    QUANT_KEYWORDS,
    ROCM_AT,
    UnslothLoad,
)
from ..schemas import FieldSource
from .base import Reader
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
    )


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


def trl_not_patched(s: Script) -> None:
    """A script that imports trl before unsloth keeps TRL's own trainer classes (PATCH_AT): said once."""
    u = s.unsloth
    if u is not None and not u.patches_trl:
        s.notes.append(
            f"the script imports trl before unsloth: the TRL classes it binds are TRL's own, not the ones Unsloth patches on import ({PATCH_AT}); read as TRL's"
        )
