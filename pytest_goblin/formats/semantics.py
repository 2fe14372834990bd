"""Precision and topology as each framework runs them, from its own source (frameworks/facts.py).

The compute dtype (`precision`) and the dtype the weights are held in (`weight_dtype`) differ per
framework when the config is silent: TRL turns bf16 on unless fp16 is set, Axolotl's `bf16: auto`
resolves to bf16 on any Instinct GPU, LLaMA-Factory infers the compute dtype from the checkpoint
and keeps a LoRA base model in it, torchtune holds everything in its `dtype`. The world size is
read from what the repository says (launcher comments, DeepSpeed/accelerate files, Ray workers)
and, when nothing says it, assumed and noted so that every dependent finding can name it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, NamedTuple

from ..frameworks.facts import CITES
from ..schemas import FieldSource, WorkloadConfig
from .base import Reader, as_bool, record_deepspeed_own, source_place
from .prose import Prose, launching_readme_count, readme_prose

_HALF = {"bfloat16": "bf16", "bf16": "bf16", "float16": "fp16", "fp16": "fp16", "half": "fp16", "float32": "fp32", "fp32": "fp32", "float": "fp32"}


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in {"true", "yes", "1", "auto", "full"}
    return bool(value)


def explicit_precision(r: Reader) -> bool:
    """bf16 / pure_bf16 / fp16 / fp8 set to a true value: recorded, True; else False (nothing recorded)."""
    for key, precision in (("pure_bf16", "bf16"), ("bf16", "bf16"), ("fp16", "fp16"), ("fp8", "fp8")):
        k, value, line = r.raw(key)
        if k is not None and _truthy(value):
            r.explicit("precision", precision, k, line)
            return True
    return False


def dtype_key(r: Reader, *keys: str) -> tuple[str | None, str | None, int | None]:
    """(key, fp32/bf16/fp16, line) of a torch_dtype-like key; 'auto' and unknown names give None."""
    k, value, line = r.raw(*keys)
    if k is None:
        return None, None, None
    name = str(value).lower().replace("torch.", "")
    return k, _HALF.get(name), line


# TRL's config classes turn bf16 on (`bf16 = not fp16` when unset) from trl 0.19.0 (sft_config.py:111,252,
# grpo_config.py:219,530, dpo_config.py:196,441@0.19.0); trl 0.18.0's have no bf16 of their own, so TrainingArguments'
# False holds (transformers 4.46.3 training_args.py:1055-1057)
TRL_BF16_SINCE_AT = "0.19.0 (trl/trainer/sft_config.py:111,252@0.19.0: bf16=None, then bf16 = not fp16; absent at 0.18.0)"


_TRL_OFF = "bf16/fp16 unset: fp32 at "


class TrlLacks(NamedTuple):
    version: str
    spec: str
    where: str
    config_class: str


def trl_release_lacks(r: Reader, classes: tuple[str, ...], key: str) -> TrlLacks | None:
    """The TRL release the recipe pins, where none of its config classes sets `key` of its own (TrainingArguments'
    default then applies); None where one does, or no release is pinned (the newest's default stands)."""
    from ..frameworks.history import present
    from ..frameworks.pins import pins
    from ..frameworks.releases import pinned

    found = pins(r.path, r.text)
    version = pinned("trl", found)
    names = [c for c in classes if c.endswith("Config")] or ["SFTConfig"]
    if version is None or any(present("trl", c, key, version) is not False for c in names):
        return None
    pin = found["trl"]
    return TrlLacks(version, pin.spec, pin.where, names[0])


def _trl_bf16_off(r: Reader, classes: tuple[str, ...]) -> str | None:
    """Why bf16 is off by default at the TRL release the recipe pins (its config class has no bf16 of its own),
    None where the release sets it, or no release is pinned (the newest's `not fp16` stands)."""
    lacks = trl_release_lacks(r, classes, "bf16")
    if lacks is None:
        return None
    version, spec, where, config_class = lacks
    return (
        f"{_TRL_OFF}trl {version} ({spec}, {where}): {config_class} of that release has no bf16 of its own, so "
        f"TrainingArguments' False applies (transformers training_args.py:891-903@4.36.2); TRL's bf16 = not fp16 arrived in {TRL_BF16_SINCE_AT}"
    )


def trl_precision(r: Reader, classes: tuple[str, ...] = ()) -> None:
    """TRL configs: bf16 defaults to `not fp16` (trl >= 0.19.0; before, TrainingArguments' False); ModelConfig.dtype
    defaults to float32."""
    if not explicit_precision(r):
        k, value, line = r.raw("bf16")
        if k is not None and not _truthy(value):
            r.explicit("precision", "fp32", k, line)
        elif (off := _trl_bf16_off(r, classes)) is not None:
            r.default("precision", "fp32", off)
        else:
            r.default("precision", "bf16", f"TRL: bf16 unset and fp16 not set, so bf16 mixed precision; {CITES['trl.bf16']}")
    k, dt, line = dtype_key(r, "dtype", "torch_dtype", "model_init_kwargs.dtype", "model_init_kwargs.torch_dtype")
    if k is not None and dt is not None:
        r.explicit("weight_dtype", dt, k, line)
    elif k is None:
        r.default("weight_dtype", "fp32", "TRL ModelConfig.dtype default 'float32' (trl 1.16.0 trl/trainer/model_config.py:89): weights load in fp32")


# TrainingArguments with neither fp16 nor bf16 true keeps the mixed precision `accelerate launch` exported
# (ACCELERATE_MIXED_PRECISION; the --mixed_precision flag wins over the config file's key, accelerate 1.16.0
# commands/launch.py:1337-1341, 1.0.0 :1050-1054; exported at utils/launch.py:157,255,518@1.16.0): transformers 4.36.2
# training_args.py:1566-1573, 4.46.3 :1834-1841, 5.25.0 :1612-1618 (then trainer.py:744 hands it to the Accelerator).
# bf16 and fp16 default to False (4.36.2 :891-903, 4.46.3 :1055-1067, 5.25.0 :874-885), so `bf16: false` is the same as unset.
ENV_PRECISION_AT = "transformers training_args.py:1566-1573@4.36.2, :1834-1841@4.46.3, :1612-1618@5.25.0"
_HALF_OFF_AT = "bf16/fp16 default False: transformers training_args.py:891-903@4.36.2, :874-885@5.25.0"


def launch_precision(r: Reader) -> None:
    """An HF Trainer / TRL run whose TrainingArguments end with neither bf16 nor fp16 true runs in the mixed
    precision its `accelerate launch` sets (its `--mixed_precision` flag, else its accelerate config's
    `mixed_precision`): read from there, with the file and line. Not where a DeepSpeed file is passed to
    TrainingArguments (its `bf16.enabled: auto` is filled from args.bf16, transformers 4.46.3
    integrations/deepspeed.py:199) nor where bf16/fp16 is computed at run time (left unread)."""
    src = r.sources.get("precision")
    if src is None or src.unread or r.values.get("precision") != "fp32" or (src.explicit and src.key not in ("bf16", "fp16")):
        return
    script = getattr(r, "script", None)
    if script is not None and ({"bf16", "fp16"} & set(getattr(script, "computed", {}))):
        return
    if r.raw("deepspeed")[0] is not None or str(r.raw("half_precision_backend")[1]).lower() == "apex":
        return
    from .launchers import find_launch

    launch = find_launch(r.path)
    if launch is None or launch.commented:  # a commented-out line is a hint for the counts, not how the run is launched
        return
    if launch.strategy.get("deepspeed_config_file"):
        # the accelerate config hands DeepSpeed its own JSON: that file's bf16/fp16 decide, and a mixed_precision beside
        # it is refused (accelerate 1.16.0 commands/launch.py:1420-1425, utils/dataclasses.py:1386-1411)
        return
    script_said = script is not None

    def shown(k: str, v: Any) -> str:
        return f"`{k}={v!r}`" if script_said else f"`{k}: {str(v).lower() if isinstance(v, bool) else v}`"

    off = [shown(k, v) + (f" (line {line})" if line else "") for k in ("bf16", "fp16") for k_, v, line in [r.raw(k)] if k_ is not None]
    neither = "TrainingArguments sets neither bf16 nor fp16" + (
        f" ({' and '.join(off)} is TrainingArguments' default, the same as unset; {_HALF_OFF_AT})" if off else ""
    )
    if not src.explicit and (src.note or "").startswith(_TRL_OFF):  # a TRL release whose config leaves bf16 off
        neither += f" ({(src.note or '').removeprefix(_TRL_OFF).split(': ', 1)[0]}: its config class has no bf16 of its own)"
    if launch.mixed_precision is None:
        if not launch.strategy_unread and re.search(r"(^|[\s/])accelerate\s+launch\b|accelerate\.commands\.launch", launch.command):
            # neither --mixed_precision nor --config_file: "no", unless the machine holds a default accelerate config
            # (accelerate 1.16.0 commands/launch.py:1268 and :1377-1379)
            why = (
                f"`accelerate launch` at {launch.where()} passes neither --mixed_precision nor --config_file: no mixed precision, unless "
                "the machine has a default accelerate config (`accelerate config`), whose mixed_precision the run then takes "
                "(accelerate 1.16.0 commands/launch.py:1268,1377-1379)"
            )
            r.sources["precision"] = src.model_copy(update={"note": f"{src.note}; {why}" if src.note else why})
            r.notes.append(f"precision fp32: {why}; {neither}")
        elif launch.strategy_unread.startswith("the accelerate config"):
            why = f"{launch.strategy_unread.replace('the strategy', 'the mixed precision')}; {neither}, so the Trainer runs in it ({ENV_PRECISION_AT})"
            r.sources["precision"] = src.model_copy(update={"unread": True, "note": f"{why}; fp32 assumed for the projection, no rule judges it"})
            r.notes.append(f"precision: {why}: fp32 assumed, not judged")
        return
    raw, file, line, said = launch.mixed_precision
    raw = str(raw).lower()
    if raw in ("bf16", "fp16"):
        how = f"{raw} from accelerate launch's mixed_precision: {said}" + (f":{line}" if line and " line " not in said else "")
        note = f"{how}; {neither}, so the Trainer keeps it ({ENV_PRECISION_AT})"
        r.values["precision"] = raw
        r.sources["precision"] = FieldSource(file=file, key="mixed_precision", line=line, explicit=True, note=note)
        r.notes.append(f"precision {note}")
    elif raw != "no":  # fp8 (accelerate's own recipe, not modelled here) or a value set at run time
        what = "set at run time" if "$" in raw else raw
        why = f"accelerate launch's mixed_precision is {what}: {said}; {neither}, so the Trainer runs in it ({ENV_PRECISION_AT})"
        r.sources["precision"] = src.model_copy(update={"unread": True, "note": f"{why}; fp32 assumed for the projection, no rule judges it"})
        r.notes.append(f"precision: {why}: not modelled, not judged")
    else:
        r.notes.append(f"precision fp32: {said}; {neither} ({ENV_PRECISION_AT})")


# Neither bf16 nor fp16 true: no autocast runs, so a model loaded in half precision computes in it. transformers 4.44.2
# training_args.py:1036-1048 (bf16/fp16 default False), :1778-1785 (ACCELERATE_MIXED_PRECISION stays "no" unless one is
# true or the launcher set it), trainer.py:3281-3290 (the Trainer's own autocast is CPU AMP only); accelerate 0.33.0
# accelerator.py:461-497 (native_amp only for mixed_precision fp16/bf16), :1375-1379 (only then is forward autocast);
# transformers 5.25.0 training_args.py:874-885. A LoRA base layer runs in its own dtype and the adapter's sum is cast back
# to it: peft 0.12.0 peft/tuners/lora/layer.py:544-567.
PURE_HALF_AT = (
    "transformers 4.44.2 training_args.py:1036-1048,1778-1785 and trainer.py:3281-3290; accelerate 0.33.0 accelerator.py:461-497,1375-1379;"
    " transformers 5.25.0 training_args.py:874-885"
)
PEFT_BASE_DTYPE_AT = "peft 0.12.0 peft/tuners/lora/layer.py:544-567: the base layer runs in its own dtype, the adapters' sum is cast back to it"


def script_autocast(tree: ast.AST | None) -> int | None:
    """The first line of the script's own `autocast(...)` call (`torch.autocast`, `torch.cuda.amp.autocast`,
    `accelerator.autocast`), or None; a script goblin could not parse (None) counts as one that may (line 0)."""
    if tree is None:
        return 0
    lines = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and ((isinstance(node.func, ast.Attribute) and node.func.attr == "autocast") or (isinstance(node.func, ast.Name) and node.func.id == "autocast"))
    ]
    return min(lines) if lines else None


def pure_half_precision(r: Reader, script: str = "", tree: ast.AST | None = None, certain: bool = True) -> None:
    """The one place a run that loads its weights in half precision and turns on no mixed precision is priced as what it
    runs: pure half precision. Where the weights' dtype is read (bf16/fp16, not unread; `certain` False where the script
    run on the recipe never reads the key goblin took it from), the Trainer's precision is fp32 only because no bf16/fp16
    flag is true (read, not unread; no accelerate launch mixed precision, no DeepSpeed file, which decides its own dtype),
    and the script (`tree`) calls no autocast of its own: no autocast runs (PURE_HALF_AT), so every GEMM of a full
    fine-tune, and every base-model GEMM under a LoRA/DoRA adapter (PEFT_BASE_DTYPE_AT), runs in the weights' dtype.
    `precision` becomes that dtype, so no "bf16 instead of fp32" finding claims an fp32 step that does not run. A
    quantized base (its compute dtype is the quantization's) is left as it is."""
    precision, weights = r.sources.get("precision"), r.sources.get("weight_dtype")
    dt = r.values.get("weight_dtype")
    if not certain or precision is None or weights is None or precision.unread or weights.unread or r.values.get("precision") != "fp32":
        return
    if dt not in ("bf16", "fp16") or r.values.get("quantization", "none") != "none" or r.values.get("method", "full") not in ("full", "lora", "dora"):
        return
    if r.raw("deepspeed")[0] is not None or r.values.get("strategy") == "deepspeed":
        return
    if script and (line := script_autocast(tree)) is not None:
        where = f"{script}:{line}" if line else script
        r.notes.append(f"the weights load in {dt} with neither bf16 nor fp16 on, but {where} calls autocast of its own: precision fp32 kept as read")
        return
    loads = (weights.note or "the model load").split("; ")[0][:240]
    if weights.key and not weights.key.startswith("from_pretrained") and weights.file == r.path:
        k, v, _ = r.raw(weights.key)
        in_script = getattr(r, "script", None) is not None
        if k is not None:
            loads = (f"`{k}={v!r}`" if in_script else f"`{k}: {v}`") + (f" (line {weights.line})" if weights.line else "")
            loads += f", which {script} reads" if script and not in_script else ""
    method = r.values.get("method", "full")
    part = (
        "every GEMM in the weights' dtype"
        if method == "full"
        else f"every base-model GEMM in the weights' dtype, only the {method} adapters' small GEMMs in their own ({PEFT_BASE_DTYPE_AT})"
    )
    note = (
        f"the weights load in {dt}: {loads}; TrainingArguments turns on neither bf16 nor fp16, so no autocast runs:"
        f" the model trains in pure {dt}, {part}; priced so, not as fp32 ({PURE_HALF_AT})"
    )
    r.values["precision"] = dt
    r.sources["precision"] = precision.model_copy(update={"note": f"{note}; before it: {precision.note}" if precision.note else note})
    r.notes.append(note)
    if method != "full":
        adapter, said = _adapter_dtype(r, dt)
        r.values["adapter_dtype"] = adapter
        r.sources["adapter_dtype"] = FieldSource(file=r.path, note=said)
        r.notes.append(said)


# PEFT casts bf16/fp16 adapters to fp32 from 0.12.0 (get_peft_model's autocast_adapter_dtype=True, peft/mapping.py:138,
# peft/tuners/tuners_utils.py:316-332@0.12.0); 0.11.1 moves them to the base weight's dtype (peft/tuners/lora/layer.py:123-131)
PEFT_FP32_ADAPTERS = "0.12.0"
PEFT_ADAPTER_AT = "peft 0.12.0 peft/mapping.py:138, peft/tuners/tuners_utils.py:316-332; peft 0.11.1 peft/tuners/lora/layer.py:123-131"


def _adapter_dtype(r: Reader, base: str) -> tuple[str, str]:
    """The dtype LoRA adapters over a `base` (bf16/fp16) model hold and compute in without autocast, at the PEFT release
    the repository pins (an exact pin below 0.12.0: the base's; else, unpinned or a range, the newest's fp32, said)."""
    from packaging.version import InvalidVersion, Version

    from ..frameworks.pins import pins

    pin = pins(r.path, r.text).get("peft")
    try:
        version = Version(pin.version) if pin is not None and pin.version else None
    except InvalidVersion:
        version = None
    if version is not None and version >= Version(PEFT_FP32_ADAPTERS):
        assert pin is not None
        return (
            "fp32",
            f"LoRA adapters in fp32: {pin.spec} ({pin.where}) casts them up from {base} ({PEFT_ADAPTER_AT}); their inputs, dropped copies and outputs are held in fp32",
        )
    if version is not None and pin is not None and (pin.exact or pin.kind == "commit"):
        return base, f"LoRA adapters in {base}: {pin.spec} ({pin.where}) keeps them in the base weight's dtype ({PEFT_ADAPTER_AT})"
    how = f"{pin.spec} ({pin.where}) allows" if pin is not None else "peft is not pinned:"
    return "fp32", (
        f"LoRA adapters in fp32 (assumed: {how} its newest release, which casts them up from {base}; {PEFT_ADAPTER_AT}); their inputs,"
        " dropped copies and outputs are held in fp32"
    )


def axolotl_precision(r: Reader) -> None:
    """Axolotl resolve_dtype: bf16 'auto' (the default) is bf16 on an Instinct GPU unless fp16 is set;
    the model then loads in torch_dtype bf16 (src/axolotl/utils/config/__init__.py:156-196)."""
    cite = "axolotl 0.18.0 src/axolotl/utils/config/__init__.py:156-196 (resolve_dtype)"
    kb, bf16, lb = r.raw("bf16")
    kf, fp16, lf = r.raw("fp16")
    auto = kb is None or (isinstance(bf16, str) and bf16.lower() == "auto")
    if kb is not None and not auto and _truthy(bf16):
        r.explicit("precision", "bf16", kb, lb)
    elif kf is not None and _truthy(fp16) and (auto or not _truthy(bf16)):
        r.explicit("precision", "fp16", kf, lf)
    elif auto:
        if kb is not None:
            r.explicit("precision", "bf16", kb, lb)
        else:
            r.default("precision", "bf16", f"Axolotl bf16 default 'auto' resolves to bf16 where the GPU supports it; {CITES['axolotl.bf16']}; {cite}")
    elif explicit_precision(r):
        pass
    else:
        r.explicit("precision", "fp32", kb or "bf16", lb)
    if r.values["precision"] == "fp32":
        # `bfloat16: true` / `float16: true` without AMP: the model loads, and so computes, in half precision.
        for key, half in (("bfloat16", "bf16"), ("float16", "fp16")):
            k, v, line = r.raw(key)
            if k is not None and _truthy(v):
                r.explicit("precision", half, k, line)
                break
    p = r.values["precision"]
    weights = {"bf16": "bf16", "fp16": "fp16"}.get(p, "fp32")
    src = r.sources["precision"]
    if src.explicit and src.key:
        r.explicit("weight_dtype", weights, src.key, src.line)
    else:
        r.default("weight_dtype", weights, f"Axolotl loads the model in torch_dtype {weights} ({cite})")


def llamafactory_precision(r: Reader, method: str, zero3: bool) -> None:
    """LLaMA-Factory classic: bf16/pure_bf16 -> bf16, fp16 -> fp16, else the checkpoint's dtype
    (bf16 for current checkpoints) for a frozen base; trainable parameters are upcast to fp32
    unless pure_bf16, use_badam or ZeRO-3."""
    half_master = as_bool(r.data.get("pure_bf16") or False) or as_bool(r.data.get("use_badam") or False)
    if not explicit_precision(r):
        if method == "full" and not zero3 and not half_master:
            r.default(
                "precision", "fp32", f"LLaMA-Factory without bf16/fp16: trainable parameters are upcast to fp32 and no autocast runs; {CITES['lf.upcast']}"
            )
        else:
            r.default(
                "precision",
                "bf16",
                f"LLaMA-Factory without bf16/fp16 computes in the checkpoint's dtype (assumed bf16, as current checkpoints are); {CITES['lf.compute_dtype']}",
            )
    if half_master:
        k, _, line = r.raw("pure_bf16", "use_badam")
        r.explicit("weight_dtype", "bf16", k or "pure_bf16", line)
    elif method in ("lora", "qlora", "dora"):
        r.default(
            "weight_dtype", "bf16", f"LoRA: the frozen base stays in the checkpoint's dtype (torch_dtype='auto', assumed bf16); {CITES['lf.compute_dtype']}"
        )
    elif zero3:
        r.default("weight_dtype", "bf16", f"ZeRO-3 keeps the checkpoint's dtype (assumed bf16); {CITES['lf.upcast']}")
    else:
        r.default("weight_dtype", "fp32", f"trainable parameters upcast to fp32; {CITES['lf.upcast']}")


# ------------------------------------------------------------------ pre-quantized checkpoints
# GPTQ / AWQ checkpoints carry `quantization_config` in their config.json, which from_pretrained
# applies on load (transformers 5.24.0 modeling_utils.py, quantizers/auto.py); LLaMA-Factory does
# the same ("PTQ-quantized" models: llamafactory 0.9.5 model/model_utils/quantization.py:90-125,
# where quantization_bit is ignored). The checkpoint's id names the method by convention
# ("TechxGenus/Meta-Llama-3-8B-Instruct-AWQ", "Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4").
_PTQ_ID = re.compile(r"(?:^|[-_./])(gptq|awq)(?:$|[-_./])", re.IGNORECASE)
_PTQ_8BIT = re.compile(r"int8|8bit|8-bit|w8a16", re.IGNORECASE)
PTQ_CITE = "llamafactory 0.9.5 model/model_utils/quantization.py:90-125 (a checkpoint's quantization_config is applied on load; quantization_bit is ignored)"


def read_prequantized(r: Reader, *model_keys: str) -> None:
    """A GPTQ/AWQ checkpoint (named by its id, a quantization_config, or Axolotl's `gptq: true`):
    the base weights are int4 (int8 where the id says so), whatever the precision keys say."""
    method: str | None = None
    key: str | None = None
    line: int | None = None
    bits = 4
    for k in ("quantization_config.quant_method", "model_init_kwargs.quantization_config.quant_method"):
        kk, v, ln = r.raw(k)
        if kk is not None and str(v).lower() in ("gptq", "awq"):
            method, key, line = str(v).lower(), kk, ln
            kb, b, _ = r.raw(k.rsplit(".", 1)[0] + ".bits")
            bits = 8 if kb is not None and str(b) == "8" else 4
            break
    if method is None:
        kk, v, ln = r.raw("gptq")  # Axolotl: `gptq: true` loads a GPTQ checkpoint (axolotl 0.18.0 src/axolotl/utils/schemas/peft.py:143)
        if kk is not None and _truthy(v):
            method, key, line = "gptq", kk, ln
    if method is None:
        kk, v, ln = r.raw(*model_keys)
        m = _PTQ_ID.search(v) if kk is not None and isinstance(v, str) else None
        if m is None:
            return
        method, key, line = m.group(1).lower(), kk, ln
        bits = 8 if _PTQ_8BIT.search(str(v)) else 4
    assert key is not None
    r.explicit("prequantized", method, key, line)
    quant = "8bit" if bits == 8 else "4bit"
    if r.values.get("quantization", "none") == "none":
        r.explicit("quantization", quant, key, line)
        r.sources["quantization"].note = f"{method.upper()}-quantized checkpoint: {quant} base weights fixed by the model ({PTQ_CITE})"
    if r.values.get("method") == "lora":
        r.values["method"] = "qlora"


# ------------------------------------------------------------------ world size
_PER_NODE = (
    re.compile(r"(?:--)?\bnproc[_-]per[_-]node[=\s:]+(\d+)", re.IGNORECASE),
    re.compile(r"\bNPROC_PER_NODE=(\d+)"),
)
_NNODES = re.compile(r"(?:--)?\b(?:nnodes|num[_-]nodes|NNODES)[=\s:]+(\d+)\b(?!:)", re.IGNORECASE)
_COMMENT_GPUS = (
    re.compile(r"--num[_-]processes[= ]+(\d+)"),  # accelerate: the total over all machines
    re.compile(r"\b(?:needs?|requires?|uses?|on|with|across)\s+(\d+)\s*(?:x\s*)?(?:[A-Z]\w*\s+)?GPUs?\b", re.IGNORECASE),
    re.compile(r"\b(\d+)\s*x\s*(?:A100|H100|H200|MI300X?|MI325X|MI355X|GPUs?)\b", re.IGNORECASE),
)


# Slurm: `sbatch -N 4 ...` / `sbatch --nodes=2 ...`. open-r1's slurm/train.slurm runs 8 GPUs per node and
# launches accelerate with --num_machines $NUM_NODES --num_processes $NUM_NODES*8, one node fewer when the
# config uses a vLLM server (open-r1 068f13f2 slurm/train.slurm:5, :30-32, :38-48, :66-70).
_SBATCH_NODES = re.compile(r"\bsbatch\b.*?(?:\s-N\s*|\s--nodes[=\s]+)(\d+)\b")
_OPENR1_SLURM = "open-r1 slurm/train.slurm:30-32 (GPUS_PER_NODE=8, WORLD_SIZE=NUM_NODES*8) and :66-70 (accelerate launch --num_processes $WORLD_SIZE)"
# "16 nodes of 8 H100s", "2 nodes x 8 GPUs", "4 nodes with 8 MI300X": nodes times GPUs per node.
_NODES_OF = re.compile(r"\b(\d+)\s*nodes?\s*(?:of|with|x|\*)\s*(\d+)\s*(?:x\s*)?(?:[A-Z]\w*\s+)?(?:A100|H100|H200|MI\d+X?|GPU)s?\b", re.IGNORECASE)
# "Config for 8 nodes, with GBS 128": nodes without a per-node count.
_NODES_ONLY = re.compile(r"\b(?:for|on|across|uses?|needs?|requires?)\s+(\d+)\s*nodes?\b", re.IGNORECASE)
GPUS_PER_NODE_ASSUMED = 8  # one MI300X platform: 8 GPUs


_DIGIT = re.compile(r"\d")
# A count a comment puts under a condition ("if you use 8 GPUs", "when training on 4 GPUs", "e.g. on 8 GPUs"): advice
# for another run, not the count this config ran with.
_CONDITIONAL = re.compile(r"\b(?:if|when|whenever|unless|otherwise|for example)\b|\be\.g\.", re.IGNORECASE)


# A recipe's own top-level `num_processes: 7` (review5 #19 QingyangZhang/EMPO trl/recipes/Qwen2.5/rl/
# config_GRPO_NM_COT_20K_1.5B.yaml:12-13, "# Num processes is less by 1 as vLLM is using 1 GPU", the open-r1 recipe
# form, no Python file of that repository reads it): the recipe's word on `accelerate launch --num_processes`,
# the process count over all machines. A launch line that names the recipe still wins; an indented key
# belongs to a nested block and is not read.
_OWN_PROCESSES = re.compile(r"^num_processes:\s*(\d+)\s*(?:#.*)?$")


def _said(line: str) -> bool:
    return (
        "#" in line
        or _OWN_PROCESSES.match(line) is not None
        or line.lstrip().startswith(("torchrun", "accelerate", "tune", "deepspeed", "llamafactory-cli", "FORCE_TORCHRUN", "NNODES", "sbatch"))
    )


def _uses_vllm_server(text: str) -> bool:
    return bool(re.search(r"^\s*use_vllm:\s*true", text, re.MULTILINE | re.IGNORECASE))


class Said(NamedTuple):
    """What a line of the config's own text says: GPUs, where, and nodes x GPUs per node (None: not stated)."""

    gpus: int
    line: int
    phrase: str
    nodes: int | None = None
    per_node: int | None = None


def _nodes_phrase(line: str, text: str) -> tuple[int, str, int, int | None] | None:
    """(GPUs, how, nodes, GPUs per node or None when assumed) from a line that states nodes: sbatch's
    node count, 'N nodes of M GPUs', or 'N nodes'."""
    m = _NODES_OF.search(line)
    if m and 1 <= int(m.group(1)) <= 1024 and 1 <= int(m.group(2)) <= 64:
        return int(m.group(1)) * int(m.group(2)), f"{m.group(0).strip()}: {m.group(1)} x {m.group(2)}", int(m.group(1)), int(m.group(2))
    m = _SBATCH_NODES.search(line)
    if m and 1 <= int(m.group(1)) <= 1024:
        nodes = int(m.group(1))
        if "slurm/train.slurm" in line:
            train = nodes - 1 if _uses_vllm_server(text) and nodes > 1 else nodes
            vllm = " (one node serves vLLM: use_vllm true)" if train != nodes else ""
            return train * 8, f"sbatch {m.group(0).split('sbatch', 1)[1].strip()} x 8 GPUs per node{vllm}, as {_OPENR1_SLURM}", train, 8
        return nodes * GPUS_PER_NODE_ASSUMED, f"sbatch {nodes} nodes x {GPUS_PER_NODE_ASSUMED} GPUs per node (assumed: one MI300X node)", nodes, None
    m = _NODES_ONLY.search(line)
    if m and 1 <= int(m.group(1)) <= 1024:
        n = int(m.group(1))
        return n * GPUS_PER_NODE_ASSUMED, f"{m.group(0).strip()} x {GPUS_PER_NODE_ASSUMED} GPUs per node (assumed: one MI300X node)", n, None
    return None


def world_from_text(text: str) -> Said | None:
    """What a comment or launcher line in the file says; the first that says one.
    A per-node count (torchrun/tune `--nproc_per_node`, LLaMA-Factory `NPROC_PER_NODE=`) is multiplied
    by the node count the file states (`--nnodes`, `NNODES=`), on the same line or another; without
    one, torchrun runs one node (launch_line.TORCHRUN_AT)."""
    # Every pattern here takes a count, so a line without a digit cannot match one.
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if _said(line) and _DIGIT.search(line)]
    nodes = next(((int(m.group(1)), m.group(0).strip()) for _, line in lines if (m := _NNODES.search(line))), None)
    for lineno, line in lines:
        for pat in _PER_NODE:
            m = pat.search(line)
            if m and 1 <= int(m.group(1)) <= 1024:
                per = int(m.group(1))
                if nodes and 1 <= nodes[0] <= 1024:
                    return Said(per * nodes[0], lineno, f"{nodes[1]} x {m.group(0).strip()}", nodes[0], per)
                return Said(per, lineno, m.group(0).strip(), 1, per)
        for pat in (_OWN_PROCESSES, *_COMMENT_GPUS):
            m = pat.search(line)
            if m and pat in _COMMENT_GPUS[1:] and _CONDITIONAL.search(line[: m.start()]):
                continue  # "# if you use 8 GPUs, halve ...": another run's advice, not this one's count
            if m and 1 <= int(m.group(1)) <= 1024:
                return Said(int(m.group(1)), lineno, m.group(0).strip())
        found = _nodes_phrase(line, text)
        if found:
            return Said(found[0], lineno, found[1], found[2], found[3])
    return None


# A header comment's launch line that runs another config (`tune run ... --config qwen2_5/7B_full` in a file
# that is not qwen2_5/7B_full): the framework's template header, copied with the recipe (review4 #4 SWE-Gym).
_COMMENT_CONFIG = re.compile(r"--config[=\s]+([^\s<>$]+)")


def template_comment(text: str, config_name: str) -> str | None:
    """Why the config's own comment lines are a template rather than the repository's word on its topology,
    or None: a comment launch line that runs another config (a copied framework header), or comment lines
    that offer several GPUs-per-node counts (options, not the count this run used)."""
    stem = config_name.rsplit("/", 1)[-1]
    stem = re.sub(r"\.ya?ml$", "", stem, flags=re.IGNORECASE)
    counts: list[int] = []
    for line in text.splitlines():
        body = line.lstrip()
        if not body.startswith("#"):
            continue
        m = _COMMENT_CONFIG.search(body)
        if m:
            named = re.sub(r"\.ya?ml$", "", m.group(1).rsplit("/", 1)[-1], flags=re.IGNORECASE)
            if named and named != stem:
                return f"its comment runs `--config {m.group(1)}`, another config: a framework template's header kept in this file"
        for pat in _PER_NODE:
            c = pat.search(body)
            if c and int(c.group(1)) not in counts:
                counts.append(int(c.group(1)))
    if len(counts) > 1:
        return f"its comment offers several counts per node ({', '.join(str(c) for c in counts)}), not the one this run used"
    return None


# The accelerate config a launch line names (`--config_file recipes/accelerate_configs/zero3.yaml`, or
# open-r1's sbatch accelerator argument, slurm/train.slurm:22 and :67 `recipes/accelerate_configs/$ACCELERATOR.yaml`):
# open-r1's zero2/zero3 files are DeepSpeed ZeRO-2/3 and fsdp.yaml is FSDP (recipes/accelerate_configs/*.yaml).
_ACCEL_FILE = re.compile(r"--config[_-]file[=\s]+\S*?\b(zero[123]|fsdp|ddp)\w*\.ya?ml")
_SBATCH_ACCEL = re.compile(r"slurm/train\.slurm(?:\s+\S+){3}\s+(zero[123]|fsdp|ddp)\b")
# "Config for 16 nodes of 8 H100s with FSDP1", "... using ZeRO-3": the strategy in the comment's words.
_STRATEGY_WORDS = re.compile(r"\b(?:with|using|via)\s+(?:DeepSpeed\s+)?(fsdp|zero)-?(\d)?\b", re.IGNORECASE)


def launcher_strategy(text: str) -> tuple[str, int | None, str, int] | None:
    """(strategy, ZeRO stage, the phrase, line) from the accelerate config a comment's launch line names."""
    for lineno, line in enumerate(text.splitlines(), 1):
        if not _said(line):
            continue
        m = _ACCEL_FILE.search(line) or _SBATCH_ACCEL.search(line)
        words = _STRATEGY_WORDS.search(line) if line.lstrip().startswith("#") else None
        if m is None and words is not None:
            if words.group(1).lower() == "fsdp":
                return "fsdp", None, words.group(0).strip(), lineno
            if words.group(2) in ("1", "2", "3"):
                return "deepspeed", int(words.group(2)), words.group(0).strip(), lineno
        if m:
            name = m.group(1)
            if name.startswith("zero"):
                return "deepspeed", int(name[-1]), m.group(0).strip(), lineno
            return name, None, m.group(0).strip(), lineno
    return None


# (GPUs, why, key, line) a config's own keys imply when nothing else states the count: Axolotl's
# parallel sizes (a minimum: Axolotl fills a remainder with dp_replicate) or LLaMA-Factory arithmetic.
Implied = tuple[int, str, str, int | None, bool]  # (GPUs, why, key, line, at_least)


def read_world_size(
    r: Reader,
    text: str,
    *,
    extra: tuple[int, str, str | None, int | None] | None = None,
    implied: Implied | None = None,
    launch_decides_strategy: bool = True,
    implied_over_assumed: bool = False,
) -> None:
    """World size, nodes and GPUs per node, from what says them first: an explicit count in the config
    (ray workers, a referenced accelerate file's num_processes), a launcher in its repository that names
    it (formats/launchers.py), else a comment or launcher line in the config (the fallback), what the config's own
    keys imply (`implied`), else assumed: 1 for a single-device job, 8 (one MI300X node) when it shards.
    An `implied` minimum (Axolotl's parallel sizes) also raises a smaller count read elsewhere.
    `launch_decides_strategy` False: the format's own keys say how it shards (Axolotl's and LLaMA-Factory's
    `deepspeed:`/`fsdp:`, a torchtune recipe), so a GPU count from prose leaves no strategy unread.
    `implied_over_assumed`: an exact `implied` count (LLaMA-Factory's global_batch_size arithmetic) wins over a launcher
    that states no count, as the config's comment does."""
    if "world_size" in r.values:
        _topology_from_world(r)
        _apply_minimum(r, implied)
        _ddp_if_launched(r)
        return
    if extra is not None:
        n, why, key, line = extra
        if key:
            r.explicit("world_size", n, key, line)
        else:
            r.default("world_size", n, why)
        r.sources["world_size"].note = why
        _topology_from_world(r)
        _ddp_if_launched(r)
        return
    found = world_from_text(text)
    from .launchers import find_launch

    # A repository launcher that names this file is how it is run; the file's own comment lines are the
    # fallback (review3 class 2: torchtune's "To launch on 2 devices ... --nproc_per_node 2" template
    # comment kept in a 32B config that scripts/train.run_ft_torchtune.sh runs with N_GPUS=8).
    # A README's code block is documentation like the comment, and a launcher whose GPUs per node were
    # assumed (`${gpus}` not resolved) says no count: over those the comment's count stays first.
    launched = find_launch(r.path)
    if launched is None:
        from .launchers import npu_launch

        if npu := npu_launch(r.path):
            r.notes.append(
                f"an Ascend NPU recipe: only README blocks for NPUs launch {Path(r.path).name} ({', '.join(npu)}), no GPU launch line"
                " names it; the topology is not read from them and is assumed"
            )
    if launched is None and not found:
        from .launchers import beside_accelerate

        launched = beside_accelerate(r.path)  # the one accelerate config beside it, that no launcher passes: assumed
        if launched is None:
            from .launch_family import family_launch

            launched = family_launch(r.path)  # a launch line of a config of its recipe family: assumed
    weak = launched is not None and (Path(launched.file).suffix.lower() in (".md", ".markdown") or not launched.per_node_said)
    # a Markdown line that names this file and states a count beats a template comment (review4 class 2:
    # SWE-Gym docs/OpenHands.md:96 `N_GPUS=8 ...` over torchtune's "To launch on 2 devices ... qwen2_5/7B_full")
    # so does a commented-out repository line that names this file (a notebook's `# ! tune run ... --config x.yaml`)
    # over a comment that is a framework template's header (review12a #7: torchtune's 90B_qlora "To launch on 4
    # devices" kept in the copy; the workshop's notebook runs it, commented out, on one GPU): both are hints, and the
    # repository's own names this file; the template names another config
    commented = launched is not None and launched.commented
    counted = launched is not None and ((launched.per_node_said and launched.nodes_said) or commented)
    template = template_comment(text, Path(r.path).name) if found and weak and counted else None
    if template:
        weak = False
    if implied_over_assumed and launched is not None and weak and not found and implied is not None and not implied[4]:
        # the file's own batch arithmetic (LLaMA-Factory's global_batch_size) states a count; a launcher that states none
        # (every visible GPU assumed, a README line) gives way to it as to a comment's count; its strategy is kept
        before = len(r.notes)
        _from_launcher(r, launched)
        r.notes[before:] = [n for n in r.notes[before:] if not n.startswith("topology from the repository: ")]
        n, why, key, line, _ = implied
        r.explicit("world_size", n, key, line)
        r.sources["world_size"].note = f"{why}; over {launched.where()}, which states no count"
        r.notes.append(f"world size {n} from {why}: {launched.where()} `{launched.command}` states no count")
        _topology_from_world(r)
        _ddp_if_launched(r, launched.strategy_unread or None)
        return
    if launched is not None and not (found and weak):
        prose = readme_prose(r.path)
        if prose is None and _count_unknown(launched) and Path(launched.file).suffix.lower() in (".md", ".markdown") and not getattr(launched, "family", ""):
            # the README whose code block is the launch line states one count for the run (review10b #30 LongQLoRA
            # README.MD:9 "On a single 32GB V100 GPU" beside `deepspeed train.py ...` at :68, every visible GPU)
            prose = launching_readme_count(r.path, launched.file, launched.line)
        if prose is not None and _count_unknown(launched):
            _from_launcher(r, launched)
            _prose_over_launcher(r, prose, launched)
            _less_server(r, text, prose, launched.file)
            _apply_minimum(r, implied)
            _ddp_if_launched(r, launched.strategy_unread or None)
            return
        _from_launcher(r, launched)
        if prose is not None and prose.gpus != launched.world:
            r.notes.append(f"world size: {prose.note()}, {_gpus(prose.gpus)}; the launch line {launched.where()} states {_gpus(launched.world)} and wins")
        if found:
            said = f"{found.gpus} GPU{'s' if found.gpus != 1 else ''}"
            how = "agrees" if found.gpus == launched.world else "is overridden"
            how += f" ({template})" if template else ""
            src = r.sources["world_size"]
            src.note = f"{src.note}; the launcher was used: the config's own text at line {found.line} (`{found.phrase}`, {said}) {how}"
            if found.gpus != launched.world:
                r.notes.append(
                    f"world size: the config's own text at line {found.line} says `{found.phrase}` ({said}); the repository launcher that names it wins"
                    + (f": {template}" if template else "")
                )
        _apply_minimum(r, implied)
        _ddp_if_launched(r, launched.strategy_unread or None)
        return
    if found:
        own_key = _OWN_PROCESSES.match(found.phrase) is not None
        r.explicit("world_size", found.gpus, "num_processes" if own_key else f"comment: {found.phrase}", found.line)
        fallback = "the file's own num_processes key (accelerate launch's process count) is" if own_key else "its comment lines are"
        r.sources[
            "world_size"
        ].note = f"from the config's own text at line {found.line}: `{found.phrase}` (no repository launcher that names this file states a count; {fallback} the fallback)"
        _topology_from_world(r, found)
        launch = launcher_strategy(text) if r.values.get("strategy", "single") == "single" and found.gpus > 1 else None
        if launch is not None:
            strategy, stage, how, at = launch
            r.explicit("strategy", strategy, f"comment: {how}", at)
            if stage is not None:
                r.explicit("zero_stage", stage, f"comment: {how}", at)
        if r.values.get("strategy", "single") == "single" and found.gpus > 1 and launched is not None:
            _strategy_from_launcher(r, launched)  # the count is the config's; the strategy may be its README launcher's
        _apply_minimum(r, implied)
        unread = (launched.strategy_unread or None) if launched is not None else None
        if own_key and unread is None and launched is None:
            # accelerate's process count without the accelerate config the run passes: its strategy is unknown
            unread = f"line {found.line} `{found.phrase}` is accelerate launch's process count; no launch line names the accelerate config it runs with"
        _ddp_if_launched(r, unread)
        return
    prose = readme_prose(r.path)
    if prose is not None and implied is None:
        _from_prose(r, prose)
        _less_server(r, text, prose)
        _ddp_if_launched(r)
        chosen = r.sources.get("strategy")
        if (
            launch_decides_strategy
            and r.values.get("strategy") == "ddp"
            and chosen is not None
            and not chosen.explicit
            and STRATEGY_UNREAD not in (chosen.note or "")
        ):
            # the README says how many GPUs, not how they were launched: DDP is a guess (review4 #27 dolly: its
            # notebook runs `deepspeed --module training.trainer` with a ZeRO-3 file goblin does not read from prose)
            why = f"{Path(prose.file).name}:{prose.line} states the GPU count, no launch line that names this file says how it runs"
            r.default("strategy", "ddp", f"{prose.gpus} processes and no FSDP/ZeRO setting read: {why}; {STRATEGY_UNREAD}")
            r.notes.append(f"strategy: {why}; goblin assumed DDP")
        return
    if implied is not None:
        n, why, key, line, _ = implied
        r.explicit("world_size", n, key, line)
        r.sources["world_size"].note = why
        _topology_from_world(r)
        _ddp_if_launched(r)
        return
    named = filename_count(Path(r.path).name)
    if named is not None:
        n, word = named
        r.default(
            "world_size",
            n,
            f"the file name says `{word}`: {_gpus(n)} assumed (no launcher, comment or README states a count); set goblin_world_size to state it",
        )
        r.notes.append(f"world size: {_gpus(n)} read from the file name's `{word}`, assumed")
        _topology_from_world(r)
        _ddp_if_launched(r)
        return
    strategy = r.values.get("strategy", "single")
    if strategy in ("fsdp", "deepspeed"):
        r.default(
            "world_size", 8, "world size not stated; assumed 8 (one MI300X node) because the config shards with FSDP/ZeRO; set goblin_world_size to state it"
        )
    else:
        r.default("world_size", 1, "world size not stated; assumed 1 GPU; set goblin_world_size to state it")
    _topology_from_world(r)


# A GPU count in the config's file name (`llama_2gpu_80gb.yaml`, `sft_8xH100.yaml`, `zero3-4gpus.yml`): a part of the
# name between `_`, `-` or `.` that is a count joined to "gpu(s)" or a GPU model. The repository's hint, read only where
# nothing else states the count, and said assumed.
_NAME_COUNT = re.compile(r"(?:^|[_.-])(\d{1,4})\s?x?_?(gpus?|a100|h100|h200|h800|a800|mi\d{3}x?)(?=[_.-]|$)", re.IGNORECASE)


def filename_count(name: str) -> tuple[int, str] | None:
    """(GPUs, the part of the name) a config's file name states; None where it states none or more than one."""
    found = {(int(m.group(1)), m.group(0).strip("_.-")) for m in _NAME_COUNT.finditer(name) if 1 <= int(m.group(1)) <= 1024}
    counts = {n for n, _ in found}
    if len(counts) != 1:
        return None
    return min(found)


def _gpus(n: int) -> str:
    return f"{n} GPU{'s' if n != 1 else ''}"


def _count_unknown(launched: Any) -> bool:
    """A launch line whose GPU count is not a statement: its node count a variable the file never sets
    (`NNODES=$WORLD_SIZE`, review4 #11 Virgo), or its nodes or GPUs per node assumed (every visible GPU)."""
    return bool(getattr(launched, "nodes_unset", "")) or not (launched.nodes_said and launched.per_node_said)


def _prose_source(prose: Prose, how: str) -> FieldSource:
    return FieldSource(file=prose.file, key=f"README: {prose.phrase}", line=prose.line, explicit=not prose.assumed, note=f"{prose.note()}: {how}")


def _prose_nodes(r: Reader, prose: Prose, per_node: int | None, note: str) -> None:
    """Nodes and GPUs per node for a prose count: as the phrase states them ("2 nodes of 8"), else the
    launcher's stated GPUs per node where it divides the count, else 8-GPU nodes."""
    if prose.nodes is not None and prose.per_node is not None:
        nodes, per = prose.nodes, prose.per_node
    elif per_node and prose.gpus % per_node == 0:
        nodes, per = prose.gpus // per_node, per_node
    else:
        nodes, per = split_nodes(prose.gpus)
    r.values["nodes"], r.values["gpus_per_node"] = nodes, per
    said = prose.nodes is not None
    r.sources["nodes"] = FieldSource(file=prose.file, key=f"README: {prose.phrase}", line=prose.line, explicit=said, note=note)
    r.sources["gpus_per_node"] = FieldSource(file=prose.file, key=f"README: {prose.phrase}", line=prose.line, explicit=said or per_node is not None, note=note)


def _from_prose(r: Reader, prose: Prose) -> None:
    """The world size a README's prose ties to this config, where no launch line or comment states one."""
    r.values["world_size"] = prose.gpus
    note = f"{prose.note()}: no launch line that names this file states a count"
    r.sources["world_size"] = _prose_source(prose, "no launch line that names this file states a count")
    _prose_nodes(r, prose, None, note)
    r.notes.append(f"world size {prose.gpus} from the README: {prose.note()}")


def _prose_over_launcher(r: Reader, prose: Prose, launched: Any) -> None:
    """A README count over a launch line whose count is unknown: the line still says how the run is
    launched (its strategy and accelerate file), the README how many GPUs it had."""
    unknown = f"its node count `{launched.nodes_unset}` is never set" if launched.nodes_unset else "it states no count"
    how = f"the launch line {launched.where()} runs this file but {unknown}"
    r.values["world_size"] = prose.gpus
    r.sources["world_size"] = _prose_source(prose, how)
    per = launched.per_node if launched.per_node_said else None
    _prose_nodes(r, prose, per, f"{prose.note()}: {how}")
    # the launcher's own topology note (its count assumed) gives way to the README's: the line is still how it runs
    r.notes[:] = [n for n in r.notes if not n.startswith(f"topology from the repository: {launched.where()}:")]
    r.notes.append(f"world size {prose.gpus} from the README over the launch line: {prose.note()}; {how}")


def _less_server(r: Reader, text: str, prose: Prose, launch_file: str = "") -> None:
    """A README total that holds the vLLM server's GPUs as well as the training ones (formats/server_share.py): the
    world size is the training share, so the server is not counted on top of it."""
    from .server_share import training_share

    if prose.nodes is not None:
        return  # "2 nodes of 8": which node serves is not said
    share = training_share(r.path, text, prose.gpus, prose.file, prose.line, launch_file)
    if share is None:
        return
    r.values["world_size"] = share.gpus
    src = r.sources["world_size"]
    src.note = f"{src.note}; {_gpus(share.gpus)} of them train, the rest serve vLLM: {share.why}"
    _prose_nodes(r, prose._replace(gpus=share.gpus), None, src.note)
    r.notes.append(f"world size {share.gpus}: the README's {_gpus(prose.gpus)} hold the vLLM server's as well; {share.why}")


def _apply_minimum(r: Reader, implied: Implied | None) -> None:
    """A count below what the config's parallel sizes need cannot start: take the minimum they need."""
    if implied is None or not implied[4] or implied[0] <= r.values.get("world_size", 1):
        return
    n, why, key, line, _ = implied
    was = r.values.get("world_size", 1)
    r.explicit("world_size", n, key, line)
    r.sources["world_size"].note = f"{why}; {was} GPUs read elsewhere is fewer than that"
    _topology_from_world(r)


def split_nodes(world: int) -> tuple[int, int]:
    """(nodes, GPUs per node) for `world` GPUs when nothing states the nodes: one node up to 8 GPUs,
    else full 8-GPU MI300X nodes (the last one partly used when 8 does not divide it)."""
    if world <= GPUS_PER_NODE_ASSUMED:
        return 1, max(1, world)
    nodes = -(-world // GPUS_PER_NODE_ASSUMED)
    return nodes, -(-world // nodes)


def _topology_from_world(r: Reader, said: Said | None = None) -> None:
    """Nodes and GPUs per node for the world size just read: as the line states them, else split."""
    n = r.values.get("world_size", 1)
    src = r.sources.get("world_size")
    if said is not None and said.nodes is not None:
        r.explicit("nodes", said.nodes, f"comment: {said.phrase}", said.line)
        if said.per_node is not None:
            r.explicit("gpus_per_node", said.per_node, f"comment: {said.phrase}", said.line)
            return
        r.default("gpus_per_node", max(1, n // said.nodes), f"{said.nodes} nodes stated, GPUs per node not: {GPUS_PER_NODE_ASSUMED} assumed (one MI300X node)")
        return
    nodes, per = split_nodes(n)
    how = "one node" if nodes == 1 else f"{nodes} nodes x {per} GPUs"
    stated = src is not None and src.explicit
    note = f"{n} GPU{'s' if n != 1 else ''} {'stated' if stated else 'assumed'}, nodes not stated: {how} assumed (the fewest 8-GPU MI300X nodes that hold them)"
    r.default("nodes", nodes, note)
    r.default("gpus_per_node", per, note)


def _from_launcher(r: Reader, launched: Any) -> None:
    """World size, nodes and GPUs per node (and the strategy an accelerate config gives) from the
    repository's launch line that names this config."""
    where = launched.where()
    assumed = f"; assumed: {'; '.join(launched.assumed)}" if launched.assumed else ""
    what = f"{launched.nodes} node{'s' if launched.nodes != 1 else ''} x {launched.per_node} GPU{'s' if launched.per_node != 1 else ''}"
    if counts := getattr(launched, "node_counts", []):  # one job's node lines with different counts (formats/launch_job.py)
        what = f"{launched.nodes} nodes of {' + '.join(str(n) for n in counts)} GPUs"
    ambiguous = list(getattr(launched, "ambiguous", []))
    others = _ambiguous_phrase(ambiguous) if ambiguous else _others_phrase(launched)
    note = f"{where}: `{launched.command}` ({what}){assumed}{others}"
    key = f"{'accelerate config' if getattr(launched, 'beside', False) else 'launcher'}: {launched.command}"
    r.values["world_size"] = launched.world
    # a commented-out line (launch_forms.commented_launch) is a hint: its count is used, said as assumed
    # so is a node count the file never sets (`NNODES=$WORLD_SIZE`): the world size is then not stated either
    said = (
        not getattr(launched, "commented", False)
        and not getattr(launched, "nodes_unset", "")
        and not getattr(launched, "beside", False)
        and not getattr(launched, "family", "")
        and not ambiguous
    )
    r.sources["world_size"] = FieldSource(file=launched.file, key=key, line=launched.line, explicit=said, note=note)
    r.values["nodes"] = launched.nodes
    nodes_at = getattr(launched, "nodes_at", None) or (launched.file, launched.line)  # a caller's value (launch_caller)
    r.sources["nodes"] = FieldSource(file=nodes_at[0], key=key, line=nodes_at[1], explicit=launched.nodes_said and not ambiguous, note=note)
    r.values["gpus_per_node"] = launched.per_node
    r.sources["gpus_per_node"] = FieldSource(file=launched.file, key=key, line=launched.line, explicit=launched.per_node_said and not ambiguous, note=note)
    r.notes.append(f"topology from the repository: {note}")
    r.notes.extend(launched.notes)
    recipe = getattr(launched, "recipe", "")
    src = r.sources.get("strategy")
    if "single_device" in recipe and r.values.get("strategy") == "fsdp" and src is not None and not src.explicit:
        # the line runs a single-device recipe (review3 cs229-project train.sh:9 `tune run --nproc_per_node 1
        # cs229/full_finetune_single_device`), whatever recipe the config's template comment names
        r.values["strategy"] = "single"
        r.sources["strategy"] = FieldSource(file=launched.file, key=key, line=launched.line, explicit=True, note=f"{where} runs the recipe {recipe}")
    _strategy_from_launcher(r, launched)


TOPOLOGY_AMBIGUOUS = "topology ambiguous"
AMBIGUOUS_SHOWN = 6  # launch scripts of another topology named in the note


def _ambiguous_phrase(ambiguous: list[str]) -> str:
    """The clause a Python entry point's launch note ends with where launch scripts run it with different topologies
    (`launchers._count_others`, `Launch.ambiguous`): each other script's topology, and that the one read is assumed."""
    shown = "; ".join(ambiguous[:AMBIGUOUS_SHOWN]) + (f"; {len(ambiguous) - AMBIGUOUS_SHOWN} more" if len(ambiguous) > AMBIGUOUS_SHOWN else "")
    return (
        f"; {TOPOLOGY_AMBIGUOUS}: other launch lines that may run it have another topology ({shown}) and nothing ties "
        "this file to one of them: the one read, the first found, is assumed"
    )


def topology_ambiguous(w: WorkloadConfig) -> str | None:
    """The launch scripts' different topologies a Python entry point's topology was assumed among (`_ambiguous_phrase`),
    or None (a stated goblin_world_size replaces the source: `with_world_size`)."""
    src = w.sources.get("world_size")
    if src is None or src.explicit or not src.note or f"; {TOPOLOGY_AMBIGUOUS}: " not in src.note:
        return None
    head, tail = src.note.split(f"; {TOPOLOGY_AMBIGUOUS}: ", 1)
    return f"{head.split(': `', 1)[0]} runs it on {topology_phrase(w)}, but {tail.split(' and nothing ties', 1)[0]}"


def _others_phrase(launched: Any) -> str:
    """The clause a launch's source note ends with where other launch lines name the config ("; 13 other launch lines
    name this config, 9 with another topology (a.slurm line 18: 1 x 4; ...)"): the launch goblin read is the first
    found (closest folder first); the others are said, bounded, never read for the run."""
    n = getattr(launched, "others", 0)
    if not n:
        return ""
    shown = list(getattr(launched, "other_topologies", []))
    differ = len(shown) + getattr(launched, "other_differ", 0)
    lines = "line" if n == 1 else "lines"
    more = f", {differ - len(shown)} more" if differ > len(shown) else ""
    said = f", {differ} with another topology ({'; '.join(shown)}{more})" if differ else ", all with this topology"
    chosen = "the first launch script found, over the README example" if getattr(launched, "over_readme", "") else "the first found (closest folder first)"
    return f"; {n} other launch {lines} {'names' if n == 1 else 'name'} this config{said}: this one, {chosen}, is read"


def _strategy_from_launcher(r: Reader, launched: Any) -> None:
    """The strategy, ZeRO stage and host offload the launcher's accelerate config (or flags) set, where
    the config itself names none (its own `deepspeed:` / `fsdp:` keys win)."""
    from .base import OFFLOAD_AT

    st = launched.strategy
    if not st or r.values.get("strategy", "single") != "single":
        return
    file = st.get("config_path") or launched.file
    origin = f"accelerate config {st['from']}" if st.get("from") else f"{launched.where()} flags"
    if st.get("by_name"):  # an accelerate config the repository does not hold: what its name says
        origin = f"accelerate config {st['by_name']} (not in the repository; read from its file name)"
    key = f"{origin}: distributed_type" if st.get("from") else f"launcher: {launched.command}"
    line = st.get("line") if st.get("from") else launched.line
    passed = f"passed by {launched.where()}"
    if getattr(launched, "beside", False):  # launchers.beside_accelerate: no launcher passes it
        origin, passed = f"accelerate config {st['from']}", "beside the config; no launcher passes it, assumed it is the one used"
    if family := getattr(launched, "family", ""):  # launch_family.family_launch: the line launches another config
        passed += f" with {family}, a config of the same recipe family; assumed it is the one this config runs with"
    r.values["strategy"] = st["strategy"]
    stated = not st.get("by_name") and not getattr(launched, "beside", False) and not family and not getattr(launched, "ambiguous", [])
    r.sources["strategy"] = FieldSource(file=file, key=key, line=line, explicit=stated, note=f"{origin}, {passed}")
    if "zero_stage" in st:
        r.values["zero_stage"] = st["zero_stage"]
        r.sources["zero_stage"] = FieldSource(file=file, key=f"{origin}: zero_stage", line=line, explicit=stated, note=f"{origin}, {passed}")
    if st.get("sharding"):
        r.values["sharding"] = st["sharding"]
        r.sources["sharding"] = FieldSource(file=file, key=f"{origin}: {st.get('sharding_key')}", line=line, explicit=stated, note=f"{origin}, {passed}")
        if st.get("shard_group"):
            r.values["shard_group"] = st["shard_group"]
            r.sources["shard_group"] = r.sources["sharding"]
    ds_file = st.get("deepspeed_config_file")
    # the accelerate config names the file, or the launch line's own `--deepspeed_config_file` (looked up from the
    # launcher's folder up to the repository root, where the launch runs)
    base = st.get("config_path") if not st.get("deepspeed_config_flag") else launched.file
    if ds_file and base:
        from pathlib import Path

        from .deepspeed import absent_path, read

        found, said = read(Path(base), ds_file)
        missing = bool(st.get("deepspeed_config_flag") and not found.get("path") and absent_path(Path(base), ds_file))
        if missing:
            # review10b #34: say the file is missing where the launch names it, and the stage the projection then takes
            stage = found.get("zero_stage")
            how = "from its file name" if stage is not None else "accelerate's default when no file names one (utils/dataclasses.py:1079-1080@v1.0.0)"
            if stage is None:
                found["zero_stage"] = stage = 2
            said = (
                f"DeepSpeed file {ds_file} named at {launched.where()} (`--deepspeed_config_file`) is not in the repository; ZeRO stage assumed {stage} ({how})"
            )
            origin = f"{launched.where()} flags"
        r.notes.append(said if missing else f"{said} (named by {origin})")
        if found.get("path"):
            from .base import DEEPSPEED_FILE

            r.sources[DEEPSPEED_FILE] = FieldSource(
                file=found["path"], key=f"{origin}: deepspeed_config_file", line=line, explicit=True, note=f"named by {origin}"
            )
        record_deepspeed_own(r.sources, r.notes, found, f"{origin}: deepspeed_config_file", r.values)
        if "zero_stage" in found:
            r.values["zero_stage"] = found["zero_stage"]
            r.sources["zero_stage"] = FieldSource(file=file, key=f"{origin}: deepspeed_config_file", line=line, explicit=not missing, note=said)
        if "sharding" in found:
            r.values["sharding"], r.values["shard_group"] = found["sharding"], found["shard_group"]
            r.sources["sharding"] = FieldSource(
                file=file,
                key=f"{origin}: deepspeed_config_file",
                line=line,
                explicit=True,
                note=f"`{found['sharding_key']}: {found['shard_group']}` in {ds_file}",
            )
            r.sources["shard_group"] = r.sources["sharding"]
        if found.get("cpu_offload") and found.get("content"):
            st = {**st, "cpu_offload": True, "offload_params": found.get("offload_params", False), "offload_at": found.get("offload_at", [])}
    if st["strategy"] == "deepspeed" and r.values.get("zero_stage") is None and not ds_file:
        # Neither the flags, the accelerate config's deepspeed_config nor a DeepSpeed file names the stage:
        # accelerate's DeepSpeedPlugin takes ACCELERATE_DEEPSPEED_ZERO_STAGE, which `accelerate launch` sets only
        # from --zero_stage / deepspeed_config.zero_stage, else 2 (accelerate v1.0.0 utils/dataclasses.py:1079-1080,
        # utils/launch.py:419-420, commands/launch.py:417-422 "If unspecified, will default to `2`"; v1.14.0
        # utils/dataclasses.py:1235-1236). review2 #29: "unknown: assumed 3" where accelerate runs ZeRO-2.
        r.values["zero_stage"] = 2
        r.sources["zero_stage"] = FieldSource(
            file=file,
            key=f"{origin}: zero_stage",
            line=line,
            explicit=False,
            note=f"{origin} names no zero_stage: accelerate's default, 2 (DeepSpeedPlugin, accelerate utils/dataclasses.py:1079-1080@v1.0.0)",
        )
    if st.get("cpu_offload") and not r.values.get("cpu_offload"):
        r.values["cpu_offload"] = True
        r.sources["cpu_offload"] = FieldSource(file=file, key=f"{origin}: offload", line=line, explicit=stated, note=f"host offload set in {origin}")
        if st.get("offload_params"):
            r.values["offload_params"] = True
            r.sources["offload_params"] = r.sources["cpu_offload"]
        for i, (path, dotted, at) in enumerate(st.get("offload_at") or []):
            r.sources[f"{OFFLOAD_AT}.{i}"] = FieldSource(
                file=str(path or file), key=dotted, line=at, explicit=stated, note=f"host offload switched on in {origin}, {passed}"
            )


# Marks a strategy source whose DDP is a guess: the launch names an accelerate config goblin could not read
STRATEGY_UNREAD = "DDP assumed, not read"


def _ddp_if_launched(r: Reader, unread: str | None = None) -> None:
    """Several processes and no sharding named: a launcher (torchrun, accelerate) runs DDP. When the launch
    names an accelerate config goblin cannot read (`unread`, else a README launch line found by
    `launchers.readme_launch`), DDP is a guess and the source says so (`strategy_unread`)."""
    n = r.values.get("world_size", 1)
    if n > 1 and r.values.get("strategy", "single") == "single":
        if unread is None:
            from .base import CODE_STRATEGY_KEYS

            unread = next((r.code_unread[k] for k in CODE_STRATEGY_KEYS if k in r.code_unread), None) or r.strategy_unread or None
        if unread is None:
            from .launch_line import config_kind
            from .launchers import readme_launch

            found = readme_launch(r.path, config_kind(r.text or ""))
            unread = found[0] if found else ""
            if found and found[2] is not None:  # the missing file's name states the strategy: read from it, said so
                named, where = found[2], found[1]
                how = f"from the file name {named['ref']!r} of the accelerate config {where} passes (the file is not in the repository)"
                r.default("strategy", named["strategy"], how)
                r.notes.append(f"strategy: {named['strategy']} {how}")
                if "zero_stage" in named and "zero_stage" not in r.values:
                    r.default("zero_stage", named["zero_stage"], f"ZeRO stage {named['zero_stage']} read from the file name, {how}")
                return
        if unread:
            r.default("strategy", "ddp", f"{n} processes and no FSDP/ZeRO setting read: {unread}; {STRATEGY_UNREAD}")
            r.notes.append(f"strategy: {unread}; goblin assumed DDP")
            return
        r.default("strategy", "ddp", f"{n} processes and no FSDP/ZeRO setting: one process per GPU with DistributedDataParallel")


# the note of a parallel degree goblin could not read (formats.torchtune._parallel_unread)
PARALLEL_UNREAD = "parallelism unread"


def parallelism_unread(w: WorkloadConfig) -> str | None:
    """Why the tensor-parallel degree is a guess (the config sets one that the recipe that runs may or may not apply), or
    None. The projection then prices data parallelism over every GPU, which no PASS may rest on."""
    src = w.sources.get("tensor_parallel")
    if src is None or not src.unread or not src.note or not src.note.startswith(PARALLEL_UNREAD):
        return None
    return src.note.removeprefix(PARALLEL_UNREAD + ": ")


def strategy_unread(w: WorkloadConfig) -> str | None:
    """Why the strategy is a guess (the launch names an accelerate config goblin could not read), or None."""
    src = w.sources.get("strategy")
    if w.strategy != "ddp" or src is None or src.explicit or not src.note or STRATEGY_UNREAD not in src.note:
        return None
    return src.note.split(": ", 1)[-1].rsplit(";", 1)[0]


def with_world_size(w: WorkloadConfig, n: int | None, origin: str = "goblin_world_size") -> WorkloadConfig:
    """The workload on `n` GPUs as the user stated it (goblin_world_size / --goblin-world-size); unchanged for None.

    A stated count replaces what was read or assumed; several GPUs without FSDP/ZeRO are DDP. Nodes
    follow: the GPUs per node read before when they divide `n`, else `split_nodes` (assumed).
    """
    if n is None or (n == w.world_size and (src := w.sources.get("world_size")) is not None and src.explicit):
        return w
    sources = dict(w.sources)
    sources["world_size"] = FieldSource(file=w.path, explicit=True, note=f"stated by {origin}={n}")
    update: dict[str, Any] = {"world_size": n, "sources": sources}
    per_src = w.sources.get("gpus_per_node")
    if w.gpus_per_node and per_src is not None and per_src.explicit and n % w.gpus_per_node == 0 and n >= w.gpus_per_node:
        update["nodes"], update["gpus_per_node"] = n // w.gpus_per_node, w.gpus_per_node
        note = f"{origin}={n} over the {w.gpus_per_node} GPUs per node read before"
        sources["nodes"] = FieldSource(file=w.path, explicit=True, note=note)
    else:
        update["nodes"], update["gpus_per_node"] = split_nodes(n)
        note = f"{origin}={n}, nodes not stated: {update['nodes']} node{'s' if update['nodes'] != 1 else ''} x {update['gpus_per_node']} GPUs assumed (the fewest 8-GPU MI300X nodes that hold them)"
        sources["nodes"] = FieldSource(file=w.path, explicit=False, note=note)
        sources["gpus_per_node"] = FieldSource(file=w.path, explicit=False, note=note)
    if n > 1 and w.strategy == "single":
        update["strategy"] = "ddp"
        sources["strategy"] = FieldSource(file=w.path, explicit=False, note=f"{n} GPUs ({origin}) and no FSDP/ZeRO setting: DDP")
    elif n == 1 and w.strategy == "ddp":
        update["strategy"] = "single"
    return w.model_copy(update=update)


def topology_phrase(w: WorkloadConfig) -> str:
    """'2 nodes x 8 GPUs' (more than one node) or '8 GPUs' (one node, or nodes not known); '5 GPUs on 2 nodes (at most
    3 on one)' where the nodes run different counts (formats/launch_job.py: the world is their sum)."""
    n = w.world_size
    gpus = f"{n} GPU{'s' if n != 1 else ''}"
    if w.nodes and w.nodes > 1 and w.gpus_per_node and n != w.nodes * w.gpus_per_node and n < w.nodes * w.gpus_per_node:
        return f"{gpus} on {w.nodes} nodes (at most {w.gpus_per_node} on one)"
    if w.nodes and w.nodes > 1 and w.gpus_per_node:
        return f"{w.nodes} nodes x {w.gpus_per_node} GPU{'s' if w.gpus_per_node != 1 else ''}"
    return gpus


def world_size_note(w: WorkloadConfig) -> str:
    """'on 8 GPUs (assumed; ...)', 'on 2 GPUs (line 3)' or 'on 2 nodes x 8 GPUs (scripts/train.sh line 12)',
    for findings that depend on the topology; a node count that was assumed says so."""
    src = w.sources.get("world_size")
    shown = topology_phrase(w)
    from .launch_line import NODES_UNSET

    if src is not None and not src.explicit and (src.key or "").startswith("launcher:") and NODES_UNSET in (src.note or ""):
        per = w.gpus_per_node or 1
        return f"on {per} GPU{'s' if per != 1 else ''} per node x an unknown node count (its launcher's node count {NODES_UNSET}, {source_place(src, w)}; 1 node assumed; set goblin_world_size to state it)"
    if src is not None and not src.explicit and (src.key or "").startswith("launcher:") and TOPOLOGY_AMBIGUOUS in (src.note or ""):
        # launch lines of different topologies, none tied to this file (Launch.ambiguous): not a commented-out line
        return f"on {shown} (assumed, the first of launch lines of different topologies, {source_place(src, w)}; set goblin_world_size to state it)"
    if src is not None and not src.explicit and (src.key or "").startswith("launcher:"):  # a commented-out launch line
        return f"on {shown} (assumed from a commented-out line, {source_place(src, w)}; set goblin_world_size to state it)"
    if src is not None and not src.explicit and (src.key or "").startswith("accelerate config:"):  # launchers.beside_accelerate
        return f"on {shown} (assumed from {source_place(src, w)}, an accelerate config that no launcher passes; set goblin_world_size to state it)"
    if src is None or not src.explicit:
        return f"on {shown} (assumed; set goblin_world_size to state it)"
    place = source_place(src, w)
    per_src = w.sources.get("gpus_per_node")
    if per_src is not None and not per_src.explicit and (per_src.key or "").startswith("launcher:"):
        # a launch line that states no GPUs per node (every visible GPU): the count is goblin's, never the file's (review8a #1)
        per = w.gpus_per_node or 1
        said = f"{w.nodes} nodes from {place}" if (w.nodes or 1) > 1 else f"{place} states no GPU count"
        return f"on {shown} (assumed: {per} GPU{'s' if per != 1 else ''} per node, every visible GPU; {said}; set goblin_world_size to state it)"
    nodes_src = w.sources.get("nodes")
    if w.nodes and w.nodes > 1 and nodes_src is not None and not nodes_src.explicit:
        return f"on {w.world_size} GPUs ({place}; {w.nodes} nodes x {w.gpus_per_node} assumed)"
    return f"on {shown} ({place})"


def complete_topology(w: WorkloadConfig) -> WorkloadConfig:
    """Nodes and GPUs per node for a workload whose adapter read only a world size (the goblin format,
    third-party adapters): split as `split_nodes` does, and said to be assumed."""
    if w.nodes is not None and w.gpus_per_node is not None:
        return w
    sources = dict(w.sources)
    if w.nodes is not None:
        per = max(1, -(-w.world_size // w.nodes))
        sources["gpus_per_node"] = FieldSource(file=w.path, explicit=False, note=f"{w.nodes} nodes stated, GPUs per node not: {per} assumed")
        return w.model_copy(update={"gpus_per_node": per, "sources": sources})
    nodes, per = split_nodes(w.world_size)
    if w.gpus_per_node is not None:
        nodes, per = max(1, -(-w.world_size // w.gpus_per_node)), w.gpus_per_node
    note = f"nodes not stated: {nodes} node{'s' if nodes != 1 else ''} x {per} GPUs assumed (the fewest 8-GPU MI300X nodes that hold them)"
    sources["nodes"] = FieldSource(file=w.path, explicit=False, note=note)
    if w.gpus_per_node is None:
        sources["gpus_per_node"] = FieldSource(file=w.path, explicit=False, note=note)
    return w.model_copy(update={"nodes": nodes, "gpus_per_node": per, "sources": sources})


def loaded_with_world_size(loaded: Any, n: int | None) -> Any:
    """A LoadedConfig (formats.LoadedConfig) whose workload runs on `n` GPUs; the cached original is not mutated."""
    import dataclasses

    if n is None:
        return loaded
    return dataclasses.replace(loaded, workload=with_world_size(loaded.workload, n))
