"""The workload a Python script's record gives (`ScriptReader`: its values, each sourced at its literal or the
launch line that passes it), and what the record leaves assumed or unread: a model `device_map` split over
the GPUs of one process, the weights' dtype, fields the script computes at run time, the trainer class it
builds."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from ..frameworks import tables
from ..schemas import FieldSource, ModelShape, WorkloadConfig
from ..yamlio import get_path
from .base import Reader, as_bool
from .hfstyle import read_preference, trl_kl_off
from .launcher_text import ASSUMED_ARGUMENT
from .pyscript import Script


class ScriptReader(Reader):
    def __init__(self, path: str, script: Script):
        super().__init__(path, script.values)
        self.script = script

    def explicit(self, field: str, value: Any, key: str, line: int | None) -> Any:
        """A value the launcher passes is recorded in the launcher's file, at the line of its flag."""
        out = super().explicit(field, value, key, line)
        loc = self.script.where.get(key.partition(".")[0])
        if loc is not None and loc.file is not None:
            self.sources[field] = FieldSource(file=loc.file, key=key, line=loc.line, explicit=ASSUMED_ARGUMENT not in (loc.fixed or ""), note=loc.fixed)
        return out

    def raw(self, *keys: str) -> tuple[str | None, Any, int | None]:
        for key in keys:
            value = self.script.values.get(key)
            if value is None and "." in key:  # model_init_kwargs.dtype: a key of a literal dict argument
                head, _, rest = key.partition(".")
                value = get_path(self.script.values.get(head), rest)[1]
                key_loc = self.script.where.get(head)
                if value is not None:
                    return key, value, key_loc.line if key_loc else None
            if value is not None:
                loc = self.script.where.get(key)
                return key, value, loc.line if loc else None
        return None, None, None


# How one process runs a model loaded with device_map="auto" on several visible GPUs: transformers sizes each
# GPU's share as the model's size over the visible GPUs and places whole layers in order
# (5.25.0 src/transformers/integrations/accelerate.py:300 `per_gpu = module_sizes[""] // num_devices`, :353-372
# get_balanced_memory then infer_auto_device_map; accelerate 1.16.0 src/accelerate/utils/modeling.py:986, :1278;
# dispatch_model, big_modeling.py:311, moves the activations from one GPU to the next), and the Trainer then runs
# that one model on one process (5.25.0 src/transformers/trainer.py:459-465 is_model_parallel when hf_device_map
# spans several GPUs, :506-508 n_gpu forced to 1: no DataParallel).
DEVICE_MAP_AT = (
    "transformers 5.25.0 src/transformers/integrations/accelerate.py:300, 353-372 (device_map='auto': the model's size over the "
    "visible GPUs, whole layers in order); trainer.py:459-465, 506-508 (a model on several GPUs: one process, n_gpu 1)"
)


def naive_split_gpus(w: WorkloadConfig) -> int | None:
    """The GPUs one process splits its model over (`naive_split`), None where it does not or the count is unknown."""
    src = w.sources.get("visible_gpus")
    if src is None or "device_map" not in w.sources or w.world_size != 1:
        return None
    m = re.search(r"=(\d+(?:,\d+)*)$", src.key or "")
    return len(m.group(1).split(",")) if m else None


# torch 2.13.0 torch/cuda/__init__.py:860-888 (_parse_visible_devices on ROCm: ROCR_VISIBLE_DEVICES, then HIP_VISIBLE_DEVICES,
# CUDA_VISIBLE_DEVICES only when neither is set): the first set of these is the one the process sees
VISIBLE_ORDER = ("ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES")
_DEVICE_LIST = re.compile(r"\d{1,3}(?:,\d{1,3}){0,63}")


def script_visible(script: Script) -> tuple[str, int, int] | None:
    """The GPUs the script itself makes visible (`os.environ["HIP_VISIBLE_DEVICES"] = "0"`, set for certain: `Script.env_at`,
    over anything its launcher exports, review14a #10 BrandLLM finetune_mi300x.py:22): (assignment, count, line); None."""
    for name in VISIBLE_ORDER:
        value, at = script.env.get(name), script.env_at.get(name)
        if at is None or at[1] != "set" or value is None:
            continue
        if _DEVICE_LIST.fullmatch(value.strip()):
            return f"{name}={value.strip()}", value.count(",") + 1, at[0]
        return None  # set to something else (a variable, ""): the count is not known
    return None


def one_process_gpus(r: ScriptReader, script: Script, path: Path) -> None:
    """`python train.py` (one process, no launcher) where the launch line or the script itself makes several GPUs visible
    by an explicit list (blind review 14b #22 SchemaReinforcementLearning scripts/train_sft.sh:1,3): the source
    `one_process_gpus` (key: the assignment) that `rules.facts` reads as `derived.one_process_visible_gpus`. Nothing
    where the count is not stated (never an assumed node), nor where the model's load spreads over them (`naive_split`)."""
    if script.device_map is not None or r.values.get("world_size", 1) != 1:
        return
    from .launchers import find_launch

    launched = find_launch(path)
    if launched is None or not launched.interpreter:
        return
    own = script_visible(script)
    if own is not None:
        text, n, file, line = own[0], own[1], str(path), own[2]
    elif launched.visible and _DEVICE_LIST.fullmatch(launched.visible.partition("=")[2]):
        text, n, file, line = launched.visible, launched.visible.count(",") + 1, launched.file, launched.line
        name = launched.visible.partition("=")[0]
        line = next((at for var, _, f, at, _ in launched.env if var == name and f == launched.file), line)  # the `export` line
    else:
        return
    if n < 2:
        return
    word = next((t for t in launched.command.split() if "=" not in t), "python")
    note = f"{launched.where()} runs it with `{word}`: one process, no torchrun, accelerate or deepspeed"
    r.sources["one_process_gpus"] = FieldSource(file=file, key=text, line=line, explicit=True, note=note)


def naive_split(r: ScriptReader, script: Script, path: Path) -> None:
    """One process (`python train.py`) whose model load spreads the layers over every visible GPU: naive model
    parallelism (review4 #23/#25 MedicalGPT: `CUDA_VISIBLE_DEVICES=0,1 python3 training/dpo_training.py`, device_map
    "auto" at dpo_training.py:68-70). World size stays 1: the layers run one GPU at a time. Said in the sources
    (`device_map`, `visible_gpus`) and a note; the cost model keeps one GPU's throughput and the process's whole memory."""
    if script.device_map is None or r.values.get("world_size", 1) != 1:
        return
    from .launchers import find_launch

    launched = find_launch(path)
    value, loc = script.device_map
    shown = f'"{value}"' if isinstance(value, str) else "a dict over several GPUs"
    where = f"{Path(loc.file).name if loc.file else path.name} line {loc.line}"
    own = script_visible(script)
    if own is not None and own[1] < 2:  # the script shows itself one GPU: nothing to split over (review14a #10)
        r.notes.append(
            f"device_map={shown} ({where}) keeps the model on one GPU: the script sets {own[0]} itself (line {own[2]}), "
            "so the process sees one GPU whatever its launcher exports"
        )
        return
    ws = r.sources.get("world_size")
    if launched is None and (ws is None or not ws.explicit):
        # review13b #24: amd/playbooks train_lora.py:129-133, run by a README Python block's `subprocess.run([sys.executable,
        # "train_lora.py"])`, which goblin does not read as a launch line: the split is said as the one-process case
        r.notes.append(
            f"one process may split the model over every visible GPU: device_map={shown} ({where}) and no launch line goblin reads "
            f"(world size assumed 1): run as one process (`python {path.name}`) on a machine with more than one GPU, the layers run "
            f"one GPU at a time (naive model parallelism); read as world size 1 at one GPU's throughput ({DEVICE_MAP_AT})"
        )
        return
    if launched is None or not launched.interpreter:
        return
    word = next((t for t in launched.command.split() if "=" not in t), "python")
    run = f"{launched.where()} runs it with `{word}`, no torchrun, accelerate or deepspeed"
    r.sources["device_map"] = FieldSource(file=loc.file or str(path), key=f"device_map={shown}", line=loc.line, explicit=True, note=DEVICE_MAP_AT)
    visible = own[0] if own is not None else launched.visible
    if visible:
        n = int(visible.count(",")) + 1
        if n < 2:
            return
        at = (str(path), own[2]) if own is not None else (launched.file, launched.line)
        r.sources["visible_gpus"] = FieldSource(file=at[0], key=visible, line=at[1], explicit=True, note=run)
        r.notes.append(
            f"one process splits the model over {n} GPUs: device_map={shown} ({where}) places whole layers on the {n} GPUs "
            f"{visible} makes visible and {run}; naive model parallelism: the layers run one GPU at a time, each GPU idle "
            f"about {n - 1}/{n} of the step; read as world size 1 at one GPU's throughput, the memory shown is the whole process's, "
            f"which the split spreads at about 1/{n} per GPU ({DEVICE_MAP_AT})"
        )
        return
    r.notes.append(
        f"one process may split the model over every visible GPU: device_map={shown} ({where}) and {run}, with no "
        f"CUDA_VISIBLE_DEVICES on the line: on a machine with more than one GPU the layers run one GPU at a time (naive model "
        f"parallelism); read as world size 1 at one GPU's throughput ({DEVICE_MAP_AT})"
    )


def weights_assumed(r: ScriptReader, script: Script) -> None:
    """TRL's ModelConfig.dtype default (semantics.trl_precision) holds only where the script parses ModelConfig;
    a script that loads the model itself with a dtype goblin did not read gets fp32 as a stated assumption,
    naming the call (review4 #23: MedicalGPT's own ScriptArguments.torch_dtype)."""
    src = r.sources.get("weight_dtype")
    if src is None or src.explicit or not (src.note or "").startswith("TRL ModelConfig.dtype default") or "ModelConfig" in script.parser_classes:
        return
    call = script.model_call
    if call is None:
        # TRL's trainer loads a model id itself in float32 unless model_init_kwargs says otherwise (trl 1.16.0
        # trl/trainer/sft_trainer.py:544-547): TRL's default stands
        return
    kw = next((k.value for k in call.keywords if k.arg in ("torch_dtype", "dtype")), None)
    if kw is None:
        why = f"from_pretrained(...) at line {call.lineno} passes no dtype"
    else:
        shown = ast.unparse(kw)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        why = f"from_pretrained(..., dtype={shown}) at line {call.lineno} gives no dtype goblin can read (none passed, 'auto' or computed)"
    # torch.get_default_dtype() is torch.float32 (torch 2.13.0, introspected); transformers 5.x reads a missing
    # dtype as "auto", the checkpoint's own (transformers 5.25.0 modeling_utils.py:4236-4237); before v5 it did not
    # (trl 1.16.0 trl/trainer/sft_trainer.py:544-547: "since Transformers v5 the dtype is inferred from the model config")
    note = (
        f"{why}: weights assumed fp32 (torch's default dtype, as transformers 4.x loads them;"
        " transformers 5.x loads the checkpoint's own dtype instead, modeling_utils.py:4236-4237@5.25.0)"
    )
    r.sources["weight_dtype"] = src.model_copy(update={"note": note})
    r.notes.append(note)


# What `from_pretrained` loads the weights in when given `torch_dtype="auto"` or, from transformers 5, no dtype at all
AUTO_DTYPE_AT = (
    "transformers 5.25.0 modeling_utils.py:4236-4237 (no dtype: 'auto'), :830-834 ('auto': the config's dtype);"
    " 4.57.6 modeling_utils.py:1240-1243 ('auto': the config's dtype), :1288-1290 (no dtype: torch's default, fp32)"
)


def checkpoint_weights(r: ScriptReader, script: Script, path: Path, model: ModelShape) -> None:
    """The weights' dtype of a script's `from_pretrained(..., torch_dtype="auto")` (or no dtype under transformers >= 5,
    whose default is "auto"): the checkpoint's own, read from its config.json where goblin read one (a local model
    folder, the HF cache: `ModelShape.checkpoint_dtype`). Unknown, it is not assumed fp32 (which would double the weights
    of a bf16 checkpoint): the field is unread with "checkpoint dtype unknown", so no rule reads it and
    rules.facts judges memory at the smaller of the two assumptions. A pin below transformers 5 with no dtype loads fp32."""
    call = script.model_call
    src = r.sources.get("weight_dtype")
    if call is None or script.built is not None or (src is not None and (src.explicit or src.unread)):
        return
    if src is not None and not (src.note or "").startswith(("TRL ModelConfig.dtype default", "from_pretrained(")):
        return
    kw = next((k.value for k in call.keywords if k.arg in ("torch_dtype", "dtype")), None)
    auto = isinstance(kw, ast.Constant) and kw.value == "auto"
    if kw is not None and not auto:
        return
    major: int | None = None
    if not auto:
        from ..frameworks.pins import pins

        pin = pins(str(path), r.text).get("transformers")
        if pin is not None and pin.version and pin.version.split(".")[0].isdigit():
            major = int(pin.version.split(".")[0])
        if major is not None and major < 5:
            return  # transformers 4.x loads fp32 when no dtype is passed (modeling_utils.py:1288-1290@4.57.6)
    said = f"from_pretrained(..., {ast.unparse(kw)[:20] if kw is not None else 'no dtype'}) at line {call.lineno}"
    how = (
        "loads the checkpoint's own dtype"
        if auto or major is not None
        else "loads fp32 under transformers 4.x and the checkpoint's own dtype under 5.x (the release is not pinned)"
    )
    dt = model.checkpoint_dtype
    if dt is not None and (auto or major is not None):
        note = f"{said} {how}: {dt}, as the model's config.json records it ({AUTO_DTYPE_AT})"
        r.values["weight_dtype"] = dt
        r.sources["weight_dtype"] = FieldSource(file=str(path), key=None, line=call.lineno, explicit=False, note=note)
        r.notes.append(note)
        return
    known = f" ({dt} in its config.json)" if dt is not None else ""
    note = (
        f"{said} {how}{known}: checkpoint dtype unknown; a memory finding is judged at the smaller of the fp32 and"
        f" bf16 weights' projections, never on fp32 alone ({AUTO_DTYPE_AT})"
    )
    r.values["weight_dtype"] = None
    r.sources["weight_dtype"] = FieldSource(file=str(path), key=None, line=call.lineno, explicit=False, unread=True, note=note)
    r.notes.append(note)


# The workload field each TrainingArguments-like keyword sets (formats/hfstyle.py reads them by these names)
_FIELD_OF_KEY = {
    "use_peft": "method",
    "bf16": "precision",
    "fp16": "precision",
    "per_device_train_batch_size": "micro_batch_size",
    "gradient_accumulation_steps": "gradient_accumulation",
    "gradient_checkpointing": "gradient_checkpointing",
    "optim": "optimizer",
    "torch_compile": "torch_compile",
    "dataloader_num_workers": "dataloader_workers",
    "dataloader_pin_memory": "pin_memory",
    "max_length": "seq_len",
    "max_seq_length": "seq_len",
    "packing": "sample_packing",
}


FROZEN_LLM_AT = "transformers 5.25.0 trainer.py:1274,1291,1297 (create_optimizer passes only `requires_grad` parameters)"


def frozen_llm(r: ScriptReader, script: Script, path: Path) -> None:
    """A language model the script freezes for certain (`Script.frozen_llm`): priced as a frozen base, its weights in
    the load dtype with no gradients or optimizer state; what stays trainable (a vision tower, a resampler, a projector)
    runs before it, so backward is assumed to flow through it for input gradients, and that part's own size is not
    priced. Said in a note with the line."""
    if script.frozen_llm is None or r.values.get("method", "full") != "full":
        return
    line, said = script.frozen_llm
    note = (
        f"{said}: priced as a frozen base (its weights in the load dtype, no gradients or optimizer state: {FROZEN_LLM_AT});"
        " assumed: the rest of the model (a vision tower, a resampler) trains before it, so backward flows through it for"
        " input gradients; the trained part's own size is not priced, so no memory rule spends the headroom"
    )
    r.values["frozen_language_model"] = True
    r.sources["frozen_language_model"] = FieldSource(file=str(path), key=None, line=line, explicit=True, note=note)
    r.notes.append(note)


def unread_fields(r: ScriptReader, script: Script, path: Path) -> None:
    """A field whose keyword the script computes at run time (databrickslabs/dolly training/trainer.py:245-246
    `fp16=fp16, bf16=bf16` from a click option its notebook launcher sets from a widget) keeps the default for the
    projection, said as assumed, and is unread: no rule judges it (a "train in bf16 instead of fp32" finding on an
    fp32 goblin only assumed would be wrong). A value read elsewhere (the launch line, a literal) stands."""
    keys: dict[str, list[str]] = {}
    for key, line in script.computed.items():
        if (name := _FIELD_OF_KEY.get(key)) is not None and key not in script.values:
            keys.setdefault(name, []).append(f"`{key}=` (line {line})")
    for key, why in script.code_unread.items():  # set in code where goblin cannot tell whether or to what: never judged
        name = _FIELD_OF_KEY.get(key)
        src = r.sources.get(name) if name is not None else None
        if name == "method" and src is None:  # the script's method is full unless code says otherwise: no source yet
            src = r.sources[name] = FieldSource(file=str(path), explicit=False)
        if name is None or src is None or src.unread:
            continue
        note = f"{path.name}: {why}: {name} {r.values.get(name, 'full' if name == 'method' else None)} is assumed for the projection, and no rule judges it"
        r.sources[name] = src.model_copy(update={"unread": True, "note": f"{note}; before it: {src.note}" if src.note else note})
        r.notes.append(note)
    for name, said in keys.items():
        src = r.sources.get(name)
        if src is None or src.explicit or src.unread:
            continue
        note = f"{' and '.join(said)} in {path.name} computed at run time: {name} {r.values.get(name)} is the default assumed, and no rule judges it"
        r.sources[name] = src.model_copy(update={"unread": True, "note": f"{note}; the default: {src.note}" if src.note else note})
        r.notes.append(note)


def trainer_class(r: ScriptReader, path: Path) -> None:
    """The trainer class the script builds sets the preference method its config class did not (a script
    passing TrainingArguments to DPOTrainer, or building a repository subclass of TRL's ORPOTrainer)."""
    src = r.sources.get("sequences_per_example")
    if src is not None and src.explicit:
        return  # the config class (DPOConfig, ...) already set it
    from .launched import script_trainer

    st = script_trainer(path)
    if st is None:
        return
    if st.preference is not None:
        kind, how = st.preference
        pk, pre, pline = r.raw("precompute_ref_log_probs")
        adapter = r.values.get("method") in ("lora", "qlora", "dora") and not st.ref_passed
        read_preference(
            r,
            kind,
            key=pk,
            line=pline if pk is not None else st.line,
            adapter_ref=adapter,
            ref_passed=st.ref_passed,
            precompute=pk is not None and as_bool(pre),
            how=f"{how}, line {st.line}" + ("; ref_model passed to it" if st.ref_passed else ""),
            kl_off=trl_kl_off(r, kind),
        )
        if not (r.framework or "").startswith("trl"):
            r.framework = f"trl {tables.table('trl')['version']} ({st.trainer} at line {st.line})"
    elif st.custom is not None:
        # a preference method goblin cannot price from the code: the label names it, so rules.unmodelled_trainer
        # leaves memory unjudged instead of pricing one sequence and no reference model (SFT)
        r.framework = f"{(r.framework or 'transformers')} ({st.custom})"
        r.notes.append(f"trainer class: {st.custom}; goblin does not know its sequences per example or reference model, so memory is not judged")
